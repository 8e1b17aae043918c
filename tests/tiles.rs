//! Publishing the log as static tiles, and mirroring it into a verified read
//! replica (docs/TRANSPARENCY.md, "Tiles"): over HTTP from a server inside
//! the test, incrementally, and refusing every kind of tampering with the
//! replica left as it was.

use std::fs;
use std::path::{Path, PathBuf};

use access_ledger::Timestamp;

use crate::util::*;

/// `n` import lines of grants, memberships and sharing agreements; `tag`
/// makes two batches differ.
fn events(from: usize, n: usize, tag: &str) -> String {
    let mut out = String::new();
    for i in from..from + n {
        let date = format!("201{}-0{}-1{}", 6 + i % 3, 1 + i % 9, i % 10);
        let line = match i % 4 {
            0 => format!(
                r#"{{"type":"join","member":"agency:a{}","group":"group:g{}","effective_at":"{date}"}}"#,
                i % 7,
                i % 3
            ),
            1 => format!(
                r#"{{"type":"grant","subject":"group:g{}","resource":"db/t{}","rights":["read"],"basis":"{tag} {i}","effective_at":"{date}"}}"#,
                i % 3,
                i % 4
            ),
            2 => format!(
                r#"{{"type":"grant","subject":"agency:a{}","resource":"db/t{}/c{}","rights":["read","export"],"basis":"{tag} {i}","effective_at":"{date}"}}"#,
                i % 11,
                i % 4,
                i % 5
            ),
            _ => format!(
                r#"{{"type":"share","from":"agency:a{}","to":"agency:b{}","resource":"db/t{}","rights":["read"],"basis":"{tag} {i}","effective_at":"{date}"}}"#,
                i % 7,
                i % 3,
                i % 4
            ),
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

fn import(w: &Workspace, ledger: &Path, key: &str, lines: &str) {
    let file = w.path("batch.jsonl");
    fs::write(&file, lines).unwrap();
    let (code, _, err) = w.run_on(ledger, &["import", file.to_str().unwrap(), "--key", key]);
    assert_eq!(code, 0, "import: {err}");
}

fn publish(w: &Workspace, ledger: &Path, out: &Path, key: &str) -> serde_json::Value {
    let (code, stdout, err) = w.run_on(
        ledger,
        &[
            "publish",
            "--out",
            out.to_str().unwrap(),
            "--key",
            key,
            "--json",
        ],
    );
    assert_eq!(code, 0, "publish: {err}");
    serde_json::from_str(&stdout).unwrap()
}

fn mirror(w: &Workspace, replica: &Path, source: &str, vkey: &str) -> (i32, String, String) {
    w.run_on(replica, &["mirror", source, "--ledger-key", vkey, "--json"])
}

/// Every query the CLI answers, with fixed times, as (exit code, stdout).
fn answers(w: &Workspace, ledger: &Path, known_at: &str) -> Vec<(Vec<String>, i32, String)> {
    let mut asks: Vec<Vec<String>> = vec![
        vec!["log".into()],
        vec!["show".into(), "7".into()],
        vec!["verify".into()],
        vec!["checkpoints".into()],
        vec!["authority".into(), "list".into()],
        vec![
            "changes".into(),
            "--from".into(),
            "2016-01-01".into(),
            "--to".into(),
            "2019-01-01".into(),
            "--known-at".into(),
            known_at.into(),
        ],
    ];
    let q = |mut v: Vec<String>, at: &str| {
        v.extend([
            "--at".into(),
            at.into(),
            "--known-at".into(),
            known_at.into(),
        ]);
        v
    };
    for at in ["2016-06-01", "2017-09-15", "2018-12-31"] {
        for s in [
            "agency:a1",
            "agency:a3",
            "agency:b2",
            "group:g0",
            "group:g2",
        ] {
            asks.push(q(vec!["what-can".into(), s.into()], at));
        }
        for r in ["db/t0", "db/t1/c2", "db/t3/c4"] {
            asks.push(q(vec!["who-can".into(), r.into(), "read".into()], at));
        }
        asks.push(q(
            vec![
                "check".into(),
                "agency:a3".into(),
                "db/t1/c1".into(),
                "read".into(),
            ],
            at,
        ));
        asks.push(q(
            vec!["exposure".into(), "agency:a2".into(), "db/t2".into()],
            at,
        ));
    }
    asks.push(q(
        vec!["history".into(), "--subject".into(), "agency:a4".into()],
        "2018-01-01",
    ));
    asks.push(q(
        vec!["history".into(), "--resource".into(), "db/t2".into()],
        "2018-01-01",
    ));
    asks.into_iter()
        .map(|mut a| {
            a.push("--json".into());
            let args: Vec<&str> = a.iter().map(String::as_str).collect();
            let (code, out, err) = w.run_on(ledger, &args);
            assert!(code == 0 || code == 1, "{a:?}: {err}");
            (a, code, out)
        })
        .collect()
}

fn assert_same_answers(w: &Workspace, original: &Path, replica: &Path) {
    let known_at = Timestamp::now().rfc3339();
    let a = answers(w, original, &known_at);
    let b = answers(w, replica, &known_at);
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x, y, "the replica answers {:?} differently", x.0);
    }
}

fn verifier_key(site: &Path) -> String {
    let meta: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(site.join("access-ledger.json")).unwrap())
            .unwrap();
    meta["verifier_key"].as_str().unwrap().to_owned()
}

/// What a replica holds, to compare before and after a refusal.
fn snapshot(w: &Workspace, replica: &Path) -> (String, String) {
    let (c1, log, e1) = w.run_on(replica, &["log", "--json"]);
    let (c2, verify, e2) = w.run_on(replica, &["verify", "--json"]);
    assert_eq!((c1, c2), (0, 0), "{e1}{e2}");
    (log, verify)
}

/// The ledger at two sizes published into two sites, a replica of the
/// first, and a fork of the ledger published at the second size.
struct Setup {
    w: Workspace,
    vkey: String,
    /// 601 entries.
    site1: PathBuf,
    /// 1,101 entries: the first 601 and 500 more.
    site2: PathBuf,
    /// 1,101 entries: the first 601 and 500 others.
    fork: PathBuf,
    /// A replica of site1.
    replica: PathBuf,
}

fn setup() -> Setup {
    let w = Workspace::new();
    w.init("admin");
    let ledger = w.ledger();
    let admin = w.key("admin");
    import(&w, &ledger, &admin, &events(0, 600, "first"));
    let site1 = w.path("site1");
    publish(&w, &ledger, &site1, &admin);
    let vkey = verifier_key(&site1);
    let replica = w.path("replica");
    let (code, _, err) = mirror(&w, &replica, site1.to_str().unwrap(), &vkey);
    assert_eq!(code, 0, "{err}");
    // The fork: a copy of the ledger at 601 entries, then other entries,
    // signed with a copy of the key (whose holder never saw the original's).
    let fork_ledger = w.path("fork-ledger");
    copy_dir(&ledger, &fork_ledger);
    fs::copy(&admin, w.path("fork-admin.key")).unwrap();
    import(
        &w,
        &fork_ledger,
        &w.key("fork-admin"),
        &events(600, 500, "forked"),
    );
    let fork = w.path("fork-site");
    publish(&w, &fork_ledger, &fork, &w.key("fork-admin"));
    import(&w, &ledger, &admin, &events(600, 500, "second"));
    let site2 = w.path("site2");
    copy_dir(&site1, &site2);
    publish(&w, &ledger, &site2, &admin);
    Setup {
        w,
        vkey,
        site1,
        site2,
        fork,
        replica,
    }
}

#[test]
fn publish_serve_mirror_append_republish_and_mirror_again() {
    let w = Workspace::new();
    w.init("admin");
    let ledger = w.ledger();
    let admin = w.key("admin");
    import(&w, &ledger, &admin, &events(0, 600, "first"));
    let site = w.path("site");
    let first = publish(&w, &ledger, &site, &admin);
    assert_eq!(first["size"], 601);
    assert_eq!(first["previous_size"], 0);
    for f in [
        "checkpoint",
        "access-ledger.json",
        "tile/0/000",
        "tile/0/001",
        "tile/0/002.p/89",
        "tile/1/000.p/2",
        "tile/entries/000",
        "tile/entries/001",
        "tile/entries/002.p/89",
    ] {
        assert!(site.join(f).is_file(), "{f} not published");
    }
    assert_eq!(
        fs::metadata(site.join("tile/0/000")).unwrap().len(),
        256 * 32
    );
    // The entry bundles hold each entry's exact bytes with a u16 length.
    let bundle = fs::read(site.join("tile/entries/000")).unwrap();
    let entries = access_ledger::bundle_entries(&bundle).unwrap();
    assert_eq!(entries.len(), 256);
    assert_eq!(entries[0], &entry_bytes(&ledger)[0][..]);

    let server = StaticServer::serve(&site);
    let vkey = verifier_key(&site);
    let replica = w.path("replica");
    let (code, out, err) = mirror(&w, &replica, &server.url(), &vkey);
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (report["previous_size"].as_u64(), report["size"].as_u64()),
        (Some(0), Some(601))
    );
    assert_same_answers(&w, &ledger, &replica);

    // Every write is refused on the replica, with one line.
    let grant = [
        "grant", "agency:x", "db", "--rights", "read", "--key", &admin,
    ];
    let (code, _, err) = w.run_on(&replica, &grant);
    assert_eq!(code, 3);
    assert_one_line_error(&err, "read replica");
    let (code, _, err) = w.run_on(&replica, &["checkpoint", "--key", &admin]);
    assert_eq!(code, 3);
    assert_one_line_error(&err, "read replica");
    let (code, _, err) = w.run_on(&replica, &["publish", "--out", "elsewhere"]);
    assert_eq!(code, 0, "a replica republishes what it holds: {err}");

    // Append, republish: only new and changed tiles are written.
    import(&w, &ledger, &admin, &events(600, 500, "second"));
    let second = publish(&w, &ledger, &site, &admin);
    assert_eq!(second["size"], 1101);
    assert_eq!(second["previous_size"], 601);
    // tile/0/000, tile/0/001, the two full bundles and the unchanged
    // metadata file stay as they were.
    assert_eq!(second["files_kept"], 5);
    assert!(site.join("tile/0/004.p/77").is_file());
    let served_before = server.requests.load(std::sync::atomic::Ordering::SeqCst);
    let (code, out, err) = mirror(&w, &replica, &server.url(), &vkey);
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["previous_size"], 601);
    assert_eq!(report["size"], 1101);
    // Only what is new was fetched: the checkpoint, bundles 2 to 4, and
    // the hash tiles they touch (never bundles 0 and 1).
    assert!(report["fetched_bytes"].as_u64().unwrap() < 1101 * 200);
    let served = server.requests.load(std::sync::atomic::Ordering::SeqCst) - served_before;
    assert!(served <= 10, "{served} requests for an incremental mirror");
    assert_same_answers(&w, &ledger, &replica);
    // Up to date: nothing to do.
    let (code, out, _) = w.run_on(&replica, &["mirror", &server.url(), "--ledger-key", &vkey]);
    assert_eq!(code, 0);
    assert!(out.contains("up to date"), "{out}");
    // The replica verifies on its own.
    let (code, _, err) = w.run_on(&replica, &["verify"]);
    assert_eq!(code, 0, "{err}");
}

/// Mirrors `source` into a copy of the replica and expects a refusal
/// (exit 4) naming `needle`, with the replica left as it was.
fn refused(s: &Setup, name: &str, source: &Path, needle: &str) {
    let replica = s.w.path(&format!("replica-{name}"));
    copy_dir(&s.replica, &replica);
    let before = snapshot(&s.w, &replica);
    let (code, _, err) = mirror(&s.w, &replica, source.to_str().unwrap(), &s.vkey);
    assert_eq!(code, 4, "{name}: {err}");
    assert_one_line_error(&err, needle);
    assert_eq!(
        snapshot(&s.w, &replica),
        before,
        "{name}: the replica changed"
    );
    assert!(!s.w.path(&format!("replica-{name}.mirror-staging")).exists());
}

fn tampered_copy(s: &Setup, name: &str, change: impl FnOnce(&Path)) -> PathBuf {
    let site = s.w.path(&format!("site-{name}"));
    copy_dir(&s.site2, &site);
    change(&site);
    site
}

fn flip(path: &Path, at: usize) {
    let mut b = fs::read(path).unwrap();
    b[at] ^= 0x01;
    fs::write(path, b).unwrap();
}

#[test]
fn tampering_is_refused_naming_what_and_where_and_the_replica_is_unchanged() {
    let s = setup();
    // The untampered second site extends the replica (the control).
    let control = s.w.path("replica-control");
    copy_dir(&s.replica, &control);
    let (code, _, err) = mirror(&s.w, &control, s.site2.to_str().unwrap(), &s.vkey);
    assert_eq!(code, 0, "{err}");

    let site = tampered_copy(&s, "hash-tile", |d| flip(&d.join("tile/0/003"), 100));
    refused(
        &s,
        "hash-tile",
        &site,
        "tile/0/003: hash 3 is not the one the entries give",
    );

    let site = tampered_copy(&s, "bundle", |d| flip(&d.join("tile/entries/003"), 300));
    refused(&s, "bundle", &site, "tile/entries/003");

    let site = tampered_copy(&s, "checkpoint", |d| {
        let cp = fs::read_to_string(d.join("checkpoint")).unwrap();
        let lines: Vec<&str> = cp.split('\n').collect();
        let changed = cp.replacen(lines[1], "1102", 1);
        fs::write(d.join("checkpoint"), changed).unwrap();
    });
    refused(&s, "checkpoint", &site, "checkpoint");

    let site = tampered_copy(&s, "forked-tile", |d| {
        fs::copy(s.fork.join("tile/0/003"), d.join("tile/0/003")).unwrap();
    });
    refused(
        &s,
        "forked-tile",
        &site,
        "tile/0/003: hash 0 is not the one",
    );

    let site = tampered_copy(&s, "forked-bundle", |d| {
        fs::copy(s.fork.join("tile/entries/003"), d.join("tile/entries/003")).unwrap();
    });
    refused(&s, "forked-bundle", &site, "tile/entries/003");

    let site = tampered_copy(&s, "missing-tile", |d| {
        fs::remove_file(d.join("tile/0/003")).unwrap()
    });
    refused(&s, "missing-tile", &site, "tile/0/003 is missing");

    let site = tampered_copy(&s, "missing-bundle", |d| {
        fs::remove_file(d.join("tile/entries/004.p/77")).unwrap()
    });
    refused(
        &s,
        "missing-bundle",
        &site,
        "tile/entries/004.p/77 is missing",
    );

    // A border tile (the replica's own last entries) from the fork: the
    // published tree no longer gives the replica's root.
    let site = tampered_copy(&s, "border", |d| {
        fs::copy(s.fork.join("tile/0/002"), d.join("tile/0/002")).unwrap();
    });
    refused(&s, "border", &site, "tile/0/002");
    // A changed hash among the replica's own: the published tree is not
    // the one the replica holds, which is a fork as far as it can tell.
    let site = tampered_copy(&s, "border-left", |d| flip(&d.join("tile/0/002"), 5));
    refused(
        &s,
        "border-left",
        &site,
        "another root at size 601; a forked log or a damaged tile among tile/0/002",
    );

    // A rolled-back checkpoint: the control replica holds 1,101 entries,
    // the first site publishes 601.
    let before = snapshot(&s.w, &control);
    let (code, _, err) = mirror(&s.w, &control, s.site1.to_str().unwrap(), &s.vkey);
    assert_eq!(code, 4, "{err}");
    assert_one_line_error(&err, "rollback: ");
    assert_eq!(snapshot(&s.w, &control), before);

    // A whole forked log, signed by the ledger's own key, of the size the
    // control replica holds: another root there.
    let (code, _, err) = mirror(&s.w, &control, s.fork.to_str().unwrap(), &s.vkey);
    assert_eq!(code, 4, "{err}");
    assert_one_line_error(&err, "fork: the tree");
    assert_eq!(snapshot(&s.w, &control), before);

    // A key that did not sign the checkpoint.
    let other = s.w.keygen("stranger");
    let (code, _, err) = mirror(&s.w, &control, s.site2.to_str().unwrap(), &other);
    assert_eq!(code, 4, "{err}");
    assert_one_line_error(&err, "checkpoint");
}

#[test]
fn mirror_refuses_to_write_into_a_ledger_and_publish_refuses_a_fork() {
    let s = setup();
    let (code, _, err) = mirror(&s.w, &s.w.ledger(), s.site2.to_str().unwrap(), &s.vkey);
    assert_eq!(code, 2, "{err}");
    assert_one_line_error(&err, "is a ledger, not a read replica");
    // Publishing the fork over the original's site would fork what readers saw.
    let site = s.w.path("site-overwrite");
    copy_dir(&s.site2, &site);
    let (code, _, err) = s.w.run_on(
        &s.w.path("fork-ledger"),
        &["publish", "--out", site.to_str().unwrap()],
    );
    assert_eq!(code, 4, "{err}");
    assert_one_line_error(&err, "a fork");
}

#[test]
fn a_witness_takes_its_proof_from_the_tiles() {
    let s = setup();
    let state = s.w.path("witness");
    s.w.keygen("council");
    let council = s.w.key("council");
    let wit = |site: &Path| {
        s.w.run_bare(&[
            "witness",
            "--state",
            state.to_str().unwrap(),
            "--ledger-key",
            &s.vkey,
            "--key",
            &council,
            "--tiles",
            site.to_str().unwrap(),
        ])
    };
    let (code, _, err) = wit(&s.site1);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = wit(&s.site2);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("example.gov/test\n1101\n"), "{out}");
    // The fork at a larger size is refused: its tiles give no proof from
    // the cosigned tree.
    let (code, _, err) = wit(&s.fork);
    assert_eq!(code, 4, "{err}");
    assert_one_line_error(&err, "witness refused");
}

#[test]
fn publish_computes_the_tree_from_the_entries_and_publishes_nothing_forged() {
    let w = Workspace::with_one_grant();
    w.ok(&["checkpoint", "--key", &w.key("admin")]);
    // Someone with the directory but no key changes a signed entry's bytes;
    // the stored tree nodes still match the checkpoint.
    {
        let ledger = access_ledger::Ledger::open(&w.ledger(), LOCK_WAIT).unwrap();
        let mut bytes = entry_bytes_of(&ledger, 1);
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        access_ledger::internal::tamper(&ledger)
            .overwrite_entry(1, &bytes)
            .unwrap();
    }
    let site = w.path("site");
    let err = w.fails(4, &["publish", "--out", site.to_str().unwrap()]);
    assert!(
        err.contains("do not hash to the root of the checkpoint; nothing published"),
        "{err}"
    );
    assert!(!site.join("checkpoint").exists());
    assert!(!site.join("tile").exists());
}

fn entry_bytes_of(ledger: &access_ledger::Ledger, seq: u64) -> Vec<u8> {
    ledger.entry(seq).unwrap().unwrap().bytes().to_vec()
}
