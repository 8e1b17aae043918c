//! The audit (issue 13): real access logs replayed against the ledger.
//!
//! Each outcome and reason on a hand-built log, the exact instants of a
//! grant, a revocation, an expiry and a late recording (docs/SEMANTICS.md
//! section 16), a repeated daylight-saving hour, the side door, unmappable
//! and malformed rows, the Chicago fixture through the command line, and a
//! property test holding the audit to `check` row by row.

use std::collections::BTreeMap;

use access_ledger::{
    audit, AccessLog, AuditOptions, AuditReport, AuditSink, BadRow, Finding, LogFormat, Mapping,
    Outcome, OutcomeKind, Reason, Timestamp, Verdict,
};
use proptest::prelude::*;

use crate::util::*;

/// Every name maps to itself: the log speaks the ledger's identifiers.
const IDENTITY: &str = r#"
[log]
time_format = "rfc3339"
[log.columns]
time = "time"
account = "account"
object = "object"
action = "action"
on_behalf_of = "for"

[[accounts]]
name = "*"
subject = "{name}"

[[agencies]]
name = "*"
subject = "{name}"

[[objects]]
name = "*"
resource = "{name}"

[[actions]]
name = "*"
right = "{name}"
"#;

/// Keeps every finding and skipped row.
#[derive(Default)]
struct Collect {
    findings: Vec<Finding>,
    bad: Vec<BadRow>,
}

impl AuditSink for Collect {
    fn finding(&mut self, f: &Finding) -> Result<(), String> {
        self.findings.push(f.clone());
        Ok(())
    }
    fn bad_row(&mut self, b: &BadRow) -> Result<(), String> {
        self.bad.push(b.clone());
        Ok(())
    }
}

/// One CSV row of the identity log.
fn row(time: Timestamp, account: &str, object: &str, action: &str, acting_for: &str) -> String {
    format!(
        "{},{account},{object},{action},{acting_for}\n",
        time.rfc3339()
    )
}

/// Audits `rows` (CSV lines of the identity log) against `log`.
fn run(log: &Log, rows: &[String], opts: &AuditOptions) -> (AuditReport, Collect) {
    let mapping = Mapping::from_toml(IDENTITY).unwrap();
    run_with(
        log,
        &mapping,
        &format!("time,account,object,action,for\n{}", rows.concat()),
        opts,
    )
}

fn run_with(
    log: &Log,
    mapping: &Mapping,
    csv: &str,
    opts: &AuditOptions,
) -> (AuditReport, Collect) {
    let reader = AccessLog::new(csv.as_bytes(), LogFormat::Csv, mapping.columns()).unwrap();
    let mut sink = Collect::default();
    let report = audit(&log.ledger, reader, mapping, opts, &mut sink).unwrap();
    (report, sink)
}

/// The account's verdict of a judged row.
fn account(f: &Finding) -> &Verdict {
    match &f.outcome {
        Outcome::Judged(j) => &j.account,
        o => panic!("not judged: {o:?}"),
    }
}

fn reason(f: &Finding) -> Option<Reason> {
    account(f).reason()
}

/// A log with one example of each reason (seqs in comments).
fn reasons_log() -> Log {
    let mut log = Log::new();
    // 2: agency:a may read db until t(10).
    log.push(t(0), grant("agency:a", "db", "read", t(0), Some(t(10))));
    // 3: agency:b may read db (revoked by 7 from t(5)).
    log.push(t(0), grant("agency:b", "db", "read", t(0), None));
    // 4: group:g may read db; 5: user:c joins it (and leaves by 8 at t(6)).
    log.push(t(0), grant("group:g", "db", "read", t(0), None));
    log.push(t(0), join("user:c", "group:g", t(0)));
    // 6: agency:d may read db (banned by 9 from t(3)).
    log.push(t(0), grant("agency:d", "db", "read", t(0), None));
    // 7, 8.
    log.push(t(1), revoke("agency:b", "db", None, t(5)));
    log.push(t(1), leave("user:c", "group:g", t(6)));
    // 9: the ban, recorded at t(2), effective from t(3).
    log.push(t(2), ban("agency:d", "db", None, t(3)));
    log
}

#[test]
fn each_reason_is_named_with_its_seq() {
    let log = reasons_log();
    let rows = [
        row(t(5), "agency:a", "db/x", "read", ""),
        row(t(10), "agency:a", "db/x", "read", ""),
        row(t(4), "agency:b", "db", "read", ""),
        row(t(5), "agency:b", "db", "read", ""),
        row(t(5), "user:c", "db", "read", ""),
        row(t(6), "user:c", "db", "read", ""),
        row(t(3), "agency:d", "db", "read", ""),
        row(t(3), "agency:z", "db", "read", ""),
        row(t(5), "agency:a", "db", "write", ""),
    ];
    let (report, got) = run(&log, &rows, &AuditOptions::default());
    let f = &got.findings;
    assert_eq!(
        account(&f[0]),
        &Verdict::Allowed {
            route: access_ledger::Route::Direct,
            because: vec![2]
        }
    );
    assert_eq!(reason(&f[1]), Some(Reason::GrantExpired { seq: 2 }));
    assert!(account(&f[2]).allowed());
    assert_eq!(reason(&f[3]), Some(Reason::Revoked { seq: 7 }));
    assert_eq!(account(&f[4]).because(), &[4, 5]);
    assert_eq!(reason(&f[5]), Some(Reason::MembershipEnded { seq: 8 }));
    assert_eq!(reason(&f[6]), Some(Reason::Banned { seq: 9 }));
    assert_eq!(reason(&f[7]), Some(Reason::NeverGranted));
    assert_eq!(reason(&f[8]), Some(Reason::NeverGranted));
    assert_eq!(report.rows, 9);
    assert_eq!(
        (report.outcomes.authorised, report.outcomes.unauthorised),
        (3, 6)
    );
    let reasons: BTreeMap<&str, u64> = report.reasons.clone();
    assert_eq!(
        reasons,
        BTreeMap::from([
            ("banned", 1),
            ("grant_expired", 1),
            ("membership_ended", 1),
            ("never_granted", 2),
            ("revoked", 1)
        ])
    );
    // The ban is a violation in practice, listed first in the summary.
    assert_eq!(report.violations.len(), 1);
    assert_eq!(
        (report.violations[0].ban, report.violations[0].rows),
        (9, 1)
    );
    let json = serde_json::to_string(&report).unwrap();
    assert!(json.starts_with("{\"violations\":"), "{json}");
}

#[test]
fn seqs_are_the_ones_the_log_gave() {
    // The seqs the other tests name, checked once against the log itself.
    let log = reasons_log();
    let kinds: Vec<&str> = log.entries.iter().map(|e| e.body().kind()).collect();
    assert_eq!(
        kinds,
        [
            "genesis",
            "authority_add",
            "grant",
            "grant",
            "grant",
            "join",
            "grant",
            "revoke",
            "leave",
            "revoke"
        ]
    );
}

#[test]
fn rows_at_the_exact_instants_follow_the_semantics() {
    let mut log = Log::new();
    let us = |ts: Timestamp, d: i64| Timestamp::from_micros(ts.as_micros() + d);
    // 2: a grant from t(2) until t(8), recorded at t(1).
    log.push(t(1), grant("agency:a", "db", "read", t(2), Some(t(8))));
    // 3: a grant effective t(0), recorded only at t(4) (back-dated).
    log.push(t(4), grant("agency:b", "db", "read", t(0), None));
    // 4: agency:c may read db; 5: revoked from t(6), recorded at t(5).
    log.push(t(5), grant("agency:c", "db", "read", t(0), None));
    log.push(t(5), revoke("agency:c", "db", None, t(6)));
    let rows = [
        // The grant's effective instant: it counts (effective_at <= T).
        row(us(t(2), -1), "agency:a", "db", "read", ""),
        row(t(2), "agency:a", "db", "read", ""),
        // Its expiry instant: until is exclusive.
        row(us(t(8), -1), "agency:a", "db", "read", ""),
        row(t(8), "agency:a", "db", "read", ""),
        // A back-dated grant counts from the instant it was recorded.
        row(us(t(4), -1), "agency:b", "db", "read", ""),
        row(t(4), "agency:b", "db", "read", ""),
        // The revocation's effective instant: it counts.
        row(us(t(6), -1), "agency:c", "db", "read", ""),
        row(t(6), "agency:c", "db", "read", ""),
    ];
    let (_, got) = run(&log, &rows, &AuditOptions::default());
    let r: Vec<Option<Reason>> = got.findings.iter().map(reason).collect();
    assert_eq!(
        r,
        [
            Some(Reason::NeverGranted),
            None,
            None,
            Some(Reason::GrantExpired { seq: 2 }),
            Some(Reason::NeverGranted),
            None,
            None,
            Some(Reason::Revoked { seq: 5 }),
        ]
    );
}

#[test]
fn known_at_revises_what_was_recorded_late() {
    let mut log = Log::new();
    log.push(t(0), grant("agency:e", "db", "read", t(0), None));
    // Recorded at t(20), effective from t(1): a retroactive revocation.
    log.push(t(20), revoke("agency:e", "db", None, t(1)));
    let rows = [
        row(t(2), "agency:e", "db", "read", ""),
        row(t(0), "agency:e", "db", "read", ""),
    ];
    let opts = AuditOptions {
        known_at: Some(t(30)),
        skip_bad: false,
        period: None,
    };
    let (report, got) = run(&log, &rows, &opts);
    assert!(account(&got.findings[0]).allowed());
    assert!(got.findings[0].revised());
    assert!(!got.findings[0].plainly_authorised());
    let later = got.findings[0].known_later.as_ref().unwrap();
    assert_eq!(later.kind(), OutcomeKind::Unauthorised);
    assert!(got.findings[1].plainly_authorised());
    let rev = report.revised.unwrap();
    assert_eq!(rev.rows, 1);
    assert_eq!(
        rev.changes,
        BTreeMap::from([("authorised -> unauthorised (revoked)".to_owned(), 1)])
    );
}

#[test]
fn the_side_door_is_checked_against_the_agency_acted_for() {
    let log = reasons_log();
    let rows = [
        // user:c may read through group:g; agency:d is banned: a broken commitment.
        row(t(5), "user:c", "db", "read", "agency:d"),
        // agency:z was never granted anything.
        row(t(5), "user:c", "db", "read", "agency:z"),
        // agency:b may: plainly authorised.
        row(t(4), "user:c", "db", "read", "agency:b"),
        // The account itself may not: unauthorised, whatever the agency.
        row(t(6), "user:c", "db", "read", "agency:d"),
    ];
    let (report, got) = run(&log, &rows, &AuditOptions::default());
    let kinds: Vec<OutcomeKind> = got.findings.iter().map(|f| f.outcome.kind()).collect();
    assert_eq!(
        kinds,
        [
            OutcomeKind::SideDoor,
            OutcomeKind::SideDoor,
            OutcomeKind::Authorised,
            OutcomeKind::Unauthorised
        ]
    );
    let Outcome::Judged(j) = &got.findings[0].outcome else {
        panic!()
    };
    let acting = j.on_behalf_of.as_ref().unwrap();
    assert_eq!(acting.agency.as_str(), "agency:d");
    assert_eq!(acting.verdict.reason(), Some(Reason::Banned { seq: 9 }));
    assert!(got.findings[0].explain().contains("a broken commitment"));
    // Both rows acting for the banned agency count against its ban.
    let v = &report.violations[0];
    assert_eq!((v.ban, v.rows, v.side_door_rows), (9, 0, 2));
    assert_eq!(report.outcomes.side_door, 2);
}

#[test]
fn a_repeated_local_hour_is_judged_at_both_instants() {
    let mut log = Log::new();
    // 01:00 CST on 2019-11-03, the second 01:00 of the night in Chicago.
    log.push(
        t(0),
        grant("agency:a", "db", "read", utc("2019-11-03T07:00:00Z"), None),
    );
    log.push(t(0), grant("agency:b", "db", "read", t(0), None));
    let mapping = Mapping::from_toml(&IDENTITY.replace(
        "time_format = \"rfc3339\"",
        "time_format = \"%Y-%m-%d %H:%M:%S\"\ntime_zone = \"America/Chicago\"",
    ))
    .unwrap();
    let csv = "time,account,object,action,for\n\
               2019-11-03 01:30:00,agency:a,db,read,\n\
               2019-11-03 01:30:00,agency:b,db,read,\n\
               2019-11-03 02:30:00,agency:a,db,read,\n\
               2019-03-10 02:30:00,agency:a,db,read,\n";
    let opts = AuditOptions {
        known_at: None,
        skip_bad: true,
        period: None,
    };
    let (report, got) = run_with(&log, &mapping, csv, &opts);
    let Outcome::AmbiguousTime { first, second } = &got.findings[0].outcome else {
        panic!("{:?}", got.findings[0].outcome)
    };
    assert_eq!(first.at, utc("2019-11-03T06:30:00Z"));
    assert_eq!(second.at, utc("2019-11-03T07:30:00Z"));
    assert!(!first.account.allowed() && second.account.allowed());
    // The same outcome at both instants is simply that outcome.
    assert_eq!(got.findings[1].outcome.kind(), OutcomeKind::Authorised);
    assert_eq!(got.findings[2].outcome.kind(), OutcomeKind::Authorised);
    // A skipped local time does not exist: malformed.
    assert_eq!(got.bad.len(), 1);
    assert_eq!(got.bad[0].line, 5);
    assert!(
        got.bad[0].message.contains("does not exist"),
        "{:?}",
        got.bad
    );
    assert_eq!((report.outcomes.ambiguous_time, report.malformed), (1, 1));
}

#[test]
fn unmappable_names_are_counted_never_dropped() {
    let log = reasons_log();
    let mapping = Mapping::from_toml(
        r#"
[log]
columns = { time = "time", account = "account", object = "object", action = "action", on_behalf_of = "for" }
[[accounts]]
name = "a-*"
subject = "agency:{name}"
[[agencies]]
name = "B"
subject = "agency:b"
[[objects]]
name = "DB"
resource = "db"
[[actions]]
name = "SELECT"
right = "read"
"#,
    )
    .unwrap();
    let csv = format!(
        "time,account,object,action,for\n{}{}{}{}{}{}",
        row(t(5), "a-x", "DB", "SELECT", ""),
        row(t(5), "zed", "DB", "SELECT", ""),
        row(t(5), "zed", "DB", "SELECT", ""),
        row(t(5), "a-X", "DB", "SELECT", ""),
        row(t(5), "a-x", "DB", "DROP", ""),
        row(t(5), "a-x", "DB", "SELECT", "C"),
    );
    let (report, got) = run_with(&log, &mapping, &csv, &AuditOptions::default());
    assert_eq!(report.rows, 6);
    assert_eq!(report.outcomes.unmappable, 5);
    assert_eq!(report.outcomes.total(), 6);
    let names: Vec<(&str, &str, u64)> = report
        .unmappable
        .iter()
        .map(|u| (u.name.field, u.name.name.as_str(), u.rows))
        .collect();
    assert_eq!(
        names,
        [
            ("account", "zed", 2),
            ("account", "a-X", 1),
            ("action", "DROP", 1),
            ("on_behalf_of", "C", 1)
        ]
    );
    // a-X maps to agency:X, which is no subject.
    assert!(report.unmappable[1].name.why.contains("invalid subject"));
    assert!(got
        .findings
        .iter()
        .all(|f| f.subject.is_none() || f.row.account == "a-x"));
}

#[test]
fn a_malformed_row_stops_the_audit_or_is_counted_and_listed() {
    let log = reasons_log();
    let mapping = Mapping::from_toml(IDENTITY).unwrap();
    let csv = format!(
        "time,account,object,action,for\n{}yesterday,agency:a,db,read,\n{}agency:a,db\n{}",
        row(t(5), "agency:a", "db", "read", ""),
        row(t(5), "agency:a", "db", "read", ""),
        row(t(5), "agency:a", "db", "read", ""),
    );
    let reader = AccessLog::new(csv.as_bytes(), LogFormat::Csv, mapping.columns()).unwrap();
    let e = audit(
        &log.ledger,
        reader,
        &mapping,
        &AuditOptions::default(),
        &mut Collect::default(),
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("line 3: invalid time \"yesterday\""),
        "{e}"
    );
    let opts = AuditOptions {
        known_at: None,
        skip_bad: true,
        period: None,
    };
    let (report, got) = run_with(&log, &mapping, &csv, &opts);
    assert_eq!(
        (report.rows, report.malformed, report.outcomes.total()),
        (5, 2, 3)
    );
    let lines: Vec<u64> = got.bad.iter().map(|b| b.line).collect();
    assert_eq!(lines, [3, 5]);
    assert_eq!(report.malformed_rows, got.bad);
}

/// The Chicago fixture, through the command line: every outcome the issue
/// asks for, the ban's violations first, and the files of --out.
#[test]
fn the_chicago_access_log_is_audited_from_the_command_line() {
    let w = Workspace::new();
    w.ok(&["demo", "--out", "demo"]);
    let l = w.path("demo/ledger").display().to_string();
    let log = w.path("demo/access-log.csv").display().to_string();
    let mapping = w.path("demo/mapping.toml").display().to_string();
    // Without --skip-bad the hour-25 row stops it, naming its line.
    let (code, _, err) = w.run_bare(&["--ledger", &l, "audit", &log, "--mapping", &mapping]);
    assert_eq!(code, 2, "{err}");
    assert_one_line_error(
        &err,
        "access-log.csv line 13: invalid time \"2019-07-24 25:00:00\"",
    );
    let args = [
        "--ledger",
        &l,
        "audit",
        &log,
        "--mapping",
        &mapping,
        "--skip-bad",
        "--known-at",
        "now",
        "--out",
        "out",
    ];
    let (code, text, err) = w.run_bare(&args);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("skipped: ") && err.contains("line 14: expected 7 fields"),
        "{err}"
    );
    let violations = text.find("VIOLATIONS").expect("violations are listed");
    assert!(violations < text.find("outcomes:").unwrap(), "{text}");
    assert!(text.contains("ban seq 12 ("), "{text}");
    assert!(
        text.contains("outcomes: 5 authorised, 4 unauthorised, 1 side door, 2 unmappable"),
        "{text}"
    );
    assert!(text.contains("1 row(s) change"), "{text}");
    let (code, json, _) = w.run_bare(&[&args[..], &["--json"]].concat());
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["rows"], 14);
    assert_eq!(v["malformed"], 2);
    let bans: Vec<(u64, u64, u64)> = v["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["ban"].as_u64().unwrap(),
                b["rows"].as_u64().unwrap(),
                b["side_door_rows"].as_u64().unwrap(),
            )
        })
        .collect();
    // Ban 12: ICE's export on 07-16 by itself, and two searches on ICE's
    // behalf (the FBI's side door, the CPD detective's); ban 16: the analyst.
    assert_eq!(bans, [(12, 1, 2), (16, 1, 0)]);
    // The findings files hold every row that is not plainly authorised.
    let findings = std::fs::read_to_string(w.path("out/findings.jsonl")).unwrap();
    let rows: Vec<serde_json::Value> = findings
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let lines: Vec<u64> = rows
        .iter()
        .map(|r| r["row"]["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [4, 5, 6, 7, 8, 9, 11, 12]);
    let side = &rows[2];
    assert_eq!(side["outcome"]["outcome"], "judged");
    assert_eq!(side["outcome"]["on_behalf_of"]["agency"], "agency:ice");
    assert_eq!(side["outcome"]["on_behalf_of"]["reason"], "banned");
    assert_eq!(side["outcome"]["on_behalf_of"]["seq"], 12);
    assert!(side["explanation"].as_str().unwrap().starts_with(
        "side door: agency:fbi may read cpd/clear/arrests through group:federal-partners"
    ));
    // Line 4: authorised as known on 07-11, banned by what was recorded since.
    assert_eq!(rows[0]["known_later"]["account"]["reason"], "banned");
    let why = rows[0]["explanation"].as_str().unwrap();
    assert!(
        why.starts_with(
            "authorised: agency:ice may read cpd/clear/arrests directly; as recorded by "
        ) && why.ends_with(
            ": unauthorised: agency:ice may not read cpd/clear/arrests: banned by seq 12"
        ),
        "{why}"
    );
    let csv = std::fs::read_to_string(w.path("out/findings.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + rows.len());
    assert!(csv
        .lines()
        .next()
        .unwrap()
        .starts_with("line,time,account,"));
    let malformed = std::fs::read_to_string(w.path("out/malformed.jsonl")).unwrap();
    assert_eq!(malformed.lines().count(), 2);
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(w.path("out/summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["outcomes"], v["outcomes"]);
}

// The property: on random ledgers and logs, every row's outcome is `check`'s.

const SUBJECTS: [&str; 5] = ["agency:a", "agency:b", "user:c", "group:g", "group:h"];
const RESOURCES: [&str; 4] = ["r", "r/a", "r/a/x", "q"];
const RIGHTS: [&str; 2] = ["read", "write"];

#[derive(Debug, Clone)]
enum Op {
    Grant(usize, usize, usize, i64, Option<i64>),
    Revoke(usize, usize, i64, bool),
    Join(usize, usize, i64),
    Leave(usize, usize, i64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..5usize, 0..4usize, 0..3usize, -4i64..8, prop::option::weighted(0.4, 1i64..6))
            .prop_map(|(s, r, x, e, u)| Op::Grant(s, r, x, e, u)),
        2 => (0..5usize, 0..4usize, -4i64..8, prop::bool::weighted(0.3))
            .prop_map(|(s, r, e, p)| Op::Revoke(s, r, e, p)),
        3 => (0..5usize, 3..5usize, -4i64..8).prop_map(|(m, g, e)| Op::Join(m, g, e)),
        2 => (0..5usize, 3..5usize, -4i64..8).prop_map(|(m, g, e)| Op::Leave(m, g, e)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(48)
    ))]

    #[test]
    fn the_audit_agrees_with_check_row_by_row(
        ops in prop::collection::vec((0i64..3, op()), 1..24),
        rows in prop::collection::vec((0..5usize, 0..4usize, 0..2usize, -2i64..40, prop::option::weighted(0.3, 0..5usize)), 1..40),
    ) {
        let mut log = Log::new();
        let mut now = 0;
        for (advance, op) in &ops {
            now += advance;
            let rs = |x: usize| if x == 2 { "*".to_owned() } else { RIGHTS[x].to_owned() };
            let body = match *op {
                Op::Grant(s, r, x, e, u) => grant(SUBJECTS[s], RESOURCES[r], &rs(x), t(now + e), u.map(|u| t(now + e + u))),
                Op::Revoke(s, r, e, true) => ban(SUBJECTS[s], RESOURCES[r], None, t(now + e)),
                Op::Revoke(s, r, e, false) => revoke(SUBJECTS[s], RESOURCES[r], None, t(now + e)),
                Op::Join(m, g, e) => join(SUBJECTS[m], SUBJECTS[g], t(now + e)),
                Op::Leave(m, g, e) => leave(SUBJECTS[m], SUBJECTS[g], t(now + e)),
            };
            // Entries the rules refuse (a grant under a ban, a cycle) are left out.
            if log.try_push(t(now), body).is_ok() {
                log.commit();
            }
        }
        let lines: Vec<String> = rows
            .iter()
            .map(|&(s, r, x, h, a)| row(t(h), SUBJECTS[s], RESOURCES[r], RIGHTS[x], a.map_or("", |a| SUBJECTS[a])))
            .collect();
        let (report, got) = run(&log, &lines, &AuditOptions::default());
        prop_assert_eq!(report.rows as usize, rows.len());
        prop_assert_eq!(got.findings.len(), rows.len());
        for (&(s, r, x, h, a), f) in rows.iter().zip(&got.findings) {
            let d = log.check(SUBJECTS[s], RESOURCES[r], RIGHTS[x], t(h), t(h));
            let Outcome::Judged(j) = &f.outcome else { panic!("{:?}", f.outcome) };
            prop_assert_eq!(j.at, t(h));
            prop_assert_eq!(j.known_at, t(h));
            prop_assert_eq!(j.account.allowed(), d.allowed);
            match (&j.account, d.banned_by) {
                (Verdict::Allowed { because, .. }, _) => prop_assert_eq!(because, &d.because),
                (Verdict::Denied { reason, because }, Some(b)) => {
                    prop_assert_eq!(*reason, Reason::Banned { seq: b });
                    prop_assert_eq!(because, &d.because);
                }
                (Verdict::Denied { reason, because }, None) if !d.because.is_empty() => {
                    prop_assert_eq!(*reason, Reason::Revoked { seq: *d.because.iter().max().unwrap() });
                    prop_assert_eq!(because, &d.because);
                }
                (Verdict::Denied { reason, .. }, None) => {
                    let unnamed = matches!(
                        reason,
                        Reason::GrantExpired { .. } | Reason::MembershipEnded { .. } | Reason::NeverGranted
                    );
                    prop_assert!(unnamed, "a denial without seqs explained as {:?}", reason);
                }
            }
            // The agency acted for: its own `check`, and the class follows.
            let agency = a.map(|a| SUBJECTS[a]).filter(|&a| a != SUBJECTS[s]);
            match (agency, &j.on_behalf_of) {
                (None, None) => {}
                (Some(a), Some(acting)) => {
                    let da = log.check(a, RESOURCES[r], RIGHTS[x], t(h), t(h));
                    prop_assert_eq!(acting.agency.as_str(), a);
                    prop_assert_eq!(acting.verdict.allowed(), da.allowed);
                }
                (a, b) => prop_assert!(false, "acting for {:?} judged as {:?}", a, b),
            }
            let kind = match (d.allowed, j.on_behalf_of.as_ref().map(|x| x.verdict.allowed())) {
                (false, _) => OutcomeKind::Unauthorised,
                (true, Some(false)) => OutcomeKind::SideDoor,
                _ => OutcomeKind::Authorised,
            };
            prop_assert_eq!(f.outcome.kind(), kind);
        }
    }
}

/// JSON Lines and a JSON mapping, from the command line: the same answers.
#[test]
fn a_json_lines_log_with_a_json_mapping_is_audited_the_same_way() {
    let w = Workspace::new();
    w.ok(&["demo", "--out", "demo"]);
    let l = w.path("demo/ledger").display().to_string();
    let mapping = r#"{"log": {"time_format": "unix",
        "columns": {"time": "ts", "account": "who", "object": "what", "action": "did", "on_behalf_of": "for"}},
      "accounts": [{"name": "*", "subject": "agency:{name}"}],
      "agencies": [{"name": "*", "subject": "agency:{name}"}],
      "objects": [{"name": "arrests", "resource": "cpd/clear/arrests"}],
      "actions": [{"name": "read", "right": "read"}]}"#;
    std::fs::write(w.path("m.json"), mapping).unwrap();
    // 2019-07-01 and 2019-07-20 (after the ban of ICE, seq 12), in seconds.
    let log = "{\"ts\": 1561982400, \"who\": \"ice\", \"what\": \"arrests\", \"did\": \"read\"}\n\
               {\"ts\": 1563624000, \"who\": \"ice\", \"what\": \"arrests\", \"did\": \"read\"}\n\
               \n\
               {\"ts\": 1563624000, \"who\": \"fbi\", \"what\": \"arrests\", \"did\": \"read\", \"for\": \"ice\"}\n\
               [1, 2]\n";
    std::fs::write(w.path("access.log"), log).unwrap();
    let args = [
        "--ledger",
        &l,
        "audit",
        "access.log",
        "--format",
        "jsonl",
        "--mapping",
        "m.json",
        "--json",
    ];
    let (code, _, err) = w.run_bare(&args);
    assert_eq!(code, 2);
    assert_one_line_error(&err, "access.log line 5: not a JSON object");
    let (code, out, err) = w.run_bare(&[&args[..], &["--skip-bad"]].concat());
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["outcomes"],
        serde_json::json!({"authorised": 1, "unauthorised": 1, "side_door": 1, "ambiguous_time": 0, "unmappable": 0})
    );
    assert_eq!(v["reasons"], serde_json::json!({"banned": 2}));
    assert_eq!(v["malformed_rows"][0]["line"], 5);
    // A mapping that is not one is refused with its file named.
    std::fs::write(w.path("bad.json"), "{\"log\": {}}").unwrap();
    let (code, _, err) = w.run_bare(&[
        "--ledger",
        &l,
        "audit",
        "access.log",
        "--mapping",
        "bad.json",
    ]);
    assert_eq!(code, 2);
    assert_one_line_error(
        &err,
        "mapping bad.json: not a mapping file: missing field `columns`",
    );
}
