//! The phase decisions, pinned down value by value: each test holds one behaviour a support engineer
//! reads in a device's phases (status, evidence lines, start and end times, reason), on real log texts
//! read by the parsers' extractors (`Kit::said`) where the text matters. Written against the survivors
//! of a mutation run over this module (`cargo mutants --file analysis/src/phases.rs`).

use super::*;

use chrono::{DateTime, Utc};
use cmtrace_parsers::{EventKind, LogKind, Severity};

use crate::engine::analyze;
use crate::facts::{Analysis, DeviceFacts};
use crate::index::{DeviceIx, EventIx};
use crate::model::{format_utc, Phase, PhaseId, PhaseStatus};
use crate::testkit::{self, healthy, install, Dev, Kit, HOUR, MIN, SEC};

const C: LogKind = LogKind::Ccmsetup;
const CIMS: LogKind = LogKind::ClientIdManagerStartup;
const MSG: LogKind = LogKind::CcmMessaging;
const MPREG: LogKind = LogKind::MpRegistrationManager;

const AAD_INFO: &str = "Getting AAD info from CMG 'CMG.CLOUDAPP.NET'";
const AAD_DEVICE_TOKEN: &str =
    "Getting AAD (device) token with: ClientId = 0b7c8ab3-9ea1-4ffa-b2b9-8ffdd944bd8b, \
ResourceUrl = https://ConfigMgrService, AccountId = https://login.microsoftonline.com/common/oauth2/token";
const CCMSETUP_STARTED: &str = "==========[ ccmsetup started in process 3324 ]==========";
const CCM_TOKEN_REQUEST: &str =
    "Getting CCM Token from STS server 'cmg.cloudapp.net/CCM_PROXY_MutualAuth/72186325152220500'";
const CCM_TOKEN_CACHED: &str = "Cached encrypted token for 'S-1-5-18'. Will expire at '06/25/2020 08:29:35'";
const STS_SECURE_FAILURE: &str = "[CCMHTTP] ERROR: URL=https://CMG.CLOUDAPP.NET/CCM_Proxy_MutualAuth/\
72186325152220500/CCM_STS, Port=443, Options=63, Code=12175, Text=ERROR_WINHTTP_SECURE_FAILURE";
const DP_LOCATIONS_FAILED: &str =
    "Failed to get DP locations as the expected version from MP 'http://MP01'. Error 0x87d00215";
const BITS_FAILED: &str = "Failed to download client files by BITS. Error 0x80190194";
const EXIT_BITS: &str = "CcmSetup failed with error code 0x80190194";
const EXIT_SECURE_FAILURE: &str = "CcmSetup failed with error code 0x80072f8f";
const EXIT_0: &str = "CcmSetup is exiting with return code 0";
const RETRY: &str = "Next retry in 10 minute(s)...";
const INSTALLING: &str = "Installing version 5.00.8968.1000 of the client with product code \
{66653948-0717-4D50-B0B9-ED66FDED2DDB}";
/// Healthy machines log it (real ccmsetup.log:38, type 3): WMI's `root\ccm` does not exist yet.
const WMI_NOISE: &str = "Failed to connect to policy namespace. Error 0x8004100e";
const STARTUP: &str = "SCCM Client Version: 5.00.8968.1000";
const OLD_STARTUP: &str = "SCCM Client Version: 5.00.7804.1000";

fn run(kit: &Kit) -> Analysis {
    let (inputs, events) = kit.build();
    analyze(inputs, events)
}

/// Like `run`, with the first and last entry times (true ms) of some (host, log kind) inputs.
fn run_with_spans(kit: &Kit, spans: &[(&str, LogKind, i64, i64)]) -> Analysis {
    let (mut inputs, events) = kit.build();
    for &(host, kind, first, last) in spans {
        let input = inputs
            .iter_mut()
            .find(|i| i.host == host && i.log_kind == kind)
            .unwrap_or_else(|| panic!("no input {host} {kind:?}"));
        input.first_time = Some(testkit::at(first));
        input.last_time = Some(testkit::at(last));
    }
    analyze(inputs, events)
}

fn only(a: &Analysis) -> &DeviceFacts {
    assert_eq!(a.devices.len(), 1, "{:?}", a.devices.iter().map(|d| &d.key).collect::<Vec<_>>());
    a.devices.iter().next().expect("one device")
}

fn ph(d: &DeviceFacts, id: PhaseId) -> &Phase {
    d.phase(id).expect("every phase is listed")
}

/// The evidence lines' texts.
fn texts(p: &Phase) -> Vec<String> {
    p.evidence.iter().map(|e| e.text.get().to_string()).collect()
}

/// True ms from the kit's base time.
fn ms(t: Option<DateTime<Utc>>) -> Option<i64> {
    t.map(|t| t.timestamp_millis() - testkit::at(0).timestamp_millis())
}

/// `Kit::at(ms)` as reasons write it.
fn when(ms: i64) -> String {
    format_utc(&testkit::at(ms))
}

fn said_on(kit: &mut Kit, kind: LogKind, t: i64, severity: Severity, text: &str) {
    kit.said("CLIENT01", kind, t, severity, text);
}

/// An event standing alone, with `text` as its line.
fn event(kind: EventKind, text: &str) -> cmtrace_parsers::Event {
    let mut e = testkit::event_at_line(1);
    e.kind = kind;
    e.log_kind = C;
    e.evidence.set_text(text.into());
    e
}

// ---- Pure helpers ------------------------------------------------------------------------------------

#[test]
fn notes_name_each_step_by_what_it_is() {
    assert_eq!(phase_what(PhaseId::InstallContent), "client content location");
    assert_eq!(phase_what(PhaseId::RenewalCcmToken), "CCM token renewal");
}

#[test]
fn noise_another_ccmsetup_and_a_pending_reboot_fail_no_step() {
    let logged = |text: &str| event(EventKind::ErrorLogged { code: None }, text);
    assert!(says_no_step_failed(&logged(WMI_NOISE)));
    assert!(says_no_step_failed(&logged("Another instance of ccmsetup is already running")));
    assert!(says_no_step_failed(&logged("A reboot is pending. CcmSetup will continue after the reboot")));
    assert!(!says_no_step_failed(&logged("CcmSetup failed with error code 0x80070643")));
    assert!(!says_no_step_failed(&logged(BITS_FAILED)));
}

#[test]
fn only_exits_other_than_0_7_and_8_fail_a_step() {
    let exit = |code: i64| event(EventKind::CcmsetupExit { code }, "exit");
    assert!(nonzero_exit(&exit(1)));
    assert!(nonzero_exit(&exit(0x80190194)));
    for code in [0, 7, 8] {
        assert!(!nonzero_exit(&exit(code)), "{code}");
    }
    assert!(!nonzero_exit(&event(EventKind::ErrorLogged { code: Some("0x1".into()) }, "Error 0x1")));
}

#[test]
fn a_quote_of_exactly_160_characters_stays_whole() {
    let head =
        "[CCMHTTP] ERROR: URL=https://CMG.CLOUDAPP.NET/CCM_Proxy_ServerAuth/AADAuthInfo?TenantID=x, Text=";
    let line = format!("{head}{}", "y".repeat(160 - head.chars().count()));
    assert_eq!(line.chars().count(), 160);
    assert_eq!(short(&line), line, "neither cut nor stripped of its query");
    let longer = format!("{}z", "x".repeat(160));
    assert_eq!(short(&longer), format!("{}...", "x".repeat(157)));
}

#[test]
fn a_url_right_after_an_opening_quote_loses_its_query() {
    assert_eq!(without_url_queries("'http://a/b?c=d'"), "'http://a/b?…'");
    assert_eq!(without_url_queries("=https://a/b?c=d rest"), "=https://a/b?… rest");
}

#[test]
fn missing_reasons_say_which_log_shows_no_line_of_the_step() {
    assert_eq!(
        missing_reason(PhaseId::RegistrationCcmToken, "CLIENT01", false),
        "ClientIDManagerStartup.log on CLIENT01 never shows the client registered, so no CCM token followed"
    );
    assert_eq!(
        missing_reason(PhaseId::RegistrationCcmToken, "CLIENT01", true),
        "ClientIDManagerStartup.log on CLIENT01 shows the client registered and no CCM token request after it"
    );
    assert_eq!(
        missing_reason(PhaseId::RenewalCcmToken, "CLIENT01", false),
        "CcmMessaging.log on CLIENT01 shows no expiring CCM token to renew"
    );
    assert_eq!(
        missing_reason(PhaseId::RegistrationMp, "MP01, MP02", false),
        "MP_RegistrationManager.log on MP01, MP02 shows no registration of this device"
    );
    assert_eq!(
        missing_reason(PhaseId::InstallContent, "CLIENT01", false),
        "ccmsetup.log on CLIENT01 shows no client content location"
    );
}

#[test]
fn reason_times_are_utc_with_milliseconds() {
    assert_eq!(at(1_593_010_800_123), "2020-06-24T15:00:00.123Z");
    assert_eq!(at(0), "1970-01-01T00:00:00.000Z");
}

fn ix(i: usize) -> EventIx {
    EventIx::from(i)
}

#[test]
fn an_ok_step_cites_the_start_of_its_attempt_and_the_success() {
    let m = [(ix(7), Mark::Start), (ix(9), Mark::Success)];
    assert_eq!(decide(PhaseId::InstallClient, &m), (PhaseStatus::Ok, vec![ix(7), ix(9)], vec![]));
    // A failure then a later start and success: the start of the succeeding attempt.
    let m = [(ix(1), Mark::Start), (ix(2), Mark::Failure), (ix(3), Mark::Start), (ix(4), Mark::Success)];
    assert_eq!(decide(PhaseId::InstallCcmToken, &m), (PhaseStatus::Ok, vec![ix(3), ix(4)], vec![]));
}

#[test]
fn a_failure_after_a_success_cites_only_the_failed_attempt() {
    let m = [
        (ix(0), Mark::Start),
        (ix(1), Mark::Success),
        (ix(2), Mark::Start),
        (ix(3), Mark::Failure),
        (ix(4), Mark::Failure),
    ];
    assert_eq!(
        decide(PhaseId::InstallCcmToken, &m),
        (PhaseStatus::Failed, vec![ix(2), ix(3), ix(4)], vec![ix(3), ix(4)])
    );
}

#[test]
fn failures_before_the_last_success_are_not_the_failed_attempts() {
    let m = [
        (ix(0), Mark::Start),
        (ix(1), Mark::Failure),
        (ix(2), Mark::Success),
        (ix(3), Mark::Start),
        (ix(4), Mark::Failure),
    ];
    assert_eq!(decide(PhaseId::InstallCcmToken, &m), (PhaseStatus::Failed, vec![ix(3), ix(4)], vec![ix(4)]));
    // A success first, then a failure with no start of its own.
    let m = [(ix(5), Mark::Success), (ix(6), Mark::Failure)];
    assert_eq!(decide(PhaseId::InstallCcmToken, &m), (PhaseStatus::Failed, vec![ix(6)], vec![ix(6)]));
}

// ---- Install (ccmsetup.log) ----------------------------------------------------------------------------

#[test]
fn healthy_install_phases_cite_their_own_lines_and_times() {
    let d = Dev::new("CLIENT01", 1);
    let mut kit = Kit::new();
    healthy(&mut kit, &d, 0);
    let a = run(&kit);
    let dev = only(&a);
    let span =
        |id| (ph(dev, id).status, ms(ph(dev, id).start), ms(ph(dev, id).end), ph(dev, id).evidence.len());
    // The app info request, answered by the token request that follows it.
    assert_eq!(span(PhaseId::InstallAadInfo), (PhaseStatus::Ok, Some(0), Some(SEC), 2));
    assert_eq!(span(PhaseId::InstallCcmToken), (PhaseStatus::Ok, Some(3 * SEC), Some(4 * SEC), 2));
    // The location line alone: the installer starting later does not move the lookup's end.
    assert_eq!(span(PhaseId::InstallContent), (PhaseStatus::Ok, Some(5 * SEC), Some(5 * SEC), 1));
    assert!(texts(ph(dev, PhaseId::InstallContent))[0].starts_with("content_location"));
    // From the installer's start to the exit.
    assert_eq!(span(PhaseId::InstallClient), (PhaseStatus::Ok, Some(10 * SEC), Some(2 * MIN), 2));
    let client = texts(ph(dev, PhaseId::InstallClient));
    assert!(client[0].starts_with("client_install_started") && client[1].starts_with("ccmsetup_exit"));
    // The registration's token: its request after the client registered, then the cache.
    let t = 5 * MIN + 4 * SEC;
    assert_eq!(span(PhaseId::RegistrationCcmToken), (PhaseStatus::Ok, Some(t), Some(t + SEC), 2));
}

#[test]
fn an_aad_info_request_ended_by_a_failed_exit_stays_failed() {
    // The run exits with an error after asking for the app info; a later run's token request is no answer.
    let mut kit = Kit::new();
    said_on(&mut kit, C, 0, Severity::Info, AAD_INFO);
    said_on(&mut kit, C, 2 * SEC, Severity::Error, EXIT_SECURE_FAILURE);
    said_on(&mut kit, C, 5 * MIN, Severity::Info, AAD_DEVICE_TOKEN);
    let a = run(&kit);
    let p = ph(only(&a), PhaseId::InstallAadInfo);
    assert_eq!(p.status, PhaseStatus::Failed, "{:?}", p.reason);
    assert_eq!(texts(p), [AAD_INFO, EXIT_SECURE_FAILURE]);
    assert_eq!((ms(p.start), ms(p.end)), (Some(0), Some(2 * SEC)));
    assert_eq!(
        &*p.reason,
        "Azure AD app info request to the CMG failed in ccmsetup.log on CLIENT01: \
         CcmSetup failed with error code 0x80072f8f"
    );
}

#[test]
fn an_aad_info_request_answered_by_an_http_error_alone_is_failed() {
    let mut kit = Kit::new();
    kit.said_each("CLIENT01", C, 0, &[(Severity::Info, AAD_INFO), (Severity::Error, STS_SECURE_FAILURE)]);
    let a = run(&kit);
    let p = ph(only(&a), PhaseId::InstallAadInfo);
    assert_eq!(p.status, PhaseStatus::Failed, "{:?}", p.reason);
    assert_eq!((ms(p.start), ms(p.end)), (Some(0), Some(SEC)));
    assert_eq!(texts(p), [AAD_INFO, STS_SECURE_FAILURE]);
}

#[test]
fn content_lookup_fails_on_errors_after_the_cached_token_quoting_where_the_error_started() {
    let mut kit = Kit::new();
    kit.said_each(
        "CLIENT01",
        C,
        0,
        &[
            (Severity::Info, CCMSETUP_STARTED),
            (Severity::Info, CCM_TOKEN_REQUEST),
            (Severity::Info, CCM_TOKEN_CACHED),
            (Severity::Error, DP_LOCATIONS_FAILED),
            (Severity::Error, BITS_FAILED),
            (Severity::Error, EXIT_BITS),
        ],
    );
    let a = run(&kit);
    let dev = only(&a);
    assert_eq!(ph(dev, PhaseId::InstallCcmToken).status, PhaseStatus::Ok);
    let p = ph(dev, PhaseId::InstallContent);
    assert_eq!(p.status, PhaseStatus::Failed, "{:?}", p.reason);
    assert_eq!(texts(p), [DP_LOCATIONS_FAILED, BITS_FAILED, EXIT_BITS]);
    assert_eq!((ms(p.start), ms(p.end)), (Some(3 * SEC), Some(5 * SEC)));
    // Not the first failure (another code), not the exit (a consequence): the first naming the exit's code.
    assert_eq!(
        &*p.reason,
        "client content location failed in ccmsetup.log on CLIENT01: \
         Failed to download client files by BITS. Error 0x80190194"
    );
    let client = ph(dev, PhaseId::InstallClient);
    assert_eq!(client.status, PhaseStatus::Failed);
    assert_eq!(
        &*client.reason,
        "ccmsetup exit failed in ccmsetup.log on CLIENT01: CcmSetup failed with error code 0x80190194"
    );
}

#[test]
fn errors_before_the_token_is_cached_are_no_content_failure_on_a_token_path() {
    let mut kit = Kit::new();
    kit.said_each(
        "CLIENT01",
        C,
        0,
        &[
            (Severity::Info, CCMSETUP_STARTED),
            (Severity::Info, CCM_TOKEN_REQUEST),
            (Severity::Error, STS_SECURE_FAILURE),
            (Severity::Error, EXIT_SECURE_FAILURE),
        ],
    );
    let a = run(&kit);
    let dev = only(&a);
    let token = ph(dev, PhaseId::InstallCcmToken);
    assert_eq!(token.status, PhaseStatus::Failed);
    assert_eq!(texts(token)[0], CCM_TOKEN_REQUEST);
    let p = ph(dev, PhaseId::InstallContent);
    assert_eq!(p.status, PhaseStatus::Missing, "{:?}", p.reason);
    assert!(p.evidence.is_empty());
    assert_eq!(&*p.reason, "ccmsetup.log on CLIENT01 shows no client content location");
    assert_eq!((p.start, p.end), (None, None));
}

#[test]
fn on_a_tokenless_path_the_content_lookup_starts_with_the_ccmsetup_run() {
    // A client older than CCM tokens (build 7804) reinstalling: no token line ever comes.
    let mut kit = Kit::new();
    said_on(&mut kit, CIMS, -HOUR, Severity::Info, OLD_STARTUP);
    kit.said_each(
        "CLIENT01",
        C,
        0,
        &[(Severity::Info, CCMSETUP_STARTED), (Severity::Error, BITS_FAILED), (Severity::Error, EXIT_BITS)],
    );
    let a = run(&kit);
    let dev = only(&a);
    assert_eq!(ph(dev, PhaseId::InstallCcmToken).status, PhaseStatus::NotApplicable);
    // A step the path does not take is not applicable, its log collected or not (CcmMessaging.log is not).
    assert_eq!(ph(dev, PhaseId::RenewalCcmToken).status, PhaseStatus::NotApplicable);
    let p = ph(dev, PhaseId::InstallContent);
    assert_eq!(p.status, PhaseStatus::Failed, "{:?}", p.reason);
    assert_eq!(texts(p), [BITS_FAILED, EXIT_BITS]);
}

#[test]
fn the_installer_starting_without_a_location_line_shows_the_content_found() {
    let mut kit = Kit::new();
    kit.said_each(
        "CLIENT01",
        C,
        0,
        &[(Severity::Info, CCM_TOKEN_REQUEST), (Severity::Info, CCM_TOKEN_CACHED)],
    );
    said_on(&mut kit, C, 10 * SEC, Severity::Info, INSTALLING);
    said_on(&mut kit, C, 2 * MIN, Severity::Info, EXIT_0);
    let a = run(&kit);
    let p = ph(only(&a), PhaseId::InstallContent);
    assert_eq!(p.status, PhaseStatus::Ok, "{:?}", p.reason);
    assert_eq!(texts(p), [INSTALLING]);
    assert_eq!((ms(p.start), ms(p.end)), (Some(10 * SEC), Some(10 * SEC)));
}

#[test]
fn the_installer_starting_after_a_failed_lookup_of_a_later_run_finds_the_content_again() {
    let mut kit = Kit::new();
    kit.ev(
        "CLIENT01",
        C,
        0,
        EventKind::ContentLocation { url: "https://CMG.cloudapp.net/ccmsetup.cab".into() },
    );
    // The next run: a new token, a failed download, then the installer starts anyway.
    kit.said_each(
        "CLIENT01",
        C,
        10 * MIN,
        &[
            (Severity::Info, CCM_TOKEN_REQUEST),
            (Severity::Info, CCM_TOKEN_CACHED),
            (Severity::Error, BITS_FAILED),
            (Severity::Info, INSTALLING),
        ],
    );
    let a = run(&kit);
    let p = ph(only(&a), PhaseId::InstallContent);
    assert_eq!(p.status, PhaseStatus::Ok, "{:?}", p.reason);
    assert_eq!(texts(p), [INSTALLING]);
}

#[test]
fn errors_after_a_finished_install_and_registration_leave_their_steps_ok() {
    let d = Dev::new("CLIENT01", 1);
    let mut kit = Kit::new();
    healthy(&mut kit, &d, 0);
    // Unrelated errors once the steps are done: a failed download of a later run, a registration-log error.
    said_on(&mut kit, C, 3 * MIN, Severity::Error, BITS_FAILED);
    said_on(&mut kit, CIMS, 6 * MIN, Severity::Error, "Failed to refresh site code. Error 0x80004005");
    let a = run(&kit);
    let dev = only(&a);
    for id in PhaseId::ALL {
        assert_eq!(ph(dev, id).status, PhaseStatus::Ok, "{id:?}: {:?}", ph(dev, id).reason);
    }
    let client = ph(dev, PhaseId::InstallClient);
    assert_eq!((ms(client.start), ms(client.end)), (Some(10 * SEC), Some(2 * MIN)));
    let confirmed = ph(dev, PhaseId::RegistrationConfirmed);
    assert_eq!((ms(confirmed.start), ms(confirmed.end)), (Some(5 * MIN + 100), Some(5 * MIN + 3 * SEC)));
}

#[test]
fn a_failed_attempt_with_a_retry_scheduled_is_not_final() {
    let mut kit = Kit::new();
    kit.said_each(
        "CLIENT01",
        C,
        0,
        &[
            (Severity::Info, CCM_TOKEN_REQUEST),
            (Severity::Info, CCM_TOKEN_CACHED),
            (Severity::Error, BITS_FAILED),
            (Severity::Error, EXIT_BITS),
            (Severity::Info, RETRY),
        ],
    );
    let a = run(&kit);
    let dev = only(&a);
    let reason = "ccmsetup.log on CLIENT01: ccmsetup scheduled a retry after its last attempt \
                  (Next retry in 10 minute(s)...): not final until ccmsetup exits";
    let content = ph(dev, PhaseId::InstallContent);
    assert_eq!(content.status, PhaseStatus::Missing, "{:?}", content.reason);
    assert_eq!(texts(content), [BITS_FAILED, EXIT_BITS, RETRY]);
    assert_eq!(&*content.reason, reason);
    assert_eq!((ms(content.start), ms(content.end)), (Some(2 * SEC), Some(4 * SEC)));
    let client = ph(dev, PhaseId::InstallClient);
    assert_eq!(client.status, PhaseStatus::Missing, "{:?}", client.reason);
    assert_eq!(texts(client), [EXIT_BITS, RETRY]);
    assert_eq!(&*client.reason, reason);
}

#[test]
fn a_retry_scheduled_before_the_final_successful_exit_is_history() {
    let mut kit = Kit::new();
    kit.said_each(
        "CLIENT01",
        C,
        0,
        &[
            (Severity::Info, CCM_TOKEN_REQUEST),
            (Severity::Info, CCM_TOKEN_CACHED),
            (Severity::Error, BITS_FAILED),
            (Severity::Error, EXIT_BITS),
            (Severity::Info, RETRY),
        ],
    );
    said_on(&mut kit, C, 10 * MIN, Severity::Info, INSTALLING);
    said_on(&mut kit, C, 12 * MIN, Severity::Info, EXIT_0);
    let a = run(&kit);
    let dev = only(&a);
    let client = ph(dev, PhaseId::InstallClient);
    assert_eq!(client.status, PhaseStatus::Ok, "{:?}", client.reason);
    assert_eq!(texts(client), [INSTALLING, EXIT_0]);
    assert_eq!(ph(dev, PhaseId::InstallContent).status, PhaseStatus::Ok);
}

// ---- Registration (ClientIDManagerStartup.log, MP_RegistrationManager.log) -------------------------------

#[test]
fn missing_registration_steps_say_what_no_line_shows() {
    let d = Dev::new("CLIENT01", 1);
    let mut kit = Kit::new();
    install(&mut kit, &d, 0);
    kit.input("MP01", MPREG);
    said_on(&mut kit, CIMS, 5 * MIN, Severity::Info, "[RegTask] - Starting registration, attempt 1.");
    let a = run(&kit);
    let dev = only(&a);
    let request = ph(dev, PhaseId::RegistrationRequest);
    assert_eq!(request.status, PhaseStatus::Missing);
    assert_eq!(texts(request), ["[RegTask] - Starting registration, attempt 1."]);
    assert_eq!((ms(request.start), ms(request.end)), (Some(5 * MIN), Some(5 * MIN)));
    assert_eq!(
        &*request.reason,
        "ClientIDManagerStartup.log on CLIENT01 shows the registration request starting with no result and no error"
    );
    let reason = |id| (ph(dev, id).status, ph(dev, id).evidence.len(), ph(dev, id).reason.to_string());
    assert_eq!(
        reason(PhaseId::RegistrationMp),
        (
            PhaseStatus::Missing,
            0,
            "MP_RegistrationManager.log on MP01 shows no registration of this device".to_string()
        )
    );
    assert_eq!(
        reason(PhaseId::RegistrationConfirmed),
        (
            PhaseStatus::Missing,
            0,
            "ClientIDManagerStartup.log on CLIENT01 shows no registration confirmation".to_string()
        )
    );
    assert_eq!(
        reason(PhaseId::RegistrationCcmToken),
        (
            PhaseStatus::Missing,
            0,
            "ClientIDManagerStartup.log on CLIENT01 never shows the client registered, so no CCM token followed"
                .to_string()
        )
    );
}

#[test]
fn token_lines_before_the_client_registered_are_not_the_registration_token() {
    let mut kit = Kit::new();
    let guid = "GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139";
    said_on(&mut kit, CIMS, 0, Severity::Info, "Getting CCM Token from https://MP.MYCORP.COM/CCM_STS");
    kit.ev("CLIENT01", CIMS, SEC, EventKind::CcmTokenFailed { hresult: Some("0x87d0027e".into()) });
    kit.ev(
        "CLIENT01",
        CIMS,
        2 * SEC,
        EventKind::CcmTokenCached { sid: "S-1-5-18".into(), expires_local: Some(Kit::expiry_local(SEC, 0)) },
    );
    said_on(
        &mut kit,
        CIMS,
        3 * SEC,
        Severity::Info,
        &format!("[RegTask] - Client is registered. Server assigned ClientID is {guid}. Approval status 3"),
    );
    let a = run(&kit);
    let p = ph(only(&a), PhaseId::RegistrationCcmToken);
    assert_eq!(p.status, PhaseStatus::Missing, "{:?}", p.reason);
    assert!(p.evidence.is_empty(), "{:?}", texts(p));
    // The log shows the registration: the reason does not say it never does.
    assert_eq!(
        &*p.reason,
        "ClientIDManagerStartup.log on CLIENT01 shows the client registered and no CCM token request after it"
    );
}

#[test]
fn a_token_failure_after_the_client_registered_fails_the_registration_token() {
    let mut kit = Kit::new();
    let guid = "GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139";
    said_on(
        &mut kit,
        CIMS,
        0,
        Severity::Info,
        &format!("[RegTask] - Client is registered. Server assigned ClientID is {guid}. Approval status 3"),
    );
    said_on(&mut kit, CIMS, SEC, Severity::Info, "Getting CCM Token from https://MP.MYCORP.COM/CCM_STS");
    kit.ev("CLIENT01", CIMS, 2 * SEC, EventKind::CcmTokenFailed { hresult: Some("0x87d0027e".into()) });
    let a = run(&kit);
    let p = ph(only(&a), PhaseId::RegistrationCcmToken);
    assert_eq!(p.status, PhaseStatus::Failed, "{:?}", p.reason);
    assert_eq!(p.evidence.len(), 2);
    assert_eq!((ms(p.start), ms(p.end)), (Some(SEC), Some(2 * SEC)));
}

/// The registration lines of a device on the MP at 2 s (the device's GUID at 2.010 s) and in
/// ClientIDManagerStartup.log from 3 s (the
/// registration request itself not in the log), after an install ten minutes before.
fn registered_without_its_request(kit: &mut Kit, d: &Dev) {
    install(kit, d, -10 * MIN);
    for (t, aad_device, client_guid) in
        [(2 * SEC, Some(d.aad_device.as_str()), None), (2 * SEC + 10, None, Some(d.guid.as_str()))]
    {
        kit.ev_t(
            &d.mp,
            MPREG,
            t,
            d.thread,
            EventKind::MpRegistration {
                aad_device: aad_device.map(Into::into),
                tenant: None,
                client_guid: client_guid.map(Into::into),
            },
        );
    }
    said_on(
        kit,
        CIMS,
        3 * SEC,
        Severity::Info,
        &format!(
            "[RegTask] - Client is registered. Server assigned ClientID is {}. Approval status 3",
            d.guid
        ),
    );
}

#[test]
fn a_step_due_before_its_log_begins_rotated_away() {
    let d = Dev::new("CLIENT01", 1);
    let mut kit = Kit::new();
    registered_without_its_request(&mut kit, &d);
    let a = run_with_spans(&kit, &[("CLIENT01", CIMS, 3 * SEC, 10 * SEC)]);
    let dev = only(&a);
    assert_eq!(ph(dev, PhaseId::RegistrationMp).status, PhaseStatus::Ok);
    let p = ph(dev, PhaseId::RegistrationRequest);
    assert_eq!(p.status, PhaseStatus::NotCollected, "{:?}", p.reason);
    assert_eq!(
        p.reason.to_string(),
        format!(
            "ClientIDManagerStartup.log starts at {}, after 'registration.mp' at {}: the lines of this step \
             rotated away",
            when(3 * SEC),
            when(2 * SEC + 10)
        )
    );
}

#[test]
fn a_log_beginning_exactly_when_a_later_step_started_did_not_lose_the_step() {
    let d = Dev::new("CLIENT01", 1);
    let mut kit = Kit::new();
    registered_without_its_request(&mut kit, &d);
    // Starts with the MP's registration (its last line, which the MP phase cites), ten minutes after the
    // install (an earlier step) finished.
    let a = run_with_spans(&kit, &[("CLIENT01", CIMS, 2 * SEC + 10, 10 * SEC)]);
    let dev = only(&a);
    assert_eq!(ph(dev, PhaseId::InstallClient).status, PhaseStatus::Ok);
    let p = ph(dev, PhaseId::RegistrationRequest);
    assert_eq!(p.status, PhaseStatus::Missing, "{:?}", p.reason);
}

#[test]
fn a_step_a_line_shows_is_never_called_rotated_away() {
    let d = Dev::new("CLIENT01", 1);
    let mut kit = Kit::new();
    registered_without_its_request(&mut kit, &d);
    said_on(&mut kit, CIMS, 4 * SEC, Severity::Info, "[RegTask] - Starting registration, attempt 1.");
    let a = run_with_spans(&kit, &[("CLIENT01", CIMS, 3 * SEC, 10 * SEC)]);
    let p = ph(only(&a), PhaseId::RegistrationRequest);
    assert_eq!(p.status, PhaseStatus::Missing, "{:?}", p.reason);
    assert_eq!(texts(p), ["[RegTask] - Starting registration, attempt 1."]);
    assert_eq!(
        &*p.reason,
        "ClientIDManagerStartup.log on CLIENT01 shows the registration request starting with no result and no error"
    );
}

#[test]
fn a_management_point_log_beginning_after_the_registration_rotated_it_away() {
    let d = Dev::new("CLIENT01", 1);
    let mut kit = Kit::new();
    testkit::register(&mut kit, &d, 0);
    // The registration's MP lines are not there: the MP log begins a minute later.
    let (inputs, events) = kit.build();
    let mut inputs: Vec<_> = inputs.into_iter().filter(|i| i.log_kind != MPREG).collect();
    let events: Vec<_> = events.into_iter().filter(|e| e.log_kind != MPREG).collect();
    let mut kit2 = Kit::new();
    kit2.input("MP01", MPREG);
    let (mp_input, _) = kit2.build();
    inputs.extend(mp_input.into_iter().map(|mut i| {
        i.first_time = Some(testkit::at(MIN));
        i.last_time = Some(testkit::at(2 * MIN));
        i
    }));
    let a = analyze(inputs, events);
    let dev = only(&a);
    let p = ph(dev, PhaseId::RegistrationMp);
    assert_eq!(p.status, PhaseStatus::NotCollected, "{:?}", p.reason);
    assert_eq!(
        p.reason.to_string(),
        format!(
            "MP_RegistrationManager.log starts at {}, after 'registration.confirmed' at {}: the lines of this \
             step rotated away",
            when(MIN),
            when(100)
        )
    );
}

#[test]
fn a_registration_log_beginning_with_the_installed_client_starting_rotated_the_registration_away() {
    let mut kit = Kit::new();
    said_on(&mut kit, CIMS, 0, Severity::Info, STARTUP);
    let a = run(&kit);
    let dev = only(&a);
    let reason = "ClientIDManagerStartup.log begins with the client already installed (line 3: SCCM Client \
                  Version: 5.00.8968.1000) and shows no registration attempt: the client registered before the \
                  log begins, those lines rotated away";
    for id in [PhaseId::RegistrationRequest, PhaseId::RegistrationConfirmed, PhaseId::RegistrationCcmToken] {
        let p = ph(dev, id);
        assert_eq!((p.status, &*p.reason), (PhaseStatus::NotCollected, reason), "{id:?}");
    }
}

// ---- Renewal (CcmMessaging.log) -----------------------------------------------------------------------

#[test]
fn noise_after_an_expiry_notice_is_no_renewal_failure_but_a_real_error_is() {
    let d = Dev::new("CLIENT01", 1);
    let expiring = "CCM Token for 'S-1-5-18' (06/25/2020 08:29:35) is already expired or close to expire";
    for (error, status) in [(WMI_NOISE, PhaseStatus::Missing), (STS_SECURE_FAILURE, PhaseStatus::Failed)] {
        let mut kit = Kit::new();
        healthy(&mut kit, &d, 0);
        kit.said_each("CLIENT01", MSG, 17 * HOUR, &[(Severity::Info, expiring), (Severity::Error, error)]);
        let a = run(&kit);
        let p = ph(only(&a), PhaseId::RenewalCcmToken);
        assert_eq!(p.status, status, "{error}: {:?}", p.reason);
        assert_eq!(ms(p.start), Some(17 * HOUR), "{error}");
        if status == PhaseStatus::Missing {
            assert_eq!(texts(p), [expiring]);
            assert_eq!(
                &*p.reason,
                "CcmMessaging.log on CLIENT01 shows the CCM token renewal starting with no result and no error"
            );
        } else {
            assert_eq!(texts(p), [expiring, error]);
            assert_eq!(ms(p.end), Some(17 * HOUR + SEC));
        }
    }
}

#[test]
fn a_token_cached_with_no_expiry_notice_before_it_is_no_renewal() {
    let d = Dev::new("CLIENT01", 1);
    let mut kit = Kit::new();
    install(&mut kit, &d, 0);
    testkit::register(&mut kit, &d, 5 * MIN);
    testkit::token_round_trip(&mut kit, &d, MSG, HOUR, &d.guid.clone(), testkit::CMG_STS);
    let a = run(&kit);
    let p = ph(only(&a), PhaseId::RenewalCcmToken);
    assert_eq!(p.status, PhaseStatus::Missing, "{:?}", p.reason);
    assert!(p.evidence.is_empty());
    assert_eq!(&*p.reason, "CcmMessaging.log on CLIENT01 shows no expiring CCM token to renew");
}

/// Install and registration with a client 7 hours behind UTC, and CcmMessaging.log ending at `msg_last`.
fn renewal_run(msg_last: i64) -> Analysis {
    let d = Dev::new("CLIENT01", 1);
    let mut kit = Kit::new();
    kit.bias("CLIENT01", 420);
    install(&mut kit, &d, 0);
    testkit::register(&mut kit, &d, 5 * MIN);
    kit.input("CLIENT01", MSG);
    run_with_spans(&kit, &[("CLIENT01", MSG, 0, msg_last)])
}

#[test]
fn no_renewal_was_due_while_the_token_was_still_valid_when_the_log_ends() {
    // The registration's token: cached at 5 min 5 s, issued 600 ms into its round trip at 5 min 4 s,
    // valid 8 hours, written in whole seconds of client local time (UTC = local + 420 min).
    let expiry = 8 * HOUR + 5 * MIN + 4 * SEC;
    let a = renewal_run(2 * HOUR);
    let p = ph(only(&a), PhaseId::RenewalCcmToken);
    assert_eq!(p.status, PhaseStatus::NotCollected, "{:?}", p.reason);
    assert_eq!(
        p.reason.to_string(),
        format!(
            "the CCM token is valid until {} and CcmMessaging.log ends at {}: no renewal was due yet",
            when(expiry),
            when(2 * HOUR)
        )
    );
    // A log ending the very moment the token expires: the renewal was due, and no line shows it.
    let a = renewal_run(expiry);
    let p = ph(only(&a), PhaseId::RenewalCcmToken);
    assert_eq!(p.status, PhaseStatus::Missing, "{:?}", p.reason);
}

#[test]
fn after_a_failed_step_a_renewal_no_line_shows_stays_missing() {
    let d = Dev::new("CLIENT01", 1);
    let mut kit = Kit::new();
    install(&mut kit, &d, 0);
    testkit::register(&mut kit, &d, 5 * MIN);
    kit.said_each(
        "CLIENT01",
        C,
        20 * MIN,
        &[(Severity::Info, AAD_INFO), (Severity::Error, EXIT_SECURE_FAILURE)],
    );
    kit.input("CLIENT01", MSG);
    let a = run_with_spans(&kit, &[("CLIENT01", MSG, 0, 2 * HOUR)]);
    let dev = only(&a);
    assert_eq!(ph(dev, PhaseId::InstallAadInfo).status, PhaseStatus::Failed);
    let p = ph(dev, PhaseId::RenewalCcmToken);
    assert_eq!(p.status, PhaseStatus::Missing, "{:?}", p.reason);
}

#[test]
fn devices_with_the_same_plain_phases_share_one_list() {
    // Two devices seen only in the MP's token service log (their phases: a status and a reason each, no
    // time, no evidence) and a client whose own lines give its phases times and evidence.
    let mut kit = Kit::new();
    for n in [7, 8] {
        let d = Dev::new(&format!("PC-{n}"), n);
        testkit::sts_block(&mut kit, &d, i64::from(n) * SEC, &d.guid);
    }
    healthy(&mut kit, &Dev::new("CLIENT01", 1), 10 * MIN);
    let a = run(&kit);
    let server_only: Vec<&DeviceFacts> =
        a.devices.iter().filter(|d| d.client_hosts().is_empty() && d.hosts().len() == 1).collect();
    assert_eq!(server_only.len(), 2, "{:#?}", a.devices);
    assert!(server_only[0].phases.shares_list_with(&server_only[1].phases), "{:#?}", server_only[0].phases);
    assert!(server_only[0].phases.iter().all(|p| p.evidence.is_empty() && p.start.is_none()));
    assert!(server_only.iter().all(|d| d.phases.own().is_empty()));
    let client = a.devices.iter().find(|d| !d.client_hosts().is_empty()).expect("the client");
    assert!(!client.phases.shares_list_with(&server_only[0].phases));
    assert_eq!(client.phases.len(), 11);
    assert!(client.phases.iter().any(|p| !p.evidence.is_empty()));
}

#[test]
fn devices_registered_by_the_mp_alone_share_the_rest_of_their_list() {
    // Two devices the management point registered (each at its own time, citing its own line) whose client
    // logs were not collected: ten phases in common, the registration their own.
    let mut kit = Kit::new();
    let mut times = Vec::new();
    for n in [7, 8] {
        let d = Dev::new(&format!("PC-{n}"), n);
        let t = i64::from(n) * MIN;
        kit.ev_t(
            &d.mp,
            LogKind::MpRegistrationManager,
            t,
            d.thread,
            EventKind::MpRegistration {
                aad_device: Some(d.aad_device.as_str().into()),
                tenant: Some(testkit::TENANT.into()),
                client_guid: Some(d.guid.as_str().into()),
            },
        );
        times.push(t);
    }
    kit.input("MP01", LogKind::MpRegistrationManager);
    let a = run(&kit);
    assert_eq!(a.devices.len(), 2, "{:#?}", a.devices);
    let [one, two] = [&a.devices[DeviceIx::FIRST], &a.devices[DeviceIx::from(1)]];
    assert!(one.phases.shares_list_with(&two.phases), "{:#?}", one.phases);
    for (d, t) in [one, two].into_iter().zip(times) {
        assert_eq!(d.phases.len(), 11);
        let own: Vec<PhaseId> = d.phases.own().iter().map(|p| p.id).collect();
        assert_eq!(own, [PhaseId::RegistrationMp], "{:#?}", d.phases);
        // Read through the shared list, the device's own phase stands in its place, in flow order.
        let ids: Vec<PhaseId> = d.phases.iter().map(|p| p.id).collect();
        assert_eq!(ids, PhaseId::ALL);
        let mp = ph(d, PhaseId::RegistrationMp);
        assert_eq!(mp.status, PhaseStatus::Ok);
        assert_eq!(mp.start, Some(testkit::at(t)), "{mp:#?}");
        assert_eq!(mp.evidence.len(), 1);
        assert!(d.phases.iter().filter(|p| p.id != PhaseId::RegistrationMp).all(|p| p.evidence.is_empty()));
    }
    // The JSON shows each device's own phase in place.
    let json = serde_json::to_value(&one.phases).unwrap();
    assert_eq!(json.as_array().map(Vec::len), Some(11));
    assert_eq!(json[7]["id"], "registration.mp");
    assert_eq!(json[7]["status"], "ok");
    assert_eq!(json[7]["evidence"].as_array().map(Vec::len), Some(1));
}
