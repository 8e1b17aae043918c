//! Value parsers: clap turns each argument into a domain value with the
//! library's own checking constructor, so a handler never sees unchecked text.
//!
//! A refused value is one line naming the argument (`--rights: invalid
//! rights: …`; a positional's own message names what it is: `invalid subject
//! "ICE": …`), exit 2, and never quotes more of the value than the library's
//! message does (a private key pasted as a verifier key stays unquoted).

use std::ffi::OsStr;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use access_ledger::{
    AuthorityName, Origin, Resource, Right, Rights, Roles, Subject, Text, VerifierKey, Zone,
};
use clap::builder::TypedValueParser;
use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Arg, Command};

/// A parser that builds a `T` with a checking constructor.
pub struct Checked<T, E>(pub fn(&str) -> Result<T, E>);

// Derived `Clone` would ask `E: Clone`; a function pointer is always `Copy`.
impl<T, E> Clone for Checked<T, E> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T, E> Copy for Checked<T, E> {}

impl<T, E> TypedValueParser for Checked<T, E>
where
    T: Clone + Send + Sync + 'static,
    E: fmt::Display + 'static,
{
    type Value = T;

    fn parse_ref(&self, cmd: &Command, arg: Option<&Arg>, value: &OsStr) -> Result<T, clap::Error> {
        let text = value
            .to_str()
            .ok_or_else(|| clap::Error::new(ErrorKind::InvalidUtf8).with_cmd(cmd))?;
        (self.0)(text).map_err(|why| refusal(arg, why))
    }
}

/// The flag an argument is spelled with (`--at`), or "" for a positional.
pub fn flag(arg: Option<&Arg>) -> String {
    arg.and_then(Arg::get_long)
        .map(|long| format!("--{long}"))
        .unwrap_or_default()
}

/// A refused value, as the one line [`refused_value`] reads back.
fn refusal(arg: Option<&Arg>, why: impl fmt::Display) -> clap::Error {
    let message = match flag(arg).as_str() {
        "" => why.to_string(),
        flag => format!("{flag}: {why}"),
    };
    let mut e = clap::Error::new(ErrorKind::ValueValidation);
    e.insert(ContextKind::Custom, ContextValue::String(message));
    e
}

/// The one-line message of a value one of these parsers refused, if `e` is one.
pub fn refused_value(e: &clap::Error) -> Option<&str> {
    match e.get(ContextKind::Custom) {
        Some(ContextValue::String(m)) if e.kind() == ErrorKind::ValueValidation => Some(m),
        _ => None,
    }
}

/// A subject (`kind:name`).
pub fn subject() -> Checked<Subject, access_ledger::IdentError> {
    Checked(Subject::from_str)
}

/// A resource path.
pub fn resource() -> Checked<Resource, access_ledger::IdentError> {
    Checked(Resource::from_str)
}

/// One right.
pub fn right() -> Checked<Right, access_ledger::IdentError> {
    Checked(Right::from_str)
}

/// A comma-separated rights set.
pub fn rights() -> Checked<Rights, access_ledger::IdentError> {
    Checked(Rights::parse_list)
}

/// An authority name.
pub fn authority_name() -> Checked<AuthorityName, access_ledger::IdentError> {
    Checked(AuthorityName::from_str)
}

/// A log's origin line.
pub fn origin() -> Checked<Origin, access_ledger::IdentError> {
    Checked(Origin::from_str)
}

/// `--basis` text.
pub fn basis() -> Checked<Text, access_ledger::IdentError> {
    Checked(|s| Text::new("basis", s))
}

/// `--reason` text.
pub fn reason() -> Checked<Text, access_ledger::IdentError> {
    Checked(|s| Text::new("reason", s))
}

/// A comma-separated roles set.
pub fn roles() -> Checked<Roles, String> {
    Checked(Roles::parse_list)
}

/// An IANA time zone.
pub fn zone() -> Checked<Zone, access_ledger::TimeError> {
    Checked(Zone::new)
}

/// A note verifier key (`name+keyid+base64`).
pub fn verifier_key() -> Checked<VerifierKey, access_ledger::KeyError> {
    Checked(VerifierKey::parse)
}

/// A number of seconds from 0 to 3600 (not NaN, not infinite).
pub fn seconds() -> Checked<Duration, String> {
    Checked(|s| match s.parse::<f64>() {
        Ok(v) if (0.0..=3600.0).contains(&v) => Ok(Duration::from_secs_f64(v)),
        _ => Err(format!(
            "expected a number of seconds from 0 to 3600, got {s:?}"
        )),
    })
}
