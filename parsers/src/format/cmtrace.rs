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
        if let Some([t, d, c, _context, ty, th, f]) = canonical_attributes(self.attrs) {
            (time, date, component, thread, type_, file) = (Some(t), Some(d), c, Some(th), Some(ty), Some(f));
        } else {
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

/// The attribute names of a record as ConfigMgr writes every one (each followed by `="`), in its order.
const CANONICAL_NAMES: [&[u8]; 7] =
    [b"time=\"", b"date=\"", b"component=\"", b"context=\"", b"type=\"", b"thread=\"", b"file=\""];

/// The values of `time`, `date`, `component`, `context`, `type`, `thread` and `file` when `attrs` is written
/// exactly as ConfigMgr writes it (those seven, in that order, quoted, one space apart, nothing else), else
/// `None` (`Attributes` then reads it, tolerant of anything). Read in one pass over the bytes: the general
/// reader trims and compares names for every attribute of every record, and every record has seven.
fn canonical_attributes(attrs: &str) -> Option<[&str; 7]> {
    let b = attrs.as_bytes();
    let mut at = 0;
    let mut values = [""; 7];
    for (k, name) in CANONICAL_NAMES.iter().enumerate() {
        if k > 0 {
            if b.get(at) != Some(&b' ') {
                return None;
            }
            at += 1;
        }
        if !b[at..].starts_with(name) {
            return None;
        }
        at += name.len();
        let quote = memchr::memchr(b'"', &b[at..])?;
        // Both ends are ASCII bytes (after a quote, at a quote): char boundaries.
        values[k] = &attrs[at..at + quote];
        at += quote + 1;
    }
    (at == b.len()).then_some(values)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The seven values the general reader gives, in the canonical order, for comparison.
    fn read_generally(attrs: &str) -> [Option<&str>; 7] {
        let mut values = [None; 7];
        for (name, value) in (Attributes { s: attrs }) {
            let names = ["time", "date", "component", "context", "type", "thread", "file"];
            if let Some(k) = names.iter().position(|n| *n == name) {
                values[k] = Some(value);
            }
        }
        values
    }

    /// The one-pass reader takes exactly the attribute lists written as ConfigMgr writes them, and reads
    /// them as the general reader does; anything else is left to the general reader.
    #[test]
    fn canonical_attributes_read_as_the_general_reader_reads_them() {
        let canonical = r#"time="11:26:31.640+480" date="01-15-2022" component="ClientIDManagerStartup" context="" type="3" thread="3612" file="regtask.cpp:848""#;
        let values = canonical_attributes(canonical).expect("canonical");
        assert_eq!(values.map(Some), read_generally(canonical));
        assert_eq!(values[2], "ClientIDManagerStartup");
        assert_eq!(values[3], "");
        // Values with spaces, `=`, `>` and non-ASCII text; empty values.
        let odd = r#"time="" date="" component="CCM STS=a>b" context="é ü" type="" thread="" file="""#;
        assert_eq!(canonical_attributes(odd).expect("canonical").map(Some), read_generally(odd));
        for other in [
            r#"date="01-15-2022" time="11:26:31.640+480" component="c" context="" type="1" thread="1" file="""#,
            r#"time="11:26:31.640+480" date="01-15-2022" component="c" context="" type="1" thread="1""#,
            r#"time="11:26:31.640+480"  date="01-15-2022" component="c" context="" type="1" thread="1" file="""#,
            r#"time="11:26:31.640+480"	date="01-15-2022" component="c" context="" type="1" thread="1" file="""#,
            r#"time="11:26:31.640+480" date="01-15-2022" component="c" context="" type="1" thread="1" file="" "#,
            r#"time="11:26:31.640+480" date="01-15-2022" component="c" context="" type="1" thread="1" file="x" extra="y""#,
            r#"time=11:26:31.640+480 date="01-15-2022" component="c" context="" type="1" thread="1" file="""#,
            r#"time="11:26:31.640+480" date="01-15-2022" component="c" context="" type="1" thread="1" file=""#,
            r#"TIME="11:26:31.640+480" date="01-15-2022" component="c" context="" type="1" thread="1" file="""#,
            "",
        ] {
            assert_eq!(canonical_attributes(other), None, "{other}");
        }
    }
}
