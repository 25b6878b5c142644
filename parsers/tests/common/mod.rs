//! Helpers for the input tests: scratch folders and zip archives built in memory (with names and declared
//! sizes patched afterwards, to make the archives a hostile tester would).
#![allow(dead_code)]

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use zip::write::SimpleFileOptions;
use zip::CompressionMethod;

/// A scratch folder removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let p = std::env::temp_dir().join(format!("cmtrace-{}-{}-{name}", std::process::id(), line_id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Scratch(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Write `bytes` at `rel`, creating folders.
    pub fn file(&self, rel: &str, bytes: &[u8]) -> PathBuf {
        let p = self.0.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, bytes).unwrap();
        p
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn line_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// A CMTrace line.
pub fn cm(i: usize) -> String {
    format!(
        "<![LOG[message {i}]LOG]!><time=\"01:02:03.004+000\" date=\"01-02-2020\" component=\"ccmsetup\" context=\"\" type=\"1\" thread=\"1\" file=\"\">\r\n"
    )
}

/// A zip of `(name, bytes, deflated)` entries, in that order.
pub fn zip_of(entries: &[(&str, &[u8], bool)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes, deflated) in entries {
        let method = if *deflated { CompressionMethod::Deflated } else { CompressionMethod::Stored };
        w.start_file(*name, SimpleFileOptions::default().compression_method(method)).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// Replace every occurrence of `from` by `to` (same length): entry names in local and central headers.
pub fn patch_bytes(zip: &mut [u8], from: &[u8], to: &[u8]) {
    assert_eq!(from.len(), to.len());
    let mut i = 0;
    while i + from.len() <= zip.len() {
        if &zip[i..i + from.len()] == from {
            zip[i..i + from.len()].copy_from_slice(to);
            i += from.len();
        } else {
            i += 1;
        }
    }
}

/// Set the uncompressed size an entry declares, in its local and central headers.
pub fn patch_declared_size(zip: &mut [u8], name: &str, size: u32) {
    let n = name.as_bytes();
    for i in 0..zip.len().saturating_sub(46) {
        if zip[i..].starts_with(b"PK\x03\x04") && zip[i + 30..].starts_with(n) {
            zip[i + 22..i + 26].copy_from_slice(&size.to_le_bytes());
        }
        if zip[i..].starts_with(b"PK\x01\x02") && zip[i + 46..].starts_with(n) {
            zip[i + 24..i + 28].copy_from_slice(&size.to_le_bytes());
        }
    }
}
