//! Test helpers: hand-made events and inputs that mirror the real flow (Microsoft's Entra ID client
//! install and registration reference), with per-host clock skew and interleaving by time; and real log
//! lines (`Kit::said`) read into their events by the parsers' extractors.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use std::borrow::Cow;
use std::sync::OnceLock;

use cmtrace_parsers::extract::Extractors;
use cmtrace_parsers::{
    AadTokenKind, Entry, Event, EventKind, Evidence, LineFormat, LogKind, OnPremSids, Severity,
};

use crate::model::Input;
use crate::phases::log_file_name;

pub const TENANT: &str = "2ca9a796-a1a6-43ec-88f1-5935b32155c5";
pub const CMG_STS: &str = "https://cmg.cloudapp.net/CCM_PROXY_MutualAuth/72186325152220500/CCM_STS";
pub const MP_STS: &str = "https://MP.MYCORP.COM/CCM_STS";

/// 2020-06-24 15:00:00 UTC plus `ms`.
pub fn at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_593_010_800, 0).expect("valid base") + Duration::milliseconds(ms)
}

pub const SEC: i64 = 1_000;
pub const MIN: i64 = 60_000;
pub const HOUR: i64 = 3_600_000;

struct Spec {
    host: String,
    kind: LogKind,
    /// True UTC time in ms from the base (`None`: the record has no readable time).
    ms: Option<i64>,
    /// Where the line sits in its file (true ms).
    order_ms: i64,
    thread: Option<u32>,
    event: EventKind,
    seq: usize,
    /// The line as written (`None`: `<event name> #<seq>`) and its severity (`None`: from the event).
    said: Option<(String, Severity)>,
    /// Another event of the line before it (a line can carry several): same line number.
    same_line: bool,
}

/// Collects events per host; `build` orders each file by time, numbers lines and applies skew/bias.
#[derive(Default)]
pub struct Kit {
    specs: Vec<Spec>,
    /// (host, skew ms added to its clock).
    skews: Vec<(String, i64)>,
    /// (host, bias minutes).
    biases: Vec<(String, i32)>,
    inputs: Vec<Input>,
}

impl Kit {
    pub fn new() -> Kit {
        Kit::default()
    }

    /// The host's clock runs `ms` ahead of true time.
    pub fn skew(&mut self, host: &str, ms: i64) -> &mut Self {
        self.skews.push((host.to_string(), ms));
        self
    }

    /// The host's time-zone bias (UTC = local + bias).
    pub fn bias(&mut self, host: &str, minutes: i32) -> &mut Self {
        self.biases.push((host.to_string(), minutes));
        self
    }

    fn skew_of(&self, host: &str) -> i64 {
        self.skews.iter().filter(|(h, _)| h == host).map(|(_, s)| *s).sum()
    }

    fn bias_of(&self, host: &str) -> i32 {
        self.biases.iter().find(|(h, _)| h == host).map(|(_, b)| *b).unwrap_or(0)
    }

    pub fn path(host: &str, kind: LogKind) -> String {
        let file = log_file_name(kind).split(' ').next().unwrap_or("x.log");
        format!("{host}/Logs/{file}")
    }

    /// A readable input for (host, kind).
    pub fn input(&mut self, host: &str, kind: LogKind) -> &mut Self {
        self.input_with_error(host, kind, None)
    }

    pub fn input_with_error(&mut self, host: &str, kind: LogKind, error: Option<&str>) -> &mut Self {
        let mut input =
            Input::new(Kit::path(host, kind), host.to_string(), kind, cmtrace_parsers::LineFormat::Cmtrace);
        input.error = error.map(str::to_string);
        self.inputs.push(input);
        self
    }

    /// An event at true time `ms` (from the base) on a thread.
    pub fn ev_t(&mut self, host: &str, kind: LogKind, ms: i64, thread: u32, event: EventKind) -> &mut Self {
        let seq = self.specs.len();
        self.specs.push(Spec {
            host: host.into(),
            kind,
            ms: Some(ms),
            order_ms: ms,
            thread: Some(thread),
            event,
            seq,
            said: None,
            same_line: false,
        });
        self
    }

    /// A real log line at true time `ms`: the events the parsers' extractors find in `text` (a message as
    /// written in a `kind` log), with that text as evidence. Panics when the line gives no event.
    pub fn said(&mut self, host: &str, kind: LogKind, ms: i64, severity: Severity, text: &str) -> &mut Self {
        static EXTRACTORS: OnceLock<Extractors> = OnceLock::new();
        let entry = Entry {
            line: 1,
            local_time: None,
            bias_minutes: None,
            component: "",
            thread: Some(1),
            severity,
            source: None,
            message: Cow::Borrowed(text),
            format: LineFormat::Cmtrace,
        };
        let mut found = Vec::new();
        EXTRACTORS.get_or_init(Extractors::new).extract(kind, &entry, &mut found);
        assert!(!found.is_empty(), "no event in this {kind:?} line: {text}");
        for (n, event) in found.into_iter().enumerate() {
            self.ev(host, kind, ms, event);
            let spec = self.specs.last_mut().expect("just pushed");
            spec.said = Some((text.to_string(), severity));
            spec.same_line = n > 0;
        }
        self
    }

    /// Real log lines (`said`) one second apart from true time `from_ms`.
    pub fn said_each(
        &mut self,
        host: &str,
        kind: LogKind,
        from_ms: i64,
        lines: &[(Severity, &str)],
    ) -> &mut Self {
        for (n, (severity, text)) in lines.iter().enumerate() {
            self.said(host, kind, from_ms + n as i64 * SEC, *severity, text);
        }
        self
    }

    pub fn ev(&mut self, host: &str, kind: LogKind, ms: i64, event: EventKind) -> &mut Self {
        self.ev_t(host, kind, ms, 1, event)
    }

    /// An event whose record had no readable time, written after everything before it in the file.
    pub fn untimed(&mut self, host: &str, kind: LogKind, after_ms: i64, event: EventKind) -> &mut Self {
        let seq = self.specs.len();
        self.specs.push(Spec {
            host: host.into(),
            kind,
            ms: None,
            order_ms: after_ms,
            thread: Some(1),
            event,
            seq,
            said: None,
            same_line: false,
        });
        self
    }

    /// The events and inputs (an input per (host, kind) with events, plus the explicit ones).
    pub fn build(&self) -> (Vec<Input>, Vec<Event>) {
        let mut specs: Vec<&Spec> = self.specs.iter().collect();
        specs.sort_by_key(|s| (Kit::path(&s.host, s.kind), s.order_ms, s.seq));
        let mut events = Vec::new();
        let mut line = 0u32;
        let mut last_path = String::new();
        let mut inputs = self.inputs.clone();
        for s in specs {
            let path = Kit::path(&s.host, s.kind);
            if path != last_path {
                line = 0;
                last_path = path.clone();
                if !inputs.iter().any(|i| i.path == path) {
                    inputs.push(Input::new(
                        path.clone(),
                        s.host.clone(),
                        s.kind,
                        cmtrace_parsers::LineFormat::Cmtrace,
                    ));
                }
            }
            if !s.same_line {
                line += 3;
            }
            let time = s.ms.map(|ms| at(ms + self.skew_of(&s.host)));
            let bias = self.bias_of(&s.host);
            let thread = s.thread;
            let severity = match (&s.said, &s.event) {
                (Some((_, severity)), _) => *severity,
                (None, event) => Kit::severity_of(event),
            };
            let text = match &s.said {
                Some((text, _)) => text.clone().into(),
                None => format!("{} #{}", s.event.name(), s.seq).into(),
            };
            let evidence = Evidence::new(path.into(), line, s.host.as_str().into(), thread, text);
            let mut event = Event::new(s.event.clone(), s.kind, severity, None, None, evidence);
            event.set_time(time, Some(bias));
            events.push(event);
        }
        (inputs, events)
    }

    /// The severity a hand-made event's line has: error for failures, info for the rest.
    fn severity_of(event: &EventKind) -> Severity {
        match event {
            EventKind::AadTokenFailed { .. }
            | EventKind::CcmTokenFailed { .. }
            | EventKind::AadTokenRejected { .. }
            | EventKind::RegistrationFailed { .. }
            | EventKind::CertificateError { .. }
            | EventKind::HttpError { .. }
            | EventKind::ErrorLogged { .. } => Severity::Error,
            EventKind::CcmsetupExit { code } if *code != 0 => Severity::Error,
            _ => Severity::Info,
        }
    }

    /// Client-local expiry written by a client with `bias` for a token issued at true time `issue_ms`.
    pub fn expiry_local(issue_ms: i64, bias: i32) -> NaiveDateTime {
        let utc = at(issue_ms + 8 * HOUR);
        let local = utc.naive_utc() - Duration::minutes(bias as i64);
        // Expiries are written with whole seconds.
        local - Duration::milliseconds(local.and_utc().timestamp_subsec_millis() as i64)
    }
}

/// One device's identities and the hosts it talks through.
#[derive(Clone)]
pub struct Dev {
    pub host: String,
    pub install_guid: String,
    pub guid: String,
    pub aad_device: String,
    pub aad_user: String,
    pub user_sid: String,
    /// The tenant the client asks the CMG about (`AADAuthInfo?TenantID=`).
    pub client_tenant: String,
    pub mp: String,
    pub connector: String,
    pub cmg: String,
    /// CCM_STS / MP registration thread on the MP.
    pub thread: u32,
}

impl Dev {
    pub fn new(host: &str, n: u32) -> Dev {
        Dev {
            host: host.into(),
            install_guid: format!("GUID:13E80CEF-5698-4C63-9ED6-{:012X}", n),
            guid: format!("GUID:C66EE0FD-08E7-4B38-B282-{:012X}", n),
            aad_device: format!("8d2b4ff9-0172-4998-9851-{:012x}", n),
            aad_user: format!("e8838041-db7a-42d5-b9ae-{:012x}", n),
            user_sid: format!("S-1-5-21-1527250992-855612568-2252598708-{}", 1000 + n),
            client_tenant: TENANT.into(),
            mp: "MP01".into(),
            connector: "SITE01".into(),
            cmg: "CMG01".into(),
            thread: 100 + n,
        }
    }
}

/// One CCM token round trip starting with the client request at `t` (true ms): client request, connector
/// rewrite, CCM_STS block, connector result, client cache. `client_log` is the client log writing it;
/// `guid` the GUID the MP puts in the token.
pub fn token_round_trip(kit: &mut Kit, d: &Dev, client_log: LogKind, t: i64, guid: &str, sts_url: &str) {
    let bias = kit.bias_of(&d.host);
    kit.ev(&d.host, client_log, t, EventKind::CcmTokenRequested { sts_url: sts_url.into() });
    kit.ev(
        &d.connector,
        LogKind::CloudProxyConnector,
        t + 300,
        EventKind::ProxyUrlRewritten { from: CMG_STS.into(), to: MP_STS.into() },
    );
    sts_block(kit, d, t + 400, guid);
    kit.ev(
        &d.connector,
        LogKind::CloudProxyConnector,
        t + 800,
        EventKind::ProxyRequest {
            message_id: Some(format!("3087bd34-b82c-4950-b972-{:012x}", t.rem_euclid(1 << 40)).into()),
            endpoint: Some("CCM_STS".into()),
            uri: Some(MP_STS.into()),
            http_status: Some(200),
            status_text: Some("OK".into()),
            elapsed_ms: Some(450),
        },
    );
    kit.ev(
        &d.host,
        client_log,
        t + 1_000,
        EventKind::CcmTokenCached {
            sid: "S-1-5-18".into(),
            expires_local: Some(Kit::expiry_local(t + 600, bias)),
        },
    );
}

/// A successful CCM_STS request block on the MP starting at true time `t` (issue at t + 200 ms).
pub fn sts_block(kit: &mut Kit, d: &Dev, t: i64, guid: &str) {
    let th = d.thread;
    kit.ev_t(&d.mp, LogKind::CcmSts, t, th, EventKind::StsRequestReceived { url: None });
    kit.ev_t(&d.mp, LogKind::CcmSts, t + 10, th, EventKind::StsRequestReceived { url: Some(MP_STS.into()) });
    kit.ev_t(
        &d.mp,
        LogKind::CcmSts,
        t + 100,
        th,
        EventKind::AadTokenValidated {
            token_type: Some("UDA".into()),
            tenant: Some(TENANT.into()),
            aad_user: Some(d.aad_user.as_str().into()),
            aad_device: Some(d.aad_device.as_str().into()),
            onprem: OnPremSids::new(Some(d.user_sid.as_str().into()), None),
        },
    );
    kit.ev_t(
        &d.mp,
        LogKind::CcmSts,
        t + 200,
        th,
        EventKind::CcmTokenIssued {
            token_type: Some("UDA".into()),
            hierarchy: Some("8ed3174b-e814-41b5-b51c-fb368f0d4003".into()),
            cm_user: Some("23bbbba2-702e-4db4-8fd9-3b4fe3a5175d".into()),
            client_guid: Some(guid.into()),
        },
    );
    kit.ev_t(&d.mp, LogKind::CcmSts, t + 300, th, EventKind::CcmTokenReturned);
}

/// The install phase (ccmsetup) starting at true time `t`: AAD info, device token failing with a user
/// token fallback, CCM token via the CMG, content, install, exit 0.
pub fn install(kit: &mut Kit, d: &Dev, t: i64) {
    let h = d.host.clone();
    let c = LogKind::Ccmsetup;
    kit.ev(
        &h,
        c,
        t,
        EventKind::AadInfoRequested {
            cmg: Some("CMG.CLOUDAPP.NET".into()),
            tenant: Some(d.client_tenant.as_str().into()),
        },
    );
    kit.ev(&h, c, t + 100, EventKind::RevocationCheckEnabled);
    kit.ev(&h, c, t + SEC, aad_requested(AadTokenKind::Device));
    kit.ev(
        &h,
        c,
        t + 1_500,
        EventKind::AadTokenFailed {
            sid: Some("S-1-5-18".into()),
            status: None,
            hresult: Some("0xd0090016".into()),
            details: None,
        },
    );
    kit.ev(&h, c, t + 1_600, EventKind::AadTokenFallbackToUser { sid: Some(d.user_sid.as_str().into()) });
    kit.ev(&h, c, t + 1_700, aad_requested(AadTokenKind::User));
    kit.ev(&h, c, t + 2 * SEC, aad_acquired(&d.aad_user));
    token_round_trip(kit, d, c, t + 3 * SEC, &d.install_guid.clone(), CMG_STS);
    kit.ev(&d.cmg, LogKind::CmgService, t + 60 * SEC, cmg_stats());
    kit.ev(
        &h,
        c,
        t + 5 * SEC,
        EventKind::ContentLocation { url: "https://CMG.cloudapp.net/ccmsetup.cab".into() },
    );
    kit.ev(
        &h,
        c,
        t + 10 * SEC,
        EventKind::ClientInstallStarted { version: Some("5.00.8968.1000".into()), product_code: None },
    );
    kit.ev(&h, c, t + 2 * MIN, EventKind::CcmsetupExit { code: 0 });
}

/// Registration starting at true time `t`: request, AAD token (ADAL), MP registration, registered,
/// CCM token through the MP.
pub fn register(kit: &mut Kit, d: &Dev, t: i64) {
    let h = d.host.clone();
    let c = LogKind::ClientIdManagerStartup;
    kit.ev(&h, c, t, EventKind::RegistrationStarted { attempt: Some(1) });
    kit.ev(&h, c, t + 100, EventKind::RegistrationRequested { client_guid: Some(d.guid.as_str().into()) });
    kit.ev(&h, c, t + 200, EventKind::RegistrationUsingAad);
    kit.ev(&h, LogKind::AdalOperationProvider, t + 500, aad_requested(AadTokenKind::User));
    kit.ev(&h, LogKind::AdalOperationProvider, t + SEC, aad_acquired(&d.aad_user));
    let m = LogKind::MpRegistrationManager;
    kit.ev_t(
        &d.mp,
        m,
        t + 2 * SEC,
        d.thread,
        EventKind::MpRegistration {
            aad_device: Some(d.aad_device.as_str().into()),
            tenant: Some(TENANT.into()),
            client_guid: None,
        },
    );
    kit.ev_t(
        &d.mp,
        m,
        t + 2 * SEC + 10,
        d.thread,
        EventKind::MpRegistration {
            aad_device: None,
            tenant: None,
            client_guid: Some(d.guid.as_str().into()),
        },
    );
    kit.ev(
        &h,
        c,
        t + 3 * SEC,
        EventKind::Registered { client_guid: Some(d.guid.as_str().into()), approval: Some(3) },
    );
    token_round_trip(kit, d, c, t + 4 * SEC, &d.guid.clone(), MP_STS);
}

/// Renewal at true time `t` in CcmMessaging.
pub fn renew(kit: &mut Kit, d: &Dev, t: i64) {
    kit.ev(
        &d.host,
        LogKind::CcmMessaging,
        t,
        EventKind::CcmTokenExpiring { sid: d.user_sid.as_str().into(), expires_local: None },
    );
    token_round_trip(kit, d, LogKind::CcmMessaging, t + SEC, &d.guid.clone(), CMG_STS);
}

/// The whole healthy flow of one device from true time `t`.
pub fn healthy(kit: &mut Kit, d: &Dev, t: i64) {
    install(kit, d, t);
    register(kit, d, t + 5 * MIN);
    renew(kit, d, t + 5 * MIN + 8 * HOUR - 10 * MIN);
}

pub fn aad_requested(kind: AadTokenKind) -> EventKind {
    EventKind::AadTokenRequested {
        kind,
        client_app_id: Some("0b7c8ab3-9ea1-4ffa-b2b9-8ffdd944bd8b".into()),
        resource: Some("https://ConfigMgrService".into()),
    }
}

pub fn aad_acquired(user: &str) -> EventKind {
    EventKind::AadTokenAcquired { kind: AadTokenKind::User, aad_user: Some(user.into()), aad_device: None }
}

pub fn cmg_stats() -> EventKind {
    EventKind::CmgRequestStats {
        uri: "/CCM_PROXY_SERVERAUTH/72057594037937981/CCM_STS".into(),
        count: Some(1),
        avg_elapsed_ms: Some(218),
    }
}

/// A bare event (no identifiers, no time) at `line` of one file.
pub fn event_at_line(line: u32) -> Event {
    let evidence = Evidence::new("MP01/CCM_STS.log".into(), line, "MP01".into(), None, "x".into());
    Event::new(EventKind::CcmTokenReturned, LogKind::CcmSts, Severity::Info, None, None, evidence)
}
