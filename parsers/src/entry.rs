//! The parsed form of one log record: `Entry` (a record of either line format) and `Record`
//! (an entry or a line that matched no format). Entries borrow from the decoded file text.

use std::borrow::Cow;

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use serde::Serialize;

/// Severity of a log entry. CMTrace `type` 1 → info, 2 → warning, 3 → error, anything else → info.
/// The `$$<` server format has no severity field: it is inferred from the text (see `infer_severity`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    #[default]
    Info,
    Warning,
    Error,
}

impl Severity {
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
#[serde(rename_all = "lowercase")]
pub enum LineFormat {
    /// `<![LOG[message]LOG]!><time="..." date="..." component="..." ...>`
    Cmtrace,
    /// `message $$<Component><MM-DD-YYYY HH:MM:SS.fff+BIAS><thread=N (0xN)>`
    Sms,
    Unknown,
}

impl LineFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            LineFormat::Cmtrace => "cmtrace",
            LineFormat::Sms => "sms",
            LineFormat::Unknown => "unknown",
        }
    }
}

/// The text encoding a file was decoded from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum TextEncoding {
    #[serde(rename = "utf-8")]
    Utf8,
    #[serde(rename = "utf-16le")]
    Utf16Le,
    #[serde(rename = "utf-16be")]
    Utf16Be,
    #[serde(rename = "windows-1252")]
    Windows1252,
}

impl TextEncoding {
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
    pub component: &'a str,
    pub thread: Option<u32>,
    pub severity: Severity,
    /// The `file="..."` attribute (source file and line of the writer), if any.
    pub source: Option<&'a str>,
    /// The message; multi-line messages joined with `\n`, the `~~` of the server format as `\n`.
    pub message: Cow<'a, str>,
    pub format: LineFormat,
}

impl Entry<'_> {
    /// UTC = local time + bias minutes. With no bias, the local time is taken as UTC is NOT assumed:
    /// the result is `None` unless both parts are known.
    pub fn utc(&self) -> Option<DateTime<Utc>> {
        let local = self.local_time?;
        let bias = self.bias_minutes?;
        Some((local + Duration::minutes(bias as i64)).and_utc())
    }
}

/// What a parser yields: a log entry, or a physical line that matched no format (kept, never dropped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record<'a> {
    Entry(Entry<'a>),
    Unparsed { line: u32, text: &'a str },
}
