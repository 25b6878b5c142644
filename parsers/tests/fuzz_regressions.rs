//! Inputs the fuzzer (parsers/fuzz) once broke: every one must parse without panicking, in every format,
//! with chunked parsing giving exactly the records of whole-text parsing, and `keep_only` exactly the
//! records a filter on the parsed entries keeps.

use cmtrace_parsers::decode::decode;
use cmtrace_parsers::format::{sniff_format, Records};
use cmtrace_parsers::scan::chunks;
use cmtrace_parsers::{LineFormat, Record};

#[test]
fn fuzz_regressions_parse_the_same_whole_and_chunked() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("regressions folder") {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        let (text, _) = decode(&bytes);
        for format in [sniff_format(&text), LineFormat::Cmtrace, LineFormat::Sms, LineFormat::Unknown] {
            let whole: Vec<Record<'_>> = Records::new(&text, format, 1).collect();
            // Passing over entries by their message as written: the records kept are exactly those a
            // filter on the entries' messages keeps (a test on a letter sees through `\r\n` and `~~`).
            let keep = |raw: &str| raw.contains('e');
            let mut filtered = Records::new(&text, format, 1).keep_only(&keep);
            let kept: Vec<Record<'_>> = filtered.by_ref().collect();
            let expected: Vec<&Record<'_>> = whole
                .iter()
                .filter(|r| match r {
                    Record::Entry(e) => e.message.contains('e'),
                    Record::Unparsed { .. } => true,
                })
                .collect();
            assert_eq!(kept.iter().collect::<Vec<_>>(), expected, "format {format:?}, keep_only");
            let entries = whole.iter().filter(|r| matches!(r, Record::Entry(_))).count() as u64;
            assert_eq!(
                kept.iter().filter(|r| matches!(r, Record::Entry(_))).count() as u64 + filtered.skipped(),
                entries
            );
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
