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
    // Two digits each, as ConfigMgr writes them: read in place (the general reader below splits on `:`).
    if b.len() >= 8 && b[2] == b':' && b[5] == b':' && (b.len() == 8 || b[8] == b'.') {
        let two = |i: usize| {
            let (x, y) = (b[i].wrapping_sub(b'0'), b[i + 1].wrapping_sub(b'0'));
            (x < 10 && y < 10).then_some(u32::from(x) * 10 + u32::from(y))
        };
        if let (Some(h), Some(m), Some(sec)) = (two(0), two(3), two(6)) {
            let frac = (b.len() > 8).then(|| &b[9..]);
            return NaiveTime::from_hms_nano_opt(h, m, sec, fraction_nanos(frac)?);
        }
    }
    read_clock(b)
}

/// `parse_clock` for any layout: hours, minutes and seconds of one to nine digits each.
fn read_clock(b: &[u8]) -> Option<NaiveTime> {
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
    NaiveTime::from_hms_nano_opt(h, m, sec, fraction_nanos(frac)?)
}

/// The nanoseconds of a clock's fraction (the digits after `.`; none or empty is 0): the first nine digits
/// count, the rest must be digits too.
fn fraction_nanos(frac: Option<&[u8]>) -> Option<u32> {
    match frac {
        None | Some([]) => Some(0),
        Some(f) => {
            let digits = &f[..f.len().min(9)];
            let v = parse_digits(digits)?;
            if !f[digits.len()..].iter().all(u8::is_ascii_digit) {
                return None;
            }
            Some(v * 10u32.pow(9 - digits.len() as u32))
        }
    }
}

/// `MM-DD-YYYY` (month first; padding optional: `9-3-2026`). Consecutive records of a file almost always
/// share their date: the last date text read on this thread is answered without reading it again.
pub fn parse_date_mdy(s: &str) -> Option<NaiveDate> {
    type LastDate = ([u8; 16], usize, Option<NaiveDate>);
    thread_local! {
        static LAST: std::cell::Cell<LastDate> = const { std::cell::Cell::new(([0; 16], usize::MAX, None)) };
    }
    let b = s.as_bytes();
    if b.len() > 16 {
        return read_date_mdy(s);
    }
    LAST.with(|last| {
        let (text, len, date) = last.get();
        if len == b.len() && text[..len] == *b {
            return date;
        }
        let date = read_date_mdy(s);
        let mut text = [0; 16];
        text[..b.len()].copy_from_slice(b);
        last.set((text, b.len(), date));
        date
    })
}

/// `parse_date_mdy` without the cache.
fn read_date_mdy(s: &str) -> Option<NaiveDate> {
    let mut parts = s.trim().split(['-', '/']);
    let m = parse_digits(parts.next()?.as_bytes())?;
    let d = parse_digits(parts.next()?.as_bytes())?;
    let y = parse_digits(parts.next()?.as_bytes())?;
    if parts.next().is_some() || !(1000..=9999).contains(&y) {
        return None;
    }
    NaiveDate::from_ymd_opt(y as i32, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The in-place reading of two-digit clocks gives what the general reader gives, on every layout.
    #[test]
    fn two_digit_clocks_read_as_the_general_reader_reads_them() {
        let clocks = [
            "00:00:00",
            "23:59:59",
            "12:34:56.789",
            "12:34:56.1234567",
            "12:34:56.123456789012",
            "12:34:56.",
            "24:00:00",
            "23:60:00",
            "23:59:60",
            "23:59:59.9999999999",
            "1:02:03",
            "01:2:03",
            "01:02:3",
            "01:02:03x",
            "0a:00:00",
            "00:00:00.12a",
            "00:00:00:00",
            "00:00",
            "",
            "::",
            "99:99:99.999",
            "-1:00:00",
            "01:02:03.-5",
        ];
        for c in clocks {
            assert_eq!(parse_clock(c.as_bytes()), read_clock(c.as_bytes()), "{c:?}");
        }
        assert_eq!(parse_clock(b"12:34:56.789"), NaiveTime::from_hms_milli_opt(12, 34, 56, 789));
    }

    /// A date read again from the thread's last one is the date read afresh, and a different text is read.
    #[test]
    fn a_repeated_date_is_the_date_read_afresh() {
        for d in
            ["12-04-2026", "12-04-2026", "12-05-2026", "9-3-2026", "02-30-2020", "02-30-2020", "12-04-2026"]
        {
            assert_eq!(parse_date_mdy(d), read_date_mdy(d), "{d:?}");
        }
        let long = "12-04-2026              ";
        assert_eq!(parse_date_mdy(long), read_date_mdy(long));
        assert_eq!(parse_date_mdy("12-04-2026"), NaiveDate::from_ymd_opt(2026, 12, 4));
    }
}
