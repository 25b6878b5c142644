//! The parallel driver: loads files in windows, splits large texts at record boundaries into chunks,
//! runs a worker on every chunk with `rayon` (across files and within large files), and hands the
//! results to a sink in file order and chunk order. Memory stays bounded by the window (files in flight)
//! and the batch of chunks being processed, not by the size of the input: a file larger than the window is
//! read in blocks (`stream::TextBlocks`), never whole.

use rayon::prelude::*;

use crate::entry::LineFormat;
use crate::error::ReadError;
use crate::format::next_boundary;
use crate::input::{load, LoadedFile, Location, SourceFile};
use crate::stream::TextBlocks;

/// A piece of a file's text that starts on a record boundary.
#[derive(Debug, Clone, Copy)]
pub struct Chunk<'a> {
    /// The chunk's text: whole records.
    pub text: &'a str,
    /// 1-based line number of the chunk's first line in the file.
    pub first_line: u32,
    /// Index of this chunk in its file.
    pub index: usize,
}

/// Split `text` into chunks of about `target` bytes at record boundaries, with their first line numbers.
pub fn chunks(text: &str, format: LineFormat, target: usize) -> Vec<Chunk<'_>> {
    chunks_counted(text, format, target, false).0
}

/// `chunks`, and the number of lines in `text` (its newlines) when `count_all` is set (else 0 for a text
/// that makes one chunk: nothing needs its count).
fn chunks_counted(text: &str, format: LineFormat, target: usize, count_all: bool) -> (Vec<Chunk<'_>>, u32) {
    let target = target.max(64);
    let mut bounds = vec![0usize];
    let mut pos = 0;
    while pos < text.len() {
        let next = if text.len() - pos <= target + target / 2 {
            text.len()
        } else {
            let mut b = next_boundary(text, format, pos, pos + target);
            while !text.is_char_boundary(b) {
                b += 1;
            }
            b
        };
        bounds.push(next);
        pos = next;
    }
    let pieces: Vec<&str> = bounds.windows(2).map(|w| &text[w[0]..w[1]]).collect();
    let newlines: Vec<u32> = if pieces.len() > 1 || count_all {
        pieces.par_iter().map(|p| memchr::memchr_iter(b'\n', p.as_bytes()).count() as u32).collect()
    } else {
        vec![0]
    };
    let mut line = 1u32;
    let list = pieces
        .into_iter()
        .enumerate()
        .map(|(index, piece)| {
            let c = Chunk { text: piece, first_line: line, index };
            line = line.saturating_add(newlines[index]);
            c
        })
        .collect();
    (list, newlines.iter().fold(0u32, |n, &l| n.saturating_add(l)))
}

/// Tuning of `scan_ordered`.
#[derive(Debug, Clone, Copy)]
pub struct ScanOptions {
    /// Size of the pieces a large file is split into.
    pub chunk_bytes: usize,
    /// At most this many input bytes loaded at once (one file is always allowed, however large); a zip
    /// entry counts for the most it may inflate to (`SourceFile::load_bound`), not the size it declares.
    pub window_bytes: u64,
    /// At most this many chunk bytes processed (and their results held) at once.
    pub batch_bytes: usize,
    /// A regular file larger than this is read in blocks of `block_bytes`, not whole.
    pub stream_above: u64,
    /// The size of the blocks a large file is read in.
    pub block_bytes: usize,
}

impl Default for ScanOptions {
    fn default() -> Self {
        // The window and the blocks bound the text held at once (about 30 MB, more for a UTF-16 file being
        // decoded), whatever the size of the input or of its largest file. Blocks of 4 MB (16 MB before,
        // files past 24 MB): a 160 MB log `analyze`d in 0.50-0.51 s with 77-84 MB instead of 0.56-0.58 s
        // with 110 MB, `parse` in 0.29 s with 52 MB instead of 0.35 s with 110-129 MB; the fleet corpora
        // are unchanged. Chunks of 1 MB keep the two cores busy on each block.
        ScanOptions {
            chunk_bytes: 1 << 20,
            window_bytes: 16 << 20,
            batch_bytes: 8 << 20,
            stream_above: 6 << 20,
            block_bytes: 4 << 20,
        }
    }
}

/// What the sink receives, in order: for every file `Start`, its chunks' results, `End`.
pub enum Scanned<'s, T> {
    /// A file starts.
    Start {
        /// The file's index in the files given.
        index: usize,
        /// The file.
        source: &'s SourceFile,
        /// The file loaded (its first block, for a file read in blocks), or why it could not be.
        file: Result<&'s LoadedFile, &'s ReadError>,
    },
    /// The result of one chunk of the file.
    Chunk {
        /// The file's index in the files given.
        index: usize,
        /// What the worker gave for the chunk.
        result: T,
    },
    /// `warning`: what went wrong after `Start` (a file read in blocks that shrank or failed while read).
    End {
        /// The file's index in the files given.
        index: usize,
        /// The file.
        source: &'s SourceFile,
        /// What went wrong after `Start`, if anything.
        warning: Option<String>,
    },
}

/// Whether `src` is read in blocks rather than whole.
fn streamed(src: &SourceFile, opts: &ScanOptions) -> bool {
    matches!(src.location, Location::File(_)) && src.size > opts.stream_above
}

/// The end of the window of files loaded together from `start` (not streamed): as many as fit in
/// `window_bytes` (at least one), at most 512. Each is charged at the most its load may hold (a zip
/// entry's declared size is not trusted: it is charged from its compressed size, at most the entry limit).
fn window_end(files: &[SourceFile], start: usize, opts: &ScanOptions) -> usize {
    let mut end = start;
    let mut bytes = 0u64;
    while end < files.len()
        && !streamed(&files[end], opts)
        && (end == start || bytes.saturating_add(files[end].load_bound()) <= opts.window_bytes)
        && end - start < 512
    {
        bytes = bytes.saturating_add(files[end].load_bound());
        end += 1;
    }
    end
}

/// Run `work` on every chunk of every file in parallel; `sink` sees the results in input order.
pub fn scan_ordered<T, W, S>(files: &[SourceFile], opts: ScanOptions, work: W, mut sink: S)
where
    T: Send,
    W: Fn(&SourceFile, &LoadedFile, Chunk<'_>) -> T + Sync,
    S: FnMut(Scanned<'_, T>),
{
    let mut start = 0;
    while start < files.len() {
        if streamed(&files[start], &opts) {
            scan_blocks(start, &files[start], &opts, &work, &mut sink);
            start += 1;
            continue;
        }
        let end = window_end(files, start, &opts);
        let window = &files[start..end];
        let loaded: Vec<Result<LoadedFile, ReadError>> = window.par_iter().map(load).collect();
        let chunk_lists: Vec<Vec<Chunk<'_>>> = loaded
            .iter()
            .map(|l| match l {
                Ok(f) => chunks(f.text(), f.format, opts.chunk_bytes),
                Err(_) => Vec::new(),
            })
            .collect();
        // Flat task list in output order: (file in window, chunk or none for files with no text).
        let mut tasks: Vec<(usize, Option<Chunk<'_>>)> = Vec::new();
        for (k, list) in chunk_lists.iter().enumerate() {
            if list.is_empty() {
                tasks.push((k, None));
            } else {
                tasks.extend(list.iter().map(|c| (k, Some(*c))));
            }
        }
        let mut t = 0;
        while t < tasks.len() {
            let mut u = t;
            let mut batch = 0usize;
            while u < tasks.len()
                && (u == t || batch + tasks[u].1.map_or(0, |c| c.text.len()) <= opts.batch_bytes)
            {
                batch += tasks[u].1.map_or(0, |c| c.text.len());
                u += 1;
            }
            let results: Vec<Option<T>> = tasks[t..u]
                .par_iter()
                .map(|(k, chunk)| {
                    let file = loaded[*k].as_ref().ok()?;
                    Some(work(&window[*k], file, (*chunk)?))
                })
                .collect();
            for ((k, chunk), result) in tasks[t..u].iter().zip(results) {
                let index = start + k;
                let first = chunk.is_none_or(|c| c.index == 0);
                let last = chunk.is_none_or(|c| c.index + 1 == chunk_lists[*k].len());
                if first {
                    let file = loaded[*k].as_ref();
                    sink(Scanned::Start { index, source: &window[*k], file });
                }
                if let Some(result) = result {
                    sink(Scanned::Chunk { index, result });
                }
                if last {
                    sink(Scanned::End { index, source: &window[*k], warning: None });
                }
            }
            t = u;
        }
        start = end;
    }
    crate::buffers::release();
}

/// `scan_ordered` for one large regular file: block after block, the chunks of each block in parallel
/// while the next block is read and decoded (two blocks held at once: the one worked on and the next).
fn scan_blocks<T, W, S>(index: usize, src: &SourceFile, opts: &ScanOptions, work: &W, sink: &mut S)
where
    T: Send,
    W: Fn(&SourceFile, &LoadedFile, Chunk<'_>) -> T + Sync,
    S: FnMut(Scanned<'_, T>),
{
    let Location::File(path) = &src.location else { unreachable!("only regular files are read in blocks") };
    let opened = crate::regular::open_regular(path)
        .and_then(|(file, meta)| TextBlocks::new(src, file, meta.len(), opts.block_bytes));
    let mut blocks = match opened {
        Ok(b) => b,
        Err(e) => {
            sink(Scanned::Start { index, source: src, file: Err(&e) });
            sink(Scanned::End { index, source: src, warning: None });
            return;
        }
    };
    let mut started = false;
    let mut chunk_index = 0usize;
    // The line number of the next block's first line.
    let mut line = 1u32;
    let mut next = blocks.next_text();
    while let Some(block) = next.take() {
        let file = &block;
        let (mut list, lines) = chunks_counted(file.text(), file.format, opts.chunk_bytes, true);
        for c in &mut list {
            c.first_line = c.first_line.saturating_add(line - 1);
            c.index += chunk_index;
        }
        line = line.saturating_add(lines);
        chunk_index += list.len();
        if !started {
            sink(Scanned::Start { index, source: src, file: Ok(file) });
            started = true;
        }
        let (results, following) = rayon::join(
            || list.par_iter().map(|c| work(src, file, *c)).collect::<Vec<T>>(),
            || blocks.next_text(),
        );
        for result in results {
            sink(Scanned::Chunk { index, result });
        }
        next = following;
    }
    if !started {
        // An empty file: its (empty) text, with what the first read told.
        let file = LoadedFile::from_parts(String::new(), blocks.encoding, blocks.format, blocks.kind);
        sink(Scanned::Start { index, source: src, file: Ok(&file) });
    }
    sink(Scanned::End { index, source: src, warning: blocks.warning.take() });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::Record;
    use crate::format::Records;

    fn file(size: u64) -> SourceFile {
        SourceFile {
            path: format!("H/{size}.log"),
            host: "H".into(),
            kind_by_name: None,
            location: Location::File(format!("H/{size}.log").into()),
            size,
            rotation_set: String::new(),
            rotation_rank: (0, String::new()),
        }
    }

    /// Files load together while their sizes fit in the window; one file is always allowed; a file past
    /// `stream_above` is never in a window (it is read in blocks on its own).
    #[test]
    fn windows_hold_what_fits() {
        let opts = ScanOptions { window_bytes: 100, stream_above: 1000, ..ScanOptions::default() };
        let files: Vec<SourceFile> = [40, 60, 1, 150, 30, 2000, 5].into_iter().map(file).collect();
        assert_eq!(window_end(&files, 0, &opts), 2, "40 + 60 fit, the 1 more does not");
        assert_eq!(window_end(&files, 2, &opts), 3, "1, then 150 is past the window");
        assert_eq!(window_end(&files, 3, &opts), 4, "one file alone, however large");
        assert_eq!(window_end(&files, 4, &opts), 5, "the streamed file ends the window");
        assert_eq!(window_end(&files, 6, &opts), 7);
        let many: Vec<SourceFile> = (0..600).map(|_| file(0)).collect();
        assert_eq!(window_end(&many, 0, &opts), 512, "at most 512 files at once");
    }

    fn cm(i: usize) -> String {
        format!(
            "<![LOG[message {i}\nsecond line]LOG]!><time=\"01:02:03.004+000\" date=\"01-02-2020\" component=\"c\" type=\"1\" thread=\"1\" file=\"\">\n"
        )
    }

    #[test]
    fn chunked_parse_equals_whole_parse() {
        let text: String = (0..5000).map(cm).collect();
        let whole: Vec<Record<'_>> = Records::new(&text, LineFormat::Cmtrace, 1).collect();
        let parts = chunks(&text, LineFormat::Cmtrace, 4096);
        assert!(parts.len() > 10);
        let pieced: Vec<Record<'_>> =
            parts.iter().flat_map(|c| Records::new(c.text, LineFormat::Cmtrace, c.first_line)).collect();
        assert_eq!(whole, pieced);
        assert_eq!(whole.len(), 5000);
        if let Record::Entry(e) = &pieced[4999] {
            assert_eq!(e.line, 9999);
        }
    }

    #[test]
    fn chunked_sms_parse_equals_whole_parse() {
        let text: String = (0..5000)
            .map(|i| format!("part {i}\nmessage {i}~~x $$<C><01-02-2020 01:02:03.000+00><thread=1 (0x1)>\n"))
            .collect();
        let whole: Vec<Record<'_>> = Records::new(&text, LineFormat::Sms, 1).collect();
        let parts = chunks(&text, LineFormat::Sms, 4096);
        assert!(parts.len() > 10);
        let pieced: Vec<Record<'_>> =
            parts.iter().flat_map(|c| Records::new(c.text, LineFormat::Sms, c.first_line)).collect();
        assert_eq!(whole, pieced);
    }

    #[test]
    fn chunked_setup_parse_equals_whole_parse() {
        let text: String = (0..5000)
            .map(|i| {
                let cont = if i % 3 == 0 { format!("continuation of {i}\r\n\r\n") } else { String::new() };
                format!("\u{FEFF}<Fri Dec  9 11:25:{:02} 2022> SMSMP message {i}\r\n{cont}", i % 60)
            })
            .collect();
        let whole: Vec<Record<'_>> = Records::new(&text, LineFormat::Setup, 1).collect();
        let parts = chunks(&text, LineFormat::Setup, 4096);
        assert!(parts.len() > 10);
        for p in &parts[1..] {
            assert!(p.text.starts_with("\u{FEFF}<Fri Dec  9 "), "chunks start on a record");
        }
        let pieced: Vec<Record<'_>> =
            parts.iter().flat_map(|c| Records::new(c.text, LineFormat::Setup, c.first_line)).collect();
        assert_eq!(whole, pieced);
        assert_eq!(whole.len(), 5000);
        assert!(whole.iter().all(|r| matches!(r, Record::Entry(_))));
    }
}
