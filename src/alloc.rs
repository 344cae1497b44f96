//! How the process's heap treats freed memory.
//!
//! Training allocates the same large buffers every step: gradients, the optimizer's new moment
//! and parameter tensors, activations. glibc serves every allocation above its mmap threshold
//! (at most 32 MiB) with a fresh `mmap` and returns it with `munmap` on free, so each step
//! page-faults and zero-fills all of them again: with rsa_cfn's 294 M-parameter layer that is
//! several GiB of page faults per step, which the benchmark (docs/PERFORMANCE.md) showed as
//! the largest cost of a flex step. Serving them from the heap and never trimming it lets the
//! next step reuse pages that are already mapped; the price is that the resident set stays at
//! its peak instead of shrinking between steps.
//!
//! A build with the `tch` feature runs on jemalloc instead, for the whole process: its malloc
//! symbols replace glibc's, so libtorch allocates from it too, and it keeps freed pages (no decay
//! back to the kernel). With glibc kept this way, libtorch's aligned allocations fragment the
//! heap: rsa_cfn on tch peaked at 12.0 GiB against PyTorch's 7.9, and at 7.7 GiB on jemalloc,
//! whose step was also faster (docs/PERFORMANCE.md, memory). flex keeps glibc, which is faster
//! for its allocation pattern.

/// The allocator this build runs on.
pub const ALLOCATOR: &str = if cfg!(feature = "tch") {
    "jemalloc"
} else {
    "glibc"
};

#[cfg(feature = "tch")]
#[global_allocator]
static JEMALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's compiled-in options (read at its first allocation; `MALLOC_CONF` in the
/// environment overrides them): freed pages stay mapped for reuse, never purged.
#[cfg(feature = "tch")]
#[unsafe(export_name = "malloc_conf")]
pub static JEMALLOC_CONF: &[u8; 36] = b"dirty_decay_ms:-1,muzzy_decay_ms:-1\0";

/// Serve large allocations from the heap and keep freed memory in the process (glibc on
/// Linux). Left alone when `GLIBC_TUNABLES` sets malloc parameters, so that a user's own
/// choice wins. Returns whether the allocator was changed.
///
/// On jemalloc (the `tch` build) `JEMALLOC_CONF` already keeps freed pages: returns true.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn keep_freed_memory() -> bool {
    if cfg!(feature = "tch") {
        return true;
    }
    let user_tuned = std::env::var_os("GLIBC_TUNABLES")
        .is_some_and(|v| v.to_string_lossy().contains("glibc.malloc"));
    if user_tuned {
        return false;
    }
    // <malloc.h>; -1 as the trim threshold disables trimming (mallopt(3)).
    const M_TRIM_THRESHOLD: i32 = -1;
    const M_MMAP_MAX: i32 = -4;
    unsafe extern "C" {
        fn mallopt(param: i32, value: i32) -> i32;
    }
    // SAFETY: mallopt only sets allocator parameters, is thread-safe, and both are valid
    // parameter values; it returns 1 on success.
    unsafe { mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, -1) == 1 }
}

/// Other platforms keep their allocator's defaults.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn keep_freed_memory() -> bool {
    false
}
