//! The errors of reading one file or zip entry ([`ReadError`]) and of a `NAME=PATH` host override
//! ([`HostOverrideError`]). Each prints the sentence a report shows for it, beside the path it is about.

use std::io;

use crate::archive::human_bytes;

/// Why a file, a block of a file, or a zip entry could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The system failed an operation on the file: it does not exist, it may not be read, a read failed.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// Not a regular file (a folder, a FIFO, a socket, a device): passed over, never opened for reading.
    #[error("not a regular file ({kind}): passed over")]
    NotRegular {
        /// What it is: `folder`, `FIFO`, `socket`, ...
        kind: &'static str,
    },
    /// Larger than this platform can hold in memory.
    #[error("{bytes} bytes: too large to read on this platform")]
    TooLarge {
        /// The file's size.
        bytes: u64,
    },
    /// Memory for the whole file could not be reserved.
    #[error("could not reserve {bytes} bytes of memory to read it")]
    NoMemoryForFile {
        /// The file's size.
        bytes: u64,
    },
    /// Memory for one block of a file read in blocks could not be reserved.
    #[error("could not reserve {bytes} bytes of memory")]
    NoMemoryForBlock {
        /// The block's size.
        bytes: usize,
    },
    /// A zip entry could not be found or inflated in its archive.
    #[error("zip entry could not be read: {0}")]
    ZipEntry(#[source] zip::result::ZipError),
    /// Inflating a zip entry failed part way.
    #[error("zip entry could not be read: {0}")]
    ZipEntryData(#[source] io::Error),
    /// A zip entry inflates past the limit for one entry (`Limits::max_entry_bytes`).
    #[error("inflates past the {} limit (raise it with --max-entry-size)", human_bytes(*.limit))]
    EntryLimit {
        /// The limit, in bytes.
        limit: u64,
    },
    /// The zip archive, nested archives included, inflates past its limit (`Limits::max_archive_bytes`).
    #[error(
        "the archive inflates past the {} limit, nested archives included (raise it with --max-archive-size)",
        human_bytes(*.limit)
    )]
    ArchiveLimit {
        /// The limit, in bytes.
        limit: u64,
    },
}

/// A host override that is not `NAME=PATH` with both parts given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected NAME=PATH, got '{given}'")]
pub struct HostOverrideError {
    /// The text as given.
    pub given: String,
}
