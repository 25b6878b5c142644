//! Engine tests on hand-made flows (see `testkit`): correlation, phases, clock skew, timeline, trace.

use cmtrace_parsers::{AadTokenKind, EventKind, LogKind};

use crate::correlate::{Attribution, RequestKind};
use crate::engine::analyze;
use crate::facts::{Analysis, DeviceFacts};
use crate::index::{DeviceIx, EventIx};
use crate::model::{PhaseId, PhaseStatus};
use crate::skew::SkewRelation;
use crate::testkit::*;

fn run(kit: &Kit) -> Analysis {
    let (inputs, events) = kit.build();
    analyze(inputs, events)
}

fn device<'a>(a: &'a Analysis, key: &str) -> &'a DeviceFacts {
    a.devices.iter().find(|d| d.key == key).unwrap_or_else(|| {
        panic!("no device {key}; have {:?}", a.devices.iter().map(|d| &d.key).collect::<Vec<_>>())
    })
}

fn status(d: &DeviceFacts, id: PhaseId) -> PhaseStatus {
    d.phase(id).expect("every phase is listed").status
}

fn events_of<'a>(a: &'a Analysis, host: &'a str) -> impl Iterator<Item = EventIx> + 'a {
    a.events.keys().filter(move |&i| *a.events[i].evidence.host() == *host)
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[test]
fn healthy_device_across_four_hosts() {
    let d = Dev::new("CLIENT01", 1);
    let mut kit = Kit::new();
    kit.bias("CLIENT01", 420);
    healthy(&mut kit, &d, 0);
    let a = run(&kit);

    assert_eq!(a.devices.len(), 1, "{:?}", a.devices.iter().map(|d| &d.key).collect::<Vec<_>>());
    let dev = &a.devices[DeviceIx::FIRST];
    assert_eq!(dev.key, d.guid, "the registered GUID keys the device");
    assert_eq!(*dev.client_ids(), sorted(vec![d.install_guid.clone(), d.guid.clone()]));
    assert_eq!(*dev.aad_device_ids(), vec![d.aad_device.clone()]);
    assert_eq!(*dev.aad_user_ids(), vec![d.aad_user.clone()]);
    assert_eq!(*dev.aad_tenant_ids(), vec![TENANT.to_string()]);
    assert_eq!(*dev.sids(), vec![d.user_sid.clone()], "S-1-5-18 is not kept");
    assert_eq!(*dev.hosts(), vec!["CLIENT01", "MP01", "SITE01"]);
    assert_eq!(*dev.client_hosts(), vec!["CLIENT01"]);
    for p in dev.phases.iter() {
        assert_eq!(p.status, PhaseStatus::Ok, "{:?}: {:?}", p.id, p.reason);
        assert!(!p.evidence.is_empty() && p.start.is_some() && p.start <= p.end, "{:?}", p.id);
    }
    // The CMG statistics are aggregates: never a device's. Everything else is this device's.
    for i in a.events.keys() {
        let cmg = a.events[i].log_kind == LogKind::CmgService;
        assert_eq!(a.event_device[i].is_none(), cmg, "{}", a.events[i].evidence.text());
    }
    // Every CCM_STS and registration request was attributed by its own identifiers.
    assert!(a
        .requests
        .iter()
        .all(|r| r.device == Some(DeviceIx::FIRST) && r.attribution == Attribution::Identifiers));
    assert_eq!(a.requests.iter().filter(|r| r.kind == RequestKind::CcmSts).count(), 3);
    assert_eq!(a.requests.iter().filter(|r| r.kind == RequestKind::MpRegistration).count(), 1);
    // No skew anywhere.
    for o in &a.host_offsets {
        assert_eq!(o.offset_ms, 0, "{o:?}");
        assert!(!o.applied);
    }
    assert!(a.host_offset("MP01").is_some_and(|o| o.reference));
    assert!(a.host_offset("CLIENT01").is_some_and(|o| o.consistent && o.support >= 2));

    let report = a.to_report(Vec::new());
    assert_eq!(report.devices.len(), 1);
    assert_eq!(report.timeline.len(), a.events.len());
    let times: Vec<_> = report.timeline.iter().map(|e| e.time).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "timeline sorted by time");
    assert!(report.timeline.iter().all(|t| t.skew_correction_ms == 0));
    let json = serde_json::to_string(&report).expect("serialises");
    assert!(json.contains("\"device\":\"GUID:C66EE0FD-08E7-4B38-B282-000000000001\""));
}

#[test]
fn two_devices_interleaving_in_the_same_second_stay_two() {
    for lag in [0, 200, 700] {
        let d1 = Dev::new("CLIENT01", 1);
        let d2 = Dev::new("CLIENT02", 2);
        let mut kit = Kit::new();
        healthy(&mut kit, &d1, 0);
        healthy(&mut kit, &d2, lag);
        let a = run(&kit);

        assert_eq!(a.devices.len(), 2, "lag {lag}");
        let (x1, x2) = (device(&a, &d1.guid), device(&a, &d2.guid));
        assert_eq!(*x1.client_hosts(), vec!["CLIENT01"]);
        assert_eq!(*x2.client_hosts(), vec!["CLIENT02"]);
        assert_eq!(*x1.client_ids(), sorted(vec![d1.install_guid.clone(), d1.guid.clone()]));
        assert_eq!(*x2.aad_device_ids(), vec![d2.aad_device.clone()]);
        for (x, d) in [(x1, &d1), (x2, &d2)] {
            for p in x.phases.iter() {
                assert_eq!(p.status, PhaseStatus::Ok, "lag {lag} {} {:?}: {:?}", d.host, p.id, p.reason);
            }
            // Each device's MP lines name only its own identities.
            for &i in &x.events {
                let text = format!("{:?}", a.events[i].kind);
                let other = if d.host == "CLIENT01" { &d2 } else { &d1 };
                assert!(
                    !text.contains(&other.aad_device) && !text.contains(&other.guid),
                    "lag {lag}: {text}"
                );
            }
        }
        // The connector lines carry no identifiers and both requests fit their windows: not guessed.
        for i in events_of(&a, "SITE01") {
            assert_eq!(a.event_device[i], None, "lag {lag}: {}", a.events[i].evidence.text());
        }
        // The MP lines interleave within the second yet every block is one device's.
        for r in &a.requests {
            let devs: Vec<_> = r.events.iter().map(|&i| a.event_device[i]).collect();
            assert!(devs.iter().all(|x| x.is_some() && *x == devs[0]), "lag {lag}");
        }
    }
}

#[test]
fn blocks_follow_threads_when_lines_interleave() {
    let d1 = Dev::new("CLIENT01", 1);
    let d2 = Dev::new("CLIENT02", 2);
    let mut kit = Kit::new();
    // Same millisecond, two threads: the lines alternate in the file.
    sts_block(&mut kit, &d1, 0, &d1.guid);
    sts_block(&mut kit, &d2, 0, &d2.guid);
    let a = run(&kit);
    assert_eq!(a.requests.len(), 2);
    assert_eq!(a.devices.len(), 2);
    for r in &a.requests {
        assert_eq!(r.events.len(), 5);
        let lines: Vec<u32> = r.events.iter().map(|&i| a.events[i].evidence.line).collect();
        assert!(lines.windows(2).all(|w| w[1] > w[0] + 3), "interleaved lines {lines:?}");
    }
}

#[test]
fn fallback_user_sid_links_client_to_its_sts_request() {
    let d = Dev::new("CLIENT01", 1);
    let mut kit = Kit::new();
    let c = LogKind::Ccmsetup;
    kit.ev("CLIENT01", c, 0, EventKind::AadTokenFallbackToUser { sid: Some(d.user_sid.as_str().into()) });
    kit.ev("CLIENT01", c, SEC, aad_acquired(&d.aad_user));
    // The MP's request is 40 s later: no time chain can tie it, only the user ids.
    sts_block(&mut kit, &d, 40 * SEC, &d.install_guid);
    let a = run(&kit);
    assert_eq!(a.devices.len(), 1);
    let dev = &a.devices[DeviceIx::FIRST];
    assert_eq!(dev.key, d.install_guid);
    assert_eq!(*dev.client_hosts(), vec!["CLIENT01"]);
    assert_eq!(*dev.hosts(), vec!["CLIENT01", "MP01"]);
    assert_eq!(*dev.sids(), vec![d.user_sid.clone()]);
    assert!(a.event_device.iter().all(|x| *x == Some(DeviceIx::FIRST)));
}

#[test]
fn one_person_two_pcs_are_not_merged_by_user_ids() {
    let d1 = Dev::new("CLIENT01", 1);
    let mut d2 = Dev::new("CLIENT02", 2);
    d2.aad_user = d1.aad_user.clone();
    d2.user_sid = d1.user_sid.clone();
    let mut kit = Kit::new();
    for (d, t) in [(&d1, 0), (&d2, 10 * MIN)] {
        kit.ev(
            &d.host,
            LogKind::Ccmsetup,
            t,
            EventKind::AadTokenFallbackToUser { sid: Some(d.user_sid.as_str().into()) },
        );
        kit.ev(&d.host, LogKind::Ccmsetup, t + SEC, aad_acquired(&d.aad_user));
        sts_block(&mut kit, d, t + 40 * SEC, &d.install_guid);
    }
    let a = run(&kit);
    // Two client hosts without GUIDs, two MP-side devices: the shared user id joins none of them.
    assert_eq!(a.devices.len(), 4, "{:?}", a.devices.iter().map(|d| &d.key).collect::<Vec<_>>());
    for d in &a.devices {
        assert!(d.hosts().len() == 1, "{}: {:?}", d.key, d.hosts());
    }

    // With full flows the user id sits on both devices and they stay two.
    let mut kit = Kit::new();
    healthy(&mut kit, &d1, 0);
    healthy(&mut kit, &d2, 30 * MIN);
    let a = run(&kit);
    assert_eq!(a.devices.len(), 2);
    assert_eq!(device(&a, &d1.guid).aad_user_ids(), device(&a, &d2.guid).aad_user_ids());
}

#[test]
fn client_only_collection_marks_mp_phase_not_collected() {
    let d = Dev::new("CLIENT01", 1);
    let mut kit = Kit::new();
    healthy(&mut kit, &d, 0);
    let (inputs, events) = kit.build();
    let keep = |h: &str| h == "CLIENT01";
    let inputs: Vec<_> = inputs.into_iter().filter(|i| keep(&i.host)).collect();
    let events: Vec<_> = events.into_iter().filter(|e| keep(e.evidence.host())).collect();

    let a = analyze(inputs.clone(), events.clone());
    assert_eq!(a.devices.len(), 1);
    let dev = &a.devices[DeviceIx::FIRST];
    assert_eq!(dev.key, d.guid);
    let mp = dev.phase(PhaseId::RegistrationMp).unwrap();
    assert_eq!(mp.status, PhaseStatus::NotCollected);
    assert!(mp.reason.contains("MP_RegistrationManager.log"), "{:?}", mp.reason);
    for id in PhaseId::ALL.iter().filter(|&&id| id != PhaseId::RegistrationMp) {
        assert_eq!(status(dev, *id), PhaseStatus::Ok, "{id:?}");
    }
    // Without the client's token cache no expiry is matched to an issue line, yet the expiry alone
    // still says the client clock agrees with the issuer.
    assert!(a.host_offset("CLIENT01").is_some_and(|o| o.offset_ms == 0 && o.consistent));

    // CcmMessaging.log not collected / unreadable.
    let no_msg: Vec<_> = inputs.iter().filter(|i| i.log_kind != LogKind::CcmMessaging).cloned().collect();
    let no_msg_events: Vec<_> =
        events.iter().filter(|e| e.log_kind != LogKind::CcmMessaging).cloned().collect();
    let a = analyze(no_msg.clone(), no_msg_events.clone());
    let renewal = a.devices[DeviceIx::FIRST].phase(PhaseId::RenewalCcmToken).unwrap();
    assert_eq!(renewal.status, PhaseStatus::NotCollected);
    let note = &renewal.reason;
    assert!(note.contains("CcmMessaging.log") && note.contains("CLIENT01"), "{note}");

    let mut unreadable = no_msg;
    let mut bad = inputs.iter().find(|i| i.log_kind == LogKind::CcmMessaging).unwrap().clone();
    bad.error = Some("invalid UTF-16".into());
    unreadable.push(bad);
    let a = analyze(unreadable, no_msg_events);
    let renewal = a.devices[DeviceIx::FIRST].phase(PhaseId::RenewalCcmToken).unwrap();
    assert_eq!(renewal.status, PhaseStatus::NotCollected);
    assert!(renewal.reason.contains("could not be read"));
}

#[test]
fn server_only_device_has_client_phases_not_collected() {
    let d = Dev::new("CLIENT01", 1);
    let mut kit = Kit::new();
    register(&mut kit, &d, 0);
    let (inputs, events) = kit.build();
    let inputs: Vec<_> = inputs.into_iter().filter(|i| i.host != "CLIENT01").collect();
    let events: Vec<_> = events.into_iter().filter(|e| e.evidence.host() != "CLIENT01").collect();
    let a = analyze(inputs, events);
    assert_eq!(a.devices.len(), 1);
    let dev = &a.devices[DeviceIx::FIRST];
    assert_eq!(dev.key, d.guid);
    assert!(dev.client_hosts().is_empty());
    assert_eq!(status(dev, PhaseId::RegistrationMp), PhaseStatus::Ok);
    let p = dev.phase(PhaseId::InstallClient).unwrap();
    assert_eq!(p.status, PhaseStatus::NotCollected);
    assert!(p.reason.contains("MP01"), "{:?}", p.reason);
}

#[test]
fn missing_phases_when_the_flow_stops_without_error() {
    let d = Dev::new("CLIENT01", 1);
    let mut kit = Kit::new();
    install(&mut kit, &d, 0);
    kit.input("CLIENT01", LogKind::ClientIdManagerStartup).input("CLIENT01", LogKind::MpRegistrationManager);
    kit.ev(
        "CLIENT01",
        LogKind::ClientIdManagerStartup,
        5 * MIN,
        EventKind::RegistrationStarted { attempt: Some(1) },
    );
    let a = run(&kit);
    let dev = &a.devices[DeviceIx::FIRST];
    assert_eq!(dev.key, d.install_guid, "only the token GUID is known");
    let req = dev.phase(PhaseId::RegistrationRequest).unwrap();
    assert_eq!(req.status, PhaseStatus::Missing);
    assert_eq!(req.evidence.len(), 1, "the start line is the evidence");
    assert_eq!(status(dev, PhaseId::RegistrationConfirmed), PhaseStatus::Missing);
    assert_eq!(status(dev, PhaseId::RegistrationCcmToken), PhaseStatus::Missing);
    assert_eq!(status(dev, PhaseId::RegistrationMp), PhaseStatus::Missing);
    assert_eq!(status(dev, PhaseId::RegistrationAadToken), PhaseStatus::NotCollected);
    assert_eq!(status(dev, PhaseId::InstallClient), PhaseStatus::Ok);
}

/// A client whose CCM token request is rejected by CCM_STS (no identifiers in the rejected request).
fn rejected_flow(kit: &mut Kit, d: &Dev, t: i64) {
    let c = LogKind::Ccmsetup;
    let h = d.host.as_str();
    kit.ev(
        h,
        c,
        t,
        EventKind::AadInfoRequested { cmg: Some("CMG.CLOUDAPP.NET".into()), tenant: Some(TENANT.into()) },
    );
    kit.ev(h, c, t + SEC, aad_requested(AadTokenKind::Device));
    kit.ev(
        h,
        c,
        t + 2 * SEC,
        EventKind::AadTokenAcquired { kind: AadTokenKind::Device, aad_user: None, aad_device: None },
    );
    kit.ev(h, c, t + 3 * SEC, EventKind::CcmTokenRequested { sts_url: CMG_STS.into() });
    kit.ev_t(
        &d.mp,
        LogKind::CcmSts,
        t + 3_400,
        d.thread,
        EventKind::StsRequestReceived { url: Some(MP_STS.into()) },
    );
    kit.ev_t(
        &d.mp,
        LogKind::CcmSts,
        t + 3_500,
        d.thread,
        EventKind::AadTokenRejected { code: Some("401".into()), reason: "IDX10223".into() },
    );
    kit.ev(
        h,
        c,
        t + 4 * SEC,
        EventKind::HttpError {
            url: Some(CMG_STS.into()),
            code: Some("0".into()),
            text: None,
            http_status: Some(401),
        },
    );
    kit.ev(h, c, t + 10 * SEC, EventKind::CcmsetupExit { code: 1 });
}

#[test]
fn failed_ccm_token_and_rejected_request_chained_by_time() {
    let d = Dev::new("CLIENT01", 1);
    let mut kit = Kit::new();
    rejected_flow(&mut kit, &d, 0);
    let a = run(&kit);
    assert_eq!(a.devices.len(), 1);
    let dev = &a.devices[DeviceIx::FIRST];
    assert_eq!(dev.key, "CLIENT01", "no identifiers: the host name keys the device");
    assert_eq!(status(dev, PhaseId::InstallAadInfo), PhaseStatus::Ok);
    assert_eq!(status(dev, PhaseId::InstallAadToken), PhaseStatus::Ok);
    let tok = dev.phase(PhaseId::InstallCcmToken).unwrap();
    assert_eq!(tok.status, PhaseStatus::Failed);
    assert!(tok.evidence.iter().any(|e| e.text.get().starts_with("http_error")), "{:?}", tok.evidence);
    assert!(tok.evidence[0].text.get().starts_with("ccm_token_requested"));
    assert_eq!(status(dev, PhaseId::InstallContent), PhaseStatus::Missing);
    assert_eq!(status(dev, PhaseId::InstallClient), PhaseStatus::Failed);
    // The rejected CCM_STS request has no identifiers: tied by the unique request in its window.
    assert_eq!(a.requests.len(), 1);
    assert!(matches!(a.requests.get(0).attribution, Attribution::RequestChain { .. }));
    assert_eq!(a.requests.get(0).device, Some(DeviceIx::FIRST));
    assert!(dev.hosts().iter().any(|h| h == "MP01"));

    // A second client requesting in the same second: the rejected request is not guessed.
    let mut kit = Kit::new();
    rejected_flow(&mut kit, &d, 0);
    kit.ev(
        "CLIENT02",
        LogKind::Ccmsetup,
        3 * SEC + 300,
        EventKind::CcmTokenRequested { sts_url: CMG_STS.into() },
    );
    let a = run(&kit);
    assert_eq!(a.requests.get(0).device, None);
    assert_eq!(a.requests.get(0).attribution, Attribution::None);
}

#[test]
fn mp_registration_failure_fails_the_mp_phase() {
    let d = Dev::new("CLIENT01", 1);
    let mut kit = Kit::new();
    kit.ev(
        "CLIENT01",
        LogKind::ClientIdManagerStartup,
        0,
        EventKind::RegistrationRequested { client_guid: Some(d.guid.as_str().into()) },
    );
    let m = LogKind::MpRegistrationManager;
    kit.ev_t(
        "MP01",
        m,
        2 * SEC,
        7,
        EventKind::MpRegistration {
            aad_device: Some(d.aad_device.as_str().into()),
            tenant: None,
            client_guid: None,
        },
    );
    kit.ev_t(
        "MP01",
        m,
        2 * SEC + 5,
        7,
        EventKind::MpRegistration {
            aad_device: None,
            tenant: None,
            client_guid: Some(d.guid.as_str().into()),
        },
    );
    kit.ev_t(
        "MP01",
        m,
        2 * SEC + 9,
        7,
        EventKind::RegistrationFailed { code: Some("0x87d00231".into()), reason: "x".into() },
    );
    kit.ev(
        "CLIENT01",
        LogKind::ClientIdManagerStartup,
        5 * SEC,
        EventKind::ErrorLogged { code: Some("0x87d00231".into()) },
    );
    let a = run(&kit);
    assert_eq!(a.devices.len(), 1);
    let dev = &a.devices[DeviceIx::FIRST];
    assert_eq!(*dev.aad_device_ids(), vec![d.aad_device.clone()]);
    let mp = dev.phase(PhaseId::RegistrationMp).unwrap();
    assert_eq!(mp.status, PhaseStatus::Failed);
    assert_eq!(mp.evidence.len(), 1);
    assert_eq!(status(dev, PhaseId::RegistrationConfirmed), PhaseStatus::Failed);
    assert_eq!(status(dev, PhaseId::RegistrationRequest), PhaseStatus::Ok);
}

#[test]
fn tenant_conflict_keeps_both_tenants() {
    let mut d = Dev::new("CLIENT01", 1);
    d.client_tenant = "9aaf466a-3f40-4468-b3cd-f0010f21f05a".into();
    let mut kit = Kit::new();
    healthy(&mut kit, &d, 0);
    let a = run(&kit);
    let dev = &a.devices[DeviceIx::FIRST];
    assert_eq!(*dev.aad_tenant_ids(), sorted(vec![TENANT.into(), d.client_tenant.clone()]));
    assert_eq!(*dev.client_tenant_ids(), vec![d.client_tenant.clone()]);
    assert_eq!(*dev.site_tenant_ids(), vec![TENANT.to_string()]);
}

#[test]
fn tenant_alone_never_links() {
    let mut kit = Kit::new();
    for (i, host) in ["CLIENT01", "CLIENT02"].iter().enumerate() {
        kit.ev(
            host,
            LogKind::Ccmsetup,
            i as i64 * HOUR,
            EventKind::AadInfoRequested { cmg: Some("CMG.CLOUDAPP.NET".into()), tenant: Some(TENANT.into()) },
        );
    }
    let a = run(&kit);
    assert_eq!(a.devices.len(), 2);
}

fn skewed_run(host: &str, skew: i64) -> Analysis {
    let d = Dev::new("CLIENT01", 1);
    let mut kit = Kit::new();
    kit.bias("CLIENT01", -120).skew(host, skew);
    healthy(&mut kit, &d, 0);
    run(&kit)
}

#[test]
fn client_running_five_minutes_ahead_is_detected_and_corrected() {
    let a = skewed_run("CLIENT01", 5 * MIN);
    let o = a.host_offset("CLIENT01").expect("estimated");
    assert!((o.offset_ms - 5 * MIN).abs() <= 1_500, "{o:?}");
    assert!(o.consistent && o.applied);
    assert!(o.pairs.iter().any(|p| p.relation == SkewRelation::TokenExpiry));
    assert!(o.pairs.iter().any(|p| p.relation == SkewRelation::RequestBeforeSts));
    let host = a.host("CLIENT01").unwrap();
    assert_eq!(host.skew_correction_ms, -o.offset_ms);
    assert_eq!(a.host("MP01").unwrap().skew_correction_ms, 0);

    // Corrected order: the client's first CCM token request comes before the MP receives it.
    let req =
        a.events.keys().find(|&i| matches!(a.events[i].kind, EventKind::CcmTokenRequested { .. })).unwrap();
    let sts =
        a.events.keys().find(|&i| matches!(a.events[i].kind, EventKind::StsRequestReceived { .. })).unwrap();
    assert!(req < sts && a.time_ms(req) < a.time_ms(sts));
    // Evidence keeps the log's own time; the timeline shows the corrected one.
    let t = a.timeline_event(req);
    assert_eq!(t.skew_correction_ms, -o.offset_ms);
    let original = a.events[req].time_ms().unwrap();
    assert_eq!(t.time.unwrap().timestamp_millis(), original - o.offset_ms);
    // Correlation still ties the connector lines to the device.
    assert_eq!(a.devices.len(), 1);
    assert!(a.devices[DeviceIx::FIRST].hosts().iter().any(|h| h == "SITE01"));
    assert!(a.devices[DeviceIx::FIRST].phases.iter().all(|p| p.status == PhaseStatus::Ok));
}

#[test]
fn connector_running_behind_is_detected() {
    let a = skewed_run("SITE01", -5 * MIN);
    let o = a.host_offset("SITE01").expect("estimated");
    assert!((o.offset_ms + 5 * MIN).abs() <= 1_500, "{o:?}");
    assert!(o.consistent && o.applied);
    assert!(a.host_offset("CLIENT01").is_some_and(|c| c.offset_ms == 0 && !c.applied));
    assert!(a.devices[DeviceIx::FIRST].hosts().iter().any(|h| h == "SITE01"));
}

#[test]
fn ninety_seconds_is_estimated_but_not_corrected() {
    let a = skewed_run("CLIENT01", 90 * SEC);
    let o = a.host_offset("CLIENT01").expect("estimated");
    assert!((o.offset_ms - 90 * SEC).abs() <= 1_500, "{o:?}");
    assert!(o.consistent);
    assert!(!o.applied, "90 s is under the 2-minute threshold");
    assert_eq!(a.host("CLIENT01").unwrap().skew_correction_ms, 0);
    for i in a.events.keys() {
        assert_eq!(a.time_ms(i), a.events[i].time_ms());
        assert_eq!(a.timeline_event(i).skew_correction_ms, 0);
    }
    // The estimate still aligns the request chains: the connector lines are the device's.
    assert!(a.devices[DeviceIx::FIRST].hosts().iter().any(|h| h == "SITE01"));
}

#[test]
fn inconsistent_evidence_is_not_applied() {
    // Two clients' caches disagree wildly with each other on one host name: no consistent offset.
    let mut kit = Kit::new();
    let c = LogKind::Ccmsetup;
    kit.ev(
        "CLIENT01",
        c,
        0,
        EventKind::CcmTokenCached {
            sid: "S-1-5-18".into(),
            expires_local: Some(Kit::expiry_local(-10 * MIN, 0)),
        },
    );
    kit.ev(
        "CLIENT01",
        c,
        HOUR,
        EventKind::CcmTokenCached {
            sid: "S-1-5-18".into(),
            expires_local: Some(Kit::expiry_local(HOUR + 20 * MIN, 0)),
        },
    );
    let a = run(&kit);
    let o = a.host_offset("CLIENT01").expect("observed");
    assert!(!o.consistent && !o.applied, "{o:?}");
}

#[test]
fn trace_finds_events_by_any_identifier() {
    let d = Dev::new("CLIENT01", 1);
    let mut kit = Kit::new();
    healthy(&mut kit, &d, 0);
    kit.ev(
        "CLIENT01",
        LogKind::CcmMessaging,
        9 * HOUR,
        EventKind::MessageSent {
            message_id: "{BD03DEED-D09A-4E63-ADAD-596376FFB0DA}".into(),
            host: Some("CMG.CLOUDAPP.NET/CCM_Proxy_MutualAuth/72186325152220500".into()),
            endpoint: Some("MP_PolicyManager".into()),
        },
    );
    let a = run(&kit);
    let guid_bare = d.guid.trim_start_matches("GUID:").to_ascii_lowercase();
    let by_guid = a.events_for_id(&d.guid);
    assert_eq!(by_guid, a.events_for_id(&guid_bare));
    // Requested, MP registration, registered, two tokens issued (registration + renewal).
    assert_eq!(by_guid.len(), 5, "{by_guid:?}");
    assert!(by_guid.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(a.events_for_id(&d.aad_device.to_ascii_uppercase()).len(), 4);
    assert_eq!(a.events_for_id(&d.user_sid).len(), 5, "fallback, three validations, renewal notice");
    assert_eq!(a.events_for_id(TENANT).len(), 5);
    assert_eq!(a.events_for_id("bd03deed-d09a-4e63-adad-596376ffb0da").len(), 1);
    assert_eq!(a.events_for_id("mp.mycorp.com/ccm_sts").len(), a.events_for_id(MP_STS).len());
    assert!(!a.events_for_id("mp.mycorp.com").is_empty());
    assert!(a.events_for_id("").is_empty());
    assert!(a.events_for_id("no-such-id").is_empty());
    assert_eq!(a.find_device(&guid_bare), Some(DeviceIx::FIRST));
    assert_eq!(a.find_device("client01"), Some(DeviceIx::FIRST));
    assert_eq!(a.find_device(&d.aad_device), Some(DeviceIx::FIRST));
}

#[test]
fn untimed_events_sort_after_their_predecessor() {
    let mut kit = Kit::new();
    let c = LogKind::Ccmsetup;
    kit.ev("CLIENT01", c, 0, EventKind::AadInfoRequested { cmg: None, tenant: None });
    kit.untimed("CLIENT01", c, 10, EventKind::RevocationCheckEnabled);
    kit.ev("CLIENT01", c, 20, aad_requested(AadTokenKind::Device));
    kit.ev("CLIENT02", c, 5, aad_requested(AadTokenKind::Device));
    let a = run(&kit);
    let names: Vec<&str> = a.events.iter().map(|e| e.kind.name()).collect();
    assert_eq!(
        names,
        vec!["aad_info_requested", "revocation_check_enabled", "aad_token_requested", "aad_token_requested"]
    );
    assert_eq!(a.events[EventIx::from(1)].evidence.host(), "CLIENT01");
    assert_eq!(a.time_ms(EventIx::from(1)), None);
    assert!(a.timeline_event(EventIx::from(1)).time.is_none());
}

#[test]
fn empty_input_gives_an_empty_analysis() {
    let a = analyze(Vec::new(), Vec::new());
    assert!(a.devices.is_empty() && a.events.is_empty() && a.host_offsets.is_empty());
    let r = a.to_report(Vec::new());
    assert!(r.timeline.is_empty());
}

#[test]
fn fleet_correlates_in_near_linear_time() {
    let n = 600;
    let mut kit = Kit::new();
    let devs: Vec<Dev> = (0..n).map(|i| Dev::new(&format!("PC{i:05}"), i)).collect();
    for (i, d) in devs.iter().enumerate() {
        healthy(&mut kit, d, i as i64 * 23 * SEC);
    }
    let (inputs, events) = kit.build();
    let count = events.len();
    let started = std::time::Instant::now();
    let a = analyze(inputs, events);
    let took = started.elapsed();
    assert_eq!(a.devices.len(), n as usize);
    assert_eq!(a.events.len(), count);
    for d in &a.devices {
        assert!(d.phases.iter().all(|p| p.status == PhaseStatus::Ok), "{}", d.key);
        assert!(d.hosts().iter().any(|h| h == "SITE01"), "{}: chains tie the connector lines", d.key);
    }
    assert!(took.as_secs() < 60, "{count} events took {took:?}");
}

/// `CMTRACE_FLEET=20000 cargo test -p cmtrace-analysis --release fleet_scale -- --ignored --nocapture`
#[test]
#[ignore = "timing run; size from CMTRACE_FLEET"]
fn fleet_scale() {
    let n: u32 = std::env::var("CMTRACE_FLEET").ok().and_then(|v| v.parse().ok()).unwrap_or(5_000);
    let mut kit = Kit::new();
    for i in 0..n {
        let mut d = Dev::new(&format!("PC{i:06}"), i);
        d.thread = 100 + i % 16;
        healthy(&mut kit, &d, i as i64 * 700);
    }
    let (inputs, events) = kit.build();
    let count = events.len();
    let started = std::time::Instant::now();
    let a = analyze(inputs, events);
    eprintln!("{n} devices, {count} events: {:?}", started.elapsed());
    assert_eq!(a.devices.len(), n as usize);
}

#[test]
fn blocks_split_at_the_next_request_and_distrust_threadless_interleaving() {
    let d1 = Dev::new("CLIENT01", 1);
    let d2 = Dev::new("CLIENT02", 2);
    let mut kit = Kit::new();
    sts_block(&mut kit, &d1, 0, &d1.guid);
    sts_block(&mut kit, &d2, 1_000, &d2.guid);
    let (inputs, mut events) = kit.build();
    // Same thread for both requests, and the first request's return line is lost.
    events.retain(|e| !(matches!(e.kind, EventKind::CcmTokenReturned) && e.time() == Some(at(300))));
    for e in &mut events {
        e.evidence.set_thread(Some(9));
    }
    let a = analyze(inputs, events);
    assert_eq!(a.requests.len(), 2);
    assert_eq!(a.devices.len(), 2, "{:?}", a.devices.iter().map(|d| &d.key).collect::<Vec<_>>());

    // Interleaved without thread ids: the lines cannot be told apart and link nothing wrongly.
    let mut kit = Kit::new();
    sts_block(&mut kit, &d1, 0, &d1.guid);
    sts_block(&mut kit, &d2, 50, &d2.guid);
    let (inputs, mut events) = kit.build();
    for e in &mut events {
        e.evidence.set_thread(None);
    }
    let a = analyze(inputs, events);
    for d in &a.devices {
        let ids = format!("{:?}{:?}", d.aad_device_ids(), d.client_ids());
        let mixes = [&d1, &d2].iter().all(|x| ids.contains(&x.aad_device) || ids.contains(&x.guid));
        assert!(!mixes, "{d:?}");
    }
    assert!(
        a.requests.iter().all(|r| r.device.is_none()),
        "interleaved lines without threads are not attributed"
    );
}

#[test]
fn bootstrap_exit_zero_then_service_failure_fails_the_install() {
    let d = Dev::new("CLIENT01", 1);
    let mut kit = Kit::new();
    let c = LogKind::Ccmsetup;
    kit.ev("CLIENT01", c, 0, EventKind::CcmsetupExit { code: 0 });
    install(&mut kit, &d, SEC);
    // The ccmsetup service fails after the successful exit of the first run.
    kit.ev("CLIENT01", c, 10 * MIN, EventKind::ErrorLogged { code: Some("0x80190194".into()) });
    kit.ev("CLIENT01", c, 10 * MIN + 5, EventKind::CcmsetupExit { code: 0x80190194 });
    let a = run(&kit);
    let dev = &a.devices[DeviceIx::FIRST];
    let client = dev.phase(PhaseId::InstallClient).unwrap();
    assert_eq!(client.status, PhaseStatus::Failed);
    assert!(client.evidence.last().unwrap().text.get().starts_with("ccmsetup_exit"));
    assert!(client.reason.contains("ccmsetup.log on CLIENT01"));
    assert_eq!(status(dev, PhaseId::InstallAadInfo), PhaseStatus::Ok);
    assert_eq!(status(dev, PhaseId::InstallContent), PhaseStatus::Ok, "the error came after the location");
}

#[test]
fn renewal_fails_when_the_last_expiry_is_not_followed_by_a_cache() {
    let d = Dev::new("CLIENT01", 1);
    let mut kit = Kit::new();
    healthy(&mut kit, &d, 0);
    let m = LogKind::CcmMessaging;
    let t = 17 * HOUR;
    kit.ev(
        "CLIENT01",
        m,
        t,
        EventKind::CcmTokenExpiring { sid: d.user_sid.as_str().into(), expires_local: None },
    );
    kit.ev("CLIENT01", m, t + SEC, EventKind::CcmTokenRequested { sts_url: CMG_STS.into() });
    kit.ev("CLIENT01", m, t + 2 * SEC, EventKind::CcmTokenFailed { hresult: Some("0x87d0027e".into()) });
    let a = run(&kit);
    let p = a.devices[DeviceIx::FIRST].phase(PhaseId::RenewalCcmToken).unwrap();
    assert_eq!(p.status, PhaseStatus::Failed);
    assert_eq!(p.evidence.len(), 2, "the expiry notice and the failure");
    assert!(p.evidence[0].text.get().starts_with("ccm_token_expiring"));

    // Expiring with nothing after it: missing, the notice is the evidence.
    let mut kit = Kit::new();
    healthy(&mut kit, &d, 0);
    kit.ev(
        "CLIENT01",
        m,
        t,
        EventKind::CcmTokenExpiring { sid: d.user_sid.as_str().into(), expires_local: None },
    );
    let a = run(&kit);
    let p = a.devices[DeviceIx::FIRST].phase(PhaseId::RenewalCcmToken).unwrap();
    assert_eq!(p.status, PhaseStatus::Missing);
    assert_eq!(p.evidence.len(), 1);
}

#[test]
fn device_token_failure_then_user_token_is_ok() {
    let d = Dev::new("CLIENT01", 1);
    let mut kit = Kit::new();
    install(&mut kit, &d, 0);
    let a = run(&kit);
    let p = a.devices[DeviceIx::FIRST].phase(PhaseId::InstallAadToken).unwrap();
    assert_eq!(p.status, PhaseStatus::Ok);
    assert!(p.evidence.last().unwrap().text.get().starts_with("aad_token_acquired"));

    // Both tokens failing: failed, with the failures as evidence.
    let mut kit = Kit::new();
    let c = LogKind::Ccmsetup;
    kit.ev("CLIENT01", c, 0, aad_requested(AadTokenKind::Device));
    let failed =
        || EventKind::AadTokenFailed { sid: None, status: Some("5".into()), hresult: None, details: None };
    kit.ev("CLIENT01", c, 100, failed());
    kit.ev("CLIENT01", c, 200, aad_requested(AadTokenKind::User));
    kit.ev("CLIENT01", c, 300, failed());
    let a = run(&kit);
    let p = a.devices[DeviceIx::FIRST].phase(PhaseId::InstallAadToken).unwrap();
    assert_eq!(p.status, PhaseStatus::Failed);
    assert_eq!(p.evidence.len(), 3, "the first request and both failures: {:?}", p.evidence);
}

#[test]
fn a_wrong_management_point_clock_is_blamed_on_the_management_point() {
    // Two clients and the connector agree; the MP runs 6 minutes fast.
    let (d1, d2) = (Dev::new("CLIENT01", 1), Dev::new("CLIENT02", 2));
    let mut kit = Kit::new();
    kit.skew("MP01", 6 * MIN);
    healthy(&mut kit, &d1, 0);
    healthy(&mut kit, &d2, 10 * MIN);
    let a = run(&kit);
    let mp = a.host_offset("MP01").expect("estimated");
    assert!(!mp.reference && mp.applied, "{mp:?}");
    assert!((mp.offset_ms - 6 * MIN).abs() <= 2 * SEC, "{mp:?}");
    assert!(!mp.pairs.is_empty());
    for h in ["CLIENT01", "CLIENT02"] {
        let o = a.host_offset(h).expect("estimated");
        assert!(!o.applied && o.offset_ms.abs() <= 2 * SEC, "{o:?}");
    }
    let findings = crate::rules::evaluate(&a);
    let skew: Vec<_> = findings.iter().filter(|f| f.rule == "clock-skew").collect();
    assert_eq!(skew.len(), 1, "{skew:?}");
    assert_eq!(skew[0].host.as_deref(), Some("MP01"));
    assert_eq!(skew[0].device, None, "a server's clock is no device's");
}

#[test]
fn one_wrong_client_clock_keeps_the_management_point_as_reference() {
    let (d1, d2) = (Dev::new("CLIENT01", 1), Dev::new("CLIENT02", 2));
    let mut kit = Kit::new();
    kit.skew("CLIENT01", 6 * MIN);
    healthy(&mut kit, &d1, 0);
    healthy(&mut kit, &d2, 10 * MIN);
    let a = run(&kit);
    assert!(a.host_offset("MP01").is_some_and(|o| o.reference));
    assert!(a.host_offset("CLIENT01").is_some_and(|o| o.applied));
}

/// The same host name with a new SMS GUID a day later: two devices, each with its own phases.
#[test]
fn a_reimaged_host_is_two_devices() {
    let old = Dev::new("PC042", 1);
    let mut new = Dev::new("PC042", 2);
    new.aad_device = "8d2b4ff9-0172-4998-9851-0000000000ff".into();
    let mut kit = Kit::new();
    install(&mut kit, &old, 0);
    register(&mut kit, &old, 10 * MIN);
    // The old image's last ccmsetup run fails; the machine is re-imaged and installs again a day later.
    kit.ev("PC042", LogKind::Ccmsetup, 20 * MIN, EventKind::CcmsetupExit { code: 0x80070643 });
    healthy(&mut kit, &new, 24 * 60 * MIN);
    let a = run(&kit);
    let keys: Vec<&str> = a.devices.iter().map(|d| d.key.as_str()).collect();
    assert!(keys.contains(&old.guid.as_str()) && keys.contains(&new.guid.as_str()), "{keys:?}");
    assert_eq!(status(device(&a, &old.guid), PhaseId::InstallClient), PhaseStatus::Failed);
    assert_eq!(status(device(&a, &new.guid), PhaseId::InstallClient), PhaseStatus::Ok);
    assert_eq!(*device(&a, &old.guid).client_hosts(), vec!["PC042".to_string()]);
}

/// One GUID on two client hosts at the same time: one device, and duplicate-client-id says so.
#[test]
fn a_cloned_guid_on_two_hosts_is_reported() {
    let d1 = Dev::new("CLONE01", 1);
    let mut d2 = Dev::new("CLONE02", 1);
    d2.aad_device = "8d2b4ff9-0172-4998-9851-0000000000ee".into();
    let mut kit = Kit::new();
    kit.ev(
        "CLONE01",
        LogKind::ClientIdManagerStartup,
        0,
        EventKind::Registered { client_guid: Some(d1.guid.as_str().into()), approval: Some(1) },
    );
    kit.ev(
        "CLONE02",
        LogKind::ClientIdManagerStartup,
        SEC,
        EventKind::Registered { client_guid: Some(d2.guid.as_str().into()), approval: Some(1) },
    );
    kit.ev("CLONE01", LogKind::ClientIdManagerStartup, MIN, EventKind::ClientStartup { version: None });
    kit.ev("CLONE02", LogKind::ClientIdManagerStartup, MIN, EventKind::ClientStartup { version: None });
    let a = run(&kit);
    let findings = crate::rules::evaluate(&a);
    let dup: Vec<_> = findings.iter().filter(|f| f.rule == "duplicate-client-id").collect();
    assert_eq!(dup.len(), 1, "{findings:?}");
    assert_eq!(dup[0].evidence.len(), 2);

    // The same GUID on two hosts one after the other (not at the same time) is no duplicate.
    let mut kit = Kit::new();
    kit.ev(
        "CLONE01",
        LogKind::ClientIdManagerStartup,
        0,
        EventKind::Registered { client_guid: Some(d1.guid.as_str().into()), approval: Some(1) },
    );
    kit.ev(
        "CLONE02",
        LogKind::ClientIdManagerStartup,
        48 * 60 * MIN,
        EventKind::Registered { client_guid: Some(d2.guid.as_str().into()), approval: Some(1) },
    );
    let a = run(&kit);
    assert!(!crate::rules::evaluate(&a).iter().any(|f| f.rule == "duplicate-client-id"));
}

/// A time chain never joins two client hosts: CLIENT02's CCM token request is the only one in the window
/// of a CCM_STS request whose own identifiers (GUID, Azure AD device) are CLIENT01's. Tying them by time
/// would make one device of two PCs; they stay two, and the request stays CLIENT01's by its identifiers.
#[test]
fn a_time_chain_never_joins_two_client_hosts() {
    let d1 = Dev::new("CLIENT01", 1);
    let d2 = Dev::new("CLIENT02", 2);
    let mut kit = Kit::new();
    let c = LogKind::ClientIdManagerStartup;
    for d in [&d1, &d2] {
        kit.ev(
            &d.host,
            c,
            0,
            EventKind::Registered { client_guid: Some(d.guid.as_str().into()), approval: Some(1) },
        );
    }
    // CLIENT02 asks for a CCM token; the only CCM_STS request in its window names CLIENT01's GUID and
    // Azure AD device (CLIENT01 asks nothing near it: the chain is unique on both sides).
    kit.ev(
        &d2.host,
        LogKind::CcmMessaging,
        10 * MIN,
        EventKind::CcmTokenRequested { sts_url: MP_STS.into() },
    );
    sts_block(&mut kit, &d1, 10 * MIN + 400, &d1.guid);
    let a = run(&kit);

    let keys: Vec<&str> = a.devices.iter().map(|d| d.key.as_str()).collect();
    assert_eq!(a.devices.len(), 2, "two client hosts merged into one device: {keys:?}");
    let (x1, x2) = (device(&a, &d1.guid), device(&a, &d2.guid));
    assert_eq!(*x1.client_hosts(), vec!["CLIENT01"]);
    assert_eq!(*x2.client_hosts(), vec!["CLIENT02"]);
    assert_eq!(*x1.hosts(), vec!["CLIENT01", "MP01"]);
    assert_eq!(*x2.hosts(), vec!["CLIENT02"]);
    assert_eq!(*x2.aad_device_ids(), Vec::<String>::new());
    assert_eq!(a.requests.len(), 1);
    let dev1 = a.devices.position(|d| d.key == d1.guid);
    assert_eq!((a.requests.get(0).device, a.requests.get(0).attribution), (dev1, Attribution::Identifiers));
}
