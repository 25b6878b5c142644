//! Device phases (docs/flow-semantics.md): for each phase the log that shows it, and from that log's events
//! of the device whether the phase is `ok`, `failed`, `missing`, `not_collected` (its log is not among the
//! inputs, or its lines rotated away) or `not_applicable` (the device's path, `crate::path`, does not take
//! the step), with the events that decided it and a one-line reason.

use chrono::{DateTime, Utc};
use cmtrace_parsers::{Event, EventKind, LogKind, SharedStr};

use crate::causes;
use crate::facts::{DeviceFacts, HostFacts};
use crate::index::{EventIx, HostIx, TiSlice};
use crate::model::{corrected_time_ms, dedup_evidence, EvidenceOut, Phase, PhaseId, PhaseStatus};
use crate::ordered::Events;

/// At most this many failure lines are cited as evidence of a failed phase.
const FAILURE_EVIDENCE: usize = 5;

/// The file name a support engineer knows a log kind by.
pub fn log_file_name(kind: LogKind) -> &'static str {
    kind.known_as()
}

/// The log whose lines show a phase (`PHASES`).
pub fn phase_log(id: PhaseId) -> LogKind {
    id.facts().log
}

/// What each phase is, for notes (`PHASES`).
fn phase_what(id: PhaseId) -> &'static str {
    id.facts().what
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    Start,
    Success,
    Failure,
}

/// Where a phase's log was read (`Ok`: the host names, joined) or why the phase is not applicable
/// (`Err`: the note).
type LogSource = Result<SharedStr, SharedStr>;

/// What the phase computation reads.
pub(crate) struct PhaseContext<'a> {
    pub events: &'a Events,
    pub event_host: &'a TiSlice<EventIx, HostIx>,
    pub hosts: &'a TiSlice<HostIx, HostFacts>,
    /// Per server log kind: where it was read (joined host names) or why its phases are not applicable.
    server_sources: Vec<(LogKind, LogSource)>,
    /// Per server log kind: its first and last entry times over every host that collected it (the same
    /// for every device: worked out once, not once per device over thousands of hosts).
    server_spans: Vec<(LogKind, Span)>,
    /// Per server phase whose log was collected: the reason of a `missing` status with no line (the same
    /// for every device; one shared string rather than one per device of a fleet).
    server_missing: Vec<(PhaseId, SharedStr)>,
}

/// First and last entry times (UTC ms), either unknown.
type Span = (Option<i64>, Option<i64>);

impl<'a> PhaseContext<'a> {
    /// Event `i`'s time, corrected for its host's clock (`Analysis::time_ms`).
    pub fn time_ms(&self, i: EventIx) -> Option<i64> {
        corrected_time_ms(&self.events[i], self.hosts[self.event_host[i]].skew_correction_ms)
    }

    pub fn new(
        events: &'a Events,
        event_host: &'a TiSlice<EventIx, HostIx>,
        hosts: &'a TiSlice<HostIx, HostFacts>,
    ) -> Self {
        let server_sources: Vec<(LogKind, LogSource)> = PhaseId::ALL
            .iter()
            .map(|&id| phase_log(id))
            .filter(|k| k.role() != cmtrace_parsers::HostRole::Client)
            .map(|k| {
                let with: Vec<&HostFacts> =
                    hosts.iter().filter(|h| h.collected.contains(&k) || h.unreadable.contains(&k)).collect();
                (k, collected_on(&with, k, false))
            })
            .collect();
        let server_missing = PhaseId::ALL
            .iter()
            .filter_map(|&id| {
                let kind = phase_log(id);
                let (_, source) = server_sources.iter().find(|(k, _)| *k == kind)?;
                let where_ = source.as_ref().ok()?;
                Some((id, missing_reason(id, where_, false).into()))
            })
            .collect();
        let mut ctx = PhaseContext {
            events,
            event_host,
            hosts,
            server_sources,
            server_spans: Vec::new(),
            server_missing,
        };
        ctx.server_spans = ctx
            .server_sources
            .iter()
            .map(|&(k, _)| {
                let with: Vec<HostIx> = hosts
                    .iter_enumerated()
                    .filter(|(_, h)| h.collected.contains(&k))
                    .map(|(i, _)| i)
                    .collect();
                (k, span_of(&ctx, &with, k))
            })
            .collect();
        ctx
    }
}

/// A logged error that says no step failed: a line healthy machines log too (the WMI namespace lines of a
/// ccmsetup run), or one that says another ccmsetup is running or a restart is pending.
fn says_no_step_failed(e: &Event) -> bool {
    let class = causes::classify(&e.evidence.text().get());
    class.noise || matches!(class.id, "ccmsetup-already-running" | "reboot-pending")
}

/// The device's client-log `ErrorLogged` events that fail no step (`says_no_step_failed`), in index order:
/// each text is read and classified once per device, not once per phase that looks at it.
fn quiet_errors(ctx: &PhaseContext, device: &DeviceFacts) -> Vec<EventIx> {
    let mut quiet: Vec<EventIx> = device
        .events
        .iter()
        .copied()
        .filter(|&i| matches!(ctx.events[i].kind, EventKind::ErrorLogged { .. }))
        .filter(|&i| ctx.events[i].log_kind.role() == cmtrace_parsers::HostRole::Client)
        .filter(|&i| says_no_step_failed(&ctx.events[i]))
        .collect();
    quiet.sort_unstable();
    quiet
}

/// An error line that says the step under way failed (`quiet`: from `quiet_errors`).
fn is_error_line(e: &Event, i: EventIx, quiet: &[EventIx]) -> bool {
    match e.kind {
        EventKind::HttpError { .. } | EventKind::CertificateError { .. } => true,
        EventKind::ErrorLogged { .. } => quiet.binary_search(&i).is_err(),
        _ => false,
    }
}

/// A ccmsetup exit that says a step failed: not 0 (success), 7 (a restart is pending: the steps before it
/// were done) nor 8 (another ccmsetup was running: this run did no step).
fn nonzero_exit(e: &Event) -> bool {
    matches!(e.kind, EventKind::CcmsetupExit { code } if !matches!(code, 0 | 7 | 8))
}

/// Marks per phase over the device's events of the phase's log (in time order).
fn marks(
    id: PhaseId,
    ctx: &PhaseContext,
    evs: &[EventIx],
    quiet: &[EventIx],
    ctx_tokenless: bool,
) -> Vec<(EventIx, Mark)> {
    let mut out = Vec::new();
    let mut pending = false;
    let mut registered = false;
    let mut content_found = false;
    for &i in evs {
        let e = &ctx.events[i];
        let k = &e.kind;
        let mark = match id {
            PhaseId::InstallAadInfo => match k {
                EventKind::AadInfoRequested { .. } => {
                    pending = true;
                    Some(Mark::Start)
                }
                EventKind::AadTokenRequested { .. } if pending => {
                    pending = false;
                    Some(Mark::Success)
                }
                // A zero exit is the bootstrapper handing over to the ccmsetup service: the request
                // may still be answered after it.
                _ if pending && (is_error_line(e, i, quiet) || nonzero_exit(e)) => {
                    pending = !nonzero_exit(e);
                    Some(Mark::Failure)
                }
                _ => None,
            },
            PhaseId::InstallAadToken | PhaseId::RegistrationAadToken => match k {
                EventKind::AadTokenRequested { .. } => Some(Mark::Start),
                EventKind::AadTokenAcquired { .. } => Some(Mark::Success),
                EventKind::AadTokenFailed { .. } => Some(Mark::Failure),
                _ => None,
            },
            PhaseId::InstallCcmToken => match k {
                EventKind::CcmTokenRequested { .. } => {
                    pending = true;
                    Some(Mark::Start)
                }
                EventKind::CcmTokenCached { .. } => {
                    pending = false;
                    Some(Mark::Success)
                }
                EventKind::CcmTokenFailed { .. } => Some(Mark::Failure),
                _ if pending && (is_error_line(e, i, quiet) || nonzero_exit(e)) => Some(Mark::Failure),
                _ => None,
            },
            PhaseId::InstallContent => match k {
                // The content lookup starts once ccmsetup holds a CCM token, or with the run on a path
                // without tokens.
                EventKind::CcmTokenCached { .. } => {
                    pending = true;
                    None
                }
                EventKind::CcmsetupStarted { .. } if ctx_tokenless => {
                    pending = true;
                    None
                }
                EventKind::ContentLocation { .. } => {
                    pending = false;
                    content_found = true;
                    Some(Mark::Success)
                }
                // The client's installer starts from the content: found, where no location line said so, or
                // found again after a failure.
                EventKind::ClientInstallStarted { .. }
                    if !content_found || out.last().is_some_and(|&(_, m)| m == Mark::Failure) =>
                {
                    pending = false;
                    content_found = true;
                    Some(Mark::Success)
                }
                _ if pending && (is_error_line(e, i, quiet) || nonzero_exit(e)) => Some(Mark::Failure),
                _ => None,
            },
            PhaseId::InstallClient => match k {
                EventKind::ClientInstallStarted { .. } => Some(Mark::Start),
                EventKind::CcmsetupExit { code: 0 } => Some(Mark::Success),
                EventKind::CcmsetupExit { .. } => Some(Mark::Failure),
                _ => None,
            },
            PhaseId::RegistrationRequest => match k {
                EventKind::RegistrationStarted { .. } => Some(Mark::Start),
                EventKind::RegistrationRequested { .. } => Some(Mark::Success),
                _ => None,
            },
            PhaseId::RegistrationMp => match k {
                EventKind::MpRegistration { .. } => Some(Mark::Success),
                EventKind::RegistrationFailed { .. } => Some(Mark::Failure),
                _ => None,
            },
            PhaseId::RegistrationConfirmed => match k {
                EventKind::RegistrationRequested { .. } => {
                    pending = true;
                    Some(Mark::Start)
                }
                EventKind::Registered { .. } => {
                    pending = false;
                    Some(Mark::Success)
                }
                EventKind::RegistrationFailed { .. } => Some(Mark::Failure),
                _ if pending && is_error_line(e, i, quiet) => Some(Mark::Failure),
                _ => None,
            },
            PhaseId::RegistrationCcmToken => match k {
                EventKind::Registered { .. } => {
                    registered = true;
                    None
                }
                EventKind::CcmTokenRequested { .. } if registered => Some(Mark::Start),
                EventKind::CcmTokenCached { .. } if registered => Some(Mark::Success),
                EventKind::CcmTokenFailed { .. } if registered => Some(Mark::Failure),
                _ => None,
            },
            PhaseId::RenewalCcmToken => match k {
                // Only what follows the last expiry notice counts: restart on each one.
                EventKind::CcmTokenExpiring { .. } => {
                    out.clear();
                    Some(Mark::Start)
                }
                _ if out.is_empty() => None,
                EventKind::CcmTokenCached { .. } => Some(Mark::Success),
                EventKind::CcmTokenFailed { .. } => Some(Mark::Failure),
                _ if is_error_line(e, i, quiet) => Some(Mark::Failure),
                _ => None,
            },
        };
        if let Some(m) = mark {
            out.push((i, m));
        }
    }
    if id == PhaseId::RegistrationCcmToken && !registered {
        out.clear();
    }
    out
}

/// The status decided by the marks: `ok` when a success has no later failure, `failed` when a failure
/// has no later success, `missing` otherwise; with the deciding events and, for `failed`, every failure of
/// the attempt that failed, in order (the reason quotes one of them: `quoted_failure`).
fn decide(id: PhaseId, m: &[(EventIx, Mark)]) -> (PhaseStatus, Vec<EventIx>, Vec<EventIx>) {
    let last = |want: Mark| m.iter().rposition(|&(_, x)| x == want);
    let start_before = |pos: usize| m[..pos].iter().rev().find(|&&(_, x)| x == Mark::Start).map(|&(i, _)| i);
    let (s, f) = (last(Mark::Success), last(Mark::Failure));
    if id == PhaseId::RenewalCcmToken {
        // Ok as soon as the last expiry notice is followed by a cache; errors after it do not matter.
        if let Some(first_s) = m.iter().position(|&(_, x)| x == Mark::Success) {
            let mut ev: Vec<EventIx> = start_before(first_s).into_iter().collect();
            ev.push(m[first_s].0);
            return (PhaseStatus::Ok, ev, Vec::new());
        }
    }
    match (s, f) {
        (Some(s), f) if !matches!(f, Some(f) if f > s) => {
            let mut ev: Vec<EventIx> = start_before(s).into_iter().collect();
            ev.push(m[s].0);
            (PhaseStatus::Ok, ev, Vec::new())
        }
        (s, Some(_)) => {
            let after = s.map_or(0, |s| s + 1);
            let failures: Vec<usize> = m[after..]
                .iter()
                .enumerate()
                .filter(|(_, &(_, x))| x == Mark::Failure)
                .map(|(p, _)| p + after)
                .collect();
            // The attempt that failed: its start line, if it follows the last success.
            let start = m[after..failures[0]].iter().rev().find(|&&(_, x)| x == Mark::Start).map(|&(i, _)| i);
            let mut ev: Vec<EventIx> = start.into_iter().collect();
            ev.extend(failures.iter().take(FAILURE_EVIDENCE).map(|&p| m[p].0));
            (PhaseStatus::Failed, ev, failures.iter().map(|&p| m[p].0).collect())
        }
        _ => (PhaseStatus::Missing, last(Mark::Start).map(|p| m[p].0).into_iter().collect(), Vec::new()),
    }
}

/// The failure a failed step's reason quotes. The last failure of an attempt is often its consequence
/// (`CcmSetup failed with error code 0x80072f8f`), the first often noise that healthy runs log too
/// (`SetInitialCommandLine failed with 0x80070002`): quote the first failure that names one of the codes of the
/// last, where the error started (`[CCMHTTP] ERROR: ... Code=12175`, which is 0x80072F8F); the last when it
/// names no code or no earlier line shares one.
fn quoted_failure(ctx: &PhaseContext, failures: &[EventIx]) -> Option<EventIx> {
    let &last = failures.last()?;
    let codes = |i: EventIx| -> Vec<u32> {
        crate::codes::decode_message(&ctx.events[i].evidence.text().get())
            .iter()
            .filter_map(|m| m.value)
            .collect()
    };
    let final_codes = codes(last);
    if final_codes.is_empty() {
        return Some(last);
    }
    failures.iter().copied().find(|&i| codes(i).iter().any(|c| final_codes.contains(c))).or(Some(last))
}

/// The `LogSource` of a phase's log kind, from the hosts that would hold it.
fn collected_on(source_hosts: &[&HostFacts], kind: LogKind, on_client: bool) -> LogSource {
    let file = log_file_name(kind);
    let readable: Vec<&str> =
        source_hosts.iter().filter(|h| h.collected.contains(&kind)).map(|h| h.name.as_str()).collect();
    if !readable.is_empty() {
        return Ok(readable.join(", ").into());
    }
    let unreadable: Vec<&str> =
        source_hosts.iter().filter(|h| h.unreadable.contains(&kind)).map(|h| h.name.as_str()).collect();
    Err(if !unreadable.is_empty() {
        format!("{file} from {} could not be read", unreadable.join(", "))
    } else if on_client {
        let names: Vec<&str> = source_hosts.iter().map(|h| h.name.as_str()).collect();
        format!("{file} was not collected from client host {}", names.join(", "))
    } else {
        format!("{file} was not collected from any management point")
    }
    .into())
}

fn utc(ms: Option<i64>) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms?)
}

fn short(text: &str) -> String {
    let line = text.lines().next().unwrap_or("").trim();
    // A long line loses its URLs' query strings first (tenant ids, tokens), so that the code and the text
    // after the URL stay in the quote.
    let owned;
    let line = if line.chars().count() > 160 {
        owned = without_url_queries(line);
        owned.as_str()
    } else {
        line
    };
    if line.chars().count() > 160 {
        let cut: String = line.chars().take(157).collect();
        format!("{cut}...")
    } else {
        line.to_string()
    }
}

/// `line` with the query string of each URL (from `?` to the next blank, comma or quote) shown as `?…`.
fn without_url_queries(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(q) = rest.find('?') {
        let (before, after) = (&rest[..q], &rest[q + 1..]);
        out.push_str(before);
        let word = &before[before.rfind([' ', '=', '\'', '"']).map_or(0, |i| i + 1)..];
        if word.contains("://") {
            out.push_str("?…");
            rest = &after[after.find([' ', ',', '\'', '"']).unwrap_or(after.len())..];
        } else {
            out.push('?');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// The device's phases, in `PhaseId::ALL` order.
pub(crate) fn device_phases(
    ctx: &PhaseContext,
    device: &DeviceFacts,
    client_host_ids: &[HostIx],
) -> Vec<Phase> {
    // One note shared by the client phases of a device seen only on servers (most devices of a fleet
    // collection: their client logs were not collected).
    let no_client_logs: Option<SharedStr> = client_host_ids.is_empty().then(|| {
        let seen =
            if device.hosts().is_empty() { String::from("no host") } else { device.hosts().join(", ") };
        format!("no client logs were collected for this device (seen only on {seen})").into()
    });
    let quiet = quiet_errors(ctx, device);
    let mut phases: Vec<Phase> = PhaseId::ALL
        .iter()
        .map(|&id| phase(ctx, device, client_host_ids, &no_client_logs, &quiet, id))
        .collect();
    rotated_away(ctx, device, client_host_ids, &mut phases);
    phases
}

/// The first and last entry times of a log kind over the hosts that would hold it.
fn span_of(ctx: &PhaseContext, hosts: &[HostIx], kind: LogKind) -> (Option<i64>, Option<i64>) {
    let mut first: Option<i64> = None;
    let mut last: Option<i64> = None;
    for &h in hosts {
        for &(k, f, l) in &ctx.hosts[h].log_spans {
            if k == kind {
                crate::facts::widen_span((&mut first, &mut last), f, l);
            }
        }
    }
    (first, last)
}

fn at(ms: i64) -> String {
    utc(Some(ms)).map(|t| crate::model::format_utc(&t)).unwrap_or_default()
}

/// A step that no line shows is `not_collected`, not `missing`, when its log starts after the step was due:
/// a later step of the flow is already in the logs (the device went on past it, before the collection
/// begins), or, for the renewal, the token was not yet due when the log ends.
fn rotated_away(ctx: &PhaseContext, device: &DeviceFacts, client_hosts: &[HostIx], phases: &mut [Phase]) {
    for p in 0..phases.len() {
        if phases[p].status != PhaseStatus::Missing || !phases[p].evidence.is_empty() {
            continue;
        }
        let id = phases[p].id;
        let kind = phase_log(id);
        let (first, last) = if kind.role() == cmtrace_parsers::HostRole::Client {
            span_of(ctx, client_hosts, kind)
        } else {
            ctx.server_spans.iter().find(|(k, _)| *k == kind).map_or((None, None), |&(_, span)| span)
        };
        let file = log_file_name(kind);
        if id == PhaseId::RenewalCcmToken {
            // After a failed step the flow stopped before the renewal: `missing` says so.
            if phases.iter().any(|q| q.status == PhaseStatus::Failed) {
                continue;
            }
            // The last cached token's expiry (client local time, UTC = local + bias).
            let expiry = device.events.iter().rev().find_map(|&i| match &ctx.events[i].kind {
                EventKind::CcmTokenCached { expires_local: Some(t), .. } => {
                    let bias = ctx.events[i].bias_minutes().unwrap_or(0) as i64;
                    Some(t.and_utc().timestamp_millis() + bias * 60_000)
                }
                _ => None,
            });
            if let (Some(exp), Some(last)) = (expiry, last) {
                if exp > last {
                    phases[p].status = PhaseStatus::NotCollected;
                    phases[p].reason = format!(
                        "the CCM token is valid until {} and {file} ends at {}: no renewal was due yet",
                        at(exp),
                        at(last)
                    )
                    .into();
                }
            }
            continue;
        }
        // The registration log shows the installed client starting up and never a registration attempt:
        // it already had its identity, registered before the log begins.
        if matches!(
            id,
            PhaseId::RegistrationRequest | PhaseId::RegistrationConfirmed | PhaseId::RegistrationCcmToken
        ) {
            let in_log = |i: &&EventIx| ctx.events[**i].log_kind == kind;
            let startup = device
                .events
                .iter()
                .filter(in_log)
                .find(|&&i| matches!(ctx.events[i].kind, EventKind::ClientStartup { .. }));
            let attempt = device.events.iter().filter(in_log).any(|&i| {
                matches!(
                    ctx.events[i].kind,
                    EventKind::RegistrationStarted { .. }
                        | EventKind::RegistrationRequested { .. }
                        | EventKind::Registered { .. }
                        | EventKind::RegistrationFailed { .. }
                )
            });
            if let (Some(&s), false) = (startup, attempt) {
                let e = &ctx.events[s].evidence;
                phases[p].status = PhaseStatus::NotCollected;
                phases[p].reason = format!(
                    "{file} begins with the client already installed (line {}: {}) and shows no registration \
                     attempt: the client registered before the log begins, those lines rotated away",
                    e.line,
                    short(&e.text().get())
                )
                .into();
                continue;
            }
        }
        let Some(first) = first else { continue };
        // When the step was due at the latest: the start of the first later step the logs show.
        let due = phases[p + 1..]
            .iter()
            .filter(|q| matches!(q.status, PhaseStatus::Ok | PhaseStatus::Failed))
            .filter_map(|q| q.start.map(|t| (t.timestamp_millis(), q.id)))
            .min();
        if let Some((due, later)) = due {
            if first > due {
                phases[p].status = PhaseStatus::NotCollected;
                phases[p].reason = format!(
                    "{file} starts at {}, after '{}' at {}: the lines of this step rotated away",
                    at(first),
                    later.as_str(),
                    at(due)
                )
                .into();
            }
        }
    }
}

fn phase(
    ctx: &PhaseContext,
    device: &DeviceFacts,
    client_hosts: &[HostIx],
    no_client_logs: &Option<SharedStr>,
    quiet: &[EventIx],
    id: PhaseId,
) -> Phase {
    let kind = phase_log(id);
    let file = log_file_name(kind);
    let on_client = kind.role() == cmtrace_parsers::HostRole::Client;
    let without = |status: PhaseStatus, reason: SharedStr| Phase {
        id,
        status,
        start: None,
        end: None,
        reason,
        evidence: Box::default(),
    };

    // Was the log collected where this device's phase would be written? (Server logs: the same answer
    // for every device, worked out once.)
    let source = if on_client {
        match no_client_logs {
            Some(note) => Err(note.clone()),
            None => {
                let hosts: Vec<&HostFacts> = client_hosts.iter().map(|&h| &ctx.hosts[h]).collect();
                collected_on(&hosts, kind, true)
            }
        }
    } else {
        // Every server kind of a phase has its entry (`PhaseContext::new`).
        let (_, source) = ctx.server_sources.iter().find(|(k, _)| *k == kind).expect("server log kind");
        source.clone()
    };
    let where_ = match source {
        Ok(where_) => where_,
        // The path decides first: a step the path does not take is not applicable, collected or not.
        Err(_) if !device.path.includes(id) => {
            return without(PhaseStatus::NotApplicable, device.path.why_not(id).into())
        }
        Err(note) => return without(PhaseStatus::NotCollected, note),
    };

    let evs: Vec<EventIx> = device
        .events
        .iter()
        .copied()
        .filter(|&i| ctx.events[i].log_kind == kind)
        .filter(|&i| !on_client || client_hosts.contains(&ctx.event_host[i]))
        .collect();
    let m = marks(id, ctx, &evs, quiet, !device.path.includes(PhaseId::InstallCcmToken));
    if m.is_empty() && !device.path.includes(id) {
        return without(PhaseStatus::NotApplicable, device.path.why_not(id).into());
    }
    let (mut status, mut evidence, failures) = decide(id, &m);
    // A failed attempt that ccmsetup will retry is not final until ccmsetup exits for good; nor is the
    // bootstrapper's exit 0 (it hands over to the ccmsetup service) when the service then schedules a retry.
    let mut retrying: Option<EventIx> = None;
    let retry_applies = match id {
        PhaseId::InstallClient => matches!(status, PhaseStatus::Failed | PhaseStatus::Ok),
        PhaseId::InstallContent => status == PhaseStatus::Failed,
        _ => false,
    };
    if retry_applies {
        let last_exit = evidence.last().copied();
        retrying = evs.iter().copied().rev().find(|&i| {
            matches!(ctx.events[i].kind, EventKind::CcmsetupRetryScheduled { .. })
                && last_exit.is_some_and(|f| ctx.time_ms(i) >= ctx.time_ms(f) && i != f)
        });
        if let Some(r) = retrying {
            status = PhaseStatus::Missing;
            evidence.push(r);
        }
    }
    let what = phase_what(id);
    let cite = |i: EventIx| {
        format!("{}: {}", crate::path::cite(&ctx.events[i]), short(&ctx.events[i].evidence.text().get()))
    };
    let reason = match status {
        PhaseStatus::Ok => evidence.last().map(|&i| cite(i)).unwrap_or_else(|| format!("{what} done")),
        PhaseStatus::NotApplicable | PhaseStatus::NotCollected => String::new(),
        PhaseStatus::Failed => {
            let quoted = quoted_failure(ctx, &failures)
                .map(|i| short(&ctx.events[i].evidence.text().get()))
                .unwrap_or_default();
            format!("{what} failed in {file} on {where_}: {quoted}")
        }
        PhaseStatus::Missing if retrying.is_some() => format!(
            "{file} on {where_}: ccmsetup scheduled a retry after its last attempt ({}): not final until \
             ccmsetup exits",
            retrying.map(|i| short(&ctx.events[i].evidence.text().get())).unwrap_or_default()
        ),
        PhaseStatus::Missing if evidence.is_empty() => {
            let shared = ctx.server_missing.iter().find(|(p, _)| *p == id).filter(|_| !on_client);
            // `marks` keeps no token line from before the registration, so a registered client may have none.
            let registered = id == PhaseId::RegistrationCcmToken
                && evs.iter().any(|&i| matches!(ctx.events[i].kind, EventKind::Registered { .. }));
            return without(
                PhaseStatus::Missing,
                shared.map_or_else(|| missing_reason(id, &where_, registered).into(), |(_, r)| r.clone()),
            );
        }
        PhaseStatus::Missing => {
            format!("{file} on {where_} shows the {what} starting with no result and no error")
        }
    };
    let times = evidence.iter().filter_map(|&i| ctx.time_ms(i));
    let mut cited: Vec<EvidenceOut> = evidence.iter().map(|&i| EvidenceOut::from(&ctx.events[i])).collect();
    dedup_evidence(&mut cited);
    Phase {
        id,
        status,
        start: utc(times.clone().min()),
        end: utc(times.max()),
        reason: reason.into(),
        evidence: cited.into_boxed_slice(),
    }
}

/// Why a step no line shows is `missing`, its log read on `where_` (which shows the client `registered` or not).
fn missing_reason(id: PhaseId, where_: &str, registered: bool) -> String {
    let file = log_file_name(phase_log(id));
    match id {
        PhaseId::RegistrationCcmToken if registered => {
            format!("{file} on {where_} shows the client registered and no CCM token request after it")
        }
        PhaseId::RegistrationCcmToken => {
            format!("{file} on {where_} never shows the client registered, so no CCM token followed")
        }
        PhaseId::RenewalCcmToken => format!("{file} on {where_} shows no expiring CCM token to renew"),
        PhaseId::RegistrationMp => format!("{file} on {where_} shows no registration of this device"),
        _ => format!("{file} on {where_} shows no {}", phase_what(id)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_quotes_lose_url_queries_before_their_end() {
        let line =
            "[CCMHTTP] ERROR: URL=https://CONTOSOCMG.CLOUDAPP.NET/CCM_Proxy_ServerAuth/AADAuthInfo?TenantID=\
                    2ca9a796-a1a6-43ec-88f1-5935b32155c5, Port=443, Options=224, Code=12175, \
                    Text=ERROR_WINHTTP_SECURE_FAILURE";
        assert_eq!(
            short(line),
            "[CCMHTTP] ERROR: URL=https://CONTOSOCMG.CLOUDAPP.NET/CCM_Proxy_ServerAuth/AADAuthInfo?…, Port=443, \
             Options=224, Code=12175, Text=ERROR_WINHTTP_SECURE_FAILURE"
        );
        // A question mark outside a URL stays; a short line is kept whole, query and all.
        assert_eq!(without_url_queries("why? 'http://a/b?c=d' end?"), "why? 'http://a/b?…' end?");
        assert_eq!(short("GET http://a/b?c=d"), "GET http://a/b?c=d");
        let long = format!("{} end", "x".repeat(200));
        assert_eq!(short(&long).chars().count(), 160);
    }
}

#[cfg(test)]
#[path = "phases_tests.rs"]
mod mutation_tests;
