//! `analyze` as CI runs it: a filter that names nothing stops the command (exit 2) instead of turning
//! it green; every input problem is a row of `inputs[]`, and with no readable input the JSON document is
//! still printed; one finding per device and rule, each log line cited once; a consequence shown keeps
//! its cause in view.

use std::collections::HashSet;

use crate::common::{cmtrace, output_within, BIN};
use serde_json::Value;

const DEMO: &str = "fixtures/demo/case-1234";

fn analyze(args: &[&str]) -> (i32, String, String) {
    let out = cmtrace().arg("analyze").args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(args: &[&str]) -> (i32, Value) {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let (code, stdout, stderr) = analyze(&all);
    let doc = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout:?} {stderr}"));
    (code, doc)
}

#[test]
fn a_rule_id_that_does_not_exist_exits_2_and_lists_the_rules() {
    let (code, stdout, stderr) = analyze(&[DEMO, "--rule", "no-such-rule"]);
    assert_eq!(code, 2);
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("no-such-rule") && stderr.contains("root-ca-untrusted"), "{stderr}");
}

#[test]
fn rule_ids_are_case_insensitive() {
    let (code, doc) = json(&[DEMO, "--rule", "ROOT-CA-UNTRUSTED"]);
    assert_eq!(code, 1, "the root-ca-untrusted error is shown: exit 1");
    let rules: Vec<&str> =
        doc["findings"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap()).collect();
    assert_eq!(rules, ["root-ca-untrusted"]);
}

#[test]
fn a_device_that_does_not_exist_exits_2_and_lists_the_devices() {
    let (code, stdout, stderr) = analyze(&[DEMO, "--device", "NOPE"]);
    assert_eq!(code, 2);
    assert!(stdout.is_empty());
    assert!(stderr.contains("NOPE") && stderr.contains("LAPTOP-K9X1"), "{stderr}");
    // A device named by its host, its SMS GUID with or without the prefix, any case, is found.
    for q in
        ["laptop-k9x1", "GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139", "c66ee0fd-08e7-4b38-b282-7e6954b71139"]
    {
        let (code, doc) = json(&[DEMO, "--device", q, "--fail-on", "never"]);
        assert_eq!(code, 0, "{q}");
        assert_eq!(doc["devices"].as_array().unwrap().len(), 1, "{q}");
    }
}

#[test]
fn since_later_than_until_exits_2() {
    let (code, _, stderr) = analyze(&[DEMO, "--since", "2026-11-21", "--until", "2026-11-20"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("later than"), "{stderr}");
}

#[test]
fn with_no_readable_input_the_json_document_names_what_could_not_be_read() {
    let (code, doc) = json(&["/nonexistent/cmtrace-input", "fixtures/rules/README.md"]);
    assert_eq!(code, 2);
    let inputs = doc["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), 2, "{inputs:?}");
    for i in inputs {
        assert!(i["error"].is_string(), "{i}");
    }
    assert!(inputs.iter().any(|i| i["path"] == "/nonexistent/cmtrace-input"));
    assert!(doc["devices"].as_array().unwrap().is_empty());
}

#[test]
fn a_missing_path_beside_readable_logs_is_an_input_row_not_exit_2() {
    let (code, doc) = json(&[DEMO, "/nonexistent/cmtrace-input", "--fail-on", "never"]);
    assert_eq!(code, 0);
    let missing: Vec<&Value> = doc["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["path"] == "/nonexistent/cmtrace-input")
        .collect();
    assert_eq!(missing.len(), 1);
    assert!(missing[0]["error"].as_str().unwrap().contains("No such file"));
}

/// Every bundle: at most one finding per device and rule (per host for findings without a device), no
/// log line cited twice by one finding or phase, and no line cited both by a device's finding and by a
/// finding of the same rule without a device.
#[test]
fn findings_are_deduplicated_and_evidence_lines_unique() {
    let mut dirs = vec![DEMO.to_string()];
    for group in ["fixtures/bundles", "fixtures/rules"] {
        for d in std::fs::read_dir(group).unwrap() {
            let d = d.unwrap().path();
            if d.is_dir() {
                dirs.push(d.display().to_string());
            }
        }
    }
    let mut checked_connector = false;
    for dir in &dirs {
        let (_, doc) = json(&[dir, "--fail-on", "never"]);
        let findings = doc["findings"].as_array().unwrap();
        let mut keys = HashSet::new();
        let mut device_lines = HashSet::new();
        for f in findings {
            let host = if f["device"].is_null() { f["host"].to_string() } else { String::new() };
            assert!(keys.insert((f["rule"].to_string(), f["device"].to_string(), host)), "{dir}: {f}");
            let lines: Vec<(String, u64)> = f["evidence"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| (e["path"].as_str().unwrap().to_string(), e["line"].as_u64().unwrap()))
                .collect();
            let unique: HashSet<_> = lines.iter().collect();
            assert_eq!(unique.len(), lines.len(), "{dir}: {}", f["rule"]);
            if !f["device"].is_null() {
                device_lines.extend(lines.iter().map(|(p, l)| (f["rule"].to_string(), p.clone(), *l)));
            }
        }
        for f in findings.iter().filter(|f| f["device"].is_null()) {
            for e in f["evidence"].as_array().unwrap() {
                let k = (
                    f["rule"].to_string(),
                    e["path"].as_str().unwrap().to_string(),
                    e["line"].as_u64().unwrap(),
                );
                assert!(!device_lines.contains(&k), "{dir}: {k:?} cited for the site and for a device");
            }
        }
        for d in doc["devices"].as_array().unwrap() {
            for p in d["phases"].as_array().unwrap() {
                let lines: Vec<String> = p["evidence"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| format!("{}:{}", e["path"], e["line"]))
                    .collect();
                let unique: HashSet<_> = lines.iter().collect();
                assert_eq!(unique.len(), lines.len(), "{dir}: {}", p["id"]);
            }
        }
        if dir.ends_with("ccm-token-forbidden") {
            let forbidden = findings.iter().filter(|f| f["rule"] == "cmg-connector-forbidden").count();
            assert_eq!(forbidden, 1, "one connection-point problem, one finding");
            checked_connector = true;
        }
    }
    assert!(checked_connector && dirs.len() > 40);
}

#[test]
fn a_consequence_shown_keeps_its_cause_in_view() {
    let (code, doc) = json(&[DEMO, "--rule", "install-failed"]);
    assert_eq!(code, 1);
    let findings = doc["findings"].as_array().unwrap();
    let install = findings.iter().find(|f| f["rule"] == "install-failed").expect("install-failed shown");
    assert_eq!(install["caused_by"][0], "root-ca-untrusted");
    assert!(findings.iter().any(|f| f["rule"] == "root-ca-untrusted"), "the cause stays in view");
    assert_eq!(findings.len(), 2, "other rules are left out: {findings:?}");
}

/// `--since` after the failure: the failed device keeps its ✗ (status on all the data), and the header
/// says what the filter left out instead of a bare "OK".
#[test]
fn a_filter_hides_findings_but_not_the_device_status() {
    let (code, text, _) = analyze(&[DEMO, "--since", "2026-11-20T20:00:00Z", "--color", "never"]);
    assert_eq!(code, 0, "no finding shown at or above error");
    assert!(text.contains("✗ Device LAPTOP-K9X1"), "{text}");
    assert!(text.contains("Filtered by --since 2026-11-20T20:00:00.000Z"), "{text}");
    assert!(text.contains("2 error(s) and 0 warning(s) left out by the filters"), "{text}");
    let (_, unfiltered, _) = analyze(&[DEMO, "--color", "never", "--fail-on", "never"]);
    assert!(!unfiltered.contains("Filtered by"), "no filter, no note");
}

const CCMSETUP_LINE: &str = "<![LOG[==========[ ccmsetup started in process 1234 ]==========]LOG]!><time=\"15:31:38.100+000\" date=\"11-20-2026\" component=\"ccmsetup\" context=\"\" type=\"1\" thread=\"3396\" file=\"ccmsetup.cpp:9876\">\r\n";

fn input_rows(doc: &Value) -> Vec<(String, Option<String>)> {
    doc["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["path"].as_str().unwrap().to_string(), i["error"].as_str().map(str::to_string)))
        .collect()
}

fn json_in(dir: &std::path::Path, args: &[&str]) -> (i32, Value) {
    let out = output_within(
        cmtrace().current_dir(dir).arg("analyze").args(args).args(["--format", "json", "--fail-on", "never"]),
        std::time::Duration::from_secs(60),
    );
    let doc = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), doc)
}

/// A FIFO (in a folder and by name) and a character device by name: nothing blocks, each is a row of
/// `inputs[]` saying why it was passed over, and the logs beside them are read.
#[test]
fn special_files_are_named_in_inputs_and_never_block() {
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path().join("CLIENT01").join("Logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(logs.join("ccmsetup.log"), CCMSETUP_LINE).unwrap();
    let fifo = logs.join("CcmMessaging.log");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let fifo = fifo.to_str().unwrap().to_string();
    let (code, doc) = json_in(tmp.path(), &["CLIENT01", &fifo, "/dev/zero"]);
    assert_eq!(code, 0);
    let rows = input_rows(&doc);
    let error_of = |p: &str| rows.iter().find(|(path, _)| path.ends_with(p)).and_then(|(_, e)| e.clone());
    assert!(error_of("CcmMessaging.log").is_some_and(|e| e.contains("FIFO")), "{rows:?}");
    assert!(error_of("/dev/zero").is_some_and(|e| e.contains("character device")), "{rows:?}");
    assert_eq!(error_of("ccmsetup.log"), None, "{rows:?}");
}

/// Zip entries passed over are rows of `inputs[]`: one past `--max-entry-size`, one that is not a log.
#[test]
fn zip_entries_passed_over_are_named_with_their_reason() {
    use std::io::Write;
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("bundle.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("CLIENT01/Logs/ccmsetup.log", opts).unwrap();
    zip.write_all(CCMSETUP_LINE.as_bytes()).unwrap();
    zip.start_file("CLIENT01/Logs/CcmMessaging.log", opts).unwrap();
    for _ in 0..200 {
        zip.write_all(CCMSETUP_LINE.as_bytes()).unwrap();
    }
    zip.start_file("CLIENT01/notes.txt", opts).unwrap();
    zip.write_all(b"collected by hand").unwrap();
    zip.finish().unwrap();
    let (code, doc) = json_in(tmp.path(), &["bundle.zip", "--max-entry-size", "8K"]);
    assert_eq!(code, 0);
    let rows = input_rows(&doc);
    let error_of = |p: &str| rows.iter().find(|(path, _)| path.ends_with(p)).and_then(|(_, e)| e.clone());
    assert!(error_of("CcmMessaging.log").is_some_and(|e| e.contains("8 KiB limit")), "{rows:?}");
    assert!(error_of("notes.txt").is_some_and(|e| e.contains("passed over")), "{rows:?}");
    assert_eq!(error_of("ccmsetup.log"), None, "{rows:?}");
    // With the default limit the entry is read.
    let (_, doc) = json_in(tmp.path(), &["bundle.zip"]);
    let rows = input_rows(&doc);
    assert!(rows.iter().any(|(p, e)| p.ends_with("CcmMessaging.log") && e.is_none()), "{rows:?}");
}

/// `case` and `case/HOST` given together read each file once.
#[test]
fn overlapping_paths_read_each_file_once() {
    let (_, doc) = json(&[DEMO, &format!("{DEMO}/LAPTOP-K9X1"), DEMO, "--fail-on", "never"]);
    let rows = input_rows(&doc);
    let unique: HashSet<&String> = rows.iter().map(|(p, _)| p).collect();
    assert_eq!(unique.len(), rows.len(), "{rows:?}");
    let (_, once) = json(&[DEMO, "--fail-on", "never"]);
    assert_eq!(rows.len(), input_rows(&once).len());
}

/// A `--host` override whose path does not exist, or holds no input, stops the command.
#[test]
fn a_host_override_that_names_nothing_exits_2() {
    let (code, stdout, stderr) = analyze(&[DEMO, "--host", "X=/nonexistent/cmtrace"]);
    assert_eq!(code, 2);
    assert!(stdout.is_empty() && stderr.contains("--host X=/nonexistent/cmtrace"), "{stderr}");
    let (code, _, stderr) = analyze(&[DEMO, "--host", "X=fixtures/rules"]);
    assert_eq!(code, 2, "{stderr}");
    let (code, _, _) = analyze(&[DEMO, "--host", &format!("X={DEMO}/LAPTOP-K9X1"), "--fail-on", "never"]);
    assert_eq!(code, 0);
}

/// `--host NAME=PATH` names every file under PATH, in `inputs[]`, the devices and the findings; the other
/// hosts keep the names their folders give. The report is the same as without it but for the name.
#[test]
fn a_host_override_renames_the_files_under_its_path() {
    let laptop = format!("{DEMO}/LAPTOP-K9X1");
    let (code, renamed) = json(&[DEMO, "--host", &format!("RENAMED={laptop}"), "--fail-on", "never"]);
    assert_eq!(code, 0);
    let (_, plain) = json(&[DEMO, "--fail-on", "never"]);
    let hosts = |doc: &Value| -> Vec<(String, String)> {
        doc["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| (i["path"].as_str().unwrap().to_string(), i["host"].as_str().unwrap().to_string()))
            .collect()
    };
    let (renamed_hosts, plain_hosts) = (hosts(&renamed), hosts(&plain));
    assert_eq!(renamed_hosts.len(), plain_hosts.len());
    let mut under = 0;
    for ((path, host), (plain_path, plain_host)) in renamed_hosts.iter().zip(&plain_hosts) {
        assert_eq!(path, plain_path);
        if path.starts_with(&format!("{laptop}/")) {
            under += 1;
            assert_eq!((plain_host.as_str(), host.as_str()), ("LAPTOP-K9X1", "RENAMED"), "{path}");
        } else {
            assert_eq!(host, plain_host, "{path}");
        }
    }
    assert_eq!(under, 2, "{renamed_hosts:?}");
    // The failing device is now known by the name given, wherever a host name shows.
    let names = |doc: &Value| -> Vec<String> {
        let mut v = Vec::new();
        let strings = |x: &Value| -> Vec<String> {
            match x {
                Value::Array(a) => a.iter().map(|s| s.as_str().unwrap().to_string()).collect(),
                Value::String(s) => vec![s.clone()],
                _ => vec![],
            }
        };
        for d in doc["devices"].as_array().unwrap() {
            v.extend(["key", "hosts", "client_hosts"].iter().flat_map(|k| strings(&d[*k])));
        }
        for f in doc["findings"].as_array().unwrap() {
            v.extend(strings(&f["device"]).into_iter().chain(strings(&f["host"])));
            v.extend(f["evidence"].as_array().unwrap().iter().flat_map(|e| strings(&e["host"])));
        }
        v
    };
    let (renamed_names, plain_names) = (names(&renamed), names(&plain));
    assert!(plain_names.iter().any(|n| n == "LAPTOP-K9X1"), "{plain_names:?}");
    let expected: Vec<String> =
        plain_names.iter().map(|n| if n == "LAPTOP-K9X1" { "RENAMED".into() } else { n.clone() }).collect();
    assert_eq!(renamed_names, expected);
}

/// Year 9999 with a positive bias is past what RFC 3339 can write: the time is null, never `+10000-...`.
#[test]
fn a_time_past_year_9999_is_null() {
    let tmp = tempfile::tempdir().unwrap();
    let line =
        CCMSETUP_LINE.replace("15:31:38.100+000", "23:59:59.900+480").replace("11-20-2026", "12-31-9999");
    std::fs::write(tmp.path().join("ccmsetup.log"), line).unwrap();
    let out = cmtrace().current_dir(tmp.path()).args(["parse", "ccmsetup.log"]).output().unwrap();
    let row: Value = serde_json::from_slice(out.stdout.split(|&b| b == b'\n').next().unwrap()).unwrap();
    assert_eq!(row["local_time"], "9999-12-31T23:59:59.900");
    assert!(row["time"].is_null(), "{row}");
}

#[test]
fn sizes_read_with_units() {
    use cmtrace_rs::cli::parse_size;
    assert_eq!(parse_size("256M"), Ok(256 << 20));
    assert_eq!(parse_size("4GiB"), Ok(4 << 30));
    assert_eq!(parse_size("1048576"), Ok(1 << 20));
    assert!(parse_size("12Q").is_err() && parse_size("0").is_err() && parse_size("99999999999T").is_err());
}

/// `--format json` is one compact line in a pipe or a file (what CI reads and stores), and indented for a
/// person at a terminal (util-linux `script` gives the binary a pseudo-terminal); the same document.
#[test]
fn json_is_compact_in_a_pipe_and_indented_on_a_terminal() {
    let args = ["analyze", "fixtures/rules/healthy-single", "--format", "json", "--fail-on", "never"];
    let out = cmtrace().args(args).output().unwrap();
    let piped = String::from_utf8(out.stdout).unwrap();
    assert_eq!(piped.matches('\n').count(), 1, "one line: {}", &piped[..piped.len().min(200)]);
    assert!(piped.ends_with("}\n") && piped.starts_with("{\"schema_version\":"));

    assert!(
        std::process::Command::new("script").arg("--version").output().is_ok(),
        "util-linux `script` is needed to run the binary in a pseudo-terminal: install Debian's bsdutils"
    );
    let cmd = format!("'{BIN}' {}", args.join(" "));
    let out = std::process::Command::new("script").args(["-qec", &cmd, "/dev/null"]).output().unwrap();
    // The terminal turns each \n into \r\n.
    let tty = String::from_utf8(out.stdout).unwrap().replace("\r\n", "\n");
    assert!(
        tty.starts_with("{\n  \"schema_version\": 2,\n  \"inputs\": [\n"),
        "{}",
        &tty[..tty.len().min(200)]
    );
    let (a, b): (Value, Value) = (serde_json::from_str(&tty).unwrap(), serde_json::from_str(&piped).unwrap());
    assert_eq!(a, b);
}
