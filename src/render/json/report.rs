//! `analyze --format json` and `--format ndjson` (and `watch`'s lines), compact, written fast: the same
//! bytes as `serde_json::to_writer` on the `Report` (a test checks it), but devices and the timeline —
//! millions of objects on a fleet collection — are serialised in parallel batches with the byte writers of
//! [`super::push`], and written in order.

use std::io::{self, Write};

use chrono::{DateTime, Datelike, Utc};
use rayon::prelude::*;

use cmtrace_analysis::model::{format_utc, Device, EvidenceOut, Phase, Report, TimelineEvent};

use super::io_error;
use super::push::{push_datetime, push_int, push_str};

/// Objects serialised per parallel task.
const TASK: usize = 256;
/// Tasks per batch: at most this many serialised tasks are held before they are written (a device is about
/// 2.5 KB of JSON: a batch holds a few MB, whatever the number of devices).
const BATCH_TASKS: usize = 8;

/// Writes `report` as one compact JSON document (no trailing newline).
pub fn write_report(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    write!(out, "{{\"schema_version\":{},\"inputs\":", report.schema_version)?;
    serde_json::to_writer(&mut *out, &report.inputs).map_err(io_error)?;
    out.write_all(b",\"devices\":")?;
    write_array(out, report.devices.len(), |i| &report.devices[i], TASK, push_device)?;
    out.write_all(b",\"findings\":")?;
    serde_json::to_writer(&mut *out, &report.findings).map_err(io_error)?;
    out.write_all(b",\"timeline\":")?;
    write_array(out, report.timeline.len(), |i| report.timeline.get(i), TASK, push_event)?;
    out.write_all(b"}")
}

/// `--format ndjson`: one object per line, each opening with its `type` and `schema_version`: inputs,
/// devices, findings, then events (the same objects as the JSON document).
pub fn write_ndjson(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let v = report.schema_version;
    write_lines(out, report.inputs.len(), |i| &report.inputs[i], TASK, "input", v, push_serde)?;
    write_lines(out, report.devices.len(), |i| &report.devices[i], TASK, "device", v, push_device)?;
    write_lines(out, report.findings.len(), |i| &report.findings[i], TASK, "finding", v, push_serde)?;
    write_lines(out, report.timeline.len(), |i| report.timeline.get(i), TASK, "event", v, push_event)
}

/// One line per item: `{"type":KIND,"schema_version":N,` and the item's own fields (`item` writes a
/// non-empty JSON object). Items are `item_at(0..len)`.
fn write_lines<T>(
    out: &mut dyn Write,
    len: usize,
    item_at: impl Fn(usize) -> T + Sync,
    task_len: usize,
    kind: &str,
    schema_version: u32,
    item: impl Fn(&mut Vec<u8>, T) + Sync,
) -> io::Result<()> {
    let prefix = format!("{{\"type\":\"{kind}\",\"schema_version\":{schema_version}");
    write_batches(out, len, item_at, task_len, |buf, _, x| {
        buf.extend_from_slice(prefix.as_bytes());
        let start = buf.len();
        item(buf, x);
        debug_assert_eq!(buf.get(start), Some(&b'{'));
        buf[start] = b',';
        buf.push(b'\n');
    })
}

/// `[a,b,...]` of `item_at(0..len)`.
fn write_array<T>(
    out: &mut dyn Write,
    len: usize,
    item_at: impl Fn(usize) -> T + Sync,
    task_len: usize,
    item: impl Fn(&mut Vec<u8>, T) + Sync,
) -> io::Result<()> {
    out.write_all(b"[")?;
    write_batches(out, len, item_at, task_len, |buf, first, x| {
        if !first {
            buf.push(b',');
        }
        item(buf, x);
    })?;
    out.write_all(b"]")
}

/// Serialises `item_at(0..len)` in parallel tasks of `task_len`, a batch of tasks at a time, and writes
/// them in order. `each` gets whether the item is the very first one.
fn write_batches<T>(
    out: &mut dyn Write,
    len: usize,
    item_at: impl Fn(usize) -> T + Sync,
    task_len: usize,
    each: impl Fn(&mut Vec<u8>, bool, T) + Sync,
) -> io::Result<()> {
    let batch_len = task_len * BATCH_TASKS;
    // The buffers are reused from batch to batch.
    let mut pool: Vec<Vec<u8>> = Vec::new();
    for batch_start in (0..len).step_by(batch_len) {
        let batch_end = (batch_start + batch_len).min(len);
        let starts: Vec<(usize, Vec<u8>)> =
            (batch_start..batch_end).step_by(task_len).map(|s| (s, pool.pop().unwrap_or_default())).collect();
        let bufs: Vec<Vec<u8>> = starts
            .into_par_iter()
            .map(|(task_start, mut buf)| {
                let task_end = (task_start + task_len).min(batch_end);
                buf.clear();
                for i in task_start..task_end {
                    each(&mut buf, i == 0, item_at(i));
                }
                buf
            })
            .collect();
        for buf in bufs {
            out.write_all(&buf)?;
            pool.push(buf);
        }
    }
    Ok(())
}

/// Small objects (inputs, findings): through `serde_json`.
fn push_serde<T: serde::Serialize>(buf: &mut Vec<u8>, x: &T) {
    serde_json::to_writer(buf, x).expect("in-memory write")
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

fn push_opt_utc(buf: &mut Vec<u8>, t: &Option<DateTime<Utc>>) {
    match t {
        Some(t) => push_utc(buf, t),
        None => buf.extend_from_slice(b"null"),
    }
}

/// `[a,b,...]`, each item written by `item`.
fn push_list<'t, T: 't>(
    buf: &mut Vec<u8>,
    items: impl IntoIterator<Item = &'t T>,
    item: impl Fn(&mut Vec<u8>, &T),
) {
    buf.push(b'[');
    for (i, x) in items.into_iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        item(buf, x);
    }
    buf.push(b']');
}

/// `,"name":` and `items` as a list of strings.
fn push_strings_field(buf: &mut Vec<u8>, name: &str, items: &[impl AsRef<str>]) {
    buf.extend_from_slice(b",\"");
    buf.extend_from_slice(name.as_bytes());
    buf.extend_from_slice(b"\":");
    push_list(buf, items, |buf, s| push_str(buf, s.as_ref()));
}

/// One device, fields in the order of `Device`'s `Serialize`.
fn push_device(buf: &mut Vec<u8>, d: &Device) {
    buf.extend_from_slice(b"{\"key\":");
    push_str(buf, &d.key);
    push_strings_field(buf, "client_ids", d.client_ids());
    push_strings_field(buf, "aad_device_ids", d.aad_device_ids());
    push_strings_field(buf, "aad_tenant_ids", d.aad_tenant_ids());
    push_strings_field(buf, "aad_user_ids", d.aad_user_ids());
    push_strings_field(buf, "hosts", d.hosts());
    buf.extend_from_slice(b",\"path\":\"");
    buf.extend_from_slice(d.path.as_str().as_bytes());
    buf.extend_from_slice(b"\",\"phases\":");
    push_list(buf, d.phases.iter(), push_phase);
    push_strings_field(buf, "sids", d.sids());
    push_strings_field(buf, "client_hosts", d.client_hosts());
    buf.push(b'}');
}

/// One phase, fields in the order of `Phase`'s `Serialize`.
fn push_phase(buf: &mut Vec<u8>, p: &Phase) {
    buf.extend_from_slice(b"{\"id\":\"");
    buf.extend_from_slice(p.id.as_str().as_bytes());
    buf.extend_from_slice(b"\",\"status\":\"");
    buf.extend_from_slice(p.status.as_str().as_bytes());
    buf.extend_from_slice(b"\",\"start\":");
    push_opt_utc(buf, &p.start);
    buf.extend_from_slice(b",\"end\":");
    push_opt_utc(buf, &p.end);
    buf.extend_from_slice(b",\"reason\":");
    push_str(buf, &p.reason);
    buf.extend_from_slice(b",\"evidence\":");
    push_list(buf, &p.evidence, push_evidence);
    buf.push(b'}');
}

/// One evidence line, fields in the order of `EvidenceOut`'s `Serialize`.
fn push_evidence(buf: &mut Vec<u8>, e: &EvidenceOut) {
    buf.extend_from_slice(b"{\"path\":");
    push_str(buf, &e.path);
    buf.extend_from_slice(b",\"line\":");
    push_int(buf, e.line);
    buf.extend_from_slice(b",\"host\":");
    push_str(buf, &e.host);
    buf.extend_from_slice(b",\"time\":");
    push_opt_utc(buf, &e.time);
    buf.extend_from_slice(b",\"text\":");
    push_str(buf, &e.text.get());
    buf.push(b'}');
}

/// One timeline event, fields in the order of `TimelineEvent`'s `Serialize`.
fn push_event(buf: &mut Vec<u8>, e: TimelineEvent<'_>) {
    buf.extend_from_slice(b"{\"time\":");
    push_opt_utc(buf, &e.time);
    buf.extend_from_slice(b",\"host\":");
    push_str(buf, e.host);
    buf.extend_from_slice(b",\"log_kind\":\"");
    buf.extend_from_slice(e.log_kind.as_str().as_bytes());
    buf.extend_from_slice(b"\",\"path\":");
    push_str(buf, e.path);
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
    push_str(buf, &e.text.get());
    if e.skew_correction_ms != 0 {
        buf.extend_from_slice(b",\"skew_correction_ms\":");
        push_int(buf, e.skew_correction_ms);
    }
    buf.push(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(dir: &std::path::Path) -> Report {
        let collected = crate::commands::collect::collect(
            &[dir.to_path_buf()],
            &[],
            Default::default(),
            crate::commands::collect::ReadFor::EveryId,
            |_| {},
        );
        let analysis = cmtrace_analysis::engine::analyze(collected.inputs, collected.events);
        let findings = cmtrace_analysis::rules::evaluate(&analysis);
        analysis.into_report(findings)
    }

    fn fast(report: &Report) -> String {
        let mut out = Vec::new();
        write_report(report, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn same_bytes_as_serde_json_on_every_bundle() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/bundles");
        let mut n = 0;
        for dir in std::fs::read_dir(&root).unwrap() {
            let dir = dir.unwrap().path();
            if dir.is_dir() {
                let report = report(&dir);
                assert_eq!(fast(&report), serde_json::to_string(&report).unwrap(), "{}", dir.display());
                n += 1;
            }
        }
        assert!(n > 10, "bundles found: {n}");
    }

    #[test]
    fn same_bytes_as_serde_json_on_odd_text() {
        let mut report =
            report(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo/case-1234"));
        assert!(!report.devices.is_empty() && !report.timeline.is_empty() && !report.findings.is_empty());
        let mut odd = report.timeline.event(0).clone();
        odd.evidence.set_text("quote \" back \\ nl \n tab \t nul \0 bs \x08 ff \x0c ünï € 😀".into());
        odd.evidence.set_host("HOST \"Q\"".into());
        report.timeline.push(odd, None, -125_000);
        let mut phases = report.devices[0].phases.to_vec();
        phases[0].reason = "reason with \"quotes\" and \u{1} control".into();
        phases[0].start = None;
        report.devices[0].phases = phases.into();
        let mut lists = report.devices[0].ids.to_lists();
        lists.sids.push("S-1-5-21-1\\odd".into());
        report.devices[0].ids = lists.into();
        assert_eq!(fast(&report), serde_json::to_string(&report).unwrap());
    }

    /// The objects of the old writer: `serde_json::to_value` of each item plus `type` and
    /// `schema_version`.
    fn ndjson_reference(report: &Report) -> Vec<serde_json::Value> {
        fn obj<T: serde::Serialize>(v: &T, kind: &str) -> serde_json::Value {
            let mut value = serde_json::to_value(v).unwrap();
            let map = value.as_object_mut().unwrap();
            map.insert("type".into(), kind.into());
            map.insert("schema_version".into(), cmtrace_analysis::model::SCHEMA_VERSION.into());
            value
        }
        let mut rows = Vec::new();
        rows.extend(report.inputs.iter().map(|x| obj(x, "input")));
        rows.extend(report.devices.iter().map(|x| obj(x, "device")));
        rows.extend(report.findings.iter().map(|x| obj(x, "finding")));
        rows.extend(report.timeline.iter().map(|x| obj(&x, "event")));
        rows
    }

    #[test]
    fn ndjson_lines_are_the_documents_objects() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for dir in [
            root.join("fixtures/demo/case-1234"),
            root.join("fixtures/bundles/healthy-multi"),
            root.join("fixtures/bundles/clock-skew"),
        ] {
            assert!(dir.is_dir(), "{}", dir.display());
            let report = report(&dir);
            let mut out = Vec::new();
            write_ndjson(&report, &mut out).unwrap();
            let text = String::from_utf8(out).unwrap();
            assert!(text.ends_with('\n'));
            let rows: Vec<serde_json::Value> =
                text.lines().map(|l| serde_json::from_str(l).expect("one object per line")).collect();
            assert!(text.lines().all(|l| l.starts_with("{\"type\":")));
            assert_eq!(rows, ndjson_reference(&report), "{}", dir.display());
        }
    }

    #[test]
    fn commas_across_tasks_and_batches() {
        for n in [0usize, 1, 2, 3, 5, 6, 7, 3 * BATCH_TASKS + 1] {
            let items: Vec<u32> = (0..n as u32).collect();
            let mut out = Vec::new();
            write_array(&mut out, items.len(), |i| items[i], 3, push_int).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(&items).unwrap(), "n = {n}");
        }
    }
}
