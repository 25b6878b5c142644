//! The subcommands. Each gathers its data, hands it to a writer of `render` and returns the process exit
//! status: 0 fine, 1 findings at or above `--fail-on`, 2 the command could not run (bad arguments, no
//! readable input at all); or a [`Failure`], which `main` turns into a status.

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

use std::io::{self, Write};

use crate::cli::{Cli, Command, FailOn};
use cmtrace_parsers::Severity;

pub const EXIT_OK: u8 = 0;
pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_UNUSABLE: u8 = 2;

/// Why a command stopped short. `main` turns it into the exit status: a stdout closed by its
/// reader (`| head`) is a quiet exit 0, as command-line tools do; anything else is said on stderr, exit 2.
#[derive(Debug)]
pub enum Failure {
    /// Writing stdout failed.
    Output(io::Error),
    /// The command could not run, for the reason given.
    Unusable(String),
}

impl Failure {
    /// Whether stdout was closed by its reader, which then has all it wanted: not an error.
    pub fn is_closed_stdout(&self) -> bool {
        matches!(self, Failure::Output(e) if e.kind() == io::ErrorKind::BrokenPipe)
    }
}

impl From<String> for Failure {
    fn from(reason: String) -> Failure {
        Failure::Unusable(reason)
    }
}

impl From<&str> for Failure {
    fn from(reason: &str) -> Failure {
        Failure::Unusable(reason.to_string())
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Output(e) => write!(f, "could not write output: {e}"),
            Failure::Unusable(reason) => f.write_str(reason),
        }
    }
}

/// Runs the command: its exit status (see the module's comment), or why it stopped.
pub fn run(cli: Cli) -> Result<u8, Failure> {
    match cli.command {
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
            out.write_all(&script).and_then(|_| out.flush()).map_err(Failure::Output)?;
            Ok(EXIT_OK)
        }
    }
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
