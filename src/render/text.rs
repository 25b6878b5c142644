//! The text report a support engineer reads first (and pastes into a ticket): inputs, verdict, one flow
//! table per device, findings worst first with their evidence, decoded error codes and the fix, and on
//! request the merged cross-host timeline. Reads well without colour; fits the given width.

use std::io::{self, Write};

use comfy_table::{presets, Attribute, Cell, Color, ContentArrangement, Table};
use owo_colors::Style;

use cmtrace_analysis::model::{Device, Finding, PhaseStatus, Report};
use cmtrace_parsers::Severity;

use super::*;
use crate::sanitize::{visible, visible_line};

fn sev_label(s: Severity) -> &'static str {
    match s {
        Severity::Error => "ERROR",
        Severity::Warning => "WARNING",
        Severity::Info => "INFO",
    }
}

/// Wrap `text` to `width` columns after an indent, keeping words whole; control characters shown as
/// visible escapes.
fn wrap(text: &str, indent: &str, width: usize) -> String {
    let text = visible(text);
    let avail = width.saturating_sub(indent.chars().count()).max(20);
    let mut out = String::new();
    for para in text.split('\n') {
        // Words longer than a line (URLs) are cut into line-sized pieces.
        for line in wrap_lines(para, avail, avail) {
            out.push_str(indent);
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

pub fn render_text(report: &Report, opts: &RenderOptions<'_>, out: &mut dyn Write) -> io::Result<()> {
    let p = Paint { on: opts.color };
    let width = opts.width();
    let s = summarize_inputs(report);

    // Header: what was read.
    writeln!(
        out,
        "{}",
        p.bold("cmtrace-rs: ConfigMgr client install / registration over CMG with Entra ID")
    )?;
    let read = format!(
        "Read {} files ({}) from {} hosts: {}",
        s.files,
        human_bytes(s.bytes),
        s.hosts.len(),
        super::name_list(&s.hosts, 20)
    );
    write!(out, "{}", wrap(&read, "", width))?;
    write!(out, "{}", wrap(&format!("Logs: {}", s.kinds.join(", ")), "", width))?;
    let span = format!(
        "Entries: {}, unparsed lines: {}; flow events from {} to {}",
        s.entries,
        s.unparsed,
        utc(&s.first),
        utc(&s.last)
    );
    write!(out, "{}", wrap(&span, "", width))?;
    let (unreadable, more) = unreadable_shown(&s, 20);
    for (path, err) in unreadable {
        let line = format!("not read: {path} ({err})");
        write!(out, "{}", p.severity(&wrap(&line, "", width), Severity::Warning))?;
    }
    if more > 0 {
        let line = format!(
            "not read: {more} more input(s); the JSON document's inputs[] names each with its reason"
        );
        write!(out, "{}", p.severity(&wrap(&line, "", width), Severity::Warning))?;
    }
    if let Some(note) = filter_note(report) {
        write!(out, "{}", p.dim(&wrap(&note, "", width)))?;
    }
    writeln!(out)?;

    // Verdict.
    let (e, w, i) =
        (count(report, Severity::Error), count(report, Severity::Warning), count(report, Severity::Info));
    let verdict_sev = if e > 0 {
        Severity::Error
    } else if w > 0 {
        Severity::Warning
    } else {
        Severity::Info
    };
    writeln!(out, "{}", p.severity(&verdict(report), verdict_sev))?;
    let listing = listing(report, opts.devices);
    let counts = device_count_line(report, &listing);
    write!(out, "{}", wrap(&format!("{counts}; {e} error(s), {w} warning(s), {i} info"), "", width))?;
    writeln!(out)?;

    let findings = sorted_findings(report);
    // Only a fleet report groups its findings by rule.
    let rules = if listing.fleet { rule_summaries(report) } else { Vec::new() };
    if listing.fleet && !findings.is_empty() {
        render_fleet_summary(&rules, &listing, opts, &p, out)?;
    } else if !findings.is_empty() {
        // What went wrong, in one screen: every finding on one line with the first step of its fix.
        writeln!(out, "{}", p.bold("What went wrong (details below)"))?;
        for f in &findings {
            let who = f.device.as_deref().or(f.host.as_deref()).unwrap_or("site");
            let head = format!("{:<7} {} · {}", sev_label(f.severity), f.rule, who);
            writeln!(out, "  {}", p.severity(&clip(&head, width.saturating_sub(2)), f.severity))?;
            write!(out, "{}", wrap(&f.title, "          ", width))?;
            let line = match consequence_of(&f.explanation) {
                Some(root) => format!("consequence of {root}"),
                None => format!("fix: {}", clip(first_sentence(&f.remediation), 500)),
            };
            write!(out, "{}", p.dim(&wrap(&line, "          ", width)))?;
        }
        writeln!(out)?;
    }

    // Devices with findings first (worst first), then the healthy ones.
    let mut shown = listing.listed.clone();
    shown.sort_by_key(|d| listing.rank(d));
    if listing.fleet && !shown.is_empty() {
        let which = if shown.len() == listing.failing { "Failing devices" } else { "Devices" };
        writeln!(out, "{}", p.bold(&format!("{which} ({})", shown.len())))?;
        writeln!(out)?;
    }
    for d in &shown {
        render_device(d, report, opts, &p, out)?;
    }
    if listing.unlisted() > 0 {
        let line = unlisted_line(&listing);
        write!(out, "{}", p.dim(&wrap(&line, "", width)))?;
        writeln!(out)?;
    }
    if !listing.server_only.is_empty() {
        let line = format!(
            "{} more device(s) appear only in server logs (no client logs collected, no finding): {}",
            listing.server_only.len(),
            clip_join(listing.server_only.iter().map(|d| d.key.as_str()), ", ", 300)
        );
        write!(out, "{}", p.dim(&wrap(&line, "", width)))?;
        writeln!(out)?;
    }

    if listing.fleet && !findings.is_empty() {
        // One example in full per rule (its evidence, what happened, the fix), the others one line each.
        writeln!(out, "{}", p.bold(&format!("Findings ({}, by rule)", findings.len())))?;
        writeln!(out)?;
        for (n, r) in rules.iter().enumerate() {
            render_finding(n + 1, r.findings[0], opts, &p, out)?;
            if r.findings.len() > 1 {
                writeln!(out, "   Also ({} more):", r.findings.len() - 1)?;
                for f in &r.findings[1..] {
                    write!(out, "{}", wrap(&also_line(f), "   - ", width))?;
                }
                writeln!(out)?;
            }
        }
    } else if !findings.is_empty() {
        writeln!(out, "{}", p.bold(&format!("Findings ({})", findings.len())))?;
        writeln!(out)?;
        for (n, f) in findings.iter().enumerate() {
            render_finding(n + 1, f, opts, &p, out)?;
        }
    }

    if opts.show_timeline {
        render_timeline(report, opts, &p, out)?;
    }
    Ok(())
}

/// The fleet summary: per rule, how many devices, which hosts, first and last time, a few examples, and
/// the first step of its fix, once.
fn render_fleet_summary(
    rules: &[RuleSummary<'_>],
    listing: &Listing<'_>,
    opts: &RenderOptions<'_>,
    p: &Paint,
    out: &mut dyn Write,
) -> io::Result<()> {
    let width = opts.width();
    let head = format!("Fleet summary: {} of {} device(s) failing, by rule", listing.failing, listing.shown);
    writeln!(out, "{}", p.bold(&head))?;
    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(width.min(u16::MAX as usize) as u16);
    table.set_header(vec!["Rule", "Severity", "Devices", "Hosts", "First / last (UTC)", "For example"]);
    for r in rules {
        let devices = if r.devices.is_empty() { "site".to_string() } else { r.devices.len().to_string() };
        let mut sev = Cell::new(r.severity.as_str());
        if opts.color {
            sev = match r.severity {
                Severity::Error => sev.fg(Color::Red).add_attribute(Attribute::Bold),
                Severity::Warning => sev.fg(Color::Yellow),
                Severity::Info => sev.fg(Color::Cyan),
            };
        }
        let hosts: Vec<String> = r.hosts.iter().map(|h| h.to_string()).collect();
        table.add_row(vec![
            Cell::new(r.rule),
            sev,
            Cell::new(devices),
            Cell::new(clip(&super::name_list(&hosts, 3), 60)),
            Cell::new(format!("{}\n{}", utc_short(&r.first), utc_short(&r.last))),
            Cell::new(clip(&r.examples.join(", "), 90)),
        ]);
    }
    if !opts.color {
        table.force_no_tty();
    } else {
        table.enforce_styling();
    }
    writeln!(out, "{table}")?;
    for r in rules {
        let f = r.findings[0];
        let line = match consequence_of(&f.explanation) {
            Some(root) => format!("{}: consequence of {root}", r.rule),
            None => format!("{}: fix: {}", r.rule, clip(first_sentence(&f.remediation), 300)),
        };
        write!(out, "{}", p.dim(&wrap(&line, "  ", width)))?;
    }
    writeln!(out)?;
    Ok(())
}

fn render_device(
    d: &Device,
    report: &Report,
    opts: &RenderOptions<'_>,
    p: &Paint,
    out: &mut dyn Write,
) -> io::Result<()> {
    let width = opts.width();
    // On all the data: a filter that hides a device's findings does not make it healthy.
    let worst = report.worst_of(&d.key);
    let mark = match worst {
        Some(Severity::Error) => p.severity("✗", Severity::Error),
        Some(Severity::Warning) => p.severity("!", Severity::Warning),
        _ => p.apply("✓", Style::new().green()),
    };
    writeln!(out, "{} {} {}", mark, p.bold("Device"), p.bold(&device_title(d)))?;
    let mut ids = Vec::new();
    if !d.client_ids().is_empty() {
        ids.push(format!("SMS client: {}", d.client_ids().join(", ")));
    }
    if !d.aad_device_ids().is_empty() {
        ids.push(format!("Entra device: {}", d.aad_device_ids().join(", ")));
    }
    if !d.aad_tenant_ids().is_empty() {
        ids.push(format!("tenant: {}", d.aad_tenant_ids().join(", ")));
    }
    if !d.aad_user_ids().is_empty() {
        ids.push(format!("Entra user: {}", d.aad_user_ids().join(", ")));
    }
    ids.push(format!("hosts: {}", d.hosts().join(", ")));
    ids.push(format!("path: {}", crate::render::path_label(d.path)));
    write!(out, "{}", wrap(&ids.join(" · "), "  ", width))?;

    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(width.min(u16::MAX as usize) as u16);
    let wide = width >= 100;
    table.set_header(vec!["Phase", "Status", if wide { "Start (UTC)" } else { "UTC" }, "Took", "Evidence"]);
    // The evidence column gets what the fixed columns leave (borders and padding included).
    let fixed = 26 + 9 + if wide { 16 } else { 10 } + 9 + 6;
    let evidence_room = width.saturating_sub(fixed).max(18);
    for ph in d.phases.iter() {
        let mut status_cell = Cell::new(status_word(ph.status));
        if opts.color {
            status_cell = match ph.status {
                PhaseStatus::Ok => status_cell.fg(Color::Green),
                PhaseStatus::Failed => status_cell.fg(Color::Red).add_attribute(Attribute::Bold),
                PhaseStatus::Missing => status_cell.fg(Color::Yellow),
                PhaseStatus::NotCollected | PhaseStatus::NotApplicable => status_cell.fg(Color::DarkGrey),
            };
        }
        // Where it shows: file:line on host; for a failed phase also the line itself; else why not.
        let evidence = match ph.evidence.last() {
            Some(e) if ph.status == PhaseStatus::Failed => {
                clip(&format!("{}:{} {}: {}", file_name(&e.path), e.line, e.host, e.text), evidence_room * 4)
            }
            Some(e) => visible_line(&format!("{}:{} {}", file_name(&e.path), e.line, e.host)).into_owned(),
            None => clip(&ph.reason, evidence_room * 4),
        };
        let start = match ph.start {
            Some(t) if wide => t.format("%m-%d %H:%M:%S").to_string(),
            Some(t) => t.format("%H:%M:%S").to_string(),
            None => "-".into(),
        };
        table.add_row(vec![
            Cell::new(phase_label(ph.id)),
            status_cell,
            Cell::new(start),
            Cell::new(duration(ph)),
            Cell::new(evidence),
        ]);
    }
    if !opts.color {
        table.force_no_tty();
    } else {
        table.enforce_styling();
    }
    writeln!(out, "{table}")?;
    writeln!(out)?;
    Ok(())
}

fn render_finding(
    n: usize,
    f: &Finding,
    opts: &RenderOptions<'_>,
    p: &Paint,
    out: &mut dyn Write,
) -> io::Result<()> {
    let width = opts.width();
    writeln!(out, "{}. {} {}", n, p.severity(sev_label(f.severity), f.severity), p.bold(f.rule))?;
    write!(out, "{}", p.bold(&wrap(&f.title, "   ", width)))?;
    let mut who = Vec::new();
    if let Some(d) = &f.device {
        who.push(format!("device {d}"));
    }
    if let Some(h) = &f.host {
        who.push(format!("host {h}"));
    }
    if !who.is_empty() {
        writeln!(out, "   {}", p.dim(&visible_line(&who.join(" · "))))?;
    }
    writeln!(out, "   Evidence:")?;
    for e in &f.evidence {
        // The path as the input names it, so that a terminal or an editor opens `path:line`.
        // Never wrapped: a path cut in two opens nothing.
        writeln!(out, "   - {}", visible_line(&format!("{}:{}", e.path, e.line)))?;
        let local = local_beside(e.time, e.local_time()).map(|l| format!(" (local {l})")).unwrap_or_default();
        write!(out, "{}", wrap(&format!("{} · {}{local}", e.host, utc(&e.time)), "     ", width))?;
        write!(out, "{}", wrap(&clip(&e.text.get(), 600), "       ", width))?;
        for note in (opts.code_notes)(&e.text.get()) {
            write!(out, "{}", wrap(&format!("↳ {note}"), "       ", width))?;
        }
    }
    writeln!(out, "   What happened:")?;
    write!(out, "{}", wrap(&f.explanation, "     ", width))?;
    writeln!(out, "   {}", p.bold("Fix:"))?;
    write!(out, "{}", wrap(&f.remediation, "     ", width))?;
    writeln!(out)?;
    Ok(())
}

/// The merged timeline, one event per line: UTC (`*` when the host's clock was corrected), the local time as
/// the log wrote it where it differs, host, device, event, `path:line` and the text. On a terminal each
/// line is cut to its width; piped, nothing is cut (a script or a file gets every character).
fn render_timeline(
    report: &Report,
    opts: &RenderOptions<'_>,
    p: &Paint,
    out: &mut dyn Write,
) -> io::Result<()> {
    let timeline = &report.timeline;
    let locals: Vec<Option<String>> = (0..timeline.len())
        .map(|i| local_beside(timeline.get(i).time, timeline.event(i).local_time))
        .collect();
    let any_local = locals.iter().any(Option::is_some);
    let title = if any_local {
        format!("Timeline ({} flow events, UTC; the local time as written where it differs)", timeline.len())
    } else {
        format!("Timeline ({} flow events, UTC)", timeline.len())
    };
    writeln!(out, "{}", p.bold(&title))?;
    if timeline.iter().any(|e| e.skew_correction_ms != 0) {
        writeln!(out, "{}", p.dim("  * time corrected for the host's estimated clock skew"))?;
    }
    // A device is named by its client host where it has one (the key otherwise).
    let labels: std::collections::HashMap<&str, &str> = report
        .devices
        .iter()
        .map(|d| (d.key.as_str(), d.client_hosts().first().map_or(d.key.as_str(), |h| h.as_str())))
        .collect();
    let cut = opts.width.is_some();
    let fit = |s: &str, w: usize| if cut { clip(s, w) } else { clip(s, usize::MAX) };
    let host_w = timeline.iter().map(|e| e.host.chars().count()).max().unwrap_or(4).clamp(4, 16);
    let device_w = timeline
        .iter()
        .map(|e| device_label(&labels, e.device).chars().count())
        .max()
        .unwrap_or(1)
        .clamp(1, 20);
    let local_w = locals.iter().flatten().map(|l| l.chars().count()).max().unwrap_or(0);
    for (i, e) in timeline.iter().enumerate() {
        let time = match e.time {
            Some(t) => t.format("%m-%d %H:%M:%S%.3f").to_string(),
            None => "-".repeat(18),
        };
        let skew = if e.skew_correction_ms != 0 { "*" } else { " " };
        let local = if any_local {
            format!(" {:<local_w$}", locals[i].as_deref().unwrap_or(""))
        } else {
            String::new()
        };
        let host = fit(e.host, host_w);
        let device = fit(device_label(&labels, e.device), device_w);
        let head = format!("{time}{skew}{local} {host:<host_w$} {device:<device_w$} {:<26}", e.event);
        let room = opts.width().saturating_sub(head.chars().count() + 1).max(20);
        let text = fit(&format!("{}:{} {}", e.path, e.line, e.text.get()), room);
        let line = format!("{head} {text}");
        let line = match e.severity {
            Severity::Error => p.severity(&line, Severity::Error),
            Severity::Warning => p.apply(&line, Style::new().yellow()),
            Severity::Info => line,
        };
        writeln!(out, "{line}")?;
    }
    writeln!(out)?;
    Ok(())
}

/// A timeline row's device: its client host where it has one (`labels`), else its key; `-` for none.
fn device_label<'a>(
    labels: &std::collections::HashMap<&'a str, &'a str>,
    device: Option<&'a str>,
) -> &'a str {
    device.map_or("-", |k| labels.get(k).copied().unwrap_or(k))
}
