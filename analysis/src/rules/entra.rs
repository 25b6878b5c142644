//! The Entra ID family: the client's Entra ID tokens and tenants. The device is not joined
//! (`wpj-cert-missing`), fell back to a user token (`aad-device-token-fallback`), asked a CMG that knows no
//! app for its tenant (`tenant-not-onboarded`), got no token at all (`aad-token-unavailable`), or names
//! another tenant than the site (`tenant-mismatch`).

use std::collections::{BTreeMap, BTreeSet};

use super::{
    broken_phases, device_events, failed_phase_hits, first_n, host_of, log_file_name, phase_status, story,
    Analysis, Check, Explained, Hit, PhaseId, PhaseStatus, Rule,
};
use crate::index::{DeviceIx, EventIx};
use cmtrace_parsers::{AadTokenKind, EventKind, LogKind, Severity};

/// Token attempts in one client log file: failures, fallbacks, acquisitions, in line order.
struct TokenStory {
    failures: Vec<EventIx>,
    fallbacks: Vec<EventIx>,
    user_ok: Vec<EventIx>,
    device_ok: Vec<EventIx>,
    not_joined: Vec<EventIx>,
}

fn token_stories(a: &Analysis, d: DeviceIx) -> BTreeMap<&str, TokenStory> {
    let mut m: BTreeMap<&str, TokenStory> = BTreeMap::new();
    // ccmsetup and ADAL lines belong to devices through their client host: none without one.
    if a.devices[d].client_hosts().is_empty() {
        return m;
    }
    for &i in device_events(a, d) {
        let e = &a.events[i];
        if !matches!(e.log_kind, LogKind::Ccmsetup | LogKind::AdalOperationProvider) {
            continue;
        }
        let s = m.entry(e.evidence.path().as_ref()).or_insert(TokenStory {
            failures: vec![],
            fallbacks: vec![],
            user_ok: vec![],
            device_ok: vec![],
            not_joined: vec![],
        });
        match &e.kind {
            EventKind::AadTokenFailed { hresult, .. } => {
                s.failures.push(i);
                if hresult.as_deref().is_some_and(|h| h.eq_ignore_ascii_case("0x800703f0")) {
                    s.not_joined.push(i);
                }
            }
            EventKind::AadTokenFallbackToUser { sid } => {
                s.fallbacks.push(i);
                if sid.is_none() {
                    // `IWebAuthenticationCoreManagerStatics4 not available. Falling back to user token.`
                    s.not_joined.push(i);
                }
            }
            EventKind::AadTokenAcquired { kind: AadTokenKind::User, .. } => s.user_ok.push(i),
            EventKind::AadTokenAcquired { kind: AadTokenKind::Device, .. } => s.device_ok.push(i),
            _ => {}
        }
    }
    m
}

pub(super) const WPJ_CERT_MISSING: Rule = Rule {
    id: "wpj-cert-missing",
    severity: Severity::Error,
    title: "No Entra ID device token: the device is not Entra ID joined (no workplace-join certificate)",
    explanation: "The device token request failed the way it does when the device has no workplace-join (WPJ) \
certificate, i.e. it is not Entra ID (or hybrid) joined, and no user token could be used either. Without a token the \
client cannot use the CCM_STS channel.",
    remediation: "Run 'dsregcmd /status' on the device: Device State must show 'AzureAdJoined : YES'. Join or hybrid-join \
the device (Entra Connect device sync for hybrid), make sure the server (web) app in Azure Services allows device \
tokens, or have a valid Entra ID user signed in for the user-token fallback.",
    symptom: false,
    story: None,
    idx_fix_first: false,
    check: Check::Alone(check_wpj),
};

fn check_wpj(a: &Analysis) -> Vec<Hit> {
    let mut hits = Vec::new();
    for d in a.devices.keys() {
        for (path, s) in token_stories(a, d) {
            if !s.not_joined.is_empty() && s.user_ok.is_empty() && s.device_ok.is_empty() {
                let mut ev = s.not_joined.clone();
                ev.extend(s.failures.iter().copied().filter(|i| !s.not_joined.contains(i)));
                ev.sort_unstable();
                ev.dedup();
                hits.push(Hit {
                    device: Some(d),
                    host: Some(host_of(a, ev[0])),
                    facts: format!(
                        "{} ({}): the device token failed as on a device that is not Entra ID joined, and no user token followed.",
                        host_of(a, ev[0]),
                        log_file_name(a.events[ev[0]].log_kind)
                    ),
                    evidence: first_n(ev, 4),
                    title: None,
                    explains: broken_phases(a, d),
                    causes: Vec::new(),
                });
                let _ = path;
                break;
            }
        }
    }
    hits
}

pub(super) const AAD_DEVICE_TOKEN_FALLBACK: Rule = Rule {
    id: "aad-device-token-fallback",
    severity: Severity::Warning,
    title: "The Entra ID device token failed; the client fell back to a user token",
    explanation: "The device token request failed and the client used the signed-in user's token instead. The flow \
went on, but it depends on a user being signed in: unattended devices (no user) will fail the same step.",
    remediation: "Check 'dsregcmd /status' (AzureAdJoined : YES, a valid device PRT); enable device tokens on the \
server (web) app registration in Azure Services; a NTE_BAD_KEYSET-like error (0xd0090016 / 0x80090016) points at a lost \
device key (TPM cleared, reimaged or repaired device): rejoin the device.",
    symptom: false,
    story: None,
    idx_fix_first: false,
    check: Check::Alone(check_fallback),
};

fn check_fallback(a: &Analysis) -> Vec<Hit> {
    let mut hits = Vec::new();
    for d in a.devices.keys() {
        for (_, s) in token_stories(a, d) {
            let (Some(&fail), Some(&ok)) = (s.failures.first().or(s.fallbacks.first()), s.user_ok.last())
            else {
                continue;
            };
            if s.fallbacks.is_empty() || ok < fail {
                continue;
            }
            let mut ev = vec![fail];
            ev.extend(s.failures.iter().skip(1).take(1));
            ev.push(s.fallbacks[0]);
            ev.push(ok);
            ev.sort_unstable();
            ev.dedup();
            let code = s.failures.iter().find_map(|&i| match &a.events[i].kind {
                EventKind::AadTokenFailed { hresult: Some(h), .. } => Some(h.clone()),
                _ => None,
            });
            hits.push(Hit {
                device: Some(d),
                host: Some(host_of(a, fail)),
                facts: format!(
                    "{} ({}): the device token failed{}; the user token of the signed-in user was used instead.",
                    host_of(a, fail),
                    log_file_name(a.events[fail].log_kind),
                    code.map(|c| format!(" with {c}")).unwrap_or_default()
                ),
                evidence: ev,
                title: None,
                explains: Vec::new(),
                causes: Vec::new(),
            });
            break;
        }
    }
    hits
}

pub(super) const TENANT_NOT_ONBOARDED: Rule = Rule {
    id: "tenant-not-onboarded",
    severity: Severity::Error,
    title: "The CMG gave no Entra ID app info for the device's tenant",
    explanation: "ccmsetup asked the CMG for the Entra ID app information (AADAuthInfo) of the device's tenant and never \
went on to request a token: the CMG returns AADCLIENTAPPID / AADRESOURCEURI only for tenants onboarded in \
Configuration Manager. (No log text for this failure is documented: this is concluded from the flow stopping there.)",
    remediation: "Onboard the tenant in the Configuration Manager console: Administration > Cloud Services > Azure Services \
> Cloud Management, with the server and client app registrations; or pass AADTENANTID, AADCLIENTAPPID and AADRESOURCEURI \
on the ccmsetup command line.",
    symptom: true,
    story: None,
    idx_fix_first: false,
    check: Check::AfterCauses(check_tenant_not_onboarded),
};

fn check_tenant_not_onboarded(a: &Analysis, ex: &Explained) -> Vec<Hit> {
    let mut hits = Vec::new();
    for d in a.devices.keys() {
        // ccmsetup lines belong to devices through their client host: none without one.
        if a.devices[d].client_hosts().is_empty() || ex.by(d, PhaseId::InstallAadInfo).is_some() {
            continue;
        }
        let evs = device_events(a, d);
        let Some(pos) = evs.iter().rposition(|&i| {
            a.events[i].log_kind == LogKind::Ccmsetup
                && matches!(a.events[i].kind, EventKind::AadInfoRequested { .. })
        }) else {
            continue;
        };
        let info = evs[pos];
        let path = &a.events[info].evidence.path();
        let later_token = evs[pos..].iter().any(|&i| {
            &a.events[i].evidence.path() == path
                && matches!(
                    a.events[i].kind,
                    EventKind::AadTokenRequested { .. }
                        | EventKind::AadTokenAcquired { .. }
                        | EventKind::CcmTokenRequested { .. }
                )
        });
        // A TLS failure after the request means the CMG never answered: certificate rules tell that story.
        let tls_failed = evs[pos..].iter().any(|&i| {
            &a.events[i].evidence.path() == path
                && matches!(a.events[i].kind, EventKind::CertificateError { .. })
        });
        if later_token || tls_failed || phase_status(a, d, PhaseId::InstallAadInfo) == Some(PhaseStatus::Ok) {
            continue;
        }
        let tenant = evs.iter().find_map(|&i| match &a.events[i].kind {
            EventKind::AadInfoRequested { tenant: Some(t), .. } => Some(t.clone()),
            _ => None,
        });
        let mut ev: Vec<EventIx> = evs[..=pos]
            .iter()
            .copied()
            .filter(|&i| matches!(a.events[i].kind, EventKind::AadInfoRequested { .. }))
            .collect();
        ev.extend(
            evs[pos..].iter().copied().filter(|&i| &a.events[i].evidence.path() == path && i != info).take(3),
        );
        hits.push(Hit {
            device: Some(d),
            host: Some(host_of(a, info)),
            facts: format!(
                "{}: ccmsetup asked the CMG for the app info of tenant {} and did not request a token after it.",
                host_of(a, info),
                tenant.as_deref().unwrap_or("(not named)")
            ),
            evidence: first_n(ev, 4),
            title: None,
            explains: broken_phases(a, d),
            causes: Vec::new(),
        });
    }
    hits
}

pub(super) const AAD_TOKEN_UNAVAILABLE: Rule = Rule {
    id: "aad-token-unavailable",
    severity: Severity::Error,
    title: "Neither an Entra ID device token nor a user token could be obtained",
    explanation: "The token request failed and no fallback succeeded, so the client has no Entra ID token and stops \
(ccmsetup does not continue without a token unless a PKI client certificate exists).",
    remediation: "Fix the device token first ('dsregcmd /status': AzureAdJoined : YES; device tokens enabled on the \
server app), or sign in with a valid Entra ID user. Check the app registrations' App ID URI (AADSTS50001) and that the \
client app has the redirect URI ms-appx-web://Microsoft.AAD.BrokerPlugin/<client app id>.",
    symptom: false,
    story: Some(story::attempt_starts_at_aad_token_request),
    idx_fix_first: false,
    check: Check::AfterCauses(check_token_unavailable),
};

fn check_token_unavailable(a: &Analysis, ex: &Explained) -> Vec<Hit> {
    failed_phase_hits(
        a,
        ex,
        &[PhaseId::InstallAadToken, PhaseId::RegistrationAadToken],
        "no Entra ID token was obtained",
        |k| matches!(k, EventKind::AadTokenFailed { .. } | EventKind::AadTokenFallbackToUser { .. }),
    )
}

pub(super) const TENANT_MISMATCH: Rule = Rule {
    id: "tenant-mismatch",
    severity: Severity::Warning,
    title: "The client's tenant differs from the tenant the site validated",
    explanation: "The client asked the CMG for the app info of one Entra ID tenant, while the management point validated or \
registered the device with another. Tokens for one tenant are not valid for the other.",
    remediation: "Check which tenant the device is joined to ('dsregcmd /status': TenantId) and which tenants are onboarded \
in Azure Services (Cloud Management); onboard the device's tenant or pass the right AADTENANTID to ccmsetup.",
    symptom: false,
    story: None,
    idx_fix_first: false,
    check: Check::Alone(check_tenant_mismatch),
};

fn check_tenant_mismatch(a: &Analysis) -> Vec<Hit> {
    let mut hits = Vec::new();
    for (d, dev) in a.devices.iter_enumerated() {
        if dev.client_tenant_ids().is_empty() || dev.site_tenant_ids().is_empty() {
            continue;
        }
        let client: BTreeSet<&str> = dev.client_tenant_ids().iter().map(|t| t.as_str()).collect();
        let site: BTreeSet<&str> = dev.site_tenant_ids().iter().map(|t| t.as_str()).collect();
        if client == site {
            continue;
        }
        let ev: Vec<EventIx> = dev
            .events
            .iter()
            .copied()
            .filter(|&i| match &a.events[i].kind {
                EventKind::AadInfoRequested { tenant: Some(_), .. } => true,
                EventKind::AadTokenValidated { tenant: Some(t), .. }
                | EventKind::MpRegistration { tenant: Some(t), .. } => !client.contains(t.as_str()),
                _ => false,
            })
            .collect();
        if ev.is_empty() {
            continue;
        }
        hits.push(Hit {
            device: Some(d),
            host: Some(host_of(a, ev[0])),
            facts: format!(
                "The client asked for tenant {}; the site validated / registered it with {}.",
                dev.client_tenant_ids().join(", "),
                dev.site_tenant_ids().join(", ")
            ),
            evidence: first_n(ev, 4),
            title: None,
            explains: Vec::new(),
            causes: Vec::new(),
        });
    }
    hits
}

#[cfg(test)]
mod tests {
    use cmtrace_parsers::{EventKind, LogKind, Severity};

    use super::super::testing::run;
    use super::super::testing::said::{AAD_AUTH_INFO, AAD_INFO, USER_OK};
    use crate::testkit::{healthy, Dev, Kit, SEC, TENANT};

    // Microsoft's texts (Entra ID client install flow) and the ADALOperationProvider.log of a device that is
    // not Entra ID joined (community sample, 0x800703f0 ERROR_NO_TOKEN).
    const DEVICE_TOKEN: &str = "Getting AAD (device) token with: ClientId = 0b7c8ab3-9ea1-4ffa-b2b9-8ffdd944bd8b, ResourceUrl = https://ConfigMgrService, AccountId = https://login.microsoftonline.com/common/oauth2/token";
    const USER_TOKEN: &str = "Getting AAD (user) token with: ClientId = 0b7c8ab3-9ea1-4ffa-b2b9-8ffdd944bd8b, ResourceUrl = https://ConfigMgrService, AccountId = https://login.microsoftonline.com/common/oauth2/token";
    const DEVICE_FAILED: &str = "Failed to get AAD token for 'S-1-5-18' from WAM API. Error 0xd0090016";
    const FALLBACK: &str =
        "Falling back to get user 'S-1-5-21-1527250992-855612568-2252598708-1001' token for system...";
    const USER_FAILED: &str =
        "Failed to get AAD token for 'S-1-5-21-1527250992-855612568-2252598708-1001' from WAM API. Error 0x80070520";
    const NOT_AVAILABLE: &str =
        "IWebAuthenticationCoreManagerStatics4 not available. Falling back to user token.";
    const NOT_JOINED: &str = "Failed to get AAD token for 'S-1-5-18' from WAM API. Error 0x800703f0";

    /// The device token fails with 0xd0090016, then the user token of the signed-in user is retrieved.
    const FELL_BACK: &[(Severity, &str)] = &[
        (Severity::Info, DEVICE_TOKEN),
        (Severity::Error, DEVICE_FAILED),
        (Severity::Info, FALLBACK),
        (Severity::Info, USER_TOKEN),
        (Severity::Info, USER_OK),
    ];
    /// The device token fails, and so does the user token.
    const NO_TOKEN: &[(Severity, &str)] = &[
        (Severity::Info, DEVICE_TOKEN),
        (Severity::Error, DEVICE_FAILED),
        (Severity::Info, FALLBACK),
        (Severity::Info, USER_TOKEN),
        (Severity::Error, USER_FAILED),
    ];

    /// CLIENT01's ccmsetup asks for the app info, then says `lines`.
    fn ccmsetup(lines: &[(Severity, &str)]) -> Kit {
        let mut kit = Kit::new();
        let c = LogKind::Ccmsetup;
        kit.said_each("CLIENT01", c, 0, &[(Severity::Info, AAD_INFO), (Severity::Info, AAD_AUTH_INFO)])
            .said_each("CLIENT01", c, 2 * SEC, lines);
        kit
    }

    /// CLIENT01's ADALOperationProvider.log of a device that is not joined, then `then`.
    fn not_joined(then: &[(Severity, &str)]) -> Kit {
        let mut kit = Kit::new();
        let l = LogKind::AdalOperationProvider;
        kit.said_each("CLIENT01", l, 0, &[(Severity::Warning, NOT_AVAILABLE), (Severity::Error, NOT_JOINED)])
            .said_each("CLIENT01", l, 2 * SEC, then);
        kit
    }

    #[test]
    fn a_device_that_is_not_joined_and_gets_no_token_has_no_workplace_join_certificate() {
        let o = run(&not_joined(&[]));
        let f = o.found("wpj-cert-missing", "CLIENT01", LogKind::AdalOperationProvider, NOT_AVAILABLE);
        o.assert_cites(f, "CLIENT01", LogKind::AdalOperationProvider, NOT_JOINED);
    }

    #[test]
    fn a_user_token_after_it_is_no_missing_workplace_join_certificate() {
        run(&not_joined(&[(Severity::Info, USER_OK)])).none("wpj-cert-missing");
    }

    #[test]
    fn a_failed_device_token_then_a_user_token_is_a_fallback() {
        let o = run(&ccmsetup(FELL_BACK));
        let f = o.only("aad-device-token-fallback");
        assert_eq!(f.device, Some(o.device_of("CLIENT01")));
        for line in [DEVICE_FAILED, FALLBACK, USER_OK] {
            o.assert_cites(f, "CLIENT01", LogKind::Ccmsetup, line);
        }
        assert!(f.explanation.contains("failed with 0xd0090016"), "{}", f.explanation);
    }

    #[test]
    fn a_fallback_with_no_user_token_is_no_fallback() {
        run(&ccmsetup(NO_TOKEN)).none("aad-device-token-fallback");
    }

    #[test]
    fn no_token_request_after_the_app_info_is_a_tenant_not_onboarded() {
        let o = run(&ccmsetup(&[]));
        let f = o.found("tenant-not-onboarded", "CLIENT01", LogKind::Ccmsetup, AAD_INFO);
        assert!(f.explanation.contains(TENANT), "{}", f.explanation);
    }

    #[test]
    fn a_token_request_after_the_app_info_is_an_onboarded_tenant() {
        run(&ccmsetup(&[(Severity::Info, DEVICE_TOKEN)])).none("tenant-not-onboarded");
    }

    #[test]
    fn neither_a_device_nor_a_user_token_is_no_token() {
        let o = run(&ccmsetup(NO_TOKEN));
        o.found("aad-token-unavailable", "CLIENT01", LogKind::Ccmsetup, USER_FAILED);
    }

    #[test]
    fn a_user_token_after_a_failed_device_token_is_a_token() {
        run(&ccmsetup(FELL_BACK)).none("aad-token-unavailable");
    }

    #[test]
    fn a_client_asking_for_another_tenant_than_the_site_validated_is_a_tenant_mismatch() {
        let mut d = Dev::new("CLIENT01", 1);
        d.client_tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47".into();
        let mut kit = Kit::new();
        healthy(&mut kit, &d, 0);
        let o = run(&kit);
        let f = o.only("tenant-mismatch");
        assert_eq!(f.device, Some(d.guid.clone()));
        let asked = o.line_where("CLIENT01", LogKind::Ccmsetup, |k, _| {
            matches!(k, EventKind::AadInfoRequested { .. })
        });
        o.assert_cites_line(f, asked);
        let validated =
            o.line_where("MP01", LogKind::CcmSts, |k, _| matches!(k, EventKind::AadTokenValidated { .. }));
        o.assert_cites_line(f, validated);
    }

    #[test]
    fn the_same_tenant_on_both_sides_is_no_mismatch() {
        let mut kit = Kit::new();
        healthy(&mut kit, &Dev::new("CLIENT01", 1), 0);
        run(&kit).none("tenant-mismatch");
    }

    const DEVICE_OK: &str = "Retrieved AAD token for AAD device '8d2b4ff9-0172-4998-9851-b5324303385f'";
    const SECURE_FAILURE: &str = "[CCMHTTP] ERROR: URL=https://CMG.CLOUDAPP.NET/CCM_Proxy_ServerAuth/AADAuthInfo, Port=443, Options=63, Code=12175, Text=ERROR_WINHTTP_SECURE_FAILURE";
    const COMMAND_LINE: &str = "Ccmsetup command line: ccmsetup.exe /mp:https://CMG.CLOUDAPP.NET";

    #[test]
    fn a_device_token_after_it_is_no_missing_workplace_join_certificate() {
        run(&not_joined(&[(Severity::Info, DEVICE_OK)])).none("wpj-cert-missing");
    }

    #[test]
    fn a_missing_workplace_join_certificate_cites_the_other_failures_of_the_story() {
        let o = run(&not_joined(&[(Severity::Error, DEVICE_FAILED)]));
        let f = o.found("wpj-cert-missing", "CLIENT01", LogKind::AdalOperationProvider, NOT_AVAILABLE);
        o.assert_cites(f, "CLIENT01", LogKind::AdalOperationProvider, NOT_JOINED);
        o.assert_cites(f, "CLIENT01", LogKind::AdalOperationProvider, DEVICE_FAILED);
        assert_eq!(f.evidence.len(), 3, "{f:#?}");
    }

    #[test]
    fn a_user_token_before_the_device_token_failed_is_no_fallback() {
        let lines = [
            (Severity::Info, USER_TOKEN),
            (Severity::Info, USER_OK),
            (Severity::Info, DEVICE_TOKEN),
            (Severity::Error, DEVICE_FAILED),
            (Severity::Info, FALLBACK),
        ];
        run(&ccmsetup(&lines)).none("aad-device-token-fallback");
    }

    #[test]
    fn a_tls_failure_after_the_app_info_request_is_no_tenant_not_onboarded() {
        // The CMG never answered: no certificate rule names this flag, and still the tenant is not blamed.
        run(&ccmsetup(&[(Severity::Error, SECURE_FAILURE)])).none("tenant-not-onboarded");
    }

    #[test]
    fn a_tenant_not_onboarded_cites_the_request_and_the_ccmsetup_lines_after_it_only() {
        let mut kit = ccmsetup(&[(Severity::Info, COMMAND_LINE)]);
        kit.said("CLIENT01", LogKind::AdalOperationProvider, 5 * SEC, Severity::Error, DEVICE_FAILED);
        let o = run(&kit);
        let f = o.found("tenant-not-onboarded", "CLIENT01", LogKind::Ccmsetup, AAD_INFO);
        let cited: Vec<String> = f.evidence.iter().map(|e| e.text.get().to_string()).collect();
        assert_eq!(cited, [AAD_INFO, AAD_AUTH_INFO, COMMAND_LINE], "{f:#?}");
        // With no ccmsetup line after the request, still none of another log.
        let mut kit = ccmsetup(&[]);
        kit.said("CLIENT01", LogKind::AdalOperationProvider, 5 * SEC, Severity::Error, DEVICE_FAILED);
        let o = run(&kit);
        let f = o.found("tenant-not-onboarded", "CLIENT01", LogKind::Ccmsetup, AAD_INFO);
        let cited: Vec<String> = f.evidence.iter().map(|e| e.text.get().to_string()).collect();
        assert_eq!(cited, [AAD_INFO, AAD_AUTH_INFO], "{f:#?}");
    }

    #[test]
    fn a_client_tenant_without_a_site_tenant_is_no_tenant_mismatch() {
        let o = run(&ccmsetup(&[]));
        assert!(!o.analysis.devices[crate::index::DeviceIx::FIRST].client_tenant_ids().is_empty());
        o.none("tenant-mismatch");
    }

    #[test]
    fn no_token_cites_the_failures_of_the_phases_log_only() {
        let mut kit = ccmsetup(NO_TOKEN);
        // The same failure in another log is not this phase's evidence.
        kit.said("CLIENT01", LogKind::AdalOperationProvider, SEC, Severity::Error, NOT_JOINED);
        let o = run(&kit);
        let f = o.found("aad-token-unavailable", "CLIENT01", LogKind::Ccmsetup, USER_FAILED);
        let cited: Vec<String> = f.evidence.iter().map(|e| e.text.get().to_string()).collect();
        assert_eq!(cited, [DEVICE_FAILED, FALLBACK, USER_FAILED], "{f:#?}");
    }
}
