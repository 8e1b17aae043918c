//! The one write path: [`Writer`].

use super::*;

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
    pub(super) pending: Pending<'s>,
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
    pub(super) fn restage(
        &mut self,
        chained: &ChainedEntry,
        state: LedgerState,
    ) -> Result<(), StoreError> {
        self.state = state;
        self.stage(chained, false)
    }

    pub(super) fn stage(&mut self, e: &ChainedEntry, with_entry: bool) -> Result<(), StoreError> {
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
