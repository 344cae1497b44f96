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

/// Serve large allocations from the heap and keep freed memory in the process (glibc on
/// Linux). Left alone when `GLIBC_TUNABLES` sets malloc parameters, so that a user's own
/// choice wins. Returns whether the allocator was changed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn keep_freed_memory() -> bool {
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
