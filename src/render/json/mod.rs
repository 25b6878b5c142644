//! Every JSON the binary writes, written one way: here. The analysis document and its NDJSON lines
//! (`analyze`, `watch`) compact and fast ([`write_report`], [`write_ndjson`]); `parse`'s NDJSON lines
//! from the same byte writers ([`push`]); the small documents (`trace`, `rules`, `error`, and
//! `analyze --format json` at a terminal) indented by `serde_json` ([`write_pretty`]).

pub(crate) mod push;
mod report;

use std::io::{self, Write};

pub use report::{write_ndjson, write_report};

/// `value` indented by two spaces (`serde_json`'s pretty form), then a newline.
pub fn write_pretty<T: serde::Serialize + ?Sized>(value: &T, out: &mut impl Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value).map_err(io_error)?;
    writeln!(out)
}

/// The io error inside a `serde_json` error (its kind kept, so that a closed stdout is still a
/// `BrokenPipe`); other serde errors as `io::ErrorKind::Other`.
fn io_error(e: serde_json::Error) -> io::Error {
    match e.io_error_kind() {
        Some(kind) => io::Error::new(kind, e),
        None => io::Error::other(e),
    }
}
