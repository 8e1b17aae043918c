//! access-ledger: a tamper-evident ledger of who may access which public database.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod chain;
mod demo;
mod encoding;
mod entry;
mod event;
mod ident;
mod json;
mod keys;
mod ledger;
mod store;
mod time;

// The public interface is:
pub use chain::{Authority, Ban, ChainError, ChainedEntry, LedgerState, Violation};
pub use demo::{Fixture, FixtureKey};
pub use encoding::{EncodingError, MAX_ENCODED_LEN};
pub use entry::{
    BadSignature, Entry, EntryHash, SignedEntry, ENTRY_HASH_CONTEXT, SIGNATURE_CONTEXT,
};
pub use event::{Event, Roles};
pub use ident::{AuthorityName, IdentError, Origin, Resource, Right, Rights, Subject, Text};
pub use json::{entry_to_json, event_from_json, event_to_json, parse_public_key, JsonError};
pub use keys::{note_key_id, KeyError, PublicKey, SecretKey, VerifierKey};
pub use ledger::{BanReport, Ledger, LedgerError, NewEntry, VerifyReport, DEFAULT_LOCK_WAIT};
pub use store::MARKER_FILE;
pub use store::{Pending, Store, StoreError};
pub use time::{TimeError, Timestamp, Zone};
