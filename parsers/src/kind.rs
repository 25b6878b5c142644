//! Log kinds: which ConfigMgr log a file is, recognised by its file name (including rotated and
//! site-server-synced CMG names) with a fallback to sniffing the first records' components.

use serde::Serialize;

/// The logs of the CMG / Entra ID flow; everything else ConfigMgr writes is `Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
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
