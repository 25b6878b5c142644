//! The swimlane of one device, drawn server-side as an inline SVG: a UTC time axis whose idle gaps are
//! folded (a renewal eight hours after the install stays readable), one row per phase (a bar over its
//! time, coloured by status and labelled with it), and one lane per host (client hosts first, then the
//! CMG, the connection point, the management point) with the device's flow events as marks and its
//! findings pinned at their evidence lines. Every mark names, in `data-d`, the element of the page that
//! holds its details (the script shows it when the mark is clicked). Phases and pins take the keyboard
//! focus; events are many, and the event table beside the drawing lists them for the keyboard.

use std::fmt::Write as _;

use chrono::DateTime;
use cmtrace_analysis::model::{PhaseId, PhaseStatus};
use cmtrace_parsers::{HostRole, Severity};

use super::{attr, esc, phase_class, severity_class};

/// The drawing's width in SVG units (it scales to the page).
const WIDTH: f64 = 1200.0;
/// Where the plot starts (the labels of phases and hosts are on its left).
const GUTTER: f64 = 190.0;
const RIGHT_PAD: f64 = 14.0;
const AXIS_H: f64 = 30.0;
const PHASE_ROW: f64 = 15.0;
const LANE_H: f64 = 36.0;
/// The width of a folded gap, and the least width of a stretch of activity.
const GAP_W: f64 = 30.0;
const MIN_CLUSTER_W: f64 = 80.0;
/// At most this many gaps are folded (the largest ones).
const MAX_GAPS: usize = 5;
/// The width of a pin's flag.
const FLAG_W: f64 = 15.0;
/// Ticks at least this far apart.
const TICK_SPACING: f64 = 95.0;

/// A host's lane.
pub struct Lane {
    pub host: String,
    pub role: HostRole,
}

/// One phase of the device.
pub struct PhaseBar {
    pub id: PhaseId,
    pub status: PhaseStatus,
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    /// Tooltip: the phase, its status and why.
    pub title: String,
    /// The id of the element with its details (its row of the phase table).
    pub detail: String,
}

/// A flow event on its host's lane. Its tooltip is made from its row when the pointer first reaches it
/// (the script): a fleet's page holds thousands of marks.
pub struct Mark {
    pub lane: usize,
    pub time_ms: i64,
    pub severity: Severity,
    /// Its time was corrected for the host's clock skew.
    pub skewed: bool,
    pub detail: String,
}

/// A finding pinned at one of its evidence lines.
pub struct Pin {
    pub lane: usize,
    pub time_ms: i64,
    pub severity: Severity,
    /// The finding's number on the device's page (shown on the pin).
    pub number: usize,
    pub title: String,
    pub detail: String,
}

pub struct Swimlane {
    pub lanes: Vec<Lane>,
    pub phases: Vec<PhaseBar>,
    pub marks: Vec<Mark>,
    pub pins: Vec<Pin>,
}

/// What a host does in the flow, as a lane label says it.
pub fn role_label(role: HostRole) -> &'static str {
    match role {
        HostRole::Client => "client",
        HostRole::Cmg => "CMG",
        HostRole::ConnectionPoint => "CMG connection point",
        HostRole::ManagementPoint => "management point",
        HostRole::Unknown => "other logs",
    }
}

impl Swimlane {
    /// The SVG of the swimlane, with `label` (who the device is) for its accessible name.
    pub fn write_svg(&self, label: &str, out: &mut String) {
        let phases_top = AXIS_H + 4.0;
        let lanes_top = phases_top + PHASE_ROW * self.phases.len() as f64 + 10.0;
        let height = lanes_top + LANE_H * self.lanes.len() as f64 + 6.0;
        let hosts: Vec<&str> = self.lanes.iter().map(|l| l.host.as_str()).collect();
        let _ = write!(
            out,
            "<svg class=\"swim\" viewBox=\"0 0 {WIDTH} {height}\" width=\"{WIDTH}\" height=\"{height}\" \
             role=\"img\" aria-label=\"Swimlane of {}: {} host(s), {} event(s)\">",
            attr(label),
            self.lanes.len(),
            self.marks.len()
        );
        let _ = write!(out, "<title>{}</title>", esc(&format!("Hosts: {}", hosts.join(", "))));
        // Lane backgrounds first: the grid and the folded gaps show through every lane, under the marks.
        for i in 0..self.lanes.len() {
            let _ = write!(
                out,
                "<rect class=\"lb{}\" x=\"0\" y=\"{}\" width=\"{WIDTH}\" height=\"{LANE_H}\"/>",
                if i % 2 == 1 { " alt" } else { "" },
                N(lanes_top + LANE_H * i as f64)
            );
        }
        let scale = TimeScale::new(self.times(), GUTTER, WIDTH - RIGHT_PAD);
        if let Some(scale) = &scale {
            scale.write_axis(height, out);
        } else {
            let _ = write!(
                out,
                "<text class=\"note\" x=\"{GUTTER}\" y=\"18\">No line of this device has a time: nothing to \
                 place on the axis</text>"
            );
        }
        for (row, phase) in self.phases.iter().enumerate() {
            write_phase(phase, phases_top + PHASE_ROW * row as f64, scale.as_ref(), out);
        }
        for (i, lane) in self.lanes.iter().enumerate() {
            let top = lanes_top + LANE_H * i as f64;
            self.write_lane(i, lane, top, scale.as_ref(), out);
        }
        out.push_str("</svg>");
    }

    /// Every time the drawing places.
    fn times(&self) -> Vec<i64> {
        let phases = self.phases.iter().flat_map(|p| [p.start_ms, p.end_ms]).flatten();
        let marks = self.marks.iter().map(|m| m.time_ms);
        let pins = self.pins.iter().map(|p| p.time_ms);
        phases.chain(marks).chain(pins).collect()
    }

    fn write_lane(&self, i: usize, lane: &Lane, top: f64, scale: Option<&TimeScale>, out: &mut String) {
        let _ = write!(
            out,
            "<g class=\"lane\" data-host=\"{}\"><text class=\"host\" x=\"8\" y=\"{}\">{}<title>{}</title></text>\
             <text class=\"role\" x=\"8\" y=\"{}\">{}</text>",
            attr(&lane.host),
            N(top + 15.0),
            esc(&clip_chars(&lane.host, 26)),
            esc(&lane.host),
            N(top + 28.0),
            role_label(lane.role)
        );
        if let Some(scale) = scale {
            let mid = top + LANE_H / 2.0 + 5.0;
            for m in self.marks.iter().filter(|m| m.lane == i) {
                write_mark(m, scale.x(m.time_ms), mid, out);
            }
            // One pin per finding and place; flags side by side where findings meet.
            let mut pins: Vec<(f64, &Pin)> =
                self.pins.iter().filter(|p| p.lane == i).map(|p| (scale.x(p.time_ms), p)).collect();
            pins.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.number.cmp(&b.1.number)));
            let mut drawn: Vec<(f64, usize)> = Vec::new();
            let mut flag_end = f64::MIN;
            for (x, p) in pins {
                if drawn.iter().any(|&(dx, n)| n == p.number && (dx - x).abs() < 3.0) {
                    continue;
                }
                let flag = x.max(flag_end + 1.0);
                write_pin(p, x, flag, top, out);
                drawn.push((x, p.number));
                flag_end = flag + FLAG_W;
            }
        }
        out.push_str("</g>");
    }
}

fn write_phase(phase: &PhaseBar, top: f64, scale: Option<&TimeScale>, out: &mut String) {
    let class = phase_class(phase.status);
    let word = super::super::status_word(phase.status);
    let _ = write!(
        out,
        "<g class=\"phase {class}\" data-d=\"{}\" tabindex=\"0\"><title>{}</title><text class=\"pid\" x=\"8\" \
         y=\"{}\">{}</text>",
        attr(&phase.detail),
        esc(&phase.title),
        N(top + 11.0),
        phase.id.as_str()
    );
    let span = match (phase.start_ms, phase.end_ms) {
        (Some(s), Some(e)) => Some((s.min(e), s.max(e))),
        (Some(t), None) | (None, Some(t)) => Some((t, t)),
        (None, None) => None,
    };
    match (span, scale) {
        (Some((s, e)), Some(scale)) => {
            let (x0, x1) = (scale.x(s), scale.x(e));
            let w = (x1 - x0).max(3.0);
            let _ = write!(
                out,
                "<rect class=\"bar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"10\"/>",
                N(x0),
                N(top + 2.5),
                N(w)
            );
            // The status beside the bar: on its right, or on its left when the bar reaches the end.
            let (x, anchor) = if x0 + w + 90.0 < WIDTH - RIGHT_PAD {
                (x0 + w + 4.0, "")
            } else {
                (x0 - 4.0, " text-anchor=\"end\"")
            };
            let _ = write!(
                out,
                "<text class=\"st\" x=\"{}\" y=\"{}\"{anchor}>{word}</text>",
                N(x),
                N(top + 11.0)
            );
        }
        _ => {
            let _ = write!(
                out,
                "<text class=\"st untimed\" x=\"{}\" y=\"{}\">{word} · no time</text>",
                N(GUTTER + 4.0),
                N(top + 11.0)
            );
        }
    }
    out.push_str("</g>");
}

fn write_mark(m: &Mark, x: f64, y: f64, out: &mut String) {
    let shape = match m.severity {
        // A square for errors, a diamond for warnings, a dot for the rest: the shape says it without colour.
        Severity::Error => format!("M{} {}h9v9h-9z", N(x - 4.5), N(y - 4.5)),
        Severity::Warning => format!("M{} {}l5.5 5.5l-5.5 5.5l-5.5-5.5z", N(x), N(y - 5.5)),
        Severity::Info => format!("M{} {}a4 4 0 1 0 8 0a4 4 0 1 0-8 0z", N(x - 4.0), N(y)),
    };
    let _ = write!(
        out,
        "<path class=\"m {}{}\" d=\"{shape}\" data-d=\"{}\"/>",
        severity_class(m.severity),
        if m.skewed { " sk" } else { "" },
        attr(&m.detail),
    );
}

/// A pin: a line at its time, a numbered flag at `flag` (right of the line, or further right when another
/// flag is there).
fn write_pin(p: &Pin, x: f64, flag: f64, top: f64, out: &mut String) {
    let _ = write!(
        out,
        "<g class=\"pin {}\" data-d=\"{}\" data-x=\"{x}\" tabindex=\"0\"><title>{}</title>\
         <line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\"/><rect x=\"{}\" y=\"{}\" width=\"{FLAG_W}\" \
         height=\"11\"/><text x=\"{}\" y=\"{}\">{}</text></g>",
        severity_class(p.severity),
        attr(&p.detail),
        esc(&p.title),
        N(top + 2.0),
        N(top + LANE_H - 4.0),
        N(flag),
        N(top + 2.0),
        N(flag + FLAG_W / 2.0),
        N(top + 10.5),
        p.number,
        x = N(x),
    );
}

/// A coordinate as written: to a tenth of a unit, without a trailing `.0`.
struct N(f64);

impl std::fmt::Display for N {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // An integer over ten is the nearest double to its decimal: it prints as that decimal.
        write!(f, "{}", (self.0 * 10.0).round() / 10.0)
    }
}

/// `s` cut to `max` characters with an ellipsis.
fn clip_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut cut: String = s.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

/// A piece of the axis: a stretch of activity drawn to scale, or a folded gap.
#[derive(Debug, Clone, PartialEq)]
struct Segment {
    t0: i64,
    t1: i64,
    x0: f64,
    x1: f64,
    folded: bool,
}

/// UTC milliseconds to x, piecewise linear: stretches of activity to scale, the largest idle gaps folded
/// to `GAP_W` each.
#[derive(Debug)]
struct TimeScale {
    segments: Vec<Segment>,
}

impl TimeScale {
    /// The scale for `times` over `x0..x1`; `None` when there is no time.
    fn new(mut times: Vec<i64>, x0: f64, x1: f64) -> Option<TimeScale> {
        times.sort_unstable();
        times.dedup();
        let (first, last) = (*times.first()?, *times.last()?);
        let clusters = clusters(&times, last - first);
        let padded: Vec<(i64, i64)> = clusters
            .iter()
            .map(|&(a, b)| {
                let pad = ((b - a) / 30).max(500);
                (a - pad, b + pad)
            })
            .collect();
        let gaps = padded.len() - 1;
        let room = (x1 - x0) - GAP_W * gaps as f64;
        let total: i64 = padded.iter().map(|(a, b)| b - a).sum();
        let spare = (room - MIN_CLUSTER_W * padded.len() as f64).max(0.0);
        let mut segments = Vec::with_capacity(padded.len() * 2);
        let mut x = x0;
        for (i, &(a, b)) in padded.iter().enumerate() {
            if i > 0 {
                let prev_end = padded[i - 1].1;
                segments.push(Segment { t0: prev_end, t1: a, x0: x, x1: x + GAP_W, folded: true });
                x += GAP_W;
            }
            let w =
                MIN_CLUSTER_W.min(room / padded.len() as f64) + spare * (b - a) as f64 / total.max(1) as f64;
            segments.push(Segment { t0: a, t1: b, x0: x, x1: x + w, folded: false });
            x += w;
        }
        Some(TimeScale { segments })
    }

    fn x(&self, t: i64) -> f64 {
        let first = &self.segments[0];
        if t <= first.t0 {
            return first.x0;
        }
        for s in &self.segments {
            if t <= s.t1 {
                let span = (s.t1 - s.t0).max(1) as f64;
                return s.x0 + (s.x1 - s.x0) * (t - s.t0) as f64 / span;
            }
        }
        self.segments.last().map_or(first.x1, |s| s.x1)
    }

    /// Tick labels and grid lines (each stretch has its own ticks), and the folded gaps with their length.
    fn write_axis(&self, height: f64, out: &mut String) {
        let _ = write!(out, "<text class=\"axis-name\" x=\"8\" y=\"18\">UTC</text>");
        let mut last_date = None;
        // Every grid line in one path.
        let mut grid = String::new();
        for (i, s) in self.segments.iter().enumerate() {
            if s.folded {
                let _ = write!(
                    out,
                    "<rect class=\"gap\" x=\"{}\" y=\"{AXIS_H}\" width=\"{}\" height=\"{}\"><title>{idle} \
                     without activity, folded</title></rect><text class=\"gapt\" x=\"{mid}\" y=\"{middle}\" \
                     transform=\"rotate(-90 {mid} {middle})\">{idle} idle</text>",
                    N(s.x0),
                    N(s.x1 - s.x0),
                    N(height - AXIS_H - 6.0),
                    idle = span_words(s.t1 - s.t0),
                    mid = N((s.x0 + s.x1) / 2.0),
                    middle = N((AXIS_H + height) / 2.0),
                );
                continue;
            }
            let step = tick_step(s.t1 - s.t0, s.x1 - s.x0);
            let right_room: f64 = if i + 1 < self.segments.len() { 50.0 } else { 30.0 };
            let mut t = (s.t0 + step - 1).div_euclid(step) * step;
            while t <= s.t1 {
                let x = self.x(t);
                if x <= s.x1 - right_room.min((s.x1 - s.x0) / 2.0) || s.x1 - s.x0 < 60.0 {
                    let label = tick_label(t, step, &mut last_date);
                    let _ = write!(grid, "M{} {}V{}", N(x), N(AXIS_H - 6.0), N(height));
                    let _ = write!(out, "<text class=\"tick\" x=\"{}\" y=\"18\">{label}</text>", N(x));
                }
                t += step;
            }
        }
        if !grid.is_empty() {
            let _ = write!(out, "<path class=\"grid\" d=\"{grid}\"/>");
        }
    }
}

/// Stretches of activity: the times split at the largest gaps that are longer than 5 minutes and a tenth
/// of the whole span (at most `MAX_GAPS` of them).
fn clusters(times: &[i64], span: i64) -> Vec<(i64, i64)> {
    let threshold = (5 * 60_000).max(span / 10);
    let mut gaps: Vec<(i64, usize)> = times
        .windows(2)
        .enumerate()
        .filter(|(_, w)| w[1] - w[0] > threshold)
        .map(|(i, w)| (w[1] - w[0], i + 1))
        .collect();
    gaps.sort_unstable_by_key(|g| std::cmp::Reverse(g.0));
    let mut cuts: Vec<usize> = gaps.iter().take(MAX_GAPS).map(|g| g.1).collect();
    cuts.sort_unstable();
    let mut out = Vec::with_capacity(cuts.len() + 1);
    let mut start = 0;
    for cut in cuts.into_iter().chain([times.len()]) {
        out.push((times[start], times[cut - 1]));
        start = cut;
    }
    out
}

/// The tick step (ms) for `span_ms` over `width` units: the smallest round step with ticks
/// `TICK_SPACING` apart.
fn tick_step(span_ms: i64, width: f64) -> i64 {
    const STEPS: [i64; 27] = [
        1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000,
        300_000, 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000,
        86_400_000,
    ];
    let wanted = span_ms as f64 * TICK_SPACING / width.max(1.0);
    STEPS.iter().copied().find(|&s| s as f64 >= wanted).unwrap_or_else(|| {
        let days = (wanted / 86_400_000.0).ceil() as i64;
        days.max(1) * 86_400_000
    })
}

/// A tick's label: as precise as its step, with the date when it is the first or the date changed.
fn tick_label(t: i64, step: i64, last_date: &mut Option<String>) -> String {
    let Some(dt) = DateTime::from_timestamp_millis(t) else {
        return String::new();
    };
    let time = if step < 1_000 {
        dt.format("%H:%M:%S%.3f")
    } else if step < 60_000 {
        dt.format("%H:%M:%S")
    } else {
        dt.format("%H:%M")
    }
    .to_string();
    let date = dt.format("%m-%d").to_string();
    if last_date.as_deref() == Some(date.as_str()) {
        time
    } else {
        *last_date = Some(date.clone());
        format!("{date} {time}")
    }
}

/// A length of time in words: `7h55m`, `12m`, `40s`.
pub fn span_words(ms: i64) -> String {
    let s = ms / 1000;
    if s >= 86_400 {
        format!("{}d{}h", s / 86_400, (s % 86_400) / 3600)
    } else if s >= 3600 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    #[test]
    fn an_idle_gap_is_folded_and_the_scale_keeps_order() {
        // Install at 0..8 min, renewal eight hours later.
        let times = vec![0, 2 * MIN, 8 * MIN, 480 * MIN, 480 * MIN + 2_000];
        let scale = TimeScale::new(times.clone(), 190.0, 1186.0).expect("times");
        let folded: Vec<&Segment> = scale.segments.iter().filter(|s| s.folded).collect();
        assert_eq!(folded.len(), 1);
        assert!((folded[0].x1 - folded[0].x0 - GAP_W).abs() < 1e-9);
        let xs: Vec<f64> = times.iter().map(|&t| scale.x(t)).collect();
        assert!(xs.windows(2).all(|w| w[0] < w[1]), "{xs:?}");
        assert!(xs[0] >= 190.0 && xs[4] <= 1186.0, "{xs:?}");
        // The short renewal stretch still gets room to be seen.
        let last = scale.segments.last().unwrap();
        assert!(last.x1 - last.x0 >= MIN_CLUSTER_W - 1e-9);
    }

    #[test]
    fn one_time_and_no_time() {
        let scale = TimeScale::new(vec![5_000, 5_000], 0.0, 100.0).expect("a time");
        assert_eq!(scale.segments.len(), 1);
        assert!((scale.x(5_000) - 50.0).abs() < 1.0);
        assert!(TimeScale::new(Vec::new(), 0.0, 100.0).is_none());
    }

    #[test]
    fn steady_activity_is_not_folded() {
        let times: Vec<i64> = (0..100).map(|i| i * 4 * MIN).collect();
        assert_eq!(clusters(&times, 396 * MIN).len(), 1);
        // At most MAX_GAPS folds, the largest ones.
        let bursts: Vec<i64> = (0..10).map(|i| i * i * 60 * MIN).collect();
        assert_eq!(clusters(&bursts, 81 * 60 * MIN).len(), MAX_GAPS + 1);
    }

    #[test]
    fn ticks_are_round_and_labelled_with_the_date_once() {
        assert_eq!(tick_step(60 * MIN, 950.0), 10 * MIN);
        assert_eq!(tick_step(800, 950.0), 100);
        let mut date = None;
        assert_eq!(tick_label(0, 60_000, &mut date), "01-01 00:00");
        assert_eq!(tick_label(60_000, 60_000, &mut date), "00:01");
        assert_eq!(span_words(7 * 3_600_000 + 55 * MIN), "7h55m");
    }
}
