//! Property tests of the encoding: every event round-trips through the
//! canonical bytes and through the JSON form; decoding random or mutated bytes
//! never panics.

use access_ledger::{
    entry_to_json, event_from_json, AuthorityName, Entry, EntryHash, Event, Origin, Resource,
    Right, Rights, Roles, SecretKey, Subject, Text, Timestamp, Zone,
};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

fn token() -> impl Strategy<Value = String> {
    "[a-z0-9._-]{1,12}"
}

fn subject() -> impl Strategy<Value = Subject> {
    (prop_oneof!["agency", "group", "user"], token())
        .prop_map(|(k, n)| Subject::new(format!("{k}:{n}")).unwrap())
}

fn group() -> impl Strategy<Value = Subject> {
    token().prop_map(|n| Subject::new(format!("group:{n}")).unwrap())
}

fn resource() -> impl Strategy<Value = Resource> {
    let segment = token().prop_filter("`.` and `..` are not resource segments", |t| {
        t != "." && t != ".."
    });
    prop::collection::vec(segment, 1..5).prop_map(|v| Resource::new(v.join("/")).unwrap())
}

fn rights() -> impl Strategy<Value = Rights> {
    prop_oneof![
        Just(Rights::all()),
        prop::collection::vec("[a-z0-9_-]{1,10}", 1..5)
            .prop_map(|v| Rights::new(v.into_iter().map(|r| Right::new(r).unwrap())).unwrap()),
    ]
}

fn time() -> impl Strategy<Value = Timestamp> {
    // 1990..2100, whole microseconds.
    (631_152_000_000_000i64..4_102_444_800_000_000).prop_map(Timestamp::from_micros)
}

fn text() -> impl Strategy<Value = Text> {
    "[ -~\n\tàé€]{0,40}".prop_map(|s| Text::new("text", s).unwrap())
}

fn key() -> impl Strategy<Value = SecretKey> {
    any::<[u8; 32]>().prop_map(|s| SecretKey::from_seed(AuthorityName::new("k").unwrap(), &s))
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        (token(), key()).prop_map(|(o, k)| Event::Genesis {
            origin: Origin::new(format!("example.org/{o}")).unwrap(),
            time_zone: access_ledger::TimeZoneName::new("America/Chicago").unwrap(),
            authority: AuthorityName::new("admin").unwrap(),
            key: k.public(),
        }),
        (token(), key(), 1u8..8).prop_map(|(n, k, r)| Event::AuthorityAdd {
            name: AuthorityName::new(n).unwrap(),
            key: k.public(),
            roles: Roles::parse_list(
                &[(1, "admin"), (2, "writer"), (4, "checkpoint")]
                    .iter()
                    .filter(|(b, _)| r & b != 0)
                    .map(|(_, s)| *s)
                    .collect::<Vec<_>>()
                    .join(",")
            )
            .unwrap(),
        }),
        token().prop_map(|n| Event::AuthorityRetire {
            name: AuthorityName::new(n).unwrap()
        }),
        (
            subject(),
            resource(),
            rights(),
            text(),
            time(),
            prop::option::of(time())
        )
            .prop_map(|(subject, resource, rights, basis, effective_at, until)| {
                Event::Grant {
                    subject,
                    resource,
                    rights,
                    basis,
                    effective_at,
                    until,
                }
            }),
        (
            subject(),
            resource(),
            prop::option::of(rights()),
            text(),
            time(),
            any::<bool>()
        )
            .prop_map(
                |(subject, resource, rights, reason, effective_at, permanent)| Event::Revoke {
                    subject,
                    resource,
                    rights,
                    reason,
                    effective_at,
                    permanent
                }
            ),
        (subject(), group(), time()).prop_map(|(member, group, effective_at)| Event::Join {
            member,
            group,
            effective_at
        }),
        (subject(), group(), time()).prop_map(|(member, group, effective_at)| Event::Leave {
            member,
            group,
            effective_at
        }),
        (
            subject(),
            subject(),
            resource(),
            rights(),
            text(),
            time(),
            prop::option::of(time())
        )
            .prop_map(|(from, to, resource, rights, basis, effective_at, until)| {
                Event::Share {
                    from,
                    to,
                    resource,
                    rights,
                    basis,
                    effective_at,
                    until,
                }
            }),
        (
            subject(),
            subject(),
            resource(),
            prop::option::of(rights()),
            text(),
            time()
        )
            .prop_map(
                |(from, to, resource, rights, basis, effective_at)| Event::Unshare {
                    from,
                    to,
                    resource,
                    rights,
                    basis,
                    effective_at
                }
            ),
    ]
}

proptest! {
    // Failures are kept in tests/roundtrip.proptest-regressions, beside this
    // file, whatever the crate layout (proptest's default looks for a
    // lib.rs or main.rs above the source file).
    #![proptest_config(ProptestConfig {
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn entries_round_trip_through_their_bytes(ev in event(), k in key(), seq in 0u64..1_000_000, at in time(), prev in any::<[u8; 32]>(), id in any::<[u8; 32]>()) {
        let signed = Entry::sign(seq, EntryHash(prev), at, ev.clone(), &k, &EntryHash(id));
        let back = Entry::decode(signed.bytes()).unwrap();
        prop_assert_eq!(back.body(), &ev);
        prop_assert_eq!(back.seq(), seq);
        prop_assert_eq!(back.recorded_at(), at);
        prop_assert_eq!(back.hash(), signed.hash());
        prop_assert!(back.verify_signature(&EntryHash(id)).is_ok());
    }

    #[test]
    fn events_round_trip_through_json(ev in event(), k in key(), at in time()) {
        let signed = Entry::sign(1, EntryHash::ZERO, at, ev.clone(), &k, &EntryHash::ZERO);
        let v = entry_to_json(&signed, None);
        let back = event_from_json(&v, &Zone::utc()).unwrap();
        match ev {
            Event::Genesis { .. } => prop_assert!(back.is_none()),
            _ => {
                let (e, rec) = back.unwrap();
                prop_assert_eq!(e, ev);
                prop_assert_eq!(rec, Some(at));
            }
        }
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = Entry::decode(&bytes);
    }

    #[test]
    fn any_mutation_of_a_valid_entry_fails_to_decode_or_to_verify(ev in event(), k in key(), i in any::<prop::sample::Index>(), x in 1u8..=255) {
        let signed = Entry::sign(3, EntryHash::ZERO, Timestamp::from_micros(0), ev, &k, &EntryHash::ZERO);
        let mut bytes = signed.bytes().to_vec();
        let i = i.index(bytes.len());
        bytes[i] ^= x;
        if let Ok(e) = Entry::decode(&bytes) {
            prop_assert!(e.verify_signature(&EntryHash::ZERO).is_err());
        }
    }
}

#[test]
fn non_canonical_rights_are_rejected() {
    // Hand-build a grant whose rights are out of order: ["read", "export"].
    let k = SecretKey::from_seed(AuthorityName::new("k").unwrap(), &[1; 32]);
    let ev = Event::Grant {
        subject: Subject::new("agency:a").unwrap(),
        resource: Resource::new("cpd").unwrap(),
        rights: Rights::parse_list("export,read").unwrap(),
        basis: Text::new("b", "").unwrap(),
        effective_at: Timestamp::from_micros(0),
        until: None,
    };
    let signed = Entry::sign(
        1,
        EntryHash::ZERO,
        Timestamp::from_micros(0),
        ev,
        &k,
        &EntryHash::ZERO,
    );
    let mut bytes = signed.bytes().to_vec();
    let pos = bytes.windows(6).position(|w| w == b"export").unwrap();
    // export(6) then len(8) then read(4): swap into read, export with their lengths.
    let start = pos - 8;
    let mut swapped = Vec::new();
    swapped.extend_from_slice(&4u64.to_le_bytes());
    swapped.extend_from_slice(b"read");
    swapped.extend_from_slice(&6u64.to_le_bytes());
    swapped.extend_from_slice(b"export");
    bytes.splice(start..start + swapped.len(), swapped);
    let err = Entry::decode(&bytes).unwrap_err();
    assert!(err.to_string().contains("canonical"), "{err}");
}
