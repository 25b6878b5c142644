//! The `cmtrace-rs` binary: parse the command line and run the command.

use clap::Parser;

// The engine allocates many small strings and vectors; mimalloc handles that churn far better than glibc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = cmtrace_rs::cli::Cli::parse();
    let code = cmtrace_rs::commands::run(cli);
    std::process::exit(code);
}
