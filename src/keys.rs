//! Keys: ed25519 public keys and private key files.
//!
//! - [`PublicKey`]: 32 raw bytes, checked to be a valid, non-weak point.
//! - [`SecretKey`]: a named signing key, stored as a self-describing text file
//!   (comment lines, then PKCS#8 PEM), created with mode 0600 and refused when
//!   other users can read it. The key bytes are zeroized on drop.
//!
//! The text forms of named public keys (verifier and cosigner keys) belong to
//! signed notes: see `note`. A key file names its public half in that form.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use bincode::de::{BorrowDecoder, Decoder};
use bincode::enc::Encoder;
use bincode::error::{DecodeError, EncodeError};
use bincode::{BorrowDecode, Decode, Encode};
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey, KeypairBytes};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use zeroize::Zeroizing;

use crate::durable::{self, FileMode};
use crate::head::HeadFile;
use crate::ident::AuthorityName;
use crate::note::VerifierKey;

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
        let point = VerifyingKey::from_bytes(&bytes).map_err(|_| KeyError::BadPublicKey)?;
        if point.is_weak() {
            return Err(KeyError::BadPublicKey);
        }
        Ok(PublicKey { bytes, point })
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
    /// Where this key holder keeps its trusted heads: beside the key file for
    /// a key read from one; none for a key made in memory, which then
    /// verifies the whole log at its first signing in each process.
    heads: Option<HeadFile>,
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey({})", self.verifier())
    }
}

impl SecretKey {
    /// A fresh key from the operating system's random number generator.
    pub fn generate(name: AuthorityName) -> Self {
        SecretKey {
            name,
            key: SigningKey::generate(&mut rand_core::OsRng),
            heads: None,
        }
    }

    /// A key from a fixed 32-byte seed. Deterministic: for test vectors and the
    /// clearly labelled TEST-ONLY keys of the fixtures, never for real use.
    pub fn from_seed(name: AuthorityName, seed: &[u8; 32]) -> Self {
        SecretKey {
            name,
            key: SigningKey::from_bytes(seed),
            heads: None,
        }
    }

    /// The same secret under another name (the name an authority holds in a
    /// ledger may differ from the one in its key file).
    pub fn from_secret_named(other: &SecretKey, name: AuthorityName) -> Self {
        SecretKey {
            name,
            key: other.key.clone(),
            heads: other.heads.clone(),
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

    /// The public half in note verifier form.
    pub fn verifier(&self) -> VerifierKey {
        VerifierKey::of(self)
    }

    /// Signs `msg` (deterministic ed25519, RFC 8032).
    pub fn sign(&self, msg: &[u8]) -> [u8; 64] {
        self.key.sign(msg).to_bytes()
    }

    /// The key file text: comment lines naming the key, then PKCS#8 PEM.
    ///
    /// The PEM is PKCS#8 version 1 (RFC 5208: the seed only, no public key),
    /// the form `openssl pkey` and Python's `cryptography` read; files written
    /// before as version 2 (RFC 5958, with the public key) still load.
    pub fn to_file_text(&self, created: &str) -> Zeroizing<String> {
        let v1 = KeypairBytes {
            secret_key: self.key.to_bytes(),
            public_key: None,
        };
        // Encoding a 32-byte seed as PKCS#8 cannot fail.
        let pem = v1
            .to_pkcs8_pem(LineEnding::LF)
            .expect("PKCS#8 encoding of an ed25519 seed is infallible");
        Zeroizing::new(format!(
            "# access-ledger private key (ed25519, PKCS#8). Keep it secret; never put it in a ledger directory.\n\
             # name: {}\n# created: {}\n# public key: {}\n{}",
            self.name,
            created,
            self.verifier(),
            pem.as_str()
        ))
    }

    /// Reads a key file written by [`SecretKey::write_new`], refusing one that
    /// other users can read.
    pub fn read(path: &Path) -> Result<Self, KeyError> {
        let io = |source| KeyError::Io {
            path: path.to_owned(),
            source,
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(path).map_err(io)?.permissions().mode();
            if mode & 0o077 != 0 {
                return Err(KeyError::Permissive {
                    path: path.to_owned(),
                    mode: mode & 0o777,
                });
            }
        }
        let text = Zeroizing::new(fs::read_to_string(path).map_err(io)?);
        let mut key = Self::parse_file_text(&text, path)?;
        key.heads = Some(HeadFile::beside(path));
        Ok(key)
    }

    /// The file where this key holder keeps its trusted heads, if it has one.
    pub fn heads(&self) -> Option<&HeadFile> {
        self.heads.as_ref()
    }

    /// Parses key file text; `path` is only used in errors.
    pub fn parse_file_text(text: &str, path: &Path) -> Result<Self, KeyError> {
        let name = text
            .lines()
            .filter_map(|l| l.strip_prefix("# name:"))
            .map(str::trim)
            .next()
            .ok_or_else(|| KeyError::NoName(path.to_owned()))?;
        let name = AuthorityName::new(name).map_err(|_| KeyError::NoName(path.to_owned()))?;
        let start = text
            .find("-----BEGIN")
            .ok_or_else(|| KeyError::Malformed(path.to_owned()))?;
        let key = SigningKey::from_pkcs8_pem(text[start..].trim_end())
            .map_err(|_| KeyError::Malformed(path.to_owned()))?;
        Ok(SecretKey {
            name,
            key,
            heads: None,
        })
    }

    /// Writes a new key file with mode 0600; refuses to replace any existing
    /// file. When this returns `Ok`, the file and its directory entry are on
    /// disk (`durable::create_new`); on an error, no partial file is left.
    pub fn write_new(&self, path: &Path) -> Result<(), KeyError> {
        let text = self.to_file_text(&crate::time::Timestamp::now().rfc3339());
        durable::create_new(path, FileMode::OwnerOnly, text.as_bytes()).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                KeyError::Exists(path.to_owned())
            } else {
                KeyError::Io {
                    path: path.to_owned(),
                    source: e,
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn weak_keys_are_refused() {
        // The identity point (small order).
        let mut id = [0u8; 32];
        id[0] = 1;
        assert!(PublicKey::from_bytes(id).is_err());
    }
}
