//! Event texts kept out of memory. The message of every event is appended, as it is read, to one anonymous
//! temporary file (the spill), and the event holds where its text is (offset and length); a report reads the
//! text again when it prints it. Memory then holds 8 bytes per event for its text (the range; the file's
//! `Origin` names the spill once for its events) instead of the text itself (a few hundred bytes on server
//! logs). A `Text` on its own (a finding's evidence) is 16 bytes: the spill and the range. Where no temporary file can be made, a spill is kept in memory
//! (`Spill::in_memory`): the events still hold a range each, not a string each.
//! Texts read in a walk (a timeline in time order) are read back through a small per-thread cache of whole
//! 64 KiB blocks, not one read each; texts read here and there (a device's evidence) are read alone.

use std::borrow::Cow;
use std::cell::RefCell;
use std::fs::File;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

/// The temporary file that holds event texts, written once in order and then read at random.
#[derive(Debug)]
pub struct Spill {
    file: Backing,
    /// The end of what was written (the next text's offset).
    end: Mutex<u64>,
    /// `end` as of the last append, read without the lock by every text read (they ran into each other on it).
    written: AtomicU64,
    /// Tells this spill's blocks apart in the read cache (an address can be reused by a later spill).
    id: u64,
}

/// Where a spill's bytes are.
#[derive(Debug)]
enum Backing {
    /// A temporary file.
    File(File),
    /// Memory, where no temporary file could be made (and for a live view's few texts).
    Memory(RwLock<Vec<u8>>),
}

impl Spill {
    /// An anonymous temporary file (removed by the system when the process ends), or the reason none could
    /// be made.
    pub fn new() -> std::io::Result<Arc<Spill>> {
        Ok(Spill::with(Backing::File(tempfile::tempfile()?)))
    }

    /// A spill kept in memory: one buffer of every text rather than one allocation each.
    pub fn in_memory() -> Arc<Spill> {
        Spill::with(Backing::Memory(RwLock::new(Vec::new())))
    }

    fn with(file: Backing) -> Arc<Spill> {
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        Arc::new(Spill { file, end: Mutex::new(0), written: AtomicU64::new(0), id })
    }

    /// Append `bytes`; returns the offset they start at.
    pub fn append(&self, bytes: &[u8]) -> std::io::Result<u64> {
        let mut end = self.end.lock().unwrap_or_else(|p| p.into_inner());
        let at = *end;
        match &self.file {
            Backing::File(file) => (&*file).write_all(bytes)?,
            Backing::Memory(memory) => {
                memory.write().unwrap_or_else(|p| p.into_inner()).extend_from_slice(bytes)
            }
        }
        *end += bytes.len() as u64;
        self.written.store(*end, Ordering::Release);
        Ok(at)
    }

    /// `message` appended, as the text of an event; kept in memory where it cannot be (a write that fails, a
    /// text past what a range can say).
    pub fn text_of(self: &Arc<Spill>, message: &str) -> Text {
        let fits = SpillRange::new(0, message.len()).is_some();
        let at = fits.then(|| self.append(message.as_bytes()).ok()).flatten();
        match at.and_then(|at| SpillRange::new(at, message.len())) {
            Some(at) => Text::Spilled { spill: self.clone(), at },
            None => Text::from(message),
        }
    }

    /// The text at `at`, or a sentence that says it could not be read back.
    pub(crate) fn text_at(&self, at: SpillRange) -> String {
        self.read(at.offset(), at.len()).unwrap_or_else(|e| format!("(the text could not be read back: {e})"))
    }

    fn read(&self, offset: u64, len: u32) -> std::io::Result<String> {
        let bytes = match &self.file {
            Backing::Memory(memory) => {
                let memory = memory.read().unwrap_or_else(|p| p.into_inner());
                let at = usize::try_from(offset).ok().filter(|&o| o + len as usize <= memory.len());
                let at = at.ok_or_else(|| std::io::Error::from(std::io::ErrorKind::UnexpectedEof))?;
                memory[at..at + len as usize].to_vec()
            }
            Backing::File(file) => match self.read_cached(offset, len)? {
                Some(bytes) => bytes,
                None => {
                    let mut buf = vec![0u8; len as usize];
                    read_exact_at(file, &mut buf, offset)?;
                    buf
                }
            },
        };
        Ok(String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
    }

    /// The `len` bytes at `offset` through this thread's cache of spill blocks, or `None` when they are to be
    /// read directly: not within one whole written block (a long text, one across two blocks, the last block
    /// still being written), or in a block that no read on this thread asked for lately (`BlockCache::wants`).
    fn read_cached(&self, offset: u64, len: u32) -> std::io::Result<Option<Vec<u8>>> {
        let Backing::File(file) = &self.file else { return Ok(None) };
        let block = offset / CACHE_BLOCK;
        let within = offset % CACHE_BLOCK + u64::from(len) <= CACHE_BLOCK;
        let written = self.written.load(Ordering::Acquire);
        if !within || (block + 1) * CACHE_BLOCK > written {
            return Ok(None);
        }
        BLOCKS.with(|cache| {
            let mut cache = cache.borrow_mut();
            if !cache.wants(self.id, block) {
                return Ok(None);
            }
            let data = cache.block(self.id, block, |buf| read_exact_at(file, buf, block * CACHE_BLOCK))?;
            let from = (offset % CACHE_BLOCK) as usize;
            Ok(Some(data[from..from + len as usize].to_vec()))
        })
    }
}

/// The size of the blocks of the read cache: a report reads the texts of a timeline in time order, which
/// walks a few files' runs side by side, so that most texts are in a block read for the one before.
const CACHE_BLOCK: u64 = 64 << 10;
/// Blocks kept per thread (least recently used goes first): 1 MiB.
const CACHE_BLOCKS: usize = 16;
/// Blocks whose texts were read directly lately, per thread (`BlockCache::wants`).
const RECENT_MISSES: usize = 64;
/// Texts of one block read directly before the block is read whole: a 64 KiB read costs about what eight
/// reads of a text each do.
const MISSES_BEFORE_LOAD: u32 = 8;

thread_local! {
    static BLOCKS: RefCell<BlockCache> = RefCell::new(BlockCache::default());
}

/// Whole written blocks of the spills last read on this thread (written blocks never change: the spill is
/// only appended to).
#[derive(Default)]
struct BlockCache {
    /// (spill id, block number, last use, bytes).
    blocks: Vec<(u64, u64, u64, Box<[u8]>)>,
    clock: u64,
    /// (spill id, block number, texts read directly) of the last `RECENT_MISSES` blocks read from directly,
    /// oldest overwritten first.
    misses: Vec<(u64, u64, u32)>,
    next_miss: usize,
}

impl BlockCache {
    /// Whether a text in block `block` of spill `spill` is worth reading through the cache: the block is kept,
    /// the block before it is (a walk through a file's texts goes on), or `MISSES_BEFORE_LOAD` texts of it were
    /// read directly lately. Otherwise the text alone is read and counted. Texts looked up a few at a time all
    /// over the spill (the evidence of each device's phases and findings) then cost a read of their own bytes
    /// instead of 64 KiB each (those reads were 7% of `analyze`'s samples on the 1 GB stress corpus), and a walk
    /// in time order (the timeline) still reads each block once.
    fn wants(&mut self, spill: u64, block: u64) -> bool {
        let kept = |b: u64| self.blocks.iter().any(|k| k.0 == spill && k.1 == b);
        if kept(block) || (block > 0 && kept(block - 1)) {
            return true;
        }
        if let Some(m) = self.misses.iter_mut().find(|m| m.0 == spill && m.1 == block) {
            m.2 += 1;
            return m.2 > MISSES_BEFORE_LOAD;
        }
        if self.misses.len() < RECENT_MISSES {
            self.misses.push((spill, block, 1));
        } else {
            self.misses[self.next_miss] = (spill, block, 1);
        }
        self.next_miss = (self.next_miss + 1) % RECENT_MISSES;
        false
    }

    /// Block `block` of spill `spill`, read with `fill` when it is not kept.
    fn block(
        &mut self,
        spill: u64,
        block: u64,
        fill: impl FnOnce(&mut [u8]) -> std::io::Result<()>,
    ) -> std::io::Result<&[u8]> {
        self.clock += 1;
        let now = self.clock;
        let at = match self.blocks.iter().position(|b| b.0 == spill && b.1 == block) {
            Some(i) => i,
            None => {
                let mut data = if self.blocks.len() < CACHE_BLOCKS {
                    vec![0u8; CACHE_BLOCK as usize].into_boxed_slice()
                } else {
                    let oldest =
                        (0..self.blocks.len()).min_by_key(|&i| self.blocks[i].2).expect("a full cache");
                    self.blocks.swap_remove(oldest).3
                };
                fill(&mut data)?;
                self.blocks.push((spill, block, now, data));
                self.blocks.len() - 1
            }
        };
        self.blocks[at].2 = now;
        Ok(&self.blocks[at].3)
    }
}

#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> std::io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match file.seek_read(buf, offset)? {
            0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            n => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
        }
    }
    Ok(())
}

/// The text of an event: in memory, or in the spill. 16 bytes: one pointer and, in the spill, where.
#[derive(Clone)]
pub enum Text {
    /// In memory.
    Inline(crate::events::SharedStr),
    /// In the spill.
    Spilled {
        /// The temporary file.
        spill: Arc<Spill>,
        /// Where the text is in it.
        at: SpillRange,
    },
}

/// Where a text is in the spill: its offset (up to 1 TiB) and its length in bytes (up to 16 MiB; a record is
/// at most 4 MiB) in one word, so that a `Text` is two words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpillRange(u64);

impl SpillRange {
    const LEN_BITS: u32 = 24;

    /// No bytes at the start.
    pub const EMPTY: SpillRange = SpillRange(0);

    /// `len` bytes at `offset`, or `None` when either is past what a range can say.
    pub fn new(offset: u64, len: usize) -> Option<SpillRange> {
        let len = u64::try_from(len).ok().filter(|&l| l < 1 << Self::LEN_BITS)?;
        (offset < 1 << (64 - Self::LEN_BITS)).then_some(SpillRange(offset << Self::LEN_BITS | len))
    }

    /// Where the text starts.
    pub fn offset(self) -> u64 {
        self.0 >> Self::LEN_BITS
    }

    /// Its length in bytes.
    pub fn len(self) -> u32 {
        (self.0 & ((1 << Self::LEN_BITS) - 1)) as u32
    }

    /// Whether the text is empty.
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }
}

impl Text {
    /// The text (read from the spill when it is there; a read that fails gives a sentence that says so).
    pub fn get(&self) -> Cow<'_, str> {
        match self {
            Text::Inline(s) => Cow::Borrowed(s),
            Text::Spilled { spill, at } => Cow::Owned(spill.text_at(*at)),
        }
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Text::Inline(s.into())
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Text::Inline(s.into())
    }
}

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&*self.get(), f)
    }
}

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.get())
    }
}

/// Two texts are equal when they read the same, wherever they are kept.
impl PartialEq for Text {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl Eq for Text {}

impl serde::Serialize for Text {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.get())
    }
}

/// A text (and an event's `EvidenceText`) is written as the JSON string it reads (`Serialize`), wherever it is
/// kept.
#[cfg(feature = "schema")]
macro_rules! schema_as_string {
    ($($t:ty),*) => {$(
        impl schemars::JsonSchema for $t {
            fn inline_schema() -> bool {
                true
            }

            fn schema_name() -> std::borrow::Cow<'static, str> {
                "Text".into()
            }

            fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
                <str as schemars::JsonSchema>::json_schema(generator)
            }
        }
    )*};
}

#[cfg(feature = "schema")]
schema_as_string!(Text, crate::events::EvidenceText<'_>);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_read_back_as_written() {
        let spill = Spill::new().unwrap();
        let a = spill.append("first text".as_bytes()).unwrap();
        let b = spill.append("zweiter Text ü €".as_bytes()).unwrap();
        assert_eq!((a, b), (0, 10));
        let t = Text::Spilled {
            spill: spill.clone(),
            at: SpillRange::new(b, "zweiter Text ü €".len()).unwrap(),
        };
        assert_eq!(t.get(), "zweiter Text ü €");
        assert_eq!(t, Text::from("zweiter Text ü €"));
        let chunk = Text::Spilled { spill: spill.clone(), at: SpillRange::new(a, 5).unwrap() };
        assert_eq!(chunk.get(), "first");
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"zweiter Text ü €\"");
        let past_end = Text::Spilled { spill, at: SpillRange::new(1000, 4).unwrap() };
        assert!(past_end.get().starts_with("(the text could not be read back"));
    }

    /// Texts read through the block cache read as written: in one block, across two, past the blocks
    /// written so far (the last one is read directly until it is whole), in more blocks than the cache
    /// keeps, from two spills whose blocks share numbers.
    #[test]
    fn texts_read_through_the_cache_read_as_written() {
        let texts: Vec<String> = (0..6000).map(|i| format!("text {i} {}", "ü".repeat(i % 397))).collect();
        let (one, two) = (Spill::new().unwrap(), Spill::new().unwrap());
        let mut placed = Vec::new();
        for (i, t) in texts.iter().enumerate() {
            let spill = if i % 2 == 0 { &one } else { &two };
            let at = spill.append(t.as_bytes()).unwrap();
            placed.push(Text::Spilled { spill: spill.clone(), at: SpillRange::new(at, t.len()).unwrap() });
            if i % 500 == 0 {
                // While the spill is still being written.
                assert_eq!(placed[i / 2].get(), texts[i / 2]);
            }
        }
        // About 18 blocks per spill: more than the cache keeps. In a block no read asked for before (the reads
        // while writing went no further than block 10), the first `MISSES_BEFORE_LOAD` texts are read directly;
        // the next one loads the block, and the block after it is then read through the cache from its first.
        for k in 0..MISSES_BEFORE_LOAD {
            let direct = one.read_cached(CACHE_BLOCK * 14 + u64::from(k), 5).unwrap();
            assert!(direct.is_none(), "text {k} of a block not walked: read directly");
        }
        assert!(
            one.read_cached(CACHE_BLOCK * 14 + 99, 5).unwrap().is_some(),
            "one more text of that whole block is read through the cache"
        );
        assert!(one.read_cached(CACHE_BLOCK * 15, 5).unwrap().is_some(), "and so is the next block's first");
        assert!(one.read_cached(CACHE_BLOCK - 2, 5).unwrap().is_none(), "across two blocks: read directly");
        for pass in 0..2 {
            for (i, t) in placed.iter().enumerate() {
                assert_eq!(t.get(), texts[i], "pass {pass}, text {i}");
            }
            for (i, t) in placed.iter().enumerate().rev().step_by(7) {
                assert_eq!(t.get(), texts[i], "backwards, text {i}");
            }
            // Scattered: a text here and there, as the evidence of devices is read.
            for k in 0..placed.len() {
                let i = (k * 2_654_435_761) % placed.len();
                assert_eq!(placed[i].get(), texts[i], "scattered, text {i}");
            }
        }
    }

    /// A text is two words; a range keeps offsets up to 1 TiB and lengths below 16 MiB, and says `None` past
    /// them.
    #[test]
    fn a_text_is_two_words_and_a_range_keeps_what_it_can_say() {
        assert_eq!(std::mem::size_of::<Text>(), 16);
        for (offset, len) in [(0, 0), (1, 1), ((1 << 40) - 1, (1 << 24) - 1), (123_456_789, 4 << 20)] {
            let r = SpillRange::new(offset, len).unwrap();
            assert_eq!((r.offset(), r.len() as usize), (offset, len));
        }
        assert_eq!(SpillRange::new(1 << 40, 1), None);
        assert_eq!(SpillRange::new(0, 1 << 24), None);
    }

    /// A spill in memory reads back what was appended, and says so past its end; a text too long for a range
    /// stays a string of its own.
    #[test]
    fn a_spill_in_memory_reads_back_as_written() {
        let spill = Spill::in_memory();
        let a = spill.text_of("eins");
        let b = spill.text_of("zwei ü");
        assert!(matches!((&a, &b), (Text::Spilled { .. }, Text::Spilled { .. })));
        assert_eq!((a.get(), b.get()), ("eins".into(), "zwei ü".into()));
        let past_end = Text::Spilled { spill: spill.clone(), at: SpillRange::new(100, 4).unwrap() };
        assert!(past_end.get().starts_with("(the text could not be read back"));
        let long = "x".repeat(1 << 24);
        assert!(matches!(spill.text_of(&long), Text::Inline(s) if s.len() == 1 << 24));
        assert_eq!(spill.text_of("drei").get(), "drei", "nothing of the long text was appended");
        let file = Spill::new().unwrap();
        assert!(matches!(file.text_of(&long), Text::Inline(_)));
    }
}
