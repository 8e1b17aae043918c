//! A ledger: the store, the rules state, and the operations on both.
//!
//! [`Ledger::append`] is the only write path for entries: it signs each
//! event, runs it through [`LedgerState::admit`] (the same check `verify`
//! runs), derives the tree nodes and indexes, and commits all of it in one
//! atomic, flushed batch. If any event of a batch is refused, nothing is
//! written.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use crate::chain::{
    ChainError, ChainedEntry, LedgerState, LegacyLedgerState, Provenance, Violation,
};
use crate::checkpoint::{Checkpoint, SignedCheckpoint};
use crate::encoding;
use crate::entry::{Entry, EntryHash, SignedEntry};
use crate::event::Event;
use crate::event::Roles;
use crate::head::{state_digest, HeadError, HeadFile, TrustedHead};
use crate::ident::AuthorityName;
use crate::ident::{Origin, Resource, Subject, TimeZoneName};
use crate::keys::SecretKey;
use crate::merkle::{self, CompactRange, ConsistencyProof, InclusionProof, ProveError, TreeHash};
use crate::note::{Note, VerifierKey};
use crate::query::{rebuild_check, IndexDigest, IndexReport, Queries};
use crate::store::{Pending, RecordDigest, Store, StoreError, StoredSnapshot};
use crate::time::{Timestamp, Zone};

/// How long to wait for another process to release a ledger by default.
pub const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(3);

/// Entries per atomic commit when rebuilding derived data.
const REBUILD_CHUNK: u64 = 10_000;

/// Why a ledger operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An event was refused by the rules; nothing was written.
    #[error("refused: {0}")]
    Refused(ChainError),
    /// The stored log does not verify.
    #[error("verification failed at {0}")]
    Corrupt(ChainError),
    /// The signing key is not an active authority of this ledger.
    #[error("key {key} ({name}) is not an authority of this ledger")]
    NotAnAuthority {
        /// The key file's name.
        name: AuthorityName,
        /// The public key.
        key: String,
    },
    /// The key may not sign checkpoints.
    #[error("authority {0} may not sign checkpoints (needs the checkpoint role, and not retired)")]
    NotCheckpointSigner(AuthorityName),
    /// A bad argument, such as an unknown time zone.
    #[error("{0}")]
    Invalid(String),
    /// The store holds fewer entries than were acknowledged or verified:
    /// acknowledged history is gone (a torn tail dropped by sled's recovery,
    /// or a rollback).
    #[error("the ledger holds {found} entries but {by} saw {expected}: acknowledged entries are missing")]
    RolledBack {
        /// Entries stored now.
        found: u64,
        /// Entries acknowledged or verified before.
        expected: u64,
        /// Who saw them (the last acknowledged commit, or a key's trusted head).
        by: String,
    },
    /// An entry differs from the one that was acknowledged or verified.
    #[error("entry {seq} is not the one {by} saw: the history was rewritten")]
    Forked {
        /// The entry.
        seq: u64,
        /// Who saw the original.
        by: String,
    },
    /// Derived data (rules snapshot, tree nodes, indexes) does not match what
    /// the entries give; it was damaged or tampered with.
    #[error("derived data does not match the entries: {0}")]
    DerivedMismatch(String),
    /// The key's trusted heads file could not be used.
    #[error(transparent)]
    Head(#[from] HeadError),
    /// A write to a read replica: a replica only follows its source.
    #[error("this ledger is a read replica of {from}: it takes no writes")]
    Replica {
        /// The source it mirrors.
        from: String,
    },
}

/// An event to append, with an optional historical `recorded_at` (imports of
/// an earlier paper record); `None` means now.
#[derive(Debug, Clone)]
pub struct NewEntry {
    /// The event.
    pub event: Event,
    /// When it was recorded, if not now.
    pub recorded_at: Option<Timestamp>,
}

/// An open ledger.
pub struct Ledger {
    store: Store,
    state: LedgerState,
    /// The compact range of the whole log, present once this process has
    /// checked `state` against the entries ([`Ledger::authenticate`]); only
    /// then may it sign on top of `state`.
    verified: Option<CompactRange>,
    /// The [`state_digest`] of the snapshot `state` was decoded from or last
    /// committed as (zeros for a ledger being created): the digest a signer
    /// records in its trusted head, without encoding the state again.
    stored_digest: [u8; 32],
    /// Tree roots recomputed from the entries, by size (see `trusted_root`).
    roots: Mutex<BTreeMap<u64, TreeHash>>,
    /// The source, if this ledger is a read replica made by `mirror`.
    replica: Option<String>,
}

/// What `verify` found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct VerifyReport {
    /// Entries checked.
    pub entries: u64,
    /// The hash of the last entry.
    pub head: String,
    /// The ledger id (hash of genesis).
    pub ledger_id: String,
    /// Every permanent revocation, and whether it has been kept.
    pub bans: Vec<BanReport>,
}

/// A permanent revocation as `verify` saw it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BanReport {
    /// The revoke entry.
    pub seq: u64,
    /// Who.
    pub subject: String,
    /// What.
    pub resource: String,
    /// Which rights (`*` for all).
    pub rights: String,
    /// From when.
    pub effective_at: Timestamp,
    /// What became of the promise (docs/SEMANTICS.md, "Was the ban kept?").
    pub commitment: Commitment,
}

/// What became of a ban's promise, by the log alone: *kept*, *held* or
/// *back door open* (docs/SEMANTICS.md, "Was the ban kept?"). `verify`
/// reports it for every ban; the export and the audit use the same words.
/// It never affects `verify`'s verdict, which is about integrity.
///
/// A subject is *covered* by a ban of `B` when it is `B` or, while it is
/// one, a member of `B` (through nested groups).
///
/// JSON: `{"status": "kept"}`, `{"status": "held", "entries": [seq, ...]}`,
/// or `{"status": "back_door_open", "held": [seq, ...], "paths": [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Commitment {
    /// Nothing recorded after the ban would give a covered subject the
    /// banned right, and no flagged share path reaches one.
    Kept,
    /// Entries recorded after the ban would give a covered subject the
    /// banned right if the ban were ignored: the ban is doing its work.
    Held {
        /// Those entries (grants), by seq.
        entries: Vec<u64>,
    },
    /// A flagged exposure path with a sharing step carries banned data to a
    /// covered subject after the ban took effect: the ledger denies the
    /// access, but the data can still flow there by agreement.
    BackDoorOpen {
        /// Entries the ban holds, as in [`Commitment::Held`] (may be empty).
        held: Vec<u64>,
        /// The paths, each with where and when it was found.
        paths: Vec<BackDoor>,
    },
}

impl std::fmt::Display for Commitment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Commitment::Kept => "kept",
            Commitment::Held { .. } => "held",
            Commitment::BackDoorOpen { .. } => "back door open",
        })
    }
}

/// A flagged exposure path that reaches a subject covered by a ban.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BackDoor {
    /// The covered subject reached.
    pub subject: crate::ident::Subject,
    /// The resource asked about (the ban's, or a resource below it that a
    /// sharing agreement names).
    pub resource: crate::ident::Resource,
    /// The valid time at which the path was found.
    pub at: Timestamp,
    /// The path, as `exposure` gives it.
    pub path: crate::query::ExposurePath,
}

impl Ledger {
    /// Creates a ledger in `dir` with its genesis entry signed by `key`, which
    /// becomes the first authority with every role. `created_at` back-dates the
    /// genesis (for migrating an existing record); it bounds every later
    /// `recorded_at`.
    pub fn init(
        dir: &Path,
        origin: Origin,
        zone: &Zone,
        key: &SecretKey,
        created_at: Option<Timestamp>,
    ) -> Result<Ledger, LedgerError> {
        let now = Timestamp::now();
        let at = created_at.unwrap_or(now);
        if at > now {
            return Err(LedgerError::Invalid(format!(
                "--created-at {at} is in the future"
            )));
        }
        let time_zone =
            TimeZoneName::new(zone.name()).map_err(|e| LedgerError::Invalid(e.to_string()))?;
        let store = Store::create(dir)?;
        let mut ledger = Ledger {
            store,
            state: LedgerState::new(),
            // Nothing stored yet: the empty state is the truth.
            verified: Some(CompactRange::new()),
            stored_digest: [0; 32],
            roots: Mutex::default(),
            replica: None,
        };
        let genesis = Event::Genesis {
            origin,
            time_zone,
            authority: key.name().clone(),
            key: key.public(),
        };
        match ledger
            .append(
                key,
                vec![NewEntry {
                    event: genesis,
                    recorded_at: Some(at),
                }],
            )
            .and_then(|_| ledger.store.finish_create().map_err(LedgerError::from))
        {
            Ok(()) => Ok(ledger),
            Err(e) => {
                ledger.store.discard_new();
                Err(e)
            }
        }
    }

    /// Opens the ledger in `dir`, waiting up to `wait` for another process.
    pub fn open(dir: &Path, wait: Duration) -> Result<Ledger, LedgerError> {
        let store = Store::open(dir, wait)?;
        let count = store.entry_count()?;
        // Only the length is compared here: sled's recovery drops a tail, it
        // does not change entries, and a changed entry fails `verify` by its
        // hash and signature anyway.
        if let Some((size, _)) = store.acknowledged_head() {
            if count < size {
                return Err(LedgerError::RolledBack {
                    found: count,
                    expected: size,
                    by: "the last acknowledged commit".into(),
                });
            }
        }
        let mut legacy = false;
        let (state, stored_digest) = match store.latest_state()? {
            Some(b) => match encoding::decode_derived::<LedgerState>(&b) {
                Ok(state) => (state, state_digest(&b)),
                // A snapshot in the layout of an earlier version: the state is
                // rebuilt from the entries below, never read from it.
                Err(_) if encoding::decode_derived::<LegacyLedgerState>(&b).is_ok() => {
                    legacy = true;
                    (LedgerState::new(), [0; 32])
                }
                Err(e) => return Err(store.damaged_derived(format!("state snapshot: {e}")).into()),
            },
            None if count == 0 => return Err(StoreError::InterruptedInit(dir.to_owned()).into()),
            None => return Err(store.damaged_derived("state snapshot missing").into()),
        };
        if !legacy && state.len() != count {
            return Err(store
                .damaged_derived(format!(
                    "state snapshot covers {} entries but {} are stored",
                    state.len(),
                    count
                ))
                .into());
        }
        let replica = store.replica_source()?;
        let mut ledger = Ledger {
            store,
            state,
            stored_digest,
            verified: None,
            roots: Mutex::default(),
            replica,
        };
        if legacy {
            ledger.rebuild_legacy_state()?;
        }
        Ok(ledger)
    }

    /// Rebuilds the rules state of a ledger whose snapshot is in an earlier
    /// version's layout from the entries themselves (so it is verified), and
    /// keeps it in the current layout in one atomic commit, so that the next
    /// open reads it instead of replaying again.
    fn rebuild_legacy_state(&mut self) -> Result<(), LedgerError> {
        let mut range = CompactRange::new();
        self.state = self.replay(None, |e, _| {
            range.push(TreeHash::leaf(e.bytes()));
            Ok(())
        })?;
        let mut w = Writer::new(&self.store, self.state.clone());
        self.stored_digest = w.commit()?;
        self.verified = Some(range);
        Ok(())
    }

    /// The rules state at the head of the log.
    pub fn state(&self) -> &LedgerState {
        &self.state
    }

    /// The store underneath, for the library's own modules and the
    /// `internal` test API; the CLI never uses it.
    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// Answers permission questions at any valid and knowledge time from
    /// the indexes (docs/SEMANTICS.md).
    pub fn queries(&self) -> Queries<'_> {
        Queries::new(&self.store)
    }

    /// Compares the stored query indexes with a fresh replay of the entries.
    pub fn check_indexes(&self) -> Result<IndexReport, LedgerError> {
        Ok(rebuild_check(&self.store)?)
    }

    /// The ledger's time zone.
    pub fn zone(&self) -> Zone {
        self.state.zone()
    }

    /// The number of entries.
    pub fn len(&self) -> u64 {
        self.state.len()
    }

    /// Whether the ledger has no entries (never true of an initialised one).
    pub fn is_empty(&self) -> bool {
        self.state.is_empty()
    }

    /// Signs and appends `items` with `key`, all or nothing. Returns the
    /// admitted entries once they are durable.
    pub fn append(
        &mut self,
        key: &SecretKey,
        items: Vec<NewEntry>,
    ) -> Result<Vec<ChainedEntry>, LedgerError> {
        self.refuse_replica()?;
        if !self.state.is_empty() && self.state.authority_of(&key.public()).is_none() {
            return Err(not_an_authority(key));
        }
        self.authenticate(key, |_, _| {})?;
        let now = Timestamp::now();
        let floor = self.knowledge_floor()?;
        let mut w = Writer::new(&self.store, self.state.clone());
        w.pin(key);
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            // A clock behind the head would make recorded_at go backwards;
            // the rules refuse that, naming both times.
            let at = item.recorded_at.unwrap_or(now);
            if let Some((size, made_at)) = floor.filter(|&(_, t)| at < t) {
                let violation = Violation::BeforeCheckpoint {
                    recorded_at: at,
                    size,
                    made_at,
                };
                return Err(LedgerError::Refused(ChainError {
                    seq: w.state().len(),
                    violation,
                }));
            }
            let st = w.state();
            let signed = Entry::sign(
                st.len(),
                *st.head_hash(),
                at,
                item.event,
                key,
                st.ledger_id(),
            );
            out.push(w.push_signed(signed, Some(now))?);
        }
        let (state, digest) = w.finish()?;
        self.state = state;
        self.stored_digest = digest;
        let range = self
            .verified
            .as_mut()
            .expect("authenticate succeeded above");
        for e in &out {
            range.push(TreeHash::leaf(e.bytes()));
        }
        self.save_head(key, digest);
        Ok(out)
    }

    /// The latest time a stored, signed checkpoint says it was made at, with
    /// its size: no entry appended from now on may be recorded before it.
    fn knowledge_floor(&self) -> Result<Option<(u64, Timestamp)>, LedgerError> {
        let mut floor: Option<(u64, Timestamp)> = None;
        for note in self.checkpoints()? {
            let signed = self.open_checkpoint(&note, &self.state)?;
            let cp = signed.checkpoint();
            if let Some(t) = cp.time() {
                if floor.is_none_or(|(_, f)| t > f) {
                    floor = Some((cp.size(), t));
                }
            }
        }
        Ok(floor)
    }

    /// Checks the rules state this ledger holds against the entries, as far
    /// as `key`'s holder has not verified them already, so that `key` never
    /// signs on top of derived data an attacker with the directory could have
    /// written. With a trusted head for this ledger beside the key file, that
    /// is the entries appended since (from the snapshot pinned at the head,
    /// checked against the head's digest); without one, or if that snapshot
    /// is gone or does not match, the whole log, calling `progress(done,
    /// total)` now and then. Once per process: an append or checkpoint calls
    /// it first; a command may call it earlier to show progress.
    ///
    /// Fails if the log is shorter than the head ([`LedgerError::RolledBack`]),
    /// differs from it ([`LedgerError::Forked`]), breaks a rule
    /// ([`LedgerError::Corrupt`]), or if the stored rules snapshot differs
    /// from the replay ([`LedgerError::DerivedMismatch`]).
    pub fn authenticate(
        &mut self,
        key: &SecretKey,
        progress: impl FnMut(u64, u64),
    ) -> Result<(), LedgerError> {
        if self.verified.is_some() {
            return Ok(());
        }
        let head = match key.file().map(HeadFile::beside) {
            Some(f) => f.load(self.state.ledger_id())?,
            None => None,
        };
        let range = match head {
            Some(h) => match self.check_head(key, &h)? {
                Some(range) => range,
                None => self.replay_all(progress)?,
            },
            None => self.replay_all(progress)?,
        };
        self.verified = Some(range);
        Ok(())
    }

    /// Checks the log against `key`'s trusted head `h` and, when the
    /// snapshot pinned at the head is there and matches it, replays the
    /// entries since. `None` when only a replay of the whole log can tell.
    fn check_head(
        &self,
        key: &SecretKey,
        h: &TrustedHead,
    ) -> Result<Option<CompactRange>, LedgerError> {
        let by = || format!("key {}'s trusted head", key.name());
        let len = self.len();
        if len < h.size() {
            return Err(LedgerError::RolledBack {
                found: len,
                expected: h.size(),
                by: by(),
            });
        }
        if h.size() > 0 {
            let stored = self
                .store
                .entry_bytes(h.size() - 1)?
                .map(|b| EntryHash::of_entry_bytes(&b));
            if stored != Some(h.head) {
                return Err(LedgerError::Forked {
                    seq: h.size() - 1,
                    by: by(),
                });
            }
        }
        // The common case: nothing appended since this key's last signing,
        // and the snapshot read at open is the one the head vouches for.
        if len == h.size() && self.stored_digest == h.state_digest {
            return Ok(Some(h.range.clone()));
        }
        let Some(bytes) = self.store.state_at(h.size())? else {
            return Ok(None);
        };
        if state_digest(&bytes) != h.state_digest {
            return Ok(None);
        }
        let Ok(state) = encoding::decode_derived::<LedgerState>(&bytes) else {
            return Ok(None);
        };
        if state.len() != h.size() {
            return Ok(None);
        }
        let mut range = h.range.clone();
        let state = self.replay_from(state, None, |e, _| {
            range.push(TreeHash::leaf(e.bytes()));
            Ok(())
        })?;
        self.require_state(&state)?;
        Ok(Some(range))
    }

    /// Replays the whole log and checks the stored rules state against it;
    /// returns the tree's compact range computed from the entries.
    fn replay_all(&self, mut progress: impl FnMut(u64, u64)) -> Result<CompactRange, LedgerError> {
        let total = self.len();
        let mut range = CompactRange::new();
        let state = self.replay(None, |e, _| {
            range.push(TreeHash::leaf(e.bytes()));
            if e.seq() % 4096 == 0 {
                progress(e.seq(), total);
            }
            Ok(())
        })?;
        progress(total, total);
        self.require_state(&state)?;
        Ok(range)
    }

    /// Fails unless the stored rules-state snapshots are exactly those the
    /// snapshot directory lists (or the one snapshot of an earlier version),
    /// the latest is at the head, and each holds the state a replay gives at
    /// its size (`expected`, by digest).
    fn check_snapshots(
        &self,
        stored: &[StoredSnapshot],
        listed: Option<&[u64]>,
        expected: &BTreeMap<u64, [u8; 32]>,
    ) -> Result<(), LedgerError> {
        let bad = |what: String| Err(LedgerError::DerivedMismatch(what));
        let stored_sizes: Vec<Option<u64>> = stored.iter().map(|(s, _)| *s).collect();
        let want: Vec<Option<u64>> = match listed {
            Some(l) => l.iter().map(|&s| Some(s)).collect(),
            None => vec![None],
        };
        if stored_sizes != want {
            return bad(format!(
                "the rules-state snapshots stored ({}) are not those the snapshot directory lists ({})",
                stored_sizes.len(),
                want.len()
            ));
        }
        if listed.is_some_and(|l| l.last() != Some(&self.len())) {
            return bad("the latest rules-state snapshot is not at the head".into());
        }
        for (size, bytes) in stored {
            let size = size.unwrap_or(self.len());
            if expected.get(&size) != Some(&state_digest(bytes)) {
                return bad(format!(
                    "the rules snapshot at {size} entries differs from a replay of the entries"
                ));
            }
        }
        Ok(())
    }

    /// Fails unless the stored rules state equals `replayed`.
    fn require_state(&self, replayed: &LedgerState) -> Result<(), LedgerError> {
        if replayed != &self.state {
            return Err(LedgerError::DerivedMismatch(format!(
                "the rules snapshot at {} entries differs from a replay of the entries",
                self.state.len()
            )));
        }
        Ok(())
    }

    /// Records what this process verified for `key`'s holder (its trusted
    /// head). A cache of what was checked: failing to write it costs a later
    /// re-verification, never a wrong answer, so errors are ignored.
    fn save_head(&self, key: &SecretKey, state_digest: [u8; 32]) {
        let (Some(f), Some(range)) = (key.file().map(HeadFile::beside), self.verified.clone())
        else {
            return;
        };
        let _ = f.save(&TrustedHead {
            ledger_id: *self.state.ledger_id(),
            head: *self.state.head_hash(),
            state_digest,
            range,
        });
    }

    /// The entry at `seq`, decoded (not re-verified).
    pub fn entry(&self, seq: u64) -> Result<Option<Entry>, LedgerError> {
        match self.store.entry_bytes(seq)? {
            None => Ok(None),
            Some(b) => Entry::decode(&b).map(Some).map_err(|e| {
                self.store
                    .damaged(format!("entry {seq} does not decode: {e}"))
                    .into()
            }),
        }
    }

    /// Replays the whole log from the store and checks every rule: seq,
    /// links, strict signatures, signer authority at that point, time order,
    /// bans. Streams the entries; calls `progress(done, total)` now and then.
    pub fn verify(&self, mut progress: impl FnMut(u64, u64)) -> Result<VerifyReport, LedgerError> {
        let total = self.store.entry_count()?;
        // Allow a little clock skew between the writer and this verifier.
        let now = Timestamp::from_micros(Timestamp::now().as_micros().saturating_add(300_000_000));
        let notes = self.checkpoints()?;
        // The sizes the stored checkpoints claim; their roots are computed
        // from the entries during the replay, never read from tree nodes.
        // For each size, the root of the entries below it and the recorded_at
        // of the entry at it (the first one the checkpoint did not cover).
        let mut roots: BTreeMap<u64, (Option<TreeHash>, Option<Timestamp>)> = notes
            .iter()
            .filter_map(|n| {
                let note = Note::parse(n).ok()?;
                Some((Checkpoint::parse(note.text()).ok()?.size(), (None, None)))
            })
            .collect();
        let mut range = CompactRange::new();
        let mut tree = RecordDigest::new();
        let mut index = IndexDigest::new(&tree);
        // The rules-state snapshots the store keeps, by size, and what a
        // replay says each should hold.
        let (snapshots, listed) = self.store.state_snapshots()?;
        let mut expected_states: BTreeMap<u64, [u8; 32]> = BTreeMap::new();
        let listed_sizes: Vec<u64> = listed.clone().unwrap_or_else(|| vec![total]);
        // For the commitment report: the entries each ban holds, and where
        // sharing agreements go and on what.
        let mut held: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
        let mut shared: BTreeMap<Subject, BTreeSet<Resource>> = BTreeMap::new();
        let state = self.replay(Some(now), |e, state| {
            index.add_entry(e);
            if listed_sizes.contains(&state.len()) {
                let digest = state_digest(&encoding::encode_derived(state));
                expected_states.insert(state.len(), digest);
            }
            for ban in state.held_by(e) {
                held.entry(ban).or_default().push(e.seq());
            }
            if let Event::Share { to, resource, .. } = e.body() {
                shared
                    .entry(to.clone())
                    .or_default()
                    .insert(resource.clone());
            }
            if let Some(next) = roots.get_mut(&e.seq()) {
                next.1 = Some(e.recorded_at());
            }
            range.push_with(TreeHash::leaf(e.bytes()), |level, index, hash| {
                tree.add_tree_node(level, index, hash)
            });
            if let Some(root) = roots.get_mut(&range.size()) {
                root.0 = Some(range.root());
            }
            if e.seq() % 4096 == 0 {
                progress(e.seq(), total);
            }
            Ok(())
        })?;
        progress(total, total);
        if state.is_empty() {
            return Err(LedgerError::Store(
                self.store.damaged("the ledger has no entries"),
            ));
        }
        self.require_state(&state)?;
        self.check_snapshots(&snapshots, listed.as_deref(), &expected_states)?;
        if self.store.tree_digest_like(&tree)? != tree {
            return Err(LedgerError::DerivedMismatch(
                "the stored Merkle tree nodes differ from the tree of the entries".into(),
            ));
        }
        let index = index.finish();
        if let Some(space) = index.first_difference(&index.stored(&self.store)?) {
            return Err(LedgerError::DerivedMismatch(format!(
                "the query index records of key space {:?} differ from those of the entries",
                char::from(space)
            )));
        }
        for note in &notes {
            let signed = self.open_checkpoint(note, &state)?;
            let cp = signed.checkpoint();
            let (root, next) = roots.get(&cp.size()).copied().unwrap_or_default();
            if root.as_ref() != Some(cp.root()) {
                return Err(corrupt(
                    cp.size().min(state.len()),
                    Violation::CheckpointMismatch { size: cp.size() },
                ));
            }
            if let (Some(recorded_at), Some(made_at)) = (next, cp.time()) {
                if recorded_at < made_at {
                    let violation = Violation::BeforeCheckpoint {
                        recorded_at,
                        size: cp.size(),
                        made_at,
                    };
                    return Err(corrupt(cp.size(), violation));
                }
            }
        }
        let bans = self.commitments(&state, held, &shared)?;
        Ok(VerifyReport {
            entries: state.len(),
            head: state.head_hash().to_hex(),
            ledger_id: state.ledger_id().to_hex(),
            bans,
        })
    }

    /// The commitment report of every ban of the verified log whose rules
    /// state is `state` (see [`Commitment`]): `held` as collected during the
    /// replay; back doors from `exposure` at the ban's effective time and
    /// now, for each covered subject that is, or is a member of, a share
    /// recipient (`shared`: recipient -> the resources shared with it), on
    /// the ban's resource and on each resource below it shared with that
    /// subject or one of its groups. Only called once the indexes are
    /// verified.
    fn commitments(
        &self,
        state: &LedgerState,
        mut held: BTreeMap<u64, Vec<u64>>,
        shared: &BTreeMap<Subject, BTreeSet<Resource>>,
    ) -> Result<Vec<BanReport>, LedgerError> {
        let queries = self.queries();
        let reached_by_shares = state.ever_members(shared.keys());
        let now = Timestamp::now();
        let mut out = Vec::new();
        for b in state.bans() {
            let held = held.remove(&b.seq).unwrap_or_default();
            let covered = state.ever_members([&b.subject]);
            let mut instants = vec![b.effective_at];
            if now > b.effective_at {
                instants.push(now);
            }
            let mut paths: Vec<BackDoor> = Vec::new();
            for c in covered.intersection(&reached_by_shares) {
                let mut resources = BTreeSet::from([b.resource.clone()]);
                for x in state.ever_groups(c) {
                    resources.extend(
                        shared
                            .get(&x)
                            .into_iter()
                            .flatten()
                            .filter(|r| b.resource.covers(r))
                            .cloned(),
                    );
                }
                for r in &resources {
                    for &at in &instants {
                        for p in queries
                            .exposure(c, r, at, Timestamp::MAX)
                            .map_err(|e| LedgerError::DerivedMismatch(e.to_string()))?
                        {
                            let seqs = |p: &crate::query::ExposurePath| {
                                p.steps.iter().map(|s| s.seq).collect::<Vec<_>>()
                            };
                            if p.kind == crate::query::PathKind::Share
                                && p.banned.contains(&b.seq)
                                && !paths.iter().any(|d| seqs(&d.path) == seqs(&p))
                            {
                                paths.push(BackDoor {
                                    subject: c.clone(),
                                    resource: r.clone(),
                                    at,
                                    path: p,
                                });
                            }
                        }
                    }
                }
            }
            let commitment = if !paths.is_empty() {
                Commitment::BackDoorOpen { held, paths }
            } else if !held.is_empty() {
                Commitment::Held { entries: held }
            } else {
                Commitment::Kept
            };
            out.push(BanReport {
                seq: b.seq,
                subject: b.subject.to_string(),
                resource: b.resource.to_string(),
                rights: b
                    .rights
                    .as_ref()
                    .map(|r| r.to_string())
                    .unwrap_or_else(|| "*".into()),
                effective_at: b.effective_at,
                commitment,
            });
        }
        out.sort_by_key(|r| r.seq);
        Ok(out)
    }

    /// Replays every stored entry through the rules from an empty state (the
    /// checks of [`LedgerState::admit`], with `now` bounding `recorded_at`) and
    /// hands each admitted entry and the state after it to `each`. Streams:
    /// holds one entry at a time. The first entry that does not decode, is
    /// stored out of place, or breaks a rule ends the replay as
    /// [`LedgerError::Corrupt`] naming its seq.
    fn replay(
        &self,
        now: Option<Timestamp>,
        each: impl FnMut(&ChainedEntry, &LedgerState) -> Result<(), LedgerError>,
    ) -> Result<LedgerState, LedgerError> {
        self.replay_from(LedgerState::new(), now, each)
    }

    /// [`Ledger::replay`] of the entries after `state` (the state of the
    /// first `state.len()` entries), from there on.
    fn replay_from(
        &self,
        mut state: LedgerState,
        now: Option<Timestamp>,
        mut each: impl FnMut(&ChainedEntry, &LedgerState) -> Result<(), LedgerError>,
    ) -> Result<LedgerState, LedgerError> {
        for r in self.store.entries(state.len()) {
            let (seq, bytes) = r?;
            let entry = Entry::decode(&bytes).map_err(|e| corrupt(seq, Violation::Encoding(e)))?;
            if seq != state.len() {
                let violation = Violation::SeqMismatch {
                    expected: state.len(),
                    found: seq,
                };
                return Err(corrupt(state.len(), violation));
            }
            let chained = state
                .admit(entry, now, Provenance::Stored)
                .map_err(LedgerError::Corrupt)?;
            each(&chained, &state)?;
        }
        Ok(state)
    }

    /// Deletes every derived value and rebuilds it from the entries alone,
    /// checking every entry on the way (a damaged log is not reindexed).
    pub fn reindex(&mut self, mut progress: impl FnMut(u64, u64)) -> Result<(), LedgerError> {
        let total = self.store.entry_count()?;
        self.store.clear_derived()?;
        let mut w = Writer::new(&self.store, LedgerState::new());
        let state = self.replay(None, |e, state| {
            w.restage(e, state.clone())?;
            if w.staged() == REBUILD_CHUNK {
                w.commit()?;
                progress(e.seq() + 1, total);
            }
            Ok(())
        })?;
        debug_assert_eq!(w.state().len(), state.len());
        (self.state, self.stored_digest) = w.finish()?;
        progress(total, total);
        Ok(())
    }
}

/// The one batch writer: every byte that reaches the store on behalf of an
/// entry goes through here, for append, import, reindex and the synthetic
/// ledger builder alike.
///
/// A writer holds the rules state after the entries it has staged so far. Each
/// entry is admitted by [`LedgerState::admit`] before anything of it is staged;
/// [`Writer::commit`] then writes the staged entries, everything derived from
/// them (tree nodes, indexes) and the state snapshot in one atomic, durable
/// batch. A writer that is dropped without `commit` writes nothing.
pub(crate) struct Writer<'s> {
    store: &'s Store,
    state: LedgerState,
    pending: Pending<'s>,
    staged: u64,
    /// The signer whose trusted head each commit's snapshot is pinned for.
    pin: Option<Vec<u8>>,
}

impl<'s> Writer<'s> {
    /// A writer that extends the log whose rules state is `state`. The caller
    /// MUST pass the state of the entries `store` holds (or, for reindex, of
    /// the entries it has replayed so far).
    pub(crate) fn new(store: &'s Store, state: LedgerState) -> Self {
        Writer {
            store,
            state,
            pending: store.pending(),
            staged: 0,
            pin: None,
        }
    }

    /// Keeps each snapshot this writer commits until `key` signs again, so
    /// that its holder's next signing can check the entries since from it.
    pub(crate) fn pin(&mut self, key: &SecretKey) {
        self.pin = Some(key.public().as_bytes().to_vec());
    }

    /// The rules state after every staged entry.
    pub(crate) fn state(&self) -> &LedgerState {
        &self.state
    }

    /// Entries staged since the last commit.
    pub(crate) fn staged(&self) -> u64 {
        self.staged
    }

    /// Admits an entry signed elsewhere (a replica's source) as the next one,
    /// with every check of [`LedgerState::admit`] (its signature included),
    /// and stages it with its derived data. On refusal nothing is staged.
    pub(crate) fn push_entry(&mut self, entry: Entry) -> Result<ChainedEntry, LedgerError> {
        let chained = self
            .state
            .admit(entry, None, Provenance::Stored)
            .map_err(LedgerError::Refused)?;
        self.stage(&chained, true)?;
        Ok(chained)
    }

    /// Admits a just-signed entry as the next one and stages it with its
    /// derived data. On refusal ([`LedgerError::Refused`]) nothing is staged
    /// and the state is unchanged.
    pub(crate) fn push_signed(
        &mut self,
        signed: SignedEntry,
        now: Option<Timestamp>,
    ) -> Result<ChainedEntry, LedgerError> {
        let chained = self
            .state
            .admit_signed(signed, now, Provenance::New)
            .map_err(LedgerError::Refused)?;
        self.stage(&chained, true)?;
        Ok(chained)
    }

    /// Stages only the derived data of an entry the store already holds,
    /// which the caller has just admitted, `state` being the state after it
    /// (reindex).
    fn restage(&mut self, chained: &ChainedEntry, state: LedgerState) -> Result<(), StoreError> {
        self.state = state;
        self.stage(chained, false)
    }

    fn stage(&mut self, e: &ChainedEntry, with_entry: bool) -> Result<(), StoreError> {
        if with_entry {
            self.pending.put_entry(e.seq(), e.bytes());
        }
        // The entry's seq is the tree size before it: entries are the leaves in order.
        merkle::append_leaf(&mut self.pending, e.seq(), TreeHash::leaf(e.bytes()))?;
        crate::query::index_entry(&mut self.pending, e)?;
        self.staged += 1;
        Ok(())
    }

    /// Writes everything staged, with the state snapshot, in one atomic and
    /// durable batch, then records the new head beside the store. Only when
    /// this returns `Ok` may the staged entries be reported as appended.
    /// Returns the [`state_digest`] of the snapshot written.
    pub(crate) fn commit(&mut self) -> Result<[u8; 32], StoreError> {
        let mut p = std::mem::replace(&mut self.pending, self.store.pending());
        let bytes = encoding::encode_derived(&self.state);
        let digest = state_digest(&bytes);
        p.put_state(self.state.len(), bytes, self.pin.as_deref())?;
        self.store.commit(p)?;
        self.staged = 0;
        // The record only turns a later silent loss into an error; a failure
        // to write it must not fail a commit that is already durable.
        let _ = self
            .store
            .record_head(self.state.len(), &self.state.head_hash().0);
        Ok(digest)
    }

    /// Commits what is staged; returns the state it ends at and its digest.
    pub(crate) fn finish(mut self) -> Result<(LedgerState, [u8; 32]), StoreError> {
        let digest = self.commit()?;
        Ok((self.state, digest))
    }
}

/// Transparency: the Merkle tree over the entries, checkpoints and proofs.
impl Ledger {
    /// The RFC 6962 root of the first `size` entries (O(log n) reads).
    pub fn root(&self, size: u64) -> Result<TreeHash, LedgerError> {
        self.check_size(size)?;
        Ok(merkle::tree_root(&self.store, size)?)
    }

    fn check_size(&self, size: u64) -> Result<(), LedgerError> {
        if size > self.len() {
            return Err(LedgerError::Invalid(format!(
                "tree size {size} is larger than the ledger ({} entries)",
                self.len()
            )));
        }
        Ok(())
    }

    /// The inclusion proof of entry `seq` in the tree of `size` entries.
    pub fn prove_inclusion(&self, seq: u64, size: u64) -> Result<InclusionProof, LedgerError> {
        self.check_size(size)?;
        if seq >= size {
            return Err(LedgerError::Invalid(format!(
                "seq {seq} is not in a tree of {size} entries"
            )));
        }
        let proof = InclusionProof::prove(&self.store, seq, size).map_err(prove_error)?;
        let bytes = self
            .store
            .entry_bytes(seq)?
            .ok_or_else(|| self.store.damaged(format!("entry {seq} is missing")))?;
        if proof.leaf_hash() != &TreeHash::leaf(&bytes)
            || proof.verify().is_err()
            || proof.root_hash() != &self.trusted_root(size)?
        {
            return Err(forged_tree(size));
        }
        Ok(proof)
    }

    /// The consistency proof from the tree of `old` entries to the tree of `new`.
    pub fn prove_consistency(&self, old: u64, new: u64) -> Result<ConsistencyProof, LedgerError> {
        self.check_size(new)?;
        if old > new {
            return Err(LedgerError::Invalid(format!(
                "--from {old} is larger than --to {new}"
            )));
        }
        let proof = ConsistencyProof::prove(&self.store, old, new).map_err(prove_error)?;
        if proof.verify().is_err()
            || proof.old_root() != &self.trusted_root(old)?
            || proof.new_root() != &self.trusted_root(new)?
        {
            return Err(forged_tree(new));
        }
        Ok(proof)
    }

    /// The root of the first `size` entries from something tree nodes
    /// cannot forge: the compact range this process verified, a stored
    /// checkpoint of that size whose signature verifies, or else the entries
    /// themselves, hashed once per process and size.
    pub fn trusted_root(&self, size: u64) -> Result<TreeHash, LedgerError> {
        self.check_size(size)?;
        if let Some(r) = self.verified.as_ref().filter(|r| r.size() == size) {
            return Ok(r.root());
        }
        // A poisoned lock only means another thread panicked mid-insert of a
        // value it had computed in full; the map is still sound.
        let mut roots = self.roots.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(root) = roots.get(&size) {
            return Ok(*root);
        }
        let signed = self.checkpoints()?.into_iter().find_map(|note| {
            let cp = self.open_checkpoint(&note, &self.state).ok()?;
            (cp.checkpoint().size() == size).then(|| *cp.checkpoint().root())
        });
        let root = match signed {
            Some(root) => root,
            None => {
                let mut range = CompactRange::new();
                for r in self
                    .store
                    .entries(0)
                    .take(usize::try_from(size).unwrap_or(usize::MAX))
                {
                    range.push(TreeHash::leaf(&r?.1));
                }
                range.root()
            }
        };
        roots.insert(size, root);
        Ok(root)
    }

    /// Signs a checkpoint of the current head with `key` (an active authority
    /// with the checkpoint role) and stores it durably. The root is computed
    /// from entries this process verified. If `key` already signed a
    /// checkpoint of this size, that one is returned as it is.
    pub fn checkpoint(&mut self, key: &SecretKey) -> Result<SignedCheckpoint, LedgerError> {
        self.refuse_replica()?;
        let name = self
            .state
            .authority_of(&key.public())
            .cloned()
            .ok_or_else(|| not_an_authority(key))?;
        let a = &self.state.authorities()[&name];
        if a.retired_seq.is_some() || !a.roles.contains(Roles::CHECKPOINT) {
            return Err(LedgerError::NotCheckpointSigner(name));
        }
        self.authenticate(key, |_, _| {})?;
        // The root signed is computed from entries this process verified,
        // never read from stored tree nodes; nodes that disagree would make
        // proofs that do not match it, so they are refused here too.
        let range = self.verified.clone().expect("authenticate succeeded above");
        let root = range.root();
        if merkle::tree_root(&self.store, self.len()).ok() != Some(root) {
            return Err(LedgerError::DerivedMismatch(format!(
                "the stored Merkle tree nodes do not hash to the root of the {} entries",
                self.len()
            )));
        }
        // The note names the key by its authority name, which verifiers pair
        // with the key in `authority list`.
        let named = SecretKey::from_secret_named(key, name.clone());
        let origin = self
            .state
            .origin()
            .cloned()
            .ok_or_else(|| self.store.damaged("no origin"))?;
        // This key already signed this size: that checkpoint stands (it may
        // have been acknowledged and handed out), with the time it was made.
        if let Some(note) = self.store.checkpoint_note(self.len(), name.as_str())? {
            let vk = VerifierKey::new(name.clone(), key.public());
            let stored = String::from_utf8(note)
                .ok()
                .and_then(|n| SignedCheckpoint::open(&n, &vk).ok())
                .filter(|c| c.checkpoint().size() == self.len() && c.checkpoint().root() == &root);
            if let Some(stored) = stored {
                self.save_head(key, self.stored_digest);
                return Ok(stored);
            }
        }
        let cp = Checkpoint::new(origin, self.len(), root).made_at(Timestamp::now());
        let signed = SignedCheckpoint::sign(cp, &named);
        let mut p = self.store.pending();
        p.put_checkpoint(self.len(), name.as_str(), &signed.to_string());
        p.pin_state(self.len(), key.public().as_bytes())?;
        self.store.commit(p)?;
        self.save_head(key, self.stored_digest);
        Ok(signed)
    }

    /// Every stored checkpoint note, oldest first.
    pub fn checkpoints(&self) -> Result<Vec<String>, LedgerError> {
        self.store
            .checkpoint_notes()
            .map(|r| {
                String::from_utf8(r?).map_err(|_| {
                    self.store
                        .damaged("a stored checkpoint is not UTF-8")
                        .into()
                })
            })
            .collect()
    }

    /// The latest stored checkpoint, checked against its signer's key and
    /// against the tree.
    pub fn latest_checkpoint(&self) -> Result<Option<SignedCheckpoint>, LedgerError> {
        match self.checkpoints()?.last() {
            None => Ok(None),
            Some(note) => self.check_checkpoint(note).map(Some),
        }
    }

    /// Opens a stored checkpoint note with the key of the authority that
    /// signed it, and checks its origin and root against this ledger.
    pub fn check_checkpoint(&self, note: &str) -> Result<SignedCheckpoint, LedgerError> {
        let signed = self.open_checkpoint(note, &self.state)?;
        let cp = signed.checkpoint();
        if cp.size() > self.len() || &self.root(cp.size())? != cp.root() {
            return Err(corrupt(
                cp.size().min(self.len()),
                Violation::CheckpointMismatch { size: cp.size() },
            ));
        }
        Ok(signed)
    }

    /// Opens a stored checkpoint note with the key, in `state`, of the
    /// authority that signed it, and checks its origin.
    fn open_checkpoint(
        &self,
        note: &str,
        state: &LedgerState,
    ) -> Result<SignedCheckpoint, LedgerError> {
        let parsed =
            Note::parse(note).map_err(|e| self.store.damaged(format!("stored checkpoint: {e}")))?;
        let bad = |what: String| {
            LedgerError::Store(self.store.damaged(format!("stored checkpoint: {what}")))
        };
        let sig = parsed
            .signatures()
            .first()
            .ok_or_else(|| bad("no signature".into()))?;
        let name = AuthorityName::new(sig.name()).map_err(|e| bad(e.to_string()))?;
        let a = state
            .authorities()
            .get(&name)
            .ok_or_else(|| bad(format!("unknown signer {name}")))?;
        let vk = VerifierKey::new(name, a.key);
        let signed = SignedCheckpoint::open(note, &vk).map_err(|e| bad(e.to_string()))?;
        if Some(signed.checkpoint().origin()) != state.origin() {
            let origin = signed.checkpoint().origin();
            return Err(bad(format!("origin {origin} is not this ledger's")));
        }
        Ok(signed)
    }
}

/// Read replicas: a copy of another ledger, built from its published
/// entries by `mirror`, that answers every query and takes no write.
///
/// A replica's entries go through the same `Writer` as every other write,
/// each admitted by [`LedgerState::admit`] with its signature; the
/// checkpoint that covers them is stored like any other, so `verify` checks
/// a replica exactly as it checks its source. The replica record
/// (key `R` in the store) marks the store, and [`Ledger::append`] and
/// [`Ledger::checkpoint`] refuse to write there ([`LedgerError::Replica`]).
impl Ledger {
    /// The source this ledger mirrors, if it is a read replica.
    pub fn replica_source(&self) -> Option<&str> {
        self.replica.as_deref()
    }

    fn refuse_replica(&self) -> Result<(), LedgerError> {
        match &self.replica {
            Some(source) => Err(LedgerError::Replica {
                from: source.clone(),
            }),
            None => Ok(()),
        }
    }

    /// Creates a read replica in `dir` (new or empty) from `entries` (each
    /// entry's exact signed bytes, from the genesis on) and the signed
    /// `checkpoint` note that covers exactly them; see
    /// [`Ledger::extend_replica`]. On an error the directory is removed.
    pub fn create_replica<E: From<LedgerError>>(
        dir: &Path,
        source: &str,
        checkpoint: &str,
        entries: impl IntoIterator<Item = Result<Vec<u8>, E>>,
        progress: impl FnMut(u64),
    ) -> Result<Ledger, E> {
        let store = Store::create(dir).map_err(LedgerError::from)?;
        let mut ledger = Ledger {
            store,
            state: LedgerState::new(),
            verified: Some(CompactRange::new()),
            stored_digest: [0; 32],
            roots: Mutex::default(),
            replica: Some(source.to_owned()),
        };
        let made = ledger
            .extend_replica_from(&CompactRange::new(), source, checkpoint, entries, progress)
            .and_then(|()| {
                ledger
                    .store
                    .finish_create()
                    .map_err(|e| E::from(LedgerError::from(e)))
            });
        match made {
            Ok(()) => Ok(ledger),
            Err(e) => {
                ledger.store.discard_new();
                Err(e)
            }
        }
    }

    /// Appends `entries` (exact signed bytes, from seq `self.len()` on) to
    /// this read replica, with `checkpoint`, the source's signed checkpoint
    /// note covering exactly the log they end. `start` is the compact range
    /// of the entries this replica holds, from the source's tiles; its root
    /// MUST be the root this replica trusts at its size (its stored
    /// checkpoint's), or nothing is written ([`LedgerError::Forked`]).
    ///
    /// Every entry is admitted by [`LedgerState::admit`] (links, signature,
    /// authority, bans, time) through the one `Writer`; commits are made
    /// every 10,000 entries (memory stays bounded), and the last one also
    /// stores the checkpoint and the replica record, once the checkpoint's
    /// signature (by an authority of the replicated log), origin, size and
    /// root all check out against the entries. The caller SHOULD check the
    /// whole batch first (as `mirror` does), so that a refusal leaves the
    /// replica as it was: a refused entry or checkpoint here leaves the
    /// entries committed before it, every one of them admitted.
    pub fn extend_replica<E: From<LedgerError>>(
        &mut self,
        start: &CompactRange,
        checkpoint: &str,
        entries: impl IntoIterator<Item = Result<Vec<u8>, E>>,
        progress: impl FnMut(u64),
    ) -> Result<(), E> {
        let source = self.replica.clone().ok_or_else(|| {
            LedgerError::Invalid(
                "this ledger is not a read replica; mirror writes only to one".into(),
            )
        })?;
        if start.size() != self.len() || start.root() != self.trusted_root(self.len())? {
            return Err(LedgerError::Forked {
                seq: self.len().saturating_sub(1),
                by: "this replica".into(),
            }
            .into());
        }
        self.extend_replica_from(start, &source, checkpoint, entries, progress)
    }

    fn extend_replica_from<E: From<LedgerError>>(
        &mut self,
        start: &CompactRange,
        source: &str,
        checkpoint: &str,
        entries: impl IntoIterator<Item = Result<Vec<u8>, E>>,
        mut progress: impl FnMut(u64),
    ) -> Result<(), E> {
        let mut range = start.clone();
        let mut w = Writer::new(&self.store, self.state.clone());
        for bytes in entries {
            let bytes = bytes?;
            let seq = w.state().len();
            let entry = Entry::decode(&bytes).map_err(|e| {
                LedgerError::Refused(ChainError {
                    seq,
                    violation: Violation::Encoding(e),
                })
            })?;
            w.push_entry(entry)?;
            range.push(TreeHash::leaf(&bytes));
            if w.staged() == REBUILD_CHUNK {
                w.commit().map_err(LedgerError::from)?;
                progress(seq + 1);
            }
        }
        let signed = self.open_checkpoint(checkpoint, w.state())?;
        let cp = signed.checkpoint();
        if cp.size() != range.size() || cp.root() != &range.root() {
            let size = cp.size();
            return Err(corrupt(
                size.min(range.size()),
                Violation::CheckpointMismatch { size },
            )
            .into());
        }
        let signer = signed.signatures()[0].name().to_owned();
        w.pending.put_checkpoint(cp.size(), &signer, checkpoint);
        w.pending.put_replica_source(source);
        let (state, _) = w.finish().map_err(LedgerError::from)?;
        progress(state.len());
        self.state = state;
        self.verified = Some(range);
        Ok(())
    }
}

fn forged_tree(size: u64) -> LedgerError {
    LedgerError::DerivedMismatch(format!(
        "the stored Merkle tree nodes do not hash to the root of the first {size} entries; no proof was made"
    ))
}

fn corrupt(seq: u64, violation: Violation) -> LedgerError {
    LedgerError::Corrupt(ChainError { seq, violation })
}

fn not_an_authority(key: &SecretKey) -> LedgerError {
    LedgerError::NotAnAuthority {
        name: key.name().clone(),
        key: key.verifier().to_string(),
    }
}

fn prove_error(e: ProveError<StoreError>) -> LedgerError {
    match e {
        ProveError::Source(s) => LedgerError::Store(s),
        e => LedgerError::Invalid(e.to_string()),
    }
}
