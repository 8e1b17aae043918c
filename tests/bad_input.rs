//! Workflow: a person or a script feeds the ledger something wrong. Every
//! refusal is one line naming what is wrong, a documented exit code, and
//! nothing written.

mod common;

use std::time::Duration;

use common::Workspace;

fn setup() -> Workspace {
    let w = Workspace::new();
    w.init("admin");
    w.ok(&[
        "grant",
        "agency:fbi",
        "cpd/clear",
        "--rights",
        "read",
        "--effective-at",
        "2016-02-01",
        "--key",
        &w.key("admin"),
    ]);
    w
}

#[test]
fn bad_arguments_are_refused_with_nothing_written() {
    let w = setup();
    let k = w.key("admin");
    let before = w.log_json();
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        (
            vec!["grant", "ICE", "cpd", "--rights", "read"],
            2,
            "invalid subject \"ICE\"",
        ),
        (
            vec!["grant", "agency:ice", "/cpd", "--rights", "read"],
            2,
            "invalid resource \"/cpd\"",
        ),
        (
            vec!["grant", "agency:ice", "cpd", "--rights", ""],
            2,
            "--rights: invalid rights: a rights set must name at least one right",
        ),
        (
            vec!["grant", "agency:ice", "cpd", "--rights", "Read"],
            2,
            "invalid right \"Read\"",
        ),
        (
            vec![
                "grant",
                "agency:ice",
                "cpd",
                "--rights",
                "read",
                "--effective-at",
                "last tuesday",
            ],
            2,
            "--effective-at: invalid time \"last tuesday\"",
        ),
        (
            vec![
                "grant",
                "agency:ice",
                "cpd",
                "--rights",
                "read",
                "--effective-at",
                "2019-03-10T02:30",
            ],
            2,
            "daylight-saving gap",
        ),
        (
            vec![
                "grant",
                "agency:ice",
                "cpd",
                "--rights",
                "read",
                "--effective-at",
                "2020-01-01",
                "--until",
                "2019-01-01",
            ],
            3,
            "is not after effective_at",
        ),
        (
            vec!["join", "agency:ice", "agency:fbi"],
            3,
            "agency:fbi is not a group",
        ),
        (
            vec!["leave", "agency:ice", "group:feds"],
            3,
            "agency:ice never joined group:feds",
        ),
        (
            vec![
                "share",
                "agency:fbi",
                "agency:fbi",
                "cpd",
                "--rights",
                "read",
            ],
            3,
            "two different subjects",
        ),
        (
            vec!["revoke", "agency:ice", "cpd", "--reason", "bell\u{7}"],
            2,
            "invalid reason: contains a control character",
        ),
    ];
    for (args, code, needle) in cases {
        let mut a = args.clone();
        a.extend(["--key", &k]);
        let err = w.fails(code, &a);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    assert_eq!(w.log_json(), before);
}

#[test]
fn group_cycles_are_refused() {
    let w = setup();
    let k = w.key("admin");
    w.ok(&["join", "group:a", "group:b", "--key", &k]);
    w.ok(&["join", "group:b", "group:c", "--key", &k]);
    let before = w.log_json();
    let err = w.fails(3, &["join", "group:c", "group:a", "--key", &k]);
    assert!(
        err.contains("group:c joining group:a would close a cycle of groups"),
        "{err}"
    );
    w.fails(3, &["join", "group:a", "group:a", "--key", &k]);
    // Leaving does not make room for a cycle: the graph of all joins counts.
    w.ok(&["leave", "group:b", "group:c", "--key", &k]);
    let before2 = w.log_json();
    w.fails(3, &["join", "group:c", "group:a", "--key", &k]);
    assert_eq!(w.log_json(), before2);
    assert_ne!(before, before2);
}

#[test]
fn keys_that_are_not_authorities_or_not_keys_are_refused() {
    let w = setup();
    let before = w.log_json();
    w.keygen("stranger");
    let err = w.fails(
        3,
        &[
            "grant",
            "agency:ice",
            "cpd",
            "--rights",
            "read",
            "--key",
            &w.key("stranger"),
        ],
    );
    assert!(
        err.contains("(stranger) is not an authority of this ledger"),
        "{err}"
    );
    std::fs::write(w.path("junk.key"), "not a key\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(w.path("junk.key"), std::fs::Permissions::from_mode(0o600))
            .unwrap();
    }
    let err = w.fails(
        6,
        &[
            "grant",
            "agency:ice",
            "cpd",
            "--rights",
            "read",
            "--key",
            &w.key("junk"),
        ],
    );
    assert!(
        err.contains("junk.key has no `# name:` line")
            || err.contains("is not an ed25519 private key"),
        "{err}"
    );
    let err = w.fails(
        6,
        &[
            "grant",
            "agency:ice",
            "cpd",
            "--rights",
            "read",
            "--key",
            "missing.key",
        ],
    );
    assert!(err.contains("missing.key"), "{err}");
    assert_eq!(w.log_json(), before);
}

#[test]
fn import_names_the_bad_line_and_writes_nothing() {
    let w = setup();
    let k = w.key("admin");
    let before = w.log_json();
    let good = r#"{"type":"grant","subject":"agency:dea","resource":"cpd","rights":["read"],"basis":"b","effective_at":"2017-01-01"}"#;
    let cases: Vec<(String, i32, &str)> = vec![
        (format!("{good}\n{{not json\n"), 2, "line 2: not valid JSON"),
        (format!("{good}\n{good}\n{{\"type\":\"grant\",\"subject\":\"agency:x\",\"resource\":\"cpd\",\"rights\":[\"read\"],\"colour\":\"red\"}}\n"), 2, "line 3: unknown field `colour` for a grant event"),
        ("{\"type\":\"grnat\"}\n".into(), 2, "line 1: field `type`: unknown event type \"grnat\""),
        ("{\"type\":\"grant\",\"resource\":\"cpd\",\"rights\":[\"read\"]}\n".into(), 2, "line 1: missing field `subject`"),
        ("{\"type\":\"grant\",\"subject\":\"agency:x\",\"resource\":\"cpd\",\"rights\":[]}\n".into(), 2, "line 1: field `rights`: invalid rights"),
        ("{\"type\":\"grant\",\"subject\":\"agency:x\",\"resource\":\"cpd\",\"rights\":\"read\"}\n".into(), 2, "line 1: field `rights`: expected an array of strings"),
        // Historical entries must not go backwards, nor into the future, nor before genesis.
        (format!("{good}\n{{\"type\":\"join\",\"member\":\"agency:x\",\"group\":\"group:g\",\"recorded_at\":\"2018-01-01\"}}\n{{\"type\":\"join\",\"member\":\"agency:y\",\"group\":\"group:g\",\"recorded_at\":\"2017-01-01\"}}\n"), 3, "line 2: recorded_at 2018-01-01T06:00:00Z is before the previous entry's"),
        ("{\"type\":\"join\",\"member\":\"agency:x\",\"group\":\"group:g\",\"recorded_at\":\"2999-01-01\"}\n".into(), 3, "is in the future"),
        ("{\"type\":\"join\",\"member\":\"agency:x\",\"group\":\"group:g\",\"recorded_at\":\"2015-01-01\"}\n".into(), 3, "is before the previous entry's"),
        // A ban inside the batch binds the rest of the batch.
        (format!("{{\"type\":\"revoke\",\"subject\":\"agency:dea\",\"resource\":\"cpd\",\"permanent\":true}}\n{good}\n"), 3, "line 2: grant to agency:dea on cpd overlaps the permanent revocation at seq 2"),
        ("\n\n".into(), 2, "no events to import"),
    ];
    for (i, (text, code, needle)) in cases.iter().enumerate() {
        let f = format!("case{i}.jsonl");
        std::fs::write(w.path(&f), text).unwrap();
        let err = w.fails(*code, &["import", &f, "--key", &k]);
        assert!(err.contains(needle), "case {i}: {err}");
        assert_eq!(w.log_json(), before, "case {i} wrote something");
    }
    let err = w.fails(6, &["import", "nope.jsonl", "--key", &k]);
    assert!(err.contains("cannot read nope.jsonl"), "{err}");
}

#[test]
fn directories_that_are_not_ledgers_are_refused() {
    let w = Workspace::new();
    let err = w.fails(6, &["verify"]);
    assert!(err.contains("no ledger at"), "{err}");
    assert!(
        err.contains("hint: run `access-ledger init` first"),
        "{err}"
    );
    std::fs::create_dir(w.ledger()).unwrap();
    std::fs::write(w.ledger().join("notes.txt"), "hello").unwrap();
    let err = w.fails(6, &["log"]);
    assert!(err.contains("is not a ledger directory"), "{err}");
    // init refuses a non-empty directory, and leaves it as it was.
    w.keygen("admin");
    let err = w.fails(
        2,
        &[
            "init",
            "--origin",
            "x.example/y",
            "--time-zone",
            "America/Chicago",
            "--key",
            &w.key("admin"),
        ],
    );
    assert!(err.contains("exists and is not empty"), "{err}");
    assert_eq!(std::fs::read_dir(w.ledger()).unwrap().count(), 1);
    // Bad init arguments.
    let (code, _, err) = w.run_bare(&[
        "--ledger",
        "new",
        "init",
        "--origin",
        "x.example/y",
        "--time-zone",
        "Mars/Base",
        "--key",
        &w.key("admin"),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown time zone \"Mars/Base\""), "{err}");
    assert!(!w.path("new").exists());
}

#[test]
fn a_damaged_store_is_reported_not_panicked_on() {
    let w = setup();
    // Corrupt sled's files wholesale.
    for entry in std::fs::read_dir(w.ledger()).unwrap() {
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

#[test]
fn a_second_process_is_refused_cleanly_while_the_ledger_is_in_use() {
    let w = setup();
    let before = w.log_json();
    let held = access_ledger::Ledger::open(&w.ledger(), Duration::from_secs(1)).unwrap();
    let err = w.fails(
        5,
        &[
            "--wait",
            "0.2",
            "grant",
            "agency:dea",
            "cpd",
            "--rights",
            "read",
            "--key",
            &w.key("admin"),
        ],
    );
    assert!(err.contains("is in use by another process"), "{err}");
    let err = w.fails(5, &["--wait", "0.2", "log"]);
    assert!(err.contains("in use"), "{err}");
    drop(held);
    assert_eq!(w.log_json(), before);
    w.ok(&["verify"]);
}

#[test]
fn keys_never_go_into_a_ledger_directory() {
    let w = setup();
    let err = w.fails(6, &["keygen", "--name", "x", "--out", "ledger/x.key"]);
    assert!(err.contains("private keys never enter a ledger"), "{err}");
    assert!(!w.ledger().join("x.key").exists());
    let err = w.fails(6, &["keygen", "--name", "admin", "--out", "admin.key"]);
    assert!(err.contains("exists already"), "{err}");
}
