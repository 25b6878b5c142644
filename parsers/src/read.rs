//! Reading ConfigMgr logs end to end: the inputs found (`input::discover`), every file scanned in parallel
//! (`scan`), every entry counted and the ones that can give an event (`Extractors::may_match` on the message
//! as written) offered to the extractor of its log kind. The result ([`Logs`]) holds one [`FileSummary`] per
//! file, the flow's typed events in an [`EventStore`] (their texts in a temporary file, see `spill`), and
//! the paths that could not be read or were passed over. [`piece_events`] reads one piece of a log's text
//! the same way (a chunk here; what was appended to a followed log in `cmtrace-rs watch`).

use std::borrow::Cow;
use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};

use crate::entry::{LineFormat, Record, TextEncoding};
use crate::events::{Event, SharedStr};
use crate::extract::{Extractors, Prefiltered};
use crate::format::{Records, MAX_RECORD_BYTES};
use crate::input::{
    discover, kind_from_base_name, rotation_of, HostOverride, InputProblem, Limits, SourceFile,
};
use crate::kind::LogKind;
use crate::scan::{scan_ordered, ScanOptions, Scanned};
use crate::spill::{Spill, SpillRange, Text};
use crate::store::EventStore;
use crate::strings::Strings;

/// Where a [`Reader`] keeps the texts of the events it finds.
#[derive(Debug, Clone, Default)]
pub enum TextStore {
    /// A new temporary file made for the read ([`Spill::new`]), or memory where none can be made.
    #[default]
    TemporaryFile,
    /// This temporary file.
    Spill(Arc<Spill>),
    /// Memory ([`Spill::in_memory`]): every distinct message of a chunk once, in one buffer of the read.
    Memory,
}

/// Reads folders, files and zip bundles of ConfigMgr logs into [`Logs`]. Reading never fails as a whole:
/// what could not be read is named in the result, with the reason.
#[derive(Debug, Clone, Default)]
pub struct Reader {
    hosts: Vec<HostOverride>,
    limits: Limits,
    texts: TextStore,
    /// Whether entries no extractor can use are read in full, not only counted.
    every_entry: bool,
    /// Whether the message ids of CMG and connection point requests (`EventKind::ProxyRequest`) are left out.
    without_request_ids: bool,
}

/// One file found in the inputs, as read (or not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSummary {
    /// The path as found, with `/` separators (`bundle.zip/HOST/.../ccmsetup.log` inside a zip); the same
    /// string as its events' path.
    pub path: SharedStr,
    /// The host whose logs the file is (from the folder layout, or a [`HostOverride`]); the same string as its
    /// events' host.
    pub host: SharedStr,
    /// Which log the file is (by name, else by content).
    pub log_kind: LogKind,
    /// The line format it is written in (`Unknown` when none was recognised or it could not be read).
    pub format: LineFormat,
    /// The text encoding it was decoded from (`Utf8` when it could not be read).
    pub encoding: TextEncoding,
    /// Log entries read.
    pub entries: u64,
    /// Lines that matched no line format.
    pub unparsed_lines: u64,
    /// Why the file could not be read, or gave no entry; `None` when it was read.
    pub error: Option<String>,
    /// The file's size (for a zip entry, the size it declares).
    pub bytes: u64,
    /// The first entry time of the file (UTC), if an entry has one.
    pub first_time: Option<DateTime<Utc>>,
    /// The last entry time of the file (UTC), if an entry has one.
    pub last_time: Option<DateTime<Utc>>,
    /// What was read but not as it should be: the file changed while it was read, records longer than
    /// the bound were counted as unparsed.
    pub warning: Option<String>,
}

impl FileSummary {
    /// The row of a path that was not read (a problem, or a zip entry passed over), with its log kind
    /// from its name.
    fn not_read(path: &str, host: Option<&str>, error: String) -> FileSummary {
        let name = path.rsplit('/').next().unwrap_or(path);
        let (base, _) = rotation_of(name);
        FileSummary {
            path: path.into(),
            host: host.unwrap_or_default().into(),
            log_kind: kind_from_base_name(&base).unwrap_or(LogKind::Other),
            format: LineFormat::Unknown,
            encoding: TextEncoding::Utf8,
            entries: 0,
            unparsed_lines: 0,
            error: Some(error),
            bytes: 0,
            first_time: None,
            last_time: None,
            warning: None,
        }
    }

    /// The row of a file found, before its chunks are counted: `loaded` is what loading it told (kind,
    /// format, encoding), or the reason it could not be loaded.
    fn found(
        src: &SourceFile,
        loaded: Option<(LogKind, LineFormat, TextEncoding)>,
        error: Option<String>,
        strings: &Strings,
    ) -> Self {
        let (log_kind, format, encoding) = loaded.unwrap_or((
            src.kind_by_name.unwrap_or(LogKind::Other),
            LineFormat::Unknown,
            TextEncoding::Utf8,
        ));
        FileSummary {
            path: strings.get(&src.path),
            host: strings.get(&src.host),
            log_kind,
            format,
            encoding,
            entries: 0,
            unparsed_lines: 0,
            error,
            bytes: src.size,
            first_time: None,
            last_time: None,
            warning: None,
        }
    }
}

/// Everything a [`Reader`] read.
#[derive(Debug)]
pub struct Logs {
    /// Every log file found, in read order (hosts, then rotated sets oldest first).
    pub files: Vec<FileSummary>,
    /// The flow events found in them, in the same order.
    pub events: EventStore,
    /// Whole paths that could not be read (a missing folder, a broken zip, an entry too large...).
    pub problems: Vec<InputProblem>,
    /// Files passed over (path, reason): names that are not log names, a file found twice.
    pub skipped: Vec<(String, String)>,
    /// Host overrides that name nothing (`NAME=PATH` as given, why): the path does not exist, or no file
    /// found is under it.
    pub unused_overrides: Vec<(String, String)>,
    /// The bytes of every file read.
    pub bytes: u64,
}

impl Logs {
    /// The problems and the zip entries passed over, as rows with `error` set: every input problem can be
    /// reported beside the files read, not only the files.
    pub fn problem_files(&self) -> Vec<FileSummary> {
        let mut rows: Vec<FileSummary> = self
            .problems
            .iter()
            .map(|p| FileSummary::not_read(&p.path, p.host.as_deref(), p.error.clone()))
            .collect();
        // Files of a folder that are not logs are passed over as usual; entries of a zip the user handed
        // over are named, each with its reason.
        rows.extend(
            self.skipped
                .iter()
                .filter(|(path, _)| inside_archive(path))
                .map(|(path, why)| FileSummary::not_read(path, None, format!("passed over: {why}"))),
        );
        rows
    }
}

/// Is `path` inside a zip archive (`bundle.zip/dir/x.txt`)?
fn inside_archive(path: &str) -> bool {
    let mut parts: Vec<&str> = path.split('/').collect();
    parts.pop();
    parts.iter().any(|p| p.to_ascii_lowercase().ends_with(".zip"))
}

impl Reader {
    /// A reader with no host override, the default [`Limits`] and event texts in a temporary file.
    pub fn new() -> Reader {
        Reader::default()
    }

    /// Every file under an override's path belongs to its host, whatever the folder layout says.
    pub fn hosts(mut self, hosts: &[HostOverride]) -> Reader {
        self.hosts = hosts.to_vec();
        self
    }

    /// The most a zip entry and a zip archive may inflate to.
    pub fn limits(mut self, limits: Limits) -> Reader {
        self.limits = limits;
        self
    }

    /// Where the events' texts are kept.
    pub fn texts(mut self, texts: TextStore) -> Reader {
        self.texts = texts;
        self
    }

    /// Reads every entry in full when `every` is true, rather than only those an extractor can use (the
    /// same result, slower: for tests that hold the two side by side).
    #[doc(hidden)]
    pub fn read_every_entry(mut self, every: bool) -> Reader {
        self.every_entry = every;
        self
    }

    /// Leaves out the message id of each request the CMG and its connection point log
    /// (`EventKind::ProxyRequest::message_id` is `None`) when `leave_out` is true. They are one distinct
    /// string per request (250,000 in a 1 GB collection of busy server logs) that the correlation does not
    /// use: a reader that shows no event's identifiers (a report other than HTML, which searches them) need
    /// not hold them.
    pub fn without_request_message_ids(mut self, leave_out: bool) -> Reader {
        self.without_request_ids = leave_out;
        self
    }

    /// Reads `paths` (folders walked recursively, files, `.zip` bundles).
    pub fn read<P: AsRef<Path>>(&self, paths: &[P]) -> Logs {
        self.read_with_progress(paths, |_| {})
    }

    /// [`Reader::read`], calling `progress` with the size of each file as it is finished.
    pub fn read_with_progress<P: AsRef<Path>>(&self, paths: &[P], mut progress: impl FnMut(u64)) -> Logs {
        let paths: Vec<PathBuf> = paths.iter().map(|p| p.as_ref().to_path_buf()).collect();
        let discovery = discover(&paths, &self.hosts, self.limits);
        let mut files: Vec<FileSummary> = Vec::with_capacity(discovery.files.len());
        // Segments that never move what they hold: each chunk's events are appended as they come, in order.
        let mut events = EventStore::new();
        let mut bytes = 0u64;
        let spill = match &self.texts {
            TextStore::TemporaryFile => Some(Spill::new().unwrap_or_else(|_| Spill::in_memory())),
            TextStore::Spill(spill) => Some(spill.clone()),
            TextStore::Memory => Some(Spill::in_memory()),
        };
        // Records cut off by the size bound in the file being read.
        let mut oversized = 0u64;
        let every_entry = self.every_entry;
        // One copy of each identifier, URL, host and path the events name (the process's), message ids left out
        // when the reader leaves them out.
        let strings = Strings::without_request_ids(self.without_request_ids);
        scan_ordered(
            &discovery.files,
            ScanOptions::default(),
            |src, file, chunk| {
                let mut texts = Vec::new();
                // One allocation per chunk; every event of the chunk shares it.
                let piece = Piece {
                    text: chunk.text,
                    format: file.format,
                    first_line: chunk.first_line,
                    kind: file.kind,
                    path: strings.get(&src.path),
                    host: strings.get(&src.host),
                };
                let found = read_piece(&piece, every_entry, Some(&strings), |m| {
                    text_of(m, &mut texts, spill.as_ref())
                });
                ChunkResult {
                    // Only a file's first chunk holds its first entry.
                    first_time: if chunk.index == 0 {
                        first_entry_time(chunk.text, file.format)
                    } else {
                        None
                    },
                    last_time: last_entry_time(chunk.text, file.format),
                    found,
                    texts,
                }
            },
            |msg| match msg {
                Scanned::Start { source, file, .. } => {
                    let mut row = FileSummary::found(
                        source,
                        file.as_ref().ok().map(|f| (f.kind, f.format, f.encoding)),
                        file.as_ref().err().map(|e| e.to_string()),
                        &strings,
                    );
                    row.warning = file.ok().and_then(|f| f.warning.clone());
                    files.push(row);
                    oversized = 0;
                }
                Scanned::Chunk { result, .. } => {
                    let row = files.last_mut().expect("Start comes first");
                    row.entries += result.found.entries;
                    row.unparsed_lines += result.found.unparsed;
                    oversized += result.found.oversized;
                    row.first_time = row.first_time.or(result.first_time);
                    row.last_time = result.last_time.or(row.last_time);
                    let mut chunk_events = result.found.events;
                    if !result.texts.is_empty() {
                        place_texts(spill.as_deref(), &result.texts, &mut chunk_events);
                    }
                    events.extend(chunk_events);
                }
                Scanned::End { source, warning, .. } => {
                    let row = files.last_mut().expect("Start comes first");
                    if let Some(late) = warning {
                        add_warning(row, late);
                    }
                    if row.error.is_none() && row.entries == 0 && source.size > 0 {
                        row.error = Some(format!(
                            "no ConfigMgr log entry in any of its formats (CMTrace, server, setup; {} unparsed lines): not a ConfigMgr log, or binary",
                            row.unparsed_lines
                        ));
                    }
                    if oversized > 0 {
                        add_warning(
                            row,
                            format!(
                                "{oversized} record(s) longer than {} MiB (no end of record within that bound) were \
                                 not read as entries: their lines are counted as unparsed",
                                MAX_RECORD_BYTES >> 20
                            ),
                        );
                    }
                    bytes += source.size;
                    progress(source.size);
                }
            },
        );
        Logs {
            files,
            events,
            problems: discovery.problems,
            skipped: discovery.skipped,
            unused_overrides: discovery.unused_overrides,
            bytes,
        }
    }
}

/// Adds `more` to a file's warning, after what it already says.
fn add_warning(row: &mut FileSummary, more: String) {
    row.warning = Some(match row.warning.take() {
        Some(w) => format!("{w}; {more}"),
        None => more,
    });
}

/// What the reader learns from one chunk of a file.
struct ChunkResult {
    /// The chunk's first and last entry times (UTC).
    first_time: Option<DateTime<Utc>>,
    last_time: Option<DateTime<Utc>>,
    /// Its counts and events.
    found: PieceEvents,
    /// The texts of the chunk's events, one after the other: written to the spill in input order, the
    /// events' `Text::Spilled` offsets are relative to this buffer until then.
    texts: Vec<u8>,
}

/// A piece of a log's text: whole records, from line `first_line`, of a file of kind `kind` at `path` on
/// `host` (a chunk of a file read, or what was appended to a log followed).
#[derive(Debug, Clone)]
pub struct Piece<'t> {
    /// The text: whole records.
    pub text: &'t str,
    /// Its line format.
    pub format: LineFormat,
    /// The 1-based line number of its first line in the file.
    pub first_line: u32,
    /// The log kind of the file: which extractor reads it.
    pub kind: LogKind,
    /// The file's path, shared by its events.
    pub path: SharedStr,
    /// The file's host, shared by its events.
    pub host: SharedStr,
}

/// The counts and flow events of one [`Piece`].
#[derive(Debug, Default)]
pub struct PieceEvents {
    /// Log entries.
    pub entries: u64,
    /// Lines that matched no line format.
    pub unparsed: u64,
    /// Records longer than `format::MAX_RECORD_BYTES`, whose lines were counted as unparsed.
    pub oversized: u64,
    /// The flow events, in text order.
    pub events: Vec<Event>,
}

/// The extractors, compiled once per process: a program that reads many bundles (the fuzzer, a service) or
/// follows logs pays once.
fn extractors() -> &'static Extractors {
    static EXTRACTORS: OnceLock<Extractors> = OnceLock::new();
    EXTRACTORS.get_or_init(Extractors::new)
}

/// The flow events of `piece`, read as [`Reader`] reads each chunk of a file: every entry counted, only
/// those an extractor can use (`Extractors::may_match` on the message as written) parsed in full and
/// offered to the extractor of the piece's kind. `text_for` gives the text events keep of a message (in
/// memory, or where it was spilled), once per distinct message of the piece.
pub fn piece_events(piece: &Piece<'_>, text_for: impl FnMut(&str) -> Text) -> PieceEvents {
    read_piece(piece, false, None, text_for)
}

/// [`piece_events`], leaving out what `strings` leaves out: a reader that runs for long, as `watch` does, leaves
/// out requests' message ids, one distinct string per request that the process's table of strings would hold
/// for as long as it runs.
pub fn piece_events_with(
    piece: &Piece<'_>,
    strings: &Strings,
    text_for: impl FnMut(&str) -> Text,
) -> PieceEvents {
    read_piece(piece, false, Some(strings), text_for)
}

/// [`piece_events`], reading every entry in full when `every_entry` is true, leaving out what `strings` leaves
/// out when given.
fn read_piece(
    piece: &Piece<'_>,
    every_entry: bool,
    strings: Option<&Strings>,
    mut text_for: impl FnMut(&str) -> Text,
) -> PieceEvents {
    let extractors = extractors();
    let mut out = PieceEvents::default();
    let mut kinds = Vec::new();
    // Server logs repeat the same messages verbatim (`ProcessRequest - Start`, `Return token to client`):
    // one text per distinct message of the piece.
    let mut seen: rustc_hash::FxHashMap<&str, Text> = rustc_hash::FxHashMap::default();
    // Only entries that can give an event are read in full; the others are only counted. The literal scan
    // that decided is handed to the extractor with the entry.
    let last_scan: Cell<Option<Prefiltered>> = Cell::new(None);
    let may_match = |raw: &str| {
        let scan = extractors.prefilter(piece.kind, raw);
        last_scan.set(Some(scan));
        scan.may_match
    };
    // Given the spill of the piece's texts by its first spilled one.
    let mut origin = Arc::new(crate::events::Origin::new(piece.path.clone(), piece.host.clone()));
    let mut records = Records::new(piece.text, piece.format, piece.first_line);
    if !every_entry {
        records = records.keep_only(&may_match);
    }
    for rec in records.by_ref() {
        match rec {
            Record::Entry(e) => {
                out.entries += 1;
                extractors.extract_prefiltered(
                    piece.kind,
                    &e,
                    last_scan.take().as_ref(),
                    strings,
                    &mut kinds,
                );
                for kind in kinds.drain(..) {
                    let text = text_of_message(&mut seen, &e.message, &mut text_for);
                    out.events.push(Event::from_entry(kind, piece.kind, &e, &mut origin, text));
                }
            }
            Record::Unparsed { .. } => out.unparsed += 1,
        }
    }
    out.entries += records.skipped();
    out.oversized = records.oversized();
    out
}

/// The first entry time of a text: the first timed entry among its first records.
fn first_entry_time(text: &str, format: LineFormat) -> Option<DateTime<Utc>> {
    // A bounded head (the record splitter looks ahead through all the text it is given), widened while no
    // timed entry is found in it.
    for window in [2 << 10, 64 << 10, 1 << 20] {
        let mut to = window.min(text.len());
        while !text.is_char_boundary(to) {
            to -= 1;
        }
        let first = Records::new(&text[..to], format, 1).take(64).find_map(|r| match r {
            Record::Entry(e) => e.utc(),
            Record::Unparsed { .. } => None,
        });
        if first.is_some() || to == text.len() {
            return first;
        }
    }
    None
}

/// The last entry time of a text, read from its tail only (a bounded window, widened while the last record
/// is longer than it): the cost does not grow with the file. A follower of a growing log reads each new
/// piece with it too.
pub fn last_entry_time(text: &str, format: LineFormat) -> Option<DateTime<Utc>> {
    for window in [2 << 10, 64 << 10, 1 << 20] {
        let mut from = text.len().saturating_sub(window);
        while !text.is_char_boundary(from) {
            from += 1;
        }
        // From a line start, so that a record begins where the window does as often as possible.
        let start = if from == 0 { 0 } else { text[from..].find('\n').map_or(text.len(), |i| from + i + 1) };
        let last = Records::new(&text[start..], format, 1)
            .filter_map(|r| match r {
                Record::Entry(e) => e.utc(),
                Record::Unparsed { .. } => None,
            })
            .last();
        if last.is_some() || from == 0 {
            return last;
        }
    }
    None
}

/// The text of `message`: the one given to an earlier event of the piece with the same message, else a new
/// one from `text_for`.
// `&Cow`, not `&str`: a borrowed message outlives the call and keys the piece's map.
#[allow(clippy::ptr_arg)]
fn text_of_message<'t>(
    seen: &mut rustc_hash::FxHashMap<&'t str, Text>,
    message: &Cow<'t, str>,
    text_for: &mut impl FnMut(&str) -> Text,
) -> Text {
    if let Some(t) = seen.get(&**message) {
        return t.clone();
    }
    let t = text_for(message);
    if let Cow::Borrowed(m) = message {
        seen.insert(m, t.clone());
    }
    t
}

/// An event's text: in the chunk's spill buffer (`buf`), or in memory when there is no spill.
fn text_of(message: &str, buf: &mut Vec<u8>, spill: Option<&Arc<Spill>>) -> Text {
    match spill.zip(SpillRange::new(buf.len() as u64, message.len())) {
        Some((spill, at)) => {
            buf.extend_from_slice(message.as_bytes());
            Text::Spilled { spill: spill.clone(), at }
        }
        None => Text::from(message),
    }
}

/// Write a chunk's texts to the spill and move its events' offsets there; if the spill cannot be written, the
/// texts stay in memory.
fn place_texts(spill: Option<&Spill>, texts: &[u8], events: &mut [Event]) {
    let written = spill.and_then(|s| s.append(texts).ok());
    for e in events {
        let Some(at) = e.evidence.spill_range() else { continue };
        match written.and_then(|base| SpillRange::new(base + at.offset(), at.len() as usize)) {
            Some(placed) => e.evidence.set_spill_range(placed),
            None => {
                let bytes = &texts[at.offset() as usize..at.offset() as usize + at.len() as usize];
                e.evidence.set_text(Text::from(String::from_utf8_lossy(bytes).as_ref()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::EventKind;

    /// Skipping the entries no extractor can use gives the same files (entry and unparsed counts) and
    /// the same events as reading every entry, on every fixture: both line formats, every encoding,
    /// rotated sets, zips, truncated and binary files, and every multi-host bundle.
    #[test]
    fn skipping_quiet_entries_changes_nothing() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
        let mut dirs = vec![root.join("parse"), root.join("demo")];
        for group in ["bundles", "rules"] {
            for d in std::fs::read_dir(root.join(group)).unwrap() {
                let d = d.unwrap().path();
                if d.is_dir() {
                    dirs.push(d);
                }
            }
        }
        // All at once: each run compiles the extractors once.
        let lazy = Reader::new().read(&dirs);
        let full = Reader::new().read_every_entry(true).read(&dirs);
        assert_eq!(lazy.files, full.files);
        assert_eq!(lazy.events, full.events);
        assert!(
            full.files.len() > 200 && full.events.len() > 1000,
            "{} {}",
            full.files.len(),
            full.events.len()
        );
        assert!(dirs.len() > 40);
    }

    /// Leaving out the requests' message ids changes nothing else: the same files, the same events in the
    /// same order, each request without its message id.
    #[test]
    fn requests_can_be_read_without_their_message_ids() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/demo");
        let with = Reader::new().read(std::slice::from_ref(&root));
        let without = Reader::new().without_request_message_ids(true).read(&[root]);
        assert_eq!(with.files, without.files);
        assert_eq!(with.events.len(), without.events.len());
        let mut requests = 0;
        for (a, b) in with.events.iter().zip(&without.events) {
            let mut expected = a.clone();
            if let EventKind::ProxyRequest { message_id, .. } = &mut expected.kind {
                requests += usize::from(message_id.take().is_some());
            }
            assert_eq!(b, &expected);
        }
        assert!(requests >= 2, "the demo's connection point logs requests with message ids ({requests})");
    }

    /// A piece read through strings that leave out message ids gives the same events, each request without its
    /// message id; read without them, it keeps them.
    #[test]
    fn a_piece_can_be_read_without_its_requests_message_ids() {
        let text = "MessageID: 64E6D1B6-2AB1-4A45-8C9E-0D7B2A7E7B0A RequestURI: https://MP01.FLEET.CORP/CCM_STS EndpointName: CCM_STS ResponseHeader: HTTP/1.1 200 OK ElapsedTime: 88 ms~~  $$<SMS_CLOUD_PROXYCONNECTOR><11-20-2026 06:00:00.123+000><thread=1 (0x1)>\n";
        let piece = Piece {
            text,
            format: LineFormat::Sms,
            first_line: 1,
            kind: LogKind::CloudProxyConnector,
            path: "SMS_CLOUD_PROXYCONNECTOR.log".into(),
            host: "CP01".into(),
        };
        let texts = Spill::in_memory();
        let with = piece_events(&piece, |m| texts.text_of(m)).events;
        let without =
            piece_events_with(&piece, &Strings::without_request_ids(true), |m| texts.text_of(m)).events;
        let ids = |events: &[Event]| -> Vec<Option<String>> {
            events
                .iter()
                .filter_map(|e| match &e.kind {
                    EventKind::ProxyRequest { message_id, .. } => {
                        Some(message_id.as_ref().map(|m| m.to_string()))
                    }
                    _ => None,
                })
                .collect()
        };
        assert_eq!(ids(&with), [Some("64e6d1b6-2ab1-4a45-8c9e-0d7b2a7e7b0a".to_string())]);
        assert_eq!(ids(&without), [None]);
    }

    /// A read holds one copy of each host name and identifier its events name, however many files and
    /// events name it.
    #[test]
    fn the_events_of_a_read_share_one_copy_of_each_string() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/demo");
        let logs = Reader::new().read(&[root]);
        let mut first: std::collections::HashMap<String, SharedStr> = std::collections::HashMap::new();
        let mut shared = 0;
        for e in &logs.events {
            let mut named = vec![e.evidence.host().clone()];
            match &e.kind {
                EventKind::CcmTokenRequested { sts_url } => named.push(sts_url.clone()),
                EventKind::AadInfoRequested { tenant: Some(t), .. } => named.push(t.clone()),
                _ => {}
            }
            for s in named {
                let one = first.entry(s.to_string()).or_insert_with(|| s.clone());
                assert!(SharedStr::ptr_eq(one, &s), "two copies of {s}");
                shared += 1;
            }
        }
        assert!(shared > first.len() * 2, "{shared} strings, {} distinct", first.len());
        // A file's row names the same path and host strings as its events.
        let rows: std::collections::HashMap<&str, &FileSummary> =
            logs.files.iter().map(|f| (f.path.as_str(), f)).collect();
        for e in &logs.events {
            let row = rows[e.evidence.path().as_str()];
            assert!(
                SharedStr::ptr_eq(&row.path, e.evidence.path())
                    && SharedStr::ptr_eq(&row.host, e.evidence.host())
            );
        }
    }

    /// Texts kept in memory read as those in a temporary file; either way the events of a piece share one
    /// origin, which names the read's one spill, and each event holds only its text's range in it.
    #[test]
    fn texts_in_memory_or_spilled_read_the_same_and_share_the_origin() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/demo");
        let spilled = Reader::new().read(std::slice::from_ref(&root));
        let memory = Reader::new().texts(TextStore::Memory).read(&[root]);
        assert_eq!(spilled.files, memory.files);
        assert_eq!(spilled.events, memory.events, "the same texts, compared as read back");
        assert!(spilled.events.iter().all(|e| !e.evidence.text().get().is_empty()));
        for logs in [&spilled, &memory] {
            let mut origins = 0;
            let events: Vec<&Event> = logs.events.iter().collect();
            for pair in events.windows(2) {
                let (a, b) = (&pair[0].evidence, &pair[1].evidence);
                if a.path() == b.path() {
                    assert!(Arc::ptr_eq(a.origin(), b.origin()), "{}:{} and {}", a.path(), a.line, b.line);
                } else {
                    origins += 1;
                }
            }
            assert!(origins > 5 && events.len() > origins * 5, "{origins} origins, {} events", events.len());
        }
    }
}
