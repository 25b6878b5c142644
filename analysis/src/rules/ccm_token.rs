//! The CCM token family: the site's token from CCM_STS. CCM_STS rejected the Entra ID token
//! (`aad-token-rejected`), the client got no CCM token (`ccm-token-failed`), or an expiring one was not
//! renewed (`ccm-token-renewal-failed`).

use super::{
    device_events, failed_phase_hits, grouped_hits, http_text, per_device_events, story, Analysis, Check,
    Explained, Hit, PhaseId, Rule,
};
use cmtrace_parsers::{EventKind, LogKind, Severity};

pub(super) const AAD_TOKEN_REJECTED: Rule = Rule {
    id: "aad-token-rejected",
    severity: Severity::Error,
    title: "The management point's CCM_STS did not accept the Entra ID token",
    explanation: "CCM_STS (or the CMG in front of it) rejected the token presented by the client instead of issuing a CCM \
token: expired token (IDX10223), failed validation, an exception in CCM_STS, or the MP could not reach Entra ID (MISE).",
    remediation: "Read the CCM_STS.log lines below. IDX10223 / CMGService_Invalid_Token: the (pre-auth or bulk \
registration) token expired: reinstall with a new token (BulkRegistrationTokenTool.exe /new) or connect the client to an \
internal MP. MISE12034: give the MP internet access to Entra ID endpoints (Local System WinINET proxy). FileLoadException \
for System.IdentityModel.Tokens.JWT (2006): copy the DLL to SMS_CCM\\CCM_STS\\bin. Also check device and MP clocks.",
    symptom: false,
    story: None,
    idx_fix_first: true,
    check: Check::Alone(check_token_rejected),
};

fn check_token_rejected(a: &Analysis) -> Vec<Hit> {
    let evs = per_device_events(a, |k, lk| {
        matches!(k, EventKind::AadTokenRejected { .. }) && lk == LogKind::CcmSts
            || http_text(k, "CMGService_Invalid_Token")
    });
    let mut hits = grouped_hits(a, evs, "the token was rejected", true);
    // A rejection followed by a CCM token for the same device (a retry that worked) is not a failure.
    hits.retain(|h| match h.device {
        Some(d) => {
            // A grouped hit always has a line.
            let Some(last) = h.evidence.iter().copied().max_by_key(|&i| a.time_ms(i)) else {
                return true;
            };
            let t = a.time_ms(last);
            !device_events(a, d).iter().any(|&i| {
                a.time_ms(i) > t
                    && matches!(
                        a.events[i].kind,
                        EventKind::CcmTokenIssued { .. } | EventKind::CcmTokenCached { .. }
                    )
            })
        }
        None => true,
    });
    for h in &mut hits {
        // The IdentityModel error (IDX...) names the failure best; else the first rejection.
        let idx = h.evidence.iter().find(|&&i| {
            matches!(&a.events[i].kind, EventKind::AadTokenRejected { code: Some(c), .. } if c.starts_with("IDX"))
        });
        if let Some(&i) = idx.or_else(|| {
            h.evidence.iter().find(|&&i| matches!(a.events[i].kind, EventKind::AadTokenRejected { .. }))
        }) {
            if let EventKind::AadTokenRejected { code, reason } = &a.events[i].kind {
                h.title = Some(format!(
                    "CCM_STS rejected the Entra ID token{}",
                    code.as_ref().map(|c| format!(" ({c})")).unwrap_or_default()
                ));
                h.facts = format!("{} CCM_STS said: {}", h.facts, reason);
            }
        }
    }
    hits
}

pub(super) const CCM_TOKEN_FAILED: Rule = Rule {
    id: "ccm-token-failed",
    severity: Severity::Error,
    title: "The client could not get a CCM token",
    explanation: "The client had an Entra ID token but did not get a CCM (site) token from CCM_STS through the CMG. Without \
it every request through the CMG is unauthenticated.",
    remediation: "Follow the request through the hops: CMGService.log (RequestUri .../CCM_STS), SMS_CLOUD_PROXYCONNECTOR.log \
('Switched to internal URL', the HTTP status), CCM_STS.log on the MP. A 401 CMGConnector_Unauthorized with no CCM_STS.log \
line points at an IIS redirect on the MP's Default Web Site; a 500 at a CCM_STS exception.",
    symptom: false,
    story: Some(story::attempt_starts_at_ccm_token_request),
    idx_fix_first: false,
    check: Check::AfterCauses(check_ccm_token_failed),
};

fn check_ccm_token_failed(a: &Analysis, ex: &Explained) -> Vec<Hit> {
    failed_phase_hits(
        a,
        ex,
        &[PhaseId::InstallCcmToken, PhaseId::RegistrationCcmToken],
        "no CCM token was obtained",
        |k| {
            matches!(
                k,
                EventKind::CcmTokenFailed { .. }
                    | EventKind::HttpError { .. }
                    | EventKind::CcmTokenRequested { .. }
            )
        },
    )
}

pub(super) const CCM_TOKEN_RENEWAL_FAILED: Rule = Rule {
    id: "ccm-token-renewal-failed",
    severity: Severity::Error,
    title: "An expired or expiring CCM token was not renewed",
    explanation: "CcmMessaging found the CCM token (8-hour lifetime) expired or close to expiry and requested a new one, \
but no new token was cached: the client's requests through the CMG will fail until a renewal succeeds.",
    remediation: "Check the renewal request's path (CMGService.log, SMS_CLOUD_PROXYCONNECTOR.log, CCM_STS.log) for the \
status it got; confirm the device still gets Entra ID tokens ('dsregcmd /status') and that the device and MP clocks agree.",
    symptom: false,
    story: Some(story::attempt_starts_at_ccm_token_request),
    idx_fix_first: false,
    check: Check::AfterCauses(check_renewal_failed),
};

fn check_renewal_failed(a: &Analysis, ex: &Explained) -> Vec<Hit> {
    failed_phase_hits(a, ex, &[PhaseId::RenewalCcmToken], "the CCM token renewal did not complete", |k| {
        matches!(
            k,
            EventKind::CcmTokenExpiring { .. }
                | EventKind::CcmTokenFailed { .. }
                | EventKind::HttpError { .. }
        )
    })
}

#[cfg(test)]
mod tests {
    use cmtrace_parsers::{LogKind, Severity};

    use super::super::testing::run;
    use super::super::testing::said::{IDX10223, USER_OK};
    use crate::testkit::{Kit, SEC};

    // Microsoft's texts (CMG communication errors, Entra ID client install flow), a community report of
    // the CCM token failure (`RetrieveTokenFromStsServerImpl failed`) and Microsoft's renewal line.
    const PREAUTH_401: &str = "Return code: 401, Description: PreAuth token validation failed, System.IdentityModel.Tokens.SecurityTokenExpiredException:";
    const INVALID_TOKEN_401: &str =
        "[CCMHTTP] ERROR INFO: StatusCode=401 StatusText=CMGService_Invalid_Token";
    const CCM_TOKEN: &str =
        "Getting CCM Token from STS server 'CMG.CLOUDAPP.NET/CCM_Proxy_MutualAuth/72186325152220500'";
    const STS_FAILED: &str = "RetrieveTokenFromStsServerImpl failed with error 0x87d0027e";
    const CACHED: &str = "Cached encrypted token for 'S-1-5-18'. Will expire at '06/25/2020 08:29:35'";
    const EXPIRING: &str =
        "CCM Token for 'S-1-5-8-1721254763-462695806-1538882281-3289177' (12/23/2019 21:47:24) is already expired or close to expire";
    const CCM_TOKEN_MP: &str = "Getting CCM Token from STS server 'MP.MYCORP.COM'";
    const CCM_TOKEN_FAILED: &str = "Failed to get CCM token. Error 0x87d0027e";

    #[test]
    fn an_expired_token_at_ccm_sts_is_rejected_for_the_site_and_the_device() {
        let mut kit = Kit::new();
        kit.said("MP01", LogKind::CcmSts, 0, Severity::Error, PREAUTH_401)
            .said("MP01", LogKind::CcmSts, 10, Severity::Error, IDX10223)
            .said("CLIENT01", LogKind::Ccmsetup, SEC, Severity::Error, INVALID_TOKEN_401);
        let o = run(&kit);
        let found = o.of("aad-token-rejected");
        let site = found.iter().find(|f| f.device.is_none()).expect("CCM_STS's finding");
        assert_eq!(site.host.as_deref(), Some("MP01"));
        assert_eq!(site.title, "CCM_STS rejected the Entra ID token (IDX10223)");
        o.assert_cites(site, "MP01", LogKind::CcmSts, IDX10223);
        let device = found.iter().find(|f| f.device.is_some()).expect("the device's finding");
        assert_eq!(device.device, Some(o.device_of("CLIENT01")));
        o.assert_cites(device, "CLIENT01", LogKind::Ccmsetup, INVALID_TOKEN_401);
    }

    #[test]
    fn a_rejection_followed_by_a_ccm_token_is_no_rejection() {
        let mut kit = Kit::new();
        kit.said("CLIENT01", LogKind::Ccmsetup, 0, Severity::Error, INVALID_TOKEN_401).said(
            "CLIENT01",
            LogKind::Ccmsetup,
            SEC,
            Severity::Info,
            CACHED,
        );
        run(&kit).none("aad-token-rejected");
    }

    #[test]
    fn only_rejections_of_ccm_sts_are_cited_not_its_other_lines() {
        let created = "Created SCCM token, token type: Device, hierarchyId: 8ed3174b-e814-41b5-b51c-fb368f0d4003, userId: 23bbbba2-702e-4db4-8fd9-3b4fe3a5175d, deviceId: GUID:F91BB227-2C92-DAA0-37E2-3E5AD9A8930D";
        let mut kit = Kit::new();
        // A token issued to another device an hour earlier, then a rejection of a request no device is tied to.
        kit.said("MP01", LogKind::CcmSts, 0, Severity::Info, created).said(
            "MP01",
            LogKind::CcmSts,
            crate::testkit::HOUR,
            Severity::Error,
            IDX10223,
        );
        let o = run(&kit);
        let f = o.only("aad-token-rejected");
        assert_eq!((f.device.as_deref(), f.host.as_deref()), (None, Some("MP01")));
        assert_eq!(f.evidence.len(), 1, "{f:#?}");
    }

    #[test]
    fn a_rejection_followed_by_other_lines_but_no_token_stays_a_rejection() {
        let mut kit = Kit::new();
        kit.said("CLIENT01", LogKind::Ccmsetup, 0, Severity::Error, INVALID_TOKEN_401)
            .said("CLIENT01", LogKind::Ccmsetup, SEC, Severity::Info, CCM_TOKEN)
            .said("CLIENT01", LogKind::Ccmsetup, 2 * SEC, Severity::Error, STS_FAILED);
        let o = run(&kit);
        let f = o.only("aad-token-rejected");
        assert_eq!(f.device, Some(o.device_of("CLIENT01")));
        o.assert_cites(f, "CLIENT01", LogKind::Ccmsetup, INVALID_TOKEN_401);
    }

    /// CLIENT01's ccmsetup has an Entra ID token and asks for a CCM token; then `then`.
    fn ccm_token(then: &[(Severity, &str)]) -> Kit {
        let mut kit = Kit::new();
        kit.said_each(
            "CLIENT01",
            LogKind::Ccmsetup,
            0,
            &[(Severity::Info, USER_OK), (Severity::Info, CCM_TOKEN)],
        )
        .said_each("CLIENT01", LogKind::Ccmsetup, 2 * SEC, then);
        kit
    }

    #[test]
    fn a_failed_sts_request_is_a_failed_ccm_token() {
        let o = run(&ccm_token(&[(Severity::Error, STS_FAILED)]));
        o.found("ccm-token-failed", "CLIENT01", LogKind::Ccmsetup, STS_FAILED);
    }

    #[test]
    fn a_cached_token_after_the_request_is_no_failed_ccm_token() {
        run(&ccm_token(&[(Severity::Info, CACHED)])).none("ccm-token-failed");
    }

    /// CLIENT01's CcmMessaging finds its token expiring and asks for a new one; then `then`.
    fn renewal(then: &[(Severity, &str)]) -> Kit {
        let mut kit = Kit::new();
        let m = LogKind::CcmMessaging;
        kit.said_each("CLIENT01", m, 0, &[(Severity::Info, EXPIRING), (Severity::Info, CCM_TOKEN_MP)])
            .said_each("CLIENT01", m, 2 * SEC, then);
        kit
    }

    #[test]
    fn an_expiring_token_with_no_new_one_is_a_failed_renewal() {
        let o = run(&renewal(&[(Severity::Error, CCM_TOKEN_FAILED)]));
        o.found("ccm-token-renewal-failed", "CLIENT01", LogKind::CcmMessaging, EXPIRING);
    }

    #[test]
    fn a_new_token_after_the_expiring_one_is_a_renewal() {
        run(&renewal(&[(Severity::Info, CACHED)])).none("ccm-token-renewal-failed");
    }
}
