//! Instants on the ledger's time line.
//!
//! The ledger stores every time as a [`Timestamp`]: whole microseconds since
//! 1970-01-01T00:00:00Z, as a signed 64-bit integer. On the command line and in
//! import files a time is RFC 3339 (`2019-07-10T09:30:00-05:00`), or a plain
//! date or date-time (`2019-07-10`, `2019-07-10T09:30`) read in the ledger's
//! time zone (so `2019-07-10` in an `America/Chicago` ledger is local midnight).

use std::fmt;

use bincode::{Decode, Encode};
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;

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
    #[error("unknown time zone {0:?}: expected an IANA name such as America/Chicago or UTC")]
    Zone(String),
    /// A local time that does not exist (skipped by a daylight-saving change).
    #[error("time {0:?} does not exist in time zone {1} (a daylight-saving gap)")]
    Gap(String, String),
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
            return Self::from_jiff(ts, s);
        }
        let dt = if let Ok(dt) = s.parse::<DateTime>() {
            dt
        } else if let Ok(d) = s.parse::<Date>() {
            d.to_datetime(jiff::civil::Time::midnight())
        } else {
            return Err(TimeError::Syntax(s.to_owned()));
        };
        let zoned = zone
            .tz
            .to_ambiguous_zoned(dt)
            .compatible()
            .map_err(|_| TimeError::Precision(s.to_owned()))?;
        // `compatible` moves a time in a gap forward; refuse instead, since a
        // ledger entry must say exactly what was meant.
        if zoned.datetime() != dt {
            return Err(TimeError::Gap(s.to_owned(), zone.name.clone()));
        }
        Self::from_jiff(zoned.timestamp(), s)
    }

    /// Parses strict RFC 3339 only (the form this crate writes).
    pub fn parse_rfc3339(s: &str) -> Result<Self, TimeError> {
        let ts = s
            .parse::<jiff::Timestamp>()
            .map_err(|_| TimeError::Syntax(s.to_owned()))?;
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

    /// The time in `zone`, e.g. `2019-07-10 00:00 CDT`, for people.
    pub fn local(self, zone: &Zone) -> String {
        match self.to_jiff() {
            Some(t) => t
                .to_zoned(zone.tz.clone())
                .strftime("%Y-%m-%d %H:%M:%S %Z")
                .to_string(),
            None => self.rfc3339(),
        }
    }
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

/// A ledger's time zone: an IANA name and its rules (from the bundled database).
#[derive(Debug, Clone)]
pub struct Zone {
    name: String,
    tz: TimeZone,
}

impl Zone {
    /// Looks up an IANA time zone name such as `America/Chicago` or `UTC`.
    pub fn new(name: &str) -> Result<Self, TimeError> {
        let tz = TimeZone::get(name).map_err(|_| TimeError::Zone(name.to_owned()))?;
        Ok(Zone {
            name: name.to_owned(),
            tz,
        })
    }

    /// UTC.
    pub fn utc() -> Self {
        Zone {
            name: "UTC".into(),
            tz: TimeZone::UTC,
        }
    }

    /// The IANA name.
    pub fn name(&self) -> &str {
        &self.name
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
}
