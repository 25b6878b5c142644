//! Following one log file as it grows (`cmtrace-rs watch`): the file stays open, and each read takes the
//! bytes written since the last one, decodes them (the encoding is told once, from the first bytes, and
//! a decoder keeps an incomplete character for the next read) and hands out only whole records. The end of
//! what has been written is held back while it may be the start of a record whose end is still to come:
//!
//! - CMTrace: a record ends with the `>` that closes its attributes after `]LOG]!>`; a `<![LOG[` without
//!   that end waits, whatever the line breaks in its message.
//! - Server format: a record ends with its trailer line (`$$<Component><time><thread=N (0xN)>`); lines
//!   after the last trailer line (the first lines of a multi-line message, or half a line) wait.
//! - Setup logs and text of no known format: a line ends with `\n`.
//!
//! What is held back is handed out as it is by `flush`, for a file that will not be written again (rolled
//! over or removed); a file shorter than what was read was truncated and is read again from its start.
//! What was handed out is never handed out again: `offset` only moves forward, except on truncation.
//! The file is opened as `regular::open_regular` opens every file (on Windows with the share modes that let
//! the writer go on writing, renaming and deleting it).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::time::Instant;

use memchr::memmem;

use crate::entry::{LineFormat, TextEncoding};
use crate::error::ReadError;
use crate::format::{is_sms_trailer_line, sniff_format, MAX_RECORD_BYTES};
use crate::kind::LogKind;
use crate::regular::{file_id, open_regular, FileId};
use crate::stream::BlockDecoder;

/// The most bytes one `read` takes from the file: a large file is read in steps, so that what is held in
/// memory at once does not grow with it.
pub const READ_STEP: u64 = 4 << 20;

/// Text of no known format yet is held until this much has come (then it is read line by line).
const SNIFF_BYTES: usize = 64 << 10;

/// Whole records of the file, and the 1-based line their text starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TailText {
    /// Whole records, decoded.
    pub text: String,
    /// The 1-based line number of their first line.
    pub first_line: u32,
}

/// What one `read` found.
#[derive(Debug, Default)]
pub struct Growth {
    /// Whole records, in file order. When the file was truncated, the records before `truncated_before`
    /// are the old content's last ones (its held-back end, flushed), the others the new content's.
    pub texts: Vec<TailText>,
    /// The file was shorter than what had been read: from `texts[truncated_before]` on, it is read from its
    /// start again (line numbers start again at 1).
    pub truncated_before: Option<usize>,
    /// More was written than one read takes (`READ_STEP`): read again.
    pub more: bool,
}

/// One file being followed.
pub struct Tail {
    file: File,
    id: FileId,
    /// Bytes of the file read so far (decoded into `pending` or handed out).
    offset: u64,
    decoder: Option<BlockDecoder>,
    /// The encoding the first bytes told (`Utf8` until then).
    pub encoding: TextEncoding,
    /// `Unknown` until the text tells.
    pub format: LineFormat,
    /// The log kind: by name, else from the components of the first records, else `Other`.
    pub kind: LogKind,
    kind_by_name: Option<LogKind>,
    kind_known: bool,
    /// Decoded text not handed out yet: it starts on a record boundary.
    pending: String,
    /// The line number of `pending`'s first line.
    next_line: u32,
    /// When the file last grew.
    last_growth: Instant,
    /// The first and the last bytes read (at most `CHECK_BYTES` each, the last ending at `offset`) and the
    /// file's modification time then: a file rewritten to the length read, or longer, is told from one that
    /// grew by them.
    first_bytes: Vec<u8>,
    last_bytes: Vec<u8>,
    modified: Option<std::time::SystemTime>,
}

/// How many of the first and of the last bytes read are compared to tell a file rewritten from one that grew.
const CHECK_BYTES: usize = 64;

impl Tail {
    /// Opens the regular file at `path` (read from its start). `kind_by_name`: the kind its name tells.
    pub fn open(path: &Path, kind_by_name: Option<LogKind>, now: Instant) -> Result<Tail, ReadError> {
        let (file, meta) = open_regular(path)?;
        Ok(Tail {
            file,
            id: file_id(path, &meta),
            offset: 0,
            decoder: None,
            encoding: TextEncoding::Utf8,
            format: LineFormat::Unknown,
            kind: kind_by_name.unwrap_or(LogKind::Other),
            kind_by_name,
            kind_known: false,
            pending: String::new(),
            next_line: 1,
            last_growth: now,
            first_bytes: Vec::new(),
            last_bytes: Vec::new(),
            modified: None,
        })
    }

    /// The file's identity when it was opened (its inode on unix): the same file under another name after a
    /// rename.
    pub fn id(&self) -> &FileId {
        &self.id
    }

    /// The identity of the file under its new name (where identities are paths: Windows).
    pub fn set_id(&mut self, id: FileId) {
        self.id = id;
    }

    /// Bytes of the file read so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Since when text has been held back waiting for the end of its record (`None`: nothing is).
    pub fn waiting_since(&self) -> Option<Instant> {
        (!self.pending.trim().is_empty()).then_some(self.last_growth)
    }

    /// The open file's metadata (its size now, whatever its name).
    pub fn metadata(&self) -> std::io::Result<std::fs::Metadata> {
        self.file.metadata()
    }

    /// Do the first `n` bytes of the open file equal those of the file at `path`? (A file moved where its
    /// identity does not tell: the same content under another name.)
    pub fn starts_like(&mut self, path: &Path, n: u64) -> bool {
        let head = |file: &mut File| -> Option<Vec<u8>> {
            file.seek(SeekFrom::Start(0)).ok()?;
            let mut buf = Vec::new();
            file.take(n).read_to_end(&mut buf).ok()?;
            Some(buf)
        };
        let Ok((mut other, _)) = open_regular(path) else { return false };
        match (head(&mut self.file), head(&mut other)) {
            (Some(a), Some(b)) => a.len() as u64 == n && a == b,
            _ => false,
        }
    }

    /// Reads what was written since the last read (at most `READ_STEP` bytes): the whole records among it.
    pub fn read(&mut self, now: Instant) -> Result<Growth, ReadError> {
        let mut growth = Growth::default();
        let meta = self.file.metadata()?;
        let len = meta.len();
        let modified = meta.modified().ok();
        // Shorter than what was read: truncated. As long or longer, but written since and no longer ending
        // with what was read: truncated and written again (perhaps to the very length read).
        let rewritten = self.offset > 0
            && (len < self.offset
                || ((len > self.offset || modified != self.modified) && !self.still_reads_as_read()));
        self.modified = modified;
        if rewritten {
            // Truncated (or rewritten shorter): what was held back will not be completed.
            growth.texts.extend(self.flush());
            growth.truncated_before = Some(growth.texts.len());
            self.restart();
        }
        if len == self.offset {
            return Ok(growth);
        }
        let want = (len - self.offset).min(READ_STEP);
        let mut bytes = Vec::with_capacity(want as usize);
        self.file.seek(SeekFrom::Start(self.offset))?;
        (&mut self.file).take(want).read_to_end(&mut bytes)?;
        if bytes.is_empty() {
            return Ok(growth);
        }
        self.offset += bytes.len() as u64;
        growth.more = self.offset < len;
        if self.first_bytes.len() < CHECK_BYTES {
            let more = (CHECK_BYTES - self.first_bytes.len()).min(bytes.len());
            self.first_bytes.extend_from_slice(&bytes[..more]);
        }
        let keep = CHECK_BYTES.saturating_sub(bytes.len()).min(self.last_bytes.len());
        self.last_bytes.drain(..self.last_bytes.len() - keep);
        self.last_bytes.extend_from_slice(&bytes[bytes.len().saturating_sub(CHECK_BYTES)..]);
        self.last_growth = now;
        let decoder = match &mut self.decoder {
            Some(d) => d,
            None => {
                let (decoder, skip, encoding) = BlockDecoder::for_head(&bytes);
                self.encoding = encoding;
                bytes.drain(..skip.min(bytes.len()));
                self.decoder.insert(decoder)
            }
        };
        decoder.decode(&bytes, &mut self.pending, false);
        if self.format == LineFormat::Unknown {
            self.format = sniff_format(&self.pending);
            if self.format == LineFormat::Unknown && self.pending.len() < SNIFF_BYTES {
                return Ok(growth);
            }
        }
        let cut = if self.pending.len() > MAX_RECORD_BYTES {
            // No record is that long: the parser reads what this is (and counts it as unparsed).
            self.pending.len()
        } else {
            complete_prefix(&self.pending, self.format)
        };
        growth.texts.extend(self.take(cut));
        Ok(growth)
    }

    /// Do the file's first bytes and the bytes before `offset` still read as they did? (A read that fails
    /// says nothing: yes.)
    fn still_reads_as_read(&mut self) -> bool {
        let mut bytes_at = |at: u64, n: usize| -> Option<Vec<u8>> {
            self.file.seek(SeekFrom::Start(at)).ok()?;
            let mut now = Vec::with_capacity(n);
            (&mut self.file).take(n as u64).read_to_end(&mut now).ok()?;
            Some(now)
        };
        let (first, last) = (self.first_bytes.len(), self.last_bytes.len());
        let first_now = bytes_at(0, first);
        let last_now = bytes_at(self.offset - last as u64, last);
        first_now.is_none_or(|b| b == self.first_bytes) && last_now.is_none_or(|b| b == self.last_bytes)
    }

    /// Everything held back, as it is: for a file that will not be written again (rolled over, removed).
    pub fn flush(&mut self) -> Option<TailText> {
        if let Some(d) = &mut self.decoder {
            d.decode(&[], &mut self.pending, true);
        }
        self.take(self.pending.len())
    }

    /// Hands out `pending[..cut]`.
    fn take(&mut self, cut: usize) -> Option<TailText> {
        if cut == 0 {
            return None;
        }
        if !self.kind_known {
            self.kind = self
                .kind_by_name
                .or_else(|| crate::input::sniff_kind(&self.pending, self.format))
                .unwrap_or(LogKind::Other);
            self.kind_known = true;
        }
        let rest = self.pending.split_off(cut);
        let text = std::mem::replace(&mut self.pending, rest);
        let first_line = self.next_line;
        let lines = memchr::memchr_iter(b'\n', text.as_bytes()).count();
        self.next_line = self.next_line.saturating_add(u32::try_from(lines).unwrap_or(u32::MAX));
        Some(TailText { text, first_line })
    }

    /// Reads the file again from its start, as a new one.
    fn restart(&mut self) {
        self.offset = 0;
        self.first_bytes.clear();
        self.last_bytes.clear();
        self.decoder = None;
        self.format = LineFormat::Unknown;
        self.kind = self.kind_by_name.unwrap_or(LogKind::Other);
        self.kind_known = false;
        self.pending.clear();
        self.next_line = 1;
    }
}

/// How much of `text` (which starts on a record boundary) holds only whole records: the rest may be the start
/// of a record whose end is not written yet. See the module's comment for where each format's records end.
pub fn complete_prefix(text: &str, format: LineFormat) -> usize {
    let b = text.as_bytes();
    let after_last_newline = memchr::memrchr(b'\n', b).map_or(0, |i| i + 1);
    match format {
        LineFormat::Cmtrace => match memmem::rfind(b, b"<![LOG[") {
            None => after_last_newline,
            Some(start) => match cmtrace_record_end(b, start) {
                // Everything before the last record's start is whole (lines that are no record included).
                None => start,
                Some(end) => end.max(after_last_newline),
            },
        },
        LineFormat::Sms => {
            // After the last line that is a trailer line.
            let mut line_end = after_last_newline;
            while line_end > 0 {
                let nl = line_end - 1;
                let line_start = memchr::memrchr(b'\n', &b[..nl]).map_or(0, |i| i + 1);
                if is_sms_trailer_line(&text[line_start..nl]) {
                    return line_end;
                }
                line_end = line_start;
            }
            0
        }
        LineFormat::Setup | LineFormat::Unknown => after_last_newline,
    }
}

/// The end (just past its `>`) of the CMTrace record that starts at `start`, if it is written: `]LOG]!>`,
/// then the attributes `<time=".." ...>` up to the first `>` outside quotes.
fn cmtrace_record_end(b: &[u8], start: usize) -> Option<usize> {
    let close = start + memmem::find(&b[start..], b"]LOG]!>")?;
    let attrs = close + b"]LOG]!>".len();
    if b.get(attrs) != Some(&b'<') {
        // Not the attribute part of the format (the parser decides what it is): nothing more to wait for
        // once anything follows.
        return (attrs < b.len()).then_some(attrs);
    }
    let mut quoted = false;
    for (i, &c) in b[attrs + 1..].iter().enumerate() {
        match c {
            b'"' => quoted = !quoted,
            b'>' if !quoted => return Some(attrs + 1 + i + 1),
            b'\n' if !quoted => return Some(attrs + 1 + i),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const CM1: &str = "<![LOG[first]LOG]!><time=\"15:31:39.105+480\" date=\"11-20-2026\" component=\"ccmsetup\" context=\"\" type=\"1\" thread=\"1\" file=\"a.cpp:1\">\r\n";
    const CM2: &str = "<![LOG[second\r\nline two]LOG]!><time=\"15:31:40.000+480\" date=\"11-20-2026\" component=\"ccmsetup\" context=\"\" type=\"3\" thread=\"1\" file=\"\">\r\n";
    const SMS1: &str = "Return token to client  $$<CCM_STS><11-20-2026 07:31:39.105+480><thread=7 (0x7)>\r\n";

    #[test]
    fn cmtrace_records_wait_for_their_end() {
        let f = LineFormat::Cmtrace;
        assert_eq!(complete_prefix(CM1, f), CM1.len());
        let two = format!("{CM1}{CM2}");
        assert_eq!(complete_prefix(&two, f), two.len());
        // Every cut inside the second record keeps it back whole; a cut after its `>` hands it out.
        let gt = CM1.len() + CM2.rfind('>').unwrap() + 1;
        for cut in CM1.len()..two.len() {
            let want = if cut >= gt { gt } else { CM1.len() };
            assert_eq!(complete_prefix(&two[..cut], f), want, "cut at {cut}: {:?}", &two[CM1.len()..cut]);
        }
        // A `>` inside a quoted attribute does not end the record.
        let quoted = "<![LOG[x]LOG]!><time=\"1\" file=\"a>b";
        assert_eq!(complete_prefix(quoted, f), 0);
        assert_eq!(complete_prefix(&format!("{quoted}\">"), f), quoted.len() + 2);
        // Lines that are no record before a record start are whole; a half-written start waits.
        assert_eq!(complete_prefix("junk\r\n<![LO", f), 6);
        assert_eq!(complete_prefix("junk", f), 0);
    }

    #[test]
    fn server_records_end_with_their_trailer_line() {
        let f = LineFormat::Sms;
        assert_eq!(complete_prefix(SMS1, f), SMS1.len());
        let multi = format!(
            "{SMS1}first line of two\r\nsecond  $$<CCM_STS><11-20-2026 07:31:40.000+480><thread=7 (0x7)>\r\n"
        );
        assert_eq!(complete_prefix(&multi, f), multi.len());
        for cut in SMS1.len()..multi.len() - 1 {
            assert_eq!(complete_prefix(&multi[..cut], f), SMS1.len(), "cut at {cut}");
        }
        assert_eq!(complete_prefix("half a line", f), 0);
    }

    fn read_all(tail: &mut Tail) -> (String, Vec<u32>) {
        let mut text = String::new();
        let mut lines = Vec::new();
        loop {
            let g = tail.read(Instant::now()).unwrap();
            for t in g.texts {
                lines.push(t.first_line);
                text.push_str(&t.text);
            }
            if !g.more {
                return (text, lines);
            }
        }
    }

    #[test]
    fn a_record_split_across_writes_is_handed_out_once_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ccmsetup.log");
        let mut w = std::fs::File::create(&path).unwrap();
        let mut tail = Tail::open(&path, Some(LogKind::Ccmsetup), Instant::now()).unwrap();
        assert_eq!(read_all(&mut tail).0, "");
        let split = 40;
        w.write_all(format!("{CM1}{}", &CM2[..split]).as_bytes()).unwrap();
        assert_eq!(read_all(&mut tail), (CM1.to_string(), vec![1]));
        assert!(tail.waiting_since().is_some());
        w.write_all(&CM2.as_bytes()[split..]).unwrap();
        // The second record starts on line 2 and spans two lines.
        assert_eq!(read_all(&mut tail), (CM2.to_string(), vec![2]));
        assert!(tail.waiting_since().is_none());
        assert_eq!(tail.offset(), (CM1.len() + CM2.len()) as u64);
        assert_eq!((tail.format, tail.kind), (LineFormat::Cmtrace, LogKind::Ccmsetup));
        // Truncated and written again: read from the start, lines from 1.
        w.set_len(0).unwrap();
        let mut w = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        w.write_all(SMS1.as_bytes()).unwrap();
        let g = tail.read(Instant::now()).unwrap();
        assert_eq!(g.truncated_before, Some(0));
        assert_eq!(g.texts, vec![TailText { text: SMS1.to_string(), first_line: 1 }]);
        assert_eq!(tail.format, LineFormat::Sms);
    }

    #[test]
    fn a_file_rewritten_to_the_length_read_is_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ccmsetup.log");
        std::fs::write(&path, CM1).unwrap();
        let mut tail = Tail::open(&path, None, Instant::now()).unwrap();
        assert_eq!(read_all(&mut tail).0, CM1);
        // Nothing written: nothing read, however often.
        assert!(tail.read(Instant::now()).unwrap().texts.is_empty());
        assert!(tail.read(Instant::now()).unwrap().texts.is_empty());
        // Rewritten with another record of the same length (the modification time may not change within
        // the file system's resolution: the bytes tell).
        let other = CM1.replace("first", "fresh");
        std::fs::write(&path, &other).unwrap();
        let mut more = other.clone();
        more.push_str(CM1);
        std::fs::write(&path, &more).unwrap();
        let g = tail.read(Instant::now()).unwrap();
        assert_eq!(g.truncated_before, Some(0));
        let text: String = g.texts.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(text, more);
        assert_eq!(g.texts[0].first_line, 1);
    }

    #[test]
    fn utf16_split_inside_a_character_and_a_record() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("CcmMessaging.log");
        let mut bytes = vec![0xFF, 0xFE];
        for u in format!("{CM1}{}", CM2.replace("second", "zweite ü")).encode_utf16() {
            bytes.extend_from_slice(&u.to_le_bytes());
        }
        let mut w = std::fs::File::create(&path).unwrap();
        let mut tail = Tail::open(&path, None, Instant::now()).unwrap();
        let mut got = String::new();
        // Odd-sized writes: characters and records cut everywhere.
        for piece in bytes.chunks(37) {
            w.write_all(piece).unwrap();
            got.push_str(&read_all(&mut tail).0);
        }
        assert_eq!(got, format!("{CM1}{}", CM2.replace("second", "zweite ü")));
        assert_eq!(tail.encoding, TextEncoding::Utf16Le);
        // The component names the kind when the name does not.
        assert_eq!(tail.kind, LogKind::Ccmsetup);
    }

    #[test]
    fn what_is_held_back_is_flushed_as_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log");
        std::fs::write(&path, format!("{CM1}<![LOG[cut off")).unwrap();
        let mut tail = Tail::open(&path, None, Instant::now()).unwrap();
        assert_eq!(read_all(&mut tail).0, CM1);
        let rest = tail.flush().unwrap();
        assert_eq!(rest, TailText { text: "<![LOG[cut off".into(), first_line: 2 });
        assert!(tail.flush().is_none());
        assert!(tail.waiting_since().is_none());
    }

    #[test]
    fn large_growth_is_read_in_steps() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log");
        let n = (READ_STEP as usize / CM1.len()) * 2 + 3;
        std::fs::write(&path, CM1.repeat(n)).unwrap();
        let mut tail = Tail::open(&path, None, Instant::now()).unwrap();
        let (mut steps, mut total, mut lines) = (0, 0, Vec::new());
        loop {
            let g = tail.read(Instant::now()).unwrap();
            steps += 1;
            for t in &g.texts {
                total += t.text.len();
                lines.push(t.first_line);
            }
            if !g.more {
                break;
            }
        }
        assert_eq!(total, CM1.len() * n);
        assert!(steps >= 3, "{steps}");
        // Each step starts on the line after the last one handed out.
        assert_eq!(lines[1], 1 + (READ_STEP as usize / CM1.len()) as u32);
    }
}
