//! Every bundle under `fixtures/mixed/<name>/` (real ConfigMgr noise mixed with one failure class, written by
//! `fixtures/mixed/generate.py`) is analysed with `analyze <bundle> --format json` and checked strictly, both
//! ways, against its `expected.json`:
//! - the set of device keys equals the listed set; each device lists all 11 phases and they match exactly, and
//!   its `path` (when listed);
//! - the set of (rule, device) of findings, at any severity, equals the listed set; `severity`, `host` and `cause`
//!   (when listed) match; every listed evidence line is cited; and every finding has at least one evidence item that
//!   points at a line of its file holding the evidence's text;
//! - the exit status (default `--fail-on error`) matches, and every input was read without error.
//!
//! All mismatches of all bundles are collected into one failure message. The folders (but `real/`) must be the
//! bundles the README's table lists, each with its `expected.json`: a bundle that vanishes fails.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use cmtrace_analysis::PhaseId;
use serde_json::Value;

use crate::common::{cmtrace, evidence_is_real};

fn bundles() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mixed");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|e| e.expect("folder entry").path())
        .filter(|p| p.is_dir() && !p.ends_with("real"))
        .collect();
    v.sort();
    let readme = std::fs::read_to_string(root.join("README.md")).expect("fixtures/mixed/README.md");
    let listed: BTreeSet<String> = readme
        .lines()
        .filter_map(|l| l.strip_prefix("| [`")?.split_once("`]").map(|(n, _)| n.to_string()))
        .collect();
    let folders: BTreeSet<String> =
        v.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(folders, listed, "fixtures/mixed: the folders are not the bundles its README lists");
    for p in &v {
        assert!(p.join("expected.json").is_file(), "{}: no expected.json", p.display());
    }
    v
}

fn analyze(dir: &Path) -> Result<(Value, i32), String> {
    let out = cmtrace()
        .arg("analyze")
        .arg(dir)
        .args(["--format", "json"])
        .output()
        .map_err(|e| format!("cannot run cmtrace-rs: {e}"))?;
    let doc: Value = serde_json::from_slice(&out.stdout).map_err(|e| {
        format!("stdout is not one JSON document ({e}); stderr: {}", String::from_utf8_lossy(&out.stderr))
    })?;
    Ok((doc, out.status.code().unwrap_or(-1)))
}

fn norm(p: &str) -> String {
    p.replace('\\', "/")
}

fn key_of(v: &Value) -> String {
    v.as_str().map(str::to_string).unwrap_or_else(|| "null".to_string())
}

fn check(bundle: &Path) -> Vec<String> {
    let name = bundle.file_name().unwrap().to_string_lossy().to_string();
    let mut errors = Vec::new();
    let mut err = |m: String| errors.push(format!("{name}: {m}"));
    let expected: Value = match std::fs::read_to_string(bundle.join("expected.json"))
        .map_err(|e| e.to_string())
        .and_then(|s| serde_json::from_str(&s).map_err(|e| e.to_string()))
    {
        Ok(v) => v,
        Err(e) => {
            err(format!("expected.json: {e}"));
            return errors;
        }
    };
    let (doc, status) = match analyze(bundle) {
        Ok(x) => x,
        Err(e) => {
            err(e);
            return errors;
        }
    };

    if doc["schema_version"] != 2 {
        err(format!("schema_version {} (want 2)", doc["schema_version"]));
    }
    if let Some(want) = expected["exit_status"].as_i64() {
        if i64::from(status) != want {
            err(format!("exit status {status} (want {want})"));
        }
    }

    for i in doc["inputs"].as_array().into_iter().flatten() {
        if !i["error"].is_null() {
            err(format!("input {} could not be read: {}", i["path"], i["error"]));
        }
    }

    // Devices: the key sets are equal; listed path and phases match.
    let devices = doc["devices"].as_array().cloned().unwrap_or_default();
    let got_keys: BTreeSet<String> = devices.iter().map(|d| key_of(&d["key"])).collect();
    let want_devices = expected["devices"].as_array().cloned().unwrap_or_default();
    let want_keys: BTreeSet<String> = want_devices.iter().map(|d| key_of(&d["key"])).collect();
    if got_keys != want_keys {
        err(format!("device keys {got_keys:?} (want {want_keys:?})"));
    }
    for want in &want_devices {
        let key = key_of(&want["key"]);
        let Some(d) = devices.iter().find(|d| key_of(&d["key"]) == key) else {
            continue;
        };
        if let Some(path) = want.get("path") {
            if &d["path"] != path {
                err(format!("device {key}: path {} (want {path})", d["path"]));
            }
        }
        let listed = want["phases"].as_object();
        let unlisted: Vec<&str> = PhaseId::ALL
            .iter()
            .map(|p| p.as_str())
            .filter(|p| listed.is_none_or(|m| !m.contains_key(*p)))
            .collect();
        if !unlisted.is_empty() {
            err(format!("device {key}: expected.json does not list phase(s) {unlisted:?}"));
        }
        for (id, status) in want["phases"].as_object().into_iter().flatten() {
            let got = d["phases"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|p| p["id"] == id.as_str())
                .map(|p| key_of(&p["status"]))
                .unwrap_or_else(|| "<absent>".to_string());
            if Some(got.as_str()) != status.as_str() {
                err(format!("device {key}: {id} is {got} (want {})", key_of(status)));
            }
        }
    }

    // Findings: (rule, device) at any severity equal the listed ones; listed ones present and proven.
    let findings = doc["findings"].as_array().cloned().unwrap_or_default();
    let got_all: BTreeSet<(String, String)> =
        findings.iter().map(|f| (key_of(&f["rule"]), key_of(&f["device"]))).collect();
    let want_findings = expected["findings"].as_array().cloned().unwrap_or_default();
    let want_all: BTreeSet<(String, String)> =
        want_findings.iter().map(|f| (key_of(&f["rule"]), key_of(&f["device"]))).collect();
    for extra in got_all.difference(&want_all) {
        err(format!("unexpected finding: {} on {}", extra.0, extra.1));
    }
    for want in &want_findings {
        let (rule, device) = (key_of(&want["rule"]), key_of(&want["device"]));
        let candidates: Vec<&Value> = findings
            .iter()
            .filter(|f| key_of(&f["rule"]) == rule && key_of(&f["device"]) == device)
            .collect();
        if candidates.is_empty() {
            let others: Vec<String> = findings
                .iter()
                .filter(|f| key_of(&f["rule"]) == rule)
                .map(|f| format!("{} on {}", key_of(&f["severity"]), key_of(&f["device"])))
                .collect();
            err(format!("missing finding {rule} on {device} (same rule elsewhere: {others:?})"));
            continue;
        }
        let f = candidates[0];
        if f["severity"] != want["severity"] {
            err(format!("{rule} on {device}: severity {} (want {})", f["severity"], want["severity"]));
        }
        if let Some(host) = want.get("host") {
            if candidates.iter().all(|c| &c["host"] != host) {
                err(format!("{rule} on {device}: host {} (want {host})", f["host"]));
            }
        }
        // The failure class the lines show, where the bundle names it.
        if let Some(cause) = want.get("cause") {
            if candidates.iter().all(|c| &c["cause"] != cause) {
                err(format!("{rule} on {device}: cause {} (want {cause})", f["cause"]));
            }
        }
        let cited: Vec<(String, u64)> = candidates
            .iter()
            .flat_map(|c| c["evidence"].as_array().cloned().unwrap_or_default())
            .filter_map(|e| Some((norm(e["path"].as_str()?), e["line"].as_u64()?)))
            .collect();
        for ev in want["evidence_lines"].as_array().into_iter().flatten() {
            let (Some(suffix), Some(line)) = (ev[0].as_str(), ev[1].as_u64()) else {
                err(format!("{rule} on {device}: bad evidence_lines entry {ev}"));
                continue;
            };
            let suffix = norm(suffix);
            if !cited.iter().any(|(p, l)| *l == line && (p.ends_with(&format!("/{suffix}")) || *p == suffix))
            {
                err(format!("{rule} on {device}: does not cite {suffix}:{line} (cites {cited:?})"));
            }
        }
    }
    for f in &findings {
        let evs = f["evidence"].as_array().cloned().unwrap_or_default();
        if !evs.iter().any(|e| evidence_is_real(e, bundle)) {
            err(format!(
                "finding {} on {}: no evidence item points at a line holding its text",
                key_of(&f["rule"]),
                key_of(&f["device"])
            ));
        }
    }
    errors
}

#[test]

fn mixed_bundles_match_expected() {
    let all = bundles();
    let mut errors = Vec::new();
    let mut failing = 0;
    for b in &all {
        let e = check(b);
        if !e.is_empty() {
            failing += 1;
        }
        errors.extend(e);
    }
    assert!(
        errors.is_empty(),
        "{failing} of {} mixed bundles differ from expected.json ({} mismatches):\n  - {}",
        all.len(),
        errors.len(),
        errors.join("\n  - ")
    );
}
