//! The two sets of real ConfigMgr logs (copied byte for byte from the project's shared domain notes into
//! `fixtures/mixed/real/`, so the tests do not depend on anything outside the repository) analysed
//! with `analyze --format json`, checked against what a ConfigMgr engineer reads in them.
//!
//! Expectations are written from reading the logs, never from the tool's output:
//!
//! `ccmsetup.log` (jimbocalvo/Reddit, 2020, Windows Server 2012 R2, ccmsetup 5.0.8458.1007): 228 physical
//! lines, 195 records (`<![LOG[` counted by hand: multi-line records at 83-92, 105-118, 122-131 and 217-219),
//! UTF-8 with BOM, bias `+00`. Command line `ccmsetup.exe /mp:server.dmz SMSSITECODE=abc FSP=primary.lan`
//! (line 8): an intranet install against an HTTP management point, no CCMHOSTNAME, no CMG, no Azure AD.
//! The bootstrapper hands over to the service (`CcmSetup is exiting with return code 0`, line 66, is the
//! bootstrapper, not the install). The service finds the site (5.00.8692.1000) and a DP, but the DP
//! answers 401 to the PROPFIND and ccmsetup falls back to the MP (`Enumerated all 1 DP locations but none
//! of them is good. Fallback to MP.`, line 140), downloads and trusts ccmsetup.cab from the MP (141-143),
//! then queues the client files in a BITS job from `HTTP://server.dmz:80/CCM_Client/...` (209-216); the
//! BITS job fails with HTTP 404 (`Failed to download files through BITS. Error: 0x80190194, Description
//! HTTP status 404: The requested URL does not exist on the server.`, record 217-219; `Failed to download
//! client files by BITS. Error 0x80190194`, line 220), ccmsetup reports deployment error 0x80190194 to
//! the fallback status point (222-225) and ends with `CcmSetup failed with error code 0x80190194` (228).
//!
//! Other error lines, and why none of them deserves a warning of its own: `Failed to connect to policy
//! namespace` / `Failed to revoke client upgrade local policy` / `Failed to get client version` (0x8004100e,
//! WBEM_E_INVALID_NAMESPACE) are normal before a first install (the CCM WMI namespace does not exist yet);
//! `Unexpected row count (0) retrieved from AD` / `Failed to get site version from AD` are normal for a
//! DMZ server that is not in the domain (the site version then comes from the MP); `SetInitialCommandLine
//! failed with 0x80070002` is the bootstrapper's, harmless; the DP's 401 (138-139) is handled by ccmsetup
//! itself (fallback to the MP, line 140) and the install went on. None of these is a failure class of the
//! contract's rule table; at most they are context for the one finding, `install-failed`.
//!
//! `cm2012-client/` (configmgr/iOS-CMLogTracer, a university's ConfigMgr 2012 client, 2013, machine
//! AHS-OD-ABLAS, client 5.00.7804.1000, bias +300): the rotated `ClientIDManagerStartup-20131001-203439.log`
//! (1211 records, 09-17 .. 10-01) is an unassigned client retrying `RegTask: Failed to refresh site code.
//! Error: 0x80070032` (type 2) every few minutes; `ClientIDManagerStartup.log` (741 records on 922 lines)
//! continues that until 10-03 09:15:54, when the client is assigned to site CM2 (`RegEndPoint: Received
//! notification for site assignment change from '<none>' to 'CM2'.`, line 544), sends its registration
//! request (line 597, `Sending registration request for GUID:E3870B32-AED3-43EC-BF35-F4C55EEEEB4B`), is
//! told the registration is pending (598), sends a confirmation request a minute later (600) and is
//! registered with approval 1 (601, `Client is registered. Server assigned ClientID is GUID:E3870B32-...
//! Approval status 1`); afterwards every start says `[RegTask] - Client is already registered. Exiting.`
//! A 2012 client has no Azure AD and no CCM token steps at all; no ccmsetup.log and no MP logs are in the
//! folder. Its only type-3 lines there are `Failed to open to WMI namespace '\\.\root\ccmvdi' (8007045b)`
//! at shutdown (ERROR_SHUTDOWN_IN_PROGRESS): not a failure of the flow.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{cmtrace, evidence_is_real};

fn real() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mixed/real")
}

fn analyze(path: &Path, extra: &[&str]) -> (Value, i32) {
    let out = cmtrace()
        .arg("analyze")
        .arg(path)
        .args(["--format", "json"])
        .args(extra)
        .output()
        .expect("run cmtrace-rs");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{}: stdout is not one JSON document ({e}); stderr: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (doc, out.status.code().unwrap_or(-1))
}

fn check_evidence_real(doc: &Value, root: &Path, errors: &mut Vec<String>) {
    for f in doc["findings"].as_array().into_iter().flatten() {
        let evs = f["evidence"].as_array().cloned().unwrap_or_default();
        if evs.is_empty() || !evs.iter().any(|e| evidence_is_real(e, root)) {
            errors.push(format!(
                "finding {} ({}): no evidence item points at a line that holds its text: {}",
                f["rule"],
                f["device"],
                serde_json::to_string(&evs).unwrap_or_default()
            ));
        }
    }
}

fn phase(device: &Value, id: &str) -> String {
    device["phases"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["id"] == id)
        .and_then(|p| p["status"].as_str())
        .unwrap_or("<absent>")
        .to_string()
}

fn warn_or_above(doc: &Value) -> Vec<Value> {
    doc["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["severity"] == "error" || f["severity"] == "warning")
        .cloned()
        .collect()
}

fn summary(findings: &[Value]) -> Vec<String> {
    findings.iter().map(|f| format!("{} {} {}", f["severity"], f["rule"], f["device"])).collect()
}

fn finish(name: &str, errors: Vec<String>) {
    assert!(errors.is_empty(), "{name}: {} mismatch(es):\n  - {}", errors.len(), errors.join("\n  - "));
}

#[test]

fn real_ccmsetup_bits_404() {
    let file = real().join("ccmsetup.log");
    let (doc, status) = analyze(&file, &[]);
    let mut errors = Vec::new();

    if doc["schema_version"] != 2 {
        errors.push(format!("schema_version {} (want 2)", doc["schema_version"]));
    }
    // An error finding and the default --fail-on error: exit status 1.
    if status != 1 {
        errors.push(format!("exit status {status} (want 1)"));
    }

    let inputs = doc["inputs"].as_array().cloned().unwrap_or_default();
    if inputs.len() != 1 {
        errors.push(format!("{} inputs (want 1)", inputs.len()));
    }
    if let Some(input) = inputs.first() {
        if input["encoding"] != "utf-8" {
            errors
                .push(format!("encoding {} (want utf-8: the file starts with EF BB BF)", input["encoding"]));
        }
        // 228 physical lines, 195 records (the README's numbers, counted again by hand).
        if input["lines"] != 195 {
            errors.push(format!("lines {} (want 195 entries)", input["lines"]));
        }
        if input["unparsed_lines"] != 0 {
            errors.push(format!(
                "unparsed_lines {} (want 0: every line belongs to a record)",
                input["unparsed_lines"]
            ));
        }
        if !input["error"].is_null() {
            errors.push(format!("input error {}", input["error"]));
        }
        if input["log_kind"] != "ccmsetup" {
            errors.push(format!("log_kind {} (want ccmsetup)", input["log_kind"]));
        }
    }

    let devices = doc["devices"].as_array().cloned().unwrap_or_default();
    if devices.len() != 1 {
        errors.push(format!(
            "{} devices (want 1): {:?}",
            devices.len(),
            devices.iter().map(|d| d["key"].to_string()).collect::<Vec<_>>()
        ));
    }
    if let Some(d) = devices.first() {
        // `/mp:server.dmz` over HTTP, no CCMHOSTNAME: intranet.
        if d["path"] != "intranet" {
            errors.push(format!("device path {} (want intranet)", d["path"]));
        }
        for id in ["install.aad_info", "install.aad_token", "install.ccm_token"] {
            let s = phase(d, id);
            if s != "not_applicable" {
                errors
                    .push(format!("{id} is {s} (want not_applicable: an intranet install has no such step)"));
            }
        }
        let s = phase(d, "install.client");
        if s != "failed" {
            errors.push(format!(
                "install.client is {s} (want failed: `CcmSetup failed with error code 0x80190194`)"
            ));
        }
        // Registration was never reached, and its log (ClientIDManagerStartup, MP logs) is not among the
        // inputs: nothing can be said, and it is certainly not `missing` or `ok`.
        for id in [
            "registration.request",
            "registration.aad_token",
            "registration.mp",
            "registration.confirmed",
            "registration.ccm_token",
            "renewal.ccm_token",
        ] {
            let s = phase(d, id);
            if s != "not_collected" && s != "not_applicable" {
                errors.push(format!("{id} is {s} (want not_collected or not_applicable)"));
            }
        }
    }

    let loud = warn_or_above(&doc);
    // Only the install failure deserves a warning or an error (see the module comment for the rest).
    if loud.len() != 1 || loud[0]["rule"] != "install-failed" {
        errors.push(format!(
            "findings at warning or above: {:?} (want exactly install-failed)",
            summary(&loud)
        ));
    }
    match loud.iter().find(|f| f["rule"] == "install-failed") {
        None => errors.push("no install-failed finding".into()),
        Some(f) => {
            if f["severity"] != "error" {
                errors.push(format!("install-failed severity {} (want error)", f["severity"]));
            }
            let cited: Vec<u64> = f["evidence"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|e| e["path"].as_str().is_some_and(|p| p.ends_with("ccmsetup.log")))
                .filter_map(|e| e["line"].as_u64())
                .collect();
            for line in [217, 220] {
                if !cited.contains(&line) {
                    errors.push(format!(
                        "install-failed does not cite ccmsetup.log line {line} (cites {cited:?})"
                    ));
                }
            }
            let expl = f["explanation"].as_str().unwrap_or("").to_lowercase();
            if !(expl.contains("download") && (expl.contains("404") || expl.contains("0x80190194"))) {
                errors.push(format!("explanation does not name the 404 download: {:?}", f["explanation"]));
            }
            let remedy = f["remediation"].as_str().unwrap_or("");
            if remedy.contains("Fix the cause named above") || remedy.trim().is_empty() {
                errors.push(format!("remediation is generic: {remedy:?}"));
            }
        }
    }

    check_evidence_real(&doc, &real(), &mut errors);
    finish("ccmsetup.log", errors);
}

const CM2012_GUID: &str = "GUID:E3870B32-AED3-43EC-BF35-F4C55EEEEB4B";

#[test]

fn real_cm2012_client_is_healthy() {
    let dir = real().join("cm2012-client");
    let (doc, status) = analyze(&dir, &["--fail-on", "warning"]);
    let mut errors = Vec::new();

    if doc["schema_version"] != 2 {
        errors.push(format!("schema_version {} (want 2)", doc["schema_version"]));
    }
    // Nothing at warning or above: exit status 0 even with --fail-on warning.
    if status != 0 {
        errors.push(format!("exit status {status} with --fail-on warning (want 0)"));
    }
    let loud = warn_or_above(&doc);
    if !loud.is_empty() {
        errors.push(format!("findings at warning or above: {:?} (want none)", summary(&loud)));
    }

    let inputs = doc["inputs"].as_array().cloned().unwrap_or_default();
    if inputs.len() != 73 {
        errors.push(format!("{} inputs (want the folder's 73 files)", inputs.len()));
    }
    for i in &inputs {
        if !i["error"].is_null() {
            errors.push(format!("input {} has error {}", i["path"], i["error"]));
        }
    }
    let input = |suffix: &str| {
        inputs.iter().find(|i| {
            i["path"].as_str().is_some_and(|p| p.ends_with(suffix) && !p.ends_with(&format!("_{suffix}")))
        })
    };
    // Records counted by hand (every physical line of these files lies inside a record; times written
    // without an offset, dates unpadded: `time="09:31:06.5083263" date="10-3-2013"`).
    for (file, records) in [
        ("SCClient_AD@ablas_1.log", 328),
        ("SCNotify_AD@ablas_1.log", 402),
        ("_SCNotify_AD@ablas_1.log", 671),
        ("ClientIDManagerStartup.log", 741),
        ("ClientIDManagerStartup-20131001-203439.log", 1211),
        // 22 records, then NUL padding to 128 KiB.
        ("wedmtrace.log", 22),
    ] {
        match input(file) {
            None => errors.push(format!("{file} is not among the inputs")),
            Some(i) => {
                if i["lines"] != records {
                    errors.push(format!("{file}: lines {} (want {records})", i["lines"]));
                }
                if file != "wedmtrace.log" && i["unparsed_lines"] != 0 {
                    errors.push(format!("{file}: unparsed_lines {} (want 0)", i["unparsed_lines"]));
                }
                if !i["error"].is_null() {
                    errors.push(format!("{file}: error {}", i["error"]));
                }
            }
        }
    }
    for file in ["ClientIDManagerStartup.log", "ClientIDManagerStartup-20131001-203439.log"] {
        if let Some(i) = input(file) {
            if i["log_kind"] != "client_id_manager_startup" {
                errors.push(format!("{file}: log_kind {} (want client_id_manager_startup)", i["log_kind"]));
            }
        }
    }

    let devices = doc["devices"].as_array().cloned().unwrap_or_default();
    if devices.len() != 1 || devices[0]["key"] != CM2012_GUID {
        errors.push(format!(
            "devices {:?} (want exactly {CM2012_GUID})",
            devices.iter().map(|d| d["key"].to_string()).collect::<Vec<_>>()
        ));
    }
    if let Some(d) = devices.iter().find(|d| d["key"] == CM2012_GUID).or(devices.first()) {
        if d["path"] != "intranet" {
            errors.push(format!("device path {} (want intranet: an on-premises MP, site CM2)", d["path"]));
        }
        // No CMG, no Azure AD, no CCM tokens in a 2012 client.
        for id in [
            "install.aad_info",
            "install.aad_token",
            "install.ccm_token",
            "registration.aad_token",
            "registration.ccm_token",
            "renewal.ccm_token",
        ] {
            let s = phase(d, id);
            if s != "not_applicable" {
                errors.push(format!("{id} is {s} (want not_applicable)"));
            }
        }
        // No ccmsetup.log in the folder.
        for id in ["install.content", "install.client"] {
            let s = phase(d, id);
            if s != "not_collected" && s != "not_applicable" {
                errors.push(format!("{id} is {s} (want not_collected or not_applicable: no ccmsetup.log)"));
            }
        }
        // No MP logs in the folder.
        let s = phase(d, "registration.mp");
        if s != "not_collected" && s != "not_applicable" {
            errors.push(format!("registration.mp is {s} (want not_collected: no MP logs)"));
        }
        // ClientIDManagerStartup.log lines 597 (request) and 601 (registered, approval 1).
        for id in ["registration.request", "registration.confirmed"] {
            let s = phase(d, id);
            if s != "ok" {
                errors.push(format!("{id} is {s} (want ok: ClientIDManagerStartup.log lines 597 / 601)"));
            }
        }
        if !d["client_ids"].as_array().into_iter().flatten().any(|c| c == CM2012_GUID) {
            errors.push(format!("client_ids {} lack {CM2012_GUID}", d["client_ids"]));
        }
    }

    check_evidence_real(&doc, &dir, &mut errors);
    finish("cm2012-client", errors);
}
