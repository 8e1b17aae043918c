//! The Merkle tree over the entries: roots, proofs and checkpoints.

use super::*;

/// Transparency: the Merkle tree over the entries, checkpoints and proofs.
impl Ledger {
    /// The RFC 6962 root of the first `size` entries (O(log n) reads).
    pub fn root(&self, size: u64) -> Result<TreeHash, LedgerError> {
        self.check_size(size)?;
        Ok(merkle::tree_root(&self.store, size)?)
    }

    pub(super) fn check_size(&self, size: u64) -> Result<(), LedgerError> {
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
        p.pin_latest_state(key.public().as_bytes())?;
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
    pub(super) fn open_checkpoint(
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
