//! JUnit XML for CI systems (Azure DevOps, GitHub, GitLab, Jenkins): one test suite per device (and one for
//! findings without a device), one test case per phase; failed phases and the device's findings at
//! warning or error are failures (findings get their own test cases), missing / not applicable phases are
//! skipped. Hand-written with full XML escaping; tests parse it back.

use std::io::{self, Write};

use cmtrace_analysis::model::{Finding, PhaseStatus, Report};
use cmtrace_parsers::Severity;

use super::{phase_label, utc};

/// Escape text for XML attribute values and character data; drops characters XML 1.0 forbids.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
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

struct Case {
    name: String,
    class: String,
    failure: Option<(String, String)>,
    skipped: Option<String>,
}

fn write_suite(out: &mut dyn Write, name: &str, cases: &[Case]) -> io::Result<()> {
    let failures = cases.iter().filter(|c| c.failure.is_some()).count();
    let skipped = cases.iter().filter(|c| c.skipped.is_some()).count();
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
        match (&c.failure, &c.skipped) {
            (Some((msg, body)), _) => {
                writeln!(out, ">")?;
                writeln!(
                    out,
                    "      <failure message=\"{}\">{}</failure>",
                    xml_escape(msg),
                    xml_escape(body)
                )?;
                writeln!(out, "    </testcase>")?;
            }
            (None, Some(why)) => {
                writeln!(out, ">")?;
                writeln!(out, "      <skipped message=\"{}\"/>", xml_escape(why))?;
                writeln!(out, "    </testcase>")?;
            }
            (None, None) => writeln!(out, "/>")?,
        }
    }
    writeln!(out, "  </testsuite>")
}

pub fn render_junit(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut suites: Vec<(String, Vec<Case>)> = Vec::new();
    for d in &report.devices {
        let mut cases = Vec::new();
        for ph in &d.phases {
            let failure = (ph.status == PhaseStatus::Failed).then(|| {
                let body = ph
                    .evidence
                    .iter()
                    .map(|e| format!("{} {} {}:{}\n  {}", utc(&e.time), e.host, e.path, e.line, e.text))
                    .collect::<Vec<_>>()
                    .join("\n");
                (
                    format!("{} failed", phase_label(ph.id)),
                    format!("{}\n{}", ph.note.as_deref().unwrap_or_default(), body),
                )
            });
            let skipped = match ph.status {
                PhaseStatus::Missing | PhaseStatus::NotApplicable => {
                    Some(ph.note.as_deref().unwrap_or(ph.status.as_str()).to_string())
                }
                _ => None,
            };
            cases.push(Case { name: ph.id.as_str().to_string(), class: d.key.clone(), failure, skipped });
        }
        for f in report.findings.iter().filter(|f| f.device.as_deref() == Some(d.key.as_str())) {
            cases.push(finding_case(f, &d.key));
        }
        suites.push((d.key.clone(), cases));
    }
    let loose: Vec<Case> =
        report.findings.iter().filter(|f| f.device.is_none()).map(|f| finding_case(f, "site")).collect();
    if !loose.is_empty() {
        suites.push(("findings without a device".to_string(), loose));
    }
    let tests: usize = suites.iter().map(|(_, c)| c.len()).sum();
    let failures: usize = suites.iter().flat_map(|(_, c)| c).filter(|c| c.failure.is_some()).count();
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

fn finding_case(f: &Finding, class: &str) -> Case {
    let name = format!("finding {} on {}", f.rule, f.host.as_deref().unwrap_or("-"));
    match f.severity {
        Severity::Error | Severity::Warning => Case {
            name,
            class: class.to_string(),
            failure: Some((format!("{}: {}", f.rule, f.title), finding_body(f))),
            skipped: None,
        },
        Severity::Info => Case { name, class: class.to_string(), failure: None, skipped: None },
    }
}
