//! `verify` beside the limit it stands against, measured in the same run
//! (issue 14): strict ed25519 verification of the same entries' signatures on
//! every core, with nothing else done.
//!
//! For each size in `ACCESS_LEDGER_BENCH_SIZES` (default `100000,1000000`;
//! 3,000 when run without `--bench`, as `cargo test --all-targets` does), on
//! the synthetic ledger (`common::ledger`):
//! - the time to open it as the `verify` command does
//!   (`Ledger::open_to_scan`: sled with a small page cache, the latest
//!   rules-state snapshot and the entries after it);
//! - `verify` with every derived-data check, its rate and the process's peak
//!   RSS over it;
//! - the limit: every entry decoded into memory beforehand (100,000 at a
//!   time), then only `verify_signature` (strict) on as many threads as there
//!   are cores.

use std::time::{Duration, Instant};

use access_ledger::{Entry, Ledger};

mod common;

/// Seconds to verify the signatures of every entry on `threads` threads,
/// entries decoded beforehand and the decoding not timed.
fn limit(ledger: &Ledger, threads: usize) -> f64 {
    let id = *ledger.state().ledger_id();
    let mut spent = Duration::ZERO;
    let mut seq = 1;
    while seq < ledger.len() {
        let end = (seq + 100_000).min(ledger.len());
        let entries: Vec<Entry> = (seq..end)
            .map(|s| ledger.entry(s).unwrap().expect("stored"))
            .collect();
        let per = entries.len().div_ceil(threads);
        let t = Instant::now();
        std::thread::scope(|scope| {
            for part in entries.chunks(per) {
                scope.spawn(move || {
                    for e in part {
                        assert!(e.clone().verify_signature(&id).is_ok());
                    }
                });
            }
        });
        spent += t.elapsed();
        seq = end;
    }
    spent.as_secs_f64()
}

fn main() {
    let benching = std::env::args().any(|a| a == "--bench");
    let tmp = tempfile::tempdir().unwrap();
    let base = common::base_dir(benching, tmp.path());
    let sizes: Vec<u64> = match std::env::var("ACCESS_LEDGER_BENCH_SIZES") {
        Ok(s) if benching => s.split(',').filter_map(|x| x.trim().parse().ok()).collect(),
        _ if benching => vec![100_000, 1_000_000],
        _ => vec![3_000],
    };
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    for n in sizes {
        let dir = common::ledger(n, Some(&base));
        let t = Instant::now();
        let ledger = Ledger::open_to_scan(&dir, Duration::from_secs(5)).expect("open");
        let open = t.elapsed();
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        let before = common::status_mib("VmRSS:");
        let t = Instant::now();
        let report = ledger
            .verify(|_, _| {})
            .expect("the synthetic ledger verifies");
        let verify = t.elapsed().as_secs_f64();
        let peak = common::status_mib("VmHWM:");
        let one = limit(&ledger, 1);
        let all = limit(&ledger, cores);
        let rate = |s: f64| report.entries as f64 / s;
        println!("== verify, {n} entries ({cores} cores)");
        println!("open: {open:.1?}");
        println!(
            "verify: {verify:.2} s, {:.0} entries/s; peak RSS {peak:.0} MiB (RSS before {before:.0} MiB)",
            rate(verify)
        );
        println!(
            "limit, strict signature verification only: {:.0}/s on 1 thread, {:.0}/s on {cores}",
            rate(one),
            rate(all)
        );
        println!(
            "verify / {cores}-core limit: {:.0}%",
            100.0 * rate(verify) / rate(all)
        );
    }
}
