//! The illustrative Chicago 2019 ledger (fixtures/chicago-2019), built into a
//! directory by `access-ledger demo` and by the tests.
//!
//! The fixture files are compiled in, so the demo works from any directory.
//! Its keys are TEST-ONLY keys from fixed, public seeds.

use std::path::Path;

use serde::Deserialize;

use crate::event::{Event, Roles};
use crate::ident::{AuthorityName, Origin};
use crate::json::event_from_json;
use crate::keys::SecretKey;
use crate::ledger::{Ledger, LedgerError, NewEntry};
use crate::time::{Timestamp, Zone};

/// fixtures/chicago-2019/authorities.json.
pub const AUTHORITIES_JSON: &str = include_str!("../fixtures/chicago-2019/authorities.json");
/// fixtures/chicago-2019/events.jsonl.
pub const EVENTS_JSONL: &str = include_str!("../fixtures/chicago-2019/events.jsonl");
/// fixtures/chicago-2019/access-log.csv: an ILLUSTRATIVE access log to audit.
pub const ACCESS_LOG_CSV: &str = include_str!("../fixtures/chicago-2019/access-log.csv");
/// fixtures/chicago-2019/mapping.toml: the ILLUSTRATIVE mapping of that log.
pub const MAPPING_TOML: &str = include_str!("../fixtures/chicago-2019/mapping.toml");

#[derive(Deserialize)]
struct Authorities {
    origin: String,
    time_zone: String,
    created_at: String,
    authorities: Vec<AuthorityFixture>,
}

#[derive(Deserialize)]
struct AuthorityFixture {
    name: String,
    seed: String,
    roles: Vec<String>,
}

/// A TEST-ONLY key of the fixture and the roles it holds in the demo ledger
/// (`None` for a key that is no authority of the ledger, such as the council witness).
pub struct FixtureKey {
    /// The key.
    pub key: SecretKey,
    /// Its roles in the ledger.
    pub roles: Option<Roles>,
}

/// The fixture's origin, time zone, genesis time and TEST-ONLY keys.
pub struct Fixture {
    /// The ledger's origin.
    pub origin: Origin,
    /// Its time zone.
    pub zone: Zone,
    /// The back-dated genesis time.
    pub created_at: Timestamp,
    /// The keys: first the genesis admin, then the others in file order.
    pub keys: Vec<FixtureKey>,
}

impl Fixture {
    /// Parses the compiled-in fixture.
    pub fn load() -> Fixture {
        // The fixture is compiled in and checked by the tests; failing to
        // parse it is a build defect, not a runtime condition.
        let a: Authorities =
            serde_json::from_str(AUTHORITIES_JSON).expect("fixture authorities.json parses");
        let zone = Zone::new(&a.time_zone).expect("fixture time zone exists");
        let keys = a
            .authorities
            .iter()
            .map(|f| {
                let seed: [u8; 32] = hex::decode(&f.seed)
                    .ok()
                    .and_then(|v| v.try_into().ok())
                    .expect("fixture seeds are 32 bytes of hex");
                let name = AuthorityName::new(f.name.as_str()).expect("fixture names are valid");
                let roles = (!f.roles.is_empty()).then(|| {
                    Roles::parse_list(&f.roles.join(",")).expect("fixture roles are valid")
                });
                FixtureKey {
                    key: SecretKey::from_seed(name, &seed),
                    roles,
                }
            })
            .collect();
        Fixture {
            origin: Origin::new(a.origin).expect("fixture origin is valid"),
            created_at: Timestamp::parse(&a.created_at, &zone).expect("fixture created_at parses"),
            zone,
            keys,
        }
    }

    /// The key named `name`.
    pub fn key(&self, name: &str) -> &SecretKey {
        &self
            .keys
            .iter()
            .find(|k| k.key.name().as_str() == name)
            .expect("the fixture has that key")
            .key
    }

    /// Builds the ledger in `dir` (a new or empty directory): genesis by the
    /// admin, the other authorities, then every event of events.jsonl signed
    /// by the records clerk.
    pub fn build(&self, dir: &Path) -> Result<Ledger, LedgerError> {
        let admin = &self.keys[0].key;
        let mut ledger = Ledger::init(
            dir,
            self.origin.clone(),
            &self.zone,
            admin,
            Some(self.created_at),
        )?;
        let adds = self.keys[1..]
            .iter()
            .filter_map(|k| {
                k.roles.map(|roles| NewEntry {
                    event: Event::AuthorityAdd {
                        name: k.key.name().clone(),
                        key: k.key.public(),
                        roles,
                    },
                    recorded_at: Some(self.created_at),
                })
            })
            .collect();
        ledger.append(admin, adds)?;
        let events = EVENTS_JSONL
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).expect("fixture lines are JSON");
                let (event, recorded_at) = event_from_json(&v, &self.zone)
                    .expect("fixture lines are valid events")
                    .expect("the fixture has no genesis line");
                NewEntry { event, recorded_at }
            })
            .collect();
        ledger.append(self.key("test-only-cpd-records-clerk"), events)?;
        Ok(ledger)
    }
}
