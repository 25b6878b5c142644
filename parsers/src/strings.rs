//! The strings of a read held once: the identifiers, URLs and codes that the extractors take from messages
//! repeat across events (a tenant id on every token line, one token service URL for a whole fleet, a
//! device's GUID on each of its requests), and every event that names one shares its single copy.

use std::hash::BuildHasher;
use std::sync::{Mutex, PoisonError};

use rustc_hash::{FxBuildHasher, FxHashSet};

use crate::events::SharedStr;

/// Shards of the set: files are read on every core, and each lookup locks one shard only.
const SHARDS: usize = 16;

/// A set of strings shared by the events of one read ([`Reader`](crate::Reader) makes one per read and drops
/// it with the read; the events keep the strings they hold).
#[derive(Debug, Default)]
pub struct Strings {
    shards: [Mutex<FxHashSet<SharedStr>>; SHARDS],
}

impl Strings {
    /// An empty set.
    pub fn new() -> Strings {
        Strings::default()
    }

    /// The one copy of `text`, made the first time it is asked for.
    pub fn get(&self, text: &str) -> SharedStr {
        // Bits 40-43 pick the shard: the set's table indexes its buckets with the low bits and tags them with
        // the top 7, and a shard chosen by either would leave its table only part of them to tell strings apart
        // (picked by the top 4, one tag in 8 could match a different string and cost a comparison; this lookup
        // went from 6.4% to 5.6% of `analyze`'s samples on the 0.25 GB stress corpus).
        let shard = &self.shards[(FxBuildHasher.hash_one(text) >> 40) as usize % SHARDS];
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
}
