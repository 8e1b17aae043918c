//! The query commands: `check`, `who-can`, `what-can`, `exposure`, `history`,
//! `changes` and `rebuild`. Each answers at a valid time (`--at`) as the
//! ledger knew it at a knowledge time (`--known-at`), with the seqs of the
//! events that decide the answer.

use std::io::Write;

use access_ledger::{HistoryOf, Ledger, Resource, Right, Route, Subject, Timestamp};
use serde_json::json;

use super::args::{Changes, Check, Exposure, History, QueryArgs, Rebuild, WhatCan, WhoCan};
use super::output::{self, Format};
use super::time::{Clock, TimeArg};
use super::{exit, Context, Failure};

/// The two times of a query, resolved and checked against the ledger.
struct Times {
    at: Timestamp,
    known_at: Timestamp,
}

impl Times {
    fn of(ledger: &Ledger, clock: &Clock, q: &QueryArgs) -> Result<Times, Failure> {
        Ok(Times {
            at: clock.or_now(q.at.as_ref())?,
            known_at: known_at(ledger, clock, q.known_at.as_ref())?,
        })
    }
}

/// The knowledge time: now by default, and never before the ledger began.
fn known_at(ledger: &Ledger, clock: &Clock, t: Option<&TimeArg>) -> Result<Timestamp, Failure> {
    let known_at = clock.or_now(t)?;
    let genesis = ledger
        .entry(0)?
        .ok_or_else(|| Failure::new(exit::UNAVAILABLE, "the ledger has no genesis entry"))?
        .recorded_at();
    if known_at < genesis {
        let zone = clock.zone();
        return Err(Failure::usage(format!(
            "--known-at {} is before the ledger began ({}): it knew nothing then",
            known_at.local(zone),
            genesis.local(zone)
        )));
    }
    Ok(known_at)
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

fn when(clock: &Clock, t: &Times) -> String {
    let zone = clock.zone();
    format!(
        "at {} (as recorded by {})",
        t.at.local(zone),
        t.known_at.local(zone)
    )
}

/// Opens the ledger and resolves the query's times in its zone.
fn open(ctx: &Context, q: &QueryArgs) -> Result<(Ledger, Clock, Times), Failure> {
    let ledger = ctx.open()?;
    let clock = Clock::new(ledger.zone());
    let t = Times::of(&ledger, &clock, q)?;
    Ok((ledger, clock, t))
}

impl Check {
    /// Answers allowed (exit 0) or denied (exit 1), with the deciding events;
    /// with `--batch`, every question on standard input.
    pub fn run(self, ctx: &Context) -> Result<u8, Failure> {
        let (Some(s), Some(r), Some(x)) = (&self.subject, &self.resource, &self.right) else {
            // clap requires all three unless --batch is given, and refuses them with it.
            return self.run_batch(ctx);
        };
        let (ledger, clock, t) = open(ctx, &self.q)?;
        let d = ledger.queries().check(s, r, x, t.at, t.known_at)?;
        let mut out = std::io::stdout().lock();
        match self.q.format {
            Format::Json => output::json(&mut out, &d)?,
            Format::Text if d.allowed => {
                let route = d.route.as_ref().map(route_text).unwrap_or_default();
                writeln!(
                    out,
                    "allowed: {s} may {x} {r} {}, {route}",
                    when(&clock, &t)
                )?;
                writeln!(out, "because: {}", describe(&ledger, &d.because)?)?;
            }
            Format::Text => {
                writeln!(out, "denied: {s} may not {x} {r} {}", when(&clock, &t))?;
                match d.banned_by {
                    Some(b) => writeln!(out, "banned by: {}", describe(&ledger, &[b])?)?,
                    None if d.because.is_empty() => {
                        writeln!(out, "because: nothing in the ledger grants it")?
                    }
                    None => writeln!(out, "because: {}", describe(&ledger, &d.because)?)?,
                }
            }
        }
        Ok(if d.allowed { exit::OK } else { exit::DENIED })
    }
}

/// One `check --batch` question, as read from its line.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Question {
    subject: String,
    resource: String,
    right: String,
    at: Option<String>,
    known_at: Option<String>,
}

impl Check {
    /// `check --batch`: one open, then one JSON answer line per JSON question
    /// line, in order, flushed as it is answered (so a script may ask and
    /// read in turn). A line that cannot be asked is answered with an error
    /// object and the batch goes on; a store error ends it.
    fn run_batch(&self, ctx: &Context) -> Result<u8, Failure> {
        use std::io::BufRead;
        let ledger = ctx.open()?;
        let clock = Clock::new(ledger.zone());
        // The defaults, checked once: a bad --at is a usage error of the command.
        let at = clock.or_now(self.q.at.as_ref())?;
        let known = known_at(&ledger, &clock, self.q.known_at.as_ref())?;
        let queries = ledger.queries();
        let stdin = std::io::stdin().lock();
        let mut out = std::io::stdout().lock();
        let mut refused = false;
        for (i, line) in stdin.lines().enumerate() {
            let line = line.map_err(|e| Failure::usage(format!("standard input: {e}")))?;
            if line.trim().is_empty() {
                continue;
            }
            let n = i + 1;
            let answer = match ask(&ledger, &clock, &line, at, known) {
                Ok((s, r, x, at, known_at)) => {
                    let d = queries.check(&s, &r, &x, at, known_at)?;
                    let mut v = serde_json::to_value(&d).expect("answers serialise to JSON");
                    v.as_object_mut()
                        .expect("a decision is a JSON object")
                        .insert("line".into(), json!(n));
                    v
                }
                Err(why) => {
                    refused = true;
                    json!({ "line": n, "error": why })
                }
            };
            writeln!(out, "{answer}")?;
            out.flush()?;
        }
        Ok(if refused { exit::USAGE } else { exit::OK })
    }
}

/// The question on one `check --batch` line, checked and with its times
/// resolved (`at` and `known` when the line gives none); the reason, for
/// people, when it cannot be asked.
fn ask(
    ledger: &Ledger,
    clock: &Clock,
    line: &str,
    at: Timestamp,
    known: Timestamp,
) -> Result<(Subject, Resource, Right, Timestamp, Timestamp), String> {
    let q: Question = serde_json::from_str(line).map_err(|e| format!("not a question: {e}"))?;
    let s = Subject::new(&q.subject).map_err(|e| format!("subject: {e}"))?;
    let r = Resource::new(&q.resource).map_err(|e| format!("resource: {e}"))?;
    let x = Right::new(&q.right).map_err(|e| format!("right: {e}"))?;
    let time = |name: &str, t: &Option<String>| -> Result<Option<TimeArg>, String> {
        t.as_deref()
            .map(|t| TimeArg::from_text(name, t).map_err(|e| format!("{name}: {e}")))
            .transpose()
    };
    let failure = |f: Failure| match f {
        Failure::Error { message, .. } => message,
        other => format!("{other:?}"),
    };
    let at = match time("at", &q.at)? {
        Some(t) => clock.resolve(&t).map_err(failure)?,
        None => at,
    };
    let known_at = match time("known_at", &q.known_at)? {
        Some(t) => known_at(ledger, clock, Some(&t)).map_err(failure)?,
        None => known,
    };
    Ok((s, r, x, at, known_at))
}

impl WhoCan {
    /// Lists every subject that may exercise the right, with its route.
    pub fn run(self, ctx: &Context) -> Result<u8, Failure> {
        let (ledger, clock, t) = open(ctx, &self.q)?;
        let (r, x) = (&self.resource, &self.right);
        let rows = ledger.queries().who_can(r, x, t.at, t.known_at)?;
        let mut out = std::io::stdout().lock();
        match self.q.format {
            Format::Json => output::json(&mut out, &rows)?,
            Format::Text => {
                writeln!(
                    out,
                    "who may {x} {r} {}: {} subject(s)",
                    when(&clock, &t),
                    rows.len()
                )?;
                for a in &rows {
                    writeln!(
                        out,
                        "  {:<32} {:<32} seqs {:?}",
                        a.subject.as_str(),
                        route_text(&a.route),
                        a.because
                    )?;
                }
            }
        }
        Ok(exit::OK)
    }
}

impl WhatCan {
    /// Lists every resource and right the subject holds.
    pub fn run(self, ctx: &Context) -> Result<u8, Failure> {
        let (ledger, clock, t) = open(ctx, &self.q)?;
        let s = &self.subject;
        let rows = ledger.queries().what_can(s, t.at, t.known_at)?;
        let mut out = std::io::stdout().lock();
        if self.q.format == Format::Json {
            output::json(&mut out, &rows)?;
            return Ok(exit::OK);
        }
        writeln!(out, "what {s} may do {}:", when(&clock, &t))?;
        if rows.iter().all(|h| h.rights.is_empty()) {
            writeln!(out, "  nothing")?;
        }
        for h in &rows {
            if h.rights.is_empty() {
                writeln!(
                    out,
                    "  {:<32} nothing (although an ancestor holds something)",
                    h.resource.as_str()
                )?;
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
                writeln!(
                    out,
                    "  {:<32} {}{except} {}, seqs {:?}",
                    h.resource.as_str(),
                    held.right,
                    route_text(&held.route),
                    held.because
                )?;
            }
        }
        Ok(exit::OK)
    }
}

impl Exposure {
    /// Lists every path by which the resource's data reaches the subject.
    pub fn run(self, ctx: &Context) -> Result<u8, Failure> {
        let (ledger, clock, t) = open(ctx, &self.q)?;
        let (s, r) = (&self.subject, &self.resource);
        let mut paths = ledger.queries().exposure(s, r, t.at, t.known_at)?;
        let total = paths.len();
        let flagged = paths.iter().filter(|p| !p.banned.is_empty()).count();
        if !self.all {
            paths.truncate(self.limit);
        }
        let more = total - paths.len();
        let mut out = std::io::stdout().lock();
        if self.q.format == Format::Json {
            output::json(
                &mut out,
                &json!({
                    "subject": s.as_str(),
                    "resource": r.as_str(),
                    "at": t.at,
                    "known_at": t.known_at,
                    "total": total,
                    "flagged": flagged,
                    "shown": paths.len(),
                    "truncated": more > 0,
                    "paths": paths,
                }),
            )?;
            return Ok(exit::OK);
        }
        writeln!(
            out,
            "how data of {r} reaches {s} {}: {total} path(s), {flagged} flagged",
            when(&clock, &t),
        )?;
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
            writeln!(out, "  path {} ({kind}), rights {rights}{flag}", i + 1)?;
            for step in &p.steps {
                let step_kind = name(json!(step.kind));
                writeln!(
                    out,
                    "    seq {:>6}  {step_kind:<6} -> {}",
                    step.seq, step.subject
                )?;
            }
        }
        if more > 0 {
            writeln!(out, "  and {more} more (use --all)")?;
        }
        Ok(exit::OK)
    }
}

impl History {
    /// Lists the events about the subject or resource, with their signers.
    pub fn run(self, ctx: &Context) -> Result<u8, Failure> {
        let of = match (self.target.subject, self.target.resource) {
            (Some(s), _) => HistoryOf::Subject(s),
            (None, Some(r)) => HistoryOf::Resource(r),
            (None, None) => unreachable!("clap's argument group requires --subject or --resource"),
        };
        let (ledger, clock, t) = open(ctx, &self.q)?;
        let items = ledger.queries().history(&of, t.at, t.known_at)?;
        let mut out = std::io::stdout().lock();
        if self.q.format == Format::Json {
            output::json(&mut out, &items)?;
            return Ok(exit::OK);
        }
        let zone = clock.zone();
        for h in &items {
            writeln!(
                out,
                "{:>6}  effective {}  recorded {}  {:<24} {}",
                h.seq,
                h.effective_at.local(zone),
                h.recorded_at.local(zone),
                h.signer.as_str(),
                h.summary
            )?;
        }
        if items.is_empty() {
            writeln!(out, "no events {}", when(&clock, &t))?;
        }
        Ok(exit::OK)
    }
}

impl Changes {
    /// Lists every change of effective access in the period.
    pub fn run(self, ctx: &Context) -> Result<u8, Failure> {
        let ledger = ctx.open()?;
        let clock = Clock::new(ledger.zone());
        let known_at = known_at(&ledger, &clock, self.known_at.as_ref())?;
        let (from, to) = (clock.resolve(&self.from)?, clock.resolve(&self.to)?);
        let rows = ledger.queries().changes(from, to, known_at)?;
        let mut out = std::io::stdout().lock();
        if self.format == Format::Json {
            output::json(&mut out, &rows)?;
            return Ok(exit::OK);
        }
        let zone = clock.zone();
        writeln!(
            out,
            "changes of access from {} to {} (as recorded by {}): {}",
            from.local(zone),
            to.local(zone),
            known_at.local(zone),
            rows.len()
        )?;
        for c in &rows {
            writeln!(
                out,
                "  {}  {:<24} {} {} on {}  (seqs {:?})",
                c.at.local(zone),
                c.subject.as_str(),
                if c.gained { "gained" } else { "lost  " },
                c.right,
                c.resource,
                c.events
            )?;
        }
        Ok(exit::OK)
    }
}

impl Rebuild {
    /// Compares the stored indexes with a replay: exit 0 if equal, 4 if not.
    pub fn run(self, ctx: &Context) -> Result<u8, Failure> {
        let ledger = ctx.open()?;
        let report = ledger.check_indexes()?;
        let ok = report.is_consistent();
        let mut out = std::io::stdout().lock();
        match self.format {
            Format::Json => output::json(
                &mut out,
                &json!({
                    "ok": ok,
                    "entries": report.entries,
                    "expected_keys": report.expected_keys,
                    "missing": report.missing,
                    "extra": report.extra,
                    "differing": report.differing,
                    "first_problem": report.first_problem,
                }),
            )?,
            Format::Text if ok => writeln!(
                out,
                "ok: the stored indexes ({} keys) equal a replay of the {} entries from scratch",
                report.expected_keys, report.entries
            )?,
            Format::Text => {
                writeln!(
                    out,
                    "the stored indexes differ from a replay of the log: {} missing, {} extra, {} differing; first: {}",
                    report.missing,
                    report.extra,
                    report.differing,
                    report.first_problem.as_deref().unwrap_or("?")
                )?;
                writeln!(
                    out,
                    "run `access-ledger reindex` to regenerate them from the entries"
                )?;
            }
        }
        Ok(if ok { exit::OK } else { exit::VERIFY })
    }
}
