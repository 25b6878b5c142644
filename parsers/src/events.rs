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
    /// A token for the device.
    Device,
    /// A token for the signed-in user.
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
        AadInfoRequested = "aad_info_requested" {
            /// The CMG asked.
            cmg: Option<SharedStr>,
            /// The Azure AD tenant id asked for.
            tenant: Option<SharedStr>,
        },
        /// `Getting AAD (device|user) token with: ClientId = .., ResourceUrl = .., AccountId = ..`.
        AadTokenRequested = "aad_token_requested" {
            /// Device or user token.
            kind: AadTokenKind,
            /// The `ClientId`: the Azure AD application asking.
            client_app_id: Option<SharedStr>,
            /// The `ResourceUrl` the token is for.
            resource: Option<SharedStr>,
        },
        /// `WAM token request failed. Status 5, Details '...'` / `Failed to get AAD token for '<sid>' from WAM API. Error 0x..`.
        AadTokenFailed = "aad_token_failed" {
            /// The SID of the account the token was for.
            sid: Option<SharedStr>,
            /// The WAM status.
            status: Option<SharedStr>,
            /// The error code (`0x...`).
            hresult: Option<SharedStr>,
            /// The details WAM gave.
            details: Option<SharedStr>,
        },
        /// `Falling back to get user '<sid>' token for system...` (also `IWebAuthenticationCoreManagerStatics4 not available. Falling back to user token.`).
        AadTokenFallbackToUser = "aad_token_fallback_to_user" {
            /// The SID of the user whose token is asked for.
            sid: Option<SharedStr>,
        },
        /// `Retrieved AAD token for AAD user '<oid>'` (user) or a device token acquired.
        AadTokenAcquired = "aad_token_acquired" {
            /// Device or user token.
            kind: AadTokenKind,
            /// The Azure AD user (object id) of a user token.
            aad_user: Option<SharedStr>,
            /// The Azure AD device id of a device token.
            aad_device: Option<SharedStr>,
        },
        /// `Getting CCM Token from STS server '<x>'` / `Getting CCM Token from https://.../CCM_STS`.
        CcmTokenRequested = "ccm_token_requested" {
            /// The token service (server name or URL) as written.
            sts_url: SharedStr,
        },
        /// `Cached encrypted token for '<sid>'. Will expire at 'MM/DD/YYYY HH:MM:SS'` (client local time).
        CcmTokenCached = "ccm_token_cached" {
            /// The SID the token is for.
            sid: SharedStr,
            /// When it expires, in the client's local time.
            expires_local: Option<NaiveDateTime>,
        },
        /// CcmMessaging: `CCM Token for '<sid>' (<time>) is already expired or close to expire`.
        CcmTokenExpiring = "ccm_token_expiring" {
            /// The SID the token is for.
            sid: SharedStr,
            /// When it expires, in the client's local time.
            expires_local: Option<NaiveDateTime>,
        },
        /// Client: a CCM token could not be obtained (`Failed to get CCM access token ...`, `RetrieveTokenFromStsServerImpl failed ...`).
        CcmTokenFailed = "ccm_token_failed" {
            /// The error code (`0x...`).
            hresult: Option<SharedStr>,
        },
        /// CCM_STS: `ProcessRequest - Start` / `Incoming request URL: <url>`.
        StsRequestReceived = "sts_request_received" {
            /// The request URL, when the line gives it.
            url: Option<SharedStr>,
        },
        /// CCM_STS: `Validated AAD token. TokenType: .. TenantId: .. UserId: .. DeviceId: .. OnPrem_UserSid: ..`.
        AadTokenValidated = "aad_token_validated" {
            /// `TokenType`: device or user.
            token_type: Option<SharedStr>,
            /// `TenantId`.
            tenant: Option<SharedStr>,
            /// `UserId`: the Azure AD user.
            aad_user: Option<SharedStr>,
            /// `DeviceId`: the Azure AD device.
            aad_device: Option<SharedStr>,
            /// `OnPrem_UserSid`.
            onprem_user_sid: Option<SharedStr>,
            /// `OnPrem_DeviceSid`.
            onprem_device_sid: Option<SharedStr>,
        },
        /// CCM_STS: the Azure AD / pre-auth token was rejected (`Return code: 401, Description: ...`, IDX errors, exceptions).
        AadTokenRejected = "aad_token_rejected" {
            /// The code given (an HTTP status, an IDX number, an HRESULT).
            code: Option<SharedStr>,
            /// Why, as written.
            reason: SharedStr,
        },
        /// CCM_STS: `Created SCCM token, token type: .., hierarchyId: .., userId: .., deviceId: GUID:..`.
        CcmTokenIssued = "ccm_token_issued" {
            /// `token type`.
            token_type: Option<SharedStr>,
            /// `hierarchyId`.
            hierarchy: Option<SharedStr>,
            /// `userId`: the ConfigMgr user.
            cm_user: Option<SharedStr>,
            /// `deviceId`: the SMS client GUID.
            client_guid: Option<SharedStr>,
        },
        /// CCM_STS: `Return token to client`.
        CcmTokenReturned = "ccm_token_returned",
        /// Connector: `Switched to internal URL. Replaced '<from>' ... with '<to>'`.
        ProxyUrlRewritten = "proxy_url_rewritten" {
            /// The URL as the CMG received it.
            from: SharedStr,
            /// The internal URL it was sent to.
            to: SharedStr,
        },
        /// Connector: `MessageID: <id> RequestURI: <uri> EndpointName: <ep> ResponseHeader: HTTP/1.1 <status> ... ElapsedTime: <n> ms`.
        ProxyRequest = "proxy_request" {
            /// `MessageID`.
            message_id: Option<SharedStr>,
            /// `EndpointName`.
            endpoint: Option<SharedStr>,
            /// `RequestURI`.
            uri: Option<SharedStr>,
            /// The HTTP status of the response.
            http_status: Option<u16>,
            /// The HTTP status text of the response.
            status_text: Option<SharedStr>,
            /// `ElapsedTime`, in milliseconds.
            elapsed_ms: Option<u64>,
        },
        /// CMGService: `RequestUri: <uri>  RequestCount: <n> ... AverageElapsedTime: <n> ms`.
        CmgRequestStats = "cmg_request_stats" {
            /// `RequestUri`.
            uri: SharedStr,
            /// `RequestCount`.
            count: Option<u64>,
            /// `AverageElapsedTime`, in milliseconds.
            avg_elapsed_ms: Option<u64>,
        },
        /// ClientIDManagerStartup: `[RegTask] - Starting registration, attempt N.`
        RegistrationStarted = "registration_started" {
            /// The attempt number.
            attempt: Option<u32>,
        },
        /// `[RegTask] - Client is not registered. Sending registration request for GUID:..`.
        RegistrationRequested = "registration_requested" {
            /// The SMS client GUID the request is for.
            client_guid: Option<SharedStr>,
        },
        /// `Registering client using AAD auth.`
        RegistrationUsingAad = "registration_using_aad",
        /// MP_RegistrationManager: `Registering device using AAD auth: DeviceId='..', TenantId='..'` and/or
        /// `Processing Registration request from Client 'GUID:..'`.
        MpRegistration = "mp_registration" {
            /// `DeviceId`: the Azure AD device.
            aad_device: Option<SharedStr>,
            /// `TenantId`.
            tenant: Option<SharedStr>,
            /// The SMS client GUID of the request.
            client_guid: Option<SharedStr>,
        },
        /// MP_RegistrationManager / client: registration rejected or failed, with the text's code.
        RegistrationFailed = "registration_failed" {
            /// The code the text gives (`0x...`), if any.
            code: Option<SharedStr>,
            /// Why, as written.
            reason: SharedStr,
        },
        /// `[RegTask] - Client is registered. Server assigned ClientID is GUID:... Approval status N`.
        Registered = "registered" {
            /// The SMS client GUID the site assigned.
            client_guid: Option<SharedStr>,
            /// The approval status.
            approval: Option<u32>,
        },
        /// `[RegTask] - Client registration is pending. Server assigned ClientID is GUID:...`: the site assigned a
        /// client id but has not approved the registration (given with `RegistrationRequested` for the same line).
        RegistrationPending = "registration_pending" {
            /// The SMS client GUID the site assigned.
            client_guid: Option<SharedStr>,
        },
        /// ccmsetup: `Found a valid online MP '<url>'`, `The location '<url>'`, `Checking the URL '.../ccmsetup.cab'`.
        ContentLocation = "content_location" {
            /// The location, as written.
            url: SharedStr,
        },
        /// ClientIDManagerStartup: `SCCM Client Version: <v>`, written when an installed client starts.
        ClientStartup = "client_startup" {
            /// The client version.
            version: Option<SharedStr>,
        },
        /// ccmsetup: `CcmSetup version: <v>`, written at the start of every ccmsetup run (the client generation).
        CcmsetupVersion = "ccmsetup_version" {
            /// The ccmsetup version.
            version: Option<SharedStr>,
        },
        /// ccmsetup: `Ccmsetup command line: ... /mp:<mp> ... CCMHOSTNAME=<cmg>`: where the install was pointed.
        CcmsetupCommandLine = "ccmsetup_command_line" {
            /// `/mp:`: the management point.
            mp: Option<SharedStr>,
            /// `CCMHOSTNAME=`: the CMG.
            cmg: Option<SharedStr>,
        },
        /// ccmsetup: `Installing version <v> of the client with product code {..}` / `Running installation package`.
        ClientInstallStarted = "client_install_started" {
            /// The client version being installed.
            version: Option<SharedStr>,
            /// The MSI product code.
            product_code: Option<SharedStr>,
        },
        /// ccmsetup: `CcmSetup is exiting with return code N` (or `CcmSetup failed with error code 0x..`).
        CcmsetupExit = "ccmsetup_exit" {
            /// The return code, or the error code it failed with.
            code: i64,
        },
        /// ccmsetup: `==========[ ccmsetup started in process N ]==========`: a new attempt starts (real log:
        /// shared/domain/real/ccmsetup.log:1 and :31).
        CcmsetupStarted = "ccmsetup_started" {
            /// The process id.
            pid: Option<u32>,
        },
        /// ccmsetup: a failed attempt will be retried (`Next retry in N minute(s)...`, UNCONFIRMED wording): the
        /// failure before it is not final until ccmsetup exits.
        CcmsetupRetryScheduled = "ccmsetup_retry_scheduled" {
            /// Minutes until the retry.
            minutes: Option<u32>,
        },
        /// ccmsetup: the client was set up with a PKI certificate instead of Azure AD.
        PkiCertSelected = "pki_cert_selected" {
            /// The line's words about the certificate.
            detail: SharedStr,
        },
        /// `Enabled SSL revocation check.` (an enabled check, not a failure).
        RevocationCheckEnabled = "revocation_check_enabled",
        /// WinHTTP secure-failure flags and certificate errors: `WINHTTP_CALLBACK_STATUS_FLAG_INVALID_CA is set`,
        /// `CERT_REV_FAILED`, `CERT_CN_INVALID`, `Code=12175`, `0x800b0109`, ...
        CertificateError = "certificate_error" {
            /// The flag or error name, as written.
            flag: SharedStr,
            /// The error code, if the line gives one.
            code: Option<SharedStr>,
            /// The URL being reached, if the line gives it.
            url: Option<SharedStr>,
        },
        /// `[CCMHTTP] ERROR: URL=.., Code=N, Text=..` / `ERROR INFO: StatusCode=N StatusText=..`.
        HttpError = "http_error" {
            /// `URL`.
            url: Option<SharedStr>,
            /// `Code`: the error code.
            code: Option<SharedStr>,
            /// `Text` / `StatusText`.
            text: Option<SharedStr>,
            /// `StatusCode`: the HTTP status.
            http_status: Option<u16>,
        },
        /// Client logs: `Sending remote sync message '{id}' to host '<host>' endpoint '<ep>'`.
        MessageSent = "message_sent" {
            /// The message id.
            message_id: SharedStr,
            /// The host it is sent to.
            host: Option<SharedStr>,
            /// The endpoint it is sent to.
            endpoint: Option<SharedStr>,
        },
        /// `Message '{id}' got reply message '{id}' ...`.
        MessageReplied = "message_replied" {
            /// The message id.
            message_id: SharedStr,
            /// The reply's message id.
            reply_id: Option<SharedStr>,
        },
        /// Any other failure line of a flow log (kept for rules, trace and the causes of failures): an
        /// error-severity line (CMTrace type 3) with an error code or a failure word (`fail`, `error`, `unable`,
        /// ...), a warning line with an error code and `fail`, or a ccmsetup line of the failure catalog
        /// (`Deployment Error 0x..`, `Have already tried all MPs`, ...). `code`: the first `0x8...`/`0xC...`/`0xD...`
        /// code of the line, if any.
        ErrorLogged = "error_logged" {
            /// The first `0x8...`/`0xC...`/`0xD...` code of the line.
            code: Option<SharedStr>,
        },
    }
}

/// Where an event was read: the evidence every finding cites.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// Shared by every event of the file (one allocation per file, not per event).
    pub path: SharedStr,
    /// 1-based line where the record starts.
    pub line: u32,
    /// The host whose log it is.
    pub host: SharedStr,
    /// UTC, or `None` when the record had no readable time.
    pub time: Option<DateTime<Utc>>,
    /// The message: in the spill (`crate::spill`, read again when printed) or in memory.
    pub text: crate::spill::Text,
}

/// One extracted event: what happened, where, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    /// What happened, with the identifiers the message names.
    #[serde(flatten)]
    pub kind: EventKind,
    /// The log it was read from.
    pub log_kind: crate::kind::LogKind,
    /// The entry's severity.
    pub severity: Severity,
    /// Local time as written (for matching client-local token expiries).
    pub local_time: Option<NaiveDateTime>,
    /// The entry's bias in minutes (UTC = local + bias).
    pub bias_minutes: Option<i32>,
    /// The writer's thread id, when the record has one (added field): the engine groups the lines of one
    /// CCM_STS / MP_RegistrationManager request by (file, thread) because concurrent requests interleave.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thread: Option<u32>,
    /// Where it was read.
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
