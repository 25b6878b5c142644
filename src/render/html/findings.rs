//! A finding as the page shows it: what and where, each group of cited lines with the lines around them read
//! again from the file (`context`), the time of each as written and in UTC, the error codes they hold
//! decoded, then why and the fix. A device's page shows the lines around a cited line once: a later finding
//! that cites them again shows the cited lines only.

use std::collections::HashMap;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use cmtrace_analysis::model::{EvidenceOut, Finding};

use super::*;

impl<'a> Page<'a> {
    /// A cited line's time on the timeline (skew-corrected), else as the finding gives it.
    pub(super) fn cited_time(&self, e: &EvidenceOut) -> Option<DateTime<Utc>> {
        match self.cited_events.get(&(&*e.path, e.line)) {
            Some(&i) => self.report.timeline.get(i).time,
            None => e.time,
        }
    }

    /// A finding: what, where, the cited lines in context with their codes decoded, why and the fix.
    /// `shown` holds the lines this device's page already shows in context (with the finding's number).
    pub(super) fn finding(
        &self,
        f: &'a Finding,
        id: &str,
        number: usize,
        site: bool,
        shown: &mut Shown<'a>,
        out: &mut String,
    ) {
        let sev = severity_class(f.severity);
        let _ = write!(
            out,
            "<article class=\"finding {sev}\" id=\"{id}\" data-rule=\"{}\"><h5><span class=\"num\">{number}</span> \
             <span class=\"badge {sev}\">{}</span> <code>{}</code> {}</h5>",
            f.rule,
            f.severity.as_str(),
            f.rule,
            esc(&f.title)
        );
        let mut who = Vec::new();
        if site {
            if let Some(d) = &f.device {
                who.push(format!("device <code>{}</code>", esc(d)));
            }
        }
        if let Some(h) = &f.host {
            who.push(format!("host {}", esc(h)));
        }
        if !f.caused_by.is_empty() {
            who.push(format!("consequence of <code>{}</code>", f.caused_by.join("</code>, <code>")));
        }
        if let Some(c) = f.cause {
            who.push(format!("failure class <code>{c}</code>"));
        }
        if !who.is_empty() {
            let _ = write!(out, "<p class=\"who\">{}</p>", who.join(" · "));
        }
        for group in evidence_groups(&f.evidence) {
            self.evidence(&f.evidence, &group, &format!("{id}-{}", group[0]), number, shown, out);
        }
        let _ = write!(
            out,
            "<h6>What happened</h6><p class=\"prose\">{}</p><h6>Fix</h6><p class=\"prose\">{}</p></article>",
            esc(&f.explanation),
            esc(&f.remediation)
        );
    }

    /// Cited lines of one file that share their context (`evidence_groups`): where and when each was
    /// written (UTC, skew correction, local time as written), the lines around them read again from the
    /// file (only the cited lines when an earlier finding of the page shows their context), and the error
    /// codes they hold, decoded.
    pub(super) fn evidence(
        &self,
        evidence: &'a [EvidenceOut],
        group: &[usize],
        id: &str,
        number: usize,
        shown: &mut Shown<'a>,
        out: &mut String,
    ) {
        let cited: Vec<&EvidenceOut> = group.iter().map(|&j| &evidence[j]).collect();
        let _ = write!(
            out,
            "<div class=\"evidence\" id=\"{id}\"><p class=\"at\">host <b>{}</b></p><ul class=\"cites\">",
            esc(&cited[0].host)
        );
        for e in &cited {
            self.cite_line(e, out);
        }
        out.push_str("</ul>");
        let mut lines: std::collections::BTreeMap<u32, &str> = std::collections::BTreeMap::new();
        let mut unavailable = Vec::new();
        for e in &cited {
            match self.contexts.get(&e.path, e.line) {
                Some(Ok(x)) => {
                    lines.extend(x.lines.iter().map(|(n, t)| (*n, t.as_str())));
                    if x.changed {
                        unavailable.push((
                            *e,
                            "this line no longer holds the message read from it: the file changed since",
                        ));
                    }
                }
                Some(Err(why)) => unavailable.push((*e, why.as_str())),
                None => unavailable.push((*e, "the file was not read again")),
            }
        }
        let earlier =
            cited.iter().map(|e| shown.get(&(&*e.path, e.line)).copied()).collect::<Option<Vec<_>>>();
        let earlier = earlier.and_then(|v| v.into_iter().min()).filter(|&k| k != number);
        if earlier.is_some() {
            lines.retain(|n, _| cited.iter().any(|e| e.line == *n));
        }
        for e in &cited {
            shown.entry((&*e.path, e.line)).or_insert(number);
        }
        if !lines.is_empty() {
            out.push_str("<pre class=\"ctx\">");
            for (n, line) in &lines {
                // A marked line is a block: its line break goes inside it.
                let (open, close) =
                    if cited.iter().any(|e| e.line == *n) { ("<mark>", "</mark>") } else { ("", "") };
                let _ = write!(out, "{open}<span class=\"ln\">{n:>6}</span> {}\n{close}", esc(line));
            }
            out.push_str("</pre>");
        }
        if let Some(k) = earlier {
            let _ = write!(out, "<p class=\"note\">The lines around are shown with finding {k} above.</p>");
        }
        for (e, why) in unavailable {
            let _ = write!(
                out,
                "<p class=\"note\">Context not available for line {}: {}. The message as read:</p><pre \
                 class=\"ctx\"><mark>{}</mark></pre>",
                e.line,
                esc(why),
                esc(&e.text.get())
            );
        }
        let mut notes: Vec<String> = Vec::new();
        for e in &cited {
            for note in (self.opts.code_notes)(&e.text.get()) {
                if !notes.contains(&note) {
                    notes.push(note);
                }
            }
        }
        if !notes.is_empty() {
            out.push_str("<ul class=\"codes\">");
            for note in notes {
                let _ = write!(out, "<li>{}</li>", esc(&note));
            }
            out.push_str("</ul>");
        }
        out.push_str("</div>");
    }

    /// One cited line: `path:line`, its UTC time (with the skew correction) and the time as written.
    pub(super) fn cite_line(&self, e: &EvidenceOut, out: &mut String) {
        let tl = &self.report.timeline;
        let event = self.cited_events.get(&(&*e.path, e.line)).map(|&i| (tl.get(i), tl.event(i)));
        let _ = write!(
            out,
            "<li><code class=\"loc\">{}:{}</code> · <span class=\"utc\">{}</span>",
            esc(&e.path),
            e.line,
            utc(&self.cited_time(e))
        );
        if let Some((t, ev)) = &event {
            if t.skew_correction_ms != 0 {
                let _ = write!(
                    out,
                    " <span class=\"skew\">skew-corrected by {} (the host's clock read {})</span>",
                    signed_span(t.skew_correction_ms),
                    utc(&ev.evidence.time)
                );
            }
            let _ =
                write!(out, " · local as written <span class=\"local\">{}</span>", local_written(ev, t.time));
        }
        out.push_str("</li>");
    }
}

/// The cited lines a page already shows in context, with the number of the finding that shows them.
pub(super) type Shown<'a> = HashMap<(&'a str, u32), usize>;

/// The cited lines of a finding that share their context: consecutive ones of one file, each at most
/// `2 * RADIUS + 1` lines after the one before (indices into `evidence`).
fn evidence_groups(evidence: &[EvidenceOut]) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (j, e) in evidence.iter().enumerate() {
        let joins = groups.last().and_then(|g| g.last()).is_some_and(|&k| {
            let prev = &evidence[k];
            prev.path == e.path && e.line >= prev.line && e.line - prev.line <= 2 * context::RADIUS + 1
        });
        match groups.last_mut() {
            Some(g) if joins => g.push(j),
            _ => groups.push(vec![j]),
        }
    }
    groups
}

/// For each cited line of a finding, the index of the first line of its group (the block's id).
pub(super) fn block_ids(evidence: &[EvidenceOut]) -> Vec<usize> {
    let mut ids = vec![0; evidence.len()];
    for g in evidence_groups(evidence) {
        for &j in &g {
            ids[j] = g[0];
        }
    }
    ids
}
