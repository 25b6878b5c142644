//! Typed positions in an `Analysis`: `EventIx` (a position in the timeline), `DeviceIx` (in the devices)
//! and `HostIx` (in the hosts), so that one cannot be used for another, and the vectors they index
//! (`TiVec`). Each is 32 bits, and so is an `Option` of one: per-event tables of a fleet collection hold
//! millions of them, and a read stops long before 4 billion events.

pub use typed_index_collections::{TiSlice, TiVec};

macro_rules! position {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        // The position plus one: `Option<$name>` is 32 bits too (per-event tables hold millions of them).
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(std::num::NonZeroU32);

        impl $name {
            /// The first position.
            pub const FIRST: $name = $name(std::num::NonZeroU32::MIN);

            /// The position as a `usize`.
            pub const fn index(self) -> usize {
                (self.0.get() - 1) as usize
            }
        }

        impl From<usize> for $name {
            /// Panics at `u32::MAX` and past it, which no read reaches.
            fn from(i: usize) -> Self {
                let stored = u32::try_from(i).ok().and_then(|i| i.checked_add(1)).and_then(std::num::NonZeroU32::new);
                $name(stored.expect(concat!(stringify!($name), " past u32::MAX")))
            }
        }

        impl std::fmt::Debug for $name {
            /// As the position it is (`EventIx(3)`), not as it is stored.
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_tuple(stringify!($name)).field(&self.index()).finish()
            }
        }

        impl From<$name> for usize {
            fn from(i: $name) -> usize {
                i.index()
            }
        }
    };
}

position!(
    /// A position in the timeline (`Analysis::events` and the per-event tables beside it).
    EventIx
);
position!(
    /// A position in `Analysis::devices`.
    DeviceIx
);
position!(
    /// A position in `Analysis::hosts`.
    HostIx
);

#[cfg(test)]
mod tests {
    use super::*;

    /// Positions keep their order, and an absent one costs nothing more than a present one.
    #[test]
    fn positions_order_as_numbers_and_an_option_of_one_is_32_bits() {
        assert_eq!(std::mem::size_of::<Option<EventIx>>(), 4);
        assert_eq!(std::mem::size_of::<Option<DeviceIx>>(), 4);
        assert_eq!(EventIx::FIRST, EventIx::from(0));
        assert!(
            EventIx::from(0) < EventIx::from(1) && EventIx::from(1) < EventIx::from(u32::MAX as usize - 1)
        );
        assert_eq!(EventIx::from(u32::MAX as usize - 1).index(), u32::MAX as usize - 1);
        assert_eq!(format!("{:?}", HostIx::from(3)), "HostIx(3)");
        assert!(std::panic::catch_unwind(|| EventIx::from(u32::MAX as usize)).is_err());
    }

    #[test]
    fn positions_round_trip_and_index_their_own_vectors() {
        let hosts: TiVec<HostIx, &str> = vec!["CMG01", "MP01"].into();
        let mp = HostIx::from(1);
        assert_eq!(hosts[mp], "MP01");
        assert_eq!(usize::from(mp), 1);
        assert_eq!(hosts.iter_enumerated().map(|(i, _)| i.index()).collect::<Vec<_>>(), [0, 1]);
        assert_eq!(hosts.position(|h| *h == "MP01"), Some(mp));
    }

    #[test]
    #[should_panic(expected = "EventIx past u32::MAX")]
    fn a_position_past_32_bits_is_refused() {
        let _ = EventIx::from(u32::MAX as usize + 1);
    }
}
