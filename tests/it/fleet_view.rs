//! The fleet view of the text and Markdown reports (issue 12): past a screenful of devices (20) the report
//! opens with a summary per rule, lists the failing devices only (`--devices` chooses), counts the rest, and
//! the Markdown fits a ticket (`--max-chars`, 60,000 by default) with a line that says what was left out.
//! The fleet is every bundle of `fixtures/mixed/` read at once: 26 devices with client logs, each with its
//! own failure class (or none), whose findings the JSON document gives.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use crate::common::{self, cmtrace};

fn run(extra: &[&str]) -> String {
    let out = cmtrace()
        .arg("analyze")
        .args(common::mixed_fleet())
        .args(["--fail-on", "never", "--color", "never"])
        .args(extra)
        .env("COLUMNS", "120")
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("UTF-8")
}

struct Facts {
    /// Devices with client logs (key, first client host).
    collected: Vec<(String, String)>,
    /// Keys of devices with an error or warning finding.
    failing: BTreeSet<String>,
    rules: BTreeSet<String>,
    server_only: usize,
}

fn facts() -> Facts {
    let doc: Value = serde_json::from_str(&run(&["--format", "json"])).expect("JSON");
    let mut collected = Vec::new();
    let mut server_only = 0;
    for d in doc["devices"].as_array().unwrap() {
        let key = d["key"].as_str().unwrap().to_string();
        match d["client_hosts"].as_array().and_then(|h| h.first()) {
            Some(h) => collected.push((key, h.as_str().unwrap().to_string())),
            None => server_only += 1,
        }
    }
    let mut failing = BTreeSet::new();
    let mut rules = BTreeSet::new();
    for f in doc["findings"].as_array().unwrap() {
        rules.insert(f["rule"].as_str().unwrap().to_string());
        if f["severity"] != "info" {
            if let Some(d) = f["device"].as_str() {
                failing.insert(d.to_string());
            }
        }
    }
    Facts { collected, failing, rules, server_only }
}

/// The device headings of a text report (`✗ Device KEY ...`).
fn text_devices(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| l.split_once(" Device ").filter(|(mark, _)| mark.chars().count() == 1))
        .map(|(_, rest)| rest.split(' ').next().unwrap().to_string())
        .collect()
}

#[test]
fn text_opens_with_the_fleet_summary_and_lists_failing_devices() {
    let f = facts();
    assert!(f.collected.len() > 20, "a fleet: {} devices", f.collected.len());
    assert!(!f.failing.is_empty() && f.failing.len() < f.collected.len());
    let text = run(&[]);
    let summary_at = text.find("Fleet summary").expect("fleet summary");
    let first_device = text.find(" Device ").expect("a device");
    assert!(summary_at < first_device, "the summary comes before the devices");
    assert!(!text.contains("What went wrong"), "no per-finding list in a fleet");
    let head = format!("{} device(s) with client logs collected", f.collected.len());
    assert!(text.contains(&head), "header counts collected devices: {head}");
    if f.server_only > 0 {
        assert!(text.contains(&format!("{} seen only in server logs", f.server_only)));
    }
    // Every rule in the summary table (its first column), once.
    let summary = &text[summary_at..first_device];
    for r in &f.rules {
        let rows = summary
            .lines()
            .filter(|l| l.trim_start_matches('│').trim_start().starts_with(r.as_str()))
            .count();
        assert!(rows >= 1, "rule {r} in the summary:\n{summary}");
    }
    // Failing devices are listed, the others counted.
    assert_eq!(text_devices(&text), f.failing);
    let unlisted = f.collected.len() - f.failing.len();
    assert!(text.contains(&format!("{unlisted} device(s) not listed")), "the others are counted");
    // Each rule's fix is given once in the findings (an example in full), not once per device.
    let rule_with_most = "install-failed";
    assert!(f.rules.contains(rule_with_most));
    let full = text.matches(&format!(" {rule_with_most}\n")).count();
    assert_eq!(full, 1, "one example in full for {rule_with_most}");
    assert!(text.contains("   Also ("), "the other findings of a rule one line each");
}

#[test]
fn devices_flag_chooses_the_listed_devices() {
    let f = facts();
    let all: BTreeSet<String> =
        f.collected.iter().map(|(k, _)| k.clone()).chain(f.failing.iter().cloned()).collect();
    assert_eq!(text_devices(&run(&["--devices", "all"])), all);
    assert_eq!(text_devices(&run(&["--devices", "failing"])), f.failing);
    let none = run(&["--devices", "none"]);
    assert!(text_devices(&none).is_empty());
    assert!(none.contains("Fleet summary"));
    assert!(none.contains(&format!("{} device(s) not listed", all.len())));
}

#[test]
fn markdown_fits_the_limit_and_says_what_was_left_out() {
    let f = facts();
    let whole = run(&["--format", "markdown", "--max-chars", "0"]);
    let limit = whole.chars().count() / 3;
    let cut = run(&["--format", "markdown", "--max-chars", &limit.to_string()]);
    assert!(cut.chars().count() <= limit, "{} > {limit}", cut.chars().count());
    let last = cut.lines().last().unwrap();
    assert!(last.starts_with(&format!("> Cut to {limit} characters")) && last.contains("left out"), "{last}");
    assert!(last.contains("--max-chars 0"));
    // The summary is never cut: every rule is in it.
    for r in &f.rules {
        assert!(cut.contains(&format!("| `{r}` |")), "rule {r} in the cut summary");
    }
    // Findings get the budget before device tables.
    assert!(cut.contains("**Fix:**"));
    // The default limit holds too, and a document that fits is not cut.
    assert!(run(&["--format", "markdown"]).chars().count() <= 60_000);
    assert!(!whole.contains("> Cut to"));
}

#[test]
fn a_small_report_keeps_its_layout() {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo");
    let out = cmtrace()
        .args(["analyze", "--fail-on", "never", "--color", "never"])
        .arg(&demo)
        .output()
        .expect("runs");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("What went wrong"));
    assert!(!text.contains("Fleet summary"));
    assert!(!text.contains("not listed"));
}
