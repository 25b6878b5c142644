//! End to end: the setup-log line format (site-role setup logs, a byte order mark on every line) and a
//! renamed ccmsetup log, over the parser fixtures (fixtures/parse/formats, made by generate.py).

use crate::common::cmtrace;
use serde_json::Value;

const SETUP_LOG: &str =
    "fixtures/parse/formats/SITE01/Program Files/Microsoft Configuration Manager/Logs/SMSFSPSetup.log";
const RENAMED: &str = "fixtures/parse/formats/CLIENT02/ticket-4711-ccmsetup.txt";

fn run(args: &[&str]) -> (String, i32) {
    let out = cmtrace().args(args).output().unwrap();
    (String::from_utf8(out.stdout).unwrap(), out.status.code().unwrap())
}

fn ndjson(args: &[&str]) -> Vec<Value> {
    let (out, code) = run(args);
    assert_eq!(code, 0, "{args:?}");
    out.lines().map(|l| serde_json::from_str(l).expect("every line is JSON")).collect()
}

#[test]
fn parse_reads_every_setup_line_as_a_local_time_entry() {
    let rows = ndjson(&["parse", "--format", "ndjson", SETUP_LOG]);
    assert_eq!(rows.len(), 9, "{rows:?}");
    assert!(rows.iter().all(|r| r["type"] == "entry"), "no unparsed line: {rows:?}");
    for r in &rows {
        assert_eq!(r["time"], Value::Null, "no bias, so no UTC time: {r}");
        assert_eq!(r["bias_minutes"], Value::Null);
        assert_eq!(r["thread"], Value::Null);
        assert_eq!(r["source"], Value::Null);
        assert!(r["local_time"].as_str().is_some_and(|t| t.len() == 23 && t.ends_with(".000")), "{r}");
        assert!(!r["message"].as_str().unwrap().contains('\u{feff}'), "{r}");
        assert_eq!(r["log_kind"], "other");
        assert_eq!(r["host"], "SITE01");
    }
    let at = |line: u64| rows.iter().find(|r| r["line"] == line).unwrap_or_else(|| panic!("line {line}"));
    let r = at(2);
    assert_eq!(r["message"], "SMSFSP Setup Started....");
    assert_eq!(r["component"], "SMSFSP");
    assert_eq!(r["local_time"], "2022-12-09T11:25:00.000");
    assert_eq!(r["severity"], "info");
    let r = at(3);
    assert_eq!(r["component"], Value::Null, "Parameters: is no component");
    assert_eq!(
        r["message"],
        "Parameters: C:\\Program Files\\Microsoft Configuration Manager\\bin\\x64\\rolesetup.exe /install /siteserver:SITE01 SMSFSP 0"
    );
    assert_eq!(at(5)["message"], "        ======== Installing Pre Reqs for Role SMSFSP ========");
    // A two-line message: the second line has no prefix; the next entry's line number counts it.
    let r = at(7);
    assert_eq!(r["message"], "Failed to create the performance counters: 0x80070005\nAccess is denied.");
    assert_eq!(r["severity"], "error");
    assert_eq!(at(9)["message"], "Installation was successful.");
    let r = at(10);
    assert_eq!(r["local_time"], "2022-12-10T00:00:05.000", "a two-digit day");
    assert_eq!(r["message"], "~RoleSetup().");
}

#[test]
fn parse_csv_leaves_time_empty_and_fills_local_time() {
    let (out, code) = run(&["parse", "--format", "csv", SETUP_LOG]);
    assert_eq!(code, 0);
    let mut rdr = csv::Reader::from_reader(out.as_bytes());
    let h = rdr.headers().unwrap().clone();
    let col = |name: &str| h.iter().position(|c| c == name).unwrap();
    let recs: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!(recs.len(), 9);
    for r in &recs {
        assert_eq!(&r[col("type")], "entry");
        assert_eq!(&r[col("time")], "");
        assert!(r[col("local_time")].starts_with("2022-12-"));
    }
}

#[test]
fn analyze_lists_the_setup_log_and_kinds_the_renamed_ccmsetup_log() {
    let (out, code) = run(&["analyze", "--format", "json", "fixtures/parse/formats"]);
    assert_ne!(code, 2, "{out}");
    let doc: Value = serde_json::from_str(&out).expect("one JSON document");
    let inputs = doc["inputs"].as_array().unwrap();
    let input = |end: &str| {
        inputs
            .iter()
            .find(|i| i["path"].as_str().unwrap().ends_with(end))
            .unwrap_or_else(|| panic!("no input {end}: {inputs:?}"))
    };
    let setup = input("SMSFSPSetup.log");
    assert_eq!(setup["format"], "setup");
    assert_eq!(setup["encoding"], "utf-8");
    assert_eq!(setup["lines"], 9);
    assert_eq!(setup["unparsed_lines"], 0);
    assert_eq!(setup["error"], Value::Null);
    assert_eq!(setup["log_kind"], "other");
    let renamed = input("ticket-4711-ccmsetup.txt");
    assert_eq!(renamed["log_kind"], "ccmsetup");
    assert_eq!(renamed["format"], "cmtrace");
    assert_eq!(renamed["host"], "CLIENT02");
    assert_eq!(renamed["lines"], 3);
    assert_eq!(renamed["unparsed_lines"], 0);
    assert_eq!(renamed["error"], Value::Null);
}

#[test]
fn the_renamed_log_given_alone_is_kinded_by_its_components() {
    let rows = ndjson(&["parse", "--format", "ndjson", RENAMED]);
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r["type"] == "entry" && r["log_kind"] == "ccmsetup"), "{rows:?}");
    assert_eq!(rows[2]["message"], "CcmSetup is exiting with return code 0");
    assert_eq!(rows[2]["time"], "2021-03-02T09:05:00.000Z");
}
