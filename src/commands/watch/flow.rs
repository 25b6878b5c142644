//! The flow as `watch` knows it: the `inputs[]` row of every file followed, and the newest flow events read
//! from them (at most `MAX_EVENTS`; older ones leave, counted, and stay in the files), analysed again by the
//! engine and the rules after each batch of new lines. It remembers what it has shown, so that each analysis
//! gives only what is new: the files not shown yet, the devices whose phases changed, the findings not
//! shown (by rule, device and evidence lines) and the events not shown. Memory is bounded by `MAX_EVENTS`
//! and `MAX_FINDING_KEYS`, whatever the time watched.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use cmtrace_analysis::model::{Device, Finding, Input, Report, Timeline, SCHEMA_VERSION};
use cmtrace_parsers::entry::Record;
use cmtrace_parsers::events::{Event, Evidence};
use cmtrace_parsers::extract::{Extractors, Prefiltered};
use cmtrace_parsers::format::Records;
use cmtrace_parsers::{LineFormat, LogKind, Text};

use super::follow::Update;

/// The most flow events kept for the analysis and the screen. Flow events are a small share of log lines
/// (a client writes a few hundred in an install; a busy management point some per second): this holds
/// hours of a busy server's flow, and one analysis of it takes tens of milliseconds.
pub const MAX_EVENTS: usize = 20_000;

/// Rules whose findings say that nothing more happened: while lines still come they are only the flow in
/// progress, so they are shown once the logs have been quiet for `--settle`.
pub const SETTLING_RULES: &[&str] = &["flow-incomplete"];

/// The most findings remembered as shown (the oldest are forgotten first).
pub const MAX_FINDING_KEYS: usize = 10_000;

/// One file followed (a serial of `follow`).
struct FileRow {
    path: Arc<str>,
    host: Arc<str>,
    input: Input,
    /// Its events among those kept.
    events: usize,
}

/// A finding as shown: rule, device, host and its evidence lines (file serial, line).
type FindingKey = (&'static str, Option<String>, Option<String>, Vec<(u32, u32)>);

/// The events, inputs and analyses of a watch.
pub struct FlowModel {
    files: BTreeMap<u32, FileRow>,
    /// Kept events in the order read, with the serial of their file.
    events: VecDeque<(u32, Event)>,
    /// Events that left the model (older than the newest `MAX_EVENTS`).
    pub dropped: u64,
    /// Log entries read, in all.
    pub entries: u64,
    shown_inputs: HashSet<u32>,
    shown_events: HashSet<(u32, u32, &'static str)>,
    shown_findings: HashSet<FindingKey>,
    shown_findings_order: VecDeque<FindingKey>,
    /// Per device key: a hash of what a device line shows of it (path, phases' status and times).
    shown_devices: HashMap<String, u64>,
    changed: bool,
    /// The last analysis held back a finding that needs the logs to be quiet first (`SETTLING_RULES`).
    pub held_back: bool,
    /// The last analysis, on every event kept.
    pub report: Option<Report>,
    /// How long the last analysis took.
    pub last_cost: std::time::Duration,
}

fn extractors() -> &'static Extractors {
    static EXTRACTORS: std::sync::OnceLock<Extractors> = std::sync::OnceLock::new();
    EXTRACTORS.get_or_init(Extractors::new)
}

impl Default for FlowModel {
    fn default() -> Self {
        FlowModel {
            files: BTreeMap::new(),
            events: VecDeque::new(),
            dropped: 0,
            entries: 0,
            shown_inputs: HashSet::new(),
            shown_events: HashSet::new(),
            shown_findings: HashSet::new(),
            shown_findings_order: VecDeque::new(),
            shown_devices: HashMap::new(),
            changed: false,
            held_back: false,
            report: None,
            last_cost: std::time::Duration::ZERO,
        }
    }
}

impl FlowModel {
    /// Has anything been read since the last analysis?
    pub fn changed(&self) -> bool {
        self.changed
    }

    /// Analyse again at the next chance (a held-back finding may be due).
    pub fn touch(&mut self) {
        self.changed = true;
    }

    /// Flow events kept.
    pub fn events_kept(&self) -> usize {
        self.events.len()
    }

    /// Takes in what the follower saw.
    pub fn apply(&mut self, update: Update) {
        self.changed = true;
        match update {
            Update::Opened { serial, path, host } => {
                self.files.insert(serial, new_row(path, host));
            }
            Update::Text { serial, kind, format, encoding, text, bytes } => {
                let Some(row) = self.files.get_mut(&serial) else { return };
                row.input.log_kind = kind;
                row.input.format = format.as_str();
                row.input.encoding = encoding.as_str();
                row.input.bytes = bytes;
                let want_first = row.input.first_time.is_none();
                let read =
                    read_events(&text.text, format, text.first_line, kind, &row.path, &row.host, want_first);
                row.input.lines += read.entries;
                row.input.unparsed_lines += read.unparsed;
                row.input.first_time = row.input.first_time.or(read.first_time);
                row.input.last_time = read.last_time.or(row.input.last_time);
                row.events += read.events.len();
                self.entries += read.entries;
                self.events.extend(read.events.into_iter().map(|e| (serial, e)));
                while self.events.len() > MAX_EVENTS {
                    if let Some((s, e)) = self.events.pop_front() {
                        self.forget(s, &e);
                        self.dropped += 1;
                    }
                }
            }
            Update::Renamed { serial, path } => {
                let Some(row) = self.files.get_mut(&serial) else { return };
                row.path = Arc::from(path.as_str());
                row.input.path = path;
                // Shown again under its new name.
                self.shown_inputs.remove(&serial);
                for (_, e) in self.events.iter_mut().filter(|(s, _)| *s == serial) {
                    e.evidence.path = row.path.clone();
                }
            }
            Update::Truncated { old, new, path, host } => {
                self.remove_file(old);
                self.files.insert(new, new_row(path, host));
            }
            Update::Gone { serial } => self.remove_file(serial),
        }
    }

    /// A file's row and events leave the model (its text is over: truncated, or the file is gone).
    fn remove_file(&mut self, serial: u32) {
        if self.files.remove(&serial).is_none() {
            return;
        }
        self.shown_inputs.remove(&serial);
        let (gone, kept): (VecDeque<_>, VecDeque<_>) =
            std::mem::take(&mut self.events).into_iter().partition(|(s, _)| *s == serial);
        self.events = kept;
        for (s, e) in gone {
            self.shown_events.remove(&(s, e.evidence.line, e.kind.name()));
        }
    }

    /// An event leaves the model.
    fn forget(&mut self, serial: u32, e: &Event) {
        self.shown_events.remove(&(serial, e.evidence.line, e.kind.name()));
        if let Some(row) = self.files.get_mut(&serial) {
            row.events = row.events.saturating_sub(1);
        }
    }

    /// Runs the engine and the rules on every event kept; returns what was not shown yet, as a report
    /// (inputs, devices, findings, timeline events, in the document's order) to write or draw. The findings
    /// of `SETTLING_RULES` are held back unless the logs are `quiet` (not written for a while): mid-flow,
    /// every flow looks stopped.
    pub fn analyze(&mut self, quiet: bool) -> Report {
        let started = std::time::Instant::now();
        self.changed = false;
        let mut inputs: Vec<Input> = self.files.values().map(|r| r.input.clone()).collect();
        inputs.sort_by(|a, b| a.path.cmp(&b.path));
        let events: Vec<Event> = self.events.iter().map(|(_, e)| e.clone()).collect();
        let analysis = cmtrace_analysis::engine::analyze(inputs, events);
        let findings = cmtrace_analysis::rules::evaluate(&analysis);
        let mut report = analysis.into_report(findings);
        let before = report.findings.len();
        report.findings.retain(|f| quiet || !SETTLING_RULES.contains(&f.rule));
        self.held_back = report.findings.len() < before;
        let serial_of: HashMap<&str, u32> = self.files.iter().map(|(s, r)| (&*r.path, *s)).collect();

        let mut fresh = Report {
            schema_version: SCHEMA_VERSION,
            inputs: Vec::new(),
            devices: Vec::new(),
            findings: Vec::new(),
            timeline: Timeline::default(),
            filtered: None,
        };
        for (serial, row) in &self.files {
            if self.shown_inputs.insert(*serial) {
                fresh.inputs.push(row.input.clone());
            }
        }
        fresh.inputs.sort_by(|a, b| a.path.cmp(&b.path));
        let mut devices_now = HashMap::new();
        for d in &report.devices {
            let sig = device_signature(d);
            devices_now.insert(d.key.clone(), sig);
            if self.shown_devices.get(&d.key) != Some(&sig) {
                fresh.devices.push(d.clone());
            }
        }
        self.shown_devices = devices_now;
        for f in &report.findings {
            let key = finding_key(f, &serial_of);
            if self.shown_findings.insert(key.clone()) {
                self.shown_findings_order.push_back(key);
                fresh.findings.push(f.clone());
            }
        }
        while self.shown_findings_order.len() > MAX_FINDING_KEYS {
            if let Some(old) = self.shown_findings_order.pop_front() {
                self.shown_findings.remove(&old);
            }
        }
        for (i, e) in report.timeline.iter().enumerate() {
            let Some(&serial) = serial_of.get(e.path) else { continue };
            if self.shown_events.insert((serial, e.line, e.event)) {
                fresh.timeline.push(report.timeline.event(i).clone(), e.time, e.device, e.skew_correction_ms);
            }
        }
        self.report = Some(report);
        self.last_cost = started.elapsed();
        fresh
    }
}

fn new_row(path: String, host: String) -> FileRow {
    FileRow {
        path: Arc::from(path.as_str()),
        host: Arc::from(host.as_str()),
        input: Input {
            path,
            host,
            log_kind: LogKind::Other,
            format: LineFormat::Unknown.as_str(),
            encoding: "utf-8",
            lines: 0,
            unparsed_lines: 0,
            error: None,
            bytes: 0,
            first_time: None,
            last_time: None,
            warning: None,
        },
        events: 0,
    }
}

/// What a device line shows that a watcher cares to see change: its path, and each phase's status and times.
fn device_signature(d: &Device) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    d.path.as_str().hash(&mut h);
    for p in &d.phases {
        (p.id.as_str(), p.status.as_str(), p.start, p.end).hash(&mut h);
    }
    h.finish()
}

fn finding_key(f: &Finding, serial_of: &HashMap<&str, u32>) -> FindingKey {
    let lines = f.evidence.iter().map(|e| (serial_of.get(&*e.path).copied().unwrap_or(0), e.line)).collect();
    (f.rule, f.device.clone(), f.host.clone(), lines)
}

/// The events and counts of one piece of a file.
struct Read {
    events: Vec<Event>,
    entries: u64,
    unparsed: u64,
    first_time: Option<DateTime<Utc>>,
    last_time: Option<DateTime<Utc>>,
}

/// The flow events of `text` (whole records of a file of kind `kind`, from line `first_line`), read as
/// `analyze` reads them: only the entries an extractor may want are parsed in full. `want_first`: the
/// file's first entry time is not known yet.
fn read_events(
    text: &str,
    format: LineFormat,
    first_line: u32,
    kind: LogKind,
    path: &Arc<str>,
    host: &Arc<str>,
    want_first: bool,
) -> Read {
    let extractors = extractors();
    let last_scan: std::cell::Cell<Option<Prefiltered>> = std::cell::Cell::new(None);
    let may_match = |raw: &str| {
        let scan = extractors.prefilter(kind, raw);
        last_scan.set(Some(scan));
        scan.may_match
    };
    let mut read = Read {
        events: Vec::new(),
        entries: 0,
        unparsed: 0,
        first_time: if want_first { entry_times(text, format, first_line).next() } else { None },
        last_time: last_entry_time(text, format),
    };
    let mut kinds = Vec::new();
    let mut records = Records::new(text, format, first_line).keep_only(&may_match);
    for rec in records.by_ref() {
        match rec {
            Record::Entry(e) => {
                read.entries += 1;
                extractors.extract_prefiltered(kind, &e, last_scan.take().as_ref(), &mut kinds);
                for event_kind in kinds.drain(..) {
                    read.events.push(Event {
                        kind: event_kind,
                        log_kind: kind,
                        severity: e.severity,
                        thread: e.thread,
                        local_time: e.local_time,
                        bias_minutes: e.bias_minutes,
                        evidence: Evidence {
                            path: path.clone(),
                            line: e.line,
                            host: host.clone(),
                            time: e.utc(),
                            text: Text::Inline(Arc::from(&*e.message)),
                        },
                    });
                }
            }
            Record::Unparsed { .. } => read.unparsed += 1,
        }
    }
    read.entries += records.skipped();
    read
}

/// The times of the first entries of `text` (at most 64 looked at).
fn entry_times(text: &str, format: LineFormat, first_line: u32) -> impl Iterator<Item = DateTime<Utc>> + '_ {
    Records::new(text, format, first_line).take(64).filter_map(|r| match r {
        Record::Entry(e) => e.utc(),
        Record::Unparsed { .. } => None,
    })
}

/// The time of the last timed entry of `text`, read from its end (a window from a line start, widened
/// until an entry with a time is in it).
fn last_entry_time(text: &str, format: LineFormat) -> Option<DateTime<Utc>> {
    let mut window = 4 << 10;
    loop {
        let mut from = text.len().saturating_sub(window);
        while !text.is_char_boundary(from) {
            from += 1;
        }
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
        window *= 8;
    }
}
