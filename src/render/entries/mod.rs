//! `parse`'s output: the records of a chunk of log text rendered into a byte buffer, as NDJSON lines
//! ([`ndjson`]) or CSV rows ([`csv`], after [`csv::write_header`]). The command renders chunks in
//! parallel and writes them in order.

pub mod csv;
pub mod ndjson;

/// A chunk's records, rendered, and how many of each kind there were.
pub struct RenderedChunk {
    pub bytes: Vec<u8>,
    pub entries: u64,
    pub unparsed: u64,
}
