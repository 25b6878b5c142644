//! `cmtrace-rs error CODE...` end to end: known codes exit 0 and are named, unknown ones are said to be unknown and
//! exit 1 (also when only one of several is unknown), NTSTATUS and HRESULT_FROM_NT forms decode, JSON says `known`.

use crate::common::cmtrace;

fn error(args: &[&str]) -> (String, i32) {
    let out = cmtrace().arg("error").args(args).output().unwrap();
    assert!(out.stderr.is_empty(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    (String::from_utf8(out.stdout).unwrap(), out.status.code().unwrap())
}

#[test]
fn known_codes_exit_0_with_their_names() {
    for (q, name) in [
        ("0x80070005", "ERROR_ACCESS_DENIED"),
        ("1603", "ERROR_INSTALL_FAILURE"),
        ("0x80190194", "BG_E_HTTP_ERROR_404"),
        ("0x80200010", "BG_E_NETWORK_DISCONNECTED"),
        ("0x8004100E", "WBEM_E_INVALID_NAMESPACE"),
        ("0x8024402C", "WU_E_PT_WINHTTP_NAME_NOT_RESOLVED"),
        ("0x87D00215", "CCM_E_NOT_FOUND"),
        ("-2145844844", "BG_E_HTTP_ERROR_404"),
        ("CERT_E_CN_NO_MATCH", "0x800B010F"),
        // From the headers, not hand-written.
        ("1219", "ERROR_SESSION_CREDENTIAL_CONFLICT"),
        ("0x800B0106", "CERT_E_PURPOSE"),
    ] {
        let (out, code) = error(&[q]);
        assert_eq!(code, 0, "{q}: {out}");
        assert!(out.contains(name), "{q}: {out}");
        assert!(!out.contains("unknown"), "{q}: {out}");
        assert!(out.contains("source: "), "{q}: {out}");
    }
}

#[test]
fn ntstatus_and_hresult_from_nt() {
    let (out, code) = error(&["0xC0000022"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("NTSTATUS 0xC0000022 STATUS_ACCESS_DENIED: "), "{out}");
    assert!(out.contains("ntstatus.h"), "{out}");
    let (out, code) = error(&["0xD0000022"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with("0xD0000022 (HRESULT_FROM_NT of NTSTATUS 0xC0000022) STATUS_ACCESS_DENIED"),
        "{out}"
    );
    // Signed decimal, as PowerShell prints an NTSTATUS.
    let (out, code) = error(&["-1073741790"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("STATUS_ACCESS_DENIED"), "{out}");
    let (out, code) = error(&["0xC0001234"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("unknown code") && out.contains("NTSTATUS of severity error"), "{out}");
}

#[test]
fn unknown_codes_exit_1_and_say_so() {
    for (q, says) in [
        ("0x80041234", "FACILITY_ITF"),
        ("0x87D00999", "ConfigMgr"),
        ("99999", "not an error code"),
        ("nonsense", "not an error code"),
    ] {
        let (out, code) = error(&[q]);
        assert_eq!(code, 1, "{q}: {out}");
        assert!(out.contains("unknown"), "{q}: {out}");
        assert!(out.contains(says), "{q}: {out}");
    }
    // An HRESULT's severity is said.
    let (out, _) = error(&["0x80041234"]);
    assert!(out.contains("severity failure"), "{out}");
}

#[test]
fn a_mixed_list_exits_1() {
    let (out, code) = error(&["0x80070005", "0x80041234", "12175"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("ERROR_ACCESS_DENIED") && out.contains("ERROR_WINHTTP_SECURE_FAILURE"), "{out}");
    assert!(out.contains("0x80041234: unknown code"), "{out}");
    let (_, code) = error(&["0x80070005", "12175", "0xC0000005"]);
    assert_eq!(code, 0);
}

#[test]
fn json_says_known() {
    let (out, code) = error(&["--format", "json", "0xC0000022", "0x80041234", "junk"]);
    assert_eq!(code, 1, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["query"], "0xC0000022");
    assert_eq!(v[0]["known"], true);
    assert_eq!(v[0]["matches"][0]["known"], true);
    assert_eq!(v[0]["matches"][0]["name"], "STATUS_ACCESS_DENIED");
    assert_eq!(v[0]["matches"][0]["space"], "ntstatus");
    assert_eq!(v[1]["known"], false);
    assert_eq!(v[1]["matches"][0]["known"], false);
    assert!(v[1]["matches"][0]["name"].is_null());
    assert!(v[1]["matches"][0]["description"].as_str().unwrap().contains("unknown code"));
    assert_eq!(v[2]["known"], false);
    assert!(v[2]["matches"].as_array().unwrap().is_empty());
}
