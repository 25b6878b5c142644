//! End-to-end tests of `cmtrace-rs parse` over the parser fixtures (fixtures/parse, made by generate.py).

use crate::common::cmtrace;
use serde_json::Value;

fn parse(args: &[&str]) -> (Vec<Value>, String, i32) {
    let out = cmtrace().arg("parse").args(args).output().unwrap();
    let rows = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("every line is JSON"))
        .collect();
    (rows, String::from_utf8_lossy(&out.stderr).into_owned(), out.status.code().unwrap())
}

fn find<'a>(rows: &'a [Value], file: &str, line: u64) -> &'a Value {
    rows.iter()
        .find(|r| r["path"].as_str().unwrap().ends_with(file) && r["line"] == line)
        .unwrap_or_else(|| panic!("no row for {file}:{line}"))
}

#[test]
fn formats_bundle_fields() {
    let (rows, _, code) = parse(&["fixtures/parse/formats"]);
    assert_eq!(code, 0);
    // 12 CMTrace and server-format entries, 9 of the setup log, 3 of the renamed ccmsetup log.
    assert_eq!(rows.len(), 24);
    assert!(rows.iter().all(|r| r["type"] == "entry"));

    // UTF-8 BOM, rotated `.lo_` read before `.log`, Pacific bias.
    let paths: Vec<&str> = rows.iter().map(|r| r["path"].as_str().unwrap()).collect();
    let lo = paths.iter().position(|p| p.ends_with("ccmsetup.lo_")).unwrap();
    let log = paths.iter().position(|p| p.ends_with("ccmsetup.log")).unwrap();
    assert!(lo < log, "rotated .lo_ comes first");
    let r = find(&rows, "ccmsetup.lo_", 2);
    assert_eq!(r["host"], "CLIENT01");
    assert_eq!(r["log_kind"], "ccmsetup");
    assert_eq!(r["time"], "2020-06-24T15:31:39.001Z");
    assert_eq!(r["local_time"], "2020-06-24T07:31:39.001");
    assert_eq!(r["bias_minutes"], 480);
    assert_eq!(r["component"], "ccmsetup");
    assert_eq!(r["thread"], 3396);
    assert_eq!(r["severity"], "info");
    assert_eq!(r["source"], "ccmsetup.cpp:100");
    assert_eq!(r["message"], "Getting AAD info from CMG 'CMG.CLOUDAPP.NET'");

    // Multi-line CMTrace message: CRLF inside becomes \n; the next record's line number counts them.
    let r = find(&rows, "ccmsetup.log", 2);
    assert_eq!(
        r["message"],
        "Received message '<SiteInfoReply SchemaVersion=\"1.00\">\n  <Site SiteCode=\"MEM\"/>\n</SiteInfoReply>'"
    );
    assert_eq!(find(&rows, "ccmsetup.log", 5)["message"], "CcmSetup is exiting with return code 0");

    // UTF-16LE with BOM, non-ASCII text, type 2 = warning.
    let r = find(&rows, "ClientIDManagerStartup.log", 2);
    assert_eq!(r["message"], "Warnung: Zertifikat für Gerät überprüft");
    assert_eq!(r["severity"], "warning");
    assert_eq!(r["source"], Value::Null);
    // UTF-16BE, negative bias (-60: UTC = local - 1 h), unpadded date.
    let r = find(&rows, "CcmMessaging.log", 1);
    assert_eq!(r["time"], "2020-06-24T15:29:00.000Z");
    assert_eq!(r["bias_minutes"], -60);

    // Server format: the seed document's CMGService line, `~~` as a line break, severity inferred.
    let r = find(&rows, "CMG-contosocmg-ProxyService_IN_0-CMGService.log", 1);
    assert_eq!(r["log_kind"], "cmg_service");
    assert_eq!(r["host"], "SITE01");
    assert_eq!(r["time"], "2020-06-24T15:31:46.376Z");
    assert_eq!(r["thread"], 4992);
    assert_eq!(r["component"], "CMGService");
    assert!(r["message"].as_str().unwrap().ends_with("AverageElapsedTime: 218 ms"));
    let r = find(&rows, "CMG-contosocmg-ProxyService_IN_0-CMGService.log", 2);
    assert_eq!(r["severity"], "error");
    assert_eq!(
        r["message"],
        "ERROR: Failed to build Http connection f1e2\nException: System.Net.WebException"
    );

    // Windows-1252 connector log; a message whose first lines come before the trailer line.
    let r = find(&rows, "SMS_CLOUD_PROXYCONNECTOR.log", 1);
    assert_eq!(r["log_kind"], "cloud_proxy_connector");
    assert_eq!(
        r["message"],
        "Verbindung für Büro geprüft\nfirst line of a two-line message\nand its trailer line"
    );
    assert_eq!(r["time"], "2020-06-24T15:31:40.000Z");
    assert_eq!(find(&rows, "SMS_CLOUD_PROXYCONNECTOR.log", 3)["time"], "2020-06-24T15:31:46.390Z");
}

#[test]
fn zip_bundle_reads_in_place_like_the_folder() {
    let (zipped, _, code) = parse(&["fixtures/parse/bundle.zip"]);
    assert_eq!(code, 0);
    let (plain, _, _) = parse(&["fixtures/parse/formats"]);
    // A zip's entries are read by name: the renamed `.txt` log is not in the bundle (generate.py).
    let plain: Vec<Value> =
        plain.into_iter().filter(|r| !r["path"].as_str().unwrap().ends_with(".txt")).collect();
    assert_eq!(zipped.len(), plain.len());
    for (z, p) in zipped.iter().zip(&plain) {
        assert_eq!(z["message"], p["message"]);
        assert_eq!(z["host"], p["host"]);
        assert_eq!(z["time"], p["time"]);
    }
    assert!(zipped[0]["path"].as_str().unwrap().starts_with("fixtures/parse/bundle.zip/"));
}

#[test]
fn bad_inputs_never_stop_the_run() {
    let (rows, stderr, code) = parse(&["fixtures/parse/bad"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("broken.zip: not a readable zip"), "{stderr}");
    let r = find(&rows, "dates.log", 1);
    assert_eq!(r["time"], Value::Null, "02-30-2020 is no date");
    assert_eq!(r["local_time"], Value::Null);
    let r = find(&rows, "dates.log", 3);
    assert_eq!(r["bias_minutes"], Value::Null, "a bias beyond 840 minutes is rejected");
    assert_eq!(r["time"], Value::Null);
    assert_eq!(r["local_time"], "2020-01-02T01:02:03.004");
    let r = find(&rows, "dates.log", 4);
    assert_eq!(r["type"], "unparsed");
    assert_eq!(r["text"], "<![LOG[cut off record with no end");
    assert_eq!(find(&rows, "dates.log", 5)["message"], "intact");
    assert_eq!(find(&rows, "nul.log", 1)["message"], "before\u{0}after");
    assert_eq!(find(&rows, "truncated-utf16.log", 1)["message"], "intact");
    let binary = rows.iter().filter(|r| r["path"].as_str().unwrap().ends_with("binary.log")).count();
    assert!(binary > 5);
    assert!(rows
        .iter()
        .filter(|r| r["path"].as_str().unwrap().ends_with("binary.log"))
        .all(|r| r["type"] == "unparsed"));
}

#[test]
fn huge_line_without_terminator_and_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("HOST9").join("Logs");
    std::fs::create_dir_all(&logs).unwrap();
    let mut big = b"<![LOG[".to_vec();
    big.extend(std::iter::repeat_n(b'x', 20 << 20));
    std::fs::write(logs.join("big.log"), &big).unwrap();
    std::fs::write(
        logs.join("ok.log"),
        "<![LOG[fine]LOG]!><time=\"01:02:03.004+000\" date=\"01-02-2020\" component=\"c\" type=\"1\" thread=\"1\">",
    )
    .unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink("/nonexistent/gone.log", logs.join("gone.log")).unwrap();
    let (rows, stderr, code) = parse(&[dir.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(rows.iter().any(|r| r["message"] == "fine" && r["host"] == "HOST9"));
    let big_rows: Vec<&Value> =
        rows.iter().filter(|r| r["path"].as_str().unwrap().ends_with("big.log")).collect();
    assert_eq!(big_rows.len(), 1);
    assert_eq!(big_rows[0]["type"], "unparsed");
    assert_eq!(big_rows[0]["text"].as_str().unwrap().len(), (20 << 20) + 7);
    #[cfg(unix)]
    assert!(stderr.contains("gone.log"), "{stderr}");
}

#[test]
fn csv_has_header_and_quoted_multiline_messages() {
    let out = cmtrace().args(["parse", "--format", "csv", "fixtures/parse/formats"]).output().unwrap();
    assert!(out.status.success());
    let mut rdr = csv::Reader::from_reader(&out.stdout[..]);
    let headers = rdr.headers().unwrap().clone();
    assert_eq!(headers.get(0), Some("type"));
    assert_eq!(headers.get(12), Some("message"));
    let recs: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!(recs.len(), 24);
    assert!(recs
        .iter()
        .any(|r| r.get(12).unwrap().contains("<SiteInfoReply") && r.get(12).unwrap().contains('\n')));
}

#[test]
fn no_readable_input_exits_2() {
    let (_, stderr, code) = parse(&["fixtures/parse/does-not-exist"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("does-not-exist"));
}
