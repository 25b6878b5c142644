//! cmtrace-rs, the command-line front end. The engine lives in `cmtrace-analysis`, the parsers in
//! `cmtrace-parsers`.
//!
//! - `cli`: the command line (clap derive), every subcommand and option.
//! - `commands`: the subcommands, each gathering its data for a writer of `render` and returning the
//!   process exit status.
//! - `render`: every output: the reports for people and CI (text, Markdown, HTML, JUnit), the JSON and
//!   NDJSON documents, `parse`'s rows, `trace`, `rules` and `error`.
//! - `man`: the man pages in `man/`, generated from the command line.
//! - `sanitize`: text from logs and file names made safe to print (escape sequences, bidi overrides).
//! - `timing`: the `CMTRACE_TIMING` lines on stderr (a `log` logger).

pub mod cli;
pub mod commands;
pub mod man;
pub mod render;
pub mod sanitize;
pub mod timing;
