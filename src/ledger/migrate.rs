//! `reindex --migrate`: a ledger in an earlier storage layout (1, 2 or 3)
//! rebuilt in layout 4 (src/store.rs, "Migration"), crash-safely.

use super::*;
use crate::store::{migration_crash_point, Migration, MigrationStart};

/// What [`Ledger::migrate`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Migrated {
    /// The ledger was in the current layout already: nothing was changed.
    AlreadyCurrent,
    /// The ledger was rebuilt in the current layout.
    Migrated {
        /// The layout it was in (1, 2 or 3).
        from: u8,
        /// Its entries, every one copied byte for byte.
        entries: u64,
    },
}

impl Ledger {
    /// Migrates the ledger in `dir` from storage layout 1, 2 or 3 to layout 4, under
    /// its lock (waiting up to `wait`), and leaves it closed.
    ///
    /// Builds the new store beside the old one: every primary record (entries,
    /// checkpoints, the replica record) copied byte for byte, then every
    /// derived record rebuilt from the entries by [`Ledger::reindex`] (a full
    /// replay through the rules, strict signatures included), committed in
    /// bounded batches. Before the new store replaces the old one it must
    /// hold the same entry count, the same first and last entry, the same
    /// primary records (by a keyed digest of all of them), and agree with
    /// the `HEAD` file; otherwise nothing is changed. A crash at
    /// any point leaves a ledger that opens (in layout 4) or migrates again
    /// (in its old layout). `progress(step, done, total)` is called now and then.
    pub fn migrate(
        dir: &Path,
        wait: Duration,
        mut progress: impl FnMut(&'static str, u64, u64),
    ) -> Result<Migrated, LedgerError> {
        let (migration, store) = match Store::begin_migration(dir, wait)? {
            MigrationStart::AlreadyCurrent => return Ok(Migrated::AlreadyCurrent),
            MigrationStart::Started(m, s) => (m, s),
        };
        let total = migration.old_entry_count()?;
        migration.copy_primary(&store, |done| progress("copying entries", done, total))?;
        migration_crash_point("copied");
        let mut ledger = Ledger {
            store,
            state: LedgerState::new(),
            verified: None,
            stored_digest: [0; 32],
            roots: Mutex::default(),
            replica: None,
            damaged_tail: None,
        };
        ledger.reindex(|done, total| progress("rebuilding derived data", done, total))?;
        migration_crash_point("rebuilt");
        let Ledger { store, state, .. } = ledger;
        check_copy(&migration, &store, &state, total)?;
        let from = migration.old_layout();
        migration.finish(store)?;
        Ok(Migrated::Migrated {
            from,
            entries: state.len(),
        })
    }
}

/// Fails unless the store built by a migration holds what the old
/// store holds: `total` entries, the same first and last entry bytes, the
/// same primary records, a rules state at that head, and the last
/// acknowledged head (if recorded) among its entries.
fn check_copy(
    migration: &Migration,
    new: &Store,
    state: &LedgerState,
    total: u64,
) -> Result<(), LedgerError> {
    let differs = |what: String| -> LedgerError {
        new.damaged(format!(
            "the migrated copy {what}; the old store was left as it is"
        ))
        .into()
    };
    let count = new.entry_count()?;
    if count != total || state.len() != total {
        return Err(differs(format!(
            "holds {count} entries (replayed {}), the old store {total}",
            state.len()
        )));
    }
    for seq in [0, total.saturating_sub(1)] {
        if new.entry_bytes(seq)? != migration.old_entry_bytes(seq)? {
            return Err(differs(format!("differs at entry {seq}")));
        }
    }
    let like = RecordDigest::new();
    if new.primary_digest_like(&like)? != migration.old_primary_digest_like(&like)? {
        return Err(differs("holds other entries or checkpoints".into()));
    }
    if let Some((size, hash)) = new.acknowledged_head() {
        if size > total {
            return Err(LedgerError::RolledBack {
                found: total,
                expected: size,
                by: "the last acknowledged commit".into(),
            });
        }
        if let Some(seq) = size.checked_sub(1) {
            let bytes = new
                .entry_bytes(seq)?
                .ok_or_else(|| differs(format!("lacks entry {seq}")))?;
            let entry = Entry::decode(&bytes)
                .map_err(|e| new.damaged(format!("entry {seq} does not decode: {e}")))?;
            if entry.hash().0 != hash {
                return Err(LedgerError::Forked {
                    seq,
                    by: "the last acknowledged commit".into(),
                });
            }
        }
    }
    Ok(())
}
