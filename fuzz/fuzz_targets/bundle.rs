//! Fuzz `analyze` on an arbitrary bundle: the bytes become a folder of logs from several hosts
//! (`bundle_format.rs`), read, analysed and rendered in every format. It must never panic; every log
//! file written is in `inputs[]`; the JSON document parses; human formats carry no raw control
//! character.
#![no_main]

#[path = "../bundle_format.rs"]
mod bundle_format;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let root = std::env::temp_dir().join(format!("cmtrace-fuzz-bundle-{}", std::process::id()));
    let files = bundle_format::write_bundle(data, &root);
    bundle_format::check_analyze(&root, &files);
});
