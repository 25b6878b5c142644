//! The man pages in `man/` must match the clap definition (`UPDATE_MAN=1 cargo test --test it man::` rewrites
//! them), and say what is true: every example runs with the exit status it is given, the synopsis names only
//! options the command accepts, SEE ALSO only pages that exist. `--help` names the exit statuses, and the
//! shell completions offer the rule ids for `analyze --rule`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{cmtrace, BIN};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn bin() -> Command {
    let mut c = cmtrace();
    c.env_remove("NO_COLOR").env_remove("COLUMNS");
    c
}

#[test]
fn man_pages_are_current() {
    let dir = root().join("man");
    let update = std::env::var_os("UPDATE_MAN").is_some();
    let mut stale = Vec::new();
    let pages = cmtrace_rs::man::pages();
    for (name, text) in &pages {
        let path = dir.join(name);
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, text).unwrap();
        } else if std::fs::read(&path).ok().as_deref() != Some(&text[..]) {
            stale.push(name.clone());
        }
    }
    // A page no longer generated must not stay behind.
    let written: BTreeSet<&str> = pages.iter().map(|(n, _)| n.as_str()).collect();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if !written.contains(name.as_str()) {
            if update {
                std::fs::remove_file(dir.join(&name)).unwrap();
            } else {
                stale.push(name);
            }
        }
    }
    assert!(stale.is_empty(), "stale man pages {stale:?}: run `UPDATE_MAN=1 cargo test --test it man::`");
}

/// The roff text of each page, by file name.
fn pages() -> Vec<(String, String)> {
    cmtrace_rs::man::pages()
        .into_iter()
        .map(|(n, t)| (n, String::from_utf8(t).expect("roff is UTF-8")))
        .collect()
}

/// The text of section `name` of a page (up to the next `.SH`).
fn section<'a>(page: &'a str, name: &str) -> &'a str {
    let head = if name.contains(' ') { format!(".SH \"{name}\"\n") } else { format!(".SH {name}\n") };
    let start = page.find(&head).unwrap_or_else(|| panic!("no {name} section")) + head.len();
    let end = page[start..].find("\n.SH ").map_or(page.len(), |e| start + e);
    &page[start..end]
}

/// Roff with its escapes and fonts removed: `\fB\-\-format\fR` reads `--format`.
fn plain(roff: &str) -> String {
    roff.replace("\\fB", "")
        .replace("\\fI", "")
        .replace("\\fR", "")
        .replace("\\-", "-")
        .replace("\\*(Aq", "'")
}

#[test]
fn every_page_has_exit_status_examples_and_see_also_that_exist() {
    let pages = pages();
    let names: BTreeSet<String> = pages.iter().map(|(n, _)| n.trim_end_matches(".1").to_string()).collect();
    for (name, page) in &pages {
        let exit = plain(section(page, "EXIT STATUS"));
        assert!(exit.contains("\n0\n") || exit.starts_with(".TP\n0\n"), "{name}: no status 0: {exit}");
        assert!(exit.contains("\n2\n"), "{name}: no status 2: {exit}");
        assert!(!plain(section(page, "EXAMPLES")).trim().is_empty(), "{name}: no example");
        let also = plain(section(page, "SEE ALSO"));
        let named: Vec<&str> = also.split(", ").map(|p| p.trim().trim_end_matches("(1)")).collect();
        assert!(!named.is_empty(), "{name}: SEE ALSO is empty");
        for p in named {
            assert!(names.contains(p), "{name}: SEE ALSO names {p}(1), which man/ does not hold");
        }
        // Every `name(1)` anywhere on the page (SUBCOMMANDS too) is a page of man/.
        let text = plain(page);
        for (i, _) in text.match_indices("(1)") {
            let word = text[..i].rsplit(|c: char| c.is_whitespace() || c == ',').next().unwrap_or_default();
            assert!(names.contains(word), "{name}: names {word}(1), which man/ does not hold");
        }
    }
}

#[test]
fn the_synopsis_names_only_what_the_command_accepts() {
    for (name, page) in pages() {
        let synopsis = plain(section(&page, "SYNOPSIS"));
        let sub = name.trim_end_matches(".1").strip_prefix("cmtrace-rs-").map(str::to_string);
        let invocation = match &sub {
            Some(s) => format!("cmtrace-rs {s}"),
            None => "cmtrace-rs".to_string(),
        };
        assert!(
            synopsis.starts_with(&invocation),
            "{name}: the synopsis does not start with {invocation}: {synopsis}"
        );
        let help = bin().args(sub.iter()).arg("--help").output().expect("cmtrace-rs runs");
        let help = String::from_utf8(help.stdout).unwrap();
        let options: Vec<&str> = synopsis
            .split(|c: char| c.is_whitespace() || c == '[' || c == ']' || c == '|')
            .filter(|w| w.starts_with('-'))
            .collect();
        assert!(options.contains(&"--help"), "{name}: {synopsis}");
        for option in options {
            assert!(
                [" ", ",", "\n"].iter().any(|end| help.contains(&format!("{option}{end}"))),
                "{name}: the synopsis names {option}, which `{invocation} --help` does not list"
            );
            // What --help lists, the command accepts: -V only where there is a version to print.
            if option == "-V" || option == "--version" {
                let out = bin().args(sub.iter()).arg(option).output().unwrap();
                assert_eq!(out.status.code(), Some(0), "{name}: {invocation} {option} is refused");
            }
        }
        if sub.is_some() {
            assert!(!synopsis.contains("-V"), "{name}: subcommands print no version: {synopsis}");
            let out = bin().args(sub.iter()).arg("-V").output().unwrap();
            assert_eq!(out.status.code(), Some(2), "{name}: `{invocation} -V` is accepted after all");
        }
    }
}

/// A folder holding a copy of the demo case as `case-1234`, where the examples run.
fn example_folder() -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                copy(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), &target).unwrap();
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    copy(&root().join("fixtures/demo/case-1234"), &dir.path().join("case-1234"));
    dir
}

#[test]
fn every_example_runs_with_its_exit_status() {
    let dir = example_folder();
    let bin_dir = PathBuf::from(BIN).parent().unwrap().to_path_buf();
    let path = std::env::join_paths(
        std::iter::once(bin_dir).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .unwrap();
    let mut failures = Vec::new();
    let mut n = 0;
    for (sub, examples) in cmtrace_rs::man::EXAMPLES {
        for e in *examples {
            let out = Command::new("sh")
                .args(["-c", e.command])
                .current_dir(dir.path())
                .env("PATH", &path)
                .env_remove("NO_COLOR")
                .output()
                .expect("sh runs");
            if out.status.code() != Some(e.status) {
                failures.push(format!(
                    "{sub}: `{}` exits {:?}, not {}: {}",
                    e.command,
                    out.status.code(),
                    e.status,
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
            if e.command.contains('>') {
                let file = e.command.rsplit('>').next().unwrap().trim();
                let len = std::fs::metadata(dir.path().join(file)).map(|m| m.len()).unwrap_or(0);
                if len == 0 {
                    failures.push(format!("{sub}: `{}` wrote nothing to {file}", e.command));
                }
            } else if out.stdout.is_empty() && e.status == 0 {
                failures.push(format!("{sub}: `{}` printed nothing", e.command));
            }
            n += 1;
        }
    }
    assert!(failures.is_empty(), "man page examples that do not do what they say:\n{}", failures.join("\n"));
    assert!(n >= 15, "only {n} examples");
    // Every page has its examples.
    let subs: BTreeSet<&str> = cmtrace_rs::man::EXAMPLES.iter().map(|(s, _)| *s).collect();
    assert_eq!(subs.len(), pages().len());
}

#[test]
fn help_names_the_exit_statuses() {
    for args in [&["--help"][..], &["-h"], &["analyze", "--help"], &["analyze", "-h"], &["help", "analyze"]] {
        let out = bin().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        let tail =
            &text[text.find("Exit status:").unwrap_or_else(|| panic!("{args:?}: no exit status: {text}"))..];
        for code in ["\n  0  ", "\n  1  ", "\n  2  "] {
            assert!(tail.contains(code), "{args:?}: status {code:?} not named: {tail}");
        }
        assert!(tail.contains("--fail-on"), "{args:?}: {tail}");
    }
    for sub in ["parse", "trace", "error", "rules", "completions", "watch"] {
        let text = String::from_utf8(bin().args([sub, "--help"]).output().unwrap().stdout).unwrap();
        assert!(text.contains("Exit status:\n  0  "), "{sub} --help: {text}");
    }
    let text = String::from_utf8(bin().args(["analyze", "--help"]).output().unwrap().stdout).unwrap();
    assert!(text.contains("schema_version 2") && !text.contains("schema_version 1"), "{text}");
}

#[test]
fn completions_offer_the_rule_ids() {
    let ids: Vec<String> = cmtrace_analysis::rules::RULES.iter().map(|r| r.id.to_string()).collect();
    for shell in ["bash", "zsh", "fish"] {
        let out = bin().args(["completions", shell]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let script = String::from_utf8(out.stdout).unwrap();
        for id in &ids {
            assert!(script.contains(id.as_str()), "{shell} completions do not offer --rule {id}");
        }
    }
    // Offering the ids does not make clap refuse an id: the filter does, with the valid ids, in any case.
    let out = bin().args(["analyze", "fixtures/demo/case-1234", "--rule", "no-such-rule"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with(
            "cmtrace-rs: --rule 'no-such-rule' is not a rule id; the rules are: root-ca-untrusted, "
        ),
        "{err}"
    );
    let out = bin()
        .args(["analyze", "fixtures/demo/case-1234", "--rule", "Install-Failed", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
}
