//! The values of index keys: access records (spaces `g`, `r`, `s`) and
//! membership values (spaces `m`, `M`). Keys are in `keys.rs`.
//!
//! ```text
//! record     = kind u8 (0 grant, 1 revoke, 2 ban, 3 share, 4 unshare)
//!              until: 00 | 01 time             (grants and shares)
//!              rights: 00 (all) | 01 n:u8 then n times (len:u8, bytes)   (canonical order)
//! membership = 00 join | 01 leave
//! ```
//!
//! `time` is written as in keys ([`time_bytes`]). The bytes MUST NOT change
//! (see the layout in `keys.rs`).

use super::keys::{time_bytes, time_from};
use crate::ident::{Right, Rights};
use crate::time::Timestamp;

/// What an access record says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::query) enum RecordKind {
    Grant = 0,
    Revoke = 1,
    /// A permanent revoke.
    Ban = 2,
    Share = 3,
    Unshare = 4,
}

impl RecordKind {
    fn from_byte(b: u8) -> Option<RecordKind> {
        Some(match b {
            0 => RecordKind::Grant,
            1 => RecordKind::Revoke,
            2 => RecordKind::Ban,
            3 => RecordKind::Share,
            4 => RecordKind::Unshare,
            _ => return None,
        })
    }
}

/// A decoded access record (the value of a `g`, `r` or `s` key) with its
/// key's time and seq: one grant, revoke, ban, share or unshare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(in crate::query) struct IndexRecord {
    /// `effective_at` of the event.
    pub(in crate::query) eff: Timestamp,
    /// The event's entry.
    pub(in crate::query) seq: u64,
    /// What the event is.
    pub(in crate::query) kind: RecordKind,
    /// The `until` of a grant or share.
    pub(in crate::query) until: Option<Timestamp>,
    /// The rights; `None` for a revoke or unshare of every right.
    pub(in crate::query) rights: Option<Rights>,
}

/// The value of a `g`, `r` or `s` key.
pub(in crate::query) fn encode_record(
    kind: RecordKind,
    until: Option<Timestamp>,
    rights: Option<&Rights>,
) -> Vec<u8> {
    let mut v = vec![kind as u8];
    match until {
        None => v.push(0),
        Some(u) => {
            v.push(1);
            v.extend_from_slice(&time_bytes(u));
        }
    }
    match rights {
        None => v.push(0),
        Some(r) => {
            v.push(1);
            let items: Vec<&Right> = r.iter().collect();
            // A rights set has at most MAX_RIGHTS (32) members of at most 64 bytes.
            v.push(items.len() as u8);
            for x in items {
                v.push(x.as_str().len() as u8);
                v.extend_from_slice(x.as_str().as_bytes());
            }
        }
    }
    v
}

/// The inverse of [`encode_record`], given the key's `eff` and `seq`.
/// Refuses (`None`) an unknown kind or tag, a right that is not one, a
/// rights set that [`Rights::new`] refuses, and trailing bytes.
pub(in crate::query) fn decode_record(v: &[u8], eff: Timestamp, seq: u64) -> Option<IndexRecord> {
    let kind = RecordKind::from_byte(*v.first()?)?;
    let mut i = 1;
    let until = match *v.get(i)? {
        0 => {
            i += 1;
            None
        }
        1 => {
            let b = <[u8; 8]>::try_from(v.get(i + 1..i + 9)?).ok()?;
            i += 9;
            Some(time_from(b))
        }
        _ => return None,
    };
    let rights = match *v.get(i)? {
        0 => {
            i += 1;
            None
        }
        1 => {
            let n = *v.get(i + 1)? as usize;
            i += 2;
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                let len = *v.get(i)? as usize;
                let s = std::str::from_utf8(v.get(i + 1..i + 1 + len)?).ok()?;
                items.push(Right::new(s).ok()?);
                i += 1 + len;
            }
            Some(Rights::new(items).ok()?)
        }
        _ => return None,
    };
    (i == v.len()).then_some(IndexRecord {
        eff,
        seq,
        kind,
        until,
        rights,
    })
}

const JOIN: u8 = 0;
const LEAVE: u8 = 1;

/// The value of an `m` or `M` key: a join or a leave.
pub(in crate::query) fn encode_membership(join: bool) -> Vec<u8> {
    vec![if join { JOIN } else { LEAVE }]
}

/// The inverse of [`encode_membership`]: whether the value is a join.
pub(in crate::query) fn decode_membership(v: &[u8]) -> Option<bool> {
    match v {
        [JOIN] => Some(true),
        [LEAVE] => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rights(x: &str) -> Rights {
        Rights::parse_list(x).unwrap()
    }

    fn round_trip(kind: RecordKind, until: Option<Timestamp>, rs: Option<Rights>) {
        let eff = Timestamp::from_micros(-5);
        let v = encode_record(kind, until, rs.as_ref());
        let want = IndexRecord {
            eff,
            seq: 12,
            kind,
            until,
            rights: rs,
        };
        assert_eq!(decode_record(&v, eff, 12), Some(want));
    }

    #[test]
    fn records_round_trip() {
        let until = Some(Timestamp::from_micros(1_561_939_200_000_000));
        round_trip(RecordKind::Grant, None, Some(rights("read")));
        round_trip(RecordKind::Grant, until, Some(rights("read,write")));
        round_trip(RecordKind::Grant, None, Some(rights("*")));
        round_trip(RecordKind::Revoke, None, None);
        round_trip(RecordKind::Ban, None, Some(rights("write")));
        round_trip(RecordKind::Share, until, Some(rights("read")));
        round_trip(RecordKind::Unshare, None, None);
    }

    #[test]
    fn the_record_bytes_are_pinned() {
        let v = encode_record(RecordKind::Grant, None, Some(&rights("read")));
        assert_eq!(v, b"\x00\x00\x01\x01\x04read");
        let v = encode_record(RecordKind::Ban, None, None);
        assert_eq!(v, [2, 0, 0]);
    }

    #[test]
    fn malformed_records_are_refused() {
        let t = Timestamp::from_micros(0);
        let good = encode_record(RecordKind::Grant, Some(t), Some(&rights("read")));
        assert!(decode_record(&good, t, 0).is_some());
        for n in 0..good.len() {
            assert_eq!(decode_record(&good[..n], t, 0), None, "truncated at {n}");
        }
        let mut trailing = good.clone();
        trailing.push(0);
        assert_eq!(decode_record(&trailing, t, 0), None);
        assert_eq!(decode_record(&[5, 0, 0], t, 0), None, "unknown kind");
        assert_eq!(decode_record(&[0, 2, 0], t, 0), None, "unknown until tag");
        assert_eq!(decode_record(&[0, 0, 2], t, 0), None, "unknown rights tag");
        assert_eq!(
            decode_record(b"\x00\x00\x01\x01\x04r ad", t, 0),
            None,
            "not a right"
        );
        assert_eq!(
            decode_record(b"\x00\x00\x01\x00", t, 0),
            None,
            "empty rights"
        );
    }

    #[test]
    fn memberships_round_trip_and_refuse_other_bytes() {
        assert_eq!(decode_membership(&encode_membership(true)), Some(true));
        assert_eq!(decode_membership(&encode_membership(false)), Some(false));
        assert_eq!(encode_membership(true), [0]);
        for bad in [&[][..], &[2], &[0, 0]] {
            assert_eq!(decode_membership(bad), None, "{bad:?}");
        }
    }
}
