//! `verify` and `reindex`.

use std::io::Write;

use access_ledger::{Commitment, Ledger, Migrated, LAYOUT};
use serde_json::json;

use super::args::{Reindex, Verify};
use super::output::{self, Format, Progress};
use super::{exit, Context, Failure};

impl Verify {
    /// Replays the whole log and reports what it checked.
    pub fn run(self, ctx: &Context) -> Result<u8, Failure> {
        let ledger = ctx.open_to_scan()?;
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
            let words = match &b.commitment {
                Commitment::Kept => "kept (nothing in the log grants it back or shares it)".into(),
                Commitment::Held { entries } => format!(
                    "held (the ban denies what {} later entr{} would give)",
                    entries.len(),
                    if entries.len() == 1 { "y" } else { "ies" }
                ),
                Commitment::BackDoorOpen { paths, .. } => format!(
                    "BACK DOOR OPEN ({} sharing path(s) carry banned data to a covered subject)",
                    paths.len()
                ),
                other => other.to_string(),
            };
            writeln!(
                out,
                "permanent revocation seq {}: {} denied {} on {} from {}: {words}",
                b.seq,
                b.subject,
                b.rights,
                b.resource,
                b.effective_at.local(&zone),
            )?;
            let held = match &b.commitment {
                Commitment::Held { entries } => entries.as_slice(),
                Commitment::BackDoorOpen { held, .. } => held.as_slice(),
                _ => &[],
            };
            for seq in held {
                let summary = ledger
                    .entry(*seq)?
                    .map(|e| e.body().summary())
                    .unwrap_or_default();
                writeln!(out, "  held: seq {seq} ({summary})")?;
            }
            if let Commitment::BackDoorOpen { paths, .. } = &b.commitment {
                for d in paths {
                    let seqs: Vec<u64> = d.path.steps.iter().map(|s| s.seq).collect();
                    let rights =
                        serde_json::to_string(&d.path.rights).expect("right sets serialise");
                    writeln!(
                        out,
                        "  back door: seqs {seqs:?} bring {} data {rights} to {} at {}",
                        d.resource,
                        d.subject,
                        d.at.local(&zone)
                    )?;
                }
            }
        }
        Ok(exit::OK)
    }
}

impl Reindex {
    /// Rebuilds every derived index from the entries.
    pub fn run(self, ctx: &Context) -> Result<u8, Failure> {
        if self.migrate {
            return migrate(ctx);
        }
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

/// `reindex --migrate`.
fn migrate(ctx: &Context) -> Result<u8, Failure> {
    let mut current: Option<(&'static str, Progress)> = None;
    let migrated = Ledger::migrate(&ctx.ledger, ctx.wait, |step, done, total| {
        if current.as_ref().is_none_or(|(s, _)| *s != step) {
            current = Some((step, Progress::new(step)));
        }
        if let Some((_, p)) = current.as_mut() {
            p.update(done, total);
        }
    })?;
    let dir = ctx.ledger.display();
    let mut out = std::io::stdout().lock();
    match migrated {
        Migrated::Migrated { from, entries } => writeln!(
            out,
            "migrated ledger at {dir} from storage layout {from} to {LAYOUT}: {entries} entries copied byte for byte, derived data rebuilt"
        )?,
        _ => writeln!(
            out,
            "ledger at {dir} is in storage layout {LAYOUT} already; nothing to do"
        )?,
    }
    Ok(exit::OK)
}
