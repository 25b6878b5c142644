//! Reading the inputs for the engine: `cmtrace_parsers::read` reads them; this gives its per-file results
//! as the contract's `Input` rows and says on stderr when event texts cannot go to a temporary file.

use cmtrace_analysis::model::Input;
use cmtrace_parsers::input::{HostOverride, Limits};
use cmtrace_parsers::EventStore;
use cmtrace_parsers::Spill;
use cmtrace_parsers::{Reader, TextStore};

use std::path::PathBuf;

/// Everything read from the inputs.
pub struct Collected {
    pub inputs: Vec<Input>,
    pub events: EventStore,
    /// Problems with whole paths (missing folder, broken zip), and files passed over (path, reason).
    pub problems: Vec<(String, String)>,
    pub skipped: Vec<(String, String)>,
    /// The problems and the zip entries passed over, as `inputs[]` rows with `error` set: every input
    /// problem is in the document, not only on stderr.
    pub problem_inputs: Vec<Input>,
    /// `--host NAME=PATH` overrides that name nothing (as given, why).
    pub unused_overrides: Vec<(String, String)>,
    pub bytes: u64,
}

impl Collected {
    /// A `--host` override whose path does not exist or holds no input is a mistake that would go
    /// unnoticed (every file keeps the host of its folder): the command stops with exit status 2.
    pub fn check_host_overrides(&self) -> Result<(), String> {
        check_host_overrides(&self.unused_overrides)
    }
}

/// The error for `--host` overrides that name nothing (`Discovery::unused_overrides`), if any.
pub fn check_host_overrides(unused: &[(String, String)]) -> Result<(), String> {
    if unused.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = unused.iter().map(|(o, why)| format!("--host {o}: {why}")).collect();
    Err(list.join("; "))
}

/// What a command reads the inputs for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadFor {
    /// Every identifier of every event (the HTML report searches them, `trace` matches them).
    EveryId,
    /// The identifiers the engine and the reports that show no event's identifiers use: the message ids of
    /// the CMG's and connection point's requests are left out (`Reader::without_request_message_ids`).
    Report,
}

/// Read every input; `progress` is called with the bytes of each file as it is finished. Zip entries and
/// archives inflate at most to `limits`.
pub fn collect(
    paths: &[PathBuf],
    hosts: &[HostOverride],
    limits: Limits,
    read_for: ReadFor,
    progress: impl FnMut(u64),
) -> Collected {
    // Event texts go to a temporary file, not memory (where none can be made, they stay in memory).
    let texts = match Spill::new() {
        Ok(spill) => TextStore::Spill(spill),
        Err(e) => {
            crate::say!("cmtrace-rs: no temporary file for event texts ({e}): they are kept in memory");
            TextStore::Memory
        }
    };
    let logs = Reader::new()
        .hosts(hosts)
        .limits(limits)
        .texts(texts)
        .without_request_message_ids(read_for == ReadFor::Report)
        .read_with_progress(paths, progress);
    let problem_inputs = logs.problem_files().into_iter().map(Input::from).collect();
    Collected {
        inputs: logs.files.into_iter().map(Input::from).collect(),
        events: logs.events,
        problems: logs.problems.into_iter().map(|p| (p.path, p.error)).collect(),
        skipped: logs.skipped,
        problem_inputs,
        unused_overrides: logs.unused_overrides,
        bytes: logs.bytes,
    }
}
