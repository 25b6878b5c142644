//! cmtrace-analysis: the engine behind every front end. No terminal code lives here.
//!
//! - `model`: the contract's document (inputs, devices, phases, findings, timeline).
//! - `engine`: `analyze`, inputs + events → `Analysis`, one function per stage.
//! - `facts`: what the engine concluded (`Analysis`, `DeviceFacts`, `HostFacts`, `ServerRequest`) and the
//!   queries rules and `trace` use.
//! - `correlate`: request blocks, identifier union-find, weak ids, request chains in time.
//! - `skew`: per-host clock offsets from causal pairs across hosts.
//! - `phases`: per-device phase status from the flow table.
//! - `timeline`: `Analysis` → the contract's `Report` (devices, timeline).
//! - `ordered`: the events in timeline order, left where they were read.
//! - `ids`: identifiers named by events, canonical forms, which ones key devices.
//! - `causes`: the failure catalog (classes of failure, their texts and codes, a summary and a fix).
//! - `codes`: error codes, the generated table and the decoders behind `cmtrace-rs error` and reports.
//! - `path`: the path a device takes to its site (CMG or intranet MP, Entra ID or PKI) and the steps it takes.
//! - `rules`: the diagnostic rules, one table (`RULES`) evaluated over an `Analysis`, a module per family.
//! - `schema` (feature `schema`): the JSON Schemas of `--format json` and of one `--format ndjson` line.
//! - `flow_tests`, `testkit` (tests only): engine tests on hand-made flows, and the helpers that make them.

pub mod causes;
pub mod codes;
pub mod correlate;
pub mod engine;
pub mod facts;
pub mod ids;
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
pub use facts::{Analysis, DeviceFacts, HostFacts, ServerRequest};
pub use model::*;
pub use ordered::Events;
pub use skew::{HostOffset, SkewPair, SkewRelation};
