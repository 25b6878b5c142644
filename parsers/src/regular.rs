//! Opening and reading files that may be anything: only regular files are opened (a FIFO, a socket or a
//! device given by name or met in a folder is passed over with its reason), opening never blocks (on unix
//! `O_NONBLOCK | O_NOCTTY`, so a FIFO swapped in after the check cannot hang us) and the opened handle is
//! checked again; a file is read into an owned buffer, at most the size seen at open, and a file that
//! shrank while it was read keeps what was read, with a warning.

use std::fs::{File, Metadata};
use std::io::Read;
use std::path::Path;

use crate::error::ReadError;

/// What a file that is not a regular file is, for the reason given: `FIFO`, `socket`, ...
pub fn file_type_name(meta: &Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_file() {
        return "regular file";
    }
    if t.is_dir() {
        return "folder";
    }
    if t.is_symlink() {
        return "symbolic link";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "FIFO";
        }
        if t.is_socket() {
            return "socket";
        }
        if t.is_char_device() {
            return "character device";
        }
        if t.is_block_device() {
            return "block device";
        }
    }
    "special file"
}

/// The reason a file that is not a regular file is passed over.
pub fn not_regular(meta: &Metadata) -> ReadError {
    ReadError::NotRegular { kind: file_type_name(meta) }
}

/// FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE (winnt.h).
#[cfg(windows)]
const SHARE_READ_WRITE_DELETE: u32 = 0x1 | 0x2 | 0x4;

/// Open a regular file for reading without ever blocking, and check the handle opened is a regular file.
/// Returns the file and its metadata as seen through the handle (`fstat`).
pub fn open_regular(path: &Path) -> Result<(File, Metadata), ReadError> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(not_regular(&meta));
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    #[cfg(windows)]
    {
        // The ConfigMgr agent goes on writing a log we read, renames it (`ccmsetup.lo_`) and deletes it:
        // let it (FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, said here rather than left to
        // the standard library's default).
        use std::os::windows::fs::OpenOptionsExt;
        options.share_mode(SHARE_READ_WRITE_DELETE);
    }
    let file = options.open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(not_regular(&meta));
    }
    Ok((file, meta))
}

/// Read an opened file: at most `len_at_open` bytes (what is appended while we read is not read), into a
/// buffer reserved once. If the file is shorter than that by the time it is read (truncated, rotated or
/// rewritten under us), what was read is kept and the warning says so.
pub fn read_opened(file: &mut File, len_at_open: u64) -> Result<(Vec<u8>, Option<String>), ReadError> {
    let want = usize::try_from(len_at_open).map_err(|_| ReadError::TooLarge { bytes: len_at_open })?;
    let mut buf =
        crate::buffers::take(want).map_err(|_| ReadError::NoMemoryForFile { bytes: len_at_open })?;
    file.take(len_at_open).read_to_end(&mut buf)?;
    let warning = ((buf.len() as u64) < len_at_open).then(|| {
        format!(
            "the file changed while it was read: {len_at_open} bytes at open, {} read; what was read is used",
            buf.len()
        )
    });
    Ok((buf, warning))
}

/// The identity of a file, to read each file once however many paths lead to it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FileId {
    /// Device and inode numbers.
    #[cfg(unix)]
    Inode {
        /// The device holding the file.
        dev: u64,
        /// The inode on that device.
        ino: u64,
    },
    /// The canonical path (where there are no inodes).
    Path(std::path::PathBuf),
}

/// The identity of the file at `path`, whose metadata (following links) is `meta`.
pub fn file_id(path: &Path, meta: &Metadata) -> FileId {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let _ = path;
        FileId::Inode { dev: meta.dev(), ino: meta.ino() }
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        FileId::Path(std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()))
    }
}
