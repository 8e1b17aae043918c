//! A ledger: the store, the rules state, and the operations on both.
//!
//! [`Ledger::append`] is the only write path for entries: it signs each
//! event, runs it through [`LedgerState::admit`] (the same check `verify`
//! runs), derives the tree nodes and indexes, and commits all of it in one
//! atomic, flushed batch. If any event of a batch is refused, nothing is
//! written.

use std::path::Path;
use std::time::Duration;

use crate::chain::{ChainError, ChainedEntry, LedgerState, Violation};
use crate::checkpoint::{Checkpoint, SignedCheckpoint};
use crate::encoding;
use crate::entry::{Entry, SignedEntry};
use crate::event::Event;
use crate::event::Roles;
use crate::ident::AuthorityName;
use crate::ident::{Origin, Text};
use crate::keys::SecretKey;
use crate::merkle::{self, ConsistencyProof, InclusionProof, ProveError, TreeHash};
use crate::note::{Note, VerifierKey};
use crate::query::{rebuild_check, IndexReport, Queries};
use crate::store::{self, Pending, Store, StoreError};
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
    /// Whether no later entry granted it back (always true of a log that
    /// verifies: such a grant fails verification).
    pub kept: bool,
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
            Text::new("time zone", zone.name()).map_err(|e| LedgerError::Invalid(e.to_string()))?;
        let store = Store::create(dir)?;
        let mut ledger = Ledger {
            store,
            state: LedgerState::new(),
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
        let state = match store.get(store::STATE_KEY)? {
            Some(b) => encoding::decode_derived::<LedgerState>(&b)
                .map_err(|e| store.damaged_derived(format!("state snapshot: {e}")))?,
            None if count == 0 => return Err(StoreError::InterruptedInit(dir.to_owned()).into()),
            None => return Err(store.damaged_derived("state snapshot missing").into()),
        };
        if state.len() != count {
            return Err(store
                .damaged_derived(format!(
                    "state snapshot covers {} entries but {} are stored",
                    state.len(),
                    count
                ))
                .into());
        }
        Ok(Ledger { store, state })
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
        if !self.state.is_empty() && self.state.authority_of(&key.public()).is_none() {
            return Err(not_an_authority(key));
        }
        let now = Timestamp::now();
        let mut w = Writer::new(&self.store, self.state.clone());
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            // A clock behind the head would make recorded_at go backwards;
            // the rules refuse that, naming both times.
            let at = item.recorded_at.unwrap_or(now);
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
        self.state = w.finish()?;
        Ok(out)
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
        let state = self.replay(Some(now), |e, _| {
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
        if state.head_hash() != self.state.head_hash() || state.len() != self.state.len() {
            return Err(LedgerError::Store(
                self.store
                    .damaged_derived("the rules snapshot does not match the entries"),
            ));
        }
        for note in self.checkpoints()? {
            self.check_checkpoint(&note)?;
        }
        let bans = state
            .bans()
            .map(|b| BanReport {
                seq: b.seq,
                subject: b.subject.to_string(),
                resource: b.resource.to_string(),
                rights: b
                    .rights
                    .as_ref()
                    .map(|r| r.to_string())
                    .unwrap_or_else(|| "*".into()),
                effective_at: b.effective_at,
                kept: true,
            })
            .collect();
        Ok(VerifyReport {
            entries: state.len(),
            head: state.head_hash().to_hex(),
            ledger_id: state.ledger_id().to_hex(),
            bans,
        })
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
        mut each: impl FnMut(&ChainedEntry, &LedgerState) -> Result<(), LedgerError>,
    ) -> Result<LedgerState, LedgerError> {
        let mut state = LedgerState::new();
        for r in self.store.entries(0) {
            let (seq, bytes) = r?;
            let corrupt = |seq, violation| LedgerError::Corrupt(ChainError { seq, violation });
            let entry = Entry::decode(&bytes).map_err(|e| corrupt(seq, Violation::Encoding(e)))?;
            if seq != state.len() {
                let violation = Violation::SeqMismatch {
                    expected: state.len(),
                    found: seq,
                };
                return Err(corrupt(state.len(), violation));
            }
            let chained = state.admit(entry, now).map_err(LedgerError::Corrupt)?;
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
        self.state = w.finish()?;
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
        }
    }

    /// The rules state after every staged entry.
    pub(crate) fn state(&self) -> &LedgerState {
        &self.state
    }

    /// Entries staged since the last commit.
    pub(crate) fn staged(&self) -> u64 {
        self.staged
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
            .admit_signed(signed, now)
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
            self.pending
                .put(store::entry_key(e.seq()).to_vec(), e.bytes().to_vec());
        }
        // The entry's seq is the tree size before it: entries are the leaves in order.
        merkle::append_leaf(&mut self.pending, e.seq(), TreeHash::leaf(e.bytes()))?;
        crate::query::index_entry(&mut self.pending, e)?;
        self.staged += 1;
        Ok(())
    }

    /// Writes everything staged, with the state snapshot, in one atomic and
    /// durable batch. Only when this returns `Ok` may the staged entries be
    /// reported as appended.
    pub(crate) fn commit(&mut self) -> Result<(), StoreError> {
        let mut p = std::mem::replace(&mut self.pending, self.store.pending());
        p.put(
            store::STATE_KEY.to_vec(),
            encoding::encode_derived(&self.state),
        );
        self.store.commit(p)?;
        self.staged = 0;
        Ok(())
    }

    /// Commits what is staged and returns the state it ends at.
    pub(crate) fn finish(mut self) -> Result<LedgerState, StoreError> {
        self.commit()?;
        Ok(self.state)
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
        InclusionProof::prove(&self.store, seq, size).map_err(prove_error)
    }

    /// The consistency proof from the tree of `old` entries to the tree of `new`.
    pub fn prove_consistency(&self, old: u64, new: u64) -> Result<ConsistencyProof, LedgerError> {
        self.check_size(new)?;
        if old > new {
            return Err(LedgerError::Invalid(format!(
                "--from {old} is larger than --to {new}"
            )));
        }
        ConsistencyProof::prove(&self.store, old, new).map_err(prove_error)
    }

    /// Signs a checkpoint of the current head with `key` (an active authority
    /// with the checkpoint role) and stores it durably.
    pub fn checkpoint(&mut self, key: &SecretKey) -> Result<SignedCheckpoint, LedgerError> {
        let name = self
            .state
            .authority_of(&key.public())
            .cloned()
            .ok_or_else(|| not_an_authority(key))?;
        let a = &self.state.authorities()[&name];
        if a.retired_seq.is_some() || !a.roles.contains(Roles::CHECKPOINT) {
            return Err(LedgerError::NotCheckpointSigner(name));
        }
        // The note names the key by its authority name, which verifiers pair
        // with the key in `authority list`.
        let key = SecretKey::from_secret_named(key, name.clone());
        let origin = self
            .state
            .origin()
            .cloned()
            .ok_or_else(|| self.store.damaged("no origin"))?;
        let cp = Checkpoint::new(origin, self.len(), self.root(self.len())?);
        let signed = SignedCheckpoint::sign(cp, &key);
        let mut p = self.store.pending();
        p.put(
            store::checkpoint_key(self.len(), name.as_str()),
            signed.to_string().into_bytes(),
        );
        self.store.commit(p)?;
        Ok(signed)
    }

    /// Every stored checkpoint note, oldest first.
    pub fn checkpoints(&self) -> Result<Vec<String>, LedgerError> {
        self.store
            .scan_prefix(&[store::CHECKPOINT_PREFIX])
            .map(|r| {
                let (_, v) = r?;
                String::from_utf8(v).map_err(|_| {
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
        let a = self
            .state
            .authorities()
            .get(&name)
            .ok_or_else(|| bad(format!("unknown signer {name}")))?;
        let vk = VerifierKey::new(name, a.key);
        let signed = SignedCheckpoint::open(note, &vk).map_err(|e| bad(e.to_string()))?;
        let cp = signed.checkpoint();
        if Some(cp.origin()) != self.state.origin() {
            return Err(bad(format!("origin {} is not this ledger's", cp.origin())));
        }
        if cp.size() > self.len() || &self.root(cp.size())? != cp.root() {
            return Err(LedgerError::Corrupt(ChainError {
                seq: cp.size().min(self.len()),
                violation: Violation::CheckpointMismatch { size: cp.size() },
            }));
        }
        Ok(signed)
    }
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
