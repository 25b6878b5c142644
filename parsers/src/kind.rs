//! Log kinds: which ConfigMgr log a file is, recognised by its file name (including rotated and
//! site-server-synced CMG names; `LogKind::from_base_name`) with a fallback to the components of its first
//! records (`kind_from_components`). Every fact about a kind (its name, the file name people know it by, its
//! files' base names, its components, the role of the host that writes it) is one row of `LOG_KINDS`.
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
// Variants described by `LOG_KINDS` (file names, components, role), not by doc comments: those would go into
// the JSON Schema of the contract.
#[allow(missing_docs)]
pub enum LogKind {
    // ccmsetup.log (client install).
    Ccmsetup,
    // ClientIDManagerStartup.log (client registration).
    ClientIdManagerStartup,
    // ADALOperationProvider.log (Entra ID tokens on the client).
    AdalOperationProvider,
    // CcmMessaging.log (client messages and CCM tokens).
    CcmMessaging,
    // LocationServices.log (MP and CMG location).
    LocationServices,
    // CCM_STS.log (the management point's token service).
    CcmSts,
    // CMGService.log (the CMG), also synced as CMG-*-CMGService.log.
    CmgService,
    // SMS_CLOUD_PROXYCONNECTOR.log (the CMG connection point).
    CloudProxyConnector,
    // MP_RegistrationManager.log (registration on the management point).
    MpRegistrationManager,
    // Any other ConfigMgr log: parsed and kept in the timeline, no extractor.
    Other,
}

/// What is known of one log kind: its names, the files and components that show it, the machine that
/// writes it. `LOG_KINDS` holds one per kind, in declaration order; every other fact about a kind is
/// read from there.
#[derive(Debug)]
pub struct LogKindFacts {
    /// The kind this row is about.
    pub kind: LogKind,
    /// Its name in JSON and reports (`ccm_sts`; serde's name, held equal by a test).
    pub name: &'static str,
    /// The file name a support engineer knows it by (`CCM_STS.log`).
    pub known_as: &'static str,
    /// Base names of its files: rotation stripped (`input::rotation_of`), lower case.
    pub base_names: &'static [&'static str],
    /// A file name of another machine's log synced here: lower-case base names with this prefix and
    /// suffix.
    pub synced_name: Option<(&'static str, &'static str)>,
    /// The component names its records carry (case-insensitive).
    pub components: &'static [&'static str],
    /// Which side of the flow writes it.
    pub role: HostRole,
}

/// The log-kind table.
pub const LOG_KINDS: [LogKindFacts; 10] = [
    LogKindFacts {
        kind: LogKind::Ccmsetup,
        name: "ccmsetup",
        known_as: "ccmsetup.log",
        base_names: &["ccmsetup"],
        synced_name: None,
        components: &["ccmsetup"],
        role: HostRole::Client,
    },
    LogKindFacts {
        kind: LogKind::ClientIdManagerStartup,
        name: "client_id_manager_startup",
        known_as: "ClientIDManagerStartup.log",
        base_names: &["clientidmanagerstartup"],
        synced_name: None,
        components: &["ClientIDManagerStartup", "ClientIDManager"],
        role: HostRole::Client,
    },
    LogKindFacts {
        kind: LogKind::AdalOperationProvider,
        name: "adal_operation_provider",
        known_as: "ADALOperationProvider.log (CcmAad.log)",
        base_names: &["adaloperationprovider", "ccmaad"],
        synced_name: None,
        components: &["ADALOperationProvider", "CcmAad"],
        role: HostRole::Client,
    },
    LogKindFacts {
        kind: LogKind::CcmMessaging,
        name: "ccm_messaging",
        known_as: "CcmMessaging.log",
        base_names: &["ccmmessaging"],
        synced_name: None,
        components: &["CcmMessaging"],
        role: HostRole::Client,
    },
    LogKindFacts {
        kind: LogKind::LocationServices,
        name: "location_services",
        known_as: "LocationServices.log",
        base_names: &["locationservices"],
        synced_name: None,
        components: &["LocationServices"],
        role: HostRole::Client,
    },
    LogKindFacts {
        kind: LogKind::CcmSts,
        name: "ccm_sts",
        known_as: "CCM_STS.log",
        base_names: &["ccm_sts"],
        synced_name: None,
        components: &["CCM_STS"],
        role: HostRole::ManagementPoint,
    },
    LogKindFacts {
        kind: LogKind::CmgService,
        name: "cmg_service",
        known_as: "CMGService.log",
        base_names: &["cmgservice"],
        // Synced from the CMG to the site server: CMG-<name>-ProxyService_IN_<n>-CMGService.log (a file
        // name, never a component).
        synced_name: Some(("cmg-", "-cmgservice")),
        components: &["CMGService"],
        role: HostRole::Cmg,
    },
    LogKindFacts {
        kind: LogKind::CloudProxyConnector,
        name: "cloud_proxy_connector",
        known_as: "SMS_CLOUD_PROXYCONNECTOR.log",
        base_names: &["sms_cloud_proxyconnector", "sms_cloudconnector"],
        synced_name: None,
        components: &["SMS_CLOUD_PROXYCONNECTOR", "SMS_CLOUDCONNECTOR"],
        role: HostRole::ConnectionPoint,
    },
    LogKindFacts {
        kind: LogKind::MpRegistrationManager,
        name: "mp_registration_manager",
        known_as: "MP_RegistrationManager.log",
        base_names: &["mp_registrationmanager"],
        synced_name: None,
        components: &["MP_RegistrationManager"],
        role: HostRole::ManagementPoint,
    },
    LogKindFacts {
        kind: LogKind::Other,
        name: "other",
        known_as: "other ConfigMgr logs",
        base_names: &[],
        synced_name: None,
        components: &[],
        role: HostRole::Unknown,
    },
];

// The table is indexed by the kind: one row per kind, in declaration order.
const _: () = {
    let mut i = 0;
    while i < LOG_KINDS.len() {
        assert!(LOG_KINDS[i].kind as usize == i, "LOG_KINDS out of declaration order");
        i += 1;
    }
};

impl LogKind {
    /// Every kind, in declaration order (`LOG_KINDS`).
    pub const ALL: [LogKind; LOG_KINDS.len()] = {
        let mut all = [LogKind::Other; LOG_KINDS.len()];
        let mut i = 0;
        while i < all.len() {
            all[i] = LOG_KINDS[i].kind;
            i += 1;
        }
        all
    };

    /// Its row of `LOG_KINDS`.
    pub fn facts(self) -> &'static LogKindFacts {
        &LOG_KINDS[self as usize]
    }

    /// Its name in JSON and reports (`ccm_sts`).
    pub fn as_str(self) -> &'static str {
        self.facts().name
    }

    /// Which side of the flow writes this log.
    pub fn role(self) -> HostRole {
        self.facts().role
    }

    /// The file name a support engineer knows this log by.
    pub fn known_as(self) -> &'static str {
        self.facts().known_as
    }

    /// The kind a base name (rotation stripped, lower case) stands for: one of its `base_names`, or a
    /// synced name.
    pub fn from_base_name(base: &str) -> Option<LogKind> {
        LOG_KINDS
            .iter()
            .find(|f| {
                f.base_names.contains(&base)
                    || f.synced_name
                        .is_some_and(|(prefix, suffix)| base.starts_with(prefix) && base.ends_with(suffix))
            })
            .map(|f| f.kind)
    }
}

/// The role of the machine that writes a log kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HostRole {
    /// A ConfigMgr client (a Windows device).
    Client,
    /// The cloud management gateway (an Azure service).
    Cmg,
    /// The site system with the CMG connection point.
    ConnectionPoint,
    /// A management point (with CCM_STS and registration).
    ManagementPoint,
    /// Not known from the logs read.
    Unknown,
}

/// The log kind one component name stands for (case-insensitive, blanks around it ignored): one of a
/// kind's `components` (each flow log writes the component its file is named after, ClientIDManagerStartup
/// also `ClientIDManager`). The site server's synced CMG file names are file names, never components.
pub fn component_kind(component: &str) -> Option<LogKind> {
    let component = component.trim();
    LOG_KINDS.iter().find(|f| f.components.iter().any(|c| c.eq_ignore_ascii_case(component))).map(|f| f.kind)
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
            counts[k as usize] += 1;
        }
    }
    let (i, &best) = counts.iter().enumerate().max_by_key(|&(i, &n)| (n, std::cmp::Reverse(i)))?;
    (best > 0 && best * 2 > named).then_some(LogKind::ALL[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_names_each_kind_as_serde_does() {
        for f in &LOG_KINDS {
            assert_eq!(serde_json::to_string(&f.kind).unwrap(), format!("\"{}\"", f.name));
            for base in f.base_names {
                assert_eq!(LogKind::from_base_name(base), Some(f.kind), "{base}");
                assert_eq!(*base, base.to_ascii_lowercase(), "base names are lower case");
            }
            for component in f.components {
                assert_eq!(component_kind(component), Some(f.kind), "{component}");
            }
        }
        assert_eq!(LogKind::ALL.len(), LOG_KINDS.len());
        assert_eq!(
            LogKind::from_base_name("cmg-contosocmg-proxyservice_in_0-cmgservice"),
            Some(LogKind::CmgService)
        );
        // A synced file name is no component.
        assert_eq!(component_kind("CMG-contosocmg-ProxyService_IN_0-CMGService"), None);
        assert_eq!(component_kind("  ClientIDManager "), Some(LogKind::ClientIdManagerStartup));
        assert_eq!(LogKind::from_base_name("other"), None);
    }

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
