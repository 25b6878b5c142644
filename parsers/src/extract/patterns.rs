//! The pattern table (`PATTERNS`): every flow message as the log kinds it applies to, its prefilter
//! literals, its regex and the event it builds; with the helpers that turn capture groups into event fields
//! (identifiers normalised for correlation).

use std::sync::LazyLock;

use chrono::NaiveDateTime;
use regex_automata::util::primitives::NonMaxUsize;

use crate::certificates::{
    certificate_code, flag_of_chain_status, flag_of_winhttp_callback, CertificateCodeSpace,
    CERTIFICATE_CODES, CERTIFICATE_FLAGS,
};
use crate::events::{AadTokenKind, EventKind, OnPremSids, SharedStr};
use crate::kind::LogKind;
use crate::strings::Strings;

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
    /// The event it gives (`EventKind::name`). Read by the tests only, as `samples`.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(super) event: &'static str,
    /// Lines it matches, as lnav's format files have `sample` entries: texts of real logs
    /// (shared/domain/real) and of the references (shared/domain/reference.md, the seeds; the test lines
    /// of `docs/messages.md` for UNCONFIRMED wordings). Each gives `event` (`tests`).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(super) samples: &'static [&'static str],
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
    /// What the read leaves out (`None`: nothing).
    pub(super) strings: Option<&'h Strings>,
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

/// Group `i` trimmed, when it took part and is not blank.
fn trimmed<'h>(c: &Captures<'h>, i: usize) -> Option<&'h str> {
    c.get(i).map(|m| m.as_str().trim()).filter(|v| !v.is_empty())
}

fn s(c: &Captures<'_>, i: usize) -> Option<SharedStr> {
    trimmed(c, i).map(SharedStr::new)
}

fn lower(c: &Captures<'_>, i: usize) -> Option<SharedStr> {
    let v = trimmed(c, i)?;
    Some(if v.bytes().any(|b| b.is_ascii_uppercase()) {
        SharedStr::new(&v.to_ascii_lowercase())
    } else {
        SharedStr::new(v)
    })
}

/// `lower`, for a request's message id: one distinct text per request (250,000 in a 1 GB collection of
/// busy server logs), left out when the read leaves them out (`Reader::without_request_message_ids`), so
/// that the table does not hold them to the end.
fn request_id(c: &Captures<'_>, i: usize) -> Option<SharedStr> {
    if c.strings.is_some_and(Strings::leaves_out_request_ids) {
        return None;
    }
    lower(c, i)
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
    c.get(i).and_then(|m| client_guid(m.as_str())).map(|g| SharedStr::new(&g))
}

fn sid(c: &Captures<'_>, i: usize) -> Option<SharedStr> {
    trimmed(c, i).map(str::to_ascii_uppercase).filter(|v| v.starts_with("S-1-")).map(|v| SharedStr::new(&v))
}

/// `MM/DD/YYYY HH:MM:SS` (the client's local time in token lines).
fn local_time(c: &Captures<'_>, i: usize) -> Option<NaiveDateTime> {
    let v = c.get(i)?.as_str().trim();
    NaiveDateTime::parse_from_str(v, "%m/%d/%Y %H:%M:%S").ok()
}

fn num<T: std::str::FromStr>(c: &Captures<'_>, i: usize) -> Option<T> {
    c.get(i).and_then(|m| m.as_str().trim().parse().ok())
}

/// The `CertificateError.flag` of a certificate failure code (`crate::certificates`).
fn cert_flag_for_code(code: &str) -> Option<&'static str> {
    certificate_code(code).map(|c| c.flag)
}

/// The connection point's X509 chain statuses of a certificate failure: `Chain 0 status: UntrustedRoot`.
static CHAIN_STATUS_REGEX: LazyLock<String> = LazyLock::new(|| {
    let names: Vec<&str> = CERTIFICATE_FLAGS.iter().flat_map(|f| f.chain_status.iter().copied()).collect();
    format!(r"Chain \d+ status: ({})\b", names.join("|"))
});

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
            event: "aad_info_requested",
            samples: &[
                "Getting AAD info from CMG 'CMG.CLOUDAPP.NET'",
            ],
            build: |c| Some(EventKind::AadInfoRequested { cmg: s(c, 1), tenant: None }),
        },
        Pattern {
            scope: Scope::CCMSETUP,
            literals: &["AADAuthInfo"],
            needles: &[],
            regex: r"(?i)Host=([^,\s]+),\s*Path=/CCM_Proxy_ServerAuth/AADAuthInfo\?TenantID=([0-9A-Fa-f-]{36})",
            event: "aad_info_requested",
            samples: &[
                "SMS CCM 5.0: Host=CMG.CLOUDAPP.NET, Path=/CCM_Proxy_ServerAuth/AADAuthInfo?TenantID=9aaf466a-3f40-4468-b3cd-f0010f21f05a, Port=443, Protocol=https, CcmTokenAuth=0, Flags=0x1304, Options=0xe0",
                "SMS CCM 5.0: Host=CMG.CLOUDAPP.NET, Path=/CCM_Proxy_ServerAuth/AADAuthInfo?TenantID=9AAF466A-3f40-4468-b3cd-f0010f21f05a, Port=443, Protocol=https, CcmTokenAuth=0, Flags=0x1304, Options=0xe0",
            ],
            build: |c| Some(EventKind::AadInfoRequested { cmg: s(c, 1), tenant: lower(c, 2) }),
        },
        // ---- Azure AD tokens (ccmsetup, ADALOperationProvider / CcmAad, other client logs) -------------
        Pattern {
            scope: Scope::CLIENT,
            literals: &["token with:"],
            needles: &[],
            regex: r"Getting AAD \((device|user)\) token with: ClientId = ([^,]*), ResourceUrl = ([^,]*)",
            event: "aad_token_requested",
            samples: &[
                "Getting AAD (device) token with: ClientId = 0b7c8ab3-9ea1-4ffa-b2b9-8ffdd944bd8b, ResourceUrl = https://ConfigMgrService, AccountId = https://login.microsoftonline.com/common/oauth2/token",
                "Getting AAD (user) token with: ClientId = 0b7c8ab3-9ea1-4ffa-b2b9-8ffdd944bd8, ResourceUrl = https://ConfigMgrService, AccountId = 149FC29A-ECE3-123-A3C1-123456F035A6E",
                "Getting AAD (user) token with: ClientId = 0b7c8ab3-9ea1-4ffa-b2b9-8ffdd944bd8, ResourceUrl = https://ConfigMgrService, AccountId = 9756a359-f76a-47d5-8662-9a837012fc35",
            ],
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
            event: "aad_token_requested",
            samples: &[
                "Getting AAD token for logged on user. Using WAM. ClientId: 0B7C8AB3-9ea1-4ffa-b2b9-8ffdd944bd8b ResourceId: https://ConfigMgrService",
            ],
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
            event: "aad_token_failed",
            samples: &[
                "WAM token request failed. Status 5, Details 'AAD WAM extension error'",
            ],
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
            event: "aad_token_failed",
            samples: &[
                "Failed to get AAD token for 'S-1-5-18' from WAM API. Error 0xd0090016",
                "Failed to get AAD token for 'S-1-5-18' from WAM API. Error 0x800703f0",
            ],
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
            event: "aad_token_fallback_to_user",
            samples: &[
                "Falling back to get user 'S-1-5-21-1527250992-855612568-2252598708-1604' token for system...",
            ],
            build: |c| Some(EventKind::AadTokenFallbackToUser { sid: sid(c, 1) }),
        },
        Pattern {
            scope: Scope::CLIENT,
            literals: &["Falling back to user token"],
            needles: &[],
            regex: r"not available\. Falling back to user token",
            event: "aad_token_fallback_to_user",
            samples: &[
                "IWebAuthenticationCoreManagerStatics4 not available. Falling back to user token.",
            ],
            build: |_| Some(EventKind::AadTokenFallbackToUser { sid: None }),
        },
        Pattern {
            scope: Scope::CLIENT,
            literals: &["Retrieved AAD token for AAD"],
            needles: &[],
            regex: r"Retrieved AAD token for AAD (user|device) '([^']*)'",
            event: "aad_token_acquired",
            samples: &[
                "Retrieved AAD token for AAD user 'e8838041-db7a-42d5-b9ae-78813910e4cc'",
                "Retrieved AAD token for AAD user 'E8838041-db7a-42d5-b9ae-78813910e4cc'",
                "Retrieved AAD token for AAD device '8d2b4ff9-0172-4998-9851-b5324303385f'",
            ],
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
            event: "aad_token_acquired",
            samples: &[
                "Successfully obtained AAD token",
            ],
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
            event: "ccm_token_requested",
            samples: &[
                "Getting CCM Token from STS server 'cmg.cloudapp.net/CCM_PROXY_MutualAuth/72186325152220500'",
                "Getting CCM Token from https://cmg.cloudapp.net/CCM_PROXY_MutualAuth/72186325152220500/CCM_STS",
                "Getting CCM Token from STS server 'MP.MYCORP.COM'",
            ],
            build: |c| Some(EventKind::CcmTokenRequested { sts_url: s(c, 1).or_else(|| s(c, 2))? }),
        },
        Pattern {
            scope: Scope::CLIENT,
            literals: &["Cached encrypted token for"],
            needles: &[],
            regex: r"Cached encrypted token for '([^']*)'\. Will expire at '([^']*)'",
            event: "ccm_token_cached",
            samples: &[
                "Cached encrypted token for 'S-1-5-18'. Will expire at '06/25/2020 08:29:35'",
                "Cached encrypted token for 'S-1-5-18'. Will expire at '08/12/2020 18:55:40'",
                "Cached encrypted token for 'S-1-5-21-1721254763-462695806-1538882281-3289177'. Will expire at '01/10/2020 17:14:54'",
            ],
            build: |c| Some(EventKind::CcmTokenCached { sid: sid(c, 1)?, expires_local: local_time(c, 2) }),
        },
        Pattern {
            scope: Scope::CLIENT,
            literals: &["close to expire"],
            needles: &[],
            regex: r"CCM Token for '([^']*)' \(([^)]*)\) is already expired or close to expire",
            event: "ccm_token_expiring",
            samples: &[
                "CCM Token for 'S-1-5-8-1721254763-462695806-1538882281-3289177' (12/23/2019 21:47:24) is already expired or close to expire",
            ],
            build: |c| Some(EventKind::CcmTokenExpiring { sid: sid(c, 1)?, expires_local: local_time(c, 2) }),
        },
        Pattern {
            // Community-reported text (UNCONFIRMED wording beyond this sample).
            scope: Scope::CLIENT,
            literals: &["CCM access token"],
            needles: &["Failed to get CCM acce"],
            regex: r"(?i)Failed to get CCM access token.*?(?:Error (0x[0-9A-Fa-f]+))?$",
            event: "ccm_token_failed",
            samples: &[
                "Failed to get CCM access token and client doesn't have PKI issued cert to use SSL. Error 0x80070002",
            ],
            build: |c| Some(EventKind::CcmTokenFailed { hresult: lower(c, 1) }),
        },
        Pattern {
            scope: Scope::CLIENT,
            literals: &["RetrieveTokenFromStsServer"],
            needles: &[],
            regex: r"RetrieveTokenFromStsServer\w* failed with error (0x[0-9A-Fa-f]+)",
            event: "ccm_token_failed",
            samples: &[
                "RetrieveTokenFromStsServerImpl failed with error 0x87d0027e",
                "RetrieveTokenFromStsServerImpl failed with error 0x87D0027E",
            ],
            build: |c| Some(EventKind::CcmTokenFailed { hresult: lower(c, 1) }),
        },
        Pattern {
            // UNCONFIRMED: a generic "Failed to get CCM token" form.
            scope: Scope::CLIENT,
            literals: &["Failed to get CCM Token"],
            needles: &["Failed to get CCM To"],
            regex: r"(?i)Failed to get CCM token\b(?:.*?(0x[0-9A-Fa-f]{8}))?",
            event: "ccm_token_failed",
            samples: &[
                "Failed to get CCM token 0x80004005",
                "FAILED TO GET CCM TOKEN",
            ],
            build: |c| Some(EventKind::CcmTokenFailed { hresult: lower(c, 1) }),
        },
        // ---- ccmsetup: content, install, exit -----------------------------------------------------------
        Pattern {
            scope: Scope::CCMSETUP,
            literals: &["Found a valid online MP"],
            needles: &[],
            regex: r"Found a valid online MP '([^']*)'?",
            event: "content_location",
            samples: &[
                "Found a valid online MP 'https://CMG.cloudapp.net/CCM_PROXY_MutualAuth/72186325152220500",
            ],
            build: |c| Some(EventKind::ContentLocation { url: s(c, 1)? }),
        },
        Pattern {
            scope: Scope::CCMSETUP,
            literals: &["The location '"],
            needles: &[],
            regex: r"The location '([^'\s]*)'?",
            event: "content_location",
            samples: &[
                "The location 'https://CMG.cloudapp.net/downloadrestservice.svc/getcontentxmlsecure?pid=CS100001&cid=CS100001",
            ],
            build: |c| Some(EventKind::ContentLocation { url: s(c, 1)? }),
        },
        Pattern {
            scope: Scope::CCMSETUP,
            literals: &["ccmsetup.cab"],
            needles: &[],
            regex: r"Checking the URL '([^'\s]*ccmsetup\.cab)",
            event: "content_location",
            samples: &[
                "Checking the URL 'https://CMG.cloudapp.net/CCM_PROXY_MutualAuth/72186325152220500/CCM_Client/ccmsetup.cab",
                "Checking the URL 'http://MP01.FLEET.CORP/CCM_Client/ccmsetup.cab'",
            ],
            build: |c| Some(EventKind::ContentLocation { url: s(c, 1)? }),
        },
        Pattern {
            // Real ClientIDManagerStartup.log (shared/domain/real/cm2012-client): after `[----- STARTUP -----]`,
            // `SCCM Client Version: 5.00.7804.1000`.
            scope: Scope::REGISTRATION,
            literals: &["SCCM Client Version:"],
            needles: &[],
            regex: r"SCCM Client Version: (\S+)",
            event: "client_startup",
            samples: &[
                "SCCM Client Version: 5.00.7804.1000",
                "Setup_InitializePolicy: SCCM Client Version: 5.00.7804.1000",
            ],
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
            event: "ccmsetup_version",
            samples: &[
                "CcmSetup version: 5.0.8458.1007",
            ],
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
            event: "ccmsetup_command_line",
            samples: &[
                "Ccmsetup command line: ccmsetup.exe  /mp:server.dmz SMSSITECODE=abc FSP=primary.lan",
                "Ccmsetup command line: \"C:\\Windows\\ccmsetup\\ccmsetup.exe\" /runservice  \"/mp:server.dmz\" FSP=\"primary.lan\" SMSSITECODE=\"abc\"",
            ],
            build: |c| Some(EventKind::CcmsetupCommandLine { mp: s(c, 1), cmg: s(c, 2) }),
        },
        Pattern {
            // Real ccmsetup.log, line 134: `Found local location 'http://server.dmz/SMS_DP_SMSPKG$/abc00002'`;
            // line 141: `GET 'HTTP://server.dmz/CCM_Client/ccmsetup.cab'` (the client source found on the MP).
            scope: Scope::CCMSETUP,
            literals: &["Found local location '", "ccmsetup.cab"],
            needles: &[],
            regex: r"(?:Found local location '([^'\s]+)'|GET '([^'\s]*ccmsetup\.cab)')",
            event: "content_location",
            samples: &[
                "Found local location 'http://server.dmz/SMS_DP_SMSPKG$/abc00002'",
                "GET 'HTTP://server.dmz/CCM_Client/ccmsetup.cab'",
            ],
            build: |c| Some(EventKind::ContentLocation { url: s(c, 1).or_else(|| s(c, 2))? }),
        },
        Pattern {
            scope: Scope::CCMSETUP,
            literals: &["of the client with product code"],
            needles: &[],
            regex: r"Installing version (\S+) of the client with product code (\{[0-9A-Fa-f-]+\})",
            event: "client_install_started",
            samples: &[
                "Installing version 5.00.8968.1000 of the client with product code {66653948-0717-4D50-B0B9-ED66FDED2DDB}",
            ],
            build: |c| Some(EventKind::ClientInstallStarted { version: s(c, 1), product_code: s(c, 2) }),
        },
        Pattern {
            scope: Scope::CCMSETUP,
            literals: &["exiting with return code"],
            needles: &[],
            regex: r"(?i)CcmSetup is exiting with return code (-?\d+)",
            event: "ccmsetup_exit",
            samples: &[
                "CcmSetup is exiting with return code 0",
                "CcmSetup is exiting with return code 7",
            ],
            build: |c| Some(EventKind::CcmsetupExit { code: num(c, 1)? }),
        },
        Pattern {
            // Real ccmsetup.log (shared/domain/real): `CcmSetup failed with error code 0x80190194`.
            scope: Scope::CCMSETUP,
            literals: &["CcmSetup failed with error code"],
            needles: &["failed with error code"],
            regex: r"(?i)CcmSetup failed with error code (0x[0-9A-Fa-f]+|-?\d+)",
            event: "ccmsetup_exit",
            samples: &[
                "CcmSetup failed with error code 0x80190194",
                "ccmsetup FAILED with error code -2147023838",
            ],
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
            event: "ccmsetup_started",
            samples: &[
                "==========[ ccmsetup started in process 476 ]==========",
                "==========[ ccmsetup started in process 3324 ]==========",
            ],
            build: |c| Some(EventKind::CcmsetupStarted { pid: num(c, 1) }),
        },
        Pattern {
            // UNCONFIRMED wording: `Next retry in 10 minute(s)...` after a failed attempt that ccmsetup will retry.
            scope: Scope::CCMSETUP,
            literals: &["Next retry in"],
            needles: &[],
            regex: r"Next retry in (\d+) ?minute",
            event: "ccmsetup_retry_scheduled",
            samples: &[
                "Next retry in 10 minute(s)...",
            ],
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
            event: "error_logged",
            samples: &[
                "[] Params to send '5.0.8458.1007 Deployment Error 0x80190194. Path HTTP://server.dmz/CCM_Client'",
            ],
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
            event: "error_logged",
            samples: &[
                "Have already tried all MPs. Couldn't find DP locations. Error 0x87d00215",
                "Failed to get DP locations as the expected version from MP 'http://MP01'. Error 0x87d00215",
                "File 'C:\\WINDOWS\\ccmsetup\\vcredist_x64.exe' returned failure exit code 1603. Fail the installation.",
            ],
            build: |c| Some(EventKind::ErrorLogged { code: lower(c, 1) }),
        },
        Pattern {
            scope: Scope::CCMSETUP,
            literals: &["Enabled SSL revocation check"],
            needles: &[],
            regex: r"Enabled SSL revocation check",
            event: "revocation_check_enabled",
            samples: &[
                "Enabled SSL revocation check.",
            ],
            build: |_| Some(EventKind::RevocationCheckEnabled),
        },
        Pattern {
            // UNCONFIRMED: ccmsetup's text when a PKI client-authentication certificate wins over Azure AD.
            scope: Scope::CCMSETUP,
            literals: &["PKI"],
            needles: &["cert"],
            regex: r"(?i)(?:using (?:the )?PKI (?:client )?cert\w*|PKI (?:client )?certificate (?:is )?(?:found|selected|available)|selected (?:client )?certificate.*PKI|Client selected the PKI Certificate[^\n]*)",
            event: "pki_cert_selected",
            samples: &[
                "Client selected the PKI Certificate for authentication",
                "Using the PKI client certificate",
                "PKI certificate is found",
            ],
            build: |c| Some(EventKind::PkiCertSelected { detail: c.get(0)?.as_str().to_string().into() }),
        },
        // ---- HTTP and certificate errors (client) ----------------------------------------------------
        Pattern {
            scope: Scope::CLIENT,
            literals: &["[CCMHTTP] ERROR:"],
            needles: &[],
            regex: r"\[CCMHTTP\] ERROR: URL=([^,]*?)\s*,\s*Port=\d+, Options=\d+, >?Code=(\d+), Text=(\S+)",
            event: "http_error",
            samples: &[
                "[CCMHTTP] ERROR: URL=HTTP://AHS-SC-DP0.ad.uic.edu/SMS_FSP/.sms_fsp, Port=80, Options=480, Code=12002, Text=ERROR_WINHTTP_TIMEOUT",
                "[CCMHTTP] ERROR: URL=HTTP://AHS-SC-DP0.ad.uic.edu/SMS_FSP/.sms_fsp, Port=80, Options=480, Code=12007, Text=ERROR_WINHTTP_NAME_NOT_RESOLVED",
                "[CCMHTTP] ERROR: URL=http://SCCM-UIC-DP1.AD.UILLINOIS.EDU/SMS_MP/.sms_aut?MPCERT2, Port=80, Options=480, Code=12007, Text=ERROR_WINHTTP_NAME_NOT_RESOLVED",
            ],
            build: |c| {
                Some(EventKind::HttpError { url: s(c, 1), code: s(c, 2), text: s(c, 3), http_status: None })
            },
        },
        Pattern {
            scope: Scope::CLIENT,
            literals: &["[CCMHTTP] ERROR INFO"],
            needles: &[],
            regex: r"\[CCMHTTP\] ERROR INFO: StatusCode=\s*(\d+)\s+StatusText=\s*(\S*)",
            event: "http_error",
            samples: &[
                "[CCMHTTP] ERROR INFO: StatusCode= 403 StatusText= CMGConnector_Clientcertificaterequired",
                "[CCMHTTP] ERROR INFO: StatusCode= 403 StatusText=CMGConnector_Clientcertificaterequired",
                "`[CCMHTTP] ERROR INFO: StatusCode= 403 StatusText=CMGConnector_Clientcertificaterequired`; SMS_Cloud_ProxyConnector.log",
            ],
            build: |c| {
                Some(EventKind::HttpError { url: None, code: None, text: s(c, 2), http_status: num(c, 1) })
            },
        },
        Pattern {
            scope: Scope::CLIENT,
            literals: &["WINHTTP_CALLBACK_STATUS_FLAG_"],
            needles: &[],
            regex: r"WINHTTP_CALLBACK_STATUS_FLAG_([A-Z_]+) is set",
            event: "certificate_error",
            samples: &[
                "[CCMHTTP] : WINHTTP_CALLBACK_STATUS_FLAG_CERT_REV_FAILED is set",
                "[CCMHTTP] : WINHTTP_CALLBACK_STATUS_FLAG_INVALID_CA is set",
                "[CCMHTTP] : WINHTTP_CALLBACK_STATUS_FLAG_CERT_CN_INVALID is set",
            ],
            build: |c| {
                Some(EventKind::CertificateError {
                    flag: flag_of_winhttp_callback(&c[1]).into(),
                    code: None,
                    url: None,
                })
            },
        },
        Pattern {
            scope: Scope::CLIENT,
            literals: &["Code="],
            needles: &[],
            regex: WINHTTP_CODE_REGEX.as_str(),
            event: "certificate_error",
            samples: &[
                "[CCMHTTP] ERROR: URL=https://CMG.CONTOSO.COM/CCM_Proxy_ServerAuth/72057594037928017/CCM_STS, Port=443, Options=63, Code=12175, Text=ERROR_WINHTTP_SECURE_FAILURE",
                "[CCMHTTP] ERROR: URL=https://CMG.CONTOSO.COM/x , Port=443, Options=63, >Code=12045, Text=ERROR_WINHTTP_SECURE_INVALID_CA",
            ],
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
            event: "certificate_error",
            samples: &[
                "Failed to verify certificate chain. Error: 800B0109",
                "CertVerifyCertificateChainPolicy returned 0x80092013",
            ],
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
            event: "http_error",
            samples: &[
                "Failed to refresh Site Signing Certificate over HTTP with error 0x87d0027e",
                "Failed to refresh Site Signing Certificate over HTTP with error 0x87d00231",
            ],
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
            event: "http_error",
            samples: &[
                "LSUpdateInternetManagementPoints: Failed to retrieve internet MPs from MP https://mp01 with error 0x80072efd",
            ],
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
            event: "message_sent",
            samples: &[
                "Sending remote sync message '{BD03DEED-D09A-4E63-ADAD-596376FFB0DA}' to host 'CMG.CLOUDAPP.NET/CCM_Proxy_MutualAuth/72186325152220500' endpoint 'MP_PolicyManager'. Flags 0x280, sender account S-1-5-21-1721254763-462695806-1538882281-3289177",
                "Sending remote sync message '{bd03deed-d09a-4e63-adad-000000000001}' to host 'CMG.CLOUDAPP.NET/CCM_Proxy_MutualAuth/72186325152220500' endpoint 'MP_PolicyManager'",
            ],
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
            event: "message_replied",
            samples: &[
                "Message '{BD03DEED-D09A-4E63-ADAD-596376FFB0DA}' got reply message '{36EE3A78-8F6E-425F-BF5C-8460E8E56C33}' to endpoint 'dummy'",
                "Message '{BD03DEED-D09A-4E63-ADAD-000000000001}' got reply message '{bd03deed-d09a-4e63-adad-000000000002}'",
            ],
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
            event: "registration_started",
            samples: &[
                "[RegTask] - Starting registration, attempt 1.",
            ],
            build: |c| Some(EventKind::RegistrationStarted { attempt: num(c, 1) }),
        },
        Pattern {
            scope: Scope::REGISTRATION,
            literals: &["Sending registration request for"],
            needles: &[],
            regex: r"Sending registration request for (GUID:\s*[0-9A-Fa-f-]{36})",
            event: "registration_requested",
            samples: &[
                "[RegTask] - Client is not registered. Sending registration request for GUID:E3870B32-AED3-43EC-BF35-F4C55EEEEB4B ...",
                "[RegTask] - Client is not registered. Sending registration request for GUID:c66ee0fd-08E7-4B38-B282-7E6954B71139 ...",
            ],
            build: |c| Some(EventKind::RegistrationRequested { client_guid: guid(c, 1) }),
        },
        Pattern {
            scope: Scope::REGISTRATION,
            literals: &["Registering client using AAD auth"],
            needles: &[],
            regex: r"Registering client using AAD auth",
            event: "registration_using_aad",
            samples: &[
                "Registering client using AAD auth.",
            ],
            build: |_| Some(EventKind::RegistrationUsingAad),
        },
        Pattern {
            scope: Scope::REGISTRATION,
            literals: &["Server assigned ClientID is"],
            needles: &[],
            regex: r"Client is registered\. Server assigned ClientID is (GUID:\s*[0-9A-Fa-f-]{36})\.?\s*Approval status (\d+)",
            event: "registered",
            samples: &[
                "[RegTask] - Client is registered. Server assigned ClientID is GUID:E3870B32-AED3-43EC-BF35-F4C55EEEEB4B. Approval status 1",
                "[RegTask] - Client is registered. Server assigned ClientID is GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139. Approval status 3",
            ],
            build: |c| Some(EventKind::Registered { client_guid: guid(c, 1), approval: num(c, 2) }),
        },
        Pattern {
            // `[RegTask] - Client registration is pending. Server assigned ClientID is GUID:...` (community sample).
            scope: Scope::REGISTRATION,
            literals: &["registration is pending"],
            needles: &[],
            regex: r"Client registration is pending\. Server assigned ClientID is (GUID:\s*[0-9A-Fa-f-]{36})?",
            event: "registration_requested",
            samples: &[
                "[RegTask] - Client registration is pending. Server assigned ClientID is GUID:E3870B32-AED3-43EC-BF35-F4C55EEEEB4B",
                "[RegTask] - Client registration is pending. Server assigned ClientID is GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139",
            ],
            build: |c| Some(EventKind::RegistrationRequested { client_guid: guid(c, 1) }),
        },
        Pattern {
            // The same line: the registration is pending approval (`registration-not-approved`).
            scope: Scope::REGISTRATION,
            literals: &["registration is pending"],
            needles: &[],
            regex: r"Client registration is pending\. Server assigned ClientID is (GUID:\s*[0-9A-Fa-f-]{36})?",
            event: "registration_pending",
            samples: &[
                "[RegTask] - Client registration is pending. Server assigned ClientID is GUID:E3870B32-AED3-43EC-BF35-F4C55EEEEB4B",
                "[RegTask] - Client registration is pending. Server assigned ClientID is GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139",
            ],
            build: |c| Some(EventKind::RegistrationPending { client_guid: guid(c, 1) }),
        },
        Pattern {
            // `[RegTask] - Server rejected registration 3` (community scripts quote it; UNCONFIRMED in Microsoft docs).
            scope: Scope::REGISTRATION,
            literals: &["rejected registration"],
            needles: &[],
            regex: r"\[RegTask\] - Server rejected registration\s*(\d+)?",
            event: "registration_failed",
            samples: &[
                "[RegTask] - Server rejected registration 3",
            ],
            build: |c| Some(EventKind::RegistrationFailed { code: s(c, 1), reason: c[0].to_string().into() }),
        },
        Pattern {
            scope: Scope::REGISTRATION,
            literals: &["SetRegistrationState failed"],
            needles: &[],
            regex: r"SetRegistrationState failed \((0x[0-9A-Fa-f]+)\)",
            event: "registration_failed",
            samples: &[
                "SetRegistrationState failed (0x80071770)",
            ],
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
            event: "registration_failed",
            samples: &[
                "[RegTask] - Client registration failed with error 0x80004005",
                "[regtask] - something Register has been rejected, code 0x87D00231",
            ],
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
            event: "sts_request_received",
            samples: &[
                "ProcessRequest - Start",
            ],
            build: |_| Some(EventKind::StsRequestReceived { url: None }),
        },
        Pattern {
            scope: Scope::STS,
            literals: &["Incoming request URL"],
            needles: &[],
            regex: r"Incoming request URL: (\S+)",
            event: "sts_request_received",
            samples: &[
                "Incoming request URL: https://MP.MYCORP.COM/CCM_STS",
                "Incoming request URL: https://MP01.FLEET.CORP/CCM_STS",
            ],
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
            event: "aad_token_validated",
            samples: &[
                "Validated AAD token. TokenType: UDA TenantId: 2ca9a796-a1a6-43ec-88f1-5935b32155c5 UserId: e8838041-db7a-42d5-b9ae-78813910e4cc DeviceId: 8d2b4ff9-0172-4998-9851-b5324303385f OnPrem_UserSid: S-1-5-21-1527250992-855612568-2252598708-1604 OnPrem_DeviceSid:",
                "Validated AAD token. TokenType: UDA TenantId: 2CA9A796-a1a6-43ec-88f1-5935b32155c5 UserId: e8838041-db7a-42d5-b9ae-78813910e4cc DeviceId: 8d2b4ff9-0172-4998-9851-b5324303385f OnPrem_UserSid: S-1-5-21-1527250992-855612568-2252598708-1604 OnPrem_DeviceSid:",
                "Validated AAD token. TokenType: Device TenantId: 2ca9a796-a1a6-43ec-88f1-5935b32155c5 UserId: 00000000-0000-0000-0000-000000000000 DeviceId: 1db9e090-f2a3-54f4-419b-f35f5d9944d9 OnPrem_UserSid:  OnPrem_DeviceSid:",
            ],
            build: |c| {
                let zero = |v: Option<SharedStr>| v.filter(|x| x != "00000000-0000-0000-0000-000000000000");
                Some(EventKind::AadTokenValidated {
                    token_type: s(c, 1),
                    tenant: lower(c, 2),
                    aad_user: zero(lower(c, 3)),
                    aad_device: zero(lower(c, 4)),
                    onprem: OnPremSids::new(sid(c, 5), sid(c, 6).or_else(|| sid(c, 7))),
                })
            },
        },
        Pattern {
            scope: Scope::STS,
            literals: &["token type:"],
            needles: &[],
            regex: r"(?:Created SCCM token|Return token to client), token type: ([^,]*), hierarchyId: ([^,]*), userId: ([^,]*), deviceId:\s*(\S*)",
            event: "ccm_token_issued",
            samples: &[
                "Created SCCM token, token type: UDA, hierarchyId: 8ed3174b-e814-41b5-b51c-fb368f0d4003, userId: 23bbbba2-702e-4db4-8fd9-3b4fe3a5175d, deviceId: GUID:13E80CEF-5698-4C63-9ED6-E58FBFF78C38",
                "Created SCCM token, token type: Device, hierarchyId: 8ed3174b-e814-41b5-b51c-fb368f0d4003, userId: 23bbbba2-702e-4db4-8fd9-3b4fe3a5175d, deviceId: GUID:F91BB227-2C92-DAA0-37E2-3E5AD9A8930D",
                "Return token to client, token type: UDA, hierarchyId: 8ED3174B-e814-41b5-b51c-fb368f0d4003, userId: x, deviceId:  GUID:F91BB227-2C92-DAA0-37E2-3E5AD9A8930D",
            ],
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
            event: "ccm_token_returned",
            samples: &[
                "Return token to client",
            ],
            build: |_| Some(EventKind::CcmTokenReturned),
        },
        Pattern {
            scope: Scope::STS,
            literals: &["Return code:"],
            needles: &[],
            regex: r"Return code: (\d+), Description: (.*)",
            event: "aad_token_rejected",
            samples: &[
                "Return code: 401, Description: PreAuth token validation failed, System.IdentityModel.Tokens.SecurityTokenExpiredException:",
                "Return code: 401, Description: PreAuth token validation failed, System.IdentityModel.Tokens.SecurityTokenExpiredException: IDX10223: Lifetime validation failed. The token is expired.",
            ],
            build: |c| {
                Some(EventKind::AadTokenRejected { code: s(c, 1), reason: c[2].trim().to_string().into() })
            },
        },
        Pattern {
            scope: Scope::STS,
            literals: &["IDX"],
            needles: &[],
            regex: r"(IDX\d{5}): ([^\n]*)",
            event: "aad_token_rejected",
            samples: &[
                "IDX10223: Lifetime validation failed. The token is expired.",
                "Return code: 401, Description: PreAuth token validation failed, System.IdentityModel.Tokens.SecurityTokenExpiredException: IDX10223: Lifetime validation failed. The token is expired.",
            ],
            build: |c| {
                Some(EventKind::AadTokenRejected { code: s(c, 1), reason: c[2].trim().to_string().into() })
            },
        },
        Pattern {
            scope: Scope::STS,
            literals: &["ProcessRequest - Exception"],
            needles: &[],
            regex: r"ProcessRequest - Exception: ([^\n]*)",
            event: "aad_token_rejected",
            samples: &[
                "ProcessRequest - Exception: System.IO.FileLoadException: Could not load file or assembly 'System.IdentityModel.Tokens.JWT.",
                "ProcessRequest - Exception: System.Exception: MISE12034: token rejected",
            ],
            build: |c| {
                Some(EventKind::AadTokenRejected { code: None, reason: c[1].trim().to_string().into() })
            },
        },
        Pattern {
            scope: Scope::STS,
            literals: &["MISE"],
            needles: &[],
            regex: r"(MISE\d{5})\W*([^\n]*)",
            event: "aad_token_rejected",
            samples: &[
                "MISE12034",
                "ProcessRequest - Exception: System.Exception: MISE12034: token rejected",
                "MISE12034 - no IDX here",
            ],
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
            event: "cmg_request_stats",
            samples: &[
                "RequestUri: /CCM_PROXY_SERVERAUTH/72057594037937981/CCM_STS  RequestCount: 1  RequestSize: 1974 Bytes  ResponseCount: 1  ResponseSize: 1566 Bytes  AverageElapsedTime: 218 ms",
                "RequestUri: /CCM_PROXY_SERVERAUTH/72057594037937981/CCM_STS  RequestCount: 769  RequestSize: 1081595 Bytes  ResponseCount: 769     ResponseSize: 36143 Bytes  AverageElapsedTime: 3945 ms",
            ],
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
            event: "proxy_url_rewritten",
            samples: &[
                "Switched to internal URL. Replaced 'https://CMG.CLOUDAPP.NET/CCM_Proxy_MutualAuth/72186325152220500/CCM_STS' in   'https://CMG.CLOUDAPP.NET/CCM_Proxy_MutualAuth/72186325152220500/CCM_STS' with 'https://MP.MYCORP.COM/CCM_STS' and got 'https:///MP.MYCORP.COM/CCM_STS",
                "Switched to internal URL. Replaced 'https://FLEETCMG.CLOUDAPP.NET/CCM_Proxy_MutualAuth/72186325152220500/CCM_STS' in   'https://FLEETCMG.CLOUDAPP.NET/CCM_Proxy_MutualAuth/72186325152220500/CCM_STS' with 'https://MP01.FLEET.CORP/CCM_STS' and got 'https:///MP01.FLEET.CORP/CCM_STS\n",
            ],
            build: |c| Some(EventKind::ProxyUrlRewritten { from: s(c, 1)?, to: s(c, 2)? }),
        },
        Pattern {
            scope: Scope::CONNECTOR,
            literals: &["MessageID:"],
            needles: &[],
            regex: r"(?s)MessageID: (\S+)(?: RequestURI:\s*(\S+))?(?: EndpointName: (\S+))?(?:.*?ResponseHeader: HTTP/1\.1 (\d{3}) ?([^\n~]*))?(?:.*?ElapsedTime: (\d+) ms)?",
            event: "proxy_request",
            samples: &[
                "MessageID: 3087bd34-b82c-4950-b972-e82bb0fb8385 RequestURI: https://MP.MYCORP.COM/CCM_STS EndpointName: CCM_STS ResponseHeader: HTTP/1.1 200 OK \n ResponseBodySize: 0 ElapsedTime: 2 ms",
                "MessageID: abc4cd18-1617-a750-4a0a-bd9113d8ff42 RequestURI: https://MP01.FLEET.CORP/CCM_STS EndpointName: CCM_STS ResponseHeader: HTTP/1.1 200 OK \n ResponseBodySize: 0 ElapsedTime: 88 ms\n",
                "MessageID: 1 RequestURI: https://MP/SMS_MP/.sms_aut?SITESIGNCERT EndpointName: MP ResponseHeader: HTTP/1.1 403 CMGConnector_Clientcertificaterequired\n ElapsedTime: 5 ms",
            ],
            build: |c| {
                Some(EventKind::ProxyRequest {
                    message_id: request_id(c, 1),
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
            event: "http_error",
            samples: &[
                "Web exception for message 3087bd34-b82c-4950-b972-e82bb0fb8385: The remote server returned an error: (403) Forbidden.",
            ],
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
            event: "http_error",
            samples: &[
                "MessageID: 1 RequestURI: https://MP/SMS_MP/.sms_aut?SITESIGNCERT EndpointName: MP ResponseHeader: HTTP/1.1 403 CMGConnector_Clientcertificaterequired\n ElapsedTime: 5 ms",
            ],
            build: |c| {
                Some(EventKind::HttpError { url: None, code: None, text: s(c, 2), http_status: num(c, 1) })
            },
        },
        Pattern {
            scope: Scope::CONNECTOR,
            literals: &["status: "],
            needles: &[],
            regex: CHAIN_STATUS_REGEX.as_str(),
            event: "certificate_error",
            samples: &[
                "Chain 0 status: RevocationStatusUnknown",
                "Chain 1 status: OfflineRevocation",
            ],
            build: |c| {
                Some(EventKind::CertificateError { flag: flag_of_chain_status(&c[1])?.into(), code: s(c, 1), url: None })
            },
        },
        Pattern {
            scope: Scope::CONNECTOR,
            literals: &["Filtered cert count with client auth"],
            needles: &[],
            regex: r"Filtered cert count with client auth: 0\b",
            event: "certificate_error",
            samples: &[
                "Filtered cert count with client auth: 0",
            ],
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
            event: "mp_registration",
            samples: &[
                "Registering device using AAD auth: DeviceId='8d2b4ff9-0172-4998-9851-b5324303385f ', TenantId='c8c82542-203c-4df9-9d86-cdd4dae67e0a'",
            ],
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
            event: "mp_registration",
            samples: &[
                "Processing Registration request from Client 'GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139'",
            ],
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
            event: "registration_failed",
            samples: &[
                "[RegTask] - Client registration failed with error 0x80004005",
                "Registration request failed 0x80004005",
                "Failed to process registration for client, regist code 0x87D00231",
            ],
            build: |c| {
                Some(EventKind::RegistrationFailed { code: lower(c, 1), reason: c[0].to_string().into() })
            },
        },
    ]
});
