//! Test vectors for docs/FORMAT.md (fixtures/vectors/entries.json).
//!
//! Two checks:
//! - the vectors are what this crate produces (regenerate with
//!   `UPDATE_VECTORS=1 cargo test --test integration vectors::`; the file's
//!   own description still says `--test vectors`, as the fixture stays byte
//!   for byte);
//! - an independent verifier, written from docs/FORMAT.md with only blake3 and
//!   ed25519 and none of this crate's decoding, verifies every entry and the
//!   whole chain. If FORMAT.md and the code drift apart, this fails.

use std::path::PathBuf;

use access_ledger::{
    AuthorityName, Entry, EntryHash, Event, LedgerState, Origin, Provenance, Roles, SecretKey,
};
use serde_json::{json, Value};

use crate::util::{r, rights, s, text, utc};

fn vectors_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/vectors/entries.json")
}

fn seed(n: u8) -> [u8; 32] {
    let mut s = [0u8; 32];
    s[0] = n;
    s[31] = 0xAB;
    s
}

/// A small log covering every event kind, from fixed seeds and fixed times.
fn build() -> (Vec<SecretKey>, Vec<Entry>) {
    let admin = SecretKey::from_seed(
        AuthorityName::new("test-only-vector-admin").unwrap(),
        &seed(1),
    );
    let writer = SecretKey::from_seed(
        AuthorityName::new("test-only-vector-writer").unwrap(),
        &seed(2),
    );
    let events: Vec<(&SecretKey, &str, Event)> = vec![
        (
            &admin,
            "2019-01-01T00:00:00Z",
            Event::Genesis {
                origin: Origin::new("example.org/vectors").unwrap(),
                time_zone: access_ledger::TimeZoneName::new("America/Chicago").unwrap(),
                authority: admin.name().clone(),
                key: admin.public(),
            },
        ),
        (
            &admin,
            "2019-01-01T00:00:01Z",
            Event::AuthorityAdd {
                name: writer.name().clone(),
                key: writer.public(),
                roles: Roles::WRITER,
            },
        ),
        (
            &writer,
            "2019-01-02T00:00:00Z",
            Event::Grant {
                subject: s("group:partners"),
                resource: r("cpd/clear"),
                rights: rights("read"),
                basis: text("vector basis"),
                effective_at: utc("2019-01-02T00:00:00Z"),
                until: None,
            },
        ),
        (
            &writer,
            "2019-01-02T00:00:01Z",
            Event::Join {
                member: s("agency:a"),
                group: s("group:partners"),
                effective_at: utc("2019-01-02T00:00:00Z"),
            },
        ),
        (
            &writer,
            "2019-01-03T00:00:00Z",
            Event::Share {
                from: s("agency:a"),
                to: s("agency:b"),
                resource: r("cpd/clear/arrests"),
                rights: rights("export,read"),
                basis: text("task force"),
                effective_at: utc("2019-01-03T00:00:00Z"),
                until: Some(utc("2020-01-01T00:00:00Z")),
            },
        ),
        (
            &writer,
            "2019-01-04T00:00:00Z",
            Event::Unshare {
                from: s("agency:a"),
                to: s("agency:b"),
                resource: r("cpd/clear/arrests"),
                rights: None,
                basis: text("ended"),
                effective_at: utc("2019-01-04T00:00:00Z"),
            },
        ),
        (
            &writer,
            "2019-01-05T00:00:00Z",
            Event::Leave {
                member: s("agency:a"),
                group: s("group:partners"),
                effective_at: utc("2019-01-05T00:00:00Z"),
            },
        ),
        (
            &writer,
            "2019-07-10T17:00:00Z",
            Event::Revoke {
                subject: s("agency:b"),
                resource: r("cpd"),
                rights: None,
                reason: text("permanent"),
                effective_at: utc("2019-07-10T05:00:00Z"),
                permanent: true,
            },
        ),
        (
            &admin,
            "2019-07-11T00:00:00Z",
            Event::AuthorityRetire {
                name: writer.name().clone(),
            },
        ),
    ];
    let mut state = LedgerState::new();
    let mut out = Vec::new();
    for (key, at, ev) in events {
        let e = Entry::sign(
            state.len(),
            *state.head_hash(),
            utc(at),
            ev,
            key,
            state.ledger_id(),
        );
        let c = state
            .admit(e.entry().clone(), None, Provenance::New)
            .expect("vector entries are valid");
        out.push(c.entry().clone());
    }
    (vec![admin, writer], out)
}

fn render() -> Value {
    let (keys, entries) = build();
    let ledger_id = entries[0].hash().to_hex();
    json!({
        "description": "access-ledger entry vectors (docs/FORMAT.md). TEST-ONLY keys from fixed public seeds. \
                        Regenerate with UPDATE_VECTORS=1 cargo test --test vectors.",
        "keys": keys.iter().map(|k| json!({
            "name": k.name().as_str(),
            "seed_hex": hex::encode(if k.name().as_str().ends_with("admin") { seed(1) } else { seed(2) }),
            "public_key_hex": hex::encode(k.public().as_bytes()),
            "verifier_key": k.verifier().to_string(),
        })).collect::<Vec<_>>(),
        "ledger_id_hex": ledger_id,
        "entries": entries.iter().map(|e| json!({
            "seq": e.seq(),
            "type": e.body().kind(),
            "entry_hex": hex::encode(e.bytes()),
            "hash_hex": e.hash().to_hex(),
            "signature_hex": hex::encode(e.signature()),
        })).collect::<Vec<_>>(),
    })
}

#[test]
fn vectors_match_the_code() {
    let want = serde_json::to_string_pretty(&render()).unwrap() + "\n";
    let path = vectors_path();
    if std::env::var_os("UPDATE_VECTORS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).expect("fixtures/vectors/entries.json exists");
    assert_eq!(
        have, want,
        "vectors differ from the code; if the format changed on purpose, regenerate"
    );
}

/// A reader that follows docs/FORMAT.md, section "Entry", byte by byte.
struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> &'a [u8] {
        let s = &self.b[self.at..self.at + n];
        self.at += n;
        s
    }
    fn u8(&mut self) -> u8 {
        self.take(1)[0]
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.take(4).try_into().unwrap())
    }
    fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.take(8).try_into().unwrap())
    }
    fn string(&mut self) -> String {
        let n = self.u64() as usize;
        String::from_utf8(self.take(n).to_vec()).unwrap()
    }
    fn strings(&mut self) -> Vec<String> {
        let n = self.u64();
        (0..n).map(|_| self.string()).collect()
    }
    fn opt<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> Option<T> {
        match self.u8() {
            0 => None,
            1 => Some(f(self)),
            b => panic!("bad option tag {b}"),
        }
    }
}

/// Parses an event body per FORMAT.md, returning (kind, signer-relevant key if genesis/add).
fn read_body(r: &mut Reader) -> (&'static str, Option<[u8; 32]>) {
    match r.u32() {
        0 => {
            r.string();
            r.string();
            r.string();
            ("genesis", Some(r.take(32).try_into().unwrap()))
        }
        1 => {
            r.string();
            let k: [u8; 32] = r.take(32).try_into().unwrap();
            assert!(matches!(r.u8(), 1..=7));
            ("authority_add", Some(k))
        }
        2 => {
            r.string();
            ("authority_retire", None)
        }
        3 => {
            r.string();
            r.string();
            r.strings();
            r.string();
            r.u64();
            r.opt(|r| r.u64());
            ("grant", None)
        }
        4 => {
            r.string();
            r.string();
            r.opt(|r| r.strings());
            r.string();
            r.u64();
            assert!(r.u8() <= 1);
            ("revoke", None)
        }
        5 | 6 => {
            r.string();
            r.string();
            r.u64();
            ("join/leave", None)
        }
        7 => {
            r.string();
            r.string();
            r.string();
            r.strings();
            r.string();
            r.u64();
            r.opt(|r| r.u64());
            ("share", None)
        }
        8 => {
            r.string();
            r.string();
            r.string();
            r.opt(|r| r.strings());
            r.string();
            r.u64();
            ("unshare", None)
        }
        v => panic!("unknown variant {v}"),
    }
}

#[test]
fn an_independent_verifier_accepts_the_vectors() {
    use ed25519_dalek::{Signature, VerifyingKey};
    let v: Value = serde_json::from_str(&std::fs::read_to_string(vectors_path()).unwrap()).unwrap();
    let mut prev = [0u8; 32];
    let mut ledger_id = [0u8; 32];
    for (i, e) in v["entries"].as_array().unwrap().iter().enumerate() {
        let bytes = hex::decode(e["entry_hex"].as_str().unwrap()).unwrap();
        let mut r = Reader { b: &bytes, at: 0 };
        assert_eq!(r.u64(), i as u64, "seq");
        assert_eq!(r.take(32), prev, "prev_hash links to the previous entry");
        let _recorded_at = r.u64() as i64;
        let signer: [u8; 32] = r.take(32).try_into().unwrap();
        read_body(&mut r);
        let body_end = r.at;
        let sig: [u8; 64] = r.take(64).try_into().unwrap();
        assert_eq!(r.at, bytes.len(), "no trailing bytes");
        // Signature: "access-ledger/v1 entry signature" || ledger_id || bytes[..len-64].
        let mut msg = b"access-ledger/v1 entry signature".to_vec();
        msg.extend_from_slice(&ledger_id);
        msg.extend_from_slice(&bytes[..body_end]);
        let vk = VerifyingKey::from_bytes(&signer).unwrap();
        vk.verify_strict(&msg, &Signature::from_bytes(&sig))
            .expect("signature verifies");
        // Hash: blake3("access-ledger/v1 entry hash" || entry bytes).
        let mut h = blake3::Hasher::new();
        h.update(b"access-ledger/v1 entry hash");
        h.update(&bytes);
        let hash = *h.finalize().as_bytes();
        assert_eq!(hex::encode(hash), e["hash_hex"].as_str().unwrap());
        if i == 0 {
            ledger_id = hash;
            assert_eq!(hex::encode(ledger_id), v["ledger_id_hex"].as_str().unwrap());
        }
        prev = hash;
    }
}

#[test]
fn the_crate_decodes_the_vectors_and_rejects_them_in_another_ledger() {
    let (_, entries) = build();
    let mut state = LedgerState::new();
    for e in &entries {
        let decoded = Entry::decode(e.bytes()).unwrap();
        assert_eq!(&decoded, e);
        state.admit(decoded, None, Provenance::New).unwrap();
    }
    // The same entry 1 under a different ledger id fails its signature.
    let other = EntryHash([7; 32]);
    assert!(entries[1].clone().verify_signature(&other).is_err());
}
