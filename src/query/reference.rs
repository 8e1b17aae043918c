//! The reference replay: what a log says about access, computed the slow,
//! obvious way.
//!
//! [`Projection`] replays a slice of entries for every question it is asked.
//! It is the reference for the indexed answers of [`crate::Queries`]: the rules
//! here are docs/SEMANTICS.md written as code, one numbered rule at a time,
//! with no index, cache or shortcut. The differential tests
//! (`tests/query_differential.rs`) hold the two equal on random logs.
//!
//! It depends only on the answer vocabulary ([`super::answer`]), never on the
//! indexes or the indexed evaluator, so that it stays an independent oracle.
//!
//! Vocabulary (all of it defined in docs/SEMANTICS.md):
//! - an event *counts* at valid time `T` and knowledge time `K` when its entry
//!   was recorded at or before `K` and its `effective_at` is at or before `T`;
//! - events are *ordered* by `(effective_at, seq)`;
//! - a grant is *live* at `T` when it has no `until` or `T < until`.

use std::collections::{BTreeMap, BTreeSet};

use super::answer::{
    canonical_paths, held_rights, history_item, holdings, lists_in_change, path_kind,
    require_named, sort_changes, Access, Change, Decision, ExposurePath, ExposureStep, HistoryItem,
    HistoryOf, Holding, QueryError, RightSet, Route, StepKind, Verdict, Want,
};
use crate::entry::Entry;
use crate::event::Event;
use crate::ident::{AuthorityName, Resource, Right, Rights, Subject};
use crate::keys::PublicKey;
use crate::time::Timestamp;

/// The naive evaluator: answers every query by scanning `entries` (a whole
/// log, seq 0 first, as verified by the chain rules) from the start.
///
/// The caller MUST pass entries that [`crate::LedgerState::admit`] accepted in
/// order; the evaluator does not check them again.
pub struct Projection<'a> {
    entries: &'a [Entry],
}

/// An event that counts (rule 1).
#[derive(Clone, Copy)]
struct Counted<'a> {
    seq: u64,
    eff: Timestamp,
    body: &'a Event,
}

/// The log as known at `K` and looked at from `T`.
struct World<'a> {
    visible: Vec<&'a Entry>,
    at: Timestamp,
}

type Path = Vec<(Subject, u64)>;

impl<'a> Projection<'a> {
    /// Wraps a verified log.
    pub fn new(entries: &'a [Entry]) -> Self {
        Projection { entries }
    }

    fn world(&self, at: Timestamp, known_at: Timestamp) -> World<'a> {
        World {
            visible: self
                .entries
                .iter()
                .filter(|e| e.recorded_at() <= known_at)
                .collect(),
            at,
        }
    }

    /// `check`: may `subject` exercise `right` (not `*`) on `resource` at `at`, as known at `known_at`?
    pub fn check(
        &self,
        subject: &Subject,
        resource: &Resource,
        right: &Right,
        at: Timestamp,
        known_at: Timestamp,
    ) -> Result<Decision, QueryError> {
        let want = require_named(right)?;
        let w = self.world(at, known_at);
        Ok(w.decide(subject, resource, &want)
            .into_decision(subject, resource, right, at, known_at))
    }

    /// `who-can`: every subject (groups included) that may exercise `right` on
    /// `resource`, sorted by subject.
    pub fn who_can(
        &self,
        resource: &Resource,
        right: &Right,
        at: Timestamp,
        known_at: Timestamp,
    ) -> Result<Vec<Access>, QueryError> {
        let want = require_named(right)?;
        let w = self.world(at, known_at);
        let mut out = Vec::new();
        for s in w.all_subjects() {
            let v = w.decide(&s, resource, &want);
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
        let w = self.world(at, known_at);
        let (resources, named) = w.relevant(subject);
        let mut rows = BTreeMap::new();
        for r in &resources {
            let held = held_rights(&named, |y| Ok::<_, QueryError>(w.decide(subject, r, y)))?;
            rows.insert(r.clone(), held);
        }
        Ok(holdings(rows))
    }

    /// `exposure`: every path by which data of `resource` reaches `subject`.
    pub fn exposure(
        &self,
        subject: &Subject,
        resource: &Resource,
        at: Timestamp,
        known_at: Timestamp,
    ) -> Result<Vec<ExposurePath>, QueryError> {
        let w = self.world(at, known_at);
        // Every simple path (no depth limit: the logs given are small).
        let mut paths = Vec::new();
        for c in w.counting() {
            if let Event::Grant {
                subject: x0,
                resource: gr,
                rights,
                until,
                ..
            } = c.body
            {
                if !gr.covers(resource) || !w.live(*until) {
                    continue;
                }
                let rs = w.less_later(&c, rights, |v| match v {
                    Event::Revoke {
                        subject: vs,
                        resource: vr,
                        rights: vrights,
                        permanent: false,
                        ..
                    } if vs == x0 && vr.covers(resource) => Some(vrights.as_ref()),
                    _ => None,
                });
                if rs.is_empty() {
                    continue;
                }
                let first = ExposureStep {
                    seq: c.seq,
                    kind: StepKind::Grant,
                    subject: x0.clone(),
                };
                w.walk(subject, resource, vec![first], rs, &mut paths);
            }
        }
        let mut paths = canonical_paths(paths);
        for p in &mut paths {
            let mut banned = BTreeSet::new();
            for step in &p.steps {
                // Rule 6: the subject's own bans and its groups' at T.
                let mut reached: BTreeSet<Subject> = w
                    .up_paths(&step.subject)
                    .into_iter()
                    .flatten()
                    .map(|(g, _)| g)
                    .collect();
                reached.insert(step.subject.clone());
                for b in w.counting() {
                    if let Event::Revoke {
                        subject: bs,
                        resource: br,
                        rights: brights,
                        permanent: true,
                        ..
                    } = b.body
                    {
                        if reached.contains(bs)
                            && br.overlaps(resource)
                            && !RightSet::of(brights.as_ref())
                                .intersect(&p.rights)
                                .is_empty()
                        {
                            banned.insert(b.seq);
                        }
                    }
                }
            }
            p.banned = banned.into_iter().collect();
        }
        Ok(paths)
    }

    /// `history`: the events about a subject or resource that count at `at`
    /// and `known_at`, ordered by `(effective_at, seq)`, with their signers.
    pub fn history(
        &self,
        of: &HistoryOf,
        at: Timestamp,
        known_at: Timestamp,
    ) -> Result<Vec<HistoryItem>, QueryError> {
        let w = self.world(at, known_at);
        let mut signers: BTreeMap<PublicKey, AuthorityName> = BTreeMap::new();
        for e in &w.visible {
            match e.body() {
                Event::Genesis { authority, key, .. } => {
                    signers.insert(*key, authority.clone());
                }
                Event::AuthorityAdd { name, key, .. } => {
                    signers.insert(*key, name.clone());
                }
                _ => {}
            }
        }
        let mut items = Vec::new();
        for e in &w.visible {
            let Some(eff) = e.body().effective_at() else {
                continue;
            };
            if eff > at {
                continue;
            }
            let touches = match of {
                HistoryOf::Subject(s) => e.body().subjects().contains(&s),
                HistoryOf::Resource(r) => e.body().resource().is_some_and(|er| er.overlaps(r)),
            };
            if !touches {
                continue;
            }
            let signer = signers
                .get(e.signer())
                .cloned()
                .ok_or(QueryError::UnknownSigner { seq: e.seq() })?;
            items.push(history_item(e, eff, signer));
        }
        items.sort_by_key(|i| (i.effective_at, i.seq));
        Ok(items)
    }

    /// `changes`: every change of effective access at an instant in `[from, to)`,
    /// as known at `known_at`.
    pub fn changes(
        &self,
        from: Timestamp,
        to: Timestamp,
        known_at: Timestamp,
    ) -> Result<Vec<Change>, QueryError> {
        if from >= to {
            return Err(QueryError::EmptyPeriod { from, to });
        }
        let all = self.world(Timestamp::MAX, known_at);
        let mut instants = BTreeSet::new();
        for e in &all.visible {
            if let Some(eff) = e.body().effective_at() {
                if from <= eff && eff < to {
                    instants.insert(eff);
                }
            }
            if let Event::Grant { until: Some(u), .. } = e.body() {
                if from <= *u && *u < to {
                    instants.insert(*u);
                }
            }
        }
        let subjects = all.all_subjects();
        let mut out = Vec::new();
        for t in instants {
            let before = self.world(
                Timestamp::from_micros(t.as_micros().saturating_sub(1)),
                known_at,
            );
            let after = self.world(t, known_at);
            for s in &subjects {
                let closure = all.static_closure(s);
                let (resources, named) = all.relevant(s);
                let mut wants: Vec<Want> = named.iter().cloned().map(Want::Named).collect();
                wants.push(Want::Unnamed);
                for r in &resources {
                    for y in &wants {
                        let a = before.decide(s, r, y).allowed();
                        let b = after.decide(s, r, y).allowed();
                        if a == b {
                            continue;
                        }
                        let mut events = Vec::new();
                        for e in &all.visible {
                            let body = e.body();
                            let at_t = body.effective_at() == Some(t)
                                || matches!(body, Event::Grant { until: Some(u), .. } if *u == t);
                            if at_t && lists_in_change(body, &closure, r) {
                                events.push(e.seq());
                            }
                        }
                        out.push(Change {
                            at: t,
                            subject: s.clone(),
                            resource: r.clone(),
                            right: y.to_right(),
                            gained: b,
                            events,
                        });
                    }
                }
            }
        }
        sort_changes(&mut out);
        Ok(out)
    }
}

impl<'a> World<'a> {
    /// Rule 1: the events that count.
    fn counting(&self) -> impl Iterator<Item = Counted<'a>> + '_ {
        self.visible.iter().filter_map(move |e| {
            let eff = e.body().effective_at()?;
            (eff <= self.at).then_some(Counted {
                seq: e.seq(),
                eff,
                body: e.body(),
            })
        })
    }

    /// Every subject named by a visible event, sorted.
    fn all_subjects(&self) -> BTreeSet<Subject> {
        self.visible
            .iter()
            .flat_map(|e| e.body().subjects())
            .cloned()
            .collect()
    }

    /// `rights` (of the grant or share `c`) less the rights of every counting
    /// event ordered after `c` that `withdrawal` picks out (it returns that
    /// event's rights, `None` = every right).
    fn less_later(
        &self,
        c: &Counted<'a>,
        rights: &Rights,
        withdrawal: impl Fn(&'a Event) -> Option<Option<&'a Rights>>,
    ) -> RightSet {
        let mut left = RightSet::of(Some(rights));
        for v in self.counting() {
            if let Some(taken) = withdrawal(v.body) {
                if (v.eff, v.seq) > (c.eff, c.seq) {
                    left = left.minus(&RightSet::of(taken));
                }
            }
        }
        left
    }

    /// Rule 3: live at `T`.
    fn live(&self, until: Option<Timestamp>) -> bool {
        match until {
            None => true,
            Some(u) => self.at < u,
        }
    }

    /// Rule 2: the counting grants to `x` that cover `(r, want)`, as `(effective_at, seq, until)`.
    fn grants(
        &self,
        x: &Subject,
        r: &Resource,
        want: &Want,
    ) -> Vec<(Timestamp, u64, Option<Timestamp>)> {
        self.counting()
            .filter_map(|c| match c.body {
                Event::Grant {
                    subject,
                    resource,
                    rights,
                    until,
                    ..
                } if subject == x && resource.covers(r) && want.granted_by(rights) => {
                    Some((c.eff, c.seq, *until))
                }
                _ => None,
            })
            .collect()
    }

    /// Rule 2: the counting revokes of `x` (permanent or not) that cover `(r, want)`.
    fn revokes(
        &self,
        x: &Subject,
        r: &Resource,
        want: &Want,
        permanent: bool,
    ) -> Vec<(Timestamp, u64)> {
        self.counting()
            .filter_map(|c| match c.body {
                Event::Revoke {
                    subject,
                    resource,
                    rights,
                    permanent: p,
                    ..
                } if subject == x
                    && *p == permanent
                    && resource.covers(r)
                    && want.withdrawn_by(rights.as_ref()) =>
                {
                    Some((c.eff, c.seq))
                }
                _ => None,
            })
            .collect()
    }

    /// Rule 4: the grant that gives `x` direct access, if any: the latest live
    /// covering grant with no covering non-permanent revoke ordered after it.
    fn direct_grant(&self, x: &Subject, r: &Resource, want: &Want) -> Option<u64> {
        let revokes = self.revokes(x, r, want, false);
        self.grants(x, r, want)
            .into_iter()
            .filter(|&(_, _, until)| self.live(until))
            .filter(|&(eff, seq, _)| !revokes.iter().any(|&v| v > (eff, seq)))
            .max_by_key(|&(eff, seq, _)| (eff, seq))
            .map(|(_, seq, _)| seq)
    }

    fn has_live_grant(&self, x: &Subject, r: &Resource, want: &Want) -> bool {
        self.grants(x, r, want)
            .into_iter()
            .any(|(_, _, until)| self.live(until))
    }

    fn last_revoke(&self, x: &Subject, r: &Resource, want: &Want) -> Option<u64> {
        self.revokes(x, r, want, false)
            .into_iter()
            .max()
            .map(|(_, seq)| seq)
    }

    /// The first (by order) counting ban of `x` itself covering `(r, want)`.
    fn first_ban(&self, x: &Subject, r: &Resource, want: &Want) -> Option<u64> {
        self.revokes(x, r, want, true)
            .into_iter()
            .min()
            .map(|(_, seq)| seq)
    }

    /// Rule 6: the first (by order) counting ban covering `(r, want)` of `s`
    /// or of a group `s` is a member of at `T` (through nested groups).
    fn ban_reaching(&self, s: &Subject, r: &Resource, want: &Want) -> Option<u64> {
        let mut reached: BTreeSet<Subject> = self
            .up_paths(s)
            .into_iter()
            .flatten()
            .map(|(g, _)| g)
            .collect();
        reached.insert(s.clone());
        reached
            .iter()
            .flat_map(|x| self.revokes(x, r, want, true))
            .min()
            .map(|(_, seq)| seq)
    }

    /// Rule 5: the join that makes `m` a direct member of `g`, if it is one:
    /// the latest counting join with no counting leave ordered after it.
    fn membership(&self, m: &Subject, g: &Subject) -> Option<u64> {
        let leaves: Vec<(Timestamp, u64)> = self
            .counting()
            .filter(|c| matches!(c.body, Event::Leave { member, group, .. } if member == m && group == g))
            .map(|c| (c.eff, c.seq))
            .collect();
        self.counting()
            .filter(|c| matches!(c.body, Event::Join { member, group, .. } if member == m && group == g))
            .map(|c| (c.eff, c.seq))
            .filter(|j| !leaves.iter().any(|l| l > j))
            .max()
            .map(|(_, seq)| seq)
    }

    /// The groups `m` is a direct member of at `T`, sorted by name, with the join.
    fn direct_groups(&self, m: &Subject) -> Vec<(Subject, u64)> {
        let named: BTreeSet<&Subject> = self
            .counting()
            .filter_map(|c| match c.body {
                Event::Join { member, group, .. } if member == m => Some(group),
                _ => None,
            })
            .collect();
        named
            .into_iter()
            .filter_map(|g| self.membership(m, g).map(|j| (g.clone(), j)))
            .collect()
    }

    /// Rule 5: every membership path `[(G1, join1), ..., (Gk, joink)]` from `s`
    /// upwards at `T` (k ≥ 1), visiting no subject twice.
    fn up_paths(&self, s: &Subject) -> Vec<Path> {
        let mut out = Vec::new();
        let mut stack: Vec<Path> = vec![vec![]];
        while let Some(p) = stack.pop() {
            let last = p.last().map(|(g, _)| g).unwrap_or(s);
            for (g, j) in self.direct_groups(last) {
                if &g == s || p.iter().any(|(x, _)| x == &g) {
                    continue;
                }
                let mut q = p.clone();
                q.push((g, j));
                out.push(q.clone());
                stack.push(q);
            }
        }
        out
    }

    /// Rules 4 to 8: the decision for `(s, r, want)`.
    fn decide(&self, s: &Subject, r: &Resource, want: &Want) -> Verdict {
        if let Some(b) = self.ban_reaching(s, r, want) {
            return Verdict {
                route: None,
                because: vec![b],
                banned_by: Some(b),
                omitted: 0,
            };
        }
        if let Some(g) = self.direct_grant(s, r, want) {
            return Verdict {
                route: Some(Route::Direct),
                because: vec![g],
                banned_by: None,
                omitted: 0,
            };
        }
        let paths = self.up_paths(s);
        let open: Vec<&Path> = paths
            .iter()
            .filter(|p| p.iter().all(|(g, _)| self.first_ban(g, r, want).is_none()))
            .filter(|p| {
                p.last()
                    .is_some_and(|(g, _)| self.direct_grant(g, r, want).is_some())
            })
            .collect();
        let best = open.into_iter().min_by(|a, b| {
            let ka = (
                &a[a.len() - 1].0,
                a.len(),
                a.iter().map(|(g, _)| g).collect::<Vec<_>>(),
            );
            let kb = (
                &b[b.len() - 1].0,
                b.len(),
                b.iter().map(|(g, _)| g).collect::<Vec<_>>(),
            );
            ka.cmp(&kb)
        });
        if let Some(p) = best {
            let g = &p[p.len() - 1].0;
            let grant = self
                .direct_grant(g, r, want)
                .unwrap_or_else(|| unreachable!("filtered above"));
            let mut because = vec![grant];
            because.extend(p.iter().map(|(_, j)| *j));
            return Verdict {
                route: Some(Route::Group(g.clone())),
                because,
                banned_by: None,
                omitted: 0,
            };
        }
        let mut members: BTreeSet<&Subject> = paths.iter().flatten().map(|(g, _)| g).collect();
        members.insert(s);
        let mut because = BTreeSet::new();
        for x in members {
            if self.has_live_grant(x, r, want) && self.direct_grant(x, r, want).is_none() {
                because.extend(self.last_revoke(x, r, want));
            }
            if x != s {
                because.extend(self.first_ban(x, r, want));
            }
        }
        Verdict {
            route: None,
            because: because.into_iter().collect(),
            banned_by: None,
            omitted: 0,
        }
    }

    /// `{s}` and every group reachable from `s` through visible joins, whatever
    /// their effective time.
    fn static_closure(&self, s: &Subject) -> BTreeSet<Subject> {
        let mut seen = BTreeSet::from([s.clone()]);
        let mut stack = vec![s.clone()];
        while let Some(x) = stack.pop() {
            for e in &self.visible {
                if let Event::Join { member, group, .. } = e.body() {
                    if member == &x && seen.insert(group.clone()) {
                        stack.push(group.clone());
                    }
                }
            }
        }
        seen
    }

    /// The resources and named rights of the visible grants and revokes of
    /// `s` and its static closure.
    fn relevant(&self, s: &Subject) -> (BTreeSet<Resource>, BTreeSet<Right>) {
        let closure = self.static_closure(s);
        let mut resources = BTreeSet::new();
        let mut named = BTreeSet::new();
        for e in &self.visible {
            let (subject, resource, rights) = match e.body() {
                Event::Grant {
                    subject,
                    resource,
                    rights,
                    ..
                } => (subject, resource, Some(rights)),
                Event::Revoke {
                    subject,
                    resource,
                    rights,
                    ..
                } => (subject, resource, rights.as_ref()),
                _ => continue,
            };
            if closure.contains(subject) {
                resources.insert(resource.clone());
                named.extend(
                    rights
                        .into_iter()
                        .flat_map(|r| r.iter())
                        .filter(|x| !x.is_wildcard())
                        .cloned(),
                );
            }
        }
        (resources, named)
    }

    /// Exposure: extends `steps` (ending at some subject that holds `rights`
    /// of `r`) along memberships and shares, recording the paths that reach `s`.
    fn walk(
        &self,
        s: &Subject,
        r: &Resource,
        steps: Vec<ExposureStep>,
        rights: RightSet,
        out: &mut Vec<ExposurePath>,
    ) {
        let node = &steps[steps.len() - 1].subject;
        if node == s {
            out.push(ExposurePath {
                kind: path_kind(&steps),
                steps,
                rights,
                banned: vec![],
            });
            return;
        }
        let on_path = |x: &Subject| steps.iter().any(|st| &st.subject == x);
        let mut edges: Vec<(ExposureStep, RightSet)> = Vec::new();
        let members: BTreeSet<&Subject> = self
            .counting()
            .filter_map(|c| match c.body {
                Event::Join { member, group, .. } if group == node => Some(member),
                _ => None,
            })
            .collect();
        for m in members {
            if let Some(j) = self.membership(m, node) {
                edges.push((
                    ExposureStep {
                        seq: j,
                        kind: StepKind::Join,
                        subject: m.clone(),
                    },
                    RightSet::all(),
                ));
            }
        }
        for c in self.counting() {
            if let Event::Share {
                from,
                to,
                resource,
                rights: hr,
                until,
                ..
            } = c.body
            {
                if from != node || !resource.covers(r) || !self.live(*until) {
                    continue;
                }
                let hs = self.less_later(&c, hr, |u| match u {
                    Event::Unshare {
                        from: uf,
                        to: ut,
                        resource: ur,
                        rights: urights,
                        ..
                    } if uf == from && ut == to && ur.covers(r) => Some(urights.as_ref()),
                    _ => None,
                });
                edges.push((
                    ExposureStep {
                        seq: c.seq,
                        kind: StepKind::Share,
                        subject: to.clone(),
                    },
                    hs,
                ));
            }
        }
        for (step, er) in edges {
            if on_path(&step.subject) {
                continue;
            }
            let next = rights.intersect(&er);
            if next.is_empty() {
                continue;
            }
            let mut st = steps.clone();
            st.push(step);
            self.walk(s, r, st, next, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::answer::PathKind;
    use crate::query::test_log::{entries, r, right, s, scenario, t};

    #[test]
    fn check_follows_grants_groups_revokes_and_bans() {
        let log = entries(scenario());
        let p = Projection::new(&log);
        let (at, k) = (t(10), t(10));
        let d = p
            .check(&s("agency:a"), &r("db/t"), &right("read"), at, k)
            .unwrap();
        assert_eq!(
            (d.route, d.because),
            (Some(Route::Group(s("group:g"))), vec![1, 2])
        );
        let d = p
            .check(&s("agency:b"), &r("db/t"), &right("read"), at, k)
            .unwrap();
        assert_eq!((d.route, d.because), (Some(Route::Direct), vec![3]));
        let d = p
            .check(&s("agency:b"), &r("db/t"), &right("write"), at, k)
            .unwrap();
        assert_eq!((d.allowed, d.because, d.banned_by), (false, vec![4], None));
        let d = p
            .check(&s("agency:c"), &r("db/t"), &right("read"), at, k)
            .unwrap();
        assert_eq!(
            (d.allowed, d.because, d.banned_by),
            (false, vec![6], Some(6))
        );
    }

    #[test]
    fn knowledge_time_hides_later_entries() {
        let log = entries(scenario());
        let p = Projection::new(&log);
        // At hour 0 only the group's grant is known, not the join.
        let d = p
            .check(&s("agency:a"), &r("db"), &right("read"), t(10), t(0))
            .unwrap();
        assert_eq!((d.allowed, d.because), (false, vec![]));
    }

    #[test]
    fn who_can_lists_every_subject_with_access() {
        let log = entries(scenario());
        let who = Projection::new(&log)
            .who_can(&r("db/t"), &right("read"), t(10), t(10))
            .unwrap();
        let names: Vec<&str> = who.iter().map(|a| a.subject.as_str()).collect();
        assert_eq!(names, ["agency:a", "agency:b", "group:g"]);
    }

    #[test]
    fn exposure_follows_a_share_with_the_rights_left() {
        let log = entries(scenario());
        let paths = Projection::new(&log)
            .exposure(&s("agency:d"), &r("db/t"), t(10), t(10))
            .unwrap();
        assert_eq!(paths.len(), 1);
        let seqs: Vec<u64> = paths[0].steps.iter().map(|x| x.seq).collect();
        assert_eq!((paths[0].kind, seqs), (PathKind::Share, vec![3, 7]));
        assert_eq!(paths[0].rights, RightSet::Only([right("read")].into()));
    }

    #[test]
    fn history_is_ordered_by_effective_time() {
        let log = entries(scenario());
        let items = Projection::new(&log)
            .history(&HistoryOf::Subject(s("agency:b")), t(10), t(10))
            .unwrap();
        let seqs: Vec<u64> = items.iter().map(|i| i.seq).collect();
        assert_eq!(seqs, [3, 4, 7]);
        assert!(items.iter().all(|i| i.signer.as_str() == "admin"));
    }

    #[test]
    fn malformed_questions_are_refused() {
        let log = entries(scenario());
        let p = Projection::new(&log);
        let e = p.check(&s("agency:a"), &r("db"), &right("*"), t(1), t(1));
        assert!(matches!(e, Err(QueryError::WildcardRight)));
        let e = p.changes(t(5), t(5), t(10));
        assert!(matches!(e, Err(QueryError::EmptyPeriod { .. })));
    }
}
