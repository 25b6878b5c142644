//! `cmtrace-rs analyze`: read everything, run the engine and the rules, filter, render in the chosen
//! format, and turn the findings into the exit status (`--fail-on`).

use std::io::{IsTerminal, Write};

use cmtrace_analysis::model::Report;

use super::collect::{collect, ReadFor};
use super::filter::Filters;
use super::{Failure, EXIT_FINDINGS, EXIT_OK, EXIT_UNUSABLE};
use crate::cli::{AnalyzeArgs, DevicesShown, FailOn, ReportFormat};
use crate::render::{
    json, render_html, render_junit, render_markdown, render_text, DeviceList, RenderOptions,
};

pub fn run(args: &AnalyzeArgs) -> Result<u8, Failure> {
    t0();
    // Filters are checked before anything is read: a typo must stop the command, not turn CI green.
    let filters =
        Filters::new(args.device.as_deref(), args.since.as_deref(), args.until.as_deref(), &args.rules)?;
    // No PATH: the current folder, or on a Windows ConfigMgr client its own log folders.
    let (paths, hosts) = super::local::inputs_or_default(&args.input.paths, &args.input.hosts);
    let progress = super::progress::ByteProgress::new(&paths);
    // The HTML page searches the events' identifiers; the other reports show none of the requests' message ids.
    let read_for = if args.format == ReportFormat::Html { ReadFor::EveryId } else { ReadFor::Report };
    let Analyzed { mut report, readable } = build_report(
        &paths,
        &hosts,
        args.input.limits(),
        read_for,
        |n| progress.inc(n),
        || progress.finish(),
    )?;
    if readable == 0 {
        // Still one document that names what could not be read (JSON, JUnit, ...), then exit 2.
        crate::say!("cmtrace-rs: no readable ConfigMgr log in the input");
    } else {
        filters.apply(&mut report)?;
    }

    let stdout = std::io::stdout();
    let is_tty = stdout.is_terminal();
    let color = args.color.enabled(is_tty);
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
        width: super::style::terminal_width(is_tty),
        show_timeline: args.timeline,
        code_notes: &notes,
        devices: args.devices.map(|d| match d {
            DevicesShown::All => DeviceList::All,
            DevicesShown::Failing => DeviceList::Failing,
            DevicesShown::None => DeviceList::None,
        }),
        max_chars: args.max_chars,
    };
    let written = match args.format {
        ReportFormat::Text => render_text(&report, &opts, &mut out),
        ReportFormat::Markdown => render_markdown(&report, &opts, &mut out),
        // Cited lines are read again for their context, zip entries within the same limits.
        ReportFormat::Html => render_html(&report, &opts, args.input.limits(), &mut out),
        ReportFormat::Junit => render_junit(&report, super::fail_threshold(args.fail_on), &mut out),
        // Indented for a person at a terminal; compact (smaller, faster) for pipes and files.
        ReportFormat::Json if is_tty => json::write_pretty(&report, &mut out),
        ReportFormat::Json => json::write_report(&report, &mut out).and_then(|_| writeln!(out)),
        ReportFormat::Ndjson => json::write_ndjson(&report, &mut out),
    }
    .and_then(|()| out.flush());
    let status = if readable == 0 { EXIT_UNUSABLE } else { exit_status(&report, args.fail_on) };
    // The process ends right after this, written or not: freeing millions of strings one by one would
    // only delay the exit (seconds on a fleet collection). The OS takes the memory back whole.
    std::mem::forget(report);
    written.map_err(Failure::Output)?;
    if log::log_enabled!(log::Level::Debug) {
        cmtrace_analysis::engine::print_lap("output", t0());
    }
    Ok(status)
}

/// What `analyze` concludes from the inputs, before filters and rendering.
pub struct Analyzed {
    /// The report on all the data; its `inputs[]` name every file read and every input problem.
    pub report: Report,
    /// Inputs that gave at least one entry: with none, the command exits 2 (after printing the report).
    pub readable: usize,
}

/// The start of this process's work, for `CMTRACE_TIMING`.
fn t0() -> std::time::Instant {
    static T0: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    *T0.get_or_init(std::time::Instant::now)
}

/// Reads `paths`, runs the engine and the rules: the report on all the data. `progress` is told the bytes
/// of each file read, `read_done` when reading is over; zip entries and archives inflate at most to
/// `limits`. Fails only for a `--host` override that names nothing.
pub fn build_report(
    paths: &[std::path::PathBuf],
    hosts: &[cmtrace_parsers::input::HostOverride],
    limits: cmtrace_parsers::input::Limits,
    read_for: ReadFor,
    progress: impl FnMut(u64),
    read_done: impl FnOnce(),
) -> Result<Analyzed, String> {
    let timing = log::log_enabled!(log::Level::Debug);
    let t0 = t0();
    let lap = |what: &str| {
        if timing {
            cmtrace_analysis::engine::print_lap(what, t0);
        }
    };
    let mut collected = collect(paths, hosts, limits, read_for, progress);
    read_done();
    for (path, error) in &collected.problems {
        crate::say!("cmtrace-rs: {path}: {error}");
    }
    collected.check_host_overrides()?;
    let readable = collected.inputs.iter().filter(|i| i.was_read()).count();
    lap("read and extract");
    log::debug!(
        "cmtrace-rs: timing: {} events of {} bytes, {} inputs",
        collected.events.len(),
        std::mem::size_of::<cmtrace_parsers::Event>(),
        collected.inputs.len()
    );
    let problems = std::mem::take(&mut collected.problem_inputs);
    let analysis = cmtrace_analysis::engine::analyze(collected.inputs, collected.events);
    lap("engine");
    let findings = cmtrace_analysis::rules::evaluate(&analysis);
    lap("rules");
    let mut report = analysis.into_report(findings);
    // Every input problem is in the document: paths that could not be read, zip entries passed over.
    report.inputs.extend(problems);
    lap("report");
    Ok(Analyzed { report, readable })
}

/// 1 when a finding is at or above `--fail-on`.
pub fn exit_status(report: &Report, fail_on: FailOn) -> u8 {
    let threshold = super::fail_threshold(fail_on);
    if report.findings.iter().any(|f| crate::render::fails(f.severity, threshold)) {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}
