//! Query speed on synthetic ledgers (see `access_ledger::synth`).
//!
//! For each size in `ACCESS_LEDGER_BENCH_SIZES` (default `100000,1000000`
//! entries) this builds the synthetic ledger once under
//! `ACCESS_LEDGER_BENCH_DIR` (default: `$TMPDIR/access-ledger-bench`), or
//! reuses it if a previous run finished it (a `synth-N.done` file beside it),
//! then measures in-process, on a warm store:
//! - `check` at random past dates, known now, and at random knowledge times
//!   (see `samples` for how the questions are drawn);
//! - `who-can` at random past dates;
//! - inclusion and consistency proofs at the full tree size.
//!
//! Besides criterion's estimates it prints per-query percentiles (p50, p90,
//! p99, p99.9, max) over a fixed sample, since the target is a p99.
//!
//! ```text
//! ACCESS_LEDGER_BENCH_SIZES=100000 cargo bench --bench queries    # quick run
//! ```

use std::path::Path;
use std::time::{Duration, Instant};

use access_ledger::internal::Rng;
use access_ledger::{Ledger, Timestamp};
use criterion::{criterion_group, criterion_main, Criterion};

mod common;
use common::{ledger, percentiles, samples};

fn bench_size(c: &mut Criterion, n: u64, base: Option<&Path>) {
    let dir = ledger(n, base);
    let ledger = Ledger::open(&dir, Duration::from_secs(5)).expect("open the synthetic ledger");
    let q = ledger.queries();
    let now = Timestamp::MAX;
    let checks = samples(&ledger, n, 20_000, 1);
    // Warm the cache as a long-running process would be.
    for s in &checks {
        q.check(&s.subject, &s.resource, &s.right, s.at, now)
            .unwrap();
    }
    let mut times = Vec::with_capacity(checks.len());
    let mut allowed = 0;
    for s in &checks {
        let t = Instant::now();
        let d = q
            .check(&s.subject, &s.resource, &s.right, s.at, now)
            .unwrap();
        times.push(t.elapsed());
        allowed += d.allowed as usize;
    }
    eprintln!("check: {allowed} of {} allowed", checks.len());
    percentiles(&format!("check/{n} (random past date, known now)"), times);
    let mut times = Vec::with_capacity(checks.len());
    for s in &checks {
        let t = Instant::now();
        q.check(&s.subject, &s.resource, &s.right, s.at, s.known_at)
            .unwrap();
        times.push(t.elapsed());
    }
    percentiles(
        &format!("check/{n} (random past date, random known_at)"),
        times,
    );

    let who = samples(&ledger, n, 500, 2);
    let mut times = Vec::with_capacity(who.len());
    let mut rows = 0;
    for s in &who {
        let t = Instant::now();
        rows += q.who_can(&s.resource, &s.right, s.at, now).unwrap().len();
        times.push(t.elapsed());
    }
    eprintln!(
        "who-can: {:.1} subjects per answer on average",
        rows as f64 / who.len() as f64
    );
    percentiles(&format!("who-can/{n} (random past date)"), times);

    // The physical floor under every query: one random point read of the
    // store (an entry by seq, decoded), on the same warm store.
    let mut rng = Rng(4);
    let mut reads = Vec::with_capacity(20_000);
    for _ in 0..20_000 {
        let seq = rng.below(n);
        let t = Instant::now();
        let b = ledger.entry(seq).unwrap();
        reads.push(t.elapsed());
        assert!(b.is_some());
    }
    percentiles(&format!("limit/sled-point-read/{n}"), reads);

    // Proofs at the full tree size, as `prove inclusion` / `prove consistency` make them.
    let mut rng = Rng(3);
    let mut inc = Vec::with_capacity(20_000);
    let mut cons = Vec::with_capacity(20_000);
    for _ in 0..20_000 {
        let seq = rng.below(n);
        let t = Instant::now();
        let p = ledger.prove_inclusion(seq, n).unwrap();
        inc.push(t.elapsed());
        assert!(p.verify().is_ok());
        let old = 1 + rng.below(n - 1);
        let t = Instant::now();
        let p = ledger.prove_consistency(old, n).unwrap();
        cons.push(t.elapsed());
        assert!(p.verify().is_ok());
    }
    percentiles(&format!("prove-inclusion/{n}"), inc);
    percentiles(&format!("prove-consistency/{n}"), cons);

    let mut g = c.benchmark_group(format!("queries-{n}"));
    g.sample_size(30).measurement_time(Duration::from_secs(8));
    let mut i = 0;
    g.bench_function("check", |b| {
        b.iter(|| {
            let s = &checks[i % checks.len()];
            i += 1;
            q.check(&s.subject, &s.resource, &s.right, s.at, now)
                .unwrap()
        })
    });
    let mut i = 0;
    g.bench_function("who-can", |b| {
        b.iter(|| {
            let s = &who[i % who.len()];
            i += 1;
            q.who_can(&s.resource, &s.right, s.at, now).unwrap()
        })
    });
    let mut i = 0u64;
    g.bench_function("prove-inclusion", |b| {
        b.iter(|| {
            i += 7919;
            ledger.prove_inclusion(i % n, n).unwrap()
        })
    });
    let mut i = 0u64;
    g.bench_function("prove-consistency", |b| {
        b.iter(|| {
            i += 7919;
            ledger.prove_consistency(1 + i % (n - 1), n).unwrap()
        })
    });
    g.finish();
}

fn queries(c: &mut Criterion) {
    // `cargo test --all-targets` runs benches once as a smoke test, without
    // `--bench`: use a small ledger there rather than build a million entries.
    let benching = std::env::args().any(|a| a == "--bench");
    let default = if benching { "100000,1000000" } else { "3000" };
    let sizes = std::env::var("ACCESS_LEDGER_BENCH_SIZES").unwrap_or_else(|_| default.into());
    // The smoke test builds its small ledger afresh, so it exercises the
    // generator as it is now rather than a cached ledger from an older one.
    let scratch = (!benching).then(|| tempfile::tempdir().expect("a temporary directory"));
    for n in sizes
        .split(',')
        .filter_map(|s| s.trim().parse::<u64>().ok())
    {
        bench_size(c, n, scratch.as_ref().map(|d| d.path()));
    }
}

criterion_group!(benches, queries);
criterion_main!(benches);
