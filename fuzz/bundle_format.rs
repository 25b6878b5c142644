//! The fuzzer's bundle format, shared by the `bundle` fuzz target and the test that replays its
//! regressions (`tests/it/fuzz_bundles.rs`): bytes become a folder of collected logs. Each file is
//! `[host: u8][name: u8][length: u16 LE][body]`; the host picks a folder layout (client, site
//! server, odd names), the name one of the flow's log names (or a zip, a rotated file, a non-log).

use std::path::{Path, PathBuf};

const HOSTS: &[&str] = &[
    "CLIENT01/Windows/CCM/Logs",
    "CLIENT01/Windows/ccmsetup/Logs",
    "MP01/SMS_CCM/Logs",
    "CPSRV01/Program Files/Microsoft Configuration Manager/Logs",
    "SITE01/Logs",
    "CLIENT02/Windows/CCM/Logs",
    "Logs",
    "host\u{1b}[2J\u{7}/Logs",
    "",
];

const NAMES: &[&str] = &[
    "ccmsetup.log",
    "ClientIDManagerStartup.log",
    "ADALOperationProvider.log",
    "CcmMessaging.log",
    "LocationServices.log",
    "CCM_STS.log",
    "CMGService.log",
    "CMG-contosocmg-ProxyService_IN_0-CMGService.log",
    "SMS_CLOUD_PROXYCONNECTOR.log",
    "MP_RegistrationManager.log",
    "ccmsetup.lo_",
    "ccmsetup-20200204-151029.log",
    "execmgr.log",
    "bundle.zip",
    "notes.txt",
    "name\u{1b}]0;title\u{7}.log",
];

/// Most files one input makes.
const MAX_FILES: usize = 16;

/// Writes the bundle `data` describes under `root` (emptied first); returns the files written.
pub fn write_bundle(data: &[u8], root: &Path) -> Vec<PathBuf> {
    let _ = std::fs::remove_dir_all(root);
    std::fs::create_dir_all(root).expect("bundle folder");
    let mut files = Vec::new();
    let mut rest = data;
    while files.len() < MAX_FILES && rest.len() >= 4 {
        let host = HOSTS[rest[0] as usize % HOSTS.len()];
        let name = NAMES[rest[1] as usize % NAMES.len()];
        let len = (u16::from_le_bytes([rest[2], rest[3]]) as usize).min(rest.len() - 4);
        let body = &rest[4..4 + len];
        rest = &rest[4 + len..];
        let dir = root.join(host);
        std::fs::create_dir_all(&dir).expect("host folder");
        let mut path = dir.join(name);
        let mut n = 1;
        while path.exists() {
            n += 1;
            path = dir.join(format!("{n}-{name}"));
        }
        std::fs::write(&path, body).expect("write");
        files.push(path);
    }
    files
}

/// Runs `analyze` on `root` as the command does, renders every format, and checks what must hold on
/// any input: every log file written is a row of `inputs[]`; the JSON document parses; text, Markdown,
/// JUnit and HTML carry no control character but line breaks and tabs. Panics otherwise.
pub fn check_analyze(root: &Path, files: &[PathBuf]) {
    use cmtrace_rs::render::{self, RenderOptions};
    let analyzed = cmtrace_rs::commands::analyze::build_report(
        &[root.to_path_buf()],
        &[],
        cmtrace_parsers::input::Limits { max_entry_bytes: 1 << 20, max_archive_bytes: 4 << 20 },
        cmtrace_rs::commands::collect::ReadFor::EveryId,
        |_| {},
        || {},
    )
    .expect("no --host override, no error");
    let report = analyzed.report;
    let mut json = Vec::new();
    render::json::write_report(&report, &mut json).expect("in memory");
    let doc: serde_json::Value = serde_json::from_slice(&json).expect("the JSON document parses");
    let paths: Vec<&str> =
        doc["inputs"].as_array().expect("inputs[]").iter().filter_map(|i| i["path"].as_str()).collect();
    for f in files {
        let name = f.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_ascii_lowercase();
        if name.ends_with(".log") || name.ends_with(".lo_") {
            let p = f.to_string_lossy().replace('\\', "/");
            assert!(paths.contains(&p.as_str()), "{p} is not in inputs[]: {paths:?}");
        }
    }
    let mut ndjson = Vec::new();
    render::json::write_ndjson(&report, &mut ndjson).expect("in memory");
    for line in ndjson.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        serde_json::from_slice::<serde_json::Value>(line).expect("every NDJSON line parses");
    }
    let notes = |text: &str| -> Vec<String> {
        cmtrace_analysis::codes::decode_message(text).iter().map(cmtrace_analysis::codes::describe).collect()
    };
    let opts = RenderOptions {
        color: false,
        width: Some(100),
        show_timeline: true,
        code_notes: &notes,
        devices: None,
        max_chars: 60_000,
    };
    let mut human: Vec<(&str, Vec<u8>)> = Vec::new();
    let mut text = Vec::new();
    render::render_text(&report, &opts, &mut text).expect("in memory");
    human.push(("text", text));
    let mut markdown = Vec::new();
    render::render_markdown(&report, &opts, &mut markdown).expect("in memory");
    human.push(("markdown", markdown));
    let mut junit = Vec::new();
    render::render_junit(
        &report,
        cmtrace_rs::commands::fail_threshold(cmtrace_rs::cli::FailOn::Error),
        &mut junit,
    )
    .expect("in memory");
    human.push(("junit", junit));
    let mut html = Vec::new();
    render::render_html(
        &report,
        &opts,
        cmtrace_parsers::input::Limits { max_entry_bytes: 1 << 20, max_archive_bytes: 4 << 20 },
        &mut html,
    )
    .expect("in memory");
    human.push(("html", html));
    for (format, bytes) in &human {
        let text = String::from_utf8_lossy(bytes);
        if let Some(c) = text.chars().find(|&c| cmtrace_rs::sanitize::is_hidden_control(c)) {
            panic!("{format}: raw control character {c:?}");
        }
    }
}
