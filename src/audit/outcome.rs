//! What the audit says about one row: the outcomes and reasons of
//! docs/AUDIT.md, defined in docs/SEMANTICS.md section 16.

use std::fmt;

use serde::Serialize;

use crate::ident::{Resource, Right, Subject};
use crate::query::Route;
use crate::time::Timestamp;

use super::log::RawRow;
use super::mapping::Unmapped;

/// Why `check` denied a subject (docs/SEMANTICS.md 16.2), in the order they
/// are tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
    /// A ban (permanent revocation) covers the subject: a violation in
    /// practice of a permanent commitment.
    Banned {
        /// The ban `check` names (`banned_by`).
        seq: u64,
    },
    /// A revocation defeated a live grant (the latest one `check` names).
    Revoked {
        /// The revoke.
        seq: u64,
    },
    /// A grant that covered it to the subject or one of its groups had
    /// expired (`until` at or before the access).
    GrantExpired {
        /// The grant (of the expired ones, the one that expired last).
        seq: u64,
    },
    /// The subject had left (directly, or through a group leaving a group)
    /// a group that has the right at that instant.
    MembershipEnded {
        /// The leave.
        seq: u64,
    },
    /// Nothing recorded by then gave it by any route the subject still had.
    NeverGranted,
}

impl Reason {
    /// The deciding seq, if the reason has one.
    pub fn seq(&self) -> Option<u64> {
        match *self {
            Reason::Banned { seq }
            | Reason::Revoked { seq }
            | Reason::GrantExpired { seq }
            | Reason::MembershipEnded { seq } => Some(seq),
            Reason::NeverGranted => None,
        }
    }

    /// The reason's name in JSON and CSV (`banned`, `never_granted`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            Reason::Banned { .. } => "banned",
            Reason::Revoked { .. } => "revoked",
            Reason::GrantExpired { .. } => "grant_expired",
            Reason::MembershipEnded { .. } => "membership_ended",
            Reason::NeverGranted => "never_granted",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Banned { seq } => write!(f, "banned by seq {seq}"),
            Reason::Revoked { seq } => write!(f, "revoked by seq {seq}"),
            Reason::GrantExpired { seq } => write!(f, "grant expired (seq {seq})"),
            Reason::MembershipEnded { seq } => write!(f, "membership ended by seq {seq}"),
            Reason::NeverGranted => f.write_str("never granted"),
        }
    }
}

/// One subject's `check` at one instant, with the reason when denied.
///
/// JSON: `{"allowed": true, "route": "direct", "because": [3]}` or
/// `{"allowed": false, "reason": "banned", "seq": 12, "because": [12]}`
/// (`seq` absent for `never_granted`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// `check` allowed it.
    Allowed {
        /// The route `check` reports.
        route: Route,
        /// Its deciding seqs (`check`'s `because`).
        because: Vec<u64>,
    },
    /// `check` denied it.
    Denied {
        /// Why.
        reason: Reason,
        /// `check`'s `because` (the ban, or the revokes), or the seq of the reason.
        because: Vec<u64>,
    },
}

impl Serialize for Verdict {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("allowed", &self.allowed())?;
        match self {
            Verdict::Allowed { route, because } => {
                m.serialize_entry("route", route)?;
                m.serialize_entry("because", because)?;
            }
            Verdict::Denied { reason, because } => {
                m.serialize_entry("reason", reason.name())?;
                if let Some(seq) = reason.seq() {
                    m.serialize_entry("seq", &seq)?;
                }
                m.serialize_entry("because", because)?;
            }
        }
        m.end()
    }
}

impl Verdict {
    /// Whether it was allowed.
    pub fn allowed(&self) -> bool {
        matches!(self, Verdict::Allowed { .. })
    }

    /// The reason, when denied.
    pub fn reason(&self) -> Option<Reason> {
        match self {
            Verdict::Allowed { .. } => None,
            Verdict::Denied { reason, .. } => Some(*reason),
        }
    }

    /// The deciding seqs.
    pub fn because(&self) -> &[u64] {
        match self {
            Verdict::Allowed { because, .. } | Verdict::Denied { because, .. } => because,
        }
    }
}

/// The audit of a mapped row at one instant and one knowledge time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Judgement {
    /// The instant judged.
    pub at: Timestamp,
    /// As the ledger knew it then.
    pub known_at: Timestamp,
    /// The account's subject, and `check` of it.
    pub account: Verdict,
    /// The agency acted for (when the row names one other than the
    /// account's subject), and `check` of it.
    pub on_behalf_of: Option<ActingFor>,
}

/// The agency a row's account acted for, and `check` of that agency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActingFor {
    /// The agency's subject.
    pub agency: Subject,
    /// `check` of it at the same instant, resource and right.
    #[serde(flatten)]
    pub verdict: Verdict,
}

impl Judgement {
    /// The outcome class: unauthorised when the account is denied, side
    /// door when only the agency acted for is, authorised otherwise.
    pub fn kind(&self) -> OutcomeKind {
        match (&self.account, &self.on_behalf_of) {
            (Verdict::Denied { .. }, _) => OutcomeKind::Unauthorised,
            (
                _,
                Some(ActingFor {
                    verdict: Verdict::Denied { .. },
                    ..
                }),
            ) => OutcomeKind::SideDoor,
            _ => OutcomeKind::Authorised,
        }
    }

    /// The reason that decides the outcome: the account's, else the agency's.
    pub fn reason(&self) -> Option<Reason> {
        self.account
            .reason()
            .or_else(|| self.on_behalf_of.as_ref().and_then(|a| a.verdict.reason()))
    }

    /// The bans this access broke: the account's, and the agency's it acted for.
    pub fn bans(&self) -> Vec<u64> {
        let mut out = Vec::new();
        for v in
            std::iter::once(&self.account).chain(self.on_behalf_of.as_ref().map(|a| &a.verdict))
        {
            if let Some(Reason::Banned { seq }) = v.reason() {
                if !out.contains(&seq) {
                    out.push(seq);
                }
            }
        }
        out
    }

    /// What decides the class, for comparing two judgements of one row:
    /// the class and the reasons' kinds (not their seqs or routes).
    fn class(&self) -> (OutcomeKind, Option<&'static str>, Option<&'static str>) {
        (
            self.kind(),
            self.account.reason().map(|r| r.name()),
            self.on_behalf_of
                .as_ref()
                .and_then(|a| a.verdict.reason().map(|r| r.name())),
        )
    }

    /// Whether two judgements give the same outcome and reasons.
    pub fn same_outcome(&self, other: &Judgement) -> bool {
        self.class() == other.class()
    }
}

/// The outcome classes, in the order the summary lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKind {
    /// Allowed, for the account and any agency it acted for.
    Authorised,
    /// The account was not allowed.
    Unauthorised,
    /// The account was allowed, the agency it acted for was not.
    SideDoor,
    /// A local time in a repeated hour, judged differently at its two instants.
    AmbiguousTime,
    /// A name the mapping does not map.
    Unmappable,
}

impl OutcomeKind {
    /// The name in JSON and CSV.
    pub fn name(self) -> &'static str {
        match self {
            OutcomeKind::Authorised => "authorised",
            OutcomeKind::Unauthorised => "unauthorised",
            OutcomeKind::SideDoor => "side_door",
            OutcomeKind::AmbiguousTime => "ambiguous_time",
            OutcomeKind::Unmappable => "unmappable",
        }
    }
}

/// The outcome of one row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Judged at one instant (or at both instants of a repeated local time,
    /// with the same outcome: then the first).
    Judged(Judgement),
    /// A repeated local time whose two instants are judged differently.
    AmbiguousTime {
        /// At the first occurrence.
        first: Judgement,
        /// At the second.
        second: Judgement,
    },
    /// A name the mapping does not know.
    Unmappable(Unmapped),
}

impl Outcome {
    /// The outcome class.
    pub fn kind(&self) -> OutcomeKind {
        match self {
            Outcome::Judged(j) => j.kind(),
            Outcome::AmbiguousTime { .. } => OutcomeKind::AmbiguousTime,
            Outcome::Unmappable(_) => OutcomeKind::Unmappable,
        }
    }

    /// The judgements made (none for an unmappable row).
    pub fn judgements(&self) -> Vec<&Judgement> {
        match self {
            Outcome::Judged(j) => vec![j],
            Outcome::AmbiguousTime { first, second } => vec![first, second],
            Outcome::Unmappable(_) => vec![],
        }
    }
}

/// What the ledger said about one row: the row, what it maps to, and the
/// outcome (as the ledger knew it at the row's time), and optionally the
/// outcome by a later knowledge time (`--known-at`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The row as read.
    pub row: RawRow,
    /// The account's subject, if mapped.
    pub subject: Option<Subject>,
    /// The resource, if mapped.
    pub resource: Option<Resource>,
    /// The right, if mapped.
    pub right: Option<Right>,
    /// The outcome as known at the row's time.
    pub outcome: Outcome,
    /// The outcome as known at the audit's `--known-at`, when asked for.
    pub known_later: Option<Outcome>,
}

impl Finding {
    /// Whether the row is plainly authorised (at the row's time, and by
    /// any later knowledge asked for): the rows `--out` leaves out.
    pub fn plainly_authorised(&self) -> bool {
        self.outcome.kind() == OutcomeKind::Authorised
            && self
                .known_later
                .as_ref()
                .is_none_or(|o| o.kind() == OutcomeKind::Authorised)
    }

    /// Whether the outcome by the later knowledge time differs (class or
    /// reason kind).
    pub fn revised(&self) -> bool {
        let Some(later) = &self.known_later else {
            return false;
        };
        match (&self.outcome, later) {
            (Outcome::Judged(a), Outcome::Judged(b)) => !a.same_outcome(b),
            (
                Outcome::AmbiguousTime {
                    first: a,
                    second: b,
                },
                Outcome::AmbiguousTime {
                    first: c,
                    second: d,
                },
            ) => !a.same_outcome(c) || !b.same_outcome(d),
            (a, b) => a.kind() != b.kind(),
        }
    }

    /// One line for people: what happened and why.
    pub fn explain(&self) -> String {
        let who = self
            .subject
            .as_ref()
            .map_or_else(|| self.row.account.clone(), |s| s.to_string());
        let what = match (&self.right, &self.resource) {
            (Some(x), Some(r)) => format!("{x} {r}"),
            _ => format!("{} {}", self.row.action, self.row.object),
        };
        let text = |o: &Outcome| {
            match o {
            Outcome::Unmappable(u) => format!("unmappable: {u}"),
            Outcome::Judged(j) => judgement_text(&who, &what, j),
            Outcome::AmbiguousTime { first, second } => format!(
                "ambiguous time: the local time repeats; at its first occurrence {}; at its second {}",
                judgement_text(&who, &what, first),
                judgement_text(&who, &what, second)
            ),
        }
        };
        let mut line = text(&self.outcome);
        if let (true, Some(later)) = (self.revised(), &self.known_later) {
            let k = later.judgements().first().map(|j| j.known_at);
            line.push_str(&format!(
                "; as recorded by {}: {}",
                k.map_or_else(String::new, |k| k.to_string()),
                text(later)
            ));
        }
        line
    }
}

fn judgement_text(who: &str, what: &str, j: &Judgement) -> String {
    let route = |r: &Route| match r {
        Route::Direct => "directly".to_owned(),
        Route::Group(g) => format!("through {g}"),
    };
    match (&j.account, &j.on_behalf_of) {
        (Verdict::Denied { reason, .. }, obo) => {
            let mut s = format!("unauthorised: {who} may not {what}: {reason}");
            if let Some(ActingFor {
                agency,
                verdict:
                    Verdict::Denied {
                        reason: Reason::Banned { seq },
                        ..
                    },
            }) = obo
            {
                s.push_str(&format!("; acting for {agency}, banned by seq {seq}"));
            }
            s
        }
        (
            Verdict::Allowed { route: r, .. },
            Some(ActingFor {
                agency: a,
                verdict: Verdict::Denied { reason, .. },
            }),
        ) => {
            let broken = if matches!(reason, Reason::Banned { .. }) {
                " (a broken commitment)"
            } else {
                ""
            };
            format!(
                "side door: {who} may {what} {}, but acted for {a}, which may not: {reason}{broken}",
                route(r)
            )
        }
        (Verdict::Allowed { route: r, .. }, _) => {
            format!("authorised: {who} may {what} {}", route(r))
        }
    }
}
