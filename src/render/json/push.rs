//! JSON values appended to a byte buffer, fast, for the hot output paths (`parse --format ndjson`, the
//! devices and timeline of `analyze --format json`): string escaping (the same bytes as `serde_json`),
//! integers and timestamps, with no intermediate allocation.

use chrono::{Datelike, NaiveDateTime, Timelike};

/// Append `s` as a JSON string literal (quotes included). Clean 16-byte blocks (no quote, backslash or
/// control byte: almost all log text) are copied whole; only dirty blocks are escaped byte by byte.
pub fn push_str(out: &mut Vec<u8>, s: &str) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut chunks = bytes.chunks_exact(16);
    for block in &mut chunks {
        let dirty = block.iter().fold(false, |acc, &b| acc | (b < 0x20) | (b == b'"') | (b == b'\\'));
        if dirty {
            escape_into(out, block);
        } else {
            out.extend_from_slice(block);
        }
    }
    escape_into(out, chunks.remainder());
    out.push(b'"');
}

fn escape_into(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => {
                out.extend_from_slice(&bytes[start..i]);
                out.extend_from_slice(b"\\u00");
                out.push(HEX[(b >> 4) as usize]);
                out.push(HEX[(b & 15) as usize]);
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(esc);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn push2(out: &mut Vec<u8>, v: u32) {
    out.push(b'0' + (v / 10 % 10) as u8);
    out.push(b'0' + (v % 10) as u8);
}

/// `YYYY-MM-DDTHH:MM:SS.mmm` (no zone).
pub fn push_datetime(out: &mut Vec<u8>, t: &NaiveDateTime) {
    let y = t.year();
    if (0..=9999).contains(&y) {
        push2(out, (y / 100) as u32);
        push2(out, (y % 100) as u32);
    } else {
        out.extend_from_slice(y.to_string().as_bytes());
    }
    out.push(b'-');
    push2(out, t.month());
    out.push(b'-');
    push2(out, t.day());
    out.push(b'T');
    push2(out, t.hour());
    out.push(b':');
    push2(out, t.minute());
    out.push(b':');
    push2(out, t.second());
    out.push(b'.');
    let ms = t.nanosecond() / 1_000_000;
    out.push(b'0' + (ms / 100 % 10) as u8);
    push2(out, ms % 100);
}

pub fn push_int<I: itoa::Integer>(out: &mut Vec<u8>, v: I) {
    let mut buf = itoa::Buffer::new();
    out.extend_from_slice(buf.format(v).as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_serde_json() {
        for s in [
            "plain",
            "a long clean line of text, longer than sixteen bytes \" then dirty \\ ok",
            "quote \" back \\ nl \n cr \r tab \t nul \0 bell \x07 bs \x08 ff \x0c del \x7f",
            "ünï €",
            "",
        ] {
            let mut out = Vec::new();
            push_str(&mut out, s);
            let back: String = serde_json::from_slice(&out).unwrap();
            assert_eq!(back, s);
            assert_eq!(out, serde_json::to_vec(s).unwrap(), "the same bytes as serde_json");
        }
    }

    #[test]
    fn formats_millis() {
        let t = chrono::NaiveDate::from_ymd_opt(2020, 6, 4)
            .unwrap()
            .and_hms_nano_opt(7, 8, 9, 5_600_000)
            .unwrap();
        let mut out = Vec::new();
        push_datetime(&mut out, &t);
        assert_eq!(out, b"2020-06-04T07:08:09.005");
    }
}
