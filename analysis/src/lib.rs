//! cmtrace-analysis: the engine behind every front end. No terminal code lives here.
//!
//! From the files and flow events `cmtrace_parsers::Reader` reads, [`analyze`] finds the devices across hosts
//! (client, CMG, connection point, management point), estimates each host's clock offset, orders the events
//! on one UTC timeline and works out every device's 11 phases; [`rules::evaluate`] gives the findings, each
//! with the log lines that show it and the fix; [`Analysis::into_report`] makes the contract's document
//! (`analyze --format json`).
//!
//! ```
//! use cmtrace_analysis::{analyze, rules, Input};
//! use cmtrace_parsers::Reader;
//!
//! // A collection: one folder per host. Here a client whose install fails on an untrusted CMG certificate.
//! let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/bundles/root-ca-untrusted-install");
//! let logs = Reader::new().read(&[&folder]);
//! let inputs: Vec<Input> = logs.files.into_iter().map(Input::from).collect();
//! let analysis = analyze(inputs, logs.events);
//! let findings = rules::evaluate(&analysis);
//! for f in &findings {
//!     println!("{:?} {} ({}): {}", f.severity, f.rule, f.device.as_deref().unwrap_or("no device"), f.title);
//!     for line in &f.evidence {
//!         println!("    {}:{} on {}: {}", line.path, line.line, line.host, line.text.get());
//!     }
//!     println!("    fix: {}", f.remediation);
//! }
//! # if folder.exists() {
//! #     assert!(findings.iter().any(|f| f.rule == "root-ca-untrusted"));
//! # }
//! ```
//!
//! Modules:
//! - `model`: the contract's document (inputs, devices, phases, findings, timeline).
//! - `engine`: `analyze`, inputs + events → `Analysis`, one function per stage.
//! - `facts`: what the engine concluded (`Analysis`, `DeviceFacts`, `HostFacts`, `ServerRequest`) and the
//!   queries rules and `trace` use.
//! - `correlate`: request blocks, identifier union-find, weak ids, request chains in time.
//! - `skew`: per-host clock offsets from causal pairs across hosts.
//! - `phases`: per-device phase status from the flow table.
//! - `timeline`: `Analysis` → the contract's `Report` (devices, timeline).
//! - `index`: typed positions (`EventIx`, `DeviceIx`, `HostIx`) and the vectors they index (`TiVec`).
//! - `ordered`: the events in timeline order, left where they were read.
//! - `ids`: identifiers named by events, canonical forms, which ones key devices.
//! - `causes`: the failure catalog (classes of failure, their texts and codes, a summary and a fix).
//! - `codes`: error codes, the generated table and the decoders behind `cmtrace-rs error` and reports.
//! - `path`: the path a device takes to its site (CMG or intranet MP, Entra ID or PKI) and the steps it takes.
//! - `rules`: the diagnostic rules, one table (`RULES`) evaluated over an `Analysis`, a module per family.
//! - `schema` (feature `schema`): the JSON Schemas of `--format json` and of one `--format ndjson` line.
//! - `flow_tests`, `testkit` (tests only): engine tests on hand-made flows, and the helpers that make them.

#![deny(missing_docs)]

pub mod causes;
pub mod codes;
pub mod correlate;
pub mod engine;
pub mod facts;
pub mod ids;
pub mod index;
pub mod model;
pub mod ordered;
pub mod path;
pub mod phases;
pub mod rules;
#[cfg(feature = "schema")]
pub mod schema;
pub mod skew;
pub mod timeline;

#[cfg(test)]
mod flow_tests;
#[cfg(test)]
pub(crate) mod testkit;

pub use engine::analyze;
pub use facts::{Analysis, DeviceFacts, HostFacts, ServerRequest, ServerRequests};
pub use index::{DeviceIx, EventIx, HostIx, TimeMs};
pub use model::*;
pub use ordered::Events;
pub use skew::{HostOffset, SkewPair, SkewRelation};
