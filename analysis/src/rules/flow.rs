//! The flow family: what only the whole flow shows. A host's clock disagrees with causality across hosts
//! (`clock-skew`), or the flow stops after a step with no error logged (`flow-incomplete`).

use std::collections::BTreeSet;

use super::{host_of, Analysis, Check, Explained, Hit, PhaseId, PhaseStatus, Rule};
use crate::skew::SKEW_APPLY_THRESHOLD_MS;
use cmtrace_parsers::{HostRole, Severity};

pub(super) const CLOCK_SKEW: Rule = Rule {
    id: "clock-skew",
    severity: Severity::Warning,
    title: "A host's clock disagrees with causality across hosts by more than 2 minutes",
    explanation: "Pairs of lines that must happen in order across hosts (a client requests a CCM token before the MP issues \
it; a token expires 8 hours after it is issued) only line up if this host's clock is shifted. Token lifetime validation \
(IDX10222/IDX10223) fails when device and MP clocks disagree.",
    remediation: "Fix the host's time: check 'w32tm /query /status', the time zone, and the NTP source; for Entra joined \
devices, make sure time sync is allowed. The timeline of this report is corrected by the estimated offset.",
    symptom: false,
    check: Check::Alone(check_clock_skew),
};

fn check_clock_skew(a: &Analysis) -> Vec<Hit> {
    let mut hits = Vec::new();
    for o in &a.host_offsets {
        if o.reference || !o.consistent || o.offset_ms.abs() <= SKEW_APPLY_THRESHOLD_MS {
            continue;
        }
        let mut ev: Vec<usize> = Vec::new();
        for p in o.pairs.iter().take(3) {
            ev.push(p.host_event);
            if let Some(x) = p.other_event {
                ev.push(x);
            }
        }
        ev.sort_unstable();
        ev.dedup();
        if ev.is_empty() {
            continue;
        }
        // A client host's clock is its device's; a server's clock is no device's.
        let client_host = a.host(&o.host).is_some_and(|h| h.has_role(HostRole::Client));
        let device = {
            let ds: BTreeSet<usize> = ev.iter().filter_map(|&i| a.event_device[i]).collect();
            (client_host && ds.len() == 1).then(|| *ds.iter().next().expect("one"))
        };
        let secs = o.offset_ms as f64 / 1000.0;
        let reference: Vec<&str> =
            a.host_offsets.iter().filter(|r| r.reference).map(|r| r.host.as_str()).collect();
        hits.push(Hit {
            device,
            host: Some(o.host.clone()),
            title: Some(format!(
                "{}'s clock is about {} {} {} ({} of {} causal pairs agree)",
                o.host,
                human_secs(secs.abs()),
                if secs > 0.0 { "ahead of" } else { "behind" },
                // No reference left: the management point itself is the clock that is off.
                if reference.is_empty() { "the CMG's and the clients'" } else { "the site's" },
                o.support,
                o.observations
            )),
            facts: format!(
                "Estimated offset of {}: {:+.1} s against {}.{}",
                o.host,
                secs,
                if reference.is_empty() {
                    "every other host (the CMG and the clients agree with each other; this management point is \
                     the odd one out)"
                        .to_string()
                } else {
                    reference.join(", ")
                },
                if o.applied { " The timeline below is corrected by this offset." } else { "" }
            ),
            evidence: ev,
            explains: Vec::new(),
            causes: Vec::new(),
        });
    }
    hits
}

fn human_secs(s: f64) -> String {
    if s >= 3600.0 {
        format!("{:.1} h", s / 3600.0)
    } else if s >= 60.0 {
        format!("{:.0} min", s / 60.0)
    } else {
        format!("{s:.0} s")
    }
}

pub(super) const FLOW_INCOMPLETE: Rule = Rule {
    id: "flow-incomplete",
    severity: Severity::Warning,
    title: "The flow stops with no error logged",
    explanation: "The logs of this device end after the phase below, with no error and no later step, although the log that \
would show the next step was collected. The client may still be working (logs collected too early), or may be stuck.",
    remediation: "Collect the logs again after a while; if the flow is still stopped there, check network reachability of \
the CMG (443) from the device and the services (ccmsetup, CcmExec) on it.",
    symptom: true,
    check: Check::AfterCauses(check_flow_incomplete),
};

fn check_flow_incomplete(a: &Analysis, ex: &Explained) -> Vec<Hit> {
    let mut hits = Vec::new();
    for d in 0..a.devices.len() {
        let dev = &a.devices[d];
        // A device seen only in server logs has no client flow to be incomplete.
        if dev.client_hosts.is_empty() {
            continue;
        }
        if dev.phases.iter().any(|p| p.status == PhaseStatus::Failed) || !ex.any(d).is_empty() {
            continue;
        }
        // The steps after the last one the logs show: a missing step followed by one that happened is
        // no stop (later activity shows the device went on). Renewal happens only when a token nears
        // expiry: its absence is not a stop. `not_collected` and `not_applicable` steps say nothing.
        let last_reached = dev.phases.iter().rposition(|p| p.status == PhaseStatus::Ok);
        let missing: Vec<&crate::model::Phase> = dev
            .phases
            .iter()
            .enumerate()
            .filter(|&(i, p)| {
                p.status == PhaseStatus::Missing
                    && p.id != PhaseId::RenewalCcmToken
                    && last_reached.is_none_or(|r| i > r)
            })
            .map(|(_, p)| p)
            .collect();
        if missing.is_empty() {
            continue;
        }
        // An error in the device's logs means the flow did not stop silently: other rules speak.
        if dev.events.iter().any(|&i| a.events[i].severity == Severity::Error) {
            continue;
        }
        let last_ok = dev.phases.iter().filter(|p| p.status == PhaseStatus::Ok).max_by_key(|p| p.end);
        let ev: Vec<usize> = match last_ok.and_then(|p| p.evidence.last()) {
            Some(pe) => dev
                .events
                .iter()
                .copied()
                .filter(|&i| a.events[i].evidence.path == pe.path && a.events[i].evidence.line == pe.line)
                .collect(),
            None => dev.events.last().copied().into_iter().collect(),
        };
        if ev.is_empty() {
            continue;
        }
        hits.push(Hit {
            device: Some(d),
            host: Some(host_of(a, ev[0])),
            title: Some(format!(
                "The flow stops after '{}' with no error logged",
                last_ok.map(|p| p.id.as_str()).unwrap_or("the first step")
            )),
            facts: format!(
                "Last phase reached: {}. Not reached: {}.",
                last_ok.map(|p| p.id.as_str()).unwrap_or("none"),
                missing.iter().map(|p| p.id.as_str()).collect::<Vec<_>>().join(", ")
            ),
            evidence: ev,
            explains: missing.iter().map(|p| p.id).collect(),
            causes: Vec::new(),
        });
    }
    hits
}
