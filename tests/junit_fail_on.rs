//! JUnit honours `--fail-on`: the XML holds a `<failure>` exactly when `analyze` exits 1, for every
//! threshold; findings below it pass with their text in `<system-out>`; unreadable inputs are skipped
//! cases of the `inputs` suite, or failures when nothing was readable (exit 2).

use assert_cmd::Command;

struct Junit {
    failures: usize,
    skipped_inputs: usize,
    failed_inputs: usize,
    system_out: usize,
    code: i32,
}

fn junit(paths: &[&str], fail_on: &str) -> Junit {
    let out = Command::cargo_bin("cmtrace-rs")
        .unwrap()
        .arg("analyze")
        .args(paths)
        .args(["--format", "junit", "--fail-on", fail_on])
        .output()
        .unwrap();
    let xml = String::from_utf8(out.stdout).unwrap();
    let mut reader = quick_xml::Reader::from_str(&xml);
    let mut j = Junit {
        failures: 0,
        skipped_inputs: 0,
        failed_inputs: 0,
        system_out: 0,
        code: out.status.code().unwrap(),
    };
    let mut suite = String::new();
    let mut declared_failures = None;
    loop {
        match reader.read_event().expect("well-formed XML") {
            quick_xml::events::Event::Eof => break,
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                let attr = |name: &[u8]| {
                    e.try_get_attribute(name).unwrap().map(|a| String::from_utf8(a.value.to_vec()).unwrap())
                };
                match e.name().as_ref() {
                    b"testsuites" => declared_failures = attr(b"failures"),
                    b"testsuite" => suite = attr(b"name").unwrap(),
                    b"failure" if suite == "inputs" => {
                        j.failures += 1;
                        j.failed_inputs += 1
                    }
                    b"failure" => j.failures += 1,
                    b"skipped" if suite == "inputs" => j.skipped_inputs += 1,
                    b"system-out" => j.system_out += 1,
                    _ => {}
                }
            }
            _ => {}
        }
    }
    if !xml.is_empty() {
        assert_eq!(declared_failures, Some(j.failures.to_string()), "the count in <testsuites> is right");
    }
    j
}

#[test]
fn failures_exactly_when_the_exit_status_is_1() {
    for bundle in [
        "fixtures/demo/case-1234",
        "fixtures/rules/registration-not-approved",
        "fixtures/rules/pki-cert-preferred",
        "fixtures/rules/clock-skew",
        "fixtures/rules/healthy-single",
    ] {
        let mut seen = Vec::new();
        for fail_on in ["error", "warning", "info", "never"] {
            let j = junit(&[bundle], fail_on);
            assert!(j.code == 0 || j.code == 1, "{bundle} {fail_on}: {}", j.code);
            assert_eq!(
                j.failures > 0,
                j.code == 1,
                "{bundle} --fail-on {fail_on}: {} failures, exit {}",
                j.failures,
                j.code
            );
            if fail_on == "never" {
                assert_eq!(j.failures, 0);
            }
            seen.push(j.failures);
        }
        // A lower threshold never fails less.
        assert!(seen[0] <= seen[1] && seen[1] <= seen[2], "{bundle}: {seen:?}");
    }
    // The demo's findings still show, as passing cases, with --fail-on never.
    let j = junit(&["fixtures/demo/case-1234"], "never");
    assert!(j.system_out >= 3, "{}", j.system_out);
    // Warnings fail at --fail-on warning but not at error.
    let warn = junit(&["fixtures/rules/registration-not-approved"], "warning");
    let err = junit(&["fixtures/rules/registration-not-approved"], "error");
    assert!(warn.failures > err.failures);
}

#[test]
fn unreadable_inputs_are_skipped_or_failed() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.log");
    std::fs::write(&junk, b"\x00\x01\x02 not a log").unwrap();
    let junk = junk.to_str().unwrap();
    // One readable bundle and one unreadable file: the file is a skipped case.
    let j = junit(&["fixtures/rules/healthy-single", junk], "error");
    assert_eq!((j.skipped_inputs, j.failed_inputs), (1, 0));
    assert_eq!(j.failures > 0, j.code == 1);
    // Nothing readable: exit 2; if the document is printed, every unreadable input is a failure.
    let j = junit(&[junk], "never");
    assert_eq!(j.code, 2);
    assert_eq!(j.skipped_inputs, 0);
}

/// The renderer itself, on a report where no input was readable: each input is a failing case.
#[test]
fn no_readable_input_fails_each_input() {
    use cmtrace_analysis::model::{Input, Report};
    let input = |path: &str| Input {
        path: path.into(),
        host: "PC1".into(),
        log_kind: cmtrace_parsers::LogKind::Other,
        format: "unknown",
        encoding: "utf-8",
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
