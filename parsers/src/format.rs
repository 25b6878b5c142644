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

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use memchr::memmem;

use crate::entry::{Entry, LineFormat, Record, Severity};

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

/// Guess a file's line format from its first bytes of text: the format with the most record markers
/// among its first 64 KB (CMTrace `<![LOG[`, server-format `><thread=`, setup-log line prefixes, at most 8
/// of each counted); ties go to CMTrace, then the server format.
pub fn sniff_format(text: &str) -> LineFormat {
    let head = &text.as_bytes()[..text.len().min(64 * 1024)];
    let cm = memmem::find_iter(head, LOG_OPEN).take(8).count();
    let sms = memmem::find_iter(head, b"><thread=").take(8).count();
    let setup = setup_lines(head, 8);
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

/// The most bytes a setup-log prefix takes: `<Www Mmm dd HH:MM:SS yyyy>` and a space, with room for
/// extra padding.
const SETUP_PREFIX_MAX: usize = 40;

/// A setup-log line prefix at the start of `line`: `<Www Mmm dd HH:MM:SS yyyy>` (C `ctime` order; the day
/// space-padded, zero-padded or not) or `<MM/DD/YY HH:MM:SS>` (month first; a four-digit year too), then one
/// optional space. Returns the prefix length and the local time (`None` when the shape is right but the date
/// or time is impossible, e.g. Feb 30).
fn parse_setup_prefix(line: &[u8]) -> Option<(usize, Option<NaiveDateTime>)> {
    if line.first() != Some(&b'<') {
        return None;
    }
    let head = &line[..line.len().min(SETUP_PREFIX_MAX)];
    let gt = memchr::memchr(b'>', head)?;
    let inner = std::str::from_utf8(&head[1..gt]).ok()?;
    if !inner.bytes().all(|c| c == b' ' || c == b':' || c == b'/' || c.is_ascii_alphanumeric()) {
        return None;
    }
    let mut tokens = inner.split(' ').filter(|t| !t.is_empty());
    let (t1, t2) = (tokens.next()?, tokens.next()?);
    let time = if t1.contains('/') {
        // `MM/DD/YY HH:MM:SS`
        if tokens.next().is_some() {
            return None;
        }
        let mut d = t1.split('/');
        let (m, day, y) = (d.next()?, d.next()?, d.next()?);
        let digits = |t: &str, n: std::ops::RangeInclusive<usize>| {
            n.contains(&t.len()) && t.bytes().all(|c| c.is_ascii_digit())
        };
        if d.next().is_some() || !digits(m, 1..=2) || !digits(day, 1..=2) || !(y.len() == 2 || y.len() == 4) {
            return None;
        }
        let clock = setup_clock(t2)?;
        let y = parse_digits(y.as_bytes())? as i32;
        let y = match y {
            0..=69 => 2000 + y,
            70..=99 => 1900 + y,
            _ => y,
        };
        let date = NaiveDate::from_ymd_opt(y, parse_digits(m.as_bytes())?, parse_digits(day.as_bytes())?);
        date.zip(clock).map(|(d, t)| NaiveDateTime::new(d, t))
    } else {
        // `Www Mmm dd HH:MM:SS yyyy`
        const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
        const MONTHS: [&str; 12] =
            ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
        let (day, hms, year) = (tokens.next()?, tokens.next()?, tokens.next()?);
        if tokens.next().is_some() || !DAYS.iter().any(|d| d.eq_ignore_ascii_case(t1)) {
            return None;
        }
        let month = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(t2))? as u32 + 1;
        if !(1..=2).contains(&day.len()) || year.len() != 4 {
            return None;
        }
        let (day, year) = (parse_digits(day.as_bytes())?, parse_digits(year.as_bytes())?);
        let clock = setup_clock(hms)?;
        let date = NaiveDate::from_ymd_opt(year as i32, month, day);
        date.zip(clock).map(|(d, t)| NaiveDateTime::new(d, t))
    };
    let len = if line.get(gt + 1) == Some(&b' ') { gt + 2 } else { gt + 1 };
    Some((len, time))
}

/// `HH:MM:SS` of a setup prefix: its shape must hold (`Some`), its value may be impossible (`Some(None)`).
fn setup_clock(t: &str) -> Option<Option<NaiveTime>> {
    let mut parts = t.split(':');
    let ok = (0..3).all(|_| {
        parts.next().is_some_and(|p| (1..=2).contains(&p.len()) && p.bytes().all(|c| c.is_ascii_digit()))
    });
    (ok && parts.next().is_none()).then(|| parse_clock(t.as_bytes()))
}

/// Whether the line `line` (from its start) starts a record of the setup format's files: after its byte
/// order marks, a setup prefix or a CMTrace `<![LOG[`. Reads at most the marks and `SETUP_PREFIX_MAX`
/// bytes.
fn starts_setup_file_record(line: &[u8]) -> bool {
    let bom = bom_len(line);
    let rest = &line[bom..];
    examined(bom + rest.len().min(SETUP_PREFIX_MAX));
    rest.starts_with(LOG_OPEN) || parse_setup_prefix(rest).is_some()
}

/// The component of a setup-log record: its first word when that is a site-role name as rolesetup.exe
/// writes them (`SMSMP`, `SMSDP`, `SMSFSP`, `SMSWSUS`...: `SMS` and upper-case letters, digits or `_`),
/// else empty. Most lines name none (`Parameters: ...`, `Installing Pre Reqs for SMSWSUS`).
fn setup_component(message: &str) -> &str {
    let word = message.split([' ', '\t', '\r', '\n']).next().unwrap_or("");
    let role = word.len() > 3
        && word.len() <= 32
        && word.starts_with("SMS")
        && word.bytes().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_');
    if role {
        word
    } else {
        ""
    }
}

/// The message of a setup-log record: trailing blanks trimmed, `\r\n` as `\n`, the byte order marks that
/// start its continuation lines dropped.
fn setup_message(raw: &str) -> Cow<'_, str> {
    normalize_newlines(raw.trim_end())
}

enum SetupParse<'a> {
    /// The line starts no setup record.
    NotARecord,
    /// A record passed over (`keep_only`), or one beyond the size bound whose lines are now being emitted
    /// as unparsed.
    Skipped,
    Record(Entry<'a>),
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

enum CmtraceParse<'a> {
    Record {
        entry_end: usize,
        fields: CmtraceFields<'a>,
    },
    /// No well-formed record at this position; the bytes up to `until` are unparsed lines.
    Truncated {
        until: usize,
    },
}

/// The local time (when both parts read) and the bias of a record's `MM-DD-YYYY` date and
/// `HH:MM:SS.fff+BIAS` time as written.
fn local_time_and_bias(date: Option<&str>, time: Option<&str>) -> (Option<NaiveDateTime>, Option<i32>) {
    let (time, bias) = time.map(parse_time_and_bias).unwrap_or((None, None));
    let local_time = match (date.and_then(parse_date_mdy), time) {
        (Some(d), Some(t)) => Some(NaiveDateTime::new(d, t)),
        _ => None,
    };
    (local_time, bias)
}

/// A CMTrace record found: its message and attributes as written, read into an `Entry` only when wanted.
struct CmtraceFields<'a> {
    message: &'a str,
    /// Between `<` and `>` after `]LOG]!>`.
    attrs: &'a str,
}

impl<'a> CmtraceFields<'a> {
    fn into_entry(self, line: u32) -> Entry<'a> {
        let (mut time, mut date, mut component, mut thread, mut type_, mut file) =
            (None, None, "", None, None, None);
        for (name, value) in (Attributes { s: self.attrs }) {
            match name {
                "time" => time = Some(value),
                "date" => date = Some(value),
                "component" => component = value,
                "thread" => thread = Some(value),
                "type" => type_ = Some(value),
                "file" => file = Some(value),
                _ => {}
            }
        }
        let (local_time, bias) = local_time_and_bias(date, time);
        Entry {
            line,
            local_time,
            bias_minutes: bias,
            component,
            thread: thread.and_then(|t: &str| t.trim().parse().ok()),
            severity: type_.map_or(Severity::Info, Severity::from_cmtrace_type),
            source: file.filter(|f: &&str| !f.is_empty()),
            message: normalize_newlines(self.message),
            format: LineFormat::Cmtrace,
        }
    }
}

/// `\r\n` → `\n` (and a lone `\r` kept as is), byte order marks at line starts dropped, without copying
/// when there is none.
fn normalize_newlines(s: &str) -> Cow<'_, str> {
    if memchr::memchr2(b'\r', BOM[0], s.as_bytes()).is_none() {
        return Cow::Borrowed(s);
    }
    let s = if memchr::memchr(b'\r', s.as_bytes()).is_some() {
        Cow::Owned(s.replace("\r\n", "\n"))
    } else {
        Cow::Borrowed(s)
    };
    strip_line_boms(s)
}

/// Whether the `]LOG]!>` at `close` ends a CMTrace record whose text must end before `end`: it must be
/// followed at once by `<`, then, on the same line and before `end`, by a `>` that closes a list of
/// CMTrace attributes (one of them `time` or `date`). Any other `]LOG]!>` is message text (a message may
/// quote one). Returns the offset of that `>`.
fn close_ends_record(text: &str, close: usize, end: usize) -> Option<usize> {
    let b = text.as_bytes();
    let lt = close + LOG_CLOSE.len();
    if lt >= end || b[lt] != b'<' {
        return None;
    }
    let scan = &b[lt + 1..end];
    let Some(i) = memchr::memchr2(b'>', b'\n', scan) else {
        examined(scan.len());
        return None;
    };
    examined(i + 1);
    if scan[i] != b'>' {
        return None;
    }
    let gt = lt + 1 + i;
    cmtrace_attributes(&text[lt + 1..gt]).then_some(gt)
}

/// Whether an attribute list (between `<` and `>`) is CMTrace's: it names a `time` or a `date`.
fn cmtrace_attributes(attrs: &str) -> bool {
    attrs.starts_with("time=") || (Attributes { s: attrs }).any(|(name, _)| name == "time" || name == "date")
}

/// `name="value"` pairs, tolerant of missing, extra or unquoted attributes.
struct Attributes<'a> {
    s: &'a str,
}

impl<'a> Iterator for Attributes<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<(&'a str, &'a str)> {
        loop {
            let s = self.s.trim_start_matches([' ', '\t']);
            if s.is_empty() {
                return None;
            }
            let b = s.as_bytes();
            let eq = memchr::memchr(b'=', b)?;
            let name = s[..eq].trim();
            let rest = &s[eq + 1..];
            let (value, remaining) = if let Some(r) = rest.strip_prefix('"') {
                match memchr::memchr(b'"', r.as_bytes()) {
                    Some(q) => (&r[..q], &r[q + 1..]),
                    None => (r, ""),
                }
            } else {
                let end = memchr::memchr2(b' ', b'\t', rest.as_bytes()).unwrap_or(rest.len());
                (&rest[..end], &rest[end..])
            };
            self.s = remaining;
            if name.is_empty() || name.bytes().any(|c| c == b' ' || c == b'\t') {
                continue;
            }
            return Some((name, value));
        }
    }
}

fn parse_digits(s: &[u8]) -> Option<u32> {
    if s.is_empty() || s.len() > 9 {
        return None;
    }
    let mut v: u32 = 0;
    for &b in s {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (b - b'0') as u32;
    }
    Some(v)
}

/// `HH:MM:SS.fff+BIAS` → (time, bias). The fraction is split from the bias at the sign character (never by
/// digit count: 7-digit fractions exist). A bias with |minutes| > 840 is rejected (None) rather than guessed.
pub fn parse_time_and_bias(s: &str) -> (Option<NaiveTime>, Option<i32>) {
    let b = s.trim().as_bytes();
    let sign_pos = b.iter().position(|&c| c == b'+' || c == b'-');
    let (clock, bias) = match sign_pos {
        Some(p) => (&b[..p], Some(&b[p..])),
        None => (b, None),
    };
    let bias = bias.and_then(|bb| {
        let neg = bb[0] == b'-';
        let v = parse_digits(&bb[1..])? as i32;
        (v <= MAX_BIAS_MINUTES).then_some(if neg { -v } else { v })
    });
    (parse_clock(clock), bias)
}

/// `HH:MM:SS` with an optional `.fraction` of any length.
fn parse_clock(b: &[u8]) -> Option<NaiveTime> {
    let (hms, frac) = match b.iter().position(|&c| c == b'.') {
        Some(p) => (&b[..p], Some(&b[p + 1..])),
        None => (b, None),
    };
    let mut parts = hms.split(|&c| c == b':');
    let h = parse_digits(parts.next()?)?;
    let m = parse_digits(parts.next()?)?;
    let sec = parse_digits(parts.next()?)?;
    if parts.next().is_some() {
        return None;
    }
    let nanos = match frac {
        None => 0,
        Some([]) => 0,
        Some(f) => {
            let digits = &f[..f.len().min(9)];
            let v = parse_digits(digits)?;
            if !f[digits.len()..].iter().all(u8::is_ascii_digit) {
                return None;
            }
            v * 10u32.pow(9 - digits.len() as u32)
        }
    };
    NaiveTime::from_hms_nano_opt(h, m, sec, nanos)
}

/// `MM-DD-YYYY` (month first; padding optional: `9-3-2026`).
pub fn parse_date_mdy(s: &str) -> Option<NaiveDate> {
    let mut parts = s.trim().split(['-', '/']);
    let m = parse_digits(parts.next()?.as_bytes())?;
    let d = parse_digits(parts.next()?.as_bytes())?;
    let y = parse_digits(parts.next()?.as_bytes())?;
    if parts.next().is_some() || !(1000..=9999).contains(&y) {
        return None;
    }
    NaiveDate::from_ymd_opt(y as i32, m, d)
}

struct SmsTrailer<'a> {
    message_len: usize,
    component: &'a str,
    /// `MM-DD-YYYY HH:MM:SS.fff+BIAS` as written, read by `into_entry`.
    datetime: &'a str,
    thread: Option<u32>,
}

impl<'a> SmsTrailer<'a> {
    fn into_entry(self, raw_message: &'a str, line: u32) -> Entry<'a> {
        let message = sms_message(raw_message);
        let severity = infer_severity(&message);
        let (date, time) = self.datetime.split_once(' ').unwrap_or((self.datetime, ""));
        let (local_time, bias) = local_time_and_bias(Some(date), Some(time));
        Entry {
            line,
            local_time,
            bias_minutes: bias,
            component: self.component,
            thread: self.thread,
            severity,
            source: None,
            message,
            format: LineFormat::Sms,
        }
    }
}

/// The message of an SMS-format record: trailing blanks trimmed, `\r\n` and `~~` as `\n`.
fn sms_message(raw: &str) -> Cow<'_, str> {
    // A message ending in `~~` (most connector lines) ends in line breaks that the trim drops: drop them
    // first, so that such a message is borrowed, not copied. `~~` pairs from the left, so only a run of
    // an even number of trailing `~` turns wholly into line breaks.
    let mut trimmed = raw.trim_end();
    loop {
        let run = trimmed.len() - trimmed.trim_end_matches('~').len();
        if run == 0 || run % 2 == 1 {
            break;
        }
        trimmed = trimmed[..trimmed.len() - run].trim_end();
    }
    let needs = memchr::memchr2(b'\r', BOM[0], trimmed.as_bytes()).is_some() || trimmed.contains("~~");
    if !needs {
        return Cow::Borrowed(trimmed);
    }
    let s = trimmed.replace("\r\n", "\n");
    // Byte order marks that start the message's lines go before `~~` becomes a line break: only real
    // line starts lose them.
    let s = strip_line_boms(Cow::Owned(s)).replace("~~", "\n");
    let t = s.trim_end();
    if t.len() == s.len() {
        Cow::Owned(s)
    } else {
        Cow::Owned(t.to_string())
    }
}

/// Does this physical line (without its `\n`) end a server-format record: a message, or nothing, followed by
/// the `$$<Component><time><thread=N (0xN)>` trailer? For a reader that must know where a record ends before
/// the rest of the file is written (`tail`).
pub fn is_sms_trailer_line(line: &str) -> bool {
    parse_sms_line(trim_cr(line)).is_some()
}

/// Parse `...$$<Component><MM-DD-YYYY HH:MM:SS.fff+BIAS><thread=N (0xN)>` at the end of a physical line.
fn parse_sms_line(line: &str) -> Option<SmsTrailer<'_>> {
    let b = line.as_bytes();
    let mark = finder_sms().rfind(b)?;
    let trailer = line[mark + SMS_MARK.len()..].trim_end();
    // Component>
    let c_end = memchr::memchr(b'>', trailer.as_bytes())?;
    let component = &trailer[..c_end];
    let rest = trailer[c_end + 1..].strip_prefix('<')?;
    let dt_end = memchr::memchr(b'>', rest.as_bytes())?;
    let datetime = &rest[..dt_end];
    let rest = rest[dt_end + 1..].strip_prefix('<')?;
    let thread_part = rest.strip_suffix('>')?;
    let thread = thread_part
        .strip_prefix("thread=")
        .and_then(|t| t.split_whitespace().next())
        .and_then(|t| t.parse().ok());
    Some(SmsTrailer { message_len: mark, component, datetime, thread })
}

fn severity_words() -> &'static AhoCorasick {
    static AC: OnceLock<AhoCorasick> = OnceLock::new();
    AC.get_or_init(|| {
        AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostFirst)
            .build(["failover", "error", "fail", "warn"])
            .expect("static patterns")
    })
}

/// Severity of a line with no severity field (SMS format), inferred from its text the way CMTrace
/// highlights: `error`, or `fail` but not `failover`, is an error; `warn` a warning; else info.
pub fn infer_severity(message: &str) -> Severity {
    let mut sev = Severity::Info;
    for m in severity_words().find_iter(message) {
        match m.pattern().as_usize() {
            0 => {}
            1 | 2 => return Severity::Error,
            _ => sev = Severity::Warning,
        }
    }
    sev
}

/// The offset in `before` of its last `<![LOG[`. A text without any (server-format logs) is ruled out by
/// one forward SIMD search; otherwise the marker is looked for in growing blocks from the end, so that
/// finding it costs about its distance from the end.
fn last_open(before: &[u8]) -> Option<usize> {
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
fn record_open_at(text: &str, prev: usize, ls: usize, max: usize) -> Option<usize> {
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
fn record_open_after_line(
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
fn next_boundary_within(text: &str, format: LineFormat, prev: usize, from: usize, max: usize) -> usize {
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, Timelike};

    fn entries(text: &str, f: LineFormat) -> Vec<Record<'_>> {
        Records::new(text, f, 1).collect()
    }

    fn entry<'a>(r: &'a Record<'a>) -> &'a Entry<'a> {
        match r {
            Record::Entry(e) => e,
            Record::Unparsed { line, text } => panic!("unparsed line {line}: {text}"),
        }
    }

    #[test]
    fn keep_only_skips_entries_and_keeps_everything_else() {
        let cm = |msg: &str, t: &str| {
            format!("<![LOG[{msg}]LOG]!><time=\"01:02:03.004+060\" date=\"01-02-2020\" component=\"c\" context=\"\" type=\"{t}\" thread=\"7\" file=\"\">\r\n")
        };
        let sms = |msg: &str| format!("{msg} $$<C><01-02-2020 01:02:03.000+00><thread=1 (0x1)>\r\n");
        let cmtrace: String = [
            cm("keep me", "1"),
            cm("quiet", "3"),
            cm("multi\r\nline keep", "2"),
            cm("multi\r\nline quiet", "1"),
            "garbage line\r\n".to_string(),
            "<![LOG[truncated keep]LOG]!><time=\r\n".to_string(),
            cm("last keep", "1"),
        ]
        .concat();
        let server: String = [
            sms("keep one"),
            sms("quiet~~two"),
            "first line of keep\r\n".to_string(),
            sms("rest~~of it"),
            "stray\r\n".to_string(),
            sms("another quiet"),
        ]
        .concat();
        let keep = |raw: &str| raw.contains("keep");
        for (text, format) in [(&cmtrace, LineFormat::Cmtrace), (&server, LineFormat::Sms)] {
            let all: Vec<Record<'_>> = Records::new(text, format, 1).collect();
            let mut records = Records::new(text, format, 1).keep_only(&keep);
            let kept: Vec<Record<'_>> = records.by_ref().collect();
            let expected: Vec<Record<'_>> = all
                .iter()
                .filter(|r| match r {
                    Record::Entry(e) => e.message.contains("keep"),
                    Record::Unparsed { .. } => true,
                })
                .cloned()
                .collect();
            assert_eq!(kept, expected, "{format:?}");
            let entries = all.iter().filter(|r| matches!(r, Record::Entry(_))).count() as u64;
            let kept_entries = kept.iter().filter(|r| matches!(r, Record::Entry(_))).count() as u64;
            assert!(records.skipped() >= 2, "{format:?}");
            assert_eq!(kept_entries + records.skipped(), entries, "{format:?}");
        }
    }

    #[test]
    fn sms_message_borrows_trailing_breaks_and_reads_like_replacing_them() {
        let reference = |raw: &str| {
            let s = raw.trim_end().replace("\r\n", "\n").replace("~~", "\n");
            s.trim_end().to_string()
        };
        let tails =
            ["", "~", "~~", "~~~", "~~~~", "~~~~~", " ~~", "~~ ", "~~ ~~", "~ ~~", "\r\n~~", "~~\r\n x"];
        let heads = ["msg", "a~~b", "a\r\nb", "", " ", "x~"];
        for head in heads {
            for tail in tails {
                let raw = format!("{head}{tail}");
                assert_eq!(sms_message(&raw), reference(&raw), "{raw:?}");
            }
        }
        assert!(matches!(sms_message("ElapsedTime: 88 ms~~"), Cow::Borrowed("ElapsedTime: 88 ms")));
        assert!(matches!(sms_message("odd~~~"), Cow::Owned(_)));
    }

    #[test]
    fn last_open_is_the_last_marker() {
        let naive = |b: &[u8]| memmem::rfind(b, LOG_OPEN);
        let pieces: [&[u8]; 6] = [b"<![LOG[", b"]LOG]!>", b"<![LO", b"G]!>", b"text\n", b"$$<C><x>"];
        let mut seed = 12345u64;
        for n in 0..3000 {
            let mut text = Vec::new();
            // Long runs of filler put markers on both sides of the 4 KB, 8 KB, ... block edges.
            let parts = 1 + n % 40;
            for _ in 0..parts {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let p = pieces[(seed >> 33) as usize % pieces.len()];
                let filler = (seed >> 20) as usize % if n % 3 == 0 { 9000 } else { 40 };
                text.extend(std::iter::repeat_n(b'.', filler));
                text.extend_from_slice(p);
            }
            for cut in [text.len(), text.len().saturating_sub(3), text.len() / 2] {
                assert_eq!(last_open(&text[..cut]), naive(&text[..cut]), "case {n} cut {cut}");
            }
        }
        // A marker across each of the first block edges (4 KB, then 8 KB more, then 16 KB more).
        for edge in [4096usize, 12288, 28672] {
            for pad in edge - 10..edge + 10 {
                for (first, second) in [(LOG_CLOSE, LOG_OPEN), (LOG_OPEN, LOG_CLOSE)] {
                    let mut text = first.to_vec();
                    text.extend_from_slice(second);
                    text.extend(std::iter::repeat_n(b'.', pad));
                    assert_eq!(last_open(&text), naive(&text), "edge {edge} pad {pad}");
                }
            }
        }
    }

    #[test]
    fn cmtrace_record_fields_and_utc() {
        let t = "<![LOG[Getting AAD info from CMG 'CMG.CLOUDAPP.NET']LOG]!><time=\"07:31:40.123+480\" date=\"06-24-2020\" component=\"ccmsetup\" context=\"\" type=\"1\" thread=\"3396\" file=\"ccmsetup.cpp:9498\">\r\n";
        let r = entries(t, LineFormat::Cmtrace);
        assert_eq!(r.len(), 1);
        let e = entry(&r[0]);
        assert_eq!(e.line, 1);
        assert_eq!(e.message, "Getting AAD info from CMG 'CMG.CLOUDAPP.NET'");
        assert_eq!(e.component, "ccmsetup");
        assert_eq!(e.thread, Some(3396));
        assert_eq!(e.severity, Severity::Info);
        assert_eq!(e.source, Some("ccmsetup.cpp:9498"));
        assert_eq!(e.bias_minutes, Some(480));
        let utc = e.utc().unwrap();
        assert_eq!((utc.hour(), utc.minute(), utc.second()), (15, 31, 40));
        assert_eq!(utc.timestamp_subsec_millis(), 123);
    }

    #[test]
    fn negative_bias_and_seven_digit_fraction() {
        let (t, b) = parse_time_and_bias("10:00:00.1234567-60");
        assert_eq!(b, Some(-60));
        assert_eq!(t.unwrap().nanosecond(), 123_456_700);
        let (t, b) = parse_time_and_bias("10:00:00.123456");
        assert_eq!(b, None);
        assert_eq!(t.unwrap().nanosecond(), 123_456_000);
        assert_eq!(parse_time_and_bias("10:00:00.000+900").1, None, "bias beyond 840 is rejected");
        assert_eq!(parse_time_and_bias("10:00:00.000+00").1, Some(0));
        assert_eq!(parse_time_and_bias("25:00:00.000+00").0, None);
    }

    #[test]
    fn unpadded_and_impossible_dates() {
        assert_eq!(parse_date_mdy("9-3-2026").unwrap().day(), 3);
        assert!(parse_date_mdy("02-30-2020").is_none());
        assert!(parse_date_mdy("13-01-2020").is_none());
    }

    #[test]
    fn multi_line_message_and_following_record_lines() {
        let t = "<![LOG[Received message '<SiteInfoReply SchemaVersion=\"1.00\">\r\n  <Site/>\r\n</SiteInfoReply>']LOG]!><time=\"15:10:29.068+00\" date=\"02-04-2020\" component=\"ccmsetup\" context=\"\" type=\"1\" thread=\"1\" file=\"\">\r\n<![LOG[next]LOG]!><time=\"15:10:29.068+00\" date=\"02-04-2020\" component=\"ccmsetup\" context=\"\" type=\"3\" thread=\"1\" file=\"\">\r\n";
        let r = entries(t, LineFormat::Cmtrace);
        assert_eq!(r.len(), 2);
        let e = entry(&r[0]);
        assert_eq!(
            e.message,
            "Received message '<SiteInfoReply SchemaVersion=\"1.00\">\n  <Site/>\n</SiteInfoReply>'"
        );
        assert_eq!(e.source, None);
        let e2 = entry(&r[1]);
        assert_eq!(e2.line, 4);
        assert_eq!(e2.severity, Severity::Error);
    }

    #[test]
    fn truncated_record_lines_are_unparsed_and_next_record_survives() {
        let t = "<![LOG[cut off here\nsecond line\n<![LOG[ok]LOG]!><time=\"01:02:03.004+000\" date=\"01-02-2020\" component=\"c\" type=\"2\" thread=\"7\">\ngarbage\n";
        let r = entries(t, LineFormat::Cmtrace);
        assert_eq!(r.len(), 4, "{r:?}");
        assert_eq!(r[0], Record::Unparsed { line: 1, text: "<![LOG[cut off here" });
        assert_eq!(r[1], Record::Unparsed { line: 2, text: "second line" });
        let e = entry(&r[2]);
        assert_eq!((e.line, e.message.as_ref(), e.severity), (3, "ok", Severity::Warning));
        assert_eq!(r[3], Record::Unparsed { line: 4, text: "garbage" });
    }

    #[test]
    fn missing_attributes_and_bias() {
        let t = "<![LOG[x]LOG]!><time=\"01:02:03.004\" date=\"01-02-2020\">";
        let r = entries(t, LineFormat::Cmtrace);
        let e = entry(&r[0]);
        assert!(e.local_time.is_some());
        assert_eq!(e.bias_minutes, None);
        assert_eq!(e.utc(), None);
        assert_eq!(e.component, "");
        assert_eq!(e.thread, None);
    }

    #[test]
    fn sms_line_with_tildes() {
        let t = "RequestUri: /CCM_PROXY_SERVERAUTH/72057594037937981/CCM_STS  RequestCount: 1  AverageElapsedTime: 218 ms~~  $$<CMGService><06-24-2020 15:31:46.376+00><thread=4992 (0x1380)>\r\nMessageID: 3087 ResponseHeader: HTTP/1.1 200 OK ~~ ResponseBodySize: 0 $$<SMS_CLOUD_PROXYCONNECTOR><06-24-2020 08:31:46.380+420><thread=12 (0xC)>\r\n";
        let r = entries(t, LineFormat::Sms);
        assert_eq!(r.len(), 2);
        let e = entry(&r[0]);
        assert_eq!(e.component, "CMGService");
        assert_eq!(e.message, "RequestUri: /CCM_PROXY_SERVERAUTH/72057594037937981/CCM_STS  RequestCount: 1  AverageElapsedTime: 218 ms");
        assert_eq!(e.thread, Some(4992));
        assert_eq!(e.bias_minutes, Some(0));
        let e = entry(&r[1]);
        assert_eq!(e.message, "MessageID: 3087 ResponseHeader: HTTP/1.1 200 OK \n ResponseBodySize: 0");
        assert_eq!(e.line, 2);
        assert_eq!(e.utc().unwrap().hour(), 15);
    }

    #[test]
    fn sms_multi_line_text_before_trailer() {
        let t = "first part\nsecond part $$<C><01-02-2020 01:02:03.000+00><thread=1 (0x1)>\nlonely\n";
        let r = entries(t, LineFormat::Sms);
        assert_eq!(r.len(), 2, "{r:?}");
        let e = entry(&r[0]);
        assert_eq!((e.line, e.message.as_ref()), (1, "first part\nsecond part"));
        assert_eq!(r[1], Record::Unparsed { line: 3, text: "lonely" });
    }

    #[test]
    fn tail_after_record_is_unparsed_not_the_start_of_a_server_message() {
        // Found by fuzzing: in a server-format file, garbage after a CMTrace record on the same line must not
        // join the next server-format message (chunked and whole parses must agree).
        let t = "<![LOG[a]LOG]!><time=\"01:02:03.004+000\" date=\"01-02-2020\">tail\nnext $$<C><01-02-2020 01:02:03.000+00><thread=1 (0x1)>\n";
        let r = entries(t, LineFormat::Sms);
        assert_eq!(r.len(), 3, "{r:?}");
        assert_eq!(r[1], Record::Unparsed { line: 1, text: "tail" });
        assert_eq!(entry(&r[2]).message, "next");
        assert_eq!(entry(&r[2]).line, 2);
    }

    #[test]
    fn inferred_severity() {
        assert_eq!(infer_severity("ERROR: Failed to build Http connection"), Severity::Error);
        assert_eq!(infer_severity("Connection failover to the next"), Severity::Info);
        assert_eq!(infer_severity("failover then failed"), Severity::Error);
        assert_eq!(infer_severity("Warning: slow"), Severity::Warning);
        assert_eq!(infer_severity("all good"), Severity::Info);
    }

    #[test]
    fn boundaries_split_on_records() {
        let t = "<![LOG[a\nb]LOG]!><time=\"01:02:03.004+0\" date=\"01-02-2020\">\n<![LOG[c]LOG]!><time=\"01:02:03.004+0\" date=\"01-02-2020\">\n";
        let b = next_boundary(t, LineFormat::Cmtrace, 0, 1);
        assert!(t[b..].starts_with("<![LOG[c"));
        let s = "x $$<C><01-02-2020 01:02:03.000+00><thread=1 (0x1)>\ny\nz $$<C><01-02-2020 01:02:03.000+00><thread=1 (0x1)>\n";
        let b = next_boundary(s, LineFormat::Sms, 0, 1);
        assert!(s[b..].starts_with("y\n"));
    }

    const CM: &str = "<![LOG[Sending message to 'MP_PolicyManager'.]LOG]!><time=\"07:31:47.500+480\" date=\"06-24-2020\" component=\"CcmMessaging\" context=\"\" type=\"1\" thread=\"3396\" file=\"ccmmessaging.cpp:1234\">";
    const SMS: &str = "MessageID: 3087 ResponseHeader: HTTP/1.1 200 OK ~~ ElapsedTime: 2 ms  $$<SMS_CLOUD_PROXYCONNECTOR><06-24-2020 15:31:46.001+00><thread=4992 (0x1380)>";
    const SETUP: &str = "<Fri Dec  9 11:25:00 2022> Parameters: C:\\Program Files\\Microsoft Configuration Manager\\bin\\x64\\rolesetup.exe /install /siteserver:SERVER SMSFSP 0";

    /// `unit` repeated up to `n` bytes.
    fn repeated(unit: &str, n: usize) -> String {
        unit.repeat(n / unit.len() + 1)
    }

    /// Chunks as `scan::chunks` splits them, at the given record-size bound.
    fn chunk_starts(text: &str, format: LineFormat, target: usize, max: usize) -> Vec<usize> {
        let mut bounds = vec![0];
        let mut pos = 0;
        while pos < text.len() {
            pos = if text.len() - pos <= target + target / 2 {
                text.len()
            } else {
                next_boundary_within(text, format, pos, pos + target, max)
            };
            bounds.push(pos);
        }
        bounds
    }

    /// Whole-text records (with the oversized count) and chunk-by-chunk records, at a record-size bound.
    fn whole_and_chunked(
        text: &str,
        format: LineFormat,
        target: usize,
        max: usize,
    ) -> [(Vec<Record<'_>>, u64); 2] {
        let mut whole = Records::new(text, format, 1).with_max_record(max);
        let all: Vec<Record<'_>> = whole.by_ref().collect();
        let bounds = chunk_starts(text, format, target, max);
        let (mut pieced, mut oversized, mut line) = (Vec::new(), 0, 1);
        for w in bounds.windows(2) {
            let piece = &text[w[0]..w[1]];
            let mut records = Records::new(piece, format, line).with_max_record(max);
            pieced.extend(records.by_ref());
            oversized += records.oversized();
            line += piece.bytes().filter(|&b| b == b'\n').count() as u32;
        }
        [(all, whole.oversized()), (pieced, oversized)]
    }

    #[test]
    fn record_splitting_reads_each_byte_a_bounded_number_of_times() {
        // Hostile layouts that made splitting quadratic (CR only, no separator, one line, markers without
        // their partner) and ordinary ones, in both formats: the bytes the searches read, whole and chunked,
        // stay under a fixed multiple of the text's size at 1 MB and at 4 MB.
        let kinds: Vec<(&str, String)> = vec![
            ("lf", format!("{CM}\n")),
            ("crlf", format!("{CM}\r\n")),
            ("cr only", format!("{CM}\r")),
            ("no separator", CM.to_string()),
            ("one line", "x".repeat(100)),
            ("opens, no close", "<![LOG[a message that never ends ".to_string()),
            ("opens, no close, lf", "<![LOG[a message that never ends\n".to_string()),
            ("closes, no open", "]LOG]!><time=\"1\"> ".to_string()),
            ("quoted closes", "a ]LOG]!> quoted ]LOG]!><b> and ]LOG]!><".to_string()),
            ("sms lf", format!("{SMS}\n")),
            ("sms cr only", format!("{SMS}\r")),
            ("sms no separator", SMS.to_string()),
            ("sms message lines", "a line of a message that waits for its trailer\n".to_string()),
            ("setup lf", format!("{SETUP}\n")),
            ("setup bom crlf", format!("\u{FEFF}{SETUP}\r\n")),
            ("setup no separator", SETUP.to_string()),
            ("setup continuation lines", "a line that continues a setup message\n".to_string()),
            ("setup record and continuation", format!("{SETUP}\nand its second line\n")),
            ("boms only", "\u{FEFF}\u{FEFF}\n".to_string()),
            ("prefix starts", "<Fri Dec  9 11:25".to_string()),
        ];
        for size in [1 << 20, 4 << 20] {
            for (name, unit) in &kinds {
                // A record start first, so that the hostile units sit inside an open record too.
                let text = format!("<![LOG[{}", repeated(unit, size));
                let formats: &[LineFormat] = if size == 1 << 20 {
                    &[LineFormat::Cmtrace, LineFormat::Sms, LineFormat::Setup, LineFormat::Unknown]
                } else {
                    &[LineFormat::Cmtrace, LineFormat::Sms, LineFormat::Setup]
                };
                for &format in formats {
                    // Entries are passed over (not read into fields): only the splitting is measured.
                    let none = |_: &str| false;
                    let split = |text, first_line| {
                        let mut records = Records::new(text, format, first_line).keep_only(&none);
                        records.by_ref().count() as u64 + records.skipped()
                    };
                    let before = examined_so_far();
                    let n = split(&text, 1);
                    let whole = examined_so_far() - before;
                    let before = examined_so_far();
                    let parts = crate::scan::chunks(&text, format, 64 << 10);
                    let m: u64 = parts.iter().map(|c| split(c.text, c.first_line)).sum();
                    let chunked = examined_so_far() - before;
                    assert_eq!(n, m, "{name} {format:?}");
                    let len = text.len() as u64;
                    assert!(whole <= 4 * len, "{name} {format:?} {size}: whole read {whole} for {len}");
                    assert!(chunked <= 8 * len, "{name} {format:?} {size}: chunked read {chunked} for {len}");
                }
            }
        }
    }

    #[test]
    fn quoted_close_markers_stay_in_the_message() {
        let tail = "time=\"01:02:03.004+000\" date=\"01-02-2020\" component=\"c\" type=\"1\" thread=\"7\">";
        let messages = [
            "pattern ]LOG]!> in the text",
            "]LOG]!>",
            "html ]LOG]!><b>bold</b>",
            "]LOG]!><component=\"x\"> no time",
            "cut ]LOG]!><time=\"1\"\nsecond line",
            "ends with ]LOG]!>",
            "]LOG]!><",
        ];
        for msg in messages {
            let t = format!("<![LOG[{msg}]LOG]!><{tail}\n<![LOG[next]LOG]!><{tail}\n");
            for format in [LineFormat::Cmtrace, LineFormat::Sms, LineFormat::Unknown] {
                let r = entries(&t, format);
                assert_eq!(r.len(), 2, "{msg:?} {r:?}");
                assert_eq!(entry(&r[0]).message, msg);
                assert_eq!(entry(&r[1]).line, 2 + msg.matches('\n').count() as u32);
                for target in [1, 8, 30] {
                    let [whole, pieced] = whole_and_chunked(&t, format, target, MAX_RECORD_BYTES);
                    assert_eq!(whole, pieced, "{msg:?} {format:?} {target}");
                }
            }
        }
        // With no real end before the next record, the record is broken: its lines are unparsed.
        let t = format!("<![LOG[a ]LOG]!><b>\nc\n<![LOG[next]LOG]!><{tail}\n");
        let r = entries(&t, LineFormat::Cmtrace);
        assert_eq!(
            r[..2],
            [
                Record::Unparsed { line: 1, text: "<![LOG[a ]LOG]!><b>" },
                Record::Unparsed { line: 2, text: "c" }
            ]
        );
        assert_eq!(entry(&r[2]).message, "next");
    }

    #[test]
    fn records_beyond_the_bound_are_unparsed_and_counted() {
        let tail = "]LOG]!><time=\"01:02:03.004+000\" date=\"01-02-2020\">";
        let big = format!("<![LOG[{}\n{}{tail}\n", "a".repeat(50), "b".repeat(50));
        let t = format!("<![LOG[small{tail}\n{big}<![LOG[after{tail}\n");
        for (max, expected) in [(1000, 3), (100, 2)] {
            let mut records = Records::new(&t, LineFormat::Cmtrace, 1).with_max_record(max);
            let r: Vec<Record<'_>> = records.by_ref().collect();
            let n = r.iter().filter(|r| matches!(r, Record::Entry(_))).count();
            assert_eq!(n, expected, "{r:?}");
            assert_eq!(records.oversized(), 3 - n as u64);
            if n == 2 {
                // The small records fit; the big one's lines are unparsed and the next record survives.
                assert_eq!(r.len(), 1 + 2 + 1);
                assert!(matches!(r[1], Record::Unparsed { line: 2, .. }));
                assert!(matches!(r[2], Record::Unparsed { line: 3, .. }));
            }
        }
        // Exactly at the bound is a record; a byte more is not.
        let rec = format!("<![LOG[x{tail}");
        for (max, n) in [(rec.len(), 1), (rec.len() - 1, 0)] {
            let r: Vec<Record<'_>> =
                Records::new(&rec, LineFormat::Cmtrace, 1).with_max_record(max).collect();
            assert_eq!(r.iter().filter(|r| matches!(r, Record::Entry(_))).count(), n);
        }
        // Server format: message lines and trailer line together within the bound, or all unparsed.
        let s = format!(
            "one\ntwo\nthree {}\nlast {}\n",
            &SMS[SMS.find("  $$<").unwrap()..],
            &SMS[SMS.find("  $$<").unwrap()..]
        );
        let first = s.find("\nlast").unwrap();
        for (max, n, unparsed) in [(first, 2, 0), (first - 1, 1, 3)] {
            let mut records = Records::new(&s, LineFormat::Sms, 1).with_max_record(max);
            let r: Vec<Record<'_>> = records.by_ref().collect();
            assert_eq!(r.iter().filter(|r| matches!(r, Record::Entry(_))).count(), n, "{r:?}");
            assert_eq!(r.len(), n + unparsed);
            assert_eq!(records.oversized(), (unparsed > 0) as u64);
            assert_eq!(entry(r.last().unwrap()).line, 4);
        }
    }

    #[test]
    fn one_line_beyond_the_real_bound_is_one_unparsed_line() {
        let line = "z".repeat(MAX_RECORD_BYTES + 10);
        for (text, format) in [
            (format!("<![LOG[{line}"), LineFormat::Cmtrace),
            (format!("{line}{}", &SMS[SMS.find("  $$<").unwrap()..]), LineFormat::Sms),
            (format!("{line}{}", &SMS[SMS.find("  $$<").unwrap()..]), LineFormat::Unknown),
        ] {
            let mut records = Records::new(&text, format, 1);
            let r: Vec<Record<'_>> = records.by_ref().collect();
            assert_eq!(r, [Record::Unparsed { line: 1, text: &text }], "{format:?}");
            assert_eq!(records.oversized(), 1);
            let pieced: Vec<Record<'_>> = crate::scan::chunks(&text, format, 1 << 20)
                .iter()
                .flat_map(|c| Records::new(c.text, format, c.first_line))
                .collect();
            assert_eq!(r, pieced);
        }
    }

    #[test]
    fn chunked_equals_whole_with_quoted_closes_and_a_small_bound() {
        let pieces: [&str; 18] = [
            "<Fri Dec  9 11:25:00 2022> ",
            "\u{FEFF}",
            "<02/09/14 22:53:28>",
            "\n<Fri Dec 9 11:25:00 2022> SMSFSP x",
            "<![LOG[",
            "]LOG]!>",
            "]LOG]!><time=\"01:02:03.004+000\" date=\"01-02-2020\">",
            "]LOG]!><b>",
            "]LOG]!><date=1",
            "<",
            ">",
            "text",
            "\n",
            "\r\n",
            "\r",
            " $$<C><01-02-2020 01:02:03.000+00><thread=1 (0x1)>",
            "~~",
            "   ",
        ];
        let mut seed = 987654321u64;
        for n in 0..3000 {
            let mut text = String::new();
            for _ in 0..1 + n % 60 {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                text.push_str(pieces[(seed >> 33) as usize % pieces.len()]);
            }
            let max = [40, 90, 200, MAX_RECORD_BYTES][n % 4];
            for format in [LineFormat::Cmtrace, LineFormat::Sms, LineFormat::Setup, LineFormat::Unknown] {
                for target in [1, 16, 64] {
                    let [whole, pieced] = whole_and_chunked(&text, format, target, max);
                    assert_eq!(whole, pieced, "{text:?} {format:?} target {target} max {max}");
                }
            }
        }
    }

    #[test]
    fn sniffs_formats() {
        assert_eq!(sniff_format("<Fri Dec  9 11:25:00 2022> SMSFSP Setup Started...."), LineFormat::Setup);
        assert_eq!(
            sniff_format("\u{FEFF}<Fri Dec 9 11:25:00 2022> a\r\n\u{FEFF}<Fri Dec 09 11:25:01 2022> b\r\n"),
            LineFormat::Setup
        );
        assert_eq!(sniff_format("<02/09/14 22:53:28> SMSWSUS Setup Started...."), LineFormat::Setup);
        assert_eq!(sniff_format("<Fry Dec  9 11:25:00 2022> not a day"), LineFormat::Unknown);
        assert_eq!(sniff_format("<Fri Dec  9 11:25 2022> no seconds"), LineFormat::Unknown);
        assert_eq!(sniff_format("<![LOG[x]LOG]!><time=\"\">"), LineFormat::Cmtrace);
        assert_eq!(sniff_format("x $$<C><01-02-2020 01:02:03.000+00><thread=1 (0x1)>"), LineFormat::Sms);
        assert_eq!(sniff_format("hello"), LineFormat::Unknown);
    }

    fn setup_log() -> String {
        [
            "\u{FEFF}<Fri Dec  9 11:25:00 2022> ====================================================================\r\n",
            "\u{FEFF}<Fri Dec  9 11:25:00 2022> SMSFSP Setup Started....\r\n",
            "\u{FEFF}<Fri Dec  9 11:25:00 2022> Parameters: C:\\Program Files\\Microsoft Configuration Manager\\bin\\x64\\rolesetup.exe /install /siteserver:SERVER SMSFSP 0\r\n",
            "\u{FEFF}<Fri Dec  9 11:25:01 2022> Installing the SMSFSP\r\n",
            "\u{FEFF}<Fri Dec 10 01:02:03 2022> Failed to register the performance counters\r\n",
            "second line of that message\r\n",
            "\r\n",
            "\u{FEFF}third line\r\n",
            "\u{FEFF}<Sat Dec 10 01:02:04 2022>    ======== Completed Installation of Pre Reqs for Role SMSFSP ========\r\n",
            "\u{FEFF}<Sat Dec 10 01:02:05 2022> Installation was successful.\r\n",
        ]
        .concat()
    }

    #[test]
    fn setup_records_local_time_component_severity_and_continuation_lines() {
        let t = setup_log();
        assert_eq!(sniff_format(&t), LineFormat::Setup);
        let r = entries(&t, LineFormat::Setup);
        assert_eq!(r.len(), 7, "{r:?}");
        let e = entry(&r[1]);
        assert_eq!((e.line, e.message.as_ref(), e.component), (2, "SMSFSP Setup Started....", "SMSFSP"));
        assert_eq!(e.format, LineFormat::Setup);
        assert!(matches!(e.message, Cow::Borrowed(_)), "a one-line message is not copied");
        assert_eq!(
            e.local_time.unwrap().format("%Y-%m-%dT%H:%M:%S%.3f").to_string(),
            "2022-12-09T11:25:00.000"
        );
        assert_eq!((e.bias_minutes, e.utc(), e.thread, e.source), (None, None, None, None));
        assert_eq!(e.severity, Severity::Info);
        let e = entry(&r[2]);
        assert_eq!(e.component, "", "Parameters: names no component");
        assert!(e.message.starts_with("Parameters: C:\\Program Files"));
        let e = entry(&r[4]);
        assert_eq!(e.line, 5);
        assert_eq!(
            e.message,
            "Failed to register the performance counters\nsecond line of that message\n\nthird line"
        );
        assert_eq!(e.severity, Severity::Error);
        assert_eq!(e.local_time.unwrap().day(), 10);
        let e = entry(&r[5]);
        assert_eq!(e.line, 9, "continuation lines are counted");
        assert_eq!(e.message, "   ======== Completed Installation of Pre Reqs for Role SMSFSP ========");
        assert!(!r.iter().any(|r| matches!(r, Record::Entry(e) if e.message.contains('\u{FEFF}'))));
        // Chunked parses agree, at every target size.
        for target in [1, 16, 64, 200] {
            let [whole, pieced] = whole_and_chunked(&t, LineFormat::Setup, target, MAX_RECORD_BYTES);
            assert_eq!(whole, pieced, "target {target}");
        }
        let b = next_boundary(&t, LineFormat::Setup, 0, t.find("second line").unwrap());
        assert!(t[b..].starts_with("\u{FEFF}<Sat Dec 10 01:02:04 2022>"), "{:?}", &t[b..]);
    }

    #[test]
    fn setup_prefix_shapes() {
        let at = |s: &str| parse_setup_prefix(s.as_bytes()).map(|(n, t)| (n, t.map(|t| t.to_string())));
        assert_eq!(at("<Fri Dec  9 11:25:00 2022> x"), Some((27, Some("2022-12-09 11:25:00".into()))));
        assert_eq!(at("<Fri Dec 9 11:25:00 2022> x"), Some((26, Some("2022-12-09 11:25:00".into()))));
        assert_eq!(at("<Fri Dec 09 11:25:00 2022>x"), Some((26, Some("2022-12-09 11:25:00".into()))));
        assert_eq!(at("<mon jan 30 1:02:03 2023> x"), Some((26, Some("2023-01-30 01:02:03".into()))));
        assert_eq!(at("<02/09/14 22:53:28> x"), Some((20, Some("2014-02-09 22:53:28".into()))));
        assert_eq!(at("<12/31/2021 23:59:59> x"), Some((22, Some("2021-12-31 23:59:59".into()))));
        // Right shape, impossible date or time: a record with no time.
        assert_eq!(at("<Mon Feb 30 11:25:00 2022> x"), Some((27, None)));
        assert_eq!(at("<13/01/14 22:53:28> x"), Some((20, None)));
        assert_eq!(at("<Mon Feb 3 25:00:00 2022> x"), Some((26, None)));
        for no in [
            "Fri Dec  9 11:25:00 2022> x",
            "<Fri Dec  9 11:25:00 22> x",
            "<Fri Dec  9 11:25:00 2022 x",
            "<Fri Dex  9 11:25:00 2022> x",
            "<Fri Dec  9 11:25:00 2022 extra> x",
            "<![LOG[x",
            "<02/09 22:53:28> x",
            "<02/09/14> x",
            "<time=\"01:02:03.004+000\">",
            "",
        ] {
            assert_eq!(at(no), None, "{no:?}");
        }
        assert_eq!(setup_component("SMSWSUS Setup Started...."), "SMSWSUS");
        assert_eq!(setup_component("SMSMP"), "SMSMP");
        assert_eq!(setup_component("SMS Setup"), "");
        assert_eq!(setup_component("Installing Pre Reqs for SMSWSUS"), "");
        assert_eq!(setup_component("ERROR: x"), "");
        assert_eq!(setup_component("SMSdp x"), "");
    }

    #[test]
    fn byte_order_marks_at_line_starts_in_every_format() {
        let cm = "<![LOG[message]LOG]!><time=\"01:02:03.004+000\" date=\"01-02-2020\" component=\"c\" type=\"1\" thread=\"1\">";
        let sms = "message $$<C><01-02-2020 01:02:03.000+00><thread=1 (0x1)>";
        let cases = [
            (format!("\u{FEFF}{cm}\r\n\u{FEFF}{cm}\r\n\u{FEFF}\r\n\u{FEFF}{cm}"), LineFormat::Cmtrace),
            (format!("\u{FEFF}{sms}\r\n\u{FEFF}{sms}\r\n\u{FEFF}\r\n\u{FEFF}{sms}"), LineFormat::Sms),
            (
                format!("\u{FEFF}first line\r\n\u{FEFF}second {sms}\r\n\u{FEFF}{sms}"),
                LineFormat::Sms,
            ),
            (
                "\u{FEFF}<Fri Dec  9 11:25:00 2022> message\r\n\u{FEFF}\u{FEFF}<Fri Dec  9 11:25:00 2022> message\r\n\u{FEFF}\r\n\u{FEFF}<Fri Dec  9 11:25:00 2022> message".to_string(),
                LineFormat::Setup,
            ),
        ];
        for (t, format) in &cases {
            assert_eq!(sniff_format(t), *format);
            let r = entries(t, *format);
            let n = if t.contains("first line") { 2 } else { 3 };
            assert_eq!(r.len(), n, "{format:?} {r:?}");
            for rec in &r {
                let e = entry(rec);
                assert!(e.message.starts_with("message") || e.message.starts_with("first line"), "{e:?}");
                assert!(!e.message.contains('\u{FEFF}'), "{e:?}");
            }
            for target in [1, 16, 64] {
                let [whole, pieced] = whole_and_chunked(t, *format, target, MAX_RECORD_BYTES);
                assert_eq!(whole, pieced, "{format:?} target {target}");
            }
        }
        // The SMS message whose first line starts with a mark: the mark goes, the lines stay.
        let r = entries(&cases[2].0, LineFormat::Sms);
        assert_eq!(entry(&r[0]).message, "first line\nsecond message");
        // A line that holds nothing but marks is blank; an unparsed line loses its marks.
        let r = entries("\u{FEFF}\u{FEFF}\n\u{FEFF}garbage\n", LineFormat::Setup);
        assert_eq!(r, [Record::Unparsed { line: 2, text: "garbage" }]);
    }

    #[test]
    fn utf16le_setup_log_with_a_mark_per_line() {
        let t = setup_log();
        let mut bytes = vec![0xFF, 0xFE];
        for u in t.encode_utf16() {
            bytes.extend_from_slice(&u.to_le_bytes());
        }
        let (text, enc) = crate::decode::decode(&bytes);
        assert_eq!(enc, crate::entry::TextEncoding::Utf16Le);
        assert_eq!(sniff_format(&text), LineFormat::Setup);
        let r = entries(&text, LineFormat::Setup);
        assert_eq!(r.len(), 7);
        assert!(r.iter().all(|r| matches!(r, Record::Entry(_))));
        assert_eq!(entry(&r[1]).component, "SMSFSP");
    }

    #[test]
    fn setup_records_beyond_the_bound_are_unparsed_and_counted() {
        let t = "<Fri Dec  9 11:25:00 2022> small\n<Fri Dec  9 11:25:00 2022> big\nmore more more more\nand more\n<Fri Dec  9 11:25:00 2022> after\n";
        let big = t.find("<Fri Dec  9 11:25:00 2022> big").unwrap();
        let big_len = t.find("\n<Fri Dec  9 11:25:00 2022> after").unwrap() - big;
        for (max, n) in [(big_len, 3), (big_len - 1, 2)] {
            let mut records = Records::new(t, LineFormat::Setup, 1).with_max_record(max);
            let r: Vec<Record<'_>> = records.by_ref().collect();
            assert_eq!(r.iter().filter(|r| matches!(r, Record::Entry(_))).count(), n, "{r:?}");
            assert_eq!(records.oversized(), 3 - n as u64);
            if n == 2 {
                assert_eq!(r[1], Record::Unparsed { line: 2, text: "<Fri Dec  9 11:25:00 2022> big" });
                assert_eq!(r[3], Record::Unparsed { line: 4, text: "and more" });
                assert_eq!(entry(&r[4]).line, 5);
            }
            for target in [1, 16, 64] {
                let [whole, pieced] = whole_and_chunked(t, LineFormat::Setup, target, max);
                assert_eq!(whole, pieced, "max {max} target {target}");
            }
        }
    }
}
