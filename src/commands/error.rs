//! `cmtrace-rs error CODE...`: look up HRESULT, NTSTATUS, Win32, WinHTTP, ConfigMgr, ccmsetup exit, HTTP status-text
//! and Entra ID codes in the generated table (every interpretation of an ambiguous number). A code the table does
//! not know is said to be unknown, with what its bits tell (severity, facility), and makes the exit status 1.

use std::io::{IsTerminal, Write};

use cmtrace_analysis::codes::lookup;

use super::style::Paint;
use super::{human_stdout, Failure, EXIT_FINDINGS, EXIT_OK};
use crate::cli::{ErrorArgs, SimpleFormat};
use crate::render::codes::{write_json, write_text, CodeLookup};

pub fn run(args: &ErrorArgs) -> Result<u8, Failure> {
    let lookups: Vec<CodeLookup<'_>> =
        args.codes.iter().map(|q| CodeLookup { query: q, found: lookup(q) }).collect();
    match args.format {
        SimpleFormat::Text => {
            let paint = Paint { on: args.color.enabled(std::io::stdout().is_terminal()) };
            let mut out = human_stdout(paint.on);
            write_text(&lookups, paint, &mut out).and_then(|()| out.flush())
        }
        SimpleFormat::Json => {
            // The exact text: JSON escapes every control character itself.
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            write_json(&lookups, &mut out).and_then(|()| out.flush())
        }
    }
    .map_err(Failure::Output)?;
    Ok(if lookups.iter().any(|l| !l.known()) { EXIT_FINDINGS } else { EXIT_OK })
}
