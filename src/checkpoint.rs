//! Checkpoints, signed notes and witness cosignatures, as in C2SP
//! tlog-checkpoint, signed-note and tlog-cosignature (cosignature/v1).
//!
//! A checkpoint body (the note text), each line ending in `\n` (0x0A):
//!
//! ```text
//! <origin>                       the ledger's Origin
//! <tree size>                    ASCII decimal, no leading zeros ("0" for empty)
//! <root hash>                    standard base64 of the 32-byte RFC 6962 root
//! [<extension line>]*            optional, each non-empty
//! ```
//!
//! A signed note is the text, one empty line, then one or more signature lines
//! `— <key name> <base64(key id (4 bytes) || signature)>\n`, where `—` is
//! U+2014 EM DASH followed by one space. An ed25519 log signature signs the
//! note text (final newline included); its key id is
//! `SHA-256(name || 0x0A || 0x01 || public key)[:4]` ([`crate::note_key_id`]).
//!
//! A cosignature/v1 line has key id `SHA-256(name || 0x0A || 0x04 || public key)[:4]`
//! and the 76-byte payload `key id || timestamp (u64, big endian) || signature`,
//! where the ed25519 signature is over
//! `"cosignature/v1\ntime <timestamp in decimal>\n" || note text`.
//!
//! Parsing is strict: canonical base64 only, no control characters but `\n`,
//! at most [`MAX_NOTE_LEN`] bytes and [`MAX_NOTE_SIGNATURES`] signature lines,
//! and no two lines from the same (name, key id). So a note that parses is
//! re-emitted byte for byte by `Display`.

use std::fmt;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::ident::{AuthorityName, IdentError, Origin};
use crate::keys::{KeyError, PublicKey, SecretKey, VerifierKey};
use crate::merkle::{parse_decimal, TreeHash};

/// The start of every signature line: U+2014 EM DASH, then a space.
pub const SIGNATURE_LINE_PREFIX: &str = "\u{2014} ";
/// The signature type byte of cosignature/v1 (timestamped ed25519) key ids.
pub const NOTE_ALG_COSIGNATURE_V1: u8 = 0x04;
/// The first line of a cosignature/v1 signed message (without its newline).
pub const COSIGNATURE_V1_HEADER: &str = "cosignature/v1";
/// The start of the second line of a cosignature/v1 signed message.
pub const COSIGNATURE_TIME_PREFIX: &str = "time ";
/// The latest cosignature timestamp C2SP allows, 2^63 - 1.
pub const MAX_COSIGNATURE_TIME: u64 = i64::MAX as u64;
/// The longest note accepted, in bytes (room for 16 post-quantum signatures).
pub const MAX_NOTE_LEN: usize = 128 * 1024;
/// The most signature lines accepted in one note (C2SP asks for at least 16).
pub const MAX_NOTE_SIGNATURES: usize = 64;

/// The length of an ed25519 signature.
const ED25519_SIG_LEN: usize = 64;
/// The length of a cosignature/v1 payload after the key id: time and signature.
const COSIGNATURE_V1_LEN: usize = 8 + ED25519_SIG_LEN;

/// Why a note, checkpoint or cosignature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The note is longer than [`MAX_NOTE_LEN`].
    #[error("note is {0} bytes, more than the limit of {MAX_NOTE_LEN}")]
    TooLong(usize),
    /// The text has an ASCII control character other than newline.
    #[error("text contains a control character other than newline")]
    ControlCharacter,
    /// No empty line followed by newline-terminated signature lines.
    #[error("not a signed note: expected the text, an empty line, then signature lines")]
    NoSignatureBlock,
    /// A signature line is not `— <name> <base64>` with a valid name and at
    /// least 5 bytes of payload.
    #[error("note line {line}: malformed signature line")]
    MalformedSignatureLine {
        /// 1-based line number within the note.
        line: usize,
    },
    /// More than [`MAX_NOTE_SIGNATURES`] signature lines.
    #[error("more than {MAX_NOTE_SIGNATURES} signature lines")]
    TooManySignatures,
    /// Two signature lines from the same key.
    #[error("two signature lines from key {key}")]
    DuplicateSignature {
        /// `name+hexkeyid`.
        key: String,
    },
    /// No signature line from the key.
    #[error("not signed by {key}")]
    NotSigned {
        /// `name+hexkeyid`.
        key: String,
    },
    /// The key's signature line does not verify.
    #[error("signature by {key} does not verify")]
    BadSignature {
        /// `name+hexkeyid`.
        key: String,
    },
    /// A cosignature's timestamp is above 2^63 - 1.
    #[error("cosignature time {0} is after 2^63 - 1")]
    TimeOutOfRange(u64),
    /// The checkpoint body lacks a line.
    #[error("checkpoint has no {0} line")]
    MissingLine(&'static str),
    /// The body does not end in a newline.
    #[error("checkpoint body does not end in a newline")]
    UnterminatedBody,
    /// The origin line is not a valid origin.
    #[error("checkpoint origin line: {0}")]
    Origin(#[source] IdentError),
    /// The size line is not canonical decimal.
    #[error("checkpoint tree size {0:?} is not a decimal number without leading zeros")]
    TreeSize(String),
    /// The root line is not base64 of 32 bytes.
    #[error("checkpoint root hash {0:?} is not standard base64 of 32 bytes")]
    RootHash(String),
    /// An extension line is empty.
    #[error("checkpoint has an empty extension line")]
    EmptyExtension,
}

/// The text form of a key's identity in errors: `name+hexkeyid`, as Go prints it.
fn key_label(name: &str, key_id: &[u8; 4]) -> String {
    format!("{name}+{}", hex::encode(key_id))
}

/// A signed-note key name: non-empty, no Unicode space, no `+`.
fn is_key_name(s: &str) -> bool {
    !s.is_empty() && !s.chars().any(|c| c.is_whitespace() || c == '+')
}

/// One signature line of a note, parsed but not verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    name: String,
    key_id: [u8; 4],
    signature: Vec<u8>,
}

impl NoteSignature {
    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The 4-byte key id.
    pub fn key_id(&self) -> [u8; 4] {
        self.key_id
    }

    /// The signature bytes after the key id.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    fn is_from(&self, name: &str, key_id: &[u8; 4]) -> bool {
        self.name == name && self.key_id == *key_id
    }

    /// Parses a line without its newline.
    fn parse_line(line: &str) -> Option<Self> {
        let (name, b64) = line.strip_prefix(SIGNATURE_LINE_PREFIX)?.split_once(' ')?;
        let raw = B64.decode(b64).ok()?;
        if !is_key_name(name) || raw.len() < 5 {
            return None;
        }
        let (id, signature) = raw.split_at(4);
        Some(NoteSignature {
            name: name.to_owned(),
            key_id: id.try_into().ok()?,
            signature: signature.to_vec(),
        })
    }
}

impl fmt::Display for NoteSignature {
    /// The line, newline included.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut raw = self.key_id.to_vec();
        raw.extend_from_slice(&self.signature);
        writeln!(
            f,
            "{SIGNATURE_LINE_PREFIX}{} {}",
            self.name,
            B64.encode(raw)
        )
    }
}

/// A signed note (C2SP signed-note), well formed but with no signature
/// verified: its text MUST NOT be trusted until [`Note::verify`] succeeds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    text: String,
    signatures: Vec<NoteSignature>,
}

impl Note {
    /// Parses a note strictly: the text is everything up to and including the
    /// newline before the last empty line.
    pub fn parse(note: &str) -> Result<Self, CheckpointError> {
        if note.len() > MAX_NOTE_LEN {
            return Err(CheckpointError::TooLong(note.len()));
        }
        if note.chars().any(|c| c < ' ' && c != '\n') {
            return Err(CheckpointError::ControlCharacter);
        }
        let split = note
            .rfind("\n\n")
            .ok_or(CheckpointError::NoSignatureBlock)?;
        let (text, block) = (&note[..split + 1], &note[split + 2..]);
        if block.is_empty() || !block.ends_with('\n') {
            return Err(CheckpointError::NoSignatureBlock);
        }
        let first_line = text.matches('\n').count() + 2;
        let mut signatures: Vec<NoteSignature> = Vec::new();
        for (i, line) in block.split_terminator('\n').enumerate() {
            if i == MAX_NOTE_SIGNATURES {
                return Err(CheckpointError::TooManySignatures);
            }
            let sig =
                NoteSignature::parse_line(line).ok_or(CheckpointError::MalformedSignatureLine {
                    line: first_line + i,
                })?;
            if signatures.iter().any(|s| s.is_from(&sig.name, &sig.key_id)) {
                let key = key_label(&sig.name, &sig.key_id);
                return Err(CheckpointError::DuplicateSignature { key });
            }
            signatures.push(sig);
        }
        Ok(Note {
            text: text.to_owned(),
            signatures,
        })
    }

    /// The note text, final newline included: what a log key signed.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The signature lines, in note order.
    pub fn signatures(&self) -> &[NoteSignature] {
        &self.signatures
    }

    /// Checks the signature line from `key` (a log key, signature type 0x01).
    /// Lines from other keys are ignored.
    pub fn verify(&self, key: &VerifierKey) -> Result<(), CheckpointError> {
        let (name, id) = (key.name().as_str(), key.key_id());
        let label = || key_label(name, &id);
        let sig = self
            .signatures
            .iter()
            .find(|s| s.is_from(name, &id))
            .ok_or_else(|| CheckpointError::NotSigned { key: label() })?;
        let sig: &[u8; ED25519_SIG_LEN] = sig
            .signature
            .as_slice()
            .try_into()
            .map_err(|_| CheckpointError::BadSignature { key: label() })?;
        if !key.key().verify(self.text.as_bytes(), sig) {
            return Err(CheckpointError::BadSignature { key: label() });
        }
        Ok(())
    }

    /// Adds `sig` after the existing lines, dropping an earlier line from the
    /// same key (as Go's `note.Sign` does).
    fn push_signature(&mut self, sig: NoteSignature) {
        self.signatures
            .retain(|s| !s.is_from(&sig.name, &sig.key_id));
        self.signatures.push(sig);
    }
}

impl fmt::Display for Note {
    /// The note exactly as parsed: text, empty line, signature lines.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.text)?;
        self.signatures.iter().try_for_each(|s| s.fmt(f))
    }
}

/// A checkpoint body (C2SP tlog-checkpoint), parsed but not signed or verified.
///
/// Layout, each line ending in `\n` (0x0A):
///
/// ```text
/// <origin>              an Origin
/// <tree size>           ASCII decimal, no leading zeros ("0" for an empty tree)
/// <root hash>           standard base64 of the 32-byte RFC 6962 root
/// [<extension line>]*   optional, each non-empty
/// ```
///
/// [`Checkpoint::parse`] accepts exactly the bytes [`Checkpoint::to_body`] produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    origin: Origin,
    size: u64,
    root: TreeHash,
    extensions: Vec<String>,
}

impl Checkpoint {
    /// A checkpoint with no extension lines.
    pub fn new(origin: Origin, size: u64, root: TreeHash) -> Self {
        Checkpoint {
            origin,
            size,
            root,
            extensions: Vec::new(),
        }
    }

    /// Parses a body strictly.
    pub fn parse(body: &str) -> Result<Self, CheckpointError> {
        if body.len() > MAX_NOTE_LEN {
            return Err(CheckpointError::TooLong(body.len()));
        }
        if body.chars().any(|c| c < ' ' && c != '\n') {
            return Err(CheckpointError::ControlCharacter);
        }
        let body = body
            .strip_suffix('\n')
            .ok_or(CheckpointError::UnterminatedBody)?;
        let mut lines = body.split('\n');
        let mut line = |what| lines.next().ok_or(CheckpointError::MissingLine(what));
        let origin = Origin::new(line("origin")?).map_err(CheckpointError::Origin)?;
        let size_line = line("tree size")?;
        let size =
            parse_decimal(size_line).ok_or_else(|| CheckpointError::TreeSize(size_line.into()))?;
        let root_line = line("root hash")?;
        let root = TreeHash::from_base64(root_line)
            .ok_or_else(|| CheckpointError::RootHash(root_line.into()))?;
        let extensions: Vec<String> = lines.map(str::to_owned).collect();
        if extensions.iter().any(String::is_empty) {
            return Err(CheckpointError::EmptyExtension);
        }
        Ok(Checkpoint {
            origin,
            size,
            root,
            extensions,
        })
    }

    /// The body text: origin, size, root and extension lines, each ending in `\n`.
    pub fn to_body(&self) -> String {
        let mut s = format!("{}\n{}\n{}\n", self.origin, self.size, self.root);
        for e in &self.extensions {
            s.push_str(e);
            s.push('\n');
        }
        s
    }

    /// The origin line.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// The tree size.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The root hash of the tree of `size` leaves.
    pub fn root(&self) -> &TreeHash {
        &self.root
    }

    /// The extension lines (opaque; this crate writes none).
    pub fn extensions(&self) -> &[String] {
        &self.extensions
    }
}

/// The cosignature/v1 signed message for a checkpoint body at `time`.
pub fn cosignature_message(body: &str, time: u64) -> String {
    format!("{COSIGNATURE_V1_HEADER}\n{COSIGNATURE_TIME_PREFIX}{time}\n{body}")
}

/// The key id of a cosigner: `SHA-256(name || 0x0A || 0x04 || public key)[:4]`.
pub fn cosigner_key_id(name: &str, key: &PublicKey) -> [u8; 4] {
    let d = Sha256::new()
        .chain_update(name.as_bytes())
        .chain_update([b'\n', NOTE_ALG_COSIGNATURE_V1])
        .chain_update(key.as_bytes())
        .finalize();
    [d[0], d[1], d[2], d[3]]
}

/// A witness's public key for cosignature/v1.
///
/// Text form (C2SP tlog-cosignature: a signed-note verifier key with signature
/// type 0x04): `name+hexkeyid+base64(0x04 || 32-byte key)`, key id in 8
/// lowercase hex digits. Distinct from a [`VerifierKey`] (type 0x01), so a
/// witness key cannot be mistaken for a log key or the reverse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CosignerKey {
    name: AuthorityName,
    key: PublicKey,
}

impl CosignerKey {
    /// Pairs a name with a key.
    pub fn new(name: AuthorityName, key: PublicKey) -> Self {
        CosignerKey { name, key }
    }

    /// The public half of a witness's signing key.
    pub fn of(secret: &SecretKey) -> Self {
        CosignerKey {
            name: secret.name().clone(),
            key: secret.public(),
        }
    }

    /// The key's name.
    pub fn name(&self) -> &AuthorityName {
        &self.name
    }

    /// The public key.
    pub fn key(&self) -> &PublicKey {
        &self.key
    }

    /// The 4-byte key id (signature type 0x04).
    pub fn key_id(&self) -> [u8; 4] {
        cosigner_key_id(self.name.as_str(), &self.key)
    }

    /// Parses `name+hexkeyid+base64(0x04 || key)`, checking the key id.
    pub fn parse(s: &str) -> Result<Self, KeyError> {
        let bad = || KeyError::BadVerifierKey(s.to_owned());
        // The name has no `+`; the base64 key may (as in Go's `note.NewVerifier`).
        let mut parts = s.splitn(3, '+');
        let (Some(name), Some(id), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad());
        };
        let name = AuthorityName::new(name).map_err(|_| bad())?;
        let raw = B64.decode(b64).map_err(|_| bad())?;
        let is_hex = |c: u8| c.is_ascii_digit() || (b'a'..=b'f').contains(&c);
        if id.len() != 8 || !id.bytes().all(is_hex) || raw.len() != 33 {
            return Err(bad());
        }
        if raw[0] != NOTE_ALG_COSIGNATURE_V1 {
            return Err(bad());
        }
        let key = PublicKey::from_bytes(raw[1..].try_into().map_err(|_| bad())?)?;
        let k = CosignerKey { name, key };
        if hex::encode(k.key_id()) != id {
            return Err(KeyError::KeyIdMismatch(s.to_owned()));
        }
        Ok(k)
    }
}

impl fmt::Display for CosignerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut raw = vec![NOTE_ALG_COSIGNATURE_V1];
        raw.extend_from_slice(self.key.as_bytes());
        write!(
            f,
            "{}+{}+{}",
            self.name,
            hex::encode(self.key_id()),
            B64.encode(raw)
        )
    }
}

/// A checkpoint in a note that carries a verified signature from a key the
/// caller trusts: a log key ([`SignedCheckpoint::open`]) or a witness key
/// ([`SignedCheckpoint::open_cosigned`]). The other signature lines are kept,
/// unverified, so that the note can be re-emitted with a cosignature added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    checkpoint: Checkpoint,
    note: Note,
}

impl SignedCheckpoint {
    /// Signs `checkpoint` with a log key.
    pub fn sign(checkpoint: Checkpoint, key: &SecretKey) -> Self {
        let text = checkpoint.to_body();
        let sig = NoteSignature {
            name: key.name().to_string(),
            key_id: key.verifier().key_id(),
            signature: key.sign(text.as_bytes()).to_vec(),
        };
        SignedCheckpoint {
            checkpoint,
            note: Note {
                text,
                signatures: vec![sig],
            },
        }
    }

    /// Parses a signed checkpoint and verifies the log's signature under `key`
    /// before reading the body. Signatures from other keys are kept, unchecked.
    pub fn open(note: &str, key: &VerifierKey) -> Result<Self, CheckpointError> {
        let note = Note::parse(note)?;
        note.verify(key)?;
        Ok(SignedCheckpoint {
            checkpoint: Checkpoint::parse(note.text())?,
            note,
        })
    }

    /// Parses a checkpoint note and verifies a cosignature by `key`, returning
    /// its timestamp too. No log signature is checked: use this only where the
    /// witness's word is what the caller trusts (e.g. a witness's own state).
    pub fn open_cosigned(note: &str, key: &CosignerKey) -> Result<(Self, u64), CheckpointError> {
        let note = Note::parse(note)?;
        let time = verify_cosignature(&note, key)?;
        let checkpoint = Checkpoint::parse(note.text())?;
        Ok((SignedCheckpoint { checkpoint, note }, time))
    }

    /// The checkpoint.
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// The note's signature lines, verified or not, in note order.
    pub fn signatures(&self) -> &[NoteSignature] {
        self.note.signatures()
    }

    /// Adds the cosignature/v1 of `witness` at `time` (POSIX seconds),
    /// replacing an earlier one by the same key.
    pub fn cosign(&mut self, witness: &SecretKey, time: u64) -> Result<(), CheckpointError> {
        if time > MAX_COSIGNATURE_TIME {
            return Err(CheckpointError::TimeOutOfRange(time));
        }
        let msg = cosignature_message(self.note.text(), time);
        let mut signature = time.to_be_bytes().to_vec();
        signature.extend_from_slice(&witness.sign(msg.as_bytes()));
        let key = CosignerKey::of(witness);
        let sig = NoteSignature {
            name: key.name.to_string(),
            key_id: key.key_id(),
            signature,
        };
        self.note.push_signature(sig);
        Ok(())
    }

    /// Verifies the cosignature/v1 of `key` and returns its timestamp.
    pub fn verify_cosignature(&self, key: &CosignerKey) -> Result<u64, CheckpointError> {
        verify_cosignature(&self.note, key)
    }
}

fn verify_cosignature(note: &Note, key: &CosignerKey) -> Result<u64, CheckpointError> {
    let (name, id) = (key.name.as_str(), key.key_id());
    let label = || key_label(name, &id);
    let sig = note
        .signatures
        .iter()
        .find(|s| s.is_from(name, &id))
        .ok_or_else(|| CheckpointError::NotSigned { key: label() })?;
    let payload: &[u8; COSIGNATURE_V1_LEN] = sig
        .signature
        .as_slice()
        .try_into()
        .map_err(|_| CheckpointError::BadSignature { key: label() })?;
    let (time, signature) = payload.split_at(8);
    // Both halves have fixed lengths, by the split of a fixed-size array.
    let time = u64::from_be_bytes(time.try_into().expect("8 bytes"));
    let signature: &[u8; ED25519_SIG_LEN] = signature.try_into().expect("64 bytes");
    if time > MAX_COSIGNATURE_TIME {
        return Err(CheckpointError::TimeOutOfRange(time));
    }
    let msg = cosignature_message(note.text(), time);
    if !key.key.verify(msg.as_bytes(), signature) {
        return Err(CheckpointError::BadSignature { key: label() });
    }
    Ok(time)
}

impl fmt::Display for SignedCheckpoint {
    /// The note, exactly as parsed or signed, with any cosignatures added.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.note.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::MemoryTree;
    use proptest::prelude::*;

    /// Seeds of the TEST-ONLY keys of the fixtures.
    const LOG_SEED: [u8; 32] = [0x4c; 32];
    const WITNESS_SEED: [u8; 32] = [0x57; 32];
    const ORIGIN: &str = "example.com/test-only-log";
    const FIXTURE_TIME: u64 = 1_700_000_000;

    fn log_key() -> SecretKey {
        SecretKey::from_seed(AuthorityName::new("test-only-log").unwrap(), &LOG_SEED)
    }

    fn witness_key() -> SecretKey {
        SecretKey::from_seed(
            AuthorityName::new("test-only-witness").unwrap(),
            &WITNESS_SEED,
        )
    }

    fn checkpoint(size: u64) -> Checkpoint {
        let mut t = MemoryTree::new();
        (0..size).for_each(|i| t.push(format!("leaf-{i}").as_bytes()));
        Checkpoint::new(Origin::new(ORIGIN).unwrap(), size, t.root())
    }

    #[test]
    fn body_layout() {
        let c = checkpoint(0);
        assert_eq!(
            c.to_body(),
            "example.com/test-only-log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
        );
        assert_eq!(Checkpoint::parse(&c.to_body()).unwrap(), c);
        let ext = format!("{}ext one\next two\n", c.to_body());
        let parsed = Checkpoint::parse(&ext).unwrap();
        assert_eq!(parsed.extensions(), ["ext one", "ext two"]);
        assert_eq!(parsed.to_body(), ext);
    }

    #[test]
    fn body_parsing_is_strict() {
        let good = checkpoint(20).to_body();
        let root = checkpoint(20).root().to_base64();
        let cases = [
            good.trim_end().to_string(),
            good.replace("\n20\n", "\n020\n"),
            good.replace("\n20\n", "\n+20\n"),
            good.replace("\n20\n", "\n 20\n"),
            good.replace("\n20\n", "\n\n"),
            good.replace(&root, &root[..43]),
            good.replace(&root, &root.replace('=', "")),
            good.replace("example.com", " example.com"),
            good.replace("example.com/test-only-log", ""),
            good.replace("example.com", "example+com"),
            format!("{good}\n"),
            format!("{good}a\tb\n"),
            "example.com/x\n1\n".to_string(),
            good.replace('\n', "\r\n"),
        ];
        for bad in cases {
            assert!(Checkpoint::parse(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn log_signature_matches_go_note_layout() {
        let key = log_key();
        let signed = SignedCheckpoint::sign(checkpoint(20), &key);
        let text = signed.to_string();
        let (body, sigs) = text.split_once("\n\n").unwrap();
        assert_eq!(format!("{body}\n"), checkpoint(20).to_body());
        let b64 = sigs
            .strip_prefix("\u{2014} test-only-log ")
            .unwrap()
            .trim_end();
        let raw = B64.decode(b64).unwrap();
        assert_eq!(raw.len(), 68);
        let mut id_input = b"test-only-log\n\x01".to_vec();
        id_input.extend_from_slice(key.public().as_bytes());
        assert_eq!(raw[..4], Sha256::digest(&id_input)[..4]);
        let sig: [u8; 64] = raw[4..].try_into().unwrap();
        assert!(key
            .public()
            .verify(checkpoint(20).to_body().as_bytes(), &sig));
        let opened = SignedCheckpoint::open(&text, &key.verifier()).unwrap();
        assert_eq!(opened.checkpoint(), &checkpoint(20));
        assert_eq!(opened.to_string(), text);
    }

    #[test]
    fn verification_refuses_other_keys_and_tampering() {
        let key = log_key();
        let text = SignedCheckpoint::sign(checkpoint(20), &key).to_string();
        let other = SecretKey::from_seed(key.name().clone(), &[1; 32]);
        assert!(matches!(
            SignedCheckpoint::open(&text, &other.verifier()),
            Err(CheckpointError::NotSigned { .. })
        ));
        // Same name and key id, different key: the signature must fail.
        let forged = SignedCheckpoint::sign(checkpoint(20), &other).to_string();
        let id_other = hex::encode(other.verifier().key_id());
        let b64_other = forged.rsplit(' ').next().unwrap().trim_end();
        let mut raw = B64.decode(b64_other).unwrap();
        raw[..4].copy_from_slice(&key.verifier().key_id());
        let forged = forged.replace(b64_other, &B64.encode(raw));
        assert!(!forged.contains(&id_other));
        assert!(matches!(
            SignedCheckpoint::open(&forged, &key.verifier()),
            Err(CheckpointError::BadSignature { .. })
        ));
        let tampered = text.replace("\n20\n", "\n21\n");
        assert!(matches!(
            SignedCheckpoint::open(&tampered, &key.verifier()),
            Err(CheckpointError::BadSignature { .. })
        ));
    }

    #[test]
    fn unknown_signatures_are_kept_and_ignored() {
        let key = log_key();
        let text = SignedCheckpoint::sign(checkpoint(3), &key).to_string();
        let foreign = "\u{2014} other.example/key AAAAAAAAAA==\n";
        let both = format!("{text}{foreign}");
        let opened = SignedCheckpoint::open(&both, &key.verifier()).unwrap();
        assert_eq!(opened.signatures().len(), 2);
        assert_eq!(opened.signatures()[1].name(), "other.example/key");
        assert_eq!(opened.to_string(), both);
        let i = text.find('\u{2014}').unwrap();
        let front = format!("{}{foreign}{}", &text[..i], &text[i..]);
        SignedCheckpoint::open(&front, &key.verifier()).unwrap();
    }

    #[test]
    fn note_parsing_is_strict() {
        let text = SignedCheckpoint::sign(checkpoint(3), &log_key()).to_string();
        let line = &text[text.find('\u{2014}').unwrap()..];
        let cases = [
            checkpoint(3).to_body(),
            text.trim_end().to_string(),
            text.replace("\n\n", "\n"),
            text.replace('\u{2014}', "-"),
            text.replace("\u{2014} ", "\u{2014}  "),
            text.replace("\u{2014} test-only-log", "\u{2014} test+only"),
            text.replace('=', ""),
            format!("{text}{line}"),
            format!("{text}\n"),
            text.replace("example.com", "exa\u{7}mple.com"),
            format!("{text}\u{2014} x AAAA\n"),
            format!("{text}\u{2014} x\n"),
        ];
        for bad in cases {
            assert!(Note::parse(&bad).is_err(), "{bad:?}");
        }
        let many: String = (0..=MAX_NOTE_SIGNATURES)
            .map(|i| format!("\u{2014} k{i} AAAAAAA=\n"))
            .collect();
        assert_eq!(
            Note::parse(&format!("a\n\n{many}")),
            Err(CheckpointError::TooManySignatures)
        );
        let long = format!("{}\n\n{line}", "a".repeat(MAX_NOTE_LEN));
        assert!(matches!(
            Note::parse(&long),
            Err(CheckpointError::TooLong(_))
        ));
        // The text ends at the last empty line, as in Go's note.Open.
        let n = Note::parse(&format!("a\n\nb\n\n{line}")).unwrap();
        assert_eq!(n.text(), "a\n\nb\n");
    }

    #[test]
    fn cosignature_v1_layout() {
        let mut signed = SignedCheckpoint::sign(checkpoint(20), &log_key());
        let w = witness_key();
        signed.cosign(&w, FIXTURE_TIME).unwrap();
        let line = signed.signatures().last().unwrap();
        assert_eq!(line.name(), "test-only-witness");
        let mut id_input = b"test-only-witness\n\x04".to_vec();
        id_input.extend_from_slice(w.public().as_bytes());
        assert_eq!(line.key_id()[..], Sha256::digest(&id_input)[..4]);
        assert_eq!(line.signature().len(), 72);
        assert_eq!(line.signature()[..8], FIXTURE_TIME.to_be_bytes());
        let msg = format!(
            "cosignature/v1\ntime 1700000000\n{}",
            checkpoint(20).to_body()
        );
        let sig: [u8; 64] = line.signature()[8..].try_into().unwrap();
        assert!(w.public().verify(msg.as_bytes(), &sig));
        let key = CosignerKey::of(&w);
        assert_eq!(signed.verify_cosignature(&key), Ok(FIXTURE_TIME));
        // The log's signature still verifies, the note round-trips, and
        // re-cosigning replaces the old line.
        let text = signed.to_string();
        let reopened = SignedCheckpoint::open(&text, &log_key().verifier()).unwrap();
        assert_eq!(reopened.verify_cosignature(&key), Ok(FIXTURE_TIME));
        assert_eq!(reopened.to_string(), text);
        signed.cosign(&w, FIXTURE_TIME + 1).unwrap();
        assert_eq!(signed.signatures().len(), 2);
        assert_eq!(signed.verify_cosignature(&key), Ok(FIXTURE_TIME + 1));
        let (c, t) = SignedCheckpoint::open_cosigned(&signed.to_string(), &key).unwrap();
        assert_eq!((c.checkpoint(), t), (&checkpoint(20), FIXTURE_TIME + 1));
        assert_eq!(
            signed.cosign(&w, MAX_COSIGNATURE_TIME + 1),
            Err(CheckpointError::TimeOutOfRange(MAX_COSIGNATURE_TIME + 1))
        );
    }

    #[test]
    fn cosignatures_bind_time_body_and_key() {
        let mut signed = SignedCheckpoint::sign(checkpoint(20), &log_key());
        let w = witness_key();
        signed.cosign(&w, FIXTURE_TIME).unwrap();
        let text = signed.to_string();
        let key = CosignerKey::of(&w);
        // The log key does not verify a cosignature (different key id), nor a
        // cosigner key a log signature.
        assert!(matches!(
            SignedCheckpoint::open(&text, &w.verifier()),
            Err(CheckpointError::NotSigned { .. })
        ));
        let log_as_cosigner = CosignerKey::of(&log_key());
        assert!(matches!(
            signed.verify_cosignature(&log_as_cosigner),
            Err(CheckpointError::NotSigned { .. })
        ));
        // A changed timestamp breaks the signature.
        let b64 = text.trim_end().rsplit(' ').next().unwrap();
        let mut raw = B64.decode(b64).unwrap();
        raw[11] ^= 1;
        let moved = text.replace(b64, &B64.encode(&raw));
        assert!(matches!(
            verify_cosignature(&Note::parse(&moved).unwrap(), &key),
            Err(CheckpointError::BadSignature { .. })
        ));
        raw[4] = 0x80;
        let future = text.replace(b64, &B64.encode(&raw));
        assert!(matches!(
            verify_cosignature(&Note::parse(&future).unwrap(), &key),
            Err(CheckpointError::TimeOutOfRange(_))
        ));
    }

    #[test]
    fn cosigner_keys() {
        let key = CosignerKey::of(&witness_key());
        let text = key.to_string();
        assert!(text.starts_with("test-only-witness+"));
        assert_eq!(
            B64.decode(text.splitn(3, '+').nth(2).unwrap()).unwrap()[0],
            0x04
        );
        assert_eq!(CosignerKey::parse(&text).unwrap(), key);
        // A log (0x01) verifier key is not a cosigner key, and the reverse.
        let vkey = witness_key().verifier().to_string();
        assert!(CosignerKey::parse(&vkey).is_err());
        assert!(VerifierKey::parse(&text).is_err());
        let upper = text.replace(&hex::encode(key.key_id()), &hex::encode_upper(key.key_id()));
        if upper != text {
            assert!(CosignerKey::parse(&upper).is_err());
        }
        let mut wrong = text.clone();
        let i = "test-only-witness+".len();
        wrong.replace_range(i..i + 1, if &text[i..i + 1] == "0" { "1" } else { "0" });
        assert!(matches!(
            CosignerKey::parse(&wrong),
            Err(KeyError::KeyIdMismatch(_))
        ));
    }

    /// The fixture the Go cross-check reads (scripts/check-with-go.sh):
    /// regenerated when UPDATE_VECTORS is set, otherwise compared.
    #[test]
    fn checkpoint_fixtures_are_current() {
        let mut signed = SignedCheckpoint::sign(checkpoint(20), &log_key());
        signed.cosign(&witness_key(), FIXTURE_TIME).unwrap();
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/vectors/");
        let files = [
            ("checkpoint.txt", signed.to_string()),
            ("checkpoint.vkey", format!("{}\n", log_key().verifier())),
            (
                "cosigner.vkey",
                format!("{}\n", CosignerKey::of(&witness_key())),
            ),
        ];
        for (name, want) in files {
            let path = format!("{dir}{name}");
            if std::env::var_os("UPDATE_VECTORS").is_some() {
                std::fs::create_dir_all(dir).unwrap();
                std::fs::write(&path, &want).unwrap();
            }
            let have = std::fs::read_to_string(&path).unwrap();
            assert_eq!(have, want, "{path} is stale: rerun with UPDATE_VECTORS=1");
        }
        let text = std::fs::read_to_string(format!("{dir}checkpoint.txt")).unwrap();
        let vkey = std::fs::read_to_string(format!("{dir}checkpoint.vkey")).unwrap();
        let ckey = std::fs::read_to_string(format!("{dir}cosigner.vkey")).unwrap();
        // Both keys' base64 has a `+`, which the parsers must take as base64.
        assert!(vkey.trim_end().rsplit('+').next().unwrap().len() < 44);
        assert!(ckey.trim_end().rsplit('+').next().unwrap().len() < 44);
        let opened = SignedCheckpoint::open(&text, &VerifierKey::parse(&vkey).unwrap()).unwrap();
        let ckey = CosignerKey::parse(ckey.trim_end()).unwrap();
        assert_eq!(opened.verify_cosignature(&ckey), Ok(FIXTURE_TIME));
    }

    proptest! {
        #[test]
        fn signed_notes_round_trip_and_any_flipped_byte_fails(
            size: u64,
            root: [u8; 32],
            time in 0..=MAX_COSIGNATURE_TIME,
            pos: usize,
            bit in 0u8..8,
        ) {
            let c = Checkpoint::new(Origin::new(ORIGIN).unwrap(), size, TreeHash::from_bytes(root));
            prop_assert_eq!(Checkpoint::parse(&c.to_body()).unwrap(), c.clone());
            let mut signed = SignedCheckpoint::sign(c, &log_key());
            signed.cosign(&witness_key(), time).unwrap();
            let text = signed.to_string();
            let key = CosignerKey::of(&witness_key());
            let opened = SignedCheckpoint::open(&text, &log_key().verifier()).unwrap();
            prop_assert_eq!(opened.to_string(), text.clone());
            prop_assert_eq!(opened.verify_cosignature(&key), Ok(time));
            // Flip one bit anywhere in the note: either it no longer parses
            // as UTF-8 or a note, or one of the two signatures fails.
            let mut bytes = text.into_bytes();
            let i = pos % bytes.len();
            bytes[i] ^= 1 << bit;
            if let Ok(s) = String::from_utf8(bytes) {
                let ok = SignedCheckpoint::open(&s, &log_key().verifier())
                    .and_then(|c| c.verify_cosignature(&key).map(|_| c));
                prop_assert!(ok.is_err(), "{:?}", s);
            }
        }
    }
}
