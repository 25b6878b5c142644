//! The extractors' tests: events of real and documented lines per pattern, near misses, and the fast path
//! (prefilter, anchored and direct matching) held against the algorithm it replaced.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::RegexSet;
use regex_automata::util::primitives::NonMaxUsize;
use regex_automata::{meta, Anchored, Input};

use super::direct;
use super::matcher::{leading_literals, MAX_SLOTS};
use super::patterns::{Build, Captures, Pattern, PATTERNS};
use super::prefilter::PACKED_MAX_LEN;
use super::*;
use crate::entry::{LineFormat, Severity};
use crate::events::{AadTokenKind, OnPremSids};
use std::borrow::Cow;

fn ev(kind: LogKind, msg: &str) -> Vec<EventKind> {
    ev_sev(kind, msg, Severity::Info)
}

fn ev_sev(kind: LogKind, msg: &str, severity: Severity) -> Vec<EventKind> {
    let e = entry(msg, severity);
    static X: std::sync::OnceLock<Extractors> = std::sync::OnceLock::new();
    let mut out = Vec::new();
    X.get_or_init(Extractors::new).extract(kind, &e, &mut out);
    out
}

fn one(kind: LogKind, msg: &str) -> EventKind {
    let v = ev(kind, msg);
    assert_eq!(v.len(), 1, "{msg}: {v:?}");
    v.into_iter().next().unwrap()
}

use LogKind::*;

#[test]
fn ccmsetup_aad_info_and_tokens() {
    assert_eq!(
        one(Ccmsetup, "Getting AAD info from CMG 'CMG.CLOUDAPP.NET'"),
        EventKind::AadInfoRequested { cmg: Some("CMG.CLOUDAPP.NET".into()), tenant: None }
    );
    assert_eq!(
        one(Ccmsetup, "SMS CCM 5.0: Host=CMG.CLOUDAPP.NET, Path=/CCM_Proxy_ServerAuth/AADAuthInfo?TenantID=9AAF466A-3f40-4468-b3cd-f0010f21f05a, Port=443, Protocol=https, CcmTokenAuth=0, Flags=0x1304, Options=0xe0"),
        EventKind::AadInfoRequested { cmg: Some("CMG.CLOUDAPP.NET".into()), tenant: Some("9aaf466a-3f40-4468-b3cd-f0010f21f05a".into()) }
    );
    assert_eq!(
        one(Ccmsetup, "Getting AAD (device) token with: ClientId = 0b7c8ab3-9ea1-4ffa-b2b9-8ffdd944bd8b, ResourceUrl = https://ConfigMgrService, AccountId = https://login.microsoftonline.com/common/oauth2/token"),
        EventKind::AadTokenRequested { kind: AadTokenKind::Device, client_app_id: Some("0b7c8ab3-9ea1-4ffa-b2b9-8ffdd944bd8b".into()), resource: Some("https://ConfigMgrService".into()) }
    );
    assert_eq!(
        one(Ccmsetup, "WAM token request failed. Status 5, Details 'AAD WAM extension error'"),
        EventKind::AadTokenFailed {
            sid: None,
            status: Some("5".into()),
            hresult: None,
            details: Some("AAD WAM extension error".into())
        }
    );
    assert_eq!(
        one(Ccmsetup, "Failed to get AAD token for 'S-1-5-18' from WAM API. Error 0xd0090016"),
        EventKind::AadTokenFailed {
            sid: Some("S-1-5-18".into()),
            status: None,
            hresult: Some("0xd0090016".into()),
            details: None
        }
    );
    assert_eq!(
        one(
            Ccmsetup,
            "Falling back to get user 'S-1-5-21-1527250992-855612568-2252598708-1604' token for system..."
        ),
        EventKind::AadTokenFallbackToUser {
            sid: Some("S-1-5-21-1527250992-855612568-2252598708-1604".into())
        }
    );
    assert_eq!(
        one(AdalOperationProvider, "Retrieved AAD token for AAD user 'E8838041-db7a-42d5-b9ae-78813910e4cc'"),
        EventKind::AadTokenAcquired {
            kind: AadTokenKind::User,
            aad_user: Some("e8838041-db7a-42d5-b9ae-78813910e4cc".into()),
            aad_device: None
        }
    );
    assert_eq!(
        one(Ccmsetup, "Retrieved AAD token for AAD device '8d2b4ff9-0172-4998-9851-b5324303385f'"),
        EventKind::AadTokenAcquired {
            kind: AadTokenKind::Device,
            aad_user: None,
            aad_device: Some("8d2b4ff9-0172-4998-9851-b5324303385f".into())
        }
    );
    assert_eq!(
        one(
            AdalOperationProvider,
            "IWebAuthenticationCoreManagerStatics4 not available. Falling back to user token."
        ),
        EventKind::AadTokenFallbackToUser { sid: None }
    );
}

#[test]
fn ccm_token_lines() {
    assert_eq!(
        one(
            Ccmsetup,
            "Getting CCM Token from STS server 'cmg.cloudapp.net/CCM_PROXY_MutualAuth/72186325152220500'"
        ),
        EventKind::CcmTokenRequested {
            sts_url: "cmg.cloudapp.net/CCM_PROXY_MutualAuth/72186325152220500".into()
        }
    );
    // A line cut before its closing quote keeps the URL, not the word `STS`; empty quotes name none.
    assert_eq!(
        one(Ccmsetup, "Getting CCM Token from STS server 'cmg.cloudapp.net/CCM_PROXY_MutualAuth/7218"),
        EventKind::CcmTokenRequested { sts_url: "cmg.cloudapp.net/CCM_PROXY_MutualAuth/7218".into() }
    );
    assert!(ev(Ccmsetup, "Getting CCM Token from STS server ''").is_empty());
    assert_eq!(
        one(ClientIdManagerStartup, "Getting CCM Token from https://MP.MYCORP.COM/CCM_STS"),
        EventKind::CcmTokenRequested { sts_url: "https://MP.MYCORP.COM/CCM_STS".into() }
    );
    let t = chrono::NaiveDate::from_ymd_opt(2020, 6, 25).unwrap().and_hms_opt(8, 29, 35).unwrap();
    assert_eq!(
        one(Ccmsetup, "Cached encrypted token for 'S-1-5-18'. Will expire at '06/25/2020 08:29:35'"),
        EventKind::CcmTokenCached { sid: "S-1-5-18".into(), expires_local: Some(t) }
    );
    let t = chrono::NaiveDate::from_ymd_opt(2019, 12, 23).unwrap().and_hms_opt(21, 47, 24).unwrap();
    assert_eq!(
        one(CcmMessaging, "CCM Token for 'S-1-5-8-1721254763-462695806-1538882281-3289177' (12/23/2019 21:47:24) is already expired or close to expire"),
        EventKind::CcmTokenExpiring { sid: "S-1-5-8-1721254763-462695806-1538882281-3289177".into(), expires_local: Some(t) }
    );
    assert_eq!(
        one(LocationServices, "RetrieveTokenFromStsServerImpl failed with error 0x87D0027E"),
        EventKind::CcmTokenFailed { hresult: Some("0x87d0027e".into()) }
    );
    assert_eq!(
        one(Ccmsetup, "Failed to get CCM access token and client doesn't have PKI issued cert to use SSL. Error 0x80070002"),
        EventKind::CcmTokenFailed { hresult: Some("0x80070002".into()) }
    );
}

#[test]
fn ccmsetup_content_install_exit() {
    assert!(matches!(
        one(
            Ccmsetup,
            "Found a valid online MP 'https://CMG.cloudapp.net/CCM_PROXY_MutualAuth/72186325152220500"
        ),
        EventKind::ContentLocation { .. }
    ));
    assert!(matches!(one(Ccmsetup, "The location 'https://CMG.cloudapp.net/downloadrestservice.svc/getcontentxmlsecure?pid=CS100001&cid=CS100001"), EventKind::ContentLocation { .. }));
    assert_eq!(
        one(Ccmsetup, "Installing version 5.00.8968.1000 of the client with product code {66653948-0717-4D50-B0B9-ED66FDED2DDB}"),
        EventKind::ClientInstallStarted { version: Some("5.00.8968.1000".into()), product_code: Some("{66653948-0717-4D50-B0B9-ED66FDED2DDB}".into()) }
    );
    assert_eq!(one(Ccmsetup, "CcmSetup is exiting with return code 7"), EventKind::CcmsetupExit { code: 7 });
    assert_eq!(
        one(Ccmsetup, "CcmSetup failed with error code 0x80190194"),
        EventKind::CcmsetupExit { code: 0x80190194 }
    );
    assert_eq!(one(Ccmsetup, "Enabled SSL revocation check."), EventKind::RevocationCheckEnabled);
}

#[test]
fn http_and_certificate_errors() {
    let v = ev(LocationServices, "[CCMHTTP] ERROR: URL=https://CMG.CONTOSO.COM/CCM_Proxy_ServerAuth/72057594037928017/CCM_STS, Port=443, Options=63, Code=12175, Text=ERROR_WINHTTP_SECURE_FAILURE");
    assert_eq!(v.len(), 2, "{v:?}");
    assert_eq!(
        v[0],
        EventKind::HttpError {
            url: Some("https://CMG.CONTOSO.COM/CCM_Proxy_ServerAuth/72057594037928017/CCM_STS".into()),
            code: Some("12175".into()),
            text: Some("ERROR_WINHTTP_SECURE_FAILURE".into()),
            http_status: None
        }
    );
    assert!(matches!(&v[1], EventKind::CertificateError { flag, .. } if flag == "secure_failure"));
    assert_eq!(
        one(
            LocationServices,
            "[CCMHTTP] ERROR INFO: StatusCode= 403 StatusText= CMGConnector_Clientcertificaterequired"
        ),
        EventKind::HttpError {
            url: None,
            code: None,
            text: Some("CMGConnector_Clientcertificaterequired".into()),
            http_status: Some(403)
        }
    );
    assert_eq!(
        one(Ccmsetup, "[CCMHTTP] : WINHTTP_CALLBACK_STATUS_FLAG_INVALID_CA is set"),
        EventKind::CertificateError { flag: "invalid_ca".into(), code: None, url: None }
    );
    assert_eq!(
        one(Ccmsetup, "[CCMHTTP] : WINHTTP_CALLBACK_STATUS_FLAG_CERT_REV_FAILED is set"),
        EventKind::CertificateError { flag: "cert_rev_failed".into(), code: None, url: None }
    );
    assert!(
        matches!(one(Ccmsetup, "Failed to verify certificate chain. Error: 800B0109"), EventKind::CertificateError { flag, .. } if flag == "untrusted_root")
    );
}

#[test]
fn noise_and_near_misses_cost_nothing() {
    for msg in [
        "Created connection on port 443",
        "SMS CCM 5.0: Host=CMG.CLOUDAPP.NET, Path=/CCM_Proxy_ServerAuth/72057594037937995/CCM_Client, Port=443, Flags=0x1304, Options=0xe0",
        "[CCMHTTP] : lpvStatusInformation is 0x9",
        "Updated security on object C:\\Windows\\ccmsetup\\cache\\.",
        "Appending CCM Token to the header.",
    ] {
        assert!(ev(Ccmsetup, msg).is_empty(), "{msg}");
    }
    // Server patterns do not fire in client logs and vice versa.
    assert!(ev(Ccmsetup, "Validated AAD token. TokenType: UDA TenantId: a UserId: b DeviceId: c").is_empty());
    assert!(ev(CcmSts, "Getting AAD info from CMG 'x'").is_empty());
}

#[test]
fn registration_lines() {
    assert_eq!(
        one(ClientIdManagerStartup, "[RegTask] - Starting registration, attempt 1."),
        EventKind::RegistrationStarted { attempt: Some(1) }
    );
    assert_eq!(
        one(ClientIdManagerStartup, "[RegTask] - Client is not registered. Sending registration request for GUID:c66ee0fd-08E7-4B38-B282-7E6954B71139 ..."),
        EventKind::RegistrationRequested { client_guid: Some("GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139".into()) }
    );
    assert_eq!(
        one(ClientIdManagerStartup, "Registering client using AAD auth."),
        EventKind::RegistrationUsingAad
    );
    assert_eq!(
        one(ClientIdManagerStartup, "[RegTask] - Client is registered. Server assigned ClientID is GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139. Approval status 3"),
        EventKind::Registered { client_guid: Some("GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139".into()), approval: Some(3) }
    );
    assert!(
        matches!(one(ClientIdManagerStartup, "SetRegistrationState failed (0x80071770)"), EventKind::RegistrationFailed { code: Some(c), .. } if c == "0x80071770")
    );
}

#[test]
fn sts_lines() {
    assert_eq!(one(CcmSts, "ProcessRequest - Start"), EventKind::StsRequestReceived { url: None });
    assert_eq!(
        one(CcmSts, "Incoming request URL: https://MP.MYCORP.COM/CCM_STS"),
        EventKind::StsRequestReceived { url: Some("https://MP.MYCORP.COM/CCM_STS".into()) }
    );
    assert_eq!(
        one(CcmSts, "Validated AAD token. TokenType: UDA TenantId: 2CA9A796-a1a6-43ec-88f1-5935b32155c5 UserId: e8838041-db7a-42d5-b9ae-78813910e4cc DeviceId: 8d2b4ff9-0172-4998-9851-b5324303385f OnPrem_UserSid: S-1-5-21-1527250992-855612568-2252598708-1604 OnPrem_DeviceSid:"),
        EventKind::AadTokenValidated {
            token_type: Some("UDA".into()),
            tenant: Some("2ca9a796-a1a6-43ec-88f1-5935b32155c5".into()),
            aad_user: Some("e8838041-db7a-42d5-b9ae-78813910e4cc".into()),
            aad_device: Some("8d2b4ff9-0172-4998-9851-b5324303385f".into()),
            onprem: OnPremSids::new(Some("S-1-5-21-1527250992-855612568-2252598708-1604".into()), None),
        }
    );
    // Fields apart by more than one space: the same event.
    assert!(matches!(
        one(CcmSts, "Validated AAD token.  TokenType: Device  TenantId: c8c82542-203c-4df9-9d86-cdd4dae67e0a   UserId: 00000000-0000-0000-0000-000000000000 DeviceId: 82aa00ad-f062-4c4c-b062-db0000ac04d5  OnPrem_UserSid: S-1-5-21-1-2-3-1001  OnPrem_DeviceSid: S-1-5-21-1-2-3-2002"),
        EventKind::AadTokenValidated { tenant: Some(t), aad_device: Some(d), onprem, .. }
            if t == "c8c82542-203c-4df9-9d86-cdd4dae67e0a" && d == "82aa00ad-f062-4c4c-b062-db0000ac04d5"
                && onprem.user_sid().map(|u| u.as_str()) == Some("S-1-5-21-1-2-3-1001")
                && onprem.device_sid().map(|c| c.as_str()) == Some("S-1-5-21-1-2-3-2002")
    ));
    // Device-only token: zero user id, empty SIDs.
    assert!(matches!(
        one(CcmSts, "Validated AAD token. TokenType: Device TenantId: c8c82542-203c-4df9-9d86-cdd4dae67e0a UserId: 00000000-0000-0000-0000-000000000000 DeviceId: 82aa00ad-f062-4c4c-b062-db0000ac04d5 OnPrem_UserSid:  OnPrem_DeviceSid:"),
        EventKind::AadTokenValidated { aad_user: None, onprem, .. } if onprem == OnPremSids::default()
    ));
    assert_eq!(
        one(CcmSts, "Created SCCM token, token type: UDA, hierarchyId: 8ed3174b-e814-41b5-b51c-fb368f0d4003, userId: 23bbbba2-702e-4db4-8fd9-3b4fe3a5175d, deviceId: GUID:13E80CEF-5698-4C63-9ED6-E58FBFF78C38"),
        EventKind::CcmTokenIssued { token_type: Some("UDA".into()), hierarchy: Some("8ed3174b-e814-41b5-b51c-fb368f0d4003".into()), cm_user: Some("23bbbba2-702e-4db4-8fd9-3b4fe3a5175d".into()), client_guid: Some("GUID:13E80CEF-5698-4C63-9ED6-E58FBFF78C38".into()) }
    );
    assert_eq!(one(CcmSts, "Return token to client"), EventKind::CcmTokenReturned);
    let v = ev(CcmSts, "Return code: 401, Description: PreAuth token validation failed, System.IdentityModel.Tokens.SecurityTokenExpiredException: IDX10223: Lifetime validation failed. The token is expired.");
    assert!(matches!(&v[0], EventKind::AadTokenRejected { code: Some(c), .. } if c == "401"));
    assert!(matches!(&v[1], EventKind::AadTokenRejected { code: Some(c), .. } if c == "IDX10223"));
}

#[test]
fn cmg_and_connector_lines() {
    assert_eq!(
        one(CmgService, "RequestUri: /CCM_PROXY_SERVERAUTH/72057594037937981/CCM_STS  RequestCount: 769  RequestSize: 1081595 Bytes  ResponseCount: 769     ResponseSize: 36143 Bytes  AverageElapsedTime: 3945 ms"),
        EventKind::CmgRequestStats { uri: "/CCM_PROXY_SERVERAUTH/72057594037937981/CCM_STS".into(), count: Some(769), avg_elapsed_ms: Some(3945) }
    );
    assert_eq!(
        one(CloudProxyConnector, "Switched to internal URL. Replaced 'https://CMG.CLOUDAPP.NET/CCM_Proxy_MutualAuth/72186325152220500/CCM_STS' in   'https://CMG.CLOUDAPP.NET/CCM_Proxy_MutualAuth/72186325152220500/CCM_STS' with 'https://MP.MYCORP.COM/CCM_STS' and got 'https:///MP.MYCORP.COM/CCM_STS"),
        EventKind::ProxyUrlRewritten { from: "https://CMG.CLOUDAPP.NET/CCM_Proxy_MutualAuth/72186325152220500/CCM_STS".into(), to: "https://MP.MYCORP.COM/CCM_STS".into() }
    );
    assert_eq!(
        one(CloudProxyConnector, "MessageID: 3087BD34-b82c-4950-b972-e82bb0fb8385 RequestURI: https://MP.MYCORP.COM/CCM_STS EndpointName: CCM_STS ResponseHeader: HTTP/1.1 200 OK \n ResponseBodySize: 0 ElapsedTime: 2 ms"),
        EventKind::ProxyRequest { message_id: Some("3087bd34-b82c-4950-b972-e82bb0fb8385".into()), endpoint: Some("CCM_STS".into()), uri: Some("https://MP.MYCORP.COM/CCM_STS".into()), http_status: Some(200), status_text: Some("OK".into()), elapsed_ms: Some(2) }
    );
    let v = ev(CloudProxyConnector, "MessageID: 1 RequestURI: https://MP/SMS_MP/.sms_aut?SITESIGNCERT EndpointName: MP ResponseHeader: HTTP/1.1 403 CMGConnector_Clientcertificaterequired\n ElapsedTime: 5 ms");
    assert!(v.iter().any(|e| matches!(e, EventKind::HttpError { http_status: Some(403), .. })));
    assert_eq!(
        one(CloudProxyConnector, "Chain 1 status: OfflineRevocation"),
        EventKind::CertificateError {
            flag: "revocation_offline".into(),
            code: Some("OfflineRevocation".into()),
            url: None
        }
    );
    assert!(ev(CloudProxyConnector, "Filtered cert count with client auth: 1").is_empty());
}

#[test]
fn mp_registration_lines() {
    assert_eq!(
        one(MpRegistrationManager, "Registering device using AAD auth: DeviceId='8d2b4ff9-0172-4998-9851-b5324303385f ', TenantId='c8c82542-203c-4df9-9d86-cdd4dae67e0a'"),
        EventKind::MpRegistration { aad_device: Some("8d2b4ff9-0172-4998-9851-b5324303385f".into()), tenant: Some("c8c82542-203c-4df9-9d86-cdd4dae67e0a".into()), client_guid: None }
    );
    assert_eq!(
        one(
            MpRegistrationManager,
            "Processing Registration request from Client 'GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139'"
        ),
        EventKind::MpRegistration {
            aad_device: None,
            tenant: None,
            client_guid: Some("GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139".into())
        }
    );
}

#[test]
fn generic_error_codes_on_error_lines_only() {
    assert_eq!(
        ev_sev(Ccmsetup, "Something odd happened 0x87D00231", Severity::Error),
        vec![EventKind::ErrorLogged { code: Some("0x87d00231".into()) }]
    );
    assert!(ev_sev(Ccmsetup, "Something odd happened 0x87D00231", Severity::Info).is_empty());
    assert!(ev_sev(Other, "Something odd happened 0x87D00231", Severity::Error).is_empty());
}

/// The real ccmsetup.log (shared/domain/real) lines 217-222: every failure line before the exit is an
/// event, with its code; the healthy-machine noise too (ranked by the analysis, not dropped here).
#[test]
fn failure_lines_of_an_attempt_are_events() {
    let e = |msg: &str, sev: Severity| ev_sev(Ccmsetup, msg, sev);
    let code = |c: &str| vec![EventKind::ErrorLogged { code: Some(c.into()) }];
    assert_eq!(
        e("Failed to download files through BITS. Error: 0x80190194, Description HTTP status 404: The requested URL does not exist on the server.\n, Context: The error occurred while the remote file was being processed.\n.", Severity::Error),
        code("0x80190194")
    );
    assert_eq!(
        e("Failed to download client files by BITS. Error 0x80190194", Severity::Error),
        code("0x80190194")
    );
    // Type 2 with `Failed` and a code.
    assert_eq!(
        e("Failed to get client version for sending state messages. Error 0x8004100e", Severity::Warning),
        code("0x8004100e")
    );
    // Type 0 state message naming the content path.
    assert_eq!(
        e("[] Params to send '5.0.8458.1007 Deployment Error 0x80190194. Path HTTP://server.dmz/CCM_Client'", Severity::Info),
        code("0x80190194")
    );
    // Type 3 with no code.
    assert_eq!(
        e("Failed to install prerequisite. See the prerequisite's log", Severity::Error),
        vec![EventKind::ErrorLogged { code: None }]
    );
    // Near misses: a warning with no failure word, an info line with a code, a warning with a code and no `fail`.
    assert!(e("File 'C:\\Windows\\ccmsetup\\client.msi' doesn't exist.", Severity::Warning).is_empty());
    assert!(e("Something odd happened 0x87D00231", Severity::Info).is_empty());
    assert!(e("Retrying after 0x87D00231", Severity::Warning).is_empty());
    // The success state message (real ccmsetup.log:68) is no failure line.
    assert!(e("[] Params to send '5.0.8458.1007 Deployment Error: 0x0, '", Severity::Info).is_empty());
    assert!(e("Type 3 line with nothing telling in it", Severity::Error).is_empty());
}

#[test]
fn ccmsetup_attempts_retries_and_pending_registration() {
    assert_eq!(
        one(Ccmsetup, "==========[ ccmsetup started in process 3324 ]=========="),
        EventKind::CcmsetupStarted { pid: Some(3324) }
    );
    assert_eq!(
        one(Ccmsetup, "Next retry in 10 minute(s)..."),
        EventKind::CcmsetupRetryScheduled { minutes: Some(10) }
    );
    assert!(ev(Ccmsetup, "Next step: retry the download").is_empty());
    assert_eq!(
        ev(
            ClientIdManagerStartup,
            "[RegTask] - Client registration is pending. Server assigned ClientID is GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139"
        ),
        vec![
            EventKind::RegistrationRequested {
                client_guid: Some("GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139".into())
            },
            EventKind::RegistrationPending {
                client_guid: Some("GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139".into())
            },
        ]
    );
    assert_eq!(
        one(
            Ccmsetup,
            "Failed to get DP locations as the expected version from MP 'http://MP01'. Error 0x87d00215"
        ),
        EventKind::ErrorLogged { code: Some("0x87d00215".into()) }
    );
    assert!(ev(Ccmsetup, "Searching for DP locations from MP(s)...").is_empty());
}

// ---- The fast path against the algorithm it replaced ------------------------------------------------

/// Regexes rewritten for speed, with the text they had (the reference runs the old one).
const REWRITTEN: &[(&str, &str)] = &[
    (
        r"Validated AAD token\.\s+T(?:okenType: (\S*)\s+T)?enantId: (\S*)\s+UserId: (\S*)\s+DeviceId: (\S*)(?:\s+OnPrem_(?:UserSid: (\S*)(?:\s+OnPrem_DeviceSid:\s*(\S*))?|DeviceSid:\s*(\S*)))?",
        r"Validated AAD token\.(?:\s+TokenType: (\S*))?\s+TenantId: (\S*)\s+UserId: (\S*)\s+DeviceId: (\S*)(?:\s+OnPrem_UserSid: (\S*))?(?:\s+OnPrem_DeviceSid:\s*(\S*))?",
    ),
    (
        r"Registering device using AAD auth: DeviceId='([^']*)', TenantId='([^']*)'",
        r"Registering device using AAD auth: DeviceId='\s*([^']*?)\s*', TenantId='\s*([^']*?)\s*'",
    ),
];

fn original(regex: &'static str) -> &'static str {
    REWRITTEN.iter().find(|(new, _)| *new == regex).map_or(regex, |(_, old)| old)
}

/// The old algorithm: per log kind an Aho-Corasick prefilter over `literals`, then the `RegexSet`
/// (original regexes), then every matching pattern's own `Regex::captures`.
/// Per log kind: prefilter, set, regexes, builds, and the patterns' indices in `PATTERNS`.
type RefKind = (AhoCorasick, RegexSet, Vec<Regex>, Vec<Build>, Vec<usize>);

struct Reference {
    by_kind: Vec<RefKind>,
    generic_code: Regex,
    failure_word: Regex,
}

impl Reference {
    fn new() -> Reference {
        let by_kind = LogKind::ALL
            .iter()
            .map(|&k| {
                let idx: Vec<usize> = (0..PATTERNS.len()).filter(|&i| PATTERNS[i].scope.has(k)).collect();
                let pats: Vec<&Pattern> = idx.iter().map(|&i| &PATTERNS[i]).collect();
                let mut literals: Vec<&str> = pats.iter().flat_map(|p| p.literals.iter().copied()).collect();
                literals.sort_unstable();
                literals.dedup();
                (
                    AhoCorasickBuilder::new()
                        .ascii_case_insensitive(true)
                        .match_kind(MatchKind::LeftmostFirst)
                        .build(&literals)
                        .unwrap(),
                    RegexSet::new(pats.iter().map(|p| original(p.regex))).unwrap(),
                    pats.iter().map(|p| Regex::new(original(p.regex)).unwrap()).collect(),
                    pats.iter().map(|p| p.build).collect(),
                    idx,
                )
            })
            .collect();
        Reference {
            by_kind,
            generic_code: Regex::new(r"(?i)\b0x(8[0-9a-f]{7}|c[0-9a-f]{7}|d[0-9a-f]{7})\b").unwrap(),
            failure_word: Regex::new(FAILURE_WORDS).unwrap(),
        }
    }

    /// The events, and the indices (in `PATTERNS`) of the patterns whose regex matched.
    fn extract(&self, kind: LogKind, entry: &Entry<'_>, out: &mut Vec<EventKind>) -> Vec<usize> {
        let (prefilter, set, regexes, builds, idx) = &self.by_kind[kind as usize];
        let msg: &str = &entry.message;
        let before = out.len();
        let mut matched = Vec::new();
        if prefilter.is_match(msg) {
            for i in set.matches(msg).iter() {
                if let Some(caps) = regexes[i].captures(msg) {
                    matched.push(idx[i]);
                    if let Some(ev) =
                        (builds[i])(&Captures { hay: msg, slots: &slots_of(&caps), strings: None })
                    {
                        if !out[before..].contains(&ev) {
                            out.push(ev);
                        }
                    }
                }
            }
        }
        if out.len() == before && kind != LogKind::Other {
            let code = self.generic_code.find(msg);
            let word = self.failure_word.is_match(msg);
            if failure_line(kind, entry.severity, code.is_some(), word, msg) {
                out.push(EventKind::ErrorLogged {
                    code: code.map(|m| m.as_str().to_ascii_lowercase().into()),
                });
            }
        }
        matched
    }
}

/// The capture slots (`Captures::slots`) of a `regex::Captures`.
fn slots_of(caps: &regex::Captures<'_>) -> Vec<Option<NonMaxUsize>> {
    (0..caps.len())
        .flat_map(|g| match caps.get(g) {
            Some(m) => [NonMaxUsize::new(m.start()), NonMaxUsize::new(m.end())],
            None => [None, None],
        })
        .collect()
}

/// Every pattern has sample lines (`Pattern::samples`): its regex matches each and builds its event there, and
/// the extractor of every log kind the pattern applies to gives that event for each. A pattern with no sample
/// fails.
#[test]
fn every_pattern_gives_its_event_on_its_samples() {
    let mut total = 0;
    for (i, p) in PATTERNS.iter().enumerate() {
        assert!(!p.samples.is_empty(), "pattern {i} has no sample line: {}", p.regex);
        let regex = Regex::new(p.regex).unwrap();
        for line in p.samples {
            let caps = regex.captures(line).unwrap_or_else(|| panic!("pattern {i} does not match {line:?}"));
            let built = (p.build)(&Captures { hay: line, slots: &slots_of(&caps), strings: None });
            assert_eq!(
                built.as_ref().map(EventKind::name),
                Some(p.event),
                "pattern {i} on {line:?}: {built:?}"
            );
            for kind in LogKind::ALL.into_iter().filter(|&k| p.scope.has(k)) {
                let events = ev(kind, line);
                assert!(
                    events.iter().any(|e| e.name() == p.event),
                    "pattern {i} as {kind:?} on {line:?}: {events:?}, no {}",
                    p.event
                );
            }
            total += 1;
        }
    }
    assert!(total >= PATTERNS.len(), "{total}");
}

fn entry(msg: &str, severity: Severity) -> Entry<'_> {
    Entry {
        line: 1,
        local_time: None,
        bias_minutes: None,
        component: "x",
        thread: None,
        severity,
        source: None,
        message: Cow::Borrowed(msg),
        format: LineFormat::Cmtrace,
    }
}

/// Compares both algorithms on `msg` for every log kind and severity; returns the patterns matched.
fn same_as_reference(x: &Extractors, r: &Reference, msg: &str) -> Vec<usize> {
    let mut matched = Vec::new();
    for kind in LogKind::ALL {
        for severity in [Severity::Info, Severity::Error] {
            let e = entry(msg, severity);
            let (mut fast, mut slow) = (vec![EventKind::CcmTokenReturned], vec![EventKind::CcmTokenReturned]);
            x.extract(kind, &e, &mut fast);
            matched.extend(r.extract(kind, &e, &mut slow));
            assert_eq!(fast, slow, "{kind:?} {severity:?}: {msg:?}");
        }
    }
    matched
}

/// At least one line for every pattern, the lines of the corpus, near misses and noise.
const SAMPLES: &[&str] = &[
    "==========[ ccmsetup started in process 3324 ]==========",
    "Next retry in 10 minute(s)...",
    "[] Params to send '5.0.8458.1007 Deployment Error 0x80190194. Path HTTP://server.dmz/CCM_Client'",
    "[] Params to send '5.0.8458.1007 Deployment Error: 0x0, '",
    "Have already tried all MPs. Couldn't find DP locations. Error 0x87d00215",
    "Failed to get DP locations as the expected version from MP 'http://MP01'. Error 0x87d00215",
    "File 'C:\\WINDOWS\\ccmsetup\\vcredist_x64.exe' returned failure exit code 1603. Fail the installation.",
    "Failed to download client files by BITS. Error 0x80190194",
    "Failed to connect to policy namespace. Error 0x8004100e",
    "[RegTask] - Client registration is pending. Server assigned ClientID is GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139",
    "Getting AAD info from CMG 'CMG.CLOUDAPP.NET'",
    "SMS CCM 5.0: Host=CMG.CLOUDAPP.NET, Path=/CCM_Proxy_ServerAuth/AADAuthInfo?TenantID=9AAF466A-3f40-4468-b3cd-f0010f21f05a, Port=443, Protocol=https, CcmTokenAuth=0, Flags=0x1304, Options=0xe0",
    "Getting AAD (device) token with: ClientId = 0b7c8ab3-9ea1-4ffa-b2b9-8ffdd944bd8b, ResourceUrl = https://ConfigMgrService, AccountId = https://login.microsoftonline.com/common/oauth2/token",
    "Getting AAD (user) token with: ClientId = 0B7C8AB3-9ea1-4ffa-b2b9-8ffdd944bd8b, ResourceUrl = https://ConfigMgrService",
    "Getting AAD token for logged on user. Using WAM. ClientId: 0B7C8AB3-9ea1-4ffa-b2b9-8ffdd944bd8b ResourceId: https://ConfigMgrService",
    "WAM token request failed. Status 5, Details 'AAD WAM extension error'",
    "Failed to get AAD token for 'S-1-5-18' from WAM API. Error 0xd0090016",
    "Falling back to get user 'S-1-5-21-1527250992-855612568-2252598708-1604' token for system...",
    "IWebAuthenticationCoreManagerStatics4 not available. Falling back to user token.",
    "Retrieved AAD token for AAD user 'E8838041-db7a-42d5-b9ae-78813910e4cc'",
    "Retrieved AAD token for AAD device '8d2b4ff9-0172-4998-9851-b5324303385f'",
    "Successfully obtained AAD token",
    "Getting CCM Token from STS server 'cmg.cloudapp.net/CCM_PROXY_MutualAuth/72186325152220500'",
    "Getting CCM Token from https://MP.MYCORP.COM/CCM_STS",
    "Cached encrypted token for 'S-1-5-18'. Will expire at '06/25/2020 08:29:35'",
    "CCM Token for 'S-1-5-8-1721254763-462695806-1538882281-3289177' (12/23/2019 21:47:24) is already expired or close to expire",
    "Failed to get CCM access token and client doesn't have PKI issued cert to use SSL. Error 0x80070002",
    "RetrieveTokenFromStsServerImpl failed with error 0x87D0027E",
    "Failed to get CCM token 0x80004005",
    "FAILED TO GET CCM TOKEN",
    "Found a valid online MP 'https://CMG.cloudapp.net/CCM_PROXY_MutualAuth/72186325152220500",
    "The location 'https://CMG.cloudapp.net/downloadrestservice.svc/getcontentxmlsecure?pid=CS100001&cid=CS100001",
    "Checking the URL 'http://MP01.FLEET.CORP/CCM_Client/ccmsetup.cab'",
    "Found local location 'http://server.dmz/SMS_DP_SMSPKG$/abc00002'",
    "GET 'HTTP://server.dmz/CCM_Client/ccmsetup.cab'",
    "CcmSetup version: 5.0.8458.1007",
    "Ccmsetup command line: \"C:\\Windows\\ccmsetup\\ccmsetup.exe\" /runservice  \"/mp:server.dmz\" FSP=\"primary.lan\" SMSSITECODE=\"abc\"",
    "Ccmsetup command line: ccmsetup.exe /mp:https://CMG.CLOUDAPP.NET/CCM_Proxy_MutualAuth/72057594037927941 CCMHOSTNAME=CMG.CLOUDAPP.NET/CCM_Proxy_MutualAuth/72057594037927941 SMSSITECODE=PS1",
    "SCCM Client Version: 5.00.7804.1000",
    "Installing version 5.00.8968.1000 of the client with product code {66653948-0717-4D50-B0B9-ED66FDED2DDB}",
    "CcmSetup is exiting with return code 7",
    "CcmSetup failed with error code 0x80190194",
    "ccmsetup FAILED with error code -2147023838",
    "Enabled SSL revocation check.",
    "Client selected the PKI Certificate for authentication",
    "Using the PKI client certificate",
    "PKI certificate is found",
    "selected client certificate from the PKI store",
    "[CCMHTTP] ERROR: URL=https://CMG.CONTOSO.COM/CCM_Proxy_ServerAuth/72057594037928017/CCM_STS, Port=443, Options=63, Code=12175, Text=ERROR_WINHTTP_SECURE_FAILURE",
    "[CCMHTTP] ERROR: URL=https://CMG.CONTOSO.COM/x , Port=443, Options=63, >Code=12045, Text=ERROR_WINHTTP_SECURE_INVALID_CA",
    "[CCMHTTP] ERROR INFO: StatusCode= 403 StatusText= CMGConnector_Clientcertificaterequired",
    "[CCMHTTP] : WINHTTP_CALLBACK_STATUS_FLAG_INVALID_CA is set",
    "[CCMHTTP] : WINHTTP_CALLBACK_STATUS_FLAG_CERT_REV_FAILED is set",
    "Failed to verify certificate chain. Error: 800B0109",
    "CertVerifyCertificateChainPolicy returned 0x80092013",
    "Chain error Error800b010f here",
    "Error:  80072F06 (two spaces, no literal)",
    "Error:\t800b010e [CCMHTTP] ERROR INFO: StatusCode= 500 StatusText= x",
    "Error:  800b0112 Code= while Error 800 something",
    "Failed to refresh Site Signing Certificate over HTTP with error 0x87d00231",
    "LSUpdateInternetManagementPoints: Failed to retrieve internet MPs from MP https://mp01 with error 0x80072efd",
    "Sending remote sync message '{bd03deed-d09a-4e63-adad-000000000001}' to host 'CMG.CLOUDAPP.NET/CCM_Proxy_MutualAuth/72186325152220500' endpoint 'MP_PolicyManager'",
    "Message '{BD03DEED-D09A-4E63-ADAD-000000000001}' got reply message '{bd03deed-d09a-4e63-adad-000000000002}'",
    "[RegTask] - Starting registration, attempt 1.",
    "[RegTask] - Client is not registered. Sending registration request for GUID:c66ee0fd-08E7-4B38-B282-7E6954B71139 ...",
    "Registering client using AAD auth.",
    "[RegTask] - Client is registered. Server assigned ClientID is GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139. Approval status 3",
    "[RegTask] - Client registration is pending. Server assigned ClientID is GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139",
    "[RegTask] - Server rejected registration 3",
    "SetRegistrationState failed (0x80071770)",
    "[RegTask] - Client registration failed with error 0x80004005",
    "[regtask] - something Register has been rejected, code 0x87D00231",
    "ProcessRequest - Start",
    "Incoming request URL: https://MP01.FLEET.CORP/CCM_STS",
    "Validated AAD token. TokenType: UDA TenantId: 2CA9A796-a1a6-43ec-88f1-5935b32155c5 UserId: e8838041-db7a-42d5-b9ae-78813910e4cc DeviceId: 8d2b4ff9-0172-4998-9851-b5324303385f OnPrem_UserSid: S-1-5-21-1527250992-855612568-2252598708-1604 OnPrem_DeviceSid:",
    "Validated AAD token. TokenType: Device TenantId: 2ca9a796-a1a6-43ec-88f1-5935b32155c5 UserId: 00000000-0000-0000-0000-000000000000 DeviceId: 1db9e090-f2a3-54f4-419b-f35f5d9944d9 OnPrem_UserSid:  OnPrem_DeviceSid:",
    "Validated AAD token. TenantId: a UserId: b DeviceId: c",
    "Validated AAD token. TenantId: a UserId: b DeviceId: c OnPrem_DeviceSid: S-1-5-21-1-2-3-4",
    "Validated AAD token. TenantId: a UserId: b DeviceId: c OnPrem_UserSid: s-1-5-21-9 OnPrem_DeviceSid:   S-1-5-21-1-2-3-4",
    "Validated AAD token. TokenType: X  TenantId: a UserId: b DeviceId: c",
    "Validated AAD token. TokenType: X TenantId: a UserId: b DeviceId: c OnPrem_Other: y",
    "Validated AAD token. broken, then Validated AAD token. TenantId: a UserId: b DeviceId: c",
    "Created SCCM token, token type: Device, hierarchyId: 8ed3174b-e814-41b5-b51c-fb368f0d4003, userId: 23bbbba2-702e-4db4-8fd9-3b4fe3a5175d, deviceId: GUID:F91BB227-2C92-DAA0-37E2-3E5AD9A8930D",
    "Return token to client, token type: UDA, hierarchyId: 8ED3174B-e814-41b5-b51c-fb368f0d4003, userId: x, deviceId:  GUID:F91BB227-2C92-DAA0-37E2-3E5AD9A8930D",
    "created sccm token, token type: Device, Created SCCM token, token type: Device, hierarchyId: h, userId: u, deviceId: d",
    "Return token to client",
    "TokenType is Device",
    "Issued token",
    "Return code: 401, Description: PreAuth token validation failed, System.IdentityModel.Tokens.SecurityTokenExpiredException: IDX10223: Lifetime validation failed. The token is expired.",
    "ProcessRequest - Exception: System.Exception: MISE12034: token rejected",
    "MISE12034 - no IDX here",
    "RequestUri: /CCM_PROXY_SERVERAUTH/72186325152220500/CCM_STS  RequestCount: 152  RequestSize: 1081595 Bytes  ResponseCount: 769  ResponseSize: 36143 Bytes  AverageElapsedTime: 480 ms\n",
    "RequestUri: /CCM_PROXY_MUTUALAUTH/72186325152220500/SMS_MP/.sms_aut?MPLIST  RequestCount: 3",
    "Switched to internal URL. Replaced 'https://FLEETCMG.CLOUDAPP.NET/CCM_Proxy_MutualAuth/72186325152220500/CCM_STS' in   'https://FLEETCMG.CLOUDAPP.NET/CCM_Proxy_MutualAuth/72186325152220500/CCM_STS' with 'https://MP01.FLEET.CORP/CCM_STS' and got 'https:///MP01.FLEET.CORP/CCM_STS\n",
    "MessageID: abc4cd18-1617-a750-4a0a-bd9113d8ff42 RequestURI: https://MP01.FLEET.CORP/CCM_STS EndpointName: CCM_STS ResponseHeader: HTTP/1.1 200 OK \n ResponseBodySize: 0 ElapsedTime: 88 ms\n",
    "MessageID: 1 RequestURI: https://MP/SMS_MP/.sms_aut?SITESIGNCERT EndpointName: MP ResponseHeader: HTTP/1.1 403 CMGConnector_Clientcertificaterequired\n ElapsedTime: 5 ms",
    "MessageID: 2 ElapsedTime: 7 ms",
    "Web exception for message 3087bd34-b82c-4950-b972-e82bb0fb8385: The remote server returned an error: (403) Forbidden.",
    "Chain 1 status: OfflineRevocation",
    "Chain 2 status: UntrustedRoot",
    "Filtered cert count with client auth: 0",
    "Filtered cert count with client auth: 1",
    "Registering device using AAD auth: DeviceId='8d2b4ff9-0172-4998-9851-b5324303385f ', TenantId='c8c82542-203c-4df9-9d86-cdd4dae67e0a'",
    "Registering device using AAD auth: DeviceId='  ', TenantId=' \t x \u{a0}'",
    "Processing Registration request from Client 'GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139'",
    "Registration request failed 0x80004005",
    "Failed to process registration for client, regist code 0x87D00231",
    "MP_ClientIDManager: policy request processed for client",
    "Received response for message bac4b4ab-3526-7c20-2fe0-2c5ff91b75db with status 200\n",
    "Connection 4 to CMG is healthy. Outstanding requests: 0",
    "Created connection on port 443",
    "Appending CCM Token to the header.",
    "Something odd happened 0x87D00231",
    "",
    "x",
];

/// Variants of a line: case, Unicode case-fold twins of `s`/`k`, non-ASCII text (the Unicode
/// regexes), a line longer than the packed buffer (the automaton).
fn variants(line: &str) -> Vec<String> {
    vec![
        line.to_string(),
        line.to_ascii_uppercase(),
        line.to_ascii_lowercase(),
        line.replace('s', "\u{17f}").replace('k', "\u{212a}"),
        line.replace('S', "\u{17f}").replace('K', "\u{212a}"),
        format!("é {line} ü"),
        line.replace(' ', "\u{a0}"),
        format!("{}{line}{}", "x".repeat(PACKED_MAX_LEN), "y ".repeat(20)),
        format!("{line} {line}"),
    ]
}

/// `may_match` is never false where `extract` gives an event: on every sample (and its variants,
/// two-line joins included) as every log kind and severity, with the message written the ways files
/// write it (`\r\n` or `~~` for its line breaks, trailing blanks).
#[test]
fn may_match_holds_wherever_extract_finds_an_event() {
    let x = Extractors::new();
    let kinds = LogKind::ALL;
    let mut lines: Vec<String> = SAMPLES.iter().flat_map(|a| variants(a)).collect();
    lines.extend(SAMPLES.windows(2).map(|w| format!("{}\n{}", w[0], w[1])));
    lines.extend(PATTERNS.iter().flat_map(|p| p.samples).flat_map(|a| variants(a)));
    let mut events = 0;
    for line in &lines {
        for kind in kinds {
            for severity in [Severity::Info, Severity::Warning, Severity::Error] {
                let mut out = Vec::new();
                x.extract(kind, &entry(line, severity), &mut out);
                // The scan handed over (the very text: reused; another text: ignored) changes nothing.
                let crlf = line.replace('\n', "\r\n");
                for scanned in [line.as_str(), crlf.as_str()] {
                    let mut reused = Vec::new();
                    let pre = x.prefilter(kind, scanned);
                    x.extract_prefiltered(kind, &entry(line, severity), Some(&pre), None, &mut reused);
                    assert_eq!(reused, out, "{kind:?} {severity:?}: {line}");
                }
                if out.is_empty() {
                    continue;
                }
                events += 1;
                for raw in [line.replace('\n', "\r\n"), line.replace('\n', "~~"), format!("{line}  \r")] {
                    assert!(x.may_match(kind, &raw), "{kind:?} {severity:?}: {raw}");
                }
            }
        }
    }
    assert!(events > 100, "{events}");
    // And it is a filter: lines that matter to nobody do not pass.
    assert!(!x.may_match(CcmSts, "Issued token"));
    assert!(!x.may_match(Other, "Raising pending event: error 0x80070005"));
    assert!(x.may_match(CcmSts, "Something failed: 0x80070005"));
}

#[test]
fn fast_path_matches_the_reference_for_every_pattern() {
    let x = Extractors::new();
    let r = Reference::new();
    let mut covered = vec![false; PATTERNS.len()];
    for (i, a) in SAMPLES.iter().enumerate() {
        for v in variants(a) {
            for p in same_as_reference(&x, &r, &v) {
                covered[p] = true;
            }
        }
        // Lines with several literals: every pair, joined both ways.
        for b in &SAMPLES[i + 1..] {
            same_as_reference(&x, &r, &format!("{a} {b}"));
            same_as_reference(&x, &r, &format!("{b}\n{a}"));
        }
    }
    for a in PATTERNS.iter().flat_map(|p| p.samples) {
        for v in variants(a) {
            same_as_reference(&x, &r, &v);
        }
    }
    let missing: Vec<&str> =
        (0..PATTERNS.len()).filter(|&i| !covered[i]).map(|i| PATTERNS[i].regex).collect();
    assert!(missing.is_empty(), "patterns no sample line matches: {missing:#?}");
}

/// The direct matchers against the ASCII regex anchored at the same place: the same groups.
fn direct_same_as_regex(line: &str) {
    if !line.is_ascii() {
        return;
    }
    type One = (direct::Direct, meta::Regex, Vec<String>);
    static DIRECT: std::sync::OnceLock<Vec<One>> = std::sync::OnceLock::new();
    let all = DIRECT.get_or_init(|| {
        PATTERNS
            .iter()
            .filter_map(|p| {
                let ascii = meta::Builder::new()
                    .syntax(regex_automata::util::syntax::Config::new().unicode(false).utf8(false))
                    .build(p.regex)
                    .unwrap();
                let leads = leading_literals(p.regex)
                    .iter()
                    .map(|l| String::from_utf8_lossy(l).to_ascii_lowercase())
                    .collect();
                Some((direct::Direct::new(p.regex)?, ascii, leads))
            })
            .collect()
    });
    let low = line.to_ascii_lowercase();
    for (d, re, leads) in all {
        let n = re.group_info().slot_len();
        let (mut a, mut b) = ([None; MAX_SLOTS], [None; MAX_SLOTS]);
        // At the start, and wherever a leading literal starts (where the anchored searches run).
        let starts =
            (0..=line.len()).filter(|&i| i == 0 || leads.iter().any(|l| low[i..].starts_with(l.as_str())));
        for at in starts {
            let fast = d.match_at(line.as_bytes(), at, &mut a[..n]);
            let slow =
                re.search_slots(&Input::new(line).range(at..).anchored(Anchored::Yes), &mut b[..n]).is_some();
            assert_eq!(fast, slow, "{line:?} at {at}");
            if fast {
                assert_eq!(a[..n], b[..n], "{line:?} at {at}");
            }
        }
    }
}

#[test]
fn direct_matchers_capture_as_the_regex() {
    assert!(PATTERNS.iter().filter(|p| direct::Direct::new(p.regex).is_some()).count() >= 40);
    for (i, a) in SAMPLES.iter().enumerate() {
        for v in variants(a) {
            direct_same_as_regex(&v);
        }
        for b in &SAMPLES[i + 1..] {
            direct_same_as_regex(&format!("{a} {b}"));
        }
    }
}

/// Real logs against the reference: `CMTRACE_EXTRACT_CORPUS=<folder> cargo test -p cmtrace-parsers
/// --release corpus -- --ignored` (the first `CMTRACE_EXTRACT_LIMIT` entries of each file, 20,000 unless set).
#[test]
#[ignore = "needs a folder of real logs: CMTRACE_EXTRACT_CORPUS=<folder>, in release mode"]
fn corpus_matches_the_reference() {
    let root = std::env::var_os("CMTRACE_EXTRACT_CORPUS")
        .expect("CMTRACE_EXTRACT_CORPUS names the folder of logs to compare on");
    let limit: usize =
        std::env::var("CMTRACE_EXTRACT_LIMIT").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let (x, r) = (Extractors::new(), Reference::new());
    let (mut entries, mut events) = (0usize, 0usize);
    for src in crate::input::discover(&[root.into()], &[], Default::default()).files {
        let Ok(file) = crate::input::load(&src) else { continue };
        for rec in crate::format::Records::new(file.text(), file.format, 1).take(limit) {
            if let crate::entry::Record::Entry(e) = rec {
                let (mut fast, mut slow) = (Vec::new(), Vec::new());
                x.extract(file.kind, &e, &mut fast);
                r.extract(file.kind, &e, &mut slow);
                assert_eq!(fast, slow, "{}:{} {:?}", src.path, e.line, e.message);
                entries += 1;
                events += fast.len();
            }
        }
    }
    eprintln!("{entries} entries, {events} events: the same");
}

#[test]
fn rewritten_regexes_match_their_originals() {
    for (new, old) in REWRITTEN {
        assert!(PATTERNS.iter().any(|p| p.regex == *new), "{new}");
        let (new, old) = (Regex::new(new).unwrap(), Regex::new(old).unwrap());
        for a in SAMPLES {
            for v in variants(a) {
                assert_eq!(new.find(&v).map(|m| m.range()), old.find(&v).map(|m| m.range()), "{v:?}");
            }
        }
    }
}

#[test]
fn needles_hold_for_unicode_case_folding() {
    for p in PATTERNS.iter() {
        let src = p.regex.to_ascii_lowercase();
        for n in p.candidate_needles() {
            assert!(n.is_ascii(), "{n:?}");
            if p.regex.starts_with("(?i)") {
                // `(?i)s` also matches `ſ` and `(?i)k` the Kelvin sign, which an ASCII scan misses.
                assert!(!n.contains(['s', 'S', 'k', 'K']), "{n:?} in {}", p.regex);
                assert!(src.contains(&n.to_ascii_lowercase()), "{n:?} not in {}", p.regex);
            } else {
                assert!(p.regex.replace('\\', "").contains(n), "{n:?} not in {}", p.regex);
            }
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(400))]
    /// Random lines made of the patterns' own literals and pieces of real lines.
    #[test]
    fn fast_path_matches_the_reference_on_fragments(parts in proptest::collection::vec((0usize..10_000, 0usize..10), 1..6)) {
        static BOTH: std::sync::OnceLock<(Extractors, Reference)> = std::sync::OnceLock::new();
        let (x, r) = BOTH.get_or_init(|| (Extractors::new(), Reference::new()));
        let lits: Vec<&str> = PATTERNS.iter().flat_map(|p| p.literals.iter().chain(p.needles.iter()).copied()).collect();
        let glue = [" ", "", "\n", "'", ": ", " 0x80092013 ", " GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139 ", "ſK", "12 ms ", "  "];
        let mut line = String::new();
        for (pick, g) in parts {
            let piece = if pick % 2 == 0 {
                lits[pick / 2 % lits.len()].to_string()
            } else {
                let s = SAMPLES[pick / 2 % SAMPLES.len()];
                let cut = (pick / 7) % (s.len() + 1);
                let cut = (0..=cut).rev().find(|&c| s.is_char_boundary(c)).unwrap_or(0);
                if pick % 4 == 1 { s[..cut].to_string() } else { s[cut..].to_string() }
            };
            line.push_str(&piece);
            line.push_str(glue[g]);
        }
        same_as_reference(x, r, &line);
        direct_same_as_regex(&line);
    }
}

/// The failure words the client kinds' scans look for are the words of the regex the reference uses.
#[test]
fn failure_word_list_is_the_failure_word_regex() {
    assert_eq!(FAILURE_WORDS, format!("(?i){}", FAILURE_WORD_LIST.join("|")));
}

/// `may_match` as it was before the scan looked for `0x` and the failure words itself: the gate, then the
/// code's regex and the failure words' regex on the whole message. The scan must agree on every message,
/// every kind: failure words and codes in any case, inside other words, beside and inside the patterns'
/// own literals, past the packed scan's length, with characters that fold to ASCII letters under Unicode.
#[test]
fn may_match_agrees_with_the_regexes_it_replaced() {
    let x = Extractors::new();
    let code = Regex::new(r"(?i)\b0x(8[0-9a-f]{7}|c[0-9a-f]{7}|d[0-9a-f]{7})\b").unwrap();
    let word = Regex::new(FAILURE_WORDS).unwrap();
    let mut lines: Vec<String> = Vec::new();
    let extras = [
        "Failed",
        "FAILURE",
        "errors",
        "Unable",
        "CanNot",
        "can't",
        "could not",
        "Couldn't",
        "access denied",
        "EXCEPTION",
        "Timed Out",
        "timed  out",
        "could\nnot",
        "fai",
        "0x80070005",
        "0X8007000E",
        "0xC0000005",
        "0xd0000001",
        "0x8007000",
        "0x800700051",
        "x0x80070005",
        "0x",
        "ſail",
        "\u{212a}",
    ];
    for base in SAMPLES.iter().copied().chain(["", "Issued token", "ProcessRequest - Start"]) {
        for extra in extras {
            lines.push(format!("{base} {extra}"));
            lines.push(format!("{extra}{base}"));
            lines.push(format!("{}{base} {extra}", "x".repeat(PACKED_MAX_LEN)));
        }
    }
    let mut passed = 0;
    for line in &lines {
        for kind in LogKind::ALL {
            let hits = x.by_kind[kind as usize].prefilter.scan(line);
            let before = hits.patterns_may_match()
                || (kind != LogKind::Other && code.is_match(line))
                || (client_kind(kind) && word.is_match(line));
            assert_eq!(x.may_match(kind, line), before, "{kind:?}: {line:?}");
            passed += usize::from(before);
        }
    }
    assert!(passed > lines.len(), "{passed}");
}
