//! Hand-made logs for the unit tests of the query package: short event
//! constructors, signed into admitted entries in memory (for the reference
//! replay) or appended to a ledger in a temporary directory (for the indexes).

use crate::entry::Entry;
use crate::event::Event;
use crate::ident::{AuthorityName, Origin, Resource, Right, Rights, Subject, Text};
use crate::keys::SecretKey;
use crate::ledger::{Ledger, NewEntry};
use crate::time::{Timestamp, Zone};
use crate::LedgerState;

/// 2019-07-01T00:00:00Z: hour zero of the hand-made logs.
const T0: i64 = 1_561_939_200_000_000;
const HOUR: i64 = 3_600_000_000;
/// When the genesis is recorded, in hours.
const GENESIS_HOUR: i64 = -1000;

/// The instant `h` hours after hour zero.
pub(super) fn t(h: i64) -> Timestamp {
    Timestamp::from_micros(T0 + h * HOUR)
}

pub(super) fn s(x: &str) -> Subject {
    Subject::new(x).unwrap()
}

pub(super) fn r(x: &str) -> Resource {
    Resource::new(x).unwrap()
}

pub(super) fn right(x: &str) -> Right {
    Right::new(x).unwrap()
}

fn rights(x: &str) -> Rights {
    Rights::parse_list(x).unwrap()
}

fn text(x: &str) -> Text {
    Text::new("basis", x).unwrap()
}

/// A grant effective at hour `eff`, until hour `until`.
pub(super) fn grant(
    subject: &str,
    resource: &str,
    rs: &str,
    eff: i64,
    until: Option<i64>,
) -> Event {
    Event::Grant {
        subject: s(subject),
        resource: r(resource),
        rights: rights(rs),
        basis: text("test agreement"),
        effective_at: t(eff),
        until: until.map(t),
    }
}

/// A revoke (a ban when `permanent`) of `rs` (`None` = every right).
pub(super) fn revoke(
    subject: &str,
    resource: &str,
    rs: Option<&str>,
    eff: i64,
    permanent: bool,
) -> Event {
    Event::Revoke {
        subject: s(subject),
        resource: r(resource),
        rights: rs.map(rights),
        reason: text("test"),
        effective_at: t(eff),
        permanent,
    }
}

pub(super) fn join(member: &str, group: &str, eff: i64) -> Event {
    Event::Join {
        member: s(member),
        group: s(group),
        effective_at: t(eff),
    }
}

pub(super) fn share(from: &str, to: &str, resource: &str, rs: &str, eff: i64) -> Event {
    Event::Share {
        from: s(from),
        to: s(to),
        resource: r(resource),
        rights: rights(rs),
        basis: text("test sharing"),
        effective_at: t(eff),
        until: None,
    }
}

/// A small log that exercises every route: a group grant and its members,
/// a partial revoke, a ban, and a share. Seqs 1 to 7, event `i` recorded at
/// hour `i - 1`.
pub(super) fn scenario() -> Vec<Event> {
    vec![
        grant("group:g", "db", "read", 0, None),             // 1
        join("agency:a", "group:g", 1),                      // 2
        grant("agency:b", "db/t", "read,write", 0, None),    // 3
        revoke("agency:b", "db/t", Some("write"), 2, false), // 4
        join("agency:c", "group:g", 1),                      // 5
        revoke("agency:c", "db", None, 0, true),             // 6: a ban
        share("agency:b", "agency:d", "db/t", "read", 3),    // 7
    ]
}

fn admin() -> SecretKey {
    SecretKey::from_seed(AuthorityName::new("admin").unwrap(), &[1; 32])
}

fn origin() -> Origin {
    Origin::new("test.example/query").unwrap()
}

fn zone() -> Zone {
    Zone::new("America/Chicago").unwrap()
}

/// A genesis (seq 0) then `events` (seq 1, 2, ...), event `i` recorded at
/// hour `i`, all signed by the genesis authority and admitted by the chain
/// rules, without a store.
pub(super) fn entries(events: Vec<Event>) -> Vec<Entry> {
    let key = admin();
    let genesis = Event::Genesis {
        origin: origin(),
        time_zone: crate::TimeZoneName::new(zone().name()).unwrap(),
        authority: key.name().clone(),
        key: key.public(),
    };
    let mut state = LedgerState::new();
    let mut out = Vec::new();
    let timed = std::iter::once((GENESIS_HOUR, genesis)).chain((0..).zip(events));
    for (h, body) in timed {
        let e = Entry::sign(
            state.len(),
            *state.head_hash(),
            t(h),
            body,
            &key,
            state.ledger_id(),
        );
        out.push(e.entry().clone());
        state
            .admit_signed(e, None, crate::chain::Provenance::New)
            .unwrap();
    }
    out
}

/// [`entries`], appended to a ledger through its write path.
pub(super) struct TestLedger {
    _dir: tempfile::TempDir,
    pub(super) ledger: Ledger,
    pub(super) entries: Vec<Entry>,
}

/// A ledger holding what [`entries`] describes.
pub(super) fn ledger(events: Vec<Event>) -> TestLedger {
    ledger_recorded((0..).zip(events).collect())
}

/// A ledger of a genesis, then each event recorded at its hour (which MUST
/// not decrease).
pub(super) fn ledger_recorded(events: Vec<(i64, Event)>) -> TestLedger {
    let dir = tempfile::tempdir().unwrap();
    let key = admin();
    let path = dir.path().join("ledger");
    let mut ledger = Ledger::init(&path, origin(), &zone(), &key, Some(t(GENESIS_HOUR))).unwrap();
    let items = events
        .into_iter()
        .map(|(h, event)| NewEntry {
            event,
            recorded_at: Some(t(h)),
        })
        .collect();
    ledger.append(&key, items).unwrap();
    let entries = (0..ledger.state().len())
        .map(|seq| ledger.entry(seq).unwrap().unwrap())
        .collect();
    TestLedger {
        _dir: dir,
        ledger,
        entries,
    }
}
