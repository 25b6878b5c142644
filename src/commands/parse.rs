//! `cmtrace-rs parse`: every entry of every file as NDJSON or CSV, files in path order (rotated sets
//! oldest first), each file's entries in file order. Chunks are rendered in parallel and written in order.

use std::io::Write;

use cmtrace_parsers::format::Records;
use cmtrace_parsers::input::{discover, LoadedFile, SourceFile};
use cmtrace_parsers::scan::{scan_ordered, Chunk, ScanOptions, Scanned};
use cmtrace_parsers::{Entry, LineFormat, Record};

use super::{exit_if_closed, write_failed, EXIT_OK, EXIT_UNUSABLE};
use crate::cli::{ParseArgs, ParseFormat};
use crate::jsonw::{push_datetime, push_int, push_str};

const CSV_HEADER: &[&str] = &[
    "type",
    "path",
    "host",
    "log_kind",
    "line",
    "time",
    "local_time",
    "bias_minutes",
    "component",
    "thread",
    "severity",
    "source",
    "message",
];

struct Rendered {
    bytes: Vec<u8>,
    entries: u64,
    unparsed: u64,
}

pub fn run(args: &ParseArgs) -> Result<i32, String> {
    let discovery = discover(&args.input.paths_or_cwd(), &args.input.hosts, args.input.limits());
    for p in &discovery.problems {
        crate::say!("cmtrace-rs: {}: {}", p.path, p.error);
    }
    super::collect::check_host_overrides(&discovery.unused_overrides)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
    if args.format == ParseFormat::Csv {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(CSV_HEADER).map_err(|e| e.to_string())?;
        out.write_all(&w.into_inner().map_err(|e| e.to_string())?).map_err(write_failed)?;
    }
    let format = args.format;
    let mut readable = 0usize;
    let (mut entries, mut unparsed) = (0u64, 0u64);
    let mut write_error: Option<std::io::Error> = None;
    // Output buffers are recycled: fresh multi-megabyte buffers cost page faults and zeroing.
    let pool: std::sync::Mutex<Vec<Vec<u8>>> = std::sync::Mutex::new(Vec::new());
    let take = || pool.lock().ok().and_then(|mut p| p.pop()).unwrap_or_default();
    // Output is three to five times the input: a small batch keeps the rendered chunks held at once to a few
    // tens of MB.
    let opts = ScanOptions { chunk_bytes: 1 << 20, batch_bytes: 4 << 20, ..ScanOptions::default() };
    scan_ordered(
        &discovery.files,
        opts,
        |src, file, chunk| render_chunk(format, src, file, chunk, take()),
        |msg| match msg {
            Scanned::Start { source, file, .. } => match file {
                Ok(_) => readable += 1,
                Err(e) => crate::say!("cmtrace-rs: {}: {}", source.path, e),
            },
            Scanned::Chunk { result, .. } => {
                entries += result.entries;
                unparsed += result.unparsed;
                if write_error.is_none() {
                    if let Err(e) = out.write_all(&result.bytes) {
                        // A closed stdout ends the command at once, quietly; not after reading the rest.
                        exit_if_closed(&e);
                        write_error = Some(e);
                    }
                }
                let mut buf = result.bytes;
                buf.clear();
                if let Ok(mut p) = pool.lock() {
                    p.push(buf);
                }
            }
            Scanned::End { source, warning, .. } => {
                if let Some(w) = warning {
                    crate::say!("cmtrace-rs: {}: {}", source.path, w);
                }
            }
        },
    );
    if let Some(e) = write_error {
        return Err(write_failed(e));
    }
    out.flush().map_err(write_failed)?;
    crate::say!(
        "cmtrace-rs: {} files read ({} could not be read, {} passed over), {} entries, {} unparsed lines",
        readable,
        discovery.files.len() - readable,
        discovery.skipped.len(),
        entries,
        unparsed
    );
    if readable == 0 {
        crate::say!("cmtrace-rs: no readable log in the input");
        return Ok(EXIT_UNUSABLE);
    }
    Ok(EXIT_OK)
}

fn render_chunk(
    format: ParseFormat,
    src: &SourceFile,
    file: &LoadedFile,
    chunk: Chunk<'_>,
    mut buf: Vec<u8>,
) -> Rendered {
    buf.reserve(chunk.text.len() * 2);
    let mut r = Rendered { bytes: buf, entries: 0, unparsed: 0 };
    match format {
        ParseFormat::Ndjson => {
            // The per-file part of every object, escaped once per chunk.
            let mut common = Vec::with_capacity(128);
            common.extend_from_slice(b",\"path\":");
            push_str(&mut common, &src.path);
            common.extend_from_slice(b",\"host\":");
            push_str(&mut common, &src.host);
            common.extend_from_slice(b",\"log_kind\":\"");
            common.extend_from_slice(file.kind.as_str().as_bytes());
            common.extend_from_slice(b"\",\"line\":");
            for rec in Records::new(chunk.text, file.format, chunk.first_line) {
                match rec {
                    Record::Entry(e) => {
                        r.entries += 1;
                        r.bytes.extend_from_slice(b"{\"type\":\"entry\"");
                        r.bytes.extend_from_slice(&common);
                        push_entry_json(&mut r.bytes, &e);
                    }
                    Record::Unparsed { line, text } => {
                        r.unparsed += 1;
                        r.bytes.extend_from_slice(b"{\"type\":\"unparsed\"");
                        r.bytes.extend_from_slice(&common);
                        push_int(&mut r.bytes, line);
                        r.bytes.extend_from_slice(b",\"text\":");
                        push_str(&mut r.bytes, text);
                        r.bytes.extend_from_slice(b"}\n");
                    }
                }
            }
        }
        ParseFormat::Csv => {
            let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
            let kind = file.kind.as_str();
            for rec in Records::new(chunk.text, file.format, chunk.first_line) {
                let res = match rec {
                    Record::Entry(e) => {
                        r.entries += 1;
                        let time =
                            e.utc().map(|t| cmtrace_analysis::model::format_utc(&t)).unwrap_or_default();
                        let local = e.local_time.map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3f").to_string());
                        w.write_record([
                            "entry",
                            &src.path,
                            &src.host,
                            kind,
                            &e.line.to_string(),
                            &time,
                            local.as_deref().unwrap_or(""),
                            &e.bias_minutes.map(|b| b.to_string()).unwrap_or_default(),
                            e.component,
                            &e.thread.map(|t| t.to_string()).unwrap_or_default(),
                            e.severity.as_str(),
                            e.source.unwrap_or(""),
                            &e.message,
                        ])
                    }
                    Record::Unparsed { line, text } => {
                        r.unparsed += 1;
                        w.write_record([
                            "unparsed",
                            &src.path,
                            &src.host,
                            kind,
                            &line.to_string(),
                            "",
                            "",
                            "",
                            "",
                            "",
                            "",
                            "",
                            text,
                        ])
                    }
                };
                // Writing to a Vec cannot fail.
                let _ = res;
            }
            r.bytes = w.into_inner().unwrap_or_default();
        }
    }
    r
}

fn push_entry_json(out: &mut Vec<u8>, e: &Entry<'_>) {
    push_int(out, e.line);
    out.extend_from_slice(b",\"time\":");
    match e.utc() {
        Some(t) => {
            out.push(b'"');
            push_datetime(out, &t.naive_utc());
            out.extend_from_slice(b"Z\"");
        }
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"local_time\":");
    match &e.local_time {
        Some(t) => {
            out.push(b'"');
            push_datetime(out, t);
            out.push(b'"');
        }
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"bias_minutes\":");
    match e.bias_minutes {
        Some(b) => push_int(out, b),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"component\":");
    // A setup-log record names a component only when its first word is a role name: null otherwise.
    if e.component.is_empty() && e.format == LineFormat::Setup {
        out.extend_from_slice(b"null");
    } else {
        push_str(out, e.component);
    }
    out.extend_from_slice(b",\"thread\":");
    match e.thread {
        Some(t) => push_int(out, t),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"severity\":\"");
    out.extend_from_slice(e.severity.as_str().as_bytes());
    out.extend_from_slice(b"\",\"source\":");
    match e.source {
        Some(s) => push_str(out, s),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"message\":");
    push_str(out, &e.message);
    out.extend_from_slice(b"}\n");
}
