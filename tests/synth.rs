//! The synthetic ledgers the benchmarks measure are ordinary ledgers: they
//! open, verify, their indexes equal a replay, and their Merkle tree matches
//! one computed from the entries.

use std::time::Duration;

use access_ledger::internal::{self as synth, SynthSpec};
use access_ledger::{Ledger, MemoryTree};

#[test]
fn a_synthetic_ledger_is_a_whole_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("synth");
    let report = synth::build(&path, &SynthSpec::with_events(2_500)).unwrap();
    assert_eq!(report.entries, 2_500);
    let ledger = Ledger::open(&path, Duration::from_secs(1)).unwrap();
    let v = ledger.verify(|_, _| {}).unwrap();
    assert_eq!(v.entries, 2_500);
    assert!(ledger.check_indexes().unwrap().is_consistent());
    let mut tree = MemoryTree::new();
    for seq in 0..ledger.len() {
        tree.push(ledger.entry(seq).unwrap().unwrap().bytes());
    }
    assert_eq!(ledger.root(ledger.len()).unwrap(), tree.root());
}
