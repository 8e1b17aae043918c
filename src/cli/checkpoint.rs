//! `checkpoint` and `checkpoints`: signed statements of the log's size and root.

use std::io::{ErrorKind, Write};

use access_ledger::VerifierKey;
use serde_json::json;

use super::args::{Checkpoint, Checkpoints};
use super::files::read_key;
use super::output::{self, note, Format};
use super::{exit, Context, Failure};

impl Checkpoint {
    /// Signs, stores and prints a checkpoint of the current head.
    pub fn run(self, ctx: &Context) -> Result<u8, Failure> {
        let key = read_key(&self.key)?;
        let mut ledger = ctx.open_to_sign(&key)?;
        let cp = ledger.checkpoint(&key)?;
        // One write, so a reader sees the whole note or none of it. A closed
        // pipe is no error: the checkpoint is stored either way.
        let note_text = cp.to_string();
        match std::io::stdout().lock().write_all(note_text.as_bytes()) {
            Err(e) if e.kind() != ErrorKind::BrokenPipe => {
                return Err(Failure::output("the checkpoint", e));
            }
            _ => {}
        }
        note(format_args!(
            "stored checkpoint of tree size {}; verifier key: {}",
            cp.checkpoint().size(),
            VerifierKey::new(
                ledger
                    .state()
                    .authority_of(&key.public())
                    .cloned()
                    .unwrap_or_else(|| key.name().clone()),
                key.public()
            )
        ));
        Ok(exit::OK)
    }
}

impl Checkpoints {
    /// Lists the stored checkpoints.
    pub fn run(self, ctx: &Context) -> Result<u8, Failure> {
        let ledger = ctx.open()?;
        let notes = ledger.checkpoints()?;
        let mut out = std::io::stdout().lock();
        match self.format {
            Format::Json => {
                let rows: Vec<_> = notes
                    .iter()
                    .map(|n| {
                        let cp = ledger.check_checkpoint(n);
                        json!({
                            "tree_size": cp.as_ref().ok().map(|c| c.checkpoint().size()),
                            "root_hash": cp.as_ref().ok().map(|c| c.checkpoint().root().to_base64()),
                            "ok": cp.is_ok(),
                            "note": n,
                        })
                    })
                    .collect();
                output::json(&mut out, &rows)?;
            }
            Format::Text if notes.is_empty() => writeln!(
                out,
                "no checkpoints yet; sign one with `access-ledger checkpoint --key FILE`"
            )?,
            Format::Text => {
                for n in &notes {
                    writeln!(out, "{n}")?;
                }
            }
        }
        Ok(exit::OK)
    }
}
