//! cmtrace-parsers: read any ConfigMgr log into typed records and flow events.
//!
//! - `entry`: the record types (`Entry`, `Record`, `Severity`, `LineFormat`, `TextEncoding`).
//! - `kind`: which log a file is (`LogKind`), by name and content.
//! - `events`: typed flow events (`Event`, `EventKind`, `Evidence`).
//! - `extract`: per-log-kind extractors from entries to events.

pub mod entry;
pub mod events;
pub mod kind;

pub use entry::{Entry, LineFormat, Record, Severity, TextEncoding};
pub use events::{AadTokenKind, Event, EventKind, Evidence};
pub use kind::{HostRole, LogKind};
pub use spill::Text;
pub mod archive;
pub mod decode;
pub mod extract;
pub mod format;
pub mod input;
pub mod regular;
pub mod scan;
pub mod spill;
pub mod stream;
pub mod tail;
