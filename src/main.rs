//! The `cmtrace-rs` binary: parse the command line and run the command.

use clap::Parser;

fn main() {
    let cli = cmtrace_rs::cli::Cli::parse();
    let code = cmtrace_rs::commands::run(cli);
    std::process::exit(code);
}
