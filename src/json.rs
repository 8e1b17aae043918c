//! The JSON form of events and entries: import lines and `log --json`.
//!
//! One JSON object per event: `type` (`grant`, `revoke`, ...), the event's
//! fields by name, times as RFC 3339 strings (or, on input, plain dates in
//! the ledger's time zone), rights as arrays of strings. `log --json` adds
//! `seq`, `recorded_at`, `prev_hash`, `hash`, `signer`, `signer_key` and
//! `signature`, and the raw-entry line ([`entry_line`]) adds `bytes`; import
//! accepts and ignores those (the importer signs anew), so
//! one ledger's log can be imported into another. Unknown fields are refused.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::{json, Map, Value};

use crate::entry::Entry;
use crate::event::{Event, Roles};
use crate::ident::{AuthorityName, Rights, Text};
use crate::keys::PublicKey;
use crate::note::VerifierKey;
use crate::time::{Timestamp, Zone};

/// Fields `log --json` adds that import ignores.
const ENTRY_FIELDS: [&str; 7] = [
    "seq",
    "prev_hash",
    "hash",
    "signer",
    "signer_key",
    "signature",
    "bytes",
];

/// Why a JSON event was refused: names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct JsonError(pub String);

fn rights_json(r: &Rights) -> Value {
    Value::Array(r.iter().map(|x| Value::String(x.to_string())).collect())
}

/// The JSON object of an event (without entry fields).
pub fn event_to_json(e: &Event) -> Map<String, Value> {
    let v = match e {
        Event::Genesis {
            origin,
            time_zone,
            authority,
            key,
        } => json!({
            "type": "genesis", "origin": origin.as_str(), "time_zone": time_zone.as_str(),
            "authority": authority.as_str(), "key": key.to_base64(),
        }),
        Event::AuthorityAdd { name, key, roles } => json!({
            "type": "authority_add", "name": name.as_str(), "key": key.to_base64(), "roles": roles.names(),
        }),
        Event::AuthorityRetire { name } => {
            json!({"type": "authority_retire", "name": name.as_str()})
        }
        Event::Grant {
            subject,
            resource,
            rights,
            basis,
            effective_at,
            until,
        } => json!({
            "type": "grant", "subject": subject.as_str(), "resource": resource.as_str(),
            "rights": rights_json(rights), "basis": basis.as_str(),
            "effective_at": effective_at.rfc3339(), "until": until.map(Timestamp::rfc3339),
        }),
        Event::Revoke {
            subject,
            resource,
            rights,
            reason,
            effective_at,
            permanent,
        } => json!({
            "type": "revoke", "subject": subject.as_str(), "resource": resource.as_str(),
            "rights": rights.as_ref().map(rights_json), "reason": reason.as_str(),
            "effective_at": effective_at.rfc3339(), "permanent": permanent,
        }),
        Event::Join {
            member,
            group,
            effective_at,
        } => json!({
            "type": "join", "member": member.as_str(), "group": group.as_str(),
            "effective_at": effective_at.rfc3339(),
        }),
        Event::Leave {
            member,
            group,
            effective_at,
        } => json!({
            "type": "leave", "member": member.as_str(), "group": group.as_str(),
            "effective_at": effective_at.rfc3339(),
        }),
        Event::Share {
            from,
            to,
            resource,
            rights,
            basis,
            effective_at,
            until,
        } => json!({
            "type": "share", "from": from.as_str(), "to": to.as_str(), "resource": resource.as_str(),
            "rights": rights_json(rights), "basis": basis.as_str(),
            "effective_at": effective_at.rfc3339(), "until": until.map(Timestamp::rfc3339),
        }),
        Event::Unshare {
            from,
            to,
            resource,
            rights,
            basis,
            effective_at,
        } => json!({
            "type": "unshare", "from": from.as_str(), "to": to.as_str(), "resource": resource.as_str(),
            "rights": rights.as_ref().map(rights_json), "basis": basis.as_str(),
            "effective_at": effective_at.rfc3339(),
        }),
    };
    let Value::Object(mut m) = v else {
        unreachable!("json! of an object literal")
    };
    m.retain(|_, v| !v.is_null());
    m
}

/// The JSON object of a stored entry: `seq`, the event, and the entry fields.
/// `signer` is the authority's name where known.
pub fn entry_to_json(e: &Entry, signer_name: Option<&AuthorityName>) -> Value {
    let mut m = Map::new();
    m.insert("seq".into(), json!(e.seq()));
    m.extend(event_to_json(e.body()));
    m.insert("recorded_at".into(), json!(e.recorded_at().rfc3339()));
    m.insert("prev_hash".into(), json!(e.prev_hash().to_hex()));
    m.insert("hash".into(), json!(e.hash().to_hex()));
    m.insert("signer".into(), json!(signer_name.map(|n| n.as_str())));
    m.insert("signer_key".into(), json!(e.signer().to_base64()));
    m.insert("signature".into(), json!(B64.encode(e.signature())));
    Value::Object(m)
}

/// The raw-entry JSON line (docs/FORMAT.md §7), without its newline: the
/// object of [`entry_to_json`] plus `bytes`, standard base64 of the exact
/// signed bytes. Compact, members in a fixed order, and every character of
/// [`crate::INVISIBLE`] written as a `\uXXXX` escape, so the line shows on a
/// terminal as what it holds. `log --json` prints it; the export reuses it.
pub fn entry_line(e: &Entry, signer_name: Option<&AuthorityName>) -> String {
    let mut v = entry_to_json(e, signer_name);
    if let Value::Object(m) = &mut v {
        m.insert("bytes".into(), json!(B64.encode(e.bytes())));
    }
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, VisibleFormatter);
    serde::Serialize::serialize(&v, &mut ser).expect("a JSON value serialises to memory");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// serde_json's compact output, with invisible characters escaped.
struct VisibleFormatter;

impl serde_json::ser::Formatter for VisibleFormatter {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if crate::ident::is_invisible(c) {
                w.write_all(&fragment.as_bytes()[start..i])?;
                for unit in c.encode_utf16(&mut [0; 2]) {
                    write!(w, "\\u{unit:04x}")?;
                }
                start = i + c.len_utf8();
            }
        }
        w.write_all(&fragment.as_bytes()[start..])
    }
}

/// An event read from JSON, with its optional historical `recorded_at`.
/// `None` for a `genesis` object (which import skips: a ledger has one).
pub fn event_from_json(
    v: &Value,
    zone: &Zone,
) -> Result<Option<(Event, Option<Timestamp>)>, JsonError> {
    let obj = v
        .as_object()
        .ok_or_else(|| JsonError("expected a JSON object".into()))?;
    let mut f = Fields {
        obj,
        zone,
        used: Vec::new(),
    };
    let kind = f.str("type")?;
    let recorded_at = f.time("recorded_at")?;
    // An omitted `effective_at` means "when recorded".
    let now = recorded_at.unwrap_or_else(Timestamp::now);
    let event = match kind.as_str() {
        "genesis" => return Ok(None),
        "authority_add" => {
            let name: AuthorityName = f.ident("name")?;
            let key_text = f.str("key")?;
            let key = parse_public_key(&key_text, &name).map_err(|m| JsonError(format!("field `key`: {m}")))?;
            let roles = f.list("roles")?.join(",");
            let roles = Roles::parse_list(&roles).map_err(|m| JsonError(format!("field `roles`: {m}")))?;
            Event::AuthorityAdd { name, key, roles }
        }
        "authority_retire" => Event::AuthorityRetire { name: f.ident("name")? },
        "grant" => Event::Grant {
            subject: f.ident("subject")?,
            resource: f.ident("resource")?,
            rights: f.rights("rights")?,
            basis: f.text("basis")?,
            effective_at: f.time("effective_at")?.unwrap_or(now),
            until: f.time("until")?,
        },
        "revoke" => Event::Revoke {
            subject: f.ident("subject")?,
            resource: f.ident("resource")?,
            rights: f.opt_rights("rights")?,
            reason: f.text("reason")?,
            effective_at: f.time("effective_at")?.unwrap_or(now),
            permanent: f.bool("permanent")?,
        },
        "join" | "leave" => {
            let member = f.ident("member")?;
            let group = f.ident("group")?;
            let effective_at = f.time("effective_at")?.unwrap_or(now);
            if kind == "join" {
                Event::Join { member, group, effective_at }
            } else {
                Event::Leave { member, group, effective_at }
            }
        }
        "share" => Event::Share {
            from: f.ident("from")?,
            to: f.ident("to")?,
            resource: f.ident("resource")?,
            rights: f.rights("rights")?,
            basis: f.text("basis")?,
            effective_at: f.time("effective_at")?.unwrap_or(now),
            until: f.time("until")?,
        },
        "unshare" => Event::Unshare {
            from: f.ident("from")?,
            to: f.ident("to")?,
            resource: f.ident("resource")?,
            rights: f.opt_rights("rights")?,
            basis: f.text("basis")?,
            effective_at: f.time("effective_at")?.unwrap_or(now),
        },
        other => {
            return Err(JsonError(format!(
                "field `type`: unknown event type {other:?} (expected authority_add, authority_retire, grant, revoke, join, leave, share or unshare)"
            )))
        }
    };
    if let Some(extra) = obj
        .keys()
        .find(|k| !f.used.contains(&k.as_str()) && !ENTRY_FIELDS.contains(&k.as_str()))
    {
        return Err(JsonError(format!(
            "unknown field `{extra}` for a {kind} event"
        )));
    }
    Ok(Some((event, recorded_at)))
}

/// Parses one line of an import file as JSON, refusing an object that has
/// the same key twice: a person reading the file and the ledger would
/// otherwise disagree on what it says (serde_json keeps the last value).
pub fn json_line(line: &str) -> Result<Value, JsonError> {
    serde_json::from_str::<Unique>(line)
        .map(|u| u.0)
        .map_err(|e| JsonError(format!("not valid JSON: {e}")))
}

/// A JSON value whose objects have no duplicate keys.
struct Unique(Value);

impl<'de> serde::Deserialize<'de> for Unique {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(UniqueVisitor)
    }
}

struct UniqueVisitor;

impl<'de> serde::de::Visitor<'de> for UniqueVisitor {
    type Value = Unique;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Unique, E> {
        Ok(Unique(Value::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Unique, E> {
        Ok(Unique(json!(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Unique, E> {
        Ok(Unique(json!(v)))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Unique, E> {
        Ok(Unique(json!(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Unique, E> {
        Ok(Unique(Value::String(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Unique, E> {
        Ok(Unique(Value::String(v)))
    }
    fn visit_unit<E>(self) -> Result<Unique, E> {
        Ok(Unique(Value::Null))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Unique, A::Error> {
        let mut v = Vec::new();
        while let Some(Unique(x)) = seq.next_element()? {
            v.push(x);
        }
        Ok(Unique(Value::Array(v)))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Unique, A::Error> {
        let mut m = Map::new();
        while let Some(k) = map.next_key::<String>()? {
            if m.contains_key(&k) {
                return Err(serde::de::Error::custom(format!("duplicate field `{k}`")));
            }
            let Unique(v) = map.next_value()?;
            m.insert(k, v);
        }
        Ok(Unique(Value::Object(m)))
    }
}

/// Parses a public key given either in note verifier form (whose name must
/// be `name`) or as standard base64 of the 32 bytes.
pub fn parse_public_key(s: &str, name: &AuthorityName) -> Result<PublicKey, String> {
    let s = s.trim();
    // Base64 may contain `+` itself, so tell the forms apart by what decodes:
    // 32 raw bytes are a bare key; anything else must be a verifier key.
    if let Some(raw) = B64.decode(s).ok().filter(|r| r.len() == 32) {
        let b: [u8; 32] = raw
            .try_into()
            .map_err(|_| "a public key is 32 bytes".to_string())?;
        return PublicKey::from_bytes(b).map_err(|e| e.to_string());
    }
    let vk = VerifierKey::parse(s).map_err(|e| e.to_string())?;
    if vk.name() != name {
        return Err(format!("verifier key is for {}, not {name}", vk.name()));
    }
    Ok(*vk.key())
}

struct Fields<'a> {
    obj: &'a Map<String, Value>,
    zone: &'a Zone,
    used: Vec<&'static str>,
}

impl Fields<'_> {
    fn get(&mut self, name: &'static str) -> Option<&Value> {
        self.used.push(name);
        self.obj.get(name).filter(|v| !v.is_null())
    }

    fn str(&mut self, name: &'static str) -> Result<String, JsonError> {
        match self.get(name) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(JsonError(format!("field `{name}`: expected a string"))),
            None => Err(JsonError(format!("missing field `{name}`"))),
        }
    }

    fn ident<T: std::str::FromStr<Err = crate::ident::IdentError>>(
        &mut self,
        name: &'static str,
    ) -> Result<T, JsonError> {
        let s = self.str(name)?;
        s.parse()
            .map_err(|e| JsonError(format!("field `{name}`: {e}")))
    }

    fn text(&mut self, name: &'static str) -> Result<Text, JsonError> {
        let s = match self.get(name) {
            None => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(_) => return Err(JsonError(format!("field `{name}`: expected a string"))),
        };
        Text::new(name, s).map_err(|e| JsonError(format!("field `{name}`: {e}")))
    }

    fn list(&mut self, name: &'static str) -> Result<Vec<String>, JsonError> {
        match self.get(name) {
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| JsonError(format!("field `{name}`: expected an array of strings"))),
            Some(_) => Err(JsonError(format!(
                "field `{name}`: expected an array of strings"
            ))),
            None => Err(JsonError(format!("missing field `{name}`"))),
        }
    }

    fn rights(&mut self, name: &'static str) -> Result<Rights, JsonError> {
        let l = self.list(name)?;
        let rights: Result<Vec<_>, _> = l.into_iter().map(crate::ident::Right::new).collect();
        rights
            .and_then(Rights::new)
            .map_err(|e| JsonError(format!("field `{name}`: {e}")))
    }

    fn opt_rights(&mut self, name: &'static str) -> Result<Option<Rights>, JsonError> {
        if self.obj.get(name).is_none_or(Value::is_null) {
            self.used.push(name);
            return Ok(None);
        }
        self.rights(name).map(Some)
    }

    fn bool(&mut self, name: &'static str) -> Result<bool, JsonError> {
        match self.get(name) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(JsonError(format!("field `{name}`: expected true or false"))),
        }
    }

    fn time(&mut self, name: &'static str) -> Result<Option<Timestamp>, JsonError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => {
                let s = s.clone();
                Timestamp::parse(&s, self.zone)
                    .map(Some)
                    .map_err(|e| JsonError(format!("field `{name}`: {e}")))
            }
            Some(_) => Err(JsonError(format!("field `{name}`: expected a time string"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SecretKey, Subject};

    #[test]
    fn the_raw_entry_line_holds_the_bytes_and_shows_invisible_characters_escaped() {
        let key = SecretKey::from_seed(AuthorityName::new("a").unwrap(), &[1; 32]);
        // A stored entry may hold a bidi override (accepted before issue 12).
        let mut basis = crate::encoding::encode(&"memo \u{202e}gnp.exe".to_string());
        let basis: Text = crate::encoding::decode(&basis.split_off(0)).unwrap();
        let body = Event::Grant {
            subject: Subject::new("agency:fbi").unwrap(),
            resource: "cpd".parse().unwrap(),
            rights: Rights::parse_list("read").unwrap(),
            basis,
            effective_at: Timestamp::from_micros(0),
            until: None,
        };
        let e = Entry::sign(
            1,
            crate::EntryHash::ZERO,
            Timestamp::from_micros(1),
            body,
            &key,
            &crate::EntryHash::ZERO,
        );
        let line = entry_line(&e, Some(key.name()));
        assert!(!line.contains('\n') && !line.contains('\u{202e}'), "{line}");
        assert!(line.contains(r"memo \u202egnp.exe"), "{line}");
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["basis"], "memo \u{202e}gnp.exe");
        assert_eq!(B64.decode(v["bytes"].as_str().unwrap()).unwrap(), e.bytes());
        assert!(
            line.starts_with(r#"{"seq":1,"type":"grant","subject":"agency:fbi""#),
            "{line}"
        );
        assert!(
            line.ends_with(&format!(r#""bytes":"{}"}}"#, B64.encode(e.bytes()))),
            "{line}"
        );
    }
}
