//! `evaluate`: the catalog run over an analysis. The checks that need only the analysis run in parallel,
//! the others in catalog order on what the rules before them explained; hits become findings (with the
//! never-silent story of an unexplained failure), merged per rule and device, worst first.

use std::collections::{HashMap, HashSet};

use rayon::prelude::*;

use super::story::failure_story;
use super::{dedup_evidence, Analysis, Check, EvidenceOut, Explained, Finding, Hit, RULES};
use crate::causes;
use crate::index::EventIx;
use cmtrace_parsers::{Severity, SharedStr};

fn evidence_out(a: &Analysis, i: EventIx) -> EvidenceOut {
    EvidenceOut::from(&a.events[i])
}

/// One finding per rule and device (per rule and host for findings without a device), each log line
/// cited once. A finding without a device keeps only the lines that no device's finding of the same rule
/// cites: a connection-point problem seen for a device is reported for that device, not a second time
/// for the site.
fn merge_duplicates(findings: Vec<Finding>) -> Vec<Finding> {
    type Key = (&'static str, Option<String>, Option<String>);
    let mut out: Vec<Finding> = Vec::with_capacity(findings.len());
    let mut index: HashMap<Key, usize> = HashMap::new();
    let mut merged = Vec::new();
    for mut f in findings {
        let key = (f.rule, f.device.clone(), if f.device.is_none() { f.host.clone() } else { None });
        match index.get(&key) {
            Some(&i) => {
                let evidence = std::mem::take(&mut f.evidence);
                out[i].evidence.extend(evidence);
                merged.push(i);
            }
            None => {
                index.insert(key, out.len());
                out.push(f);
            }
        }
    }
    for i in merged {
        out[i].evidence.sort_by(|x, y| (x.time, &x.path, x.line).cmp(&(y.time, &y.path, y.line)));
    }
    let cited_for_devices: HashSet<(&'static str, SharedStr, u32)> = out
        .iter()
        .filter(|f| f.device.is_some())
        .flat_map(|f| f.evidence.iter().map(move |e| (f.rule, e.path.clone(), e.line)))
        .collect();
    out.retain_mut(|f| {
        dedup_evidence(&mut f.evidence);
        if f.device.is_none() && !cited_for_devices.is_empty() {
            f.evidence.retain(|e| !cited_for_devices.contains(&(f.rule, e.path.clone(), e.line)));
        }
        !f.evidence.is_empty()
    });
    out
}

/// Run the catalog over an analysis: findings worst first, then device, rule, first evidence.
pub fn evaluate(a: &Analysis) -> Vec<Finding> {
    // The checks that need only the analysis, all at once; then every rule in catalog order.
    let mut alone: Vec<Option<Vec<Hit>>> = RULES
        .par_iter()
        .map(|rule| match rule.check {
            Check::Alone(check) => Some(check(a)),
            Check::AfterCauses(_) => None,
        })
        .collect();
    let mut explained = Explained::default();
    let mut findings: Vec<Finding> = Vec::new();
    for (rule, alone) in RULES.iter().zip(&mut alone) {
        let hits = match rule.check {
            Check::Alone(_) => alone.take().expect("computed above"),
            Check::AfterCauses(check) => check(a, &explained),
        };
        for hit in hits {
            if hit.evidence.is_empty() {
                continue;
            }
            if let Some(d) = hit.device {
                if rule.symptom
                    && !hit.explains.is_empty()
                    && hit.explains.iter().all(|p| explained.by(d, *p).is_some())
                {
                    continue;
                }
                let m = explained.by_device.entry(d).or_default();
                for p in &hit.explains {
                    m.entry(*p).or_insert(rule.id);
                }
            }
            let mut evidence: Vec<EventIx> = hit.evidence.clone();
            let mut explanation = format!("{} {}", hit.facts, rule.explanation);
            let mut remediation = rule.remediation.to_string();
            let mut cause = None;
            // Never silent: what the error lines before an unexplained failure show.
            if let (Some(starts), true, Some(d)) = (rule.story, hit.causes.is_empty(), hit.device) {
                if let Some(story) = failure_story(a, starts, d, &hit.evidence) {
                    explanation = format!("{} {} {}", hit.facts, story.summary, rule.explanation);
                    match story.class {
                        // A generic error: the rule's own remediation says more, with how to read the line.
                        Some(c) if c.id == "generic" => remediation = format!("{remediation} {}", c.fix),
                        Some(c) => remediation = c.fix.to_string(),
                        None => {}
                    }
                    cause = story.cause;
                    evidence.extend(story.lines);
                }
            } else if let (Some(starts), Some(d)) = (rule.story, hit.device) {
                // A consequence of a root cause still shows the failure lines of its own attempt; the
                // root-cause finding explains them.
                if let Some(story) = failure_story(a, starts, d, &hit.evidence) {
                    evidence.extend(story.lines);
                }
            }
            if rule.idx_fix_first {
                if let Some(fix) =
                    hit.evidence.iter().find_map(|&i| causes::idx_fix(&a.events[i].evidence.text().get()))
                {
                    remediation = format!("{fix} {remediation}");
                }
            }
            evidence.sort_by_key(|&i| (a.time_ms(i), i));
            evidence.dedup();
            findings.push(Finding {
                rule: rule.id,
                severity: rule.severity,
                title: hit.title.unwrap_or_else(|| rule.title.to_string()),
                device: hit.device.map(|d| a.devices[d].key.to_string()),
                host: hit.host,
                explanation,
                remediation,
                evidence: evidence.iter().map(|&i| evidence_out(a, i)).collect(),
                caused_by: hit.causes,
                cause,
            });
        }
    }
    let mut findings = merge_duplicates(findings);
    let rank = |s: Severity| match s {
        Severity::Error => 0,
        Severity::Warning => 1,
        Severity::Info => 2,
    };
    // Worst first; within a severity and device, in catalog order (root causes before symptoms).
    let order = |id: &str| RULES.iter().position(|r| r.id == id).unwrap_or(usize::MAX);
    findings.sort_by(|x, y| {
        (rank(x.severity), &x.device, order(x.rule), x.evidence.first().map(|e| (&e.path, e.line))).cmp(&(
            rank(y.severity),
            &y.device,
            order(y.rule),
            y.evidence.first().map(|e| (&e.path, e.line)),
        ))
    });
    findings
}

#[cfg(test)]
mod tests {
    use cmtrace_parsers::{LogKind, Severity};

    use super::super::testing::run;
    use super::super::testing::said::{
        exiting, AAD_AUTH_INFO, AAD_INFO, DP, IDX10223, INVALID_CA, NO_CODE, STARTED,
    };
    use super::super::RULES;
    use crate::causes;
    use crate::testkit::{Kit, MIN, SEC};

    // Microsoft's texts (CMG communication errors, Entra ID client install flow, ccmsetup return codes).

    fn rule(id: &str) -> &'static super::super::Rule {
        RULES.iter().find(|r| r.id == id).expect("a rule of the catalog")
    }

    #[test]
    fn a_root_cause_silences_the_symptom_it_explains() {
        // The app info request got no answer (tenant-not-onboarded alone), but the client logged an untrusted
        // root for its TLS connections: that explains it.
        let mut kit = Kit::new();
        kit.said_each(
            "CLIENT01",
            LogKind::Ccmsetup,
            0,
            &[(Severity::Info, AAD_INFO), (Severity::Info, AAD_AUTH_INFO)],
        );
        run(&kit).found("tenant-not-onboarded", "CLIENT01", LogKind::Ccmsetup, AAD_INFO);
        kit.said("CLIENT01", LogKind::CcmMessaging, SEC, Severity::Error, INVALID_CA);
        let o = run(&kit);
        o.found("root-ca-untrusted", "CLIENT01", LogKind::CcmMessaging, INVALID_CA);
        o.none("tenant-not-onboarded");
    }

    #[test]
    fn a_consequence_names_its_root_cause_and_comes_after_it() {
        let mut kit = Kit::new();
        kit.said_each(
            "CLIENT01",
            LogKind::Ccmsetup,
            0,
            &[(Severity::Info, STARTED), (Severity::Info, AAD_INFO), (Severity::Error, INVALID_CA)],
        );
        kit.said("CLIENT01", LogKind::Ccmsetup, MIN, Severity::Error, &exiting(6));
        let o = run(&kit);
        let f = o.only("install-failed");
        assert_eq!(f.caused_by, ["root-ca-untrusted"]);
        assert!(
            f.explanation.starts_with(
                "CLIENT01: ccmsetup ended with 6 (error). Root cause: root-ca-untrusted (see that finding). "
            ),
            "{}",
            f.explanation
        );
        // Explained by a finding, the failure tells no story of its own.
        assert_eq!(f.cause, None);
        assert_eq!(f.remediation, rule("install-failed").remediation);
        // Both errors of one device: the root cause first.
        let order: Vec<&str> = o.findings.iter().map(|f| f.rule).collect();
        let (root, consequence) = (
            order.iter().position(|&r| r == "root-ca-untrusted").expect("root cause"),
            order.iter().position(|&r| r == "install-failed").expect("consequence"),
        );
        assert!(root < consequence, "{order:?}");
    }

    #[test]
    fn an_unexplained_failure_takes_the_fix_of_the_class_its_lines_show() {
        let run_with = |line: &str| {
            let mut kit = Kit::new();
            kit.said_each(
                "CLIENT01",
                LogKind::Ccmsetup,
                0,
                &[(Severity::Info, STARTED), (Severity::Error, line), (Severity::Error, &exiting(6))],
            );
            run(&kit)
        };
        let o = run_with(DP);
        let f = o.only("install-failed");
        assert_eq!(f.cause, Some("dp-location"));
        assert_eq!(f.remediation, causes::class("dp-location").unwrap().fix);
        o.assert_cites(f, "CLIENT01", LogKind::Ccmsetup, DP);
        // A generic line: the rule's own fix, then how to read the line.
        let o = run_with(NO_CODE);
        let f = o.only("install-failed");
        assert_eq!(f.cause, Some("generic"));
        assert_eq!(
            f.remediation,
            format!("{} {}", rule("install-failed").remediation, causes::class("generic").unwrap().fix)
        );
    }

    #[test]
    fn a_rejected_token_leads_with_the_fix_of_its_identitymodel_error() {
        let mut kit = Kit::new();
        kit.said("MP01", LogKind::CcmSts, 0, Severity::Error, IDX10223);
        let o = run(&kit);
        let f = o.only("aad-token-rejected");
        let fix = causes::idx_fix(IDX10223).expect("IDX10223 has a fix");
        assert_eq!(f.remediation, format!("{fix} {}", rule("aad-token-rejected").remediation));
    }
}
