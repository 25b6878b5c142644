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

pub fn render_markdown(report: &Report, opts: &RenderOptions<'_>, out: &mut dyn Write) -> io::Result<()> {
    let s = summarize_inputs(report);
    writeln!(out, "## cmtrace-rs: {}", verdict(report))?;
    writeln!(out)?;
    writeln!(
        out,
        "{} device(s) · {} error(s) · {} warning(s) · {} info. Read {} files ({}) from {} hosts ({}); flow events {} → {}.",
        report.devices.len(),
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
    if !findings.is_empty() {
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
    let (shown, server_only) = split_devices(report);
    if !server_only.is_empty() {
        writeln!(
            out,
            "{} more device(s) appear only in server logs (no client logs collected, no finding).\n",
            server_only.len()
        )?;
    }
    for d in shown {
        writeln!(out, "### Device {}", cell(&device_title(d)))?;
        writeln!(out)?;
        let mut ids = Vec::new();
        if !d.aad_device_ids.is_empty() {
            ids.push(format!(
                "Entra device `{}`",
                d.aad_device_ids.iter().map(|x| code(x)).collect::<Vec<_>>().join("`, `")
            ));
        }
        if !d.aad_tenant_ids.is_empty() {
            ids.push(format!(
                "tenant `{}`",
                d.aad_tenant_ids.iter().map(|x| code(x)).collect::<Vec<_>>().join("`, `")
            ));
        }
        ids.push(format!("hosts {}", cell(&d.hosts.join(", "))));
        ids.push(format!("path: {}", crate::render::path_label(d.path)));
        writeln!(out, "{}", ids.join(" · "))?;
        writeln!(out)?;
        writeln!(out, "| Phase | Status | Start (UTC) | Took | Host | Evidence |")?;
        writeln!(out, "|---|---|---|---|---|---|")?;
        for ph in &d.phases {
            let ev = ph.evidence.last();
            let evidence = match ev {
                Some(e) => {
                    format!("`{}:{}` {}", code(file_name(&e.path)), e.line, cell(&clip(&e.text, 120)))
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
        writeln!(out, "### Findings")?;
        writeln!(out)?;
        for f in findings {
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
                writeln!(out, "    {}", clip(&e.text, 400).replace("```", "'''"))?;
                for note in (opts.code_notes)(&e.text) {
                    writeln!(out, "    ↳ {}", visible_line(&note).replace("```", "'''"))?;
                }
            }
            writeln!(out, "```")?;
            writeln!(out)?;
            writeln!(out, "{}", para(&f.explanation))?;
            writeln!(out)?;
            writeln!(out, "**Fix:** {}", para(&f.remediation))?;
            writeln!(out)?;
        }
    }
    if opts.show_timeline {
        writeln!(out, "### Timeline (UTC)")?;
        writeln!(out)?;
        writeln!(out, "| Time | Host | Log | Event | Device | Line |")?;
        writeln!(out, "|---|---|---|---|---|---|")?;
        for e in &report.timeline {
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
                cell(&clip(e.text, 120))
            )?;
        }
        writeln!(out)?;
    }
    Ok(())
}
