//! The `--format json` document, compact, written fast: the same bytes as `serde_json::to_writer` on
//! the `Report` (a test checks it), but devices and the timeline — millions of objects on a fleet
//! collection — are serialised in parallel batches, timeline events with the hand-written writer of
//! `crate::jsonw`, and written in order.

use std::io::{self, Write};

use chrono::{DateTime, Datelike, Utc};
use rayon::prelude::*;

use cmtrace_analysis::model::{format_utc, Report, TimelineEvent};

use crate::jsonw::{push_datetime, push_int, push_str};

/// Objects serialised per parallel task.
const TASK: usize = 8192;
/// Tasks per batch: at most this many serialised tasks are held before they are written.
const BATCH_TASKS: usize = 64;

/// Writes `report` as one compact JSON document (no trailing newline).
pub fn write_report(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    write!(out, "{{\"schema_version\":{},\"inputs\":", report.schema_version)?;
    serde_json::to_writer(&mut *out, &report.inputs).map_err(io::Error::other)?;
    out.write_all(b",\"devices\":")?;
    write_array(out, &report.devices, TASK, |buf, d| {
        serde_json::to_writer(buf, d).expect("in-memory write")
    })?;
    out.write_all(b",\"findings\":")?;
    serde_json::to_writer(&mut *out, &report.findings).map_err(io::Error::other)?;
    out.write_all(b",\"timeline\":")?;
    write_array(out, &report.timeline, TASK, push_event)?;
    out.write_all(b"}")
}

/// `[a,b,...]` with the items serialised in parallel batches and written in order.
fn write_array<T: Sync>(
    out: &mut dyn Write,
    items: &[T],
    task_len: usize,
    item: impl Fn(&mut Vec<u8>, &T) + Sync,
) -> io::Result<()> {
    out.write_all(b"[")?;
    for (b, batch) in items.chunks(task_len * BATCH_TASKS).enumerate() {
        let bufs: Vec<Vec<u8>> = batch
            .par_chunks(task_len)
            .enumerate()
            .map(|(t, task)| {
                let mut buf = Vec::with_capacity(task.len() * 256);
                for (i, x) in task.iter().enumerate() {
                    if b + t + i > 0 {
                        buf.push(b',');
                    }
                    item(&mut buf, x);
                }
                buf
            })
            .collect();
        for buf in &bufs {
            out.write_all(buf)?;
        }
    }
    out.write_all(b"]")
}

fn push_utc(buf: &mut Vec<u8>, t: &DateTime<Utc>) {
    let naive = t.naive_utc();
    if (0..=9999).contains(&naive.year()) {
        buf.push(b'"');
        push_datetime(buf, &naive);
        buf.extend_from_slice(b"Z\"");
    } else {
        push_str(buf, &format_utc(t));
    }
}

/// One timeline event, fields in the order of `TimelineEvent`'s `Serialize`.
fn push_event(buf: &mut Vec<u8>, e: &TimelineEvent) {
    buf.extend_from_slice(b"{\"time\":");
    match &e.time {
        Some(t) => push_utc(buf, t),
        None => buf.extend_from_slice(b"null"),
    }
    buf.extend_from_slice(b",\"host\":");
    push_str(buf, &e.host);
    buf.extend_from_slice(b",\"log_kind\":\"");
    buf.extend_from_slice(e.log_kind.as_str().as_bytes());
    buf.extend_from_slice(b"\",\"path\":");
    push_str(buf, &e.path);
    buf.extend_from_slice(b",\"line\":");
    push_int(buf, e.line);
    buf.extend_from_slice(b",\"severity\":\"");
    buf.extend_from_slice(e.severity.as_str().as_bytes());
    buf.extend_from_slice(b"\",\"event\":");
    push_str(buf, e.event);
    buf.extend_from_slice(b",\"device\":");
    match &e.device {
        Some(d) => push_str(buf, d),
        None => buf.extend_from_slice(b"null"),
    }
    buf.extend_from_slice(b",\"text\":");
    push_str(buf, &e.text);
    if e.skew_correction_ms != 0 {
        buf.extend_from_slice(b",\"skew_correction_ms\":");
        push_int(buf, e.skew_correction_ms);
    }
    buf.push(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn same_bytes_as_serde_json() {
        let collected = crate::commands::collect::collect(
            &[std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/demo/case-1234"))],
            &[],
            |_| {},
        );
        let analysis = cmtrace_analysis::engine::analyze(collected.inputs, collected.events);
        let findings = cmtrace_analysis::rules::evaluate(&analysis);
        let mut report = analysis.into_report(findings);
        assert!(!report.devices.is_empty() && !report.timeline.is_empty() && !report.findings.is_empty());
        let mut odd = report.timeline[0].clone();
        odd.time = None;
        odd.device = None;
        odd.skew_correction_ms = -125_000;
        odd.text = "quote \" back \\ nl \n tab \t nul \0 bs \x08 ff \x0c ünï € 😀".into();
        odd.host = Arc::from("HOST \"Q\"");
        report.timeline.push(odd);
        let mut fast = Vec::new();
        write_report(&report, &mut fast).unwrap();
        assert_eq!(String::from_utf8(fast).unwrap(), serde_json::to_string(&report).unwrap());
    }

    #[test]
    fn commas_across_tasks_and_batches() {
        for n in [0usize, 1, 2, 3, 5, 6, 7, 3 * BATCH_TASKS + 1] {
            let items: Vec<u32> = (0..n as u32).collect();
            let mut out = Vec::new();
            write_array(&mut out, &items, 3, |buf, v| push_int(buf, *v)).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(&items).unwrap(), "n = {n}");
        }
    }
}
