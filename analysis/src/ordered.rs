//! `Events`: the flow's events in timeline order without moving them. Position `i` of the timeline is
//! the `order[i]`-th event as read; millions of events of a few hundred bytes each stay where they were
//! read (moving them into timeline order took a fleet collection half a second), and reading them in
//! timeline order walks a handful of files' runs side by side, which the caches follow well.

use std::ops::Index;

use cmtrace_parsers::{Event, EventStore};

use crate::index::EventIx;

#[derive(Debug, Clone, Default)]
/// The events of a read in timeline order, left where they were read: an order over an `EventStore`.
pub struct Events {
    store: EventStore,
    /// Timeline position -> index into `store`.
    order: Vec<u32>,
}

impl Events {
    /// `order[i]`: which of `store` is at position `i`. Every index appears exactly once.
    pub fn new(store: EventStore, order: Vec<u32>) -> Events {
        assert_eq!(store.len(), order.len(), "one position per event");
        debug_assert!({
            let mut seen = vec![false; store.len()];
            order.iter().all(|&j| !std::mem::replace(&mut seen[j as usize], true))
        });
        Events { store, order }
    }

    /// The number of events.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The events in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &Event> + DoubleEndedIterator + Clone + '_ {
        self.order.iter().map(|&j| &self.store[j as usize])
    }

    /// The events in order with their positions.
    pub fn iter_enumerated(
        &self,
    ) -> impl ExactSizeIterator<Item = (EventIx, &Event)> + DoubleEndedIterator + '_ {
        self.iter().enumerate().map(|(i, e)| (EventIx::from(i), e))
    }

    /// Every position, in order.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = EventIx> + DoubleEndedIterator + Clone {
        (0..self.len()).map(EventIx::from)
    }

    /// Appends an event at the end of the order.
    pub fn push(&mut self, event: Event) {
        self.order.push(self.store.len() as u32);
        self.store.push(event);
    }
}

impl Index<EventIx> for Events {
    type Output = Event;

    fn index(&self, i: EventIx) -> &Event {
        &self.store[self.order[i.index()] as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(events: &Events) -> Vec<u32> {
        events.iter().map(|e| e.evidence.line).collect()
    }

    #[test]
    fn reads_through_the_order_and_appends_at_the_end() {
        let store: Vec<Event> = (1..=4).map(crate::testkit::event_at_line).collect();
        let mut events = Events::new(store.into(), vec![2, 0, 3, 1]);
        assert_eq!(lines(&events), [3, 1, 4, 2]);
        assert_eq!(events[EventIx::from(0)].evidence.line, 3);
        assert_eq!(events.iter().next_back().map(|e| e.evidence.line), Some(2));
        events.push(crate::testkit::event_at_line(9));
        assert_eq!(lines(&events), [3, 1, 4, 2, 9]);
        assert_eq!(events.len(), 5);
    }

    #[test]
    #[should_panic(expected = "one position per event")]
    fn an_order_names_every_event() {
        Events::new(vec![crate::testkit::event_at_line(1)].into(), vec![]);
    }
}
