//! `log` and `show`: read entries.

use access_ledger::{entry_to_json, Entry, Ledger};

use super::{exit, print_json, Context, Failure};

fn signer_name(ledger: &Ledger, e: &Entry) -> String {
    ledger
        .state()
        .authority_of(e.signer())
        .map(|n| n.to_string())
        .unwrap_or_else(|| e.signer().to_base64())
}

pub fn log(ctx: &Context, from: u64, limit: Option<u64>, json: bool) -> Result<u8, Failure> {
    let ledger = ctx.open()?;
    let zone = ledger.zone();
    let limit = limit.unwrap_or(u64::MAX);
    for seq in (from..ledger.len()).take(limit.min(usize::MAX as u64) as usize) {
        let e = ledger
            .entry(seq)?
            .ok_or_else(|| Failure::new(exit::UNAVAILABLE, format!("entry {seq} is missing")))?;
        if json {
            println!(
                "{}",
                entry_to_json(&e, ledger.state().authority_of(e.signer()))
            );
        } else {
            let eff = e
                .body()
                .effective_at()
                .map(|t| format!(" [effective {}]", t.local(&zone)))
                .unwrap_or_default();
            println!(
                "{:>6}  {}  {:<20} {}{}",
                e.seq(),
                e.recorded_at().local(&zone),
                signer_name(&ledger, &e),
                e.body().summary(),
                eff
            );
        }
    }
    Ok(exit::OK)
}

pub fn show(ctx: &Context, seq: u64, json: bool, raw: bool) -> Result<u8, Failure> {
    let ledger = ctx.open()?;
    let e = ledger.entry(seq)?.ok_or_else(|| {
        Failure::usage(format!(
            "no entry {seq}: the ledger has {} entries (seq 0..={})",
            ledger.len(),
            ledger.len() - 1
        ))
    })?;
    if raw {
        use std::io::Write;
        std::io::stdout().write_all(e.bytes()).map_err(|err| {
            Failure::new(
                exit::UNAVAILABLE,
                format!("cannot write entry {seq}: {err}"),
            )
        })?;
        return Ok(exit::OK);
    }
    let v = entry_to_json(&e, ledger.state().authority_of(e.signer()));
    if json {
        print_json(&v);
    } else {
        let zone = ledger.zone();
        println!("seq {}: {}", e.seq(), e.body().summary());
        if let serde_json::Value::Object(m) = &v {
            for (k, v) in m {
                if k == "seq" {
                    continue;
                }
                let shown = match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                println!("  {k:<12} {shown}");
            }
        }
        println!("  {:<12} {}", "recorded", e.recorded_at().local(&zone));
        println!("  {:<12} {} bytes", "size", e.bytes().len());
    }
    Ok(exit::OK)
}
