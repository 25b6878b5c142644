//! `cmtrace-rs rules`: the diagnostic catalog (id, severity, what it detects, the fix), so that a CI owner
//! can see what `--fail-on warning` will trip on.

use std::io::Write;

use cmtrace_analysis::rules::RULES;

use super::{human_stdout, json_write_failed, write_failed, EXIT_OK};
use crate::cli::{RulesArgs, SimpleFormat};

pub fn run(args: &RulesArgs) -> Result<i32, String> {
    match args.format {
        SimpleFormat::Json => {
            let rows: Vec<serde_json::Value> = RULES
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
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            serde_json::to_writer_pretty(&mut out, &rows).map_err(json_write_failed)?;
            writeln!(out).map_err(write_failed)?;
            out.flush().map_err(write_failed)?;
        }
        SimpleFormat::Text => {
            let mut out = human_stdout(false);
            for r in RULES {
                writeln!(out, "{:<28} {:<8} {}", r.id, r.severity.as_str(), r.title).map_err(write_failed)?;
                writeln!(out, "    {}", r.explanation).map_err(write_failed)?;
                writeln!(out, "    Fix: {}", r.remediation).map_err(write_failed)?;
                writeln!(out).map_err(write_failed)?;
            }
            out.flush().map_err(write_failed)?;
        }
    }
    Ok(EXIT_OK)
}
