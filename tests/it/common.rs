//! What the end-to-end tests share: the one way to run the `cmtrace-rs` binary this build made, and the
//! fixture sets several files read.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The path of the `cmtrace-rs` binary under test (for a shell or `script` command line).
pub const BIN: &str = env!("CARGO_BIN_EXE_cmtrace-rs");

/// A command that runs the `cmtrace-rs` binary under test, with no standard input (the binary reads none)
/// and the test's environment: each test sets or removes `NO_COLOR`, `COLUMNS` and the like as it needs.
pub fn cmtrace() -> Command {
    let mut c = Command::new(BIN);
    c.stdin(Stdio::null());
    c
}

/// `cmd`'s output, or a panic once it has run for `limit` (it is killed then): a command that would block
/// fails its test instead of hanging the run.
pub fn output_within(cmd: &mut Command, limit: Duration) -> Output {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("the command starts");
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            pipe.read_to_end(&mut bytes).expect("a pipe of the child");
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("stdout piped")));
    let stderr = drain(Box::new(child.stderr.take().expect("stderr piped")));
    let status =
        wait_within(&mut child, limit).unwrap_or_else(|| panic!("{cmd:?} still ran after {limit:?}"));
    Output {
        status,
        stdout: stdout.join().expect("stdout read"),
        stderr: stderr.join().expect("stderr read"),
    }
}

/// The exit status of `child`, or `None` once it has run for `limit` (it is killed then).
pub fn wait_within(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("the child's status") {
            return Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The demo support case (four hosts, two devices).
pub const DEMO: &str = "fixtures/demo/case-1234";

/// The demo case as an input list.
pub fn demo() -> Vec<PathBuf> {
    vec![Path::new(env!("CARGO_MANIFEST_DIR")).join(DEMO)]
}

/// Every bundle of `fixtures/mixed` at once (those with an `expected.json`): a fleet of more than 20 devices
/// with client logs, in name order.
pub fn mixed_fleet() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mixed");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("fixtures/mixed exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("expected.json").is_file())
        .collect();
    v.sort();
    assert!(v.len() >= 20, "fixtures/mixed holds {} bundles", v.len());
    v
}

/// The text of a log file as physical lines (BOM stripped; UTF-16 decoded; NULs dropped).
pub fn file_lines(path: &Path) -> Vec<String> {
    let bytes = std::fs::read(path).unwrap_or_default();
    let text = if bytes.starts_with(&[0xFF, 0xFE]) {
        let units: Vec<u16> = bytes[2..].chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
        String::from_utf16_lossy(&units)
    } else if bytes.starts_with(&[0xFE, 0xFF]) {
        let units: Vec<u16> = bytes[2..].chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
        String::from_utf16_lossy(&units)
    } else {
        let b = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).unwrap_or(&bytes);
        String::from_utf8_lossy(b).into_owned()
    };
    text.replace('\0', "").split('\n').map(|l| l.trim_end_matches('\r').to_string()).collect()
}

/// An evidence path as the report gives it, found as is, below `root` or below the repository.
pub fn resolve(evidence_path: &str, root: &Path) -> PathBuf {
    let p = PathBuf::from(evidence_path);
    if p.is_absolute() || p.exists() {
        return p;
    }
    let joined = root.join(&p);
    if joined.exists() {
        return joined;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

/// Whether an evidence item points at a physical line whose text holds the evidence's first line.
pub fn evidence_is_real(ev: &Value, root: &Path) -> bool {
    let (Some(path), Some(line), Some(text)) =
        (ev["path"].as_str(), ev["line"].as_u64(), ev["text"].as_str())
    else {
        return false;
    };
    let first = text.lines().next().unwrap_or("").trim();
    let lines = file_lines(&resolve(path, root));
    line >= 1 && (line as usize) <= lines.len() && lines[line as usize - 1].contains(first)
}
