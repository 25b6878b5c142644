//! Unit tests of the correlation's building blocks, written against the survivors of a cargo-mutants run
//! on `correlate.rs`: exact block splits, union-find bookkeeping, client incarnations, weak-id and
//! request-chain attribution, and the window edges in ms (every window is closed: [lo, hi]).

use cmtrace_parsers::{Evidence, OnPremSids, Severity};

use super::*;
use crate::index::TimeMs;
use crate::testkit::{at, CMG_STS, MP_STS};

/// Hosts of every scene: two client PCs, a management point and a connector.
const HOSTS: [&str; 4] = ["CLIENT01", "CLIENT02", "MP01", "SITE01"];
const C1: usize = 0;
const C2: usize = 1;
const MP: usize = 2;
const SITE: usize = 3;
/// A time well inside the day of `at` (ms from its base), so that windows never reach below it.
const T: i64 = 100_000;

const GUID1: &str = "GUID:C66EE0FD-08E7-4B38-B282-000000000001";
const GUID2: &str = "GUID:C66EE0FD-08E7-4B38-B282-000000000002";
const GUID3: &str = "GUID:C66EE0FD-08E7-4B38-B282-000000000003";
const AAD_DEV1: &str = "8d2b4ff9-0172-4998-9851-000000000001";
const AAD_DEV2: &str = "8d2b4ff9-0172-4998-9851-000000000002";
const USER1: &str = "e8838041-db7a-42d5-b9ae-000000000001";
const USER2: &str = "e8838041-db7a-42d5-b9ae-000000000002";
const DEVICE_SID: &str = "S-1-5-21-1527250992-855612568-2252598708-5001";

/// Hand-made events on the hosts of `HOSTS`, pushed in file order (line numbers follow per path).
struct Scene {
    events: Vec<Event>,
    host_of: Vec<u32>,
    is_client: Vec<bool>,
    is_server: Vec<bool>,
}

impl Scene {
    fn new() -> Scene {
        Scene {
            events: Vec::new(),
            host_of: Vec::new(),
            is_client: vec![true, true, false, false],
            is_server: vec![false, false, true, true],
        }
    }

    /// An event at `ms` (from the base of `testkit::at`; `None`: untimed) in the host's `kind` log.
    fn push(
        &mut self,
        h: usize,
        kind: LogKind,
        ms: Option<i64>,
        thread: Option<u32>,
        event: EventKind,
    ) -> usize {
        self.push_in(h, &format!("{}/Logs/{kind:?}.log", HOSTS[h]), kind, ms, thread, event)
    }

    fn push_in(
        &mut self,
        h: usize,
        path: &str,
        kind: LogKind,
        ms: Option<i64>,
        thread: Option<u32>,
        event: EventKind,
    ) -> usize {
        let line = 1 + self.events.iter().filter(|e| e.evidence.path() == path).count() as u32;
        let evidence = Evidence::new(path.into(), line, HOSTS[h].into(), thread, "x".into());
        let mut e = Event::new(event, kind, Severity::Info, None, None, evidence);
        e.set_time(ms.map(at), Some(0));
        self.events.push(e);
        self.host_of.push(h as u32);
        self.events.len() - 1
    }

    /// A CCM_STS line on MP01.
    fn sts(&mut self, ms: i64, thread: Option<u32>, event: EventKind) -> usize {
        self.push(MP, LogKind::CcmSts, Some(ms), thread, event)
    }

    /// A MP_RegistrationManager line on MP01.
    fn mp_reg(&mut self, ms: i64, thread: Option<u32>, event: EventKind) -> usize {
        self.push(MP, LogKind::MpRegistrationManager, Some(ms), thread, event)
    }

    /// A client CCM token request on a client host.
    fn request(&mut self, h: usize, ms: i64) -> usize {
        self.push(
            h,
            LogKind::CcmMessaging,
            Some(ms),
            Some(1),
            EventKind::CcmTokenRequested { sts_url: CMG_STS.into() },
        )
    }

    /// A connector line rewriting the CMG's CCM_STS URL to the MP's.
    fn connector(&mut self, ms: i64) -> usize {
        self.push(
            SITE,
            LogKind::CloudProxyConnector,
            Some(ms),
            Some(1),
            EventKind::ProxyUrlRewritten { from: CMG_STS.into(), to: MP_STS.into() },
        )
    }

    fn roles(&self) -> HostRoles<'_> {
        HostRoles { host_of: &self.host_of, is_client: &self.is_client, is_server: &self.is_server }
    }

    fn store(&self) -> EventStore {
        self.events.clone().into()
    }

    /// The events' times as read: the scene applies no clock offset, so they are the correlation times too.
    fn corr_ms(&self) -> Vec<TimeMs> {
        self.events.iter().map(|e| TimeMs::new(e.time_ms())).collect()
    }

    /// `times` as the correlation reads them, with no clock offset.
    fn corrected<'a>(&'a self, times: &'a [TimeMs]) -> CorrectedTimes<'a> {
        static NO_OFFSETS: [i64; 64] = [0; 64];
        CorrectedTimes {
            raw_ms: times,
            host_of: &self.host_of,
            offset_ms: &NO_OFFSETS[..self.is_client.len()],
        }
    }

    /// `build_blocks` over the scene, files in path order.
    fn blocks(&self) -> Blocks {
        let mut paths: Vec<&str> = self.events.iter().map(|e| e.evidence.path().as_str()).collect();
        paths.sort_unstable();
        paths.dedup();
        let file_of: Vec<u32> = self
            .events
            .iter()
            .map(|e| paths.binary_search(&e.evidence.path().as_str()).expect("listed") as u32)
            .collect();
        let mut order: Vec<u32> = (0..self.events.len() as u32).collect();
        order.sort_by_key(|&i| (file_of[i as usize], self.events[i as usize].evidence.line, i));
        build_blocks(
            &self.store(),
            &self.corr_ms(),
            &self.host_of,
            order.iter().map(|&i| (i as usize, file_of[i as usize])),
            &mut Interner::default(),
        )
    }

    /// A graph with the client links of the scene and the block links of `blocks`.
    fn graph(&self, blocks: &Blocks) -> Graph {
        let mut g = Graph::new(HOSTS.len(), blocks.len(), Interner::default());
        g.link_client_ids(&self.store(), &self.corr_ms(), &self.roles());
        g.link_block_ids(blocks);
        g
    }
}

fn validated(aad_user: Option<&str>, aad_device: Option<&str>, device_sid: Option<&str>) -> EventKind {
    EventKind::AadTokenValidated {
        token_type: Some("UDA".into()),
        tenant: None,
        aad_user: aad_user.map(Into::into),
        aad_device: aad_device.map(Into::into),
        onprem: OnPremSids::new(None, device_sid.map(Into::into)),
    }
}

fn issued(guid: &str) -> EventKind {
    EventKind::CcmTokenIssued {
        token_type: None,
        hierarchy: None,
        cm_user: None,
        client_guid: Some(guid.into()),
    }
}

fn start() -> EventKind {
    EventKind::StsRequestReceived { url: None }
}

fn url() -> EventKind {
    EventKind::StsRequestReceived { url: Some(MP_STS.into()) }
}

fn reg_device(d: &str) -> EventKind {
    EventKind::MpRegistration { aad_device: Some(d.into()), tenant: None, client_guid: None }
}

fn reg_guid(g: &str) -> EventKind {
    EventKind::MpRegistration { aad_device: None, tenant: None, client_guid: Some(g.into()) }
}

fn registered(g: &str) -> EventKind {
    EventKind::Registered { client_guid: Some(g.into()), approval: Some(1) }
}

fn acquired_user(u: &str) -> EventKind {
    EventKind::AadTokenAcquired {
        kind: cmtrace_parsers::AadTokenKind::User,
        aad_user: Some(u.into()),
        aad_device: None,
    }
}

/// The event positions of each block.
fn members(blocks: &Blocks) -> Vec<Vec<usize>> {
    blocks.iter().map(|b| b.event_positions().collect()).collect()
}

fn strong_ids(b: Block<'_>) -> Vec<(IdKind, String)> {
    b.strong.iter().map(|(k, v)| (*k, v.to_string())).collect()
}

fn weak_ids(b: Block<'_>) -> Vec<(IdKind, String)> {
    b.weak.iter().map(|(k, v)| (*k, v.to_string())).collect()
}

/// The blocks written, gathered.
macro_rules! flat {
    ($($b:expr),* $(,)?) => {
        [$($b),*].into_iter().collect::<Blocks>()
    };
}

/// A block made by hand: a CCM_STS request on MP01 with these lines and identifiers.
fn block(events: Vec<usize>, strong: &[(IdKind, &str)], weak: &[(IdKind, &str)]) -> OwnedBlock {
    let ids = |v: &[(IdKind, &str)]| v.iter().map(|&(k, s)| (k, SharedStr::from(s))).collect();
    let events = events.into_iter().map(|i| i as u32).collect();
    OwnedBlock { kind: RequestKind::CcmSts, host: MP, events, strong: ids(strong), weak: ids(weak) }
}

// ---------------------------------------------------------------------------------------------------
// Identifier classes and interning.

#[test]
fn strong_ids_are_guids_aad_devices_and_computer_account_sids() {
    assert!(is_strong(IdKind::ClientGuid, GUID1));
    assert!(is_strong(IdKind::AadDevice, AAD_DEV1));
    assert!(is_strong(IdKind::DeviceSid, DEVICE_SID));
    assert!(!is_strong(IdKind::DeviceSid, "S-1-5-18"), "a well-known SID is no computer account");
    for k in [IdKind::AadUser, IdKind::Sid, IdKind::AadTenant, IdKind::Url, IdKind::MessageId, IdKind::Other]
    {
        assert!(!is_strong(k, DEVICE_SID), "{k:?}");
    }
}

#[test]
fn weak_ids_are_aad_users_and_user_account_sids_only() {
    assert!(is_weak(IdKind::AadUser, USER1));
    assert!(is_weak(IdKind::Sid, DEVICE_SID));
    assert!(is_weak(IdKind::Sid, "S-1-12-1-1-2-3-4"), "Azure AD account SID");
    assert!(!is_weak(IdKind::Sid, "S-1-5-18"), "SYSTEM is shared by every machine");
    for k in [IdKind::ClientGuid, IdKind::AadDevice, IdKind::DeviceSid, IdKind::AadTenant, IdKind::Url] {
        assert!(!is_weak(k, USER1), "{k:?}");
    }
    assert!(!is_weak(IdKind::MessageId, DEVICE_SID));
}

#[test]
fn push_unique_keeps_one_entry_per_kind_and_value() {
    let mut ids = Interner::default();
    let mut v = Vec::new();
    push_unique(&mut v, IdKind::AadUser, Cow::Borrowed(USER1), None, &mut ids);
    push_unique(&mut v, IdKind::AadUser, Cow::Borrowed(USER1), None, &mut ids);
    assert_eq!(v.len(), 1, "the same (kind, value) once");
    push_unique(&mut v, IdKind::AadUser, Cow::Borrowed(USER2), None, &mut ids);
    push_unique(&mut v, IdKind::Sid, Cow::Borrowed(USER1), None, &mut ids);
    push_unique(&mut v, IdKind::Sid, Cow::Borrowed(USER1), None, &mut ids);
    let got: Vec<(IdKind, &str)> = v.iter().map(|(k, s)| (*k, s.as_str())).collect();
    assert_eq!(got, vec![(IdKind::AadUser, USER1), (IdKind::AadUser, USER2), (IdKind::Sid, USER1)]);
}

#[test]
fn interner_finds_the_one_shared_copy_of_a_seen_id() {
    let mut ids = Interner::default();
    assert!(ids.find(GUID1).is_none());
    let a = ids.get_shared(GUID1, None);
    let b = ids.get_shared(GUID1, None);
    assert!(SharedStr::ptr_eq(&a, &b));
    let found = ids.find(GUID1).expect("seen");
    assert!(SharedStr::ptr_eq(&a, &found), "find hands out the shared copy, not a new one");
    assert!(ids.find(GUID2).is_none());
}

#[test]
fn the_correlation_keeps_the_events_own_identifier_strings() {
    // A canonically spelled id is the event's own string in the blocks and the graph (no copy); an id the
    // canonical form changes (lower-case GUID) gets a string of its own.
    let mut s = Scene::new();
    let lower = GUID2.to_ascii_lowercase();
    let v = s.sts(T, Some(5), validated(Some(USER1), Some(AAD_DEV1), None));
    let w = s.sts(T + 100_000, Some(6), issued(&lower));
    let blocks = s.blocks();
    let field =
        |i: usize, f: fn(&EventKind) -> Option<&SharedStr>| f(&s.events[i].kind).cloned().expect("set");
    let device = field(v, |k| match k {
        EventKind::AadTokenValidated { aad_device, .. } => aad_device.as_ref(),
        _ => None,
    });
    let user = field(v, |k| match k {
        EventKind::AadTokenValidated { aad_user, .. } => aad_user.as_ref(),
        _ => None,
    });
    assert!(
        SharedStr::ptr_eq(&blocks.get(0).strong[0].1, &device),
        "the validated device id is the event's string"
    );
    assert!(SharedStr::ptr_eq(&blocks.get(0).weak[0].1, &user), "the user id too");
    let guid = field(w, |k| match k {
        EventKind::CcmTokenIssued { client_guid, .. } => client_guid.as_ref(),
        _ => None,
    });
    assert_eq!(blocks.get(1).strong[0].1.as_str(), GUID2, "canonical form");
    assert!(
        !SharedStr::ptr_eq(&blocks.get(1).strong[0].1, &guid),
        "a re-spelled id cannot be the event's string"
    );
}

// ---------------------------------------------------------------------------------------------------
// Request blocks.

#[test]
fn sts_lines_of_one_thread_form_one_block_up_to_sixty_seconds() {
    let mut s = Scene::new();
    let a = s.sts(T, Some(5), start());
    let b = s.sts(T + 60_000, Some(5), validated(Some(USER1), Some(AAD_DEV1), None));
    let c = s.sts(T + 60_000 + 1, Some(6), start());
    let d = s.sts(T + 120_002, Some(6), validated(Some(USER1), Some(AAD_DEV1), None));
    assert_eq!(
        members(&s.blocks()),
        vec![vec![a, b], vec![c], vec![d]],
        "60 000 ms joins, 60 001 ms does not"
    );
}

#[test]
fn mp_registration_lines_form_one_block_up_to_ten_seconds() {
    let mut s = Scene::new();
    let a = s.mp_reg(T, Some(5), reg_device(AAD_DEV1));
    let b = s.mp_reg(T + 10_000, Some(5), reg_guid(GUID1));
    let c = s.mp_reg(T + 30_000, Some(6), reg_device(AAD_DEV2));
    let d = s.mp_reg(T + 40_001, Some(6), reg_guid(GUID2));
    let blocks = s.blocks();
    assert_eq!(members(&blocks), vec![vec![a, b], vec![c], vec![d]]);
    assert!(blocks.iter().all(|b| b.kind == RequestKind::MpRegistration));
    assert_eq!(
        strong_ids(blocks.get(0)),
        vec![(IdKind::AadDevice, AAD_DEV1.into()), (IdKind::ClientGuid, GUID1.into())]
    );
}

#[test]
fn an_untimed_line_continues_its_block_and_the_block_keeps_its_first_time() {
    let mut s = Scene::new();
    let a = s.push(MP, LogKind::CcmSts, None, Some(5), start());
    let b = s.sts(T, Some(5), url());
    let c = s.push(MP, LogKind::CcmSts, None, Some(5), validated(Some(USER1), None, None));
    // The block's start time is that of its first timed line: 60 s after it still joins, 60.001 s not.
    let d = s.sts(T + 60_000, Some(5), issued(GUID1));
    let e = s.sts(T + 120_001, Some(5), EventKind::CcmTokenReturned);
    assert_eq!(members(&s.blocks()), vec![vec![a, b, c, d], vec![e]]);
}

#[test]
fn a_start_line_always_opens_a_new_request() {
    let mut s = Scene::new();
    let a = s.sts(T, Some(5), start());
    let b = s.sts(T + 10, Some(5), start());
    let c = s.sts(T + 20, Some(5), url());
    let d = s.sts(T + 30, Some(5), validated(Some(USER1), Some(AAD_DEV1), None));
    assert_eq!(members(&s.blocks()), vec![vec![a], vec![b, c, d]]);
}

#[test]
fn a_url_line_joins_only_a_block_holding_just_start_lines() {
    let mut s = Scene::new();
    let a = s.sts(T, Some(5), start());
    let b = s.sts(T + 10, Some(5), url());
    // A second URL line: the next request (its start line lost).
    let c = s.sts(T + 20, Some(5), url());
    let d = s.sts(T + 30, Some(5), validated(Some(USER1), None, None));
    // A URL line after a validation: the next request too.
    let e = s.sts(T + 40, Some(5), url());
    assert_eq!(members(&s.blocks()), vec![vec![a, b], vec![c, d], vec![e]]);
}

#[test]
fn a_second_validation_or_issue_on_a_thread_is_the_next_request() {
    let mut s = Scene::new();
    let a = s.sts(T, Some(5), validated(Some(USER1), Some(AAD_DEV1), None));
    let b = s.sts(T + 10, Some(5), validated(Some(USER2), Some(AAD_DEV2), None));
    let c = s.sts(T + 20, Some(5), issued(GUID2));
    let d = s.sts(T + 30, Some(5), issued(GUID3));
    let blocks = s.blocks();
    assert_eq!(members(&blocks), vec![vec![a], vec![b, c], vec![d]]);
    assert_eq!(strong_ids(blocks.get(0)), vec![(IdKind::AadDevice, AAD_DEV1.into())]);
    assert_eq!(weak_ids(blocks.get(0)), vec![(IdKind::AadUser, USER1.into())]);
    assert_eq!(
        strong_ids(blocks.get(1)),
        vec![(IdKind::AadDevice, AAD_DEV2.into()), (IdKind::ClientGuid, GUID2.into())]
    );
    assert_eq!(strong_ids(blocks.get(2)), vec![(IdKind::ClientGuid, GUID3.into())]);
}

#[test]
fn a_second_device_or_guid_in_mp_registration_is_the_next_registration() {
    let mut s = Scene::new();
    let a = s.mp_reg(T, Some(5), reg_device(AAD_DEV1));
    let b = s.mp_reg(T + 10, Some(5), reg_device(AAD_DEV2));
    let c = s.mp_reg(T + 20, Some(5), reg_guid(GUID2));
    let d = s.mp_reg(T + 30, Some(5), reg_guid(GUID3));
    // A line of another kind joins the registration open on the thread.
    let e = s.mp_reg(T + 40, Some(5), EventKind::RegistrationFailed { code: None, reason: "x".into() });
    let blocks = s.blocks();
    assert_eq!(members(&blocks), vec![vec![a], vec![b, c], vec![d, e]]);
    assert_eq!(
        strong_ids(blocks.get(1)),
        vec![(IdKind::AadDevice, AAD_DEV2.into()), (IdKind::ClientGuid, GUID2.into())]
    );
}

#[test]
fn a_returned_token_closes_the_block() {
    let mut s = Scene::new();
    let a = s.sts(T, Some(5), start());
    let b = s.sts(T + 10, Some(5), EventKind::CcmTokenReturned);
    // Would join an open block (no validation in it yet), but the block is closed.
    let c = s.sts(T + 20, Some(5), validated(Some(USER1), Some(AAD_DEV1), None));
    let d = s.sts(T + 30, Some(5), issued(GUID1));
    assert_eq!(members(&s.blocks()), vec![vec![a, b], vec![c, d]]);
}

#[test]
fn blocks_are_per_file_and_thread() {
    let mut s = Scene::new();
    let a = s.sts(T, Some(5), start());
    let b = s.sts(T + 10, Some(6), url());
    let c = s.sts(T + 20, Some(5), url());
    let d = s.push_in(MP, "MP01/Logs/CcmSts_1.log", LogKind::CcmSts, Some(T + 30), Some(5), issued(GUID1));
    assert_eq!(members(&s.blocks()), vec![vec![a, c], vec![b], vec![d]]);
}

#[test]
fn threadless_requests_one_after_the_other_keep_their_ids() {
    let mut s = Scene::new();
    s.sts(T, None, start());
    s.sts(T + 100, None, validated(Some(USER1), Some(AAD_DEV1), None));
    s.sts(T + 200, None, issued(GUID1));
    s.sts(T + 300, None, EventKind::CcmTokenReturned);
    // The next request starts after the previous one was returned: nothing interleaves.
    s.sts(T + 1_000, None, start());
    s.sts(T + 1_100, None, validated(Some(USER2), Some(AAD_DEV2), None));
    s.sts(T + 1_200, None, issued(GUID2));
    let blocks = s.blocks();
    assert_eq!(members(&blocks), vec![vec![0, 1, 2, 3], vec![4, 5, 6]]);
    assert_eq!(
        strong_ids(blocks.get(0)),
        vec![(IdKind::AadDevice, AAD_DEV1.into()), (IdKind::ClientGuid, GUID1.into())]
    );
    assert_eq!(
        strong_ids(blocks.get(1)),
        vec![(IdKind::AadDevice, AAD_DEV2.into()), (IdKind::ClientGuid, GUID2.into())]
    );
    assert_eq!(weak_ids(blocks.get(1)), vec![(IdKind::AadUser, USER2.into())]);
}

#[test]
fn threadless_requests_that_overlap_link_nothing() {
    let mut s = Scene::new();
    s.sts(T, None, start());
    s.sts(T + 100, None, validated(Some(USER1), Some(AAD_DEV1), None));
    // A new request starts while the first is open: both blocks are suspect.
    s.sts(T + 150, None, start());
    s.sts(T + 200, None, issued(GUID1));
    // Started after the second block's window (60 s): not suspect.
    s.sts(T + 70_000, None, start());
    s.sts(T + 70_100, None, issued(GUID3));
    let blocks = s.blocks();
    assert_eq!(members(&blocks), vec![vec![0, 1], vec![2, 3], vec![4, 5]]);
    assert!(blocks.get(0).strong.is_empty() && blocks.get(0).weak.is_empty());
    assert!(blocks.get(1).strong.is_empty() && blocks.get(1).weak.is_empty());
    assert_eq!(strong_ids(blocks.get(2)), vec![(IdKind::ClientGuid, GUID3.into())]);
}

#[test]
fn a_block_naming_two_devices_or_two_guids_links_nothing() {
    let mut s = Scene::new();
    // Two Azure AD devices in one block (a line of another request on the thread), one GUID.
    s.sts(T, Some(5), validated(Some(USER1), Some(AAD_DEV1), None));
    s.sts(
        T + 10,
        Some(5),
        EventKind::AadTokenAcquired {
            kind: cmtrace_parsers::AadTokenKind::Device,
            aad_user: None,
            aad_device: Some(AAD_DEV2.into()),
        },
    );
    s.sts(T + 20, Some(5), issued(GUID1));
    // Two GUIDs, one device.
    s.sts(T, Some(6), validated(None, Some(AAD_DEV1), None));
    s.sts(T + 10, Some(6), issued(GUID1));
    s.sts(T + 20, Some(6), EventKind::Registered { client_guid: Some(GUID2.into()), approval: None });
    // One device, one GUID, one computer SID: kept.
    s.sts(T, Some(7), validated(Some(USER1), Some(AAD_DEV1), Some(DEVICE_SID)));
    s.sts(T + 10, Some(7), issued(GUID1));
    // One GUID only: kept.
    s.sts(T, Some(8), issued(GUID3));
    let blocks = s.blocks();
    assert_eq!(blocks.len(), 4);
    assert!(blocks.get(0).strong.is_empty() && blocks.get(0).weak.is_empty(), "{:?}", blocks.get(0));
    assert!(blocks.get(1).strong.is_empty() && blocks.get(1).weak.is_empty(), "{:?}", blocks.get(1));
    assert_eq!(
        strong_ids(blocks.get(2)),
        vec![
            (IdKind::AadDevice, AAD_DEV1.into()),
            (IdKind::DeviceSid, DEVICE_SID.into()),
            (IdKind::ClientGuid, GUID1.into())
        ]
    );
    assert_eq!(weak_ids(blocks.get(2)), vec![(IdKind::AadUser, USER1.into())]);
    assert_eq!(strong_ids(blocks.get(3)), vec![(IdKind::ClientGuid, GUID3.into())]);
}

// ---------------------------------------------------------------------------------------------------
// Union-find.

#[test]
fn union_by_size_keeps_the_bigger_root_and_counts_members() {
    let mut g = Graph::new(0, 0, Interner::default());
    let n: Vec<usize> =
        (0..4).map(|i| g.node(Node::Id(IdKind::Other, format!("n{i}").as_str().into()))).collect();
    // Equal sizes: the first argument's root stays the root.
    assert_eq!(g.union(n[0], n[1]), n[0]);
    assert_eq!(g.size[n[0]], 2);
    // The bigger component absorbs the smaller whichever argument it is.
    assert_eq!(g.union(n[2], n[0]), n[0]);
    assert_eq!(g.size[n[0]], 3);
    assert_eq!(g.union(n[1], n[3]), n[0]);
    assert_eq!(g.size[n[0]], 4);
    assert!(n.iter().all(|&x| g.find(x) == n[0]));
    assert_eq!(g.union(n[3], n[2]), n[0], "already one component");
    assert_eq!(g.size[n[0]], 4);
}

#[test]
fn done_linking_frees_the_linking_tables_and_keeps_the_components() {
    let mut g = Graph::new(1, 1, Interner::default());
    let host = g.node(Node::ClientHost(C1, 0));
    g.host_node[C1] = Some(host);
    let id = g.node(Node::Id(IdKind::ClientGuid, GUID1.into()));
    let alone = g.node(Node::Id(IdKind::AadDevice, AAD_DEV1.into()));
    g.union(host, id);
    g.add_carrier(IdKind::AadUser, USER1.into(), Carrier::Host(host));
    g.done_linking();
    assert!(g.index.capacity() == 0 && g.weak_carriers.is_empty(), "the index and weak-id table are freed");
    assert!(g.block_chain.is_empty() && g.chain_attach.is_empty() && g.block_node.is_empty());
    assert_eq!(g.find(id), g.find(host), "components survive");
    assert_ne!(g.find(alone), g.find(host));
    assert_eq!(g.host_node_at(C1, Some(T)), Some(host));
    assert_eq!(g.nodes.len(), 3, "nodes are still read by the devices");
}

#[test]
#[cfg(debug_assertions)]
#[should_panic(expected = "a node added after linking was over")]
fn no_node_is_added_after_linking() {
    let mut g = Graph::new(0, 0, Interner::default());
    g.done_linking();
    g.node(Node::Id(IdKind::ClientGuid, GUID1.into()));
}

#[test]
fn a_component_with_a_client_host_stays_a_client_component_after_unions() {
    let mut g = Graph::new(2, 0, Interner::default());
    let h0 = g.node(Node::ClientHost(C1, 0));
    let h1 = g.node(Node::ClientHost(C2, 0));
    let id = g.node(Node::Id(IdKind::ClientGuid, GUID1.into()));
    let other = g.node(Node::Id(IdKind::ClientGuid, GUID2.into()));
    assert!(g.may_join(id, h1), "a server-only id may join a client host");
    // The host node is the root (first argument, equal sizes): the flag must survive.
    g.union(h0, id);
    let r = g.find(id);
    assert!(g.has_host[r]);
    assert!(!g.may_join(id, h1), "two client hosts never join");
    // The id node is the root this time (first argument): the host's flag must come over to it.
    g.union(other, h1);
    let r = g.find(h1);
    assert!(g.has_host[r]);
    assert!(!g.may_join(other, h0));
    assert!(g.may_join(other, h1), "one component may always join itself");
}

#[test]
fn two_azure_ad_devices_never_join_but_one_may() {
    let mut g = Graph::new(1, 0, Interner::default());
    let d1 = g.node(Node::Id(IdKind::AadDevice, AAD_DEV1.into()));
    let d2 = g.node(Node::Id(IdKind::AadDevice, AAD_DEV2.into()));
    let guid = g.node(Node::Id(IdKind::ClientGuid, GUID1.into()));
    let h = g.node(Node::ClientHost(C1, 0));
    assert!(!g.may_join(d1, d2));
    assert!(g.may_join(d1, guid) && g.may_join(h, d2));
    g.union(guid, d1);
    assert!(!g.may_join(guid, d2), "the device id came over with the union");
    assert!(g.may_join(guid, h));
}

// ---------------------------------------------------------------------------------------------------
// Client hosts and their incarnations.

#[test]
fn host_node_at_picks_the_incarnation_starting_at_or_before_the_time() {
    let mut g = Graph::new(HOSTS.len(), 0, Interner::default());
    let old = g.node(Node::ClientHost(C1, 0));
    let new = g.node(Node::ClientHost(C1, 1));
    let only = g.node(Node::ClientHost(C2, 0));
    g.host_epochs[C1] = vec![(i64::MIN, old), (5_000, new)];
    g.host_node[C1] = Some(new);
    g.host_node[C2] = Some(only);
    assert_eq!(g.host_node_at(C1, Some(4_999)), Some(old));
    assert_eq!(g.host_node_at(C1, Some(5_000)), Some(new), "the start ms belongs to the new incarnation");
    assert_eq!(g.host_node_at(C1, Some(9_000)), Some(new));
    assert_eq!(g.host_node_at(C1, None), Some(new), "untimed: the latest");
    assert_eq!(g.host_node_at(C2, Some(0)), Some(only));
    assert_eq!(g.host_node_at(MP, Some(0)), None);
}

#[test]
fn a_guid_seen_again_after_a_new_one_is_no_third_incarnation() {
    let mut s = Scene::new();
    let log = LogKind::ClientIdManagerStartup;
    s.push(C1, log, Some(T), Some(1), registered(GUID1));
    s.push(C1, log, Some(T + 3_600_000), Some(1), registered(GUID2));
    // A line naming the old GUID again (a stale log line): still the second incarnation.
    s.push(C1, log, Some(T + 7_200_000), Some(1), registered(GUID1));
    let g = s.graph(&Blocks::default());
    let epochs: Vec<(i64, Node)> = g.host_epochs[C1].iter().map(|&(t, n)| (t, g.nodes[n].clone())).collect();
    let t_new = at(T + 3_600_000).timestamp_millis();
    assert_eq!(epochs, vec![(i64::MIN, Node::ClientHost(C1, 0)), (t_new, Node::ClientHost(C1, 1))]);
    assert_eq!(g.nodes[g.host_node[C1].unwrap()], Node::ClientHost(C1, 1));
}

#[test]
fn a_new_guid_starts_after_the_first_of_equally_long_silences() {
    let mut s = Scene::new();
    let log = LogKind::ClientIdManagerStartup;
    s.push(C1, log, Some(T), Some(1), registered(GUID1));
    s.push(C1, log, Some(T + 10_000), Some(1), EventKind::ClientStartup { version: None });
    s.push(C1, log, Some(T + 20_000), Some(1), EventKind::ClientStartup { version: None });
    s.push(C1, log, Some(T + 30_000), Some(1), registered(GUID2));
    let mut g = s.graph(&Blocks::default());
    let starts: Vec<i64> = g.host_epochs[C1].iter().map(|e| e.0).collect();
    let t0 = at(T).timestamp_millis();
    assert_eq!(starts, vec![i64::MIN, t0 + 10_000], "three 10 s silences: the first one splits");
    // Each GUID joins its own incarnation.
    let n1 = g.position(&Node::Id(IdKind::ClientGuid, GUID1.into())).unwrap();
    let n2 = g.position(&Node::Id(IdKind::ClientGuid, GUID2.into())).unwrap();
    let old = g.position(&Node::ClientHost(C1, 0)).unwrap();
    let new = g.position(&Node::ClientHost(C1, 1)).unwrap();
    assert_eq!(g.find(n1), g.find(old));
    assert_eq!(g.find(n2), g.find(new));
    assert_ne!(g.find(old), g.find(new));
}

#[test]
fn server_lines_on_a_client_that_is_also_a_server_make_no_incarnation() {
    let mut s = Scene::new();
    // CLIENT01 also runs a management point: its CCM_STS names other clients' GUIDs.
    s.is_server[C1] = true;
    s.push(C1, LogKind::ClientIdManagerStartup, Some(T), Some(1), registered(GUID1));
    s.push(C1, LogKind::CcmSts, Some(T + 60_000), Some(5), issued(GUID2));
    s.push(C1, LogKind::CcmSts, Some(T + 120_000), Some(6), issued(GUID3));
    let mut g = s.graph(&Blocks::default());
    assert!(g.host_epochs[C1].is_empty(), "{:?}", g.host_epochs[C1]);
    let h = g.host_node[C1].unwrap();
    assert_eq!(g.nodes[h], Node::ClientHost(C1, 0));
    let own = g.position(&Node::Id(IdKind::ClientGuid, GUID1.into())).unwrap();
    assert_eq!(g.find(own), g.find(h));
    assert!(
        g.position(&Node::Id(IdKind::ClientGuid, GUID2.into())).is_none(),
        "server lines link nothing here"
    );
}

#[test]
fn a_new_guid_starts_with_the_first_file_of_the_new_collection() {
    let mut files = HashMap::default();
    files.insert("c/PC042/Windows/CCM/Logs/ClientIDManagerStartup.log", 100);
    files.insert("c/PC042/Windows/CCM/Logs/CcmMessaging.log", 200);
    files.insert("c/PC042/Windows/CCM/Logs/ccmsetup.log", 300);
    files.insert("d/PC042/Windows/CCM/Logs/CcmMessaging.log", 250);
    let mut guid_files = HashMap::default();
    guid_files.insert(GUID2.to_string(), "c/PC042/Windows/CCM/Logs/ClientIDManagerStartup.log");
    let start = |from, to| new_collection_start(&files, &guid_files, GUID2, from, to);
    // (from, to]: a file starting exactly at `from` is the old collection's, exactly at `to` the new one's.
    assert_eq!(start(100, 300), Some(200));
    assert_eq!(start(99, 300), Some(100));
    assert_eq!(start(200, 300), Some(300));
    assert_eq!(start(200, 299), None, "the other folder's file is not this collection's");
    assert_eq!(start(0, 99), None);
    assert_eq!(new_collection_start(&files, &guid_files, GUID1, 0, 1_000), None, "GUID without a file");

    // Folders cut at the ConfigMgr layout or, without one, at the file name.
    let mut files = HashMap::default();
    files.insert("x/PC1/ccmsetup/ccmsetup.log", 10);
    files.insert("x/PC1/Logs/CcmMessaging.log", 20);
    files.insert("x/PC2/ccmsetup.log", 30);
    let mut guid_files = HashMap::default();
    guid_files.insert(GUID1.to_string(), "x/PC1/Logs/CcmMessaging.log");
    guid_files.insert(GUID2.to_string(), "x/PC2/ccmsetup.log");
    assert_eq!(new_collection_start(&files, &guid_files, GUID1, 0, 100), Some(10));
    assert_eq!(new_collection_start(&files, &guid_files, GUID2, 0, 100), Some(30));
}

#[test]
fn client_logs_belong_to_their_host_and_other_logs_only_on_a_pure_client() {
    let mut s = Scene::new();
    s.is_client = vec![true, true, true, false];
    s.is_server = vec![false, true, true, true];
    let client = s.push(C1, LogKind::CcmMessaging, Some(T), Some(1), registered(GUID1));
    let other = s.push(C1, LogKind::Other, Some(T), Some(1), registered(GUID1));
    let sts = s.push(C1, LogKind::CcmSts, Some(T), Some(1), issued(GUID1));
    let roles = s.roles();
    assert!(belongs_to_client_host(&s.events[client], &roles, C1));
    assert!(belongs_to_client_host(&s.events[other], &roles, C1));
    assert!(!belongs_to_client_host(&s.events[sts], &roles, C1));
    // A client that also plays a server role: unknown logs are not the client's.
    assert!(belongs_to_client_host(&s.events[client], &roles, C2));
    assert!(!belongs_to_client_host(&s.events[other], &roles, C2));
    assert!(!belongs_to_client_host(&s.events[other], &roles, SITE), "not a client at all");
    s.is_client[SITE] = false;
    s.is_server[SITE] = false;
    assert!(!belongs_to_client_host(&s.events[other], &s.roles(), SITE), "neither client nor server");
}

// ---------------------------------------------------------------------------------------------------
// Weak ids.

#[test]
fn a_weak_id_joins_one_client_to_one_server_component_only() {
    let mut s = Scene::new();
    s.push(C1, LogKind::Ccmsetup, Some(T), Some(1), acquired_user(USER1));
    let blocks = flat![
        block(vec![], &[(IdKind::ClientGuid, GUID1)], &[(IdKind::AadUser, USER1)]),
        // Two server-only components sharing a user id (one person, two devices): not joined.
        block(vec![], &[(IdKind::ClientGuid, GUID2)], &[(IdKind::AadUser, USER2)]),
        block(vec![], &[(IdKind::ClientGuid, GUID3)], &[(IdKind::AadUser, USER2)]),
    ];
    let mut g = s.graph(&blocks);
    g.link_weak_ids();
    let h = g.host_node[C1].unwrap();
    let at_block = |g: &mut Graph, b: usize| g.block_anchor(b).unwrap();
    let (b0, b1, b2) = (at_block(&mut g, 0), at_block(&mut g, 1), at_block(&mut g, 2));
    assert_eq!(g.find(h), b0, "client + one server component: joined");
    assert_ne!(b1, b2, "two server-only components: never joined by a weak id");
    assert_ne!(g.find(h), b1);
}

#[test]
fn a_weak_id_never_joins_two_client_hosts() {
    let mut s = Scene::new();
    s.push(C1, LogKind::Ccmsetup, Some(T), Some(1), acquired_user(USER1));
    s.push(C2, LogKind::Ccmsetup, Some(T), Some(1), acquired_user(USER1));
    let mut g = s.graph(&Blocks::default());
    g.link_weak_ids();
    let (h1, h2) = (g.host_node[C1].unwrap(), g.host_node[C2].unwrap());
    assert_ne!(g.find(h1), g.find(h2));
}

#[test]
fn a_weak_id_never_joins_two_azure_ad_devices() {
    let mut s = Scene::new();
    s.push(
        C1,
        LogKind::Ccmsetup,
        Some(T),
        Some(1),
        EventKind::AadTokenAcquired {
            kind: cmtrace_parsers::AadTokenKind::User,
            aad_user: Some(USER1.into()),
            aad_device: Some(AAD_DEV1.into()),
        },
    );
    let blocks = flat![block(vec![], &[(IdKind::AadDevice, AAD_DEV2)], &[(IdKind::AadUser, USER1)])];
    let mut g = s.graph(&blocks);
    g.link_weak_ids();
    let h = g.host_node[C1].unwrap();
    assert_ne!(g.find(h), g.block_anchor(0).unwrap());
}

/// A graph whose client hosts are not nodes 0 and 1 (so that a constant root cannot pass for a found one).
fn padded_graph(s: &Scene, blocks: &Blocks) -> Graph {
    let mut g = Graph::new(HOSTS.len(), blocks.len(), Interner::default());
    g.node(Node::Id(IdKind::Other, "pad-0".into()));
    g.node(Node::Id(IdKind::Other, "pad-1".into()));
    g.link_client_ids(&s.store(), &s.corr_ms(), &s.roles());
    g.link_block_ids(blocks);
    g
}

#[test]
fn an_orphan_block_goes_to_the_one_component_its_user_id_points_to() {
    let mut s = Scene::new();
    s.push(C2, LogKind::Ccmsetup, Some(T), Some(1), acquired_user(USER1));
    let blocks = flat![block(vec![], &[], &[(IdKind::AadUser, USER1)])];
    let mut g = padded_graph(&s, &blocks);
    g.link_weak_ids();
    let h = g.host_node[C2].unwrap();
    assert!(h > 1);
    assert_eq!(g.block_roots(&blocks), vec![(Some(g.find(h)), Attribution::UserId)]);
}

#[test]
fn a_user_id_carried_twice_by_one_component_still_points_to_it() {
    let mut s = Scene::new();
    s.push(C2, LogKind::Ccmsetup, Some(T), Some(1), acquired_user(USER1));
    s.push(C2, LogKind::ClientIdManagerStartup, Some(T), Some(1), registered(GUID2));
    let blocks = flat![
        // CLIENT02's own request (its GUID): carries the user id on CLIENT02's component.
        block(vec![], &[(IdKind::ClientGuid, GUID2)], &[(IdKind::AadUser, USER1)]),
        block(vec![], &[], &[(IdKind::AadUser, USER1)]),
    ];
    let mut g = padded_graph(&s, &blocks);
    g.link_weak_ids();
    let r = g.find(g.host_node[C2].unwrap());
    assert_eq!(
        g.block_roots(&blocks),
        vec![(Some(r), Attribution::Identifiers), (Some(r), Attribution::UserId)]
    );
}

#[test]
fn a_user_id_on_two_components_attributes_nothing() {
    let mut s = Scene::new();
    s.push(C1, LogKind::Ccmsetup, Some(T), Some(1), acquired_user(USER1));
    s.push(C2, LogKind::Ccmsetup, Some(T), Some(1), acquired_user(USER1));
    let blocks = flat![block(vec![], &[], &[(IdKind::AadUser, USER1)])];
    let mut g = padded_graph(&s, &blocks);
    g.link_weak_ids();
    assert_eq!(g.block_roots(&blocks), vec![(None, Attribution::None)]);
}

#[test]
fn a_user_id_no_other_component_carries_attributes_nothing() {
    let s = Scene::new();
    let blocks = flat![block(vec![], &[], &[(IdKind::AadUser, USER1)])];
    let mut g = padded_graph(&s, &blocks);
    g.link_weak_ids();
    assert_eq!(g.block_roots(&blocks), vec![(None, Attribution::None)]);
}

#[test]
fn all_user_ids_of_a_block_must_agree_on_one_component() {
    let mut s = Scene::new();
    s.push(C1, LogKind::Ccmsetup, Some(T), Some(1), acquired_user(USER1));
    s.push(
        C1,
        LogKind::Ccmsetup,
        Some(T + 1),
        Some(1),
        EventKind::AadTokenFallbackToUser { sid: Some(DEVICE_SID.into()) },
    );
    s.push(C2, LogKind::Ccmsetup, Some(T), Some(1), acquired_user(USER2));
    let sid = (IdKind::Sid, DEVICE_SID);
    let blocks = flat![
        // Both on CLIENT01.
        block(vec![], &[], &[(IdKind::AadUser, USER1), sid]),
        // CLIENT01 and CLIENT02: ambiguous.
        block(vec![], &[], &[(IdKind::AadUser, USER1), (IdKind::AadUser, USER2)]),
        // One id nobody else carries, one on CLIENT02: CLIENT02.
        block(
            vec![],
            &[],
            &[(IdKind::AadUser, "e8838041-db7a-42d5-b9ae-0000000000ff"), (IdKind::AadUser, USER2)],
        ),
    ];
    let mut g = padded_graph(&s, &blocks);
    g.link_weak_ids();
    let r1 = g.find(g.host_node[C1].unwrap());
    let r2 = g.find(g.host_node[C2].unwrap());
    assert_eq!(
        g.block_roots(&blocks),
        vec![(Some(r1), Attribution::UserId), (None, Attribution::None), (Some(r2), Attribution::UserId)]
    );
}

#[test]
fn a_request_chain_and_a_user_id_must_agree() {
    let mut s = Scene::new();
    s.push(C1, LogKind::Ccmsetup, Some(T), Some(1), acquired_user(USER1));
    s.push(C2, LogKind::Ccmsetup, Some(T), Some(1), acquired_user(USER2));
    let r = s.request(C1, T + 1_000);
    let blocks = flat![
        block(vec![], &[], &[(IdKind::AadUser, USER1)]),
        block(vec![], &[], &[(IdKind::AadUser, USER2)]),
        block(vec![], &[], &[]),
    ];
    let mut g = padded_graph(&s, &blocks);
    g.link_weak_ids();
    let h1 = g.host_node[C1].unwrap();
    for b in 0..3 {
        g.chain_attach[b] = OptU32::new(Some(h1 as u32));
        g.block_chain[b] = OptU32::new(Some(r as u32));
    }
    let chained = Attribution::RequestChain { client_event: EventIx::from(r) };
    assert_eq!(
        g.block_roots(&blocks),
        vec![(Some(g.find(h1)), chained), (None, Attribution::None), (Some(g.find(h1)), chained)]
    );
}

// ---------------------------------------------------------------------------------------------------
// Windows and request chains in time.

#[test]
fn windows_are_closed_at_both_ends() {
    let v: Vec<(i64, usize)> = vec![(10, 0), (20, 1), (20, 2), (30, 3), (40, 4)];
    assert_eq!(window(&v, 20, 30), &v[1..4]);
    assert_eq!(window(&v, 21, 29), &[] as &[(i64, usize)]);
    assert_eq!(window(&v, 11, 39), &v[1..4]);
    assert_eq!(window(&v, 10, 10), &v[0..1]);
    assert_eq!(window(&v, 40, 100), &v[4..5]);
    assert_eq!(window(&v, 30, 20), &[] as &[(i64, usize)]);
    assert_eq!(unique_in(&v, 30, 35), Some((30, 3)));
    assert_eq!(unique_in(&v, 20, 20), None, "two entries");
    assert_eq!(unique_in(&v, 41, 50), None);
}

#[test]
fn distinct_hosts_in_needs_one_host_and_at_most_32_requests() {
    let mut s = Scene::new();
    let mut requests: Vec<(i64, usize)> = (0..33).map(|k| (k as i64, s.request(C1, T + k as i64))).collect();
    let other = s.request(C2, T + 100);
    let roles = s.roles();
    assert_eq!(distinct_hosts_in(&requests[..32], &roles, 0, 40), Some(C1), "32 requests: scanned");
    assert_eq!(distinct_hosts_in(&requests, &roles, 0, 31), Some(C1));
    assert_eq!(distinct_hosts_in(&requests, &roles, 0, 32), None, "33 requests: too many to tell");
    assert_eq!(distinct_hosts_in(&requests, &roles, 40, 50), None, "none");
    requests.push((35, other));
    assert_eq!(distinct_hosts_in(&requests, &roles, 30, 40), None, "two hosts");
    assert_eq!(distinct_hosts_in(&requests, &roles, 33, 40), Some(C2));
}

/// A graph with CLIENT01 and CLIENT02 and one orphan CCM_STS block per time in `sts_ms`, chained.
fn chained(s: &mut Scene, sts_ms: &[i64]) -> (Graph, Blocks) {
    let blocks: Blocks =
        sts_ms.iter().map(|&t| block(vec![s.sts(t, Some(t as u32), url())], &[], &[])).collect();
    let mut g = padded_graph(s, &blocks);
    g.link_chains(&s.store(), &s.roles(), &blocks, s.corrected(&s.corr_ms()));
    (g, blocks)
}

#[test]
fn a_request_chains_to_the_only_block_from_1500_ms_before_to_5000_ms_after() {
    for (offset, tied) in [(-1_501, false), (-1_500, true), (0, true), (5_000, true), (5_001, false)] {
        let mut s = Scene::new();
        let r = s.request(C1, T);
        let (mut g, blocks) = chained(&mut s, &[T + offset]);
        let h = g.find(g.host_node[C1].unwrap());
        let expected = if tied {
            (Some(h), Attribution::RequestChain { client_event: EventIx::from(r) })
        } else {
            (None, Attribution::None)
        };
        assert_eq!(g.block_roots(&blocks), vec![expected], "block {offset} ms after the request");
    }
}

#[test]
fn two_blocks_in_a_request_window_tie_neither() {
    let mut s = Scene::new();
    s.request(C1, T);
    let (mut g, blocks) = chained(&mut s, &[T + 400, T + 5_000]);
    assert_eq!(g.block_roots(&blocks), vec![(None, Attribution::None), (None, Attribution::None)]);
}

#[test]
fn another_client_requesting_from_5000_ms_before_to_1500_ms_after_the_block_breaks_the_chain() {
    let tb = T + 400;
    for (other_at, tied) in [(tb - 5_001, true), (tb - 5_000, false), (tb + 1_500, false), (tb + 1_501, true)]
    {
        let mut s = Scene::new();
        let r = s.request(C1, T);
        s.request(C2, other_at);
        let (mut g, blocks) = chained(&mut s, &[tb]);
        let h = g.find(g.host_node[C1].unwrap());
        let expected = if tied {
            (Some(h), Attribution::RequestChain { client_event: EventIx::from(r) })
        } else {
            (None, Attribution::None)
        };
        assert_eq!(
            g.block_roots(&blocks),
            vec![expected],
            "CLIENT02 requesting {} ms from the block",
            other_at - tb
        );
    }
}

#[test]
fn two_requests_of_one_client_in_the_window_still_chain_to_the_first() {
    let mut s = Scene::new();
    let r1 = s.request(C1, T);
    let r2 = s.request(C1, T + 200);
    let (mut g, blocks) = chained(&mut s, &[T + 400]);
    let h = g.find(g.host_node[C1].unwrap());
    assert_ne!(r1, r2);
    assert_eq!(
        g.block_roots(&blocks),
        vec![(Some(h), Attribution::RequestChain { client_event: EventIx::from(r1) })]
    );
}

#[test]
fn a_chain_joins_a_server_component_to_the_client_but_never_a_second_client() {
    let mut s = Scene::new();
    s.push(C2, LogKind::ClientIdManagerStartup, Some(T - 60_000), Some(1), registered(GUID2));
    let r = s.request(C1, T);
    // The block names a GUID only the MP knows: joined to CLIENT01 by the chain.
    let b0 = block(vec![s.sts(T + 400, Some(1), issued(GUID1))], &[(IdKind::ClientGuid, GUID1)], &[]);
    // Later, CLIENT01 requests again and the only block names CLIENT02's GUID: not joined.
    s.request(C1, T + 600_000);
    let b1 = block(vec![s.sts(T + 600_400, Some(2), issued(GUID2))], &[(IdKind::ClientGuid, GUID2)], &[]);
    let blocks = flat![b0, b1];
    let mut g = padded_graph(&s, &blocks);
    g.link_chains(&s.store(), &s.roles(), &blocks, s.corrected(&s.corr_ms()));
    let (h1, h2) = (g.find(g.host_node[C1].unwrap()), g.find(g.host_node[C2].unwrap()));
    assert_ne!(h1, h2);
    assert_eq!(g.block_chain.iter().map(|c| c.get()).collect::<Vec<_>>(), vec![Some(r as u32), None]);
    assert_eq!(
        g.block_roots(&blocks),
        vec![(Some(h1), Attribution::Identifiers), (Some(h2), Attribution::Identifiers)]
    );
}

// ---------------------------------------------------------------------------------------------------
// Connector lines.

#[test]
fn connector_lines_about_ccm_sts_are_recognised_by_either_url() {
    let ev = |kind: EventKind| {
        let mut s = Scene::new();
        s.push(SITE, LogKind::CloudProxyConnector, Some(T), Some(1), kind);
        s.events.pop().unwrap()
    };
    let other = "https://MP.MYCORP.COM/CCM_SYSTEM/request";
    let rewrite = |from: &str, to: &str| EventKind::ProxyUrlRewritten { from: from.into(), to: to.into() };
    let proxied = |endpoint: Option<&str>, uri: Option<&str>| EventKind::ProxyRequest {
        message_id: None,
        endpoint: endpoint.map(Into::into),
        uri: uri.map(Into::into),
        http_status: Some(200),
        status_text: None,
        elapsed_ms: None,
    };
    assert!(is_connector_sts(&ev(rewrite(CMG_STS, other))));
    assert!(is_connector_sts(&ev(rewrite(other, "https://mp.mycorp.com/ccm_sts"))));
    assert!(!is_connector_sts(&ev(rewrite(other, other))));
    assert!(is_connector_sts(&ev(proxied(Some("CCM_STS"), Some(other)))));
    assert!(is_connector_sts(&ev(proxied(Some("MP_PolicyManager"), Some(MP_STS)))));
    assert!(is_connector_sts(&ev(proxied(None, Some(MP_STS)))));
    assert!(!is_connector_sts(&ev(proxied(Some("MP_PolicyManager"), Some(other)))));
    assert!(!is_connector_sts(&ev(proxied(None, None))));
    assert!(!is_connector_sts(&ev(EventKind::StsRequestReceived { url: Some(MP_STS.into()) })));
}

/// `connector_roots` after `block_roots`, without request chains.
fn connector_scene(s: &Scene, blocks: &Blocks) -> (Graph, Vec<(usize, usize)>) {
    let mut g = padded_graph(s, blocks);
    let roots = g.block_roots(blocks);
    let out = connector_roots(&mut g, &s.store(), &s.roles(), blocks, &roots, s.corrected(&s.corr_ms()));
    (g, out)
}

#[test]
fn connector_lines_follow_the_only_block_from_3000_ms_before_to_1500_ms_after() {
    let tb = T + 400;
    for (other_at, tied) in [(tb - 3_001, true), (tb - 3_000, false), (tb + 1_500, false), (tb + 1_501, true)]
    {
        let mut s = Scene::new();
        let line = s.connector(T + 300);
        // Another forwarded request (more than a second apart) on the connector.
        s.connector(other_at);
        let blocks =
            flat![block(vec![s.sts(tb, Some(1), issued(GUID1))], &[(IdKind::ClientGuid, GUID1)], &[])];
        let (mut g, out) = connector_scene(&s, &blocks);
        let expected = if tied { vec![(line, g.block_anchor(0).unwrap())] } else { vec![] };
        assert_eq!(out, expected, "another connector request {} ms from the block", other_at - tb);
    }
}

#[test]
fn connector_lines_a_second_apart_are_one_forwarded_request() {
    let mut s = Scene::new();
    let a = s.connector(T);
    let b = s.connector(T + 1_000);
    let c = s.connector(T + 2_000);
    let blocks =
        flat![block(vec![s.sts(T + 400, Some(1), issued(GUID1))], &[(IdKind::ClientGuid, GUID1)], &[])];
    let (mut g, out) = connector_scene(&s, &blocks);
    let r = g.block_anchor(0).unwrap();
    assert_eq!(out, vec![(a, r), (b, r), (c, r)]);
}

#[test]
fn connector_lines_follow_the_only_client_request_from_5000_ms_before_to_1500_ms_after() {
    let t = T + 300;
    for (other_at, tied) in [(t - 5_001, true), (t - 5_000, false), (t + 1_500, false), (t + 1_501, true)] {
        let mut s = Scene::new();
        s.request(C1, T);
        s.request(C2, other_at);
        let line = s.connector(t);
        let (mut g, out) = connector_scene(&s, &Blocks::default());
        let h = g.find(g.host_node[C1].unwrap());
        let expected = if tied { vec![(line, h)] } else { vec![] };
        assert_eq!(out, expected, "CLIENT02 requesting {} ms from the connector line", other_at - t);
    }
}

#[test]
fn connector_lines_stay_unattributed_when_block_and_client_disagree() {
    let mut s = Scene::new();
    s.request(C1, T);
    let line = s.connector(T + 300);
    // The block names a GUID no client host carries: a component of its own, not CLIENT01's.
    let blocks =
        flat![block(vec![s.sts(T + 400, Some(1), issued(GUID1))], &[(IdKind::ClientGuid, GUID1)], &[])];
    let (_, out) = connector_scene(&s, &blocks);
    assert_eq!(out, vec![]);

    // Once the chain joined them, both sides agree.
    let mut g = padded_graph(&s, &blocks);
    g.link_chains(&s.store(), &s.roles(), &blocks, s.corrected(&s.corr_ms()));
    let roots = g.block_roots(&blocks);
    let out = connector_roots(&mut g, &s.store(), &s.roles(), &blocks, &roots, s.corrected(&s.corr_ms()));
    let h = g.find(g.host_node[C1].unwrap());
    assert_eq!(out, vec![(line, h)]);
}

#[test]
fn only_connector_lines_about_ccm_sts_are_attributed() {
    let mut s = Scene::new();
    s.request(C1, T);
    let line = s.connector(T + 300);
    // Another endpoint on the connector, and a CCM_STS-looking line in a client log: not the hop.
    s.push(
        SITE,
        LogKind::CloudProxyConnector,
        Some(T + 350),
        Some(1),
        EventKind::ProxyRequest {
            message_id: None,
            endpoint: Some("MP_PolicyManager".into()),
            uri: Some("https://MP.MYCORP.COM/CCM_SYSTEM/request".into()),
            http_status: Some(200),
            status_text: None,
            elapsed_ms: None,
        },
    );
    s.push(
        C1,
        LogKind::Ccmsetup,
        Some(T + 320),
        Some(1),
        EventKind::ProxyUrlRewritten { from: CMG_STS.into(), to: MP_STS.into() },
    );
    let (mut g, out) = connector_scene(&s, &Blocks::default());
    let h = g.find(g.host_node[C1].unwrap());
    assert_eq!(out, vec![(line, h)]);
}

#[test]
fn a_second_block_from_1500_ms_before_to_5000_ms_after_the_request_leaves_it_untied() {
    for (other_at, tied) in [(T - 1_501, true), (T - 1_500, false), (T + 5_000, false), (T + 5_001, true)] {
        let mut s = Scene::new();
        let r = s.request(C1, T);
        let (mut g, blocks) = chained(&mut s, &[T + 400, other_at]);
        let h = g.find(g.host_node[C1].unwrap());
        let first = if tied {
            (Some(h), Attribution::RequestChain { client_event: EventIx::from(r) })
        } else {
            (None, Attribution::None)
        };
        assert_eq!(
            g.block_roots(&blocks),
            vec![first, (None, Attribution::None)],
            "a second block {} ms from the request",
            other_at - T
        );
    }
}

#[test]
fn a_second_block_from_1500_ms_before_to_3000_ms_after_the_connector_line_leaves_it_unattributed() {
    let t = T + 300;
    for (other_at, tied) in [(t - 1_501, true), (t - 1_500, false), (t + 3_000, false), (t + 3_001, true)] {
        let mut s = Scene::new();
        let line = s.connector(t);
        let blocks = flat![
            block(vec![s.sts(t + 100, Some(1), issued(GUID1))], &[(IdKind::ClientGuid, GUID1)], &[]),
            block(vec![s.sts(other_at, Some(2), issued(GUID2))], &[(IdKind::ClientGuid, GUID2)], &[]),
        ];
        let (mut g, out) = connector_scene(&s, &blocks);
        let expected = if tied { vec![(line, g.block_anchor(0).unwrap())] } else { vec![] };
        assert_eq!(out, expected, "a second block {} ms from the connector line", other_at - t);
    }
}

#[test]
fn a_second_connector_request_from_1500_ms_before_to_5000_ms_after_the_client_request_breaks_the_tie() {
    let t = T + 300;
    for (other_at, tied) in [(T - 1_501, true), (T - 1_500, false), (T + 5_000, false), (T + 5_001, true)] {
        let mut s = Scene::new();
        s.request(C1, T);
        let line = s.connector(t);
        // Logged on another host (MP01 here), so that it is a forwarded request of its own at any time.
        s.push(
            SITE,
            LogKind::CloudProxyConnector,
            Some(other_at),
            Some(1),
            EventKind::ProxyUrlRewritten { from: CMG_STS.into(), to: MP_STS.into() },
        );
        s.host_of[s.events.len() - 1] = MP as u32;
        s.events.last_mut().unwrap().evidence.set_host(HOSTS[MP].into());
        let (mut g, out) = connector_scene(&s, &Blocks::default());
        let h = g.find(g.host_node[C1].unwrap());
        let expected = if tied { vec![(line, h)] } else { vec![] };
        assert_eq!(out, expected, "another connector request {} ms from the client request", other_at - T);
    }
}

/// Once every link is made the blocks forget their identifiers and keep their kinds, hosts and lines;
/// shrinking them changes nothing they read.
#[test]
fn blocks_forget_their_ids_and_keep_their_lines() {
    let mut blocks = flat![
        block(vec![3, 4], &[(IdKind::AadDevice, AAD_DEV1)], &[(IdKind::AadUser, USER1)]),
        block(vec![], &[], &[]),
        block(vec![7], &[(IdKind::ClientGuid, GUID1), (IdKind::AadDevice, AAD_DEV2)], &[]),
    ];
    let lines = |b: &Blocks| b.iter().map(|x| (x.kind, x.events.to_vec())).collect::<Vec<_>>();
    let before = lines(&blocks);
    blocks.shrink_to_fit();
    assert_eq!(lines(&blocks), before);
    assert_eq!(blocks.get(2).strong.len(), 2);
    assert_eq!(blocks.get(0).weak.len(), 1);
    blocks.forget_ids();
    assert_eq!(lines(&blocks), before);
    assert_eq!(blocks.len(), 3);
    assert!(blocks.iter().all(|b| b.strong.is_empty() && b.weak.is_empty()));
}
