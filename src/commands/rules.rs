//! `cmtrace-rs rules`: the diagnostic catalog (id, severity, what it detects, the fix), so that a CI owner
//! can see what `--fail-on warning` will trip on.

use std::io::{IsTerminal, Write};

use cmtrace_analysis::rules::RULES;

use super::style::{terminal_width, Paint, DEFAULT_WIDTH};
use super::{human_stdout, Failure, EXIT_OK};
use crate::cli::{RulesArgs, SimpleFormat};
use crate::render::rules::{write_json, write_text};

pub fn run(args: &RulesArgs) -> Result<u8, Failure> {
    match args.format {
        SimpleFormat::Json => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            write_json(RULES, &mut out).and_then(|()| out.flush())
        }
        SimpleFormat::Text => {
            let is_tty = std::io::stdout().is_terminal();
            let paint = Paint { on: args.color.enabled(is_tty) };
            let width = terminal_width(is_tty).unwrap_or(DEFAULT_WIDTH);
            let mut out = human_stdout(paint.on);
            write_text(RULES, width, paint, &mut out).and_then(|()| out.flush())
        }
    }
    .map_err(Failure::Output)?;
    Ok(EXIT_OK)
}
