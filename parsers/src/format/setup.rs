//! The setup format (site-role setup logs): the `<ctime>` or `<MM/DD/YY HH:MM:SS>` prefix, its local time,
//! the component (a role name) and the message.

use super::*;

/// The most bytes a setup-log prefix takes: `<Www Mmm dd HH:MM:SS yyyy>` and a space, with room for
/// extra padding.
pub(super) const SETUP_PREFIX_MAX: usize = 40;

/// A setup-log line prefix at the start of `line`: `<Www Mmm dd HH:MM:SS yyyy>` (C `ctime` order; the day
/// space-padded, zero-padded or not) or `<MM/DD/YY HH:MM:SS>` (month first; a four-digit year too), then one
/// optional space. Returns the prefix length and the local time (`None` when the shape is right but the date
/// or time is impossible, e.g. Feb 30).
pub(super) fn parse_setup_prefix(line: &[u8]) -> Option<(usize, Option<NaiveDateTime>)> {
    if line.first() != Some(&b'<') {
        return None;
    }
    let head = &line[..line.len().min(SETUP_PREFIX_MAX)];
    let gt = memchr::memchr(b'>', head)?;
    let inner = std::str::from_utf8(&head[1..gt]).ok()?;
    if !inner.bytes().all(|c| c == b' ' || c == b':' || c == b'/' || c.is_ascii_alphanumeric()) {
        return None;
    }
    let mut tokens = inner.split(' ').filter(|t| !t.is_empty());
    let (t1, t2) = (tokens.next()?, tokens.next()?);
    let time = if t1.contains('/') {
        // `MM/DD/YY HH:MM:SS`
        if tokens.next().is_some() {
            return None;
        }
        let mut d = t1.split('/');
        let (m, day, y) = (d.next()?, d.next()?, d.next()?);
        let digits = |t: &str, n: std::ops::RangeInclusive<usize>| {
            n.contains(&t.len()) && t.bytes().all(|c| c.is_ascii_digit())
        };
        if d.next().is_some() || !digits(m, 1..=2) || !digits(day, 1..=2) || !(y.len() == 2 || y.len() == 4) {
            return None;
        }
        let clock = setup_clock(t2)?;
        let y = parse_digits(y.as_bytes())? as i32;
        let y = match y {
            0..=69 => 2000 + y,
            70..=99 => 1900 + y,
            _ => y,
        };
        let date = NaiveDate::from_ymd_opt(y, parse_digits(m.as_bytes())?, parse_digits(day.as_bytes())?);
        date.zip(clock).map(|(d, t)| NaiveDateTime::new(d, t))
    } else {
        // `Www Mmm dd HH:MM:SS yyyy`
        const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
        const MONTHS: [&str; 12] =
            ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
        let (day, hms, year) = (tokens.next()?, tokens.next()?, tokens.next()?);
        if tokens.next().is_some() || !DAYS.iter().any(|d| d.eq_ignore_ascii_case(t1)) {
            return None;
        }
        let month = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(t2))? as u32 + 1;
        if !(1..=2).contains(&day.len()) || year.len() != 4 {
            return None;
        }
        let (day, year) = (parse_digits(day.as_bytes())?, parse_digits(year.as_bytes())?);
        let clock = setup_clock(hms)?;
        let date = NaiveDate::from_ymd_opt(year as i32, month, day);
        date.zip(clock).map(|(d, t)| NaiveDateTime::new(d, t))
    };
    let len = if line.get(gt + 1) == Some(&b' ') { gt + 2 } else { gt + 1 };
    Some((len, time))
}

/// `HH:MM:SS` of a setup prefix: its shape must hold (`Some`), its value may be impossible (`Some(None)`).
pub(super) fn setup_clock(t: &str) -> Option<Option<NaiveTime>> {
    let mut parts = t.split(':');
    let ok = (0..3).all(|_| {
        parts.next().is_some_and(|p| (1..=2).contains(&p.len()) && p.bytes().all(|c| c.is_ascii_digit()))
    });
    (ok && parts.next().is_none()).then(|| parse_clock(t.as_bytes()))
}

/// Whether the line `line` (from its start) starts a record of the setup format's files: after its byte
/// order marks, a setup prefix or a CMTrace `<![LOG[`. Reads at most the marks and `SETUP_PREFIX_MAX`
/// bytes.
pub(super) fn starts_setup_file_record(line: &[u8]) -> bool {
    let bom = bom_len(line);
    let rest = &line[bom..];
    examined(bom + rest.len().min(SETUP_PREFIX_MAX));
    rest.starts_with(LOG_OPEN) || parse_setup_prefix(rest).is_some()
}

/// The component of a setup-log record: its first word when that is a site-role name as rolesetup.exe
/// writes them (`SMSMP`, `SMSDP`, `SMSFSP`, `SMSWSUS`...: `SMS` and upper-case letters, digits or `_`),
/// else empty. Most lines name none (`Parameters: ...`, `Installing Pre Reqs for SMSWSUS`).
pub(super) fn setup_component(message: &str) -> &str {
    let word = message.split([' ', '\t', '\r', '\n']).next().unwrap_or("");
    let role = word.len() > 3
        && word.len() <= 32
        && word.starts_with("SMS")
        && word.bytes().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_');
    if role {
        word
    } else {
        ""
    }
}

/// The message of a setup-log record: trailing blanks trimmed, `\r\n` as `\n`, the byte order marks that
/// start its continuation lines dropped.
pub(super) fn setup_message(raw: &str) -> Cow<'_, str> {
    normalize_newlines(raw.trim_end())
}

pub(super) enum SetupParse<'a> {
    /// The line starts no setup record.
    NotARecord,
    /// A record passed over (`keep_only`), or one beyond the size bound whose lines are now being emitted
    /// as unparsed.
    Skipped,
    Record(Entry<'a>),
}
