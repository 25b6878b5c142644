//! cmtrace-rs, the command-line front end. The engine lives in `cmtrace-analysis`, the parsers in
//! `cmtrace-parsers`.
//!
//! - `cli`: the command line (clap derive), every subcommand and option.
//! - `commands`: the subcommands, each returning the process exit status.
//! - `render`: the reports for people and CI (text, Markdown, HTML, JUnit).
//! - `jsonw`: fast writers for the hot output paths (JSON string escaping, timestamps).
//! - `man`: the man pages in `man/`, generated from the command line.
//! - `sanitize`: text from logs and file names made safe to print (escape sequences, bidi overrides).

pub mod cli;
pub mod commands;
pub mod jsonw;
pub mod man;
pub mod render;
pub mod sanitize;
