//! The install family: how ccmsetup ended (`install-failed`, its exit code read from the code table) and
//! the client certificate it chose (`pki-cert-preferred`).

use super::{
    grouped_hits, host_of, last_event, per_device_events, phase_status, story, Analysis, Check, Explained,
    Hit, PhaseId, PhaseStatus, Rule,
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
    story: Some(story::attempt_starts_at_setup),
    idx_fix_first: false,
    check: Check::AfterCauses(check_install_failed),
};

fn check_install_failed(a: &Analysis, ex: &Explained) -> Vec<Hit> {
    let mut hits = Vec::new();
    for d in a.devices.keys() {
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
        // The meaning of an exit code is the code table's (`codes`); anything outside 0-255 is an HRESULT.
        let meaning = match code {
            c if !(0..=255).contains(&c) => crate::codes::lookup(&format!("0x{:08X}", c as u32))
                .first()
                .and_then(|m| m.known)
                .map(|k| k.name.to_string())
                .unwrap_or_else(|| "an HRESULT".to_string()),
            c => crate::codes::ccmsetup_exit_meaning(c)
                .map(str::to_string)
                .unwrap_or_else(|| format!("exit code {c}")),
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
    story: None,
    idx_fix_first: false,
    check: Check::Alone(check_pki),
};

fn check_pki(a: &Analysis) -> Vec<Hit> {
    let evs = per_device_events(a, |k, _| matches!(k, EventKind::PkiCertSelected { .. }));
    grouped_hits(a, evs, "ccmsetup chose a PKI client certificate", false)
}

#[cfg(test)]
mod tests {
    use cmtrace_parsers::{LogKind, Severity};

    use super::super::testing::run;
    use super::super::testing::said::{exiting, STARTED};
    use super::INSTALL_FAILED;
    use crate::codes::{self, CodeSpace};
    use crate::testkit::{healthy, Dev, Kit, MIN, SEC};

    // Texts of ccmsetup.log (Microsoft's return codes; real logs for the start and the retry).
    const FAILED_643: &str = "CcmSetup failed with error code 0x80070643";
    const RETRY: &str = "Next retry in 120 minute(s)...";
    const PKI: &str =
        "Client selected the PKI Certificate [Thumbprint 3C95DC61FE9A9F18F6595195BD41B54E3AB383D6] issued to 'CLIENT16.corp.contoso.com'";

    /// CLIENT01's ccmsetup starts, then says `then`.
    fn ccmsetup(then: &[(Severity, &str)]) -> Kit {
        let mut kit = Kit::new();
        kit.said_each("CLIENT01", LogKind::Ccmsetup, 0, &[(Severity::Info, STARTED)]).said_each(
            "CLIENT01",
            LogKind::Ccmsetup,
            MIN,
            then,
        );
        kit
    }

    #[test]
    fn a_non_zero_exit_is_a_failed_install_named_by_the_code_table() {
        for (code, title) in [
            (6, "ccmsetup failed: 6 (error)"),
            (7, "ccmsetup failed: 7 (reboot required)"),
            (10, "ccmsetup failed: 10 (setup manifest hash validation failure)"),
            (3, "ccmsetup failed: 3 (exit code 3)"),
            (0x80070643, "ccmsetup failed: 0x80070643 (ERROR_INSTALL_FAILURE)"),
        ] {
            let o = run(&ccmsetup(&[(Severity::Error, &exiting(code))]));
            let f = o.only("install-failed");
            assert_eq!(f.device, Some(o.device_of("CLIENT01")));
            assert_eq!(f.title, title);
            o.assert_cites(f, "CLIENT01", LogKind::Ccmsetup, &exiting(code));
        }
    }

    #[test]
    fn exit_zero_or_a_failure_that_will_be_retried_is_no_failed_install() {
        run(&ccmsetup(&[(Severity::Info, &exiting(0))])).none("install-failed");
        run(&ccmsetup(&[(Severity::Error, FAILED_643), (Severity::Info, RETRY)])).none("install-failed");
    }

    #[test]
    fn the_catalog_text_lists_every_exit_code_of_the_code_table() {
        let rows: Vec<_> = codes::all().iter().filter(|r| r.space == CodeSpace::Ccmsetup).collect();
        assert!(rows.len() >= 6, "{rows:?}");
        for row in rows {
            let code: i64 = row.code.parse().expect("a decimal exit code");
            let meaning = codes::ccmsetup_exit_meaning(code).expect("in the table");
            let listed = format!("{code} {meaning}");
            assert!(INSTALL_FAILED.explanation.contains(&listed), "{listed:?} not in the explanation");
        }
    }

    #[test]
    fn a_selected_pki_certificate_is_reported() {
        let o = run(&ccmsetup(&[(Severity::Info, PKI)]));
        o.found("pki-cert-preferred", "CLIENT01", LogKind::Ccmsetup, PKI);
    }

    #[test]
    fn an_entra_id_install_is_no_pki_client() {
        let mut kit = Kit::new();
        healthy(&mut kit, &Dev::new("CLIENT01", 1), SEC);
        run(&kit).none("pki-cert-preferred");
    }
}
