//! Inputs the zip fuzzer (parsers/fuzz, target `zip`) once broke, and every other fuzz regression input:
//! each read as a zip archive, every entry listed loaded, with the fuzzer's small limits. Nothing may panic.

use cmtrace_parsers::input::{discover_zip_bytes, load, Limits};

#[test]
fn fuzz_regressions_read_as_zips() {
    let limits = Limits { max_entry_bytes: 1 << 20, max_archive_bytes: 4 << 20 };
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("regressions folder") {
        let path = entry.unwrap().path();
        let d = discover_zip_bytes("fuzz.zip", std::fs::read(&path).unwrap(), limits);
        let mut total = 0;
        for f in &d.files {
            if let Ok(l) = load(f) {
                total += l.text().len() as u64;
            }
        }
        assert!(total <= 3 * limits.max_archive_bytes, "{}", path.display());
        n += 1;
    }
    assert!(n >= 1);
}
