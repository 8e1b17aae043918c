//! How entries and derived data are stored (issue 14): the rules-state
//! snapshot is written every few thousand entries rather than at every
//! commit, an open rebuilds the state at the head from the latest snapshot
//! and the entries after it, and nothing signed or verified rests on that
//! rebuild unchecked.

use std::time::Duration;

use access_ledger::internal::{tamper, DerivedSpace};
use access_ledger::Ledger;

use crate::util::Workspace;

/// `n` grant lines for `import`, to distinct subjects.
fn grants(w: &Workspace, name: &str, from: usize, n: usize) -> String {
    let lines: Vec<String> = (from..from + n)
        .map(|i| {
            format!(
                r#"{{"type":"grant","subject":"agency:a{i}","resource":"cpd/clear","rights":["read"],"basis":"MOU {i}","effective_at":"2016-04-01"}}"#
            )
        })
        .collect();
    let path = w.path(name);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path.display().to_string()
}

fn open(w: &Workspace) -> Ledger {
    Ledger::open(&w.ledger(), Duration::from_secs(5)).unwrap()
}

/// A ledger of 3,101 entries: a snapshot at 3,001 (the first import), and a
/// tail of 100 entries after it that only an open's replay brings in.
fn ledger_with_a_tail() -> Workspace {
    let w = Workspace::new();
    w.init("admin");
    let admin = w.key("admin");
    w.ok(&["import", &grants(&w, "a.jsonl", 0, 3000), "--key", &admin]);
    w.ok(&["import", &grants(&w, "b.jsonl", 3000, 100), "--key", &admin]);
    w
}

#[test]
fn an_open_rebuilds_the_state_after_the_latest_snapshot() {
    let w = ledger_with_a_tail();
    let l = open(&w);
    assert_eq!(l.len(), 3101);
    // One snapshot (at 3,001) and its directory: the second import wrote none.
    assert_eq!(tamper(&l).count(DerivedSpace::RulesState).unwrap(), 2);
    drop(l);
    w.ok(&["verify"]);
    // The last grant, in the tail, answers as any other.
    let out = w.ok(&["check", "agency:a3099", "cpd/clear/x", "read"]);
    assert!(out.starts_with("allowed"), "{out}");
}

#[test]
fn a_second_key_and_the_first_again_sign_after_each_other() {
    let w = ledger_with_a_tail();
    w.add_authority("clerk", "writer");
    let clerk = w.key("clerk");
    let admin = w.key("admin");
    // The clerk's first signing replays the whole log; then the admin's head
    // lies behind the clerk's entries: the admin checks them from the
    // snapshot its head rests on.
    w.ok(&["import", &grants(&w, "c.jsonl", 4000, 50), "--key", &clerk]);
    w.ok(&[
        "import",
        &grants(&w, "d.jsonl", 5000, 2100),
        "--key",
        &admin,
    ]);
    w.ok(&["import", &grants(&w, "e.jsonl", 8000, 10), "--key", &clerk]);
    w.ok(&["checkpoint", "--key", &admin]);
    w.ok(&["verify"]);
    let l = open(&w);
    assert_eq!(l.len(), 3101 + 1 + 50 + 2100 + 10);
}

#[test]
fn an_entry_altered_after_the_latest_snapshot_is_caught_and_signs_nothing() {
    let w = ledger_with_a_tail();
    let l = open(&w);
    let other = l.entry(3050).unwrap().unwrap();
    tamper(&l).overwrite_entry(3060, other.bytes()).unwrap();
    drop(l);
    // The ledger still opens, so verify can name the entry.
    let err = w.fails(4, &["verify"]);
    assert!(err.contains("seq 3060"), "{err}");
    let err = w.fails(
        4,
        &[
            "grant",
            "agency:late",
            "cpd",
            "--rights",
            "read",
            "--key",
            &w.key("admin"),
        ],
    );
    assert!(err.contains("seq 3060"), "{err}");
    assert_eq!(open(&w).len(), 3060, "the state stops before the entry");
}

/// The binary runs on jemalloc with the options src/allocator.rs sets (two
/// arenas, freed pages returned at once: docs/PERFORMANCE.md, "The
/// allocator"). If the options' symbol stopped matching the allocator's
/// prefix, they would be ignored without a word, and a long command's peak
/// memory would grow by a fifth.
#[cfg(all(unix, not(target_env = "musl")))]
#[test]
fn the_binary_runs_on_jemalloc_with_its_options() {
    let w = Workspace::new();
    let out = w
        .bare()
        .arg("--version")
        .env("_RJEM_MALLOC_CONF", "stats_print:true")
        .output()
        .unwrap();
    assert!(out.status.success());
    let stats = String::from_utf8_lossy(&out.stderr);
    assert!(stats.contains("jemalloc statistics"), "{stats}");
    assert!(stats.contains("opt.narenas: 2\n"), "{stats}");
    assert!(stats.contains("opt.dirty_decay_ms: 0 "), "{stats}");
    assert!(stats.contains("opt.muzzy_decay_ms: 0 "), "{stats}");
}
