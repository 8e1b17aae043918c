//! The query indexes: derived data in the store's `X` key space that answers
//! queries without a replay of the log.
//!
//! - `keys`: the layout (every key space, in a table) and the key codec, with
//!   the one splitter of index keys.
//! - `record`: the values (access records, memberships).
//! - `write`: [`index_entry`], the index records of one entry, written in the
//!   entry's own batch.
//! - `check`: [`rebuild_check`], a replay of every entry compared with the
//!   stored indexes.
//!
//! Invariant: the stored `X` keys are exactly those that [`index_entry`]
//! writes for the stored entries, byte for byte. The writer only writes (it
//! never reads), its output is a function of the entry alone, and the bytes
//! are the on-disk format: a ledger written before MUST read the same.

mod check;
mod keys;
mod record;
mod write;

pub use check::IndexReport;
pub(crate) use check::{rebuild_check, IndexDigest};
pub(in crate::query) use keys::{
    day_of, name_covers, resource_from, split, split_first, subject_from, undecodable, Key, Parts,
    BY_RESOURCE, EXPIRIES, GRANTS, HISTORY_OF_RESOURCE, HISTORY_OF_SUBJECT, MEMBERS, MEMBER_OF,
    SHARES_TO, SIGNERS, TIMELINE, TIME_CHUNK_ENTRIES,
};
pub(in crate::query) use record::{decode_membership, decode_record, IndexRecord, RecordKind};
pub(crate) use write::index_entry;
