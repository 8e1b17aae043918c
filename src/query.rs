//! Indexed queries: the answers of [`crate::Projection`], read from indexes
//! kept in the store instead of a replay of the log.
//!
//! [`index_entry`] writes the index records of one admitted entry into the
//! same [`Pending`] batch as the entry itself, so an entry and its index
//! records become durable together. It only writes (it never reads), so it
//! works for any number of entries per batch, and its output is a function of
//! the entry alone: [`rebuild_check`] replays the entries into memory and
//! compares. [`Queries`] answers `check`, `who-can`, `what-can`, `exposure`,
//! `history` and `changes` from the indexes; docs/SEMANTICS.md defines the
//! answers, and `tests/query_differential.rs` holds them equal to the naive
//! evaluator's on random logs.
//!
//! # Index layout
//!
//! Every key starts with [`INDEX_PREFIX`] (`X`) and a second byte naming its
//! space. Names (subjects, resources) are written as their UTF-8 bytes and a
//! `0x00` terminator: identifiers never contain `0x00`, so `agency:ice\0` is
//! never a prefix of `agency:ice2\0`, and terminated names sort as the names
//! do. `seq` is a u64, big endian. A time (`eff` = effective_at, `until`,
//! `rec` = recorded_at) is its i64 microseconds with the sign bit flipped, big
//! endian, so that byte order is time order; `eff seq` thus sorts in the
//! semantic order `(effective_at, seq)`.
//!
//! ```text
//! X g subject\0 resource\0 eff seq        -> rule    grants, revokes, bans of a subject
//! X r resource\0 subject\0 eff seq        -> rule    the same, by resource (who-can)
//! X m member\0 group\0 eff seq            -> 00 join | 01 leave   (a member's groups)
//! X M group\0 member\0 eff seq            -> 00 join | 01 leave   (a group's members)
//! X s to\0 resource\0 from\0 eff seq      -> rule    shares and unshares, by recipient
//! X h subject\0 eff seq                   -> (empty) every access event naming the subject
//! X H resource\0 eff seq                  -> (empty) every access event naming the resource
//! X t eff seq                             -> (empty) every access event, by effective time
//! X u until seq                           -> (empty) every grant with an `until`
//! X a key                                 -> authority name (32-byte ed25519 key; genesis, authority_add)
//! X k rec                                 -> seq     the last entry recorded at `rec`
//!
//! rule = kind u8 (0 grant, 1 revoke, 2 ban, 3 share, 4 unshare)
//!        until: 00 | 01 time           (grants and shares)
//!        rights: 00 (all) | 01 n:u8 then n times (len:u8, bytes)   (canonical order)
//! ```
//!
//! Knowledge time: entries are recorded in non-decreasing `recorded_at`, so
//! the entries known at `K` are exactly seqs `0..=k` where `k` is the value of
//! the last `X k` key at or before `K`. Every query first finds `k` (one
//! seek) and then ignores index records with a larger seq.
//!
//! Cost: `check` reads, for the subject and each group it belongs to at `T`
//! (directly or through nested groups), one `X m` scan (its memberships) and
//! one `X g` scan (its rules under the resource's first segment); it never
//! reads an entry. So it costs two seeks per subject of the membership
//! closure, plus the records read. `who-can` instead reads one `X r` scan per
//! ancestor of the resource (every subject's covering rules at once), one `X M`
//! scan per group that holds the right, and one `X m` scan per candidate.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::rc::Rc;

use crate::entry::Entry;
use crate::event::Event;
use crate::ident::{AuthorityName, Resource, Right, Rights, Subject};
use crate::projection::{
    path_kind, require_named, sort_paths, Access, Change, Decision, ExposurePath, ExposureStep,
    HeldRight, HistoryItem, HistoryOf, Holding, RightSet, Route, StepKind, Verdict, Want,
    MAX_EXPOSURE_STEPS,
};
use crate::store::{Pending, Store, StoreError, INDEX_PREFIX};
use crate::time::Timestamp;

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

const GRANTS: u8 = b'g';
const BY_RESOURCE: u8 = b'r';
const MEMBER_OF: u8 = b'm';
const MEMBERS: u8 = b'M';
const SHARES_TO: u8 = b's';
const SUBJECT_LOG: u8 = b'h';
const RESOURCE_LOG: u8 = b'H';
const TIMELINE: u8 = b't';
const EXPIRIES: u8 = b'u';
const SIGNERS: u8 = b'a';
const KNOWN: u8 = b'k';

const JOIN: u8 = 0;
const LEAVE: u8 = 1;

/// Length of the `eff seq` (or `time seq`) tail of a key.
const TAIL: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Grant = 0,
    Revoke = 1,
    Ban = 2,
    Share = 3,
    Unshare = 4,
}

impl Kind {
    fn from_byte(b: u8) -> Option<Kind> {
        Some(match b {
            0 => Kind::Grant,
            1 => Kind::Revoke,
            2 => Kind::Ban,
            3 => Kind::Share,
            4 => Kind::Unshare,
            _ => return None,
        })
    }
}

/// A decoded `rule` record with its key's time and seq.
#[derive(Debug, Clone)]
struct Rule {
    eff: Timestamp,
    seq: u64,
    kind: Kind,
    until: Option<Timestamp>,
    rights: Option<Rights>,
}

fn time_bytes(t: Timestamp) -> [u8; 8] {
    ((t.as_micros() as u64) ^ (1 << 63)).to_be_bytes()
}

fn time_from(b: [u8; 8]) -> Timestamp {
    Timestamp::from_micros((u64::from_be_bytes(b) ^ (1 << 63)) as i64)
}

/// An index key under construction.
struct Key(Vec<u8>);

impl Key {
    fn new(space: u8) -> Key {
        let mut v = Vec::with_capacity(64);
        v.push(INDEX_PREFIX);
        v.push(space);
        Key(v)
    }
    fn name(mut self, s: &str) -> Key {
        self.0.extend_from_slice(s.as_bytes());
        self.0.push(0);
        self
    }
    fn time(mut self, t: Timestamp) -> Key {
        self.0.extend_from_slice(&time_bytes(t));
        self
    }
    fn seq(mut self, seq: u64) -> Key {
        self.0.extend_from_slice(&seq.to_be_bytes());
        self
    }
}

/// The `(time, seq)` tail of a key.
fn tail(key: &[u8]) -> Option<(Timestamp, u64)> {
    let n = key.len().checked_sub(TAIL)?;
    let t = <[u8; 8]>::try_from(&key[n..n + 8]).ok()?;
    let s = <[u8; 8]>::try_from(&key[n + 8..]).ok()?;
    Some((time_from(t), u64::from_be_bytes(s)))
}

fn encode_rule(kind: Kind, until: Option<Timestamp>, rights: Option<&Rights>) -> Vec<u8> {
    let mut v = vec![kind as u8];
    match until {
        None => v.push(0),
        Some(u) => {
            v.push(1);
            v.extend_from_slice(&time_bytes(u));
        }
    }
    match rights {
        None => v.push(0),
        Some(r) => {
            v.push(1);
            let items: Vec<&Right> = r.iter().collect();
            // A rights set has at most MAX_RIGHTS (32) members of at most 64 bytes.
            v.push(items.len() as u8);
            for x in items {
                v.push(x.as_str().len() as u8);
                v.extend_from_slice(x.as_str().as_bytes());
            }
        }
    }
    v
}

fn decode_rule(v: &[u8], eff: Timestamp, seq: u64) -> Option<Rule> {
    let kind = Kind::from_byte(*v.first()?)?;
    let mut i = 1;
    let until = match *v.get(i)? {
        0 => {
            i += 1;
            None
        }
        1 => {
            let b = <[u8; 8]>::try_from(v.get(i + 1..i + 9)?).ok()?;
            i += 9;
            Some(time_from(b))
        }
        _ => return None,
    };
    let rights = match *v.get(i)? {
        0 => {
            i += 1;
            None
        }
        1 => {
            let n = *v.get(i + 1)? as usize;
            i += 2;
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                let len = *v.get(i)? as usize;
                let s = std::str::from_utf8(v.get(i + 1..i + 1 + len)?).ok()?;
                items.push(Right::new(s).ok()?);
                i += 1 + len;
            }
            Some(Rights::new(items).ok()?)
        }
        _ => return None,
    };
    (i == v.len()).then_some(Rule {
        eff,
        seq,
        kind,
        until,
        rights,
    })
}

fn subject_from(b: &[u8]) -> Option<Subject> {
    Subject::new(std::str::from_utf8(b).ok()?).ok()
}

fn resource_from(b: &[u8]) -> Option<Resource> {
    Resource::new(std::str::from_utf8(b).ok()?).ok()
}

/// Where index records go: a [`Pending`] batch, or memory (for [`rebuild_check`]).
trait IndexSink {
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>);
}

impl IndexSink for Pending<'_> {
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        Pending::put(self, key, value);
    }
}

impl IndexSink for BTreeMap<Vec<u8>, Vec<u8>> {
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.insert(key, value);
    }
}

/// Writes the index records of `e` into `p`.
///
/// The caller MUST call this once for every admitted entry, in seq order, in
/// the same batch that stores the entry, so that the indexes always describe
/// exactly the stored entries. Only writes: earlier entries of the same batch
/// need not be visible.
pub(crate) fn index_entry(p: &mut Pending<'_>, e: &Entry) -> Result<(), StoreError> {
    write_index(p, e);
    Ok(())
}

fn write_index(sink: &mut impl IndexSink, e: &Entry) {
    let seq = e.seq();
    // Later entries with the same recorded_at overwrite this: the value is the last one.
    sink.put(
        Key::new(KNOWN).time(e.recorded_at()).0,
        seq.to_be_bytes().to_vec(),
    );
    let body = e.body();
    match body {
        Event::Genesis { authority, key, .. }
        | Event::AuthorityAdd {
            name: authority,
            key,
            ..
        } => {
            let mut k = Key::new(SIGNERS).0;
            k.extend_from_slice(key.as_bytes());
            sink.put(k, authority.as_str().as_bytes().to_vec());
        }
        Event::AuthorityRetire { .. } => {}
        Event::Grant {
            subject,
            resource,
            rights,
            effective_at,
            until,
            ..
        } => {
            let v = encode_rule(Kind::Grant, *until, Some(rights));
            put_rule(sink, subject, resource, *effective_at, seq, v);
            if let Some(u) = until {
                sink.put(Key::new(EXPIRIES).time(*u).seq(seq).0, vec![]);
            }
        }
        Event::Revoke {
            subject,
            resource,
            rights,
            effective_at,
            permanent,
            ..
        } => {
            let kind = if *permanent { Kind::Ban } else { Kind::Revoke };
            let v = encode_rule(kind, None, rights.as_ref());
            put_rule(sink, subject, resource, *effective_at, seq, v);
        }
        Event::Join {
            member,
            group,
            effective_at,
        }
        | Event::Leave {
            member,
            group,
            effective_at,
        } => {
            let v = if matches!(body, Event::Join { .. }) {
                JOIN
            } else {
                LEAVE
            };
            let t = *effective_at;
            sink.put(
                Key::new(MEMBER_OF)
                    .name(member.as_str())
                    .name(group.as_str())
                    .time(t)
                    .seq(seq)
                    .0,
                vec![v],
            );
            sink.put(
                Key::new(MEMBERS)
                    .name(group.as_str())
                    .name(member.as_str())
                    .time(t)
                    .seq(seq)
                    .0,
                vec![v],
            );
        }
        Event::Share {
            from,
            to,
            resource,
            rights,
            effective_at,
            until,
            ..
        } => {
            let v = encode_rule(Kind::Share, *until, Some(rights));
            let k = Key::new(SHARES_TO)
                .name(to.as_str())
                .name(resource.as_str())
                .name(from.as_str());
            sink.put(k.time(*effective_at).seq(seq).0, v);
        }
        Event::Unshare {
            from,
            to,
            resource,
            rights,
            effective_at,
            ..
        } => {
            let v = encode_rule(Kind::Unshare, None, rights.as_ref());
            let k = Key::new(SHARES_TO)
                .name(to.as_str())
                .name(resource.as_str())
                .name(from.as_str());
            sink.put(k.time(*effective_at).seq(seq).0, v);
        }
    }
    if let Some(eff) = body.effective_at() {
        sink.put(Key::new(TIMELINE).time(eff).seq(seq).0, vec![]);
        let subjects: BTreeSet<&Subject> = body.subjects().into_iter().collect();
        for s in subjects {
            sink.put(
                Key::new(SUBJECT_LOG).name(s.as_str()).time(eff).seq(seq).0,
                vec![],
            );
        }
        if let Some(r) = body.resource() {
            sink.put(
                Key::new(RESOURCE_LOG).name(r.as_str()).time(eff).seq(seq).0,
                vec![],
            );
        }
    }
}

fn put_rule(
    sink: &mut impl IndexSink,
    s: &Subject,
    r: &Resource,
    eff: Timestamp,
    seq: u64,
    v: Vec<u8>,
) {
    sink.put(
        Key::new(GRANTS)
            .name(s.as_str())
            .name(r.as_str())
            .time(eff)
            .seq(seq)
            .0,
        v.clone(),
    );
    sink.put(
        Key::new(BY_RESOURCE)
            .name(r.as_str())
            .name(s.as_str())
            .time(eff)
            .seq(seq)
            .0,
        v,
    );
}

/// Live shares into a subject: `(from, seq, rights left)`.
type Shares = Rc<[(Subject, u64, RightSet)]>;

/// Whether a grant or share with this `until` is live at `at` (rule 3: `until` is exclusive).
fn live(until: Option<Timestamp>, at: Timestamp) -> bool {
    match until {
        None => true,
        Some(u) => at < u,
    }
}

/// What the rules of one subject say about one (resource, right) at `T`.
#[derive(Debug, Clone, Copy, Default)]
struct NodeState {
    first_ban: Option<u64>,
    last_revoke: Option<u64>,
    direct_grant: Option<u64>,
    live_grant: bool,
}

fn node_state(rules: &[Rule], want: &Want, at: Timestamp) -> NodeState {
    let mut st = NodeState::default();
    // `rules` are ordered by (effective_at, seq): the candidate grant is reset
    // by every revoke, so what is left is the latest grant after the last revoke.
    for r in rules {
        match r.kind {
            Kind::Ban if st.first_ban.is_none() && want.withdrawn_by(r.rights.as_ref()) => {
                st.first_ban = Some(r.seq);
            }
            Kind::Revoke if want.withdrawn_by(r.rights.as_ref()) => {
                st.last_revoke = Some(r.seq);
                st.direct_grant = None;
            }
            Kind::Grant
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
struct Eval<'s> {
    store: &'s Store,
    at: Timestamp,
    kseq: Option<u64>,
    rules: HashMap<Resource, HashMap<Subject, Rc<[Rule]>>>,
    ups: HashMap<Subject, Rc<[(Subject, u64)]>>,
    shares: HashMap<(Subject, Resource), Shares>,
    /// When set, `rules` holds every subject with a rule covering this
    /// resource: any other subject has none, without a scan.
    complete: Option<Resource>,
}

impl<'s> Eval<'s> {
    fn new(store: &'s Store, at: Timestamp, kseq: Option<u64>) -> Self {
        Eval {
            store,
            at,
            kseq,
            rules: HashMap::new(),
            ups: HashMap::new(),
            shares: HashMap::new(),
            complete: None,
        }
    }

    fn visible(&self, seq: u64) -> bool {
        self.kseq.is_some_and(|k| seq <= k)
    }

    fn damaged(&self, key: &[u8]) -> StoreError {
        self.store
            .damaged(format!("index record {key:02x?} does not decode"))
    }

    /// The counting grants, revokes and bans of `x` that cover `r` (on `r` or
    /// an ancestor), ordered by (effective_at, seq).
    fn rules(&mut self, x: &Subject, r: &Resource) -> Result<Rc<[Rule]>, StoreError> {
        if let Some(v) = self.rules.get(r).and_then(|m| m.get(x)) {
            return Ok(v.clone());
        }
        if self.complete.as_ref() == Some(r) {
            return Ok(Rc::from([]));
        }
        // Every covering rule is on an ancestor of `r`, and every ancestor
        // starts with r's first segment: one prefix scan (the segment without
        // its terminator) finds them all, and the ancestors are picked out by name.
        let mut prefix = Key::new(GRANTS).name(x.as_str()).0;
        let plen = prefix.len();
        let root = r.as_str().split('/').next().unwrap_or_default();
        prefix.extend_from_slice(root.as_bytes());
        let target = r.as_str().as_bytes();
        let mut out = Vec::new();
        for kv in self.store.scan_prefix(&prefix) {
            let (k, v) = kv?;
            let (eff, seq) = tail(&k).ok_or_else(|| self.damaged(&k))?;
            let name = k
                .get(plen..k.len() - TAIL - 1)
                .ok_or_else(|| self.damaged(&k))?;
            let ancestor = target.starts_with(name)
                && (target.len() == name.len() || target[name.len()] == b'/');
            if !ancestor || !self.visible(seq) || eff > self.at {
                continue;
            }
            out.push(decode_rule(&v, eff, seq).ok_or_else(|| self.damaged(&k))?);
        }
        out.sort_by_key(|r| (r.eff, r.seq));
        let out: Rc<[Rule]> = out.into();
        self.rules
            .entry(r.clone())
            .or_default()
            .insert(x.clone(), out.clone());
        Ok(out)
    }

    fn state(&mut self, x: &Subject, r: &Resource, want: &Want) -> Result<NodeState, StoreError> {
        let rules = self.rules(x, r)?;
        Ok(node_state(&rules, want, self.at))
    }

    /// The last counting event of each `(prefix, name)` run in a membership
    /// space: `(name, join?, seq)`, sorted by name.
    fn memberships(&self, space: u8, x: &Subject) -> Result<Vec<(Subject, u64)>, StoreError> {
        let prefix = Key::new(space).name(x.as_str()).0;
        let mut last: Vec<(Vec<u8>, u8, u64)> = Vec::new();
        for kv in self.store.scan_prefix(&prefix) {
            let (k, v) = kv?;
            let (eff, seq) = tail(&k).ok_or_else(|| self.damaged(&k))?;
            let name = k
                .get(prefix.len()..k.len() - TAIL - 1)
                .ok_or_else(|| self.damaged(&k))?;
            let kind = *v.first().ok_or_else(|| self.damaged(&k))?;
            if !self.visible(seq) || eff > self.at {
                continue;
            }
            match last.last_mut() {
                Some(l) if l.0 == name => {
                    l.1 = kind;
                    l.2 = seq;
                }
                _ => last.push((name.to_vec(), kind, seq)),
            }
        }
        let mut out = Vec::new();
        for (name, kind, seq) in last {
            if kind == JOIN {
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
    fn members(&self, g: &Subject) -> Result<Vec<(Subject, u64)>, StoreError> {
        self.memberships(MEMBERS, g)
    }

    /// The groups reachable from `x` through visible joins of any time
    /// (`only_groups`), or the subjects reaching `x` (members, recursively).
    fn static_closure(&self, x: &Subject, space: u8) -> Result<BTreeSet<Subject>, StoreError> {
        let mut seen = BTreeSet::from([x.clone()]);
        let mut stack = vec![x.clone()];
        while let Some(n) = stack.pop() {
            let prefix = Key::new(space).name(n.as_str()).0;
            let mut prev: Option<Vec<u8>> = None;
            for kv in self.store.scan_prefix(&prefix) {
                let (k, _) = kv?;
                let (_, seq) = tail(&k).ok_or_else(|| self.damaged(&k))?;
                let name = k
                    .get(prefix.len()..k.len() - TAIL - 1)
                    .ok_or_else(|| self.damaged(&k))?;
                if !self.visible(seq) || prev.as_deref() == Some(name) {
                    continue;
                }
                prev = Some(name.to_vec());
                let s = subject_from(name).ok_or_else(|| self.damaged(&k))?;
                if seen.insert(s.clone()) {
                    stack.push(s);
                }
            }
        }
        Ok(seen)
    }

    /// The decision for `(s, r, want)`; see docs/SEMANTICS.md, rules 4 to 8.
    fn decide(&mut self, s: &Subject, r: &Resource, want: &Want) -> Result<Verdict, StoreError> {
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
        let rules = self.rules(x, r)?;
        let mut out = Vec::new();
        for (i, g) in rules.iter().enumerate() {
            if g.kind != Kind::Grant || !live(g.until, self.at) {
                continue;
            }
            let mut rs = RightSet::of(g.rights.as_ref());
            for v in &rules[i + 1..] {
                if v.kind == Kind::Revoke {
                    rs = rs.minus(&RightSet::of(v.rights.as_ref()));
                }
            }
            if !rs.is_empty() {
                out.push((g.seq, rs));
            }
        }
        Ok(out)
    }

    /// The live shares into `to` covering `r`, as `(from, seq, rights left
    /// after later unshares)` (never empty).
    fn shares_into(&mut self, to: &Subject, r: &Resource) -> Result<Shares, StoreError> {
        let ck = (to.clone(), r.clone());
        if let Some(v) = self.shares.get(&ck) {
            return Ok(v.clone());
        }
        let mut by_from: BTreeMap<Vec<u8>, Vec<Rule>> = BTreeMap::new();
        for a in r.self_and_ancestors() {
            let from = Key::new(SHARES_TO).name(to.as_str()).name(a.as_str());
            let plen = from.0.len();
            for kv in self.store.scan_prefix(&from.0) {
                let (k, v) = kv?;
                let (eff, seq) = tail(&k).ok_or_else(|| self.damaged(&k))?;
                if !self.visible(seq) || eff > self.at {
                    continue;
                }
                let name = k
                    .get(plen..k.len() - TAIL - 1)
                    .ok_or_else(|| self.damaged(&k))?;
                let rule = decode_rule(&v, eff, seq).ok_or_else(|| self.damaged(&k))?;
                by_from.entry(name.to_vec()).or_default().push(rule);
            }
        }
        let mut out = Vec::new();
        for (name, mut rules) in by_from {
            let from = subject_from(&name).ok_or_else(|| self.damaged(&name))?;
            rules.sort_by_key(|r| (r.eff, r.seq));
            for (i, h) in rules.iter().enumerate() {
                if h.kind != Kind::Share || !live(h.until, self.at) {
                    continue;
                }
                let mut rs = RightSet::of(h.rights.as_ref());
                for u in &rules[i + 1..] {
                    if u.kind == Kind::Unshare {
                        rs = rs.minus(&RightSet::of(u.rights.as_ref()));
                    }
                }
                if !rs.is_empty() {
                    out.push((from.clone(), h.seq, rs));
                }
            }
        }
        let out: Shares = out.into();
        self.shares.insert(ck, out.clone());
        Ok(out)
    }

    /// Exposure, walking backwards from the subject: `node` is where the data
    /// must come from, `suffix` the steps from `node` to the subject.
    fn exposure_walk(
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
        for (g, j) in self.ups(node)?.iter() {
            if on_path.contains(g) {
                continue;
            }
            suffix.push(ExposureStep {
                seq: *j,
                kind: StepKind::Join,
                subject: node.clone(),
            });
            on_path.push(g.clone());
            self.exposure_walk(r, g, suffix, on_path, rights, out)?;
            on_path.pop();
            suffix.pop();
        }
        for (from, h, hr) in self.shares_into(node, r)?.iter() {
            if on_path.contains(from) {
                continue;
            }
            let next = rights.intersect(hr);
            if next.is_empty() {
                continue;
            }
            suffix.push(ExposureStep {
                seq: *h,
                kind: StepKind::Share,
                subject: node.clone(),
            });
            on_path.push(from.clone());
            self.exposure_walk(r, from, suffix, on_path, &next, out)?;
            on_path.pop();
            suffix.pop();
        }
        Ok(())
    }

    /// The resources and named rights of the visible grants and revokes of the
    /// subjects in `closure` (any effective time).
    fn relevant(
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
                let (eff, seq) = tail(&k).ok_or_else(|| self.damaged(&k))?;
                if !self.visible(seq) {
                    continue;
                }
                let name = k
                    .get(prefix.len()..k.len() - TAIL - 1)
                    .ok_or_else(|| self.damaged(&k))?;
                if prev.as_deref() != Some(name) {
                    resources.insert(resource_from(name).ok_or_else(|| self.damaged(&k))?);
                    prev = Some(name.to_vec());
                }
                let rule = decode_rule(&v, eff, seq).ok_or_else(|| self.damaged(&k))?;
                named.extend(
                    rule.rights
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

/// The outcome of [`rebuild_check`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexReport {
    /// Entries replayed.
    pub entries: u64,
    /// Index keys a replay produces.
    pub expected_keys: u64,
    /// Keys a replay produces that the store lacks.
    pub missing: u64,
    /// Stored index keys that a replay does not produce.
    pub extra: u64,
    /// Keys present in both with different values.
    pub differing: u64,
    /// The first problem found, for people.
    pub first_problem: Option<String>,
}

impl IndexReport {
    /// Whether the stored indexes are exactly those of a replay.
    pub fn is_consistent(&self) -> bool {
        self.missing == 0 && self.extra == 0 && self.differing == 0
    }
}

/// `rebuild --check`: replays every stored entry into fresh index records (in
/// memory) and compares them with the stored `X` keys.
///
/// Memory grows with the number of index records (about ten per entry).
pub fn rebuild_check(store: &Store) -> Result<IndexReport, StoreError> {
    let mut fresh: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    let mut report = IndexReport::default();
    for item in store.entries(0) {
        let (seq, bytes) = item?;
        let e =
            Entry::decode(&bytes).map_err(|err| store.damaged(format!("entry {seq}: {err}")))?;
        write_index(&mut fresh, &e);
        report.entries += 1;
    }
    report.expected_keys = fresh.len() as u64;
    let note = |report: &mut IndexReport, what: String| {
        if report.first_problem.is_none() {
            report.first_problem = Some(what);
        }
    };
    let mut expected = fresh.into_iter().peekable();
    for kv in store.scan_prefix(&[INDEX_PREFIX]) {
        let (k, v) = kv?;
        while let Some((ek, _)) = expected.next_if(|(ek, _)| ek < &k) {
            report.missing += 1;
            note(&mut report, format!("missing index key {ek:02x?}"));
        }
        match expected.next_if(|(ek, _)| ek == &k) {
            Some((_, ev)) if ev == v => {}
            Some(_) => {
                report.differing += 1;
                note(
                    &mut report,
                    format!("index key {k:02x?} has a different value"),
                );
            }
            None => {
                report.extra += 1;
                note(&mut report, format!("unexpected index key {k:02x?}"));
            }
        }
    }
    for (ek, _) in expected {
        report.missing += 1;
        note(&mut report, format!("missing index key {ek:02x?}"));
    }
    Ok(report)
}

/// Queries answered from the indexes of a store; see the module docs.
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
        let from = Key::new(KNOWN).0;
        let mut to = Key::new(KNOWN).time(known_at).0;
        to.push(0);
        match self.store.range(&from, &to).next_back() {
            None => Ok(None),
            Some(kv) => {
                let (k, v) = kv?;
                let seq = <[u8; 8]>::try_from(v.as_slice()).map_err(|_| {
                    self.store
                        .damaged(format!("index record {k:02x?} does not decode"))
                })?;
                Ok(Some(u64::from_be_bytes(seq)))
            }
        }
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
        let v = ev.decide(subject, resource, &want)?;
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
        // The same scans give every subject's covering rules, so the checks
        // below read no `X g` range.
        let mut rules: BTreeMap<Subject, Vec<Rule>> = BTreeMap::new();
        let mut candidates: BTreeSet<Subject> = BTreeSet::new();
        for a in resource.self_and_ancestors() {
            let prefix = Key::new(BY_RESOURCE).name(a.as_str()).0;
            for kv in self.store.scan_prefix(&prefix) {
                let (k, v) = kv?;
                let (eff, seq) = tail(&k).ok_or_else(|| ev.damaged(&k))?;
                if !ev.visible(seq) || eff > at {
                    continue;
                }
                let rule = decode_rule(&v, eff, seq).ok_or_else(|| ev.damaged(&k))?;
                let name = k
                    .get(prefix.len()..k.len() - TAIL - 1)
                    .ok_or_else(|| ev.damaged(&k))?;
                let subject = subject_from(name).ok_or_else(|| ev.damaged(&k))?;
                if rule.kind == Kind::Grant
                    && rule.rights.as_ref().is_some_and(|x| want.granted_by(x))
                {
                    candidates.insert(subject.clone());
                }
                rules.entry(subject).or_default().push(rule);
            }
        }
        let primed = ev.rules.entry(resource.clone()).or_default();
        for (subject, mut list) in rules {
            list.sort_by_key(|r| (r.eff, r.seq));
            primed.insert(subject, list.into());
        }
        ev.complete = Some(resource.clone());
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
            let v = ev.decide(&s, resource, &want)?;
            if let Some(route) = v.route {
                out.push(Access {
                    subject: s,
                    route,
                    because: v.because,
                });
            }
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
        let mut ev = self.eval(at, known_at)?;
        let closure = ev.static_closure(subject, MEMBER_OF)?;
        let (resources, named) = ev.relevant(&closure)?;
        let mut rows: BTreeMap<Resource, Vec<HeldRight>> = BTreeMap::new();
        for r in &resources {
            let mut held = Vec::new();
            let mut except = Vec::new();
            for y in &named {
                let v = ev.decide(subject, r, &Want::Named(y.clone()))?;
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
            let v = ev.decide(subject, r, &Want::Unnamed)?;
            if let Some(route) = v.route {
                held.push(HeldRight {
                    right: Want::Unnamed.to_right(),
                    except,
                    route,
                    because: v.because,
                });
            }
            rows.insert(r.clone(), held);
        }
        // Keep a resource where something is held, here or at a listed ancestor.
        let holding: Vec<Resource> = rows
            .iter()
            .filter(|(_, h)| !h.is_empty())
            .map(|(r, _)| r.clone())
            .collect();
        Ok(rows
            .into_iter()
            .filter(|(r, _)| holding.iter().any(|a| a.covers(r)))
            .map(|(resource, rights)| Holding { resource, rights })
            .collect())
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
        let mut paths = Vec::new();
        let mut on_path = vec![subject.clone()];
        ev.exposure_walk(
            resource,
            subject,
            &mut Vec::new(),
            &mut on_path,
            &RightSet::all(),
            &mut paths,
        )?;
        for p in &mut paths {
            let mut banned = BTreeSet::new();
            for step in &p.steps {
                for rule in ev.rules(&step.subject, resource)?.iter() {
                    if rule.kind == Kind::Ban
                        && !RightSet::of(rule.rights.as_ref())
                            .intersect(&p.rights)
                            .is_empty()
                    {
                        banned.insert(rule.seq);
                    }
                }
            }
            p.banned = banned.into_iter().collect();
        }
        sort_paths(&mut paths);
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
        let ev = self.eval(at, known_at)?;
        let mut found: Vec<(Timestamp, u64)> = Vec::new();
        let mut collect =
            |prefix: Vec<u8>, filter: &dyn Fn(&[u8]) -> bool| -> Result<(), QueryError> {
                for kv in self.store.scan_prefix(&prefix) {
                    let (k, _) = kv?;
                    let (eff, seq) = tail(&k).ok_or_else(|| ev.damaged(&k))?;
                    let name = k.get(2..k.len() - TAIL - 1).ok_or_else(|| ev.damaged(&k))?;
                    if ev.visible(seq) && eff <= at && filter(name) {
                        found.push((eff, seq));
                    }
                }
                Ok(())
            };
        match of {
            HistoryOf::Subject(s) => collect(Key::new(SUBJECT_LOG).name(s.as_str()).0, &|_| true)?,
            HistoryOf::Resource(r) => {
                for a in r.self_and_ancestors().skip(1) {
                    collect(Key::new(RESOURCE_LOG).name(a.as_str()).0, &|_| true)?;
                }
                let mut prefix = Key::new(RESOURCE_LOG).0;
                prefix.extend_from_slice(r.as_str().as_bytes());
                let me = r.as_str().as_bytes();
                collect(prefix, &|name| {
                    name == me || (name.starts_with(me) && name.get(me.len()) == Some(&b'/'))
                })?;
            }
        }
        found.sort();
        let mut items = Vec::with_capacity(found.len());
        for (eff, seq) in found {
            let e = self.entry(seq)?;
            let mut k = Key::new(SIGNERS).0;
            k.extend_from_slice(e.signer().as_bytes());
            let name = self
                .store
                .get(&k)?
                .ok_or(QueryError::UnknownSigner { seq })?;
            let signer = std::str::from_utf8(&name)
                .ok()
                .and_then(|n| AuthorityName::new(n).ok())
                .ok_or_else(|| ev.damaged(&k))?;
            items.push(HistoryItem {
                seq,
                recorded_at: e.recorded_at(),
                effective_at: eff,
                kind: e.body().kind(),
                summary: e.body().summary(),
                signer,
            });
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

    /// `changes`: every change of effective access at an instant in `[from, to)`,
    /// as known at `known_at`, ordered by (at, subject, resource, right).
    pub fn changes(
        &self,
        from: Timestamp,
        to: Timestamp,
        known_at: Timestamp,
    ) -> Result<Vec<Change>, QueryError> {
        if from >= to {
            return Err(QueryError::EmptyPeriod { from, to });
        }
        let kseq = self.known_seq(known_at)?;
        let probe = Eval::new(self.store, Timestamp::MAX, kseq);
        let mut instants: BTreeMap<Timestamp, BTreeSet<u64>> = BTreeMap::new();
        for space in [TIMELINE, EXPIRIES] {
            let lo = Key::new(space).time(from).0;
            let hi = Key::new(space).time(to).0;
            for kv in self.store.range(&lo, &hi) {
                let (k, _) = kv?;
                let (t, seq) = tail(&k).ok_or_else(|| probe.damaged(&k))?;
                if probe.visible(seq) {
                    instants.entry(t).or_default().insert(seq);
                }
            }
        }
        type Relevant = (BTreeSet<Subject>, BTreeSet<Resource>, Vec<Want>);
        let mut relevant: HashMap<Subject, Rc<Relevant>> = HashMap::new();
        let mut out = Vec::new();
        for (t, seqs) in instants {
            let mut events = Vec::new();
            let mut touched = BTreeSet::new();
            for seq in seqs {
                let e = self.entry(seq)?;
                touched.extend(e.body().subjects().into_iter().cloned());
                events.push(e);
            }
            let mut affected = BTreeSet::new();
            for x in &touched {
                affected.extend(probe.static_closure(x, MEMBERS)?);
            }
            let mut before = Eval::new(
                self.store,
                Timestamp::from_micros(t.as_micros().saturating_sub(1)),
                kseq,
            );
            let mut after = Eval::new(self.store, t, kseq);
            for s in &affected {
                let rel = match relevant.get(s) {
                    Some(r) => r.clone(),
                    None => {
                        let closure = probe.static_closure(s, MEMBER_OF)?;
                        let (resources, named) = probe.relevant(&closure)?;
                        let mut wants: Vec<Want> = named.into_iter().map(Want::Named).collect();
                        wants.push(Want::Unnamed);
                        let r = Rc::new((closure, resources, wants));
                        relevant.insert(s.clone(), r.clone());
                        r
                    }
                };
                let (closure, resources, wants) = &*rel;
                for r in resources {
                    for y in wants {
                        let a = before.decide(s, r, y)?.allowed();
                        let b = after.decide(s, r, y)?.allowed();
                        if a == b {
                            continue;
                        }
                        let mut seqs = Vec::new();
                        for e in &events {
                            let body = e.body();
                            let relevant = match body {
                                Event::Grant { resource, .. } | Event::Revoke { resource, .. } => {
                                    resource.covers(r)
                                }
                                Event::Join { .. } | Event::Leave { .. } => true,
                                _ => false,
                            };
                            if relevant && body.subjects().iter().any(|x| closure.contains(*x)) {
                                seqs.push(e.seq());
                            }
                        }
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
        out.sort_by(|a, b| {
            (a.at, &a.subject, &a.resource, &a.right).cmp(&(
                b.at,
                &b.subject,
                &b.resource,
                &b.right,
            ))
        });
        Ok(out)
    }
}
