//! What a read leaves out of the strings its events carry. The strings themselves are the process's table
//! (`SharedStr`): the identifiers, URLs and codes that the extractors take from messages repeat across
//! events (a tenant id on every token line, one token service URL for a whole fleet, a device's GUID on each
//! of its requests), and every event that names one shares the one copy there.

use crate::events::SharedStr;

/// The strings of one read ([`Reader`](crate::Reader) makes one per read): the process's table, and what
/// the read leaves out.
#[derive(Debug, Default)]
pub struct Strings {
    /// Whether requests' message ids are left out (`Reader::without_request_message_ids`).
    without_request_ids: bool,
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

    /// The one copy of `text` (`SharedStr::new`).
    pub fn get(&self, text: &str) -> SharedStr {
        SharedStr::new(text)
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
        let from_other_thread = std::thread::scope(|s| s.spawn(|| strings.get(&a)).join().unwrap());
        assert!(SharedStr::ptr_eq(&from_other_thread, &a));
        let leaves_out = Strings::without_request_ids(true);
        assert!(SharedStr::ptr_eq(&leaves_out.get(&a), &a));
        assert!(!strings.leaves_out_request_ids() && leaves_out.leaves_out_request_ids());
    }
}
