//! The diagnostic rules: the one table of the catalog (`RULES`), the types a rule is made of (`Rule`,
//! `Check`, `Hit`, `Explained`) and the helpers the families share. Each rule is a small function over the
//! engine's `Analysis`, written in its family's module beside its catalog text (id, severity, title,
//! explanation and remediation: Microsoft's documented fixes).
//!
//! Rules reason on the flow, not on single lines, and root causes come first: the table is evaluated in
//! order, and every hit says which of its device's phases it explains. Rules that conclude from absence
//! (`tenant-not-onboarded`, `flow-incomplete`) stay silent where a root cause already explains the phases.
//! Consequence rules (`aad-token-unavailable`, `ccm-token-failed`, `ccm-token-renewal-failed`,
//! `registration-failed`, `install-failed`) still report the failed step (a fact CI keys on), after the root
//! cause, and name it in their explanation ("Caused by: root-ca-untrusted").
//!
//! Never silent: a consequence rule's failure that no root cause explains cites the device's error lines
//! that precede it in that attempt (after the last `ccmsetup started in process N` / registration start /
//! token request of the same log), most telling first (the line with the failure's own code, then error
//! lines with codes, then the others; healthy-machine noise such as WMI 0x8004100E last), up to four, and
//! says in one sentence what they show, with the fix of their class in the failure catalog (`causes`); the
//! finding's `cause` is that class.
//!
//! | rule | evidence |
//! |---|---|
//! | root-ca-untrusted | client `WINHTTP_CALLBACK_STATUS_FLAG_INVALID_CA`, `CERT_E_UNTRUSTEDROOT`, `Code=12045` |
//! | crl-check-failed | client `FLAG_CERT_REV_FAILED`, `0x80092013`, `Code=12057`; connector `OfflineRevocation` |
//! | cmg-cert-name-mismatch | client `WINHTTP_CALLBACK_STATUS_FLAG_CERT_CN_INVALID`, `0x80072f06`, `Code=12038`, `CERT_E_CN_NO_MATCH` |
//! | cmg-connector-client-cert (added) | `403 CMGConnector_Clientcertificaterequired`, `Filtered cert count with client auth: 0` |
//! | cmg-connector-forbidden (added) | `403 CMGConnector_Forbidden` |
//! | wpj-cert-missing | device token fails as not joined (`0x800703f0`, `IWebAuthenticationCoreManagerStatics4 not available`) and no token at all |
//! | aad-device-token-fallback | device token failure, then a user token |
//! | aad-token-unavailable | a token phase failed: neither device nor user token |
//! | tenant-not-onboarded | `Getting AAD info from CMG` and no token request after it |
//! | aad-token-rejected | CCM_STS `Return code: 401`, `IDX...`, `MISE...`, exceptions; client `CMGService_Invalid_Token` |
//! | ccm-token-failed | a CCM token phase failed (`RetrieveTokenFromStsServerImpl failed`, ...) |
//! | ccm-token-renewal-failed | `CCM Token ... is already expired or close to expire` with no new token |
//! | registration-failed | the MP or the client rejected / never confirmed registration |
//! | registration-not-approved | `Approval status N` with N not 1 (approved) or 3 (Entra ID); `Client registration is pending` |
//! | install-failed | `CcmSetup is exiting with return code N` / `CcmSetup failed with error code` (not when a retry is scheduled after it) |
//! | pki-cert-preferred | ccmsetup chose a PKI client certificate |
//! | tenant-mismatch | the client's tenant (AADAuthInfo) differs from the tenant the site validated |
//! | clock-skew | the engine's host offset beyond 2 minutes, with its causal pairs |
//! | duplicate-client-id | one SMS GUID in the client logs of several hosts active at the same time |
//! | flow-incomplete | the flow stops with no error after the last step reached; evidence: that step |
//!
//! | module | what it owns |
//! |---|---|
//! | `certificates` | the client's TLS checks of the CMG / MP server certificate (root CA, CRL, name) |
//! | `connector` | the CMG connection point's hop to the management point (403s) |
//! | `entra` | Entra ID tokens and tenants on the client (join state, fallback, onboarding, tenant) |
//! | `ccm_token` | the CCM token from CCM_STS: rejected Entra ID tokens, failed requests and renewals |
//! | `registration` | registration with the site: failure, approval, one identity per client |
//! | `install` | ccmsetup's outcome and the certificate it chose |
//! | `flow` | the flow as a whole: clocks across hosts, a flow that stops with no error |
//! | `story` | never silent: the error lines before a failure no root cause explains |
//! | `evaluation` | `evaluate`: the catalog run over an analysis, hits made findings |
//! | `testing` (tests only) | the catalog run over a `testkit` flow, for each family's unit tests |

mod ccm_token;
mod certificates;
mod connector;
mod entra;
mod evaluation;
mod flow;
mod install;
mod registration;
mod story;
#[cfg(test)]
mod testing;

pub use evaluation::evaluate;

use std::collections::{BTreeMap, BTreeSet};

use cmtrace_parsers::{EventKind, HostRole, LogKind, Severity};

// What the rules read of the engine and its per-device data, imported here once: the families take it
// from `super`.
#[cfg(test)]
use crate::engine::analyze;
use crate::facts::Analysis;
use crate::index::{DeviceIx, EventIx};
use crate::model::{dedup_evidence, EvidenceOut, Finding, Phase, PhaseId, PhaseStatus};
use crate::phases::log_file_name;
use crate::skew::SKEW_APPLY_THRESHOLD_MS;

/// What one rule found.
pub struct Hit {
    /// The device it is about, if one.
    pub device: Option<DeviceIx>,
    /// The host it is about, if one.
    pub host: Option<String>,
    /// The events that prove it, in time order.
    pub evidence: Vec<EventIx>,
    /// Overrides the rule's title when the hit can say more.
    pub title: Option<String>,
    /// Facts of this case, put before the rule's general explanation.
    pub facts: String,
    /// The device's phases this hit explains (symptom rules skip explained phases).
    pub explains: Vec<PhaseId>,
    /// The root-cause rules this hit is a consequence of, as its facts name them ("Caused by: x").
    pub causes: Vec<&'static str>,
}

/// Where an attempt of a rule's step starts in a log: the line's event (see `Rule::story`).
pub type AttemptStart = fn(&EventKind) -> bool;

/// One rule of the catalog.
pub struct Rule {
    /// Stable id (`root-ca-untrusted`), the `rule` of a finding.
    pub id: &'static str,
    /// How bad a finding of the rule is.
    pub severity: Severity,
    /// One line.
    pub title: &'static str,
    /// What it means, in general.
    pub explanation: &'static str,
    /// The fix.
    pub remediation: &'static str,
    /// Concludes from absence: skipped where a root cause already explains the phases it would report.
    pub symptom: bool,
    /// Never silent (a consequence rule): when no root cause explains its failure, the finding cites the
    /// device's error lines before it in that attempt and says what they show. The function says where an
    /// attempt of the rule's step starts in a log (`story::attempt_starts_*`).
    pub story: Option<AttemptStart>,
    /// The fix of the IdentityModel error (IDX...) its evidence names is put before its own.
    pub idx_fix_first: bool,
    /// The function that finds its cases.
    pub check: Check,
}

/// A rule's check: on the analysis alone (these run in parallel), or also on what the rules before it
/// explained (these run in catalog order, after them).
#[derive(Clone, Copy)]
pub enum Check {
    /// Runs on the analysis alone.
    Alone(fn(&Analysis) -> Vec<Hit>),
    /// Runs after the rules before it, knowing what they explained.
    AfterCauses(fn(&Analysis, &Explained) -> Vec<Hit>),
}

/// Phases explained so far, per device.
#[derive(Default)]
pub struct Explained {
    by_device: BTreeMap<DeviceIx, BTreeMap<PhaseId, &'static str>>,
}

impl Explained {
    /// The rule that explained `phase` of `device`, if one did.
    pub fn by(&self, device: DeviceIx, phase: PhaseId) -> Option<&'static str> {
        self.by_device.get(&device).and_then(|m| m.get(&phase)).copied()
    }
    fn any(&self, device: DeviceIx) -> Vec<&'static str> {
        let set: BTreeSet<&str> =
            self.by_device.get(&device).map(|m| m.values().copied().collect()).unwrap_or_default();
        set.into_iter().collect()
    }
}

/// The catalog, in evaluation order (root causes first).
pub static RULES: &[Rule] = &[
    certificates::ROOT_CA_UNTRUSTED,
    certificates::CRL_CHECK_FAILED,
    certificates::CMG_CERT_NAME_MISMATCH,
    connector::CMG_CONNECTOR_CLIENT_CERT,
    connector::CMG_CONNECTOR_FORBIDDEN,
    entra::WPJ_CERT_MISSING,
    entra::AAD_DEVICE_TOKEN_FALLBACK,
    entra::TENANT_NOT_ONBOARDED,
    entra::AAD_TOKEN_UNAVAILABLE,
    ccm_token::AAD_TOKEN_REJECTED,
    ccm_token::CCM_TOKEN_FAILED,
    ccm_token::CCM_TOKEN_RENEWAL_FAILED,
    registration::REGISTRATION_FAILED,
    registration::REGISTRATION_NOT_APPROVED,
    install::INSTALL_FAILED,
    install::PKI_CERT_PREFERRED,
    entra::TENANT_MISMATCH,
    flow::CLOCK_SKEW,
    registration::DUPLICATE_CLIENT_ID,
    flow::FLOW_INCOMPLETE,
];

// ---- helpers shared by the families ----------------------------------------------------------------------

fn device_events(a: &Analysis, d: DeviceIx) -> &[EventIx] {
    &a.devices[d].events
}

fn is_client_log(k: LogKind) -> bool {
    k.role() == HostRole::Client || k == LogKind::Other
}

fn host_of(a: &Analysis, i: EventIx) -> String {
    a.events[i].evidence.host().to_string()
}

/// Failed or missing phases of a device (what a root cause explains).
fn broken_phases(a: &Analysis, d: DeviceIx) -> Vec<PhaseId> {
    a.devices[d]
        .phases
        .iter()
        .filter(|p| matches!(p.status, PhaseStatus::Failed | PhaseStatus::Missing))
        .map(|p| p.id)
        .collect()
}

fn phase_status(a: &Analysis, d: DeviceIx, id: PhaseId) -> Option<PhaseStatus> {
    a.devices[d].phase(id).map(|p| p.status)
}

fn first_n(mut v: Vec<EventIx>, n: usize) -> Vec<EventIx> {
    v.truncate(n);
    v
}

/// Whom a group of lines is about: a device, or the host of lines no device could be tied to. Devices
/// sort first, by number, then hosts by name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Subject {
    Device(DeviceIx),
    Host(String),
}

/// Hits for events matching `pred`, grouped per device (or per host for unattributed server events).
fn per_device_events(
    a: &Analysis,
    pred: impl Fn(&EventKind, LogKind) -> bool,
) -> BTreeMap<Subject, Vec<EventIx>> {
    let mut m: BTreeMap<Subject, Vec<EventIx>> = BTreeMap::new();
    for (i, e) in a.events.iter_enumerated() {
        if pred(&e.kind, e.log_kind) {
            let key = match a.event_device[i] {
                Some(d) => Subject::Device(d),
                None => Subject::Host(e.evidence.host().to_string()),
            };
            m.entry(key).or_default().push(i);
        }
    }
    m
}

fn cert_flag(k: &EventKind, flags: &[&str]) -> bool {
    matches!(k, EventKind::CertificateError { flag, .. } if flags.contains(&flag.as_str()))
}

fn http_text(k: &EventKind, text: &str) -> bool {
    match k {
        EventKind::HttpError { text: Some(t), .. } => t.eq_ignore_ascii_case(text),
        EventKind::ProxyRequest { status_text: Some(t), .. } => t.contains(text),
        _ => false,
    }
}

fn grouped_hits(a: &Analysis, evs: BTreeMap<Subject, Vec<EventIx>>, what: &str, explain: bool) -> Vec<Hit> {
    evs.into_iter()
        .map(|(key, evs)| {
            let first = evs[0];
            let (device, host) = match &key {
                Subject::Device(d) => (Some(*d), host_of(a, first)),
                Subject::Host(h) => (None, h.clone()),
            };
            Hit {
                device,
                host: Some(host.clone()),
                facts: format!("{host}: {what} ({} line(s)).", evs.len()),
                evidence: first_n(evs, 4),
                title: None,
                explains: match (device, explain) {
                    (Some(d), true) => broken_phases(a, d),
                    _ => Vec::new(),
                },
                causes: Vec::new(),
            }
        })
        .collect()
}

fn failed_phase_hits(
    a: &Analysis,
    ex: &Explained,
    phases: &[PhaseId],
    what: &str,
    extra: impl Fn(&EventKind) -> bool,
) -> Vec<Hit> {
    let mut hits = Vec::new();
    for d in a.devices.keys() {
        for &ph in phases {
            if phase_status(a, d, ph) != Some(PhaseStatus::Failed) {
                continue;
            }
            let phase = a.devices[d].phase(ph).expect("status known");
            // Evidence: the events of the phase's log that show the failure.
            let mut ev: Vec<EventIx> = device_events(a, d)
                .iter()
                .copied()
                .filter(|&i| {
                    let e = &a.events[i];
                    extra(&e.kind) && phase.evidence.iter().any(|pe| pe.path == *e.evidence.path())
                })
                .collect();
            if ev.is_empty() {
                ev = device_events(a, d)
                    .iter()
                    .copied()
                    .filter(|&i| {
                        phase.evidence.iter().any(|pe| {
                            pe.path == *a.events[i].evidence.path() && pe.line == a.events[i].evidence.line
                        })
                    })
                    .collect();
            }
            if ev.is_empty() {
                continue;
            }
            // The last attempts prove the step never succeeded (earlier ones may have been retried).
            let ev: Vec<EventIx> = ev[ev.len().saturating_sub(4)..].to_vec();
            let cause = ex.by(d, ph);
            hits.push(Hit {
                device: Some(d),
                host: Some(host_of(a, ev[0])),
                facts: format!(
                    "{}: {} ({}).{}",
                    host_of(a, ev[0]),
                    what,
                    &phase.reason,
                    match cause {
                        Some(c) => format!(" Caused by: {c} (see that finding)."),
                        None => String::new(),
                    }
                ),
                evidence: ev,
                title: None,
                explains: vec![ph],
                causes: cause.into_iter().collect(),
            });
            break;
        }
    }
    hits
}

/// The device's last event of a kind.
fn last_event(a: &Analysis, d: DeviceIx, pred: impl Fn(&EventKind) -> bool) -> Option<EventIx> {
    device_events(a, d).iter().rev().copied().find(|&i| pred(&a.events[i].kind))
}
