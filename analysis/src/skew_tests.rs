//! Tests of the clock-skew estimator on hand-made inputs (hosts, events, request blocks and device
//! components given directly), asserting the exact intervals, offsets and verdicts the code computes.
//! Offsets are "host clock minus reference clock"; the management point is the reference.

use chrono::{DateTime, NaiveDateTime};

use cmtrace_parsers::{Event, EventKind, EventStore, LogKind, SharedStr};

use super::*;
use crate::correlate::{Blocks, HostRoles, RequestKind};
use crate::index::{OptU32, TimeMs};
use crate::testkit::{event_at_line, CMG_STS, HOUR, MIN, MP_STS};

/// 2020-06-24 15:00:00 UTC in ms: every raw time below is this plus a few hours at most.
const BASE: i64 = 1_593_010_800_000;

#[derive(Clone, Copy)]
enum Role {
    /// The management point: a server and the reference clock.
    Mp,
    /// A server that is not the reference (CMG, connection point).
    Server,
    Client,
    /// A site server that also runs the ConfigMgr client.
    ClientAndServer,
}

/// The estimator's input, built by hand: raw times are `BASE + ms` in the host's own clock.
struct Scene {
    names: Vec<SharedStr>,
    is_client: Vec<bool>,
    is_server: Vec<bool>,
    is_reference: Vec<bool>,
    events: Vec<Event>,
    host_of: Vec<u32>,
    raw_ms: Vec<TimeMs>,
    event_root: Vec<OptU32>,
    blocks: Blocks,
    block_root: Vec<Option<usize>>,
}

impl Scene {
    fn new(hosts: &[(&str, Role)]) -> Scene {
        Scene {
            names: hosts.iter().map(|(n, _)| SharedStr::from(*n)).collect(),
            is_client: hosts.iter().map(|(_, r)| matches!(r, Role::Client | Role::ClientAndServer)).collect(),
            is_server: hosts
                .iter()
                .map(|(_, r)| matches!(r, Role::Mp | Role::Server | Role::ClientAndServer))
                .collect(),
            is_reference: hosts.iter().map(|(_, r)| matches!(r, Role::Mp)).collect(),
            events: Vec::new(),
            host_of: Vec::new(),
            raw_ms: Vec::new(),
            event_root: Vec::new(),
            blocks: Blocks::default(),
            block_root: Vec::new(),
        }
    }

    /// An event at raw time `BASE + ms` on `host`, in device component `root`; returns its position.
    fn ev(&mut self, host: usize, log_kind: LogKind, ms: i64, root: Option<usize>, kind: EventKind) -> usize {
        let mut e = event_at_line(self.events.len() as u32 + 1);
        e.kind = kind;
        e.log_kind = log_kind;
        e.set_bias_minutes(Some(0));
        e.evidence.set_host(self.names[host].clone());
        self.events.push(e);
        self.host_of.push(host as u32);
        self.raw_ms.push(TimeMs::new(Some(BASE + ms)));
        self.event_root.push(OptU32::new(root.map(|r| r as u32)));
        self.events.len() - 1
    }

    fn block(&mut self, kind: RequestKind, host: usize, events: Vec<usize>, root: Option<usize>) {
        let events: Vec<u32> = events.into_iter().map(|i| i as u32).collect();
        self.blocks.push((kind, host), &events, &[], &[]);
        self.block_root.push(root);
    }

    /// The client asks for a CCM token (`Getting CCM Token`).
    fn request(&mut self, host: usize, ms: i64, root: Option<usize>) -> usize {
        self.ev(host, LogKind::Ccmsetup, ms, root, EventKind::CcmTokenRequested { sts_url: MP_STS.into() })
    }

    /// A CCM_STS request block on the MP starting at `ms`; returns its first line.
    fn sts(&mut self, mp: usize, ms: i64, root: Option<usize>) -> usize {
        let i = self.ev(mp, LogKind::CcmSts, ms, None, EventKind::StsRequestReceived { url: None });
        self.block(RequestKind::CcmSts, mp, vec![i], root);
        i
    }

    /// The MP's `Created SCCM token` line (not in a block).
    fn issued(&mut self, host: usize, ms: i64) -> usize {
        self.ev(host, LogKind::CcmSts, ms, None, issued_kind())
    }

    /// The client caches a token issued at `issue_ms` (raw, issuer's clock, whole seconds); bias 0.
    fn cached(&mut self, host: usize, log_kind: LogKind, ms: i64, issue_ms: i64) -> usize {
        let expiry = expiry_local(issue_ms);
        self.ev(
            host,
            log_kind,
            ms,
            None,
            EventKind::CcmTokenCached { sid: "S-1-5-18".into(), expires_local: Some(expiry) },
        )
    }

    /// A connector `Switched to internal URL` line for CCM_STS.
    fn connector(&mut self, host: usize, ms: i64) -> usize {
        self.ev(
            host,
            LogKind::CloudProxyConnector,
            ms,
            None,
            EventKind::ProxyUrlRewritten { from: CMG_STS.into(), to: MP_STS.into() },
        )
    }

    fn with_input<R>(&self, f: impl FnOnce(&SkewInput) -> R) -> R {
        let events = EventStore::from(self.events.clone());
        let roles =
            HostRoles { host_of: &self.host_of, is_client: &self.is_client, is_server: &self.is_server };
        f(&SkewInput {
            events: &events,
            raw_ms: &self.raw_ms,
            roles: &roles,
            host_names: &self.names,
            is_reference: &self.is_reference,
            blocks: &self.blocks,
            block_root: &self.block_root,
            event_root: &self.event_root,
        })
    }

    /// Every pair, as (relation, a's host, a's event, b's host, b's event, latency).
    fn pairs(&self) -> Vec<PairView> {
        self.with_input(|input| {
            collect_pairs(input, self.names.len())
                .iter()
                .map(|p| PairView {
                    relation: p.relation,
                    a_host: p.a.host(),
                    a_event: p.a.event(),
                    a_ms: p.a.ms - BASE,
                    b_host: p.b.host(),
                    b_event: p.b.event(),
                    b_ms: p.b.ms - BASE,
                    latency: p.latency,
                })
                .collect()
        })
    }

    fn pairs_of(&self, relation: SkewRelation) -> Vec<PairView> {
        self.pairs().into_iter().filter(|p| p.relation == relation).collect()
    }

    fn estimate(&self) -> (Vec<HostOffset>, Vec<i64>) {
        self.with_input(estimate)
    }
}

/// A pair with its times relative to `BASE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PairView {
    relation: SkewRelation,
    a_host: usize,
    a_event: Option<usize>,
    a_ms: i64,
    b_host: usize,
    b_event: Option<usize>,
    b_ms: i64,
    latency: i64,
}

fn issued_kind() -> EventKind {
    EventKind::CcmTokenIssued { token_type: None, hierarchy: None, cm_user: None, client_guid: None }
}

/// The client-local expiry (bias 0) of a token issued at raw `BASE + issue_ms`.
fn expiry_local(issue_ms: i64) -> NaiveDateTime {
    DateTime::from_timestamp_millis(BASE + issue_ms + CCM_TOKEN_LIFETIME_MS).expect("valid").naive_utc()
}

fn offset_of<'a>(out: &'a [HostOffset], host: &str) -> &'a HostOffset {
    out.iter().find(|o| o.host == host).unwrap_or_else(|| panic!("no offset for {host}: {out:?}"))
}

fn pair(relation: SkewRelation, host_event: usize, other: Option<usize>, min: i64, max: i64) -> SkewPair {
    SkewPair {
        relation,
        host_event: EventIx::from(host_event),
        other_event: other.map(EventIx::from),
        min_offset_ms: min,
        max_offset_ms: max,
    }
}

const MP: usize = 0;
const CLIENT: usize = 1;

/// The MP and one client.
fn mp_and_client() -> Scene {
    Scene::new(&[("MP01", Role::Mp), ("CLIENT01", Role::Client)])
}

/// A device-linked request → CCM_STS round trip: the client asks at raw `t + d`, the MP's block starts at
/// raw `t`, so the pair says the client's offset is in `[d, d + 10 s]`. Returns (request, sts line).
fn round_trip(s: &mut Scene, client: usize, t: i64, d: i64, root: usize) -> (usize, usize) {
    let r = s.request(client, t + d, Some(root));
    let b = s.sts(MP, t, Some(root));
    (r, b)
}

// ---------------------------------------------------------------------------------------------------
// The names in reports.

#[test]
fn relations_have_their_report_names() {
    let names: Vec<&str> = [
        SkewRelation::TokenExpiry,
        SkewRelation::RequestBeforeSts,
        SkewRelation::IssueBeforeCache,
        SkewRelation::RegistrationRequestBeforeMp,
        SkewRelation::MpRegistrationBeforeRegistered,
        SkewRelation::ConnectorBeforeSts,
        SkewRelation::RequestBeforeConnector,
    ]
    .iter()
    .map(|r| r.as_str())
    .collect();
    assert_eq!(
        names,
        [
            "token_expiry",
            "request_before_sts",
            "issue_before_cache",
            "registration_request_before_mp",
            "mp_registration_before_registered",
            "connector_before_sts",
            "request_before_connector"
        ]
    );
}

// ---------------------------------------------------------------------------------------------------
// vote and covers.

fn ob(lo: i64, hi: i64, key: u64) -> Obs {
    Obs { lo, hi, key, pair: 0 }
}

#[test]
fn vote_takes_the_lower_middle_of_a_closed_interval() {
    // [10, 19] holds 10 points: the lower of the two middle ones.
    let v = vote(&[ob(10, 19, 1)]).unwrap();
    assert_eq!((v.offset, v.support, v.observed, v.second), (14, 1, 1, 0));
    // [10, 20] holds 11 points: the middle one.
    let v = vote(&[ob(10, 20, 1)]).unwrap();
    assert_eq!((v.offset, v.support, v.observed, v.second), (15, 1, 1, 0));
}

#[test]
fn vote_of_nothing_is_none() {
    assert!(vote(&[]).is_none());
}

#[test]
fn adjacent_best_segments_are_one_region() {
    // Key 1 has two overlapping candidates: the coverage stays 2 over [100, 110] though the counts change
    // at 103 and 106; the region is the whole of it.
    let v = vote(&[ob(100, 105, 1), ob(103, 110, 1), ob(100, 110, 2)]).unwrap();
    assert_eq!((v.offset, v.support, v.observed, v.second), (105, 2, 2, 0));
}

#[test]
fn separate_best_regions_are_not_merged_and_the_far_one_competes() {
    let v =
        vote(&[ob(100, 110, 1), ob(100, 110, 2), ob(200_100, 200_110, 3), ob(200_100, 200_110, 4)]).unwrap();
    assert_eq!((v.offset, v.support, v.observed, v.second), (105, 2, 4, 2));
}

#[test]
fn a_region_holding_zero_wins_even_when_not_the_first() {
    let v = vote(&[ob(-100_010, -100_001, 1), ob(-5, 5, 2)]).unwrap();
    assert_eq!((v.offset, v.support, v.observed, v.second), (0, 1, 2, 1));
}

#[test]
fn a_region_ending_just_below_zero_does_not_hold_zero() {
    // [-10, -1] ends before 0: the first region is taken, not this one, and not 0.
    let v = vote(&[ob(-100_010, -100_001, 1), ob(-10, -1, 2)]).unwrap();
    assert_eq!((v.offset, v.support, v.observed), (-100_006, 1, 2));
    let v = vote(&[ob(-10, -1, 1)]).unwrap();
    assert_eq!(v.offset, -6);
}

#[test]
fn a_competing_segment_must_start_beyond_the_reach() {
    // Offset 105, reach = widest interval (10) + 5 s = 5 010: a segment starting at 5 115 is within it.
    let v = vote(&[ob(100, 110, 1), ob(5_115, 5_125, 2)]).unwrap();
    assert_eq!((v.offset, v.support, v.second), (105, 1, 0));
    let v = vote(&[ob(100, 110, 1), ob(5_116, 5_126, 2)]).unwrap();
    assert_eq!((v.offset, v.support, v.second), (105, 1, 1));
}

#[test]
fn a_competing_segment_must_end_before_the_reach() {
    // Offset 105 (support 2), reach 5 010: a segment ending (exclusive) at 105 - 5 010 is out of reach,
    // one ending a point later is not.
    let v = vote(&[ob(-4_916, -4_906, 1), ob(100, 110, 2), ob(100, 110, 3)]).unwrap();
    assert_eq!((v.offset, v.support, v.second), (105, 2, 1));
    let v = vote(&[ob(-4_915, -4_905, 1), ob(100, 110, 2), ob(100, 110, 3)]).unwrap();
    assert_eq!((v.offset, v.support, v.second), (105, 2, 0));
}

#[test]
fn covers_is_the_closed_interval() {
    let v = VoteResult { offset: 10, support: 1, observed: 1, second: 0, consistent: true };
    assert!(v.covers(&ob(10, 10, 1)));
    assert!(v.covers(&ob(0, 10, 1)));
    assert!(v.covers(&ob(10, 20, 1)));
    assert!(!v.covers(&ob(0, 9, 1)), "entirely below");
    assert!(!v.covers(&ob(11, 20, 1)), "entirely above");
}

// ---------------------------------------------------------------------------------------------------
// estimate: consistency, application, evidence.

#[test]
fn two_agreeing_requests_give_a_consistent_offset_of_exactly_two_minutes_not_applied() {
    let mut s = mp_and_client();
    let (r1, b1) = round_trip(&mut s, CLIENT, 0, 115_000, 1);
    let (r2, b2) = round_trip(&mut s, CLIENT, 5 * HOUR, 115_000, 2);
    let (out, correlation) = s.estimate();
    let o = offset_of(&out, "CLIENT01");
    assert_eq!((o.offset_ms, o.support, o.observations), (120_000, 2, 2), "{o:?}");
    assert!(o.consistent && !o.reference);
    assert!(!o.applied, "exactly the threshold is not beyond it");
    assert_eq!(
        o.pairs,
        vec![
            pair(SkewRelation::RequestBeforeSts, r1, Some(b1), 115_000, 125_000),
            pair(SkewRelation::RequestBeforeSts, r2, Some(b2), 115_000, 125_000),
        ]
    );
    assert_eq!(correlation, vec![0, 120_000], "a consistent estimate is used for correlation");
    let mp = offset_of(&out, "MP01");
    assert!(mp.reference && mp.consistent && !mp.applied && mp.offset_ms == 0 && mp.pairs.is_empty());
}

#[test]
fn one_millisecond_beyond_two_minutes_is_applied() {
    let mut s = mp_and_client();
    round_trip(&mut s, CLIENT, 0, 115_001, 1);
    round_trip(&mut s, CLIENT, 5 * HOUR, 115_001, 2);
    let (out, correlation) = s.estimate();
    let o = offset_of(&out, "CLIENT01");
    assert_eq!((o.offset_ms, o.support, o.observations), (120_001, 2, 2), "{o:?}");
    assert!(o.consistent && o.applied);
    assert_eq!(correlation, vec![0, 120_001]);
}

#[test]
fn one_request_alone_is_not_consistent() {
    let mut s = mp_and_client();
    let (r, b) = round_trip(&mut s, CLIENT, 0, 175_000, 1);
    let (out, correlation) = s.estimate();
    let o = offset_of(&out, "CLIENT01");
    assert_eq!((o.offset_ms, o.support, o.observations), (180_000, 1, 1), "{o:?}");
    assert!(!o.consistent && !o.applied, "{o:?}");
    assert_eq!(o.pairs, vec![pair(SkewRelation::RequestBeforeSts, r, Some(b), 175_000, 185_000)]);
    assert_eq!(correlation, vec![0, 0], "an inconsistent estimate is not used");
}

#[test]
fn one_token_expiry_confirmed_by_the_issue_line_is_consistent() {
    // The MP issues at raw 0; the client, 3 min ahead, caches it 1 s later: raw 181 000.
    let mut s = mp_and_client();
    let issue = s.issued(MP, 0);
    let cache = s.cached(CLIENT, LogKind::Ccmsetup, 181_000, 0);
    let (out, correlation) = s.estimate();
    let o = offset_of(&out, "CLIENT01");
    assert_eq!((o.offset_ms, o.support, o.observations), (176_000, 1, 1), "{o:?}");
    assert!(o.consistent && o.applied, "{o:?}");
    assert_eq!(o.pairs, vec![pair(SkewRelation::TokenExpiry, cache, Some(issue), 171_000, 181_000)]);
    assert_eq!(correlation, vec![0, 176_000]);
}

#[test]
fn one_token_expiry_without_the_issue_line_is_not_consistent() {
    // Without the MP's line the issue time is only known to the second: a 1 s wider interval.
    let mut s = mp_and_client();
    let cache = s.cached(CLIENT, LogKind::Ccmsetup, 181_000, 0);
    let (out, correlation) = s.estimate();
    let o = offset_of(&out, "CLIENT01");
    assert_eq!((o.offset_ms, o.support, o.observations), (175_500, 1, 1), "{o:?}");
    assert!(!o.consistent && !o.applied, "{o:?}");
    assert_eq!(o.pairs, vec![pair(SkewRelation::TokenExpiry, cache, None, 170_000, 181_000)]);
    assert_eq!(correlation, vec![0, 0]);
}

#[test]
fn a_confirmed_expiry_is_not_enough_when_most_observations_disagree() {
    // The confirmed expiry says [-5 s, 5 s]; two requests (each alone) say [5 002, 15 002] and
    // [-15 002, -5 002]: within reach of 0, so no competitor, but 1 of 3 is less than half.
    let mut s = mp_and_client();
    let issue = s.issued(MP, 0);
    let cache = s.cached(CLIENT, LogKind::Ccmsetup, 5_000, 0);
    round_trip(&mut s, CLIENT, 5 * HOUR, 5_002, 1);
    round_trip(&mut s, CLIENT, 10 * HOUR, -15_002, 2);
    let (out, correlation) = s.estimate();
    let o = offset_of(&out, "CLIENT01");
    assert_eq!((o.offset_ms, o.support, o.observations), (0, 1, 3), "{o:?}");
    assert!(!o.consistent && !o.applied, "{o:?}");
    assert_eq!(o.pairs, vec![pair(SkewRelation::TokenExpiry, cache, Some(issue), -5_000, 5_000)]);
    assert_eq!(correlation, vec![0, 0]);
}

#[test]
fn two_far_apart_offsets_with_equal_support_are_not_consistent() {
    // Two requests say [175 000, 185 000], two others [300 000, 310 000]: the first region is taken, but
    // the other has as much support.
    let mut s = mp_and_client();
    for (n, d) in [175_000, 175_000, 300_000, 300_000].into_iter().enumerate() {
        round_trip(&mut s, CLIENT, n as i64 * 5 * HOUR, d, n + 1);
    }
    let (out, correlation) = s.estimate();
    let o = offset_of(&out, "CLIENT01");
    assert_eq!((o.offset_ms, o.support, o.observations), (180_000, 2, 4), "{o:?}");
    assert!(!o.consistent && !o.applied, "{o:?}");
    assert_eq!(correlation, vec![0, 0]);
}

#[test]
fn evidence_keeps_only_the_pairs_that_agree() {
    let mut s = mp_and_client();
    let (r1, b1) = round_trip(&mut s, CLIENT, 0, 175_000, 1);
    let (r2, b2) = round_trip(&mut s, CLIENT, 5 * HOUR, 175_000, 2);
    let (r3, b3) = round_trip(&mut s, CLIENT, 10 * HOUR, 176_000, 3);
    round_trip(&mut s, CLIENT, 15 * HOUR, 100_000, 4);
    let (out, _) = s.estimate();
    let o = offset_of(&out, "CLIENT01");
    // [175 000, 185 000] twice and [176 000, 186 000]: the common part is [176 000, 185 000].
    assert_eq!((o.offset_ms, o.support, o.observations), (180_500, 3, 4), "{o:?}");
    assert!(o.consistent && o.applied);
    assert_eq!(
        o.pairs,
        vec![
            pair(SkewRelation::RequestBeforeSts, r1, Some(b1), 175_000, 185_000),
            pair(SkewRelation::RequestBeforeSts, r2, Some(b2), 175_000, 185_000),
            pair(SkewRelation::RequestBeforeSts, r3, Some(b3), 176_000, 186_000),
        ]
    );
}

#[test]
fn a_clients_offset_is_estimated_through_the_connector_once_the_connector_is_known() {
    // Only global pairs (no device components). The connector runs 5 min behind and the client 3 min
    // ahead: round 1 estimates the connector against the MP, round 2 the client against the connector.
    let mut s = Scene::new(&[("MP01", Role::Mp), ("SITE01", Role::Server), ("CLIENT01", Role::Client)]);
    let (site, client) = (1, 2);
    let mut connector_lines = Vec::new();
    let mut requests = Vec::new();
    for t in [0, 5 * HOUR] {
        requests.push(s.request(client, t + 3 * MIN, None));
        connector_lines.push(s.connector(site, t + 300 - 5 * MIN));
        s.sts(MP, t + 400, None);
    }
    let (out, correlation) = s.estimate();
    // Connector: [-300 100, -297 100] twice → -298 600.
    let c = offset_of(&out, "SITE01");
    assert_eq!((c.offset_ms, c.support, c.observations), (-298_600, 2, 2), "{c:?}");
    assert!(c.consistent && c.applied);
    assert!(c.pairs.iter().all(|p| p.relation == SkewRelation::ConnectorBeforeSts
        && (p.min_offset_ms, p.max_offset_ms) == (-300_100, -297_100)));
    // Client: d = 3 min - (300 - 5 min) = 479 700, plus the connector's -298 600: [181 100, 186 100].
    let o = offset_of(&out, "CLIENT01");
    assert_eq!((o.offset_ms, o.support, o.observations), (183_600, 2, 2), "{o:?}");
    assert!(o.consistent && o.applied);
    assert_eq!(
        o.pairs,
        vec![
            pair(
                SkewRelation::RequestBeforeConnector,
                requests[0],
                Some(connector_lines[0]),
                181_100,
                186_100
            ),
            pair(
                SkewRelation::RequestBeforeConnector,
                requests[1],
                Some(connector_lines[1]),
                181_100,
                186_100
            ),
        ]
    );
    assert_eq!(correlation, vec![0, -298_600, 183_600]);
}

#[test]
fn one_request_paired_by_two_relations_is_two_observations() {
    // One client request pairs with its CCM_STS block (device-linked) and with a connector line (global,
    // once the connector's offset, 0, is known from two other round trips): two relations of one event
    // are two observations.
    let mut s = Scene::new(&[("MP01", Role::Mp), ("SITE01", Role::Server), ("CLIENT01", Role::Client)]);
    let (site, client) = (1, 2);
    for t in [0, 5 * HOUR] {
        s.connector(site, t + 300);
        s.sts(MP, t + 400, None);
    }
    let r = s.request(client, 10 * HOUR, Some(1));
    let c = s.connector(site, 10 * HOUR + 300);
    let b = s.sts(MP, 10 * HOUR + 400, Some(1));
    let (out, correlation) = s.estimate();
    let o = offset_of(&out, "CLIENT01");
    assert_eq!((o.offset_ms, o.support, o.observations, o.consistent), (0, 2, 2, true), "{o:?}");
    assert_eq!(
        o.pairs,
        vec![
            pair(SkewRelation::RequestBeforeSts, r, Some(b), -400, 9_600),
            pair(SkewRelation::RequestBeforeConnector, r, Some(c), -300, 4_700),
        ]
    );
    assert_eq!(correlation, vec![0, 0, 0]);
}

// ---------------------------------------------------------------------------------------------------
// blame_the_reference.

/// The MP and two clients; each client has two round trips saying `[d, d + 10 s]`.
fn two_clients_behind_the_mp(d1: i64, d2: i64) -> (Scene, Vec<(usize, usize)>) {
    let mut s = Scene::new(&[("MP01", Role::Mp), ("CLIENT01", Role::Client), ("CLIENT02", Role::Client)]);
    let trips = vec![
        round_trip(&mut s, 1, 0, d1, 1),
        round_trip(&mut s, 1, 5 * HOUR, d1, 2),
        round_trip(&mut s, 2, 10 * HOUR, d2, 3),
        round_trip(&mut s, 2, 15 * HOUR, d2, 4),
    ];
    (s, trips)
}

#[test]
fn a_reference_running_ahead_is_blamed_when_both_clients_agree() {
    // The clients say -360 000 and -359 000: the MP runs about 6 min ahead. The median of two is the
    // upper one.
    let (s, trips) = two_clients_behind_the_mp(-365_000, -364_000);
    let (out, correlation) = s.estimate();
    let mp = offset_of(&out, "MP01");
    assert!(!mp.reference && mp.consistent && mp.applied, "{mp:?}");
    assert_eq!((mp.offset_ms, mp.support, mp.observations), (359_000, 4, 4), "{mp:?}");
    // Its evidence: the clients' pairs seen from the MP's side, bounds negated and swapped.
    let expected: Vec<SkewPair> = trips
        .iter()
        .enumerate()
        .map(|(n, &(r, b))| {
            let (lo, hi) = if n < 2 { (355_000, 365_000) } else { (354_000, 364_000) };
            pair(SkewRelation::RequestBeforeSts, b, Some(r), lo, hi)
        })
        .collect();
    assert_eq!(mp.pairs, expected);
    let c1 = offset_of(&out, "CLIENT01");
    assert_eq!((c1.offset_ms, c1.applied, c1.consistent), (-1_000, false, true), "{c1:?}");
    let c2 = offset_of(&out, "CLIENT02");
    assert_eq!((c2.offset_ms, c2.applied, c2.consistent), (0, false, true), "{c2:?}");
    assert_eq!(correlation, vec![359_000, -1_000, 0]);
}

#[test]
fn one_client_alone_does_not_blame_the_reference() {
    let mut s = mp_and_client();
    round_trip(&mut s, CLIENT, 0, -365_000, 1);
    round_trip(&mut s, CLIENT, 5 * HOUR, -365_000, 2);
    let (out, correlation) = s.estimate();
    assert!(offset_of(&out, "MP01").reference);
    let o = offset_of(&out, "CLIENT01");
    assert_eq!((o.offset_ms, o.applied), (-360_000, true));
    assert_eq!(correlation, vec![0, -360_000]);
}

#[test]
fn clients_disagreeing_with_each_other_keep_the_reference() {
    let (s, _) = two_clients_behind_the_mp(-365_000, -365_000 + 60_001);
    let (out, correlation) = s.estimate();
    assert!(offset_of(&out, "MP01").reference);
    assert_eq!(correlation, vec![0, -360_000, -299_999]);
}

#[test]
fn a_small_common_offset_does_not_blame_the_reference() {
    // Both clients 2 min behind exactly: not beyond the threshold.
    let (s, _) = two_clients_behind_the_mp(-125_000, -125_000);
    let (out, correlation) = s.estimate();
    assert!(offset_of(&out, "MP01").reference);
    assert_eq!(correlation, vec![0, -120_000, -120_000]);
}

/// The MP 6 min ahead of everything; `extra` is a host agreeing with CLIENT01, CLIENT02 has one lone
/// request (inconsistent).
fn mp_ahead_with(extra_role: Role) -> Scene {
    let mut s = Scene::new(&[
        ("MP01", Role::Mp),
        ("CLIENT01", Role::Client),
        ("CLIENT02", Role::Client),
        ("SITE01", extra_role),
    ]);
    round_trip(&mut s, 1, 0, -365_000, 1);
    round_trip(&mut s, 1, 5 * HOUR, -365_000, 2);
    round_trip(&mut s, 2, 10 * HOUR, -365_000, 3);
    match extra_role {
        Role::Server => {
            // A connector: its lines 100 ms before the MP's receipts, in the MP's clock 6 min later.
            for t in [20 * HOUR, 25 * HOUR] {
                s.connector(3, t);
                s.sts(MP, t + 100 + 6 * MIN, None);
            }
        }
        _ => {
            round_trip(&mut s, 3, 20 * HOUR, -365_000, 5);
            round_trip(&mut s, 3, 25 * HOUR, -365_000, 6);
        }
    }
    s
}

#[test]
fn a_reference_is_blamed_when_a_server_and_some_clients_agree() {
    let s = mp_ahead_with(Role::Server);
    let (out, correlation) = s.estimate();
    // Connector: [-360 100, -357 100] → -358 600; CLIENT01 -360 000; the median of two is the upper.
    let mp = offset_of(&out, "MP01");
    assert!(!mp.reference && mp.applied, "{mp:?}");
    assert_eq!((mp.offset_ms, mp.support, mp.observations), (358_600, 4, 4), "{mp:?}");
    assert_eq!(offset_of(&out, "CLIENT01").offset_ms, -1_400);
    assert_eq!(offset_of(&out, "SITE01").offset_ms, 0);
    let c2 = offset_of(&out, "CLIENT02");
    assert!(!c2.consistent && c2.offset_ms == -360_000, "not among the agreeing hosts: {c2:?}");
    assert_eq!(correlation, vec![358_600, -1_400, 0, 0]);
}

#[test]
fn a_server_that_is_also_a_client_is_no_independent_clock() {
    // SITE01 runs the client too: it and CLIENT01 agree but CLIENT02 does not, and no pure server
    // agrees: the MP stays the reference.
    let s = mp_ahead_with(Role::ClientAndServer);
    let (out, correlation) = s.estimate();
    assert!(offset_of(&out, "MP01").reference);
    assert_eq!(offset_of(&out, "SITE01").offset_ms, -360_000);
    assert_eq!(correlation, vec![0, -360_000, 0, -360_000]);
}

// ---------------------------------------------------------------------------------------------------
// collect_pairs and pair_sets.

#[test]
fn registration_gives_request_before_mp_and_mp_before_registered() {
    let mut s = mp_and_client();
    let req = s.ev(
        CLIENT,
        LogKind::ClientIdManagerStartup,
        0,
        Some(1),
        EventKind::RegistrationRequested { client_guid: None },
    );
    let reg = s.ev(
        MP,
        LogKind::MpRegistrationManager,
        2_000,
        None,
        EventKind::MpRegistration { aad_device: None, tenant: None, client_guid: None },
    );
    s.block(RequestKind::MpRegistration, MP, vec![reg], Some(1));
    let done = s.ev(
        CLIENT,
        LogKind::ClientIdManagerStartup,
        3_000,
        Some(1),
        EventKind::Registered { client_guid: None, approval: None },
    );
    assert_eq!(
        s.pairs(),
        vec![
            PairView {
                relation: SkewRelation::RegistrationRequestBeforeMp,
                a_host: CLIENT,
                a_event: Some(req),
                a_ms: 0,
                b_host: MP,
                b_event: Some(reg),
                b_ms: 2_000,
                latency: 10_000,
            },
            PairView {
                relation: SkewRelation::MpRegistrationBeforeRegistered,
                a_host: MP,
                a_event: Some(reg),
                a_ms: 2_000,
                b_host: CLIENT,
                b_event: Some(done),
                b_ms: 3_000,
                latency: 10_000,
            },
        ]
    );
    // [-2 000, 8 000] and [-9 000, 1 000]: 0 is in both.
    let (out, _) = s.estimate();
    let o = offset_of(&out, "CLIENT01");
    assert_eq!((o.offset_ms, o.support, o.observations, o.consistent), (0, 2, 2, true), "{o:?}");
    assert_eq!(
        o.pairs,
        vec![
            pair(SkewRelation::RegistrationRequestBeforeMp, req, Some(reg), -2_000, 8_000),
            pair(SkewRelation::MpRegistrationBeforeRegistered, done, Some(reg), -9_000, 1_000),
        ]
    );
}

#[test]
fn the_issue_line_and_the_cache_of_one_device_pair_by_the_cache() {
    let mut s = mp_and_client();
    let start = s.ev(MP, LogKind::CcmSts, 0, None, EventKind::StsRequestReceived { url: None });
    let issue = s.ev(MP, LogKind::CcmSts, 200, None, issued_kind());
    s.block(RequestKind::CcmSts, MP, vec![start, issue], Some(1));
    let cache = s.ev(
        CLIENT,
        LogKind::Ccmsetup,
        1_000,
        Some(1),
        EventKind::CcmTokenCached { sid: "S-1-5-18".into(), expires_local: None },
    );
    assert_eq!(
        s.pairs(),
        vec![PairView {
            relation: SkewRelation::IssueBeforeCache,
            a_host: MP,
            a_event: Some(issue),
            a_ms: 200,
            b_host: CLIENT,
            b_event: Some(cache),
            b_ms: 1_000,
            latency: 10_000,
        }]
    );
}

#[test]
fn only_client_logs_of_client_hosts_count_as_client_events() {
    // A cache line in a server log of a client host, and one in a client log of a host that is no client.
    let mut s = Scene::new(&[("MP01", Role::Mp), ("CLIENT01", Role::Client), ("SITE01", Role::Server)]);
    s.cached(1, LogKind::CcmSts, 1_000, 0);
    s.cached(2, LogKind::Ccmsetup, 1_000, 0);
    assert_eq!(s.pairs(), vec![]);
    // The same line in a client log of the client host is one.
    let cache = s.cached(1, LogKind::Ccmsetup, 1_000, 0);
    let pairs = s.pairs();
    assert_eq!(pairs.len(), 1);
    assert_eq!((pairs[0].relation, pairs[0].b_event), (SkewRelation::TokenExpiry, Some(cache)));
}

#[test]
fn token_expiry_without_an_issue_line_is_against_the_issuer_with_one_more_second() {
    let mut s = mp_and_client();
    let cache = s.cached(CLIENT, LogKind::Ccmsetup, 181_000, 0);
    assert_eq!(
        s.pairs(),
        vec![PairView {
            relation: SkewRelation::TokenExpiry,
            a_host: 2, // the virtual issuer: one past the hosts
            a_event: None,
            a_ms: 0,
            b_host: CLIENT,
            b_event: Some(cache),
            b_ms: 181_000,
            latency: 11_000,
        }]
    );
}

#[test]
fn token_expiry_with_the_issue_line_is_against_that_line() {
    let mut s = mp_and_client();
    let issue = s.issued(MP, 700);
    let cache = s.cached(CLIENT, LogKind::Ccmsetup, 181_000, 0);
    assert_eq!(
        s.pairs(),
        vec![PairView {
            relation: SkewRelation::TokenExpiry,
            a_host: MP,
            a_event: Some(issue),
            a_ms: 700,
            b_host: CLIENT,
            b_event: Some(cache),
            b_ms: 181_000,
            latency: 10_000,
        }]
    );
}

/// The TokenExpiry pair's other side for a cache of a token issued at raw 10 s, with MP issue lines at
/// `lines` (raw ms, `is_ref`: on the MP, else on a non-reference server).
fn expiry_matched_with(lines: &[(i64, bool)]) -> (Option<usize>, Vec<usize>) {
    let mut s = Scene::new(&[("MP01", Role::Mp), ("CLIENT01", Role::Client), ("SITE01", Role::Server)]);
    let ids: Vec<usize> = lines.iter().map(|&(ms, on_mp)| s.issued(if on_mp { MP } else { 2 }, ms)).collect();
    s.cached(1, LogKind::Ccmsetup, 20_000, 10_000);
    let p = s.pairs_of(SkewRelation::TokenExpiry);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].latency, if p[0].a_event.is_some() { 10_000 } else { 11_000 });
    (p[0].a_event, ids)
}

#[test]
fn the_issue_line_may_be_one_second_before_the_expiry_time() {
    let (matched, ids) = expiry_matched_with(&[(8_999, true), (9_000, true)]);
    assert_eq!(matched, Some(ids[1]));
    let (matched, _) = expiry_matched_with(&[(8_999, true)]);
    assert_eq!(matched, None);
}

#[test]
fn the_issue_line_may_be_two_seconds_after_the_expiry_time() {
    let (matched, ids) = expiry_matched_with(&[(12_000, true), (12_001, true)]);
    assert_eq!(matched, Some(ids[0]));
    let (matched, _) = expiry_matched_with(&[(12_001, true)]);
    assert_eq!(matched, None);
}

#[test]
fn two_issue_lines_in_the_window_match_neither() {
    let (matched, _) = expiry_matched_with(&[(10_000, true), (10_500, true)]);
    assert_eq!(matched, None);
}

#[test]
fn only_the_reference_hosts_issue_lines_confirm_an_expiry() {
    let (matched, _) = expiry_matched_with(&[(10_000, false)]);
    assert_eq!(matched, None);
    // Another line of the MP at the issue time is no issue line either.
    let mut s = mp_and_client();
    s.ev(MP, LogKind::CcmSts, 10_000, None, EventKind::StsRequestReceived { url: None });
    let issue = s.issued(MP, 10_500);
    s.cached(CLIENT, LogKind::Ccmsetup, 20_000, 10_000);
    let p = s.pairs_of(SkewRelation::TokenExpiry);
    assert_eq!(p.iter().map(|p| p.a_event).collect::<Vec<_>>(), vec![Some(issue)]);
}

#[test]
fn a_token_issued_up_to_two_hours_away_is_an_8_hour_token() {
    let expiry_pairs = |cache_ms: i64| {
        let mut s = mp_and_client();
        s.cached(CLIENT, LogKind::Ccmsetup, cache_ms, 0);
        s.pairs_of(SkewRelation::TokenExpiry).len()
    };
    assert_eq!(expiry_pairs(2 * HOUR), 1);
    assert_eq!(expiry_pairs(-2 * HOUR), 1);
    assert_eq!(expiry_pairs(2 * HOUR + 1), 0, "not an 8-hour token");
    assert_eq!(expiry_pairs(-2 * HOUR - 1), 0, "not an 8-hour token");
}

#[test]
fn device_pairs_reach_two_hours_either_way() {
    let mut s = mp_and_client();
    let r = s.request(CLIENT, 3 * HOUR, Some(1));
    s.sts(MP, HOUR - 1, Some(1));
    let early = s.sts(MP, HOUR, Some(1));
    let near = s.sts(MP, 3 * HOUR + 400, Some(1));
    let late = s.sts(MP, 5 * HOUR, Some(1));
    s.sts(MP, 5 * HOUR + 1, Some(1));
    let p = s.pairs_of(SkewRelation::RequestBeforeSts);
    assert!(p.iter().all(|p| p.a_event == Some(r) && p.latency == CLIENT_MP_LATENCY_MS));
    assert_eq!(p.iter().map(|p| p.b_event).collect::<Vec<_>>(), vec![Some(early), Some(near), Some(late)]);
}

#[test]
fn device_pairs_skip_an_event_with_more_than_64_candidates() {
    let count = |n: i64| {
        let mut s = mp_and_client();
        s.request(CLIENT, 0, Some(1));
        for k in 0..n {
            s.sts(MP, k * 1_000, Some(1));
        }
        s.pairs_of(SkewRelation::RequestBeforeSts).len()
    };
    assert_eq!(count(64), 64);
    assert_eq!(count(65), 0);
}

#[test]
fn only_connector_ccm_sts_lines_are_connector_lines() {
    let mut s = Scene::new(&[("MP01", Role::Mp), ("SITE01", Role::Server), ("CLIENT01", Role::Client)]);
    // A connector line about another endpoint, and a CCM_STS rewrite in a log that is not the connector's.
    s.ev(
        1,
        LogKind::CloudProxyConnector,
        0,
        None,
        EventKind::ProxyRequest {
            message_id: None,
            endpoint: Some("MP_PolicyManager".into()),
            uri: Some("https://MP.MYCORP.COM/ccm_system/request".into()),
            http_status: Some(200),
            status_text: None,
            elapsed_ms: None,
        },
    );
    s.ev(
        1,
        LogKind::Other,
        0,
        None,
        EventKind::ProxyUrlRewritten { from: CMG_STS.into(), to: MP_STS.into() },
    );
    s.sts(MP, 400, None);
    s.request(2, -300, None);
    assert_eq!(s.pairs(), vec![]);
}

#[test]
fn only_client_token_requests_pair_with_the_connector() {
    let mut s = Scene::new(&[("MP01", Role::Mp), ("SITE01", Role::Server), ("CLIENT01", Role::Client)]);
    s.connector(1, 0);
    // Another client event at the right time is no token request.
    s.ev(2, LogKind::Ccmsetup, -300, None, EventKind::RegistrationUsingAad);
    assert_eq!(s.pairs(), vec![]);
}

#[test]
fn connector_lines_pair_with_receipts_within_thirty_minutes() {
    let mut s = Scene::new(&[("MP01", Role::Mp), ("SITE01", Role::Server)]);
    let c = s.connector(1, 0);
    s.sts(MP, -30 * MIN - 1, None);
    let first = s.sts(MP, -30 * MIN, None);
    let near = s.sts(MP, 400, None);
    let last = s.sts(MP, 30 * MIN, None);
    s.sts(MP, 30 * MIN + 1, None);
    let p = s.pairs_of(SkewRelation::ConnectorBeforeSts);
    assert!(p.iter().all(|p| p.a_event == Some(c) && p.a_host == 1 && p.b_host == MP && p.latency == 3_000));
    assert_eq!(p.iter().map(|p| p.b_event).collect::<Vec<_>>(), vec![Some(first), Some(near), Some(last)]);
}

#[test]
fn a_connector_line_with_more_than_64_receipts_is_skipped() {
    let count = |n: i64| {
        let mut s = Scene::new(&[("MP01", Role::Mp), ("SITE01", Role::Server)]);
        s.connector(1, 0);
        for k in 0..n {
            s.sts(MP, k * 1_000, None);
        }
        s.pairs_of(SkewRelation::ConnectorBeforeSts).len()
    };
    assert_eq!(count(1), 1);
    assert_eq!(count(64), 64);
    assert_eq!(count(65), 0);
}

#[test]
fn client_requests_pair_with_connector_lines_within_thirty_minutes() {
    let mut s = Scene::new(&[("SITE01", Role::Server), ("CLIENT01", Role::Client)]);
    let r = s.request(1, 0, None);
    s.connector(0, -30 * MIN - 1);
    let first = s.connector(0, -30 * MIN);
    let near = s.connector(0, 300);
    let last = s.connector(0, 30 * MIN);
    s.connector(0, 30 * MIN + 1);
    let p = s.pairs_of(SkewRelation::RequestBeforeConnector);
    assert!(p.iter().all(|p| p.a_event == Some(r) && p.a_host == 1 && p.b_host == 0 && p.latency == 5_000));
    assert_eq!(p.iter().map(|p| p.b_event).collect::<Vec<_>>(), vec![Some(first), Some(near), Some(last)]);
}

#[test]
fn a_client_request_with_more_than_64_connector_lines_is_skipped() {
    let count = |n: i64| {
        let mut s = Scene::new(&[("SITE01", Role::Server), ("CLIENT01", Role::Client)]);
        s.request(1, 0, None);
        for k in 0..n {
            s.connector(0, k * 1_000);
        }
        s.pairs_of(SkewRelation::RequestBeforeConnector).len()
    };
    assert_eq!(count(1), 1);
    assert_eq!(count(64), 64);
    assert_eq!(count(65), 0);
}

/// A side keeps its host, event (or none: the token issuer's virtual clock) and time in 16 bytes, and a pair
/// of them is 48 bytes (it was 80: the skew stage's largest vector on a fleet collection).
#[test]
fn pairs_are_compact_and_keep_what_they_hold() {
    let s = Side::new(7, Some(123_456), -5_000);
    assert_eq!((s.host(), s.event(), s.ms), (7, Some(123_456), -5_000));
    let issuer = Side::new(3, None, i64::MAX);
    assert_eq!((issuer.host(), issuer.event(), issuer.ms), (3, None, i64::MAX));
    assert_eq!(std::mem::size_of::<Side>(), 16);
    assert_eq!(std::mem::size_of::<Pair>(), 48);
}
