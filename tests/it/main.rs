//! The end-to-end tests: one test binary (`cargo test --test it`), one module a concern, each running the
//! `cmtrace-rs` binary through `common::cmtrace`. A new file `tests/it/<name>.rs` is a `mod <name>;` below;
//! its tests are named `<name>::...` (`cargo test --test it <name>::` runs them alone).

mod common;

mod analyze;
mod broken_pipe;
mod bundles;
mod docs;
mod error;
mod error_command;
mod filters_and_inputs;
mod fleet_view;
mod fuzz_bundles;
mod hostile;
mod html;
mod html_browser;
mod junit_fail_on;
mod man;
mod mixed_bundles;
mod parse;
mod real_logs;
mod render;
mod schema;
mod setup_format;
mod snapshots;
mod terminal;
mod watch;

/// Every `.rs` file of tests/it/ is a module of this binary (a file without its `mod` line would never be
/// compiled, its tests never run), and tests/ holds no other test file (cargo would build it as a test
/// binary of its own, linking every dependency again).
#[test]
fn every_test_file_is_a_module_of_this_binary() {
    let tests = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let main = std::fs::read_to_string(tests.join("it/main.rs")).expect("tests/it/main.rs");
    let mut problems = Vec::new();
    for entry in std::fs::read_dir(tests.join("it")).expect("tests/it") {
        let path = entry.expect("a folder entry").path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".rs")) else {
            continue;
        };
        if name != "main" && !main.lines().any(|l| l == format!("mod {name};")) {
            problems.push(format!("tests/it/{name}.rs has no `mod {name};` in tests/it/main.rs"));
        }
    }
    for entry in std::fs::read_dir(&tests).expect("tests") {
        let path = entry.expect("a folder entry").path();
        let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
        if name != "it" {
            problems.push(format!("tests/{name}: move it into tests/it/ as a module of this binary"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
