//! Workflow: a ledger made before storage layout 4 (fixtures/layout1-4bf3c3c,
//! fixtures/layout2-c5881c7 and fixtures/layout3-bff9ba2, made by main's CLI
//! at those commits) is
//! refused with one line naming the fix, migrates with `reindex --migrate`,
//! crash-safely, and then verifies and answers exactly as that version
//! answered. A layout-4 ledger of an earlier version (fixtures/layout4-7768e4e)
//! needs no migration and answers as it did. The Merkle tree is stored as hash tiles, and a forged tile is
//! caught.

use std::path::{Path, PathBuf};
use std::time::Duration;

use access_ledger::internal::{tamper, DerivedSpace};
use access_ledger::{Fixture, Ledger, TreeHash, LAYOUT, STORE_DIR};

use crate::util::{assert_one_line_error, copy_dir, Workspace};

/// A ledger kept in an earlier storage layout, with that version's answers.
#[derive(Clone, Copy)]
struct Old {
    fixture: &'static str,
    layout: u8,
}

/// Every earlier layout, each with a ledger made by the version that wrote it.
const OLD: [Old; 3] = [
    Old {
        fixture: "layout1-4bf3c3c",
        layout: 1,
    },
    Old {
        fixture: "layout2-c5881c7",
        layout: 2,
    },
    Old {
        fixture: "layout3-bff9ba2",
        layout: 3,
    },
];

impl Old {
    fn path(&self, name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(self.fixture)
            .join(name)
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap()
    }

    /// The old ledger copied into a workspace (opening writes to it).
    fn ledger(&self) -> Workspace {
        let w = Workspace::new();
        copy_dir(&self.path("ledger"), &w.ledger());
        w
    }

    /// Every answer kept beside the fixture, asked again of `w`'s ledger.
    fn assert_answers_as_before(&self, w: &Workspace) {
        let (code, out, err) = {
            let out = w
                .cmd()
                .args(["check", "--batch"])
                .stdin(std::fs::File::open(self.path("questions.jsonl")).unwrap())
                .output()
                .unwrap();
            crate::util::split(out)
        };
        assert_eq!(code, 0, "{err}");
        assert_eq!(out, self.read("answers.jsonl"), "{}", self.fixture);
        assert_eq!(w.ok(&["log", "--json"]), self.read("log.jsonl"));
        assert_eq!(
            w.ok(&["prove", "inclusion", "12", "--size", "26", "--json"]),
            self.read("prove-inclusion-12-26.json")
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
            self.read("prove-consistency-26-29.json")
        );
        assert_eq!(
            w.ok(&["checkpoints", "--json"]),
            self.read("checkpoints.json")
        );
        if self.layout < 2 {
            return;
        }
        // Kept since layout 2: history (whose event lists layout 3 dropped),
        // by subject and by resource, at a past knowledge time too, and changes.
        let mut history = String::new();
        for s in [
            "agency:fbi",
            "agency:task-force-1",
            "agency:ice",
            "group:federal-partners",
        ] {
            history += &w.ok(&["history", "--subject", s, "--json"]);
        }
        for r in ["cpd", "cpd/clear", "cpd/clear/arrests"] {
            history += &w.ok(&["history", "--resource", r, "--json"]);
        }
        history += &w.ok(&[
            "history",
            "--subject",
            "agency:fbi",
            "--known-at",
            "2019-07-20",
            "--json",
        ]);
        assert_eq!(history, self.read("history.out"));
        assert_eq!(
            w.ok(&[
                "changes",
                "--from",
                "2016-01-01",
                "--to",
                "2020-01-01",
                "--json"
            ]),
            self.read("changes-2016-2019.json")
        );
    }
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

/// What a migrated ledger directory holds.
fn migrated_names() -> Vec<String> {
    let mut v = vec![
        "ACCESS-LEDGER".to_owned(),
        "HEAD".to_owned(),
        STORE_DIR.to_owned(),
    ];
    v.sort();
    v
}

/// Every file under `dir` (as `names` lists them) with its bytes; a
/// directory's files under `dir/name/...`.
fn contents(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for n in names(dir) {
        let p = dir.join(&n);
        if p.is_dir() {
            for (m, bytes) in contents(&p) {
                out.push((format!("{n}/{m}"), bytes));
            }
        } else {
            out.push((n, std::fs::read(p).unwrap()));
        }
    }
    out
}

#[test]
fn an_old_layout_ledger_is_refused_in_one_line_naming_the_fix_and_left_untouched() {
    for old in OLD {
        let w = old.ledger();
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
                    "error: ledger at {ledger} uses storage layout {}; run `access-ledger --ledger {ledger} reindex --migrate` once (keeps every entry byte; rebuilds the rest)\n",
                    old.layout
                ),
                "{args:?}"
            );
        }
        let after = contents(&w.ledger());
        assert_eq!(before, after, "a refused open changed a file");
        // The library says the same.
        let e = Ledger::open(&w.ledger(), Duration::from_secs(1))
            .err()
            .expect("an old-layout ledger does not open");
        let want = format!("storage layout {}", old.layout);
        assert!(e.to_string().contains(&want), "{e}");
    }
}

#[test]
fn an_old_layout_ledger_migrates_verifies_and_answers_as_before() {
    for old in OLD {
        let w = old.ledger();
        let out = w.ok(&["reindex", "--migrate"]);
        let want = format!(
            "from storage layout {} to {LAYOUT}: 29 entries copied byte for byte",
            old.layout
        );
        assert!(out.contains(&want), "{out}");
        assert_eq!(names(&w.ledger()), migrated_names());
        let out = w.ok(&["verify"]);
        assert!(out.contains("ok: 29 entries verified"), "{out}");
        old.assert_answers_as_before(&w);
        // Once is enough: a second migration changes nothing.
        let db = w.ledger().join(STORE_DIR).join("db");
        let store_before = std::fs::read(&db).unwrap();
        let out = w.ok(&["reindex", "--migrate"]);
        assert!(
            out.contains(&format!("storage layout {LAYOUT} already; nothing to do")),
            "{out}"
        );
        assert_eq!(std::fs::read(&db).unwrap(), store_before);
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
}

/// A layout-4 ledger made by an earlier version (fixtures/layout4-7768e4e)
/// needs no migration: it verifies and answers as that version answered,
/// and after a reindex, which rewrites its derived data, still does.
#[test]
fn a_layout4_ledger_of_an_earlier_version_verifies_and_answers_as_before() {
    let old = Old {
        fixture: "layout4-7768e4e",
        layout: 4,
    };
    let w = old.ledger();
    let out = w.ok(&["verify"]);
    assert!(out.contains("ok: 29 entries verified"), "{out}");
    old.assert_answers_as_before(&w);
    let out = w.ok(&["reindex", "--migrate"]);
    assert!(
        out.contains(&format!("storage layout {LAYOUT} already; nothing to do")),
        "{out}"
    );
    w.ok(&["reindex"]);
    let out = w.ok(&["verify"]);
    assert!(out.contains("ok: 29 entries verified"), "{out}");
    old.assert_answers_as_before(&w);
}

/// The migration stopped dead at each of its steps (the test-only hook
/// aborts the process there, as a kill or a power cut would stop it) leaves
/// either the old ledger (refused with the fix, and migrated by the next
/// run) or the layout-4 ledger (which opens, and drops the old files).
/// Either way the ledger then verifies and answers as before.
#[test]
fn a_migration_stopped_at_any_step_leaves_a_ledger_that_opens_and_verifies() {
    for old in OLD {
        for (step, renamed) in [
            ("copied", false),
            ("rebuilt", false),
            ("before-rename", false),
            ("after-rename", true),
            ("deleting", true),
        ] {
            let w = old.ledger();
            let out = w
                .cmd()
                .args(["reindex", "--migrate"])
                .env("ACCESS_LEDGER_TEST_MIGRATE_CRASH", step)
                .output()
                .unwrap();
            assert!(!out.status.success(), "{step}: the hook did not stop it");
            if renamed {
                // Layout 4 at once; the first open deletes the old files.
                let out = w.ok(&["verify"]);
                assert!(out.contains("ok: 29 entries verified"), "{step}: {out}");
                assert_eq!(names(&w.ledger()), migrated_names(), "{step}");
            } else {
                assert!(w.ledger().join("store.new").is_dir(), "{step}");
                let err = w.fails(6, &["verify"]);
                let want = format!("uses storage layout {}", old.layout);
                assert!(err.contains(&want), "{step}: {err}");
                let out = w.ok(&["reindex", "--migrate"]);
                assert!(out.contains("29 entries copied"), "{step}: {out}");
                assert_eq!(names(&w.ledger()), migrated_names(), "{step}");
                w.ok(&["verify"]);
            }
            old.assert_answers_as_before(&w);
        }
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
