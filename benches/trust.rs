//! What the insider-security checks cost on a large ledger (docs/PERFORMANCE.md,
//! "Trusting only what was verified").
//!
//! On the synthetic ledger of `ACCESS_LEDGER_BENCH_SIZES` entries (default
//! 1,000,000; built once and reused, see `common`), copied so the cached one
//! stays as built, this measures, each in a freshly opened ledger as a new
//! process would see it:
//! - `verify` with every derived-data check (tree nodes, checkpoint roots,
//!   rules-state snapshots, query indexes), and its peak RSS;
//! - a key's first signing (no trusted head: the whole log is replayed);
//! - an append with a trusted head at the head (the common case);
//! - an append after another key appended N entries (replayed from the
//!   snapshot pinned at the head);
//! - a checkpoint after another key appended N entries.
//!
//! Run with `cargo bench --bench trust` (scripts/bench.sh runs it too).

use std::path::Path;
use std::time::{Duration, Instant};

use access_ledger::internal::SynthSpec;
use access_ledger::{Event, Ledger, NewEntry, Resource, Rights, SecretKey, Subject, Text};

mod common;

const WAIT: Duration = Duration::from_secs(5);
/// Appends by the other key between two signings of the first.
const OTHER_APPENDS: u64 = 100;

fn peak_rss_mib() -> f64 {
    common::status_mib("VmHWM:")
}

fn rss_mib() -> f64 {
    common::status_mib("VmRSS:")
}

/// Resets the peak-RSS counter (Linux), so the next reading covers only what
/// follows.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn grant(i: u64) -> Vec<NewEntry> {
    vec![NewEntry {
        event: Event::Grant {
            subject: Subject::new(format!("agency:bench{i}")).expect("valid subject"),
            resource: Resource::new("db00/s01").expect("valid resource"),
            rights: Rights::parse_list("read").expect("valid rights"),
            basis: Text::new("basis", "trust bench").expect("valid text"),
            effective_at: access_ledger::Timestamp::now(),
            until: None,
        },
        recorded_at: None,
    }]
}

fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    eprintln!("{what}: {:.1} ms", start.elapsed().as_secs_f64() * 1e3);
    out
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the copy");
    for e in std::fs::read_dir(from).expect("read the ledger").flatten() {
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).expect("copy a file");
        }
    }
}

fn main() {
    // `cargo test --all-targets` runs this once without `--bench`, as a smoke
    // test: a small ledger built afresh, not a cached million entries.
    let benching = std::env::args().any(|a| a == "--bench");
    let n: u64 = std::env::var("ACCESS_LEDGER_BENCH_SIZES")
        .ok()
        .filter(|_| benching)
        .and_then(|s| s.split(',').next_back().and_then(|x| x.trim().parse().ok()))
        .unwrap_or(if benching { 1_000_000 } else { 2_000 });
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let cached = common::ledger(n, (!benching).then(|| scratch.path()));
    let dir = scratch.path().join("ledger");
    timed("copy the ledger", || copy_tree(&cached, &dir));
    let (admin, writer) = SynthSpec::with_events(n).keys();
    // Keys read from files keep their trusted heads beside them.
    let key_file = |k: &SecretKey, name: &str| {
        let p = scratch.path().join(name);
        k.write_new(&p).expect("write the key file");
        SecretKey::read(&p).expect("read the key file")
    };
    let (admin, writer) = (
        key_file(&admin, "admin.key"),
        key_file(&writer, "writer.key"),
    );

    let l = timed("open", || Ledger::open(&dir, WAIT).expect("open"));
    reset_peak_rss();
    let before = rss_mib();
    let start = Instant::now();
    let report = l.verify(|_, _| {}).expect("verify");
    let secs = start.elapsed().as_secs_f64();
    eprintln!(
        "verify/{n}: {secs:.1} s ({:.0} entries/s), peak RSS {:.0} MiB (resident before: {before:.0} MiB)",
        report.entries as f64 / secs,
        peak_rss_mib()
    );
    drop(l);

    let mut l = Ledger::open(&dir, WAIT).expect("open");
    timed(
        &format!("first signing, no trusted head (replays {n})"),
        || l.authenticate(&writer, |_, _| {}).expect("authenticate"),
    );
    timed("append 1 (just authenticated)", || {
        l.append(&writer, grant(0)).expect("append")
    });
    drop(l);
    let mut l = Ledger::open(&dir, WAIT).expect("open");
    timed(
        "append 1 with a trusted head at the head (fresh open)",
        || l.append(&writer, grant(1)).expect("append"),
    );
    drop(l);
    // The admin signs once, so it has a head; then the writer appends.
    let mut l = Ledger::open(&dir, WAIT).expect("open");
    l.checkpoint(&admin).expect("first checkpoint");
    drop(l);
    let mut l = Ledger::open(&dir, WAIT).expect("open");
    for i in 0..OTHER_APPENDS {
        l.append(&writer, grant(10 + i)).expect("append");
    }
    drop(l);
    let mut l = Ledger::open(&dir, WAIT).expect("open");
    timed(
        &format!("checkpoint after {OTHER_APPENDS} appends by another key (fresh open)"),
        || l.checkpoint(&admin).expect("checkpoint"),
    );
    drop(l);
    let mut l = Ledger::open(&dir, WAIT).expect("open");
    for i in 0..OTHER_APPENDS {
        l.append(&writer, grant(1000 + i)).expect("append");
    }
    drop(l);
    let mut l = Ledger::open(&dir, WAIT).expect("open");
    timed(
        &format!("append 1 after {OTHER_APPENDS} appends by another key (fresh open)"),
        || l.append(&admin, grant(5000)).expect("append"),
    );
}
