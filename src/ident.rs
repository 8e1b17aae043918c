//! Identifiers: subjects, resources, rights, authority names and ledger origins.
//!
//! Every identifier type here can only be constructed through a checking
//! constructor, so a value that exists is well formed. The same constructors
//! run when an entry is decoded from the store and when a line is read from an
//! import file, so there is one definition of "valid" in the whole crate.
//!
//! Limits (also in docs/FORMAT.md):
//! - a subject is `kind:name`, each part `[a-z0-9._-]+`, at most [`MAX_IDENT_LEN`] bytes in all;
//! - a resource is `/`-separated segments of `[a-z0-9._-]+`, at most
//!   [`MAX_RESOURCE_DEPTH`] segments and [`MAX_IDENT_LEN`] bytes;
//! - a right is `[a-z0-9_-]+` of at most [`MAX_RIGHT_LEN`] bytes, or `*`; a rights set
//!   has between 1 and [`MAX_RIGHTS`] members;
//! - an authority name is `[a-z0-9._-]+` of at most [`MAX_NAME_LEN`] bytes;
//! - free text (basis, reason) is at most [`MAX_TEXT_LEN`] bytes of UTF-8.

use std::fmt;

use bincode::de::{BorrowDecoder, Decoder};
use bincode::enc::Encoder;
use bincode::error::{DecodeError, EncodeError};
use bincode::{BorrowDecode, Decode, Encode};
use serde::{Deserialize, Serialize};

/// Longest subject or resource, in bytes.
pub const MAX_IDENT_LEN: usize = 256;
/// Most segments in a resource path.
pub const MAX_RESOURCE_DEPTH: usize = 16;
/// Longest right, in bytes.
pub const MAX_RIGHT_LEN: usize = 64;
/// Most rights in one set.
pub const MAX_RIGHTS: usize = 32;
/// Longest authority name, in bytes.
pub const MAX_NAME_LEN: usize = 64;
/// Longest origin line, in bytes.
pub const MAX_ORIGIN_LEN: usize = 256;
/// Longest free-text field (basis, reason), in bytes.
pub const MAX_TEXT_LEN: usize = 4096;

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdentError {
    /// A subject is not `kind:name` with both parts `[a-z0-9._-]+`.
    #[error("invalid subject {0:?}: expected kind:name, lowercase [a-z0-9._-] (e.g. agency:ice, group:federal-partners)")]
    Subject(String),
    /// A group was expected (a subject of kind `group`).
    #[error("invalid group {0:?}: expected group:name")]
    Group(String),
    /// A resource is not `/`-separated `[a-z0-9._-]+` segments.
    #[error("invalid resource {0:?}: expected /-separated lowercase segments [a-z0-9._-], none of them . or .. (e.g. cpd/clear/arrests), at most {MAX_RESOURCE_DEPTH} deep")]
    Resource(String),
    /// A right is not `[a-z0-9_-]+` or `*`.
    #[error("invalid right {0:?}: expected lowercase [a-z0-9_-] or *")]
    Right(String),
    /// A rights set is empty or too large.
    #[error("invalid rights: {0}")]
    Rights(&'static str),
    /// An authority name is not `[a-z0-9._-]+`.
    #[error("invalid authority name {0:?}: expected lowercase [a-z0-9._-], at most {MAX_NAME_LEN} bytes")]
    Name(String),
    /// An origin is empty, too long, or has a control character or leading/trailing space.
    #[error("invalid origin {0:?}: expected a non-empty line of printable text, at most {MAX_ORIGIN_LEN} bytes (e.g. chicago.gov/cpd-access)")]
    Origin(String),
    /// A time zone name is not IANA-style (see [`TimeZoneName`]).
    #[error("invalid time zone name {0:?}: expected an IANA name such as America/Chicago or UTC")]
    TimeZone(String),
    /// New free text holds a character of [`INVISIBLE`].
    #[error("invalid {field}: contains U+{code_point:04X}, a bidirectional control or other invisible character that can reorder or hide text")]
    Invisible {
        /// Which field.
        field: &'static str,
        /// The character.
        code_point: u32,
    },
    /// Free text is too long or has control characters other than newline and tab.
    #[error("invalid {field}: {why}")]
    Text {
        /// Which field.
        field: &'static str,
        /// What is wrong with it.
        why: &'static str,
    },
}

fn is_token_char(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'.' || c == b'_' || c == b'-'
}

fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_token_char)
}

macro_rules! string_newtype {
    ($(#[$m:meta])* $name:ident, $check:expr) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Checks `s` and wraps it.
            pub fn new(s: impl Into<String>) -> Result<Self, IdentError> {
                let s = s.into();
                let check: fn(&str) -> Result<(), IdentError> = $check;
                check(&s)?;
                Ok(Self(s))
            }

            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        /// Compares, orders and hashes as its text, so a map keyed by it can
        /// be searched by `&str` (a range of names by prefix, say).
        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdentError;
            fn try_from(s: String) -> Result<Self, IdentError> {
                Self::new(s)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdentError;
            fn from_str(s: &str) -> Result<Self, IdentError> {
                Self::new(s)
            }
        }

        impl Encode for $name {
            fn encode<E: Encoder>(&self, e: &mut E) -> Result<(), EncodeError> {
                self.0.encode(e)
            }
        }

        impl<C> Decode<C> for $name {
            fn decode<D: Decoder<Context = C>>(d: &mut D) -> Result<Self, DecodeError> {
                let s = String::decode(d)?;
                Self::new(s).map_err(|e| DecodeError::OtherString(e.to_string()))
            }
        }

        impl<'de, C> BorrowDecode<'de, C> for $name {
            fn borrow_decode<D: BorrowDecoder<'de, Context = C>>(d: &mut D) -> Result<Self, DecodeError> {
                <Self as Decode<C>>::decode(d)
            }
        }
    };
}

string_newtype!(
    /// A subject that can hold rights: `kind:name`, e.g. `agency:ice`, `user:jdoe`,
    /// `group:federal-partners`. Subjects of kind `group` are groups.
    Subject,
    |s| {
        let ok = s.len() <= MAX_IDENT_LEN
            && matches!(s.split_once(':'), Some((k, n)) if is_token(k) && is_token(n));
        if ok { Ok(()) } else { Err(IdentError::Subject(s.to_owned())) }
    }
);

impl Subject {
    /// Every group's name begins with this, and sorts before
    /// [`Subject::GROUPS_END`]: the groups of a sorted set of subjects are
    /// one range.
    pub(crate) const GROUP_PREFIX: &'static str = "group:";
    /// The first string after every name that begins with
    /// [`Subject::GROUP_PREFIX`] (`;` follows `:`).
    pub(crate) const GROUPS_END: &'static str = "group;";

    /// Whether this subject is a group (`group:*`).
    pub fn is_group(&self) -> bool {
        self.0.starts_with(Self::GROUP_PREFIX)
    }

    /// Checks that this subject is a group.
    pub fn require_group(&self) -> Result<(), IdentError> {
        if self.is_group() {
            Ok(())
        } else {
            Err(IdentError::Group(self.0.clone()))
        }
    }
}

string_newtype!(
    /// A resource: `/`-separated segments, e.g. `cpd/clear/arrests`. A grant on a
    /// resource covers all of its descendants.
    Resource,
    |s| {
        let ok = s.len() <= MAX_IDENT_LEN
            && s.split('/').count() <= MAX_RESOURCE_DEPTH
            && s.split('/').all(|seg| is_token(seg) && seg != "." && seg != "..");
        if ok { Ok(()) } else { Err(IdentError::Resource(s.to_owned())) }
    }
);

impl Resource {
    /// Whether `self` is `other` or one of its ancestors (so a grant on
    /// `self` covers `other`).
    pub fn covers(&self, other: &Resource) -> bool {
        other.0 == self.0
            || (other.0.len() > self.0.len()
                && other.0.starts_with(&self.0)
                && other.0.as_bytes()[self.0.len()] == b'/')
    }

    /// Whether one of the two covers the other (their subtrees intersect).
    pub fn overlaps(&self, other: &Resource) -> bool {
        self.covers(other) || other.covers(self)
    }

    /// The resource and each of its ancestors, longest first:
    /// `cpd/clear/arrests`, `cpd/clear`, `cpd`.
    pub fn self_and_ancestors(&self) -> impl Iterator<Item = Resource> + '_ {
        let s = self.0.as_str();
        std::iter::once(s)
            .chain(s.rmatch_indices('/').map(move |(i, _)| &s[..i]))
            .map(|p| Resource(p.to_owned()))
    }
}

string_newtype!(
    /// An authority's name, e.g. `cpd-admin`. Also the key name in signed notes.
    AuthorityName,
    |s| {
        if s.len() <= MAX_NAME_LEN && is_token(s) { Ok(()) } else { Err(IdentError::Name(s.to_owned())) }
    }
);

string_newtype!(
    /// The ledger's origin: the first line of its checkpoints, naming the log
    /// (e.g. `chicago.gov/cpd-access`). Printable ASCII, no leading or trailing space.
    Origin,
    |s| {
        let ok = !s.is_empty()
            && s.len() <= MAX_ORIGIN_LEN
            && s.bytes().all(|c| (0x20..0x7f).contains(&c))
            && !s.starts_with(' ')
            && !s.ends_with(' ')
            // A `+` would make verifier keys (`name+id+key`) ambiguous.
            && !s.contains('+');
        if ok { Ok(()) } else { Err(IdentError::Origin(s.to_owned())) }
    }
);

/// Longest time zone name, in bytes.
pub const MAX_ZONE_NAME_LEN: usize = 64;
/// Longest component of a time zone name, in bytes (the tz database's own
/// limit for file name components).
pub const MAX_ZONE_COMPONENT_LEN: usize = 14;

string_newtype!(
    /// A ledger's time zone as its genesis entry stores it: an IANA-style name
    /// such as `America/Chicago`, `UTC` or `Etc/GMT+5`, checked for syntax
    /// only. Whether an entry is valid never depends on a time-zone database;
    /// see [`crate::Zone`] for how the name is resolved to show times.
    ///
    /// Syntax (docs/FORMAT.md §3): 1 to 64 bytes; `/`-separated components,
    /// each 1 to 14 bytes of ASCII letters, digits, `.`, `_`, `-` and `+`,
    /// not starting with `-` and not `.` or `..`.
    TimeZoneName,
    |s| {
        let component_ok = |c: &str| {
            (1..=MAX_ZONE_COMPONENT_LEN).contains(&c.len())
                && c.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-+".contains(&b))
                && !c.starts_with('-')
                && c != "."
                && c != ".."
        };
        if s.len() <= MAX_ZONE_NAME_LEN && s.split('/').all(component_ok) {
            Ok(())
        } else {
            Err(IdentError::TimeZone(s.to_owned()))
        }
    }
);

/// One right: `[a-z0-9_-]+` or the wildcard `*`.
fn check_right(s: &str) -> Result<(), IdentError> {
    let ok = s == "*"
        || (!s.is_empty()
            && s.len() <= MAX_RIGHT_LEN
            && s.bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_' || c == b'-'));
    if ok {
        Ok(())
    } else {
        Err(IdentError::Right(s.to_owned()))
    }
}

string_newtype!(
    /// One right, e.g. `read`, `export`, or the wildcard `*` (every right).
    Right,
    check_right
);

impl Right {
    /// Whether this is the wildcard `*`.
    pub fn is_wildcard(&self) -> bool {
        self.0 == "*"
    }
}

/// A non-empty set of rights in canonical form: sorted, no duplicates, and
/// `*` stands alone (a set containing `*` is exactly `["*"]`).
///
/// Wire form: a bincode `Vec<String>` already in canonical order; decoding
/// refuses any other order, duplicates, or `*` beside another right.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "Vec<Right>", into = "Vec<Right>")]
pub struct Rights(Vec<Right>);

impl Rights {
    /// Normalises `rights` into canonical form. Fails on an empty or oversized set.
    pub fn new(rights: impl IntoIterator<Item = Right>) -> Result<Self, IdentError> {
        let mut v: Vec<Right> = rights.into_iter().collect();
        if v.is_empty() {
            return Err(IdentError::Rights(
                "a rights set must name at least one right",
            ));
        }
        if v.iter().any(Right::is_wildcard) {
            return Ok(Rights(vec![Right("*".into())]));
        }
        v.sort();
        v.dedup();
        if v.len() > MAX_RIGHTS {
            return Err(IdentError::Rights(
                "too many rights in one set (at most 32)",
            ));
        }
        Ok(Rights(v))
    }

    /// Parses a comma-separated list such as `read,export`.
    pub fn parse_list(s: &str) -> Result<Self, IdentError> {
        let items: Result<Vec<Right>, _> = s
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(Right::new)
            .collect();
        Self::new(items?)
    }

    /// The wildcard set `["*"]`.
    pub fn all() -> Self {
        Rights(vec![Right("*".into())])
    }

    /// Whether the set is the wildcard.
    pub fn is_all(&self) -> bool {
        self.0.len() == 1 && self.0[0].is_wildcard()
    }

    /// Whether the set grants `right` (it names it, or is the wildcard).
    pub fn contains(&self, right: &Right) -> bool {
        self.is_all() || self.0.binary_search(right).is_ok()
    }

    /// Whether the two sets have a right in common.
    pub fn overlaps(&self, other: &Rights) -> bool {
        self.is_all() || other.is_all() || self.0.iter().any(|r| other.0.binary_search(r).is_ok())
    }

    /// The rights, in canonical order.
    pub fn iter(&self) -> impl Iterator<Item = &Right> {
        self.0.iter()
    }
}

impl TryFrom<Vec<Right>> for Rights {
    type Error = IdentError;
    fn try_from(v: Vec<Right>) -> Result<Self, IdentError> {
        Rights::new(v)
    }
}

impl From<Rights> for Vec<Right> {
    fn from(r: Rights) -> Vec<Right> {
        r.0
    }
}

impl fmt::Display for Rights {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(r.as_str())?;
        }
        Ok(())
    }
}

impl Encode for Rights {
    fn encode<E: Encoder>(&self, e: &mut E) -> Result<(), EncodeError> {
        self.0.encode(e)
    }
}

impl<C> Decode<C> for Rights {
    /// The count first (1 to [`MAX_RIGHTS`], refused before any right is
    /// read), then each right; then the order. docs/FORMAT.md §3 says so.
    fn decode<D: Decoder<Context = C>>(d: &mut D) -> Result<Self, DecodeError> {
        let count = u64::decode(d)?;
        if count == 0 || count > MAX_RIGHTS as u64 {
            return Err(DecodeError::OtherString(format!(
                "invalid rights: a rights set holds 1 to {MAX_RIGHTS} rights, not {count}"
            )));
        }
        let v = (0..count)
            .map(|_| Right::decode(d))
            .collect::<Result<Vec<Right>, _>>()?;
        let canon = Rights::new(v.clone()).map_err(|e| DecodeError::OtherString(e.to_string()))?;
        if canon.0 != v {
            return Err(DecodeError::OtherString(
                "rights are not in canonical order (sorted, unique, * alone)".into(),
            ));
        }
        Ok(canon)
    }
}

impl<'de, C> BorrowDecode<'de, C> for Rights {
    fn borrow_decode<D: BorrowDecoder<'de, Context = C>>(d: &mut D) -> Result<Self, DecodeError> {
        <Self as Decode<C>>::decode(d)
    }
}

/// Free text (a basis or a reason): at most [`MAX_TEXT_LEN`] bytes, no control
/// characters but newline and tab.
///
/// New text ([`Text::new`]: the command line, import files, the library's
/// callers) is held to more: no character of [`INVISIBLE`], which can reorder
/// or hide text on a screen ("Trojan Source"). A stored entry is only held to
/// the wire rule, so an entry an earlier version accepted keeps verifying.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Text(String);

/// The characters new text may not hold: Unicode's format characters
/// (general category Cf, as of Unicode 15.1: bidirectional embeddings,
/// overrides, isolates and marks, zero-width characters, invisible operators,
/// tags) and the line and paragraph separators U+2028 and U+2029.
///
/// Written out rather than taken from a Unicode crate: docs/FORMAT.md lists
/// exactly these ranges, and the rule must not move when a dependency
/// updates its Unicode tables.
pub const INVISIBLE: &[(char, char)] = &[
    ('\u{00AD}', '\u{00AD}'),
    ('\u{0600}', '\u{0605}'),
    ('\u{061C}', '\u{061C}'),
    ('\u{06DD}', '\u{06DD}'),
    ('\u{070F}', '\u{070F}'),
    ('\u{0890}', '\u{0891}'),
    ('\u{08E2}', '\u{08E2}'),
    ('\u{180E}', '\u{180E}'),
    ('\u{200B}', '\u{200F}'),
    ('\u{2028}', '\u{202E}'),
    ('\u{2060}', '\u{2064}'),
    ('\u{2066}', '\u{206F}'),
    ('\u{FEFF}', '\u{FEFF}'),
    ('\u{FFF9}', '\u{FFFB}'),
    ('\u{110BD}', '\u{110BD}'),
    ('\u{110CD}', '\u{110CD}'),
    ('\u{13430}', '\u{1343F}'),
    ('\u{1BCA0}', '\u{1BCA3}'),
    ('\u{1D173}', '\u{1D17A}'),
    ('\u{E0001}', '\u{E0001}'),
    ('\u{E0020}', '\u{E007F}'),
];

/// Whether `c` is in [`INVISIBLE`].
pub fn is_invisible(c: char) -> bool {
    INVISIBLE.iter().any(|&(lo, hi)| (lo..=hi).contains(&c))
}

impl Text {
    /// Checks new text `s` and wraps it; `field` names it in the error.
    pub fn new(field: &'static str, s: impl Into<String>) -> Result<Self, IdentError> {
        let s = s.into();
        Self::check_wire(field, &s)?;
        if let Some(c) = s.chars().find(|&c| is_invisible(c)) {
            return Err(IdentError::Invisible {
                field,
                code_point: u32::from(c),
            });
        }
        Ok(Text(s))
    }

    /// Text as a stored entry may hold it (the wire rule only).
    fn from_wire(s: String) -> Result<Self, IdentError> {
        Self::check_wire("text", &s)?;
        Ok(Text(s))
    }

    fn check_wire(field: &'static str, s: &str) -> Result<(), IdentError> {
        if s.len() > MAX_TEXT_LEN {
            return Err(IdentError::Text {
                field,
                why: "longer than 4096 bytes",
            });
        }
        if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
            return Err(IdentError::Text {
                field,
                why: "contains a control character",
            });
        }
        Ok(())
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Text {
    type Error = IdentError;
    fn try_from(s: String) -> Result<Self, IdentError> {
        Text::new("text", s)
    }
}

impl From<Text> for String {
    fn from(t: Text) -> String {
        t.0
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Encode for Text {
    fn encode<E: Encoder>(&self, e: &mut E) -> Result<(), EncodeError> {
        self.0.encode(e)
    }
}

impl<C> Decode<C> for Text {
    fn decode<D: Decoder<Context = C>>(d: &mut D) -> Result<Self, DecodeError> {
        let s = String::decode(d)?;
        Text::from_wire(s).map_err(|e| DecodeError::OtherString(e.to_string()))
    }
}

impl<'de, C> BorrowDecode<'de, C> for Text {
    fn borrow_decode<D: BorrowDecoder<'de, Context = C>>(d: &mut D) -> Result<Self, DecodeError> {
        <Self as Decode<C>>::decode(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::ops::Bound::{Excluded, Included};

    #[test]
    fn the_groups_of_a_sorted_set_of_subjects_are_one_range() {
        let names = [
            "agency:ice",
            "group",
            "group9:x",
            "group:a",
            "group:federal-partners",
            "group:z9",
            "group;x",
            "groupa:x",
            "groups:x",
            "user:u1",
            "zz:top",
        ];
        let set: BTreeSet<Subject> = names.iter().filter_map(|n| Subject::new(*n).ok()).collect();
        assert_eq!(set.len(), 9, "the names that are subjects");
        let in_range: Vec<&Subject> = set
            .range::<str, _>((
                Included(Subject::GROUP_PREFIX),
                Excluded(Subject::GROUPS_END),
            ))
            .collect();
        let groups: Vec<&Subject> = set.iter().filter(|s| s.is_group()).collect();
        assert_eq!(in_range, groups);
        assert_eq!(groups.len(), 3);
    }

    #[test]
    fn subjects() {
        assert!(Subject::new("agency:ice").is_ok());
        assert!(Subject::new("group:federal-partners").unwrap().is_group());
        for bad in [
            "ice",
            "Agency:ice",
            "agency:",
            ":ice",
            "agency:i ce",
            "a:b:c",
            "",
        ] {
            assert!(Subject::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn resources_cover_descendants_only() {
        let r = |s: &str| Resource::new(s).unwrap();
        assert!(r("cpd").covers(&r("cpd/clear/arrests")));
        assert!(r("cpd/clear").covers(&r("cpd/clear")));
        assert!(!r("cpd/clear").covers(&r("cpd/clearance")));
        assert!(!r("cpd/clear/arrests").covers(&r("cpd/clear")));
        assert!(r("cpd/clear/arrests").overlaps(&r("cpd")));
        for bad in ["", "/cpd", "cpd/", "cpd//x", "CPD", "cpd/a b"] {
            assert!(Resource::new(bad).is_err(), "{bad}");
        }
        let anc: Vec<String> = r("a/b/c").self_and_ancestors().map(|x| x.0).collect();
        assert_eq!(anc, ["a/b/c", "a/b", "a"]);
    }

    #[test]
    fn time_zone_names_are_syntax_only() {
        for good in [
            "UTC",
            "America/Chicago",
            "Etc/GMT+5",
            "America/Argentina/ComodRivadavia",
            "Mars/Base",
            "EST5EDT",
        ] {
            assert!(TimeZoneName::new(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "/UTC",
            "UTC/",
            "America//Chicago",
            "../etc/passwd",
            "America/./x",
            "-x",
            "a b",
            "Europe/\u{e9}",
            "ABCDEFGHIJKLMNO",
            "UTC\n",
        ] {
            assert!(TimeZoneName::new(bad).is_err(), "{bad}");
        }
        assert!(TimeZoneName::new("A/".repeat(32) + "B").is_err());
    }

    /// Every name of the database this build bundles is a valid name, so the
    /// syntax refuses no real zone.
    #[test]
    fn every_bundled_zone_name_is_valid() {
        let db = jiff::tz::TimeZoneDatabase::bundled();
        let mut n = 0;
        for name in db.available() {
            assert!(
                TimeZoneName::new(name.as_str()).is_ok(),
                "{}",
                name.as_str()
            );
            n += 1;
        }
        assert!(n > 300, "the bundled database holds {n} names");
    }

    #[test]
    fn new_text_refuses_invisible_characters_stored_text_keeps_them() {
        assert!(Text::new("basis", "line one\nline two\tok").is_ok());
        for c in [
            '\u{202E}',
            '\u{2066}',
            '\u{200B}',
            '\u{FEFF}',
            '\u{2028}',
            '\u{E0041}',
            '\u{AD}',
        ] {
            let s = format!("a{c}b");
            assert!(
                matches!(Text::new("basis", s.clone()), Err(IdentError::Invisible { code_point, .. }) if code_point == u32::from(c)),
                "{c:?}"
            );
            // Decoding a stored entry holds text only to the wire rule.
            let wire = crate::encoding::encode(&s);
            assert_eq!(crate::encoding::decode::<Text>(&wire).unwrap().as_str(), s);
        }
        for c in ['\u{7F}', '\u{85}', '\u{1B}', '\r'] {
            let wire = crate::encoding::encode(&format!("a{c}b"));
            assert!(crate::encoding::decode::<Text>(&wire).is_err(), "{c:?}");
        }
    }

    #[test]
    fn rights_are_canonical() {
        let r = Rights::parse_list("read, export,read").unwrap();
        assert_eq!(r.to_string(), "export,read");
        assert!(Rights::parse_list("read,*").unwrap().is_all());
        assert!(Rights::parse_list("").is_err());
        assert!(Rights::parse_list("Read").is_err());
        assert!(r.contains(&Right::new("read").unwrap()));
        assert!(!r.contains(&Right::new("write").unwrap()));
    }
}
