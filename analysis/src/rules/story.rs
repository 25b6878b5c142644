//! Never silent: a consequence rule's failure that no root cause explains cites the device's error lines
//! before it in that attempt, most telling first, and says in one sentence what they show, with the fix of
//! their class in the failure catalog (`causes`).

use super::{device_events, is_client_log, log_file_name, Analysis, AttemptStart};
use crate::causes::{self, Class};
use crate::index::{DeviceIx, EventIx};
use cmtrace_parsers::{EventKind, Severity};

/// How many preceding error lines a finding cites.
const STORY_LINES: usize = 4;

/// What the error lines before a failure show.
pub(super) struct Story {
    /// The cited lines (event indices), most telling first.
    pub(super) lines: Vec<EventIx>,
    /// One sentence.
    pub(super) summary: String,
    /// The class whose fix applies (`None`: the rule's own remediation).
    pub(super) class: Option<&'static Class>,
    /// The finding's `cause`.
    pub(super) cause: Option<&'static str>,
}

/// A line that shows something failed (an event of a failure, or an error-severity line).
fn is_failure_line(a: &Analysis, i: EventIx) -> bool {
    a.events[i].severity == Severity::Error
        || matches!(
            a.events[i].kind,
            EventKind::ErrorLogged { .. }
                | EventKind::HttpError { .. }
                | EventKind::CertificateError { .. }
                | EventKind::AadTokenFailed { .. }
                | EventKind::CcmTokenFailed { .. }
                | EventKind::RegistrationFailed { .. }
        )
}

/// An attempt of installation or registration starts where ccmsetup or a registration attempt starts (the
/// window of a failure's error lines begins after it).
pub(crate) fn attempt_starts_at_setup(k: &EventKind) -> bool {
    matches!(k, EventKind::CcmsetupStarted { .. } | EventKind::RegistrationStarted { .. })
}

/// An attempt of an Entra ID token starts at its request (or where installation or registration starts).
pub(crate) fn attempt_starts_at_aad_token_request(k: &EventKind) -> bool {
    attempt_starts_at_setup(k) || matches!(k, EventKind::AadTokenRequested { .. })
}

/// An attempt of a CCM token starts at its request or at the renewal of an expiring one (or where
/// installation or registration starts).
pub(crate) fn attempt_starts_at_ccm_token_request(k: &EventKind) -> bool {
    attempt_starts_at_setup(k)
        || matches!(k, EventKind::CcmTokenRequested { .. } | EventKind::CcmTokenExpiring { .. })
}

/// The device's error lines before the failure its hit cites (the hit's last client-log line), in that
/// attempt (which starts after the last line `starts`), ranked; and what they show.
pub(super) fn failure_story(
    a: &Analysis,
    starts: AttemptStart,
    d: DeviceIx,
    evidence: &[EventIx],
) -> Option<Story> {
    let &fail = evidence
        .iter()
        .filter(|&&i| is_client_log(a.events[i].log_kind))
        .max_by_key(|&&i| (a.time_ms(i), i))?;
    let (path, fail_line) = (&a.events[fail].evidence.path(), a.events[fail].evidence.line);
    let before: Vec<EventIx> = device_events(a, d)
        .iter()
        .copied()
        .filter(|&i| &a.events[i].evidence.path() == path && a.events[i].evidence.line < fail_line)
        .collect();
    let start = before
        .iter()
        .filter(|&&i| starts(&a.events[i].kind))
        .map(|&i| a.events[i].evidence.line)
        .max()
        .unwrap_or(0);
    let exit = match a.events[fail].kind {
        EventKind::CcmsetupExit { code } => Some(code),
        _ => None,
    };
    // The failure's own code: an HRESULT exit code, or the first code of the failure line.
    let fail_code = match exit {
        Some(c) if !(0..=255).contains(&c) => Some(c as u32),
        _ => causes::first_code(&a.events[fail].evidence.text().get()),
    };
    let mut ranked: Vec<(u8, u8, std::cmp::Reverse<u32>, EventIx)> = before
        .iter()
        .copied()
        .filter(|&i| a.events[i].evidence.line > start && is_failure_line(a, i))
        .map(|i| {
            let e = &a.events[i];
            let text = &*e.evidence.text().get();
            let tier = if fail_code.is_some_and(|c| causes::mentions_code(text, c)) {
                0
            } else if causes::is_noise(text) {
                3
            } else if e.severity == Severity::Error && causes::first_code(text).is_some() {
                1
            } else {
                2
            };
            let sev = match e.severity {
                Severity::Error => 0,
                Severity::Warning => 1,
                Severity::Info => 2,
            };
            (tier, sev, std::cmp::Reverse(e.evidence.line), i)
        })
        .collect();
    ranked.sort_unstable();
    let read: Vec<std::borrow::Cow<'_, str>> = ranked
        .iter()
        .map(|r| a.events[r.3].evidence.text().get())
        .chain(std::iter::once(a.events[fail].evidence.text().get()))
        .collect();
    let texts: Vec<&str> = read.iter().map(|t| &**t).collect();
    let lines: Vec<EventIx> = ranked.iter().take(STORY_LINES).map(|r| r.3).collect();
    let telling = |c: &Class| !c.noise && c.id != "generic";
    // A ccmsetup exit code that names its class (7, 8, 9) says more than the lines before it.
    let by_exit = exit.filter(|c| (0..=255).contains(c)).and_then(causes::classify_exit);
    // A line that says its class in words outranks one that only a shared code classifies (real: `Failed to
    // send location message ... Error 0x87d00454` then `Have already tried all MPs`: no MP, not no DP).
    let line_class = |said_only: bool| {
        ranked.iter().map(|r| r.3).find_map(|i| {
            let text = &*a.events[i].evidence.text().get();
            let c = if said_only { causes::said(text)? } else { causes::classify(text) };
            telling(c).then(|| (c, causes::summarize(c, text, &texts)))
        })
    };
    let by_line = line_class(true).or_else(|| line_class(false));
    let by_failure = {
        let text = &*a.events[fail].evidence.text().get();
        let c = causes::classify(text);
        let c = if telling(c) { Some(c) } else { exit.and_then(causes::classify_exit) };
        c.map(|c| (c, causes::summarize(c, text, &texts)))
    };
    let found = by_exit
        .map(|c| (c, causes::summarize(c, &a.events[fail].evidence.text().get(), &texts)))
        .or(by_line)
        .or(by_failure);
    if let Some((class, summary)) = found {
        return Some(Story { lines, summary, class: Some(class), cause: Some(class.id) });
    }
    let file = log_file_name(a.events[fail].log_kind);
    let generic = causes::class("generic").expect("generic class");
    if let Some(r) = ranked.first() {
        // Only generic or noise lines: name the most telling one (ranked first: noise ranks last).
        let text = &*a.events[r.3].evidence.text().get();
        let c = causes::classify(text);
        let summary = if c.noise { c.summary.to_string() } else { causes::summarize(generic, text, &texts) };
        return Some(Story { lines, summary, class: Some(generic), cause: Some("generic") });
    }
    if exit.is_none() && is_failure_line(a, fail) {
        // The failure line is the only error of the attempt: name it.
        let text = &*a.events[fail].evidence.text().get();
        let summary = causes::summarize(generic, text, &texts).replacen(
            "The error logged before it",
            "The failure logged",
            1,
        );
        return Some(Story { lines, summary, class: Some(generic), cause: Some("generic") });
    }
    Some(Story {
        lines,
        summary: format!(
            "{file} shows no error line before it in this attempt: the lines just before it show the step that stopped."
        ),
        class: None,
        cause: None,
    })
}

#[cfg(test)]
mod tests {
    use cmtrace_parsers::{LogKind, Severity};

    use super::super::testing::run;
    use super::super::testing::said::{exiting, DP, NO_CODE, STARTED};
    use super::super::RULES;
    use super::*;
    use crate::testkit::{aad_requested, Kit, MIN};
    use cmtrace_parsers::AadTokenKind;

    // Real ccmsetup.log error texts (the domain references) with their codes.
    const BITS: &str = "Failed to download files through BITS. Error: 0x80190194";
    const TIMEOUT: &str = "Failed to send HTTP request. (Error at WinHttpSendRequest: 0x80072ee2)";
    const WMI: &str = "Failed to connect to namespace root\\ccm 0x8004100e";

    /// CLIENT01's ccmsetup.log: an earlier attempt that failed on `old`, then a new attempt with `lines`.
    fn two_attempts(old: &str, lines: &[(Severity, &str)]) -> Kit {
        let mut kit = Kit::new();
        kit.said_each("CLIENT01", LogKind::Ccmsetup, 0, &[(Severity::Info, STARTED), (Severity::Error, old)]);
        kit.said("CLIENT01", LogKind::Ccmsetup, MIN, Severity::Info, STARTED);
        kit.said_each("CLIENT01", LogKind::Ccmsetup, 2 * MIN, lines);
        kit
    }

    /// The story install-failed tells for the device's last ccmsetup line, with the texts of the lines it
    /// cites.
    fn story_of_last(kit: &Kit) -> (Story, Vec<String>) {
        let o = run(kit);
        let a = &o.analysis;
        let fail = a.events.keys().rfind(|&i| a.events[i].log_kind == LogKind::Ccmsetup).expect("a line");
        let story = failure_story(a, attempt_starts_at_setup, DeviceIx::FIRST, &[fail]).expect("a story");
        let texts = story.lines.iter().map(|&i| a.events[i].evidence.text().get().to_string()).collect();
        (story, texts)
    }

    #[test]
    fn the_attempts_error_lines_are_cited_most_telling_first_and_four_at_most() {
        let fail = exiting(0x87D0_0454);
        let kit = two_attempts(
            "Old attempt failed 0x80070005",
            &[
                (Severity::Error, BITS),
                (Severity::Info, "Ccmsetup command line: ccmsetup.exe /mp:https://MP.MYCORP.COM"),
                (Severity::Error, DP),
                (Severity::Error, NO_CODE),
                (Severity::Error, WMI),
                (Severity::Error, TIMEOUT),
                (Severity::Error, &fail),
            ],
        );
        let (story, texts) = story_of_last(&kit);
        // The line naming the exit's own code, then coded errors latest first, then uncoded; noise is fifth
        // and left out; the earlier attempt's error and the info line are not cited.
        assert_eq!(texts, [DP, TIMEOUT, BITS, NO_CODE]);
        // The line that says its class in words names the cause.
        assert_eq!(story.cause, Some("dp-location"));
        assert_eq!(story.class.map(|c| c.id), Some("dp-location"));
        assert!(
            story.summary.starts_with("ccmsetup could not get a distribution point"),
            "{}",
            story.summary
        );
    }

    #[test]
    fn an_exit_code_that_names_its_class_outranks_the_lines_before_it() {
        let fail = exiting(7);
        let (story, texts) =
            story_of_last(&two_attempts(NO_CODE, &[(Severity::Error, DP), (Severity::Error, &fail)]));
        assert_eq!(texts, [DP]);
        assert_eq!(story.cause, Some("reboot-pending"));
        // A plain exit code (6) names no class: the lines before it do.
        let fail = exiting(6);
        let (story, _) =
            story_of_last(&two_attempts(NO_CODE, &[(Severity::Error, DP), (Severity::Error, &fail)]));
        assert_eq!(story.cause, Some("dp-location"));
    }

    #[test]
    fn only_generic_or_noise_lines_name_the_most_telling_one() {
        let fail = exiting(6);
        let (story, texts) = story_of_last(&two_attempts(
            DP,
            &[(Severity::Error, WMI), (Severity::Error, NO_CODE), (Severity::Error, &fail)],
        ));
        assert_eq!(texts, [NO_CODE, WMI]);
        assert_eq!(story.cause, Some("generic"));
        assert_eq!(story.summary, format!("The error logged before it: '{NO_CODE}'."));
        // Noise alone: its own sentence, still the generic class.
        let (story, texts) =
            story_of_last(&two_attempts(DP, &[(Severity::Error, WMI), (Severity::Error, &fail)]));
        assert_eq!(texts, [WMI]);
        assert_eq!(story.cause, Some("generic"));
        assert!(story.summary.starts_with("Only WMI 'invalid namespace' errors"), "{}", story.summary);
    }

    #[test]
    fn a_failure_with_no_error_before_it_says_so() {
        // An exit with nothing before it in this attempt (the old attempt's error does not count).
        let fail = exiting(6);
        let (story, texts) = story_of_last(&two_attempts(DP, &[(Severity::Error, &fail)]));
        assert!(texts.is_empty());
        assert_eq!(story.cause, None);
        assert!(story.class.is_none());
        assert_eq!(
            story.summary,
            "ccmsetup.log shows no error line before it in this attempt: the lines just before it show the step that stopped."
        );
        // A failure line (not an exit) that is the attempt's only error is named itself.
        let (story, texts) = story_of_last(&two_attempts(DP, &[(Severity::Error, NO_CODE)]));
        assert!(texts.is_empty());
        assert_eq!(story.cause, Some("generic"));
        assert_eq!(story.summary, format!("The failure logged: '{NO_CODE}'."));
    }

    #[test]
    fn only_failure_lines_of_the_attempt_are_cited() {
        // An info line that is an event (the command line) is no failure; a warning that logs an error code is
        // one; an error-severity line that starts the attempt is not in it.
        const COMMAND_LINE: &str = "Ccmsetup command line: ccmsetup.exe /mp:https://MP.MYCORP.COM";
        let fail = exiting(6);
        let mut kit = Kit::new();
        kit.said_each(
            "CLIENT01",
            LogKind::Ccmsetup,
            0,
            &[
                (Severity::Error, STARTED),
                (Severity::Info, COMMAND_LINE),
                (Severity::Warning, TIMEOUT),
                (Severity::Error, &fail),
            ],
        );
        let o = run(&kit);
        let a = &o.analysis;
        let kinds: Vec<&str> = a.events.iter().map(|e| e.kind.name()).collect();
        assert_eq!(kinds, ["ccmsetup_started", "ccmsetup_command_line", "error_logged", "ccmsetup_exit"]);
        let (_, texts) = story_of_last(&kit);
        assert_eq!(texts, [TIMEOUT]);
    }

    #[test]
    fn the_failure_cited_is_the_latest_client_line_of_the_evidence() {
        let fail = exiting(6);
        let kit = two_attempts(NO_CODE, &[(Severity::Error, DP), (Severity::Error, &fail)]);
        let o = run(&kit);
        let a = &o.analysis;
        let lines: Vec<EventIx> =
            a.events.keys().filter(|&i| a.events[i].log_kind == LogKind::Ccmsetup).collect();
        let (dp, exit) = (lines[lines.len() - 2], lines[lines.len() - 1]);
        // Given both lines, the story is told before the exit (the DP line is cited); given only the DP line, before it.
        let both = failure_story(a, attempt_starts_at_setup, DeviceIx::FIRST, &[exit, dp]).unwrap();
        assert_eq!(both.lines, [dp]);
        let first = failure_story(a, attempt_starts_at_setup, DeviceIx::FIRST, &[dp]).unwrap();
        assert!(first.lines.is_empty());
        assert!(failure_story(a, attempt_starts_at_setup, DeviceIx::FIRST, &[]).is_none());
    }

    #[test]
    fn an_attempt_starts_where_the_rules_own_step_starts() {
        let started = EventKind::CcmsetupStarted { pid: Some(1) };
        let registration = EventKind::RegistrationStarted { attempt: Some(1) };
        let aad = aad_requested(AadTokenKind::Device);
        let ccm = EventKind::CcmTokenRequested { sts_url: "https://MP.MYCORP.COM/CCM_STS".into() };
        let told: Vec<(&str, super::super::AttemptStart)> =
            RULES.iter().filter_map(|r| r.story.map(|s| (r.id, s))).collect();
        let ids: Vec<&str> = told.iter().map(|t| t.0).collect();
        assert_eq!(
            ids,
            [
                "aad-token-unavailable",
                "ccm-token-failed",
                "ccm-token-renewal-failed",
                "registration-failed",
                "install-failed"
            ]
        );
        for (rule, starts) in told {
            assert!(starts(&started) && starts(&registration), "{rule}");
            assert_eq!(starts(&aad), rule == "aad-token-unavailable", "{rule}");
            assert_eq!(
                starts(&ccm),
                matches!(rule, "ccm-token-failed" | "ccm-token-renewal-failed"),
                "{rule}"
            );
            assert!(!starts(&EventKind::CcmsetupExit { code: 0 }), "{rule}");
        }
    }
}
