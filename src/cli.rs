//! The command line (clap derive): every subcommand and option, with help texts in the terms a
//! ConfigMgr support engineer uses. The man pages in `man/` are generated from this definition.

use std::ffi::OsStr;
use std::path::PathBuf;

use clap::builder::{PossibleValue, StringValueParser, TypedValueParser};
use clap::{Parser, Subcommand, ValueEnum};
use cmtrace_parsers::input::{HostOverride, Limits};

/// The exit statuses of each command, for `--help` (`after_help`) and the man pages' EXIT STATUS: (status,
/// when).
pub type ExitStatuses = &'static [(u8, &'static str)];

/// Every command: what the statuses mean across the subcommands.
pub const EXIT_ANY: ExitStatuses = &[
    (0, "done (analyze: no finding at or above --fail-on); also when stdout is closed early (| head)"),
    (1, "analyze: a finding at or above --fail-on; trace: no event carries the identifier; error: a code is unknown"),
    (2, "the command could not run: a bad argument, a filter that names nothing, no readable log in the input"),
];
pub const EXIT_ANALYZE: ExitStatuses = &[
    (0, "no finding at or above --fail-on (default: error; never: always 0)"),
    (1, "at least one finding at or above --fail-on, among those the filters show"),
    (
        2,
        "the command could not run: a bad argument; a filter that names nothing (--rule with an id that is not a \
         rule, --device that matches no device, --since later than --until, --host whose path holds nothing), \
         which prints nothing on stdout; or no readable log in the input, where the report is still printed and \
         names every input that could not be read",
    ),
];
pub const EXIT_PARSE: ExitStatuses = &[
    (0, "every entry of every readable file was printed (stderr names the files that could not be read)"),
    (2, "a bad argument, or no readable log in the input"),
];
pub const EXIT_TRACE: ExitStatuses = &[
    (0, "events that carry the identifier (or belong to the device it names) were printed"),
    (1, "no event carries the identifier"),
    (2, "a bad argument, an empty identifier, or no readable log in the input"),
];
pub const EXIT_ERROR: ExitStatuses = &[
    (0, "every code is known"),
    (1, "at least one code is unknown (what its bits tell is still printed)"),
    (2, "a bad argument"),
];
pub const EXIT_WATCH: ExitStatuses = &[
    (
        0,
        "stopped: Ctrl-C or q on the terminal, SIGINT, SIGTERM or SIGHUP, or stdout closed by its reader \
         (| head)",
    ),
    (2, "a bad argument, or a PATH or --host path that does not exist"),
];
pub const EXIT_RULES: ExitStatuses = &[(0, "the catalog was printed"), (2, "a bad argument")];
pub const EXIT_COMPLETIONS: ExitStatuses =
    &[(0, "the script was printed"), (2, "a bad argument (a shell it does not know)")];

/// The `--help` epilogue of a command: its exit statuses, wrapped to 80 columns under a hanging indent (clap
/// wraps again only on a narrower terminal).
pub fn exit_help(statuses: ExitStatuses) -> String {
    const INDENT: usize = 5;
    let mut s = String::from("Exit status:");
    for (code, when) in statuses {
        let lines = crate::commands::style::wrap_lines(when, 80 - INDENT, 80 - INDENT);
        s.push_str(&format!("\n  {code}  {}", lines.join(&format!("\n{:INDENT$}", ""))));
    }
    s
}

#[derive(Debug, Parser)]
#[command(
    name = "cmtrace-rs",
    version,
    after_help = exit_help(EXIT_ANY),
    about = "Explain why a ConfigMgr client failed to install, register or renew its CCM token over a CMG with Entra ID",
    long_about = "cmtrace-rs reads collected Configuration Manager logs from every host of the flow (client, cloud \
management gateway, CMG connection point, management point), normalises each host's time to UTC, correlates the \
device across hosts and reports what failed, with the log lines that prove it and the fix."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Reconstruct the install / registration / token flow per device and report findings
    #[command(
        after_help = exit_help(EXIT_ANALYZE),
        long_about = "Reconstruct the install / registration / token flow per device and report findings. With \
no PATH: on a Windows ConfigMgr client, its own log folders (%WINDIR%\\CCM\\Logs, %WINDIR%\\ccmsetup\\Logs) as the \
host named COMPUTERNAME; elsewhere the current folder."
    )]
    Analyze(AnalyzeArgs),
    /// Follow the logs as they are written: each device's phases, the findings with their fix, the flow's
    /// events, live
    #[command(
        after_help = exit_help(EXIT_WATCH),
        long_about = "Follow the logs under PATH as ConfigMgr writes them (appended, rolled over to .lo_ or \
name-YYYYMMDD-HHMMSS.log, truncated, new files and host folders), and analyse the flow again as lines \
arrive. On a terminal: each device's phases with their status and time, the newest findings with their \
fix and the last flow events, redrawn in place (q or Ctrl-C quits). Otherwise: each new input, changed \
device, finding and flow event as one NDJSON line, the objects of `analyze --format ndjson`, flushed \
after each batch."
    )]
    Watch(WatchArgs),
    /// Print every log entry of every file as NDJSON or CSV (for DuckDB, Spark, Kusto, Elasticsearch)
    #[command(after_help = exit_help(EXIT_PARSE))]
    Parse(ParseArgs),
    /// Print every flow event on every host that carries an identifier (GUID, tenant, SID, message id)
    #[command(after_help = exit_help(EXIT_TRACE))]
    Trace(TraceArgs),
    /// Look up an error code (HRESULT, Win32, WinHTTP, NTSTATUS, ConfigMgr, ccmsetup exit code); exit 1 when one is unknown
    #[command(after_help = exit_help(EXIT_ERROR))]
    Error(ErrorArgs),
    /// List the diagnostic rules: id, severity, what they detect and the fix
    #[command(after_help = exit_help(EXIT_RULES))]
    Rules(RulesArgs),
    /// Print shell completions (bash, zsh, fish, powershell, elvish)
    #[command(after_help = exit_help(EXIT_COMPLETIONS))]
    Completions(CompletionsArgs),
}

/// Inputs shared by the commands that read logs.
#[derive(Debug, clap::Args)]
pub struct InputArgs {
    /// Folders (searched recursively), log files or .zip bundles of collected logs [default: .]
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Treat every file under PATH as written by host NAME (overrides the host taken from the folder layout)
    #[arg(long = "host", value_name = "NAME=PATH")]
    pub hosts: Vec<HostOverride>,
    /// The most one zip entry may inflate to (e.g. 512M, 2G); an entry past it is not read and is named in
    /// the report with why
    #[arg(long, value_name = "SIZE", default_value = "256M", value_parser = parse_size)]
    pub max_entry_size: u64,
    /// The most one zip archive may inflate to in all, nested archives included (e.g. 8G)
    #[arg(long, value_name = "SIZE", default_value = "4G", value_parser = parse_size)]
    pub max_archive_size: u64,
}

/// A size in bytes: a number with an optional unit K, M, G or T (powers of 1024; `KiB`, `MB`... read the
/// same).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(digits);
    let n: u64 = number.parse().map_err(|_| format!("'{s}' is not a size (e.g. 256M, 4G, 1048576)"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => return Err(format!("'{s}': unknown unit '{unit}' (use K, M, G or T)")),
    };
    n.checked_mul(1u64 << shift).filter(|&v| v > 0).ok_or_else(|| format!("'{s}' is not a usable size"))
}

impl InputArgs {
    /// How far zip entries and archives may inflate.
    pub fn limits(&self) -> Limits {
        Limits { max_entry_bytes: self.max_entry_size, max_archive_bytes: self.max_archive_size }
    }

    pub fn paths_or_cwd(&self) -> Vec<PathBuf> {
        if self.paths.is_empty() {
            vec![PathBuf::from(".")]
        } else {
            self.paths.clone()
        }
    }
}

/// `cmtrace-rs watch`.
#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    /// Folders (searched recursively) or log files to follow [default: on a Windows ConfigMgr client, its
    /// log folders %WINDIR%\CCM\Logs and %WINDIR%\ccmsetup\Logs as host COMPUTERNAME; else .]
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Treat every file under PATH as written by host NAME (overrides the host taken from the folder layout)
    #[arg(long = "host", value_name = "NAME=PATH")]
    pub hosts: Vec<HostOverride>,
    /// Look at the files every --interval instead of waiting for file-system events (network shares and
    /// file systems that send none); used anyway when events cannot be had
    #[arg(long)]
    pub poll: bool,
    /// How often --poll looks, in milliseconds
    #[arg(long, value_name = "MS", default_value_t = 500, value_parser = clap::value_parser!(u64).range(10..=60_000))]
    pub interval: u64,
    /// A flow that stopped with no error (flow-incomplete) is reported once the logs have given no line for
    /// this many seconds: while lines still come, it is only the flow in progress
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub settle: u64,
    /// Colour of the screen: auto (not when NO_COLOR is set), always or never
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ParseFormat {
    Ndjson,
    Csv,
}

#[derive(Debug, clap::Args)]
pub struct ParseArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Output format
    #[arg(long, value_enum, default_value = "ndjson")]
    pub format: ParseFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// A readable report for a support engineer (default)
    Text,
    /// One JSON document (the stable contract, schema_version 2: docs/json-contract.md)
    Json,
    /// One JSON object per line: inputs, devices, findings, events (schema_version 2)
    Ndjson,
    /// The text report as Markdown, for tickets and pull-request comments
    Markdown,
    /// A self-contained HTML page: fleet overview, per-device swimlanes across hosts, evidence in context
    Html,
    /// JUnit XML: one test case per device and phase, findings as failures
    Junit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum FailOn {
    Info,
    Warning,
    Error,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Colour on: `always`; or `auto` on a terminal when `NO_COLOR` is unset or empty.
    pub fn enabled(self, is_tty: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => is_tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }
}

/// `--rule`: the text as given, checked against the catalog by `commands::filter` (any case; an unknown id
/// stops the command with the valid ids), and the catalog's ids offered to shell completion.
#[derive(Debug, Clone, Copy)]
pub struct RuleIdParser;

impl TypedValueParser for RuleIdParser {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<String, clap::Error> {
        StringValueParser::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(cmtrace_analysis::rules::RULES.iter().map(|r| PossibleValue::new(r.id).help(r.title))))
    }
}

#[derive(Debug, clap::Args)]
pub struct AnalyzeArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Output format
    #[arg(long, value_enum, default_value = "text")]
    pub format: ReportFormat,
    /// Exit with status 1 when a finding at or above this severity exists
    #[arg(long, value_enum, default_value = "error")]
    pub fail_on: FailOn,
    /// Colour: auto (only on a terminal, and not when NO_COLOR is set), always or never
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorChoice,
    /// Also print the merged cross-host timeline of the flow's events (UTC)
    #[arg(long)]
    pub timeline: bool,
    /// Only this device (its key, an SMS GUID, Azure AD device id or host name)
    #[arg(long, value_name = "KEY")]
    pub device: Option<String>,
    /// Only events and findings at or after this time (RFC 3339, or YYYY-MM-DD HH:MM:SS as UTC)
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Only events and findings at or before this time (RFC 3339, or YYYY-MM-DD HH:MM:SS as UTC)
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Only findings of this rule id (repeatable; `cmtrace-rs rules` lists them, any case is accepted)
    #[arg(long = "rule", value_name = "ID", value_parser = RuleIdParser, hide_possible_values = true)]
    pub rules: Vec<String>,
    /// Devices listed with their flow table in the text and Markdown reports: all, failing (an error or
    /// warning finding) or none. Default: all up to 20 devices; past 20 a fleet summary opens the report
    /// and only failing devices are listed (the others are counted)
    #[arg(long, value_enum, value_name = "WHICH")]
    pub devices: Option<DevicesShown>,
    /// Markdown: at most this many characters (a ticket or pull-request comment); what is left out is
    /// said at the end. 0: no limit
    #[arg(long, value_name = "N", default_value_t = 60_000)]
    pub max_chars: usize,
}

/// `--devices`: which devices the text and Markdown reports list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DevicesShown {
    All,
    Failing,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SimpleFormat {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct TraceArgs {
    /// The identifier: SMS client GUID, Azure AD device/user/tenant id, SID, message id or URL part
    pub id: String,
    #[command(flatten)]
    pub input: InputArgs,
    /// Output format
    #[arg(long, value_enum, default_value = "text")]
    pub format: SimpleFormat,
    /// Colour of the text output: auto (only on a terminal, and not when NO_COLOR is set), always or never
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorChoice,
}

#[derive(Debug, clap::Args)]
pub struct ErrorArgs {
    /// Codes: 0x80092013, 80092013, -2146885613, 12175, CERT_E_UNTRUSTEDROOT, CMGConnector_Forbidden
    #[arg(required = true, value_name = "CODE", allow_negative_numbers = true)]
    pub codes: Vec<String>,
    /// Output format
    #[arg(long, value_enum, default_value = "text")]
    pub format: SimpleFormat,
    /// Colour of the text output: auto (only on a terminal, and not when NO_COLOR is set), always or never
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorChoice,
}

#[derive(Debug, clap::Args)]
pub struct RulesArgs {
    /// Output format
    #[arg(long, value_enum, default_value = "text")]
    pub format: SimpleFormat,
    /// Colour of the text output: auto (only on a terminal, and not when NO_COLOR is set), always or never
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorChoice,
}

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}
