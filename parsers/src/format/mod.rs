//! The three ConfigMgr line formats and the record iterator over a file's decoded text.
//!
//! - CMTrace: `<![LOG[message]LOG]!><time="HH:MM:SS.fff+BIAS" date="MM-DD-YYYY" component=".." context=""
//!   type="N" thread="N" file="..">`. Records are framed by `<![LOG[` … `]LOG]!><…>`, never by newline, so a
//!   message may span many physical lines.
//! - SMS trace (site servers, CMG): `message  $$<Component><MM-DD-YYYY HH:MM:SS.fff+BIAS><thread=N (0xN)>`.
//!   `~~` stands for an embedded line break; lines without a trailer before a trailer line are the first lines
//!   of that record's message.
//!
//! - Setup (site-role setup logs written by rolesetup.exe: MPSetup.log, SMSFSPSetup.log, SUPSetup.log, DP and
//!   bootstrap setup logs): `<Fri Dec  9 11:25:00 2022> message` (C `ctime` order, the day space-padded or
//!   not) or `<02/09/14 22:53:28> message` (month first, as Microsoft's SUPSetup.log sample shows). Local time
//!   with no bias (so no UTC time), no thread, no severity (inferred from the text like the server format's);
//!   the component is the first word when it is a role name (`SMSFSP Setup Started....`), else empty. Lines
//!   that start no record continue the message of the record before them (multi-line messages).
//!
//! Byte order marks (U+FEFF) at the start of any line, in any format, are dropped: some writers put one
//! before every write. They never make a line unparsed and never end up in a message.
//!
//! Everything else is an `unparsed` record (one per physical line), kept and counted. Whitespace-only lines
//! are skipped: they carry nothing and CMTrace shows nothing for them.
//!
//! Parsing is zero-copy: messages borrow from the text unless they need `\r\n` or `~~` rewritten.

use std::borrow::Cow;
use std::sync::OnceLock;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use memchr::memmem;

use crate::entry::{Entry, LineFormat, Record, Severity};

mod boundary;
mod cmtrace;
mod setup;
mod sms;
#[cfg(test)]
mod tests;
mod time;

pub use boundary::next_boundary;
use cmtrace::*;
use setup::*;
use sms::*;
pub use sms::{infer_severity, is_sms_trailer_line};
use time::*;
pub use time::{parse_date_mdy, parse_time_and_bias};

const LOG_OPEN: &[u8] = b"<![LOG[";
const LOG_CLOSE: &[u8] = b"]LOG]!>";
const SMS_MARK: &[u8] = b"$$<";

/// The largest time-zone bias accepted, in minutes (UTC+14 / UTC-12 are the extremes in use).
pub const MAX_BIAS_MINUTES: i32 = 840;

fn finder_open() -> &'static memmem::Finder<'static> {
    static F: OnceLock<memmem::Finder<'static>> = OnceLock::new();
    F.get_or_init(|| memmem::Finder::new(LOG_OPEN))
}

fn finder_close() -> &'static memmem::Finder<'static> {
    static F: OnceLock<memmem::Finder<'static>> = OnceLock::new();
    F.get_or_init(|| memmem::Finder::new(LOG_CLOSE))
}

fn finder_sms() -> &'static memmem::FinderRev<'static> {
    static F: OnceLock<memmem::FinderRev<'static>> = OnceLock::new();
    F.get_or_init(|| memmem::FinderRev::new(SMS_MARK))
}

/// How many markers of each format `sniff_format` counts at most.
const SNIFF_COUNT: usize = 8;

/// Guess a file's line format from its first bytes of text: the format with the most record markers
/// among its first 64 KB (CMTrace `<![LOG[`, server-format `><thread=`, setup-log line prefixes, at most 8
/// of each counted); ties go to CMTrace, then the server format.
pub fn sniff_format(text: &str) -> LineFormat {
    let head = &text.as_bytes()[..text.len().min(64 * 1024)];
    // Counts stop at 8, so a count of 8 cannot be beaten, and it wins its ties (CMTrace's with any format, the
    // server format's with setup-log lines): a head with 8 CMTrace records is CMTrace, and one with 8
    // server-format trailers (and fewer CMTrace records) is the server format, without reading the rest of its
    // 64 KB for the other markers (most files end the sniff here).
    let cm = memmem::find_iter(head, LOG_OPEN).take(SNIFF_COUNT).count();
    if cm == SNIFF_COUNT {
        return LineFormat::Cmtrace;
    }
    let sms = memmem::find_iter(head, b"><thread=").take(SNIFF_COUNT).count();
    if sms == SNIFF_COUNT {
        return LineFormat::Sms;
    }
    let setup = setup_lines(head, SNIFF_COUNT);
    if setup > cm && setup > sms {
        LineFormat::Setup
    } else if cm == 0 && sms == 0 {
        LineFormat::Unknown
    } else if cm >= sms {
        LineFormat::Cmtrace
    } else {
        LineFormat::Sms
    }
}

/// How many lines of `head` (up to `max`) start, after their byte order marks, with a setup-log prefix.
fn setup_lines(head: &[u8], max: usize) -> usize {
    let (mut n, mut ls) = (0, 0);
    while ls < head.len() && n < max {
        let line = &head[ls..];
        let rest = &line[bom_len(line)..];
        n += usize::from(parse_setup_prefix(rest).is_some());
        match memchr::memchr(b'\n', rest) {
            Some(i) => ls += (line.len() - rest.len()) + i + 1,
            None => break,
        }
    }
    n
}

/// The most bytes one record may span: a CMTrace record from its `<![LOG[` through the `>` that ends its
/// attributes, a server-format record from the first byte of its message through the end of its trailer
/// line. Real records stay far below (ConfigMgr messages holding policy XML reach a few hundred KB). The
/// end of a record is never looked for further than this: a record that does not end within the bound is
/// not a record, its lines are `Record::Unparsed` and it is counted in `Records::oversized`.
pub const MAX_RECORD_BYTES: usize = 4 << 20;

#[cfg(test)]
thread_local! {
    /// Bytes read by the searches of record splitting on this thread (tests prove splitting linear by it).
    static EXAMINED: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Counts `n` bytes read by a search (tests only).
#[inline(always)]
pub(crate) fn examined(n: usize) {
    #[cfg(test)]
    EXAMINED.with(|e| e.set(e.get() + n as u64));
    let _ = n;
}

/// Bytes counted by `examined` on this thread so far.
#[cfg(test)]
pub(crate) fn examined_so_far() -> u64 {
    EXAMINED.with(|e| e.get())
}

/// A forward search for one needle that remembers what it has read: no match starts in `from..at`, and
/// when `found`, one starts at `at`. Successive records ask for positions that only move forward, so the
/// searches of a whole text read every byte about once instead of once per record.
#[derive(Debug, Clone, Copy, Default)]
struct Seek {
    from: usize,
    at: usize,
    found: bool,
}

impl Seek {
    /// The first match starting at or after `q` that ends by `limit`.
    fn find(
        &mut self,
        hay: &[u8],
        q: usize,
        limit: usize,
        needle_len: usize,
        find: impl Fn(&[u8]) -> Option<usize>,
    ) -> Option<usize> {
        if q < self.from || q > self.at {
            *self = Seek { from: q, at: q, found: false };
        }
        if !self.found && self.at + needle_len <= limit {
            let start = self.at;
            match find(&hay[start..limit]) {
                Some(i) => {
                    examined(i + needle_len);
                    self.at = start + i;
                    self.found = true;
                }
                None => {
                    examined(limit - start);
                    self.at = limit + 1 - needle_len;
                }
            }
        }
        (self.found && self.at + needle_len <= limit).then_some(self.at)
    }
}

/// Iterates the records of `text` (or of a chunk of it that starts on a record boundary).
pub struct Records<'a> {
    text: &'a str,
    pos: usize,
    line: u32,
    format: LineFormat,
    /// SMS format: start offset and line of message lines waiting for their trailer (or, while
    /// `draining`, of the lines of an oversized record being emitted as unparsed).
    pending: Option<(usize, u32)>,
    draining: bool,
    /// Queue of unparsed lines to emit (after a truncated record or dangling pending text).
    flush_until: usize,
    /// Entries whose message as written fails this are counted in `skipped`, not read.
    keep: Option<&'a dyn Fn(&str) -> bool>,
    skipped: u64,
    oversized: u64,
    max_record: usize,
    newline: Seek,
    open: Seek,
    close: Seek,
}

impl<'a> Records<'a> {
    /// `first_line` is the 1-based line number of the first line of `text`.
    pub fn new(text: &'a str, format: LineFormat, first_line: u32) -> Records<'a> {
        Records {
            text,
            pos: 0,
            line: first_line,
            format,
            pending: None,
            draining: false,
            flush_until: 0,
            keep: None,
            skipped: 0,
            oversized: 0,
            max_record: MAX_RECORD_BYTES,
            newline: Seek::default(),
            open: Seek::default(),
            close: Seek::default(),
        }
    }

    /// The same with another record-size bound (tests use small ones).
    #[cfg(test)]
    fn with_max_record(mut self, max: usize) -> Records<'a> {
        self.max_record = max;
        self
    }

    /// Yields only the entries whose message, as written (before `\r\n` and `~~` become `\n` and trailing
    /// blanks are trimmed), passes `keep`; the others are counted (`skipped`) without reading their time,
    /// attributes or message. For a reader that wants a few messages out of many: what it looks for must
    /// be found in the text as written whenever it is in the message (no line break in what it seeks).
    /// Unparsed lines are yielded as always.
    pub fn keep_only(mut self, keep: &'a dyn Fn(&str) -> bool) -> Records<'a> {
        self.keep = Some(keep);
        self
    }

    /// Entries passed over by `keep_only` so far.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// Records cut off by `MAX_RECORD_BYTES` so far: a CMTrace record start whose end was not found within
    /// the bound (with more text than that before the next record start or the end of the text), or a
    /// server-format record whose message lines and trailer line together exceed it. Their lines have been
    /// (or are being) yielded as `Record::Unparsed`, as those of truncated records are; a physical line
    /// longer than the bound is one such unparsed line. Counted once per record, whatever its lines.
    pub fn oversized(&self) -> u64 {
        self.oversized
    }

    fn wanted(&mut self, raw_message: &str) -> bool {
        let wanted = self.keep.is_none_or(|keep| keep(raw_message));
        if !wanted {
            self.skipped += 1;
        }
        wanted
    }

    /// The offset of the first `\n` at or after `q`, or the text's length.
    fn next_newline(&mut self, q: usize) -> usize {
        let b = self.text.as_bytes();
        self.newline.find(b, q, b.len(), 1, |h| memchr::memchr(b'\n', h)).unwrap_or(b.len())
    }

    /// The offset of the first `<![LOG[` at or after `q` that ends by `limit`.
    fn next_open(&mut self, q: usize, limit: usize) -> Option<usize> {
        self.open.find(self.text.as_bytes(), q, limit, LOG_OPEN.len(), |h| finder_open().find(h))
    }

    /// One physical line of a broken CMTrace record (ending at a newline or at `flush_until`).
    fn next_flushed_line(&mut self) -> (u32, &'a str) {
        let bytes = self.text.as_bytes();
        let start = self.pos;
        let limit = self.flush_until.min(bytes.len());
        let line_no = self.line;
        match memchr::memchr(b'\n', &bytes[start..limit]) {
            Some(i) => {
                examined(i + 1);
                self.pos = start + i + 1;
                self.line += 1;
                (line_no, trim_cr(&self.text[start..start + i]))
            }
            None => {
                examined(limit - start);
                self.pos = limit;
                (line_no, trim_cr(&self.text[start..limit]))
            }
        }
    }

    /// The next non-blank line of pending SMS text (all of which lies before `pos`) as an unparsed record;
    /// `None` once there is none left.
    fn flush_pending(&mut self) -> Option<Record<'a>> {
        while let Some((start, line)) = self.pending.take() {
            let bytes = self.text.as_bytes();
            let limit = self.pos.min(bytes.len());
            let end = memchr::memchr(b'\n', &bytes[start..limit]).map_or(limit, |i| start + i);
            examined(end - start);
            let next = if end < limit { end + 1 } else { end };
            if next < limit {
                self.pending = Some((next, line + 1));
            }
            let text = trim_cr(&self.text[start..end]);
            if !is_blank(text) {
                return Some(unparsed(line, text));
            }
        }
        None
    }

    /// The setup-format record whose first line is `line_start..eol`, if that line starts with a setup
    /// prefix (after byte order marks): the record takes that line and every following line that starts no
    /// record (`starts_setup_file_record`), so that a message may span lines. A record longer than the bound
    /// is not one: its lines are emitted as unparsed (`flush_until`) and it is counted in `oversized`.
    fn parse_setup_at(&mut self, line_start: usize, eol: usize) -> SetupParse<'a> {
        let text = self.text;
        let b = text.as_bytes();
        let content = line_start + bom_len(&b[line_start..eol]);
        examined(content - line_start + (eol - content).min(SETUP_PREFIX_MAX));
        let Some((prefix_len, local_time)) = parse_setup_prefix(&b[content..eol]) else {
            return SetupParse::NotARecord;
        };
        let first_line = self.line;
        let step = |e: usize| if e < b.len() { e + 1 } else { e };
        // `end`: the end of the record's last line; `next`: the start of the line after it.
        let (mut end, mut next, mut lines) = (eol, step(eol), u32::from(eol < b.len()));
        let mut oversized = eol - line_start > self.max_record;
        while next < b.len() {
            let e = self.next_newline(next);
            if starts_setup_file_record(&b[next..e]) {
                break;
            }
            oversized |= e - line_start > self.max_record;
            end = e;
            next = step(e);
            lines += u32::from(e < b.len());
        }
        if oversized {
            self.oversized += 1;
            self.flush_until = next;
            return SetupParse::Skipped;
        }
        self.pos = next;
        self.line += lines;
        let raw = &text[content + prefix_len..end];
        if !self.wanted(raw) {
            return SetupParse::Skipped;
        }
        let message = setup_message(raw);
        let severity = infer_severity(&message);
        SetupParse::Record(Entry {
            line: first_line,
            local_time,
            bias_minutes: None,
            component: setup_component(&text[content + prefix_len..end]),
            thread: None,
            severity,
            source: None,
            message,
            format: LineFormat::Setup,
        })
    }

    /// Parse the CMTrace record that starts at `pos` (which holds `<![LOG[`). Its message ends at the first
    /// `]LOG]!>` that `close_ends_record` accepts before the next `<![LOG[` and within the size bound.
    fn parse_cmtrace_at(&mut self, pos: usize) -> CmtraceParse<'a> {
        let text = self.text;
        let bytes = text.as_bytes();
        let msg_start = pos + LOG_OPEN.len();
        // Bound the search for the end by the next record start and by the size bound: broken records cost
        // linear time, and the searches of successive records read each byte about once.
        let next_open = self.next_open(msg_start, bytes.len()).unwrap_or(bytes.len());
        let end = next_open.min(pos.saturating_add(self.max_record));
        let mut q = msg_start;
        while let Some(close) = self.close.find(bytes, q, end, LOG_CLOSE.len(), |h| finder_close().find(h)) {
            if let Some(gt) = close_ends_record(text, close, end) {
                let attrs = &text[close + LOG_CLOSE.len() + 1..gt];
                let fields = CmtraceFields { message: &text[msg_start..close], attrs };
                return CmtraceParse::Record { entry_end: gt + 1, fields };
            }
            q = close + LOG_CLOSE.len();
        }
        if end < next_open {
            self.oversized += 1;
        }
        CmtraceParse::Truncated { until: next_open }
    }
}

fn trim_cr(s: &str) -> &str {
    s.strip_suffix('\r').unwrap_or(s)
}

/// U+FEFF, the byte order mark, in UTF-8. Some writers (rolesetup.exe's setup logs) put one before every
/// write, so it starts lines anywhere in a file, in any format: it is never part of a record.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The length of the byte order marks at the start of `b`.
fn bom_len(b: &[u8]) -> usize {
    let mut i = 0;
    while b[i..].starts_with(BOM) {
        i += BOM.len();
    }
    i
}

/// Whether a line holds nothing: whitespace and byte order marks only.
fn is_blank(s: &str) -> bool {
    s.chars().all(|c| c.is_whitespace() || c == '\u{FEFF}')
}

/// An unparsed line, without the byte order marks that start it.
fn unparsed(line: u32, text: &str) -> Record<'_> {
    Record::Unparsed { line, text: text.trim_start_matches('\u{FEFF}') }
}

/// Byte order marks removed from the start of every line of `s` (copied only when there is one).
fn strip_line_boms(s: Cow<'_, str>) -> Cow<'_, str> {
    if memmem::find(s.as_bytes(), BOM).is_none() {
        return s;
    }
    let mut out = String::with_capacity(s.len());
    for (i, piece) in s.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(piece.trim_start_matches('\u{FEFF}'));
    }
    Cow::Owned(out)
}

impl<'a> Iterator for Records<'a> {
    type Item = Record<'a>;

    fn next(&mut self) -> Option<Record<'a>> {
        let bytes = self.text.as_bytes();
        loop {
            // Lines of an oversized server-format record.
            if self.draining {
                if let Some(r) = self.flush_pending() {
                    return Some(r);
                }
                self.draining = false;
            }
            // Lines of a truncated CMTrace record are emitted as unparsed, one per line.
            if self.pos < self.flush_until {
                let (line, text) = self.next_flushed_line();
                if is_blank(text) {
                    continue;
                }
                return Some(unparsed(line, text));
            }
            if self.pos >= bytes.len() {
                // End of text: SMS message lines that never got a trailer are unparsed.
                return self.flush_pending();
            }
            if bytes[self.pos..].starts_with(LOG_OPEN) {
                if self.pending.is_some() {
                    if let Some(r) = self.flush_pending() {
                        return Some(r);
                    }
                }
                match self.parse_cmtrace_at(self.pos) {
                    CmtraceParse::Record { entry_end, fields } => {
                        let start_line = self.line;
                        // Attributes never hold a line break: only the message can.
                        let consumed = fields.message.as_bytes();
                        if memchr::memchr(b'\n', consumed).is_some() {
                            self.line += memchr::memchr_iter(b'\n', consumed).count() as u32;
                        }
                        self.pos = entry_end;
                        // Skip the rest of the physical line (normally `\r\n`), unless another record
                        // starts on it.
                        let eol = self.next_newline(entry_end);
                        if let Some(k) = self.next_open(entry_end, eol) {
                            self.pos = k;
                        } else {
                            let tail = &bytes[entry_end..eol];
                            let blank = tail.iter().position(|b| !b.is_ascii_whitespace());
                            examined(blank.map_or(tail.len(), |i| i + 1));
                            if blank.is_none() {
                                self.pos = eol;
                                if self.pos < bytes.len() {
                                    self.pos += 1;
                                    self.line += 1;
                                }
                            } else {
                                // A non-blank tail without a new record is an unparsed line of its own
                                // (same line number); it never starts a server-format message.
                                self.flush_until = eol;
                            }
                        }
                        if !self.wanted(fields.message) {
                            continue;
                        }
                        return Some(Record::Entry(fields.into_entry(start_line)));
                    }
                    CmtraceParse::Truncated { until } => {
                        // Emit every physical line of the broken record as unparsed.
                        self.flush_until = until.max(self.pos + 1);
                        continue;
                    }
                }
            }
            // A physical line that does not start a CMTrace record.
            let line_start = self.pos;
            let eol = self.next_newline(line_start);
            if self.format == LineFormat::Setup {
                match self.parse_setup_at(line_start, eol) {
                    SetupParse::NotARecord => {}
                    SetupParse::Skipped => continue,
                    SetupParse::Record(e) => return Some(Record::Entry(e)),
                }
            }
            // A CMTrace record later on this line: the prefix is unparsed text.
            if let Some(k) = self.next_open(line_start, eol) {
                let prefix = trim_cr(&self.text[line_start..k]);
                self.pos = k;
                if is_blank(prefix) {
                    continue;
                }
                if self.pending.is_some() {
                    self.pos = line_start;
                    if let Some(r) = self.flush_pending() {
                        return Some(r);
                    }
                    continue;
                }
                return Some(unparsed(self.line, prefix));
            }
            let line_no = self.line;
            self.pos = if eol < bytes.len() { eol + 1 } else { eol };
            if eol < bytes.len() {
                self.line += 1;
            }
            let line_text = trim_cr(&self.text[line_start..eol]);
            if matches!(self.format, LineFormat::Sms | LineFormat::Unknown) {
                examined(line_text.len());
                if let Some(parsed) = parse_sms_line(line_text) {
                    let (msg_start, first_line) = match self.pending.take() {
                        Some((start, l)) => (start, l),
                        None => (line_start + bom_len(&bytes[line_start..eol]), line_no),
                    };
                    if eol - msg_start > self.max_record {
                        // Not a record: its lines, this one included, are unparsed.
                        self.oversized += 1;
                        self.pending = Some((msg_start, first_line));
                        self.draining = true;
                        continue;
                    }
                    let msg_end = line_start + parsed.message_len;
                    let raw = &self.text[msg_start..msg_end];
                    if !self.wanted(raw) {
                        continue;
                    }
                    return Some(Record::Entry(parsed.into_entry(raw, first_line)));
                }
                if self.format == LineFormat::Sms {
                    if is_blank(line_text) {
                        continue;
                    }
                    // Message text before its trailer line (past the byte order marks that start it).
                    if self.pending.is_none() {
                        self.pending = Some((line_start + bom_len(&bytes[line_start..eol]), line_no));
                    }
                    continue;
                }
            }
            if is_blank(line_text) {
                continue;
            }
            return Some(unparsed(line_no, line_text));
        }
    }
}
