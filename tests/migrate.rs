//! Workflow: a ledger made before storage layout 2 (fixtures/layout1-4bf3c3c,
//! made by main's CLI at commit 4bf3c3c) is refused with one line naming the
//! fix, migrates with `reindex --migrate`, crash-safely, and then verifies
//! and answers exactly as that version answered. The Merkle tree is stored
//! as hash tiles, and a forged tile is caught.

use std::path::{Path, PathBuf};
use std::time::Duration;

use access_ledger::internal::{tamper, DerivedSpace};
use access_ledger::{Fixture, Ledger, TreeHash};

use crate::util::{assert_one_line_error, copy_dir, Workspace};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/layout1-4bf3c3c")
        .join(name)
}

fn read(name: &str) -> String {
    std::fs::read_to_string(fixture(name)).unwrap()
}

/// The layout-1 ledger copied into a workspace (opening writes to it).
fn old_ledger() -> Workspace {
    let w = Workspace::new();
    copy_dir(&fixture("ledger"), &w.ledger());
    w
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Every answer kept beside the fixture, asked again of `w`'s ledger.
fn assert_answers_as_before(w: &Workspace) {
    let (code, out, err) = {
        let out = w
            .cmd()
            .args(["check", "--batch"])
            .stdin(std::fs::File::open(fixture("questions.jsonl")).unwrap())
            .output()
            .unwrap();
        crate::util::split(out)
    };
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, read("answers.jsonl"));
    assert_eq!(w.ok(&["log", "--json"]), read("log.jsonl"));
    assert_eq!(
        w.ok(&["prove", "inclusion", "12", "--size", "26", "--json"]),
        read("prove-inclusion-12-26.json")
    );
    assert_eq!(
        w.ok(&[
            "prove",
            "consistency",
            "--from",
            "26",
            "--to",
            "29",
            "--json"
        ]),
        read("prove-consistency-26-29.json")
    );
    assert_eq!(w.ok(&["checkpoints", "--json"]), read("checkpoints.json"));
}

/// Every file under `dir` (as `names` lists them) with its bytes.
fn contents(dir: &Path) -> Vec<(String, Vec<u8>)> {
    names(dir)
        .into_iter()
        .map(|n| {
            let bytes = std::fs::read(dir.join(&n)).unwrap();
            (n, bytes)
        })
        .collect()
}

#[test]
fn a_layout1_ledger_is_refused_in_one_line_naming_the_fix_and_left_untouched() {
    let w = old_ledger();
    let before = contents(&w.ledger());
    let ledger = w.ledger().display().to_string();
    for args in [
        &["log"][..],
        &["verify"],
        &["check", "agency:ice", "cpd/clear/arrests", "read"],
        &["reindex"],
    ] {
        let err = w.fails(6, args);
        assert_eq!(
            err,
            format!(
                "error: ledger at {ledger} uses storage layout 1; run `access-ledger --ledger {ledger} reindex --migrate` once (keeps every entry byte; rebuilds the rest)\n"
            ),
            "{args:?}"
        );
    }
    let after = contents(&w.ledger());
    assert_eq!(before, after, "a refused open changed a file");
    // The library says the same.
    let e = Ledger::open(&w.ledger(), Duration::from_secs(1))
        .err()
        .expect("a layout-1 ledger does not open");
    assert!(e.to_string().contains("storage layout 1"), "{e}");
}

#[test]
fn a_layout1_ledger_migrates_verifies_and_answers_as_before() {
    let w = old_ledger();
    let out = w.ok(&["reindex", "--migrate"]);
    assert!(
        out.contains("to storage layout 2: 29 entries copied byte for byte"),
        "{out}"
    );
    assert_eq!(names(&w.ledger()), ["ACCESS-LEDGER", "HEAD", "store"]);
    let out = w.ok(&["verify"]);
    assert!(out.contains("ok: 29 entries verified"), "{out}");
    assert_answers_as_before(&w);
    // Once is enough: a second migration changes nothing.
    let store_before = std::fs::read(w.ledger().join("store/db")).unwrap();
    let out = w.ok(&["reindex", "--migrate"]);
    assert!(
        out.contains("storage layout 2 already; nothing to do"),
        "{out}"
    );
    assert_eq!(
        std::fs::read(w.ledger().join("store/db")).unwrap(),
        store_before
    );
    // It takes new entries and checkpoints, with the demo's TEST-ONLY keys.
    w.ok(&["demo", "--out", "demo"]);
    let clerk = w.path("demo/keys/test-only-cpd-records-clerk.key");
    let signer = w.path("demo/keys/test-only-city-log-signer.key");
    w.ok(&[
        "grant",
        "agency:after-migration",
        "cpd/clear",
        "--rights",
        "read",
        "--key",
        clerk.to_str().unwrap(),
    ]);
    w.ok(&["checkpoint", "--key", signer.to_str().unwrap()]);
    let out = w.ok(&["verify"]);
    assert!(out.contains("ok: 30 entries verified"), "{out}");
}

/// The migration stopped dead at each of its steps (the test-only hook
/// aborts the process there, as a kill or a power cut would stop it) leaves
/// either the layout-1 ledger (refused with the fix, and migrated by the
/// next run) or the layout-2 ledger (which opens, and drops the old files).
/// Either way the ledger then verifies and answers as before.
#[test]
fn a_migration_stopped_at_any_step_leaves_a_ledger_that_opens_and_verifies() {
    for (step, renamed) in [
        ("copied", false),
        ("rebuilt", false),
        ("before-rename", false),
        ("after-rename", true),
        ("deleting", true),
    ] {
        let w = old_ledger();
        let out = w
            .cmd()
            .args(["reindex", "--migrate"])
            .env("ACCESS_LEDGER_TEST_MIGRATE_CRASH", step)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{step}: the hook did not stop it");
        if renamed {
            // Layout 2 at once; the first open deletes the old files.
            let out = w.ok(&["verify"]);
            assert!(out.contains("ok: 29 entries verified"), "{step}: {out}");
            assert_eq!(
                names(&w.ledger()),
                ["ACCESS-LEDGER", "HEAD", "store"],
                "{step}"
            );
        } else {
            assert!(w.ledger().join("store.new").is_dir(), "{step}");
            let err = w.fails(6, &["verify"]);
            assert!(err.contains("uses storage layout 1"), "{step}: {err}");
            let out = w.ok(&["reindex", "--migrate"]);
            assert!(out.contains("29 entries copied"), "{step}: {out}");
            assert_eq!(
                names(&w.ledger()),
                ["ACCESS-LEDGER", "HEAD", "store"],
                "{step}"
            );
            w.ok(&["verify"]);
        }
        assert_answers_as_before(&w);
    }
}

/// A hash tile whose hashes are edited (one bit of one leaf hash, the
/// tile's length unchanged) is caught by `verify`, and no proof is made
/// from it; reindex cures it.
#[test]
fn a_forged_hash_tile_is_caught_by_verify() {
    let w = Workspace::new();
    let entries: Vec<Vec<u8>> = {
        let l = Fixture::load().build(&w.ledger()).unwrap();
        (0..l.len())
            .map(|s| l.entry(s).unwrap().unwrap().bytes().to_vec())
            .collect()
    };
    assert_eq!(entries.len(), 26);
    {
        let l = Ledger::open(&w.ledger(), Duration::from_secs(5)).unwrap();
        let t = tamper(&l);
        // 26 leaves: one tile of 26 hashes, where a node per key took 52 keys.
        assert_eq!(t.count(DerivedSpace::TreeNodes).unwrap(), 1);
        let mut tile: Vec<u8> = entries
            .iter()
            .flat_map(|e| *TreeHash::leaf(e).as_bytes())
            .collect();
        // The true tile is what is stored: overwriting it changes nothing.
        assert!(!t.overwrite(DerivedSpace::TreeNodes, 0, &tile).unwrap());
        tile[7 * 32] ^= 0x01;
        assert!(t.overwrite(DerivedSpace::TreeNodes, 0, &tile).unwrap());
    }
    let err = w.fails(4, &["verify"]);
    assert_one_line_error(&err, "Merkle tree nodes");
    let err = w.fails(4, &["prove", "inclusion", "7"]);
    assert!(err.contains("no proof was made"), "{err}");
    w.ok(&["reindex"]);
    w.ok(&["verify"]);
}
