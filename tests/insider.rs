//! Workflow: an insider with the ledger directory but no key (docs/THREAT-MODEL.md,
//! attacker A2) edits the store to restore ICE's access. Whatever they edit,
//! no key signs on top of it, `verify` names it, and lost history is reported.

use std::path::Path;
use std::time::Duration;

use crate::util::Workspace;
use access_ledger::internal::tamper;
use access_ledger::{
    AuthorityName, Entry, Event, Ledger, Resource, Rights, SecretKey, Subject, Text, Timestamp,
};

/// The demo ledger (26 entries; seq 12 bans ICE, seq 16 bans group:ice) in a workspace.
fn demo() -> Workspace {
    let w = Workspace::new();
    w.ok(&["demo", "--out", "demo"]);
    std::fs::rename(w.path("demo/ledger"), w.ledger()).unwrap();
    w
}

fn key(w: &Workspace, name: &str) -> String {
    w.path(&format!("demo/keys/test-only-{name}.key"))
        .display()
        .to_string()
}

/// Runs `edit` on the closed ledger as the attacker would, then closes it.
fn as_attacker(w: &Workspace, edit: impl FnOnce(&Ledger)) {
    let l = Ledger::open(&w.ledger(), Duration::from_secs(5)).unwrap();
    edit(&l);
}

fn entries(w: &Workspace) -> usize {
    w.ok(&["log", "--json"]).lines().count()
}

/// A grant of read on cpd/clear to ICE, signed by a key that is no authority.
fn forged_grant(l: &Ledger, seq: u64) -> Entry {
    let outsider = SecretKey::from_seed(AuthorityName::new("outsider").unwrap(), &[9; 32]);
    let prev = l.entry(seq - 1).unwrap().unwrap();
    Entry::sign(
        seq,
        *prev.hash(),
        prev.recorded_at(),
        Event::Grant {
            subject: Subject::new("agency:ice").unwrap(),
            resource: Resource::new("cpd/clear").unwrap(),
            rights: Rights::parse_list("read").unwrap(),
            basis: Text::new("basis", "forged").unwrap(),
            effective_at: prev.recorded_at(),
            until: None,
        },
        &outsider,
        l.state().ledger_id(),
    )
    .entry()
    .clone()
}

#[test]
fn forged_tree_nodes_are_never_signed_proved_or_verified() {
    let w = demo();
    let signer = key(&w, "city-log-signer");
    w.ok(&["checkpoint", "--key", &signer]);
    as_attacker(&w, |l| {
        let forged = forged_grant(l, 7);
        tamper(l).forge_tree_leaf(7, forged.bytes()).unwrap();
    });
    let err = w.fails(4, &["checkpoint", "--key", &signer]);
    assert!(err.contains("Merkle tree nodes"), "{err}");
    let err = w.fails(4, &["verify"]);
    assert!(err.contains("Merkle tree nodes"), "{err}");
    let err = w.fails(4, &["prove", "inclusion", "7"]);
    assert!(err.contains("no proof was made"), "{err}");
    let err = w.fails(4, &["prove", "commitment", "12"]);
    assert!(err.contains("12") || err.contains("tree"), "{err}");
    // Derived data is rebuilt from the entries, and all is well again.
    w.ok(&["reindex"]);
    w.ok(&["verify"]);
    w.ok(&["checkpoint", "--key", &signer]);
    w.ok(&["prove", "inclusion", "7"]);
}

#[test]
fn a_tampered_rules_snapshot_makes_honest_keys_refuse_to_sign() {
    let w = demo();
    let admin = key(&w, "cpd-admin");
    // The admin signs once, so it holds a trusted head for this ledger.
    w.ok(&[
        "grant",
        "agency:fbi",
        "cpd/arrests",
        "--rights",
        "read",
        "--key",
        &admin,
    ]);
    let before = entries(&w);
    // The ban (seq 12) is moved off ICE in the snapshot the rules read.
    as_attacker(&w, |l| {
        let moved = Subject::new("agency:someone-else").unwrap();
        assert!(tamper(l).rename_ban_subject(12, moved).unwrap());
    });
    let err = w.fails(
        4,
        &[
            "grant",
            "agency:ice",
            "cpd",
            "--rights",
            "read",
            "--key",
            &admin,
        ],
    );
    assert!(err.contains("rules snapshot"), "{err}");
    assert_eq!(entries(&w), before, "nothing was written");
    let err = w.fails(4, &["verify"]);
    assert!(err.contains("rules snapshot"), "{err}");
    w.ok(&["reindex"]);
    w.fails(
        3,
        &[
            "grant",
            "agency:ice",
            "cpd",
            "--rights",
            "read",
            "--key",
            &admin,
        ],
    );
}

#[test]
fn an_outsider_key_planted_in_the_snapshot_cannot_sign() {
    let w = demo();
    w.ok(&[
        "keygen",
        "--name",
        "test-only-cpd-records-clerk",
        "--out",
        "outsider.key",
    ]);
    let outsider = SecretKey::read(&w.path("outsider.key")).unwrap();
    let before = entries(&w);
    as_attacker(&w, |l| {
        let clerk = AuthorityName::new("test-only-cpd-records-clerk").unwrap();
        assert!(tamper(l)
            .replace_authority_key(&clerk, outsider.public())
            .unwrap());
    });
    let out = w.path("outsider.key").display().to_string();
    let err = w.fails(
        4,
        &[
            "grant",
            "agency:ice",
            "cpd/clear",
            "--rights",
            "read",
            "--key",
            &out,
        ],
    );
    assert!(err.contains("rules snapshot"), "{err}");
    assert_eq!(entries(&w), before, "nothing was written");
}

/// Flips one bit of `needle`'s first occurrence in sled's data file.
fn flip_bit_in_store(ledger: &Path, needle: &[u8]) {
    let db = ledger.join(access_ledger::STORE_DIR).join("db");
    let mut bytes = std::fs::read(&db).unwrap();
    let at = bytes
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("the entry's text is in sled's data file");
    bytes[at + needle.len() / 2] ^= 0x01;
    std::fs::write(&db, bytes).unwrap();
}

#[test]
fn a_flipped_bit_in_the_newest_batch_is_reported_not_silently_dropped() {
    let w = demo();
    let admin = key(&w, "cpd-admin");
    let reason = "a-reason-unique-to-this-test-0123456789";
    w.ok(&[
        "revoke",
        "agency:dea",
        "cpd",
        "--permanent",
        "--reason",
        reason,
        "--key",
        &admin,
    ]);
    let acknowledged = entries(&w);
    flip_bit_in_store(&w.ledger(), reason.as_bytes());
    // A reader is the first to open it: it must not erase the evidence quietly.
    // Depending on where the bit lands, sled either refuses the data as
    // corrupt or drops the batch in recovery, which the acknowledged head
    // turns into an error.
    let (code, _, err) = w.run(&["log", "--json"]);
    assert_eq!(
        code, 4,
        "a damaged tail must not read as a shorter ledger: {err}"
    );
    assert!(
        err.contains(&format!(
            "saw {acknowledged}: acknowledged entries are missing"
        )) || err.contains("is damaged: its store holds corrupted data"),
        "{err}"
    );
    // And no command afterwards sees a shorter log as if nothing happened.
    let (code, _, err) = w.run(&["verify"]);
    assert_eq!(code, 4, "{err}");
    let (code, _, _) = w.run(&[
        "grant",
        "agency:ice",
        "cpd",
        "--rights",
        "read",
        "--key",
        &admin,
    ]);
    assert_ne!(code, 0);
}

#[test]
fn another_local_user_cannot_lock_the_ledger() {
    if !nix_is_root() {
        eprintln!("SKIPPED: needs root to act as a second local user");
        return;
    }
    let w = demo();
    // Before anything else, a ledger made by an earlier version was 0755;
    // any open by its owner tightens it.
    std::fs::set_permissions(
        w.ledger(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    w.ok(&["log", "--limit", "1"]);
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(w.ledger()).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o700);
    // A world-traversable parent, so that only the ledger's own mode stops nobody.
    std::fs::set_permissions(
        w.dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    for target in [
        w.ledger().join("ACCESS-LEDGER"),
        w.ledger().join(access_ledger::STORE_DIR).join("db"),
        w.ledger(),
    ] {
        let status = std::process::Command::new("flock")
            .arg("-n")
            .arg(&target)
            .arg("true")
            .uid(65534)
            .gid(65534)
            .status();
        match status {
            Ok(s) => assert!(!s.success(), "nobody locked {}", target.display()),
            Err(e) => {
                eprintln!("SKIPPED: cannot run flock as nobody: {e}");
                return;
            }
        }
    }
    w.ok(&["verify"]);
}

use std::os::unix::process::CommandExt;

fn nix_is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n")
        .unwrap_or(false)
}

#[test]
fn a_checkpoint_is_signed_over_the_entries_not_the_stored_nodes() {
    let w = demo();
    let signer = key(&w, "city-log-signer");
    let cp = w.ok(&["checkpoint", "--key", &signer]);
    let l = Ledger::open(&w.ledger(), Duration::from_secs(5)).unwrap();
    let mut tree = access_ledger::MemoryTree::new();
    for seq in 0..l.len() {
        tree.push(l.entry(seq).unwrap().unwrap().bytes());
    }
    assert!(cp.contains(&tree.root().to_base64()), "{cp}");
}

#[test]
fn what_the_ledger_knew_is_fixed_once_checkpointed() {
    let w = demo();
    let admin = key(&w, "cpd-admin");
    let cp = w.ok(&["checkpoint", "--key", &key(&w, "city-log-signer")]);
    assert!(cp.contains("\naccess-ledger-time "), "{cp}");
    // A ban back-dated to before the checkpoint would change what
    // `check --known-at` says the ledger knew at published dates.
    std::fs::write(
        w.path("late.jsonl"),
        r#"{"type":"revoke","subject":"agency:dea","resource":"cpd","reason":"back-dated","effective_at":"2019-08-01","permanent":true,"recorded_at":"2019-08-02T10:00"}"#,
    )
    .unwrap();
    let before = entries(&w);
    let err = w.fails(3, &["import", "late.jsonl", "--key", &admin]);
    assert!(
        err.contains("before the checkpoint of tree size 26"),
        "{err}"
    );
    assert_eq!(entries(&w), before);
    // Historical import stays possible before the first checkpoint
    // (the demo itself is one), and recording now is fine.
    w.ok(&[
        "revoke",
        "agency:dea",
        "cpd",
        "--permanent",
        "--reason",
        "now",
        "--key",
        &admin,
    ]);
    w.ok(&["verify"]);
}

#[test]
fn verify_checks_the_knowledge_time_rule_against_stored_checkpoints() {
    let w = demo();
    let f = access_ledger::Fixture::load();
    as_attacker(&w, |l| {
        // A checkpoint of size 12 made after entry 12 was recorded: entry 12
        // then claims a recorded_at before a checkpoint that did not cover it.
        let e12 = l.entry(12).unwrap().unwrap();
        let late = Timestamp::from_micros(e12.recorded_at().as_micros() + 1);
        let cp =
            access_ledger::Checkpoint::new(f.origin.clone(), 12, l.root(12).unwrap()).made_at(late);
        let signer = f.key("test-only-city-log-signer");
        let note = access_ledger::SignedCheckpoint::sign(cp, signer).to_string();
        tamper(l)
            .plant_checkpoint(12, "test-only-city-log-signer", &note)
            .unwrap();
    });
    let err = w.fails(4, &["verify"]);
    assert!(
        err.contains("seq 12") && err.contains("before the checkpoint of tree size 12"),
        "{err}"
    );
}

#[test]
fn deleting_the_bans_index_records_is_caught_by_verify() {
    let w = demo();
    as_attacker(&w, |l| {
        assert!(tamper(l).delete_index_records_of(12).unwrap() > 0);
    });
    // Queries read the indexes unchecked between two runs of verify
    // (docs/THREAT-MODEL.md): this is what verify is for.
    let err = w.fails(4, &["verify"]);
    assert!(err.contains("query index records"), "{err}");
    w.ok(&["reindex"]);
    w.ok(&["verify"]);
    let (code, _, _) = w.run(&["check", "agency:ice", "cpd/clear", "read"]);
    assert_eq!(code, 1, "the ban holds again");
}

/// Any edit of any derived key space is caught when the ledger is next
/// opened or verified.
fn caught(w: &Workspace) -> Result<(), String> {
    let l = match Ledger::open(&w.ledger(), Duration::from_secs(5)) {
        Err(e) => return Err(e.to_string()),
        Ok(l) => l,
    };
    match l.verify(|_, _| {}) {
        Err(e) => Err(e.to_string()),
        Ok(_) => Ok(()),
    }
}

mod derived_edits {
    use super::*;
    use access_ledger::internal::DerivedSpace;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        #[test]
        fn every_edit_of_derived_data_is_caught(
            space in prop::sample::select(DerivedSpace::ALL.to_vec()),
            op in 0u8..3,
            nth in any::<usize>(),
            bytes in prop::collection::vec(any::<u8>(), 1..48),
        ) {
            let w = demo();
            let mut changed = false;
            as_attacker(&w, |l| {
                let t = tamper(l);
                changed = match op {
                    0 => t.delete(space, nth).unwrap(),
                    1 => t.overwrite(space, nth, &bytes).unwrap(),
                    _ => t.insert(space, &bytes, &bytes).unwrap(),
                };
            });
            prop_assume!(changed);
            let err = caught(&w).expect_err("an edit of derived data went unnoticed");
            prop_assert!(
                err.contains("derived data") || err.contains("Merkle") || err.contains("snapshot"),
                "{}", err
            );
        }
    }
}
