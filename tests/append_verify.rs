//! Workflow: create a ledger, add authorities, write every kind of event,
//! read it back, verify it, and move it to another ledger.

use crate::util::{bin, Workspace};

#[test]
fn init_write_every_kind_read_and_verify() {
    let w = Workspace::new();
    w.init("admin");
    w.add_authority("clerk", "writer");
    let k = w.key("clerk");
    w.ok(&[
        "grant",
        "group:feds",
        "cpd/clear",
        "--rights",
        "read",
        "--basis",
        "MOU",
        "--effective-at",
        "2016-01-04",
        "--key",
        &k,
    ]);
    w.ok(&[
        "join",
        "agency:fbi",
        "group:feds",
        "--effective-at",
        "2016-01-04",
        "--key",
        &k,
    ]);
    w.ok(&[
        "share",
        "agency:fbi",
        "agency:ice",
        "cpd/clear",
        "--rights",
        "read",
        "--until",
        "2030-01-01",
        "--key",
        &k,
    ]);
    w.ok(&[
        "unshare",
        "agency:fbi",
        "agency:ice",
        "cpd/clear",
        "--key",
        &k,
    ]);
    w.ok(&["leave", "agency:fbi", "group:feds", "--key", &k]);
    w.ok(&[
        "revoke",
        "agency:ice",
        "cpd",
        "--permanent",
        "--reason",
        "mayor",
        "--effective-at",
        "2019-07-10",
        "--key",
        &k,
    ]);

    let log = w.log_json();
    let kinds: Vec<String> = log
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "genesis",
            "authority_add",
            "grant",
            "join",
            "share",
            "unshare",
            "leave",
            "revoke"
        ]
    );
    // A plain date is local midnight in the ledger's zone, stored in UTC.
    let grant: serde_json::Value = serde_json::from_str(log.lines().nth(2).unwrap()).unwrap();
    assert_eq!(grant["effective_at"], "2016-01-04T06:00:00Z");
    assert_eq!(grant["signer"], "clerk");

    let out = w.ok(&["verify"]);
    assert!(out.contains("ok: 8 entries verified"), "{out}");
    assert!(
        out.contains("permanent revocation seq 7: agency:ice"),
        "{out}"
    );
    let v: serde_json::Value = serde_json::from_str(&w.ok(&["verify", "--json"])).unwrap();
    assert_eq!(v["report"]["entries"], 8);
    // The share ended before it could carry anything after the ban.
    assert_eq!(v["report"]["bans"][0]["commitment"]["status"], "kept");

    let show: serde_json::Value = serde_json::from_str(&w.ok(&["show", "7", "--json"])).unwrap();
    assert_eq!(show["permanent"], true);
    assert_eq!(show["type"], "revoke");
    w.fails(2, &["show", "99"]);
}

#[test]
fn a_log_re_imports_into_another_ledger() {
    let w = Workspace::new();
    w.init("admin");
    let k = w.key("admin");
    w.ok(&[
        "grant",
        "agency:fbi",
        "cpd/clear",
        "--rights",
        "read,export",
        "--effective-at",
        "2016-02-01",
        "--key",
        &k,
    ]);
    w.ok(&[
        "revoke",
        "agency:fbi",
        "cpd/clear",
        "--rights",
        "export",
        "--reason",
        "r",
        "--key",
        &k,
    ]);
    std::fs::write(w.path("log.jsonl"), w.log_json()).unwrap();

    let w2 = Workspace::new();
    w2.init("other-admin");
    std::fs::copy(w.path("log.jsonl"), w2.path("log.jsonl")).unwrap();
    let out = w2.ok(&["import", "log.jsonl", "--key", &w2.key("other-admin")]);
    assert!(out.contains("imported 2 entries"), "{out}");
    assert!(out.contains("skipped 1 genesis"), "{out}");
    w2.ok(&["verify"]);
    let a: Vec<serde_json::Value> = w
        .log_json()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let b: Vec<serde_json::Value> = w2
        .log_json()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for field in [
        "type",
        "subject",
        "resource",
        "rights",
        "effective_at",
        "recorded_at",
        "reason",
    ] {
        assert_eq!(a[1][field], b[1][field], "{field}");
        assert_eq!(a[2][field], b[2][field], "{field}");
    }
    // Signed anew by the importing ledger's key, bound to that ledger.
    assert_ne!(a[1]["signature"], b[1]["signature"]);
    assert_eq!(b[1]["signer"], "other-admin");
}

#[test]
fn a_retired_authority_can_no_longer_sign() {
    let w = Workspace::new();
    w.init("admin");
    w.add_authority("clerk", "writer");
    w.ok(&[
        "grant",
        "agency:fbi",
        "cpd",
        "--rights",
        "read",
        "--key",
        &w.key("clerk"),
    ]);
    w.ok(&["authority", "retire", "clerk", "--key", &w.key("admin")]);
    let before = w.log_json();
    let err = w.fails(
        3,
        &[
            "grant",
            "agency:dea",
            "cpd",
            "--rights",
            "read",
            "--key",
            &w.key("clerk"),
        ],
    );
    assert!(err.contains("clerk was retired"), "{err}");
    assert_eq!(w.log_json(), before, "nothing written");
    // The last admin cannot be retired; a writer cannot manage authorities.
    let err = w.fails(
        3,
        &["authority", "retire", "admin", "--key", &w.key("admin")],
    );
    assert!(err.contains("last active admin"), "{err}");
    let list = w.ok(&["authority", "list"]);
    assert!(
        list.contains("clerk\twriter\tadded at seq 1, retired at seq 3"),
        "{list}"
    );
}

#[test]
fn a_writer_cannot_add_authorities() {
    let w = Workspace::new();
    w.init("admin");
    w.add_authority("clerk", "writer");
    let other = w.keygen("other");
    let err = w.fails(
        3,
        &[
            "authority",
            "add",
            "other",
            "--public-key",
            &other,
            "--roles",
            "admin",
            "--key",
            &w.key("clerk"),
        ],
    );
    assert!(
        err.contains("may not sign authority_add entries (needs the admin role)"),
        "{err}"
    );
    // A checkpoint-only authority may not write access events.
    w.add_authority("signer", "checkpoint");
    let err = w.fails(
        3,
        &[
            "grant",
            "agency:a",
            "cpd",
            "--rights",
            "read",
            "--key",
            &w.key("signer"),
        ],
    );
    assert!(err.contains("needs the admin or writer role"), "{err}");
}

#[test]
fn a_re_grant_over_a_permanent_revocation_is_refused_and_changes_nothing() {
    let w = Workspace::new();
    w.init("admin");
    let k = w.key("admin");
    w.ok(&[
        "grant",
        "agency:ice",
        "cpd/clear/arrests",
        "--rights",
        "read",
        "--effective-at",
        "2017-01-01",
        "--key",
        &k,
    ]);
    w.ok(&[
        "revoke",
        "agency:ice",
        "cpd",
        "--permanent",
        "--reason",
        "mayor",
        "--effective-at",
        "2019-07-10",
        "--key",
        &k,
    ]);
    let before = w.log_json();
    for args in [
        vec![
            "grant",
            "agency:ice",
            "cpd/clear/arrests",
            "--rights",
            "read",
        ],
        vec!["grant", "agency:ice", "cpd", "--rights", "*"],
        vec![
            "grant",
            "agency:ice",
            "cpd/clear",
            "--rights",
            "export",
            "--effective-at",
            "2025-01-01",
        ],
        // Back-dated but still running past the ban's start.
        vec![
            "grant",
            "agency:ice",
            "cpd/clear",
            "--rights",
            "read",
            "--effective-at",
            "2018-01-01",
            "--until",
            "2019-08-01",
        ],
    ] {
        let mut a = args.clone();
        a.extend(["--key", &k]);
        let err = w.fails(3, &a);
        assert!(
            err.contains("overlaps the permanent revocation at seq 2"),
            "{err}"
        );
    }
    assert_eq!(w.log_json(), before);
    // A grant whose whole interval ends before the ban is history, and allowed.
    w.ok(&[
        "grant",
        "agency:ice",
        "cpd/clear",
        "--rights",
        "read",
        "--effective-at",
        "2018-01-01",
        "--until",
        "2019-07-10",
        "--key",
        &k,
    ]);
    // Other subjects and unrelated resources are unaffected.
    w.ok(&[
        "grant",
        "agency:fbi",
        "cpd",
        "--rights",
        "read",
        "--key",
        &k,
    ]);
    w.ok(&[
        "grant",
        "agency:ice",
        "cook-county/courts",
        "--rights",
        "read",
        "--key",
        &k,
    ]);
    w.ok(&["verify"]);
}

#[test]
fn the_demo_builds_verifies_and_refuses_to_undo_the_ban() {
    let w = Workspace::new();
    let out = w.ok(&["demo", "--out", "demo"]);
    assert!(
        out.contains("26 signed, hash-chained entries; verified"),
        "{out}"
    );
    assert!(
        out.contains("Permanent revocation (seq 12): agency:ice denied * on cpd"),
        "{out}"
    );
    // Running it again replaces the earlier demo.
    w.ok(&["demo", "--out", "demo"]);
    let l = w.path("demo/ledger").display().to_string();
    let clerk = w
        .path("demo/keys/test-only-cpd-records-clerk.key")
        .display()
        .to_string();
    let (code, _, err) = w.run_bare(&[
        "--ledger",
        &l,
        "grant",
        "agency:ice",
        "cpd/clear/arrests",
        "--rights",
        "read",
        "--key",
        &clerk,
    ]);
    assert_eq!(code, 3, "{err}");
    // It will not clobber a directory that is not an earlier demo.
    std::fs::create_dir(w.path("mine")).unwrap();
    std::fs::write(w.path("mine/notes.txt"), "x").unwrap();
    w.fails(2, &["demo", "--out", "mine"]);
}

#[test]
fn the_ledger_directory_comes_from_the_environment() {
    let w = Workspace::new();
    w.init("admin");
    let out = bin(w.dir.path())
        .env("ACCESS_LEDGER_DIR", w.ledger())
        .arg("verify")
        .output()
        .unwrap();
    assert!(out.status.success());
    // And defaults to ./ledger.
    let out = bin(w.dir.path()).arg("verify").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// docs/SEMANTICS.md, section 15: each ban is kept, held (listing the later
/// entries it denies) or back door open (listing the sharing path), and
/// none of it changes verify's exit code. A ban of a group reaches its
/// members; a grant to a member is refused.
#[test]
fn verify_reports_kept_held_and_back_door() {
    let w = Workspace::new();
    w.init("admin");
    w.add_authority("clerk", "writer");
    let k = w.key("clerk");
    let ok = |args: &[&str]| {
        let mut a = args.to_vec();
        a.extend(["--key", &k]);
        w.ok(&a)
    };
    ok(&[
        "join",
        "user:officer1",
        "group:ice",
        "--effective-at",
        "2019-01-01",
    ]);
    ok(&[
        "join",
        "group:ice",
        "group:feds",
        "--effective-at",
        "2019-01-01",
    ]);
    ok(&[
        "grant",
        "agency:fbi",
        "cpd",
        "--rights",
        "read",
        "--effective-at",
        "2019-01-01",
    ]);
    ok(&[
        "revoke",
        "group:ice",
        "cpd",
        "--permanent",
        "--reason",
        "order",
        "--effective-at",
        "2019-07-10",
    ]);
    ok(&[
        "revoke",
        "agency:dea",
        "cook",
        "--permanent",
        "--reason",
        "other",
        "--effective-at",
        "2019-07-10",
    ]);
    let v: serde_json::Value = serde_json::from_str(&w.ok(&["verify", "--json"])).unwrap();
    let status = |v: &serde_json::Value, i: usize| v["report"]["bans"][i]["commitment"].clone();
    assert_eq!(status(&v, 0)["status"], "kept");
    // A grant to a member of the banned group is refused, nothing written.
    let (code, _, err) = w.run(&[
        "grant",
        "user:officer1",
        "cpd/clear",
        "--rights",
        "read",
        "--key",
        &k,
    ]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("of which user:officer1 is a member"), "{err}");
    // A grant to a group holding the banned one: accepted, and held.
    let held = ok(&["grant", "group:feds", "cpd/clear", "--rights", "read"]);
    assert!(held.contains("seq 7"), "{held}");
    let d = w.run(&["check", "user:officer1", "cpd/clear", "read", "--json"]);
    let d: serde_json::Value = serde_json::from_str(&d.1).unwrap();
    assert_eq!(
        (d["allowed"].clone(), d["banned_by"].clone()),
        (false.into(), 5.into())
    );
    let v: serde_json::Value = serde_json::from_str(&w.ok(&["verify", "--json"])).unwrap();
    assert_eq!(
        status(&v, 0),
        serde_json::json!({"status": "held", "entries": [7]})
    );
    assert_eq!(status(&v, 1)["status"], "kept");
    // A share from the FBI to the officer opens a back door.
    ok(&[
        "share",
        "agency:fbi",
        "user:officer1",
        "cpd/clear/arrests",
        "--rights",
        "read",
    ]);
    let v: serde_json::Value = serde_json::from_str(&w.ok(&["verify", "--json"])).unwrap();
    let c = status(&v, 0);
    assert_eq!(c["status"], "back_door_open");
    assert_eq!(c["held"], serde_json::json!([7]));
    assert_eq!(c["paths"][0]["subject"], "user:officer1");
    assert_eq!(c["paths"][0]["resource"], "cpd/clear/arrests");
    let steps: Vec<u64> = c["paths"][0]["path"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(steps, [4, 8]);
    let text = w.ok(&["verify"]);
    assert!(
        text.contains("from 2019-07-10 00:00:00 CDT: BACK DOOR OPEN"),
        "{text}"
    );
    assert!(
        text.contains("  held: seq 7 (grant group:feds read on cpd/clear)"),
        "{text}"
    );
    assert!(
        text.contains("  back door: seqs [4, 8] bring cpd/clear/arrests data"),
        "{text}"
    );
    assert!(
        text.contains("agency:dea denied * on cook from 2019-07-10 00:00:00 CDT: kept"),
        "{text}"
    );
}
