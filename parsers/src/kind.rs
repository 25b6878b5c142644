//! Log kinds: which ConfigMgr log a file is, recognised by its file name (including rotated and
//! site-server-synced CMG names; `input::kind_from_base_name`) with a fallback to the components of its first
//! records (`kind_from_components`).
//!
//! Precedence: a file name that names a kind wins, as the contract says, whatever the components; only a
//! name that names none (a renamed attachment: `ticket-4711-ccmsetup.txt`, `client install log.log`,
//! `CCM_STS (1).log`, `mp-reg.log`) is kinded by its components. Each log of the flow writes its own
//! component name (`ccmsetup`, `ClientIDManagerStartup`, `ADALOperationProvider`, `CcmMessaging`,
//! `LocationServices`, `CCM_STS`, `CMGService`, `SMS_CLOUD_PROXYCONNECTOR`, `MP_RegistrationManager`), and a
//! kind is taken only when it is the component of more than half of the sampled records that name one: a
//! few lines of a flow component inside another log do not make that log a flow log.

use serde::Serialize;

/// The logs of the CMG / Entra ID flow; everything else ConfigMgr writes is `Other` (`other`: parsed, kept
/// in the timeline, no extractor). A rotated log has the kind of its base name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum LogKind {
    Ccmsetup,
    ClientIdManagerStartup,
    AdalOperationProvider,
    CcmMessaging,
    LocationServices,
    CcmSts,
    CmgService,
    CloudProxyConnector,
    MpRegistrationManager,
    Other,
}

impl LogKind {
    pub const ALL: [LogKind; 10] = [
        LogKind::Ccmsetup,
        LogKind::ClientIdManagerStartup,
        LogKind::AdalOperationProvider,
        LogKind::CcmMessaging,
        LogKind::LocationServices,
        LogKind::CcmSts,
        LogKind::CmgService,
        LogKind::CloudProxyConnector,
        LogKind::MpRegistrationManager,
        LogKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LogKind::Ccmsetup => "ccmsetup",
            LogKind::ClientIdManagerStartup => "client_id_manager_startup",
            LogKind::AdalOperationProvider => "adal_operation_provider",
            LogKind::CcmMessaging => "ccm_messaging",
            LogKind::LocationServices => "location_services",
            LogKind::CcmSts => "ccm_sts",
            LogKind::CmgService => "cmg_service",
            LogKind::CloudProxyConnector => "cloud_proxy_connector",
            LogKind::MpRegistrationManager => "mp_registration_manager",
            LogKind::Other => "other",
        }
    }

    /// Which side of the flow writes this log.
    pub fn role(self) -> HostRole {
        match self {
            LogKind::Ccmsetup
            | LogKind::ClientIdManagerStartup
            | LogKind::AdalOperationProvider
            | LogKind::CcmMessaging
            | LogKind::LocationServices => HostRole::Client,
            LogKind::CcmSts | LogKind::MpRegistrationManager => HostRole::ManagementPoint,
            LogKind::CmgService => HostRole::Cmg,
            LogKind::CloudProxyConnector => HostRole::ConnectionPoint,
            LogKind::Other => HostRole::Unknown,
        }
    }
}

/// The role of the machine that writes a log kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HostRole {
    Client,
    Cmg,
    ConnectionPoint,
    ManagementPoint,
    Unknown,
}

/// How many records' components `kind_from_components` is given at most (from the first 64 KB of a file).
pub const COMPONENT_SAMPLE: usize = 64;

/// The kind that the components of a file's first records show: the kind (`component_kind`) of more than
/// half of the records that name a component; `None` when no kind has such a majority.
pub fn kind_from_components<'a>(components: impl IntoIterator<Item = &'a str>) -> Option<LogKind> {
    let mut counts = [0usize; LogKind::ALL.len()];
    let mut named = 0usize;
    for c in components.into_iter().take(COMPONENT_SAMPLE) {
        if c.trim().is_empty() {
            continue;
        }
        named += 1;
        if let Some(k) = component_kind(c) {
            counts[LogKind::ALL.iter().position(|&a| a == k).unwrap_or(LogKind::ALL.len() - 1)] += 1;
        }
    }
    let (i, &best) = counts.iter().enumerate().max_by_key(|&(i, &n)| (n, std::cmp::Reverse(i)))?;
    (best > 0 && best * 2 > named).then_some(LogKind::ALL[i])
}

/// The log kind one component name stands for (case-insensitive): each flow log writes the component its
/// file is named after (`input::kind_from_base_name`), and ClientIDManagerStartup also `ClientIDManager`. The
/// site server's synced CMG file names (`CMG-<name>-...-CMGService`) are file names, never components.
pub fn component_kind(component: &str) -> Option<LogKind> {
    match component.trim().to_ascii_lowercase().as_str() {
        "clientidmanager" => Some(LogKind::ClientIdManagerStartup),
        name if name.starts_with("cmg-") => None,
        name => crate::input::kind_from_base_name(name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_flow_kind_from_its_components() {
        for (component, kind) in [
            ("ccmsetup", LogKind::Ccmsetup),
            ("ClientIDManagerStartup", LogKind::ClientIdManagerStartup),
            ("ADALOperationProvider", LogKind::AdalOperationProvider),
            ("CcmAad", LogKind::AdalOperationProvider),
            ("CcmMessaging", LogKind::CcmMessaging),
            ("LocationServices", LogKind::LocationServices),
            ("CCM_STS", LogKind::CcmSts),
            ("CMGService", LogKind::CmgService),
            ("SMS_CLOUD_PROXYCONNECTOR", LogKind::CloudProxyConnector),
            ("MP_RegistrationManager", LogKind::MpRegistrationManager),
        ] {
            assert_eq!(kind_from_components([component; 5]), Some(kind), "{component}");
        }
    }

    #[test]
    fn a_kind_needs_a_majority_of_named_components() {
        assert_eq!(kind_from_components(["CcmExec", "CcmMessaging", "CcmExec"]), None);
        assert_eq!(
            kind_from_components(["CcmExec", "CcmMessaging", "CcmMessaging"]),
            Some(LogKind::CcmMessaging)
        );
        assert_eq!(
            kind_from_components(["", "", "ccmsetup"]),
            Some(LogKind::Ccmsetup),
            "unnamed records abstain"
        );
        assert_eq!(kind_from_components(["SMSFSP", "x"]), None);
        assert_eq!(kind_from_components([]), None);
        // Only the first records are looked at.
        let late =
            std::iter::repeat_n("PolicyAgent", COMPONENT_SAMPLE).chain(std::iter::repeat_n("ccmsetup", 500));
        assert_eq!(kind_from_components(late), None);
    }
}
