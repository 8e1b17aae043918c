//! `checkpoint` and `checkpoints`: signed statements of the log's size and root.

use std::path::Path;

use serde_json::json;

use super::{exit, print_json, read_key, Context, Failure};

pub fn sign(ctx: &Context, key: &Path) -> Result<u8, Failure> {
    let key = read_key(key)?;
    let mut ledger = ctx.open()?;
    let cp = ledger.checkpoint(&key)?;
    // One write, so a reader sees the whole note or none of it. A closed
    // pipe is no error: the checkpoint is stored either way.
    let note = cp.to_string();
    match std::io::Write::write_all(&mut std::io::stdout().lock(), note.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            return Err(Failure::new(
                exit::UNAVAILABLE,
                format!("cannot write the checkpoint: {e}"),
            ));
        }
        _ => {}
    }
    eprintln!(
        "stored checkpoint of tree size {}; verifier key: {}",
        cp.checkpoint().size(),
        access_ledger::VerifierKey::new(
            ledger
                .state()
                .authority_of(&key.public())
                .cloned()
                .unwrap_or_else(|| key.name().clone()),
            key.public()
        )
    );
    Ok(exit::OK)
}

pub fn list(ctx: &Context, json: bool) -> Result<u8, Failure> {
    let ledger = ctx.open()?;
    let notes = ledger.checkpoints()?;
    if json {
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
        print_json(&json!(rows));
    } else if notes.is_empty() {
        println!("no checkpoints yet; sign one with `access-ledger checkpoint --key FILE`");
    } else {
        for n in &notes {
            println!("{n}");
        }
    }
    Ok(exit::OK)
}
