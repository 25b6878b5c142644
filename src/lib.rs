//! cmtrace-rs CLI library.
