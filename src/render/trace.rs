//! `trace`'s output: the events that carry an identifier, and those of the device it names (marked `~`
//! in text, `"match": "device"` in JSON), in UTC order.

use std::io::{self, Write};

use cmtrace_analysis::model::{format_utc, TimelineEvent};
use cmtrace_parsers::Severity;

use super::Paint;
use crate::sanitize::visible_line;

/// What `trace ID` found.
pub struct Trace<'a> {
    /// The identifier asked for.
    pub id: &'a str,
    /// The device it names: its key and hosts.
    pub device: Option<(&'a str, &'a [cmtrace_parsers::SharedStr])>,
    /// The events shown, in UTC order.
    pub events: Vec<TracedEvent<'a>>,
}

/// One event of a [`Trace`].
pub struct TracedEvent<'a> {
    pub event: TimelineEvent<'a>,
    /// Whether the event's line carries the identifier (else it was attributed to the device).
    pub carries_id: bool,
}

/// The events as an indented JSON array: each a timeline event of the analysis document, its keys in
/// alphabetical order, with `"match": "id"` or `"device"`. The exact text: JSON escapes every control
/// character itself.
pub fn write_json(trace: &Trace<'_>, out: &mut impl Write) -> io::Result<()> {
    let rows: Vec<serde_json::Value> = trace
        .events
        .iter()
        .map(|t| {
            let mut v = serde_json::to_value(&t.event).unwrap_or_default();
            if let serde_json::Value::Object(m) = &mut v {
                m.insert("match".into(), if t.carries_id { "id" } else { "device" }.into());
            }
            v
        })
        .collect();
    super::json::write_pretty(&rows, out)
}

/// The device's line, then one line an event: time, mark, host, log kind, event, path and line, the
/// message (in its severity's colour when `paint` is on), and a note when a line is marked.
pub fn write_text(trace: &Trace<'_>, paint: Paint, out: &mut impl Write) -> io::Result<()> {
    if let Some((key, hosts)) = trace.device {
        writeln!(
            out,
            "device {}  hosts: {}",
            paint.bold(&visible_line(key)),
            visible_line(&hosts.join(", "))
        )?;
    }
    for traced in &trace.events {
        let t = &traced.event;
        let time = t.time.map(|t| format_utc(&t)).unwrap_or_else(|| "-".repeat(24));
        let mark = if traced.carries_id { " " } else { "~" };
        let message = t.text.get();
        let text = visible_line(&message);
        // The message in its line's colour when it is a warning or an error.
        let text = match t.severity {
            Severity::Info => text.into_owned(),
            s => paint.severity(&text, s),
        };
        writeln!(
            out,
            "{} {} {:<12} {:<24} {} {}:{}  {}",
            paint.dim(&time),
            paint.dim(mark),
            visible_line(t.host),
            t.log_kind.as_str(),
            paint.bold(&format!("{:<26}", t.event)),
            visible_line(t.path),
            t.line,
            text
        )?;
    }
    if trace.device.is_some() && trace.events.iter().any(|t| !t.carries_id) {
        writeln!(
            out,
            "(~ attributed to the device by correlation; the line itself does not name '{}')",
            visible_line(trace.id)
        )?;
    }
    Ok(())
}
