//! `EventStore`: every extracted event, in read order, in fixed-size segments. Appending never moves the
//! events already stored: one growing vector of millions of events copies all of them at each doubling
//! (and joining per-chunk vectors into one holds every event twice), which set the peak memory of reading a
//! flow-heavy collection. Position `i` is segment `i >> SEGMENT_BITS`, slot `i & SEGMENT_MASK`.

use std::ops::Index;

use crate::events::Event;

/// Events per segment: 16,384 (about 2.3 MB of events); the last segment is the only one not full.
const SEGMENT_BITS: u32 = 14;
const SEGMENT_LEN: usize = 1 << SEGMENT_BITS;
const SEGMENT_MASK: usize = SEGMENT_LEN - 1;

/// Events in read order, addressed by position like a slice.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventStore {
    segments: Vec<Vec<Event>>,
    len: usize,
}

impl EventStore {
    /// An empty store.
    pub fn new() -> EventStore {
        EventStore::default()
    }

    /// The number of events.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it holds no event.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends one event at the end.
    pub fn push(&mut self, event: Event) {
        if self.len & SEGMENT_MASK == 0 {
            self.segments.push(Vec::with_capacity(SEGMENT_LEN));
        }
        self.segments.last_mut().expect("a segment with room").push(event);
        self.len += 1;
    }

    /// The event at position `i`, if there is one.
    pub fn get(&self, i: usize) -> Option<&Event> {
        self.segments.get(i >> SEGMENT_BITS)?.get(i & SEGMENT_MASK)
    }

    /// The events in read order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Event> + Clone + '_ {
        self.segments.iter().flatten()
    }
}

impl Index<usize> for EventStore {
    type Output = Event;

    fn index(&self, i: usize) -> &Event {
        &self.segments[i >> SEGMENT_BITS][i & SEGMENT_MASK]
    }
}

impl Extend<Event> for EventStore {
    fn extend<I: IntoIterator<Item = Event>>(&mut self, events: I) {
        for e in events {
            self.push(e);
        }
    }
}

impl FromIterator<Event> for EventStore {
    fn from_iter<I: IntoIterator<Item = Event>>(events: I) -> EventStore {
        let mut store = EventStore::new();
        store.extend(events);
        store
    }
}

impl From<Vec<Event>> for EventStore {
    fn from(events: Vec<Event>) -> EventStore {
        events.into_iter().collect()
    }
}

impl<'a> IntoIterator for &'a EventStore {
    type Item = &'a Event;
    type IntoIter = std::iter::Flatten<std::slice::Iter<'a, Vec<Event>>>;

    fn into_iter(self) -> Self::IntoIter {
        self.segments.iter().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::Severity;
    use crate::events::{EventKind, Evidence};
    use crate::kind::LogKind;

    fn event(line: u32) -> Event {
        let evidence = Evidence::new("p".into(), line, "h".into(), None, "t".into());
        Event::new(EventKind::CcmTokenReturned, LogKind::CcmSts, Severity::Info, None, None, evidence)
    }

    #[test]
    fn positions_across_segment_boundaries_read_like_a_vector() {
        for n in [0, 1, SEGMENT_LEN - 1, SEGMENT_LEN, SEGMENT_LEN + 1, 2 * SEGMENT_LEN + 7] {
            let store: EventStore = (0..n as u32).map(event).collect();
            assert_eq!(store.len(), n);
            assert_eq!(store.is_empty(), n == 0);
            assert_eq!(store.segments.len(), n.div_ceil(SEGMENT_LEN));
            assert!(
                store.segments.iter().rev().skip(1).all(|s| s.len() == SEGMENT_LEN),
                "only the last is short"
            );
            for i in
                [0, n / 2, n.saturating_sub(1), SEGMENT_LEN - 1, SEGMENT_LEN].into_iter().filter(|&i| i < n)
            {
                assert_eq!(store[i].evidence.line, i as u32);
                assert_eq!(store.get(i).map(|e| e.evidence.line), Some(i as u32));
            }
            assert!(store.get(n).is_none());
            let lines: Vec<u32> = store.iter().map(|e| e.evidence.line).collect();
            assert_eq!(lines, (0..n as u32).collect::<Vec<_>>());
            assert_eq!(store.iter().next_back().map(|e| e.evidence.line), n.checked_sub(1).map(|l| l as u32));
        }
    }

    #[test]
    #[should_panic]
    fn a_position_past_the_end_panics_like_a_slice() {
        let store: EventStore = (0..3).map(event).collect();
        let _ = &store[3];
    }
}
