//! `prove`: inclusion, consistency and commitment proofs from the ledger.

use std::io::Write;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::json;

use access_ledger::Event;

use super::args::{ProveCommitment, ProveConsistency, ProveInclusion};
use super::log::entry;
use super::output::{self, Format};
use super::{exit, Context, Failure};

/// Writes a proof in `format`: JSON, or its text form.
fn write_proof(
    format: Format,
    proof: &impl serde::Serialize,
    text_form: impl FnOnce() -> String,
) -> Result<u8, Failure> {
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => output::json(&mut out, proof)?,
        Format::Text => write!(out, "{}", text_form())?,
    }
    Ok(exit::OK)
}

impl ProveInclusion {
    /// Proves that entry `seq` is in the tree of `--size` entries.
    pub fn run(self, ctx: &Context) -> Result<u8, Failure> {
        let ledger = ctx.open()?;
        let p = ledger.prove_inclusion(self.seq, self.size.unwrap_or(ledger.len()))?;
        write_proof(self.format, &p, || p.to_text())
    }
}

impl ProveConsistency {
    /// Proves that the tree of `--to` entries extends the tree of `--from`.
    pub fn run(self, ctx: &Context) -> Result<u8, Failure> {
        let ledger = ctx.open()?;
        let p = ledger.prove_consistency(self.from, self.to.unwrap_or(ledger.len()))?;
        write_proof(self.format, &p, || p.to_text())
    }
}

impl ProveCommitment {
    /// Shows a permanent revocation's inclusion in the latest checkpoint and
    /// what a verifier must still check.
    pub fn run(self, ctx: &Context) -> Result<u8, Failure> {
        let ledger = ctx.open()?;
        let seq = self.seq;
        let e = entry(&ledger, seq)?;
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
        let mut out = std::io::stdout().lock();
        match self.format {
            Format::Json => output::json(
                &mut out,
                &json!({
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
                }),
            )?,
            Format::Text => {
                writeln!(
                    out,
                    "permanent revocation seq {seq}: {}",
                    e.body().summary()
                )?;
                writeln!(out, "\ncheckpoint:\n{cp}")?;
                writeln!(out, "inclusion proof:\n{}", proof.to_text())?;
                writeln!(out, "entry (base64): {}\n", B64.encode(e.bytes()))?;
                writeln!(out, "commitment: {statement}.")?;
                writeln!(out, "a verifier must:")?;
                for (i, s) in steps.iter().enumerate() {
                    writeln!(out, "  {}. {s}", i + 1)?;
                }
            }
        }
        Ok(exit::OK)
    }
}
