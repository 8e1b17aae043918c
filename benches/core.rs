//! Core benchmarks: append (durable), verify, and beside them the physical
//! limits measured in the same run (strict ed25519 verification, blake3,
//! fsync), so docs/PERFORMANCE.md can say how close the ledger gets.
//!
//! Run: `scripts/bench.sh` (or `cargo bench --bench core`).

use std::io::Write;
use std::time::Duration;

use access_ledger::{
    AuthorityName, Event, Ledger, NewEntry, Origin, Resource, Rights, SecretKey, Subject, Text,
    Timestamp, Zone,
};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

// For the allocator: every bench runs on the binary's (benches/common).
mod common;

fn grant(i: u64) -> Event {
    Event::Grant {
        subject: Subject::new(format!("agency:a{}", i % 1000)).unwrap(),
        resource: Resource::new(format!("cpd/db{}/t{}", i % 97, i % 13)).unwrap(),
        rights: Rights::parse_list("read").unwrap(),
        basis: Text::new("basis", "benchmark").unwrap(),
        effective_at: Timestamp::from_micros(1_500_000_000_000_000 + i as i64),
        until: None,
    }
}

fn new_ledger(dir: &std::path::Path) -> (Ledger, SecretKey) {
    let key = SecretKey::from_seed(AuthorityName::new("bench").unwrap(), &[9; 32]);
    let l = Ledger::init(
        dir,
        Origin::new("bench.example/log").unwrap(),
        &Zone::utc(),
        &key,
        None,
    )
    .unwrap();
    (l, key)
}

fn limits(c: &mut Criterion) {
    let mut g = c.benchmark_group("limit");
    let key = SecretKey::from_seed(AuthorityName::new("bench").unwrap(), &[9; 32]);
    let msg = vec![7u8; 300];
    let sig = key.sign(&msg);
    let pk = key.public();
    g.throughput(Throughput::Elements(1));
    g.bench_function("ed25519_verify_strict", |b| {
        b.iter(|| assert!(pk.verify(&msg, &sig)))
    });
    g.bench_function("ed25519_sign", |b| b.iter(|| key.sign(&msg)));
    let data = vec![1u8; 300];
    g.throughput(Throughput::Bytes(300));
    g.bench_function("blake3_300_bytes", |b| b.iter(|| blake3::hash(&data)));
    let dir = tempfile::tempdir().unwrap();
    let mut f = std::fs::File::create(dir.path().join("f")).unwrap();
    g.throughput(Throughput::Elements(1));
    g.sample_size(30);
    g.bench_function("write_4k_fsync", |b| {
        b.iter(|| {
            f.write_all(&[0u8; 4096]).unwrap();
            f.sync_all().unwrap();
        })
    });
    g.finish();
}

fn append(c: &mut Criterion) {
    let mut g = c.benchmark_group("append");
    g.sample_size(30);
    g.measurement_time(Duration::from_secs(8));
    let dir = tempfile::tempdir().unwrap();
    let (mut l, key) = new_ledger(&dir.path().join("l"));
    let mut i = 0u64;
    g.throughput(Throughput::Elements(1));
    g.bench_function("one_entry_durable", |b| {
        b.iter(|| {
            i += 1;
            l.append(
                &key,
                vec![NewEntry {
                    event: grant(i),
                    recorded_at: None,
                }],
            )
            .unwrap()
        })
    });
    g.throughput(Throughput::Elements(1000));
    g.sample_size(10);
    g.bench_function("batch_of_1000_durable", |b| {
        b.iter_batched(
            || {
                (0..1000)
                    .map(|_| {
                        i += 1;
                        NewEntry {
                            event: grant(i),
                            recorded_at: None,
                        }
                    })
                    .collect::<Vec<_>>()
            },
            |batch| l.append(&key, batch).unwrap(),
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

fn verify(c: &mut Criterion) {
    let mut g = c.benchmark_group("verify");
    g.sample_size(10);
    let dir = tempfile::tempdir().unwrap();
    let (mut l, key) = new_ledger(&dir.path().join("l"));
    let n = 20_000u64;
    for chunk in 0..n / 1000 {
        let batch = (0..1000)
            .map(|j| NewEntry {
                event: grant(chunk * 1000 + j),
                recorded_at: None,
            })
            .collect();
        l.append(&key, batch).unwrap();
    }
    g.throughput(Throughput::Elements(l.len()));
    g.bench_function("whole_log_20k_entries", |b| {
        b.iter(|| l.verify(|_, _| {}).unwrap())
    });
    g.finish();
}

criterion_group!(benches, limits, append, verify);
criterion_main!(benches);
