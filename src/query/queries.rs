//! Indexed queries: the answers of the reference replay
//! ([`crate::Projection`]), read from the indexes kept in the store instead of
//! a replay of the log.
//!
//! [`Queries`] answers `check`, `who-can`, `what-can`, `exposure`, `history`
//! and `changes` from the indexes (layout in `index/keys.rs`), deciding with
//! the evaluator of `eval.rs`; docs/SEMANTICS.md defines the answers, and
//! `tests/query_differential.rs` holds them equal to the reference's on
//! random logs.
//!
//! Knowledge time: entries are recorded in non-decreasing `recorded_at` (a
//! rule of the chain, checked on every append and by `verify`), so the
//! entries known at `K` are exactly seqs `0..=k` where `k` is the last entry
//! recorded at or before `K`. Every query first finds `k` (one read of the
//! last entry when `K` is at or after it, the usual case; else a binary
//! search of the entries, about log2(n) reads) and then ignores index records
//! with a larger seq.
//!
//! Cost: `check` reads, for the subject and each group it belongs to at `T`
//! (directly or through nested groups), one `X m` scan (its memberships) and
//! one `X g` scan (its records under the resource's first segment); it never
//! reads an entry. So it costs two seeks per subject of the membership
//! closure, plus the records read. `who-can` instead reads one `X r` scan per
//! ancestor of the resource (every subject's covering records at once), one
//! `X M` scan per group that holds the right, and one `X m` scan per candidate.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::rc::Rc;

use super::answer::{
    history_item, holdings, lists_in_change, require_named, sort_changes, Access, Change, Decision,
    ExposurePath, HistoryItem, HistoryOf, Holding, QueryError, Want, MAX_ROUTE_JOINS,
};
use super::eval::Eval;
use super::index::{
    day_of, name_covers, split_first, subject_from, undecodable, IndexRecord, Key, RecordKind,
    BY_RESOURCE, EXPIRIES, HISTORY_OF_RESOURCE, HISTORY_OF_SUBJECT, MEMBERS, MEMBER_OF, SIGNERS,
    TIMELINE, TIME_CHUNK_ENTRIES,
};
use crate::entry::Entry;
use crate::event::Event;
use crate::ident::{AuthorityName, Resource, Right, Subject};
use crate::store::Store;
use crate::time::Timestamp;

/// Decisions made from one view of the log before its caches are dropped
/// ([`Renewing`]), in [`Queries::changes`], which decides many subjects at
/// one `(T, K)`. A view caches, per
/// decision, what every group above the subject gives on that resource and
/// right; one subject of a large group graph at 1,000,000 entries makes tens
/// of thousands of decisions, so a bound in subjects (64, before) let one
/// view grow past 8 GB. Enough decisions that members of one group share
/// their groups' work; few enough that a view stays within a few MB. At
/// 1,000,000 entries (a 0.1% period) 8,192 decisions held about 63 MB per
/// view, two views at a time, and `changes` peaked at 554 MB; with 512 it
/// peaks at 398 MB, in the same time and with the same answers
/// (docs/PERFORMANCE.md).
const DECISIONS_PER_VIEW: usize = if cfg!(test) { 7 } else { 512 };

/// A view of the log at one `(T, K)` whose caches are dropped after every
/// [`DECISIONS_PER_VIEW`] decisions, so that a long run of decisions stays
/// in bounded memory. The answers are those of one view: the caches only
/// memoise what the indexes say at `(T, K)`.
struct Renewing<'s> {
    store: &'s Store,
    at: Timestamp,
    kseq: Option<u64>,
    ev: Eval<'s>,
    decided: usize,
}

impl<'s> Renewing<'s> {
    fn new(store: &'s Store, at: Timestamp, kseq: Option<u64>) -> Self {
        Renewing {
            store,
            at,
            kseq,
            ev: Eval::new(store, at, kseq),
            decided: 0,
        }
    }

    /// The view for the next decision: a fresh one once the current one has
    /// made [`DECISIONS_PER_VIEW`].
    fn next(&mut self) -> &mut Eval<'s> {
        if self.decided == DECISIONS_PER_VIEW {
            self.ev = Eval::new(self.store, self.at, self.kseq);
            self.decided = 0;
        }
        self.decided += 1;
        &mut self.ev
    }
}

/// Subjects whose group closure and relevant resources [`Queries::changes`]
/// keeps from one instant to the next (then it starts again).
const RELEVANT_KEPT: usize = 1024;

/// Groups whose join scope (see `Queries::event_scopes`) [`Queries::changes`]
/// keeps from one join to the next (then it starts again).
const JOIN_SCOPES_KEPT: usize = 64;

/// Up to this many resources in an instant's scope, [`Queries::changes`]
/// finds a subject's candidate resources by scanning the scope's subtrees
/// only, not every record of the subject's groups.
const SCOPED_ROOTS: usize = 16;

/// What [`Queries::changes`] keeps of one subject: its groups (any time),
/// the rights it is asked about (rule 10), and, once needed, every
/// candidate resource.
struct Relevance {
    closure: BTreeSet<Subject>,
    wants: Vec<Want>,
    resources: RefCell<Option<Resources>>,
}

/// What [`Queries::changes`] keeps across instants, by subject: at most
/// `bound` values, then it starts again (answers are the same; only the
/// work to find them again is lost).
struct Memo<V> {
    bound: usize,
    map: HashMap<Subject, Rc<V>>,
}

impl<V> Memo<V> {
    fn new(bound: usize) -> Self {
        Memo {
            bound,
            map: HashMap::new(),
        }
    }

    /// The value kept for `key`, or `make()`'s, then kept.
    fn get_or_make<E>(
        &mut self,
        key: &Subject,
        make: impl FnOnce() -> Result<V, E>,
    ) -> Result<Rc<V>, E> {
        if let Some(v) = self.map.get(key) {
            return Ok(v.clone());
        }
        if self.map.len() >= self.bound {
            self.map.clear();
        }
        let v = Rc::new(make()?);
        self.map.insert(key.clone(), v.clone());
        Ok(v)
    }
}

/// Queries answered from the indexes of a store: the answers docs/SEMANTICS.md
/// defines, the same as [`crate::Projection`] gives by a replay of the log.
///
/// Every method takes the valid time `at` (T) and the knowledge time
/// `known_at` (K). A `known_at` before the first entry sees an empty log
/// (everything denied, nothing listed); [`Queries::known_seq`] tells the
/// caller when that is the case.
pub struct Queries<'s> {
    store: &'s Store,
}

impl<'s> Queries<'s> {
    /// Queries over `store`, whose indexes MUST have been written by
    /// `index_entry` for every stored entry.
    pub fn new(store: &'s Store) -> Self {
        Queries { store }
    }

    /// The last seq recorded at or before `known_at`; `None` if no entry was.
    pub fn known_seq(&self, known_at: Timestamp) -> Result<Option<u64>, QueryError> {
        let Some((last, bytes)) = self.store.last_entry()? else {
            return Ok(None);
        };
        let recorded_at = |seq: u64, bytes: &[u8]| {
            Entry::recorded_at_in(bytes).ok_or_else(|| {
                self.store
                    .damaged(format!("entry {seq} is too short to hold its recorded_at"))
            })
        };
        if recorded_at(last, &bytes)? <= known_at {
            return Ok(Some(last));
        }
        // The number of entries recorded at or before `known_at` lies in
        // `lo..=hi`: entry `last` was recorded after it.
        let (mut lo, mut hi) = (0, last);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let bytes = self.store.entry_bytes(mid)?.ok_or_else(|| {
                self.store
                    .damaged(format!("entry {mid} is missing below entry {last}"))
            })?;
            if recorded_at(mid, &bytes)? <= known_at {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        Ok(lo.checked_sub(1))
    }

    fn eval(&self, at: Timestamp, known_at: Timestamp) -> Result<Eval<'s>, QueryError> {
        Ok(Eval::new(self.store, at, self.known_seq(known_at)?))
    }

    /// `check`: may `subject` exercise `right` (not `*`) on `resource`?
    pub fn check(
        &self,
        subject: &Subject,
        resource: &Resource,
        right: &Right,
        at: Timestamp,
        known_at: Timestamp,
    ) -> Result<Decision, QueryError> {
        let want = require_named(right)?;
        let mut ev = self.eval(at, known_at)?;
        let v = ev.decide(subject, resource, &want, true, None)?;
        Ok(v.into_decision(subject, resource, right, at, known_at))
    }

    /// `who-can`: every subject (groups included) that may exercise `right` on
    /// `resource`, sorted by subject, each with the route `check` reports.
    pub fn who_can(
        &self,
        resource: &Resource,
        right: &Right,
        at: Timestamp,
        known_at: Timestamp,
    ) -> Result<Vec<Access>, QueryError> {
        let want = require_named(right)?;
        let mut ev = self.eval(at, known_at)?;
        // Candidates: every subject with a covering grant, and every member
        // (at T, recursively) of a group among them. Anyone with access is one.
        // The same scans give every subject's covering records, so the checks
        // below read no `X g` range.
        let mut records: BTreeMap<Subject, Vec<IndexRecord>> = BTreeMap::new();
        let mut candidates: BTreeSet<Subject> = BTreeSet::new();
        for a in resource.self_and_ancestors() {
            let prefix = Key::new(BY_RESOURCE).name(a.as_str()).0;
            for kv in self.store.scan_prefix(&prefix) {
                let (k, v) = kv?;
                let Some(p) = ev.counted(&k, Some(prefix.len()))? else {
                    continue;
                };
                let record = ev.record(&k, &v, &p)?;
                let subject = subject_from(p.name).ok_or_else(|| ev.damaged(&k))?;
                if record.kind == RecordKind::Grant
                    && record.rights.as_ref().is_some_and(|x| want.granted_by(x))
                {
                    candidates.insert(subject.clone());
                }
                records.entry(subject).or_default().push(record);
            }
        }
        ev.prime(resource, records);
        let mut stack: Vec<Subject> = candidates
            .iter()
            .filter(|s| s.is_group())
            .cloned()
            .collect();
        let mut expanded: HashSet<Subject> = stack.iter().cloned().collect();
        while let Some(g) = stack.pop() {
            for (m, _) in ev.members(&g)? {
                if m.is_group() && expanded.insert(m.clone()) {
                    stack.push(m.clone());
                }
                candidates.insert(m);
            }
        }
        let mut out = Vec::new();
        for s in candidates {
            let v = ev.decide(&s, resource, &want, false, Some(MAX_ROUTE_JOINS))?;
            out.extend(v.into_access(s));
        }
        Ok(out)
    }

    /// `what-can`: the rights `subject` holds, resource by resource.
    pub fn what_can(
        &self,
        subject: &Subject,
        at: Timestamp,
        known_at: Timestamp,
    ) -> Result<Vec<Holding>, QueryError> {
        let mut out = Vec::new();
        self.what_can_each([subject], at, known_at, |_, h| {
            out = h;
            Ok::<(), QueryError>(())
        })?;
        Ok(out)
    }

    /// [`Queries::what_can`] for many subjects at one `(at, known_at)`,
    /// handing each subject's holdings to `each` in the order given. The
    /// answers are those of one `what_can` call per subject. Each subject's
    /// records and its groups' are read once (one scan per subject, the
    /// groups' kept for the next subjects: a few MB for a thousand groups),
    /// and every (resource, right) is then decided over that graph in
    /// memory (`Eval::holdings_each`): 17.5 ms a subject at 1,000,000
    /// entries, where a memoised walk per decision took 614 ms.
    pub fn what_can_each<'a, E: From<QueryError>>(
        &self,
        subjects: impl IntoIterator<Item = &'a Subject>,
        at: Timestamp,
        known_at: Timestamp,
        mut each: impl FnMut(&'a Subject, Vec<Holding>) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut ev = self.eval(at, known_at)?;
        for subject in subjects {
            let closure = ev
                .static_closure(subject, MEMBER_OF)
                .map_err(QueryError::from)?;
            // Every record of the subject and its groups, read once; the
            // decisions are made from them in memory.
            let (resources, named) = ev.relevant_kept(&closure).map_err(QueryError::from)?;
            let rows = ev
                .holdings_each(subject, &resources, &named)
                .map_err(QueryError::from)?;
            each(subject, holdings(rows))?;
        }
        Ok(())
    }

    /// `exposure`: every path by which data of `resource` reaches `subject`.
    pub fn exposure(
        &self,
        subject: &Subject,
        resource: &Resource,
        at: Timestamp,
        known_at: Timestamp,
    ) -> Result<Vec<ExposurePath>, QueryError> {
        let mut ev = self.eval(at, known_at)?;
        Ok(ev.exposure(subject, resource)?)
    }

    /// `history`: the events about a subject or resource that count at `at`
    /// and `known_at`, ordered by `(effective_at, seq)`, with their signers.
    pub fn history(
        &self,
        of: &HistoryOf,
        at: Timestamp,
        known_at: Timestamp,
    ) -> Result<Vec<HistoryItem>, QueryError> {
        let ev = self.eval(at, known_at)?;
        let mut found: Vec<(Timestamp, u64)> = Vec::new();
        // Every space whose keys start with the name asked about; a key's
        // first name, then its tail, is all that is read.
        let mut collect = |spaces: &[u8],
                           prefix: &dyn Fn(Key) -> Key,
                           filter: &dyn Fn(&[u8]) -> bool|
         -> Result<(), QueryError> {
            for &space in spaces {
                for kv in self.store.scan_prefix(&prefix(Key::new(space)).0) {
                    let (k, _) = kv?;
                    let p = split_first(&k).ok_or_else(|| ev.damaged(&k))?;
                    if filter(p.name) && ev.visible(p.seq) && p.time <= at {
                        found.push((p.time, p.seq));
                    }
                }
            }
            Ok(())
        };
        match of {
            HistoryOf::Subject(s) => {
                collect(&HISTORY_OF_SUBJECT, &|k| k.name(s.as_str()), &|_| true)?
            }
            HistoryOf::Resource(r) => {
                for a in r.self_and_ancestors().skip(1) {
                    collect(&HISTORY_OF_RESOURCE, &|k| k.name(a.as_str()), &|_| true)?;
                }
                // The resource and its descendants: every name that starts with it.
                let me = r.as_str().as_bytes();
                collect(
                    &HISTORY_OF_RESOURCE,
                    &|k| k.name_start(r.as_str()),
                    &|name| name_covers(me, name),
                )?;
            }
        }
        // A share from a subject to itself is under two of its spaces.
        found.sort();
        found.dedup();
        let mut items = Vec::with_capacity(found.len());
        for (eff, seq) in found {
            let e = self.entry(seq)?;
            let k = Key::new(SIGNERS).bytes(e.signer().as_bytes()).0;
            let name = self
                .store
                .get(&k)?
                .ok_or(QueryError::UnknownSigner { seq })?;
            let signer = std::str::from_utf8(&name)
                .ok()
                .and_then(|n| AuthorityName::new(n).ok())
                .ok_or_else(|| ev.damaged(&k))?;
            items.push(history_item(&e, eff, signer));
        }
        Ok(items)
    }

    fn entry(&self, seq: u64) -> Result<Entry, QueryError> {
        let bytes = self.store.entry_bytes(seq)?.ok_or_else(|| {
            self.store
                .damaged(format!("index names entry {seq}, which is not stored"))
        })?;
        Ok(Entry::decode(&bytes).map_err(|e| self.store.damaged(format!("entry {seq}: {e}")))?)
    }

    /// The instants in `[from, to)` at which an entry visible to `probe`
    /// takes effect (an access event's `effective_at`) or runs out (a grant's
    /// `until`), each with those entries' seqs.
    ///
    /// The `t` and `u` keys of a day list the offsets, in their chunk of
    /// [`TIME_CHUNK_ENTRIES`] entries, of the events on that day
    /// (index/keys.rs): the entries the period's days list are read, and
    /// those whose time is in the period kept. A day's key is never after
    /// its events (`day_of`), so the days from `day_of(from)` to before `to`
    /// list them all.
    fn instants(
        &self,
        probe: &Eval<'_>,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<BTreeMap<Timestamp, BTreeSet<u64>>, QueryError> {
        let mut seqs = BTreeSet::new();
        for space in [TIMELINE, EXPIRIES] {
            let lo = Key::new(space).time(day_of(from)).0;
            let hi = Key::new(space).time(to).0;
            for kv in self.store.range(&lo, &hi) {
                let (k, v) = kv?;
                let chunk = probe.split(&k, None)?.seq;
                let first = chunk
                    .checked_mul(TIME_CHUNK_ENTRIES)
                    .filter(|_| v.len() % 2 == 0)
                    .ok_or_else(|| undecodable(self.store, &k))?;
                for offset in v.chunks_exact(2) {
                    let seq = first + u64::from(u16::from_be_bytes([offset[0], offset[1]]));
                    if probe.visible(seq) {
                        seqs.insert(seq);
                    }
                }
            }
        }
        let within = |t: Timestamp| from <= t && t < to;
        let mut instants: BTreeMap<Timestamp, BTreeSet<u64>> = BTreeMap::new();
        for seq in seqs {
            let e = self.entry(seq)?;
            let body = e.body();
            if let Some(eff) = body.effective_at().filter(|t| within(*t)) {
                instants.entry(eff).or_default().insert(seq);
            }
            if let Event::Grant { until: Some(u), .. } = body {
                if within(*u) {
                    instants.entry(*u).or_default().insert(seq);
                }
            }
        }
        Ok(instants)
    }

    /// `changes`: every change of effective access at an instant in `[from, to)`,
    /// as known at `known_at`, ordered by (at, subject, resource, right).
    pub fn changes(
        &self,
        from: Timestamp,
        to: Timestamp,
        known_at: Timestamp,
    ) -> Result<Vec<Change>, QueryError> {
        self.changes_with_progress(from, to, known_at, |_, _| {})
    }

    /// [`Queries::changes`], calling `progress(done, total)` as the instants
    /// at which something happened in the period are worked through.
    pub fn changes_with_progress(
        &self,
        from: Timestamp,
        to: Timestamp,
        known_at: Timestamp,
        mut progress: impl FnMut(u64, u64),
    ) -> Result<Vec<Change>, QueryError> {
        if from >= to {
            return Err(QueryError::EmptyPeriod { from, to });
        }
        let kseq = self.known_seq(known_at)?;
        let probe = Eval::new(self.store, Timestamp::MAX, kseq);
        let instants = self.instants(&probe, from, to)?;
        let mut relevant: Memo<Relevance> = Memo::new(RELEVANT_KEPT);
        // The named rights of each subject's own records, for the run: a
        // few rights each.
        let mut named_of: Memo<BTreeSet<Right>> = Memo::new(usize::MAX);
        // What the records of each joined group and the groups above it
        // cover: thousands of resources for a group at 1M entries, so at
        // most `JOIN_SCOPES_KEPT` are kept.
        let mut join_scopes: Memo<BTreeSet<Resource>> = Memo::new(JOIN_SCOPES_KEPT);
        let mut out = Vec::new();
        let total = instants.len() as u64;
        for (done, (t, seqs)) in instants.into_iter().enumerate() {
            if done % 64 == 0 {
                progress(done as u64, total);
            }
            let mut events = Vec::new();
            for seq in seqs {
                events.push(self.entry(seq)?);
            }
            // Who can be affected at this instant, and on what.
            let mut affected: BTreeMap<Subject, Scope> = BTreeMap::new();
            for e in &events {
                for (root, scope) in self.event_scopes(&probe, e, &mut join_scopes)? {
                    for s in probe.static_closure(&root, MEMBERS)? {
                        affected.entry(s).or_default().add(&scope);
                    }
                }
            }
            let just_before = Timestamp::from_micros(t.as_micros().saturating_sub(1));
            // A change to a large group affects thousands of members, each
            // with thousands of decisions: the views are renewed, and the
            // per-subject cache emptied, so that memory stays bounded
            // (answers are the same).
            let mut before = Renewing::new(self.store, just_before, kseq);
            let mut after = Renewing::new(self.store, t, kseq);
            for (s, scope) in &affected {
                let rel = relevant.get_or_make(s, || -> Result<_, QueryError> {
                    let closure = probe.static_closure(s, MEMBER_OF)?;
                    let mut named = BTreeSet::new();
                    for x in &closure {
                        named.extend(
                            named_of
                                .get_or_make(x, || probe.named_rights(x))?
                                .iter()
                                .cloned(),
                        );
                    }
                    let mut wants: Vec<Want> = named.into_iter().map(Want::Named).collect();
                    wants.push(Want::Unnamed);
                    Ok(Relevance {
                        closure,
                        wants,
                        resources: RefCell::new(None),
                    })
                })?;
                let (closure, wants) = (&rel.closure, &rel.wants);
                // The candidate resources in scope: from a scan of the
                // scope's subtrees when it is a few resources, else from
                // every candidate of the subject (kept with it).
                let resources: Resources = match scope.roots(SCOPED_ROOTS) {
                    Some(roots) => Rc::new(probe.relevant_under(closure, &roots)?),
                    None => {
                        let cached = rel.resources.borrow().clone();
                        match cached {
                            Some(all) => all,
                            None => {
                                let all = Rc::new(probe.relevant(closure)?.0);
                                *rel.resources.borrow_mut() = Some(all.clone());
                                all
                            }
                        }
                    }
                };
                for r in resources.iter().filter(|r| scope.covers(r)) {
                    for y in wants {
                        let a = before.next().decide(s, r, y, false, None)?.allowed();
                        let b = after.next().decide(s, r, y, false, None)?.allowed();
                        if a == b {
                            continue;
                        }
                        let seqs = events
                            .iter()
                            .filter(|e| lists_in_change(e.body(), closure, r))
                            .map(|e| e.seq())
                            .collect();
                        out.push(Change {
                            at: t,
                            subject: s.clone(),
                            resource: r.clone(),
                            right: y.to_right(),
                            gained: b,
                            events: seqs,
                        });
                    }
                }
            }
        }
        progress(total, total);
        sort_changes(&mut out);
        Ok(out)
    }
}

/// A set of resources shared by every subject an event can affect.
type Resources = Rc<BTreeSet<Resource>>;

/// The resources on which an instant's events can change a subject's
/// decisions: every resource, or those covered by a resource of one of the
/// sets (each set a resource's self-or-ancestors lookup).
#[derive(Debug, Default)]
enum Scope {
    /// Nothing yet.
    #[default]
    Nothing,
    /// Resources covered by one of these.
    Covered(Vec<Resources>),
    /// Every resource.
    Every,
}

impl Scope {
    fn add(&mut self, other: &Option<Resources>) {
        match (&mut *self, other) {
            (Scope::Every, _) => {}
            (_, None) => *self = Scope::Every,
            (Scope::Nothing, Some(set)) => *self = Scope::Covered(vec![set.clone()]),
            (Scope::Covered(sets), Some(set)) => {
                if !sets.iter().any(|s| Rc::ptr_eq(s, set)) {
                    sets.push(set.clone());
                }
            }
        }
    }

    /// The resources of the sets, if there are at most `max` (and at least
    /// one set): what a subtree scan can start from.
    fn roots(&self, max: usize) -> Option<BTreeSet<Resource>> {
        let Scope::Covered(sets) = self else {
            return None;
        };
        let mut roots = BTreeSet::new();
        for set in sets {
            roots.extend(set.iter().cloned());
            if roots.len() > max {
                return None;
            }
        }
        Some(roots)
    }

    /// Whether a decision on `r` may change: `r` or an ancestor is in a set.
    fn covers(&self, r: &Resource) -> bool {
        match self {
            Scope::Nothing => false,
            Scope::Every => true,
            Scope::Covered(sets) => r
                .self_and_ancestors()
                .any(|a| sets.iter().any(|s| s.contains(&a))),
        }
    }
}

impl<'s> Queries<'s> {
    /// Whose decisions one event taking effect (or a grant expiring) can
    /// change, and on what: `(root, scope)` pairs, meaning the root and every
    /// subject below it (its members, recursively, any time), on the
    /// resources the scope covers (`None`: every resource). A decision on `r`
    /// for `s` reads only the grant, revoke and ban records of `s` and the
    /// groups above it, on `r` and its ancestors (docs/SEMANTICS.md, rules
    /// 4 to 7), so:
    /// - a grant, revoke or ban of `x` on `R` changes only `x` and its
    ///   members, on what `R` covers;
    /// - a join or leave of `m` to `g` changes only `m` and its members (a
    ///   group's other members keep their groups), on what the records of
    ///   `g` and the groups above it (any time) cover;
    /// - a share or unshare changes no decision (sharing is an analysis:
    ///   rule 11).
    fn event_scopes(
        &self,
        probe: &Eval<'s>,
        e: &Entry,
        join_scopes: &mut Memo<BTreeSet<Resource>>,
    ) -> Result<Vec<(Subject, Option<Resources>)>, QueryError> {
        Ok(match e.body() {
            Event::Grant {
                subject, resource, ..
            }
            | Event::Revoke {
                subject, resource, ..
            } => vec![(
                subject.clone(),
                Some(Rc::new(BTreeSet::from([resource.clone()]))),
            )],
            Event::Join { member, group, .. } | Event::Leave { member, group, .. } => {
                let scope = join_scopes.get_or_make(group, || {
                    Ok::<_, QueryError>(probe.relevant(&probe.static_closure(group, MEMBER_OF)?)?.0)
                })?;
                vec![(member.clone(), Some(scope))]
            }
            Event::Share { .. } | Event::Unshare { .. } => vec![],
            other => other
                .subjects()
                .into_iter()
                .map(|x| (x.clone(), None))
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::index::GRANTS;
    use crate::query::test_log::{join, ledger, ledger_recorded, r, right, s, scenario, t};
    use crate::query::Projection;
    use crate::store::StoreError;

    #[test]
    fn the_indexes_answer_as_the_reference_does() -> Result<(), QueryError> {
        let log = ledger(scenario());
        let q = Queries::new(log.ledger.store());
        let p = Projection::new(&log.entries);
        let subjects = ["agency:a", "agency:b", "agency:c", "agency:d", "group:g"];
        let resources = ["db", "db/t", "db/t/c", "other"];
        for (at, k) in [(t(10), t(10)), (t(1), t(10)), (t(10), t(2)), (t(-5), t(-5))] {
            for x in subjects.map(s) {
                for y in resources.map(r) {
                    for z in ["read", "write"].map(right) {
                        assert_eq!(q.check(&x, &y, &z, at, k)?, p.check(&x, &y, &z, at, k)?);
                    }
                    assert_eq!(q.exposure(&x, &y, at, k)?, p.exposure(&x, &y, at, k)?);
                }
                assert_eq!(q.what_can(&x, at, k)?, p.what_can(&x, at, k)?);
                let of = HistoryOf::Subject(x);
                assert_eq!(q.history(&of, at, k)?, p.history(&of, at, k)?);
            }
            for y in resources.map(r) {
                let z = right("read");
                assert_eq!(q.who_can(&y, &z, at, k)?, p.who_can(&y, &z, at, k)?);
                let of = HistoryOf::Resource(y);
                assert_eq!(q.history(&of, at, k)?, p.history(&of, at, k)?);
            }
            assert_eq!(q.changes(t(-5), t(5), k)?, p.changes(t(-5), t(5), k)?);
        }
        Ok(())
    }

    /// A change to a group whose members need many more decisions than one
    /// view makes ([`DECISIONS_PER_VIEW`], 7 in tests: views are renewed
    /// between members and within one member's decisions) is reported for
    /// every member, as the reference replay reports it.
    #[test]
    fn a_large_group_changes_for_every_member_across_renewed_views() -> Result<(), QueryError> {
        use crate::query::test_log::{grant, join, revoke};
        let n = 135;
        let mut events = vec![
            join("group:big", "group:top", -400),
            grant("group:top", "db", "read,write", -300, None),
        ];
        for i in 0..n {
            events.push(join(&format!("user:u{i:03}"), "group:big", -500));
            if i % 3 == 0 {
                events.push(grant(&format!("user:u{i:03}"), "db/t", "read", -200, None));
            }
        }
        events.push(revoke("group:top", "db", Some("write"), 2, false));
        let log = ledger(events);
        let q = Queries::new(log.ledger.store());
        let p = Projection::new(&log.entries);
        let k = t(100_000);
        let found = q.changes(t(-5), t(5), k)?;
        assert_eq!(found, p.changes(t(-5), t(5), k)?);
        // Every member and both groups lost write on db at hour 2 (and the
        // members with a grant below it, there too).
        let on_db = found.iter().filter(|c| c.resource == r("db")).count();
        assert_eq!(on_db, n + 2);
        assert_eq!(found.len(), n + 2 + n.div_ceil(3));
        let members: Vec<Subject> = (0..n).map(|i| s(&format!("user:u{i:03}"))).collect();
        let mut each = Vec::new();
        q.what_can_each(&members, t(3), k, |x, h| {
            each.push((x.clone(), h));
            Ok::<(), QueryError>(())
        })?;
        for (x, h) in each {
            assert_eq!(h, p.what_can(&x, t(3), k)?, "{x}");
        }
        Ok(())
    }

    /// `changes` finds its events through the days and chunks of
    /// [`TIME_CHUNK_ENTRIES`] entries (256 in unit tests) that the `t` and
    /// `u` spaces list: events over three chunks and a month of days, some backdated weeks behind
    /// their chunk's, some running out (`until`) days after they start, are
    /// found as the reference replay finds them, for periods inside a day,
    /// across days and chunks, and at a knowledge time inside a chunk.
    #[test]
    fn changes_are_found_in_every_day_and_chunk() -> Result<(), QueryError> {
        use crate::query::test_log::{grant, revoke};
        let mut events = Vec::new();
        for i in 0..700i64 {
            let who = format!("agency:a{}", i % 13);
            let hour = if i % 97 == 0 { i - 24 * 30 } else { i };
            if matches!((i + 1) % TIME_CHUNK_ENTRIES as i64, 0 | 255) {
                // The first and last entries of a chunk: a change each.
                events.push(grant(&format!("agency:edge{i}"), "db", "read", hour, None));
            } else if i % 4 == 0 {
                events.push(revoke(&who, "db", None, hour, false));
            } else {
                let until = (i % 5 == 0).then_some(hour + 24 * 3);
                events.push(grant(&who, "db/t", "read", hour, until));
            }
        }
        // Entry i + 1 is recorded at hour i.
        let log = ledger(events);
        let q = Queries::new(log.ledger.store());
        let p = Projection::new(&log.entries);
        let periods = [
            (t(-24 * 40), t(24 * 40)),
            (t(101), t(103)),
            (t(250), t(270)),
            (t(-24 * 30), t(-24 * 25)),
            (t(600), t(24 * 40)),
        ];
        let mut found = 0;
        for (from, to) in periods {
            for k in [t(100_000), t(300), t(520)] {
                let want = p.changes(from, to, k)?;
                assert_eq!(q.changes(from, to, k)?, want, "{from} {to} {k}");
                found += want.len();
            }
        }
        assert!(found > 800, "{found}");
        Ok(())
    }

    #[test]
    fn known_seq_is_the_last_entry_recorded_by_then() {
        let log = ledger(scenario());
        let q = Queries::new(log.ledger.store());
        assert_eq!(q.known_seq(t(-2000)).unwrap(), None);
        assert_eq!(q.known_seq(t(-1000)).unwrap(), Some(0));
        assert_eq!(q.known_seq(t(0)).unwrap(), Some(1));
        assert_eq!(q.known_seq(t(100)).unwrap(), Some(7));
        let d = q
            .check(&s("agency:b"), &r("db/t"), &right("read"), t(10), t(-2000))
            .unwrap();
        assert_eq!((d.allowed, d.because), (false, vec![]));
    }

    #[test]
    fn known_seq_agrees_with_a_scan_of_the_entries() {
        // Runs of entries recorded at the same instant, gaps between runs:
        // every instant at, between and around them, against the rule as
        // written (the last entry whose recorded_at is at or before K).
        let hours = [0, 0, 0, 1, 5, 5, 6, 9, 9, 9, 9, 12];
        let events = (0..)
            .zip(hours)
            .map(|(i, h)| (h, join(&format!("user:u{i}"), "group:g", 0)))
            .collect();
        let log = ledger_recorded(events);
        let ledger = &log.ledger;
        let recorded: Vec<Timestamp> = (0..ledger.state().len())
            .map(|seq| ledger.entry(seq).unwrap().unwrap().recorded_at())
            .collect();
        let q = Queries::new(ledger.store());
        for h in -1002..=14 {
            for us in [-1, 0, 1] {
                let k = Timestamp::from_micros(t(h).as_micros() + us);
                let want = recorded.iter().rposition(|r| *r <= k).map(|i| i as u64);
                assert_eq!(q.known_seq(k).unwrap(), want, "{k}");
            }
        }
    }

    #[test]
    fn a_malformed_index_key_is_reported_as_damage() {
        let log = ledger(scenario());
        let store = log.ledger.store();
        // A record of agency:b on db whose key has lost its tail.
        let mut p = store.pending();
        p.put(Key::new(GRANTS).name("agency:b").name("db").0, vec![]);
        store.commit(p).unwrap();
        let q = Queries::new(store);
        let e = q.check(&s("agency:b"), &r("db/t"), &right("read"), t(10), t(10));
        assert!(
            matches!(e, Err(QueryError::Store(StoreError::Damaged { .. }))),
            "{e:?}"
        );
    }
}
