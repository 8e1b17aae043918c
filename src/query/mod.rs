//! Queries: what the ledger says about access, as docs/SEMANTICS.md defines
//! it, answered twice: by a naive replay of the log (the reference) and from
//! indexes kept in the store (fast).
//!
//! The package, bottom up (each file depends only on those above it):
//!
//! - `answer`: the vocabulary: the answer types, [`QueryError`], and what both
//!   evaluators share to dress and order a decision. Depends on nothing else
//!   here.
//! - `reference`: [`Projection`], docs/SEMANTICS.md written as code, rule by
//!   rule, over a slice of entries. Depends only on `answer`, so that it stays
//!   an independent oracle.
//! - `index`: the indexes in the store's `X` key space: their layout and key
//!   codec (one splitter), the writer [`index_entry`] and the check
//!   [`rebuild_check`]. Depends on nothing else here.
//! - `eval`: the indexed evaluator, one query's view of the indexes at
//!   `(T, K)`. Depends on `answer` and `index`.
//! - `queries`: [`Queries`], the public queries over the indexes. Depends on
//!   `answer`, `index` and `eval`.
//!
//! Invariants:
//! - The stored indexes describe exactly the stored entries: the ledger's
//!   writer calls [`index_entry`] for every admitted entry, in the entry's own
//!   batch, and [`rebuild_check`] verifies it byte for byte.
//! - [`Queries`] and [`Projection`] give the same answers on every verified
//!   log (`tests/query_differential.rs`).
//! - Query code reads the store only through [`crate::store::Store`]'s
//!   `get`/`scan_prefix`/`range` and writes only into a
//!   [`crate::store::Pending`] batch; it never names sled.

mod answer;
mod eval;
mod index;
mod queries;
mod reference;

pub use answer::{
    Access, Change, Decision, ExposurePath, ExposureStep, HeldRight, HistoryItem, HistoryOf,
    Holding, PathKind, QueryError, RightSet, Route, StepKind, MAX_ROUTE_JOINS,
};
pub use index::IndexReport;
pub(crate) use index::{index_entry, rebuild_check, IndexDigest};
pub use queries::Queries;
pub use reference::Projection;

#[cfg(test)]
mod test_log;
