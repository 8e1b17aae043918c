//! Keys: ed25519 public and signing keys.
//!
//! - [`PublicKey`]: 32 raw bytes, checked to be a valid, non-weak point.
//! - [`SecretKey`]: a named signing key; the key bytes are zeroized on drop.
//!
//! The layers above: `note` gives named public keys their text forms
//! (verifier and cosigner keys), and `keyfile` keeps a signing key on disk as
//! a self-describing text file naming its public half in that form.

use std::fmt;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use bincode::de::{BorrowDecoder, Decoder};
use bincode::enc::Encoder;
use bincode::error::{DecodeError, EncodeError};
use bincode::{BorrowDecode, Decode, Encode};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};

use crate::ident::AuthorityName;

/// Why a key could not be read, written or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The key file could not be read or written.
    #[error("key file {path}: {source}")]
    Io {
        /// Which file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The key file exists already (keygen never overwrites).
    #[error("key file {0} exists already; choose another --out or remove it first")]
    Exists(PathBuf),
    /// Other users may read the private key file.
    #[error("private key file {path} is readable by other users (mode {mode:o}); run `chmod 600 {path}`")]
    Permissive {
        /// Which file.
        path: PathBuf,
        /// Its mode bits.
        mode: u32,
    },
    /// The file is not a PKCS#8 PEM ed25519 private key.
    #[error("key file {0} is not an ed25519 private key in PKCS#8 PEM form (as written by `access-ledger keygen`)")]
    Malformed(PathBuf),
    /// The key file names no authority (`# name:` line).
    #[error("key file {0} has no `# name:` line naming its authority")]
    NoName(PathBuf),
    /// A public key is not a valid, non-weak ed25519 point in its canonical encoding.
    #[error("invalid public key: not a valid ed25519 point in canonical form, or a weak (small-order) one")]
    BadPublicKey,
    /// A verifier or cosigner key text is not of the form
    /// `name+hexkeyid+base64key` of its signature type (see `NoteKey::parse`).
    #[error("invalid verifier key {0:?}: expected name+hexkeyid+base64key (as printed by `access-ledger keygen`)")]
    BadVerifierKey(String),
    /// A verifier or cosigner key's key id does not match its name and key.
    #[error("verifier key {0:?}: key id does not match the name and key")]
    KeyIdMismatch(String),
    /// The key file is inside a ledger directory.
    #[error("refusing to write a private key inside the ledger directory {0}: private keys never enter a ledger")]
    InsideLedger(PathBuf),
}

/// An ed25519 public key that decompresses to a point of large order.
///
/// Wire form: the 32 bytes of the compressed point (RFC 8032), no length prefix.
/// JSON form: standard base64.
///
/// The decompressed point is kept beside the bytes, so verifying many
/// signatures by one key decompresses it once.
#[derive(Clone, Copy)]
pub struct PublicKey {
    bytes: [u8; 32],
    point: VerifyingKey,
}

thread_local! {
    /// The last keys [`PublicKey::from_bytes`] accepted on this thread: a log
    /// is signed by a handful of authorities, and decoding each entry would
    /// otherwise decompress its signer's key again (about a fifth of the
    /// cost of verifying its signature). Only accepted keys are kept, and
    /// a key is a pure function of its bytes.
    static RECENT_KEYS: std::cell::Cell<[Option<PublicKey>; 4]> =
        const { std::cell::Cell::new([None; 4]) };
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}

impl Eq for PublicKey {}

impl std::hash::Hash for PublicKey {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.bytes.hash(h)
    }
}

impl PartialOrd for PublicKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for PublicKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.bytes.cmp(&other.bytes)
    }
}

impl PublicKey {
    /// Checks the bytes and wraps them.
    pub fn from_bytes(bytes: [u8; 32]) -> Result<Self, KeyError> {
        // y must be below p = 2^255 - 19: otherwise the same point has a
        // second encoding, and one key two byte strings.
        let y_at_least_p =
            bytes[31] & 0x7f == 0x7f && bytes[1..31].iter().all(|&b| b == 0xff) && bytes[0] >= 0xed;
        if y_at_least_p {
            return Err(KeyError::BadPublicKey);
        }
        if let Some(known) =
            RECENT_KEYS.with(|r| r.get().into_iter().flatten().find(|k| k.bytes == bytes))
        {
            return Ok(known);
        }
        let point = VerifyingKey::from_bytes(&bytes).map_err(|_| KeyError::BadPublicKey)?;
        if point.is_weak() {
            return Err(KeyError::BadPublicKey);
        }
        let key = PublicKey { bytes, point };
        RECENT_KEYS.with(|r| {
            let mut keys = r.get();
            keys.rotate_right(1);
            keys[0] = Some(key);
            r.set(keys);
        });
        Ok(key)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.bytes
    }

    /// Verifies `sig` over `msg` with RFC 8032's strict rules (`verify_strict`:
    /// canonical `S`, no small-order `R` or key).
    pub fn verify(&self, msg: &[u8], sig: &[u8; 64]) -> bool {
        self.point
            .verify_strict(msg, &Signature::from_bytes(sig))
            .is_ok()
    }

    /// Standard base64 of the 32 bytes.
    pub fn to_base64(&self) -> String {
        B64.encode(self.bytes)
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_base64())
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_base64())
    }
}

impl Encode for PublicKey {
    fn encode<E: Encoder>(&self, e: &mut E) -> Result<(), EncodeError> {
        self.bytes.encode(e)
    }
}

impl<C> Decode<C> for PublicKey {
    fn decode<D: Decoder<Context = C>>(d: &mut D) -> Result<Self, DecodeError> {
        let b = <[u8; 32]>::decode(d)?;
        PublicKey::from_bytes(b).map_err(|e| DecodeError::OtherString(e.to_string()))
    }
}

impl<'de, C> BorrowDecode<'de, C> for PublicKey {
    fn borrow_decode<D: BorrowDecoder<'de, Context = C>>(d: &mut D) -> Result<Self, DecodeError> {
        <Self as Decode<C>>::decode(d)
    }
}

impl serde::Serialize for PublicKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_base64())
    }
}

impl<'de> serde::Deserialize<'de> for PublicKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let v = B64.decode(s.as_bytes()).map_err(serde::de::Error::custom)?;
        let b: [u8; 32] = v
            .try_into()
            .map_err(|_| serde::de::Error::custom("a public key is 32 bytes"))?;
        PublicKey::from_bytes(b).map_err(serde::de::Error::custom)
    }
}

/// A named ed25519 signing key. The secret is zeroized when dropped and never
/// printed (its `Debug` shows only the public half).
pub struct SecretKey {
    name: AuthorityName,
    key: SigningKey,
    /// The key file it was read from, if any: its holder keeps trusted
    /// heads beside it (src/head.rs). A key made in memory has none, and
    /// then verifies the whole log at its first signing in each process.
    file: Option<PathBuf>,
}

impl SecretKey {
    /// A fresh key from the operating system's random number generator.
    pub fn generate(name: AuthorityName) -> Self {
        SecretKey {
            name,
            key: SigningKey::generate(&mut rand_core::OsRng),
            file: None,
        }
    }

    /// A key from a fixed 32-byte seed. Deterministic: for test vectors and the
    /// clearly labelled TEST-ONLY keys of the fixtures, never for real use.
    pub fn from_seed(name: AuthorityName, seed: &[u8; 32]) -> Self {
        SecretKey {
            name,
            key: SigningKey::from_bytes(seed),
            file: None,
        }
    }

    /// The same secret under another name (the name an authority holds in a
    /// ledger may differ from the one in its key file).
    pub fn from_secret_named(other: &SecretKey, name: AuthorityName) -> Self {
        SecretKey {
            name,
            key: other.key.clone(),
            file: other.file.clone(),
        }
    }

    /// The authority name the key was made for.
    pub fn name(&self) -> &AuthorityName {
        &self.name
    }

    /// The public half.
    pub fn public(&self) -> PublicKey {
        let point = self.key.verifying_key();
        PublicKey {
            bytes: point.to_bytes(),
            point,
        }
    }

    /// The key file this key was read from, if any.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// The ed25519 signing key (for the key file format, `keyfile`).
    pub(crate) fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    /// A key from its parts (for the key file format, `keyfile`).
    pub(crate) fn from_parts(name: AuthorityName, key: SigningKey, file: Option<PathBuf>) -> Self {
        SecretKey { name, key, file }
    }

    /// Signs `msg` (deterministic ed25519, RFC 8032).
    pub fn sign(&self, msg: &[u8]) -> [u8; 64] {
        self.key.sign(msg).to_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
    use ed25519_dalek::pkcs8::EncodePrivateKey;
    use std::fs;

    #[test]
    fn key_file_round_trip_and_mode() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k.pem");
        let sk = SecretKey::generate(AuthorityName::new("a").unwrap());
        sk.write_new(&p).unwrap();
        let back = SecretKey::read(&p).unwrap();
        assert_eq!(back.public(), sk.public());
        assert!(matches!(sk.write_new(&p), Err(KeyError::Exists(_))));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
            assert!(matches!(
                SecretKey::read(&p),
                Err(KeyError::Permissive { .. })
            ));
        }
    }

    /// Files are PKCS#8 v1 (no public key); files written as v2 by earlier
    /// versions still load, to the same key.
    #[test]
    fn key_files_are_pkcs8_v1_and_v2_files_still_load() {
        let sk = SecretKey::from_seed(AuthorityName::new("a").unwrap(), &[7; 32]);
        let text = sk.to_file_text("2026-01-01T00:00:00Z");
        let pem = &text[text.find("-----BEGIN").unwrap()..];
        let (label, der) =
            ed25519_dalek::pkcs8::spki::der::pem::decode_vec(pem.as_bytes()).unwrap();
        assert_eq!(label, "PRIVATE KEY");
        // SEQUENCE { INTEGER 0, AlgorithmIdentifier { 1.3.101.112 }, OCTET STRING { OCTET STRING seed } }
        let mut expected = hex::decode("302e020100300506032b657004220420").unwrap();
        expected.extend_from_slice(&[7; 32]);
        assert_eq!(der, expected);
        let back = SecretKey::parse_file_text(&text, Path::new("k")).unwrap();
        assert_eq!(back.public(), sk.public());

        let v2 = sk.key.to_pkcs8_pem(LineEnding::LF).unwrap();
        let old = format!("# name: a\n{}", v2.as_str());
        assert!(old.contains("-----BEGIN PRIVATE KEY-----"));
        let back = SecretKey::parse_file_text(&old, Path::new("k")).unwrap();
        assert_eq!(back.public(), sk.public());
    }

    /// The keys kept by `from_bytes` give the same key, verifying the same
    /// signatures, and keep no refused key: a weak key is refused however
    /// many good keys come before and after it.
    #[test]
    fn keys_decoded_again_are_the_same_and_weak_ones_still_refused() {
        let mut id = [0u8; 32];
        id[0] = 1;
        let keys: Vec<SecretKey> = (0..6u8)
            .map(|i| SecretKey::from_seed(AuthorityName::new("a").unwrap(), &[i + 1; 32]))
            .collect();
        for round in 0..3 {
            for (i, sk) in keys.iter().enumerate() {
                let msg = [round, i as u8];
                let sig = sk.key.sign(&msg).to_bytes();
                let pk = PublicKey::from_bytes(*sk.public().as_bytes()).unwrap();
                assert_eq!(pk, sk.public());
                assert!(pk.verify(&msg, &sig));
                let other = PublicKey::from_bytes(*keys[(i + 1) % 6].public().as_bytes()).unwrap();
                assert!(
                    !other.verify(&msg, &sig),
                    "another key's signature verified"
                );
                assert!(PublicKey::from_bytes(id).is_err());
            }
        }
    }

    #[test]
    fn weak_keys_are_refused() {
        // The identity point (small order).
        let mut id = [0u8; 32];
        id[0] = 1;
        assert!(PublicKey::from_bytes(id).is_err());
    }
}
