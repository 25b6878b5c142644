//! What the engine concluded, as rules and front ends read it: the `Analysis` (events in timeline order,
//! each with its host, device and corrected time), one `DeviceFacts` per device found by correlation, one
//! `HostFacts` per host of the collection and the server request blocks, with the queries over them.

use cmtrace_parsers::{HostRole, LogKind, SharedStr};

use crate::correlate::{Attribution, RequestKind};
use crate::ids::{event_matches, match_form};
use crate::index::{DeviceIx, EventIx, HostIx, TiVec};
use crate::model::{DeviceLists, IdLists, Input, Phase, PhaseId, Phases};
use crate::ordered::Events;
use crate::path::PathFacts;
use crate::skew::HostOffset;

/// Everything the engine concluded. Event, device and host positions (`EventIx`, `DeviceIx`, `HostIx`)
/// everywhere are positions in `events`, `devices` and `hosts`.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// Every file read, and every file that could not be.
    pub inputs: Vec<Input>,
    /// Sorted by corrected UTC time (events without a time take the time of the line before them in
    /// their file), then host, path, line.
    pub events: Events,
    /// Per event: index into `hosts`.
    pub event_host: TiVec<EventIx, HostIx>,
    /// Per event: index into `devices` (`None`: not attributable to one device).
    pub event_device: TiVec<EventIx, Option<DeviceIx>>,
    /// Sorted by key.
    pub devices: TiVec<DeviceIx, DeviceFacts>,
    /// Sorted by name.
    pub hosts: TiVec<HostIx, HostFacts>,
    /// Estimated clock offsets (reference hosts and hosts with causal pairs), sorted by host.
    pub host_offsets: Vec<HostOffset>,
    /// CCM_STS and MP registration request blocks, in file and line order.
    pub requests: ServerRequests,
}

/// One device found by correlation. Its identifier and host lists are read with the methods of their names
/// (`client_ids()`, `hosts()`...; `IdLists`).
#[derive(Debug, Clone)]
pub struct DeviceFacts {
    /// SMS client GUID (`GUID:` upper case) where known, else Azure AD device id, else host name.
    pub key: SharedStr,
    /// Its identifier and host lists.
    pub ids: IdLists,
    /// The device's events, in timeline order.
    pub events: Box<[EventIx]>,
    /// The path its own lines show (CMG or intranet, Entra ID or PKI, client generation).
    pub path: PathFacts,
    /// The 11 steps of the flow, in `PhaseId::ALL` order (shared between devices with the same ones).
    pub phases: Phases,
}

impl DeviceFacts {
    /// A device with `key`, its identifier and host `lists` and its `events` (timeline order); its path and
    /// phases are worked out later.
    pub fn new(key: SharedStr, lists: DeviceLists, events: Box<[EventIx]>) -> DeviceFacts {
        DeviceFacts { key, ids: lists.into(), events, path: PathFacts::default(), phases: Phases::default() }
    }

    /// The device's phase `id`.
    pub fn phase(&self, id: PhaseId) -> Option<&Phase> {
        self.phases.iter().find(|p| p.id == id)
    }
}

/// One host (folder) of the collection.
#[derive(Debug, Clone)]
pub struct HostFacts {
    /// The host's name (its folder, or `--host`).
    pub name: String,
    /// Roles from the logs it holds (client, CMG, connection point, management point).
    pub roles: Vec<HostRole>,
    /// Log kinds read from this host (a readable input or at least one event).
    pub collected: Vec<LogKind>,
    /// Log kinds present only as unreadable files.
    pub unreadable: Vec<LogKind>,
    /// The device whose client logs these are (client hosts).
    pub client_device: Option<DeviceIx>,
    /// Added to this host's log times in the timeline (minus the estimated offset; 0 when none applied).
    pub skew_correction_ms: i64,
    /// Per log kind read from this host: its first and last entry times (UTC ms, corrected like the
    /// timeline), over all its files (rotated copies included).
    pub log_spans: Vec<(LogKind, Option<i64>, Option<i64>)>,
}

impl HostFacts {
    /// Whether the host's logs show it in `role`.
    pub fn has_role(&self, role: HostRole) -> bool {
        self.roles.contains(&role)
    }
}

/// The lines of one server request (same file and thread, from start to return), as `ServerRequests` holds it.
#[derive(Debug, Clone, Copy)]
pub struct ServerRequest<'a> {
    /// CCM_STS token request or MP registration.
    pub kind: RequestKind,
    /// Its host.
    pub host: HostIx,
    /// Its events, in line order.
    pub events: &'a [EventIx],
    /// Its device (`None`: no device could be tied to it).
    pub device: Option<DeviceIx>,
    /// How it was tied to its device.
    pub attribution: Attribution,
}

/// The server requests, flat: each request's head, and its lines as runs of one shared vector (a request
/// with a vector of its own was 56 bytes and an allocation, on hundreds of thousands of requests).
#[derive(Debug, Clone, Default)]
pub struct ServerRequests {
    /// Per request: kind, host, device and how it was tied to it.
    heads: Vec<(RequestKind, HostIx, Option<DeviceIx>, Attribution)>,
    /// Per request: where its lines end in `events`.
    ends: Vec<u32>,
    /// Every request's lines, request after request.
    events: Vec<EventIx>,
}

impl ServerRequests {
    /// Requests from their heads, where each one's lines end in `events`, and those lines.
    pub(crate) fn new(
        heads: Vec<(RequestKind, HostIx, Option<DeviceIx>, Attribution)>,
        ends: Vec<u32>,
        events: Vec<EventIx>,
    ) -> ServerRequests {
        assert!(heads.len() == ends.len() && ends.last().is_none_or(|&e| e as usize == events.len()));
        ServerRequests { heads, ends, events }
    }

    /// How many requests.
    pub fn len(&self) -> usize {
        self.heads.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.heads.is_empty()
    }

    /// Request `r`.
    pub fn get(&self, r: usize) -> ServerRequest<'_> {
        let (kind, host, device, attribution) = self.heads[r];
        let from = if r == 0 { 0 } else { self.ends[r - 1] as usize };
        ServerRequest { kind, host, events: &self.events[from..self.ends[r] as usize], device, attribution }
    }

    /// The requests, in file and line order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = ServerRequest<'_>> + '_ {
        (0..self.len()).map(|r| self.get(r))
    }
}

impl<'a> IntoIterator for &'a ServerRequests {
    type Item = ServerRequest<'a>;
    type IntoIter = Box<dyn ExactSizeIterator<Item = ServerRequest<'a>> + 'a>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

impl Analysis {
    /// Event `i`'s time in UTC milliseconds after its host's clock correction (`None`: no readable time):
    /// its place in the timeline. Worked out where it is read: a vector of them was 8 bytes an event.
    pub fn time_ms(&self, i: EventIx) -> Option<i64> {
        crate::model::corrected_time_ms(&self.events[i], self.hosts[self.event_host[i]].skew_correction_ms)
    }

    /// Events that carry `id` (SMS GUID with or without `GUID:`, Azure AD device/user/tenant id, SID,
    /// message id, or a URL / host part), case-insensitive, in timeline order.
    pub fn events_for_id(&self, id: &str) -> Vec<EventIx> {
        let q = match_form(id);
        if q.is_empty() {
            return Vec::new();
        }
        self.events.iter_enumerated().filter(|(_, e)| event_matches(&e.kind, &q)).map(|(i, _)| i).collect()
    }

    /// The device a query names: its key, a client GUID, an Azure AD device id or a client host name.
    pub fn find_device(&self, query: &str) -> Option<DeviceIx> {
        let q = match_form(query);
        let host = query.trim();
        self.devices.position(|d| {
            match_form(&d.key) == q
                || d.client_ids().iter().chain(d.aad_device_ids()).any(|x| match_form(x) == q)
                || d.client_hosts().iter().any(|h| h.eq_ignore_ascii_case(host))
        })
    }

    /// The host named `name`, if the collection has it.
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
    pub fn unattributed_events(&self) -> Vec<EventIx> {
        self.event_device.iter_enumerated().filter(|(_, d)| d.is_none()).map(|(i, _)| i).collect()
    }

    /// The device key of an event, if attributed.
    pub fn device_key(&self, event: EventIx) -> Option<&str> {
        self.event_device.get(event).copied().flatten().map(|d| self.devices[d].key.as_str())
    }

    /// The clock-offset entry of a host, if estimated.
    pub fn host_offset(&self, host: &str) -> Option<&HostOffset> {
        self.host_offsets.iter().find(|o| o.host == host)
    }
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

#[cfg(test)]
mod request_tests {
    use super::*;

    /// Each request reads its own run of lines, the first from the start and an empty one as empty.
    #[test]
    fn each_request_reads_its_own_lines() {
        let ix = |v: &[usize]| v.iter().map(|&i| EventIx::from(i)).collect::<Vec<_>>();
        let chain = Attribution::RequestChain { client_event: EventIx::from(9) };
        let requests = ServerRequests::new(
            vec![
                (RequestKind::CcmSts, HostIx::from(1), Some(DeviceIx::FIRST), Attribution::Identifiers),
                (RequestKind::MpRegistration, HostIx::from(0), None, Attribution::None),
                (RequestKind::CcmSts, HostIx::from(1), Some(DeviceIx::from(2)), chain),
            ],
            vec![3, 3, 5],
            ix(&[4, 2, 7, 8, 6]),
        );
        assert_eq!(requests.len(), 3);
        let got: Vec<_> =
            requests.iter().map(|r| (r.kind, r.host, r.events.to_vec(), r.device, r.attribution)).collect();
        assert_eq!(
            got,
            [
                (
                    RequestKind::CcmSts,
                    HostIx::from(1),
                    ix(&[4, 2, 7]),
                    Some(DeviceIx::FIRST),
                    Attribution::Identifiers
                ),
                (RequestKind::MpRegistration, HostIx::from(0), vec![], None, Attribution::None),
                (RequestKind::CcmSts, HostIx::from(1), ix(&[8, 6]), Some(DeviceIx::from(2)), chain),
            ]
        );
        assert_eq!((&requests).into_iter().count(), 3);
        assert!(ServerRequests::default().is_empty());
    }
}
