//! Reused buffers for the text of the files being read. A read loads a window of files (or a large file's
//! blocks) after another; each file's bytes and decoded text used to be a fresh allocation, whose pages the
//! system had to hand over (and zero) again for every window once the allocator had returned the last
//! window's to it. Here a file's buffer goes back to a process-wide pool when its `LoadedFile` is dropped
//! and the next file read whole (`input::load`) takes it: the pages stay mapped and warm. The pool is
//! bounded (`POOL_BYTES` of capacity, `POOL_BUFFERS` buffers, none larger than `LARGEST_KEPT`) and emptied
//! when a scan ends (`release`), so that it never adds to what the stages after the read hold.

use std::sync::Mutex;

/// The most capacity the pool keeps, in bytes: a window of `scan::ScanOptions` (16 MB) and some.
const POOL_BYTES: usize = 24 << 20;
/// The most buffers the pool keeps (a window holds at most 512 files).
const POOL_BUFFERS: usize = 1024;
/// A buffer larger than this is freed rather than kept: a spare one would stay resident beside the block
/// being worked on for little gain on a file that is read once. The blocks of a file read in blocks (4 MB,
/// `scan::ScanOptions`) are kept; a long line's longer block is not.
const LARGEST_KEPT: usize = 8 << 20;

struct Pool {
    buffers: Vec<Vec<u8>>,
    bytes: usize,
}

static POOL: Mutex<Pool> = Mutex::new(Pool { buffers: Vec::new(), bytes: 0 });

fn pool() -> std::sync::MutexGuard<'static, Pool> {
    POOL.lock().unwrap_or_else(|p| p.into_inner())
}

/// An empty buffer with room for at least `capacity` bytes: the smallest kept one that has it, else a new
/// one (growing a kept one would copy its old bytes for nothing). `Err` when the memory cannot be had.
pub(crate) fn take(capacity: usize) -> Result<Vec<u8>, std::collections::TryReserveError> {
    let reused = {
        let mut p = pool();
        let fits = p
            .buffers
            .iter()
            .enumerate()
            .filter(|(_, b)| b.capacity() >= capacity)
            .min_by_key(|(_, b)| b.capacity())
            .map(|(i, _)| i);
        fits.map(|i| {
            let b = p.buffers.swap_remove(i);
            p.bytes -= b.capacity();
            b
        })
    };
    let mut buf = reused.unwrap_or_default();
    buf.clear();
    buf.try_reserve_exact(capacity)?;
    Ok(buf)
}

/// An empty string with room for at least `capacity` bytes (`take`); a new one when the memory cannot be
/// had from the pool (the allocation then fails as any other would).
pub(crate) fn take_string(capacity: usize) -> String {
    let buf = take(capacity).unwrap_or_else(|_| Vec::with_capacity(capacity));
    String::from_utf8(buf).expect("an empty buffer is valid UTF-8")
}

/// Gives `buf` back for a later `take` (freed instead when the pool is full or `buf` is too large).
pub(crate) fn give(buf: Vec<u8>) {
    let cap = buf.capacity();
    if cap == 0 || cap > LARGEST_KEPT {
        return;
    }
    let mut p = pool();
    if p.buffers.len() < POOL_BUFFERS && p.bytes + cap <= POOL_BYTES {
        p.bytes += cap;
        p.buffers.push(buf);
    }
}

/// Frees every kept buffer: a read is over, and what comes after it (the engine) must not find the memory
/// of its windows still held.
pub(crate) fn release() {
    let freed = {
        let mut p = pool();
        p.bytes = 0;
        std::mem::take(&mut p.buffers)
    };
    drop(freed);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pool is process-wide and tests run in parallel: each assertion holds whatever other tests take
    /// and give meanwhile.
    #[test]
    fn a_buffer_given_back_is_taken_again_empty_and_big_enough() {
        let mut b = take(100_000).unwrap();
        assert!(b.capacity() >= 100_000 && b.is_empty());
        b.extend_from_slice(&[7u8; 1000]);
        give(b);
        for want in [10, 100_000, 200_000] {
            let b = take(want).unwrap();
            assert!(b.is_empty(), "taken empty");
            assert!(b.capacity() >= want);
            give(b);
        }
        let s = take_string(64);
        assert!(s.is_empty() && s.capacity() >= 64);
    }

    #[test]
    fn the_pool_keeps_no_huge_buffer_and_stays_bounded() {
        give(Vec::with_capacity(LARGEST_KEPT + 1));
        for _ in 0..(POOL_BUFFERS + 10) {
            give(Vec::with_capacity(1 << 20));
        }
        let p = pool();
        assert!(p.buffers.len() <= POOL_BUFFERS);
        assert!(p.bytes <= POOL_BYTES);
        assert!(p.buffers.iter().all(|b| b.capacity() <= LARGEST_KEPT));
        assert_eq!(p.bytes, p.buffers.iter().map(|b| b.capacity()).sum::<usize>());
    }
}
