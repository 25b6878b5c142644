//! The SMS trace (server) format: the `$$<Component><date time+bias><thread=N (0xN)>` trailer, the message
//! with `~~` line breaks, and the severity inferred from its words.

use super::*;

pub(super) struct SmsTrailer<'a> {
    pub(super) message_len: usize,
    component: &'a str,
    /// `MM-DD-YYYY HH:MM:SS.fff+BIAS` as written, read by `into_entry`.
    datetime: &'a str,
    thread: Option<u32>,
}

impl<'a> SmsTrailer<'a> {
    pub(super) fn into_entry(self, raw_message: &'a str, line: u32) -> Entry<'a> {
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
pub(super) fn sms_message(raw: &str) -> Cow<'_, str> {
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
pub(super) fn parse_sms_line(line: &str) -> Option<SmsTrailer<'_>> {
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

/// Severity of a line with no severity field (SMS format), inferred from its text the way CMTrace
/// highlights: `error`, or `fail` but not `failover`, is an error; `warn` a warning; else info (letters in
/// either case). The words are found as an Aho-Corasick search for `failover`, `error`, `fail`, `warn` finds
/// them (leftmost first, each search going on after the last word found), four bytes compared at a time: the
/// automaton walked every byte of every server line one state at a time (8% of `parse` on a server-heavy
/// collection).
pub fn infer_severity(message: &str) -> Severity {
    const fn word(w: &[u8; 4]) -> u32 {
        u32::from_le_bytes(*w)
    }
    const ERRO: u32 = word(b"erro");
    const FAIL: u32 = word(b"fail");
    const OVER: u32 = word(b"over");
    const WARN: u32 = word(b"warn");
    let b = message.as_bytes();
    // Four bytes at `i` in lower case: an ASCII letter ORed with 0x20 is its lower case, and no other byte
    // becomes a lower-case letter.
    let lower4 = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]) | 0x2020_2020;
    let mut sev = Severity::Info;
    let mut i = 0;
    while i + 4 <= b.len() {
        match lower4(i) {
            FAIL if i + 8 <= b.len() && lower4(i + 4) == OVER => i += 8,
            FAIL => return Severity::Error,
            ERRO if i + 5 <= b.len() && b[i + 4] | 0x20 == b'r' => return Severity::Error,
            WARN => {
                sev = Severity::Warning;
                i += 4;
            }
            _ => i += 1,
        }
    }
    sev
}
