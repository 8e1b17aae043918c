//! The chain rules: what makes an entry admissible at the end of a log.
//!
//! [`LedgerState`] is everything the rules need to know about a log prefix:
//! its head, its authorities, its permanent revocations (bans) and its group
//! edges. [`LedgerState::admit`] is the one place where an entry is checked:
//! appending runs it on each new entry before anything is written, and
//! `verify` runs it on every stored entry from seq 0. So a log that `verify`
//! accepts is exactly a log that could have been appended.
//!
//! The state is O(authorities + bans + membership events), never O(entries).
//!
//! Most rules judge every entry alike, stored or new. A few refuse only
//! [`Provenance::New`] input: they were added after honest ledgers holding
//! such entries had been written, and a new rule refuses new input but never
//! makes an honest old ledger fail `verify` (docs/THREAT-MODEL.md, item
//! "rules that judge new input only"). Today that is
//! [`Violation::GrantToBannedMember`]; `verify` reports what such entries
//! would have done as *held* by the ban ([`LedgerState::held_by`]).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Bound;

use bincode::{Decode, Encode};

use crate::entry::{Entry, EntryHash, SignedEntry};
use crate::event::{Event, Roles};
use crate::ident::{AuthorityName, Origin, Resource, Rights, Subject};
use crate::keys::PublicKey;
use crate::time::{Timestamp, Zone};

/// Up to this many subjects at or below a banned subject (or a grantee),
/// rule 6 finds the ones also at or below the other side by searching up
/// from each; beyond it, it lists both sides' members and intersects them.
/// Small under test, so that the unit tests take both ways.
#[cfg(not(test))]
const SMALL_CLOSURE: usize = 64;
#[cfg(test)]
const SMALL_CLOSURE: usize = 2;

/// Up to this many bans overlapping a grant, rule 6 searches between the
/// grantee and each banned subject; beyond it, it lists the grantee's members
/// once. Small under test, so that the unit tests take both ways.
#[cfg(not(test))]
const FEW_BANS: usize = 4;
#[cfg(test)]
const FEW_BANS: usize = 1;

/// A set of subjects borrowed from the rules state, hashed with a fixed seed
/// (iteration order never decides an answer; see [`LedgerState::static_closure`]).
type SubjectSet<'a> = std::collections::HashSet<&'a Subject, foldhash::fast::FixedState>;

/// Where an entry comes from, for the rules that judge only new input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provenance {
    /// Being appended now (append, import, the synthetic builder): every rule.
    New,
    /// Already in the log (verify, reindex, trusted heads): every rule except
    /// those that an earlier version did not have.
    Stored,
}

/// An entry that passed every rule at its position: it is signed, linked to
/// its predecessor, and its signer was authorised for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainedEntry(SignedEntry);

impl ChainedEntry {
    /// The entry.
    pub fn entry(&self) -> &Entry {
        &self.0
    }
}

impl std::ops::Deref for ChainedEntry {
    type Target = Entry;
    fn deref(&self) -> &Entry {
        &self.0
    }
}

/// An entry that broke a rule, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("seq {seq}: {violation}")]
pub struct ChainError {
    /// The position of the first bad entry.
    pub seq: u64,
    /// What is wrong with it.
    pub violation: Violation,
}

/// The broken invariant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Violation {
    /// The stored bytes do not decode.
    #[error("entry does not decode: {0}")]
    Encoding(crate::encoding::EncodingError),
    /// The entry's own seq is not its position.
    #[error("entry says seq {found}, expected {expected}")]
    SeqMismatch {
        /// The position.
        expected: u64,
        /// What the entry says.
        found: u64,
    },
    /// `prev_hash` is not the hash of the previous entry.
    #[error("prev_hash {found} does not match the hash of the previous entry {expected}")]
    HashMismatch {
        /// The previous entry's hash.
        expected: EntryHash,
        /// What the entry says.
        found: EntryHash,
    },
    /// The signature does not verify for this ledger.
    #[error("signature does not verify (altered entry, or an entry from another ledger)")]
    BadSignature,
    /// Seq 0 is not a genesis entry.
    #[error("the first entry must be a genesis entry, found {0}")]
    NotGenesis(&'static str),
    /// A genesis entry after seq 0.
    #[error("a genesis entry may only be seq 0")]
    LateGenesis,
    /// Genesis not signed by the key it names.
    #[error("genesis must be signed by the first authority's own key")]
    GenesisNotSelfSigned,
    /// `recorded_at` went backwards.
    #[error("recorded_at {recorded_at} is before the previous entry's {previous}")]
    TimeWentBackwards {
        /// This entry's time.
        recorded_at: Timestamp,
        /// The previous entry's.
        previous: Timestamp,
    },
    /// `recorded_at` lies in the future.
    #[error("recorded_at {recorded_at} is in the future (now {now})")]
    InFuture {
        /// This entry's time.
        recorded_at: Timestamp,
        /// The checker's clock.
        now: Timestamp,
    },
    /// The signer is not an authority of this ledger.
    #[error("signer {0} is not an authority of this ledger")]
    UnknownSigner(String),
    /// The signer was retired.
    #[error("signer {0} was retired and may no longer sign")]
    RetiredSigner(AuthorityName),
    /// The signer lacks the role for this kind of event.
    #[error("signer {name} may not sign {kind} entries (needs the {needs} role)")]
    Unauthorized {
        /// The signer.
        name: AuthorityName,
        /// The event kind.
        kind: &'static str,
        /// The role needed.
        needs: &'static str,
    },
    /// An authority of that name exists already (names are never reused).
    #[error("authority {0} exists already (authority names are never reused)")]
    AuthorityExists(AuthorityName),
    /// The key belongs to another authority already (keys are never reused).
    #[error("that key already belongs to authority {0} (keys are never reused)")]
    KeyInUse(AuthorityName),
    /// No active authority of that name.
    #[error("no active authority named {0}")]
    UnknownAuthority(AuthorityName),
    /// Retiring the last admin would leave nobody able to manage authorities.
    #[error("{0} is the last active admin and cannot be retired")]
    LastAdmin(AuthorityName),
    /// `until` is not after `effective_at`.
    #[error("until {until} is not after effective_at {effective_at}")]
    EmptyInterval {
        /// Start.
        effective_at: Timestamp,
        /// End.
        until: Timestamp,
    },
    /// A grant overlaps a permanent revocation recorded earlier.
    #[error("grant to {subject} on {resource} overlaps the permanent revocation at seq {ban_seq} (effective {ban_effective_at}); a ban cannot be granted back")]
    GrantOverBan {
        /// The grantee.
        subject: Subject,
        /// The granted resource.
        resource: Resource,
        /// The ban.
        ban_seq: u64,
        /// When the ban took effect.
        ban_effective_at: Timestamp,
    },
    /// A grant to a member of a banned group, overlapping the ban while it is
    /// a member (new input only: see [`Provenance`]).
    #[error("grant to {subject} on {resource} overlaps the permanent revocation at seq {ban_seq} of {group}, of which {subject} is a member (from {member_at}); a ban on a group reaches its members")]
    GrantToBannedMember {
        /// The grantee.
        subject: Subject,
        /// The granted resource.
        resource: Resource,
        /// The banned group.
        group: Subject,
        /// The ban.
        ban_seq: u64,
        /// The first instant of the overlap at which the grantee is a member.
        member_at: Timestamp,
    },
    /// A join would make a group a member of itself.
    #[error("{member} joining {group} would close a cycle of groups")]
    GroupCycle {
        /// The joining subject.
        member: Subject,
        /// The group.
        group: Subject,
    },
    /// A membership's group is not a `group:*` subject.
    #[error("{0} is not a group (groups are group:name)")]
    NotAGroup(Subject),
    /// A leave with no earlier join.
    #[error("{member} never joined {group}")]
    NeverJoined {
        /// The member.
        member: Subject,
        /// The group.
        group: Subject,
    },
    /// A stored checkpoint's root is not the root of the stored entries.
    #[error("the stored checkpoint of tree size {size} does not match the entries (history was rewritten or truncated)")]
    CheckpointMismatch {
        /// The checkpoint's tree size.
        size: u64,
    },
    /// An entry recorded after a checkpoint claims to have been recorded
    /// before it: what the ledger knew at a published time would change.
    #[error("recorded_at {recorded_at} is before the checkpoint of tree size {size}, made at {made_at}: what the ledger knew then is fixed once checkpointed")]
    BeforeCheckpoint {
        /// The entry's `recorded_at`.
        recorded_at: Timestamp,
        /// The checkpoint's tree size.
        size: u64,
        /// When the checkpoint was made.
        made_at: Timestamp,
    },
    /// A sharing agreement from a subject to itself.
    #[error("a sharing agreement needs two different subjects, got {0} twice")]
    SelfShare(Subject),
}

/// An authority of the ledger, as known at some point of the log.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct Authority {
    /// Its key.
    pub key: PublicKey,
    /// What it may sign.
    pub roles: Roles,
    /// Where it was added (0 for the genesis authority).
    pub added_seq: u64,
    /// Where it was retired, if it was.
    pub retired_seq: Option<u64>,
}

/// A permanent revocation: from `effective_at` on, `subject` is denied
/// `rights` (all if `None`) on `resource` and below, by any route.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct Ban {
    /// The revoke entry.
    pub seq: u64,
    /// Who is banned.
    pub subject: Subject,
    /// From what.
    pub resource: Resource,
    /// Which rights; `None` = all.
    pub rights: Option<Rights>,
    /// From when.
    pub effective_at: Timestamp,
}

impl Ban {
    /// Whether a grant of `rights` on `resource` over `[from, until)` would
    /// overlap this ban.
    pub fn overlaps_grant(
        &self,
        resource: &Resource,
        rights: &Rights,
        until: Option<Timestamp>,
    ) -> bool {
        self.resource.overlaps(resource)
            && self.rights.as_ref().is_none_or(|r| r.overlaps(rights))
            && until.is_none_or(|u| u > self.effective_at)
    }
}

/// What the rules know about a log prefix. See the module docs.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct LedgerState {
    ledger_id: EntryHash,
    origin: Option<Origin>,
    time_zone: Option<String>,
    next_seq: u64,
    last_hash: EntryHash,
    last_recorded_at: Timestamp,
    authorities: BTreeMap<AuthorityName, Authority>,
    keys: BTreeMap<PublicKey, AuthorityName>,
    bans: BTreeMap<Subject, Vec<Ban>>,
    /// resource -> the subjects banned on it (the same bans, by resource).
    banned_resources: BTreeMap<Resource, BTreeSet<Subject>>,
    /// member -> every group it has ever joined (leaves do not remove edges:
    /// cycles are refused in the graph of all joins ever recorded).
    groups: BTreeMap<Subject, BTreeSet<Subject>>,
    /// group -> every subject that has ever joined it (the same edges, reversed).
    members: BTreeMap<Subject, BTreeSet<Subject>>,
    /// (member, group) -> its joins and leaves as `(effective_at, seq, join)`,
    /// in seq order: membership at a valid time, as known at the head.
    memberships: BTreeMap<(Subject, Subject), Vec<MembershipEvent>>,
}

/// A join (`true`) or leave (`false`) of one (member, group) edge, with its
/// `effective_at` and seq.
type MembershipEvent = (Timestamp, u64, bool);

/// The layout of the rules snapshot written by versions before membership
/// times were kept: decodable, so that an old ledger is recognised and its
/// state rebuilt from the entries rather than reported as damaged.
#[derive(Decode)]
#[allow(dead_code)] // decoded only to recognise the layout
pub(crate) struct LegacyLedgerState {
    ledger_id: EntryHash,
    origin: Option<Origin>,
    time_zone: Option<String>,
    next_seq: u64,
    last_hash: EntryHash,
    last_recorded_at: Timestamp,
    authorities: BTreeMap<AuthorityName, Authority>,
    keys: BTreeMap<PublicKey, AuthorityName>,
    bans: BTreeMap<Subject, Vec<Ban>>,
    groups: BTreeMap<Subject, BTreeSet<Subject>>,
}

impl Default for LedgerState {
    fn default() -> Self {
        Self::new()
    }
}

impl LedgerState {
    /// The state of an empty log.
    pub fn new() -> Self {
        LedgerState {
            ledger_id: EntryHash::ZERO,
            origin: None,
            time_zone: None,
            next_seq: 0,
            last_hash: EntryHash::ZERO,
            last_recorded_at: Timestamp::MIN,
            authorities: BTreeMap::new(),
            keys: BTreeMap::new(),
            bans: BTreeMap::new(),
            banned_resources: BTreeMap::new(),
            groups: BTreeMap::new(),
            members: BTreeMap::new(),
            memberships: BTreeMap::new(),
        }
    }

    /// Renames the subject of the ban made by entry `seq`, bypassing every
    /// rule. For the tamper API only (`crate::store::Tamper`).
    pub(crate) fn tamper_ban_subject(&mut self, seq: u64, subject: Subject) -> bool {
        let Some((old, i)) = self
            .bans
            .iter()
            .find_map(|(s, v)| Some((s.clone(), v.iter().position(|b| b.seq == seq)?)))
        else {
            return false;
        };
        let list = self.bans.get_mut(&old).expect("found above");
        let mut ban = list.remove(i);
        if list.is_empty() {
            self.bans.remove(&old);
        }
        if let Some(set) = self.banned_resources.get_mut(&ban.resource) {
            set.insert(subject.clone());
        }
        ban.subject = subject.clone();
        self.bans.entry(subject).or_default().push(ban);
        true
    }

    /// Replaces the key of authority `name`, bypassing every rule. For the
    /// tamper API only (`crate::store::Tamper`).
    pub(crate) fn tamper_authority_key(&mut self, name: &AuthorityName, key: PublicKey) -> bool {
        let Some(a) = self.authorities.get_mut(name) else {
            return false;
        };
        self.keys.remove(&a.key);
        a.key = key;
        self.keys.insert(key, name.clone());
        true
    }

    /// The hash of the genesis entry (zeros for an empty log).
    pub fn ledger_id(&self) -> &EntryHash {
        &self.ledger_id
    }
    /// The number of entries.
    pub fn len(&self) -> u64 {
        self.next_seq
    }
    /// Whether the log is empty.
    pub fn is_empty(&self) -> bool {
        self.next_seq == 0
    }
    /// The hash of the last entry (zeros for an empty log).
    pub fn head_hash(&self) -> &EntryHash {
        &self.last_hash
    }
    /// The `recorded_at` of the last entry.
    pub fn head_recorded_at(&self) -> Timestamp {
        self.last_recorded_at
    }
    /// The log's origin.
    pub fn origin(&self) -> Option<&Origin> {
        self.origin.as_ref()
    }
    /// The log's time zone.
    pub fn zone(&self) -> Zone {
        self.time_zone
            .as_deref()
            .map(Zone::of_ledger)
            .unwrap_or_else(Zone::utc)
    }
    /// Every authority ever added, by name.
    pub fn authorities(&self) -> &BTreeMap<AuthorityName, Authority> {
        &self.authorities
    }
    /// The authority name of a key, if it was ever an authority.
    pub fn authority_of(&self, key: &PublicKey) -> Option<&AuthorityName> {
        self.keys.get(key)
    }
    /// Every permanent revocation, by subject.
    pub fn bans(&self) -> impl Iterator<Item = &Ban> {
        self.bans.values().flatten()
    }

    /// Checks `entry` as the next entry of this log and, if it passes, applies
    /// it. `now` bounds `recorded_at` from above when given. On error the state
    /// is unchanged.
    /// `from` says whether the entry is being appended or was stored
    /// already ([`Provenance`]).
    pub fn admit(
        &mut self,
        entry: Entry,
        now: Option<Timestamp>,
        from: Provenance,
    ) -> Result<ChainedEntry, ChainError> {
        // Link checks first, so a misplaced entry is named as such.
        self.check_link(&entry)?;
        let signed = entry
            .verify_signature(&self.ledger_id)
            .map_err(|_| ChainError {
                seq: self.next_seq,
                violation: Violation::BadSignature,
            })?;
        self.admit_linked(signed, now, from)
    }

    /// [`LedgerState::admit`] for an entry whose signature was already
    /// verified for this ledger's id (or that [`Entry::sign`] just made).
    pub fn admit_signed(
        &mut self,
        signed: SignedEntry,
        now: Option<Timestamp>,
        from: Provenance,
    ) -> Result<ChainedEntry, ChainError> {
        self.check_link(&signed)?;
        self.admit_linked(signed, now, from)
    }

    /// [`LedgerState::admit`] without the signature check, for an entry the
    /// store holds, when the state being built is derived data that is no
    /// more trusted than a stored snapshot (the state read at open: the latest
    /// snapshot and the entries after it). Every other rule and the link are
    /// checked, so the state is the one a full replay gives if the entries'
    /// signatures verify. Nothing signed or reported as verified may rest on
    /// it unchecked (src/ledger/trust.rs checks it before a key signs).
    pub(crate) fn admit_derived(&mut self, entry: Entry) -> Result<(), ChainError> {
        self.check_link(&entry)?;
        self.admit_linked(SignedEntry::assume_stored(entry), None, Provenance::Stored)
            .map(drop)
    }

    /// The checks after the link and the signature: time, signer, body.
    fn admit_linked(
        &mut self,
        signed: SignedEntry,
        now: Option<Timestamp>,
        from: Provenance,
    ) -> Result<ChainedEntry, ChainError> {
        let seq = self.next_seq;
        let fail = |violation| ChainError { seq, violation };
        if signed.recorded_at() < self.last_recorded_at {
            return Err(fail(Violation::TimeWentBackwards {
                recorded_at: signed.recorded_at(),
                previous: self.last_recorded_at,
            }));
        }
        if let Some(now) = now {
            if signed.recorded_at() > now {
                return Err(fail(Violation::InFuture {
                    recorded_at: signed.recorded_at(),
                    now,
                }));
            }
        }
        self.check_body(&signed, from).map_err(fail)?;
        self.apply(&signed);
        Ok(ChainedEntry(signed))
    }

    fn check_link(&self, entry: &Entry) -> Result<(), ChainError> {
        let seq = self.next_seq;
        if entry.seq() != seq {
            let violation = Violation::SeqMismatch {
                expected: seq,
                found: entry.seq(),
            };
            return Err(ChainError { seq, violation });
        }
        if entry.prev_hash() != &self.last_hash {
            let violation = Violation::HashMismatch {
                expected: self.last_hash,
                found: *entry.prev_hash(),
            };
            return Err(ChainError { seq, violation });
        }
        Ok(())
    }

    fn check_body(&self, e: &SignedEntry, from: Provenance) -> Result<(), Violation> {
        let body = e.body();
        // The time zone is a name checked for syntax when decoded, never
        // resolved here: validity must not depend on a tz database.
        if let Event::Genesis { key, .. } = body {
            if e.seq() != 0 {
                return Err(Violation::LateGenesis);
            }
            if key != e.signer() {
                return Err(Violation::GenesisNotSelfSigned);
            }
            return Ok(());
        }
        if e.seq() == 0 {
            return Err(Violation::NotGenesis(body.kind()));
        }
        let name = self
            .keys
            .get(e.signer())
            .ok_or_else(|| Violation::UnknownSigner(e.signer().to_base64()))?;
        let signer = &self.authorities[name];
        if signer.retired_seq.is_some() {
            return Err(Violation::RetiredSigner(name.clone()));
        }
        let (needs, ok) = match body {
            Event::AuthorityAdd { .. } | Event::AuthorityRetire { .. } => {
                ("admin", signer.roles.contains(Roles::ADMIN))
            }
            _ => (
                "admin or writer",
                signer.roles.contains(Roles::ADMIN) || signer.roles.contains(Roles::WRITER),
            ),
        };
        if !ok {
            return Err(Violation::Unauthorized {
                name: name.clone(),
                kind: body.kind(),
                needs,
            });
        }
        match body {
            Event::Genesis { .. } => unreachable!("handled above"),
            Event::AuthorityAdd { name, key, .. } => {
                if self.authorities.contains_key(name) {
                    return Err(Violation::AuthorityExists(name.clone()));
                }
                if let Some(owner) = self.keys.get(key) {
                    return Err(Violation::KeyInUse(owner.clone()));
                }
            }
            Event::AuthorityRetire { name } => {
                let a = self
                    .authorities
                    .get(name)
                    .filter(|a| a.retired_seq.is_none())
                    .ok_or_else(|| Violation::UnknownAuthority(name.clone()))?;
                if a.roles.contains(Roles::ADMIN) && self.active_admins() == 1 {
                    return Err(Violation::LastAdmin(name.clone()));
                }
            }
            Event::Grant {
                subject,
                resource,
                rights,
                effective_at,
                until,
                ..
            } => {
                check_interval(*effective_at, *until)?;
                if let Some(ban) = self
                    .bans
                    .get(subject)
                    .into_iter()
                    .flatten()
                    .find(|b| b.overlaps_grant(resource, rights, *until))
                {
                    return Err(Violation::GrantOverBan {
                        subject: subject.clone(),
                        resource: resource.clone(),
                        ban_seq: ban.seq,
                        ban_effective_at: ban.effective_at,
                    });
                }
                if from == Provenance::New {
                    if let Some(hit) = self
                        .ban_hits(subject, resource, rights, *effective_at, *until)
                        .into_iter()
                        .find(|h| h.to_covered)
                    {
                        return Err(Violation::GrantToBannedMember {
                            subject: subject.clone(),
                            resource: resource.clone(),
                            group: hit.ban.subject.clone(),
                            ban_seq: hit.ban.seq,
                            member_at: hit.at,
                        });
                    }
                }
            }
            Event::Revoke { .. } => {}
            Event::Join { member, group, .. } => {
                check_group(group)?;
                if member == group || self.reaches(group, member) {
                    return Err(Violation::GroupCycle {
                        member: member.clone(),
                        group: group.clone(),
                    });
                }
            }
            Event::Leave { member, group, .. } => {
                check_group(group)?;
                if !self.groups.get(member).is_some_and(|g| g.contains(group)) {
                    return Err(Violation::NeverJoined {
                        member: member.clone(),
                        group: group.clone(),
                    });
                }
            }
            Event::Share {
                from,
                to,
                effective_at,
                until,
                ..
            } => {
                check_interval(*effective_at, *until)?;
                if from == to {
                    return Err(Violation::SelfShare(from.clone()));
                }
            }
            Event::Unshare { from, to, .. } => {
                if from == to {
                    return Err(Violation::SelfShare(from.clone()));
                }
            }
        }
        Ok(())
    }

    fn active_admins(&self) -> usize {
        self.authorities
            .values()
            .filter(|a| a.retired_seq.is_none() && a.roles.contains(Roles::ADMIN))
            .count()
    }

    /// Whether `to` is reachable from `from` along member -> group edges.
    ///
    /// Searches upwards from `from` and downwards from `to` in turns, one
    /// node each, and stops when either side runs out: the cost is about
    /// twice the smaller of the two closures, so building a deep chain or a
    /// wide group one join at a time costs O(1) per join in either order.
    fn reaches(&self, from: &Subject, to: &Subject) -> bool {
        let mut up_seen = BTreeSet::from([from]);
        let mut down_seen = BTreeSet::from([to]);
        let mut up = vec![from];
        let mut down = vec![to];
        loop {
            let Some(u) = up.pop() else { return false };
            if down_seen.contains(u) {
                return true;
            }
            for g in self.groups.get(u).into_iter().flatten() {
                if up_seen.insert(g) {
                    up.push(g);
                }
            }
            let Some(d) = down.pop() else { return false };
            if up_seen.contains(d) {
                return true;
            }
            for m in self.edges_from(d, &self.members) {
                if down_seen.insert(m) {
                    down.push(m);
                }
            }
        }
    }

    /// Whether `m` is a direct member of `g` at `t` (rule 5, as known at the
    /// head): its last join or leave effective at or before `t`, in
    /// `(effective_at, seq)` order, is a join.
    fn direct_member_at(&self, m: &Subject, g: &Subject, t: Timestamp) -> bool {
        self.memberships
            .get(&(m.clone(), g.clone()))
            .into_iter()
            .flatten()
            .filter(|(eff, _, _)| *eff <= t)
            .max_by_key(|(eff, seq, _)| (*eff, *seq))
            .is_some_and(|(_, _, join)| *join)
    }

    /// Whether `m` is `g` or a member of `g` at `t`, through nested groups
    /// (each link a direct membership at `t`), searched upwards from `m`:
    /// a member's groups are few, a group's members may be thousands.
    fn member_at(&self, m: &Subject, g: &Subject, t: Timestamp) -> bool {
        if m == g {
            return true;
        }
        let mut seen = BTreeSet::from([m]);
        let mut stack = vec![m];
        while let Some(n) = stack.pop() {
            for up in self.groups.get(n).into_iter().flatten() {
                if !seen.contains(up) && self.direct_member_at(n, up, t) {
                    if up == g {
                        return true;
                    }
                    seen.insert(up);
                    stack.push(up);
                }
            }
        }
        false
    }

    /// The subjects `n` has an edge to in `edges`, which is `self.groups`
    /// (the groups it ever joined) or `self.members` (its members ever). Only
    /// a group has members (a join names a group), so an individual's are
    /// none without a search of the map: most subjects a downward search
    /// meets are individuals, and each search is a dozen string compares.
    fn edges_from<'a>(
        &self,
        n: &Subject,
        edges: &'a BTreeMap<Subject, BTreeSet<Subject>>,
    ) -> impl Iterator<Item = &'a Subject> + 'a {
        let memberless = std::ptr::eq(edges, &self.members) && !n.is_group();
        let found = if memberless { None } else { edges.get(n) };
        found.into_iter().flatten()
    }

    /// Every subject reachable from `x` along `edges`, whatever the time, if
    /// they are at most `cap`; `None` as soon as there are more.
    fn closure_within<'a>(
        &'a self,
        x: &'a Subject,
        edges: &'a BTreeMap<Subject, BTreeSet<Subject>>,
        cap: usize,
    ) -> Option<BTreeSet<&'a Subject>> {
        let mut seen = BTreeSet::from([x]);
        let mut stack = vec![x];
        while let Some(n) = stack.pop() {
            for g in self.edges_from(n, edges) {
                if seen.insert(g) {
                    if seen.len() > cap {
                        return None;
                    }
                    stack.push(g);
                }
            }
        }
        Some(seen)
    }

    /// Every subject reachable from `x` along `edges`, whatever the time.
    /// A hash set: at 1,000,000 entries a grant to a large group lists
    /// thousands, and a B-tree set's string compares were most of the cost.
    fn static_closure<'a>(
        &'a self,
        x: &'a Subject,
        edges: &'a BTreeMap<Subject, BTreeSet<Subject>>,
    ) -> SubjectSet<'a> {
        let mut seen = SubjectSet::default();
        seen.insert(x);
        let mut stack = vec![x];
        while let Some(n) = stack.pop() {
            for g in self.edges_from(n, edges) {
                if seen.insert(g) {
                    stack.push(g);
                }
            }
        }
        seen
    }

    /// The bans a grant to `x` of `rights` on `resource` over
    /// `[effective_at, until)` runs into under rule 6 (docs/SEMANTICS.md):
    /// each ban of a subject `B` (other than `x` itself: that is
    /// [`Violation::GrantOverBan`]) overlapping the grant, such that at some
    /// instant of the overlap a subject covered by the ban (`B`, or a member
    /// of `B`) is `x` or a member of `x`. Membership is as known at the head
    /// and looked at from the first instant of the overlap and from each
    /// later effective time of a join in the closures concerned, which is
    /// where membership can begin. Bans of groups nowhere near `x` in the
    /// graph of all joins are not looked at.
    fn ban_hits(
        &self,
        x: &Subject,
        resource: &Resource,
        rights: &Rights,
        effective_at: Timestamp,
        until: Option<Timestamp>,
    ) -> Vec<BanHit<'_>> {
        // The bans overlapping the grant, found by resource: on the grant's
        // resource or an ancestor, or below it.
        // A ban of `B` can reach `x` only through a subject at or below both,
        // so `B` or `x` must be a group (only groups have members; a ban of
        // another individual never reaches an individual): the bans of
        // individuals are skipped, unread, for a grant to an individual:
        // groups' names sort together, so only their range is walked (most
        // grants are to individuals, and the subjects banned on a resource
        // and its ancestors number hundreds at 1,000,000 entries).
        use std::ops::Bound::{Excluded, Included, Unbounded};
        let banned: (Bound<&str>, Bound<&str>) = if x.is_group() {
            (Unbounded, Unbounded)
        } else {
            (
                Included(Subject::GROUP_PREFIX),
                Excluded(Subject::GROUPS_END),
            )
        };
        let mut overlapping: Vec<&Ban> = Vec::new();
        let mut on = |r: &Resource, subjects: &BTreeSet<Subject>| {
            for b in subjects
                .range::<str, _>(banned)
                .filter(|b| *b != x)
                .flat_map(|b| self.bans.get(b).into_iter().flatten())
                .filter(|b| &b.resource == r && b.overlaps_grant(resource, rights, until))
            {
                overlapping.push(b);
            }
        };
        for a in resource.self_and_ancestors() {
            if let Some(subjects) = self.banned_resources.get(&a) {
                on(&a, subjects);
            }
        }
        for (r, subjects) in self
            .banned_resources
            .range(resource.clone()..)
            .take_while(|(r, _)| r.as_str().starts_with(resource.as_str()))
            .filter(|(r, _)| r != &resource && resource.covers(r))
        {
            on(r, subjects);
        }
        if overlapping.is_empty() {
            return vec![];
        }
        // The subjects at or below x, listed only if a ban needs them.
        let mut downs: Option<SubjectSet<'_>> = None;
        let many = overlapping.len() > FEW_BANS;
        let mut out = Vec::new();
        for b in overlapping {
            // The subjects that are, at some time, both `x` or below it and
            // `B` or below it: a hit is a path from one of them up to each
            // at one instant. Found from whichever side is small: a banned
            // agency or user has no members, so this is one upward search
            // from it, however large a group `x` is.
            let common: Vec<&Subject> =
                match self.closure_within(&b.subject, &self.members, SMALL_CLOSURE) {
                    // With many bans to try, x's members are listed once;
                    // with a few, each is one search between the two.
                    Some(below_ban) if many => {
                        let downs =
                            downs.get_or_insert_with(|| self.static_closure(x, &self.members));
                        below_ban
                            .into_iter()
                            .filter(|c| downs.contains(c))
                            .collect()
                    }
                    Some(below_ban) => below_ban
                        .into_iter()
                        .filter(|c| self.reaches(c, x))
                        .collect(),
                    None => {
                        let downs =
                            downs.get_or_insert_with(|| self.static_closure(x, &self.members));
                        if downs.len() <= SMALL_CLOSURE {
                            downs
                                .iter()
                                .copied()
                                .filter(|c| self.reaches(c, &b.subject))
                                .collect()
                        } else {
                            let below_ban = self.static_closure(&b.subject, &self.members);
                            let (small, large) = if below_ban.len() <= downs.len() {
                                (&below_ban, &*downs)
                            } else {
                                (&*downs, &below_ban)
                            };
                            small
                                .iter()
                                .copied()
                                .filter(|c| large.contains(c))
                                .collect()
                        }
                    }
                };
            if common.is_empty() {
                continue;
            }
            // Such a path can only begin at a join between subjects at or
            // above one of them.
            let mut on_paths: BTreeSet<&Subject> = common.iter().copied().collect();
            let mut stack = common.clone();
            while let Some(n) = stack.pop() {
                for g in self.groups.get(n).into_iter().flatten() {
                    if on_paths.insert(g) {
                        stack.push(g);
                    }
                }
            }
            let start = effective_at.max(b.effective_at);
            let mut instants = BTreeSet::from([start]);
            for m in &on_paths {
                for g in self.groups.get(*m).into_iter().flatten() {
                    let key = ((*m).clone(), g.clone());
                    instants.extend(
                        self.memberships
                            .get(&key)
                            .into_iter()
                            .flatten()
                            .filter(|(eff, _, join)| *join && *eff > start)
                            .filter(|(eff, _, _)| until.is_none_or(|u| *eff < u))
                            .map(|(eff, _, _)| *eff),
                    );
                }
            }
            // Membership at `t` is asked upwards (is `B` among a subject's
            // groups at `t`?): the banned subject may be a group of
            // thousands, the subjects below `x` that can meet it are few.
            for t in instants {
                if self.member_at(x, &b.subject, t) {
                    out.push(BanHit {
                        ban: b,
                        at: t,
                        to_covered: true,
                    });
                    break;
                }
                if common
                    .iter()
                    .any(|c| self.member_at(c, x, t) && self.member_at(c, &b.subject, t))
                {
                    out.push(BanHit {
                        ban: b,
                        at: t,
                        to_covered: false,
                    });
                    break;
                }
            }
        }
        out
    }

    /// The bans that `entry`, admitted as the next entry of this log, would
    /// give a covered subject the banned right against if they were ignored
    /// (the ban is *held*: docs/SEMANTICS.md, rule 6): for a grant, every ban
    /// recorded before it that it runs into (see `ban_hits`); nothing for
    /// other entries. Sorted by ban seq.
    pub fn held_by(&self, entry: &Entry) -> Vec<u64> {
        let Event::Grant {
            subject,
            resource,
            rights,
            effective_at,
            until,
            ..
        } = entry.body()
        else {
            return vec![];
        };
        let mut seqs: Vec<u64> = self
            .ban_hits(subject, resource, rights, *effective_at, *until)
            .into_iter()
            .map(|h| h.ban.seq)
            .collect();
        seqs.sort_unstable();
        seqs.dedup();
        seqs
    }

    /// `x` and every group it has ever joined, through nested groups (the
    /// graph of all joins recorded, any time).
    pub fn ever_groups(&self, x: &Subject) -> BTreeSet<Subject> {
        self.static_closure(x, &self.groups)
            .into_iter()
            .cloned()
            .collect()
    }

    /// Every subject that is one of `groups`, or has ever joined one of them
    /// through nested groups (the graph of all joins recorded, any time).
    /// Linear in the subjects and edges it finds.
    pub fn ever_members<'a>(
        &self,
        groups: impl IntoIterator<Item = &'a Subject>,
    ) -> BTreeSet<Subject> {
        let mut seen: BTreeSet<Subject> = BTreeSet::new();
        let mut stack: Vec<Subject> = Vec::new();
        for g in groups {
            if seen.insert(g.clone()) {
                stack.push(g.clone());
            }
        }
        while let Some(n) = stack.pop() {
            for m in self.edges_from(&n, &self.members) {
                if seen.insert(m.clone()) {
                    stack.push(m.clone());
                }
            }
        }
        seen
    }

    fn apply(&mut self, e: &SignedEntry) {
        let seq = e.seq();
        match e.body() {
            Event::Genesis {
                origin,
                time_zone,
                authority,
                key,
            } => {
                self.origin = Some(origin.clone());
                self.time_zone = Some(time_zone.as_str().to_owned());
                self.authorities.insert(
                    authority.clone(),
                    Authority {
                        key: *key,
                        roles: Roles::ALL,
                        added_seq: 0,
                        retired_seq: None,
                    },
                );
                self.keys.insert(*key, authority.clone());
            }
            Event::AuthorityAdd { name, key, roles } => {
                self.authorities.insert(
                    name.clone(),
                    Authority {
                        key: *key,
                        roles: *roles,
                        added_seq: seq,
                        retired_seq: None,
                    },
                );
                self.keys.insert(*key, name.clone());
            }
            Event::AuthorityRetire { name } => {
                if let Some(a) = self.authorities.get_mut(name) {
                    a.retired_seq = Some(seq);
                }
            }
            Event::Revoke {
                subject,
                resource,
                rights,
                effective_at,
                permanent: true,
                ..
            } => {
                self.banned_resources
                    .entry(resource.clone())
                    .or_default()
                    .insert(subject.clone());
                self.bans.entry(subject.clone()).or_default().push(Ban {
                    seq,
                    subject: subject.clone(),
                    resource: resource.clone(),
                    rights: rights.clone(),
                    effective_at: *effective_at,
                });
            }
            Event::Join {
                member,
                group,
                effective_at,
            } => {
                self.groups
                    .entry(member.clone())
                    .or_default()
                    .insert(group.clone());
                self.members
                    .entry(group.clone())
                    .or_default()
                    .insert(member.clone());
                self.memberships
                    .entry((member.clone(), group.clone()))
                    .or_default()
                    .push((*effective_at, seq, true));
            }
            Event::Leave {
                member,
                group,
                effective_at,
            } => {
                self.memberships
                    .entry((member.clone(), group.clone()))
                    .or_default()
                    .push((*effective_at, seq, false));
            }
            _ => {}
        }
        if seq == 0 {
            self.ledger_id = *e.hash();
        }
        self.next_seq = seq + 1;
        self.last_hash = *e.hash();
        self.last_recorded_at = e.recorded_at();
    }
}

/// A ban that a grant runs into ([`LedgerState::held_by`]).
struct BanHit<'a> {
    ban: &'a Ban,
    /// The first instant looked at where a covered subject is reached.
    at: Timestamp,
    /// Whether the grantee itself is covered (a member of the banned group),
    /// rather than having a covered member.
    to_covered: bool,
}

fn check_interval(effective_at: Timestamp, until: Option<Timestamp>) -> Result<(), Violation> {
    match until {
        Some(until) if until <= effective_at => Err(Violation::EmptyInterval {
            effective_at,
            until,
        }),
        _ => Ok(()),
    }
}

fn check_group(group: &Subject) -> Result<(), Violation> {
    if group.is_group() {
        Ok(())
    } else {
        Err(Violation::NotAGroup(group.clone()))
    }
}

impl fmt::Display for Authority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.key, self.roles)
    }
}

#[cfg(test)]
mod tests {
    //! The rules as tables: each row is an entry the rules refuse, named for
    //! the attack or mistake, with the violation it must be refused for. The
    //! entries are signed properly (unless the row is about the signature),
    //! so each is refused for its one defect. docs/THREAT-MODEL.md points here.

    use super::*;
    use crate::{SecretKey, Text, TimeZoneName};

    fn key(name: &str, seed: u8) -> SecretKey {
        SecretKey::from_seed(AuthorityName::new(name).unwrap(), &[seed; 32])
    }

    fn at(rfc3339: &str) -> Timestamp {
        Timestamp::parse_rfc3339(rfc3339).unwrap()
    }

    fn s(x: &str) -> Subject {
        Subject::new(x).unwrap()
    }

    fn grant(subject: &str, resource: &str, rights: &str, eff: &str, until: Option<&str>) -> Event {
        Event::Grant {
            subject: s(subject),
            resource: Resource::new(resource).unwrap(),
            rights: Rights::parse_list(rights).unwrap(),
            basis: Text::new("basis", "rules table").unwrap(),
            effective_at: at(eff),
            until: until.map(at),
        }
    }

    fn genesis(admin: &SecretKey, time_zone: &str) -> Event {
        Event::Genesis {
            origin: Origin::new("example.gov/rules").unwrap(),
            time_zone: TimeZoneName::new(time_zone).unwrap(),
            authority: admin.name().clone(),
            key: admin.public(),
        }
    }

    fn add(k: &SecretKey, roles: Roles) -> Event {
        Event::AuthorityAdd {
            name: k.name().clone(),
            key: k.public(),
            roles,
        }
    }

    /// `body` signed by `key` as the next entry of `state`, recorded at `when`.
    fn next_at(state: &LedgerState, key: &SecretKey, when: Timestamp, body: Event) -> Entry {
        Entry::sign(
            state.len(),
            *state.head_hash(),
            when,
            body,
            key,
            state.ledger_id(),
        )
        .entry()
        .clone()
    }

    /// When the world's entries were recorded.
    const RECORDED: &str = "2019-07-12T00:00:00Z";

    /// A log to test against: genesis (admin); authorities second-admin
    /// (admin), clerk (writer), checkpointer (checkpoint only) and old (writer,
    /// then retired); a permanent revocation of agency:ice on cpd from
    /// 2019-07-10; group:a joins group:b; a grant to group:feds.
    struct World {
        state: LedgerState,
        entries: Vec<Entry>,
        admin: SecretKey,
        clerk: SecretKey,
        checkpointer: SecretKey,
        retired: SecretKey,
        stranger: SecretKey,
    }

    fn world() -> World {
        let genesis_admin = key("admin", 1);
        let (admin, clerk, checkpointer, retired, stranger) = (
            key("second-admin", 2),
            key("clerk", 3),
            key("checkpointer", 4),
            key("old", 5),
            key("stranger", 6),
        );
        let mut state = LedgerState::new();
        let mut entries = Vec::new();
        let bodies = [
            genesis(&genesis_admin, "UTC"),
            add(&admin, Roles::ADMIN),
            add(&clerk, Roles::WRITER),
            add(&checkpointer, Roles::CHECKPOINT),
            add(&retired, Roles::WRITER),
            Event::AuthorityRetire {
                name: retired.name().clone(),
            },
            Event::Revoke {
                subject: s("agency:ice"),
                resource: Resource::new("cpd").unwrap(),
                rights: None,
                reason: Text::new("reason", "mayor's order").unwrap(),
                effective_at: at("2019-07-10T05:00:00Z"),
                permanent: true,
            },
            Event::Join {
                member: s("group:a"),
                group: s("group:b"),
                effective_at: at("2016-01-01T00:00:00Z"),
            },
            grant(
                "group:feds",
                "cpd/clear",
                "read",
                "2016-01-04T06:00:00Z",
                None,
            ),
        ];
        for body in bodies {
            let e = next_at(&state, &genesis_admin, at(RECORDED), body);
            state
                .admit(e.clone(), None, Provenance::New)
                .expect("the world is valid");
            entries.push(e);
        }
        World {
            state,
            entries,
            admin,
            clerk,
            checkpointer,
            retired,
            stranger,
        }
    }

    impl World {
        /// `body` signed by `key` as the next entry, recorded at the head's time.
        fn next(&self, key: &SecretKey, body: Event) -> Entry {
            next_at(&self.state, key, self.state.head_recorded_at(), body)
        }

        /// `body` signed by `key` as the next entry, recorded at `when`.
        fn at(&self, key: &SecretKey, when: Timestamp, body: Event) -> Entry {
            next_at(&self.state, key, when, body)
        }
    }

    /// The entry's bytes with another signature, decoded again.
    fn with_signature(e: &Entry, sig: [u8; 64]) -> Entry {
        let mut b = e.bytes().to_vec();
        let n = b.len();
        b[n - 64..].copy_from_slice(&sig);
        Entry::decode(&b).expect("still decodes")
    }

    /// `s + L`, the group order: the same signature in a malleated form.
    fn add_group_order(sig: &[u8; 64]) -> [u8; 64] {
        let l: [u8; 32] =
            hex::decode("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")
                .unwrap()
                .try_into()
                .unwrap();
        let mut out = *sig;
        let mut carry = 0u16;
        for i in 0..32 {
            let v = u16::from(out[32 + i]) + u16::from(l[i]) + carry;
            out[32 + i] = v as u8;
            carry = v >> 8;
        }
        out
    }

    type Expected = fn(&Violation) -> bool;

    /// Runs each row through [`LedgerState::admit`] on a copy of `state`:
    /// refused for the expected reason, named at the next seq in one line,
    /// and the state left as it was.
    fn assert_refused(state: &LedgerState, now: Timestamp, rows: Vec<(&str, Entry, Expected)>) {
        for (name, entry, expected) in rows {
            let mut after = state.clone();
            match after.admit(entry, Some(now), Provenance::New) {
                Ok(_) => panic!("{name}: admitted"),
                Err(e) => {
                    assert!(
                        expected(&e.violation),
                        "{name}: refused for the wrong reason: {e}"
                    );
                    assert_eq!(e.seq, state.len(), "{name}: {e}");
                    let msg = e.violation.to_string();
                    assert!(!msg.is_empty() && !msg.contains('\n'), "{name}: {msg:?}");
                }
            }
            assert_eq!(&after, state, "{name}: a refusal changed the state");
        }
    }

    #[test]
    fn entries_that_break_a_rule_are_refused_naming_the_rule() {
        let w = world();
        let dea = || {
            grant(
                "agency:dea",
                "cpd/clear",
                "read",
                "2017-01-01T00:00:00Z",
                None,
            )
        };
        let valid = w.next(&w.clerk, dea());
        let now = Timestamp::now();
        let head = w.state.head_recorded_at();
        let foreign_id = EntryHash([7; 32]);
        let sign = |seq: u64, prev: EntryHash, ledger: &EntryHash| {
            Entry::sign(seq, prev, head, dea(), &w.clerk, ledger)
                .entry()
                .clone()
        };
        let mut identity_r = [0u8; 64];
        identity_r[0] = 1;
        let mut one_bit = *valid.signature();
        one_bit[5] ^= 1;
        let join = |member: &str, group: &str| Event::Join {
            member: s(member),
            group: s(group),
            effective_at: head,
        };
        let rows: Vec<(&str, Entry, Expected)> = vec![
            ("all-zero signature", with_signature(&valid, [0; 64]), |v| {
                matches!(v, Violation::BadSignature)
            }),
            (
                "malleated signature (S + L)",
                with_signature(&valid, add_group_order(valid.signature())),
                |v| matches!(v, Violation::BadSignature),
            ),
            (
                "signature with R = identity, S = 0",
                with_signature(&valid, identity_r),
                |v| matches!(v, Violation::BadSignature),
            ),
            (
                "signature copied from another entry",
                with_signature(&valid, *w.entries[3].signature()),
                |v| matches!(v, Violation::BadSignature),
            ),
            (
                "one bit of the signature flipped",
                with_signature(&valid, one_bit),
                |v| matches!(v, Violation::BadSignature),
            ),
            (
                "signed for another ledger",
                sign(w.state.len(), *w.state.head_hash(), &foreign_id),
                |v| matches!(v, Violation::BadSignature),
            ),
            (
                "an entry of another ledger (its own chain)",
                sign(w.state.len(), EntryHash([9; 32]), &foreign_id),
                |v| matches!(v, Violation::HashMismatch { .. }),
            ),
            (
                "replay of the last entry",
                w.entries.last().unwrap().clone(),
                |v| matches!(v, Violation::SeqMismatch { .. }),
            ),
            ("replay of an old entry", w.entries[3].clone(), |v| {
                matches!(v, Violation::SeqMismatch { .. })
            }),
            (
                "a seq beyond the end (a gap)",
                sign(w.state.len() + 1, *w.state.head_hash(), w.state.ledger_id()),
                |v| matches!(v, Violation::SeqMismatch { .. }),
            ),
            (
                "linked to an older entry (a local fork)",
                sign(w.state.len(), *w.entries[2].hash(), w.state.ledger_id()),
                |v| matches!(v, Violation::HashMismatch { .. }),
            ),
            (
                "a second genesis",
                w.next(&w.admin, genesis(&w.admin, "UTC")),
                |v| matches!(v, Violation::LateGenesis),
            ),
            (
                "signed by a key that is no authority",
                w.next(&w.stranger, dea()),
                |v| matches!(v, Violation::UnknownSigner(_)),
            ),
            ("signed by a retired key", w.next(&w.retired, dea()), |v| {
                matches!(v, Violation::RetiredSigner(_))
            }),
            (
                "a writer adds an authority",
                w.next(&w.clerk, add(&w.stranger, Roles::ADMIN)),
                |v| matches!(v, Violation::Unauthorized { .. }),
            ),
            (
                "a writer retires the admin",
                w.next(
                    &w.clerk,
                    Event::AuthorityRetire {
                        name: w.admin.name().clone(),
                    },
                ),
                |v| matches!(v, Violation::Unauthorized { .. }),
            ),
            (
                "a checkpoint-only key writes a grant",
                w.next(&w.checkpointer, dea()),
                |v| matches!(v, Violation::Unauthorized { .. }),
            ),
            (
                "a checkpoint-only key adds an authority",
                w.next(&w.checkpointer, add(&w.stranger, Roles::WRITER)),
                |v| matches!(v, Violation::Unauthorized { .. }),
            ),
            (
                "time going backwards by 1 µs",
                w.at(
                    &w.clerk,
                    Timestamp::from_micros(head.as_micros() - 1),
                    dea(),
                ),
                |v| matches!(v, Violation::TimeWentBackwards { .. }),
            ),
            (
                "recorded at the earliest instant",
                w.at(&w.clerk, Timestamp::MIN, dea()),
                |v| matches!(v, Violation::TimeWentBackwards { .. }),
            ),
            (
                "recorded an hour in the future",
                w.at(
                    &w.clerk,
                    Timestamp::from_micros(now.as_micros() + 3_600_000_000),
                    dea(),
                ),
                |v| matches!(v, Violation::InFuture { .. }),
            ),
            (
                "recorded at the latest instant",
                w.at(&w.clerk, Timestamp::MAX, dea()),
                |v| matches!(v, Violation::InFuture { .. }),
            ),
            (
                "a grant over a ban: the same resource",
                w.next(
                    &w.clerk,
                    grant("agency:ice", "cpd", "read", "2020-01-01T00:00:00Z", None),
                ),
                |v| matches!(v, Violation::GrantOverBan { .. }),
            ),
            (
                "a grant over a ban: a sub-resource",
                w.next(
                    &w.clerk,
                    grant(
                        "agency:ice",
                        "cpd/clear/arrests",
                        "read",
                        "2020-01-01T00:00:00Z",
                        None,
                    ),
                ),
                |v| matches!(v, Violation::GrantOverBan { .. }),
            ),
            (
                "a grant over a ban: every right",
                w.next(
                    &w.clerk,
                    grant("agency:ice", "cpd/clear", "*", "2020-01-01T00:00:00Z", None),
                ),
                |v| matches!(v, Violation::GrantOverBan { .. }),
            ),
            (
                "a grant over a ban: back-dated, open-ended",
                w.next(
                    &w.clerk,
                    grant(
                        "agency:ice",
                        "cpd/clear",
                        "read",
                        "2010-01-01T00:00:00Z",
                        None,
                    ),
                ),
                |v| matches!(v, Violation::GrantOverBan { .. }),
            ),
            (
                "a grant over a ban: ending just after it",
                w.next(
                    &w.clerk,
                    grant(
                        "agency:ice",
                        "cpd/clear",
                        "read",
                        "2010-01-01T00:00:00Z",
                        Some("2019-07-10T05:00:00.000001Z"),
                    ),
                ),
                |v| matches!(v, Violation::GrantOverBan { .. }),
            ),
            (
                "a group joining itself",
                w.next(&w.clerk, join("group:a", "group:a")),
                |v| matches!(v, Violation::GroupCycle { .. }),
            ),
            (
                "a group cycle of two",
                w.next(&w.clerk, join("group:b", "group:a")),
                |v| matches!(v, Violation::GroupCycle { .. }),
            ),
            (
                "joining a subject that is not a group",
                w.next(&w.clerk, join("agency:ice", "agency:fbi")),
                |v| matches!(v, Violation::NotAGroup(_)),
            ),
            (
                "leaving a subject that is not a group",
                w.next(
                    &w.clerk,
                    Event::Leave {
                        member: s("agency:ice"),
                        group: s("agency:fbi"),
                        effective_at: head,
                    },
                ),
                |v| matches!(v, Violation::NotAGroup(_)),
            ),
            (
                "leaving a group never joined",
                w.next(
                    &w.clerk,
                    Event::Leave {
                        member: s("agency:ice"),
                        group: s("group:feds"),
                        effective_at: head,
                    },
                ),
                |v| matches!(v, Violation::NeverJoined { .. }),
            ),
            (
                "sharing with oneself",
                w.next(
                    &w.clerk,
                    Event::Share {
                        from: s("agency:fbi"),
                        to: s("agency:fbi"),
                        resource: Resource::new("cpd").unwrap(),
                        rights: Rights::all(),
                        basis: Text::new("b", "").unwrap(),
                        effective_at: head,
                        until: None,
                    },
                ),
                |v| matches!(v, Violation::SelfShare(_)),
            ),
            (
                "ending a share with oneself",
                w.next(
                    &w.clerk,
                    Event::Unshare {
                        from: s("agency:fbi"),
                        to: s("agency:fbi"),
                        resource: Resource::new("cpd").unwrap(),
                        rights: None,
                        basis: Text::new("b", "").unwrap(),
                        effective_at: head,
                    },
                ),
                |v| matches!(v, Violation::SelfShare(_)),
            ),
            (
                "a grant that ends before it starts",
                w.next(
                    &w.clerk,
                    grant(
                        "agency:dea",
                        "cpd",
                        "read",
                        "2020-01-01T00:00:00Z",
                        Some("2019-01-01T00:00:00Z"),
                    ),
                ),
                |v| matches!(v, Violation::EmptyInterval { .. }),
            ),
            (
                "a share that ends when it starts",
                w.next(
                    &w.clerk,
                    Event::Share {
                        from: s("agency:fbi"),
                        to: s("agency:dea"),
                        resource: Resource::new("cpd").unwrap(),
                        rights: Rights::all(),
                        basis: Text::new("b", "").unwrap(),
                        effective_at: head,
                        until: Some(head),
                    },
                ),
                |v| matches!(v, Violation::EmptyInterval { .. }),
            ),
            (
                "an authority name used again",
                w.next(
                    &w.admin,
                    Event::AuthorityAdd {
                        name: w.retired.name().clone(),
                        key: w.stranger.public(),
                        roles: Roles::WRITER,
                    },
                ),
                |v| matches!(v, Violation::AuthorityExists(_)),
            ),
            (
                "an authority key used again",
                w.next(
                    &w.admin,
                    Event::AuthorityAdd {
                        name: AuthorityName::new("clerk2").unwrap(),
                        key: w.clerk.public(),
                        roles: Roles::WRITER,
                    },
                ),
                |v| matches!(v, Violation::KeyInUse(_)),
            ),
            (
                "retiring an unknown authority",
                w.next(
                    &w.admin,
                    Event::AuthorityRetire {
                        name: AuthorityName::new("nobody").unwrap(),
                    },
                ),
                |v| matches!(v, Violation::UnknownAuthority(_)),
            ),
            (
                "retiring a retired authority",
                w.next(
                    &w.admin,
                    Event::AuthorityRetire {
                        name: w.retired.name().clone(),
                    },
                ),
                |v| matches!(v, Violation::UnknownAuthority(_)),
            ),
        ];
        assert_refused(&w.state, now, rows);
    }

    /// The first entry: only a genesis, signed by the key it names, in a time
    /// zone that exists.
    #[test]
    fn a_log_begins_with_one_self_signed_genesis() {
        let empty = LedgerState::new();
        let (admin, other) = (key("admin", 1), key("other", 2));
        let when = at(RECORDED);
        let rows: Vec<(&str, Entry, Expected)> = vec![
            (
                "a grant as the first entry",
                next_at(
                    &empty,
                    &admin,
                    when,
                    grant("agency:a", "cpd", "read", RECORDED, None),
                ),
                |v| matches!(v, Violation::NotGenesis("grant")),
            ),
            (
                "a genesis signed by another key than it names",
                next_at(&empty, &other, when, genesis(&admin, "UTC")),
                |v| matches!(v, Violation::GenesisNotSelfSigned),
            ),
        ];
        assert_refused(&empty, Timestamp::now(), rows);
        // A zone no tz database knows is still a valid name: validity is a
        // function of the bytes, never of the verifying machine's database.
        let unknown_zone = next_at(&empty, &admin, when, genesis(&admin, "Mars/Base"));
        assert!(empty
            .clone()
            .admit(unknown_zone, None, Provenance::Stored)
            .is_ok());
        let mut state = empty.clone();
        let first = state
            .admit(
                next_at(&empty, &admin, when, genesis(&admin, "America/Chicago")),
                None,
                Provenance::New,
            )
            .expect("a self-signed genesis");
        assert_eq!(state.ledger_id(), first.hash());
        assert_eq!(state.zone().name(), "America/Chicago");
    }

    /// Retiring the last admin is refused (in a log with a single admin).
    #[test]
    fn the_last_admin_cannot_be_retired() {
        let admin = key("admin", 1);
        let mut state = LedgerState::new();
        let first = next_at(&state, &admin, at(RECORDED), genesis(&admin, "UTC"));
        state.admit(first, None, Provenance::New).unwrap();
        let retire = Event::AuthorityRetire {
            name: admin.name().clone(),
        };
        let rows: Vec<(&str, Entry, Expected)> = vec![(
            "retiring the only admin",
            next_at(&state, &admin, at(RECORDED), retire),
            |v| matches!(v, Violation::LastAdmin(_)),
        )];
        assert_refused(&state, Timestamp::now(), rows);
    }

    /// Rule 6 at append: a grant to a member of a banned group (directly or
    /// through a nested group), overlapping the ban while it is a member, is
    /// refused as new input; the same entry stored by an earlier version is
    /// admitted and reported as held. Former members, and groups that merely
    /// contain a banned subject, may be granted (the latter is held).
    #[test]
    fn a_grant_to_a_member_of_a_banned_group_is_refused_as_new_input_only() {
        let admin = key("admin", 1);
        let mut state = LedgerState::new();
        let when = at(RECORDED);
        let bodies = [
            genesis(&admin, "UTC"),
            Event::Join {
                member: s("user:o"),
                group: s("group:ice"),
                effective_at: at("2016-01-01T00:00:00Z"),
            },
            Event::Join {
                member: s("user:n"),
                group: s("group:unit"),
                effective_at: at("2016-01-01T00:00:00Z"),
            },
            Event::Join {
                member: s("group:unit"),
                group: s("group:ice"),
                effective_at: at("2016-01-01T00:00:00Z"),
            },
            Event::Join {
                member: s("group:ice"),
                group: s("group:feds"),
                effective_at: at("2016-01-01T00:00:00Z"),
            },
            Event::Revoke {
                subject: s("group:ice"),
                resource: Resource::new("cpd").unwrap(),
                rights: None,
                reason: Text::new("reason", "order").unwrap(),
                effective_at: at("2019-07-10T05:00:00Z"),
                permanent: true,
            },
            Event::Leave {
                member: s("user:o"),
                group: s("group:ice"),
                effective_at: at("2020-01-01T00:00:00Z"),
            },
        ];
        for body in bodies {
            let e = next_at(&state, &admin, when, body);
            state.admit(e, None, Provenance::New).expect("valid");
        }
        let ban = state.len() - 2;
        let rows: Vec<(&str, Entry, Expected)> = vec![
            (
                "a direct member, while a member",
                next_at(
                    &state,
                    &admin,
                    when,
                    grant("user:o", "cpd/clear", "read", "2019-08-01T00:00:00Z", None),
                ),
                |v| matches!(v, Violation::GrantToBannedMember { .. }),
            ),
            (
                "a member through a nested group",
                next_at(
                    &state,
                    &admin,
                    when,
                    grant("user:n", "cpd", "*", "2021-01-01T00:00:00Z", None),
                ),
                |v| matches!(v, Violation::GrantToBannedMember { .. }),
            ),
            (
                "a member group itself",
                next_at(
                    &state,
                    &admin,
                    when,
                    grant("group:unit", "cpd/x", "read", "2021-01-01T00:00:00Z", None),
                ),
                |v| matches!(v, Violation::GrantToBannedMember { .. }),
            ),
            (
                "back-dated before the ban, open-ended",
                next_at(
                    &state,
                    &admin,
                    when,
                    grant("user:n", "cpd", "read", "2010-01-01T00:00:00Z", None),
                ),
                |v| matches!(v, Violation::GrantToBannedMember { .. }),
            ),
        ];
        assert_refused(&state, Timestamp::now(), rows);
        // The same entry, stored: admitted, and held by the ban.
        let stored = next_at(
            &state,
            &admin,
            when,
            grant("user:n", "cpd", "read", "2021-01-01T00:00:00Z", None),
        );
        let mut replay = state.clone();
        replay
            .admit(stored.clone(), None, Provenance::Stored)
            .expect("stored input");
        assert_eq!(replay.held_by(&stored), vec![ban]);
        // Admitted as new input: a former member; a group above the banned
        // one (held: it would give its banned member the right); elsewhere.
        for (body, held) in [
            (
                grant("user:o", "cpd", "read", "2020-02-01T00:00:00Z", None),
                vec![],
            ),
            (
                grant("group:feds", "cpd", "read", "2020-02-01T00:00:00Z", None),
                vec![ban],
            ),
            (
                grant("user:n", "cook", "read", "2020-02-01T00:00:00Z", None),
                vec![],
            ),
            (
                grant(
                    "user:n",
                    "cpd",
                    "read",
                    "2010-01-01T00:00:00Z",
                    Some("2019-07-10T05:00:00Z"),
                ),
                vec![],
            ),
        ] {
            let e = next_at(&state, &admin, when, body);
            let mut after = state.clone();
            after
                .admit(e.clone(), None, Provenance::New)
                .unwrap_or_else(|err| panic!("{err}"));
            assert_eq!(after.held_by(&e), held);
        }
    }

    /// Controls: the table's refusals are for their defect, not for the
    /// harness. A grant that ended when the ban began is history, not a
    /// breach.
    #[test]
    fn entries_within_the_rules_are_admitted() {
        let w = world();
        let rows = [
            (
                "a valid grant",
                w.next(
                    &w.clerk,
                    grant(
                        "agency:dea",
                        "cpd/clear",
                        "read",
                        "2017-01-01T00:00:00Z",
                        None,
                    ),
                ),
            ),
            (
                "a grant that ended when the ban began",
                w.next(
                    &w.clerk,
                    grant(
                        "agency:ice",
                        "cpd/clear",
                        "read",
                        "2010-01-01T00:00:00Z",
                        Some("2019-07-10T05:00:00Z"),
                    ),
                ),
            ),
            (
                "a grant to the banned subject elsewhere",
                w.next(
                    &w.clerk,
                    grant("agency:ice", "cook-county/courts", "read", RECORDED, None),
                ),
            ),
            (
                "a group joining another group",
                w.next(
                    &w.clerk,
                    Event::Join {
                        member: s("group:b"),
                        group: s("group:c"),
                        effective_at: at(RECORDED),
                    },
                ),
            ),
            (
                "an admin retiring an admin that is not the last",
                w.next(
                    &w.admin,
                    Event::AuthorityRetire {
                        name: w.admin.name().clone(),
                    },
                ),
            ),
        ];
        for (name, entry) in rows {
            let mut state = w.state.clone();
            let chained = state
                .admit(entry, Some(Timestamp::now()), Provenance::New)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(state.len(), w.state.len() + 1, "{name}");
            assert_eq!(state.head_hash(), chained.hash(), "{name}");
        }
    }

    /// Rule 6 as written, for [`ban_hits_agree_with_the_rule_as_written`]:
    /// every subject that is `y` or a member of it at `t`, listed downwards.
    fn members_at(st: &LedgerState, y: &Subject, t: Timestamp) -> BTreeSet<Subject> {
        let mut seen = BTreeSet::from([y.clone()]);
        let mut stack = vec![y.clone()];
        while let Some(n) = stack.pop() {
            for m in st.members.get(&n).into_iter().flatten() {
                if !seen.contains(m) && st.direct_member_at(m, &n, t) {
                    seen.insert(m.clone());
                    stack.push(m.clone());
                }
            }
        }
        seen
    }

    /// `ban_hits`, which searches only near the grantee, gives what the rule
    /// says when every member of both sides is listed at every instant of
    /// the overlap where a membership begins, on random group graphs.
    #[test]
    fn ban_hits_agree_with_the_rule_as_written() {
        let admin = key("admin", 1);
        let names = [
            "user:u0",
            "user:u1",
            "user:u2",
            "agency:a0",
            "group:g0",
            "group:g1",
            "group:g2",
            "group:g3",
        ];
        let cpd = Resource::new("cpd").unwrap();
        let read = Rights::parse_list("read").unwrap();
        let base = at("2019-01-01T00:00:00Z").as_micros();
        let hour = 3_600_000_000i64;
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move |n: u64| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng % n
        };
        let (mut hits, mut misses) = (0, 0);
        for _ in 0..300 {
            let mut state = LedgerState::new();
            let push = |state: &mut LedgerState, body: Event| {
                let e = next_at(state, &admin, at(RECORDED), body);
                let _ = state.admit(e, None, Provenance::Stored);
            };
            push(&mut state, genesis(&admin, "UTC"));
            for _ in 0..14 {
                let member = s(names[next(names.len() as u64) as usize]);
                let group = s(names[4 + next(4) as usize]);
                let effective_at = Timestamp::from_micros(base + next(48) as i64 * hour);
                let body = if next(4) == 0 {
                    Event::Leave {
                        member,
                        group,
                        effective_at,
                    }
                } else {
                    Event::Join {
                        member,
                        group,
                        effective_at,
                    }
                };
                push(&mut state, body);
            }
            for _ in 0..2 {
                push(
                    &mut state,
                    Event::Revoke {
                        subject: s(names[next(names.len() as u64) as usize]),
                        resource: cpd.clone(),
                        rights: None,
                        reason: Text::new("reason", "test").unwrap(),
                        effective_at: Timestamp::from_micros(base + next(48) as i64 * hour),
                        permanent: true,
                    },
                );
            }
            for _ in 0..8 {
                let x = s(names[next(names.len() as u64) as usize]);
                let eff = Timestamp::from_micros(base + next(48) as i64 * hour);
                let until = (next(2) == 0).then(|| {
                    Timestamp::from_micros(eff.as_micros() + (1 + next(24) as i64) * hour)
                });
                let mut got: Vec<(u64, Timestamp, bool)> = state
                    .ban_hits(&x, &cpd, &read, eff, until)
                    .into_iter()
                    .map(|h| (h.ban.seq, h.at, h.to_covered))
                    .collect();
                got.sort();
                let mut want = Vec::new();
                for b in state.bans() {
                    if b.subject == x || !b.overlaps_grant(&cpd, &read, until) {
                        continue;
                    }
                    let start = eff.max(b.effective_at);
                    let mut instants = BTreeSet::from([start]);
                    for events in state.memberships.values() {
                        instants.extend(
                            events
                                .iter()
                                .filter(|(t, _, join)| *join && *t > start)
                                .filter(|(t, _, _)| until.is_none_or(|u| *t < u))
                                .map(|(t, _, _)| *t),
                        );
                    }
                    for t in instants {
                        let covered = members_at(&state, &b.subject, t);
                        if covered.contains(&x) {
                            want.push((b.seq, t, true));
                            break;
                        }
                        if !members_at(&state, &x, t).is_disjoint(&covered) {
                            want.push((b.seq, t, false));
                            break;
                        }
                    }
                }
                want.sort();
                if want.is_empty() {
                    misses += 1;
                } else {
                    hits += 1;
                }
                assert_eq!(got, want, "grant to {x} from {eff:?} until {until:?}");
            }
        }
        // The graphs are dense enough for both answers to be common.
        assert!(hits > 100 && misses > 100, "{hits} hits, {misses} misses");
    }
}
