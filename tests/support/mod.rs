//! Shared helpers for the robustness tests (crash, concurrency, hostile
//! input, full disk, key hygiene): a temporary lab with a ledger and a key,
//! the real binary, a seeded random source, and read-back of a ledger through
//! the library.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use access_ledger::{
    AuthorityName, Entry, Event, Ledger, NewEntry, Origin, Resource, Rights, SecretKey, Subject,
    Text, Timestamp, Zone,
};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_access-ledger");

/// How long any test waits for a ledger lock before calling it a failure.
pub const LOCK_WAIT: Duration = Duration::from_secs(10);

/// A temporary directory holding an admin key file and any number of ledgers.
pub struct Lab {
    pub dir: tempfile::TempDir,
    pub admin: SecretKey,
    pub key_file: PathBuf,
}

impl Lab {
    /// A lab with a fresh admin key (file mode 0600) and no ledger yet.
    pub fn new() -> Lab {
        Self::in_dir(tempfile::tempdir().expect("temporary directory"))
    }

    /// A lab in the given directory.
    pub fn in_dir(dir: tempfile::TempDir) -> Lab {
        let admin = SecretKey::generate(AuthorityName::new("admin").unwrap());
        let key_file = dir.path().join("admin.key");
        admin.write_new(&key_file).expect("write key");
        Lab {
            dir,
            admin,
            key_file,
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Creates ledger `name` through the library (UTC, genesis now).
    pub fn init(&self, name: &str) -> PathBuf {
        let p = self.path(name);
        Ledger::init(
            &p,
            Origin::new("example.gov/robustness").unwrap(),
            &Zone::utc(),
            &self.admin,
            None,
        )
        .expect("init");
        p
    }

    /// The binary with `--ledger dir`, run in the lab directory.
    pub fn cmd(&self, ledger: &Path) -> Command {
        let mut c = Command::new(BIN);
        c.current_dir(self.dir.path())
            .env_remove("ACCESS_LEDGER_DIR")
            .arg("--ledger")
            .arg(ledger);
        c
    }

    /// Runs the binary on `ledger` with `args`; returns (exit code, stdout, stderr).
    pub fn run(&self, ledger: &Path, args: &[&str]) -> (i32, String, String) {
        split(self.cmd(ledger).args(args).output().expect("run binary"))
    }

    pub fn key(&self) -> String {
        self.key_file.display().to_string()
    }
}

/// (exit code, stdout, stderr); -1 for a signal.
pub fn split(out: Output) -> (i32, String, String) {
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Asserts that `stderr` is one `error:` line naming `needle`, optionally
/// followed by one `hint:` line, and no panic.
pub fn assert_one_line_error(stderr: &str, needle: &str) {
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(
        !lines.is_empty() && lines[0].starts_with("error: "),
        "expected an `error:` line, got {stderr:?}"
    );
    assert!(
        lines.len() == 1 || (lines.len() == 2 && lines[1].starts_with("hint: ")),
        "expected one error line and at most one hint, got {stderr:?}"
    );
    assert!(stderr.contains(needle), "{needle:?} not in {stderr:?}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// A grant of `read` on `cpd/clear` to `subject`, effective at the epoch
/// (so it is valid whatever the clock says).
pub fn grant(subject: &str) -> Event {
    Event::Grant {
        subject: Subject::new(subject).unwrap(),
        resource: Resource::new("cpd/clear").unwrap(),
        rights: Rights::parse_list("read").unwrap(),
        basis: Text::new("basis", "robustness test").unwrap(),
        effective_at: Timestamp::from_micros(0),
        until: None,
    }
}

/// `grant(subject)` ready to append.
pub fn new_grant(subject: &str) -> NewEntry {
    NewEntry {
        event: grant(subject),
        recorded_at: None,
    }
}

/// The subject of a grant entry.
pub fn grant_subject(e: &Entry) -> Option<&str> {
    match e.body() {
        Event::Grant { subject, .. } => Some(subject.as_str()),
        _ => None,
    }
}

/// Opens the ledger, runs the full `verify`, and returns every entry, or a
/// description of what failed.
pub fn open_verified(dir: &Path) -> Result<Vec<Entry>, String> {
    let ledger = Ledger::open(dir, LOCK_WAIT).map_err(|e| format!("open: {e}"))?;
    let report = ledger
        .verify(|_, _| {})
        .map_err(|e| format!("verify: {e}"))?;
    let mut out = Vec::with_capacity(report.entries as usize);
    for seq in 0..ledger.len() {
        match ledger.entry(seq) {
            Ok(Some(e)) => out.push(e),
            Ok(None) => return Err(format!("entry {seq} missing below len {}", ledger.len())),
            Err(e) => return Err(format!("entry {seq}: {e}")),
        }
    }
    if out.len() as u64 != report.entries {
        return Err(format!(
            "verify saw {} entries, read back {}",
            report.entries,
            out.len()
        ));
    }
    Ok(out)
}

/// The exact bytes of every entry (for "nothing was written" comparisons).
pub fn entry_bytes(dir: &Path) -> Vec<Vec<u8>> {
    open_verified(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .iter()
        .map(|e| e.bytes().to_vec())
        .collect()
}

/// A small, seeded random source (splitmix64): every run prints its seed, and
/// `ACCESS_LEDGER_TEST_SEED` replays one.
pub struct Rng(u64);

impl Rng {
    pub fn from_env(label: &str) -> Rng {
        let seed = std::env::var("ACCESS_LEDGER_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(1)
            });
        eprintln!("{label}: seed {seed} (replay with ACCESS_LEDGER_TEST_SEED={seed})");
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// A duration uniform in `0..max`.
    pub fn duration(&mut self, max: Duration) -> Duration {
        Duration::from_micros(self.below(max.as_micros().max(1) as u64))
    }
}

/// How many rounds a loop runs: `ACCESS_LEDGER_CRASH_SECONDS` (a time budget
/// per loop) wins, then `ACCESS_LEDGER_CRASH_ITERATIONS`, then `default`.
pub struct Budget {
    rounds: Option<u64>,
    until: Option<Instant>,
    done: u64,
}

impl Budget {
    pub fn from_env(default: u64) -> Budget {
        let secs = std::env::var("ACCESS_LEDGER_CRASH_SECONDS")
            .ok()
            .and_then(|s| s.parse::<f64>().ok());
        let iters = std::env::var("ACCESS_LEDGER_CRASH_ITERATIONS")
            .ok()
            .and_then(|s| s.parse::<u64>().ok());
        match (secs, iters) {
            (Some(s), _) => Budget {
                rounds: None,
                until: Some(Instant::now() + Duration::from_secs_f64(s)),
                done: 0,
            },
            (None, n) => Budget {
                rounds: Some(n.unwrap_or(default)),
                until: None,
                done: 0,
            },
        }
    }

    /// Whether another round is due; counts it.
    pub fn another(&mut self) -> bool {
        let more = match (self.rounds, self.until) {
            (Some(n), _) => self.done < n,
            (None, Some(t)) => Instant::now() < t,
            (None, None) => false,
        };
        if more {
            self.done += 1;
        }
        more
    }
}

/// Mode bits of a file.
#[cfg(unix)]
pub fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[cfg(unix)]
pub fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}
