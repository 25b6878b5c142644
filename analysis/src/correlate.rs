//! Cross-host correlation: which events belong to which device.
//!
//! Devices are the components of a union-find over typed identifier nodes (client hosts, SMS client
//! GUIDs, Azure AD device ids, computer-account SIDs). Links, each justified where it is made:
//! 1. every client log on a host is written by the one ConfigMgr client installed there, so the ids a
//!    client log names join that host's node (`link_client_ids`);
//! 2. the ids named inside one server request block (the lines of one CCM_STS or MP registration
//!    request: same file, same thread, from `ProcessRequest - Start` to `Return token to client`)
//!    describe one caller, so they join each other (`link_block_ids`);
//! 3. weak ids (Azure AD user ids, user SIDs) are shared by every PC a person uses: they join a
//!    client host to one server-only component only when exactly those two components carry the id
//!    (`link_weak_ids`), and they never join two client hosts;
//! 4. a client CCM token request is tied to a CCM_STS request block (and to the connector lines of
//!    that hop) by time, only when each side has exactly one candidate in the window (`link_chains`).
//!
//! Tenant ids never link anything (every device of a tenant shares them), nor does `S-1-5-18`.
//! All indices here are positions in the caller's event slice.

use std::borrow::Cow;
use std::collections::BTreeMap;

use rustc_hash::FxHashMap as HashMap;

use cmtrace_parsers::{Event, EventKind, EventStore, HostRole, LogKind, SharedStr};

use crate::ids::{for_each_id, for_each_shared_id, is_account_sid, IdKind};
use crate::index::{EventIx, OptU32, TimeMs};

/// A client request reaches the MP's CCM_STS at most this long after the client logged it.
pub(crate) const CHAIN_WINDOW_MS: i64 = 5_000;
/// The connector forwards to the MP at most this long after it logged the rewrite.
pub(crate) const CONNECTOR_WINDOW_MS: i64 = 3_000;
/// Tolerance for a server line logged slightly before the client line (residual clock error).
pub(crate) const CHAIN_SLACK_MS: i64 = 1_500;
/// A request block never spans more than this (lines later than this start a new block).
const STS_BLOCK_SPAN_MS: i64 = 60_000;
const MP_REG_BLOCK_SPAN_MS: i64 = 10_000;
/// Windows holding more candidates than this are ambiguous without further inspection.
const WINDOW_SCAN_CAP: usize = 32;

/// Which server request a block is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestKind {
    /// One CCM_STS token request on a management point.
    CcmSts,
    /// One registration handled by MP_RegistrationManager.
    MpRegistration,
}

/// The server request blocks, flat: each block's head, and its lines and identifiers as runs of two shared
/// vectors. A stress collection of 1 GB holds 300,000 blocks; a struct with three boxed slices each was
/// 64 bytes and up to three allocations a block (49 MB of that corpus's peak), runs are 12 bytes a block.
#[derive(Debug, Clone, Default)]
pub(crate) struct Blocks {
    /// Per block: which request, its host.
    heads: Vec<(RequestKind, u32)>,
    /// Per block: where its lines end in `events`.
    event_ends: Vec<u32>,
    /// The lines of every block (positions in the event slice), block after block, each in line order.
    events: Vec<u32>,
    /// Per block: where its strong ids end in `ids`, and where its weak ids end.
    id_ends: Vec<(u32, u32)>,
    /// Every block's strong ids then weak ids, block after block.
    ids: Vec<(IdKind, SharedStr)>,
}

/// The lines of one server-side request (positions in the event slice, in line order), as `Blocks` holds it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Block<'a> {
    pub kind: RequestKind,
    pub events: &'a [u32],
    /// Strong ids (client GUIDs, Azure AD device ids, computer SIDs).
    pub strong: &'a [(IdKind, SharedStr)],
    /// Weak ids (Azure AD user ids, user account SIDs).
    pub weak: &'a [(IdKind, SharedStr)],
}

impl<'a> Block<'a> {
    /// Its lines' positions in the event slice, in line order.
    pub fn event_positions(&self) -> impl Iterator<Item = usize> + 'a {
        self.events.iter().map(|&i| i as usize)
    }
}

impl Blocks {
    /// How many blocks.
    pub fn len(&self) -> usize {
        self.heads.len()
    }

    /// Block `b`.
    pub fn get(&self, b: usize) -> Block<'_> {
        let (kind, _) = self.heads[b];
        let events_from = if b == 0 { 0 } else { self.event_ends[b - 1] as usize };
        let ids_from = if b == 0 { 0 } else { self.id_ends[b - 1].1 as usize };
        let (strong_end, weak_end) = self.id_ends[b];
        Block {
            kind,
            events: &self.events[events_from..self.event_ends[b] as usize],
            strong: &self.ids[ids_from..strong_end as usize],
            weak: &self.ids[strong_end as usize..weak_end as usize],
        }
    }

    /// The blocks in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Block<'_>> + '_ {
        (0..self.len()).map(|b| self.get(b))
    }

    /// Frees what growing left unused (the vectors grow by doubling: up to half of each was room).
    pub fn shrink_to_fit(&mut self) {
        self.heads.shrink_to_fit();
        self.event_ends.shrink_to_fit();
        self.events.shrink_to_fit();
        self.id_ends.shrink_to_fit();
        self.ids.shrink_to_fit();
    }

    /// Frees the blocks' identifiers once the last link is made (each block then reads as having none);
    /// their kinds, hosts and lines stay.
    pub fn forget_ids(&mut self) {
        self.id_ends = vec![(0, 0); self.heads.len()];
        self.ids = Vec::new();
    }

    /// Each block's kind and host, where its lines end, and the lines: what is left once they are renumbered.
    pub fn into_lines(self) -> (Vec<(RequestKind, u32)>, Vec<u32>, Vec<u32>) {
        (self.heads, self.event_ends, self.events)
    }

    /// Appends a block of `kind` on `host` with its lines and identifiers.
    pub fn push(
        &mut self,
        (kind, host): (RequestKind, usize),
        events: &[u32],
        strong: &[(IdKind, SharedStr)],
        weak: &[(IdKind, SharedStr)],
    ) {
        let end = |v: usize| u32::try_from(v).expect("fewer than 4 billion block lines and ids");
        self.heads.push((kind, end(host)));
        self.events.extend_from_slice(events);
        self.event_ends.push(end(self.events.len()));
        self.ids.extend_from_slice(strong);
        let strong_end = end(self.ids.len());
        self.ids.extend_from_slice(weak);
        self.id_ends.push((strong_end, end(self.ids.len())));
    }
}

/// A block as tests write it, gathered into `Blocks` with `collect`.
#[cfg(test)]
#[derive(Debug, Clone)]
pub(crate) struct OwnedBlock {
    pub kind: RequestKind,
    pub host: usize,
    pub events: Vec<u32>,
    pub strong: Vec<(IdKind, SharedStr)>,
    pub weak: Vec<(IdKind, SharedStr)>,
}

#[cfg(test)]
impl FromIterator<OwnedBlock> for Blocks {
    fn from_iter<I: IntoIterator<Item = OwnedBlock>>(blocks: I) -> Blocks {
        let mut out = Blocks::default();
        for b in blocks {
            out.push((b.kind, b.host), &b.events, &b.strong, &b.weak);
        }
        out
    }
}

/// Every distinct identifier once: the blocks, the graph's nodes, its index and its weak-id table hold
/// the same string (a 4-byte handle each) instead of a copy each, which on a collection with hundreds
/// of thousands of devices was most of the correlation's memory.
#[derive(Debug, Default)]
pub(crate) struct Interner(rustc_hash::FxHashSet<SharedStr>);

impl Interner {
    /// The shared string of an identifier already seen, if any.
    pub fn find(&self, id: &str) -> Option<SharedStr> {
        self.0.get(id).cloned()
    }

    /// The shared string of an identifier: the one seen before, else `shared` (an event's string spelled
    /// exactly `id`, kept instead of a copy of it), else a new one.
    pub fn get_shared(&mut self, id: &str, shared: Option<&SharedStr>) -> SharedStr {
        if let Some(known) = self.0.get(id) {
            return known.clone();
        }
        debug_assert!(shared.is_none_or(|s| s.as_str() == id));
        let new = shared.cloned().unwrap_or_else(|| SharedStr::from(id));
        self.0.insert(new.clone());
        new
    }
}

/// The events' UTC times after the estimated clock offsets, worked out where they are read (a vector of
/// them was 8 bytes an event at the correlation's peak).
#[derive(Clone, Copy)]
pub(crate) struct CorrectedTimes<'a> {
    /// Per event: its UTC time as read.
    pub raw_ms: &'a [TimeMs],
    /// Per event: its host.
    pub host_of: &'a [u32],
    /// Per host: the offset taken off its times.
    pub offset_ms: &'a [i64],
}

impl CorrectedTimes<'_> {
    /// Event `i`'s corrected time, if it has a time.
    pub fn get(&self, i: usize) -> Option<i64> {
        self.raw_ms[i].get().map(|t| t - self.offset_ms[self.host_of[i] as usize])
    }
}

/// Per-host facts the correlation needs.
pub(crate) struct HostRoles<'a> {
    pub host_of: &'a [u32],
    pub is_client: &'a [bool],
    pub is_server: &'a [bool],
}

fn is_strong(kind: IdKind, value: &str) -> bool {
    match kind {
        IdKind::ClientGuid | IdKind::AadDevice => true,
        IdKind::DeviceSid => is_account_sid(value),
        _ => false,
    }
}

fn is_weak(kind: IdKind, value: &str) -> bool {
    match kind {
        IdKind::AadUser => true,
        IdKind::Sid => is_account_sid(value),
        _ => false,
    }
}

fn push_unique(
    v: &mut Vec<(IdKind, SharedStr)>,
    kind: IdKind,
    value: Cow<str>,
    shared: Option<&SharedStr>,
    ids: &mut Interner,
) {
    if !v.iter().any(|(k, s)| *k == kind && s.as_str() == value) {
        v.push((kind, ids.get_shared(&value, shared)));
    }
}

/// Groups the CCM_STS and MP_RegistrationManager lines into request blocks. `raw_ms` are the events' UTC
/// times as read; `file_order` gives every event position sorted by (path, line), each with a number for its
/// file (equal for equal paths).
pub(crate) fn build_blocks(
    events: &EventStore,
    raw_ms: &[TimeMs],
    host_of: &[u32],
    file_order: impl IntoIterator<Item = (usize, u32)>,
    ids: &mut Interner,
) -> Blocks {
    struct Open {
        block: usize,
        start_ms: Option<i64>,
        closed: bool,
    }
    // Each block's kind and host, and its lines while they are gathered (blocks of several threads of a file
    // interleave).
    let mut heads: Vec<(RequestKind, usize)> = Vec::new();
    let mut members: Vec<Vec<u32>> = Vec::new();
    let mut suspect: Vec<usize> = Vec::new();
    let mut open: HashMap<(u32, Option<u32>), Open> = HashMap::default();
    let time = |i: usize| raw_ms[i].get();
    for (i, file) in file_order {
        let ev = &events[i];
        let kind = match ev.log_kind {
            LogKind::CcmSts => RequestKind::CcmSts,
            LogKind::MpRegistrationManager => RequestKind::MpRegistration,
            _ => continue,
        };
        let key = (file, ev.thread());
        let t = time(i);
        let span = if kind == RequestKind::CcmSts { STS_BLOCK_SPAN_MS } else { MP_REG_BLOCK_SPAN_MS };
        let within = |o: &Open| match (o.start_ms, t) {
            (Some(s), Some(t)) => (t - s).abs() <= span,
            _ => true,
        };
        // Whether this line continues the block open on its (file, thread).
        let joins = match open.get(&key) {
            None => false,
            Some(o) if o.closed || !within(o) => false,
            Some(o) => {
                // The lines of the block so far.
                let mut lines = members[o.block].iter().map(|&j| j as usize);
                match (&ev.kind, kind) {
                    // `ProcessRequest - Start` always opens a request; `Incoming request URL` joins a
                    // block that so far holds only the start line.
                    (EventKind::StsRequestReceived { url }, _) => {
                        url.is_some()
                            && lines.all(|j| {
                                matches!(events[j].kind, EventKind::StsRequestReceived { url: None })
                            })
                    }
                    // `Registering device using AAD auth` and `Processing Registration request from
                    // Client` of one registration are consecutive lines of one thread: a second device
                    // id or a second GUID means the next registration.
                    (
                        EventKind::MpRegistration { aad_device, client_guid, .. },
                        RequestKind::MpRegistration,
                    ) => !lines.any(|j| match &events[j].kind {
                        EventKind::MpRegistration { aad_device: d2, client_guid: g2, .. } => {
                            (aad_device.is_some() && d2.is_some()) || (client_guid.is_some() && g2.is_some())
                        }
                        _ => false,
                    }),
                    // One request validates one token and issues one: a second such line on the
                    // thread (a log without thread ids, or a missing start line) is the next request.
                    (EventKind::AadTokenValidated { .. }, _) => {
                        !lines.any(|j| matches!(events[j].kind, EventKind::AadTokenValidated { .. }))
                    }
                    (EventKind::CcmTokenIssued { .. }, _) => {
                        !lines.any(|j| matches!(events[j].kind, EventKind::CcmTokenIssued { .. }))
                    }
                    _ => true,
                }
            }
        };
        if joins {
            let o = open.get_mut(&key).expect("joins implies an open block");
            members[o.block].push(i as u32);
            if o.start_ms.is_none() {
                o.start_ms = t;
            }
        } else {
            // Without thread ids, a request starting while the previous one is still open means the
            // file interleaves requests: neither block's lines can be trusted to be one request.
            if ev.thread().is_none() {
                if let Some(o) = open.get(&key) {
                    if !o.closed && within(o) {
                        suspect.push(o.block);
                        suspect.push(heads.len());
                    }
                }
            }
            heads.push((kind, host_of[i] as usize));
            members.push(vec![i as u32]);
            open.insert(key, Open { block: heads.len() - 1, start_ms: t, closed: false });
        }
        if matches!(ev.kind, EventKind::CcmTokenReturned) {
            if let Some(o) = open.get_mut(&key) {
                o.closed = true;
            }
        }
    }
    suspect.sort_unstable();
    suspect.dedup();
    let mut blocks = Blocks::default();
    let (mut strong, mut weak) = (Vec::new(), Vec::new());
    for (bi, (head, lines)) in heads.into_iter().zip(members).enumerate() {
        strong.clear();
        weak.clear();
        if suspect.binary_search(&bi).is_err() {
            for &i in &lines {
                for_each_shared_id(&events[i as usize].kind, |k, v, shared| {
                    if is_strong(k, &v) {
                        push_unique(&mut strong, k, v, shared, ids);
                    } else if is_weak(k, &v) {
                        push_unique(&mut weak, k, v, shared, ids);
                    }
                });
            }
        }
        // Two Azure AD devices or two client GUIDs in one block mean lines of different requests were
        // grouped (a log without thread ids): its identifiers link nothing.
        let count = |k: IdKind| strong.iter().filter(|(x, _)| *x == k).count();
        if count(IdKind::AadDevice) > 1 || count(IdKind::ClientGuid) > 1 {
            strong.clear();
            weak.clear();
        }
        blocks.push(head, &lines, &strong, &weak);
    }
    blocks.shrink_to_fit();
    blocks
}

/// The hash of a node in the graph's index.
fn node_hash(node: &Node) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(node)
}

/// What a node of the union-find stands for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Node {
    /// The client installed on a host: one per incarnation (a re-imaged host is a new device).
    ClientHost(usize, u32),
    Id(IdKind, SharedStr),
}

/// Where a weak id was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Carrier {
    /// A client host's node (of the incarnation that wrote the line).
    Host(usize),
    Block(usize),
}

/// How a server request block came to belong to its device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attribution {
    /// Its own strong identifiers (client GUID, Azure AD device id, computer SID).
    Identifiers,
    /// Only a user id / user SID that exactly one device carries.
    UserId,
    /// A unique client request in the time window.
    RequestChain {
        /// The client's request (in read order while the engine works, in timeline order once
        /// `analyze` has returned).
        client_event: EventIx,
    },
    /// Not attributed to any device.
    None,
}

/// The union-find over identifier nodes plus the evidence gathered while linking.
pub(crate) struct Graph {
    /// 32-bit: hundreds of thousands of nodes on a fleet collection, never 4 billion.
    parent: Vec<u32>,
    size: Vec<u32>,
    /// Valid at roots: the component holds a client host node / an Azure AD device id node.
    has_host: Vec<bool>,
    has_aad_device: Vec<bool>,
    pub nodes: Vec<Node>,
    /// Each node's position in `nodes`, found by the node's hash: four bytes a node where a map from the
    /// node to its position held both again (13 MB of the 4 GB fleet corpus's peak).
    index: hashbrown::HashTable<u32>,
    /// Per host: the node of its client's latest incarnation.
    pub host_node: Vec<Option<usize>>,
    /// Per client host with more than one incarnation: (first UTC ms, node) of each, in time order.
    host_epochs: Vec<Vec<(i64, usize)>>,
    weak_carriers: BTreeMap<(IdKind, SharedStr), Vec<Carrier>>,
    pub(crate) ids: Interner,
    /// Per block: orphan attachment through a request chain (client host node), and the chained client
    /// request for any block.
    pub block_chain: Vec<OptU32>,
    chain_attach: Vec<OptU32>,
    /// Per block: the node of its first strong id (set by `link_block_ids`; looked up many times).
    block_node: Vec<OptU32>,
    /// Set by `done_linking`: the index and the linking tables are gone, no node may be added.
    linked: bool,
}

impl Graph {
    pub fn new(host_count: usize, block_count: usize, ids: Interner) -> Graph {
        Graph {
            parent: Vec::new(),
            size: Vec::new(),
            has_host: Vec::new(),
            has_aad_device: Vec::new(),
            nodes: Vec::new(),
            index: hashbrown::HashTable::new(),
            host_node: vec![None; host_count],
            host_epochs: vec![Vec::new(); host_count],
            weak_carriers: BTreeMap::new(),
            ids,
            block_chain: vec![OptU32::NONE; block_count],
            chain_attach: vec![OptU32::NONE; block_count],
            block_node: vec![OptU32::NONE; block_count],
            linked: false,
        }
    }

    /// Linking is over (every link made and `block_roots` taken): frees the node index and the tables only
    /// linking reads. From here on nodes are only found (`find`, `host_node_at`) and read (`nodes`).
    pub fn done_linking(&mut self) {
        self.linked = true;
        self.index = hashbrown::HashTable::new();
        self.weak_carriers = BTreeMap::new();
        self.block_chain = Vec::new();
        self.chain_attach = Vec::new();
        self.block_node = Vec::new();
    }

    /// The position of `node` in `nodes`, if it is there (while linking; tests look nodes up by value).
    #[cfg(test)]
    pub(crate) fn position(&self, node: &Node) -> Option<usize> {
        self.position_hashed(node_hash(node), node)
    }

    /// `position` of a node whose hash is `hash`.
    fn position_hashed(&self, hash: u64, node: &Node) -> Option<usize> {
        self.index.find(hash, |&i| self.nodes[i as usize] == *node).map(|&i| i as usize)
    }

    fn node(&mut self, node: Node) -> usize {
        debug_assert!(!self.linked, "a node added after linking was over");
        let hash = node_hash(&node);
        if let Some(i) = self.position_hashed(hash, &node) {
            return i;
        }
        let i = self.nodes.len();
        self.has_host.push(matches!(node, Node::ClientHost(..)));
        self.has_aad_device.push(matches!(node, Node::Id(IdKind::AadDevice, _)));
        self.parent.push(i as u32);
        self.size.push(1);
        self.nodes.push(node);
        let nodes = &self.nodes;
        self.index.insert_unique(hash, i as u32, |&j| node_hash(&nodes[j as usize]));
        i
    }

    /// The root of `x`'s component, without shortening the path (for a shared graph; after `find` has
    /// been called on every node, each path is one step).
    pub fn root(&self, mut x: usize) -> usize {
        while self.parent[x] as usize != x {
            x = self.parent[x] as usize;
        }
        x
    }

    /// The root of `x`'s component, shortening the path to it.
    pub fn find(&mut self, mut x: usize) -> usize {
        let root = self.root(x);
        while self.parent[x] as usize != root {
            let next = self.parent[x] as usize;
            self.parent[x] = root as u32;
            x = next;
        }
        root
    }

    fn union(&mut self, a: usize, b: usize) -> usize {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return ra;
        }
        let (big, small) = if self.size[ra] >= self.size[rb] { (ra, rb) } else { (rb, ra) };
        self.parent[small] = big as u32;
        self.size[big] += self.size[small];
        self.has_host[big] |= self.has_host[small];
        self.has_aad_device[big] |= self.has_aad_device[small];
        big
    }

    /// Whether two different components may be joined by a weak link or a time chain: never two client
    /// hosts, never two distinct Azure AD devices (a device has one Azure AD object).
    fn may_join(&mut self, a: usize, b: usize) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        let two_clients = self.has_host[ra] && self.has_host[rb];
        let two_aad_devices = self.has_aad_device[ra] && self.has_aad_device[rb];
        ra == rb || !(two_clients || two_aad_devices)
    }

    /// The node of the client incarnation on host `h` at raw UTC time `t` (the latest one when untimed).
    pub fn host_node_at(&self, h: usize, t: Option<i64>) -> Option<usize> {
        let epochs = &self.host_epochs[h];
        match (epochs.is_empty(), t) {
            (true, _) | (false, None) => self.host_node[h],
            (false, Some(t)) => {
                let k = epochs.partition_point(|&(start, _)| start <= t);
                Some(epochs[k.saturating_sub(1)].1)
            }
        }
    }

    /// Link 1: a node per client host, joined with the strong ids its client logs name. A client log's
    /// GUID (`Server assigned ClientID is GUID:..`, `Sending registration request for GUID:..`) and
    /// device token ids are the identity of the client installed on that host. A host whose client logs
    /// move from one SMS GUID to a new one (never seen before on it) was re-imaged or reinstalled from
    /// scratch: each GUID is its own incarnation, split at the longest silence of the host's client logs
    /// between the last line of the old GUID and the first of the new one.
    /// `raw_ms` are the events' UTC times as read.
    pub fn link_client_ids(&mut self, events: &EventStore, raw_ms: &[TimeMs], roles: &HostRoles) {
        let time = |i: usize| raw_ms[i].get();
        let mut client_times: Vec<Vec<i64>> = vec![Vec::new(); roles.is_client.len()];
        let mut guid_lines: Vec<Vec<(i64, String)>> = vec![Vec::new(); roles.is_client.len()];
        // Per client host: each file's first flow line time, and the file of each GUID's first line.
        let mut file_starts: Vec<HashMap<&str, i64>> = vec![HashMap::default(); roles.is_client.len()];
        let mut guid_files: Vec<HashMap<String, &str>> = vec![HashMap::default(); roles.is_client.len()];
        for (i, ev) in events.iter().enumerate() {
            let h = roles.host_of[i] as usize;
            if !roles.is_client[h] || !belongs_to_client_host(ev, roles, h) {
                continue;
            }
            let Some(t) = time(i) else { continue };
            client_times[h].push(t);
            let path: &str = ev.evidence.path();
            let start = file_starts[h].entry(path).or_insert(t);
            *start = (*start).min(t);
            for_each_id(&ev.kind, |k, v| {
                if k == IdKind::ClientGuid {
                    guid_files[h].entry(v.to_string()).or_insert(path);
                    guid_lines[h].push((t, v.into_owned()));
                }
            });
        }
        for (h, &client) in roles.is_client.iter().enumerate() {
            if !client {
                continue;
            }
            let mut lines = std::mem::take(&mut guid_lines[h]);
            lines.sort();
            let mut starts: Vec<i64> = Vec::new();
            let mut seen: Vec<&str> = Vec::new();
            let mut last_of_current: Option<i64> = None;
            for (t, g) in &lines {
                if seen.is_empty() || seen.last() == Some(&g.as_str()) || seen.contains(&g.as_str()) {
                    if !seen.contains(&g.as_str()) {
                        seen.push(g);
                    }
                    if seen.last() == Some(&g.as_str()) {
                        last_of_current = Some(*t);
                    }
                    continue;
                }
                // A new GUID. The new incarnation starts with the first log file of the collection that
                // holds the new GUID's line, when that file starts in between (a re-imaged disk writes new
                // files); else after the longest silence of the host's client logs in between.
                let from = last_of_current.unwrap_or(*t);
                if let Some(start) = new_collection_start(&file_starts[h], &guid_files[h], g, from, *t) {
                    starts.push(start);
                    seen.push(g);
                    last_of_current = Some(*t);
                    continue;
                }
                let times = &mut client_times[h];
                times.sort_unstable();
                let lo = times.partition_point(|&x| x <= from);
                let hi = times.partition_point(|&x| x <= *t);
                let mut prev = from;
                let mut best = (0i64, *t);
                for &x in &times[lo..hi] {
                    if x - prev > best.0 {
                        best = (x - prev, x);
                    }
                    prev = x;
                }
                starts.push(best.1);
                seen.push(g);
                last_of_current = Some(*t);
            }
            if starts.is_empty() {
                self.host_node[h] = Some(self.node(Node::ClientHost(h, 0)));
                continue;
            }
            let mut epochs = vec![(i64::MIN, self.node(Node::ClientHost(h, 0)))];
            for (k, s) in starts.into_iter().enumerate() {
                epochs.push((s, self.node(Node::ClientHost(h, k as u32 + 1))));
            }
            self.host_node[h] = epochs.last().map(|e| e.1);
            self.host_epochs[h] = epochs;
        }
        for (i, ev) in events.iter().enumerate() {
            let h = roles.host_of[i] as usize;
            let Some(hn) = self.host_node_at(h, time(i)) else { continue };
            if !belongs_to_client_host(ev, roles, h) {
                continue;
            }
            let mut ids = Vec::new();
            for_each_shared_id(&ev.kind, |k, v, shared| ids.push((k, v, shared)));
            for (k, v, shared) in ids {
                if is_strong(k, &v) {
                    let id = self.ids.get_shared(&v, shared);
                    let n = self.node(Node::Id(k, id));
                    self.union(hn, n);
                } else if is_weak(k, &v) {
                    let id = self.ids.get_shared(&v, shared);
                    self.add_carrier(k, id, Carrier::Host(hn));
                }
            }
        }
    }

    fn add_carrier(&mut self, k: IdKind, v: SharedStr, c: Carrier) {
        let list = self.weak_carriers.entry((k, v)).or_default();
        if !list.contains(&c) {
            list.push(c);
        }
    }

    /// Link 2: the strong ids inside one request block join each other (`Validated AAD token ..
    /// DeviceId: D` and `Created SCCM token .. deviceId: GUID:G` of one request; `Registering device
    /// using AAD auth: DeviceId='D'` and `Processing Registration request from Client 'GUID:G'`).
    pub fn link_block_ids(&mut self, blocks: &Blocks) {
        // At most one node per strong id: sized once instead of rehashing strings as it grows.
        let ids: usize = blocks.iter().map(|b| b.strong.len()).sum();
        let nodes = &self.nodes;
        self.index.reserve(ids, |&j| node_hash(&nodes[j as usize]));
        self.nodes.reserve(ids);
        for (bi, b) in blocks.iter().enumerate() {
            let mut first = None;
            for (k, v) in b.strong {
                let n = self.node(Node::Id(*k, v.clone()));
                if first.is_none() {
                    self.block_node[bi] = OptU32::new(Some(n as u32));
                }
                first = Some(match first {
                    None => n,
                    Some(f) => self.union(f, n),
                });
            }
            for (k, v) in b.weak {
                self.add_carrier(*k, v.clone(), Carrier::Block(bi));
            }
        }
    }

    /// The component a block belongs to by its own strong ids.
    fn block_anchor(&mut self, block: usize) -> Option<usize> {
        let n = self.block_node[block].get()?;
        Some(self.find(n as usize))
    }

    fn carrier_root(&mut self, c: Carrier) -> Option<usize> {
        match c {
            Carrier::Host(n) => Some(self.find(n)),
            Carrier::Block(b) => self.block_anchor(b),
        }
    }

    /// Link 3: a weak id (Azure AD user id, user SID) seen on exactly one client host's component and
    /// exactly one server-only component joins the two: the fallback user token of that client is the
    /// one the MP validated. A person with two PCs puts the id on two client components (or on two
    /// server components with different devices), which is ambiguous and links nothing.
    pub fn link_weak_ids(&mut self) {
        let keys: Vec<(IdKind, SharedStr)> = self.weak_carriers.keys().cloned().collect();
        for key in keys {
            let carriers = self.weak_carriers[&key].clone();
            let mut roots: Vec<usize> = carriers.iter().filter_map(|&c| self.carrier_root(c)).collect();
            roots.sort_unstable();
            roots.dedup();
            if roots.len() != 2 {
                continue;
            }
            let clients = roots.iter().filter(|&&r| self.has_host[r]).count();
            if clients == 1 && self.may_join(roots[0], roots[1]) {
                self.union(roots[0], roots[1]);
            }
        }
    }

    /// The single component a weak id points to (`Some(None)` when it points to none, `None` when to
    /// several), memoised per id.
    fn weak_id_root(
        &mut self,
        key: &(IdKind, SharedStr),
        memo: &mut HashMap<(IdKind, SharedStr), Option<Option<usize>>>,
    ) -> Option<Option<usize>> {
        if let Some(r) = memo.get(key) {
            return *r;
        }
        let carriers = self.weak_carriers.get(key).cloned().unwrap_or_default();
        let mut found: Option<Option<usize>> = Some(None);
        for c in carriers {
            if let Some(r) = self.carrier_root(c) {
                match found {
                    Some(None) => found = Some(Some(r)),
                    Some(Some(f)) if f == r => {}
                    _ => {
                        found = None;
                        break;
                    }
                }
            }
        }
        memo.insert(key.clone(), found);
        found
    }

    /// The single component all the weak ids of a block point to, if exactly one.
    fn weak_root(
        &mut self,
        b: Block<'_>,
        memo: &mut HashMap<(IdKind, SharedStr), Option<Option<usize>>>,
    ) -> Option<usize> {
        let mut found: Option<usize> = None;
        for key in b.weak {
            match self.weak_id_root(key, memo)? {
                None => {}
                Some(r) if found.is_none() || found == Some(r) => found = Some(r),
                Some(_) => return None,
            }
        }
        found
    }

    /// Link 4: request chains in time. `corr_ms` are UTC times after the estimated clock offsets.
    /// A client `ccm_token_requested` at t and a CCM_STS block received in [t - slack, t + window] are
    /// tied only when the client request has exactly one block in its window and the block has exactly
    /// one client host requesting in its window (two clients that interleave in the same second leave
    /// both sides with two candidates and are not tied). A tie joins the block's component to the
    /// client's unless that would join two client hosts or two Azure AD devices.
    pub fn link_chains(
        &mut self,
        events: &EventStore,
        roles: &HostRoles,
        blocks: &Blocks,
        corr_ms: CorrectedTimes<'_>,
    ) {
        let requests = client_requests(events, roles, corr_ms);
        let sts = sts_receipts(blocks, corr_ms);
        for &(t, r) in &requests {
            let h = roles.host_of[r] as usize;
            let Some((tb, b)) = unique_in(&sts, t - CHAIN_SLACK_MS, t + CHAIN_WINDOW_MS) else { continue };
            if distinct_hosts_in(&requests, roles, tb - CHAIN_WINDOW_MS, tb + CHAIN_SLACK_MS) != Some(h) {
                continue;
            }
            let Some(hn) = self.host_node_at(h, events[r].time_ms()) else {
                continue;
            };
            match self.block_anchor(b) {
                Some(rb) => {
                    if self.may_join(hn, rb) {
                        self.union(hn, rb);
                        if self.block_chain[b].is_none() {
                            self.block_chain[b] = OptU32::new(Some(r as u32));
                        }
                    }
                }
                None => {
                    self.chain_attach[b] = OptU32::new(Some(hn as u32));
                    if self.block_chain[b].is_none() {
                        self.block_chain[b] = OptU32::new(Some(r as u32));
                    }
                }
            }
        }
    }

    /// The component of each block and how it got there (after every link).
    pub fn block_roots(&mut self, blocks: &Blocks) -> Vec<(Option<usize>, Attribution)> {
        let mut out = Vec::with_capacity(blocks.len());
        let mut memo = HashMap::default();
        for (bi, b) in blocks.iter().enumerate() {
            let chained = self.block_chain[bi].get().map(|client_event| Attribution::RequestChain {
                client_event: EventIx::from(client_event as usize),
            });
            if let Some(r) = self.block_anchor(bi) {
                out.push((Some(r), Attribution::Identifiers));
                continue;
            }
            let by_chain = self.chain_attach[bi].get().map(|n| self.find(n as usize));
            let by_weak = self.weak_root(b, &mut memo);
            out.push(match (by_chain, by_weak) {
                (Some(c), Some(w)) if c != w => (None, Attribution::None),
                (Some(c), _) => (Some(c), chained.unwrap_or(Attribution::None)),
                (None, Some(w)) => (Some(w), Attribution::UserId),
                (None, None) => (None, Attribution::None),
            });
        }
        out
    }
}

/// The start of a re-imaged host's new collection: the earliest first line, in `(from, to]`, of the files
/// that share the host folder of the file where `guid` first appears (`collection-0317/PC042/...`).
fn new_collection_start(
    file_starts: &HashMap<&str, i64>,
    guid_files: &HashMap<String, &str>,
    guid: &str,
    from: i64,
    to: i64,
) -> Option<i64> {
    let file = guid_files.get(guid)?;
    let folder = |p: &str| -> String {
        // Up to the ConfigMgr log layout (`.../HOST/Windows/CCM/Logs/x.log` → `.../HOST`).
        let lower = p.to_ascii_lowercase();
        let cut = ["/windows/", "/ccm/", "/ccmsetup/", "/logs/", "/sms_ccm/"]
            .iter()
            .filter_map(|m| lower.find(m))
            .min()
            .unwrap_or_else(|| p.rfind('/').unwrap_or(0));
        p[..cut].to_string()
    };
    let home = folder(file);
    file_starts.iter().filter(|(p, &t)| t > from && t <= to && folder(p) == home).map(|(_, &t)| t).min()
}

/// Whether an event on client host `h` is written by that host's client: client logs always; other
/// ConfigMgr logs only when the host plays no server role (an MP also runs a client).
pub(crate) fn belongs_to_client_host(ev: &Event, roles: &HostRoles, h: usize) -> bool {
    match ev.log_kind.role() {
        HostRole::Client => true,
        HostRole::Unknown => roles.is_client[h] && !roles.is_server[h],
        _ => false,
    }
}

/// Client CCM token requests with a time, sorted by corrected time.
pub(crate) fn client_requests(
    events: &EventStore,
    roles: &HostRoles,
    corr_ms: CorrectedTimes<'_>,
) -> Vec<(i64, usize)> {
    let mut v: Vec<(i64, usize)> = events
        .iter()
        .enumerate()
        .filter(|(i, e)| {
            matches!(e.kind, EventKind::CcmTokenRequested { .. })
                && e.log_kind.role() == HostRole::Client
                && roles.is_client[roles.host_of[*i] as usize]
        })
        .filter_map(|(i, _)| corr_ms.get(i).map(|t| (t, i)))
        .collect();
    v.sort_unstable();
    v
}

/// CCM_STS blocks with the corrected time of their first timed line, sorted.
pub(crate) fn sts_receipts(blocks: &Blocks, corr_ms: CorrectedTimes<'_>) -> Vec<(i64, usize)> {
    let mut v: Vec<(i64, usize)> = blocks
        .iter()
        .enumerate()
        .filter(|(_, b)| b.kind == RequestKind::CcmSts)
        .filter_map(|(bi, b)| b.event_positions().find_map(|i| corr_ms.get(i)).map(|t| (t, bi)))
        .collect();
    v.sort_unstable();
    v
}

/// The range of a sorted `(time, x)` vector with time in [lo, hi].
pub(crate) fn window<T>(v: &[(i64, T)], lo: i64, hi: i64) -> &[(i64, T)] {
    let a = v.partition_point(|(t, _)| *t < lo);
    let b = v.partition_point(|(t, _)| *t <= hi);
    &v[a..b.max(a)]
}

/// The only entry in [lo, hi] (time, payload), if exactly one.
fn unique_in(v: &[(i64, usize)], lo: i64, hi: i64) -> Option<(i64, usize)> {
    match window(v, lo, hi) {
        [one] => Some(*one),
        _ => None,
    }
}

/// The one host whose client requests fall in [lo, hi], if exactly one.
fn distinct_hosts_in(requests: &[(i64, usize)], roles: &HostRoles, lo: i64, hi: i64) -> Option<usize> {
    let w = window(requests, lo, hi);
    if w.is_empty() || w.len() > WINDOW_SCAN_CAP {
        return None;
    }
    let h = roles.host_of[w[0].1] as usize;
    w.iter().all(|&(_, r)| (roles.host_of[r] as usize) == h).then_some(h)
}

/// Whether a connector line is about the CCM_STS hop.
pub(crate) fn is_connector_sts(ev: &Event) -> bool {
    let has = |s: &str| s.to_ascii_lowercase().contains("ccm_sts");
    match &ev.kind {
        EventKind::ProxyUrlRewritten { from, to } => has(from) || has(to),
        EventKind::ProxyRequest { endpoint, uri, .. } => {
            endpoint.as_deref().is_some_and(has) || uri.as_deref().is_some_and(has)
        }
        _ => false,
    }
}

/// When the connector started forwarding: a `ProxyRequest` line is written after the MP answered, so
/// its elapsed time is taken off.
pub(crate) fn connector_start_ms(ev: &Event, t: i64) -> i64 {
    match &ev.kind {
        EventKind::ProxyRequest { elapsed_ms: Some(ms), .. } => t - (*ms).min(600_000) as i64,
        _ => t,
    }
}

/// Attributes the connector's CCM_STS lines to devices. Lines of one connector host less than a second
/// apart form one forwarded request; a request is tied to a CCM_STS block (and to a client request) only
/// when each side has exactly one candidate in the window; when the block and the client request give
/// different devices, the lines stay unattributed.
pub(crate) fn connector_roots(
    graph: &mut Graph,
    events: &EventStore,
    roles: &HostRoles,
    blocks: &Blocks,
    block_roots: &[(Option<usize>, Attribution)],
    corr_ms: CorrectedTimes<'_>,
) -> Vec<(usize, usize)> {
    // (host, start, event) in 16 bytes: a connector forwards every client's requests.
    let mut lines: Vec<(u32, i64, u32)> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| e.log_kind == LogKind::CloudProxyConnector && is_connector_sts(e))
        .filter_map(|(i, e)| corr_ms.get(i).map(|t| (roles.host_of[i], connector_start_ms(e, t), i as u32)))
        .collect();
    lines.sort_unstable();
    // (start, first line, end of lines) per forwarded request: its lines are a run of `lines`.
    let mut groups: Vec<(i64, u32, u32)> = Vec::new();
    let mut last: Option<(u32, i64)> = None;
    for (k, &(h, t, _)) in lines.iter().enumerate() {
        match last {
            Some((lh, lt)) if lh == h && t - lt <= 1_000 => groups.last_mut().expect("open group").2 += 1,
            _ => groups.push((t, k as u32, k as u32 + 1)),
        }
        last = Some((h, t));
    }
    let mut by_time: Vec<(i64, usize)> = groups.iter().enumerate().map(|(g, (t, ..))| (*t, g)).collect();
    by_time.sort_unstable();
    let sts = sts_receipts(blocks, corr_ms);
    let requests = client_requests(events, roles, corr_ms);
    let mut out = Vec::new();
    for &(t, g) in &by_time {
        let via_block = unique_in(&sts, t - CHAIN_SLACK_MS, t + CONNECTOR_WINDOW_MS).and_then(|(tb, b)| {
            (unique_in(&by_time, tb - CONNECTOR_WINDOW_MS, tb + CHAIN_SLACK_MS).map(|x| x.1) == Some(g))
                .then_some(block_roots[b].0)
                .flatten()
        });
        let via_client = distinct_hosts_in(&requests, roles, t - CHAIN_WINDOW_MS, t + CHAIN_SLACK_MS)
            .and_then(|h| {
                let w = window(&requests, t - CHAIN_WINDOW_MS, t + CHAIN_SLACK_MS);
                let (tr, r) = *w.first()?;
                let raw = events[r].time_ms();
                (unique_in(&by_time, tr - CHAIN_SLACK_MS, tr + CHAIN_WINDOW_MS).map(|x| x.1) == Some(g))
                    .then_some(graph.host_node_at(h, raw))
                    .flatten()
                    .map(|n| graph.find(n))
            });
        let root = match (via_block, via_client) {
            (Some(a), Some(b)) if a != b => None,
            (Some(a), _) | (None, Some(a)) => Some(a),
            (None, None) => None,
        };
        if let Some(r) = root {
            let (_, first, end) = groups[g];
            out.extend(lines[first as usize..end as usize].iter().map(|&(.., i)| (i as usize, r)));
        }
    }
    out
}

#[cfg(test)]
#[path = "correlate_tests.rs"]
mod mutation_tests;
