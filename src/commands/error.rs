//! `cmtrace-rs error CODE...`: look up HRESULT, NTSTATUS, Win32, WinHTTP, ConfigMgr, ccmsetup exit, HTTP status-text
//! and Entra ID codes in the generated table (every interpretation of an ambiguous number). A code the table does
//! not know is said to be unknown, with what its bits tell (severity, facility), and makes the exit status 1.

use std::io::{IsTerminal, Write};

use cmtrace_analysis::codes::{describe, describe_unknown, is_known, lookup};

use super::style::Paint;
use super::{human_stdout, json_write_failed, write_failed, EXIT_FINDINGS, EXIT_OK};
use crate::cli::{ErrorArgs, SimpleFormat};
use crate::sanitize::visible_line;
use cmtrace_parsers::Severity;

pub fn run(args: &ErrorArgs) -> Result<i32, String> {
    let paint = Paint {
        on: args.format == SimpleFormat::Text && args.color.enabled(std::io::stdout().is_terminal()),
    };
    let mut out = human_stdout(paint.on);
    let mut unknown = 0;
    let mut json = Vec::new();
    for q in &args.codes {
        let found = lookup(q);
        // Known when any interpretation is in the table; the unknown interpretations of a known code (`7` is a
        // ccmsetup exit code and a Win32 code) are still listed.
        let known = found.iter().any(is_known);
        if !known {
            unknown += 1;
        }
        match args.format {
            SimpleFormat::Text => {
                if found.is_empty() {
                    writeln!(
                        out,
                        "{}",
                        paint.severity(
                            &format!(
                                "{}: unknown: not an error code (try 0x80072F8F, 12175, -2146885613, 0xC0000022 or a name)",
                                visible_line(q)
                            ),
                            Severity::Warning
                        )
                    )
                    .map_err(write_failed)?;
                }
                for m in &found {
                    match m.known {
                        Some(k) => {
                            writeln!(out, "{}", paint.bold(&visible_line(&describe(m))))
                                .map_err(write_failed)?;
                            let note = format!("    space: {:?}; source: {}", k.space, k.source);
                            writeln!(out, "{}", paint.dim(&note)).map_err(write_failed)?;
                        }
                        // An unknown reading next to a known one (`7`) is only a note; alone it is the answer.
                        None if known => {
                            writeln!(out, "{}", visible_line(&describe(m))).map_err(write_failed)?
                        }
                        None => writeln!(
                            out,
                            "{}",
                            paint.severity(&visible_line(&describe_unknown(m)), Severity::Warning)
                        )
                        .map_err(write_failed)?,
                    }
                }
            }
            SimpleFormat::Json => json.push(serde_json::json!({ "query": q, "known": known, "matches": found
                .iter()
                .map(|m| serde_json::json!({
                    "raw": m.raw,
                    "known": is_known(m),
                    "hresult": m.value.map(|v| format!("0x{v:08X}")),
                    "name": m.known.map(|k| k.name),
                    "space": m.known.map(|k| k.space),
                    "meaning": m.known.map(|k| k.meaning),
                    "source": m.known.map(|k| k.source),
                    "note": m.note,
                    "description": if is_known(m) { describe(m) } else { describe_unknown(m) },
                }))
                .collect::<Vec<_>>() })),
        }
    }
    out.flush().map_err(write_failed)?;
    drop(out);
    if args.format == SimpleFormat::Json {
        // The exact text: JSON escapes every control character itself.
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        serde_json::to_writer_pretty(&mut out, &json).map_err(json_write_failed)?;
        writeln!(out).map_err(write_failed)?;
        out.flush().map_err(write_failed)?;
    }
    Ok(if unknown > 0 { EXIT_FINDINGS } else { EXIT_OK })
}
