//! Key files: how a [`SecretKey`] is kept on disk. Self-describing text (age
//! style): comment lines naming the key, when it was made and its public
//! verifier key, then the secret as PKCS#8 v1 PEM; created with mode 0600
//! and refused when other users can read it. The key holder's trusted heads
//! live beside it (src/head.rs).
//!
//! This sits above `keys` (the key types) and `note` (the verifier-key text
//! the comment line shows), so that neither of those depends on the other's
//! users.

use std::fs;
use std::path::Path;

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey, KeypairBytes};
use ed25519_dalek::SigningKey;
use zeroize::Zeroizing;

use crate::durable::{self, FileMode};
use crate::ident::AuthorityName;
use crate::keys::{KeyError, SecretKey};

impl SecretKey {
    /// The key file text: comment lines naming the key, then PKCS#8 PEM.
    ///
    /// The PEM is PKCS#8 version 1 (RFC 5208: the seed only, no public key),
    /// the form `openssl pkey` and Python's `cryptography` read; files written
    /// before as version 2 (RFC 5958, with the public key) still load.
    pub fn to_file_text(&self, created: &str) -> Zeroizing<String> {
        let v1 = KeypairBytes {
            secret_key: self.signing_key().to_bytes(),
            public_key: None,
        };
        // Encoding a 32-byte seed as PKCS#8 cannot fail.
        let pem = v1
            .to_pkcs8_pem(LineEnding::LF)
            .expect("PKCS#8 encoding of an ed25519 seed is infallible");
        Zeroizing::new(format!(
            "# access-ledger private key (ed25519, PKCS#8). Keep it secret; never put it in a ledger directory.\n\
             # name: {}\n# created: {}\n# public key: {}\n{}",
            self.name(),
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
        let key = Self::parse_file_text(&text, path)?;
        Ok(SecretKey::from_parts(
            key.name().clone(),
            key.signing_key().clone(),
            Some(path.to_owned()),
        ))
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
        Ok(SecretKey::from_parts(name, key, None))
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
