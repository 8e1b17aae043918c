//! Instants on the ledger's time line.
//!
//! The ledger stores every time as a [`Timestamp`]: whole microseconds since
//! 1970-01-01T00:00:00Z, as a signed 64-bit integer. On the command line and in
//! import files a time is RFC 3339 (`2019-07-10T09:30:00-05:00`), or a plain
//! date or date-time (`2019-07-10`, `2019-07-10T09:30`) read in the ledger's
//! time zone (so `2019-07-10` in an `America/Chicago` ledger is local midnight).
//!
//! Whether an entry is valid never depends on a time-zone database: an entry
//! stores its zone as a [`TimeZoneName`](crate::TimeZoneName), checked for
//! syntax only. The name is resolved, to show times and to read plain local
//! times, in the copy of the IANA database that jiff bundles into this binary
//! (never the machine's `/usr/share/zoneinfo` or `TZDIR`), so the same build
//! reads the same plain time as the same instant on every machine.
//!
//! Input is strict where jiff is lenient: a leap second (`23:59:60`), an
//! offset beyond ±23:59, and a local time that a daylight-saving change makes
//! ambiguous are refused, never silently changed.

use std::fmt;

use bincode::{Decode, Encode};
use jiff::civil::{Date, DateTime};
use jiff::tz::{AmbiguousOffset, TimeZone, TimeZoneDatabase};

use crate::ident::TimeZoneName;

/// Why a time could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimeError {
    /// Not RFC 3339 and not a plain date or date-time.
    #[error("invalid time {0:?}: expected RFC 3339 (2019-07-10T09:30:00-05:00) or a plain date or date-time in the ledger's time zone (2019-07-10, 2019-07-10T09:30)")]
    Syntax(String),
    /// Finer than a microsecond, or outside the representable range.
    #[error("invalid time {0:?}: out of range or finer than a microsecond")]
    Precision(String),
    /// An IANA time zone name that the bundled database does not know.
    #[error("unknown time zone {0:?}: expected an IANA name such as America/Chicago or UTC, spelled as the tz database spells it")]
    Zone(String),
    /// A local time that does not exist (skipped by a daylight-saving change).
    #[error("time {0:?} does not exist in time zone {1} (a daylight-saving gap)")]
    Gap(String, String),
    /// A local time that occurs twice (a daylight-saving change repeats it).
    #[error("time {time:?} is ambiguous in time zone {zone} because the hour repeats when daylight saving ends; give its offset: {time}{first} or {time}{second}")]
    Fold {
        /// The time as given.
        time: String,
        /// The zone.
        zone: String,
        /// The offset of its first occurrence, e.g. `-05:00`.
        first: String,
        /// The offset of its second occurrence, e.g. `-06:00`.
        second: String,
    },
    /// A leap second (`:60`), which a timestamp cannot hold.
    #[error("invalid time {0:?}: leap seconds (second 60) cannot be recorded; use :59 or the next minute")]
    LeapSecond(String),
    /// An offset of 24 hours or more.
    #[error("invalid time {0:?}: a UTC offset must be between -23:59 and +23:59")]
    Offset(String),
    /// A plain local time in a ledger whose zone this build's tz database
    /// does not know.
    #[error("cannot read {time:?} as a local time: the ledger's time zone {zone} is not in the tz database bundled with this access-ledger; give the time with its offset (RFC 3339)")]
    UnresolvedZone {
        /// The time as given.
        time: String,
        /// The ledger's zone name.
        zone: String,
    },
}

/// An instant: microseconds since the Unix epoch, UTC.
///
/// Wire form: `i64`, little endian (8 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Encode, Decode)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The instant `micros` microseconds after the epoch.
    pub const fn from_micros(micros: i64) -> Self {
        Timestamp(micros)
    }

    /// Microseconds since the epoch.
    pub const fn as_micros(self) -> i64 {
        self.0
    }

    /// The current time, truncated to the microsecond.
    pub fn now() -> Self {
        let t = jiff::Timestamp::now();
        Timestamp(t.as_microsecond())
    }

    /// The earliest instant (used as "since ever").
    pub const MIN: Timestamp = Timestamp(i64::MIN);
    /// The latest instant.
    pub const MAX: Timestamp = Timestamp(i64::MAX);

    /// Parses a time written by a person or an import file. `zone` reads plain
    /// dates and date-times; an RFC 3339 time carries its own offset.
    pub fn parse(s: &str, zone: &Zone) -> Result<Self, TimeError> {
        let s = s.trim();
        if let Ok(ts) = s.parse::<jiff::Timestamp>() {
            return Self::from_instant_text(ts, s);
        }
        check_no_leap_second(s)?;
        let dt = if let Ok(dt) = s.parse::<DateTime>() {
            dt
        } else if let Ok(d) = s.parse::<Date>() {
            d.to_datetime(jiff::civil::Time::midnight())
        } else {
            return Err(TimeError::Syntax(s.to_owned()));
        };
        let Some(tz) = &zone.tz else {
            return Err(TimeError::UnresolvedZone {
                time: s.to_owned(),
                zone: zone.name.clone(),
            });
        };
        let ambiguous = tz.to_ambiguous_zoned(dt);
        match ambiguous.offset() {
            AmbiguousOffset::Unambiguous { .. } => {}
            // A ledger entry must say exactly what was meant: refuse rather
            // than move a skipped time or pick one of a repeated hour.
            AmbiguousOffset::Gap { .. } => {
                return Err(TimeError::Gap(s.to_owned(), zone.name.clone()))
            }
            AmbiguousOffset::Fold { before, after } => {
                return Err(TimeError::Fold {
                    time: s.to_owned(),
                    zone: zone.name.clone(),
                    first: offset_text(before),
                    second: offset_text(after),
                })
            }
        }
        let zoned = ambiguous
            .unambiguous()
            .map_err(|_| TimeError::Precision(s.to_owned()))?;
        Self::from_jiff(zoned.timestamp(), s)
    }

    /// Parses strict RFC 3339 only (the form this crate writes).
    pub fn parse_rfc3339(s: &str) -> Result<Self, TimeError> {
        let ts = s
            .parse::<jiff::Timestamp>()
            .map_err(|_| TimeError::Syntax(s.to_owned()))?;
        Self::from_instant_text(ts, s)
    }

    /// The instant of `s`, which jiff read as `ts`, unless `s` is a leap
    /// second or has an offset RFC 3339 does not allow (jiff takes both).
    fn from_instant_text(ts: jiff::Timestamp, s: &str) -> Result<Self, TimeError> {
        check_no_leap_second(s)?;
        let offset = jiff::fmt::temporal::Pieces::parse(s)
            .ok()
            .and_then(|p| p.offset())
            .map_or(0, |o| o.to_numeric_offset().seconds());
        if offset.unsigned_abs() > MAX_OFFSET_SECONDS {
            return Err(TimeError::Offset(s.to_owned()));
        }
        Self::from_jiff(ts, s)
    }

    fn from_jiff(ts: jiff::Timestamp, s: &str) -> Result<Self, TimeError> {
        if ts.subsec_nanosecond() % 1000 != 0 {
            return Err(TimeError::Precision(s.to_owned()));
        }
        Ok(Timestamp(ts.as_microsecond()))
    }

    fn to_jiff(self) -> Option<jiff::Timestamp> {
        jiff::Timestamp::from_microsecond(self.0).ok()
    }

    /// RFC 3339 in UTC, e.g. `2019-07-10T05:00:00Z`.
    pub fn rfc3339(self) -> String {
        match self.to_jiff() {
            Some(t) => t.to_string(),
            None => format!("@{}us", self.0),
        }
    }

    /// ISO 8601 / RFC 3339 with the offset `zone` has at that instant, e.g.
    /// `2019-07-10T00:00:00-05:00` (fractional seconds only when not zero):
    /// the same instant as [`Timestamp::rfc3339`], as the zone reads it.
    pub fn iso8601(self, zone: &Zone) -> String {
        match self.to_jiff() {
            Some(t) => t
                .to_zoned(zone.tz.clone().unwrap_or(TimeZone::UTC))
                .strftime("%Y-%m-%dT%H:%M:%S%.f%:z")
                .to_string(),
            None => self.rfc3339(),
        }
    }

    /// The time in `zone`, e.g. `2019-07-10 00:00 CDT`, for people.
    pub fn local(self, zone: &Zone) -> String {
        match self.to_jiff() {
            Some(t) => t
                .to_zoned(zone.tz.clone().unwrap_or(TimeZone::UTC))
                .strftime("%Y-%m-%d %H:%M:%S %Z")
                .to_string(),
            None => self.rfc3339(),
        }
    }
}

/// The largest UTC offset RFC 3339 can write, 23:59, in seconds.
const MAX_OFFSET_SECONDS: u32 = 23 * 3600 + 59 * 60;

/// Refuses a time of day whose seconds are `60` (jiff would read
/// `23:59:60.5` as `23:59:59.5`, silently another instant).
fn check_no_leap_second(s: &str) -> Result<(), TimeError> {
    let b = s.as_bytes();
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    // `HH:MM:60` not followed by another digit.
    let leap = (0..b.len()).any(|i| {
        b[i..].starts_with(b":60")
            && i >= 5
            && b[i - 3] == b':'
            && digit(i - 5)
            && digit(i - 4)
            && digit(i - 2)
            && digit(i - 1)
            && !digit(i + 3)
    });
    if leap {
        Err(TimeError::LeapSecond(s.to_owned()))
    } else {
        Ok(())
    }
}

/// `-05:00` for an offset of minus five hours.
fn offset_text(o: jiff::tz::Offset) -> String {
    let secs = o.seconds();
    let sign = if secs < 0 { '-' } else { '+' };
    let m = secs.unsigned_abs() / 60;
    format!("{sign}{:02}:{:02}", m / 60, m % 60)
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rfc3339())
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.rfc3339())
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Timestamp::parse_rfc3339(&s).map_err(serde::de::Error::custom)
    }
}

/// A ledger's time zone: its name and, when this build's bundled tz database
/// knows the name, its rules.
///
/// Only showing times and reading plain local times resolve the name; an
/// entry's validity never does (see the module docs).
#[derive(Debug, Clone)]
pub struct Zone {
    name: String,
    tz: Option<TimeZone>,
}

/// The tz database every lookup uses: the copy bundled into the binary.
fn tzdb() -> &'static TimeZoneDatabase {
    static DB: std::sync::OnceLock<TimeZoneDatabase> = std::sync::OnceLock::new();
    DB.get_or_init(TimeZoneDatabase::bundled)
}

impl Zone {
    /// The zone for a new ledger: a valid [`TimeZoneName`] that the bundled
    /// database knows, spelled exactly as the database spells it (so
    /// `america/chicago` and `Etc/Unknown` are refused).
    pub fn new(name: &str) -> Result<Self, TimeError> {
        let unknown = || TimeError::Zone(name.to_owned());
        TimeZoneName::new(name).map_err(|_| unknown())?;
        let tz = tzdb().get(name).map_err(|_| unknown())?;
        if tz.iana_name() != Some(name) || tz.is_unknown() {
            return Err(unknown());
        }
        Ok(Zone {
            name: name.to_owned(),
            tz: Some(tz),
        })
    }

    /// The zone a ledger's genesis names, resolved in the bundled database
    /// when it knows the name (in any case, as older versions allowed). A
    /// zone it does not know shows times in UTC and refuses plain local
    /// times with [`TimeError::UnresolvedZone`].
    pub fn of_ledger(name: &str) -> Self {
        let tz = tzdb().get(name).ok().filter(|tz| !tz.is_unknown());
        Zone {
            name: name.to_owned(),
            tz,
        }
    }

    /// UTC.
    pub fn utc() -> Self {
        Zone {
            name: "UTC".into(),
            tz: Some(TimeZone::UTC),
        }
    }

    /// The IANA name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the bundled tz database knows this zone.
    pub fn is_resolved(&self) -> bool {
        self.tz.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_dates_are_local_midnight() {
        let z = Zone::new("America/Chicago").unwrap();
        let t = Timestamp::parse("2019-07-10", &z).unwrap();
        assert_eq!(t.rfc3339(), "2019-07-10T05:00:00Z");
        let t = Timestamp::parse("2019-07-10T09:30", &z).unwrap();
        assert_eq!(t.rfc3339(), "2019-07-10T14:30:00Z");
        let t = Timestamp::parse("2019-07-10T09:30:00Z", &z).unwrap();
        assert_eq!(t.rfc3339(), "2019-07-10T09:30:00Z");
        assert_eq!(Timestamp::parse_rfc3339(&t.rfc3339()).unwrap(), t);
    }

    #[test]
    fn refuses_bad_times() {
        let z = Zone::new("America/Chicago").unwrap();
        assert!(matches!(
            Timestamp::parse("yesterday", &z),
            Err(TimeError::Syntax(_))
        ));
        assert!(matches!(
            Timestamp::parse("2019-03-10T02:30", &z),
            Err(TimeError::Gap(..))
        ));
        assert!(matches!(
            Timestamp::parse("2019-07-10T00:00:00.0000001Z", &z),
            Err(TimeError::Precision(_))
        ));
        assert!(Zone::new("Mars/Olympus").is_err());
    }

    #[test]
    fn leap_seconds_and_offsets_of_a_day_are_refused_not_changed() {
        let z = Zone::new("America/Chicago").unwrap();
        for leap in [
            "2016-12-31T23:59:60Z",
            "2016-12-31T23:59:60.5Z",
            "2016-12-31T17:59:60",
            "2016-12-31 17:59:60-06:00",
        ] {
            assert!(
                matches!(Timestamp::parse(leap, &z), Err(TimeError::LeapSecond(_))),
                "{leap}"
            );
        }
        assert!(matches!(
            Timestamp::parse_rfc3339("2016-12-31T23:59:60Z"),
            Err(TimeError::LeapSecond(_))
        ));
        for off in ["2019-07-10T09:30:00+24:00", "2019-07-10T09:30:00-25:00"] {
            assert!(
                matches!(Timestamp::parse(off, &z), Err(TimeError::Offset(_))),
                "{off}"
            );
        }
        let t = Timestamp::parse("2019-07-10T09:30:00+23:59", &z).unwrap();
        assert_eq!(t.rfc3339(), "2019-07-09T09:31:00Z");
        assert!(Timestamp::parse("2019-07-10T09:30:59.5Z", &z).is_ok());
    }

    #[test]
    fn a_repeated_hour_is_refused_with_both_offsets() {
        let z = Zone::new("America/Chicago").unwrap();
        match Timestamp::parse("2019-11-03T01:30", &z) {
            Err(e @ TimeError::Fold { .. }) => assert_eq!(
                e.to_string(),
                "time \"2019-11-03T01:30\" is ambiguous in time zone America/Chicago because the hour repeats when daylight saving ends; give its offset: 2019-11-03T01:30-05:00 or 2019-11-03T01:30-06:00"
            ),
            other => panic!("{other:?}"),
        }
        let first = Timestamp::parse("2019-11-03T01:30-05:00", &z).unwrap();
        let second = Timestamp::parse("2019-11-03T01:30-06:00", &z).unwrap();
        assert_eq!(second.as_micros() - first.as_micros(), 3_600_000_000);
    }

    #[test]
    fn zones_come_from_the_bundled_database_only() {
        // Spelled as the database spells it, and a real zone.
        for bad in [
            "america/chicago",
            "Etc/Unknown",
            "posixrules",
            "Mars/Base",
            "../UTC",
        ] {
            assert!(matches!(Zone::new(bad), Err(TimeError::Zone(_))), "{bad}");
        }
        assert!(Zone::new("Etc/GMT+5").is_ok());
        // A ledger's zone that this build does not know: times show in UTC,
        // plain local times are refused with a way out.
        let mars = Zone::of_ledger("Mars/Base");
        assert!(!mars.is_resolved());
        let t = Timestamp::parse("2019-07-10T09:30:00Z", &mars).unwrap();
        assert_eq!(t.local(&mars), "2019-07-10 09:30:00 UTC");
        assert!(matches!(
            Timestamp::parse("2019-07-10", &mars),
            Err(TimeError::UnresolvedZone { .. })
        ));
        // The bundled database answers even when the environment points the
        // system lookup elsewhere (TZDIR is read by jiff's default database).
        assert!(Zone::of_ledger("America/Chicago").is_resolved());
    }
}
