//! The report as GitHub-flavoured Markdown, for tickets and pull-request comments: the same content
//! as the text report (inputs, verdict, a phase table per device, findings with evidence and the fix).

use std::io::{self, Write};

use cmtrace_analysis::model::Report;
use cmtrace_parsers::Severity;

use super::*;
use crate::sanitize::{visible, visible_line};

/// Escape text for a Markdown table cell or inline text: control characters made visible, HTML
/// (`<`, `>`, `&`) and `|` escaped, on one line.
fn cell(s: &str) -> String {
    html(&visible(s)).replace('\\', "\\\\").replace('|', "\\|").replace(['\n', '\r'], " ").replace('`', "'")
}

/// Escape text for a code span (`` `...` ``), where Markdown and HTML are not interpreted: control
/// characters made visible, on one line, no backtick to end the span, `|` escaped (GFM tables split on
/// it even inside a code span).
fn code(s: &str) -> String {
    visible_line(s).replace('`', "'").replace('|', "\\|")
}

/// Escape a paragraph of text: control characters made visible and HTML escaped; line breaks kept.
fn para(s: &str) -> String {
    html(&visible(s))
}

fn html(s: &str) -> String {
    if !s.contains(['<', '>', '&']) {
        return s.to_string();
    }
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// A piece of the Markdown document: kept whole or left out whole when the document is cut.
enum Part {
    /// Header, summary: always kept.
    Head,
    Device,
    Finding,
    /// A group of timeline rows.
    Timeline(usize),
}

/// The document as parts, written out within `max_chars` (0: no limit) with a line that says what was
/// left out and how to get it.
struct Doc {
    parts: Vec<(Part, Vec<u8>)>,
}

impl Doc {
    fn part(&mut self, kind: Part) -> &mut Vec<u8> {
        self.parts.push((kind, Vec::new()));
        &mut self.parts.last_mut().expect("just pushed").1
    }

    fn finish(self, max_chars: usize, out: &mut dyn Write) -> io::Result<()> {
        let sizes: Vec<usize> =
            self.parts.iter().map(|(_, b)| String::from_utf8_lossy(b).chars().count()).collect();
        if max_chars == 0 || sizes.iter().sum::<usize>() <= max_chars {
            for (_, b) in &self.parts {
                out.write_all(b)?;
            }
            return Ok(());
        }
        // Room for the closing line. The budget goes to the findings first, then the device tables, then
        // the timeline, each in document order; what is kept is written in document order.
        let budget = max_chars.saturating_sub(400);
        let mut keep: Vec<bool> = self.parts.iter().map(|(k, _)| matches!(k, Part::Head)).collect();
        let mut used: usize = sizes.iter().zip(&keep).filter(|(_, k)| **k).map(|(n, _)| n).sum();
        for class in 0..3 {
            for (i, (kind, _)) in self.parts.iter().enumerate() {
                let of_class = match kind {
                    Part::Finding => class == 0,
                    Part::Device => class == 1,
                    Part::Timeline(_) => class == 2,
                    Part::Head => false,
                };
                if of_class {
                    if used + sizes[i] > budget {
                        break;
                    }
                    keep[i] = true;
                    used += sizes[i];
                }
            }
        }
        let (mut devices, mut findings, mut events) = (0usize, 0usize, 0usize);
        for ((kind, b), kept) in self.parts.iter().zip(&keep) {
            if *kept {
                out.write_all(b)?;
                continue;
            }
            match kind {
                Part::Device => devices += 1,
                Part::Finding => findings += 1,
                Part::Timeline(rows) => events += rows,
                Part::Head => {}
            }
        }
        let mut left = Vec::new();
        if devices > 0 {
            left.push(format!("{devices} device table(s)"));
        }
        if findings > 0 {
            left.push(format!("{findings} finding detail(s)"));
        }
        if events > 0 {
            left.push(format!("{events} timeline event(s)"));
        }
        writeln!(
            out,
            "> Cut to {max_chars} characters for a ticket or comment: {} left out. `--max-chars 0` prints all of it; `--devices failing` or `--rule ID` narrow it; `--format json` has every detail.",
            left.join(", ")
        )
    }
}

pub fn render_markdown(report: &Report, opts: &RenderOptions<'_>, out: &mut dyn Write) -> io::Result<()> {
    let mut doc = Doc { parts: Vec::new() };
    write_markdown(report, opts, &mut doc)?;
    doc.finish(opts.max_chars, out)
}

fn write_markdown(report: &Report, opts: &RenderOptions<'_>, doc: &mut Doc) -> io::Result<()> {
    let s = summarize_inputs(report);
    let listing = listing(report, opts.devices);
    let out = doc.part(Part::Head);
    writeln!(out, "## cmtrace-rs: {}", verdict(report))?;
    writeln!(out)?;
    writeln!(
        out,
        "{} · {} error(s) · {} warning(s) · {} info. Read {} files ({}) from {} hosts ({}); flow events {} → {}.",
        device_count_line(report, &listing),
        count(report, Severity::Error),
        count(report, Severity::Warning),
        count(report, Severity::Info),
        s.files,
        human_bytes(s.bytes),
        s.hosts.len(),
        cell(&super::name_list(&s.hosts, 20)),
        utc(&s.first),
        utc(&s.last)
    )?;
    let (unreadable, more) = unreadable_shown(&s, 20);
    for (path, err) in unreadable {
        writeln!(out, "\n> Not read: `{}` ({})", code(path), cell(err))?;
    }
    if more > 0 {
        writeln!(
            out,
            "\n> Not read: {more} more input(s); the JSON document's `inputs[]` names each with its reason"
        )?;
    }
    if let Some(note) = filter_note(report) {
        writeln!(out, "\n> {}", html(&note))?;
    }
    writeln!(out)?;
    let findings = sorted_findings(report);
    // Only a fleet report groups its findings by rule.
    let rules = if listing.fleet { rule_summaries(report) } else { Vec::new() };
    if listing.fleet && !findings.is_empty() {
        writeln!(
            out,
            "**Fleet summary**: {} of {} device(s) failing, by rule\n",
            listing.failing, listing.shown
        )?;
        writeln!(
            out,
            "| Rule | Severity | Devices | Hosts | First (UTC) | Last (UTC) | For example | Fix |"
        )?;
        writeln!(out, "|---|---|---|---|---|---|---|---|")?;
        for r in &rules {
            let f = r.findings[0];
            let hosts: Vec<String> = r.hosts.iter().map(|h| h.to_string()).collect();
            let fix = match consequence_of(&f.explanation) {
                Some(root) => format!("consequence of `{}`", code(root)),
                None => cell(&clip(first_sentence(&f.remediation), 200)),
            };
            writeln!(
                out,
                "| `{}` | {} | {} | {} | {} | {} | {} | {} |",
                r.rule,
                r.severity.as_str(),
                if r.devices.is_empty() { "site".to_string() } else { r.devices.len().to_string() },
                cell(&clip(&super::name_list(&hosts, 3), 60)),
                utc_short(&r.first),
                utc_short(&r.last),
                cell(&clip(&r.examples.join(", "), 90)),
                fix
            )?;
        }
        writeln!(out)?;
    } else if !findings.is_empty() {
        writeln!(out, "**What went wrong**\n")?;
        for f in &findings {
            writeln!(
                out,
                "- **{}** `{}` on `{}`: {}",
                f.severity.as_str(),
                f.rule,
                code(f.device.as_deref().or(f.host.as_deref()).unwrap_or("site")),
                cell(&f.title)
            )?;
        }
        writeln!(out)?;
    }
    if listing.unlisted() > 0 {
        writeln!(out, "{}\n", cell(&unlisted_line(&listing)))?;
    }
    if !listing.server_only.is_empty() {
        writeln!(
            out,
            "{} more device(s) appear only in server logs (no client logs collected, no finding).\n",
            listing.server_only.len()
        )?;
    }
    let mut shown = listing.listed.clone();
    if listing.fleet {
        shown.sort_by_key(|d| listing.rank(d));
    }
    for d in shown {
        let out = doc.part(Part::Device);
        writeln!(out, "### Device {}", cell(&device_title(d)))?;
        writeln!(out)?;
        let mut ids = Vec::new();
        if !d.aad_device_ids().is_empty() {
            ids.push(format!(
                "Entra device `{}`",
                d.aad_device_ids().iter().map(|x| code(x)).collect::<Vec<_>>().join("`, `")
            ));
        }
        if !d.aad_tenant_ids().is_empty() {
            ids.push(format!(
                "tenant `{}`",
                d.aad_tenant_ids().iter().map(|x| code(x)).collect::<Vec<_>>().join("`, `")
            ));
        }
        ids.push(format!("hosts {}", cell(&d.hosts().join(", "))));
        ids.push(format!("path: {}", crate::render::path_label(d.path)));
        writeln!(out, "{}", ids.join(" · "))?;
        writeln!(out)?;
        writeln!(out, "| Phase | Status | Start (UTC) | Took | Host | Evidence |")?;
        writeln!(out, "|---|---|---|---|---|---|")?;
        for ph in d.phases.iter() {
            let ev = ph.evidence.last();
            let evidence = match ev {
                Some(e) => {
                    format!("`{}:{}` {}", code(file_name(&e.path)), e.line, cell(&clip(&e.text.get(), 120)))
                }
                None => cell(&ph.reason),
            };
            writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                phase_label(ph.id),
                match ph.status {
                    cmtrace_analysis::model::PhaseStatus::Failed => "**FAILED**",
                    other => status_word(other),
                },
                utc_short(&ph.start),
                duration(ph),
                cell(&ev.map(|e| e.host.clone()).unwrap_or_default()),
                evidence
            )?;
        }
        writeln!(out)?;
    }
    if !findings.is_empty() {
        let out = doc.part(Part::Head);
        writeln!(out, "### Findings")?;
        writeln!(out)?;
    }
    // In a fleet: one example in full per rule, the others one line each.
    let details: Vec<(&Finding, &[&Finding])> = if listing.fleet {
        rules.iter().map(|r| (r.findings[0], &r.findings[1..])).collect()
    } else {
        findings.iter().map(|f| (*f, &[][..])).collect()
    };
    {
        for (f, also) in details {
            let out = doc.part(Part::Finding);
            let sev = match f.severity {
                Severity::Error => "🔴 error",
                Severity::Warning => "🟠 warning",
                Severity::Info => "🔵 info",
            };
            writeln!(out, "#### {} `{}`: {}", sev, f.rule, cell(&f.title))?;
            writeln!(out)?;
            if let Some(d) = &f.device {
                writeln!(
                    out,
                    "Device `{}`{}",
                    code(d),
                    f.host.as_ref().map(|h| format!(" · host {}", cell(h))).unwrap_or_default()
                )?;
                writeln!(out)?;
            }
            writeln!(out, "```")?;
            for e in &f.evidence {
                // In a code block Markdown and HTML are shown as written: only controls and fences matter.
                let at = format!("{}  {} {}:{}", utc(&e.time), e.host, e.path, e.line);
                writeln!(out, "{}", visible_line(&at).replace("```", "'''"))?;
                writeln!(out, "    {}", clip(&e.text.get(), 400).replace("```", "'''"))?;
                for note in (opts.code_notes)(&e.text.get()) {
                    writeln!(out, "    ↳ {}", visible_line(&note).replace("```", "'''"))?;
                }
            }
            writeln!(out, "```")?;
            writeln!(out)?;
            writeln!(out, "{}", para(&f.explanation))?;
            writeln!(out)?;
            writeln!(out, "**Fix:** {}", para(&f.remediation))?;
            writeln!(out)?;
            if !also.is_empty() {
                writeln!(out, "Also ({} more):\n", also.len())?;
                for a in also {
                    writeln!(out, "- {}", cell(&also_line(a)))?;
                }
                writeln!(out)?;
            }
        }
    }
    if opts.show_timeline {
        let out = doc.part(Part::Head);
        writeln!(out, "### Timeline (UTC)")?;
        writeln!(out)?;
        writeln!(out, "| Time | Host | Log | Event | Device | Line |")?;
        writeln!(out, "|---|---|---|---|---|---|")?;
        let events: Vec<_> = report.timeline.iter().collect();
        for rows in events.chunks(50) {
            let out = doc.part(Part::Timeline(rows.len()));
            for e in rows {
                writeln!(
                    out,
                    "| {}{} | {} | {} | {} | {} | `{}:{}` {} |",
                    utc(&e.time),
                    if e.skew_correction_ms != 0 { " (skew-corrected)" } else { "" },
                    cell(e.host),
                    e.log_kind.as_str(),
                    e.event,
                    cell(e.device.unwrap_or("")),
                    code(file_name(e.path)),
                    e.line,
                    cell(&clip(&e.text.get(), 120))
                )?;
            }
        }
        writeln!(doc.part(Part::Head))?;
    }
    Ok(())
}
