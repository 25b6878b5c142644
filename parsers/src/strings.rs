//! The strings of a read held once: the identifiers, URLs and codes that the extractors take from messages
//! repeat across events (a tenant id on every token line, one token service URL for a whole fleet, a
//! device's GUID on each of its requests), and every event that names one shares its single copy.

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use rustc_hash::{FxBuildHasher, FxHashSet};

use crate::events::SharedStr;

/// Shards of the set: files are read on every core, and each lookup locks one shard only.
const SHARDS: usize = 16;

/// A set of strings shared by the events of one read ([`Reader`](crate::Reader) makes one per read and drops
/// it with the read; the events keep the strings they hold).
#[derive(Debug)]
pub struct Strings {
    shards: [Mutex<FxHashSet<SharedStr>>; SHARDS],
    /// Tells this set's entries in a thread's `RECENT` from another set's.
    id: u64,
}

impl Default for Strings {
    fn default() -> Strings {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        Strings { shards: Default::default(), id: NEXT_ID.fetch_add(1, Ordering::Relaxed) }
    }
}

/// Slots of a thread's cache of the strings it asked for last (`RECENT`).
const RECENT_SLOTS: usize = 256;

/// One slot of `RECENT`: the set it came from, the text's hash, the shared copy.
type RecentSlot = Option<(u64, u64, SharedStr)>;

thread_local! {
    /// Per thread, the strings it was given last, by hash: a file names the same few identifiers line after
    /// line (a device's GUID, the tenant, the token service URL), and a hit here skips the shard's lock and
    /// its table, whose probe of a large set misses the processor's caches (the lookup was 7% of `analyze`'s
    /// samples on the 0.25 GB stress corpus). Each slot holds a copy of the string, so at most 256 strings per
    /// thread outlive their set until they are replaced.
    static RECENT: std::cell::RefCell<Box<[RecentSlot; RECENT_SLOTS]>> =
        std::cell::RefCell::new(Box::new([const { None }; RECENT_SLOTS]));
}

impl Strings {
    /// An empty set.
    pub fn new() -> Strings {
        Strings::default()
    }

    /// The one copy of `text`, made the first time it is asked for.
    pub fn get(&self, text: &str) -> SharedStr {
        let hash = FxBuildHasher.hash_one(text);
        let slot = (hash as usize ^ (hash >> 32) as usize) % RECENT_SLOTS;
        RECENT.with_borrow_mut(|recent| {
            if let Some((id, h, s)) = &recent[slot] {
                if *id == self.id && *h == hash && s.as_str() == text {
                    return s.clone();
                }
            }
            let s = self.get_shared(text, hash);
            recent[slot] = Some((self.id, hash, s.clone()));
            s
        })
    }

    /// `get` past the thread's cache: the set itself.
    fn get_shared(&self, text: &str, hash: u64) -> SharedStr {
        // Bits 40-43 pick the shard: the set's table indexes its buckets with the low bits and tags them with
        // the top 7, and a shard chosen by either would leave its table only part of them to tell strings apart
        // (picked by the top 4, one tag in 8 could match a different string and cost a comparison; this lookup
        // went from 6.4% to 5.6% of `analyze`'s samples on the 0.25 GB stress corpus).
        let shard = &self.shards[(hash >> 40) as usize % SHARDS];
        let mut set = shard.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(s) = set.get(text) {
            return s.clone();
        }
        let s = SharedStr::from(text);
        set.insert(s.clone());
        s
    }

    /// How many distinct strings the set holds.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().unwrap_or_else(PoisonError::into_inner).len()).sum()
    }

    /// Whether the set holds no string.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_copy_per_distinct_text() {
        let strings = Strings::new();
        let a = strings.get("GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139");
        let b = strings.get(&String::from("GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139"));
        let c = strings.get("https://MP.MYCORP.COM/CCM_STS");
        assert!(SharedStr::ptr_eq(&a, &b));
        assert!(!SharedStr::ptr_eq(&a, &c));
        assert_eq!(
            (a.as_str(), c.as_str()),
            ("GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139", "https://MP.MYCORP.COM/CCM_STS")
        );
        assert_eq!(strings.len(), 2);
    }

    /// The thread's cache of recent strings answers only for the set that gave them: a second set makes its
    /// own copy of a text the first set gave this thread a moment ago, and each set stays one copy per text
    /// when asked again (from the cache) and from another thread (past it).
    #[test]
    fn recent_strings_belong_to_their_set() {
        let (one, two) = (Strings::new(), Strings::new());
        let text = "GUID:2A4B6C8D-0000-4000-8000-000000000001";
        let a = one.get(text);
        let b = two.get(text);
        assert!(!SharedStr::ptr_eq(&a, &b), "each set has its own copy");
        assert!(SharedStr::ptr_eq(&one.get(text), &a));
        assert!(SharedStr::ptr_eq(&two.get(text), &b));
        let from_other_thread = std::thread::scope(|s| s.spawn(|| one.get(text)).join().unwrap());
        assert!(SharedStr::ptr_eq(&from_other_thread, &a));
        // Texts that share a slot of the cache still get their own strings.
        let many: Vec<String> = (0..3 * RECENT_SLOTS).map(|i| format!("id-{i}")).collect();
        let first: Vec<SharedStr> = many.iter().map(|t| one.get(t)).collect();
        for (t, s) in many.iter().zip(&first) {
            let again = one.get(t);
            assert_eq!(again.as_str(), t.as_str());
            assert!(SharedStr::ptr_eq(&again, s));
        }
        assert_eq!(one.len(), 1 + many.len());
    }
}
