//! Reading the inputs for the engine: every file scanned in parallel, every entry counted and the
//! ones that can give an event (`Extractors::may_match` on the message as written) offered to the
//! extractor of its log kind, giving the contract's `Input` rows and the flow's typed events.

use cmtrace_analysis::model::Input;
use cmtrace_parsers::entry::Record;
use cmtrace_parsers::events::{Event, SharedStr};
use cmtrace_parsers::extract::{Extractors, Prefiltered};
use cmtrace_parsers::format::{Records, MAX_RECORD_BYTES};
use cmtrace_parsers::input::{discover, HostOverride, Limits, SourceFile};
use cmtrace_parsers::scan::{scan_ordered, ScanOptions, Scanned};
use cmtrace_parsers::spill::{Spill, Text};
use cmtrace_parsers::EventStore;
use cmtrace_parsers::LineFormat;
use cmtrace_parsers::LogKind;

use chrono::{DateTime, Utc};
use std::cell::Cell;
use std::path::PathBuf;
use std::sync::Arc;

/// Everything read from the inputs.
pub struct Collected {
    pub inputs: Vec<Input>,
    pub events: EventStore,
    /// Problems with whole paths (missing folder, broken zip), and files passed over (path, reason).
    pub problems: Vec<(String, String)>,
    pub skipped: Vec<(String, String)>,
    /// The problems and the zip entries passed over, as `inputs[]` rows with `error` set: every input
    /// problem is in the document, not only on stderr.
    pub problem_inputs: Vec<Input>,
    /// `--host NAME=PATH` overrides that name nothing (as given, why).
    pub unused_overrides: Vec<(String, String)>,
    pub bytes: u64,
}

impl Collected {
    /// A `--host` override whose path does not exist or holds no input is a mistake that would go
    /// unnoticed (every file keeps the host of its folder): the command stops with exit status 2.
    pub fn check_host_overrides(&self) -> Result<(), String> {
        check_host_overrides(&self.unused_overrides)
    }
}

/// The error for `--host` overrides that name nothing (`Discovery::unused_overrides`), if any.
pub fn check_host_overrides(unused: &[(String, String)]) -> Result<(), String> {
    if unused.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = unused.iter().map(|(o, why)| format!("--host {o}: {why}")).collect();
    Err(list.join("; "))
}

/// An `inputs[]` row for a path that was not read.
fn problem_input(path: &str, host: Option<&str>, error: &str) -> Input {
    let name = path.rsplit('/').next().unwrap_or(path);
    let (base, _) = cmtrace_parsers::input::rotation_of(name);
    Input {
        path: path.to_string(),
        host: host.unwrap_or_default().to_string(),
        log_kind: cmtrace_parsers::input::kind_from_base_name(&base).unwrap_or(LogKind::Other),
        format: "unknown",
        encoding: "utf-8",
        lines: 0,
        unparsed_lines: 0,
        error: Some(error.to_string()),
        bytes: 0,
        first_time: None,
        last_time: None,
        warning: None,
    }
}

/// Is `path` inside a zip archive (`bundle.zip/dir/x.txt`)?
fn inside_archive(path: &str) -> bool {
    let mut parts: Vec<&str> = path.split('/').collect();
    parts.pop();
    parts.iter().any(|p| p.to_ascii_lowercase().ends_with(".zip"))
}

struct ChunkResult {
    entries: u64,
    unparsed: u64,
    /// Records longer than `MAX_RECORD_BYTES`, whose lines were counted as unparsed.
    oversized: u64,
    /// The chunk's first and last entry times (UTC).
    first_time: Option<DateTime<Utc>>,
    last_time: Option<DateTime<Utc>>,
    events: Vec<Event>,
    /// The texts of the chunk's events, one after the other: written to the spill in input order, the
    /// events' `Text::Spilled` offsets are relative to this buffer until then.
    texts: Vec<u8>,
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
/// is longer than it): the cost does not grow with the file. `watch` reads each new piece of a log with it too.
pub(crate) fn last_entry_time(text: &str, format: LineFormat) -> Option<DateTime<Utc>> {
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

/// Read every input; `progress` is called with the bytes of each file as it is finished. Zip entries and
/// archives inflate at most to `limits`.
pub fn collect(
    paths: &[PathBuf],
    hosts: &[HostOverride],
    limits: Limits,
    progress: impl FnMut(u64),
) -> Collected {
    collect_entries(paths, hosts, limits, progress, true)
}

/// `collect`, reading every entry in full when `skip_quiet_entries` is false (the same result, slower:
/// the tests hold the two side by side).
fn collect_entries(
    paths: &[PathBuf],
    hosts: &[HostOverride],
    limits: Limits,
    mut progress: impl FnMut(u64),
    skip_quiet_entries: bool,
) -> Collected {
    let discovery = discover(paths, hosts, limits);
    // Compiled once per process: a program that reads many bundles (the fuzzer, a service) pays once.
    static EXTRACTORS: std::sync::OnceLock<Extractors> = std::sync::OnceLock::new();
    let extractors = EXTRACTORS.get_or_init(Extractors::new);
    let mut inputs: Vec<Input> = Vec::with_capacity(discovery.files.len());
    // Segments that never move what they hold: each chunk's events are appended as they come, in order.
    let mut events = EventStore::new();
    let mut bytes = 0u64;
    // Event texts go to a temporary file, not memory (where none can be made, they stay in memory).
    let spill = match Spill::new() {
        Ok(s) => Some(s),
        Err(e) => {
            crate::say!("cmtrace-rs: no temporary file for event texts ({e}): they are kept in memory");
            None
        }
    };
    // Records cut off by the size bound in the file being read.
    let mut oversized = 0u64;
    scan_ordered(
        &discovery.files,
        ScanOptions::default(),
        |src, file, chunk| {
            // Sized for a flow-heavy server log (an event per ~400 bytes) so that it rarely grows.
            let mut out = ChunkResult {
                entries: 0,
                unparsed: 0,
                oversized: 0,
                // Only a file's first chunk holds its first entry.
                first_time: if chunk.index == 0 { first_entry_time(chunk.text, file.format) } else { None },
                last_time: last_entry_time(chunk.text, file.format),
                events: Vec::new(),
                texts: Vec::new(),
            };
            // Server logs repeat the same messages verbatim (`ProcessRequest - Start`, `Return token to
            // client`): one text per distinct message of the chunk.
            let mut texts: rustc_hash::FxHashMap<&str, Text> = rustc_hash::FxHashMap::default();
            let mut kinds = Vec::new();
            // One allocation per chunk; every event of the chunk shares it.
            let (path, host): (SharedStr, SharedStr) = (src.path.as_str().into(), src.host.as_str().into());
            // Only entries that can give an event are read in full; the others are only counted. The
            // literal scan that decided is handed to the extractor with the entry.
            let last_scan: Cell<Option<Prefiltered>> = Cell::new(None);
            let may_match = |raw: &str| {
                let scan = extractors.prefilter(file.kind, raw);
                last_scan.set(Some(scan));
                scan.may_match
            };
            let mut records = Records::new(chunk.text, file.format, chunk.first_line);
            if skip_quiet_entries {
                records = records.keep_only(&may_match);
            }
            for rec in records.by_ref() {
                match rec {
                    Record::Entry(e) => {
                        out.entries += 1;
                        extractors.extract_prefiltered(file.kind, &e, last_scan.take().as_ref(), &mut kinds);
                        for kind in kinds.drain(..) {
                            let text = text_of(&mut texts, &e.message, &mut out.texts, spill.as_ref());
                            out.events.push(Event::from_entry(
                                kind,
                                file.kind,
                                &e,
                                path.clone(),
                                host.clone(),
                                text,
                            ));
                        }
                    }
                    Record::Unparsed { .. } => out.unparsed += 1,
                }
            }
            out.entries += records.skipped();
            out.oversized = records.oversized();
            out
        },
        |msg| match msg {
            Scanned::Start { source, file, .. } => {
                let mut input = new_input(
                    source,
                    file.as_ref().ok().map(|f| (f.kind, f.format.as_str(), f.encoding.as_str())),
                    file.err(),
                );
                input.warning = file.ok().and_then(|f| f.warning.clone());
                inputs.push(input);
                oversized = 0;
            }
            Scanned::Chunk { result, .. } => {
                let input = inputs.last_mut().expect("Start comes first");
                input.lines += result.entries;
                input.unparsed_lines += result.unparsed;
                oversized += result.oversized;
                input.first_time = input.first_time.or(result.first_time);
                input.last_time = result.last_time.or(input.last_time);
                let mut chunk_events = result.events;
                if !result.texts.is_empty() {
                    place_texts(spill.as_deref(), &result.texts, &mut chunk_events);
                }
                events.extend(chunk_events);
            }
            Scanned::End { source, warning, .. } => {
                let input = inputs.last_mut().expect("Start comes first");
                if let Some(late) = warning {
                    input.warning = Some(match input.warning.take() {
                        Some(w) => format!("{w}; {late}"),
                        None => late,
                    });
                }
                if input.error.is_none() && input.lines == 0 && source.size > 0 {
                    input.error = Some(format!(
                        "no ConfigMgr log entry in any of its formats (CMTrace, server, setup; {} unparsed lines): not a ConfigMgr log, or binary",
                        input.unparsed_lines
                    ));
                }
                if oversized > 0 {
                    let cut = format!(
                        "{oversized} record(s) longer than {} MiB (no end of record within that bound) were not \
                         read as entries: their lines are counted as unparsed",
                        MAX_RECORD_BYTES >> 20
                    );
                    input.warning = Some(match input.warning.take() {
                        Some(w) => format!("{w}; {cut}"),
                        None => cut,
                    });
                }
                bytes += source.size;
                progress(source.size);
            }
        },
    );
    let mut problem_inputs: Vec<Input> =
        discovery.problems.iter().map(|p| problem_input(&p.path, p.host.as_deref(), &p.error)).collect();
    // Files of a folder that are not logs are passed over as usual; entries of a zip the user handed
    // over are named, each with its reason.
    problem_inputs.extend(
        discovery
            .skipped
            .iter()
            .filter(|(path, _)| inside_archive(path))
            .map(|(path, why)| problem_input(path, None, &format!("passed over: {why}"))),
    );
    Collected {
        inputs,
        events,
        problems: discovery.problems.into_iter().map(|p| (p.path, p.error)).collect(),
        skipped: discovery.skipped,
        problem_inputs,
        unused_overrides: discovery.unused_overrides,
        bytes,
    }
}

/// An event's text: in the chunk's spill buffer (`buf`), once per distinct message of the chunk; in memory
/// when there is no spill.
// `&Cow`, not `&str`: a borrowed message outlives the call and keys the chunk's map.
#[allow(clippy::ptr_arg)]
fn text_of<'t>(
    seen: &mut rustc_hash::FxHashMap<&'t str, Text>,
    message: &std::borrow::Cow<'t, str>,
    buf: &mut Vec<u8>,
    spill: Option<&Arc<Spill>>,
) -> Text {
    if let Some(t) = seen.get(&**message) {
        return t.clone();
    }
    let t = match spill {
        Some(spill) => {
            let offset = buf.len() as u64;
            buf.extend_from_slice(message.as_bytes());
            Text::Spilled { spill: spill.clone(), offset, len: message.len() as u32 }
        }
        None => Text::Inline(Arc::from(&**message)),
    };
    if let std::borrow::Cow::Borrowed(m) = message {
        seen.insert(m, t.clone());
    }
    t
}

/// Write a chunk's texts to the spill and move its events' offsets there; if the spill cannot be written, the
/// texts stay in memory.
fn place_texts(spill: Option<&Spill>, texts: &[u8], events: &mut [Event]) {
    let written = spill.and_then(|s| s.append(texts).ok());
    for e in events {
        let Text::Spilled { offset, len, .. } = &mut e.evidence.text else { continue };
        match written {
            Some(base) => *offset += base,
            None => {
                let bytes = &texts[*offset as usize..*offset as usize + *len as usize];
                e.evidence.text = Text::Inline(Arc::from(String::from_utf8_lossy(bytes).as_ref()));
            }
        }
    }
}

fn new_input(
    src: &SourceFile,
    loaded: Option<(LogKind, &'static str, &'static str)>,
    error: Option<&str>,
) -> Input {
    let (kind, format, encoding) =
        loaded.unwrap_or((src.kind_by_name.unwrap_or(LogKind::Other), "unknown", "utf-8"));
    Input {
        path: src.path.clone(),
        host: src.host.clone(),
        log_kind: kind,
        format,
        encoding,
        lines: 0,
        unparsed_lines: 0,
        error: error.map(str::to_string),
        bytes: src.size,
        first_time: None,
        last_time: None,
        warning: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Skipping the entries no extractor can use gives the same inputs (entry and unparsed counts) and
    /// the same events as reading every entry, on every fixture: both line formats, every encoding,
    /// rotated sets, zips, truncated and binary files, and every multi-host bundle.
    #[test]
    fn skipping_quiet_entries_changes_nothing() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
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
        let lazy = collect_entries(&dirs, &[], Limits::default(), |_| {}, true);
        let full = collect_entries(&dirs, &[], Limits::default(), |_| {}, false);
        assert_eq!(
            serde_json::to_string(&lazy.inputs).unwrap(),
            serde_json::to_string(&full.inputs).unwrap()
        );
        assert_eq!(lazy.events, full.events);
        assert!(
            full.inputs.len() > 200 && full.events.len() > 1000,
            "{} {}",
            full.inputs.len(),
            full.events.len()
        );
        assert!(dirs.len() > 40);
    }
}
