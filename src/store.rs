//! The sled store: the only module that touches sled.
//!
//! One ledger is one directory holding a marker file ([`MARKER_FILE`], also
//! the lock), the head record ([`HEAD_FILE`]) and, in storage layout 4, a
//! sled database in the subdirectory [`STORE_DIR`]. Earlier layouts:
//!
//! - layout 1 had sled's files (`conf`, `db`, `blobs/`, `snap.*`) directly in
//!   the ledger directory and one sled key per Merkle node;
//! - layout 2 had them in `store/` ([`LAYOUT2_DIR`]), the tree as hash tiles
//!   (below), and three more index keys per entry than layout 3 (the event
//!   lists `X h`, `X H` and the `recorded_at` index `X k`; src/query/index/keys.rs).
//! - layout 3 had them in `store3/` ([`LAYOUT3_DIR`]), one key per entry
//!   where layout 4 packs two, and one timeline key per access event and one
//!   expiry key per grant with an `until` (`X t`, `X u`) where layout 4 has
//!   one per day and chunk of 16,384 entries, listing their offsets.
//!
//! The layout is the name of the directory sled is in. [`Store::open`]
//! refuses an earlier layout with [`StoreError::OldLayout`], and
//! [`Store::begin_migration`] rebuilds it in layout 4 (see "Migration" below).
//! All keys live in sled's default tree, in key spaces named by their first
//! byte:
//!
//! | prefix | key after the prefix | value | kind |
//! |---|---|---|---|
//! | `E` | block, u64 big endian: seq / [`ENTRIES_PER_KEY`] | the block's entries in seq order, each a u32 big-endian length and its exact bytes | primary |
//! | `C` | tree size (u64 BE), signer name | a signed checkpoint note | primary |
//! | `S` | log size (u64 BE) | a [`crate::LedgerState`] snapshot at that size | derived |
//! | `s` | (none) | the snapshot directory: latest size, sizes pinned by signers | derived |
//! | `T` | tile level `L` (1 byte), tile index `N` (u64 BE) | a hash tile: the hashes of tree level 8·L, nodes `[256·N, 256·N + W)`, 32 bytes each (`W` ≤ 256) | derived |
//! | `X` | chosen by the query indexes | index records | derived |
//! | `R` | (none) | present only in a read replica: the source it mirrors | primary |
//!
//! The Merkle tree is stored as C2SP tlog-tiles-style hash tiles of height 8
//! (src/tiles.rs has the layout): only nodes of tree levels 0, 8, 16, ... are
//! stored, 256 to a key, and a node of level `8·L + r` is hashed up from the
//! `2^r` hashes below it in one tile. A partial tile (at the right edge of
//! the tree) is rewritten as it grows; a full one never changes. One key per
//! 256 leaves instead of one per node: sled costs about 126 bytes a key on
//! disk beyond the data (docs/PERFORMANCE.md, "Layout 2").
//!
//! Entries are packed [`ENTRIES_PER_KEY`] to a key (layout 4): entry `seq` is
//! entry `seq % 2` of block `seq / 2`, every block but the last is
//! full, and an append rewrites the last block with the new entry after the
//! ones it holds. Layouts 1 to 3 had one key per entry (`E || seq`), which
//! made a million of sled's keys at a million entries.
//!
//! Primary data is what the ledger is; derived data is a cache that
//! `reindex` deletes and rebuilds from the entries alone. Nothing derived is
//! trusted for a signature: a signer authenticates the snapshot it builds on
//! against its own trusted head (src/head.rs), and `verify` recomputes all of it.
//!
//! Beside sled, the file [`HEAD_FILE`] records the size and last entry hash of
//! the last acknowledged commit, replaced (not fsynced) after each commit and
//! compared after every open. sled 0.34's recovery stops at the first record
//! whose checksum fails and discards everything after it in that segment, so a
//! flipped bit in a recent batch silently drops that batch and every later one;
//! the head record turns that into an error. It catches loss in recovery, not
//! an attacker who can also rewrite the record.
//!
//! Durability: [`Store::commit`] applies every write of a [`Pending`] in one
//! atomic sled batch and flushes it to disk before returning. A caller MUST NOT
//! report an append as done before `commit` returned `Ok`.
//!
//! sled's own flush ends in `sync_file_range`, which flushes neither the
//! drive's write cache nor the file's metadata, so `commit` also fsyncs the
//! data file (sled issue #1452).
//!
//! Migration (layout 1, 2 or 3 to 4), under the ledger's lock: a new sled
//! database is built in [`STORE_NEW_DIR`] (primary records copied byte for
//! byte, entries packed into blocks, derived records rebuilt from the entries), checked, flushed and
//! fsynced with its directory; then one `rename(store.new, store4)`, an fsync
//! of the ledger directory, and the old layout's files are deleted. The
//! rename is the commit point: before it, the directory is a ledger in its
//! old layout (a `store.new` is a leftover the next migration deletes); after
//! it, a layout-4 ledger (old files left by a crash are deleted by the next
//! open).
//!
//! Concurrency: a store holds an exclusive lock on the marker file while it is
//! open, readers included (sled also locks its data file). [`Store::open`]
//! retries for a bounded time and then fails with [`StoreError::InUse`]; it
//! never opens a ledger twice, and never touches sled's files without the lock.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fs2::FileExt;

use crate::durable::{FileMode, NewFile};
use crate::merkle::{NodeSink, NodeSource, TreeHash};
use crate::tiles::{node_from_tile, TileBuilder, TILE_HEIGHT, TILE_WIDTH};

/// The file that marks a directory as a ledger.
pub const MARKER_FILE: &str = "ACCESS-LEDGER";
/// The marker while `init` is under way; renamed to [`MARKER_FILE`] once the
/// genesis entry is durable.
const MARKER_NEW: &str = "ACCESS-LEDGER.new";
const MARKER_TEXT: &str = "access-ledger v1\nThis directory is an access-ledger ledger. Do not edit; use the access-ledger command.\n";

/// Prefix of entry keys.
const ENTRY_PREFIX: u8 = b'E';
/// Entries per sled key in layout 4: a key per entry costs sled a page-table
/// slot (memory at every open) and about 126 bytes on disk. Two, because
/// sled 0.34 does not hold its page cache to its budget for large values: a
/// scan of every entry of the 1,000,000-entry ledger ended 236 MB above
/// the open with 16 to a key (about 4 KB values), 63 MB with two, 57 MB with
/// one, whatever the cache size (docs/PERFORMANCE.md, "Layout 4").
pub const ENTRIES_PER_KEY: u64 = 2;
/// Prefix of stored checkpoint keys.
const CHECKPOINT_PREFIX: u8 = b'C';
/// Prefix of the rules-state snapshots, by the size of the log they describe
/// (u64 BE); the bare prefix is the single snapshot written by earlier versions.
const STATE_PREFIX: u8 = b'S';
/// Key of the snapshot directory: which snapshot is the latest, and which are
/// kept because a signer's trusted head points at them.
const SNAPSHOTS_KEY: &[u8] = b"s";
/// sled's page cache. sled's default (1 GiB) lets a streaming pass over the
/// whole store (`verify` reads every entry, node and index record) grow the
/// process to gigabytes; the cache only needs the hot pages of queries
/// (docs/PERFORMANCE.md, "Trusting only what was verified").
const SLED_CACHE_BYTES: u64 = 128 * 1024 * 1024;
/// sled's page cache for a process that reads the whole store once
/// ([`Store::open_to_scan`]: `verify`, `backup`, `export`) or writes a new
/// one in bulk ([`Store::create`]: `mirror`, `verify-export`'s rebuild). A
/// pass over every key gains nothing from a large cache, and sled
/// overshoots its budget while scanning and while writing: at 1,000,000
/// entries `verify` peaked at 845 MB with the 128 MiB cache and 420 MB with
/// this one, and `verify-export` (which builds a ledger of every entry) at
/// 1,020 MB and 698 MB, each in the same time (docs/PERFORMANCE.md).
const SCAN_CACHE_BYTES: u64 = 16 * 1024 * 1024;

/// How long a ledger whose marker lock this process holds waits for sled's
/// own lock: reopening a directory just closed in this process can find it
/// still held for a moment (seen as "in use" in the export tests).
const SLED_RELEASE_GRACE: Duration = Duration::from_secs(10);

/// The file beside sled that records the last acknowledged head.
pub const HEAD_FILE: &str = "HEAD";
/// The subdirectory of a layout-4 ledger that holds the sled database.
pub const STORE_DIR: &str = "store4";
/// The subdirectory that held the sled database in storage layout 3.
pub const LAYOUT3_DIR: &str = "store3";
/// The subdirectory that held the sled database in storage layout 2.
pub const LAYOUT2_DIR: &str = "store";
/// The storage layout this version writes.
pub const LAYOUT: u8 = 4;
/// Where a migration builds the layout-4 database before renaming it to
/// [`STORE_DIR`].
pub const STORE_NEW_DIR: &str = "store.new";
/// sled's files in a layout-1 ledger directory (beside `snap.*` files).
const LAYOUT1_NAMES: [&str; 3] = ["conf", "db", "blobs"];
/// The page cache of the old store a migration reads (once, in order).
const MIGRATION_READ_CACHE_BYTES: u64 = 16 * 1024 * 1024;
/// Keys per batch when a migration copies primary records.
const COPY_BATCH: u64 = 1_024;
/// Prefix of Merkle hash tile keys.
const TREE_PREFIX: u8 = b'T';
/// Prefix of query index keys.
pub const INDEX_PREFIX: u8 = b'X';
/// Key of the replica record: present only in a read replica made by
/// `mirror`, whose value is the source it mirrors. Writes are refused there.
const REPLICA_KEY: &[u8] = b"R";
const DERIVED_PREFIXES: [u8; 4] = [STATE_PREFIX, b's', TREE_PREFIX, INDEX_PREFIX];

/// Why the store could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// No directory there.
    #[error("no ledger at {0}")]
    Missing(PathBuf),
    /// The directory is not a ledger.
    #[error("{0} is not a ledger directory (no {MARKER_FILE} file)")]
    NotALedger(PathBuf),
    /// An `init` that was interrupted before its genesis entry was durable.
    #[error("{0} holds an interrupted init, not a ledger")]
    InterruptedInit(PathBuf),
    /// `init` on a directory that has files in it.
    #[error("{0} exists and is not empty; init needs a new or empty directory")]
    NotEmpty(PathBuf),
    /// Another process holds the ledger.
    #[error("ledger at {0} is in use by another process")]
    InUse(PathBuf),
    /// A ledger in an earlier storage layout (1, 2 or 3), which only the
    /// migration opens.
    #[error("ledger at {dir} uses storage layout {layout}; run `access-ledger --ledger {dir} reindex --migrate` once (keeps every entry byte; rebuilds the rest)", dir = .dir.display())]
    OldLayout {
        /// The ledger.
        dir: PathBuf,
        /// Its layout.
        layout: u8,
    },
    /// sled reported corruption or an I/O error.
    #[error("ledger at {path}: {source}")]
    Sled {
        /// The ledger.
        path: PathBuf,
        /// What sled said.
        source: sled::Error,
    },
    /// A file system error outside sled.
    #[error("ledger at {path}: {source}")]
    Io {
        /// The ledger.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// Derived data (the rules snapshot, tree nodes, indexes) is missing or
    /// does not match the entries; it can be rebuilt from them.
    #[error("ledger at {path}: damaged derived data: {what}")]
    DamagedDerived {
        /// The ledger.
        path: PathBuf,
        /// What is wrong.
        what: String,
    },
    /// sled found data whose checksum fails in its files.
    #[error("ledger at {0} is damaged: its store holds corrupted data")]
    Corrupted(PathBuf),
    /// A stored value is damaged.
    #[error("ledger at {path} is damaged: {what}")]
    Damaged {
        /// The ledger.
        path: PathBuf,
        /// What is wrong.
        what: String,
    },
}

/// An open ledger store.
pub struct Store {
    db: sled::Db,
    /// The ledger directory (the marker and [`HEAD_FILE`] are there).
    path: PathBuf,
    /// The directory of sled's files: [`STORE_DIR`] in `path`, or
    /// [`STORE_NEW_DIR`] while a migration builds it.
    sled_dir: PathBuf,
    /// sled's data file, fsynced after every commit.
    data: fs::File,
    /// Whether commits record the head in [`HEAD_FILE`]: not while a
    /// migration builds a store, whose head the old store still holds.
    records_head: bool,
    /// The lock on the marker file. Declared after `db`, so sled has shut
    /// down before another process can get the lock.
    _lock: fs::File,
}

/// `E || n` (u64 big endian): the key of the block of entry `n *
/// ENTRIES_PER_KEY` in layout 4 ([`block_key`]), and of entry `n` itself in
/// layouts 1 to 3 (which a migration reads, and whose records the primary
/// digest is defined over).
fn entry_key(n: u64) -> [u8; 9] {
    let mut k = [ENTRY_PREFIX; 9];
    k[1..].copy_from_slice(&n.to_be_bytes());
    k
}

/// The sled key of the block holding entry `seq`.
fn block_key(seq: u64) -> [u8; 9] {
    entry_key(seq / ENTRIES_PER_KEY)
}

/// The entries of a block's value, in order: each a u32 big-endian length
/// and that many bytes. `None` unless it is 1 to [`ENTRIES_PER_KEY`] whole
/// entries.
fn split_block(v: &[u8]) -> Option<Vec<&[u8]>> {
    let mut out = Vec::new();
    let mut rest = v;
    while !rest.is_empty() {
        let (len, tail) = rest.split_first_chunk::<4>()?;
        let len = usize::try_from(u32::from_be_bytes(*len)).ok()?;
        if tail.len() < len {
            return None;
        }
        let (e, r) = tail.split_at(len);
        out.push(e);
        rest = r;
    }
    let n = out.len() as u64;
    (1..=ENTRIES_PER_KEY).contains(&n).then_some(out)
}

/// Appends entry `bytes` to block value `block`.
fn push_to_block(block: &mut Vec<u8>, bytes: &[u8]) -> Result<(), std::num::TryFromIntError> {
    block.extend_from_slice(&u32::try_from(bytes.len())?.to_be_bytes());
    block.extend_from_slice(bytes);
    Ok(())
}

impl Store {
    /// Creates a new, empty ledger store in `dir` (which must not exist, or be
    /// empty). The directory is not a ledger until [`Store::finish_create`]:
    /// an init interrupted before that leaves a directory that `open` refuses
    /// as an interrupted init.
    pub fn create(dir: &Path) -> Result<Store, StoreError> {
        let io = |source| StoreError::Io {
            path: dir.to_owned(),
            source,
        };
        if dir.exists() {
            let mut it = fs::read_dir(dir).map_err(io)?;
            if it.next().is_some() {
                return Err(StoreError::NotEmpty(dir.to_owned()));
            }
        }
        fs::create_dir_all(dir).map_err(io)?;
        restrict_to_owner(dir).map_err(io)?;
        // Created exclusively and locked at once: of two racing inits, one
        // gets NotEmpty or InUse.
        let new_marker = dir.join(MARKER_NEW);
        let marker = NewFile::create(&new_marker, FileMode::Umask).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => StoreError::NotEmpty(dir.to_owned()),
            _ => io(e),
        })?;
        if marker.file().try_lock_exclusive().is_err() {
            return Err(StoreError::InUse(dir.to_owned()));
        }
        let marker = marker.commit(MARKER_TEXT.as_bytes()).map_err(io)?;
        let store = Self::open_locked(dir, marker, Duration::ZERO, SCAN_CACHE_BYTES)?;
        // Another init may have finished between the check above and our
        // lock; never write a second genesis over its ledger.
        if dir.join(MARKER_FILE).exists() || store.entry_count()? > 0 {
            drop(store);
            let _ = fs::remove_file(&new_marker);
            return Err(StoreError::NotEmpty(dir.to_owned()));
        }
        sync_dir(dir).map_err(io)?;
        Ok(store)
    }

    /// Makes a store from [`Store::create`] a ledger. Call it once the
    /// genesis entry is durable.
    pub fn finish_create(&self) -> Result<(), StoreError> {
        let io = |source| StoreError::Io {
            path: self.path.clone(),
            source,
        };
        fs::rename(self.path.join(MARKER_NEW), self.path.join(MARKER_FILE)).map_err(io)?;
        sync_dir(&self.path).map_err(io)
    }

    /// Removes a directory made by a failed [`Store::create`] (best effort).
    pub fn discard_new(self) {
        let path = self.path.clone();
        drop(self);
        let _ = fs::remove_dir_all(path);
    }

    /// Opens the ledger in `dir`, waiting up to `wait` for another process to
    /// let go of it. A ledger in an earlier storage layout is refused with
    /// [`StoreError::OldLayout`]: only [`Store::begin_migration`] opens it.
    pub fn open(dir: &Path, wait: Duration) -> Result<Store, StoreError> {
        let lock = lock_ledger(dir, wait)?;
        Self::open_locked(dir, lock, wait, SLED_CACHE_BYTES)
    }

    /// [`Store::open`], with a small page cache, for a process that reads
    /// the whole store once rather than asking many queries.
    pub fn open_to_scan(dir: &Path, wait: Duration) -> Result<Store, StoreError> {
        let lock = lock_ledger(dir, wait)?;
        Self::open_locked(dir, lock, wait, SCAN_CACHE_BYTES)
    }

    /// Opens sled in `dir`'s [`STORE_DIR`] (creating it for a new ledger),
    /// `dir`'s marker file being held locked by `lock`.
    fn open_locked(
        dir: &Path,
        lock: fs::File,
        wait: Duration,
        cache: u64,
    ) -> Result<Store, StoreError> {
        let io = |source| StoreError::Io {
            path: dir.to_owned(),
            source,
        };
        let sled_dir = dir.join(STORE_DIR);
        let new = dir.join(MARKER_NEW).exists() && !dir.join(MARKER_FILE).exists();
        if !sled_dir.is_dir() {
            if let Some(layout) = old_layout(dir) {
                return Err(StoreError::OldLayout {
                    dir: dir.to_owned(),
                    layout,
                });
            }
            if !new {
                return Err(StoreError::Damaged {
                    path: dir.to_owned(),
                    what: format!("its store directory {STORE_DIR}/ is missing"),
                });
            }
            fs::create_dir(&sled_dir).map_err(io)?;
        }
        // A migration that crashed after its rename leaves the old files.
        remove_old_layout_files(dir, || {}).map_err(io)?;
        restrict_to_owner(dir).map_err(io)?;
        restrict_to_owner(&sled_dir).map_err(io)?;
        Self::open_sled_dir(dir, sled_dir, lock, wait, cache)
    }

    /// Opens the sled database in `sled_dir` as the store of the ledger
    /// `dir`, whose marker file `lock` holds locked, with a page cache of
    /// `cache` bytes.
    fn open_sled_dir(
        dir: &Path,
        sled_dir: PathBuf,
        lock: fs::File,
        wait: Duration,
        cache: u64,
    ) -> Result<Store, StoreError> {
        let io = |source| StoreError::Io {
            path: dir.to_owned(),
            source,
        };
        remove_unfinished_snapshots(&sled_dir).map_err(io)?;
        let db = Self::open_sled(dir, &sled_dir, cache, wait)?;
        let data = fs::File::open(sled_dir.join("db")).map_err(io)?;
        Ok(Store {
            db,
            path: dir.to_owned(),
            sled_dir,
            data,
            records_head: true,
            _lock: lock,
        })
    }

    /// Opens the sled database in `sled_dir` of the ledger `dir`, with a
    /// page cache of `cache` bytes. The caller MUST hold the ledger's marker
    /// lock, so sled's own lock can only be held by a handle this process
    /// has just dropped: sled lets go of it from its own threads, shortly
    /// after. So it is waited for at least [`SLED_RELEASE_GRACE`], whatever
    /// `wait` is.
    fn open_sled(
        dir: &Path,
        sled_dir: &Path,
        cache: u64,
        wait: Duration,
    ) -> Result<sled::Db, StoreError> {
        let start = Instant::now();
        let wait = wait.max(SLED_RELEASE_GRACE);
        loop {
            match sled::Config::new()
                .path(sled_dir)
                .cache_capacity(cache)
                .open()
            {
                Ok(db) => return Ok(db),
                Err(sled::Error::Io(e)) if e.to_string().contains("could not acquire lock") => {
                    if start.elapsed() >= wait {
                        return Err(StoreError::InUse(dir.to_owned()));
                    }
                    std::thread::sleep(Duration::from_millis(25));
                }
                Err(source) => return Err(sled_error(dir, source)),
            }
        }
    }

    fn sled_err(&self, source: sled::Error) -> StoreError {
        sled_error(&self.path, source)
    }

    /// A damaged-store error naming `what`.
    pub fn damaged(&self, what: impl Into<String>) -> StoreError {
        StoreError::Damaged {
            path: self.path.clone(),
            what: what.into(),
        }
    }

    /// A damaged-derived-data error naming `what` (the cure is a reindex).
    pub fn damaged_derived(&self, what: impl Into<String>) -> StoreError {
        StoreError::DamagedDerived {
            path: self.path.clone(),
            what: what.into(),
        }
    }

    /// The value at `key`.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .db
            .get(key)
            .map_err(|e| self.sled_err(e))?
            .map(|v| v.to_vec()))
    }

    /// The stored bytes of entry `seq`.
    pub fn entry_bytes(&self, seq: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let key = block_key(seq);
        let Some(v) = self.db.get(key).map_err(|e| self.sled_err(e))? else {
            return Ok(None);
        };
        let block = self.block_entries(&key, &v)?;
        let at = usize::try_from(seq % ENTRIES_PER_KEY).expect("below ENTRIES_PER_KEY");
        Ok(block.into_iter().nth(at).map(|(_, b)| b))
    }

    /// The entries of the block stored under `key` with value `v`, as
    /// `(seq, bytes)`; a key or value that is not a block is damage.
    fn block_entries(&self, key: &[u8], v: &[u8]) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let block = <[u8; 8]>::try_from(&key[1..])
            .map(u64::from_be_bytes)
            .map_err(|_| self.damaged(format!("entry key of length {}", key.len())))?;
        let first = block
            .checked_mul(ENTRIES_PER_KEY)
            .ok_or_else(|| self.damaged(format!("entry block {block} is past any seq")))?;
        let entries = split_block(v).ok_or_else(|| {
            self.damaged(format!(
                "the stored block of entries {first} to {} does not decode",
                first + ENTRIES_PER_KEY - 1
            ))
        })?;
        Ok((first..)
            .zip(entries.into_iter().map(<[u8]>::to_vec))
            .collect())
    }

    /// Every `(key, value)` whose key starts with `prefix`, in key order.
    pub fn scan_prefix<'a>(
        &'a self,
        prefix: &[u8],
    ) -> impl Iterator<Item = Result<(Vec<u8>, Vec<u8>), StoreError>> + 'a {
        self.db.scan_prefix(prefix).map(move |r| {
            r.map(|(k, v)| (k.to_vec(), v.to_vec()))
                .map_err(|e| self.sled_err(e))
        })
    }

    /// Every `(key, value)` with `from <= key < to`, in key order.
    pub fn range<'a>(
        &'a self,
        from: &[u8],
        to: &[u8],
    ) -> impl DoubleEndedIterator<Item = Result<(Vec<u8>, Vec<u8>), StoreError>> + 'a {
        self.db.range(from.to_vec()..to.to_vec()).map(move |r| {
            r.map(|(k, v)| (k.to_vec(), v.to_vec()))
                .map_err(|e| self.sled_err(e))
        })
    }

    /// Stored entries from `from` on, as `(seq, bytes)`, in order. Streams:
    /// holds one entry at a time.
    pub fn entries(
        &self,
        from: u64,
    ) -> impl Iterator<Item = Result<(u64, Vec<u8>), StoreError>> + '_ {
        self.range(&block_key(from), &[ENTRY_PREFIX + 1])
            .flat_map(move |r| {
                let items: Vec<Result<(u64, Vec<u8>), StoreError>> =
                    match r.and_then(|(k, v)| self.block_entries(&k, &v)) {
                        Ok(block) => block
                            .into_iter()
                            .filter(|(seq, _)| *seq >= from)
                            .map(Ok)
                            .collect(),
                        Err(e) => vec![Err(e)],
                    };
                items
            })
    }

    /// The number of stored entries (the seq after the last one).
    pub fn entry_count(&self) -> Result<u64, StoreError> {
        Ok(self.last_entry()?.map_or(0, |(seq, _)| seq + 1))
    }

    /// The last stored entry's seq and bytes; `None` in an empty store.
    pub fn last_entry(&self) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        match self.range(&entry_key(0), &[ENTRY_PREFIX + 1]).next_back() {
            None => Ok(None),
            Some(r) => {
                let (k, v) = r?;
                Ok(self.block_entries(&k, &v)?.pop())
            }
        }
    }

    /// The latest rules-state snapshot's bytes (the snapshot directory's
    /// latest, or the single snapshot of earlier versions).
    pub fn latest_state(&self) -> Result<Option<Vec<u8>>, StoreError> {
        match self.snapshots()? {
            Some(d) => self.state_at(d.latest),
            None => self.get(&[STATE_PREFIX]),
        }
    }

    /// The rules-state snapshot of the log's first `size` entries, if kept.
    pub fn state_at(&self, size: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.get(&state_key(size))
    }

    /// Every stored rules-state snapshot as `(size, bytes)`, `None` for the
    /// single snapshot of earlier versions, and the sizes the snapshot
    /// directory says are kept (`None` without a directory).
    pub fn state_snapshots(&self) -> Result<(Vec<StoredSnapshot>, Option<Vec<u64>>), StoreError> {
        let mut stored = Vec::new();
        for r in self.scan_prefix(&[STATE_PREFIX]) {
            let (k, v) = r?;
            let size = match k.len() {
                1 => None,
                9 => Some(u64::from_be_bytes(k[1..].try_into().expect("8 bytes"))),
                n => return Err(self.damaged_derived(format!("a state snapshot key of {n} bytes"))),
            };
            stored.push((size, v));
        }
        let listed = self.snapshots()?.map(|d| {
            let mut sizes: Vec<u64> = d.pins.values().copied().collect();
            sizes.push(d.latest);
            sizes.sort_unstable();
            sizes.dedup();
            sizes
        });
        Ok((stored, listed))
    }

    fn snapshots(&self) -> Result<Option<Snapshots>, StoreError> {
        match self.get(SNAPSHOTS_KEY)? {
            None => Ok(None),
            Some(b) => decode_snapshots(self, &b).map(Some),
        }
    }

    /// The size of the latest rules-state snapshot; `None` without a
    /// snapshot directory (a ledger made by an earlier version).
    pub fn latest_state_size(&self) -> Result<Option<u64>, StoreError> {
        Ok(self.snapshots()?.map(|d| d.latest))
    }

    /// The size of the snapshot the directory says is pinned for the signer
    /// `pin` (unauthenticated: the caller checks the snapshot's digest).
    pub fn pinned_state_size(&self, pin: &[u8]) -> Result<Option<u64>, StoreError> {
        Ok(self.snapshots()?.and_then(|d| d.pins.get(pin).copied()))
    }

    /// The last acknowledged `(size, last entry hash)` from [`HEAD_FILE`], if
    /// the file is there and readable (a ledger made by an earlier version has
    /// none until its next commit).
    pub fn acknowledged_head(&self) -> Option<(u64, [u8; 32])> {
        let text = fs::read_to_string(self.path.join(HEAD_FILE)).ok()?;
        let mut it = text.split_whitespace();
        let size = it.next()?.parse().ok()?;
        let hash = hex::decode(it.next()?).ok()?.try_into().ok()?;
        Some((size, hash))
    }

    /// Records `(size, hash)` as the last acknowledged head: written to a
    /// temporary file and renamed over [`HEAD_FILE`], without fsync. Called
    /// after a commit is durable, so the record is never ahead of the store;
    /// a crash can only leave it behind.
    pub fn record_head(&self, size: u64, hash: &[u8; 32]) -> Result<(), StoreError> {
        if !self.records_head {
            return Ok(());
        }
        let record = format!("{size} {}\n", hex::encode(hash));
        crate::durable::replace_unsynced(&self.path.join(HEAD_FILE), record.as_bytes()).map_err(
            |source| StoreError::Io {
                path: self.path.clone(),
                source,
            },
        )
    }

    /// The stored checkpoint note of tree size `size` signed by `signer`.
    pub fn checkpoint_note(&self, size: u64, signer: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.get(&checkpoint_key(size, signer))
    }

    /// Every stored checkpoint note, by tree size, then signer.
    pub fn checkpoint_notes(&self) -> impl Iterator<Item = Result<Vec<u8>, StoreError>> + '_ {
        self.scan_prefix(&[CHECKPOINT_PREFIX])
            .map(|r| r.map(|(_, v)| v))
    }

    /// The source this store mirrors, if it is a read replica.
    pub fn replica_source(&self) -> Result<Option<String>, StoreError> {
        Ok(self
            .get(REPLICA_KEY)?
            .map(|b| String::from_utf8_lossy(&b).into_owned()))
    }

    /// Starts a set of writes that [`Store::commit`] applies atomically.
    pub fn pending(&self) -> Pending<'_> {
        Pending {
            store: self,
            writes: BTreeMap::new(),
        }
    }

    /// Applies `pending` atomically and flushes it to disk. Only when this
    /// returns `Ok` are the writes durable.
    pub fn commit(&self, pending: Pending<'_>) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for (k, v) in pending.writes {
            match v {
                Some(v) => batch.insert(k, v),
                None => batch.remove(k),
            }
        }
        self.db.apply_batch(batch).map_err(|e| self.sled_err(e))?;
        self.db.flush().map_err(|e| self.sled_err(e))?;
        self.sync()
    }

    /// fsyncs the data file: sled's flush leaves the drive's cache unflushed.
    fn sync(&self) -> Result<(), StoreError> {
        self.data.sync_data().map_err(|source| StoreError::Io {
            path: self.path.clone(),
            source,
        })
    }

    /// Copies the whole ledger directory (marker, [`HEAD_FILE`], sled's
    /// files and any snapshot files) into `dest`, which MUST NOT exist.
    /// Consistent: sled is flushed and its data file fsynced first, and this
    /// store holds the ledger's lock, so no writer changes a file during the
    /// copy. Every file copied and every directory made is fsynced.
    pub fn copy_to(&self, dest: &Path) -> Result<(), StoreError> {
        self.db.flush().map_err(|e| self.sled_err(e))?;
        self.sync()?;
        copy_tree(&self.path, dest).map_err(|source| StoreError::Io {
            path: dest.to_owned(),
            source,
        })
    }

    /// Deletes every derived key (state snapshot, tree nodes, indexes), in
    /// atomic chunks. The caller rebuilds them from the entries.
    pub fn clear_derived(&self) -> Result<(), StoreError> {
        for p in DERIVED_PREFIXES {
            loop {
                let mut batch = sled::Batch::default();
                let mut n = 0;
                for r in self.db.scan_prefix([p]).keys().take(50_000) {
                    batch.remove(r.map_err(|e| self.sled_err(e))?);
                    n += 1;
                }
                if n == 0 {
                    break;
                }
                self.db.apply_batch(batch).map_err(|e| self.sled_err(e))?;
            }
        }
        self.db.flush().map_err(|e| self.sled_err(e))?;
        self.sync()
    }
}

/// A ledger in an earlier layout being rebuilt in layout 4 (see the module
/// doc, "Migration"). Holds the ledger's lock and the old database, read only.
pub struct Migration {
    dir: PathBuf,
    /// The old database's layout (1, 2 or 3).
    layout: u8,
    old: sled::Db,
    /// The ledger's lock; the store being built holds a clone of it.
    _lock: fs::File,
}

/// What [`Store::begin_migration`] found.
pub enum MigrationStart {
    /// The ledger is in layout 4 already; nothing was done.
    AlreadyCurrent,
    /// A ledger in an earlier layout, and the empty layout-4 store built
    /// beside it in [`STORE_NEW_DIR`].
    Started(Migration, Store),
}

impl Store {
    /// Starts the migration of the ledger in `dir` from an earlier layout:
    /// takes its lock (waiting up to `wait`), deletes a [`STORE_NEW_DIR`] left
    /// by an earlier, interrupted migration, opens the old database and
    /// creates an empty one in [`STORE_NEW_DIR`]. The new store never
    /// records the head: the old store is the ledger until
    /// [`Migration::finish`] renames the new one in.
    pub fn begin_migration(dir: &Path, wait: Duration) -> Result<MigrationStart, StoreError> {
        let lock = lock_ledger(dir, wait)?;
        let Some(layout) = old_layout(dir) else {
            return Ok(MigrationStart::AlreadyCurrent);
        };
        let io = |source| StoreError::Io {
            path: dir.to_owned(),
            source,
        };
        let new_dir = dir.join(STORE_NEW_DIR);
        if new_dir.exists() {
            fs::remove_dir_all(&new_dir).map_err(io)?;
            sync_dir(dir).map_err(io)?;
        }
        let old_dir = match layout {
            1 => dir.to_owned(),
            2 => dir.join(LAYOUT2_DIR),
            _ => dir.join(LAYOUT3_DIR),
        };
        remove_unfinished_snapshots(&old_dir).map_err(io)?;
        // Read once, in key order: a small cache, beside the new store's.
        let old = Self::open_sled(dir, &old_dir, MIGRATION_READ_CACHE_BYTES, wait)?;
        fs::create_dir(&new_dir).map_err(io)?;
        restrict_to_owner(&new_dir).map_err(io)?;
        let mut new = Self::open_sled_dir(
            dir,
            new_dir,
            lock.try_clone().map_err(io)?,
            wait,
            SLED_CACHE_BYTES,
        )?;
        new.records_head = false;
        Ok(MigrationStart::Started(
            Migration {
                dir: dir.to_owned(),
                layout,
                old,
                _lock: lock,
            },
            new,
        ))
    }

    /// The digest of every primary record (entries, checkpoints, the replica
    /// record) under `like`'s key, one sequential scan: each entry as the
    /// record `(E || seq, bytes)` that layouts 1 to 3 stored, so that a
    /// store and its migrated copy have the same digest exactly when they
    /// hold the same entries, checkpoints and replica record.
    pub fn primary_digest_like(&self, like: &RecordDigest) -> Result<RecordDigest, StoreError> {
        let mut d = like.empty_like();
        for r in self.entries(0) {
            let (seq, bytes) = r?;
            d.add_record(&entry_key(seq), &bytes);
        }
        for p in [CHECKPOINT_PREFIX, REPLICA_KEY[0]] {
            for r in self.scan_prefix(&[p]) {
                let (k, v) = r?;
                d.add_record(&k, &v);
            }
        }
        Ok(d)
    }
}

/// The digest of every primary record of `db`, a store in layout 1, 2 or 3
/// (one key per entry), under `like`'s key.
fn old_primary_digest(db: &sled::Db, like: &RecordDigest) -> Result<RecordDigest, sled::Error> {
    let mut d = like.empty_like();
    for p in [ENTRY_PREFIX, CHECKPOINT_PREFIX, REPLICA_KEY[0]] {
        for r in db.scan_prefix([p]) {
            let (k, v) = r?;
            d.add_record(&k, &v);
        }
    }
    Ok(d)
}

impl Migration {
    fn sled_err(&self, source: sled::Error) -> StoreError {
        sled_error(&self.dir, source)
    }

    /// The number of entries of the old store.
    pub fn old_entry_count(&self) -> Result<u64, StoreError> {
        match self.old.scan_prefix([ENTRY_PREFIX]).keys().next_back() {
            None => Ok(0),
            Some(k) => {
                let k = k.map_err(|e| self.sled_err(e))?;
                let seq = <[u8; 8]>::try_from(&k[1..])
                    .map(u64::from_be_bytes)
                    .map_err(|_| StoreError::Damaged {
                        path: self.dir.clone(),
                        what: "an entry key of the wrong length".into(),
                    })?;
                Ok(seq + 1)
            }
        }
    }

    /// The stored bytes of entry `seq` in the old store.
    pub fn old_entry_bytes(&self, seq: u64) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .old
            .get(entry_key(seq))
            .map_err(|e| self.sled_err(e))?
            .map(|v| v.to_vec()))
    }

    /// The old store's layout (1, 2 or 3).
    pub fn old_layout(&self) -> u8 {
        self.layout
    }

    /// The digest of the old store's primary records (see
    /// [`Store::primary_digest_like`]).
    pub fn old_primary_digest_like(&self, like: &RecordDigest) -> Result<RecordDigest, StoreError> {
        old_primary_digest(&self.old, like).map_err(|e| self.sled_err(e))
    }

    /// Copies every primary record of the old store into `new`: entries
    /// byte for byte, packed [`ENTRIES_PER_KEY`] to a key (the old layouts
    /// had one key each), checkpoints and the replica record byte for byte
    /// under the same keys; in atomic batches of a bounded number of
    /// entries (memory stays flat), calling `progress(entries copied)` after
    /// each batch. Derived records are not copied: the caller rebuilds them
    /// from the entries. Old entries that are not seqs 0, 1, 2, ... in order
    /// are damage, and nothing is renamed in.
    pub fn copy_primary(
        &self,
        new: &Store,
        mut progress: impl FnMut(u64),
    ) -> Result<(), StoreError> {
        let damaged = |what: String| StoreError::Damaged {
            path: self.dir.clone(),
            what,
        };
        let mut batch = sled::Batch::default();
        let mut in_batch = 0;
        let mut block = Vec::new();
        let mut next = 0u64;
        for r in self.old.scan_prefix([ENTRY_PREFIX]) {
            let (k, v) = r.map_err(|e| self.sled_err(e))?;
            let seq = <[u8; 8]>::try_from(&k[1..]).map(u64::from_be_bytes).ok();
            if seq != Some(next) {
                return Err(damaged(format!("the old store lacks entry {next}")));
            }
            push_to_block(&mut block, &v)
                .map_err(|_| damaged(format!("old entry {next} is over 4 GiB")))?;
            next += 1;
            if next % ENTRIES_PER_KEY == 0 {
                batch.insert(&block_key(next - 1), std::mem::take(&mut block));
                in_batch += ENTRIES_PER_KEY;
                if in_batch >= COPY_BATCH {
                    new.db
                        .apply_batch(std::mem::take(&mut batch))
                        .map_err(|e| new.sled_err(e))?;
                    in_batch = 0;
                    progress(next);
                }
            }
        }
        if !block.is_empty() {
            batch.insert(&block_key(next - 1), block);
        }
        new.db.apply_batch(batch).map_err(|e| new.sled_err(e))?;
        progress(next);
        for p in [CHECKPOINT_PREFIX, REPLICA_KEY[0]] {
            let mut it = self.old.scan_prefix([p]);
            loop {
                let mut batch = sled::Batch::default();
                let mut n = 0;
                for r in it.by_ref().take(COPY_BATCH as usize) {
                    let (k, v) = r.map_err(|e| self.sled_err(e))?;
                    batch.insert(k, v);
                    n += 1;
                }
                if n == 0 {
                    break;
                }
                new.db.apply_batch(batch).map_err(|e| new.sled_err(e))?;
            }
        }
        new.db.flush().map_err(|e| new.sled_err(e))?;
        Ok(())
    }

    /// Makes `new`, built and checked by the caller, the ledger's store:
    /// flushes and closes it, fsyncs its files and directory, renames
    /// [`STORE_NEW_DIR`] to [`STORE_DIR`] (the commit point), fsyncs the
    /// ledger directory and deletes the old layout's files.
    pub fn finish(self, new: Store) -> Result<(), StoreError> {
        let Migration {
            dir, old, _lock, ..
        } = self;
        let io = |source| StoreError::Io {
            path: dir.clone(),
            source,
        };
        new.db.flush().map_err(|e| new.sled_err(e))?;
        new.sync()?;
        let new_dir = new.sled_dir.clone();
        drop(new);
        sync_tree(&new_dir).map_err(io)?;
        sync_dir(&dir).map_err(io)?;
        migration_crash_point("before-rename");
        drop(old);
        fs::rename(&new_dir, dir.join(STORE_DIR)).map_err(io)?;
        migration_crash_point("after-rename");
        sync_dir(&dir).map_err(io)?;
        remove_old_layout_files(&dir, || migration_crash_point("deleting")).map_err(io)?;
        Ok(())
    }
}

/// A sled error about the ledger in `dir`; I/O errors as plain I/O errors, so
/// that the message reads "No space left on device (os error 28)".
fn sled_error(dir: &Path, source: sled::Error) -> StoreError {
    match source {
        sled::Error::Corruption { .. } => StoreError::Corrupted(dir.to_owned()),
        // What sled cannot make sense of in its own files (a damaged config
        // reads as "created using a sled version earlier than 0.29").
        sled::Error::Unsupported(what) | sled::Error::ReportableBug(what) => StoreError::Damaged {
            path: dir.to_owned(),
            what: format!("its store cannot be read ({what})"),
        },
        sled::Error::Io(source) => StoreError::Io {
            path: dir.to_owned(),
            source: os_error(source),
        },
        source => StoreError::Sled {
            path: dir.to_owned(),
            source,
        },
    }
}

/// sled keeps an I/O error it saw as `Os { code: 28, kind: .., message: .. }`
/// text; recover the OS error so that it prints as one.
fn os_error(e: std::io::Error) -> std::io::Error {
    let code = e
        .to_string()
        .strip_prefix("Os { code: ")
        .and_then(|r| r.split(',').next())
        .and_then(|c| c.parse().ok());
    match (e.raw_os_error(), code) {
        (None, Some(code)) => std::io::Error::from_raw_os_error(code),
        _ => e,
    }
}

/// sled writes a snapshot to `snap.<lsn>.generating`, fsyncs it and renames
/// it to `snap.<lsn>`. A crash or a full disk can leave the first behind, cut
/// short, and sled 0.34 then takes it for the newest snapshot and refuses to
/// open ("Read corrupted data", sled issue #1527). Such a file is never the
/// committed snapshot (sled rebuilds from the previous one and its log), so it
/// is removed. Called only with the ledger's lock held, so it is never another
/// process's snapshot in progress.
fn remove_unfinished_snapshots(dir: &Path) -> std::io::Result<()> {
    for e in fs::read_dir(dir)? {
        let e = e?;
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("snap.") && name.ends_with(".generating") {
            fs::remove_file(e.path())?;
        }
    }
    Ok(())
}

/// Makes the ledger directory accessible to its owner only (0700), so that no
/// other local user can open, and so flock, the marker, sled's `db` file or
/// the directory itself and lock the ledger's users out. Ledgers made by
/// earlier versions (0755) are tightened at their next open by their owner;
/// an open by anyone else leaves the mode as it is.
fn restrict_to_owner(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let meta = fs::metadata(dir)?;
    if meta.mode() & 0o077 == 0 {
        return Ok(());
    }
    match fs::set_permissions(dir, fs::Permissions::from_mode(0o700)) {
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => Ok(()),
        r => r,
    }
}

/// Copies the directory `from` into the new directory `to`, recursively,
/// fsyncing each file and directory (see [`Store::copy_to`]).
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    fs::create_dir(to)?;
    restrict_to_owner(to)?;
    for e in fs::read_dir(from)? {
        let e = e?;
        let target = to.join(e.file_name());
        if e.file_type()?.is_dir() {
            copy_tree(&e.path(), &target)?;
        } else {
            fs::copy(e.path(), &target)?;
            fs::File::open(&target)?.sync_all()?;
        }
    }
    sync_dir(to)
}

/// fsyncs a directory, so that the files just made in it survive a power cut.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

/// Checks that `dir` is a ledger and takes its lock (an exclusive lock on
/// the marker file), waiting up to `wait` for another process.
fn lock_ledger(dir: &Path, wait: Duration) -> Result<fs::File, StoreError> {
    if !dir.is_dir() {
        return Err(StoreError::Missing(dir.to_owned()));
    }
    let marker = dir.join(MARKER_FILE);
    if !marker.is_file() {
        return Err(match fs::File::open(dir.join(MARKER_NEW)) {
            Ok(f) if f.try_lock_exclusive().is_err() => StoreError::InUse(dir.to_owned()),
            Ok(_) => StoreError::InterruptedInit(dir.to_owned()),
            Err(_) => StoreError::NotALedger(dir.to_owned()),
        });
    }
    let lock = fs::File::open(&marker).map_err(|source| StoreError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let start = Instant::now();
    while let Err(e) = lock.try_lock_exclusive() {
        if e.raw_os_error() != fs2::lock_contended_error().raw_os_error() {
            return Err(StoreError::Io {
                path: dir.to_owned(),
                source: e,
            });
        }
        if start.elapsed() >= wait {
            return Err(StoreError::InUse(dir.to_owned()));
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    Ok(lock)
}

/// The earlier storage layout the ledger directory `dir` is in, if it is
/// in one: no [`STORE_DIR`], and sled's files in [`LAYOUT3_DIR`] (layout 3),
/// [`LAYOUT2_DIR`] (layout 2) or directly in `dir` (layout 1).
fn old_layout(dir: &Path) -> Option<u8> {
    if dir.join(STORE_DIR).is_dir() {
        None
    } else if dir.join(LAYOUT3_DIR).is_dir() {
        Some(3)
    } else if dir.join(LAYOUT2_DIR).is_dir() {
        Some(2)
    } else if dir.join("conf").exists() || dir.join("db").exists() {
        Some(1)
    } else {
        None
    }
}

/// Deletes the files of earlier layouts from the ledger directory `dir`
/// (nothing else: only [`LAYOUT3_DIR`], [`LAYOUT2_DIR`], and layout 1's `conf`, `db`,
/// `blobs/` and `snap.*`), calling `between` after the first deletion (a
/// crash test's hook). Only called with the lock held and [`STORE_DIR`] in
/// place. fsyncs `dir` if anything was deleted.
fn remove_old_layout_files(dir: &Path, mut between: impl FnMut()) -> std::io::Result<()> {
    let mut removed = false;
    for e in fs::read_dir(dir)? {
        let e = e?;
        let name = e.file_name();
        let name = name.to_string_lossy();
        let ours = LAYOUT1_NAMES.contains(&name.as_ref())
            || name.starts_with("snap.")
            || name == LAYOUT2_DIR
            || name == LAYOUT3_DIR;
        if !ours {
            continue;
        }
        if e.file_type()?.is_dir() {
            fs::remove_dir_all(e.path())?;
        } else {
            fs::remove_file(e.path())?;
        }
        if !removed {
            removed = true;
            between();
        }
    }
    if removed {
        sync_dir(dir)?;
    }
    Ok(())
}

/// fsyncs every file under `dir`, then each directory, `dir` last.
fn sync_tree(dir: &Path) -> std::io::Result<()> {
    for e in fs::read_dir(dir)? {
        let e = e?;
        if e.file_type()?.is_dir() {
            sync_tree(&e.path())?;
        } else {
            fs::File::open(e.path())?.sync_all()?;
        }
    }
    sync_dir(dir)
}

/// Test-only crash points of the migration: if the environment variable
/// `ACCESS_LEDGER_TEST_MIGRATE_CRASH` names `step`, the process aborts there,
/// as a power cut or a kill would stop it (tests/migrate.rs). Unset, nothing.
pub(crate) fn migration_crash_point(step: &str) {
    if std::env::var_os("ACCESS_LEDGER_TEST_MIGRATE_CRASH").is_some_and(|v| v == step) {
        std::process::abort();
    }
}

/// Writes waiting to be committed, readable through an overlay: [`Pending::get`]
/// sees its own writes first, then the store.
pub struct Pending<'s> {
    store: &'s Store,
    writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
}

impl Pending<'_> {
    /// The value at `key`, as it will be after commit.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        match self.writes.get(key) {
            Some(v) => Ok(v.clone()),
            None => self.store.get(key),
        }
    }

    /// Sets `key` to `value`.
    pub fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.writes.insert(key, Some(value));
    }

    /// Appends `bytes` to the value at `key`, as it will be after commit (an
    /// absent key as an empty value).
    pub fn append(&mut self, key: Vec<u8>, bytes: &[u8]) -> Result<(), StoreError> {
        let value = match self.writes.entry(key) {
            std::collections::btree_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::btree_map::Entry::Vacant(v) => {
                let stored = self.store.get(v.key())?;
                v.insert(stored)
            }
        };
        value.get_or_insert_with(Vec::new).extend_from_slice(bytes);
        Ok(())
    }

    /// Deletes `key`.
    pub fn remove(&mut self, key: Vec<u8>) {
        self.writes.insert(key, None);
    }

    /// Stores entry `seq`'s exact bytes, after entry `seq - 1` in its block
    /// (read from the store, or from this batch). The caller MUST put the
    /// entries in seq order, each after the stored ones: an entry that would
    /// not be its block's next is refused as damage.
    pub fn put_entry(&mut self, seq: u64, bytes: &[u8]) -> Result<(), StoreError> {
        let key = block_key(seq);
        let store = self.store;
        if seq % ENTRIES_PER_KEY == 0 && seq > 0 {
            // The first of a block: the block before it is full.
            let before = self.get(&block_key(seq - 1))?;
            let full = before
                .as_deref()
                .and_then(split_block)
                .is_some_and(|b| b.len() as u64 == ENTRIES_PER_KEY);
            if !full {
                return Err(store.damaged(format!(
                    "entry {seq} does not follow a full block of entries"
                )));
            }
        }
        let block = match self.writes.entry(key.to_vec()) {
            std::collections::btree_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::btree_map::Entry::Vacant(v) => v.insert(store.get(&key)?),
        }
        .get_or_insert_with(Vec::new);
        let held = if block.is_empty() {
            0
        } else {
            split_block(block).map_or(u64::MAX, |b| b.len() as u64)
        };
        if held != seq % ENTRIES_PER_KEY {
            return Err(store.damaged(format!(
                "entry {seq} does not follow the entries stored in its block"
            )));
        }
        push_to_block(block, bytes).map_err(|_| store.damaged(format!("entry {seq} is over 4 GiB")))
    }

    /// Stores a signed checkpoint note of tree size `size` by `signer`.
    pub fn put_checkpoint(&mut self, size: u64, signer: &str, note: &str) {
        self.put(checkpoint_key(size, signer), note.as_bytes().to_vec());
    }

    /// Marks the store as a read replica of `source`.
    pub fn put_replica_source(&mut self, source: &str) {
        self.put(REPLICA_KEY.to_vec(), source.as_bytes().to_vec());
    }

    /// Writes `bytes` as the rules-state snapshot of the log's first `size`
    /// entries and makes it the latest. `pin`, if given, names a signer whose
    /// trusted head is now at `size`: its snapshot is kept until that signer
    /// signs again, so that its next signing can start from it. Snapshots that
    /// are neither latest nor pinned are deleted in the same batch.
    pub fn put_state(
        &mut self,
        size: u64,
        bytes: Vec<u8>,
        pin: Option<&[u8]>,
    ) -> Result<(), StoreError> {
        let mut dir = match self.snapshots()? {
            Some(dir) => dir,
            None => {
                // An earlier version's single snapshot is superseded.
                self.remove(vec![STATE_PREFIX]);
                Snapshots {
                    latest: size,
                    pins: BTreeMap::new(),
                }
            }
        };
        let mut old: Vec<u64> = dir.pins.values().copied().collect();
        old.push(dir.latest);
        dir.latest = size;
        if let Some(pin) = pin {
            dir.pins.insert(pin.to_vec(), size);
        }
        self.put(state_key(size).to_vec(), bytes);
        self.put_snapshots(&dir, old);
        Ok(())
    }

    /// Pins the latest snapshot for the signer `pin` (see
    /// [`Pending::put_state`]): its trusted head now rests on that snapshot
    /// and the entries after it. Writes nothing if the pin is already there,
    /// or if the snapshot directory is not there yet (a ledger made by an
    /// earlier version pins nothing until its next snapshot).
    pub fn pin_latest_state(&mut self, pin: &[u8]) -> Result<(), StoreError> {
        let Some(mut dir) = self.snapshots()? else {
            return Ok(());
        };
        let latest = dir.latest;
        let old = dir.pins.insert(pin.to_vec(), latest);
        if old != Some(latest) {
            self.put_snapshots(&dir, old);
        }
        Ok(())
    }

    /// The size of the latest rules-state snapshot as it will be after
    /// commit; `None` without a snapshot directory (a new or reindexed store,
    /// or one made by an earlier version).
    pub fn latest_state_size(&self) -> Result<Option<u64>, StoreError> {
        Ok(self.snapshots()?.map(|d| d.latest))
    }

    /// The snapshot directory as it will be after commit.
    fn snapshots(&self) -> Result<Option<Snapshots>, StoreError> {
        match self.get(SNAPSHOTS_KEY)? {
            None => Ok(None),
            Some(b) => decode_snapshots(self.store, &b).map(Some),
        }
    }

    /// Writes `dir`, and deletes each snapshot of the sizes in `old` that
    /// `dir` no longer keeps (neither latest nor pinned).
    fn put_snapshots(&mut self, dir: &Snapshots, old: impl IntoIterator<Item = u64>) {
        for o in old {
            if o != dir.latest && !dir.pins.values().any(|&p| p == o) {
                self.remove(state_key(o).to_vec());
            }
        }
        self.put(SNAPSHOTS_KEY.to_vec(), crate::encoding::encode_derived(dir));
    }
}

/// An order-independent digest of a set of store records: their count and
/// the sum, modulo 2^128, of a keyed hash of each `(key, value)` under a key
/// drawn at random for each digest pair, so that nobody who wrote the records
/// can arrange for a different set to sum to the same value. Used by `verify`
/// to compare what derived data should be with what is stored, streaming and
/// in constant memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordDigest {
    key: [u8; 32],
    count: u64,
    sum: u128,
}

impl RecordDigest {
    /// An empty digest under a fresh random key.
    pub fn new() -> Self {
        let mut key = [0u8; 32];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut key);
        RecordDigest::with_key(key)
    }

    /// An empty digest under the same key as `self`.
    pub fn empty_like(&self) -> Self {
        RecordDigest::with_key(self.key)
    }

    fn with_key(key: [u8; 32]) -> Self {
        RecordDigest {
            key,
            count: 0,
            sum: 0,
        }
    }

    /// Adds one record.
    pub(crate) fn add_record(&mut self, k: &[u8], v: &[u8]) {
        let mut h = blake3::Hasher::new_keyed(&self.key);
        h.update(&(k.len() as u64).to_le_bytes());
        h.update(k);
        h.update(v);
        let b = h.finalize();
        let x = u128::from_le_bytes(b.as_bytes()[..16].try_into().expect("16 of 32 bytes"));
        self.sum = self.sum.wrapping_add(x);
        self.count += 1;
    }

    /// Adds the record that stores hash tile `index` of tile level `level`
    /// holding `hashes` (see [`crate::tiles::TileBuilder`]).
    pub fn add_tile(&mut self, level: u8, index: u64, hashes: &[TreeHash]) {
        self.add_record(&tile_key(level, index), &tile_bytes(hashes));
    }

    /// The number of records added.
    pub fn count(&self) -> u64 {
        self.count
    }
}

impl Default for RecordDigest {
    fn default() -> Self {
        Self::new()
    }
}

impl Store {
    /// The digest of every stored Merkle hash tile (every record of the tree
    /// key space), under `like`'s key: one sequential scan.
    pub fn tree_digest_like(&self, like: &RecordDigest) -> Result<RecordDigest, StoreError> {
        let mut d = like.empty_like();
        for r in self.scan_prefix(&[TREE_PREFIX]) {
            let (k, v) = r?;
            d.add_record(&k, &v);
        }
        Ok(d)
    }
}

/// A stored rules-state snapshot: its size (`None` for the single snapshot
/// of earlier versions) and its bytes.
pub type StoredSnapshot = (Option<u64>, Vec<u8>);

/// Which rules-state snapshots are kept (see [`Pending::put_state`]).
#[derive(Debug, bincode::Encode, bincode::Decode)]
struct Snapshots {
    /// The size of the latest snapshot.
    latest: u64,
    /// Signer (public key bytes) -> the size its trusted head is at.
    pins: BTreeMap<Vec<u8>, u64>,
}

/// Decodes the snapshot directory of `store`.
fn decode_snapshots(store: &Store, bytes: &[u8]) -> Result<Snapshots, StoreError> {
    crate::encoding::decode_derived(bytes)
        .map_err(|e| store.damaged_derived(format!("snapshot directory: {e}")))
}

/// The key of the rules-state snapshot at `size`.
fn state_key(size: u64) -> [u8; 9] {
    let mut k = [STATE_PREFIX; 9];
    k[1..].copy_from_slice(&size.to_be_bytes());
    k
}

/// The sled key of hash tile `index` of tile level `level`.
fn tile_key(level: u8, index: u64) -> [u8; 10] {
    let mut k = [TREE_PREFIX; 10];
    k[1] = level;
    k[2..].copy_from_slice(&index.to_be_bytes());
    k
}

/// A tile's stored value: its hashes, concatenated.
fn tile_bytes(hashes: &[TreeHash]) -> Vec<u8> {
    hashes.iter().flat_map(|h| *h.as_bytes()).collect()
}

/// Where node `(level, index)` is computed from: the key of its hash tile,
/// and the byte range in that tile of the `2^(level % 8)` hashes below it.
/// `None` for an index no tree has.
fn node_place(level: u8, index: u64) -> Option<([u8; 10], std::ops::Range<usize>)> {
    let rest = u32::from(level % TILE_HEIGHT);
    let first = index.checked_mul(1 << rest)?;
    let at = usize::try_from(first % TILE_WIDTH).ok()? * 32;
    let key = tile_key(level / TILE_HEIGHT, first / TILE_WIDTH);
    Some((key, at..at + (32 << rest)))
}

/// Node `(level, index)` from `tile`, the stored value of the hash tile
/// [`node_place`] names.
fn tile_node(
    store: &Store,
    level: u8,
    index: u64,
    tile: Option<&[u8]>,
) -> Result<TreeHash, StoreError> {
    let missing = || store.damaged_derived(format!("Merkle node ({level}, {index}) is missing"));
    let (_, range) = node_place(level, index).ok_or_else(missing)?;
    let tile = tile.ok_or_else(missing)?;
    if tile.len() % 32 != 0 || tile.len() as u64 > TILE_WIDTH * 32 {
        return Err(store.damaged_derived(format!(
            "the hash tile of Merkle node ({level}, {index}) is {} bytes, not up to 256 hashes of 32",
            tile.len()
        )));
    }
    let hashes: Vec<TreeHash> = tile
        .get(range)
        .ok_or_else(missing)?
        .chunks_exact(32)
        .map(|c| TreeHash::from_bytes(c.try_into().expect("32-byte chunks")))
        .collect();
    node_from_tile(level, &hashes).ok_or_else(missing)
}

impl NodeSource for Store {
    type Error = StoreError;

    /// Reads one hash tile and hashes up at most 255 nodes of it.
    fn node(&self, level: u8, index: u64) -> Result<TreeHash, StoreError> {
        let tile = match node_place(level, index) {
            Some((key, _)) => self.get(&key)?,
            None => None,
        };
        tile_node(self, level, index, tile.as_deref())
    }
}

impl NodeSource for Pending<'_> {
    type Error = StoreError;

    fn node(&self, level: u8, index: u64) -> Result<TreeHash, StoreError> {
        let Some((key, _)) = node_place(level, index) else {
            return tile_node(self.store, level, index, None);
        };
        match self.writes.get(&key[..]) {
            Some(tile) => tile_node(self.store, level, index, tile.as_deref()),
            None => tile_node(self.store, level, index, self.store.get(&key)?.as_deref()),
        }
    }
}

impl NodeSink for Pending<'_> {
    /// Stores a node of tree level 8·L by appending it to its hash tile (in
    /// the pending overlay, in place); a node of any other level is not
    /// stored, since it is hashed up from its tile when read. A tile that
    /// does not end exactly where the node goes (damaged, or not the tree
    /// the caller says) is refused as damaged derived data: a node is never
    /// overwritten.
    fn put_node(&mut self, level: u8, index: u64, hash: TreeHash) -> Result<(), StoreError> {
        if level % TILE_HEIGHT != 0 {
            return Ok(());
        }
        let key = tile_key(level / TILE_HEIGHT, index / TILE_WIDTH);
        let slot = usize::try_from(index % TILE_WIDTH).expect("below 256") * 32;
        let store = self.store;
        let tile = match self.writes.entry(key.to_vec()) {
            std::collections::btree_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::btree_map::Entry::Vacant(v) => v.insert(store.get(&key)?),
        }
        .get_or_insert_with(Vec::new);
        if tile.len() != slot {
            return Err(store.damaged_derived(format!(
                "the hash tile of Merkle node ({level}, {index}) holds {} bytes, not the {slot} before it",
                tile.len()
            )));
        }
        tile.extend_from_slice(hash.as_bytes());
        Ok(())
    }
}

/// The sled key of a stored checkpoint: tree size, then the signer's name.
fn checkpoint_key(size: u64, signer: &str) -> Vec<u8> {
    let mut k = vec![CHECKPOINT_PREFIX];
    k.extend_from_slice(&size.to_be_bytes());
    k.extend_from_slice(signer.as_bytes());
    k
}

/// Damage to a ledger's store as an attacker with the ledger directory but no
/// key would do it, addressed by meaning rather than by key bytes. This is the
/// only code outside the store's own logic that knows the key layout, so a
/// change of layout updates it in one place. Nothing in the product calls it.
pub struct Tamper<'a>(pub(crate) &'a Store);

/// A kind of derived data, as the tamper API addresses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DerivedSpace {
    /// The rules-state snapshots and their directory.
    RulesState,
    /// The Merkle tree (its hash tiles).
    TreeNodes,
    /// The query index records.
    QueryIndexes,
}

impl DerivedSpace {
    /// Every kind.
    pub const ALL: [DerivedSpace; 3] = [
        DerivedSpace::RulesState,
        DerivedSpace::TreeNodes,
        DerivedSpace::QueryIndexes,
    ];

    fn prefixes(self) -> &'static [u8] {
        match self {
            DerivedSpace::RulesState => &[b's', STATE_PREFIX],
            DerivedSpace::TreeNodes => &[TREE_PREFIX],
            DerivedSpace::QueryIndexes => &[INDEX_PREFIX],
        }
    }
}

impl Tamper<'_> {
    /// Overwrites the stored bytes of entry `seq`, bypassing every check.
    /// Entry `seq` may also be the one after the last of its block, which
    /// this adds.
    pub fn overwrite_entry(&self, seq: u64, bytes: &[u8]) -> Result<(), StoreError> {
        let s = self.0;
        let key = block_key(seq);
        let mut entries: Vec<Vec<u8>> = match s.db.get(key).map_err(|e| s.sled_err(e))? {
            Some(v) => s
                .block_entries(&key, &v)?
                .into_iter()
                .map(|(_, b)| b)
                .collect(),
            None => Vec::new(),
        };
        let at = usize::try_from(seq % ENTRIES_PER_KEY).expect("below ENTRIES_PER_KEY");
        match at.cmp(&entries.len()) {
            std::cmp::Ordering::Less => entries[at] = bytes.to_vec(),
            std::cmp::Ordering::Equal => entries.push(bytes.to_vec()),
            std::cmp::Ordering::Greater => {
                return Err(s.damaged(format!("entry {seq} is past the end of its block")))
            }
        }
        let mut block = Vec::new();
        for e in &entries {
            push_to_block(&mut block, e).expect("a test's entry is under 4 GiB");
        }
        s.db.insert(key, block).map_err(|e| s.sled_err(e))?;
        s.db.flush().map_err(|e| s.sled_err(e))?;
        Ok(())
    }

    /// How many entries the store holds, read from the entry keys themselves
    /// (not from the rules state).
    pub fn stored_entries(&self) -> Result<u64, StoreError> {
        self.0.entry_count()
    }

    /// Rewrites every stored Merkle hash tile as if leaf `i` were the entry
    /// bytes `data`, consistently up to the root, as an attacker forging an
    /// inclusion would.
    pub fn forge_tree_leaf(&self, i: u64, data: &[u8]) -> Result<(), StoreError> {
        let s = self.0;
        let mut p = s.pending();
        let mut range = crate::merkle::CompactRange::new();
        let mut tiles = TileBuilder::new();
        for r in s.entries(0) {
            let (seq, bytes) = r?;
            let leaf = TreeHash::leaf(if seq == i { data } else { &bytes });
            range.push_with(leaf, |level, index, hash| tiles.node(level, index, hash));
            for (level, index, hashes) in tiles.take_full() {
                p.put(tile_key(level, index).to_vec(), tile_bytes(&hashes));
            }
        }
        for (level, index, hashes) in tiles.partial() {
            p.put(tile_key(level, index).to_vec(), tile_bytes(hashes));
        }
        s.commit(p)
    }

    /// Renames the subject of the ban made by entry `seq` in the latest
    /// rules snapshot. Returns false if there is no such ban.
    pub fn rename_ban_subject(
        &self,
        seq: u64,
        subject: crate::ident::Subject,
    ) -> Result<bool, StoreError> {
        self.edit_state(|st| st.tamper_ban_subject(seq, subject))
    }

    /// Replaces authority `name`'s key in the latest rules snapshot. Returns
    /// false if there is no such authority.
    pub fn replace_authority_key(
        &self,
        name: &crate::ident::AuthorityName,
        key: crate::keys::PublicKey,
    ) -> Result<bool, StoreError> {
        self.edit_state(|st| st.tamper_authority_key(name, key))
    }

    /// Edits the rules state the ledger reads at open, as an attacker with
    /// the directory would: the latest snapshot brought up to the head with
    /// the entries after it, edited, and stored as the latest snapshot at the
    /// head (the entries after the old one no longer replayed at open).
    fn edit_state(
        &self,
        edit: impl FnOnce(&mut crate::chain::LedgerState) -> bool,
    ) -> Result<bool, StoreError> {
        let s = self.0;
        let size = match s.snapshots()? {
            Some(d) => d.latest,
            None => return Ok(false),
        };
        let Some(bytes) = s.state_at(size)? else {
            return Ok(false);
        };
        let mut state: crate::chain::LedgerState = crate::encoding::decode_derived(&bytes)
            .map_err(|e| s.damaged_derived(e.to_string()))?;
        for r in s.entries(size) {
            let (seq, bytes) = r?;
            let entry = crate::entry::Entry::decode(&bytes)
                .map_err(|e| s.damaged(format!("entry {seq}: {e}")))?;
            state
                .admit_derived(entry)
                .map_err(|e| s.damaged(e.to_string()))?;
        }
        if !edit(&mut state) {
            return Ok(false);
        }
        let mut p = s.pending();
        p.put_state(state.len(), crate::encoding::encode_derived(&state), None)?;
        s.commit(p)?;
        Ok(true)
    }

    /// Stores `note` as a checkpoint of tree size `size` signed by `signer`,
    /// as if the ledger had made it.
    pub fn plant_checkpoint(&self, size: u64, signer: &str, note: &str) -> Result<(), StoreError> {
        let s = self.0;
        let mut p = s.pending();
        p.put(checkpoint_key(size, signer), note.as_bytes().to_vec());
        s.commit(p)
    }

    /// The keys of every stored record of `space`, in order (opaque).
    fn keys_of(&self, space: DerivedSpace) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut out = Vec::new();
        for p in space.prefixes() {
            for r in self.0.scan_prefix(&[*p]) {
                out.push(r?.0);
            }
        }
        Ok(out)
    }

    /// How many records of `space` are stored.
    pub fn count(&self, space: DerivedSpace) -> Result<usize, StoreError> {
        Ok(self.keys_of(space)?.len())
    }

    /// Deletes the `nth` record of `space` (modulo the count). False if the
    /// space is empty.
    pub fn delete(&self, space: DerivedSpace, nth: usize) -> Result<bool, StoreError> {
        let keys = self.keys_of(space)?;
        if keys.is_empty() {
            return Ok(false);
        }
        let mut p = self.0.pending();
        p.remove(keys[nth % keys.len()].clone());
        self.0.commit(p)?;
        Ok(true)
    }

    /// Overwrites the value of the `nth` record of `space` (modulo the
    /// count) with `value`. False if nothing changed.
    pub fn overwrite(
        &self,
        space: DerivedSpace,
        nth: usize,
        value: &[u8],
    ) -> Result<bool, StoreError> {
        let keys = self.keys_of(space)?;
        if keys.is_empty() {
            return Ok(false);
        }
        let key = keys[nth % keys.len()].clone();
        if self.0.get(&key)?.as_deref() == Some(value) {
            return Ok(false);
        }
        let mut p = self.0.pending();
        p.put(key, value.to_vec());
        self.0.commit(p)?;
        Ok(true)
    }

    /// Inserts a record of `space` whose key ends in `suffix`. False if a
    /// record with that key exists already.
    pub fn insert(
        &self,
        space: DerivedSpace,
        suffix: &[u8],
        value: &[u8],
    ) -> Result<bool, StoreError> {
        let mut key = vec![*space.prefixes().last().expect("every space has a prefix")];
        key.extend_from_slice(suffix);
        if key.len() == 1 || self.0.get(&key)?.is_some() {
            return Ok(false);
        }
        let mut p = self.0.pending();
        p.put(key, value.to_vec());
        self.0.commit(p)?;
        Ok(true)
    }

    /// Deletes every query index record whose key ends in entry `seq` (the
    /// records an entry writes under its own seq), as an attacker hiding
    /// that entry from queries would. Returns how many.
    pub fn delete_index_records_of(&self, seq: u64) -> Result<usize, StoreError> {
        let tail = seq.to_be_bytes();
        let keys: Vec<Vec<u8>> = self
            .keys_of(DerivedSpace::QueryIndexes)?
            .into_iter()
            .filter(|k| k.len() > 18 && k.ends_with(&tail))
            .collect();
        let mut p = self.0.pending();
        for k in &keys {
            p.remove(k.clone());
        }
        self.0.commit(p)?;
        Ok(keys.len())
    }

    /// Deletes the record of the last acknowledged head ([`HEAD_FILE`]).
    pub fn forget_acknowledged_head(&self) -> Result<(), StoreError> {
        fs::remove_file(self.0.path.join(HEAD_FILE)).map_err(|source| StoreError::Io {
            path: self.0.path.clone(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::{append_leaf, MemoryTree};

    fn leaf(i: u64) -> TreeHash {
        TreeHash::leaf(&i.to_be_bytes())
    }

    /// Entries packed two to a key read back one by one and in order from
    /// any seq, whatever the commit batching (blocks rewritten across
    /// commits, several blocks in one commit), with one key per block.
    #[test]
    fn packed_entries_read_back_from_any_seq_whatever_the_batching() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::create(&dir.path().join("l")).unwrap();
        let entry = |i: u64| vec![i as u8; (i % 23) as usize];
        let n = 100u64;
        let mut p = store.pending();
        for i in 0..n {
            p.put_entry(i, &entry(i)).unwrap();
            if i % 7 == 6 || i == 40 || i == 41 {
                store
                    .commit(std::mem::replace(&mut p, store.pending()))
                    .unwrap();
                assert_eq!(store.entry_count().unwrap(), i + 1);
                assert_eq!(store.last_entry().unwrap(), Some((i, entry(i))));
            }
        }
        store.commit(p).unwrap();
        for from in [0, 1, 15, 16, 17, 63, 64, 99, 100, 150] {
            let got: Vec<(u64, Vec<u8>)> = store.entries(from).map(Result::unwrap).collect();
            let want: Vec<(u64, Vec<u8>)> = (from..n).map(|i| (i, entry(i))).collect();
            assert_eq!(got, want, "from {from}");
        }
        for i in 0..n {
            assert_eq!(store.entry_bytes(i).unwrap(), Some(entry(i)));
        }
        assert_eq!(store.entry_bytes(n).unwrap(), None);
        assert_eq!(store.entry_bytes(n + 16).unwrap(), None);
        assert_eq!(
            store.scan_prefix(&[ENTRY_PREFIX]).count() as u64,
            n.div_ceil(ENTRIES_PER_KEY)
        );
    }

    /// An entry that would not be the next of its block is refused, and a
    /// block value that is not 1 to `ENTRIES_PER_KEY` whole entries does not decode.
    #[test]
    fn a_block_holds_only_whole_entries_in_seq_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::create(&dir.path().join("l")).unwrap();
        let mut p = store.pending();
        p.put_entry(0, b"zero").unwrap();
        assert!(p.put_entry(2, b"two").is_err(), "a gap");
        assert!(p.put_entry(0, b"again").is_err(), "a repeat");
        assert!(p.put_entry(16, b"sixteen").is_err(), "a later block first");
        p.put_entry(1, b"one").unwrap();
        store.commit(p).unwrap();
        let mut p = store.pending();
        assert!(p.put_entry(1, b"one").is_err(), "over a stored entry");
        p.put_entry(2, b"two").unwrap();

        let mut good = Vec::new();
        for e in [&b"ab"[..], b""] {
            push_to_block(&mut good, e).unwrap();
        }
        assert_eq!(split_block(&good), Some(vec![&b"ab"[..], b""]));
        assert_eq!(split_block(&good[..good.len() - 1]), None, "cut short");
        assert_eq!(split_block(&good[..3]), None, "a length cut short");
        assert_eq!(split_block(&[]), None, "no entry");
        let mut full = Vec::new();
        for _ in 0..ENTRIES_PER_KEY {
            push_to_block(&mut full, b"x").unwrap();
        }
        assert_eq!(
            split_block(&full).map(|b| b.len() as u64),
            Some(ENTRIES_PER_KEY)
        );
        push_to_block(&mut full, b"x").unwrap();
        assert_eq!(split_block(&full), None, "one entry too many");
    }

    /// The store's hash tiles give every complete node of every size the
    /// memory tree gives, across tile boundaries and tile levels, whatever
    /// the commit batching; and only nodes of levels 8·L take a key.
    #[test]
    fn hash_tiles_give_every_node_of_the_memory_tree() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::create(&dir.path().join("l")).unwrap();
        let mut mem = MemoryTree::new();
        let n = 600u64;
        let mut p = store.pending();
        for i in 0..n {
            append_leaf(&mut p, i, leaf(i)).unwrap();
            mem.push_leaf_hash(leaf(i));
            // Batches of uneven sizes, so partial tiles are rewritten across commits.
            if i % 37 == 36 || i == 255 || i == 511 {
                store
                    .commit(std::mem::replace(&mut p, store.pending()))
                    .unwrap();
                let size = i + 1;
                for level in 0..10u8 {
                    for index in 0..(size >> level) {
                        assert_eq!(
                            store.node(level, index).unwrap(),
                            mem.node(level, index).unwrap(),
                            "node ({level}, {index}) at size {size}"
                        );
                    }
                }
            }
        }
        store.commit(p).unwrap();
        assert_eq!(crate::merkle::tree_root(&store, n).unwrap(), mem.root());
        // 600 leaves: tiles (0,0), (0,1) full, (0,2) partial, (1,0) of 2 hashes.
        let keys: Vec<Vec<u8>> = store
            .scan_prefix(&[TREE_PREFIX])
            .map(|r| r.unwrap().0)
            .collect();
        assert_eq!(
            keys,
            vec![
                tile_key(0, 0).to_vec(),
                tile_key(0, 1).to_vec(),
                tile_key(0, 2).to_vec(),
                tile_key(1, 0).to_vec()
            ]
        );
        assert_eq!(
            store.get(&tile_key(0, 2)).unwrap().unwrap().len(),
            (600 - 512) * 32
        );
        // A node past the stored tree is an error, not a wrong hash.
        assert!(store.node(0, n).is_err());
        assert!(store.node(8, 2).is_err());
    }

    /// Appending where a tile does not end is refused: a node is never
    /// overwritten, and a damaged tile is reported.
    #[test]
    fn a_node_is_never_written_over_a_tile_that_does_not_end_there() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::create(&dir.path().join("l")).unwrap();
        let mut p = store.pending();
        for i in 0..3 {
            append_leaf(&mut p, i, leaf(i)).unwrap();
        }
        store.commit(p).unwrap();
        let mut p = store.pending();
        assert!(matches!(
            append_leaf(&mut p, 1, leaf(9)),
            Err(StoreError::DamagedDerived { .. })
        ));
        assert!(matches!(
            append_leaf(&mut p, 5, leaf(9)),
            Err(StoreError::DamagedDerived { .. })
        ));
    }
}
