//! Signed notes, as in C2SP signed-note (Go's `golang.org/x/mod/sumdb/note`):
//! key names, key ids, signature lines, notes, and the text form of the keys
//! that verify them.
//!
//! A signed note is a text, one empty line, then one or more signature lines
//! `— <key name> <base64(key id (4 bytes) || signature)>\n`, where `—` is
//! U+2014 EM DASH followed by one space.
//!
//! A key is named by a key name and identified by a 4-byte key id:
//!
//! ```text
//! key id = SHA-256(key name || 0x0A || signature type || 32-byte public key)[0..4]
//! ```
//!
//! ([`note_key_id`]), where the signature type is [`NOTE_ALG_ED25519`] (0x01)
//! for a log key that signs the note text itself, and
//! [`NOTE_ALG_COSIGNATURE_V1`] (0x04) for a witness's cosignature/v1 key
//! (C2SP tlog-cosignature; its signed message is in `checkpoint`). Both kinds
//! of key are written in the one text form of [`NoteKey`]:
//! `name+hexkeyid+base64(signature type || key)`.
//!
//! Parsing is strict: canonical base64 only, no control characters but `\n`,
//! at most [`MAX_NOTE_LEN`] bytes and [`MAX_NOTE_SIGNATURES`] signature lines,
//! and no two lines from the same (name, key id). So a note that parses is
//! re-emitted byte for byte by `Display`.

use std::fmt;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::ident::AuthorityName;
use crate::keys::{KeyError, PublicKey, SecretKey};

/// The start of every signature line: U+2014 EM DASH, then a space.
pub const SIGNATURE_LINE_PREFIX: &str = "\u{2014} ";
/// The signature type byte of ed25519 log keys: they sign the note text.
pub const NOTE_ALG_ED25519: u8 = 0x01;
/// The signature type byte of cosignature/v1 (timestamped ed25519) keys.
pub const NOTE_ALG_COSIGNATURE_V1: u8 = 0x04;
/// The longest note accepted, in bytes (room for 16 post-quantum signatures).
pub const MAX_NOTE_LEN: usize = 128 * 1024;
/// The most signature lines accepted in one note (C2SP asks for at least 16).
pub const MAX_NOTE_SIGNATURES: usize = 64;

/// The length of an ed25519 signature.
pub(crate) const ED25519_SIG_LEN: usize = 64;

/// Why a signed note was refused, or a signature in it does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NoteError {
    /// The note is longer than [`MAX_NOTE_LEN`].
    #[error("note is {0} bytes, more than the limit of {MAX_NOTE_LEN}")]
    TooLong(usize),
    /// The text has a control character (C0, DEL or C1) other than newline.
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
}

/// Checks what every note text and the note as a whole must satisfy: at most
/// [`MAX_NOTE_LEN`] bytes, no control character but `\n`: none of C0, DEL
/// (0x7F) or C1 (U+0080 to U+009F, NEL U+0085 among them, which some
/// programs take for a line break).
pub(crate) fn check_text(s: &str) -> Result<(), NoteError> {
    if s.len() > MAX_NOTE_LEN {
        return Err(NoteError::TooLong(s.len()));
    }
    if s.chars().any(|c| c.is_control() && c != '\n') {
        return Err(NoteError::ControlCharacter);
    }
    Ok(())
}

/// The 4-byte key id of a signed-note key of signature type `alg`: the first
/// 4 bytes of SHA-256(name || 0x0A || alg || public key).
pub fn note_key_id(name: &str, alg: u8, key: &PublicKey) -> [u8; 4] {
    let d = Sha256::new()
        .chain_update(name.as_bytes())
        .chain_update([b'\n', alg])
        .chain_update(key.as_bytes())
        .finalize();
    [d[0], d[1], d[2], d[3]]
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
    /// A line by `key` carrying `signature` (the bytes after the key id).
    pub(crate) fn new<const ALG: u8>(key: &NoteKey<ALG>, signature: Vec<u8>) -> Self {
        NoteSignature {
            name: key.name.to_string(),
            key_id: key.key_id(),
            signature,
        }
    }

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
    pub fn parse(note: &str) -> Result<Self, NoteError> {
        check_text(note)?;
        let split = note.rfind("\n\n").ok_or(NoteError::NoSignatureBlock)?;
        let (text, block) = (&note[..split + 1], &note[split + 2..]);
        if block.is_empty() || !block.ends_with('\n') {
            return Err(NoteError::NoSignatureBlock);
        }
        let first_line = text.matches('\n').count() + 2;
        let mut signatures: Vec<NoteSignature> = Vec::new();
        for (i, line) in block.split_terminator('\n').enumerate() {
            if i == MAX_NOTE_SIGNATURES {
                return Err(NoteError::TooManySignatures);
            }
            let sig = NoteSignature::parse_line(line).ok_or(NoteError::MalformedSignatureLine {
                line: first_line + i,
            })?;
            if signatures.iter().any(|s| s.is_from(&sig.name, &sig.key_id)) {
                let key = key_label(&sig.name, &sig.key_id);
                return Err(NoteError::DuplicateSignature { key });
            }
            signatures.push(sig);
        }
        Ok(Note {
            text: text.to_owned(),
            signatures,
        })
    }

    /// Signs `text` with a log key (signature type 0x01). `text` MUST pass
    /// [`check_text`], be non-empty, end in `\n` and hold no empty line, so
    /// that the note parses back as it is emitted (a checkpoint body does).
    pub(crate) fn sign(text: String, key: &SecretKey) -> Self {
        let sig = NoteSignature::new(&key.verifier(), key.sign(text.as_bytes()).to_vec());
        Note {
            text,
            signatures: vec![sig],
        }
    }

    /// The note text, final newline included: what a log key signed.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The signature lines, in note order.
    pub fn signatures(&self) -> &[NoteSignature] {
        &self.signatures
    }

    /// The signature bytes (after the key id) of the line from `key`, not
    /// verified: the caller MUST check them for the key's signature type.
    pub(crate) fn signature_by<const ALG: u8>(
        &self,
        key: &NoteKey<ALG>,
    ) -> Result<&[u8], NoteError> {
        let id = key.key_id();
        self.signatures
            .iter()
            .find(|s| s.is_from(key.name.as_str(), &id))
            .map(|s| s.signature.as_slice())
            .ok_or_else(|| NoteError::NotSigned { key: key.label() })
    }

    /// Checks the signature line from `key` (a log key, signature type 0x01).
    /// Lines from other keys are ignored.
    pub fn verify(&self, key: &VerifierKey) -> Result<(), NoteError> {
        let bad = || NoteError::BadSignature { key: key.label() };
        let sig: &[u8; ED25519_SIG_LEN] = self.signature_by(key)?.try_into().map_err(|_| bad())?;
        if !key.key().verify(self.text.as_bytes(), sig) {
            return Err(bad());
        }
        Ok(())
    }

    /// Adds `sig` after the existing lines, dropping an earlier line from the
    /// same key (as Go's `note.Sign` does).
    pub(crate) fn push_signature(&mut self, sig: NoteSignature) {
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

/// A named ed25519 public key of signature type `ALG`, in the signed-note
/// verifier key text form:
///
/// ```text
/// <name>+<key id, 8 lowercase hex digits>+base64(ALG || 32-byte public key)
/// ```
///
/// The name is an [`AuthorityName`]. Use it through [`VerifierKey`] (0x01) and
/// [`CosignerKey`] (0x04): the type keeps the two apart, so a witness key
/// cannot be taken for a log key or the reverse.
///
/// [`NoteKey::parse`] is the one parser of both forms, and accepts exactly
/// what `Display` prints:
/// - the text as given: no surrounding white space is trimmed (a caller that
///   reads a key from a file or a JSON field trims at that edge);
/// - a name that is an [`AuthorityName`], then `+`, then exactly 8 lowercase
///   hex digits, then `+` and canonical standard base64 (the base64 part may
///   itself contain `+`: the text is split at its first two `+` only);
/// - 33 decoded bytes whose first is `ALG`, then a valid, non-weak key;
/// - a key id equal to the one computed from the name and key.
///
/// Errors quote the refused text only when it is one short line (at most 200
/// bytes, no control character) that shows no sign of a private key (a PEM
/// `PRIVATE KEY` label, or the base64 that starts an ed25519 PKCS#8 key);
/// anything else is described by its length, never shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteKey<const ALG: u8> {
    name: AuthorityName,
    key: PublicKey,
}

/// A log's key (signature type 0x01): it signs the note text with ed25519.
/// Text form `name+hexkeyid+base64(0x01 || key)`, Go's `note.NewVerifier` form.
pub type VerifierKey = NoteKey<NOTE_ALG_ED25519>;

/// A witness's public key for cosignature/v1 (signature type 0x04; C2SP
/// tlog-cosignature). Text form `name+hexkeyid+base64(0x04 || key)`.
pub type CosignerKey = NoteKey<NOTE_ALG_COSIGNATURE_V1>;

impl<const ALG: u8> NoteKey<ALG> {
    /// Pairs a name with a key.
    pub fn new(name: AuthorityName, key: PublicKey) -> Self {
        NoteKey { name, key }
    }

    /// The public half of a signing key, under the key's own name.
    pub fn of(secret: &SecretKey) -> Self {
        NoteKey {
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

    /// The 4-byte key id ([`note_key_id`] with signature type `ALG`).
    pub fn key_id(&self) -> [u8; 4] {
        note_key_id(self.name.as_str(), ALG, &self.key)
    }

    /// `name+hexkeyid`, how errors name the key.
    pub(crate) fn label(&self) -> String {
        key_label(self.name.as_str(), &self.key_id())
    }

    /// Parses the text form, checking the signature type and the key id
    /// (see [`NoteKey`] for exactly what is accepted).
    pub fn parse(s: &str) -> Result<Self, KeyError> {
        let bad = || KeyError::BadVerifierKey(quotable(s));
        let mut parts = s.splitn(3, '+');
        let (Some(name), Some(id), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad());
        };
        let name = AuthorityName::new(name).map_err(|_| bad())?;
        let is_hex = |c: u8| c.is_ascii_digit() || (b'a'..=b'f').contains(&c);
        if id.len() != 8 || !id.bytes().all(is_hex) {
            return Err(bad());
        }
        let raw = B64.decode(b64).map_err(|_| bad())?;
        let (&alg, key) = raw.split_first().ok_or_else(bad)?;
        let key: [u8; 32] = key.try_into().map_err(|_| bad())?;
        if alg != ALG {
            return Err(bad());
        }
        let k = NoteKey::new(name, PublicKey::from_bytes(key)?);
        if hex::encode(k.key_id()) != id {
            return Err(KeyError::KeyIdMismatch(quotable(s)));
        }
        Ok(k)
    }
}

impl<const ALG: u8> fmt::Display for NoteKey<ALG> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut raw = Vec::with_capacity(33);
        raw.push(ALG);
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

/// The base64 that starts the DER of every ed25519 PKCS#8 private key
/// (RFC 8410; version 1, and version 2 with the public key, as `keygen`
/// writes): one PEM body line pasted alone holds the secret.
const PKCS8_ED25519_BASE64: [&str; 2] = ["MC4CAQAwBQYDK2VwBCIEI", "MFECAQEwBQYDK2VwBCIEI"];

/// What an error may quote of a refused key text: a key text is one short
/// line, so anything else, or anything that looks like a private key (such
/// as a key file pasted by mistake), is described, never shown.
fn quotable(s: &str) -> String {
    let private = s.contains("PRIVATE KEY") || PKCS8_ED25519_BASE64.iter().any(|p| s.contains(p));
    if s.len() > 200 || s.chars().any(char::is_control) || private {
        format!("<{} bytes of text, not shown>", s.len())
    } else {
        s.to_owned()
    }
}

/// The verifier-key text form of a signing key (here, not in `keys`, so that
/// the key types do not depend on the note format).
impl SecretKey {
    /// The public half in note verifier form.
    pub fn verifier(&self) -> VerifierKey {
        VerifierKey::of(self)
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey({})", self.verifier())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/vectors/");

    fn vector(name: &str) -> String {
        let text = std::fs::read_to_string(format!("{VECTORS}{name}")).unwrap();
        text.strip_suffix('\n').unwrap().to_owned()
    }

    fn secret(name: &str, seed: u8) -> SecretKey {
        SecretKey::from_seed(AuthorityName::new(name).unwrap(), &[seed; 32])
    }

    /// The formula against the fixtures, whose key ids Go's sumdb/note
    /// recomputes (scripts/go-check): the TEST-ONLY log and witness keys.
    #[test]
    fn key_id_formula_matches_the_vectors() {
        for (file, alg, seed, id) in [
            ("checkpoint.vkey", NOTE_ALG_ED25519, 0x4c, "c14ce5bb"),
            ("cosigner.vkey", NOTE_ALG_COSIGNATURE_V1, 0x57, "231c41e8"),
        ] {
            let text = vector(file);
            let name = text.split('+').next().unwrap();
            let key = secret(name, seed).public();
            assert_eq!(hex::encode(note_key_id(name, alg, &key)), id, "{file}");
            // By hand: SHA-256(name || 0x0A || alg || key)[..4].
            let mut input = format!("{name}\n").into_bytes();
            input.push(alg);
            input.extend_from_slice(key.as_bytes());
            assert_eq!(Sha256::digest(&input)[..4], note_key_id(name, alg, &key));
            assert!(text.starts_with(&format!("{name}+{id}+")), "{file}");
        }
        let log = VerifierKey::parse(&vector("checkpoint.vkey")).unwrap();
        assert_eq!(hex::encode(log.key_id()), "c14ce5bb");
        let witness = CosignerKey::parse(&vector("cosigner.vkey")).unwrap();
        assert_eq!(hex::encode(witness.key_id()), "231c41e8");
    }

    #[test]
    fn key_texts_round_trip() {
        // Many keys, so that some base64 parts contain `+`.
        for n in 0..64u8 {
            let k = secret("k", n);
            let (v, c) = (VerifierKey::of(&k), CosignerKey::of(&k));
            assert_eq!(VerifierKey::parse(&v.to_string()).unwrap(), v);
            assert_eq!(CosignerKey::parse(&c.to_string()).unwrap(), c);
            assert_eq!(v, k.verifier());
        }
    }

    /// How a parse came out, in words that do not depend on the key type.
    fn outcome<const ALG: u8>(s: &str) -> String {
        let quoted = |q: &str| if q == s { "quoted" } else { "not shown" };
        match NoteKey::<ALG>::parse(s) {
            Ok(k) if k.to_string() == s => "ok".to_owned(),
            Ok(k) => format!("ok, but prints as {k}"),
            Err(KeyError::BadVerifierKey(q)) => format!("malformed, {}", quoted(&q)),
            Err(KeyError::KeyIdMismatch(q)) => format!("key id mismatch, {}", quoted(&q)),
            Err(e) => e.to_string(),
        }
    }

    /// `text` with its base64 part replaced by the base64 of `raw`.
    fn with_key_bytes(text: &str, raw: &[u8]) -> String {
        let front: Vec<&str> = text.splitn(3, '+').take(2).collect();
        format!("{}+{}", front.join("+"), B64.encode(raw))
    }

    /// One parser: each edit of a log key's text and of a witness key's text
    /// comes out the same way, refused or accepted, quoted or not.
    #[test]
    fn both_key_types_accept_and_refuse_the_same_texts() {
        type Edit = fn(text: &str, id: &str, raw: &[u8]) -> String;
        let malformed = "malformed, quoted";
        let hidden = "malformed, not shown";
        let weak = KeyError::BadPublicKey.to_string();
        let edits: [(&str, &str, Edit); 20] = [
            ("as printed", "ok", |t, _, _| t.to_owned()),
            ("a final newline", hidden, |t, _, _| format!("{t}\n")),
            ("a final CR LF", hidden, |t, _, _| format!("{t}\r\n")),
            ("a leading space", malformed, |t, _, _| format!(" {t}")),
            ("a trailing space", malformed, |t, _, _| format!("{t} ")),
            ("an upper-case key id", malformed, |t, id, _| {
                t.replace(id, &id.to_uppercase())
            }),
            ("another key id", "key id mismatch, quoted", |t, id, _| {
                t.replace(id, "00000000")
            }),
            ("a 7-digit key id", malformed, |t, id, _| {
                t.replace(id, &id[..7])
            }),
            ("a 9-digit key id", malformed, |t, id, _| {
                t.replace(id, &format!("{id}0"))
            }),
            ("a signed key id", malformed, |t, id, _| {
                t.replace(id, &format!("-{}", &id[1..]))
            }),
            ("stray base64 padding", malformed, |t, _, _| format!("{t}=")),
            ("a 31-byte key", malformed, |t, _, raw| {
                with_key_bytes(t, &raw[..32])
            }),
            ("the other key type", malformed, |t, _, raw| {
                let mut other = raw.to_vec();
                other[0] ^= NOTE_ALG_ED25519 ^ NOTE_ALG_COSIGNATURE_V1;
                with_key_bytes(t, &other)
            }),
            ("a weak key", &weak, |t, _, raw| {
                // The identity point, of small order.
                let mut weak = [0u8; 33];
                (weak[0], weak[1]) = (raw[0], 1);
                with_key_bytes(t, &weak)
            }),
            ("an upper-case name", malformed, |t, _, _| {
                t.replacen("test", "Test", 1)
            }),
            ("no name", malformed, |t, _, _| {
                t.split_once('+').unwrap().1.to_owned()
            }),
            ("no `+`", malformed, |t, _, _| t.replace('+', "")),
            ("a PEM label", hidden, |t, _, _| {
                format!("{t}-----BEGIN PRIVATE KEY-----")
            }),
            ("a PEM body line", hidden, |_, _, _| {
                let file = secret("k", 3).to_file_text("now");
                file.lines()
                    .find(|l| l.starts_with('M'))
                    .unwrap()
                    .to_owned()
            }),
            ("a long line", hidden, |t, _, _| {
                format!("{t}{}", "A".repeat(200))
            }),
        ];
        let parts = |t: &str| {
            let mut p = t.splitn(3, '+').skip(1);
            let id = p.next().unwrap().to_owned();
            (id, B64.decode(p.next().unwrap()).unwrap())
        };
        let (log, witness) = (vector("checkpoint.vkey"), vector("cosigner.vkey"));
        let ((log_id, log_raw), (w_id, w_raw)) = (parts(&log), parts(&witness));
        for (what, want, edit) in edits {
            let (l, w) = (edit(&log, &log_id, &log_raw), edit(&witness, &w_id, &w_raw));
            assert_eq!(
                outcome::<NOTE_ALG_ED25519>(&l),
                want,
                "log key, {what}: {l:?}"
            );
            let got = outcome::<NOTE_ALG_COSIGNATURE_V1>(&w);
            assert_eq!(got, want, "witness key, {what}: {w:?}");
        }
    }

    fn signed(text: &str) -> String {
        Note::sign(text.to_owned(), &secret("test-only-log", 0x4c)).to_string()
    }

    #[test]
    fn note_parsing_is_strict() {
        let text = signed("example.com/log\n3\nroot\n");
        let line = &text[text.find('\u{2014}').unwrap()..];
        let cases = [
            "example.com/log\n3\nroot\n".to_string(),
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
            Err(NoteError::TooManySignatures)
        );
        let long = format!("{}\n\n{line}", "a".repeat(MAX_NOTE_LEN));
        assert!(matches!(Note::parse(&long), Err(NoteError::TooLong(_))));
        // The text ends at the last empty line, as in Go's note.Open.
        let n = Note::parse(&format!("a\n\nb\n\n{line}")).unwrap();
        assert_eq!(n.text(), "a\n\nb\n");
    }

    #[test]
    fn notes_verify_only_under_their_key() {
        let key = secret("test-only-log", 0x4c);
        let text = signed("a\nb\n");
        let note = Note::parse(&text).unwrap();
        assert_eq!(note.to_string(), text);
        note.verify(&key.verifier()).unwrap();
        // The signature line carries the 0x01 key id and 64 bytes.
        let sig = &note.signatures()[0];
        assert_eq!(sig.name(), "test-only-log");
        assert_eq!(
            sig.key_id(),
            note_key_id("test-only-log", NOTE_ALG_ED25519, &key.public())
        );
        assert_eq!(sig.signature().len(), ED25519_SIG_LEN);
        // Another key of that name: not signed; the same key as a cosigner
        // key has another key id.
        let other = secret("test-only-log", 1);
        assert!(matches!(
            note.verify(&other.verifier()),
            Err(NoteError::NotSigned { .. })
        ));
        assert!(matches!(
            note.signature_by(&CosignerKey::of(&key)),
            Err(NoteError::NotSigned { .. })
        ));
        let changed = Note::parse(&text.replace("a\n", "c\n")).unwrap();
        assert!(matches!(
            changed.verify(&key.verifier()),
            Err(NoteError::BadSignature { .. })
        ));
    }

    #[test]
    fn a_pasted_private_key_is_never_quoted() {
        let text = secret("k", 9).to_file_text("now");
        let body: Vec<&str> = text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with("-----"))
            .collect();
        assert!(
            PKCS8_ED25519_BASE64.iter().any(|p| body[0].starts_with(p)),
            "{body:?}"
        );
        for s in [text.as_str(), body[0], &body.concat()] {
            assert!(quotable(s).ends_with("bytes of text, not shown>"), "{s}");
            let e = VerifierKey::parse(s).unwrap_err().to_string();
            assert!(!e.contains(body[0]), "{e}");
        }
        assert_eq!(quotable("alice+0000+AAAA"), "alice+0000+AAAA");
    }
}
