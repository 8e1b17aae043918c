//! Every table of the bundle, computed from a ledger as known at its
//! checkpoint. [`Tables::compute`] is the one function behind both `export`
//! (on a copy of the ledger) and `verify-export` (on a ledger rebuilt from
//! the bundle's entries), so the two can only agree when the entries do.
//!
//! Every answer is asked with knowledge time K, the `recorded_at` of the last
//! entry the checkpoint covers, and valid times fixed by the period: never
//! the clock, so the same period and checkpoint give the same tables.

use std::collections::{BTreeMap, BTreeSet};

use super::{ExportError, ProgressFn, SignerNames};
use crate::chain::LedgerState;
use crate::checkpoint::SignedCheckpoint;
use crate::event::Event;
use crate::ident::{Resource, Subject};
use crate::ledger::{Commitment, Ledger, LedgerError};
use crate::merkle::{CompactRange, TreeHash};
use crate::note::VerifierKey;
use crate::query::{ExposurePath, HeldRight, Holding, RightSet, StepKind};
use crate::time::{Timestamp, Zone};

/// A CSV cell: text, or an instant (written in the ledger's zone, compared
/// as an instant).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Cell {
    Text(String),
    Time(Timestamp),
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_owned())
    }
}

impl From<Timestamp> for Cell {
    fn from(t: Timestamp) -> Self {
        Cell::Time(t)
    }
}

impl From<u64> for Cell {
    fn from(n: u64) -> Self {
        Cell::Text(n.to_string())
    }
}

/// One CSV file: its name, header and rows.
pub(crate) struct Table {
    pub(crate) file: &'static str,
    pub(crate) header: &'static [&'static str],
    pub(crate) rows: Vec<Vec<Cell>>,
}

/// An event that takes part in a change, as the tables show it.
#[derive(Debug, Clone)]
pub(crate) struct EventRef {
    pub(crate) seq: u64,
    pub(crate) summary: String,
    /// The grant's or share's basis, the revoke's reason; empty otherwise.
    pub(crate) basis: String,
    pub(crate) signer: String,
}

/// One change of access in the period (`changes`).
#[derive(Debug, Clone)]
pub(crate) struct ChangeRow {
    pub(crate) at: Timestamp,
    pub(crate) subject: Subject,
    pub(crate) resource: Resource,
    pub(crate) right: String,
    pub(crate) gained: bool,
    /// Shared with the other changes the same entries made.
    pub(crate) events: Vec<std::rc::Rc<EventRef>>,
}

/// One cell of the access matrix: the rights `check` allows `subject` on the
/// top-level `resource` itself, and whether what it holds below differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MatrixCell {
    pub(crate) subject: Subject,
    pub(crate) resource: Resource,
    pub(crate) rights: String,
    pub(crate) partial: bool,
    /// Where it is partial: each resource below with what is held there
    /// (`cpd/clear: read; cpd/clear/arrests: export, read`), as `what-can`
    /// lists them; `nothing` where nothing is.
    pub(crate) below: String,
}

/// A permanent revocation and what became of it.
#[derive(Debug, Clone)]
pub(crate) struct CommitmentRow {
    pub(crate) seq: u64,
    pub(crate) subject: String,
    pub(crate) resource: String,
    pub(crate) rights: String,
    pub(crate) effective_at: Timestamp,
    pub(crate) recorded_at: Timestamp,
    pub(crate) signer: String,
    pub(crate) reason: String,
    pub(crate) status: &'static str,
    pub(crate) held: Vec<u64>,
    pub(crate) back_doors: usize,
}

/// A flagged path carrying a banned resource's data to a banned subject.
#[derive(Debug, Clone)]
pub(crate) struct ExposureRow {
    pub(crate) ban: u64,
    pub(crate) subject: Subject,
    pub(crate) resource: Resource,
    pub(crate) at: Timestamp,
    pub(crate) path: String,
    pub(crate) rights: String,
    pub(crate) banned: Vec<u64>,
}

/// An authority event (genesis, add, retire).
#[derive(Debug, Clone)]
pub(crate) struct AuthorityRow {
    pub(crate) seq: u64,
    pub(crate) recorded_at: Timestamp,
    pub(crate) change: &'static str,
    pub(crate) name: String,
    pub(crate) key: String,
    pub(crate) roles: String,
    pub(crate) signer: String,
}

/// One row of the timeline chart: a subject's rights on a top-level resource
/// across the period.
#[derive(Debug, Clone)]
pub(crate) struct TimelineRow {
    pub(crate) subject: Subject,
    pub(crate) resource: Resource,
    /// `[from, to)` intervals and the rights held on the resource or below it.
    pub(crate) segments: Vec<(Timestamp, Timestamp, String)>,
    /// Instants of gains, losses and bans, with their kind.
    pub(crate) marks: Vec<(Timestamp, &'static str)>,
}

/// How many subjects the timeline shows besides the banned ones.
pub(crate) const TIMELINE_BUSIEST: usize = 5;
/// The most rows the timeline chart has.
pub(crate) const TIMELINE_MAX_ROWS: usize = 24;

/// The header of the two access-matrix files.
pub(crate) const MATRIX_HEADER: &[&str] = &["subject", "resource", "rights", "partial", "below"];

/// Where [`Tables::compute`] sends the rows of the two access-matrix files
/// (`access-start.csv`, `access-end.csv`) as it computes them, in order:
/// at 1,000,000 entries they are about 200,000 rows and 160 MB each, too
/// many to keep. `export` writes them; `verify-export` compares them with
/// the bundle's files as it reads them.
pub(crate) trait MatrixRows {
    /// The next row of `file` (after its header).
    fn row(&mut self, file: &'static str, row: &[Cell]) -> Result<(), ExportError>;
    /// `file` has no more rows (called once, after its last).
    fn end(&mut self, file: &'static str) -> Result<(), ExportError>;
}

/// What the report shows of one access matrix: its rows (report.html's
/// `<tr>` lines) for the first [`super::report::MAX_REPORT_ROWS`] subjects
/// holding something, and how many subjects hold something (every cell is in
/// the CSV file). The rows wait in a temporary file, not in memory: at
/// 1,000,000 entries a cell can list thousands of resources below it, and
/// the two matrices' rows held 77 MB at the export's peak.
pub(crate) struct MatrixShown {
    pub(crate) rows: Spill,
    pub(crate) subjects: usize,
}

impl MatrixShown {
    fn new() -> Result<Self, ExportError> {
        Ok(MatrixShown {
            rows: Spill::new().map_err(spill_error)?,
            subjects: 0,
        })
    }
}

/// Lines written to an unnamed temporary file (gone when it is dropped, or
/// when the process ends) and read back in order.
pub(crate) struct Spill {
    w: std::io::BufWriter<std::fs::File>,
}

impl Spill {
    fn new() -> std::io::Result<Self> {
        Ok(Spill {
            w: std::io::BufWriter::new(tempfile::tempfile()?),
        })
    }

    /// Adds `line` (any text) after the others.
    fn push(&mut self, line: &str) -> std::io::Result<()> {
        use std::io::Write;
        let len = u32::try_from(line.len())
            .map_err(|_| std::io::Error::other("a report row of 4 GiB or more"))?;
        self.w.write_all(&len.to_le_bytes())?;
        self.w.write_all(line.as_bytes())
    }

    /// Writes out what is buffered: the lines can be read from here on.
    fn finish(&mut self) -> std::io::Result<()> {
        use std::io::Write;
        self.w.flush()
    }

    /// Hands each line, in order, to `each`.
    pub(crate) fn for_each(&self, mut each: impl FnMut(&str)) -> std::io::Result<()> {
        use std::io::{Read, Seek};
        let mut file = self.w.get_ref();
        file.seek(std::io::SeekFrom::Start(0))?;
        let mut r = std::io::BufReader::new(file);
        let mut line = Vec::new();
        loop {
            let mut len = [0u8; 4];
            match r.read_exact(&mut len) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
                Err(e) => return Err(e),
            }
            line.resize(u32::from_le_bytes(len) as usize, 0);
            r.read_exact(&mut line)?;
            each(std::str::from_utf8(&line).map_err(std::io::Error::other)?);
        }
    }
}

/// The error of the temporary file of the report's matrix rows.
pub(crate) fn spill_error(e: std::io::Error) -> ExportError {
    ExportError::Invalid(format!(
        "the temporary file of the report's access-matrix rows: {e}"
    ))
}

/// Why the timeline's pass over its subjects stopped.
enum TimelineStop {
    /// Its rows are all made.
    Full,
    Query(crate::query::QueryError),
}

impl From<crate::query::QueryError> for TimelineStop {
    fn from(e: crate::query::QueryError) -> Self {
        TimelineStop::Query(e)
    }
}

/// The matrix cells of `s` given what it holds (`what-can`): one per
/// top-level resource of `tops` it holds something on, itself or below.
fn cells_of(s: &Subject, tops: &[Resource], holdings: &[Holding]) -> Vec<MatrixCell> {
    let mut cells = Vec::new();
    for t in tops {
        let here = holdings
            .iter()
            .find(|h| &h.resource == t)
            .map(|h| held_text(&h.rights))
            .unwrap_or_default();
        let below: Vec<String> = holdings
            .iter()
            .filter(|h| &h.resource != t && t.covers(&h.resource))
            .map(|h| (h.resource.as_str(), held_text(&h.rights)))
            .filter(|(_, x)| x != &here)
            .map(|(r, x)| format!("{r}: {}", if x.is_empty() { "nothing" } else { &x }))
            .collect();
        let partial = !below.is_empty();
        if here.is_empty() && !partial {
            continue;
        }
        cells.push(MatrixCell {
            subject: s.clone(),
            resource: t.clone(),
            rights: here,
            partial,
            below: below.join("; "),
        });
    }
    cells
}

/// Every table of a bundle but the access matrices' rows (see [`MatrixRows`]).
pub(crate) struct Tables {
    pub(crate) origin: String,
    pub(crate) zone: Zone,
    pub(crate) from: Timestamp,
    pub(crate) to: Timestamp,
    pub(crate) known_at: Timestamp,
    pub(crate) size: u64,
    pub(crate) root: TreeHash,
    pub(crate) checkpoint_signer: String,
    pub(crate) checkpoint_key: String,
    pub(crate) checkpoint_time: Option<Timestamp>,
    pub(crate) ledger_id: String,
    pub(crate) head: String,
    pub(crate) tops: Vec<Resource>,
    pub(crate) changes: Vec<ChangeRow>,
    pub(crate) start: MatrixShown,
    pub(crate) end: MatrixShown,
    pub(crate) commitments: Vec<CommitmentRow>,
    pub(crate) exposures: Vec<ExposureRow>,
    pub(crate) authorities: Vec<AuthorityRow>,
    /// The authorities at the head: name, verifier key, roles, status.
    pub(crate) current: Vec<(String, String, String, String)>,
    pub(crate) timeline: Vec<TimelineRow>,
}

impl MatrixCell {
    /// The cell as a row of its file ([`MATRIX_HEADER`]).
    pub(crate) fn row(&self) -> Vec<Cell> {
        vec![
            self.subject.as_str().into(),
            self.resource.as_str().into(),
            self.rights.as_str().into(),
            if self.partial { "partial" } else { "" }.into(),
            self.below.as_str().into(),
        ]
    }
}

/// The instant just before `t`: the valid time of "the period's end".
pub(crate) fn just_before(t: Timestamp) -> Timestamp {
    Timestamp::from_micros(t.as_micros().saturating_sub(1))
}

fn top_of(r: &Resource) -> Resource {
    r.self_and_ancestors()
        .last()
        .expect("a resource is its own ancestor at least")
}

fn qerr(e: crate::query::QueryError) -> ExportError {
    ExportError::Ledger(LedgerError::DerivedMismatch(e.to_string()))
}

/// An error of the matrix pass: the query's, or the row sink's.
struct MatrixError(ExportError);

impl From<crate::query::QueryError> for MatrixError {
    fn from(e: crate::query::QueryError) -> Self {
        MatrixError(qerr(e))
    }
}

impl Tables {
    /// Computes every table of the bundle from `ledger`, which MUST hold
    /// exactly the entries `cp` covers (checked: count and Merkle root), for
    /// the period `[from, to)`, as known at K (the last entry's
    /// `recorded_at`). Replays every entry through [`LedgerState::admit`]
    /// (chain, strict signatures, authorities, bans), so a ledger whose
    /// entries do not verify gives no tables. Takes the ledger, whose own
    /// rules state gives way to the replayed one ([`Ledger::into_replayed`]).
    pub(crate) fn compute(
        ledger: Ledger,
        cp: &SignedCheckpoint,
        from: Timestamp,
        to: Timestamp,
        matrix_rows: &mut dyn MatrixRows,
        progress: ProgressFn<'_>,
    ) -> Result<Tables, ExportError> {
        let size = cp.checkpoint().size();
        if ledger.len() != size {
            return Err(ExportError::Invalid(format!(
                "the ledger holds {} entries, the checkpoint covers {size}",
                ledger.len()
            )));
        }
        // One replay: the rules, the root, and what the tables need of the log.
        // The ledger's replay verifies signatures on every core and hands
        // each admitted entry with the state after it.
        let mut range = CompactRange::new();
        let mut names = SignerNames::default();
        let mut subjects: BTreeSet<Subject> = BTreeSet::new();
        let mut tops: BTreeSet<Resource> = BTreeSet::new();
        let mut held: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
        let mut shared: BTreeMap<Subject, BTreeSet<Resource>> = BTreeMap::new();
        let mut ban_meta: BTreeMap<u64, (Timestamp, String, String)> = BTreeMap::new();
        let mut authorities = Vec::new();
        let mut known_at = Timestamp::MIN;
        let ledger = ledger.into_replayed(|e, state| {
            let seq = e.seq();
            names.learn(e);
            let signer = names
                .name_of(e.signer())
                .map(|n| n.to_string())
                .unwrap_or_default();
            range.push(TreeHash::leaf(e.bytes()));
            known_at = e.recorded_at();
            for ban in state.held_by(e) {
                held.entry(ban).or_default().push(seq);
            }
            subjects.extend(e.body().subjects().into_iter().cloned());
            match e.body() {
                Event::Grant { resource, .. } | Event::Revoke { resource, .. } => {
                    tops.insert(top_of(resource));
                }
                Event::Share { to, resource, .. } => {
                    tops.insert(top_of(resource));
                    shared
                        .entry(to.clone())
                        .or_default()
                        .insert(resource.clone());
                }
                _ => {}
            }
            if let Event::Revoke {
                permanent: true,
                reason,
                ..
            } = e.body()
            {
                ban_meta.insert(seq, (e.recorded_at(), signer.clone(), reason.to_string()));
            }
            let authority = match e.body() {
                Event::Genesis { authority, key, .. } => Some((
                    "genesis (first authority, every role)",
                    authority.clone(),
                    Some(*key),
                    "admin,writer,checkpoint".to_owned(),
                )),
                Event::AuthorityAdd { name, key, roles } => {
                    Some(("added", name.clone(), Some(*key), roles.to_string()))
                }
                Event::AuthorityRetire { name } => {
                    Some(("retired", name.clone(), None, String::new()))
                }
                _ => None,
            };
            if let Some((change, name, key, roles)) = authority {
                authorities.push(AuthorityRow {
                    seq,
                    recorded_at: e.recorded_at(),
                    change,
                    key: key
                        .map(|k| VerifierKey::new(name.clone(), k).to_string())
                        .unwrap_or_default(),
                    name: name.to_string(),
                    roles,
                    signer: signer.clone(),
                });
            }
            if seq % 4096 == 0 {
                progress("replaying the entries", seq, size);
            }
            Ok(())
        })?;
        progress("replaying the entries", size, size);
        if range.root() != *cp.checkpoint().root() {
            return Err(ExportError::Invalid(format!(
                "the Merkle root of the {size} entries is not the checkpoint's"
            )));
        }
        // The state the entries give, which replaced the one the ledger
        // opened with (from its snapshot, or as built): nothing below rests
        // on a snapshot that was not replayed.
        let state = ledger.state();
        let zone = state.zone();
        let q = ledger.queries();
        let end = just_before(to);

        // Changes in the period.
        let raw = q
            .changes_with_progress(from, to, known_at, |done, total| {
                progress(super::CHANGES_PHASE, done, total)
            })
            .map_err(qerr)?;
        let mut event_refs: BTreeMap<u64, std::rc::Rc<EventRef>> = BTreeMap::new();
        let mut changes = Vec::with_capacity(raw.len());
        for c in raw {
            let mut events = Vec::new();
            for seq in &c.events {
                if !event_refs.contains_key(seq) {
                    let e = ledger
                        .entry(*seq)?
                        .ok_or_else(|| ExportError::Invalid(format!("entry {seq} is missing")))?;
                    let basis = match e.body() {
                        Event::Grant { basis, .. }
                        | Event::Share { basis, .. }
                        | Event::Unshare { basis, .. } => basis.to_string(),
                        Event::Revoke { reason, .. } => reason.to_string(),
                        _ => String::new(),
                    };
                    let signer = state
                        .authority_of(e.signer())
                        .map(|n| n.to_string())
                        .unwrap_or_default();
                    event_refs.insert(
                        *seq,
                        std::rc::Rc::new(EventRef {
                            seq: *seq,
                            summary: e.body().summary(),
                            basis,
                            signer,
                        }),
                    );
                }
                events.push(event_refs[seq].clone());
            }
            changes.push(ChangeRow {
                at: c.at,
                subject: c.subject,
                resource: c.resource,
                right: c.right.to_string(),
                gained: c.gained,
                events,
            });
        }

        drop(event_refs);

        // The access matrix at the start and just before the end, each row
        // handed to `matrix_rows` as it is made; the report's rows go to a
        // temporary file (see [`MatrixShown`]).
        let tops: Vec<Resource> = tops.into_iter().collect();
        let mut shown = Vec::new();
        let total = 2 * subjects.len() as u64;
        let mut done = 0u64;
        for (at, file) in [
            (from, super::files::ACCESS_START),
            (end, super::files::ACCESS_END),
        ] {
            let mut m = MatrixShown::new()?;
            q.what_can_each(&subjects, at, known_at, |s, holdings| {
                let cells = cells_of(s, &tops, &holdings);
                for cell in &cells {
                    matrix_rows.row(file, &cell.row()).map_err(MatrixError)?;
                }
                if !cells.is_empty() {
                    if m.subjects < super::report::MAX_REPORT_ROWS {
                        m.rows
                            .push(&super::report::matrix_row(s, &tops, &cells))
                            .map_err(|e| MatrixError(spill_error(e)))?;
                    }
                    m.subjects += 1;
                }
                if done % 256 == 0 {
                    progress(super::MATRIX_PHASE, done, total);
                }
                done += 1;
                Ok::<(), MatrixError>(())
            })
            .map_err(|e| e.0)?;
            matrix_rows.end(file)?;
            m.rows.finish().map_err(spill_error)?;
            shown.push(m);
        }
        progress(super::MATRIX_PHASE, total, total);
        let end_shown = shown.pop().expect("two matrices");
        let start_shown = shown.pop().expect("two matrices");

        // The timeline: its subjects' cells at the start asked again, in
        // its order, until its rows are all made (a few subjects), rather
        // than kept from the matrix pass for every banned subject.
        let banned: Vec<Subject> = {
            let mut seen = BTreeSet::new();
            state
                .bans()
                .map(|b| b.subject.clone())
                .filter(|s| seen.insert(s.clone()))
                .collect()
        };
        let chosen = timeline_subjects(&banned, &changes);
        let mut timeline = Vec::new();
        let made = q.what_can_each(&chosen, from, known_at, |s, holdings| {
            let start = cells_of(s, &tops, &holdings);
            match timeline_rows(s, &changes, &start, state, from, to, &mut timeline) {
                true => Err(TimelineStop::Full),
                false => Ok(()),
            }
        });
        match made {
            Ok(()) | Err(TimelineStop::Full) => {}
            Err(TimelineStop::Query(e)) => return Err(qerr(e)),
        }

        // Commitments (the whole log, as known at K) and back doors at the end.
        let reports = ledger.commitments(state, held, &shared, known_at)?;
        let mut commitments = Vec::new();
        for b in &reports {
            let (recorded_at, signer, reason) = ban_meta.get(&b.seq).cloned().unwrap_or((
                Timestamp::MIN,
                String::new(),
                String::new(),
            ));
            let (held, back_doors) = match &b.commitment {
                Commitment::Kept => (vec![], 0),
                Commitment::Held { entries } => (entries.clone(), 0),
                Commitment::BackDoorOpen { held, paths } => (held.clone(), paths.len()),
            };
            commitments.push(CommitmentRow {
                seq: b.seq,
                subject: b.subject.clone(),
                resource: b.resource.clone(),
                rights: b.rights.clone(),
                effective_at: b.effective_at,
                recorded_at,
                signer,
                reason,
                status: match &b.commitment {
                    Commitment::Kept => "kept",
                    Commitment::Held { .. } => "held",
                    Commitment::BackDoorOpen { .. } => "back door open",
                },
                held,
                back_doors,
            });
        }
        let mut exposures = Vec::new();
        let reached = state.ever_members(shared.keys());
        for b in state.bans() {
            for d in ledger.back_doors(state, &shared, &reached, b, &[end])? {
                exposures.push(ExposureRow {
                    ban: b.seq,
                    subject: d.subject,
                    resource: d.resource,
                    at: d.at,
                    path: path_text(&d.path),
                    rights: right_set_text(&d.path.rights),
                    banned: d.path.banned.clone(),
                });
            }
        }

        // The authorities at the head.
        let current = state
            .authorities()
            .iter()
            .map(|(name, a)| {
                (
                    name.to_string(),
                    VerifierKey::new(name.clone(), a.key).to_string(),
                    a.roles.to_string(),
                    match a.retired_seq {
                        Some(s) => format!("retired at seq {s}"),
                        None => "active".to_owned(),
                    },
                )
            })
            .collect();

        let sig = &cp.signatures()[0];
        let checkpoint_signer = sig.name().to_owned();
        let checkpoint_key = crate::ident::AuthorityName::new(sig.name())
            .ok()
            .and_then(|n| {
                state
                    .authorities()
                    .get(&n)
                    .map(|a| VerifierKey::new(n, a.key).to_string())
            })
            .unwrap_or_default();
        Ok(Tables {
            origin: state.origin().map(|o| o.to_string()).unwrap_or_default(),
            zone,
            from,
            to,
            known_at,
            size,
            root: *cp.checkpoint().root(),
            checkpoint_signer,
            checkpoint_key,
            checkpoint_time: cp.checkpoint().time(),
            ledger_id: state.ledger_id().to_hex(),
            head: state.head_hash().to_hex(),
            tops,
            changes,
            start: start_shown,
            end: end_shown,
            commitments,
            exposures,
            authorities,
            current,
            timeline,
        })
    }

    /// The CSV files but the access matrices (see [`MatrixRows`]), in
    /// MANIFEST order, each made when it is reached: at 1,000,000 entries
    /// the changes table alone holds tens of MB of cells.
    pub(crate) fn csv_tables(&self) -> impl Iterator<Item = Table> + '_ {
        (0..4).map(|i| self.csv_table(i))
    }

    /// The `i`th table of [`Tables::csv_tables`].
    fn csv_table(&self, i: usize) -> Table {
        let seqs = |v: &[u64]| {
            v.iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        };
        match i {
            0 => Table {
                file: super::files::CHANGES,
                header: &[
                    "at", "subject", "resource", "right", "change", "seqs", "events", "basis",
                    "signers",
                ],
                rows: self
                    .changes
                    .iter()
                    .map(|c| {
                        let join = |f: &dyn Fn(&EventRef) -> String| {
                            c.events
                                .iter()
                                .map(|e| f(e))
                                .collect::<Vec<_>>()
                                .join(" | ")
                        };
                        vec![
                            c.at.into(),
                            c.subject.as_str().into(),
                            c.resource.as_str().into(),
                            c.right.as_str().into(),
                            if c.gained { "gained" } else { "lost" }.into(),
                            seqs(&c.events.iter().map(|e| e.seq).collect::<Vec<_>>()).into(),
                            join(&|e| e.summary.clone()).into(),
                            join(&|e| e.basis.clone()).into(),
                            join(&|e| e.signer.clone()).into(),
                        ]
                    })
                    .collect(),
            },
            1 => Table {
                file: super::files::COMMITMENTS,
                header: &[
                    "seq",
                    "subject",
                    "resource",
                    "rights",
                    "effective_at",
                    "recorded_at",
                    "signer",
                    "reason",
                    "status",
                    "held_entries",
                    "back_door_paths",
                ],
                rows: self
                    .commitments
                    .iter()
                    .map(|c| {
                        vec![
                            c.seq.into(),
                            c.subject.as_str().into(),
                            c.resource.as_str().into(),
                            c.rights.as_str().into(),
                            c.effective_at.into(),
                            c.recorded_at.into(),
                            c.signer.as_str().into(),
                            c.reason.as_str().into(),
                            c.status.into(),
                            seqs(&c.held).into(),
                            (c.back_doors as u64).into(),
                        ]
                    })
                    .collect(),
            },
            2 => Table {
                file: super::files::EXPOSURES,
                header: &[
                    "ban_seq",
                    "subject",
                    "resource",
                    "at",
                    "path",
                    "rights",
                    "banned_by",
                ],
                rows: self
                    .exposures
                    .iter()
                    .map(|x| {
                        vec![
                            x.ban.into(),
                            x.subject.as_str().into(),
                            x.resource.as_str().into(),
                            x.at.into(),
                            x.path.as_str().into(),
                            x.rights.as_str().into(),
                            seqs(&x.banned).into(),
                        ]
                    })
                    .collect(),
            },
            _ => Table {
                file: super::files::AUTHORITIES,
                header: &[
                    "seq",
                    "recorded_at",
                    "change",
                    "name",
                    "verifier_key",
                    "roles",
                    "signer",
                ],
                rows: self
                    .authorities
                    .iter()
                    .map(|a| {
                        vec![
                            a.seq.into(),
                            a.recorded_at.into(),
                            a.change.into(),
                            a.name.as_str().into(),
                            a.key.as_str().into(),
                            a.roles.as_str().into(),
                            a.signer.as_str().into(),
                        ]
                    })
                    .collect(),
            },
        }
    }
}

/// The rights of a `what-can` row as one cell: named rights by name, then
/// `*` ("every other right"), with `except` the named ones it leaves out.
pub(crate) fn held_text(rights: &[HeldRight]) -> String {
    rights
        .iter()
        .map(|h| {
            if h.except.is_empty() {
                h.right.to_string()
            } else {
                let except: Vec<String> = h.except.iter().map(|r| r.to_string()).collect();
                format!("{} except {}", h.right, except.join(" "))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn right_set_text(r: &RightSet) -> String {
    match r {
        RightSet::Only(s) => s
            .iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        RightSet::AllExcept(s) if s.is_empty() => "*".into(),
        RightSet::AllExcept(s) => format!(
            "* except {}",
            s.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        ),
    }
}

/// `grant 7 -> agency:fbi; share 9 -> agency:ice`.
fn path_text(p: &ExposurePath) -> String {
    p.steps
        .iter()
        .map(|s| {
            let kind = match s.kind {
                StepKind::Grant => "grant",
                StepKind::Join => "join",
                StepKind::Share => "share",
            };
            format!("{kind} seq {} -> {}", s.seq, s.subject)
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The subjects of the timeline, in its order: every banned subject, then
/// the [`TIMELINE_BUSIEST`] subjects with the most changes in the period
/// (ties by name).
fn timeline_subjects(banned: &[Subject], changes: &[ChangeRow]) -> Vec<Subject> {
    let mut counts: BTreeMap<&Subject, usize> = BTreeMap::new();
    for c in changes {
        *counts.entry(&c.subject).or_default() += 1;
    }
    let mut busiest: Vec<(&Subject, usize)> = counts.into_iter().collect();
    busiest.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let mut chosen: Vec<Subject> = banned.to_vec();
    for (s, _) in busiest {
        if chosen.len() >= banned.len() + TIMELINE_BUSIEST {
            break;
        }
        if !chosen.contains(s) {
            chosen.push(s.clone());
        }
    }
    chosen
}

/// The timeline rows of `s`, one of its chosen subjects in order, added to
/// `rows` (at most [`TIMELINE_MAX_ROWS`] in all): every top-level resource it
/// held something on (or below) at the start (`start`: its cells then) or that
/// a change concerns. A bar is what it holds on the resource or anywhere
/// below it. Returns whether `rows` is full.
fn timeline_rows(
    s: &Subject,
    changes: &[ChangeRow],
    start: &[MatrixCell],
    state: &LedgerState,
    from: Timestamp,
    to: Timestamp,
    rows: &mut Vec<TimelineRow>,
) -> bool {
    let mut tops: BTreeSet<Resource> = start
        .iter()
        .filter(|c| !c.rights.is_empty())
        .map(|c| c.resource.clone())
        .collect();
    tops.extend(
        changes
            .iter()
            .filter(|c| &c.subject == s)
            .map(|c| top_of(&c.resource)),
    );
    let bans: Vec<(Timestamp, Resource)> = state
        .bans()
        .filter(|b| &b.subject == s && b.effective_at >= from && b.effective_at < to)
        .map(|b| (b.effective_at, top_of(&b.resource)))
        .collect();
    tops.extend(bans.iter().map(|(_, r)| r.clone()));
    for t in tops {
        if rows.len() == TIMELINE_MAX_ROWS {
            return true;
        }
        // What is held on the resource or below it, as (resource, right).
        let mut held: BTreeSet<(String, String)> = BTreeSet::new();
        if let Some(c) = start.iter().find(|c| c.resource == t) {
            let first_word = |x: &str| x.split(' ').next().unwrap_or(x).to_owned();
            for x in c.rights.split(", ").filter(|x| !x.is_empty()) {
                held.insert((t.to_string(), first_word(x)));
            }
            for part in c.below.split("; ").filter(|p| !p.is_empty()) {
                if let Some((r, rights)) = part.split_once(": ") {
                    for x in rights
                        .split(", ")
                        .filter(|x| !x.is_empty() && *x != "nothing")
                    {
                        held.insert((r.to_owned(), first_word(x)));
                    }
                }
            }
        }
        let text = |held: &BTreeSet<(String, String)>| {
            let rights: BTreeSet<&str> = held.iter().map(|(_, x)| x.as_str()).collect();
            rights.into_iter().collect::<Vec<_>>().join(", ")
        };
        let mut segments = Vec::new();
        let mut marks = Vec::new();
        let mut since = from;
        for c in changes
            .iter()
            .filter(|c| &c.subject == s && t.covers(&c.resource))
        {
            marks.push((c.at, if c.gained { "gain" } else { "loss" }));
            if c.at > since {
                segments.push((since, c.at, text(&held)));
                since = c.at;
            }
            let key = (c.resource.to_string(), c.right.clone());
            if c.gained {
                held.insert(key);
            } else {
                held.remove(&key);
            }
        }
        segments.push((since, to, text(&held)));
        for (at, r) in &bans {
            if r == &t {
                marks.push((*at, "ban"));
            }
        }
        marks.sort();
        marks.dedup();
        rows.push(TimelineRow {
            subject: s.clone(),
            resource: t,
            segments,
            marks,
        });
    }
    rows.len() == TIMELINE_MAX_ROWS
}
