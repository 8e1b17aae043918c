//! Any bytes: `Entry::decode` returns an entry or an error, never panics.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = access_ledger::Entry::decode(data);
});
