//! `parse --format csv`: a header row, then one row a record (`entry` or `unparsed`), the columns of the
//! NDJSON objects in the same order.

use std::io::{self, Write};

use cmtrace_parsers::input::{LoadedFile, SourceFile};
use cmtrace_parsers::scan::Chunk;
use cmtrace_parsers::Record;

use super::{each_record, RenderedChunk};

const HEADER: &[&str] = &[
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

/// The header row.
pub fn write_header(out: &mut impl Write) -> io::Result<()> {
    let mut w = ::csv::Writer::from_writer(out);
    w.write_record(HEADER)?;
    w.flush()
}

/// The records of `chunk` of `file` as CSV rows, into `buf` (empty; a recycled buffer keeps its capacity).
pub fn render_chunk(
    src: &SourceFile,
    file: &LoadedFile,
    chunk: Chunk<'_>,
    mut buf: Vec<u8>,
) -> RenderedChunk {
    buf.reserve(chunk.text.len() * 2);
    let mut w = ::csv::WriterBuilder::new().has_headers(false).from_writer(buf);
    let kind = file.kind.as_str();
    let (entries, unparsed) = each_record(file, chunk, |rec| {
        let written = match rec {
            Record::Entry(e) => {
                let time = e.utc().map(|t| cmtrace_analysis::model::format_utc(&t)).unwrap_or_default();
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
            Record::Unparsed { line, text } => w.write_record([
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
            ]),
        };
        // Writing to a Vec cannot fail.
        let _ = written;
    });
    RenderedChunk { bytes: w.into_inner().unwrap_or_default(), entries, unparsed }
}
