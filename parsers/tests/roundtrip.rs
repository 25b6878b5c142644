//! Property test: entries written in either line format parse back to the same fields, and
//! `Records::keep_only` passes over exactly the entries its test rejects.

use chrono::{NaiveDate, NaiveDateTime, Timelike};
use cmtrace_parsers::format::Records;
use cmtrace_parsers::scan::chunks;
use cmtrace_parsers::{LineFormat, Record, Severity};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Written {
    message: String,
    component: String,
    local: NaiveDateTime,
    bias: i32,
    thread: u32,
    severity: Severity,
    source: Option<String>,
}

fn message(multiline: bool) -> impl Strategy<Value = String> {
    // Printable text incl. XML, quotes and non-ASCII; never the record delimiters themselves.
    let line = "[ -~äöüé€]{0,60}".prop_filter("no delimiters", |s| {
        !s.contains("]LOG]!>") && !s.contains("<![LOG[") && !s.contains("$$<") && !s.contains("~~")
    });
    // A message may quote the close marker: only one followed by a CMTrace attribute list ends a record.
    let quote = prop::sample::select(vec![
        "",
        "",
        " ]LOG]!> ",
        "]LOG]!><b>x</b>",
        " ]LOG]!><a href=\"time\">",
        "]LOG]!>",
    ]);
    let line = (line, quote).prop_map(|(l, q)| format!("{l}{q}"));
    if multiline {
        prop::collection::vec(line, 1..4).prop_map(|v| v.join("\n")).boxed()
    } else {
        line.boxed()
    }
}

fn written(multiline: bool) -> impl Strategy<Value = Written> {
    (
        message(multiline),
        "[A-Za-z_]{1,20}",
        (2000i32..2035, 1u32..13, 1u32..29, 0u32..24, 0u32..60, 0u32..60, 0u32..1000),
        prop::sample::select(vec![-840, -60, 0, 60, 240, 300, 330, 420, 480, 840]),
        0u32..100_000,
        prop::sample::select(vec![Severity::Info, Severity::Warning, Severity::Error]),
        prop::option::of("[a-z]{1,12}\\.cpp:[0-9]{1,5}"),
    )
        .prop_map(|(message, component, (y, mo, d, h, mi, s, ms), bias, thread, severity, source)| {
            Written {
                message,
                component,
                local: NaiveDate::from_ymd_opt(y, mo, d).unwrap().and_hms_milli_opt(h, mi, s, ms).unwrap(),
                bias,
                thread,
                severity,
                source,
            }
        })
}

fn cmtrace_line(w: &Written) -> String {
    let t = match w.severity {
        Severity::Info => 1,
        Severity::Warning => 2,
        Severity::Error => 3,
    };
    format!(
        "<![LOG[{}]LOG]!><time=\"{}{:+}\" date=\"{}\" component=\"{}\" context=\"\" type=\"{}\" thread=\"{}\" file=\"{}\">\r\n",
        w.message.replace('\n', "\r\n"),
        w.local.format("%H:%M:%S%.3f"),
        w.bias,
        w.local.format("%m-%d-%Y"),
        w.component,
        t,
        w.thread,
        w.source.clone().unwrap_or_default()
    )
}

fn sms_line(w: &Written) -> String {
    format!(
        "{}  $$<{}><{} {}{:+}><thread={} (0x{:X})>\r\n",
        w.message.replace('\n', "~~"),
        w.component,
        w.local.format("%m-%d-%Y"),
        w.local.format("%H:%M:%S%.3f"),
        w.bias,
        w.thread,
        w.thread
    )
}

/// `keep_only` keeps exactly the entries whose parsed message passes a test that sees through `\r\n`,
/// `~~` and trailing blanks (a letter), and counts the others.
fn keep_only_agrees(text: &str, format: LineFormat, parsed: &[Record<'_>]) -> Result<(), TestCaseError> {
    let keep = |raw: &str| raw.contains('a');
    let mut filtered = Records::new(text, format, 1).keep_only(&keep);
    let kept: Vec<Record<'_>> = filtered.by_ref().collect();
    let expected: Vec<&Record<'_>> =
        parsed.iter().filter(|r| matches!(r, Record::Entry(e) if e.message.contains('a'))).collect();
    prop_assert_eq!(kept.iter().collect::<Vec<_>>(), expected);
    prop_assert_eq!(kept.len() as u64 + filtered.skipped(), parsed.len() as u64);
    // Chunks split at record boundaries parse to the same records.
    for target in [64, 200] {
        let pieced: Vec<Record<'_>> = chunks(text, format, target)
            .iter()
            .flat_map(|c| Records::new(c.text, format, c.first_line))
            .collect();
        prop_assert_eq!(&pieced[..], parsed);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn cmtrace_round_trip(entries in prop::collection::vec(written(true), 1..20)) {
        let text: String = entries.iter().map(cmtrace_line).collect();
        let parsed: Vec<Record<'_>> = Records::new(&text, LineFormat::Cmtrace, 1).collect();
        prop_assert_eq!(parsed.len(), entries.len());
        let mut line = 1;
        for (w, r) in entries.iter().zip(&parsed) {
            let Record::Entry(e) = r else { panic!("unparsed {r:?}") };
            prop_assert_eq!(e.line, line);
            line += 1 + w.message.matches('\n').count() as u32;
            prop_assert_eq!(e.message.as_ref(), w.message.as_str());
            prop_assert_eq!(e.component, w.component.as_str());
            prop_assert_eq!(e.local_time, Some(w.local));
            prop_assert_eq!(e.bias_minutes, Some(w.bias));
            prop_assert_eq!(e.thread, Some(w.thread));
            prop_assert_eq!(e.severity, w.severity);
            prop_assert_eq!(e.source, w.source.as_deref());
            let utc = e.utc().unwrap();
            prop_assert_eq!(utc.naive_utc(), w.local + chrono::Duration::minutes(w.bias as i64));
            prop_assert_eq!(utc.nanosecond(), w.local.nanosecond());
        }
        keep_only_agrees(&text, LineFormat::Cmtrace, &parsed)?;
    }

    #[test]
    fn sms_round_trip(entries in prop::collection::vec(written(true), 1..20)) {
        // `~` next to a line break is ambiguous in the server format itself (`~~~`): leave it out.
        let entries: Vec<Written> = entries
            .into_iter()
            .map(|mut w| {
                w.message = w.message.replace('~', "-");
                w
            })
            .collect();
        let text: String = entries.iter().map(sms_line).collect();
        let parsed: Vec<Record<'_>> = Records::new(&text, LineFormat::Sms, 1).collect();
        // Whitespace-only messages have nothing to keep; everything else comes back.
        prop_assert_eq!(parsed.len(), entries.len());
        for (i, (w, r)) in entries.iter().zip(&parsed).enumerate() {
            let Record::Entry(e) = r else { panic!("unparsed {r:?}") };
            prop_assert_eq!(e.line, i as u32 + 1);
            // The server format keeps no trailing blanks (they precede the trailer).
            prop_assert_eq!(e.message.as_ref(), w.message.trim_end());
            prop_assert_eq!(e.component, w.component.as_str());
            prop_assert_eq!(e.local_time, Some(w.local));
            prop_assert_eq!(e.bias_minutes, Some(w.bias));
            prop_assert_eq!(e.thread, Some(w.thread));
        }
        keep_only_agrees(&text, LineFormat::Sms, &parsed)?;
    }
}
