//! JUnit honours `--fail-on`: the XML holds a `<failure>` exactly when `analyze` exits 1, for every
//! threshold; findings below it pass with their text in `<system-out>`; unreadable inputs are skipped
//! cases of the `inputs` suite, or failures when nothing was readable (exit 2). Every count in the
//! document is checked exactly against the JSON report of the same inputs. The exit status at each level
//! on bundles with only warnings, only info and errors.

use serde_json::Value;

use crate::common;

const THRESHOLDS: [&str; 4] = ["error", "warning", "info", "never"];

/// What one JUnit document holds (counted from its elements), and the exit status of the run.
#[derive(Debug, Default, PartialEq, Eq)]
struct Junit {
    tests: usize,
    failures: usize,
    skipped: usize,
    skipped_inputs: usize,
    failed_inputs: usize,
    system_out: usize,
    code: i32,
}

fn cmtrace(args: &[&str]) -> (Vec<u8>, i32) {
    let out = common::cmtrace().args(args).output().unwrap();
    (out.stdout, out.status.code().unwrap())
}

fn junit(paths: &[&str], fail_on: &str) -> Junit {
    let mut args = vec!["analyze"];
    args.extend(paths);
    args.extend(["--format", "junit", "--fail-on", fail_on]);
    let (stdout, code) = cmtrace(&args);
    let xml = String::from_utf8(stdout).unwrap();
    let mut reader = quick_xml::Reader::from_str(&xml);
    let mut j = Junit { code, ..Junit::default() };
    let mut suite = String::new();
    // (declared tests, failures) of <testsuites>; per <testsuite>: declared (tests, failures, skipped),
    // and the same counted from its cases.
    let mut declared_total = None;
    let mut suites: Vec<(String, [Option<String>; 3], [usize; 3])> = Vec::new();
    loop {
        match reader.read_event().expect("well-formed XML") {
            quick_xml::events::Event::Eof => break,
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                let attr = |name: &[u8]| {
                    e.try_get_attribute(name).unwrap().map(|a| String::from_utf8(a.value.to_vec()).unwrap())
                };
                let counted = suites.last_mut().map(|s| &mut s.2);
                match e.name().as_ref() {
                    b"testsuites" => declared_total = Some((attr(b"tests"), attr(b"failures"))),
                    b"testsuite" => {
                        suite = attr(b"name").unwrap();
                        suites.push((
                            suite.clone(),
                            [attr(b"tests"), attr(b"failures"), attr(b"skipped")],
                            [0; 3],
                        ));
                    }
                    b"testcase" => {
                        j.tests += 1;
                        counted.expect("a case inside a suite")[0] += 1;
                    }
                    b"failure" => {
                        j.failures += 1;
                        counted.expect("a failure inside a suite")[1] += 1;
                        if suite == "inputs" {
                            j.failed_inputs += 1
                        }
                    }
                    b"skipped" => {
                        j.skipped += 1;
                        counted.expect("a skip inside a suite")[2] += 1;
                        if suite == "inputs" {
                            j.skipped_inputs += 1
                        }
                    }
                    b"system-out" => j.system_out += 1,
                    _ => {}
                }
            }
            _ => {}
        }
    }
    if !xml.is_empty() {
        let total = (Some(j.tests.to_string()), Some(j.failures.to_string()));
        assert_eq!(declared_total, Some(total), "the counts in <testsuites> are right:\n{xml}");
        for (name, declared, counted) in &suites {
            assert_eq!(
                declared,
                &counted.map(|n| Some(n.to_string())),
                "the counts of suite {name} are right"
            );
        }
    }
    j
}

/// `analyze --format json --fail-on never` on `paths`: the report.
fn report(paths: &[&str]) -> Value {
    let mut args = vec!["analyze"];
    args.extend(paths);
    args.extend(["--format", "json", "--fail-on", "never"]);
    let (stdout, code) = cmtrace(&args);
    assert!(code == 0 || code == 2, "{paths:?}: --fail-on never exits {code}");
    serde_json::from_slice(&stdout).unwrap_or_else(|e| panic!("{paths:?}: {e}"))
}

fn rank(severity: &Value) -> u8 {
    match severity.as_str().unwrap() {
        "info" => 0,
        "warning" => 1,
        "error" => 2,
        other => panic!("unknown severity {other}"),
    }
}

/// Whether a finding of `severity` fails at `--fail-on fail_on`, as the CLI defines the levels: each
/// level fails on findings at or above it; `never` on none.
fn fails(severity: &Value, fail_on: &str) -> bool {
    let threshold = match fail_on {
        "info" => Some(0),
        "warning" => Some(1),
        "error" => Some(2),
        "never" => None,
        other => panic!("unknown level {other}"),
    };
    threshold.is_some_and(|t| rank(severity) >= t)
}

/// The severities of a report's findings, in order.
fn severities(r: &Value) -> Vec<String> {
    r["findings"].as_array().unwrap().iter().map(|f| f["severity"].as_str().unwrap().to_string()).collect()
}

/// The JUnit document and exit status `--fail-on fail_on` must give, worked out from the JSON report of
/// the same inputs (see the renderer's contract in src/render/junit.rs): a case per phase, per finding
/// and per unreadable input; findings at or above the level fail, the others pass with their text in
/// `<system-out>`; a failed phase fails only when its device has a failing finding (else it passes with
/// its reason); missing, not collected and not applicable phases are skipped; unreadable inputs are
/// skipped, or fail when nothing was readable (exit 2).
fn expected(r: &Value, fail_on: &str) -> Junit {
    let mut j = Junit::default();
    let findings = r["findings"].as_array().unwrap();
    for f in findings {
        j.tests += 1;
        if fails(&f["severity"], fail_on) {
            j.failures += 1
        } else {
            j.system_out += 1
        }
    }
    for d in r["devices"].as_array().unwrap() {
        let device_fails = findings.iter().any(|f| f["device"] == d["key"] && fails(&f["severity"], fail_on));
        for p in d["phases"].as_array().unwrap() {
            j.tests += 1;
            match p["status"].as_str().unwrap() {
                "ok" => {}
                "failed" if device_fails => j.failures += 1,
                "failed" => j.system_out += 1,
                "missing" | "not_collected" | "not_applicable" => j.skipped += 1,
                other => panic!("unknown phase status {other}"),
            }
        }
    }
    let inputs = r["inputs"].as_array().unwrap();
    let read = |i: &&Value| i["error"].is_null() || i["lines"].as_u64().unwrap() > 0;
    let none_read = !inputs.iter().any(|i| read(&i));
    for _ in inputs.iter().filter(|i| !i["error"].is_null()) {
        j.tests += 1;
        if none_read {
            (j.failures, j.failed_inputs) = (j.failures + 1, j.failed_inputs + 1)
        } else {
            (j.skipped, j.skipped_inputs) = (j.skipped + 1, j.skipped_inputs + 1)
        }
    }
    j.code = if none_read {
        2
    } else if findings.iter().any(|f| fails(&f["severity"], fail_on)) {
        1
    } else {
        0
    };
    j
}

#[test]
fn failures_exactly_when_the_exit_status_is_1() {
    let bundles = [
        // errors, two devices
        "fixtures/demo/case-1234",
        // warnings only
        "fixtures/rules/registration-not-approved",
        "fixtures/rules/clock-skew",
        // info only
        "fixtures/rules/pki-cert-preferred",
        // no finding
        "fixtures/rules/healthy-single",
    ];
    let mut kinds = std::collections::BTreeSet::new();
    for bundle in bundles {
        let r = report(&[bundle]);
        let mut sev = severities(&r);
        sev.sort_unstable();
        sev.dedup();
        kinds.insert(sev.join("+"));
        for fail_on in THRESHOLDS {
            let j = junit(&[bundle], fail_on);
            assert_eq!(j, expected(&r, fail_on), "{bundle} --fail-on {fail_on}");
            assert_eq!(j.failures > 0, j.code == 1, "{bundle} --fail-on {fail_on}: {j:?}");
        }
    }
    // Every kind of bundle is there (no finding, only info, only warnings, errors): the equalities above
    // are not vacuous at any level.
    for kind in ["", "info", "warning"] {
        assert!(kinds.contains(kind), "no bundle with findings [{kind}] among {kinds:?}");
    }
    assert!(kinds.iter().any(|k| k.starts_with("error")), "no bundle with an error among {kinds:?}");
}

/// `--fail-on` levels on bundles whose findings are all warnings: `error` passes, `warning` and `info`
/// fail, `never` passes; in the text report (the default format) as in JSON (JUnit: see above).
#[test]
fn warnings_fail_at_warning_and_info_only() {
    for bundle in ["fixtures/rules/aad-device-token-fallback", "fixtures/rules/flow-incomplete"] {
        let r = report(&[bundle]);
        let sev = severities(&r);
        assert!(!sev.is_empty() && sev.iter().all(|s| *s == "warning"), "{bundle}: only warnings: {sev:?}");
        for (fail_on, want) in [("error", 0), ("warning", 1), ("info", 1), ("never", 0)] {
            for format in ["text", "json"] {
                let (_, code) = cmtrace(&["analyze", bundle, "--format", format, "--fail-on", fail_on]);
                assert_eq!(code, want, "{bundle} --format {format} --fail-on {fail_on}");
            }
        }
        // The default is --fail-on error.
        assert_eq!(cmtrace(&["analyze", bundle]).1, 0, "{bundle} without --fail-on");
    }
}

/// On a bundle whose only finding is informational, only `--fail-on info` fails.
#[test]
fn info_fails_only_at_info() {
    let bundle = "fixtures/rules/pki-cert-preferred";
    let sev = severities(&report(&[bundle]));
    assert!(!sev.is_empty() && sev.iter().all(|s| *s == "info"), "{bundle}: only info: {sev:?}");
    for (fail_on, want) in [("error", 0), ("warning", 0), ("info", 1), ("never", 0)] {
        let (_, code) = cmtrace(&["analyze", bundle, "--format", "json", "--fail-on", fail_on]);
        assert_eq!(code, want, "{bundle} --fail-on {fail_on}");
    }
}

/// On a bundle with an error, every level but `never` fails, and so does the default.
#[test]
fn errors_fail_at_every_level_but_never() {
    let bundle = "fixtures/rules/install-failed";
    let sev = severities(&report(&[bundle]));
    assert!(sev.iter().any(|s| s == "error"), "{bundle}: an error: {sev:?}");
    for (fail_on, want) in [("error", 1), ("warning", 1), ("info", 1), ("never", 0)] {
        let (_, code) = cmtrace(&["analyze", bundle, "--format", "json", "--fail-on", fail_on]);
        assert_eq!(code, want, "{bundle} --fail-on {fail_on}");
    }
    assert_eq!(cmtrace(&["analyze", bundle]).1, 1, "{bundle} without --fail-on");
}

#[test]
fn unreadable_inputs_are_skipped_or_failed() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.log");
    std::fs::write(&junk, b"\x00\x01\x02 not a log").unwrap();
    let junk = junk.to_str().unwrap();
    // One readable bundle and one unreadable file: the file is a skipped case.
    for bundle in ["fixtures/rules/healthy-single", "fixtures/rules/registration-not-approved"] {
        let r = report(&[bundle, junk]);
        for fail_on in THRESHOLDS {
            let j = junit(&[bundle, junk], fail_on);
            assert_eq!((j.skipped_inputs, j.failed_inputs), (1, 0), "{bundle} --fail-on {fail_on}");
            assert_eq!(j, expected(&r, fail_on), "{bundle} --fail-on {fail_on}");
        }
    }
    // Nothing readable: exit 2 at every level; every unreadable input is a failure.
    let r = report(&[junk]);
    for fail_on in THRESHOLDS {
        let j = junit(&[junk], fail_on);
        assert_eq!((j.code, j.failed_inputs, j.skipped_inputs), (2, 1, 0), "--fail-on {fail_on}");
        assert_eq!(j, expected(&r, fail_on), "--fail-on {fail_on}");
    }
}

/// The renderer itself, on a report where no input was readable: each input is a failing case.
#[test]
fn no_readable_input_fails_each_input() {
    use cmtrace_analysis::model::{Input, Report};
    let input = |path: &str| Input {
        path: path.into(),
        host: "PC1".into(),
        log_kind: cmtrace_parsers::LogKind::Other,
        format: cmtrace_parsers::LineFormat::Unknown,
        encoding: cmtrace_parsers::TextEncoding::Utf8,
        lines: 0,
        unparsed_lines: 3,
        error: Some("not a ConfigMgr log".into()),
        bytes: 10,
        first_time: None,
        last_time: None,
        warning: None,
    };
    let report = Report {
        schema_version: 2,
        inputs: vec![input("a.log"), input("b\x1b.log")],
        devices: vec![],
        findings: vec![],
        timeline: Default::default(),
        filtered: None,
    };
    let mut out = Vec::new();
    cmtrace_rs::render::render_junit(&report, None, &mut out).unwrap();
    let xml = String::from_utf8(out).unwrap();
    assert!(xml.contains("<testsuites name=\"cmtrace-rs analyze\" tests=\"2\" failures=\"2\""), "{xml}");
    assert!(xml.contains("<testsuite name=\"inputs\""), "{xml}");
    assert_eq!(xml.matches("<failure message=\"not read: not a ConfigMgr log\"").count(), 2, "{xml}");
}
