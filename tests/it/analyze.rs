//! End-to-end tests of `cmtrace-rs analyze` and `trace` on the demo support case (fixtures/demo/case-1234):
//! two devices interleaved on one CMG, connection point and MP, four time zones, UTF-16 client logs.

use crate::common::cmtrace;
use serde_json::Value;

const CASE: &str = "fixtures/demo/case-1234";
const HEALTHY: &str = "GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139";

fn run(args: &[&str]) -> (String, String, i32) {
    let out = cmtrace().args(args).env_remove("NO_COLOR").output().unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap(),
    )
}

fn report() -> Value {
    let (out, err, _) = run(&["analyze", CASE, "--format", "json", "--fail-on", "never"]);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {err}"))
}

fn phase<'a>(device: &'a Value, id: &str) -> &'a str {
    device["phases"].as_array().unwrap().iter().find(|p| p["id"] == id).unwrap()["status"].as_str().unwrap()
}

#[test]
fn two_interleaved_devices_stay_two_with_their_ids() {
    let r = report();
    assert_eq!(r["schema_version"], 2);
    assert!(r["devices"].as_array().unwrap().iter().all(|d| d["path"] == "cmg_entra"));
    let devices = r["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 2);
    let a = devices.iter().find(|d| d["key"] == HEALTHY).unwrap();
    assert_eq!(a["aad_device_ids"], serde_json::json!(["8d2b4ff9-0172-4998-9851-b5324303385f"]));
    assert_eq!(a["aad_tenant_ids"], serde_json::json!(["2ca9a796-a1a6-43ec-88f1-5935b32155c5"]));
    let hosts: Vec<&str> = a["hosts"].as_array().unwrap().iter().map(|h| h.as_str().unwrap()).collect();
    for h in ["DESKTOP-7Q2M", "CPSRV01", "MP01"] {
        assert!(hosts.contains(&h), "{hosts:?}");
    }
    assert!(!hosts.contains(&"LAPTOP-K9X1"));
    for p in a["phases"].as_array().unwrap() {
        assert_eq!(p["status"], "ok", "{p}");
        assert!(p["start"].as_str().unwrap().ends_with('Z'));
    }
    // The laptop's first request to the CMG fails (untrusted root CA): no token, so no id but its host name.
    let b = devices.iter().find(|d| d["key"] == "LAPTOP-K9X1").unwrap();
    assert_eq!(b["aad_user_ids"], serde_json::json!([]));
    assert_eq!(b["aad_device_ids"], serde_json::json!([]));
    assert_eq!(phase(b, "install.aad_info"), "failed");
    assert_eq!(phase(b, "install.aad_token"), "missing");
    assert_eq!(phase(b, "install.ccm_token"), "missing");
    assert_eq!(phase(b, "install.client"), "failed");
    assert_eq!(phase(b, "registration.request"), "not_collected");
}

#[test]
fn timeline_is_utc_ordered_across_hosts() {
    let r = report();
    let tl = r["timeline"].as_array().unwrap();
    assert!(tl.len() > 40);
    let times: Vec<&str> = tl.iter().map(|e| e["time"].as_str().unwrap()).collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted);
    // The first CCM token request of the healthy client (07:31:42.100 at +420) reaches the connector and the MP
    // (10:31:42.8 at +300) within a second once both are on UTC.
    let req =
        tl.iter().position(|e| e["event"] == "ccm_token_requested" && e["host"] == "DESKTOP-7Q2M").unwrap();
    assert_eq!(tl[req]["time"], "2026-11-20T15:31:42.100Z");
    let issued = tl.iter().position(|e| e["event"] == "ccm_token_issued").unwrap();
    assert_eq!(tl[issued]["time"], "2026-11-20T15:31:42.960Z");
    assert_eq!(tl[issued]["device"], HEALTHY);
    assert!(req < issued);
    // CMG statistics are aggregates: never attributed to a device.
    assert!(tl.iter().filter(|e| e["event"] == "cmg_request_stats").all(|e| e["device"].is_null()));
}

#[test]
fn ndjson_streams_typed_objects() {
    let (out, _, _) = run(&["analyze", CASE, "--format", "ndjson", "--fail-on", "never"]);
    let rows: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let types: Vec<&str> = rows.iter().map(|r| r["type"].as_str().unwrap()).collect();
    assert_eq!(types.iter().filter(|t| **t == "input").count(), 10);
    assert_eq!(types.iter().filter(|t| **t == "device").count(), 2);
    assert!(types.iter().filter(|t| **t == "event").count() > 40);
    let first_event = types.iter().position(|t| *t == "event").unwrap();
    assert!(types[..first_event].iter().all(|t| *t != "event"));
}

#[test]
fn filters_narrow_the_report() {
    let (out, _, _) =
        run(&["analyze", CASE, "--format", "json", "--device", "LAPTOP-K9X1", "--fail-on", "never"]);
    let r: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["devices"].as_array().unwrap().len(), 1);
    assert!(r["timeline"].as_array().unwrap().iter().all(|e| e["device"] == "LAPTOP-K9X1"));
    let (out, _, _) = run(&[
        "analyze",
        CASE,
        "--format",
        "json",
        "--since",
        "2026-11-20T15:39:00Z",
        "--until",
        "2026-11-20 15:40:00",
    ]);
    let r: Value = serde_json::from_str(&out).unwrap();
    let tl = r["timeline"].as_array().unwrap();
    assert!(!tl.is_empty());
    assert!(tl.iter().all(|e| e["time"].as_str().unwrap() >= "2026-11-20T15:39:00"
        && e["time"].as_str().unwrap() <= "2026-11-20T15:40:00.000Z"));
    let (_, err, code) = run(&["analyze", CASE, "--since", "yesterday"]);
    assert_eq!(code, 2);
    assert!(err.contains("not a time"));
}

#[test]
fn unusable_input_exits_2() {
    let (_, _, code) = run(&["analyze", "fixtures/does-not-exist", "--format", "json"]);
    assert_eq!(code, 2);
}

#[test]
fn trace_by_guid_shows_every_host() {
    let (out, _, code) = run(&["trace", "c66ee0fd-08e7-4b38-b282-7e6954b71139", CASE, "--format", "json"]);
    assert_eq!(code, 0);
    let rows: Vec<Value> = serde_json::from_str(&out).unwrap();
    let hosts: std::collections::BTreeSet<&str> = rows.iter().map(|r| r["host"].as_str().unwrap()).collect();
    assert!(
        hosts.contains("DESKTOP-7Q2M") && hosts.contains("MP01") && hosts.contains("CPSRV01"),
        "{hosts:?}"
    );
    assert!(rows.iter().all(|r| r["device"] == HEALTHY));
    assert!(rows.iter().any(|r| r["match"] == "id" && r["host"] == "MP01"));
    // By the CMG request path only the failing laptop wrote (its AADAuthInfo request): that laptop only.
    let (out, _, code) = run(&["trace", "CCM_Proxy_ServerAuth/AADAuthInfo", CASE]);
    assert_eq!(code, 0);
    assert!(out.contains("LAPTOP-K9X1"), "{out}");
    let (_, _, code) = run(&["trace", "00000000-1111-2222-3333-444444444444", CASE]);
    assert_eq!(code, 1, "an id nobody carries");
}

#[test]
fn findings_name_the_root_cause_with_evidence() {
    let r = report();
    let f = r["findings"].as_array().unwrap();
    let rules: Vec<&str> = f.iter().map(|x| x["rule"].as_str().unwrap()).collect();
    assert_eq!(rules, ["root-ca-untrusted", "install-failed"], "{rules:?}");
    let root = &f[0];
    assert_eq!(root["severity"], "error");
    assert_eq!(root["device"], "LAPTOP-K9X1");
    assert_eq!(root["host"], "LAPTOP-K9X1");
    let ev = root["evidence"].as_array().unwrap();
    assert!(ev.iter().any(|e| e["path"]
        .as_str()
        .unwrap()
        .ends_with("LAPTOP-K9X1/Windows/ccmsetup/Logs/ccmsetup.log")
        && e["line"] == 9
        && e["time"] == "2026-11-20T15:31:40.304Z"
        && e["text"] == "[CCMHTTP] : WINHTTP_CALLBACK_STATUS_FLAG_INVALID_CA is set"));
    assert!(root["remediation"].as_str().unwrap().contains("Trusted Root Certification Authorities"));
    assert!(root["explanation"].as_str().unwrap().contains("show no request from this device"));
    // The consequence still reports its failed step, naming the root cause.
    assert!(f[1]["explanation"].as_str().unwrap().contains("Root cause: root-ca-untrusted"));
    // The healthy device has no finding at all.
    assert!(f.iter().all(|x| x["device"] != HEALTHY));
}

#[test]
fn exit_status_follows_fail_on() {
    for (level, want) in [("error", 1), ("warning", 1), ("info", 1), ("never", 0)] {
        let (_, _, code) = run(&["analyze", CASE, "--format", "json", "--fail-on", level]);
        assert_eq!(code, want, "--fail-on {level}");
    }
    let (_, _, code) = run(&["analyze", CASE, "--format", "json", "--device", "DESKTOP-7Q2M"]);
    assert_eq!(code, 0, "the healthy device alone has nothing to fail on");
    let (out, _, code) = run(&["analyze", CASE, "--format", "json", "--rule", "clock-skew"]);
    assert_eq!(code, 0, "the rule shown did not fire: nothing to fail on");
    let r: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["findings"].as_array().unwrap().len(), 0);
}

/// A failed step's reason quotes where the error started: the first failure that names the code the attempt
/// ended with, not the exit line that repeats it, nor noise that healthy runs log too. Expectations read from
/// the logs: the demo laptop's TLS error (ccmsetup.log:5, `Code=12175`, which is 0x80072F8F, the code its exit
/// repeats at line 10), and a real DMZ install whose name lookup failed (ccmsetup.log:81, `Code=12007`, which is
/// 0x80072EE7), after the benign `SetInitialCommandLine failed` at line 29 and before `Params to send` at 84.
#[test]
fn a_failed_step_quotes_where_the_error_started() {
    let reason = |doc: &Value, key: &str, id: &str| -> String {
        let device = doc["devices"].as_array().unwrap().iter().find(|d| d["key"] == key).unwrap();
        let phase = device["phases"].as_array().unwrap().iter().find(|p| p["id"] == id).unwrap();
        assert_eq!(phase["status"], "failed", "{key} {id}");
        phase["reason"].as_str().unwrap().to_string()
    };
    let demo = report();
    let r = reason(&demo, "LAPTOP-K9X1", "install.aad_info");
    assert!(r.contains("Code=12175, Text=ERROR_WINHTTP_SECURE_FAILURE"), "{r}");
    let (out, _, _) =
        run(&["analyze", "fixtures/mixed/name-not-resolved", "--format", "json", "--fail-on", "never"]);
    let dmz: Value = serde_json::from_str(&out).unwrap();
    let key = dmz["devices"].as_array().unwrap()[0]["key"].as_str().unwrap().to_string();
    let r = reason(&dmz, &key, "install.content");
    assert!(r.contains("Code=12007, Text=ERROR_WINHTTP_NAME_NOT_RESOLVED"), "{r}");
}
