//! Any text as a time argument, in a zone with daylight saving: parsed or
//! refused, never a panic.
#![no_main]
use std::sync::OnceLock;

libfuzzer_sys::fuzz_target!(|s: &str| {
    static ZONE: OnceLock<access_ledger::Zone> = OnceLock::new();
    let zone = ZONE.get_or_init(|| access_ledger::Zone::new("America/Chicago").unwrap());
    let _ = access_ledger::Timestamp::parse(s, zone);
});
