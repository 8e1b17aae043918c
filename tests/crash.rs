//! Workflow: the process writing the ledger is killed (SIGKILL) at a random
//! moment, hundreds of times, through the CLI (`grant`, `import`, `init`) and
//! through the library (a child process appending batches). After every kill:
//! the ledger opens, the full `verify` passes, every append that was reported
//! done is there at the seq it was reported at, every batch is there whole or
//! not at all, and nothing is there twice.
//!
//! Knobs (environment): `ACCESS_LEDGER_CRASH_ITERATIONS` (rounds per loop),
//! `ACCESS_LEDGER_CRASH_SECONDS` (a time budget per loop instead), and
//! `ACCESS_LEDGER_TEST_SEED` (replay one run). `scripts/crash-loop.sh` runs the
//! long version and sums the `crash-counts` lines each loop prints.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use access_ledger::internal::Rng;
use access_ledger::{Entry, Ledger, SecretKey};

use crate::util::{
    assert_one_line_error, entry_bytes, grant_subject, new_grant, open_verified, Lab, BIN,
    LOCK_WAIT,
};

/// The environment variable that turns this test binary into the library
/// child of [`library_appends_survive_sigkill`].
const CHILD_ENV: &str = "ACCESS_LEDGER_CRASH_CHILD";

/// The name of [`crash_child`] as the test harness knows it, `crash::crash_child`
/// (the module path without the crate's name): the library child runs exactly
/// that test of this binary.
fn crash_child_test_name() -> &'static str {
    let path = concat!(module_path!(), "::crash_child");
    path.split_once("::").map_or(path, |(_crate, test)| test)
}

/// Kill delays: the library's seeded SplitMix64 (`internal::Rng`); every
/// run prints its seed, and `ACCESS_LEDGER_TEST_SEED` replays one.
struct Delays(Rng);

impl Delays {
    fn from_env(label: &str) -> Delays {
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
        Delays(Rng(seed))
    }

    /// A duration uniform in `0..max`.
    fn duration(&mut self, max: Duration) -> Duration {
        Duration::from_micros(self.0.below(max.as_micros().max(1) as u64))
    }
}

/// How many rounds a loop runs: `ACCESS_LEDGER_CRASH_SECONDS` (a time budget
/// per loop) wins, then `ACCESS_LEDGER_CRASH_ITERATIONS`, then `default`.
struct Budget {
    rounds: Option<u64>,
    until: Option<Instant>,
    done: u64,
}

impl Budget {
    fn from_env(default: u64) -> Budget {
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
    fn another(&mut self) -> bool {
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

/// What one kill loop saw. Printed as one `crash-counts` line.
#[derive(Default)]
struct Tally {
    name: &'static str,
    runs: u64,
    /// Runs that SIGKILL ended (the others finished first).
    kills: u64,
    /// Batches reported done (by the CLI's output or the child's ACK line).
    acked: u64,
    /// Batches that were written but never reported (killed in between).
    landed_unacked: u64,
    /// Entries checked present after kills.
    entries_checked: u64,
}

impl Tally {
    fn new(name: &'static str) -> Tally {
        Tally {
            name,
            ..Tally::default()
        }
    }

    fn counts(&self) -> String {
        format!(
            "loop={} runs={} kills={} acked={} landed_unacked={} entries_checked={}",
            self.name, self.runs, self.kills, self.acked, self.landed_unacked, self.entries_checked
        )
    }

    /// Counts a run of [`run_and_kill`] and moves the kill window; a run that
    /// SIGKILL did not end must have succeeded. Returns whether it was killed.
    fn count_run(
        &mut self,
        window: &mut KillWindow,
        status: &ExitStatus,
        round: u64,
        err: &str,
    ) -> bool {
        let killed = was_killed(status);
        self.runs += 1;
        window.after(killed);
        if killed {
            self.kills += 1;
        } else {
            assert!(
                status.success(),
                "{} round {round}: finished with {status}: {err}",
                self.name
            );
        }
        killed
    }

    /// Printed once a loop passed: nothing acknowledged was lost and no
    /// partial batch was seen. scripts/crash-loop.sh sums these lines.
    fn print(&self) {
        println!("crash-counts {} lost=0 partial=0", self.counts());
    }
}

/// Every subject a crash test writes is `agency:<tag>.<k>of<n>`: entry `k` of
/// batch `tag`, which has `n` entries.
fn batch_subject(tag: &str, k: usize, n: usize) -> String {
    format!("agency:{tag}.{k}of{n}")
}

fn parse_batch_subject(s: &str) -> Option<(String, usize, usize)> {
    let name = s.strip_prefix("agency:")?;
    let (tag, kn) = name.rsplit_once('.')?;
    let (k, n) = kn.split_once("of")?;
    Some((tag.to_owned(), k.parse().ok()?, n.parse().ok()?))
}

/// Checks a ledger after a kill. `acked` maps batch tags to the seq of their
/// first entry as reported. Returns the tags present.
fn check_after_kill(
    dir: &Path,
    acked: &BTreeMap<String, u64>,
) -> Result<BTreeMap<String, u64>, String> {
    let entries: Vec<Entry> = open_verified(dir)?;
    // tag -> (first seq, n, ks in order)
    let mut batches: BTreeMap<String, (u64, usize, Vec<usize>)> = BTreeMap::new();
    for e in entries.iter().skip(1) {
        let s = grant_subject(e).ok_or_else(|| format!("seq {}: not a grant", e.seq()))?;
        let (tag, k, n) = parse_batch_subject(s)
            .ok_or_else(|| format!("seq {}: unknown subject {s}", e.seq()))?;
        let b = batches.entry(tag).or_insert((e.seq(), n, Vec::new()));
        let expected_seq = b.0 + b.2.len() as u64;
        if b.1 != n || k != b.2.len() || e.seq() != expected_seq {
            return Err(format!(
                "seq {}: {s} breaks its batch (expected entry {} of {} at seq {expected_seq}): a partial, duplicated or interleaved batch",
                e.seq(),
                b.2.len(),
                b.1
            ));
        }
        b.2.push(k);
    }
    for (tag, (first, n, ks)) in &batches {
        if ks.len() != *n {
            return Err(format!(
                "batch {tag} at seq {first} has {} of its {n} entries: a partial batch",
                ks.len()
            ));
        }
    }
    for (tag, seq) in acked {
        match batches.get(tag) {
            Some((first, _, _)) if first == seq => {}
            Some((first, _, _)) => {
                return Err(format!(
                    "acknowledged batch {tag} was reported at seq {seq} but is at seq {first}"
                ))
            }
            None => {
                return Err(format!(
                    "LOST: acknowledged batch {tag} (seq {seq}) is not in the ledger"
                ))
            }
        }
    }
    Ok(batches.into_iter().map(|(t, (s, _, _))| (t, s)).collect())
}

/// Spawns `cmd`, SIGKILLs it after `delay` unless it finished, and returns
/// its status and output.
fn run_and_kill(mut cmd: Command, delay: Duration) -> (ExitStatus, String, String) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    std::thread::sleep(delay);
    // Sending SIGKILL to a process that already exited (a zombie until we
    // wait) does nothing; its exit status then tells.
    let _ = child.kill();
    let out = child.wait_with_output().expect("wait");
    (
        out.status,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn was_killed(status: &ExitStatus) -> bool {
    status.signal() == Some(9)
}

/// How long an uninterrupted run of `make()` takes (the median of five), so
/// that kill delays drawn from `0..calibrate()` spread over a whole run.
fn calibrate(mut make: impl FnMut() -> Command, mut check: impl FnMut(&str)) -> Duration {
    let mut times = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        let out = make().output().expect("run");
        times.push(start.elapsed());
        assert!(
            out.status.success(),
            "calibration run failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        check(&String::from_utf8_lossy(&out.stdout));
    }
    times.sort();
    times[2]
}

/// Kill delays are drawn from `0..limit`. The limit starts at the time of an
/// uninterrupted run and follows the load: it grows a little after a kill
/// and shrinks after a run that finished first, so that about 70% of the runs
/// are killed (somewhere from start-up to exit) and the rest finish.
struct KillWindow(Duration);

impl KillWindow {
    fn after(&mut self, killed: bool) {
        self.0 = if killed {
            self.0.mul_f64(1.02)
        } else {
            self.0.mul_f64(0.95)
        };
    }
}

/// The kill loop shared by the CLI commands that append a batch: round `i`
/// writes batch `tag_prefix{i}` through `make(i, ledger)`, `ack` reads the
/// first seq from the command's output when it reported success.
fn cli_kill_loop(
    name: &'static str,
    default_rounds: u64,
    rotate_every: u64,
    make: impl Fn(&Lab, &Path, &str) -> Command,
    ack: impl Fn(&str, &str) -> Option<u64>,
) {
    let lab = Lab::new();
    let mut rng = Delays::from_env(name);
    let mut tally = Tally::new(name);
    let mut budget = Budget::from_env(default_rounds);
    let mut ledger = lab.init("ledger-0");
    let mut acked: BTreeMap<String, u64> = BTreeMap::new();
    let mut calib = 0;
    let run_time = calibrate(
        || {
            calib += 1;
            make(&lab, &ledger, &format!("cal{calib}"))
        },
        |_| {},
    );
    // The calibration batches were reported done; hold the ledger to them too.
    for (tag, seq) in check_after_kill(&ledger, &BTreeMap::new()).unwrap() {
        acked.insert(tag, seq);
    }
    let mut window = KillWindow(run_time);
    let mut round = 0u64;
    while budget.another() {
        round += 1;
        if round % rotate_every == 0 {
            ledger = lab.init(&format!("ledger-{round}"));
            acked.clear();
        }
        let tag = format!("r{round}");
        let delay = rng.duration(window.0);
        let (status, out, err) = run_and_kill(make(&lab, &ledger, &tag), delay);
        let killed = tally.count_run(&mut window, &status, round, &err);
        let reported = ack(&out, &tag);
        if let Some(seq) = reported {
            acked.insert(tag.clone(), seq);
            tally.acked += 1;
        } else {
            assert!(
                killed,
                "{name} round {round}: exited 0 without reporting: {out}"
            );
        }
        let present = check_after_kill(&ledger, &acked).unwrap_or_else(|e| {
            panic!(
                "{name} round {round} (killed after {delay:?}, ledger {}): {e}\n({})",
                ledger.display(),
                tally.counts()
            )
        });
        if reported.is_none() && present.contains_key(&tag) {
            tally.landed_unacked += 1;
            acked.insert(tag.clone(), present[&tag]);
        }
        tally.entries_checked += present.len() as u64;
    }
    tally.print();
    assert!(tally.kills > 0 || tally.runs == 0, "no run was ever killed");
}

#[test]
fn cli_grants_survive_sigkill() {
    cli_kill_loop(
        "cli-grant",
        150,
        50,
        |lab, ledger, tag| {
            let mut c = lab.cmd_on(ledger);
            c.args(["--wait", "10", "grant", &batch_subject(tag, 0, 1)])
                .args(["cpd/clear", "--rights", "read", "--key", &lab.admin_key()]);
            c
        },
        |out, tag| {
            let want = format!(": grant {} read on cpd/clear", batch_subject(tag, 0, 1));
            out.lines().find(|l| l.contains(&want)).and_then(|l| {
                l.strip_prefix("appended seq ")?
                    .split(':')
                    .next()?
                    .parse()
                    .ok()
            })
        },
    );
}

const IMPORT_BATCH: usize = 40;

#[test]
fn cli_imports_are_all_or_nothing_under_sigkill() {
    cli_kill_loop(
        "cli-import",
        60,
        15,
        |lab, ledger, tag| {
            let file = lab.path(&format!("{tag}.jsonl"));
            let mut f = std::fs::File::create(&file).unwrap();
            for k in 0..IMPORT_BATCH {
                writeln!(
                    f,
                    r#"{{"type":"grant","subject":"{}","resource":"cpd/clear","rights":["read"],"basis":"crash test","effective_at":"1970-01-01T00:00:00Z"}}"#,
                    batch_subject(tag, k, IMPORT_BATCH)
                )
                .unwrap();
            }
            let mut c = lab.cmd_on(ledger);
            c.args(["--wait", "10", "import"])
                .arg(&file)
                .args(["--key", &lab.admin_key()]);
            c
        },
        |out, _tag| {
            let l = out.lines().find(|l| l.starts_with("imported "))?;
            assert!(
                l.starts_with(&format!("imported {IMPORT_BATCH} entries (seq ")),
                "{l}"
            );
            l.split("(seq ").nth(1)?.split("..").next()?.parse().ok()
        },
    );
}

/// A killed `init` either created a ledger that verifies, or left nothing, or
/// left a directory that every command refuses with one clear line (and that
/// `init` will not silently reuse). An `init` that reported success always
/// left a ledger that verifies.
#[test]
fn cli_init_survives_sigkill() {
    let lab = Lab::new();
    let mut rng = Delays::from_env("cli-init");
    let mut tally = Tally::new("cli-init");
    let mut budget = Budget::from_env(30);
    let init = |dir: &Path| {
        let mut c = lab.cmd_on(dir);
        c.args([
            "init",
            "--origin",
            "example.gov/crash",
            "--time-zone",
            "UTC",
            "--key",
            &lab.admin_key(),
        ]);
        c
    };
    let mut n = 0;
    let run_time = calibrate(
        || {
            n += 1;
            init(&lab.path(&format!("cal-{n}")))
        },
        |out| assert!(out.contains("created ledger"), "{out}"),
    );
    let (mut absent, mut refused) = (0, 0);
    let mut window = KillWindow(run_time);
    let mut messages = std::collections::BTreeSet::new();
    let mut round = 0;
    while budget.another() {
        round += 1;
        let dir = lab.path(&format!("init-{round}"));
        let delay = rng.duration(window.0);
        let (status, out, err) = run_and_kill(init(&dir), delay);
        tally.count_run(&mut window, &status, round, &err);
        let reported = out.contains("created ledger");
        tally.acked += u64::from(reported);
        if !dir.exists() {
            assert!(
                !reported,
                "round {round}: init reported success but left nothing"
            );
            absent += 1;
            continue;
        }
        match open_verified(&dir) {
            Ok(entries) => {
                assert_eq!(
                    entries.len(),
                    1,
                    "round {round}: a new ledger has only its genesis"
                );
                tally.entries_checked += 1;
                tally.landed_unacked += u64::from(!reported);
            }
            Err(e) => {
                assert!(!reported, "round {round}: init reported success, then: {e}");
                // Reported, not panicked on; and init will not paper over it.
                let (code, _, verr) = lab.run_on(&dir, &["verify"]);
                assert!(
                    code == 6 || code == 4,
                    "round {round}: verify exit {code}: {verr}"
                );
                assert_one_line_error(&verr, "");
                messages.insert(
                    verr.lines()
                        .next()
                        .unwrap_or("")
                        .replace(&*dir.display().to_string(), "DIR"),
                );
                let (code, _, ierr) = lab.run_on(
                    &dir,
                    &[
                        "init",
                        "--origin",
                        "example.gov/crash",
                        "--time-zone",
                        "UTC",
                        "--key",
                        &lab.admin_key(),
                    ],
                );
                // Killed before any file was made, a directory may be empty; init then succeeds.
                if code != 0 {
                    assert_eq!(code, 2, "round {round}: re-init exit {code}: {ierr}");
                    assert_one_line_error(&ierr, "exists and is not empty");
                }
                refused += 1;
            }
        }
    }
    tally.print();
    println!("crash-counts-detail loop=cli-init absent={absent} refused_clearly={refused}");
    for m in messages {
        println!("  an interrupted init is reported as: {m}");
    }
}

/// The library child: appends batches of 1 to 5 grants to the ledger in
/// `$ACCESS_LEDGER_CRASH_CHILD` (`dir|key file|generation`) until killed,
/// printing `ACK <tag> <first seq>` after each append returned. Does nothing
/// when that variable is not set (as in a normal test run).
#[test]
fn crash_child() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let mut parts = spec.split('|');
    let (dir, key, generation) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let key = SecretKey::read(Path::new(key)).unwrap();
    let mut ledger = Ledger::open(Path::new(dir), LOCK_WAIT).unwrap();
    let mut stdout = std::io::stdout();
    writeln!(stdout, "READY {}", ledger.len()).unwrap();
    stdout.flush().unwrap();
    let start = Instant::now();
    let mut b = 0usize;
    // Bounded, in case the parent dies without killing us.
    while start.elapsed() < Duration::from_secs(30) {
        let n = 1 + b % 5;
        let tag = format!("l{generation}-{b}");
        let items = (0..n)
            .map(|k| new_grant(&batch_subject(&tag, k, n)))
            .collect();
        let done = ledger.append(&key, items).unwrap();
        writeln!(stdout, "ACK {tag} {}", done[0].seq()).unwrap();
        stdout.flush().unwrap();
        b += 1;
    }
}

#[test]
fn library_appends_survive_sigkill() {
    let lab = Lab::new();
    let mut rng = Delays::from_env("library");
    let mut tally = Tally::new("library");
    let mut budget = Budget::from_env(60);
    let mut ledger = lab.init("ledger-0");
    let mut acked: BTreeMap<String, u64> = BTreeMap::new();
    let me = std::env::current_exe().unwrap();
    let mut generation = 0u64;
    // Children that opened the ledger: proof that the test filter given to
    // each child names `crash_child`, and not no test at all.
    let mut ready = 0u64;
    // Kill anywhere from start-up (sled's recovery) to tens of appends in.
    let max_delay = Duration::from_millis(80);
    while budget.another() {
        generation += 1;
        if generation % 8 == 0 {
            ledger = lab.init(&format!("ledger-{generation}"));
            acked.clear();
        }
        let mut child = Command::new(&me)
            .args([
                crash_child_test_name(),
                "--exact",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env(
                CHILD_ENV,
                format!("{}|{}|{generation}", ledger.display(), lab.admin_key()),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Read the child's output as it comes so it never blocks on a full pipe.
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .collect::<Vec<String>>()
        });
        let delay = rng.duration(max_delay);
        std::thread::sleep(delay);
        let _ = child.kill();
        let status = child.wait().unwrap();
        let lines = reader.join().unwrap();
        tally.runs += 1;
        if was_killed(&status) {
            tally.kills += 1;
        } else {
            let mut err = String::new();
            let _ = std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err);
            panic!("library child {generation} ended by itself with {status}: {err}");
        }
        let mut reported = Vec::new();
        // (libtest may print `test crash::crash_child ... ` before it.)
        ready += u64::from(lines.iter().any(|l| l.contains("READY ")));
        for l in &lines {
            if let Some(rest) = l.strip_prefix("ACK ") {
                let (tag, seq) = rest.split_once(' ').unwrap();
                acked.insert(tag.to_owned(), seq.parse().unwrap());
                reported.push(tag.to_owned());
                tally.acked += 1;
            }
        }
        let present = check_after_kill(&ledger, &acked).unwrap_or_else(|e| {
            panic!(
                "library child {generation} (killed after {delay:?}, {} batches acknowledged, ledger {}): {e}\n({})",
                reported.len(),
                ledger.display(),
                tally.counts()
            )
        });
        for (tag, seq) in &present {
            if tag.starts_with(&format!("l{generation}-")) && !reported.contains(tag) {
                tally.landed_unacked += 1;
                acked.insert(tag.clone(), *seq);
            }
        }
        tally.entries_checked += present.len() as u64;
    }
    tally.print();
    assert!(
        ready > 0 || tally.runs == 0,
        "no library child ever opened the ledger: does `{}` name the child test?",
        crash_child_test_name()
    );
}

/// `checkpoint` killed at random moments: every stored checkpoint still
/// opens with its signer's key and matches the tree, every checkpoint that
/// was printed (acknowledged) is stored, and the entries are untouched. Each
/// round first appends a grant, so each checkpoint is of a new size.
#[test]
fn checkpoints_survive_sigkill() {
    let lab = Lab::new();
    let ledger = lab.init("ledger");
    let (code, _, _) = lab.run_on(&ledger, &["checkpoint", "--help"]);
    if code != 0 {
        eprintln!(
            "SKIPPED checkpoints_survive_sigkill: `access-ledger checkpoint --help` exits {code}"
        );
        return;
    }
    let mut rng = Delays::from_env("cli-checkpoint");
    let mut tally = Tally::new("cli-checkpoint");
    let mut budget = Budget::from_env(60);
    let cmd = || {
        let mut c = lab.cmd_on(&ledger);
        c.args(["--wait", "10", "checkpoint", "--key", &lab.admin_key()]);
        c
    };
    let mut acked: Vec<String> = Vec::new();
    let grow = |round: u64| {
        let mut l = Ledger::open(&ledger, LOCK_WAIT).unwrap();
        l.append(
            &lab.admin,
            vec![new_grant(&batch_subject(&format!("k{round}"), 0, 1))],
        )
        .unwrap();
    };
    let mut window = KillWindow(calibrate(cmd, |out| acked.push(out.to_owned())));
    let mut round = 0;
    while budget.another() {
        round += 1;
        grow(round);
        let before = entry_bytes(&ledger);
        let delay = rng.duration(window.0);
        let (status, out, err) = run_and_kill(cmd(), delay);
        tally.count_run(&mut window, &status, round, &err);
        if access_ledger::Note::parse(&out).is_ok() {
            // The whole note was printed: it was stored first. (A kill can
            // cut the output short; a partial note is no acknowledgement.)
            acked.push(out);
            tally.acked += 1;
        }
        let entries = open_verified(&ledger)
            .unwrap_or_else(|e| panic!("checkpoint round {round} (killed after {delay:?}): {e}"));
        let now: Vec<Vec<u8>> = entries.iter().map(|e| e.bytes().to_vec()).collect();
        assert_eq!(
            now, before,
            "round {round}: a checkpoint changed the entries"
        );
        let l = Ledger::open(&ledger, LOCK_WAIT).unwrap();
        let stored = l.checkpoints().unwrap();
        for note in &stored {
            l.check_checkpoint(note)
                .unwrap_or_else(|e| panic!("round {round}: a stored checkpoint is damaged: {e}"));
        }
        for note in &acked {
            assert!(
                stored.contains(note),
                "round {round}: LOST: an acknowledged checkpoint is not stored:\n{note}"
            );
        }
        tally.landed_unacked = stored.iter().filter(|n| !acked.contains(n)).count() as u64;
        tally.entries_checked += stored.len() as u64;
    }
    tally.print();
}

/// The acknowledgement ("appended seq N") is printed only after the entry is
/// on stable storage: the ledger's data file is fsync'ed (or fdatasync'ed)
/// after the entry's last write and before the line is printed. A
/// `sync_file_range` is not enough: it neither flushes the drive's write
/// cache nor the file's metadata (see docs/THREAT-MODEL.md, "Power loss").
/// Runs the real binary under `strace`; skipped where strace is unavailable.
#[test]
fn an_append_is_fsynced_before_it_is_acknowledged() {
    let lab = Lab::new();
    let ledger = lab.init("ledger");
    let probe = Command::new("strace").arg("-V").output();
    if !probe.map(|o| o.status.success()).unwrap_or(false) {
        eprintln!(
            "SKIPPED an_append_is_fsynced_before_it_is_acknowledged: strace is not installed"
        );
        return;
    }
    // Several appends: sled's background flusher fsyncs every 500 ms, and may
    // by chance do so inside one append's window; it will not in all of them.
    for round in 0..4 {
        let trace = lab.path(&format!("trace-{round}.txt"));
        let out = Command::new("strace")
            .args(["-f", "-qq", "-o"])
            .arg(&trace)
            .args([
                "-e",
                "trace=openat,pwrite64,write,fsync,fdatasync,sync_file_range",
                BIN,
                "--ledger",
            ])
            .arg(&ledger)
            .args([
                "grant",
                &format!("agency:fsync-probe-{round}"),
                "cpd/clear",
                "--rights",
                "read",
            ])
            .args(["--key", &lab.admin_key()])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() && err.contains("ptrace") {
            eprintln!(
                "SKIPPED an_append_is_fsynced_before_it_is_acknowledged: strace cannot trace here: {err}"
            );
            return;
        }
        assert!(out.status.success(), "{err}");
        assert_fsynced_before_ack(&std::fs::read_to_string(&trace).unwrap(), &ledger);
    }
}

/// In an strace log: an fsync or fdatasync of the ledger's data file comes
/// after its last write and before the "appended" line.
fn assert_fsynced_before_ack(text: &str, ledger: &Path) {
    // sled's data file: in the store directory of the ledger.
    let db = format!(
        "\"{}\"",
        ledger.join(access_ledger::STORE_DIR).join("db").display()
    );
    let pid = |l: &str| l.split_whitespace().next().unwrap_or("").to_owned();
    // Every descriptor opened on the data file (fsync on any of them will do);
    // a call strace shows `<unfinished ...>` returns on its `resumed` line.
    let mut db_fds: Vec<String> = Vec::new();
    let mut opening: Vec<String> = Vec::new();
    for l in text.lines() {
        let fd = || l.rsplit_once("= ").map(|(_, fd)| fd.trim().to_owned());
        if l.contains(&db) && l.contains("openat(") {
            if l.contains("<unfinished") {
                opening.push(pid(l));
            } else {
                db_fds.extend(fd());
            }
        } else if l.contains("<... openat resumed>") && opening.contains(&pid(l)) {
            opening.retain(|p| *p != pid(l));
            db_fds.extend(fd());
        }
    }
    assert!(!db_fds.is_empty(), "the data file is never opened");
    let lines: Vec<&str> = text.lines().collect();
    let ack = lines
        .iter()
        .position(|l| l.contains("write(1, \"appended seq"))
        .expect("the acknowledgement is written");
    // `call(FD,` or `call(FD)` or `call(FD <unfinished ...>` on the data file.
    let on_db = |l: &str, call: &str| {
        l.split(&format!(" {call}(")).nth(1).is_some_and(|rest| {
            let fd: String = rest.chars().take_while(char::is_ascii_digit).collect();
            db_fds.contains(&fd)
        })
    };
    let last_write = lines[..ack]
        .iter()
        .rposition(|l| on_db(l, "pwrite64"))
        .expect("the entry is written before it is acknowledged");
    // The sync must have finished before the acknowledgement: a whole call,
    // or the `<... resumed>` line of one that began after the last write.
    let mut started = Vec::new();
    let mut synced = false;
    for l in &lines[last_write..ack] {
        if on_db(l, "fsync") || on_db(l, "fdatasync") {
            if l.contains("<unfinished") {
                started.push(pid(l));
            } else {
                synced = true;
            }
        } else if (l.contains("<... fsync resumed>") || l.contains("<... fdatasync resumed>"))
            && started.contains(&pid(l))
        {
            synced = true;
        }
    }
    assert!(
        synced,
        "the entry was acknowledged without an fsync of the data file after its last write \
         (only {:?}); a power cut can lose an acknowledged revocation",
        lines[last_write..ack]
            .iter()
            .filter(|l| l.contains("sync"))
            .collect::<Vec<_>>()
    );
}

/// sled writes a snapshot of its page table to `snap.<lsn>.generating`, then
/// renames it. A crash or a full disk between creating that file and finishing
/// it leaves a short file behind, and sled 0.34 then takes the short file for
/// the newest snapshot and refuses to open ("Read corrupted data"): every entry
/// of the ledger becomes unreadable though none is damaged (sled issues #1527,
/// #1533). This is the exact on-disk state such a crash leaves: the ledger
/// must still open, verify, and take appends.
#[test]
fn a_snapshot_cut_short_by_a_crash_does_not_make_the_ledger_unreadable() {
    let lab = Lab::new();
    let ledger = lab.init("ledger");
    let before = entry_bytes(&ledger);
    let store = ledger.join(access_ledger::STORE_DIR);
    let newest = std::fs::read_dir(&store)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            u64::from_str_radix(name.strip_prefix("snap.")?, 16).ok()
        })
        .max()
        .expect("sled keeps a snapshot file");
    for (i, cut) in [&b""[..], &b"\x00\x00\x00"[..]].iter().enumerate() {
        let name = format!("snap.{:016X}.generating", newest + 1 + i as u64);
        std::fs::write(store.join(name), cut).unwrap();
        let (code, out, err) = lab.run_on(&ledger, &["verify"]);
        assert_eq!(
            code, 0,
            "a leftover partial snapshot made the ledger unreadable: {err}"
        );
        assert!(
            out.contains(&format!("ok: {} entries verified", before.len())),
            "{out}"
        );
        assert_eq!(entry_bytes(&ledger), before);
    }
    let (code, _, err) = lab.run_on(
        &ledger,
        &[
            "grant",
            "agency:after",
            "cpd/clear",
            "--rights",
            "read",
            "--key",
            &lab.admin_key(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(open_verified(&ledger).unwrap().len(), before.len() + 1);
}
