//! Audit throughput (issue 13): a generated access log replayed against a
//! synthetic ledger (see `access_ledger::synth`), beside the time to merely
//! read the same file.
//!
//! With `--bench` (`cargo bench --bench audit`) it audits a 10,000,000-row
//! log against the 1,000,000-entry ledger under `ACCESS_LEDGER_BENCH_DIR`
//! (default `$TMPDIR/access-ledger-bench`), building or reusing both there;
//! `ACCESS_LEDGER_BENCH_SIZES` (ledger entries) and
//! `ACCESS_LEDGER_AUDIT_ROWS` change the sizes. Without `--bench`
//! (`cargo test --all-targets` runs it so) it is a smoke test: a 3,000-entry
//! ledger and 5,000 rows in a temporary directory.
//!
//! It prints, for the same file: rows/s to read, map and parse every row
//! (no ledger), rows/s to audit it, the outcome counts, and the process's
//! peak RSS (VmHWM). Run it under `/usr/bin/time -v` to see the peak RSS as
//! the kernel counts it too:
//!
//! ```text
//! ACCESS_LEDGER_BENCH_DIR=/work/bench /usr/bin/time -v cargo bench --bench audit
//! ```

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use access_ledger::internal::{Rng, SynthSpec};
use access_ledger::{audit, AccessLog, AuditOptions, AuditSink, Event, Ledger, LogFormat, Mapping};

mod common;
use common::ledger;

/// Every name in the generated log is the ledger's own identifier.
const MAPPING: &str = r#"
[log]
time_format = "rfc3339"
[log.columns]
time = "time"
account = "account"
object = "object"
action = "action"
on_behalf_of = "on_behalf_of"
[[accounts]]
name = "*"
subject = "{name}"
[[agencies]]
name = "*"
subject = "{name}"
[[objects]]
name = "*"
resource = "{name}"
[[actions]]
name = "*"
right = "{name}"
"#;

/// Generates the access log: rows in time order between the ledger's first
/// and last entries; three in four by the subject of one of the ledger's
/// grants in effect and recorded by then (on the grant's resource, with one
/// of its rights), the rest by a random subject on a random resource; one row in
/// twenty acting for a random agency.
fn generate(ledger: &Ledger, n: u64, rows: u64, path: &Path) {
    let spec = SynthSpec::with_events(n);
    let mut rng = Rng(13);
    let entry = |seq: u64| ledger.entry(seq).unwrap().unwrap();
    let first = entry(0).recorded_at().as_micros();
    let last = entry(n - 1).recorded_at().as_micros();
    // A pool of (in effect from, subject, resource, right) drawn from the
    // ledger's grants, in that order, so that a row can pick one
    // already in effect at its time.
    let mut pool = Vec::new();
    while pool.len() < 50_000.min(n as usize) {
        let e = entry(2 + rng.below(n - 2));
        let known = e.recorded_at().as_micros();
        if let Event::Grant {
            subject,
            resource,
            rights,
            effective_at,
            ..
        } = e.body()
        {
            pool.push((
                effective_at.as_micros().max(known),
                subject.clone(),
                resource.clone(),
                rights
                    .iter()
                    .find(|r| !r.is_wildcard())
                    .map(|r| r.to_string()),
            ));
        }
    }
    pool.sort_by_key(|p| p.0);
    let rights = ["read", "export", "write", "audit"];
    let tmp = path.with_extension("partial");
    let mut out = BufWriter::with_capacity(1 << 20, File::create(&tmp).unwrap());
    writeln!(out, "time,account,object,action,on_behalf_of").unwrap();
    let step = ((last - first) / rows as i64).max(1);
    for i in 0..rows {
        let at = first + step * i as i64 + rng.below(step as u64) as i64;
        let random_resource = |rng: &mut Rng| {
            let level = 1 + rng.below(3) as usize;
            spec.resource(level, rng.below(SynthSpec::level_size(level)))
        };
        let in_effect = pool.partition_point(|p| p.0 <= at) as u64;
        let mut right = rights[rng.below(4) as usize].to_owned();
        let (subject, resource) = match rng.below(4) {
            0..=2 if in_effect > 0 => {
                let (_, s, r, x) = pool[rng.below(in_effect) as usize].clone();
                if let Some(x) = x {
                    right = x;
                }
                (s, r)
            }
            _ => {
                let s = spec.subject(rng.below(spec.subjects));
                (s, random_resource(&mut rng))
            }
        };
        let acting = if rng.below(20) == 0 {
            spec.subject(spec.groups + rng.below(spec.subjects / 10))
                .to_string()
        } else {
            String::new()
        };
        writeln!(
            out,
            "{},{},{},{},{}",
            access_ledger::Timestamp::from_micros(at),
            subject,
            resource,
            right,
            acting
        )
        .unwrap();
        if i % 1_000_000 == 999_999 {
            eprintln!("  generated {} rows", i + 1);
        }
    }
    out.flush().unwrap();
    drop(out);
    std::fs::rename(tmp, path).unwrap();
}

/// Counts rows and reports progress on long runs.
struct Count {
    rows: u64,
    started: Instant,
    last: Instant,
}

impl AuditSink for Count {
    fn finding(&mut self, _: &access_ledger::Finding) -> Result<(), String> {
        self.rows += 1;
        Ok(())
    }
    fn progress(&mut self, rows: u64, _bytes: u64) {
        if self.last.elapsed() > Duration::from_secs(30) {
            self.last = Instant::now();
            let secs = self.started.elapsed().as_secs_f64();
            eprintln!(
                "  audited {rows} rows in {secs:.0} s ({:.0} rows/s)",
                rows as f64 / secs
            );
        }
    }
}

fn bench(n: u64, rows: u64, base: Option<&Path>) {
    let dir = ledger(n, base);
    let ledger = Ledger::open(&dir, Duration::from_secs(5)).expect("open the synthetic ledger");
    let log: PathBuf = dir.with_file_name(format!("audit-log-{n}-{rows}.csv"));
    if !log.exists() {
        eprintln!("generating {} ({rows} rows)...", log.display());
        let t = Instant::now();
        generate(&ledger, n, rows, &log);
        eprintln!("  in {:.0} s", t.elapsed().as_secs_f64());
    }
    let size = std::fs::metadata(&log).unwrap().len();
    let mapping = Mapping::from_toml(MAPPING).unwrap();
    let utc = jiff::tz::TimeZone::UTC;

    // Read, map and parse every row, without asking the ledger.
    let t = Instant::now();
    let mut reader =
        AccessLog::new(File::open(&log).unwrap(), LogFormat::Csv, mapping.columns()).unwrap();
    let mut parsed = 0u64;
    while let Some(row) = reader.next_row().unwrap() {
        let row = row.unwrap();
        mapping.time(&row.time, &utc).unwrap();
        mapping.account(&row.account, None).unwrap();
        mapping.object(&row.object).unwrap();
        mapping.action(&row.action).unwrap();
        parsed += 1;
    }
    let parse = t.elapsed().as_secs_f64();
    assert_eq!(parsed, rows);

    // The audit of the same file.
    let t = Instant::now();
    let reader =
        AccessLog::new(File::open(&log).unwrap(), LogFormat::Csv, mapping.columns()).unwrap();
    let mut sink = Count {
        rows: 0,
        started: t,
        last: t,
    };
    let report = audit(
        &ledger,
        reader,
        &mapping,
        &AuditOptions::default(),
        &mut sink,
    )
    .expect("the audit runs");
    let secs = t.elapsed().as_secs_f64();
    assert_eq!((report.rows, sink.rows), (rows, rows));
    let o = &report.outcomes;
    eprintln!(
        "audit/{n} entries, {rows} rows ({:.0} MiB): parse only {parse:.1} s ({:.0} rows/s); audit {secs:.1} s ({:.0} rows/s)",
        size as f64 / (1024.0 * 1024.0),
        rows as f64 / parse,
        rows as f64 / secs
    );
    eprintln!(
        "  outcomes: {} authorised, {} unauthorised, {} side door, {} violations of bans; reasons {:?}",
        o.authorised,
        o.unauthorised,
        o.side_door,
        report.violations.iter().map(|v| v.rows + v.side_door_rows).sum::<u64>(),
        report.reasons
    );
    let mib = common::status_mib("VmHWM:");
    if mib.is_finite() {
        eprintln!("  peak RSS (VmHWM) {mib:.0} MiB");
    }
}

fn main() {
    // `cargo test --all-targets` runs benches once as a smoke test, without
    // `--bench`: small sizes in a temporary directory there.
    let benching = std::env::args().any(|a| a == "--bench");
    let env = |k: &str| std::env::var(k).ok();
    let n: u64 = env("ACCESS_LEDGER_BENCH_SIZES")
        .and_then(|s| s.split(',').next_back()?.trim().parse().ok())
        .filter(|_| benching)
        .unwrap_or(if benching { 1_000_000 } else { 3_000 });
    let rows: u64 = env("ACCESS_LEDGER_AUDIT_ROWS")
        .and_then(|s| s.parse().ok())
        .filter(|_| benching)
        .unwrap_or(if benching { 10_000_000 } else { 5_000 });
    let scratch = (!benching).then(|| tempfile::tempdir().expect("a temporary directory"));
    bench(n, rows, scratch.as_ref().map(|d| d.path()));
}
