//! `verify`, the replay it is built on, and `reindex`: every entry through the
//! rules, and every kind of derived data recomputed from the entries and
//! compared with what is stored.

use std::sync::{mpsc, Arc};

use super::*;

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
        // The hash tiles the store should hold, as a digest of their records.
        let mut tree = RecordDigest::new();
        let mut tiles = crate::tiles::TileBuilder::new();
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
            index.add_entry(e)?;
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
                tiles.node(level, index, hash)
            });
            for (level, index, hashes) in tiles.take_full() {
                tree.add_tile(level, index, &hashes);
            }
            if let Some(root) = roots.get_mut(&range.size()) {
                root.0 = Some(range.root());
            }
            if e.seq() % 4096 == 0 {
                progress(e.seq(), total);
            }
            Ok(())
        })?;
        progress(total, total);
        for (level, index, hashes) in tiles.partial() {
            tree.add_tile(level, index, hashes);
        }
        if state.is_empty() {
            return Err(LedgerError::Store(
                self.store.damaged("the ledger has no entries"),
            ));
        }
        self.require_state(&state)?;
        self.check_snapshots(&snapshots, listed.as_deref(), &expected_states)?;
        if self.store.tree_digest_like(&tree)? != tree {
            return Err(LedgerError::DerivedMismatch(
                "the stored Merkle tree nodes (hash tiles) differ from the tree of the entries"
                    .into(),
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
        let bans = self.commitments(&state, held, &shared, Timestamp::now())?;
        Ok(VerifyReport {
            entries: state.len(),
            head: state.head_hash().to_hex(),
            ledger_id: state.ledger_id().to_hex(),
            bans,
        })
    }

    /// The commitment report of every ban of the verified log whose rules
    /// state is `state` (see [`Commitment`]): `held` as collected during the
    /// replay; back doors ([`Ledger::back_doors`]) at the ban's effective
    /// time and at `now` (if later). `verify` passes the clock; the export
    /// passes its knowledge time, so that its report is the same every time.
    /// Only called once the indexes are verified.
    pub(crate) fn commitments(
        &self,
        state: &LedgerState,
        mut held: BTreeMap<u64, Vec<u64>>,
        shared: &BTreeMap<Subject, BTreeSet<Resource>>,
        now: Timestamp,
    ) -> Result<Vec<BanReport>, LedgerError> {
        let mut out = Vec::new();
        let reached = state.ever_members(shared.keys());
        for b in state.bans() {
            let held = held.remove(&b.seq).unwrap_or_default();
            let mut instants = vec![b.effective_at];
            if now > b.effective_at {
                instants.push(now);
            }
            let paths = self.back_doors(state, shared, &reached, b, &instants)?;
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

    /// The flagged share paths that reach a subject covered by ban `b` at
    /// each of `instants` (as known at the head of `state`'s log), from
    /// `exposure`: for each covered subject that is, or is a member of, a
    /// share recipient (`shared`: recipient -> the resources shared with
    /// it; `reached`: `state.ever_members(shared.keys())`, the same for every
    /// ban, so computed once by the caller), on the ban's resource and on
    /// each resource below it shared with that subject or one of its
    /// groups. A path found at several instants is listed once, at the first.
    pub(crate) fn back_doors(
        &self,
        state: &LedgerState,
        shared: &BTreeMap<Subject, BTreeSet<Resource>>,
        reached: &BTreeSet<Subject>,
        b: &crate::chain::Ban,
        instants: &[Timestamp],
    ) -> Result<Vec<BackDoor>, LedgerError> {
        let queries = self.queries();
        let covered = state.ever_members([&b.subject]);
        let mut paths: Vec<BackDoor> = Vec::new();
        for c in covered.intersection(reached) {
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
                for &at in instants {
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
        Ok(paths)
    }

    /// Replays every stored entry through the rules from an empty state (the
    /// checks of [`LedgerState::admit`], with `now` bounding `recorded_at`) and
    /// hands each admitted entry and the state after it to `each`. Streams:
    /// holds one entry at a time. The first entry that does not decode, is
    /// stored out of place, or breaks a rule ends the replay as
    /// [`LedgerError::Corrupt`] naming its seq.
    pub(crate) fn replay(
        &self,
        now: Option<Timestamp>,
        each: impl FnMut(&ChainedEntry, &LedgerState) -> Result<(), LedgerError>,
    ) -> Result<LedgerState, LedgerError> {
        self.replay_from(LedgerState::new(), now, each)
    }

    /// [`Ledger::replay`] for a caller done with the state the ledger holds:
    /// that state is dropped first, and the replayed one, made from the
    /// entries alone, takes its place. A replay of a large log then holds one
    /// rules state, not two (33 MB each at 1,000,000 synthetic entries). On
    /// an error the ledger is gone with it.
    pub(crate) fn into_replayed(
        mut self,
        each: impl FnMut(&ChainedEntry, &LedgerState) -> Result<(), LedgerError>,
    ) -> Result<Ledger, LedgerError> {
        self.state = LedgerState::new();
        self.state = self.replay(None, each)?;
        Ok(self)
    }

    /// [`Ledger::replay`] of the entries after `state` (the state of the
    /// first `state.len()` entries), from there on.
    ///
    /// Strict signature verification, which bounds the replay, runs on every
    /// core: one thread reads the entries in chunks, [`verify_workers`]
    /// threads decode them and check their signatures against the ledger id
    /// (fixed by the genesis entry, so independent of the state), and this
    /// thread admits them in seq order with every other rule
    /// ([`LedgerState::admit_signed`]). An entry that fails to decode or to
    /// verify is admitted again by [`LedgerState::admit`], so the error is
    /// exactly the one a one-thread replay gives. Memory stays bounded: at
    /// most a few chunks are in flight.
    pub(super) fn replay_from(
        &self,
        mut state: LedgerState,
        now: Option<Timestamp>,
        mut each: impl FnMut(&ChainedEntry, &LedgerState) -> Result<(), LedgerError>,
    ) -> Result<LedgerState, LedgerError> {
        if state.is_empty() {
            // The genesis entry fixes the ledger id the others are signed for.
            match self.store.entries(0).next() {
                None => return Ok(state),
                Some(r) => {
                    let (seq, bytes) = r?;
                    let chained = admit_one(&mut state, seq, &bytes, now)?;
                    each(&chained, &state)?;
                }
            }
        }
        let ledger_id = *state.ledger_id();
        let start = state.len();
        let store = &self.store;
        std::thread::scope(|scope| {
            let (work_tx, work_rx) = mpsc::sync_channel::<(u64, Vec<Stored>)>(IN_FLIGHT);
            let (done_tx, done_rx) = mpsc::sync_channel::<(u64, Vec<Checked>)>(IN_FLIGHT);
            scope.spawn(move || {
                let mut chunk = Vec::with_capacity(VERIFY_CHUNK);
                let mut n = 0;
                for r in store.entries(start) {
                    let stop = r.is_err();
                    chunk.push(r);
                    if chunk.len() == VERIFY_CHUNK || stop {
                        let full = std::mem::replace(&mut chunk, Vec::with_capacity(VERIFY_CHUNK));
                        if work_tx.send((n, full)).is_err() || stop {
                            break;
                        }
                        n += 1;
                    }
                }
                if !chunk.is_empty() {
                    let _ = work_tx.send((n, chunk));
                }
            });
            // Each worker holds the receiving end; once all have stopped (the
            // admitting thread stopped early), the reader's sends fail too.
            let work_rx = Arc::new(Mutex::new(work_rx));
            for _ in 0..verify_workers() {
                let (work_rx, done_tx) = (Arc::clone(&work_rx), done_tx.clone());
                scope.spawn(move || loop {
                    // A worker that panicked poisons the lock; the others stop.
                    let job = match work_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    let Ok((n, chunk)) = job else { return };
                    let out = chunk
                        .into_iter()
                        .map(|r| check_one(r, &ledger_id))
                        .collect();
                    if done_tx.send((n, out)).is_err() {
                        return;
                    }
                });
            }
            drop((work_rx, done_tx));
            admit_in_order(&mut state, done_rx, now, &mut each)?;
            Ok(state)
        })
    }

    /// Deletes every derived value and rebuilds it from the entries alone,
    /// checking every entry on the way (a damaged log is not reindexed).
    pub fn reindex(&mut self, mut progress: impl FnMut(u64, u64)) -> Result<(), LedgerError> {
        let total = self.store.entry_count()?;
        self.store.clear_derived()?;
        let mut w = Writer::new(&self.store, LedgerState::new());
        let mut digest = None;
        // The state is cloned into the writer once per commit, not per entry
        // (which made a rebuild quadratic: 15 minutes for a third of 100,000).
        let state = self.replay(None, |e, state| {
            w.restage(e)?;
            if w.staged() == REBUILD_CHUNK {
                w.set_state(state.clone());
                digest = w.commit()?.or(digest);
                progress(e.seq() + 1, total);
            }
            Ok(())
        })?;
        w.set_state(state);
        let (state, last) = w.finish()?;
        self.state = state;
        // The derived data was cleared, so the first commit wrote a snapshot.
        self.stored_digest = last
            .or(digest)
            .expect("the first commit after clear_derived writes a snapshot");
        self.damaged_tail = None;
        progress(total, total);
        Ok(())
    }

    /// Fails unless the stored rules-state snapshots are exactly those the
    /// snapshot directory lists (or the one snapshot of an earlier version),
    /// none is beyond the head, and each holds the state a replay gives at
    /// its size (`expected`, by digest).
    pub(super) fn check_snapshots(
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
        if listed.is_some_and(|l| l.last().is_none_or(|&s| s > self.len())) {
            return bad("the latest rules-state snapshot is beyond the head".into());
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
}

/// Entries per chunk handed to a verifying thread.
const VERIFY_CHUNK: usize = 256;
/// Chunks queued between the threads of a replay, in each direction.
const IN_FLIGHT: usize = 8;

/// How many threads verify signatures in a replay: one per core.
fn verify_workers() -> usize {
    std::thread::available_parallelism().map_or(2, usize::from)
}

/// A stored entry as read: `(seq, bytes)`.
type Stored = Result<(u64, Vec<u8>), StoreError>;

/// A stored entry after a verifying thread saw it.
enum Checked {
    /// It decodes and its signature verifies for the ledger (boxed: a
    /// decoded entry is several hundred bytes, the other variants a few).
    Signed(u64, Box<SignedEntry>),
    /// It does not decode or does not verify: admitted again in order, so
    /// that the error names it as a one-thread replay would.
    Refused(u64, Vec<u8>),
    /// The store could not read it.
    Unreadable(StoreError),
}

fn check_one(r: Stored, ledger_id: &EntryHash) -> Checked {
    match r {
        Err(e) => Checked::Unreadable(e),
        Ok((seq, bytes)) => match Entry::decode(&bytes).map(|e| e.verify_signature(ledger_id)) {
            Ok(Ok(signed)) => Checked::Signed(seq, Box::new(signed)),
            _ => Checked::Refused(seq, bytes),
        },
    }
}

/// Admits the checked chunks from `done` in chunk order, each entry in seq
/// order, and hands each to `each`. Returns when every chunk is admitted or
/// at the first error; dropping `done` then stops the other threads.
fn admit_in_order(
    state: &mut LedgerState,
    done: mpsc::Receiver<(u64, Vec<Checked>)>,
    now: Option<Timestamp>,
    each: &mut impl FnMut(&ChainedEntry, &LedgerState) -> Result<(), LedgerError>,
) -> Result<(), LedgerError> {
    let mut waiting: BTreeMap<u64, Vec<Checked>> = BTreeMap::new();
    let mut next = 0;
    for (n, chunk) in done {
        waiting.insert(n, chunk);
        while let Some(chunk) = waiting.remove(&next) {
            next += 1;
            for c in chunk {
                let chained = match c {
                    Checked::Unreadable(e) => return Err(e.into()),
                    Checked::Refused(seq, bytes) => admit_one(state, seq, &bytes, now)?,
                    Checked::Signed(seq, signed) => {
                        require_seq(state, seq)?;
                        state
                            .admit_signed(*signed, now, Provenance::Stored)
                            .map_err(LedgerError::Corrupt)?
                    }
                };
                each(&chained, state)?;
            }
        }
    }
    Ok(())
}

/// The one-thread admission of stored entry `seq`: decode, place, every rule.
fn admit_one(
    state: &mut LedgerState,
    seq: u64,
    bytes: &[u8],
    now: Option<Timestamp>,
) -> Result<ChainedEntry, LedgerError> {
    let entry = Entry::decode(bytes).map_err(|e| corrupt(seq, Violation::Encoding(e)))?;
    require_seq(state, seq)?;
    state
        .admit(entry, now, Provenance::Stored)
        .map_err(LedgerError::Corrupt)
}

/// Fails unless the entry stored under `seq` is the next one.
fn require_seq(state: &LedgerState, seq: u64) -> Result<(), LedgerError> {
    if seq != state.len() {
        let violation = Violation::SeqMismatch {
            expected: state.len(),
            found: seq,
        };
        return Err(corrupt(state.len(), violation));
    }
    Ok(())
}
