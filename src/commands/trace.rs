//! `cmtrace-rs trace ID`: every flow event on every host that carries an identifier (SMS GUID, Azure AD
//! device/user/tenant id, SID, message id, URL part), in UTC order. When the identifier names a device,
//! the events the engine attributed to that device are shown too, marked as such: "show me everything
//! about this device" is a support engineer's first question.

use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};

use cmtrace_analysis::model::format_utc;

use super::collect::collect;
use super::style::Paint;
use super::{human_stdout, json_write_failed, write_failed, EXIT_FINDINGS, EXIT_OK, EXIT_UNUSABLE};
use crate::cli::{SimpleFormat, TraceArgs};
use crate::sanitize::visible_line;
use cmtrace_parsers::Severity;

pub fn run(args: &TraceArgs) -> Result<i32, String> {
    if args.id.trim().is_empty() {
        return Err("the identifier is empty".into());
    }
    let collected = collect(&args.input.paths_or_cwd(), &args.input.hosts, args.input.limits(), |_| {});
    for (path, error) in &collected.problems {
        crate::say!("cmtrace-rs: {path}: {error}");
    }
    collected.check_host_overrides()?;
    if !collected.inputs.iter().any(|i| i.was_read()) {
        crate::say!("cmtrace-rs: no readable ConfigMgr log in the input");
        return Ok(EXIT_UNUSABLE);
    }
    let analysis = cmtrace_analysis::analyze(collected.inputs, collected.events);
    let direct: BTreeSet<usize> = analysis.events_for_id(&args.id).into_iter().collect();
    let device = analysis.find_device(&args.id).or_else(|| {
        // An id carried by events that all belong to one device names that device.
        let devs: BTreeSet<usize> = direct.iter().filter_map(|&i| analysis.event_device[i]).collect();
        (devs.len() == 1).then(|| *devs.iter().next().expect("one"))
    });
    let mut shown: BTreeSet<usize> = direct.clone();
    if let Some(d) = device {
        shown.extend(analysis.devices[d].events.iter().copied());
    }
    match args.format {
        SimpleFormat::Json => {
            // The exact text: JSON escapes every control character itself.
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let rows: Vec<serde_json::Value> = shown
                .iter()
                .map(|&i| {
                    let mut v = serde_json::to_value(analysis.timeline_event(i)).unwrap_or_default();
                    if let serde_json::Value::Object(m) = &mut v {
                        m.insert("match".into(), if direct.contains(&i) { "id" } else { "device" }.into());
                    }
                    v
                })
                .collect();
            serde_json::to_writer_pretty(&mut out, &rows).map_err(json_write_failed)?;
            writeln!(out).map_err(write_failed)?;
            out.flush().map_err(write_failed)?;
        }
        SimpleFormat::Text => {
            let paint = Paint { on: args.color.enabled(std::io::stdout().is_terminal()) };
            let mut out = human_stdout(paint.on);
            if let Some(d) = device {
                let dev = &analysis.devices[d];
                writeln!(
                    out,
                    "device {}  hosts: {}",
                    paint.bold(&visible_line(&dev.key)),
                    visible_line(&dev.hosts.join(", "))
                )
                .map_err(write_failed)?;
            }
            for &i in &shown {
                let t = analysis.timeline_event(i);
                let time = t.time.map(|t| format_utc(&t)).unwrap_or_else(|| "-".repeat(24));
                let mark = if direct.contains(&i) { " " } else { "~" };
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
                )
                .map_err(write_failed)?;
            }
            if device.is_some() && shown.len() > direct.len() {
                writeln!(
                    out,
                    "(~ attributed to the device by correlation; the line itself does not name '{}')",
                    visible_line(&args.id)
                )
                .map_err(write_failed)?;
            }
            out.flush().map_err(write_failed)?;
        }
    }
    if shown.is_empty() {
        crate::say!("cmtrace-rs: no event carries '{}'", args.id);
        return Ok(EXIT_FINDINGS);
    }
    Ok(EXIT_OK)
}
