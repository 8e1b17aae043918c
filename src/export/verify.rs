//! `verify-export`: checks a bundle offline, with no ledger directory.
//!
//! In order, stopping at the first thing wrong: the MANIFEST's signature
//! (the checkpoint verifier key) and form; the files present are exactly
//! those it lists; checkpoint.txt (same key, and what the MANIFEST names);
//! every line of entries.jsonl (its `bytes` decode to the entry of that seq,
//! and the line is exactly the raw-entry line of those bytes, so no decoded
//! field can differ from what was signed), each entry admitted by
//! [`crate::LedgerState::admit`] into a temporary ledger (chain, strict
//! signatures, authorities, bans, time order), the Merkle root of them all
//! equal to the checkpoint's; the consistency proof from `--since`; every
//! CSV file and report.html recomputed from that temporary ledger by the same
//! code `export` ran, and compared (times as instants); then every file's
//! SHA-256 against the MANIFEST. Attested files are only hash-checked.

use std::collections::BTreeSet;
use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use sha2::{Digest, Sha256};

use super::tables::{Cell, MatrixRows, Tables, MATRIX_HEADER};
use super::{csv, files, report, ExportError, Manifest, ProgressFn, SignerNames};
use crate::chain::{ChainError, Violation};
use crate::checkpoint::SignedCheckpoint;
use crate::entry::Entry;
use crate::json::entry_line;
use crate::ledger::{Ledger, LedgerError};
use crate::merkle::ConsistencyProof;
use crate::note::{Note, VerifierKey};
use crate::time::Timestamp;

/// What `verify-export` established.
#[derive(Debug, Clone, serde::Serialize)]
pub struct VerifiedExport {
    /// The ledger's origin.
    pub origin: String,
    /// Entries verified (the checkpoint's tree size).
    pub entries: u64,
    /// The period's start.
    pub from: Timestamp,
    /// The period's end (exclusive).
    pub to: Timestamp,
    /// K: the answers are as known then.
    pub known_at: Timestamp,
    /// Who signed the MANIFEST and the checkpoint.
    pub signer: String,
    /// The tree size of `--since`, when its consistency was proven.
    pub since: Option<u64>,
    /// Files recomputed from the entries and found equal (or, for
    /// checkpoint.txt, entries.jsonl and consistency.proof, checked).
    pub verified: Vec<String>,
    /// Files only hash-checked: they cannot be recomputed from the entries.
    pub attested: Vec<String>,
    /// Changes of access in the period.
    pub changes: usize,
    /// Permanent revocations, and how many have a back door open.
    pub commitments: usize,
    /// Of which with a back door open.
    pub back_doors_open: usize,
}

/// `file` in `dir` has the SHA-256 the MANIFEST lists.
fn check_hash(dir: &Path, file: &str, want: &[u8; 32]) -> Result<(), ExportError> {
    if &sha256_file(&dir.join(file))? != want {
        return Err(bad(
            file,
            "its SHA-256 is not the one the MANIFEST lists: the file was changed after it was signed",
        ));
    }
    Ok(())
}

fn bad(file: &str, what: impl Into<String>) -> ExportError {
    ExportError::bundle(file, what)
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> ExportError + '_ {
    move |e| ExportError::io(path, e)
}

/// Verifies the bundle in `dir` against `key`, the ledger's checkpoint
/// verifier key, and (if given) `since`, the previous checkpoint note the
/// verifier accepted. See the module docs for what is checked; the first
/// failure is an [`ExportError::Bundle`] naming file, line and seq.
pub fn verify_export(
    dir: &Path,
    key: &VerifierKey,
    since: Option<&str>,
    progress: ProgressFn<'_>,
) -> Result<VerifiedExport, ExportError> {
    // The MANIFEST.
    let mpath = dir.join(files::MANIFEST);
    let mtext = fs::read_to_string(&mpath).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => bad(files::MANIFEST, "missing: not an export bundle"),
        _ => ExportError::io(&mpath, e),
    })?;
    let note = Note::parse(&mtext).map_err(|e| bad(files::MANIFEST, e.to_string()))?;
    note.verify(key)
        .map_err(|e| bad(files::MANIFEST, format!("signature: {e}")))?;
    let m = Manifest::parse(note.text()).map_err(|e| bad(files::MANIFEST, e))?;

    // Exactly the files listed.
    let mut present = BTreeSet::new();
    for e in fs::read_dir(dir).map_err(io(dir))? {
        let e = e.map_err(io(dir))?;
        let name = e.file_name().to_string_lossy().into_owned();
        if name != files::MANIFEST {
            present.insert(name);
        }
    }
    let listed: BTreeSet<String> = m
        .verified
        .keys()
        .chain(m.attested.keys())
        .cloned()
        .collect();
    if let Some(extra) = present.difference(&listed).next() {
        return Err(bad(
            extra,
            "this file is not listed in the MANIFEST (added)",
        ));
    }
    if let Some(missing) = listed.difference(&present).next() {
        return Err(bad(missing, "listed in the MANIFEST but missing (removed)"));
    }
    // Every bundle file but the consistency proof, which only `--since` asks for.
    for required in super::bundle_names()
        .into_iter()
        .filter(|&f| f != files::CONSISTENCY)
    {
        if !m.verified.contains_key(required) {
            return Err(bad(required, "not listed as verified in the MANIFEST"));
        }
    }
    if m.since.is_some() != m.verified.contains_key(files::CONSISTENCY) {
        return Err(bad(
            files::CONSISTENCY,
            "the MANIFEST's since line and this file go together",
        ));
    }

    // The checkpoint.
    let cpath = dir.join(files::CHECKPOINT);
    let ctext = fs::read_to_string(&cpath).map_err(io(&cpath))?;
    let cp =
        SignedCheckpoint::open(&ctext, key).map_err(|e| bad(files::CHECKPOINT, e.to_string()))?;
    let c = cp.checkpoint();
    if c.size() != m.size || c.root() != &m.root || c.origin().as_str() != m.origin {
        return Err(bad(
            files::CHECKPOINT,
            format!(
                "this checkpoint (size {}, root {}) is not the one the MANIFEST names (size {}, root {}): swapped",
                c.size(),
                c.root(),
                m.size,
                m.root
            ),
        ));
    }

    // The entries, into a temporary ledger.
    // Removed when dropped, on every return.
    let tmp = tempfile::Builder::new()
        .prefix("access-ledger-verify-export-")
        .tempdir()
        .map_err(|e| ExportError::io(&std::env::temp_dir(), e))?;
    let ledger_dir = tmp.path().join("ledger");
    let epath = dir.join(files::ENTRIES);
    let reader = BufReader::new(fs::File::open(&epath).map_err(io(&epath))?);
    let mut names = SignerNames::default();
    let mut lines = reader.lines();
    let mut seq = 0u64;
    let total = m.size;
    let entries = std::iter::from_fn(|| {
        let line = lines.next()?;
        let this = seq;
        seq += 1;
        if this % 4096 == 0 {
            progress("verifying entries.jsonl", this, total);
        }
        Some(check_line(line, this, &mut names))
    });
    let built = Ledger::create_replica(&ledger_dir, "an export bundle", &ctext, entries, |_| {});
    let ledger = built.map_err(|e| entry_error(e, m.size))?;
    progress("verifying entries.jsonl", total, total);
    let last = ledger
        .entry(m.size.saturating_sub(1))?
        .ok_or_else(|| bad(files::ENTRIES, "empty"))?;
    if last.recorded_at() != m.known_at {
        return Err(bad(
            files::MANIFEST,
            "its known-at is not the recorded_at of the last entry",
        ));
    }

    // The consistency proof.
    let mut since_size = None;
    if let Some(old) = since {
        let old = SignedCheckpoint::open(old, key)
            .map_err(|e| ExportError::Invalid(format!("--since: {e}")))?;
        let o = old.checkpoint();
        match m.since {
            None if (o.size(), o.root()) == (c.size(), c.root()) => {}
            None => {
                return Err(bad(
                    files::CONSISTENCY,
                    format!("missing: the bundle proves nothing about --since (size {})", o.size()),
                ))
            }
            Some((size, root)) if (size, &root) != (o.size(), o.root()) || o.origin() != c.origin() => {
                return Err(bad(
                    files::CONSISTENCY,
                    format!(
                        "the bundle's proof starts from size {size} root {root}, not from --since (size {} root {}): this history is not the one shown before (a fork or a rewrite)",
                        o.size(),
                        o.root()
                    ),
                ))
            }
            Some(_) => {}
        }
        since_size = Some(o.size());
    }
    if let Some((size, root)) = m.since {
        let ppath = dir.join(files::CONSISTENCY);
        let text = fs::read_to_string(&ppath).map_err(io(&ppath))?;
        let p = ConsistencyProof::parse_text(&text)
            .map_err(|e| bad(files::CONSISTENCY, e.to_string()))?;
        if (p.old_size(), p.old_root(), p.new_size(), p.new_root())
            != (size, &root, c.size(), c.root())
        {
            return Err(bad(
                files::CONSISTENCY,
                format!(
                    "the proof is from size {} (root {}) to {} (root {}), not from the MANIFEST's since (size {size}, root {root}) to the checkpoint (size {}, root {}): a proof of another (forked) history",
                    p.old_size(),
                    p.old_root(),
                    p.new_size(),
                    p.new_root(),
                    c.size(),
                    c.root()
                ),
            ));
        }
        p.verify().map_err(|e| {
            bad(
                files::CONSISTENCY,
                format!(
                    "does not prove the checkpoint extends size {size}: {e} (a forked history)"
                ),
            )
        })?;
    }

    // Every table, recomputed.
    let mut matrix = MatrixChecks { dir, open: None };
    // Everything after it reads the tables and the bundle's files only.
    let t = Tables::compute(ledger, &cp, m.from, m.to, &mut matrix, progress)?;
    if t.zone.name() != m.zone {
        return Err(bad(files::MANIFEST, "its zone is not the ledger's"));
    }
    for table in t.csv_tables() {
        let path = dir.join(table.file);
        let found = BufReader::new(fs::File::open(&path).map_err(io(&path))?);
        csv::compare(&table, found).map_err(|x| mismatch(table.file, x))?;
    }
    let rpath = dir.join(files::REPORT);
    let found = BufReader::new(fs::File::open(&rpath).map_err(io(&rpath))?);
    // The report shows the attested audit: its bytes must be the signed
    // ones before they are rendered, or an edit to audit.json would be
    // named as a difference in report.html.
    let audit = match m.attested.get(files::AUDIT) {
        Some(want) => {
            check_hash(dir, files::AUDIT, want)?;
            super::audit_json(|f| fs::read(dir.join(f)).ok())?
        }
        None => None,
    };
    let mut report = ReportComparer::new(found);
    report::render_to(&mut report, &t, audit.as_ref()).map_err(super::tables::spill_error)?;
    report.finish()?;

    // Every file's hash.
    for (file, want) in m.verified.iter().chain(m.attested.iter()) {
        check_hash(dir, file, want)?;
    }
    Ok(VerifiedExport {
        origin: m.origin.clone(),
        entries: m.size,
        from: m.from,
        to: m.to,
        known_at: m.known_at,
        signer: key.name().to_string(),
        since: since_size,
        verified: m.verified.keys().cloned().collect(),
        attested: m.attested.keys().cloned().collect(),
        changes: t.changes.len(),
        commitments: t.commitments.len(),
        back_doors_open: t.commitments.iter().filter(|c| c.back_doors > 0).count(),
    })
}

/// The bundle's access-matrix files, compared with the rows recomputed from
/// the entries as they come (each file read once, never whole).
struct MatrixChecks<'a> {
    dir: &'a Path,
    open: Option<(&'static str, csv::Comparer<BufReader<fs::File>>)>,
}

impl MatrixChecks<'_> {
    /// The comparer of `file`, opened (and its header checked) on first use.
    fn comparer(
        &mut self,
        file: &'static str,
    ) -> Result<&mut csv::Comparer<BufReader<fs::File>>, ExportError> {
        if self.open.as_ref().is_none_or(|(f, _)| *f != file) {
            let path = self.dir.join(file);
            let f = fs::File::open(&path).map_err(io(&path))?;
            let c = csv::Comparer::new(BufReader::new(f), MATRIX_HEADER)
                .map_err(|x| mismatch(file, x))?;
            self.open = Some((file, c));
        }
        Ok(&mut self.open.as_mut().expect("just opened").1)
    }
}

impl MatrixRows for MatrixChecks<'_> {
    fn row(&mut self, file: &'static str, row: &[Cell]) -> Result<(), ExportError> {
        self.comparer(file)?.row(row).map_err(|x| mismatch(file, x))
    }

    fn end(&mut self, file: &'static str) -> Result<(), ExportError> {
        self.comparer(file)?;
        let (_, c) = self.open.take().expect("just opened");
        c.end().map_err(|x| mismatch(file, x))
    }
}

/// A CSV file's [`csv::Mismatch`] as the error naming it.
fn mismatch(file: &str, x: csv::Mismatch) -> ExportError {
    ExportError::Bundle {
        file: file.to_owned(),
        line: Some(x.line),
        seq: None,
        what: x.what,
    }
}

/// Line `seq + 1` of entries.jsonl: its `bytes`, once the line is found to
/// be exactly the raw-entry line of the entry they decode to, at that seq.
fn check_line(
    line: std::io::Result<String>,
    seq: u64,
    names: &mut SignerNames,
) -> Result<Vec<u8>, ExportError> {
    let at = |what: String| ExportError::Bundle {
        file: files::ENTRIES.to_owned(),
        line: Some(seq + 1),
        seq: Some(seq),
        what,
    };
    let line = line.map_err(|e| at(format!("cannot be read: {e}")))?;
    let v: serde_json::Value =
        serde_json::from_str(&line).map_err(|e| at(format!("not JSON: {e}")))?;
    let b64 = v
        .get("bytes")
        .and_then(|b| b.as_str())
        .ok_or_else(|| at("no bytes field".into()))?;
    let bytes = B64
        .decode(b64)
        .map_err(|e| at(format!("bytes is not base64: {e}")))?;
    let e = Entry::decode(&bytes).map_err(|e| at(format!("bytes do not decode: {e}")))?;
    if e.seq() != seq {
        return Err(at(format!(
            "holds the entry of seq {}: an entry was dropped, inserted or reordered",
            e.seq()
        )));
    }
    names.learn(&e);
    let want = entry_line(&e, names.name_of(e.signer()));
    if want != line {
        let w: serde_json::Value = serde_json::from_str(&want).expect("entry_line is JSON");
        let field = w
            .as_object()
            .zip(v.as_object())
            .and_then(|(w, g)| {
                w.iter()
                    .find(|(k, x)| g.get(*k) != Some(*x))
                    .map(|(k, _)| k.clone())
                    .or_else(|| g.keys().find(|k| !w.contains_key(*k)).cloned())
            })
            .unwrap_or_else(|| "the line's form".into());
        return Err(at(format!(
            "field {field:?} differs from the signed bytes (or the line is not in the one raw-entry form)"
        )));
    }
    Ok(bytes)
}

/// Names a failure to rebuild the entries by file, line and seq.
fn entry_error(e: ExportError, size: u64) -> ExportError {
    let at = |seq: u64, what: String| ExportError::Bundle {
        file: files::ENTRIES.to_owned(),
        line: Some(seq + 1),
        seq: Some(seq),
        what,
    };
    match e {
        ExportError::Ledger(LedgerError::Refused(ChainError { seq, violation }))
        | ExportError::Ledger(LedgerError::Corrupt(ChainError { seq, violation })) => {
            match violation {
                Violation::CheckpointMismatch { size: cp } => ExportError::bundle(
                    files::CHECKPOINT,
                    format!(
                        "it covers {cp} entries with its root, but entries.jsonl holds {} whose root differs (entries missing or added at the end, or the checkpoint swapped)",
                        if seq < size { seq.to_string() } else { "others".into() }
                    ),
                ),
                v => at(seq, v.to_string()),
            }
        }
        ExportError::Ledger(LedgerError::Store(s)) => {
            ExportError::bundle(files::CHECKPOINT, s.to_string())
        }
        other => other,
    }
}

/// `report.html` compared, line by line, with the report rendered into this
/// ([`report::render_to`]), both sides normalised by
/// [`report::normalised_line`]: holds one line of each, not the report
/// (38 MB at 1,000,000 entries). The first difference is kept and named by
/// [`ReportComparer::finish`].
struct ReportComparer<R: BufRead> {
    found: std::io::Lines<R>,
    /// What was rendered after the last line end.
    partial: String,
    /// The number of the line compared next.
    line: u64,
    error: Option<ExportError>,
}

impl<R: BufRead> ReportComparer<R> {
    fn new(found: R) -> Self {
        ReportComparer {
            found: found.lines(),
            partial: String::new(),
            line: 1,
            error: None,
        }
    }

    fn at(&self, what: String) -> ExportError {
        ExportError::Bundle {
            file: files::REPORT.to_owned(),
            line: Some(self.line),
            seq: None,
            what,
        }
    }

    /// The file's next line MUST be `want`, once both are normalised.
    fn compare_line(&mut self, want: &str) -> Result<(), ExportError> {
        let found = match self.found.next() {
            None => return Err(self.at("the report ends early".into())),
            Some(Err(e)) => return Err(self.at(format!("not UTF-8 text: {e}"))),
            Some(Ok(l)) => l,
        };
        let found = report::normalised_line(&found).map_err(|e| self.at(e))?;
        if report::normalised_line(want).map_err(|e| self.at(e))? != found {
            return Err(self.at(
                "differs from the report recomputed from the entries (a table cell or text was changed)"
                    .into(),
            ));
        }
        self.line += 1;
        Ok(())
    }

    /// The first difference, if any: a line rendered without a line end is
    /// compared too, and the file MUST end where the rendering did.
    fn finish(mut self) -> Result<(), ExportError> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        if !self.partial.is_empty() {
            let last = std::mem::take(&mut self.partial);
            self.compare_line(&last)?;
        }
        match self.found.next() {
            None => Ok(()),
            Some(_) => Err(self.at("lines were added".into())),
        }
    }
}

impl<R: BufRead> std::fmt::Write for ReportComparer<R> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        if self.error.is_some() {
            return Err(std::fmt::Error);
        }
        let mut rest = s;
        while let Some(i) = rest.find('\n') {
            self.partial.push_str(&rest[..i]);
            rest = &rest[i + 1..];
            let mut line = std::mem::take(&mut self.partial);
            // As `str::lines` and `BufRead::lines` read a line: "\r\n" ends it too.
            if line.ends_with('\r') {
                line.pop();
            }
            if let Err(e) = self.compare_line(&line) {
                self.error = Some(e);
                return Err(std::fmt::Error);
            }
        }
        self.partial.push_str(rest);
        Ok(())
    }
}

fn sha256_file(path: &Path) -> Result<[u8; 32], ExportError> {
    let mut f = fs::File::open(path).map_err(io(path))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(io(path))?;
        if n == 0 {
            return Ok(h.finalize().into());
        }
        h.update(&buf[..n]);
    }
}
