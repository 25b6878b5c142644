//! `parse --format ndjson`: one object a line, `{"type":"entry",...}` for an entry and
//! `{"type":"unparsed",...}` for a line no format reads, written byte by byte with [`crate::render::json::push`].

use cmtrace_parsers::input::{LoadedFile, SourceFile};
use cmtrace_parsers::scan::Chunk;
use cmtrace_parsers::{Entry, LineFormat, Record};

use super::{each_record, RenderedChunk};
use crate::render::json::push::{push_datetime, push_int, push_str};

/// The records of `chunk` of `file` as NDJSON lines, into `buf` (empty; a recycled buffer keeps its capacity).
pub fn render_chunk(
    src: &SourceFile,
    file: &LoadedFile,
    chunk: Chunk<'_>,
    mut buf: Vec<u8>,
) -> RenderedChunk {
    buf.reserve(chunk.text.len() * 2);
    // The per-file part of every object, escaped once per chunk.
    let mut common = Vec::with_capacity(128);
    common.extend_from_slice(b",\"path\":");
    push_str(&mut common, &src.path);
    common.extend_from_slice(b",\"host\":");
    push_str(&mut common, &src.host);
    common.extend_from_slice(b",\"log_kind\":\"");
    common.extend_from_slice(file.kind.as_str().as_bytes());
    common.extend_from_slice(b"\",\"line\":");
    let (entries, unparsed) = each_record(file, chunk, |rec| match rec {
        Record::Entry(e) => {
            buf.extend_from_slice(b"{\"type\":\"entry\"");
            buf.extend_from_slice(&common);
            push_entry(&mut buf, &e);
        }
        Record::Unparsed { line, text } => {
            buf.extend_from_slice(b"{\"type\":\"unparsed\"");
            buf.extend_from_slice(&common);
            push_int(&mut buf, line);
            buf.extend_from_slice(b",\"text\":");
            push_str(&mut buf, text);
            buf.extend_from_slice(b"}\n");
        }
    });
    RenderedChunk { bytes: buf, entries, unparsed }
}

/// An entry's own fields, from `line` to the end of its object and line.
fn push_entry(out: &mut Vec<u8>, e: &Entry<'_>) {
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
