//! The live screen of `watch` on a terminal: what fits of the last analysis, as lines no wider than the
//! terminal (`screen_lines`, a plain function the tests call), and the terminal itself (`Terminal`): the
//! alternate screen in raw mode, redrawn in place, restored when it is dropped, on a panic and on the
//! signals that end `watch`. Every text from a log is made visible (`sanitize::visible_line`) before it is
//! coloured.

use std::io::Write;

use chrono::{DateTime, Utc};
use cmtrace_analysis::model::{Device, PhaseStatus, Report};
use cmtrace_parsers::Severity;
use owo_colors::Style;

use crate::render::Paint;
use crate::sanitize::visible_line;

/// What the screen says about the watch itself, besides the analysis.
pub struct Status<'a> {
    /// The paths followed, as given.
    pub paths: &'a str,
    pub files: usize,
    pub entries: u64,
    pub events_kept: usize,
    pub dropped: u64,
    /// `notify` or `polling every N ms`, and why polling when it was not asked for.
    pub mode: &'a str,
    /// The last problems (a file that cannot be read), newest last.
    pub notes: &'a [String],
}

impl<'a> Status<'a> {
    /// Before anything is read.
    pub fn starting(paths: &'a str, mode: &'a str, notes: &'a [String]) -> Status<'a> {
        Status { paths, files: 0, entries: 0, events_kept: 0, dropped: 0, mode, notes }
    }
}

/// One screen line being built: text pieces with their style, cut at the width.
struct Line<'p> {
    paint: &'p Paint,
    width: usize,
    used: usize,
    out: String,
}

impl<'p> Line<'p> {
    fn new(paint: &'p Paint, width: usize) -> Self {
        Line { paint, width, used: 0, out: String::new() }
    }

    /// Adds `text` (already visible) in `style`, cut where the line is full.
    fn push(&mut self, text: &str, style: Style) -> &mut Self {
        let room = self.width.saturating_sub(self.used);
        let n = text.chars().count();
        let piece: String = if n > room { text.chars().take(room).collect() } else { text.to_string() };
        self.used += piece.chars().count();
        if !piece.is_empty() {
            self.out.push_str(&self.paint.apply(&piece, style));
        }
        self
    }

    fn plain(&mut self, text: &str) -> &mut Self {
        self.push(text, Style::new())
    }

    fn done(&mut self) -> String {
        self.used = 0;
        std::mem::take(&mut self.out)
    }
}

fn hms(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(|| "--:--:--".to_string(), |t| t.format("%H:%M:%S").to_string())
}

/// A phase status as the screen shows it, and its style.
fn status_word(status: PhaseStatus) -> (&'static str, Style) {
    match status {
        PhaseStatus::Ok => ("ok", Style::new().green()),
        PhaseStatus::Failed => ("FAILED", Style::new().red().bold()),
        PhaseStatus::Missing => ("missing", Style::new().yellow()),
        PhaseStatus::NotCollected => ("not collected", Style::new().dimmed()),
        PhaseStatus::NotApplicable => ("n/a", Style::new().dimmed()),
    }
}

fn severity_style(s: Severity) -> Style {
    match s {
        Severity::Error => Style::new().red().bold(),
        Severity::Warning => Style::new().yellow().bold(),
        Severity::Info => Style::new().cyan(),
    }
}

/// The latest time a device's phases show: the devices with the newest activity are shown first.
fn last_activity(d: &Device) -> Option<DateTime<Utc>> {
    d.phases.iter().filter_map(|p| p.end.or(p.start)).max()
}

/// The screen: a header, the devices with their phases (newest activity first), the newest findings with
/// their fix, and the last flow events, in at most `height` lines of at most `width` characters.
pub fn screen_lines(
    report: Option<&Report>,
    status: &Status,
    width: usize,
    height: usize,
    paint: &Paint,
) -> Vec<String> {
    let width = width.max(20);
    let height = height.max(5);
    let mut lines = Vec::new();
    let mut l = Line::new(paint, width);
    l.push("cmtrace-rs watch", Style::new().bold()).plain(" ").plain(&visible_line(status.paths));
    lines.push(l.done());
    let dropped = if status.dropped > 0 {
        format!(" ({} older events left the screen; the files hold them)", status.dropped)
    } else {
        String::new()
    };
    l.push(
        &format!(
            "{} files, {} entries, {} flow events{}; {}; times UTC; q or Ctrl-C quits",
            status.files, status.entries, status.events_kept, dropped, status.mode
        ),
        Style::new().dimmed(),
    );
    lines.push(l.done());
    for note in status.notes.iter().rev().take(2) {
        l.push(&visible_line(note), Style::new().yellow());
        lines.push(l.done());
    }
    let Some(report) = report else {
        l.plain("reading the logs...");
        lines.push(l.done());
        return lines;
    };

    // What is left for the three parts: the events get at least a few lines, the findings two per finding.
    let left = height.saturating_sub(lines.len());
    let findings_n = report.findings.len().min(3);
    let events_want = report.timeline.len().clamp(0, 8);
    let findings_lines = if findings_n > 0 { 1 + 2 * findings_n } else { 0 };
    let device_room =
        left.saturating_sub(findings_lines + if events_want > 0 { 1 + events_want.min(3) } else { 0 });

    // Devices: a title line and one line per group of phases.
    let mut devices: Vec<&Device> = report.devices.iter().collect();
    devices.sort_by(|a, b| last_activity(b).cmp(&last_activity(a)).then_with(|| a.key.cmp(&b.key)));
    let per_device = 4;
    let shown = (device_room / per_device).min(devices.len());
    for d in devices.iter().take(shown) {
        l.push(&visible_line(&d.key), Style::new().bold())
            .plain(&format!("  {}  ", d.path.as_str()))
            .push(&visible_line(&d.hosts().join(", ")), Style::new().dimmed());
        lines.push(l.done());
        for group in ["install", "registration", "renewal"] {
            l.plain(&format!("  {group:<13}"));
            let mut first = true;
            for p in d.phases.iter().filter(|p| p.id.as_str().split('.').next() == Some(group)) {
                if !first {
                    l.push(" · ", Style::new().dimmed());
                }
                first = false;
                let name = p.id.as_str().split_once('.').map_or(p.id.as_str(), |(_, n)| n);
                let (word, style) = status_word(p.status);
                l.plain(name).plain(" ").push(word, style);
                if let Some(t) = p.end.filter(|_| matches!(p.status, PhaseStatus::Ok | PhaseStatus::Failed)) {
                    l.push(&format!(" {}", hms(Some(t))), Style::new().dimmed());
                }
            }
            lines.push(l.done());
        }
    }
    if devices.len() > shown {
        l.push(
            &format!("... {} more devices (older activity)", devices.len() - shown),
            Style::new().dimmed(),
        );
        lines.push(l.done());
    }

    // The newest findings, with their fix.
    if findings_n > 0 && lines.len() + 3 <= height {
        let mut findings: Vec<_> = report.findings.iter().collect();
        findings.sort_by_key(|f| std::cmp::Reverse(f.evidence.iter().filter_map(|e| e.time).max()));
        l.push(&format!("FINDINGS ({}, newest first)", report.findings.len()), Style::new().bold());
        lines.push(l.done());
        for f in findings {
            if lines.len() + 2 > height.saturating_sub(1) {
                break;
            }
            l.plain("  ")
                .push(f.severity.as_str(), severity_style(f.severity))
                .plain(" ")
                .push(f.rule, Style::new().bold())
                .plain(&format!(" {} ", f.device.as_deref().map(visible_line).unwrap_or_default()))
                .plain(&visible_line(&f.title));
            lines.push(l.done());
            l.push("    fix: ", Style::new().green()).plain(&visible_line(&f.remediation));
            lines.push(l.done());
        }
    }

    // The last flow events, as many as fit.
    let room = height.saturating_sub(lines.len() + 1);
    if room > 0 && !report.timeline.is_empty() {
        l.push("LAST FLOW EVENTS", Style::new().bold());
        lines.push(l.done());
        let n = report.timeline.len();
        for e in report.timeline.iter().skip(n.saturating_sub(room)) {
            l.push(&hms(e.time), Style::new().dimmed())
                .plain(&format!(" {:<14} ", visible_line(e.host)))
                .push(e.event, severity_style(e.severity))
                .plain(" ")
                .push(&visible_line(&e.text.get()), Style::new().dimmed());
            lines.push(l.done());
        }
    }
    lines.truncate(height);
    lines
}

/// The terminal while `watch` draws on it: raw mode (keys come as events, Ctrl-C included) and the
/// alternate screen, with the cursor hidden. Dropping it restores the terminal; so does a panic.
pub struct Terminal {
    out: std::io::Stdout,
}

/// Leaves the alternate screen and raw mode, shows the cursor. Safe to call more than once.
pub fn restore_terminal() {
    let _ = crossterm::execute!(
        std::io::stdout(),
        crossterm::cursor::Show,
        crossterm::terminal::LeaveAlternateScreen
    );
    let _ = crossterm::terminal::disable_raw_mode();
}

impl Terminal {
    pub fn enter() -> std::io::Result<Terminal> {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore_terminal();
            previous(info);
        }));
        crossterm::terminal::enable_raw_mode()?;
        let mut out = std::io::stdout();
        crossterm::execute!(out, crossterm::terminal::EnterAlternateScreen, crossterm::cursor::Hide)?;
        Ok(Terminal { out })
    }

    /// The terminal's size (columns, rows), or 80×24 when it cannot say.
    pub fn size(&self) -> (usize, usize) {
        crossterm::terminal::size().map_or((80, 24), |(w, h)| (w as usize, h as usize))
    }

    /// Draws `lines` from the top left, each line cleared to its end and what is below them cleared.
    pub fn draw(&mut self, lines: &[String]) -> std::io::Result<()> {
        use crossterm::terminal::{Clear, ClearType};
        let mut buf: Vec<u8> = Vec::new();
        crossterm::queue!(buf, crossterm::cursor::MoveTo(0, 0))?;
        for (i, line) in lines.iter().enumerate() {
            if i > 0 {
                buf.extend_from_slice(b"\r\n");
            }
            buf.extend_from_slice(line.as_bytes());
            crossterm::queue!(buf, Clear(ClearType::UntilNewLine))?;
        }
        crossterm::queue!(buf, Clear(ClearType::FromCursorDown))?;
        self.out.write_all(&buf)?;
        self.out.flush()
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        restore_terminal();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo_report() -> Report {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo/case-1234");
        crate::commands::analyze::build_report(
            &[dir],
            &[],
            Default::default(),
            crate::commands::collect::ReadFor::EveryId,
            |_| {},
            || {},
        )
        .unwrap()
        .report
    }

    fn status() -> Status<'static> {
        Status {
            paths: "case-1234",
            files: 9,
            entries: 400,
            events_kept: 60,
            dropped: 0,
            mode: "notify",
            notes: &[],
        }
    }

    #[test]
    fn the_screen_fits_and_shows_phases_findings_and_events() {
        let report = demo_report();
        let plain = Paint { on: false };
        for (w, h) in [(120, 50), (80, 24), (40, 12)] {
            let lines = screen_lines(Some(&report), &status(), w, h, &plain);
            assert!(lines.len() <= h, "{w}x{h}: {} lines", lines.len());
            assert!(lines.iter().all(|l| l.chars().count() <= w), "{w}x{h}: a line is too wide");
        }
        let lines = screen_lines(Some(&report), &status(), 160, 60, &plain).join("\n");
        assert!(lines.contains("LAPTOP-K9X1"), "{lines}");
        assert!(lines.contains("aad_info FAILED"), "{lines}");
        assert!(lines.contains("root-ca-untrusted"), "{lines}");
        assert!(lines.contains("fix: "), "{lines}");
        assert!(lines.contains("LAST FLOW EVENTS"), "{lines}");
        assert!(!lines.contains('\u{1b}'), "no colour when it is off");
        let coloured = screen_lines(Some(&report), &status(), 160, 60, &Paint { on: true }).join("\n");
        assert!(coloured.contains("\u{1b}["));
    }

    #[test]
    fn log_text_cannot_drive_the_terminal() {
        let mut report = demo_report();
        report.devices[0].key = "EVIL\u{1b}]0;title\u{7}".into();
        let lines = screen_lines(Some(&report), &status(), 160, 60, &Paint { on: false }).join("\n");
        assert!(!lines.contains('\u{1b}') && !lines.contains('\u{7}'));
        assert!(lines.contains("EVIL\\x1b]0;title\\x07"), "{lines}");
    }

    #[test]
    fn before_the_first_analysis() {
        let lines = screen_lines(None, &status(), 80, 24, &Paint { on: false });
        assert!(lines.last().unwrap().contains("reading the logs"));
    }
}
