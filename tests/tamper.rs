//! Workflow: someone with disk access alters a stored ledger; `verify` must
//! notice, name the first bad seq, and exit 4. A store damaged beyond that is
//! reported in one line, never a panic.

use std::time::Duration;

use access_ledger::{Entry, Fixture, Ledger};
use proptest::prelude::*;

use crate::util::Workspace;

/// Builds the demo ledger into a fresh directory; returns the directory and every entry's bytes.
fn demo_ledger() -> (tempfile::TempDir, Vec<Vec<u8>>) {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Fixture::load().build(&dir.path().join("ledger")).unwrap();
    let entries = (0..ledger.len())
        .map(|s| ledger.entry(s).unwrap().unwrap().bytes().to_vec())
        .collect();
    (dir, entries)
}

fn verify_error(dir: &std::path::Path) -> Option<access_ledger::ChainError> {
    let ledger = Ledger::open(&dir.join("ledger"), Duration::from_secs(1)).unwrap();
    match ledger.verify(|_, _| {}) {
        Ok(_) => None,
        Err(access_ledger::LedgerError::Corrupt(c)) => Some(c),
        Err(e) => panic!("unexpected error {e}"),
    }
}

fn overwrite(dir: &std::path::Path, seq: u64, bytes: &[u8]) {
    let ledger = Ledger::open(&dir.join("ledger"), Duration::from_secs(1)).unwrap();
    access_ledger::internal::tamper(&ledger)
        .overwrite_entry(seq, bytes)
        .unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Changing any single byte of any stored entry makes verify fail at that seq.
    #[test]
    fn any_changed_byte_is_caught_at_its_seq(pick in any::<prop::sample::Index>(), pos in any::<prop::sample::Index>(), delta in 1u8..=255) {
        let (dir, entries) = demo_ledger();
        let seq = pick.index(entries.len());
        let mut bytes = entries[seq].clone();
        let i = pos.index(bytes.len());
        bytes[i] = bytes[i].wrapping_add(delta);
        overwrite(dir.path(), seq as u64, &bytes);
        let err = verify_error(dir.path()).expect("verify fails");
        prop_assert_eq!(err.seq, seq as u64, "{}", err);
    }
}

#[test]
fn every_byte_of_one_entry_is_covered() {
    // Exhaustive over one entry (the ban), so no field is left out of the hash or signature.
    let (dir, entries) = demo_ledger();
    let seq = 12;
    for i in 0..entries[seq].len() {
        let mut bytes = entries[seq].clone();
        bytes[i] ^= 0x01;
        overwrite(dir.path(), seq as u64, &bytes);
        let err = verify_error(dir.path()).unwrap_or_else(|| panic!("flip at byte {i} not caught"));
        assert_eq!(err.seq, seq as u64);
    }
}

#[test]
fn truncated_extended_and_removed_entries_are_caught() {
    let (dir, entries) = demo_ledger();
    overwrite(dir.path(), 5, &entries[5][..entries[5].len() - 1]);
    assert_eq!(verify_error(dir.path()).unwrap().seq, 5);
    let mut longer = entries[5].clone();
    longer.push(0);
    overwrite(dir.path(), 5, &longer);
    assert_eq!(verify_error(dir.path()).unwrap().seq, 5);
    // Swapping two entries breaks the chain at the first of them.
    overwrite(dir.path(), 5, &entries[6]);
    overwrite(dir.path(), 6, &entries[5]);
    assert_eq!(verify_error(dir.path()).unwrap().seq, 5);
}

#[test]
fn an_entry_from_another_ledger_fails() {
    // Two ledgers from the same fixture differ only in... nothing; so build a
    // second one with another origin and splice its entry 3 into the first.
    let (dir, _) = demo_ledger();
    let other = tempfile::tempdir().unwrap();
    let f = Fixture::load();
    let admin = &f.keys[0].key;
    let mut l2 = Ledger::init(
        &other.path().join("ledger"),
        access_ledger::Origin::new("elsewhere.example/other").unwrap(),
        &f.zone,
        admin,
        Some(f.created_at),
    )
    .unwrap();
    let adds = vec![access_ledger::NewEntry {
        event: access_ledger::Event::AuthorityAdd {
            name: f.keys[1].key.name().clone(),
            key: f.keys[1].key.public(),
            roles: access_ledger::Roles::WRITER,
        },
        recorded_at: Some(f.created_at),
    }];
    l2.append(admin, adds).unwrap();
    let foreign = l2.entry(1).unwrap().unwrap();
    drop(l2);
    // Same signer, same seq, same body; only the ledger differs.
    let ours = Ledger::open(&dir.path().join("ledger"), Duration::from_secs(1))
        .unwrap()
        .entry(1)
        .unwrap()
        .unwrap();
    assert_eq!(foreign.body(), ours.body());
    overwrite(dir.path(), 1, foreign.bytes());
    let err = verify_error(dir.path()).unwrap();
    assert_eq!(err.seq, 1);
    // Even with the prev_hash made to match, the signature binds the ledger id.
    let e = Entry::decode(foreign.bytes()).unwrap();
    assert!(e
        .verify_signature(
            Ledger::open(&dir.path().join("ledger"), Duration::from_secs(1))
                .unwrap()
                .state()
                .ledger_id()
        )
        .is_err());
}

#[test]
fn the_cli_reports_tampering_with_exit_4_and_the_seq() {
    let (dir, entries) = demo_ledger();
    let mut bytes = entries[12].clone();
    let n = bytes.len();
    bytes[n - 70] ^= 0x20;
    overwrite(dir.path(), 12, &bytes);
    let out = crate::util::bin(dir.path())
        .arg("--ledger")
        .arg(dir.path().join("ledger"))
        .arg("verify")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error: verification failed: seq 12: "),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn a_damaged_store_is_reported_not_panicked_on() {
    let w = Workspace::with_one_grant();
    // Corrupt sled's files wholesale.
    for entry in std::fs::read_dir(w.ledger().join(access_ledger::STORE_DIR)).unwrap() {
        let p = entry.unwrap().path();
        if p.is_file() && p.file_name().unwrap() != "ACCESS-LEDGER" {
            std::fs::write(&p, vec![0xA5; 4096]).unwrap();
        }
    }
    let (code, _, err) = w.run(&["verify"]);
    assert!(code == 6 || code == 4, "exit {code}: {err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
