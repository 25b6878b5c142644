//! Every fixture bundle under `fixtures/bundles/<name>/` and `fixtures/rules/<name>/` is analysed and checked against its
//! `expected.json`, both ways: the devices (exact count, exact id sets, exact hosts, all 11 phase statuses), the
//! findings (every finding that fires, at any severity, is listed with its device and the evidence lines that prove it,
//! or explicitly allowed with a reason; every listed one fires), the rules that must stay silent (near misses), and,
//! for healthy bundles, no error or warning at all. The folders are the ones the generators' index READMEs list: a
//! bundle that vanishes, or a folder with no `expected.json`, fails.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::common::cmtrace;
use cmtrace_analysis::PhaseId;
use serde_json::Value;

/// The bundle names of an index README's table: the first cells that link a bundle's README
/// (`[`name`](name/README.md)`), or, in an index without links, the first cells that are a name in backquotes.
fn listed_in_readme(root: &Path) -> BTreeSet<String> {
    let readme = std::fs::read_to_string(root.join("README.md"))
        .unwrap_or_else(|e| panic!("{}: {e}", root.join("README.md").display()));
    let first_cells: Vec<&str> =
        readme.lines().filter_map(|l| l.strip_prefix("| ")).filter_map(|l| l.split(" |").next()).collect();
    let linked: BTreeSet<String> = first_cells
        .iter()
        .filter_map(|c| c.strip_prefix("[`")?.split_once("`](").map(|(n, _)| n.to_string()))
        .collect();
    if !linked.is_empty() {
        return linked;
    }
    first_cells.iter().filter_map(|c| c.strip_prefix('`')?.strip_suffix('`')).map(str::to_string).collect()
}

fn bundles() -> Vec<PathBuf> {
    let mut v = Vec::new();
    for dir in ["fixtures/bundles", "fixtures/rules"] {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        let folders: BTreeSet<String> = std::fs::read_dir(&root)
            .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
            .map(|e| e.expect("folder entry").path())
            .filter(|p| p.is_dir())
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        let listed = listed_in_readme(&root);
        assert!(!listed.is_empty(), "{dir}/README.md lists no bundle");
        assert_eq!(folders, listed, "{dir}: the folders are not the bundles its README lists");
        for name in &folders {
            let p = root.join(name);
            assert!(p.join("expected.json").is_file(), "{}: no expected.json", p.display());
            v.push(p);
        }
    }
    v
}

fn analyze(dir: &Path) -> Value {
    let out =
        cmtrace().args(["analyze", "--format", "json", "--fail-on", "never"]).arg(dir).output().unwrap();
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

/// The rule ids the binary knows (`cmtrace-rs rules --format json`).
fn known_rules() -> BTreeSet<String> {
    let out = cmtrace().args(["rules", "--format", "json"]).output().unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v.as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_string()).collect()
}

fn check_bundle(dir: &Path, rules: &BTreeSet<String>) -> Vec<String> {
    let name = dir.file_name().unwrap().to_string_lossy().to_string();
    let expected: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap())
        .unwrap_or_else(|e| panic!("{name}/expected.json: {e}"));
    let report = analyze(dir);
    let mut errors = Vec::new();
    // A rule id nobody knows (a typo in absent_rules would otherwise stay silent for ever).
    let named = expected["findings"]
        .as_array()
        .into_iter()
        .chain(expected["allowed"].as_array())
        .flatten()
        .filter_map(|f| f["rule"].as_str())
        .chain(expected["absent_rules"].as_array().into_iter().flatten().filter_map(Value::as_str));
    for rule in named {
        if !rules.contains(rule) {
            errors.push(format!(
                "{name}: expected.json names rule {rule:?}, which cmtrace-rs rules does not list"
            ));
        }
    }
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
        let (got_hosts, want_hosts) = (set(&got["hosts"]), set(&want["hosts"]));
        if got_hosts != want_hosts {
            errors.push(format!("{name} {key}: hosts {got_hosts:?}, expected {want_hosts:?}"));
        }
        let phases = want["phases"].as_object().cloned().unwrap_or_default();
        let unlisted: Vec<&str> =
            PhaseId::ALL.iter().map(|p| p.as_str()).filter(|p| !phases.contains_key(*p)).collect();
        if !unlisted.is_empty() {
            errors.push(format!("{name} {key}: expected.json does not list phase(s) {unlisted:?}"));
        }
        for (id, status) in &phases {
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
    let findings = report["findings"].as_array().cloned().unwrap_or_default();
    let wanted_findings = expected["findings"].as_array().cloned().unwrap_or_default();
    let allowed = expected["allowed"].as_array().cloned().unwrap_or_default();
    let same = |f: &Value, want: &Value| f["rule"] == want["rule"] && f["device"] == want["device"];
    // Both ways: a finding nobody listed fails as surely as a listed one that does not fire.
    for f in &findings {
        if !wanted_findings.iter().chain(&allowed).any(|w| same(f, w)) {
            errors.push(format!(
                "{name}: unexpected {} {} for {} on {}: {}",
                f["severity"], f["rule"], f["device"], f["host"], f["title"]
            ));
        }
    }
    for a in &allowed {
        if a["why"].as_str().is_none_or(str::is_empty) {
            errors.push(format!("{name}: allowed {} {} says no why", a["rule"], a["device"]));
        }
    }
    for want in wanted_findings {
        let rule = want["rule"].as_str().unwrap_or_default();
        let candidates: Vec<&Value> = findings
            .iter()
            .filter(|f| same(f, &want))
            .filter(|f| want["host"].is_null() || f["host"] == want["host"])
            .collect();
        if candidates.is_empty() {
            let fired: Vec<String> =
                findings.iter().map(|f| format!("{}@{}/{}", f["rule"], f["device"], f["host"])).collect();
            errors.push(format!(
                "{name}: rule {rule} did not fire for {} on {} (fired: {fired:?})",
                want["device"], want["host"]
            ));
            continue;
        }
        if let Some(cause) = want["cause"].as_str() {
            if !candidates.iter().any(|f| f["cause"] == cause) {
                errors.push(format!(
                    "{name}: rule {rule}: cause {:?}, expected {cause}",
                    candidates[0]["cause"]
                ));
            }
        }
        // Listed evidence lines are alternatives (a retried signal, the same signal in two logs): a finding
        // must cite at least one of them, and every listed finding names at least one.
        let wanted = want["evidence"].as_array().cloned().unwrap_or_default();
        if wanted.is_empty() {
            errors.push(format!(
                "{name}: expected.json lists {rule} for {} with no evidence line",
                want["device"]
            ));
        }
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
    let rules = known_rules();
    let errors: Vec<String> = all.iter().flat_map(|b| check_bundle(b, &rules)).collect();
    assert!(errors.is_empty(), "{} problems in {} bundles:\n{}", errors.len(), all.len(), errors.join("\n"));
}
