//! Man pages generated from the clap definition (`clap_mangen` for the name, description and options), with
//! our own synopsis (the command as typed: `cmtrace-rs analyze [--format text|json|...] [PATH]...`), EXIT
//! STATUS (the statuses of `--help`, `cli::EXIT_*`), EXAMPLES and SEE ALSO: `cmtrace-rs.1` and one page per
//! subcommand (`cmtrace-rs-analyze.1`, ...). `tests/it/man.rs` fails when `man/` is stale, runs every example and
//! checks that SEE ALSO names only pages it writes; regenerate with `UPDATE_MAN=1 cargo test --test it man::`.

use clap::{ArgAction, CommandFactory};
use clap_mangen::roff::{bold, italic, roman, Inline, Roff};
use clap_mangen::Man;

use crate::cli::{
    Cli, ExitStatuses, EXIT_ANALYZE, EXIT_ANY, EXIT_COMPLETIONS, EXIT_ERROR, EXIT_PARSE, EXIT_RULES,
    EXIT_TRACE, EXIT_WATCH,
};

/// One example of a page. `tests/it/man.rs` runs `command` with `sh -c` in a folder that holds a copy of
/// `fixtures/demo/case-1234` as `case-1234` and checks its exit `status`.
pub struct Example {
    pub command: &'static str,
    pub status: i32,
    pub what: &'static str,
}

/// The examples of each page: the subcommand (`""` for `cmtrace-rs.1`) and its examples.
pub const EXAMPLES: &[(&str, &[Example])] = &[
    (
        "",
        &[
            Example {
                command: "cmtrace-rs analyze case-1234",
                status: 1,
                what: "What failed for each device in the logs collected under case-1234 (a folder, a log file or a \
                       .zip), with the log lines that show it and the fix. Status 1: error findings.",
            },
            Example { command: "cmtrace-rs help analyze", status: 0, what: "The options of analyze." },
        ],
    ),
    (
        "analyze",
        &[
            Example {
                command: "cmtrace-rs analyze case-1234",
                status: 1,
                what: "The report for a person: per device, the steps of its install, registration and token flow \
                       across hosts, then the findings with their evidence and fix.",
            },
            Example {
                command: "cmtrace-rs analyze case-1234 --device LAPTOP-K9X1 --timeline",
                status: 1,
                what: "One device (a key, an SMS GUID, an Entra ID device id or a host name), with the merged \
                       timeline of its events on every host, in UTC.",
            },
            Example {
                command: "cmtrace-rs analyze case-1234 --format json --fail-on never > report.json",
                status: 0,
                what: "The JSON document for programs (schema_version 2; docs/json-contract.md and \
                       docs/analysis.schema.json of the source describe it); status 0 whatever is found.",
            },
            Example {
                command: "cmtrace-rs analyze case-1234 --format junit --fail-on warning > cmtrace-junit.xml",
                status: 1,
                what: "A JUnit report for CI; status 1 when a warning or an error is found.",
            },
            Example {
                command: "cmtrace-rs analyze case-1234 --rule install-failed --format markdown --max-chars 20000",
                status: 1,
                what: "A ticket comment with the install failures and the root causes they follow from, at most \
                       20,000 characters.",
            },
            Example {
                command: "cmtrace-rs analyze case-1234 --since '2026-11-20 15:32' --until '2026-11-20 16:00'",
                status: 1,
                what: "Only the findings and events of that half hour (UTC); the devices' status is still \
                       decided on all the logs.",
            },
        ],
    ),
    (
        "watch",
        &[
            Example {
                command: "cmtrace-rs watch case-1234 | head -n 3",
                status: 0,
                what: "In a pipe: each file read, then each device, finding and flow event as one NDJSON line \
                       (the objects of analyze --format ndjson), and the new ones as the logs are written; here \
                       the first three. On a terminal the same flow is a screen redrawn in place. On a Windows \
                       client, cmtrace-rs watch with no PATH follows the client's own logs.",
            },
            Example {
                command: "cmtrace-rs watch --poll --interval 2000 case-1234 | grep -m 1 '\"type\":\"finding\"'",
                status: 0,
                what: "Looking at the files every 2 seconds (a network share that sends no file-system events); \
                       the first finding.",
            },
        ],
    ),
    (
        "parse",
        &[
            Example {
                command: "cmtrace-rs parse case-1234 > entries.ndjson",
                status: 0,
                what: "Every entry of every log, one JSON object per line, for DuckDB, Spark, Kusto or \
                       Elasticsearch.",
            },
            Example {
                command: "cmtrace-rs parse case-1234 --format csv > entries.csv",
                status: 0,
                what: "The same as CSV.",
            },
        ],
    ),
    (
        "trace",
        &[
            Example {
                command: "cmtrace-rs trace GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139 case-1234",
                status: 0,
                what: "Every event of every host that names this SMS client GUID, and the events tied to its \
                       device (marked ~).",
            },
            Example {
                command: "cmtrace-rs trace 8d2b4ff9-0172-4998-9851-b5324303385f case-1234 --format json",
                status: 0,
                what: "The same for an Entra ID device id, as JSON.",
            },
            Example {
                command: "cmtrace-rs trace 00000000-1111-2222-3333-444444444444 case-1234",
                status: 1,
                what: "An identifier no event carries: status 1.",
            },
        ],
    ),
    (
        "error",
        &[
            Example {
                command: "cmtrace-rs error 0x80072f8f",
                status: 0,
                what: "What an HRESULT means (here WinHTTP's certificate failure).",
            },
            Example {
                command: "cmtrace-rs error 12175 -2146885613 CERT_E_UNTRUSTEDROOT",
                status: 0,
                what: "A Win32 / WinHTTP number, a negative HRESULT as a log writes it, a name.",
            },
            Example { command: "cmtrace-rs error 0x80070643 --format json", status: 0, what: "As JSON." },
        ],
    ),
    (
        "rules",
        &[
            Example {
                command: "cmtrace-rs rules",
                status: 0,
                what: "Every rule: id, severity, what it detects and the fix.",
            },
            Example { command: "cmtrace-rs rules --format json", status: 0, what: "The catalog as JSON." },
        ],
    ),
    (
        "completions",
        &[
            Example {
                command: "cmtrace-rs completions bash > cmtrace-rs.bash",
                status: 0,
                what: "Bash completions (source the file from ~/.bashrc); --rule completes the rule ids.",
            },
            Example {
                command: "cmtrace-rs completions zsh > _cmtrace-rs",
                status: 0,
                what: "Zsh completions, for a folder of $fpath.",
            },
        ],
    ),
];

/// The exit statuses of a page (`""` for `cmtrace-rs.1`).
fn exit_statuses(sub: &str) -> ExitStatuses {
    match sub {
        "analyze" => EXIT_ANALYZE,
        "parse" => EXIT_PARSE,
        "trace" => EXIT_TRACE,
        "error" => EXIT_ERROR,
        "rules" => EXIT_RULES,
        "completions" => EXIT_COMPLETIONS,
        "watch" => EXIT_WATCH,
        _ => EXIT_ANY,
    }
}

/// The pages a page names under SEE ALSO: the main page names every subcommand's page, a subcommand's page
/// the main page and its neighbours in a support engineer's work.
fn see_also(sub: &str, subs: &[String]) -> Vec<String> {
    let related: &[&str] = match sub {
        "" => return subs.iter().map(|s| format!("cmtrace-rs-{s}")).collect(),
        "analyze" => &["watch", "trace", "rules", "error"],
        "watch" => &["analyze"],
        "parse" => &["analyze"],
        "trace" => &["analyze"],
        "error" => &["analyze", "rules"],
        "rules" => &["analyze"],
        _ => &[],
    };
    std::iter::once("cmtrace-rs".to_string())
        .chain(related.iter().map(|s| format!("cmtrace-rs-{s}")))
        .collect()
}

/// The command line as typed, from what clap accepts: `cmtrace-rs analyze [--format text|json] [PATH]...`.
fn synopsis(cmd: &clap::Command, invocation: &str) -> Vec<Inline> {
    let mut line = vec![bold(invocation)];
    let positionals: Vec<&clap::Arg> = cmd.get_positionals().filter(|a| !a.is_hide_set()).collect();
    for arg in cmd.get_arguments().filter(|a| !a.is_hide_set() && !a.is_positional()) {
        line.push(roman(" "));
        let required = arg.is_required_set();
        if !required {
            line.push(roman("["));
        }
        match (arg.get_short(), arg.get_long()) {
            (Some(s), Some(l)) => line.extend([bold(format!("-{s}")), roman("|"), bold(format!("--{l}"))]),
            (Some(s), None) => line.push(bold(format!("-{s}"))),
            (None, Some(l)) => line.push(bold(format!("--{l}"))),
            (None, None) => continue,
        }
        if arg.get_action().takes_values() {
            line.push(roman(" "));
            line.push(italic(value_text(arg)));
        }
        if !required {
            line.push(roman("]"));
        }
        if matches!(arg.get_action(), ArgAction::Append) {
            line.push(roman("..."));
        }
    }
    for arg in positionals {
        line.push(roman(" "));
        let required = arg.is_required_set();
        if !required {
            line.push(roman("["));
        }
        line.push(italic(value_text(arg)));
        if !required {
            line.push(roman("]"));
        }
        if matches!(arg.get_action(), ArgAction::Append) {
            line.push(roman("..."));
        }
    }
    if cmd.has_subcommands() {
        line.push(roman(" "));
        line.push(italic("COMMAND"));
        line.push(roman(" ["));
        line.push(italic("ARGS"));
        line.push(roman("]"));
    }
    line
}

/// An argument's value as the synopsis shows it: its possible values (`text|json`) unless they are hidden,
/// else its value name (`PATH`, `NAME=PATH`).
fn value_text(arg: &clap::Arg) -> String {
    let values: Vec<String> = arg
        .get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| v.get_name().to_string())
        .collect();
    if !values.is_empty() && !arg.is_hide_possible_values_set() {
        return values.join("|");
    }
    match arg.get_value_names() {
        Some(names) => names.iter().map(|n| n.as_str()).collect::<Vec<_>>().join(" "),
        None => arg.get_id().as_str().to_uppercase(),
    }
}

/// One page: `cmd` is the built command (its name is the page's name), `sub` the subcommand (`""` for the
/// main page).
fn page(cmd: clap::Command, sub: &str, subs: &[String]) -> Vec<u8> {
    let name = cmd.get_name().to_string();
    let invocation = if sub.is_empty() { "cmtrace-rs".to_string() } else { format!("cmtrace-rs {sub}") };
    let man = Man::new(cmd.clone()).source(format!("cmtrace-rs {}", env!("CARGO_PKG_VERSION")));
    let mut out = Vec::new();
    // Rendering into a Vec cannot fail.
    let _ = man.render_title(&mut out);
    let _ = man.render_name_section(&mut out);
    let mut roff = Roff::default();
    roff.control("SH", ["SYNOPSIS"]);
    roff.text(synopsis(&cmd, &invocation));
    let _ = roff.to_writer(&mut out);
    let _ = man.render_description_section(&mut out);
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        let _ = man.render_options_section(&mut out);
    }
    if cmd.has_subcommands() {
        let _ = man.render_subcommands_section(&mut out);
    }
    let mut roff = Roff::default();
    roff.control("SH", ["EXIT STATUS"]);
    for (code, when) in exit_statuses(sub) {
        roff.control("TP", []);
        roff.text([bold(code.to_string())]);
        roff.text([roman(*when)]);
    }
    let examples = EXAMPLES.iter().find(|(s, _)| *s == sub).map_or(&[][..], |(_, e)| *e);
    if !examples.is_empty() {
        roff.control("SH", ["EXAMPLES"]);
        for e in examples {
            roff.control("TP", []);
            roff.text([bold(e.command)]);
            roff.text([roman(e.what)]);
        }
        roff.control("PP", []);
        roff.text([roman(
            "The examples read case-1234, a folder of collected logs (the demo case of the source tree, \
             fixtures/demo/case-1234).",
        )]);
    }
    roff.control("SH", ["SEE ALSO"]);
    let also = see_also(sub, subs);
    let mut line = Vec::new();
    for (i, p) in also.iter().enumerate() {
        if i > 0 {
            line.push(roman(", "));
        }
        line.push(bold(p.as_str()));
        line.push(roman("(1)"));
    }
    roff.text(line);
    let _ = roff.to_writer(&mut out);
    if !sub.is_empty() {
        return out;
    }
    let _ = man.render_version_section(&mut out);
    debug_assert_eq!(name, "cmtrace-rs");
    out
}

/// The page with the string definition roff prints before each part (`.ie \n(.g .ds Aq ...`) kept once, at the
/// top.
fn preamble_once(page: Vec<u8>) -> Vec<u8> {
    let text = String::from_utf8(page).expect("roff is UTF-8");
    let preamble = ".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n";
    match text.split_once(preamble) {
        Some((before, after)) => format!("{before}{preamble}{}", after.replace(preamble, "")).into_bytes(),
        None => text.into_bytes(),
    }
}

/// Every man page: (file name, roff text).
pub fn pages() -> Vec<(String, Vec<u8>)> {
    // No `help` subcommand on the pages: it has none of its own.
    let mut root = Cli::command().disable_help_subcommand(true);
    root.build();
    let subs: Vec<String> = root.get_subcommands().map(|s| s.get_name().to_string()).collect();
    let mut out = vec![("cmtrace-rs.1".to_string(), preamble_once(page(root.clone(), "", &subs)))];
    for sub in root.get_subcommands() {
        let name = format!("cmtrace-rs-{}", sub.get_name());
        out.push((
            format!("{name}.1"),
            preamble_once(page(sub.clone().name(name.clone()), sub.get_name(), &subs)),
        ));
    }
    out
}
