//! The event bodies: what an entry of the ledger says.
//!
//! An [`Event`] is only the body; [`crate::Entry`] adds the sequence number,
//! the link to the previous entry, the recording time, the signer and the
//! signature. Wire forms are written in docs/FORMAT.md and in each doc comment.

use std::fmt;

use bincode::de::{BorrowDecoder, Decoder};
use bincode::enc::Encoder;
use bincode::error::{DecodeError, EncodeError};
use bincode::{BorrowDecode, Decode, Encode};
use serde::{Deserialize, Serialize};

use crate::ident::{AuthorityName, Origin, Resource, Rights, Subject, Text, TimeZoneName};
use crate::keys::PublicKey;
use crate::time::Timestamp;

/// What an authority may sign. Wire form: one byte, a bit set of
/// `0x01` admin, `0x02` writer, `0x04` checkpoint; never zero, no other bits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Roles(u8);

impl Roles {
    /// May add and retire authorities (and write events).
    pub const ADMIN: Roles = Roles(0x01);
    /// May write grants, revocations, memberships and sharing agreements.
    pub const WRITER: Roles = Roles(0x02);
    /// May sign checkpoints of the log.
    pub const CHECKPOINT: Roles = Roles(0x04);
    /// Every role (the genesis authority holds these).
    pub const ALL: Roles = Roles(0x07);

    /// Parses a comma-separated list: `admin,writer,checkpoint`.
    pub fn parse_list(s: &str) -> Result<Roles, String> {
        let mut bits = 0u8;
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            bits |= match part {
                "admin" => 0x01,
                "writer" => 0x02,
                "checkpoint" => 0x04,
                other => {
                    return Err(format!(
                        "invalid role {other:?}: expected admin, writer or checkpoint"
                    ))
                }
            };
        }
        if bits == 0 {
            return Err("an authority needs at least one role (admin, writer, checkpoint)".into());
        }
        Ok(Roles(bits))
    }

    /// Whether every role of `other` is in `self`.
    pub fn contains(self, other: Roles) -> bool {
        self.0 & other.0 == other.0
    }

    /// The role names, in fixed order.
    pub fn names(self) -> Vec<&'static str> {
        [(0x01, "admin"), (0x02, "writer"), (0x04, "checkpoint")]
            .into_iter()
            .filter(|(b, _)| self.0 & b != 0)
            .map(|(_, n)| n)
            .collect()
    }

    /// The wire byte.
    pub fn bits(self) -> u8 {
        self.0
    }
}

impl fmt::Debug for Roles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Roles({})", self.names().join(","))
    }
}

impl fmt::Display for Roles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.names().join(","))
    }
}

impl Serialize for Roles {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.names().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Roles {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v: Vec<String> = Vec::deserialize(d)?;
        Roles::parse_list(&v.join(",")).map_err(serde::de::Error::custom)
    }
}

impl Encode for Roles {
    fn encode<E: Encoder>(&self, e: &mut E) -> Result<(), EncodeError> {
        self.0.encode(e)
    }
}

impl<C> Decode<C> for Roles {
    fn decode<D: Decoder<Context = C>>(d: &mut D) -> Result<Self, DecodeError> {
        let b = u8::decode(d)?;
        if b == 0 || b & !0x07 != 0 {
            return Err(DecodeError::OtherString(format!(
                "invalid roles byte {b:#04x}"
            )));
        }
        Ok(Roles(b))
    }
}

impl<'de, C> BorrowDecode<'de, C> for Roles {
    fn borrow_decode<D: BorrowDecoder<'de, Context = C>>(d: &mut D) -> Result<Self, DecodeError> {
        <Self as Decode<C>>::decode(d)
    }
}

/// The body of a ledger entry. Wire form: a 4-byte little-endian variant
/// index (in declaration order, `Genesis` = 0), then the fields in order.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub enum Event {
    /// Seq 0 only: names the log, its time zone, and its first authority
    /// (which holds every role and signs this entry itself).
    Genesis {
        /// The log's origin (first line of its checkpoints).
        origin: Origin,
        /// IANA time zone for plain dates, e.g. `America/Chicago` (syntax
        /// only: validity never depends on a tz database).
        time_zone: TimeZoneName,
        /// The first authority's name.
        authority: AuthorityName,
        /// The first authority's key.
        key: PublicKey,
    },
    /// A new authority (signed by an active admin).
    AuthorityAdd {
        /// Its name, unique in the log forever.
        name: AuthorityName,
        /// Its key, unique in the log forever.
        key: PublicKey,
        /// What it may sign.
        roles: Roles,
    },
    /// An authority stops being able to sign (signed by an active admin; never the last admin).
    AuthorityRetire {
        /// Which authority.
        name: AuthorityName,
    },
    /// `subject` may exercise `rights` on `resource` and its descendants from
    /// `effective_at` until `until` (exclusive), if set.
    Grant {
        /// Who.
        subject: Subject,
        /// What.
        resource: Resource,
        /// Which rights.
        rights: Rights,
        /// Why (the legal or contractual basis).
        basis: Text,
        /// From when.
        effective_at: Timestamp,
        /// Until when (exclusive); `None` = open-ended.
        until: Option<Timestamp>,
    },
    /// Withdraws `rights` (all if `None`) on `resource` from `subject` from
    /// `effective_at`. A permanent revocation is a ban: see docs/SEMANTICS.md.
    Revoke {
        /// Who.
        subject: Subject,
        /// What.
        resource: Resource,
        /// Which rights; `None` = all.
        rights: Option<Rights>,
        /// Why.
        reason: Text,
        /// From when.
        effective_at: Timestamp,
        /// A ban: no later entry may grant it back, by any route.
        permanent: bool,
    },
    /// `member` joins `group` from `effective_at`.
    Join {
        /// Any subject, including another group.
        member: Subject,
        /// A `group:*` subject.
        group: Subject,
        /// From when.
        effective_at: Timestamp,
    },
    /// `member` leaves `group` from `effective_at`.
    Leave {
        /// Any subject.
        member: Subject,
        /// A `group:*` subject.
        group: Subject,
        /// From when.
        effective_at: Timestamp,
    },
    /// An onward-disclosure agreement: `from` may pass data of `resource` to `to`.
    Share {
        /// Who may pass data on.
        from: Subject,
        /// Who may receive it.
        to: Subject,
        /// Which data.
        resource: Resource,
        /// Which rights the recipient may exercise on it.
        rights: Rights,
        /// The agreement's basis.
        basis: Text,
        /// From when.
        effective_at: Timestamp,
        /// Until when (exclusive); `None` = open-ended.
        until: Option<Timestamp>,
    },
    /// Ends a sharing agreement (or part of it: `rights`, all if `None`).
    Unshare {
        /// Who may no longer pass data on.
        from: Subject,
        /// To whom.
        to: Subject,
        /// Which data.
        resource: Resource,
        /// Which rights; `None` = all.
        rights: Option<Rights>,
        /// Why.
        basis: Text,
        /// From when.
        effective_at: Timestamp,
    },
}

impl Event {
    /// The `type` name used in JSON and in listings.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Genesis { .. } => "genesis",
            Event::AuthorityAdd { .. } => "authority_add",
            Event::AuthorityRetire { .. } => "authority_retire",
            Event::Grant { .. } => "grant",
            Event::Revoke { .. } => "revoke",
            Event::Join { .. } => "join",
            Event::Leave { .. } => "leave",
            Event::Share { .. } => "share",
            Event::Unshare { .. } => "unshare",
        }
    }

    /// When the event takes effect in the world (valid time), for the kinds
    /// that have one.
    pub fn effective_at(&self) -> Option<Timestamp> {
        match self {
            Event::Grant { effective_at, .. }
            | Event::Revoke { effective_at, .. }
            | Event::Join { effective_at, .. }
            | Event::Leave { effective_at, .. }
            | Event::Share { effective_at, .. }
            | Event::Unshare { effective_at, .. } => Some(*effective_at),
            _ => None,
        }
    }

    /// Whether this is an access event (signed by an admin or writer), as
    /// opposed to genesis or authority management.
    pub fn is_access_event(&self) -> bool {
        self.effective_at().is_some()
    }

    /// The subjects the event is about (for history listings and indexes).
    pub fn subjects(&self) -> Vec<&Subject> {
        match self {
            Event::Grant { subject, .. } | Event::Revoke { subject, .. } => vec![subject],
            Event::Join { member, group, .. } | Event::Leave { member, group, .. } => {
                vec![member, group]
            }
            Event::Share { from, to, .. } | Event::Unshare { from, to, .. } => vec![from, to],
            _ => vec![],
        }
    }

    /// The resource the event is about, if any.
    pub fn resource(&self) -> Option<&Resource> {
        match self {
            Event::Grant { resource, .. }
            | Event::Revoke { resource, .. }
            | Event::Share { resource, .. }
            | Event::Unshare { resource, .. } => Some(resource),
            _ => None,
        }
    }

    /// One line for people: `grant agency:fbi read on cpd/clear`.
    pub fn summary(&self) -> String {
        match self {
            Event::Genesis {
                origin, authority, ..
            } => {
                format!("genesis of {origin}, first authority {authority}")
            }
            Event::AuthorityAdd { name, roles, .. } => format!("add authority {name} ({roles})"),
            Event::AuthorityRetire { name } => format!("retire authority {name}"),
            Event::Grant {
                subject,
                resource,
                rights,
                until,
                ..
            } => {
                let until = until.map(|u| format!(" until {u}")).unwrap_or_default();
                format!("grant {subject} {rights} on {resource}{until}")
            }
            Event::Revoke {
                subject,
                resource,
                rights,
                permanent,
                ..
            } => {
                let what = rights
                    .as_ref()
                    .map(|r| r.to_string())
                    .unwrap_or_else(|| "all rights".into());
                let p = if *permanent {
                    "PERMANENTLY revoke"
                } else {
                    "revoke"
                };
                format!("{p} {what} of {subject} on {resource}")
            }
            Event::Join { member, group, .. } => format!("{member} joins {group}"),
            Event::Leave { member, group, .. } => format!("{member} leaves {group}"),
            Event::Share {
                from,
                to,
                resource,
                rights,
                until,
                ..
            } => {
                let until = until.map(|u| format!(" until {u}")).unwrap_or_default();
                format!("{from} may share {resource} ({rights}) with {to}{until}")
            }
            Event::Unshare {
                from, to, resource, ..
            } => {
                format!("{from} may no longer share {resource} with {to}")
            }
        }
    }
}
