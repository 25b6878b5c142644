//! Every fixture bundle under `fixtures/bundles/<name>/` and `fixtures/rules/<name>/` is analysed and checked against its
//! `expected.json`: the devices (exact count, exact id sets, hosts, every phase status), the findings
//! that must fire (rule, device, host, and the evidence lines that prove them), the rules that must stay
//! silent (near misses), and, for healthy bundles, no error or warning at all.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn bundles() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = ["fixtures/bundles", "fixtures/rules"]
        .iter()
        .flat_map(|dir| {
            let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
            std::fs::read_dir(&root)
                .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect::<Vec<_>>())
                .unwrap_or_default()
        })
        .filter(|p| p.join("expected.json").is_file())
        .collect();
    v.sort();
    v
}

fn analyze(dir: &Path) -> Value {
    let out = Command::cargo_bin("cmtrace-rs")
        .unwrap()
        .args(["analyze", "--format", "json", "--fail-on", "never"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}: {}", dir.display(), String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn set(v: &Value) -> Vec<String> {
    let mut s: Vec<String> = v
        .as_array()
        .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    s.sort();
    s.dedup();
    s
}

fn check_bundle(dir: &Path) -> Vec<String> {
    let name = dir.file_name().unwrap().to_string_lossy().to_string();
    let expected: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap())
        .unwrap_or_else(|e| panic!("{name}/expected.json: {e}"));
    let report = analyze(dir);
    let mut errors = Vec::new();
    let devices = report["devices"].as_array().cloned().unwrap_or_default();
    let want_devices = expected["devices"].as_array().cloned().unwrap_or_default();
    if devices.len() != want_devices.len() {
        errors.push(format!(
            "{name}: {} devices, expected {} ({:?})",
            devices.len(),
            want_devices.len(),
            devices.iter().map(|d| d["key"].as_str().unwrap_or("").to_string()).collect::<Vec<_>>()
        ));
    }
    for want in &want_devices {
        let key = want["key"].as_str().unwrap_or_default();
        let Some(got) = devices.iter().find(|d| d["key"] == key) else {
            errors.push(format!("{name}: no device {key}"));
            continue;
        };
        for field in ["client_ids", "aad_device_ids", "aad_tenant_ids", "aad_user_ids"] {
            if want.get(field).is_some() && set(&want[field]) != set(&got[field]) {
                errors.push(format!(
                    "{name} {key}: {field} {:?}, expected {:?}",
                    set(&got[field]),
                    set(&want[field])
                ));
            }
        }
        let got_hosts = set(&got["hosts"]);
        for h in set(&want["hosts"]) {
            if !got_hosts.contains(&h) {
                errors.push(format!("{name} {key}: host {h} missing from {got_hosts:?}"));
            }
        }
        if let Some(phases) = want["phases"].as_object() {
            for (id, status) in phases {
                let got_status = got["phases"]
                    .as_array()
                    .and_then(|ps| ps.iter().find(|p| p["id"] == id.as_str()))
                    .map(|p| p["status"].clone())
                    .unwrap_or(Value::Null);
                if &got_status != status {
                    errors.push(format!("{name} {key}: phase {id} is {got_status}, expected {status}"));
                }
            }
        }
    }
    let findings = report["findings"].as_array().cloned().unwrap_or_default();
    for want in expected["findings"].as_array().cloned().unwrap_or_default() {
        let rule = want["rule"].as_str().unwrap_or_default();
        let candidates: Vec<&Value> = findings
            .iter()
            .filter(|f| f["rule"] == rule)
            .filter(|f| want.get("device").is_none_or(|d| d.is_null() || f["device"] == *d))
            .filter(|f| want.get("host").is_none_or(|h| h.is_null() || f["host"] == *h))
            .collect();
        if candidates.is_empty() {
            let fired: Vec<String> =
                findings.iter().map(|f| format!("{}@{}", f["rule"], f["device"])).collect();
            errors
                .push(format!("{name}: rule {rule} did not fire for {} (fired: {fired:?})", want["device"]));
            continue;
        }
        // Listed evidence lines are alternatives (a retried signal, the same signal in two logs): a finding
        // must cite at least one of them.
        let wanted = want["evidence"].as_array().cloned().unwrap_or_default();
        let cites = |f: &&Value, ev: &Value| {
            let suffix = ev["path_suffix"].as_str().unwrap_or_default();
            f["evidence"].as_array().is_some_and(|es| {
                es.iter().any(|e| {
                    e["path"].as_str().is_some_and(|p| p.ends_with(suffix)) && e["line"] == ev["line"]
                })
            })
        };
        if !wanted.is_empty() && !candidates.iter().any(|f| wanted.iter().any(|ev| cites(f, ev))) {
            let got: Vec<String> = candidates
                .iter()
                .flat_map(|f| f["evidence"].as_array().cloned().unwrap_or_default())
                .map(|e| {
                    format!(
                        "{}:{}",
                        e["path"].as_str().unwrap_or("").rsplit('/').next().unwrap_or(""),
                        e["line"]
                    )
                })
                .collect();
            errors.push(format!("{name}: rule {rule} cites none of {wanted:?} (cites {got:?})"));
        }
        for f in &candidates {
            for e in f["evidence"].as_array().cloned().unwrap_or_default() {
                for k in ["path", "line", "host", "text"] {
                    if e[k].is_null() {
                        errors.push(format!("{name}: rule {rule} evidence without {k}"));
                    }
                }
            }
        }
    }
    for rule in set(&expected["absent_rules"]) {
        if let Some(f) = findings.iter().find(|f| f["rule"] == rule.as_str()) {
            errors.push(format!("{name}: near miss: rule {rule} fired: {}", f["title"]));
        }
    }
    if expected["no_error_or_warning"] == true {
        for f in &findings {
            if f["severity"] == "error" || f["severity"] == "warning" {
                errors.push(format!(
                    "{name}: healthy bundle has {} {}: {}",
                    f["severity"], f["rule"], f["title"]
                ));
            }
        }
    }
    errors
}

#[test]
fn every_bundle_matches_its_expected_results() {
    let all = bundles();
    assert!(all.len() >= 20, "expected the rule fixtures, found {} bundles", all.len());
    let errors: Vec<String> = all.iter().flat_map(|b| check_bundle(b)).collect();
    assert!(errors.is_empty(), "{} problems in {} bundles:\n{}", errors.len(), all.len(), errors.join("\n"));
}
