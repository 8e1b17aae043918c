//! The audit: replaying a real access log against the ledger. Was every
//! access a database logged authorised at that moment, as the ledger knew
//! it then?
//!
//! The package:
//!
//! - `mapping`: the mapping file ([`Mapping`]): the log's columns, its time
//!   format and zone, and the rules from log names to ledger identifiers;
//! - `log`: the streaming reader of CSV and JSON Lines logs ([`AccessLog`]);
//! - `outcome`: what the audit says about a row ([`Finding`], [`Outcome`],
//!   [`Verdict`], [`Reason`]);
//! - this file: the [`Auditor`], which judges rows with the query engine
//!   in-process, and [`audit`], which streams a whole log into an
//!   [`AuditReport`].
//!
//! Invariants (docs/SEMANTICS.md section 16 defines the answers):
//! - a row's outcome is `check` at the row's instant `T` with knowledge time
//!   `K = T`, of the account's subject and, when the row names an agency it
//!   acted for, of that agency; nothing else decides it. The reasons only
//!   explain a denial `check` made.
//! - every row read is counted exactly once: as judged (each outcome), as
//!   unmappable, or as malformed. None is dropped.
//! - memory is bounded whatever the log's length: one row at a time, the
//!   summary's maps (bounded by the ledger's subjects and resources, and
//!   [`MAX_UNMAPPABLE_NAMES`]), and caches that are cleared when full.
//! - the caches are exact: a decision is reused only for the same subject,
//!   resource, right, `T` and `K`; a subject's own events are read once and
//!   filtered by `T` and `K` for each question. The ledger is held open (and
//!   so locked against writers) for the whole audit, so its entries cannot
//!   change underneath them.

mod log;
mod mapping;
mod outcome;

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::rc::Rc;

use jiff::tz::TimeZone;
use serde::Serialize;

use crate::event::Event;
use crate::ident::{Resource, Right, Rights, Subject};
use crate::ledger::{Ledger, LedgerError};
use crate::query::{Decision, HistoryOf, Queries, QueryError, Route};
use crate::time::Timestamp;

pub use log::{AccessLog, BadRow, LogError, LogFormat, RawRow};
pub use mapping::{Columns, Mapping, MappingError, RowTime, Unmapped};
pub use outcome::{ActingFor, Finding, Judgement, Outcome, OutcomeKind, Reason, Verdict};

/// Most distinct unmappable names the summary lists one by one; the rest
/// are counted together (memory stays bounded on a hostile log).
pub const MAX_UNMAPPABLE_NAMES: usize = 10_000;
/// Most malformed rows the summary lists (all are counted, and all are
/// given to the [`Sink`]).
pub const MAX_LISTED_MALFORMED: usize = 100;
/// Decisions kept before the decision cache is emptied.
const MAX_CACHED_VERDICTS: usize = 100_000;
/// Subject events kept before the event cache is emptied.
const MAX_CACHED_EVENTS: usize = 1_000_000;

/// Why an audit stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// The log could not be read.
    #[error(transparent)]
    Log(#[from] LogError),
    /// A malformed row, without `skip_bad`.
    #[error("line {}: {}", .0.line, .0.message)]
    BadRow(BadRow),
    /// A question to the ledger failed.
    #[error(transparent)]
    Query(#[from] QueryError),
    /// Reading an entry failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The index named an entry that is not stored.
    #[error("entry {0} is named by the indexes but not stored")]
    MissingEntry(u64),
    /// Times without an offset, and no zone to read them in.
    #[error("the mapping reads local times but names no time_zone, and the ledger's zone {0} is not in this build's tz database")]
    NoZone(String),
    /// The sink refused a finding (writing `--out` failed).
    #[error("{0}")]
    Sink(String),
}

/// How to audit.
#[derive(Debug, Clone, Default)]
pub struct AuditOptions {
    /// Also judge every row by what the ledger knew at this time (`--known-at`),
    /// and report the rows whose outcome differs.
    pub known_at: Option<Timestamp>,
    /// Count and list malformed rows instead of stopping at the first.
    pub skip_bad: bool,
    /// Judge only rows whose time falls in `[from, to)` (the council export's
    /// period); rows outside it are counted in [`AuditReport::outside_period`]
    /// and nothing else. A row whose time could not be mapped or parsed is
    /// judged (as unmappable or malformed) whatever the period: its time is
    /// what is unknown.
    pub period: Option<(Timestamp, Timestamp)>,
}

/// Where the audit sends what it finds besides the summary. Every method has
/// a default that does nothing.
pub trait Sink {
    /// Every finding (plainly authorised rows included), in log order.
    fn finding(&mut self, _finding: &Finding) -> Result<(), String> {
        Ok(())
    }
    /// Every malformed row skipped under `skip_bad`, in log order.
    fn bad_row(&mut self, _row: &BadRow) -> Result<(), String> {
        Ok(())
    }
    /// Rows done and bytes read so far, often.
    fn progress(&mut self, _rows: u64, _bytes: u64) {}
}

/// A sink that keeps nothing: the summary alone.
pub struct NoSink;

impl Sink for NoSink {}

/// Counts of rows per outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Authorised.
    pub authorised: u64,
    /// Unauthorised.
    pub unauthorised: u64,
    /// Side door.
    pub side_door: u64,
    /// Ambiguous time.
    pub ambiguous_time: u64,
    /// Unmappable.
    pub unmappable: u64,
}

impl Counts {
    fn add(&mut self, k: OutcomeKind) {
        *match k {
            OutcomeKind::Authorised => &mut self.authorised,
            OutcomeKind::Unauthorised => &mut self.unauthorised,
            OutcomeKind::SideDoor => &mut self.side_door,
            OutcomeKind::AmbiguousTime => &mut self.ambiguous_time,
            OutcomeKind::Unmappable => &mut self.unmappable,
        } += 1;
    }

    /// Rows counted.
    pub fn total(&self) -> u64 {
        self.authorised + self.unauthorised + self.side_door + self.ambiguous_time + self.unmappable
    }
}

/// The accesses that broke one permanent commitment (a ban): violations in
/// practice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BanViolations {
    /// The ban's seq.
    pub ban: u64,
    /// Rows whose account the ban covered.
    pub rows: u64,
    /// Rows by an account acting for an agency the ban covered (side door).
    pub side_door_rows: u64,
    /// The first such access.
    pub first: Timestamp,
    /// The last.
    pub last: Timestamp,
    /// Rows per account subject.
    pub subjects: BTreeMap<Subject, u64>,
}

/// An unmappable name and how many rows carried it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnmappedCount {
    /// The field, name and why.
    #[serde(flatten)]
    pub name: Unmapped,
    /// Rows.
    pub rows: u64,
}

/// The rows whose outcome by the later knowledge time differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Revised {
    /// The knowledge time of the second judgement.
    pub known_at: Timestamp,
    /// Rows whose outcome (class or reason) differs.
    pub rows: u64,
    /// Per change, e.g. `"authorised -> unauthorised (revoked)"`.
    pub changes: BTreeMap<String, u64>,
}

/// What the ledger was when audited against: its length and head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerSeen {
    /// Entries.
    pub entries: u64,
    /// The last entry's hash (hex).
    pub head: String,
}

/// The audit of a whole log: the summary. JSON (`audit --json`) is this
/// struct; violations of permanent commitments come first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditReport {
    /// Accesses that a ban covered, per ban (by the account, or through the
    /// agency it acted for), by seq.
    pub violations: Vec<BanViolations>,
    /// Rows read, malformed ones included.
    pub rows: u64,
    /// Rows per outcome (malformed ones are not judged).
    pub outcomes: Counts,
    /// Unauthorised and side-door rows per reason.
    pub reasons: BTreeMap<&'static str, u64>,
    /// Malformed rows (skipped with `skip_bad`).
    pub malformed: u64,
    /// The first [`MAX_LISTED_MALFORMED`] of them.
    pub malformed_rows: Vec<BadRow>,
    /// Unmappable names, most rows first.
    pub unmappable: Vec<UnmappedCount>,
    /// Rows with unmappable names beyond [`MAX_UNMAPPABLE_NAMES`] distinct ones.
    pub unmappable_other: u64,
    /// Rows per account subject.
    pub by_subject: BTreeMap<Subject, Counts>,
    /// Rows per resource.
    pub by_resource: BTreeMap<Resource, Counts>,
    /// The earliest and latest row time judged.
    pub period: Option<(Timestamp, Timestamp)>,
    /// With `--known-at`: the rows judged differently by that later knowledge.
    pub revised: Option<Revised>,
    /// The ledger audited against.
    pub ledger: LedgerSeen,
    /// Rows left out because their time is outside the period asked for
    /// ([`AuditOptions::period`]).
    pub outside_period: u64,
}

/// Judges rows against one ledger, in-process.
pub struct Auditor<'l> {
    ledger: &'l Ledger,
    queries: Queries<'l>,
    mapping: &'l Mapping,
    zone: TimeZone,
    known_at: Option<Timestamp>,
    verdicts: HashMap<(Subject, Resource, Right, Timestamp, Timestamp), Verdict>,
    events: HashMap<Subject, Rc<[OwnEvent]>>,
    cached_events: usize,
}

/// An event about a subject itself, as the explanation of a denial needs it.
#[derive(Debug, Clone)]
struct OwnEvent {
    seq: u64,
    recorded_at: Timestamp,
    effective_at: Timestamp,
    kind: OwnKind,
}

#[derive(Debug, Clone)]
enum OwnKind {
    Join(Subject),
    Leave(Subject),
    Grant {
        resource: Resource,
        rights: Rights,
        until: Timestamp,
    },
}

impl<'l> Auditor<'l> {
    /// An auditor of `ledger` with `mapping`; `known_at` adds the judgement
    /// by that later knowledge time.
    pub fn new(
        ledger: &'l Ledger,
        mapping: &'l Mapping,
        known_at: Option<Timestamp>,
    ) -> Result<Self, AuditError> {
        let zone = match mapping::zone_named(ledger.zone().name()) {
            Some(z) => z,
            None if mapping.zone_name().is_some() || !mapping.reads_local_times() => TimeZone::UTC,
            None => return Err(AuditError::NoZone(ledger.zone().name().to_owned())),
        };
        Ok(Auditor {
            ledger,
            queries: ledger.queries(),
            mapping,
            zone,
            known_at,
            verdicts: HashMap::new(),
            events: HashMap::new(),
            cached_events: 0,
        })
    }

    /// Judges one row: a [`Finding`], or the reason it is malformed (its time
    /// cannot be read).
    pub fn judge(&mut self, row: RawRow) -> Result<Result<Finding, BadRow>, AuditError> {
        let time = match self.mapping.time(&row.time, &self.zone) {
            Ok(t) => t,
            Err(message) => {
                return Ok(Err(BadRow {
                    line: row.line,
                    message,
                }))
            }
        };
        let m = self.mapping;
        let subject = m.account(&row.account, row.agency.as_deref());
        let agency = row
            .on_behalf_of
            .as_deref()
            .map(|a| m.agency("on_behalf_of", a))
            .transpose();
        let resource = m.object(&row.object);
        let right = m.action(&row.action);
        let unmapped = [
            subject.as_ref().err(),
            agency.as_ref().err(),
            resource.as_ref().err(),
            right.as_ref().err(),
        ]
        .into_iter()
        .flatten()
        .next()
        .cloned();
        let (subject, agency, resource, right) = (
            subject.ok(),
            agency.ok().flatten(),
            resource.ok(),
            right.ok(),
        );
        let (outcome, known_later) = match (&subject, &resource, &right, unmapped) {
            (Some(s), Some(r), Some(x), None) => {
                let agency = agency.filter(|a| a != s);
                let now = self.outcome(s, agency.as_ref(), r, x, time, None)?;
                let later = match self.known_at {
                    Some(k) => Some(self.outcome(s, agency.as_ref(), r, x, time, Some(k))?),
                    None => None,
                };
                (now, later)
            }
            (_, _, _, u) => {
                // One of the four is missing, so `unmapped` names it.
                let u = u.expect("a name that did not map is named");
                (
                    Outcome::Unmappable(u.clone()),
                    self.known_at.map(|_| Outcome::Unmappable(u)),
                )
            }
        };
        Ok(Ok(Finding {
            row,
            subject,
            resource,
            right,
            outcome,
            known_later,
        }))
    }

    /// The outcome at the row's time(s), known at `known_at` (default: the
    /// instant judged).
    fn outcome(
        &mut self,
        s: &Subject,
        agency: Option<&Subject>,
        r: &Resource,
        x: &Right,
        time: RowTime,
        known_at: Option<Timestamp>,
    ) -> Result<Outcome, AuditError> {
        match time {
            RowTime::Exact(t) => Ok(Outcome::Judged(self.judgement(
                s,
                agency,
                r,
                x,
                t,
                known_at.unwrap_or(t),
            )?)),
            RowTime::Repeated(a, b) => {
                let first = self.judgement(s, agency, r, x, a, known_at.unwrap_or(a))?;
                let second = self.judgement(s, agency, r, x, b, known_at.unwrap_or(b))?;
                Ok(if first.same_outcome(&second) {
                    Outcome::Judged(first)
                } else {
                    Outcome::AmbiguousTime { first, second }
                })
            }
        }
    }

    /// `check` of the account, and of the agency it acted for, at `at` as
    /// known at `known_at`.
    pub fn judgement(
        &mut self,
        s: &Subject,
        agency: Option<&Subject>,
        r: &Resource,
        x: &Right,
        at: Timestamp,
        known_at: Timestamp,
    ) -> Result<Judgement, AuditError> {
        let account = self.verdict(s, r, x, at, known_at)?;
        let on_behalf_of = match agency {
            Some(a) => Some(ActingFor {
                agency: a.clone(),
                verdict: self.verdict(a, r, x, at, known_at)?,
            }),
            None => None,
        };
        Ok(Judgement {
            at,
            known_at,
            account,
            on_behalf_of,
        })
    }

    /// `check s r x` at `at` as known at `known_at`, with the reason of a
    /// denial (docs/SEMANTICS.md 16.2).
    pub fn verdict(
        &mut self,
        s: &Subject,
        r: &Resource,
        x: &Right,
        at: Timestamp,
        known_at: Timestamp,
    ) -> Result<Verdict, AuditError> {
        let key = (s.clone(), r.clone(), x.clone(), at, known_at);
        if let Some(v) = self.verdicts.get(&key) {
            return Ok(v.clone());
        }
        let d = self.queries.check(s, r, x, at, known_at)?;
        let v = self.dress(d)?;
        if self.verdicts.len() >= MAX_CACHED_VERDICTS {
            self.verdicts.clear();
        }
        self.verdicts.insert(key, v.clone());
        Ok(v)
    }

    fn dress(&mut self, d: Decision) -> Result<Verdict, AuditError> {
        if d.allowed {
            // `check` sets a route exactly when it allows.
            let route = d.route.unwrap_or(Route::Direct);
            return Ok(Verdict::Allowed {
                route,
                because: d.because,
            });
        }
        let reason = if let Some(seq) = d.banned_by {
            Reason::Banned { seq }
        } else if let Some(&seq) = d.because.iter().max() {
            Reason::Revoked { seq }
        } else {
            self.unexplained(&d.subject, &d.resource, &d.right, d.at, d.known_at)?
        };
        let because = if d.because.is_empty() {
            reason.seq().into_iter().collect()
        } else {
            d.because
        };
        Ok(Verdict::Denied { reason, because })
    }

    /// The reason of a denial `check` gives no seq for (rule 8: nothing
    /// granted it, or the grants expired, or the memberships ended):
    /// docs/SEMANTICS.md 16.2.
    fn unexplained(
        &mut self,
        s: &Subject,
        r: &Resource,
        x: &Right,
        at: Timestamp,
        known_at: Timestamp,
    ) -> Result<Reason, AuditError> {
        let counts = |e: &OwnEvent| e.recorded_at <= known_at && e.effective_at <= at;
        let mut closure = vec![s.clone()];
        let mut i = 0;
        let mut expired: Option<(Timestamp, u64)> = None;
        let mut ended: Vec<(u64, Subject)> = Vec::new();
        while i < closure.len() {
            let m = closure[i].clone();
            i += 1;
            // The latest membership event per group, in event order.
            let mut last: BTreeMap<Subject, (bool, u64)> = BTreeMap::new();
            for e in self.own_events(&m)?.iter().filter(|e| counts(e)) {
                match &e.kind {
                    OwnKind::Join(g) => {
                        last.insert(g.clone(), (true, e.seq));
                    }
                    OwnKind::Leave(g) => {
                        last.insert(g.clone(), (false, e.seq));
                    }
                    OwnKind::Grant {
                        resource,
                        rights,
                        until,
                    } => {
                        if *until <= at && resource.covers(r) && rights.contains(x) {
                            expired = expired.max(Some((*until, e.seq)));
                        }
                    }
                }
            }
            for (g, (member, seq)) in last {
                if member {
                    if !closure.contains(&g) {
                        closure.push(g);
                    }
                } else {
                    ended.push((seq, g));
                }
            }
        }
        if let Some((_, seq)) = expired {
            return Ok(Reason::GrantExpired { seq });
        }
        ended.retain(|(_, g)| !closure.contains(g));
        ended.sort_by_key(|e| std::cmp::Reverse(e.0));
        for (seq, g) in ended {
            if self.queries.check(&g, r, x, at, known_at)?.allowed {
                return Ok(Reason::MembershipEnded { seq });
            }
        }
        Ok(Reason::NeverGranted)
    }

    /// Every join and leave with `m` as the member and every expiring grant
    /// to `m`, of any time, in event order (read once per subject).
    fn own_events(&mut self, m: &Subject) -> Result<Rc<[OwnEvent]>, AuditError> {
        if let Some(e) = self.events.get(m) {
            return Ok(e.clone());
        }
        let items = self.queries.history(
            &HistoryOf::Subject(m.clone()),
            Timestamp::MAX,
            Timestamp::MAX,
        )?;
        let mut out = Vec::new();
        for item in items {
            if !matches!(item.kind, "join" | "leave" | "grant") {
                continue;
            }
            let e = self
                .ledger
                .entry(item.seq)?
                .ok_or(AuditError::MissingEntry(item.seq))?;
            let kind = match e.body() {
                Event::Join { member, group, .. } if member == m => OwnKind::Join(group.clone()),
                Event::Leave { member, group, .. } if member == m => OwnKind::Leave(group.clone()),
                Event::Grant {
                    subject,
                    resource,
                    rights,
                    until: Some(until),
                    ..
                } if subject == m => OwnKind::Grant {
                    resource: resource.clone(),
                    rights: rights.clone(),
                    until: *until,
                },
                _ => continue,
            };
            out.push(OwnEvent {
                seq: item.seq,
                recorded_at: item.recorded_at,
                effective_at: item.effective_at,
                kind,
            });
        }
        if self.cached_events + out.len() > MAX_CACHED_EVENTS {
            self.events.clear();
            self.cached_events = 0;
        }
        self.cached_events += out.len();
        let out: Rc<[OwnEvent]> = out.into();
        self.events.insert(m.clone(), out.clone());
        Ok(out)
    }
}

/// Audits a whole log: judges every row, gives each finding and each
/// skipped malformed row to `sink`, and returns the summary.
///
/// Without `opts.skip_bad` the first malformed row stops the audit with
/// [`AuditError::BadRow`]. The caller SHOULD run a long audit on a backup
/// copy or a mirror of the ledger: the open ledger is locked against
/// writers for as long as the audit runs.
pub fn audit<R: Read>(
    ledger: &Ledger,
    mut log: AccessLog<R>,
    mapping: &Mapping,
    opts: &AuditOptions,
    sink: &mut dyn Sink,
) -> Result<AuditReport, AuditError> {
    let mut auditor = Auditor::new(ledger, mapping, opts.known_at)?;
    let mut summary = Summary::new(opts.known_at);
    while let Some(row) = log.next_row()? {
        summary.rows += 1;
        let judged = match row {
            Ok(row) => auditor.judge(row)?,
            Err(bad) => Err(bad),
        };
        match judged {
            Ok(f) if outside(opts.period, &f) => summary.outside_period += 1,
            Ok(f) => {
                summary.add(&f);
                sink.finding(&f).map_err(AuditError::Sink)?;
            }
            Err(bad) if opts.skip_bad => {
                sink.bad_row(&bad).map_err(AuditError::Sink)?;
                summary.bad(bad);
            }
            Err(bad) => return Err(AuditError::BadRow(bad)),
        }
        if summary.rows % 1024 == 0 {
            sink.progress(summary.rows, log.bytes_read());
        }
    }
    sink.progress(summary.rows, log.bytes_read());
    Ok(summary.finish(ledger))
}

/// Whether `f` was judged at a time outside `period` (unmappable rows, with
/// no judged time, are never outside).
fn outside(period: Option<(Timestamp, Timestamp)>, f: &Finding) -> bool {
    match (period, f.outcome.judgements().first()) {
        (Some((from, to)), Some(j)) => j.at < from || j.at >= to,
        _ => false,
    }
}

/// The summary being gathered.
struct Summary {
    rows: u64,
    outcomes: Counts,
    reasons: BTreeMap<&'static str, u64>,
    violations: BTreeMap<u64, BanViolations>,
    malformed: u64,
    malformed_rows: Vec<BadRow>,
    unmappable: HashMap<Unmapped, u64>,
    unmappable_other: u64,
    by_subject: BTreeMap<Subject, Counts>,
    by_resource: BTreeMap<Resource, Counts>,
    period: Option<(Timestamp, Timestamp)>,
    revised: Option<Revised>,
    outside_period: u64,
}

impl Summary {
    fn new(known_at: Option<Timestamp>) -> Self {
        Summary {
            rows: 0,
            outcomes: Counts::default(),
            reasons: BTreeMap::new(),
            violations: BTreeMap::new(),
            malformed: 0,
            malformed_rows: Vec::new(),
            unmappable: HashMap::new(),
            unmappable_other: 0,
            by_subject: BTreeMap::new(),
            by_resource: BTreeMap::new(),
            period: None,
            revised: known_at.map(|k| Revised {
                known_at: k,
                rows: 0,
                changes: BTreeMap::new(),
            }),
            outside_period: 0,
        }
    }

    fn bad(&mut self, bad: BadRow) {
        self.malformed += 1;
        if self.malformed_rows.len() < MAX_LISTED_MALFORMED {
            self.malformed_rows.push(bad);
        }
    }

    fn add(&mut self, f: &Finding) {
        let kind = f.outcome.kind();
        self.outcomes.add(kind);
        if let Some(s) = &f.subject {
            if kind != OutcomeKind::Unmappable {
                self.by_subject.entry(s.clone()).or_default().add(kind);
            }
        }
        if let Some(r) = &f.resource {
            if kind != OutcomeKind::Unmappable {
                self.by_resource.entry(r.clone()).or_default().add(kind);
            }
        }
        if let Outcome::Unmappable(u) = &f.outcome {
            if let Some(n) = self.unmappable.get_mut(u) {
                *n += 1;
            } else if self.unmappable.len() < MAX_UNMAPPABLE_NAMES {
                self.unmappable.insert(u.clone(), 1);
            } else {
                self.unmappable_other += 1;
            }
        }
        let judgements = f.outcome.judgements();
        if let Some(j) = judgements.first() {
            let t = j.at;
            self.period = Some(match self.period {
                None => (t, t),
                Some((a, b)) => (a.min(t), b.max(t)),
            });
        }
        if let Outcome::Judged(j) = &f.outcome {
            if let Some(reason) = j.reason() {
                *self.reasons.entry(reason.name()).or_default() += 1;
            }
        }
        // A ban broken at either instant of an ambiguous time is listed:
        // the row may have been a violation.
        let mut bans: Vec<(u64, bool)> = Vec::new();
        for j in &judgements {
            if let Verdict::Denied {
                reason: Reason::Banned { seq },
                ..
            } = j.account
            {
                bans.push((seq, false));
            }
            if let Some(ActingFor {
                verdict:
                    Verdict::Denied {
                        reason: Reason::Banned { seq },
                        ..
                    },
                ..
            }) = &j.on_behalf_of
            {
                bans.push((*seq, true));
            }
        }
        bans.sort_unstable();
        bans.dedup();
        for (ban, side_door) in bans {
            let at = judgements[0].at;
            let v = self.violations.entry(ban).or_insert_with(|| BanViolations {
                ban,
                rows: 0,
                side_door_rows: 0,
                first: at,
                last: at,
                subjects: BTreeMap::new(),
            });
            if side_door {
                v.side_door_rows += 1;
            } else {
                v.rows += 1;
            }
            v.first = v.first.min(at);
            v.last = v.last.max(at);
            if let Some(s) = &f.subject {
                *v.subjects.entry(s.clone()).or_default() += 1;
            }
        }
        if let (Some(rev), Some(later)) = (&mut self.revised, &f.known_later) {
            if f.revised() {
                rev.rows += 1;
                let name = |o: &Outcome| match o {
                    Outcome::Judged(j) => match j.reason() {
                        Some(r) => format!("{} ({})", j.kind().name(), r.name()),
                        None => j.kind().name().to_owned(),
                    },
                    o => o.kind().name().to_owned(),
                };
                *rev.changes
                    .entry(format!("{} -> {}", name(&f.outcome), name(later)))
                    .or_default() += 1;
            }
        }
    }

    fn finish(self, ledger: &Ledger) -> AuditReport {
        let mut unmappable: Vec<UnmappedCount> = self
            .unmappable
            .into_iter()
            .map(|(name, rows)| UnmappedCount { name, rows })
            .collect();
        unmappable.sort_by(|a, b| b.rows.cmp(&a.rows).then_with(|| a.name.cmp(&b.name)));
        AuditReport {
            violations: self.violations.into_values().collect(),
            rows: self.rows,
            outcomes: self.outcomes,
            reasons: self.reasons,
            malformed: self.malformed,
            malformed_rows: self.malformed_rows,
            unmappable,
            unmappable_other: self.unmappable_other,
            by_subject: self.by_subject,
            by_resource: self.by_resource,
            period: self.period,
            revised: self.revised,
            ledger: LedgerSeen {
                entries: ledger.len(),
                head: ledger.state().head_hash().to_hex(),
            },
            outside_period: self.outside_period,
        }
    }
}
