//! Workflow: a ledger made by an earlier version (fixtures/compat-536e063,
//! made at commit 536e063) keeps verifying and answering, and takes new
//! entries, although it holds input that later rules refuse.

use crate::util::{copy_dir, Workspace};

/// The old ledger copied into a workspace (opening writes to it) and
/// migrated to the current storage layout, with the demo's TEST-ONLY key files beside it.
fn old_ledger() -> Workspace {
    let w = Workspace::new();
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/compat-536e063/ledger");
    copy_dir(&fixture, &w.ledger());
    // It is in storage layout 1: migrated once, it is the same ledger.
    w.ok(&["reindex", "--migrate"]);
    w.ok(&["demo", "--out", "demo"]);
    w
}

#[test]
fn an_honest_ledger_made_by_536e063_still_verifies() {
    let w = old_ledger();
    let out = w.ok(&["verify"]);
    assert!(out.contains("18 entries"), "{out}");
    // Its grant to a member of the banned group:ice (seq 16), refused as
    // new input from issue 11 on, is admitted as stored and held by the ban.
    assert!(
        out.contains("seq 15: group:ice denied * on cpd")
            && out.contains("  held: seq 16 (grant user:officer1 read on cpd)"),
        "{out}"
    );
    let (code, out, _) = w.run(&["check", "user:officer1", "cpd", "read", "--json"]);
    let d: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!((code, d["banned_by"].clone()), (1, 15.into()));
    // Its entries, as that version printed them, are still what it holds.
    let old = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/compat-536e063/log.jsonl"),
    )
    .unwrap();
    let now = w.ok(&["log", "--json"]);
    let hashes = |s: &str| -> Vec<String> {
        s.lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["hash"].to_string())
            .collect()
    };
    assert_eq!(hashes(&now), hashes(&old));
    // Queries answer from its indexes.
    let (code, _, _) = w.run(&[
        "check",
        "agency:ice",
        "cpd/clear/arrests",
        "read",
        "--at",
        "2019-07-20",
    ]);
    assert_eq!(code, 1, "ICE is denied after the ban");
}

#[test]
fn an_old_ledger_takes_new_entries_and_checkpoints() {
    let w = old_ledger();
    let admin = w
        .path("demo/keys/test-only-cpd-admin.key")
        .display()
        .to_string();
    let signer = w
        .path("demo/keys/test-only-city-log-signer.key")
        .display()
        .to_string();
    w.ok(&[
        "grant",
        "agency:atf",
        "cpd/reports",
        "--rights",
        "read",
        "--basis",
        "new",
        "--key",
        &admin,
    ]);
    let cp = w.ok(&["checkpoint", "--key", &signer]);
    assert!(cp.starts_with("chicago.gov/cpd-access-demo\n19\n"), "{cp}");
    w.ok(&["verify"]);
    w.ok(&["reindex"]);
    w.ok(&["verify"]);
}
