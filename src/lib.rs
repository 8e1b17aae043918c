//! access-ledger: a tamper-evident ledger of who may access which public database.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod chain;
mod checkpoint;
mod demo;
mod encoding;
mod entry;
mod event;
mod ident;
mod json;
mod keys;
mod ledger;
mod merkle;
mod projection;
mod query;
mod store;
#[doc(hidden)]
pub mod synth;
mod time;
mod witness;

// The public interface is:
pub use chain::{Authority, Ban, ChainError, ChainedEntry, LedgerState, Violation};
pub use checkpoint::{
    cosignature_message, cosigner_key_id, Checkpoint, CheckpointError, CosignerKey, Note,
    NoteSignature, SignedCheckpoint, COSIGNATURE_TIME_PREFIX, COSIGNATURE_V1_HEADER,
    MAX_COSIGNATURE_TIME, MAX_NOTE_LEN, MAX_NOTE_SIGNATURES, NOTE_ALG_COSIGNATURE_V1,
    SIGNATURE_LINE_PREFIX,
};
pub use demo::{Fixture, FixtureKey};
pub use encoding::{EncodingError, MAX_ENCODED_LEN};
pub use entry::{
    BadSignature, Entry, EntryHash, SignedEntry, ENTRY_HASH_CONTEXT, SIGNATURE_CONTEXT,
};
pub use event::{Event, Roles};
pub use ident::{AuthorityName, IdentError, Origin, Resource, Right, Rights, Subject, Text};
pub use json::{
    entry_to_json, event_from_json, event_to_json, json_line, parse_public_key, JsonError,
};
pub use keys::{note_key_id, KeyError, PublicKey, SecretKey, VerifierKey};
pub use ledger::{BanReport, Ledger, LedgerError, NewEntry, VerifyReport, DEFAULT_LOCK_WAIT};
pub use merkle::{
    append_leaf, consistency_proof, inclusion_proof, tree_root, verify_consistency,
    verify_inclusion, ConsistencyProof, InclusionProof, MemoryTree, MemoryTreeError, NodeSink,
    NodeSource, ProofError, ProveError, TreeHash, LEAF_HASH_PREFIX, MAX_PROOF_LEN,
    NODE_HASH_PREFIX,
};
pub use projection::{
    Access, Change, Decision, ExposurePath, ExposureStep, HeldRight, HistoryItem, HistoryOf,
    Holding, PathKind, Projection, RightSet, Route, StepKind, MAX_EXPOSURE_STEPS,
};
pub use query::{rebuild_check, IndexReport, Queries, QueryError};
pub use store::MARKER_FILE;
pub use store::{Pending, Store, StoreError};
pub use time::{TimeError, Timestamp, Zone};
pub use witness::{Witness, WitnessError, WITNESS_STATE_FILE};
