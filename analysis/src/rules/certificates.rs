//! The certificate family: the client refused the TLS connection to the CMG or management point because
//! of the server certificate: an untrusted root CA (`root-ca-untrusted`), a revocation list it could not
//! reach (`crl-check-failed`), a name that does not match the host it asked for (`cmg-cert-name-mismatch`).

use super::{
    broken_phases, cert_flag, device_events, first_n, host_of, is_client_log, per_device_events, Analysis,
    Check, Hit, Rule, Subject,
};
use crate::index::{DeviceIx, EventIx};
use cmtrace_parsers::{EventKind, LogKind, Severity};

/// Does the device have any request visible on the server side (CMG hop, connector, MP)?
fn server_saw(a: &Analysis, d: DeviceIx) -> bool {
    device_events(a, d).iter().any(|&i| !is_client_log(a.events[i].log_kind))
}

fn hits_for_cert(a: &Analysis, flags: &[&str], what: &str) -> Vec<Hit> {
    let mut hits = Vec::new();
    let groups = per_device_events(a, |k, _| cert_flag(k, flags));
    // HTTP error lines, in timeline order, collected once (not once per hit: fleets have millions of
    // events).
    let http_errors: Vec<EventIx> = if groups.is_empty() {
        Vec::new()
    } else {
        a.events.keys().filter(|&j| matches!(a.events[j].kind, EventKind::HttpError { .. })).collect()
    };
    for (key, evs) in groups {
        let first = evs[0];
        // The HTTP error line next to the flags (same file), for context.
        let mut evidence = first_n(evs.clone(), 3);
        if let Some(&h) = http_errors.iter().find(|&&j| {
            a.events[j].evidence.line + 10 >= a.events[first].evidence.line
                && a.events[j].evidence.line <= a.events[first].evidence.line
                && a.events[j].evidence.path() == a.events[first].evidence.path()
        }) {
            evidence.insert(0, h);
        }
        let url = evs.iter().find_map(|&i| match &a.events[i].kind {
            EventKind::CertificateError { url: Some(u), .. } => Some(u.clone()),
            EventKind::HttpError { url: Some(u), .. } => Some(u.clone()),
            _ => None,
        });
        match key {
            Subject::Device(d) => {
                let silent = if server_saw(a, d) {
                    String::new()
                } else {
                    " The CMG, connection point and management point logs show no request from this device: the \
connection was refused on the client, so both sides tell one story."
                        .into()
                };
                hits.push(Hit {
                    device: Some(d),
                    host: Some(host_of(a, first)),
                    facts: format!(
                        "{} logged {} {} time(s){}.{}",
                        host_of(a, first),
                        what,
                        evs.len(),
                        url.map(|u| format!(" for {u}")).unwrap_or_default(),
                        silent
                    ),
                    evidence,
                    title: None,
                    explains: broken_phases(a, d),
                    causes: Vec::new(),
                });
            }
            Subject::Host(host) => hits.push(Hit {
                device: None,
                host: Some(host.clone()),
                facts: format!("{host} logged {what} {} time(s).", evs.len()),
                evidence,
                title: None,
                explains: Vec::new(),
                causes: Vec::new(),
            }),
        }
    }
    hits
}

pub(super) const ROOT_CA_UNTRUSTED: Rule = Rule {
    id: "root-ca-untrusted",
    severity: Severity::Error,
    title: "The client does not trust the root CA of the CMG / MP server certificate",
    explanation: "The client could not chain the server authentication certificate of the cloud management gateway \
(or management point) to a trusted root certification authority (WINHTTP_CALLBACK_STATUS_FLAG_INVALID_CA / \
CERT_E_UNTRUSTEDROOT). The TLS connection is refused before any request reaches the CMG, so the CMG, the connection \
point and the management point log nothing for this client. Entra ID authentication does not remove this need: the \
token authenticates the client to the CMG, not the CMG to the client.",
    remediation: "Import the root CA (and any intermediate CA) certificate of the CMG server authentication certificate \
into the device's Local Computer 'Trusted Root Certification Authorities' (and 'Intermediate Certification Authorities') \
store, e.g. by Intune or GPO, or use a CMG certificate from a public CA that Windows trusts. Check what the CMG presents \
at https://<CMG FQDN>/CCM_Proxy_MutualAuth/ServiceMetadata.",
    symptom: false,
    story: None,
    idx_fix_first: false,
    check: Check::Alone(check_root_ca),
};

fn check_root_ca(a: &Analysis) -> Vec<Hit> {
    let mut hits = hits_for_cert(
        a,
        &["invalid_ca", "untrusted_root"],
        "an untrusted root CA for the server certificate",
    );
    // Only client-side evidence makes this rule (a connector chain error is about the MP's chain).
    hits.retain(|h| {
        h.evidence.iter().any(|&i| {
            is_client_log(a.events[i].log_kind) || a.events[i].log_kind == LogKind::CloudProxyConnector
        })
    });
    hits
}

pub(super) const CRL_CHECK_FAILED: Rule = Rule {
    id: "crl-check-failed",
    severity: Severity::Error,
    title: "Certificate revocation could not be checked (CRL not reachable)",
    explanation: "Revocation checking is enabled, and the certificate revocation list (CRL) of the server certificate \
could not be retrieved (WINHTTP_CALLBACK_STATUS_FLAG_CERT_REV_FAILED / CRYPT_E_REVOCATION_OFFLINE 0x80092013), so \
the TLS connection is refused. An internet client can only check a CRL that is published on the internet.",
    remediation: "Publish the CRL of the issuing CA on the internet; or install the client with ccmsetup /NoCRLCheck \
(bootstrap only); or clear 'Clients check the certificate revocation list (CRL) for site systems' on the site's \
Communication Security tab. On the CMG connection point, make the CRL of the MP certificate chain reachable.",
    symptom: false,
    story: None,
    idx_fix_first: false,
    check: Check::Alone(check_crl),
};

fn check_crl(a: &Analysis) -> Vec<Hit> {
    hits_for_cert(a, &["cert_rev_failed", "revocation_offline"], "a revocation check failure")
}

pub(super) const CMG_CERT_NAME_MISMATCH: Rule = Rule {
    id: "cmg-cert-name-mismatch",
    severity: Severity::Error,
    title: "The CMG / MP server certificate's name does not match the host name the client used",
    explanation: "The server authentication certificate presented for the cloud management gateway (or management point) \
does not hold the host name the client connected to in its subject or subject alternative names \
(WINHTTP_CALLBACK_STATUS_FLAG_CERT_CN_INVALID / ERROR_WINHTTP_SECURE_CERT_CN_INVALID 0x80072F06 / CERT_E_CN_NO_MATCH \
0x800B010F): the client refuses the TLS connection, so the CMG, the connection point and the management point log nothing \
for it.",
    remediation: "Make the CMG server authentication certificate's subject / SAN hold the CMG service name the client uses \
(the FQDN in CCMHOSTNAME or the internet MP list, e.g. GraniteFalls.contoso.com, not the <name>.cloudapp.net deployment name \
unless that is the service name); check what the CMG presents at https://<CMG FQDN>/CCM_Proxy_MutualAuth/ServiceMetadata. A \
TLS-inspecting proxy that presents its own certificate for the CMG must bypass it. For an MP, the certificate must name the \
MP's FQDN as the client addresses it.",
    symptom: false,
    story: None,
    idx_fix_first: false,
    check: Check::Alone(check_cert_name),
};

fn check_cert_name(a: &Analysis) -> Vec<Hit> {
    let mut hits =
        hits_for_cert(a, &["cert_cn_invalid"], "a server certificate name mismatch (CERT_CN_INVALID)");
    // The client refused the server's certificate: client-side evidence only.
    hits.retain(|h| h.evidence.iter().any(|&i| is_client_log(a.events[i].log_kind)));
    hits
}

#[cfg(test)]
mod tests {
    use cmtrace_parsers::{LogKind, Severity};

    use super::super::testing::run;
    use super::super::testing::said::{AAD_INFO, INVALID_CA};
    use crate::testkit::Kit;

    // Microsoft's texts (CMG communication errors): the TLS failure and the flag WinHTTP sets.
    const SECURE_FAILURE: &str = "[CCMHTTP] ERROR: URL=https://CMG.CONTOSO.COM/CCM_Proxy_ServerAuth/72057594037928017/CCM_STS, Port=443, Options=63, Code=12175, Text=ERROR_WINHTTP_SECURE_FAILURE";
    const REV_FAILED: &str = "[CCMHTTP] : WINHTTP_CALLBACK_STATUS_FLAG_CERT_REV_FAILED is set";
    const CN_INVALID: &str = "[CCMHTTP] : WINHTTP_CALLBACK_STATUS_FLAG_CERT_CN_INVALID is set";

    /// CLIENT01's ccmsetup asks the CMG for the Entra ID app info and the TLS connection fails with `flag`.
    fn refused(flag: &str) -> Kit {
        let mut kit = Kit::new();
        let lines = [(Severity::Info, AAD_INFO), (Severity::Error, SECURE_FAILURE), (Severity::Error, flag)];
        kit.said_each("CLIENT01", LogKind::Ccmsetup, 0, &lines);
        kit
    }

    #[test]
    fn an_invalid_ca_flag_is_an_untrusted_root_ca_with_its_http_error() {
        let o = run(&refused(INVALID_CA));
        let f = o.found("root-ca-untrusted", "CLIENT01", LogKind::Ccmsetup, INVALID_CA);
        o.assert_cites(f, "CLIENT01", LogKind::Ccmsetup, SECURE_FAILURE);
        assert!(f.explanation.contains("show no request from this device"), "{}", f.explanation);
    }

    #[test]
    fn a_revocation_or_name_failure_is_no_untrusted_root_ca() {
        for flag in [REV_FAILED, CN_INVALID] {
            run(&refused(flag)).none("root-ca-untrusted");
        }
    }

    #[test]
    fn a_revocation_failure_is_a_crl_check_failure() {
        let o = run(&refused(REV_FAILED));
        o.found("crl-check-failed", "CLIENT01", LogKind::Ccmsetup, REV_FAILED);
    }

    #[test]
    fn an_untrusted_root_is_no_crl_check_failure() {
        run(&refused(INVALID_CA)).none("crl-check-failed");
    }

    #[test]
    fn a_cn_invalid_flag_is_a_certificate_name_mismatch() {
        let o = run(&refused(CN_INVALID));
        o.found("cmg-cert-name-mismatch", "CLIENT01", LogKind::Ccmsetup, CN_INVALID);
    }

    #[test]
    fn an_untrusted_root_is_no_certificate_name_mismatch() {
        run(&refused(INVALID_CA)).none("cmg-cert-name-mismatch");
    }

    const INVALID_CA_CODE: &str = "[CCMHTTP] ERROR: URL=https://CMG.CONTOSO.COM/CCM_Proxy_ServerAuth/72057594037928017/CCM_STS, Port=443, Options=63, Code=12045, Text=ERROR_WINHTTP_SECURE_INVALID_CA";

    #[test]
    fn the_url_of_a_coded_certificate_error_is_named() {
        let mut kit = Kit::new();
        kit.said_each(
            "CLIENT01",
            LogKind::Ccmsetup,
            0,
            &[(Severity::Info, AAD_INFO), (Severity::Error, INVALID_CA_CODE)],
        );
        let o = run(&kit);
        let f = o.found("root-ca-untrusted", "CLIENT01", LogKind::Ccmsetup, INVALID_CA_CODE);
        assert!(
            f.explanation.starts_with(
                "CLIENT01 logged an untrusted root CA for the server certificate 1 time(s) for \
https://CMG.CONTOSO.COM/CCM_Proxy_ServerAuth/72057594037928017/CCM_STS."
            ),
            "{}",
            f.explanation
        );
    }

    /// CLIENT01's ccmsetup: the TLS failure, `fillers` other lines, then the untrusted-root flag.
    fn flag_after(fillers: usize) -> Kit {
        let mut lines = vec![(Severity::Info, AAD_INFO), (Severity::Error, SECURE_FAILURE)];
        lines.extend(std::iter::repeat_n((Severity::Info, AAD_INFO), fillers));
        lines.push((Severity::Error, INVALID_CA));
        let mut kit = Kit::new();
        kit.said_each("CLIENT01", LogKind::Ccmsetup, 0, &lines);
        kit
    }

    #[test]
    fn the_http_error_cited_is_the_one_just_before_the_flag_in_its_file() {
        // Twelve lines from the HTTP error to the flag (the kit numbers its lines 3 apart): too far to be its
        // context. Nine lines before it is still its context.
        for (fillers, cited) in [(3, 1), (2, 2)] {
            let o = run(&flag_after(fillers));
            let f = o.only("root-ca-untrusted");
            assert_eq!(f.evidence.len(), cited, "{f:#?}");
            o.assert_cites(f, "CLIENT01", LogKind::Ccmsetup, INVALID_CA);
        }
        let o = run(&flag_after(2));
        o.assert_cites(o.only("root-ca-untrusted"), "CLIENT01", LogKind::Ccmsetup, SECURE_FAILURE);
        // After the flag, or in another log, it is not.
        let mut kit = Kit::new();
        kit.said_each(
            "CLIENT01",
            LogKind::Ccmsetup,
            0,
            &[(Severity::Info, AAD_INFO), (Severity::Error, INVALID_CA), (Severity::Error, SECURE_FAILURE)],
        );
        kit.said_each("CLIENT01", LogKind::CcmMessaging, 0, &[(Severity::Error, SECURE_FAILURE)]);
        let o = run(&kit);
        assert_eq!(o.only("root-ca-untrusted").evidence.len(), 1, "{:#?}", o.only("root-ca-untrusted"));
    }

    #[test]
    fn a_device_the_servers_saw_is_not_said_to_be_invisible_to_them() {
        let d = crate::testkit::Dev::new("CLIENT01", 1);
        let mut kit = Kit::new();
        crate::testkit::healthy(&mut kit, &d, 0);
        kit.said_each(
            "CLIENT01",
            LogKind::Ccmsetup,
            9 * crate::testkit::HOUR,
            &[(Severity::Error, INVALID_CA)],
        );
        let o = run(&kit);
        let f = o.found("root-ca-untrusted", "CLIENT01", LogKind::Ccmsetup, INVALID_CA);
        assert!(!f.explanation.contains("show no request from this device"), "{}", f.explanation);
    }

    #[test]
    fn an_untrusted_chain_on_the_connection_point_is_reported_for_its_host() {
        let mut kit = Kit::new();
        kit.said_each(
            "SITE01",
            LogKind::CloudProxyConnector,
            0,
            &[(Severity::Error, "Chain 0 status: UntrustedRoot")],
        );
        let o = run(&kit);
        let f = o.only("root-ca-untrusted");
        assert_eq!(f.device, None);
        assert_eq!(f.host.as_deref(), Some("SITE01"));
        assert!(f.explanation.starts_with("SITE01 logged an untrusted root CA"), "{}", f.explanation);
    }
}
