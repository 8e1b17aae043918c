//! `witness`: the council side of checkpoints.

use std::io::Write;

use access_ledger::{Checkpoint, ConsistencyProof, CosignerKey, Note, TileSource};
use serde_json::json;

use super::args::Witness;
use super::files::{read_key, read_proof, read_text};
use super::output::{self, note, Format};
use super::{exit, Failure};

impl Witness {
    /// Accepts the checkpoint if it extends the last one accepted, and cosigns it.
    pub fn run(self) -> Result<u8, Failure> {
        let key = read_key(&self.key)?;
        let source = self.tiles.as_deref().map(TileSource::new);
        let note_text = match (&self.checkpoint, &source) {
            (Some(path), _) => read_text(path)?,
            (None, Some(source)) => source.checkpoint()?,
            (None, None) => return Err(Failure::usage("no checkpoint given")),
        };
        let mut w = access_ledger::Witness::open(&self.state)?;
        let proof = match &source {
            // From the published tiles: only its roots are trusted, and
            // `accept` checks them against the two signed checkpoints.
            Some(source) => match (w.latest().and_then(size_of), size_of(&note_text)) {
                (Some(old), Some(new)) if old < new => {
                    Some(access_ledger::tile_consistency_proof(source, old, new)?)
                }
                _ => None,
            },
            None => self
                .proof
                .as_deref()
                .map(|p| read_proof(p, ConsistencyProof::parse_text))
                .transpose()?,
        };
        let first = w.latest().is_none();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let cosigned = w.accept(&note_text, &self.ledger_key, proof.as_ref(), &key, now)?;
        let cosigner = CosignerKey::of(&key).to_string();
        let mut out = std::io::stdout().lock();
        match self.format {
            Format::Json => output::json(
                &mut out,
                &json!({"ok": true, "first": first, "cosigned": cosigned, "witness_key": cosigner}),
            )?,
            Format::Text => {
                write!(out, "{cosigned}")?;
                if first {
                    note("accepted the first checkpoint on trust; later ones must extend it");
                } else {
                    note("accepted: the checkpoint extends the last one this witness accepted");
                }
                note(format_args!("cosigned with witness key {cosigner}"));
            }
        }
        Ok(exit::OK)
    }
}

/// The tree size a checkpoint note claims (unverified: `accept` checks it).
fn size_of(note: &str) -> Option<u64> {
    let n = Note::parse(note).ok()?;
    Some(Checkpoint::parse(n.text()).ok()?.size())
}
