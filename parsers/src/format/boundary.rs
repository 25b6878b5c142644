//! Record boundaries for splitting a large text into chunks that parse alone: the next record start at or
//! after a position, in linear time over the text.

use super::*;

/// The offset in `before` of its last `<![LOG[`. A text without any (server-format logs) is ruled out by
/// one forward SIMD search; otherwise the marker is looked for in growing blocks from the end, so that
/// finding it costs about its distance from the end.
pub(super) fn last_open(before: &[u8]) -> Option<usize> {
    let first = memmem::find(before, LOG_OPEN);
    examined(first.map_or(before.len(), |i| i + LOG_OPEN.len()));
    let first = first?;
    let mut end = before.len();
    let mut block = 4096;
    loop {
        // Blocks overlap by a marker's length less one, so that no marker is cut in two.
        let start = end.saturating_sub(block).max(first);
        let part = &before[start..(end + LOG_OPEN.len() - 1).min(before.len())];
        examined(part.len());
        if let Some(i) = memmem::rfind(part, LOG_OPEN) {
            return Some(start + i);
        }
        end = start;
        block = block.saturating_mul(2);
    }
}

/// Whether `b[..ls]` (`ls` a line start, or the text's end) ends inside a CMTrace record that began at
/// or after `prev`: the offset of its `<![LOG[` if so. That record is open when no `]LOG]!>` after it
/// ends it (`close_ends_record`) within `max` bytes of its start, exactly as `Records` reads it: a record
/// always ends before the next `<![LOG[`, and its end is never looked for beyond the bound.
pub(super) fn record_open_at(text: &str, prev: usize, ls: usize, max: usize) -> Option<usize> {
    let b = text.as_bytes();
    let open = prev + last_open(&b[prev..ls])?;
    // The next `<![LOG[` is at or after `ls` (a marker holds no line break), and an attribute list ends on
    // its `]LOG]!>`'s line: the end is looked for before `ls` only.
    let end = ls.min(open.saturating_add(max));
    let from = open + LOG_OPEN.len();
    let window = &b[from.min(end)..end];
    let mut last = 0;
    for c in finder_close().find_iter(window) {
        examined(c + LOG_CLOSE.len() - last);
        last = c + LOG_CLOSE.len();
        if close_ends_record(text, from + c, end).is_some() {
            return None;
        }
    }
    examined(window.len() - last);
    Some(open)
}

/// The open record (`record_open_at`) after the markers of the line `b[ls..eol]`, given the one before.
pub(super) fn record_open_after_line(
    text: &str,
    ls: usize,
    eol: usize,
    mut open: Option<usize>,
    max: usize,
) -> Option<usize> {
    let b = text.as_bytes();
    let line = &b[ls..eol];
    examined(2 * line.len());
    let mut opens = finder_open().find_iter(line);
    let mut closes = finder_close().find_iter(line);
    let (mut o, mut c) = (opens.next(), closes.next());
    loop {
        match (o, c) {
            (None, None) => return open,
            (Some(po), None) => {
                open = Some(ls + po);
                o = opens.next();
            }
            (Some(po), Some(pc)) if po < pc => {
                open = Some(ls + po);
                o = opens.next();
            }
            (_, Some(pc)) => {
                if let Some(start) = open {
                    // As `Records` reads it: before the next `<![LOG[` and within the bound.
                    let end = (ls + o.unwrap_or(line.len())).min(start.saturating_add(max));
                    if close_ends_record(text, ls + pc, end).is_some() {
                        open = None;
                    }
                }
                c = closes.next();
            }
        }
    }
}

/// Find the next record boundary at or after `from`, for splitting a large text into chunks that parse
/// independently to the same records as the whole text. `prev` is the previous boundary (a point where no
/// record is open). Returns `text.len()` when there is none. A boundary is a line start that begins a
/// CMTrace record, or a line start outside any open CMTrace record that (server format) follows a complete
/// trailer line, so no multi-line message is ever cut. Costs time linear in `from - prev` plus the distance
/// to the boundary found.
pub fn next_boundary(text: &str, format: LineFormat, prev: usize, from: usize) -> usize {
    next_boundary_within(text, format, prev, from, MAX_RECORD_BYTES)
}

/// `next_boundary` for records of at most `max` bytes.
pub(super) fn next_boundary_within(
    text: &str,
    format: LineFormat,
    prev: usize,
    from: usize,
    max: usize,
) -> usize {
    let b = text.as_bytes();
    if from >= b.len() {
        return b.len();
    }
    // First line start at or after `from`.
    let mut ls = if from == 0 || b[from - 1] == b'\n' {
        from
    } else {
        let nl = memchr::memchr(b'\n', &b[from..]);
        examined(nl.map_or(b.len() - from, |i| i + 1));
        match nl {
            Some(i) => from + i + 1,
            None => return b.len(),
        }
    };
    let mut open = record_open_at(text, prev.min(ls), ls, max);
    let mut prev_line_is_trailer = {
        let pl_end = ls.saturating_sub(1);
        let pl_start = memchr::memrchr(b'\n', &b[..pl_end]).map_or(0, |j| j + 1);
        examined(2 * (pl_end - pl_start) + 1);
        ls > 0 && parse_sms_line(trim_cr(&text[pl_start..pl_end])).is_some()
    };
    while ls < b.len() {
        let rest = &b[ls..];
        if rest.starts_with(LOG_OPEN) {
            return ls;
        }
        let ok = open.is_none()
            && match format {
                LineFormat::Sms => prev_line_is_trailer,
                // A setup record takes the lines after its first until one starts a record.
                // (A prefix holds no line break: the line's end need not be known.)
                LineFormat::Setup => starts_setup_file_record(rest),
                LineFormat::Cmtrace | LineFormat::Unknown => true,
            };
        if ok {
            return ls;
        }
        let nl = memchr::memchr(b'\n', rest);
        examined(nl.map_or(rest.len(), |i| i + 1));
        let eol = nl.map_or(b.len(), |i| ls + i);
        open = record_open_after_line(text, ls, eol, open, max);
        examined(eol - ls);
        prev_line_is_trailer = parse_sms_line(trim_cr(&text[ls..eol])).is_some();
        ls = eol + 1;
    }
    b.len()
}
