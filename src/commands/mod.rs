//! The subcommands. Each returns the process exit status: 0 fine, 1 findings at or above `--fail-on`,
//! 2 the command could not run (bad arguments, no readable input at all).

pub mod analyze;
pub mod collect;
pub mod error;
pub mod filter;
pub mod parse;
pub mod progress;
pub mod rules;
pub mod trace;

use crate::cli::{Cli, Command};

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
        Command::Completions(args) => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(args.shell, &mut cmd, "cmtrace-rs", &mut std::io::stdout());
            Ok(EXIT_OK)
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("cmtrace-rs: {e}");
            EXIT_UNUSABLE
        }
    }
}

/// Exit quietly when stdout is closed early (`| head`), as command-line tools do.
pub fn write_failed(e: std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    format!("could not write output: {e}")
}
