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
    check: Check::Alone(check_connector_forbidden),
};

fn check_connector_forbidden(a: &Analysis) -> Vec<Hit> {
    let evs = per_device_events(a, |k, _| http_text(k, "CMGConnector_Forbidden"));
    grouped_hits(a, evs, "403 CMGConnector_Forbidden", true)
}
