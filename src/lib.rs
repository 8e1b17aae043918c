//! access-ledger: a tamper-evident ledger of who may access which public database.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod chain;
mod encoding;
mod entry;
mod event;
mod ident;
mod keys;
mod time;

// The public interface is:
pub use chain::{Authority, Ban, ChainError, ChainedEntry, LedgerState, Violation};
pub use encoding::{EncodingError, MAX_ENCODED_LEN};
pub use entry::{Entry, EntryHash, SignedEntry, ENTRY_HASH_CONTEXT, SIGNATURE_CONTEXT};
pub use event::{Event, Roles};
pub use ident::{AuthorityName, IdentError, Origin, Resource, Right, Rights, Subject, Text};
pub use keys::{note_key_id, KeyError, PublicKey, SecretKey, VerifierKey};
pub use time::{TimeError, Timestamp, Zone};
