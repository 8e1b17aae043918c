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
    path_kind, ExposurePath, ExposureStep, RightSet, Route, StepKind, Verdict, Want,
    MAX_EXPOSURE_STEPS,
};
use super::index::{
    decode_membership, decode_record, name_covers, resource_from, split, subject_from, undecodable,
    IndexRecord, Key, Parts, RecordKind, GRANTS, MEMBERS, MEMBER_OF, SHARES_TO,
};
use crate::ident::{Resource, Right, Subject};
use crate::store::{Store, StoreError};
use crate::time::Timestamp;

/// Live shares into a subject: `(from, seq, rights left)`.
type Shares = Rc<[(Subject, u64, RightSet)]>;

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

/// What the access records of one subject say about one (resource, right) at `T`.
#[derive(Debug, Clone, Copy, Default)]
struct NodeState {
    first_ban: Option<u64>,
    last_revoke: Option<u64>,
    direct_grant: Option<u64>,
    live_grant: bool,
}

/// Rules 4 and 6 over the records of one subject, ordered by `(effective_at, seq)`.
fn node_state(records: &[IndexRecord], want: &Want, at: Timestamp) -> NodeState {
    let mut st = NodeState::default();
    // The candidate grant is reset by every revoke, so what is left is the
    // latest grant after the last revoke.
    for r in records {
        match r.kind {
            RecordKind::Ban if st.first_ban.is_none() && want.withdrawn_by(r.rights.as_ref()) => {
                st.first_ban = Some(r.seq);
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
    /// When set, `records` holds every subject with a record covering this
    /// resource: any other subject has none, without a scan.
    complete: Option<Resource>,
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
            complete: None,
        }
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
        Ok(node_state(&records, want, self.at))
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

    /// The decision for `(s, r, want)`; see docs/SEMANTICS.md, rules 4 to 8.
    pub(super) fn decide(
        &mut self,
        s: &Subject,
        r: &Resource,
        want: &Want,
    ) -> Result<Verdict, StoreError> {
        let st = self.state(s, r, want)?;
        if let Some(b) = st.first_ban {
            return Ok(Verdict {
                route: None,
                because: vec![b],
                banned_by: Some(b),
            });
        }
        if let Some(g) = st.direct_grant {
            return Ok(Verdict {
                route: Some(Route::Direct),
                because: vec![g],
                banned_by: None,
            });
        }
        // Breadth first over unbanned groups, each level in path order and each
        // node's groups by name: the first path found to a group is its
        // shortest, then lexicographically smallest, open path.
        let mut parent: HashMap<Subject, (Subject, u64)> = HashMap::new();
        let mut seen: HashSet<Subject> = HashSet::from([s.clone()]);
        let mut frontier = vec![s.clone()];
        let mut best: Option<(Subject, u64)> = None;
        while !frontier.is_empty() {
            let mut next = Vec::new();
            for n in &frontier {
                for (g, j) in self.ups(n)?.iter() {
                    if !seen.insert(g.clone()) {
                        continue;
                    }
                    let gs = self.state(g, r, want)?;
                    if gs.first_ban.is_some() {
                        continue;
                    }
                    parent.insert(g.clone(), (n.clone(), *j));
                    next.push(g.clone());
                    if let Some(grant) = gs.direct_grant {
                        if !matches!(&best, Some((b, _)) if b <= g) {
                            best = Some((g.clone(), grant));
                        }
                    }
                }
            }
            frontier = next;
        }
        if let Some((g, grant)) = best {
            let mut joins = Vec::new();
            let mut cur = &g;
            while cur != s {
                let (p, j) = &parent[cur];
                joins.push(*j);
                cur = p;
            }
            let mut because = vec![grant];
            because.extend(joins.into_iter().rev());
            return Ok(Verdict {
                route: Some(Route::Group(g)),
                because,
                banned_by: None,
            });
        }
        // Denied: explain with the whole membership closure, bans ignored.
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
            if x != s {
                because.extend(xs.first_ban);
            }
        }
        Ok(Verdict {
            route: None,
            because: because.into_iter().collect(),
            banned_by: None,
        })
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

    /// Exposure, walking backwards from the subject: `node` is where the data
    /// must come from, `suffix` the steps from `node` to the subject.
    pub(super) fn exposure_walk(
        &mut self,
        r: &Resource,
        node: &Subject,
        suffix: &mut Vec<ExposureStep>,
        on_path: &mut Vec<Subject>,
        rights: &RightSet,
        out: &mut Vec<ExposurePath>,
    ) -> Result<(), StoreError> {
        for (g, gr) in self.grant_rights(node, r)? {
            let pr = gr.intersect(rights);
            if pr.is_empty() {
                continue;
            }
            let mut steps = vec![ExposureStep {
                seq: g,
                kind: StepKind::Grant,
                subject: node.clone(),
            }];
            steps.extend(suffix.iter().rev().cloned());
            out.push(ExposurePath {
                kind: path_kind(&steps),
                steps,
                rights: pr,
                banned: vec![],
            });
        }
        if suffix.len() >= MAX_EXPOSURE_STEPS {
            return Ok(());
        }
        // The edges into `node`, joins (by group) before shares: (where the
        // data comes from, the step that brings it here, the rights it keeps).
        let mut edges: Vec<(Subject, u64, StepKind, RightSet)> = Vec::new();
        for (g, j) in self.ups(node)?.iter() {
            edges.push((g.clone(), *j, StepKind::Join, rights.clone()));
        }
        for (from, h, hr) in self.shares_into(node, r)?.iter() {
            let next = rights.intersect(hr);
            if !next.is_empty() {
                edges.push((from.clone(), *h, StepKind::Share, next));
            }
        }
        for (source, seq, kind, next) in edges {
            if on_path.contains(&source) {
                continue;
            }
            suffix.push(ExposureStep {
                seq,
                kind,
                subject: node.clone(),
            });
            on_path.push(source.clone());
            self.exposure_walk(r, &source, suffix, on_path, &next, out)?;
            on_path.pop();
            suffix.pop();
        }
        Ok(())
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
                named.extend(
                    record
                        .rights
                        .iter()
                        .flat_map(|r| r.iter())
                        .filter(|x| !x.is_wildcard())
                        .cloned(),
                );
            }
        }
        Ok((resources, named))
    }
}
