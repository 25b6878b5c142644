//! Inputs the fuzzer (parsers/fuzz) once broke: every one must parse without panicking, in every format,
//! with chunked parsing giving exactly the records of whole-text parsing.

use cmtrace_parsers::decode::decode;
use cmtrace_parsers::entry::{LineFormat, Record};
use cmtrace_parsers::format::{sniff_format, Records};
use cmtrace_parsers::scan::chunks;

#[test]
fn fuzz_regressions_parse_the_same_whole_and_chunked() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("regressions folder") {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        let (text, _) = decode(&bytes);
        for format in [sniff_format(&text), LineFormat::Cmtrace, LineFormat::Sms, LineFormat::Unknown] {
            let whole: Vec<Record<'_>> = Records::new(&text, format, 1).collect();
            for target in [64, 100, 4096] {
                let pieced: Vec<Record<'_>> = chunks(&text, format, target)
                    .iter()
                    .flat_map(|c| Records::new(c.text, format, c.first_line))
                    .collect();
                assert_eq!(whole, pieced, "format {format:?}, chunk target {target}");
            }
        }
        n += 1;
    }
    assert!(n >= 1);
}
