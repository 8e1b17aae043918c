//! The one write path: [`Writer`].

use super::*;

/// The one batch writer: every byte that reaches the store on behalf of an
/// entry goes through here, for append, import, reindex and the synthetic
/// ledger builder alike.
///
/// A writer holds the rules state after the entries it has staged so far. Each
/// entry is admitted by [`LedgerState::admit`] before anything of it is staged;
/// [`Writer::commit`] then writes the staged entries, everything derived from
/// them (tree nodes, indexes) and, when one is due, the state snapshot in one
/// atomic, durable batch. A writer that is dropped without `commit` writes
/// nothing.
pub(crate) struct Writer<'s> {
    store: &'s Store,
    state: LedgerState,
    pub(super) pending: Pending<'s>,
    staged: u64,
    /// The signer whose trusted head each commit's snapshot is pinned for.
    pin: Option<Vec<u8>>,
    /// Whether the next commit writes a snapshot even if none is due.
    force_snapshot: bool,
    /// Whether snapshots wait for [`Writer::finish`] (see [`Writer::bulk`]).
    bulk: bool,
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
            force_snapshot: false,
            bulk: false,
        }
    }

    /// Writes the rules-state snapshot only at [`Writer::finish`], for a
    /// store being created ([`Store::create`]): it is no ledger until it is
    /// finished, so nothing ever opens from a snapshot in between, and at
    /// 1,000,000 entries the 10 MB snapshot written every 2,048 to 7,800
    /// entries was gigabytes of writes and the peak of `verify-export`'s
    /// temporary ledger.
    pub(crate) fn bulk(&mut self) {
        self.bulk = true;
    }

    /// Keeps each snapshot this writer commits until `key` signs again, so
    /// that its holder's next signing can check the entries since from it.
    pub(crate) fn pin(&mut self, key: &SecretKey) {
        self.pin = Some(key.public().as_bytes().to_vec());
    }

    /// Makes the next commit write a rules-state snapshot even if none is
    /// due (one that replaces a snapshot in an earlier version's layout).
    pub(crate) fn snapshot_now(&mut self) {
        self.force_snapshot = true;
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
    /// which the caller has just admitted (reindex). The caller MUST give the
    /// state after the staged entries with [`Writer::set_state`] before each
    /// commit: cloning the state per entry made a rebuild quadratic.
    pub(super) fn restage(&mut self, chained: &ChainedEntry) -> Result<(), StoreError> {
        self.stage(chained, false)
    }

    /// Sets the rules state after every staged entry (see [`Writer::restage`]).
    pub(super) fn set_state(&mut self, state: LedgerState) {
        self.state = state;
    }

    pub(super) fn stage(&mut self, e: &ChainedEntry, with_entry: bool) -> Result<(), StoreError> {
        if with_entry {
            self.pending.put_entry(e.seq(), e.bytes())?;
        }
        // The entry's seq is the tree size before it: entries are the leaves in order.
        merkle::append_leaf(&mut self.pending, e.seq(), TreeHash::leaf(e.bytes()))?;
        crate::query::index_entry(&mut self.pending, e)?;
        self.staged += 1;
        Ok(())
    }

    /// Writes everything staged in one atomic and durable batch, then
    /// records the new head beside the store. Only when this returns `Ok` may
    /// the staged entries be reported as appended.
    ///
    /// The rules-state snapshot is written only when one is due
    /// ([`snapshot_due`]): otherwise the latest snapshot stays where it is
    /// and an open replays the entries after it. Returns the [`state_digest`]
    /// of the snapshot written, if one was; a writer with a [`Writer::pin`]
    /// pins the latest snapshot for that key either way.
    pub(crate) fn commit(&mut self) -> Result<Option<[u8; 32]>, StoreError> {
        let mut p = std::mem::replace(&mut self.pending, self.store.pending());
        let len = self.state.len();
        let due = match p.latest_state_size()? {
            _ if self.bulk => false,
            None => true,
            Some(latest) => snapshot_due(latest, len),
        };
        let written = if due || std::mem::take(&mut self.force_snapshot) {
            let bytes = encoding::encode_derived(&self.state);
            let digest = state_digest(&bytes);
            p.put_state(len, bytes, self.pin.as_deref())?;
            Some(digest)
        } else {
            if let Some(pin) = &self.pin {
                p.pin_latest_state(pin)?;
            }
            None
        };
        self.store.commit(p)?;
        self.staged = 0;
        // The record only turns a later silent loss into an error; a failure
        // to write it must not fail a commit that is already durable.
        let _ = self
            .store
            .record_head(self.state.len(), &self.state.head_hash().0);
        Ok(written)
    }

    /// Commits what is staged; returns the state it ends at and the digest
    /// of the snapshot written, if one was (see [`Writer::commit`]).
    pub(crate) fn finish(mut self) -> Result<(LedgerState, Option<[u8; 32]>), StoreError> {
        self.force_snapshot |= self.bulk;
        let digest = self.commit()?;
        Ok((self.state, digest))
    }
}

/// Fewest entries between two rules-state snapshots.
const SNAPSHOT_MIN_TAIL: u64 = 2048;
/// At most this fraction (1/n) of the log lies after the latest snapshot.
const SNAPSHOT_TAIL_FRACTION: u64 = 128;

/// Whether a commit that leaves the log at `len` entries, the latest snapshot
/// being at `latest`, writes a new snapshot. The snapshot grows with the log
/// (2.2 MB at 1,000,000 synthetic entries), so writing one per commit made a
/// single append cost milliseconds and an import slow down as the log grew;
/// written every max(2048, latest/128) entries, it costs a few hundred bytes
/// per entry, and an open replays at most that many entries after it
/// (docs/PERFORMANCE.md, issue 14).
pub(crate) fn snapshot_due(latest: u64, len: u64) -> bool {
    len < latest || len - latest >= SNAPSHOT_MIN_TAIL.max(latest / SNAPSHOT_TAIL_FRACTION)
}

#[cfg(test)]
mod tests {
    use super::snapshot_due;

    #[test]
    fn a_snapshot_is_due_every_2048_entries_then_every_128th_of_the_log() {
        assert!(!snapshot_due(1, 2048));
        assert!(snapshot_due(1, 2049));
        assert!(!snapshot_due(100_000, 102_047));
        assert!(snapshot_due(100_000, 102_048));
        assert!(!snapshot_due(1_000_000, 1_007_811));
        assert!(snapshot_due(1_000_000, 1_007_812));
        // A state behind its latest snapshot (never written by a writer) is
        // written over rather than left behind the head.
        assert!(snapshot_due(10, 5));
    }
}
