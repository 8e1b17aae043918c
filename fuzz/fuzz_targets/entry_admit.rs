//! Any bytes as the second entry of a ledger: decoded and run through the
//! chain rules, never a panic. (A random input that passes would need a
//! signature by the TEST-ONLY key below, so every input must be refused.)
#![no_main]
use std::sync::OnceLock;

use access_ledger::{
    AuthorityName, Entry, EntryHash, Event, LedgerState, Origin, SecretKey, Text, Timestamp,
};

fn genesis() -> &'static LedgerState {
    static STATE: OnceLock<LedgerState> = OnceLock::new();
    STATE.get_or_init(|| {
        let key = SecretKey::from_seed(AuthorityName::new("fuzz-admin").unwrap(), &[7; 32]);
        let body = Event::Genesis {
            origin: Origin::new("fuzz.example/ledger").unwrap(),
            time_zone: access_ledger::TimeZoneName::new("UTC").unwrap(),
            authority: key.name().clone(),
            key: key.public(),
        };
        let e = Entry::sign(
            0,
            EntryHash::ZERO,
            Timestamp::from_micros(0),
            body,
            &key,
            &EntryHash::ZERO,
        );
        let mut state = LedgerState::new();
        state.admit(e.entry().clone(), None).unwrap();
        state
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(entry) = Entry::decode(data) {
        assert!(genesis().clone().admit(entry, None).is_err());
    }
});
