//! The flow family: what only the whole flow shows. A host's clock disagrees with causality across hosts
//! (`clock-skew`), or the flow stops after a step with no error logged (`flow-incomplete`).

use std::collections::BTreeSet;

use super::{
    host_of, Analysis, Check, Explained, Hit, Phase, PhaseId, PhaseStatus, Rule, SKEW_APPLY_THRESHOLD_MS,
};
use crate::index::{DeviceIx, EventIx};
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
    story: None,
    idx_fix_first: false,
    check: Check::Alone(check_clock_skew),
};

fn check_clock_skew(a: &Analysis) -> Vec<Hit> {
    let mut hits = Vec::new();
    for o in &a.host_offsets {
        if o.reference || !o.consistent || o.offset_ms.abs() <= SKEW_APPLY_THRESHOLD_MS {
            continue;
        }
        let mut ev: Vec<EventIx> = Vec::new();
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
            let ds: BTreeSet<DeviceIx> = ev.iter().filter_map(|&i| a.event_device[i]).collect();
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
    story: None,
    idx_fix_first: false,
    check: Check::AfterCauses(check_flow_incomplete),
};

fn check_flow_incomplete(a: &Analysis, ex: &Explained) -> Vec<Hit> {
    let mut hits = Vec::new();
    for d in a.devices.keys() {
        let dev = &a.devices[d];
        // A device seen only in server logs has no client flow to be incomplete.
        if dev.client_hosts().is_empty() {
            continue;
        }
        if dev.phases.iter().any(|p| p.status == PhaseStatus::Failed) || !ex.any(d).is_empty() {
            continue;
        }
        // The steps after the last one the logs show: a missing step followed by one that happened is
        // no stop (later activity shows the device went on). Renewal happens only when a token nears
        // expiry: its absence is not a stop. `not_collected` and `not_applicable` steps say nothing.
        let last_reached = dev.phases.iter().rposition(|p| p.status == PhaseStatus::Ok);
        let missing: Vec<&Phase> = dev
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
        let ev: Vec<EventIx> = match last_ok.and_then(|p| p.evidence.last()) {
            Some(pe) => dev
                .events
                .iter()
                .copied()
                .filter(|&i| *a.events[i].evidence.path() == pe.path && a.events[i].evidence.line == pe.line)
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

#[cfg(test)]
mod tests {
    use cmtrace_parsers::{EventKind, LogKind};

    use super::super::testing::run;
    use crate::testkit::{aad_acquired, aad_requested, healthy, Dev, Kit, MIN, SEC};
    use cmtrace_parsers::AadTokenKind;

    /// Two healthy devices; the management point's clock runs `skew` ms fast.
    fn site_with_mp_skew(skew: i64) -> Kit {
        let mut kit = Kit::new();
        kit.skew("MP01", skew);
        healthy(&mut kit, &Dev::new("CLIENT01", 1), 0);
        healthy(&mut kit, &Dev::new("CLIENT02", 2), 10 * MIN);
        kit
    }

    #[test]
    fn a_management_point_six_minutes_fast_is_clock_skew_of_no_device() {
        let o = run(&site_with_mp_skew(6 * MIN));
        let f = o.only("clock-skew");
        assert_eq!((f.device.as_deref(), f.host.as_deref()), (None, Some("MP01")));
        assert!(
            f.title.starts_with("MP01's clock is about 6 min ahead of the CMG's and the clients'"),
            "{}",
            f.title
        );
        let issued =
            o.line_where("MP01", LogKind::CcmSts, |k, _| matches!(k, EventKind::CcmTokenIssued { .. }));
        o.assert_cites_line(f, issued);
    }

    #[test]
    fn a_clock_within_two_minutes_is_no_clock_skew() {
        run(&site_with_mp_skew(MIN)).none("clock-skew");
    }

    #[test]
    fn a_flow_that_stops_after_the_entra_id_token_is_incomplete() {
        let d = Dev::new("CLIENT01", 1);
        let mut kit = Kit::new();
        let c = LogKind::Ccmsetup;
        kit.ev(
            &d.host,
            c,
            0,
            EventKind::AadInfoRequested { cmg: Some("CMG.CLOUDAPP.NET".into()), tenant: None },
        )
        .ev(&d.host, c, SEC, aad_requested(AadTokenKind::User))
        .ev(&d.host, c, 2 * SEC, aad_acquired(&d.aad_user));
        let o = run(&kit);
        let f = o.only("flow-incomplete");
        assert_eq!(f.device, Some(o.device_of("CLIENT01")));
        assert_eq!(f.title, "The flow stops after 'install.aad_token' with no error logged");
        let acquired = o.line_where("CLIENT01", c, |k, _| matches!(k, EventKind::AadTokenAcquired { .. }));
        o.assert_cites_line(f, acquired);
        // Only that line; the steps after it whose log was collected are the ones not reached (the
        // registration logs were not collected, renewal is never a stop).
        assert_eq!(f.evidence.len(), 1, "{f:#?}");
        assert!(
            f.explanation.starts_with(
                "Last phase reached: install.aad_token. Not reached: install.ccm_token, install.content, install.client. "
            ),
            "{}",
            f.explanation
        );
    }

    /// One healthy device; `host`'s clock runs `skew` ms fast.
    fn device_with_skew(host: &str, skew: i64) -> Kit {
        let mut kit = Kit::new();
        kit.skew(host, skew);
        healthy(&mut kit, &Dev::new("CLIENT01", 1), 0);
        kit
    }

    #[test]
    fn a_client_clock_off_is_its_devices_clock_skew() {
        let o = run(&device_with_skew("CLIENT01", 5 * MIN));
        let f = o.only("clock-skew");
        assert_eq!((f.device.clone(), f.host.as_deref()), (Some(o.device_of("CLIENT01")), Some("CLIENT01")));
        assert!(f.title.starts_with("CLIENT01's clock is about 5 min ahead of the site's"), "{}", f.title);
    }

    #[test]
    fn a_connection_point_clock_off_is_clock_skew_of_no_device() {
        // Every line it pairs is one device's, and still a server's clock is no device's.
        let o = run(&device_with_skew("SITE01", -5 * MIN));
        let f = o.only("clock-skew");
        assert_eq!((f.device.as_deref(), f.host.as_deref()), (None, Some("SITE01")));
        assert!(f.title.starts_with("SITE01's clock is about 5 min behind the site's"), "{}", f.title);
    }

    #[test]
    fn an_inconsistent_or_reference_estimate_is_no_clock_skew() {
        let mut o = run(&device_with_skew("CLIENT01", 5 * MIN));
        assert_eq!(super::check_clock_skew(&o.analysis).len(), 1);
        let client = o.analysis.host_offsets.iter().position(|h| h.host == "CLIENT01").expect("estimated");
        o.analysis.host_offsets[client].consistent = false;
        assert!(super::check_clock_skew(&o.analysis).is_empty());
        o.analysis.host_offsets[client].consistent = true;
        o.analysis.host_offsets[client].reference = true;
        assert!(super::check_clock_skew(&o.analysis).is_empty());
    }

    #[test]
    fn a_whole_flow_is_complete() {
        let mut kit = Kit::new();
        healthy(&mut kit, &Dev::new("CLIENT01", 1), 0);
        run(&kit).none("flow-incomplete");
    }
}
