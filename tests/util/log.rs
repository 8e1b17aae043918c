//! A ledger built entry by entry by hand, then asked through both evaluators
//! (the naive [`Projection`] and the indexed [`Queries`]), which must agree.

use std::fmt::{Arguments, Debug};

use access_ledger::{
    Access, AuthorityName, ChainError, Change, Decision, Entry, Event, ExposurePath, HistoryItem,
    HistoryOf, Holding, Ledger, LedgerState, NewEntry, Origin, Projection, Provenance, Queries,
    QueryError, Roles, SecretKey, Timestamp, Zone,
};

use super::{r, right, s, t};

/// A ledger in a temporary directory, built entry by entry.
pub struct Log {
    _dir: tempfile::TempDir,
    pub ledger: Ledger,
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
        self.queued_state
            .admit(e.entry().clone(), None, Provenance::New)?;
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
        agree(
            self.naive().check(&a, &b, &c, at, known_at),
            self.indexed().check(&a, &b, &c, at, known_at),
            format_args!("check {subject} {resource} {rt} at {at} known {known_at}"),
        )
    }

    pub fn who_can(
        &self,
        resource: &str,
        rt: &str,
        at: Timestamp,
        known_at: Timestamp,
    ) -> Vec<Access> {
        let (a, b) = (r(resource), right(rt));
        agree(
            self.naive().who_can(&a, &b, at, known_at),
            self.indexed().who_can(&a, &b, at, known_at),
            format_args!("who-can {resource} {rt} at {at} known {known_at}"),
        )
    }

    pub fn what_can(&self, subject: &str, at: Timestamp, known_at: Timestamp) -> Vec<Holding> {
        let a = s(subject);
        agree(
            self.naive().what_can(&a, at, known_at),
            self.indexed().what_can(&a, at, known_at),
            format_args!("what-can {subject} at {at} known {known_at}"),
        )
    }

    pub fn exposure(
        &self,
        subject: &str,
        resource: &str,
        at: Timestamp,
        known_at: Timestamp,
    ) -> Vec<ExposurePath> {
        let (a, b) = (s(subject), r(resource));
        agree(
            self.naive().exposure(&a, &b, at, known_at),
            self.indexed().exposure(&a, &b, at, known_at),
            format_args!("exposure {subject} {resource} at {at} known {known_at}"),
        )
    }

    pub fn history(&self, of: &HistoryOf, at: Timestamp, known_at: Timestamp) -> Vec<HistoryItem> {
        agree(
            self.naive().history(of, at, known_at),
            self.indexed().history(of, at, known_at),
            format_args!("history {of:?} at {at} known {known_at}"),
        )
    }

    pub fn changes(&self, from: Timestamp, to: Timestamp, known_at: Timestamp) -> Vec<Change> {
        agree(
            self.naive().changes(from, to, known_at),
            self.indexed().changes(from, to, known_at),
            format_args!("changes {from}..{to} known {known_at}"),
        )
    }
}

/// The naive answer to `question`, once the indexed answer is the same.
fn agree<T: PartialEq + Debug>(
    naive: Result<T, QueryError>,
    indexed: Result<T, QueryError>,
    question: Arguments,
) -> T {
    let (naive, indexed) = (naive.unwrap(), indexed.unwrap());
    assert_eq!(naive, indexed, "{question}");
    naive
}

/// The seqs of the steps of a path.
pub fn seqs(p: &ExposurePath) -> Vec<u64> {
    p.steps.iter().map(|s| s.seq).collect()
}
