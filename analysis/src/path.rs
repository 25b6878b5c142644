//! The path a device takes to its site, decided from its own lines: through the cloud management gateway
//! or straight to an intranet management point, authenticated with Entra ID (Azure AD) tokens or a PKI
//! client certificate, and the client's generation. The path says which steps of the flow apply: an
//! intranet install never asks a CMG for Entra ID app info, a PKI client never takes an Entra ID token,
//! and a client older than ConfigMgr 1706 has no CCM token at all.

use cmtrace_parsers::{Event, EventKind, HostRole, SharedStr};

use crate::index::EventIx;
use crate::model::{DevicePath, PhaseId};
use crate::ordered::Events;

/// The first client build (ConfigMgr 1706, 5.00.8540) that authenticates with Entra ID and CCM tokens.
const FIRST_TOKEN_BUILD: u32 = 8540;

/// What a device's lines say about its path.
#[derive(Debug, Clone, Default)]
pub struct PathFacts {
    /// The path decided.
    pub path: DevicePath,
    /// A line shows the CMG (its app info request, a `CCM_Proxy_*` URL, a CMG or connector hop).
    cmg: bool,
    /// A line shows an Entra ID token step (requested, acquired, failed, validated).
    entra: bool,
    /// ccmsetup chose a PKI client certificate.
    pki: bool,
    /// A line shows a CCM token (requested, cached, expiring, issued).
    tokens: bool,
    /// The client asked to register, and no line shows it doing so with Entra ID (`Registering client using
    /// AAD auth`): a client that registers with its own certificate takes no token step.
    plain_registration: bool,
    /// The client build, when a line names it, and whether it predates tokens.
    build: Option<u32>,
    /// The line that decided, for reasons: `(what it shows, file:line on host)`. A shared string (4 bytes),
    /// not a `String` or a boxed `str`: words less on each of hundreds of thousands of devices.
    because: Option<SharedStr>,
}

/// Whether a URL or host name is a CMG's: a `CCM_Proxy_*` path or an Azure cloud service name.
pub fn is_cmg_url(url: &str) -> bool {
    let u = url.to_ascii_lowercase();
    u.contains("ccm_proxy_") || u.contains(".cloudapp.net") || u.contains(".cloudapp.azure.com")
}

/// The build number of a client version (`5.00.8540.1000`, `5.0.8458.1007` → 8540, 8458).
fn build_of(version: &str) -> Option<u32> {
    version.split('.').nth(2)?.parse().ok()
}

/// `file:line on host` of an event's line.
pub(crate) fn cite(e: &Event) -> String {
    let file = e.evidence.path().rsplit(['/', '\\']).next().unwrap_or(e.evidence.path());
    format!("{file}:{} on {}", e.evidence.line, e.evidence.host())
}

impl PathFacts {
    /// Reads the device's events (in timeline order).
    pub fn of(events: &Events, device_events: &[EventIx]) -> PathFacts {
        let mut f = PathFacts::default();
        let mut cmg_because: Option<String> = None;
        let mut intranet_because: Option<String> = None;
        let mut intranet = false;
        // URLs and host names the client's own lines name, with the event that names them.
        let mut urls: Vec<(&str, EventIx)> = Vec::new();
        for &i in device_events {
            let e = &events[i];
            let client = matches!(e.log_kind.role(), HostRole::Client | HostRole::Unknown);
            match &e.kind {
                EventKind::AadInfoRequested { .. } => {
                    f.cmg = true;
                    f.entra = true;
                    cmg_because.get_or_insert_with(|| {
                        format!("ccmsetup asked the CMG for Entra ID app info ({})", cite(e))
                    });
                }
                EventKind::AadTokenRequested { .. }
                | EventKind::AadTokenAcquired { .. }
                | EventKind::AadTokenFailed { .. }
                | EventKind::AadTokenFallbackToUser { .. }
                | EventKind::RegistrationUsingAad
                | EventKind::AadTokenValidated { .. }
                | EventKind::AadTokenRejected { .. } => f.entra = true,
                EventKind::MpRegistration { aad_device: Some(_), .. } => f.entra = true,
                EventKind::PkiCertSelected { .. } => f.pki = true,
                EventKind::RegistrationRequested { .. } if client => f.plain_registration = true,
                EventKind::CcmTokenRequested { sts_url } => {
                    f.tokens = true;
                    if client {
                        urls.push((sts_url, i));
                    }
                }
                EventKind::CcmTokenCached { .. }
                | EventKind::CcmTokenExpiring { .. }
                | EventKind::CcmTokenFailed { .. }
                | EventKind::CcmTokenIssued { .. } => f.tokens = true,
                EventKind::ProxyRequest { .. }
                | EventKind::ProxyUrlRewritten { .. }
                | EventKind::CmgRequestStats { .. } => {
                    f.cmg = true;
                    cmg_because
                        .get_or_insert_with(|| format!("its requests went through the CMG ({})", cite(e)));
                }
                EventKind::ContentLocation { url } if client => urls.push((url, i)),
                EventKind::HttpError { url: Some(u), .. }
                | EventKind::CertificateError { url: Some(u), .. }
                    if client =>
                {
                    urls.push((u, i))
                }
                EventKind::MessageSent { host: Some(h), .. } if client => urls.push((h, i)),
                EventKind::CcmsetupCommandLine { mp, cmg } => {
                    if let Some(c) = cmg {
                        f.cmg = true;
                        cmg_because.get_or_insert_with(|| {
                            format!("ccmsetup was pointed at the CMG {c} ({})", cite(e))
                        });
                    }
                    if let Some(m) = mp {
                        urls.push((m, i));
                    }
                }
                EventKind::CcmsetupVersion { version: Some(v) }
                | EventKind::ClientStartup { version: Some(v) }
                | EventKind::ClientInstallStarted { version: Some(v), .. } => {
                    if let Some(b) = build_of(v) {
                        f.build = Some(b);
                    }
                }
                _ => {}
            }
        }
        for (u, i) in urls {
            if u.trim().is_empty() {
                continue;
            }
            if is_cmg_url(u) {
                f.cmg = true;
                cmg_because.get_or_insert_with(|| {
                    format!("the client contacted the CMG at {u} ({})", cite(&events[i]))
                });
            } else {
                intranet = true;
                intranet_because
                    .get_or_insert_with(|| format!("the client talks to {u}, no CMG ({})", cite(&events[i])));
            }
        }
        f.plain_registration &= !f.entra && !f.tokens;
        f.path = if f.cmg {
            if f.entra || (f.tokens && !f.pki) {
                DevicePath::CmgEntra
            } else if f.pki {
                DevicePath::CmgPki
            } else {
                DevicePath::Unknown
            }
        } else if intranet || f.pki {
            DevicePath::Intranet
        } else {
            DevicePath::Unknown
        };
        f.because = match f.path {
            DevicePath::CmgEntra | DevicePath::CmgPki => cmg_because,
            DevicePath::Intranet => {
                intranet_because.or_else(|| Some("ccmsetup chose a PKI client certificate".into()))
            }
            DevicePath::Unknown => None,
        }
        .map(SharedStr::from);
        f
    }

    /// Whether the client predates CCM tokens and Entra ID authentication. Its own token or Entra ID lines win
    /// over a version line: a log kept across an in-place upgrade still names the build it started with.
    fn old_client(&self) -> bool {
        self.build.is_some_and(|b| b < FIRST_TOKEN_BUILD) && !self.tokens && !self.entra
    }

    /// No token step applies: an older client, or one that registered without Entra ID.
    fn tokenless(&self) -> bool {
        self.old_client() || self.plain_registration
    }

    /// Whether the device's path includes a step. Steps a line shows are decided whatever this says.
    pub fn includes(&self, id: PhaseId) -> bool {
        let cloud_or_unknown = matches!(self.path, DevicePath::CmgEntra | DevicePath::Unknown);
        match id {
            PhaseId::InstallAadInfo => cloud_or_unknown && !self.tokenless(),
            PhaseId::InstallAadToken | PhaseId::RegistrationAadToken => {
                (self.entra || cloud_or_unknown) && !self.pki_only() && !self.tokenless()
            }
            PhaseId::InstallCcmToken | PhaseId::RegistrationCcmToken | PhaseId::RenewalCcmToken => {
                (self.entra || self.tokens || cloud_or_unknown) && !self.tokenless()
            }
            _ => true,
        }
    }

    fn pki_only(&self) -> bool {
        self.pki && !self.entra
    }

    /// One line: why the path leaves a step out.
    pub fn why_not(&self, id: PhaseId) -> String {
        if self.old_client() && !matches!(self.path, DevicePath::CmgEntra) {
            return format!(
                "client build {} predates Entra ID and CCM tokens (ConfigMgr 1706, build {FIRST_TOKEN_BUILD}): \
                 no such step",
                self.build.unwrap_or_default()
            );
        }
        let step = match id {
            PhaseId::InstallAadInfo => {
                "asking the CMG for Entra ID app info is a step of CMG installs with Entra ID"
            }
            PhaseId::InstallAadToken | PhaseId::RegistrationAadToken => {
                "an Entra ID token is a step of Entra ID authentication"
            }
            _ => "a CCM token is a step of Entra ID (token) authentication",
        };
        if self.plain_registration && !self.old_client() {
            return format!(
                "{step}; this client registered without Entra ID (no 'Registering client using AAD auth' line): \
                 it authenticates with its certificate"
            );
        }
        let path = match self.path {
            DevicePath::Intranet if self.pki => {
                "this client uses a PKI certificate with an intranet management point"
            }
            DevicePath::Intranet => "this device uses an intranet management point, no CMG",
            DevicePath::CmgPki => "this client authenticates to the CMG with a PKI certificate",
            _ => "this device's path does not include it",
        };
        match &self.because {
            Some(b) => format!("{step}; {path}: {b}"),
            None => format!("{step}; {path}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hundreds of thousands of devices hold these: a path's facts are 20 bytes, a device's facts 112 bytes,
    /// and an input row (57,000 on a 4 GB fleet collection) 112.
    #[test]
    fn device_and_input_rows_stay_compact() {
        assert_eq!(std::mem::size_of::<PathFacts>(), 20);
        assert_eq!(std::mem::size_of::<crate::facts::DeviceFacts>(), 112);
        assert_eq!(std::mem::size_of::<crate::model::Input>(), 112);
    }

    #[test]
    fn cmg_urls_are_recognised() {
        assert!(is_cmg_url("https://CMG.cloudapp.net/CCM_Proxy_MutualAuth/72057594037927941"));
        assert!(is_cmg_url("cmg.contoso.com/CCM_Proxy_ServerAuth/72057594037927941"));
        assert!(is_cmg_url("contoso.cloudapp.azure.com"));
        assert!(!is_cmg_url("server.dmz"));
        assert!(!is_cmg_url("HTTP://server.dmz/CCM_Client/ccmsetup.cab"));
        assert!(!is_cmg_url("https://mp01.corp.contoso.com/ccm_system/request"));
    }

    #[test]
    fn client_builds() {
        assert_eq!(build_of("5.0.8458.1007"), Some(8458));
        assert_eq!(build_of("5.00.8968.1000"), Some(8968));
        assert_eq!(build_of("garbage"), None);
    }

    #[test]
    fn what_each_path_includes() {
        let intranet = PathFacts { path: DevicePath::Intranet, ..Default::default() };
        assert!(!intranet.includes(PhaseId::InstallAadInfo));
        assert!(!intranet.includes(PhaseId::InstallAadToken));
        assert!(!intranet.includes(PhaseId::RenewalCcmToken));
        assert!(intranet.includes(PhaseId::InstallClient));
        assert!(intranet.includes(PhaseId::RegistrationConfirmed));
        // An intranet client with Entra ID lines takes the token steps.
        let entra = PathFacts { path: DevicePath::Intranet, entra: true, ..Default::default() };
        assert!(entra.includes(PhaseId::RegistrationAadToken));
        assert!(!entra.includes(PhaseId::InstallAadInfo));
        let pki = PathFacts { path: DevicePath::CmgPki, cmg: true, pki: true, ..Default::default() };
        assert!(!pki.includes(PhaseId::InstallAadToken));
        assert!(pki.includes(PhaseId::InstallContent));
        let unknown = PathFacts::default();
        assert!(PhaseId::ALL.iter().all(|&id| unknown.includes(id)));
        let old = PathFacts { path: DevicePath::Unknown, build: Some(7958), ..Default::default() };
        assert!(!old.includes(PhaseId::InstallCcmToken));
        assert!(old.includes(PhaseId::RegistrationRequest));
        // An old version line in a log kept across an upgrade: the device's own token lines win.
        let upgraded =
            PathFacts { path: DevicePath::CmgEntra, build: Some(7804), tokens: true, ..Default::default() };
        assert!(upgraded.includes(PhaseId::RenewalCcmToken));
        assert!(upgraded.includes(PhaseId::InstallAadInfo));
        let upgraded =
            PathFacts { path: DevicePath::Intranet, build: Some(7804), entra: true, ..Default::default() };
        assert!(upgraded.includes(PhaseId::RegistrationAadToken));
    }
}
