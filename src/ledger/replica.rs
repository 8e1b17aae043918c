//! Read replicas of a published log (`mirror`).

use super::*;

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

    pub(super) fn refuse_replica(&self) -> Result<(), LedgerError> {
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
            damaged_tail: None,
        };
        let made = ledger
            .extend_replica_from(
                &CompactRange::new(),
                source,
                checkpoint,
                entries,
                progress,
                true,
            )
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
        self.extend_replica_from(start, &source, checkpoint, entries, progress, false)
    }

    pub(super) fn extend_replica_from<E: From<LedgerError>>(
        &mut self,
        start: &CompactRange,
        source: &str,
        checkpoint: &str,
        entries: impl IntoIterator<Item = Result<Vec<u8>, E>>,
        mut progress: impl FnMut(u64),
        creating: bool,
    ) -> Result<(), E> {
        let mut range = start.clone();
        let mut w = Writer::new(&self.store, self.state.clone());
        if creating {
            // A store being created is no ledger until it is finished.
            w.bulk();
        }
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::synth::{build, SynthSpec};

    /// A replica being created writes one rules-state snapshot, at its end
    /// (a live ledger of 5,000 entries would have written them at 1,000 and
    /// 4,000), and verifies.
    #[test]
    fn a_replica_being_created_writes_its_snapshot_once_at_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("source");
        let spec = SynthSpec::with_events(5_000);
        build(&src, &spec).unwrap();
        let (admin, _) = spec.keys();
        let mut source = Ledger::open(&src, Duration::from_secs(1)).unwrap();
        let cp = source.checkpoint(&admin).unwrap();
        let entries: Vec<Result<Vec<u8>, LedgerError>> = (0..source.len())
            .map(|seq| Ok(source.entry(seq).unwrap().unwrap().bytes().to_vec()))
            .collect();
        let replica = Ledger::create_replica(
            &dir.path().join("replica"),
            "the source",
            &cp.to_string(),
            entries,
            |_| {},
        )
        .unwrap();
        let (stored, listed) = replica.store.state_snapshots().unwrap();
        let sizes: Vec<Option<u64>> = stored.iter().map(|(size, _)| *size).collect();
        assert_eq!(sizes, vec![Some(5_000)]);
        assert_eq!(listed, Some(vec![5_000]));
        replica.verify(|_, _| {}).unwrap();
    }
}
