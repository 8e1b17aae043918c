//! The city-council oversight export (issue 10): `export`, `verify-export`
//! and `backup`, run as the real binary on the Chicago 2019 demo ledger.
//!
//! Every tamper test changes one thing in a copy of a good bundle and
//! requires `verify-export` to fail with exit 4 naming the cause (file, and
//! line and seq where they apply). Verification checks contents before
//! hashes, so a tamperer who also re-signs the MANIFEST (they hold the
//! checkpoint key) is caught by the same cause: `resign` does that.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use access_ledger::{
    entry_line, note_key_id, Entry, Ledger, SecretKey, NOTE_ALG_ED25519, SIGNATURE_LINE_PREFIX,
};
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::util::{assert_one_line_error, new_key, Workspace, LOCK_WAIT};

const SIGNER: &str = "demo/keys/test-only-city-log-signer.key";
const CLERK: &str = "demo/keys/test-only-cpd-records-clerk.key";
const FROM: &str = "2019-07-01";
const TO: &str = "2019-10-01";

/// The demo ledger, a checkpoint `old.txt` after one more grant, a second
/// grant, and the bundle `good/` of the third quarter of 2019 exported with
/// `--since old.txt`. Returns the workspace and the verifier key.
fn setup() -> (Workspace, String) {
    let w = Workspace::new();
    w.ok(&["demo", "--out", "demo"]);
    let on = |args: &[&str]| {
        let (code, out, err) = w.run_on(&w.path("demo/ledger"), args);
        assert_eq!(code, 0, "{args:?}: {err}");
        out
    };
    on(&[
        "grant",
        "agency:cook-county",
        "cpd/clear",
        "--rights",
        "read",
        "--basis",
        "=HYPERLINK(\"http://evil.example\") <script>alert(1)</script>",
        "--effective-at",
        "2019-08-15",
        "--key",
        CLERK,
    ]);
    let old = on(&["checkpoint", "--key", SIGNER]);
    fs::write(w.path("old.txt"), old).unwrap();
    on(&[
        "grant",
        "agency:state-police",
        "cpd/clear/arrests",
        "--rights",
        "read",
        "--key",
        CLERK,
    ]);
    let vkey = export(&w, "good", true);
    (w, vkey)
}

/// Exports the period into `out`; returns the verifier key.
fn export(w: &Workspace, out: &str, since: bool) -> String {
    let mut args = vec![
        "export", "--from", FROM, "--to", TO, "--out", out, "--key", SIGNER, "--json",
    ];
    if since {
        args.extend(["--since", "old.txt"]);
    }
    let (code, stdout, err) = w.run_on(&w.path("demo/ledger"), &args);
    assert_eq!(code, 0, "export failed: {err}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    v["ledger_key"].as_str().unwrap().to_owned()
}

fn verify(w: &Workspace, dir: &str, vkey: &str, since: Option<&str>) -> (i32, String, String) {
    let mut args = vec!["verify-export", dir, "--ledger-key", vkey];
    if let Some(s) = since {
        args.extend(["--since", s]);
    }
    w.run_bare(&args)
}

/// A copy of `good/` named `name`, changed by `tamper`.
fn tampered(w: &Workspace, name: &str, tamper: impl FnOnce(&Path)) -> PathBuf {
    let dir = w.path(name);
    fs::create_dir(&dir).unwrap();
    for e in fs::read_dir(w.path("good")).unwrap() {
        let e = e.unwrap();
        fs::copy(e.path(), dir.join(e.file_name())).unwrap();
    }
    tamper(&dir);
    dir
}

/// Asserts that `dir` fails verification with exit 4 naming every needle.
fn fails(w: &Workspace, dir: &Path, vkey: &str, since: Option<&str>, needles: &[&str]) {
    let (code, out, err) = verify(w, dir.to_str().unwrap(), vkey, since);
    assert_eq!(code, 4, "expected exit 4, got {code}: {out}{err}");
    assert_one_line_error(&err, "the bundle does not verify");
    for n in needles {
        assert!(err.contains(n), "{n:?} not in {err}");
    }
}

fn edit(path: &Path, f: impl FnOnce(String) -> String) {
    let text = fs::read_to_string(path).unwrap();
    let new = f(text.clone());
    assert_ne!(new, text, "the edit changed nothing in {}", path.display());
    fs::write(path, new).unwrap();
}

fn lines_of(path: &Path) -> Vec<String> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn write_lines(path: &Path, lines: &[String]) {
    fs::write(path, lines.join("\n") + "\n").unwrap();
}

/// Rewrites the MANIFEST's hashes for the files as they are now and signs
/// it again with the checkpoint key, as a tamperer holding that key would.
fn resign(w: &Workspace, dir: &Path) {
    let key = SecretKey::read(&w.path(SIGNER)).unwrap();
    let manifest = fs::read_to_string(dir.join("MANIFEST")).unwrap();
    let text = &manifest[..manifest.find("\n\n").unwrap() + 1];
    let mut out = String::new();
    for line in text.lines() {
        let parts: Vec<&str> = line.splitn(3, ' ').collect();
        if parts.len() == 3 && (parts[0] == "verified" || parts[0] == "attested") {
            let bytes = fs::read(dir.join(parts[2])).unwrap();
            out.push_str(&format!(
                "{} {} {}\n",
                parts[0],
                hex::encode(Sha256::digest(&bytes)),
                parts[2]
            ));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    let name = key.name().as_str();
    let mut raw = note_key_id(name, NOTE_ALG_ED25519, &key.public()).to_vec();
    raw.extend_from_slice(&key.sign(out.as_bytes()));
    let sig = base64::engine::general_purpose::STANDARD.encode(raw);
    fs::write(
        dir.join("MANIFEST"),
        format!("{out}\n{SIGNATURE_LINE_PREFIX}{name} {sig}\n"),
    )
    .unwrap();
}

#[test]
fn a_bundle_verifies_and_the_same_period_gives_the_same_bytes() {
    let (w, vkey) = setup();
    let (code, out, err) = verify(&w, "good", &vkey, Some("old.txt"));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("ok: the bundle of chicago.gov/cpd-access-demo"),
        "{out}"
    );
    assert!(
        out.contains("It extends the checkpoint given with --since"),
        "{out}"
    );
    assert_eq!(out.lines().count(), 1, "one paragraph: {out}");
    // Again, with the same checkpoint: every byte the same.
    export(&w, "again", true);
    let listing = |d: &str| {
        let mut v: Vec<(String, Vec<u8>)> = fs::read_dir(w.path(d))
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    fs::read(e.path()).unwrap(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let (a, b) = (listing("good"), listing("again"));
    assert_eq!(
        a.len(),
        11,
        "{:?}",
        a.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    for ((na, ba), (nb, bb)) in a.iter().zip(&b) {
        assert_eq!(na, nb);
        assert!(
            ba == bb,
            "{na} differs between two exports of the same checkpoint"
        );
    }
    // A non-empty --out is refused; so is a period that is not over.
    let l = w.path("demo/ledger");
    let (code, _, err) = w.run_on(
        &l,
        &[
            "export", "--from", FROM, "--to", TO, "--out", "good", "--key", SIGNER,
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert_one_line_error(&err, "not empty");
    let (code, _, err) = w.run_on(
        &l,
        &[
            "export",
            "--from",
            FROM,
            "--to",
            "2999-01-01",
            "--out",
            "future",
            "--key",
            SIGNER,
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert_one_line_error(&err, "after now");
    // A key without the checkpoint role may not sign one.
    let (code, _, err) = w.run_on(
        &l,
        &[
            "export", "--from", FROM, "--to", TO, "--out", "clerk", "--key", CLERK,
        ],
    );
    assert_eq!(code, 3, "{err}");
    // The entries are the `log --json` lines, byte for byte.
    let (_, log, _) = w.run_on(&l, &["log", "--json"]);
    let jsonl = fs::read_to_string(w.path("good/entries.jsonl")).unwrap();
    assert_eq!(log, jsonl);
}

#[test]
fn tampered_entries_are_named_by_line_and_seq() {
    let (w, vkey) = setup();
    let entries = |d: &Path| d.join("entries.jsonl");
    // A decoded field edited: the signed bytes say otherwise.
    let d = tampered(&w, "field", |d| {
        edit(&entries(d), |t| {
            t.replacen("Mayor Lightfoot", "Mayor Daley", 1)
        })
    });
    fails(
        &w,
        &d,
        &vkey,
        None,
        &["entries.jsonl line 13 (seq 12)", "field \"reason\""],
    );
    // Dropped, reordered, inserted.
    let d = tampered(&w, "dropped", |d| {
        let mut l = lines_of(&entries(d));
        l.remove(10);
        write_lines(&entries(d), &l);
    });
    fails(
        &w,
        &d,
        &vkey,
        None,
        &[
            "entries.jsonl line 11 (seq 10)",
            "dropped, inserted or reordered",
        ],
    );
    let d = tampered(&w, "reordered", |d| {
        let mut l = lines_of(&entries(d));
        l.swap(10, 11);
        write_lines(&entries(d), &l);
    });
    fails(
        &w,
        &d,
        &vkey,
        None,
        &["entries.jsonl line 11 (seq 10)", "reordered"],
    );
    let d = tampered(&w, "inserted", |d| {
        let mut l = lines_of(&entries(d));
        let copy = l[10].clone();
        l.insert(11, copy);
        write_lines(&entries(d), &l);
    });
    fails(
        &w,
        &d,
        &vkey,
        None,
        &["entries.jsonl line 12 (seq 11)", "inserted"],
    );
    // Re-signed, consistently, by a key that is no authority.
    let d = tampered(&w, "resigned", |d| {
        let mut l = lines_of(&entries(d));
        let v: serde_json::Value = serde_json::from_str(&l[12]).unwrap();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(v["bytes"].as_str().unwrap())
            .unwrap();
        let e = Entry::decode(&bytes).unwrap();
        let genesis: serde_json::Value = serde_json::from_str(&l[0]).unwrap();
        let id = access_ledger::Entry::decode(
            &base64::engine::general_purpose::STANDARD
                .decode(genesis["bytes"].as_str().unwrap())
                .unwrap(),
        )
        .unwrap();
        let forged = Entry::sign(
            e.seq(),
            *e.prev_hash(),
            e.recorded_at(),
            e.body().clone(),
            &new_key("mallory"),
            id.hash(),
        );
        l[12] = entry_line(&forged, None);
        write_lines(&entries(d), &l);
        resign(&w, d);
    });
    fails(
        &w,
        &d,
        &vkey,
        None,
        &["entries.jsonl line 13 (seq 12)", "is not an authority"],
    );
}

#[test]
fn tampered_tables_checkpoints_proofs_and_files_are_named() {
    let (w, vkey) = setup();
    // A CSV cell: caught by recomputation even when the MANIFEST is re-signed.
    let d = tampered(&w, "csv", |d| {
        edit(&d.join("changes.csv"), |t| {
            t.replacen(",lost,", ",gained,", 1)
        });
        resign(&w, d);
    });
    fails(&w, &d, &vkey, None, &["changes.csv line", "column change"]);
    // A cell of an access matrix, a file compared row by row as it is
    // recomputed (never read whole): named by its line too.
    let d = tampered(&w, "matrix-cell", |d| {
        edit(&d.join("access-end.csv"), |t| {
            t.replacen(",partial,", ",,", 1)
        });
        resign(&w, d);
    });
    let line = 1 + lines_of(&w.path("good/access-end.csv"))
        .iter()
        .position(|l| l.contains(",partial,"))
        .unwrap();
    fails(
        &w,
        &d,
        &vkey,
        None,
        &[&format!("access-end.csv line {line}:"), "column partial"],
    );
    // The last row of the other matrix dropped, or one added after it.
    let d = tampered(&w, "matrix-row-dropped", |d| {
        let path = d.join("access-start.csv");
        let mut lines = lines_of(&path);
        lines.pop();
        write_lines(&path, &lines);
        resign(&w, d);
    });
    let rows = lines_of(&w.path("good/access-start.csv")).len();
    fails(
        &w,
        &d,
        &vkey,
        None,
        &[
            &format!("access-start.csv line {rows}:"),
            "rows are missing",
        ],
    );
    let d = tampered(&w, "matrix-row-added", |d| {
        let path = d.join("access-start.csv");
        let mut lines = lines_of(&path);
        lines.push("agency:ice,chicago-pd,read,,".into());
        write_lines(&path, &lines);
        resign(&w, d);
    });
    fails(
        &w,
        &d,
        &vkey,
        None,
        &[
            &format!("access-start.csv line {}:", rows + 1),
            "a row was added",
        ],
    );
    // A cell of the report's commitments table.
    let d = tampered(&w, "report", |d| {
        edit(&d.join("report.html"), |t| {
            t.replacen(
                "<td class=\"flag\">back door open</td>",
                "<td class=\"flag\">kept</td>",
                1,
            )
        })
    });
    fails(
        &w,
        &d,
        &vkey,
        None,
        &["report.html line", "a table cell or text was changed"],
    );
    // The checkpoint swapped for an older one, by the same key.
    let d = tampered(&w, "older", |d| {
        fs::copy(w.path("old.txt"), d.join("checkpoint.txt")).unwrap();
    });
    fails(&w, &d, &vkey, None, &["checkpoint.txt", "swapped"]);
    // ... and with the MANIFEST re-signed to name it: the entries are more.
    let d = tampered(&w, "older-resigned", |d| {
        fs::copy(w.path("old.txt"), d.join("checkpoint.txt")).unwrap();
        let old = fs::read_to_string(w.path("old.txt")).unwrap();
        let body: Vec<&str> = old.lines().collect();
        edit(&d.join("MANIFEST"), |t| {
            let line = t
                .lines()
                .find(|l| l.starts_with("checkpoint "))
                .unwrap()
                .to_owned();
            t.replace(&line, &format!("checkpoint {} {}", body[1], body[2]))
        });
        resign(&w, d);
    });
    fails(
        &w,
        &d,
        &vkey,
        None,
        &["checkpoint.txt", "entries missing or added"],
    );
    // A file added, a file removed.
    let d = tampered(&w, "added", |d| {
        fs::write(d.join("notes.txt"), "x").unwrap()
    });
    fails(
        &w,
        &d,
        &vkey,
        None,
        &["notes.txt", "not listed in the MANIFEST"],
    );
    let d = tampered(&w, "removed", |d| {
        fs::remove_file(d.join("exposures.csv")).unwrap()
    });
    fails(&w, &d, &vkey, None, &["exposures.csv", "missing"]);
    // The manifest's signature broken: its text changed.
    let d = tampered(&w, "manifest", |d| {
        edit(&d.join("MANIFEST"), |t| {
            t.replacen("semantics 1", "semantics 2", 1)
        })
    });
    fails(&w, &d, &vkey, None, &["MANIFEST", "signature"]);
    // A key other than the ledger's.
    let other = access_ledger::VerifierKey::new(
        access_ledger::AuthorityName::new("test-only-city-log-signer").unwrap(),
        new_key("x").public(),
    )
    .to_string();
    fails(
        &w,
        &w.path("good"),
        &other,
        None,
        &["MANIFEST", "signature"],
    );
}

#[test]
fn a_consistency_proof_from_a_forked_history_is_refused() {
    let (w, vkey) = setup();
    // The fork: the same demo, then another entry where ours has the grant
    // to agency:cook-county, checkpointed at the same size as old.txt.
    w.ok(&["demo", "--out", "fork"]);
    let f = w.path("fork/ledger");
    let run = |args: &[&str]| {
        let (code, out, err) = w.run_on(&f, args);
        assert_eq!(code, 0, "{args:?}: {err}");
        out
    };
    let clerk = "fork/keys/test-only-cpd-records-clerk.key";
    let signer = "fork/keys/test-only-city-log-signer.key";
    run(&[
        "grant",
        "agency:cook-county",
        "cpd/clear",
        "--rights",
        "export",
        "--key",
        clerk,
    ]);
    fs::write(w.path("fork.txt"), run(&["checkpoint", "--key", signer])).unwrap();
    // The council's last checkpoint came from the fork: the bundle does not extend it.
    fails(
        &w,
        &w.path("good"),
        &vkey,
        Some("fork.txt"),
        &["consistency.proof", "fork"],
    );
    // A proof made on the fork, put in the bundle, proves nothing about ours.
    run(&[
        "grant",
        "agency:state-police",
        "cpd/clear/arrests",
        "--rights",
        "read",
        "--key",
        clerk,
    ]);
    let fork = Ledger::open(&f, LOCK_WAIT).unwrap();
    let n = fork.len();
    let proof = fork.prove_consistency(n - 1, n).unwrap().to_text();
    drop(fork);
    let d = tampered(&w, "forked-proof", |d| {
        fs::write(d.join("consistency.proof"), &proof).unwrap();
        resign(&w, d);
    });
    fails(
        &w,
        &d,
        &vkey,
        Some("old.txt"),
        &["consistency.proof", "forked"],
    );
}

/// Reads a CSV file into rows of cells (header included).
fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(path)
        .unwrap();
    r.records()
        .map(|x| x.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

/// The rows of the HTML table `id`: the text of each cell.
fn html_rows(doc: &scraper::Html, id: &str) -> Vec<Vec<String>> {
    let table = scraper::Selector::parse(&format!("table#{id} tbody tr")).unwrap();
    let cell = scraper::Selector::parse("th, td").unwrap();
    doc.select(&table)
        .map(|tr| {
            tr.select(&cell)
                .map(|c| c.text().collect::<String>())
                .collect()
        })
        .collect()
}

#[test]
fn the_report_agrees_with_the_csvs_and_with_the_ledgers_answers() {
    let (w, _) = setup();
    let html = fs::read_to_string(w.path("good/report.html")).unwrap();
    let doc = scraper::Html::parse_document(&html);
    // Self-contained, no script: ledger text is shown, never run.
    for sel in ["script", "link", "img", "iframe", "object"] {
        let s = scraper::Selector::parse(sel).unwrap();
        assert_eq!(doc.select(&s).count(), 0, "report has a <{sel}>");
    }
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(
        !html.contains(" src=") && !html.contains("href=\"http"),
        "the report loads nothing"
    );
    // The CSV neutralises the formula.
    let changes = csv_rows(&w.path("good/changes.csv"));
    assert_eq!(
        changes[0],
        ["at", "subject", "resource", "right", "change", "seqs", "events", "basis", "signers"]
    );
    assert!(
        changes.iter().any(|r| r[7].starts_with("'=HYPERLINK")),
        "{changes:?}"
    );

    // changes: report rows = CSV rows = `changes --json` as known at K.
    let l = w.path("demo/ledger");
    let known_at = fs::read_to_string(w.path("good/MANIFEST"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("known-at ").map(str::to_owned))
        .unwrap();
    let (_, json, _) = w.run_on(
        &l,
        &[
            "changes",
            "--from",
            FROM,
            "--to",
            TO,
            "--known-at",
            &known_at,
            "--json",
        ],
    );
    let cli: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
    let report = html_rows(&doc, "changes");
    assert_eq!(report.len(), cli.len());
    assert_eq!(changes.len() - 1, cli.len());
    assert!(cli.len() >= 3, "the period has changes: {cli:?}");
    let instant = |s: &str| access_ledger::Timestamp::parse_rfc3339(s).unwrap();
    for ((c, csv), html) in cli.iter().zip(&changes[1..]).zip(&report) {
        let gained = if c["gained"].as_bool().unwrap() {
            "gained"
        } else {
            "lost"
        };
        let seqs: Vec<String> = c["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(instant(c["at"].as_str().unwrap()), instant(&csv[0]));
        assert_eq!(
            [
                c["subject"].as_str().unwrap(),
                c["resource"].as_str().unwrap(),
                c["right"].as_str().unwrap(),
                gained
            ],
            [csv[1].as_str(), &csv[2], &csv[3], &csv[4]]
        );
        assert_eq!(csv[5], seqs.join(" "));
        assert_eq!(&html[1..5], &csv[1..5]);
        assert_eq!(html[5], seqs.join(", "));
    }

    // The access matrices: every cell of the report is the CSV's, and
    // `check` allows exactly the rights named on the resource itself.
    let tops: Vec<String> = {
        let th = scraper::Selector::parse("table#access-end thead th").unwrap();
        doc.select(&th)
            .skip(1)
            .map(|c| c.text().collect())
            .collect()
    };
    for (id, at) in [
        ("access-start", "2019-07-01T05:00:00Z"),
        ("access-end", "2019-10-01T04:59:59.999999Z"),
    ] {
        let csv = csv_rows(&w.path(&format!("good/{id}.csv")));
        let mut from_csv: BTreeMap<(String, String), String> = BTreeMap::new();
        let mut below: Vec<(String, String, String)> = Vec::new();
        for r in &csv[1..] {
            let partial = if r[3] == "partial" {
                format!(" (partial){}", r[4])
            } else {
                String::new()
            };
            from_csv.insert((r[0].clone(), r[1].clone()), format!("{}{partial}", r[2]));
            for part in r[4].split("; ").filter(|p| !p.is_empty()) {
                let (res, rights) = part.split_once(": ").unwrap();
                let rights = if rights == "nothing" { "" } else { rights };
                below.push((r[0].clone(), res.to_owned(), rights.to_owned()));
            }
        }
        assert!(
            !below.is_empty(),
            "the demo's agencies hold rights below cpd"
        );
        let mut from_html: BTreeMap<(String, String), String> = BTreeMap::new();
        for row in html_rows(&doc, id) {
            for (t, cell) in tops.iter().zip(&row[1..]) {
                if !cell.is_empty() {
                    from_html.insert((row[0].clone(), t.clone()), cell.clone());
                }
            }
        }
        assert_eq!(from_html, from_csv, "{id}");
        assert!(!from_csv.is_empty());
        let cells = from_csv.iter().map(|((s, r), c)| {
            (
                s.clone(),
                r.clone(),
                c.split(" (partial)").next().unwrap().to_owned(),
            )
        });
        for (subject, resource, named) in cells.chain(below) {
            let cell = &named;
            for right in ["read", "export", "write"] {
                let held = named.split(", ").any(|x| {
                    x == right || x == "*" || (x.starts_with("* except") && !x.contains(right))
                });
                let (code, out, err) = w.run_on(
                    &l,
                    &[
                        "check",
                        &subject,
                        &resource,
                        right,
                        "--at",
                        at,
                        "--known-at",
                        &known_at,
                        "--json",
                    ],
                );
                assert!(code == 0 || code == 1, "{err}");
                let v: serde_json::Value = serde_json::from_str(&out).unwrap();
                assert_eq!(
                    v["allowed"].as_bool().unwrap(),
                    held,
                    "{id}: {subject} {right} on {resource}: cell {cell:?}"
                );
            }
        }
    }
    // ICE is banned and cut off at the end; the commitment rows match the CSV.
    let commitments = csv_rows(&w.path("good/commitments.csv"));
    let rows = html_rows(&doc, "commitments");
    assert_eq!(rows.len(), commitments.len() - 1);
    for (h, c) in rows.iter().zip(&commitments[1..]) {
        assert_eq!(
            [&h[0], &h[1], &h[2], &h[3], &h[8]],
            [&c[0], &c[1], &c[2], &c[3], &c[8]]
        );
    }
    assert!(
        commitments
            .iter()
            .any(|r| r[1] == "agency:ice" && r[8] == "back door open"),
        "{commitments:?}"
    );
    let exposures = csv_rows(&w.path("good/exposures.csv"));
    assert_eq!(html_rows(&doc, "exposures").len(), exposures.len() - 1);
    assert!(exposures.len() > 1);
    // The timeline shows the banned subjects.
    assert!(html.contains("<svg") && html.contains("agency:ice on cpd"));
}

#[test]
fn a_backup_is_a_verifiable_copy_with_the_same_id() {
    let w = Workspace::new();
    w.ok(&["demo", "--out", "demo"]);
    let l = w.path("demo/ledger");
    let (code, out, err) = w.run_on(&l, &["backup", "--out", "copy", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let (code, out, err) = w.run_on(&w.path("copy"), &["verify", "--json"]);
    assert_eq!(code, 0, "{err}");
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    let r = &r["report"];
    assert_eq!(r["ledger_id"], v["ledger_id"]);
    assert_eq!(r["head"], v["head"]);
    assert_eq!(r["entries"], v["entries"]);
    // A non-empty directory is refused.
    let (code, _, err) = w.run_on(&l, &["backup", "--out", "copy"]);
    assert_eq!(code, 2, "{err}");
    assert_one_line_error(&err, "not empty");
}

#[test]
fn attested_sections_are_hash_checked_and_listed_as_attested() {
    let w = Workspace::new();
    let fixture = access_ledger::Fixture::load();
    let ledger = fixture.build(&w.path("ledger")).unwrap();
    let signer = fixture.key("test-only-city-log-signer");
    let day = |d: &str| access_ledger::Timestamp::parse(d, &fixture.zone).unwrap();
    let opts = access_ledger::ExportOptions {
        from: day(FROM),
        to: day(TO),
        since: None,
        attested: vec![(
            "access-log-audit.csv".into(),
            b"query,count\r\nx,1\r\n".to_vec(),
        )],
    };
    let out = w.path("bundle");
    let report = access_ledger::export(ledger, signer, &opts, &out, &mut |_, _, _| {}).unwrap();
    assert!(report.files.contains(&"access-log-audit.csv".to_owned()));
    let vkey = access_ledger::VerifierKey::parse(&report.ledger_key).unwrap();
    let v = access_ledger::verify_export(&out, &vkey, None, &mut |_, _, _| {}).unwrap();
    assert_eq!(v.attested, ["access-log-audit.csv"]);
    assert!(!v.verified.contains(&"access-log-audit.csv".to_owned()));
    let manifest = fs::read_to_string(out.join("MANIFEST")).unwrap();
    assert!(manifest.contains("\nattested "), "{manifest}");
    // Changed after signing: named by its hash.
    fs::write(out.join("access-log-audit.csv"), "query,count\r\nx,0\r\n").unwrap();
    let e = access_ledger::verify_export(&out, &vkey, None, &mut |_, _, _| {}).unwrap_err();
    let e = e.to_string();
    assert!(e.starts_with("access-log-audit.csv: its SHA-256"), "{e}");
    // A section may not take the name of a bundle file.
    let ledger = Ledger::open(&w.path("ledger"), LOCK_WAIT).unwrap();
    let bad = access_ledger::ExportOptions {
        attested: vec![("report.html".into(), vec![])],
        ..opts
    };
    let e = access_ledger::export(ledger, signer, &bad, &w.path("b2"), &mut |_, _, _| {});
    assert!(
        matches!(e, Err(access_ledger::ExportError::Invalid(_))),
        "{e:?}"
    );
}

/// `export --access-log --mapping`: the audit of the period's rows is an
/// attested section (audit.json) that the report shows, and that
/// verify-export hash-checks but does not claim to have recomputed.
#[test]
fn the_period_audit_is_an_attested_section_of_the_report() {
    let w = Workspace::new();
    w.ok(&["demo", "--out", "demo"]);
    let (code, stdout, err) = w.run_on(
        &w.path("demo/ledger"),
        &[
            "export",
            "--from",
            FROM,
            "--to",
            TO,
            "--out",
            "bundle",
            "--key",
            SIGNER,
            "--access-log",
            "demo/access-log.csv",
            "--mapping",
            "demo/mapping.toml",
            "--skip-bad",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let vkey = serde_json::from_str::<serde_json::Value>(&stdout).unwrap()["ledger_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let (code, out, err) = verify(&w, "bundle", &vkey, None);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("Attested only") && out.contains("audit.json"),
        "{out}"
    );
    // The audit judged only the quarter's rows: the June access is left out,
    // and both bans were broken in practice (ICE directly and through the
    // side door, a member of group:ice directly).
    let audit: serde_json::Value =
        serde_json::from_slice(&fs::read(w.path("bundle/audit.json")).unwrap()).unwrap();
    assert_eq!(audit["outside_period"], 1, "{audit}");
    let bans: Vec<(u64, u64, u64)> = audit["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let n = |k: &str| v[k].as_u64().unwrap();
            (n("ban"), n("rows"), n("side_door_rows"))
        })
        .collect();
    assert_eq!(bans, [(12, 1, 2), (16, 1, 0)]);
    let doc =
        scraper::Html::parse_document(&fs::read_to_string(w.path("bundle/report.html")).unwrap());
    let rows = html_rows(&doc, "audit-violations");
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0][..3], ["12", "1", "2"]);
    // audit.json edited after signing, with the report edited to match: the
    // MANIFEST's hash names the file (checked before the report is rendered).
    let dir = w.path("bundle");
    edit(&dir.join("audit.json"), |s| {
        s.replacen("\"side_door_rows\": 2", "\"side_door_rows\": 0", 1)
    });
    edit(&dir.join("report.html"), |s| {
        s.replacen(
            "<td>12</td><td>1</td><td>2</td>",
            "<td>12</td><td>1</td><td>0</td>",
            1,
        )
    });
    fails(&w, &dir, &vkey, None, &["audit.json"]);
}
