//! Typed positions in an `Analysis`: `EventIx` (a position in the timeline), `DeviceIx` (in the devices)
//! and `HostIx` (in the hosts), so that one cannot be used for another, and the vectors they index
//! (`TiVec`). Each is 32 bits: per-event tables of a fleet collection hold millions of them, and a read
//! stops long before 4 billion events.

pub use typed_index_collections::{TiSlice, TiVec};

macro_rules! position {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(u32);

        impl $name {
            /// The first position.
            pub const FIRST: $name = $name(0);

            /// The position as a `usize`.
            pub const fn index(self) -> usize {
                self.0 as usize
            }
        }

        impl From<usize> for $name {
            /// Panics past `u32::MAX`, which no read reaches.
            fn from(i: usize) -> Self {
                $name(u32::try_from(i).expect(concat!(stringify!($name), " past u32::MAX")))
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
