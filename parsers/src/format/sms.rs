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

pub(super) fn severity_words() -> &'static AhoCorasick {
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
