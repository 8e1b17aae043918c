//! Trusted heads: what a key holder last verified of each ledger it signs for.
//!
//! A signer never signs on the strength of data an attacker with the ledger
//! directory could have written (derived data: the rules snapshot, tree
//! nodes, indexes) unless it was checked against something that attacker
//! cannot forge. That something is the trusted head, kept beside the key file
//! (which such an attacker does not hold): after each signing, the size of the
//! log, the hash of its last entry, a digest of the rules state, and the
//! compact range of the Merkle tree, all as this key holder verified them.
//! The next signing with the key checks the stored log against its head
//! (docs/THREAT-MODEL.md, "Derived data").
//!
//! The file `<key file>.heads` holds one line per ledger:
//!
//! ```text
//! <ledger id hex> <size> <last entry hash hex> <state digest hex> <range>
//! ```
//!
//! where `<range>` is the compact range's hashes in base64, comma-separated
//! (`-` when empty). Lines starting with `#` are comments. The file is
//! replaced by rename after each signing, without fsync: a head lost or left
//! stale by a crash only costs a re-verification, and it is written after the
//! commit, so it is never ahead of the ledger.

use std::fs;
use std::path::{Path, PathBuf};

use crate::durable;
use crate::entry::EntryHash;
use crate::merkle::{CompactRange, TreeHash};

/// The domain-separation prefix of the rules-state digest.
const STATE_DIGEST_CONTEXT: &str = "access-ledger/v1 rules state digest";

/// What one key holder last verified of one ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedHead {
    /// The ledger (hash of its genesis entry).
    pub ledger_id: EntryHash,
    /// The hash of entry `range.size() - 1`.
    pub head: EntryHash,
    /// [`state_digest`] of the rules-state snapshot the state at the head
    /// rests on: the latest snapshot when the key signed, which with the
    /// entries after it up to the head gives the state the key verified.
    pub state_digest: [u8; 32],
    /// The Merkle tree's compact range over the first `range.size()` entries.
    pub range: CompactRange,
}

impl TrustedHead {
    /// The number of entries the head covers.
    pub fn size(&self) -> u64 {
        self.range.size()
    }
}

/// The digest of a rules state, over its canonical derived encoding (the
/// bytes the snapshot is stored as), so checking a stored snapshot costs one
/// hash of bytes that were read anyway.
pub fn state_digest(encoded_state: &[u8]) -> [u8; 32] {
    let mut h = blake3::Hasher::new_derive_key(STATE_DIGEST_CONTEXT);
    h.update(encoded_state);
    *h.finalize().as_bytes()
}

/// Why a heads file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HeadError {
    /// The file could not be read or written.
    #[error("trusted heads file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A line does not parse.
    #[error("trusted heads file {path}, line {line}: not a trusted head")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The line (1-based).
        line: usize,
    },
}

/// The heads file of one key.
#[derive(Debug, Clone)]
pub struct HeadFile {
    path: PathBuf,
}

impl HeadFile {
    /// The heads file beside `key_file` (`<key file>.heads`).
    pub fn beside(key_file: &Path) -> HeadFile {
        let mut name = key_file.as_os_str().to_owned();
        name.push(".heads");
        HeadFile { path: name.into() }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The head kept for `ledger_id`, if any.
    pub fn load(&self, ledger_id: &EntryHash) -> Result<Option<TrustedHead>, HeadError> {
        Ok(self
            .read_all()?
            .into_iter()
            .find(|h| &h.ledger_id == ledger_id))
    }

    /// Replaces the head kept for `head.ledger_id` (the others stay).
    pub fn save(&self, head: &TrustedHead) -> Result<(), HeadError> {
        let mut heads = match self.read_all() {
            Ok(h) => h,
            // A damaged file is replaced: its heads only save re-verification.
            Err(HeadError::Malformed { .. }) => Vec::new(),
            Err(e) => return Err(e),
        };
        heads.retain(|h| h.ledger_id != head.ledger_id);
        heads.push(head.clone());
        let mut text = String::from(
            "# access-ledger trusted heads: what this key last verified of each ledger.\n\
             # Written after each signing. Deleting it is safe: the next signing\n\
             # then verifies the whole log again.\n",
        );
        for h in &heads {
            text.push_str(&format_line(h));
            text.push('\n');
        }
        durable::replace_unsynced(&self.path, text.as_bytes()).map_err(|source| HeadError::Io {
            path: self.path.clone(),
            source,
        })
    }

    fn read_all(&self) -> Result<Vec<TrustedHead>, HeadError> {
        let text = match fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(HeadError::Io {
                    path: self.path.clone(),
                    source,
                })
            }
        };
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
            .map(|(i, l)| {
                parse_line(l).ok_or_else(|| HeadError::Malformed {
                    path: self.path.clone(),
                    line: i + 1,
                })
            })
            .collect()
    }
}

fn format_line(h: &TrustedHead) -> String {
    let range = if h.range.hashes().is_empty() {
        "-".to_string()
    } else {
        h.range
            .hashes()
            .iter()
            .map(TreeHash::to_base64)
            .collect::<Vec<_>>()
            .join(",")
    };
    format!(
        "{} {} {} {} {range}",
        h.ledger_id.to_hex(),
        h.size(),
        h.head.to_hex(),
        hex::encode(h.state_digest),
    )
}

fn parse_line(line: &str) -> Option<TrustedHead> {
    let f: Vec<&str> = line.split(' ').collect();
    let [id, size, head, digest, range] = f.as_slice() else {
        return None;
    };
    let size: u64 = size.parse().ok()?;
    let hashes = if *range == "-" {
        Vec::new()
    } else {
        range
            .split(',')
            .map(TreeHash::from_base64)
            .collect::<Option<Vec<_>>>()?
    };
    Some(TrustedHead {
        ledger_id: EntryHash::from_hex(id)?,
        head: EntryHash::from_hex(head)?,
        state_digest: hex::decode(digest).ok()?.try_into().ok()?,
        range: CompactRange::from_parts(size, hashes)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(id: u8, size: u64) -> TrustedHead {
        let mut range = CompactRange::new();
        for i in 0..size {
            range.push(TreeHash::leaf(&i.to_le_bytes()));
        }
        TrustedHead {
            ledger_id: EntryHash::from_hex(&hex::encode([id; 32])).unwrap(),
            head: EntryHash::from_hex(&hex::encode([size as u8; 32])).unwrap(),
            state_digest: state_digest(&[id]),
            range,
        }
    }

    #[test]
    fn heads_round_trip_one_line_per_ledger() {
        let dir = tempfile::tempdir().unwrap();
        let f = HeadFile::beside(&dir.path().join("admin.key"));
        assert_eq!(f.path(), dir.path().join("admin.key.heads"));
        assert_eq!(f.load(&head(1, 0).ledger_id).unwrap(), None);
        f.save(&head(1, 0)).unwrap();
        f.save(&head(2, 13)).unwrap();
        f.save(&head(1, 7)).unwrap();
        assert_eq!(f.load(&head(1, 0).ledger_id).unwrap(), Some(head(1, 7)));
        assert_eq!(f.load(&head(2, 0).ledger_id).unwrap(), Some(head(2, 13)));
        assert_eq!(f.read_all().unwrap().len(), 2);
    }

    #[test]
    fn a_damaged_line_is_an_error_naming_it_and_is_replaced_on_save() {
        let dir = tempfile::tempdir().unwrap();
        let f = HeadFile::beside(&dir.path().join("k"));
        fs::write(f.path(), "# c\nnot a head\n").unwrap();
        let e = f.load(&head(1, 0).ledger_id).unwrap_err().to_string();
        assert!(e.ends_with("line 2: not a trusted head"), "{e}");
        f.save(&head(1, 3)).unwrap();
        assert_eq!(f.load(&head(1, 0).ledger_id).unwrap(), Some(head(1, 3)));
    }

    #[test]
    fn a_range_that_does_not_fit_its_size_is_refused() {
        let mut line = format_line(&head(1, 5));
        line = line.replacen(" 5 ", " 4 ", 1);
        assert!(parse_line(&line).is_none());
    }
}
