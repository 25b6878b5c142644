//! How a read asks for the strings its events carry: the identifiers, URLs and codes that the extractors
//! take from messages repeat across events (a tenant id on every token line, one token service URL for a
//! whole fleet, a device's GUID on each of its requests), and every event that names one shares the one
//! copy in the process's table (`SharedStr`), found through a per-thread cache of the last ones asked for.

use std::hash::BuildHasher;

use rustc_hash::FxBuildHasher;

use crate::events::SharedStr;

/// The strings of one read ([`Reader`](crate::Reader) makes one per read): the process's table, and what
/// the read leaves out.
#[derive(Debug, Default)]
pub struct Strings {
    /// Whether requests' message ids are left out (`Reader::without_request_message_ids`).
    without_request_ids: bool,
}

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

impl Strings {
    /// The strings of a read that keeps every identifier.
    pub fn new() -> Strings {
        Strings::default()
    }

    /// The strings of a read that leaves out requests' message ids (`leave_out`): one distinct string per
    /// request (250,000 in a 1 GB collection of busy server logs), which the table would hold to the end.
    pub fn without_request_ids(leave_out: bool) -> Strings {
        Strings { without_request_ids: leave_out }
    }

    /// Whether requests' message ids are left out.
    pub fn leaves_out_request_ids(&self) -> bool {
        self.without_request_ids
    }

    /// The one copy of `text`, made the first time it is asked for.
    pub fn get(&self, text: &str) -> SharedStr {
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
        assert!(SharedStr::ptr_eq(&a, &SharedStr::new(&a)), "the process's one copy");
    }

    /// The thread's cache gives the same strings as the table, also for texts that share a slot of it.
    #[test]
    fn the_cache_gives_the_tables_strings() {
        let (one, two) = (Strings::new(), Strings::without_request_ids(true));
        let text = "GUID:2A4B6C8D-0000-4000-8000-000000000001";
        let a = one.get(text);
        assert!(SharedStr::ptr_eq(&two.get(text), &a));
        let from_other_thread = std::thread::scope(|s| s.spawn(|| one.get(text)).join().unwrap());
        assert!(SharedStr::ptr_eq(&from_other_thread, &a));
        let many: Vec<String> = (0..3 * RECENT_SLOTS).map(|i| format!("id-{i}")).collect();
        let first: Vec<SharedStr> = many.iter().map(|t| one.get(t)).collect();
        for (t, s) in many.iter().zip(&first) {
            let again = one.get(t);
            assert_eq!(again.as_str(), t.as_str());
            assert!(SharedStr::ptr_eq(&again, s));
            assert!(SharedStr::ptr_eq(&SharedStr::new(t), s));
        }
        assert!(!one.leaves_out_request_ids() && two.leaves_out_request_ids());
    }
}
