//! cmtrace-parsers: read ConfigMgr (MECM) logs into typed records and flow events.
//!
//! [`Reader`] reads folders, single files and `.zip` bundles of collected logs: every file's host (from the
//! folder layout), log kind, line format and encoding, its entries counted in parallel, and the flow's
//! typed events ([`Event`]: client install, registration, Azure AD and CCM tokens, the CMG) in read order.
//! Reading never fails as a whole: a file that cannot be read is a [`FileSummary`] with its `error`.
//!
//! ```
//! use cmtrace_parsers::Reader;
//!
//! // A collection: one folder per host, the logs of each where ConfigMgr writes them.
//! let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/bundles/healthy-single");
//! let logs = Reader::new().read(&[&folder]);
//! for event in logs.events.iter() {
//!     let at = &event.evidence;
//!     println!("{} {} {}:{} {}", at.host(), event.kind.name(), at.path(), at.line, at.text().get());
//! }
//! for file in &logs.files {
//!     println!("{}: {} entries, {:?}", file.path, file.entries, file.error);
//! }
//! # if folder.exists() {
//! #     assert!(logs.events.len() > 10 && logs.files.iter().all(|f| f.error.is_none()));
//! # }
//! ```
//!
//! Below the reader, a log's text is records ([`format::Records`]), and each entry of a flow log may give
//! events ([`extract::Extractors`]):
//!
//! ```
//! use cmtrace_parsers::format::{sniff_format, Records};
//! use cmtrace_parsers::{extract::Extractors, LogKind, Record};
//!
//! let text = "<![LOG[CcmSetup is exiting with return code 0]LOG]!><time=\"07:31:02.100+480\" \
//!             date=\"01-14-2025\" component=\"ccmsetup\" context=\"\" type=\"1\" thread=\"4953\" file=\"ccmsetup.cpp:11136\">\n";
//! let extractors = Extractors::new();
//! let mut kinds = Vec::new();
//! for record in Records::new(text, sniff_format(text), 1) {
//!     if let Record::Entry(entry) = record {
//!         extractors.extract(LogKind::Ccmsetup, &entry, &mut kinds);
//!         println!("line {} at {:?} UTC: {} {:?}", entry.line, entry.utc(), entry.message, kinds);
//!     }
//! }
//! assert_eq!(kinds.len(), 1);
//! ```
//!
//! Modules:
//! - `entry`: the record types ([`Entry`], [`Record`], [`Severity`], [`LineFormat`], [`TextEncoding`]).
//! - [`kind`]: which log a file is ([`LogKind`]), by name and content.
//! - [`format`](mod@format): the three line formats (CMTrace, server, setup) and the record iterator over a file's text.
//! - [`decode`]: bytes to text (byte order marks, UTF-16 without one, UTF-8, Windows-1252), never failing.
//! - [`input`]: inputs to files (folders, single files, zip bundles), each with its host, log kind and
//!   rotated set; loading one file.
//! - `archive`: zip bundles read in place as bounded streams (within [`input::Limits`]).
//! - [`regular`]: only regular files opened, never blocking, read at most to the size seen at open.
//! - [`stream`]: one large file read in blocks cut at record boundaries.
//! - [`scan`]: the parallel driver over files and chunks of large files, results in file order.
//! - `read`: the read pipeline ([`Reader`]): inputs, entries, events; the events of one piece of a log
//!   ([`piece_events`]).
//! - [`tail`]: one growing log followed as written (appends, split records, rollover, truncation).
//! - `buffers`: the reused buffers files are read and decoded into.
//! - `spill`: event texts kept in a temporary file rather than in memory ([`Text`], [`Spill`]).
//! - `events`: typed flow events ([`Event`], [`EventKind`], [`Evidence`]).
//! - `store`: every event of a read in fixed-size segments ([`EventStore`]), never moved as it grows.
//! - `shared`: the strings events carry, each held once for the process and named by 4 bytes ([`SharedStr`]).
//! - `strings`: what a read leaves out of them ([`Strings`]).
//! - [`extract`]: per-log-kind extractors from entries to events.
//! - [`certificates`]: the certificate failure codes (WinHTTP errors, HRESULTs), each with the flag it sets.
//! - `error`: what went wrong reading a file ([`ReadError`]) or a host override ([`HostOverrideError`]).

#![deny(missing_docs)]

mod archive;
mod buffers;
pub mod certificates;
pub mod decode;
mod entry;
mod error;
mod events;
pub mod extract;
pub mod format;
pub mod input;
pub mod kind;
mod read;
pub mod regular;
pub mod scan;
mod shared;
mod spill;
mod store;
pub mod stream;
mod strings;
pub mod tail;

#[doc(hidden)]
pub use archive::zip_parses;
pub use entry::{Entry, LineFormat, Record, Severity, TextEncoding};
pub use error::{HostOverrideError, ReadError};
pub use events::{AadTokenKind, Event, EventKind, Evidence, EvidenceText, OnPremSids, Origin, SharedStr};
pub use kind::{HostRole, LogKind};
pub use read::{
    last_entry_time, piece_events, piece_events_with, FileSummary, Logs, Piece, PieceEvents, Reader,
    TextStore,
};
pub use spill::{Spill, SpillRange, Text};
pub use store::EventStore;
pub use strings::Strings;
