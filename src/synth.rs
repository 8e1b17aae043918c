//! Synthetic ledgers for benchmarks and load tests (not part of the product).
//!
//! [`build`] writes a ledger of `events` entries whose content is a
//! deterministic function of [`SynthSpec`]: the same spec always gives the
//! same entries, byte for byte (keys come from the seed, times from a counter).
//! Every entry goes through [`LedgerState::admit`] and the ledger's derived
//! data (Merkle nodes, query indexes, state snapshot) is written with it in
//! batches of [`CHUNK`] entries, as an append would, so the result opens as
//! an ordinary ledger.
//!
//! The mix (illustrative, not from any real ledger; chosen to look like an
//! organisation's access lists rather than a random graph):
//! - `groups` groups in three tiers (5% top-level, 25% middle, 70% leaf
//!   groups); setup nests every middle group in one top-level group and every
//!   leaf group in one middle group; later, 2% of joins nest a group in a
//!   second parent of the tier above. So a subject's groups and their
//!   ancestors number about a dozen, as in real directories.
//! - agencies (a tenth of the rest) and users (the others) as individuals;
//! - a four-level resource tree (`db07/s03/t12/f4`, 100,420 resources);
//! - about 48% grants (10% to groups; 10% wildcard, 20% with an `until`, 30%
//!   back-dated up to a year, 10% scheduled up to 90 days ahead; mostly on
//!   tables and fields: 0.5% of group grants on a whole database, 2.5% on a
//!   schema, 27% on a table), 14% revokes
//!   of earlier grants (10% of them on the root), 0.3% bans, 9% joins, 2%
//!   leaves, 20% shares and 6.7% unshares, recorded from 2015-01-01 at 1 to
//!   300 seconds apart.
//!
//! Entries the chain rules refuse (a grant over a ban) are dropped and drawn again.

use std::path::Path;

use crate::chain::LedgerState;
use crate::entry::{Entry, EntryHash};
use crate::event::{Event, Roles};
use crate::ident::{AuthorityName, Origin, Resource, Right, Rights, Subject, Text};
use crate::keys::SecretKey;
use crate::ledger::{LedgerError, Writer};
use crate::store::Store;
use crate::time::Timestamp;

/// Entries per committed batch.
pub const CHUNK: u64 = 10_000;

/// Fan-out of the resource tree, level by level (20 x 20 x 25 x 9: 100,420 resources).
const FANOUT: [u64; 4] = [20, 20, 25, 9];

const RIGHTS: [&str; 4] = ["audit", "export", "read", "write"];

const DAY: i64 = 86_400_000_000;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthSpec {
    /// Entries in all (genesis included).
    pub events: u64,
    /// Subjects, groups included.
    pub subjects: u64,
    /// Of which groups.
    pub groups: u64,
    /// Seed of every random choice and of the keys.
    pub seed: u64,
}

impl SynthSpec {
    /// The benchmark mix with `events` entries: 10,000 subjects, 1,000 of them groups.
    pub fn with_events(events: u64) -> Self {
        SynthSpec {
            events,
            subjects: 10_000,
            groups: 1_000,
            seed: 20190710,
        }
    }

    /// Subject `i` (`0 <= i < subjects`): groups first, then agencies, then users.
    pub fn subject(&self, i: u64) -> Subject {
        let name = if i < self.groups {
            format!("group:g{i:04}")
        } else if i < self.groups + self.subjects / 10 {
            format!("agency:a{i:05}")
        } else {
            format!("user:u{i:05}")
        };
        // The names above are lowercase kind:name tokens.
        Subject::new(name).expect("synthetic subject names are valid")
    }

    /// Resource number `i` of tree level `level` (0 = roots, 3 = leaves).
    pub fn resource(&self, level: usize, i: u64) -> Resource {
        let mut parts = Vec::new();
        let mut rest = i;
        let mut idx = [0u64; 4];
        for l in (0..=level).rev() {
            idx[l] = rest % FANOUT[l];
            rest /= FANOUT[l];
        }
        let prefixes = ["db", "s", "t", "f"];
        for l in 0..=level {
            parts.push(format!("{}{:02}", prefixes[l], idx[l]));
        }
        // Lowercase alphanumeric segments, at most four deep.
        Resource::new(parts.join("/")).expect("synthetic resource names are valid")
    }

    /// How many resources level `level` has.
    pub fn level_size(level: usize) -> u64 {
        FANOUT[..=level].iter().product()
    }

    /// When the first entry is recorded: 2015-01-01T00:00:00Z.
    pub fn start() -> Timestamp {
        Timestamp::from_micros(1_420_070_400_000_000)
    }
}

/// What [`build`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthReport {
    /// Entries written.
    pub entries: u64,
    /// Candidate entries the chain rules refused (dropped).
    pub refused: u64,
    /// `recorded_at` of the last entry.
    pub last_recorded_at: Timestamp,
}

/// SplitMix64: small, fast, and the same everywhere (also drawn on by the
/// benchmarks, so their questions are as reproducible as their ledgers).
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

fn text(s: &str) -> Text {
    // Short fixed ASCII strings.
    Text::new("basis", s).expect("synthetic text is valid")
}

fn rights(rng: &mut Rng, wildcard_percent: u64) -> Rights {
    if rng.chance(wildcard_percent) {
        return Rights::all();
    }
    let mut v = Vec::new();
    let bits = 1 + rng.below(15);
    for (i, r) in RIGHTS.iter().enumerate() {
        if bits & (1 << i) != 0 {
            // Members of RIGHTS are valid rights.
            v.push(Right::new(*r).expect("synthetic rights are valid"));
        }
    }
    // `bits` is never zero, so the set is never empty.
    Rights::new(v).expect("a non-empty set of valid rights")
}

struct Gen {
    spec: SynthSpec,
    rng: Rng,
    now: i64,
    grants: Vec<(Subject, Resource, Rights)>,
    shares: Vec<(Subject, Subject, Resource)>,
    joins: Vec<(Subject, Subject)>,
}

impl Gen {
    fn individual(&mut self) -> Subject {
        let n = self.spec.subjects - self.spec.groups;
        self.spec.subject(self.spec.groups + self.rng.below(n))
    }

    fn group(&mut self) -> Subject {
        self.spec.subject(self.rng.below(self.spec.groups))
    }

    /// The first group index of each tier, and the end.
    fn tiers(&self) -> [u64; 4] {
        let g = self.spec.groups;
        [0, g / 20, g / 20 + g / 4, g]
    }

    /// A random group of tier `t`.
    fn group_in(&mut self, t: usize) -> Subject {
        let tiers = self.tiers();
        let (lo, hi) = (tiers[t], tiers[t + 1]);
        self.spec.subject(lo + self.rng.below(hi - lo))
    }

    /// A random resource level, from cumulative per-mille weights.
    fn level(&mut self, cumulative: [u64; 4]) -> usize {
        let x = self.rng.below(1000);
        cumulative.iter().position(|&c| x < c).unwrap_or(3)
    }

    fn resource_at(&mut self, min_level: usize, max_level: usize) -> Resource {
        let level = min_level + self.rng.below((max_level - min_level + 1) as u64) as usize;
        self.resource_of_level(level)
    }

    fn resource_of_level(&mut self, level: usize) -> Resource {
        let i = self.rng.below(SynthSpec::level_size(level));
        self.spec.resource(level, i)
    }

    fn effective(&mut self) -> Timestamp {
        let r = self.rng.below(100);
        let t = if r < 30 {
            self.now - self.rng.below(365) as i64 * DAY - self.rng.below(DAY as u64) as i64
        } else if r < 40 {
            self.now + 1 + self.rng.below(90) as i64 * DAY
        } else {
            self.now
        };
        Timestamp::from_micros(t)
    }

    fn until(&mut self, eff: Timestamp, percent: u64) -> Option<Timestamp> {
        self.rng.chance(percent).then(|| {
            Timestamp::from_micros(eff.as_micros() + (30 + self.rng.below(700) as i64) * DAY)
        })
    }

    fn remember<T>(list: &mut Vec<T>, rng: &mut Rng, item: T) {
        const KEEP: usize = 50_000;
        if list.len() < KEEP {
            list.push(item);
        } else {
            let i = rng.below(KEEP as u64) as usize;
            list[i] = item;
        }
    }

    /// One candidate access event.
    fn event(&mut self) -> Event {
        let roll = self.rng.below(1000);
        let effective_at = self.effective();
        if roll < 480 || (roll < 620 && self.grants.is_empty()) {
            let group = self.rng.chance(10);
            let (subject, level) = if group {
                (self.group(), self.level([5, 30, 300, 1000]))
            } else {
                (self.individual(), self.level([0, 50, 400, 1000]))
            };
            let resource = self.resource_of_level(level);
            let rights = rights(&mut self.rng, 10);
            let until = self.until(effective_at, 20);
            Self::remember(
                &mut self.grants,
                &mut self.rng,
                (subject.clone(), resource.clone(), rights.clone()),
            );
            Event::Grant {
                subject,
                resource,
                rights,
                basis: text("synthetic agreement"),
                effective_at,
                until,
            }
        } else if roll < 620 {
            let (subject, resource, granted) =
                self.grants[self.rng.below(self.grants.len() as u64) as usize].clone();
            let resource = if self.rng.chance(10) {
                resource.self_and_ancestors().last().unwrap_or(resource)
            } else {
                resource
            };
            let rights = if self.rng.chance(50) {
                None
            } else {
                let first = granted.iter().next().cloned();
                first.map(|r| Rights::new([r]).unwrap_or(granted))
            };
            Event::Revoke {
                subject,
                resource,
                rights,
                reason: text("synthetic review"),
                effective_at,
                permanent: false,
            }
        } else if roll < 623 {
            let subject = self.individual();
            let resource = self.resource_at(0, 1);
            Event::Revoke {
                subject,
                resource,
                rights: None,
                reason: text("synthetic ban"),
                effective_at,
                permanent: true,
            }
        } else if roll < 713 || (roll < 735 && self.joins.is_empty()) {
            let (member, group) = if self.rng.chance(2) {
                let tier = 1 + self.rng.below(2) as usize;
                (self.group_in(tier), self.group_in(tier - 1))
            } else {
                (self.individual(), self.group())
            };
            Self::remember(
                &mut self.joins,
                &mut self.rng,
                (member.clone(), group.clone()),
            );
            Event::Join {
                member,
                group,
                effective_at,
            }
        } else if roll < 735 {
            let (member, group) =
                self.joins[self.rng.below(self.joins.len() as u64) as usize].clone();
            Event::Leave {
                member,
                group,
                effective_at,
            }
        } else if roll < 935 || self.shares.is_empty() {
            let from = if self.rng.chance(30) {
                self.group()
            } else {
                self.individual()
            };
            let mut to = self.individual();
            if to == from {
                to = self.spec.subject(self.spec.subjects - 1);
            }
            let resource = self.resource_at(1, 3);
            let rights = rights(&mut self.rng, 5);
            let until = self.until(effective_at, 30);
            Self::remember(
                &mut self.shares,
                &mut self.rng,
                (from.clone(), to.clone(), resource.clone()),
            );
            Event::Share {
                from,
                to,
                resource,
                rights,
                basis: text("synthetic sharing"),
                effective_at,
                until,
            }
        } else {
            let (from, to, resource) =
                self.shares[self.rng.below(self.shares.len() as u64) as usize].clone();
            Event::Unshare {
                from,
                to,
                resource,
                rights: None,
                basis: text("synthetic end"),
                effective_at,
            }
        }
    }
}

/// The key of the genesis authority (every role) of the ledger [`build`]
/// makes from `spec`: benchmarks sign checkpoints with it.
pub fn admin_key(spec: &SynthSpec) -> SecretKey {
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&spec.seed.to_le_bytes());
    // Fixed lowercase names.
    SecretKey::from_seed(
        AuthorityName::new("synth-admin").expect("valid name"),
        &seed,
    )
}

/// Builds the synthetic ledger described by `spec` in `dir` (new or empty).
pub fn build(dir: &Path, spec: &SynthSpec) -> Result<SynthReport, LedgerError> {
    let store = Store::create(dir)?;
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&spec.seed.to_le_bytes());
    let admin = admin_key(spec);
    seed[8] = 1;
    let writer = SecretKey::from_seed(
        AuthorityName::new("synth-writer").expect("valid name"),
        &seed,
    );
    let mut gen = Gen {
        spec: spec.clone(),
        rng: Rng(spec.seed),
        now: SynthSpec::start().as_micros(),
        grants: Vec::new(),
        shares: Vec::new(),
        joins: Vec::new(),
    };
    let mut w = Writer::new(&store, LedgerState::new());
    let mut report = SynthReport {
        entries: 0,
        refused: 0,
        last_recorded_at: SynthSpec::start(),
    };
    let tiers = gen.tiers();
    let mut setup_groups = tiers[1];
    while w.state().len() < spec.events {
        let seq = w.state().len();
        let (body, key) = match seq {
            0 => (
                Event::Genesis {
                    origin: Origin::new("synthetic.example/bench").expect("valid origin"),
                    time_zone: text("America/Chicago"),
                    authority: admin.name().clone(),
                    key: admin.public(),
                },
                &admin,
            ),
            1 => (
                Event::AuthorityAdd {
                    name: writer.name().clone(),
                    key: writer.public(),
                    roles: Roles::WRITER,
                },
                &admin,
            ),
            _ if setup_groups < gen.spec.groups => {
                // Nest every middle group in a top-level one, every leaf group in a middle one.
                let child = gen.spec.subject(setup_groups);
                let parent = if setup_groups < tiers[2] {
                    gen.group_in(0)
                } else {
                    gen.group_in(1)
                };
                setup_groups += 1;
                let effective_at = Timestamp::from_micros(gen.now);
                (
                    Event::Join {
                        member: child,
                        group: parent,
                        effective_at,
                    },
                    &writer,
                )
            }
            _ => (gen.event(), &writer),
        };
        gen.now += 1_000_000 + gen.rng.below(299_000_000) as i64;
        let recorded_at = Timestamp::from_micros(gen.now);
        let st = w.state();
        let ledger_id = if seq == 0 {
            EntryHash::ZERO
        } else {
            *st.ledger_id()
        };
        let signed = Entry::sign(seq, *st.head_hash(), recorded_at, body, key, &ledger_id);
        match w.push_signed(signed, None) {
            Ok(_) => {}
            Err(LedgerError::Refused(_)) => {
                report.refused += 1;
                continue;
            }
            Err(e) => return Err(e),
        }
        report.last_recorded_at = recorded_at;
        if w.staged() == CHUNK {
            w.commit()?;
        }
    }
    let (state, _) = w.finish()?;
    // Only now is the directory a ledger (an interrupted build is not one).
    store.finish_create()?;
    report.entries = state.len();
    Ok(report)
}
