//! access-ledger: a tamper-evident ledger of who may access which public database.
//!
//! Every grant, revocation, group membership and data-sharing agreement is an
//! [`Event`], signed by an authority into an [`Entry`] that is chained by hash
//! to the one before it. The layers, bottom up:
//!
//! - **Vocabulary**: `ident` (subjects, resources, rights: checked on
//!   construction), `time` (instants and the ledger's time zone), `event`
//!   (the bodies), `keys` (ed25519 public and signing keys).
//! - **Format**: `encoding` (the one canonical bincode encoding), `entry`
//!   (signing and hashing; docs/FORMAT.md), `bundle` (the one binary framing
//!   of a run of entries, C2SP entry bundles).
//! - **Rules**: `chain` ([`LedgerState::admit`], the single judge of an
//!   entry, for append and verify alike; a few rules judge only new input,
//!   see [`Provenance`]).
//! - **Storage**: `store` (the only module that touches sled), `ledger`
//!   ([`Ledger`]: append in one durable batch, verify, reindex, checkpoints),
//!   `head` (trusted heads: what a key holder last verified of a ledger, so
//!   that it never signs on top of unverified derived data), `durable` (the
//!   one way a file is written: replace or create-new).
//! - **Transparency**: `merkle` (RFC 6962 tree and proofs), `note` (C2SP
//!   signed notes: key names and ids, signature lines, verifier and cosigner
//!   keys), `keyfile` (signing keys on disk, naming their verifier key),
//!   `checkpoint` (checkpoint bodies and cosignature/v1, as notes),
//!   `witness` (docs/TRANSPARENCY.md), `tiles` (the log published as C2SP
//!   tlog-tiles) and `mirror` (reading it back, verified, into a read replica).
//! - **Queries**: `query` (the answers of docs/SEMANTICS.md: the reference
//!   replay [`Projection`], and the store indexes with [`Queries`] that answer
//!   the same, fast; the answer types are their shared vocabulary).
//! - **Audit**: `audit` (a real access log replayed against the ledger:
//!   the mapping file, the streaming log reader, and each row's outcome by
//!   `check` at its own time; docs/AUDIT.md).
//! - **Oversight**: `export` (the city-council bundle: report.html, CSV
//!   files, every entry and a signed MANIFEST; `verify-export`; `backup`).
//! - **Edges**: `json` (import lines and `log --json`), `demo` (the Chicago
//!   2019 fixture), `synth` (synthetic ledgers for benchmarks).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod audit;
mod bundle;
mod chain;
mod checkpoint;
mod demo;
mod durable;
mod encoding;
mod entry;
mod event;
mod export;
mod head;
mod ident;
mod json;
mod keyfile;
mod keys;
mod ledger;
mod merkle;
mod mirror;
mod note;
mod query;
mod store;
mod synth;
mod tiles;
mod time;
mod witness;

// The public interface is:
pub use audit::{
    audit, AccessLog, ActingFor, AuditError, AuditOptions, AuditReport, Auditor, BadRow,
    BanViolations, Columns as LogColumns, Counts as OutcomeCounts, Finding, Judgement, LedgerSeen,
    LogError, LogFormat, Mapping, MappingError, NoSink, Outcome, OutcomeKind, Reason, Revised,
    RowTime, Sink as AuditSink, Unmapped, UnmappedCount, Verdict, MAX_LISTED_MALFORMED,
    MAX_UNMAPPABLE_NAMES,
};
pub use bundle::{entries as bundle_entries, push_entry as push_bundle_entry, BundleError};
pub use chain::{Authority, Ban, ChainError, ChainedEntry, LedgerState, Provenance, Violation};
pub use checkpoint::{
    cosignature_message, Checkpoint, CheckpointError, SignedCheckpoint, COSIGNATURE_TIME_PREFIX,
    COSIGNATURE_V1_HEADER, MAX_COSIGNATURE_TIME, TIME_EXTENSION_PREFIX,
};
pub use demo::{
    Fixture, FixtureKey, ACCESS_LOG_CSV as DEMO_ACCESS_LOG, MAPPING_TOML as DEMO_MAPPING,
};
pub use encoding::{EncodingError, MAX_ENCODED_LEN};
pub use entry::{
    BadSignature, Entry, EntryHash, SignedEntry, ENTRY_HASH_CONTEXT, SIGNATURE_CONTEXT,
};
pub use event::{Event, Roles};
pub use export::{
    export, files as export_files, phase_unit as export_phase_unit, verify_export, BackupReport,
    ExportError, ExportOptions, ExportReport, VerifiedExport, EXPORT_FORMAT_VERSION,
    MANIFEST_HEADER, SEMANTICS_VERSION,
};
pub use head::{HeadError, HeadFile};
pub use ident::{
    is_invisible, AuthorityName, IdentError, Origin, Resource, Right, Rights, Subject, Text,
    TimeZoneName, INVISIBLE, MAX_IDENT_LEN, MAX_NAME_LEN, MAX_ORIGIN_LEN, MAX_RESOURCE_DEPTH,
    MAX_RIGHTS, MAX_RIGHT_LEN, MAX_TEXT_LEN,
};
pub use json::{
    entry_line, entry_to_json, event_from_json, event_to_json, json_line, parse_public_key,
    JsonError,
};
pub use keys::{KeyError, PublicKey, SecretKey};
pub use ledger::{
    BackDoor, BanReport, Commitment, Ledger, LedgerError, Migrated, NewEntry, VerifyReport,
    DEFAULT_LOCK_WAIT,
};
pub use merkle::{
    append_leaf, consistency_proof, inclusion_proof, tree_root, verify_consistency,
    verify_inclusion, CompactRange, ConsistencyProof, InclusionProof, MemoryTree, MemoryTreeError,
    NodeSink, NodeSource, ProofError, ProveError, TreeHash, LEAF_HASH_PREFIX, MAX_PROOF_LEN,
    NODE_HASH_PREFIX,
};
pub use mirror::{
    mirror, tile_consistency_proof, MirrorError, MirrorReport, Source as TileSource, Tiles,
};
pub use note::{
    note_key_id, CosignerKey, Note, NoteError, NoteKey, NoteSignature, VerifierKey, MAX_NOTE_LEN,
    MAX_NOTE_SIGNATURES, NOTE_ALG_COSIGNATURE_V1, NOTE_ALG_ED25519, SIGNATURE_LINE_PREFIX,
};
pub use query::{
    Access, Change, Decision, ExposurePath, ExposureStep, HeldRight, HistoryItem, HistoryOf,
    Holding, IndexReport, PathKind, Projection, Queries, QueryError, RightSet, Route, StepKind,
    MAX_ROUTE_JOINS,
};
pub use store::{StoreError, LAYOUT, LAYOUT2_DIR, LAYOUT3_DIR, MARKER_FILE, STORE_DIR};
pub use tiles::{
    bundle_path, publish, tile_path, tile_width, PublishError, PublishReport,
    TILES_CHECKPOINT_FILE, TILES_FORMAT, TILES_METADATA_FILE, TILE_HEIGHT, TILE_WIDTH,
};
pub use time::{TimeError, Timestamp, Zone};
pub use witness::{Witness, WitnessError, WITNESS_STATE_FILE};

/// What tests, benchmarks and fuzzers need and users must not rely on: the
/// synthetic-ledger builder and the tamper API. Not part of the stable
/// interface; hidden from the docs.
#[doc(hidden)]
pub mod internal {
    pub use crate::store::{DerivedSpace, Tamper};
    pub use crate::synth::{build, Rng, SynthReport, SynthSpec};

    /// The tamper API over `ledger`'s store (see [`Tamper`]).
    pub fn tamper(ledger: &crate::Ledger) -> Tamper<'_> {
        Tamper(ledger.store())
    }
}
