//! Tests of the line formats and the record iterator.

use super::boundary::{last_open, next_boundary_within};
use super::*;
use chrono::{Datelike, Timelike};

fn entries(text: &str, f: LineFormat) -> Vec<Record<'_>> {
    Records::new(text, f, 1).collect()
}

fn entry<'a>(r: &'a Record<'a>) -> &'a Entry<'a> {
    match r {
        Record::Entry(e) => e,
        Record::Unparsed { line, text } => panic!("unparsed line {line}: {text}"),
    }
}

#[test]
fn keep_only_skips_entries_and_keeps_everything_else() {
    let cm = |msg: &str, t: &str| {
        format!("<![LOG[{msg}]LOG]!><time=\"01:02:03.004+060\" date=\"01-02-2020\" component=\"c\" context=\"\" type=\"{t}\" thread=\"7\" file=\"\">\r\n")
    };
    let sms = |msg: &str| format!("{msg} $$<C><01-02-2020 01:02:03.000+00><thread=1 (0x1)>\r\n");
    let cmtrace: String = [
        cm("keep me", "1"),
        cm("quiet", "3"),
        cm("multi\r\nline keep", "2"),
        cm("multi\r\nline quiet", "1"),
        "garbage line\r\n".to_string(),
        "<![LOG[truncated keep]LOG]!><time=\r\n".to_string(),
        cm("last keep", "1"),
    ]
    .concat();
    let server: String = [
        sms("keep one"),
        sms("quiet~~two"),
        "first line of keep\r\n".to_string(),
        sms("rest~~of it"),
        "stray\r\n".to_string(),
        sms("another quiet"),
    ]
    .concat();
    let keep = |raw: &str| raw.contains("keep");
    for (text, format) in [(&cmtrace, LineFormat::Cmtrace), (&server, LineFormat::Sms)] {
        let all: Vec<Record<'_>> = Records::new(text, format, 1).collect();
        let mut records = Records::new(text, format, 1).keep_only(&keep);
        let kept: Vec<Record<'_>> = records.by_ref().collect();
        let expected: Vec<Record<'_>> = all
            .iter()
            .filter(|r| match r {
                Record::Entry(e) => e.message.contains("keep"),
                Record::Unparsed { .. } => true,
            })
            .cloned()
            .collect();
        assert_eq!(kept, expected, "{format:?}");
        let entries = all.iter().filter(|r| matches!(r, Record::Entry(_))).count() as u64;
        let kept_entries = kept.iter().filter(|r| matches!(r, Record::Entry(_))).count() as u64;
        assert!(records.skipped() >= 2, "{format:?}");
        assert_eq!(kept_entries + records.skipped(), entries, "{format:?}");
    }
}

#[test]
fn sms_message_borrows_trailing_breaks_and_reads_like_replacing_them() {
    let reference = |raw: &str| {
        let s = raw.trim_end().replace("\r\n", "\n").replace("~~", "\n");
        s.trim_end().to_string()
    };
    let tails = ["", "~", "~~", "~~~", "~~~~", "~~~~~", " ~~", "~~ ", "~~ ~~", "~ ~~", "\r\n~~", "~~\r\n x"];
    let heads = ["msg", "a~~b", "a\r\nb", "", " ", "x~"];
    for head in heads {
        for tail in tails {
            let raw = format!("{head}{tail}");
            assert_eq!(sms_message(&raw), reference(&raw), "{raw:?}");
        }
    }
    assert!(matches!(sms_message("ElapsedTime: 88 ms~~"), Cow::Borrowed("ElapsedTime: 88 ms")));
    assert!(matches!(sms_message("odd~~~"), Cow::Owned(_)));
}

#[test]
fn last_open_is_the_last_marker() {
    let naive = |b: &[u8]| memmem::rfind(b, LOG_OPEN);
    let pieces: [&[u8]; 6] = [b"<![LOG[", b"]LOG]!>", b"<![LO", b"G]!>", b"text\n", b"$$<C><x>"];
    let mut seed = 12345u64;
    for n in 0..3000 {
        let mut text = Vec::new();
        // Long runs of filler put markers on both sides of the 4 KB, 8 KB, ... block edges.
        let parts = 1 + n % 40;
        for _ in 0..parts {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let p = pieces[(seed >> 33) as usize % pieces.len()];
            let filler = (seed >> 20) as usize % if n % 3 == 0 { 9000 } else { 40 };
            text.extend(std::iter::repeat_n(b'.', filler));
            text.extend_from_slice(p);
        }
        for cut in [text.len(), text.len().saturating_sub(3), text.len() / 2] {
            assert_eq!(last_open(&text[..cut]), naive(&text[..cut]), "case {n} cut {cut}");
        }
    }
    // A marker across each of the first block edges (4 KB, then 8 KB more, then 16 KB more).
    for edge in [4096usize, 12288, 28672] {
        for pad in edge - 10..edge + 10 {
            for (first, second) in [(LOG_CLOSE, LOG_OPEN), (LOG_OPEN, LOG_CLOSE)] {
                let mut text = first.to_vec();
                text.extend_from_slice(second);
                text.extend(std::iter::repeat_n(b'.', pad));
                assert_eq!(last_open(&text), naive(&text), "edge {edge} pad {pad}");
            }
        }
    }
}

#[test]
fn cmtrace_record_fields_and_utc() {
    let t = "<![LOG[Getting AAD info from CMG 'CMG.CLOUDAPP.NET']LOG]!><time=\"07:31:40.123+480\" date=\"06-24-2020\" component=\"ccmsetup\" context=\"\" type=\"1\" thread=\"3396\" file=\"ccmsetup.cpp:9498\">\r\n";
    let r = entries(t, LineFormat::Cmtrace);
    assert_eq!(r.len(), 1);
    let e = entry(&r[0]);
    assert_eq!(e.line, 1);
    assert_eq!(e.message, "Getting AAD info from CMG 'CMG.CLOUDAPP.NET'");
    assert_eq!(e.component, "ccmsetup");
    assert_eq!(e.thread, Some(3396));
    assert_eq!(e.severity, Severity::Info);
    assert_eq!(e.source, Some("ccmsetup.cpp:9498"));
    assert_eq!(e.bias_minutes, Some(480));
    let utc = e.utc().unwrap();
    assert_eq!((utc.hour(), utc.minute(), utc.second()), (15, 31, 40));
    assert_eq!(utc.timestamp_subsec_millis(), 123);
}

#[test]
fn negative_bias_and_seven_digit_fraction() {
    let (t, b) = parse_time_and_bias("10:00:00.1234567-60");
    assert_eq!(b, Some(-60));
    assert_eq!(t.unwrap().nanosecond(), 123_456_700);
    let (t, b) = parse_time_and_bias("10:00:00.123456");
    assert_eq!(b, None);
    assert_eq!(t.unwrap().nanosecond(), 123_456_000);
    assert_eq!(parse_time_and_bias("10:00:00.000+900").1, None, "bias beyond 840 is rejected");
    assert_eq!(parse_time_and_bias("10:00:00.000+00").1, Some(0));
    assert_eq!(parse_time_and_bias("25:00:00.000+00").0, None);
}

#[test]
fn unpadded_and_impossible_dates() {
    assert_eq!(parse_date_mdy("9-3-2026").unwrap().day(), 3);
    assert!(parse_date_mdy("02-30-2020").is_none());
    assert!(parse_date_mdy("13-01-2020").is_none());
}

#[test]
fn multi_line_message_and_following_record_lines() {
    let t = "<![LOG[Received message '<SiteInfoReply SchemaVersion=\"1.00\">\r\n  <Site/>\r\n</SiteInfoReply>']LOG]!><time=\"15:10:29.068+00\" date=\"02-04-2020\" component=\"ccmsetup\" context=\"\" type=\"1\" thread=\"1\" file=\"\">\r\n<![LOG[next]LOG]!><time=\"15:10:29.068+00\" date=\"02-04-2020\" component=\"ccmsetup\" context=\"\" type=\"3\" thread=\"1\" file=\"\">\r\n";
    let r = entries(t, LineFormat::Cmtrace);
    assert_eq!(r.len(), 2);
    let e = entry(&r[0]);
    assert_eq!(
        e.message,
        "Received message '<SiteInfoReply SchemaVersion=\"1.00\">\n  <Site/>\n</SiteInfoReply>'"
    );
    assert_eq!(e.source, None);
    let e2 = entry(&r[1]);
    assert_eq!(e2.line, 4);
    assert_eq!(e2.severity, Severity::Error);
}

#[test]
fn truncated_record_lines_are_unparsed_and_next_record_survives() {
    let t = "<![LOG[cut off here\nsecond line\n<![LOG[ok]LOG]!><time=\"01:02:03.004+000\" date=\"01-02-2020\" component=\"c\" type=\"2\" thread=\"7\">\ngarbage\n";
    let r = entries(t, LineFormat::Cmtrace);
    assert_eq!(r.len(), 4, "{r:?}");
    assert_eq!(r[0], Record::Unparsed { line: 1, text: "<![LOG[cut off here" });
    assert_eq!(r[1], Record::Unparsed { line: 2, text: "second line" });
    let e = entry(&r[2]);
    assert_eq!((e.line, e.message.as_ref(), e.severity), (3, "ok", Severity::Warning));
    assert_eq!(r[3], Record::Unparsed { line: 4, text: "garbage" });
}

#[test]
fn missing_attributes_and_bias() {
    let t = "<![LOG[x]LOG]!><time=\"01:02:03.004\" date=\"01-02-2020\">";
    let r = entries(t, LineFormat::Cmtrace);
    let e = entry(&r[0]);
    assert!(e.local_time.is_some());
    assert_eq!(e.bias_minutes, None);
    assert_eq!(e.utc(), None);
    assert_eq!(e.component, "");
    assert_eq!(e.thread, None);
}

#[test]
fn sms_line_with_tildes() {
    let t = "RequestUri: /CCM_PROXY_SERVERAUTH/72057594037937981/CCM_STS  RequestCount: 1  AverageElapsedTime: 218 ms~~  $$<CMGService><06-24-2020 15:31:46.376+00><thread=4992 (0x1380)>\r\nMessageID: 3087 ResponseHeader: HTTP/1.1 200 OK ~~ ResponseBodySize: 0 $$<SMS_CLOUD_PROXYCONNECTOR><06-24-2020 08:31:46.380+420><thread=12 (0xC)>\r\n";
    let r = entries(t, LineFormat::Sms);
    assert_eq!(r.len(), 2);
    let e = entry(&r[0]);
    assert_eq!(e.component, "CMGService");
    assert_eq!(e.message, "RequestUri: /CCM_PROXY_SERVERAUTH/72057594037937981/CCM_STS  RequestCount: 1  AverageElapsedTime: 218 ms");
    assert_eq!(e.thread, Some(4992));
    assert_eq!(e.bias_minutes, Some(0));
    let e = entry(&r[1]);
    assert_eq!(e.message, "MessageID: 3087 ResponseHeader: HTTP/1.1 200 OK \n ResponseBodySize: 0");
    assert_eq!(e.line, 2);
    assert_eq!(e.utc().unwrap().hour(), 15);
}

#[test]
fn sms_multi_line_text_before_trailer() {
    let t = "first part\nsecond part $$<C><01-02-2020 01:02:03.000+00><thread=1 (0x1)>\nlonely\n";
    let r = entries(t, LineFormat::Sms);
    assert_eq!(r.len(), 2, "{r:?}");
    let e = entry(&r[0]);
    assert_eq!((e.line, e.message.as_ref()), (1, "first part\nsecond part"));
    assert_eq!(r[1], Record::Unparsed { line: 3, text: "lonely" });
}

#[test]
fn tail_after_record_is_unparsed_not_the_start_of_a_server_message() {
    // Found by fuzzing: in a server-format file, garbage after a CMTrace record on the same line must not
    // join the next server-format message (chunked and whole parses must agree).
    let t = "<![LOG[a]LOG]!><time=\"01:02:03.004+000\" date=\"01-02-2020\">tail\nnext $$<C><01-02-2020 01:02:03.000+00><thread=1 (0x1)>\n";
    let r = entries(t, LineFormat::Sms);
    assert_eq!(r.len(), 3, "{r:?}");
    assert_eq!(r[1], Record::Unparsed { line: 1, text: "tail" });
    assert_eq!(entry(&r[2]).message, "next");
    assert_eq!(entry(&r[2]).line, 2);
}

#[test]
fn inferred_severity() {
    assert_eq!(infer_severity("ERROR: Failed to build Http connection"), Severity::Error);
    assert_eq!(infer_severity("Connection failover to the next"), Severity::Info);
    assert_eq!(infer_severity("failover then failed"), Severity::Error);
    assert_eq!(infer_severity("Warning: slow"), Severity::Warning);
    assert_eq!(infer_severity("all good"), Severity::Info);
}

/// The severity words are found where an Aho-Corasick search (leftmost first, case-insensitive) for
/// `failover`, `error`, `fail`, `warn` finds them: on every message of a pseudo-random mix of their letters in
/// both cases, other letters, punctuation and non-ASCII text, and on the words cut at every length.
#[test]
fn inferred_severity_finds_what_an_aho_corasick_search_finds() {
    use aho_corasick::{AhoCorasickBuilder, MatchKind};
    let words = AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::LeftmostFirst)
        .build(["failover", "error", "fail", "warn"])
        .unwrap();
    let by_search = |m: &str| {
        let mut sev = Severity::Info;
        for hit in words.find_iter(m) {
            match hit.pattern().as_usize() {
                0 => {}
                1 | 2 => return Severity::Error,
                _ => sev = Severity::Warning,
            }
        }
        sev
    };
    // Pieces of the words (either case) and of other text, joined at random.
    let pieces = [
        "fail", "FaIL", "over", "OVer", "err", "Or", "ERRO", "r", "R", "warn", "wARn", "wa", "rn", "fa",
        "il", "o", "ver", "e", "f", "w", "x", " ", ".", "é", "€", "\u{100}",
    ];
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut seen = [0usize; 3];
    let mut messages: Vec<String> = Vec::new();
    for w in ["failover", "error", "fail", "warn", "FailOverror", "warnfailover", "errorwarn"] {
        for cut in 0..=w.len() {
            messages.push(w[..cut].to_string());
            messages.push(format!("x{}", &w[cut..]));
        }
    }
    for _ in 0..100_000 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let n = (seed % 7) as usize;
        messages.push((0..n).map(|k| pieces[((seed >> (3 + 5 * k)) as usize) % pieces.len()]).collect());
    }
    for m in &messages {
        let expected = by_search(m);
        assert_eq!(infer_severity(m), expected, "{m:?}");
        seen[expected as usize] += 1;
    }
    assert!(seen.iter().all(|&n| n > 100), "errors, warnings and infos all met: {seen:?}");
}

#[test]
fn boundaries_split_on_records() {
    let t = "<![LOG[a\nb]LOG]!><time=\"01:02:03.004+0\" date=\"01-02-2020\">\n<![LOG[c]LOG]!><time=\"01:02:03.004+0\" date=\"01-02-2020\">\n";
    let b = next_boundary(t, LineFormat::Cmtrace, 0, 1);
    assert!(t[b..].starts_with("<![LOG[c"));
    let s = "x $$<C><01-02-2020 01:02:03.000+00><thread=1 (0x1)>\ny\nz $$<C><01-02-2020 01:02:03.000+00><thread=1 (0x1)>\n";
    let b = next_boundary(s, LineFormat::Sms, 0, 1);
    assert!(s[b..].starts_with("y\n"));
}

const CM: &str = "<![LOG[Sending message to 'MP_PolicyManager'.]LOG]!><time=\"07:31:47.500+480\" date=\"06-24-2020\" component=\"CcmMessaging\" context=\"\" type=\"1\" thread=\"3396\" file=\"ccmmessaging.cpp:1234\">";
const SMS: &str = "MessageID: 3087 ResponseHeader: HTTP/1.1 200 OK ~~ ElapsedTime: 2 ms  $$<SMS_CLOUD_PROXYCONNECTOR><06-24-2020 15:31:46.001+00><thread=4992 (0x1380)>";
const SETUP: &str = "<Fri Dec  9 11:25:00 2022> Parameters: C:\\Program Files\\Microsoft Configuration Manager\\bin\\x64\\rolesetup.exe /install /siteserver:SERVER SMSFSP 0";

/// `unit` repeated up to `n` bytes.
fn repeated(unit: &str, n: usize) -> String {
    unit.repeat(n / unit.len() + 1)
}

/// Chunks as `scan::chunks` splits them, at the given record-size bound.
fn chunk_starts(text: &str, format: LineFormat, target: usize, max: usize) -> Vec<usize> {
    let mut bounds = vec![0];
    let mut pos = 0;
    while pos < text.len() {
        pos = if text.len() - pos <= target + target / 2 {
            text.len()
        } else {
            next_boundary_within(text, format, pos, pos + target, max)
        };
        bounds.push(pos);
    }
    bounds
}

/// Whole-text records (with the oversized count) and chunk-by-chunk records, at a record-size bound.
fn whole_and_chunked(
    text: &str,
    format: LineFormat,
    target: usize,
    max: usize,
) -> [(Vec<Record<'_>>, u64); 2] {
    let mut whole = Records::new(text, format, 1).with_max_record(max);
    let all: Vec<Record<'_>> = whole.by_ref().collect();
    let bounds = chunk_starts(text, format, target, max);
    let (mut pieced, mut oversized, mut line) = (Vec::new(), 0, 1);
    for w in bounds.windows(2) {
        let piece = &text[w[0]..w[1]];
        let mut records = Records::new(piece, format, line).with_max_record(max);
        pieced.extend(records.by_ref());
        oversized += records.oversized();
        line += piece.bytes().filter(|&b| b == b'\n').count() as u32;
    }
    [(all, whole.oversized()), (pieced, oversized)]
}

#[test]
fn record_splitting_reads_each_byte_a_bounded_number_of_times() {
    // Hostile layouts that made splitting quadratic (CR only, no separator, one line, markers without
    // their partner) and ordinary ones, in both formats: the bytes the searches read, whole and chunked,
    // stay under a fixed multiple of the text's size at 1 MB and at 4 MB.
    let kinds: Vec<(&str, String)> = vec![
        ("lf", format!("{CM}\n")),
        ("crlf", format!("{CM}\r\n")),
        ("cr only", format!("{CM}\r")),
        ("no separator", CM.to_string()),
        ("one line", "x".repeat(100)),
        ("opens, no close", "<![LOG[a message that never ends ".to_string()),
        ("opens, no close, lf", "<![LOG[a message that never ends\n".to_string()),
        ("closes, no open", "]LOG]!><time=\"1\"> ".to_string()),
        ("quoted closes", "a ]LOG]!> quoted ]LOG]!><b> and ]LOG]!><".to_string()),
        ("sms lf", format!("{SMS}\n")),
        ("sms cr only", format!("{SMS}\r")),
        ("sms no separator", SMS.to_string()),
        ("sms message lines", "a line of a message that waits for its trailer\n".to_string()),
        ("setup lf", format!("{SETUP}\n")),
        ("setup bom crlf", format!("\u{FEFF}{SETUP}\r\n")),
        ("setup no separator", SETUP.to_string()),
        ("setup continuation lines", "a line that continues a setup message\n".to_string()),
        ("setup record and continuation", format!("{SETUP}\nand its second line\n")),
        ("boms only", "\u{FEFF}\u{FEFF}\n".to_string()),
        ("prefix starts", "<Fri Dec  9 11:25".to_string()),
    ];
    for size in [1 << 20, 4 << 20] {
        for (name, unit) in &kinds {
            // A record start first, so that the hostile units sit inside an open record too.
            let text = format!("<![LOG[{}", repeated(unit, size));
            let formats: &[LineFormat] = if size == 1 << 20 {
                &[LineFormat::Cmtrace, LineFormat::Sms, LineFormat::Setup, LineFormat::Unknown]
            } else {
                &[LineFormat::Cmtrace, LineFormat::Sms, LineFormat::Setup]
            };
            for &format in formats {
                // Entries are passed over (not read into fields): only the splitting is measured.
                let none = |_: &str| false;
                let split = |text, first_line| {
                    let mut records = Records::new(text, format, first_line).keep_only(&none);
                    records.by_ref().count() as u64 + records.skipped()
                };
                let before = examined_so_far();
                let n = split(&text, 1);
                let whole = examined_so_far() - before;
                let before = examined_so_far();
                let parts = crate::scan::chunks(&text, format, 64 << 10);
                let m: u64 = parts.iter().map(|c| split(c.text, c.first_line)).sum();
                let chunked = examined_so_far() - before;
                assert_eq!(n, m, "{name} {format:?}");
                let len = text.len() as u64;
                assert!(whole <= 4 * len, "{name} {format:?} {size}: whole read {whole} for {len}");
                assert!(chunked <= 8 * len, "{name} {format:?} {size}: chunked read {chunked} for {len}");
            }
        }
    }
}

#[test]
fn quoted_close_markers_stay_in_the_message() {
    let tail = "time=\"01:02:03.004+000\" date=\"01-02-2020\" component=\"c\" type=\"1\" thread=\"7\">";
    let messages = [
        "pattern ]LOG]!> in the text",
        "]LOG]!>",
        "html ]LOG]!><b>bold</b>",
        "]LOG]!><component=\"x\"> no time",
        "cut ]LOG]!><time=\"1\"\nsecond line",
        "ends with ]LOG]!>",
        "]LOG]!><",
    ];
    for msg in messages {
        let t = format!("<![LOG[{msg}]LOG]!><{tail}\n<![LOG[next]LOG]!><{tail}\n");
        for format in [LineFormat::Cmtrace, LineFormat::Sms, LineFormat::Unknown] {
            let r = entries(&t, format);
            assert_eq!(r.len(), 2, "{msg:?} {r:?}");
            assert_eq!(entry(&r[0]).message, msg);
            assert_eq!(entry(&r[1]).line, 2 + msg.matches('\n').count() as u32);
            for target in [1, 8, 30] {
                let [whole, pieced] = whole_and_chunked(&t, format, target, MAX_RECORD_BYTES);
                assert_eq!(whole, pieced, "{msg:?} {format:?} {target}");
            }
        }
    }
    // With no real end before the next record, the record is broken: its lines are unparsed.
    let t = format!("<![LOG[a ]LOG]!><b>\nc\n<![LOG[next]LOG]!><{tail}\n");
    let r = entries(&t, LineFormat::Cmtrace);
    assert_eq!(
        r[..2],
        [Record::Unparsed { line: 1, text: "<![LOG[a ]LOG]!><b>" }, Record::Unparsed { line: 2, text: "c" }]
    );
    assert_eq!(entry(&r[2]).message, "next");
}

#[test]
fn records_beyond_the_bound_are_unparsed_and_counted() {
    let tail = "]LOG]!><time=\"01:02:03.004+000\" date=\"01-02-2020\">";
    let big = format!("<![LOG[{}\n{}{tail}\n", "a".repeat(50), "b".repeat(50));
    let t = format!("<![LOG[small{tail}\n{big}<![LOG[after{tail}\n");
    for (max, expected) in [(1000, 3), (100, 2)] {
        let mut records = Records::new(&t, LineFormat::Cmtrace, 1).with_max_record(max);
        let r: Vec<Record<'_>> = records.by_ref().collect();
        let n = r.iter().filter(|r| matches!(r, Record::Entry(_))).count();
        assert_eq!(n, expected, "{r:?}");
        assert_eq!(records.oversized(), 3 - n as u64);
        if n == 2 {
            // The small records fit; the big one's lines are unparsed and the next record survives.
            assert_eq!(r.len(), 1 + 2 + 1);
            assert!(matches!(r[1], Record::Unparsed { line: 2, .. }));
            assert!(matches!(r[2], Record::Unparsed { line: 3, .. }));
        }
    }
    // Exactly at the bound is a record; a byte more is not.
    let rec = format!("<![LOG[x{tail}");
    for (max, n) in [(rec.len(), 1), (rec.len() - 1, 0)] {
        let r: Vec<Record<'_>> = Records::new(&rec, LineFormat::Cmtrace, 1).with_max_record(max).collect();
        assert_eq!(r.iter().filter(|r| matches!(r, Record::Entry(_))).count(), n);
    }
    // Server format: message lines and trailer line together within the bound, or all unparsed.
    let s = format!(
        "one\ntwo\nthree {}\nlast {}\n",
        &SMS[SMS.find("  $$<").unwrap()..],
        &SMS[SMS.find("  $$<").unwrap()..]
    );
    let first = s.find("\nlast").unwrap();
    for (max, n, unparsed) in [(first, 2, 0), (first - 1, 1, 3)] {
        let mut records = Records::new(&s, LineFormat::Sms, 1).with_max_record(max);
        let r: Vec<Record<'_>> = records.by_ref().collect();
        assert_eq!(r.iter().filter(|r| matches!(r, Record::Entry(_))).count(), n, "{r:?}");
        assert_eq!(r.len(), n + unparsed);
        assert_eq!(records.oversized(), (unparsed > 0) as u64);
        assert_eq!(entry(r.last().unwrap()).line, 4);
    }
}

#[test]
fn one_line_beyond_the_real_bound_is_one_unparsed_line() {
    let line = "z".repeat(MAX_RECORD_BYTES + 10);
    for (text, format) in [
        (format!("<![LOG[{line}"), LineFormat::Cmtrace),
        (format!("{line}{}", &SMS[SMS.find("  $$<").unwrap()..]), LineFormat::Sms),
        (format!("{line}{}", &SMS[SMS.find("  $$<").unwrap()..]), LineFormat::Unknown),
    ] {
        let mut records = Records::new(&text, format, 1);
        let r: Vec<Record<'_>> = records.by_ref().collect();
        assert_eq!(r, [Record::Unparsed { line: 1, text: &text }], "{format:?}");
        assert_eq!(records.oversized(), 1);
        let pieced: Vec<Record<'_>> = crate::scan::chunks(&text, format, 1 << 20)
            .iter()
            .flat_map(|c| Records::new(c.text, format, c.first_line))
            .collect();
        assert_eq!(r, pieced);
    }
}

#[test]
fn chunked_equals_whole_with_quoted_closes_and_a_small_bound() {
    let pieces: [&str; 18] = [
        "<Fri Dec  9 11:25:00 2022> ",
        "\u{FEFF}",
        "<02/09/14 22:53:28>",
        "\n<Fri Dec 9 11:25:00 2022> SMSFSP x",
        "<![LOG[",
        "]LOG]!>",
        "]LOG]!><time=\"01:02:03.004+000\" date=\"01-02-2020\">",
        "]LOG]!><b>",
        "]LOG]!><date=1",
        "<",
        ">",
        "text",
        "\n",
        "\r\n",
        "\r",
        " $$<C><01-02-2020 01:02:03.000+00><thread=1 (0x1)>",
        "~~",
        "   ",
    ];
    let mut seed = 987654321u64;
    for n in 0..3000 {
        let mut text = String::new();
        for _ in 0..1 + n % 60 {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            text.push_str(pieces[(seed >> 33) as usize % pieces.len()]);
        }
        let max = [40, 90, 200, MAX_RECORD_BYTES][n % 4];
        for format in [LineFormat::Cmtrace, LineFormat::Sms, LineFormat::Setup, LineFormat::Unknown] {
            for target in [1, 16, 64] {
                let [whole, pieced] = whole_and_chunked(&text, format, target, max);
                assert_eq!(whole, pieced, "{text:?} {format:?} target {target} max {max}");
            }
        }
    }
}

#[test]
fn sniffs_formats() {
    assert_eq!(sniff_format("<Fri Dec  9 11:25:00 2022> SMSFSP Setup Started...."), LineFormat::Setup);
    assert_eq!(
        sniff_format("\u{FEFF}<Fri Dec 9 11:25:00 2022> a\r\n\u{FEFF}<Fri Dec 09 11:25:01 2022> b\r\n"),
        LineFormat::Setup
    );
    assert_eq!(sniff_format("<02/09/14 22:53:28> SMSWSUS Setup Started...."), LineFormat::Setup);
    assert_eq!(sniff_format("<Fry Dec  9 11:25:00 2022> not a day"), LineFormat::Unknown);
    assert_eq!(sniff_format("<Fri Dec  9 11:25 2022> no seconds"), LineFormat::Unknown);
    assert_eq!(sniff_format("<![LOG[x]LOG]!><time=\"\">"), LineFormat::Cmtrace);
    assert_eq!(sniff_format("x $$<C><01-02-2020 01:02:03.000+00><thread=1 (0x1)>"), LineFormat::Sms);
    assert_eq!(sniff_format("hello"), LineFormat::Unknown);
}

#[test]
fn sniffing_reads_the_first_64_kb_and_a_tie_goes_to_cmtrace() {
    // A server log whose first message is long (a request dump): its first marker is 5 KB in, still read.
    let long = format!("{} $$<CMGService><01-02-2020 01:02:03.000+00><thread=1 (0x1)>\n", "x".repeat(5000));
    assert_eq!(sniff_format(&long), LineFormat::Sms);
    // Beyond 64 KB nothing counts.
    let far = format!("{}{long}", " ".repeat(64 * 1024));
    assert_eq!(sniff_format(&far), LineFormat::Unknown);
    // As many setup-log prefixes as CMTrace records: CMTrace.
    let record = "<![LOG[x]LOG]!><time=\"01:02:03.000+000\" date=\"01-02-2020\" component=\"c\" context=\"\" type=\"1\" thread=\"1\" file=\"\">\n";
    let setup = "<Fri Dec  9 11:25:00 2022> SMSFSP Setup Started....\n";
    assert_eq!(sniff_format(&format!("{setup}{record}{setup}{record}")), LineFormat::Cmtrace);
    assert_eq!(sniff_format(&format!("{setup}{record}{setup}")), LineFormat::Setup);
    // Eight of one marker decide at once, and decide as a full count would: eight CMTrace records beat
    // eight setup lines and eight server trailers (a tie goes to CMTrace); eight server trailers beat seven
    // CMTrace records and eight setup lines.
    let sms = "x $$<C><01-02-2020 01:02:03.000+00><thread=1 (0x1)>\n";
    let mixed = |cm: usize, sm: usize, st: usize| {
        format!("{}{}{}", setup.repeat(st), sms.repeat(sm), record.repeat(cm))
    };
    assert_eq!(sniff_format(&mixed(8, 8, 8)), LineFormat::Cmtrace);
    assert_eq!(sniff_format(&mixed(8, 20, 20)), LineFormat::Cmtrace);
    assert_eq!(sniff_format(&mixed(7, 8, 8)), LineFormat::Sms);
    assert_eq!(sniff_format(&mixed(7, 7, 8)), LineFormat::Setup);
    assert_eq!(sniff_format(&mixed(7, 7, 7)), LineFormat::Cmtrace);
    assert_eq!(sniff_format(&mixed(3, 7, 7)), LineFormat::Sms);
}

fn setup_log() -> String {
    [
        "\u{FEFF}<Fri Dec  9 11:25:00 2022> ====================================================================\r\n",
        "\u{FEFF}<Fri Dec  9 11:25:00 2022> SMSFSP Setup Started....\r\n",
        "\u{FEFF}<Fri Dec  9 11:25:00 2022> Parameters: C:\\Program Files\\Microsoft Configuration Manager\\bin\\x64\\rolesetup.exe /install /siteserver:SERVER SMSFSP 0\r\n",
        "\u{FEFF}<Fri Dec  9 11:25:01 2022> Installing the SMSFSP\r\n",
        "\u{FEFF}<Fri Dec 10 01:02:03 2022> Failed to register the performance counters\r\n",
        "second line of that message\r\n",
        "\r\n",
        "\u{FEFF}third line\r\n",
        "\u{FEFF}<Sat Dec 10 01:02:04 2022>    ======== Completed Installation of Pre Reqs for Role SMSFSP ========\r\n",
        "\u{FEFF}<Sat Dec 10 01:02:05 2022> Installation was successful.\r\n",
    ]
    .concat()
}

#[test]
fn setup_records_local_time_component_severity_and_continuation_lines() {
    let t = setup_log();
    assert_eq!(sniff_format(&t), LineFormat::Setup);
    let r = entries(&t, LineFormat::Setup);
    assert_eq!(r.len(), 7, "{r:?}");
    let e = entry(&r[1]);
    assert_eq!((e.line, e.message.as_ref(), e.component), (2, "SMSFSP Setup Started....", "SMSFSP"));
    assert_eq!(e.format, LineFormat::Setup);
    assert!(matches!(e.message, Cow::Borrowed(_)), "a one-line message is not copied");
    assert_eq!(e.local_time.unwrap().format("%Y-%m-%dT%H:%M:%S%.3f").to_string(), "2022-12-09T11:25:00.000");
    assert_eq!((e.bias_minutes, e.utc(), e.thread, e.source), (None, None, None, None));
    assert_eq!(e.severity, Severity::Info);
    let e = entry(&r[2]);
    assert_eq!(e.component, "", "Parameters: names no component");
    assert!(e.message.starts_with("Parameters: C:\\Program Files"));
    let e = entry(&r[4]);
    assert_eq!(e.line, 5);
    assert_eq!(
        e.message,
        "Failed to register the performance counters\nsecond line of that message\n\nthird line"
    );
    assert_eq!(e.severity, Severity::Error);
    assert_eq!(e.local_time.unwrap().day(), 10);
    let e = entry(&r[5]);
    assert_eq!(e.line, 9, "continuation lines are counted");
    assert_eq!(e.message, "   ======== Completed Installation of Pre Reqs for Role SMSFSP ========");
    assert!(!r.iter().any(|r| matches!(r, Record::Entry(e) if e.message.contains('\u{FEFF}'))));
    // Chunked parses agree, at every target size.
    for target in [1, 16, 64, 200] {
        let [whole, pieced] = whole_and_chunked(&t, LineFormat::Setup, target, MAX_RECORD_BYTES);
        assert_eq!(whole, pieced, "target {target}");
    }
    let b = next_boundary(&t, LineFormat::Setup, 0, t.find("second line").unwrap());
    assert!(t[b..].starts_with("\u{FEFF}<Sat Dec 10 01:02:04 2022>"), "{:?}", &t[b..]);
}

#[test]
fn setup_prefix_shapes() {
    let at = |s: &str| parse_setup_prefix(s.as_bytes()).map(|(n, t)| (n, t.map(|t| t.to_string())));
    assert_eq!(at("<Fri Dec  9 11:25:00 2022> x"), Some((27, Some("2022-12-09 11:25:00".into()))));
    assert_eq!(at("<Fri Dec 9 11:25:00 2022> x"), Some((26, Some("2022-12-09 11:25:00".into()))));
    assert_eq!(at("<Fri Dec 09 11:25:00 2022>x"), Some((26, Some("2022-12-09 11:25:00".into()))));
    assert_eq!(at("<mon jan 30 1:02:03 2023> x"), Some((26, Some("2023-01-30 01:02:03".into()))));
    assert_eq!(at("<02/09/14 22:53:28> x"), Some((20, Some("2014-02-09 22:53:28".into()))));
    assert_eq!(at("<12/31/2021 23:59:59> x"), Some((22, Some("2021-12-31 23:59:59".into()))));
    // Two-digit years: 00-69 are 20xx, 70-99 are 19xx.
    assert_eq!(at("<02/09/98 22:53:28> x"), Some((20, Some("1998-02-09 22:53:28".into()))));
    assert_eq!(at("<02/09/69 22:53:28> x"), Some((20, Some("2069-02-09 22:53:28".into()))));
    // Right shape, impossible date or time: a record with no time.
    assert_eq!(at("<Mon Feb 30 11:25:00 2022> x"), Some((27, None)));
    assert_eq!(at("<13/01/14 22:53:28> x"), Some((20, None)));
    assert_eq!(at("<Mon Feb 3 25:00:00 2022> x"), Some((26, None)));
    for no in [
        "Fri Dec  9 11:25:00 2022> x",
        "<Fri Dec  9 11:25:00 22> x",
        "<Fri Dec  9 11:25:00 2022 x",
        "<Fri Dex  9 11:25:00 2022> x",
        "<Fri Dec  9 11:25:00 2022 extra> x",
        "<![LOG[x",
        "<02/09 22:53:28> x",
        "<02/09/14> x",
        "<time=\"01:02:03.004+000\">",
        "",
    ] {
        assert_eq!(at(no), None, "{no:?}");
    }
    assert_eq!(setup_component("SMSWSUS Setup Started...."), "SMSWSUS");
    assert_eq!(setup_component("SMSMP"), "SMSMP");
    assert_eq!(setup_component("SMS Setup"), "");
    assert_eq!(setup_component("Installing Pre Reqs for SMSWSUS"), "");
    assert_eq!(setup_component("ERROR: x"), "");
    assert_eq!(setup_component("SMSdp x"), "");
}

#[test]
fn byte_order_marks_at_line_starts_in_every_format() {
    let cm = "<![LOG[message]LOG]!><time=\"01:02:03.004+000\" date=\"01-02-2020\" component=\"c\" type=\"1\" thread=\"1\">";
    let sms = "message $$<C><01-02-2020 01:02:03.000+00><thread=1 (0x1)>";
    let cases = [
        (format!("\u{FEFF}{cm}\r\n\u{FEFF}{cm}\r\n\u{FEFF}\r\n\u{FEFF}{cm}"), LineFormat::Cmtrace),
        (format!("\u{FEFF}{sms}\r\n\u{FEFF}{sms}\r\n\u{FEFF}\r\n\u{FEFF}{sms}"), LineFormat::Sms),
        (
            format!("\u{FEFF}first line\r\n\u{FEFF}second {sms}\r\n\u{FEFF}{sms}"),
            LineFormat::Sms,
        ),
        (
            "\u{FEFF}<Fri Dec  9 11:25:00 2022> message\r\n\u{FEFF}\u{FEFF}<Fri Dec  9 11:25:00 2022> message\r\n\u{FEFF}\r\n\u{FEFF}<Fri Dec  9 11:25:00 2022> message".to_string(),
            LineFormat::Setup,
        ),
    ];
    for (t, format) in &cases {
        assert_eq!(sniff_format(t), *format);
        let r = entries(t, *format);
        let n = if t.contains("first line") { 2 } else { 3 };
        assert_eq!(r.len(), n, "{format:?} {r:?}");
        for rec in &r {
            let e = entry(rec);
            assert!(e.message.starts_with("message") || e.message.starts_with("first line"), "{e:?}");
            assert!(!e.message.contains('\u{FEFF}'), "{e:?}");
        }
        for target in [1, 16, 64] {
            let [whole, pieced] = whole_and_chunked(t, *format, target, MAX_RECORD_BYTES);
            assert_eq!(whole, pieced, "{format:?} target {target}");
        }
    }
    // The SMS message whose first line starts with a mark: the mark goes, the lines stay.
    let r = entries(&cases[2].0, LineFormat::Sms);
    assert_eq!(entry(&r[0]).message, "first line\nsecond message");
    // A line that holds nothing but marks is blank; an unparsed line loses its marks.
    let r = entries("\u{FEFF}\u{FEFF}\n\u{FEFF}garbage\n", LineFormat::Setup);
    assert_eq!(r, [Record::Unparsed { line: 2, text: "garbage" }]);
}

#[test]
fn utf16le_setup_log_with_a_mark_per_line() {
    let t = setup_log();
    let mut bytes = vec![0xFF, 0xFE];
    for u in t.encode_utf16() {
        bytes.extend_from_slice(&u.to_le_bytes());
    }
    let (text, enc) = crate::decode::decode(&bytes);
    assert_eq!(enc, crate::entry::TextEncoding::Utf16Le);
    assert_eq!(sniff_format(&text), LineFormat::Setup);
    let r = entries(&text, LineFormat::Setup);
    assert_eq!(r.len(), 7);
    assert!(r.iter().all(|r| matches!(r, Record::Entry(_))));
    assert_eq!(entry(&r[1]).component, "SMSFSP");
}

#[test]
fn setup_records_beyond_the_bound_are_unparsed_and_counted() {
    let t = "<Fri Dec  9 11:25:00 2022> small\n<Fri Dec  9 11:25:00 2022> big\nmore more more more\nand more\n<Fri Dec  9 11:25:00 2022> after\n";
    let big = t.find("<Fri Dec  9 11:25:00 2022> big").unwrap();
    let big_len = t.find("\n<Fri Dec  9 11:25:00 2022> after").unwrap() - big;
    for (max, n) in [(big_len, 3), (big_len - 1, 2)] {
        let mut records = Records::new(t, LineFormat::Setup, 1).with_max_record(max);
        let r: Vec<Record<'_>> = records.by_ref().collect();
        assert_eq!(r.iter().filter(|r| matches!(r, Record::Entry(_))).count(), n, "{r:?}");
        assert_eq!(records.oversized(), 3 - n as u64);
        if n == 2 {
            assert_eq!(r[1], Record::Unparsed { line: 2, text: "<Fri Dec  9 11:25:00 2022> big" });
            assert_eq!(r[3], Record::Unparsed { line: 4, text: "and more" });
            assert_eq!(entry(&r[4]).line, 5);
        }
        for target in [1, 16, 64] {
            let [whole, pieced] = whole_and_chunked(t, LineFormat::Setup, target, max);
            assert_eq!(whole, pieced, "max {max} target {target}");
        }
    }
}
