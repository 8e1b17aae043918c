//! The sled store: the only module that touches sled.
//!
//! One ledger is one directory holding a marker file ([`MARKER_FILE`]) and a
//! sled database. All keys live in sled's default tree, in key spaces named by
//! their first byte:
//!
//! | prefix | key after the prefix | value | kind |
//! |---|---|---|---|
//! | `E` | seq, u64 big endian | the entry's exact bytes | primary |
//! | `C` | tree size (u64 BE), signer name | a signed checkpoint note | primary |
//! | `S` | (none) | the [`crate::LedgerState`] snapshot | derived |
//! | `T` | level (1 byte), index (u64 BE) | a Merkle subtree hash | derived |
//! | `X` | chosen by the query indexes | index records | derived |
//!
//! Primary data is what the ledger is; derived data is a cache that
//! `reindex` deletes and rebuilds from the entries alone.
//!
//! Durability: [`Store::commit`] applies every write of a [`Pending`] in one
//! atomic sled batch and flushes it to disk before returning. A caller MUST NOT
//! report an append as done before `commit` returned `Ok`.
//!
//! sled's own flush ends in `sync_file_range`, which flushes neither the
//! drive's write cache nor the file's metadata, so `commit` also fsyncs the
//! data file (sled issue #1452).
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

/// The file that marks a directory as a ledger.
pub const MARKER_FILE: &str = "ACCESS-LEDGER";
/// The marker while `init` is under way; renamed to [`MARKER_FILE`] once the
/// genesis entry is durable.
const MARKER_NEW: &str = "ACCESS-LEDGER.new";
const MARKER_TEXT: &str = "access-ledger v1\nThis directory is an access-ledger ledger. Do not edit; use the access-ledger command.\n";

/// Prefix of entry keys.
pub const ENTRY_PREFIX: u8 = b'E';
/// Prefix of stored checkpoint keys.
pub const CHECKPOINT_PREFIX: u8 = b'C';
/// Key of the state snapshot.
pub const STATE_KEY: &[u8] = b"S";
/// Prefix of Merkle node keys.
pub const TREE_PREFIX: u8 = b'T';
/// Prefix of query index keys.
pub const INDEX_PREFIX: u8 = b'X';
const DERIVED_PREFIXES: [u8; 3] = [b'S', TREE_PREFIX, INDEX_PREFIX];

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
    #[error("{0} holds an interrupted init, not a ledger; remove it and run init again")]
    InterruptedInit(PathBuf),
    /// `init` on a directory that has files in it.
    #[error("{0} exists and is not empty; init needs a new or empty directory")]
    NotEmpty(PathBuf),
    /// Another process holds the ledger.
    #[error("ledger at {0} is in use by another process")]
    InUse(PathBuf),
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
    /// A stored value is damaged.
    #[error("ledger at {path}: damaged store: {what}")]
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
    path: PathBuf,
    /// sled's data file, fsynced after every commit.
    data: fs::File,
    /// The lock on the marker file. Declared after `db`, so sled has shut
    /// down before another process can get the lock.
    _lock: fs::File,
}

/// The sled key of entry `seq`.
pub fn entry_key(seq: u64) -> [u8; 9] {
    let mut k = [ENTRY_PREFIX; 9];
    k[1..].copy_from_slice(&seq.to_be_bytes());
    k
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
        let store = Self::open_locked(dir, marker, Duration::ZERO)?;
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

    /// Opens the ledger in `dir`, waiting up to `wait` for another process to let go of it.
    pub fn open(dir: &Path, wait: Duration) -> Result<Store, StoreError> {
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
        let io = |source| StoreError::Io {
            path: dir.to_owned(),
            source,
        };
        let lock = fs::File::open(&marker).map_err(io)?;
        let start = Instant::now();
        while let Err(e) = lock.try_lock_exclusive() {
            if e.raw_os_error() != fs2::lock_contended_error().raw_os_error() {
                return Err(io(e));
            }
            if start.elapsed() >= wait {
                return Err(StoreError::InUse(dir.to_owned()));
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        Self::open_locked(dir, lock, wait)
    }

    /// Opens sled in `dir`, whose marker file `lock` holds locked.
    fn open_locked(dir: &Path, lock: fs::File, wait: Duration) -> Result<Store, StoreError> {
        let io = |source| StoreError::Io {
            path: dir.to_owned(),
            source,
        };
        remove_unfinished_snapshots(dir).map_err(io)?;
        let db = Self::open_sled(dir, wait)?;
        let data = fs::File::open(dir.join("db")).map_err(io)?;
        Ok(Store {
            db,
            path: dir.to_owned(),
            data,
            _lock: lock,
        })
    }

    fn open_sled(dir: &Path, wait: Duration) -> Result<sled::Db, StoreError> {
        let start = Instant::now();
        loop {
            match sled::Config::new().path(dir).open() {
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

    /// The ledger directory.
    pub fn path(&self) -> &Path {
        &self.path
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
        self.get(&entry_key(seq))
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
        self.range(&entry_key(from), &[ENTRY_PREFIX + 1])
            .map(move |r| {
                let (k, v) = r?;
                let seq = <[u8; 8]>::try_from(&k[1..])
                    .map(u64::from_be_bytes)
                    .map_err(|_| self.damaged(format!("entry key of length {}", k.len())))?;
                Ok((seq, v))
            })
    }

    /// The number of stored entries (the seq after the last one).
    pub fn entry_count(&self) -> Result<u64, StoreError> {
        match self.range(&entry_key(0), &[ENTRY_PREFIX + 1]).next_back() {
            None => Ok(0),
            Some(r) => {
                let (k, _) = r?;
                let seq = <[u8; 8]>::try_from(&k[1..])
                    .map(u64::from_be_bytes)
                    .map_err(|_| self.damaged("entry key of the wrong length"))?;
                Ok(seq + 1)
            }
        }
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

/// A sled error about the ledger in `dir`; I/O errors as plain I/O errors, so
/// that the message reads "No space left on device (os error 28)".
fn sled_error(dir: &Path, source: sled::Error) -> StoreError {
    match source {
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

/// fsyncs a directory, so that the files just made in it survive a power cut.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    fs::File::open(dir)?.sync_all()
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

    /// The number of pending writes.
    pub fn len(&self) -> usize {
        self.writes.len()
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }

    /// The store underneath.
    pub fn store(&self) -> &Store {
        self.store
    }
}

/// The sled key of Merkle node `(level, index)`.
fn node_key(level: u8, index: u64) -> [u8; 10] {
    let mut k = [TREE_PREFIX; 10];
    k[1] = level;
    k[2..].copy_from_slice(&index.to_be_bytes());
    k
}

fn node_value(
    store: &Store,
    level: u8,
    index: u64,
    v: Option<Vec<u8>>,
) -> Result<TreeHash, StoreError> {
    let v = v.ok_or_else(|| {
        store.damaged_derived(format!("Merkle node ({level}, {index}) is missing"))
    })?;
    let b: [u8; 32] = v
        .try_into()
        .map_err(|_| store.damaged(format!("Merkle node ({level}, {index}) is not 32 bytes")))?;
    Ok(TreeHash::from_bytes(b))
}

impl NodeSource for Store {
    type Error = StoreError;

    fn node(&self, level: u8, index: u64) -> Result<TreeHash, StoreError> {
        node_value(self, level, index, self.get(&node_key(level, index))?)
    }
}

impl NodeSource for Pending<'_> {
    type Error = StoreError;

    fn node(&self, level: u8, index: u64) -> Result<TreeHash, StoreError> {
        node_value(self.store, level, index, self.get(&node_key(level, index))?)
    }
}

impl NodeSink for Pending<'_> {
    fn put_node(&mut self, level: u8, index: u64, hash: TreeHash) -> Result<(), StoreError> {
        self.put(node_key(level, index).to_vec(), hash.as_bytes().to_vec());
        Ok(())
    }
}

/// The sled key of a stored checkpoint: tree size, then the signer's name.
pub fn checkpoint_key(size: u64, signer: &str) -> Vec<u8> {
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

impl Tamper<'_> {
    /// Overwrites the stored bytes of entry `seq`, bypassing every check.
    pub fn overwrite_entry(&self, seq: u64, bytes: &[u8]) -> Result<(), StoreError> {
        let s = self.0;
        s.db.insert(entry_key(seq), bytes)
            .map_err(|e| s.sled_err(e))?;
        s.db.flush().map_err(|e| s.sled_err(e))?;
        Ok(())
    }

    /// How many entries the store holds, read from the entry keys themselves
    /// (not from the rules state).
    pub fn stored_entries(&self) -> Result<u64, StoreError> {
        self.0.entry_count()
    }

    /// Replaces the value of the `nth` query index record (in key order) with
    /// `value`. Returns false if there are not that many records.
    pub fn alter_index_record(&self, nth: usize, value: &[u8]) -> Result<bool, StoreError> {
        let s = self.0;
        let Some(r) = s.scan_prefix(&[INDEX_PREFIX]).nth(nth) else {
            return Ok(false);
        };
        let (k, _) = r?;
        let mut p = s.pending();
        p.put(k, value.to_vec());
        s.commit(p)?;
        Ok(true)
    }

    /// Inserts a query index record that no entry accounts for.
    pub fn insert_stray_index_record(&self) -> Result<(), StoreError> {
        let s = self.0;
        let mut p = s.pending();
        p.put(vec![INDEX_PREFIX, b'z', b'z', b'z'], Vec::new());
        s.commit(p)
    }
}
