//! Any text as a line of an import file: a clear error or an event, never a
//! panic. (Once the library has `json_line`, call it instead of serde_json.)
#![no_main]
libfuzzer_sys::fuzz_target!(|line: &str| {
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(line) {
        let _ = access_ledger::event_from_json(&v, &access_ledger::Zone::utc());
    }
});
