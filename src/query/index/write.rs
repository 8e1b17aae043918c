//! The index writer: the index records of one entry, a function of the entry
//! alone.
//!
//! [`index_entry`] writes them into the same [`Pending`] batch as the entry
//! itself (the ledger's one write path), so an entry and its index records
//! become durable together. [`write_index`] also writes them into memory, for
//! the index check (`check.rs`), which is how a store's indexes are shown to be
//! exactly those of its entries.

use std::collections::{BTreeMap, BTreeSet};

use super::keys::{
    Key, BY_RESOURCE, EXPIRIES, GRANTS, KNOWN, MEMBERS, MEMBER_OF, RESOURCE_LOG, SHARES_TO,
    SIGNERS, SUBJECT_LOG, TIMELINE,
};
use super::record::{encode_membership, encode_record, RecordKind};
use crate::entry::Entry;
use crate::event::Event;
use crate::ident::{Resource, Subject};
use crate::store::{Pending, StoreError};
use crate::time::Timestamp;

/// Where index records go: a [`Pending`] batch, or memory (for [`super::rebuild_check`]).
pub(super) trait IndexSink {
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>);
}

impl IndexSink for Pending<'_> {
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        Pending::put(self, key, value);
    }
}

impl IndexSink for BTreeMap<Vec<u8>, Vec<u8>> {
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.insert(key, value);
    }
}

/// Writes the index records of `e` into `p`.
///
/// The caller MUST call this once for every admitted entry, in seq order, in
/// the same batch that stores the entry, so that the indexes always describe
/// exactly the stored entries. Only writes: earlier entries of the same batch
/// need not be visible. It cannot fail today; the `Result` lets the ledger's
/// writer treat it as every other step of a batch.
pub(crate) fn index_entry(p: &mut Pending<'_>, e: &Entry) -> Result<(), StoreError> {
    write_index(p, e);
    Ok(())
}

/// Writes the index records of `e` into `sink`; see [`index_entry`].
pub(super) fn write_index(sink: &mut impl IndexSink, e: &Entry) {
    let seq = e.seq();
    // Later entries with the same recorded_at overwrite this: the value is the last one.
    sink.put(
        Key::new(KNOWN).time(e.recorded_at()).0,
        seq.to_be_bytes().to_vec(),
    );
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
                sink.put(Key::new(EXPIRIES).time(*u).seq(seq).0, vec![]);
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
            sink.put(share_key(to, resource, from, *effective_at, seq), v);
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
            sink.put(share_key(to, resource, from, *effective_at, seq), v);
        }
    }
    if let Some(eff) = body.effective_at() {
        sink.put(Key::new(TIMELINE).time(eff).seq(seq).0, vec![]);
        let subjects: BTreeSet<&Subject> = body.subjects().into_iter().collect();
        for s in subjects {
            sink.put(
                Key::new(SUBJECT_LOG).name(s.as_str()).time(eff).seq(seq).0,
                vec![],
            );
        }
        if let Some(r) = body.resource() {
            sink.put(
                Key::new(RESOURCE_LOG).name(r.as_str()).time(eff).seq(seq).0,
                vec![],
            );
        }
    }
}

/// The `s` key of a share or unshare.
fn share_key(
    to: &Subject,
    resource: &Resource,
    from: &Subject,
    eff: Timestamp,
    seq: u64,
) -> Vec<u8> {
    Key::new(SHARES_TO)
        .name(to.as_str())
        .name(resource.as_str())
        .name(from.as_str())
        .time(eff)
        .seq(seq)
        .0
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
    let key = |space, first, second| {
        Key::new(space)
            .name(first)
            .name(second)
            .time(eff)
            .seq(seq)
            .0
    };
    sink.put(key(spaces[0], a, b), v.clone());
    sink.put(key(spaces[1], b, a), v);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::test_log::{entries, grant, join, t};

    fn written(e: &Entry) -> BTreeMap<Vec<u8>, Vec<u8>> {
        let mut out = BTreeMap::new();
        write_index(&mut out, e);
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
        let one = |space, a: &str| Key::new(space).name(a).time(eff).seq(seq).0;
        let want = BTreeMap::from([
            (
                Key::new(KNOWN).time(e.recorded_at()).0,
                1u64.to_be_bytes().to_vec(),
            ),
            (g(GRANTS, "agency:a", "db/t"), record.clone()),
            (g(BY_RESOURCE, "db/t", "agency:a"), record),
            (one(SUBJECT_LOG, "agency:a"), vec![]),
            (one(RESOURCE_LOG, "db/t"), vec![]),
            (Key::new(TIMELINE).time(eff).seq(seq).0, vec![]),
            (Key::new(EXPIRIES).time(until).seq(seq).0, vec![]),
        ]);
        assert_eq!(written(e), want);
    }

    #[test]
    fn a_join_is_written_under_both_membership_spaces() {
        let log = entries(vec![join("agency:a", "group:g", 3)]);
        let w = written(&log[1]);
        let m = Key::new(MEMBER_OF).name("agency:a").name("group:g");
        let big_m = Key::new(MEMBERS).name("group:g").name("agency:a");
        assert_eq!(w[&m.time(t(3)).seq(1).0], encode_membership(true));
        assert_eq!(w[&big_m.time(t(3)).seq(1).0], encode_membership(true));
        // k, m, M, t, and h for the member and for the group.
        assert_eq!(w.len(), 6);
    }

    #[test]
    fn a_genesis_names_its_signer() {
        let log = entries(vec![]);
        let w = written(&log[0]);
        let k = Key::new(SIGNERS).bytes(log[0].signer().as_bytes()).0;
        assert_eq!(w[&k], b"admin");
        assert_eq!(w.len(), 2);
    }
}
