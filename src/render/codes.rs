//! `error`'s output: what the code table says of each code asked for (every interpretation of an
//! ambiguous number, an unknown code with what its bits tell), as text or as an indented JSON array.

use std::io::{self, Write};

use cmtrace_analysis::codes::{describe, describe_unknown, is_known, CodeMention};
use cmtrace_parsers::Severity;

use super::Paint;
use crate::sanitize::visible_line;

/// One code asked for and its interpretations.
pub struct CodeLookup<'a> {
    /// As asked.
    pub query: &'a str,
    pub found: Vec<CodeMention>,
}

impl CodeLookup<'_> {
    /// Known when any interpretation is in the table; the unknown interpretations of a known code (`7` is
    /// a ccmsetup exit code and a Win32 code) are still listed.
    pub fn known(&self) -> bool {
        self.found.iter().any(is_known)
    }
}

/// Each code's interpretations, a line each (a known one with its number space and source below it).
pub fn write_text(lookups: &[CodeLookup<'_>], paint: Paint, out: &mut impl Write) -> io::Result<()> {
    for lookup in lookups {
        if lookup.found.is_empty() {
            writeln!(
                out,
                "{}",
                paint.severity(
                    &format!(
                        "{}: unknown: not an error code (try 0x80072F8F, 12175, -2146885613, 0xC0000022 or a name)",
                        visible_line(lookup.query)
                    ),
                    Severity::Warning
                )
            )?;
        }
        let known = lookup.known();
        for m in &lookup.found {
            match m.known {
                Some(k) => {
                    writeln!(out, "{}", paint.bold(&visible_line(&describe(m))))?;
                    let note = format!("    space: {:?}; source: {}", k.space, k.source);
                    writeln!(out, "{}", paint.dim(&note))?;
                }
                // An unknown reading next to a known one (`7`) is only a note; alone it is the answer.
                None if known => writeln!(out, "{}", visible_line(&describe(m)))?,
                None => writeln!(
                    out,
                    "{}",
                    paint.severity(&visible_line(&describe_unknown(m)), Severity::Warning)
                )?,
            }
        }
    }
    Ok(())
}

/// An indented JSON array: for each code, the query, whether it is known, and its interpretations (keys
/// in alphabetical order, as `serde_json` keeps them). The exact text: JSON escapes every control
/// character itself.
pub fn write_json(lookups: &[CodeLookup<'_>], out: &mut impl Write) -> io::Result<()> {
    let rows: Vec<serde_json::Value> = lookups
        .iter()
        .map(|lookup| {
            serde_json::json!({ "query": lookup.query, "known": lookup.known(), "matches": lookup.found
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
                .collect::<Vec<_>>() })
        })
        .collect();
    super::json::write_pretty(&rows, out)
}
