//! Event builders: identifiers and times from short strings, and one
//! function per event kind.

use access_ledger::{Event, NewEntry, Resource, Right, Rights, Subject, Text, Timestamp};

/// One hour, in microseconds: the time unit of the hand-made logs.
pub const HOUR: i64 = 3_600_000_000;
/// 2019-07-01T00:00:00Z: time zero of the hand-made logs.
pub const T0: i64 = 1_561_939_200_000_000;

/// The instant `h` hours after [`T0`].
pub fn t(h: i64) -> Timestamp {
    Timestamp::from_micros(T0 + h * HOUR)
}

/// An RFC 3339 instant, e.g. `2019-07-10T05:00:00Z`.
pub fn utc(rfc3339: &str) -> Timestamp {
    Timestamp::parse_rfc3339(rfc3339).unwrap()
}

pub fn s(x: &str) -> Subject {
    Subject::new(x).unwrap()
}
pub fn r(x: &str) -> Resource {
    Resource::new(x).unwrap()
}
pub fn right(x: &str) -> Right {
    Right::new(x).unwrap()
}
pub fn rights(x: &str) -> Rights {
    Rights::parse_list(x).unwrap()
}
pub fn text(x: &str) -> Text {
    Text::new("basis", x).unwrap()
}

pub fn grant(
    subject: &str,
    resource: &str,
    rs: &str,
    eff: Timestamp,
    until: Option<Timestamp>,
) -> Event {
    Event::Grant {
        subject: s(subject),
        resource: r(resource),
        rights: rights(rs),
        basis: text("test agreement"),
        effective_at: eff,
        until,
    }
}
pub fn revoke(subject: &str, resource: &str, rs: Option<&str>, eff: Timestamp) -> Event {
    Event::Revoke {
        subject: s(subject),
        resource: r(resource),
        rights: rs.map(rights),
        reason: text("test"),
        effective_at: eff,
        permanent: false,
    }
}
pub fn ban(subject: &str, resource: &str, rs: Option<&str>, eff: Timestamp) -> Event {
    Event::Revoke {
        subject: s(subject),
        resource: r(resource),
        rights: rs.map(rights),
        reason: text("test ban"),
        effective_at: eff,
        permanent: true,
    }
}
pub fn join(member: &str, group: &str, eff: Timestamp) -> Event {
    Event::Join {
        member: s(member),
        group: s(group),
        effective_at: eff,
    }
}
pub fn leave(member: &str, group: &str, eff: Timestamp) -> Event {
    Event::Leave {
        member: s(member),
        group: s(group),
        effective_at: eff,
    }
}
pub fn share(
    from: &str,
    to: &str,
    resource: &str,
    rs: &str,
    eff: Timestamp,
    until: Option<Timestamp>,
) -> Event {
    Event::Share {
        from: s(from),
        to: s(to),
        resource: r(resource),
        rights: rights(rs),
        basis: text("test sharing"),
        effective_at: eff,
        until,
    }
}
pub fn unshare(from: &str, to: &str, resource: &str, rs: Option<&str>, eff: Timestamp) -> Event {
    Event::Unshare {
        from: s(from),
        to: s(to),
        resource: r(resource),
        rights: rs.map(rights),
        basis: text("test"),
        effective_at: eff,
    }
}

/// `event`, to be recorded now.
pub fn now_entry(event: Event) -> NewEntry {
    NewEntry {
        event,
        recorded_at: None,
    }
}

/// A grant of `read` on `cpd/clear` to `subject`, effective at the epoch (so
/// it is valid whatever the clock says), to be recorded now.
pub fn new_grant(subject: &str) -> NewEntry {
    now_entry(grant(
        subject,
        "cpd/clear",
        "read",
        Timestamp::from_micros(0),
        None,
    ))
}
