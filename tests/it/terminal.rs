//! In a pseudo-terminal (util-linux `script`), `analyze` colours its report and shows a progress bar on
//! stderr; in a pipe it does neither. Needs `script` (Debian's bsdutils, which `.ci/run` installs): without it
//! the tests fail and say so, rather than pass without looking.

use std::process::Command;

use crate::common::{cmtrace, BIN};

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

#[test]
fn colour_on_a_terminal_and_not_with_no_color() {
    let cmd = format!("{BIN} analyze fixtures/demo/case-1234 --fail-on never");
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
    let cmd = format!("{BIN} analyze fixtures/demo/case-1234 --format json --fail-on never > /dev/null");
    let tty = in_pty(&cmd, &[("CMTRACE_FORCE_PROGRESS", "1")]);
    assert!(tty.contains("reading logs"), "progress on the terminal's stderr: {tty:?}");
    // In a pipe (this test's own stderr is not a terminal): no bar.
    let out = cmtrace()
        .args(["analyze", "fixtures/demo/case-1234", "--format", "json", "--fail-on", "never"])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("reading logs"));
    assert!(
        serde_json::from_slice::<serde_json::Value>(&out.stdout).is_ok(),
        "stdout is only the JSON document"
    );
}

/// `trace`, `error` and `rules` colour their text as `analyze` does: on a terminal unless `NO_COLOR` is set
/// or `--color never` is given, in a pipe only with `--color always`, and never their JSON.
#[test]
fn trace_error_and_rules_colour_like_analyze() {
    let commands = [
        "trace GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139 fixtures/demo/case-1234",
        "error 0x80072f8f 0x12345678",
        "rules",
    ];
    for args in commands {
        let cmd = format!("{BIN} {args}");
        assert!(in_pty(&cmd, &[]).contains("\u{1b}["), "{args}: colour on a terminal");
        assert!(!in_pty(&cmd, &[("NO_COLOR", "1")]).contains("\u{1b}["), "{args}: NO_COLOR on a terminal");
        assert!(!in_pty(&format!("{cmd} --color never"), &[]).contains("\u{1b}["), "{args}: --color never");
        assert!(
            !in_pty(&format!("{cmd} --format json --color always"), &[]).contains("\u{1b}["),
            "{args}: JSON"
        );
        let piped = |extra: &[&str]| {
            let out = cmtrace()
                .args(args.split(' '))
                .args(extra)
                .env_remove("NO_COLOR")
                .output()
                .expect("cmtrace-rs runs");
            String::from_utf8(out.stdout).unwrap()
        };
        assert!(!piped(&[]).contains('\u{1b}'), "{args}: no colour in a pipe");
        assert!(piped(&["--color", "always"]).contains("\u{1b}["), "{args}: --color always in a pipe");
    }
}

/// `rules` wraps its explanations and fixes: to COLUMNS, to the terminal, or to 100 columns in a pipe.
#[test]
fn rules_wrap_to_the_width() {
    let lines = |cols: Option<&str>| {
        let mut c = cmtrace();
        c.arg("rules").env_remove("COLUMNS");
        if let Some(cols) = cols {
            c.env("COLUMNS", cols);
        }
        let text = String::from_utf8(c.output().expect("cmtrace-rs runs").stdout).unwrap();
        text.lines().map(|l| l.chars().count()).collect::<Vec<_>>()
    };
    for (cols, width) in [(None, 100), (Some("72"), 72), (Some("140"), 140)] {
        let lengths = lines(cols);
        assert!(lengths.len() > 100, "{cols:?}: {} lines", lengths.len());
        assert!(lengths.iter().all(|&n| n <= width), "{cols:?}: a line is longer than {width}");
        assert!(lengths.iter().any(|&n| n > width - 20), "{cols:?}: lines do not fill {width} columns");
    }
    // On a terminal, coloured: the width is counted without the colour sequences.
    let tty = in_pty(&format!("{BIN} rules"), &[("COLUMNS", "90")]);
    assert!(tty.contains("\u{1b}["));
    let visible = |line: &str| {
        let mut n = 0;
        let mut in_sgr = false;
        for c in line.trim_end_matches('\r').chars() {
            match (in_sgr, c) {
                (false, '\u{1b}') => in_sgr = true,
                (true, 'm') => in_sgr = false,
                (true, _) => {}
                (false, _) => n += 1,
            }
        }
        n
    };
    assert!(tty.lines().all(|l| visible(l) <= 90), "on a terminal: a line is longer than 90");
    assert!(tty.lines().any(|l| visible(l) > 70));
}
