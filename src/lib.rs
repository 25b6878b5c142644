//! cmtrace-rs, the command-line front end: argument parsing (`cli`), the commands (`commands`) and
//! report rendering (`render`). The engine lives in `cmtrace-analysis`, the parsers in `cmtrace-parsers`.

pub mod cli;
pub mod commands;
pub mod jsonw;
pub mod man;
pub mod render;
pub mod sanitize;
