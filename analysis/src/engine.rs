//! The flow engine: from every file's `Input` and every extracted `Event` to an `Analysis` — events in
//! corrected time order, each attributed to a device or not, the devices with their identifiers,
//! hosts and phases, per-host facts (roles, logs collected, clock offsets) and the server request
//! blocks. Rules reason on the `Analysis`; front ends turn it into the contract's `Report`.

use std::borrow::Cow;
use std::collections::BTreeSet;

use rayon::prelude::*;
use rustc_hash::FxHashMap as HashMap;

use cmtrace_parsers::{Event, EventKind, EventStore, HostRole, LogKind, SharedStr};

use crate::correlate::{self, Attribution, Graph, HostRoles, Node, RequestKind};
use crate::ids::{event_matches, for_each_id, is_account_sid, match_form, IdKind};
use crate::model::{Input, Phase};
use crate::ordered::Events;
use crate::path::PathFacts;
use crate::phases::{self, PhaseContext};
use crate::skew::{self, HostOffset, SkewInput};

/// Everything the engine concluded. Event indices everywhere are positions in `events`.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub inputs: Vec<Input>,
    /// Sorted by corrected UTC time (events without a time take the time of the line before them in
    /// their file), then host, path, line.
    pub events: Events,
    /// Per event: UTC milliseconds after the applied clock correction (`None`: no readable time).
    pub event_time_ms: Vec<Option<i64>>,
    /// Per event: index into `hosts`.
    pub event_host: Vec<usize>,
    /// Per event: index into `devices` (`None`: not attributable to one device).
    pub event_device: Vec<Option<usize>>,
    /// Sorted by key.
    pub devices: Vec<DeviceFacts>,
    /// Sorted by name.
    pub hosts: Vec<HostFacts>,
    /// Estimated clock offsets (reference hosts and hosts with causal pairs), sorted by host.
    pub host_offsets: Vec<HostOffset>,
    /// CCM_STS and MP registration request blocks, in file and line order.
    pub requests: Vec<ServerRequest>,
}

/// One device found by correlation.
#[derive(Debug, Clone)]
pub struct DeviceFacts {
    /// SMS client GUID (`GUID:` upper case) where known, else Azure AD device id, else host name.
    pub key: String,
    pub client_ids: Vec<String>,
    pub aad_device_ids: Vec<String>,
    /// Every tenant seen for the device, client and site side (both kept when they differ).
    pub aad_tenant_ids: Vec<String>,
    /// Tenants named by the client's own logs (`AADAuthInfo?TenantID=`).
    pub client_tenant_ids: Vec<String>,
    /// Tenants the site validated or registered the device with (CCM_STS, MP_RegistrationManager).
    pub site_tenant_ids: Vec<String>,
    pub aad_user_ids: Vec<String>,
    /// Account SIDs (user and computer; never `S-1-5-18`).
    pub sids: Vec<String>,
    /// Every host whose logs mention the device.
    pub hosts: Vec<String>,
    /// The host(s) whose client logs are this device's (normally one; two when hosts share a GUID).
    pub client_hosts: Vec<String>,
    /// The device's events, in timeline order.
    pub events: Vec<usize>,
    /// The path its own lines show (CMG or intranet, Entra ID or PKI, client generation).
    pub path: PathFacts,
    pub phases: Vec<Phase>,
}

impl DeviceFacts {
    pub fn phase(&self, id: crate::model::PhaseId) -> Option<&Phase> {
        self.phases.iter().find(|p| p.id == id)
    }
}

/// One host (folder) of the collection.
#[derive(Debug, Clone)]
pub struct HostFacts {
    pub name: String,
    /// Roles from the logs it holds (client, CMG, connection point, management point).
    pub roles: Vec<HostRole>,
    /// Log kinds read from this host (a readable input or at least one event).
    pub collected: Vec<LogKind>,
    /// Log kinds present only as unreadable files.
    pub unreadable: Vec<LogKind>,
    /// The device whose client logs these are (client hosts).
    pub client_device: Option<usize>,
    /// Added to this host's log times in the timeline (minus the estimated offset; 0 when none applied).
    pub skew_correction_ms: i64,
    /// Per log kind read from this host: its first and last entry times (UTC ms, corrected like the
    /// timeline), over all its files (rotated copies included).
    pub log_spans: Vec<(LogKind, Option<i64>, Option<i64>)>,
}

impl HostFacts {
    pub fn has_role(&self, role: HostRole) -> bool {
        self.roles.contains(&role)
    }
}

/// The lines of one server request (same file and thread, from start to return).
#[derive(Debug, Clone)]
pub struct ServerRequest {
    pub kind: RequestKind,
    /// Index into `Analysis::hosts`.
    pub host: usize,
    /// Event indices in line order.
    pub events: Vec<usize>,
    pub device: Option<usize>,
    pub attribution: Attribution,
}

impl Analysis {
    /// Events that carry `id` (SMS GUID with or without `GUID:`, Azure AD device/user/tenant id, SID,
    /// message id, or a URL / host part), case-insensitive, in timeline order.
    pub fn events_for_id(&self, id: &str) -> Vec<usize> {
        let q = match_form(id);
        if q.is_empty() {
            return Vec::new();
        }
        (0..self.events.len()).filter(|&i| event_matches(&self.events[i].kind, &q)).collect()
    }

    /// The device a query names: its key, a client GUID, an Azure AD device id or a client host name.
    pub fn find_device(&self, query: &str) -> Option<usize> {
        let q = match_form(query);
        let host = query.trim();
        self.devices.iter().position(|d| {
            match_form(&d.key) == q
                || d.client_ids.iter().chain(&d.aad_device_ids).any(|x| match_form(x) == q)
                || d.client_hosts.iter().any(|h| h.eq_ignore_ascii_case(host))
        })
    }

    pub fn host(&self, name: &str) -> Option<&HostFacts> {
        self.hosts.binary_search_by(|h| h.name.as_str().cmp(name)).ok().map(|i| &self.hosts[i])
    }

    /// Whether a readable log of this kind was collected from the host.
    pub fn collected(&self, host: &str, kind: LogKind) -> bool {
        self.host(host).is_some_and(|h| h.collected.contains(&kind))
    }

    /// Hosts from which a readable log of this kind was collected.
    pub fn hosts_with(&self, kind: LogKind) -> Vec<&str> {
        self.hosts.iter().filter(|h| h.collected.contains(&kind)).map(|h| h.name.as_str()).collect()
    }

    /// Events not attributed to any device.
    pub fn unattributed_events(&self) -> Vec<usize> {
        (0..self.events.len()).filter(|&i| self.event_device[i].is_none()).collect()
    }

    /// The device key of an event, if attributed.
    pub fn device_key(&self, event: usize) -> Option<&str> {
        self.event_device.get(event).copied().flatten().map(|d| self.devices[d].key.as_str())
    }

    /// The clock-offset entry of a host, if estimated.
    pub fn host_offset(&self, host: &str) -> Option<&HostOffset> {
        self.host_offsets.iter().find(|o| o.host == host)
    }
}

/// Runs correlation, clock-skew estimation, ordering and phases.
pub fn analyze(inputs: Vec<Input>, events: impl Into<EventStore>) -> Analysis {
    let events: EventStore = events.into();
    let timing = std::env::var_os("CMTRACE_TIMING").is_some();
    let t0 = std::time::Instant::now();
    let lap = |what: &str| {
        if timing {
            print_lap(&format!("engine {what}"), t0);
        }
    };
    // Hosts: every host named by an input or an event, sorted.
    // Consecutive events of a file share one `Arc` for host and path: look each run up once.
    let host_runs = shared_runs(&events, |e| &e.evidence.host);
    let names: BTreeSet<&str> = inputs
        .iter()
        .map(|i| i.host.as_str())
        .chain(host_runs.iter().map(|&(first, _)| events[first].evidence.host.as_ref()))
        .collect();
    let host_names: Vec<String> = names.into_iter().map(str::to_string).collect();
    let host_index: HashMap<&str, usize> =
        host_names.iter().enumerate().map(|(i, n)| (n.as_str(), i)).collect();
    let host_of: Vec<usize> =
        expand_runs(&host_runs, events.len(), |first| host_index[events[first].evidence.host.as_str()]);
    drop(host_runs);
    let mut collected: Vec<BTreeSet<LogKind>> = vec![BTreeSet::new(); host_names.len()];
    let mut unreadable: Vec<BTreeSet<LogKind>> = vec![BTreeSet::new(); host_names.len()];
    for input in &inputs {
        let h = host_index[input.host.as_str()];
        if input.error.is_none() {
            collected[h].insert(input.log_kind);
        } else {
            unreadable[h].insert(input.log_kind);
        }
    }
    for (i, e) in events.iter().enumerate() {
        collected[host_of[i]].insert(e.log_kind);
    }
    for h in 0..host_names.len() {
        let readable = collected[h].clone();
        unreadable[h].retain(|k| !readable.contains(k));
    }
    let roles: Vec<BTreeSet<HostRole>> = (0..host_names.len())
        .map(|h| {
            collected[h]
                .iter()
                .chain(&unreadable[h])
                .map(|k| k.role())
                .filter(|r| *r != HostRole::Unknown)
                .collect()
        })
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
    // Reference clocks: the management points; without one, the CMG hosts (Azure VMs logging `+00`).
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
    let host_roles = HostRoles { host_of: &host_of, is_client: &is_client, is_server: &is_server };

    let raw_ms: Vec<Option<i64>> =
        events.iter().map(|e| e.evidence.time.map(|t| t.timestamp_millis())).collect();
    // Paths ranked once, so that sorts compare integers instead of long shared path prefixes.
    let path_rank: Vec<u32> = {
        let mut ids: HashMap<&str, u32> = HashMap::default();
        let mut uniq: Vec<&str> = Vec::new();
        let path_runs = shared_runs(&events, |e| &e.evidence.path);
        let first: Vec<u32> = expand_runs(&path_runs, events.len(), |first| {
            let p = events[first].evidence.path.as_ref();
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
        first.into_iter().map(|u| rank[u as usize]).collect()
    };
    let mut file_order: Vec<usize> = (0..events.len()).collect();
    file_order.par_sort_unstable_by_key(|&a| (path_rank[a], events[a].evidence.line, a));

    lap("hosts and file order");
    // Correlation by identifiers.
    let mut ids = correlate::Interner::default();
    let blocks = correlate::build_blocks(&events, &host_of, &file_order, &path_rank, &mut ids);
    let mut block_of: Vec<Option<usize>> = vec![None; events.len()];
    for (bi, b) in blocks.iter().enumerate() {
        for &i in &b.events {
            block_of[i] = Some(bi);
        }
    }
    let mut graph = Graph::new(host_names.len(), blocks.len(), ids);
    graph.link_client_ids(&events, &host_roles);
    graph.link_block_ids(&blocks);
    graph.link_weak_ids();

    lap("blocks and identifier links");
    // Clock skew from causal pairs of identifier-linked events.
    let pre_blocks = graph.block_roots(&blocks);
    let pre_roots = event_roots(&mut graph, &events, &host_roles, &block_of, &pre_blocks, &[]);
    let pre_block_roots: Vec<Option<usize>> = pre_blocks.iter().map(|b| b.0).collect();
    let (host_offsets_raw, correlation_offset) = skew::estimate(&SkewInput {
        events: &events,
        raw_ms: &raw_ms,
        roles: &host_roles,
        host_names: &host_names,
        is_reference: &is_reference,
        blocks: &blocks,
        block_root: &pre_block_roots,
        event_root: &pre_roots,
    });
    // Every per-event vector is dropped after its last use: together they are a good part of the peak.
    drop((pre_blocks, pre_roots, pre_block_roots));
    lap("skew");
    // Correlation uses every consistent estimate (a 90 s offset still shifts a request out of a 5 s
    // window); the timeline and phases only apply estimates beyond the 2-minute threshold.
    let corr_ms: Vec<Option<i64>> =
        raw_ms.iter().enumerate().map(|(i, t)| t.map(|t| t - correlation_offset[host_of[i]])).collect();

    // Correlation by request chains in time.
    graph.link_chains(&events, &host_roles, &blocks, &corr_ms);
    let final_blocks = graph.block_roots(&blocks);
    let connector =
        correlate::connector_roots(&mut graph, &events, &host_roles, &blocks, &final_blocks, &corr_ms);
    let roots = event_roots(&mut graph, &events, &host_roles, &block_of, &final_blocks, &connector);
    drop((corr_ms, block_of, connector));

    lap("time chains");
    // Applied corrections and timeline order.
    let mut applied = vec![0i64; host_names.len()];
    for o in &host_offsets_raw {
        if o.applied {
            applied[host_index[o.host.as_str()]] = o.offset_ms;
        }
    }
    let time_ms: Vec<Option<i64>> =
        raw_ms.iter().enumerate().map(|(i, t)| t.map(|t| t - applied[host_of[i]])).collect();
    drop(raw_ms);
    let mut order_ms: Vec<Option<i64>> = time_ms.clone();
    fill_untimed(&mut order_ms, &events, &file_order);
    drop(file_order);
    let mut perm: Vec<usize> = (0..events.len()).collect();
    // Host indices follow the sorted host names and path ranks the sorted paths: the same order as
    // comparing the strings.
    perm.par_sort_unstable_by_key(|&i| {
        (order_ms[i].is_none(), order_ms[i], host_of[i], path_rank[i], events[i].evidence.line, i)
    });
    drop((order_ms, path_rank));
    let mut new_pos = vec![0usize; events.len()];
    for (new, &old) in perm.iter().enumerate() {
        new_pos[old] = new;
    }

    lap("timeline order");
    // Devices: one per component.
    let mut component_roots: Vec<usize> = (0..graph.nodes.len()).map(|n| graph.find(n)).collect();
    component_roots.sort_unstable();
    component_roots.dedup();
    // Component number of every root, then each component's nodes and events (timeline order) as
    // one flat grouping each: hundreds of thousands of devices on a fleet collection.
    let mut component_of_root = vec![usize::MAX; graph.nodes.len()];
    for (c, &r) in component_roots.iter().enumerate() {
        component_of_root[r] = c;
    }
    let node_components: Vec<(usize, usize)> =
        (0..graph.nodes.len()).map(|n| (component_of_root[graph.find(n)], n)).collect();
    let members = Grouped::new(component_roots.len(), &node_components);
    let event_components: Vec<(usize, usize)> = perm
        .iter()
        .enumerate()
        .filter_map(|(new, &old)| roots[old].map(|r| (component_of_root[r], new)))
        .collect();
    let device_events = Grouped::new(component_roots.len(), &event_components);
    drop((node_components, event_components));
    // Devices are independent of each other: built in parallel.
    let mut built: Vec<(usize, DeviceFacts, Vec<usize>)> = component_roots
        .par_iter()
        .enumerate()
        .map(|(c, &r)| {
            let (facts, client_hosts) = device_facts(
                &graph.nodes,
                members.group(c),
                device_events.group(c),
                &perm,
                &events,
                &host_of,
                &host_names,
            );
            (r, facts, client_hosts)
        })
        .collect();
    drop((members, device_events));
    // Sorted through an index (devices are large to move), ties in component order as before.
    let mut by_key: Vec<usize> = (0..built.len()).collect();
    by_key.par_sort_unstable_by(|&a, &b| built[a].1.key.cmp(&built[b].1.key).then(a.cmp(&b)));
    permute_in_place(&mut built, &by_key);
    // Keys are unique by construction except in odd collections (a host named like a GUID): suffix them.
    for i in 1..built.len() {
        if built[i].1.key == built[i - 1].1.key {
            let base = built[i].1.key.clone();
            let mut n = 2;
            while built.iter().any(|b| b.1.key == format!("{base}#{n}")) {
                n += 1;
            }
            built[i].1.key = format!("{base}#{n}");
        }
    }
    // Device number of each component root (indexed by node).
    let mut device_of_root = vec![usize::MAX; graph.nodes.len()];
    for (d, b) in built.iter().enumerate() {
        device_of_root[b.0] = d;
    }

    lap("devices built");
    // Each host's inputs, grouped once (thousands of hosts on a fleet collection).
    let mut inputs_of: Vec<Vec<&Input>> = vec![Vec::new(); host_names.len()];
    for input in &inputs {
        inputs_of[host_index[input.host.as_str()]].push(input);
    }
    let hosts: Vec<HostFacts> = (0..host_names.len())
        .map(|h| HostFacts {
            name: host_names[h].clone(),
            roles: roles[h].iter().copied().collect(),
            collected: collected[h].iter().copied().collect(),
            unreadable: unreadable[h].iter().copied().collect(),
            client_device: graph.host_node[h].map(|n| device_of_root[graph.find(n)]),
            skew_correction_ms: -applied[h],
            log_spans: log_spans(&inputs_of[h], -applied[h]),
        })
        .collect();

    // Everything in timeline order. The events stay where they were read (`Events` reads them through
    // the order); the per-event facts are gathered on one core while the request blocks and pair indices
    // are renumbered on the other.
    let sorted_events = Events::new(events, perm.iter().map(|&old| old as u32).collect());
    let ((event_time_ms, event_host, event_device), (requests, host_offsets)) = rayon::join(
        || {
            let event_time_ms: Vec<Option<i64>> = perm.iter().map(|&old| time_ms[old]).collect();
            let event_host: Vec<usize> = perm.iter().map(|&old| host_of[old]).collect();
            let event_device: Vec<Option<usize>> =
                perm.iter().map(|&old| roots[old].map(|r| device_of_root[r])).collect();
            (event_time_ms, event_host, event_device)
        },
        || {
            let requests: Vec<ServerRequest> = blocks
                .iter()
                .zip(&final_blocks)
                .map(|(b, (root, how))| ServerRequest {
                    kind: b.kind,
                    host: b.host,
                    events: b.events.iter().map(|&i| new_pos[i]).collect(),
                    device: root.map(|r| device_of_root[r]),
                    attribution: match *how {
                        Attribution::RequestChain { client_event } => {
                            Attribution::RequestChain { client_event: new_pos[client_event] }
                        }
                        other => other,
                    },
                })
                .collect();
            let host_offsets: Vec<HostOffset> = host_offsets_raw
                .into_iter()
                .map(|mut o| {
                    for p in &mut o.pairs {
                        p.host_event = new_pos[p.host_event];
                        p.other_event = p.other_event.map(|e| new_pos[e]);
                    }
                    o
                })
                .collect();
            (requests, host_offsets)
        },
    );

    drop((perm, new_pos, time_ms, roots, host_of, blocks, final_blocks, device_of_root, graph));
    lap("events renumbered");
    let devices: Vec<DeviceFacts> = {
        let ctx = PhaseContext::new(&sorted_events, &event_time_ms, &event_host, &hosts);
        built
            .into_par_iter()
            .map(|(_, mut facts, client_hosts)| {
                facts.path = PathFacts::of(&sorted_events, &facts.events);
                facts.phases = phases::device_phases(&ctx, &facts, &client_hosts);
                facts
            })
            .collect()
    };
    lap("phases");

    Analysis {
        inputs,
        events: sorted_events,
        event_time_ms,
        event_host,
        event_device,
        devices,
        hosts,
        host_offsets,
        requests,
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

/// Widens a (first, last) time span by another one; an unknown end leaves the known one.
pub(crate) fn widen_span(span: (&mut Option<i64>, &mut Option<i64>), first: Option<i64>, last: Option<i64>) {
    let (f, l) = span;
    *f = match (*f, first) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    *l = (*l).max(last);
}

/// The component of every event (positions as given): client lines by their host, server request
/// lines by their block, connector lines by the chains in `connector`.
fn event_roots(
    graph: &mut Graph,
    events: &EventStore,
    roles: &HostRoles,
    block_of: &[Option<usize>],
    block_roots: &[(Option<usize>, Attribution)],
    connector: &[(usize, usize)],
) -> Vec<Option<usize>> {
    let mut out = vec![None; events.len()];
    for (i, e) in events.iter().enumerate() {
        let h = roles.host_of[i];
        if let Some(b) = block_of[i] {
            out[i] = block_roots[b].0;
        } else if let Some(n) = graph.host_node_at(h, e.evidence.time.map(|t| t.timestamp_millis())) {
            if correlate::belongs_to_client_host(e, roles, h) {
                out[i] = Some(graph.find(n));
            }
        }
    }
    for &(i, r) in connector {
        out[i] = Some(graph.find(r));
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

/// Items grouped by a dense group number, each group's items in the order given, in one flat vector.
struct Grouped {
    starts: Vec<usize>,
    items: Vec<usize>,
}

impl Grouped {
    /// `pairs`: (group, item), groups below `groups`.
    fn new(groups: usize, pairs: &[(usize, usize)]) -> Grouped {
        let mut starts = vec![0usize; groups + 1];
        for &(g, _) in pairs {
            starts[g + 1] += 1;
        }
        for g in 0..groups {
            starts[g + 1] += starts[g];
        }
        let mut next = starts.clone();
        let mut items = vec![0usize; pairs.len()];
        for &(g, item) in pairs {
            items[next[g]] = item;
            next[g] += 1;
        }
        Grouped { starts, items }
    }

    fn group(&self, g: usize) -> &[usize] {
        &self.items[self.starts[g]..self.starts[g + 1]]
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
fn permute_in_place<T>(items: &mut [T], perm: &[usize]) {
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
            let src = perm[cur];
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
fn fill_untimed(order: &mut [Option<i64>], events: &EventStore, file_order: &[usize]) {
    let mut start = 0;
    while start < file_order.len() {
        let path = &events[file_order[start]].evidence.path;
        let mut end = start;
        while end < file_order.len() && &events[file_order[end]].evidence.path == path {
            end += 1;
        }
        let file = &file_order[start..end];
        let first = file.iter().find_map(|&i| order[i]);
        let mut last = first;
        for &i in file {
            match order[i] {
                Some(t) => last = Some(t),
                None => order[i] = last,
            }
        }
        start = end;
    }
}

/// Identifiers, hosts and key of one component. Returns the facts (phases empty) and the client host
/// indices.
fn device_facts(
    nodes: &[Node],
    member_nodes: &[usize],
    evs: &[usize],
    perm: &[usize],
    events: &EventStore,
    host_of: &[usize],
    host_names: &[String],
) -> (DeviceFacts, Vec<usize>) {
    // Borrowed from the events and graph nodes; owned copies only for what the device keeps.
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
        match &nodes[n] {
            Node::ClientHost(h, _) => {
                client_hosts.push(*h);
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
    let mut best_guid: Option<(u8, usize, Cow<str>)> = None;
    for &new in evs {
        let old = perm[new];
        let e = &events[old];
        if host_ids.last() != Some(&host_of[old]) {
            host_ids.push(host_of[old]);
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
    let hosts: Vec<String> = host_ids.iter().map(|&h| host_names[h].clone()).collect();
    let owned = |set: BTreeSet<Cow<str>>| -> Vec<String> { set.into_iter().map(Cow::into_owned).collect() };
    let key = best_guid
        .map(|(_, _, g)| g.into_owned())
        .or_else(|| client_ids.first().map(|g| g.to_string()))
        .or_else(|| aad_devices.first().map(|d| d.to_string()))
        .or_else(|| client_hosts.first().map(|&h| host_names[h].clone()))
        .unwrap_or_else(|| hosts.first().cloned().unwrap_or_default());
    let facts = DeviceFacts {
        key,
        client_ids: owned(client_ids),
        aad_device_ids: owned(aad_devices),
        aad_tenant_ids: owned(tenants),
        client_tenant_ids: owned(client_tenants),
        site_tenant_ids: owned(site_tenants),
        aad_user_ids: owned(users),
        sids: owned(sids),
        hosts,
        client_hosts: client_hosts.iter().map(|&h| host_names[h].clone()).collect(),
        events: evs.to_vec(),
        path: PathFacts::default(),
        phases: Vec::new(),
    };
    (facts, client_hosts)
}

#[cfg(test)]
mod tests {
    use super::permute_in_place;

    #[test]
    fn permutes_in_place_like_a_gather() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for n in [0usize, 1, 2, 3, 7, 64, 1000] {
            // A pseudo-random permutation (Fisher-Yates with an xorshift generator).
            let mut perm: Vec<usize> = (0..n).collect();
            for i in (1..n).rev() {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                perm.swap(i, (seed % (i as u64 + 1)) as usize);
            }
            let items: Vec<String> = (0..n).map(|i| format!("item {i}")).collect();
            let gathered: Vec<String> = perm.iter().map(|&old| items[old].clone()).collect();
            let mut in_place = items;
            permute_in_place(&mut in_place, &perm);
            assert_eq!(in_place, gathered, "n = {n}");
        }
    }
}
