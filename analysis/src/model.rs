//! The analysis document of `docs/json-contract.md` (schema version 2): inputs,
//! devices with phases, findings and the timeline. Shared by every front end (JSON, text, ...).

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use cmtrace_parsers::{Event, LineFormat, LogKind, Severity, SharedStr, TextEncoding};
use serde::{Serialize, Serializer};

use crate::index::{DeviceIx, EventIx};
use crate::ordered::Events;

/// The contract version of `Report` (`schema_version`).
pub const SCHEMA_VERSION: u32 = 2;

/// RFC 3339 UTC with milliseconds and a `Z` suffix, as the contract requires.
pub fn format_utc(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub(crate) fn ser_opt_utc<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&format_utc(t)),
        None => s.serialize_none(),
    }
}

/// One file read (or not).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Input {
    /// The file's path as given or found (`bundle.zip/HOST/.../ccmsetup.log` inside a zip).
    // Path and host: the read's one copy, shared with the file's events.
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub path: SharedStr,
    /// The host whose logs the file is (from the folder layout or `--host`).
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub host: SharedStr,
    /// Which log of the flow the file is (`other` for every other ConfigMgr log).
    pub log_kind: LogKind,
    /// The line format the file is written in (`unknown` when none was recognised).
    pub format: LineFormat,
    /// The text encoding the file was decoded from.
    pub encoding: TextEncoding,
    /// Log entries read.
    pub lines: u64,
    /// Lines that matched no line format.
    pub unparsed_lines: u64,
    /// Why the file (or path, or zip entry) could not be read; null when it was.
    pub error: Option<String>,
    /// Bytes read (not in the contract; added field).
    pub bytes: u64,
    /// The first entry time of the file (UTC; added field, null when no entry has a time): a log whose
    /// first entry is later than a step of the flow has rotated that step away.
    #[serde(serialize_with = "ser_opt_utc")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<crate::schema::UtcTime>"))]
    pub first_time: Option<DateTime<Utc>>,
    /// The last entry time of the file (UTC; added field, null when no entry has a time).
    #[serde(serialize_with = "ser_opt_utc")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<crate::schema::UtcTime>"))]
    pub last_time: Option<DateTime<Utc>>,
    /// What was read but not as it should be (added field; left out when none): the file changed while
    /// it was read, records longer than the bound were cut off and counted as unparsed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

impl Input {
    /// A file before its lines are read: its path, host, log kind and line format; UTF-8, nothing counted.
    pub fn new(
        path: impl Into<SharedStr>,
        host: impl Into<SharedStr>,
        log_kind: LogKind,
        format: LineFormat,
    ) -> Input {
        Input {
            path: path.into(),
            host: host.into(),
            log_kind,
            format,
            encoding: TextEncoding::Utf8,
            lines: 0,
            unparsed_lines: 0,
            error: None,
            bytes: 0,
            first_time: None,
            last_time: None,
            warning: None,
        }
    }

    /// Whether anything was read from this input: it has no error, or it gave entries before one. With no
    /// input read, `analyze` and `trace` cannot run (exit 2).
    pub fn was_read(&self) -> bool {
        self.error.is_none() || self.lines > 0
    }
}

/// The steps of the flow, in flow order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
// Variants described by plain comments: doc comments would turn the schema's `enum` of names into a `oneOf`.
#[allow(missing_docs)]
pub enum PhaseId {
    // Installation: the client asks the CMG for the Entra ID (Azure AD) app info.
    #[serde(rename = "install.aad_info")]
    InstallAadInfo,
    // Installation: an Entra ID device or user token.
    #[serde(rename = "install.aad_token")]
    InstallAadToken,
    // Installation: a CCM token from CCM_STS on the management point.
    #[serde(rename = "install.ccm_token")]
    InstallCcmToken,
    // Installation: the client content location (where ccmsetup downloads the client from).
    #[serde(rename = "install.content")]
    InstallContent,
    // Installation: ccmsetup installs the client MSI and exits.
    #[serde(rename = "install.client")]
    InstallClient,
    // Registration: the client sends its registration request.
    #[serde(rename = "registration.request")]
    RegistrationRequest,
    // Registration: an Entra ID token for the request.
    #[serde(rename = "registration.aad_token")]
    RegistrationAadToken,
    // Registration: the management point registers the device.
    #[serde(rename = "registration.mp")]
    RegistrationMp,
    // Registration: the client is registered (and approved).
    #[serde(rename = "registration.confirmed")]
    RegistrationConfirmed,
    // Registration: a CCM token issued after registration.
    #[serde(rename = "registration.ccm_token")]
    RegistrationCcmToken,
    // Renewal: the CCM token (8 hours) renewed before it expires.
    #[serde(rename = "renewal.ccm_token")]
    RenewalCcmToken,
}

/// What is known of one phase: its contract name, the log that shows it, what it is (in reasons) and its label
/// in reports for people. `PHASES` holds one per phase, in flow order (the order of `PhaseId`); every other
/// fact about a phase is read from there. (The contract names are also serde's, held equal by a test.)
#[derive(Debug)]
pub struct PhaseFacts {
    /// The phase this row is about.
    pub id: PhaseId,
    /// The contract's name (`install.aad_info`).
    pub name: &'static str,
    /// The log whose lines show the step.
    pub log: LogKind,
    /// What the step is, inside a sentence ("Azure AD token for ccmsetup").
    pub what: &'static str,
    /// What the step is, as a short label in words a support engineer uses ("Entra token (ccmsetup)").
    pub label: &'static str,
}

/// One row per phase, in flow order.
pub const PHASES: [PhaseFacts; 11] = {
    use LogKind::*;
    use PhaseId::*;
    const fn row(
        id: PhaseId,
        name: &'static str,
        log: LogKind,
        what: &'static str,
        label: &'static str,
    ) -> PhaseFacts {
        PhaseFacts { id, name, log, what, label }
    }
    [
        row(
            InstallAadInfo,
            "install.aad_info",
            Ccmsetup,
            "Azure AD app info request to the CMG",
            "Entra app info from CMG",
        ),
        row(
            InstallAadToken,
            "install.aad_token",
            Ccmsetup,
            "Azure AD token for ccmsetup",
            "Entra token (ccmsetup)",
        ),
        row(InstallCcmToken, "install.ccm_token", Ccmsetup, "CCM token for ccmsetup", "CCM token (ccmsetup)"),
        row(InstallContent, "install.content", Ccmsetup, "client content location", "Client content located"),
        row(InstallClient, "install.client", Ccmsetup, "ccmsetup exit", "Client installed"),
        row(
            RegistrationRequest,
            "registration.request",
            ClientIdManagerStartup,
            "registration request",
            "Registration requested",
        ),
        row(
            RegistrationAadToken,
            "registration.aad_token",
            AdalOperationProvider,
            "Azure AD token for registration",
            "Entra token (registration)",
        ),
        row(
            RegistrationMp,
            "registration.mp",
            MpRegistrationManager,
            "registration of this device on the management point",
            "MP processed registration",
        ),
        row(
            RegistrationConfirmed,
            "registration.confirmed",
            ClientIdManagerStartup,
            "registration confirmation",
            "Client registered",
        ),
        row(
            RegistrationCcmToken,
            "registration.ccm_token",
            ClientIdManagerStartup,
            "CCM token after registration",
            "CCM token (registered)",
        ),
        row(RenewalCcmToken, "renewal.ccm_token", CcmMessaging, "CCM token renewal", "CCM token renewal"),
    ]
};

impl PhaseId {
    /// Every phase, in flow order.
    pub const ALL: [PhaseId; 11] = {
        let mut all = [PhaseId::InstallAadInfo; 11];
        let mut i = 0;
        while i < all.len() {
            all[i] = PHASES[i].id;
            i += 1;
        }
        all
    };

    /// Its row of `PHASES`.
    pub fn facts(self) -> &'static PhaseFacts {
        &PHASES[self as usize]
    }

    /// The contract's name (`install.aad_info`).
    pub fn as_str(self) -> &'static str {
        self.facts().name
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
/// What the logs say about one step of a device's flow.
pub enum PhaseStatus {
    /// A line shows the step done.
    Ok,
    /// A line shows the step failed, and it was not done later.
    Failed,
    /// The log that shows the step was collected and covers the time the step was due, and no line shows it.
    Missing,
    /// The log that shows the step is not among the inputs, or its lines for that time rotated away.
    NotCollected,
    /// The device's path does not include the step (intranet, PKI certificate, an older client).
    NotApplicable,
}

impl PhaseStatus {
    /// The contract's name (`not_collected`).
    pub fn as_str(self) -> &'static str {
        match self {
            PhaseStatus::Ok => "ok",
            PhaseStatus::Failed => "failed",
            PhaseStatus::Missing => "missing",
            PhaseStatus::NotCollected => "not_collected",
            PhaseStatus::NotApplicable => "not_applicable",
        }
    }
}

/// Evidence as the contract serialises it (`time` as RFC 3339 UTC millis): one log line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema), schemars(rename = "Evidence"))]
pub struct EvidenceOut {
    /// The file, as in `inputs[].path`.
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub path: SharedStr,
    /// 1-based line where the log entry starts.
    #[cfg_attr(feature = "schema", schemars(range(min = 1)))]
    pub line: u32,
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    /// The host whose log holds the line.
    pub host: SharedStr,
    /// The entry's time as its host's clock wrote it, in UTC (not corrected for clock skew, so that the
    /// line can be found in the log; timeline and phase times are corrected); null when it has none.
    #[serde(serialize_with = "ser_opt_utc")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<crate::schema::UtcTime>"))]
    pub time: Option<DateTime<Utc>>,
    /// The log message, exactly as read.
    pub text: cmtrace_parsers::Text,
    /// The bias the log wrote beside its local time (UTC = local + bias), when the evidence is an event's
    /// line: `local_time` gives the time as written. Not serialised (the contract's times are UTC); an
    /// `i16` so that it fits in the padding after `line` (the struct stays 48 bytes).
    #[serde(skip)]
    pub bias_minutes: Option<i16>,
}

impl EvidenceOut {
    /// The local time as the log wrote it (reports for people show it beside UTC where the two differ).
    pub fn local_time(&self) -> Option<NaiveDateTime> {
        let utc = self.time?.naive_utc();
        utc.checked_sub_signed(chrono::Duration::minutes(self.bias_minutes?.into()))
    }
}

/// Keeps the first citation of each log line (`path`, `line`): one line that gives two events is
/// evidence once.
pub fn dedup_evidence(evidence: &mut Vec<EvidenceOut>) {
    if evidence.len() < 2 {
        return;
    }
    let mut seen = std::collections::HashSet::with_capacity(evidence.len());
    evidence.retain(|e| seen.insert((e.path.clone(), e.line)));
}

impl From<&Event> for EvidenceOut {
    /// The event's line, with the bias its time was written with.
    fn from(e: &Event) -> Self {
        let ev = &e.evidence;
        EvidenceOut {
            path: ev.path().clone(),
            line: ev.line,
            host: ev.host().clone(),
            time: e.time(),
            text: ev.text().to_text(),
            bias_minutes: e.bias_minutes().and_then(|b| i16::try_from(b).ok()),
        }
    }
}

impl From<cmtrace_parsers::FileSummary> for Input {
    /// The contract's `inputs[]` row of a file read (or not) by `cmtrace_parsers::Reader`.
    fn from(file: cmtrace_parsers::FileSummary) -> Input {
        Input {
            path: file.path,
            host: file.host,
            log_kind: file.log_kind,
            format: file.format,
            encoding: file.encoding,
            lines: file.entries,
            unparsed_lines: file.unparsed_lines,
            error: file.error,
            bytes: file.bytes,
            first_time: file.first_time,
            last_time: file.last_time,
            warning: file.warning,
        }
    }
}

/// Event `e`'s time (UTC milliseconds) with `correction_ms` (its host's clock correction) added; none when
/// the event has no time of its own. The timeline's times are these, worked out where they are read rather
/// than kept (eight bytes an event).
pub(crate) fn corrected_time_ms(e: &Event, correction_ms: i64) -> Option<i64> {
    e.time_ms().map(|t| t + correction_ms)
}

/// A device's 11 phases, in flow order (`iter`). Shared: most devices of a fleet collection are seen only on
/// the servers and have the same phases, without times or evidence, and such devices hold one list between
/// them; many more differ from such a list in one phase only (the management point registered them at a
/// time, citing a line), and hold the shared list and that one phase of their own.
#[derive(Debug, Clone, Default)]
pub struct Phases {
    /// The device's phases, except where `own` has one with the same id (shared between devices).
    shared: std::sync::Arc<[Phase]>,
    /// The device's phases that stand for those of `shared` with their id, in the same order.
    own: Box<[Phase]>,
}

impl Phases {
    /// `shared` with the phases of `own` in place of those with their ids (each id of `own` must be in
    /// `shared`, in the same order).
    pub fn with_own(shared: std::sync::Arc<[Phase]>, own: Box<[Phase]>) -> Phases {
        debug_assert!({
            let mut ids = shared.iter().map(|p| p.id);
            own.iter().all(|o| ids.any(|id| id == o.id))
        });
        Phases { shared, own }
    }

    /// The phases, in flow order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Phase> + ExactSizeIterator + Clone + '_ {
        self.shared.iter().map(|p| self.own.iter().find(|o| o.id == p.id).unwrap_or(p))
    }

    /// How many phases (11 once worked out).
    pub fn len(&self) -> usize {
        self.shared.len()
    }

    /// Whether there is none (not yet worked out).
    pub fn is_empty(&self) -> bool {
        self.shared.is_empty()
    }

    /// Whether `other` holds the same shared list (only their own phases can differ).
    pub fn shares_list_with(&self, other: &Phases) -> bool {
        std::sync::Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// The phases that are the device's own: those with times or evidence, where the list is shared.
    pub fn own(&self) -> &[Phase] {
        &self.own
    }

    /// The phases as a list of their own (to change them; `Phases::from` makes them shared again).
    pub fn to_vec(&self) -> Vec<Phase> {
        self.iter().cloned().collect()
    }
}

impl From<Vec<Phase>> for Phases {
    fn from(phases: Vec<Phase>) -> Phases {
        Phases { shared: phases.into(), own: Box::default() }
    }
}

impl Serialize for Phases {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

/// One step of a device's flow and what the logs say about it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Phase {
    /// Which step.
    pub id: PhaseId,
    /// What the logs say about it.
    pub status: PhaseStatus,
    /// When the step started (UTC, corrected for clock skew like the timeline); null when no line shows it.
    #[serde(serialize_with = "ser_opt_utc")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<crate::schema::UtcTime>"))]
    pub start: Option<DateTime<Utc>>,
    /// When the step ended (UTC); null when no line shows it.
    #[serde(serialize_with = "ser_opt_utc")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<crate::schema::UtcTime>"))]
    pub end: Option<DateTime<Utc>>,
    /// One line: why this status (the line that shows the step, which log is missing, why the path does
    /// not include it).
    // A shared string: most devices of a fleet give the same reason for a step.
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub reason: SharedStr,
    // A boxed slice rather than a `Vec`: one word less, and there are eleven phases per device.
    /// The lines that show the status (none for `not_collected`, `not_applicable` and most `missing`).
    pub evidence: Box<[EvidenceOut]>,
}

/// The way a device reaches the site, decided from its own lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum DevicePath {
    /// Through the cloud management gateway, authenticated with Entra ID (Azure AD) tokens.
    CmgEntra,
    /// Through the cloud management gateway, authenticated with a PKI client certificate.
    CmgPki,
    /// Straight to an intranet management point (HTTP or HTTPS), no CMG.
    Intranet,
    /// The device's lines do not say.
    #[default]
    Unknown,
}

impl DevicePath {
    /// The contract's name (`cmg_entra`).
    pub fn as_str(self) -> &'static str {
        match self {
            DevicePath::CmgEntra => "cmg_entra",
            DevicePath::CmgPki => "cmg_pki",
            DevicePath::Intranet => "intranet",
            DevicePath::Unknown => "unknown",
        }
    }
}

/// The number of lists in a `DeviceLists`.
const LIST_COUNT: usize = 9;

/// A device's identifier and host lists (`DeviceLists`) one after the other in one allocation, read with
/// the methods of their names. A fleet collection has hundreds of thousands of devices, most seen only on
/// the servers with a few identifiers each: nine boxed lists were 144 bytes and up to nine allocations per
/// device, these are 40 bytes and one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdLists {
    lists: Box<[SharedStr]>,
    /// Where each list ends in `lists`.
    ends: ListEnds,
}

/// Where each of a device's lists ends: in 16 bits while they all fit (every device of a real collection),
/// else in 32 bits in an allocation of their own.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ListEnds {
    Short([u16; LIST_COUNT]),
    Long(Box<[u32; LIST_COUNT]>),
}

impl Default for ListEnds {
    fn default() -> Self {
        ListEnds::Short([0; LIST_COUNT])
    }
}

impl ListEnds {
    fn new(ends: [u32; LIST_COUNT]) -> ListEnds {
        match ends[LIST_COUNT - 1] <= u32::from(u16::MAX) {
            true => ListEnds::Short(ends.map(|e| e as u16)),
            false => ListEnds::Long(Box::new(ends)),
        }
    }

    /// Where list `k` ends.
    fn get(&self, k: usize) -> usize {
        match self {
            ListEnds::Short(ends) => usize::from(ends[k]),
            ListEnds::Long(ends) => ends[k] as usize,
        }
    }
}

/// Defines `DeviceLists`, `IdLists` from it and the readers of the lists on `IdLists` and on each type
/// holding one as `ids`, from one list of the lists' names and positions.
macro_rules! id_list_readers {
    ($($(#[$doc:meta])* $name:ident = $k:literal,)*) => {
        /// A device's identifier and host lists, as `IdLists::from` takes them and `IdLists::to_lists` gives
        /// them back.
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct DeviceLists {
            $(
                $(#[$doc])*
                pub $name: Vec<SharedStr>,
            )*
        }

        impl From<DeviceLists> for IdLists {
            fn from(lists: DeviceLists) -> IdLists {
                let all = [$(lists.$name,)*];
                let mut flat = Vec::with_capacity(all.iter().map(Vec::len).sum());
                let mut ends = [0u32; LIST_COUNT];
                for (end, list) in ends.iter_mut().zip(all) {
                    flat.extend(list);
                    *end = u32::try_from(flat.len()).expect("fewer than 4 billion identifiers per device");
                }
                IdLists { lists: flat.into_boxed_slice(), ends: ListEnds::new(ends) }
            }
        }

        impl IdLists {
            $(
                $(#[$doc])*
                pub fn $name(&self) -> &[SharedStr] {
                    self.list($k)
                }
            )*

            /// The lists, each in a vector of its own (to change one and make an `IdLists` again).
            pub fn to_lists(&self) -> DeviceLists {
                DeviceLists { $($name: self.$name().to_vec(),)* }
            }
        }

        impl crate::facts::DeviceFacts {
            $(
                $(#[$doc])*
                pub fn $name(&self) -> &[SharedStr] {
                    self.ids.$name()
                }
            )*
        }

        impl Device {
            $(
                $(#[$doc])*
                pub fn $name(&self) -> &[SharedStr] {
                    self.ids.$name()
                }
            )*
        }
    };
}

id_list_readers! {
    /// SMS client GUIDs, upper case with the `GUID:` prefix.
    client_ids = 0,
    /// Entra (Azure AD) device ids, lower case.
    aad_device_ids = 1,
    /// Every tenant seen for the device, client and site side (both kept when they differ), lower case.
    aad_tenant_ids = 2,
    /// Tenants named by the client's own logs (`AADAuthInfo?TenantID=`).
    client_tenant_ids = 3,
    /// Tenants the site validated or registered the device with (CCM_STS, MP_RegistrationManager).
    site_tenant_ids = 4,
    /// Entra (Azure AD) user object ids, lower case.
    aad_user_ids = 5,
    /// Account SIDs (user and computer; never `S-1-5-18`), as written.
    sids = 6,
    /// Every host whose logs mention the device.
    hosts = 7,
    /// The host(s) whose client logs are this device's (normally one; two when hosts share a GUID).
    client_hosts = 8,
}

impl IdLists {
    /// List `k`, in `DeviceLists` order.
    fn list(&self, k: usize) -> &[SharedStr] {
        let start = if k == 0 { 0 } else { self.ends.get(k - 1) };
        &self.lists[start..self.ends.get(k)]
    }
}

/// One real device, found by correlating the logs of every host. Its identifier and host lists are read
/// with the methods of their names (`client_ids()`, `hosts()`...); it serialises with them as fields
/// (`DeviceJson`).
#[derive(Debug, Clone)]
pub struct Device {
    /// Stable id: the SMS client GUID (`GUID:...`) where known, else the Entra (Azure AD) device id, else a
    /// host name.
    pub key: SharedStr,
    /// Its identifier and host lists.
    pub ids: IdLists,
    /// Which path the device's own lines show (CMG with Entra ID or a PKI certificate, an intranet
    /// management point, or unknown).
    pub path: DevicePath,
    /// The 11 steps of the flow, in flow order.
    pub phases: Phases,
}

// The JSON of a `Device` and its JSON Schema: its doc comments are the schema's descriptions.
/// One real device, found by correlating the logs of every host.
#[derive(Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema), schemars(rename = "Device"))]
struct DeviceJson<'a> {
    /// Stable id: the SMS client GUID (`GUID:...`) where known, else the Entra (Azure AD) device id, else a
    /// host name.
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    key: &'a SharedStr,
    /// SMS client GUIDs, upper case with the `GUID:` prefix.
    #[cfg_attr(feature = "schema", schemars(with = "Vec<String>", inner(pattern(r"^GUID:[^a-z]+$"))))]
    client_ids: &'a [SharedStr],
    /// Entra (Azure AD) device ids, lower case.
    #[cfg_attr(feature = "schema", schemars(with = "Vec<String>", inner(pattern(r"^[^A-Z]+$"))))]
    aad_device_ids: &'a [SharedStr],
    /// Entra (Azure AD) tenant ids, lower case.
    #[cfg_attr(feature = "schema", schemars(with = "Vec<String>", inner(pattern(r"^[^A-Z]+$"))))]
    aad_tenant_ids: &'a [SharedStr],
    /// Entra (Azure AD) user object ids, lower case.
    #[cfg_attr(feature = "schema", schemars(with = "Vec<String>", inner(pattern(r"^[^A-Z]+$"))))]
    aad_user_ids: &'a [SharedStr],
    /// Every host whose logs mention this device.
    #[cfg_attr(feature = "schema", schemars(with = "Vec<String>"))]
    hosts: &'a [SharedStr],
    /// Which path the device's own lines show (CMG with Entra ID or a PKI certificate, an intranet
    /// management point, or unknown).
    path: DevicePath,
    /// The 11 steps of the flow, in flow order.
    #[cfg_attr(feature = "schema", schemars(length(min = 11, max = 11)))]
    #[cfg_attr(feature = "schema", schemars(with = "Vec<Phase>"))]
    phases: &'a Phases,
    /// On-premises SIDs seen for this device, upper case (added field).
    #[cfg_attr(feature = "schema", schemars(with = "Vec<String>", inner(pattern(r"^[^a-z]+$"))))]
    sids: &'a [SharedStr],
    /// The hosts whose client logs are this device's (added field).
    #[cfg_attr(feature = "schema", schemars(with = "Vec<String>"))]
    client_hosts: &'a [SharedStr],
}

impl Device {
    fn json(&self) -> DeviceJson<'_> {
        DeviceJson {
            key: &self.key,
            client_ids: self.client_ids(),
            aad_device_ids: self.aad_device_ids(),
            aad_tenant_ids: self.aad_tenant_ids(),
            aad_user_ids: self.aad_user_ids(),
            hosts: self.hosts(),
            path: self.path,
            phases: &self.phases,
            sids: self.sids(),
            client_hosts: self.client_hosts(),
        }
    }
}

impl Serialize for Device {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.json().serialize(s)
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for Device {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        DeviceJson::schema_name()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        DeviceJson::json_schema(generator)
    }
}

/// What a rule concluded, with the log lines that show it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Finding {
    /// The rule's id (`cmtrace-rs rules` lists them).
    #[cfg_attr(feature = "schema", schemars(with = "crate::schema::RuleId"))]
    pub rule: &'static str,
    /// The rule's severity.
    pub severity: Severity,
    /// One line.
    pub title: String,
    /// The device's `key`; null for a finding about a host or the whole collection (e.g. clock skew).
    pub device: Option<String>,
    /// The host the finding is about; null when it is about no one host.
    pub host: Option<String>,
    /// What happened and why, for this device.
    pub explanation: String,
    /// The fix.
    pub remediation: String,
    /// The log lines that show it (at least one).
    #[cfg_attr(feature = "schema", schemars(length(min = 1)))]
    pub evidence: Vec<EvidenceOut>,
    /// The root-cause rules this finding is a consequence of, for the same device (added field; left out
    /// when empty). A report that shows this finding shows those too.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "schema", schemars(with = "Vec<crate::schema::RuleId>", length(min = 1)))]
    pub caused_by: Vec<&'static str>,
    /// The failure class (`causes::CLASSES` id, e.g. `content-download`) the error lines before the failure
    /// show, for a failure no specific rule explains (added field); null when none.
    #[cfg_attr(feature = "schema", schemars(with = "Option<crate::schema::CauseClass>"))]
    pub cause: Option<&'static str>,
}

/// A timeline event as the contract serialises it: a view of one event of a `Timeline`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema), schemars(rename = "Event"))]
pub struct TimelineEvent<'a> {
    /// UTC, corrected for the host's clock skew (`skew_correction_ms`); null when the entry has no readable
    /// time.
    #[serde(serialize_with = "ser_opt_utc")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<crate::schema::UtcTime>"))]
    pub time: Option<DateTime<Utc>>,
    /// The host whose log holds the line.
    pub host: &'a str,
    /// Which log of the flow.
    pub log_kind: LogKind,
    /// The file, as in `inputs[].path`.
    pub path: &'a str,
    /// 1-based line where the log entry starts.
    #[cfg_attr(feature = "schema", schemars(range(min = 1)))]
    pub line: u32,
    /// The log entry's own type.
    pub severity: Severity,
    /// What happened: a snake_case event name (`aad_token_acquired`, `ccm_token_issued`, ...).
    #[cfg_attr(feature = "schema", schemars(with = "crate::schema::EventName"))]
    pub event: &'static str,
    /// The device's `key`; null when the event was tied to no device.
    pub device: Option<&'a str>,
    /// The log message, exactly as read.
    // `Text::get` reads it from the spill when it is there: only what prints it pays.
    pub text: cmtrace_parsers::EvidenceText<'a>,
    /// Clock-skew correction applied to this host's times, in milliseconds (added field; left out when 0).
    #[serde(skip_serializing_if = "is_zero")]
    #[cfg_attr(feature = "schema", schemars(extend("not" = { "const": 0 })))]
    pub skew_correction_ms: i64,
}

impl<'a> TimelineEvent<'a> {
    /// The entry of `e` at its corrected time (UTC milliseconds), naming `device`.
    pub fn of(e: &'a Event, time_ms: Option<i64>, device: Option<&'a str>, skew_correction_ms: i64) -> Self {
        TimelineEvent {
            time: time_ms.and_then(DateTime::from_timestamp_millis),
            host: e.evidence.host(),
            log_kind: e.log_kind,
            path: e.evidence.path(),
            line: e.evidence.line,
            severity: e.severity,
            event: e.kind.name(),
            device,
            text: e.evidence.text(),
            skew_correction_ms,
        }
    }
}

/// The timeline: the flow's events in timeline order, held once (they move here from the analysis)
/// with what each entry adds to its event (corrected time, device key, correction). Entries are
/// borrowed views (`TimelineEvent`): millions of them cost no copy and no shared-counter traffic.
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    events: Events,
    /// Per event: its device, an index into `keys` (the analysis' own per-event devices, moved here).
    device: Vec<Option<DeviceIx>>,
    /// Per event: the correction applied to its time (0 for events without a time of their own; its
    /// corrected time is its time plus the correction, `corrected_time_ms`), as a position in
    /// `corrections`: four bytes an event where the correction itself took eight (one per host, so a few
    /// distinct values for millions of events).
    correction_of: Vec<u32>,
    /// The distinct corrections `correction_of` points to.
    corrections: Vec<i64>,
    /// The devices' keys (shared with the devices, not copied).
    keys: Vec<SharedStr>,
    /// The entries kept by `retain`, in order; `None`: every event.
    shown: Option<Vec<u32>>,
}

impl Timeline {
    /// From the events in timeline order and, per event, its device (a position in `keys`: the devices'
    /// positions and keys of an `Analysis`) and the correction applied to its time (a position in
    /// `corrections`; the event's time plus the correction is its place in the timeline).
    pub fn new(
        events: Events,
        device: Vec<Option<DeviceIx>>,
        (correction_of, corrections): (Vec<u32>, Vec<i64>),
        keys: Vec<SharedStr>,
    ) -> Timeline {
        assert!(device.len() == events.len());
        assert!(correction_of.len() == events.len());
        assert!(correction_of.iter().all(|&c| (c as usize) < corrections.len()));
        Timeline { events, device, correction_of, corrections, keys, shown: None }
    }

    /// Appends an event (at the end, whatever its time) naming `device`, its time corrected by
    /// `correction_ms`.
    pub fn push(&mut self, event: Event, device: Option<&str>, correction_ms: i64) {
        let device = device.map(|k| match self.keys.iter().position(|x| **x == *k) {
            Some(i) => DeviceIx::from(i),
            None => {
                self.keys.push(k.into());
                DeviceIx::from(self.keys.len() - 1)
            }
        });
        if let Some(shown) = &mut self.shown {
            shown.push(self.events.len() as u32);
        }
        self.events.push(event);
        self.device.push(device);
        let c = match self.corrections.iter().position(|&c| c == correction_ms) {
            Some(c) => c,
            None => {
                self.corrections.push(correction_ms);
                self.corrections.len() - 1
            }
        };
        self.correction_of.push(c as u32);
    }

    /// The number of events.
    pub fn len(&self) -> usize {
        self.shown.as_ref().map_or(self.events.len(), Vec::len)
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The event position of the `i`-th entry shown.
    fn position(&self, i: usize) -> usize {
        self.shown.as_ref().map_or(i, |s| s[i] as usize)
    }

    /// The typed event of the `i`-th entry shown.
    pub fn event(&self, i: usize) -> &Event {
        &self.events[EventIx::from(self.position(i))]
    }

    /// The `i`-th entry shown.
    pub fn get(&self, i: usize) -> TimelineEvent<'_> {
        let j = self.position(i);
        let device = self.device[j].map(|d| &*self.keys[d.index()]);
        let event = &self.events[EventIx::from(j)];
        let correction = self.corrections[self.correction_of[j] as usize];
        TimelineEvent::of(event, corrected_time_ms(event, correction), device, correction)
    }

    /// The events, in time order.
    pub fn iter(&self) -> TimelineIter<'_> {
        TimelineIter { timeline: self, next: 0, end: self.len() }
    }

    /// Keeps the entries for which `keep` holds.
    pub fn retain(&mut self, keep: impl Fn(&TimelineEvent<'_>) -> bool) {
        let shown: Vec<u32> =
            (0..self.len()).filter(|&i| keep(&self.get(i))).map(|i| self.position(i) as u32).collect();
        self.shown = Some(shown);
    }
}

/// The entries of a `Timeline`, in order.
#[derive(Debug, Clone)]
pub struct TimelineIter<'a> {
    timeline: &'a Timeline,
    next: usize,
    end: usize,
}

impl<'a> Iterator for TimelineIter<'a> {
    type Item = TimelineEvent<'a>;

    fn next(&mut self) -> Option<TimelineEvent<'a>> {
        (self.next < self.end).then(|| {
            self.next += 1;
            self.timeline.get(self.next - 1)
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.end - self.next, Some(self.end - self.next))
    }
}

impl ExactSizeIterator for TimelineIter<'_> {}

impl<'a> IntoIterator for &'a Timeline {
    type Item = TimelineEvent<'a>;
    type IntoIter = TimelineIter<'a>;

    fn into_iter(self) -> TimelineIter<'a> {
        self.iter()
    }
}

impl Serialize for Timeline {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

/// The timeline is written as the array of its entries (`Serialize` above).
#[cfg(feature = "schema")]
impl schemars::JsonSchema for Timeline {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Timeline".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        <Vec<TimelineEvent<'static>> as schemars::JsonSchema>::json_schema(generator)
    }
}

fn is_zero(v: &i64) -> bool {
    *v == 0
}

/// The whole `analyze --format json` document.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Report {
    /// 2 for this document; a rename or removal of a field bumps it, an added field does not.
    #[cfg_attr(feature = "schema", schemars(with = "crate::schema::SchemaVersion"))]
    pub schema_version: u32,
    /// Every file read, and every path, file or zip entry that could not be read.
    pub inputs: Vec<Input>,
    /// Every device found by correlation, sorted by key.
    pub devices: Vec<Device>,
    /// What the rules concluded, most severe first.
    pub findings: Vec<Finding>,
    /// The flow's events of every host, in time order.
    pub timeline: Timeline,
    /// What `--device`, `--since`, `--until` and `--rule` left out, when any was given (not serialised:
    /// the JSON document holds what is shown).
    #[serde(skip)]
    pub filtered: Option<Filtered>,
}

/// What the filters left out of a report, and what the whole data says: the status of a device and the
/// verdict are decided on all the data, the filters only choose what is shown.
#[derive(Debug, Clone, Default)]
pub struct Filtered {
    /// The filters as given, e.g. `--since 2020-06-24T15:00:00Z`.
    pub filters: Vec<String>,
    /// Every device's worst finding severity over all the data (devices without a finding absent).
    pub worst_by_device: std::collections::HashMap<String, Severity>,
    /// Devices left out.
    pub devices_hidden: usize,
    /// Findings left out, by severity: errors, warnings, infos.
    pub findings_hidden: [usize; 3],
    /// Timeline events left out.
    pub events_hidden: usize,
    /// Findings shown although the filters left them out, because a finding shown is their consequence.
    pub causes_kept: usize,
}

impl Report {
    /// Every device's worst finding over all the data (filters do not change it), in one pass: `worst_of` for
    /// all the devices at once (devices without a finding absent).
    pub fn worst_by_device(&self) -> std::collections::HashMap<&str, Severity> {
        if let Some(f) = &self.filtered {
            return f.worst_by_device.iter().map(|(k, s)| (k.as_str(), *s)).collect();
        }
        let mut worst: std::collections::HashMap<&str, Severity> = std::collections::HashMap::new();
        for f in &self.findings {
            if let Some(d) = f.device.as_deref() {
                let w = worst.entry(d).or_insert(f.severity);
                *w = (*w).max(f.severity);
            }
        }
        worst
    }

    /// A device's worst finding over all the data (filters do not change it); `None` when it has none.
    pub fn worst_of(&self, key: &str) -> Option<Severity> {
        match &self.filtered {
            Some(f) => f.worst_by_device.get(key).copied(),
            None => {
                self.findings.iter().filter(|f| f.device.as_deref() == Some(key)).map(|f| f.severity).max()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Evidence is held per phase and per finding for every device of a fleet: the bias rides in the
    /// padding after `line`, it does not make the struct bigger.
    #[test]
    fn id_lists_read_back_each_list_as_given() {
        let s = |v: &[&str]| v.iter().map(|x| SharedStr::from(*x)).collect::<Vec<_>>();
        let lists = DeviceLists {
            client_ids: s(&["GUID:A"]),
            aad_device_ids: vec![],
            aad_tenant_ids: s(&["t1", "t2"]),
            client_tenant_ids: s(&["t1"]),
            site_tenant_ids: s(&["t2"]),
            aad_user_ids: vec![],
            sids: s(&["S-1-5-21-1"]),
            hosts: s(&["CLIENT01", "MP01", "CMG01"]),
            client_hosts: s(&["CLIENT01"]),
        };
        let ids = IdLists::from(lists.clone());
        assert_eq!(ids.to_lists(), lists);
        assert_eq!(ids.client_ids(), &lists.client_ids[..]);
        assert!(ids.aad_device_ids().is_empty() && ids.aad_user_ids().is_empty());
        assert_eq!(ids.aad_tenant_ids(), &lists.aad_tenant_ids[..]);
        assert_eq!(ids.site_tenant_ids(), &lists.site_tenant_ids[..]);
        assert_eq!(ids.hosts(), &lists.hosts[..]);
        assert_eq!(ids.client_hosts(), &lists.client_hosts[..]);
        let empty = IdLists::from(DeviceLists::default());
        assert_eq!(empty, IdLists::default());
        assert!(empty.client_hosts().is_empty() && empty.client_ids().is_empty());
        assert_eq!(std::mem::size_of::<IdLists>(), 40);
        // Past what 16 bits say: the ends are kept in 32 bits.
        let many = DeviceLists {
            hosts: (0..70_000).map(|i| SharedStr::from(format!("H{i}"))).collect(),
            client_hosts: s(&["H1", "H2"]),
            sids: s(&["S-1-5-21-1"]),
            ..DeviceLists::default()
        };
        let ids = IdLists::from(many.clone());
        assert!(matches!(ids.ends, ListEnds::Long(_)));
        assert_eq!(ids.to_lists(), many);
        assert_eq!(
            (ids.hosts().len(), ids.client_hosts(), ids.sids()),
            (70_000, &many.client_hosts[..], &many.sids[..])
        );
    }

    #[test]
    fn evidence_keeps_its_size_and_gives_the_local_time_back() {
        assert_eq!(std::mem::size_of::<EvidenceOut>(), 48);
        let utc = DateTime::parse_from_rfc3339("2026-11-20T15:31:40.300Z").unwrap().to_utc();
        let mut e = EvidenceOut {
            path: "a.log".into(),
            line: 5,
            host: "H".into(),
            time: Some(utc),
            text: "x".into(),
            bias_minutes: Some(-60),
        };
        let local = e.local_time().unwrap();
        assert_eq!(local.to_string(), "2026-11-20 16:31:40.300");
        e.bias_minutes = None;
        assert_eq!(e.local_time(), None);
        e.bias_minutes = Some(480);
        e.time = None;
        assert_eq!(e.local_time(), None);
    }

    #[test]
    fn the_phase_table_has_one_row_per_phase_in_order_named_as_serde_names_it() {
        for (i, row) in PHASES.iter().enumerate() {
            assert_eq!(row.id as usize, i, "{:?} is not at its own position", row.id);
            assert_eq!(PhaseId::ALL[i], row.id);
            assert_eq!(serde_json::to_value(row.id).unwrap(), serde_json::Value::from(row.name));
        }
    }
}
