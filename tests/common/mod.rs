//! Fixture sets shared by the end-to-end tests (`mod common;` in each test file that uses them).

use std::path::{Path, PathBuf};

/// The demo support case (four hosts, two devices).
pub const DEMO: &str = "fixtures/demo/case-1234";

/// The demo case as an input list.
#[allow(dead_code)] // not every test file uses every fixture set
pub fn demo() -> Vec<PathBuf> {
    vec![Path::new(env!("CARGO_MANIFEST_DIR")).join(DEMO)]
}

/// Every bundle of `fixtures/mixed` at once (those with an `expected.json`): a fleet of more than 20 devices
/// with client logs, in name order.
#[allow(dead_code)]
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
