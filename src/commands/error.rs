//! `cmtrace-rs error CODE...`: look up HRESULT, Win32, WinHTTP, ConfigMgr, ccmsetup exit, HTTP status-text and
//! Entra ID codes in the generated table (every interpretation of an ambiguous number). Exit 1 when a code
//! is not known at all.

use std::io::Write;

use cmtrace_analysis::codes::{describe, lookup};

use super::{human_stdout, json_write_failed, write_failed, EXIT_FINDINGS, EXIT_OK};
use crate::cli::{ErrorArgs, SimpleFormat};
use crate::sanitize::visible_line;

pub fn run(args: &ErrorArgs) -> Result<i32, String> {
    let mut out = human_stdout(false);
    let mut unknown = 0;
    let mut json = Vec::new();
    for q in &args.codes {
        let found = lookup(q);
        if found.is_empty() {
            unknown += 1;
        }
        match args.format {
            SimpleFormat::Text => {
                if found.is_empty() {
                    writeln!(
                        out,
                        "{}: not a code this table knows (try 0x80072F8F, 12175, -2146885613 or a name)",
                        visible_line(q)
                    )
                    .map_err(write_failed)?;
                }
                for m in &found {
                    writeln!(out, "{}", visible_line(&describe(m))).map_err(write_failed)?;
                    if let Some(k) = m.known {
                        writeln!(out, "    space: {:?}; source: {}", k.space, k.source)
                            .map_err(write_failed)?;
                    }
                }
            }
            SimpleFormat::Json => json.push(serde_json::json!({ "query": q, "matches": found
                .iter()
                .map(|m| serde_json::json!({
                    "raw": m.raw,
                    "hresult": m.value.map(|v| format!("0x{v:08X}")),
                    "name": m.known.map(|k| k.name),
                    "space": m.known.map(|k| k.space),
                    "meaning": m.known.map(|k| k.meaning),
                    "source": m.known.map(|k| k.source),
                    "note": m.note,
                    "description": describe(m),
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
