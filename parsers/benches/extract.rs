//! `cargo bench -p cmtrace-parsers --bench extract`: `Extractors::extract` throughput per log kind on
//! generated lines in the shapes (and roughly the proportions) of a fleet corpus: the server logs where
//! nearly every line is a flow message (CCM_STS, MP_RegistrationManager, SMS_CLOUD_PROXYCONNECTOR,
//! CMGService) and a client ccmsetup.log where nearly none is. The raw text is generated from templates
//! copied from real logs (ids varied) and parsed with `Records` once, outside the measurement; the
//! throughput counts message bytes. Each benchmark also prints its entry count so lines/s follows.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use cmtrace_parsers::extract::Extractors;
use cmtrace_parsers::format::Records;
use cmtrace_parsers::kind::LogKind;
use cmtrace_parsers::{Entry, LineFormat, Record};

/// A deterministic GUID-shaped id for line `i` (lower case; `upper` for SMS GUIDs).
fn gid(i: usize, salt: u64, upper: bool) -> String {
    let mut x = (i as u64).wrapping_add(salt).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    let mut y = x.rotate_left(29).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 31;
    y ^= y >> 27;
    let s = format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        x >> 32,
        (x >> 16) & 0xffff,
        x & 0xffff,
        y >> 48,
        y & 0xffff_ffff_ffff
    );
    if upper {
        s.to_ascii_uppercase()
    } else {
        s
    }
}

fn cmtrace(msg: &str, component: &str, i: usize, typ: u8) -> String {
    format!(
        "<![LOG[{msg}]LOG]!><time=\"01:{:02}:{:02}.{:03}+300\" date=\"11-20-2026\" component=\"{component}\" context=\"\" type=\"{typ}\" thread=\"{}\" file=\"\">\r\n",
        (i / 3600) % 60,
        (i / 60) % 60,
        i % 1000,
        1800 + i % 900
    )
}

fn sms(msg: &str, component: &str, i: usize) -> String {
    format!(
        "{msg}  $$<{component}><11-20-2026 01:{:02}:{:02}.{:03}+300><thread=7788 (0x1E6C)>\r\n",
        (i / 60) % 60,
        i % 60,
        i % 1000
    )
}

/// CCM_STS.log on a management point: one request is seven lines, five of them flow events.
fn ccm_sts(n: usize) -> String {
    let tenant = "2ca9a796-a1a6-43ec-88f1-5935b32155c5";
    let mut t = String::new();
    for i in 0..n {
        let r = i / 7;
        let line = match i % 7 {
            0 => "ProcessRequest - Start".to_string(),
            1 => format!("Incoming request URL: https://MP0{}.FLEET.CORP/CCM_STS", r % 3 + 1),
            2 if r % 5 == 0 => format!(
                "Validated AAD token. TokenType: UDA TenantId: {tenant} UserId: {} DeviceId: {} OnPrem_UserSid: S-1-5-21-1527250992-855612568-2252598708-{} OnPrem_DeviceSid:",
                gid(r, 1, false),
                gid(r, 2, false),
                1000 + r % 5000
            ),
            2 => format!(
                "Validated AAD token. TokenType: Device TenantId: {tenant} UserId: 00000000-0000-0000-0000-000000000000 DeviceId: {} OnPrem_UserSid:  OnPrem_DeviceSid:",
                gid(r, 2, false)
            ),
            3 => format!(
                "Created SCCM token, token type: Device, hierarchyId: 8ed3174b-e814-41b5-b51c-fb368f0d4003, userId: 23bbbba2-702e-4db4-8fd9-3b4fe3a5175d, deviceId: GUID:{}",
                gid(r, 3, true)
            ),
            4 => "Return token to client".to_string(),
            5 => "TokenType is Device".to_string(),
            _ => "Issued token".to_string(),
        };
        // Now and then a rejected token.
        let line = if i % 7 == 2 && r % 97 == 0 {
            "Return code: 401, Description: PreAuth token validation failed, System.IdentityModel.Tokens.SecurityTokenExpiredException: IDX10223: Lifetime validation failed. The token is expired.".to_string()
        } else {
            line
        };
        t.push_str(&cmtrace(&line, "CCM_STS", i, 1));
    }
    t
}

/// MP_RegistrationManager.log: mostly policy noise, then the two registration lines.
fn mp_registration(n: usize) -> String {
    let mut t = String::new();
    for i in 0..n {
        let r = i / 7;
        let (line, comp) = match i % 7 {
            5 => (
                format!(
                    "Registering device using AAD auth: DeviceId='{} ', TenantId='2ca9a796-a1a6-43ec-88f1-5935b32155c5'",
                    gid(r, 4, false)
                ),
                "MP_RegistrationManager",
            ),
            6 => (
                format!("Processing Registration request from Client 'GUID:{}'", gid(r, 5, true)),
                "MP_RegistrationManager",
            ),
            _ => ("MP_ClientIDManager: policy request processed for client".to_string(), "MP_Policy"),
        };
        t.push_str(&cmtrace(&line, comp, i, 1));
    }
    t
}

/// SMS_CLOUD_PROXYCONNECTOR.log: five lines per forwarded request, two of them flow events.
fn connector(n: usize) -> String {
    let c = "SMS_CLOUD_PROXYCONNECTOR";
    let mut t = String::new();
    for i in 0..n {
        let r = i / 5;
        let line = match i % 5 {
            0 => "Switched to internal URL. Replaced 'https://FLEETCMG.CLOUDAPP.NET/CCM_Proxy_MutualAuth/72186325152220500/CCM_STS' in   'https://FLEETCMG.CLOUDAPP.NET/CCM_Proxy_MutualAuth/72186325152220500/CCM_STS' with 'https://MP01.FLEET.CORP/CCM_STS' and got 'https:///MP01.FLEET.CORP/CCM_STS~~".to_string(),
            1 if r % 50 == 0 => format!(
                "MessageID: {} RequestURI: https://MP01.FLEET.CORP/SMS_MP/.sms_aut?SITESIGNCERT EndpointName: MP ResponseHeader: HTTP/1.1 403 CMGConnector_Clientcertificaterequired ~~ ResponseBodySize: 0 ElapsedTime: {} ms~~",
                gid(r, 6, false),
                r % 300
            ),
            1 => format!(
                "MessageID: {} RequestURI: https://MP01.FLEET.CORP/CCM_STS EndpointName: CCM_STS ResponseHeader: HTTP/1.1 200 OK ~~ ResponseBodySize: 0 ElapsedTime: {} ms~~",
                gid(r, 6, false),
                r % 300
            ),
            2 => "Maintaining connections...".to_string(),
            3 => format!("Received response for message {} with status 200~~", gid(r, 7, false)),
            _ => format!("Connection {} to CMG is healthy. Outstanding requests: 0", r % 8),
        };
        t.push_str(&sms(&line, c, i));
    }
    t
}

/// CMGService.log: request statistics every five minutes, one line per endpoint.
fn cmg_service(n: usize) -> String {
    let mut t = String::new();
    for i in 0..n {
        let line = match i % 4 {
            0 | 1 => format!(
                "RequestUri: /CCM_PROXY_SERVERAUTH/72186325152220500/CCM_STS  RequestCount: {}  RequestSize: 1081595 Bytes  ResponseCount: 769  ResponseSize: 36143 Bytes  AverageElapsedTime: {} ms~~",
                i % 900,
                (i * 37) % 4000
            ),
            2 => format!(
                "RequestUri: /CCM_PROXY_MUTUALAUTH/72186325152220500/SMS_MP/.sms_aut?MPLIST  RequestCount: {}  RequestSize: 0 Bytes  ResponseCount: {}  ResponseSize: 12000 Bytes  AverageElapsedTime: {} ms~~",
                i % 700,
                i % 700,
                (i * 13) % 900
            ),
            _ => "Heartbeat sent to the connection point".to_string(),
        };
        t.push_str(&sms(&line, "CMGService", i));
    }
    t
}

/// ccmsetup.log of a client: mostly noise (a few flow lines at the end of an install).
fn ccmsetup(n: usize) -> String {
    let noise = [
        "Updated security on object C:\\Windows\\ccmsetup\\cache\\.",
        "Folder 'Microsoft\\Configuration Manager' not found. Task does not exist.",
        "Created connection on port 443",
        "Received message '<SiteInfoReply SchemaVersion=\"1.00\">\r\n  <Site><SiteCode>MEM</SiteCode></Site>\r\n</SiteInfoReply>'",
        "Appending CCM Token to the header.",
        "Checking for Windows Update agent ... Windows Update agent is ready.",
        "SslState value: 224",
        "Running as user \"SYSTEM\"",
        "Successfully deleted existing ccmsetup cache folder.",
        "SMS CCM 5.0: Host=FLEETCMG.CLOUDAPP.NET, Path=/CCM_Proxy_ServerAuth/72186325152220500/CCM_Client, Port=443, Flags=0x1304, Options=0xe0",
    ];
    let mut t = String::new();
    for i in 0..n {
        let line = match i % 40 {
            10 => "Getting AAD info from CMG 'FLEETCMG.CLOUDAPP.NET'".to_string(),
            11 => "SMS CCM 5.0: Host=FLEETCMG.CLOUDAPP.NET, Path=/CCM_Proxy_ServerAuth/AADAuthInfo?TenantID=2ca9a796-a1a6-43ec-88f1-5935b32155c5, Port=443, Protocol=https, CcmTokenAuth=0, Flags=0x1304, Options=0xe0".to_string(),
            12 => "Getting AAD (device) token with: ClientId = 0b7c8ab3-9ea1-4ffa-b2b9-8ffdd944bd8b, ResourceUrl = https://ConfigMgrService, AccountId = https://login.microsoftonline.com/common/oauth2/token".to_string(),
            13 => format!("Retrieved AAD token for AAD device '{}'", gid(i, 8, false)),
            14 => "Getting CCM Token from STS server 'FLEETCMG.CLOUDAPP.NET/CCM_PROXY_MutualAuth/72186325152220500'".to_string(),
            15 => "[CCMHTTP] ERROR: URL=https://FLEETCMG.CLOUDAPP.NET/CCM_Proxy_ServerAuth/72186325152220500/CCM_STS, Port=443, Options=63, Code=12175, Text=ERROR_WINHTTP_SECURE_FAILURE".to_string(),
            16 => "Failed to verify certificate chain. Error: 800B0109".to_string(),
            38 => "Installing version 5.00.9132.1011 of the client with product code {66653948-0717-4D50-B0B9-ED66FDED2DDB}".to_string(),
            39 => "CcmSetup is exiting with return code 0".to_string(),
            k => noise[k % noise.len()].to_string(),
        };
        t.push_str(&cmtrace(&line, "ccmsetup", i, if i % 40 == 15 { 3 } else { 1 }));
    }
    t
}

fn entries(text: &str, format: LineFormat) -> Vec<Entry<'_>> {
    Records::new(text, format, 1)
        .filter_map(|r| match r {
            Record::Entry(e) => Some(e),
            Record::Unparsed { .. } => None,
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    const N: usize = 20_000;
    let x = Extractors::new();
    let mut g = c.benchmark_group("extract");
    g.sample_size(10);
    g.warm_up_time(std::time::Duration::from_millis(500));
    g.measurement_time(std::time::Duration::from_secs(2));
    for (name, kind, text, format) in [
        ("ccm_sts", LogKind::CcmSts, ccm_sts(N), LineFormat::Cmtrace),
        ("mp_registration", LogKind::MpRegistrationManager, mp_registration(N), LineFormat::Cmtrace),
        ("connector", LogKind::CloudProxyConnector, connector(N), LineFormat::Sms),
        ("cmg_service", LogKind::CmgService, cmg_service(N), LineFormat::Sms),
        ("ccmsetup", LogKind::Ccmsetup, ccmsetup(N), LineFormat::Cmtrace),
    ] {
        let es = entries(&text, format);
        let bytes: usize = es.iter().map(|e| e.message.len()).sum();
        let mut out = Vec::new();
        let events: usize = es
            .iter()
            .map(|e| {
                out.clear();
                x.extract(kind, e, &mut out);
                out.len()
            })
            .sum();
        eprintln!("{name}: {} entries, {bytes} message bytes, {events} events", es.len());
        g.throughput(Throughput::Bytes(bytes as u64));
        g.bench_function(name, |b| {
            let mut out = Vec::with_capacity(4);
            b.iter(|| {
                let mut n = 0;
                for e in &es {
                    out.clear();
                    x.extract(kind, e, &mut out);
                    n += out.len();
                }
                n
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
