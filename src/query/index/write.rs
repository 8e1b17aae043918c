//! The index writer: the index records of one entry, a function of the entry
//! alone.
//!
//! [`index_entry`] writes them into the same [`Pending`] batch as the entry
//! itself (the ledger's one write path), so an entry and its index records
//! become durable together. [`write_index`] also writes them into memory, for
//! the index check (`check.rs`), which is how a store's indexes are shown to be
//! exactly those of its entries.

use std::collections::BTreeMap;

use super::keys::{
    day_of, Key, BY_RESOURCE, EXPIRIES, GRANTS, MEMBERS, MEMBER_OF, SHARES_FROM, SHARES_OF,
    SHARES_TO, SIGNERS, TIMELINE, TIME_CHUNK_ENTRIES,
};
use super::record::{encode_membership, encode_record, RecordKind};
use crate::entry::Entry;
use crate::event::Event;
use crate::ident::{Resource, Subject};
use crate::store::{Pending, StoreError};
use crate::time::Timestamp;

/// Where index records go: a [`Pending`] batch, memory (for
/// [`super::rebuild_check`]) or a digest (for `verify`).
pub(super) trait IndexSink {
    /// Sets `key` to `value`.
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>);
    /// Appends the offset `item` to the value of `key` (a `t` or `u` key,
    /// whose value lists offsets), as it stands after every earlier entry.
    fn append(&mut self, key: Vec<u8>, item: [u8; 2]) -> Result<(), StoreError>;
}

impl IndexSink for Pending<'_> {
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        Pending::put(self, key, value);
    }

    fn append(&mut self, key: Vec<u8>, item: [u8; 2]) -> Result<(), StoreError> {
        Pending::append(self, key, &item)
    }
}

impl IndexSink for BTreeMap<Vec<u8>, Vec<u8>> {
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.insert(key, value);
    }

    fn append(&mut self, key: Vec<u8>, item: [u8; 2]) -> Result<(), StoreError> {
        self.entry(key).or_default().extend_from_slice(&item);
        Ok(())
    }
}

/// Writes the index records of `e` into `p`.
///
/// The caller MUST call this once for every admitted entry, in seq order, in
/// the same batch that stores the entry, so that the indexes always describe
/// exactly the stored entries. Writes, and appends to the `t` and `u` keys'
/// values as they stand after the earlier entries (of the store and of the
/// batch): reading one is how it can fail.
pub(crate) fn index_entry(p: &mut Pending<'_>, e: &Entry) -> Result<(), StoreError> {
    write_index(p, e)
}

/// Writes the index records of `e` into `sink`; see [`index_entry`].
pub(super) fn write_index(sink: &mut impl IndexSink, e: &Entry) -> Result<(), StoreError> {
    let seq = e.seq();
    let body = e.body();
    match body {
        Event::Genesis { authority, key, .. }
        | Event::AuthorityAdd {
            name: authority,
            key,
            ..
        } => {
            let k = Key::new(SIGNERS).bytes(key.as_bytes()).0;
            sink.put(k, authority.as_str().as_bytes().to_vec());
        }
        Event::AuthorityRetire { .. } => {}
        Event::Grant {
            subject,
            resource,
            rights,
            effective_at,
            until,
            ..
        } => {
            let v = encode_record(RecordKind::Grant, *until, Some(rights));
            let names = [subject.as_str(), resource.as_str()];
            put_mirrored(sink, [GRANTS, BY_RESOURCE], names, *effective_at, seq, v);
            if let Some(u) = until {
                append_offset(sink, EXPIRIES, *u, seq)?;
            }
        }
        Event::Revoke {
            subject,
            resource,
            rights,
            effective_at,
            permanent,
            ..
        } => {
            let kind = if *permanent {
                RecordKind::Ban
            } else {
                RecordKind::Revoke
            };
            let v = encode_record(kind, None, rights.as_ref());
            let names = [subject.as_str(), resource.as_str()];
            put_mirrored(sink, [GRANTS, BY_RESOURCE], names, *effective_at, seq, v);
        }
        Event::Join {
            member,
            group,
            effective_at,
        }
        | Event::Leave {
            member,
            group,
            effective_at,
        } => {
            let v = encode_membership(matches!(body, Event::Join { .. }));
            let names = [member.as_str(), group.as_str()];
            put_mirrored(sink, [MEMBER_OF, MEMBERS], names, *effective_at, seq, v);
        }
        Event::Share {
            from,
            to,
            resource,
            rights,
            effective_at,
            until,
            ..
        } => {
            let v = encode_record(RecordKind::Share, *until, Some(rights));
            put_share(sink, [from, to], resource, *effective_at, seq, v);
        }
        Event::Unshare {
            from,
            to,
            resource,
            rights,
            effective_at,
            ..
        } => {
            let v = encode_record(RecordKind::Unshare, None, rights.as_ref());
            put_share(sink, [from, to], resource, *effective_at, seq, v);
        }
    }
    if let Some(eff) = body.effective_at() {
        append_offset(sink, TIMELINE, eff, seq)?;
    }
    Ok(())
}

/// Appends `seq`'s offset in its chunk to the value of its key under
/// `space` (`t` or `u`) for `time`'s day.
fn append_offset(
    sink: &mut impl IndexSink,
    space: u8,
    time: Timestamp,
    seq: u64,
) -> Result<(), StoreError> {
    let offset = u16::try_from(seq % TIME_CHUNK_ENTRIES).expect("under 2^14");
    sink.append(chunk_key(space, time, seq), offset.to_be_bytes())
}

/// The key, under `space` (`t` or `u`), of the day of `time` and the chunk
/// of `seq`: the same key for every event of that day in that chunk.
pub(super) fn chunk_key(space: u8, time: Timestamp, seq: u64) -> Vec<u8> {
    Key::new(space)
        .time(day_of(time))
        .seq(seq / TIME_CHUNK_ENTRIES)
        .0
}

/// The keys of a share or unshare: its record under `s` (by recipient), and
/// empty keys under `f` (by sharer) and `S` (by resource) for `history`.
fn put_share(
    sink: &mut impl IndexSink,
    [from, to]: [&Subject; 2],
    resource: &Resource,
    eff: Timestamp,
    seq: u64,
    v: Vec<u8>,
) {
    let (from, to, resource) = (from.as_str(), to.as_str(), resource.as_str());
    sink.put(event_key(SHARES_TO, &[to, resource, from], eff, seq), v);
    sink.put(
        event_key(SHARES_FROM, &[from, resource, to], eff, seq),
        vec![],
    );
    sink.put(
        event_key(SHARES_OF, &[resource, from, to], eff, seq),
        vec![],
    );
}

/// One value under a pair of mirrored spaces: `spaces[0] a\0 b\0 eff seq` and
/// `spaces[1] b\0 a\0 eff seq`, where `[a, b]` = `names` (`g`/`r` and `m`/`M`).
fn put_mirrored(
    sink: &mut impl IndexSink,
    spaces: [u8; 2],
    names: [&str; 2],
    eff: Timestamp,
    seq: u64,
    v: Vec<u8>,
) {
    let [a, b] = names;
    sink.put(event_key(spaces[0], &[a, b], eff, seq), v.clone());
    sink.put(event_key(spaces[1], &[b, a], eff, seq), v);
}

/// The key of an event under `space`: its names in order, then `eff seq`.
fn event_key(space: u8, names: &[&str], eff: Timestamp, seq: u64) -> Vec<u8> {
    names
        .iter()
        .fold(Key::new(space), |k, n| k.name(n))
        .time(eff)
        .seq(seq)
        .0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::test_log::{entries, grant, join, t};

    fn written(e: &Entry) -> BTreeMap<Vec<u8>, Vec<u8>> {
        let mut out = BTreeMap::new();
        write_index(&mut out, e).unwrap();
        out
    }

    #[test]
    fn a_grant_is_written_under_every_space_that_names_it() {
        let log = entries(vec![grant("agency:a", "db/t", "read", 2, Some(5))]);
        let e = &log[1];
        let (eff, until, seq) = (t(2), t(5), 1);
        let record = encode_record(
            RecordKind::Grant,
            Some(until),
            Some(&crate::ident::Rights::parse_list("read").unwrap()),
        );
        let g = |space, a: &str, b: &str| Key::new(space).name(a).name(b).time(eff).seq(seq).0;
        let want = BTreeMap::from([
            (g(GRANTS, "agency:a", "db/t"), record.clone()),
            (g(BY_RESOURCE, "db/t", "agency:a"), record),
            (Key::new(TIMELINE).time(day_of(eff)).seq(0).0, vec![0, 1]),
            (Key::new(EXPIRIES).time(day_of(until)).seq(0).0, vec![0, 1]),
        ]);
        assert_eq!(written(e), want);
    }

    #[test]
    fn the_timeline_lists_the_offsets_of_a_days_events_in_their_chunk() {
        let n = TIME_CHUNK_ENTRIES;
        // 2019-07-01T13:45:00Z, entry 2n + 7: chunk 2, offset 7.
        let eff = Timestamp::from_micros(1_561_988_700_000_000);
        let mut want = b"Xt".to_vec();
        want.extend_from_slice(&(1_561_939_200_000_000u64 | 1 << 63).to_be_bytes());
        want.extend_from_slice(&2u64.to_be_bytes());
        assert_eq!(chunk_key(TIMELINE, eff, 2 * n + 7), want);
        // Events of one day in one chunk share a key, their offsets in seq
        // order; the next day, or the next chunk, has another key.
        let mut out = BTreeMap::new();
        for (time, seq) in [(t(0), n), (t(1), n + 6), (t(25), n + 7), (t(2), 2 * n)] {
            append_offset(&mut out, TIMELINE, time, seq).unwrap();
        }
        let key = |time, chunk| Key::new(TIMELINE).time(day_of(time)).seq(chunk).0;
        let want = BTreeMap::from([
            (key(t(0), 1), vec![0, 0, 0, 6]),
            (key(t(25), 1), vec![0, 7]),
            (key(t(2), 2), vec![0, 0]),
        ]);
        assert_eq!(out, want);
    }

    #[test]
    fn a_join_is_written_under_both_membership_spaces() {
        let log = entries(vec![join("agency:a", "group:g", 3)]);
        let w = written(&log[1]);
        let m = Key::new(MEMBER_OF).name("agency:a").name("group:g");
        let big_m = Key::new(MEMBERS).name("group:g").name("agency:a");
        assert_eq!(w[&m.time(t(3)).seq(1).0], encode_membership(true));
        assert_eq!(w[&big_m.time(t(3)).seq(1).0], encode_membership(true));
        // m, M and t.
        assert_eq!(w.len(), 3);
    }

    #[test]
    fn a_genesis_names_its_signer() {
        let log = entries(vec![]);
        let w = written(&log[0]);
        let k = Key::new(SIGNERS).bytes(log[0].signer().as_bytes()).0;
        assert_eq!(w[&k], b"admin");
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn a_share_is_written_by_recipient_sharer_and_resource() {
        use crate::query::test_log::share;
        let log = entries(vec![share("agency:a", "agency:b", "db/t", "read", 4)]);
        let w = written(&log[1]);
        let key = |space, names: [&str; 3]| {
            names
                .iter()
                .fold(Key::new(space), |k, n| k.name(n))
                .time(t(4))
                .seq(1)
                .0
        };
        let record = encode_record(
            RecordKind::Share,
            None,
            Some(&crate::ident::Rights::parse_list("read").unwrap()),
        );
        let want = BTreeMap::from([
            (key(SHARES_TO, ["agency:b", "db/t", "agency:a"]), record),
            (key(SHARES_FROM, ["agency:a", "db/t", "agency:b"]), vec![]),
            (key(SHARES_OF, ["db/t", "agency:a", "agency:b"]), vec![]),
            (Key::new(TIMELINE).time(day_of(t(4))).seq(0).0, vec![0, 1]),
        ]);
        assert_eq!(w, want);
    }
}
