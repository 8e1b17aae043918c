//! The allocator of the binary, and of the benches (benches/common), so
//! that an in-process figure and the CLI's agree on what memory costs.
//!
//! jemalloc rather than the system allocator: a long command's phases
//! (replay, `changes`, matrices, an export's own check) each free what they
//! built, and glibc's per-thread arenas kept it from the next phase (see the
//! comment in Cargo.toml and docs/PERFORMANCE.md, "The allocator").
//! `tests/storage.rs` checks that the options below take effect.

#[cfg(all(unix, not(target_env = "musl")))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options, read once at its first allocation. Two arenas instead
/// of four per core: each thread keeps a small cache in front of them, so the
/// few threads of a command rarely wait, and fewer arenas hold less freed
/// memory. Freed pages go back to the system at once (`dirty_decay_ms:0`,
/// `muzzy_decay_ms:0`) rather than after ten seconds, so one phase's garbage
/// does not count against the next phase's peak. The 100,000-entry export on
/// this 2-core machine peaked at 137-154 MB with jemalloc's defaults, 123-147
/// MB with two arenas and 119-120 MB with both, in the same time
/// (docs/PERFORMANCE.md, "The allocator").
#[cfg(all(unix, not(target_env = "musl")))]
#[export_name = "_rjem_malloc_conf"]
// A reference to a byte array is a plain pointer to its first byte: the
// `const char *` jemalloc reads, NUL-terminated.
static MALLOC_CONF: &[u8; 44] = b"narenas:2,dirty_decay_ms:0,muzzy_decay_ms:0\0";
