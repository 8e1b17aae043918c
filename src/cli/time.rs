//! Time arguments. A plain date or date-time (`2019-07-10`) means the
//! ledger's time zone, which is known only once the ledger is open; so clap
//! parses a time into a [`TimeArg`] (its syntax checked, its flag
//! remembered), and the command resolves it against the ledger's [`Clock`].

use std::ffi::OsStr;

use access_ledger::{TimeError, Timestamp, Zone};
use clap::builder::{TypedValueParser, ValueParserFactory};
use clap::{Arg, Command};

use super::value::{flag, Checked};
use super::Failure;

/// A time as given on the command line: syntax checked, not yet an instant.
#[derive(Debug, Clone)]
pub struct TimeArg {
    /// The flag it was given with, for messages (`--at`).
    flag: String,
    when: When,
}

#[derive(Debug, Clone)]
enum When {
    /// `now`: the moment the command resolves its times.
    Now,
    /// RFC 3339: carries its own offset.
    Instant(Timestamp),
    /// A plain date or date-time: an instant only in a time zone.
    Civil(String),
}

impl When {
    /// Sorts `s` into its kind, refusing what is no time in any zone.
    fn parse(s: &str) -> Result<When, TimeError> {
        if s.trim() == "now" {
            return Ok(When::Now);
        }
        match Timestamp::parse_rfc3339(s.trim()) {
            Ok(t) => Ok(When::Instant(t)),
            // Not an instant: a civil time if it reads as one (in UTC here;
            // a daylight-saving gap is the ledger's zone's to find).
            Err(TimeError::Syntax(_)) => match Timestamp::parse(s, &Zone::utc()) {
                Err(e @ TimeError::Syntax(_)) => Err(e),
                _ => Ok(When::Civil(s.to_owned())),
            },
            Err(e) => Err(e),
        }
    }
}

impl TimeArg {
    /// A time given as text outside the command line (a field of a `check
    /// --batch` question), with the same syntax as a flag; `name` stands for
    /// the flag in messages.
    pub fn from_text(name: &str, s: &str) -> Result<TimeArg, TimeError> {
        Ok(TimeArg {
            flag: name.to_owned(),
            when: When::parse(s)?,
        })
    }
}

/// The clap parser of [`TimeArg`].
#[derive(Clone, Copy)]
pub struct TimeParser;

impl TypedValueParser for TimeParser {
    type Value = TimeArg;

    fn parse_ref(
        &self,
        cmd: &Command,
        arg: Option<&Arg>,
        value: &OsStr,
    ) -> Result<TimeArg, clap::Error> {
        let when = Checked(When::parse).parse_ref(cmd, arg, value)?;
        Ok(TimeArg {
            flag: flag(arg),
            when,
        })
    }
}

impl ValueParserFactory for TimeArg {
    type Parser = TimeParser;

    fn value_parser() -> TimeParser {
        TimeParser
    }
}

/// The ledger's time line as one command sees it: its zone, and one `now`
/// shared by every time the command resolves.
pub struct Clock {
    zone: Zone,
    now: Timestamp,
}

impl Clock {
    /// A clock in `zone`, reading the time now.
    pub fn new(zone: Zone) -> Self {
        Clock {
            zone,
            now: Timestamp::now(),
        }
    }

    /// The zone plain dates are read in.
    pub fn zone(&self) -> &Zone {
        &self.zone
    }

    /// The instant `t` names in this zone.
    pub fn resolve(&self, t: &TimeArg) -> Result<Timestamp, Failure> {
        match &t.when {
            When::Now => Ok(self.now),
            When::Instant(i) => Ok(*i),
            When::Civil(s) => Timestamp::parse(s, &self.zone)
                .map_err(|e| Failure::usage(format!("{}: {e}", t.flag))),
        }
    }

    /// The instant `t` names, or now when it was not given.
    pub fn or_now(&self, t: Option<&TimeArg>) -> Result<Timestamp, Failure> {
        t.map_or(Ok(self.now), |t| self.resolve(t))
    }

    /// The instant `t` names, if it was given.
    pub fn optional(&self, t: Option<&TimeArg>) -> Result<Option<Timestamp>, Failure> {
        t.map(|t| self.resolve(t)).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::exit;

    fn arg(s: &str) -> TimeArg {
        TimeArg {
            flag: "--at".into(),
            when: When::parse(s).unwrap(),
        }
    }

    #[test]
    fn a_time_is_sorted_at_the_edge_and_resolved_in_the_ledgers_zone() {
        let chicago = Clock::new(Zone::new("America/Chicago").unwrap());
        let at = |s: &str| chicago.resolve(&arg(s)).unwrap().rfc3339();
        assert_eq!(at("2019-07-10"), "2019-07-10T05:00:00Z");
        assert_eq!(at(" 2019-07-10T09:30 "), "2019-07-10T14:30:00Z");
        assert_eq!(at("2019-07-10T09:30:00-04:00"), "2019-07-10T13:30:00Z");
        assert_eq!(chicago.resolve(&arg("now")).unwrap(), chicago.now);
        assert_eq!(chicago.or_now(None).unwrap(), chicago.now);
        assert_eq!(chicago.optional(None).unwrap(), None);
        // A daylight-saving gap exists only in a zone: found on resolving,
        // and the message names the flag.
        match chicago.resolve(&arg("2019-03-10T02:30")) {
            Err(Failure::Error { code, message, .. }) => {
                assert_eq!(code, exit::USAGE);
                assert!(
                    message.starts_with("--at: time \"2019-03-10T02:30\" does not exist"),
                    "{message}"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn what_is_no_time_in_any_zone_is_refused_at_the_edge() {
        for s in ["last tuesday", "2019-13-45", "", "nowish"] {
            assert!(matches!(When::parse(s), Err(TimeError::Syntax(_))), "{s:?}");
        }
        assert!(matches!(
            When::parse("2019-07-10T00:00:00.0000001Z"),
            Err(TimeError::Precision(_))
        ));
    }
}
