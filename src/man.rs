//! Man pages generated from the clap definition (`clap_mangen`): `cmtrace-rs.1` and one page per
//! subcommand (`cmtrace-rs-analyze.1`, ...). `tests/man.rs` fails when `man/` is stale; regenerate with
//! `UPDATE_MAN=1 cargo test --test man`.

use clap::CommandFactory;

use crate::cli::Cli;

/// Every man page: (file name, roff text).
pub fn pages() -> Vec<(String, Vec<u8>)> {
    let root = Cli::command();
    let mut out = Vec::new();
    let mut buf = Vec::new();
    // Rendering into a Vec cannot fail.
    let _ = clap_mangen::Man::new(root.clone()).render(&mut buf);
    out.push(("cmtrace-rs.1".to_string(), buf));
    for sub in root.get_subcommands() {
        let name = format!("cmtrace-rs-{}", sub.get_name());
        let cmd = sub.clone().name(name.clone()).version(env!("CARGO_PKG_VERSION"));
        let mut buf = Vec::new();
        let _ = clap_mangen::Man::new(cmd).render(&mut buf);
        out.push((format!("{name}.1"), buf));
    }
    out
}
