//! Workflow: more than one thing uses a ledger at once.
//!
//! Across processes the store is exclusive, readers included: a second
//! process waits up to `--wait` seconds and then exits 5 with one line saying
//! the ledger is in use; nothing is corrupted and no reader ever sees part of
//! a batch. Within one process the library is shared through a lock
//! (`Arc<RwLock<Ledger>>`): readers see a consistent prefix of the log.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use access_ledger::{Ledger, LedgerError, StoreError};

use crate::util::{
    assert_one_line_error, entry_bytes, grant_subject, new_grant, new_key, open_verified, split,
    Lab, Workspace,
};

/// The library type can be shared between threads.
#[test]
fn a_ledger_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<Ledger>();
    shareable::<Arc<RwLock<Ledger>>>();
}

/// Writes a JSON Lines batch of `n` grants to `agency:<tag>.<k>of<n>`.
fn batch_file(lab: &Lab, tag: &str, n: usize) -> PathBuf {
    let p = lab.path(&format!("{tag}.jsonl"));
    let mut f = std::fs::File::create(&p).unwrap();
    for k in 0..n {
        writeln!(
            f,
            r#"{{"type":"grant","subject":"agency:{tag}.{k}of{n}","resource":"cpd/clear","rights":["read"],"effective_at":"1970-01-01T00:00:00Z"}}"#
        )
        .unwrap();
    }
    p
}

/// Checks that the batches in a list of subjects (in log order) are whole and
/// in order; returns the tags found.
fn whole_batches<'a>(subjects: impl IntoIterator<Item = &'a str>) -> Result<Vec<String>, String> {
    let mut tags = Vec::new();
    let mut open: Option<(String, usize, usize)> = None;
    for s in subjects {
        let name = s.strip_prefix("agency:").ok_or(format!("subject {s}"))?;
        let (tag, kn) = name.rsplit_once('.').ok_or(format!("subject {s}"))?;
        let (k, n) = kn.split_once("of").ok_or(format!("subject {s}"))?;
        let (k, n): (usize, usize) = (k.parse().unwrap(), n.parse().unwrap());
        match &mut open {
            Some((t, next, m)) if t == tag && *next == k && *m == n => *next += 1,
            Some((t, next, m)) => {
                return Err(format!("batch {t} stops at {next} of {m}; then {s}"));
            }
            None if k == 0 => open = Some((tag.to_owned(), 1, n)),
            None => return Err(format!("batch {tag} starts at entry {k}")),
        }
        if let Some((t, next, m)) = &open {
            if next == m {
                tags.push(t.clone());
                open = None;
            }
        }
    }
    match open {
        Some((t, next, m)) => Err(format!("batch {t} has only {next} of {m} entries")),
        None => Ok(tags),
    }
}

#[test]
fn every_command_waits_for_a_held_ledger_then_exits_5() {
    let lab = Lab::new();
    let ledger = lab.init("ledger");
    let key = lab.admin_key();
    let batch = batch_file(&lab, "held", 3).display().to_string();
    let before = entry_bytes(&ledger);
    let commands: Vec<Vec<&str>> = vec![
        vec![
            "grant",
            "agency:w",
            "cpd/clear",
            "--rights",
            "read",
            "--key",
            &key,
        ],
        vec!["revoke", "agency:w", "cpd/clear", "--key", &key],
        vec!["join", "agency:w", "group:g", "--key", &key],
        vec!["import", &batch, "--key", &key],
        vec!["authority", "retire", "nobody", "--key", &key],
        vec!["reindex"],
        vec!["log"],
        vec!["show", "0"],
        vec!["verify"],
        vec!["authority", "list"],
    ];
    let holder = Ledger::open(&ledger, Duration::from_secs(5)).unwrap();
    let wait = 0.3;
    for args in &commands {
        let start = Instant::now();
        let (code, out, err) = lab.run_on(&ledger, &[&["--wait", "0.3"], &args[..]].concat());
        let took = start.elapsed().as_secs_f64();
        assert_eq!(code, 5, "{args:?} while held: exit {code}: {out}{err}");
        assert_one_line_error(&err, "is in use by another process");
        assert!(err.contains(&ledger.display().to_string()), "{err}");
        assert!(
            err.contains(
                "hint: wait for the other access-ledger command to finish, or raise --wait"
            ),
            "{err}"
        );
        assert!(out.is_empty(), "{args:?} printed {out}");
        assert!(
            took >= wait,
            "{args:?} gave up after {took:.2}s, before --wait"
        );
        assert!(
            took < wait + 3.0,
            "{args:?} waited {took:.2}s for --wait {wait}"
        );
    }
    drop(holder);
    assert_eq!(
        entry_bytes(&ledger),
        before,
        "a refused command wrote something"
    );

    // With a long enough --wait, the command runs once the holder lets go.
    let holder = Ledger::open(&ledger, Duration::from_secs(5)).unwrap();
    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(400));
        drop(holder);
    });
    let start = Instant::now();
    let (code, out, err) = lab.run_on(
        &ledger,
        &[
            "--wait",
            "10",
            "grant",
            "agency:patient",
            "cpd/clear",
            "--rights",
            "read",
            "--key",
            &key,
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("appended seq 1: grant agency:patient"),
        "{out}"
    );
    assert!(start.elapsed() >= Duration::from_millis(400));
    release.join().unwrap();
    assert_eq!(open_verified(&ledger).unwrap().len(), 2);
}

/// What a command is, for the mixes below.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Role {
    Grant,
    Import,
    Verify,
    Log,
}

impl Role {
    fn writes(self) -> bool {
        matches!(self, Role::Grant | Role::Import)
    }

    fn spawn(self, lab: &Lab, ledger: &Path, wait: &str, tag: &str) -> Child {
        let mut c = lab.cmd_on(ledger);
        c.args(["--wait", wait]);
        match self {
            Role::Grant => c.args([
                "grant",
                &format!("agency:{tag}.0of1"),
                "cpd/clear",
                "--rights",
                "read",
                "--key",
                &lab.admin_key(),
            ]),
            Role::Import => c
                .arg("import")
                .arg(batch_file(lab, tag, 20))
                .args(["--key", &lab.admin_key()]),
            Role::Verify => c.arg("verify"),
            Role::Log => c.args(["log", "--json"]),
        };
        c.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }
}

/// Checks a reader's output: `log --json` shows whole batches only, and
/// `verify` passes (and, when every batch has `batch` entries, counts a whole
/// number of them after the genesis entry).
fn check_reader_output(role: Role, out: &str, batch: Option<u64>) -> Result<(), String> {
    match role {
        Role::Log => {
            let subjects: Vec<String> = out
                .lines()
                .map(|l| serde_json::from_str::<serde_json::Value>(l).map_err(|e| e.to_string()))
                .collect::<Result<Vec<_>, _>>()?
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    assert_eq!(v["seq"], i as u64, "log shows a gap: {out}");
                    v["subject"].as_str().unwrap_or("").to_owned()
                })
                .skip(1)
                .collect();
            whole_batches(subjects.iter().map(String::as_str)).map(|_| ())
        }
        Role::Verify => {
            let n: u64 = out
                .strip_prefix("ok: ")
                .and_then(|r| r.split(' ').next())
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| format!("verify said {out}"))?;
            match batch {
                Some(b) if (n - 1) % b != 0 => {
                    Err(format!("verify counted {n} entries: part of a batch"))
                }
                _ => Ok(()),
            }
        }
        _ => Ok(()),
    }
}

/// Two processes at once, in every mix of writers and readers, many times:
/// with the default wait both finish; with `--wait 0` each finishes or exits
/// 5, and a writer that exits 5 wrote nothing. Afterwards the ledger verifies
/// and holds exactly the batches that were reported written.
#[test]
fn two_processes_in_every_mix_never_corrupt_the_ledger() {
    let lab = Lab::new();
    let ledger = lab.init("ledger");
    let roles = [Role::Grant, Role::Import, Role::Verify, Role::Log];
    let mut written: Vec<String> = Vec::new();
    let (mut pairs, mut refused, mut waited) = (0, 0, 0);
    let mut round = 0;
    for a in roles {
        for b in roles {
            for wait in ["10", "0"] {
                for _ in 0..3 {
                    round += 1;
                    let tags = [format!("a{round}"), format!("b{round}")];
                    let start = Instant::now();
                    let children = [
                        a.spawn(&lab, &ledger, wait, &tags[0]),
                        b.spawn(&lab, &ledger, wait, &tags[1]),
                    ];
                    // Drain both at once: a reader blocked on a full pipe
                    // keeps the ledger (see the note in THREAT-MODEL.md).
                    let outs: Vec<_> = children
                        .into_iter()
                        .map(|c| std::thread::spawn(move || split(c.wait_with_output().unwrap())))
                        .collect::<Vec<_>>()
                        .into_iter()
                        .map(|h| h.join().unwrap())
                        .collect();
                    pairs += 1;
                    if start.elapsed() > Duration::from_secs(20) {
                        panic!("a pair took {:?}", start.elapsed());
                    }
                    for ((role, tag), (code, out, err)) in [a, b].iter().zip(&tags).zip(&outs) {
                        match code {
                            0 => {
                                if role.writes() {
                                    written.push(tag.clone());
                                }
                                check_reader_output(*role, out, None)
                                    .unwrap_or_else(|e| panic!("{role:?} beside {a:?}/{b:?}: {e}"));
                            }
                            5 => {
                                assert_eq!(
                                    wait,
                                    "0",
                                    "{role:?} beside {a:?}/{b:?} gave up after {:?} despite --wait 10: {err}",
                                    start.elapsed()
                                );
                                assert_one_line_error(err, "is in use by another process");
                                refused += 1;
                            }
                            c => panic!(
                                "{role:?} beside {a:?}/{b:?} (--wait {wait}): exit {c}: {err}"
                            ),
                        }
                    }
                    if wait == "10" {
                        waited += 1;
                    }
                }
            }
        }
    }
    let entries = open_verified(&ledger).unwrap();
    let tags = whole_batches(entries.iter().skip(1).filter_map(grant_subject))
        .unwrap_or_else(|e| panic!("after {pairs} pairs: {e}"));
    let mut expected = written.clone();
    expected.sort();
    let mut found = tags.clone();
    found.sort();
    assert_eq!(
        found, expected,
        "the ledger holds other batches than were reported written"
    );
    println!(
        "concurrency: {pairs} pairs of processes, {refused} clean `in use` refusals, {} batches written, {} entries, none lost or partial ({waited} pairs ran with --wait 10)",
        written.len(),
        entries.len()
    );
}

/// A writer imports batch after batch while readers run `log --json` and
/// `verify` over and over: every reader output shows whole batches only.
#[test]
fn readers_in_other_processes_never_see_a_partial_batch() {
    let lab = Arc::new(Lab::new());
    let ledger = lab.init("ledger");
    let done = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicU64::new(0));
    let readers: Vec<_> = [Role::Log, Role::Verify, Role::Log]
        .into_iter()
        .map(|role| {
            let (lab, ledger, done, reads) =
                (lab.clone(), ledger.clone(), done.clone(), reads.clone());
            std::thread::spawn(move || {
                while !done.load(Ordering::SeqCst) {
                    let (code, out, err) = split(
                        role.spawn(&lab, &ledger, "10", "unused")
                            .wait_with_output()
                            .unwrap(),
                    );
                    assert_eq!(code, 0, "{role:?}: {err}");
                    check_reader_output(role, &out, Some(20))
                        .unwrap_or_else(|e| panic!("{role:?}: {e}"));
                    reads.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    // Keep writing until the readers have had plenty of turns in between.
    let mut batches = 0;
    while batches < 15 || (reads.load(Ordering::SeqCst) < 60 && batches < 300) {
        let (code, _, err) = split(
            Role::Import
                .spawn(&lab, &ledger, "10", &format!("w{batches}"))
                .wait_with_output()
                .unwrap(),
        );
        assert_eq!(code, 0, "{err}");
        batches += 1;
    }
    done.store(true, Ordering::SeqCst);
    for r in readers {
        r.join().unwrap();
    }
    let entries = open_verified(&ledger).unwrap();
    assert_eq!(entries.len(), 1 + batches * 20);
    println!(
        "concurrency: {} reads beside {batches} imports of 20, none saw a partial batch",
        reads.load(Ordering::SeqCst)
    );
}

/// In one process: a writer thread appends batches through an
/// `Arc<RwLock<Ledger>>` while reader threads read and verify. Every read sees
/// a prefix of the log that links up and holds whole batches only.
#[test]
fn in_one_process_readers_and_a_writer_share_a_ledger_safely() {
    let lab = Lab::new();
    let dir = lab.init("ledger");
    let shared = Arc::new(RwLock::new(
        Ledger::open(&dir, Duration::from_secs(5)).unwrap(),
    ));
    let done = Arc::new(AtomicBool::new(false));
    let (reads, verifies) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let readers: Vec<_> = (0..3)
        .map(|r| {
            let (shared, done, reads, verifies) = (
                shared.clone(),
                done.clone(),
                reads.clone(),
                verifies.clone(),
            );
            std::thread::spawn(move || {
                let mut i = 0u64;
                let mut last_len = 0;
                while !done.load(Ordering::SeqCst) {
                    i += 1;
                    let ledger = shared.read().unwrap();
                    let len = ledger.len();
                    assert!(len >= last_len, "the log shrank from {last_len} to {len}");
                    last_len = len;
                    assert_eq!(
                        access_ledger::internal::tamper(&ledger)
                            .stored_entries()
                            .unwrap(),
                        len,
                        "store and state disagree"
                    );
                    let mut prev = access_ledger::EntryHash::ZERO;
                    let mut subjects = Vec::new();
                    for seq in 0..len {
                        let e = ledger.entry(seq).unwrap().expect("an entry below len");
                        assert_eq!(e.prev_hash(), &prev, "seq {seq} does not link");
                        prev = *e.hash();
                        if let Some(s) = grant_subject(&e) {
                            subjects.push(s.to_owned());
                        }
                    }
                    assert_eq!(&prev, ledger.state().head_hash());
                    whole_batches(subjects.iter().map(String::as_str))
                        .unwrap_or_else(|e| panic!("reader {r}: {e}"));
                    if i % 8 == 0 {
                        let report = ledger.verify(|_, _| {}).unwrap();
                        assert_eq!(report.entries, len);
                        verifies.fetch_add(1, Ordering::SeqCst);
                    }
                    reads.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    let mut total = 1;
    for b in 0..120 {
        let n = 1 + b % 5;
        let items = (0..n)
            .map(|k| new_grant(&format!("agency:t{b}.{k}of{n}")))
            .collect();
        shared.write().unwrap().append(&lab.admin, items).unwrap();
        total += n as u64;
        // Let readers in between appends.
        std::thread::yield_now();
    }
    done.store(true, Ordering::SeqCst);
    for r in readers {
        r.join().unwrap();
    }
    assert_eq!(shared.read().unwrap().len(), total);
    drop(shared);
    assert_eq!(open_verified(&dir).unwrap().len() as u64, total);
    println!(
        "concurrency: {} in-process reads and {} verifies beside 120 appends",
        reads.load(Ordering::SeqCst),
        verifies.load(Ordering::SeqCst)
    );
}

/// A second `Ledger::open` of the same directory in the same process is
/// refused like another process's, never a second handle on the same files.
#[test]
fn a_second_open_in_the_same_process_is_refused() {
    let lab = Lab::new();
    let dir = lab.init("ledger");
    let mut first = Ledger::open(&dir, Duration::from_secs(5)).unwrap();
    let start = Instant::now();
    match Ledger::open(&dir, Duration::from_millis(200)) {
        Err(LedgerError::Store(StoreError::InUse(p))) => assert_eq!(p, dir),
        Err(e) => panic!("expected `in use`, got {e}"),
        Ok(_) => panic!("the same ledger was opened twice in one process"),
    }
    assert!(start.elapsed() >= Duration::from_millis(200));
    first
        .append(&lab.admin, vec![new_grant("agency:one.0of1")])
        .unwrap();
    drop(first);
    let second = Ledger::open(&dir, Duration::from_secs(5)).unwrap();
    assert_eq!(second.len(), 2);
}

/// Two `init`s of the same new directory at the same moment: exactly one
/// succeeds, the other fails with one clear line, and the ledger is the
/// winner's.
#[test]
fn racing_inits_of_one_directory_make_one_ledger() {
    let lab = Lab::new();
    let other = lab.path("other.key");
    let other_key = new_key("other");
    other_key.write_new(&other).unwrap();
    let keys = [lab.key_file.clone(), other.clone()];
    let publics = [lab.admin.public(), other_key.public()];
    let mut outcomes: BTreeMap<i32, u32> = BTreeMap::new();
    for round in 0..20 {
        let dir = lab.path(&format!("race-{round}"));
        let children: Vec<Child> = keys
            .iter()
            .map(|k| {
                lab.cmd_on(&dir)
                    .args([
                        "init",
                        "--origin",
                        "example.gov/race",
                        "--time-zone",
                        "UTC",
                        "--key",
                    ])
                    .arg(k)
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let outs: Vec<_> = children
            .into_iter()
            .map(|c| split(c.wait_with_output().unwrap()))
            .collect();
        let winners: Vec<usize> = (0..2).filter(|&i| outs[i].0 == 0).collect();
        assert_eq!(winners.len(), 1, "round {round}: {outs:?}");
        let loser = &outs[1 - winners[0]];
        *outcomes.entry(loser.0).or_default() += 1;
        match loser.0 {
            2 => assert_one_line_error(&loser.2, "exists and is not empty"),
            5 => assert_one_line_error(&loser.2, "is in use by another process"),
            c => panic!("round {round}: the losing init exited {c}: {}", loser.2),
        }
        let entries = open_verified(&dir).unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(
            entries[0].signer(),
            &publics[winners[0]],
            "round {round}: the winner's genesis was replaced"
        );
    }
    println!("concurrency: 20 racing init pairs, losers exited {outcomes:?}");
}

/// The same refusal with the ledger held by a library handle, through the
/// command line: a writer and a reader exit 5 in one line, and nothing is
/// written.
#[test]
fn a_second_process_is_refused_cleanly_while_the_ledger_is_in_use() {
    let w = Workspace::with_one_grant();
    let before = w.log_json();
    let held = Ledger::open(&w.ledger(), Duration::from_secs(1)).unwrap();
    let err = w.fails(
        5,
        &[
            "--wait",
            "0.2",
            "grant",
            "agency:dea",
            "cpd",
            "--rights",
            "read",
            "--key",
            &w.key("admin"),
        ],
    );
    assert!(err.contains("is in use by another process"), "{err}");
    let err = w.fails(5, &["--wait", "0.2", "log"]);
    assert!(err.contains("in use"), "{err}");
    drop(held);
    assert_eq!(w.log_json(), before);
    w.ok(&["verify"]);
}
