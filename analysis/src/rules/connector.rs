//! The connection-point family: the management point refused what the CMG connection point relayed, for
//! want of a client authentication certificate (`cmg-connector-client-cert`) or by its IIS binding
//! (`cmg-connector-forbidden`).

use super::{cert_flag, grouped_hits, http_text, per_device_events, Analysis, Check, Hit, Rule};
use cmtrace_parsers::Severity;

pub(super) const CMG_CONNECTOR_CLIENT_CERT: Rule = Rule {
    id: "cmg-connector-client-cert",
    severity: Severity::Error,
    title: "The CMG connection point has no valid client authentication certificate for the HTTPS management point",
    explanation: "The management point requires a client certificate from the CMG connection point; the connection \
point relays the request without one and the MP answers 403 (CMGConnector_Clientcertificaterequired). Clients see \
0x87d0027e (bad HTTP status) for every request through the CMG.",
    remediation: "Issue a PKI client authentication certificate (unique subject/SAN, private key, chaining to a root the \
MP trusts, CRL reachable) to the site system that hosts the CMG connection point, or switch the MP to enhanced HTTP with \
token authentication. Verbose SMS_CLOUD_PROXYCONNECTOR.log shows 'Filtered cert count with client auth:'.",
    symptom: false,
    story: None,
    idx_fix_first: false,
    check: Check::Alone(check_connector_client_cert),
};

fn check_connector_client_cert(a: &Analysis) -> Vec<Hit> {
    let evs = per_device_events(a, |k, _| {
        http_text(k, "CMGConnector_Clientcertificaterequired") || cert_flag(k, &["no_client_auth_cert"])
    });
    grouped_hits(
        a,
        evs,
        "403 CMGConnector_Clientcertificaterequired / no client authentication certificate",
        true,
    )
}

pub(super) const CMG_CONNECTOR_FORBIDDEN: Rule = Rule {
    id: "cmg-connector-forbidden",
    severity: Severity::Error,
    title: "The management point refused CMG traffic (403 CMGConnector_Forbidden)",
    explanation: "The MP's IIS returned 403 to the CMG connection point: the IIS 443 binding or certificate does not match \
the MP's mode (HTTPS versus enhanced HTTP), or the MP does not allow CMG traffic.",
    remediation: "Bind the 'SMS Role SSL Certificate' (enhanced HTTP) or a valid PKI server authentication certificate \
(HTTPS) to the Default Web Site on port 443, and enable 'Allow Configuration Manager cloud management gateway traffic' \
on the management point role.",
    symptom: false,
    story: None,
    idx_fix_first: false,
    check: Check::Alone(check_connector_forbidden),
};

fn check_connector_forbidden(a: &Analysis) -> Vec<Hit> {
    let evs = per_device_events(a, |k, _| http_text(k, "CMGConnector_Forbidden"));
    grouped_hits(a, evs, "403 CMGConnector_Forbidden", true)
}

#[cfg(test)]
mod tests {
    use cmtrace_parsers::{LogKind, Severity};

    use super::super::testing::run;
    use crate::testkit::{Kit, SEC};

    // Microsoft's texts (CMG communication errors, bootstrap troubleshooting).
    const BAD_STATUS: &str = "[CCMHTTP] ERROR: URL=https://cmgsccm.contoso.com/CCM_PROXY_MUTUALAUTH/3456/SMS_MP/.sms_aut?SITESIGNCERT, Port=443, Options=31, Code=0, Text=CCM_E_BAD_HTTP_STATUS_CODE";
    const CLIENT_CERT_403: &str =
        "[CCMHTTP] ERROR INFO: StatusCode= 403 StatusText= CMGConnector_Clientcertificaterequired";
    const FORBIDDEN_403: &str = "[CCMHTTP] ERROR INFO: StatusCode= 403 StatusText= CMGConnector_Forbidden";
    const NO_CLIENT_AUTH: &str = "Filtered cert count with client auth: 0";

    /// CLIENT01's request through the CMG comes back with the 403 of `status`.
    fn refused(status: &str) -> Kit {
        let mut kit = Kit::new();
        let lines = [(Severity::Error, BAD_STATUS), (Severity::Error, status)];
        kit.said_each("CLIENT01", LogKind::LocationServices, 0, &lines);
        kit
    }

    #[test]
    fn client_certificate_required_is_reported_for_the_device_and_the_connection_point() {
        let mut kit = refused(CLIENT_CERT_403);
        kit.said("SITE01", LogKind::CloudProxyConnector, SEC, Severity::Info, NO_CLIENT_AUTH);
        let o = run(&kit);
        let found = o.of("cmg-connector-client-cert");
        assert_eq!(found.len(), 2, "{found:#?}");
        let device = found.iter().find(|f| f.device.is_some()).expect("the device's finding");
        assert_eq!(device.device, Some(o.device_of("CLIENT01")));
        o.assert_cites(device, "CLIENT01", LogKind::LocationServices, CLIENT_CERT_403);
        let site = found.iter().find(|f| f.device.is_none()).expect("the connection point's finding");
        assert_eq!(site.host.as_deref(), Some("SITE01"));
        o.assert_cites(site, "SITE01", LogKind::CloudProxyConnector, NO_CLIENT_AUTH);
    }

    #[test]
    fn forbidden_is_no_missing_client_certificate() {
        run(&refused(FORBIDDEN_403)).none("cmg-connector-client-cert");
    }

    #[test]
    fn forbidden_is_reported_for_the_device() {
        let o = run(&refused(FORBIDDEN_403));
        o.found("cmg-connector-forbidden", "CLIENT01", LogKind::LocationServices, FORBIDDEN_403);
    }

    #[test]
    fn client_certificate_required_is_not_forbidden() {
        run(&refused(CLIENT_CERT_403)).none("cmg-connector-forbidden");
    }
}
