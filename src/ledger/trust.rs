//! Trusting only what was verified: a signer checks the stored log and rules
//! state against its trusted head (src/head.rs) before it signs on them
//! (docs/THREAT-MODEL.md 3.11).

use super::*;

impl Ledger {
    /// Checks the rules state this ledger holds against the entries, as far
    /// as `key`'s holder has not verified them already, so that `key` never
    /// signs on top of derived data an attacker with the directory could have
    /// written. With a trusted head for this ledger beside the key file, that
    /// is the entries appended since (from the snapshot the head rests on,
    /// checked against the head's digest, which may lie a few thousand entries
    /// before the head); without one, or if that snapshot is gone or does not
    /// match, the whole log, calling `progress(done,
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
        if let Some(e) = &self.damaged_tail {
            return Err(LedgerError::Corrupt(e.clone()));
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
    /// snapshot the head rests on (its `state_digest`: the latest snapshot
    /// when the key signed, pinned for it) is there and matches it, replays
    /// the entries after that snapshot. `None` when only a replay of the
    /// whole log can tell.
    pub(super) fn check_head(
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
        // and the snapshot read at open is the one the head rests on. The
        // state was built from it and the entries after it, which the head's
        // hash fixes and which this key verified before it signed at the head.
        if len == h.size() && self.stored_digest == h.state_digest {
            return Ok(Some(h.range.clone()));
        }
        // Otherwise: the snapshot the head rests on, found by its digest, then
        // every entry after it through every rule, signatures included.
        let pinned = self.store.pinned_state_size(key.public().as_bytes())?;
        let latest = self.store.latest_state_size()?;
        let Some(state) = [pinned, latest]
            .into_iter()
            .flatten()
            .filter(|&size| size <= h.size())
            .find_map(|size| {
                let bytes = self.store.state_at(size).ok()??;
                if state_digest(&bytes) != h.state_digest {
                    return None;
                }
                encoding::decode_derived::<LedgerState>(&bytes)
                    .ok()
                    .filter(|s| s.len() == size)
            })
        else {
            return Ok(None);
        };
        let mut range = h.range.clone();
        let state = self.replay_from(state, None, |e, _| {
            if e.seq() >= h.size() {
                range.push(TreeHash::leaf(e.bytes()));
            }
            Ok(())
        })?;
        self.require_state(&state)?;
        Ok(Some(range))
    }

    /// Replays the whole log and checks the stored rules state against it;
    /// returns the tree's compact range computed from the entries.
    pub(super) fn replay_all(
        &self,
        mut progress: impl FnMut(u64, u64),
    ) -> Result<CompactRange, LedgerError> {
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

    /// Fails unless the stored rules state equals `replayed`.
    pub(super) fn require_state(&self, replayed: &LedgerState) -> Result<(), LedgerError> {
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
    pub(super) fn save_head(&self, key: &SecretKey, state_digest: [u8; 32]) {
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
}
