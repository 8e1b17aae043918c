//! `verify-proof`: offline checks of proofs against signed checkpoints.

use std::io::Write;
use std::path::Path;

use access_ledger::{ConsistencyProof, Entry, InclusionProof, SignedCheckpoint, VerifierKey};
use serde_json::json;

use super::args::{VerifyConsistency, VerifyInclusion};
use super::files::{read_file, read_proof, read_text};
use super::output::{self, Format};
use super::{exit, Failure};

fn fail(what: impl std::fmt::Display) -> Failure {
    Failure::new(exit::VERIFY, format!("proof does not verify: {what}"))
}

fn open_checkpoint(path: &Path, key: &VerifierKey) -> Result<SignedCheckpoint, Failure> {
    SignedCheckpoint::open(&read_text(path)?, key)
        .map_err(|e| fail(format!("checkpoint {}: {e}", path.display())))
}

impl VerifyInclusion {
    /// Checks the proof against the checkpoint, and the entry if given.
    pub fn run(self) -> Result<u8, Failure> {
        let key = &self.ledger_key;
        let cp = open_checkpoint(&self.checkpoint, key)?;
        let p: InclusionProof = read_proof(&self.proof, InclusionProof::parse_text)?;
        let c = cp.checkpoint();
        if p.tree_size() != c.size() || p.root_hash() != c.root() {
            return Err(fail(format!(
                "the proof is for tree size {} with root {}, the checkpoint says size {} with root {}",
                p.tree_size(),
                p.root_hash(),
                c.size(),
                c.root()
            )));
        }
        p.verify().map_err(fail)?;
        let mut summary = None;
        if let Some(path) = &self.entry {
            let bytes = read_file(path)?;
            p.verify_data(&bytes)
                .map_err(|e| fail(format!("entry {}: {e}", path.display())))?;
            let e = Entry::decode(&bytes)
                .map_err(|e| fail(format!("entry {}: {e}", path.display())))?;
            if e.seq() != p.seq() {
                return Err(fail(format!(
                    "the entry says seq {}, the proof is for seq {}",
                    e.seq(),
                    p.seq()
                )));
            }
            summary = Some(e.body().summary());
        }
        let mut out = std::io::stdout().lock();
        match self.format {
            Format::Json => output::json(
                &mut out,
                &json!({"ok": true, "origin": c.origin().as_str(), "tree_size": c.size(), "seq": p.seq(), "entry": summary}),
            )?,
            Format::Text => {
                writeln!(
                    out,
                    "ok: seq {} is in {} at tree size {} (checkpoint signed by {})",
                    p.seq(),
                    c.origin(),
                    c.size(),
                    key.name()
                )?;
                if let Some(s) = summary {
                    writeln!(out, "entry {}: {s}", p.seq())?;
                }
            }
        }
        Ok(exit::OK)
    }
}

impl VerifyConsistency {
    /// Checks that the newer checkpoint's tree extends the older one's.
    pub fn run(self) -> Result<u8, Failure> {
        let key = &self.ledger_key;
        let old = open_checkpoint(&self.old_checkpoint, key)?;
        let new = open_checkpoint(&self.checkpoint, key)?;
        let (o, n) = (old.checkpoint(), new.checkpoint());
        if o.origin() != n.origin() {
            return Err(fail(format!(
                "the checkpoints are of different logs: {} and {}",
                o.origin(),
                n.origin()
            )));
        }
        let p: ConsistencyProof = read_proof(&self.proof, ConsistencyProof::parse_text)?;
        if (p.old_size(), p.old_root(), p.new_size(), p.new_root())
            != (o.size(), o.root(), n.size(), n.root())
        {
            return Err(fail(format!(
                "the proof is from size {} to {}, the checkpoints are of sizes {} and {} (or their roots differ)",
                p.old_size(),
                p.new_size(),
                o.size(),
                n.size()
            )));
        }
        p.verify().map_err(fail)?;
        let mut out = std::io::stdout().lock();
        match self.format {
            Format::Json => output::json(
                &mut out,
                &json!({"ok": true, "origin": n.origin().as_str(), "old_size": o.size(), "new_size": n.size()}),
            )?,
            Format::Text => writeln!(
                out,
                "ok: {} at tree size {} extends tree size {}: nothing was rewritten or dropped",
                n.origin(),
                n.size(),
                o.size()
            )?,
        }
        Ok(exit::OK)
    }
}
