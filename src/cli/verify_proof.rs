//! `verify-proof`: offline checks of proofs against signed checkpoints.

use std::path::Path;

use access_ledger::{ConsistencyProof, Entry, InclusionProof, SignedCheckpoint, VerifierKey};
use serde_json::json;

use super::args::VerifyProofCommand;
use super::{exit, print_json, Failure};

fn read(path: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| {
        Failure::new(
            exit::UNAVAILABLE,
            format!("cannot read {}: {e}", path.display()),
        )
    })
}

fn read_text(path: &Path) -> Result<String, Failure> {
    String::from_utf8(read(path)?)
        .map_err(|_| Failure::usage(format!("{} is not UTF-8 text", path.display())))
}

fn fail(what: impl std::fmt::Display) -> Failure {
    Failure::new(exit::VERIFY, format!("proof does not verify: {what}"))
}

fn open_checkpoint(path: &Path, key: &VerifierKey) -> Result<SignedCheckpoint, Failure> {
    SignedCheckpoint::open(&read_text(path)?, key)
        .map_err(|e| fail(format!("checkpoint {}: {e}", path.display())))
}

/// A proof file in JSON or in the text form.
fn parse_proof<T: serde::de::DeserializeOwned>(
    path: &Path,
    text_form: impl Fn(&str) -> Result<T, access_ledger::ProofError>,
) -> Result<T, Failure> {
    let text = read_text(path)?;
    let parsed = if text.trim_start().starts_with('{') {
        serde_json::from_str(&text).map_err(|e| e.to_string())
    } else {
        text_form(&text).map_err(|e| e.to_string())
    };
    parsed.map_err(|e| Failure::usage(format!("{}: not a proof: {e}", path.display())))
}

pub fn run(cmd: VerifyProofCommand) -> Result<u8, Failure> {
    match cmd {
        VerifyProofCommand::Inclusion {
            checkpoint,
            ledger_key,
            proof,
            entry,
            json,
        } => {
            let key = VerifierKey::parse(&ledger_key)?;
            let cp = open_checkpoint(&checkpoint, &key)?;
            let p: InclusionProof = parse_proof(&proof, InclusionProof::parse_text)?;
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
            if let Some(path) = entry {
                let bytes = read(&path)?;
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
            if json {
                print_json(
                    &json!({"ok": true, "origin": c.origin().as_str(), "tree_size": c.size(), "seq": p.seq(), "entry": summary}),
                );
            } else {
                println!(
                    "ok: seq {} is in {} at tree size {} (checkpoint signed by {})",
                    p.seq(),
                    c.origin(),
                    c.size(),
                    key.name()
                );
                if let Some(s) = summary {
                    println!("entry {}: {s}", p.seq());
                }
            }
        }
        VerifyProofCommand::Consistency {
            old_checkpoint,
            checkpoint,
            ledger_key,
            proof,
            json,
        } => {
            let key = VerifierKey::parse(&ledger_key)?;
            let old = open_checkpoint(&old_checkpoint, &key)?;
            let new = open_checkpoint(&checkpoint, &key)?;
            let (o, n) = (old.checkpoint(), new.checkpoint());
            if o.origin() != n.origin() {
                return Err(fail(format!(
                    "the checkpoints are of different logs: {} and {}",
                    o.origin(),
                    n.origin()
                )));
            }
            let p: ConsistencyProof = parse_proof(&proof, ConsistencyProof::parse_text)?;
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
            if json {
                print_json(
                    &json!({"ok": true, "origin": n.origin().as_str(), "old_size": o.size(), "new_size": n.size()}),
                );
            } else {
                println!(
                    "ok: {} at tree size {} extends tree size {}: nothing was rewritten or dropped",
                    n.origin(),
                    n.size(),
                    o.size()
                );
            }
        }
    }
    Ok(exit::OK)
}
