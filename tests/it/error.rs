//! `cmtrace-rs error CODE`: every form a support engineer types, as CMTrace's error lookup would answer.

use crate::common::cmtrace;

fn lookup(args: &[&str]) -> (String, i32) {
    let out = cmtrace().arg("error").args(args).output().unwrap();
    (String::from_utf8(out.stdout).unwrap(), out.status.code().unwrap())
}

#[test]
fn every_form_decodes() {
    for (q, want) in [
        ("0x80092013", "CRYPT_E_REVOCATION_OFFLINE"),
        ("80092013", "CRYPT_E_REVOCATION_OFFLINE"),
        ("-2146885613", "CRYPT_E_REVOCATION_OFFLINE"),
        ("12175", "ERROR_WINHTTP_SECURE_FAILURE"),
        ("0x80072f8f", "ERROR_WINHTTP_SECURE_FAILURE"),
        ("0x87d00231", "transient error"),
        ("0x800B0109", "CERT_E_UNTRUSTEDROOT"),
        ("CERT_E_UNTRUSTEDROOT", "0x800B0109"),
        ("CMGConnector_Clientcertificaterequired", "HTTP 403"),
        ("7", "reboot required"),
    ] {
        let (out, code) = lookup(&[q]);
        assert_eq!(code, 0, "{q}");
        assert!(out.to_lowercase().contains(&want.to_lowercase()), "{q}: {out}");
    }
}

#[test]
fn undocumented_wam_code_is_unknown_but_explained() {
    // 0xD0090016 is in no header (not a known NTSTATUS either): unknown, exit 1, with the uncertain low-bits hint.
    let (out, code) = lookup(&["0xd0090016"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("unknown code") && out.contains("NTE_BAD_KEYSET"), "{out}");
}

#[test]
fn json_and_unknown() {
    let (out, code) = lookup(&["--format", "json", "12175", "nonsense"]);
    assert_eq!(code, 1, "one code is unknown");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["matches"][0]["hresult"], "0x80072F8F");
    assert_eq!(v[0]["matches"][0]["name"], "ERROR_WINHTTP_SECURE_FAILURE");
    assert!(v[1]["matches"].as_array().unwrap().is_empty());
}

#[test]
fn rules_lists_every_contract_rule() {
    let out = cmtrace().args(["rules", "--format", "json"]).output().unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = v.as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    for (id, sev) in [
        ("root-ca-untrusted", "error"),
        ("crl-check-failed", "error"),
        ("wpj-cert-missing", "error"),
        ("aad-device-token-fallback", "warning"),
        ("aad-token-unavailable", "error"),
        ("tenant-not-onboarded", "error"),
        ("aad-token-rejected", "error"),
        ("ccm-token-failed", "error"),
        ("ccm-token-renewal-failed", "error"),
        ("registration-failed", "error"),
        ("registration-not-approved", "warning"),
        ("install-failed", "error"),
        ("pki-cert-preferred", "info"),
        ("tenant-mismatch", "warning"),
        ("clock-skew", "warning"),
        ("flow-incomplete", "warning"),
    ] {
        let r =
            v.as_array().unwrap().iter().find(|r| r["id"] == id).unwrap_or_else(|| panic!("{id} in {ids:?}"));
        assert_eq!(r["severity"], sev, "{id}");
        assert!(!r["remediation"].as_str().unwrap().is_empty());
    }
    let text = cmtrace().arg("rules").output().unwrap();
    assert!(String::from_utf8(text.stdout).unwrap().contains("Fix: Import the root CA"));
}

#[test]
fn completions_for_bash_and_zsh() {
    for shell in ["bash", "zsh"] {
        let out = cmtrace().args(["completions", shell]).output().unwrap();
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("analyze") && text.contains("--fail-on"), "{shell}");
    }
}
