//! cmtrace-parsers: read any ConfigMgr log into typed records and flow events.
//!
//! - `entry`: the record types (`Entry`, `Record`, `Severity`, `LineFormat`, `TextEncoding`).
//! - `kind`: which log a file is (`LogKind`), by name and content.
//! - `format`: the three line formats (CMTrace, server, setup) and the record iterator over a file's text.
//! - `decode`: bytes to text (byte order marks, UTF-16 without one, UTF-8, Windows-1252), never failing.
//! - `input`: inputs to files (folders, single files, zip bundles), each with its host, log kind and rotated set.
//! - `archive`: zip bundles read in place as bounded streams.
//! - `regular`: only regular files opened, never blocking, read at most to the size seen at open.
//! - `stream`: one large file read in blocks cut at record boundaries.
//! - `scan`: the parallel driver over files and chunks of large files, results in file order.
//! - `tail`: one growing log followed as written (appends, split records, rollover, truncation).
//! - `spill`: event texts kept in a temporary file rather than in memory (`Text`).
//! - `events`: typed flow events (`Event`, `EventKind`, `Evidence`).
//! - `store`: every event of a read in fixed-size segments (`EventStore`), never moved as it grows.
//! - `extract`: per-log-kind extractors from entries to events.
//! - `certificates`: the certificate failure codes (WinHTTP errors, HRESULTs), each with the flag it sets.

pub mod entry;
pub mod events;
pub mod kind;

pub use entry::{Entry, LineFormat, Record, Severity, TextEncoding};
pub use events::{AadTokenKind, Event, EventKind, Evidence, SharedStr};
pub use kind::{HostRole, LogKind};
pub use spill::Text;
pub use store::EventStore;
pub mod archive;
pub mod certificates;
pub mod decode;
pub mod extract;
pub mod format;
pub mod input;
pub mod regular;
pub mod scan;
pub mod spill;
pub mod store;
pub mod stream;
pub mod tail;
