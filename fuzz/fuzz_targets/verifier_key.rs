//! Any text as a `--public-key`: parsed or refused, never a panic.
#![no_main]
libfuzzer_sys::fuzz_target!(|s: &str| {
    let _ = access_ledger::VerifierKey::parse(s);
});
