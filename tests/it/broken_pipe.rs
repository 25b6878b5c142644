//! A stdout closed by its reader (`| head`) is a quiet exit: status 0 and nothing on stderr, in every
//! command and format. The reader takes one byte then closes the pipe; the outputs are far larger than
//! a pipe's buffer, so the command is still writing when it is closed.

use std::io::Read;
use std::process::Stdio;

use crate::common::cmtrace;

const BIG: &[&str] = &["fixtures/bundles", "fixtures/rules", "fixtures/demo"];

fn closed_early(args: &[&str]) {
    let mut child = cmtrace()
        .args(args)
        .env("COLUMNS", "120")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut byte = [0u8; 1];
    let _ = stdout.read(&mut byte);
    drop(stdout);
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{args:?}: stderr {stderr}");
    assert_eq!(stderr, "", "{args:?}");
}

#[test]
fn analyze_every_format() {
    for format in ["text", "json", "ndjson", "markdown", "html", "junit"] {
        let mut args = vec!["analyze"];
        args.extend(BIG);
        // The default --fail-on error: these bundles hold errors, so a status 0 is the closed pipe's.
        args.extend(["--timeline", "--format", format]);
        if format == "markdown" {
            // Markdown is cut to 60,000 characters by default, which fits in a pipe's buffer: written whole
            // before the reader closes, it exited 1 (the findings) now and then. Uncut, it is megabytes.
            args.extend(["--max-chars", "0"]);
        }
        closed_early(&args);
    }
}

#[test]
fn parse_trace_rules_error() {
    for format in ["ndjson", "csv"] {
        let mut args = vec!["parse"];
        args.extend(BIG);
        args.extend(["--format", format]);
        closed_early(&args);
    }
    for format in ["text", "json"] {
        // The CMG's host part, on every line of every bundle's flow.
        let mut args = vec!["trace", "contosocmg.cloudapp.net"];
        args.extend(BIG);
        args.extend(["--format", format]);
        closed_early(&args);
    }
    for format in ["text", "json"] {
        closed_early(&["rules", "--format", format]);
        let mut args = vec!["error", "--format", format];
        let codes: Vec<String> = (0..3000).map(|i| format!("0x8007{:04X}", i % 64)).collect();
        args.extend(codes.iter().map(String::as_str));
        closed_early(&args);
    }
}
