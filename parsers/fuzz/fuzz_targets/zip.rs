//! Fuzz the zip reader: any bytes as a zip archive are listed and every entry found is loaded, with small
//! limits (1 MiB an entry, 4 MiB an archive). Nothing may panic, and nothing may be allocated past the
//! limits (run with `-rss_limit_mb`/`-malloc_limit_mb` to hold it to that).
#![no_main]

use cmtrace_parsers::input::{discover_zip_bytes, load, Limits};
use libfuzzer_sys::fuzz_target;

const LIMITS: Limits = Limits { max_entry_bytes: 1 << 20, max_archive_bytes: 4 << 20 };

fuzz_target!(|data: &[u8]| {
    let d = discover_zip_bytes("fuzz.zip", data.to_vec(), LIMITS);
    let mut total = 0u64;
    for f in &d.files {
        if let Ok(loaded) = load(f) {
            let n = loaded.text().len() as u64;
            // Decoded text may be larger than the bytes (ANSI/UTF-16 to UTF-8), never past 3x.
            assert!(n <= 3 * LIMITS.max_entry_bytes);
            total += n;
        }
    }
    assert!(total <= 3 * LIMITS.max_archive_bytes);
});
