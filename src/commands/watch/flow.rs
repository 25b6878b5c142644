//! The flow as `watch` knows it: the `inputs[]` row of every file followed, and the newest flow events read
//! from them (at most `MAX_EVENTS`; older ones leave, counted, and stay in the files), analysed again by the
//! engine and the rules after each batch of new lines. It remembers what it has shown, so that each analysis
//! gives only what is new: the files not shown yet, the devices whose phases changed, the findings not
//! shown (by rule, device and evidence lines) and the events not shown. Memory is bounded by `MAX_EVENTS`
//! and `MAX_FINDING_KEYS`, whatever the time watched.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::hash::{Hash, Hasher};

use chrono::{DateTime, Utc};
use cmtrace_analysis::model::{Device, Finding, Input, Report, Timeline, SCHEMA_VERSION};
use cmtrace_parsers::format::Records;
use cmtrace_parsers::Event;
use cmtrace_parsers::Record;
use cmtrace_parsers::{piece_events_with, LineFormat, LogKind, Piece, Spill, Strings};

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
    path: cmtrace_parsers::SharedStr,
    host: cmtrace_parsers::SharedStr,
    input: Input,
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
                row.input.format = format;
                row.input.encoding = encoding;
                row.input.bytes = bytes;
                let want_first = row.input.first_time.is_none();
                let read =
                    read_events(&text.text, format, text.first_line, kind, &row.path, &row.host, want_first);
                row.input.lines += read.entries;
                row.input.unparsed_lines += read.unparsed;
                row.input.first_time = row.input.first_time.or(read.first_time);
                row.input.last_time = read.last_time.or(row.input.last_time);
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
                row.path = path.as_str().into();
                row.input.path = path.into();
                // Shown again under its new name.
                self.shown_inputs.remove(&serial);
                for (_, e) in self.events.iter_mut().filter(|(s, _)| *s == serial) {
                    e.evidence.set_path(row.path.clone());
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

    /// An event leaves the model, and what was remembered of it as shown.
    fn forget(&mut self, serial: u32, e: &Event) {
        self.shown_events.remove(&(serial, e.evidence.line, e.kind.name()));
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
            devices_now.insert(d.key.to_string(), sig);
            if self.shown_devices.get(d.key.as_str()) != Some(&sig) {
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
                fresh.timeline.push(report.timeline.event(i).clone(), e.device, e.skew_correction_ms);
            }
        }
        self.report = Some(report);
        self.last_cost = started.elapsed();
        fresh
    }
}

fn new_row(path: String, host: String) -> FileRow {
    FileRow {
        path: path.as_str().into(),
        host: host.as_str().into(),
        input: Input::new(path, host, LogKind::Other, LineFormat::Unknown),
    }
}

/// What a device line shows that a watcher cares to see change: its path, and each phase's status and times.
fn device_signature(d: &Device) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    d.path.as_str().hash(&mut h);
    for p in d.phases.iter() {
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
    path: &cmtrace_parsers::SharedStr,
    host: &cmtrace_parsers::SharedStr,
    want_first: bool,
) -> Read {
    let piece = Piece { text, format, first_line, kind, path: path.clone(), host: host.clone() };
    // The piece's texts in one buffer, not one allocation each.
    let texts = Spill::in_memory();
    // Message ids left out: no line `watch` prints shows them, and the process's table of strings would hold
    // every request's for as long as it runs.
    let found =
        piece_events_with(&piece, &Strings::without_request_ids(true), |message| texts.text_of(message));
    Read {
        events: found.events,
        entries: found.entries,
        unparsed: found.unparsed,
        first_time: if want_first { entry_times(text, format, first_line).next() } else { None },
        last_time: cmtrace_parsers::last_entry_time(text, format),
    }
}

/// The times of the first entries of `text` (at most 64 looked at).
fn entry_times(text: &str, format: LineFormat, first_line: u32) -> impl Iterator<Item = DateTime<Utc>> + '_ {
    Records::new(text, format, first_line).take(64).filter_map(|r| match r {
        Record::Entry(e) => e.utc(),
        Record::Unparsed { .. } => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cmtrace_parsers::tail::TailText;
    use cmtrace_parsers::TextEncoding;

    fn record(pid: u32) -> String {
        format!(
            "<![LOG[==========[ ccmsetup started in process {pid} ]==========]LOG]!><time=\"10:00:00.000+0\" \
             date=\"11-20-2026\" component=\"ccmsetup\" context=\"\" type=\"1\" thread=\"1\" file=\"\">\r\n"
        )
    }

    fn text(serial: u32, first_line: u32, pids: std::ops::Range<u32>) -> Update {
        Update::Text {
            serial,
            kind: LogKind::Ccmsetup,
            format: LineFormat::Cmtrace,
            encoding: TextEncoding::Utf8,
            text: TailText { text: pids.map(record).collect(), first_line },
            bytes: 0,
        }
    }

    fn opened(serial: u32, path: &str) -> Update {
        Update::Opened { serial, path: path.into(), host: "PC1".into() }
    }

    #[test]
    fn what_was_shown_is_not_shown_again() {
        let mut m = FlowModel::default();
        m.apply(opened(1, "PC1/ccmsetup.log"));
        m.apply(text(1, 1, 0..3));
        let first = m.analyze(true);
        assert_eq!((first.inputs.len(), first.devices.len(), first.timeline.len()), (1, 1, 3));
        assert!(!m.changed());
        // Nothing new: nothing to show.
        m.touch();
        let again = m.analyze(true);
        assert_eq!(
            (again.inputs.len(), again.devices.len(), again.findings.len(), again.timeline.len()),
            (0, 0, 0, 0)
        );
        // One more event: that event; the device line only if its phases changed.
        m.apply(text(1, 4, 3..4));
        let more = m.analyze(true);
        assert_eq!(more.timeline.len(), 1);
        assert_eq!(more.timeline.get(0).line, 4);
        assert!(more.inputs.is_empty());
        // Renamed: the file is shown again under its new name, its events are not, and they now cite it.
        m.apply(Update::Renamed { serial: 1, path: "PC1/ccmsetup.lo_".into() });
        let renamed = m.analyze(true);
        assert_eq!(renamed.inputs.len(), 1);
        assert_eq!(renamed.inputs[0].path, "PC1/ccmsetup.lo_");
        assert!(renamed.timeline.is_empty());
        assert!(m.report.as_ref().unwrap().timeline.iter().all(|e| e.path == "PC1/ccmsetup.lo_"));
        // Truncated: the old content's events leave; the new content's are new.
        m.apply(Update::Truncated { old: 1, new: 2, path: "PC1/ccmsetup.lo_".into(), host: "PC1".into() });
        m.apply(text(2, 1, 10..11));
        let fresh = m.analyze(true);
        assert_eq!(fresh.timeline.len(), 1);
        assert_eq!(m.events_kept(), 1);
    }

    #[test]
    fn flow_incomplete_waits_for_quiet_logs() {
        let mut m = FlowModel::default();
        m.apply(opened(1, "PC1/ccmsetup.log"));
        m.apply(text(1, 1, 0..1));
        let busy = m.analyze(false);
        assert!(busy.findings.iter().all(|f| f.rule != "flow-incomplete"));
        assert!(m.held_back, "a started ccmsetup with nothing after it is a flow that stopped");
        m.touch();
        let quiet = m.analyze(true);
        assert!(quiet.findings.iter().any(|f| f.rule == "flow-incomplete"));
        assert!(!m.held_back);
    }

    /// Memory is bounded: past `MAX_EVENTS` the oldest events leave (counted), and what is remembered as
    /// shown leaves with them.
    #[test]
    fn the_newest_events_are_kept_and_the_rest_counted() {
        let mut m = FlowModel::default();
        m.apply(opened(1, "PC1/ccmsetup.log"));
        let n = MAX_EVENTS as u32 + 5_000;
        m.apply(text(1, 1, 0..n / 2));
        m.analyze(true);
        m.apply(text(1, n / 2 + 1, n / 2..n));
        assert_eq!(m.events_kept(), MAX_EVENTS);
        assert_eq!(m.dropped, 5_000);
        assert_eq!(m.entries, n as u64);
        let report = m.analyze(true);
        assert!(m.shown_events.len() <= MAX_EVENTS, "{}", m.shown_events.len());
        let kept = m.report.as_ref().unwrap();
        assert_eq!(kept.timeline.len(), MAX_EVENTS);
        // The oldest kept is the 5,001st read.
        assert!(kept.timeline.iter().all(|e| e.line > 5_000));
        assert!(report.timeline.len() >= MAX_EVENTS - n as usize / 2);
    }
}
