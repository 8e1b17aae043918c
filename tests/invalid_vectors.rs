//! Invalid-entry vectors for docs/FORMAT.md (fixtures/vectors/invalid.json):
//! one vector per refusal the binary makes on an entry, each a valid log
//! prefix and then entries of which one breaks exactly one rule, with the seq
//! it fails at and a reason code (FORMAT.md §10). The entries are signed
//! properly unless the vector is about the signature, so a verifier that
//! skips a check accepts the vector.
//!
//! Made deterministically from fixed seeds and times; this test checks that
//! the file is what this code makes (regenerate with `UPDATE_VECTORS=1 cargo
//! test --test integration invalid_vectors::`) and that `LedgerState::admit`,
//! the rules judge of append and verify, refuses each vector at its seq for
//! its reason. `scripts/verify-vectors.py`, written from FORMAT.md alone,
//! checks the same file in CI.

use std::path::PathBuf;

use access_ledger::{
    AuthorityName, EncodingError, Entry, Event, LedgerState, Origin, Provenance, Roles, SecretKey,
    TimeZoneName, Timestamp, Violation, SIGNATURE_CONTEXT,
};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use curve25519_dalek::scalar::Scalar;
use serde_json::{json, Value};
use sha2::{Digest, Sha512};

use crate::util::{r, rights, s, text, utc};

fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/vectors/invalid.json")
}

fn seed(n: u8) -> [u8; 32] {
    let mut s = [0u8; 32];
    s[0] = n;
    s[31] = 0xCD;
    s
}

fn key(name: &str, n: u8) -> SecretKey {
    SecretKey::from_seed(AuthorityName::new(name).unwrap(), &seed(n))
}

struct Keys {
    admin: SecretKey,
    writer: SecretKey,
    signer: SecretKey,
    admin2: SecretKey,
    outsider: SecretKey,
}

fn keys() -> Keys {
    Keys {
        admin: key("test-only-admin", 1),
        writer: key("test-only-writer", 2),
        signer: key("test-only-signer", 3),
        admin2: key("test-only-admin2", 4),
        outsider: key("test-only-outsider", 5),
    }
}

/// A log being built: its rules state and its entries' bytes.
#[derive(Clone)]
struct Log {
    state: LedgerState,
    entries: Vec<Vec<u8>>,
}

impl Log {
    fn new() -> Self {
        Log {
            state: LedgerState::new(),
            entries: Vec::new(),
        }
    }

    /// A properly signed next entry (not appended).
    fn next(&self, k: &SecretKey, at: &str, ev: Event) -> Vec<u8> {
        Entry::sign(
            self.state.len(),
            *self.state.head_hash(),
            utc(at),
            ev,
            k,
            self.state.ledger_id(),
        )
        .entry()
        .bytes()
        .to_vec()
    }

    fn push(&mut self, k: &SecretKey, at: &str, ev: Event) {
        let b = self.next(k, at, ev);
        self.state
            .admit(Entry::decode(&b).unwrap(), None, Provenance::Stored)
            .expect("the base log is valid");
        self.entries.push(b);
    }

    /// `bytes` with its signature made anew by `k` over its unsigned part.
    fn resign(&self, bytes: &[u8], k: &SecretKey) -> Vec<u8> {
        let unsigned = &bytes[..bytes.len() - 64];
        let mut out = unsigned.to_vec();
        out.extend_from_slice(&k.sign(&message(&self.ledger_id(), unsigned)));
        out
    }

    fn ledger_id(&self) -> [u8; 32] {
        self.state.ledger_id().0
    }
}

fn message(ledger_id: &[u8; 32], unsigned: &[u8]) -> Vec<u8> {
    let mut m = SIGNATURE_CONTEXT.to_vec();
    m.extend_from_slice(ledger_id);
    m.extend_from_slice(unsigned);
    m
}

/// Replaces the length-prefixed string `old` in `bytes` by `new` (raw bytes).
fn swap_str(bytes: &[u8], old: &str, new: &[u8]) -> Vec<u8> {
    let mut needle = (old.len() as u64).to_le_bytes().to_vec();
    needle.extend_from_slice(old.as_bytes());
    let at = bytes
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap_or_else(|| panic!("{old:?} not in the entry"));
    let mut out = bytes[..at].to_vec();
    out.extend_from_slice(&(new.len() as u64).to_le_bytes());
    out.extend_from_slice(new);
    out.extend_from_slice(&bytes[at + needle.len()..]);
    out
}

/// Replaces the first occurrence of `old` in `bytes` by `new`.
fn swap(bytes: &[u8], old: &[u8], new: &[u8]) -> Vec<u8> {
    let at = bytes
        .windows(old.len())
        .position(|w| w == old)
        .expect("pattern in the entry");
    let mut out = bytes[..at].to_vec();
    out.extend_from_slice(new);
    out.extend_from_slice(&bytes[at + old.len()..]);
    out
}

/// Offset of the body (the event's variant index) in an entry.
const BODY_AT: usize = 8 + 32 + 8 + 32;

/// The group's order L, little endian.
const L: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

fn add_le(a: &[u8], b: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut carry = 0u16;
    for i in 0..32 {
        let v = u16::from(a[i]) + u16::from(b[i]) + carry;
        out[i] = v as u8;
        carry = v >> 8;
    }
    out
}

/// The base log every vector starts from (some vectors use a prefix of it).
fn base(k: &Keys) -> Log {
    let mut log = Log::new();
    log.push(
        &k.admin,
        "2019-01-01T00:00:00Z",
        Event::Genesis {
            origin: Origin::new("example.org/invalid-vectors").unwrap(),
            time_zone: TimeZoneName::new("America/Chicago").unwrap(),
            authority: k.admin.name().clone(),
            key: k.admin.public(),
        },
    );
    for (who, roles) in [
        (&k.writer, Roles::WRITER),
        (&k.signer, Roles::CHECKPOINT),
        (&k.admin2, Roles::ADMIN),
    ] {
        log.push(
            &k.admin,
            "2019-01-01T00:00:01Z",
            Event::AuthorityAdd {
                name: who.name().clone(),
                key: who.public(),
                roles,
            },
        );
    }
    log.push(
        &k.writer,
        "2019-01-02T00:00:00Z",
        grant("group:partners", "cpd/clear", "read"),
    );
    log.push(
        &k.writer,
        "2019-01-02T00:00:01Z",
        Event::Join {
            member: s("agency:a"),
            group: s("group:partners"),
            effective_at: utc("2019-01-02T00:00:00Z"),
        },
    );
    log.push(
        &k.writer,
        "2019-07-10T17:00:00Z",
        Event::Revoke {
            subject: s("agency:b"),
            resource: r("cpd"),
            rights: None,
            reason: text("ban"),
            effective_at: utc("2019-07-10T05:00:00Z"),
            permanent: true,
        },
    );
    log.push(
        &k.admin,
        "2019-07-11T00:00:00Z",
        Event::AuthorityRetire {
            name: k.admin2.name().clone(),
        },
    );
    log
}

fn grant(subject: &str, resource: &str, rs: &str) -> Event {
    Event::Grant {
        subject: s(subject),
        resource: r(resource),
        rights: rights(rs),
        basis: text("vector"),
        effective_at: utc("2019-01-02T00:00:00Z"),
        until: None,
    }
}

fn join(member: &str, group: &str) -> Event {
    Event::Join {
        member: s(member),
        group: s(group),
        effective_at: utc("2019-08-01T00:00:00Z"),
    }
}

struct Vector {
    name: &'static str,
    reason: &'static str,
    prefix: usize,
    entries: Vec<Vec<u8>>,
}

const LATER: &str = "2019-08-01T00:00:00Z";

/// Every vector. Each is a prefix of the base log, then entries of which the
/// last breaks one rule.
fn vectors() -> Vec<Vector> {
    let k = keys();
    let full = base(&k);
    let n = full.entries.len();
    let at = |prefix: usize| {
        let mut log = Log::new();
        for b in &full.entries[..prefix] {
            log.state
                .admit(Entry::decode(b).unwrap(), None, Provenance::Stored)
                .unwrap();
            log.entries.push(b.clone());
        }
        log
    };
    let mut v = Vec::new();
    let mut one = |name, reason, prefix, entry: Vec<u8>| {
        v.push(Vector {
            name,
            reason,
            prefix,
            entries: vec![entry],
        })
    };
    let log = at(n);
    let g = log.next(&k.writer, LATER, grant("agency:c", "cpd/clear", "read"));
    let resigned = |b: Vec<u8>| log.resign(&b, &k.writer);

    // Section 1: decoding.
    let mut long = swap_str(&g, "vector", &vec![b'a'; 70_000]);
    long = resigned(long);
    one("an entry longer than 65,535 bytes", "too-long", n, long);
    one(
        "an entry cut short",
        "truncated",
        n,
        g[..g.len() - 1].to_vec(),
    );
    let mut trailing = g.clone();
    trailing.push(0);
    one("a byte after the signature", "trailing", n, trailing);
    one(
        "a string that is not UTF-8",
        "utf8",
        n,
        resigned(swap_str(&g, "vector", b"vec\xfftor")),
    );
    let unknown_kind = {
        let mut b = g.clone();
        b[BODY_AT..BODY_AT + 4].copy_from_slice(&9u32.to_le_bytes());
        resigned(b)
    };
    one("an unknown event kind", "variant", n, unknown_kind);
    // `until` is the last field before the signature: tag 0 (none).
    let bad_option = {
        let mut b = g.clone();
        let at = b.len() - 64 - 1;
        assert_eq!(b[at], 0);
        b[at] = 2;
        resigned(b)
    };
    one("an option tag of 2", "option", n, bad_option);
    let revoke = log.next(
        &k.writer,
        LATER,
        Event::Revoke {
            subject: s("agency:c"),
            resource: r("cpd"),
            rights: None,
            reason: text("r"),
            effective_at: utc(LATER),
            permanent: false,
        },
    );
    let bad_bool = {
        let mut b = revoke.clone();
        let at = b.len() - 64 - 1;
        assert_eq!(b[at], 0);
        b[at] = 2;
        resigned(b)
    };
    one("a bool of 2", "bool", n, bad_bool);
    let add = |name: &str, key: [u8; 32], roles: u8| {
        let real = log.next(
            &k.admin,
            LATER,
            Event::AuthorityAdd {
                name: AuthorityName::new("test-only-new").unwrap(),
                key: k.outsider.public(),
                roles: Roles::WRITER,
            },
        );
        let mut b = swap_str(&real, "test-only-new", name.as_bytes());
        b = swap(&b, k.outsider.public().as_bytes(), &key);
        let at = b.len() - 64 - 1;
        b[at] = roles;
        log.resign(&b, &k.admin)
    };
    let outsider = *k.outsider.public().as_bytes();
    one(
        "a roles byte of 0",
        "roles",
        n,
        add("test-only-new", outsider, 0),
    );
    one(
        "a roles byte with an unknown bit",
        "roles",
        n,
        add("test-only-new", outsider, 0x0A),
    );
    one(
        "an authority name in capitals",
        "name",
        n,
        add("Test-Only-New", outsider, 2),
    );
    let mut identity = [0u8; 32];
    identity[0] = 1;
    one(
        "a small-order (identity) public key",
        "key",
        n,
        add("test-only-new", identity, 2),
    );
    let mut y_is_p = [0xffu8; 32];
    y_is_p[0] = 0xed;
    y_is_p[31] = 0x7f;
    one(
        "a public key encoded with y = p (non-canonical)",
        "key",
        n,
        add("test-only-new", y_is_p, 2),
    );
    let mut off_curve = [0u8; 32];
    off_curve[0] = 2;
    one(
        "a public key that is not a curve point",
        "key",
        n,
        add("test-only-new", off_curve, 2),
    );
    for (name, reason, old, new) in [
        (
            "a subject with a capital",
            "subject",
            "agency:c",
            &b"Agency:c"[..],
        ),
        ("a subject with no kind", "subject", "agency:c", b"agencyc"),
        ("a resource segment ..", "resource", "cpd/clear", b"cpd/.."),
        (
            "a resource with an empty segment",
            "resource",
            "cpd/clear",
            b"cpd//clear",
        ),
        (
            "a resource 17 segments deep",
            "resource",
            "cpd/clear",
            b"a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q",
        ),
        ("a right with a capital", "right", "read", b"Read"),
        (
            "a basis with an escape character",
            "text",
            "vector",
            b"vec\x1btor",
        ),
        ("a basis with DEL", "text", "vector", b"vec\x7ftor"),
        (
            "a basis with NEL (U+0085)",
            "text",
            "vector",
            "vec\u{85}tor".as_bytes(),
        ),
    ] {
        one(name, reason, n, resigned(swap_str(&g, old, new)));
    }
    one(
        "a basis longer than 4,096 bytes",
        "text",
        n,
        resigned(swap_str(&g, "vector", &vec![b'a'; 4097])),
    );
    // Rights sets: the `Vec<String>` count is right before the first right.
    let g2 = log.next(
        &k.writer,
        LATER,
        grant("agency:c", "cpd/clear", "export,read"),
    );
    let rights_vec = |items: &[&str]| {
        let mut b = 2u64.to_le_bytes().to_vec();
        for x in ["export", "read"] {
            b.extend_from_slice(&(x.len() as u64).to_le_bytes());
            b.extend_from_slice(x.as_bytes());
        }
        let mut new = (items.len() as u64).to_le_bytes().to_vec();
        for x in items {
            new.extend_from_slice(&(x.len() as u64).to_le_bytes());
            new.extend_from_slice(x.as_bytes());
        }
        resigned(swap(&g2, &b, &new))
    };
    one(
        "rights out of order",
        "rights-order",
        n,
        rights_vec(&["read", "export"]),
    );
    one(
        "a right twice",
        "rights-order",
        n,
        rights_vec(&["read", "read"]),
    );
    one(
        "* beside another right",
        "rights-order",
        n,
        rights_vec(&["*", "read"]),
    );
    one("an empty rights set", "rights", n, rights_vec(&[]));
    let many: Vec<String> = (0..33).map(|i| format!("r{i:02}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    one("33 rights", "rights", n, rights_vec(&many));
    // Genesis fields.
    let genesis = &full.entries[0];
    let regenesis = |b: Vec<u8>| Log::new().resign(&b, &k.admin);
    one(
        "an origin with +",
        "origin",
        0,
        regenesis(swap_str(
            genesis,
            "example.org/invalid-vectors",
            b"example.org/a+b",
        )),
    );
    one(
        "a time zone name with a space",
        "time-zone",
        0,
        regenesis(swap_str(genesis, "America/Chicago", b"America/New York")),
    );
    one(
        "a time zone name with a .. component",
        "time-zone",
        0,
        regenesis(swap_str(genesis, "America/Chicago", b"../etc/passwd")),
    );

    // Section 4: signatures.
    let flipped = swap(&g, b"agency:c", b"agency:b");
    one("a subject changed after signing", "signature", n, flipped);
    let mut other_ledger = g.clone();
    let unsigned = &g[..g.len() - 64];
    let sig = k.writer.sign(&message(&[0; 32], unsigned));
    other_ledger[g.len() - 64..].copy_from_slice(&sig);
    one("signed for another ledger id", "signature", n, other_ledger);
    let mut big_s = g.clone();
    let s_plus_l = add_le(&g[g.len() - 32..], &L);
    let len = big_s.len();
    big_s[len - 32..].copy_from_slice(&s_plus_l);
    one(
        "S + L in place of S (non-canonical S)",
        "signature",
        n,
        big_s,
    );
    // R = identity, S = k·a: [S]B = R + [k]A holds, so a verifier that does
    // not refuse a small-order R accepts it (OpenSSL, Python's cryptography).
    let small_r = {
        let mut b = g.clone();
        let unsigned = &g[..g.len() - 64];
        let mut r_bytes = [0u8; 32];
        r_bytes[0] = 1;
        let a_pub = k.writer.public();
        let msg = message(&log.ledger_id(), unsigned);
        let h = Sha512::new()
            .chain_update(r_bytes)
            .chain_update(a_pub.as_bytes())
            .chain_update(&msg)
            .finalize();
        let kk = Scalar::from_bytes_mod_order_wide(&h.into());
        let expanded = Sha512::digest(seed(2));
        let mut a = [0u8; 32];
        a.copy_from_slice(&expanded[..32]);
        a[0] &= 248;
        a[31] &= 127;
        a[31] |= 64;
        let a = Scalar::from_bytes_mod_order(a);
        let s = kk * a;
        let len = b.len();
        b[len - 64..len - 32].copy_from_slice(&r_bytes);
        b[len - 32..].copy_from_slice(s.as_bytes());
        b
    };
    one(
        "a small-order R (identity) that satisfies the equation",
        "signature",
        n,
        small_r,
    );
    // A signer key of small order with R = identity and S = 0 "verifies"
    // any message under a verifier that allows small-order keys.
    let small_key = {
        let mut b = swap(&g, k.writer.public().as_bytes(), &identity);
        let len = b.len();
        b[len - 64..].fill(0);
        b[len - 64] = 1;
        b
    };
    one(
        "a small-order signer key with R = identity, S = 0",
        "key",
        n,
        small_key,
    );

    // Section 5: the chain.
    let mut wrong_seq = log.next(&k.writer, LATER, grant("agency:c", "cpd/clear", "read"));
    wrong_seq[0] += 1;
    one("seq is not the position", "seq", n, resigned(wrong_seq));
    let mut wrong_prev = g.clone();
    wrong_prev[8] ^= 1;
    one(
        "prev_hash is not the previous entry's hash",
        "prev-hash",
        n,
        resigned(wrong_prev),
    );
    one(
        "recorded before the previous entry",
        "time-backwards",
        n,
        log.next(
            &k.writer,
            "2019-07-10T00:00:00Z",
            grant("agency:c", "cpd/clear", "read"),
        ),
    );
    one(
        "recorded in the year 9000",
        "in-future",
        n,
        log.next(
            &k.writer,
            "9000-01-01T00:00:00Z",
            grant("agency:c", "cpd/clear", "read"),
        ),
    );
    one(
        "a grant at seq 0",
        "not-genesis",
        0,
        Log::new().next(
            &k.admin,
            "2019-01-01T00:00:00Z",
            grant("agency:c", "cpd", "read"),
        ),
    );
    let late = {
        let ev = Entry::decode(genesis).unwrap().body().clone();
        log.next(&k.admin, LATER, ev)
    };
    one("a genesis at seq 8", "late-genesis", n, late);
    let not_self = {
        let ev = Entry::decode(genesis).unwrap().body().clone();
        Log::new().next(&k.writer, "2019-01-01T00:00:00Z", ev)
    };
    one(
        "a genesis signed by another key",
        "genesis-not-self-signed",
        0,
        not_self,
    );
    one(
        "signed by a key that is no authority",
        "unknown-signer",
        n,
        log.next(&k.outsider, LATER, grant("agency:c", "cpd", "read")),
    );
    one(
        "signed by a retired authority",
        "retired-signer",
        n,
        log.next(&k.admin2, LATER, grant("agency:c", "cpd", "read")),
    );
    let add_by = |who: &SecretKey, name: &str, key: &SecretKey| {
        log.next(
            who,
            LATER,
            Event::AuthorityAdd {
                name: AuthorityName::new(name).unwrap(),
                key: key.public(),
                roles: Roles::WRITER,
            },
        )
    };
    one(
        "a writer adds an authority",
        "unauthorized",
        n,
        add_by(&k.writer, "test-only-new", &k.outsider),
    );
    one(
        "a checkpoint signer writes a grant",
        "unauthorized",
        n,
        log.next(&k.signer, LATER, grant("agency:c", "cpd", "read")),
    );
    one(
        "an authority name used before",
        "authority-exists",
        n,
        add_by(&k.admin, "test-only-admin2", &k.outsider),
    );
    one(
        "a key used before",
        "key-in-use",
        n,
        add_by(&k.admin, "test-only-new", &k.admin2),
    );
    let retire = |name: &str| {
        log.next(
            &k.admin,
            LATER,
            Event::AuthorityRetire {
                name: AuthorityName::new(name).unwrap(),
            },
        )
    };
    one(
        "retiring an authority that is not active",
        "unknown-authority",
        n,
        retire("test-only-admin2"),
    );
    one(
        "retiring the last active admin",
        "last-admin",
        n,
        retire("test-only-admin"),
    );
    let interval = |until: &str| Event::Grant {
        subject: s("agency:c"),
        resource: r("cpd"),
        rights: rights("read"),
        basis: text("vector"),
        effective_at: utc(LATER),
        until: Some(utc(until)),
    };
    one(
        "a grant that ends when it starts",
        "empty-interval",
        n,
        log.next(&k.writer, LATER, interval(LATER)),
    );
    one(
        "a share that ends before it starts",
        "empty-interval",
        n,
        log.next(
            &k.writer,
            LATER,
            Event::Share {
                from: s("agency:a"),
                to: s("agency:c"),
                resource: r("cpd"),
                rights: rights("read"),
                basis: text("vector"),
                effective_at: utc(LATER),
                until: Some(utc("2019-07-01T00:00:00Z")),
            },
        ),
    );
    one(
        "a grant over a ban",
        "grant-over-ban",
        n,
        log.next(
            &k.writer,
            LATER,
            grant("agency:b", "cpd/clear/arrests", "read"),
        ),
    );
    one(
        "a group joining itself",
        "group-cycle",
        n,
        log.next(&k.writer, LATER, join("group:partners", "group:partners")),
    );
    let mut two = log.clone();
    two.push(&k.writer, LATER, join("group:x", "group:partners"));
    let closing = two.next(&k.writer, LATER, join("group:partners", "group:x"));
    v.push(Vector {
        name: "a join that closes a cycle of two groups",
        reason: "group-cycle",
        prefix: n,
        entries: vec![two.entries[n].clone(), closing],
    });
    let mut one = |name, reason, prefix, entry: Vec<u8>| {
        v.push(Vector {
            name,
            reason,
            prefix,
            entries: vec![entry],
        })
    };
    one(
        "a join to a subject that is not a group",
        "not-a-group",
        n,
        log.next(&k.writer, LATER, join("agency:a", "agency:b")),
    );
    one(
        "a leave from a subject that is not a group",
        "not-a-group",
        n,
        log.next(
            &k.writer,
            LATER,
            Event::Leave {
                member: s("agency:a"),
                group: s("agency:b"),
                effective_at: utc(LATER),
            },
        ),
    );
    one(
        "a leave without a join",
        "never-joined",
        n,
        log.next(
            &k.writer,
            LATER,
            Event::Leave {
                member: s("agency:z"),
                group: s("group:partners"),
                effective_at: utc(LATER),
            },
        ),
    );
    one(
        "a share with oneself",
        "self-share",
        n,
        log.next(
            &k.writer,
            LATER,
            Event::Share {
                from: s("agency:a"),
                to: s("agency:a"),
                resource: r("cpd"),
                rights: rights("read"),
                basis: text("vector"),
                effective_at: utc(LATER),
                until: None,
            },
        ),
    );
    one(
        "an unshare with oneself",
        "self-share",
        n,
        log.next(
            &k.writer,
            LATER,
            Event::Unshare {
                from: s("agency:a"),
                to: s("agency:a"),
                resource: r("cpd"),
                rights: None,
                basis: text("vector"),
                effective_at: utc(LATER),
            },
        ),
    );
    v
}

/// The reason code of a refusal (FORMAT.md §10).
fn reason(v: &Violation) -> String {
    let code = match v {
        Violation::Encoding(e) => return encoding_reason(e),
        Violation::SeqMismatch { .. } => "seq",
        Violation::HashMismatch { .. } => "prev-hash",
        Violation::BadSignature => "signature",
        Violation::NotGenesis(_) => "not-genesis",
        Violation::LateGenesis => "late-genesis",
        Violation::GenesisNotSelfSigned => "genesis-not-self-signed",
        Violation::TimeWentBackwards { .. } => "time-backwards",
        Violation::InFuture { .. } => "in-future",
        Violation::UnknownSigner(_) => "unknown-signer",
        Violation::RetiredSigner(_) => "retired-signer",
        Violation::Unauthorized { .. } => "unauthorized",
        Violation::AuthorityExists(_) => "authority-exists",
        Violation::KeyInUse(_) => "key-in-use",
        Violation::UnknownAuthority(_) => "unknown-authority",
        Violation::LastAdmin(_) => "last-admin",
        Violation::EmptyInterval { .. } => "empty-interval",
        Violation::GrantOverBan { .. } => "grant-over-ban",
        Violation::GroupCycle { .. } => "group-cycle",
        Violation::NotAGroup(_) => "not-a-group",
        Violation::NeverJoined { .. } => "never-joined",
        Violation::SelfShare(_) => "self-share",
        other => return format!("unclassified: {other}"),
    };
    code.to_owned()
}

fn encoding_reason(e: &EncodingError) -> String {
    let m = e.to_string();
    let code = match e {
        EncodingError::TooLong(_) => "too-long",
        EncodingError::TrailingBytes(_) => "trailing",
        EncodingError::NonCanonical => "non-canonical",
        _ if m.contains("UnexpectedEnd") || m.contains("LimitExceeded") => "truncated",
        _ if m.contains("Utf8") => "utf8",
        _ if m.contains("InvalidBooleanValue") => "bool",
        _ if m.contains("UnexpectedVariant") && m.contains("Option") => "option",
        _ if m.contains("UnexpectedVariant") => "variant",
        _ if m.contains("invalid roles byte") => "roles",
        _ if m.contains("invalid subject") => "subject",
        _ if m.contains("invalid resource") => "resource",
        _ if m.contains("invalid right ") => "right",
        _ if m.contains("invalid rights") => "rights",
        _ if m.contains("canonical order") => "rights-order",
        _ if m.contains("invalid authority name") => "name",
        _ if m.contains("invalid origin") => "origin",
        _ if m.contains("invalid time zone name") => "time-zone",
        _ if m.contains("invalid text") => "text",
        _ if m.contains("invalid public key") => "key",
        _ => return format!("unclassified: {m}"),
    };
    code.to_owned()
}

/// Replays `entries`; the seq and reason of the first refusal.
fn first_refusal(entries: &[Vec<u8>]) -> Option<(u64, String)> {
    let mut state = LedgerState::new();
    let now = Some(Timestamp::now());
    for (i, b) in entries.iter().enumerate() {
        let e = match Entry::decode(b) {
            Ok(e) => e,
            Err(e) => return Some((i as u64, encoding_reason(&e))),
        };
        if let Err(c) = state.admit(e, now, Provenance::Stored) {
            assert_eq!(c.seq, i as u64);
            return Some((c.seq, reason(&c.violation)));
        }
    }
    None
}

fn document() -> Value {
    let k = keys();
    let full = base(&k);
    let b64 = |b: &Vec<u8>| B64.encode(b);
    let mut seen = std::collections::BTreeSet::new();
    let vectors: Vec<Value> = vectors()
        .into_iter()
        .map(|v| {
            seen.insert(v.reason);
            json!({
                "name": v.name,
                "prefix": v.prefix,
                "entries_b64": v.entries.iter().map(b64).collect::<Vec<_>>(),
                "fails_at": v.prefix + v.entries.len() - 1,
                "reason": v.reason,
            })
        })
        .collect();
    let keys: Vec<Value> = [&k.admin, &k.writer, &k.signer, &k.admin2, &k.outsider]
        .iter()
        .enumerate()
        .map(|(i, key)| {
            json!({
                "name": key.name().as_str(),
                "seed_hex": hex::encode(seed(i as u8 + 1)),
                "public_key_hex": hex::encode(key.public().as_bytes()),
            })
        })
        .collect();
    json!({
        "description": "access-ledger invalid-entry vectors (docs/FORMAT.md §10). TEST-ONLY keys from fixed public seeds. Each vector is the first `prefix` entries of `base_b64`, then `entries_b64`; a verifier must accept every entry before `fails_at` and refuse the entry at `fails_at` for `reason`. Regenerate with UPDATE_VECTORS=1 cargo test --test integration invalid_vectors::",
        "keys": keys,
        "base_b64": full.entries.iter().map(b64).collect::<Vec<_>>(),
        "vectors": vectors,
    })
}

#[test]
fn invalid_vectors_are_refused_at_their_seq_for_their_reason() {
    let doc = document();
    let text = serde_json::to_string_pretty(&doc).unwrap() + "\n";
    if std::env::var_os("UPDATE_VECTORS").is_some() {
        std::fs::write(path(), &text).unwrap();
    }
    let stored = std::fs::read_to_string(path()).expect("fixtures/vectors/invalid.json exists");
    assert!(
        stored == text,
        "fixtures/vectors/invalid.json differs from what this test makes; regenerate with UPDATE_VECTORS=1 if the change is intended"
    );
    let base: Vec<Vec<u8>> = doc["base_b64"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| B64.decode(b.as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(first_refusal(&base), None, "the base log is valid");
    for v in doc["vectors"].as_array().unwrap() {
        let prefix = v["prefix"].as_u64().unwrap() as usize;
        let mut entries = base[..prefix].to_vec();
        for b in v["entries_b64"].as_array().unwrap() {
            entries.push(B64.decode(b.as_str().unwrap()).unwrap());
        }
        let expected = (
            v["fails_at"].as_u64().unwrap(),
            v["reason"].as_str().unwrap().to_owned(),
        );
        assert_eq!(first_refusal(&entries), Some(expected), "{}", v["name"]);
    }
}

/// Every refusal `LedgerState::admit` can make on an entry alone has a
/// vector (the checkpoint rules need stored checkpoints: TRANSPARENCY.md).
#[test]
fn every_entry_refusal_has_a_vector() {
    let have: std::collections::BTreeSet<&str> = vectors().iter().map(|v| v.reason).collect();
    for code in [
        "too-long",
        "truncated",
        "trailing",
        "utf8",
        "bool",
        "option",
        "variant",
        "roles",
        "subject",
        "resource",
        "right",
        "rights",
        "rights-order",
        "name",
        "origin",
        "time-zone",
        "text",
        "key",
        "seq",
        "prev-hash",
        "signature",
        "time-backwards",
        "in-future",
        "not-genesis",
        "late-genesis",
        "genesis-not-self-signed",
        "unknown-signer",
        "retired-signer",
        "unauthorized",
        "authority-exists",
        "key-in-use",
        "unknown-authority",
        "last-admin",
        "empty-interval",
        "grant-over-ban",
        "group-cycle",
        "not-a-group",
        "never-joined",
        "self-share",
    ] {
        assert!(have.contains(code), "no vector for {code}");
    }
}
