//! The pattern table (`PATTERNS`): every flow message as the log kinds it applies to, its prefilter
//! literals, its regex and the event it builds; with the helpers that turn capture groups into event fields
//! (identifiers normalised for correlation).

use std::sync::LazyLock;

use chrono::NaiveDateTime;
use regex_automata::util::primitives::NonMaxUsize;

use crate::certificates::{certificate_code, CertificateCodeSpace, CERTIFICATE_CODES};
use crate::events::{AadTokenKind, EventKind, SharedStr};
use crate::kind::LogKind;

/// Which log kinds a pattern applies to.
#[derive(Clone, Copy)]
pub(super) struct Scope(u16);

const fn bit(k: LogKind) -> u16 {
    1 << (k as u16)
}

impl Scope {
    const CLIENT: Scope = Scope(
        bit(LogKind::Ccmsetup)
            | bit(LogKind::ClientIdManagerStartup)
            | bit(LogKind::AdalOperationProvider)
            | bit(LogKind::CcmMessaging)
            | bit(LogKind::LocationServices)
            | bit(LogKind::Other),
    );
    const CCMSETUP: Scope = Scope(bit(LogKind::Ccmsetup));
    const REGISTRATION: Scope = Scope(bit(LogKind::ClientIdManagerStartup) | bit(LogKind::Other));
    const STS: Scope = Scope(bit(LogKind::CcmSts));
    const CMG: Scope = Scope(bit(LogKind::CmgService));
    const CONNECTOR: Scope = Scope(bit(LogKind::CloudProxyConnector));
    const MP_REG: Scope = Scope(bit(LogKind::MpRegistrationManager));

    pub(super) fn has(self, k: LogKind) -> bool {
        self.0 & bit(k) != 0
    }
}

pub(super) type Build = fn(&Captures<'_>) -> Option<EventKind>;

pub(super) struct Pattern {
    pub(super) scope: Scope,
    /// Literals one of which (case-insensitive) a message must contain for any pattern of the log kind to
    /// be tried: the prefilter (the gate).
    pub(super) literals: &'static [&'static str],
    /// Literals one of which (ASCII case-insensitive) every match of `regex` contains, where `literals` are
    /// not such a set or are too broad; empty: `literals` are. They pick the candidate patterns of a line.
    /// In a `(?i)` regex they hold no `s`/`k` (Unicode case folding also matches `ſ` and the Kelvin sign).
    pub(super) needles: &'static [&'static str],
    pub(super) regex: &'static str,
    pub(super) build: Build,
}

impl Pattern {
    /// The literals that make this pattern a candidate.
    pub(super) fn candidate_needles(&self) -> &'static [&'static str] {
        if self.needles.is_empty() {
            self.literals
        } else {
            self.needles
        }
    }
}

/// The capture groups of one match (the slots of `regex_automata`: group `i` at `2i` and `2i + 1`).
pub(crate) struct Captures<'h> {
    pub(super) hay: &'h str,
    pub(super) slots: &'h [Option<NonMaxUsize>],
}

/// One participating capture group.
#[derive(Clone, Copy)]
pub(crate) struct Group<'h>(&'h str);

impl<'h> Group<'h> {
    fn as_str(&self) -> &'h str {
        self.0
    }
}

impl<'h> Captures<'h> {
    fn get(&self, i: usize) -> Option<Group<'h>> {
        let start = (*self.slots.get(2 * i)?)?.get();
        let end = (*self.slots.get(2 * i + 1)?)?.get();
        Some(Group(&self.hay[start..end]))
    }
}

impl std::ops::Index<usize> for Captures<'_> {
    type Output = str;

    /// The text of group `i`; panics when the group did not participate (as `regex::Captures` does).
    fn index(&self, i: usize) -> &str {
        match self.get(i) {
            Some(g) => g.0,
            None => panic!("no group at index '{i}'"),
        }
    }
}

fn s(c: &Captures<'_>, i: usize) -> Option<SharedStr> {
    c.get(i).map(|m| m.as_str().trim()).filter(|v| !v.is_empty()).map(SharedStr::from)
}

fn lower(c: &Captures<'_>, i: usize) -> Option<SharedStr> {
    c.get(i).map(|m| m.as_str().trim()).filter(|v| !v.is_empty()).map(|v| v.to_ascii_lowercase().into())
}

/// `GUID:xxxxxxxx-...` upper case; accepts `GUID: x`, braces, or a bare GUID.
pub fn client_guid(raw: &str) -> Option<String> {
    let t = raw.trim().trim_start_matches("GUID:").trim_start_matches("guid:").trim();
    let t = t.trim_matches(|c| c == '{' || c == '}');
    if t.len() == 36 && t.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
        let mut g = String::with_capacity(5 + t.len());
        g.push_str("GUID:");
        g.extend(t.chars().map(|c| c.to_ascii_uppercase()));
        Some(g)
    } else {
        None
    }
}

fn guid(c: &Captures<'_>, i: usize) -> Option<SharedStr> {
    c.get(i).and_then(|m| client_guid(m.as_str())).map(SharedStr::from)
}

fn sid(c: &Captures<'_>, i: usize) -> Option<SharedStr> {
    c.get(i)
        .map(|m| m.as_str().trim())
        .filter(|v| !v.is_empty())
        .map(str::to_ascii_uppercase)
        .filter(|v| v.starts_with("S-1-"))
        .map(SharedStr::from)
}

/// `MM/DD/YYYY HH:MM:SS` (the client's local time in token lines).
fn local_time(c: &Captures<'_>, i: usize) -> Option<NaiveDateTime> {
    let v = c.get(i)?.as_str().trim();
    NaiveDateTime::parse_from_str(v, "%m/%d/%Y %H:%M:%S").ok()
}

fn num<T: std::str::FromStr>(c: &Captures<'_>, i: usize) -> Option<T> {
    c.get(i).and_then(|m| m.as_str().trim().parse().ok())
}

/// The WinHTTP certificate flag names of `WINHTTP_CALLBACK_STATUS_FLAG_<NAME> is set`.
fn winhttp_flag(name: &str) -> &'static str {
    match name.to_ascii_uppercase().as_str() {
        "INVALID_CA" => "invalid_ca",
        "CERT_REV_FAILED" => "cert_rev_failed",
        "CERT_CN_INVALID" => "cert_cn_invalid",
        "CERT_REVOKED" => "cert_revoked",
        "CERT_DATE_INVALID" => "cert_date_invalid",
        "CERT_WRONG_USAGE" => "cert_wrong_usage",
        "INVALID_CERT" => "invalid_cert",
        _ => "secure_failure",
    }
}

/// The `CertificateError.flag` of a certificate failure code (`crate::certificates`).
fn cert_flag_for_code(code: &str) -> Option<&'static str> {
    certificate_code(code).map(|c| c.flag)
}

/// The `Code=` form of the certificate WinHTTP errors: `URL=.., Code=12175`.
static WINHTTP_CODE_REGEX: LazyLock<String> = LazyLock::new(|| {
    let codes: Vec<&str> = CERTIFICATE_CODES
        .iter()
        .filter(|c| c.space == CertificateCodeSpace::Winhttp)
        .map(|c| c.code)
        .collect();
    format!(r"URL=([^,]*?)\s*,.*?Code=({})\b", codes.join("|"))
});

/// The HRESULTs (lower-case hex, no `0x`) of the certificate codes found anywhere in a client line.
static BARE_HRESULTS: LazyLock<Vec<String>> = LazyLock::new(|| {
    CERTIFICATE_CODES.iter().filter(|c| c.found_anywhere()).map(|c| format!("{:08x}", c.hresult())).collect()
});

/// `BARE_HRESULTS` as the pattern's needles.
static BARE_HRESULT_NEEDLES: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| BARE_HRESULTS.iter().map(String::as_str).collect());

/// The bare HRESULT form: `Error: 800B0109`, `0x80092013`.
static BARE_HRESULT_REGEX: LazyLock<String> =
    LazyLock::new(|| format!(r"(?i)(?:0x|Error:?\s*)({})\b", BARE_HRESULTS.join("|")));

/// The pattern table. Order matters only for readability; every matching pattern yields its event.
pub(super) static PATTERNS: LazyLock<Vec<Pattern>> = LazyLock::new(|| {
    vec![
        // ---- ccmsetup: Azure AD info from the CMG --------------------------------------------------
        Pattern {
            scope: Scope::CCMSETUP,
            literals: &["Getting AAD info from CMG"],
            needles: &[],
            regex: r"Getting AAD info from CMG '([^']*)'",
            build: |c| Some(EventKind::AadInfoRequested { cmg: s(c, 1), tenant: None }),
        },
        Pattern {
            scope: Scope::CCMSETUP,
            literals: &["AADAuthInfo"],
            needles: &[],
            regex: r"(?i)Host=([^,\s]+),\s*Path=/CCM_Proxy_ServerAuth/AADAuthInfo\?TenantID=([0-9A-Fa-f-]{36})",
            build: |c| Some(EventKind::AadInfoRequested { cmg: s(c, 1), tenant: lower(c, 2) }),
        },
        // ---- Azure AD tokens (ccmsetup, ADALOperationProvider / CcmAad, other client logs) -------------
        Pattern {
            scope: Scope::CLIENT,
            literals: &["token with:"],
            needles: &[],
            regex: r"Getting AAD \((device|user)\) token with: ClientId = ([^,]*), ResourceUrl = ([^,]*)",
            build: |c| {
                Some(EventKind::AadTokenRequested {
                    kind: if &c[1] == "device" { AadTokenKind::Device } else { AadTokenKind::User },
                    client_app_id: lower(c, 2),
                    resource: s(c, 3),
                })
            },
        },
        Pattern {
            // ADALOperationProvider after installation (registration): a user token through WAM.
            scope: Scope::CLIENT,
            literals: &["Getting AAD token for logged on user"],
            needles: &[],
            regex: r"Getting AAD token for logged on user\..*?ClientId: (\S+) ResourceId: (\S+)",
            build: |c| {
                Some(EventKind::AadTokenRequested {
                    kind: AadTokenKind::User,
                    client_app_id: lower(c, 1),
                    resource: s(c, 2),
                })
            },
        },
        Pattern {
            scope: Scope::CLIENT,
            literals: &["WAM token request failed"],
            needles: &[],
            regex: r"WAM token request failed\. Status (\d+), Details '(.*)'",
            build: |c| {
                Some(EventKind::AadTokenFailed {
                    sid: None,
                    status: s(c, 1),
                    hresult: None,
                    details: s(c, 2),
                })
            },
        },
        Pattern {
            scope: Scope::CLIENT,
            literals: &["Failed to get AAD token for"],
            needles: &[],
            regex: r"Failed to get AAD token for '([^']*)' from WAM API\. Error (0x[0-9A-Fa-f]+)",
            build: |c| {
                Some(EventKind::AadTokenFailed {
                    sid: sid(c, 1),
                    status: None,
                    hresult: lower(c, 2),
                    details: None,
                })
            },
        },
        Pattern {
            scope: Scope::CLIENT,
            literals: &["Falling back to get user"],
            needles: &[],
            regex: r"Falling back to get user '([^']*)' token",
            build: |c| Some(EventKind::AadTokenFallbackToUser { sid: sid(c, 1) }),
        },
        Pattern {
            scope: Scope::CLIENT,
            literals: &["Falling back to user token"],
            needles: &[],
            regex: r"not available\. Falling back to user token",
            build: |_| Some(EventKind::AadTokenFallbackToUser { sid: None }),
        },
        Pattern {
            scope: Scope::CLIENT,
            literals: &["Retrieved AAD token for AAD"],
            needles: &[],
            regex: r"Retrieved AAD token for AAD (user|device) '([^']*)'",
            build: |c| {
                let id = lower(c, 2);
                Some(if &c[1] == "device" {
                    EventKind::AadTokenAcquired { kind: AadTokenKind::Device, aad_user: None, aad_device: id }
                } else {
                    EventKind::AadTokenAcquired { kind: AadTokenKind::User, aad_user: id, aad_device: None }
                })
            },
        },
        Pattern {
            scope: Scope::CLIENT,
            literals: &["Successfully obtained AAD token"],
            needles: &[],
            regex: r"Successfully obtained AAD token",
            build: |_| {
                Some(EventKind::AadTokenAcquired {
                    kind: AadTokenKind::User,
                    aad_user: None,
                    aad_device: None,
                })
            },
        },
        // ---- CCM token --------------------------------------------------------------------------------
        Pattern {
            scope: Scope::CLIENT,
            literals: &["Getting CCM Token from"],
            needles: &[],
            regex: r"Getting CCM Token from (?:STS server '\s*([^'\s]*)|(\S+))",
            build: |c| Some(EventKind::CcmTokenRequested { sts_url: s(c, 1).or_else(|| s(c, 2))? }),
        },
        Pattern {
            scope: Scope::CLIENT,
            literals: &["Cached encrypted token for"],
            needles: &[],
            regex: r"Cached encrypted token for '([^']*)'\. Will expire at '([^']*)'",
            build: |c| Some(EventKind::CcmTokenCached { sid: sid(c, 1)?, expires_local: local_time(c, 2) }),
        },
        Pattern {
            scope: Scope::CLIENT,
            literals: &["close to expire"],
            needles: &[],
            regex: r"CCM Token for '([^']*)' \(([^)]*)\) is already expired or close to expire",
            build: |c| Some(EventKind::CcmTokenExpiring { sid: sid(c, 1)?, expires_local: local_time(c, 2) }),
        },
        Pattern {
            // Community-reported text (UNCONFIRMED wording beyond this sample).
            scope: Scope::CLIENT,
            literals: &["CCM access token"],
            needles: &["Failed to get CCM acce"],
            regex: r"(?i)Failed to get CCM access token.*?(?:Error (0x[0-9A-Fa-f]+))?$",
            build: |c| Some(EventKind::CcmTokenFailed { hresult: lower(c, 1) }),
        },
        Pattern {
            scope: Scope::CLIENT,
            literals: &["RetrieveTokenFromStsServer"],
            needles: &[],
            regex: r"RetrieveTokenFromStsServer\w* failed with error (0x[0-9A-Fa-f]+)",
            build: |c| Some(EventKind::CcmTokenFailed { hresult: lower(c, 1) }),
        },
        Pattern {
            // UNCONFIRMED: a generic "Failed to get CCM token" form.
            scope: Scope::CLIENT,
            literals: &["Failed to get CCM Token"],
            needles: &["Failed to get CCM To"],
            regex: r"(?i)Failed to get CCM token\b(?:.*?(0x[0-9A-Fa-f]{8}))?",
            build: |c| Some(EventKind::CcmTokenFailed { hresult: lower(c, 1) }),
        },
        // ---- ccmsetup: content, install, exit -----------------------------------------------------------
        Pattern {
            scope: Scope::CCMSETUP,
            literals: &["Found a valid online MP"],
            needles: &[],
            regex: r"Found a valid online MP '([^']*)'?",
            build: |c| Some(EventKind::ContentLocation { url: s(c, 1)? }),
        },
        Pattern {
            scope: Scope::CCMSETUP,
            literals: &["The location '"],
            needles: &[],
            regex: r"The location '([^'\s]*)'?",
            build: |c| Some(EventKind::ContentLocation { url: s(c, 1)? }),
        },
        Pattern {
            scope: Scope::CCMSETUP,
            literals: &["ccmsetup.cab"],
            needles: &[],
            regex: r"Checking the URL '([^'\s]*ccmsetup\.cab)",
            build: |c| Some(EventKind::ContentLocation { url: s(c, 1)? }),
        },
        Pattern {
            // Real ClientIDManagerStartup.log (shared/domain/real/cm2012-client): after `[----- STARTUP -----]`,
            // `SCCM Client Version: 5.00.7804.1000`.
            scope: Scope::REGISTRATION,
            literals: &["SCCM Client Version:"],
            needles: &[],
            regex: r"SCCM Client Version: (\S+)",
            build: |c| Some(EventKind::ClientStartup { version: s(c, 1) }),
        },
        // ---- ccmsetup: the run and the path it takes (CMG or intranet MP) -----------------------------------
        Pattern {
            // Real ccmsetup.log (shared/domain/real), line 4: `CcmSetup version: 5.0.8458.1007`, written at the
            // start of every ccmsetup run.
            scope: Scope::CCMSETUP,
            literals: &["CcmSetup version:"],
            needles: &[],
            regex: r"CcmSetup version: (\S+)",
            build: |c| Some(EventKind::CcmsetupVersion { version: s(c, 1) }),
        },
        Pattern {
            // Real ccmsetup.log, line 44: `Ccmsetup command line: "C:\Windows\ccmsetup\ccmsetup.exe" /runservice
            // "/mp:server.dmz" FSP="primary.lan" SMSSITECODE="abc"`. CMG installs name the CMG with
            // `/mp:https://<cmg>/CCM_Proxy_MutualAuth/<id>` and `CCMHOSTNAME=<cmg>/CCM_Proxy_MutualAuth/<id>`
            // (Microsoft: "Install and assign clients using Azure AD for authentication").
            scope: Scope::CCMSETUP,
            literals: &["Ccmsetup command line:"],
            needles: &[],
            regex: r#"Ccmsetup command line:(?:.*?[/"]mp:"?([^\s"]+))?(?:.*?CCMHOSTNAME="?([^\s"]+))?"#,
            build: |c| Some(EventKind::CcmsetupCommandLine { mp: s(c, 1), cmg: s(c, 2) }),
        },
        Pattern {
            // Real ccmsetup.log, line 134: `Found local location 'http://server.dmz/SMS_DP_SMSPKG$/abc00002'`;
            // line 141: `GET 'HTTP://server.dmz/CCM_Client/ccmsetup.cab'` (the client source found on the MP).
            scope: Scope::CCMSETUP,
            literals: &["Found local location '", "ccmsetup.cab"],
            needles: &[],
            regex: r"(?:Found local location '([^'\s]+)'|GET '([^'\s]*ccmsetup\.cab)')",
            build: |c| Some(EventKind::ContentLocation { url: s(c, 1).or_else(|| s(c, 2))? }),
        },
        Pattern {
            scope: Scope::CCMSETUP,
            literals: &["of the client with product code"],
            needles: &[],
            regex: r"Installing version (\S+) of the client with product code (\{[0-9A-Fa-f-]+\})",
            build: |c| Some(EventKind::ClientInstallStarted { version: s(c, 1), product_code: s(c, 2) }),
        },
        Pattern {
            scope: Scope::CCMSETUP,
            literals: &["exiting with return code"],
            needles: &[],
            regex: r"(?i)CcmSetup is exiting with return code (-?\d+)",
            build: |c| Some(EventKind::CcmsetupExit { code: num(c, 1)? }),
        },
        Pattern {
            // Real ccmsetup.log (shared/domain/real): `CcmSetup failed with error code 0x80190194`.
            scope: Scope::CCMSETUP,
            literals: &["CcmSetup failed with error code"],
            needles: &["failed with error code"],
            regex: r"(?i)CcmSetup failed with error code (0x[0-9A-Fa-f]+|-?\d+)",
            build: |c| {
                let raw = c.get(1)?.as_str();
                let code = match raw.strip_prefix("0x").or_else(|| raw.strip_prefix("0X")) {
                    Some(h) => i64::from_str_radix(h, 16).ok()?,
                    None => raw.parse().ok()?,
                };
                Some(EventKind::CcmsetupExit { code })
            },
        },
        Pattern {
            // Real ccmsetup.log:1 and :31: `==========[ ccmsetup started in process 476 ]==========`: an attempt starts.
            scope: Scope::CCMSETUP,
            literals: &["ccmsetup started in process"],
            needles: &[],
            regex: r"ccmsetup started in process (\d+)",
            build: |c| Some(EventKind::CcmsetupStarted { pid: num(c, 1) }),
        },
        Pattern {
            // UNCONFIRMED wording: `Next retry in 10 minute(s)...` after a failed attempt that ccmsetup will retry.
            scope: Scope::CCMSETUP,
            literals: &["Next retry in"],
            needles: &[],
            regex: r"Next retry in (\d+) ?minute",
            build: |c| Some(EventKind::CcmsetupRetryScheduled { minutes: num(c, 1) }),
        },
        Pattern {
            // The state message that names the failure and the content path: real ccmsetup.log:222 `[] Params to
            // send '5.0.8458.1007 Deployment Error 0x80190194. Path HTTP://server.dmz/CCM_Client'`. A success writes
            // `Deployment Error: 0x0` (real ccmsetup.log:68): no failure line.
            scope: Scope::CCMSETUP,
            literals: &["Deployment Error"],
            needles: &[],
            regex: r"Deployment Error:? (0x[0-9A-Fa-f]{8})",
            build: |c| {
                let code = lower(c, 1)?;
                (code != "0x00000000").then_some(EventKind::ErrorLogged { code: Some(code) })
            },
        },
        Pattern {
            // ccmsetup lines of the failure catalog (`analysis::causes`) that ccmsetup may write at info or warning
            // severity, kept as failure lines whatever their type. UNCONFIRMED wording (community troubleshooting
            // scripts quote them), matched case-sensitively as quoted.
            scope: Scope::CCMSETUP,
            literals: &[
                "tried all MPs",
                "Failed to get DP locations",
                "GetDPLocations failed",
                "No valid source or MP locations",
                "reboot is pending",
                "ccmsetup is already running",
                "returned failure exit code",
                "installation failed. Error text",
            ],
            needles: &[],
            regex: r"(?:tried all MPs|Failed to get DP locations|GetDPLocations failed|No valid source or MP locations|reboot is pending|ccmsetup is already running|returned failure exit code|installation failed\. Error text)(?:.*?(0x[0-9A-Fa-f]{8}))?",
            build: |c| Some(EventKind::ErrorLogged { code: lower(c, 1) }),
        },
        Pattern {
            scope: Scope::CCMSETUP,
            literals: &["Enabled SSL revocation check"],
            needles: &[],
            regex: r"Enabled SSL revocation check",
            build: |_| Some(EventKind::RevocationCheckEnabled),
        },
        Pattern {
            // UNCONFIRMED: ccmsetup's text when a PKI client-authentication certificate wins over Azure AD.
            scope: Scope::CCMSETUP,
            literals: &["PKI"],
            needles: &["cert"],
            regex: r"(?i)(?:using (?:the )?PKI (?:client )?cert\w*|PKI (?:client )?certificate (?:is )?(?:found|selected|available)|selected (?:client )?certificate.*PKI|Client selected the PKI Certificate[^\n]*)",
            build: |c| Some(EventKind::PkiCertSelected { detail: c.get(0)?.as_str().to_string().into() }),
        },
        // ---- HTTP and certificate errors (client) ----------------------------------------------------
        Pattern {
            scope: Scope::CLIENT,
            literals: &["[CCMHTTP] ERROR:"],
            needles: &[],
            regex: r"\[CCMHTTP\] ERROR: URL=([^,]*?)\s*,\s*Port=\d+, Options=\d+, >?Code=(\d+), Text=(\S+)",
            build: |c| {
                Some(EventKind::HttpError { url: s(c, 1), code: s(c, 2), text: s(c, 3), http_status: None })
            },
        },
        Pattern {
            scope: Scope::CLIENT,
            literals: &["[CCMHTTP] ERROR INFO"],
            needles: &[],
            regex: r"\[CCMHTTP\] ERROR INFO: StatusCode=\s*(\d+)\s+StatusText=\s*(\S*)",
            build: |c| {
                Some(EventKind::HttpError { url: None, code: None, text: s(c, 2), http_status: num(c, 1) })
            },
        },
        Pattern {
            scope: Scope::CLIENT,
            literals: &["WINHTTP_CALLBACK_STATUS_FLAG_"],
            needles: &[],
            regex: r"WINHTTP_CALLBACK_STATUS_FLAG_([A-Z_]+) is set",
            build: |c| {
                Some(EventKind::CertificateError { flag: winhttp_flag(&c[1]).into(), code: None, url: None })
            },
        },
        Pattern {
            scope: Scope::CLIENT,
            literals: &["Code="],
            needles: &[],
            regex: WINHTTP_CODE_REGEX.as_str(),
            build: |c| {
                Some(EventKind::CertificateError {
                    flag: cert_flag_for_code(&c[2])?.into(),
                    code: s(c, 2),
                    url: s(c, 1),
                })
            },
        },
        Pattern {
            // Certificate HRESULTs anywhere in a client line: `Error: 800B0109`, `0x80092013`.
            scope: Scope::CLIENT,
            literals: &["0x800b", "0x8009", "0x80072f", "Error: 800", "Error:800", "Error 800"],
            needles: BARE_HRESULT_NEEDLES.as_slice(),
            regex: BARE_HRESULT_REGEX.as_str(),
            build: |c| {
                let code = c[1].to_ascii_lowercase();
                Some(EventKind::CertificateError {
                    flag: cert_flag_for_code(&code)?.into(),
                    code: Some(format!("0x{code}").into()),
                    url: None,
                })
            },
        },
        Pattern {
            scope: Scope::CLIENT,
            literals: &["Site Signing Certificate"],
            needles: &[],
            regex: r"Failed to refresh Site Signing Certificate over HTTP with error (0x[0-9A-Fa-f]+)",
            build: |c| {
                Some(EventKind::HttpError {
                    url: None,
                    code: lower(c, 1),
                    text: Some("site signing certificate refresh failed".into()),
                    http_status: None,
                })
            },
        },
        Pattern {
            scope: Scope::CLIENT,
            literals: &["LSUpdateInternetManagementPoints"],
            needles: &[],
            regex: r"LSUpdateInternetManagementPoints: Failed to retrieve internet MPs from MP (\S+) with error (0x[0-9A-Fa-f]+)",
            build: |c| {
                Some(EventKind::HttpError {
                    url: s(c, 1),
                    code: lower(c, 2),
                    text: Some("internet MP list not retrieved".into()),
                    http_status: None,
                })
            },
        },
        // ---- Messages (CcmMessaging and other client logs) -------------------------------------------
        Pattern {
            scope: Scope::CLIENT,
            literals: &["Sending remote sync message"],
            needles: &[],
            regex: r"Sending remote sync message '(\{[^}]+\})' to host '([^']*)' endpoint '([^']*)'",
            build: |c| {
                Some(EventKind::MessageSent {
                    message_id: c[1].to_ascii_uppercase().into(),
                    host: s(c, 2),
                    endpoint: s(c, 3),
                })
            },
        },
        Pattern {
            scope: Scope::CLIENT,
            literals: &["got reply message"],
            needles: &[],
            regex: r"Message '(\{[^}]+\})' got reply message '(\{[^}]+\})'",
            build: |c| {
                Some(EventKind::MessageReplied {
                    message_id: c[1].to_ascii_uppercase().into(),
                    reply_id: Some(c[2].to_ascii_uppercase().into()),
                })
            },
        },
        // ---- Registration (ClientIDManagerStartup) ---------------------------------------------------------
        Pattern {
            scope: Scope::REGISTRATION,
            literals: &["Starting registration"],
            needles: &[],
            regex: r"\[RegTask\] - Starting registration, attempt (\d+)",
            build: |c| Some(EventKind::RegistrationStarted { attempt: num(c, 1) }),
        },
        Pattern {
            scope: Scope::REGISTRATION,
            literals: &["Sending registration request for"],
            needles: &[],
            regex: r"Sending registration request for (GUID:\s*[0-9A-Fa-f-]{36})",
            build: |c| Some(EventKind::RegistrationRequested { client_guid: guid(c, 1) }),
        },
        Pattern {
            scope: Scope::REGISTRATION,
            literals: &["Registering client using AAD auth"],
            needles: &[],
            regex: r"Registering client using AAD auth",
            build: |_| Some(EventKind::RegistrationUsingAad),
        },
        Pattern {
            scope: Scope::REGISTRATION,
            literals: &["Server assigned ClientID is"],
            needles: &[],
            regex: r"Client is registered\. Server assigned ClientID is (GUID:\s*[0-9A-Fa-f-]{36})\.?\s*Approval status (\d+)",
            build: |c| Some(EventKind::Registered { client_guid: guid(c, 1), approval: num(c, 2) }),
        },
        Pattern {
            // `[RegTask] - Client registration is pending. Server assigned ClientID is GUID:...` (community sample).
            scope: Scope::REGISTRATION,
            literals: &["registration is pending"],
            needles: &[],
            regex: r"Client registration is pending\. Server assigned ClientID is (GUID:\s*[0-9A-Fa-f-]{36})?",
            build: |c| Some(EventKind::RegistrationRequested { client_guid: guid(c, 1) }),
        },
        Pattern {
            // The same line: the registration is pending approval (`registration-not-approved`).
            scope: Scope::REGISTRATION,
            literals: &["registration is pending"],
            needles: &[],
            regex: r"Client registration is pending\. Server assigned ClientID is (GUID:\s*[0-9A-Fa-f-]{36})?",
            build: |c| Some(EventKind::RegistrationPending { client_guid: guid(c, 1) }),
        },
        Pattern {
            // `[RegTask] - Server rejected registration 3` (community scripts quote it; UNCONFIRMED in Microsoft docs).
            scope: Scope::REGISTRATION,
            literals: &["rejected registration"],
            needles: &[],
            regex: r"\[RegTask\] - Server rejected registration\s*(\d+)?",
            build: |c| Some(EventKind::RegistrationFailed { code: s(c, 1), reason: c[0].to_string().into() }),
        },
        Pattern {
            scope: Scope::REGISTRATION,
            literals: &["SetRegistrationState failed"],
            needles: &[],
            regex: r"SetRegistrationState failed \((0x[0-9A-Fa-f]+)\)",
            build: |c| {
                Some(EventKind::RegistrationFailed { code: lower(c, 1), reason: c[0].to_string().into() })
            },
        },
        Pattern {
            // UNCONFIRMED: generic registration failure lines of RegTask.
            scope: Scope::REGISTRATION,
            literals: &["[RegTask]"],
            needles: &["failed", "rejected"],
            regex: r"(?i)\[RegTask\] - .*?(?:registration|register)\w* (?:failed|was rejected|has been rejected)(?:.*?(0x[0-9A-Fa-f]{8}))?",
            build: |c| {
                Some(EventKind::RegistrationFailed { code: lower(c, 1), reason: c[0].to_string().into() })
            },
        },
        // ---- CCM_STS (management point) ------------------------------------------------------------------
        Pattern {
            scope: Scope::STS,
            literals: &["ProcessRequest - Start"],
            needles: &[],
            regex: r"ProcessRequest - Start",
            build: |_| Some(EventKind::StsRequestReceived { url: None }),
        },
        Pattern {
            scope: Scope::STS,
            literals: &["Incoming request URL"],
            needles: &[],
            regex: r"Incoming request URL: (\S+)",
            build: |c| Some(EventKind::StsRequestReceived { url: s(c, 1) }),
        },
        Pattern {
            scope: Scope::STS,
            literals: &["Validated AAD token"],
            needles: &[],
            // `Validated AAD token\.(?:\s+TokenType: (\S*))?\s+TenantId: (\S*)\s+UserId: (\S*)\s+DeviceId: (\S*)
            // (?:\s+OnPrem_UserSid: (\S*))?(?:\s+OnPrem_DeviceSid:\s*(\S*))?` with the shared prefixes of its
            // optional parts factored out (one-pass: captured in one forward scan); the device SID is group 6
            // after a user SID, group 7 without. Fields may be apart by more than one space (only the empty
            // user SID's single space is significant: `OnPrem_UserSid:  OnPrem_DeviceSid:`).
            regex: r"Validated AAD token\.\s+T(?:okenType: (\S*)\s+T)?enantId: (\S*)\s+UserId: (\S*)\s+DeviceId: (\S*)(?:\s+OnPrem_(?:UserSid: (\S*)(?:\s+OnPrem_DeviceSid:\s*(\S*))?|DeviceSid:\s*(\S*)))?",
            build: |c| {
                let zero = |v: Option<SharedStr>| v.filter(|x| x != "00000000-0000-0000-0000-000000000000");
                Some(EventKind::AadTokenValidated {
                    token_type: s(c, 1),
                    tenant: lower(c, 2),
                    aad_user: zero(lower(c, 3)),
                    aad_device: zero(lower(c, 4)),
                    onprem_user_sid: sid(c, 5),
                    onprem_device_sid: sid(c, 6).or_else(|| sid(c, 7)),
                })
            },
        },
        Pattern {
            scope: Scope::STS,
            literals: &["token type:"],
            needles: &[],
            regex: r"(?:Created SCCM token|Return token to client), token type: ([^,]*), hierarchyId: ([^,]*), userId: ([^,]*), deviceId:\s*(\S*)",
            build: |c| {
                Some(EventKind::CcmTokenIssued {
                    token_type: s(c, 1),
                    hierarchy: lower(c, 2),
                    cm_user: lower(c, 3),
                    client_guid: guid(c, 4),
                })
            },
        },
        Pattern {
            scope: Scope::STS,
            literals: &["Return token to client"],
            needles: &[],
            regex: r"Return token to client",
            build: |_| Some(EventKind::CcmTokenReturned),
        },
        Pattern {
            scope: Scope::STS,
            literals: &["Return code:"],
            needles: &[],
            regex: r"Return code: (\d+), Description: (.*)",
            build: |c| {
                Some(EventKind::AadTokenRejected { code: s(c, 1), reason: c[2].trim().to_string().into() })
            },
        },
        Pattern {
            scope: Scope::STS,
            literals: &["IDX"],
            needles: &[],
            regex: r"(IDX\d{5}): ([^\n]*)",
            build: |c| {
                Some(EventKind::AadTokenRejected { code: s(c, 1), reason: c[2].trim().to_string().into() })
            },
        },
        Pattern {
            scope: Scope::STS,
            literals: &["ProcessRequest - Exception"],
            needles: &[],
            regex: r"ProcessRequest - Exception: ([^\n]*)",
            build: |c| {
                Some(EventKind::AadTokenRejected { code: None, reason: c[1].trim().to_string().into() })
            },
        },
        Pattern {
            scope: Scope::STS,
            literals: &["MISE"],
            needles: &[],
            regex: r"(MISE\d{5})\W*([^\n]*)",
            build: |c| {
                Some(EventKind::AadTokenRejected { code: s(c, 1), reason: c[2].trim().to_string().into() })
            },
        },
        // ---- CMG service -------------------------------------------------------------------------------
        Pattern {
            scope: Scope::CMG,
            literals: &["RequestUri:"],
            needles: &[],
            regex: r"RequestUri: (\S+)\s+RequestCount: (\d+)(?:.*?AverageElapsedTime: (\d+) ms)?",
            build: |c| {
                Some(EventKind::CmgRequestStats {
                    uri: s(c, 1)?,
                    count: num(c, 2),
                    avg_elapsed_ms: num(c, 3),
                })
            },
        },
        // ---- CMG connection point ----------------------------------------------------------------------
        Pattern {
            scope: Scope::CONNECTOR,
            literals: &["Switched to internal URL"],
            needles: &[],
            regex: r"Switched to internal URL\. Replaced '([^']*)' in\s+'[^']*' with '([^']*)'",
            build: |c| Some(EventKind::ProxyUrlRewritten { from: s(c, 1)?, to: s(c, 2)? }),
        },
        Pattern {
            scope: Scope::CONNECTOR,
            literals: &["MessageID:"],
            needles: &[],
            regex: r"(?s)MessageID: (\S+)(?: RequestURI:\s*(\S+))?(?: EndpointName: (\S+))?(?:.*?ResponseHeader: HTTP/1\.1 (\d{3}) ?([^\n~]*))?(?:.*?ElapsedTime: (\d+) ms)?",
            build: |c| {
                Some(EventKind::ProxyRequest {
                    message_id: lower(c, 1),
                    uri: s(c, 2),
                    endpoint: s(c, 3),
                    http_status: num(c, 4),
                    status_text: s(c, 5),
                    elapsed_ms: num(c, 6),
                })
            },
        },
        Pattern {
            scope: Scope::CONNECTOR,
            literals: &["Web exception for message"],
            needles: &[],
            regex: r"Web exception for message (\S+?):? .*?\((\d{3})\) ([^.\n]*)",
            build: |c| {
                Some(EventKind::HttpError {
                    url: None,
                    code: lower(c, 1),
                    text: s(c, 3),
                    http_status: num(c, 2),
                })
            },
        },
        Pattern {
            scope: Scope::CONNECTOR,
            literals: &["CMGConnector_"],
            needles: &[],
            regex: r"HTTP/1\.1 (\d{3}) (CMGConnector_\w+)",
            build: |c| {
                Some(EventKind::HttpError { url: None, code: None, text: s(c, 2), http_status: num(c, 1) })
            },
        },
        Pattern {
            scope: Scope::CONNECTOR,
            literals: &["status: "],
            needles: &[],
            regex: r"Chain \d+ status: (OfflineRevocation|RevocationStatusUnknown|UntrustedRoot|PartialChain|NotTimeValid|Revoked)",
            build: |c| {
                let flag = match &c[1] {
                    "OfflineRevocation" | "RevocationStatusUnknown" => "revocation_offline",
                    "UntrustedRoot" | "PartialChain" => "untrusted_root",
                    "NotTimeValid" => "cert_date_invalid",
                    _ => "cert_revoked",
                };
                Some(EventKind::CertificateError { flag: flag.into(), code: s(c, 1), url: None })
            },
        },
        Pattern {
            scope: Scope::CONNECTOR,
            literals: &["Filtered cert count with client auth"],
            needles: &[],
            regex: r"Filtered cert count with client auth: 0\b",
            build: |_| {
                Some(EventKind::CertificateError {
                    flag: "no_client_auth_cert".into(),
                    code: None,
                    url: None,
                })
            },
        },
        // ---- MP registration manager -----------------------------------------------------------------------
        Pattern {
            scope: Scope::MP_REG,
            literals: &["Registering device using AAD auth"],
            needles: &[],
            // The ids are trimmed when built, so no `\s*([^']*?)\s*` around them (that is not one-pass).
            regex: r"Registering device using AAD auth: DeviceId='([^']*)', TenantId='([^']*)'",
            build: |c| {
                Some(EventKind::MpRegistration {
                    aad_device: lower(c, 1),
                    tenant: lower(c, 2),
                    client_guid: None,
                })
            },
        },
        Pattern {
            scope: Scope::MP_REG,
            literals: &["Processing Registration request from Client"],
            needles: &[],
            regex: r"Processing Registration request from Client '(GUID:\s*[0-9A-Fa-f-]{36})'",
            build: |c| {
                Some(EventKind::MpRegistration { aad_device: None, tenant: None, client_guid: guid(c, 1) })
            },
        },
        Pattern {
            // UNCONFIRMED: the MP's rejection texts are not in any source found; matched tolerantly.
            scope: Scope::MP_REG,
            literals: &["regist"],
            needles: &["failed", "rejected", "denied"],
            regex: r"(?i)(?:registration (?:request )?(?:failed|rejected|was rejected|denied)|failed to (?:process|register)[^\n]*regist)[^\n]*?(0x[0-9A-Fa-f]{8})?",
            build: |c| {
                Some(EventKind::RegistrationFailed { code: lower(c, 1), reason: c[0].to_string().into() })
            },
        },
    ]
});
