//! In a pseudo-terminal (util-linux `script`), `analyze` colours its report and shows a progress bar on
//! stderr; in a pipe it does neither. Needs `script` (Debian's bsdutils, which `.ci/run` installs): without it
//! the tests fail and say so, rather than pass without looking.

use std::process::Command;

fn in_pty(cmd: &str, env: &[(&str, &str)]) -> String {
    assert!(
        Command::new("script").arg("--version").output().is_ok(),
        "util-linux `script` is needed to run the binary in a pseudo-terminal: install Debian's bsdutils"
    );
    let mut c = Command::new("script");
    c.args(["-qec", cmd, "/dev/null"]).env_remove("NO_COLOR").env("COLUMNS", "100");
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().expect("script runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn bin() -> String {
    assert_cmd::cargo::cargo_bin("cmtrace-rs").display().to_string()
}

#[test]
fn colour_on_a_terminal_and_not_with_no_color() {
    let cmd = format!("{} analyze fixtures/demo/case-1234 --fail-on never", bin());
    let tty = in_pty(&cmd, &[]);
    assert!(tty.contains("\u{1b}["), "colour on a terminal");
    assert!(tty.contains("root-ca-untrusted"));
    let plain = in_pty(&cmd, &[("NO_COLOR", "1")]);
    assert!(!plain.contains("\u{1b}[3"), "NO_COLOR turns colour off on a terminal too");
    let forced = in_pty(&format!("{cmd} --color never"), &[]);
    assert!(!forced.contains("\u{1b}[3"));
}

#[test]
fn progress_bar_only_on_a_terminal() {
    // CMTRACE_FORCE_PROGRESS lowers the size threshold so a small fixture shows the bar.
    let cmd = format!("{} analyze fixtures/demo/case-1234 --format json --fail-on never > /dev/null", bin());
    let tty = in_pty(&cmd, &[("CMTRACE_FORCE_PROGRESS", "1")]);
    assert!(tty.contains("reading logs"), "progress on the terminal's stderr: {tty:?}");
    // In a pipe (this test's own stderr is not a terminal): no bar.
    let out = Command::new(bin())
        .args(["analyze", "fixtures/demo/case-1234", "--format", "json", "--fail-on", "never"])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("reading logs"));
    assert!(
        serde_json::from_slice::<serde_json::Value>(&out.stdout).is_ok(),
        "stdout is only the JSON document"
    );
}
