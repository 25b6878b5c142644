//! A finding as the page shows it: what and where, each group of cited lines with the lines around them read
//! again from the file (`context`), the time of each as written and in UTC, the error codes they hold
//! decoded, then why and the fix. A device's page shows the lines around a cited line once: a later finding
//! that cites them again shows the cited lines only.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use cmtrace_analysis::model::{EvidenceOut, Finding};

use super::*;

impl<'a> Page<'a> {
    /// A cited line's time on the timeline (skew-corrected), else as the finding gives it.
    pub(super) fn cited_time(&self, e: &EvidenceOut) -> Option<DateTime<Utc>> {
        match self.index.cited_events.get(&(&*e.path, e.line)) {
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
        let (mut lines, problems) = self.excerpt(&cited);
        // Shown with an earlier finding of the page: the cited lines only.
        let earlier =
            cited.iter().map(|e| shown.get(&(&*e.path, e.line)).copied()).collect::<Option<Vec<_>>>();
        let earlier = earlier.and_then(|v| v.into_iter().min()).filter(|&k| k != number);
        if earlier.is_some() {
            lines.retain(|n, _| cited.iter().any(|e| e.line == *n));
        }
        for e in &cited {
            shown.entry((&*e.path, e.line)).or_insert(number);
        }
        write_excerpt(&lines, &cited, out);
        if let Some(k) = earlier {
            let _ = write!(out, "<p class=\"note\">The lines around are shown with finding {k} above.</p>");
        }
        for (e, problem) in problems {
            let _ = write!(
                out,
                "<p class=\"note\">{problem}. The message as read:</p><pre class=\"ctx\"><mark>{}</mark></pre>",
                esc(&e.text.get())
            );
        }
        self.write_codes(&cited, out);
        out.push_str("</div>");
    }

    /// The lines around the cited lines, by number, and the cited lines whose context is not available or
    /// changed, with a sentence that says so.
    fn excerpt<'e>(
        &'e self,
        cited: &[&'e EvidenceOut],
    ) -> (BTreeMap<u32, &'e str>, Vec<(&'e EvidenceOut, String)>) {
        let mut lines = BTreeMap::new();
        let mut problems = Vec::new();
        for e in cited {
            let problem = match self.contexts.get(&e.path, e.line) {
                Some(Ok(x)) => {
                    lines.extend(x.lines.iter().map(|(n, t)| (*n, t.as_str())));
                    let changed = "no longer holds the message read from it: the file changed since";
                    x.changed.then(|| format!("Line {} {changed}", e.line))
                }
                Some(Err(why)) => Some(format!("Context not available for line {}: {}", e.line, esc(why))),
                None => Some(format!("Context not available for line {}", e.line)),
            };
            problems.extend(problem.map(|p| (*e, p)));
        }
        (lines, problems)
    }

    /// The error codes the cited lines hold, decoded, each once.
    fn write_codes(&self, cited: &[&EvidenceOut], out: &mut String) {
        let mut notes: Vec<String> = Vec::new();
        for e in cited {
            for note in (self.opts.code_notes)(&e.text.get()) {
                if !notes.contains(&note) {
                    notes.push(note);
                }
            }
        }
        if notes.is_empty() {
            return;
        }
        out.push_str("<ul class=\"codes\">");
        for note in notes {
            let _ = write!(out, "<li>{}</li>", esc(&note));
        }
        out.push_str("</ul>");
    }

    /// One cited line: `path:line`, its UTC time (with the skew correction) and the time as written.
    pub(super) fn cite_line(&self, e: &EvidenceOut, out: &mut String) {
        let tl = &self.report.timeline;
        let event = self.index.cited_events.get(&(&*e.path, e.line)).map(|&i| (tl.get(i), tl.event(i)));
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
                    utc(&ev.time())
                );
            }
            let _ =
                write!(out, " · local as written <span class=\"local\">{}</span>", local_written(ev, t.time));
        }
        out.push_str("</li>");
    }
}

/// Lines of a file with their numbers, the cited ones marked.
fn write_excerpt(lines: &BTreeMap<u32, &str>, cited: &[&EvidenceOut], out: &mut String) {
    if lines.is_empty() {
        return;
    }
    out.push_str("<pre class=\"ctx\">");
    for (n, line) in lines {
        // A marked line is a block: its line break goes inside it.
        let (open, close) = if cited.iter().any(|e| e.line == *n) { ("<mark>", "</mark>") } else { ("", "") };
        let _ = write!(out, "{open}<span class=\"ln\">{n:>6}</span> {}\n{close}", esc(line));
    }
    out.push_str("</pre>");
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
