//! Reading one large regular file in blocks, so that memory does not grow with the file: each block is
//! read into a reused buffer, decoded (UTF-8, UTF-16 with a decoder that keeps its state across blocks,
//! or Windows-1252), and cut at the last record boundary; the records after the cut wait for the next
//! block. The blocks parse to the same records as the whole text (`format::next_boundary` never cuts a
//! record), with their line numbers.
//!
//! The encoding, the line format and the log kind are told from the first block (as `input::load` tells
//! them from the whole file's first bytes). One difference with a whole-file read: a file without a byte
//! order mark whose first block is UTF-8 stays UTF-8 when a later block holds a byte that is not (it
//! becomes U+FFFD), where a whole-file read would have decoded the whole file as Windows-1252.

use std::fs::File;
use std::io::Read;

use crate::entry::{LineFormat, TextEncoding};
use crate::error::ReadError;
use crate::format::{next_boundary, sniff_format};
use crate::input::{LoadedFile, SourceFile};
use crate::kind::LogKind;

/// Turns raw bytes into text block after block.
pub(crate) enum BlockDecoder {
    Utf8 { pending: Vec<u8> },
    Utf16(Box<encoding_rs::Decoder>),
    Windows1252,
}

impl BlockDecoder {
    /// The decoder for a file whose first bytes are `head` (a byte order mark, else UTF-16 by its zero bytes,
    /// else UTF-8 unless `head` holds a byte that is not), the bytes of its byte order mark to skip, and the
    /// encoding it reads.
    pub(crate) fn for_head(head: &[u8]) -> (BlockDecoder, usize, TextEncoding) {
        let (_, encoding) = crate::decode::decode(&head[..head.len().min(512)]);
        let (decoder, skip) = match encoding {
            TextEncoding::Utf16Le | TextEncoding::Utf16Be => {
                let enc = if encoding == TextEncoding::Utf16Le {
                    encoding_rs::UTF_16LE
                } else {
                    encoding_rs::UTF_16BE
                };
                let bom = head.starts_with(b"\xFF\xFE") || head.starts_with(b"\xFE\xFF");
                (
                    BlockDecoder::Utf16(Box::new(enc.new_decoder_without_bom_handling())),
                    if bom { 2 } else { 0 },
                )
            }
            _ => {
                let bom = head.starts_with(b"\xEF\xBB\xBF");
                let body = &head[if bom { 3 } else { 0 }..];
                // UTF-8 unless the first block holds a byte that is not (an incomplete sequence at its
                // end is only cut by the block).
                let utf8 = match std::str::from_utf8(body) {
                    Ok(_) => true,
                    Err(e) => e.error_len().is_none() || bom,
                };
                if utf8 {
                    (BlockDecoder::Utf8 { pending: Vec::new() }, if bom { 3 } else { 0 })
                } else {
                    (BlockDecoder::Windows1252, 0)
                }
            }
        };
        let encoding = match decoder {
            BlockDecoder::Utf8 { .. } => TextEncoding::Utf8,
            BlockDecoder::Windows1252 => TextEncoding::Windows1252,
            BlockDecoder::Utf16(_) => encoding,
        };
        (decoder, skip, encoding)
    }

    /// Append the text of `bytes` to `out`; `last` flushes what is held back (an incomplete sequence
    /// becomes U+FFFD).
    pub(crate) fn decode(&mut self, bytes: &[u8], out: &mut String, last: bool) {
        match self {
            BlockDecoder::Utf8 { pending } => {
                let joined;
                let mut rest: &[u8] = if pending.is_empty() {
                    bytes
                } else {
                    pending.extend_from_slice(bytes);
                    joined = std::mem::take(pending);
                    &joined
                };
                loop {
                    match std::str::from_utf8(rest) {
                        Ok(s) => {
                            out.push_str(s);
                            break;
                        }
                        Err(e) => {
                            let (valid, after) = rest.split_at(e.valid_up_to());
                            out.push_str(std::str::from_utf8(valid).unwrap_or_default());
                            match e.error_len() {
                                Some(n) => {
                                    out.push('\u{FFFD}');
                                    rest = &after[n..];
                                }
                                None if last => {
                                    out.push('\u{FFFD}');
                                    break;
                                }
                                None => {
                                    *pending = after.to_vec();
                                    break;
                                }
                            }
                        }
                    }
                }
            }
            BlockDecoder::Utf16(d) => {
                if let Some(n) = d.max_utf8_buffer_length(bytes.len()) {
                    out.reserve(n);
                }
                let mut src = bytes;
                loop {
                    let (result, read, _) = d.decode_to_string(src, out, last);
                    src = &src[read..];
                    match result {
                        encoding_rs::CoderResult::InputEmpty => break,
                        encoding_rs::CoderResult::OutputFull => out.reserve(src.len() * 3 + 16),
                    }
                }
            }
            BlockDecoder::Windows1252 => {
                let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
                out.push_str(&text);
            }
        }
    }
}

/// The longest line a file read in blocks gives whole: a line with no end in a block is read on until it
/// ends or reaches this (24 MB, the size up to which files used to be read whole, so that a long line
/// with no end stays one row whichever way its file is read). Past it, the line is cut into pieces of it.
const LONGEST_LINE: usize = 24 << 20;

/// A large file read block by block: `next_block` gives the next piece of text that holds whole records.
pub struct TextBlocks {
    file: File,
    /// Bytes of the file still to read (the size at open, less what was read).
    left: u64,
    len_at_open: u64,
    block_bytes: usize,
    raw: Vec<u8>,
    decoder: BlockDecoder,
    /// Decoded text not handed out yet (it starts on a record boundary).
    carry: String,
    /// The line number of the carry's first line (kept by `next_block`; `next_text` leaves it).
    line: u32,
    /// The encoding the first block told.
    pub encoding: TextEncoding,
    /// The line format the first block told.
    pub format: LineFormat,
    /// The log kind: by name, else from the first block's components.
    pub kind: LogKind,
    done: bool,
    /// Set when the file turned out shorter than at open, or could not be read to its end.
    pub warning: Option<String>,
}

/// One block: whole records of the file, and the line number of its first line.
pub struct TextBlock {
    /// The block's text, decoded, with the file's encoding, format and kind.
    pub file: LoadedFile,
    /// The 1-based line number of its first line in the file.
    pub first_line: u32,
}

impl TextBlocks {
    /// Open `src` (a regular file of `len_at_open` bytes, already opened) for reading in blocks of about
    /// `block_bytes`. Reads the first block to tell the encoding, the line format and the kind.
    pub fn new(
        src: &SourceFile,
        mut file: File,
        len_at_open: u64,
        block_bytes: usize,
    ) -> Result<Self, ReadError> {
        let block_bytes = block_bytes.max(4096);
        let mut raw = Vec::new();
        raw.try_reserve_exact(block_bytes).map_err(|_| ReadError::NoMemoryForBlock { bytes: block_bytes })?;
        let want = len_at_open.min(block_bytes as u64);
        (&mut file).take(want).read_to_end(&mut raw)?;
        let left = len_at_open - raw.len() as u64;
        let (decoder, skip, encoding) = BlockDecoder::for_head(&raw);
        let mut blocks = TextBlocks {
            file,
            left,
            len_at_open,
            block_bytes,
            raw,
            decoder,
            carry: String::new(),
            line: 1,
            encoding,
            format: LineFormat::Unknown,
            kind: LogKind::Other,
            done: false,
            warning: None,
        };
        // A file no longer than one block is whole here (one that read short has bytes `left`: `fill` finds
        // out it shrank).
        blocks.decoder.decode(&blocks.raw[skip..], &mut blocks.carry, blocks.left == 0);
        blocks.raw.clear();
        blocks.format = sniff_format(&blocks.carry);
        blocks.kind = src
            .kind_by_name
            .or_else(|| crate::input::sniff_kind(&blocks.carry, blocks.format))
            .unwrap_or(LogKind::Other);
        Ok(blocks)
    }

    fn note_short(&mut self, read: u64) {
        if read < self.len_at_open && self.warning.is_none() {
            self.warning = Some(format!(
                "the file changed while it was read: {} bytes at open, {read} read; what was read is used",
                self.len_at_open
            ));
        }
    }

    /// Read and decode the next block into the carry; false at the end of the file.
    fn fill(&mut self) -> bool {
        if self.left == 0 {
            return false;
        }
        self.raw.clear();
        let want = self.left.min(self.block_bytes as u64);
        let got = match (&mut self.file).take(want).read_to_end(&mut self.raw) {
            Ok(n) => n as u64,
            Err(e) => {
                self.warning = Some(format!(
                    "could not be read to its end ({e}): {} of {} bytes were read and used",
                    self.len_at_open - self.left,
                    self.len_at_open
                ));
                self.left = 0;
                self.decoder.decode(&[], &mut self.carry, true);
                return true;
            }
        };
        self.left -= got;
        if got < want {
            // The file shrank under us: what was read is used.
            self.note_short(self.len_at_open - self.left);
            self.left = 0;
        }
        self.decoder.decode(&self.raw, &mut self.carry, self.left == 0);
        true
    }

    /// The next piece of whole records, or `None` at the end of the file.
    pub fn next_block(&mut self) -> Option<TextBlock> {
        let file = self.next_text()?;
        let first_line = self.line;
        let lines = memchr::memchr_iter(b'\n', file.text().as_bytes()).count() as u32;
        self.line = self.line.saturating_add(lines);
        Some(TextBlock { file, first_line })
    }

    /// `next_block` without its line number, for a caller that counts the lines itself (`scan` counts them
    /// as it splits the block into chunks: a second count was 2% of `parse` on large server logs).
    pub(crate) fn next_text(&mut self) -> Option<LoadedFile> {
        if self.done {
            return None;
        }
        // Enough text to cut: a block, and at the end of the file all of it.
        while self.carry.len() < self.block_bytes && self.fill() {}
        let cut = loop {
            if self.left == 0 {
                break self.carry.len();
            }
            match self.cut_point() {
                Some(cut) => break cut,
                // No line ends in the carry: read on to the line's end, up to `LONGEST_LINE`.
                None if self.carry.len() < LONGEST_LINE && self.fill() => {}
                None => break self.carry.len(),
            }
        };
        if self.left == 0 {
            self.done = true;
        }
        if cut == 0 && self.carry.is_empty() {
            return None;
        }
        let rest = self.carry.split_off(cut);
        let text = std::mem::replace(&mut self.carry, rest);
        Some(LoadedFile::from_parts(text, self.encoding, self.format, self.kind))
    }

    /// Where to cut the carry: the last record boundary in its last quarter, else (a record longer than
    /// that) the first boundary after its middle, else its last line start (no boundary in a whole block:
    /// not records this reader can keep whole); `None` when no line ends in it.
    fn cut_point(&self) -> Option<usize> {
        let text = self.carry.as_str();
        let len = text.len();
        for from in [len - len / 4, len / 2] {
            let b = next_boundary(text, self.format, 0, from);
            if b < len {
                return Some(b);
            }
        }
        memchr::memrchr(b'\n', text.as_bytes()).map(|i| i + 1)
    }
}

#[cfg(test)]
mod tests {
    use crate::entry::Record;
    use crate::input::{discover, Limits};
    use crate::scan::{scan_ordered, ScanOptions, Scanned};

    /// Every record of every file, as (file, line, record) strings, with the encoding and format seen.
    fn records(dir: &std::path::Path, opts: ScanOptions) -> Vec<String> {
        let found = discover(&[dir.to_path_buf()], &[], Limits::default());
        let mut out = Vec::new();
        scan_ordered(
            &found.files,
            opts,
            |src, file, chunk| {
                crate::format::Records::new(chunk.text, file.format, chunk.first_line)
                    .map(|r| match r {
                        Record::Entry(e) => format!("{} {} {:?} {}", src.path, e.line, e.utc(), e.message),
                        Record::Unparsed { line, text } => format!("{} {line} unparsed {text}", src.path),
                    })
                    .collect::<Vec<_>>()
            },
            |m| match m {
                Scanned::Start { source, file, .. } => {
                    let f = file.unwrap();
                    out.push(format!("{} {:?} {:?} {:?}", source.path, f.encoding, f.format, f.kind));
                }
                Scanned::Chunk { result, .. } => out.extend(result),
                Scanned::End { warning, .. } => assert!(warning.is_none()),
            },
        );
        out
    }

    fn cm(i: usize) -> String {
        let msg = if i.is_multiple_of(7) {
            format!("multi {i}\r\nline two ü €")
        } else {
            format!("message {i} é")
        };
        format!(
            "<![LOG[{msg}]LOG]!><time=\"01:02:{:02}.004+060\" date=\"01-02-2020\" component=\"ccmsetup\" context=\"\" type=\"1\" thread=\"1\" file=\"\">\r\n",
            i % 60
        )
    }

    fn sms(i: usize) -> String {
        let msg = if i.is_multiple_of(5) { format!("part {i}\nrest ü") } else { format!("message {i}") };
        format!(
            "{msg}~~  $$<SMS_CLOUD_PROXYCONNECTOR><01-02-2020 01:02:{:02}.000+300><thread=1 (0x1)>\n",
            i % 60
        )
    }

    #[test]
    fn blocks_read_the_same_records_as_a_whole_read() {
        // Removed when dropped, also when an assertion fails (or a mutant makes one fail).
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let host = dir.join("HOST1");
        std::fs::create_dir_all(&host).unwrap();
        let cm_text: String = (0..3000).map(cm).collect();
        let sms_text: String = (0..3000).map(sms).collect();
        std::fs::write(host.join("ccmsetup.log"), format!("\u{FEFF}{cm_text}")).unwrap();
        std::fs::write(host.join("SMS_CLOUD_PROXYCONNECTOR.log"), &sms_text).unwrap();
        let mut le = vec![0xFF, 0xFE];
        for u in cm_text.encode_utf16() {
            le.extend_from_slice(&u.to_le_bytes());
        }
        std::fs::write(host.join("CcmMessaging.log"), &le).unwrap();
        // BOM-less UTF-16BE.
        let be: Vec<u8> = cm_text.encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
        std::fs::write(host.join("LocationServices.log"), &be).unwrap();
        // Windows-1252 (a byte that is not UTF-8 in the first block).
        let ansi: Vec<u8> = cm_text
            .replace(['ü', '€'], "")
            .replace('é', "\u{1}")
            .bytes()
            .map(|b| if b == 1 { 0xE9 } else { b })
            .collect();
        std::fs::write(host.join("ClientIDManagerStartup.log"), &ansi).unwrap();
        // A record cut by the end of the file, and a line that is no record.
        std::fs::write(host.join("CCM_STS.log"), format!("garbage line\n{}<![LOG[cut", &cm_text[..50_000]))
            .unwrap();
        // Lines longer than a block, one with no end in the file: each stays one row, as read whole.
        let long = "x".repeat(100_000);
        std::fs::write(
            host.join("CcmExec.log"),
            format!("{}{long}\r\n{}{long}", &cm_text[..9_000], &cm_text[..9_000]),
        )
        .unwrap();

        let whole = records(&dir, ScanOptions::default());
        for block in [4096, 10_000, 65_536] {
            let opts = ScanOptions {
                stream_above: 0,
                block_bytes: block,
                chunk_bytes: 1500,
                ..ScanOptions::default()
            };
            let blocks = records(&dir, opts);
            assert_eq!(whole.len(), blocks.len(), "block {block}");
            for (a, b) in whole.iter().zip(&blocks) {
                assert_eq!(a, b, "block {block}");
            }
        }
        assert!(
            whole.iter().any(|l| l.contains("Utf16Be")) && whole.iter().any(|l| l.contains("Windows1252"))
        );
        assert!(whole.iter().any(|l| l.contains("line two ü €")));
        assert!(whole.len() > 15_000, "{}", whole.len());
    }

    /// A file shorter than it was at open (rotated or truncated under us): what was read is used, in full, and
    /// the warning says how much that was.
    #[test]
    fn a_file_that_shrank_keeps_what_was_read_and_says_so() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        std::fs::create_dir_all(dir.join("HOST1")).unwrap();
        let text: String = (0..2000).map(cm).collect();
        let path = dir.join("HOST1").join("ccmsetup.log");
        std::fs::write(&path, &text).unwrap();
        let found = discover(std::slice::from_ref(&dir), &[], Limits::default());
        let src = &found.files[0];
        let at_open = text.len() as u64 + 5000;
        let file = std::fs::File::open(&path).unwrap();
        let mut blocks = super::TextBlocks::new(src, file, at_open, 4096).unwrap();
        let mut read = String::new();
        while let Some(b) = blocks.next_block() {
            // Each block's first line number counts the lines of the blocks before it.
            assert_eq!(b.first_line as usize, 1 + read.matches('\n').count());
            read.push_str(b.file.text());
        }
        assert_eq!(read, text);
        let warning = blocks.warning.expect("a warning");
        assert!(warning.contains(&format!("{at_open} bytes at open, {} read", text.len())), "{warning}");
    }
}
