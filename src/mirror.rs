//! Reading a log published as tiles ([`crate::tiles`]): from a directory or
//! over HTTP(S), verifying everything fetched, into a local read replica.
//!
//! [`mirror`] trusts nothing the source serves but what the ledger's
//! checkpoint key signed: the checkpoint's signature is checked first; every
//! hash tile fetched is compared with the tree computed from the entries,
//! and that tree's root with the checkpoint's; every entry is admitted by the
//! ledger's rules; and a replica that already holds entries takes new ones
//! only if the published tree extends its own (a consistency check from the
//! tiles). All of it is checked before the replica is written, so a refusal
//! leaves it as it was.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::bundle;
use crate::chain::{LedgerState, Provenance};
use crate::checkpoint::{CheckpointError, SignedCheckpoint};
use crate::entry::Entry;
use crate::ident::Origin;
use crate::ledger::{Ledger, LedgerError};
use crate::merkle::{CompactRange, ConsistencyProof, NodeSource, ProveError, TreeHash};
use crate::note::{VerifierKey, MAX_NOTE_LEN};
use crate::store::{StoreError, MARKER_FILE};
use crate::tiles::{
    bundle_path, tile_path, tile_width, TILES_CHECKPOINT_FILE, TILE_HEIGHT, TILE_WIDTH,
};

/// The largest entry bundle: 256 entries of at most 65,535 bytes, each with
/// its 2-byte length.
const MAX_BUNDLE_LEN: u64 = TILE_WIDTH * (2 + 65_535);
/// How long one HTTP request may take, all in.
const HTTP_TIMEOUT: Duration = Duration::from_secs(60);

/// Why a published log could not be read, or was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MirrorError {
    /// A file could not be fetched (network, permissions); not a verdict on the log.
    #[error("cannot fetch {path} from {source_name}: {reason}")]
    Fetch {
        /// The source.
        source_name: String,
        /// The file.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// A file the checkpoint needs is not there.
    #[error("{path} is missing at {source_name}, but the checkpoint of {size} entries needs it")]
    Missing {
        /// The source.
        source_name: String,
        /// The file.
        path: String,
        /// The checkpoint's size.
        size: u64,
    },
    /// The checkpoint does not open under the ledger's key.
    #[error("{source_name}/checkpoint: {reason}")]
    Checkpoint {
        /// The source.
        source_name: String,
        /// Why.
        #[source]
        reason: CheckpointError,
    },
    /// The checkpoint names another log than the replica's.
    #[error("{source_name}/checkpoint is for {found}, but this replica follows {expected}")]
    OriginMismatch {
        /// The source.
        source_name: String,
        /// The replica's origin.
        expected: Origin,
        /// The checkpoint's.
        found: Origin,
    },
    /// A hash tile or entry bundle is malformed or does not match.
    #[error("{path}: {reason}")]
    Bad {
        /// The file.
        path: String,
        /// What is wrong, and where in it.
        reason: String,
    },
    /// The published tree is smaller than the one the replica holds.
    #[error("rollback: {source_name} publishes {published} entries, but this replica already holds {held}")]
    Rollback {
        /// The source.
        source_name: String,
        /// The replica's size.
        held: u64,
        /// The checkpoint's size.
        published: u64,
    },
    /// The published tree does not extend the one the replica holds.
    #[error("fork: the tree {source_name} publishes does not extend the {held} entries this replica holds ({detail})")]
    Fork {
        /// The source.
        source_name: String,
        /// The replica's size.
        held: u64,
        /// What differs, and where.
        detail: String,
    },
    /// An entry breaks the ledger's rules.
    #[error("{path}: {error}")]
    Rules {
        /// The bundle.
        path: String,
        /// The refusal, naming the entry (boxed: a rules error is large).
        error: Box<LedgerError>,
    },
    /// The replica directory is a ledger of its own.
    #[error("{0} is a ledger, not a read replica: mirror writes only into a replica it made")]
    NotAReplica(PathBuf),
    /// The replica's ledger failed (boxed: a rules error is large).
    #[error(transparent)]
    Ledger(Box<LedgerError>),
    /// The staging directory could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

impl From<LedgerError> for MirrorError {
    fn from(e: LedgerError) -> Self {
        MirrorError::Ledger(Box::new(e))
    }
}

impl From<StoreError> for MirrorError {
    fn from(e: StoreError) -> Self {
        MirrorError::Ledger(Box::new(e.into()))
    }
}

/// Where a published log is read from: a directory, or an `http://` or
/// `https://` URL of the directory.
pub enum Source {
    /// A local directory.
    Dir(PathBuf),
    /// A web server, object store or CDN.
    Http {
        /// The URL of the directory, without a trailing slash.
        base: String,
        /// The HTTP client.
        agent: ureq::Agent,
    },
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Source({self})")
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Dir(d) => write!(f, "{}", d.display()),
            Source::Http { base, .. } => f.write_str(base),
        }
    }
}

impl Source {
    /// `http://…` and `https://…` are URLs; anything else is a directory.
    pub fn new(s: &str) -> Source {
        if s.starts_with("http://") || s.starts_with("https://") {
            let agent = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(HTTP_TIMEOUT))
                .build()
                .into();
            Source::Http {
                base: s.trim_end_matches('/').to_owned(),
                agent,
            }
        } else {
            Source::Dir(PathBuf::from(s))
        }
    }

    fn fail(&self, path: &str, reason: impl fmt::Display) -> MirrorError {
        MirrorError::Fetch {
            source_name: self.to_string(),
            path: path.to_owned(),
            reason: reason.to_string(),
        }
    }

    /// The file at `path` (relative, `/`-separated), at most `limit` bytes;
    /// `None` if the source does not have it.
    pub fn fetch(&self, path: &str, limit: u64) -> Result<Option<Vec<u8>>, MirrorError> {
        let too_long = || self.fail(path, format!("longer than {limit} bytes"));
        match self {
            Source::Dir(dir) => {
                let file = match fs::File::open(dir.join(path)) {
                    Ok(f) => f,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                    Err(e) => return Err(self.fail(path, e)),
                };
                let mut out = Vec::new();
                file.take(limit + 1)
                    .read_to_end(&mut out)
                    .map_err(|e| self.fail(path, e))?;
                if out.len() as u64 > limit {
                    return Err(too_long());
                }
                Ok(Some(out))
            }
            Source::Http { base, agent } => {
                let url = format!("{base}/{path}");
                let mut resp = agent.get(&url).call().map_err(|e| self.fail(path, e))?;
                match resp.status().as_u16() {
                    200 => resp
                        .body_mut()
                        .with_config()
                        .limit(limit)
                        .read_to_vec()
                        .map(Some)
                        .map_err(|e| match e {
                            ureq::Error::BodyExceedsLimit(_) => too_long(),
                            e => self.fail(path, e),
                        }),
                    404 | 410 => Ok(None),
                    s => Err(self.fail(path, format!("HTTP status {s}"))),
                }
            }
        }
    }

    /// The published checkpoint note.
    pub fn checkpoint(&self) -> Result<String, MirrorError> {
        let bytes = self
            .fetch(TILES_CHECKPOINT_FILE, MAX_NOTE_LEN as u64)?
            .ok_or_else(|| MirrorError::Missing {
                source_name: self.to_string(),
                path: TILES_CHECKPOINT_FILE.into(),
                size: 0,
            })?;
        String::from_utf8(bytes).map_err(|_| MirrorError::Bad {
            path: format!("{self}/{TILES_CHECKPOINT_FILE}"),
            reason: "not UTF-8".into(),
        })
    }

    /// The published checkpoint, opened under `key`.
    pub fn signed_checkpoint(
        &self,
        key: &VerifierKey,
    ) -> Result<(String, SignedCheckpoint), MirrorError> {
        let note = self.checkpoint()?;
        let signed =
            SignedCheckpoint::open(&note, key).map_err(|reason| MirrorError::Checkpoint {
                source_name: self.to_string(),
                reason,
            })?;
        Ok((note, signed))
    }

    fn get(&self, path: &str, limit: u64, size: u64) -> Result<Vec<u8>, MirrorError> {
        self.fetch(path, limit)?
            .ok_or_else(|| MirrorError::Missing {
                source_name: self.to_string(),
                path: path.to_owned(),
                size,
            })
    }
}

/// The hash tiles of a published tree of `size` entries as a [`NodeSource`]:
/// every node complete in that tree, read from one tile (and hashed up from
/// it when its level is not a multiple of 8). Nothing is verified here: what
/// is computed from these nodes is checked against signed roots.
pub struct Tiles<'s> {
    source: &'s Source,
    size: u64,
    cache: RefCell<BTreeMap<(u8, u64), Vec<TreeHash>>>,
}

impl<'s> Tiles<'s> {
    /// The tiles of the tree of `size` entries at `source`.
    pub fn new(source: &'s Source, size: u64) -> Self {
        Tiles {
            source,
            size,
            cache: RefCell::default(),
        }
    }

    /// The hashes of tile `index` at tile level `level`, with its path.
    fn tile(&self, level: u8, index: u64) -> Result<(String, Vec<TreeHash>), MirrorError> {
        let width = tile_width(level, index, self.size);
        let path = tile_path(level, index, width);
        if let Some(t) = self.cache.borrow().get(&(level, index)) {
            return Ok((path, t.clone()));
        }
        let bytes = self.source.get(&path, width * 32, self.size)?;
        if bytes.len() as u64 != width * 32 {
            return Err(MirrorError::Bad {
                path,
                reason: format!("{} bytes, not {} hashes of 32", bytes.len(), width),
            });
        }
        let hashes: Vec<TreeHash> = bytes
            .chunks_exact(32)
            .map(|c| TreeHash::from_bytes(c.try_into().expect("32-byte chunks")))
            .collect();
        let mut cache = self.cache.borrow_mut();
        // Bounded memory: a proof or a border needs a few tiles per level.
        if cache.len() >= 64 {
            cache.clear();
        }
        cache.insert((level, index), hashes.clone());
        Ok((path, hashes))
    }
}

impl NodeSource for Tiles<'_> {
    type Error = MirrorError;

    fn node(&self, level: u8, index: u64) -> Result<TreeHash, MirrorError> {
        let (tile_level, rest) = (level / TILE_HEIGHT, u32::from(level % TILE_HEIGHT));
        let first = index << rest;
        let (path, hashes) = self.tile(tile_level, first / TILE_WIDTH)?;
        let at = usize::try_from(first % TILE_WIDTH).expect("below 256");
        // Only a node that is not complete in the tree can overrun its tile.
        let mut layer = hashes
            .get(at..at + (1 << rest))
            .ok_or_else(|| MirrorError::Bad {
                path,
                reason: format!("holds no complete node ({level}, {index})"),
            })?
            .to_vec();
        while layer.len() > 1 {
            layer = layer
                .chunks_exact(2)
                .map(|p| TreeHash::node(&p[0], &p[1]))
                .collect();
        }
        Ok(layer[0])
    }
}

/// The consistency proof from the tree of `old` entries to the tree of
/// `new` entries, read from the hash tiles `source` publishes for `new`.
/// Check it against signed roots before relying on it.
pub fn tile_consistency_proof(
    source: &Source,
    old: u64,
    new: u64,
) -> Result<ConsistencyProof, MirrorError> {
    ConsistencyProof::prove(&Tiles::new(source, new), old, new).map_err(|e| match e {
        ProveError::Source(e) => e,
        e => MirrorError::Bad {
            path: format!("{source}/{TILES_CHECKPOINT_FILE}"),
            reason: e.to_string(),
        },
    })
}

/// The compact range of the first `size` entries, from the tiles of the
/// tree of `tiles.size` entries.
fn border(tiles: &Tiles<'_>, size: u64) -> Result<CompactRange, MirrorError> {
    let hashes = (0..64u8)
        .rev()
        .filter(|l| size >> l & 1 == 1)
        .map(|l| tiles.node(l, (size >> l) - 1))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(CompactRange::from_parts(size, hashes).expect("one hash per set bit"))
}

/// What [`mirror`] did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MirrorReport {
    /// Where from.
    pub source: String,
    /// Entries the replica held before.
    pub previous_size: u64,
    /// Entries it holds now (the checkpoint's size).
    pub size: u64,
    /// Bytes fetched.
    pub fetched_bytes: u64,
}

/// Mirrors the log `source` publishes into the read replica at `dir`
/// (created if missing or empty), verifying it against `key`, the ledger's
/// checkpoint verifier key. Calls `progress(stage, done, total)` now and then.
///
/// Fetches the checkpoint and checks its signature; refuses a smaller tree
/// than the replica holds ([`MirrorError::Rollback`]) or one that does not
/// extend it ([`MirrorError::Fork`]: the replica's own size is read from the
/// new tiles and must give the root it holds). Then fetches the entry
/// bundles from the replica's size on, each entry checked against the level-0
/// tile and admitted by the ledger's rules on a copy of the replica's state,
/// and every hash tile of the new part compared with the nodes the entries
/// give; the root must be the checkpoint's. Only then are the entries
/// written, through [`Ledger::extend_replica`] (or [`Ledger::create_replica`]),
/// from a staging copy that is checked against what was verified. Memory
/// stays bounded: one bundle and one tile per level at a time.
pub fn mirror(
    source: &Source,
    key: &VerifierKey,
    dir: &Path,
    wait: Duration,
    mut progress: impl FnMut(&'static str, u64, u64),
) -> Result<MirrorReport, MirrorError> {
    let source_name = source.to_string();
    let (note, signed) = source.signed_checkpoint(key)?;
    let cp = signed.checkpoint();
    let size = cp.size();
    let mut ledger = if dir.join(MARKER_FILE).exists() {
        let l = Ledger::open(dir, wait)?;
        if l.replica_source().is_none() {
            return Err(MirrorError::NotAReplica(dir.to_owned()));
        }
        Some(l)
    } else {
        if dir.is_dir()
            && fs::read_dir(dir)
                .map(|mut d| d.next().is_some())
                .unwrap_or(true)
        {
            return Err(StoreError::NotEmpty(dir.to_owned()).into());
        }
        None
    };
    let held = ledger.as_ref().map_or(0, Ledger::len);
    let mut report = MirrorReport {
        source: source_name.clone(),
        previous_size: held,
        size: held,
        fetched_bytes: 0,
    };
    let tiles = Tiles::new(source, size);
    let mut state = LedgerState::new();
    let mut range = CompactRange::new();
    if let Some(l) = &ledger {
        if let Some(origin) = l.state().origin().filter(|&o| o != cp.origin()) {
            return Err(MirrorError::OriginMismatch {
                source_name,
                expected: origin.clone(),
                found: cp.origin().clone(),
            });
        }
        if size < held {
            return Err(MirrorError::Rollback {
                source_name,
                held,
                published: size,
            });
        }
        let root = l.trusted_root(held)?;
        if size == held {
            if cp.root() != &root {
                return Err(MirrorError::Fork {
                    source_name,
                    held,
                    detail: format!("the checkpoint has another root at size {size}"),
                });
            }
            return Ok(report);
        }
        range = border(&tiles, held)?;
        if range.root() != root {
            return Err(MirrorError::Fork {
                source_name,
                held,
                detail: format!(
                    "its tiles give another root at size {held}; a forked log or a damaged tile among {}",
                    border_tiles(held, size).join(", ")
                ),
            });
        }
        state = l.state().clone();
    }

    // Pass 1: fetch and verify everything, write nothing but a staging copy.
    let staging = Staging::new(dir)?;
    let mut digests = Vec::new();
    let mut check = TileCheck::default();
    let first_bundle = held / TILE_WIDTH;
    let bundles = size.div_ceil(TILE_WIDTH);
    let mut nodes = Vec::new();
    for n in first_bundle..bundles {
        let width = (size - n * TILE_WIDTH).min(TILE_WIDTH);
        let path = bundle_path(n, width);
        let bytes = source.get(&path, MAX_BUNDLE_LEN, size)?;
        report.fetched_bytes += bytes.len() as u64;
        let entries = bundle::entries(&bytes).map_err(|e| MirrorError::Bad {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        if entries.len() as u64 != width {
            return Err(MirrorError::Bad {
                path,
                reason: format!("{} entries, not {width}", entries.len()),
            });
        }
        for (i, e) in entries.iter().enumerate() {
            let seq = n * TILE_WIDTH + i as u64;
            if seq < held {
                continue;
            }
            range.push_with(TreeHash::leaf(e), |level, index, hash| {
                if level % TILE_HEIGHT == 0 {
                    nodes.push((level / TILE_HEIGHT, index, *hash));
                }
            });
            for (level, index, hash) in nodes.drain(..) {
                check.node(&tiles, level, index, &hash, &path, seq)?;
            }
            let entry = Entry::decode(e).map_err(|err| MirrorError::Bad {
                path: path.clone(),
                reason: format!("entry {seq} does not decode: {err}"),
            })?;
            state
                .admit(entry, None, Provenance::Stored)
                .map_err(|c| MirrorError::Rules {
                    path: path.clone(),
                    error: Box::new(LedgerError::Refused(c)),
                })?;
            if seq % 4096 == 0 {
                progress("fetching and checking", seq, size);
            }
        }
        digests.push(blake3::hash(&bytes));
        staging.put(n, &bytes)?;
    }
    progress("fetching and checking", size, size);
    report.fetched_bytes += check.fetched;
    if &range.root() != cp.root() {
        return Err(match check.mismatch {
            Some(m) if m.level == 0 => MirrorError::Bad {
                path: m.bundle,
                reason: format!(
                    "entry {} is not the one the checkpoint covers (its hash is not the one in {}, and the entries do not hash to the checkpoint's root)",
                    m.seq, m.tile
                ),
            },
            _ => MirrorError::Bad {
                path: format!("{source_name}/{TILES_CHECKPOINT_FILE}"),
                reason: format!("the {size} published entries do not hash to the checkpoint's root"),
            },
        });
    }
    if let Some(m) = check.mismatch {
        return Err(MirrorError::Bad {
            path: m.tile,
            reason: format!(
                "hash {} is not the one the entries give (the entries match the checkpoint)",
                m.offset
            ),
        });
    }
    let signer = state
        .authorities()
        .get(key.name())
        .filter(|a| a.key == *key.key());
    if signer.is_none() {
        return Err(MirrorError::Bad {
            path: format!("{source_name}/{TILES_CHECKPOINT_FILE}"),
            reason: format!("its signer {} is not an authority of the log", key.name()),
        });
    }

    // Pass 2: write, from the staging copy, checked against what was verified.
    let staged = (first_bundle..bundles)
        .zip(digests)
        .flat_map(|(n, digest)| match staging.get(n, digest) {
            Ok(bytes) => bundle::entries(&bytes)
                .expect("checked in pass 1")
                .into_iter()
                .enumerate()
                .filter(|&(i, _)| n * TILE_WIDTH + i as u64 >= held)
                .map(|(_, e)| Ok(e.to_vec()))
                .collect::<Vec<_>>(),
            Err(e) => vec![Err(e)],
        });
    let mut write_progress = |done| progress("writing the replica", done, size);
    match &mut ledger {
        Some(l) => {
            let start = border(&tiles, held)?;
            l.extend_replica(&start, &note, staged, &mut write_progress)?;
        }
        None => {
            Ledger::create_replica(dir, &source_name, &note, staged, &mut write_progress)?;
        }
    }
    drop(staging);
    report.size = size;
    Ok(report)
}

/// The tiles a border of `held` entries is read from, in the tree of `size`.
fn border_tiles(held: u64, size: u64) -> Vec<String> {
    let mut out: Vec<String> = (0..8u8)
        .filter(|l| (held >> (u32::from(*l) * 8)) % TILE_WIDTH != 0)
        .map(|l| {
            let index = (held >> (u32::from(l) * 8)) / TILE_WIDTH;
            tile_path(l, index, tile_width(l, index, size))
        })
        .collect();
    out.dedup();
    out
}

/// The first hash tile value that differs from the tree of the entries.
struct Mismatch {
    level: u8,
    tile: String,
    offset: u64,
    bundle: String,
    seq: u64,
}

/// Compares each node at a tile level with the published tile holding it,
/// one tile per level in memory.
#[derive(Default)]
struct TileCheck {
    current: BTreeMap<u8, (u64, String, Vec<TreeHash>)>,
    mismatch: Option<Mismatch>,
    fetched: u64,
}

impl TileCheck {
    fn node(
        &mut self,
        tiles: &Tiles<'_>,
        level: u8,
        index: u64,
        hash: &TreeHash,
        bundle: &str,
        seq: u64,
    ) -> Result<(), MirrorError> {
        let tile = index / TILE_WIDTH;
        if self.current.get(&level).is_none_or(|c| c.0 != tile) {
            let (path, hashes) = tiles.tile(level, tile)?;
            self.fetched += hashes.len() as u64 * 32;
            self.current.insert(level, (tile, path, hashes));
        }
        let (_, path, hashes) = &self.current[&level];
        let offset = index % TILE_WIDTH;
        if self.mismatch.is_none() && hashes[offset as usize] != *hash {
            self.mismatch = Some(Mismatch {
                level,
                tile: path.clone(),
                offset,
                bundle: bundle.to_owned(),
                seq,
            });
        }
        Ok(())
    }
}

/// The verified bundles, kept beside the replica between the two passes.
struct Staging {
    dir: PathBuf,
}

impl Staging {
    fn new(replica: &Path) -> Result<Staging, MirrorError> {
        let mut name = replica
            .file_name()
            .map(|n| n.to_owned())
            .unwrap_or_else(|| "replica".into());
        name.push(".mirror-staging");
        let dir = replica.with_file_name(name);
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).map_err(|source| MirrorError::Io {
            path: dir.clone(),
            source,
        })?;
        Ok(Staging { dir })
    }

    fn put(&self, n: u64, bytes: &[u8]) -> Result<(), MirrorError> {
        let path = self.dir.join(n.to_string());
        fs::write(&path, bytes).map_err(|source| MirrorError::Io { path, source })
    }

    fn get(&self, n: u64, digest: blake3::Hash) -> Result<Vec<u8>, MirrorError> {
        let path = self.dir.join(n.to_string());
        let bytes = fs::read(&path).map_err(|source| MirrorError::Io {
            path: path.clone(),
            source,
        })?;
        if blake3::hash(&bytes) != digest {
            return Err(MirrorError::Bad {
                path: path.display().to_string(),
                reason: "the staged bundle changed after it was checked".into(),
            });
        }
        Ok(bytes)
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::{MemoryTree, NodeSource};

    /// Writes the hash tiles of `tree` as `publish` lays them out.
    fn write_tiles(dir: &Path, tree: &MemoryTree) {
        let size = tree.size();
        for level in 0..8u8 {
            let count = size >> (u32::from(level) * 8);
            for index in 0..count.div_ceil(TILE_WIDTH) {
                let width = tile_width(level, index, size);
                let bytes: Vec<u8> = (0..width)
                    .flat_map(|i| {
                        *tree
                            .node(level * 8, index * TILE_WIDTH + i)
                            .unwrap()
                            .as_bytes()
                    })
                    .collect();
                let path = dir.join(tile_path(level, index, width));
                fs::create_dir_all(path.parent().unwrap()).unwrap();
                fs::write(path, bytes).unwrap();
            }
        }
    }

    /// Nodes of every level, read from tiles of heights 0 to 2, equal the
    /// tree's; so do consistency proofs and compact ranges made from them.
    #[test]
    fn tiles_give_the_nodes_proofs_and_borders_of_the_tree() {
        let size = 65_536 + 300;
        let mut tree = MemoryTree::new();
        for i in 0..size {
            tree.push(format!("leaf-{i}").as_bytes());
        }
        let dir = tempfile::tempdir().unwrap();
        write_tiles(dir.path(), &tree);
        assert!(dir.path().join("tile/1/000").is_file());
        assert!(dir.path().join("tile/2/000.p/1").is_file());
        let source = Source::new(dir.path().to_str().unwrap());
        let tiles = Tiles::new(&source, size);
        for (level, index) in [
            (0, 5),
            (3, 7),
            (8, 0),
            (9, 0),
            (12, 3),
            (16, 0),
            (7, 512),
            (5, 2056),
        ] {
            assert_eq!(
                tiles.node(level, index).unwrap(),
                tree.node(level, index).unwrap(),
                "node ({level}, {index})"
            );
        }
        for old in [1, 255, 256, 601, 65_535, 65_536, 65_537, size - 1] {
            let from_tiles = tile_consistency_proof(&source, old, size).unwrap();
            assert_eq!(
                from_tiles,
                ConsistencyProof::prove(&tree, old, size).unwrap(),
                "{old}"
            );
            from_tiles.verify().unwrap();
            let border = border(&tiles, old).unwrap();
            assert_eq!(border.root(), crate::merkle::tree_root(&tree, old).unwrap());
        }
        // A node that is not complete in the tree is an error, not a panic.
        assert!(tiles.node(5, 2057).is_err());
        // A tile cut short is named.
        let short = dir.path().join("tile/0/003");
        fs::write(&short, [0u8; 40]).unwrap();
        let e = Tiles::new(&source, size).node(0, 3 * 256).unwrap_err();
        assert!(e.to_string().starts_with("tile/0/003: 40 bytes"), "{e}");
    }
}
