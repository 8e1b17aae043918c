//! What the benchmarks share: the synthetic ledgers they measure, built once
//! and reused across runs.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Instant;

use access_ledger::internal::{self as synth, SynthSpec};

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

/// The ledger of `n` entries under `base` (or `ACCESS_LEDGER_BENCH_DIR`),
/// built now if no finished one is there.
pub fn ledger(n: u64, base: Option<&Path>) -> PathBuf {
    let base = base.map(Path::to_owned).unwrap_or_else(|| {
        std::env::var_os("ACCESS_LEDGER_BENCH_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| std::env::temp_dir().join("access-ledger-bench"))
    });
    std::fs::create_dir_all(&base).expect("create the bench directory");
    let dir = base.join(format!("synth-{n}"));
    // v3: snapshots by size with their directory, and the acknowledged-head record.
    let done = base.join(format!("synth-{n}.v3.done"));
    if done.exists() {
        eprintln!(
            "reusing {} ({})",
            dir.display(),
            std::fs::read_to_string(&done).unwrap_or_default().trim()
        );
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
