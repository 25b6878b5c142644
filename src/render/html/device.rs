//! One device in full: who it is, its swimlane (drawn by `swimlane` from its phases, its flow events and its
//! findings' evidence lines), its phase table, its findings (`findings`) and the table of its flow events
//! that the swimlane's marks point at; and the legend that says how to read a swimlane.

use std::fmt::Write as _;

use cmtrace_analysis::model::{Device, Finding};
use cmtrace_parsers::{HostRole, Severity};

use super::findings::{block_ids, Shown};
use super::swimlane::{role_label, Lane, Mark, PhaseBar, Pin, Swimlane};
use super::*;

impl<'a> Page<'a> {
    /// A device in full: who it is, its swimlane, phases, findings and flow events.
    pub(super) fn device_detail(&self, d: &Device, n: usize) -> String {
        let mut out = String::with_capacity(16 * 1024);
        let (class, word) = device_status(self.listing.worst.get(d.key.as_str()).copied());
        let _ = write!(
            out,
            "<section class=\"device {class}\" id=\"d{n}\" data-row=\"r{n}\" data-key=\"{}\"><h3><span \
             class=\"badge {class}\">{word}</span> Device {}</h3><p class=\"ids\">{}</p>",
            attr(&d.key),
            esc(&device_title(d)),
            self.id_line(d)
        );
        let findings = self.findings.get(d.key.as_str()).map_or(&[][..], Vec::as_slice);
        let events = self.device_events(d);
        self.write_swimlane(d, n, findings, &events, &mut out);
        self.phase_table(d, n, &mut out);
        if !findings.is_empty() {
            let _ = write!(out, "<h4>Findings ({})</h4>", findings.len());
            let mut shown = Shown::new();
            for (k, f) in findings.iter().enumerate() {
                self.finding(f, &format!("d{n}-f{}", k + 1), k + 1, false, &mut shown, &mut out);
            }
        }
        self.event_table(d, n, &events, &mut out);
        out.push_str("</section>");
        out
    }

    pub(super) fn id_line(&self, d: &Device) -> String {
        let mut ids = Vec::new();
        for (what, list) in [
            ("SMS client", d.client_ids()),
            ("Entra device", d.aad_device_ids()),
            ("tenant", d.aad_tenant_ids()),
            ("Entra user", d.aad_user_ids()),
            ("SID", d.sids()),
        ] {
            if !list.is_empty() {
                ids.push(format!("{what}: <code>{}</code>", esc(&list.join(", "))));
            }
        }
        let hosts: Vec<String> =
            d.hosts().iter().map(|h| format!("{} ({})", esc(h), role_label(self.role(h)))).collect();
        ids.push(format!("hosts: {}", hosts.join(", ")));
        ids.push(format!("path: {}", path_label(d.path)));
        ids.join(" · ")
    }

    /// The device's timeline entries shown: all of them up to `MAX_DEVICE_EVENTS`, else its warnings and
    /// errors first, then the rest in time order; and how many were left out.
    pub(super) fn device_events(&self, d: &Device) -> (Vec<usize>, usize) {
        let all = self.index.events.get(d.key.as_str()).map_or(&[][..], Vec::as_slice);
        if all.len() <= MAX_DEVICE_EVENTS {
            return (all.to_vec(), 0);
        }
        let tl = &self.report.timeline;
        let (loud, quiet): (Vec<usize>, Vec<usize>) =
            all.iter().partition(|&&i| tl.event(i).severity != Severity::Info);
        let mut kept: Vec<usize> = loud.into_iter().chain(quiet).take(MAX_DEVICE_EVENTS).collect();
        kept.sort_unstable();
        (kept, all.len() - MAX_DEVICE_EVENTS)
    }

    /// Lanes in role order: the device's client hosts first, then CMG, connection point, management point,
    /// then any other host its lines or findings name.
    pub(super) fn lanes(&self, d: &Device, events: &[usize], findings: &[&Finding]) -> Vec<Lane> {
        let mut hosts: Vec<&str> = d.hosts().iter().map(|h| h.as_str()).collect();
        let tl = &self.report.timeline;
        let more = events
            .iter()
            .map(|&i| tl.get(i).host)
            .chain(findings.iter().flat_map(|f| f.evidence.iter().map(|e| &*e.host)));
        for h in more {
            if !hosts.contains(&h) {
                hosts.push(h);
            }
        }
        let client_rank = |h: &str| d.client_hosts().iter().position(|c| c == h).unwrap_or(usize::MAX);
        hosts.sort_by_key(|h| {
            let role = if client_rank(h) < usize::MAX { HostRole::Client } else { self.role(h) };
            (role, client_rank(h), h.to_string())
        });
        hosts
            .into_iter()
            .map(|h| Lane {
                host: h.to_string(),
                role: if d.client_hosts().iter().any(|c| c == h) { HostRole::Client } else { self.role(h) },
            })
            .collect()
    }

    /// The swimlane of a device (`n`: its number on the page) and a note for the events it does not place.
    pub(super) fn write_swimlane(
        &self,
        d: &Device,
        n: usize,
        findings: &[&Finding],
        (events, left_out): &(Vec<usize>, usize),
        out: &mut String,
    ) {
        let lanes = self.lanes(d, events, findings);
        let lane_of = |h: &str| lanes.iter().position(|l| l.host == h);
        let phases = d
            .phases
            .iter()
            .enumerate()
            .map(|(k, p)| PhaseBar {
                id: p.id,
                status: p.status,
                start_ms: p.start.map(|t| t.timestamp_millis()),
                end_ms: p.end.map(|t| t.timestamp_millis()),
                title: format!("{}: {}", phase_label(p.id), status_word(p.status)),
                detail: format!("d{n}-p{k}"),
            })
            .collect();
        let marks = self.marks(n, events, &lane_of);
        let untimed = events.len() - marks.len();
        let pins = self.pins(n, findings, &lane_of);
        let swim = Swimlane { lanes, phases, marks, pins };
        out.push_str("<figure class=\"swimwrap\">");
        swim.write_svg(&device_title(d), out);
        out.push_str("<div class=\"panel\" hidden></div></figure>");
        let mut notes = Vec::new();
        if untimed > 0 {
            notes.push(format!("{untimed} event(s) without a readable time are in the table below only"));
        }
        if *left_out > 0 {
            notes.push(format!(
                "{left_out} more informational event(s) of this device are left out: <code>cmtrace-rs trace \
                 {}</code> lists them all",
                esc(&d.key)
            ));
        }
        if !notes.is_empty() {
            let _ = write!(out, "<p class=\"note\">{}.</p>", notes.join("; "));
        }
    }

    /// A mark per event with a time, on its host's lane; each names its row of the event table.
    fn marks(&self, n: usize, events: &[usize], lane_of: &dyn Fn(&str) -> Option<usize>) -> Vec<Mark> {
        let tl = &self.report.timeline;
        let mut marks = Vec::with_capacity(events.len());
        for (k, &i) in events.iter().enumerate() {
            let e = tl.get(i);
            if let (Some(t), Some(lane)) = (e.time, lane_of(e.host)) {
                marks.push(Mark {
                    lane,
                    time_ms: t.timestamp_millis(),
                    severity: e.severity,
                    skewed: e.skew_correction_ms != 0,
                    detail: format!("d{n}-e{k}"),
                });
            }
        }
        marks
    }

    /// A pin per cited line with a time, numbered as its finding; each names its evidence block.
    fn pins(&self, n: usize, findings: &[&Finding], lane_of: &dyn Fn(&str) -> Option<usize>) -> Vec<Pin> {
        let mut pins = Vec::new();
        for (k, f) in findings.iter().enumerate() {
            let block_of = block_ids(&f.evidence);
            for (j, e) in f.evidence.iter().enumerate() {
                let time = self.cited_time(e).map(|t| t.timestamp_millis());
                if let (Some(t), Some(lane)) = (time, lane_of(&e.host)) {
                    pins.push(Pin {
                        lane,
                        time_ms: t,
                        severity: f.severity,
                        number: k + 1,
                        title: format!("Finding {} {}: {}:{}", k + 1, f.rule, file_name(&e.path), e.line),
                        detail: format!("d{n}-f{}-{}", k + 1, block_of[j]),
                    });
                }
            }
        }
        pins
    }

    pub(super) fn phase_table(&self, d: &Device, n: usize, out: &mut String) {
        out.push_str(
            "<h4>Phases</h4><table class=\"phases\"><thead><tr><th>Phase</th><th>Status</th><th>Start (UTC)</th>\
             <th>Took</th><th>Why</th></tr></thead><tbody>",
        );
        for (k, p) in d.phases.iter().enumerate() {
            let _ = write!(
                out,
                "<tr id=\"d{n}-p{k}\" class=\"{cls}\"><td><code>{}</code> {}</td><td><span class=\"badge {cls}\">\
                 {}</span></td><td>{}</td><td>{}</td><td>{}",
                p.id.as_str(),
                phase_label(p.id),
                status_word(p.status),
                utc(&p.start),
                duration(p),
                esc(&p.reason),
                cls = phase_class(p.status),
            );
            out.push_str("</td></tr>");
        }
        out.push_str("</tbody></table>");
    }

    /// The device's flow events: UTC (and the skew correction), the time as written, host, event, line and
    /// text. Collapsed on screen, open in print; the swimlane's marks point at its rows.
    pub(super) fn event_table(
        &self,
        d: &Device,
        n: usize,
        (events, _): &(Vec<usize>, usize),
        out: &mut String,
    ) {
        let _ = write!(
            out,
            "<details class=\"events\"><summary>Flow events of {} ({})</summary><table class=\"events\"><thead>\
             <tr><th>UTC</th><th>Local time as written</th><th>Host</th><th>Event</th><th>Line</th><th>Text</th>\
             </tr></thead><tbody>",
            esc(&d.key),
            events.len()
        );
        for (k, &i) in events.iter().enumerate() {
            self.event_row(i, &format!("d{n}-e{k}"), false, out);
        }
        out.push_str("</tbody></table></details>");
    }

    pub(super) fn event_row(&self, i: usize, id: &str, with_device: bool, out: &mut String) {
        let tl = &self.report.timeline;
        let (t, ev) = (tl.get(i), tl.event(i));
        let class = match t.severity {
            Severity::Info => String::new(),
            s => format!(" class=\"{}\"", severity_class(s)),
        };
        let _ = write!(out, "<tr id=\"{id}\"{class}><td>{}", utc(&t.time));
        if t.skew_correction_ms != 0 {
            let _ = write!(
                out,
                " <span class=\"skew\" title=\"the host's clock read {}\">skew-corrected {}</span>",
                utc(&ev.time()),
                signed_span(t.skew_correction_ms)
            );
        }
        let _ = write!(
            out,
            "</td><td>{}</td><td>{}</td><td>{}{}{}</td><td><code class=\"loc\">{}:{}</code></td><td>{}</td></tr>",
            local_written(ev, t.time),
            esc(t.host),
            t.event,
            if t.severity == Severity::Info { String::new() } else { format!(" ({})", t.severity.as_str()) },
            match (with_device, t.device) {
                (true, Some(d)) => format!("<br>device {}", esc(d)),
                _ => String::new(),
            },
            esc(t.path),
            t.line,
            esc(&clip(&t.text.get(), CELL_CHARS))
        );
    }
}

/// How to read a swimlane, once above the device details.
pub(super) fn legend(out: &mut String) {
    out.push_str("<ul class=\"legend\"><li>Phases:</li>");
    for s in [
        PhaseStatus::Ok,
        PhaseStatus::Failed,
        PhaseStatus::Missing,
        PhaseStatus::NotCollected,
        PhaseStatus::NotApplicable,
    ] {
        let _ = write!(
            out,
            "<li><span class=\"sw {}\">{}</span> {}</li>",
            phase_class(s),
            phase_glyph(s),
            s.as_str()
        );
    }
    out.push_str(
        "<li>Events:</li><li><span class=\"mk i\">●</span> info</li><li><span class=\"mk w\">◆</span> warning</li>\
         <li><span class=\"mk e\">■</span> error</li><li><span class=\"mk sk\">◌</span> dashed: time corrected for \
         the host's clock skew</li><li><span class=\"pinsw\">1</span> finding, pinned at its evidence line</li>\
         <li><span class=\"gapsw\"></span> idle time, folded</li><li>Click a mark, bar or pin for its line.</li></ul>",
    );
}
