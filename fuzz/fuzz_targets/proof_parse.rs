//! Any text as a proof file (`prove ... --json` text form): parsed, and if
//! it parses, verified; never a panic.
#![no_main]
libfuzzer_sys::fuzz_target!(|text: &str| {
    if let Ok(p) = access_ledger::InclusionProof::parse_text(text) {
        let _ = p.verify();
    }
    if let Ok(p) = access_ledger::ConsistencyProof::parse_text(text) {
        let _ = p.verify();
    }
});
