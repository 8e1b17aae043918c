//! Workflow: "Can ICE still get the data through them?", asked through the
//! command line the way an adversary would try it (issue 11's four
//! findings), and the Chicago demo's answer.

use serde_json::Value;

use crate::util::Workspace;

/// A ledger in America/Chicago, back-dated to 2016, with `lines` imported
/// (one JSON event per line) by a writer.
fn ledger(lines: &[String]) -> (Workspace, String) {
    let w = Workspace::new();
    w.init("admin");
    w.add_authority("clerk", "writer");
    let k = w.key("clerk");
    std::fs::write(w.path("events.jsonl"), lines.join("\n") + "\n").unwrap();
    w.ok(&["import", "events.jsonl", "--key", &k]);
    (w, k)
}

fn json(w: &Workspace, args: &[&str]) -> Value {
    let mut a = args.to_vec();
    a.push("--json");
    let (code, out, err) = w.run(&a);
    assert!(code == 0 || code == 1, "{args:?}: {err}");
    serde_json::from_str(&out).unwrap()
}

fn grant(s: &str, r: &str, rights: &str) -> String {
    format!(
        r#"{{"type":"grant","subject":"{s}","resource":"{r}","rights":["{rights}"],"basis":"b","effective_at":"2017-01-01"}}"#
    )
}
fn share(a: &str, b: &str, r: &str) -> String {
    format!(
        r#"{{"type":"share","from":"{a}","to":"{b}","resource":"{r}","rights":["read"],"basis":"b","effective_at":"2017-01-01"}}"#
    )
}
fn join(m: &str, g: &str) -> String {
    format!(r#"{{"type":"join","member":"{m}","group":"{g}","effective_at":"2017-01-01"}}"#)
}
fn ban(s: &str, r: &str) -> String {
    format!(
        r#"{{"type":"revoke","subject":"{s}","resource":"{r}","reason":"order","effective_at":"2019-07-10","permanent":true}}"#
    )
}

/// Finding 1: a chain of nine sharing agreements and a nesting of ten
/// groups were cut by the old 8-step limit, silently.
#[test]
fn long_share_chains_and_deep_groups_are_followed_to_the_end() {
    let mut lines = vec![grant("agency:fbi", "cpd", "read")];
    let chain: Vec<String> = std::iter::once("agency:fbi".to_owned())
        .chain((1..=8).map(|i| format!("agency:a{i}")))
        .chain(std::iter::once("agency:ice".to_owned()))
        .collect();
    for pair in chain.windows(2) {
        lines.push(share(&pair[0], &pair[1], "cpd"));
    }
    lines.push(grant("group:g10", "cpd", "read"));
    for i in 1..10 {
        lines.push(join(&format!("group:g{i}"), &format!("group:g{}", i + 1)));
    }
    let (w, _) = ledger(&lines);
    let v = json(&w, &["exposure", "agency:ice", "cpd"]);
    assert_eq!(
        (v["total"].clone(), v["truncated"].clone()),
        (1.into(), false.into())
    );
    assert_eq!(v["paths"][0]["steps"].as_array().unwrap().len(), 10);
    let v = json(&w, &["exposure", "group:g1", "cpd"]);
    assert_eq!(v["total"], 1);
    assert_eq!(v["paths"][0]["kind"], "group");
    assert_eq!(v["paths"][0]["steps"].as_array().unwrap().len(), 10);
    w.ok(&["check", "group:g1", "cpd", "read"]);
}

/// Finding 2: ICE is banned from cpd/clear; the FBI shares all of cpd.
#[test]
fn a_share_carrying_part_of_the_banned_data_is_flagged() {
    let (w, _) = ledger(&[
        grant("agency:fbi", "cpd", "read"),
        share("agency:fbi", "agency:ice", "cpd"),
        ban("agency:ice", "cpd/clear"),
    ]);
    let v = json(&w, &["exposure", "agency:ice", "cpd"]);
    assert_eq!(v["flagged"], 1);
    assert_eq!(v["paths"][0]["banned"], serde_json::json!([4]));
    let out = w.ok(&["exposure", "agency:ice", "cpd"]);
    assert!(out.contains("1 path(s), 1 flagged"), "{out}");
    assert!(out.contains("FLAGGED"), "{out}");
}

/// Finding 3: after group:ice is banned, a grant to its member officer1 is
/// refused, check denies officer1 naming the group's ban, and a share to
/// officer1 is flagged and reported by verify as a back door.
#[test]
fn a_ban_on_a_group_reaches_its_members() {
    let (w, k) = ledger(&[
        join("user:officer1", "group:ice"),
        grant("agency:fbi", "cpd", "read"),
        ban("group:ice", "cpd"),
    ]);
    let (code, _, err) = w.run(&[
        "grant",
        "user:officer1",
        "cpd",
        "--rights",
        "read",
        "--key",
        &k,
    ]);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("a ban on a group reaches its members"),
        "{err}"
    );
    let d = json(&w, &["check", "user:officer1", "cpd/x", "read"]);
    assert_eq!(
        (d["allowed"].clone(), d["banned_by"].clone()),
        (false.into(), 4.into())
    );
    w.ok(&[
        "share",
        "agency:fbi",
        "user:officer1",
        "cpd",
        "--rights",
        "read",
        "--key",
        &k,
    ]);
    let v = json(&w, &["exposure", "user:officer1", "cpd"]);
    assert_eq!(v["paths"][0]["banned"], serde_json::json!([4]));
    let out = w.ok(&["verify"]);
    assert!(out.contains("group:ice denied * on cpd"), "{out}");
    assert!(out.contains("BACK DOOR OPEN"), "{out}");
}

/// The limit: a subject reached by many agreements; the rest is counted.
#[test]
fn exposure_says_how_many_it_left_out() {
    let mut lines = Vec::new();
    for i in 0..25 {
        lines.push(grant(&format!("agency:p{i:02}"), "cpd", "read"));
        lines.push(share(&format!("agency:p{i:02}"), "agency:ice", "cpd"));
    }
    let (w, _) = ledger(&lines);
    let out = w.ok(&["exposure", "agency:ice", "cpd"]);
    assert!(out.contains(": 25 path(s), 0 flagged"), "{out}");
    assert!(out.contains("  path 20 "), "{out}");
    assert!(!out.contains("  path 21 "), "{out}");
    assert!(out.trim_end().ends_with("and 5 more (use --all)"), "{out}");
    let v = json(&w, &["exposure", "agency:ice", "cpd", "--limit", "3"]);
    assert_eq!(
        (
            v["total"].clone(),
            v["shown"].clone(),
            v["truncated"].clone()
        ),
        (25.into(), 3.into(), true.into())
    );
    assert_eq!(v["paths"].as_array().unwrap().len(), 3);
    let all = w.ok(&["exposure", "agency:ice", "cpd", "--all"]);
    assert!(
        all.contains("  path 25 ") && !all.contains("more (use --all)"),
        "{all}"
    );
}

/// The demo: the FBI's agreement with ICE is a back door of ban 12, and a
/// chain of nine task-force agreements one of ban 16 (group:ice).
#[test]
fn the_chicago_demo_shows_its_back_doors() {
    let w = Workspace::new();
    w.ok(&["demo", "--out", "demo"]);
    std::fs::rename(w.path("demo/ledger"), w.ledger()).unwrap();
    let v = json(&w, &["verify"]);
    let bans = v["report"]["bans"].as_array().unwrap();
    assert_eq!(bans[0]["seq"], 12);
    assert_eq!(bans[0]["commitment"]["status"], "back_door_open");
    let seqs = |p: &Value| -> Vec<u64> {
        p["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["seq"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(seqs(&bans[0]["commitment"]["paths"][0]["path"]), [3, 4, 11]);
    assert_eq!(bans[1]["seq"], 16);
    assert_eq!(bans[1]["commitment"]["status"], "back_door_open");
    let p = &bans[1]["commitment"]["paths"][0];
    assert_eq!(p["subject"], "user:ice-analyst-2");
    let mut want = vec![3, 4];
    want.extend(17..=25);
    assert_eq!(seqs(&p["path"]), want);
    let d = json(
        &w,
        &[
            "check",
            "user:ice-analyst-2",
            "cpd/clear/arrests",
            "read",
            "--at",
            "2019-08-02",
        ],
    );
    assert_eq!(d["banned_by"], 16);
    let d = json(
        &w,
        &[
            "check",
            "user:ice-analyst-1",
            "cpd",
            "read",
            "--at",
            "2019-07-09",
        ],
    );
    assert_eq!(
        (d["allowed"].clone(), d["banned_by"].clone()),
        (false.into(), Value::Null)
    );
}
