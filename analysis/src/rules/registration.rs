//! The registration family: the client's registration with the site. Rejected or never confirmed
//! (`registration-failed`), registered but not approved (`registration-not-approved`), or one SMS GUID on
//! several computers at once (`duplicate-client-id`).

use std::collections::BTreeMap;

use super::{
    broken_phases, device_events, failed_phase_hits, first_n, host_of, is_client_log, last_event,
    per_device_events, story, Analysis, Check, Explained, Hit, PhaseId, Rule, Subject,
};
use crate::index::{EventIx, HostIx};
use cmtrace_parsers::{EventKind, HostRole, LogKind, Severity};

pub(super) const REGISTRATION_FAILED: Rule = Rule {
    id: "registration-failed",
    severity: Severity::Error,
    title: "Client registration was rejected or never confirmed",
    explanation: "The client asked to register but did not get a confirmed registration (Server assigned ClientID).",
    remediation: "Read MP_RegistrationManager.log on the MP for the request's outcome. SetRegistrationState failed \
(0x80071770): the registration state could not be encrypted (known cng.sys issue: update the OS). 0x87d00231: the Entra ID \
user is not in the site database (configure Entra ID user discovery and the app's API permissions).",
    symptom: false,
    story: Some(story::attempt_starts_at_setup),
    idx_fix_first: false,
    check: Check::AfterCauses(check_registration_failed),
};

fn check_registration_failed(a: &Analysis, ex: &Explained) -> Vec<Hit> {
    let mut hits = failed_phase_hits(
        a,
        ex,
        &[PhaseId::RegistrationConfirmed, PhaseId::RegistrationMp],
        "registration was not confirmed",
        |k| {
            matches!(
                k,
                EventKind::RegistrationFailed { .. }
                    | EventKind::RegistrationRequested { .. }
                    | EventKind::MpRegistration { .. }
            )
        },
    );
    // Rejections the MP logged for requests no device could be tied to.
    let loose = per_device_events(a, |k, lk| {
        matches!(k, EventKind::RegistrationFailed { .. }) && lk == LogKind::MpRegistrationManager
    });
    for (key, evs) in loose {
        if let Subject::Host(host) = key {
            hits.push(Hit {
                device: None,
                host: Some(host.clone()),
                facts: format!(
                    "{host}: the management point rejected {} registration request(s).",
                    evs.len()
                ),
                evidence: first_n(evs, 4),
                title: None,
                explains: Vec::new(),
                causes: Vec::new(),
            });
        }
    }
    hits
}

pub(super) const REGISTRATION_NOT_APPROVED: Rule = Rule {
    id: "registration-not-approved",
    severity: Severity::Warning,
    title: "The client is registered but not approved",
    explanation: "Registration succeeded with an approval status other than 1 (approved) or 3 (Entra ID-based \
registration). Unapproved clients get no policy. (Approval status 0 and 2 are not documented; 0 is read as not approved.)",
    remediation: "Approve the device in the console (Assets and Compliance > Devices > Approve), or review the hierarchy's \
client approval setting (Hierarchy Settings > Client Approval and Conflicting Records).",
    symptom: false,
    story: None,
    idx_fix_first: false,
    check: Check::Alone(check_not_approved),
};

fn check_not_approved(a: &Analysis) -> Vec<Hit> {
    let mut hits = Vec::new();
    for d in a.devices.keys() {
        let last = last_event(a, d, |k| {
            matches!(k, EventKind::Registered { .. } | EventKind::RegistrationPending { .. })
        });
        // `Client registration is pending. Server assigned ClientID is GUID:..`, not followed by a registration.
        if let Some(i) = last.filter(|&i| matches!(a.events[i].kind, EventKind::RegistrationPending { .. })) {
            // The first pending answer (since the last registration) and the last: how long it has waited.
            let first = device_events(a, d)
                .iter()
                .copied()
                .filter(|&j| a.time_ms(j) <= a.time_ms(i))
                .rev()
                .take_while(|&j| !matches!(a.events[j].kind, EventKind::Registered { .. }))
                .filter(|&j| matches!(a.events[j].kind, EventKind::RegistrationPending { .. }))
                .last()
                .unwrap_or(i);
            let mut evidence = vec![first];
            if first != i {
                evidence.push(i);
            }
            hits.push(Hit {
                device: Some(d),
                host: Some(host_of(a, i)),
                facts: format!(
                    "{}: the site assigned a client id, but the registration is pending approval.",
                    host_of(a, i)
                ),
                evidence,
                title: Some("The client's registration is pending approval".into()),
                // The registration steps that do not follow are waiting for the approval.
                explains: broken_phases(a, d),
                causes: Vec::new(),
            });
            continue;
        }
        if let Some(i) = last {
            if let EventKind::Registered { approval: Some(n), .. } = a.events[i].kind {
                if n != 1 && n != 3 {
                    hits.push(Hit {
                        device: Some(d),
                        host: Some(host_of(a, i)),
                        facts: format!("{}: registered with approval status {n}.", host_of(a, i)),
                        evidence: vec![i],
                        title: None,
                        explains: Vec::new(),
                        causes: Vec::new(),
                    });
                }
            }
        }
    }
    hits
}

pub(super) const DUPLICATE_CLIENT_ID: Rule = Rule {
    id: "duplicate-client-id",
    severity: Severity::Error,
    title: "One SMS client GUID is used by several client hosts at the same time",
    explanation: "Each ConfigMgr client has its own SMS GUID (its identity at the site). Here several computers present the \
same GUID while all of them are active: they were cloned from an image that still held the client's identity (SMSCFG.INI \
and the client certificates in the SMS store were not removed before capture), or a certificate store was copied. The site \
sees one client where there are several: policy, inventory and status of one overwrite the others.",
    remediation: "Remove the ConfigMgr client identity from the image before capture (run the task sequence's Prepare \
ConfigMgr Client step, or delete %WINDIR%\\SMSCFG.INI and the SMS certificates from the 'SMS' store), then on each affected \
computer reset the identity (delete SMSCFG.INI and the SMS certificates, restart ccmexec) so it registers with a new GUID; \
delete the duplicate record in the console.",
    symptom: false,
    story: None,
    idx_fix_first: false,
    check: Check::Alone(check_duplicate_client_id),
};

/// One client host's use of a GUID: the line to cite (none yet: the host's lines do not name it) and the
/// span of its client logs (UTC ms).
struct GuidUse {
    line: Option<EventIx>,
    start: i64,
    end: i64,
}

/// Devices whose SMS GUID is named by the client logs of several hosts whose activity overlaps in time
/// (a cloned image): one hit per device, citing each host's first line naming the GUID.
fn check_duplicate_client_id(a: &Analysis) -> Vec<Hit> {
    let mut hits = Vec::new();
    for (d, dev) in a.devices.iter_enumerated() {
        if dev.client_hosts().len() < 2 {
            continue;
        }
        for guid in dev.client_ids() {
            // Per client host: its first line naming the GUID, and the span of its client logs (every
            // entry, not only the flow's events: the client is active while it writes them).
            let mut per_host: BTreeMap<HostIx, GuidUse> = BTreeMap::new();
            for &i in &dev.events {
                let h = a.event_host[i];
                if !a.hosts[h].has_role(HostRole::Client) || !is_client_log(a.events[i].log_kind) {
                    continue;
                }
                let Some(t) = a.time_ms(i) else { continue };
                let mut names = false;
                crate::ids::for_each_id(&a.events[i].kind, |k, v| {
                    names |= k == crate::ids::IdKind::ClientGuid && v == guid.as_str()
                });
                let e = per_host.entry(h).or_insert_with(|| {
                    let spans = a.hosts[h].log_spans.iter().filter(|s| is_client_log(s.0));
                    let first = spans.clone().filter_map(|s| s.1).min().unwrap_or(t);
                    let last = spans.filter_map(|s| s.2).max().unwrap_or(t);
                    GuidUse { line: None, start: first, end: last }
                });
                e.start = e.start.min(t);
                e.end = e.end.max(t);
                // The site's assignment (`Server assigned ClientID is GUID:..`) is the line to cite;
                // else the first line naming the GUID.
                let assigned = matches!(a.events[i].kind, EventKind::Registered { .. });
                if names
                    && e.line.is_none_or(|first| {
                        assigned && !matches!(a.events[first].kind, EventKind::Registered { .. })
                    })
                {
                    e.line = Some(i);
                }
            }
            let named: Vec<(HostIx, GuidUse)> =
                per_host.into_iter().filter(|(_, u)| u.line.is_some()).collect();
            if named.len() < 2 {
                continue;
            }
            // At the same time: the hosts' spans overlap (a re-imaged machine that moved to a new name
            // uses the GUID one after the other).
            let overlapping = named.iter().enumerate().any(|(x, (_, u1))| {
                named[x + 1..].iter().any(|(_, u2)| u1.start <= u2.end && u2.start <= u1.end)
            });
            if !overlapping {
                continue;
            }
            let hosts: Vec<&str> = named.iter().map(|(h, _)| a.hosts[*h].name.as_str()).collect();
            hits.push(Hit {
                device: Some(d),
                host: Some(hosts.join(", ")),
                title: Some(format!(
                    "{guid} is used by {} client hosts at once: {}",
                    hosts.len(),
                    hosts.join(", ")
                )),
                facts: format!(
                    "The client logs of {} all name {guid} during the same period.",
                    hosts.join(", ")
                ),
                evidence: named.iter().filter_map(|(_, u)| u.line).collect(),
                explains: Vec::new(),
                causes: Vec::new(),
            });
            break;
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use cmtrace_parsers::{EventKind, LogKind, Severity};

    use super::super::testing::run;
    use crate::testkit::{Kit, MIN, SEC};

    // Microsoft's texts (Entra ID client registration flow) and ClientIDManagerStartup.log's rejection.
    const GUID: &str = "GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139";
    const STARTING: &str = "[RegTask] - Starting registration, attempt 1.";
    const SENDING: &str = "[RegTask] - Client is not registered. Sending registration request for GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139 ...";
    const USING_AAD: &str = "Registering client using AAD auth.";
    const REJECTED: &str = "[RegTask] - Server rejected registration 3";
    const PENDING: &str =
        "Client registration is pending. Server assigned ClientID is GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139";

    fn registered(approval: u32) -> String {
        format!("[RegTask] - Client is registered. Server assigned ClientID is {GUID}. Approval status {approval}")
    }

    /// CLIENT01 asks to register; then ClientIDManagerStartup.log says `then`.
    fn registration(then: &[(Severity, &str)]) -> Kit {
        let mut kit = Kit::new();
        let lines = [(Severity::Info, STARTING), (Severity::Info, SENDING), (Severity::Info, USING_AAD)];
        kit.said_each("CLIENT01", LogKind::ClientIdManagerStartup, 0, &lines).said_each(
            "CLIENT01",
            LogKind::ClientIdManagerStartup,
            MIN,
            then,
        );
        kit
    }

    #[test]
    fn a_rejected_registration_is_a_failed_registration() {
        let o = run(&registration(&[(Severity::Error, REJECTED)]));
        o.found("registration-failed", "CLIENT01", LogKind::ClientIdManagerStartup, REJECTED);
    }

    #[test]
    fn a_confirmed_registration_is_no_failure() {
        run(&registration(&[(Severity::Info, &registered(3))])).none("registration-failed");
    }

    #[test]
    fn approval_status_zero_is_not_approved() {
        let o = run(&registration(&[(Severity::Info, &registered(0))]));
        let f = o.only("registration-not-approved");
        assert_eq!(f.device, Some(GUID.to_string()));
        o.assert_cites(f, "CLIENT01", LogKind::ClientIdManagerStartup, &registered(0));
        assert!(f.explanation.contains("approval status 0"), "{}", f.explanation);
    }

    #[test]
    fn a_pending_registration_is_not_approved_and_cites_its_first_and_last_wait() {
        let o = run(&registration(&[(Severity::Info, PENDING), (Severity::Info, PENDING)]));
        let f = o.only("registration-not-approved");
        assert_eq!(f.title, "The client's registration is pending approval");
        assert_eq!(f.evidence.len(), 2, "{:?}", f.evidence);
        o.assert_cites(f, "CLIENT01", LogKind::ClientIdManagerStartup, PENDING);
    }

    #[test]
    fn approval_status_one_or_three_is_approved() {
        for approval in [1, 3] {
            run(&registration(&[(Severity::Info, &registered(approval))])).none("registration-not-approved");
        }
    }

    /// CLONE01 and CLONE02 both say they are registered as one GUID, `apart` ms apart, and go on a minute.
    fn cloned(apart: i64) -> Kit {
        let mut kit = Kit::new();
        let c = LogKind::ClientIdManagerStartup;
        for (host, t) in [("CLONE01", 0), ("CLONE02", apart)] {
            kit.said(host, c, t, Severity::Info, &registered(1)).ev(
                host,
                c,
                t + MIN,
                EventKind::ClientStartup { version: None },
            );
        }
        kit
    }

    #[test]
    fn one_guid_on_two_hosts_at_once_is_a_duplicate_client_id() {
        let o = run(&cloned(SEC));
        let f = o.only("duplicate-client-id");
        assert_eq!(f.device, Some(GUID.to_string()));
        assert_eq!(f.host.as_deref(), Some("CLONE01, CLONE02"));
        for host in ["CLONE01", "CLONE02"] {
            o.assert_cites(f, host, LogKind::ClientIdManagerStartup, &registered(1));
        }
    }

    #[test]
    fn one_guid_on_two_hosts_one_after_the_other_is_no_duplicate() {
        run(&cloned(48 * 60 * MIN)).none("duplicate-client-id");
    }

    #[test]
    fn three_hosts_on_one_guid_at_once_are_one_duplicate_naming_all_three() {
        let mut kit = Kit::new();
        let c = LogKind::ClientIdManagerStartup;
        for (n, host) in ["CLONE01", "CLONE02", "CLONE03"].into_iter().enumerate() {
            let t = n as i64 * SEC;
            kit.said(host, c, t, Severity::Info, &registered(1)).ev(
                host,
                c,
                t + MIN,
                EventKind::ClientStartup { version: None },
            );
        }
        let o = run(&kit);
        let f = o.only("duplicate-client-id");
        assert_eq!(f.host.as_deref(), Some("CLONE01, CLONE02, CLONE03"));
        assert_eq!(f.evidence.len(), 3, "{f:#?}");
    }

    #[test]
    fn a_duplicate_cites_the_sites_assignment_over_an_earlier_line_naming_the_guid() {
        let mut kit = Kit::new();
        let c = LogKind::ClientIdManagerStartup;
        for (host, t) in [("CLONE01", 0), ("CLONE02", SEC)] {
            kit.said_each(host, c, t, &[(Severity::Info, SENDING), (Severity::Info, &registered(1))]);
        }
        let o = run(&kit);
        let f = o.only("duplicate-client-id");
        assert_eq!(f.evidence.len(), 2, "{f:#?}");
        for host in ["CLONE01", "CLONE02"] {
            o.assert_cites(f, host, c, &registered(1));
        }
        // Without an assignment, the first line naming it.
        let mut kit = Kit::new();
        for (host, t) in [("CLONE01", 0), ("CLONE02", SEC)] {
            kit.said_each(host, c, t, &[(Severity::Info, SENDING), (Severity::Info, SENDING)]);
        }
        let o = run(&kit);
        let f = o.only("duplicate-client-id");
        for host in ["CLONE01", "CLONE02"] {
            let first = o.line_of(host, c, SENDING);
            o.assert_cites_line(f, first);
        }
        assert_eq!(f.evidence.len(), 2, "{f:#?}");
    }

    #[test]
    fn a_rejection_the_mp_logged_for_no_known_device_is_reported_for_the_mp() {
        let mut kit = Kit::new();
        kit.said(
            "MP01",
            LogKind::MpRegistrationManager,
            0,
            Severity::Error,
            "Registration request failed 0x80004005",
        );
        let o = run(&kit);
        let f = o.only("registration-failed");
        assert_eq!((f.device.as_deref(), f.host.as_deref()), (None, Some("MP01")));
        assert!(
            f.explanation.starts_with("MP01: the management point rejected 1 registration request(s)."),
            "{}",
            f.explanation
        );
        // A client's rejection is its device's, not a loose one of its host.
        let o = run(&registration(&[(Severity::Error, REJECTED)]));
        assert!(o.of("registration-failed").iter().all(|f| f.device.is_some()), "{:#?}", o.findings);
    }
}
