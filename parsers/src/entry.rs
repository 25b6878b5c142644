//! The parsed form of one log record: `Entry` (a record of any of the three line formats) and `Record`
//! (an entry or a line that matched no format). Entries borrow from the decoded file text.

use std::borrow::Cow;

use chrono::{DateTime, Datelike, Duration, NaiveDateTime, Utc};
use serde::Serialize;

/// Severity of a log entry. CMTrace `type` 1 → info, 2 → warning, 3 → error, anything else → info.
/// The `$$<` server format and the setup format have no severity field: it is inferred from the text
/// (see `infer_severity`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
// Doc comments on the variants would become descriptions in the analysis document's JSON Schema (an
// `enum` turned into a `oneOf`): the variants are described in `//` comments, which leave it as it is.
#[allow(missing_docs)]
pub enum Severity {
    // Information (CMTrace type 1, or no type).
    #[default]
    Info,
    // A warning (CMTrace type 2).
    Warning,
    // An error (CMTrace type 3).
    Error,
}

impl Severity {
    /// The lower-case name (`info`, `warning`, `error`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    /// CMTrace's `type="N"` attribute.
    pub fn from_cmtrace_type(t: &str) -> Severity {
        match t.trim() {
            "2" => Severity::Warning,
            "3" => Severity::Error,
            _ => Severity::Info,
        }
    }
}

/// Which line format a file (or a record) is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum LineFormat {
    /// `<![LOG[message]LOG]!><time="..." date="..." component="..." ...>`
    Cmtrace,
    /// `message $$<Component><MM-DD-YYYY HH:MM:SS.fff+BIAS><thread=N (0xN)>`
    Sms,
    /// Site-role setup logs (rolesetup.exe: MPSetup.log, SMSFSPSetup.log, SUPSetup.log, ...):
    /// `<Fri Dec  9 11:25:00 2022> message` or `<02/09/14 22:53:28> message`, local time with no bias.
    Setup,
    /// No line format was recognised (or the file could not be read).
    Unknown,
}

impl LineFormat {
    /// The lower-case name (`cmtrace`, `sms`, `setup`, `unknown`).
    pub fn as_str(self) -> &'static str {
        match self {
            LineFormat::Cmtrace => "cmtrace",
            LineFormat::Sms => "sms",
            LineFormat::Setup => "setup",
            LineFormat::Unknown => "unknown",
        }
    }
}

/// The text encoding a file was decoded from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
// Variants described in `//` comments, as `Severity`'s are (the JSON Schema stays as it is).
#[allow(missing_docs)]
pub enum TextEncoding {
    // UTF-8, with or without a byte order mark.
    #[serde(rename = "utf-8")]
    Utf8,
    // UTF-16 little-endian, with or without a byte order mark.
    #[serde(rename = "utf-16le")]
    Utf16Le,
    // UTF-16 big-endian, with or without a byte order mark.
    #[serde(rename = "utf-16be")]
    Utf16Be,
    // The Windows ANSI code page of western Europe (text that is not UTF-8).
    #[serde(rename = "windows-1252")]
    Windows1252,
}

impl TextEncoding {
    /// The name as a report shows it (`utf-8`, `utf-16le`, `utf-16be`, `windows-1252`).
    pub fn as_str(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "utf-8",
            TextEncoding::Utf16Le => "utf-16le",
            TextEncoding::Utf16Be => "utf-16be",
            TextEncoding::Windows1252 => "windows-1252",
        }
    }
}

/// One log record, borrowed from the decoded text of its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry<'a> {
    /// 1-based physical line where the record starts.
    pub line: u32,
    /// Local time as written (no zone). `None` when the record has no readable time.
    pub local_time: Option<NaiveDateTime>,
    /// Bias in minutes: UTC = local + bias. `None` when absent or unreadable.
    pub bias_minutes: Option<i32>,
    /// The writing component (`ccmsetup`, `CcmMessaging`, `SMSMP`...), empty when the format has none.
    pub component: &'a str,
    /// The writer's thread id, when the record has one.
    pub thread: Option<u32>,
    /// The severity: CMTrace's `type`, inferred from the text in the other formats.
    pub severity: Severity,
    /// The `file="..."` attribute (source file and line of the writer), if any.
    pub source: Option<&'a str>,
    /// The message; multi-line messages joined with `\n`, the `~~` of the server format as `\n`.
    pub message: Cow<'a, str>,
    /// The line format the record is written in.
    pub format: LineFormat,
}

impl Entry<'_> {
    /// UTC = local time + bias minutes. With no bias, the local time is taken as UTC is NOT assumed:
    /// the result is `None` unless both parts are known. Times are written as RFC 3339 with a four-digit
    /// year: a UTC time outside years 1..=9999 (a local time at either end of that range moved across it
    /// by its bias) cannot be, and is `None` too.
    pub fn utc(&self) -> Option<DateTime<Utc>> {
        utc_of(self.local_time?, self.bias_minutes?)
    }
}

/// UTC = `local` + `bias` minutes, `None` outside years 1..=9999 (`Entry::utc`, `Event::time`).
pub(crate) fn utc_of(local: NaiveDateTime, bias: i32) -> Option<DateTime<Utc>> {
    let utc = local.checked_add_signed(Duration::minutes(bias as i64))?;
    (1..=9999).contains(&utc.year()).then(|| utc.and_utc())
}

/// What a parser yields: a log entry, or a physical line that matched no format (kept, never dropped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record<'a> {
    /// A log entry.
    Entry(Entry<'a>),
    /// A physical line that matched no format.
    Unparsed {
        /// Its 1-based line number.
        line: u32,
        /// The line, without its line break.
        text: &'a str,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{parse_date_mdy, parse_time_and_bias};

    fn at(date: &str, time: &str) -> Entry<'static> {
        let (t, bias) = parse_time_and_bias(time);
        Entry {
            line: 1,
            local_time: Some(NaiveDateTime::new(parse_date_mdy(date).unwrap(), t.unwrap())),
            bias_minutes: bias,
            component: "",
            thread: None,
            severity: Severity::Info,
            source: None,
            message: Cow::Borrowed(""),
            format: LineFormat::Cmtrace,
        }
    }

    #[test]
    fn utc_outside_four_digit_years_is_none() {
        let rfc = |e: &Entry<'_>| e.utc().map(|u| u.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
        // Year 9999 carried into 10000 by its bias, and the last representable instants.
        // (UTC = local + bias: a bias of -60 is UTC+1, so 23:59 local is 22:59 UTC.)
        assert_eq!(rfc(&at("12-31-9999", "23:59:00.000-60")).as_deref(), Some("9999-12-31T22:59:00.000Z"));
        assert_eq!(rfc(&at("12-31-9999", "23:59:00.000+60")), None);
        assert_eq!(rfc(&at("12-31-9999", "23:30:00.000+30")), None);
        assert_eq!(rfc(&at("12-31-9999", "23:59:59.999+0")).as_deref(), Some("9999-12-31T23:59:59.999Z"));
        // UTC = local + bias: a bias of +840 moves 12-31-9999 10:00 into year 10000.
        assert_eq!(rfc(&at("12-31-9999", "10:00:00.000+840")), None);
        // The dates read are four-digit years only (1000..=9999), so year 1 is never reached from a date;
        // the other end of the check is exercised with a local time built directly.
        let mut e = at("01-01-1000", "00:00:00.000-60");
        assert_eq!(rfc(&e).as_deref(), Some("0999-12-31T23:00:00.000Z"));
        e.local_time = chrono::NaiveDate::from_ymd_opt(1, 1, 1).and_then(|d| d.and_hms_opt(0, 30, 0));
        assert_eq!(rfc(&e), None, "0001-01-01T00:30 less 60 minutes is in year 0");
        e.bias_minutes = Some(60);
        assert_eq!(rfc(&e).as_deref(), Some("0001-01-01T01:30:00.000Z"));
        e.bias_minutes = Some(-30);
        assert_eq!(rfc(&e).as_deref(), Some("0001-01-01T00:00:00.000Z"));
    }

    #[test]
    fn local_times_read_are_always_printable() {
        // Only four-digit years are read, no leap second and at most nanoseconds.
        assert!(parse_date_mdy("01-01-0999").is_none());
        assert!(parse_date_mdy("01-01-10000").is_none());
        assert!(parse_date_mdy("01-01-1000").is_some());
        assert!(parse_date_mdy("12-31-9999").is_some());
        assert_eq!(parse_time_and_bias("23:59:60.000+0").0, None);
        assert_eq!(
            parse_time_and_bias("23:59:59.9999999999+0")
                .0
                .map(|t| t.format("%H:%M:%S%.9f").to_string())
                .as_deref(),
            Some("23:59:59.999999999")
        );
    }
}
