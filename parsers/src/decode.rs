//! Bytes to text: BOM sniffing (UTF-8, UTF-16LE/BE), BOM-less UTF-16 detection, strict UTF-8, and
//! Windows-1252 for anything that is not UTF-8. Decoding never fails and never drops a line: invalid
//! sequences (a truncated UTF-16 tail) become U+FFFD. UTF-8 input is borrowed, not copied.

use std::borrow::Cow;

use crate::entry::TextEncoding;

/// Decode a whole file's bytes to text.
pub fn decode(bytes: &[u8]) -> (Cow<'_, str>, TextEncoding) {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return decode_utf8_or_ansi(rest, true);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        return (
            Cow::Owned(utf16(rest, encoding_rs::UTF_16LE, String::with_capacity)),
            TextEncoding::Utf16Le,
        );
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        return (
            Cow::Owned(utf16(rest, encoding_rs::UTF_16BE, String::with_capacity)),
            TextEncoding::Utf16Be,
        );
    }
    if let Some(enc) = sniff_bomless_utf16(bytes) {
        let e = if enc == TextEncoding::Utf16Le { encoding_rs::UTF_16LE } else { encoding_rs::UTF_16BE };
        return (Cow::Owned(utf16(bytes, e, String::with_capacity)), enc);
    }
    decode_utf8_or_ansi(bytes, false)
}

fn decode_utf8_or_ansi(bytes: &[u8], had_bom: bool) -> (Cow<'_, str>, TextEncoding) {
    match simdutf8::basic::from_utf8(bytes) {
        Ok(s) => (Cow::Borrowed(s), TextEncoding::Utf8),
        Err(_) if had_bom => {
            // A UTF-8 BOM with bad bytes inside: valid text stays exact, bad bytes become U+FFFD.
            (Cow::Owned(String::from_utf8_lossy(bytes).into_owned()), TextEncoding::Utf8)
        }
        Err(_) => {
            let (text, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
            (Cow::Owned(text.into_owned()), TextEncoding::Windows1252)
        }
    }
}

/// `decode` of `bytes` that their first 512 bytes showed to be UTF-16 (`head`, as `decode` of them
/// returned it), into a string that `alloc` gives (a reused buffer: see `buffers`). The same text as `decode`.
pub(crate) fn decode_utf16_into(
    bytes: &[u8],
    head: TextEncoding,
    alloc: impl FnOnce(usize) -> String,
) -> (String, TextEncoding) {
    let text = match head {
        TextEncoding::Utf16Le => {
            utf16(bytes.strip_prefix(b"\xFF\xFE").unwrap_or(bytes), encoding_rs::UTF_16LE, alloc)
        }
        TextEncoding::Utf16Be => {
            utf16(bytes.strip_prefix(b"\xFE\xFF").unwrap_or(bytes), encoding_rs::UTF_16BE, alloc)
        }
        _ => {
            let (text, enc) = decode(bytes);
            return (text.into_owned(), enc);
        }
    };
    (text, head)
}

/// UTF-16 `bytes` (past any byte order mark) into a string that `alloc` gives with room for the most the
/// text can take; invalid sequences become U+FFFD.
fn utf16(bytes: &[u8], enc: &'static encoding_rs::Encoding, alloc: impl FnOnce(usize) -> String) -> String {
    let mut decoder = enc.new_decoder_without_bom_handling();
    let mut out = alloc(decoder.max_utf8_buffer_length(bytes.len()).unwrap_or(bytes.len()));
    let mut input = bytes;
    loop {
        let (result, read, _) = decoder.decode_to_string(input, &mut out, true);
        input = &input[read..];
        match result {
            encoding_rs::CoderResult::InputEmpty => return out,
            encoding_rs::CoderResult::OutputFull => out.reserve(input.len().max(16) * 3),
        }
    }
}

/// UTF-16 without a BOM: ASCII text shows a NUL in every other byte.
fn sniff_bomless_utf16(bytes: &[u8]) -> Option<TextEncoding> {
    let head = &bytes[..bytes.len().min(512) & !1];
    if head.len() < 16 {
        return None;
    }
    let pairs = head.len() / 2;
    let even_nul = head.iter().step_by(2).filter(|&&b| b == 0).count();
    let odd_nul = head.iter().skip(1).step_by(2).filter(|&&b| b == 0).count();
    if odd_nul * 10 >= pairs * 9 && even_nul * 10 <= pairs {
        Some(TextEncoding::Utf16Le)
    } else if even_nul * 10 >= pairs * 9 && odd_nul * 10 <= pairs {
        Some(TextEncoding::Utf16Be)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Into a reused buffer, the same text as `decode`: with either byte order mark or none, an odd tail
    /// byte, a lone surrogate, and a buffer given too small.
    #[test]
    fn utf16_into_a_given_buffer_reads_as_decode_does() {
        let text = "<![LOG[héllo \u{1F600} wörld]LOG]!>\r\nsecond line\n".repeat(40);
        let le: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
        let mut cases =
            vec![le.clone(), be.clone(), [&b"\xFF\xFE"[..], &le].concat(), [&b"\xFE\xFF"[..], &be].concat()];
        let mut odd = [&b"\xFF\xFE"[..], &le].concat();
        odd.push(b'x');
        cases.push(odd);
        let mut lone = [&b"\xFF\xFE"[..], &le].concat();
        lone.extend_from_slice(&[0x00, 0xD8, b'a', 0]);
        cases.push(lone);
        for bytes in cases {
            let (expected, enc) = decode(&bytes);
            let (_, head) = decode(&bytes[..512]);
            assert_eq!(head, enc);
            for alloc in [String::with_capacity as fn(usize) -> String, |_| String::new()] {
                let (got, got_enc) = decode_utf16_into(&bytes, head, alloc);
                assert_eq!((got.as_str(), got_enc), (&*expected, enc));
            }
        }
    }

    fn utf16le(s: &str, bom: bool) -> Vec<u8> {
        let mut v = if bom { vec![0xFF, 0xFE] } else { vec![] };
        for u in s.encode_utf16() {
            v.extend_from_slice(&u.to_le_bytes());
        }
        v
    }

    #[test]
    fn utf8_with_and_without_bom_is_borrowed() {
        let (t, e) = decode(b"\xEF\xBB\xBFhello");
        assert_eq!((t.as_ref(), e), ("hello", TextEncoding::Utf8));
        assert!(matches!(t, Cow::Borrowed(_)));
        let (t, e) = decode("héllo".as_bytes());
        assert_eq!((t.as_ref(), e), ("héllo", TextEncoding::Utf8));
    }

    #[test]
    fn utf16_le_be_and_truncated() {
        let bytes = utf16le("<![LOG[ü]LOG]!>", true);
        let (t, e) = decode(&bytes);
        assert_eq!((t.as_ref(), e), ("<![LOG[ü]LOG]!>", TextEncoding::Utf16Le));
        let mut be = vec![0xFE, 0xFF];
        for u in "abc".encode_utf16() {
            be.extend_from_slice(&u.to_be_bytes());
        }
        assert_eq!(decode(&be).0, "abc");
        let mut cut = utf16le("abcd", true);
        cut.push(0x41);
        let (t, _) = decode(&cut);
        assert_eq!(t, "abcd\u{FFFD}");
        let bytes = utf16le("<![LOG[no bom here at all]LOG]!>", false);
        let (t, e) = decode(&bytes);
        assert_eq!((t.as_ref(), e), ("<![LOG[no bom here at all]LOG]!>", TextEncoding::Utf16Le));
    }

    fn utf16be(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_be_bytes).collect()
    }

    /// A ConfigMgr log line as a BOM-less UTF-16 file holds it: the detection reads the NULs' side (odd
    /// bytes in LE, even bytes in BE), so each order must come back as itself, never as CJK text.
    const LINE: &str = "<![LOG[Running as user \"SYSTEM\"]LOG]!><time=\"15:31:38.100+000\" date=\"11-20-2026\" \
                        component=\"ccmsetup\" context=\"\" type=\"1\" thread=\"2728\" file=\"ccmsetup.cpp:9\">\r\n";

    #[test]
    fn bomless_utf16_be_and_le_decode_to_the_line() {
        let head = |t: &str| t.chars().take(12).collect::<String>();
        let be = utf16be(LINE);
        let (t, e) = decode(&be);
        assert_eq!(e, TextEncoding::Utf16Be, "BOM-less UTF-16BE detected as {e:?}: {:?}", head(&t));
        assert_eq!((t.as_ref(), e.as_str()), (LINE, "utf-16be"));
        let le = utf16le(LINE, false);
        let (t, e) = decode(&le);
        assert_eq!(e, TextEncoding::Utf16Le, "BOM-less UTF-16LE detected as {e:?}: {:?}", head(&t));
        assert_eq!((t.as_ref(), e.as_str()), (LINE, "utf-16le"));
        // Exactly the 16 bytes detection needs; shorter is not UTF-16 (its NULs are valid UTF-8).
        let (be, le) = (utf16be("<![LOG[x"), utf16le("<![LOG[x", false));
        assert_eq!(decode(&be), ("<![LOG[x".into(), TextEncoding::Utf16Be));
        assert_eq!(decode(&le), ("<![LOG[x".into(), TextEncoding::Utf16Le));
        assert_eq!(decode(&be[..15]).1, TextEncoding::Utf8);
    }

    /// The detection's bounds: a side at least 90% NUL and the other at most 10%. A line in another script
    /// (Cyrillic: no NUL byte) takes NULs from the first side, a U+0000 character adds one to the second.
    #[test]
    fn bomless_utf16_needs_nine_tenths_nul_on_one_side_and_one_tenth_on_the_other() {
        // 20 characters: 40 bytes, 20 pairs.
        let line = |ascii: usize, other: char| "x".repeat(ascii) + &other.to_string().repeat(20 - ascii);
        for (text, utf16) in [
            (line(18, 'Ж'), true),   // 18 of 20 pairs NUL on the high side
            (line(17, 'Ж'), false),  // 17 of 20
            (line(18, '\0'), true),  // 2 of 20 pairs NUL on the low side as well
            (line(17, '\0'), false), // 3 of 20
        ] {
            let (le, be) = (utf16le(&text, false), utf16be(&text));
            let (t, e) = decode(&le);
            assert_eq!(e == TextEncoding::Utf16Le, utf16, "{text:?} as LE: {e:?} {t:?}");
            assert_eq!(decode(&be).1 == TextEncoding::Utf16Be, utf16, "{text:?} as BE");
            if utf16 {
                assert_eq!((decode(&le).0, decode(&be).0), (text.clone().into(), text.into()));
            } else {
                // Not UTF-16: all bytes below 0x80, read as the UTF-8 they are.
                assert_eq!((decode(&le).1, decode(&be).1), (TextEncoding::Utf8, TextEncoding::Utf8));
            }
        }
        // NULs on both sides (a file zero-filled by a crash) is not UTF-16; nor is plain ASCII.
        assert_eq!(decode(&[0u8; 64]).1, TextEncoding::Utf8);
        let ascii = "<![LOG[no NUL in this line at all]LOG]!>";
        assert_eq!(decode(ascii.as_bytes()), (Cow::Borrowed(ascii), TextEncoding::Utf8));
    }

    /// A UTF-8 BOM says UTF-8: bad bytes inside become U+FFFD, the rest is not read as Windows-1252.
    #[test]
    fn utf8_bom_with_bad_bytes_stays_utf8() {
        let (t, e) = decode(b"\xEF\xBB\xBFcaf\xC3\xA9 \xFF end");
        assert_eq!((t.as_ref(), e), ("café \u{FFFD} end", TextEncoding::Utf8));
    }

    #[test]
    fn ansi_fallback_keeps_every_byte() {
        let (t, e) = decode(b"Caf\xE9 \x80 ok");
        assert_eq!(e, TextEncoding::Windows1252);
        assert_eq!(t, "Café € ok");
    }
}
