//! Evidence in context: the lines around each cited log line, read again from the inputs (a file on disk
//! read in blocks with the encoding `analyze` read it with; a zip entry through the archive reader, within
//! the same limits). Anything that went away or changed since (a missing file, a line past the end, a line
//! that no longer holds the message cited) becomes a reason shown instead of the lines, never a panic.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use cmtrace_parsers::input::{discover, load, Discovery, Limits, Location, SourceFile};
use cmtrace_parsers::regular::open_regular;
use cmtrace_parsers::stream::TextBlocks;

/// Lines shown before and after a cited line.
pub const RADIUS: u32 = 2;

/// The longest line shown in an excerpt (characters); a longer one is cut with an ellipsis.
const MAX_LINE_CHARS: usize = 400;

/// Lines read around one cited line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Excerpt {
    /// `(line number, text)`, in order, the cited line among them.
    pub lines: Vec<(u32, String)>,
    /// The cited line's number.
    pub cited: u32,
    /// Set when the cited line no longer holds the message read from it (the file changed since).
    pub changed: bool,
}

/// What one cited line came to: its excerpt, or why there is none.
pub type Context = Result<Excerpt, String>;

/// The excerpts of the cited lines, by `(path, line)`.
#[derive(Default)]
pub struct Contexts {
    map: HashMap<(String, u32), Context>,
}

impl Contexts {
    pub fn get(&self, path: &str, line: u32) -> Option<&Context> {
        self.map.get(&(path.to_string(), line))
    }
}

/// One cited line: its file (the path as `analyze` named it), its number and the message read from it.
pub struct Cited<'a> {
    pub path: &'a str,
    pub line: u32,
    pub message: &'a str,
}

/// Reads the lines around every cited line, each file once.
pub fn read_contexts<'a>(cited: impl IntoIterator<Item = Cited<'a>>, limits: Limits) -> Contexts {
    let mut by_path: BTreeMap<&str, BTreeMap<u32, &str>> = BTreeMap::new();
    for c in cited {
        by_path.entry(c.path).or_default().entry(c.line).or_insert(c.message);
    }
    let mut archives = Archives { limits, listed: HashMap::new() };
    let mut contexts = Contexts::default();
    for (path, lines) in by_path {
        let wanted: BTreeSet<u32> =
            lines.keys().flat_map(|&l| l.saturating_sub(RADIUS).max(1)..=l.saturating_add(RADIUS)).collect();
        let read = read_lines(path, &wanted, &mut archives);
        for (line, message) in lines {
            let context = read.as_ref().map_err(Clone::clone).and_then(|text| excerpt(text, line, message));
            contexts.map.insert((path.to_string(), line), context);
        }
    }
    contexts
}

/// The excerpt around `line` from the lines read, or why there is none.
fn excerpt(text: &BTreeMap<u32, String>, line: u32, message: &str) -> Context {
    let Some(cited) = text.get(&line) else {
        return Err("the file has fewer lines now than when it was read: it changed since".into());
    };
    let lines = text
        .range(line.saturating_sub(RADIUS)..=line.saturating_add(RADIUS))
        .map(|(n, t)| (*n, t.clone()))
        .collect();
    Ok(Excerpt { lines, cited: line, changed: !holds_message(cited, message) })
}

/// Whether a line as written still holds the start of the message read from it (the message's first line,
/// up to 40 characters, blanks trimmed).
fn holds_message(line: &str, message: &str) -> bool {
    let first = message.lines().next().unwrap_or("").trim().trim_start_matches('\u{feff}');
    let head: String = first.chars().take(40).collect();
    let head = head.trim_end();
    head.is_empty() || line.contains(head)
}

/// Zip archives listed so far, by the path of the archive.
struct Archives {
    limits: Limits,
    listed: HashMap<String, Discovery>,
}

impl Archives {
    /// The entry of an archive that `path` names (`bundle.zip/inner/x.log`), if an archive on disk is a
    /// prefix of it and lists it.
    fn entry(&mut self, path: &str) -> Option<SourceFile> {
        let archive = archive_prefix(path)?;
        let limits = self.limits;
        let listed = self
            .listed
            .entry(archive.to_string())
            .or_insert_with(|| discover(&[PathBuf::from(archive)], &[], limits));
        listed.files.iter().find(|f| f.path == path).cloned()
    }
}

/// The archive on disk that holds the entry `path` names: its first prefix, ending at a `/`, that names a
/// `.zip` and is a regular file (an archive inside it is read through it).
fn archive_prefix(path: &str) -> Option<&str> {
    path.match_indices('/')
        .map(|(i, _)| &path[..i])
        .find(|p| p.to_ascii_lowercase().ends_with(".zip") && Path::new(p).is_file())
}

/// The lines of `path` whose numbers are in `wanted` (with `\r` and byte order marks taken off, cut to
/// `MAX_LINE_CHARS`), or why it cannot be read.
fn read_lines(
    path: &str,
    wanted: &BTreeSet<u32>,
    archives: &mut Archives,
) -> Result<BTreeMap<u32, String>, String> {
    if Path::new(path).is_file() {
        return read_file_lines(Path::new(path), wanted);
    }
    match archives.entry(path) {
        Some(src) => {
            let loaded = load(&src).map_err(|e| format!("the archive entry could not be read again: {e}"))?;
            let mut kept = BTreeMap::new();
            keep_lines(loaded.text(), 1, wanted, &mut kept);
            Ok(kept)
        }
        None => Err("the file is no longer where it was read".into()),
    }
}

/// A file on disk read in blocks (memory does not grow with the file), decoded as `analyze` decodes it.
fn read_file_lines(path: &Path, wanted: &BTreeSet<u32>) -> Result<BTreeMap<u32, String>, String> {
    let found = discover(&[path.to_path_buf()], &[], Limits::default());
    let src = found
        .files
        .into_iter()
        .find(|f| matches!(f.location, Location::File(_)))
        .ok_or_else(|| "the file could not be read again".to_string())?;
    let (file, meta) = open_regular(path).map_err(|e| format!("the file could not be read again: {e}"))?;
    let mut blocks = TextBlocks::new(&src, file, meta.len(), 1 << 20)
        .map_err(|e| format!("the file could not be read again: {e}"))?;
    let last = wanted.last().copied().unwrap_or(0);
    let mut kept = BTreeMap::new();
    while let Some(block) = blocks.next_block() {
        let next = keep_lines(block.file.text(), block.first_line, wanted, &mut kept);
        if next > last {
            break;
        }
    }
    Ok(kept)
}

/// Keeps the lines of `text` (whose first line is number `first`) that are `wanted`; returns the number of
/// the line after its last.
fn keep_lines(text: &str, first: u32, wanted: &BTreeSet<u32>, kept: &mut BTreeMap<u32, String>) -> u32 {
    let mut n = first;
    let last = wanted.last().copied().unwrap_or(0);
    for line in text.split_terminator('\n') {
        if n > last {
            break;
        }
        if wanted.contains(&n) {
            kept.insert(n, shown_line(line));
        }
        n = n.saturating_add(1);
    }
    // A block ends with its last line's `\n`: the next block starts on the line after it.
    first.saturating_add(newlines(text))
}

fn newlines(text: &str) -> u32 {
    u32::try_from(text.bytes().filter(|&b| b == b'\n').count()).unwrap_or(u32::MAX)
}

/// A line as shown: without its `\r` and byte order marks, cut to `MAX_LINE_CHARS`.
fn shown_line(line: &str) -> String {
    let line = line.strip_suffix('\r').unwrap_or(line).trim_start_matches('\u{feff}');
    if line.chars().count() <= MAX_LINE_CHARS {
        return line.to_string();
    }
    let mut cut: String = line.chars().take(MAX_LINE_CHARS - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wanted(lines: &[u32]) -> BTreeSet<u32> {
        lines.iter().copied().collect()
    }

    #[test]
    fn keeps_the_wanted_lines_across_blocks() {
        let mut kept = BTreeMap::new();
        let next = keep_lines("a\r\nb\nc\n", 1, &wanted(&[2, 4]), &mut kept);
        assert_eq!(next, 4);
        let next = keep_lines("\u{feff}d\ne", next, &wanted(&[2, 4]), &mut kept);
        assert_eq!(next, 5);
        assert_eq!(kept, BTreeMap::from([(2, "b".to_string()), (4, "d".to_string())]));
    }

    #[test]
    fn a_line_past_the_end_or_another_message_says_the_file_changed() {
        let text: BTreeMap<u32, String> =
            [(1, "one".to_string()), (2, "<![LOG[Two things]LOG]!>".to_string())].into();
        let e = excerpt(&text, 2, "Two things").expect("read");
        assert_eq!((e.cited, e.changed, e.lines.len()), (2, false, 2));
        assert!(excerpt(&text, 2, "Something else").expect("read").changed);
        assert!(excerpt(&text, 9, "x").unwrap_err().contains("changed since"));
    }

    #[test]
    fn a_missing_file_is_a_reason_not_a_panic() {
        let c = read_contexts(
            [Cited { path: "/nonexistent/x.zip/y.log", line: 3, message: "m" }],
            Limits::default(),
        );
        assert_eq!(
            c.get("/nonexistent/x.zip/y.log", 3),
            Some(&Err("the file is no longer where it was read".into()))
        );
    }

    #[test]
    fn long_lines_are_cut() {
        let long = "x".repeat(1000);
        let shown = shown_line(&long);
        assert_eq!(shown.chars().count(), MAX_LINE_CHARS);
        assert!(shown.ends_with('…'));
    }
}
