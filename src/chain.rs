//! The chain rules: what makes an entry admissible at the end of a log.
//!
//! [`LedgerState`] is everything the rules need to know about a log prefix:
//! its head, its authorities, its permanent revocations (bans) and its group
//! edges. [`LedgerState::admit`] is the one place where an entry is checked:
//! appending runs it on each new entry before anything is written, and
//! `verify` runs it on every stored entry from seq 0. So a log that `verify`
//! accepts is exactly a log that could have been appended.
//!
//! The state is O(authorities + bans + group edges), never O(entries).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use bincode::{Decode, Encode};

use crate::entry::{Entry, EntryHash, SignedEntry};
use crate::event::{Event, Roles};
use crate::ident::{AuthorityName, Origin, Resource, Rights, Subject};
use crate::keys::PublicKey;
use crate::time::{Timestamp, Zone};

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
    /// Genesis names an unknown time zone.
    #[error("unknown time zone {0:?} in genesis")]
    BadTimeZone(String),
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
    /// member -> every group it has ever joined (leaves do not remove edges:
    /// cycles are refused in the graph of all joins ever recorded).
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
            groups: BTreeMap::new(),
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
            .and_then(|z| Zone::new(z).ok())
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
    pub fn admit(
        &mut self,
        entry: Entry,
        now: Option<Timestamp>,
    ) -> Result<ChainedEntry, ChainError> {
        // Link checks first, so a misplaced entry is named as such.
        self.check_link(&entry)?;
        let signed = entry
            .verify_signature(&self.ledger_id)
            .map_err(|_| ChainError {
                seq: self.next_seq,
                violation: Violation::BadSignature,
            })?;
        self.admit_linked(signed, now)
    }

    /// [`LedgerState::admit`] for an entry whose signature was already
    /// verified for this ledger's id (or that [`Entry::sign`] just made).
    pub fn admit_signed(
        &mut self,
        signed: SignedEntry,
        now: Option<Timestamp>,
    ) -> Result<ChainedEntry, ChainError> {
        self.check_link(&signed)?;
        self.admit_linked(signed, now)
    }

    /// The checks after the link and the signature: time, signer, body.
    fn admit_linked(
        &mut self,
        signed: SignedEntry,
        now: Option<Timestamp>,
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
        self.check_body(&signed).map_err(fail)?;
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

    fn check_body(&self, e: &SignedEntry) -> Result<(), Violation> {
        let body = e.body();
        if let Event::Genesis { key, time_zone, .. } = body {
            if e.seq() != 0 {
                return Err(Violation::LateGenesis);
            }
            if key != e.signer() {
                return Err(Violation::GenesisNotSelfSigned);
            }
            Zone::new(time_zone.as_str())
                .map_err(|_| Violation::BadTimeZone(time_zone.as_str().to_owned()))?;
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
    fn reaches(&self, from: &Subject, to: &Subject) -> bool {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from];
        while let Some(s) = stack.pop() {
            if s == to {
                return true;
            }
            if seen.insert(s) {
                stack.extend(self.groups.get(s).into_iter().flatten());
            }
        }
        false
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
                self.bans.entry(subject.clone()).or_default().push(Ban {
                    seq,
                    subject: subject.clone(),
                    resource: resource.clone(),
                    rights: rights.clone(),
                    effective_at: *effective_at,
                });
            }
            Event::Join { member, group, .. } => {
                self.groups
                    .entry(member.clone())
                    .or_default()
                    .insert(group.clone());
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
