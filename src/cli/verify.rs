//! `verify` and `reindex`.

use std::io::Write;

use serde_json::json;

use super::args::{Reindex, Verify};
use super::output::{self, Format, Progress};
use super::{exit, Context, Failure};

impl Verify {
    /// Replays the whole log and reports what it checked.
    pub fn run(self, ctx: &Context) -> Result<u8, Failure> {
        let ledger = ctx.open()?;
        let mut progress = Progress::new("verifying");
        let report = ledger.verify(|d, t| progress.update(d, t))?;
        let mut out = std::io::stdout().lock();
        if self.format == Format::Json {
            output::json(&mut out, &json!({"ok": true, "report": report}))?;
            return Ok(exit::OK);
        }
        let zone = ledger.zone();
        writeln!(
            out,
            "ok: {} entries verified (chain, signatures, authorities, time order, bans)",
            report.entries
        )?;
        writeln!(out, "ledger id {}", report.ledger_id)?;
        writeln!(out, "head      {}", report.head)?;
        for b in &report.bans {
            writeln!(
                out,
                "permanent revocation seq {}: {} denied {} on {} from {}: {}",
                b.seq,
                b.subject,
                b.rights,
                b.resource,
                b.effective_at.local(&zone),
                if b.kept {
                    "kept (nothing in the log grants it back)"
                } else {
                    "BROKEN"
                }
            )?;
        }
        Ok(exit::OK)
    }
}

impl Reindex {
    /// Rebuilds every derived index from the entries.
    pub fn run(self, ctx: &Context) -> Result<u8, Failure> {
        let mut ledger = ctx.open()?;
        let mut progress = Progress::new("reindexing");
        ledger.reindex(|d, t| progress.update(d, t))?;
        writeln!(
            std::io::stdout().lock(),
            "reindexed {} entries",
            ledger.len()
        )?;
        Ok(exit::OK)
    }
}
