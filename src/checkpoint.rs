//! Checkpoints and witness cosignatures, as in C2SP tlog-checkpoint and
//! tlog-cosignature (cosignature/v1), built on the signed notes of `note`.
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
//! The log signs it as a signed note with an ed25519 key (signature type
//! 0x01, [`crate::VerifierKey`]): the signature is over the body, final
//! newline included.
//!
//! A cosignature/v1 line is a note signature line by a [`crate::CosignerKey`]
//! (signature type 0x04, so key id `SHA-256(name || 0x0A || 0x04 || public key)[:4]`)
//! whose 76-byte payload is `key id || timestamp (u64, big endian) || signature`,
//! where the ed25519 signature is over
//! `"cosignature/v1\ntime <timestamp in decimal>\n" || note text`.

use std::fmt;

use crate::ident::{IdentError, Origin};
use crate::keys::SecretKey;
use crate::merkle::{parse_decimal, TreeHash};
use crate::note::{
    check_text, CosignerKey, Note, NoteError, NoteSignature, VerifierKey, ED25519_SIG_LEN,
};
use crate::time::Timestamp;

/// The first line of a cosignature/v1 signed message (without its newline).
pub const COSIGNATURE_V1_HEADER: &str = "cosignature/v1";
/// The start of the extension line in which a checkpoint says when it was
/// made (an RFC 3339 time in UTC follows).
pub const TIME_EXTENSION_PREFIX: &str = "access-ledger-time ";
/// The start of the second line of a cosignature/v1 signed message.
pub const COSIGNATURE_TIME_PREFIX: &str = "time ";
/// The latest cosignature timestamp C2SP allows, 2^63 - 1.
pub const MAX_COSIGNATURE_TIME: u64 = i64::MAX as u64;
/// The length of a cosignature/v1 payload after the key id: time and signature.
const COSIGNATURE_V1_LEN: usize = 8 + ED25519_SIG_LEN;

/// Why a checkpoint, its note or a cosignature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The note is malformed, or a signature in it is missing or does not
    /// verify.
    #[error(transparent)]
    Note(#[from] NoteError),
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
    /// A time extension line whose time does not parse.
    #[error("checkpoint time line {0:?} is not an RFC 3339 time")]
    Time(String),
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
        check_text(body)?;
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
        for e in &extensions {
            if let Some(t) = e.strip_prefix(TIME_EXTENSION_PREFIX) {
                Timestamp::parse_rfc3339(t).map_err(|_| CheckpointError::Time(e.clone()))?;
            }
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

    /// The extension lines.
    pub fn extensions(&self) -> &[String] {
        &self.extensions
    }

    /// The checkpoint with a time extension line saying it was made at `at`
    /// (docs/TRANSPARENCY.md: entries after it may not be recorded before it).
    pub fn made_at(mut self, at: Timestamp) -> Self {
        self.extensions
            .retain(|e| !e.starts_with(TIME_EXTENSION_PREFIX));
        self.extensions
            .push(format!("{TIME_EXTENSION_PREFIX}{}", at.rfc3339()));
        self
    }

    /// When the checkpoint says it was made, if it says so (checkpoints of
    /// earlier versions do not).
    pub fn time(&self) -> Option<Timestamp> {
        self.extensions
            .iter()
            .find_map(|e| Timestamp::parse_rfc3339(e.strip_prefix(TIME_EXTENSION_PREFIX)?).ok())
    }
}

/// The cosignature/v1 signed message for a checkpoint body at `time`.
pub fn cosignature_message(body: &str, time: u64) -> String {
    format!("{COSIGNATURE_V1_HEADER}\n{COSIGNATURE_TIME_PREFIX}{time}\n{body}")
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
        let note = Note::sign(checkpoint.to_body(), key);
        SignedCheckpoint { checkpoint, note }
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
        let sig = NoteSignature::new(&CosignerKey::of(witness), signature);
        self.note.push_signature(sig);
        Ok(())
    }

    /// Verifies the cosignature/v1 of `key` and returns its timestamp.
    pub fn verify_cosignature(&self, key: &CosignerKey) -> Result<u64, CheckpointError> {
        verify_cosignature(&self.note, key)
    }
}

/// Checks the cosignature/v1 line of `key` in `note`: its layout, its time,
/// and its ed25519 signature over [`cosignature_message`].
fn verify_cosignature(note: &Note, key: &CosignerKey) -> Result<u64, CheckpointError> {
    let bad = || NoteError::BadSignature { key: key.label() };
    let payload: &[u8; COSIGNATURE_V1_LEN] =
        note.signature_by(key)?.try_into().map_err(|_| bad())?;
    let (time, signature) = payload.split_at(8);
    // Both halves have fixed lengths, by the split of a fixed-size array.
    let time = u64::from_be_bytes(time.try_into().expect("8 bytes"));
    let signature: &[u8; ED25519_SIG_LEN] = signature.try_into().expect("64 bytes");
    if time > MAX_COSIGNATURE_TIME {
        return Err(CheckpointError::TimeOutOfRange(time));
    }
    let msg = cosignature_message(note.text(), time);
    if !key.key().verify(msg.as_bytes(), signature) {
        return Err(bad().into());
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
    use crate::ident::AuthorityName;
    use crate::merkle::MemoryTree;
    use base64::engine::general_purpose::STANDARD as B64;
    use base64::Engine;
    use proptest::prelude::*;
    use sha2::{Digest, Sha256};

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

    /// A properly signed checkpoint whose extension line holds DEL or a C1
    /// control (NEL U+0085 among them) is refused all the same.
    #[test]
    fn extension_lines_hold_no_del_or_c1_control() {
        for c in ['\u{7f}', '\u{85}', '\u{9b}'] {
            let body = format!("{}ext {c} line\n", checkpoint(20).to_body());
            let note = Note::sign(body, &log_key()).to_string();
            assert!(
                matches!(
                    SignedCheckpoint::open(&note, &log_key().verifier()),
                    Err(CheckpointError::Note(NoteError::ControlCharacter))
                ),
                "{c:?}"
            );
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
            Err(CheckpointError::Note(NoteError::NotSigned { .. }))
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
            Err(CheckpointError::Note(NoteError::BadSignature { .. }))
        ));
        let tampered = text.replace("\n20\n", "\n21\n");
        assert!(matches!(
            SignedCheckpoint::open(&tampered, &key.verifier()),
            Err(CheckpointError::Note(NoteError::BadSignature { .. }))
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
            Err(CheckpointError::Note(NoteError::NotSigned { .. }))
        ));
        let log_as_cosigner = CosignerKey::of(&log_key());
        assert!(matches!(
            signed.verify_cosignature(&log_as_cosigner),
            Err(CheckpointError::Note(NoteError::NotSigned { .. }))
        ));
        // A changed timestamp breaks the signature.
        let b64 = text.trim_end().rsplit(' ').next().unwrap();
        let mut raw = B64.decode(b64).unwrap();
        raw[11] ^= 1;
        let moved = text.replace(b64, &B64.encode(&raw));
        assert!(matches!(
            verify_cosignature(&Note::parse(&moved).unwrap(), &key),
            Err(CheckpointError::Note(NoteError::BadSignature { .. }))
        ));
        raw[4] = 0x80;
        let future = text.replace(b64, &B64.encode(&raw));
        assert!(matches!(
            verify_cosignature(&Note::parse(&future).unwrap(), &key),
            Err(CheckpointError::TimeOutOfRange(_))
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
        let vkey = VerifierKey::parse(vkey.trim_end()).unwrap();
        let opened = SignedCheckpoint::open(&text, &vkey).unwrap();
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
