//! The answers: the vocabulary that both evaluators speak and the command
//! line prints.
//!
//! [`Decision`], [`Access`], [`Holding`], [`ExposurePath`], [`Change`] and
//! [`HistoryItem`] are what a query returns, whichever evaluator computed it;
//! their JSON forms (serde) are the ones the command line prints. [`QueryError`]
//! is why a query could not be answered. The crate-private part ([`Want`],
//! [`Verdict`] and the orderings) is what the two evaluators share so that they
//! dress and sort a decision the same way; the decisions themselves are each
//! evaluator's own.
//!
//! This file depends on nothing else in the query package.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde::{Serialize, Serializer};

use crate::entry::Entry;
use crate::event::Event;
use crate::ident::{AuthorityName, Resource, Right, Rights, Subject};
use crate::store::StoreError;
use crate::time::Timestamp;

/// Most joins a `who-can` row lists in its `because` (see
/// [`Access::joins_omitted`]): a row per member of a group nested thousands
/// deep would otherwise make the answer quadratic in the depth.
pub const MAX_ROUTE_JOINS: usize = 32;

/// Why a query could not be answered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    /// `check` and `who-can` need one named right, not the wildcard.
    #[error("cannot ask about the wildcard right *: name one right (e.g. read)")]
    WildcardRight,
    /// `changes` needs `from < to`.
    #[error("empty period: {from} is not before {to}")]
    EmptyPeriod {
        /// Start (inclusive).
        from: Timestamp,
        /// End (exclusive).
        to: Timestamp,
    },
    /// An entry's signer is not an authority of the log (never for a verified log).
    #[error("entry {seq} is signed by a key that is not an authority of this ledger")]
    UnknownSigner {
        /// The entry.
        seq: u64,
    },
    /// The store failed, or an index record is damaged.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The route by which a subject holds a right. JSON: `"direct"`, or the name
/// of the group whose grant is used (`"group:federal-partners"`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Route {
    /// A grant to the subject itself.
    Direct,
    /// A grant to this group, of which the subject is a member (perhaps through nested groups).
    Group(Subject),
}

impl Serialize for Route {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Route::Direct => s.serialize_str("direct"),
            Route::Group(g) => s.serialize_str(g.as_str()),
        }
    }
}

/// The answer to `check`: may `subject` exercise `right` on `resource`?
///
/// JSON: `{"allowed", "subject", "resource", "right", "at", "known_at",
/// "because": [seq, ...], "route": "direct" | "group:..." | null, "banned_by": seq | null}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// Whether access is allowed.
    pub allowed: bool,
    /// Who asked about.
    pub subject: Subject,
    /// Which resource.
    pub resource: Resource,
    /// Which right.
    pub right: Right,
    /// Valid time `T`.
    pub at: Timestamp,
    /// Knowledge time `K`.
    pub known_at: Timestamp,
    /// The deciding events. Allowed: the grant, then the joins of the route from
    /// the subject outwards. Denied: the ban of the subject; or the revokes
    /// that defeated live grants and the bans on the subject's groups (sorted);
    /// empty when nothing ever granted it.
    pub because: Vec<u64>,
    /// The route used when allowed; `None` when denied.
    pub route: Option<Route>,
    /// The ban of the subject itself that denies it, if any.
    pub banned_by: Option<u64>,
}

/// One row of `who-can`: a subject that has the right, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Access {
    /// The subject (groups included).
    pub subject: Subject,
    /// The route `check` reports for it.
    pub route: Route,
    /// The grant and joins of that route, as in [`Decision::because`], with
    /// at most [`MAX_ROUTE_JOINS`] joins (the ones nearest the subject).
    pub because: Vec<u64>,
    /// How many joins of the route `because` leaves out (`check` lists them
    /// all). Omitted from JSON when zero.
    #[serde(skip_serializing_if = "is_zero")]
    pub joins_omitted: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One resource of `what-can` and the rights the subject holds on it.
///
/// A resource that is not listed is held exactly as its nearest listed
/// ancestor; nothing is held where no ancestor is listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Holding {
    /// The resource (one named by a grant or revoke of the subject or its groups).
    pub resource: Resource,
    /// The rights held on it, by name, then `*`; empty when nothing is held
    /// here although an ancestor holds something.
    pub rights: Vec<HeldRight>,
}

/// A right held on a resource, with the route and events that give it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeldRight {
    /// The right; `*` stands for every right that no grant or revoke of the
    /// subject's groups names, and also for the named ones not in `except`.
    pub right: Right,
    /// For `*` only: the named rights that are not held.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub except: Vec<Right>,
    /// The route, as `check` reports it.
    pub route: Route,
    /// The grant and joins of the route.
    pub because: Vec<u64>,
}

/// A set of rights that may be infinite: the algebra of exposure paths.
///
/// JSON: `{"only": ["read"]}` or `{"all_except": ["read"]}` (`{"all_except": []}` is every right).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RightSet {
    /// Exactly these rights (never `*`).
    Only(BTreeSet<Right>),
    /// Every right but these (never `*`).
    AllExcept(BTreeSet<Right>),
}

impl RightSet {
    /// Every right.
    pub fn all() -> Self {
        RightSet::AllExcept(BTreeSet::new())
    }

    /// The rights of a grant, share, revoke or unshare (`None` = every right).
    pub fn of(rights: Option<&Rights>) -> Self {
        match rights {
            None => Self::all(),
            Some(r) if r.is_all() => Self::all(),
            Some(r) => RightSet::Only(r.iter().cloned().collect()),
        }
    }

    /// Whether no right is in the set.
    pub fn is_empty(&self) -> bool {
        matches!(self, RightSet::Only(s) if s.is_empty())
    }

    /// The rights in both.
    pub fn intersect(&self, other: &RightSet) -> RightSet {
        use RightSet::*;
        match (self, other) {
            (Only(a), Only(b)) => Only(a.intersection(b).cloned().collect()),
            (Only(a), AllExcept(b)) | (AllExcept(b), Only(a)) => {
                Only(a.difference(b).cloned().collect())
            }
            (AllExcept(a), AllExcept(b)) => AllExcept(a.union(b).cloned().collect()),
        }
    }

    /// Whether every right of `self` is in `other`.
    pub fn is_subset(&self, other: &RightSet) -> bool {
        self.minus(other).is_empty()
    }

    /// The rights in `self` but not in `other`.
    pub fn minus(&self, other: &RightSet) -> RightSet {
        use RightSet::*;
        match (self, other) {
            (Only(a), Only(b)) => Only(a.difference(b).cloned().collect()),
            (Only(a), AllExcept(b)) => Only(a.intersection(b).cloned().collect()),
            (AllExcept(a), Only(b)) => AllExcept(a.union(b).cloned().collect()),
            (AllExcept(a), AllExcept(b)) => Only(b.difference(a).cloned().collect()),
        }
    }
}

/// What an exposure path is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PathKind {
    /// A grant to the subject itself.
    Direct,
    /// A grant to a group, then membership steps only.
    Group,
    /// At least one share step.
    Share,
}

/// What one step of an exposure path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// The grant the data comes from (always the first step).
    Grant,
    /// Data held by a group reaches a member (the join that makes it one).
    Join,
    /// Data passes from one subject to another under a sharing agreement.
    Share,
}

/// One step of an exposure path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExposureStep {
    /// The event (grant, join or share).
    pub seq: u64,
    /// Its kind.
    pub kind: StepKind,
    /// The subject the data reaches with this step: the grantee, the member,
    /// or the share's recipient.
    pub subject: Subject,
}

/// One way data of a resource reaches a subject: from a grant, down through
/// group memberships and along sharing agreements, as one canonical witness
/// of a reachable state (the last step and the rights it brings). See
/// docs/SEMANTICS.md, rule 11.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExposurePath {
    /// Direct, group or share.
    pub kind: PathKind,
    /// The steps, from the grant to the subject asked about.
    pub steps: Vec<ExposureStep>,
    /// The rights that survive the whole path (never empty).
    pub rights: RightSet,
    /// The bans that reach a subject of the path (its own, or its groups' at
    /// `T`) on the resource, an ancestor or a descendant, and some of these
    /// rights; a path with bans carries banned data to a banned subject (it
    /// is flagged).
    pub banned: Vec<u64>,
}

/// One change of effective access (see docs/SEMANTICS.md, `changes`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// When access changed.
    pub at: Timestamp,
    /// Whose.
    pub subject: Subject,
    /// On which resource (and the descendants that no other row names).
    pub resource: Resource,
    /// Which right; `*` for every right not named in the subject's grants and revokes.
    pub right: Right,
    /// Gained (`true`) or lost (`false`).
    pub gained: bool,
    /// The events taking effect (or, for grants, expiring) at that instant that
    /// concern the subject or its groups and this resource.
    pub events: Vec<u64>,
}

/// What a `history` is of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistoryOf {
    /// Every event naming this subject.
    Subject(Subject),
    /// Every event whose resource is this one, an ancestor or a descendant.
    Resource(Resource),
}

/// One event of a `history` timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryItem {
    /// The entry.
    pub seq: u64,
    /// When the ledger recorded it.
    pub recorded_at: Timestamp,
    /// When it takes effect.
    pub effective_at: Timestamp,
    /// The event kind (`grant`, `revoke`, ...).
    pub kind: &'static str,
    /// One line for people.
    pub summary: String,
    /// The authority that signed it.
    pub signer: AuthorityName,
}

/// A right asked about: a named right, or "a right no event names" (which only
/// wildcard grants give and wildcard revokes withdraw).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) enum Want {
    /// This right (never `*`).
    Named(Right),
    /// Any right that no grant or revoke of the subjects concerned names.
    Unnamed,
}

impl Want {
    /// Whether a grant or share of `rights` includes it.
    pub(super) fn granted_by(&self, rights: &Rights) -> bool {
        match self {
            Want::Named(x) => rights.contains(x),
            Want::Unnamed => rights.is_all(),
        }
    }

    /// Whether a revoke or unshare of `rights` (`None` = all) withdraws it.
    pub(super) fn withdrawn_by(&self, rights: Option<&Rights>) -> bool {
        match rights {
            None => true,
            Some(r) => self.granted_by(r),
        }
    }

    /// As a right; `*` for the unnamed right.
    pub(super) fn to_right(&self) -> Right {
        match self {
            Want::Named(x) => x.clone(),
            // `*` passes the right checker (ident.rs), so this cannot fail.
            Want::Unnamed => Right::new("*").expect("* is a valid right"),
        }
    }
}

/// The outcome of one decision, before it is dressed as a [`Decision`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Verdict {
    /// As [`Decision::route`].
    pub(super) route: Option<Route>,
    /// As [`Decision::because`].
    pub(super) because: Vec<u64>,
    /// As [`Decision::banned_by`].
    pub(super) banned_by: Option<u64>,
    /// Joins of the route left out of `because` already (an evaluator asked
    /// for at most [`MAX_ROUTE_JOINS`]).
    pub(super) omitted: u64,
}

impl Verdict {
    /// Whether access is allowed.
    pub(super) fn allowed(&self) -> bool {
        self.route.is_some()
    }

    /// As the answer to `check`.
    pub(super) fn into_decision(
        self,
        subject: &Subject,
        resource: &Resource,
        right: &Right,
        at: Timestamp,
        known_at: Timestamp,
    ) -> Decision {
        Decision {
            allowed: self.route.is_some(),
            subject: subject.clone(),
            resource: resource.clone(),
            right: right.clone(),
            at,
            known_at,
            because: self.because,
            route: self.route,
            banned_by: self.banned_by,
        }
    }

    /// As a row of `who-can` for `subject`, if it has access, with at most
    /// [`MAX_ROUTE_JOINS`] joins.
    pub(super) fn into_access(self, subject: Subject) -> Option<Access> {
        let mut because = self.because;
        let keep = 1 + MAX_ROUTE_JOINS;
        let joins_omitted = self.omitted + because.len().saturating_sub(keep) as u64;
        because.truncate(keep);
        Some(Access {
            subject,
            route: self.route?,
            because,
            joins_omitted,
        })
    }
}

/// The rights held on one resource (a row of `what-can`): each right of
/// `named` that `decide` allows, then `*` (with the named rights that are not
/// held as its `except`) if `decide` allows the unnamed right.
pub(super) fn held_rights<E>(
    named: &BTreeSet<Right>,
    mut decide: impl FnMut(&Want) -> Result<Verdict, E>,
) -> Result<Vec<HeldRight>, E> {
    let mut held = Vec::new();
    let mut except = Vec::new();
    for y in named {
        let v = decide(&Want::Named(y.clone()))?;
        match v.route {
            Some(route) => held.push(HeldRight {
                right: y.clone(),
                except: vec![],
                route,
                because: v.because,
            }),
            None => except.push(y.clone()),
        }
    }
    let v = decide(&Want::Unnamed)?;
    if let Some(route) = v.route {
        held.push(HeldRight {
            right: Want::Unnamed.to_right(),
            except,
            route,
            because: v.because,
        });
    }
    Ok(held)
}

/// The answer of `what-can` from the rows of every relevant resource: a
/// resource is kept where something is held, here or at a listed ancestor.
pub(super) fn holdings(rows: BTreeMap<Resource, Vec<HeldRight>>) -> Vec<Holding> {
    let holding: HashSet<String> = rows
        .iter()
        .filter(|(_, h)| !h.is_empty())
        .map(|(r, _)| r.as_str().to_owned())
        .collect();
    // `r` or one of its ancestors (each a prefix of r's name ending where a
    // segment does) holds something.
    let kept = |r: &Resource| {
        let name = r.as_str();
        name.match_indices('/')
            .map(|(i, _)| &name[..i])
            .chain(std::iter::once(name))
            .any(|a| holding.contains(a))
    };
    rows.into_iter()
        .filter(|(r, _)| kept(r))
        .map(|(resource, rights)| Holding { resource, rights })
        .collect()
}

/// One item of `history`: entry `e`, taking effect at `effective_at`, signed
/// by `signer`.
pub(super) fn history_item(
    e: &Entry,
    effective_at: Timestamp,
    signer: AuthorityName,
) -> HistoryItem {
    HistoryItem {
        seq: e.seq(),
        recorded_at: e.recorded_at(),
        effective_at,
        kind: e.body().kind(),
        summary: e.body().summary(),
        signer,
    }
}

/// Whether an event taking effect (or expiring) at the instant of a change of
/// `(subject, r)` is one of its [`Change::events`]: a grant or revoke covering
/// `r`, or a join or leave, that names a subject of `closure` (the subject and
/// its groups).
pub(super) fn lists_in_change(body: &Event, closure: &BTreeSet<Subject>, r: &Resource) -> bool {
    let relevant = match body {
        Event::Grant { resource, .. } | Event::Revoke { resource, .. } => resource.covers(r),
        Event::Join { .. } | Event::Leave { .. } => true,
        _ => false,
    };
    relevant && body.subjects().iter().any(|x| closure.contains(*x))
}

/// Orders [`Change`]s: by (at, subject, resource, right).
pub(super) fn sort_changes(changes: &mut [Change]) {
    changes.sort_by(|a, b| {
        (a.at, &a.subject, &a.resource, &a.right).cmp(&(b.at, &b.subject, &b.resource, &b.right))
    });
}

/// The wanted right of `check` and `who-can`, which need one named right.
pub(super) fn require_named(right: &Right) -> Result<Want, QueryError> {
    if right.is_wildcard() {
        Err(QueryError::WildcardRight)
    } else {
        Ok(Want::Named(right.clone()))
    }
}

/// The canonical exposure answer from candidate paths that each end at the
/// subject asked about: for each reachable state (the last step, the rights
/// carried) the shortest path, then the one with the smallest seqs; then,
/// for each last step, only the states whose rights no other state of that
/// step contains. Sorted by [`sort_paths`]; bans not yet filled in.
pub(super) fn canonical_paths(candidates: Vec<ExposurePath>) -> Vec<ExposurePath> {
    let mut best: BTreeMap<(u64, RightSet), ExposurePath> = BTreeMap::new();
    for p in candidates {
        let last = p.steps[p.steps.len() - 1].seq;
        let key = (last, p.rights.clone());
        let better = |old: &ExposurePath| {
            let seqs = |x: &ExposurePath| x.steps.iter().map(|s| s.seq).collect::<Vec<_>>();
            (p.steps.len(), seqs(&p)) < (old.steps.len(), seqs(old))
        };
        match best.get(&key) {
            Some(old) if !better(old) => {}
            _ => {
                best.insert(key, p);
            }
        }
    }
    let all: Vec<((u64, RightSet), ExposurePath)> = best.into_iter().collect();
    let mut out: Vec<ExposurePath> = all
        .iter()
        .filter(|((last, rights), _)| {
            !all.iter()
                .any(|((l2, r2), _)| l2 == last && r2 != rights && rights.is_subset(r2))
        })
        .map(|(_, p)| p.clone())
        .collect();
    sort_paths(&mut out);
    out
}

/// Orders [`ExposurePath`]s: by kind, then by the seqs of their steps.
pub(super) fn sort_paths(paths: &mut [ExposurePath]) {
    paths.sort_by(|a, b| {
        let ka: Vec<u64> = a.steps.iter().map(|s| s.seq).collect();
        let kb: Vec<u64> = b.steps.iter().map(|s| s.seq).collect();
        (a.kind, ka).cmp(&(b.kind, kb))
    });
}

/// What an exposure path is made of, from its steps (the grant first).
pub(super) fn path_kind(steps: &[ExposureStep]) -> PathKind {
    if steps.iter().any(|s| s.kind == StepKind::Share) {
        PathKind::Share
    } else if steps.len() > 1 {
        PathKind::Group
    } else {
        PathKind::Direct
    }
}
