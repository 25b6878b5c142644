//! JUnit XML for CI systems (Azure DevOps, GitHub, GitLab, Jenkins): one test suite per device (and one for
//! findings without a device), one test case per phase and one per finding, and a suite `inputs` with a
//! case per input that could not be read. The XML has a `<failure>` exactly when `analyze` exits non-zero:
//! findings at or above `--fail-on` are failures, findings below it pass (their text in `<system-out>`);
//! a failed phase is a failure only when its device has a finding at or above `--fail-on`, else it passes
//! with the reason in `<system-out>`; missing / not applicable phases are skipped. Unreadable inputs are
//! skipped, or failures when no input at all was readable (`analyze` exits 2 then). Hand-written with
//! full XML escaping (control characters shown as visible escapes: XML 1.0 cannot carry them); tests
//! parse it back.

use std::io::{self, Write};

use cmtrace_analysis::model::{Finding, PhaseStatus, Report};
use cmtrace_parsers::Severity;

use super::{fails, phase_label, utc};

/// Escape text for XML attribute values and character data. Control characters (but `\n` and `\t`),
/// bidi controls and the non-characters XML 1.0 forbids are written as visible escapes (`\x1b`,
/// `\u{fffe}`), so that nothing is lost.
pub fn xml_escape(s: &str) -> String {
    let shown = crate::sanitize::visible(s);
    let mut out = String::with_capacity(shown.len());
    for c in shown.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\u{FFFE}' | '\u{FFFF}' => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fn finding_body(f: &Finding) -> String {
    let mut body = format!("[{}] {}: {}\n", f.severity.as_str(), f.rule, f.title);
    if let Some(h) = &f.host {
        body.push_str(&format!("host: {h}\n"));
    }
    for e in &f.evidence {
        body.push_str(&format!("{} {} {}:{}\n  {}\n", utc(&e.time), e.host, e.path, e.line, e.text));
    }
    body.push_str(&format!("\n{}\n\nFix: {}\n", f.explanation, f.remediation));
    body
}

enum Outcome {
    /// Passed; text for `<system-out>` if any.
    Pass(Option<String>),
    /// `<failure message=..>body</failure>`
    Fail(String, String),
    /// `<skipped message=../>`
    Skip(String),
}

struct Case {
    name: String,
    class: String,
    outcome: Outcome,
}

fn write_suite(out: &mut dyn Write, name: &str, cases: &[Case]) -> io::Result<()> {
    let failures = cases.iter().filter(|c| matches!(c.outcome, Outcome::Fail(..))).count();
    let skipped = cases.iter().filter(|c| matches!(c.outcome, Outcome::Skip(_))).count();
    writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\">",
        xml_escape(name),
        cases.len(),
        failures,
        skipped
    )?;
    for c in cases {
        write!(out, "    <testcase name=\"{}\" classname=\"{}\"", xml_escape(&c.name), xml_escape(&c.class))?;
        match &c.outcome {
            Outcome::Fail(msg, body) => {
                writeln!(out, ">")?;
                writeln!(
                    out,
                    "      <failure message=\"{}\">{}</failure>",
                    xml_escape(msg),
                    xml_escape(body)
                )?;
                writeln!(out, "    </testcase>")?;
            }
            Outcome::Skip(why) => {
                writeln!(out, ">")?;
                writeln!(out, "      <skipped message=\"{}\"/>", xml_escape(why))?;
                writeln!(out, "    </testcase>")?;
            }
            Outcome::Pass(Some(text)) => {
                writeln!(out, ">")?;
                writeln!(out, "      <system-out>{}</system-out>", xml_escape(text))?;
                writeln!(out, "    </testcase>")?;
            }
            Outcome::Pass(None) => writeln!(out, "/>")?,
        }
    }
    writeln!(out, "  </testsuite>")
}

/// The report as JUnit XML. `fail_on` is `--fail-on`'s severity (`None` for `never`): only findings at
/// or above it, and failed phases of a device with such a finding, are `<failure>`s; and every unreadable
/// input when no input was readable at all.
pub fn render_junit(report: &Report, fail_on: Option<Severity>, out: &mut dyn Write) -> io::Result<()> {
    let mut suites: Vec<(String, Vec<Case>)> = Vec::new();
    for d in &report.devices {
        let mut cases = Vec::new();
        let device_fails = report
            .findings
            .iter()
            .any(|f| f.device.as_deref() == Some(d.key.as_str()) && fails(f.severity, fail_on));
        for ph in d.phases.iter() {
            let outcome = match ph.status {
                PhaseStatus::Failed => {
                    let body = ph
                        .evidence
                        .iter()
                        .map(|e| format!("{} {} {}:{}\n  {}", utc(&e.time), e.host, e.path, e.line, e.text))
                        .collect::<Vec<_>>()
                        .join("\n");
                    let body = format!("{}\n{}", ph.reason, body);
                    let msg = format!("{} failed", phase_label(ph.id));
                    if device_fails {
                        Outcome::Fail(msg, body)
                    } else {
                        Outcome::Pass(Some(format!(
                            "{msg}; the device has no finding at or above --fail-on\n{body}"
                        )))
                    }
                }
                PhaseStatus::Missing | PhaseStatus::NotCollected | PhaseStatus::NotApplicable => {
                    Outcome::Skip(format!("{}: {}", ph.status.as_str(), ph.reason))
                }
                PhaseStatus::Ok => Outcome::Pass(None),
            };
            cases.push(Case { name: ph.id.as_str().to_string(), class: d.key.to_string(), outcome });
        }
        for f in report.findings.iter().filter(|f| f.device.as_deref() == Some(d.key.as_str())) {
            cases.push(finding_case(f, &d.key, fail_on));
        }
        suites.push((d.key.to_string(), cases));
    }
    let loose: Vec<Case> = report
        .findings
        .iter()
        .filter(|f| f.device.is_none())
        .map(|f| finding_case(f, "site", fail_on))
        .collect();
    if !loose.is_empty() {
        suites.push(("findings without a device".to_string(), loose));
    }
    let inputs = input_cases(report);
    if !inputs.is_empty() {
        suites.push(("inputs".to_string(), inputs));
    }
    let cases = || suites.iter().flat_map(|(_, c)| c);
    let tests = cases().count();
    let failures = cases().filter(|c| matches!(c.outcome, Outcome::Fail(..))).count();
    writeln!(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
    writeln!(
        out,
        "<testsuites name=\"cmtrace-rs analyze\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\">"
    )?;
    for (name, cases) in &suites {
        write_suite(out, name, cases)?;
    }
    writeln!(out, "</testsuites>")
}

/// One case per input that could not be read: skipped while another input was readable, failed when
/// none was (then `analyze` cannot run, and exits 2).
fn input_cases(report: &Report) -> Vec<Case> {
    let none_readable = !report.inputs.iter().any(|i| i.was_read());
    let mut cases: Vec<Case> = report
        .inputs
        .iter()
        .filter_map(|i| {
            let error = i.error.as_ref()?;
            let outcome = if none_readable {
                Outcome::Fail(
                    format!("not read: {error}"),
                    format!("{}\n{error}\nno readable ConfigMgr log in the input", i.path),
                )
            } else {
                Outcome::Skip(format!("not read: {error}"))
            };
            Some(Case { name: i.path.to_string(), class: "inputs".to_string(), outcome })
        })
        .collect();
    if report.inputs.is_empty() {
        cases.push(Case {
            name: "no input".to_string(),
            class: "inputs".to_string(),
            outcome: Outcome::Fail(
                "no ConfigMgr log in the input".to_string(),
                "no log file was found in the given paths".to_string(),
            ),
        });
    }
    cases
}

fn finding_case(f: &Finding, class: &str, fail_on: Option<Severity>) -> Case {
    let name = format!("finding {} on {}", f.rule, f.host.as_deref().unwrap_or("-"));
    let outcome = if fails(f.severity, fail_on) {
        Outcome::Fail(format!("{}: {}", f.rule, f.title), finding_body(f))
    } else {
        Outcome::Pass(Some(finding_body(f)))
    };
    Case { name, class: class.to_string(), outcome }
}
