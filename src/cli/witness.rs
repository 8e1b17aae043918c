//! `witness`: the council side of checkpoints.

use std::path::Path;

use access_ledger::{ConsistencyProof, CosignerKey, VerifierKey, Witness, WitnessError};
use serde_json::json;

use super::{exit, print_json, read_key, read_proof, read_text, Failure};

pub fn run(
    state: &Path,
    ledger_key: &str,
    key: &Path,
    checkpoint: &Path,
    proof: Option<&Path>,
    json: bool,
) -> Result<u8, Failure> {
    let ledger_key = VerifierKey::parse(ledger_key)?;
    let key = read_key(key)?;
    let note = read_text(checkpoint)?;
    let proof = proof
        .map(|p| read_proof(p, ConsistencyProof::parse_text))
        .transpose()?;
    let mut w = Witness::open(state).map_err(witness_failure)?;
    let first = w.latest().is_none();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let cosigned = w
        .accept(&note, &ledger_key, proof.as_ref(), &key, now)
        .map_err(witness_failure)?;
    let cosigner = CosignerKey::of(&key).to_string();
    if json {
        print_json(
            &json!({"ok": true, "first": first, "cosigned": cosigned, "witness_key": cosigner}),
        );
    } else {
        print!("{cosigned}");
        if first {
            eprintln!("accepted the first checkpoint on trust; later ones must extend it");
        } else {
            eprintln!("accepted: the checkpoint extends the last one this witness accepted");
        }
        eprintln!("cosigned with witness key {cosigner}");
    }
    Ok(exit::OK)
}

fn witness_failure(e: WitnessError) -> Failure {
    match e {
        WitnessError::Io { .. } => Failure::new(exit::UNAVAILABLE, format!("witness: {e}")),
        e => Failure::new(exit::VERIFY, format!("witness refused the checkpoint: {e}")),
    }
}
