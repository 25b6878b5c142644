//! Zip bundles, read in place as bounded streams. An archive's central directory is parsed once and the
//! parsed archive shared (`Arc<ZipSource>`) by all its entries; each load clones it (cheap: the reader is
//! a shared handle and a position) and inflates one entry through `take(limit + 1)`, so that no declared
//! size is ever trusted: an entry may inflate to `Limits::max_entry_bytes`, an archive in all (nested
//! archives included, entries loaded in parallel) to `Limits::max_archive_bytes`, charged to an atomic
//! budget. A zip inside a zip is inflated in memory (within the entry limit) and listed one level deep.
//! Entries sharing one name (the zip crate keeps one per name) are found by walking the central
//! directory's records once more and read through a one-record archive of their own.
//! Entry names are only ever strings: nothing is extracted.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use zip::CompressionMethod;

use crate::error::ReadError;

/// How much a zip archive may inflate to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most one entry may inflate to (a nested zip too: it is inflated in memory).
    pub max_entry_bytes: u64,
    /// The most one archive may inflate to in all, entries of nested archives included.
    pub max_archive_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_entry_bytes: 256 << 20, max_archive_bytes: 4 << 30 }
    }
}

/// At most this many entries sharing a name with another are read per archive.
const MAX_DUPLICATES: usize = 10_000;

/// `256 MiB`, `4 GiB`, `1536 bytes`.
pub fn human_bytes(n: u64) -> String {
    for (unit, shift) in [("GiB", 30), ("MiB", 20), ("KiB", 10)] {
        if n >= 1 << shift && n & ((1 << shift) - 1) == 0 {
            return format!("{} {unit}", n >> shift);
        }
    }
    format!("{n} bytes")
}

fn nested_limit_error(limits: &Limits) -> String {
    format!(
        "a zip inside a zip is held in memory while the run lasts, and the nested archives read so far already \
         fill the {} allowed for them in all (raise it with --max-entry-size): not read",
        human_bytes(limits.max_entry_bytes)
    )
}

/// The bytes of an archive: an open file (read at positions, so that clones never share a cursor), or
/// memory (a zip inflated from a zip).
enum Backing {
    #[cfg(unix)]
    File(File),
    #[cfg(not(unix))]
    Locked(std::sync::Mutex<File>),
    Memory(Vec<u8>),
}

pub(crate) struct Source {
    backing: Backing,
    len: u64,
}

impl Source {
    pub(crate) fn file(file: File, len: u64) -> Source {
        #[cfg(unix)]
        let backing = Backing::File(file);
        #[cfg(not(unix))]
        let backing = Backing::Locked(std::sync::Mutex::new(file));
        Source { backing, len }
    }

    pub(crate) fn memory(bytes: Vec<u8>) -> Source {
        Source { len: bytes.len() as u64, backing: Backing::Memory(bytes) }
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        match &self.backing {
            #[cfg(unix)]
            Backing::File(f) => std::os::unix::fs::FileExt::read_at(f, buf, offset),
            #[cfg(not(unix))]
            Backing::Locked(f) => {
                let mut f = f.lock().map_err(|_| io::Error::other("archive handle poisoned"))?;
                f.seek(SeekFrom::Start(offset))?;
                f.read(buf)
            }
            Backing::Memory(bytes) => {
                let start = usize::try_from(offset).unwrap_or(usize::MAX).min(bytes.len());
                let n = buf.len().min(bytes.len() - start);
                buf[..n].copy_from_slice(&bytes[start..start + n]);
                Ok(n)
            }
        }
    }
}

/// A cursor over a `Source` (its first `base_len` bytes), followed by `tail` when set: a one-record
/// central directory written for an entry whose name another entry also has.
#[derive(Clone)]
pub(crate) struct ZipReader {
    src: Arc<Source>,
    base_len: u64,
    tail: Option<Arc<[u8]>>,
    pos: u64,
}

impl ZipReader {
    fn new(src: Arc<Source>) -> ZipReader {
        ZipReader { base_len: src.len, src, tail: None, pos: 0 }
    }

    fn len(&self) -> u64 {
        self.base_len + self.tail.as_ref().map_or(0, |t| t.len() as u64)
    }
}

impl Read for ZipReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = if self.pos < self.base_len {
            let want = buf.len().min(usize::try_from(self.base_len - self.pos).unwrap_or(usize::MAX));
            self.src.read_at(&mut buf[..want], self.pos)?
        } else if let Some(tail) = &self.tail {
            let start = usize::try_from(self.pos - self.base_len).unwrap_or(usize::MAX).min(tail.len());
            let n = buf.len().min(tail.len() - start);
            buf[..n].copy_from_slice(&tail[start..start + n]);
            n
        } else {
            0
        };
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for ZipReader {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let new = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.len().checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = new.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek out of range"))?;
        Ok(self.pos)
    }
}

static ZIP_PARSES: AtomicUsize = AtomicUsize::new(0);

/// How many central directories were parsed so far in this process (for the tests that hold each archive
/// to one parse, however many entries are loaded).
#[doc(hidden)]
pub fn zip_parses() -> usize {
    ZIP_PARSES.load(Ordering::Relaxed)
}

fn parse(reader: ZipReader) -> zip::result::ZipResult<zip::ZipArchive<ZipReader>> {
    ZIP_PARSES.fetch_add(1, Ordering::Relaxed);
    zip::ZipArchive::new(reader)
}

/// A zip archive with its central directory parsed, shared by every entry listed from it.
pub struct ZipSource {
    zip: zip::ZipArchive<ZipReader>,
    /// The archive's path as shown (for a nested archive: `outer.zip/dir/inner.zip`).
    path: String,
    /// Bytes the archive (with its nested archives) may still inflate to.
    budget: Arc<AtomicU64>,
    /// Bytes of nested archives that may still be held in memory, shared by every archive of a run: nested
    /// zips stay in memory until the run ends, so all of them together get one entry's limit.
    nested_held: Arc<AtomicU64>,
    limits: Limits,
    /// 0 for an archive on disk, 1 for a zip inside it.
    depth: u8,
}

impl std::fmt::Debug for ZipSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZipSource")
            .field("path", &self.path)
            .field("entries", &self.zip.len())
            .field("depth", &self.depth)
            .finish()
    }
}

/// Do these bytes start like a zip archive (a local file header, or the end record of an empty archive)?
pub fn has_zip_signature(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06")
}

impl ZipSource {
    /// Parse the central directory of the archive at `src` (shown as `path`).
    /// `nested_held` is the run's allowance for nested archives held in memory.
    pub(crate) fn open(
        path: String,
        src: Source,
        limits: Limits,
        nested_held: Arc<AtomicU64>,
    ) -> Result<Arc<ZipSource>, String> {
        let budget = Arc::new(AtomicU64::new(limits.max_archive_bytes));
        let zip = parse(ZipReader::new(Arc::new(src))).map_err(|e| format!("not a readable zip: {e}"))?;
        Ok(Arc::new(ZipSource { zip, path, budget, nested_held, limits, depth: 0 }))
    }

    /// The archive's path as shown.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The first bytes of entry `index` (at most 4), inflated.
    fn read_head(&self, index: usize) -> Result<Vec<u8>, String> {
        let mut zip = self.zip.clone();
        let entry = zip.by_index(index).map_err(|e| format!("zip entry could not be read: {e}"))?;
        let mut head = Vec::with_capacity(4);
        entry.take(4).read_to_end(&mut head).map_err(|e| format!("zip entry could not be read: {e}"))?;
        Ok(head)
    }

    /// Inflate entry `index` into memory, within the limits.
    pub(crate) fn read_entry(&self, index: usize) -> Result<Vec<u8>, ReadError> {
        let mut zip = self.zip.clone();
        let entry = zip.by_index(index).map_err(ReadError::ZipEntry)?;
        let declared = entry.size();
        read_bounded(entry, declared, &self.limits, &self.budget)
    }
}

/// Read `r` to its end into memory: at most `limits.max_entry_bytes` (an error past it), each byte charged
/// to `budget` (an error once it is spent).
fn read_bounded(
    r: impl Read,
    declared: u64,
    limits: &Limits,
    budget: &AtomicU64,
) -> Result<Vec<u8>, ReadError> {
    let max = limits.max_entry_bytes;
    let mut buf: Vec<u8> = Vec::new();
    // The declared size is a hint, never trusted: at most the limit is reserved from it (address space, not
    // memory, until written), and a reservation that cannot be had is no error. Growth past it is capped at
    // the limit too, so an entry never costs twice the limit in reallocation.
    let _ = buf.try_reserve_exact(usize::try_from(declared.min(max)).unwrap_or(0));
    let mut block = vec![0u8; 64 << 10];
    let mut limited = r.take(max.saturating_add(1));
    loop {
        let n = match limited.read(&mut block) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(ReadError::ZipEntryData(e)),
        };
        if buf.len() as u64 + n as u64 > max {
            return Err(ReadError::EntryLimit { limit: limits.max_entry_bytes });
        }
        budget
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |left| left.checked_sub(n as u64))
            .map_err(|_| ReadError::ArchiveLimit { limit: limits.max_archive_bytes })?;
        if buf.capacity() - buf.len() < n {
            let want = (buf.capacity() * 2).max(buf.len() + n).min(max as usize);
            let _ = buf.try_reserve_exact(want - buf.len());
        }
        buf.extend_from_slice(&block[..n]);
    }
    Ok(buf)
}

/// What listing an archive gives, entry by entry. Names are the entries' names with `/` separators,
/// relative to the archive listed (entries of a nested zip: `dir/inner.zip/x.log`).
#[derive(Debug)]
pub(crate) enum Item {
    Entry {
        name: String,
        /// Its file name in the archive (without the `#2` of a second entry with its name).
        file_name: String,
        source: Arc<ZipSource>,
        index: usize,
        /// The most memory loading it can take: its size inflated, bounded from its compressed size.
        bound: u64,
        /// The size it declares (not trusted: shown only).
        declared: u64,
    },
    Skipped {
        name: String,
        reason: String,
    },
    Problem {
        name: String,
        error: String,
    },
}

/// One entry's central directory facts, before it is listed.
struct Draft {
    central_pos: u64,
    /// The entry's name in the archive.
    name: String,
    /// The name it is listed under: its name, or `name#2`... when an earlier entry has its name.
    shown: String,
    source: Arc<ZipSource>,
    index: usize,
    is_dir: bool,
    is_symlink: bool,
    encrypted: bool,
    method: CompressionMethod,
    compressed: u64,
    declared: u64,
}

fn draft(
    source: &Arc<ZipSource>,
    zip: &mut zip::ZipArchive<ZipReader>,
    index: usize,
) -> Result<Draft, String> {
    let f = zip.by_index_raw(index).map_err(|e| format!("unreadable entry: {e}"))?;
    Ok(Draft {
        central_pos: f.central_header_start(),
        name: f.name().replace('\\', "/"),
        shown: f.name().replace('\\', "/"),
        source: source.clone(),
        index,
        is_dir: f.is_dir(),
        is_symlink: f.is_symlink(),
        encrypted: f.encrypted(),
        method: f.compression(),
        compressed: f.compressed_size(),
        declared: f.size(),
    })
}

/// The central directory records (position, bytes) that the zip crate's listing does not hold: entries
/// whose name another entry has (the crate keeps one per name). One sequential pass over the records; the
/// flag is set when more than `MAX_DUPLICATES` were found (the rest are not returned).
fn unlisted_records(source: &ZipSource, known: &HashSet<u64>) -> (Vec<(u64, Vec<u8>)>, bool) {
    let mut reader = source.zip_reader();
    let start = source.zip.central_directory_start();
    if reader.seek(SeekFrom::Start(start)).is_err() {
        return (Vec::new(), false);
    }
    let mut r = BufReader::with_capacity(64 << 10, reader);
    let mut out = Vec::new();
    let mut pos = start;
    loop {
        let mut head = [0u8; 46];
        if r.read_exact(&mut head).is_err() || &head[..4] != b"PK\x01\x02" {
            return (out, false);
        }
        let len16 = |at: usize| u16::from_le_bytes([head[at], head[at + 1]]) as usize;
        let rest = len16(28) + len16(30) + len16(32);
        let mut record = head.to_vec();
        record.resize(46 + rest, 0);
        if r.read_exact(&mut record[46..]).is_err() {
            return (out, false);
        }
        if !known.contains(&pos) {
            if out.len() == MAX_DUPLICATES {
                return (out, true);
            }
            out.push((pos, record));
        }
        pos += (46 + rest) as u64;
    }
}

impl ZipSource {
    fn zip_reader(&self) -> ZipReader {
        let mut r = self.zip.clone().into_inner();
        r.pos = 0;
        r
    }

    /// A one-record archive for the central directory record `record` of this archive: the archive's
    /// bytes up to its central directory, then that record alone and an end record.
    fn single(self: &Arc<Self>, record: &[u8]) -> Result<Arc<ZipSource>, String> {
        let base = self.zip_reader();
        let dir_start = self.zip.central_directory_start();
        let relative = dir_start.checked_sub(self.zip.offset()).and_then(|r| u32::try_from(r).ok());
        let (Some(relative), Ok(size)) = (relative, u32::try_from(record.len())) else {
            return Err("an entry sharing its name with another, past 4 GiB: not read".into());
        };
        let mut tail = record.to_vec();
        tail.extend_from_slice(b"PK\x05\x06\0\0\0\0\x01\0\x01\0");
        tail.extend_from_slice(&size.to_le_bytes());
        tail.extend_from_slice(&relative.to_le_bytes());
        tail.extend_from_slice(&[0, 0]);
        let reader = ZipReader { src: base.src, base_len: dir_start, tail: Some(tail.into()), pos: 0 };
        let zip = parse(reader).map_err(|e| format!("unreadable entry: {e}"))?;
        if zip.len() != 1 {
            return Err("unreadable entry: its central directory record could not be read alone".into());
        }
        Ok(Arc::new(ZipSource {
            zip,
            path: self.path.clone(),
            budget: self.budget.clone(),
            nested_held: self.nested_held.clone(),
            limits: self.limits,
            depth: self.depth,
        }))
    }

    /// Every entry of the archive, in central directory order: the log files to read, and every entry passed
    /// over with its reason. `is_log_name` decides by a file name.
    pub(crate) fn list(self: &Arc<Self>, is_log_name: &dyn Fn(&str) -> bool) -> Vec<Item> {
        let mut items = Vec::new();
        let mut zip = self.zip.clone();
        let mut drafts = Vec::with_capacity(zip.len());
        let mut known = HashSet::with_capacity(zip.len());
        for i in 0..zip.len() {
            match draft(self, &mut zip, i) {
                Ok(d) => {
                    known.insert(d.central_pos);
                    drafts.push(d);
                }
                Err(error) => {
                    let name =
                        zip.name_for_index(i).map_or_else(|| format!("#{i}"), |n| n.replace('\\', "/"));
                    items.push(Item::Problem { name, error });
                }
            }
        }
        // Entries the crate's name index does not hold (another entry has their name).
        let (unlisted, cut) = unlisted_records(self, &known);
        for (pos, record) in unlisted {
            match self.single(&record).and_then(|s| {
                let mut z = s.zip.clone();
                draft(&s, &mut z, 0)
            }) {
                Ok(mut d) => {
                    d.central_pos = pos;
                    drafts.push(d);
                }
                Err(error) => {
                    let n = u16::from_le_bytes([record[28], record[29]]) as usize;
                    let name = String::from_utf8_lossy(&record[46..46 + n]).replace('\\', "/");
                    items.push(Item::Problem { name, error });
                }
            }
        }
        if cut {
            items.push(Item::Problem {
                name: String::new(),
                error: format!(
                    "more than {MAX_DUPLICATES} entries share a name with another: the rest is not read"
                ),
            });
        }
        drafts.sort_by_key(|d| d.central_pos);
        // Entries sharing a name: the first keeps it, the next are `name#2`, `name#3`... (never a name
        // another entry has).
        let mut used: HashSet<String> = drafts.iter().map(|d| d.name.clone()).collect();
        let mut seen: HashMap<String, usize> = HashMap::new();
        for d in &mut drafts {
            let count = seen.entry(d.name.clone()).or_insert(0);
            *count += 1;
            if *count > 1 {
                let mut k = *count;
                let renamed = loop {
                    let candidate = format!("{}#{k}", d.name);
                    if !used.contains(&candidate) {
                        break candidate;
                    }
                    k += 1;
                };
                used.insert(renamed.clone());
                items.push(Item::Problem {
                    name: d.name.clone(),
                    error: format!(
                        "an earlier entry of the archive has this name: this one is read as {}/{renamed}",
                        self.path
                    ),
                });
                d.shown = renamed;
            }
        }
        for d in drafts {
            self.list_one(d, is_log_name, &mut items);
        }
        items
    }

    fn list_one(self: &Arc<Self>, d: Draft, is_log_name: &dyn Fn(&str) -> bool, items: &mut Vec<Item>) {
        if d.is_dir {
            return;
        }
        let file_name = d.name.rsplit('/').next().unwrap_or(&d.name).to_string();
        let file_name = file_name.as_str();
        let name = d.shown.clone();
        if d.is_symlink {
            let reason = "a symbolic link stored in the archive: not followed".to_string();
            items.push(Item::Skipped { name: name.clone(), reason });
            return;
        }
        let nested = file_name.to_ascii_lowercase().ends_with(".zip");
        if !nested && !is_log_name(file_name) {
            let reason = "not a log file name (*.log, *.lo_, *.log.N)".to_string();
            items.push(Item::Skipped { name: name.clone(), reason });
            return;
        }
        if d.encrypted {
            let error = "encrypted (a password is needed): not read".to_string();
            items.push(Item::Problem { name: name.clone(), error });
            return;
        }
        if d.method != CompressionMethod::Stored && d.method != CompressionMethod::Deflated {
            let error = format!("compressed with {:?}, which cannot be inflated here: not read", d.method);
            items.push(Item::Problem { name: name.clone(), error });
            return;
        }
        let max = self.limits.max_entry_bytes;
        let bound = if d.method == CompressionMethod::Stored {
            d.compressed.min(max)
        } else {
            d.compressed.saturating_mul(1100).saturating_add(64 << 10).min(max)
        };
        if nested {
            // Only the first bytes decide whether it is a zip: named .zip but not a zip, it is read as a log.
            let is_zip = match d.source.read_head(d.index) {
                Ok(head) => has_zip_signature(&head),
                Err(error) => {
                    items.push(Item::Problem { name, error });
                    return;
                }
            };
            if is_zip {
                if self.depth >= 1 {
                    let error =
                        "a zip inside a zip inside a zip: nested too deep (one level is read), not read";
                    items.push(Item::Problem { name, error: error.into() });
                    return;
                }
                let held = &self.nested_held;
                let inner = d.source.read_entry(d.index).map_err(|e| e.to_string()).and_then(|bytes| {
                    // Held until the run ends: all nested archives together get one entry's limit.
                    held.fetch_update(Ordering::AcqRel, Ordering::Acquire, |left| {
                        left.checked_sub(bytes.len() as u64)
                    })
                    .map_err(|_| nested_limit_error(&self.limits))?;
                    parse(ZipReader::new(Arc::new(Source::memory(bytes))))
                        .map_err(|e| format!("not a readable zip: {e}"))
                });
                match inner {
                    Ok(zip) => {
                        let inner = Arc::new(ZipSource {
                            zip,
                            path: format!("{}/{name}", self.path),
                            budget: self.budget.clone(),
                            nested_held: self.nested_held.clone(),
                            limits: self.limits,
                            depth: self.depth + 1,
                        });
                        for item in inner.list(is_log_name) {
                            items.push(match item {
                                Item::Entry { name: n, file_name, source, index, bound, declared } => {
                                    let name = format!("{name}/{n}");
                                    Item::Entry { name, file_name, source, index, bound, declared }
                                }
                                Item::Skipped { name: n, reason } => {
                                    Item::Skipped { name: format!("{name}/{n}"), reason }
                                }
                                Item::Problem { name: n, error } => {
                                    Item::Problem { name: format!("{name}/{n}"), error }
                                }
                            });
                        }
                    }
                    Err(error) => items.push(Item::Problem { name, error }),
                }
                return;
            }
        }
        let file_name = file_name.to_string();
        items.push(Item::Entry {
            name,
            file_name,
            source: d.source,
            index: d.index,
            bound,
            declared: d.declared,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whatever the declared size says, an entry never holds more than the limit in memory: no
    /// reservation past it, no doubling past it.
    #[test]
    fn an_entry_never_reserves_past_its_limit() {
        let limits = Limits { max_entry_bytes: 300_000, max_archive_bytes: 1 << 30 };
        for declared in [0, 10, 299_999, 300_000, 1 << 40] {
            let budget = AtomicU64::new(1 << 30);
            let data = vec![b'x'; 300_000];
            let buf = read_bounded(&data[..], declared, &limits, &budget).unwrap();
            assert_eq!(buf.len(), 300_000);
            assert!(buf.capacity() <= 300_000, "declared {declared}: capacity {}", buf.capacity());
            let one_more = vec![b'x'; 300_001];
            let budget = AtomicU64::new(1 << 30);
            assert!(read_bounded(&one_more[..], declared, &limits, &budget).is_err());
        }
    }
}
