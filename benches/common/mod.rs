//! What the benchmarks share: the synthetic ledgers they measure, built once
//! and reused across runs.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use access_ledger::internal::{self as synth, Rng, SynthSpec};
use access_ledger::{Event, Ledger, Resource, Right, Subject, Timestamp};

// The binary's allocator and its options (src/allocator.rs).
#[path = "../../src/allocator.rs"]
mod allocator;

/// The bytes under `p`, recursively.
pub fn dir_size(p: &Path) -> u64 {
    let mut total = 0;
    if let Ok(rd) = std::fs::read_dir(p) {
        for e in rd.flatten() {
            let m = match e.metadata() {
                Ok(m) => m,
                Err(_) => continue,
            };
            total += if m.is_dir() {
                dir_size(&e.path())
            } else {
                m.len()
            };
        }
    }
    total
}

/// Where full benchmark runs keep their ledgers: `ACCESS_LEDGER_BENCH_DIR`,
/// else `$TMPDIR/access-ledger-bench`.
pub fn bench_dir() -> PathBuf {
    std::env::var_os("ACCESS_LEDGER_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("access-ledger-bench"))
}

/// The directory a bench with a plain `main` works in: [`bench_dir`] when
/// run with `--bench`, else `smoke` (the small run `cargo test` makes).
pub fn base_dir(benching: bool, smoke: &Path) -> PathBuf {
    if benching {
        bench_dir()
    } else {
        smoke.to_owned()
    }
}

/// A field of /proc/self/status in MiB (`"VmHWM:"`: peak resident set,
/// `"VmRSS:"`: resident now); NaN where /proc does not have it.
pub fn status_mib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// The ledger of `n` entries under `base` (or `ACCESS_LEDGER_BENCH_DIR`),
/// built now if no finished one is there.
pub fn ledger(n: u64, base: Option<&Path>) -> PathBuf {
    let base = base.map(Path::to_owned).unwrap_or_else(bench_dir);
    std::fs::create_dir_all(&base).expect("create the bench directory");
    let dir = base.join(format!("synth-{n}"));
    // v4: a rules-state snapshot every few thousand entries, not per commit (issue 14).
    // v5: storage layout 2 (sled in store/, the tree as hash tiles); this
    // version refuses to open a layout-1 ledger, so an earlier one is rebuilt.
    // v6: storage layout 3 (sled in store3/, three index keys fewer per entry).
    // v7: storage layout 4 (sled in store4/, the timeline per day and chunk,
    // entries two to a key); a v6 ledger is migrated, not rebuilt.
    let done = base.join(format!("synth-{n}.v7.done"));
    if done.exists() {
        eprintln!(
            "reusing {} ({})",
            dir.display(),
            std::fs::read_to_string(&done).unwrap_or_default().trim()
        );
        return dir;
    }
    let v6 = base.join(format!("synth-{n}.v6.done"));
    if v6.exists() && dir.is_dir() {
        eprintln!("migrating {} to storage layout 4...", dir.display());
        let start = Instant::now();
        Ledger::migrate(&dir, Duration::from_secs(5), |_, _, _| {})
            .expect("migrate the synthetic ledger");
        let built = std::fs::read_to_string(&v6).unwrap_or_default();
        let line = format!(
            "{}; migrated to layout 4 in {:.0} s",
            built.trim(),
            start.elapsed().as_secs_f64()
        );
        eprintln!("{line}");
        std::fs::write(&done, line + "\n").expect("write the done marker");
        let _ = std::fs::remove_file(&v6);
        return dir;
    }
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!("building {} ({n} entries)...", dir.display());
    let start = Instant::now();
    let report =
        synth::build(&dir, &SynthSpec::with_events(n)).expect("build the synthetic ledger");
    let secs = start.elapsed().as_secs_f64();
    let size = dir_size(&dir);
    let line = format!(
        "{} entries, {} refused candidates, built in {secs:.0} s ({:.0} entries/s), {:.0} MiB on disk",
        report.entries,
        report.refused,
        report.entries as f64 / secs,
        size as f64 / (1024.0 * 1024.0)
    );
    eprintln!("{line}");
    std::fs::write(&done, line + "\n").expect("write the done marker");
    dir
}

pub struct Sample {
    pub subject: Subject,
    pub resource: Resource,
    pub right: Right,
    pub at: Timestamp,
    pub known_at: Timestamp,
}

/// Queries drawn from the ledger: half about the subject of a random grant,
/// on its resource or a descendant, at a date after it took effect (so many
/// are allowed); a quarter about a random member of a group; the rest
/// random. Dates lie between the first and last entries.
pub fn samples(ledger: &Ledger, n: u64, count: usize, seed: u64) -> Vec<Sample> {
    let spec = SynthSpec::with_events(n);
    let mut rng = Rng(seed);
    let entry = |seq: u64| ledger.entry(seq).unwrap().unwrap();
    let first = entry(0).recorded_at().as_micros();
    let last = entry(n - 1).recorded_at().as_micros();
    let rights = ["read", "export", "write", "audit"];
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let mut at = first + rng.below((last - first) as u64) as i64;
        let right = Right::new(rights[rng.below(4) as usize]).unwrap();
        let level = 1 + rng.below(3) as usize;
        let random_resource = spec.resource(level, rng.below(SynthSpec::level_size(level)));
        let kind = rng.below(4);
        let (subject, resource) = match entry(2 + rng.below(n - 2)).body() {
            Event::Grant {
                subject,
                resource,
                effective_at,
                ..
            } if kind < 2 => {
                let from = effective_at.as_micros().max(first);
                at = from + rng.below((last - from).max(1) as u64) as i64;
                let depth = resource.as_str().split('/').count();
                let mut r = resource.clone();
                for l in depth..=3 {
                    if rng.below(2) == 0 {
                        break;
                    }
                    let seg = ["s", "t", "f"][l - 1];
                    let child = format!("{}/{seg}{:02}", r.as_str(), rng.below(9));
                    r = Resource::new(child).unwrap();
                }
                (subject.clone(), r)
            }
            Event::Join { member, .. } if kind == 2 => (member.clone(), random_resource),
            _ => (spec.subject(rng.below(spec.subjects)), random_resource),
        };
        // A scheduled grant may take effect after the last entry: then `at`
        // is past `last`, and the knowledge time is `at` itself.
        let known_at = at + rng.below((last - at).max(0) as u64 + 1) as i64;
        let (at, known_at) = (Timestamp::from_micros(at), Timestamp::from_micros(known_at));
        out.push(Sample {
            subject,
            resource,
            right,
            at,
            known_at,
        });
    }
    out
}

pub fn percentiles(name: &str, mut d: Vec<Duration>) {
    d.sort();
    let p = |q: f64| d[((d.len() as f64 * q) as usize).min(d.len() - 1)];
    eprintln!(
        "{name}: n={} p50={:?} p90={:?} p99={:?} p99.9={:?} max={:?}",
        d.len(),
        p(0.50),
        p(0.90),
        p(0.99),
        p(0.999),
        d[d.len() - 1]
    );
}
