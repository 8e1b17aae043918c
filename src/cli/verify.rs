//! `verify` and `reindex`.

use serde_json::json;

use super::{exit, print_json, Context, Failure, Progress};

pub fn verify(ctx: &Context, json: bool) -> Result<u8, Failure> {
    let ledger = ctx.open()?;
    let mut progress = Progress::new("verifying");
    let report = ledger.verify(|d, t| progress.update(d, t))?;
    if json {
        print_json(&json!({"ok": true, "report": report}));
    } else {
        let zone = ledger.zone();
        println!(
            "ok: {} entries verified (chain, signatures, authorities, time order, bans)",
            report.entries
        );
        println!("ledger id {}", report.ledger_id);
        println!("head      {}", report.head);
        for b in &report.bans {
            println!(
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
            );
        }
    }
    Ok(exit::OK)
}

pub fn reindex(ctx: &Context) -> Result<u8, Failure> {
    let mut ledger = ctx.open()?;
    let mut progress = Progress::new("reindexing");
    ledger.reindex(|d, t| progress.update(d, t))?;
    println!("reindexed {} entries", ledger.len());
    Ok(exit::OK)
}
