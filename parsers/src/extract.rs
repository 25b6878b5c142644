//! Extractors: the messages of the flow, by log kind, turned into typed events (`EventKind`) with the
//! identifiers they carry.
//!
//! One table of patterns (`PATTERNS`); each pattern names the log kinds it applies to, distinctive
//! literals and a regex. Per log kind the literals form one literal prefilter and the regexes one
//! `RegexSet`, behind it:
//!
//! 1. One scan finds every literal of the kind in the line (lower-cased, with the packed SIMD searcher;
//!    Aho-Corasick for long lines): a line that matters to nobody costs that scan and no more. The scan
//!    also tells which patterns can match (their *needles* occur: `literals` unless `needles` says
//!    otherwise, see `Pattern`) and where each literal starts.
//! 2. One candidate (the usual case): only its regex runs. Several: the kind's `RegexSet` runs once and
//!    decides, and the patterns it reports run.
//! 3. A regex runs anchored at the first occurrence of the literal it begins with, when it begins with
//!    one (a later match falls back to a forward search): no scan back from the match end. On an ASCII
//!    line (nearly all) it runs as compiled without Unicode, a far smaller automaton and one-pass more
//!    often; where its shape allows, through a backtracking-free matcher (`direct`) instead.
//!
//! The events are exactly those of running the set and the capturing regex of every pattern it reports
//! (the tests hold both algorithms side by side).
//!
//! Identifiers are normalised for correlation: SMS GUIDs upper case with `GUID:`; Azure AD tenant,
//! device and user ids lower case; SIDs upper case; `Will expire at` times parsed as client local time.
//!
//! Message texts come from Microsoft's Entra ID workflow reference and troubleshooting articles (see
//! `docs/messages.md`, every text with its source). Texts marked UNCONFIRMED below were not found in any
//! source and are matched tolerantly.
//!
//! `CertificateError.flag` values: `invalid_ca`, `untrusted_root`, `cert_rev_failed`, `revocation_offline`,
//! `cert_cn_invalid`, `cert_revoked`, `cert_date_invalid`, `cert_wrong_usage`, `invalid_cert`,
//! `secure_failure`, `no_client_auth_cert`.

use aho_corasick::{packed, AhoCorasick, AhoCorasickBuilder, MatchKind};
use std::sync::OnceLock;

use chrono::NaiveDateTime;
use regex::{Regex, RegexSet};
use regex_automata::util::primitives::NonMaxUsize;
use regex_automata::{meta, Anchored, Input};

use crate::entry::Entry;
use crate::events::{AadTokenKind, EventKind, SharedStr};
use crate::kind::LogKind;

mod direct;

/// Which log kinds a pattern applies to.
#[derive(Clone, Copy)]
struct Scope(u16);

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

    fn has(self, k: LogKind) -> bool {
        self.0 & bit(k) != 0
    }
}

type Build = fn(&Captures<'_>) -> Option<EventKind>;

struct Pattern {
    scope: Scope,
    /// Literals one of which (case-insensitive) a message must contain for any pattern of the log kind to
    /// be tried: the prefilter (the gate).
    literals: &'static [&'static str],
    /// Literals one of which (ASCII case-insensitive) every match of `regex` contains, where `literals` are
    /// not such a set or are too broad; empty: `literals` are. They pick the candidate patterns of a line.
    /// In a `(?i)` regex they hold no `s`/`k` (Unicode case folding also matches `ſ` and the Kelvin sign).
    needles: &'static [&'static str],
    regex: &'static str,
    build: Build,
}

impl Pattern {
    /// The literals that make this pattern a candidate.
    fn candidate_needles(&self) -> &'static [&'static str] {
        if self.needles.is_empty() {
            self.literals
        } else {
            self.needles
        }
    }
}

/// The capture groups of one match (the slots of `regex_automata`: group `i` at `2i` and `2i + 1`).
pub(crate) struct Captures<'h> {
    hay: &'h str,
    slots: &'h [Option<NonMaxUsize>],
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

/// Certificate failures named by a WinHTTP decimal code (`Code=12175`) or an HRESULT.
fn cert_flag_for_code(code: &str) -> Option<&'static str> {
    let c = code.trim().trim_start_matches("0x").trim_start_matches("0X").to_ascii_lowercase();
    Some(match c.as_str() {
        "12175" | "80072f8f" => "secure_failure",
        "12045" | "80072f0d" | "800b0109" | "80090325" | "800b010a" | "800b0112" => "untrusted_root",
        "12057" | "80072f19" | "80092013" | "80092012" | "800b010e" => "revocation_offline",
        "12038" | "80072f06" | "800b010f" => "cert_cn_invalid",
        "12037" | "80072f05" | "800b0101" | "80090328" => "cert_date_invalid",
        "12170" | "80072f8a" | "80092010" | "800b010c" => "cert_revoked",
        "12179" | "80072f93" | "800b0110" => "cert_wrong_usage",
        "12169" | "80072f89" => "invalid_cert",
        _ => return None,
    })
}

/// The pattern table. Order matters only for readability; every matching pattern yields its event.
static PATTERNS: &[Pattern] = &[
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
            Some(EventKind::AadTokenFailed { sid: None, status: s(c, 1), hresult: None, details: s(c, 2) })
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
            Some(EventKind::AadTokenAcquired { kind: AadTokenKind::User, aad_user: None, aad_device: None })
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
        regex: r"URL=([^,]*?)\s*,.*?Code=(12175|12045|12057|12038|12037|12170|12179|12169)\b",
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
        needles: &[
            "800b0109", "80090325", "800b010a", "800b0112", "80092013", "80092012", "800b010e", "80072f0d",
            "80072f19", "800b010f", "80072f06",
        ],
        regex: r"(?i)(?:0x|Error:?\s*)(800b0109|80090325|800b010a|800b0112|80092013|80092012|800b010e|80072f0d|80072f19|800b010f|80072f06)\b",
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
        build: |c| Some(EventKind::RegistrationFailed { code: lower(c, 1), reason: c[0].to_string().into() }),
    },
    Pattern {
        // UNCONFIRMED: generic registration failure lines of RegTask.
        scope: Scope::REGISTRATION,
        literals: &["[RegTask]"],
        needles: &["failed", "rejected"],
        regex: r"(?i)\[RegTask\] - .*?(?:registration|register)\w* (?:failed|was rejected|has been rejected)(?:.*?(0x[0-9A-Fa-f]{8}))?",
        build: |c| Some(EventKind::RegistrationFailed { code: lower(c, 1), reason: c[0].to_string().into() }),
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
        build: |c| Some(EventKind::AadTokenRejected { code: None, reason: c[1].trim().to_string().into() }),
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
            Some(EventKind::CmgRequestStats { uri: s(c, 1)?, count: num(c, 2), avg_elapsed_ms: num(c, 3) })
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
            Some(EventKind::HttpError { url: None, code: lower(c, 1), text: s(c, 3), http_status: num(c, 2) })
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
            Some(EventKind::CertificateError { flag: "no_client_auth_cert".into(), code: None, url: None })
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
        build: |c| Some(EventKind::RegistrationFailed { code: lower(c, 1), reason: c[0].to_string().into() }),
    },
];

/// A set of a log kind's patterns, by index (bit `i`: the kind's `i`-th pattern).
type Mask = u64;

/// A set of a log kind's literals, by automaton id.
type LitSet = u128;

/// The most capture slots of any pattern (two per group, group 0 included).
const MAX_SLOTS: usize = 32;

/// How many literal hits of a line are remembered (to anchor a search); more fall back to a full search.
const MAX_HITS: usize = 8;

/// Lines up to this length are lower-cased into a stack buffer and scanned with the packed (SIMD)
/// searcher; longer ones (and kinds with too many literals for it) with the Aho-Corasick automaton.
const PACKED_MAX_LEN: usize = 1024;

/// What one literal of a log kind's automaton stands for.
struct Literal {
    /// One of the patterns' `literals` (or has one as a prefix): its presence opens the gate.
    gate: bool,
    /// The patterns it makes candidates (it, or a prefix of it, is one of their needles).
    candidates: Mask,
    /// Itself and the kind's literals that are prefixes of it (they occur where it occurs).
    covers: LitSet,
}

/// The matchers of one pattern, compiled once and shared by every log kind the pattern applies to.
struct Compiled {
    source: &'static str,
    /// The regex as written (Unicode), for non-ASCII lines: compiled the first time one needs it.
    regex: OnceLock<meta::Regex>,
    /// The same regex compiled without Unicode, for ASCII lines (where both match alike): a far smaller
    /// automaton, and one-pass where `\s*\S*` and the like are (their UTF-8 forms share lead bytes).
    ascii: meta::Regex,
    /// The literals one of which every match starts with (`leading_literals`), when all are long
    /// enough to anchor a search on.
    leads: Vec<Vec<u8>>,
    /// A backtracking-free matcher of the ASCII regex, anchored, where its shape allows (`direct`);
    /// only for anchored patterns.
    direct: Option<direct::Direct>,
    slot_len: usize,
    build: Build,
}

impl Compiled {
    fn new(p: &Pattern) -> Compiled {
        let ascii = meta::Builder::new()
            .syntax(regex_automata::util::syntax::Config::new().unicode(false).utf8(false))
            .build(p.regex)
            .expect("static regex");
        let slot_len = ascii.group_info().slot_len();
        assert!(slot_len <= MAX_SLOTS, "too many groups: {}", p.regex);
        // (A leading literal this short would hit too often to help.)
        let mut leads = leading_literals(p.regex);
        if !leads.iter().all(|l| l.len() >= 3) {
            leads.clear();
        }
        let direct = if leads.is_empty() { None } else { direct::Direct::new(p.regex) };
        Compiled { source: p.regex, regex: OnceLock::new(), ascii, leads, direct, slot_len, build: p.build }
    }

    /// The Unicode regex (same groups as the ASCII one).
    fn unicode(&self) -> &meta::Regex {
        self.regex.get_or_init(|| {
            let regex = meta::Regex::new(self.source).expect("static regex");
            assert_eq!(regex.group_info().slot_len(), self.slot_len, "{}", self.source);
            regex
        })
    }
}

/// One pattern as a log kind uses it.
struct KindPattern {
    /// Index into `Extractors::compiled` (and `PATTERNS`).
    pattern: usize,
    /// The literals every match starts with, as this kind's literal ids, if known: the search then runs
    /// anchored where the first of them occurs instead of scanning the line forward and back.
    anchors: LitSet,
}

/// The compiled patterns of one log kind.
struct KindExtractor {
    /// Gate literals, needles and anchors of the kind's patterns, ASCII case-insensitive, every
    /// occurrence reported.
    literals: AhoCorasick,
    /// The same literals lower-cased, leftmost-longest, for lower-cased lines (`None`: too many).
    packed: Option<packed::Searcher>,
    lits: Vec<Literal>,
    /// All the kind's regexes: decides between several candidates in one pass.
    set: RegexSet,
    pats: Vec<KindPattern>,
}

/// Built once (compiles every regex), shared across threads.
pub struct Extractors {
    /// One per entry of `PATTERNS`.
    compiled: Vec<Compiled>,
    by_kind: Vec<KindExtractor>,
    generic_code: Regex,
    failure_word: Regex,
}

/// Words that make an error-severity line without a code a failure line (`ErrorLogged`).
const FAILURE_WORDS: &str =
    r"(?i)fail|error|unable|cannot|can't|could not|couldn't|denied|exception|timed out";

/// Whether a line with no specific event is a failure line of a flow log (`ErrorLogged`): an error-severity
/// line with a code (any flow log) or, in a client log, with a failure word; in ccmsetup.log also a warning
/// line with a code and `fail` (`Failed ... Error 0x..`: the install attempt's story; other client logs repeat
/// such warnings every few minutes on healthy clients, e.g. `RegTask: Failed to refresh site code`). Info
/// lines never.
fn failure_line(
    kind: LogKind,
    severity: crate::entry::Severity,
    has_code: bool,
    has_word: bool,
    msg: &str,
) -> bool {
    use crate::entry::Severity;
    match severity {
        Severity::Error => has_code || (has_word && client_kind(kind)),
        Severity::Warning => {
            kind == LogKind::Ccmsetup
                && has_code
                && msg.as_bytes().windows(4).any(|w| w.eq_ignore_ascii_case(b"fail"))
        }
        Severity::Info => false,
    }
}

/// A client flow log (failure words count there).
fn client_kind(kind: LogKind) -> bool {
    kind != LogKind::Other && kind.role() == crate::kind::HostRole::Client
}

impl Default for Extractors {
    fn default() -> Self {
        Self::new()
    }
}

/// The literals one of which every match of `regex` starts with (case-sensitive), if any: a leading
/// literal, or a leading alternation of literals.
fn leading_literals(regex: &str) -> Vec<Vec<u8>> {
    use regex_syntax::hir::{Hir, HirKind};
    fn of(h: &Hir) -> Option<Vec<Vec<u8>>> {
        match h.kind() {
            HirKind::Literal(l) => Some(vec![l.0.to_vec()]),
            HirKind::Alternation(alts) => alts
                .iter()
                .map(|a| match a.kind() {
                    HirKind::Literal(l) => Some(l.0.to_vec()),
                    _ => None,
                })
                .collect(),
            HirKind::Capture(c) => of(&c.sub),
            HirKind::Concat(parts) => of(parts.first()?),
            _ => None,
        }
    }
    regex_syntax::parse(regex).ok().as_ref().and_then(of).unwrap_or_default()
}

/// A message's literal scan and whether it may give an event (`Extractors::prefilter`), kept so that
/// `extract_prefiltered` need not scan the same text again.
#[derive(Clone, Copy)]
pub struct Prefiltered {
    /// Address and length of the text scanned.
    text: (usize, usize),
    hits: Hits,
    pub may_match: bool,
}

/// The literal hits of one line: gate, candidates and where literals start.
#[derive(Clone, Copy)]
struct Hits {
    gate: bool,
    candidates: Mask,
    at: [(u32, u32); MAX_HITS],
    n: usize,
    overflow: bool,
}

impl Hits {
    fn add(&mut self, lits: &[Literal], id: usize, start: usize) {
        let l = &lits[id];
        self.gate |= l.gate;
        self.candidates |= l.candidates;
        if self.n < MAX_HITS {
            self.at[self.n] = (id as u32, start as u32);
            self.n += 1;
        } else {
            self.overflow = true;
        }
    }

    /// Where the first of `anchors` occurs (`Err` when not known: too many hits to remember).
    fn first(&self, lits: &[Literal], anchors: LitSet) -> Result<Option<usize>, ()> {
        if self.overflow {
            return Err(());
        }
        Ok(self.at[..self.n]
            .iter()
            .filter(|(id, _)| lits[*id as usize].covers & anchors != 0)
            .map(|&(_, at)| at as usize)
            .min())
    }
}

impl KindExtractor {
    /// `ids`: the indices in `PATTERNS` (and `compiled`) of the kind's patterns.
    fn new(ids: &[usize], compiled: &[Compiled]) -> KindExtractor {
        assert!(ids.len() <= Mask::BITS as usize, "too many patterns for one log kind");
        let pats: Vec<&Pattern> = ids.iter().map(|&i| &PATTERNS[i]).collect();
        // Literals are matched ASCII case-insensitively: one id per literal up to case.
        let mut names: Vec<String> = Vec::new();
        let mut id = |lit: &str| -> usize {
            assert!(lit.is_ascii() && !lit.is_empty(), "literal {lit:?}");
            match names.iter().position(|n| n.eq_ignore_ascii_case(lit)) {
                Some(i) => i,
                None => {
                    names.push(lit.to_ascii_lowercase());
                    names.len() - 1
                }
            }
        };
        let mut gate: Vec<usize> = Vec::new();
        let mut needles: Vec<(usize, usize)> = Vec::new();
        let mut anchors: Vec<LitSet> = vec![0; pats.len()];
        for (i, p) in pats.iter().enumerate() {
            gate.extend(p.literals.iter().map(|l| id(l)));
            needles.extend(p.candidate_needles().iter().map(|l| (id(l), i)));
            for lead in &compiled[ids[i]].leads {
                let lead = std::str::from_utf8(lead).expect("regex literal");
                // A needle the leading literal starts with serves as well (every match starts where it
                // occurs) and keeps the literal count down.
                let needle = p.candidate_needles().iter().find(|n| {
                    lead.len() >= n.len() && lead.as_bytes()[..n.len()].eq_ignore_ascii_case(n.as_bytes())
                });
                anchors[i] |= 1 << id(needle.copied().unwrap_or(lead));
            }
        }
        assert!(names.len() <= LitSet::BITS as usize, "too many literals for one log kind");
        let mut lits: Vec<Literal> = names
            .iter()
            .map(|n| Literal {
                gate: false,
                candidates: 0,
                covers: names
                    .iter()
                    .enumerate()
                    .filter(|(_, m)| n.starts_with(m.as_str()))
                    .fold(0, |s, (j, _)| s | 1 << j),
            })
            .collect();
        for l in lits.iter_mut() {
            for &g in &gate {
                l.gate |= l.covers & (1 << g) != 0;
            }
            for &(n, i) in &needles {
                if l.covers & (1 << n) != 0 {
                    l.candidates |= 1 << i;
                }
            }
        }
        let kind_pats =
            ids.iter().zip(anchors).map(|(&pattern, anchors)| KindPattern { pattern, anchors }).collect();
        KindExtractor {
            literals: AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .build(&names)
                .expect("static literals"),
            packed: packed::Config::new()
                .match_kind(packed::MatchKind::LeftmostLongest)
                .builder()
                .extend(&names)
                .build(),
            lits,
            set: RegexSet::new(pats.iter().map(|p| p.regex)).expect("static regexes"),
            pats: kind_pats,
        }
    }

    /// Every occurrence of the kind's literals in `msg`.
    fn scan(&self, msg: &str) -> Hits {
        let mut hits = Hits { gate: false, candidates: 0, at: [(0, 0); MAX_HITS], n: 0, overflow: false };
        match &self.packed {
            Some(packed) if msg.len() <= PACKED_MAX_LEN => {
                let mut buf = [0u8; PACKED_MAX_LEN];
                let low = &mut buf[..msg.len()];
                low.copy_from_slice(msg.as_bytes());
                low.make_ascii_lowercase();
                // Leftmost-longest from every start: a literal that is a prefix of the one found at a
                // start is credited through `covers`; one starting inside it is found by the next search.
                let mut from = 0;
                while let Some(m) = packed.find_in(&*low, aho_corasick::Span::from(from..low.len())) {
                    let id = m.pattern().as_usize();
                    let covers = self.lits[id].covers;
                    hits.add(&self.lits, id, m.start());
                    if covers != 1 << id {
                        // Record the prefixes too, so that their own anchors see this occurrence.
                        for j in (0..self.lits.len()).filter(|&j| j != id && covers & (1 << j) != 0) {
                            hits.add(&self.lits, j, m.start());
                        }
                    }
                    from = m.start() + 1;
                }
            }
            _ => {
                for m in self.literals.find_overlapping_iter(msg) {
                    hits.add(&self.lits, m.pattern().as_usize(), m.start());
                }
            }
        }
        hits
    }

    /// Runs the kind's pattern `i` on `msg` and appends its event (if new).
    fn run(
        &self,
        compiled: &[Compiled],
        i: usize,
        msg: &str,
        hits: &Hits,
        out: &mut Vec<EventKind>,
        before: usize,
    ) {
        let KindPattern { pattern, anchors } = self.pats[i];
        let p = &compiled[pattern];
        let ascii = msg.is_ascii();
        let regex = if ascii { &p.ascii } else { p.unicode() };
        let mut buf = [None; MAX_SLOTS];
        let slots = &mut buf[..p.slot_len];
        let found = match hits.first(&self.lits, anchors) {
            // Every match starts at an occurrence of an anchor: the leftmost one is at the first
            // occurrence or, failing that, at a later one.
            Ok(Some(at)) if anchors != 0 => {
                let here = match &p.direct {
                    Some(d) if ascii => d.match_at(msg.as_bytes(), at, slots),
                    _ => regex
                        .search_slots(&Input::new(msg).range(at..).anchored(Anchored::Yes), slots)
                        .is_some(),
                };
                here || regex.search_slots(&Input::new(msg).range(at + 1..), slots).is_some()
            }
            Ok(None) if anchors != 0 => false,
            _ => regex.search_slots(&Input::new(msg), slots).is_some(),
        };
        if found {
            if let Some(ev) = (p.build)(&Captures { hay: msg, slots }) {
                if !out[before..].contains(&ev) {
                    out.push(ev);
                }
            }
        }
    }
}

impl Extractors {
    pub fn new() -> Extractors {
        let compiled: Vec<Compiled> = PATTERNS.iter().map(Compiled::new).collect();
        let by_kind = LogKind::ALL
            .iter()
            .map(|&k| {
                let ids: Vec<usize> = (0..PATTERNS.len()).filter(|&i| PATTERNS[i].scope.has(k)).collect();
                KindExtractor::new(&ids, &compiled)
            })
            .collect();
        Extractors {
            compiled,
            by_kind,
            generic_code: Regex::new(r"(?i)\b0x(8[0-9a-f]{7}|c[0-9a-f]{7}|d[0-9a-f]{7})\b").expect("static"),
            failure_word: Regex::new(FAILURE_WORDS).expect("static"),
        }
    }

    /// Appends the events `entry` carries (usually none) for a file of `kind`.
    /// Whether a message of this log kind, as written in the file (`\r\n` or `~~` where the entry's
    /// message has `\n`, trailing blanks not trimmed), can give an event: one of the kind's literals
    /// opens the gate for a candidate pattern, or (flow logs) it holds an error code. When it does not,
    /// `extract` on its entry gives nothing, whatever the entry's severity: the literals and the code hold
    /// no line break, so they are found in the text as written exactly where they are in the message.
    /// `parse` reads every entry; `analyze` needs only these (`Records::keep_only`).
    pub fn may_match(&self, kind: LogKind, raw_message: &str) -> bool {
        self.prefilter(kind, raw_message).may_match
    }

    /// `may_match`, keeping the literal scan for `extract_prefiltered`.
    pub fn prefilter(&self, kind: LogKind, raw_message: &str) -> Prefiltered {
        let hits = self.by_kind[kind as usize].scan(raw_message);
        let may_match = (hits.gate && hits.candidates != 0)
            || (kind != LogKind::Other && self.generic_code.is_match(raw_message))
            || (client_kind(kind) && self.failure_word.is_match(raw_message));
        Prefiltered { text: (raw_message.as_ptr() as usize, raw_message.len()), hits, may_match }
    }

    /// `extract`, reusing the literal scan of `pre` when the entry's message is the very text it
    /// scanned (a message with no line break to rewrite and nothing to trim: most of them).
    pub fn extract_prefiltered(
        &self,
        kind: LogKind,
        entry: &Entry<'_>,
        pre: Option<&Prefiltered>,
        out: &mut Vec<EventKind>,
    ) {
        let msg: &str = &entry.message;
        let same_text = |p: &&Prefiltered| p.text == (msg.as_ptr() as usize, msg.len());
        let hits = match pre.filter(same_text) {
            Some(p) => p.hits,
            None => self.by_kind[kind as usize].scan(msg),
        };
        self.extract_with_hits(kind, entry, &hits, out);
    }

    pub fn extract(&self, kind: LogKind, entry: &Entry<'_>, out: &mut Vec<EventKind>) {
        self.extract_prefiltered(kind, entry, None, out);
    }

    fn extract_with_hits(&self, kind: LogKind, entry: &Entry<'_>, hits: &Hits, out: &mut Vec<EventKind>) {
        let k = &self.by_kind[kind as usize];
        let msg: &str = &entry.message;
        let before = out.len();
        if hits.gate && hits.candidates != 0 {
            if hits.candidates.is_power_of_two() {
                k.run(&self.compiled, hits.candidates.trailing_zeros() as usize, msg, hits, out, before);
            } else {
                for i in k.set.matches(msg).iter() {
                    debug_assert!(hits.candidates & (1 << i) != 0, "pattern {i} matched without its needles");
                    k.run(&self.compiled, i, msg, hits, out, before);
                }
            }
        }
        // A failure line of a flow log with no specific event: keep it for rules, trace and the causes of
        // failures (`failure_line`).
        if out.len() == before && kind != LogKind::Other && entry.severity != crate::entry::Severity::Info {
            let code = self.generic_code.find(msg);
            if failure_line(kind, entry.severity, code.is_some(), self.failure_word.is_match(msg), msg) {
                out.push(EventKind::ErrorLogged {
                    code: code.map(|m| m.as_str().to_ascii_lowercase().into()),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::{LineFormat, Severity};
    use std::borrow::Cow;

    fn ev(kind: LogKind, msg: &str) -> Vec<EventKind> {
        ev_sev(kind, msg, Severity::Info)
    }

    fn ev_sev(kind: LogKind, msg: &str, severity: Severity) -> Vec<EventKind> {
        let e = entry(msg, severity);
        static X: std::sync::OnceLock<Extractors> = std::sync::OnceLock::new();
        let mut out = Vec::new();
        X.get_or_init(Extractors::new).extract(kind, &e, &mut out);
        out
    }

    fn one(kind: LogKind, msg: &str) -> EventKind {
        let v = ev(kind, msg);
        assert_eq!(v.len(), 1, "{msg}: {v:?}");
        v.into_iter().next().unwrap()
    }

    use LogKind::*;

    #[test]
    fn ccmsetup_aad_info_and_tokens() {
        assert_eq!(
            one(Ccmsetup, "Getting AAD info from CMG 'CMG.CLOUDAPP.NET'"),
            EventKind::AadInfoRequested { cmg: Some("CMG.CLOUDAPP.NET".into()), tenant: None }
        );
        assert_eq!(
            one(Ccmsetup, "SMS CCM 5.0: Host=CMG.CLOUDAPP.NET, Path=/CCM_Proxy_ServerAuth/AADAuthInfo?TenantID=9AAF466A-3f40-4468-b3cd-f0010f21f05a, Port=443, Protocol=https, CcmTokenAuth=0, Flags=0x1304, Options=0xe0"),
            EventKind::AadInfoRequested { cmg: Some("CMG.CLOUDAPP.NET".into()), tenant: Some("9aaf466a-3f40-4468-b3cd-f0010f21f05a".into()) }
        );
        assert_eq!(
            one(Ccmsetup, "Getting AAD (device) token with: ClientId = 0b7c8ab3-9ea1-4ffa-b2b9-8ffdd944bd8b, ResourceUrl = https://ConfigMgrService, AccountId = https://login.microsoftonline.com/common/oauth2/token"),
            EventKind::AadTokenRequested { kind: AadTokenKind::Device, client_app_id: Some("0b7c8ab3-9ea1-4ffa-b2b9-8ffdd944bd8b".into()), resource: Some("https://ConfigMgrService".into()) }
        );
        assert_eq!(
            one(Ccmsetup, "WAM token request failed. Status 5, Details 'AAD WAM extension error'"),
            EventKind::AadTokenFailed {
                sid: None,
                status: Some("5".into()),
                hresult: None,
                details: Some("AAD WAM extension error".into())
            }
        );
        assert_eq!(
            one(Ccmsetup, "Failed to get AAD token for 'S-1-5-18' from WAM API. Error 0xd0090016"),
            EventKind::AadTokenFailed {
                sid: Some("S-1-5-18".into()),
                status: None,
                hresult: Some("0xd0090016".into()),
                details: None
            }
        );
        assert_eq!(
            one(Ccmsetup, "Falling back to get user 'S-1-5-21-1527250992-855612568-2252598708-1604' token for system..."),
            EventKind::AadTokenFallbackToUser { sid: Some("S-1-5-21-1527250992-855612568-2252598708-1604".into()) }
        );
        assert_eq!(
            one(
                AdalOperationProvider,
                "Retrieved AAD token for AAD user 'E8838041-db7a-42d5-b9ae-78813910e4cc'"
            ),
            EventKind::AadTokenAcquired {
                kind: AadTokenKind::User,
                aad_user: Some("e8838041-db7a-42d5-b9ae-78813910e4cc".into()),
                aad_device: None
            }
        );
        assert_eq!(
            one(Ccmsetup, "Retrieved AAD token for AAD device '8d2b4ff9-0172-4998-9851-b5324303385f'"),
            EventKind::AadTokenAcquired {
                kind: AadTokenKind::Device,
                aad_user: None,
                aad_device: Some("8d2b4ff9-0172-4998-9851-b5324303385f".into())
            }
        );
        assert_eq!(
            one(
                AdalOperationProvider,
                "IWebAuthenticationCoreManagerStatics4 not available. Falling back to user token."
            ),
            EventKind::AadTokenFallbackToUser { sid: None }
        );
    }

    #[test]
    fn ccm_token_lines() {
        assert_eq!(
            one(
                Ccmsetup,
                "Getting CCM Token from STS server 'cmg.cloudapp.net/CCM_PROXY_MutualAuth/72186325152220500'"
            ),
            EventKind::CcmTokenRequested {
                sts_url: "cmg.cloudapp.net/CCM_PROXY_MutualAuth/72186325152220500".into()
            }
        );
        // A line cut before its closing quote keeps the URL, not the word `STS`; empty quotes name none.
        assert_eq!(
            one(Ccmsetup, "Getting CCM Token from STS server 'cmg.cloudapp.net/CCM_PROXY_MutualAuth/7218"),
            EventKind::CcmTokenRequested { sts_url: "cmg.cloudapp.net/CCM_PROXY_MutualAuth/7218".into() }
        );
        assert!(ev(Ccmsetup, "Getting CCM Token from STS server ''").is_empty());
        assert_eq!(
            one(ClientIdManagerStartup, "Getting CCM Token from https://MP.MYCORP.COM/CCM_STS"),
            EventKind::CcmTokenRequested { sts_url: "https://MP.MYCORP.COM/CCM_STS".into() }
        );
        let t = chrono::NaiveDate::from_ymd_opt(2020, 6, 25).unwrap().and_hms_opt(8, 29, 35).unwrap();
        assert_eq!(
            one(Ccmsetup, "Cached encrypted token for 'S-1-5-18'. Will expire at '06/25/2020 08:29:35'"),
            EventKind::CcmTokenCached { sid: "S-1-5-18".into(), expires_local: Some(t) }
        );
        let t = chrono::NaiveDate::from_ymd_opt(2019, 12, 23).unwrap().and_hms_opt(21, 47, 24).unwrap();
        assert_eq!(
            one(CcmMessaging, "CCM Token for 'S-1-5-8-1721254763-462695806-1538882281-3289177' (12/23/2019 21:47:24) is already expired or close to expire"),
            EventKind::CcmTokenExpiring { sid: "S-1-5-8-1721254763-462695806-1538882281-3289177".into(), expires_local: Some(t) }
        );
        assert_eq!(
            one(LocationServices, "RetrieveTokenFromStsServerImpl failed with error 0x87D0027E"),
            EventKind::CcmTokenFailed { hresult: Some("0x87d0027e".into()) }
        );
        assert_eq!(
            one(Ccmsetup, "Failed to get CCM access token and client doesn't have PKI issued cert to use SSL. Error 0x80070002"),
            EventKind::CcmTokenFailed { hresult: Some("0x80070002".into()) }
        );
    }

    #[test]
    fn ccmsetup_content_install_exit() {
        assert!(matches!(
            one(
                Ccmsetup,
                "Found a valid online MP 'https://CMG.cloudapp.net/CCM_PROXY_MutualAuth/72186325152220500"
            ),
            EventKind::ContentLocation { .. }
        ));
        assert!(matches!(one(Ccmsetup, "The location 'https://CMG.cloudapp.net/downloadrestservice.svc/getcontentxmlsecure?pid=CS100001&cid=CS100001"), EventKind::ContentLocation { .. }));
        assert_eq!(
            one(Ccmsetup, "Installing version 5.00.8968.1000 of the client with product code {66653948-0717-4D50-B0B9-ED66FDED2DDB}"),
            EventKind::ClientInstallStarted { version: Some("5.00.8968.1000".into()), product_code: Some("{66653948-0717-4D50-B0B9-ED66FDED2DDB}".into()) }
        );
        assert_eq!(
            one(Ccmsetup, "CcmSetup is exiting with return code 7"),
            EventKind::CcmsetupExit { code: 7 }
        );
        assert_eq!(
            one(Ccmsetup, "CcmSetup failed with error code 0x80190194"),
            EventKind::CcmsetupExit { code: 0x80190194 }
        );
        assert_eq!(one(Ccmsetup, "Enabled SSL revocation check."), EventKind::RevocationCheckEnabled);
    }

    #[test]
    fn http_and_certificate_errors() {
        let v = ev(LocationServices, "[CCMHTTP] ERROR: URL=https://CMG.CONTOSO.COM/CCM_Proxy_ServerAuth/72057594037928017/CCM_STS, Port=443, Options=63, Code=12175, Text=ERROR_WINHTTP_SECURE_FAILURE");
        assert_eq!(v.len(), 2, "{v:?}");
        assert_eq!(
            v[0],
            EventKind::HttpError {
                url: Some("https://CMG.CONTOSO.COM/CCM_Proxy_ServerAuth/72057594037928017/CCM_STS".into()),
                code: Some("12175".into()),
                text: Some("ERROR_WINHTTP_SECURE_FAILURE".into()),
                http_status: None
            }
        );
        assert!(matches!(&v[1], EventKind::CertificateError { flag, .. } if flag == "secure_failure"));
        assert_eq!(
            one(
                LocationServices,
                "[CCMHTTP] ERROR INFO: StatusCode= 403 StatusText= CMGConnector_Clientcertificaterequired"
            ),
            EventKind::HttpError {
                url: None,
                code: None,
                text: Some("CMGConnector_Clientcertificaterequired".into()),
                http_status: Some(403)
            }
        );
        assert_eq!(
            one(Ccmsetup, "[CCMHTTP] : WINHTTP_CALLBACK_STATUS_FLAG_INVALID_CA is set"),
            EventKind::CertificateError { flag: "invalid_ca".into(), code: None, url: None }
        );
        assert_eq!(
            one(Ccmsetup, "[CCMHTTP] : WINHTTP_CALLBACK_STATUS_FLAG_CERT_REV_FAILED is set"),
            EventKind::CertificateError { flag: "cert_rev_failed".into(), code: None, url: None }
        );
        assert!(
            matches!(one(Ccmsetup, "Failed to verify certificate chain. Error: 800B0109"), EventKind::CertificateError { flag, .. } if flag == "untrusted_root")
        );
    }

    #[test]
    fn noise_and_near_misses_cost_nothing() {
        for msg in [
            "Created connection on port 443",
            "SMS CCM 5.0: Host=CMG.CLOUDAPP.NET, Path=/CCM_Proxy_ServerAuth/72057594037937995/CCM_Client, Port=443, Flags=0x1304, Options=0xe0",
            "[CCMHTTP] : lpvStatusInformation is 0x9",
            "Updated security on object C:\\Windows\\ccmsetup\\cache\\.",
            "Appending CCM Token to the header.",
        ] {
            assert!(ev(Ccmsetup, msg).is_empty(), "{msg}");
        }
        // Server patterns do not fire in client logs and vice versa.
        assert!(
            ev(Ccmsetup, "Validated AAD token. TokenType: UDA TenantId: a UserId: b DeviceId: c").is_empty()
        );
        assert!(ev(CcmSts, "Getting AAD info from CMG 'x'").is_empty());
    }

    #[test]
    fn registration_lines() {
        assert_eq!(
            one(ClientIdManagerStartup, "[RegTask] - Starting registration, attempt 1."),
            EventKind::RegistrationStarted { attempt: Some(1) }
        );
        assert_eq!(
            one(ClientIdManagerStartup, "[RegTask] - Client is not registered. Sending registration request for GUID:c66ee0fd-08E7-4B38-B282-7E6954B71139 ..."),
            EventKind::RegistrationRequested { client_guid: Some("GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139".into()) }
        );
        assert_eq!(
            one(ClientIdManagerStartup, "Registering client using AAD auth."),
            EventKind::RegistrationUsingAad
        );
        assert_eq!(
            one(ClientIdManagerStartup, "[RegTask] - Client is registered. Server assigned ClientID is GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139. Approval status 3"),
            EventKind::Registered { client_guid: Some("GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139".into()), approval: Some(3) }
        );
        assert!(
            matches!(one(ClientIdManagerStartup, "SetRegistrationState failed (0x80071770)"), EventKind::RegistrationFailed { code: Some(c), .. } if c == "0x80071770")
        );
    }

    #[test]
    fn sts_lines() {
        assert_eq!(one(CcmSts, "ProcessRequest - Start"), EventKind::StsRequestReceived { url: None });
        assert_eq!(
            one(CcmSts, "Incoming request URL: https://MP.MYCORP.COM/CCM_STS"),
            EventKind::StsRequestReceived { url: Some("https://MP.MYCORP.COM/CCM_STS".into()) }
        );
        assert_eq!(
            one(CcmSts, "Validated AAD token. TokenType: UDA TenantId: 2CA9A796-a1a6-43ec-88f1-5935b32155c5 UserId: e8838041-db7a-42d5-b9ae-78813910e4cc DeviceId: 8d2b4ff9-0172-4998-9851-b5324303385f OnPrem_UserSid: S-1-5-21-1527250992-855612568-2252598708-1604 OnPrem_DeviceSid:"),
            EventKind::AadTokenValidated {
                token_type: Some("UDA".into()),
                tenant: Some("2ca9a796-a1a6-43ec-88f1-5935b32155c5".into()),
                aad_user: Some("e8838041-db7a-42d5-b9ae-78813910e4cc".into()),
                aad_device: Some("8d2b4ff9-0172-4998-9851-b5324303385f".into()),
                onprem_user_sid: Some("S-1-5-21-1527250992-855612568-2252598708-1604".into()),
                onprem_device_sid: None,
            }
        );
        // Fields apart by more than one space: the same event.
        assert!(matches!(
            one(CcmSts, "Validated AAD token.  TokenType: Device  TenantId: c8c82542-203c-4df9-9d86-cdd4dae67e0a   UserId: 00000000-0000-0000-0000-000000000000 DeviceId: 82aa00ad-f062-4c4c-b062-db0000ac04d5  OnPrem_UserSid: S-1-5-21-1-2-3-1001  OnPrem_DeviceSid: S-1-5-21-1-2-3-2002"),
            EventKind::AadTokenValidated { tenant: Some(t), aad_device: Some(d), onprem_user_sid: Some(u), onprem_device_sid: Some(c), .. }
                if t == "c8c82542-203c-4df9-9d86-cdd4dae67e0a" && d == "82aa00ad-f062-4c4c-b062-db0000ac04d5"
                    && u == "S-1-5-21-1-2-3-1001" && c == "S-1-5-21-1-2-3-2002"
        ));
        // Device-only token: zero user id, empty SIDs.
        assert!(matches!(
            one(CcmSts, "Validated AAD token. TokenType: Device TenantId: c8c82542-203c-4df9-9d86-cdd4dae67e0a UserId: 00000000-0000-0000-0000-000000000000 DeviceId: 82aa00ad-f062-4c4c-b062-db0000ac04d5 OnPrem_UserSid:  OnPrem_DeviceSid:"),
            EventKind::AadTokenValidated { aad_user: None, onprem_user_sid: None, .. }
        ));
        assert_eq!(
            one(CcmSts, "Created SCCM token, token type: UDA, hierarchyId: 8ed3174b-e814-41b5-b51c-fb368f0d4003, userId: 23bbbba2-702e-4db4-8fd9-3b4fe3a5175d, deviceId: GUID:13E80CEF-5698-4C63-9ED6-E58FBFF78C38"),
            EventKind::CcmTokenIssued { token_type: Some("UDA".into()), hierarchy: Some("8ed3174b-e814-41b5-b51c-fb368f0d4003".into()), cm_user: Some("23bbbba2-702e-4db4-8fd9-3b4fe3a5175d".into()), client_guid: Some("GUID:13E80CEF-5698-4C63-9ED6-E58FBFF78C38".into()) }
        );
        assert_eq!(one(CcmSts, "Return token to client"), EventKind::CcmTokenReturned);
        let v = ev(CcmSts, "Return code: 401, Description: PreAuth token validation failed, System.IdentityModel.Tokens.SecurityTokenExpiredException: IDX10223: Lifetime validation failed. The token is expired.");
        assert!(matches!(&v[0], EventKind::AadTokenRejected { code: Some(c), .. } if c == "401"));
        assert!(matches!(&v[1], EventKind::AadTokenRejected { code: Some(c), .. } if c == "IDX10223"));
    }

    #[test]
    fn cmg_and_connector_lines() {
        assert_eq!(
            one(CmgService, "RequestUri: /CCM_PROXY_SERVERAUTH/72057594037937981/CCM_STS  RequestCount: 769  RequestSize: 1081595 Bytes  ResponseCount: 769     ResponseSize: 36143 Bytes  AverageElapsedTime: 3945 ms"),
            EventKind::CmgRequestStats { uri: "/CCM_PROXY_SERVERAUTH/72057594037937981/CCM_STS".into(), count: Some(769), avg_elapsed_ms: Some(3945) }
        );
        assert_eq!(
            one(CloudProxyConnector, "Switched to internal URL. Replaced 'https://CMG.CLOUDAPP.NET/CCM_Proxy_MutualAuth/72186325152220500/CCM_STS' in   'https://CMG.CLOUDAPP.NET/CCM_Proxy_MutualAuth/72186325152220500/CCM_STS' with 'https://MP.MYCORP.COM/CCM_STS' and got 'https:///MP.MYCORP.COM/CCM_STS"),
            EventKind::ProxyUrlRewritten { from: "https://CMG.CLOUDAPP.NET/CCM_Proxy_MutualAuth/72186325152220500/CCM_STS".into(), to: "https://MP.MYCORP.COM/CCM_STS".into() }
        );
        assert_eq!(
            one(CloudProxyConnector, "MessageID: 3087BD34-b82c-4950-b972-e82bb0fb8385 RequestURI: https://MP.MYCORP.COM/CCM_STS EndpointName: CCM_STS ResponseHeader: HTTP/1.1 200 OK \n ResponseBodySize: 0 ElapsedTime: 2 ms"),
            EventKind::ProxyRequest { message_id: Some("3087bd34-b82c-4950-b972-e82bb0fb8385".into()), endpoint: Some("CCM_STS".into()), uri: Some("https://MP.MYCORP.COM/CCM_STS".into()), http_status: Some(200), status_text: Some("OK".into()), elapsed_ms: Some(2) }
        );
        let v = ev(CloudProxyConnector, "MessageID: 1 RequestURI: https://MP/SMS_MP/.sms_aut?SITESIGNCERT EndpointName: MP ResponseHeader: HTTP/1.1 403 CMGConnector_Clientcertificaterequired\n ElapsedTime: 5 ms");
        assert!(v.iter().any(|e| matches!(e, EventKind::HttpError { http_status: Some(403), .. })));
        assert_eq!(
            one(CloudProxyConnector, "Chain 1 status: OfflineRevocation"),
            EventKind::CertificateError {
                flag: "revocation_offline".into(),
                code: Some("OfflineRevocation".into()),
                url: None
            }
        );
        assert!(ev(CloudProxyConnector, "Filtered cert count with client auth: 1").is_empty());
    }

    #[test]
    fn mp_registration_lines() {
        assert_eq!(
            one(MpRegistrationManager, "Registering device using AAD auth: DeviceId='8d2b4ff9-0172-4998-9851-b5324303385f ', TenantId='c8c82542-203c-4df9-9d86-cdd4dae67e0a'"),
            EventKind::MpRegistration { aad_device: Some("8d2b4ff9-0172-4998-9851-b5324303385f".into()), tenant: Some("c8c82542-203c-4df9-9d86-cdd4dae67e0a".into()), client_guid: None }
        );
        assert_eq!(
            one(
                MpRegistrationManager,
                "Processing Registration request from Client 'GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139'"
            ),
            EventKind::MpRegistration {
                aad_device: None,
                tenant: None,
                client_guid: Some("GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139".into())
            }
        );
    }

    #[test]
    fn generic_error_codes_on_error_lines_only() {
        assert_eq!(
            ev_sev(Ccmsetup, "Something odd happened 0x87D00231", Severity::Error),
            vec![EventKind::ErrorLogged { code: Some("0x87d00231".into()) }]
        );
        assert!(ev_sev(Ccmsetup, "Something odd happened 0x87D00231", Severity::Info).is_empty());
        assert!(ev_sev(Other, "Something odd happened 0x87D00231", Severity::Error).is_empty());
    }

    /// The real ccmsetup.log (shared/domain/real) lines 217-222: every failure line before the exit is an
    /// event, with its code; the healthy-machine noise too (ranked by the analysis, not dropped here).
    #[test]
    fn failure_lines_of_an_attempt_are_events() {
        let e = |msg: &str, sev: Severity| ev_sev(Ccmsetup, msg, sev);
        let code = |c: &str| vec![EventKind::ErrorLogged { code: Some(c.into()) }];
        assert_eq!(
            e("Failed to download files through BITS. Error: 0x80190194, Description HTTP status 404: The requested URL does not exist on the server.\n, Context: The error occurred while the remote file was being processed.\n.", Severity::Error),
            code("0x80190194")
        );
        assert_eq!(
            e("Failed to download client files by BITS. Error 0x80190194", Severity::Error),
            code("0x80190194")
        );
        // Type 2 with `Failed` and a code.
        assert_eq!(
            e("Failed to get client version for sending state messages. Error 0x8004100e", Severity::Warning),
            code("0x8004100e")
        );
        // Type 0 state message naming the content path.
        assert_eq!(
            e("[] Params to send '5.0.8458.1007 Deployment Error 0x80190194. Path HTTP://server.dmz/CCM_Client'", Severity::Info),
            code("0x80190194")
        );
        // Type 3 with no code.
        assert_eq!(
            e("Failed to install prerequisite. See the prerequisite's log", Severity::Error),
            vec![EventKind::ErrorLogged { code: None }]
        );
        // Near misses: a warning with no failure word, an info line with a code, a warning with a code and no `fail`.
        assert!(e("File 'C:\\Windows\\ccmsetup\\client.msi' doesn't exist.", Severity::Warning).is_empty());
        assert!(e("Something odd happened 0x87D00231", Severity::Info).is_empty());
        assert!(e("Retrying after 0x87D00231", Severity::Warning).is_empty());
        // The success state message (real ccmsetup.log:68) is no failure line.
        assert!(e("[] Params to send '5.0.8458.1007 Deployment Error: 0x0, '", Severity::Info).is_empty());
        assert!(e("Type 3 line with nothing telling in it", Severity::Error).is_empty());
    }

    #[test]
    fn ccmsetup_attempts_retries_and_pending_registration() {
        assert_eq!(
            one(Ccmsetup, "==========[ ccmsetup started in process 3324 ]=========="),
            EventKind::CcmsetupStarted { pid: Some(3324) }
        );
        assert_eq!(
            one(Ccmsetup, "Next retry in 10 minute(s)..."),
            EventKind::CcmsetupRetryScheduled { minutes: Some(10) }
        );
        assert!(ev(Ccmsetup, "Next step: retry the download").is_empty());
        assert_eq!(
            ev(
                ClientIdManagerStartup,
                "[RegTask] - Client registration is pending. Server assigned ClientID is GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139"
            ),
            vec![
                EventKind::RegistrationRequested {
                    client_guid: Some("GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139".into())
                },
                EventKind::RegistrationPending {
                    client_guid: Some("GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139".into())
                },
            ]
        );
        assert_eq!(
            one(
                Ccmsetup,
                "Failed to get DP locations as the expected version from MP 'http://MP01'. Error 0x87d00215"
            ),
            EventKind::ErrorLogged { code: Some("0x87d00215".into()) }
        );
        assert!(ev(Ccmsetup, "Searching for DP locations from MP(s)...").is_empty());
    }

    // ---- The fast path against the algorithm it replaced ------------------------------------------------

    /// Regexes rewritten for speed, with the text they had (the reference runs the old one).
    const REWRITTEN: &[(&str, &str)] = &[
        (
            r"Validated AAD token\.\s+T(?:okenType: (\S*)\s+T)?enantId: (\S*)\s+UserId: (\S*)\s+DeviceId: (\S*)(?:\s+OnPrem_(?:UserSid: (\S*)(?:\s+OnPrem_DeviceSid:\s*(\S*))?|DeviceSid:\s*(\S*)))?",
            r"Validated AAD token\.(?:\s+TokenType: (\S*))?\s+TenantId: (\S*)\s+UserId: (\S*)\s+DeviceId: (\S*)(?:\s+OnPrem_UserSid: (\S*))?(?:\s+OnPrem_DeviceSid:\s*(\S*))?",
        ),
        (
            r"Registering device using AAD auth: DeviceId='([^']*)', TenantId='([^']*)'",
            r"Registering device using AAD auth: DeviceId='\s*([^']*?)\s*', TenantId='\s*([^']*?)\s*'",
        ),
    ];

    fn original(regex: &'static str) -> &'static str {
        REWRITTEN.iter().find(|(new, _)| *new == regex).map_or(regex, |(_, old)| old)
    }

    /// The old algorithm: per log kind an Aho-Corasick prefilter over `literals`, then the `RegexSet`
    /// (original regexes), then every matching pattern's own `Regex::captures`.
    /// Per log kind: prefilter, set, regexes, builds, and the patterns' indices in `PATTERNS`.
    type RefKind = (AhoCorasick, RegexSet, Vec<Regex>, Vec<Build>, Vec<usize>);

    struct Reference {
        by_kind: Vec<RefKind>,
        generic_code: Regex,
        failure_word: Regex,
    }

    impl Reference {
        fn new() -> Reference {
            let by_kind = LogKind::ALL
                .iter()
                .map(|&k| {
                    let idx: Vec<usize> = (0..PATTERNS.len()).filter(|&i| PATTERNS[i].scope.has(k)).collect();
                    let pats: Vec<&Pattern> = idx.iter().map(|&i| &PATTERNS[i]).collect();
                    let mut literals: Vec<&str> =
                        pats.iter().flat_map(|p| p.literals.iter().copied()).collect();
                    literals.sort_unstable();
                    literals.dedup();
                    (
                        AhoCorasickBuilder::new()
                            .ascii_case_insensitive(true)
                            .match_kind(MatchKind::LeftmostFirst)
                            .build(&literals)
                            .unwrap(),
                        RegexSet::new(pats.iter().map(|p| original(p.regex))).unwrap(),
                        pats.iter().map(|p| Regex::new(original(p.regex)).unwrap()).collect(),
                        pats.iter().map(|p| p.build).collect(),
                        idx,
                    )
                })
                .collect();
            Reference {
                by_kind,
                generic_code: Regex::new(r"(?i)\b0x(8[0-9a-f]{7}|c[0-9a-f]{7}|d[0-9a-f]{7})\b").unwrap(),
                failure_word: Regex::new(FAILURE_WORDS).unwrap(),
            }
        }

        /// The events, and the indices (in `PATTERNS`) of the patterns whose regex matched.
        fn extract(&self, kind: LogKind, entry: &Entry<'_>, out: &mut Vec<EventKind>) -> Vec<usize> {
            let (prefilter, set, regexes, builds, idx) = &self.by_kind[kind as usize];
            let msg: &str = &entry.message;
            let before = out.len();
            let mut matched = Vec::new();
            if prefilter.is_match(msg) {
                for i in set.matches(msg).iter() {
                    if let Some(caps) = regexes[i].captures(msg) {
                        matched.push(idx[i]);
                        let slots: Vec<Option<NonMaxUsize>> = (0..caps.len())
                            .flat_map(|g| match caps.get(g) {
                                Some(m) => [NonMaxUsize::new(m.start()), NonMaxUsize::new(m.end())],
                                None => [None, None],
                            })
                            .collect();
                        if let Some(ev) = (builds[i])(&Captures { hay: msg, slots: &slots }) {
                            if !out[before..].contains(&ev) {
                                out.push(ev);
                            }
                        }
                    }
                }
            }
            if out.len() == before && kind != LogKind::Other {
                let code = self.generic_code.find(msg);
                let word = self.failure_word.is_match(msg);
                if failure_line(kind, entry.severity, code.is_some(), word, msg) {
                    out.push(EventKind::ErrorLogged {
                        code: code.map(|m| m.as_str().to_ascii_lowercase().into()),
                    });
                }
            }
            matched
        }
    }

    fn entry(msg: &str, severity: Severity) -> Entry<'_> {
        Entry {
            line: 1,
            local_time: None,
            bias_minutes: None,
            component: "x",
            thread: None,
            severity,
            source: None,
            message: Cow::Borrowed(msg),
            format: LineFormat::Cmtrace,
        }
    }

    /// Compares both algorithms on `msg` for every log kind and severity; returns the patterns matched.
    fn same_as_reference(x: &Extractors, r: &Reference, msg: &str) -> Vec<usize> {
        let mut matched = Vec::new();
        for kind in LogKind::ALL {
            for severity in [Severity::Info, Severity::Error] {
                let e = entry(msg, severity);
                let (mut fast, mut slow) =
                    (vec![EventKind::CcmTokenReturned], vec![EventKind::CcmTokenReturned]);
                x.extract(kind, &e, &mut fast);
                matched.extend(r.extract(kind, &e, &mut slow));
                assert_eq!(fast, slow, "{kind:?} {severity:?}: {msg:?}");
            }
        }
        matched
    }

    /// At least one line for every pattern, the lines of the corpus, near misses and noise.
    const SAMPLES: &[&str] = &[
        "==========[ ccmsetup started in process 3324 ]==========",
        "Next retry in 10 minute(s)...",
        "[] Params to send '5.0.8458.1007 Deployment Error 0x80190194. Path HTTP://server.dmz/CCM_Client'",
        "[] Params to send '5.0.8458.1007 Deployment Error: 0x0, '",
        "Have already tried all MPs. Couldn't find DP locations. Error 0x87d00215",
        "Failed to get DP locations as the expected version from MP 'http://MP01'. Error 0x87d00215",
        "File 'C:\\WINDOWS\\ccmsetup\\vcredist_x64.exe' returned failure exit code 1603. Fail the installation.",
        "Failed to download client files by BITS. Error 0x80190194",
        "Failed to connect to policy namespace. Error 0x8004100e",
        "[RegTask] - Client registration is pending. Server assigned ClientID is GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139",
        "Getting AAD info from CMG 'CMG.CLOUDAPP.NET'",
        "SMS CCM 5.0: Host=CMG.CLOUDAPP.NET, Path=/CCM_Proxy_ServerAuth/AADAuthInfo?TenantID=9AAF466A-3f40-4468-b3cd-f0010f21f05a, Port=443, Protocol=https, CcmTokenAuth=0, Flags=0x1304, Options=0xe0",
        "Getting AAD (device) token with: ClientId = 0b7c8ab3-9ea1-4ffa-b2b9-8ffdd944bd8b, ResourceUrl = https://ConfigMgrService, AccountId = https://login.microsoftonline.com/common/oauth2/token",
        "Getting AAD (user) token with: ClientId = 0B7C8AB3-9ea1-4ffa-b2b9-8ffdd944bd8b, ResourceUrl = https://ConfigMgrService",
        "Getting AAD token for logged on user. Using WAM. ClientId: 0B7C8AB3-9ea1-4ffa-b2b9-8ffdd944bd8b ResourceId: https://ConfigMgrService",
        "WAM token request failed. Status 5, Details 'AAD WAM extension error'",
        "Failed to get AAD token for 'S-1-5-18' from WAM API. Error 0xd0090016",
        "Falling back to get user 'S-1-5-21-1527250992-855612568-2252598708-1604' token for system...",
        "IWebAuthenticationCoreManagerStatics4 not available. Falling back to user token.",
        "Retrieved AAD token for AAD user 'E8838041-db7a-42d5-b9ae-78813910e4cc'",
        "Retrieved AAD token for AAD device '8d2b4ff9-0172-4998-9851-b5324303385f'",
        "Successfully obtained AAD token",
        "Getting CCM Token from STS server 'cmg.cloudapp.net/CCM_PROXY_MutualAuth/72186325152220500'",
        "Getting CCM Token from https://MP.MYCORP.COM/CCM_STS",
        "Cached encrypted token for 'S-1-5-18'. Will expire at '06/25/2020 08:29:35'",
        "CCM Token for 'S-1-5-8-1721254763-462695806-1538882281-3289177' (12/23/2019 21:47:24) is already expired or close to expire",
        "Failed to get CCM access token and client doesn't have PKI issued cert to use SSL. Error 0x80070002",
        "RetrieveTokenFromStsServerImpl failed with error 0x87D0027E",
        "Failed to get CCM token 0x80004005",
        "FAILED TO GET CCM TOKEN",
        "Found a valid online MP 'https://CMG.cloudapp.net/CCM_PROXY_MutualAuth/72186325152220500",
        "The location 'https://CMG.cloudapp.net/downloadrestservice.svc/getcontentxmlsecure?pid=CS100001&cid=CS100001",
        "Checking the URL 'http://MP01.FLEET.CORP/CCM_Client/ccmsetup.cab'",
        "Found local location 'http://server.dmz/SMS_DP_SMSPKG$/abc00002'",
        "GET 'HTTP://server.dmz/CCM_Client/ccmsetup.cab'",
        "CcmSetup version: 5.0.8458.1007",
        "Ccmsetup command line: \"C:\\Windows\\ccmsetup\\ccmsetup.exe\" /runservice  \"/mp:server.dmz\" FSP=\"primary.lan\" SMSSITECODE=\"abc\"",
        "Ccmsetup command line: ccmsetup.exe /mp:https://CMG.CLOUDAPP.NET/CCM_Proxy_MutualAuth/72057594037927941 CCMHOSTNAME=CMG.CLOUDAPP.NET/CCM_Proxy_MutualAuth/72057594037927941 SMSSITECODE=PS1",
        "SCCM Client Version: 5.00.7804.1000",
        "Installing version 5.00.8968.1000 of the client with product code {66653948-0717-4D50-B0B9-ED66FDED2DDB}",
        "CcmSetup is exiting with return code 7",
        "CcmSetup failed with error code 0x80190194",
        "ccmsetup FAILED with error code -2147023838",
        "Enabled SSL revocation check.",
        "Client selected the PKI Certificate for authentication",
        "Using the PKI client certificate",
        "PKI certificate is found",
        "selected client certificate from the PKI store",
        "[CCMHTTP] ERROR: URL=https://CMG.CONTOSO.COM/CCM_Proxy_ServerAuth/72057594037928017/CCM_STS, Port=443, Options=63, Code=12175, Text=ERROR_WINHTTP_SECURE_FAILURE",
        "[CCMHTTP] ERROR: URL=https://CMG.CONTOSO.COM/x , Port=443, Options=63, >Code=12045, Text=ERROR_WINHTTP_SECURE_INVALID_CA",
        "[CCMHTTP] ERROR INFO: StatusCode= 403 StatusText= CMGConnector_Clientcertificaterequired",
        "[CCMHTTP] : WINHTTP_CALLBACK_STATUS_FLAG_INVALID_CA is set",
        "[CCMHTTP] : WINHTTP_CALLBACK_STATUS_FLAG_CERT_REV_FAILED is set",
        "Failed to verify certificate chain. Error: 800B0109",
        "CertVerifyCertificateChainPolicy returned 0x80092013",
        "Chain error Error800b010f here",
        "Error:  80072F06 (two spaces, no literal)",
        "Error:\t800b010e [CCMHTTP] ERROR INFO: StatusCode= 500 StatusText= x",
        "Error:  800b0112 Code= while Error 800 something",
        "Failed to refresh Site Signing Certificate over HTTP with error 0x87d00231",
        "LSUpdateInternetManagementPoints: Failed to retrieve internet MPs from MP https://mp01 with error 0x80072efd",
        "Sending remote sync message '{bd03deed-d09a-4e63-adad-000000000001}' to host 'CMG.CLOUDAPP.NET/CCM_Proxy_MutualAuth/72186325152220500' endpoint 'MP_PolicyManager'",
        "Message '{BD03DEED-D09A-4E63-ADAD-000000000001}' got reply message '{bd03deed-d09a-4e63-adad-000000000002}'",
        "[RegTask] - Starting registration, attempt 1.",
        "[RegTask] - Client is not registered. Sending registration request for GUID:c66ee0fd-08E7-4B38-B282-7E6954B71139 ...",
        "Registering client using AAD auth.",
        "[RegTask] - Client is registered. Server assigned ClientID is GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139. Approval status 3",
        "[RegTask] - Client registration is pending. Server assigned ClientID is GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139",
        "[RegTask] - Server rejected registration 3",
        "SetRegistrationState failed (0x80071770)",
        "[RegTask] - Client registration failed with error 0x80004005",
        "[regtask] - something Register has been rejected, code 0x87D00231",
        "ProcessRequest - Start",
        "Incoming request URL: https://MP01.FLEET.CORP/CCM_STS",
        "Validated AAD token. TokenType: UDA TenantId: 2CA9A796-a1a6-43ec-88f1-5935b32155c5 UserId: e8838041-db7a-42d5-b9ae-78813910e4cc DeviceId: 8d2b4ff9-0172-4998-9851-b5324303385f OnPrem_UserSid: S-1-5-21-1527250992-855612568-2252598708-1604 OnPrem_DeviceSid:",
        "Validated AAD token. TokenType: Device TenantId: 2ca9a796-a1a6-43ec-88f1-5935b32155c5 UserId: 00000000-0000-0000-0000-000000000000 DeviceId: 1db9e090-f2a3-54f4-419b-f35f5d9944d9 OnPrem_UserSid:  OnPrem_DeviceSid:",
        "Validated AAD token. TenantId: a UserId: b DeviceId: c",
        "Validated AAD token. TenantId: a UserId: b DeviceId: c OnPrem_DeviceSid: S-1-5-21-1-2-3-4",
        "Validated AAD token. TenantId: a UserId: b DeviceId: c OnPrem_UserSid: s-1-5-21-9 OnPrem_DeviceSid:   S-1-5-21-1-2-3-4",
        "Validated AAD token. TokenType: X  TenantId: a UserId: b DeviceId: c",
        "Validated AAD token. TokenType: X TenantId: a UserId: b DeviceId: c OnPrem_Other: y",
        "Validated AAD token. broken, then Validated AAD token. TenantId: a UserId: b DeviceId: c",
        "Created SCCM token, token type: Device, hierarchyId: 8ed3174b-e814-41b5-b51c-fb368f0d4003, userId: 23bbbba2-702e-4db4-8fd9-3b4fe3a5175d, deviceId: GUID:F91BB227-2C92-DAA0-37E2-3E5AD9A8930D",
        "Return token to client, token type: UDA, hierarchyId: 8ED3174B-e814-41b5-b51c-fb368f0d4003, userId: x, deviceId:  GUID:F91BB227-2C92-DAA0-37E2-3E5AD9A8930D",
        "created sccm token, token type: Device, Created SCCM token, token type: Device, hierarchyId: h, userId: u, deviceId: d",
        "Return token to client",
        "TokenType is Device",
        "Issued token",
        "Return code: 401, Description: PreAuth token validation failed, System.IdentityModel.Tokens.SecurityTokenExpiredException: IDX10223: Lifetime validation failed. The token is expired.",
        "ProcessRequest - Exception: System.Exception: MISE12034: token rejected",
        "MISE12034 - no IDX here",
        "RequestUri: /CCM_PROXY_SERVERAUTH/72186325152220500/CCM_STS  RequestCount: 152  RequestSize: 1081595 Bytes  ResponseCount: 769  ResponseSize: 36143 Bytes  AverageElapsedTime: 480 ms\n",
        "RequestUri: /CCM_PROXY_MUTUALAUTH/72186325152220500/SMS_MP/.sms_aut?MPLIST  RequestCount: 3",
        "Switched to internal URL. Replaced 'https://FLEETCMG.CLOUDAPP.NET/CCM_Proxy_MutualAuth/72186325152220500/CCM_STS' in   'https://FLEETCMG.CLOUDAPP.NET/CCM_Proxy_MutualAuth/72186325152220500/CCM_STS' with 'https://MP01.FLEET.CORP/CCM_STS' and got 'https:///MP01.FLEET.CORP/CCM_STS\n",
        "MessageID: abc4cd18-1617-a750-4a0a-bd9113d8ff42 RequestURI: https://MP01.FLEET.CORP/CCM_STS EndpointName: CCM_STS ResponseHeader: HTTP/1.1 200 OK \n ResponseBodySize: 0 ElapsedTime: 88 ms\n",
        "MessageID: 1 RequestURI: https://MP/SMS_MP/.sms_aut?SITESIGNCERT EndpointName: MP ResponseHeader: HTTP/1.1 403 CMGConnector_Clientcertificaterequired\n ElapsedTime: 5 ms",
        "MessageID: 2 ElapsedTime: 7 ms",
        "Web exception for message 3087bd34-b82c-4950-b972-e82bb0fb8385: The remote server returned an error: (403) Forbidden.",
        "Chain 1 status: OfflineRevocation",
        "Chain 2 status: UntrustedRoot",
        "Filtered cert count with client auth: 0",
        "Filtered cert count with client auth: 1",
        "Registering device using AAD auth: DeviceId='8d2b4ff9-0172-4998-9851-b5324303385f ', TenantId='c8c82542-203c-4df9-9d86-cdd4dae67e0a'",
        "Registering device using AAD auth: DeviceId='  ', TenantId=' \t x \u{a0}'",
        "Processing Registration request from Client 'GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139'",
        "Registration request failed 0x80004005",
        "Failed to process registration for client, regist code 0x87D00231",
        "MP_ClientIDManager: policy request processed for client",
        "Received response for message bac4b4ab-3526-7c20-2fe0-2c5ff91b75db with status 200\n",
        "Connection 4 to CMG is healthy. Outstanding requests: 0",
        "Created connection on port 443",
        "Appending CCM Token to the header.",
        "Something odd happened 0x87D00231",
        "",
        "x",
    ];

    /// Variants of a line: case, Unicode case-fold twins of `s`/`k`, non-ASCII text (the Unicode
    /// regexes), a line longer than the packed buffer (the automaton).
    fn variants(line: &str) -> Vec<String> {
        vec![
            line.to_string(),
            line.to_ascii_uppercase(),
            line.to_ascii_lowercase(),
            line.replace('s', "\u{17f}").replace('k', "\u{212a}"),
            line.replace('S', "\u{17f}").replace('K', "\u{212a}"),
            format!("é {line} ü"),
            line.replace(' ', "\u{a0}"),
            format!("{}{line}{}", "x".repeat(PACKED_MAX_LEN), "y ".repeat(20)),
            format!("{line} {line}"),
        ]
    }

    /// `may_match` is never false where `extract` gives an event: on every sample (and its variants,
    /// two-line joins included) as every log kind and severity, with the message written the ways files
    /// write it (`\r\n` or `~~` for its line breaks, trailing blanks).
    #[test]
    fn may_match_holds_wherever_extract_finds_an_event() {
        let x = Extractors::new();
        let kinds = LogKind::ALL;
        let mut lines: Vec<String> = SAMPLES.iter().flat_map(|a| variants(a)).collect();
        lines.extend(SAMPLES.windows(2).map(|w| format!("{}\n{}", w[0], w[1])));
        let mut events = 0;
        for line in &lines {
            for kind in kinds {
                for severity in [Severity::Info, Severity::Warning, Severity::Error] {
                    let mut out = Vec::new();
                    x.extract(kind, &entry(line, severity), &mut out);
                    // The scan handed over (the very text: reused; another text: ignored) changes nothing.
                    let crlf = line.replace('\n', "\r\n");
                    for scanned in [line.as_str(), crlf.as_str()] {
                        let mut reused = Vec::new();
                        let pre = x.prefilter(kind, scanned);
                        x.extract_prefiltered(kind, &entry(line, severity), Some(&pre), &mut reused);
                        assert_eq!(reused, out, "{kind:?} {severity:?}: {line}");
                    }
                    if out.is_empty() {
                        continue;
                    }
                    events += 1;
                    for raw in [line.replace('\n', "\r\n"), line.replace('\n', "~~"), format!("{line}  \r")] {
                        assert!(x.may_match(kind, &raw), "{kind:?} {severity:?}: {raw}");
                    }
                }
            }
        }
        assert!(events > 100, "{events}");
        // And it is a filter: lines that matter to nobody do not pass.
        assert!(!x.may_match(CcmSts, "Issued token"));
        assert!(!x.may_match(Other, "Raising pending event: error 0x80070005"));
        assert!(x.may_match(CcmSts, "Something failed: 0x80070005"));
    }

    #[test]
    fn fast_path_matches_the_reference_for_every_pattern() {
        let x = Extractors::new();
        let r = Reference::new();
        let mut covered = vec![false; PATTERNS.len()];
        for (i, a) in SAMPLES.iter().enumerate() {
            for v in variants(a) {
                for p in same_as_reference(&x, &r, &v) {
                    covered[p] = true;
                }
            }
            // Lines with several literals: every pair, joined both ways.
            for b in &SAMPLES[i + 1..] {
                same_as_reference(&x, &r, &format!("{a} {b}"));
                same_as_reference(&x, &r, &format!("{b}\n{a}"));
            }
        }
        let missing: Vec<&str> =
            (0..PATTERNS.len()).filter(|&i| !covered[i]).map(|i| PATTERNS[i].regex).collect();
        assert!(missing.is_empty(), "patterns no sample line matches: {missing:#?}");
    }

    /// The direct matchers against the ASCII regex anchored at the same place: the same groups.
    fn direct_same_as_regex(line: &str) {
        if !line.is_ascii() {
            return;
        }
        type One = (direct::Direct, meta::Regex, Vec<String>);
        static DIRECT: std::sync::OnceLock<Vec<One>> = std::sync::OnceLock::new();
        let all = DIRECT.get_or_init(|| {
            PATTERNS
                .iter()
                .filter_map(|p| {
                    let ascii = meta::Builder::new()
                        .syntax(regex_automata::util::syntax::Config::new().unicode(false).utf8(false))
                        .build(p.regex)
                        .unwrap();
                    let leads = leading_literals(p.regex)
                        .iter()
                        .map(|l| String::from_utf8_lossy(l).to_ascii_lowercase())
                        .collect();
                    Some((direct::Direct::new(p.regex)?, ascii, leads))
                })
                .collect()
        });
        let low = line.to_ascii_lowercase();
        for (d, re, leads) in all {
            let n = re.group_info().slot_len();
            let (mut a, mut b) = ([None; MAX_SLOTS], [None; MAX_SLOTS]);
            // At the start, and wherever a leading literal starts (where the anchored searches run).
            let starts = (0..=line.len())
                .filter(|&i| i == 0 || leads.iter().any(|l| low[i..].starts_with(l.as_str())));
            for at in starts {
                let fast = d.match_at(line.as_bytes(), at, &mut a[..n]);
                let slow = re
                    .search_slots(&Input::new(line).range(at..).anchored(Anchored::Yes), &mut b[..n])
                    .is_some();
                assert_eq!(fast, slow, "{line:?} at {at}");
                if fast {
                    assert_eq!(a[..n], b[..n], "{line:?} at {at}");
                }
            }
        }
    }

    #[test]
    fn direct_matchers_capture_as_the_regex() {
        assert!(PATTERNS.iter().filter(|p| direct::Direct::new(p.regex).is_some()).count() >= 40);
        for (i, a) in SAMPLES.iter().enumerate() {
            for v in variants(a) {
                direct_same_as_regex(&v);
            }
            for b in &SAMPLES[i + 1..] {
                direct_same_as_regex(&format!("{a} {b}"));
            }
        }
    }

    /// Real logs against the reference: `CMTRACE_EXTRACT_CORPUS=<folder> cargo test -p cmtrace-parsers
    /// --release corpus -- --ignored` (the first `CMTRACE_EXTRACT_LIMIT` entries of each file, 20,000 unless set).
    #[test]
    #[ignore = "needs a folder of real logs: CMTRACE_EXTRACT_CORPUS=<folder>, in release mode"]
    fn corpus_matches_the_reference() {
        let root = std::env::var_os("CMTRACE_EXTRACT_CORPUS")
            .expect("CMTRACE_EXTRACT_CORPUS names the folder of logs to compare on");
        let limit: usize =
            std::env::var("CMTRACE_EXTRACT_LIMIT").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
        let (x, r) = (Extractors::new(), Reference::new());
        let (mut entries, mut events) = (0usize, 0usize);
        for src in crate::input::discover(&[root.into()], &[], Default::default()).files {
            let Ok(file) = crate::input::load(&src) else { continue };
            for rec in crate::format::Records::new(file.text(), file.format, 1).take(limit) {
                if let crate::entry::Record::Entry(e) = rec {
                    let (mut fast, mut slow) = (Vec::new(), Vec::new());
                    x.extract(file.kind, &e, &mut fast);
                    r.extract(file.kind, &e, &mut slow);
                    assert_eq!(fast, slow, "{}:{} {:?}", src.path, e.line, e.message);
                    entries += 1;
                    events += fast.len();
                }
            }
        }
        eprintln!("{entries} entries, {events} events: the same");
    }

    #[test]
    fn rewritten_regexes_match_their_originals() {
        for (new, old) in REWRITTEN {
            assert!(PATTERNS.iter().any(|p| p.regex == *new), "{new}");
            let (new, old) = (Regex::new(new).unwrap(), Regex::new(old).unwrap());
            for a in SAMPLES {
                for v in variants(a) {
                    assert_eq!(new.find(&v).map(|m| m.range()), old.find(&v).map(|m| m.range()), "{v:?}");
                }
            }
        }
    }

    #[test]
    fn needles_hold_for_unicode_case_folding() {
        for p in PATTERNS {
            let src = p.regex.to_ascii_lowercase();
            for n in p.candidate_needles() {
                assert!(n.is_ascii(), "{n:?}");
                if p.regex.starts_with("(?i)") {
                    // `(?i)s` also matches `ſ` and `(?i)k` the Kelvin sign, which an ASCII scan misses.
                    assert!(!n.contains(['s', 'S', 'k', 'K']), "{n:?} in {}", p.regex);
                    assert!(src.contains(&n.to_ascii_lowercase()), "{n:?} not in {}", p.regex);
                } else {
                    assert!(p.regex.replace('\\', "").contains(n), "{n:?} not in {}", p.regex);
                }
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(400))]
        /// Random lines made of the patterns' own literals and pieces of real lines.
        #[test]
        fn fast_path_matches_the_reference_on_fragments(parts in proptest::collection::vec((0usize..10_000, 0usize..10), 1..6)) {
            static BOTH: std::sync::OnceLock<(Extractors, Reference)> = std::sync::OnceLock::new();
            let (x, r) = BOTH.get_or_init(|| (Extractors::new(), Reference::new()));
            let lits: Vec<&str> = PATTERNS.iter().flat_map(|p| p.literals.iter().chain(p.needles.iter()).copied()).collect();
            let glue = [" ", "", "\n", "'", ": ", " 0x80092013 ", " GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139 ", "ſK", "12 ms ", "  "];
            let mut line = String::new();
            for (pick, g) in parts {
                let piece = if pick % 2 == 0 {
                    lits[pick / 2 % lits.len()].to_string()
                } else {
                    let s = SAMPLES[pick / 2 % SAMPLES.len()];
                    let cut = (pick / 7) % (s.len() + 1);
                    let cut = (0..=cut).rev().find(|&c| s.is_char_boundary(c)).unwrap_or(0);
                    if pick % 4 == 1 { s[..cut].to_string() } else { s[cut..].to_string() }
                };
                line.push_str(&piece);
                line.push_str(glue[g]);
            }
            same_as_reference(x, r, &line);
            direct_same_as_regex(&line);
        }
    }
}
