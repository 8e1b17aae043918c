//! access-ledger beside what a city IT department would otherwise build
//! (issue 14): an append-only SQLite audit table with valid-time and
//! recorded-time columns (`scripts/sqlite/schema.sql`), asked `check` by one
//! SQL statement with a recursive CTE (`scripts/sqlite/check.sql`).
//!
//! For each size in `ACCESS_LEDGER_BENCH_SIZES` (default `100000,1000000`;
//! 3,000 when run without `--bench`, as `cargo test --all-targets` does) it
//! takes the synthetic ledger's events (`common::ledger`, under
//! `ACCESS_LEDGER_BENCH_DIR`) and:
//! - imports them into a new ledger, 10,000 per `append` (what `import` does
//!   with a file of 10,000 lines: every entry signed, checked, indexed, one
//!   durable commit), timing each 100,000, and into the SQLite table, 10,000
//!   rows per transaction (`synchronous = FULL`);
//! - asks both the same questions (`common::samples`), compares every answer
//!   (allowed or denied) and fails on any disagreement;
//! - prints, side by side: disk after a clean close (beside the raw signed
//!   entry bytes), import rate (first and last 100,000), and in-process check
//!   latency percentiles.
//!
//! It leaves `questions-N.jsonl` (for `check --batch`) and the SQLite
//! database beside the ledger, for `scripts/bench.sh` to time the two CLIs.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use access_ledger::internal::SynthSpec;
use access_ledger::{Event, Ledger, NewEntry, Rights, Timestamp};
use rusqlite::{params, Connection};

mod common;

const BATCH: usize = 10_000;
const SCHEMA: &str = include_str!("../scripts/sqlite/schema.sql");
const CHECK: &str = include_str!("../scripts/sqlite/check.sql");

/// One row of the SQLite table.
struct Row {
    seq: u64,
    recorded_at: i64,
    kind: &'static str,
    subject: Option<String>,
    resource: Option<String>,
    grp: Option<String>,
    rights: Option<String>,
    effective_at: Option<i64>,
    until: Option<i64>,
}

fn rights_text(r: &Rights) -> String {
    if r.is_all() {
        "*".into()
    } else {
        let names: Vec<&str> = r.iter().map(|x| x.as_str()).collect();
        format!(",{},", names.join(","))
    }
}

fn row(seq: u64, recorded_at: Timestamp, e: &Event) -> Row {
    let mut r = Row {
        seq,
        recorded_at: recorded_at.as_micros(),
        kind: "authority",
        subject: None,
        resource: None,
        grp: None,
        rights: None,
        effective_at: None,
        until: None,
    };
    let us = |t: &Timestamp| Some(t.as_micros());
    match e {
        Event::Grant {
            subject,
            resource,
            rights,
            effective_at,
            until,
            ..
        } => {
            r.kind = "grant";
            r.subject = Some(subject.to_string());
            r.resource = Some(resource.to_string());
            r.rights = Some(rights_text(rights));
            r.effective_at = us(effective_at);
            r.until = until.as_ref().and_then(us);
        }
        Event::Revoke {
            subject,
            resource,
            rights,
            effective_at,
            permanent,
            ..
        } => {
            r.kind = if *permanent { "ban" } else { "revoke" };
            r.subject = Some(subject.to_string());
            r.resource = Some(resource.to_string());
            r.rights = rights.as_ref().map(rights_text);
            r.effective_at = us(effective_at);
        }
        Event::Join {
            member,
            group,
            effective_at,
        }
        | Event::Leave {
            member,
            group,
            effective_at,
        } => {
            r.kind = if matches!(e, Event::Join { .. }) {
                "join"
            } else {
                "leave"
            };
            r.subject = Some(member.to_string());
            r.grp = Some(group.to_string());
            r.effective_at = us(effective_at);
        }
        Event::Share {
            from,
            to,
            resource,
            rights,
            effective_at,
            until,
            ..
        } => {
            r.kind = "share";
            r.subject = Some(to.to_string());
            r.grp = Some(from.to_string());
            r.resource = Some(resource.to_string());
            r.rights = Some(rights_text(rights));
            r.effective_at = us(effective_at);
            r.until = until.as_ref().and_then(us);
        }
        Event::Unshare {
            from,
            to,
            resource,
            rights,
            effective_at,
            ..
        } => {
            r.kind = "unshare";
            r.subject = Some(to.to_string());
            r.grp = Some(from.to_string());
            r.resource = Some(resource.to_string());
            r.rights = rights.as_ref().map(rights_text);
            r.effective_at = us(effective_at);
        }
        _ => {}
    }
    r
}

/// Events per second of each 100,000 (or of the whole, if smaller).
fn rates(per_batch: &[(usize, Duration)]) -> Vec<f64> {
    let mut out = Vec::new();
    let (mut n, mut t) = (0usize, Duration::ZERO);
    for &(k, d) in per_batch {
        n += k;
        t += d;
        if n >= 100_000 {
            out.push(n as f64 / t.as_secs_f64());
            (n, t) = (0, Duration::ZERO);
        }
    }
    if n > 0 && out.is_empty() {
        out.push(n as f64 / t.as_secs_f64());
    }
    out
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

fn run(n: u64, base: &Path) {
    let source = common::ledger(n, Some(base));
    let ledger = Ledger::open(&source, Duration::from_secs(5)).expect("open the synthetic ledger");
    let mut events = Vec::with_capacity(n as usize);
    let mut raw_bytes = 0u64;
    for seq in 0..ledger.len() {
        let e = ledger.entry(seq).unwrap().expect("every entry is stored");
        raw_bytes += e.bytes().len() as u64;
        events.push((seq, e.recorded_at(), e.body().clone()));
    }

    // access-ledger: a new ledger, 10,000 events per append, as `import` does.
    let (admin, _) = SynthSpec::with_events(n).keys();
    let imported = base.join(format!("import-{n}"));
    let _ = std::fs::remove_dir_all(&imported);
    let zone = ledger.zone();
    let origin = ledger.state().origin().cloned().expect("a genesis origin");
    let mut fresh =
        Ledger::init(&imported, origin, &zone, &admin, Some(events[0].1)).expect("init");
    let mut ours = Vec::new();
    for chunk in events[1..].chunks(BATCH) {
        let items = chunk
            .iter()
            .map(|(_, at, e)| NewEntry {
                event: e.clone(),
                recorded_at: Some(*at),
            })
            .collect();
        let t = Instant::now();
        fresh.append(&admin, items).expect("the events import");
        ours.push((chunk.len(), t.elapsed()));
    }
    drop(fresh);
    let our_disk = common::dir_size(&imported);

    // SQLite: the same events, 10,000 rows per transaction.
    let db_path = base.join(format!("sqlite-{n}.db"));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(PathBuf::from(format!("{}{suffix}", db_path.display())));
    }
    let mut db = Connection::open(&db_path).expect("open SQLite");
    db.execute_batch(SCHEMA).expect("the schema");
    let mut theirs = Vec::new();
    for chunk in events.chunks(BATCH) {
        let t = Instant::now();
        let tx = db.transaction().unwrap();
        {
            let mut ins = tx
                .prepare_cached("INSERT INTO events VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")
                .unwrap();
            for (seq, at, e) in chunk {
                let r = row(*seq, *at, e);
                ins.execute(params![
                    r.seq as i64,
                    r.recorded_at,
                    r.kind,
                    r.subject,
                    r.resource,
                    r.grp,
                    r.rights,
                    r.effective_at,
                    r.until
                ])
                .unwrap();
            }
        }
        tx.commit().unwrap();
        theirs.push((chunk.len(), t.elapsed()));
    }
    // A clean close folds the write-ahead log into the database file.
    db.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
        .unwrap();
    drop(db);
    let sqlite_disk = std::fs::metadata(&db_path).map(|m| m.len()).unwrap_or(0);
    let db = Connection::open(&db_path).unwrap();

    // The same questions to both; every answer compared.
    let count = if n >= 100_000 { 2_000 } else { 500 };
    let questions = common::samples(&ledger, n, count, 7);
    let q = ledger.queries();
    let mut stmt = db.prepare(CHECK).expect("check.sql prepares");
    let ask_sqlite = |stmt: &mut rusqlite::Statement, s: &common::Sample| -> bool {
        stmt.query_row(
            rusqlite::named_params! {
                ":subject": s.subject.as_str(),
                ":resource": s.resource.as_str(),
                ":right": s.right.as_str(),
                ":at": s.at.as_micros(),
                ":known_at": s.known_at.as_micros(),
            },
            |r| r.get::<_, i64>(0),
        )
        .unwrap()
            == 1
    };
    let mut file = std::fs::File::create(base.join(format!("questions-{n}.jsonl"))).unwrap();
    let (mut ours_t, mut theirs_t) = (Vec::new(), Vec::new());
    let mut allowed = 0;
    for pass in 0..2 {
        for s in &questions {
            let t = Instant::now();
            let d = q
                .check(&s.subject, &s.resource, &s.right, s.at, s.known_at)
                .unwrap();
            let a = t.elapsed();
            let t = Instant::now();
            let b = ask_sqlite(&mut stmt, s);
            let b_t = t.elapsed();
            assert_eq!(
                d.allowed, b,
                "access-ledger and SQLite disagree: {} {} {} at {} known at {}",
                s.subject, s.resource, s.right, s.at, s.known_at
            );
            // The first pass warms both caches.
            if pass == 1 {
                ours_t.push(a);
                theirs_t.push(b_t);
                allowed += usize::from(d.allowed);
                let line = serde_json::json!({
                    "subject": s.subject.as_str(),
                    "resource": s.resource.as_str(),
                    "right": s.right.as_str(),
                    "at": s.at.rfc3339(),
                    "known_at": s.known_at.rfc3339(),
                    "sqlite": { ":subject": s.subject.as_str(), ":resource": s.resource.as_str(), ":right": s.right.as_str(), ":at": s.at.as_micros(), ":known_at": s.known_at.as_micros() },
                    "allowed": d.allowed,
                });
                writeln!(file, "{line}").unwrap();
            }
        }
    }
    let p = |d: &mut Vec<Duration>, q: f64| {
        d.sort();
        d[((d.len() as f64 * q) as usize).min(d.len() - 1)]
    };
    let (r_ours, r_theirs) = (rates(&ours), rates(&theirs));
    let total = |v: &[(usize, Duration)]| {
        let (k, t) = v
            .iter()
            .fold((0, Duration::ZERO), |(k, t), &(a, b)| (k + a, t + b));
        k as f64 / t.as_secs_f64()
    };
    println!("== sqlite comparison, {n} events");
    println!(
        "answers: {} questions, {allowed} allowed, all equal in both",
        questions.len()
    );
    println!("| {n} events | access-ledger | SQLite table | ratio |");
    println!("|---|---|---|---|");
    println!(
        "| disk after a clean close (raw signed entries: {:.1} MB) | {:.1} MB | {:.1} MB | {:.2}x |",
        mb(raw_bytes),
        mb(our_disk),
        mb(sqlite_disk),
        our_disk as f64 / sqlite_disk as f64
    );
    println!(
        "| import, 10,000 per commit, whole run | {:.0} events/s | {:.0} events/s | {:.2}x |",
        total(&ours),
        total(&theirs),
        total(&ours) / total(&theirs)
    );
    println!(
        "| import, first and last 100,000 | {:.0} / {:.0} events/s (last/first {:.0}%) | {:.0} / {:.0} events/s | |",
        r_ours[0],
        r_ours[r_ours.len() - 1],
        100.0 * r_ours[r_ours.len() - 1] / r_ours[0],
        r_theirs[0],
        r_theirs[r_theirs.len() - 1]
    );
    for (name, qq) in [("p50", 0.5), ("p90", 0.9), ("p99", 0.99)] {
        let (a, b) = (p(&mut ours_t, qq), p(&mut theirs_t, qq));
        println!(
            "| check in-process, {name} | {a:.1?} | {b:.1?} | {:.2}x |",
            a.as_secs_f64() / b.as_secs_f64()
        );
    }
    let _ = std::fs::remove_dir_all(&imported);
}

fn main() {
    // `cargo test --all-targets` runs this once without `--bench`: a small
    // smoke size in a temporary directory rather than a million entries.
    let benching = std::env::args().any(|a| a == "--bench");
    let tmp = tempfile::tempdir().unwrap();
    let base = common::base_dir(benching, tmp.path());
    std::fs::create_dir_all(&base).unwrap();
    let sizes: Vec<u64> = match std::env::var("ACCESS_LEDGER_BENCH_SIZES") {
        Ok(s) if benching => s.split(',').filter_map(|x| x.trim().parse().ok()).collect(),
        _ if benching => vec![100_000, 1_000_000],
        _ => vec![3_000],
    };
    for n in sizes {
        run(n, &base);
    }
}
