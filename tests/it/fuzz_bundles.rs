//! Inputs of the `bundle` fuzz target (fuzz/) kept as regressions: each becomes a folder of logs that
//! `analyze` must read, analyse and render in every format with the fuzz target's checks (every log in
//! `inputs[]`, JSON and NDJSON that parse, no raw control character in text, Markdown, JUnit or HTML).

#[path = "../../fuzz/bundle_format.rs"]
mod bundle_format;

#[test]
fn fuzz_bundle_regressions_analyse_cleanly() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let tmp = tempfile::tempdir().unwrap();
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("regressions folder") {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let root = tmp.path().join(format!("bundle-{n}"));
        let files = bundle_format::write_bundle(&bytes, &root);
        bundle_format::check_analyze(&root, &files);
        n += 1;
    }
    assert!(n >= 2, "the hand-made regressions are there");
}
