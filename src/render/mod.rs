//! Every output of the binary, each written to the writer it is given (stdout, a buffer, a file): the
//! report for people and CI — the text report (`text`), Markdown for tickets (`markdown`), a
//! self-contained HTML page (`html`), JUnit XML (`junit`) — every JSON and NDJSON document (`json`),
//! `parse`'s NDJSON and CSV rows (`entries`), and the short outputs of `trace` (`trace`), `rules`
//! (`rules`) and `error` (`codes`). Renderers never query the terminal: the commands decide colour and
//! width and pass them in (`RenderOptions`, `Paint`); the HTML page reads the cited log lines again for
//! their context. Shared helpers (severity order, phase labels, summaries) live here.

pub mod codes;
pub mod entries;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod rules;
pub mod text;
pub mod trace;

pub use html::render_html;
pub use junit::render_junit;
pub use markdown::render_markdown;
pub use text::render_text;

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDateTime, Utc};
use cmtrace_analysis::model::{Device, Finding, Phase, PhaseId, PhaseStatus, Report};
use cmtrace_parsers::Severity;

use owo_colors::{OwoColorize, Style};

use crate::sanitize::visible_line;

/// SGR colour around a text, only when on (the text report and the short outputs of `trace`, `rules`,
/// `error`).
#[derive(Debug, Clone, Copy)]
pub struct Paint {
    pub on: bool,
}

impl Paint {
    pub fn apply(&self, s: &str, style: Style) -> String {
        if self.on {
            s.style(style).to_string()
        } else {
            s.to_string()
        }
    }

    pub fn bold(&self, s: &str) -> String {
        self.apply(s, Style::new().bold())
    }

    pub fn dim(&self, s: &str) -> String {
        self.apply(s, Style::new().dimmed())
    }

    /// A severity's colours, as in the text report: errors red, warnings yellow, infos cyan.
    pub fn severity(&self, s: &str, severity: Severity) -> String {
        match severity {
            Severity::Error => self.apply(s, Style::new().red().bold()),
            Severity::Warning => self.apply(s, Style::new().yellow().bold()),
            Severity::Info => self.apply(s, Style::new().cyan()),
        }
    }
}

/// `text`'s words in lines: the first at most `first` characters, the others at most `rest` (each at least
/// 20). A word longer than a line is cut into line-sized pieces.
pub fn wrap_lines(text: &str, first: usize, rest: usize) -> Vec<String> {
    let (first, rest) = (first.max(20), rest.max(20));
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    let mut len = 0;
    for word in text.split_whitespace() {
        let mut word: &[char] = &word.chars().collect::<Vec<char>>();
        while !word.is_empty() {
            let avail = if lines.is_empty() { first } else { rest };
            if len > 0 && len + 1 + word.len() > avail {
                lines.push(std::mem::take(&mut line));
                len = 0;
                continue;
            }
            if len == 0 && word.len() > avail {
                lines.push(word[..avail].iter().collect());
                word = &word[avail..];
                continue;
            }
            if len > 0 {
                line.push(' ');
                len += 1;
            }
            line.extend(word);
            len += word.len();
            word = &[];
        }
    }
    if len > 0 || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// How to render, decided by the CLI.
pub struct RenderOptions<'a> {
    /// Colour on (the CLI checks the terminal, `--color` and `NO_COLOR`).
    pub color: bool,
    /// Terminal width for tables; `None` → 100.
    pub width: Option<usize>,
    /// Also print the merged cross-host timeline.
    pub show_timeline: bool,
    /// Decoded error codes found in a message, one line each (e.g. `0x80072F8F ERROR_WINHTTP_SECURE_FAILURE: ...`).
    pub code_notes: &'a dyn Fn(&str) -> Vec<String>,
    /// Which devices get their flow table (`--devices`); `None`: all of them up to a screenful
    /// (`SCREENFUL_OF_DEVICES`), the failing ones past that.
    pub devices: Option<DeviceList>,
    /// Markdown: at most this many characters (0: no limit).
    pub max_chars: usize,
}

/// Which devices the text and Markdown reports list with their flow table (`--devices`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceList {
    All,
    /// Devices with an error or warning finding.
    Failing,
    None,
}

/// Past this many devices the text and Markdown reports open with a fleet summary (per rule: devices,
/// hosts, first and last time, examples) and, unless `--devices` says otherwise, list failing devices only.
pub const SCREENFUL_OF_DEVICES: usize = 20;

/// The devices a report lists, and what it only counts.
pub struct Listing<'a> {
    /// Devices listed with their flow table, in the report's order.
    pub listed: Vec<&'a Device>,
    /// Devices with collected client logs or a finding (what `listed` is chosen from).
    pub shown: usize,
    /// Of `shown`, those with an error or warning finding.
    pub failing: usize,
    /// Devices with client logs collected (the rest were seen in server logs only).
    pub collected: usize,
    /// Devices seen only in server logs, with no finding (counted, never listed).
    pub server_only: Vec<&'a Device>,
    /// More than a screenful of devices: the fleet summary opens the report.
    pub fleet: bool,
    /// Each device's worst finding severity over all the data.
    pub worst: std::collections::HashMap<&'a str, Severity>,
}

impl Listing<'_> {
    /// 0 for a device with an error, 1 warning, 2 info, 3 none: the order devices are shown in.
    pub fn rank(&self, d: &Device) -> u8 {
        self.worst.get(d.key.as_str()).map_or(3, |s| severity_rank(*s))
    }

    /// Devices of `shown` that are not listed.
    pub fn unlisted(&self) -> usize {
        self.shown - self.listed.len()
    }
}

/// Which devices to list for `choice` (see `RenderOptions::devices`).
pub fn listing(report: &Report, choice: Option<DeviceList>) -> Listing<'_> {
    let worst = report.worst_by_device();
    let (shown, server_only): (Vec<&Device>, Vec<&Device>) = report
        .devices
        .iter()
        .partition(|d| !d.client_hosts().is_empty() || worst.contains_key(d.key.as_str()));
    let rank = |d: &Device| worst.get(d.key.as_str()).map_or(3, |s| severity_rank(*s));
    let is_failing = |d: &Device| rank(d) <= 1;
    let failing = shown.iter().filter(|d| is_failing(d)).count();
    let fleet = shown.len() > SCREENFUL_OF_DEVICES;
    let choice = choice.unwrap_or(if fleet { DeviceList::Failing } else { DeviceList::All });
    let total = shown.len();
    let listed = match choice {
        DeviceList::All => shown,
        DeviceList::Failing => shown.into_iter().filter(|d| is_failing(d)).collect(),
        DeviceList::None => Vec::new(),
    };
    let collected = report.devices.iter().filter(|d| !d.client_hosts().is_empty()).count();
    Listing { listed, shown: total, failing, collected, server_only, fleet, worst }
}

/// The header's device count: devices whose client logs were collected apart from those seen only in
/// server logs.
pub fn device_count_line(report: &Report, listing: &Listing<'_>) -> String {
    let server_only = report.devices.len() - listing.collected;
    let mut line = format!("{} device(s) with client logs collected", listing.collected);
    if server_only > 0 {
        line.push_str(&format!(", {server_only} seen only in server logs"));
    }
    line
}

/// One rule across the fleet: how many devices, which hosts, first and last time, a few examples.
pub struct RuleSummary<'a> {
    pub rule: &'static str,
    pub severity: Severity,
    /// Its findings in the engine's order (the first is the example shown in full).
    pub findings: Vec<&'a Finding>,
    /// Distinct devices (in order of first finding); site findings have none.
    pub devices: Vec<&'a str>,
    pub hosts: Vec<&'a str>,
    pub first: Option<DateTime<Utc>>,
    pub last: Option<DateTime<Utc>>,
    /// The first few devices by the name a person knows them by (their client host, else their key).
    pub examples: Vec<String>,
}

/// How many example devices a rule's summary names.
const EXAMPLES: usize = 3;

/// The findings grouped by rule, worst rule first, then the rule on most devices.
pub fn rule_summaries(report: &Report) -> Vec<RuleSummary<'_>> {
    let mut by_rule: Vec<RuleSummary<'_>> = Vec::new();
    for f in &report.findings {
        let at = match by_rule.iter().position(|r| r.rule == f.rule) {
            Some(i) => i,
            None => {
                by_rule.push(RuleSummary {
                    rule: f.rule,
                    severity: f.severity,
                    findings: Vec::new(),
                    devices: Vec::new(),
                    hosts: Vec::new(),
                    first: None,
                    last: None,
                    examples: Vec::new(),
                });
                by_rule.len() - 1
            }
        };
        let r = &mut by_rule[at];
        if severity_rank(f.severity) < severity_rank(r.severity) {
            r.severity = f.severity;
        }
        r.findings.push(f);
        if let Some(d) = f.device.as_deref() {
            if !r.devices.contains(&d) {
                r.devices.push(d);
            }
        }
        // A finding's host may name several (`LAB-01, LAB-02`).
        let hosts = f
            .host
            .as_deref()
            .into_iter()
            .flat_map(|h| h.split(", "))
            .chain(f.evidence.iter().map(|e| &*e.host));
        for h in hosts {
            if !r.hosts.contains(&h) {
                r.hosts.push(h);
            }
        }
        for t in f.evidence.iter().filter_map(|e| e.time) {
            r.first = Some(r.first.map_or(t, |x| x.min(t)));
            r.last = Some(r.last.map_or(t, |x| x.max(t)));
        }
    }
    by_rule.sort_by_key(|r| (severity_rank(r.severity), std::cmp::Reverse(r.devices.len().max(1))));
    let named: std::collections::HashMap<&str, &str> = report
        .devices
        .iter()
        .filter_map(|d| d.client_hosts().first().map(|h| (d.key.as_str(), h.as_str())))
        .collect();
    for r in &mut by_rule {
        r.examples = r.devices.iter().take(EXAMPLES).map(|d| named.get(d).unwrap_or(d).to_string()).collect();
        if r.devices.len() > EXAMPLES {
            r.examples.push(format!("... and {} more", r.devices.len() - EXAMPLES));
        }
    }
    by_rule
}

impl RenderOptions<'_> {
    pub fn width(&self) -> usize {
        self.width.unwrap_or(100).clamp(60, 240)
    }
}

/// What a phase is, in words a support engineer uses (`PHASES`).
pub fn phase_label(id: PhaseId) -> &'static str {
    id.facts().label
}

pub fn severity_rank(s: Severity) -> u8 {
    match s {
        Severity::Error => 0,
        Severity::Warning => 1,
        Severity::Info => 2,
    }
}

/// Findings worst first; the engine's order (device, root causes before symptoms) within a severity.
pub fn sorted_findings(report: &Report) -> Vec<&Finding> {
    let mut v: Vec<&Finding> = report.findings.iter().collect();
    v.sort_by_key(|f| severity_rank(f.severity));
    v
}

pub fn count(report: &Report, s: Severity) -> usize {
    report.findings.iter().filter(|f| f.severity == s).count()
}

/// `2026-11-20 15:31:42.100Z`
pub fn utc(t: &Option<DateTime<Utc>>) -> String {
    match t {
        Some(t) => t.format("%Y-%m-%d %H:%M:%S%.3fZ").to_string(),
        None => "-".into(),
    }
}

/// `15:31:42Z` (date left out when the reader has it from the header).
pub fn utc_short(t: &Option<DateTime<Utc>>) -> String {
    match t {
        Some(t) => t.format("%m-%d %H:%M:%S").to_string(),
        None => "-".into(),
    }
}

/// A phase's duration in a compact human form.
pub fn duration(p: &Phase) -> String {
    match (p.start, p.end) {
        (Some(s), Some(e)) if e >= s => {
            let ms = (e - s).num_milliseconds();
            if ms < 1000 {
                format!("{ms} ms")
            } else if ms < 60_000 {
                format!("{:.1} s", ms as f64 / 1000.0)
            } else if ms < 3_600_000 {
                format!("{}m{:02}s", ms / 60_000, (ms % 60_000) / 1000)
            } else {
                format!("{}h{:02}m", ms / 3_600_000, (ms % 3_600_000) / 60_000)
            }
        }
        _ => String::new(),
    }
}

/// The local time as the log wrote it, when it differs from the UTC time shown beside it (a host not on
/// UTC, or a clock the timeline corrected): `07:31:40.300`, with the month and day when those differ too.
pub fn local_beside(utc: Option<DateTime<Utc>>, local: Option<NaiveDateTime>) -> Option<String> {
    let local = local?;
    match utc {
        Some(u) if u.naive_utc() == local => None,
        Some(u) if u.date_naive() == local.date() => Some(local.format("%H:%M:%S%.3f").to_string()),
        _ => Some(local.format("%m-%d %H:%M:%S%.3f").to_string()),
    }
}

/// The file name of an evidence path (the host is shown beside it).
pub fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// Cut `s` to `max` characters with an ellipsis; line breaks shown as ` ⏎ `, control characters as
/// visible escapes (counted in the width: they are what is shown).
pub fn clip(s: &str, max: usize) -> String {
    let flat = crate::sanitize::visible_line(s).into_owned();
    if flat.chars().count() <= max {
        return flat;
    }
    let mut out: String = flat.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// `items` joined with `sep` and clipped as `clip` does, joining only as many as the clipped line shows (a
/// fleet's server-only devices are hundreds of thousands: their whole list was megabytes, twice).
pub fn clip_join<'a>(items: impl IntoIterator<Item = &'a str>, sep: &str, max: usize) -> String {
    let mut joined = String::new();
    let mut chars = 0;
    for (i, item) in items.into_iter().enumerate() {
        if chars > max {
            // Made visible, the line only grows: `clip` cuts it before anything joined from here on.
            break;
        }
        if i > 0 {
            joined.push_str(sep);
            chars += sep.chars().count();
        }
        joined.push_str(item);
        chars += item.chars().count();
    }
    clip(&joined, max)
}

/// One line saying who the device is (control characters made visible).
pub fn device_title(d: &Device) -> String {
    let title = match d.client_hosts().first() {
        Some(h) if *h != d.key => format!("{} on {}", d.key, d.client_hosts().join(", ")),
        Some(_) => d.key.to_string(),
        None => format!("{} (no client logs collected)", d.key),
    };
    crate::sanitize::visible_line(&title).into_owned()
}

/// Hosts, log kinds and time span of the inputs.
pub struct InputSummary {
    pub files: usize,
    pub hosts: Vec<String>,
    pub kinds: Vec<String>,
    pub entries: u64,
    pub unparsed: u64,
    pub bytes: u64,
    pub first: Option<DateTime<Utc>>,
    pub last: Option<DateTime<Utc>>,
    pub unreadable: Vec<(String, String)>,
}

pub fn summarize_inputs(report: &Report) -> InputSummary {
    let hosts: BTreeSet<String> = report.inputs.iter().map(|i| i.host.to_string()).collect();
    let kinds: BTreeSet<String> = report.inputs.iter().map(|i| i.log_kind.as_str().to_string()).collect();
    let times = report.timeline.iter().filter_map(|e| e.time);
    InputSummary {
        files: report.inputs.iter().filter(|i| i.was_read()).count(),
        hosts: hosts.into_iter().collect(),
        kinds: kinds.into_iter().collect(),
        entries: report.inputs.iter().map(|i| i.lines).sum(),
        unparsed: report.inputs.iter().map(|i| i.unparsed_lines).sum(),
        bytes: report.inputs.iter().map(|i| i.bytes).sum(),
        first: times.clone().min(),
        last: times.max(),
        unreadable: report
            .inputs
            .iter()
            .filter_map(|i| i.error.as_ref().map(|e| (i.path.to_string(), e.clone())))
            .collect(),
    }
}

/// The verdict line, on the findings shown; when filters left errors or warnings out, it says so.
pub fn verdict(report: &Report) -> String {
    let base = if count(report, Severity::Error) > 0 {
        "FAILED: errors found"
    } else if count(report, Severity::Warning) > 0 {
        "WARNINGS: review the findings"
    } else if report.devices.is_empty() && report.filtered.is_none() {
        "NO FLOW: no device of the CMG / Entra ID flow found in these logs"
    } else if report.filtered.is_some() {
        "OK: no error or warning in what the filters show"
    } else {
        "OK: no error or warning"
    };
    match &report.filtered {
        Some(f) if f.findings_hidden[0] + f.findings_hidden[1] > 0 => format!(
            "{base} ({} error(s) and {} warning(s) left out by the filters)",
            f.findings_hidden[0], f.findings_hidden[1]
        ),
        _ => base.to_string(),
    }
}

/// What the filters left out, in one line; `None` when no filter was given.
pub fn filter_note(report: &Report) -> Option<String> {
    let f = report.filtered.as_ref()?;
    let [e, w, i] = f.findings_hidden;
    let mut note = format!(
        "Filtered by {}: left out {} device(s), {} error(s), {} warning(s), {} info finding(s) and {} timeline \
         event(s); device status is decided on all the data",
        f.filters.join(" "),
        f.devices_hidden,
        e,
        w,
        i,
        f.events_hidden
    );
    if f.causes_kept > 0 {
        note.push_str(&format!(
            "; {} finding(s) outside the filters kept because a finding shown is their consequence",
            f.causes_kept
        ));
    }
    Some(crate::sanitize::visible(&note).into_owned())
}

/// The inputs not read, at most `max` of them, then how many more.
pub fn unreadable_shown(s: &InputSummary, max: usize) -> (&[(String, String)], usize) {
    let n = s.unreadable.len().min(max);
    (&s.unreadable[..n], s.unreadable.len() - n)
}

/// How a device's path reads in a report.
pub fn path_label(p: cmtrace_analysis::model::DevicePath) -> &'static str {
    use cmtrace_analysis::model::DevicePath;
    match p {
        DevicePath::CmgEntra => "CMG with Entra ID",
        DevicePath::CmgPki => "CMG with a PKI certificate",
        DevicePath::Intranet => "intranet management point",
        DevicePath::Unknown => "not shown by its logs",
    }
}

pub fn status_word(s: PhaseStatus) -> &'static str {
    match s {
        PhaseStatus::Ok => "ok",
        PhaseStatus::Failed => "FAILED",
        PhaseStatus::Missing => "missing",
        PhaseStatus::NotCollected => "not collected",
        PhaseStatus::NotApplicable => "n/a",
    }
}

/// At most `max` names, then how many more: a fleet collection has thousands of hosts. Control
/// characters made visible.
pub fn name_list(names: &[impl AsRef<str>], max: usize) -> String {
    let join = |names: &[_]| names.iter().map(AsRef::as_ref).collect::<Vec<&str>>().join(", ");
    let list = if names.len() <= max {
        join(names)
    } else {
        format!("{}, ... and {} more", join(&names[..max]), names.len() - max)
    };
    crate::sanitize::visible_line(&list).into_owned()
}

/// Whether a finding of severity `s` fails the run at `threshold` (`--fail-on`; `None`: never).
pub fn fails(s: Severity, threshold: Option<Severity>) -> bool {
    threshold.is_some_and(|t| s >= t)
}

pub fn human_bytes(n: u64) -> String {
    if n >= 1 << 30 {
        format!("{:.1} GB", n as f64 / (1u64 << 30) as f64)
    } else if n >= 1 << 20 {
        format!("{:.1} MB", n as f64 / (1u64 << 20) as f64)
    } else if n >= 1 << 10 {
        format!("{:.1} KB", n as f64 / 1024.0)
    } else {
        format!("{n} B")
    }
}

/// What the listing leaves out, and how to get it.
pub fn unlisted_line(listing: &Listing<'_>) -> String {
    let unlisted_failing = listing.failing - listing.listed.iter().filter(|d| listing.rank(d) <= 1).count();
    let mut parts = Vec::new();
    if unlisted_failing > 0 {
        parts.push(format!("{unlisted_failing} failing"));
    }
    let unlisted_healthy = listing.unlisted() - unlisted_failing;
    if unlisted_healthy > 0 {
        parts.push(format!("{unlisted_healthy} without an error or warning"));
    }
    format!(
        "{} device(s) not listed ({}): `--devices all` lists every device, `--device KEY` shows one",
        listing.unlisted(),
        parts.join(", ")
    )
}

/// A finding in one line, under its rule's example: who, where, what.
pub fn also_line(f: &Finding) -> String {
    let who = f.device.as_deref().or(f.host.as_deref()).unwrap_or("site");
    let at = f
        .evidence
        .first()
        .map(|e| format!(" · {}:{} on {}", file_name(&e.path), e.line, e.host))
        .unwrap_or_default();
    visible_line(&format!("{who}{at} · {}", clip(&f.title, 160))).into_owned()
}

/// The root-cause rule a consequence finding names ("Caused by: x" / "Root cause: x").
pub fn consequence_of(explanation: &str) -> Option<&str> {
    ["Caused by: ", "Root cause: "].iter().find_map(|m| {
        let rest = &explanation[explanation.find(m)? + m.len()..];
        rest.split([' ', ',', '.', '(']).next().filter(|r| !r.is_empty())
    })
}

/// Up to the first ". " that ends a sentence (not "e.g. ").
pub fn first_sentence(text: &str) -> &str {
    let mut from = 0;
    while let Some(i) = text[from..].find(". ") {
        let end = from + i;
        let next_upper = text[end + 2..].chars().next().is_some_and(|c| c.is_uppercase());
        if next_upper && !text[..end].ends_with("e.g") && !text[..end].ends_with("i.e") {
            return &text[..=end];
        }
        from = end + 2;
    }
    text
}

#[cfg(test)]
mod tests {
    use super::{clip, clip_join, name_list};

    /// Joining only what the clip shows gives the line that joining everything and clipping gives: short
    /// lists whole, long ones cut at the same character, control characters made visible either way.
    #[test]
    fn clip_join_is_clip_of_the_whole_join() {
        let many: Vec<String> = (0..5000).map(|i| format!("GUID:{i:08X}-ÄÖ")).collect();
        let odd = ["a\r\nb", "\u{1b}[31mred", "c\nd", "plain"];
        for max in [1, 5, 17, 60, 300] {
            for items in
                [many.iter().map(String::as_str).collect::<Vec<_>>(), odd.to_vec(), vec![], vec!["one"]]
            {
                let whole = clip(&items.join(", "), max);
                assert_eq!(clip_join(items.iter().copied(), ", ", max), whole, "max {max}");
            }
        }
    }

    #[test]
    fn long_name_lists_are_cut() {
        let names: Vec<String> = (0..25).map(|i| format!("PC-{i:02}")).collect();
        assert_eq!(name_list(&names[..3], 20), "PC-00, PC-01, PC-02");
        let cut = name_list(&names, 20);
        assert!(cut.starts_with("PC-00, PC-01,") && cut.ends_with("PC-19, ... and 5 more"), "{cut}");
    }
}
