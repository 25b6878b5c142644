//! The `cmtrace-rs` binary: parse the command line, run the command and end with its exit status.

use std::process::ExitCode;

use clap::Parser;

use cmtrace_rs::commands::{EXIT_OK, EXIT_UNUSABLE};

// The engine allocates many small strings and vectors; mimalloc handles that churn far better than glibc.
// `--features system-alloc` keeps the system allocator, which heap profilers (heaptrack) can see.
#[cfg(not(feature = "system-alloc"))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in `mi_option_t` of mimalloc v3's `mimalloc.h` (the Rust bindings have no
/// constant for it).
#[cfg(not(feature = "system-alloc"))]
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// `mi_option_arena_reserve` (in KiB) in the same `mi_option_t`.
#[cfg(all(not(feature = "system-alloc"), target_os = "linux"))]
const MI_OPTION_ARENA_RESERVE: libmimalloc_sys::mi_option_t = 23;

/// Arenas reserved 64 MiB at a time instead of 1 GiB: the same speed, and 40-60 MB less at the peak of a 1 GB
/// fleet collection (the last large arena is touched far beyond what it holds). Set before `main`, as an ELF
/// constructor, because the runtime allocates (and mimalloc reserves its first arena) before `main` runs.
#[cfg(all(not(feature = "system-alloc"), target_os = "linux"))]
#[used]
#[unsafe(link_section = ".init_array")]
static RESERVE_SMALLER_ARENAS: extern "C" fn() = {
    extern "C" fn reserve_smaller_arenas() {
        // SAFETY: sets an integer option; no thread is running yet and no pointer is involved.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_ARENA_RESERVE, 64 * 1024) }
    }
    reserve_smaller_arenas
};

fn main() -> ExitCode {
    // Freed pages go back to the OS 10 ms after they were freed (mimalloc v3 waits 1 s; this binary used to
    // keep them all, -1): each stage of `analyze` frees what the one before built, and keeping it held the
    // high-water mark of every stage at once. Measured on the 1 GB corpora (issue 12): fleet 206-213 MB ->
    // 144-150 MB, stress 947 MB -> 796 MB, for 0.3-0.8 s more system time (4-9% of the CPU time). Purging
    // at once (0) saves a few MB more for twice that system time.
    // SAFETY: sets an integer option before any thread is started; no pointer is involved.
    #[cfg(not(feature = "system-alloc"))]
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 10)
    };
    cmtrace_rs::timing::start_if_asked();
    let cli = cmtrace_rs::cli::Cli::parse();
    ExitCode::from(match cmtrace_rs::commands::run(cli) {
        Ok(status) => status,
        // The one place a closed stdout is handled, for every command.
        Err(failure) if failure.is_closed_stdout() => EXIT_OK,
        Err(failure) => {
            cmtrace_rs::say!("cmtrace-rs: {failure}");
            EXIT_UNUSABLE
        }
    })
}
