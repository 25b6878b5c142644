//! The two ConfigMgr line formats and the record iterator over a file's decoded text.
//!
//! - CMTrace: `<![LOG[message]LOG]!><time="HH:MM:SS.fff+BIAS" date="MM-DD-YYYY" component=".." context=""
//!   type="N" thread="N" file="..">`. Records are framed by `<![LOG[` … `]LOG]!><…>`, never by newline, so a
//!   message may span many physical lines.
//! - SMS trace (site servers, CMG): `message  $$<Component><MM-DD-YYYY HH:MM:SS.fff+BIAS><thread=N (0xN)>`.
//!   `~~` stands for an embedded line break; lines without a trailer before a trailer line are the first lines
//!   of that record's message.
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

/// Guess a file's line format from its first bytes of text.
pub fn sniff_format(text: &str) -> LineFormat {
    let head = &text.as_bytes()[..text.len().min(64 * 1024)];
    let cm = memmem::find_iter(head, LOG_OPEN).take(8).count();
    let sms = memmem::find_iter(head, b"><thread=").take(8).count();
    if cm == 0 && sms == 0 {
        LineFormat::Unknown
    } else if cm >= sms {
        LineFormat::Cmtrace
    } else {
        LineFormat::Sms
    }
}

/// Iterates the records of `text` (or of a chunk of it that starts on a record boundary).
pub struct Records<'a> {
    text: &'a str,
    pos: usize,
    line: u32,
    format: LineFormat,
    /// SMS format: start offset and line of message lines waiting for their trailer.
    pending: Option<(usize, u32)>,
    /// Queue of unparsed lines to emit (after a truncated record or dangling pending text).
    flush_until: usize,
    /// Entries whose message as written fails this are counted in `skipped`, not read.
    keep: Option<&'a dyn Fn(&str) -> bool>,
    skipped: u64,
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
            flush_until: 0,
            keep: None,
            skipped: 0,
        }
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

    fn wanted(&mut self, raw_message: &str) -> bool {
        let wanted = self.keep.is_none_or(|keep| keep(raw_message));
        if !wanted {
            self.skipped += 1;
        }
        wanted
    }

    /// One physical line of a broken CMTrace record (ending at a newline or at `flush_until`).
    fn next_flushed_line(&mut self) -> (u32, &'a str) {
        let bytes = self.text.as_bytes();
        let start = self.pos;
        let limit = self.flush_until.min(bytes.len());
        let line_no = self.line;
        match memchr::memchr(b'\n', &bytes[start..limit]) {
            Some(i) => {
                self.pos = start + i + 1;
                self.line += 1;
                (line_no, trim_cr(&self.text[start..start + i]))
            }
            None => {
                self.pos = limit;
                (line_no, trim_cr(&self.text[start..limit]))
            }
        }
    }

    fn flush_pending(&mut self) -> Option<Record<'a>> {
        // Turn the first line of pending SMS text into an unparsed record; the rest follows.
        let (start, line) = self.pending.take()?;
        let bytes = self.text.as_bytes();
        let end = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |i| start + i);
        let next = if end < bytes.len() { end + 1 } else { end };
        if next < self.pos {
            self.pending = Some((next, line + 1));
        }
        let text = trim_cr(&self.text[start..end]);
        if text.trim().is_empty() {
            return self.flush_pending().or_else(|| self.next());
        }
        Some(Record::Unparsed { line, text })
    }
}

fn trim_cr(s: &str) -> &str {
    s.strip_suffix('\r').unwrap_or(s)
}

impl<'a> Iterator for Records<'a> {
    type Item = Record<'a>;

    fn next(&mut self) -> Option<Record<'a>> {
        let bytes = self.text.as_bytes();
        loop {
            // Lines of a truncated CMTrace record are emitted as unparsed, one per line.
            if self.pos < self.flush_until {
                let (line, text) = self.next_flushed_line();
                if text.trim().is_empty() {
                    continue;
                }
                return Some(Record::Unparsed { line, text });
            }
            if self.pos >= bytes.len() {
                // End of text: SMS message lines that never got a trailer are unparsed.
                if self.pending.is_some() {
                    return self.flush_pending();
                }
                return None;
            }
            let rest = &bytes[self.pos..];
            if rest.starts_with(LOG_OPEN) {
                if self.pending.is_some() {
                    return self.flush_pending();
                }
                match parse_cmtrace_at(self.text, self.pos) {
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
                        let after = &bytes[self.pos..];
                        let eol = memchr::memchr(b'\n', after).unwrap_or(after.len());
                        let tail = &after[..eol];
                        if let Some(k) = finder_open().find(tail) {
                            self.pos += k;
                        } else if tail.iter().all(|b| b.is_ascii_whitespace()) {
                            self.pos += eol;
                            if self.pos < bytes.len() {
                                self.pos += 1;
                                self.line += 1;
                            }
                        } else {
                            // A non-blank tail without a new record is an unparsed line of its own (same
                            // line number); it never starts a server-format message.
                            self.flush_until = self.pos + eol;
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
            let eol = memchr::memchr(b'\n', rest).map_or(bytes.len(), |i| self.pos + i);
            let line_bytes = &bytes[line_start..eol];
            // A CMTrace record later on this line: the prefix is unparsed text.
            if let Some(k) = finder_open().find(line_bytes) {
                let prefix = trim_cr(&self.text[line_start..line_start + k]);
                self.pos = line_start + k;
                if prefix.trim().is_empty() {
                    continue;
                }
                if self.pending.is_some() {
                    self.pos = line_start;
                    return self.flush_pending();
                }
                return Some(Record::Unparsed { line: self.line, text: prefix });
            }
            let line_no = self.line;
            self.pos = if eol < bytes.len() { eol + 1 } else { eol };
            if eol < bytes.len() {
                self.line += 1;
            }
            let line_text = trim_cr(&self.text[line_start..eol]);
            if self.format != LineFormat::Cmtrace {
                if let Some(parsed) = parse_sms_line(line_text) {
                    let (msg_start, first_line) = match self.pending.take() {
                        Some((start, l)) => (start, l),
                        None => (line_start, line_no),
                    };
                    let msg_end = line_start + parsed.message_len;
                    let raw = &self.text[msg_start..msg_end];
                    if !self.wanted(raw) {
                        continue;
                    }
                    return Some(Record::Entry(parsed.into_entry(raw, first_line)));
                }
                if self.format == LineFormat::Sms {
                    if line_text.trim().is_empty() {
                        continue;
                    }
                    // Message text before its trailer line.
                    if self.pending.is_none() {
                        self.pending = Some((line_start, line_no));
                    }
                    continue;
                }
            }
            if line_text.trim().is_empty() {
                continue;
            }
            return Some(Record::Unparsed { line: line_no, text: line_text });
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

/// `\r\n` → `\n` (and a lone `\r` kept as is) without copying when there is none.
fn normalize_newlines(s: &str) -> Cow<'_, str> {
    if memchr::memchr(b'\r', s.as_bytes()).is_none() {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(s.replace("\r\n", "\n"))
    }
}

/// Parse the CMTrace record that starts at `pos` (which holds `<![LOG[`).
fn parse_cmtrace_at(text: &str, pos: usize) -> CmtraceParse<'_> {
    let bytes = text.as_bytes();
    let msg_start = pos + LOG_OPEN.len();
    // Bound the search for `]LOG]!>` by the next record start, so broken records cost linear time.
    let next_open = finder_open().find(&bytes[msg_start..]).map(|i| msg_start + i);
    let limit = next_open.unwrap_or(bytes.len());
    let Some(close) = finder_close().find(&bytes[msg_start..limit]).map(|i| msg_start + i) else {
        return CmtraceParse::Truncated { until: limit };
    };
    let attrs_start = close + LOG_CLOSE.len();
    // `<` then attributes then `>`; attributes never contain `>` nor a line break.
    let after = &bytes[attrs_start..];
    let eol = memchr::memchr(b'\n', after).map_or(bytes.len(), |i| attrs_start + i);
    if bytes.get(attrs_start) != Some(&b'<') {
        return CmtraceParse::Truncated { until: eol.min(limit).max(attrs_start) };
    }
    let Some(gt) = memchr::memchr(b'>', &bytes[attrs_start..eol]).map(|i| attrs_start + i) else {
        return CmtraceParse::Truncated { until: eol.min(limit).max(attrs_start) };
    };
    let fields = CmtraceFields { message: &text[msg_start..close], attrs: &text[attrs_start + 1..gt] };
    CmtraceParse::Record { entry_end: gt + 1, fields }
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
    let needs = memchr::memchr(b'\r', trimmed.as_bytes()).is_some() || trimmed.contains("~~");
    if !needs {
        return Cow::Borrowed(trimmed);
    }
    let s = trimmed.replace("\r\n", "\n").replace("~~", "\n");
    let t = s.trim_end();
    if t.len() == s.len() {
        Cow::Owned(s)
    } else {
        Cow::Owned(t.to_string())
    }
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

/// Whether `before` ends inside a CMTrace record: its last record marker is an opening one. Equal to
/// comparing the last `<![LOG[` with the last `]LOG]!>`, without reading all of `before` backwards on
/// every chunk: a text without any opening marker (server-format logs) is ruled out by one forward SIMD
/// search, and otherwise the last marker is looked for in growing blocks from the end.
fn record_open_at_end(before: &[u8]) -> bool {
    if memmem::find(before, LOG_OPEN).is_none() {
        return false;
    }
    let mut end = before.len();
    let mut block = 4096;
    loop {
        // Blocks overlap by a marker's length less one, so that no marker is cut in two.
        let start = end.saturating_sub(block);
        let part = &before[start..(end + LOG_OPEN.len() - 1).min(before.len())];
        match (memmem::rfind(part, LOG_OPEN), memmem::rfind(part, LOG_CLOSE)) {
            (Some(o), c) => return c.is_none_or(|c| c < o),
            (None, Some(_)) => return false,
            (None, None) if start == 0 => return false,
            (None, None) => {}
        }
        end = start;
        block = block.saturating_mul(2);
    }
}

/// Find the next record boundary at or after `from`, for splitting a large text into chunks that parse
/// independently to the same records as the whole text. `prev` is the previous boundary (a point where no
/// record is open). Returns `text.len()` when there is none. A boundary is a line start that begins a
/// CMTrace record, or a line start outside any open CMTrace record that (server format) follows a complete
/// trailer line, so no multi-line message is ever cut.
pub fn next_boundary(text: &str, format: LineFormat, prev: usize, from: usize) -> usize {
    let b = text.as_bytes();
    if from >= b.len() {
        return b.len();
    }
    // First line start at or after `from`.
    let mut ls = if from == 0 || b[from - 1] == b'\n' {
        from
    } else {
        match memchr::memchr(b'\n', &b[from..]) {
            Some(i) => from + i + 1,
            None => return b.len(),
        }
    };
    let mut open = record_open_at_end(&b[prev.min(ls)..ls]);
    let mut prev_line_is_trailer = {
        let pl_end = ls.saturating_sub(1);
        let pl_start = memchr::memrchr(b'\n', &b[..pl_end]).map_or(0, |j| j + 1);
        ls > 0 && parse_sms_line(trim_cr(&text[pl_start..pl_end])).is_some()
    };
    while ls < b.len() {
        let rest = &b[ls..];
        if rest.starts_with(LOG_OPEN) {
            return ls;
        }
        let ok = !open
            && match format {
                LineFormat::Sms => prev_line_is_trailer,
                LineFormat::Cmtrace | LineFormat::Unknown => true,
            };
        if ok {
            return ls;
        }
        let eol = memchr::memchr(b'\n', rest).map_or(b.len(), |i| ls + i);
        let line = &b[ls..eol];
        match (memmem::rfind(line, LOG_OPEN), memmem::rfind(line, LOG_CLOSE)) {
            (Some(o), c) => open = c.is_none_or(|c| c < o),
            (None, Some(_)) => open = false,
            (None, None) => {}
        }
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
    fn record_open_at_end_is_the_last_marker_test() {
        let naive = |b: &[u8]| {
            let (o, c) = (memmem::rfind(b, LOG_OPEN), memmem::rfind(b, LOG_CLOSE));
            matches!((o, c), (Some(o), c) if c.is_none_or(|c| c < o))
        };
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
                assert_eq!(record_open_at_end(&text[..cut]), naive(&text[..cut]), "case {n} cut {cut}");
            }
        }
        // A marker across each of the first block edges (4 KB, then 8 KB more, then 16 KB more).
        for edge in [4096usize, 12288, 28672] {
            for pad in edge - 10..edge + 10 {
                for (first, second) in [(LOG_CLOSE, LOG_OPEN), (LOG_OPEN, LOG_CLOSE)] {
                    let mut text = first.to_vec();
                    text.extend_from_slice(second);
                    text.extend(std::iter::repeat_n(b'.', pad));
                    assert_eq!(record_open_at_end(&text), naive(&text), "edge {edge} pad {pad}");
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

    #[test]
    fn sniffs_formats() {
        assert_eq!(sniff_format("<![LOG[x]LOG]!><time=\"\">"), LineFormat::Cmtrace);
        assert_eq!(sniff_format("x $$<C><01-02-2020 01:02:03.000+00><thread=1 (0x1)>"), LineFormat::Sms);
        assert_eq!(sniff_format("hello"), LineFormat::Unknown);
    }
}
