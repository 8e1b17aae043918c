//! The index layout and its key codec: how every index key is built and the
//! one place where one is taken apart ([`split`]).
//!
//! Every key starts with [`INDEX_PREFIX`] (`X`) and a second byte naming its
//! space. Names (subjects, resources) are written as their UTF-8 bytes and a
//! `0x00` terminator: identifiers never contain `0x00`, so `agency:ice\0` is
//! never a prefix of `agency:ice2\0`, and terminated names sort as the names
//! do. `seq` is a u64, big endian. A time (`eff` = effective_at, `until`,
//! `rec` = recorded_at) is its i64 microseconds with the sign bit flipped, big
//! endian, so that byte order is time order; `eff seq` thus sorts in the
//! semantic order `(effective_at, seq)`.
//!
//! | space | key after `X` | value | what for |
//! |---|---|---|---|
//! | [`GRANTS`] | `g subject\0 resource\0 eff seq` | record | grants, revokes, bans of a subject |
//! | [`BY_RESOURCE`] | `r resource\0 subject\0 eff seq` | record | the same, by resource (`who-can`) |
//! | [`MEMBER_OF`] | `m member\0 group\0 eff seq` | `00` join, `01` leave | a member's groups |
//! | [`MEMBERS`] | `M group\0 member\0 eff seq` | `00` join, `01` leave | a group's members |
//! | [`SHARES_TO`] | `s to\0 resource\0 from\0 eff seq` | record | shares and unshares, by recipient |
//! | [`SHARES_FROM`] | `f from\0 resource\0 to\0 eff seq` | empty | the same, by sharer (`history`) |
//! | [`SHARES_OF`] | `S resource\0 from\0 to\0 eff seq` | empty | the same, by resource (`history`) |
//! | [`TIMELINE`] | `t day chunk` | offsets | the access events of the chunk effective on that day |
//! | [`EXPIRIES`] | `u day chunk` | offsets | the grants of the chunk whose `until` is on that day |
//! | [`SIGNERS`] | `a key` (32-byte ed25519 key) | authority name | genesis, authority_add |
//!
//! Every access event is under exactly one space per name it holds, with that
//! name first (`g`/`r` for grants, revokes and bans; `m`/`M` for joins and
//! leaves; `s`/`f`/`S` for shares and unshares), so the history of a subject
//! or resource is the union of scans of the spaces that start with its kind
//! of name ([`HISTORY_OF_SUBJECT`], [`HISTORY_OF_RESOURCE`]), and no separate
//! event list is kept. Storage layout 2 also had such lists (`h`, `H`) and a
//! space `k` from `recorded_at` to seq; layout 3 dropped them (about three
//! sled keys per entry): `recorded_at` never decreases along the log, so the
//! entries known at a time are found by a binary search of the entries
//! themselves (`Queries::known_seq`).
//!
//! In the `t` and `u` spaces, `day` is the start of a UTC day (a time, as
//! above: [`day_of`]) and `chunk` is `seq / 16384` (u64 big endian:
//! [`TIME_CHUNK_ENTRIES`]); the value lists the events' `seq % 16384`, each
//! a u16 big endian, in seq order. An event appends its offset to its key's
//! value, so a value holds at most 16,384 offsets (32 KB), and there is one
//! key per (day, chunk) pair that has an event. The events of a period are
//! found by reading the keys of its days (`Queries::changes`). Storage
//! layout 3 had one empty-valued key per event there (`t eff seq`, `u until
//! seq`: 1.09 million keys at a million entries, which sled's page table
//! pays for at every open); layout 4 replaced them.
//!
//! A *record* (the value of a `g`, `r` or `s` key) is an
//! [`IndexRecord`](super::record::IndexRecord); its bytes are written out in
//! `record.rs`.
//!
//! Every key but `a` ends in the 16-byte tail `time seq`; every such key but
//! `t` and `u` has a terminated name right before the tail. The bytes
//! MUST NOT change: a ledger written before reads the same only if they do
//! not (`rebuild --check` compares them byte for byte).

use crate::ident::{Resource, Subject};
use crate::store::{Store, StoreError, INDEX_PREFIX};
use crate::time::Timestamp;

/// Space `g`: access records by subject, then resource.
pub(in crate::query) const GRANTS: u8 = b'g';
/// Space `r`: access records by resource, then subject.
pub(in crate::query) const BY_RESOURCE: u8 = b'r';
/// Space `m`: joins and leaves by member, then group.
pub(in crate::query) const MEMBER_OF: u8 = b'm';
/// Space `M`: joins and leaves by group, then member.
pub(in crate::query) const MEMBERS: u8 = b'M';
/// Space `s`: share records by recipient, resource, then sharer.
pub(in crate::query) const SHARES_TO: u8 = b's';
/// Space `f`: shares and unshares by sharer, resource, then recipient.
pub(in crate::query) const SHARES_FROM: u8 = b'f';
/// Space `S`: shares and unshares by resource, sharer, then recipient.
pub(in crate::query) const SHARES_OF: u8 = b'S';
/// The spaces whose keys start with a subject: together, every access event
/// that names the subject, once per space that names it.
pub(in crate::query) const HISTORY_OF_SUBJECT: [u8; 5] =
    [GRANTS, MEMBER_OF, MEMBERS, SHARES_TO, SHARES_FROM];
/// The spaces whose keys start with a resource: together, every access event
/// on the resource.
pub(in crate::query) const HISTORY_OF_RESOURCE: [u8; 2] = [BY_RESOURCE, SHARES_OF];
/// Space `t`: access events by effective time.
pub(in crate::query) const TIMELINE: u8 = b't';
/// Space `u`: grants by `until`.
pub(in crate::query) const EXPIRIES: u8 = b'u';
/// Space `a`: authority names by key.
pub(in crate::query) const SIGNERS: u8 = b'a';

/// Entries per chunk of the `t` and `u` spaces: entry `seq` is offset `seq %
/// TIME_CHUNK_ENTRIES` of chunk `seq / TIME_CHUNK_ENTRIES`. Offsets fit in a
/// u16, and a value stays under 32 KB (a value is rewritten at each append
/// to its key). 256 in unit tests, so that their logs span several chunks.
pub(in crate::query) const TIME_CHUNK_ENTRIES: u64 = if cfg!(test) { 256 } else { 1 << 14 };

/// A UTC day in microseconds: the span of one `day` of the `t` and `u` spaces.
const DAY_MICROS: i64 = 86_400_000_000;

/// The start of the UTC day holding `t` (the earliest time for a `t` before
/// every whole day a timestamp can hold): the `day` of `t` in the `t` and
/// `u` spaces. Never after `t`, and never decreasing as `t` grows.
pub(in crate::query) fn day_of(t: Timestamp) -> Timestamp {
    let us = t.as_micros();
    Timestamp::from_micros(us.saturating_sub(us.rem_euclid(DAY_MICROS)))
}

/// Length of the `eff seq` (or `time seq`) tail of a key.
const TAIL: usize = 16;

/// A time as index bytes (in keys and in records): its i64 microseconds with
/// the sign bit flipped, big endian, so that byte order is time order.
pub(in crate::query) fn time_bytes(t: Timestamp) -> [u8; 8] {
    ((t.as_micros() as u64) ^ (1 << 63)).to_be_bytes()
}

/// The inverse of [`time_bytes`].
pub(in crate::query) fn time_from(b: [u8; 8]) -> Timestamp {
    Timestamp::from_micros((u64::from_be_bytes(b) ^ (1 << 63)) as i64)
}

/// An index key under construction: a space, then names, times, seqs in the
/// order of the layout table. The finished bytes are field `.0`.
pub(in crate::query) struct Key(pub(in crate::query) Vec<u8>);

impl Key {
    /// `X` and the space byte.
    pub(in crate::query) fn new(space: u8) -> Key {
        let mut v = Vec::with_capacity(64);
        v.push(INDEX_PREFIX);
        v.push(space);
        Key(v)
    }

    /// A name and its `0x00` terminator.
    pub(in crate::query) fn name(mut self, s: &str) -> Key {
        self.0.extend_from_slice(s.as_bytes());
        self.0.push(0);
        self
    }

    /// A name without its terminator: as a scan prefix, it finds this name
    /// and every name that starts with it (the caller picks out the ones it
    /// wants from [`Parts::name`]).
    pub(in crate::query) fn name_start(mut self, s: &str) -> Key {
        self.0.extend_from_slice(s.as_bytes());
        self
    }

    /// Raw bytes of fixed length (the `a` space's key).
    pub(in crate::query) fn bytes(mut self, b: &[u8]) -> Key {
        self.0.extend_from_slice(b);
        self
    }

    /// A time, as [`time_bytes`].
    pub(in crate::query) fn time(mut self, t: Timestamp) -> Key {
        self.0.extend_from_slice(&time_bytes(t));
        self
    }

    /// A seq, u64 big endian.
    pub(in crate::query) fn seq(mut self, seq: u64) -> Key {
        self.0.extend_from_slice(&seq.to_be_bytes());
        self
    }
}

/// An index key taken apart by [`split`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::query) struct Parts<'k> {
    /// The key's last name, without its terminator (never empty, never
    /// holding `0x00`, not yet checked as an identifier); empty in the `t` and
    /// `u` spaces, which have none.
    pub(in crate::query) name: &'k [u8],
    /// The time of the tail (`eff`; the `day` in the `t` and `u` spaces).
    pub(in crate::query) time: Timestamp,
    /// The seq of the tail (the `chunk` in the `t` and `u` spaces).
    pub(in crate::query) seq: u64,
}

/// Takes an index key apart, the one splitter of index keys.
///
/// With `name_at = Some(n)`, `key` MUST be `head ‖ name ‖ 0x00 ‖ time ‖ seq`
/// where `head` is its first `n` bytes (the caller's scan prefix up to where
/// the last name starts). With `None` (the `t` and `u` spaces), `key` MUST be
/// `X space day chunk`. Anything else is refused (`None`): a key too short for
/// its tail, a name without its terminator, an empty name, a name holding
/// `0x00` (`n` is not where the last name starts), bytes between the space
/// and the tail of an unnamed key.
pub(in crate::query) fn split(key: &[u8], name_at: Option<usize>) -> Option<Parts<'_>> {
    let tail_at = key.len().checked_sub(TAIL)?;
    let name = match name_at {
        None if tail_at == 2 => &[][..],
        None => return None,
        Some(n) => match key.get(n..tail_at)?.split_last()? {
            (0, name) if !name.is_empty() && !name.contains(&0) => name,
            _ => return None,
        },
    };
    Some(tail(key, tail_at, name))
}

/// The parts of `key` with its tail at `tail_at` (the key's last [`TAIL`]
/// bytes, which the caller MUST have checked are there) and `name`.
fn tail<'k>(key: &'k [u8], tail_at: usize, name: &'k [u8]) -> Parts<'k> {
    let mut t = [0; 8];
    t.copy_from_slice(&key[tail_at..tail_at + 8]);
    let mut s = [0; 8];
    s.copy_from_slice(&key[tail_at + 8..]);
    Parts {
        name,
        time: time_from(t),
        seq: u64::from_be_bytes(s),
    }
}

/// Takes apart a named key by its *first* name (right after the space byte)
/// and its tail, whatever names follow: `X space name ‖ 0x00 ‖ ... ‖ time ‖
/// seq`. `None` for a key too short for its tail, without a terminated,
/// non-empty first name before the tail. `history` reads keys of several
/// spaces this way: the first name is the subject or resource asked about.
pub(in crate::query) fn split_first(key: &[u8]) -> Option<Parts<'_>> {
    let tail_at = key.len().checked_sub(TAIL)?;
    let body = key.get(2..tail_at)?;
    let end = body.iter().position(|b| *b == 0)?;
    if end == 0 {
        return None;
    }
    Some(tail(key, tail_at, &body[..end]))
}

/// Whether resource name `a` is `b` or an ancestor of `b`, compared as key
/// bytes ([`Resource::covers`] without decoding either).
pub(in crate::query) fn name_covers(a: &[u8], b: &[u8]) -> bool {
    b.starts_with(a) && (b.len() == a.len() || b[a.len()] == b'/')
}

/// A name of a key as a subject.
pub(in crate::query) fn subject_from(b: &[u8]) -> Option<Subject> {
    Subject::new(std::str::from_utf8(b).ok()?).ok()
}

/// A name of a key as a resource.
pub(in crate::query) fn resource_from(b: &[u8]) -> Option<Resource> {
    Resource::new(std::str::from_utf8(b).ok()?).ok()
}

/// The error for an index key or value of `store` that does not decode.
pub(in crate::query) fn undecodable(store: &Store, key: &[u8]) -> StoreError {
    store.damaged(format!("index record {key:02x?} does not decode"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(us: i64) -> Timestamp {
        Timestamp::from_micros(us)
    }

    #[test]
    fn time_bytes_round_trip_and_sort_as_times() {
        let times = [
            i64::MIN,
            -1_000_000,
            -1,
            0,
            1,
            1_561_939_200_000_000,
            i64::MAX,
        ];
        for w in times.windows(2) {
            assert!(time_bytes(at(w[0])) < time_bytes(at(w[1])), "{w:?}");
        }
        for us in times {
            assert_eq!(time_from(time_bytes(at(us))), at(us));
        }
    }

    #[test]
    fn a_day_starts_at_utc_midnight_and_never_after_its_time() {
        let day = 86_400_000_000;
        // 2019-07-01T00:00:00Z and a microsecond before and after it.
        let midnight = 1_561_939_200_000_000;
        assert_eq!(day_of(at(midnight)), at(midnight));
        assert_eq!(day_of(at(midnight + 1)), at(midnight));
        assert_eq!(day_of(at(midnight + day - 1)), at(midnight));
        assert_eq!(day_of(at(midnight - 1)), at(midnight - day));
        assert_eq!(day_of(at(-1)), at(-day));
        assert_eq!(day_of(at(0)), at(0));
        // The earliest times saturate to the earliest timestamp: still not
        // after them, and still in order.
        assert_eq!(day_of(at(i64::MIN)), at(i64::MIN));
        let times = [i64::MIN, i64::MIN + 1, -day - 1, -1, 0, midnight, i64::MAX];
        for w in times.windows(2) {
            assert!(day_of(at(w[0])) <= day_of(at(w[1])), "{w:?}");
        }
        for us in times {
            assert!(day_of(at(us)) <= at(us));
        }
    }

    #[test]
    fn the_layout_bytes_are_pinned() {
        let k = Key::new(GRANTS)
            .name("agency:ice")
            .name("db/t")
            .time(at(0))
            .seq(5)
            .0;
        let mut want = b"Xgagency:ice\0db/t\0".to_vec();
        want.extend_from_slice(&[0x80, 0, 0, 0, 0, 0, 0, 0]);
        want.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 5]);
        assert_eq!(k, want);
        let signer = Key::new(SIGNERS).bytes(&[7; 32]).0;
        assert_eq!(signer[..2], *b"Xa");
        assert_eq!(signer[2..], [7; 32]);
    }

    #[test]
    fn named_keys_split_back_into_their_parts() {
        let cases: [(u8, &[&str]); 7] = [
            (GRANTS, &["agency:ice", "db/t"]),
            (BY_RESOURCE, &["db", "group:x"]),
            (MEMBER_OF, &["agency:a", "group:g"]),
            (MEMBERS, &["group:g", "agency:a"]),
            (SHARES_TO, &["agency:b", "db/t/c", "agency:a"]),
            (SHARES_FROM, &["agency:a", "db/t/c", "agency:b"]),
            (SHARES_OF, &["db/t/c", "agency:a", "agency:b"]),
        ];
        for (space, names) in cases {
            let (last, head) = names.split_last().unwrap();
            let prefix = head.iter().fold(Key::new(space), |k, n| k.name(n));
            let name_at = prefix.0.len();
            let key = prefix.name(last).time(at(-42)).seq(u64::MAX).0;
            let p = split(&key, Some(name_at)).unwrap();
            assert_eq!(p.name, last.as_bytes());
            assert_eq!((p.time, p.seq), (at(-42), u64::MAX));
        }
        // By the first name (history's scans), whatever follows it.
        let key = Key::new(SHARES_OF)
            .name("db/t")
            .name("agency:a")
            .name("agency:b")
            .time(at(3))
            .seq(9)
            .0;
        let p = split_first(&key).unwrap();
        assert_eq!((p.name, p.time, p.seq), (&b"db/t"[..], at(3), 9));
        let key = Key::new(GRANTS)
            .name("agency:a")
            .name("db")
            .time(at(1))
            .seq(2)
            .0;
        assert_eq!(split_first(&key).unwrap().name, b"agency:a");
    }

    #[test]
    fn the_first_name_splitter_refuses_malformed_keys() {
        let good = Key::new(GRANTS)
            .name("agency:a")
            .name("db")
            .time(at(1))
            .seq(1)
            .0;
        assert!(split_first(&good).is_some());
        // No terminator before the tail, an empty first name, too short.
        let mut k = Key::new(GRANTS).0;
        k.extend_from_slice(b"agency:a");
        k.extend_from_slice(&good[good.len() - 16..]);
        assert_eq!(split_first(&k), None);
        let k = Key::new(GRANTS).name("").name("db").time(at(1)).seq(1).0;
        assert_eq!(split_first(&k), None);
        assert_eq!(split_first(&good[..17]), None);
    }

    #[test]
    fn unnamed_keys_split_back_into_their_parts() {
        for space in [TIMELINE, EXPIRIES] {
            let key = Key::new(space).time(at(7)).seq(3).0;
            let p = split(&key, None).unwrap();
            assert_eq!((p.name, p.time, p.seq), (&b""[..], at(7), 3));
        }
    }

    #[test]
    fn the_splitter_refuses_malformed_keys() {
        let good = Key::new(GRANTS)
            .name("agency:a")
            .name("db")
            .time(at(1))
            .seq(1)
            .0;
        let name_at = Key::new(GRANTS).name("agency:a").0.len();
        assert!(split(&good, Some(name_at)).is_some());
        // Too short for a tail, and shorter than the head.
        assert_eq!(split(&good[..15], Some(2)), None);
        assert_eq!(split(&good[..name_at + 10], Some(name_at)), None);
        assert_eq!(split(&good, Some(good.len())), None);
        // The name has lost its terminator.
        let mut k = good.clone();
        k.remove(good.len() - 17);
        assert_eq!(split(&k, Some(name_at)), None);
        // An empty name.
        let k = Key::new(GRANTS)
            .name("agency:a")
            .name("")
            .time(at(1))
            .seq(1)
            .0;
        assert_eq!(split(&k, Some(name_at)), None);
        // A head that stops before the last name: two names are left.
        assert_eq!(split(&good, Some(2)), None);
        // Nothing between the head and the tail where a name must be.
        let k = Key::new(GRANTS).name("agency:a").time(at(1)).seq(1).0;
        assert_eq!(split(&k, Some(name_at)), None);
        // A name in an unnamed space, or a key too short for one.
        let k = Key::new(TIMELINE).name("db").time(at(1)).seq(1).0;
        assert_eq!(split(&k, None), None);
        let k = Key::new(TIMELINE).time(at(1)).0;
        assert_eq!(split(&k, None), None);
    }

    #[test]
    fn name_covers_is_resource_covers_on_bytes() {
        let names = ["db", "db/t", "db/t/c", "db2", "db/tt", "other"];
        for a in names {
            for b in names {
                let want = Resource::new(a).unwrap().covers(&Resource::new(b).unwrap());
                assert_eq!(name_covers(a.as_bytes(), b.as_bytes()), want, "{a} {b}");
            }
        }
    }

    #[test]
    fn names_decode_only_as_identifiers() {
        assert_eq!(subject_from(b"agency:a"), Subject::new("agency:a").ok());
        assert_eq!(resource_from(b"db/t"), Resource::new("db/t").ok());
        assert_eq!(subject_from(b""), None);
        assert_eq!(subject_from(&[0xff, 0xfe]), None);
    }
}
