//! `check --batch`: many questions, one open of the ledger, one JSON answer
//! line per JSON question line, each the answer `check --json` gives alone.

use std::io::Write;
use std::process::Stdio;

use crate::util::{split, Workspace};

/// The Chicago 2019 demo ledger as `ledger/`.
fn demo() -> Workspace {
    let w = Workspace::new();
    w.ok(&["demo", "--out", "demo"]);
    std::fs::rename(w.path("demo/ledger"), w.ledger()).unwrap();
    w
}

/// Runs `check --batch <args>` on `ledger/` with `input` on standard input.
fn batch(w: &Workspace, args: &[&str], input: &str) -> (i32, String, String) {
    let mut child = w
        .cmd()
        .args(["check", "--batch"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    split(child.wait_with_output().unwrap())
}

fn json(line: &str) -> serde_json::Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{line:?}: {e}"))
}

/// The questions, each asked alone with `check --json` (exit 0 or 1), and
/// together in one batch: the same answers, in order, each on one line.
#[test]
fn a_batch_answers_each_question_as_check_alone_does() {
    let w = demo();
    let questions = [
        (
            "agency:ice",
            "cpd/clear/arrests",
            "read",
            "2019-07-09",
            None,
        ),
        (
            "agency:ice",
            "cpd/clear/arrests",
            "read",
            "2019-07-20",
            None,
        ),
        (
            "agency:ice",
            "cpd/clear/arrests",
            "read",
            "2019-07-10",
            Some("2019-07-09"),
        ),
        ("agency:fbi", "cpd/clear", "read", "2019-07-14", None),
        ("agency:nobody", "cpd", "write", "2019-07-14", None),
    ];
    let mut input = String::new();
    let mut alone = Vec::new();
    for (s, r, x, at, known) in questions {
        let mut q = serde_json::json!({ "subject": s, "resource": r, "right": x, "at": at });
        // A line without "known_at" takes the batch's --known-at.
        let mut args = vec!["check", s, r, x, "--at", at, "--json", "--known-at"];
        match known {
            Some(k) => {
                q["known_at"] = k.into();
                args.push(k);
            }
            None => args.push("2020-01-01"),
        }
        input.push_str(&format!("{q}\n\n"));
        let (code, out, err) = w.run(&args);
        assert!(code == 0 || code == 1, "{args:?}: {err}");
        alone.push((code, json(&out)));
    }
    let (code, out, err) = batch(&w, &["--known-at", "2020-01-01"], &input);
    assert_eq!(code, 0, "{err}");
    assert_eq!(err, "");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), questions.len(), "{out}");
    let mut allowed = 0;
    for (i, (line, (code, want))) in lines.iter().zip(&alone).enumerate() {
        let mut got = json(line);
        // Blank lines are skipped but counted: question i is on line 2i+1.
        assert_eq!(got["line"], 2 * i + 1, "{line}");
        got.as_object_mut().unwrap().remove("line");
        assert_eq!(&got, want, "question {i}");
        assert_eq!(got["allowed"], *code == 0);
        allowed += usize::from(*code == 0);
    }
    // The demo's story: ICE allowed before the ban, denied after it, and
    // allowed again as the ledger knew it before the ban was recorded.
    assert!(allowed >= 2 && allowed < questions.len(), "{out}");
}

/// A line that is no question gets an error answer naming why; the others
/// are still answered, and the exit code says that some could not be asked.
#[test]
fn a_bad_line_is_answered_with_an_error_and_the_batch_goes_on() {
    let w = demo();
    let input = [
        r#"{"subject":"agency:fbi","resource":"cpd/clear","right":"read"}"#,
        r#"not json"#,
        r#"{"subject":"ICE","resource":"cpd","right":"read"}"#,
        r#"{"subject":"agency:ice","resource":"cpd","right":"read","at":"last tuesday"}"#,
        r#"{"subject":"agency:ice","resource":"cpd","right":"read","known_at":"2001-01-01"}"#,
        r#"{"subject":"agency:ice","resource":"cpd","right":"read","colour":"red"}"#,
        r#"{"subject":"agency:fbi","resource":"cpd/clear","right":"read","at":"2019-07-14T12:00:00Z"}"#,
    ]
    .join("\n");
    let (code, out, err) = batch(&w, &["--at", "2019-07-14"], &input);
    assert_eq!(code, 2, "{err}");
    let answers: Vec<serde_json::Value> = out.lines().map(json).collect();
    assert_eq!(answers.len(), 7, "{out}");
    for (i, a) in answers.iter().enumerate() {
        assert_eq!(a["line"], i + 1);
    }
    let error = |i: usize| answers[i]["error"].as_str().unwrap_or_default().to_owned();
    assert!(answers[0]["allowed"].is_boolean(), "{}", answers[0]);
    assert!(error(1).starts_with("not a question"), "{}", error(1));
    assert!(error(2).starts_with("subject: "), "{}", error(2));
    assert!(error(3).starts_with("at: "), "{}", error(3));
    assert!(error(4).contains("before the ledger began"), "{}", error(4));
    assert!(error(5).contains("colour"), "{}", error(5));
    assert!(answers[6]["allowed"].is_boolean(), "{}", answers[6]);
    // --at is the default of a line without "at".
    let (_, alone, _) = w.run(&[
        "check",
        "agency:fbi",
        "cpd/clear",
        "read",
        "--at",
        "2019-07-14",
        "--json",
    ]);
    assert_eq!(answers[0]["at"], json(&alone)["at"]);
}

#[test]
fn batch_and_a_question_on_the_command_line_do_not_mix() {
    let w = demo();
    let (code, _, err) = w.run(&["check", "--batch", "agency:ice", "cpd", "read"]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = w.run(&["check", "agency:ice", "cpd"]);
    assert_eq!(code, 2, "{err}");
    let help = w.ok(&["check", "--help"]);
    assert!(help.contains("--batch"), "{help}");
    assert!(help.contains("\"subject\""), "{help}");
}

/// An empty input is no questions: nothing to answer, success.
#[test]
fn an_empty_batch_answers_nothing() {
    let w = demo();
    let (code, out, err) = batch(&w, &[], "");
    assert_eq!((code, out.as_str(), err.as_str()), (0, "", ""));
}
