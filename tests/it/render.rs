//! The report renderings over the demo case: text (with and without colour, at 80 and 120 columns),
//! Markdown, JUnit (parsed back as XML), colour switches (`--color`, `NO_COLOR`) and exit statuses.

use crate::common::cmtrace;

const CASE: &str = "fixtures/demo/case-1234";

fn run(args: &[&str], envs: &[(&str, &str)]) -> (String, i32) {
    let mut cmd = cmtrace();
    cmd.env_remove("NO_COLOR").env_remove("COLUMNS");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.args(args).output().unwrap();
    (String::from_utf8(out.stdout).unwrap(), out.status.code().unwrap())
}

#[test]
fn text_report_without_colour_fits_80_columns() {
    let (out, _) = run(&["analyze", CASE, "--fail-on", "never"], &[("COLUMNS", "80")]);
    assert!(!out.contains('\u{1b}'), "no escape codes when stdout is not a terminal");
    for line in out.lines() {
        assert!(line.chars().count() <= 80, "{} chars: {line}", line.chars().count());
    }
    assert!(out.contains("Device GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139 on DESKTOP-7Q2M"));
    assert!(out.contains("Read 10 files"));
    assert!(out.contains("CCM token (ccmsetup)"));
    assert!(out.contains("FAILED"));
}

#[test]
fn colour_always_and_no_color() {
    let (out, _) = run(&["analyze", CASE, "--color", "always", "--fail-on", "never"], &[]);
    assert!(out.contains('\u{1b}'));
    let (out, _) = run(&["analyze", CASE, "--color", "never", "--fail-on", "never"], &[]);
    assert!(!out.contains('\u{1b}'));
    // NO_COLOR only affects `auto`; without a terminal `auto` is already off.
    let (out, _) = run(&["analyze", CASE, "--fail-on", "never"], &[("NO_COLOR", "1")]);
    assert!(!out.contains('\u{1b}'));
}

#[test]
fn timeline_lists_events_across_hosts() {
    let (out, _) = run(&["analyze", CASE, "--timeline", "--fail-on", "never"], &[("COLUMNS", "120")]);
    let tl = out.split("Timeline (").nth(1).expect("timeline section");
    for host in ["DESKTOP-7Q2M", "LAPTOP-K9X1", "MP01", "CPSRV01", "SITE01"] {
        assert!(tl.contains(host), "{host}");
    }
    assert!(tl.contains("ccm_token_issued"));
}

/// Piped (no terminal, no COLUMNS), the timeline cuts nothing: every event's `path:line` and text in full, the
/// device it belongs to (by its client host), and the local time as the log wrote it beside UTC where the
/// two differ. Checked against the JSON timeline of the same case.
#[test]
fn piped_timeline_is_whole_with_device_path_and_local_time() {
    let (out, _) = run(&["analyze", CASE, "--timeline", "--fail-on", "never", "--color", "never"], &[]);
    let tl = out.split("Timeline (").nth(1).expect("timeline section");
    assert!(tl.starts_with("64 flow events, UTC; the local time as written where it differs)"), "{tl}");
    let (json, _) = run(&["analyze", CASE, "--format", "json", "--fail-on", "never"], &[]);
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    let events = doc["timeline"].as_array().unwrap();
    let rows: Vec<&str> = tl.lines().skip(1).take(events.len()).collect();
    assert_eq!(rows.len(), events.len());
    let mut wide = 0;
    for (row, e) in rows.iter().zip(events) {
        // A multi-line message stays on its row, its line breaks shown as ` ⏎ `.
        let text = e["text"].as_str().unwrap().replace("\r\n", "\n").replace('\n', " ⏎ ");
        let whole = format!("{}:{} {text}", e["path"].as_str().unwrap(), e["line"]);
        assert!(row.ends_with(&whole), "cut or wrong row:\n{row}\nwant it to end with:\n{whole}");
        wide += usize::from(row.chars().count() > 100);
    }
    assert!(wide > 30, "{wide} rows past 100 columns: piped output is not cut");
    // A CCM_STS line on MP01 names the device by its client host; the UTC+1 laptop shows its local time.
    let sts = rows.iter().find(|r| r.contains(" MP01 ") && r.contains("ccm_token_issued")).unwrap();
    assert!(sts.contains(" MP01         DESKTOP-7Q2M "), "{sts}");
    let laptop =
        rows.iter().find(|r| r.contains("LAPTOP-K9X1/Windows/ccmsetup/Logs/ccmsetup.log:5 ")).unwrap();
    assert!(laptop.starts_with("11-20 15:31:40.300  16:31:40.300 LAPTOP-K9X1 "), "{laptop}");
}

/// A finding's evidence names the file as the input does (a path a terminal or editor opens), never cut,
/// and the local time as written beside UTC.
#[test]
fn finding_evidence_is_an_openable_path_with_local_time() {
    let (out, _) = run(&["analyze", CASE, "--fail-on", "never", "--color", "never"], &[("COLUMNS", "80")]);
    let path = "fixtures/demo/case-1234/LAPTOP-K9X1/Windows/ccmsetup/Logs/ccmsetup.log:5";
    assert!(std::path::Path::new(path.trim_end_matches(":5")).is_file());
    assert!(
        out.contains(&format!(
            "   - {path}\n     LAPTOP-K9X1 · 2026-11-20 15:31:40.300Z (local 16:31:40.300)\n"
        )),
        "{out}"
    );
}

#[test]
fn markdown_has_tables() {
    let (out, _) = run(&["analyze", CASE, "--format", "markdown", "--fail-on", "never"], &[]);
    assert!(out.starts_with("## cmtrace-rs: "));
    assert!(out.contains("| Phase | Status | Start (UTC) | Took | Host | Evidence |"));
    assert!(out.contains("**FAILED**"));
}

#[test]
fn junit_is_well_formed_with_a_case_per_phase() {
    let (out, _) = run(&["analyze", CASE, "--format", "junit", "--fail-on", "error"], &[]);
    let mut reader = quick_xml::Reader::from_str(&out);
    let (mut suites, mut cases, mut failures, mut skipped) = (0, 0, 0, 0);
    loop {
        match reader.read_event().expect("well-formed XML") {
            quick_xml::events::Event::Eof => break,
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                match e.name().as_ref() {
                    b"testsuite" => suites += 1,
                    b"testcase" => cases += 1,
                    b"failure" => failures += 1,
                    b"skipped" => skipped += 1,
                    _ => {}
                }
            }
            _ => {}
        }
    }
    assert!(suites >= 2);
    assert!(cases >= 22, "11 phases x 2 devices");
    assert!(failures >= 2, "the laptop's failed phases");
    assert!(skipped >= 5);
}
