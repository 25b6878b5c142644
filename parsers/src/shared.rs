//! `SharedStr`: the strings events carry (identifiers, URLs, reasons, paths, hosts), each held once for the
//! whole process and named by a 4-byte handle. An event names several of them, and millions of events are
//! held at once: a handle is half a pointer (an `Option` of one too), equal handles are equal strings, and
//! an event made only of handles and numbers is plain data (what writing events to disk needs, #12).
//!
//! The table only grows: a string, once made, lives until the process ends. Every run of the tool reads
//! its input once, and the strings of a read live until its report is written; `watch` reads on for as
//! long as it runs, and holds each distinct string it met once (it leaves out requests' message ids, one
//! distinct string per request: `Strings::without_request_ids`).

use std::borrow::Borrow;
use std::hash::{BuildHasher, Hash, Hasher};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicPtr, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use rustc_hash::{FxBuildHasher, FxHashSet};

/// A string of the process's table: reads as a `str`, compares and hashes as one (equal handles are equal
/// strings: each text is in the table once), serialises as a string.
#[derive(Clone, PartialEq, Eq)]
pub struct SharedStr(NonZeroU32);

/// Where the text of one handle is: its bytes (UTF-8, never freed) and their length.
struct Entry {
    ptr: AtomicPtr<u8>,
    len: AtomicUsize,
}

/// Entries per bucket of the table (16 bytes each: a bucket is 1 MB, allocated when first needed).
const BUCKET_BITS: u32 = 16;
const BUCKET_LEN: usize = 1 << BUCKET_BITS;
/// Buckets: enough for every 32-bit handle.
const BUCKETS: usize = 1 << (32 - BUCKET_BITS);

/// Handle `i` is entry `i & (BUCKET_LEN - 1)` of bucket `i >> BUCKET_BITS` (handle 0 is never given).
static TABLE: [AtomicPtr<Entry>; BUCKETS] = [const { AtomicPtr::new(std::ptr::null_mut()) }; BUCKETS];
/// The next handle to give.
static NEXT: AtomicU32 = AtomicU32::new(1);

/// Shards of the set of texts already in the table: strings are made on every core, and each lookup locks
/// one shard.
const SHARDS: usize = 16;

/// One shard: its texts, and the block its next texts' bytes are copied into.
struct Shard {
    set: FxHashSet<SharedStr>,
    /// Free bytes left at the end of the current block.
    block: &'static mut [u8],
}

static SHARD: [Mutex<Shard>; SHARDS] =
    [const { Mutex::new(Shard { set: FxHashSet::with_hasher(FxBuildHasher), block: &mut [] }) }; SHARDS];

/// Texts are copied into blocks of this size, many to a block (no allocation of their own); a text longer
/// than `OWN_BLOCK_ABOVE` gets a block of its own.
const BLOCK_BYTES: usize = 64 << 10;
const OWN_BLOCK_ABOVE: usize = 4 << 10;

/// Slots of a thread's cache of the strings it asked for last (`RECENT`).
const RECENT_SLOTS: usize = 256;

/// One slot of `RECENT`: the text's hash and its string.
type RecentSlot = Option<(u64, SharedStr)>;

thread_local! {
    /// Per thread, the strings it was given last, by hash: a file names the same few identifiers line after
    /// line (a device's GUID, the tenant, the token service URL), and a hit here skips the shard's lock and
    /// its table, whose probe of a large set misses the processor's caches (the lookup was 7% of `analyze`'s
    /// samples on the 0.25 GB stress corpus).
    static RECENT: std::cell::RefCell<Box<[RecentSlot; RECENT_SLOTS]>> =
        std::cell::RefCell::new(Box::new([const { None }; RECENT_SLOTS]));
}

impl SharedStr {
    /// The table's copy of `text`, made the first time it is asked for (found through the thread's cache of
    /// the strings it asked for last, else in the table).
    pub fn new(text: &str) -> SharedStr {
        let hash = FxBuildHasher.hash_one(text);
        let slot = (hash as usize ^ (hash >> 32) as usize) % RECENT_SLOTS;
        RECENT.with_borrow_mut(|recent| {
            if let Some((h, s)) = &recent[slot] {
                if *h == hash && s.as_str() == text {
                    return s.clone();
                }
            }
            let s = SharedStr::with_hash(text, hash);
            recent[slot] = Some((hash, s.clone()));
            s
        })
    }

    /// `new` past the thread's cache, given the text's hash (`FxBuildHasher.hash_one(text)`).
    fn with_hash(text: &str, hash: u64) -> SharedStr {
        // Bits 40-43 pick the shard: the set's table indexes its buckets with the low bits and tags them with
        // the top 7, and a shard chosen by either would leave its table only part of them to tell texts apart.
        let mut shard = SHARD[(hash >> 40) as usize % SHARDS].lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(s) = shard.set.get(text) {
            return s.clone();
        }
        let bytes = shard.copy(text.as_bytes());
        let s = SharedStr::push(bytes);
        shard.set.insert(s.clone());
        s
    }

    /// Adds an entry for `bytes` (UTF-8) to the table.
    fn push(bytes: &'static [u8]) -> SharedStr {
        let i = NEXT.fetch_add(1, Ordering::Relaxed);
        let Some(handle) = NonZeroU32::new(i).filter(|_| i != u32::MAX) else {
            // Four billion distinct strings in one process: no input this tool reads comes near it.
            panic!("more than 4 billion distinct strings");
        };
        let bucket = bucket(i as usize >> BUCKET_BITS);
        let entry = &bucket[i as usize & (BUCKET_LEN - 1)];
        entry.len.store(bytes.len(), Ordering::Relaxed);
        entry.ptr.store(bytes.as_ptr().cast_mut(), Ordering::Release);
        SharedStr(handle)
    }

    /// The text.
    pub fn as_str(&self) -> &'static str {
        let i = self.0.get() as usize;
        let bucket = TABLE[i >> BUCKET_BITS].load(Ordering::Acquire);
        // SAFETY: a handle is only made by `push`, after its bucket was published (`bucket`, with release
        // ordering: the acquire load above sees it) and its entry written; buckets and texts are never freed.
        // The entry's text was copied from a `&str` (UTF-8) and is never written again.
        unsafe {
            let entry = &*bucket.add(i & (BUCKET_LEN - 1));
            let ptr = entry.ptr.load(Ordering::Acquire);
            let len = entry.len.load(Ordering::Relaxed);
            std::str::from_utf8_unchecked(std::slice::from_raw_parts(ptr, len))
        }
    }

    /// Whether `a` and `b` are the same string of the table (the same as `a == b`: each text is there once).
    pub fn ptr_eq(a: &SharedStr, b: &SharedStr) -> bool {
        a.0 == b.0
    }
}

/// Bucket `b` of the table, allocated (zeroed) by the first caller that needs it.
fn bucket(b: usize) -> &'static [Entry] {
    let slot = &TABLE[b];
    let mut ptr = slot.load(Ordering::Acquire);
    if ptr.is_null() {
        let fresh: Box<[Entry]> =
            (0..BUCKET_LEN).map(|_| Entry { ptr: AtomicPtr::default(), len: AtomicUsize::new(0) }).collect();
        let fresh = Box::into_raw(fresh).cast::<Entry>();
        ptr = match slot.compare_exchange(std::ptr::null_mut(), fresh, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => fresh,
            Err(theirs) => {
                // SAFETY: `fresh` came from `Box::into_raw` of a slice of `BUCKET_LEN` entries just above and
                // was never published.
                drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(fresh, BUCKET_LEN)) });
                theirs
            }
        };
    }
    // SAFETY: a published bucket is a leaked slice of `BUCKET_LEN` entries, never freed.
    unsafe { std::slice::from_raw_parts(ptr, BUCKET_LEN) }
}

impl Shard {
    /// A copy of `bytes` that lives as long as the process.
    fn copy(&mut self, bytes: &[u8]) -> &'static [u8] {
        if bytes.len() > OWN_BLOCK_ABOVE {
            return Box::leak(bytes.to_vec().into_boxed_slice());
        }
        if self.block.len() < bytes.len() {
            self.block = Box::leak(vec![0u8; BLOCK_BYTES].into_boxed_slice());
        }
        let (copy, rest) = std::mem::take(&mut self.block).split_at_mut(bytes.len());
        copy.copy_from_slice(bytes);
        self.block = rest;
        copy
    }
}

impl std::ops::Deref for SharedStr {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for SharedStr {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for SharedStr {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

/// As its text hashes (what `Borrow<str>` asks: a set of them is searched with a `&str`).
impl Hash for SharedStr {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

/// In the order of the texts.
impl Ord for SharedStr {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        if self.0 == other.0 {
            return std::cmp::Ordering::Equal;
        }
        self.as_str().cmp(other.as_str())
    }
}

impl PartialOrd for SharedStr {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// The empty string (looked up once, not at every call: a default is made for each of many rows).
impl Default for SharedStr {
    fn default() -> SharedStr {
        static EMPTY: std::sync::OnceLock<SharedStr> = std::sync::OnceLock::new();
        EMPTY.get_or_init(|| SharedStr::new("")).clone()
    }
}

impl std::fmt::Debug for SharedStr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for SharedStr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for SharedStr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl From<&str> for SharedStr {
    fn from(text: &str) -> SharedStr {
        SharedStr::new(text)
    }
}

impl From<&String> for SharedStr {
    fn from(text: &String) -> SharedStr {
        SharedStr::new(text)
    }
}

impl From<String> for SharedStr {
    fn from(text: String) -> SharedStr {
        SharedStr::new(&text)
    }
}

impl From<Box<str>> for SharedStr {
    fn from(text: Box<str>) -> SharedStr {
        SharedStr::new(&text)
    }
}

impl From<std::borrow::Cow<'_, str>> for SharedStr {
    fn from(text: std::borrow::Cow<'_, str>) -> SharedStr {
        SharedStr::new(&text)
    }
}

impl From<SharedStr> for String {
    fn from(s: SharedStr) -> String {
        s.as_str().to_owned()
    }
}

impl PartialEq<str> for SharedStr {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for SharedStr {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for SharedStr {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<SharedStr> for str {
    fn eq(&self, other: &SharedStr) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<SharedStr> for &str {
    fn eq(&self, other: &SharedStr) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<SharedStr> for String {
    fn eq(&self, other: &SharedStr) -> bool {
        self == other.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_copy_per_distinct_text_for_the_whole_process() {
        let a = SharedStr::new("GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139");
        let b = SharedStr::from(String::from("GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139"));
        let c = SharedStr::from("https://MP.MYCORP.COM/CCM_STS");
        assert!(SharedStr::ptr_eq(&a, &b) && a == b);
        assert!(!SharedStr::ptr_eq(&a, &c) && a != c);
        assert_eq!(
            (a.as_str(), &*c),
            ("GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139", "https://MP.MYCORP.COM/CCM_STS")
        );
        let from_other_thread = std::thread::scope(|s| s.spawn(|| SharedStr::new(&a)).join().unwrap());
        assert!(SharedStr::ptr_eq(&from_other_thread, &a));
        assert_eq!(std::mem::size_of::<Option<SharedStr>>(), 4);
    }

    /// Texts of every size (empty, in a shared block, past it in a block of their own, not ASCII) read back
    /// as given, across the first buckets' boundary, from several threads at once.
    #[test]
    fn texts_read_back_as_given() {
        let long = "é".repeat(OWN_BLOCK_ABOVE);
        let texts: Vec<String> = (0..BUCKET_LEN + 100)
            .map(|i| match i % 5 {
                0 => String::new(),
                1 => format!("{long}{i}"),
                _ => format!("text-{i}-ü"),
            })
            .collect();
        let made: Vec<Vec<SharedStr>> = std::thread::scope(|s| {
            let workers: Vec<_> = (0..4)
                .map(|_| s.spawn(|| texts.iter().map(|t| SharedStr::new(t)).collect::<Vec<_>>()))
                .collect();
            workers.into_iter().map(|w| w.join().unwrap()).collect()
        });
        for list in &made {
            for ((t, s), first) in texts.iter().zip(list).zip(&made[0]) {
                assert_eq!(s.as_str(), t);
                assert_eq!(s, first, "one handle per text");
            }
        }
        assert_eq!(SharedStr::default(), SharedStr::new(""));
    }

    /// The thread's cache gives the table's strings, also for texts that share a slot of it.
    #[test]
    fn the_cache_gives_the_tables_strings() {
        let many: Vec<String> = (0..3 * RECENT_SLOTS).map(|i| format!("id-{i}")).collect();
        let first: Vec<SharedStr> = many.iter().map(|t| SharedStr::new(t)).collect();
        for (t, s) in many.iter().zip(&first) {
            let again = SharedStr::new(t);
            assert_eq!(again.as_str(), t.as_str());
            assert!(SharedStr::ptr_eq(&again, s));
            assert!(SharedStr::ptr_eq(&SharedStr::with_hash(t, FxBuildHasher.hash_one(t.as_str())), s));
        }
    }

    /// Compared, ordered and hashed as the texts are (a set of them is searched with a `&str`).
    #[test]
    fn compares_and_hashes_as_its_text() {
        use std::cmp::Ordering::{Equal, Greater, Less};
        let (a, b) = (SharedStr::new("alpha"), SharedStr::new("beta"));
        assert_eq!((a.cmp(&b), b.partial_cmp(&a), a.cmp(&a.clone())), (Less, Some(Greater), Equal));
        assert_eq!(a, "alpha");
        assert_eq!("alpha", a);
        assert_eq!(a, String::from("alpha"));
        assert_eq!(FxBuildHasher.hash_one(&a), FxBuildHasher.hash_one("alpha"));
        let set: FxHashSet<SharedStr> = [a.clone(), b].into_iter().collect();
        assert_eq!(set.get("alpha"), Some(&a));
        assert_eq!(format!("{a} {a:?}"), "alpha \"alpha\"");
        assert_eq!(serde_json::to_string(&a).unwrap(), "\"alpha\"");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]
        /// Any texts, made in any order: each reads back as given, two are equal exactly when their texts are,
        /// and they order and hash as their texts do.
        #[test]
        fn handles_behave_as_their_texts(texts in proptest::collection::vec(".{0,40}", 1..12)) {
            let made: Vec<SharedStr> = texts.iter().map(|t| SharedStr::new(t)).collect();
            for (a, ta) in made.iter().zip(&texts) {
                proptest::prop_assert_eq!(a.as_str(), ta.as_str());
                proptest::prop_assert_eq!(FxBuildHasher.hash_one(a), FxBuildHasher.hash_one(ta.as_str()));
                for (b, tb) in made.iter().zip(&texts) {
                    proptest::prop_assert_eq!(a == b, ta == tb);
                    proptest::prop_assert_eq!(a.cmp(b), ta.cmp(tb));
                }
            }
        }
    }
}
