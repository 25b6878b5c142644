//! cmtrace-analysis: the engine behind every front end. No terminal code lives here.
//!
//! - `model`: the contract's document (inputs, devices, phases, findings, timeline).

pub mod model;

pub use model::*;
