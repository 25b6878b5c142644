//! `rules`' output: the diagnostic catalog, as an indented JSON array or as text for a person (each
//! rule's id, severity and title, then its explanation and fix, wrapped to the width).

use std::io::{self, Write};

use cmtrace_analysis::rules::Rule;

use super::{wrap_lines, Paint};

/// The rules as an indented JSON array of objects: id, severity, title, explanation, remediation and
/// `inferred_from_absence` (keys in alphabetical order, as `serde_json` keeps them).
pub fn write_json(rules: &[Rule], out: &mut impl Write) -> io::Result<()> {
    let rows: Vec<serde_json::Value> = rules
        .iter()
        .map(|r| {
            serde_json::json!({
                "id": r.id,
                "severity": r.severity,
                "title": r.title,
                "explanation": r.explanation,
                "remediation": r.remediation,
                "inferred_from_absence": r.symptom,
            })
        })
        .collect();
    super::json::write_pretty(&rows, out)
}

/// The rules for a person, wrapped to `width`.
pub fn write_text(rules: &[Rule], width: usize, paint: Paint, out: &mut impl Write) -> io::Result<()> {
    for r in rules {
        out.write_all(render_rule(r, width, paint).as_bytes())?;
    }
    Ok(())
}

/// One rule for a person: id, severity and title on the first line, then the explanation and the fix, each
/// wrapped to `width` under a hanging indent, and a blank line.
fn render_rule(r: &Rule, width: usize, paint: Paint) -> String {
    const ID: usize = 28;
    const SEVERITY: usize = 8;
    let head = ID + 1 + SEVERITY + 1;
    let mut out = String::new();
    out.push_str(&paint.bold(&format!("{:<ID$}", r.id)));
    out.push(' ');
    out.push_str(&paint.severity(&format!("{:<SEVERITY$}", r.severity.as_str()), r.severity));
    // The title beside them when 40 columns are left for it, else on the lines below.
    let title_indent = if width.saturating_sub(head) >= 40 {
        out.push(' ');
        head
    } else {
        out.push_str("\n    ");
        4
    };
    let title = wrap_lines(r.title, width.saturating_sub(title_indent), width.saturating_sub(title_indent));
    out.push_str(&title.join(&format!("\n{:title_indent$}", "")));
    out.push('\n');
    let mut block = |label: &str, text: &str| {
        let indent = "    ";
        let first = indent.len() + label.len();
        for (i, line) in
            wrap_lines(text, width.saturating_sub(first), width.saturating_sub(first)).iter().enumerate()
        {
            if i == 0 {
                out.push_str(indent);
                if !label.is_empty() {
                    out.push_str(&paint.bold(label));
                }
            } else {
                out.push_str(&" ".repeat(first));
            }
            out.push_str(line);
            out.push('\n');
        }
    };
    block("", r.explanation);
    block("Fix: ", r.remediation);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use cmtrace_analysis::rules::RULES;

    #[test]
    fn a_rule_is_wrapped_to_the_width() {
        for width in [60, 80, 100, 140] {
            for r in RULES {
                let text = render_rule(r, width, Paint { on: false });
                for line in text.lines() {
                    // Only a word longer than a line could pass the width; the catalog has none.
                    assert!(line.chars().count() <= width, "{} at {width}: {line:?}", r.id);
                }
                let words = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
                let mut expected = vec![r.id.to_string(), r.severity.as_str().to_string()];
                expected.extend(words(r.title));
                expected.extend(words(r.explanation));
                expected.push("Fix:".into());
                expected.extend(words(r.remediation));
                assert_eq!(words(&text), expected, "{}: every word, in order", r.id);
                assert!(text.ends_with("\n\n"));
            }
        }
        let r = &RULES[0];
        let text = render_rule(r, 140, Paint { on: false });
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[1].starts_with("    ") && !lines[1].starts_with("     "), "{text}");
        let fix = lines.iter().position(|l| l.starts_with("    Fix: ")).expect("a Fix line");
        assert!(lines[fix + 1].starts_with("         ") || lines[fix + 1].is_empty(), "{text}");
    }
}
