//! `parse`'s output: the records of a chunk of log text rendered into a byte buffer, as NDJSON lines
//! ([`ndjson`]) or CSV rows ([`csv`], after [`csv::write_header`]). The command renders chunks in
//! parallel and writes them in order.

pub mod csv;
pub mod ndjson;

use cmtrace_parsers::format::Records;
use cmtrace_parsers::input::LoadedFile;
use cmtrace_parsers::scan::Chunk;
use cmtrace_parsers::Record;

/// A chunk's records, rendered, and how many of each kind there were.
pub struct RenderedChunk {
    pub bytes: Vec<u8>,
    pub entries: u64,
    pub unparsed: u64,
}

/// Hands each record of `chunk` of `file` to `row`, in order: how many were entries and how many
/// unparsed lines.
fn each_record<'t>(file: &LoadedFile, chunk: Chunk<'t>, mut row: impl FnMut(Record<'t>)) -> (u64, u64) {
    let (mut entries, mut unparsed) = (0, 0);
    for rec in Records::new(chunk.text, file.format, chunk.first_line) {
        match rec {
            Record::Entry(_) => entries += 1,
            Record::Unparsed { .. } => unparsed += 1,
        }
        row(rec);
    }
    (entries, unparsed)
}
