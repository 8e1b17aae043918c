//! The city-council export and its offline check on the synthetic ledger
//! (docs/PERFORMANCE.md, "Council export").
//!
//! Each step is minutes of work at 1,000,000 entries, so each runs once and
//! is timed with a wall clock: `backup` of the ledger (the original is never
//! written to), `export` of a period from the copy, and `verify-export` of the
//! bundle. Without `--bench` (as `cargo test --benches` runs it) a
//! 2,000-entry ledger is used as a smoke test. `ACCESS_LEDGER_EXPORT_N` sets
//! the size under `cargo bench` (default 1,000,000; the ledger is built once
//! in `$ACCESS_LEDGER_BENCH_DIR`). Peak memory per command is measured with
//! the release binary by `scripts/measure-export.sh`, which also calls this
//! program with `--write-key FILE` to get the synthetic ledger's
//! checkpoint-role key.

use std::time::{Duration, Instant};

use access_ledger::internal::SynthSpec;
use access_ledger::{export, verify_export, ExportOptions, Ledger, VerifierKey};

mod common;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--write-key") {
        let path = std::path::Path::new(&args[i + 1]);
        let (admin, _) = SynthSpec::with_events(1).keys();
        admin.write_new(path).expect("write the key file");
        println!("{}", VerifierKey::of(&admin));
        return;
    }
    let bench = args.iter().any(|a| a == "--bench");
    let smoke = tempfile::tempdir().unwrap();
    let n: u64 = if bench {
        std::env::var("ACCESS_LEDGER_EXPORT_N")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(1_000_000)
    } else {
        2_000
    };
    let dir = common::ledger(n, (!bench).then(|| smoke.path()));
    let work = tempfile::tempdir_in(dir.parent().unwrap()).unwrap();
    let (key, _) = SynthSpec::with_events(n).keys();

    let start = Instant::now();
    let original = Ledger::open(&dir, Duration::from_secs(5)).unwrap();
    let copy = work.path().join("ledger");
    // Takes the ledger: it is closed once copied.
    original.backup(&copy).unwrap();
    let backup = start.elapsed();

    // The period: from the middle of the log, by recorded_at, the time
    // `ACCESS_LEDGER_EXPORT_SPAN` entries (default 1%) took to record. A
    // tenth of the log makes `changes` (not the export) the whole cost: see
    // docs/PERFORMANCE.md, "Council export".
    let span: u64 = std::env::var("ACCESS_LEDGER_EXPORT_SPAN")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(n / 100);
    let ledger = Ledger::open(&copy, Duration::from_secs(5)).unwrap();
    let at = |seq: u64| ledger.entry(seq).unwrap().unwrap().recorded_at();
    let (from, to) = (at(n / 2), at(n / 2 + span));
    let opts = ExportOptions {
        from,
        to,
        since: None,
        attested: vec![],
    };
    let out = work.path().join("bundle");
    let start = Instant::now();
    let report = export(ledger, &key, &opts, &out, &mut |_, _, _| {}).unwrap();
    let exported = start.elapsed();
    let vkey = VerifierKey::parse(&report.ledger_key).unwrap();
    let start = Instant::now();
    let v = verify_export(&out, &vkey, None, &mut |_, _, _| {}).unwrap();
    let verified = start.elapsed();
    assert_eq!(v.entries, report.entries);
    let bytes = common::dir_size(&out);
    println!(
        "council export of {n} entries, period {} to {} ({} changes): backup {:.1} s, export {:.1} s (includes its own verification), verify-export {:.1} s; bundle {:.0} MiB",
        from.rfc3339(),
        to.rfc3339(),
        v.changes,
        backup.as_secs_f64(),
        exported.as_secs_f64(),
        verified.as_secs_f64(),
        bytes as f64 / (1024.0 * 1024.0)
    );
}
