//! A ledger: the store, the rules state, and the operations on both.
//!
//! - this file: opening and creating a ledger, [`Ledger::append`] (sign each
//!   event, admit it through [`LedgerState::admit`], the same check `verify`
//!   runs, and commit the batch; if any event is refused, nothing is
//!   written), and reading entries;
//! - `writer`: [`Writer`], the one write path every entry takes into the
//!   store (append, import, reindex, the synthetic builder, replicas);
//! - `trust`: what a signer checks against its trusted head before signing;
//! - `verify`: the replay, `verify` with every derived-data check, `reindex`,
//!   and the commitment report;
//! - `transparency`: tree roots, proofs and checkpoints;
//! - `replica`: read replicas built by `mirror`;
//! - `migrate`: `reindex --migrate`, storage layout 1 to layout 2.

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

/// Entries per atomic commit when rebuilding derived data or building a
/// replica (`reindex`, `mirror`, the temporary ledger of `verify-export`).
/// sled holds a whole batch, about fifteen keys an entry, beside its page
/// cache until it is applied, and overshoots its cache under large batches:
/// `verify-export` of a 20,000-entry bundle peaked at 740 MB with 10,000 a
/// commit and 233 MB with 1,000, in the same time (docs/PERFORMANCE.md).
const REBUILD_CHUNK: u64 = 1_000;

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
    /// The [`state_digest`] of the latest rules-state snapshot, the one
    /// `state` was built from by replaying the entries after it (zeros for a
    /// ledger being created): the digest a signer records in its trusted head,
    /// without encoding the state again. Once `state` is authenticated, the
    /// snapshot and the entries after it give `state` (trust.rs).
    stored_digest: [u8; 32],
    /// Tree roots recomputed from the entries, by size (see `trusted_root`).
    roots: Mutex<BTreeMap<u64, TreeHash>>,
    /// The source, if this ledger is a read replica made by `mirror`.
    replica: Option<String>,
    /// The first stored entry after the latest snapshot that the replay at
    /// open could not admit: the log is damaged there, `state` stops before
    /// it, and no key may sign on it.
    damaged_tail: Option<ChainError>,
}

mod migrate;
mod replica;
mod transparency;
mod trust;
mod verify;
mod writer;

pub use migrate::Migrated;
pub use verify::{BackDoor, BanReport, Commitment, VerifyReport};
pub(crate) use writer::Writer;

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
            damaged_tail: None,
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
        Self::open_store(dir, Store::open(dir, wait)?)
    }

    /// [`Ledger::open`] for a process that reads the whole store once
    /// (`verify`, `backup`, `export`): the same checks, with a small page
    /// cache (16 MiB; see `Store::open_to_scan`).
    pub fn open_to_scan(dir: &Path, wait: Duration) -> Result<Ledger, LedgerError> {
        Self::open_store(dir, Store::open_to_scan(dir, wait)?)
    }

    fn open_store(dir: &Path, store: Store) -> Result<Ledger, LedgerError> {
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
        if !legacy && state.len() > count {
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
            damaged_tail: None,
        };
        if legacy {
            ledger.rebuild_legacy_state()?;
        } else {
            ledger.replay_tail()?;
        }
        Ok(ledger)
    }

    /// Brings the state read from the latest snapshot up to the head by
    /// replaying the entries after it through every rule but the signature
    /// check ([`LedgerState::admit_derived`]): the result is derived data, no
    /// more trusted than the snapshot, and a key checks it before it signs on
    /// it (trust.rs). An entry that does not decode or breaks a rule stops
    /// the replay there; the ledger still opens (so that `verify` can name
    /// the entry), holding the state before it, and refuses to sign.
    fn replay_tail(&mut self) -> Result<(), LedgerError> {
        for r in self.store.entries(self.state.len()) {
            let (seq, bytes) = r?;
            let admitted = match Entry::decode(&bytes) {
                Err(e) => Err(ChainError {
                    seq,
                    violation: Violation::Encoding(e),
                }),
                Ok(_) if seq != self.state.len() => Err(ChainError {
                    seq: self.state.len(),
                    violation: Violation::SeqMismatch {
                        expected: self.state.len(),
                        found: seq,
                    },
                }),
                Ok(entry) => self.state.admit_derived(entry),
            };
            if let Err(e) = admitted {
                self.damaged_tail = Some(e);
                break;
            }
        }
        Ok(())
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
        w.snapshot_now();
        self.stored_digest = w
            .commit()?
            .expect("a commit after snapshot_now writes a snapshot");
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
        if let Some(digest) = digest {
            self.stored_digest = digest;
        }
        let range = self
            .verified
            .as_mut()
            .expect("authenticate succeeded above");
        for e in &out {
            range.push(TreeHash::leaf(e.bytes()));
        }
        self.save_head(key, self.stored_digest);
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
