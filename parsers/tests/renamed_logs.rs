//! Renamed logs (attached to tickets under another name) are found in folders by their content and kinded
//! by their components; a name that names a kind wins; unrelated files are still passed over.

mod common;

use cmtrace_parsers::input::{discover, load, Limits};
use cmtrace_parsers::{LineFormat, LogKind};
use common::Scratch;

fn record(msg: &str, component: &str) -> String {
    format!(
        "<![LOG[{msg}]LOG]!><time=\"01:02:03.004+000\" date=\"01-02-2020\" component=\"{component}\" context=\"\" type=\"1\" thread=\"1\" file=\"\">\r\n"
    )
}

fn log_of(component: &str, n: usize) -> Vec<u8> {
    (0..n).map(|i| record(&format!("message {i}"), component)).collect::<String>().into_bytes()
}

#[test]
fn renamed_logs_are_read_and_kinded_by_their_components() {
    let s = Scratch::new("renamed");
    let cases: [(&str, &str, LogKind); 9] = [
        ("ticket-4711-ccmsetup.txt", "ccmsetup", LogKind::Ccmsetup),
        ("client install log.log", "ccmsetup", LogKind::Ccmsetup),
        ("CCM_STS (1).log", "CCM_STS", LogKind::CcmSts),
        ("mp-reg.log", "MP_RegistrationManager", LogKind::MpRegistrationManager),
        ("clientid", "ClientIDManagerStartup", LogKind::ClientIdManagerStartup),
        ("aad.log.1", "ADALOperationProvider", LogKind::AdalOperationProvider),
        ("messaging.TXT", "CcmMessaging", LogKind::CcmMessaging),
        ("ls.old", "LocationServices", LogKind::LocationServices),
        ("cp.txt", "SMS_CLOUD_PROXYCONNECTOR", LogKind::CloudProxyConnector),
    ];
    for (name, component, _) in &cases {
        s.file(&format!("HOST1/{name}"), &log_of(component, 5));
    }
    // A server-format CMG log under a made-up name.
    s.file(
        "HOST2/cmg.txt",
        b"RequestCount: 1~~  $$<CMGService><06-24-2020 15:31:46.376+00><thread=4992 (0x1380)>\r\n",
    );
    // A name that names a kind wins over its components.
    s.file("HOST3/ccmsetup.log", &log_of("MP_RegistrationManager", 3));
    // Unrelated files stay passed over.
    s.file("HOST1/notes.txt", b"not a log: passed over\n");
    s.file("HOST1/policy.xml", b"<?xml version=\"1.0\"?><policy/>\n");
    s.file("HOST1/shot.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR");
    s.file("HOST1/settings.reg", b"Windows Registry Editor Version 5.00\r\n");
    // A script that quotes a log line is no log.
    let script =
        format!("#!/usr/bin/env python3\n{}\nprint('a')\nprint('b')\n", record("quoted", "ccmsetup"));
    s.file("HOST1/generate.py", script.as_bytes());
    // A log of another kind whose components mostly are not the flow's.
    let mut other = log_of("CcmExec", 4);
    other.extend(log_of("CcmMessaging", 1));
    s.file("HOST1/CcmExec.txt", &other);

    let d = discover(&[s.path().to_path_buf()], &[], Limits::default());
    let kind_of = |end: &str| {
        let f = d
            .files
            .iter()
            .find(|f| f.path.ends_with(end))
            .unwrap_or_else(|| panic!("{end} not found: {d:?}"));
        let loaded = load(f).unwrap();
        (loaded.kind, loaded.format, f.host.clone())
    };
    for (name, _, kind) in &cases {
        assert_eq!(kind_of(&format!("/{name}")), (*kind, LineFormat::Cmtrace, "HOST1".to_string()), "{name}");
    }
    assert_eq!(kind_of("/cmg.txt"), (LogKind::CmgService, LineFormat::Sms, "HOST2".to_string()));
    assert_eq!(kind_of("/HOST3/ccmsetup.log").0, LogKind::Ccmsetup);
    assert_eq!(kind_of("/CcmExec.txt").0, LogKind::Other);
    for skipped in ["notes.txt", "policy.xml", "shot.png", "settings.reg", "generate.py"] {
        assert!(d.files.iter().all(|f| !f.path.ends_with(skipped)), "{skipped} is read");
        let reason = d.skipped.iter().find(|(p, _)| p.ends_with(skipped)).map(|(_, r)| r.as_str());
        assert!(reason.is_some_and(|r| r.contains("not a log file name")), "{skipped}: {reason:?}");
    }
}

#[test]
fn a_renamed_setup_log_in_utf16_is_read() {
    let s = Scratch::new("renamed-setup");
    let text = "\u{FEFF}<Fri Dec  9 11:25:00 2022> SMSFSP Setup Started....\r\n\u{FEFF}<Fri Dec  9 11:25:01 2022> Installation was successful.\r\n";
    let mut bytes = vec![0xFF, 0xFE];
    for u in text.encode_utf16() {
        bytes.extend_from_slice(&u.to_le_bytes());
    }
    s.file("SITE9/fsp setup", &bytes);
    let d = discover(&[s.path().to_path_buf()], &[], Limits::default());
    assert_eq!(d.files.len(), 1, "{d:?}");
    let loaded = load(&d.files[0]).unwrap();
    assert_eq!(loaded.format, LineFormat::Setup);
    assert_eq!(loaded.kind, LogKind::Other);
}
