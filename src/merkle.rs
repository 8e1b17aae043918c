//! Merkle trees over the log, as in RFC 6962 and RFC 9162 §2.1, with SHA-256.
//!
//! Hashing (RFC 9162 §2.1.1), byte by byte:
//!
//! ```text
//! empty tree   SHA-256("")
//! leaf         SHA-256(0x00 || data)           data = the entry's exact stored bytes
//! interior     SHA-256(0x01 || left || right)  left, right: 32-byte child hashes
//! n > 1 leaves split at k, the largest power of two smaller than n:
//!              MTH(D[0:n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))
//! ```
//!
//! Storage keeps complete subtrees only: node `(level, index)` is the root of
//! the `2^level` leaves `[index·2^level, (index+1)·2^level)`. A node, once
//! written, never changes (the log is append-only), so a store MUST NOT
//! overwrite one with a different hash. [`append_leaf`] writes the leaf and every
//! parent it completes; [`tree_root`], [`inclusion_proof`] and [`consistency_proof`]
//! read only nodes that are complete in the tree of the size asked for, at most
//! a few per level (O(log n) reads), and never rehash leaves.
//!
//! Proofs are lists of hashes in RFC 9162 order (§2.1.3.1 and §2.1.4.1, the
//! hash nearest the leaves first) and are checked by [`verify_inclusion`] and
//! [`verify_consistency`], which follow RFC 9162 §2.1.3.2 and §2.1.4.2 step by
//! step. A proof ties a hash to a root *for a tree size the caller already
//! trusts*: the size and root must come from a verified checkpoint, since an
//! inclusion proof for one size can also verify for another size whose path
//! has the same shape.

use std::fmt;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The first byte hashed for a leaf (RFC 9162 §2.1.1).
pub const LEAF_HASH_PREFIX: u8 = 0x00;
/// The first byte hashed for an interior node (RFC 9162 §2.1.1).
pub const NODE_HASH_PREFIX: u8 = 0x01;
/// The most hashes in any proof for a tree of at most `u64::MAX` leaves: one
/// per level, plus the old root's own subtree in a consistency proof.
pub const MAX_PROOF_LEN: usize = 65;

/// Why a proof does not verify, or its text form could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// An inclusion proof for a leaf index that is not in the tree.
    #[error("leaf index {index} is not below tree size {size}")]
    IndexOutOfRange {
        /// The leaf index.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// A consistency proof from a larger tree to a smaller one.
    #[error("old tree size {old} is larger than new tree size {new}")]
    SizeOrder {
        /// The old size.
        old: u64,
        /// The new size.
        new: u64,
    },
    /// The proof has the wrong number of hashes for its index and sizes.
    #[error("proof has {found} hashes, expected {expected} for these sizes")]
    WrongLength {
        /// How many the sizes call for.
        expected: usize,
        /// How many the proof has.
        found: usize,
    },
    /// The leaf data does not hash to the proof's leaf hash.
    #[error("leaf data does not hash to the proof's leaf hash")]
    LeafMismatch,
    /// An inclusion proof leads to another root.
    #[error("inclusion proof does not lead to the root hash")]
    RootMismatch,
    /// A consistency proof does not lead to the old root.
    #[error("consistency proof does not lead to the old root hash")]
    OldRootMismatch,
    /// A consistency proof does not lead to the new root (or, for equal sizes,
    /// the two roots differ).
    #[error("consistency proof does not lead to the new root hash")]
    NewRootMismatch,
    /// The text form is malformed.
    #[error("malformed proof text: {0}")]
    Malformed(String),
}

/// Why a proof could not be computed from stored nodes.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProveError<E> {
    /// The leaf index is not in the tree.
    #[error("leaf index {index} is not below tree size {size}")]
    IndexOutOfRange {
        /// The leaf index.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// The old size is larger than the new size.
    #[error("old tree size {old} is larger than new tree size {new}")]
    SizeOrder {
        /// The old size.
        old: u64,
        /// The new size.
        new: u64,
    },
    /// A stored node could not be read.
    #[error("cannot read the Merkle tree")]
    Source(#[source] E),
}

/// A SHA-256 Merkle tree hash: of a leaf, an interior node or a whole tree.
///
/// Text and JSON form: standard base64 with padding (RFC 4648 §4), 44 characters.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TreeHash([u8; 32]);

impl TreeHash {
    /// The root of the empty tree, SHA-256 of no bytes.
    pub const EMPTY: TreeHash = TreeHash([
        0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9,
        0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52,
        0xb8, 0x55,
    ]);

    /// Wraps 32 raw bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        TreeHash(bytes)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The leaf hash of `data`: SHA-256(0x00 || data).
    pub fn leaf(data: &[u8]) -> Self {
        let mut h = Sha256::new();
        h.update([LEAF_HASH_PREFIX]);
        h.update(data);
        TreeHash(h.finalize().into())
    }

    /// The interior node over two children: SHA-256(0x01 || left || right).
    pub fn node(left: &TreeHash, right: &TreeHash) -> Self {
        let mut h = Sha256::new();
        h.update([NODE_HASH_PREFIX]);
        h.update(left.0);
        h.update(right.0);
        TreeHash(h.finalize().into())
    }

    /// Standard base64 of the 32 bytes.
    pub fn to_base64(&self) -> String {
        B64.encode(self.0)
    }

    /// Parses canonical standard base64 of exactly 32 bytes (padding required,
    /// no stray bits, no whitespace); `None` for anything else.
    pub fn from_base64(s: &str) -> Option<Self> {
        let v = B64.decode(s).ok()?;
        Some(TreeHash(v.try_into().ok()?))
    }
}

impl fmt::Debug for TreeHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TreeHash({})", self.to_base64())
    }
}

impl fmt::Display for TreeHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_base64())
    }
}

impl Serialize for TreeHash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_base64())
    }
}

impl<'de> Deserialize<'de> for TreeHash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        TreeHash::from_base64(&s)
            .ok_or_else(|| serde::de::Error::custom("a tree hash is standard base64 of 32 bytes"))
    }
}

/// Read access to the stored complete subtrees of one tree.
pub trait NodeSource {
    /// Why a node could not be read (including: it is not stored).
    type Error;

    /// The root of leaves `[index·2^level, (index+1)·2^level)`. Only ever asked
    /// for nodes that are complete in a tree the caller says is stored.
    fn node(&self, level: u8, index: u64) -> Result<TreeHash, Self::Error>;
}

/// Write access to the stored complete subtrees of one tree.
pub trait NodeSink: NodeSource {
    /// Stores node `(level, index)`. Each node is written exactly once, and at
    /// each level in increasing index order. The store MUST make the node
    /// visible to later [`NodeSource::node`] calls on the same value (an
    /// overlay over a pending batch is enough), and MUST NOT overwrite a node.
    fn put_node(&mut self, level: u8, index: u64, hash: TreeHash) -> Result<(), Self::Error>;
}

/// Appends `leaf` (a leaf hash, see [`TreeHash::leaf`]) to a tree of
/// `size_before` leaves.
///
/// Writes node `(0, size_before)`, then, for each level `l` from 0 while bit
/// `l` of `size_before` is set, reads the left sibling
/// `(l, (size_before >> l) - 1)` and writes the parent `(l + 1, size_before >> (l + 1))`.
/// So it reads `t` nodes and writes `t + 1`, where `t` is the number of
/// trailing one bits of `size_before`; every node read is complete in the
/// tree of `size_before` leaves, and no node written by this call is read.
/// The caller MUST pass the true current size: nodes of other sizes are not checked.
pub fn append_leaf<S: NodeSink + ?Sized>(
    sink: &mut S,
    size_before: u64,
    leaf: TreeHash,
) -> Result<(), S::Error> {
    let (mut level, mut index, mut hash) = (0u8, size_before, leaf);
    sink.put_node(level, index, hash)?;
    while index & 1 == 1 {
        let left = sink.node(level, index - 1)?;
        hash = TreeHash::node(&left, &hash);
        level += 1;
        index >>= 1;
        sink.put_node(level, index, hash)?;
    }
    Ok(())
}

/// The root hash of the first `size` leaves ([`TreeHash::EMPTY`] for 0).
///
/// Reads one node per set bit of `size`: the complete subtrees of the binary
/// decomposition of `size`, folded from the right.
pub fn tree_root<S: NodeSource + ?Sized>(src: &S, size: u64) -> Result<TreeHash, S::Error> {
    subtree_hash(src, 0, size)
}

/// The hash of leaves `[start, start + len)`, a subtree of the RFC 6962
/// recursion: `start` is a multiple of the smallest power of two `>= len`.
/// Reads one complete node per set bit of `len`.
fn subtree_hash<S: NodeSource + ?Sized>(
    src: &S,
    start: u64,
    len: u64,
) -> Result<TreeHash, S::Error> {
    let mut acc: Option<TreeHash> = None;
    for level in 0..64u8 {
        let bit = 1u64 << level;
        if len & bit == 0 {
            continue;
        }
        // The piece for this bit starts after the larger pieces to its left.
        let higher = len & !(bit | (bit - 1));
        let h = src.node(level, (start + higher) >> level)?;
        acc = Some(match acc {
            None => h,
            Some(right) => TreeHash::node(&h, &right),
        });
    }
    Ok(acc.unwrap_or(TreeHash::EMPTY))
}

/// The largest power of two smaller than `n`, for `n > 1`.
fn split(n: u64) -> u64 {
    debug_assert!(n > 1);
    1 << (63 - (n - 1).leading_zeros())
}

/// The inclusion proof of leaf `index` in the tree of `size` leaves: RFC 9162
/// §2.1.3.1 `PATH(index, D[0:size])`, the leaf's sibling first.
///
/// Reads O(log size) complete nodes of the tree of `size` leaves.
pub fn inclusion_proof<S: NodeSource + ?Sized>(
    src: &S,
    index: u64,
    size: u64,
) -> Result<Vec<TreeHash>, ProveError<S::Error>> {
    if index >= size {
        return Err(ProveError::IndexOutOfRange { index, size });
    }
    // Walk down from the root through the subtree [lo, lo + n) holding the
    // leaf at offset m, collecting siblings; RFC order is bottom-up.
    let (mut lo, mut n, mut m) = (0, size, index);
    let mut proof = Vec::new();
    while n > 1 {
        let k = split(n);
        if m < k {
            proof.push(subtree_hash(src, lo + k, n - k).map_err(ProveError::Source)?);
            n = k;
        } else {
            proof.push(subtree_hash(src, lo, k).map_err(ProveError::Source)?);
            (lo, m, n) = (lo + k, m - k, n - k);
        }
    }
    proof.reverse();
    Ok(proof)
}

/// The consistency proof from the tree of `old` leaves to the tree of `new`
/// leaves: RFC 9162 §2.1.4.1 `PROOF(old, D[0:new])`. Empty when `old` is 0 or
/// equal to `new` (see [`verify_consistency`]).
///
/// Reads O(log new) complete nodes of the tree of `new` leaves.
pub fn consistency_proof<S: NodeSource + ?Sized>(
    src: &S,
    old: u64,
    new: u64,
) -> Result<Vec<TreeHash>, ProveError<S::Error>> {
    if old > new {
        return Err(ProveError::SizeOrder { old, new });
    }
    if old == 0 || old == new {
        return Ok(Vec::new());
    }
    // SUBPROOF(m, D[lo:lo + n], b), unrolled; RFC order is innermost first.
    let (mut lo, mut n, mut m, mut whole) = (0, new, old, true);
    let mut proof = Vec::new();
    while m != n {
        let k = split(n);
        if m <= k {
            proof.push(subtree_hash(src, lo + k, n - k).map_err(ProveError::Source)?);
            n = k;
        } else {
            proof.push(subtree_hash(src, lo, k).map_err(ProveError::Source)?);
            (lo, m, n, whole) = (lo + k, m - k, n - k, false);
        }
    }
    if !whole {
        proof.push(subtree_hash(src, lo, m).map_err(ProveError::Source)?);
    }
    proof.reverse();
    Ok(proof)
}

/// How many hashes `PATH(index, D[0:size])` has, for `index < size`.
fn inclusion_len(mut index: u64, mut size: u64) -> usize {
    let mut len = 0;
    while size > 1 {
        let k = split(size);
        if index < k {
            size = k;
        } else {
            (index, size) = (index - k, size - k);
        }
        len += 1;
    }
    len
}

/// How many hashes `PROOF(old, D[0:new])` has, for `0 < old < new`.
fn consistency_len(mut old: u64, mut new: u64) -> usize {
    let (mut len, mut whole) = (0, true);
    while old != new {
        let k = split(new);
        if old <= k {
            new = k;
        } else {
            (old, new, whole) = (old - k, new - k, false);
        }
        len += 1;
    }
    len + usize::from(!whole)
}

/// Checks that `leaf` is leaf `index` of the tree of `size` leaves with root
/// `root`, by RFC 9162 §2.1.3.2.
///
/// The caller MUST take `size` and `root` from a checkpoint it has verified.
pub fn verify_inclusion(
    leaf: &TreeHash,
    index: u64,
    size: u64,
    proof: &[TreeHash],
    root: &TreeHash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let expected = inclusion_len(index, size);
    let wrong_length = ProofError::WrongLength {
        expected,
        found: proof.len(),
    };
    if proof.len() != expected {
        return Err(wrong_length);
    }
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if snode == 0 {
            return Err(wrong_length);
        }
        if fnode & 1 == 1 || fnode == snode {
            r = TreeHash::node(p, &r);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            r = TreeHash::node(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(wrong_length);
    }
    if r != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Checks that the tree of `old_size` leaves with root `old_root` is a prefix
/// of the tree of `new_size` leaves with root `new_root`, by RFC 9162 §2.1.4.2.
///
/// Two cases RFC 9162 leaves out are defined here as RFC 6962 and Go's
/// `sumdb/tlog` do: equal sizes need an empty proof and equal roots; an old
/// size of 0 needs an empty proof and `old_root` equal to [`TreeHash::EMPTY`].
/// The caller MUST take both sizes and roots from checkpoints it has verified.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &TreeHash,
    new_root: &TreeHash,
    proof: &[TreeHash],
) -> Result<(), ProofError> {
    if old_size > new_size {
        return Err(ProofError::SizeOrder {
            old: old_size,
            new: new_size,
        });
    }
    if old_size == 0 || old_size == new_size {
        if !proof.is_empty() {
            return Err(ProofError::WrongLength {
                expected: 0,
                found: proof.len(),
            });
        }
        if old_size == 0 && *old_root != TreeHash::EMPTY {
            return Err(ProofError::OldRootMismatch);
        }
        if old_size == new_size && old_root != new_root {
            return Err(ProofError::NewRootMismatch);
        }
        return Ok(());
    }
    let expected = consistency_len(old_size, new_size);
    let wrong_length = ProofError::WrongLength {
        expected,
        found: proof.len(),
    };
    if proof.len() != expected {
        return Err(wrong_length);
    }
    // Step 2: a power-of-two old tree is a complete subtree, its root the
    // first hash of the path.
    let mut path = proof.iter();
    let first = if old_size.is_power_of_two() {
        *old_root
    } else {
        *path.next().ok_or_else(|| wrong_length.clone())?
    };
    let (mut fnode, mut snode) = (old_size - 1, new_size - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let (mut fr, mut sr) = (first, first);
    for c in path {
        if snode == 0 {
            return Err(wrong_length);
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = TreeHash::node(c, &fr);
            sr = TreeHash::node(c, &sr);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            sr = TreeHash::node(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(wrong_length);
    }
    if fr != *old_root {
        return Err(ProofError::OldRootMismatch);
    }
    if sr != *new_root {
        return Err(ProofError::NewRootMismatch);
    }
    Ok(())
}

/// A claim that a leaf is in a tree, as a ledger hands it out.
/// Nothing is checked until [`InclusionProof::verify`]; even then, the caller
/// MUST compare `tree_size` and `root_hash` with a verified checkpoint.
///
/// JSON form (hashes in standard base64, unknown fields refused):
///
/// ```json
/// {"seq":5,"tree_size":20,"leaf_hash":"…","root_hash":"…","proof":["…","…"]}
/// ```
///
/// Text form: these lines, in this order, each ending in one `\n`, the key and
/// value separated by one space, numbers in decimal without leading zeros, one
/// `proof` line per hash (none for a tree of one leaf):
///
/// ```text
/// seq 5
/// tree_size 20
/// leaf_hash <base64>
/// root_hash <base64>
/// proof <base64>
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InclusionProof {
    seq: u64,
    tree_size: u64,
    leaf_hash: TreeHash,
    root_hash: TreeHash,
    proof: Vec<TreeHash>,
}

impl InclusionProof {
    /// Computes the proof for entry `seq` in the tree of `tree_size` leaves
    /// stored in `src`.
    pub fn prove<S: NodeSource + ?Sized>(
        src: &S,
        seq: u64,
        tree_size: u64,
    ) -> Result<Self, ProveError<S::Error>> {
        let proof = inclusion_proof(src, seq, tree_size)?;
        Ok(InclusionProof {
            seq,
            tree_size,
            leaf_hash: src.node(0, seq).map_err(ProveError::Source)?,
            root_hash: tree_root(src, tree_size).map_err(ProveError::Source)?,
            proof,
        })
    }

    /// Assembles a claim from its parts, unchecked.
    pub fn new(
        seq: u64,
        tree_size: u64,
        leaf_hash: TreeHash,
        root_hash: TreeHash,
        proof: Vec<TreeHash>,
    ) -> Self {
        InclusionProof {
            seq,
            tree_size,
            leaf_hash,
            root_hash,
            proof,
        }
    }

    /// The leaf index (the entry's seq).
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The size of the tree the proof is for.
    pub fn tree_size(&self) -> u64 {
        self.tree_size
    }

    /// The leaf hash.
    pub fn leaf_hash(&self) -> &TreeHash {
        &self.leaf_hash
    }

    /// The root of the tree of `tree_size` leaves.
    pub fn root_hash(&self) -> &TreeHash {
        &self.root_hash
    }

    /// The proof hashes, in RFC 9162 order.
    pub fn proof(&self) -> &[TreeHash] {
        &self.proof
    }

    /// Checks that the proof leads from `leaf_hash` to `root_hash`.
    pub fn verify(&self) -> Result<(), ProofError> {
        verify_inclusion(
            &self.leaf_hash,
            self.seq,
            self.tree_size,
            &self.proof,
            &self.root_hash,
        )
    }

    /// Checks that `data` hashes to `leaf_hash`, then [`InclusionProof::verify`].
    pub fn verify_data(&self, data: &[u8]) -> Result<(), ProofError> {
        if TreeHash::leaf(data) != self.leaf_hash {
            return Err(ProofError::LeafMismatch);
        }
        self.verify()
    }

    /// The text form.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "seq {}\ntree_size {}\nleaf_hash {}\nroot_hash {}\n",
            self.seq, self.tree_size, self.leaf_hash, self.root_hash
        );
        push_proof_lines(&mut s, &self.proof);
        s
    }

    /// Parses the text form strictly.
    pub fn parse_text(text: &str) -> Result<Self, ProofError> {
        let mut r = TextReader::new(text)?;
        let seq = r.number("seq")?;
        let tree_size = r.number("tree_size")?;
        let leaf_hash = r.hash("leaf_hash")?;
        let root_hash = r.hash("root_hash")?;
        let proof = r.proof()?;
        Ok(InclusionProof {
            seq,
            tree_size,
            leaf_hash,
            root_hash,
            proof,
        })
    }
}

/// A claim that one tree is a prefix of another, as a ledger hands it out.
/// Nothing is checked until [`ConsistencyProof::verify`]; even then, the
/// caller MUST compare both sizes and roots with verified checkpoints.
///
/// JSON form (hashes in standard base64, unknown fields refused):
///
/// ```json
/// {"old_size":10,"new_size":20,"old_root":"…","new_root":"…","proof":["…"]}
/// ```
///
/// Text form, as for [`InclusionProof`]:
///
/// ```text
/// old_size 10
/// new_size 20
/// old_root <base64>
/// new_root <base64>
/// proof <base64>
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyProof {
    old_size: u64,
    new_size: u64,
    old_root: TreeHash,
    new_root: TreeHash,
    proof: Vec<TreeHash>,
}

impl ConsistencyProof {
    /// Computes the proof from the tree of `old_size` leaves to the tree of
    /// `new_size` leaves stored in `src`.
    pub fn prove<S: NodeSource + ?Sized>(
        src: &S,
        old_size: u64,
        new_size: u64,
    ) -> Result<Self, ProveError<S::Error>> {
        let proof = consistency_proof(src, old_size, new_size)?;
        Ok(ConsistencyProof {
            old_size,
            new_size,
            old_root: tree_root(src, old_size).map_err(ProveError::Source)?,
            new_root: tree_root(src, new_size).map_err(ProveError::Source)?,
            proof,
        })
    }

    /// Assembles a claim from its parts, unchecked.
    pub fn new(
        old_size: u64,
        new_size: u64,
        old_root: TreeHash,
        new_root: TreeHash,
        proof: Vec<TreeHash>,
    ) -> Self {
        ConsistencyProof {
            old_size,
            new_size,
            old_root,
            new_root,
            proof,
        }
    }

    /// The old tree size.
    pub fn old_size(&self) -> u64 {
        self.old_size
    }

    /// The new tree size.
    pub fn new_size(&self) -> u64 {
        self.new_size
    }

    /// The old root.
    pub fn old_root(&self) -> &TreeHash {
        &self.old_root
    }

    /// The new root.
    pub fn new_root(&self) -> &TreeHash {
        &self.new_root
    }

    /// The proof hashes, in RFC 9162 order.
    pub fn proof(&self) -> &[TreeHash] {
        &self.proof
    }

    /// Checks that the proof leads to both roots.
    pub fn verify(&self) -> Result<(), ProofError> {
        verify_consistency(
            self.old_size,
            self.new_size,
            &self.old_root,
            &self.new_root,
            &self.proof,
        )
    }

    /// The text form.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "old_size {}\nnew_size {}\nold_root {}\nnew_root {}\n",
            self.old_size, self.new_size, self.old_root, self.new_root
        );
        push_proof_lines(&mut s, &self.proof);
        s
    }

    /// Parses the text form strictly.
    pub fn parse_text(text: &str) -> Result<Self, ProofError> {
        let mut r = TextReader::new(text)?;
        let old_size = r.number("old_size")?;
        let new_size = r.number("new_size")?;
        let old_root = r.hash("old_root")?;
        let new_root = r.hash("new_root")?;
        let proof = r.proof()?;
        Ok(ConsistencyProof {
            old_size,
            new_size,
            old_root,
            new_root,
            proof,
        })
    }
}

fn push_proof_lines(s: &mut String, proof: &[TreeHash]) {
    for h in proof {
        s.push_str("proof ");
        s.push_str(&h.to_base64());
        s.push('\n');
    }
}

/// Parses ASCII decimal without sign, spaces or leading zeros (`0` alone is
/// fine) into a `u64`.
pub(crate) fn parse_decimal(s: &str) -> Option<u64> {
    let canonical =
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    if canonical {
        s.parse().ok()
    } else {
        None
    }
}

/// Reads `key value\n` lines in a fixed order.
struct TextReader<'a> {
    lines: std::iter::Peekable<std::str::Split<'a, char>>,
    number: usize,
}

impl<'a> TextReader<'a> {
    /// The longest text form accepted: four fixed lines and [`MAX_PROOF_LEN`]
    /// proof lines, none of which needs more than 64 bytes.
    const MAX_LEN: usize = (4 + MAX_PROOF_LEN) * 64;

    fn new(text: &'a str) -> Result<Self, ProofError> {
        if text.len() > Self::MAX_LEN {
            return Err(ProofError::Malformed(format!(
                "longer than {} bytes",
                Self::MAX_LEN
            )));
        }
        let body = text.strip_suffix('\n').ok_or_else(|| {
            ProofError::Malformed("the last line does not end in a newline".into())
        })?;
        Ok(TextReader {
            lines: body.split('\n').peekable(),
            number: 0,
        })
    }

    fn value(&mut self, key: &str) -> Result<&'a str, ProofError> {
        self.number += 1;
        let line = self.number;
        self.lines
            .next()
            .and_then(|l| l.strip_prefix(key)?.strip_prefix(' '))
            .ok_or_else(|| ProofError::Malformed(format!("line {line}: expected `{key} <value>`")))
    }

    fn number(&mut self, key: &str) -> Result<u64, ProofError> {
        let v = self.value(key)?;
        parse_decimal(v).ok_or_else(|| {
            ProofError::Malformed(format!(
                "line {}: {key} {v:?} is not a decimal number without leading zeros",
                self.number
            ))
        })
    }

    fn hash(&mut self, key: &str) -> Result<TreeHash, ProofError> {
        let v = self.value(key)?;
        TreeHash::from_base64(v).ok_or_else(|| {
            ProofError::Malformed(format!(
                "line {}: {key} is not standard base64 of 32 bytes",
                self.number
            ))
        })
    }

    /// The remaining lines, all `proof <base64>`.
    fn proof(&mut self) -> Result<Vec<TreeHash>, ProofError> {
        let mut proof = Vec::new();
        while self.lines.peek().is_some() {
            if proof.len() == MAX_PROOF_LEN {
                return Err(ProofError::Malformed(format!(
                    "more than {MAX_PROOF_LEN} proof lines"
                )));
            }
            proof.push(self.hash("proof")?);
        }
        Ok(proof)
    }
}

/// Why a [`MemoryTree`] refused a read or a write.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MemoryTreeError {
    /// The node is not stored (not complete in the tree so far).
    #[error("no node at level {level}, index {index}")]
    MissingNode {
        /// The node's level.
        level: u8,
        /// The node's index at its level.
        index: u64,
    },
    /// A write that is not the next node at its level.
    #[error("node at level {level}, index {index} is not the next one at its level")]
    OutOfOrder {
        /// The node's level.
        level: u8,
        /// The node's index at its level.
        index: u64,
    },
}

/// The right border of a tree (its compact range from leaf 0): the roots of
/// its complete subtrees, largest first, one per set bit of the size. It is
/// enough to append leaves and to compute the root without any stored node,
/// which is how a signer computes the root it signs from entries it has
/// verified itself (docs/TRANSPARENCY.md).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CompactRange {
    size: u64,
    hashes: Vec<TreeHash>,
}

impl CompactRange {
    /// The range of the empty tree.
    pub fn new() -> Self {
        CompactRange::default()
    }

    /// A range from its parts: `None` unless there is one hash per set bit
    /// of `size`.
    pub fn from_parts(size: u64, hashes: Vec<TreeHash>) -> Option<Self> {
        (hashes.len() == size.count_ones() as usize).then_some(CompactRange { size, hashes })
    }

    /// The number of leaves covered.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The subtree roots, largest (leftmost) first.
    pub fn hashes(&self) -> &[TreeHash] {
        &self.hashes
    }

    /// Appends a leaf hash (see [`TreeHash::leaf`]).
    pub fn push(&mut self, leaf: TreeHash) {
        self.push_with(leaf, |_, _, _| {});
    }

    /// Appends a leaf hash and hands every complete subtree it completes to
    /// `node(level, index, hash)`, the leaf itself first: exactly the nodes
    /// [`append_leaf`] stores.
    pub fn push_with(&mut self, leaf: TreeHash, mut node: impl FnMut(u8, u64, &TreeHash)) {
        let (mut level, mut index, mut hash) = (0u8, self.size, leaf);
        node(level, index, &hash);
        while index & 1 == 1 {
            // A set low bit means a complete subtree of that height to merge with.
            let left = self.hashes.pop().expect("one hash per set bit of the size");
            hash = TreeHash::node(&left, &hash);
            level += 1;
            index >>= 1;
            node(level, index, &hash);
        }
        self.hashes.push(hash);
        self.size += 1;
    }

    /// The RFC 9162 root of the covered leaves: the subtree roots folded from
    /// the right.
    pub fn root(&self) -> TreeHash {
        let mut it = self.hashes.iter().rev();
        match it.next() {
            None => TreeHash::EMPTY,
            Some(last) => it.fold(*last, |right, left| TreeHash::node(left, &right)),
        }
    }
}

/// A Merkle tree held in memory, level by level: for tests, vectors and
/// clients that rebuild a tree from an export.
#[derive(Debug, Clone, Default)]
pub struct MemoryTree {
    levels: Vec<Vec<TreeHash>>,
}

impl MemoryTree {
    /// The empty tree.
    pub fn new() -> Self {
        MemoryTree::default()
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// Appends the leaf for `data`.
    pub fn push(&mut self, data: &[u8]) {
        self.push_leaf_hash(TreeHash::leaf(data));
    }

    /// Appends a leaf hash.
    pub fn push_leaf_hash(&mut self, leaf: TreeHash) {
        let size = self.size();
        // append_leaf reads only nodes complete at `size`, which are all stored,
        // and writes each level's next node in order, so neither can fail.
        append_leaf(self, size, leaf).expect("a memory tree holds every complete node");
    }

    /// The root of the whole tree.
    pub fn root(&self) -> TreeHash {
        // Every complete node of the current size is stored.
        tree_root(self, self.size()).expect("a memory tree holds every complete node")
    }
}

impl NodeSource for MemoryTree {
    type Error = MemoryTreeError;

    fn node(&self, level: u8, index: u64) -> Result<TreeHash, MemoryTreeError> {
        self.levels
            .get(usize::from(level))
            .and_then(|l| l.get(usize::try_from(index).ok()?))
            .copied()
            .ok_or(MemoryTreeError::MissingNode { level, index })
    }
}

impl NodeSink for MemoryTree {
    fn put_node(&mut self, level: u8, index: u64, hash: TreeHash) -> Result<(), MemoryTreeError> {
        let l = usize::from(level);
        if self.levels.len() == l {
            self.levels.push(Vec::new());
        }
        match self.levels.get_mut(l) {
            Some(nodes) if nodes.len() as u64 == index => {
                nodes.push(hash);
                Ok(())
            }
            _ => Err(MemoryTreeError::OutOfOrder { level, index }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn leaf_data(i: u64) -> Vec<u8> {
        format!("leaf-{i}").into_bytes()
    }

    #[test]
    fn compact_range_root_equals_the_tree_root_at_every_size() {
        let mut range = CompactRange::new();
        let mut t = MemoryTree::new();
        assert_eq!(range.root(), t.root());
        for i in 0..600 {
            range.push(TreeHash::leaf(&leaf_data(i)));
            t.push(&leaf_data(i));
            assert_eq!(range.root(), t.root(), "size {}", i + 1);
            assert_eq!(range.hashes().len(), range.size().count_ones() as usize);
            let again = CompactRange::from_parts(range.size(), range.hashes().to_vec());
            assert_eq!(again.as_ref(), Some(&range));
        }
        assert!(CompactRange::from_parts(3, vec![TreeHash::EMPTY]).is_none());
    }

    fn tree(size: u64) -> MemoryTree {
        let mut t = MemoryTree::new();
        (0..size).for_each(|i| t.push(&leaf_data(i)));
        t
    }

    /// RFC 9162 §2.1.1 MTH, straight from the definition.
    fn naive_root(leaves: &[TreeHash]) -> TreeHash {
        match leaves.len() {
            0 => TreeHash::EMPTY,
            1 => leaves[0],
            n => {
                let k = split(n as u64) as usize;
                TreeHash::node(&naive_root(&leaves[..k]), &naive_root(&leaves[k..]))
            }
        }
    }

    /// RFC 9162 §2.1.3.1 PATH, straight from the definition.
    fn naive_path(m: usize, leaves: &[TreeHash]) -> Vec<TreeHash> {
        let n = leaves.len();
        if n == 1 {
            return Vec::new();
        }
        let k = split(n as u64) as usize;
        let (mut p, sibling) = if m < k {
            (naive_path(m, &leaves[..k]), naive_root(&leaves[k..]))
        } else {
            (naive_path(m - k, &leaves[k..]), naive_root(&leaves[..k]))
        };
        p.push(sibling);
        p
    }

    /// RFC 9162 §2.1.4.1 SUBPROOF, straight from the definition.
    fn naive_subproof(m: usize, leaves: &[TreeHash], whole: bool) -> Vec<TreeHash> {
        let n = leaves.len();
        if m == n {
            return if whole {
                Vec::new()
            } else {
                vec![naive_root(leaves)]
            };
        }
        let k = split(n as u64) as usize;
        let (mut p, h) = if m <= k {
            (
                naive_subproof(m, &leaves[..k], whole),
                naive_root(&leaves[k..]),
            )
        } else {
            (
                naive_subproof(m - k, &leaves[k..], false),
                naive_root(&leaves[..k]),
            )
        };
        p.push(h);
        p
    }

    fn leaf_hashes(size: u64) -> Vec<TreeHash> {
        (0..size).map(|i| TreeHash::leaf(&leaf_data(i))).collect()
    }

    /// Counts node reads, to check the O(log n) promise.
    struct Counting<'a>(&'a MemoryTree, std::cell::Cell<usize>);

    impl NodeSource for Counting<'_> {
        type Error = MemoryTreeError;
        fn node(&self, level: u8, index: u64) -> Result<TreeHash, MemoryTreeError> {
            self.1.set(self.1.get() + 1);
            self.0.node(level, index)
        }
    }

    /// The shape of the RFC 9162 §2.1.3.2 walk: for each proof hash, whether
    /// it is hashed on the left. Two (index, size) pairs with the same shape
    /// accept the same proofs.
    fn inclusion_shape(index: u64, size: u64) -> Vec<bool> {
        let (mut f, mut s) = (index, size - 1);
        let mut shape = Vec::new();
        while s > 0 {
            let left = f & 1 == 1 || f == s;
            shape.push(left);
            if left {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
            f >>= 1;
            s >>= 1;
        }
        shape
    }

    /// The shape of the RFC 9162 §2.1.4.2 walk, as for [`inclusion_shape`].
    fn consistency_shape(old: u64, new: u64) -> (bool, Vec<bool>) {
        let (mut f, mut s) = (old - 1, new - 1);
        while f & 1 == 1 {
            f >>= 1;
            s >>= 1;
        }
        let mut shape = Vec::new();
        while s > 0 {
            let both = f & 1 == 1 || f == s;
            shape.push(both);
            if both {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
            f >>= 1;
            s >>= 1;
        }
        (old.is_power_of_two(), shape)
    }

    fn flip(h: &TreeHash, bit: usize) -> TreeHash {
        let mut b = *h.as_bytes();
        b[bit / 8 % 32] ^= 1 << (bit % 8);
        TreeHash::from_bytes(b)
    }

    #[test]
    fn hashing_follows_rfc_9162() {
        assert_eq!(TreeHash::EMPTY.as_bytes()[..], Sha256::digest(b"")[..]);
        assert_eq!(
            TreeHash::leaf(b"x").as_bytes()[..],
            Sha256::digest(b"\x00x")[..]
        );
        let (a, b) = (TreeHash::leaf(b"a"), TreeHash::leaf(b"b"));
        let mut cat = vec![NODE_HASH_PREFIX];
        cat.extend_from_slice(a.as_bytes());
        cat.extend_from_slice(b.as_bytes());
        assert_eq!(
            TreeHash::node(&a, &b).as_bytes()[..],
            Sha256::digest(&cat)[..]
        );
        assert_eq!(MemoryTree::new().root(), TreeHash::EMPTY);
        assert_eq!(tree(1).root(), TreeHash::leaf(b"leaf-0"));
    }

    #[test]
    fn incremental_root_equals_naive_root_up_to_3000() {
        let mut t = MemoryTree::new();
        let mut leaves = Vec::new();
        for i in 0..3000 {
            t.push(&leaf_data(i));
            leaves.push(TreeHash::leaf(&leaf_data(i)));
            assert_eq!(t.root(), naive_root(&leaves), "size {}", i + 1);
        }
    }

    #[test]
    fn proofs_equal_the_rfc_definitions_up_to_64() {
        let t = tree(64);
        let all = leaf_hashes(64);
        for n in 1..=64u64 {
            let leaves = &all[..n as usize];
            assert_eq!(tree_root(&t, n).unwrap(), naive_root(leaves));
            for m in 0..n {
                assert_eq!(
                    inclusion_proof(&t, m, n).unwrap(),
                    naive_path(m as usize, leaves)
                );
            }
            for m in 1..n {
                let want = naive_subproof(m as usize, leaves, true);
                assert_eq!(consistency_proof(&t, m, n).unwrap(), want, "{m} -> {n}");
            }
        }
    }

    #[test]
    fn proofs_read_few_nodes() {
        let t = tree(5000);
        let c = Counting(&t, Default::default());
        for (index, size) in [(0, 5000), (4999, 5000), (2047, 4097), (1234, 3333)] {
            c.1.set(0);
            inclusion_proof(&c, index, size).unwrap();
            assert!(
                c.1.get() <= 2 * 13,
                "inclusion {index}/{size}: {} reads",
                c.1.get()
            );
        }
        for (old, new) in [(1, 5000), (4999, 5000), (2047, 4097), (1234, 3333)] {
            c.1.set(0);
            consistency_proof(&c, old, new).unwrap();
            assert!(
                c.1.get() <= 3 * 13,
                "consistency {old}/{new}: {} reads",
                c.1.get()
            );
        }
    }

    #[test]
    fn append_reads_and_writes_only_what_it_promises() {
        struct Log(MemoryTree, Vec<(u8, u64)>);
        impl NodeSource for Log {
            type Error = MemoryTreeError;
            fn node(&self, level: u8, index: u64) -> Result<TreeHash, MemoryTreeError> {
                self.0.node(level, index)
            }
        }
        impl NodeSink for Log {
            fn put_node(&mut self, l: u8, i: u64, h: TreeHash) -> Result<(), MemoryTreeError> {
                self.1.push((l, i));
                self.0.put_node(l, i, h)
            }
        }
        let mut log = Log(tree(7), Vec::new());
        append_leaf(&mut log, 7, TreeHash::leaf(b"leaf-7")).unwrap();
        assert_eq!(log.1, [(0, 7), (1, 3), (2, 1), (3, 0)]);
        assert_eq!(log.0.root(), tree(8).root());
        let mut t = tree(3);
        assert_eq!(
            append_leaf(&mut t, 5, TreeHash::EMPTY),
            Err(MemoryTreeError::OutOfOrder { level: 0, index: 5 })
        );
    }

    #[test]
    fn out_of_range_requests_are_refused() {
        let t = tree(5);
        assert!(matches!(
            inclusion_proof(&t, 5, 5),
            Err(ProveError::IndexOutOfRange { .. })
        ));
        assert!(matches!(
            consistency_proof(&t, 6, 5),
            Err(ProveError::SizeOrder { .. })
        ));
        assert!(matches!(
            inclusion_proof(&t, 0, 6),
            Err(ProveError::Source(_))
        ));
        assert_eq!(consistency_proof(&t, 0, 5).unwrap(), []);
        assert_eq!(consistency_proof(&t, 5, 5).unwrap(), []);
    }

    #[test]
    fn edge_cases_of_consistency() {
        let t = tree(5);
        let r5 = t.root();
        assert_eq!(verify_consistency(0, 5, &TreeHash::EMPTY, &r5, &[]), Ok(()));
        assert_eq!(
            verify_consistency(0, 5, &r5, &r5, &[]),
            Err(ProofError::OldRootMismatch)
        );
        assert_eq!(verify_consistency(5, 5, &r5, &r5, &[]), Ok(()));
        assert_eq!(
            verify_consistency(5, 5, &r5, &TreeHash::EMPTY, &[]),
            Err(ProofError::NewRootMismatch)
        );
        assert_eq!(
            verify_consistency(5, 5, &r5, &r5, &[r5]),
            Err(ProofError::WrongLength {
                expected: 0,
                found: 1
            })
        );
        assert_eq!(
            verify_consistency(6, 5, &r5, &r5, &[]),
            Err(ProofError::SizeOrder { old: 6, new: 5 })
        );
        assert_eq!(
            verify_inclusion(&r5, 5, 5, &[], &r5),
            Err(ProofError::IndexOutOfRange { index: 5, size: 5 })
        );
    }

    #[test]
    fn size_is_not_authenticated_by_the_proof() {
        // docs/TRANSPARENCY.md section 3: leaf 0 of 3 leaves, checked as leaf 0 of 4.
        let t = tree(3);
        let p = inclusion_proof(&t, 0, 3).unwrap();
        let leaf = TreeHash::leaf(b"leaf-0");
        assert_eq!(verify_inclusion(&leaf, 0, 4, &p, &t.root()), Ok(()));
    }

    #[test]
    fn documented_text_examples_verify() {
        // The examples of docs/TRANSPARENCY.md section 3 (leaves leaf-0..leaf-2).
        let inclusion = "seq 2\ntree_size 3\n\
                         leaf_hash /KifV8n4yOtAR6f/nTM6z54PM4SyCyVbzqsPIW3Momc=\n\
                         root_hash z3Y6BByBzu8VeKYIP3XGG+8uABTyo+aDqX/Pylvn8Zo=\n\
                         proof YKU+7Q3oepDI5ZQnxZxGJTwzp2oJUCpRgBMAknt+a9w=\n";
        let p = InclusionProof::parse_text(inclusion).unwrap();
        assert_eq!(p, InclusionProof::prove(&tree(3), 2, 3).unwrap());
        p.verify_data(b"leaf-2").unwrap();
        let consistency = "old_size 2\nnew_size 3\n\
                           old_root YKU+7Q3oepDI5ZQnxZxGJTwzp2oJUCpRgBMAknt+a9w=\n\
                           new_root z3Y6BByBzu8VeKYIP3XGG+8uABTyo+aDqX/Pylvn8Zo=\n\
                           proof /KifV8n4yOtAR6f/nTM6z54PM4SyCyVbzqsPIW3Momc=\n";
        let c = ConsistencyProof::parse_text(consistency).unwrap();
        assert_eq!(c, ConsistencyProof::prove(&tree(3), 2, 3).unwrap());
        c.verify().unwrap();
    }

    #[test]
    fn text_forms_are_strict() {
        let t = tree(20);
        let p = InclusionProof::prove(&t, 5, 20).unwrap();
        let text = p.to_text();
        assert!(text.starts_with("seq 5\ntree_size 20\nleaf_hash "));
        assert_eq!(InclusionProof::parse_text(&text).unwrap(), p);
        let c = ConsistencyProof::prove(&t, 7, 20).unwrap();
        assert_eq!(ConsistencyProof::parse_text(&c.to_text()).unwrap(), c);
        let bad = [
            text.trim_end().to_string(),
            text.replace("seq 5", "seq 05"),
            text.replace("seq 5", "seq  5"),
            text.replace("seq 5", "seq +5"),
            text.replace("seq 5\n", "seq 5\r\n"),
            text.replace("tree_size", "size"),
            text.replace("seq 5\ntree_size 20\n", "tree_size 20\nseq 5\n"),
            format!("{text}\n"),
            format!("{text}extra 1\n"),
            text.replacen('=', "", 1),
            text.replacen("proof ", "proof  ", 1),
        ];
        for b in bad {
            assert!(InclusionProof::parse_text(&b).is_err(), "{b:?}");
        }
        assert!(ConsistencyProof::parse_text(&text).is_err());
        let too_long = ConsistencyProof::new(1, 2, p.root_hash, p.root_hash, vec![p.root_hash; 66]);
        assert!(ConsistencyProof::parse_text(&too_long.to_text()).is_err());
    }

    #[test]
    fn json_forms() {
        let t = tree(3);
        let p = InclusionProof::prove(&t, 2, 3).unwrap();
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(
            json,
            format!(
                r#"{{"seq":2,"tree_size":3,"leaf_hash":"{}","root_hash":"{}","proof":["{}"]}}"#,
                TreeHash::leaf(b"leaf-2"),
                t.root(),
                tree_root(&t, 2).unwrap()
            )
        );
        assert_eq!(serde_json::from_str::<InclusionProof>(&json).unwrap(), p);
        p.verify_data(b"leaf-2").unwrap();
        assert_eq!(p.verify_data(b"leaf-1"), Err(ProofError::LeafMismatch));
        let extra = json.replace("{\"seq\"", "{\"x\":1,\"seq\"");
        assert!(serde_json::from_str::<InclusionProof>(&extra).is_err());
        let short = json.replace('=', "");
        assert!(serde_json::from_str::<InclusionProof>(&short).is_err());
        let c = ConsistencyProof::prove(&t, 1, 3).unwrap();
        let back: ConsistencyProof =
            serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        back.verify().unwrap();
    }

    #[test]
    fn decimal_is_canonical() {
        assert_eq!(parse_decimal("0"), Some(0));
        assert_eq!(parse_decimal("18446744073709551615"), Some(u64::MAX));
        for bad in [
            "",
            "00",
            "01",
            "+1",
            "-1",
            " 1",
            "1 ",
            "18446744073709551616",
            "1e3",
        ] {
            assert_eq!(parse_decimal(bad), None, "{bad:?}");
        }
    }

    /// fixtures/vectors/merkle.json: see docs/TRANSPARENCY.md. Leaf `i` is the
    /// ASCII bytes `leaf-<i>` (no terminator), for i in 0..20.
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Vectors {
        description: String,
        leaves: Vec<String>,
        leaf_hashes: Vec<TreeHash>,
        roots: Vec<RootVector>,
        inclusion: Vec<InclusionVector>,
        consistency: Vec<ConsistencyVector>,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RootVector {
        size: u64,
        root: TreeHash,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct InclusionVector {
        index: u64,
        size: u64,
        proof: Vec<TreeHash>,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct ConsistencyVector {
        old_size: u64,
        new_size: u64,
        proof: Vec<TreeHash>,
    }

    const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/vectors/merkle.json");
    const VECTOR_LEAVES: u64 = 20;

    fn generate_vectors() -> Vectors {
        let t = tree(VECTOR_LEAVES);
        let sizes = 1..=VECTOR_LEAVES;
        Vectors {
            description: "RFC 6962 / RFC 9162 Merkle tree vectors (SHA-256). Leaf i is the ASCII \
                          bytes \"leaf-<i>\" (no terminator); leaf_hashes[i] = SHA-256(0x00 || leaf i). \
                          Hashes are standard base64. Proofs are in RFC 9162 order. Generated by \
                          src/merkle.rs tests::merkle_vectors_are_current \
                          (UPDATE_VECTORS=1 cargo test --lib merkle_vectors)."
                .into(),
            leaves: (0..VECTOR_LEAVES).map(|i| format!("leaf-{i}")).collect(),
            leaf_hashes: leaf_hashes(VECTOR_LEAVES),
            roots: sizes.clone().map(|size| RootVector { size, root: tree_root(&t, size).unwrap() }).collect(),
            inclusion: sizes
                .clone()
                .flat_map(|size| (0..size).map(move |index| (index, size)))
                .map(|(index, size)| InclusionVector {
                    index,
                    size,
                    proof: inclusion_proof(&t, index, size).unwrap(),
                })
                .collect(),
            consistency: sizes
                .flat_map(|new| (1..new).map(move |old| (old, new)))
                .map(|(old_size, new_size)| ConsistencyVector {
                    old_size,
                    new_size,
                    proof: consistency_proof(&t, old_size, new_size).unwrap(),
                })
                .collect(),
        }
    }

    /// Regenerates fixtures/vectors/merkle.json when UPDATE_VECTORS
    /// is set; otherwise checks that it is what this code computes.
    #[test]
    fn merkle_vectors_are_current() {
        let want = serde_json::to_string_pretty(&generate_vectors()).unwrap() + "\n";
        if std::env::var_os("UPDATE_VECTORS").is_some() {
            std::fs::create_dir_all(std::path::Path::new(VECTORS).parent().unwrap()).unwrap();
            std::fs::write(VECTORS, &want).unwrap();
        }
        let have = std::fs::read_to_string(VECTORS).unwrap();
        assert!(
            have == want,
            "{VECTORS} is stale: rerun with UPDATE_VECTORS=1"
        );
    }

    /// Every vector in the file verifies with the verification functions
    /// alone, and the roots equal the naive MTH of the documented leaves.
    #[test]
    fn merkle_vectors_verify() {
        let v: Vectors = serde_json::from_str(&std::fs::read_to_string(VECTORS).unwrap()).unwrap();
        let leaves: Vec<TreeHash> = v
            .leaves
            .iter()
            .map(|l| TreeHash::leaf(l.as_bytes()))
            .collect();
        assert_eq!(leaves, v.leaf_hashes);
        assert_eq!(v.roots.len(), 20);
        let root_of = |size: u64| v.roots.iter().find(|r| r.size == size).unwrap().root;
        for r in &v.roots {
            assert_eq!(r.root, naive_root(&leaves[..r.size as usize]));
        }
        assert_eq!(v.inclusion.len(), 210);
        for p in &v.inclusion {
            let leaf = &leaves[p.index as usize];
            verify_inclusion(leaf, p.index, p.size, &p.proof, &root_of(p.size)).unwrap();
        }
        assert_eq!(v.consistency.len(), 190);
        for p in &v.consistency {
            let (old, new) = (root_of(p.old_size), root_of(p.new_size));
            verify_consistency(p.old_size, p.new_size, &old, &new, &p.proof).unwrap();
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn inclusion_proofs_verify_and_bind(
            size in 1u64..=300,
            index_seed: u64,
            other_seed: u64,
            bit in 0usize..256,
            which: usize,
        ) {
            let t = tree(size);
            let index = index_seed % size;
            let p = InclusionProof::prove(&t, index, size).unwrap();
            prop_assert_eq!(p.verify(), Ok(()));
            prop_assert_eq!(p.verify_data(&leaf_data(index)), Ok(()));
            let (leaf, root) = (p.leaf_hash, p.root_hash);
            prop_assert!(verify_inclusion(&flip(&leaf, bit), index, size, &p.proof, &root).is_err());
            prop_assert!(verify_inclusion(&leaf, index, size, &p.proof, &flip(&root, bit)).is_err());
            if !p.proof.is_empty() {
                let mut bad = p.proof.clone();
                let i = which % bad.len();
                bad[i] = flip(&bad[i], bit);
                prop_assert!(verify_inclusion(&leaf, index, size, &bad, &root).is_err());
                bad = p.proof.clone();
                bad.pop();
                prop_assert!(verify_inclusion(&leaf, index, size, &bad, &root).is_err());
            }
            let mut longer = p.proof.clone();
            longer.push(root);
            prop_assert!(verify_inclusion(&leaf, index, size, &longer, &root).is_err());
            // Another index or size verifies only if its walk has the same
            // shape (which is why the size must come from a checkpoint).
            let other_size = 1 + other_seed % 300;
            let other_index = other_seed % size;
            for (i, n) in [(other_index, size), (index, other_size)] {
                if (i, n) == (index, size) {
                    continue;
                }
                let ok = verify_inclusion(&leaf, i, n, &p.proof, &root).is_ok();
                let same = i < n && inclusion_shape(i, n) == inclusion_shape(index, size);
                prop_assert_eq!(ok, same, "index {} size {} vs {} {}", i, n, index, size);
                if i != index {
                    prop_assert!(!ok);
                }
            }
        }

        #[test]
        fn consistency_proofs_verify_and_bind(
            new in 1u64..=300,
            old_seed: u64,
            other_seed: u64,
            bit in 0usize..256,
            which: usize,
        ) {
            let t = tree(new);
            let old = 1 + old_seed % new;
            let c = ConsistencyProof::prove(&t, old, new).unwrap();
            prop_assert_eq!(c.verify(), Ok(()));
            let (r1, r2, p) = (c.old_root, c.new_root, &c.proof);
            prop_assert!(verify_consistency(old, new, &flip(&r1, bit), &r2, p).is_err());
            prop_assert!(verify_consistency(old, new, &r1, &flip(&r2, bit), p).is_err());
            if !p.is_empty() {
                let mut bad = p.clone();
                let i = which % bad.len();
                bad[i] = flip(&bad[i], bit);
                prop_assert!(verify_consistency(old, new, &r1, &r2, &bad).is_err());
                bad = p.clone();
                bad.pop();
                prop_assert!(verify_consistency(old, new, &r1, &r2, &bad).is_err());
            }
            // Another pair of sizes verifies only if its walk has the same shape.
            let other = 1 + other_seed % 300;
            for (m, n) in [(other, new), (old, other)] {
                if (m, n) == (old, new) || m > n {
                    continue;
                }
                let ok = verify_consistency(m, n, &r1, &r2, p).is_ok();
                let same = m < n && old < new && consistency_shape(m, n) == consistency_shape(old, new);
                prop_assert_eq!(ok, same, "{}->{} vs {}->{}", m, n, old, new);
            }
        }

        #[test]
        fn text_forms_round_trip(size in 1u64..=300, seed: u64) {
            let t = tree(size);
            let p = InclusionProof::prove(&t, seed % size, size).unwrap();
            prop_assert_eq!(InclusionProof::parse_text(&p.to_text()).unwrap(), p);
            let c = ConsistencyProof::prove(&t, seed % (size + 1), size).unwrap();
            prop_assert_eq!(ConsistencyProof::parse_text(&c.to_text()).unwrap(), c);
        }
    }
}
