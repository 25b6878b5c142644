//! An archive's central directory is parsed once, however many of its entries are listed and loaded (it
//! once was parsed again for every entry: 8,000 entries took 92 s). Alone in its test binary: the parse
//! counter is process-wide.

mod common;

use cmtrace_parsers::input::{discover, Limits};
use cmtrace_parsers::scan::{scan_ordered, ScanOptions, Scanned};
use cmtrace_parsers::zip_parses;
use common::{cm, zip_of, Scratch};

#[test]
fn five_thousand_entries_parse_the_central_directory_once() {
    let s = Scratch::new("many");
    let names: Vec<String> = (0..5000).map(|i| format!("HOST{}/Logs/f{i}.log", i % 7)).collect();
    let text = cm(1);
    let entries: Vec<(&str, &[u8], bool)> =
        names.iter().map(|n| (n.as_str(), text.as_bytes(), i_deflate(n))).collect();
    let p = s.file("many.zip", &zip_of(&entries));
    let before = zip_parses();
    let d = discover(&[p], &[], Limits::default());
    assert_eq!(d.files.len(), 5000);
    assert!(d.problems.is_empty(), "{:?}", d.problems);
    let mut loaded = 0;
    scan_ordered(
        &d.files,
        ScanOptions::default(),
        |_, f, c| (f.text().len(), c.text.len()),
        |m| {
            if let Scanned::Start { file, .. } = m {
                assert_eq!(file.unwrap().text(), text);
                loaded += 1;
            }
        },
    );
    assert_eq!(loaded, 5000);
    assert_eq!(zip_parses() - before, 1);
}

fn i_deflate(name: &str) -> bool {
    name.len() & 1 == 0
}
