//! The witness (council) side: cosigning a ledger's checkpoints only while the
//! ledger stays append-only.
//!
//! See [`Witness`] for the rules, and docs/TRANSPARENCY.md section 7.

use std::fs;
use std::path::{Path, PathBuf};

use crate::checkpoint::{CheckpointError, SignedCheckpoint};
use crate::durable;
use crate::ident::Origin;
use crate::keys::SecretKey;
use crate::merkle::{ConsistencyProof, ProofError, TreeHash};
use crate::note::{CosignerKey, NoteError, VerifierKey};

/// The file in a witness directory that holds the last cosigned checkpoint.
pub const WITNESS_STATE_FILE: &str = "latest-checkpoint";

/// Why a witness refused a checkpoint or could not keep its state.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WitnessError {
    /// The witness directory or state file could not be read or written.
    #[error("witness state {path}: {source}")]
    Io {
        /// Which file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The state file is not a checkpoint cosigned by this witness's key.
    #[error("witness state {path} is not a checkpoint cosigned by this witness: {reason}")]
    CorruptState {
        /// The state file.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        reason: CheckpointError,
    },
    /// The checkpoint is not a well-formed signed checkpoint.
    #[error("malformed checkpoint: {0}")]
    Malformed(#[source] CheckpointError),
    /// The ledger's signature is missing or does not verify.
    #[error("checkpoint not signed by the ledger: {0}")]
    BadSignature(#[source] CheckpointError),
    /// The checkpoint names another log.
    #[error("checkpoint is for {found}, but this witness follows {expected}")]
    OriginMismatch {
        /// The origin the witness follows.
        expected: Origin,
        /// The checkpoint's origin.
        found: Origin,
    },
    /// The tree is smaller than one already cosigned.
    #[error("rollback: checkpoint has {new} entries, but {old} were already cosigned")]
    Rollback {
        /// The cosigned size.
        old: u64,
        /// The checkpoint's size.
        new: u64,
    },
    /// Another root at a size already cosigned.
    #[error("fork: checkpoint has another root at size {size} than the one already cosigned")]
    Fork {
        /// The size.
        size: u64,
        /// The cosigned root.
        cosigned: TreeHash,
        /// The checkpoint's root.
        found: TreeHash,
    },
    /// The tree grew and no consistency proof was given.
    #[error("no consistency proof given from size {old} to size {new}")]
    MissingProof {
        /// The cosigned size.
        old: u64,
        /// The checkpoint's size.
        new: u64,
    },
    /// The proof is not between the cosigned checkpoint and the new one.
    #[error("consistency proof is from size {proof_old} to {proof_new}, but the witness needs one from its size {old} to {new} with the same roots")]
    ProofMismatch {
        /// The cosigned size.
        old: u64,
        /// The checkpoint's size.
        new: u64,
        /// The proof's old size.
        proof_old: u64,
        /// The proof's new size.
        proof_new: u64,
    },
    /// The consistency proof does not verify: the new tree does not extend
    /// the cosigned one.
    #[error("inconsistent: {0}")]
    InconsistentProof(#[source] ProofError),
    /// The cosignature could not be made.
    #[error("cannot cosign: {0}")]
    Cosign(#[source] CheckpointError),
}

/// A witness's state directory, for one ledger.
///
/// It keeps the last checkpoint it cosigned in the file [`WITNESS_STATE_FILE`]:
/// the ledger's signed note with the witness's cosignature/v1 line. It cosigns
/// a new checkpoint only if, in this order:
///
/// 1. the ledger's signature verifies under the ledger key it is given;
/// 2. the origin is the one of the stored checkpoint;
/// 3. the tree is not smaller than the stored one (no rollback);
/// 4. at the same size, the root is the same (no fork): the witness then
///    cosigns again, with the new time;
/// 5. at a larger size, a consistency proof from the stored checkpoint to the
///    new one is given and verifies (a fork at a larger size fails here).
///
/// The first checkpoint a witness ever sees is trusted on first use: it is
/// checked for the ledger's signature only, and pins the origin and the tree.
#[derive(Debug)]
pub struct Witness {
    dir: PathBuf,
    latest: Option<String>,
}

impl Witness {
    /// Opens the witness directory `dir`, creating it if missing, and reads the
    /// last cosigned checkpoint if there is one (it is verified on [`Witness::accept`]).
    pub fn open(dir: &Path) -> Result<Self, WitnessError> {
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| WitnessError::Io { path, source }
        };
        fs::create_dir_all(dir).map_err(io(dir))?;
        let state = dir.join(WITNESS_STATE_FILE);
        let latest = match fs::read_to_string(&state) {
            Ok(s) => Some(s),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(io(&state)(e)),
        };
        Ok(Witness {
            dir: dir.to_owned(),
            latest,
        })
    }

    /// The last cosigned checkpoint note, if any.
    pub fn latest(&self) -> Option<&str> {
        self.latest.as_deref()
    }

    /// Checks `checkpoint_note` against the stored checkpoint (by the rules
    /// of [`Witness`]), cosigns it with
    /// `witness_key` at `now` (POSIX seconds), stores it durably, and returns
    /// the cosigned note.
    ///
    /// `proof` MUST lead from the stored checkpoint to the new one when the
    /// tree grew; it is ignored otherwise. The stored state is verified under
    /// `witness_key`'s own cosignature, so a state file changed by hand is
    /// refused. When this returns `Ok`, the new state has been written to a
    /// temporary file, synced, and renamed over the old one.
    pub fn accept(
        &mut self,
        checkpoint_note: &str,
        ledger_key: &VerifierKey,
        proof: Option<&ConsistencyProof>,
        witness_key: &SecretKey,
        now: u64,
    ) -> Result<String, WitnessError> {
        let mut new = SignedCheckpoint::open(checkpoint_note, ledger_key).map_err(|e| match e {
            CheckpointError::Note(NoteError::NotSigned { .. } | NoteError::BadSignature { .. }) => {
                WitnessError::BadSignature(e)
            }
            e => WitnessError::Malformed(e),
        })?;
        if let Some(prev) = &self.latest {
            let (prev, _) = SignedCheckpoint::open_cosigned(prev, &CosignerKey::of(witness_key))
                .map_err(|reason| WitnessError::CorruptState {
                    path: self.dir.join(WITNESS_STATE_FILE),
                    reason,
                })?;
            check_extends(prev.checkpoint(), new.checkpoint(), proof)?;
        }
        new.cosign(witness_key, now).map_err(WitnessError::Cosign)?;
        let text = new.to_string();
        self.store(&text)?;
        self.latest = Some(text.clone());
        Ok(text)
    }

    /// Writes the state atomically: temporary file, fsync, rename, fsync of
    /// the directory (`durable::replace`).
    fn store(&self, text: &str) -> Result<(), WitnessError> {
        let path = self.dir.join(WITNESS_STATE_FILE);
        durable::replace(&path, text.as_bytes()).map_err(|source| WitnessError::Io { path, source })
    }
}

/// Checks that `new` may be cosigned after `old`.
fn check_extends(
    old: &crate::checkpoint::Checkpoint,
    new: &crate::checkpoint::Checkpoint,
    proof: Option<&ConsistencyProof>,
) -> Result<(), WitnessError> {
    if old.origin() != new.origin() {
        return Err(WitnessError::OriginMismatch {
            expected: old.origin().clone(),
            found: new.origin().clone(),
        });
    }
    let (o, n) = (old.size(), new.size());
    if n < o {
        return Err(WitnessError::Rollback { old: o, new: n });
    }
    if n == o {
        if old.root() != new.root() {
            return Err(WitnessError::Fork {
                size: n,
                cosigned: *old.root(),
                found: *new.root(),
            });
        }
        return Ok(());
    }
    let p = proof.ok_or(WitnessError::MissingProof { old: o, new: n })?;
    let same_ends = p.old_size() == o
        && p.new_size() == n
        && p.old_root() == old.root()
        && p.new_root() == new.root();
    if !same_ends {
        return Err(WitnessError::ProofMismatch {
            old: o,
            new: n,
            proof_old: p.old_size(),
            proof_new: p.new_size(),
        });
    }
    p.verify().map_err(WitnessError::InconsistentProof)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::Checkpoint;
    use crate::ident::AuthorityName;
    use crate::merkle::MemoryTree;

    const NOW: u64 = 1_700_000_000;

    struct Setup {
        dir: tempfile::TempDir,
        ledger: SecretKey,
        witness: SecretKey,
        tree: MemoryTree,
        origin: Origin,
    }

    fn setup() -> Setup {
        let mut tree = MemoryTree::new();
        (0..50).for_each(|i| tree.push(format!("entry-{i}").as_bytes()));
        Setup {
            dir: tempfile::tempdir().unwrap(),
            ledger: SecretKey::from_seed(AuthorityName::new("ledger").unwrap(), &[1; 32]),
            witness: SecretKey::from_seed(AuthorityName::new("council").unwrap(), &[2; 32]),
            tree,
            origin: Origin::new("example.gov/access").unwrap(),
        }
    }

    impl Setup {
        fn note(&self, size: u64) -> String {
            let root = crate::merkle::tree_root(&self.tree, size).unwrap();
            let c = Checkpoint::new(self.origin.clone(), size, root);
            SignedCheckpoint::sign(c, &self.ledger).to_string()
        }

        fn proof(&self, old: u64, new: u64) -> ConsistencyProof {
            ConsistencyProof::prove(&self.tree, old, new).unwrap()
        }

        fn accept(
            &self,
            w: &mut Witness,
            size: u64,
            proof: Option<&ConsistencyProof>,
        ) -> Result<String, WitnessError> {
            w.accept(
                &self.note(size),
                &self.ledger.verifier(),
                proof,
                &self.witness,
                NOW + size,
            )
        }
    }

    #[test]
    fn accepts_a_growing_chain_and_persists_it() {
        let s = setup();
        let mut w = Witness::open(s.dir.path()).unwrap();
        assert_eq!(w.latest(), None);
        s.accept(&mut w, 3, None).unwrap(); // trust on first use
        for (old, new) in [(3, 3), (3, 4), (4, 20), (20, 50)] {
            let note = s.accept(&mut w, new, Some(&s.proof(old, new))).unwrap();
            let c = SignedCheckpoint::open(&note, &s.ledger.verifier()).unwrap();
            assert_eq!(c.checkpoint().size(), new);
            assert_eq!(
                c.verify_cosignature(&CosignerKey::of(&s.witness)),
                Ok(NOW + new)
            );
            assert_eq!(w.latest(), Some(note.as_str()));
        }
        // Reopened, the witness remembers size 50.
        let mut w = Witness::open(s.dir.path()).unwrap();
        let stored = fs::read_to_string(s.dir.path().join(WITNESS_STATE_FILE)).unwrap();
        assert_eq!(w.latest(), Some(stored.as_str()));
        let files: Vec<_> = fs::read_dir(s.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(files, [WITNESS_STATE_FILE], "no temporary file is left");
        assert!(matches!(
            s.accept(&mut w, 49, None),
            Err(WitnessError::Rollback { old: 50, new: 49 })
        ));
    }

    #[test]
    fn refuses_rollback() {
        let s = setup();
        let mut w = Witness::open(s.dir.path()).unwrap();
        s.accept(&mut w, 10, None).unwrap();
        let before = w.latest().unwrap().to_owned();
        assert!(matches!(
            s.accept(&mut w, 9, None),
            Err(WitnessError::Rollback { old: 10, new: 9 })
        ));
        assert!(matches!(
            s.accept(&mut w, 0, None),
            Err(WitnessError::Rollback { .. })
        ));
        assert_eq!(w.latest(), Some(before.as_str()));
    }

    #[test]
    fn refuses_fork() {
        let s = setup();
        let mut w = Witness::open(s.dir.path()).unwrap();
        s.accept(&mut w, 10, None).unwrap();
        // Same size, another root.
        let mut other = MemoryTree::new();
        (0..10).for_each(|i| other.push(format!("other-{i}").as_bytes()));
        let c = Checkpoint::new(s.origin.clone(), 10, other.root());
        let forked = SignedCheckpoint::sign(c, &s.ledger).to_string();
        let r = w.accept(&forked, &s.ledger.verifier(), None, &s.witness, NOW);
        assert!(matches!(r, Err(WitnessError::Fork { size: 10, .. })));
        // A larger tree that does not extend the cosigned one: the honest
        // proof of the forked tree does not lead to the cosigned root.
        (10..20).for_each(|i| other.push(format!("other-{i}").as_bytes()));
        let c = Checkpoint::new(s.origin.clone(), 20, other.root());
        let forked = SignedCheckpoint::sign(c, &s.ledger).to_string();
        let p = ConsistencyProof::prove(&other, 10, 20).unwrap();
        let r = w.accept(&forked, &s.ledger.verifier(), Some(&p), &s.witness, NOW);
        assert!(matches!(r, Err(WitnessError::ProofMismatch { .. })));
        let p = ConsistencyProof::new(
            10,
            20,
            *s.proof(10, 20).old_root(),
            other.root(),
            p.proof().to_vec(),
        );
        let r = w.accept(&forked, &s.ledger.verifier(), Some(&p), &s.witness, NOW);
        assert!(matches!(r, Err(WitnessError::InconsistentProof(_))));
    }

    #[test]
    fn refuses_bad_signature() {
        let s = setup();
        let mut w = Witness::open(s.dir.path()).unwrap();
        let other = SecretKey::from_seed(AuthorityName::new("ledger").unwrap(), &[9; 32]);
        let r = w.accept(&s.note(5), &other.verifier(), None, &s.witness, NOW);
        assert!(matches!(
            r,
            Err(WitnessError::BadSignature(CheckpointError::Note(
                NoteError::NotSigned { .. }
            )))
        ));
        let tampered = s.note(5).replace("\n5\n", "\n6\n");
        let r = w.accept(&tampered, &s.ledger.verifier(), None, &s.witness, NOW);
        assert!(matches!(
            r,
            Err(WitnessError::BadSignature(CheckpointError::Note(
                NoteError::BadSignature { .. }
            )))
        ));
        let r = w.accept("not a note", &s.ledger.verifier(), None, &s.witness, NOW);
        assert!(matches!(r, Err(WitnessError::Malformed(_))));
        assert_eq!(w.latest(), None);
    }

    #[test]
    fn refuses_wrong_origin() {
        let s = setup();
        let mut w = Witness::open(s.dir.path()).unwrap();
        s.accept(&mut w, 5, None).unwrap();
        let c = Checkpoint::new(Origin::new("example.gov/other").unwrap(), 6, s.tree.root());
        let note = SignedCheckpoint::sign(c, &s.ledger).to_string();
        let r = w.accept(
            &note,
            &s.ledger.verifier(),
            Some(&s.proof(5, 6)),
            &s.witness,
            NOW,
        );
        assert!(matches!(r, Err(WitnessError::OriginMismatch { .. })));
    }

    #[test]
    fn refuses_bad_or_missing_proof() {
        let s = setup();
        let mut w = Witness::open(s.dir.path()).unwrap();
        s.accept(&mut w, 5, None).unwrap();
        assert!(matches!(
            s.accept(&mut w, 9, None),
            Err(WitnessError::MissingProof { old: 5, new: 9 })
        ));
        let r = s.accept(&mut w, 9, Some(&s.proof(4, 9)));
        assert!(matches!(
            r,
            Err(WitnessError::ProofMismatch { proof_old: 4, .. })
        ));
        let good = s.proof(5, 9);
        let mut hashes = good.proof().to_vec();
        let mut b = *hashes[0].as_bytes();
        b[0] ^= 1;
        hashes[0] = TreeHash::from_bytes(b);
        let bad = ConsistencyProof::new(5, 9, *good.old_root(), *good.new_root(), hashes);
        let r = s.accept(&mut w, 9, Some(&bad));
        assert!(matches!(r, Err(WitnessError::InconsistentProof(_))));
        s.accept(&mut w, 9, Some(&good)).unwrap();
    }

    #[test]
    fn refuses_a_state_file_it_did_not_cosign() {
        let s = setup();
        let mut w = Witness::open(s.dir.path()).unwrap();
        s.accept(&mut w, 5, None).unwrap();
        // A state file rolled back by hand to an uncosigned checkpoint.
        fs::write(s.dir.path().join(WITNESS_STATE_FILE), s.note(2)).unwrap();
        let mut w = Witness::open(s.dir.path()).unwrap();
        let r = s.accept(&mut w, 5, None);
        assert!(matches!(r, Err(WitnessError::CorruptState { .. })));
    }
}
