//! Publishing and mirroring the synthetic ledger as tiles (docs/PERFORMANCE.md).
//!
//! Each step is minutes of work at 1,000,000 entries, so each runs once and
//! is timed with a wall clock (criterion's ten samples would take an hour):
//! a first `publish` into an empty directory, a second with nothing new (the
//! incremental path: the entries are hashed again, no tile is rewritten), a
//! `mirror` from that directory into a new replica, and the bytes published
//! per entry. `ACCESS_LEDGER_TILES_N` sets the size (default 1,000,000); the
//! ledger is built once and kept in `$ACCESS_LEDGER_BENCH_DIR` (shared with
//! the query benchmarks).

use std::path::Path;
use std::time::{Duration, Instant};

use access_ledger::internal::SynthSpec;
use access_ledger::{Ledger, TileSource, VerifierKey};

mod common;

/// The bytes and files under `p`.
fn size_and_files(p: &Path) -> (u64, u64) {
    let (mut bytes, mut files) = (0, 0);
    for e in std::fs::read_dir(p).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            let (b, f) = size_and_files(&e.path());
            bytes += b;
            files += f;
        } else {
            bytes += e.metadata().unwrap().len();
            files += 1;
        }
    }
    (bytes, files)
}

fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` does not run this.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let n: u64 = std::env::var("ACCESS_LEDGER_TILES_N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let dir = common::ledger(n, None);
    let work = tempfile::tempdir_in(dir.parent().unwrap()).unwrap();
    let (key, _) = SynthSpec::with_events(n).keys();
    let site = work.path().join("site");

    let mut l = Ledger::open(&dir, Duration::from_secs(5)).unwrap();
    let start = Instant::now();
    let cp = l.checkpoint(&key).unwrap();
    let signed_in = start.elapsed();
    let size = cp.checkpoint().size();
    let start = Instant::now();
    let first = access_ledger::publish(&l, &cp, &site, |_, _, _| {}).unwrap();
    let published_in = start.elapsed();
    let start = Instant::now();
    let again = access_ledger::publish(&l, &cp, &site, |_, _, _| {}).unwrap();
    let republished_in = start.elapsed();
    drop(l);
    let (bytes, files) = size_and_files(&site);

    let vk = VerifierKey::new(key.name().clone(), key.public());
    let source = TileSource::new(site.to_str().unwrap());
    let replica = work.path().join("replica");
    let start = Instant::now();
    let m = access_ledger::mirror(&source, &vk, &replica, Duration::from_secs(5), |_, _, _| {})
        .unwrap();
    let mirrored_in = start.elapsed();
    let (replica_bytes, _) = size_and_files(&replica);

    println!("tiles: {size} entries");
    println!(
        "  checkpoint (first signing: replays the whole log): {}",
        secs(signed_in)
    );
    println!(
        "  publish, first run: {} ({} files, {} bytes written)",
        secs(published_in),
        first.files_written,
        first.bytes_written
    );
    println!(
        "  publish, nothing new: {} ({} files written, {} kept)",
        secs(republished_in),
        again.files_written,
        again.files_kept
    );
    println!(
        "  published: {bytes} bytes in {files} files, {:.1} bytes per entry",
        bytes as f64 / size as f64
    );
    println!(
        "  mirror from a directory: {} ({} bytes fetched; replica {} bytes)",
        secs(mirrored_in),
        m.fetched_bytes,
        replica_bytes
    );
}
