//! Ledger entries: the signed, hash-chained records of the log.
//!
//! Wire layout of an entry (bincode, see [`crate::encoding`]), in order:
//!
//! ```text
//! seq          u64 LE          0-based position in the log
//! prev_hash    [u8; 32]        hash of entry seq-1; 32 zero bytes for seq 0
//! recorded_at  i64 LE          microseconds since 1970-01-01T00:00:00Z (UTC)
//! signer       [u8; 32]        the signing authority's ed25519 public key
//! body         Event           u32 LE variant index, then its fields
//! signature    [u8; 64]        ed25519 over SIGNATURE_CONTEXT || ledger_id || (all bytes above)
//! ```
//!
//! - `ledger_id` is the hash of the genesis entry (seq 0); while signing the
//!   genesis entry itself it is 32 zero bytes. Every signature thus binds its
//!   entry to one ledger: an entry copied into another ledger fails.
//! - The entry hash is `blake3(ENTRY_HASH_CONTEXT || entry bytes)`, over all the
//!   bytes above including the signature.
//!
//! Types say what has been checked: an [`Entry`] was decoded canonically; a
//! [`SignedEntry`] also carries a signature that verifies under its signer's key
//! for a given ledger. Whether the signer was authorised, and whether the entry
//! links to its predecessor, is checked by [`crate::LedgerState`].

use std::fmt;

use bincode::{Decode, Encode};

use crate::encoding::{self, EncodingError};
use crate::event::Event;
use crate::keys::{PublicKey, SecretKey};
use crate::time::Timestamp;

/// Domain separation for entry signatures (32 bytes, ASCII, no terminator).
pub const SIGNATURE_CONTEXT: &[u8; 32] = b"access-ledger/v1 entry signature";
/// Domain separation for entry hashes (27 bytes, ASCII, no terminator).
pub const ENTRY_HASH_CONTEXT: &[u8; 27] = b"access-ledger/v1 entry hash";
/// Length of the trailing signature field.
pub const SIGNATURE_LEN: usize = 64;
/// Where `recorded_at` starts in an entry's bytes: after `seq` (8 bytes) and
/// `prev_hash` (32).
const RECORDED_AT_OFFSET: usize = 8 + 32;

/// A 32-byte blake3 hash of an entry. Shown as lowercase hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Encode, Decode)]
pub struct EntryHash(pub [u8; 32]);

impl EntryHash {
    /// All zeros: the `prev_hash` of seq 0 and the ledger id while signing genesis.
    pub const ZERO: EntryHash = EntryHash([0; 32]);

    /// Hashes entry bytes.
    pub fn of_entry_bytes(bytes: &[u8]) -> EntryHash {
        let mut h = blake3::Hasher::new();
        h.update(ENTRY_HASH_CONTEXT);
        h.update(bytes);
        EntryHash(*h.finalize().as_bytes())
    }

    /// Lowercase hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 64 hex digits.
    pub fn from_hex(s: &str) -> Option<EntryHash> {
        let v = hex::decode(s).ok()?;
        Some(EntryHash(v.try_into().ok()?))
    }
}

impl fmt::Debug for EntryHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EntryHash({})", self.to_hex())
    }
}

impl fmt::Display for EntryHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

#[derive(Encode, Decode)]
struct Wire {
    seq: u64,
    prev_hash: EntryHash,
    recorded_at: Timestamp,
    signer: PublicKey,
    body: Event,
    signature: [u8; 64],
}

/// An entry decoded from its canonical bytes. Its signature is not yet checked.
#[derive(Clone, PartialEq, Eq)]
pub struct Entry {
    seq: u64,
    prev_hash: EntryHash,
    recorded_at: Timestamp,
    signer: PublicKey,
    body: Event,
    signature: [u8; 64],
    bytes: Vec<u8>,
    hash: EntryHash,
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("seq", &self.seq)
            .field("recorded_at", &self.recorded_at)
            .field("body", &self.body)
            .field("hash", &self.hash)
            .finish()
    }
}

impl Entry {
    /// Decodes an entry from exactly its canonical bytes (see the module docs).
    pub fn decode(bytes: &[u8]) -> Result<Entry, EncodingError> {
        let w: Wire = encoding::decode(bytes)?;
        Ok(Entry {
            seq: w.seq,
            prev_hash: w.prev_hash,
            recorded_at: w.recorded_at,
            signer: w.signer,
            body: w.body,
            signature: w.signature,
            hash: EntryHash::of_entry_bytes(bytes),
            bytes: bytes.to_vec(),
        })
    }

    /// Builds and signs a new entry. The caller still has to check it against
    /// the ledger's rules before appending it.
    pub fn sign(
        seq: u64,
        prev_hash: EntryHash,
        recorded_at: Timestamp,
        body: Event,
        key: &SecretKey,
        ledger_id: &EntryHash,
    ) -> SignedEntry {
        let mut w = Wire {
            seq,
            prev_hash,
            recorded_at,
            signer: key.public(),
            body,
            signature: [0; 64],
        };
        let unsigned = encoding::encode(&w);
        let msg = signature_message(ledger_id, &unsigned[..unsigned.len() - SIGNATURE_LEN]);
        w.signature = key.sign(&msg);
        let bytes = encoding::encode(&w);
        let hash = EntryHash::of_entry_bytes(&bytes);
        SignedEntry(Entry {
            seq,
            prev_hash,
            recorded_at,
            signer: w.signer,
            body: w.body,
            signature: w.signature,
            bytes,
            hash,
        })
    }

    /// Checks the signature for the ledger `ledger_id` (zeros for a genesis entry).
    pub fn verify_signature(self, ledger_id: &EntryHash) -> Result<SignedEntry, BadSignature> {
        let msg = signature_message(ledger_id, &self.bytes[..self.bytes.len() - SIGNATURE_LEN]);
        if self.signer.verify(&msg, &self.signature) {
            Ok(SignedEntry(self))
        } else {
            Err(BadSignature { seq: self.seq })
        }
    }

    /// Position in the log.
    pub fn seq(&self) -> u64 {
        self.seq
    }
    /// Hash of the previous entry.
    pub fn prev_hash(&self) -> &EntryHash {
        &self.prev_hash
    }
    /// When the ledger recorded it (knowledge time).
    pub fn recorded_at(&self) -> Timestamp {
        self.recorded_at
    }

    /// The `recorded_at` field of the entry encoded in `bytes`, read at its
    /// fixed offset (after `seq` and `prev_hash`) without decoding the rest;
    /// `None` if `bytes` is too short. Only for stored entries, which were
    /// decoded strictly when admitted (`verify` decodes them again).
    pub fn recorded_at_in(bytes: &[u8]) -> Option<Timestamp> {
        let field = bytes.get(RECORDED_AT_OFFSET..RECORDED_AT_OFFSET + 8)?;
        Some(Timestamp::from_micros(i64::from_le_bytes(
            field.try_into().ok()?,
        )))
    }
    /// The signing key.
    pub fn signer(&self) -> &PublicKey {
        &self.signer
    }
    /// The event.
    pub fn body(&self) -> &Event {
        &self.body
    }
    /// The 64-byte signature.
    pub fn signature(&self) -> &[u8; 64] {
        &self.signature
    }
    /// The exact stored bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
    /// The entry hash.
    pub fn hash(&self) -> &EntryHash {
        &self.hash
    }
}

/// An entry's signature does not verify for the ledger it was checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("seq {seq}: signature does not verify")]
pub struct BadSignature {
    /// The entry's seq.
    pub seq: u64,
}

/// The message an entry signature covers.
fn signature_message(ledger_id: &EntryHash, unsigned: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(SIGNATURE_CONTEXT.len() + 32 + unsigned.len());
    m.extend_from_slice(SIGNATURE_CONTEXT);
    m.extend_from_slice(&ledger_id.0);
    m.extend_from_slice(unsigned);
    m
}

/// An entry whose signature verifies under its signer's key for one ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedEntry(Entry);

impl SignedEntry {
    /// The entry.
    pub fn entry(&self) -> &Entry {
        &self.0
    }

    /// Treats an entry the store already holds as signed without checking its
    /// signature. Only for rebuilding *derived* data (the rules state read at
    /// open, after the latest snapshot) that is itself unauthenticated: the
    /// caller MUST NOT let a signature, a `verify` verdict or a trusted head
    /// rest on the result unless the entries it covers were checked by other
    /// means (src/ledger/trust.rs).
    pub(crate) fn assume_stored(entry: Entry) -> SignedEntry {
        SignedEntry(entry)
    }
}

impl std::ops::Deref for SignedEntry {
    type Target = Entry;
    fn deref(&self) -> &Entry {
        &self.0
    }
}
