//! The city-council oversight export (issue 10): a directory that council
//! staff can read (`report.html`), open in a spreadsheet (the CSV files) and
//! verify offline (`verify-export`), and `backup`, the consistent copy it is
//! computed from.
//!
//! - this file: the bundle's layout, the MANIFEST note, [`export`];
//! - `backup`: [`Ledger::backup`], a consistent, checked copy of a ledger;
//! - `tables`: every table of the bundle computed from a ledger as known at
//!   its checkpoint: the ONE function both `export` and `verify-export` use;
//! - `csv`: the CSV files (RFC 4180) and their cell-by-cell comparison;
//! - `report`: report.html, with its inline SVG timeline;
//! - `verify`: [`verify_export`], which rebuilds every entry of the bundle
//!   into a temporary ledger and recomputes every table from it.
//!
//! The byte formats are in docs/FORMAT.md ("Oversight export bundle"); what
//! each file means, for council staff and auditors, in docs/OVERSIGHT.md.

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::checkpoint::SignedCheckpoint;
use crate::entry::Entry;
use crate::event::Event;
use crate::ident::AuthorityName;
use crate::json::entry_line;
use crate::keys::{PublicKey, SecretKey};
use crate::ledger::{Ledger, LedgerError};
use crate::merkle::TreeHash;
use crate::note::{Note, VerifierKey};
use crate::time::{Timestamp, Zone};

mod backup;
mod csv;
mod report;
mod tables;
mod verify;

pub use backup::BackupReport;
pub use verify::{verify_export, VerifiedExport};

/// The first line of every MANIFEST. A checkpoint's first line is its
/// origin and its second a tree size, so a MANIFEST never parses as a
/// checkpoint (and a checkpoint never as a MANIFEST).
pub const MANIFEST_HEADER: &str = "access-ledger oversight export v1";
/// The bundle format version the MANIFEST names (`format 1`).
pub const EXPORT_FORMAT_VERSION: u32 = 1;
/// The version of the answers' semantics (docs/SEMANTICS.md) the tables were
/// computed with (`semantics 1`); `verify-export` refuses a version it does
/// not know rather than compare by other rules.
pub const SEMANTICS_VERSION: u32 = 1;

/// The file names of a bundle.
pub mod files {
    /// The signed manifest.
    pub const MANIFEST: &str = "MANIFEST";
    /// The checkpoint covering the bundle.
    pub const CHECKPOINT: &str = "checkpoint.txt";
    /// The consistency proof from `--since`, when given.
    pub const CONSISTENCY: &str = "consistency.proof";
    /// Every entry, one raw-entry line each (docs/FORMAT.md §7).
    pub const ENTRIES: &str = "entries.jsonl";
    /// The report for people.
    pub const REPORT: &str = "report.html";
    /// Every change of access in the period.
    pub const CHANGES: &str = "changes.csv";
    /// The access matrix at the period's start.
    pub const ACCESS_START: &str = "access-start.csv";
    /// The access matrix just before the period's end.
    pub const ACCESS_END: &str = "access-end.csv";
    /// Every permanent revocation and whether it was kept.
    pub const COMMITMENTS: &str = "commitments.csv";
    /// The back doors at the period's end.
    pub const EXPOSURES: &str = "exposures.csv";
    /// The authority keys and their changes.
    pub const AUTHORITIES: &str = "authorities.csv";
    /// The access-log audit of the period, when the export was given one: an
    /// attested file (the log is not in the bundle), shown in the report.
    pub const AUDIT: &str = "audit.json";
}

/// Why an export, a backup or the check of a bundle failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// The ledger failed (or refused, e.g. a key without the checkpoint role).
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A bad argument (period, output directory, `--since`).
    #[error("{0}")]
    Invalid(String),
    /// The bundle does not verify: the first thing found wrong, by file,
    /// line and seq where they apply.
    #[error(
        "{file}{}{}: {what}",
        .line.map(|l| format!(" line {l}")).unwrap_or_default(),
        .seq.map(|s| format!(" (seq {s})")).unwrap_or_default()
    )]
    Bundle {
        /// The file of the bundle.
        file: String,
        /// The line in it (1-based), if one is to blame.
        line: Option<u64>,
        /// The entry concerned, if one is.
        seq: Option<u64>,
        /// What is wrong.
        what: String,
    },
}

impl ExportError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        ExportError::Io {
            path: path.to_owned(),
            source,
        }
    }

    pub(crate) fn bundle(file: &str, what: impl Into<String>) -> Self {
        ExportError::Bundle {
            file: file.to_owned(),
            line: None,
            seq: None,
            what: what.into(),
        }
    }
}

/// What to export: the period `[from, to)`, the council's previous
/// checkpoint (`since`, a signed note) and sections that cannot be
/// recomputed from the entries (`attested`: file name and contents, e.g. a
/// future access-log audit), which the MANIFEST lists as attested and
/// `verify-export` only hash-checks.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// Start of the period (inclusive).
    pub from: Timestamp,
    /// End of the period (exclusive).
    pub to: Timestamp,
    /// The previous checkpoint the council accepted, if any.
    pub since: Option<String>,
    /// Attested sections: (file name, contents).
    pub attested: Vec<(String, Vec<u8>)>,
}

/// What `export` wrote.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ExportReport {
    /// The bundle directory.
    pub dir: PathBuf,
    /// Entries in the bundle (= the checkpoint's tree size).
    pub entries: u64,
    /// The knowledge time K of every answer: `recorded_at` of the last entry.
    pub known_at: Timestamp,
    /// The files, as the MANIFEST lists them.
    pub files: Vec<String>,
    /// The checkpoint's verifier key (for `verify-export --ledger-key`).
    pub ledger_key: String,
}

/// Progress of long work: a phase label, done, total.
pub type ProgressFn<'a> = &'a mut dyn FnMut(&'static str, u64, u64);

/// The phase that works through the instants of the period.
pub(crate) const CHANGES_PHASE: &str = "finding the changes of the period";
/// The phase that answers `what-can` for every subject, twice.
pub(crate) const MATRIX_PHASE: &str = "computing the access matrix";

/// What a phase reported through a progress function counts, for a progress line.
pub fn phase_unit(phase: &str) -> &'static str {
    match phase {
        CHANGES_PHASE => "instants",
        MATRIX_PHASE => "subjects",
        _ => "entries",
    }
}

/// Writes the oversight bundle of `ledger` for `opts` into `out` (a new or
/// empty directory).
///
/// Writers wait only while the checkpoint is signed and the ledger copied:
/// `ledger` (open, so its lock is held) signs a checkpoint of its head with
/// `key` (an authority with the checkpoint role; a checkpoint it signed of
/// this size already is reused, so the same period and checkpoint give the
/// same bytes), is copied with [`Ledger::backup`] beside `out`, and is then
/// released; every table is computed from the copy, as known at K (the
/// `recorded_at` of the last entry the checkpoint covers). The bundle is
/// written to `out.tmp`, checked with [`verify_export`] (every entry
/// replayed into a fresh ledger, every table recomputed from it: so no
/// answer signed here rests on derived data that was not rebuilt from the
/// entries) and only then renamed to `out`. The period MUST be over
/// (`to` <= now), so that the checkpoint covers every entry recorded before it.
pub fn export(
    mut ledger: Ledger,
    key: &SecretKey,
    opts: &ExportOptions,
    out: &Path,
    progress: ProgressFn<'_>,
) -> Result<ExportReport, ExportError> {
    if opts.from >= opts.to {
        return Err(ExportError::Invalid(format!(
            "empty period: --from {} is not before --to {}",
            opts.from, opts.to
        )));
    }
    let now = Timestamp::now();
    if opts.to > now {
        return Err(ExportError::Invalid(format!(
            "the period ends at {}, after now: export a period once it is over, so that its checkpoint covers every entry recorded in it",
            opts.to
        )));
    }
    require_new_dir(out)?;
    for (name, _) in &opts.attested {
        if !is_bundle_name(name) || bundle_names().contains(&name.as_str()) {
            return Err(ExportError::Invalid(format!(
                "attested section name {name:?} is not a free file name of [a-z0-9.-]"
            )));
        }
    }
    let cp = ledger.checkpoint(key)?;
    let signer = cp.signatures()[0].name().to_owned();
    let name =
        AuthorityName::new(signer.as_str()).map_err(|e| ExportError::Invalid(e.to_string()))?;
    let vkey = VerifierKey::new(name.clone(), key.public());
    let work = sibling(out, "export-work");
    if work.exists() {
        fs::remove_dir_all(&work).map_err(|e| ExportError::io(&work, e))?;
    }
    fs::create_dir_all(&work).map_err(|e| ExportError::io(&work, e))?;
    let result = (|| -> Result<(Vec<String>, u64, Timestamp), ExportError> {
        let copy_dir = work.join("ledger");
        // Writers may go on once this returns: everything else reads the copy.
        ledger.backup(&copy_dir)?;
        let copy = Ledger::open_to_scan(&copy_dir, Duration::ZERO)?;
        if copy.len() != cp.checkpoint().size() {
            return Err(ExportError::Invalid(format!(
                "the copy holds {} entries, the checkpoint {}",
                copy.len(),
                cp.checkpoint().size()
            )));
        }
        let since = match &opts.since {
            None => None,
            Some(note) => Some(since_checkpoint(&copy, note)?),
        };
        let tmp = sibling(out, "tmp");
        if tmp.exists() {
            fs::remove_dir_all(&tmp).map_err(|e| ExportError::io(&tmp, e))?;
        }
        fs::create_dir_all(&tmp).map_err(|e| ExportError::io(&tmp, e))?;
        let files = write_bundle(copy, &cp, since.as_ref(), opts, key, &name, &tmp, progress)?;
        verify_export(&tmp, &vkey, opts.since.as_deref(), progress).map_err(|e| {
            ExportError::Invalid(format!(
                "the bundle written does not verify, so it was not kept: {e}"
            ))
        })?;
        if out.exists() {
            fs::remove_dir(out).map_err(|e| ExportError::io(out, e))?;
        }
        fs::rename(&tmp, out).map_err(|e| ExportError::io(out, e))?;
        sync_parent(out)?;
        Ok(files)
    })();
    let _ = fs::remove_dir_all(&work);
    let (files, entries, known_at) = result?;
    Ok(ExportReport {
        dir: out.to_owned(),
        entries,
        known_at,
        files,
        ledger_key: vkey.to_string(),
    })
}

/// The council's previous checkpoint `note`, opened with the key of the
/// authority of `ledger` that signed it and checked against its tree.
fn since_checkpoint(ledger: &Ledger, note: &str) -> Result<SignedCheckpoint, ExportError> {
    let bad = |what: String| ExportError::Invalid(format!("--since: {what}"));
    let parsed = Note::parse(note).map_err(|e| bad(e.to_string()))?;
    let sig = parsed
        .signatures()
        .first()
        .ok_or_else(|| bad("no signature".into()))?;
    let name = AuthorityName::new(sig.name()).map_err(|e| bad(e.to_string()))?;
    let a = ledger.state().authorities().get(&name).ok_or_else(|| {
        bad(format!(
            "signed by {name}, which is no authority of this ledger"
        ))
    })?;
    let signed = SignedCheckpoint::open(note, &VerifierKey::new(name, a.key))
        .map_err(|e| bad(e.to_string()))?;
    let c = signed.checkpoint();
    if Some(c.origin()) != ledger.state().origin() {
        return Err(bad(format!("origin {} is not this ledger's", c.origin())));
    }
    if c.size() > ledger.len() || &ledger.trusted_root(c.size())? != c.root() {
        return Err(bad(format!(
            "not a checkpoint of this ledger's history: its root of {} entries differs (a forked history)",
            c.size()
        )));
    }
    Ok(signed)
}

/// Writes every file of the bundle into `dir` from `copy` (consumed by the
/// tables: see [`tables::Tables::compute`]); returns the file names, the
/// number of entries and K.
#[allow(clippy::too_many_arguments)]
fn write_bundle(
    copy: Ledger,
    cp: &SignedCheckpoint,
    since: Option<&SignedCheckpoint>,
    opts: &ExportOptions,
    key: &SecretKey,
    name: &AuthorityName,
    dir: &Path,
    progress: ProgressFn<'_>,
) -> Result<(Vec<String>, u64, Timestamp), ExportError> {
    let size = cp.checkpoint().size();
    let mut verified: BTreeMap<String, [u8; 32]> = BTreeMap::new();
    let put = |verified: &mut BTreeMap<String, [u8; 32]>, file: &str, bytes: &[u8]| {
        let path = dir.join(file);
        fs::write(&path, bytes).map_err(|e| ExportError::io(&path, e))?;
        verified.insert(file.to_owned(), Sha256::digest(bytes).into());
        Ok::<(), ExportError>(())
    };
    // entries.jsonl, streamed.
    let path = dir.join(files::ENTRIES);
    let mut w = create_hashed(&path)?;
    let mut names = SignerNames::default();
    for seq in 0..size {
        let e = copy
            .entry(seq)?
            .ok_or_else(|| ExportError::Invalid(format!("entry {seq} is missing from the copy")))?;
        names.learn(&e);
        let line = entry_line(&e, names.name_of(e.signer()));
        w.write_all(line.as_bytes())
            .and_then(|_| w.write_all(b"\n"))
            .map_err(|e| ExportError::io(&path, e))?;
        if seq % 4096 == 0 {
            progress("writing entries.jsonl", seq, size);
        }
    }
    progress("writing entries.jsonl", size, size);
    let digest = w.finish().map_err(|e| ExportError::io(&path, e))?;
    verified.insert(files::ENTRIES.to_owned(), digest);
    put(&mut verified, files::CHECKPOINT, cp.to_string().as_bytes())?;
    let mut since_line = None;
    if let Some(old) = since {
        let c = old.checkpoint();
        let proof = copy.prove_consistency(c.size(), size)?;
        put(
            &mut verified,
            files::CONSISTENCY,
            proof.to_text().as_bytes(),
        )?;
        since_line = Some(format!("since {} {}", c.size(), c.root()));
    }
    let mut matrix = MatrixFiles {
        dir,
        zone: copy.state().zone().clone(),
        open: None,
        verified: &mut verified,
    };
    let t = tables::Tables::compute(copy, cp, opts.from, opts.to, &mut matrix, progress)?;
    for table in t.csv_tables() {
        let path = dir.join(table.file);
        let mut w = create_csv(&path, table.header, &t.zone)?;
        for row in &table.rows {
            w.row(row).map_err(|e| ExportError::io(&path, e))?;
        }
        verified.insert(table.file.to_owned(), finish_csv(w, &path)?);
    }
    let audit = audit_json(|f| {
        opts.attested
            .iter()
            .find(|(n, _)| n == f)
            .map(|(_, b)| b.clone())
    })?;
    // report.html, streamed (38 MB at 1,000,000 entries).
    let path = dir.join(files::REPORT);
    let mut w = FmtWriter {
        w: create_hashed(&path)?,
        error: None,
    };
    report::render_to(&mut w, &t, audit.as_ref()).map_err(tables::spill_error)?;
    let digest = match w.error {
        Some(e) => Err(e),
        None => w.w.finish(),
    }
    .map_err(|e| ExportError::io(&path, e))?;
    verified.insert(files::REPORT.to_owned(), digest);
    let mut attested = BTreeMap::new();
    for (file, bytes) in &opts.attested {
        let path = dir.join(file);
        fs::write(&path, bytes).map_err(|e| ExportError::io(&path, e))?;
        attested.insert(file.clone(), <[u8; 32]>::from(Sha256::digest(bytes)));
    }
    let manifest = Manifest {
        origin: t.origin.clone(),
        from: opts.from,
        to: opts.to,
        zone: t.zone.name().to_owned(),
        size,
        root: *cp.checkpoint().root(),
        known_at: t.known_at,
        since: since_line.map(|_| {
            let c = since
                .expect("since_line is set only with since")
                .checkpoint();
            (c.size(), *c.root())
        }),
        verified,
        attested,
    };
    let named = SecretKey::from_secret_named(key, name.clone());
    let note = Note::sign(manifest.to_text(), &named);
    let path = dir.join(files::MANIFEST);
    fs::write(&path, note.to_string()).map_err(|e| ExportError::io(&path, e))?;
    let mut listed: Vec<String> = manifest.verified.keys().cloned().collect();
    listed.extend(manifest.attested.keys().cloned());
    listed.push(files::MANIFEST.to_owned());
    listed.sort();
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| ExportError::io(dir, e))?;
    Ok((listed, size, t.known_at))
}

/// The MANIFEST's text (signed as a note by the checkpoint key):
///
/// ```text
/// access-ledger oversight export v1
/// format 1
/// semantics 1
/// origin <origin>
/// zone <IANA zone>
/// period <from RFC 3339> <to RFC 3339>
/// checkpoint <size> <root base64>
/// known-at <RFC 3339>
/// since <size> <root base64>            (only with a consistency proof)
/// verified <sha256 hex> <file name>     (one line per file, by name)
/// attested <sha256 hex> <file name>     (one line per file, by name)
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Manifest {
    pub(crate) origin: String,
    pub(crate) from: Timestamp,
    pub(crate) to: Timestamp,
    pub(crate) zone: String,
    pub(crate) size: u64,
    pub(crate) root: TreeHash,
    pub(crate) known_at: Timestamp,
    pub(crate) since: Option<(u64, TreeHash)>,
    pub(crate) verified: BTreeMap<String, [u8; 32]>,
    pub(crate) attested: BTreeMap<String, [u8; 32]>,
}

impl Manifest {
    pub(crate) fn to_text(&self) -> String {
        let mut s = format!(
            "{MANIFEST_HEADER}\nformat {EXPORT_FORMAT_VERSION}\nsemantics {SEMANTICS_VERSION}\norigin {}\nzone {}\nperiod {} {}\ncheckpoint {} {}\nknown-at {}\n",
            self.origin,
            self.zone,
            self.from.rfc3339(),
            self.to.rfc3339(),
            self.size,
            self.root,
            self.known_at.rfc3339()
        );
        if let Some((size, root)) = &self.since {
            s.push_str(&format!("since {size} {root}\n"));
        }
        for (kind, map) in [("verified", &self.verified), ("attested", &self.attested)] {
            for (file, h) in map {
                s.push_str(&format!("{kind} {} {file}\n", hex::encode(h)));
            }
        }
        s
    }

    /// Parses the text of a MANIFEST note (already verified), strictly.
    pub(crate) fn parse(text: &str) -> Result<Manifest, String> {
        let mut lines = text
            .strip_suffix('\n')
            .ok_or("no final newline")?
            .split('\n');
        let mut next = |what: &str| lines.next().ok_or(format!("no {what} line"));
        if next("first")? != MANIFEST_HEADER {
            return Err(format!("the first line is not {MANIFEST_HEADER:?}"));
        }
        let field = |line: &str, key: &str| -> Result<String, String> {
            line.strip_prefix(key)
                .and_then(|r| r.strip_prefix(' '))
                .map(str::to_owned)
                .ok_or(format!("expected a {key:?} line, found {line:?}"))
        };
        let format = field(next("format")?, "format")?;
        if format != EXPORT_FORMAT_VERSION.to_string() {
            return Err(format!(
                "bundle format {format}; this verifier reads format {EXPORT_FORMAT_VERSION}"
            ));
        }
        let semantics = field(next("semantics")?, "semantics")?;
        if semantics != SEMANTICS_VERSION.to_string() {
            return Err(format!(
                "the tables were computed with semantics version {semantics}; this verifier knows version {SEMANTICS_VERSION} only"
            ));
        }
        let origin = field(next("origin")?, "origin")?;
        let zone = field(next("zone")?, "zone")?;
        let time = |s: &str| Timestamp::parse_rfc3339(s).map_err(|e| e.to_string());
        let period = field(next("period")?, "period")?;
        let (from, to) = period.split_once(' ').ok_or("bad period line")?;
        let (from, to) = (time(from)?, time(to)?);
        let size_root = |s: &str| -> Result<(u64, TreeHash), String> {
            let (n, r) = s.split_once(' ').ok_or("expected a size and a root")?;
            let n = n.parse::<u64>().map_err(|_| format!("bad size {n:?}"))?;
            Ok((
                n,
                TreeHash::from_base64(r).ok_or(format!("bad root {r:?}"))?,
            ))
        };
        let (size, root) = size_root(&field(next("checkpoint")?, "checkpoint")?)?;
        let known_at = time(&field(next("known-at")?, "known-at")?)?;
        let mut since = None;
        let mut verified: BTreeMap<String, [u8; 32]> = BTreeMap::new();
        let mut attested: BTreeMap<String, [u8; 32]> = BTreeMap::new();
        for line in lines {
            if let Some(rest) = line.strip_prefix("since ") {
                if since.is_some() || !verified.is_empty() || !attested.is_empty() {
                    return Err("a misplaced since line".into());
                }
                since = Some(size_root(rest)?);
                continue;
            }
            let (kind, rest) = line.split_once(' ').ok_or(format!("bad line {line:?}"))?;
            let (h, file) = rest.split_once(' ').ok_or(format!("bad line {line:?}"))?;
            let h: [u8; 32] = hex::decode(h)
                .ok()
                .and_then(|v| v.try_into().ok())
                .ok_or(format!("bad hash in {line:?}"))?;
            if !is_bundle_name(file) || file == files::MANIFEST {
                return Err(format!("bad file name {file:?}"));
            }
            let map = match kind {
                "verified" => &mut verified,
                "attested" if !bundle_names().contains(&file) => &mut attested,
                _ => return Err(format!("bad line {line:?}")),
            };
            let order_ok = map
                .keys()
                .next_back()
                .is_none_or(|last| last.as_str() < file);
            if !order_ok || map.insert(file.to_owned(), h).is_some() {
                return Err(format!("file {file} listed out of order or twice"));
            }
        }
        let m = Manifest {
            origin,
            from,
            to,
            zone,
            size,
            root,
            known_at,
            since,
            verified,
            attested,
        };
        if m.verified.keys().any(|f| m.attested.contains_key(f)) {
            return Err("a file is listed as both verified and attested".into());
        }
        Ok(m)
    }
}

/// The attested audit section's JSON, if the bundle has one (`attested`
/// gives a file's bytes by name); the report renders it.
pub(crate) fn audit_json(
    attested: impl Fn(&str) -> Option<Vec<u8>>,
) -> Result<Option<serde_json::Value>, ExportError> {
    attested(files::AUDIT)
        .map(|b| {
            serde_json::from_slice(&b)
                .map_err(|e| ExportError::bundle(files::AUDIT, format!("not JSON: {e}")))
        })
        .transpose()
}

/// The names of the files a bundle is made of (besides MANIFEST and attested
/// sections).
pub(crate) fn bundle_names() -> [&'static str; 10] {
    [
        files::CHECKPOINT,
        files::CONSISTENCY,
        files::ENTRIES,
        files::REPORT,
        files::CHANGES,
        files::ACCESS_START,
        files::ACCESS_END,
        files::COMMITMENTS,
        files::EXPOSURES,
        files::AUTHORITIES,
    ]
}

/// A bundle file name: 1 to 64 of `a-z 0-9 . -`, not starting with a dot.
pub(crate) fn is_bundle_name(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && !s.starts_with('.')
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
}

/// The authority name of each key, learnt from the genesis and
/// `authority_add` entries in log order: the `signer` of a raw-entry line.
#[derive(Default)]
pub(crate) struct SignerNames(BTreeMap<PublicKey, AuthorityName>);

impl SignerNames {
    /// Learns the key an entry names, before its own line is written (the
    /// genesis is signed by the key it names).
    pub(crate) fn learn(&mut self, e: &Entry) {
        match e.body() {
            Event::Genesis { authority, key, .. } => {
                self.0.insert(*key, authority.clone());
            }
            Event::AuthorityAdd { name, key, .. } => {
                self.0.entry(*key).or_insert_with(|| name.clone());
            }
            _ => {}
        }
    }

    pub(crate) fn name_of(&self, key: &PublicKey) -> Option<&AuthorityName> {
        self.0.get(key)
    }
}

/// The access-matrix files of a bundle being written, one row at a time,
/// each file's hash entered in `verified` when it ends.
struct MatrixFiles<'a> {
    dir: &'a Path,
    zone: Zone,
    open: Option<(&'static str, csv::Writer<HashedFile>)>,
    verified: &'a mut BTreeMap<String, [u8; 32]>,
}

impl MatrixFiles<'_> {
    /// The writer of `file`, created (with its header) on first use.
    fn writer(&mut self, file: &'static str) -> Result<&mut csv::Writer<HashedFile>, ExportError> {
        if self.open.as_ref().is_none_or(|(f, _)| *f != file) {
            let w = create_csv(&self.dir.join(file), tables::MATRIX_HEADER, &self.zone)?;
            self.open = Some((file, w));
        }
        Ok(&mut self.open.as_mut().expect("just opened").1)
    }
}

impl tables::MatrixRows for MatrixFiles<'_> {
    fn row(&mut self, file: &'static str, row: &[tables::Cell]) -> Result<(), ExportError> {
        let path = self.dir.join(file);
        self.writer(file)?
            .row(row)
            .map_err(|e| ExportError::io(&path, e))
    }

    fn end(&mut self, file: &'static str) -> Result<(), ExportError> {
        let path = self.dir.join(file);
        self.writer(file)?;
        let (_, w) = self.open.take().expect("just opened");
        self.verified.insert(file.to_owned(), finish_csv(w, &path)?);
        Ok(())
    }
}

/// A file of the bundle being written, hashed as it is.
type HashedFile = HashingWriter<BufWriter<fs::File>>;

/// Creates the file `path` of the bundle, to be hashed as it is written.
fn create_hashed(path: &Path) -> Result<HashedFile, ExportError> {
    let file = fs::File::create(path).map_err(|e| ExportError::io(path, e))?;
    Ok(HashingWriter::new(BufWriter::new(file)))
}

/// Creates the CSV file `path` of the bundle, with `header` as its first row.
fn create_csv(
    path: &Path,
    header: &[&str],
    zone: &Zone,
) -> Result<csv::Writer<HashedFile>, ExportError> {
    Ok(csv::Writer::new(create_hashed(path)?, header, zone.clone()))
}

/// Writes out the CSV file `path`; returns its SHA-256.
fn finish_csv(w: csv::Writer<HashedFile>, path: &Path) -> Result<[u8; 32], ExportError> {
    w.finish()
        .and_then(HashingWriter::finish)
        .map_err(|e| ExportError::io(path, e))
}

/// A writer that hashes what it writes (SHA-256).
struct HashingWriter<W: Write> {
    inner: W,
    hash: Sha256,
}

impl<W: Write> HashingWriter<W> {
    fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hash: Sha256::new(),
        }
    }

    fn finish(mut self) -> std::io::Result<[u8; 32]> {
        self.inner.flush()?;
        Ok(self.hash.finalize().into())
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A [`std::fmt::Write`] onto an [`std::io::Write`]: the report renders
/// into it. The first I/O error is kept (and the rest of the text dropped)
/// for the caller to report with the file's name.
struct FmtWriter<W: Write> {
    w: W,
    error: Option<std::io::Error>,
}

impl<W: Write> std::fmt::Write for FmtWriter<W> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        if self.error.is_none() {
            if let Err(e) = self.w.write_all(s.as_bytes()) {
                self.error = Some(e);
            }
        }
        match self.error {
            Some(_) => Err(std::fmt::Error),
            None => Ok(()),
        }
    }
}

/// `dir` exists only as an empty directory, or not at all.
pub(crate) fn require_new_dir(dir: &Path) -> Result<(), ExportError> {
    if dir.exists() {
        let mut it = fs::read_dir(dir).map_err(|e| ExportError::io(dir, e))?;
        if it.next().is_some() {
            return Err(ExportError::Invalid(format!(
                "{} exists and is not empty; choose a new or empty directory",
                dir.display()
            )));
        }
    }
    Ok(())
}

/// `<dir>.<suffix>`, beside `dir`.
pub(crate) fn sibling(dir: &Path, suffix: &str) -> PathBuf {
    let mut name = dir
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "export".into());
    name.push(format!(".{suffix}"));
    dir.with_file_name(name)
}

pub(crate) fn sync_parent(path: &Path) -> Result<(), ExportError> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    fs::File::open(parent)
        .and_then(|d| d.sync_all())
        .map_err(|e| ExportError::io(parent, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::Checkpoint;

    fn manifest() -> Manifest {
        Manifest {
            origin: "example.org/log".into(),
            from: Timestamp::from_micros(0),
            to: Timestamp::from_micros(1_000_000),
            zone: "America/Chicago".into(),
            size: 3,
            root: TreeHash::leaf(b"x"),
            known_at: Timestamp::from_micros(5),
            since: Some((2, TreeHash::leaf(b"y"))),
            verified: BTreeMap::from([
                ("a.csv".to_owned(), [1; 32]),
                ("b.csv".to_owned(), [2; 32]),
            ]),
            attested: BTreeMap::from([("audit.csv".to_owned(), [3; 32])]),
        }
    }

    #[test]
    fn a_manifest_round_trips_and_is_never_a_checkpoint() {
        let m = manifest();
        let text = m.to_text();
        assert_eq!(Manifest::parse(&text).unwrap(), m);
        assert!(text.starts_with("access-ledger oversight export v1\nformat 1\n"));
        assert!(
            Checkpoint::parse(&text).is_err(),
            "a MANIFEST parsed as a checkpoint"
        );
        let cp = Checkpoint::new("example.org/log".parse().unwrap(), 3, TreeHash::leaf(b"x"));
        assert!(Manifest::parse(&cp.to_body()).is_err());
    }

    #[test]
    fn a_manifest_with_a_changed_line_is_refused() {
        let text = manifest().to_text();
        for (from, to) in [
            ("semantics 1", "semantics 2"),
            ("format 1", "format 9"),
            ("verified 0101", "verified 01"),
            ("b.csv", "../b.csv"),
            ("b.csv", "a.csv"),
            ("attested", "unknown"),
        ] {
            let bad = text.replacen(from, to, 1);
            assert!(Manifest::parse(&bad).is_err(), "{from} -> {to}");
        }
    }
}
