//! A progress bar by bytes on stderr while large inputs are read: only when stderr is a terminal and
//! the input is big enough to be worth it. Never on stdout, never in CI logs.

use std::io::IsTerminal;
use std::path::PathBuf;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Inputs smaller than this finish before a bar would be seen.
const MIN_BYTES: u64 = 64 << 20;

pub struct ByteProgress {
    bar: Option<ProgressBar>,
}

impl ByteProgress {
    pub fn new(paths: &[PathBuf]) -> ByteProgress {
        if !std::io::stderr().is_terminal() {
            return ByteProgress { bar: None };
        }
        let total: u64 = paths
            .iter()
            .flat_map(|p| walkdir::WalkDir::new(p).into_iter().filter_map(Result::ok))
            .filter(|e| e.file_type().is_file())
            .filter_map(|e| e.metadata().ok())
            .map(|m| m.len())
            .sum();
        if total < MIN_BYTES && std::env::var_os("CMTRACE_FORCE_PROGRESS").is_none() {
            return ByteProgress { bar: None };
        }
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} reading logs {bar:30} {bytes}/{total_bytes} {bytes_per_sec} {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        ByteProgress { bar: Some(bar) }
    }

    pub fn inc(&self, n: u64) {
        if let Some(b) = &self.bar {
            b.inc(n);
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
