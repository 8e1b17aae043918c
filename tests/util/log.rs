//! Shared helpers for the query tests: build a small ledger by hand, then ask
//! both evaluators (the naive [`Projection`] and the indexed [`Queries`]) and
//! insist that they agree.
#![allow(dead_code)]

use access_ledger::{
    Access, AuthorityName, ChainError, Change, Decision, Entry, Event, ExposurePath, HistoryItem,
    HistoryOf, Holding, Ledger, LedgerState, NewEntry, Origin, Projection, Queries, Resource,
    Right, Rights, Roles, SecretKey, Subject, Text, Timestamp, Zone,
};

/// One hour, in microseconds: the time unit of the hand-made logs.
pub const HOUR: i64 = 3_600_000_000;
/// 2019-07-01T00:00:00Z: time zero of the hand-made logs.
pub const T0: i64 = 1_561_939_200_000_000;

/// The instant `h` hours after [`T0`].
pub fn t(h: i64) -> Timestamp {
    Timestamp::from_micros(T0 + h * HOUR)
}

pub fn s(x: &str) -> Subject {
    Subject::new(x).unwrap()
}
pub fn r(x: &str) -> Resource {
    Resource::new(x).unwrap()
}
pub fn right(x: &str) -> Right {
    Right::new(x).unwrap()
}
pub fn rights(x: &str) -> Rights {
    Rights::parse_list(x).unwrap()
}
fn text(x: &str) -> Text {
    Text::new("basis", x).unwrap()
}

pub fn grant(
    subject: &str,
    resource: &str,
    rs: &str,
    eff: Timestamp,
    until: Option<Timestamp>,
) -> Event {
    Event::Grant {
        subject: s(subject),
        resource: r(resource),
        rights: rights(rs),
        basis: text("test agreement"),
        effective_at: eff,
        until,
    }
}
pub fn revoke(subject: &str, resource: &str, rs: Option<&str>, eff: Timestamp) -> Event {
    Event::Revoke {
        subject: s(subject),
        resource: r(resource),
        rights: rs.map(rights),
        reason: text("test"),
        effective_at: eff,
        permanent: false,
    }
}
pub fn ban(subject: &str, resource: &str, rs: Option<&str>, eff: Timestamp) -> Event {
    Event::Revoke {
        subject: s(subject),
        resource: r(resource),
        rights: rs.map(rights),
        reason: text("test ban"),
        effective_at: eff,
        permanent: true,
    }
}
pub fn join(member: &str, group: &str, eff: Timestamp) -> Event {
    Event::Join {
        member: s(member),
        group: s(group),
        effective_at: eff,
    }
}
pub fn leave(member: &str, group: &str, eff: Timestamp) -> Event {
    Event::Leave {
        member: s(member),
        group: s(group),
        effective_at: eff,
    }
}
pub fn share(
    from: &str,
    to: &str,
    resource: &str,
    rs: &str,
    eff: Timestamp,
    until: Option<Timestamp>,
) -> Event {
    Event::Share {
        from: s(from),
        to: s(to),
        resource: r(resource),
        rights: rights(rs),
        basis: text("test sharing"),
        effective_at: eff,
        until,
    }
}
pub fn unshare(from: &str, to: &str, resource: &str, rs: Option<&str>, eff: Timestamp) -> Event {
    Event::Unshare {
        from: s(from),
        to: s(to),
        resource: r(resource),
        rights: rs.map(rights),
        basis: text("test"),
        effective_at: eff,
    }
}

/// A ledger in a temporary directory, built entry by entry.
pub struct Log {
    _dir: tempfile::TempDir,
    pub ledger: Ledger,
    admin: SecretKey,
    writer: SecretKey,
    pub entries: Vec<Entry>,
    queued: Vec<NewEntry>,
    queued_state: LedgerState,
}

impl Log {
    /// A ledger whose genesis is recorded at `t(-1000)`, with a second
    /// authority `writer` (seq 1) that signs everything after.
    pub fn new() -> Log {
        let dir = tempfile::tempdir().unwrap();
        let admin = SecretKey::from_seed(AuthorityName::new("admin").unwrap(), &[1; 32]);
        let writer = SecretKey::from_seed(AuthorityName::new("writer").unwrap(), &[2; 32]);
        let mut ledger = Ledger::init(
            &dir.path().join("ledger"),
            Origin::new("test.example/query").unwrap(),
            &Zone::new("America/Chicago").unwrap(),
            &admin,
            Some(t(-1000)),
        )
        .unwrap();
        let add = Event::AuthorityAdd {
            name: writer.name().clone(),
            key: writer.public(),
            roles: Roles::WRITER,
        };
        ledger
            .append(
                &admin,
                vec![NewEntry {
                    event: add,
                    recorded_at: Some(t(-1000)),
                }],
            )
            .unwrap();
        let entries = (0..2)
            .map(|seq| ledger.entry(seq).unwrap().unwrap())
            .collect();
        let queued_state = ledger.state().clone();
        Log {
            _dir: dir,
            ledger,
            admin,
            writer,
            entries,
            queued: vec![],
            queued_state,
        }
    }

    /// Signs `body` as the next entry recorded at `recorded_at` and queues it
    /// for the next [`Log::commit`]; returns its seq, or the rule it breaks
    /// (then nothing is queued).
    pub fn try_push(&mut self, recorded_at: Timestamp, body: Event) -> Result<u64, ChainError> {
        let seq = self.queued_state.len();
        let e = Entry::sign(
            seq,
            *self.queued_state.head_hash(),
            recorded_at,
            body.clone(),
            &self.writer,
            self.queued_state.ledger_id(),
        );
        self.queued_state.admit(e.entry().clone(), None)?;
        self.queued.push(NewEntry {
            event: body,
            recorded_at: Some(recorded_at),
        });
        Ok(seq)
    }

    /// Like [`Log::try_push`], then commits at once; panics if refused.
    pub fn push(&mut self, recorded_at: Timestamp, body: Event) -> u64 {
        let seq = self.try_push(recorded_at, body).unwrap();
        self.commit();
        seq
    }

    /// Appends the queued entries through the ledger's write path in one batch.
    pub fn commit(&mut self) {
        let batch = std::mem::take(&mut self.queued);
        if batch.is_empty() {
            return;
        }
        let written = self.ledger.append(&self.writer, batch).unwrap();
        self.entries
            .extend(written.iter().map(|c| Entry::decode(c.bytes()).unwrap()));
        assert_eq!(self.ledger.len(), self.queued_state.len());
        assert_eq!(
            self.ledger.state().head_hash(),
            self.queued_state.head_hash()
        );
    }

    fn naive(&self) -> Projection<'_> {
        Projection::new(&self.entries)
    }

    fn indexed(&self) -> Queries<'_> {
        self.ledger.queries()
    }

    pub fn check(
        &self,
        subject: &str,
        resource: &str,
        rt: &str,
        at: Timestamp,
        known_at: Timestamp,
    ) -> Decision {
        let (a, b, c) = (s(subject), r(resource), right(rt));
        let naive = self.naive().check(&a, &b, &c, at, known_at).unwrap();
        let indexed = self.indexed().check(&a, &b, &c, at, known_at).unwrap();
        assert_eq!(
            naive, indexed,
            "check {subject} {resource} {rt} at {at} known {known_at}"
        );
        naive
    }

    pub fn who_can(
        &self,
        resource: &str,
        rt: &str,
        at: Timestamp,
        known_at: Timestamp,
    ) -> Vec<Access> {
        let naive = self
            .naive()
            .who_can(&r(resource), &right(rt), at, known_at)
            .unwrap();
        let indexed = self
            .indexed()
            .who_can(&r(resource), &right(rt), at, known_at)
            .unwrap();
        assert_eq!(
            naive, indexed,
            "who-can {resource} {rt} at {at} known {known_at}"
        );
        naive
    }

    pub fn what_can(&self, subject: &str, at: Timestamp, known_at: Timestamp) -> Vec<Holding> {
        let naive = self.naive().what_can(&s(subject), at, known_at).unwrap();
        let indexed = self.indexed().what_can(&s(subject), at, known_at).unwrap();
        assert_eq!(
            naive, indexed,
            "what-can {subject} at {at} known {known_at}"
        );
        naive
    }

    pub fn exposure(
        &self,
        subject: &str,
        resource: &str,
        at: Timestamp,
        known_at: Timestamp,
    ) -> Vec<ExposurePath> {
        let naive = self
            .naive()
            .exposure(&s(subject), &r(resource), at, known_at)
            .unwrap();
        let indexed = self
            .indexed()
            .exposure(&s(subject), &r(resource), at, known_at)
            .unwrap();
        assert_eq!(
            naive, indexed,
            "exposure {subject} {resource} at {at} known {known_at}"
        );
        naive
    }

    pub fn history(&self, of: &HistoryOf, at: Timestamp, known_at: Timestamp) -> Vec<HistoryItem> {
        let naive = self.naive().history(of, at, known_at).unwrap();
        let indexed = self.indexed().history(of, at, known_at).unwrap();
        assert_eq!(naive, indexed, "history {of:?} at {at} known {known_at}");
        naive
    }

    pub fn changes(&self, from: Timestamp, to: Timestamp, known_at: Timestamp) -> Vec<Change> {
        let naive = self.naive().changes(from, to, known_at).unwrap();
        let indexed = self.indexed().changes(from, to, known_at).unwrap();
        assert_eq!(naive, indexed, "changes {from}..{to} known {known_at}");
        naive
    }
}

/// The seqs of the steps of a path.
pub fn seqs(p: &ExposurePath) -> Vec<u64> {
    p.steps.iter().map(|s| s.seq).collect()
}
