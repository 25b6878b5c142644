//! The HTML report (`--format html`): one self-contained page (inline CSS, script and SVG; no network, no
//! external font) with the fleet overview (verdict, counts, findings by rule, filters by rule, host and
//! status, a search over every id), then each listed device in full (`device`: its swimlane across hosts
//! drawn by `swimlane`, its phases, its findings with the cited lines in context, `findings` and `context`,
//! and its flow events). Every log-derived string is HTML-escaped with its control characters made visible;
//! a Content-Security-Policy with a per-page nonce lets only the page's own script and style run. A fleet
//! lists failing devices in full and the others as one row each (`--devices`), and device details stop once
//! the page holds `PAGE_BUDGET` bytes, with a line that says what was left out and how to get it.

mod context;
mod device;
mod findings;
mod swimlane;

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::io::{self, Write};

use chrono::{DateTime, Utc};
use cmtrace_analysis::model::{Device, EvidenceOut, Finding, PhaseStatus, Report};
use cmtrace_parsers::input::Limits;
use cmtrace_parsers::{Event, EventKind, HostRole, Severity};

use self::context::{read_contexts, Cited, Contexts};
use self::device::legend;
use self::findings::Shown;
use self::swimlane::role_label;
use super::*;
use crate::sanitize::visible;

const CSS: &str = include_str!("html/report.css");
const JS: &str = include_str!("html/report.js");

/// Device details (swimlane, phases, findings, events) are added, worst device first, until the page holds
/// this many bytes; the devices past it keep their row. A page this size opens in a second or two.
pub const PAGE_BUDGET: usize = 5_000_000;

/// The flow events shown per device (its warnings and errors first); `trace` lists them all.
const MAX_DEVICE_EVENTS: usize = 400;

/// Rows of the merged timeline (`--timeline`); `--format json` has them all.
const MAX_TIMELINE_ROWS: usize = 5_000;

/// Message ids per device that the search box finds it by.
const MAX_MESSAGE_IDS: usize = 8;

/// Characters of a log message shown in a table cell (the evidence shows whole lines).
const CELL_CHARS: usize = 300;

/// Writes the HTML report. Cited lines are read again from the inputs for their context (zip entries
/// within `limits`).
pub fn render_html(
    report: &Report,
    opts: &RenderOptions<'_>,
    limits: Limits,
    out: &mut dyn Write,
) -> io::Result<()> {
    let page = Page::new(report, opts, limits);
    out.write_all(page.render().as_bytes())
}

/// Text for HTML element content: control characters made visible (as the other human formats show them),
/// then `&`, `<` and `>` escaped. Nothing from a log can open a tag or end the page's script.
pub(crate) fn esc(s: &str) -> Cow<'_, str> {
    escape(s, false)
}

/// Text for a quoted attribute value: as [`esc`], and `"` and `'` escaped too.
pub(crate) fn attr(s: &str) -> Cow<'_, str> {
    escape(s, true)
}

fn escape(s: &str, quotes: bool) -> Cow<'_, str> {
    let v = visible(s);
    let special = |c: char| matches!(c, '&' | '<' | '>') || (quotes && matches!(c, '"' | '\''));
    if !v.contains(special) {
        return v;
    }
    let mut out = String::with_capacity(v.len() + 16);
    for c in v.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if quotes => out.push_str("&quot;"),
            '\'' if quotes => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// The CSS class of a phase status (bars, badges, glyphs).
pub(crate) fn phase_class(s: PhaseStatus) -> &'static str {
    match s {
        PhaseStatus::Ok => "ph-ok",
        PhaseStatus::Failed => "ph-failed",
        PhaseStatus::Missing => "ph-missing",
        PhaseStatus::NotCollected => "ph-nc",
        PhaseStatus::NotApplicable => "ph-na",
    }
}

/// One letter per phase status, for the status filter (`data-ph`).
fn phase_letter(s: PhaseStatus) -> char {
    match s {
        PhaseStatus::Ok => 'o',
        PhaseStatus::Failed => 'f',
        PhaseStatus::Missing => 'm',
        PhaseStatus::NotCollected => 'c',
        PhaseStatus::NotApplicable => 'n',
    }
}

/// A glyph per phase status: the strip of a device row reads without colour.
fn phase_glyph(s: PhaseStatus) -> &'static str {
    match s {
        PhaseStatus::Ok => "✓",
        PhaseStatus::Failed => "✗",
        PhaseStatus::Missing => "!",
        PhaseStatus::NotCollected => "?",
        PhaseStatus::NotApplicable => "–",
    }
}

pub(crate) fn severity_class(s: Severity) -> &'static str {
    match s {
        Severity::Error => "e",
        Severity::Warning => "w",
        Severity::Info => "i",
    }
}

/// A device's status from its worst finding: CSS class and word.
fn device_status(worst: Option<Severity>) -> (&'static str, &'static str) {
    match worst {
        Some(Severity::Error) => ("e", "error"),
        Some(Severity::Warning) => ("w", "warning"),
        Some(Severity::Info) => ("i", "info"),
        None => ("ok", "ok"),
    }
}

/// A per-page nonce for the Content-Security-Policy: 128 bits from the standard library's randomly keyed
/// hasher (no log author can know it when the log is written).
fn nonce() -> String {
    use std::hash::{BuildHasher, Hasher};
    let a = std::collections::hash_map::RandomState::new().build_hasher().finish();
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(a);
    format!("{a:016x}{:016x}", h.finish())
}

/// The time as the log wrote it, with its UTC offset: `2026-11-20 07:31:40.300 (UTC-08:00)`; the date is
/// left out when it is the date of `utc`.
fn local_written(e: &Event, utc: Option<DateTime<Utc>>) -> String {
    let Some(local) = e.local_time else {
        return "-".into();
    };
    let same_day = utc.is_some_and(|u| u.date_naive() == local.date());
    let time = local.format(if same_day { "%H:%M:%S%.3f" } else { "%Y-%m-%d %H:%M:%S%.3f" }).to_string();
    match e.bias_minutes() {
        // UTC = local + bias: the offset is minus the bias.
        Some(bias) => {
            let off = -bias;
            let sign = if off < 0 { '-' } else { '+' };
            format!("{time} (UTC{sign}{:02}:{:02})", off.abs() / 60, off.abs() % 60)
        }
        None => time,
    }
}

/// `+2m03s` for a correction in milliseconds.
fn signed_span(ms: i64) -> String {
    let sign = if ms < 0 { '-' } else { '+' };
    let abs = ms.abs();
    if abs < 60_000 {
        format!("{sign}{:.1}s", abs as f64 / 1000.0)
    } else {
        format!("{sign}{}", swimlane::span_words(abs))
    }
}

/// Every id a device is searched by besides its hosts (`data-hosts`): its key, identifiers and the message
/// ids of its events, lower case, braces off.
fn search_ids(d: &Device, message_ids: &[String]) -> String {
    let ids = std::iter::once(&d.key)
        .chain(d.client_ids())
        .chain(d.aad_device_ids())
        .chain(d.aad_tenant_ids())
        .chain(d.aad_user_ids())
        .chain(d.sids())
        .map(|s| s.as_str())
        .chain(message_ids.iter().map(String::as_str));
    let mut seen = HashSet::new();
    ids.map(|s| s.to_lowercase().replace(['{', '}'], ""))
        .filter(|s| seen.insert(s.clone()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The message ids an event names.
fn message_ids_of(e: &Event) -> Vec<&str> {
    match &e.kind {
        EventKind::MessageSent { message_id, .. } => vec![message_id.as_str()],
        EventKind::MessageReplied { message_id, reply_id } => {
            std::iter::once(message_id.as_str()).chain(reply_id.as_deref()).collect()
        }
        EventKind::ProxyRequest { message_id: Some(m), .. } => vec![m.as_str()],
        _ => Vec::new(),
    }
}

/// What the page is made of, worked out once.
struct Page<'a> {
    report: &'a Report,
    opts: &'a RenderOptions<'a>,
    listing: Listing<'a>,
    /// Devices with a row, worst first (the report's order within a severity).
    rows: Vec<&'a Device>,
    /// Each host's role in the flow (the first of client, CMG, connection point, management point that its
    /// logs show).
    roles: HashMap<&'a str, HostRole>,
    findings: HashMap<&'a str, Vec<&'a Finding>>,
    index: TimelineIndex<'a>,
    contexts: Contexts,
}

/// What the page needs from the timeline, found in one pass over it.
#[derive(Default)]
struct TimelineIndex<'a> {
    /// Per listed device: its timeline entries.
    events: HashMap<&'a str, Vec<usize>>,
    /// Per device: the first message ids its events name (`MAX_MESSAGE_IDS`).
    message_ids: HashMap<&'a str, Vec<String>>,
    /// The timeline entry of each cited line, by (path, line).
    cited_events: HashMap<(&'a str, u32), usize>,
}

impl<'a> TimelineIndex<'a> {
    fn new(report: &'a Report, listed: &HashSet<&str>, cited: &HashSet<(&str, u32)>) -> Self {
        let mut index = TimelineIndex::default();
        for i in 0..report.timeline.len() {
            let t = report.timeline.get(i);
            if cited.contains(&(t.path, t.line)) {
                index.cited_events.entry((t.path, t.line)).or_insert(i);
            }
            let Some(d) = t.device else { continue };
            if listed.contains(d) {
                index.events.entry(d).or_default().push(i);
            }
            let ids = index.message_ids.entry(d).or_default();
            for m in message_ids_of(report.timeline.event(i)) {
                if ids.len() < MAX_MESSAGE_IDS && !ids.iter().any(|x| x == m) {
                    ids.push(m.to_string());
                }
            }
        }
        index
    }
}

/// Each host's role: the first of client, CMG, connection point, management point that its logs show.
fn host_roles(report: &Report) -> HashMap<&str, HostRole> {
    let mut roles: HashMap<&str, HostRole> = HashMap::new();
    for i in &report.inputs {
        let role = i.log_kind.role();
        let r = roles.entry(i.host.as_str()).or_insert(role);
        *r = (*r).min(role);
    }
    roles
}

/// Each device's findings, worst first.
fn findings_by_device(report: &Report) -> HashMap<&str, Vec<&Finding>> {
    let mut findings: HashMap<&str, Vec<&Finding>> = HashMap::new();
    for f in sorted_findings(report) {
        if let Some(d) = f.device.as_deref() {
            findings.entry(d).or_default().push(f);
        }
    }
    findings
}

impl<'a> Page<'a> {
    fn new(report: &'a Report, opts: &'a RenderOptions<'a>, limits: Limits) -> Page<'a> {
        let listing = listing(report, opts.devices);
        let mut rows: Vec<&Device> = report
            .devices
            .iter()
            .filter(|d| !d.client_hosts().is_empty() || listing.worst.contains_key(d.key.as_str()))
            .collect();
        rows.sort_by_key(|d| listing.rank(d));
        let listed: HashSet<&str> = listing.listed.iter().map(|d| d.key.as_str()).collect();
        // The findings shown in full: those of listed devices and of the site.
        let shown: Vec<&EvidenceOut> = report
            .findings
            .iter()
            .filter(|f| f.device.as_deref().is_none_or(|d| listed.contains(d)))
            .flat_map(|f| &f.evidence)
            .collect();
        let cited: HashSet<(&str, u32)> = shown.iter().map(|e| (&*e.path, e.line)).collect();
        let index = TimelineIndex::new(report, &listed, &cited);
        let messages: Vec<(&EvidenceOut, Cow<'_, str>)> = shown.iter().map(|e| (*e, e.text.get())).collect();
        let contexts = read_contexts(
            messages.iter().map(|(e, text)| Cited { path: &e.path, line: e.line, message: text }),
            limits,
        );
        let roles = host_roles(report);
        let findings = findings_by_device(report);
        Page { report, opts, listing, rows, roles, findings, index, contexts }
    }

    fn role(&self, host: &str) -> HostRole {
        self.roles.get(host).copied().unwrap_or(HostRole::Unknown)
    }

    /// The page: overview, device rows, then the listed devices in full (worst first) while the page stays
    /// within `PAGE_BUDGET`, site findings, the timeline on request.
    fn render(&self) -> String {
        self.render_within(PAGE_BUDGET)
    }

    /// The page, device details stopping once it holds `page_budget` bytes.
    fn render_within(&self, page_budget: usize) -> String {
        let nonce = nonce();
        let mut top = String::with_capacity(64 * 1024);
        self.head(&nonce, &mut top);
        self.header(&mut top);
        self.rule_table(&mut top);
        let mut bottom = String::new();
        self.site_findings(&mut bottom);
        if self.opts.show_timeline {
            self.merged_timeline(&mut bottom);
        }
        self.footer(&nonce, &mut bottom);
        let mut listed = self.listing.listed.clone();
        listed.sort_by_key(|d| self.listing.rank(d));
        // What the page holds besides the details, with every listed device linked from its row.
        let all_listed: HashSet<&str> = listed.iter().map(|d| d.key.as_str()).collect();
        let mut table = String::new();
        self.device_table(&all_listed, 0, &mut table);
        let budget = page_budget.saturating_sub(top.len() + table.len() + bottom.len());
        let (details, detailed) = self.details_within(&listed, budget);
        let over_budget = listed.len() - detailed.len();
        if over_budget > 0 {
            table.clear();
            self.device_table(&detailed, over_budget, &mut table);
        }
        let mut page = top;
        page.reserve(table.len() + details.len() + bottom.len() + 4096);
        page.push_str(&table);
        if !detailed.is_empty() {
            let _ = write!(page, "<section id=\"details\"><h2>Devices in detail ({})</h2>", detailed.len());
            legend(&mut page);
            page.push_str(&details);
            page.push_str("</section>");
        }
        page.push_str(&bottom);
        page
    }

    /// The devices of `listed` in full, in order, until they take `budget` bytes (the one that crosses it is
    /// kept); and which devices they are.
    fn details_within(&self, listed: &[&'a Device], budget: usize) -> (String, HashSet<&'a str>) {
        let row_of: HashMap<&str, usize> =
            self.rows.iter().enumerate().map(|(n, d)| (d.key.as_str(), n)).collect();
        let mut details = String::new();
        let mut detailed = HashSet::new();
        for d in listed {
            if details.len() >= budget {
                break;
            }
            details.push_str(&self.device_detail(d, row_of.get(d.key.as_str()).copied().unwrap_or(0)));
            detailed.insert(d.key.as_str());
        }
        (details, detailed)
    }

    /// The footer and the page's script.
    fn footer(&self, nonce: &str, out: &mut String) {
        let _ = writeln!(
            out,
            "<footer>Made by cmtrace-rs {} from {} file(s). This page is self-contained: it loads nothing \
             from the network. Every log line in it is text, shown as written (control characters as \
             escapes).</footer><script nonce=\"{nonce}\">{JS}</script></body></html>",
            env!("CARGO_PKG_VERSION"),
            summarize_inputs(self.report).files
        );
    }

    fn head(&self, nonce: &str, out: &mut String) {
        let title = match self.rows.len() {
            1 => format!("cmtrace-rs: {}", self.rows[0].key),
            n => format!("cmtrace-rs: {n} devices"),
        };
        let _ = write!(
            out,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src \
             'nonce-{nonce}'; style-src 'nonce-{nonce}'; img-src data:; base-uri 'none'; form-action 'none'\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <meta name=\"generator\" content=\"cmtrace-rs {}\"><title>{}</title>\
             <style nonce=\"{nonce}\">{CSS}</style></head><body data-ready=\"0\" data-errors=\"\">",
            env!("CARGO_PKG_VERSION"),
            esc(&title)
        );
    }

    /// Verdict, counts and what was read.
    fn header(&self, out: &mut String) {
        let r = self.report;
        let s = summarize_inputs(r);
        let (e, w, i) = (count(r, Severity::Error), count(r, Severity::Warning), count(r, Severity::Info));
        let class = if e > 0 {
            "e"
        } else if w > 0 {
            "w"
        } else {
            "ok"
        };
        let _ = write!(
            out,
            "<header><h1>ConfigMgr client install, registration and CCM token over CMG with Entra ID</h1>\
             <p class=\"verdict {class}\" id=\"verdict\">{}</p><ul class=\"counts\">",
            esc(&verdict(r))
        );
        let server_only = r.devices.len() - self.listing.collected;
        for (n, what) in [
            (self.listing.collected, "device(s) with client logs"),
            (self.listing.failing, "failing (error or warning)"),
            (e, "error(s)"),
            (w, "warning(s)"),
            (i, "info"),
            (server_only, "seen only in server logs"),
        ] {
            let _ = write!(out, "<li><b>{n}</b> {what}</li>");
        }
        out.push_str("</ul>");
        let _ = write!(
            out,
            "<p class=\"read\">Read {} file(s) ({}) from {} host(s): {}. Logs: {}. {} entries, {} unparsed \
             line(s); flow events from {} to {}.</p>",
            s.files,
            human_bytes(s.bytes),
            s.hosts.len(),
            esc(&name_list(&s.hosts, 20)),
            esc(&s.kinds.join(", ")),
            s.entries,
            s.unparsed,
            utc(&s.first),
            utc(&s.last)
        );
        let (unreadable, more) = unreadable_shown(&s, 20);
        for (path, err) in unreadable {
            let _ = write!(out, "<p class=\"warn\">Not read: <code>{}</code> ({})</p>", esc(path), esc(err));
        }
        if more > 0 {
            let _ = write!(
                out,
                "<p class=\"warn\">Not read: {more} more input(s); the JSON report's <code>inputs[]</code> \
                 names each with its reason.</p>"
            );
        }
        if let Some(note) = filter_note(r) {
            let _ = write!(out, "<p class=\"note\">{}</p>", esc(&note));
        }
        out.push_str("</header>");
    }

    /// Findings by rule: severity, devices, hosts, first and last time, the fix.
    fn rule_table(&self, out: &mut String) {
        let rules = rule_summaries(self.report);
        if rules.is_empty() {
            return;
        }
        out.push_str(
            "<section id=\"rules\"><h2>Findings by rule</h2><table class=\"rules\"><thead><tr><th>Rule</th>\
             <th>Severity</th><th>Devices</th><th>Hosts</th><th>First (UTC)</th><th>Last (UTC)</th><th>Fix</th>\
             </tr></thead><tbody>",
        );
        for r in &rules {
            let f = r.findings[0];
            let hosts: Vec<String> = r.hosts.iter().map(|h| h.to_string()).collect();
            let fix = match consequence_of(&f.explanation) {
                Some(root) => format!("consequence of <code>{}</code>", esc(root)),
                None => esc(first_sentence(&f.remediation)).into_owned(),
            };
            let _ = write!(
                out,
                "<tr data-rule=\"{rule}\" tabindex=\"0\"><td><code>{rule}</code></td><td><span class=\"badge {}\">\
                 {}</span></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{fix}</td></tr>",
                severity_class(r.severity),
                r.severity.as_str(),
                if r.devices.is_empty() { "site".to_string() } else { r.devices.len().to_string() },
                esc(&clip(&name_list(&hosts, 4), 120)),
                utc(&r.first),
                utc(&r.last),
                rule = r.rule,
            );
        }
        out.push_str("</tbody></table></section>");
    }

    /// The filters, the search box and one row per device; then what was left out.
    fn device_table(&self, detailed: &HashSet<&str>, over_budget: usize, out: &mut String) {
        let _ = write!(out, "<section id=\"devices\"><h2>Devices ({})</h2>", self.rows.len());
        if self.rows.is_empty() {
            out.push_str("<p class=\"note\">No device with client logs or a finding in these logs.</p>");
            self.left_out(detailed, over_budget, out);
            out.push_str("</section>");
            return;
        }
        self.filters(out);
        out.push_str(
            "<p class=\"note\">Phases, in order from the install to the token renewal: ✓ ok, ✗ failed, ! missing, \
             ? not collected, – not applicable. A click on a rule above shows its devices.</p>\
             <table class=\"devices\"><thead><tr><th>Status</th><th>Device</th><th>Client host</th><th>Path</th>\
             <th title=\"The 11 phases in order: ✓ ok, ✗ failed, ! missing, ? not collected, – not applicable\">\
             Phases</th><th>Findings</th><th>Hosts</th></tr></thead><tbody>",
        );
        for (n, d) in self.rows.iter().enumerate() {
            self.device_row(d, n, detailed.contains(d.key.as_str()), out);
        }
        out.push_str("</tbody></table>");
        let _ = write!(out, "<p id=\"no-match\" class=\"note\" hidden>No device matches these filters.</p>");
        self.left_out(detailed, over_budget, out);
        out.push_str("</section>");
    }

    fn filters(&self, out: &mut String) {
        out.push_str("<div class=\"filters\" role=\"search\"><label>Rule <select id=\"f-rule\"><option value=\"\">any</option>");
        let mut rules: Vec<&str> = self.report.findings.iter().map(|f| f.rule).collect();
        rules.sort_unstable();
        rules.dedup();
        for r in rules {
            let _ = write!(out, "<option>{r}</option>");
        }
        out.push_str("</select></label><label>Host <select id=\"f-host\"><option value=\"\">any</option>");
        let mut hosts: Vec<&str> =
            self.rows.iter().flat_map(|d| d.hosts().iter().map(|h| h.as_str())).collect();
        hosts.sort_unstable_by_key(|h| (self.role(h), *h));
        hosts.dedup();
        for h in hosts {
            let _ = write!(
                out,
                "<option value=\"{}\">{} ({})</option>",
                attr(h),
                esc(h),
                role_label(self.role(h))
            );
        }
        out.push_str(
            "</select></label><label>Status <select id=\"f-status\"><option value=\"\">any</option>\
             <optgroup label=\"Device\"><option value=\"s:e\">error</option><option value=\"s:w\">warning\
             </option><option value=\"s:i\">info only</option><option value=\"s:ok\">no finding</option>\
             </optgroup><optgroup label=\"A phase is\"><option value=\"p:f\">failed</option><option \
             value=\"p:m\">missing</option><option value=\"p:c\">not collected</option><option value=\"p:n\">\
             not applicable</option></optgroup></select></label><label>Search <input id=\"f-q\" type=\"search\" \
             placeholder=\"GUID:…, Entra device, user or tenant id, message id, host\" size=\"44\"></label>\
             <button id=\"f-reset\" type=\"button\">Clear</button><output id=\"f-count\"></output></div>",
        );
    }

    fn device_row(&self, d: &Device, n: usize, detailed: bool, out: &mut String) {
        let (class, word) = device_status(self.listing.worst.get(d.key.as_str()).copied());
        let mut rules: Vec<&str> =
            self.findings.get(d.key.as_str()).into_iter().flatten().map(|f| f.rule).collect();
        rules.dedup();
        let mut unique_rules = Vec::new();
        for r in rules {
            if !unique_rules.contains(&r) {
                unique_rules.push(r);
            }
        }
        let ph: String = d.phases.iter().map(|p| phase_letter(p.status)).collect();
        let ids = search_ids(d, self.index.message_ids.get(d.key.as_str()).map_or(&[][..], Vec::as_slice));
        let _ = write!(
            out,
            "<tr id=\"r{n}\" data-s=\"{class}\" data-ph=\"{ph}\" data-rules=\" {} \" \
             data-hosts=\"{}\" data-ids=\"{}\"{}><td><span class=\"badge {class}\">{word}</span></td><td>",
            unique_rules.join(" "),
            attr(&d.hosts().join("\t")),
            attr(&ids),
            if detailed { format!(" data-detail=\"d{n}\"") } else { String::new() }
        );
        if detailed {
            let _ = write!(out, "<a href=\"#d{n}\">{}</a>", esc(&d.key));
        } else {
            out.push_str(&esc(&d.key));
        }
        let _ = write!(
            out,
            "</td><td>{}</td><td>{}</td><td class=\"strip\">",
            esc(&d.client_hosts().join(", ")),
            path_label(d.path)
        );
        // One box per run of phases with one status, a glyph per phase: compact for thousands of rows.
        let phases: Vec<&Phase> = d.phases.iter().collect();
        for run in phases.chunk_by(|a, b| a.status == b.status) {
            let glyphs = phase_glyph(run[0].status).repeat(run.len());
            let _ = write!(out, "<b class={}>{glyphs}</b>", phase_class(run[0].status));
        }
        let _ = write!(
            out,
            "</td><td>{}</td><td>{}</td></tr>",
            unique_rules.iter().map(|r| format!("<code>{r}</code>")).collect::<Vec<_>>().join(" "),
            esc(&name_list(d.hosts(), 3))
        );
    }

    /// What the page does not detail, and how to get it.
    fn left_out(&self, detailed: &HashSet<&str>, over_budget: usize, out: &mut String) {
        let summarised: Vec<&&Device> =
            self.rows.iter().filter(|d| !detailed.contains(d.key.as_str())).collect();
        if !summarised.is_empty() {
            let failing = summarised.iter().filter(|d| self.listing.rank(d) <= 1).count();
            let healthy = summarised.len() - failing;
            let mut parts = Vec::new();
            if failing > 0 {
                parts.push(format!("{failing} failing"));
            }
            if healthy > 0 {
                parts.push(format!("{healthy} without an error or warning"));
            }
            let _ = write!(
                out,
                "<p class=\"left-out\" id=\"left-out\">{} device(s) have a summary row only, without \
                 swimlane, phases and evidence ({}).",
                summarised.len(),
                parts.join(", ")
            );
            // Left out by `--devices` (or its default past a screenful), or by the page's size.
            if summarised.len() > over_budget {
                out.push_str(
                    " <code>--devices all</code> details every device, <code>--device KEY</code> shows one.",
                );
            }
            if over_budget > 0 {
                let _ = write!(
                    out,
                    " {over_budget} of them would be detailed but are not, to keep this page under {} MB and \
                     quick to open: <code>--device KEY</code> shows one in full, <code>--rule ID</code> or \
                     <code>--since</code>/<code>--until</code> narrow the report, <code>--format json</code> \
                     holds everything.",
                    PAGE_BUDGET / 1_000_000
                );
            }
            out.push_str("</p>");
        }
        if !self.listing.server_only.is_empty() {
            let _ = write!(
                out,
                "<p class=\"left-out\">{} more device(s) appear only in server logs (no client logs collected, \
                 no finding): <code>--format json</code> lists them, <code>cmtrace-rs trace ID</code> follows \
                 one.</p>",
                self.listing.server_only.len()
            );
        }
    }

    /// Findings that belong to no device (a host's clock, the connection point's certificate...).
    fn site_findings(&self, out: &mut String) {
        let site: Vec<&Finding> =
            sorted_findings(self.report).into_iter().filter(|f| f.device.is_none()).collect();
        if site.is_empty() {
            return;
        }
        let _ = write!(out, "<section id=\"site\" class=\"device\"><h2>Site findings ({})</h2>", site.len());
        let mut shown = Shown::new();
        for (k, f) in site.iter().enumerate() {
            self.finding(f, &format!("s-f{}", k + 1), k + 1, true, &mut shown, out);
        }
        out.push_str("</section>");
    }

    /// The merged cross-host timeline (`--timeline`), up to `MAX_TIMELINE_ROWS` rows.
    fn merged_timeline(&self, out: &mut String) {
        let tl = &self.report.timeline;
        let _ = write!(
            out,
            "<section id=\"timeline\"><h2>Timeline ({} flow events, UTC)</h2><details class=\"events\" open>\
             <summary>Every host's flow events on one clock</summary><table class=\"events\"><thead><tr><th>UTC\
             </th><th>Local time as written</th><th>Host</th><th>Event</th><th>Line</th><th>Text</th></tr>\
             </thead><tbody>",
            tl.len()
        );
        for i in 0..tl.len().min(MAX_TIMELINE_ROWS) {
            self.event_row(i, &format!("t{i}"), true, out);
        }
        out.push_str("</tbody></table></details>");
        if tl.len() > MAX_TIMELINE_ROWS {
            let _ = write!(
                out,
                "<p class=\"left-out\">The first {MAX_TIMELINE_ROWS} of {} events are shown: <code>--format \
                 json</code> holds them all, <code>cmtrace-rs trace ID</code> follows one device.</p>",
                tl.len()
            );
        }
        out.push_str("</section>");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mixed_fleet_report() -> Report {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mixed");
        let mut bundles: Vec<std::path::PathBuf> = std::fs::read_dir(root)
            .expect("fixtures/mixed")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.join("expected.json").is_file())
            .collect();
        bundles.sort();
        crate::commands::analyze::build_report(
            &bundles,
            &[],
            Limits::default(),
            crate::commands::collect::ReadFor::EveryId,
            |_| {},
            || {},
        )
        .expect("a report")
        .report
    }

    #[test]
    fn details_stop_at_the_budget_and_the_page_says_so() {
        let report = mixed_fleet_report();
        let notes = |_: &str| Vec::new();
        let opts = RenderOptions {
            color: false,
            width: None,
            show_timeline: false,
            code_notes: &notes,
            devices: Some(DeviceList::All),
            max_chars: 0,
        };
        let page = Page::new(&report, &opts, Limits::default());
        let whole = page.render_within(usize::MAX);
        let budget = whole.len() / 2;
        let cut = page.render_within(budget);
        let sections = |p: &str| p.matches("<section class=\"device ").count();
        let rows = page.rows.len();
        assert_eq!(sections(&whole), rows, "--devices all: every device in full");
        let detailed = sections(&cut);
        assert!(detailed > 0 && detailed < rows, "{detailed} of {rows} in full");
        assert!(cut.len() < budget + 64 * 1024, "within the budget and one device: {} > {budget}", cut.len());
        let over = rows - detailed;
        assert!(cut.contains(&format!(
            "{over} of them would be detailed but are not, to keep this page under 5 MB"
        )));
        assert!(!cut.contains("<code>--devices all</code> details"), "--devices all was given");
        // The worst devices keep their details; a row links to its details only when they are there.
        assert_eq!(cut.matches("data-detail=\"").count(), detailed);
        let first_summarised =
            page.rows.iter().position(|d| !cut.contains(&format!("data-key=\"{}\"", d.key)));
        let last_detailed = page.rows.iter().rposition(|d| cut.contains(&format!("data-key=\"{}\"", d.key)));
        assert!(first_summarised > last_detailed, "worst first");
    }
}
