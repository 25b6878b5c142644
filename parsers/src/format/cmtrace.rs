//! The CMTrace format: one `<![LOG[...]LOG]!><time=.. date=.. component=.. ...>` record, its attributes and
//! where a record whose close marker is quoted inside a message really ends.

use super::*;

pub(super) enum CmtraceParse<'a> {
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
pub(super) fn local_time_and_bias(
    date: Option<&str>,
    time: Option<&str>,
) -> (Option<NaiveDateTime>, Option<i32>) {
    let (time, bias) = time.map(parse_time_and_bias).unwrap_or((None, None));
    let local_time = match (date.and_then(parse_date_mdy), time) {
        (Some(d), Some(t)) => Some(NaiveDateTime::new(d, t)),
        _ => None,
    };
    (local_time, bias)
}

/// A CMTrace record found: its message and attributes as written, read into an `Entry` only when wanted.
pub(super) struct CmtraceFields<'a> {
    pub(super) message: &'a str,
    /// Between `<` and `>` after `]LOG]!>`.
    pub(super) attrs: &'a str,
}

impl<'a> CmtraceFields<'a> {
    pub(super) fn into_entry(self, line: u32) -> Entry<'a> {
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
pub(super) fn normalize_newlines(s: &str) -> Cow<'_, str> {
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
pub(super) fn close_ends_record(text: &str, close: usize, end: usize) -> Option<usize> {
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
pub(super) fn cmtrace_attributes(attrs: &str) -> bool {
    attrs.starts_with("time=") || (Attributes { s: attrs }).any(|(name, _)| name == "time" || name == "date")
}

/// `name="value"` pairs, tolerant of missing, extra or unquoted attributes.
pub(super) struct Attributes<'a> {
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
