//! `cmtrace-rs analyze`: read everything, run the engine and the rules, filter, render in the chosen
//! format, and turn the findings into the exit status (`--fail-on`).

use std::io::{IsTerminal, Write};

use chrono::{DateTime, NaiveDateTime, Utc};
use cmtrace_analysis::model::Report;
use cmtrace_parsers::Severity;

use super::collect::collect;
use super::{write_failed, EXIT_FINDINGS, EXIT_OK, EXIT_UNUSABLE};
use crate::cli::{AnalyzeArgs, ColorChoice, FailOn, ReportFormat};
use crate::render::{render_junit, render_markdown, render_text, RenderOptions};

pub fn run(args: &AnalyzeArgs) -> Result<i32, String> {
    let since = args.since.as_deref().map(parse_time).transpose()?;
    let until = args.until.as_deref().map(parse_time).transpose()?;
    let paths = args.input.paths_or_cwd();
    let timing = std::env::var_os("CMTRACE_TIMING").is_some();
    let t0 = std::time::Instant::now();
    let lap = |what: &str| {
        if timing {
            cmtrace_analysis::engine::print_lap(what, t0);
        }
    };
    let progress = super::progress::ByteProgress::new(&paths);
    let collected = collect(&paths, &args.input.hosts, |n| progress.inc(n));
    progress.finish();
    for (path, error) in &collected.problems {
        crate::say!("cmtrace-rs: {path}: {error}");
    }
    let readable = collected.inputs.iter().filter(|i| i.error.is_none()).count();
    if readable == 0 {
        crate::say!("cmtrace-rs: no readable ConfigMgr log in the input");
        return Ok(EXIT_UNUSABLE);
    }
    lap("read and extract");
    let analysis = cmtrace_analysis::engine::analyze(collected.inputs, collected.events);
    lap("engine");
    let findings = cmtrace_analysis::rules::evaluate(&analysis);
    lap("rules");
    let mut report = analysis.into_report(findings);
    lap("report");
    filter(&mut report, args.device.as_deref(), since, until, &args.rules);

    let stdout = std::io::stdout();
    let is_tty = stdout.is_terminal();
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => is_tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    };
    // JSON and NDJSON keep the exact text; what a person reads goes through the control-character guard.
    let mut out: Box<dyn Write> = match args.format {
        ReportFormat::Json | ReportFormat::Ndjson => Box::new(std::io::BufWriter::new(stdout.lock())),
        _ => Box::new(super::human_stdout(color && args.format == ReportFormat::Text)),
    };
    let notes = |text: &str| -> Vec<String> {
        cmtrace_analysis::codes::decode_message(text).iter().map(cmtrace_analysis::codes::describe).collect()
    };
    let opts = RenderOptions {
        color,
        width: terminal_width(is_tty),
        show_timeline: args.timeline,
        code_notes: &notes,
    };
    match args.format {
        ReportFormat::Text => render_text(&report, &opts, &mut out),
        ReportFormat::Markdown => render_markdown(&report, &opts, &mut out),
        ReportFormat::Junit => render_junit(&report, super::fail_threshold(args.fail_on), &mut out),
        // Indented for a person at a terminal; compact (smaller, faster) for pipes and files.
        ReportFormat::Json if is_tty => serde_json::to_writer_pretty(&mut out, &report)
            .map_err(crate::render::json::io_error)
            .and_then(|_| writeln!(out)),
        ReportFormat::Json => {
            crate::render::json::write_report(&report, &mut out).and_then(|_| writeln!(out))
        }
        ReportFormat::Ndjson => crate::render::json::write_ndjson(&report, &mut out),
    }
    .map_err(write_failed)?;
    out.flush().map_err(write_failed)?;
    lap("output");
    let status = exit_status(&report, args.fail_on);
    // The process ends right after this: freeing millions of strings one by one would only delay the
    // exit (seconds on a fleet collection). The OS takes the memory back whole.
    std::mem::forget(report);
    Ok(status)
}

/// 1 when a finding is at or above `--fail-on`.
pub fn exit_status(report: &Report, fail_on: FailOn) -> i32 {
    let threshold = match fail_on {
        FailOn::Never => return EXIT_OK,
        FailOn::Info => Severity::Info,
        FailOn::Warning => Severity::Warning,
        FailOn::Error => Severity::Error,
    };
    if report.findings.iter().any(|f| f.severity >= threshold) {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}

fn terminal_width(is_tty: bool) -> Option<usize> {
    if let Some(w) = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()) {
        return Some(w);
    }
    if is_tty {
        terminal_size::terminal_size().map(|(w, _)| w.0 as usize)
    } else {
        None
    }
}

/// RFC 3339 (any offset), or `YYYY-MM-DD HH:MM[:SS]` / `YYYY-MM-DDTHH:MM[:SS]` taken as UTC.
pub fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    for f in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Ok(t.and_utc());
        }
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
    }
    Err(format!("'{s}' is not a time: use RFC 3339 (2020-06-24T15:31:46Z, or with an offset) or YYYY-MM-DD HH:MM:SS (UTC)"))
}

/// `--device`, `--since/--until`, `--rule`: narrow what is shown (and what decides the exit status).
pub fn filter(
    report: &mut Report,
    device: Option<&str>,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    rules: &[String],
) {
    if let Some(query) = device {
        let q = query.trim().to_ascii_lowercase();
        let q = q.strip_prefix("guid:").unwrap_or(&q).to_string();
        let matches = |d: &cmtrace_analysis::model::Device| {
            let key = d.key.to_ascii_lowercase();
            key == q
                || key.strip_prefix("guid:") == Some(q.as_str())
                || d.client_ids.iter().any(|c| c.to_ascii_lowercase().ends_with(&q))
                || d.aad_device_ids.iter().any(|c| c.to_ascii_lowercase() == q)
                || d.hosts.iter().any(|h| h.to_ascii_lowercase() == q)
        };
        report.devices.retain(|d| matches(d));
        let keys: Vec<String> = report.devices.iter().map(|d| d.key.clone()).collect();
        report.findings.retain(|f| f.device.as_ref().is_some_and(|k| keys.contains(k)));
        report.timeline.retain(|e| e.device.is_some_and(|k| keys.iter().any(|x| x == k)));
    }
    let in_range = |t: &Option<DateTime<Utc>>| match t {
        Some(t) => since.is_none_or(|s| *t >= s) && until.is_none_or(|u| *t <= u),
        None => since.is_none() && until.is_none(),
    };
    if since.is_some() || until.is_some() {
        report.timeline.retain(|e| in_range(&e.time));
        report.findings.retain(|f| f.evidence.iter().any(|e| in_range(&e.time)));
    }
    if !rules.is_empty() {
        report.findings.retain(|f| rules.iter().any(|r| r == f.rule));
    }
}
