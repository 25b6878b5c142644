//! `CMTRACE_TIMING`: the timing lines of the engine and the commands on stderr. They are `log` records
//! at debug level from the cmtrace crates; this logger prints each one's message as a line, and only when
//! `CMTRACE_TIMING` is set (no logger otherwise: the records cost nothing).

/// Prints the debug (and more severe) records of the cmtrace crates on stderr, one message a line.
struct TimingLines;

impl log::Log for TimingLines {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Debug && metadata.target().starts_with("cmtrace")
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            crate::say!("{}", record.args());
        }
    }

    fn flush(&self) {}
}

/// Installs the logger when `CMTRACE_TIMING` is set.
pub fn start_if_asked() {
    if std::env::var_os("CMTRACE_TIMING").is_some() && log::set_logger(&TimingLines).is_ok() {
        log::set_max_level(log::LevelFilter::Debug);
    }
}
