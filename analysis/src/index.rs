//! Typed positions in an `Analysis`: `EventIx` (a position in the timeline), `DeviceIx` (in the devices)
//! and `HostIx` (in the hosts), so that one cannot be used for another, and the vectors they index
//! (`TiVec`). Each is 32 bits, and so is an `Option` of one: per-event tables of a fleet collection hold
//! millions of them, and a read stops long before 4 billion events. `TimeMs`: an event's time in 8 bytes.

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

/// Defines `$name`, an `Option<$int>` in the size of an `$int`: `$none` stands for none, and `new` refuses it.
macro_rules! packed_option {
    ($(#[$meta:meta])* $vis:vis struct $name:ident($int:ty), none = $none:expr;) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash)]
        $vis struct $name($int);

        // Not every packed option reads itself every way.
        #[allow(dead_code)]
        impl $name {
            /// None.
            pub const NONE: $name = $name($none);

            /// `n`, or none. Panics on `Some` of the value that stands for none.
            pub fn new(n: Option<$int>) -> $name {
                match n {
                    Some(v) if v == $none => panic!(concat!(stringify!($name), " cannot hold ", stringify!($none))),
                    Some(v) => $name(v),
                    None => $name::NONE,
                }
            }

            /// The value, if there is one.
            pub fn get(self) -> Option<$int> {
                (self != $name::NONE).then_some(self.0)
            }

            /// Whether there is none.
            pub fn is_none(self) -> bool {
                self == $name::NONE
            }
        }

        impl From<Option<$int>> for $name {
            fn from(n: Option<$int>) -> $name {
                $name::new(n)
            }
        }

        impl std::fmt::Debug for $name {
            /// As the `Option` it stands for.
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.get().fmt(f)
            }
        }
    };
}

packed_option! {
    /// A UTC time in milliseconds since the Unix epoch, or none, in 8 bytes (an `Option<i64>` is 16): the engine
    /// keeps one or two per event, millions of them. `i64::MIN` stands for none; no time read is near it (years
    /// 1..=9999 are within about 2.6e14 ms of the epoch). Ordered as the `Option` is: none before every time.
    #[derive(PartialOrd, Ord)]
    pub struct TimeMs(i64), none = i64::MIN;
}

packed_option! {
    /// An `Option<u32>` in 4 bytes instead of 8 (`u32::MAX` stands for none): per-event numbers of the engine
    /// (an event's request block, its component's root node), millions of them, never near 4 billion.
    pub(crate) struct OptU32(u32), none = u32::MAX;
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
        assert_eq!(std::mem::size_of::<TimeMs>(), 8);
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

    /// A time reads back as it was given and orders as the `Option` does, none first.
    #[test]
    fn times_read_back_and_order_as_options() {
        let values = [None, Some(i64::MIN + 1), Some(-1), Some(0), Some(1_764_000_000_000), Some(i64::MAX)];
        for a in values {
            assert_eq!(TimeMs::new(a).get(), a);
            assert_eq!(TimeMs::new(a).is_none(), a.is_none());
            assert_eq!(format!("{:?}", TimeMs::from(a)), format!("{a:?}"));
            for b in values {
                assert_eq!(TimeMs::new(a).cmp(&TimeMs::new(b)), a.cmp(&b), "{a:?} {b:?}");
            }
        }
        assert!(std::panic::catch_unwind(|| TimeMs::new(Some(i64::MIN))).is_err());
    }

    #[test]
    fn a_packed_option_reads_back_as_given_in_four_bytes() {
        assert_eq!(std::mem::size_of::<OptU32>(), 4);
        for n in [None, Some(0), Some(1), Some(u32::MAX - 1)] {
            assert_eq!(OptU32::new(n).get(), n);
            assert_eq!(format!("{:?}", OptU32::new(n)), format!("{n:?}"));
        }
        assert!(std::panic::catch_unwind(|| OptU32::new(Some(u32::MAX))).is_err());
    }
}
