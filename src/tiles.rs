//! The log as C2SP tlog-tiles: static files any web server, object store or
//! CDN can serve, and every reader verifies (docs/TRANSPARENCY.md, "Tiles").
//!
//! ```text
//! checkpoint                     the signed checkpoint (written last)
//! access-ledger.json             origin, verifier key, format version
//! tile/<L>/<N>[.p/<W>]           hash tiles: up to 256 hashes of tree level 8·L
//! tile/entries/<N>[.p/<W>]       entry bundles: up to 256 entries (src/bundle.rs)
//! ```
//!
//! `N` is written in 3-digit path segments, all but the last prefixed with
//! `x` (1234067 is `x001/x234/067`); a partial tile (fewer than 256 hashes or
//! entries, at the right edge of the tree) has the suffix `.p/<W>`, its width.
//!
//! [`publish`] computes every hash tile from the entries themselves, never
//! from the stored tree nodes, and checks the root it gets against the
//! checkpoint before writing anything: a publisher never publishes a tree the
//! checkpoint's signer did not sign.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::bundle;
use crate::checkpoint::{Checkpoint, SignedCheckpoint};
use crate::durable;
use crate::ident::AuthorityName;
use crate::ledger::{Ledger, LedgerError};
use crate::merkle::{CompactRange, TreeHash};
use crate::note::{Note, VerifierKey};

/// Tree levels per tile (C2SP tlog-tiles: 8).
pub const TILE_HEIGHT: u8 = 8;
/// Hashes in a full tile, entries in a full bundle: 2^[`TILE_HEIGHT`].
pub const TILE_WIDTH: u64 = 256;
/// The file naming the published ledger, beside `checkpoint`.
pub const TILES_METADATA_FILE: &str = "access-ledger.json";
/// The checkpoint file at the root of a published log.
pub const TILES_CHECKPOINT_FILE: &str = "checkpoint";
/// The format named in [`TILES_METADATA_FILE`].
pub const TILES_FORMAT: &str = "access-ledger tiles v1";

/// `N` as C2SP path segments: `x001/x234/067` for 1234067.
pub fn index_path(mut n: u64) -> String {
    let mut parts = vec![format!("{:03}", n % 1000)];
    n /= 1000;
    while n > 0 {
        parts.push(format!("x{:03}", n % 1000));
        n /= 1000;
    }
    parts.reverse();
    parts.join("/")
}

fn with_width(mut path: String, width: u64) -> String {
    if width < TILE_WIDTH {
        path.push_str(&format!(".p/{width}"));
    }
    path
}

/// The path of hash tile `index` at tile level `level` holding `width`
/// hashes (1 to 256).
pub fn tile_path(level: u8, index: u64, width: u64) -> String {
    with_width(format!("tile/{level}/{}", index_path(index)), width)
}

/// The path of entry bundle `index` holding `width` entries (1 to 256).
pub fn bundle_path(index: u64, width: u64) -> String {
    with_width(format!("tile/entries/{}", index_path(index)), width)
}

/// How many hashes hash tile `index` at `level` holds in a tree of `size`
/// entries (0 if it is not part of it).
pub fn tile_width(level: u8, index: u64, size: u64) -> u64 {
    let count = level_count(level, size);
    count.saturating_sub(index * TILE_WIDTH).min(TILE_WIDTH)
}

/// How many nodes tree level `8·level` has in a tree of `size` entries.
fn level_count(level: u8, size: u64) -> u64 {
    size.checked_shr(u32::from(level) * u32::from(TILE_HEIGHT))
        .unwrap_or(0)
}

/// The hash tiles of a tree, built as its leaves are appended: hand
/// [`TileBuilder::node`] every node [`CompactRange::push_with`] hands out. It
/// keeps the nodes of tree levels 8·L (no other level is in a tile) in the
/// current tile of each tile level L; [`TileBuilder::take_full`] gives each
/// tile once it holds 256 hashes (a full tile never changes again) and
/// [`TileBuilder::partial`] the tiles at the right edge of the tree. The
/// published tiles ([`publish`]) and the store's tiles (src/store.rs) are
/// both made by it. Memory: at most 256 hashes per tile level.
#[derive(Debug, Clone, Default)]
pub struct TileBuilder {
    /// Per tile level: the index of its current tile, and the hashes in it.
    levels: Vec<(u64, Vec<TreeHash>)>,
}

impl TileBuilder {
    /// The tiles of the empty tree.
    pub fn new() -> Self {
        TileBuilder::default()
    }

    /// Takes node `(level, index)` of the tree. Nodes of each level MUST
    /// come in index order from 0, as [`CompactRange::push_with`] gives them.
    pub fn node(&mut self, level: u8, index: u64, hash: &TreeHash) {
        if level % TILE_HEIGHT != 0 {
            return;
        }
        let l = usize::from(level / TILE_HEIGHT);
        if self.levels.len() <= l {
            self.levels.resize_with(l + 1, Default::default);
        }
        let (tile, hashes) = &mut self.levels[l];
        if hashes.is_empty() {
            *tile = index / TILE_WIDTH;
        }
        hashes.push(*hash);
    }

    /// The tiles that became full since the last call, as `(tile level,
    /// tile index, hashes)`, each given once.
    pub fn take_full(&mut self) -> Vec<(u8, u64, Vec<TreeHash>)> {
        let mut out = Vec::new();
        for (l, (tile, hashes)) in self.levels.iter_mut().enumerate() {
            if hashes.len() as u64 == TILE_WIDTH {
                let level = u8::try_from(l).expect("at most 8 tile levels");
                out.push((level, *tile, std::mem::take(hashes)));
            }
        }
        out
    }

    /// The partial tiles (1 to 255 hashes), as `(tile level, tile index,
    /// hashes)`, lowest level first.
    pub fn partial(&self) -> impl Iterator<Item = (u8, u64, &[TreeHash])> + '_ {
        self.levels
            .iter()
            .enumerate()
            .filter(|(_, (_, hashes))| !hashes.is_empty())
            .map(|(l, (tile, hashes))| {
                let level = u8::try_from(l).expect("at most 8 tile levels");
                (level, *tile, hashes.as_slice())
            })
    }
}

/// The hash of node `(level, index)` from the hashes of tile level
/// `level / 8` below it: `hashes` holds the `2^(level % 8)` nodes of tree
/// level `8·(level / 8)` it covers, which are hashed up pairwise (RFC 9162
/// §2.1.1). `None` unless `hashes` has exactly that many.
pub fn node_from_tile(level: u8, hashes: &[TreeHash]) -> Option<TreeHash> {
    if hashes.len() != 1 << (level % TILE_HEIGHT) {
        return None;
    }
    let mut layer = hashes.to_vec();
    while layer.len() > 1 {
        layer = layer
            .chunks_exact(2)
            .map(|p| TreeHash::node(&p[0], &p[1]))
            .collect();
    }
    layer.pop()
}

/// Why a log could not be published.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PublishError {
    /// The ledger could not be read.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// A file in the output directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// The entries do not hash to the checkpoint's root: the stored entries
    /// are not the ones that were signed. Nothing was written.
    #[error(
        "the first {size} entries do not hash to the root of the checkpoint; nothing published"
    )]
    RootMismatch {
        /// The checkpoint's size.
        size: u64,
    },
    /// The output directory already holds a log this one does not extend.
    #[error("{path} holds {what}; nothing published")]
    NotOurs {
        /// The file.
        path: PathBuf,
        /// What it holds.
        what: String,
    },
}

/// What [`publish`] did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PublishReport {
    /// Entries in the published tree.
    pub size: u64,
    /// The size of the checkpoint the directory held before (0 if none).
    pub previous_size: u64,
    /// Files written by this run (tiles, bundles, metadata and checkpoint).
    pub files_written: u64,
    /// Bytes written by this run.
    pub bytes_written: u64,
    /// Hash tiles and entry bundles skipped: already published, immutable.
    pub files_kept: u64,
}

/// Publishes the first `checkpoint.size()` entries of `ledger` under `out`
/// as C2SP tlog-tiles, with `checkpoint` as the `checkpoint` file.
///
/// Two passes over the entries: the first computes the root from the entries
/// and checks it against the checkpoint (and the root at the size `out`
/// already holds against the checkpoint there: a publisher never rolls back
/// or forks what it published); the second writes the tiles and bundles that
/// are new or changed (full tiles already published are immutable and kept),
/// each by an atomic, synced replace; then the metadata file, then the
/// checkpoint, last, by atomic rename. A crash at any point leaves a
/// directory whose checkpoint's tiles are all there.
pub fn publish(
    ledger: &Ledger,
    checkpoint: &SignedCheckpoint,
    out: &Path,
    mut progress: impl FnMut(&'static str, u64, u64),
) -> Result<PublishReport, PublishError> {
    let cp = checkpoint.checkpoint();
    let size = cp.size();
    let previous = previous_checkpoint(out, cp)?;
    let previous_size = previous.as_ref().map_or(0, Checkpoint::size);
    // Pass 1: the roots, from the entries alone.
    let mut range = CompactRange::new();
    let mut previous_root = (previous_size == 0).then_some(TreeHash::EMPTY);
    for_entries(ledger, size, |seq, bytes| {
        range.push(TreeHash::leaf(bytes));
        if seq + 1 == previous_size {
            previous_root = Some(range.root());
        }
        if seq % 4096 == 0 {
            progress("hashing the entries", seq, size);
        }
        Ok(())
    })?;
    if range.size() != size || &range.root() != cp.root() {
        return Err(PublishError::RootMismatch { size });
    }
    if let Some(prev) = &previous {
        if previous_root.as_ref() != Some(prev.root()) {
            return Err(PublishError::NotOurs {
                path: out.join(TILES_CHECKPOINT_FILE),
                what: format!(
                    "a checkpoint of {} entries whose root is not this ledger's (a fork)",
                    prev.size()
                ),
            });
        }
    }
    // Pass 2: the files.
    let mut w = TileWriter {
        out,
        previous_size,
        report: PublishReport {
            size,
            previous_size,
            files_written: 0,
            bytes_written: 0,
            files_kept: 0,
        },
    };
    let mut range = CompactRange::new();
    let mut tiles = TileBuilder::new();
    let mut entries = Vec::new();
    let mut in_bundle = 0u64;
    for_entries(ledger, size, |seq, bytes| {
        range.push_with(TreeHash::leaf(bytes), |level, index, hash| {
            tiles.node(level, index, hash)
        });
        for (level, index, hashes) in tiles.take_full() {
            w.hash_tile(level, index, &hashes)?;
        }
        bundle::push_entry(&mut entries, bytes);
        in_bundle += 1;
        if in_bundle == TILE_WIDTH {
            w.bundle(seq / TILE_WIDTH, TILE_WIDTH, &entries)?;
            entries.clear();
            in_bundle = 0;
        }
        if seq % 4096 == 0 {
            progress("writing tiles", seq, size);
        }
        Ok(())
    })?;
    for (level, index, hashes) in tiles.partial() {
        w.hash_tile(level, index, hashes)?;
    }
    if in_bundle > 0 {
        w.bundle(size / TILE_WIDTH, in_bundle, &entries)?;
    }
    progress("writing tiles", size, size);
    let metadata = metadata(ledger, checkpoint)?;
    w.write(TILES_METADATA_FILE, metadata.as_bytes())?;
    w.write(TILES_CHECKPOINT_FILE, checkpoint.to_string().as_bytes())?;
    Ok(w.report)
}

/// The checkpoint `out` holds, if any, checked to be of this log and not
/// larger than `cp`. Its signature is not checked: it only decides what is
/// already published, and its root must be this ledger's at its size.
fn previous_checkpoint(out: &Path, cp: &Checkpoint) -> Result<Option<Checkpoint>, PublishError> {
    let path = out.join(TILES_CHECKPOINT_FILE);
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(PublishError::Io { path, source }),
    };
    let not_ours = |what: String| PublishError::NotOurs {
        path: path.clone(),
        what,
    };
    let prev = Note::parse(&text)
        .ok()
        .and_then(|n| Checkpoint::parse(n.text()).ok())
        .ok_or_else(|| not_ours("a file that is not a checkpoint".into()))?;
    if prev.origin() != cp.origin() {
        return Err(not_ours(format!("the log of {}", prev.origin())));
    }
    if prev.size() > cp.size() {
        return Err(not_ours(format!(
            "a checkpoint of {} entries, more than the {} of this one (publishing would roll it back)",
            prev.size(),
            cp.size()
        )));
    }
    Ok(Some(prev))
}

fn for_entries(
    ledger: &Ledger,
    size: u64,
    mut each: impl FnMut(u64, &[u8]) -> Result<(), PublishError>,
) -> Result<(), PublishError> {
    let store = ledger.store();
    let mut next = 0;
    for r in store.entries(0) {
        if next == size {
            break;
        }
        let (seq, bytes) = r.map_err(LedgerError::from)?;
        if seq != next {
            return Err(
                LedgerError::from(store.damaged(format!("entry {next} is missing"))).into(),
            );
        }
        each(seq, &bytes)?;
        next += 1;
    }
    if next != size {
        return Err(PublishError::RootMismatch { size });
    }
    Ok(())
}

/// The metadata file: what a reader needs to follow the log.
fn metadata(ledger: &Ledger, checkpoint: &SignedCheckpoint) -> Result<String, PublishError> {
    let state = ledger.state();
    let signer = checkpoint
        .signatures()
        .first()
        .and_then(|s| AuthorityName::new(s.name()).ok())
        .and_then(|name| {
            let a = state.authorities().get(&name)?;
            Some(VerifierKey::new(name, a.key))
        })
        .ok_or_else(|| {
            LedgerError::Invalid(
                "the checkpoint's signer is not an authority of this ledger".into(),
            )
        })?;
    let value = serde_json::json!({
        "format": TILES_FORMAT,
        "origin": checkpoint.checkpoint().origin().as_str(),
        "verifier_key": signer.to_string(),
        "ledger_id": state.ledger_id().to_hex(),
        "tile_height": TILE_HEIGHT,
        "entry_bundles": "C2SP tlog-tiles entry bundles: u16 big-endian length, then the entry's exact signed bytes (docs/FORMAT.md)",
    });
    Ok(format!(
        "{}\n",
        serde_json::to_string_pretty(&value).expect("JSON values serialise")
    ))
}

struct TileWriter<'a> {
    out: &'a Path,
    previous_size: u64,
    report: PublishReport,
}

impl TileWriter<'_> {
    fn hash_tile(
        &mut self,
        level: u8,
        index: u64,
        hashes: &[TreeHash],
    ) -> Result<(), PublishError> {
        let width = hashes.len() as u64;
        // A full tile the previous checkpoint covers is immutable.
        let covered = width == TILE_WIDTH
            && ((index + 1) * TILE_WIDTH) << (u32::from(level) * u32::from(TILE_HEIGHT))
                <= self.previous_size;
        let path = tile_path(level, index, width);
        if covered && self.out.join(&path).is_file() {
            self.report.files_kept += 1;
            return Ok(());
        }
        let bytes: Vec<u8> = hashes.iter().flat_map(|h| *h.as_bytes()).collect();
        self.write(&path, &bytes)
    }

    fn bundle(&mut self, index: u64, width: u64, bytes: &[u8]) -> Result<(), PublishError> {
        let covered = width == TILE_WIDTH && (index + 1) * TILE_WIDTH <= self.previous_size;
        let path = bundle_path(index, width);
        if covered && self.out.join(&path).is_file() {
            self.report.files_kept += 1;
            return Ok(());
        }
        self.write(&path, bytes)
    }

    fn write(&mut self, path: &str, bytes: &[u8]) -> Result<(), PublishError> {
        let path = self.out.join(path);
        let io = |source| PublishError::Io {
            path: path.clone(),
            source,
        };
        // A partial tile republished at the same size, or a checkpoint that
        // did not change: what is there is already right.
        if fs::read(&path).is_ok_and(|old| old == bytes) {
            self.report.files_kept += 1;
            return Ok(());
        }
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(io)?;
        }
        durable::replace(&path, bytes).map_err(io)?;
        self.report.files_written += 1;
        self.report.bytes_written += bytes.len() as u64;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_c2sp() {
        assert_eq!(index_path(0), "000");
        assert_eq!(index_path(999), "999");
        assert_eq!(index_path(1000), "x001/000");
        assert_eq!(index_path(1_234_067), "x001/x234/067");
        assert_eq!(tile_path(0, 1_234_067, 256), "tile/0/x001/x234/067");
        assert_eq!(tile_path(1, 5, 17), "tile/1/005.p/17");
        assert_eq!(bundle_path(0, 3), "tile/entries/000.p/3");
        assert_eq!(bundle_path(1000, 256), "tile/entries/x001/000");
    }

    #[test]
    fn widths_follow_the_tree() {
        assert_eq!(tile_width(0, 0, 300), 256);
        assert_eq!(tile_width(0, 1, 300), 44);
        assert_eq!(tile_width(0, 2, 300), 0);
        assert_eq!(tile_width(1, 0, 300), 1);
        assert_eq!(tile_width(1, 0, 255), 0);
        assert_eq!(tile_width(1, 0, 65536), 256);
        assert_eq!(tile_width(2, 0, 65536), 1);
        assert_eq!(tile_width(8, 0, u64::MAX), 0);
    }
}
