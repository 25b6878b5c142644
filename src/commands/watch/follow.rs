//! Which files `watch` follows, and what becomes of them: every log under the paths (found as `analyze`
//! finds them, with their host and kind), each followed by a `tail::Tail` that keeps the file open, and
//! the changes a scan sees: a new file (read from its start), a file renamed (`ccmsetup.log` →
//! `ccmsetup.lo_`: the same open file, its inode on unix, finished under its new name, never read again), a
//! file gone (read to its end through the open handle, then dropped), a file shorter than what was read
//! (truncated: read again from its start, as a new file). Each file's text reaches the caller once, as
//! `Update`s.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cmtrace_parsers::input::{discover, HostOverride, Limits, Location};
use cmtrace_parsers::regular::file_id;
use cmtrace_parsers::tail::{Tail, TailText};
use cmtrace_parsers::{LineFormat, LogKind, TextEncoding};

/// How long text held back for the end of its record waits, in a file that was rolled over (renamed, or
/// met under a rotated name) or removed, before it is read as it is: the writer has moved on to a new file.
pub const PARTIAL_WAIT: Duration = Duration::from_secs(2);

/// How long a file followed may be missing from the scans before it is taken as gone (removed, or moved
/// out of the paths).
pub const GONE_AFTER: Duration = Duration::from_secs(1);

/// How many bytes of a file's start are compared to tell a file moved to another name (where its identity
/// does not tell: Windows, or a copy then a delete) from a new one.
const SAME_START_BYTES: u64 = 4096;

/// What happened to the files followed. A file is known by its serial, which changes when it is truncated
/// (its new content is another file for whoever reads it).
#[derive(Debug)]
pub enum Update {
    /// A file is followed from now on (its text comes next).
    Opened { serial: u32, path: String, host: String },
    /// Whole records of a file.
    Text {
        serial: u32,
        kind: LogKind,
        format: LineFormat,
        encoding: TextEncoding,
        text: TailText,
        bytes: u64,
    },
    /// The file is now under this name (rolled over, or moved).
    Renamed { serial: u32, path: String },
    /// The file was truncated: `old`'s text is over, and the file is `new` from its start.
    Truncated { old: u32, new: u32, path: String, host: String },
    /// The file is gone from the paths (deleted, or moved out): all its text was given.
    Gone { serial: u32 },
}

/// One file followed.
struct Followed {
    serial: u32,
    /// As `analyze` shows it (`/` separators), the name it has now.
    path: String,
    host: String,
    tail: Tail,
    /// Renamed since it was opened, or found under a rotated name: no longer the file its writer writes.
    rolled: bool,
    /// Since when scans have not found it (a file renamed while a scan lists the folder is under neither
    /// name for that scan).
    missing_since: Option<Instant>,
}

/// A file a scan found that is not one followed (or is, renamed where identities do not tell).
struct Found {
    path: PathBuf,
    shown: String,
    host: String,
    kind_by_name: Option<LogKind>,
    /// Found under a rotated name (`.lo_`, `-YYYYMMDD-HHMMSS`): its writer has moved on.
    rotated_name: bool,
    id: cmtrace_parsers::regular::FileId,
}

/// Every file followed under the paths.
pub struct Follower {
    roots: Vec<PathBuf>,
    hosts: Vec<HostOverride>,
    files: Vec<Followed>,
    next_serial: u32,
    /// Problems already said (a path that cannot be read), so that each is said once.
    said: std::collections::HashSet<String>,
    /// Problems met while reading, for the caller to say (`take_notes`).
    unsaid: Vec<String>,
    /// Set when `watch` is to stop: a long read (a large folder's first) stops between two steps.
    stop: Arc<AtomicBool>,
}

impl Follower {
    /// Follows the files under `roots`; a read stops at its next step once `stop` is set.
    pub fn new(roots: Vec<PathBuf>, hosts: Vec<HostOverride>, stop: Arc<AtomicBool>) -> Follower {
        Follower {
            roots,
            hosts,
            files: Vec::new(),
            next_serial: 0,
            said: Default::default(),
            unsaid: Vec::new(),
            stop,
        }
    }

    /// How many files are followed.
    pub fn files_followed(&self) -> usize {
        self.files.len()
    }

    /// Has no file followed been written for `settle`? (By the files' own modification times, so that logs
    /// that were already quiet when `watch` started are quiet at once.)
    pub fn quiet_for(&self, settle: Duration) -> bool {
        let newest =
            self.files.iter().filter_map(|f| f.tail.metadata().and_then(|m| m.modified()).ok()).max();
        newest.is_none_or(|t| t.elapsed().is_ok_and(|age| age >= settle))
    }

    /// Finds the files under the paths now and compares them with those followed: new, renamed, gone.
    /// `note` is told each problem once (a file that cannot be opened, a zip, which is not followed).
    pub fn scan(&mut self, now: Instant, out: &mut dyn FnMut(Update), note: &mut dyn FnMut(String)) {
        let found = discover(&self.roots, &self.hosts, Limits::default());
        for p in &found.problems {
            let line = format!("{}: {}", p.path, p.error);
            if self.said.insert(line.clone()) {
                note(line);
            }
        }
        let mut seen = vec![false; self.files.len()];
        let mut new: Vec<Found> = Vec::new();
        let mut zips_said = false;
        for src in found.files {
            let Location::File(path) = &src.location else {
                if !zips_said && self.said.insert(format!("zip {}", src.path)) {
                    note(format!("{}: a zip is not followed (watch reads folders and files)", src.path));
                    zips_said = true;
                }
                continue;
            };
            let Ok(meta) = std::fs::metadata(path) else { continue };
            let id = file_id(path, &meta);
            let known = (0..self.files.len()).find(|&i| !seen[i] && *self.files[i].tail.id() == id);
            match known {
                Some(i) if !replaced(&self.files[i], path, &meta) => {
                    seen[i] = true;
                    let f = &mut self.files[i];
                    f.missing_since = None;
                    if f.path != src.path {
                        f.path = src.path.clone();
                        f.rolled = true;
                        out(Update::Renamed { serial: f.serial, path: src.path });
                    }
                }
                _ => new.push(Found {
                    path: path.clone(),
                    shown: src.path,
                    host: src.host,
                    kind_by_name: src.kind_by_name,
                    rotated_name: src.rotation_rank.0 != 2,
                    id,
                }),
            }
        }
        // Files not found: one of the new names may hold the same file (moved where identities do not
        // tell). Else, once missing for `GONE_AFTER` (not at once: a scan that lists a folder while a file
        // is renamed in it may see neither name), finished through their open handle and gone.
        let mut i = 0;
        while i < self.files.len() {
            if seen[i] {
                i += 1;
                continue;
            }
            if let Some(j) = new.iter().position(|n| same_start(&mut self.files[i].tail, &n.path)) {
                let moved = new.remove(j);
                let f = &mut self.files[i];
                f.path = moved.shown.clone();
                f.rolled = true;
                f.tail.set_id(moved.id);
                f.missing_since = None;
                out(Update::Renamed { serial: f.serial, path: moved.shown });
                i += 1;
                continue;
            }
            let since = *self.files[i].missing_since.get_or_insert(now);
            if now.duration_since(since) < GONE_AFTER {
                i += 1;
                continue;
            }
            let mut gone = self.files.remove(i);
            seen.remove(i);
            self.read_file(&mut gone, now, out);
            if let Some(text) = gone.tail.flush() {
                out(text_update(&gone, text));
            }
            out(Update::Gone { serial: gone.serial });
        }
        for n in new {
            match Tail::open(&n.path, n.kind_by_name, now) {
                Ok(tail) => {
                    let serial = self.serial();
                    out(Update::Opened { serial, path: n.shown.clone(), host: n.host.clone() });
                    self.files.push(Followed {
                        serial,
                        path: n.shown,
                        host: n.host,
                        tail,
                        rolled: n.rotated_name,
                        missing_since: None,
                    });
                }
                Err(e) => {
                    let line = format!("{}: {e}", n.shown);
                    if self.said.insert(line.clone()) {
                        note(line);
                    }
                }
            }
        }
    }

    /// The problems met while reading since the last call (a file that could not be read), each once.
    pub fn take_notes(&mut self) -> Vec<String> {
        std::mem::take(&mut self.unsaid)
    }

    /// Reads what every file followed gained since the last read, and gives out, as it is, the text a
    /// rolled-over file has held back for longer than `PARTIAL_WAIT`.
    pub fn read(&mut self, now: Instant, out: &mut dyn FnMut(Update)) {
        let mut files = std::mem::take(&mut self.files);
        for f in &mut files {
            self.read_file(f, now, out);
            let stale = f.tail.waiting_since().is_some_and(|t| now.duration_since(t) >= PARTIAL_WAIT);
            if f.rolled && stale {
                if let Some(text) = f.tail.flush() {
                    out(text_update(f, text));
                }
            }
        }
        self.files = files;
    }

    /// Reads one file to its current end.
    fn read_file(&mut self, f: &mut Followed, now: Instant, out: &mut dyn FnMut(Update)) {
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return;
            }
            let growth = match f.tail.read(now) {
                Ok(g) => g,
                Err(e) => {
                    let line = format!("{}: {e}", f.path);
                    if self.said.insert(line.clone()) {
                        self.unsaid.push(line);
                    }
                    return;
                }
            };
            let n = growth.texts.len();
            for (i, text) in growth.texts.into_iter().enumerate() {
                if growth.truncated_before == Some(i) {
                    self.truncated(f, out);
                }
                out(text_update(f, text));
            }
            if growth.truncated_before == Some(n) {
                self.truncated(f, out);
            }
            if !growth.more {
                return;
            }
        }
    }

    fn truncated(&mut self, f: &mut Followed, out: &mut dyn FnMut(Update)) {
        let new = self.serial();
        out(Update::Truncated { old: f.serial, new, path: f.path.clone(), host: f.host.clone() });
        f.serial = new;
    }

    fn serial(&mut self) -> u32 {
        self.next_serial += 1;
        self.next_serial
    }
}

fn text_update(f: &Followed, text: TailText) -> Update {
    Update::Text {
        serial: f.serial,
        kind: f.tail.kind,
        format: f.tail.format,
        encoding: f.tail.encoding,
        text,
        bytes: f.tail.offset(),
    }
}

/// Does the file at `path` (metadata `meta`) start with what `tail` read from its file's start? Then it is
/// the same file under another name.
fn same_start(tail: &mut Tail, path: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else { return false };
    let n = tail.offset().min(SAME_START_BYTES);
    n > 0 && meta.len() >= tail.offset() && tail.starts_like(path, n)
}

/// Where a file's identity is its path (Windows), the path may now name a new file while the one followed
/// was renamed: told by its size (a log only grows, so a path shorter than the file followed holds another
/// file) and, where the system gives it, its creation time.
fn replaced(f: &Followed, path: &Path, meta: &std::fs::Metadata) -> bool {
    let _ = (f, path, meta);
    #[cfg(windows)]
    {
        use std::os::windows::fs::MetadataExt;
        if let Ok(handle) = f.tail.metadata() {
            return replaced_by(
                (handle.len(), handle.creation_time()),
                (meta.len(), meta.creation_time()),
                f.tail.offset(),
            );
        }
    }
    false
}

/// The decision of `replaced`, on values: the open file's (size, creation time) and the path's, and how much
/// of the open file was read. The path holds another file when it was created at another time, or when it
/// is shorter than what was read while the open file is not (a truncated file is shorter through both).
#[cfg_attr(not(windows), allow(dead_code))]
pub fn replaced_by(handle: (u64, u64), at_path: (u64, u64), read: u64) -> bool {
    let (handle_len, handle_created) = handle;
    let (path_len, path_created) = at_path;
    handle_created != path_created || (path_len < read && handle_len >= read)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REC: &str = "<![LOG[==========[ ccmsetup started in process 1 ]==========]LOG]!><time=\"10:00:01.000+0\" date=\"11-20-2026\" component=\"ccmsetup\" context=\"\" type=\"1\" thread=\"1\" file=\"\">\r\n";

    /// What the follower said, one line per update: `opened NAME`, `text NAME:LINE <text>`, `renamed NAME`,
    /// `truncated`, `gone`.
    fn said(f: &mut Follower, now: Instant, scan: bool) -> Vec<String> {
        let mut out = Vec::new();
        let mut names: std::collections::HashMap<u32, String> = Default::default();
        for file in &f.files {
            names.insert(file.serial, file.path.rsplit('/').next().unwrap().to_string());
        }
        let mut updates = Vec::new();
        if scan {
            f.scan(now, &mut |u| updates.push(u), &mut |n| panic!("{n}"));
        }
        f.read(now, &mut |u| updates.push(u));
        for u in updates {
            let name = |p: &str| p.rsplit('/').next().unwrap().to_string();
            out.push(match u {
                Update::Opened { serial, path, .. } => {
                    names.insert(serial, name(&path));
                    format!("opened {}", name(&path))
                }
                Update::Text { serial, text, .. } => {
                    format!("text {}:{} {}", names[&serial], text.first_line, text.text.len())
                }
                Update::Renamed { serial, path } => {
                    names.insert(serial, name(&path));
                    format!("renamed {}", name(&path))
                }
                Update::Truncated { .. } => "truncated".into(),
                Update::Gone { .. } => "gone".into(),
            });
        }
        out
    }

    fn setup() -> (tempfile::TempDir, PathBuf, Follower) {
        let tmp = tempfile::tempdir().unwrap();
        let logs = tmp.path().join("PC1/Windows/ccmsetup/Logs");
        std::fs::create_dir_all(&logs).unwrap();
        let follower = Follower::new(vec![tmp.path().to_path_buf()], Vec::new(), Default::default());
        (tmp, logs, follower)
    }

    #[test]
    fn a_rolled_files_held_back_record_is_read_as_it_is_after_the_wait() {
        let (_tmp, logs, mut f) = setup();
        let half = &REC[..50];
        std::fs::write(logs.join("ccmsetup.log"), format!("{REC}{half}")).unwrap();
        let t0 = Instant::now();
        assert_eq!(
            said(&mut f, t0, true),
            ["opened ccmsetup.log", &format!("text ccmsetup.log:1 {}", REC.len())]
        );
        // Not rolled: the half record waits, however long.
        assert!(said(&mut f, t0 + PARTIAL_WAIT * 10, false).is_empty());
        std::fs::rename(logs.join("ccmsetup.log"), logs.join("ccmsetup.lo_")).unwrap();
        assert_eq!(said(&mut f, t0, true), ["renamed ccmsetup.lo_"]);
        // Rolled: it waits `PARTIAL_WAIT` for its end, then is read as it is, once.
        assert!(said(&mut f, t0 + PARTIAL_WAIT / 2, false).is_empty());
        assert_eq!(said(&mut f, t0 + PARTIAL_WAIT, false), [format!("text ccmsetup.lo_:2 {}", half.len())]);
        assert!(said(&mut f, t0 + PARTIAL_WAIT * 2, false).is_empty());
    }

    #[test]
    fn a_file_moved_to_another_identity_is_not_read_again() {
        let (_tmp, logs, mut f) = setup();
        std::fs::write(logs.join("ccmsetup.log"), REC).unwrap();
        let t0 = Instant::now();
        assert_eq!(said(&mut f, t0, true).len(), 2);
        // Copied under the rotated name, then removed: another inode, the same content.
        std::fs::copy(logs.join("ccmsetup.log"), logs.join("ccmsetup.lo_")).unwrap();
        std::fs::remove_file(logs.join("ccmsetup.log")).unwrap();
        assert_eq!(said(&mut f, t0, true), ["renamed ccmsetup.lo_"]);
        // Not read again; the new file under the old name is read from its start.
        std::fs::write(logs.join("ccmsetup.log"), REC).unwrap();
        assert_eq!(
            said(&mut f, t0, true),
            ["opened ccmsetup.log", &format!("text ccmsetup.log:1 {}", REC.len())]
        );
    }

    #[test]
    fn a_removed_file_is_finished_then_gone() {
        let (_tmp, logs, mut f) = setup();
        std::fs::write(logs.join("ccmsetup.log"), REC).unwrap();
        let t0 = Instant::now();
        assert_eq!(said(&mut f, t0, true).len(), 2);
        let mut w = std::fs::OpenOptions::new().append(true).open(logs.join("ccmsetup.log")).unwrap();
        std::io::Write::write_all(&mut w, REC.as_bytes()).unwrap();
        std::fs::remove_file(logs.join("ccmsetup.log")).unwrap();
        // Its last record is read through the handle kept open; it is gone once missing for `GONE_AFTER`.
        assert_eq!(said(&mut f, t0, true), [format!("text ccmsetup.log:2 {}", REC.len())]);
        assert_eq!(f.files_followed(), 1);
        assert!(said(&mut f, t0 + GONE_AFTER / 2, true).is_empty());
        assert_eq!(said(&mut f, t0 + GONE_AFTER, true), ["gone"]);
        assert_eq!(f.files_followed(), 0);
    }

    #[test]
    fn a_path_that_holds_another_file() {
        // The same file: same creation time, and sizes that agree (grown, or truncated through both).
        assert!(!replaced_by((100, 7), (100, 7), 100));
        assert!(!replaced_by((150, 7), (150, 7), 100));
        assert!(!replaced_by((10, 7), (10, 7), 100), "truncated: shorter through the handle too");
        // Renamed and a new file created under the name: created later, or (time kept by the system's
        // tunnelling) shorter than what was read while the renamed file is not.
        assert!(replaced_by((100, 7), (0, 9), 100));
        assert!(replaced_by((100, 7), (20, 7), 100));
    }
}
