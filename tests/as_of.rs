//! Workflow: a council member asks the Chicago 2019 ledger what was true on a
//! date, and what the ledger knew then, through the command line.

use serde_json::Value;

use crate::util::Workspace;

fn demo() -> Workspace {
    let w = Workspace::new();
    w.ok(&["demo", "--out", "demo"]);
    std::fs::rename(w.path("demo/ledger"), w.ledger()).unwrap();
    w
}

fn json(w: &Workspace, args: &[&str]) -> (i32, Value) {
    let mut a = args.to_vec();
    a.push("--json");
    let (code, out, err) = w.run(&a);
    assert!(code == 0 || code == 1, "{args:?}: {err}");
    (code, serde_json::from_str(&out).unwrap())
}

#[test]
fn ice_is_denied_after_the_ban_with_its_seq_and_allowed_before() {
    let w = demo();
    let (code, d) = json(
        &w,
        &[
            "check",
            "agency:ice",
            "cpd/clear/arrests",
            "read",
            "--at",
            "2019-07-20",
        ],
    );
    assert_eq!(code, 1, "denied exits 1");
    assert_eq!(d["allowed"], false);
    assert_eq!(d["banned_by"], 12);
    assert_eq!(d["because"], serde_json::json!([12]));
    assert_eq!(d["route"], Value::Null);
    assert_eq!(d["at"], "2019-07-20T05:00:00Z");

    // Before the ban: allowed, directly (its own grant, seq 9).
    let (code, d) = json(
        &w,
        &[
            "check",
            "agency:ice",
            "cpd/clear/arrests",
            "read",
            "--at",
            "2019-07-09",
        ],
    );
    assert_eq!(code, 0);
    assert_eq!(d["route"], "direct");
    assert_eq!(d["because"], serde_json::json!([9]));
    // Through its group on a table its own grant does not cover.
    let (_, d) = json(
        &w,
        &[
            "check",
            "agency:ice",
            "cpd/clear/incident-narratives",
            "read",
            "--at",
            "2019-07-09",
        ],
    );
    assert_eq!(d["route"], "group:federal-partners");
    assert_eq!(d["because"], serde_json::json!([3, 8]));

    // The ban was recorded on 2019-07-12: on 2019-07-11 the ledger did not know it yet.
    let (code, d) = json(
        &w,
        &[
            "check",
            "agency:ice",
            "cpd/clear/arrests",
            "read",
            "--at",
            "2019-07-11",
            "--known-at",
            "2019-07-11",
        ],
    );
    assert_eq!(code, 0, "what the ledger knew then: {d}");
    let (code, _) = json(
        &w,
        &[
            "check",
            "agency:ice",
            "cpd/clear/arrests",
            "read",
            "--at",
            "2019-07-11",
            "--known-at",
            "2019-07-13",
        ],
    );
    assert_eq!(
        code, 1,
        "once recorded, the ban applies from its effective date"
    );
}

#[test]
fn the_other_federal_agencies_keep_access() {
    let w = demo();
    for agency in ["agency:fbi", "agency:dea", "agency:atf", "agency:usms"] {
        let (code, d) = json(
            &w,
            &[
                "check",
                agency,
                "cpd/clear/arrests",
                "read",
                "--at",
                "2019-07-20",
            ],
        );
        assert_eq!(code, 0, "{agency}: {d}");
        assert_eq!(d["route"], "group:federal-partners");
    }
    let (_, rows) = json(&w, &["who-can", "cpd/clear", "read", "--at", "2019-07-20"]);
    let subjects: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["subject"].as_str().unwrap())
        .collect();
    assert_eq!(
        subjects,
        [
            "agency:atf",
            "agency:dea",
            "agency:fbi",
            "agency:usms",
            "group:federal-partners"
        ]
    );
    let (_, rows) = json(&w, &["who-can", "cpd/clear", "read", "--at", "2019-07-01"]);
    assert!(rows
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["subject"] == "agency:ice"));
}

#[test]
fn exposure_shows_the_indirect_path_through_the_sharing_agreement_and_flags_it() {
    let w = demo();
    let (_, e) = json(
        &w,
        &["exposure", "agency:ice", "cpd/clear", "--at", "2019-07-20"],
    );
    let paths = e["paths"].as_array().unwrap();
    let share = paths
        .iter()
        .find(|p| p["kind"] == "share")
        .expect("a path through the FBI's sharing agreement");
    let steps: Vec<(u64, &str)> = share["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["seq"].as_u64().unwrap(), s["subject"].as_str().unwrap()))
        .collect();
    assert_eq!(
        steps,
        [
            (3, "group:federal-partners"),
            (4, "agency:fbi"),
            (11, "agency:ice")
        ]
    );
    assert_eq!(
        share["banned"],
        serde_json::json!([12]),
        "flagged: it reaches a banned subject"
    );
    let (_, out, _) = w.run(&["exposure", "agency:ice", "cpd/clear", "--at", "2019-07-20"]);
    assert!(out.contains("FLAGGED: reaches a banned subject"), "{out}");
}

#[test]
fn history_and_changes_explain_the_timeline() {
    let w = demo();
    let (_, h) = json(&w, &["history", "--subject", "agency:ice"]);
    let seqs: Vec<u64> = h
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, [8, 9, 11, 12]);
    assert_eq!(h[3]["signer"], "test-only-cpd-records-clerk");
    let (_, c) = json(
        &w,
        &["changes", "--from", "2019-07-01", "--to", "2019-08-01"],
    );
    let rows = c.as_array().unwrap();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r["subject"] == "agency:ice"
        && r["gained"] == false
        && r["events"] == serde_json::json!([12])));
    let (code, out, _) = w.run(&["rebuild"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("ok: the stored indexes"), "{out}");
}

#[test]
fn bad_query_input_is_one_line_and_non_zero() {
    let w = demo();
    let err = w.fails(2, &["check", "ice", "cpd/clear", "read"]);
    assert!(err.contains("invalid subject \"ice\""), "{err}");
    let err = w.fails(
        2,
        &[
            "check",
            "agency:ice",
            "cpd/clear",
            "read",
            "--at",
            "2019-13-45",
        ],
    );
    assert!(err.contains("--at: invalid time \"2019-13-45\""), "{err}");
    let err = w.fails(
        2,
        &[
            "check",
            "agency:ice",
            "cpd/clear",
            "read",
            "--known-at",
            "2015-06-01",
        ],
    );
    assert!(err.contains("is before the ledger began"), "{err}");
    let err = w.fails(2, &["check", "agency:ice", "cpd/clear", "*"]);
    assert!(err.contains("wildcard"), "{err}");
    let err = w.fails(
        2,
        &["changes", "--from", "2019-08-01", "--to", "2019-07-01"],
    );
    assert!(err.contains("empty period"), "{err}");
    let (code, _, err) = w.run(&["history"]);
    assert_eq!(code, 2, "{err}");
}
