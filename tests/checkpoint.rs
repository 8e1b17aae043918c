//! Workflow: the city signs checkpoints; the council's witness accepts only
//! checkpoints that extend what it saw before; anyone checks proofs offline.

use crate::util::{copy_dir, Workspace};

struct Log {
    w: Workspace,
    vkey: String,
}

/// The demo ledger in a workspace, with the log signer's verifier key.
fn demo() -> Log {
    let w = Workspace::new();
    w.ok(&["demo", "--out", "demo"]);
    std::fs::rename(w.path("demo/ledger"), w.ledger()).unwrap();
    let list: serde_json::Value =
        serde_json::from_str(&w.ok(&["authority", "list", "--json"])).unwrap();
    let vkey = list
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "test-only-city-log-signer")
        .unwrap()["public_key"]
        .as_str()
        .unwrap()
        .to_owned();
    Log { w, vkey }
}

impl Log {
    fn signer(&self) -> String {
        self.w
            .path("demo/keys/test-only-city-log-signer.key")
            .display()
            .to_string()
    }
    fn clerk(&self) -> String {
        self.w
            .path("demo/keys/test-only-cpd-records-clerk.key")
            .display()
            .to_string()
    }
    fn council(&self) -> String {
        self.w
            .path("demo/keys/test-only-council-witness.key")
            .display()
            .to_string()
    }
    /// Signs a checkpoint and saves it as `name`.
    fn checkpoint(&self, name: &str) {
        let cp = self.w.ok(&["checkpoint", "--key", &self.signer()]);
        std::fs::write(self.w.path(name), cp).unwrap();
    }
    fn grant(&self, subject: &str) {
        self.w.ok(&[
            "grant",
            subject,
            "cpd/clear",
            "--rights",
            "read",
            "--key",
            &self.clerk(),
        ]);
    }
    fn witness(&self, cp: &str, proof: Option<&str>) -> (i32, String, String) {
        let state = self.w.path("council-state").display().to_string();
        let council = self.council();
        let mut args = vec![
            "witness",
            "--state",
            &state,
            "--ledger-key",
            &self.vkey,
            "--key",
            &council,
            cp,
        ];
        if let Some(p) = proof {
            args.extend(["--proof", p]);
        }
        self.w.run(&args)
    }
}

#[test]
fn checkpoints_prove_inclusion_and_consistency_offline() {
    let l = demo();
    l.checkpoint("cp26.txt");
    let cp = std::fs::read_to_string(l.w.path("cp26.txt")).unwrap();
    assert!(cp.starts_with("chicago.gov/cpd-access-demo\n26\n"), "{cp}");
    assert!(
        cp.contains("\n\n\u{2014} test-only-city-log-signer "),
        "{cp}"
    );
    // Inclusion of the ban, checked with no ledger at hand.
    std::fs::write(
        l.w.path("inc.json"),
        l.w.ok(&["prove", "inclusion", "12", "--json"]),
    )
    .unwrap();
    let raw =
        l.w.cmd()
            .args(["show", "12", "--raw"])
            .output()
            .unwrap()
            .stdout;
    std::fs::write(l.w.path("e12.bin"), raw).unwrap();
    let args = [
        "--ledger",
        "/nonexistent",
        "verify-proof",
        "inclusion",
        "--checkpoint",
        "cp26.txt",
        "--ledger-key",
        &l.vkey,
        "--proof",
        "inc.json",
        "--entry",
        "e12.bin",
    ];
    let (code, out, err) = l.w.run_bare(&args);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("ok: seq 12 is in chicago.gov/cpd-access-demo at tree size 26"),
        "{out}"
    );
    assert!(
        out.contains("PERMANENTLY revoke all rights of agency:ice on cpd"),
        "{out}"
    );
    // The text form works too; a wrong entry or a tampered proof does not.
    std::fs::write(l.w.path("inc.txt"), l.w.ok(&["prove", "inclusion", "12"])).unwrap();
    let (code, _, _) = l.w.run_bare(&[
        "verify-proof",
        "inclusion",
        "--checkpoint",
        "cp26.txt",
        "--ledger-key",
        &l.vkey,
        "--proof",
        "inc.txt",
    ]);
    assert_eq!(code, 0);
    let raw11 =
        l.w.cmd()
            .args(["show", "11", "--raw"])
            .output()
            .unwrap()
            .stdout;
    std::fs::write(l.w.path("e11.bin"), raw11).unwrap();
    let (code, _, err) = l.w.run_bare(&[
        "verify-proof",
        "inclusion",
        "--checkpoint",
        "cp26.txt",
        "--ledger-key",
        &l.vkey,
        "--proof",
        "inc.json",
        "--entry",
        "e11.bin",
    ]);
    assert_eq!(code, 4, "{err}");
    let tampered = std::fs::read_to_string(l.w.path("inc.txt"))
        .unwrap()
        .replacen("proof ", "proof A", 1);
    std::fs::write(l.w.path("bad.txt"), tampered).unwrap();
    let (code, _, err) = l.w.run_bare(&[
        "verify-proof",
        "inclusion",
        "--checkpoint",
        "cp26.txt",
        "--ledger-key",
        &l.vkey,
        "--proof",
        "bad.txt",
    ]);
    assert!(code == 4 || code == 2, "{err}");

    // The log grows; a consistency proof links the two checkpoints.
    l.grant("agency:dea");
    l.grant("agency:atf");
    l.checkpoint("cp28.txt");
    std::fs::write(
        l.w.path("cons.json"),
        l.w.ok(&[
            "prove",
            "consistency",
            "--from",
            "26",
            "--to",
            "28",
            "--json",
        ]),
    )
    .unwrap();
    let (code, out, err) = l.w.run_bare(&[
        "verify-proof",
        "consistency",
        "--old-checkpoint",
        "cp26.txt",
        "--checkpoint",
        "cp28.txt",
        "--ledger-key",
        &l.vkey,
        "--proof",
        "cons.json",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("at tree size 28 extends tree size 26"),
        "{out}"
    );
    // Swapped checkpoints do not fit the proof.
    let (code, _, _) = l.w.run_bare(&[
        "verify-proof",
        "consistency",
        "--old-checkpoint",
        "cp28.txt",
        "--checkpoint",
        "cp26.txt",
        "--ledger-key",
        &l.vkey,
        "--proof",
        "cons.json",
    ]);
    assert_eq!(code, 4);
    // A checkpoint under another key is refused.
    let (code, _, err) = l.w.run_bare(&[
        "verify-proof",
        "inclusion",
        "--checkpoint",
        "cp26.txt",
        "--ledger-key",
        "someone+00000000+AQ==",
        "--proof",
        "inc.json",
    ]);
    assert_eq!(code, 2, "{err}");

    let list: serde_json::Value =
        serde_json::from_str(&l.w.ok(&["checkpoints", "--json"])).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[1]["tree_size"], 28);
    l.w.ok(&["verify"]);
}

#[test]
fn the_witness_accepts_growth_and_refuses_rollback_fork_and_forgery() {
    let l = demo();
    l.checkpoint("cp26.txt");
    let (code, out, err) = l.witness("cp26.txt", None);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("accepted the first checkpoint on trust"),
        "{err}"
    );
    assert!(
        out.contains("\u{2014} test-only-council-witness "),
        "cosigned: {out}"
    );

    // Fork the ledger: a copy that diverges after seq 25.
    let fork = Workspace::new();
    copy_dir(&l.w.ledger(), &fork.ledger());
    l.grant("agency:dea");
    l.checkpoint("cp27.txt");
    std::fs::write(
        l.w.path("c26-27.json"),
        l.w.ok(&[
            "prove",
            "consistency",
            "--from",
            "26",
            "--to",
            "27",
            "--json",
        ]),
    )
    .unwrap();
    let (code, _, err) = l.witness("cp27.txt", None);
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("witness refused the checkpoint"), "{err}");
    let (code, _, err) = l.witness("cp27.txt", Some("c26-27.json"));
    assert_eq!(code, 0, "{err}");

    // The fork appends something else and signs its own size-27 checkpoint,
    // with copies of the keys made before the original grew (a key holder's
    // own trusted heads would refuse to sign a fork of what it signed).
    let copy_key = |k: String| {
        let to = fork.path(
            std::path::Path::new(&k)
                .file_name()
                .unwrap()
                .to_str()
                .unwrap(),
        );
        std::fs::copy(&k, &to).unwrap();
        to.display().to_string()
    };
    let (clerk, signer) = (copy_key(l.clerk()), copy_key(l.signer()));
    fork.ok(&[
        "grant",
        "agency:ice-proxy",
        "cpd/clear",
        "--rights",
        "read",
        "--key",
        &clerk,
    ]);
    let fork_cp = fork.ok(&["checkpoint", "--key", &signer]);
    std::fs::write(l.w.path("fork27.txt"), &fork_cp).unwrap();
    let (code, _, err) = l.witness("fork27.txt", None);
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("fork"), "{err}");

    // Rollback to the older checkpoint.
    let (code, _, err) = l.witness("cp26.txt", None);
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("rollback") || err.contains("smaller"), "{err}");

    // A forged checkpoint (size changed) fails its signature.
    let forged = std::fs::read_to_string(l.w.path("cp27.txt"))
        .unwrap()
        .replacen("\n27\n", "\n28\n", 1);
    std::fs::write(l.w.path("forged.txt"), forged).unwrap();
    let (code, _, err) = l.witness("forged.txt", Some("c26-27.json"));
    assert_eq!(code, 4, "{err}");
    assert!(err.to_lowercase().contains("signature"), "{err}");

    // The same checkpoint again is fine (idempotent).
    let (code, _, err) = l.witness("cp27.txt", None);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn the_commitment_of_a_ban_is_provable_and_only_permanent_revocations_have_one() {
    let l = demo();
    // The demo's council export signed a checkpoint of its 26 entries; a
    // permanent revocation recorded after it is covered by none yet.
    let reason = "ILLUSTRATIVE: a second permanent ban, after the export";
    let clerk = l.clerk();
    l.w.ok(&[
        "revoke",
        "agency:dea",
        "cpd",
        "--permanent",
        "--reason",
        reason,
        "--key",
        &clerk,
    ]);
    let err = l.w.fails(2, &["prove", "commitment", "26"]);
    assert!(err.contains("no stored checkpoint covers seq 26"), "{err}");
    l.checkpoint("cp.txt");
    let v: serde_json::Value =
        serde_json::from_str(&l.w.ok(&["prove", "commitment", "26", "--json"])).unwrap();
    assert_eq!(v["subject"], "agency:dea");
    assert_eq!(v["inclusion"]["tree_size"], 27);
    assert_eq!(v["verifier_must"].as_array().unwrap().len(), 3);
    let err = l.w.fails(2, &["prove", "commitment", "3"]);
    assert!(err.contains("seq 3 is not a permanent revocation"), "{err}");
    // Checkpoint keys: only authorities with the checkpoint role.
    let err = l.w.fails(3, &["checkpoint", "--key", &l.clerk()]);
    assert!(err.contains("may not sign checkpoints"), "{err}");
}

#[test]
fn a_history_rewritten_after_a_checkpoint_fails_verify() {
    use crate::util::{grant, now_entry, utc};
    use access_ledger::{Entry, Fixture, Ledger, Timestamp};
    use std::time::Duration;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    let f = Fixture::load();
    let mut l = f.build(&path).unwrap();
    let clerk = f.key("test-only-cpd-records-clerk");
    let grant = |s: &str| grant(s, "cpd/clear", "read", utc("2020-01-01T00:00:00Z"), None);
    l.append(clerk, vec![now_entry(grant("agency:dea"))])
        .unwrap();
    l.checkpoint(f.key("test-only-city-log-signer")).unwrap();
    // The operator, holding the clerk's key, re-signs entry 26 differently and
    // rebuilds every derived index: the chain alone is consistent again...
    let e25 = l.entry(25).unwrap().unwrap();
    let forged = Entry::sign(
        26,
        *e25.hash(),
        Timestamp::now(),
        grant("agency:ice-proxy"),
        clerk,
        l.state().ledger_id(),
    );
    let tamper = access_ledger::internal::tamper(&l);
    tamper.overwrite_entry(26, forged.bytes()).unwrap();
    // The record of the last acknowledged head would give it away at the
    // next open; this operator rewrites that too.
    tamper.forget_acknowledged_head().unwrap();
    drop(l);
    let mut l = Ledger::open(&path, Duration::from_secs(1)).unwrap();
    l.reindex(|_, _| {}).unwrap();
    // ...but not with the checkpoint the ledger signed before.
    let err = l.verify(|_, _| {}).unwrap_err().to_string();
    assert!(
        err.contains("stored checkpoint of tree size 27 does not match the entries"),
        "{err}"
    );
}
