//! Any text as a checkpoint note: parsed and opened under a fixed log key,
//! refused or accepted, never a panic. (Accepting needs that key's signature.)
#![no_main]
use std::sync::OnceLock;

use access_ledger::{AuthorityName, Checkpoint, Note, SecretKey, SignedCheckpoint, VerifierKey};

libfuzzer_sys::fuzz_target!(|note: &str| {
    static KEY: OnceLock<VerifierKey> = OnceLock::new();
    let key = KEY.get_or_init(|| {
        SecretKey::from_seed(AuthorityName::new("fuzz-log").unwrap(), &[9; 32]).verifier()
    });
    let _ = Note::parse(note);
    let _ = Checkpoint::parse(note);
    let _ = SignedCheckpoint::open(note, key);
});
