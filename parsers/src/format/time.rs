//! The times written in the line formats: `HH:MM:SS.fff+BIAS` and `MM-DD-YYYY`, parsed without allocation.

use super::*;

pub(super) fn parse_digits(s: &[u8]) -> Option<u32> {
    if s.is_empty() || s.len() > 9 {
        return None;
    }
    let mut v: u32 = 0;
    for &b in s {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (b - b'0') as u32;
    }
    Some(v)
}

/// `HH:MM:SS.fff+BIAS` → (time, bias). The fraction is split from the bias at the sign character (never by
/// digit count: 7-digit fractions exist). A bias with |minutes| > 840 is rejected (None) rather than guessed.
pub fn parse_time_and_bias(s: &str) -> (Option<NaiveTime>, Option<i32>) {
    let b = s.trim().as_bytes();
    let sign_pos = b.iter().position(|&c| c == b'+' || c == b'-');
    let (clock, bias) = match sign_pos {
        Some(p) => (&b[..p], Some(&b[p..])),
        None => (b, None),
    };
    let bias = bias.and_then(|bb| {
        let neg = bb[0] == b'-';
        let v = parse_digits(&bb[1..])? as i32;
        (v <= MAX_BIAS_MINUTES).then_some(if neg { -v } else { v })
    });
    (parse_clock(clock), bias)
}

/// `HH:MM:SS` with an optional `.fraction` of any length.
pub(super) fn parse_clock(b: &[u8]) -> Option<NaiveTime> {
    let (hms, frac) = match b.iter().position(|&c| c == b'.') {
        Some(p) => (&b[..p], Some(&b[p + 1..])),
        None => (b, None),
    };
    let mut parts = hms.split(|&c| c == b':');
    let h = parse_digits(parts.next()?)?;
    let m = parse_digits(parts.next()?)?;
    let sec = parse_digits(parts.next()?)?;
    if parts.next().is_some() {
        return None;
    }
    let nanos = match frac {
        None => 0,
        Some([]) => 0,
        Some(f) => {
            let digits = &f[..f.len().min(9)];
            let v = parse_digits(digits)?;
            if !f[digits.len()..].iter().all(u8::is_ascii_digit) {
                return None;
            }
            v * 10u32.pow(9 - digits.len() as u32)
        }
    };
    NaiveTime::from_hms_nano_opt(h, m, sec, nanos)
}

/// `MM-DD-YYYY` (month first; padding optional: `9-3-2026`).
pub fn parse_date_mdy(s: &str) -> Option<NaiveDate> {
    let mut parts = s.trim().split(['-', '/']);
    let m = parse_digits(parts.next()?.as_bytes())?;
    let d = parse_digits(parts.next()?.as_bytes())?;
    let y = parse_digits(parts.next()?.as_bytes())?;
    if parts.next().is_some() || !(1000..=9999).contains(&y) {
        return None;
    }
    NaiveDate::from_ymd_opt(y as i32, m, d)
}
