//! The install family: how ccmsetup ended (`install-failed`, its exit code read from the code table) and
//! the client certificate it chose (`pki-cert-preferred`).

use super::{
    grouped_hits, host_of, last_event, per_device_events, phase_status, Analysis, Check, Explained, Hit,
    PhaseId, PhaseStatus, Rule,
};
use cmtrace_parsers::{EventKind, Severity};

pub(super) const INSTALL_FAILED: Rule = Rule {
    id: "install-failed",
    severity: Severity::Error,
    title: "ccmsetup exited with a non-zero return code",
    explanation: "ccmsetup.exe ended with a failure code (0 success, 6 error, 7 reboot required, 8 setup already running, \
9 prerequisite evaluation failure, 10 setup manifest hash validation failure; anything else is an HRESULT).",
    remediation: "Read ccmsetup.log before the exit line for the step that failed (the error lines below), fix it, then rerun \
ccmsetup. Return code 7: restart the device; 8: wait for the running setup; 9: check the prerequisite lines in \
ccmsetup.log; 10: download fresh client source files; an HRESULT: look it up (cmtrace-rs error <code>).",
    symptom: false,
    check: Check::AfterCauses(check_install_failed),
};

fn check_install_failed(a: &Analysis, ex: &Explained) -> Vec<Hit> {
    let mut hits = Vec::new();
    for d in 0..a.devices.len() {
        let Some(i) = last_event(a, d, |k| matches!(k, EventKind::CcmsetupExit { .. })) else { continue };
        let EventKind::CcmsetupExit { code } = a.events[i].kind else { continue };
        if code == 0 {
            continue;
        }
        // `CcmSetup failed with error code 0x..` followed by a retry notice: ccmsetup is still retrying, not
        // failed until it exits. The install.client phase decides it (`missing`, with the retry as reason).
        if phase_status(a, d, PhaseId::InstallClient) == Some(PhaseStatus::Missing) {
            continue;
        }
        let causes = ex.any(d);
        let meaning = match code {
            6 => "error".to_string(),
            7 => "reboot required".to_string(),
            8 => "setup already running".to_string(),
            9 => "prerequisite evaluation failure".to_string(),
            10 => "setup manifest hash validation failure".to_string(),
            c if !(0..=255).contains(&c) => crate::codes::lookup(&format!("0x{:08X}", c as u32))
                .first()
                .and_then(|m| m.known)
                .map(|k| k.name.to_string())
                .unwrap_or_else(|| "an HRESULT".to_string()),
            c => format!("exit code {c}"),
        };
        let shown =
            if (0..=255).contains(&code) { code.to_string() } else { format!("0x{:08X}", code as u32) };
        hits.push(Hit {
            device: Some(d),
            host: Some(host_of(a, i)),
            title: Some(format!("ccmsetup failed: {shown} ({meaning})")),
            facts: format!(
                "{}: ccmsetup ended with {shown} ({meaning}).{}",
                host_of(a, i),
                if causes.is_empty() {
                    String::new()
                } else {
                    format!(" Root cause: {} (see that finding).", causes.join(", "))
                }
            ),
            evidence: vec![i],
            explains: vec![PhaseId::InstallClient],
            causes,
        });
    }
    hits
}

pub(super) const PKI_CERT_PREFERRED: Rule = Rule {
    id: "pki-cert-preferred",
    severity: Severity::Info,
    title: "A PKI client certificate was used instead of Entra ID",
    explanation: "ccmsetup found a valid PKI client authentication certificate and used it: the client installs as a PKI \
client and does not use Entra ID authentication.",
    remediation: "Nothing to fix if PKI is intended. To use Entra ID, remove the client authentication certificate or \
deploy without it.",
    symptom: false,
    check: Check::Alone(check_pki),
};

fn check_pki(a: &Analysis) -> Vec<Hit> {
    let evs = per_device_events(a, |k, _| matches!(k, EventKind::PkiCertSelected { .. }));
    grouped_hits(a, evs, "ccmsetup chose a PKI client certificate", false)
}
