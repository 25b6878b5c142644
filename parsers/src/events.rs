//! Typed flow events: what the extractors (`crate::extract`) turn the messages that matter into.
//! Each event carries the identifiers its message names and the evidence (file, line, time, text).

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;

use crate::entry::Severity;

/// The strings events carry (identifiers, URLs, reasons, paths, hosts): one pointer wide (an `Option` of one
/// too) and shared by reference count, so that an event stays small and the copies the engine keeps of an
/// identifier cost no allocation. Reads as a `str`; serialises as a string.
pub type SharedStr = arcstr::ArcStr;

/// Azure AD token flavour requested through WAM/ADAL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AadTokenKind {
    Device,
    User,
}

/// Defines `EventKind` from one list of its variants, each with the name it has in JSON (the `event` tag)
/// and from `EventKind::name`: the names are written once.
macro_rules! event_kinds {
    (
        $(#[$enum_meta:meta])*
        pub enum EventKind {
            $(
                $(#[$meta:meta])*
                $variant:ident = $name:literal $({ $($fields:tt)* })?,
            )*
        }
    ) => {
        $(#[$enum_meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Serialize)]
        #[serde(tag = "event")]
        pub enum EventKind {
            $(
                $(#[$meta])*
                #[serde(rename = $name)]
                $variant $({ $($fields)* })?,
            )*
        }

        impl EventKind {
            /// The snake_case name used in JSON (`event` field).
            pub fn name(&self) -> &'static str {
                match self {
                    $(EventKind::$variant { .. } => $name,)*
                }
            }
        }
    };
}

event_kinds! {
    /// A flow event with its identifiers. Serialised with `event` as the tag: the name written beside each
    /// variant.
    /// Identifier conventions: SMS client GUIDs upper case with the `GUID:` prefix; Azure AD ids
    /// (tenant, device, user) lower case; SIDs as written; URLs as written.
    pub enum EventKind {
        /// ccmsetup: `Getting AAD info from CMG '<cmg>'` / `Path=/CCM_Proxy_ServerAuth/AADAuthInfo?TenantID=<t>`.
        AadInfoRequested = "aad_info_requested" { cmg: Option<SharedStr>, tenant: Option<SharedStr> },
        /// `Getting AAD (device|user) token with: ClientId = .., ResourceUrl = .., AccountId = ..`.
        AadTokenRequested = "aad_token_requested" { kind: AadTokenKind, client_app_id: Option<SharedStr>, resource: Option<SharedStr> },
        /// `WAM token request failed. Status 5, Details '...'` / `Failed to get AAD token for '<sid>' from WAM API. Error 0x..`.
        AadTokenFailed = "aad_token_failed" {
            sid: Option<SharedStr>,
            status: Option<SharedStr>,
            hresult: Option<SharedStr>,
            details: Option<SharedStr>,
        },
        /// `Falling back to get user '<sid>' token for system...` (also `IWebAuthenticationCoreManagerStatics4 not available. Falling back to user token.`).
        AadTokenFallbackToUser = "aad_token_fallback_to_user" { sid: Option<SharedStr> },
        /// `Retrieved AAD token for AAD user '<oid>'` (user) or a device token acquired.
        AadTokenAcquired = "aad_token_acquired" { kind: AadTokenKind, aad_user: Option<SharedStr>, aad_device: Option<SharedStr> },
        /// `Getting CCM Token from STS server '<x>'` / `Getting CCM Token from https://.../CCM_STS`.
        CcmTokenRequested = "ccm_token_requested" { sts_url: SharedStr },
        /// `Cached encrypted token for '<sid>'. Will expire at 'MM/DD/YYYY HH:MM:SS'` (client local time).
        CcmTokenCached = "ccm_token_cached" { sid: SharedStr, expires_local: Option<NaiveDateTime> },
        /// CcmMessaging: `CCM Token for '<sid>' (<time>) is already expired or close to expire`.
        CcmTokenExpiring = "ccm_token_expiring" { sid: SharedStr, expires_local: Option<NaiveDateTime> },
        /// Client: a CCM token could not be obtained (`Failed to get CCM access token ...`, `RetrieveTokenFromStsServerImpl failed ...`).
        CcmTokenFailed = "ccm_token_failed" { hresult: Option<SharedStr> },
        /// CCM_STS: `ProcessRequest - Start` / `Incoming request URL: <url>`.
        StsRequestReceived = "sts_request_received" { url: Option<SharedStr> },
        /// CCM_STS: `Validated AAD token. TokenType: .. TenantId: .. UserId: .. DeviceId: .. OnPrem_UserSid: ..`.
        AadTokenValidated = "aad_token_validated" {
            token_type: Option<SharedStr>,
            tenant: Option<SharedStr>,
            aad_user: Option<SharedStr>,
            aad_device: Option<SharedStr>,
            onprem_user_sid: Option<SharedStr>,
            onprem_device_sid: Option<SharedStr>,
        },
        /// CCM_STS: the Azure AD / pre-auth token was rejected (`Return code: 401, Description: ...`, IDX errors, exceptions).
        AadTokenRejected = "aad_token_rejected" { code: Option<SharedStr>, reason: SharedStr },
        /// CCM_STS: `Created SCCM token, token type: .., hierarchyId: .., userId: .., deviceId: GUID:..`.
        CcmTokenIssued = "ccm_token_issued" {
            token_type: Option<SharedStr>,
            hierarchy: Option<SharedStr>,
            cm_user: Option<SharedStr>,
            client_guid: Option<SharedStr>,
        },
        /// CCM_STS: `Return token to client`.
        CcmTokenReturned = "ccm_token_returned",
        /// Connector: `Switched to internal URL. Replaced '<from>' ... with '<to>'`.
        ProxyUrlRewritten = "proxy_url_rewritten" { from: SharedStr, to: SharedStr },
        /// Connector: `MessageID: <id> RequestURI: <uri> EndpointName: <ep> ResponseHeader: HTTP/1.1 <status> ... ElapsedTime: <n> ms`.
        ProxyRequest = "proxy_request" {
            message_id: Option<SharedStr>,
            endpoint: Option<SharedStr>,
            uri: Option<SharedStr>,
            http_status: Option<u16>,
            status_text: Option<SharedStr>,
            elapsed_ms: Option<u64>,
        },
        /// CMGService: `RequestUri: <uri>  RequestCount: <n> ... AverageElapsedTime: <n> ms`.
        CmgRequestStats = "cmg_request_stats" { uri: SharedStr, count: Option<u64>, avg_elapsed_ms: Option<u64> },
        /// ClientIDManagerStartup: `[RegTask] - Starting registration, attempt N.`
        RegistrationStarted = "registration_started" { attempt: Option<u32> },
        /// `[RegTask] - Client is not registered. Sending registration request for GUID:..`.
        RegistrationRequested = "registration_requested" { client_guid: Option<SharedStr> },
        /// `Registering client using AAD auth.`
        RegistrationUsingAad = "registration_using_aad",
        /// MP_RegistrationManager: `Registering device using AAD auth: DeviceId='..', TenantId='..'` and/or
        /// `Processing Registration request from Client 'GUID:..'`.
        MpRegistration = "mp_registration" {
            aad_device: Option<SharedStr>,
            tenant: Option<SharedStr>,
            client_guid: Option<SharedStr>,
        },
        /// MP_RegistrationManager / client: registration rejected or failed, with the text's code.
        RegistrationFailed = "registration_failed" { code: Option<SharedStr>, reason: SharedStr },
        /// `[RegTask] - Client is registered. Server assigned ClientID is GUID:... Approval status N`.
        Registered = "registered" { client_guid: Option<SharedStr>, approval: Option<u32> },
        /// `[RegTask] - Client registration is pending. Server assigned ClientID is GUID:...`: the site assigned a
        /// client id but has not approved the registration (given with `RegistrationRequested` for the same line).
        RegistrationPending = "registration_pending" { client_guid: Option<SharedStr> },
        /// ccmsetup: `Found a valid online MP '<url>'`, `The location '<url>'`, `Checking the URL '.../ccmsetup.cab'`.
        ContentLocation = "content_location" { url: SharedStr },
        /// ClientIDManagerStartup: `SCCM Client Version: <v>`, written when an installed client starts.
        ClientStartup = "client_startup" { version: Option<SharedStr> },
        /// ccmsetup: `CcmSetup version: <v>`, written at the start of every ccmsetup run (the client generation).
        CcmsetupVersion = "ccmsetup_version" { version: Option<SharedStr> },
        /// ccmsetup: `Ccmsetup command line: ... /mp:<mp> ... CCMHOSTNAME=<cmg>`: where the install was pointed.
        CcmsetupCommandLine = "ccmsetup_command_line" { mp: Option<SharedStr>, cmg: Option<SharedStr> },
        /// ccmsetup: `Installing version <v> of the client with product code {..}` / `Running installation package`.
        ClientInstallStarted = "client_install_started" { version: Option<SharedStr>, product_code: Option<SharedStr> },
        /// ccmsetup: `CcmSetup is exiting with return code N` (or `CcmSetup failed with error code 0x..`).
        CcmsetupExit = "ccmsetup_exit" { code: i64 },
        /// ccmsetup: `==========[ ccmsetup started in process N ]==========`: a new attempt starts (real log:
        /// shared/domain/real/ccmsetup.log:1 and :31).
        CcmsetupStarted = "ccmsetup_started" { pid: Option<u32> },
        /// ccmsetup: a failed attempt will be retried (`Next retry in N minute(s)...`, UNCONFIRMED wording): the
        /// failure before it is not final until ccmsetup exits.
        CcmsetupRetryScheduled = "ccmsetup_retry_scheduled" { minutes: Option<u32> },
        /// ccmsetup: the client was set up with a PKI certificate instead of Azure AD.
        PkiCertSelected = "pki_cert_selected" { detail: SharedStr },
        /// `Enabled SSL revocation check.` (an enabled check, not a failure).
        RevocationCheckEnabled = "revocation_check_enabled",
        /// WinHTTP secure-failure flags and certificate errors: `WINHTTP_CALLBACK_STATUS_FLAG_INVALID_CA is set`,
        /// `CERT_REV_FAILED`, `CERT_CN_INVALID`, `Code=12175`, `0x800b0109`, ...
        CertificateError = "certificate_error" { flag: SharedStr, code: Option<SharedStr>, url: Option<SharedStr> },
        /// `[CCMHTTP] ERROR: URL=.., Code=N, Text=..` / `ERROR INFO: StatusCode=N StatusText=..`.
        HttpError = "http_error" {
            url: Option<SharedStr>,
            code: Option<SharedStr>,
            text: Option<SharedStr>,
            http_status: Option<u16>,
        },
        /// Client logs: `Sending remote sync message '{id}' to host '<host>' endpoint '<ep>'`.
        MessageSent = "message_sent" { message_id: SharedStr, host: Option<SharedStr>, endpoint: Option<SharedStr> },
        /// `Message '{id}' got reply message '{id}' ...`.
        MessageReplied = "message_replied" { message_id: SharedStr, reply_id: Option<SharedStr> },
        /// Any other failure line of a flow log (kept for rules, trace and the causes of failures): an
        /// error-severity line (CMTrace type 3) with an error code or a failure word (`fail`, `error`, `unable`,
        /// ...), a warning line with an error code and `fail`, or a ccmsetup line of the failure catalog
        /// (`Deployment Error 0x..`, `Have already tried all MPs`, ...). `code`: the first `0x8...`/`0xC...`/`0xD...`
        /// code of the line, if any.
        ErrorLogged = "error_logged" { code: Option<SharedStr> },
    }
}

/// Where an event was read: the evidence every finding cites.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// Shared by every event of the file (one allocation per file, not per event).
    pub path: SharedStr,
    /// 1-based line where the record starts.
    pub line: u32,
    pub host: SharedStr,
    /// UTC, or `None` when the record had no readable time.
    pub time: Option<DateTime<Utc>>,
    /// The message: in the spill (`crate::spill`, read again when printed) or in memory.
    pub text: crate::spill::Text,
}

/// One extracted event: what happened, where, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    #[serde(flatten)]
    pub kind: EventKind,
    pub log_kind: crate::kind::LogKind,
    pub severity: Severity,
    /// Local time as written (for matching client-local token expiries).
    pub local_time: Option<NaiveDateTime>,
    pub bias_minutes: Option<i32>,
    /// The writer's thread id, when the record has one (added field): the engine groups the lines of one
    /// CCM_STS / MP_RegistrationManager request by (file, thread) because concurrent requests interleave.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thread: Option<u32>,
    pub evidence: Evidence,
}

impl Event {
    /// The event `kind` an extractor found in `entry`, a record of a `log_kind` file at `path` on `host`, with
    /// the entry's text given as `text` (in memory or in the spill, as the reader keeps it).
    pub fn from_entry(
        kind: EventKind,
        log_kind: crate::kind::LogKind,
        entry: &crate::entry::Entry<'_>,
        path: SharedStr,
        host: SharedStr,
        text: crate::spill::Text,
    ) -> Event {
        Event {
            kind,
            log_kind,
            severity: entry.severity,
            local_time: entry.local_time,
            bias_minutes: entry.bias_minutes,
            thread: entry.thread,
            evidence: Evidence { path, line: entry.line, host, time: entry.utc(), text },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `name` and the JSON tag come from the same literal; this holds the macro to it for unit variants,
    /// variants with fields and the multi-word names.
    #[test]
    fn name_is_the_json_event_tag() {
        for kind in [
            EventKind::CcmTokenReturned,
            EventKind::RegistrationUsingAad,
            EventKind::AadTokenFallbackToUser { sid: None },
            EventKind::CcmsetupExit { code: 7 },
            EventKind::CertificateError { flag: "untrusted_root".into(), code: None, url: None },
            EventKind::ErrorLogged { code: Some("0x80004005".into()) },
        ] {
            let json = serde_json::to_value(&kind).unwrap();
            assert_eq!(json["event"], kind.name(), "{kind:?}");
        }
    }
}
