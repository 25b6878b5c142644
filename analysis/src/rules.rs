//! The diagnostic rules: one table (`RULES`), each rule a small function over the engine's `Analysis`
//! with its id, severity, title, explanation and remediation (Microsoft's documented fixes).
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

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use cmtrace_parsers::{AadTokenKind, EventKind, HostRole, LogKind, Severity, SharedStr};

use rayon::prelude::*;

use crate::causes::{self, Class};
use crate::engine::Analysis;
use crate::model::{dedup_evidence, EvidenceOut, Finding, PhaseId, PhaseStatus};
use crate::skew::SKEW_APPLY_THRESHOLD_MS;

/// What one rule found.
pub struct Hit {
    pub device: Option<usize>,
    pub host: Option<String>,
    /// Event indices (into `Analysis::events`) that prove it, in time order.
    pub evidence: Vec<usize>,
    /// Overrides the rule's title when the hit can say more.
    pub title: Option<String>,
    /// Facts of this case, put before the rule's general explanation.
    pub facts: String,
    /// The device's phases this hit explains (symptom rules skip explained phases).
    pub explains: Vec<PhaseId>,
    /// The root-cause rules this hit is a consequence of, as its facts name them ("Caused by: x").
    pub causes: Vec<&'static str>,
}

/// One rule of the catalog.
pub struct Rule {
    pub id: &'static str,
    pub severity: Severity,
    pub title: &'static str,
    pub explanation: &'static str,
    pub remediation: &'static str,
    /// Concludes from absence: skipped where a root cause already explains the phases it would report.
    pub symptom: bool,
    pub check: Check,
}

/// A rule's check: on the analysis alone (these run in parallel), or also on what the rules before it
/// explained (these run in catalog order, after them).
#[derive(Clone, Copy)]
pub enum Check {
    Alone(fn(&Analysis) -> Vec<Hit>),
    AfterCauses(fn(&Analysis, &Explained) -> Vec<Hit>),
}

/// Phases explained so far, per device.
#[derive(Default)]
pub struct Explained {
    by_device: BTreeMap<usize, BTreeMap<PhaseId, &'static str>>,
}

impl Explained {
    pub fn by(&self, device: usize, phase: PhaseId) -> Option<&'static str> {
        self.by_device.get(&device).and_then(|m| m.get(&phase)).copied()
    }
    fn any(&self, device: usize) -> Vec<&'static str> {
        let set: BTreeSet<&str> =
            self.by_device.get(&device).map(|m| m.values().copied().collect()).unwrap_or_default();
        set.into_iter().collect()
    }
}

/// The catalog, in evaluation order (root causes first).
pub static RULES: &[Rule] = &[
    Rule {
        id: "root-ca-untrusted",
        severity: Severity::Error,
        title: "The client does not trust the root CA of the CMG / MP server certificate",
        explanation: "The client could not chain the server authentication certificate of the cloud management gateway \
(or management point) to a trusted root certification authority (WINHTTP_CALLBACK_STATUS_FLAG_INVALID_CA / \
CERT_E_UNTRUSTEDROOT). The TLS connection is refused before any request reaches the CMG, so the CMG, the connection \
point and the management point log nothing for this client. Entra ID authentication does not remove this need: the \
token authenticates the client to the CMG, not the CMG to the client.",
        remediation: "Import the root CA (and any intermediate CA) certificate of the CMG server authentication certificate \
into the device's Local Computer 'Trusted Root Certification Authorities' (and 'Intermediate Certification Authorities') \
store, e.g. by Intune or GPO, or use a CMG certificate from a public CA that Windows trusts. Check what the CMG presents \
at https://<CMG FQDN>/CCM_Proxy_MutualAuth/ServiceMetadata.",
        symptom: false,
        check: Check::Alone(check_root_ca),
    },
    Rule {
        id: "crl-check-failed",
        severity: Severity::Error,
        title: "Certificate revocation could not be checked (CRL not reachable)",
        explanation: "Revocation checking is enabled, and the certificate revocation list (CRL) of the server certificate \
could not be retrieved (WINHTTP_CALLBACK_STATUS_FLAG_CERT_REV_FAILED / CRYPT_E_REVOCATION_OFFLINE 0x80092013), so \
the TLS connection is refused. An internet client can only check a CRL that is published on the internet.",
        remediation: "Publish the CRL of the issuing CA on the internet; or install the client with ccmsetup /NoCRLCheck \
(bootstrap only); or clear 'Clients check the certificate revocation list (CRL) for site systems' on the site's \
Communication Security tab. On the CMG connection point, make the CRL of the MP certificate chain reachable.",
        symptom: false,
        check: Check::Alone(check_crl),
    },
    Rule {
        id: "cmg-cert-name-mismatch",
        severity: Severity::Error,
        title: "The CMG / MP server certificate's name does not match the host name the client used",
        explanation: "The server authentication certificate presented for the cloud management gateway (or management point) \
does not hold the host name the client connected to in its subject or subject alternative names \
(WINHTTP_CALLBACK_STATUS_FLAG_CERT_CN_INVALID / ERROR_WINHTTP_SECURE_CERT_CN_INVALID 0x80072F06 / CERT_E_CN_NO_MATCH \
0x800B010F): the client refuses the TLS connection, so the CMG, the connection point and the management point log nothing \
for it.",
        remediation: "Make the CMG server authentication certificate's subject / SAN hold the CMG service name the client uses \
(the FQDN in CCMHOSTNAME or the internet MP list, e.g. GraniteFalls.contoso.com, not the <name>.cloudapp.net deployment name \
unless that is the service name); check what the CMG presents at https://<CMG FQDN>/CCM_Proxy_MutualAuth/ServiceMetadata. A \
TLS-inspecting proxy that presents its own certificate for the CMG must bypass it. For an MP, the certificate must name the \
MP's FQDN as the client addresses it.",
        symptom: false,
        check: Check::Alone(check_cert_name),
    },
    Rule {
        id: "cmg-connector-client-cert",
        severity: Severity::Error,
        title: "The CMG connection point has no valid client authentication certificate for the HTTPS management point",
        explanation: "The management point requires a client certificate from the CMG connection point; the connection \
point relays the request without one and the MP answers 403 (CMGConnector_Clientcertificaterequired). Clients see \
0x87d0027e (bad HTTP status) for every request through the CMG.",
        remediation: "Issue a PKI client authentication certificate (unique subject/SAN, private key, chaining to a root the \
MP trusts, CRL reachable) to the site system that hosts the CMG connection point, or switch the MP to enhanced HTTP with \
token authentication. Verbose SMS_CLOUD_PROXYCONNECTOR.log shows 'Filtered cert count with client auth:'.",
        symptom: false,
        check: Check::Alone(check_connector_client_cert),
    },
    Rule {
        id: "cmg-connector-forbidden",
        severity: Severity::Error,
        title: "The management point refused CMG traffic (403 CMGConnector_Forbidden)",
        explanation: "The MP's IIS returned 403 to the CMG connection point: the IIS 443 binding or certificate does not match \
the MP's mode (HTTPS versus enhanced HTTP), or the MP does not allow CMG traffic.",
        remediation: "Bind the 'SMS Role SSL Certificate' (enhanced HTTP) or a valid PKI server authentication certificate \
(HTTPS) to the Default Web Site on port 443, and enable 'Allow Configuration Manager cloud management gateway traffic' \
on the management point role.",
        symptom: false,
        check: Check::Alone(check_connector_forbidden),
    },
    Rule {
        id: "wpj-cert-missing",
        severity: Severity::Error,
        title: "No Entra ID device token: the device is not Entra ID joined (no workplace-join certificate)",
        explanation: "The device token request failed the way it does when the device has no workplace-join (WPJ) \
certificate, i.e. it is not Entra ID (or hybrid) joined, and no user token could be used either. Without a token the \
client cannot use the CCM_STS channel.",
        remediation: "Run 'dsregcmd /status' on the device: Device State must show 'AzureAdJoined : YES'. Join or hybrid-join \
the device (Entra Connect device sync for hybrid), make sure the server (web) app in Azure Services allows device \
tokens, or have a valid Entra ID user signed in for the user-token fallback.",
        symptom: false,
        check: Check::Alone(check_wpj),
    },
    Rule {
        id: "aad-device-token-fallback",
        severity: Severity::Warning,
        title: "The Entra ID device token failed; the client fell back to a user token",
        explanation: "The device token request failed and the client used the signed-in user's token instead. The flow \
went on, but it depends on a user being signed in: unattended devices (no user) will fail the same step.",
        remediation: "Check 'dsregcmd /status' (AzureAdJoined : YES, a valid device PRT); enable device tokens on the \
server (web) app registration in Azure Services; a NTE_BAD_KEYSET-like error (0xd0090016 / 0x80090016) points at a lost \
device key (TPM cleared, reimaged or repaired device): rejoin the device.",
        symptom: false,
        check: Check::Alone(check_fallback),
    },
    Rule {
        id: "tenant-not-onboarded",
        severity: Severity::Error,
        title: "The CMG gave no Entra ID app info for the device's tenant",
        explanation: "ccmsetup asked the CMG for the Entra ID app information (AADAuthInfo) of the device's tenant and never \
went on to request a token: the CMG returns AADCLIENTAPPID / AADRESOURCEURI only for tenants onboarded in \
Configuration Manager. (No log text for this failure is documented: this is concluded from the flow stopping there.)",
        remediation: "Onboard the tenant in the Configuration Manager console: Administration > Cloud Services > Azure Services \
> Cloud Management, with the server and client app registrations; or pass AADTENANTID, AADCLIENTAPPID and AADRESOURCEURI \
on the ccmsetup command line.",
        symptom: true,
        check: Check::AfterCauses(check_tenant_not_onboarded),
    },
    Rule {
        id: "aad-token-unavailable",
        severity: Severity::Error,
        title: "Neither an Entra ID device token nor a user token could be obtained",
        explanation: "The token request failed and no fallback succeeded, so the client has no Entra ID token and stops \
(ccmsetup does not continue without a token unless a PKI client certificate exists).",
        remediation: "Fix the device token first ('dsregcmd /status': AzureAdJoined : YES; device tokens enabled on the \
server app), or sign in with a valid Entra ID user. Check the app registrations' App ID URI (AADSTS50001) and that the \
client app has the redirect URI ms-appx-web://Microsoft.AAD.BrokerPlugin/<client app id>.",
        symptom: false,
        check: Check::AfterCauses(check_token_unavailable),
    },
    Rule {
        id: "aad-token-rejected",
        severity: Severity::Error,
        title: "The management point's CCM_STS did not accept the Entra ID token",
        explanation: "CCM_STS (or the CMG in front of it) rejected the token presented by the client instead of issuing a CCM \
token: expired token (IDX10223), failed validation, an exception in CCM_STS, or the MP could not reach Entra ID (MISE).",
        remediation: "Read the CCM_STS.log lines below. IDX10223 / CMGService_Invalid_Token: the (pre-auth or bulk \
registration) token expired: reinstall with a new token (BulkRegistrationTokenTool.exe /new) or connect the client to an \
internal MP. MISE12034: give the MP internet access to Entra ID endpoints (Local System WinINET proxy). FileLoadException \
for System.IdentityModel.Tokens.JWT (2006): copy the DLL to SMS_CCM\\CCM_STS\\bin. Also check device and MP clocks.",
        symptom: false,
        check: Check::Alone(check_token_rejected),
    },
    Rule {
        id: "ccm-token-failed",
        severity: Severity::Error,
        title: "The client could not get a CCM token",
        explanation: "The client had an Entra ID token but did not get a CCM (site) token from CCM_STS through the CMG. Without \
it every request through the CMG is unauthenticated.",
        remediation: "Follow the request through the hops: CMGService.log (RequestUri .../CCM_STS), SMS_CLOUD_PROXYCONNECTOR.log \
('Switched to internal URL', the HTTP status), CCM_STS.log on the MP. A 401 CMGConnector_Unauthorized with no CCM_STS.log \
line points at an IIS redirect on the MP's Default Web Site; a 500 at a CCM_STS exception.",
        symptom: false,
        check: Check::AfterCauses(check_ccm_token_failed),
    },
    Rule {
        id: "ccm-token-renewal-failed",
        severity: Severity::Error,
        title: "An expired or expiring CCM token was not renewed",
        explanation: "CcmMessaging found the CCM token (8-hour lifetime) expired or close to expiry and requested a new one, \
but no new token was cached: the client's requests through the CMG will fail until a renewal succeeds.",
        remediation: "Check the renewal request's path (CMGService.log, SMS_CLOUD_PROXYCONNECTOR.log, CCM_STS.log) for the \
status it got; confirm the device still gets Entra ID tokens ('dsregcmd /status') and that the device and MP clocks agree.",
        symptom: false,
        check: Check::AfterCauses(check_renewal_failed),
    },
    Rule {
        id: "registration-failed",
        severity: Severity::Error,
        title: "Client registration was rejected or never confirmed",
        explanation: "The client asked to register but did not get a confirmed registration (Server assigned ClientID).",
        remediation: "Read MP_RegistrationManager.log on the MP for the request's outcome. SetRegistrationState failed \
(0x80071770): the registration state could not be encrypted (known cng.sys issue: update the OS). 0x87d00231: the Entra ID \
user is not in the site database (configure Entra ID user discovery and the app's API permissions).",
        symptom: false,
        check: Check::AfterCauses(check_registration_failed),
    },
    Rule {
        id: "registration-not-approved",
        severity: Severity::Warning,
        title: "The client is registered but not approved",
        explanation: "Registration succeeded with an approval status other than 1 (approved) or 3 (Entra ID-based \
registration). Unapproved clients get no policy. (Approval status 0 and 2 are not documented; 0 is read as not approved.)",
        remediation: "Approve the device in the console (Assets and Compliance > Devices > Approve), or review the hierarchy's \
client approval setting (Hierarchy Settings > Client Approval and Conflicting Records).",
        symptom: false,
        check: Check::Alone(check_not_approved),
    },
    Rule {
        id: "install-failed",
        severity: Severity::Error,
        title: "ccmsetup exited with a non-zero return code",
        explanation: "ccmsetup.exe ended with a failure code (0 success, 6 error, 7 reboot required, 8 setup already running, \
9 prerequisite evaluation failure, 10 setup manifest hash validation failure; anything else is an HRESULT).",
        remediation: "Read ccmsetup.log before the exit line for the step that failed (the error lines below), fix it, then rerun \
ccmsetup. Return code 7: restart the device; 8: wait for the running setup; 9: check the prerequisite lines in \
ccmsetup.log; 10: download fresh client source files; an HRESULT: look it up (cmtrace-rs error <code>).",
        symptom: false,
        check: Check::AfterCauses(check_install_failed),
    },
    Rule {
        id: "pki-cert-preferred",
        severity: Severity::Info,
        title: "A PKI client certificate was used instead of Entra ID",
        explanation: "ccmsetup found a valid PKI client authentication certificate and used it: the client installs as a PKI \
client and does not use Entra ID authentication.",
        remediation: "Nothing to fix if PKI is intended. To use Entra ID, remove the client authentication certificate or \
deploy without it.",
        symptom: false,
        check: Check::Alone(check_pki),
    },
    Rule {
        id: "tenant-mismatch",
        severity: Severity::Warning,
        title: "The client's tenant differs from the tenant the site validated",
        explanation: "The client asked the CMG for the app info of one Entra ID tenant, while the management point validated or \
registered the device with another. Tokens for one tenant are not valid for the other.",
        remediation: "Check which tenant the device is joined to ('dsregcmd /status': TenantId) and which tenants are onboarded \
in Azure Services (Cloud Management); onboard the device's tenant or pass the right AADTENANTID to ccmsetup.",
        symptom: false,
        check: Check::Alone(check_tenant_mismatch),
    },
    Rule {
        id: "clock-skew",
        severity: Severity::Warning,
        title: "A host's clock disagrees with causality across hosts by more than 2 minutes",
        explanation: "Pairs of lines that must happen in order across hosts (a client requests a CCM token before the MP issues \
it; a token expires 8 hours after it is issued) only line up if this host's clock is shifted. Token lifetime validation \
(IDX10222/IDX10223) fails when device and MP clocks disagree.",
        remediation: "Fix the host's time: check 'w32tm /query /status', the time zone, and the NTP source; for Entra joined \
devices, make sure time sync is allowed. The timeline of this report is corrected by the estimated offset.",
        symptom: false,
        check: Check::Alone(check_clock_skew),
    },
    Rule {
        id: "duplicate-client-id",
        severity: Severity::Error,
        title: "One SMS client GUID is used by several client hosts at the same time",
        explanation: "Each ConfigMgr client has its own SMS GUID (its identity at the site). Here several computers present the \
same GUID while all of them are active: they were cloned from an image that still held the client's identity (SMSCFG.INI \
and the client certificates in the SMS store were not removed before capture), or a certificate store was copied. The site \
sees one client where there are several: policy, inventory and status of one overwrite the others.",
        remediation: "Remove the ConfigMgr client identity from the image before capture (run the task sequence's Prepare \
ConfigMgr Client step, or delete %WINDIR%\\SMSCFG.INI and the SMS certificates from the 'SMS' store), then on each affected \
computer reset the identity (delete SMSCFG.INI and the SMS certificates, restart ccmexec) so it registers with a new GUID; \
delete the duplicate record in the console.",
        symptom: false,
        check: Check::Alone(check_duplicate_client_id),
    },
    Rule {
        id: "flow-incomplete",
        severity: Severity::Warning,
        title: "The flow stops with no error logged",
        explanation: "The logs of this device end after the phase below, with no error and no later step, although the log that \
would show the next step was collected. The client may still be working (logs collected too early), or may be stuck.",
        remediation: "Collect the logs again after a while; if the flow is still stopped there, check network reachability of \
the CMG (443) from the device and the services (ccmsetup, CcmExec) on it.",
        symptom: true,
        check: Check::AfterCauses(check_flow_incomplete),
    },
];

// ---- helpers --------------------------------------------------------------------------------------------

fn device_events(a: &Analysis, d: usize) -> &[usize] {
    &a.devices[d].events
}

fn is_client_log(k: LogKind) -> bool {
    k.role() == HostRole::Client || k == LogKind::Other
}

fn host_of(a: &Analysis, i: usize) -> String {
    a.events[i].evidence.host.to_string()
}

/// Failed or missing phases of a device (what a root cause explains).
fn broken_phases(a: &Analysis, d: usize) -> Vec<PhaseId> {
    a.devices[d]
        .phases
        .iter()
        .filter(|p| matches!(p.status, PhaseStatus::Failed | PhaseStatus::Missing))
        .map(|p| p.id)
        .collect()
}

fn phase_status(a: &Analysis, d: usize, id: PhaseId) -> Option<PhaseStatus> {
    a.devices[d].phase(id).map(|p| p.status)
}

fn first_n(mut v: Vec<usize>, n: usize) -> Vec<usize> {
    v.truncate(n);
    v
}

/// Hits for events matching `pred`, grouped per device (or per host for unattributed server events).
fn per_device_events(
    a: &Analysis,
    pred: impl Fn(&EventKind, LogKind) -> bool,
) -> BTreeMap<Result<usize, String>, Vec<usize>> {
    let mut m: BTreeMap<Result<usize, String>, Vec<usize>> = BTreeMap::new();
    for (i, e) in a.events.iter().enumerate() {
        if pred(&e.kind, e.log_kind) {
            let key = match a.event_device[i] {
                Some(d) => Ok(d),
                None => Err(e.evidence.host.to_string()),
            };
            m.entry(key).or_default().push(i);
        }
    }
    m
}

fn cert_flag(k: &EventKind, flags: &[&str]) -> bool {
    matches!(k, EventKind::CertificateError { flag, .. } if flags.contains(&flag.as_str()))
}

/// Does the device have any request visible on the server side (CMG hop, connector, MP)?
fn server_saw(a: &Analysis, d: usize) -> bool {
    device_events(a, d).iter().any(|&i| !is_client_log(a.events[i].log_kind))
}

fn hits_for_cert(a: &Analysis, flags: &[&str], what: &str) -> Vec<Hit> {
    let mut hits = Vec::new();
    let groups = per_device_events(a, |k, _| cert_flag(k, flags));
    // HTTP error lines, in timeline order, collected once (not once per hit: fleets have millions of
    // events).
    let http_errors: Vec<usize> = if groups.is_empty() {
        Vec::new()
    } else {
        (0..a.events.len()).filter(|&j| matches!(a.events[j].kind, EventKind::HttpError { .. })).collect()
    };
    for (key, evs) in groups {
        let first = evs[0];
        // The HTTP error line next to the flags (same file), for context.
        let mut evidence = first_n(evs.clone(), 3);
        if let Some(&h) = http_errors.iter().find(|&&j| {
            a.events[j].evidence.line + 10 >= a.events[first].evidence.line
                && a.events[j].evidence.line <= a.events[first].evidence.line
                && a.events[j].evidence.path == a.events[first].evidence.path
        }) {
            evidence.insert(0, h);
        }
        let url = evs.iter().find_map(|&i| match &a.events[i].kind {
            EventKind::CertificateError { url: Some(u), .. } => Some(u.clone()),
            EventKind::HttpError { url: Some(u), .. } => Some(u.clone()),
            _ => None,
        });
        match key {
            Ok(d) => {
                let silent = if server_saw(a, d) {
                    String::new()
                } else {
                    " The CMG, connection point and management point logs show no request from this device: the \
connection was refused on the client, so both sides tell one story."
                        .into()
                };
                hits.push(Hit {
                    device: Some(d),
                    host: Some(host_of(a, first)),
                    facts: format!(
                        "{} logged {} {} time(s){}.{}",
                        host_of(a, first),
                        what,
                        evs.len(),
                        url.map(|u| format!(" for {u}")).unwrap_or_default(),
                        silent
                    ),
                    evidence,
                    title: None,
                    explains: broken_phases(a, d),
                    causes: Vec::new(),
                });
            }
            Err(host) => hits.push(Hit {
                device: None,
                host: Some(host.clone()),
                facts: format!("{host} logged {what} {} time(s).", evs.len()),
                evidence,
                title: None,
                explains: Vec::new(),
                causes: Vec::new(),
            }),
        }
    }
    hits
}

fn check_root_ca(a: &Analysis) -> Vec<Hit> {
    let mut hits = hits_for_cert(
        a,
        &["invalid_ca", "untrusted_root"],
        "an untrusted root CA for the server certificate",
    );
    // Only client-side evidence makes this rule (a connector chain error is about the MP's chain).
    hits.retain(|h| {
        h.evidence.iter().any(|&i| {
            is_client_log(a.events[i].log_kind) || a.events[i].log_kind == LogKind::CloudProxyConnector
        })
    });
    hits
}

fn check_crl(a: &Analysis) -> Vec<Hit> {
    hits_for_cert(a, &["cert_rev_failed", "revocation_offline"], "a revocation check failure")
}

fn check_cert_name(a: &Analysis) -> Vec<Hit> {
    let mut hits =
        hits_for_cert(a, &["cert_cn_invalid"], "a server certificate name mismatch (CERT_CN_INVALID)");
    // The client refused the server's certificate: client-side evidence only.
    hits.retain(|h| h.evidence.iter().any(|&i| is_client_log(a.events[i].log_kind)));
    hits
}

fn http_text(k: &EventKind, text: &str) -> bool {
    match k {
        EventKind::HttpError { text: Some(t), .. } => t.eq_ignore_ascii_case(text),
        EventKind::ProxyRequest { status_text: Some(t), .. } => t.contains(text),
        _ => false,
    }
}

fn grouped_hits(
    a: &Analysis,
    evs: BTreeMap<Result<usize, String>, Vec<usize>>,
    what: &str,
    explain: bool,
) -> Vec<Hit> {
    evs.into_iter()
        .map(|(key, evs)| {
            let first = evs[0];
            let (device, host) = match &key {
                Ok(d) => (Some(*d), host_of(a, first)),
                Err(h) => (None, h.clone()),
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

fn check_connector_client_cert(a: &Analysis) -> Vec<Hit> {
    let evs = per_device_events(a, |k, _| {
        http_text(k, "CMGConnector_Clientcertificaterequired") || cert_flag(k, &["no_client_auth_cert"])
    });
    grouped_hits(
        a,
        evs,
        "403 CMGConnector_Clientcertificaterequired / no client authentication certificate",
        true,
    )
}

fn check_connector_forbidden(a: &Analysis) -> Vec<Hit> {
    let evs = per_device_events(a, |k, _| http_text(k, "CMGConnector_Forbidden"));
    grouped_hits(a, evs, "403 CMGConnector_Forbidden", true)
}

/// Token attempts in one client log file: failures, fallbacks, acquisitions, in line order.
struct TokenStory {
    failures: Vec<usize>,
    fallbacks: Vec<usize>,
    user_ok: Vec<usize>,
    device_ok: Vec<usize>,
    not_joined: Vec<usize>,
}

fn token_stories(a: &Analysis, d: usize) -> BTreeMap<&str, TokenStory> {
    let mut m: BTreeMap<&str, TokenStory> = BTreeMap::new();
    // ccmsetup and ADAL lines belong to devices through their client host: none without one.
    if a.devices[d].client_hosts.is_empty() {
        return m;
    }
    for &i in device_events(a, d) {
        let e = &a.events[i];
        if !matches!(e.log_kind, LogKind::Ccmsetup | LogKind::AdalOperationProvider) {
            continue;
        }
        let s = m.entry(e.evidence.path.as_ref()).or_insert(TokenStory {
            failures: vec![],
            fallbacks: vec![],
            user_ok: vec![],
            device_ok: vec![],
            not_joined: vec![],
        });
        match &e.kind {
            EventKind::AadTokenFailed { hresult, .. } => {
                s.failures.push(i);
                if hresult.as_deref().is_some_and(|h| h.eq_ignore_ascii_case("0x800703f0")) {
                    s.not_joined.push(i);
                }
            }
            EventKind::AadTokenFallbackToUser { sid } => {
                s.fallbacks.push(i);
                if sid.is_none() {
                    // `IWebAuthenticationCoreManagerStatics4 not available. Falling back to user token.`
                    s.not_joined.push(i);
                }
            }
            EventKind::AadTokenAcquired { kind: AadTokenKind::User, .. } => s.user_ok.push(i),
            EventKind::AadTokenAcquired { kind: AadTokenKind::Device, .. } => s.device_ok.push(i),
            _ => {}
        }
    }
    m
}

fn check_wpj(a: &Analysis) -> Vec<Hit> {
    let mut hits = Vec::new();
    for d in 0..a.devices.len() {
        for (path, s) in token_stories(a, d) {
            if !s.not_joined.is_empty() && s.user_ok.is_empty() && s.device_ok.is_empty() {
                let mut ev = s.not_joined.clone();
                ev.extend(s.failures.iter().copied().filter(|i| !s.not_joined.contains(i)));
                ev.sort_unstable();
                ev.dedup();
                hits.push(Hit {
                    device: Some(d),
                    host: Some(host_of(a, ev[0])),
                    facts: format!(
                        "{} ({}): the device token failed as on a device that is not Entra ID joined, and no user token followed.",
                        host_of(a, ev[0]),
                        crate::phases::log_file_name(a.events[ev[0]].log_kind)
                    ),
                    evidence: first_n(ev, 4),
                    title: None,
                    explains: broken_phases(a, d),
                    causes: Vec::new(),
                });
                let _ = path;
                break;
            }
        }
    }
    hits
}

fn check_fallback(a: &Analysis) -> Vec<Hit> {
    let mut hits = Vec::new();
    for d in 0..a.devices.len() {
        for (_, s) in token_stories(a, d) {
            let (Some(&fail), Some(&ok)) = (s.failures.first().or(s.fallbacks.first()), s.user_ok.last())
            else {
                continue;
            };
            if s.fallbacks.is_empty() || ok < fail {
                continue;
            }
            let mut ev = vec![fail];
            ev.extend(s.failures.iter().skip(1).take(1));
            ev.push(s.fallbacks[0]);
            ev.push(ok);
            ev.sort_unstable();
            ev.dedup();
            let code = s.failures.iter().find_map(|&i| match &a.events[i].kind {
                EventKind::AadTokenFailed { hresult: Some(h), .. } => Some(h.clone()),
                _ => None,
            });
            hits.push(Hit {
                device: Some(d),
                host: Some(host_of(a, fail)),
                facts: format!(
                    "{} ({}): the device token failed{}; the user token of the signed-in user was used instead.",
                    host_of(a, fail),
                    crate::phases::log_file_name(a.events[fail].log_kind),
                    code.map(|c| format!(" with {c}")).unwrap_or_default()
                ),
                evidence: ev,
                title: None,
                explains: Vec::new(),
                causes: Vec::new(),
            });
            break;
        }
    }
    hits
}

fn check_tenant_not_onboarded(a: &Analysis, ex: &Explained) -> Vec<Hit> {
    let mut hits = Vec::new();
    for d in 0..a.devices.len() {
        // ccmsetup lines belong to devices through their client host: none without one.
        if a.devices[d].client_hosts.is_empty() || ex.by(d, PhaseId::InstallAadInfo).is_some() {
            continue;
        }
        let evs = device_events(a, d);
        let Some(pos) = evs.iter().rposition(|&i| {
            a.events[i].log_kind == LogKind::Ccmsetup
                && matches!(a.events[i].kind, EventKind::AadInfoRequested { .. })
        }) else {
            continue;
        };
        let info = evs[pos];
        let path = &a.events[info].evidence.path;
        let later_token = evs[pos..].iter().any(|&i| {
            &a.events[i].evidence.path == path
                && matches!(
                    a.events[i].kind,
                    EventKind::AadTokenRequested { .. }
                        | EventKind::AadTokenAcquired { .. }
                        | EventKind::CcmTokenRequested { .. }
                )
        });
        // A TLS failure after the request means the CMG never answered: certificate rules tell that story.
        let tls_failed = evs[pos..].iter().any(|&i| {
            &a.events[i].evidence.path == path
                && matches!(a.events[i].kind, EventKind::CertificateError { .. })
        });
        if later_token || tls_failed || phase_status(a, d, PhaseId::InstallAadInfo) == Some(PhaseStatus::Ok) {
            continue;
        }
        let tenant = evs.iter().find_map(|&i| match &a.events[i].kind {
            EventKind::AadInfoRequested { tenant: Some(t), .. } => Some(t.clone()),
            _ => None,
        });
        let mut ev: Vec<usize> = evs[..=pos]
            .iter()
            .copied()
            .filter(|&i| matches!(a.events[i].kind, EventKind::AadInfoRequested { .. }))
            .collect();
        ev.extend(
            evs[pos..].iter().copied().filter(|&i| &a.events[i].evidence.path == path && i != info).take(3),
        );
        hits.push(Hit {
            device: Some(d),
            host: Some(host_of(a, info)),
            facts: format!(
                "{}: ccmsetup asked the CMG for the app info of tenant {} and did not request a token after it.",
                host_of(a, info),
                tenant.as_deref().unwrap_or("(not named)")
            ),
            evidence: first_n(ev, 4),
            title: None,
            explains: broken_phases(a, d),
            causes: Vec::new(),
        });
    }
    hits
}

fn failed_phase_hits(
    a: &Analysis,
    ex: &Explained,
    phases: &[PhaseId],
    what: &str,
    extra: impl Fn(&EventKind) -> bool,
) -> Vec<Hit> {
    let mut hits = Vec::new();
    for d in 0..a.devices.len() {
        for &ph in phases {
            if phase_status(a, d, ph) != Some(PhaseStatus::Failed) {
                continue;
            }
            let phase = a.devices[d].phase(ph).expect("status known");
            // Evidence: the events of the phase's log that show the failure.
            let mut ev: Vec<usize> = device_events(a, d)
                .iter()
                .copied()
                .filter(|&i| {
                    let e = &a.events[i];
                    extra(&e.kind) && phase.evidence.iter().any(|pe| pe.path == e.evidence.path)
                })
                .collect();
            if ev.is_empty() {
                ev = device_events(a, d)
                    .iter()
                    .copied()
                    .filter(|&i| {
                        phase.evidence.iter().any(|pe| {
                            pe.path == a.events[i].evidence.path && pe.line == a.events[i].evidence.line
                        })
                    })
                    .collect();
            }
            if ev.is_empty() {
                continue;
            }
            // The last attempts prove the step never succeeded (earlier ones may have been retried).
            let ev: Vec<usize> = ev[ev.len().saturating_sub(4)..].to_vec();
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

fn check_token_unavailable(a: &Analysis, ex: &Explained) -> Vec<Hit> {
    failed_phase_hits(
        a,
        ex,
        &[PhaseId::InstallAadToken, PhaseId::RegistrationAadToken],
        "no Entra ID token was obtained",
        |k| matches!(k, EventKind::AadTokenFailed { .. } | EventKind::AadTokenFallbackToUser { .. }),
    )
}

fn check_token_rejected(a: &Analysis) -> Vec<Hit> {
    let evs = per_device_events(a, |k, lk| {
        matches!(k, EventKind::AadTokenRejected { .. }) && lk == LogKind::CcmSts
            || http_text(k, "CMGService_Invalid_Token")
    });
    let mut hits = grouped_hits(a, evs, "the token was rejected", true);
    // A rejection followed by a CCM token for the same device (a retry that worked) is not a failure.
    hits.retain(|h| match h.device {
        Some(d) => {
            let last = h.evidence.iter().copied().max_by_key(|&i| a.event_time_ms[i]).unwrap_or(0);
            let t = a.event_time_ms[last];
            !device_events(a, d).iter().any(|&i| {
                a.event_time_ms[i] > t
                    && matches!(
                        a.events[i].kind,
                        EventKind::CcmTokenIssued { .. } | EventKind::CcmTokenCached { .. }
                    )
            })
        }
        None => true,
    });
    for h in &mut hits {
        // The IdentityModel error (IDX...) names the failure best; else the first rejection.
        let idx = h.evidence.iter().find(|&&i| {
            matches!(&a.events[i].kind, EventKind::AadTokenRejected { code: Some(c), .. } if c.starts_with("IDX"))
        });
        if let Some(&i) = idx.or_else(|| {
            h.evidence.iter().find(|&&i| matches!(a.events[i].kind, EventKind::AadTokenRejected { .. }))
        }) {
            if let EventKind::AadTokenRejected { code, reason } = &a.events[i].kind {
                h.title = Some(format!(
                    "CCM_STS rejected the Entra ID token{}",
                    code.as_ref().map(|c| format!(" ({c})")).unwrap_or_default()
                ));
                h.facts = format!("{} CCM_STS said: {}", h.facts, reason);
            }
        }
    }
    hits
}

fn check_ccm_token_failed(a: &Analysis, ex: &Explained) -> Vec<Hit> {
    failed_phase_hits(
        a,
        ex,
        &[PhaseId::InstallCcmToken, PhaseId::RegistrationCcmToken],
        "no CCM token was obtained",
        |k| {
            matches!(
                k,
                EventKind::CcmTokenFailed { .. }
                    | EventKind::HttpError { .. }
                    | EventKind::CcmTokenRequested { .. }
            )
        },
    )
}

fn check_renewal_failed(a: &Analysis, ex: &Explained) -> Vec<Hit> {
    failed_phase_hits(a, ex, &[PhaseId::RenewalCcmToken], "the CCM token renewal did not complete", |k| {
        matches!(
            k,
            EventKind::CcmTokenExpiring { .. }
                | EventKind::CcmTokenFailed { .. }
                | EventKind::HttpError { .. }
        )
    })
}

fn check_registration_failed(a: &Analysis, ex: &Explained) -> Vec<Hit> {
    let mut hits = failed_phase_hits(
        a,
        ex,
        &[PhaseId::RegistrationConfirmed, PhaseId::RegistrationMp],
        "registration was not confirmed",
        |k| {
            matches!(
                k,
                EventKind::RegistrationFailed { .. }
                    | EventKind::RegistrationRequested { .. }
                    | EventKind::MpRegistration { .. }
            )
        },
    );
    // Rejections the MP logged for requests no device could be tied to.
    let loose = per_device_events(a, |k, lk| {
        matches!(k, EventKind::RegistrationFailed { .. }) && lk == LogKind::MpRegistrationManager
    });
    for (key, evs) in loose {
        if let Err(host) = key {
            hits.push(Hit {
                device: None,
                host: Some(host.clone()),
                facts: format!(
                    "{host}: the management point rejected {} registration request(s).",
                    evs.len()
                ),
                evidence: first_n(evs, 4),
                title: None,
                explains: Vec::new(),
                causes: Vec::new(),
            });
        }
    }
    hits
}

/// The device's last event of a kind.
fn last_event(a: &Analysis, d: usize, pred: impl Fn(&EventKind) -> bool) -> Option<usize> {
    device_events(a, d).iter().rev().copied().find(|&i| pred(&a.events[i].kind))
}

fn check_not_approved(a: &Analysis) -> Vec<Hit> {
    let mut hits = Vec::new();
    for d in 0..a.devices.len() {
        let last = last_event(a, d, |k| {
            matches!(k, EventKind::Registered { .. } | EventKind::RegistrationPending { .. })
        });
        // `Client registration is pending. Server assigned ClientID is GUID:..`, not followed by a registration.
        if let Some(i) = last.filter(|&i| matches!(a.events[i].kind, EventKind::RegistrationPending { .. })) {
            // The first pending answer (since the last registration) and the last: how long it has waited.
            let first = device_events(a, d)
                .iter()
                .copied()
                .filter(|&j| a.event_time_ms[j] <= a.event_time_ms[i])
                .rev()
                .take_while(|&j| !matches!(a.events[j].kind, EventKind::Registered { .. }))
                .filter(|&j| matches!(a.events[j].kind, EventKind::RegistrationPending { .. }))
                .last()
                .unwrap_or(i);
            let mut evidence = vec![first];
            if first != i {
                evidence.push(i);
            }
            hits.push(Hit {
                device: Some(d),
                host: Some(host_of(a, i)),
                facts: format!(
                    "{}: the site assigned a client id, but the registration is pending approval.",
                    host_of(a, i)
                ),
                evidence,
                title: Some("The client's registration is pending approval".into()),
                // The registration steps that do not follow are waiting for the approval.
                explains: broken_phases(a, d),
                causes: Vec::new(),
            });
            continue;
        }
        if let Some(i) = last {
            if let EventKind::Registered { approval: Some(n), .. } = a.events[i].kind {
                if n != 1 && n != 3 {
                    hits.push(Hit {
                        device: Some(d),
                        host: Some(host_of(a, i)),
                        facts: format!("{}: registered with approval status {n}.", host_of(a, i)),
                        evidence: vec![i],
                        title: None,
                        explains: Vec::new(),
                        causes: Vec::new(),
                    });
                }
            }
        }
    }
    hits
}

fn check_install_failed(a: &Analysis, ex: &Explained) -> Vec<Hit> {
    let mut hits = Vec::new();
    for d in 0..a.devices.len() {
        let Some(i) = last_event(a, d, |k| matches!(k, EventKind::CcmsetupExit { .. })) else { continue };
        let EventKind::CcmsetupExit { code } = a.events[i].kind else { continue };
        if code == 0 {
            continue;
        }
        // `CcmSetup failed with error code 0x..` followed by a retry notice: ccmsetup is still retrying, not
        // failed until it exits. The install.client phase decides it (`missing`, with the retry as reason).
        if phase_status(a, d, PhaseId::InstallClient) == Some(PhaseStatus::Missing) {
            continue;
        }
        let causes = ex.any(d);
        let meaning = match code {
            6 => "error".to_string(),
            7 => "reboot required".to_string(),
            8 => "setup already running".to_string(),
            9 => "prerequisite evaluation failure".to_string(),
            10 => "setup manifest hash validation failure".to_string(),
            c if !(0..=255).contains(&c) => crate::codes::lookup(&format!("0x{:08X}", c as u32))
                .first()
                .and_then(|m| m.known)
                .map(|k| k.name.to_string())
                .unwrap_or_else(|| "an HRESULT".to_string()),
            c => format!("exit code {c}"),
        };
        let shown =
            if (0..=255).contains(&code) { code.to_string() } else { format!("0x{:08X}", code as u32) };
        hits.push(Hit {
            device: Some(d),
            host: Some(host_of(a, i)),
            title: Some(format!("ccmsetup failed: {shown} ({meaning})")),
            facts: format!(
                "{}: ccmsetup ended with {shown} ({meaning}).{}",
                host_of(a, i),
                if causes.is_empty() {
                    String::new()
                } else {
                    format!(" Root cause: {} (see that finding).", causes.join(", "))
                }
            ),
            evidence: vec![i],
            explains: vec![PhaseId::InstallClient],
            causes,
        });
    }
    hits
}

fn check_pki(a: &Analysis) -> Vec<Hit> {
    let evs = per_device_events(a, |k, _| matches!(k, EventKind::PkiCertSelected { .. }));
    grouped_hits(a, evs, "ccmsetup chose a PKI client certificate", false)
}

fn check_tenant_mismatch(a: &Analysis) -> Vec<Hit> {
    let mut hits = Vec::new();
    for (d, dev) in a.devices.iter().enumerate() {
        if dev.client_tenant_ids.is_empty() || dev.site_tenant_ids.is_empty() {
            continue;
        }
        let client: BTreeSet<&str> = dev.client_tenant_ids.iter().map(|t| t.as_str()).collect();
        let site: BTreeSet<&str> = dev.site_tenant_ids.iter().map(|t| t.as_str()).collect();
        if client == site {
            continue;
        }
        let ev: Vec<usize> = dev
            .events
            .iter()
            .copied()
            .filter(|&i| match &a.events[i].kind {
                EventKind::AadInfoRequested { tenant: Some(_), .. } => true,
                EventKind::AadTokenValidated { tenant: Some(t), .. }
                | EventKind::MpRegistration { tenant: Some(t), .. } => !client.contains(t.as_str()),
                _ => false,
            })
            .collect();
        if ev.is_empty() {
            continue;
        }
        hits.push(Hit {
            device: Some(d),
            host: Some(host_of(a, ev[0])),
            facts: format!(
                "The client asked for tenant {}; the site validated / registered it with {}.",
                dev.client_tenant_ids.join(", "),
                dev.site_tenant_ids.join(", ")
            ),
            evidence: first_n(ev, 4),
            title: None,
            explains: Vec::new(),
            causes: Vec::new(),
        });
    }
    hits
}

fn check_clock_skew(a: &Analysis) -> Vec<Hit> {
    let mut hits = Vec::new();
    for o in &a.host_offsets {
        if o.reference || !o.consistent || o.offset_ms.abs() <= SKEW_APPLY_THRESHOLD_MS {
            continue;
        }
        let mut ev: Vec<usize> = Vec::new();
        for p in o.pairs.iter().take(3) {
            ev.push(p.host_event);
            if let Some(x) = p.other_event {
                ev.push(x);
            }
        }
        ev.sort_unstable();
        ev.dedup();
        if ev.is_empty() {
            continue;
        }
        // A client host's clock is its device's; a server's clock is no device's.
        let client_host = a.host(&o.host).is_some_and(|h| h.has_role(HostRole::Client));
        let device = {
            let ds: BTreeSet<usize> = ev.iter().filter_map(|&i| a.event_device[i]).collect();
            (client_host && ds.len() == 1).then(|| *ds.iter().next().expect("one"))
        };
        let secs = o.offset_ms as f64 / 1000.0;
        let reference: Vec<&str> =
            a.host_offsets.iter().filter(|r| r.reference).map(|r| r.host.as_str()).collect();
        hits.push(Hit {
            device,
            host: Some(o.host.clone()),
            title: Some(format!(
                "{}'s clock is about {} {} {} ({} of {} causal pairs agree)",
                o.host,
                human_secs(secs.abs()),
                if secs > 0.0 { "ahead of" } else { "behind" },
                // No reference left: the management point itself is the clock that is off.
                if reference.is_empty() { "the CMG's and the clients'" } else { "the site's" },
                o.support,
                o.observations
            )),
            facts: format!(
                "Estimated offset of {}: {:+.1} s against {}.{}",
                o.host,
                secs,
                if reference.is_empty() {
                    "every other host (the CMG and the clients agree with each other; this management point is \
                     the odd one out)"
                        .to_string()
                } else {
                    reference.join(", ")
                },
                if o.applied { " The timeline below is corrected by this offset." } else { "" }
            ),
            evidence: ev,
            explains: Vec::new(),
            causes: Vec::new(),
        });
    }
    hits
}

fn human_secs(s: f64) -> String {
    if s >= 3600.0 {
        format!("{:.1} h", s / 3600.0)
    } else if s >= 60.0 {
        format!("{:.0} min", s / 60.0)
    } else {
        format!("{s:.0} s")
    }
}

fn check_flow_incomplete(a: &Analysis, ex: &Explained) -> Vec<Hit> {
    let mut hits = Vec::new();
    for d in 0..a.devices.len() {
        let dev = &a.devices[d];
        // A device seen only in server logs has no client flow to be incomplete.
        if dev.client_hosts.is_empty() {
            continue;
        }
        if dev.phases.iter().any(|p| p.status == PhaseStatus::Failed) || !ex.any(d).is_empty() {
            continue;
        }
        // The steps after the last one the logs show: a missing step followed by one that happened is
        // no stop (later activity shows the device went on). Renewal happens only when a token nears
        // expiry: its absence is not a stop. `not_collected` and `not_applicable` steps say nothing.
        let last_reached = dev.phases.iter().rposition(|p| p.status == PhaseStatus::Ok);
        let missing: Vec<&crate::model::Phase> = dev
            .phases
            .iter()
            .enumerate()
            .filter(|&(i, p)| {
                p.status == PhaseStatus::Missing
                    && p.id != PhaseId::RenewalCcmToken
                    && last_reached.is_none_or(|r| i > r)
            })
            .map(|(_, p)| p)
            .collect();
        if missing.is_empty() {
            continue;
        }
        // An error in the device's logs means the flow did not stop silently: other rules speak.
        if dev.events.iter().any(|&i| a.events[i].severity == Severity::Error) {
            continue;
        }
        let last_ok = dev.phases.iter().filter(|p| p.status == PhaseStatus::Ok).max_by_key(|p| p.end);
        let ev: Vec<usize> = match last_ok.and_then(|p| p.evidence.last()) {
            Some(pe) => dev
                .events
                .iter()
                .copied()
                .filter(|&i| a.events[i].evidence.path == pe.path && a.events[i].evidence.line == pe.line)
                .collect(),
            None => dev.events.last().copied().into_iter().collect(),
        };
        if ev.is_empty() {
            continue;
        }
        hits.push(Hit {
            device: Some(d),
            host: Some(host_of(a, ev[0])),
            title: Some(format!(
                "The flow stops after '{}' with no error logged",
                last_ok.map(|p| p.id.as_str()).unwrap_or("the first step")
            )),
            facts: format!(
                "Last phase reached: {}. Not reached: {}.",
                last_ok.map(|p| p.id.as_str()).unwrap_or("none"),
                missing.iter().map(|p| p.id.as_str()).collect::<Vec<_>>().join(", ")
            ),
            evidence: ev,
            explains: missing.iter().map(|p| p.id).collect(),
            causes: Vec::new(),
        });
    }
    hits
}

/// Devices whose SMS GUID is named by the client logs of several hosts whose activity overlaps in time
/// (a cloned image): one hit per device, citing each host's first line naming the GUID.
fn check_duplicate_client_id(a: &Analysis) -> Vec<Hit> {
    let mut hits = Vec::new();
    for (d, dev) in a.devices.iter().enumerate() {
        if dev.client_hosts.len() < 2 {
            continue;
        }
        for guid in &dev.client_ids {
            // Per client host: its first line naming the GUID, and the span of its client logs (every
            // entry, not only the flow's events: the client is active while it writes them).
            let mut per_host: BTreeMap<usize, (usize, i64, i64)> = BTreeMap::new();
            for &i in &dev.events {
                let h = a.event_host[i];
                if !a.hosts[h].has_role(HostRole::Client) || !is_client_log(a.events[i].log_kind) {
                    continue;
                }
                let Some(t) = a.event_time_ms[i] else { continue };
                let mut names = false;
                crate::ids::for_each_id(&a.events[i].kind, |k, v| {
                    names |= k == crate::ids::IdKind::ClientGuid && v == guid.as_str()
                });
                let e = per_host.entry(h).or_insert_with(|| {
                    let spans = a.hosts[h].log_spans.iter().filter(|s| is_client_log(s.0));
                    let first = spans.clone().filter_map(|s| s.1).min().unwrap_or(t);
                    let last = spans.filter_map(|s| s.2).max().unwrap_or(t);
                    (usize::MAX, first, last)
                });
                e.1 = e.1.min(t);
                e.2 = e.2.max(t);
                // The site's assignment (`Server assigned ClientID is GUID:..`) is the line to cite;
                // else the first line naming the GUID.
                let assigned = matches!(a.events[i].kind, EventKind::Registered { .. });
                if names
                    && (e.0 == usize::MAX
                        || assigned && !matches!(a.events[e.0].kind, EventKind::Registered { .. }))
                {
                    e.0 = i;
                }
            }
            let named: Vec<(usize, (usize, i64, i64))> =
                per_host.into_iter().filter(|(_, (first, _, _))| *first != usize::MAX).collect();
            if named.len() < 2 {
                continue;
            }
            // At the same time: the hosts' spans overlap (a re-imaged machine that moved to a new name
            // uses the GUID one after the other).
            let overlapping = named.iter().enumerate().any(|(x, (_, (_, s1, e1)))| {
                named[x + 1..].iter().any(|(_, (_, s2, e2))| s1 <= e2 && s2 <= e1)
            });
            if !overlapping {
                continue;
            }
            let hosts: Vec<&str> = named.iter().map(|(h, _)| a.hosts[*h].name.as_str()).collect();
            hits.push(Hit {
                device: Some(d),
                host: Some(hosts.join(", ")),
                title: Some(format!(
                    "{guid} is used by {} client hosts at once: {}",
                    hosts.len(),
                    hosts.join(", ")
                )),
                facts: format!(
                    "The client logs of {} all name {guid} during the same period.",
                    hosts.join(", ")
                ),
                evidence: named.iter().map(|(_, (first, _, _))| *first).collect(),
                explains: Vec::new(),
                causes: Vec::new(),
            });
            break;
        }
    }
    hits
}

// ---- never silent: the error lines before an unexplained failure -------------------------------------------

/// Consequence rules whose failure, when no root-cause rule explains it, is explained by the error lines
/// before it.
const NEVER_SILENT: &[&str] = &[
    "install-failed",
    "registration-failed",
    "ccm-token-failed",
    "aad-token-unavailable",
    "ccm-token-renewal-failed",
];

/// How many preceding error lines a finding cites.
const STORY_LINES: usize = 4;

/// What the error lines before a failure show.
struct Story {
    /// The cited lines (event indices), most telling first.
    lines: Vec<usize>,
    /// One sentence.
    summary: String,
    /// The class whose fix applies (`None`: the rule's own remediation).
    class: Option<&'static Class>,
    /// The finding's `cause`.
    cause: Option<&'static str>,
}

/// A line that shows something failed (an event of a failure, or an error-severity line).
fn is_failure_line(a: &Analysis, i: usize) -> bool {
    a.events[i].severity == Severity::Error
        || matches!(
            a.events[i].kind,
            EventKind::ErrorLogged { .. }
                | EventKind::HttpError { .. }
                | EventKind::CertificateError { .. }
                | EventKind::AadTokenFailed { .. }
                | EventKind::CcmTokenFailed { .. }
                | EventKind::RegistrationFailed { .. }
        )
}

/// Where an attempt of this rule's step starts in a log (the window of its error lines begins after it).
fn starts_attempt(rule: &str, k: &EventKind) -> bool {
    match k {
        EventKind::CcmsetupStarted { .. } | EventKind::RegistrationStarted { .. } => true,
        EventKind::AadTokenRequested { .. } => rule == "aad-token-unavailable",
        EventKind::CcmTokenRequested { .. } | EventKind::CcmTokenExpiring { .. } => {
            matches!(rule, "ccm-token-failed" | "ccm-token-renewal-failed")
        }
        _ => false,
    }
}

/// The device's error lines before the failure its hit cites (the hit's last client-log line), in that
/// attempt, ranked; and what they show.
fn failure_story(a: &Analysis, rule: &str, d: usize, evidence: &[usize]) -> Option<Story> {
    let &fail = evidence
        .iter()
        .filter(|&&i| is_client_log(a.events[i].log_kind))
        .max_by_key(|&&i| (a.event_time_ms[i], i))?;
    let (path, fail_line) = (&a.events[fail].evidence.path, a.events[fail].evidence.line);
    let before: Vec<usize> = device_events(a, d)
        .iter()
        .copied()
        .filter(|&i| &a.events[i].evidence.path == path && a.events[i].evidence.line < fail_line)
        .collect();
    let start = before
        .iter()
        .filter(|&&i| starts_attempt(rule, &a.events[i].kind))
        .map(|&i| a.events[i].evidence.line)
        .max()
        .unwrap_or(0);
    let exit = match a.events[fail].kind {
        EventKind::CcmsetupExit { code } => Some(code),
        _ => None,
    };
    // The failure's own code: an HRESULT exit code, or the first code of the failure line.
    let fail_code = match exit {
        Some(c) if !(0..=255).contains(&c) => Some(c as u32),
        _ => causes::first_code(&a.events[fail].evidence.text.get()),
    };
    let mut ranked: Vec<(u8, u8, std::cmp::Reverse<u32>, usize)> = before
        .iter()
        .copied()
        .filter(|&i| a.events[i].evidence.line > start && is_failure_line(a, i))
        .map(|i| {
            let e = &a.events[i];
            let text = &*e.evidence.text.get();
            let tier = if fail_code.is_some_and(|c| causes::mentions_code(text, c)) {
                0
            } else if causes::is_noise(text) {
                3
            } else if e.severity == Severity::Error && causes::first_code(text).is_some() {
                1
            } else {
                2
            };
            let sev = match e.severity {
                Severity::Error => 0,
                Severity::Warning => 1,
                Severity::Info => 2,
            };
            (tier, sev, std::cmp::Reverse(e.evidence.line), i)
        })
        .collect();
    ranked.sort_unstable();
    let read: Vec<std::borrow::Cow<'_, str>> = ranked
        .iter()
        .map(|r| a.events[r.3].evidence.text.get())
        .chain(std::iter::once(a.events[fail].evidence.text.get()))
        .collect();
    let texts: Vec<&str> = read.iter().map(|t| &**t).collect();
    let lines: Vec<usize> = ranked.iter().take(STORY_LINES).map(|r| r.3).collect();
    let telling = |c: &Class| !c.noise && c.id != "generic";
    // A ccmsetup exit code that names its class (7, 8, 9) says more than the lines before it.
    let by_exit = exit.filter(|c| (0..=255).contains(c)).and_then(causes::classify_exit);
    // A line that says its class in words outranks one that only a shared code classifies (real: `Failed to
    // send location message ... Error 0x87d00454` then `Have already tried all MPs`: no MP, not no DP).
    let line_class = |said_only: bool| {
        ranked.iter().map(|r| r.3).find_map(|i| {
            let text = &*a.events[i].evidence.text.get();
            let c = if said_only { causes::said(text)? } else { causes::classify(text) };
            telling(c).then(|| (c, causes::summarize(c, text, &texts)))
        })
    };
    let by_line = line_class(true).or_else(|| line_class(false));
    let by_failure = {
        let text = &*a.events[fail].evidence.text.get();
        let c = causes::classify(text);
        let c = if telling(c) { Some(c) } else { exit.and_then(causes::classify_exit) };
        c.map(|c| (c, causes::summarize(c, text, &texts)))
    };
    let found = by_exit
        .map(|c| (c, causes::summarize(c, &a.events[fail].evidence.text.get(), &texts)))
        .or(by_line)
        .or(by_failure);
    if let Some((class, summary)) = found {
        return Some(Story { lines, summary, class: Some(class), cause: Some(class.id) });
    }
    let file = crate::phases::log_file_name(a.events[fail].log_kind);
    let generic = causes::class("generic").expect("generic class");
    if let Some(r) = ranked.iter().find(|r| r.0 < 3).or(ranked.first()) {
        // Only generic or noise lines: name the most telling one.
        let text = &*a.events[r.3].evidence.text.get();
        let c = causes::classify(text);
        let summary = if c.noise { c.summary.to_string() } else { causes::summarize(generic, text, &texts) };
        return Some(Story { lines, summary, class: Some(generic), cause: Some("generic") });
    }
    if exit.is_none() && is_failure_line(a, fail) {
        // The failure line is the only error of the attempt: name it.
        let text = &*a.events[fail].evidence.text.get();
        let summary = causes::summarize(generic, text, &texts).replacen(
            "The error logged before it",
            "The failure logged",
            1,
        );
        return Some(Story { lines, summary, class: Some(generic), cause: Some("generic") });
    }
    Some(Story {
        lines,
        summary: format!(
            "{file} shows no error line before it in this attempt: the lines just before it show the step that stopped."
        ),
        class: None,
        cause: None,
    })
}

// ---- evaluation -----------------------------------------------------------------------------------------

fn evidence_out(a: &Analysis, i: usize) -> EvidenceOut {
    EvidenceOut::from(&a.events[i])
}

/// One finding per rule and device (per rule and host for findings without a device), each log line
/// cited once. A finding without a device keeps only the lines that no device's finding of the same rule
/// cites: a connection-point problem seen for a device is reported for that device, not a second time
/// for the site.
fn merge_duplicates(findings: Vec<Finding>) -> Vec<Finding> {
    type Key = (&'static str, Option<String>, Option<String>);
    let mut out: Vec<Finding> = Vec::with_capacity(findings.len());
    let mut index: HashMap<Key, usize> = HashMap::new();
    let mut merged = Vec::new();
    for mut f in findings {
        let key = (f.rule, f.device.clone(), if f.device.is_none() { f.host.clone() } else { None });
        match index.get(&key) {
            Some(&i) => {
                let evidence = std::mem::take(&mut f.evidence);
                out[i].evidence.extend(evidence);
                merged.push(i);
            }
            None => {
                index.insert(key, out.len());
                out.push(f);
            }
        }
    }
    for i in merged {
        out[i].evidence.sort_by(|x, y| (x.time, &x.path, x.line).cmp(&(y.time, &y.path, y.line)));
    }
    let cited_for_devices: HashSet<(&'static str, SharedStr, u32)> = out
        .iter()
        .filter(|f| f.device.is_some())
        .flat_map(|f| f.evidence.iter().map(move |e| (f.rule, e.path.clone(), e.line)))
        .collect();
    out.retain_mut(|f| {
        dedup_evidence(&mut f.evidence);
        if f.device.is_none() && !cited_for_devices.is_empty() {
            f.evidence.retain(|e| !cited_for_devices.contains(&(f.rule, e.path.clone(), e.line)));
        }
        !f.evidence.is_empty()
    });
    out
}

/// Run the catalog over an analysis: findings worst first, then device, rule, first evidence.
pub fn evaluate(a: &Analysis) -> Vec<Finding> {
    // The checks that need only the analysis, all at once; then every rule in catalog order.
    let mut alone: Vec<Option<Vec<Hit>>> = RULES
        .par_iter()
        .map(|rule| match rule.check {
            Check::Alone(check) => Some(check(a)),
            Check::AfterCauses(_) => None,
        })
        .collect();
    let mut explained = Explained::default();
    let mut findings: Vec<Finding> = Vec::new();
    for (rule, alone) in RULES.iter().zip(&mut alone) {
        let hits = match rule.check {
            Check::Alone(_) => alone.take().expect("computed above"),
            Check::AfterCauses(check) => check(a, &explained),
        };
        for hit in hits {
            if hit.evidence.is_empty() {
                continue;
            }
            if let Some(d) = hit.device {
                if rule.symptom
                    && !hit.explains.is_empty()
                    && hit.explains.iter().all(|p| explained.by(d, *p).is_some())
                {
                    continue;
                }
                let m = explained.by_device.entry(d).or_default();
                for p in &hit.explains {
                    m.entry(*p).or_insert(rule.id);
                }
            }
            let mut evidence: Vec<usize> = hit.evidence.clone();
            let mut explanation = format!("{} {}", hit.facts, rule.explanation);
            let mut remediation = rule.remediation.to_string();
            let mut cause = None;
            // Never silent: what the error lines before an unexplained failure show.
            if let (true, true, Some(d)) =
                (NEVER_SILENT.contains(&rule.id), hit.causes.is_empty(), hit.device)
            {
                if let Some(story) = failure_story(a, rule.id, d, &hit.evidence) {
                    explanation = format!("{} {} {}", hit.facts, story.summary, rule.explanation);
                    match story.class {
                        // A generic error: the rule's own remediation says more, with how to read the line.
                        Some(c) if c.id == "generic" => remediation = format!("{remediation} {}", c.fix),
                        Some(c) => remediation = c.fix.to_string(),
                        None => {}
                    }
                    cause = story.cause;
                    evidence.extend(story.lines);
                }
            } else if let (true, Some(d)) = (NEVER_SILENT.contains(&rule.id), hit.device) {
                // A consequence of a root cause still shows the failure lines of its own attempt; the
                // root-cause finding explains them.
                if let Some(story) = failure_story(a, rule.id, d, &hit.evidence) {
                    evidence.extend(story.lines);
                }
            }
            if rule.id == "aad-token-rejected" {
                if let Some(fix) =
                    hit.evidence.iter().find_map(|&i| causes::idx_fix(&a.events[i].evidence.text.get()))
                {
                    remediation = format!("{fix} {remediation}");
                }
            }
            evidence.sort_by_key(|&i| (a.event_time_ms[i], i));
            evidence.dedup();
            findings.push(Finding {
                rule: rule.id,
                severity: rule.severity,
                title: hit.title.unwrap_or_else(|| rule.title.to_string()),
                device: hit.device.map(|d| a.devices[d].key.to_string()),
                host: hit.host,
                explanation,
                remediation,
                evidence: evidence.iter().map(|&i| evidence_out(a, i)).collect(),
                caused_by: hit.causes,
                cause,
            });
        }
    }
    let mut findings = merge_duplicates(findings);
    let rank = |s: Severity| match s {
        Severity::Error => 0,
        Severity::Warning => 1,
        Severity::Info => 2,
    };
    // Worst first; within a severity and device, in catalog order (root causes before symptoms).
    let order = |id: &str| RULES.iter().position(|r| r.id == id).unwrap_or(usize::MAX);
    findings.sort_by(|x, y| {
        (rank(x.severity), &x.device, order(x.rule), x.evidence.first().map(|e| (&e.path, e.line))).cmp(&(
            rank(y.severity),
            &y.device,
            order(y.rule),
            y.evidence.first().map(|e| (&e.path, e.line)),
        ))
    });
    findings
}
