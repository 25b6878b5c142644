//! Finding and loading inputs: folders (walked recursively), single files and `.zip` bundles (read in
//! place); each file's host (from the folder layout, or `--host NAME=PATH`), its log kind (by name,
//! including rotated and synced-CMG names, else by content), rotated sets in order, and the decoded text
//! (read into an owned buffer: UTF-8 validated and kept as is; UTF-16 and ANSI decoded). Only regular
//! files are read, each once; zip archives within `Limits` (see `archive`).

use std::cell::Cell;
use std::collections::HashMap;
use std::fs::{File, Metadata};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

pub use crate::archive::Limits;
use crate::archive::{has_zip_signature, Item, Source, ZipSource};
use crate::decode::decode;
use crate::entry::{LineFormat, TextEncoding};
use crate::error::{HostOverrideError, ReadError};
use crate::format::sniff_format;
use crate::kind::LogKind;
use crate::regular::{file_id, not_regular, open_regular, read_opened, FileId};

/// Folder names that are part of ConfigMgr's log layout, never a host name.
const LAYOUT_FOLDERS: &[&str] = &[
    "logs",
    "log",
    "ccmsetup",
    "ccm",
    "sms_ccm",
    "windows",
    "program files",
    "program files (x86)",
    "microsoft configuration manager",
    "configmgr",
    "sms",
    "c",
    "c$",
];

/// `--host NAME=PATH`: every file under PATH belongs to host NAME.
#[derive(Debug, Clone)]
pub struct HostOverride {
    /// The host name.
    pub name: String,
    /// The folder or file whose logs are that host's.
    pub path: PathBuf,
}

impl std::str::FromStr for HostOverride {
    type Err = HostOverrideError;
    fn from_str(s: &str) -> Result<Self, HostOverrideError> {
        let malformed = || HostOverrideError { given: s.to_string() };
        let (name, path) = s.split_once('=').ok_or_else(malformed)?;
        if name.trim().is_empty() || path.trim().is_empty() {
            return Err(malformed());
        }
        Ok(HostOverride { name: name.trim().to_string(), path: PathBuf::from(path.trim()) })
    }
}

/// Where a file's bytes are.
#[derive(Debug, Clone)]
pub enum Location {
    /// A file on disk.
    File(PathBuf),
    /// Entry `index` of a zip archive whose central directory was parsed once, shared by all its entries.
    /// `bound` is the most its inflated bytes may take (from its compressed size, never its declared one).
    ZipEntry {
        /// The archive, listed once.
        archive: Arc<ZipSource>,
        /// The entry's index in the archive.
        index: usize,
        /// The most its inflated bytes may take.
        bound: u64,
    },
}

/// One log file found in the inputs.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path as found (for zip entries: `bundle.zip/inner/path.log`), with `/` separators.
    pub path: String,
    /// The host whose log it is (from the folder layout, or a `HostOverride`).
    pub host: String,
    /// The kind by file name; `None` when the name is not one of the flow's logs (content decides).
    pub kind_by_name: Option<LogKind>,
    /// Where its bytes are.
    pub location: Location,
    /// The size on disk; for a zip entry the size it declares (shown, never trusted).
    pub size: u64,
    /// Sort key of the rotated set this file belongs to, and its rank inside the set (older first).
    pub rotation_set: String,
    /// Its rank in the rotated set: sorted, older files first.
    pub rotation_rank: (u8, String),
}

impl SourceFile {
    /// The most bytes loading this file may hold before decoding: its size on disk (what is appended
    /// later is not read); for a zip entry a bound from its compressed size and the entry limit.
    pub fn load_bound(&self) -> u64 {
        match &self.location {
            Location::File(_) => self.size,
            Location::ZipEntry { bound, .. } => *bound,
        }
    }
}

/// An input, or a part of one, that could not be read (a path that does not exist, a folder that cannot be
/// listed, a broken zip, an entry too large, a FIFO...), with the reason.
#[derive(Debug, Clone)]
pub struct InputProblem {
    /// The path as given or found.
    pub path: String,
    /// Why it could not be read.
    pub error: String,
    /// The host it would belong to, when known (zip entries, files in folders).
    pub host: Option<String>,
}

/// What `discover` found under the paths given.
#[derive(Debug, Default)]
pub struct Discovery {
    /// The log files to read, in path order, rotated sets oldest first.
    pub files: Vec<SourceFile>,
    /// Paths, or parts of them, that could not be read.
    pub problems: Vec<InputProblem>,
    /// Files passed over, with the reason: names that are not log names, a file already found by another
    /// path.
    pub skipped: Vec<(String, String)>,
    /// `--host NAME=PATH` overrides that did nothing: (`NAME=PATH` as given, why): the path does not exist,
    /// or no file found is under it.
    pub unused_overrides: Vec<(String, String)>,
}
/// Is this a log file name: `*.log`, `*.lo_`, `*.log.N`?
pub(crate) fn is_log_name(name: &str) -> bool {
    let l = name.to_ascii_lowercase();
    if l.ends_with(".log") || l.ends_with(".lo_") {
        return true;
    }
    if let Some((stem, n)) = l.rsplit_once('.') {
        return stem.ends_with(".log") && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit());
    }
    false
}

/// Split a log file name into (base name, rotation rank). `ccmsetup.lo_` → (`ccmsetup`, 1);
/// `ccmsetup-20200204-151029.log` → (`ccmsetup`, 0 + stamp); `x.log.2` → (`x`, 0 + inverted n); `x.log` → (`x`, 2).
pub fn rotation_of(file_name: &str) -> (String, (u8, String)) {
    let lower = file_name.to_ascii_lowercase();
    if let Some(stem) = lower.strip_suffix(".lo_") {
        return (stem.to_string(), (1, String::new()));
    }
    if let Some((stem, n)) = lower.rsplit_once('.') {
        if let Some(base) = stem.strip_suffix(".log") {
            if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) {
                // `.log.1` is newer than `.log.2`: order older (higher n) first.
                let n: u32 = n.parse().unwrap_or(0);
                return (base.to_string(), (0, format!("b{:010}", u32::MAX - n)));
            }
        }
    }
    let stem = lower.strip_suffix(".log").unwrap_or(&lower);
    // name-YYYYMMDD-HHMMSS
    let b = stem.as_bytes();
    if b.len() > 16 {
        // On bytes: the name may end in anything (a multi-byte character across the cut).
        let tb = &b[b.len() - 16..];
        let dated = tb[0] == b'-'
            && tb[9] == b'-'
            && tb[1..9].iter().all(u8::is_ascii_digit)
            && tb[10..].iter().all(u8::is_ascii_digit);
        if dated {
            // All ASCII: the cut is on a character boundary.
            let tail = &stem[stem.len() - 16..];
            return (stem[..stem.len() - 16].to_string(), (0, format!("a{}", &tail[1..])));
        }
    }
    (stem.to_string(), (2, String::new()))
}

/// The log kind a base name (rotation stripped, lower case) stands for (`LogKind::from_base_name`).
pub fn kind_from_base_name(base: &str) -> Option<LogKind> {
    LogKind::from_base_name(base)
}

fn is_layout_folder(name: &str) -> bool {
    let l = name.to_ascii_lowercase();
    LAYOUT_FOLDERS.contains(&l.as_str())
}

/// A name that may stand for a host: never empty, `.`, `..`, a drive (`C:`), nor with a separator or a
/// control character (entry names in a zip are anything).
fn is_safe_name(c: &str) -> bool {
    !c.trim().is_empty()
        && c != "."
        && c != ".."
        && !c.contains([':', '/', '\\'])
        && !c.chars().any(char::is_control)
}

fn strip_zip_suffix(name: &str) -> &str {
    if name.len() > 4 && name.is_char_boundary(name.len() - 4) && is_zip_name(name) {
        &name[..name.len() - 4]
    } else {
        name
    }
}

/// The host of a file: the nearest folder above it that is not part of the ConfigMgr log layout (a zip
/// inside a zip stands for its stem), looking no higher than `root` (the PATH given). `root` itself counts
/// only when it holds the file directly, or when no folder below it names a host. Odd components (`..`,
/// `.`, empty, `C:`) never name a host; the host is never empty, `.` or `..`.
pub fn infer_host(rel_dirs: &[&str], root_name: &str) -> String {
    for d in rel_dirs.iter().rev() {
        let d = strip_zip_suffix(d);
        if is_safe_name(d) && !is_layout_folder(d) {
            return d.to_string();
        }
    }
    if is_safe_name(root_name) {
        root_name.to_string()
    } else {
        "unknown".to_string()
    }
}

fn path_string(p: &Path) -> String {
    p.to_string_lossy().replace('\\', "/")
}

fn name_of(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// The host name a root path (in canonical form) stands for when it holds logs directly.
fn root_host_name(abs: &Path) -> String {
    let mut cur: &Path = abs;
    loop {
        let n = name_of(cur);
        if n.is_empty() {
            return String::new();
        }
        if !is_layout_folder(&n) {
            return n;
        }
        match cur.parent() {
            Some(p) => cur = p,
            None => return String::new(),
        }
    }
}

/// `NAME=PATH` as given.
fn override_text(o: &HostOverride) -> String {
    format!("{}={}", o.name, o.path.display())
}

/// The `--host NAME=PATH` overrides with each path also in canonical form, worked out once per run, and
/// whether each gave a host to a file.
struct Overrides<'a> {
    list: Vec<(&'a HostOverride, Option<PathBuf>)>,
    used: Vec<Cell<bool>>,
}

impl<'a> Overrides<'a> {
    /// Overrides whose path does not exist are reported in `unused` (and kept: a path given as typed
    /// still matches).
    fn new(overrides: &'a [HostOverride], unused: &mut Vec<(String, String)>) -> Overrides<'a> {
        let list: Vec<_> = overrides
            .iter()
            .map(|o| match std::fs::canonicalize(&o.path) {
                Ok(c) => (o, Some(c)),
                Err(e) => {
                    unused.push((
                        override_text(o),
                        format!("the path does not exist or cannot be reached: {e}"),
                    ));
                    (o, None)
                }
            })
            .collect();
        let used = list.iter().map(|_| Cell::new(false)).collect();
        Overrides { list, used }
    }

    /// The host of the most specific override holding `path`. Resolving `path` costs a system call per
    /// folder level, so it is done only when there are overrides: never on a plain run.
    fn host_for(&self, path: &Path) -> Option<String> {
        if self.list.is_empty() {
            return None;
        }
        let abs = std::fs::canonicalize(path).ok();
        let (k, (o, _)) = self
            .list
            .iter()
            .enumerate()
            .filter(|(_, (o, canonical))| {
                path.starts_with(&o.path)
                    || match (&abs, canonical) {
                        (Some(a), Some(op)) => a.starts_with(op),
                        _ => false,
                    }
            })
            .max_by_key(|(_, (o, _))| o.path.components().count())?;
        self.used[k].set(true);
        Some(o.name.clone())
    }

    /// Overrides that exist but gave no file its host.
    fn report_unused(&self, unused: &mut Vec<(String, String)>) {
        for ((o, canonical), used) in self.list.iter().zip(&self.used) {
            if canonical.is_some() && !used.get() {
                unused.push((
                    override_text(o),
                    "no file read is under this path (the path, or a folder holding it, must be an input too)"
                        .into(),
                ));
            }
        }
    }
}

fn make_source(path: String, file_name: &str, host: String, location: Location, size: u64) -> SourceFile {
    let (base, rank) = rotation_of(file_name);
    let dir = path.rsplit_once('/').map_or("", |(d, _)| d).to_string();
    SourceFile {
        kind_by_name: kind_from_base_name(&base),
        rotation_set: format!("{}/{}", dir, base),
        rotation_rank: rank,
        path,
        host,
        location,
        size,
    }
}

/// One discovery run: what was found so far, and every file already seen (read once, however many
/// paths lead to it; the first sighting keeps its host).
struct Walk<'a> {
    d: Discovery,
    overrides: Overrides<'a>,
    limits: Limits,
    /// Bytes of nested archives that may still be held in memory, in all (`Limits::max_entry_bytes`).
    nested_held: Arc<AtomicU64>,
    seen: HashMap<FileId, String>,
}

impl<'a> Walk<'a> {
    fn new(overrides: &'a [HostOverride], limits: Limits) -> Walk<'a> {
        let mut d = Discovery::default();
        let overrides = Overrides::new(overrides, &mut d.unused_overrides);
        let nested_held = Arc::new(AtomicU64::new(limits.max_entry_bytes));
        Walk { d, overrides, limits, nested_held, seen: HashMap::new() }
    }

    fn problem(&mut self, path: String, error: String, host: Option<String>) {
        self.d.problems.push(InputProblem { path, error, host });
    }

    /// Is this the first time this file is met? If not, it is noted as passed over.
    fn first_sighting(&mut self, id: FileId, shown: &str) -> bool {
        match self.seen.get(&id) {
            Some(first) => {
                let reason = if first == shown {
                    "given twice: read once".to_string()
                } else {
                    format!("the same file as {first}, already found: read once")
                };
                self.d.skipped.push((shown.to_string(), reason));
                false
            }
            None => {
                self.seen.insert(id, shown.to_string());
                true
            }
        }
    }

    /// A regular file at `path` (metadata `meta`, following links), of host `host`. A file given by name
    /// is read whatever its name; a `.zip` is read as an archive when its first bytes say so, else as a log.
    fn add_file(&mut self, path: &Path, meta: &Metadata, host: String, given: bool) {
        let shown = path_string(path);
        if !self.first_sighting(file_id(path, meta), &shown) {
            return;
        }
        let name = name_of(path);
        let zip_named = is_zip_name(&name);
        if zip_named {
            match open_regular(path) {
                Err(e) => return self.problem(shown, e.to_string(), Some(host)),
                Ok((mut file, meta)) => {
                    let mut head = Vec::with_capacity(4);
                    if let Err(e) = (&mut file).take(4).read_to_end(&mut head) {
                        return self.problem(shown, e.to_string(), Some(host));
                    }
                    if has_zip_signature(&head) {
                        let host_override = self.overrides.host_for(path);
                        let stem = strip_zip_suffix(&name).to_string();
                        return self.add_zip(shown, Source::file(file, meta.len()), &stem, host_override);
                    }
                }
            }
        } else if !given && !is_log_name(&name) && !holds_log_records(path) {
            // A renamed log (`ticket-4711-ccmsetup.txt`, no extension) is read for its content.
            self.d.skipped.push((
                shown,
                "not a log file name (*.log, *.lo_, *.log.N) and no ConfigMgr log record in its first 64 KB"
                    .into(),
            ));
            return;
        }
        self.d.files.push(make_source(shown, &name, host, Location::File(path.to_path_buf()), meta.len()));
    }

    /// Every entry of an archive (shown as `shown`): the logs to read, the rest with its reason.
    fn add_zip(&mut self, shown: String, src: Source, stem: &str, host_override: Option<String>) {
        let archive = match ZipSource::open(shown.clone(), src, self.limits, self.nested_held.clone()) {
            Ok(a) => a,
            Err(e) => return self.problem(shown, e, host_override),
        };
        let host_of = |name: &str| {
            host_override.clone().unwrap_or_else(|| {
                let dirs: Vec<&str> = name.split('/').collect();
                infer_host(&dirs[..dirs.len() - 1], stem)
            })
        };
        for item in archive.list(&is_log_name) {
            match item {
                Item::Entry { name, file_name, source, index, bound, declared } => {
                    let host = host_of(&name);
                    let location = Location::ZipEntry { archive: source, index, bound };
                    self.d.files.push(make_source(
                        format!("{shown}/{name}"),
                        &file_name,
                        host,
                        location,
                        declared,
                    ));
                }
                Item::Skipped { name, reason } => self.d.skipped.push((format!("{shown}/{name}"), reason)),
                Item::Problem { name, error } if name.is_empty() => {
                    self.problem(shown.clone(), error, host_override.clone())
                }
                Item::Problem { name, error } => {
                    let host = host_of(&name);
                    self.problem(format!("{shown}/{name}"), error, Some(host))
                }
            }
        }
    }

    /// Every file under a folder; anything that is not a regular file is reported.
    fn add_dir(&mut self, root: &Path, canonical: &Path) {
        let root_name = root_host_name(canonical);
        for entry in walkdir::WalkDir::new(root).follow_links(true).sort_by_file_name() {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    let p = e.path().map(path_string).unwrap_or_else(|| path_string(root));
                    self.problem(p, e.to_string(), None);
                    continue;
                }
            };
            if entry.file_type().is_dir() {
                continue;
            }
            let path = entry.path();
            let rel = path.strip_prefix(root).unwrap_or(path);
            let dirs: Vec<String> = rel
                .parent()
                .map(|p| p.iter().map(|c| c.to_string_lossy().into_owned()).collect())
                .unwrap_or_default();
            let refs: Vec<&str> = dirs.iter().map(|s| s.as_str()).collect();
            let host = self.overrides.host_for(path).unwrap_or_else(|| infer_host(&refs, &root_name));
            let meta = match entry.metadata() {
                Ok(m) => m,
                Err(e) => {
                    self.problem(path_string(path), e.to_string(), Some(host));
                    continue;
                }
            };
            if !meta.is_file() {
                self.problem(path_string(path), not_regular(&meta).to_string(), Some(host));
                continue;
            }
            self.add_file(path, &meta, host, false);
        }
    }

    /// Files in path order, rotated sets oldest first.
    fn finish(mut self) -> Discovery {
        self.overrides.report_unused(&mut self.d.unused_overrides);
        self.d.files.sort_by(|a, b| {
            (&a.rotation_set, &a.rotation_rank, &a.path).cmp(&(&b.rotation_set, &b.rotation_rank, &b.path))
        });
        self.d
    }
}

/// Find every log under the given paths. Files are returned in path order, rotated sets oldest first.
/// Only regular files are read (anything else is reported), each file once however many paths lead to it
/// (the first sighting keeps its host); zip archives are listed within `limits`.
pub fn discover(paths: &[PathBuf], overrides: &[HostOverride], limits: Limits) -> Discovery {
    let mut w = Walk::new(overrides, limits);
    for root in paths {
        let meta = match std::fs::metadata(root) {
            Ok(m) => m,
            Err(e) => {
                w.problem(path_string(root), e.to_string(), None);
                continue;
            }
        };
        if meta.is_dir() {
            let canonical = std::fs::canonicalize(root).unwrap_or_else(|_| root.clone());
            w.add_dir(root, &canonical);
        } else if !meta.is_file() {
            w.problem(path_string(root), not_regular(&meta).to_string(), None);
        } else {
            // A single file given by name is read whatever its name.
            let host = w.overrides.host_for(root).unwrap_or_else(|| {
                let parent = root.parent().map(|p| p.to_path_buf()).unwrap_or_default();
                let abs = std::fs::canonicalize(&parent).unwrap_or(parent);
                let dirs: Vec<String> = abs.iter().map(|c| c.to_string_lossy().into_owned()).collect();
                let refs: Vec<&str> = dirs.iter().map(|s| s.as_str()).skip(1).collect();
                infer_host(&refs, "")
            });
            w.add_file(root, &meta, host, true);
        }
    }
    w.finish()
}

/// List a zip archive held in memory (shown as `name`) as `discover` lists one on disk: the fuzzer's way
/// in, and a way to read a bundle from anywhere.
pub fn discover_zip_bytes(name: &str, bytes: Vec<u8>, limits: Limits) -> Discovery {
    let mut w = Walk::new(&[], limits);
    let stem = strip_zip_suffix(name.rsplit('/').next().unwrap_or(name)).to_string();
    if has_zip_signature(&bytes) {
        w.add_zip(name.to_string(), Source::memory(bytes), &stem, None);
    } else {
        w.problem(name.to_string(), "not a zip (no zip signature at its start)".into(), None);
    }
    w.finish()
}

/// How much of a file whose name is not a log name is read to see whether it holds log records.
const SNIFF_BYTES: u64 = 64 * 1024;

/// Whether the first `SNIFF_BYTES` of the regular file at `path`, whatever its encoding, read as a ConfigMgr
/// log: a line format is recognised (`sniff_format`) and its records are at least as many as the lines that
/// match no format (a script or a note that quotes a log line is not a log). A file that cannot be opened
/// or read holds none here (it is passed over, as a file with a name that is not a log name always was).
fn holds_log_records(path: &Path) -> bool {
    let Ok((file, _)) = open_regular(path) else {
        return false;
    };
    let mut head = Vec::with_capacity(SNIFF_BYTES as usize);
    if file.take(SNIFF_BYTES).read_to_end(&mut head).is_err() {
        return false;
    }
    let (text, _) = decode(&head);
    let format = sniff_format(&text);
    if format == LineFormat::Unknown {
        return false;
    }
    let (mut entries, mut unparsed) = (0usize, 0usize);
    for r in crate::format::Records::new(&text, format, 1) {
        match r {
            crate::entry::Record::Entry(_) => entries += 1,
            crate::entry::Record::Unparsed { .. } => unparsed += 1,
        }
    }
    entries > 0 && entries >= unparsed
}

fn is_zip_name(name: &str) -> bool {
    name.to_ascii_lowercase().ends_with(".zip")
}

/// A file read and decoded, ready to parse.
pub struct LoadedFile {
    /// The decoded text, after `start` (past a UTF-8 byte order mark, kept to decode without a copy).
    data: String,
    start: usize,
    /// The encoding the text was decoded from.
    pub encoding: TextEncoding,
    /// The line format of the text (`Unknown` when none was recognised).
    pub format: LineFormat,
    /// The log kind: by name, else by the first records' component, else `Other`.
    pub kind: LogKind,
    /// Set when the file was not read as it was at open (it shrank while it was read: what was read is
    /// used).
    pub warning: Option<String>,
}

/// The text's buffer goes back to the pool (`buffers`) for the next file read.
impl Drop for LoadedFile {
    fn drop(&mut self) {
        crate::buffers::give(std::mem::take(&mut self.data).into_bytes());
    }
}

impl LoadedFile {
    /// The decoded text (past a byte order mark).
    pub fn text(&self) -> &str {
        &self.data[self.start..]
    }

    /// A text already decoded (a block of a file read in blocks, `stream::TextBlocks`, whose warnings come
    /// at its end).
    pub fn from_parts(data: String, encoding: TextEncoding, format: LineFormat, kind: LogKind) -> Self {
        LoadedFile { data, start: 0, encoding, format, kind, warning: None }
    }
}

/// Bytes to text, taking ownership: UTF-8 is validated in place and kept without a copy; UTF-16 and ANSI
/// are decoded (see `decode`). Returns the text, where it starts (past a UTF-8 BOM), and the encoding.
fn decode_owned(bytes: Vec<u8>) -> (String, usize, TextEncoding) {
    // UTF-16 (with or without a BOM) is told by the first bytes only.
    let (_, head) = decode(&bytes[..bytes.len().min(512)]);
    if matches!(head, TextEncoding::Utf16Le | TextEncoding::Utf16Be) {
        let (text, enc) = crate::decode::decode_utf16_into(&bytes, head, crate::buffers::take_string);
        crate::buffers::give(bytes);
        return (text, 0, enc);
    }
    let start = if bytes.starts_with(b"\xEF\xBB\xBF") { 3 } else { 0 };
    match String::from_utf8(bytes) {
        Ok(s) => (s, start, TextEncoding::Utf8),
        Err(e) => {
            let bytes = e.into_bytes();
            let (text, enc) = decode(&bytes);
            (text.into_owned(), 0, enc)
        }
    }
}

fn loaded(src: &SourceFile, bytes: Vec<u8>, warning: Option<String>) -> LoadedFile {
    let (data, start, encoding) = decode_owned(bytes);
    let mut loaded =
        LoadedFile { data, start, encoding, format: LineFormat::Unknown, kind: LogKind::Other, warning };
    loaded.format = sniff_format(loaded.text());
    loaded.kind =
        src.kind_by_name.or_else(|| sniff_kind(loaded.text(), loaded.format)).unwrap_or(LogKind::Other);
    loaded
}

/// Read and decode one file. Errors print as a clear sentence for `inputs[].error`. A file is opened only if it
/// is a regular file, and read up to the size it had at open; a zip entry is inflated within the limits
/// given to `discover`.
pub fn load(src: &SourceFile) -> Result<LoadedFile, ReadError> {
    match &src.location {
        Location::File(path) => {
            let (mut file, meta) = open_regular(path)?;
            load_opened(src, &mut file, meta.len())
        }
        Location::ZipEntry { archive, index, .. } => Ok(loaded(src, archive.read_entry(*index)?, None)),
    }
}

/// `load` for a file already opened, whose size was `len_at_open` when it was opened: at most that much is
/// read; if the file shrank meanwhile, what was read is used and `LoadedFile::warning` says so.
pub fn load_opened(src: &SourceFile, file: &mut File, len_at_open: u64) -> Result<LoadedFile, ReadError> {
    let (bytes, warning) = read_opened(file, len_at_open)?;
    Ok(loaded(src, bytes, warning))
}

/// The kind from the components of the records in the first 64 KB (`kind::kind_from_components`: the
/// kind of a majority of them). Unparsed lines are passed over, whatever their number.
pub(crate) fn sniff_kind(text: &str, format: LineFormat) -> Option<LogKind> {
    let records = crate::format::Records::new(&text[..floor_char_boundary(text, 64 * 1024)], format, 1);
    crate::kind::kind_from_components(records.filter_map(|r| match r {
        crate::entry::Record::Entry(e) => Some(e.component),
        crate::entry::Record::Unparsed { .. } => None,
    }))
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_names_and_rotation() {
        assert!(is_log_name("ccmsetup.log"));
        assert!(is_log_name("ccmsetup.lo_"));
        assert!(is_log_name("PolicyAgent.log.1"));
        assert!(!is_log_name("notes.txt"));
        // A number ends a rotated name only after `.log`; an empty or non-numeric one never.
        for not_log in ["report.1", "notes.", "x.log.", "x.log.ab", "x.log.1a"] {
            assert!(!is_log_name(not_log), "{not_log}");
        }
        assert!(is_log_name("X.LOG.12"));
        assert_eq!(rotation_of("ccmsetup.lo_").0, "ccmsetup");
        assert_eq!(rotation_of("ccmsetup-20200204-151029.log").0, "ccmsetup");
        assert_eq!(rotation_of("CCMSetup.log").0, "ccmsetup");
        // A multi-byte character where a date would start (a fuzzer's find).
        assert_eq!(rotation_of("xîaaaaaaaaaaaaaaa.log").1 .0, 2);
        // The whole answer: base and rank.
        let r = |n: &str| {
            let (base, (rank, key)) = rotation_of(n);
            (base, rank, key)
        };
        let plain = |base: &str| (base.to_string(), 2, String::new());
        assert_eq!(r("CCMSetup-20200204-151029.log"), ("ccmsetup".into(), 0, "a20200204-151029".into()));
        assert_eq!(r("a-20200204-151029"), ("a".into(), 0, "a20200204-151029".into()));
        assert_eq!(r("x.log.2"), ("x".into(), 0, format!("b{:010}", u32::MAX - 2)));
        assert_eq!(r("x.log."), plain("x.log."));
        assert_eq!(r("x.log.ab"), plain("x.log.ab"));
        // A stamp alone is no rotated name (nothing before it), nor is anything short of the exact shape.
        for name in [
            "-20200204-151029.log",
            "ccmsetupx20200204-151029.log",
            "ccmsetup-20200204x151029.log",
            "ccmsetup-2020020a-151029.log",
            "ccmsetup-20200204-15102a.log",
        ] {
            assert_eq!(r(name), plain(&name.to_ascii_lowercase().replace(".log", "")), "{name}");
        }
        let mut names =
            ["ccmsetup.log", "ccmsetup.lo_", "ccmsetup-20200204-151029.log", "ccmsetup-20190101-000000.log"];
        names.sort_by_key(|n| rotation_of(n).1);
        assert_eq!(
            names,
            ["ccmsetup-20190101-000000.log", "ccmsetup-20200204-151029.log", "ccmsetup.lo_", "ccmsetup.log"]
        );
    }

    #[test]
    fn kinds_by_name() {
        let k = |n: &str| kind_from_base_name(&rotation_of(n).0);
        assert_eq!(k("CMG-contosocmg-ProxyService_IN_0-CMGService.log"), Some(LogKind::CmgService));
        assert_eq!(k("CMG-contosocmg-ProxyService_IN_0-CMGSetup.log"), None);
        assert_eq!(k("SMS_CLOUD_PROXYCONNECTOR.log"), Some(LogKind::CloudProxyConnector));
        assert_eq!(k("CCM_STS.lo_"), Some(LogKind::CcmSts));
        assert_eq!(k("CcmAad.log"), Some(LogKind::AdalOperationProvider));
        assert_eq!(k("MP_RegistrationManager-20200101-101010.log"), Some(LogKind::MpRegistrationManager));
        assert_eq!(k("execmgr.log"), None);
    }

    #[test]
    fn host_walks_past_layout_folders() {
        assert_eq!(infer_host(&["CLIENT01", "Windows", "CCM", "Logs"], "case-1234"), "CLIENT01");
        assert_eq!(infer_host(&["MP01", "SMS_CCM", "Logs"], "case"), "MP01");
        assert_eq!(
            infer_host(&["CP01", "Program Files", "Microsoft Configuration Manager", "Logs"], "x"),
            "CP01"
        );
        assert_eq!(infer_host(&[], "client-logs"), "client-logs");
        assert_eq!(infer_host(&["Logs"], "DESKTOP7"), "DESKTOP7");
    }

    /// `--host NAME=PATH`: every file under PATH is NAME's, whatever its folders say; the most specific
    /// override wins; files outside every override keep the host of their folders.
    #[test]
    fn host_override_names_the_files_under_its_path() {
        use std::io::Write;
        const LINE: &str =
            "<![LOG[x]LOG]!><time=\"15:31:38.100+000\" date=\"11-20-2026\" component=\"ccmsetup\" \
                            context=\"\" type=\"1\" thread=\"1\" file=\"\">\r\n";
        let tmp = tempfile::tempdir().unwrap();
        let case = tmp.path().join("case");
        let write = |rel: &str| {
            let p = case.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, LINE).unwrap();
            p
        };
        write("DESKTOP-1/Windows/CCM/Logs/CcmMessaging.log");
        write("DESKTOP-1/Windows/ccmsetup/Logs/ccmsetup.log");
        write("MP01/SMS_CCM/Logs/CCM_STS.log");
        let single = write("loose/ClientIDManagerStartup.log");
        let mut zip = zip::ZipWriter::new(std::fs::File::create(case.join("bundle.zip")).unwrap());
        zip.start_file("PC9/Logs/LocationServices.log", zip::write::SimpleFileOptions::default()).unwrap();
        zip.write_all(LINE.as_bytes()).unwrap();
        zip.finish().unwrap();
        let o = |name: &str, path: PathBuf| HostOverride { name: name.into(), path };
        let overrides = [
            o("LAPTOP-REAL", case.join("DESKTOP-1")),
            // More specific than the one above: its files are SETUP-HOST's.
            o("SETUP-HOST", case.join("DESKTOP-1/Windows/ccmsetup")),
            o("ZIPPED", case.join("bundle.zip")),
            o("SINGLE", single.clone()),
        ];
        let hosts = |d: &Discovery| -> Vec<(String, String)> {
            let mut v: Vec<_> = d
                .files
                .iter()
                .map(|f| (f.path.rsplit('/').next().unwrap().to_string(), f.host.clone()))
                .collect();
            v.sort();
            v
        };
        let pair = |f: &str, h: &str| (f.to_string(), h.to_string());
        // A folder walked, and a file given by name.
        let d = discover(&[case.clone(), single.clone()], &overrides, Limits::default());
        assert_eq!(
            hosts(&d),
            [
                pair("CCM_STS.log", "MP01"),
                pair("CcmMessaging.log", "LAPTOP-REAL"),
                pair("ClientIDManagerStartup.log", "SINGLE"),
                pair("LocationServices.log", "ZIPPED"),
                pair("ccmsetup.log", "SETUP-HOST"),
            ],
            "{:?}",
            d.problems
        );
        assert!(d.unused_overrides.is_empty(), "{:?}", d.unused_overrides);
        // The file given alone, and the zip given alone.
        let d = discover(std::slice::from_ref(&single), &overrides, Limits::default());
        assert_eq!(hosts(&d), [pair("ClientIDManagerStartup.log", "SINGLE")]);
        let d = discover(&[case.join("bundle.zip")], &overrides, Limits::default());
        assert_eq!(hosts(&d), [pair("LocationServices.log", "ZIPPED")]);
        // Without overrides the folders name the hosts.
        let d = discover(std::slice::from_ref(&case), &[], Limits::default());
        let inferred = hosts(&d);
        assert!(inferred.contains(&pair("CcmMessaging.log", "DESKTOP-1")), "{inferred:?}");
        assert!(inferred.contains(&pair("ccmsetup.log", "DESKTOP-1")), "{inferred:?}");
        assert!(inferred.contains(&pair("LocationServices.log", "PC9")), "{inferred:?}");
        // An override under which nothing was found is said to be unused.
        let unused = [o("NOBODY", case.join("MP01/SMS_CCM/Logs/none"))];
        let d = discover(&[case.join("MP01")], &unused, Limits::default());
        assert_eq!(hosts(&d), [pair("CCM_STS.log", "MP01")]);
        assert_eq!(d.unused_overrides.len(), 1, "{:?}", d.unused_overrides);
        // An override spelt another way than the input (`..`) still names the files: paths are compared as
        // the file system resolves them.
        let spelt = [o("SPELT", case.join("MP01/../MP01"))];
        let d = discover(&[case.join("MP01")], &spelt, Limits::default());
        assert_eq!(hosts(&d), [pair("CCM_STS.log", "SPELT")]);
        assert!(d.unused_overrides.is_empty(), "{:?}", d.unused_overrides);
    }

    /// A file reached twice is read once, and the skip says why: given twice, or the same file as one found
    /// by another path.
    #[test]
    fn a_file_found_twice_is_read_once() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("PC1");
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("ccmsetup.log");
        std::fs::write(&log, "x\n").unwrap();
        let d = discover(&[log.clone(), log.clone()], &[], Limits::default());
        assert_eq!(d.files.len(), 1);
        assert_eq!(d.skipped.len(), 1, "{:?}", d.skipped);
        assert_eq!(d.skipped[0].1, "given twice: read once");
        let d = discover(&[dir.clone(), dir.join("../PC1/ccmsetup.log")], &[], Limits::default());
        assert_eq!(d.files.len(), 1);
        assert_eq!(d.skipped.len(), 1, "{:?}", d.skipped);
        assert!(d.skipped[0].1.starts_with("the same file as "), "{:?}", d.skipped);
    }

    #[test]
    fn floor_char_boundary_stays_on_characters() {
        assert_eq!(floor_char_boundary("abc", 10), 3);
        assert_eq!(floor_char_boundary("abc", 3), 3);
        assert_eq!(floor_char_boundary("abc", 1), 1);
        assert_eq!(floor_char_boundary("aé", 2), 1);
        assert_eq!(floor_char_boundary("a€", 3), 1);
    }

    fn cm_record(component: &str, message: &str) -> String {
        format!(
            "<![LOG[{message}]LOG]!><time=\"15:31:38.100+000\" date=\"11-20-2026\" component=\"{component}\" \
             context=\"\" type=\"1\" thread=\"1\" file=\"\">\r\n"
        )
    }

    /// The kind is read from the components of the first 64 KB, not of its first kilobyte.
    #[test]
    fn sniff_kind_reads_past_the_first_records() {
        let long = "x".repeat(600);
        let mut text = cm_record("CcmExec", &long) + &cm_record("CcmExec", &long);
        for _ in 0..6 {
            text.push_str(&cm_record("CcmMessaging", "message"));
        }
        assert_eq!(sniff_kind(&text, LineFormat::Cmtrace), Some(LogKind::CcmMessaging));
    }

    /// A file whose name is no log name is read when its first 64 KB hold log records, even when its first
    /// record is long; a note that quotes a log line among more prose is not.
    #[test]
    fn a_log_under_another_name_is_found_by_its_records() {
        let tmp = tempfile::tempdir().unwrap();
        let long = tmp.path().join("trace.txt");
        std::fs::write(&long, cm_record("ccmsetup", &"y".repeat(2000)) + &cm_record("ccmsetup", "z"))
            .unwrap();
        assert!(holds_log_records(&long));
        let note = tmp.path().join("note.txt");
        std::fs::write(&note, format!("one\ntwo\n{}", cm_record("ccmsetup", "quoted"))).unwrap();
        assert!(!holds_log_records(&note));
        let even = tmp.path().join("even.txt");
        std::fs::write(&even, format!("one\n{}", cm_record("ccmsetup", "quoted"))).unwrap();
        assert!(holds_log_records(&even), "as many records as other lines: a log");
    }

    /// A zip held in memory lists as one on disk does; bytes that are no zip are a problem, named.
    #[test]
    fn zip_bytes_are_listed_like_a_zip_file() {
        use std::io::Write;
        let mut buf = std::io::Cursor::new(Vec::new());
        let mut zip = zip::ZipWriter::new(&mut buf);
        zip.start_file("PC9/Logs/ccmsetup.log", zip::write::SimpleFileOptions::default()).unwrap();
        zip.write_all(cm_record("ccmsetup", "x").as_bytes()).unwrap();
        zip.finish().unwrap();
        let d = discover_zip_bytes("in/bundle.zip", buf.into_inner(), Limits::default());
        let files: Vec<(&str, &str)> = d.files.iter().map(|f| (f.path.as_str(), f.host.as_str())).collect();
        assert_eq!(files, [("in/bundle.zip/PC9/Logs/ccmsetup.log", "PC9")]);
        let d = discover_zip_bytes("junk.zip", b"not a zip".to_vec(), Limits::default());
        assert!(d.files.is_empty());
        assert_eq!(d.problems.len(), 1);
        assert_eq!(d.problems[0].path, "junk.zip");
        // A zip signature over a broken archive: the problem is the archive's own, not an entry's.
        let d = discover_zip_bytes(
            "broken.zip",
            b"PK\x03\x04 and nothing a zip needs".to_vec(),
            Limits::default(),
        );
        assert_eq!(d.problems.len(), 1, "{:?}", d.problems);
        assert_eq!(d.problems[0].path, "broken.zip", "{:?}", d.problems);
    }

    /// A zip's stem names a host: `PC1.zip` is `PC1`; a name that is only the suffix is kept whole, and a
    /// multi-byte name is cut on its characters.
    #[test]
    fn zip_stems() {
        assert_eq!(strip_zip_suffix("PC1.zip"), "PC1");
        assert_eq!(strip_zip_suffix("PC1.ZIP"), "PC1");
        assert_eq!(strip_zip_suffix(".zip"), ".zip");
        assert_eq!(strip_zip_suffix("éééé.zip"), "éééé");
        assert_eq!(strip_zip_suffix("PC1"), "PC1");
    }

    #[test]
    fn host_override_parses() {
        let o: HostOverride = "MP01=/tmp/x".parse().unwrap();
        assert_eq!(o.name, "MP01");
        assert!("nonsense".parse::<HostOverride>().is_err());
        // Either side empty (or blank) is no override.
        for bad in ["MP01=", "=/tmp/x", " = /tmp/x", "MP01= "] {
            assert!(bad.parse::<HostOverride>().is_err(), "{bad}");
        }
        let o: HostOverride = " MP01 = /tmp/x ".parse().unwrap();
        assert_eq!((o.name.as_str(), o.path.to_str()), ("MP01", Some("/tmp/x")));
    }
}
