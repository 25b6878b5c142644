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

/// `YYYY-MM-DDTHH:MM:SS.mmm` (no zone). Written into a 23-byte array and appended once (two per entry of
/// `parse`: 13 appends each, every one checking the buffer's capacity, were 5% of its samples).
pub fn push_datetime(out: &mut Vec<u8>, t: &NaiveDateTime) {
    let y = t.year();
    if !(0..=9999).contains(&y) {
        out.extend_from_slice(y.to_string().as_bytes());
        let mut rest = *b"-MM-DDTHH:MM:SS.mmm";
        fill_after_year(&mut rest, t);
        out.extend_from_slice(&rest);
        return;
    }
    let mut b = *b"YYYY-MM-DDTHH:MM:SS.mmm";
    put2(&mut b[0..2], (y / 100) as u32);
    put2(&mut b[2..4], (y % 100) as u32);
    fill_after_year((&mut b[4..]).try_into().expect("19 bytes"), t);
    out.extend_from_slice(&b);
}

/// `-MM-DDTHH:MM:SS.mmm` of `t` into `b`.
fn fill_after_year(b: &mut [u8; 19], t: &NaiveDateTime) {
    let date = t.date();
    put2(&mut b[1..3], date.month());
    put2(&mut b[4..6], date.day());
    put2(&mut b[7..9], t.hour());
    put2(&mut b[10..12], t.minute());
    put2(&mut b[13..15], t.second());
    let ms = t.nanosecond() / 1_000_000;
    b[16] = b'0' + (ms / 100 % 10) as u8;
    put2(&mut b[17..19], ms % 100);
}

/// Two decimal digits of `v` (below 100) into `b`.
fn put2(b: &mut [u8], v: u32) {
    b[0] = b'0' + (v / 10 % 10) as u8;
    b[1] = b'0' + (v % 10) as u8;
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

    /// The same text as chrono's own format, for years inside and outside 0..=9999 and the last millisecond.
    #[test]
    fn formats_as_chrono_does() {
        for (y, mo, d, h, mi, sec, nano) in [
            (1, 1, 1, 0, 0, 0, 0),
            (999, 12, 31, 23, 59, 59, 999_999_999),
            (2026, 12, 4, 16, 49, 0, 123_000_000),
            (9999, 2, 28, 1, 2, 3, 4_000_000),
            (10_000, 3, 1, 4, 5, 6, 7_000_000),
            (-5, 7, 8, 9, 10, 11, 12_000_000),
        ] {
            let t = chrono::NaiveDate::from_ymd_opt(y, mo, d)
                .unwrap()
                .and_hms_nano_opt(h, mi, sec, nano)
                .unwrap();
            let mut out = Vec::new();
            push_datetime(&mut out, &t);
            let year = if (0..=9999).contains(&y) { format!("{y:04}") } else { y.to_string() };
            assert_eq!(String::from_utf8(out).unwrap(), format!("{year}{}", t.format("-%m-%dT%H:%M:%S%.3f")));
        }
    }
}
