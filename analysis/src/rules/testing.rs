//! What the families' unit tests share: the catalog run over a flow made with `testkit`, and questions to
//! its findings (the findings of one rule, the line a finding must cite, the device of a client host).

use cmtrace_parsers::{EventKind, LogKind};

use super::{analyze, evaluate, Analysis, Finding};
use crate::testkit::Kit;

/// An analysis of a kit's flow and the catalog's findings on it.
pub(super) struct Outcome {
    pub(super) analysis: Analysis,
    pub(super) findings: Vec<Finding>,
}

/// Analyse the kit's flow and run every rule over it.
pub(super) fn run(kit: &Kit) -> Outcome {
    let (inputs, events) = kit.build();
    let analysis = analyze(inputs, events);
    let findings = evaluate(&analysis);
    Outcome { analysis, findings }
}

impl Outcome {
    /// The findings of one rule.
    pub(super) fn of(&self, rule: &str) -> Vec<&Finding> {
        self.findings.iter().filter(|f| f.rule == rule).collect()
    }

    /// The one finding of `rule` (panics with every finding when there is not exactly one).
    pub(super) fn only(&self, rule: &str) -> &Finding {
        match self.of(rule)[..] {
            [f] => f,
            _ => panic!("expected one {rule} finding, got: {:#?}", self.summary()),
        }
    }

    /// The one finding of `rule`, checked to be about the device on client host `host` and to cite the line
    /// where `host`'s `kind` log says `text`.
    pub(super) fn found(&self, rule: &str, host: &str, kind: LogKind, text: &str) -> &Finding {
        let f = self.only(rule);
        assert_eq!(f.device, Some(self.device_of(host)), "{rule}: not about {host}'s device");
        self.assert_cites(f, host, kind, text);
        f
    }

    /// Panics (with every finding) if `rule` found anything.
    pub(super) fn none(&self, rule: &str) {
        assert!(self.of(rule).is_empty(), "no {rule} finding expected, got: {:#?}", self.summary());
    }

    /// The key of the device whose client host is `host`.
    pub(super) fn device_of(&self, host: &str) -> String {
        let d = self.analysis.devices.iter().find(|d| d.client_hosts().iter().any(|h| h == host));
        d.unwrap_or_else(|| panic!("no device on client host {host}")).key.to_string()
    }

    /// Where `host`'s `kind` log says `text`: the path and line number of its first such line.
    pub(super) fn line_of(&self, host: &str, kind: LogKind, text: &str) -> (String, u32) {
        self.line_where(host, kind, |_, said| said == text)
    }

    /// The path and line number of the first line of `host`'s `kind` log whose event (and text) `pick`s.
    pub(super) fn line_where(
        &self,
        host: &str,
        kind: LogKind,
        pick: impl Fn(&EventKind, &str) -> bool,
    ) -> (String, u32) {
        let e = self.analysis.events.iter().find(|e| {
            *e.evidence.host() == *host && e.log_kind == kind && pick(&e.kind, &e.evidence.text().get())
        });
        let e = e.unwrap_or_else(|| panic!("{host} {kind:?} has no such line"));
        (e.evidence.path().to_string(), e.evidence.line)
    }

    /// Panics unless the finding cites the line where `host`'s `kind` log says `text`.
    pub(super) fn assert_cites(&self, f: &Finding, host: &str, kind: LogKind, text: &str) {
        self.assert_cites_line(f, self.line_of(host, kind, text));
    }

    /// Panics unless the finding cites this line (path, line number).
    pub(super) fn assert_cites_line(&self, f: &Finding, (path, line): (String, u32)) {
        assert!(
            f.evidence.iter().any(|e| *e.path == *path && e.line == line),
            "{} does not cite {path}:{line}; it cites {:?}",
            f.rule,
            f.evidence.iter().map(|e| format!("{}:{} {}", e.path, e.line, e.text)).collect::<Vec<_>>()
        );
    }

    /// Rule, device and host of every finding, for failure messages.
    fn summary(&self) -> Vec<(&str, Option<&str>, Option<&str>)> {
        self.findings.iter().map(|f| (f.rule, f.device.as_deref(), f.host.as_deref())).collect()
    }
}

/// Real log texts that the tests of several families use.
pub(super) mod said {
    /// ccmsetup.log: a new ccmsetup run (real logs).
    pub(in crate::rules) const STARTED: &str = "==========[ ccmsetup started in process 3324 ]==========";
    /// ccmsetup.log: no distribution point for the client content (0x87d00454).
    pub(in crate::rules) const DP: &str = "GetDPLocations failed with error 0x87d00454";
    /// ccmsetup.log: an error line without a code.
    pub(in crate::rules) const NO_CODE: &str = "Failed to create the setup manifest";
    /// ccmsetup.log: the Entra ID app info request to the CMG (Microsoft's install flow).
    pub(in crate::rules) const AAD_INFO: &str = "Getting AAD info from CMG 'CMG.CLOUDAPP.NET'";
    /// ccmsetup.log: the CCM HTTP request of that app info.
    pub(in crate::rules) const AAD_AUTH_INFO: &str = "SMS CCM 5.0: Host=CMG.CLOUDAPP.NET, Path=/CCM_Proxy_ServerAuth/AADAuthInfo?TenantID=2ca9a796-a1a6-43ec-88f1-5935b32155c5, Port=443, Protocol=https, CcmTokenAuth=0, Flags=0x1304, Options=0xe0";
    /// Client logs: WinHTTP's flag for a server certificate of an untrusted root (Microsoft's CMG errors).
    pub(in crate::rules) const INVALID_CA: &str =
        "[CCMHTTP] : WINHTTP_CALLBACK_STATUS_FLAG_INVALID_CA is set";
    /// CCM_STS.log: an expired token (IdentityModel).
    pub(in crate::rules) const IDX10223: &str = "IDX10223: Lifetime validation failed. The token is expired.";
    /// A user token retrieved (ccmsetup.log, ADALOperationProvider.log).
    pub(in crate::rules) const USER_OK: &str =
        "Retrieved AAD token for AAD user 'e8838041-db7a-42d5-b9ae-78813910e4cc'";

    /// ccmsetup.log: how ccmsetup ends.
    pub(in crate::rules) fn exiting(code: i64) -> String {
        format!("CcmSetup is exiting with return code {code}")
    }
}
