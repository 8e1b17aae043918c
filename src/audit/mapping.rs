//! The mapping file: how an access log's rows become ledger questions.
//!
//! A database's access log speaks its own names (`jdoe`, `ICE`,
//! `CLEAR.ARRESTS`, `SELECT`); the ledger speaks subjects, resources and
//! rights (`user:jdoe`, `agency:ice`, `cpd/clear/arrests`, `read`). A
//! [`Mapping`] declares the log's columns, its time format and zone, and
//! ordered rules from names to ledger identifiers (docs/AUDIT.md):
//!
//! - each rule's `name` is an exact name or a pattern where `*` stands for
//!   any run of characters (possibly empty); nothing else is special, and
//!   matching is case-sensitive;
//! - the rules of a kind are tried in file order and the **first match
//!   wins**; a name no rule matches is *unmappable*;
//! - a target may contain `{name}`, replaced by the log's name as written;
//!   the result must be a valid identifier, else the name is unmappable;
//! - an account rule may say `as_agency = true`: the account acts as the
//!   ledger subject its row's agency field maps to.
//!
//! The file is TOML (or JSON, for a file ending in `.json`), read by the
//! `toml` and `serde_json` crates with unknown keys refused, so a misspelt
//! key is an error rather than a silently ignored rule.

use std::fmt;

use jiff::tz::{AmbiguousOffset, TimeZone, TimeZoneDatabase};
use serde::Deserialize;

use crate::ident::{Resource, Right, Subject};
use crate::time::Timestamp;

use super::log::LogFormat;

/// Why a mapping file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MappingError {
    /// Not valid TOML or JSON, or not the documented shape.
    #[error("not a mapping file: {0}")]
    Syntax(String),
    /// A rule is malformed (names its kind and position, 1-based).
    #[error("{kind} rule {index}: {why}")]
    Rule {
        /// `accounts`, `agencies`, `objects` or `actions`.
        kind: &'static str,
        /// Position in the file, from 1.
        index: usize,
        /// What is wrong.
        why: String,
    },
    /// The `[log]` section is unusable.
    #[error("[log]: {0}")]
    Log(String),
}

/// The `[log]` section: where each field of a row is and how its time reads.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct LogSection {
    /// `csv` or `jsonl`; the command line's `--format` wins.
    format: Option<LogFormat>,
    /// `rfc3339`, `unix` (seconds), `unix_ms`, or a strftime format
    /// (`%Y-%m-%d %H:%M:%S`); default `rfc3339`.
    #[serde(default = "default_time_format")]
    time_format: String,
    /// IANA zone for times without an offset (default: the ledger's).
    time_zone: Option<String>,
    /// Column (CSV header) or key (JSONL) of each field.
    columns: Columns,
}

fn default_time_format() -> String {
    "rfc3339".into()
}

/// The names of a row's fields in the log.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Columns {
    /// When the access happened.
    pub time: String,
    /// The accessing account.
    pub account: String,
    /// What was accessed (database, table, report).
    pub object: String,
    /// What was done (`SELECT`, `EXPORT`).
    pub action: String,
    /// The account's agency, if the log has it.
    pub agency: Option<String>,
    /// The agency the account acted for, if the log has it.
    pub on_behalf_of: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    log: LogSection,
    #[serde(default)]
    accounts: Vec<AccountRuleFile>,
    #[serde(default)]
    agencies: Vec<RuleFile<String>>,
    #[serde(default)]
    objects: Vec<ObjectRuleFile>,
    #[serde(default)]
    actions: Vec<ActionRuleFile>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountRuleFile {
    name: String,
    subject: Option<String>,
    #[serde(default)]
    as_agency: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile<T> {
    name: String,
    subject: T,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ObjectRuleFile {
    name: String,
    resource: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionRuleFile {
    name: String,
    right: String,
}

/// A name pattern: exact, or with `*` standing for any run of characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    /// The pattern split at each `*`; one piece means an exact name.
    pieces: Vec<String>,
}

impl Pattern {
    /// The pattern `p` (`*` is the only special character).
    pub fn new(p: &str) -> Self {
        Pattern {
            pieces: p.split('*').map(str::to_owned).collect(),
        }
    }

    /// Whether `name` matches: the first piece is a prefix, the last a
    /// suffix, and the pieces between occur in order without overlapping.
    pub fn matches(&self, name: &str) -> bool {
        let (first, rest) = self.pieces.split_first().expect("split yields a piece");
        let Some(mut tail) = name.strip_prefix(first.as_str()) else {
            return false;
        };
        let Some((last, middle)) = rest.split_last() else {
            return tail.is_empty();
        };
        for piece in middle {
            match tail.find(piece.as_str()) {
                Some(i) => tail = &tail[i + piece.len()..],
                None => return false,
            }
        }
        tail.len() >= last.len() && tail.ends_with(last.as_str())
    }
}

/// A target identifier, perhaps with `{name}` to fill in.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Template(String);

impl Template {
    fn fill(&self, name: &str) -> String {
        self.0.replace("{name}", name)
    }

    fn is_fixed(&self) -> bool {
        !self.0.contains("{name}")
    }
}

/// What an account rule maps to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum AccountTarget {
    Subject(Template),
    /// The subject its row's agency maps to.
    Agency,
}

/// Why a row's name could not be mapped.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Unmapped {
    /// Which field: `account`, `agency`, `on_behalf_of`, `object` or `action`.
    pub field: &'static str,
    /// The name as the log wrote it (empty when the field is missing).
    pub name: String,
    /// Why: no rule matches, or the rule's target is not a valid identifier.
    pub why: String,
}

impl fmt::Display for Unmapped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {:?}: {}", self.field, self.name, self.why)
    }
}

/// How a row's time is written.
#[derive(Debug, Clone)]
enum TimeFormat {
    Rfc3339,
    UnixSeconds,
    UnixMillis,
    Strftime(String),
}

/// The instant(s) a row's time names: one, or two when a local time falls
/// in the hour a daylight-saving change repeats (earlier first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowTime {
    /// One instant.
    Exact(Timestamp),
    /// A repeated local time: its first and its second occurrence.
    Repeated(Timestamp, Timestamp),
}

impl RowTime {
    /// The first (or only) instant.
    pub fn first(self) -> Timestamp {
        match self {
            RowTime::Exact(t) | RowTime::Repeated(t, _) => t,
        }
    }
}

/// A checked mapping file. Every fixed target is a valid identifier; a
/// template's is checked per row.
#[derive(Debug, Clone)]
pub struct Mapping {
    format: Option<LogFormat>,
    columns: Columns,
    time_format: TimeFormat,
    time_format_text: String,
    zone: Option<(String, TimeZone)>,
    accounts: Vec<(Pattern, AccountTarget)>,
    agencies: Vec<(Pattern, Template)>,
    objects: Vec<(Pattern, Template)>,
    actions: Vec<(Pattern, Template)>,
}

/// The tz database every zone lookup uses: the copy bundled into the binary
/// (as `crate::time` does), so a mapping reads a log the same on every machine.
fn tzdb() -> &'static TimeZoneDatabase {
    static DB: std::sync::OnceLock<TimeZoneDatabase> = std::sync::OnceLock::new();
    DB.get_or_init(TimeZoneDatabase::bundled)
}

/// Looks up an IANA zone in the bundled database, spelled exactly.
pub(super) fn zone_named(name: &str) -> Option<TimeZone> {
    tzdb()
        .get(name)
        .ok()
        .filter(|tz| !tz.is_unknown() && tz.iana_name() == Some(name))
}

impl Mapping {
    /// Parses a mapping in TOML.
    pub fn from_toml(text: &str) -> Result<Mapping, MappingError> {
        let file: MappingFile =
            toml::from_str(text).map_err(|e| MappingError::Syntax(one_line(&e.to_string())))?;
        Self::check(file)
    }

    /// Parses a mapping in JSON (the same shape as the TOML).
    pub fn from_json(text: &str) -> Result<Mapping, MappingError> {
        let file: MappingFile =
            serde_json::from_str(text).map_err(|e| MappingError::Syntax(e.to_string()))?;
        Self::check(file)
    }

    fn check(f: MappingFile) -> Result<Mapping, MappingError> {
        let log = f.log;
        let time_format = match log.time_format.as_str() {
            "rfc3339" => TimeFormat::Rfc3339,
            "unix" => TimeFormat::UnixSeconds,
            "unix_ms" => TimeFormat::UnixMillis,
            s if s.contains('%') => TimeFormat::Strftime(s.to_owned()),
            s => {
                return Err(MappingError::Log(format!(
                    "time_format {s:?}: expected rfc3339, unix, unix_ms or a strftime format such as \"%Y-%m-%d %H:%M:%S\""
                )))
            }
        };
        let zone = match log.time_zone {
            None => None,
            Some(name) => {
                let tz = zone_named(&name).ok_or_else(|| {
                    MappingError::Log(format!(
                        "unknown time_zone {name:?}: expected an IANA name such as America/Chicago or UTC"
                    ))
                })?;
                Some((name, tz))
            }
        };
        for (what, c) in [
            ("time", Some(&log.columns.time)),
            ("account", Some(&log.columns.account)),
            ("object", Some(&log.columns.object)),
            ("action", Some(&log.columns.action)),
            ("agency", log.columns.agency.as_ref()),
            ("on_behalf_of", log.columns.on_behalf_of.as_ref()),
        ] {
            if c.is_some_and(|c| c.is_empty()) {
                return Err(MappingError::Log(format!("columns.{what} is empty")));
            }
        }
        let mut accounts = Vec::new();
        for (i, a) in f.accounts.into_iter().enumerate() {
            let err = |why: String| MappingError::Rule {
                kind: "accounts",
                index: i + 1,
                why,
            };
            let target = match (a.subject, a.as_agency) {
                (Some(s), false) => {
                    let t = Template(s);
                    fixed_ok(&t, |s| Subject::new(s).map(drop)).map_err(err)?;
                    AccountTarget::Subject(t)
                }
                (None, true) => {
                    if log.columns.agency.is_none() {
                        return Err(err(
                            "as_agency needs the log's agency column (columns.agency)".into(),
                        ));
                    }
                    AccountTarget::Agency
                }
                _ => {
                    return Err(err(
                        "give exactly one of subject = \"...\" and as_agency = true".into(),
                    ))
                }
            };
            accounts.push((Pattern::new(&a.name), target));
        }
        let mut agencies = Vec::new();
        for (i, a) in f.agencies.into_iter().enumerate() {
            let t = Template(a.subject);
            fixed_ok(&t, |s| Subject::new(s).map(drop)).map_err(|why| MappingError::Rule {
                kind: "agencies",
                index: i + 1,
                why,
            })?;
            agencies.push((Pattern::new(&a.name), t));
        }
        let mut objects = Vec::new();
        for (i, o) in f.objects.into_iter().enumerate() {
            let t = Template(o.resource);
            fixed_ok(&t, |s| Resource::new(s).map(drop)).map_err(|why| MappingError::Rule {
                kind: "objects",
                index: i + 1,
                why,
            })?;
            objects.push((Pattern::new(&o.name), t));
        }
        let mut actions = Vec::new();
        for (i, a) in f.actions.into_iter().enumerate() {
            let t = Template(a.right);
            let named = |s: &str| match Right::new(s) {
                Ok(r) if r.is_wildcard() => Err("cannot map to the wildcard right *".to_owned()),
                Ok(_) => Ok(()),
                Err(e) => Err(e.to_string()),
            };
            let res = if t.is_fixed() { named(&t.0) } else { Ok(()) };
            res.map_err(|why| MappingError::Rule {
                kind: "actions",
                index: i + 1,
                why,
            })?;
            actions.push((Pattern::new(&a.name), t));
        }
        Ok(Mapping {
            format: log.format,
            columns: log.columns,
            time_format,
            time_format_text: log.time_format,
            zone,
            accounts,
            agencies,
            objects,
            actions,
        })
    }

    /// The log format the file declares, if any.
    pub fn format(&self) -> Option<LogFormat> {
        self.format
    }

    /// Where each field of a row is.
    pub fn columns(&self) -> &Columns {
        &self.columns
    }

    /// Whether some row times may lack an offset (a strftime format), and
    /// so need a zone.
    pub fn reads_local_times(&self) -> bool {
        matches!(self.time_format, TimeFormat::Strftime(_))
    }

    /// The zone name of the file, if it sets one.
    pub fn zone_name(&self) -> Option<&str> {
        self.zone.as_ref().map(|(n, _)| n.as_str())
    }

    /// The subject an account acts as. `agency` is the row's agency field.
    pub fn account(&self, account: &str, agency: Option<&str>) -> Result<Subject, Unmapped> {
        for (p, target) in &self.accounts {
            if p.matches(account) {
                return match target {
                    AccountTarget::Subject(t) => filled(t, account, "account", Subject::new),
                    AccountTarget::Agency => match agency {
                        Some(a) if !a.is_empty() => self.agency("agency", a),
                        _ => Err(Unmapped {
                            field: "agency",
                            name: String::new(),
                            why: format!(
                                "account {account:?} acts as its agency, and the row names none"
                            ),
                        }),
                    },
                };
            }
        }
        Err(no_rule("account", account))
    }

    /// The subject an agency name maps to (`field` names the column for messages).
    pub fn agency(&self, field: &'static str, name: &str) -> Result<Subject, Unmapped> {
        first(&self.agencies, name)
            .ok_or_else(|| no_rule(field, name))
            .and_then(|t| filled(t, name, field, Subject::new))
    }

    /// The resource an object name maps to.
    pub fn object(&self, name: &str) -> Result<Resource, Unmapped> {
        first(&self.objects, name)
            .ok_or_else(|| no_rule("object", name))
            .and_then(|t| filled(t, name, "object", Resource::new))
    }

    /// The right an action maps to (never `*`).
    pub fn action(&self, name: &str) -> Result<Right, Unmapped> {
        let r = first(&self.actions, name)
            .ok_or_else(|| no_rule("action", name))
            .and_then(|t| filled(t, name, "action", Right::new))?;
        if r.is_wildcard() {
            return Err(Unmapped {
                field: "action",
                name: name.to_owned(),
                why: "maps to the wildcard right *".into(),
            });
        }
        Ok(r)
    }

    /// Reads a row's time: with its own offset, or in the mapping's zone
    /// (else `default_zone`, the ledger's). A local time in a repeated hour
    /// gives both instants; one that a daylight-saving change skips is an error.
    pub fn time(&self, text: &str, default_zone: &TimeZone) -> Result<RowTime, String> {
        let text = text.trim();
        let bad = |why: &str| format!("invalid time {text:?}: {why}");
        let micros = |ts: jiff::Timestamp| -> Result<Timestamp, String> {
            Ok(Timestamp::from_micros(ts.as_microsecond()))
        };
        let zone = self.zone.as_ref().map_or(default_zone, |(_, tz)| tz);
        match &self.time_format {
            TimeFormat::Rfc3339 => Timestamp::parse_rfc3339(text)
                .map(RowTime::Exact)
                .map_err(|e| e.to_string()),
            TimeFormat::UnixSeconds | TimeFormat::UnixMillis => {
                let scale = if matches!(self.time_format, TimeFormat::UnixSeconds) {
                    1_000_000
                } else {
                    1_000
                };
                let n: i64 = text
                    .parse()
                    .map_err(|_| bad(&format!("expected {}", self.time_format_text)))?;
                n.checked_mul(scale)
                    .map(|m| RowTime::Exact(Timestamp::from_micros(m)))
                    .ok_or_else(|| bad("out of range"))
            }
            TimeFormat::Strftime(f) => {
                let tm = jiff::fmt::strtime::parse(f, text)
                    .map_err(|e| bad(&format!("does not match {f:?} ({e})")))?;
                if tm.offset().is_some() || tm.timestamp().is_some() {
                    let ts = tm.to_timestamp().map_err(|e| bad(&e.to_string()))?;
                    return micros(ts).map(RowTime::Exact);
                }
                let dt = tm.to_datetime().map_err(|e| bad(&e.to_string()))?;
                let amb = zone.to_ambiguous_timestamp(dt);
                let at = |o: jiff::tz::Offset| -> Result<Timestamp, String> {
                    micros(o.to_timestamp(dt).map_err(|e| bad(&e.to_string()))?)
                };
                match amb.offset() {
                    AmbiguousOffset::Unambiguous { offset } => at(offset).map(RowTime::Exact),
                    AmbiguousOffset::Fold { before, after } => {
                        Ok(RowTime::Repeated(at(before)?, at(after)?))
                    }
                    AmbiguousOffset::Gap { .. } => Err(bad(
                        "that local time does not exist (skipped by a daylight-saving change)",
                    )),
                }
            }
        }
    }
}

fn first<'m>(rules: &'m [(Pattern, Template)], name: &str) -> Option<&'m Template> {
    rules.iter().find(|(p, _)| p.matches(name)).map(|(_, t)| t)
}

fn no_rule(field: &'static str, name: &str) -> Unmapped {
    Unmapped {
        field,
        name: name.to_owned(),
        why: "no mapping rule matches".into(),
    }
}

fn filled<T, E: fmt::Display>(
    t: &Template,
    name: &str,
    field: &'static str,
    make: impl Fn(String) -> Result<T, E>,
) -> Result<T, Unmapped> {
    make(t.fill(name)).map_err(|e| Unmapped {
        field,
        name: name.to_owned(),
        why: format!("maps to {e}"),
    })
}

fn fixed_ok(
    t: &Template,
    check: impl Fn(&str) -> Result<(), crate::ident::IdentError>,
) -> Result<(), String> {
    if t.is_fixed() {
        check(&t.0).map_err(|e| e.to_string())
    } else {
        Ok(())
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_star_matches_any_run_and_nothing_else_is_special() {
        let m = |p: &str, n: &str| Pattern::new(p).matches(n);
        assert!(m("CLEAR.ARRESTS", "CLEAR.ARRESTS"));
        assert!(!m("CLEAR.ARRESTS", "CLEAR.ARRESTSX"));
        assert!(!m("clear.arrests", "CLEAR.ARRESTS"));
        assert!(m("CLEAR.*", "CLEAR."));
        assert!(m("CLEAR.*", "CLEAR.ARRESTS"));
        assert!(!m("CLEAR.*", "CLEARX"));
        assert!(m("*", ""));
        assert!(m("*-ero-*", "ice-ero-7"));
        assert!(m("a*b*a", "aba"));
        assert!(!m("a*a", "a"));
        assert!(m("[x]?", "[x]?"));
        assert!(!m("[x]?", "x?"));
    }

    const BASE: &str = r#"
[log]
time_format = "%Y-%m-%d %H:%M:%S"
time_zone = "America/Chicago"
columns = { time = "t", account = "user", object = "obj", action = "act", agency = "agency" }
"#;

    #[test]
    fn the_first_matching_rule_wins_and_templates_fill_in_the_name() {
        let m = Mapping::from_toml(&format!(
            "{BASE}
[[accounts]]
name = \"svc-*\"
as_agency = true
[[accounts]]
name = \"*\"
subject = \"user:{{name}}\"
[[agencies]]
name = \"ICE\"
subject = \"agency:ice\"
[[objects]]
name = \"CLEAR.ARRESTS\"
resource = \"cpd/clear/arrests\"
[[objects]]
name = \"CLEAR.*\"
resource = \"cpd/clear\"
[[actions]]
name = \"SELECT\"
right = \"read\"
"
        ))
        .unwrap();
        assert_eq!(m.account("jdoe", None).unwrap().as_str(), "user:jdoe");
        assert_eq!(
            m.account("svc-1", Some("ICE")).unwrap().as_str(),
            "agency:ice"
        );
        assert_eq!(m.account("svc-1", None).unwrap_err().field, "agency");
        assert_eq!(m.account("JDoe", None).unwrap_err().field, "account");
        assert_eq!(
            m.object("CLEAR.ARRESTS").unwrap().as_str(),
            "cpd/clear/arrests"
        );
        assert_eq!(m.object("CLEAR.MAP").unwrap().as_str(), "cpd/clear");
        assert!(m.object("OTHER").is_err());
        assert_eq!(m.action("SELECT").unwrap().as_str(), "read");
        assert_eq!(
            m.action("DELETE").unwrap_err().why,
            "no mapping rule matches"
        );
    }

    #[test]
    fn a_bad_rule_or_key_is_refused_with_its_place() {
        let e = Mapping::from_toml(&format!(
            "{BASE}[[objects]]\nname = \"X\"\nresource = \"Bad\"\n"
        ))
        .unwrap_err();
        assert!(
            matches!(
                e,
                MappingError::Rule {
                    kind: "objects",
                    index: 1,
                    ..
                }
            ),
            "{e}"
        );
        let e = Mapping::from_toml(&format!("{BASE}[[actions]]\nname = \"X\"\nright = \"*\"\n"))
            .unwrap_err();
        assert!(e.to_string().contains("wildcard"), "{e}");
        let e = Mapping::from_toml(&format!(
            "{BASE}[[actions]]\nnam = \"X\"\nright = \"read\"\n"
        ))
        .unwrap_err();
        assert!(matches!(e, MappingError::Syntax(_)), "{e}");
        let e = Mapping::from_toml(&BASE.replace("America/Chicago", "Mars/Olympus")).unwrap_err();
        assert!(e.to_string().contains("Mars/Olympus"), "{e}");
    }

    #[test]
    fn a_repeated_local_hour_names_two_instants_and_a_skipped_one_none() {
        let m = Mapping::from_toml(BASE).unwrap();
        let utc = TimeZone::UTC;
        let t = |s: &str| m.time(s, &utc);
        assert_eq!(
            t("2019-07-10 09:30:00").unwrap(),
            RowTime::Exact(Timestamp::parse_rfc3339("2019-07-10T14:30:00Z").unwrap())
        );
        assert_eq!(
            t("2019-11-03 01:30:00").unwrap(),
            RowTime::Repeated(
                Timestamp::parse_rfc3339("2019-11-03T06:30:00Z").unwrap(),
                Timestamp::parse_rfc3339("2019-11-03T07:30:00Z").unwrap()
            )
        );
        assert!(t("2019-03-10 02:30:00")
            .unwrap_err()
            .contains("does not exist"));
        assert!(t("yesterday")
            .unwrap_err()
            .starts_with("invalid time \"yesterday\""));
    }
}
