//! `cmtrace-rs error CODE...`: look up HRESULT, Win32, WinHTTP, ConfigMgr, ccmsetup exit, HTTP status-text and
//! Entra ID codes in the generated table (every interpretation of an ambiguous number). Exit 1 when a code
//! is not known at all.

use std::io::Write;

use cmtrace_analysis::codes::{describe, lookup};

use super::{write_failed, EXIT_FINDINGS, EXIT_OK};
use crate::cli::{ErrorArgs, SimpleFormat};

pub fn run(args: &ErrorArgs) -> Result<i32, String> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
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
                        "{q}: not a code this table knows (try 0x80072F8F, 12175, -2146885613 or a name)"
                    )
                    .map_err(write_failed)?;
                }
                for m in &found {
                    writeln!(out, "{}", describe(m)).map_err(write_failed)?;
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
    if args.format == SimpleFormat::Json {
        serde_json::to_writer_pretty(&mut out, &json).map_err(|e| e.to_string())?;
        writeln!(out).map_err(write_failed)?;
    }
    Ok(if unknown > 0 { EXIT_FINDINGS } else { EXIT_OK })
}
