//! `prove`: inclusion, consistency and commitment proofs from the ledger.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::json;

use access_ledger::Event;

use super::args::ProveCommand;
use super::{exit, print_json, Context, Failure};

pub fn run(ctx: &Context, cmd: ProveCommand) -> Result<u8, Failure> {
    let ledger = ctx.open()?;
    match cmd {
        ProveCommand::Inclusion { seq, size, json } => {
            let p = ledger.prove_inclusion(seq, size.unwrap_or(ledger.len()))?;
            if json {
                print_json(&serde_json::to_value(&p).expect("proofs serialise"));
            } else {
                print!("{}", p.to_text());
            }
        }
        ProveCommand::Consistency { from, to, json } => {
            let p = ledger.prove_consistency(from, to.unwrap_or(ledger.len()))?;
            if json {
                print_json(&serde_json::to_value(&p).expect("proofs serialise"));
            } else {
                print!("{}", p.to_text());
            }
        }
        ProveCommand::Commitment { seq, json } => {
            let e = ledger.entry(seq)?.ok_or_else(|| {
                Failure::usage(format!(
                    "no entry {seq}: the ledger has {} entries",
                    ledger.len()
                ))
            })?;
            let Event::Revoke {
                subject,
                resource,
                rights,
                effective_at,
                permanent: true,
                ..
            } = e.body()
            else {
                return Err(Failure::usage(format!(
                    "seq {seq} is not a permanent revocation ({})",
                    e.body().summary()
                )));
            };
            let cp = ledger
                .latest_checkpoint()?
                .filter(|c| c.checkpoint().size() > seq)
                .ok_or_else(|| {
                    Failure::usage(format!("no stored checkpoint covers seq {seq}"))
                        .hint("sign one with `access-ledger checkpoint --key FILE`")
                })?;
            let size = cp.checkpoint().size();
            let proof = ledger.prove_inclusion(seq, size)?;
            let rights = rights
                .as_ref()
                .map(|r| r.to_string())
                .unwrap_or_else(|| "*".into());
            let statement = format!(
                "no entry after seq {seq} grants {subject} a right in {{{rights}}} on {resource} or below it (or on an ancestor) \
                 for any time from {effective_at} on"
            );
            let steps = [
                format!("check the inclusion proof against the checkpoint of tree size {size} (`access-ledger verify-proof inclusion`)"),
                "check that later checkpoints extend this one (`access-ledger verify-proof consistency`, or a witness)".to_string(),
                "check the commitment on a full copy of the log: `access-ledger verify` fails on any log that breaks it".to_string(),
            ];
            if json {
                print_json(&json!({
                    "seq": seq,
                    "subject": subject.as_str(),
                    "resource": resource.as_str(),
                    "rights": rights,
                    "effective_at": effective_at.rfc3339(),
                    "checkpoint": cp.to_string(),
                    "inclusion": proof,
                    "entry": B64.encode(e.bytes()),
                    "statement": statement,
                    "verifier_must": steps,
                }));
            } else {
                println!("permanent revocation seq {seq}: {}", e.body().summary());
                println!("\ncheckpoint:\n{cp}");
                println!("inclusion proof:\n{}", proof.to_text());
                println!("entry (base64): {}\n", B64.encode(e.bytes()));
                println!("commitment: {statement}.");
                println!("a verifier must:");
                for (i, s) in steps.iter().enumerate() {
                    println!("  {}. {s}", i + 1);
                }
            }
        }
    }
    Ok(exit::OK)
}
