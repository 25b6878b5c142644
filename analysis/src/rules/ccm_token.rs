//! The CCM token family: the site's token from CCM_STS. CCM_STS rejected the Entra ID token
//! (`aad-token-rejected`), the client got no CCM token (`ccm-token-failed`), or an expiring one was not
//! renewed (`ccm-token-renewal-failed`).

use super::{
    device_events, failed_phase_hits, grouped_hits, http_text, per_device_events, Analysis, Check, Explained,
    Hit, PhaseId, Rule,
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
            let last = h.evidence.iter().copied().max_by_key(|&i| a.event_time_ms[i]).unwrap_or(0);
            let t = a.event_time_ms[last];
            !device_events(a, d).iter().any(|&i| {
                a.event_time_ms[i] > t
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
