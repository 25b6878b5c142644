//! Clock skew between hosts, estimated from causal pairs across hosts.
//!
//! Offsets are "host clock minus reference clock" in milliseconds. The reference is the management
//! points (they issue the CCM tokens) and, without one, the CMG (Azure, `+00`). Each causal pair says
//! that an event A on one host happened before an event B on another, at most a latency L earlier:
//! `A_true <= B_true <= A_true + L`, i.e. `offset(A host) - offset(B host)` lies in `[Ta - Tb, Ta - Tb + L]`.
//! Pairs (A → B):
//! - the MP issues a token (`Created SCCM token`) → the client caches it; the cached token's expiry
//!   minus 8 hours is the issue time in the issuer's clock, so even without MP logs each cache line
//!   bounds the client's offset (token expiry relation);
//! - client `Getting CCM Token` → the MP's CCM_STS request of the same device;
//! - client registration request → the MP's registration of the same device → client `registered`;
//! - connector CCM_STS rewrite → the MP's CCM_STS request; client CCM token request → connector rewrite.
//!
//! Device-linked pairs only pair events of one device (by identifiers), so they are not guesses; the
//! connector pairs are global and skipped where the other side is too busy to be informative. Every
//! pair gives an interval for the unknown host's offset; the offset is the point most pairs agree on
//! (a sweep over interval ends), 0 when 0 is among those points. An estimate is consistent when at
//! least two observations (or one token expiry confirmed by the MP's issue line) agree, at least half
//! of the observations agree, and no other offset has more than half that support.

use rustc_hash::FxHashMap as HashMap;

use chrono::Duration;
use cmtrace_parsers::{EventKind, EventStore, HostRole, LogKind};

use crate::correlate::{
    connector_start_ms, is_connector_sts, window, Blocks, HostRoles, RequestKind, CHAIN_WINDOW_MS,
};
use crate::index::{EventIx, OptU32, TimeMs};

/// A host correction is applied only above this (the contract's `clock-skew` threshold).
pub const SKEW_APPLY_THRESHOLD_MS: i64 = 120_000;
/// A CCM token for Azure AD clients lives 8 hours.
pub const CCM_TOKEN_LIFETIME_MS: i64 = 8 * 3_600_000;
/// Largest offset considered for identifier-linked pairs.
const MAX_OFFSET_MS: i64 = 2 * 3_600_000;
/// Largest offset considered for global (connector) pairs.
const MAX_GLOBAL_OFFSET_MS: i64 = 30 * 60_000;
/// Latency bounds of each hop.
const CLIENT_MP_LATENCY_MS: i64 = 10_000;
const CONNECTOR_MP_LATENCY_MS: i64 = 3_000;
/// An A event with more candidates than this is uninformative and skipped.
const CANDIDATE_CAP: usize = 64;
/// At most this many A events per global relation are used (evenly sampled).
const GLOBAL_SAMPLE: usize = 4_000;
/// Support regions closer than this (beyond the intervals' own width) are the same estimate.
const REGION_SEPARATION_MS: i64 = 5_000;
/// Pairs kept as evidence per host.
const EVIDENCE_PAIRS: usize = 20;

/// Which causal relation a pair comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SkewRelation {
    /// The client cached a token whose expiry − 8 h is the MP's issue time (the issue line may be absent).
    TokenExpiry,
    /// Client `Getting CCM Token` before the MP's CCM_STS request of the same device.
    RequestBeforeSts,
    /// MP `Created SCCM token` before the client caches it (same device).
    IssueBeforeCache,
    /// Client registration request before the MP registers the same device.
    RegistrationRequestBeforeMp,
    /// MP registration before the client logs it is registered.
    MpRegistrationBeforeRegistered,
    /// Connector CCM_STS rewrite before a CCM_STS request on the MP.
    ConnectorBeforeSts,
    /// Client CCM token request before a connector CCM_STS rewrite.
    RequestBeforeConnector,
}

impl SkewRelation {
    /// The name in reports (`token_expiry`, `request_before_sts`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            SkewRelation::TokenExpiry => "token_expiry",
            SkewRelation::RequestBeforeSts => "request_before_sts",
            SkewRelation::IssueBeforeCache => "issue_before_cache",
            SkewRelation::RegistrationRequestBeforeMp => "registration_request_before_mp",
            SkewRelation::MpRegistrationBeforeRegistered => "mp_registration_before_registered",
            SkewRelation::ConnectorBeforeSts => "connector_before_sts",
            SkewRelation::RequestBeforeConnector => "request_before_connector",
        }
    }

    /// Relations observing the same host event count once (a cache line seen via its expiry and via
    /// the MP's issue line is one observation).
    fn class(self) -> u8 {
        match self {
            SkewRelation::TokenExpiry | SkewRelation::IssueBeforeCache => 0,
            other => other as u8,
        }
    }
}

/// One causal pair behind a host's offset: the event on this host, the event on the other side
/// (`None` for a token expiry whose issue line was not collected) and the offset range it allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkewPair {
    /// Which kind of causal pair.
    pub relation: SkewRelation,
    /// Event on the host this offset is about (in read order while the engine works, in timeline order
    /// once `analyze` has returned).
    pub host_event: EventIx,
    /// Event on the other host (or the MP issue line), if any.
    pub other_event: Option<EventIx>,
    /// The smallest host offset the pair allows (ms).
    pub min_offset_ms: i64,
    /// The largest host offset the pair allows (ms).
    pub max_offset_ms: i64,
}

/// The estimated clock offset of one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostOffset {
    /// The host's name.
    pub host: String,
    /// The host is a reference clock (management point, or CMG without an MP).
    pub reference: bool,
    /// Host clock minus reference clock (positive: the host runs ahead).
    pub offset_ms: i64,
    /// Enough pairs agree on `offset_ms` (see the module comment).
    pub consistent: bool,
    /// The host's times were corrected by `offset_ms` (consistent and beyond 2 minutes).
    pub applied: bool,
    /// Observations agreeing with `offset_ms`, out of `observations`.
    pub support: usize,
    /// Observations in all.
    pub observations: usize,
    /// The agreeing pairs (up to 20).
    pub pairs: Vec<SkewPair>,
}

/// What the estimator needs (positions are into the engine's event slice).
pub(crate) struct SkewInput<'a> {
    pub events: &'a EventStore,
    pub raw_ms: &'a [TimeMs],
    pub roles: &'a HostRoles<'a>,
    pub host_names: &'a [cmtrace_parsers::SharedStr],
    pub is_reference: &'a [bool],
    pub blocks: &'a Blocks,
    /// Device component per block and per event before time chains (identifiers only).
    pub block_root: &'a [Option<usize>],
    /// Per event: its component's root node (32-bit, one per event).
    pub event_root: &'a [OptU32],
}

/// A side of a pair: host (or the virtual token issuer), event, time. 16 bytes (positions in 32 bits): a
/// fleet collection gives hundreds of thousands of pairs, and they are the skew stage's largest vector.
#[derive(Clone, Copy)]
struct Side {
    host: u32,
    event: OptU32,
    ms: i64,
}

impl Side {
    fn new(host: usize, event: Option<usize>, ms: i64) -> Side {
        let pos = |v: usize| u32::try_from(v).expect("fewer than 4 billion hosts and events");
        Side { host: pos(host), event: OptU32::new(event.map(pos)), ms }
    }

    fn host(&self) -> usize {
        self.host as usize
    }

    fn event(&self) -> Option<usize> {
        self.event.get().map(|e| e as usize)
    }
}

/// `a` happened before `b`, at most `latency` earlier.
#[derive(Clone, Copy)]
struct Pair {
    a: Side,
    b: Side,
    latency: i64,
    relation: SkewRelation,
}

/// Estimates every host's offset. Returns the per-host entries (sorted by host) and the offset to use
/// for correlation per host (the consistent estimate, whatever its size).
pub(crate) fn estimate(input: &SkewInput) -> (Vec<HostOffset>, Vec<i64>) {
    let host_count = input.host_names.len();
    let issuer = host_count; // the virtual clock of the token issuer: the reference
    let pairs = collect_pairs(input, issuer);

    let mut known: Vec<Option<i64>> =
        (0..=host_count).map(|h| (h == issuer || input.is_reference[h]).then_some(0)).collect();
    let mut results: HashMap<usize, (VoteResult, Vec<Obs>)> = HashMap::default();
    for _round in 0..4 {
        let mut obs_per_host: HashMap<usize, Vec<Obs>> = HashMap::default();
        for (pi, p) in pairs.iter().enumerate() {
            let d = p.a.ms - p.b.ms;
            match (known[p.a.host()], known[p.b.host()]) {
                (None, Some(off_b)) => {
                    let Some(ev) = p.a.event() else { continue };
                    obs_per_host.entry(p.a.host()).or_default().push(Obs {
                        lo: d + off_b,
                        hi: d + off_b + p.latency,
                        key: obs_key(ev, p.relation),
                        pair: pi,
                    });
                }
                (Some(off_a), None) => {
                    let Some(ev) = p.b.event() else { continue };
                    obs_per_host.entry(p.b.host()).or_default().push(Obs {
                        lo: off_a - d - p.latency,
                        hi: off_a - d,
                        key: obs_key(ev, p.relation),
                        pair: pi,
                    });
                }
                _ => {}
            }
        }
        let mut newly_known = false;
        let mut hosts: Vec<usize> = obs_per_host.keys().copied().collect();
        hosts.sort_unstable();
        for h in hosts {
            let obs = obs_per_host.remove(&h).unwrap_or_default();
            let Some(v) = vote(&obs) else { continue };
            let single_confirmed = v.support == 1
                && obs.iter().any(|o| {
                    let p = &pairs[o.pair];
                    v.covers(o) && p.relation.class() == 0 && p.a.event().is_some()
                });
            let consistent = (v.support >= 2 || single_confirmed)
                && v.support * 2 >= v.observed
                && v.second * 2 <= v.support;
            let v = VoteResult { consistent, ..v };
            if consistent {
                known[h] = Some(v.offset);
                newly_known = true;
            }
            // Only the observations the vote covers are read again (the host's evidence pairs).
            let covered: Vec<Obs> = obs.into_iter().filter(|o| v.covers(o)).collect();
            results.insert(h, (v, covered));
        }
        if !newly_known {
            break;
        }
    }

    let mut out = Vec::new();
    let mut correlation = vec![0i64; host_count];
    for (h, correction) in correlation.iter_mut().enumerate() {
        if input.is_reference[h] {
            out.push(HostOffset {
                host: input.host_names[h].to_string(),
                reference: true,
                offset_ms: 0,
                consistent: true,
                applied: false,
                support: 0,
                observations: 0,
                pairs: Vec::new(),
            });
            continue;
        }
        let Some((v, obs)) = results.get(&h) else { continue };
        if v.consistent {
            *correction = v.offset;
        }
        let mut agreeing: Vec<SkewPair> = obs
            .iter()
            .map(|o| {
                let p = &pairs[o.pair];
                let (host_side, other) = if p.a.host() == h { (p.a, p.b) } else { (p.b, p.a) };
                SkewPair {
                    relation: p.relation,
                    host_event: EventIx::from(host_side.event().unwrap_or_default()),
                    other_event: other.event().map(EventIx::from),
                    min_offset_ms: o.lo,
                    max_offset_ms: o.hi,
                }
            })
            .collect();
        agreeing.sort_by_key(|p| (p.host_event, p.relation));
        agreeing.dedup_by_key(|p| (p.host_event, p.relation, p.other_event));
        agreeing.truncate(EVIDENCE_PAIRS);
        out.push(HostOffset {
            host: input.host_names[h].to_string(),
            reference: false,
            offset_ms: v.offset,
            consistent: v.consistent,
            applied: v.consistent && v.offset.abs() > SKEW_APPLY_THRESHOLD_MS,
            support: v.support,
            observations: v.observed,
            pairs: agreeing,
        });
    }
    blame_the_reference(input, &mut out, &mut correlation);
    out.sort_by(|a, b| a.host.cmp(&b.host));
    (out, correlation)
}

/// Hosts whose offsets agree within this are one clock.
const SAME_CLOCK_MS: i64 = 60_000;

/// When the one reference clock (the management point) is the clock that is wrong, every other host
/// appears shifted by the same amount the other way: the CMG (an Azure VM, on UTC) and every client agree
/// with each other and disagree with it. Then the reference is the odd one out: its offset is the
/// opposite of theirs, theirs become the small residues, and its evidence is the pairs they share with it.
fn blame_the_reference(input: &SkewInput, out: &mut [HostOffset], correlation: &mut [i64]) {
    let references: Vec<usize> = (0..out.len()).filter(|&i| out[i].reference).collect();
    if references.len() != 1 {
        return;
    }
    let others: Vec<usize> = (0..out.len()).filter(|&i| !out[i].reference && out[i].consistent).collect();
    if others.len() < 2 {
        return;
    }
    let mut offsets: Vec<i64> = others.iter().map(|&i| out[i].offset_ms).collect();
    offsets.sort_unstable();
    let median = offsets[offsets.len() / 2];
    let all_agree = offsets.iter().all(|&o| (o - median).abs() <= SAME_CLOCK_MS);
    // A CMG among them (Azure keeps its clock), or every client of the collection.
    let host_index = |name: &str| input.host_names.iter().position(|n| n == name);
    let cmg_agrees = others.iter().any(|&i| {
        host_index(&out[i].host).is_some_and(|h| !input.roles.is_client[h] && input.roles.is_server[h])
    });
    let clients_total = input.roles.is_client.iter().filter(|&&c| c).count();
    let clients_agreeing = others
        .iter()
        .filter(|&&i| host_index(&out[i].host).is_some_and(|h| input.roles.is_client[h]))
        .count();
    if !all_agree
        || median.abs() <= SKEW_APPLY_THRESHOLD_MS
        || !(cmg_agrees || clients_agreeing == clients_total)
    {
        return;
    }
    let r = references[0];
    let Some(rh) = host_index(&out[r].host) else { return };
    // The reference's evidence: the other hosts' pairs whose other side is on it, seen from its side.
    let mut pairs: Vec<SkewPair> = Vec::new();
    for &i in &others {
        for p in &out[i].pairs {
            if let Some(x) = p.other_event.filter(|&x| (input.roles.host_of[x.index()] as usize) == rh) {
                pairs.push(SkewPair {
                    relation: p.relation,
                    host_event: x,
                    other_event: Some(p.host_event),
                    min_offset_ms: -p.max_offset_ms,
                    max_offset_ms: -p.min_offset_ms,
                });
            }
        }
    }
    // The issue lines first (`Created SCCM token` against the clients' caches): the MP's own proof.
    pairs.sort_by_key(|p| (p.relation.class(), p.host_event, p.relation));
    pairs.dedup_by_key(|p| (p.host_event, p.relation));
    pairs.truncate(EVIDENCE_PAIRS);
    let support: usize = others.iter().map(|&i| out[i].support).sum();
    let observations: usize = others.iter().map(|&i| out[i].observations).sum();
    for &i in &others {
        let o = &mut out[i];
        o.offset_ms -= median;
        o.applied = o.offset_ms.abs() > SKEW_APPLY_THRESHOLD_MS;
        if let Some(h) = host_index(&o.host) {
            correlation[h] -= median;
        }
    }
    correlation[rh] -= median;
    let o = &mut out[r];
    o.reference = false;
    o.offset_ms = -median;
    o.consistent = true;
    o.applied = true;
    o.support = support;
    o.observations = observations;
    o.pairs = pairs;
}

fn obs_key(event: usize, relation: SkewRelation) -> u64 {
    ((event as u64) << 4) | relation.class() as u64
}

/// One interval for an unknown host's offset.
#[derive(Clone, Copy)]
struct Obs {
    lo: i64,
    hi: i64,
    key: u64,
    pair: usize,
}

#[derive(Clone, Copy, Debug)]
struct VoteResult {
    /// The chosen point of the region most observations agree on.
    offset: i64,
    support: usize,
    observed: usize,
    /// The best support elsewhere (farther than the separation from the region).
    second: usize,
    consistent: bool,
}

impl VoteResult {
    fn covers(&self, o: &Obs) -> bool {
        o.lo <= self.offset && self.offset <= o.hi
    }
}

/// The offset most distinct observations agree on (see the module comment).
fn vote(obs: &[Obs]) -> Option<VoteResult> {
    if obs.is_empty() {
        return None;
    }
    // Half-open [lo, hi + 1) in ms; ends sort before starts at the same point.
    let mut points: Vec<(i64, i8, u64)> = Vec::with_capacity(obs.len() * 2);
    for o in obs {
        points.push((o.lo, 1, o.key));
        points.push((o.hi + 1, -1, o.key));
    }
    points.sort_unstable();
    let mut counts: HashMap<u64, u32> = HashMap::default();
    let mut coverage = 0usize;
    // (start, end, coverage) segments.
    let mut segments: Vec<(i64, i64, usize)> = Vec::new();
    let mut i = 0;
    while i < points.len() {
        let x = points[i].0;
        while i < points.len() && points[i].0 == x {
            let (_, delta, key) = points[i];
            let c = counts.entry(key).or_insert(0);
            if delta > 0 {
                *c += 1;
                if *c == 1 {
                    coverage += 1;
                }
            } else {
                *c -= 1;
                if *c == 0 {
                    coverage -= 1;
                }
            }
            i += 1;
        }
        if let Some(&(next, _, _)) = points.get(i) {
            if coverage > 0 {
                segments.push((x, next, coverage));
            }
        }
    }
    let observed = counts.len();
    let best = segments.iter().map(|s| s.2).max()?;
    // Maximal runs of adjacent best segments.
    let mut regions: Vec<(i64, i64)> = Vec::new();
    for s in segments.iter().filter(|s| s.2 == best) {
        match regions.last_mut() {
            Some(r) if r.1 == s.0 => r.1 = s.1,
            _ => regions.push((s.0, s.1)),
        }
    }
    let contains_zero = |r: &(i64, i64)| r.0 <= 0 && 0 < r.1;
    let (lo, hi) = regions.iter().copied().find(contains_zero).unwrap_or(regions[0]);
    let offset = if lo <= 0 && 0 < hi { 0 } else { lo + (hi - 1 - lo) / 2 };
    // A competing offset must be out of reach of every interval that supports the chosen one.
    let reach = obs.iter().map(|o| o.hi - o.lo).max().unwrap_or(0) + REGION_SEPARATION_MS;
    let second = segments
        .iter()
        .filter(|s| s.1 <= offset - reach || s.0 > offset + reach)
        .map(|s| s.2)
        .max()
        .unwrap_or(0);
    Some(VoteResult { offset, support: best, observed, second, consistent: false })
}

/// Every causal pair the logs give.
fn collect_pairs(input: &SkewInput, issuer: usize) -> Vec<Pair> {
    let ev = input.events;
    let host = |i: usize| input.roles.host_of[i] as usize;
    let side = |i: usize| input.raw_ms[i].get().map(|ms| Side::new(host(i), Some(i), ms));
    let client_event = |i: usize| ev[i].log_kind.role() == HostRole::Client && input.roles.is_client[host(i)];
    let mut pairs = Vec::new();

    // Per device component: client and MP events of the kinds the relations pair.
    #[derive(Default)]
    struct Dev {
        requests: Vec<(i64, usize)>,
        cached: Vec<(i64, usize)>,
        reg_requests: Vec<(i64, usize)>,
        registered: Vec<(i64, usize)>,
        sts: Vec<(i64, usize)>,
        issued: Vec<(i64, usize)>,
        mp_reg: Vec<(i64, usize)>,
    }
    let mut devs: HashMap<usize, Dev> = HashMap::default();
    for (i, e) in ev.iter().enumerate() {
        let (Some(root), Some(t)) = (input.event_root[i].get(), input.raw_ms[i].get()) else { continue };
        if !client_event(i) {
            continue;
        }
        let d = devs.entry(root as usize).or_default();
        match e.kind {
            EventKind::CcmTokenRequested { .. } => d.requests.push((t, i)),
            EventKind::CcmTokenCached { .. } => d.cached.push((t, i)),
            EventKind::RegistrationRequested { .. } => d.reg_requests.push((t, i)),
            EventKind::Registered { .. } => d.registered.push((t, i)),
            _ => {}
        }
    }
    // Every relation below pairs a client event with a server one: devices seen only on servers (most
    // of a fleet collection) give no pair and are not gathered.
    for (bi, b) in input.blocks.iter().enumerate() {
        let Some(root) = input.block_root[bi] else { continue };
        let Some(d) = devs.get_mut(&root) else { continue };
        match b.kind {
            RequestKind::CcmSts => {
                if let Some((t, i)) = b.event_positions().find_map(|i| input.raw_ms[i].get().map(|t| (t, i)))
                {
                    d.sts.push((t, i));
                }
                for i in b.event_positions() {
                    if let (EventKind::CcmTokenIssued { .. }, Some(t)) = (&ev[i].kind, input.raw_ms[i].get())
                    {
                        d.issued.push((t, i));
                    }
                }
            }
            RequestKind::MpRegistration => {
                if let Some(i) =
                    b.event_positions().find(|&i| matches!(ev[i].kind, EventKind::MpRegistration { .. }))
                {
                    if let Some(t) = input.raw_ms[i].get() {
                        d.mp_reg.push((t, i));
                    }
                }
            }
        }
    }
    let mut roots: Vec<usize> = devs.keys().copied().collect();
    roots.sort_unstable();
    for root in roots {
        let d = devs.get_mut(&root).expect("root listed");
        for v in [&mut d.requests, &mut d.cached, &mut d.reg_requests, &mut d.registered] {
            v.sort_unstable();
        }
        for v in [&mut d.sts, &mut d.issued, &mut d.mp_reg] {
            v.sort_unstable();
        }
        let d = &devs[&root];
        pair_sets(
            &mut pairs,
            &d.requests,
            &d.sts,
            MAX_OFFSET_MS,
            CLIENT_MP_LATENCY_MS,
            SkewRelation::RequestBeforeSts,
            &side,
            false,
        );
        pair_sets(
            &mut pairs,
            &d.issued,
            &d.cached,
            MAX_OFFSET_MS,
            CLIENT_MP_LATENCY_MS,
            SkewRelation::IssueBeforeCache,
            &side,
            true,
        );
        pair_sets(
            &mut pairs,
            &d.reg_requests,
            &d.mp_reg,
            MAX_OFFSET_MS,
            CLIENT_MP_LATENCY_MS,
            SkewRelation::RegistrationRequestBeforeMp,
            &side,
            false,
        );
        pair_sets(
            &mut pairs,
            &d.mp_reg,
            &d.registered,
            MAX_OFFSET_MS,
            CLIENT_MP_LATENCY_MS,
            SkewRelation::MpRegistrationBeforeRegistered,
            &side,
            true,
        );
    }

    // Token expiry: expiry (client local) − 8 h, to UTC with the client's bias, is the issue time in
    // the issuer's clock. Paired with the MP's `Created SCCM token` line when exactly one lines up.
    let mut mp_issued: Vec<(i64, usize)> = ev
        .iter()
        .enumerate()
        .filter(|(i, e)| matches!(e.kind, EventKind::CcmTokenIssued { .. }) && input.is_reference[host(*i)])
        .filter_map(|(i, _)| input.raw_ms[i].get().map(|t| (t, i)))
        .collect();
    mp_issued.sort_unstable();
    for (i, e) in ev.iter().enumerate() {
        let EventKind::CcmTokenCached { expires_local: Some(expiry), .. } = &e.kind else { continue };
        let (Some(bias), Some(tc)) = (e.bias_minutes(), input.raw_ms[i].get()) else { continue };
        if !client_event(i) {
            continue;
        }
        let Some(expiry_utc) = expiry.checked_add_signed(Duration::minutes(bias as i64)) else { continue };
        let issue = expiry_utc.and_utc().timestamp_millis() - CCM_TOKEN_LIFETIME_MS;
        if (tc - issue).abs() > MAX_OFFSET_MS {
            continue; // not an 8-hour Azure AD CCM token
        }
        let b = Side::new(host(i), Some(i), tc);
        let matched = match window(&mp_issued, issue - 1_000, issue + 2_000) {
            [(t, j)] => Some(Side::new(host(*j), Some(*j), *t)),
            _ => None,
        };
        let a = matched.unwrap_or(Side::new(issuer, None, issue));
        // The expiry has whole seconds: the issue happened in [issue, issue + 1 s).
        let latency = CLIENT_MP_LATENCY_MS + if matched.is_some() { 0 } else { 1_000 };
        pairs.push(Pair { a, b, latency, relation: SkewRelation::TokenExpiry });
    }

    // Connector hop (global): connector CCM_STS lines before MP CCM_STS requests, client requests
    // before connector lines.
    let mut connector: Vec<(i64, usize)> = ev
        .iter()
        .enumerate()
        .filter(|(_, e)| e.log_kind == LogKind::CloudProxyConnector && is_connector_sts(e))
        .filter_map(|(i, e)| input.raw_ms[i].get().map(|t| (connector_start_ms(e, t), i)))
        .collect();
    connector.sort_unstable();
    let mut receipts: Vec<(i64, usize)> = input
        .blocks
        .iter()
        .filter(|b| b.kind == RequestKind::CcmSts)
        .filter_map(|b| b.event_positions().find_map(|i| input.raw_ms[i].get().map(|t| (t, i))))
        .collect();
    receipts.sort_unstable();
    let mut client_requests: Vec<(i64, usize)> = ev
        .iter()
        .enumerate()
        .filter(|(i, e)| matches!(e.kind, EventKind::CcmTokenRequested { .. }) && client_event(*i))
        .filter_map(|(i, _)| input.raw_ms[i].get().map(|t| (t, i)))
        .collect();
    client_requests.sort_unstable();
    let connector_side = |&(t, i): &(i64, usize)| Side::new(host(i), Some(i), t);
    let sampled = |v: &[(i64, usize)]| -> Vec<(i64, usize)> {
        let step = v.len().div_ceil(GLOBAL_SAMPLE).max(1);
        v.iter().step_by(step).copied().collect()
    };
    for a in sampled(&connector) {
        let cands = window(&receipts, a.0 - MAX_GLOBAL_OFFSET_MS, a.0 + MAX_GLOBAL_OFFSET_MS);
        if cands.len() > CANDIDATE_CAP {
            continue;
        }
        for &b in cands {
            if let Some(bs) = side(b.1) {
                let relation = SkewRelation::ConnectorBeforeSts;
                pairs.push(Pair { a: connector_side(&a), b: bs, latency: CONNECTOR_MP_LATENCY_MS, relation });
            }
        }
    }
    for a in sampled(&client_requests) {
        let cands = window(&connector, a.0 - MAX_GLOBAL_OFFSET_MS, a.0 + MAX_GLOBAL_OFFSET_MS);
        if cands.len() > CANDIDATE_CAP {
            continue;
        }
        for b in cands {
            if let Some(a_side) = side(a.1) {
                let relation = SkewRelation::RequestBeforeConnector;
                pairs.push(Pair { a: a_side, b: connector_side(b), latency: CHAIN_WINDOW_MS, relation });
            }
        }
    }
    pairs.retain(|p| p.a.host() != p.b.host());
    // Grown by doubling: held through the votes at its size.
    pairs.shrink_to_fit();
    pairs
}

/// Pairs every `a` with the `b`s within `max` of it (A before B). `cap_on_b` caps per B event instead.
#[allow(clippy::too_many_arguments)]
fn pair_sets(
    pairs: &mut Vec<Pair>,
    a: &[(i64, usize)],
    b: &[(i64, usize)],
    max: i64,
    latency: i64,
    relation: SkewRelation,
    side: &dyn Fn(usize) -> Option<Side>,
    cap_on_b: bool,
) {
    let (outer, inner) = if cap_on_b { (b, a) } else { (a, b) };
    for &(t, i) in outer {
        let cands = window(inner, t - max, t + max);
        if cands.len() > CANDIDATE_CAP {
            continue;
        }
        for &(_, j) in cands {
            let (ai, bi) = if cap_on_b { (j, i) } else { (i, j) };
            if let (Some(a_side), Some(b_side)) = (side(ai), side(bi)) {
                pairs.push(Pair { a: a_side, b: b_side, latency, relation });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(lo: i64, hi: i64, key: u64) -> Obs {
        Obs { lo, hi, key, pair: 0 }
    }

    #[test]
    fn vote_finds_the_common_point() {
        let v =
            vote(&[obs(299_700, 309_700, 1), obs(290_500, 300_500, 2), obs(290_000, 301_000, 3)]).unwrap();
        assert_eq!(v.support, 3);
        assert!(v.offset >= 299_700 && v.offset <= 300_500, "{v:?}");
        assert_eq!(v.second, 0);
    }

    #[test]
    fn vote_prefers_zero_when_zero_agrees() {
        let v = vote(&[obs(-5_000, 5_000, 1), obs(-1_000, 9_000, 2)]).unwrap();
        assert_eq!(v.offset, 0);
        assert_eq!(v.support, 2);
    }

    #[test]
    fn vote_counts_one_key_once() {
        // Two candidate intervals of one observation overlapping must not count twice.
        let v = vote(&[obs(0, 10, 1), obs(5, 15, 1), obs(100, 110, 2)]).unwrap();
        assert_eq!(v.support, 1);
        assert_eq!(v.observed, 2);
    }

    #[test]
    fn vote_reports_a_competing_region() {
        let v = vote(&[obs(100_000, 101_000, 1), obs(200_000, 201_000, 2)]).unwrap();
        assert_eq!(v.support, 1);
        assert_eq!(v.second, 1);
    }
}

#[cfg(test)]
#[path = "skew_tests.rs"]
mod mutation_tests;
