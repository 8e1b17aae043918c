//! The query commands: `check`, `who-can`, `what-can`, `exposure`, `history`,
//! `changes` and `rebuild`. Each answers at a valid time (`--at`) as the
//! ledger knew it at a knowledge time (`--known-at`), with the seqs of the
//! events that decide the answer.

use access_ledger::{HistoryOf, Ledger, QueryError, Resource, Right, Route, Subject, Timestamp};
use serde_json::json;

use super::args::{HistoryTarget, QueryArgs};
use super::{exit, parse_time, print_json, Context, Failure};

impl From<QueryError> for Failure {
    fn from(e: QueryError) -> Self {
        match e {
            QueryError::Store(s) => s.into(),
            e => Failure::usage(e),
        }
    }
}

/// The two times of a query, parsed and checked against the ledger.
struct Times {
    at: Timestamp,
    known_at: Timestamp,
}

fn times(ledger: &Ledger, q: &QueryArgs) -> Result<Times, Failure> {
    let zone = ledger.zone();
    let now = Timestamp::now();
    let at =
        q.at.as_deref()
            .map(|t| parse_time("--at", t, &zone))
            .transpose()?
            .unwrap_or(now);
    let known_at = q
        .known_at
        .as_deref()
        .map(|t| parse_time("--known-at", t, &zone))
        .transpose()?
        .unwrap_or(now);
    let genesis = ledger
        .entry(0)?
        .ok_or_else(|| Failure::new(exit::UNAVAILABLE, "the ledger has no genesis entry"))?
        .recorded_at();
    if known_at < genesis {
        return Err(Failure::usage(format!(
            "--known-at {} is before the ledger began ({}): it knew nothing then",
            known_at.local(&zone),
            genesis.local(&zone)
        )));
    }
    Ok(Times { at, known_at })
}

/// "seq 12 (PERMANENTLY revoke all rights of agency:ice on cpd)".
fn describe(ledger: &Ledger, seqs: &[u64]) -> Result<String, Failure> {
    let mut parts = Vec::new();
    for &s in seqs {
        let e = ledger
            .entry(s)?
            .ok_or_else(|| Failure::new(exit::UNAVAILABLE, format!("entry {s} is missing")))?;
        parts.push(format!("seq {s} ({})", e.body().summary()));
    }
    Ok(parts.join(", "))
}

fn route_text(r: &Route) -> String {
    match r {
        Route::Direct => "directly".into(),
        Route::Group(g) => format!("through {g}"),
    }
}

fn when(ledger: &Ledger, t: &Times) -> String {
    let zone = ledger.zone();
    format!(
        "at {} (as recorded by {})",
        t.at.local(&zone),
        t.known_at.local(&zone)
    )
}

pub fn check(
    ctx: &Context,
    subject: &str,
    resource: &str,
    right: &str,
    q: &QueryArgs,
) -> Result<u8, Failure> {
    let (s, r, x) = (
        Subject::new(subject)?,
        Resource::new(resource)?,
        Right::new(right)?,
    );
    let ledger = ctx.open()?;
    let t = times(&ledger, q)?;
    let d = ledger.queries().check(&s, &r, &x, t.at, t.known_at)?;
    if q.json {
        print_json(&serde_json::to_value(&d).expect("decisions serialise"));
    } else if d.allowed {
        let route = d.route.as_ref().map(route_text).unwrap_or_default();
        println!("allowed: {s} may {x} {r} {}, {route}", when(&ledger, &t));
        println!("because: {}", describe(&ledger, &d.because)?);
    } else {
        println!("denied: {s} may not {x} {r} {}", when(&ledger, &t));
        match d.banned_by {
            Some(b) => println!("banned by: {}", describe(&ledger, &[b])?),
            None if d.because.is_empty() => println!("because: nothing in the ledger grants it"),
            None => println!("because: {}", describe(&ledger, &d.because)?),
        }
    }
    Ok(if d.allowed { exit::OK } else { exit::DENIED })
}

pub fn who_can(ctx: &Context, resource: &str, right: &str, q: &QueryArgs) -> Result<u8, Failure> {
    let (r, x) = (Resource::new(resource)?, Right::new(right)?);
    let ledger = ctx.open()?;
    let t = times(&ledger, q)?;
    let rows = ledger.queries().who_can(&r, &x, t.at, t.known_at)?;
    if q.json {
        print_json(&serde_json::to_value(&rows).expect("rows serialise"));
    } else {
        println!(
            "who may {x} {r} {}: {} subject(s)",
            when(&ledger, &t),
            rows.len()
        );
        for a in &rows {
            println!(
                "  {:<32} {:<32} seqs {:?}",
                a.subject.as_str(),
                route_text(&a.route),
                a.because
            );
        }
    }
    Ok(exit::OK)
}

pub fn what_can(ctx: &Context, subject: &str, q: &QueryArgs) -> Result<u8, Failure> {
    let s = Subject::new(subject)?;
    let ledger = ctx.open()?;
    let t = times(&ledger, q)?;
    let rows = ledger.queries().what_can(&s, t.at, t.known_at)?;
    if q.json {
        print_json(&serde_json::to_value(&rows).expect("rows serialise"));
    } else {
        println!("what {s} may do {}:", when(&ledger, &t));
        if rows.iter().all(|h| h.rights.is_empty()) {
            println!("  nothing");
        }
        for h in &rows {
            if h.rights.is_empty() {
                println!(
                    "  {:<32} nothing (although an ancestor holds something)",
                    h.resource.as_str()
                );
            }
            for held in &h.rights {
                let except = if held.except.is_empty() {
                    String::new()
                } else {
                    format!(
                        " except {}",
                        held.except
                            .iter()
                            .map(|r| r.as_str())
                            .collect::<Vec<_>>()
                            .join(",")
                    )
                };
                println!(
                    "  {:<32} {}{except} {}, seqs {:?}",
                    h.resource.as_str(),
                    held.right,
                    route_text(&held.route),
                    held.because
                );
            }
        }
    }
    Ok(exit::OK)
}

pub fn exposure(
    ctx: &Context,
    subject: &str,
    resource: &str,
    q: &QueryArgs,
) -> Result<u8, Failure> {
    let (s, r) = (Subject::new(subject)?, Resource::new(resource)?);
    let ledger = ctx.open()?;
    let t = times(&ledger, q)?;
    let paths = ledger.queries().exposure(&s, &r, t.at, t.known_at)?;
    if q.json {
        print_json(&json!({
            "subject": s.as_str(),
            "resource": r.as_str(),
            "at": t.at,
            "known_at": t.known_at,
            "paths": paths,
        }));
    } else {
        println!(
            "how data of {r} reaches {s} {}: {} path(s)",
            when(&ledger, &t),
            paths.len()
        );
        for (i, p) in paths.iter().enumerate() {
            let flag = if p.banned.is_empty() {
                String::new()
            } else {
                format!(
                    "  FLAGGED: reaches a banned subject (ban seq {:?})",
                    p.banned
                )
            };
            let name = |v: serde_json::Value| v.as_str().unwrap_or_default().to_owned();
            let kind = name(json!(p.kind));
            let rights = serde_json::to_string(&p.rights).expect("right sets serialise");
            println!("  path {} ({kind}), rights {rights}{flag}", i + 1);
            for step in &p.steps {
                let step_kind = name(json!(step.kind));
                println!(
                    "    seq {:>6}  {step_kind:<6} -> {}",
                    step.seq, step.subject
                );
            }
        }
    }
    Ok(exit::OK)
}

pub fn history(ctx: &Context, target: &HistoryTarget, q: &QueryArgs) -> Result<u8, Failure> {
    let of = match (&target.subject, &target.resource) {
        (Some(s), None) => HistoryOf::Subject(Subject::new(s.as_str())?),
        (None, Some(r)) => HistoryOf::Resource(Resource::new(r.as_str())?),
        _ => {
            return Err(Failure::usage(
                "history needs exactly one of --subject or --resource",
            ))
        }
    };
    let ledger = ctx.open()?;
    let t = times(&ledger, q)?;
    let items = ledger.queries().history(&of, t.at, t.known_at)?;
    if q.json {
        print_json(&serde_json::to_value(&items).expect("items serialise"));
    } else {
        let zone = ledger.zone();
        for h in &items {
            println!(
                "{:>6}  effective {}  recorded {}  {:<24} {}",
                h.seq,
                h.effective_at.local(&zone),
                h.recorded_at.local(&zone),
                h.signer.as_str(),
                h.summary
            );
        }
        if items.is_empty() {
            println!("no events {}", when(&ledger, &t));
        }
    }
    Ok(exit::OK)
}

pub fn changes(
    ctx: &Context,
    from: &str,
    to: &str,
    known_at: Option<&str>,
    json: bool,
) -> Result<u8, Failure> {
    let ledger = ctx.open()?;
    let zone = ledger.zone();
    let q = QueryArgs {
        at: None,
        known_at: known_at.map(str::to_owned),
        json,
    };
    let t = times(&ledger, &q)?;
    let (from, to) = (
        parse_time("--from", from, &zone)?,
        parse_time("--to", to, &zone)?,
    );
    let rows = ledger.queries().changes(from, to, t.known_at)?;
    if json {
        print_json(&serde_json::to_value(&rows).expect("rows serialise"));
    } else {
        println!(
            "changes of access from {} to {} (as recorded by {}): {}",
            from.local(&zone),
            to.local(&zone),
            t.known_at.local(&zone),
            rows.len()
        );
        for c in &rows {
            println!(
                "  {}  {:<24} {} {} on {}  (seqs {:?})",
                c.at.local(&zone),
                c.subject.as_str(),
                if c.gained { "gained" } else { "lost  " },
                c.right,
                c.resource,
                c.events
            );
        }
    }
    Ok(exit::OK)
}

pub fn rebuild(ctx: &Context, json: bool) -> Result<u8, Failure> {
    let ledger = ctx.open()?;
    let report = ledger.check_indexes()?;
    let ok = report.is_consistent();
    if json {
        print_json(&json!({
            "ok": ok,
            "entries": report.entries,
            "expected_keys": report.expected_keys,
            "missing": report.missing,
            "extra": report.extra,
            "differing": report.differing,
            "first_problem": report.first_problem,
        }));
    } else if ok {
        println!(
            "ok: the stored indexes ({} keys) equal a replay of the {} entries from scratch",
            report.expected_keys, report.entries
        );
    } else {
        println!(
            "the stored indexes differ from a replay of the log: {} missing, {} extra, {} differing; first: {}",
            report.missing,
            report.extra,
            report.differing,
            report.first_problem.as_deref().unwrap_or("?")
        );
        println!("run `access-ledger reindex` to regenerate them from the entries");
    }
    Ok(if ok { exit::OK } else { exit::VERIFY })
}
