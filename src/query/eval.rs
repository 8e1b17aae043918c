//! The indexed evaluator: one query's view of the indexes at `(T, K)`, and the
//! decision procedure of docs/SEMANTICS.md run over it.
//!
//! [`Eval`] reads the indexes through [`Store`] (prefix scans only, never an
//! entry) and caches what it read for the rest of one query. It answers the
//! same as the reference replay ([`super::reference`]); the public queries
//! built on it are in `queries.rs`.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::rc::Rc;

use super::answer::{
    canonical_paths, held_rights, path_kind, ExposurePath, ExposureStep, HeldRight, RightSet,
    Route, StepKind, Verdict, Want,
};
use super::index::{
    decode_membership, decode_record, name_covers, resource_from, split, subject_from, undecodable,
    IndexRecord, Key, Parts, RecordKind, GRANTS, MEMBERS, MEMBER_OF, SHARES_TO,
};
use crate::ident::{Resource, Right, Subject};
use crate::store::{Store, StoreError};
use crate::time::Timestamp;

/// A subject on a depth-first walk up the groups: its groups at `T` (with
/// the joins) and how many of them have been visited.
type Frame = (Subject, Rc<[(Subject, u64)]>, usize);

/// Live shares into a subject: `(from, seq, rights left)`.
type Shares = Rc<[(Subject, u64, RightSet)]>;

/// Every visible access record of one subject (any resource, any effective
/// time), as `(resource, record)` in key order: see [`Eval::all_records`].
pub(super) type AllRecords = Rc<[(Resource, IndexRecord)]>;

/// Whether a grant or share with this `until` is live at `at` (rule 3: `until` is exclusive).
fn live(until: Option<Timestamp>, at: Timestamp) -> bool {
    match until {
        None => true,
        Some(u) => at < u,
    }
}

/// The live `give` records (grants or shares) among `records` (ordered by
/// `(effective_at, seq)`), each with the rights that no later `take` record
/// (non-permanent revoke or unshare) withdrew, as `(seq, rights)`; never empty.
fn rights_left(
    records: &[IndexRecord],
    give: RecordKind,
    take: RecordKind,
    at: Timestamp,
) -> Vec<(u64, RightSet)> {
    let mut out = Vec::new();
    for (i, g) in records.iter().enumerate() {
        if g.kind != give || !live(g.until, at) {
            continue;
        }
        let mut rs = RightSet::of(g.rights.as_ref());
        for v in &records[i + 1..] {
            if v.kind == take {
                rs = rs.minus(&RightSet::of(v.rights.as_ref()));
            }
        }
        if !rs.is_empty() {
            out.push((g.seq, rs));
        }
    }
    out
}

/// The rights a record names, the wildcard left out (rule 10: the rights
/// `what-can` and `changes` ask about one by one).
fn named_in(record: &IndexRecord) -> impl Iterator<Item = Right> + '_ {
    record
        .rights
        .iter()
        .flat_map(|r| r.iter())
        .filter(|x| !x.is_wildcard())
        .cloned()
}

/// What the access records of one subject say about one (resource, right) at `T`.
#[derive(Debug, Clone, Copy, Default)]
struct NodeState {
    /// The first ban of the subject itself, as `(effective_at, seq)`.
    first_ban: Option<(Timestamp, u64)>,
    last_revoke: Option<u64>,
    direct_grant: Option<u64>,
    live_grant: bool,
}

/// Rules 4 and 6 over the records of one subject, ordered by `(effective_at, seq)`.
fn node_state<'a>(
    records: impl IntoIterator<Item = &'a IndexRecord>,
    want: &Want,
    at: Timestamp,
) -> NodeState {
    let mut st = NodeState::default();
    // The candidate grant is reset by every revoke, so what is left is the
    // latest grant after the last revoke.
    for r in records {
        match r.kind {
            RecordKind::Ban if st.first_ban.is_none() && want.withdrawn_by(r.rights.as_ref()) => {
                st.first_ban = Some((r.eff, r.seq));
            }
            RecordKind::Revoke if want.withdrawn_by(r.rights.as_ref()) => {
                st.last_revoke = Some(r.seq);
                st.direct_grant = None;
            }
            RecordKind::Grant
                if r.rights.as_ref().is_some_and(|x| want.granted_by(x)) && live(r.until, at) =>
            {
                st.live_grant = true;
                st.direct_grant = Some(r.seq);
            }
            _ => {}
        }
    }
    st
}

/// What a subject's groups at `T` give it for one (resource, right), memoised
/// so that the members of a deep or wide group graph share the work.
#[derive(Debug, Clone, Default)]
struct Up {
    /// The first ban, as `(effective_at, seq)`, of the subject or of any
    /// group it is a member of (rule 6).
    ban: Option<(Timestamp, u64)>,
    /// The route a member of this subject would use through it (rule 7.3):
    /// the group with the smallest name among the subject itself (if it has
    /// direct access) and the groups it is a member of that do, its deciding
    /// grant, and the length of the canonical path to it.
    best: Option<(Subject, u64, u32)>,
    /// The first step of that path: the group and the join (none when the
    /// subject is the group itself).
    next: Option<(Subject, u64)>,
}

impl Up {
    /// Rules 6 and 7.3 at subject `n`: its own state for the (resource,
    /// right), combined with the [`Up`] of each group it is a member of at
    /// `T`, given as `(group, join, up)` in name order.
    fn of<'a>(
        n: &Subject,
        st: &NodeState,
        groups: impl IntoIterator<Item = (&'a Subject, u64, &'a Up)>,
    ) -> Up {
        let mut u = Up {
            ban: st.first_ban,
            best: st.direct_grant.map(|g| (n.clone(), g, 0)),
            next: None,
        };
        for (g, j, gu) in groups {
            if let Some(b) = gu.ban {
                u.ban = Some(u.ban.map_or(b, |a| a.min(b)));
            }
            if let Some((name, grant, dist)) = &gu.best {
                let better = match &u.best {
                    None => true,
                    Some((bn, _, bd)) => (name, dist + 1) < (bn, *bd),
                };
                if better {
                    u.best = Some((name.clone(), *grant, dist + 1));
                    u.next = Some((g.clone(), j));
                }
            }
        }
        u
    }
}

/// The verdict of rules 4 to 7 for a subject with state `st` and [`Up`] `u`,
/// whose groups at `T` are `groups` (`(group, join, up)`, in name order);
/// `next_of` gives a group's [`Up::next`]. `None` when the subject is denied
/// without a ban (rule 8's explanation is the caller's). `because` holds at
/// most `cap` joins of the route; the rest are counted in `omitted`.
fn verdict_of<'a, E>(
    st: &NodeState,
    u: &Up,
    groups: impl IntoIterator<Item = (&'a Subject, u64, &'a Up)>,
    mut next_of: impl FnMut(&Subject) -> Result<Option<(Subject, u64)>, E>,
    cap: usize,
) -> Result<Option<Verdict>, E> {
    if let Some((_, b)) = u.ban {
        return Ok(Some(Verdict {
            route: None,
            because: vec![b],
            banned_by: Some(b),
            omitted: 0,
        }));
    }
    if let Some(g) = st.direct_grant {
        return Ok(Some(Verdict {
            route: Some(Route::Direct),
            because: vec![g],
            banned_by: None,
            omitted: 0,
        }));
    }
    // Rule 7.3 through the groups only: the best of s's groups' routes
    // (s's own direct access was handled above). Nobody in the closure is
    // banned (else s would be), so every path is open.
    let mut best: Option<(&Subject, u64, u32, &Subject, u64)> = None;
    for (g, j, gu) in groups {
        if let Some((name, grant, dist)) = &gu.best {
            if best
                .as_ref()
                .is_none_or(|(bn, _, bd, _, _)| (name, *dist) < (*bn, *bd))
            {
                best = Some((name, *grant, *dist, g, j));
            }
        }
    }
    let Some((name, grant, dist, first, join)) = best else {
        return Ok(None);
    };
    let mut because = vec![grant, join];
    let mut cur = first.clone();
    while because.len() <= cap {
        let Some((g, j)) = next_of(&cur)? else {
            break;
        };
        because.push(j);
        cur = g;
    }
    let omitted = (u64::from(dist) + 2).saturating_sub(because.len() as u64);
    Ok(Some(Verdict {
        route: Some(Route::Group(name.clone())),
        because,
        banned_by: None,
        omitted,
    }))
}

/// One query's view of the indexes at `(T, K)`, with caches.
///
/// `kseq` is the last seq known at `K` (see `Queries::known_seq`): index
/// records of later entries are ignored. The caches hold for one `(T, K)`
/// only; a new view MUST be made for another.
pub(super) struct Eval<'s> {
    store: &'s Store,
    at: Timestamp,
    kseq: Option<u64>,
    records: HashMap<Resource, HashMap<Subject, Rc<[IndexRecord]>>>,
    ups: HashMap<Subject, Rc<[(Subject, u64)]>>,
    shares: HashMap<(Subject, Resource), Shares>,
    /// Rule 6 and rule 7 per subject, for one (resource, right): see [`Up`].
    up: HashMap<(Resource, Want), HashMap<Subject, Up>>,
    /// The bans reaching each subject, for the one resource of an exposure.
    bans: HashMap<Subject, Rc<[(RightSet, u64)]>>,
    /// When set, `records` holds every subject with a record covering this
    /// resource: any other subject has none, without a scan.
    complete: Option<Resource>,
    /// Subjects whose records were all read at once ([`Eval::all_records`]):
    /// [`Eval::records`] picks theirs from memory instead of a scan.
    all: HashMap<Subject, AllRecords>,
}

impl<'s> Eval<'s> {
    /// A view at valid time `at` of the entries up to `kseq`.
    pub(super) fn new(store: &'s Store, at: Timestamp, kseq: Option<u64>) -> Self {
        Eval {
            store,
            at,
            kseq,
            records: HashMap::new(),
            ups: HashMap::new(),
            shares: HashMap::new(),
            up: HashMap::new(),
            bans: HashMap::new(),
            complete: None,
            all: HashMap::new(),
        }
    }

    /// Every visible record of `x` (any resource, any effective time), read
    /// by one scan and kept for the rest of the view: afterwards
    /// [`Eval::records`] of `x` reads nothing. For queries that decide many
    /// resources for the same subjects (`what-can`), where a scan per
    /// resource and group is most of the cost.
    pub(super) fn all_records(&mut self, x: &Subject) -> Result<AllRecords, StoreError> {
        if let Some(v) = self.all.get(x) {
            return Ok(v.clone());
        }
        let prefix = Key::new(GRANTS).name(x.as_str()).0;
        let mut out: Vec<(Resource, IndexRecord)> = Vec::new();
        for kv in self.store.scan_prefix(&prefix) {
            let (k, v) = kv?;
            let p = self.split(&k, Some(prefix.len()))?;
            if !self.visible(p.seq) {
                continue;
            }
            let resource = match out.last() {
                Some((r, _)) if r.as_str().as_bytes() == p.name => r.clone(),
                _ => resource_from(p.name).ok_or_else(|| self.damaged(&k))?,
            };
            out.push((resource, self.record(&k, &v, &p)?));
        }
        let out: AllRecords = out.into();
        self.all.insert(x.clone(), out.clone());
        Ok(out)
    }

    /// Whether entry `seq` was recorded at or before `K`.
    pub(super) fn visible(&self, seq: u64) -> bool {
        self.kseq.is_some_and(|k| seq <= k)
    }

    /// [`Eval::split`], then rule 1: `None` when the key's event does not
    /// count at `(T, K)`.
    pub(super) fn counted<'k>(
        &self,
        key: &'k [u8],
        name_at: Option<usize>,
    ) -> Result<Option<Parts<'k>>, StoreError> {
        let p = self.split(key, name_at)?;
        Ok((self.visible(p.seq) && p.time <= self.at).then_some(p))
    }

    /// The error for an index key or value that does not decode.
    pub(super) fn damaged(&self, key: &[u8]) -> StoreError {
        undecodable(self.store, key)
    }

    /// Fills the record cache of `r` with `records`: every subject's counting
    /// records covering `r` (in any order). The caller MUST pass all of them:
    /// afterwards a subject not among them has none, without a scan.
    pub(super) fn prime(&mut self, r: &Resource, records: BTreeMap<Subject, Vec<IndexRecord>>) {
        let primed = self.records.entry(r.clone()).or_default();
        for (subject, mut list) in records {
            list.sort_by_key(|r| (r.eff, r.seq));
            primed.insert(subject, list.into());
        }
        self.complete = Some(r.clone());
    }

    /// [`split`], with a key that does not split named as damaged.
    pub(super) fn split<'k>(
        &self,
        key: &'k [u8],
        name_at: Option<usize>,
    ) -> Result<Parts<'k>, StoreError> {
        split(key, name_at).ok_or_else(|| self.damaged(key))
    }

    /// [`decode_record`], with a value that does not decode named as damaged.
    pub(super) fn record(
        &self,
        key: &[u8],
        value: &[u8],
        p: &Parts<'_>,
    ) -> Result<IndexRecord, StoreError> {
        decode_record(value, p.time, p.seq).ok_or_else(|| self.damaged(key))
    }

    /// The counting grants, revokes and bans of `x` that cover `r` (on `r` or
    /// an ancestor), ordered by (effective_at, seq).
    pub(super) fn records(
        &mut self,
        x: &Subject,
        r: &Resource,
    ) -> Result<Rc<[IndexRecord]>, StoreError> {
        if let Some(v) = self.records.get(r).and_then(|m| m.get(x)) {
            return Ok(v.clone());
        }
        if self.complete.as_ref() == Some(r) {
            return Ok(Rc::from([]));
        }
        if let Some(all) = self.all.get(x) {
            // The same records a scan would count: on `r` or an ancestor,
            // in effect at `T` (the list holds only visible ones).
            let target = r.as_str().as_bytes();
            let mut out: Vec<IndexRecord> = all
                .iter()
                .filter(|(n, rec)| rec.eff <= self.at && name_covers(n.as_str().as_bytes(), target))
                .map(|(_, rec)| rec.clone())
                .collect();
            out.sort_by_key(|r| (r.eff, r.seq));
            let out: Rc<[IndexRecord]> = out.into();
            self.records
                .entry(r.clone())
                .or_default()
                .insert(x.clone(), out.clone());
            return Ok(out);
        }
        // Every covering record is on an ancestor of `r`, and every ancestor
        // starts with r's first segment: one prefix scan (the segment without
        // its terminator) finds them all, and the ancestors are picked out by name.
        let key = Key::new(GRANTS).name(x.as_str());
        let name_at = key.0.len();
        let root = r.as_str().split('/').next().unwrap_or_default();
        let prefix = key.name_start(root).0;
        let target = r.as_str().as_bytes();
        let mut out = Vec::new();
        for kv in self.store.scan_prefix(&prefix) {
            let (k, v) = kv?;
            match self.counted(&k, Some(name_at))? {
                Some(p) if name_covers(p.name, target) => out.push(self.record(&k, &v, &p)?),
                _ => {}
            }
        }
        out.sort_by_key(|r| (r.eff, r.seq));
        let out: Rc<[IndexRecord]> = out.into();
        self.records
            .entry(r.clone())
            .or_default()
            .insert(x.clone(), out.clone());
        Ok(out)
    }

    fn state(&mut self, x: &Subject, r: &Resource, want: &Want) -> Result<NodeState, StoreError> {
        let records = self.records(x, r)?;
        Ok(node_state(records.iter(), want, self.at))
    }

    /// Rule 5 over one membership space (`MEMBER_OF` or `MEMBERS`): the
    /// subjects after `x` in keys whose last counting event is a join, with
    /// that join, sorted by name.
    fn memberships(&self, space: u8, x: &Subject) -> Result<Vec<(Subject, u64)>, StoreError> {
        let prefix = Key::new(space).name(x.as_str()).0;
        let mut last: Vec<(Vec<u8>, bool, u64)> = Vec::new();
        for kv in self.store.scan_prefix(&prefix) {
            let (k, v) = kv?;
            let join = decode_membership(&v).ok_or_else(|| self.damaged(&k))?;
            let Some(p) = self.counted(&k, Some(prefix.len()))? else {
                continue;
            };
            match last.last_mut() {
                Some(l) if l.0 == p.name => {
                    l.1 = join;
                    l.2 = p.seq;
                }
                _ => last.push((p.name.to_vec(), join, p.seq)),
            }
        }
        let mut out = Vec::new();
        for (name, join, seq) in last {
            if join {
                out.push((subject_from(&name).ok_or_else(|| self.damaged(&name))?, seq));
            }
        }
        Ok(out)
    }

    /// The groups `x` is a direct member of at `T`, by name, with the join.
    fn ups(&mut self, x: &Subject) -> Result<Rc<[(Subject, u64)]>, StoreError> {
        if let Some(v) = self.ups.get(x) {
            return Ok(v.clone());
        }
        let v: Rc<[(Subject, u64)]> = self.memberships(MEMBER_OF, x)?.into();
        self.ups.insert(x.clone(), v.clone());
        Ok(v)
    }

    /// The direct members of group `g` at `T`, with the join.
    pub(super) fn members(&self, g: &Subject) -> Result<Vec<(Subject, u64)>, StoreError> {
        self.memberships(MEMBERS, g)
    }

    /// `x` and, with `space` = `MEMBER_OF`, the groups reachable from `x`
    /// through visible joins of any effective time; with `MEMBERS`, the
    /// subjects reaching `x` that way (its members, recursively).
    pub(super) fn static_closure(
        &self,
        x: &Subject,
        space: u8,
    ) -> Result<BTreeSet<Subject>, StoreError> {
        let mut seen = BTreeSet::from([x.clone()]);
        let mut stack = vec![x.clone()];
        while let Some(n) = stack.pop() {
            let prefix = Key::new(space).name(n.as_str()).0;
            let mut prev: Option<Vec<u8>> = None;
            for kv in self.store.scan_prefix(&prefix) {
                let (k, _) = kv?;
                let p = self.split(&k, Some(prefix.len()))?;
                if !self.visible(p.seq) || prev.as_deref() == Some(p.name) {
                    continue;
                }
                prev = Some(p.name.to_vec());
                let s = subject_from(p.name).ok_or_else(|| self.damaged(&k))?;
                if seen.insert(s.clone()) {
                    stack.push(s);
                }
            }
        }
        Ok(seen)
    }

    /// [`Up`] of `x` for `(r, want)`, computed for `x` and every group above
    /// it at `T` that has not been computed yet, depth first without
    /// recursion (a group graph may be thousands deep), each group once per
    /// query. A membership cycle, which the chain rules refuse, is cut where
    /// it closes.
    fn up(&mut self, x: &Subject, r: &Resource, want: &Want) -> Result<Up, StoreError> {
        let key = (r.clone(), want.clone());
        if let Some(u) = self.up.get(&key).and_then(|m| m.get(x)) {
            return Ok(u.clone());
        }
        let mut open: HashSet<Subject> = HashSet::from([x.clone()]);
        let mut stack: Vec<Frame> = vec![(x.clone(), self.ups(x)?, 0)];
        while let Some((n, ups, i)) = stack.last().cloned() {
            if let Some((g, _)) = ups.get(i) {
                stack.last_mut().expect("not empty").2 += 1;
                let done = self.up.get(&key).is_some_and(|m| m.contains_key(g));
                if !done && open.insert(g.clone()) {
                    let gu = self.ups(g)?;
                    stack.push((g.clone(), gu, 0));
                }
                continue;
            }
            stack.pop();
            open.remove(&n);
            let st = self.state(&n, r, want)?;
            let memo = self.up.entry(key.clone()).or_default();
            // A group still open is on a cycle: the edge is cut.
            let u = Up::of(
                &n,
                &st,
                ups.iter()
                    .filter_map(|(g, j)| memo.get(g).map(|gu| (g, *j, gu))),
            );
            memo.insert(n, u);
        }
        Ok(self.up[&key][x].clone())
    }

    /// The decision for `(s, r, want)`; see docs/SEMANTICS.md, rules 4 to 8.
    /// `explain` asks for the `because` of a denial without a ban (rule 8),
    /// which walks the subject's whole membership closure; `cap` limits the
    /// joins of an allowed route's `because` (the rest are counted in
    /// `omitted`).
    pub(super) fn decide(
        &mut self,
        s: &Subject,
        r: &Resource,
        want: &Want,
        explain: bool,
        cap: Option<usize>,
    ) -> Result<Verdict, StoreError> {
        let st = self.state(s, r, want)?;
        let u = self.up(s, r, want)?;
        let ups = self.ups(s)?;
        let mut groups = Vec::with_capacity(ups.len());
        for (g, j) in ups.iter() {
            groups.push((g, *j, self.up(g, r, want)?));
        }
        let found = verdict_of(
            &st,
            &u,
            groups.iter().map(|(g, j, gu)| (*g, *j, gu)),
            |cur| Ok::<_, StoreError>(self.up(cur, r, want)?.next),
            cap.unwrap_or(usize::MAX),
        )?;
        if let Some(v) = found {
            return Ok(v);
        }
        if !explain {
            return Ok(Verdict {
                route: None,
                because: vec![],
                banned_by: None,
                omitted: 0,
            });
        }
        // Denied: explain with the whole membership closure.
        let mut closure: BTreeSet<Subject> = BTreeSet::from([s.clone()]);
        let mut stack = vec![s.clone()];
        while let Some(n) = stack.pop() {
            for (g, _) in self.ups(&n)?.iter() {
                if closure.insert(g.clone()) {
                    stack.push(g.clone());
                }
            }
        }
        let mut because = BTreeSet::new();
        for x in &closure {
            let xs = self.state(x, r, want)?;
            if xs.live_grant && xs.direct_grant.is_none() {
                because.extend(xs.last_revoke);
            }
        }
        Ok(Verdict {
            route: None,
            because: because.into_iter().collect(),
            banned_by: None,
            omitted: 0,
        })
    }

    /// What `s` holds on each of `resources`: for each, [`held_rights`] over
    /// `named`, every decision the same as [`Eval::decide`]'s without an
    /// explanation or a cap (both run [`Up::of`] and `verdict_of`).
    ///
    /// Instead of one memoised walk of the groups per decision, this reads
    /// every record of `s` and of each group above it at `T` once
    /// ([`Eval::all_records`]), orders that graph once, and then decides
    /// each (resource, right) by one pass over it in memory: what a
    /// `what-can` of a member of many groups costs is then proportional to
    /// its graph times its resources, with no index read or cache entry per
    /// decision. Only the groups' record lists are kept in the view.
    pub(super) fn holdings_each(
        &mut self,
        s: &Subject,
        resources: &BTreeSet<Resource>,
        named: &BTreeSet<Right>,
    ) -> Result<BTreeMap<Resource, Vec<HeldRight>>, StoreError> {
        // The graph at T above s in the order `up` completes it (depth
        // first, groups by name, a group still open cut as on a cycle):
        // every node after the groups it is a member of.
        let mut index: HashMap<Subject, usize> = HashMap::new();
        let mut order: Vec<(Subject, Vec<(usize, u64)>)> = Vec::new();
        let mut open: HashSet<Subject> = HashSet::from([s.clone()]);
        let mut stack: Vec<Frame> = vec![(s.clone(), self.ups(s)?, 0)];
        while let Some((_, ups, i)) = stack.last_mut() {
            if let Some((g, _)) = ups.get(*i) {
                *i += 1;
                let g = g.clone();
                if !index.contains_key(&g) && open.insert(g.clone()) {
                    let gu = self.ups(&g)?;
                    stack.push((g, gu, 0));
                }
                continue;
            }
            let (n, ups, _) = stack.pop().expect("not empty");
            open.remove(&n);
            let edges = ups
                .iter()
                .filter_map(|(g, j)| index.get(g).map(|&k| (k, *j)))
                .collect();
            index.insert(n.clone(), order.len());
            order.push((n, edges));
        }
        // Every node's records in effect at T, by resource name, each with
        // its node.
        let lists: Vec<AllRecords> = order
            .iter()
            .map(|(n, _)| self.all_records(n))
            .collect::<Result<_, _>>()?;
        if !s.is_group() {
            self.all.remove(s);
        }
        let mut by_name: HashMap<&str, Vec<(usize, &IndexRecord)>> = HashMap::new();
        for (k, list) in lists.iter().enumerate() {
            for (r, rec) in list.iter() {
                if rec.eff <= self.at {
                    by_name.entry(r.as_str()).or_default().push((k, rec));
                }
            }
        }
        let me = order.len() - 1;
        let at = self.at;
        let mut out = BTreeMap::new();
        let mut covering: Vec<Vec<&IndexRecord>> = vec![Vec::new(); order.len()];
        let mut active = vec![false; order.len()];
        for r in resources {
            // Each node's records covering r (on r or an ancestor), in
            // (effective_at, seq) order.
            covering.iter_mut().for_each(Vec::clear);
            let name = r.as_str();
            let ends = name
                .match_indices('/')
                .map(|(i, _)| i)
                .chain(std::iter::once(name.len()));
            for e in ends {
                for (k, rec) in by_name.get(&name[..e]).into_iter().flatten() {
                    covering[*k].push(rec);
                }
            }
            for v in &mut covering {
                v.sort_by_key(|r| (r.eff, r.seq));
            }
            // A node with no such record and none above it decides nothing:
            // its [`Up`] is the default.
            for (k, (_, edges)) in order.iter().enumerate() {
                active[k] = !covering[k].is_empty() || edges.iter().any(|(g, _)| active[*g]);
            }
            let held = held_rights(named, |want| {
                let mut ups: Vec<Up> = Vec::with_capacity(order.len());
                let mut states = Vec::with_capacity(order.len());
                for (k, (n, edges)) in order.iter().enumerate() {
                    if !active[k] {
                        ups.push(Up::default());
                        states.push(NodeState::default());
                        continue;
                    }
                    let st = node_state(covering[k].iter().copied(), want, at);
                    let u = Up::of(
                        n,
                        &st,
                        edges.iter().map(|(g, j)| (&order[*g].0, *j, &ups[*g])),
                    );
                    ups.push(u);
                    states.push(st);
                }
                let found = verdict_of(
                    &states[me],
                    &ups[me],
                    order[me]
                        .1
                        .iter()
                        .map(|(g, j)| (&order[*g].0, *j, &ups[*g])),
                    |cur| Ok::<_, StoreError>(index.get(cur).and_then(|&k| ups[k].next.clone())),
                    usize::MAX,
                )?;
                Ok::<_, StoreError>(found.unwrap_or(Verdict {
                    route: None,
                    because: vec![],
                    banned_by: None,
                    omitted: 0,
                }))
            })?;
            out.insert(r.clone(), held);
        }
        Ok(out)
    }

    /// The live grants of `x` covering `r`, each with the rights no later
    /// non-permanent revoke withdrew (never empty).
    fn grant_rights(
        &mut self,
        x: &Subject,
        r: &Resource,
    ) -> Result<Vec<(u64, RightSet)>, StoreError> {
        let records = self.records(x, r)?;
        Ok(rights_left(
            &records,
            RecordKind::Grant,
            RecordKind::Revoke,
            self.at,
        ))
    }

    /// The live shares into `to` covering `r`, as `(from, seq, rights left
    /// after later unshares)` (never empty).
    fn shares_into(&mut self, to: &Subject, r: &Resource) -> Result<Shares, StoreError> {
        let ck = (to.clone(), r.clone());
        if let Some(v) = self.shares.get(&ck) {
            return Ok(v.clone());
        }
        let mut by_from: BTreeMap<Vec<u8>, Vec<IndexRecord>> = BTreeMap::new();
        for a in r.self_and_ancestors() {
            let prefix = Key::new(SHARES_TO).name(to.as_str()).name(a.as_str()).0;
            for kv in self.store.scan_prefix(&prefix) {
                let (k, v) = kv?;
                if let Some(p) = self.counted(&k, Some(prefix.len()))? {
                    let record = self.record(&k, &v, &p)?;
                    by_from.entry(p.name.to_vec()).or_default().push(record);
                }
            }
        }
        let mut out = Vec::new();
        for (name, mut records) in by_from {
            let from = subject_from(&name).ok_or_else(|| self.damaged(&name))?;
            records.sort_by_key(|r| (r.eff, r.seq));
            for (seq, rs) in rights_left(&records, RecordKind::Share, RecordKind::Unshare, self.at)
            {
                out.push((from.clone(), seq, rs));
            }
        }
        let out: Shares = out.into();
        self.shares.insert(ck, out.clone());
        Ok(out)
    }

    /// Exposure (rule 11): every reachable state at `s` (the last step and
    /// the rights it brings) with its canonical witness, and the bans of
    /// each path.
    ///
    /// First a search backwards from `s` finds every subject data of `r` can
    /// come from, and the edges between them (each subject's groups and the
    /// shares into it are read once). Then a breadth-first search forwards
    /// over states (subject, rights carried), from every live grant of those
    /// subjects, level by level, each level in the order of its witnesses and
    /// each state's edges by seq: the first time a state is reached is by its
    /// shortest witness with the smallest seqs. Each state is expanded once,
    /// so the cost is linear in the edges times the distinct right sets (a
    /// handful), whatever the number of paths.
    pub(super) fn exposure(
        &mut self,
        s: &Subject,
        r: &Resource,
    ) -> Result<Vec<ExposurePath>, StoreError> {
        // Backwards: the subjects that can reach s, and the edges forwards.
        type Edge = (u64, StepKind, Subject, RightSet);
        let mut fwd: HashMap<Subject, Vec<Edge>> = HashMap::new();
        let mut seen: HashSet<Subject> = HashSet::from([s.clone()]);
        let mut order = vec![s.clone()];
        let mut i = 0;
        while i < order.len() {
            let n = order[i].clone();
            i += 1;
            let mut edges: Vec<(Subject, Edge)> = Vec::new();
            for (g, j) in self.ups(&n)?.iter() {
                edges.push((g.clone(), (*j, StepKind::Join, n.clone(), RightSet::all())));
            }
            for (from, h, hr) in self.shares_into(&n, r)?.iter() {
                edges.push((from.clone(), (*h, StepKind::Share, n.clone(), hr.clone())));
            }
            for (from, e) in edges {
                if seen.insert(from.clone()) {
                    order.push(from.clone());
                }
                fwd.entry(from).or_default().push(e);
            }
        }
        for v in fwd.values_mut() {
            v.sort_by_key(|e| e.0);
        }
        // Forwards, over states; `node` holds each state's parent and step.
        struct Node {
            subject: Subject,
            rights: RightSet,
            parent: Option<usize>,
            seq: u64,
            kind: StepKind,
        }
        let mut nodes: Vec<Node> = Vec::new();
        let mut states: HashSet<(Subject, RightSet)> = HashSet::new();
        let mut found: BTreeMap<(u64, RightSet), usize> = BTreeMap::new();
        let mut starts: Vec<(u64, Subject, RightSet)> = Vec::new();
        for x in &order {
            for (g, gr) in self.grant_rights(x, r)? {
                starts.push((g, x.clone(), gr));
            }
        }
        starts.sort_by_key(|(g, _, _)| *g);
        let mut level: Vec<usize> = Vec::new();
        for (g, x, gr) in starts {
            let id = nodes.len();
            nodes.push(Node {
                subject: x.clone(),
                rights: gr.clone(),
                parent: None,
                seq: g,
                kind: StepKind::Grant,
            });
            if &x == s {
                found.entry((g, gr)).or_insert(id);
            } else if states.insert((x, gr)) {
                level.push(id);
            }
        }
        while !level.is_empty() {
            let mut next = Vec::new();
            for id in level {
                let from = nodes[id].subject.clone();
                let rights = nodes[id].rights.clone();
                for (seq, kind, to, er) in fwd.get(&from).into_iter().flatten() {
                    let carried = rights.intersect(er);
                    if carried.is_empty() {
                        continue;
                    }
                    let at_s = to == s;
                    if at_s && found.contains_key(&(*seq, carried.clone())) {
                        continue;
                    }
                    if !at_s && !states.insert((to.clone(), carried.clone())) {
                        continue;
                    }
                    let nid = nodes.len();
                    nodes.push(Node {
                        subject: to.clone(),
                        rights: carried.clone(),
                        parent: Some(id),
                        seq: *seq,
                        kind: *kind,
                    });
                    if at_s {
                        found.insert((*seq, carried), nid);
                    } else {
                        next.push(nid);
                    }
                }
            }
            level = next;
        }
        let mut candidates = Vec::with_capacity(found.len());
        for id in found.into_values() {
            let mut steps = Vec::new();
            let mut cur = Some(id);
            while let Some(c) = cur {
                let n = &nodes[c];
                steps.push(ExposureStep {
                    seq: n.seq,
                    kind: n.kind,
                    subject: n.subject.clone(),
                });
                cur = n.parent;
            }
            steps.reverse();
            candidates.push(ExposurePath {
                kind: path_kind(&steps),
                steps,
                rights: nodes[id].rights.clone(),
                banned: vec![],
            });
        }
        let mut paths = canonical_paths(candidates);
        self.bans.clear();
        for p in &mut paths {
            let mut banned = BTreeSet::new();
            for step in &p.steps {
                let bans = self.bans_reaching(&step.subject, r)?;
                for (br, seq) in bans.iter() {
                    if !br.intersect(&p.rights).is_empty() {
                        banned.insert(*seq);
                    }
                }
            }
            p.banned = banned.into_iter().collect();
        }
        Ok(paths)
    }

    /// The counting bans, as `(rights, seq)`, of `x` and of every group `x`
    /// is a member of at `T`, on `r`, an ancestor or a descendant. Each
    /// subject's own bans are read once per query and merged upwards without
    /// recursion, so the subjects of a long path share the work.
    fn bans_reaching(
        &mut self,
        x: &Subject,
        r: &Resource,
    ) -> Result<Rc<[(RightSet, u64)]>, StoreError> {
        if let Some(b) = self.bans.get(x) {
            return Ok(b.clone());
        }
        let mut open: HashSet<Subject> = HashSet::from([x.clone()]);
        let mut stack: Vec<Frame> = vec![(x.clone(), self.ups(x)?, 0)];
        while let Some((n, ups, i)) = stack.last().cloned() {
            if let Some((g, _)) = ups.get(i) {
                stack.last_mut().expect("not empty").2 += 1;
                if !self.bans.contains_key(g) && open.insert(g.clone()) {
                    let gu = self.ups(g)?;
                    stack.push((g.clone(), gu, 0));
                }
                continue;
            }
            stack.pop();
            open.remove(&n);
            let mut all: BTreeMap<u64, RightSet> = self
                .own_bans(&n, r)?
                .into_iter()
                .map(|(rs, seq)| (seq, rs))
                .collect();
            for (g, _) in ups.iter() {
                // A group still open is on a cycle: the edge is cut.
                if let Some(gb) = self.bans.get(g) {
                    all.extend(gb.iter().map(|(rs, seq)| (*seq, rs.clone())));
                }
            }
            let list: Rc<[(RightSet, u64)]> = all.into_iter().map(|(seq, rs)| (rs, seq)).collect();
            self.bans.insert(n, list);
        }
        Ok(self.bans[x].clone())
    }

    /// The counting bans of `x` itself on `r`, an ancestor or a descendant.
    fn own_bans(&self, x: &Subject, r: &Resource) -> Result<Vec<(RightSet, u64)>, StoreError> {
        let root = r.as_str().split('/').next().unwrap_or_default();
        let target = r.as_str().as_bytes();
        let key = Key::new(GRANTS).name(x.as_str());
        let name_at = key.0.len();
        let prefix = key.name_start(root).0;
        let mut out = Vec::new();
        for kv in self.store.scan_prefix(&prefix) {
            let (k, v) = kv?;
            let Some(p) = self.counted(&k, Some(name_at))? else {
                continue;
            };
            if !(name_covers(p.name, target) || name_covers(target, p.name)) {
                continue;
            }
            let record = self.record(&k, &v, &p)?;
            if record.kind == RecordKind::Ban {
                out.push((RightSet::of(record.rights.as_ref()), record.seq));
            }
        }
        Ok(out)
    }

    /// The resources of [`Eval::relevant`] that one of `roots` covers:
    /// the same as filtering its answer, from a scan of only the records of
    /// each subject of `closure` on each root and below it.
    pub(super) fn relevant_under(
        &self,
        closure: &BTreeSet<Subject>,
        roots: &BTreeSet<Resource>,
    ) -> Result<BTreeSet<Resource>, StoreError> {
        let mut resources = BTreeSet::new();
        for x in closure {
            let at = Key::new(GRANTS).name(x.as_str()).0.len();
            for root in roots {
                let prefix = Key::new(GRANTS)
                    .name(x.as_str())
                    .name_start(root.as_str())
                    .0;
                let mut prev: Option<Vec<u8>> = None;
                for kv in self.store.scan_prefix(&prefix) {
                    let (k, _) = kv?;
                    let p = self.split(&k, Some(at))?;
                    if !self.visible(p.seq)
                        || prev.as_deref() == Some(p.name)
                        || !name_covers(root.as_str().as_bytes(), p.name)
                    {
                        continue;
                    }
                    prev = Some(p.name.to_vec());
                    resources.insert(resource_from(p.name).ok_or_else(|| self.damaged(&k))?);
                }
            }
        }
        Ok(resources)
    }

    /// The named rights of [`Eval::relevant`] for `x` alone.
    pub(super) fn named_rights(&self, x: &Subject) -> Result<BTreeSet<Right>, StoreError> {
        Ok(self.relevant(&BTreeSet::from([x.clone()]))?.1)
    }

    /// [`Eval::relevant`] from [`Eval::all_records`] of each subject of
    /// `closure`, which are kept: the decisions that follow on those
    /// resources read no index.
    pub(super) fn relevant_kept(
        &mut self,
        closure: &BTreeSet<Subject>,
    ) -> Result<(BTreeSet<Resource>, BTreeSet<Right>), StoreError> {
        let mut resources = BTreeSet::new();
        let mut named = BTreeSet::new();
        for x in closure {
            let all = self.all_records(x)?;
            let mut prev: Option<&Resource> = None;
            for (r, record) in all.iter() {
                if prev != Some(r) {
                    resources.insert(r.clone());
                    prev = Some(r);
                }
                named.extend(named_in(record));
            }
        }
        Ok((resources, named))
    }

    /// The resources and named rights of the visible grants and revokes of the
    /// subjects in `closure` (any effective time).
    pub(super) fn relevant(
        &self,
        closure: &BTreeSet<Subject>,
    ) -> Result<(BTreeSet<Resource>, BTreeSet<Right>), StoreError> {
        let mut resources = BTreeSet::new();
        let mut named = BTreeSet::new();
        for x in closure {
            let prefix = Key::new(GRANTS).name(x.as_str()).0;
            let mut prev: Option<Vec<u8>> = None;
            for kv in self.store.scan_prefix(&prefix) {
                let (k, v) = kv?;
                let p = self.split(&k, Some(prefix.len()))?;
                if !self.visible(p.seq) {
                    continue;
                }
                if prev.as_deref() != Some(p.name) {
                    resources.insert(resource_from(p.name).ok_or_else(|| self.damaged(&k))?);
                    prev = Some(p.name.to_vec());
                }
                let record = self.record(&k, &v, &p)?;
                named.extend(named_in(&record));
            }
        }
        Ok((resources, named))
    }
}
