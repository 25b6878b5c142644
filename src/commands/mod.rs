//! The subcommands. Each returns the process exit status: 0 fine, 1 findings at or above `--fail-on`,
//! 2 the command could not run (bad arguments, no readable input at all).

pub mod analyze;
pub mod collect;
pub mod error;
pub mod filter;
pub mod local;
pub mod parse;
pub mod progress;
pub mod rules;
pub mod style;
pub mod trace;
pub mod watch;

use std::io::Write;

use crate::cli::{Cli, Command, FailOn};
use cmtrace_parsers::Severity;

pub const EXIT_OK: i32 = 0;
pub const EXIT_FINDINGS: i32 = 1;
pub const EXIT_UNUSABLE: i32 = 2;

pub fn run(cli: Cli) -> i32 {
    let result = match cli.command {
        Command::Parse(args) => parse::run(&args),
        Command::Analyze(args) => analyze::run(&args),
        Command::Trace(args) => trace::run(&args),
        Command::Error(args) => error::run(&args),
        Command::Rules(args) => rules::run(&args),
        Command::Watch(args) => watch::run(&args),
        Command::Completions(args) => {
            // Generated into memory (clap_complete panics when its writer fails), then written.
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(args.shell, &mut cmd, "cmtrace-rs", &mut script);
            let mut out = std::io::stdout().lock();
            out.write_all(&script).and_then(|_| out.flush()).map_err(write_failed).map(|_| EXIT_OK)
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            crate::say!("cmtrace-rs: {e}");
            EXIT_UNUSABLE
        }
    }
}

/// Exit quietly (status 0, nothing on stderr) when stdout is closed early (`| head`), as command-line
/// tools do; any other write error is the command's error.
pub fn write_failed(e: std::io::Error) -> String {
    exit_if_closed(&e);
    format!("could not write output: {e}")
}

/// Ends the process quietly (status 0) when `e` says stdout was closed by its reader.
pub fn exit_if_closed(e: &std::io::Error) {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(EXIT_OK);
    }
}

/// [`write_failed`] for `serde_json`, which wraps the writer's io error in its own.
pub fn json_write_failed(e: serde_json::Error) -> String {
    write_failed(crate::render::json::io_error(e))
}

/// Stdout for output a person reads (text, Markdown, JUnit, `trace`, `rules`, `error`): buffered, and
/// through the control-character guard; SGR colour sequences pass only when `colour` is on.
pub fn human_stdout(
    colour: bool,
) -> std::io::BufWriter<crate::sanitize::TerminalSafe<std::io::StdoutLock<'static>>> {
    std::io::BufWriter::new(crate::sanitize::TerminalSafe::new(std::io::stdout().lock(), colour))
}

/// The severity at and above which a finding fails (`--fail-on`); `None` for `never`.
pub fn fail_threshold(fail_on: FailOn) -> Option<Severity> {
    match fail_on {
        FailOn::Never => None,
        FailOn::Info => Some(Severity::Info),
        FailOn::Warning => Some(Severity::Warning),
        FailOn::Error => Some(Severity::Error),
    }
}
