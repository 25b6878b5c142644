//! Text from logs, file names, host names and zip entry names is hostile until shown otherwise: a log
//! line can carry a terminal escape sequence (clear the screen, set the window title, write the
//! clipboard with OSC 52) or a bidi override that makes a line read differently from what it holds.
//! Everything a person reads goes through two guards:
//!
//! - [`visible`] on every log-derived string the renderers print: control characters (C0 but `\n` and
//!   `\t`, DEL, C1) and the bidi embedding / override / isolate controls are written as visible escapes
//!   (`\x1b`, `\x07`, `\u{9b}`, `\u{202e}`), never sent. It runs before any colouring, so a log-borne
//!   sequence is text by the time our own colour codes are added.
//! - [`TerminalSafe`], a writer around stdout (text, Markdown, JUnit, `trace`, `rules`, `error`) and
//!   stderr ([`say`]), which escapes any control byte that still gets that far, and lets through only
//!   the SGR colour sequences (`ESC [` digits and `;` `m`) our renderers emit, and only when colour is on.
//!
//! JSON, NDJSON and CSV keep the exact text: their own escaping carries every character.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, Write};

/// Whether `c` is shown as an escape instead of being sent: C0 controls except `\n` and `\t`, DEL,
/// C1 controls (U+0080–U+009F) and the bidi controls U+202A–U+202E and U+2066–U+2069.
pub fn is_hidden_control(c: char) -> bool {
    matches!(c,
        '\0'..='\u{8}' | '\u{b}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// How a hidden control is shown: `\x1b` below U+0080, else `\u{9b}`.
fn push_escaped(out: &mut String, c: char) {
    let n = c as u32;
    // Writing to a String cannot fail.
    let _ = if n < 0x80 { write!(out, "\\x{n:02x}") } else { write!(out, "\\u{{{n:x}}}") };
}

/// `s` with every control character (but `\n` and `\t`) and every bidi control shown as a visible
/// escape. Borrows when there is nothing to escape (the common case). Idempotent: the escapes hold
/// no control character.
pub fn visible(s: &str) -> Cow<'_, str> {
    let Some(first) = s.find(is_hidden_control) else {
        return Cow::Borrowed(s);
    };
    let mut out = String::with_capacity(s.len() + 8);
    out.push_str(&s[..first]);
    for c in s[first..].chars() {
        if is_hidden_control(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// [`visible`], and the line breaks shown as ` ⏎ `: for text that must stay on one line (a stderr
/// message, a row of `trace`).
pub fn visible_line(s: &str) -> Cow<'_, str> {
    if !s.contains(['\n', '\r']) {
        return visible(s);
    }
    Cow::Owned(visible(&s.replace("\r\n", "\n").replace('\n', " ⏎ ")).into_owned())
}

/// One message on stderr, as one line: made visible, through [`TerminalSafe`], and never a panic nor an
/// error when stderr is closed (`eprintln!` panics then).
pub fn say(msg: &str) {
    let mut line = visible_line(msg).into_owned();
    line.push('\n');
    let stderr = io::stderr();
    let mut w = TerminalSafe::new(stderr.lock(), false);
    let _ = w.write_all(line.as_bytes());
    let _ = w.flush();
}

/// `say!("cmtrace-rs: {}: {}", path, error)`: [`say`] with `format!` arguments.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::sanitize::say(&format!($($arg)*))
    };
}

/// The longest SGR sequence held back while waiting for its end (across writes).
const MAX_SGR: usize = 64;

/// A writer that escapes, as [`visible`] does, every control byte but `\n` and `\t` (and the C1 and bidi
/// controls, and bytes that are not UTF-8) before they reach the terminal. With `allow_sgr`, an SGR
/// colour sequence (`ESC [` digits and `;` then `m`) goes through as it is; nothing else that starts
/// with ESC does. Sequences and characters cut across `write` calls are held until complete; what is
/// still incomplete at `flush` is escaped.
pub struct TerminalSafe<W: Write> {
    inner: W,
    allow_sgr: bool,
    /// Bytes of an incomplete character or SGR sequence from the previous write.
    pending: Vec<u8>,
    out: Vec<u8>,
}

impl<W: Write> TerminalSafe<W> {
    pub fn new(inner: W, allow_sgr: bool) -> TerminalSafe<W> {
        TerminalSafe { inner, allow_sgr, pending: Vec::new(), out: Vec::new() }
    }

    /// The writer inside (after a flush, nothing is held back).
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    fn emit(&mut self) -> io::Result<()> {
        let r = self.inner.write_all(&self.out);
        self.out.clear();
        r
    }
}

impl<W: Write> Write for TerminalSafe<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.pending.is_empty() {
            let used = escape_bytes(buf, self.allow_sgr, false, &mut self.out);
            self.pending.extend_from_slice(&buf[used..]);
        } else {
            self.pending.extend_from_slice(buf);
            let used = escape_bytes(&self.pending, self.allow_sgr, false, &mut self.out);
            self.pending.drain(..used);
        }
        self.emit()?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.pending.is_empty() {
            escape_bytes(&self.pending, self.allow_sgr, true, &mut self.out);
            self.pending.clear();
            self.emit()?;
        }
        self.inner.flush()
    }
}

impl<W: Write> Drop for TerminalSafe<W> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

fn push_hex_byte(out: &mut Vec<u8>, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.extend_from_slice(&[b'\\', b'x', HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]);
}

/// Escapes `input` into `out`; returns how many bytes were used. Unless `at_end`, an incomplete UTF-8
/// character or SGR sequence at the end is left for the next call.
fn escape_bytes(input: &[u8], allow_sgr: bool, at_end: bool, out: &mut Vec<u8>) -> usize {
    out.reserve(input.len());
    let len = input.len();
    let mut i = 0;
    while i < len {
        let b = input[i];
        if (0x20..0x7f).contains(&b) || b == b'\n' || b == b'\t' {
            // A run of plain ASCII at once.
            let run = input[i..]
                .iter()
                .position(|&b| !((0x20..0x7f).contains(&b) || b == b'\n' || b == b'\t'))
                .unwrap_or(len - i);
            out.extend_from_slice(&input[i..i + run]);
            i += run;
            continue;
        }
        if b == 0x1b && allow_sgr {
            let mut j = i + 1;
            if j < len && input[j] == b'[' {
                j += 1;
                while j < len && (input[j].is_ascii_digit() || input[j] == b';') && j - i < MAX_SGR {
                    j += 1;
                }
                if j < len && input[j] == b'm' {
                    out.extend_from_slice(&input[i..=j]);
                    i = j + 1;
                    continue;
                }
                if j == len && !at_end {
                    return i;
                }
            } else if j == len && !at_end {
                return i;
            }
            push_hex_byte(out, b);
            i += 1;
            continue;
        }
        if b < 0x80 {
            push_hex_byte(out, b);
            i += 1;
            continue;
        }
        let width = match b {
            0xc2..=0xdf => 2,
            0xe0..=0xef => 3,
            0xf0..=0xf4 => 4,
            _ => 0,
        };
        if width == 0 {
            push_hex_byte(out, b);
            i += 1;
            continue;
        }
        if i + width > len {
            // Incomplete at the end: wait for the rest, unless it cannot be a character.
            if !at_end && std::str::from_utf8(&input[i..]).err().is_some_and(|e| e.error_len().is_none()) {
                return i;
            }
            push_hex_byte(out, b);
            i += 1;
            continue;
        }
        match std::str::from_utf8(&input[i..i + width]) {
            Ok(s) => {
                let c = s.chars().next().expect("one character");
                if is_hidden_control(c) {
                    let mut e = String::new();
                    push_escaped(&mut e, c);
                    out.extend_from_slice(e.as_bytes());
                } else {
                    out.extend_from_slice(s.as_bytes());
                }
                i += width;
            }
            Err(_) => {
                push_hex_byte(out, b);
                i += 1;
            }
        }
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;

    fn through(chunks: &[&[u8]], sgr: bool) -> String {
        let mut w = TerminalSafe::new(Vec::new(), sgr);
        for c in chunks {
            w.write_all(c).unwrap();
        }
        w.flush().unwrap();
        String::from_utf8(std::mem::take(w.get_mut())).unwrap()
    }

    #[test]
    fn visible_escapes_controls_and_bidi() {
        assert_eq!(visible("plain C:\\Windows\tx\ny"), "plain C:\\Windows\tx\ny");
        assert!(matches!(visible("plain"), Cow::Borrowed(_)));
        assert_eq!(visible("a\x1b[2Jb\x07\u{9b}31m\r\u{8}"), "a\\x1b[2Jb\\x07\\u{9b}31m\\x0d\\x08");
        assert_eq!(visible("\x1b]52;c;cHduZWQ=\x07"), "\\x1b]52;c;cHduZWQ=\\x07");
        assert_eq!(visible("abc\u{202e}cba\u{2066}\u{7f}"), "abc\\u{202e}cba\\u{2066}\\x7f");
        let once = visible("x\x1by\u{9b}").into_owned();
        assert_eq!(visible(&once), once);
        assert_eq!(visible_line("a\r\nb\nc\x1b"), "a ⏎ b ⏎ c\\x1b");
        // Other non-ASCII text is untouched.
        assert_eq!(visible("Ünïcode ✓ 日本 ⏎"), "Ünïcode ✓ 日本 ⏎");
    }

    #[test]
    fn writer_escapes_controls_and_keeps_sgr_only_when_allowed() {
        let raw = "\x1b[31mred\x1b[0m \x1b]0;t\x07 \x1b[2J \u{9b}1m \u{202e}x\n\tok";
        assert_eq!(
            through(&[raw.as_bytes()], true),
            "\x1b[31mred\x1b[0m \\x1b]0;t\\x07 \\x1b[2J \\u{9b}1m \\u{202e}x\n\tok"
        );
        assert_eq!(
            through(&[raw.as_bytes()], false),
            "\\x1b[31mred\\x1b[0m \\x1b]0;t\\x07 \\x1b[2J \\u{9b}1m \\u{202e}x\n\tok"
        );
        // Sequences and characters cut across writes.
        assert_eq!(through(&[b"a\x1b[3", b"8;5;9mb\x1b", b"[0m"], true), "a\x1b[38;5;9mb\x1b[0m");
        assert_eq!(
            through(&[b"\xc2", b"\x9b", b"\xe2\x80", b"\xae", b"\xe2", b"\x9c\x93"], false),
            "\\u{9b}\\u{202e}✓"
        );
        // Invalid UTF-8 and a trailing incomplete sequence.
        assert_eq!(through(&[b"\x9b2J\xff", b"\x1b["], true), "\\x9b2J\\xff\\x1b[");
        assert_eq!(through(&[b"x\xe2\x80"], false), "x\\xe2\\x80");
    }
}
