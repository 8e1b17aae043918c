//! The index check (`rebuild --check`): are the stored indexes exactly those
//! that the stored entries produce?

use std::collections::BTreeMap;

use super::keys::{split, SIGNERS};
use super::write::{write_index, IndexSink};
use crate::entry::Entry;
use crate::store::{RecordDigest, Store, StoreError, INDEX_PREFIX};

/// The outcome of the index check ([`crate::Ledger::check_indexes`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexReport {
    /// Entries replayed.
    pub entries: u64,
    /// Index keys a replay produces.
    pub expected_keys: u64,
    /// Keys a replay produces that the store lacks.
    pub missing: u64,
    /// Stored index keys that a replay does not produce.
    pub extra: u64,
    /// Keys present in both with different values.
    pub differing: u64,
    /// The first problem found, for people.
    pub first_problem: Option<String>,
}

impl IndexReport {
    /// Whether the stored indexes are exactly those of a replay.
    pub fn is_consistent(&self) -> bool {
        self.missing == 0 && self.extra == 0 && self.differing == 0
    }
}

/// `rebuild --check`: replays every stored entry into fresh index records (in
/// memory) and compares them with the stored `X` keys.
///
/// Memory grows with the number of index records (about three per entry).
pub(crate) fn rebuild_check(store: &Store) -> Result<IndexReport, StoreError> {
    let mut fresh: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    let mut report = IndexReport::default();
    for item in store.entries(0) {
        let (seq, bytes) = item?;
        let e =
            Entry::decode(&bytes).map_err(|err| store.damaged(format!("entry {seq}: {err}")))?;
        write_index(&mut fresh, &e)?;
        report.entries += 1;
    }
    report.expected_keys = fresh.len() as u64;
    let note = |report: &mut IndexReport, what: String| {
        if report.first_problem.is_none() {
            report.first_problem = Some(what);
        }
    };
    let mut expected = fresh.into_iter().peekable();
    for kv in store.scan_prefix(&[INDEX_PREFIX]) {
        let (k, v) = kv?;
        while let Some((ek, _)) = expected.next_if(|(ek, _)| ek < &k) {
            report.missing += 1;
            note(&mut report, format!("missing index key {ek:02x?}"));
        }
        match expected.next_if(|(ek, _)| ek == &k) {
            Some((_, ev)) if ev == v => {}
            Some(_) => {
                report.differing += 1;
                note(
                    &mut report,
                    format!("index key {k:02x?} has a different value"),
                );
            }
            None => {
                report.extra += 1;
                note(&mut report, format!("unexpected index key {k:02x?}"));
            }
        }
    }
    for (ek, _) in expected {
        report.missing += 1;
        note(&mut report, format!("missing index key {ek:02x?}"));
    }
    Ok(report)
}

/// The index records the entries produce, as order-independent digests per
/// index key space (the byte after `X`), built one entry at a time in
/// constant memory: `verify`'s bounded-memory version of [`rebuild_check`].
pub(crate) struct IndexDigest {
    like: RecordDigest,
    spaces: BTreeMap<u8, RecordDigest>,
    /// `SIGNERS` records, by key: a key added again overwrites (a handful).
    signers: BTreeMap<Vec<u8>, Vec<u8>>,
    /// The `t` and `u` values of the chunk of the entry being added, as
    /// they grow: every event of a (day, chunk) pair appends to one key,
    /// whose final value is added when the entries have moved on to the next
    /// chunk (entries come in seq order, so a chunk's keys are complete
    /// then) or at [`IndexDigest::finish`]. At most one offset per entry of
    /// a chunk.
    chunk_lists: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl IndexDigest {
    /// An empty digest under `like`'s key.
    pub(crate) fn new(like: &RecordDigest) -> Self {
        IndexDigest {
            like: like.empty_like(),
            spaces: BTreeMap::new(),
            signers: BTreeMap::new(),
            chunk_lists: BTreeMap::new(),
        }
    }

    /// Adds the records of the next entry.
    pub(crate) fn add_entry(&mut self, e: &Entry) -> Result<(), StoreError> {
        write_index(self, e)
    }

    /// Adds the `t` and `u` values gathered so far.
    fn add_chunk_lists(&mut self) {
        for (k, v) in std::mem::take(&mut self.chunk_lists) {
            self.add(&k, &v);
        }
    }

    fn add(&mut self, key: &[u8], value: &[u8]) {
        let space = key.get(1).copied().unwrap_or(0);
        let like = &self.like;
        self.spaces
            .entry(space)
            .or_insert_with(|| like.empty_like())
            .add_record(key, value);
    }

    /// The expected digests, with every record added.
    pub(crate) fn finish(mut self) -> Self {
        self.add_chunk_lists();
        for (k, v) in std::mem::take(&mut self.signers) {
            self.add(&k, &v);
        }
        self
    }

    /// The digests of the stored index records, under the same key, in one
    /// sequential scan.
    pub(crate) fn stored(&self, store: &Store) -> Result<IndexDigest, StoreError> {
        let mut d = IndexDigest::new(&self.like);
        for r in store.scan_prefix(&[INDEX_PREFIX]) {
            let (k, v) = r?;
            d.add(&k, &v);
        }
        Ok(d)
    }

    /// The first index key space whose records differ between the two.
    pub(crate) fn first_difference(&self, other: &IndexDigest) -> Option<u8> {
        let spaces: std::collections::BTreeSet<u8> = self
            .spaces
            .keys()
            .chain(other.spaces.keys())
            .copied()
            .collect();
        spaces
            .into_iter()
            .find(|s| self.spaces.get(s) != other.spaces.get(s))
    }
}

impl IndexSink for IndexDigest {
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        match key.get(1).copied() {
            Some(SIGNERS) => {
                self.signers.insert(key, value);
            }
            _ => self.add(&key, &value),
        }
    }

    fn append(&mut self, key: Vec<u8>, item: [u8; 2]) -> Result<(), StoreError> {
        // The chunk, by the one splitter of index keys (keys.rs).
        let chunk = |k: &[u8]| split(k, None).map(|p| p.seq);
        if self
            .chunk_lists
            .first_key_value()
            .is_some_and(|(k, _)| chunk(k) != chunk(&key))
        {
            self.add_chunk_lists();
        }
        self.chunk_lists
            .entry(key)
            .or_default()
            .extend_from_slice(&item);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::index::TIMELINE;
    use crate::query::test_log::{grant, join, ledger};
    use crate::store::RecordDigest;
    use crate::store::Tamper;

    #[test]
    fn the_indexes_of_a_ledger_are_those_of_its_entries() {
        let log = ledger(vec![
            grant("group:g", "db", "read", 0, None),
            join("agency:a", "group:g", 1),
        ]);
        let report = rebuild_check(log.ledger.store()).unwrap();
        assert!(report.is_consistent(), "{report:?}");
        assert_eq!(report.entries, 3);
        assert!(report.expected_keys > 0);
        assert_eq!(report.first_problem, None);
    }

    /// `verify`'s digest of the records the entries produce equals the
    /// stored records' over several chunks of the `t` and `u` spaces (whose
    /// values grow with every event of a day in a chunk, 256 entries in unit
    /// tests), and names the space of a `t` value one offset short.
    #[test]
    fn the_digest_of_the_entries_is_that_of_the_stored_records_across_chunks() {
        let events = (0..700i64)
            .map(|i| {
                grant(
                    &format!("agency:a{}", i % 7),
                    "db",
                    "read",
                    i % 50,
                    Some(i % 90 + 100),
                )
            })
            .collect();
        let log = ledger(events);
        let store = log.ledger.store();
        let like = RecordDigest::new();
        let expected = |store: &Store| {
            let mut d = IndexDigest::new(&like);
            for e in &log.entries {
                d.add_entry(e).unwrap();
            }
            let d = d.finish();
            d.first_difference(&d.stored(store).unwrap())
        };
        assert_eq!(expected(store), None);
        assert!(rebuild_check(store).unwrap().is_consistent());
        // One offset dropped from the longest `t` value.
        let (k, v) = store
            .scan_prefix(&[INDEX_PREFIX, TIMELINE])
            .map(Result::unwrap)
            .max_by_key(|(_, v)| v.len())
            .unwrap();
        assert!(v.len() > 2, "{}", v.len());
        let mut p = store.pending();
        p.put(k, v[..v.len() - 2].to_vec());
        store.commit(p).unwrap();
        assert_eq!(expected(store), Some(TIMELINE));
        assert_eq!(rebuild_check(store).unwrap().differing, 1);
    }

    #[test]
    fn a_stray_or_altered_index_record_is_found() {
        let log = ledger(vec![grant("agency:a", "db", "read", 0, None)]);
        let tamper = Tamper(log.ledger.store());
        use crate::store::DerivedSpace;
        tamper
            .insert(DerivedSpace::QueryIndexes, b"zzz", &[])
            .unwrap();
        let report = rebuild_check(log.ledger.store()).unwrap();
        assert_eq!((report.extra, report.missing, report.differing), (1, 0, 0));
        assert!(tamper
            .overwrite(DerivedSpace::QueryIndexes, 0, b"not a record")
            .unwrap());
        let report = rebuild_check(log.ledger.store()).unwrap();
        assert_eq!((report.extra, report.missing, report.differing), (1, 0, 1));
        assert!(!report.is_consistent());
    }
}
