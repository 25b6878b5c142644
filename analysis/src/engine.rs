//! The flow engine: from every file's `Input` and every extracted `Event` to an `Analysis` — events in
//! corrected time order, each attributed to a device or not, the devices with their identifiers,
//! hosts and phases, per-host facts (roles, logs collected, clock offsets) and the server request
//! blocks. Rules reason on the `Analysis`; front ends turn it into the contract's `Report`.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use rayon::prelude::*;
use rustc_hash::FxHashMap as HashMap;

use cmtrace_parsers::{Event, EventKind, EventStore, HostRole, LogKind, SharedStr};

use crate::correlate::{self, Attribution, Blocks, Graph, HostRoles, Interner, Node};
use crate::ids::{for_each_id, is_account_sid, IdKind};
use crate::index::{DeviceIx, EventIx, HostIx, OptU32, TiSlice, TiVec, TimeMs};
use crate::model::{DeviceLists, Input, Phase, PhaseId, PhaseStatus, Phases};
use crate::ordered::Events;
use crate::path::PathFacts;
use crate::phases::{self, PhaseContext};
use crate::skew::{self, HostOffset, SkewInput};

use crate::facts::widen_span;
pub use crate::facts::{Analysis, DeviceFacts, HostFacts, ServerRequest, ServerRequests};

/// Runs correlation, clock-skew estimation, ordering and phases: one function per stage below, each
/// taking what the stages before it left and dropping per-event vectors after their last use (together
/// they are a good part of the peak).
pub fn analyze(inputs: Vec<Input>, events: impl Into<EventStore>) -> Analysis {
    let events: EventStore = events.into();
    // Timing laps are debug records (the binary prints them under CMTRACE_TIMING); skipped when no one listens.
    let timing = log::log_enabled!(log::Level::Debug);
    let t0 = std::time::Instant::now();
    let lap = |what: &str| {
        if timing {
            print_lap(&format!("engine {what}"), t0);
        }
    };
    let hosts = HostTable::new(&inputs, &events);
    let raw_ms: Vec<TimeMs> = events.iter().map(|e| TimeMs::new(e.time_ms())).collect();
    let files = FileOrder::new(&events);
    lap("hosts and file order");

    let mut links = link_by_ids(&events, &hosts, &files, &raw_ms);
    lap("blocks and identifier links");

    let (host_offsets, correlation_offset) = estimate_skew(&mut links, &events, &hosts, &raw_ms);
    lap("skew");

    let roots = link_by_time(&mut links, &events, &hosts, &raw_ms, &correlation_offset);
    drop(correlation_offset);
    lap("time chains");

    let timeline = timeline_order(&events, &hosts, files, raw_ms, &host_offsets);
    lap("timeline order");

    let devices = build_devices(&mut links.graph, &roots, &timeline.perm, &events, &hosts);
    lap("devices built");

    let host_facts = host_facts(&inputs, &hosts, &mut links.graph, &devices.of_root, &timeline.applied);
    // The graph's last reader was host_facts: freed before the timeline's vectors are gathered.
    let Links { blocks, block_roots, graph, .. } = links;
    drop(graph);
    let requests = RequestBlocks { blocks, roots: block_roots };
    let renumbered = renumber(events, &hosts, requests, roots, timeline, &devices.of_root, host_offsets);
    // Per event as read (hosts) and per graph node (devices' roots): phases need neither.
    drop(hosts);
    let Devices { built, client_hosts, .. } = devices;
    lap("events renumbered");

    let devices = with_phases(built, &client_hosts, &renumbered, &host_facts);
    lap("phases");

    Analysis {
        inputs,
        events: renumbered.events,
        event_host: renumbered.event_host,
        event_device: renumbered.event_device,
        devices,
        hosts: host_facts,
        host_offsets: renumbered.host_offsets,
        requests: renumbered.requests,
    }
}

/// The hosts of the collection (every host named by an input or an event, sorted by name) and what was
/// read from each.
struct HostTable {
    /// Shared with the events that name them.
    names: Vec<SharedStr>,
    /// Per event, as read: its host.
    host_of: Vec<u32>,
    /// Per host: log kinds read (a readable input or at least one event), and those only unreadable.
    collected: Vec<BTreeSet<LogKind>>,
    unreadable: Vec<BTreeSet<LogKind>>,
    roles: Vec<BTreeSet<HostRole>>,
    is_client: Vec<bool>,
    is_server: Vec<bool>,
    /// Reference clocks: the management points; without one, the CMG hosts (Azure VMs logging `+00`).
    is_reference: Vec<bool>,
}

impl HostTable {
    fn new(inputs: &[Input], events: &EventStore) -> HostTable {
        // Consecutive events of a file share one `Arc` for host and path: look each run up once.
        let host_runs = shared_runs(events, |e| e.evidence.host());
        // The events' own strings where they name the host; a host with inputs and no event gets its own.
        let mut by_name: std::collections::BTreeMap<&str, Option<&SharedStr>> =
            std::collections::BTreeMap::new();
        for &(first, _) in &host_runs {
            let host = events[first].evidence.host();
            by_name.insert(host.as_str(), Some(host));
        }
        for input in inputs {
            by_name.entry(input.host.as_str()).or_insert(None);
        }
        let names: Vec<SharedStr> = by_name
            .iter()
            .map(|(name, shared)| shared.cloned().unwrap_or_else(|| SharedStr::from(*name)))
            .collect();
        drop(by_name);
        let index: HashMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (n.as_str(), i)).collect();
        let host_of: Vec<u32> = expand_runs(&host_runs, events.len(), |first| {
            index[events[first].evidence.host().as_str()] as u32
        });
        let mut collected: Vec<BTreeSet<LogKind>> = vec![BTreeSet::new(); names.len()];
        let mut unreadable: Vec<BTreeSet<LogKind>> = vec![BTreeSet::new(); names.len()];
        for input in inputs {
            let h = index[input.host.as_str()];
            if input.error.is_none() {
                collected[h].insert(input.log_kind);
            } else {
                unreadable[h].insert(input.log_kind);
            }
        }
        drop(index);
        for (i, e) in events.iter().enumerate() {
            collected[host_of[i] as usize].insert(e.log_kind);
        }
        for (unreadable, collected) in unreadable.iter_mut().zip(&collected) {
            unreadable.retain(|k| !collected.contains(k));
        }
        let roles: Vec<BTreeSet<HostRole>> = collected
            .iter()
            .zip(&unreadable)
            .map(|(c, u)| c.iter().chain(u).map(|k| k.role()).filter(|r| *r != HostRole::Unknown).collect())
            .collect();
        let is_client: Vec<bool> = roles.iter().map(|r| r.contains(&HostRole::Client)).collect();
        let is_server: Vec<bool> = roles
            .iter()
            .map(|r| {
                r.contains(&HostRole::ManagementPoint)
                    || r.contains(&HostRole::ConnectionPoint)
                    || r.contains(&HostRole::Cmg)
            })
            .collect();
        let any_mp = roles.iter().any(|r| r.contains(&HostRole::ManagementPoint));
        let is_reference: Vec<bool> = roles
            .iter()
            .map(|r| {
                r.contains(&HostRole::ManagementPoint)
                    || (!any_mp
                        && r.contains(&HostRole::Cmg)
                        && !r.contains(&HostRole::Client)
                        && !r.contains(&HostRole::ConnectionPoint))
            })
            .collect();
        HostTable { names, host_of, collected, unreadable, roles, is_client, is_server, is_reference }
    }

    /// The index of a host named by an input or an event.
    fn index(&self, name: &str) -> usize {
        self.names
            .binary_search_by(|n| n.as_str().cmp(name))
            .expect("every input and event host is in the table")
    }

    fn roles(&self) -> HostRoles<'_> {
        HostRoles { host_of: &self.host_of, is_client: &self.is_client, is_server: &self.is_server }
    }
}

/// The events in file and line order, as runs of consecutive positions of one file each (a read gives each
/// file's events one after the other in line order: one run per file, not a position per event), each run
/// with its path's rank among the sorted paths (so that sorts compare integers instead of long shared path
/// prefixes).
struct FileOrder {
    runs: Vec<FileRun>,
}

/// Events `first..first + len` (positions as read), of the file whose path has rank `rank`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileRun {
    first: u32,
    len: u32,
    rank: u32,
}

impl FileRun {
    /// Its event positions, in line order.
    fn positions(&self) -> std::ops::Range<usize> {
        self.first as usize..(self.first + self.len) as usize
    }
}

impl FileOrder {
    fn new(events: &EventStore) -> FileOrder {
        let mut ids: HashMap<&str, u32> = HashMap::default();
        let mut uniq: Vec<&str> = Vec::new();
        let path_runs = shared_runs(events, |e| e.evidence.path());
        let first: Vec<u32> = expand_runs(&path_runs, events.len(), |first| {
            let p = events[first].evidence.path().as_ref();
            *ids.entry(p).or_insert_with(|| {
                uniq.push(p);
                (uniq.len() - 1) as u32
            })
        });
        let mut sorted: Vec<u32> = (0..uniq.len() as u32).collect();
        sorted.sort_unstable_by_key(|&u| uniq[u as usize]);
        let mut rank = vec![0u32; uniq.len()];
        for (r, &u) in sorted.iter().enumerate() {
            rank[u as usize] = r as u32;
        }
        let path_rank: Vec<u32> = first.into_iter().map(|u| rank[u as usize]).collect();
        let mut order: Vec<u32> = (0..events.len() as u32).collect();
        order.par_sort_unstable_by_key(|&a| {
            let i = a as usize;
            (path_rank[i], events[i].evidence.line, a)
        });
        FileOrder::of_sorted(&order, &path_rank)
    }

    /// The runs of `order` (positions sorted by path rank, line), given each position's path rank.
    fn of_sorted(order: &[u32], path_rank: &[u32]) -> FileOrder {
        let mut runs: Vec<FileRun> = Vec::new();
        for &i in order {
            let rank = path_rank[i as usize];
            match runs.last_mut() {
                Some(r) if r.rank == rank && r.first + r.len == i => r.len += 1,
                _ => runs.push(FileRun { first: i, len: 1, rank }),
            }
        }
        runs.shrink_to_fit();
        FileOrder { runs }
    }

    /// Every event position in file and line order, with its path's rank.
    fn positions(&self) -> impl Iterator<Item = (usize, u32)> + '_ {
        self.runs.iter().flat_map(|r| r.positions().map(move |i| (i, r.rank)))
    }

    /// Each event's place in file and line order (ties broken by position as read).
    fn places(&self, n: usize) -> Vec<u32> {
        let mut place = vec![0u32; n];
        for (k, (i, _)) in self.positions().enumerate() {
            place[i] = k as u32;
        }
        place
    }
}

/// Correlation so far: the server request blocks, each event's block, and the graph of identifiers
/// and client hosts whose components become devices.
struct Links {
    blocks: Blocks,
    /// Per event, as read: its request block (dropped once time chains are linked).
    block_of: Vec<OptU32>,
    graph: Graph,
    /// Per block: its component and how it was attributed, after time chains.
    block_roots: Vec<(Option<usize>, Attribution)>,
}

/// Correlation by identifiers: request blocks, client ids, block ids, weak ids.
fn link_by_ids(events: &EventStore, hosts: &HostTable, files: &FileOrder, raw_ms: &[TimeMs]) -> Links {
    let mut ids = correlate::Interner::default();
    let blocks = correlate::build_blocks(events, raw_ms, &hosts.host_of, files.positions(), &mut ids);
    let mut block_of: Vec<OptU32> = vec![OptU32::NONE; events.len()];
    for (bi, b) in blocks.iter().enumerate() {
        for i in b.event_positions() {
            block_of[i] = OptU32::new(Some(bi as u32));
        }
    }
    let mut graph = Graph::new(hosts.names.len(), blocks.len(), ids);
    graph.link_client_ids(events, raw_ms, &hosts.roles());
    graph.link_block_ids(&blocks);
    graph.link_weak_ids();
    Links { blocks, block_of, graph, block_roots: Vec::new() }
}

/// Clock skew from causal pairs of identifier-linked events: the host offsets (pair indices as read) and
/// the per-host offset correlation uses.
fn estimate_skew(
    links: &mut Links,
    events: &EventStore,
    hosts: &HostTable,
    raw_ms: &[TimeMs],
) -> (Vec<HostOffset>, Vec<i64>) {
    let roles = hosts.roles();
    let pre_blocks = links.graph.block_roots(&links.blocks);
    let pre_roots = event_roots(&mut links.graph, events, raw_ms, &roles, &links.block_of, &pre_blocks, &[]);
    let pre_block_roots: Vec<Option<usize>> = pre_blocks.iter().map(|b| b.0).collect();
    skew::estimate(&SkewInput {
        events,
        raw_ms,
        roles: &roles,
        host_names: &hosts.names,
        is_reference: &hosts.is_reference,
        blocks: &links.blocks,
        block_root: &pre_block_roots,
        event_root: &pre_roots,
    })
}

/// Correlation by request chains in time, with every consistent clock estimate applied (a 90 s offset
/// still shifts a request out of a 5 s window; the timeline and phases only apply estimates beyond the
/// 2-minute threshold). Returns each event's component, as read.
fn link_by_time(
    links: &mut Links,
    events: &EventStore,
    hosts: &HostTable,
    raw_ms: &[TimeMs],
    correlation_offset: &[i64],
) -> Vec<OptU32> {
    let roles = hosts.roles();
    let corr_ms =
        correlate::CorrectedTimes { raw_ms, host_of: &hosts.host_of, offset_ms: correlation_offset };
    links.graph.link_chains(events, &roles, &links.blocks, corr_ms);
    links.block_roots = links.graph.block_roots(&links.blocks);
    let connector = correlate::connector_roots(
        &mut links.graph,
        events,
        &roles,
        &links.blocks,
        &links.block_roots,
        corr_ms,
    );
    let roots = event_roots(
        &mut links.graph,
        events,
        raw_ms,
        &roles,
        &links.block_of,
        &links.block_roots,
        &connector,
    );
    links.block_of = Vec::new();
    // Every link is made: the blocks' identifiers have no reader left (renumbering reads their lines).
    links.blocks.forget_ids();
    links.graph.done_linking();
    roots
}

/// The timeline: applied clock corrections and the order of the events.
struct Timeline {
    /// Per host: the offset subtracted from its times (0 when no estimate was applied).
    applied: Vec<i64>,
    /// Timeline position to event as read.
    perm: Vec<u32>,
}

/// Sorts the events by corrected time (untimed ones take the time of the line before them in their
/// file), then host, path, line.
fn timeline_order(
    events: &EventStore,
    hosts: &HostTable,
    files: FileOrder,
    raw_ms: Vec<TimeMs>,
    host_offsets: &[HostOffset],
) -> Timeline {
    let mut applied = vec![0i64; hosts.names.len()];
    for o in host_offsets {
        if o.applied {
            applied[hosts.index(&o.host)] = o.offset_ms;
        }
    }
    // The corrected times, in place of the raw ones: only the order keeps them (`Analysis::time_ms` works
    // each one out again from its event and host).
    let mut order_ms = raw_ms;
    for (t, &h) in order_ms.iter_mut().zip(&hosts.host_of) {
        *t = TimeMs::new(t.get().map(|t| t - applied[h as usize]));
    }
    fill_untimed(&mut order_ms, &files);
    // An event's place in file order stands for (path, line, position as read): path ranks follow the
    // sorted paths, the same order as comparing the strings.
    let place = files.places(events.len());
    drop(files);
    // 32-bit positions: the permutation becomes the timeline's order (`Events`) without a copy.
    let mut perm: Vec<u32> = (0..events.len() as u32).collect();
    // Host indices follow the sorted host names.
    let host_of = &hosts.host_of;
    perm.par_sort_unstable_by_key(|&p| {
        let i = p as usize;
        (order_ms[i].is_none(), order_ms[i], host_of[i], place[i])
    });
    Timeline { applied, perm }
}

/// Per device: its client host indices.
type ClientHosts = Vec<Box<[HostIx]>>;

/// The devices, sorted by key (phases not yet worked out), with their client host indices.
struct Devices {
    built: Vec<DeviceFacts>,
    /// Per device: its client host indices.
    client_hosts: ClientHosts,
    /// Device number of each component root (indexed by graph node).
    of_root: Vec<u32>,
}

/// One device per component of the graph, its events in timeline order, built in parallel.
fn build_devices(
    graph: &mut Graph,
    roots: &[OptU32],
    perm: &[u32],
    events: &EventStore,
    hosts: &HostTable,
) -> Devices {
    // The roots, in node order: the nodes that are their own component's root (a vector of every node's root,
    // sorted and deduplicated, held 8 bytes a node for that).
    let component_roots: Vec<u32> =
        (0..graph.nodes.len()).filter(|&n| graph.find(n) == n).map(|n| n as u32).collect();
    // Component number of every root, then each component's nodes and events (timeline order) as
    // one flat grouping each: hundreds of thousands of devices on a fleet collection.
    let mut component_of_root = vec![u32::MAX; graph.nodes.len()];
    for (c, &r) in component_roots.iter().enumerate() {
        component_of_root[r as usize] = c as u32;
    }
    // (component, item) pairs in 32 bits: one per graph node and one per attributed event.
    let members = Grouped::new(component_roots.len(), || {
        (0..graph.nodes.len()).map(|n| (component_of_root[graph.root(n)], n as u32))
    });
    let device_events = Grouped::new(component_roots.len(), || {
        perm.iter().enumerate().filter_map(|(new, &old)| {
            roots[old as usize].get().map(|r| (component_of_root[r as usize], new as u32))
        })
    });
    drop(component_of_root);
    let (nodes, ids) = (&graph.nodes, &graph.ids);
    // Three parallel vectors rather than one of tuples: each is built once and sorted in place, and the
    // devices are never copied into a second vector (at 300,000 devices that copy was 100 MB).
    let (mut roots_of, (mut built, mut client_hosts)): (Vec<u32>, (Vec<DeviceFacts>, ClientHosts)) =
        component_roots
            .par_iter()
            .enumerate()
            .map(|(c, &r)| {
                (r, device_facts(nodes, ids, members.group(c), device_events.group(c), perm, events, hosts))
            })
            .unzip();
    drop((members, device_events, component_roots));
    // Sorted through an index (devices are large to move), ties in component order as before.
    let mut by_key: Vec<u32> = (0..built.len() as u32).collect();
    by_key.par_sort_unstable_by(|&a, &b| built[a as usize].key.cmp(&built[b as usize].key).then(a.cmp(&b)));
    permute_in_place(&mut built, &by_key);
    permute_in_place(&mut client_hosts, &by_key);
    permute_in_place(&mut roots_of, &by_key);
    drop(by_key);
    // Keys are unique by construction except in odd collections (a host named like a GUID): suffix them.
    for i in 1..built.len() {
        if built[i].key == built[i - 1].key {
            let base = built[i].key.clone();
            let mut n = 2;
            while built.iter().any(|b| b.key == format!("{base}#{n}")) {
                n += 1;
            }
            built[i].key = format!("{base}#{n}").into();
        }
    }
    let mut of_root = vec![u32::MAX; graph.nodes.len()];
    for (d, &r) in roots_of.iter().enumerate() {
        of_root[r as usize] = d as u32;
    }
    Devices { built, client_hosts, of_root }
}

/// One `HostFacts` per host: roles, logs, client device, clock correction, log spans.
fn host_facts(
    inputs: &[Input],
    hosts: &HostTable,
    graph: &mut Graph,
    device_of_root: &[u32],
    applied: &[i64],
) -> TiVec<HostIx, HostFacts> {
    // Each host's inputs, grouped once (thousands of hosts on a fleet collection).
    let mut inputs_of: Vec<Vec<&Input>> = vec![Vec::new(); hosts.names.len()];
    for input in inputs {
        inputs_of[hosts.index(&input.host)].push(input);
    }
    (0..hosts.names.len())
        .map(|h| HostFacts {
            name: hosts.names[h].to_string(),
            roles: hosts.roles[h].iter().copied().collect(),
            collected: hosts.collected[h].iter().copied().collect(),
            unreadable: hosts.unreadable[h].iter().copied().collect(),
            client_device: graph.host_node[h].map(|n| DeviceIx::from(device_of_root[graph.find(n)] as usize)),
            skew_correction_ms: -applied[h],
            log_spans: log_spans(&inputs_of[h], -applied[h]),
        })
        .collect()
}

/// The server request blocks and the component each belongs to (and how).
struct RequestBlocks {
    blocks: Blocks,
    roots: Vec<(Option<usize>, Attribution)>,
}

/// Everything indexed by event, in timeline order.
struct Renumbered {
    events: Events,
    event_host: TiVec<EventIx, HostIx>,
    event_device: TiVec<EventIx, Option<DeviceIx>>,
    requests: ServerRequests,
    host_offsets: Vec<HostOffset>,
}

/// Puts everything in timeline order. The events stay where they were read (`Events` reads them
/// through the order); the per-event facts are gathered on one core while the request blocks and pair
/// indices are renumbered on the other.
fn renumber(
    events: EventStore,
    hosts: &HostTable,
    requests: RequestBlocks,
    roots: Vec<OptU32>,
    timeline: Timeline,
    device_of_root: &[u32],
    host_offsets: Vec<HostOffset>,
) -> Renumbered {
    let Timeline { perm, .. } = timeline;
    // Read position -> timeline position.
    let mut new_pos = vec![EventIx::from(0); events.len()];
    for (new, &old) in perm.iter().enumerate() {
        new_pos[old as usize] = EventIx::from(new);
    }
    let host_of = &hosts.host_of;
    let ((event_host, event_device), (requests, host_offsets)) = rayon::join(
        || {
            // The components as read are freed as soon as their timeline copy is made.
            let event_device: TiVec<EventIx, Option<DeviceIx>> = perm
                .iter()
                .map(|&old| {
                    roots[old as usize].get().map(|r| DeviceIx::from(device_of_root[r as usize] as usize))
                })
                .collect();
            drop(roots);
            let event_host: TiVec<EventIx, HostIx> =
                perm.iter().map(|&old| HostIx::from(host_of[old as usize] as usize)).collect();
            (event_host, event_device)
        },
        || {
            let (heads, ends, lines) = requests.blocks.into_lines();
            let heads = heads
                .into_iter()
                .zip(requests.roots)
                .map(|((kind, host), (root, how))| {
                    let attribution = match how {
                        Attribution::RequestChain { client_event } => {
                            Attribution::RequestChain { client_event: new_pos[client_event.index()] }
                        }
                        other => other,
                    };
                    (
                        kind,
                        HostIx::from(host as usize),
                        root.map(|r| DeviceIx::from(device_of_root[r] as usize)),
                        attribution,
                    )
                })
                .collect();
            let lines = lines.into_iter().map(|i| new_pos[i as usize]).collect();
            let requests = ServerRequests::new(heads, ends, lines);
            let host_offsets: Vec<HostOffset> = host_offsets
                .into_iter()
                .map(|mut o| {
                    for p in &mut o.pairs {
                        p.host_event = new_pos[p.host_event.index()];
                        p.other_event = p.other_event.map(|e| new_pos[e.index()]);
                    }
                    o
                })
                .collect();
            (requests, host_offsets)
        },
    );
    let sorted_events = Events::new(events, perm);
    Renumbered { events: sorted_events, event_host, event_device, requests, host_offsets }
}

/// Each device's path and phases, worked out in parallel.
fn with_phases(
    mut devices: Vec<DeviceFacts>,
    client_hosts: &[Box<[HostIx]>],
    timeline: &Renumbered,
    hosts: &TiSlice<HostIx, HostFacts>,
) -> TiVec<DeviceIx, DeviceFacts> {
    let ctx = PhaseContext::new(&timeline.events, &timeline.event_host, hosts);
    let shared = SharedPhases::default();
    devices.par_iter_mut().zip(client_hosts).for_each(|(facts, client_hosts)| {
        facts.path = PathFacts::of(&timeline.events, &facts.events);
        facts.phases = shared.share(phases::device_phases(&ctx, facts, client_hosts));
    });
    devices.into()
}

/// The phase lists met so far, each once, without the phases that have times or evidence (a device's own):
/// the devices seen only on the servers of a fleet collection share a few of them, with at most one phase of
/// their own (the management point's registration of the device).
#[derive(Default)]
struct SharedPhases(Mutex<HashMap<PlainPhases, Arc<[Phase]>>>);

/// Each phase's id, and its status and reason where it has neither times nor evidence: what devices sharing
/// a list have in common.
type PlainPhases = Box<[(PhaseId, Option<(PhaseStatus, SharedStr)>)]>;

impl SharedPhases {
    /// `phases` as a shared list (the one met before with the same phases without times or evidence) and the
    /// phases with times or evidence.
    fn share(&self, phases: Vec<Phase>) -> Phases {
        let own = |p: &Phase| p.start.is_some() || p.end.is_some() || !p.evidence.is_empty();
        let key: PlainPhases =
            phases.iter().map(|p| (p.id, (!own(p)).then(|| (p.status, p.reason.clone())))).collect();
        let shared = {
            let mut met = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            // Built only for a list not met before: every phase without times or evidence (a device's own
            // phase stands for its place-holder).
            met.entry(key)
                .or_insert_with(|| {
                    phases
                        .iter()
                        .map(|p| Phase {
                            id: p.id,
                            status: p.status,
                            start: None,
                            end: None,
                            reason: p.reason.clone(),
                            evidence: Box::default(),
                        })
                        .collect()
                })
                .clone()
        };
        Phases::with_own(shared, phases.into_iter().filter(own).collect())
    }
}

/// Per log kind of a host's readable inputs: the first and last entry times (UTC ms plus `correction`).
fn log_spans(inputs: &[&Input], correction: i64) -> Vec<(LogKind, Option<i64>, Option<i64>)> {
    let mut spans: Vec<(LogKind, Option<i64>, Option<i64>)> = Vec::new();
    for i in inputs.iter().filter(|i| i.error.is_none()) {
        let first = i.first_time.map(|t| t.timestamp_millis() + correction);
        let last = i.last_time.map(|t| t.timestamp_millis() + correction);
        match spans.iter_mut().find(|s| s.0 == i.log_kind) {
            Some(s) => widen_span((&mut s.1, &mut s.2), first, last),
            None => spans.push((i.log_kind, first, last)),
        }
    }
    spans
}

/// The component of every event (positions as given): client lines by their host, server request
/// lines by their block, connector lines by the chains in `connector`.
fn event_roots(
    graph: &mut Graph,
    events: &EventStore,
    raw_ms: &[TimeMs],
    roles: &HostRoles,
    block_of: &[OptU32],
    block_roots: &[(Option<usize>, Attribution)],
    connector: &[(usize, usize)],
) -> Vec<OptU32> {
    let mut out: Vec<OptU32> = vec![OptU32::NONE; events.len()];
    for (i, e) in events.iter().enumerate() {
        let h = roles.host_of[i] as usize;
        if let Some(b) = block_of[i].get() {
            out[i] = OptU32::new(block_roots[b as usize].0.map(|r| r as u32));
        } else if let Some(n) = graph.host_node_at(h, raw_ms[i].get()) {
            if correlate::belongs_to_client_host(e, roles, h) {
                out[i] = OptU32::new(Some(graph.find(n) as u32));
            }
        }
    }
    for &(i, r) in connector {
        out[i] = OptU32::new(Some(graph.find(r) as u32));
    }
    out
}

/// Runs of consecutive events sharing one string (same allocation) for a field: (first event, length).
fn shared_runs(events: &EventStore, field: impl Fn(&Event) -> &SharedStr) -> Vec<(usize, usize)> {
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for (i, e) in events.iter().enumerate() {
        match runs.last_mut() {
            Some((first, len)) if SharedStr::ptr_eq(field(&events[*first]), field(e)) => *len += 1,
            _ => runs.push((i, 1)),
        }
    }
    runs
}

/// One value per event from one value per run.
fn expand_runs<T: Copy>(runs: &[(usize, usize)], n: usize, mut value: impl FnMut(usize) -> T) -> Vec<T> {
    let mut out = Vec::with_capacity(n);
    for &(first, len) in runs {
        let v = value(first);
        out.extend(std::iter::repeat_n(v, len));
    }
    out
}

/// Items grouped by a dense group number, each group's items in the order given, in one flat vector
/// (32-bit items: one per event of the collection).
struct Grouped {
    starts: Vec<u32>,
    items: Vec<u32>,
}

impl Grouped {
    /// The (group, item) pairs `pairs` gives (each call the same ones, in the same order; groups below
    /// `groups`): counted on a first pass and placed on a second, never held as a list (one pair per event).
    fn new<I: Iterator<Item = (u32, u32)>>(groups: usize, pairs: impl Fn() -> I) -> Grouped {
        let mut starts = vec![0u32; groups + 1];
        for (g, _) in pairs() {
            starts[g as usize + 1] += 1;
        }
        for g in 0..groups {
            starts[g + 1] += starts[g];
        }
        let mut next = starts.clone();
        let mut items = vec![0u32; starts[groups] as usize];
        for (g, item) in pairs() {
            items[next[g as usize] as usize] = item;
            next[g as usize] += 1;
        }
        Grouped { starts, items }
    }

    fn group(&self, g: usize) -> &[u32] {
        &self.items[self.starts[g] as usize..self.starts[g + 1] as usize]
    }
}

/// One `CMTRACE_TIMING` line on stderr: a stage's end, seconds since `t0`, process CPU time and memory.
pub fn print_lap(what: &str, t0: std::time::Instant) {
    // A debug record: the binary's logger prints it when CMTRACE_TIMING is set.
    log::debug!(
        "cmtrace-rs: timing: {what} at {:.3} s (process CPU {:.2} s, RSS {} MB: anon {} MB, peak {} MB)",
        t0.elapsed().as_secs_f64(),
        process_cpu_seconds(),
        process_status_mb("VmRSS:"),
        process_status_mb("RssAnon:"),
        process_status_mb("VmHWM:")
    );
}

/// User + system CPU time of the whole process so far (Linux `/proc/self/stat`; 0 elsewhere), for the
/// `CMTRACE_TIMING` laps: unlike wall time it does not move when another program shares the cores.
fn process_cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return 0.0 };
    // Fields after the parenthesised command name: state is field 3; utime and stime are 14 and 15.
    let Some(rest) = stat.rfind(')').map(|p| &stat[p + 1..]) else { return 0.0 };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    // Clock ticks are 1/100 s on every Linux configuration Rust supports.
    (ticks(11) + ticks(12)) / 100.0
}

/// A memory figure of the process in MB (a `/proc/self/status` field such as `VmRSS:`, `RssAnon:` or the peak
/// `VmHWM:`; 0 elsewhere than Linux), for the timing laps.
fn process_status_mb(field: &str) -> u64 {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else { return 0 };
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024)
}

/// Reorders `items` so that position `new` holds what was at `perm[new]`, by following the cycles of
/// the permutation with swaps.
fn permute_in_place<T>(items: &mut [T], perm: &[u32]) {
    debug_assert_eq!(items.len(), perm.len());
    let mut done = vec![false; perm.len()];
    for start in 0..perm.len() {
        if done[start] {
            continue;
        }
        // Each swap puts the right item at `cur`; the item first at `start` travels along the cycle
        // and lands on the last position, the one whose source is `start`.
        let mut cur = start;
        loop {
            done[cur] = true;
            let src = perm[cur] as usize;
            if src == start {
                break;
            }
            items.swap(cur, src);
            cur = src;
        }
    }
}

/// Events without a readable time take the order time of the closest earlier timed line of their file
/// (or the first later one).
fn fill_untimed(order: &mut [TimeMs], files: &FileOrder) {
    // A file's runs are next to each other (runs are in path rank order).
    for file in files.runs.chunk_by(|a, b| a.rank == b.rank) {
        let positions = || file.iter().flat_map(FileRun::positions);
        let mut last = TimeMs::new(positions().find_map(|i| order[i].get()));
        for i in positions() {
            if order[i].is_none() {
                order[i] = last;
            } else {
                last = order[i];
            }
        }
    }
}

/// Identifiers, hosts and key of one component. Returns the facts (phases empty) and the client host
/// indices. Identifiers are the graph's shared strings where it has them (`ids`), host names the table's.
fn device_facts(
    nodes: &[Node],
    ids: &Interner,
    member_nodes: &[u32],
    evs: &[u32],
    perm: &[u32],
    events: &EventStore,
    hosts: &HostTable,
) -> (DeviceFacts, Box<[HostIx]>) {
    let (host_of, host_names) = (&hosts.host_of, &hosts.names);
    // Borrowed from the events and graph nodes while gathering; shared strings for what the device keeps.
    let mut client_ids: BTreeSet<Cow<str>> = BTreeSet::new();
    let mut aad_devices: BTreeSet<Cow<str>> = BTreeSet::new();
    let mut tenants: BTreeSet<Cow<str>> = BTreeSet::new();
    let mut client_tenants: BTreeSet<Cow<str>> = BTreeSet::new();
    let mut site_tenants: BTreeSet<Cow<str>> = BTreeSet::new();
    let mut users: BTreeSet<Cow<str>> = BTreeSet::new();
    let mut sids: BTreeSet<Cow<str>> = BTreeSet::new();
    let mut host_ids: Vec<usize> = Vec::new();
    let mut client_hosts = Vec::new();
    for &n in member_nodes {
        match &nodes[n as usize] {
            Node::ClientHost(h, _) => {
                client_hosts.push(HostIx::from(*h));
                host_ids.push(*h);
            }
            Node::Id(IdKind::ClientGuid, g) => {
                client_ids.insert(Cow::Borrowed(g));
            }
            Node::Id(IdKind::AadDevice, d) => {
                aad_devices.insert(Cow::Borrowed(d));
            }
            Node::Id(_, s) => {
                sids.insert(Cow::Borrowed(s));
            }
        }
    }
    client_hosts.sort_unstable();
    // Key preference among GUIDs: the client's own confirmation, its request, the MP registration, the
    // CCM_STS token; the latest of the best kind.
    let mut best_guid: Option<(u8, u32, Cow<str>)> = None;
    for &new in evs {
        let old = perm[new as usize] as usize;
        let e = &events[old];
        if host_ids.last() != Some(&(host_of[old] as usize)) {
            host_ids.push(host_of[old] as usize);
        }
        let client_side = e.log_kind.role() == HostRole::Client;
        let rank = match e.kind {
            EventKind::Registered { .. } if client_side => 4,
            EventKind::RegistrationRequested { .. } if client_side => 3,
            EventKind::MpRegistration { .. } => 2,
            EventKind::CcmTokenIssued { .. } => 1,
            _ => 0,
        };
        for_each_id(&e.kind, |k, v| match k {
            IdKind::ClientGuid => {
                if rank > 0 && !matches!(&best_guid, Some((r, p, _)) if (rank, new) <= (*r, *p)) {
                    best_guid = Some((rank, new, v.clone()));
                }
                client_ids.insert(v);
            }
            IdKind::AadDevice => {
                aad_devices.insert(v);
            }
            IdKind::AadTenant => {
                if client_side {
                    client_tenants.insert(v.clone());
                } else {
                    site_tenants.insert(v.clone());
                }
                tenants.insert(v);
            }
            IdKind::AadUser => {
                users.insert(v);
            }
            IdKind::Sid | IdKind::DeviceSid if is_account_sid(&v) => {
                sids.insert(v);
            }
            _ => {}
        });
    }
    // Host indices follow the sorted host names.
    host_ids.sort_unstable();
    host_ids.dedup();
    let hosts: Vec<SharedStr> = host_ids.iter().map(|&h| host_names[h].clone()).collect();
    // A tenant is usually both one of the device's and a client's or the site's: made shared once.
    let mut made: Vec<SharedStr> = Vec::new();
    let mut shared = |id: &str| -> SharedStr {
        if let Some(s) = ids.find(id).or_else(|| made.iter().find(|m| m.as_str() == id).cloned()) {
            return s;
        }
        let s = SharedStr::from(id);
        made.push(s.clone());
        s
    };
    let mut owned = |set: &BTreeSet<Cow<str>>| -> Vec<SharedStr> { set.iter().map(|v| shared(v)).collect() };
    let aad_tenant_ids = owned(&tenants);
    let client_tenant_ids = owned(&client_tenants);
    let site_tenant_ids = owned(&site_tenants);
    let client_id_list = owned(&client_ids);
    let aad_device_ids = owned(&aad_devices);
    let aad_user_ids = owned(&users);
    let sid_list = owned(&sids);
    let key = best_guid
        .map(|(_, _, g)| ids.find(&g).unwrap_or_else(|| SharedStr::from(g.as_ref())))
        .or_else(|| client_id_list.first().cloned())
        .or_else(|| aad_device_ids.first().cloned())
        .or_else(|| client_hosts.first().map(|&h| host_names[h.index()].clone()))
        .unwrap_or_else(|| hosts.first().cloned().unwrap_or_default());
    let lists = DeviceLists {
        client_ids: client_id_list,
        aad_device_ids,
        aad_tenant_ids,
        client_tenant_ids,
        site_tenant_ids,
        aad_user_ids,
        sids: sid_list,
        hosts,
        client_hosts: client_hosts.iter().map(|&h| host_names[h.index()].clone()).collect(),
    };
    let facts = DeviceFacts::new(key, lists, evs.iter().map(|&i| EventIx::from(i as usize)).collect());
    (facts, client_hosts.into_boxed_slice())
}

#[cfg(test)]
mod tests {
    use super::{fill_untimed, permute_in_place, FileOrder, FileRun};
    use crate::index::TimeMs;
    use cmtrace_parsers::{Event, EventKind, EventStore, Evidence, LogKind, Severity};

    /// Events of two files as a hand-built store may hold them: interleaved, one file's lines out of order.
    /// The file order is the positions sorted by (path, line, position), held as runs of consecutive
    /// positions; places follow it; untimed lines take the time of the line before them in their file (the
    /// first ones, the file's first time).
    #[test]
    fn file_order_runs_follow_path_and_line_and_fill_untimed_lines_per_file() {
        // (path, line, time)
        let rows = [
            ("b.log", 1, Some(10)),
            ("b.log", 2, None),
            ("a.log", 5, None),
            ("a.log", 6, Some(20)),
            ("b.log", 3, Some(30)),
            ("a.log", 2, Some(40)),
            ("a.log", 7, None),
            ("b.log", 4, None),
        ];
        let store: EventStore = rows
            .iter()
            .map(|&(path, line, _)| {
                let evidence = Evidence::new(path.into(), line, "H".into(), None, "t".into());
                Event::new(EventKind::CcmTokenReturned, LogKind::CcmSts, Severity::Info, None, None, evidence)
            })
            .collect();
        let files = FileOrder::new(&store);
        let order: Vec<(usize, u32)> = files.positions().collect();
        // a.log (rank 0): lines 2, 5, 6, 7 = positions 5, 2, 3, 6; b.log (rank 1): positions 0, 1, 4, 7.
        assert_eq!(order, [(5, 0), (2, 0), (3, 0), (6, 0), (0, 1), (1, 1), (4, 1), (7, 1)]);
        let run = |first, len, rank| FileRun { first, len, rank };
        assert_eq!(
            files.runs,
            [run(5, 1, 0), run(2, 2, 0), run(6, 1, 0), run(0, 2, 1), run(4, 1, 1), run(7, 1, 1)]
        );
        assert_eq!(files.places(rows.len()), [4, 5, 1, 2, 6, 0, 3, 7]);
        let mut times: Vec<TimeMs> = rows.iter().map(|r| TimeMs::new(r.2)).collect();
        fill_untimed(&mut times, &files);
        let times: Vec<Option<i64>> = times.iter().map(|t| t.get()).collect();
        assert_eq!(times, [Some(10), Some(10), Some(40), Some(20), Some(30), Some(40), Some(20), Some(30)]);
    }

    #[test]
    fn permutes_in_place_like_a_gather() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for n in [0usize, 1, 2, 3, 7, 64, 1000] {
            // A pseudo-random permutation (Fisher-Yates with an xorshift generator).
            let mut perm: Vec<u32> = (0..n as u32).collect();
            for i in (1..n).rev() {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                perm.swap(i, (seed % (i as u64 + 1)) as usize);
            }
            let items: Vec<String> = (0..n).map(|i| format!("item {i}")).collect();
            let gathered: Vec<String> = perm.iter().map(|&old| items[old as usize].clone()).collect();
            let mut in_place = items;
            permute_in_place(&mut in_place, &perm);
            assert_eq!(in_place, gathered, "n = {n}");
        }
    }
}
