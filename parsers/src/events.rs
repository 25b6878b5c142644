//! Typed flow events: what the extractors (`crate::extract`) turn the messages that matter into.
//! Each event carries the identifiers its message names and the evidence (file, line, time, text).

use std::borrow::Cow;
use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;

use crate::entry::Severity;
use crate::spill::{Spill, SpillRange, Text};

pub use crate::shared::SharedStr;

/// Azure AD token flavour requested through WAM/ADAL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AadTokenKind {
    /// A token for the device.
    Device,
    /// A token for the signed-in user.
    User,
}

/// The on-premises SIDs of a validated Azure AD token (`OnPrem_UserSid`, `OnPrem_DeviceSid`), serialised as the
/// fields `onprem_user_sid` and `onprem_device_sid`: two 4-byte strings, either may be absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OnPremSids([Option<SharedStr>; 2]);

impl OnPremSids {
    /// The SIDs written (either may be absent).
    pub fn new(user_sid: Option<SharedStr>, device_sid: Option<SharedStr>) -> OnPremSids {
        OnPremSids([user_sid, device_sid])
    }

    /// `OnPrem_UserSid`.
    pub fn user_sid(&self) -> Option<&SharedStr> {
        self.0[0].as_ref()
    }

    /// `OnPrem_DeviceSid`.
    pub fn device_sid(&self) -> Option<&SharedStr> {
        self.0[1].as_ref()
    }
}

impl Serialize for OnPremSids {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("OnPremSids", 2)?;
        st.serialize_field("onprem_user_sid", &self.user_sid())?;
        st.serialize_field("onprem_device_sid", &self.device_sid())?;
        st.end()
    }
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
            /// `OnPrem_UserSid` and `OnPrem_DeviceSid` (serialised as those two fields).
            #[serde(flatten)]
            onprem: OnPremSids,
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
            /// `ElapsedTime`, in milliseconds (none past `u32::MAX`, 49 days: no request takes that long).
            elapsed_ms: Option<u32>,
        },
        /// CMGService: `RequestUri: <uri>  RequestCount: <n> ... AverageElapsedTime: <n> ms`.
        CmgRequestStats = "cmg_request_stats" {
            /// `RequestUri`.
            uri: SharedStr,
            /// `RequestCount` (a count past `u32::MAX` reads as none: 32 bits keep every event kind 32 bytes).
            count: Option<u32>,
            /// `AverageElapsedTime`, in milliseconds (past `u32::MAX`, 49 days, none).
            avg_elapsed_ms: Option<u32>,
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

/// The file an event was read from: its path and host, and where its events' texts are; shared (one
/// reference count) by the events of a piece of the file.
#[derive(Clone)]
pub struct Origin {
    /// The file's path.
    pub path: SharedStr,
    /// The host whose log it is.
    pub host: SharedStr,
    /// What the events' text ranges are in: the read's spill (none when no event's text is spilled).
    texts: Option<Arc<Spill>>,
    /// The text of the one event of this origin whose text is kept in memory (not in a spill: a test's event,
    /// a text a spill could not take).
    inline: Option<SharedStr>,
}

impl Origin {
    /// The file at `path` on `host`.
    pub fn new(path: SharedStr, host: SharedStr) -> Origin {
        Origin { path, host, texts: None, inline: None }
    }

    /// Whether its texts are in `spill`.
    fn holds(&self, spill: &Arc<Spill>) -> bool {
        self.inline.is_none() && self.texts.as_ref().is_some_and(|t| Arc::ptr_eq(t, spill))
    }
}

impl std::fmt::Debug for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Origin").field("path", &self.path).field("host", &self.host).finish_non_exhaustive()
    }
}

/// Where an event was read: the evidence every finding cites. The event's time is `Event::time` (its local
/// time and bias, kept on the event). Path, host and where the text is kept come from one shared `Origin`;
/// the event holds its text's range in that spill (`text()` reads it): 24 bytes for millions of events.
#[derive(Clone)]
pub struct Evidence {
    /// The file's path and host, and the spill of its texts.
    origin: Arc<Origin>,
    /// The message's range in the origin's spill (empty when the origin holds the text itself).
    at: SpillRange,
    /// 1-based line where the record starts.
    pub line: u32,
    /// The writer's thread id, `NO_THREAD` for none (`Evidence::thread` reads it): four bytes, not the eight of
    /// an `Option<u32>`.
    thread: u32,
}

/// `Evidence::thread` of a record without a thread id. A thread id of `u32::MAX` itself reads as none: no
/// Windows thread has it (thread ids are multiples of four).
const NO_THREAD: u32 = u32::MAX;

/// `Event::bias` of a record without a bias. Biases are at most `crate::format::MAX_BIAS_MINUTES` (840) either
/// way, so two bytes hold them.
const NO_BIAS: i16 = i16::MIN;

impl Evidence {
    /// The evidence of line `line` of the file at `path` on `host`, written by `thread`, with its `text`.
    pub fn new(path: SharedStr, line: u32, host: SharedStr, thread: Option<u32>, text: Text) -> Evidence {
        Evidence::of(&mut Arc::new(Origin::new(path, host)), line, thread, text)
    }

    /// The evidence of line `line` of the file `origin`, written by `thread`, with its `text`. A text in a
    /// spill the origin does not name gives the origin that spill (for this and later events given it); a
    /// text in memory gets an origin of its own.
    pub fn of(origin: &mut Arc<Origin>, line: u32, thread: Option<u32>, text: Text) -> Evidence {
        let (origin, at) = match text {
            Text::Spilled { spill, at } => {
                if !origin.holds(&spill) {
                    *origin = Arc::new(Origin { texts: Some(spill), inline: None, ..Origin::clone(origin) });
                }
                (origin.clone(), at)
            }
            Text::Inline(s) => (
                Arc::new(Origin { texts: None, inline: Some(s), ..Origin::clone(origin) }),
                SpillRange::EMPTY,
            ),
        };
        Evidence { origin, at, line, thread: thread.unwrap_or(NO_THREAD) }
    }

    /// The message: read from the spill when it is there.
    pub fn text(&self) -> EvidenceText<'_> {
        EvidenceText(self)
    }

    /// Sets the message (for this event only: the events sharing its origin keep theirs).
    pub fn set_text(&mut self, text: Text) {
        let mut origin = self.origin.clone();
        *self = Evidence::of(&mut origin, self.line, self.thread(), text);
    }

    /// The range of a spilled text, for the reader that moves it from a chunk's buffer to the spill.
    pub(crate) fn spill_range(&self) -> Option<SpillRange> {
        (self.origin.inline.is_none() && self.origin.texts.is_some()).then_some(self.at)
    }

    /// Moves the text to `at` in the same spill.
    pub(crate) fn set_spill_range(&mut self, at: SpillRange) {
        self.at = at;
    }

    /// The file's path (shared by every event of the file).
    pub fn path(&self) -> &SharedStr {
        &self.origin.path
    }

    /// The host whose log it is.
    pub fn host(&self) -> &SharedStr {
        &self.origin.host
    }

    /// The file's path and host.
    pub fn origin(&self) -> &std::sync::Arc<Origin> {
        &self.origin
    }

    /// Sets the path (for this event only: the events sharing its origin keep theirs).
    pub fn set_path(&mut self, path: SharedStr) {
        std::sync::Arc::make_mut(&mut self.origin).path = path;
    }

    /// Sets the host (for this event only: the events sharing its origin keep theirs).
    pub fn set_host(&mut self, host: SharedStr) {
        std::sync::Arc::make_mut(&mut self.origin).host = host;
    }

    /// The writer's thread id, when the record has one.
    pub fn thread(&self) -> Option<u32> {
        (self.thread != NO_THREAD).then_some(self.thread)
    }

    /// Sets the writer's thread id.
    pub fn set_thread(&mut self, thread: Option<u32>) {
        self.thread = thread.unwrap_or(NO_THREAD);
    }
}

/// Two pieces of evidence are equal when they cite the same line of the same file on the same host, with the
/// same thread and the same text (wherever it is kept).
impl PartialEq for Evidence {
    fn eq(&self, other: &Self) -> bool {
        self.path() == other.path()
            && self.host() == other.host()
            && self.line == other.line
            && self.thread == other.thread
            && self.text().get() == other.text().get()
    }
}

impl Eq for Evidence {}

impl std::fmt::Debug for Evidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Evidence")
            .field("path", self.path())
            .field("host", self.host())
            .field("line", &self.line)
            .field("thread", &self.thread())
            .field("text", &self.text().get())
            .finish()
    }
}

/// An event's message as its `Evidence` keeps it: `get` reads it (from the spill, or the memory that holds it).
#[derive(Clone, Copy)]
pub struct EvidenceText<'a>(&'a Evidence);

impl<'a> EvidenceText<'a> {
    /// The text (read from the spill when it is there; a read that fails gives a sentence that says so).
    pub fn get(self) -> Cow<'a, str> {
        let origin = &*self.0.origin;
        match (&origin.inline, &origin.texts) {
            (Some(s), _) => Cow::Borrowed(s.as_str()),
            (None, Some(spill)) => Cow::Owned(spill.text_at(self.0.at)),
            (None, None) => Cow::Borrowed(""),
        }
    }

    /// The text as a `Text` of its own (a reference to the spill, or to the string in memory).
    pub fn to_text(self) -> Text {
        let origin = &*self.0.origin;
        match (&origin.inline, &origin.texts) {
            (Some(s), _) => Text::Inline(s.clone()),
            (None, Some(spill)) => Text::Spilled { spill: spill.clone(), at: self.0.at },
            (None, None) => Text::from(""),
        }
    }
}

impl std::fmt::Debug for EvidenceText<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&*self.get(), f)
    }
}

impl std::fmt::Display for EvidenceText<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.get())
    }
}

impl Serialize for EvidenceText<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.get())
    }
}

/// One extracted event: what happened, where, when. 72 bytes: the time is kept once, as written (local time
/// and bias), and the UTC time computed from them (`Event::time`); millions of events are held at once.
/// Serialises as it did with `time`, `bias_minutes` and `thread` as fields (`EventJson`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// What happened, with the identifiers the message names.
    pub kind: EventKind,
    /// Where it was read.
    pub evidence: Evidence,
    /// Local time as written (for matching client-local token expiries).
    pub local_time: Option<NaiveDateTime>,
    /// The entry's bias in minutes (UTC = local + bias), `NO_BIAS` for none (`Event::bias_minutes`).
    bias: i16,
    /// The log it was read from.
    pub log_kind: crate::kind::LogKind,
    /// The entry's severity.
    pub severity: Severity,
}

impl Event {
    /// An event of `kind` read from a `log_kind` log, with the entry's severity, local time and bias (a bias
    /// beyond `crate::format::MAX_BIAS_MINUTES`, which the parsers never give, is kept as none).
    pub fn new(
        kind: EventKind,
        log_kind: crate::kind::LogKind,
        severity: Severity,
        local_time: Option<NaiveDateTime>,
        bias_minutes: Option<i32>,
        evidence: Evidence,
    ) -> Event {
        let mut event = Event { kind, evidence, local_time, bias: NO_BIAS, log_kind, severity };
        event.set_bias_minutes(bias_minutes);
        event
    }

    /// The event `kind` an extractor found in `entry`, a record of a `log_kind` file `origin`, with the
    /// entry's text given as `text` (in memory or in the spill, as the reader keeps it).
    pub fn from_entry(
        kind: EventKind,
        log_kind: crate::kind::LogKind,
        entry: &crate::entry::Entry<'_>,
        origin: &mut Arc<Origin>,
        text: Text,
    ) -> Event {
        let evidence = Evidence::of(origin, entry.line, entry.thread, text);
        Event::new(kind, log_kind, entry.severity, entry.local_time, entry.bias_minutes, evidence)
    }

    /// The entry's bias in minutes (UTC = local + bias), when it has one.
    pub fn bias_minutes(&self) -> Option<i32> {
        (self.bias != NO_BIAS).then_some(i32::from(self.bias))
    }

    /// Sets the bias in minutes (none when it does not fit the two bytes kept; real biases always do).
    pub fn set_bias_minutes(&mut self, bias_minutes: Option<i32>) {
        self.bias =
            bias_minutes.and_then(|b| i16::try_from(b).ok()).filter(|&b| b != NO_BIAS).unwrap_or(NO_BIAS);
    }

    /// The writer's thread id, when the record has one (the engine groups the lines of one CCM_STS /
    /// MP_RegistrationManager request by (file, thread) because concurrent requests interleave).
    pub fn thread(&self) -> Option<u32> {
        self.evidence.thread()
    }

    /// UTC: the local time plus the bias, `None` unless both are known or outside years 1..=9999 (as
    /// `crate::entry::Entry::utc`).
    pub fn time(&self) -> Option<DateTime<Utc>> {
        crate::entry::utc_of(self.local_time?, self.bias_minutes()?)
    }

    /// `time` in milliseconds since the Unix epoch.
    pub fn time_ms(&self) -> Option<i64> {
        self.time().map(|t| t.timestamp_millis())
    }

    /// Sets the time as UTC written with `bias_minutes` (the local time is the UTC time minus the bias); `None`
    /// for either leaves the event without a time, as a record missing one.
    pub fn set_time(&mut self, utc: Option<DateTime<Utc>>, bias_minutes: Option<i32>) {
        match (utc, bias_minutes) {
            (Some(t), Some(b)) => {
                self.local_time = Some(t.naive_utc() - chrono::Duration::minutes(i64::from(b)));
                self.set_bias_minutes(Some(b));
            }
            _ => {
                self.local_time = None;
                self.set_bias_minutes(None);
            }
        }
    }
}

/// The JSON of an event: the fields in the order they had when `Event` derived `Serialize`.
#[derive(Serialize)]
struct EventJson<'a> {
    #[serde(flatten)]
    kind: &'a EventKind,
    log_kind: crate::kind::LogKind,
    severity: Severity,
    local_time: Option<NaiveDateTime>,
    bias_minutes: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    thread: Option<u32>,
    evidence: EvidenceJson<'a>,
}

/// The JSON of an event's evidence, with its UTC time.
#[derive(Serialize)]
struct EvidenceJson<'a> {
    path: &'a SharedStr,
    line: u32,
    host: &'a SharedStr,
    time: Option<DateTime<Utc>>,
    text: EvidenceText<'a>,
}

impl Serialize for Event {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let e = &self.evidence;
        EventJson {
            kind: &self.kind,
            log_kind: self.log_kind,
            severity: self.severity,
            local_time: self.local_time,
            bias_minutes: self.bias_minutes(),
            thread: self.thread(),
            evidence: EvidenceJson {
                path: e.path(),
                line: e.line,
                host: e.host(),
                time: self.time(),
                text: e.text(),
            },
        }
        .serialize(s)
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

    /// The boxed on-premises SIDs serialise as the two fields they were, in their place, `null` when absent, and
    /// allocate nothing when neither is written.
    #[test]
    fn on_premises_sids_serialise_as_two_fields() {
        let kind = |onprem| EventKind::AadTokenValidated {
            token_type: Some("UDA".into()),
            tenant: None,
            aad_user: None,
            aad_device: Some("d".into()),
            onprem,
        };
        let json =
            serde_json::to_string(&kind(OnPremSids::new(Some("S-1-5-21-1-1001".into()), None))).unwrap();
        assert_eq!(
            json,
            r#"{"event":"aad_token_validated","token_type":"UDA","tenant":null,"aad_user":null,"aad_device":"d","onprem_user_sid":"S-1-5-21-1-1001","onprem_device_sid":null}"#
        );
        let json =
            serde_json::to_string(&kind(OnPremSids::new(None, Some("S-1-5-21-1-2002".into())))).unwrap();
        assert!(json.ends_with(r#""onprem_user_sid":null,"onprem_device_sid":"S-1-5-21-1-2002"}"#), "{json}");
        let none = OnPremSids::new(None, None);
        assert_eq!(none, OnPremSids::default());
        assert_eq!((none.user_sid(), none.device_sid()), (None, None));
        assert!(serde_json::to_string(&kind(none))
            .unwrap()
            .ends_with(r#""onprem_user_sid":null,"onprem_device_sid":null}"#));
        assert_eq!(std::mem::size_of::<EventKind>(), 32);
    }

    fn event(local_time: Option<NaiveDateTime>, bias: Option<i32>, thread: Option<u32>) -> Event {
        let evidence =
            Evidence::new("C:\\Windows\\ccm\\logs\\CCM_STS.log".into(), 7, "MP01".into(), thread, "t".into());
        Event::new(
            EventKind::CcmTokenReturned,
            crate::kind::LogKind::CcmSts,
            Severity::Info,
            local_time,
            bias,
            evidence,
        )
    }

    /// The event holds its time as written and gives UTC back as the entry does; thread and bias read back
    /// as set, none as none; and it stays 72 bytes.
    #[test]
    fn time_bias_and_thread_read_back_as_the_entry_gave_them() {
        assert_eq!(std::mem::size_of::<Event>(), 72);
        let local =
            chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap().and_hms_milli_opt(23, 30, 5, 250).unwrap();
        for bias in [Some(-840), Some(-60), Some(0), Some(480), Some(840), None] {
            for thread in [Some(0), Some(4), Some(u32::MAX - 1), None] {
                let e = event(Some(local), bias, thread);
                assert_eq!(e.bias_minutes(), bias);
                assert_eq!(e.thread(), thread);
                let utc = bias.and_then(|b| crate::entry::utc_of(local, b));
                assert_eq!(
                    utc.map(|u| u.naive_utc() - local),
                    bias.map(|b| chrono::Duration::minutes(b.into()))
                );
                assert_eq!(e.time(), utc, "{bias:?}");
                assert_eq!(e.time_ms(), utc.map(|t| t.timestamp_millis()));
            }
        }
        assert_eq!(event(None, Some(0), None).time(), None, "no local time, no UTC");
        assert_eq!(event(Some(local), None, None).time(), None, "no bias, no UTC");
        // Beyond the four-digit years: none, as the entry says.
        let last = chrono::NaiveDate::from_ymd_opt(9999, 12, 31).unwrap().and_hms_opt(23, 0, 0).unwrap();
        assert!(event(Some(last), Some(-60), None).time().is_some());
        assert_eq!(event(Some(last), Some(60), None).time(), None);
        // A bias the parsers never give (they stop at 840) is none rather than a wrong one.
        assert_eq!(event(Some(local), Some(40_000), None).bias_minutes(), None);
        assert_eq!(event(Some(local), Some(i32::from(i16::MIN)), None).bias_minutes(), None);
    }

    /// `set_time` writes the local time back from UTC and the bias; `time` gives the same UTC.
    #[test]
    fn set_time_keeps_the_utc_time() {
        let mut e = event(None, None, None);
        let utc =
            chrono::DateTime::parse_from_rfc3339("2026-03-01T08:00:00.125Z").unwrap().with_timezone(&Utc);
        e.set_time(Some(utc), Some(-300)); // UTC+5: local 13:00
        assert_eq!((e.time(), e.bias_minutes()), (Some(utc), Some(-300)));
        assert_eq!(e.local_time.unwrap().to_string(), "2026-03-01 13:00:00.125");
        e.set_time(None, Some(0));
        assert_eq!((e.time(), e.local_time, e.bias_minutes()), (None, None, None));
    }

    /// The JSON has the fields and order it had when `Event` derived `Serialize`: the kind's fields, then
    /// log kind, severity, local time, bias, thread (only when known) and evidence with its UTC time.
    #[test]
    fn serialises_with_time_bias_and_thread() {
        let local =
            chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap().and_hms_milli_opt(10, 0, 0, 5).unwrap();
        let json = serde_json::to_string(&event(Some(local), Some(60), Some(12))).unwrap();
        assert_eq!(
            json,
            r#"{"event":"ccm_token_returned","log_kind":"ccm_sts","severity":"info","local_time":"2026-03-01T10:00:00.005","bias_minutes":60,"thread":12,"evidence":{"path":"C:\\Windows\\ccm\\logs\\CCM_STS.log","line":7,"host":"MP01","time":"2026-03-01T11:00:00.005Z","text":"t"}}"#
        );
        let json = serde_json::to_string(&event(None, None, None)).unwrap();
        assert!(json.contains(r#""local_time":null,"bias_minutes":null,"evidence""#), "{json}");
        assert!(json.contains(r#""time":null"#), "{json}");
    }

    /// An origin takes the spill of the first spilled text given with it and is shared by the events whose
    /// texts are in that spill; a text of another spill, or one in memory, gets an origin of its own, and
    /// setting one event's text leaves the others' alone.
    #[test]
    fn evidence_holds_a_range_in_the_spill_its_origin_names() {
        let (one, two) = (Spill::in_memory(), Spill::in_memory());
        let mut origin = Arc::new(Origin::new("C:\\logs\\CCM_STS.log".into(), "MP01".into()));
        let first = Evidence::of(&mut origin, 1, None, one.text_of("first"));
        let second = Evidence::of(&mut origin, 2, Some(8), one.text_of("second"));
        assert!(Arc::ptr_eq(first.origin(), second.origin()) && Arc::ptr_eq(&origin, first.origin()));
        let other = Evidence::of(&mut origin, 3, None, two.text_of("other spill"));
        assert!(!Arc::ptr_eq(other.origin(), first.origin()), "another spill, another origin");
        let mut in_memory = Evidence::of(&mut origin, 4, None, Text::from("in memory"));
        assert!(!Arc::ptr_eq(in_memory.origin(), &origin), "a text in memory is its origin's own");
        let texts = |es: &[&Evidence]| es.iter().map(|e| e.text().get().into_owned()).collect::<Vec<_>>();
        assert_eq!(
            texts(&[&first, &second, &other, &in_memory]),
            ["first", "second", "other spill", "in memory"]
        );
        assert_eq!(
            (other.path().as_str(), other.host().as_str(), second.thread()),
            ("C:\\logs\\CCM_STS.log", "MP01", Some(8))
        );
        let mut changed = second.clone();
        changed.set_text(Text::from("changed"));
        in_memory.set_text(one.text_of("spilled now"));
        assert_eq!(
            texts(&[&first, &second, &changed, &in_memory]),
            ["first", "second", "changed", "spilled now"]
        );
        assert_eq!((changed.line, changed.thread()), (2, Some(8)));
        // Equal when they read the same, wherever kept; the text as a `Text` of its own reads the same too.
        assert_eq!(
            Evidence::new("p".into(), 1, "h".into(), None, Text::from("first")).text().to_text(),
            first.text().to_text()
        );
        assert_ne!(first, Evidence::new(first.path().clone(), 1, "MP01".into(), None, Text::from("firsT")));
        assert_eq!(first, Evidence::new(first.path().clone(), 1, "MP01".into(), None, Text::from("first")));
        assert_eq!(std::mem::size_of::<Evidence>(), 24);
    }
}
