//! `cmtrace-rs watch`: the flow live. Reads what the logs under the paths hold, then follows them as they
//! grow (file-system events through `notify`, or polling: `--poll`, or when events cannot be had), and after
//! each batch of new lines (at most every `ANALYSIS_EVERY`) analyses the flow again. On a terminal it keeps
//! the devices' phases, the newest findings with their fix and the last flow events on screen, redrawn in
//! place (`screen`); elsewhere it writes each new file, changed device, finding and flow event as one NDJSON
//! line, the objects of `analyze --format ndjson` (`render::json::write_ndjson`), flushed after each batch.
//!
//! - `follow`: the files followed, and rollover, truncation and new files (`cmtrace_parsers::tail` for one
//!   file: whole records only, a record split across writes waits for its end).
//! - `flow`: the events kept (bounded), the analyses, and what was shown.
//! - `screen`: the terminal.

pub mod flow;
pub mod follow;
pub mod screen;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cmtrace_analysis::model::Report;

use super::{Failure, EXIT_OK};
use crate::cli::WatchArgs;
use crate::render::Paint;
use flow::FlowModel;
use follow::Follower;

/// The most often the flow is analysed again while lines keep coming.
pub const ANALYSIS_EVERY: Duration = Duration::from_millis(200);

/// With file-system events, the files are still scanned and read this often: events can be lost (an
/// overflowing queue) or never come (a network share that accepts the watch but sends nothing).
pub const SAFETY_SCAN: Duration = Duration::from_secs(2);

/// The longest wait between two looks at the quit flag and at stdout.
const LOOK_EVERY: Duration = Duration::from_millis(250);

/// What wakes the loop.
enum Wake {
    /// Files changed; `rescan`: a file may have been created, renamed or removed.
    Files { rescan: bool },
    /// Ctrl-C or q on the terminal.
    Quit,
    /// The terminal was resized.
    Redraw,
}

/// Where the flow goes: a terminal redrawn in place, or NDJSON lines.
enum Output {
    Screen { terminal: screen::Terminal, paint: Paint },
    Ndjson(std::io::BufWriter<std::io::Stdout>),
}

pub fn run(args: &WatchArgs) -> Result<u8, Failure> {
    let (paths, hosts) = super::local::inputs_or_default(&args.paths, &args.hosts);
    for p in &paths {
        if std::fs::metadata(p).is_err() {
            return Err(format!("{}: no such file or folder to watch", p.display()).into());
        }
    }
    for h in &hosts {
        if std::fs::metadata(&h.path).is_err() {
            return Err(format!("--host {}={}: the path does not exist", h.name, h.path.display()).into());
        }
    }
    let shown_paths = paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" ");
    let quit = Arc::new(AtomicBool::new(false));
    #[cfg(unix)]
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM, signal_hook::consts::SIGHUP] {
        signal_hook::flag::register(signal, quit.clone())
            .map_err(|e| format!("could not handle signals: {e}"))?;
    }
    let (tx, rx) = mpsc::channel::<Wake>();
    let mut notes: Vec<String> = Vec::new();
    let watcher = if args.poll { None } else { start_notify(&paths, tx.clone(), &mut notes) };
    let tick = if watcher.is_some() { SAFETY_SCAN } else { Duration::from_millis(args.interval) };
    let mode = match (&watcher, args.poll) {
        (Some(_), _) => "file-system events".to_string(),
        (None, true) => format!("polling every {} ms", args.interval),
        (None, false) => format!("polling every {} ms (no file-system events)", args.interval),
    };

    let is_tty = std::io::stdout().is_terminal();
    let mut output = if is_tty {
        let terminal =
            screen::Terminal::enter().map_err(|e| format!("could not set up the terminal: {e}"))?;
        spawn_keys(tx.clone(), quit.clone());
        Output::Screen { terminal, paint: Paint { on: args.color.enabled(true) } }
    } else {
        for n in &notes {
            crate::say!("cmtrace-rs: {n}");
        }
        Output::Ndjson(std::io::BufWriter::new(std::io::stdout()))
    };

    // CMTRACE_TIMING (as for analyze): the cost of each analysis on stderr, in a pipe.
    let timing = log::log_enabled!(log::Level::Debug);
    if let Output::Screen { terminal, paint } = &mut output {
        // Something on screen while a large folder is first read.
        let status = screen::Status::starting(&shown_paths, &mode, &notes);
        draw(terminal, paint, None, &status)?;
    }
    let mut follower = Follower::new(paths, hosts, quit.clone());
    let mut model = FlowModel::default();
    let mut last_analysis: Option<Instant> = None;
    let mut next_tick = Instant::now();
    let mut redraw = true;
    loop {
        let now = Instant::now();
        if now >= next_tick {
            sync(&mut follower, &mut model, true, &mut notes, &output);
            next_tick = Instant::now() + tick;
        }
        let settle = Duration::from_secs(args.settle);
        if model.held_back && follower.quiet_for(settle) {
            model.touch();
        }
        let due = last_analysis.is_none_or(|t| now.duration_since(t) >= ANALYSIS_EVERY);
        if model.changed() && due {
            let fresh = model.analyze(follower.quiet_for(settle));
            last_analysis = Some(Instant::now());
            if timing && !is_tty {
                log::debug!(
                    "cmtrace-rs: timing: analysis of {} events ({} dropped): {:.1} ms",
                    model.events_kept(),
                    model.dropped,
                    model.last_cost.as_secs_f64() * 1000.0
                );
            }
            redraw = true;
            if let Output::Ndjson(out) = &mut output {
                write_fresh(&fresh, out)?;
            }
        }
        if let Output::Screen { terminal, paint } = &mut output {
            if redraw {
                let status = screen::Status {
                    paths: &shown_paths,
                    files: follower.files_followed(),
                    entries: model.entries,
                    events_kept: model.events_kept(),
                    dropped: model.dropped,
                    mode: &mode,
                    notes: &notes,
                };
                draw(terminal, paint, model.report.as_ref(), &status)?;
                redraw = false;
            }
        } else if stdout_closed() {
            break;
        }
        if quit.load(Ordering::Relaxed) {
            break;
        }
        // Sleep until something happens, the next tick, the next analysis allowed, or the next look.
        let mut wait = next_tick.saturating_duration_since(Instant::now()).min(LOOK_EVERY);
        if model.changed() {
            if let Some(t) = last_analysis {
                wait = wait.min((t + ANALYSIS_EVERY).saturating_duration_since(Instant::now()));
            }
        }
        match next_wake(&rx, wait) {
            Some(Wake::Quit) => break,
            Some(Wake::Redraw) => redraw = true,
            Some(Wake::Files { rescan }) => sync(&mut follower, &mut model, rescan, &mut notes, &output),
            None => {}
        }
    }
    drop(watcher);
    match output {
        Output::Screen { terminal, .. } => drop(terminal),
        Output::Ndjson(mut out) => out.flush().map_err(Failure::Output)?,
    }
    Ok(EXIT_OK)
}

/// Draws the screen of `report` (`None`: before the first analysis) at the terminal's size.
fn draw(
    terminal: &mut screen::Terminal,
    paint: &Paint,
    report: Option<&Report>,
    status: &screen::Status,
) -> Result<(), String> {
    let (w, h) = terminal.size();
    terminal
        .draw(&screen::screen_lines(report, status, w, h, paint))
        .map_err(|e| format!("could not draw: {e}"))
}

/// Waits at most `wait` for a wake; file events that come together are taken as one (rescan if any asks).
fn next_wake(rx: &Receiver<Wake>, wait: Duration) -> Option<Wake> {
    let first = match rx.recv_timeout(wait) {
        Ok(w) => w,
        Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return None,
    };
    let Wake::Files { mut rescan } = first else { return Some(first) };
    while let Ok(more) = rx.try_recv() {
        match more {
            Wake::Files { rescan: r } => rescan |= r,
            other => return Some(other),
        }
    }
    Some(Wake::Files { rescan })
}

/// Scans for new, renamed and removed files when `rescan`, then reads what every file gained.
fn sync(
    follower: &mut Follower,
    model: &mut FlowModel,
    rescan: bool,
    notes: &mut Vec<String>,
    output: &Output,
) {
    let now = Instant::now();
    let mut apply = |u| model.apply(u);
    // Problems go to stderr in a pipe, and to the screen (the last few) on a terminal.
    let mut note = |line: String| {
        if matches!(output, Output::Ndjson(_)) {
            crate::say!("cmtrace-rs: {line}");
        }
        notes.push(line);
        if notes.len() > 8 {
            notes.remove(0);
        }
    };
    if rescan {
        follower.scan(now, &mut apply, &mut note);
    }
    follower.read(now, &mut apply);
    for line in follower.take_notes() {
        note(line);
    }
}

/// Writes what the last analysis found new as NDJSON lines, and flushes.
fn write_fresh(fresh: &Report, out: &mut impl Write) -> Result<(), Failure> {
    crate::render::json::write_ndjson(fresh, out).map_err(Failure::Output)?;
    out.flush().map_err(Failure::Output)
}

/// File-system events for the paths (folders recursively, a file through its folder), or `None` with a
/// note when they cannot be had (the caller polls instead).
fn start_notify(
    paths: &[PathBuf],
    tx: Sender<Wake>,
    notes: &mut Vec<String>,
) -> Option<notify::RecommendedWatcher> {
    use notify::event::{EventKind, ModifyKind};
    use notify::{RecursiveMode, Watcher};
    let handler = move |res: notify::Result<notify::Event>| {
        let rescan = match &res {
            Ok(ev) => match ev.kind {
                EventKind::Access(_) => return,
                EventKind::Modify(ModifyKind::Data(_) | ModifyKind::Metadata(_)) => false,
                _ => true,
            },
            Err(_) => true,
        };
        let _ = tx.send(Wake::Files { rescan });
    };
    let mut watcher = match notify::recommended_watcher(handler) {
        Ok(w) => w,
        Err(e) => {
            notes.push(format!("no file-system events ({e}): polling"));
            return None;
        }
    };
    for p in paths {
        let (target, mode) = if p.is_dir() {
            (p.clone(), RecursiveMode::Recursive)
        } else {
            let parent =
                p.parent().filter(|d| !d.as_os_str().is_empty()).map_or(PathBuf::from("."), PathBuf::from);
            (parent, RecursiveMode::NonRecursive)
        };
        if let Err(e) = watcher.watch(&target, mode) {
            notes.push(format!("no file-system events for {} ({e}): polling", target.display()));
            return None;
        }
    }
    Some(watcher)
}

/// Reads the terminal's keys: Ctrl-C, q or Esc quit; a resize redraws.
fn spawn_keys(tx: Sender<Wake>, quit: Arc<AtomicBool>) {
    use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
    std::thread::spawn(move || loop {
        if quit.load(Ordering::Relaxed) {
            return;
        }
        match event::poll(LOOK_EVERY) {
            Ok(true) => {}
            Ok(false) => continue,
            Err(_) => return,
        }
        let wake = match event::read() {
            Ok(Event::Key(k)) if k.kind != KeyEventKind::Release => {
                let ctrl_c = k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL);
                if ctrl_c || matches!(k.code, KeyCode::Char('q') | KeyCode::Esc) {
                    // Also stops a long read at its next step.
                    quit.store(true, Ordering::Relaxed);
                    Wake::Quit
                } else {
                    continue;
                }
            }
            Ok(Event::Resize(..)) => Wake::Redraw,
            Ok(_) => continue,
            Err(_) => return,
        };
        let last = matches!(wake, Wake::Quit);
        if tx.send(wake).is_err() || last {
            return;
        }
    });
}

/// Has the reader of stdout gone (`| head` done)? Then nothing written would be read: `watch` ends, as a
/// command whose stdout is closed does (status 0). Only a pipe tells (POLLERR on its writing end).
fn stdout_closed() -> bool {
    #[cfg(unix)]
    {
        let mut fd = libc::pollfd { fd: 1, events: 0, revents: 0 };
        // SAFETY: one valid pollfd, a zero timeout.
        let n = unsafe { libc::poll(&mut fd, 1, 0) };
        n > 0 && fd.revents & (libc::POLLERR | libc::POLLHUP) != 0
    }
    #[cfg(not(unix))]
    {
        false
    }
}
