//! `audit`: replay a real access log against the ledger (docs/AUDIT.md).

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use access_ledger::{
    audit, AccessLog, AuditError, AuditOptions, AuditReport, AuditSink, BadRow, Finding, Ledger,
    LogError, LogFormat, Mapping, Outcome, OutcomeCounts, Timestamp,
};
use serde::Serialize;

use super::args::{Audit, LogFormatArg};
use super::output::{self, escape, Format};
use super::time::Clock;
use super::{exit, Context, Failure};

/// Terminal listings show at most this many subjects and resources.
const LISTED: usize = 20;

impl Audit {
    /// Audits the log and prints the summary; exit 0 when the audit ran.
    pub fn run(self, ctx: &Context) -> Result<u8, Failure> {
        let mapping = read_mapping(&self.mapping)?;
        let ledger = ctx.open()?;
        let clock = Clock::new(ledger.zone());
        let known_at = match &self.known_at {
            None => None,
            Some(t) => Some(known_at(&ledger, &clock, clock.resolve(t)?)?),
        };
        let name = self.log.display().to_string();
        let log = open_log(&self.log, self.format, &mapping)?;
        let mut sink = CliSink {
            out: match &self.out {
                Some(dir) => Some(OutFiles::create(dir)?),
                None => None,
            },
            progress: TerminalProgress::new(&name, log.1),
            name: name.clone(),
            error: None,
        };
        let opts = AuditOptions {
            known_at,
            skip_bad: self.skip_bad,
            period: None,
        };
        let report = match audit(&ledger, log.0, &mapping, &opts, &mut sink) {
            Ok(r) => r,
            Err(e) => {
                sink.progress.clear();
                return Err(sink.error.take().unwrap_or_else(|| audit_failure(&name, e)));
            }
        };
        sink.progress.clear();
        if let Some(out) = sink.out.take() {
            out.finish(&report)?;
        }
        let mut stdout = io::stdout().lock();
        match self.json {
            Format::Json => output::json(&mut stdout, &report)?,
            Format::Text => print_summary(&mut stdout, &ledger, &clock, &name, &report)?,
        }
        Ok(exit::OK)
    }
}

/// Reads the mapping: JSON for a `.json` file, TOML otherwise.
/// The audit of the part of `log` in `period`, for the council export's
/// attested section: each row judged at its own time and again as known at
/// `known_at` (the export's K), with progress on a terminal.
pub fn audit_period(
    ledger: &Ledger,
    log: &Path,
    mapping: &Path,
    format: Option<LogFormatArg>,
    skip_bad: bool,
    period: (Timestamp, Timestamp),
    known_at: Timestamp,
) -> Result<AuditReport, Failure> {
    let mapping = read_mapping(mapping)?;
    let name = log.display().to_string();
    let (log, size) = open_log(log, format, &mapping)?;
    let mut sink = CliSink {
        out: None,
        progress: TerminalProgress::new(&name, size),
        name: name.clone(),
        error: None,
    };
    let opts = AuditOptions {
        known_at: Some(known_at),
        skip_bad,
        period: Some(period),
    };
    let report = audit(ledger, log, &mapping, &opts, &mut sink);
    sink.progress.clear();
    report.map_err(|e| sink.error.take().unwrap_or_else(|| audit_failure(&name, e)))
}

/// An access log read from a file or standard input.
type OpenLog = AccessLog<Box<dyn Read>>;

/// The access log at `path` (`-`: standard input) in `format` (default: the
/// mapping's, else by the file's extension), and its size when known.
fn open_log(
    path: &Path,
    format: Option<LogFormatArg>,
    mapping: &Mapping,
) -> Result<(OpenLog, Option<u64>), Failure> {
    let name = path.display().to_string();
    let format = match (format, mapping.format()) {
        (Some(LogFormatArg::Csv), _) => LogFormat::Csv,
        (Some(LogFormatArg::Jsonl), _) => LogFormat::Jsonl,
        (None, Some(f)) => f,
        (None, None) => by_extension(path),
    };
    let (input, size): (Box<dyn Read>, Option<u64>) = if name == "-" {
        (Box::new(io::stdin().lock()), None)
    } else {
        let f = File::open(path)
            .map_err(|e| Failure::new(exit::UNAVAILABLE, format!("cannot read {name}: {e}")))?;
        let size = f.metadata().ok().map(|m| m.len());
        (Box::new(f), size)
    };
    let log =
        AccessLog::new(input, format, mapping.columns()).map_err(|e| log_failure(&name, e))?;
    Ok((log, size))
}

fn read_mapping(path: &Path) -> Result<Mapping, Failure> {
    let text = super::files::read_text(path)?;
    let parsed = if path.extension().is_some_and(|e| e == "json") {
        Mapping::from_json(&text)
    } else {
        Mapping::from_toml(&text)
    };
    parsed.map_err(|e| {
        Failure::usage(format!("mapping {}: {e}", path.display()))
            .hint("docs/AUDIT.md describes the mapping file")
    })
}

fn by_extension(p: &Path) -> LogFormat {
    match p.extension().and_then(|e| e.to_str()) {
        Some("jsonl" | "ndjson") => LogFormat::Jsonl,
        _ => LogFormat::Csv,
    }
}

/// A later knowledge time, never before the ledger began.
fn known_at(ledger: &Ledger, clock: &Clock, k: Timestamp) -> Result<Timestamp, Failure> {
    let genesis = ledger
        .entry(0)?
        .ok_or_else(|| Failure::new(exit::UNAVAILABLE, "the ledger has no genesis entry"))?
        .recorded_at();
    if k < genesis {
        let zone = clock.zone();
        return Err(Failure::usage(format!(
            "--known-at {} is before the ledger began ({}): it knew nothing then",
            k.local(zone),
            genesis.local(zone)
        )));
    }
    Ok(k)
}

fn log_failure(name: &str, e: LogError) -> Failure {
    match e {
        LogError::Io(e) => Failure::new(exit::UNAVAILABLE, format!("cannot read {name}: {e}")),
        e => Failure::usage(format!("{name}: {e}")),
    }
}

fn audit_failure(name: &str, e: AuditError) -> Failure {
    match e {
        AuditError::BadRow(b) => {
            Failure::usage(format!("{name} line {}: {}", b.line, escape(&b.message)))
                .hint("--skip-bad counts and lists malformed rows and goes on")
        }
        AuditError::Log(e) => log_failure(name, e),
        AuditError::Query(e) => e.into(),
        AuditError::Ledger(e) => e.into(),
        e @ AuditError::NoZone(_) => {
            Failure::usage(e).hint("set time_zone in the mapping's [log] section")
        }
        e => Failure::new(exit::UNAVAILABLE, e),
    }
}

/// Where the command line sends findings: `--out` files, malformed rows on
/// standard error, progress on a terminal.
struct CliSink {
    out: Option<OutFiles>,
    progress: TerminalProgress,
    name: String,
    /// A failure to write `--out`, kept whole (the library sees only text).
    error: Option<Failure>,
}

impl AuditSink for CliSink {
    fn finding(&mut self, f: &Finding) -> Result<(), String> {
        let Some(out) = &mut self.out else {
            return Ok(());
        };
        if f.plainly_authorised() {
            return Ok(());
        }
        out.finding(f).map_err(|e| self.keep(e))
    }

    fn bad_row(&mut self, b: &BadRow) -> Result<(), String> {
        self.progress.clear();
        output::note(format!(
            "skipped: {} line {}: {}",
            self.name,
            b.line,
            escape(&b.message)
        ));
        match &mut self.out {
            Some(out) => out.bad_row(b).map_err(|e| self.keep(e)),
            None => Ok(()),
        }
    }

    fn progress(&mut self, rows: u64, bytes: u64) {
        self.progress.update(rows, bytes);
    }
}

impl CliSink {
    fn keep(&mut self, e: Failure) -> String {
        let text = format!("{e:?}");
        self.error = Some(e);
        text
    }
}

/// The files of `--out`, written as `NAME.partial` and renamed when the
/// audit has finished, so a stopped audit leaves no file that looks whole.
struct OutFiles {
    dir: PathBuf,
    csv: csv::Writer<BufWriter<File>>,
    jsonl: BufWriter<File>,
    malformed: BufWriter<File>,
}

const FINDINGS_CSV: &str = "findings.csv";
const FINDINGS_JSONL: &str = "findings.jsonl";
const MALFORMED_JSONL: &str = "malformed.jsonl";
const SUMMARY_JSON: &str = "summary.json";

/// The columns of findings.csv.
const CSV_HEADER: [&str; 19] = [
    "line",
    "time",
    "account",
    "agency",
    "object",
    "action",
    "on_behalf_of",
    "subject",
    "resource",
    "right",
    "at",
    "outcome",
    "reason",
    "seq",
    "because",
    "acting_for",
    "acting_for_allowed",
    "known_later_outcome",
    "explanation",
];

fn partial(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.partial"))
}

impl OutFiles {
    fn create(dir: &Path) -> Result<OutFiles, Failure> {
        let unavailable = |p: &Path, e: io::Error| {
            Failure::new(
                exit::UNAVAILABLE,
                format!("cannot write {}: {e}", p.display()),
            )
        };
        std::fs::create_dir_all(dir).map_err(|e| unavailable(dir, e))?;
        let open = |name: &str| {
            let p = partial(dir, name);
            File::create(&p)
                .map(|f| BufWriter::with_capacity(1 << 16, f))
                .map_err(|e| unavailable(&p, e))
        };
        let mut csv = csv::Writer::from_writer(open(FINDINGS_CSV)?);
        csv.write_record(CSV_HEADER)
            .map_err(|e| write_failure(dir, FINDINGS_CSV, e.to_string()))?;
        Ok(OutFiles {
            dir: dir.to_owned(),
            csv,
            jsonl: open(FINDINGS_JSONL)?,
            malformed: open(MALFORMED_JSONL)?,
        })
    }

    fn finding(&mut self, f: &Finding) -> Result<(), Failure> {
        #[derive(Serialize)]
        struct Line<'a> {
            #[serde(flatten)]
            finding: &'a Finding,
            explanation: String,
        }
        let line = Line {
            finding: f,
            explanation: f.explain(),
        };
        // Plain data with string keys: it always serialises.
        let text = serde_json::to_string(&line).expect("findings serialise to JSON");
        writeln!(self.jsonl, "{text}")
            .map_err(|e| write_failure(&self.dir, FINDINGS_JSONL, e.to_string()))?;
        self.csv
            .write_record(csv_record(f))
            .map_err(|e| write_failure(&self.dir, FINDINGS_CSV, e.to_string()))
    }

    fn bad_row(&mut self, b: &BadRow) -> Result<(), Failure> {
        let text = serde_json::to_string(b).expect("a bad row serialises to JSON");
        writeln!(self.malformed, "{text}")
            .map_err(|e| write_failure(&self.dir, MALFORMED_JSONL, e.to_string()))
    }

    /// Flushes the files, writes summary.json, and gives each its name.
    fn finish(self, report: &AuditReport) -> Result<(), Failure> {
        let dir = self.dir;
        let fail = |name: &str, e: String| write_failure(&dir, name, e);
        let flush = |w: BufWriter<File>, name: &str| -> Result<(), Failure> {
            let f = w.into_inner().map_err(|e| fail(name, e.to_string()))?;
            f.sync_all().map_err(|e| fail(name, e.to_string()))
        };
        let csv = self
            .csv
            .into_inner()
            .map_err(|e| fail(FINDINGS_CSV, e.to_string()))?;
        flush(csv, FINDINGS_CSV)?;
        flush(self.jsonl, FINDINGS_JSONL)?;
        flush(self.malformed, MALFORMED_JSONL)?;
        let text = serde_json::to_string_pretty(report).expect("the summary serialises to JSON");
        std::fs::write(partial(&dir, SUMMARY_JSON), text + "\n")
            .map_err(|e| fail(SUMMARY_JSON, e.to_string()))?;
        for name in [FINDINGS_CSV, FINDINGS_JSONL, MALFORMED_JSONL, SUMMARY_JSON] {
            std::fs::rename(partial(&dir, name), dir.join(name))
                .map_err(|e| fail(name, e.to_string()))?;
        }
        Ok(())
    }
}

fn write_failure(dir: &Path, name: &str, e: String) -> Failure {
    Failure::new(
        exit::UNAVAILABLE,
        format!("cannot write {}: {e}", dir.join(name).display()),
    )
}

fn csv_record(f: &Finding) -> Vec<String> {
    let opt = |x: Option<&str>| x.unwrap_or_default().to_owned();
    let judged = f.outcome.judgements();
    let first = judged.first();
    let reason = first.and_then(|j| j.reason());
    let seqs = |v: &[u64]| v.iter().map(u64::to_string).collect::<Vec<_>>().join(" ");
    let because = first.map_or_else(String::new, |j| {
        let mut all: Vec<u64> = j.account.because().to_vec();
        if let Some(a) = &j.on_behalf_of {
            all.extend(a.verdict.because());
        }
        seqs(&all)
    });
    let acting = first.and_then(|j| j.on_behalf_of.as_ref());
    vec![
        f.row.line.to_string(),
        f.row.time.clone(),
        f.row.account.clone(),
        opt(f.row.agency.as_deref()),
        f.row.object.clone(),
        f.row.action.clone(),
        opt(f.row.on_behalf_of.as_deref()),
        opt(f.subject.as_ref().map(|s| s.as_str())),
        opt(f.resource.as_ref().map(|s| s.as_str())),
        opt(f.right.as_ref().map(|s| s.as_str())),
        first.map_or_else(String::new, |j| j.at.rfc3339()),
        f.outcome.kind().name().to_owned(),
        reason.map_or_else(String::new, |r| r.name().to_owned()),
        reason
            .and_then(|r| r.seq())
            .map_or_else(String::new, |s| s.to_string()),
        because,
        acting.map_or_else(String::new, |a| a.agency.to_string()),
        acting.map_or_else(String::new, |a| a.verdict.allowed().to_string()),
        f.known_later
            .as_ref()
            .map_or_else(String::new, outcome_text),
        f.explain(),
    ]
}

fn outcome_text(o: &Outcome) -> String {
    match o {
        Outcome::Judged(j) => match j.reason() {
            Some(r) => format!("{} ({r})", j.kind().name()),
            None => j.kind().name().to_owned(),
        },
        o => o.kind().name().to_owned(),
    }
}

/// Rows read and share of the file, on standard error, only on a terminal.
struct TerminalProgress {
    enabled: bool,
    name: String,
    size: Option<u64>,
    last: Instant,
    shown: bool,
}

impl TerminalProgress {
    fn new(name: &str, size: Option<u64>) -> Self {
        TerminalProgress {
            enabled: io::stderr().is_terminal(),
            name: name.to_owned(),
            size,
            last: Instant::now(),
            shown: false,
        }
    }

    fn update(&mut self, rows: u64, bytes: u64) {
        if !self.enabled || self.last.elapsed() < Duration::from_millis(200) {
            return;
        }
        self.last = Instant::now();
        self.shown = true;
        let pct = match self.size {
            Some(s) if s > 0 => format!(" ({}%)", bytes * 100 / s),
            _ => String::new(),
        };
        let _ = write!(io::stderr(), "\rauditing {}: {rows} rows{pct}", self.name);
    }

    /// Ends the progress line, if one was shown.
    fn clear(&mut self) {
        if self.shown {
            let _ = writeln!(io::stderr());
            self.shown = false;
        }
    }
}

fn counts_text(c: &OutcomeCounts) -> String {
    let mut parts = vec![format!("{} authorised", c.authorised)];
    for (n, what) in [
        (c.unauthorised, "unauthorised"),
        (c.side_door, "side door"),
        (c.ambiguous_time, "ambiguous time"),
        (c.unmappable, "unmappable"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    }
    parts.join(", ")
}

fn print_summary(
    out: &mut impl Write,
    ledger: &Ledger,
    clock: &Clock,
    name: &str,
    r: &AuditReport,
) -> Result<(), Failure> {
    let zone = clock.zone();
    writeln!(
        out,
        "audited {} row(s) of {} against {} entries (head {})",
        r.rows,
        escape(name),
        r.ledger.entries,
        &r.ledger.head[..16]
    )?;
    if let Some((a, b)) = r.period {
        writeln!(out, "period: {} to {}", a.local(zone), b.local(zone))?;
    }
    if r.violations.is_empty() {
        writeln!(out, "violations of permanent commitments: none")?;
    } else {
        writeln!(out, "VIOLATIONS of permanent commitments (bans):")?;
        for v in &r.violations {
            let summary = ledger
                .entry(v.ban)?
                .map(|e| e.body().summary())
                .unwrap_or_default();
            writeln!(
                out,
                "  ban seq {} ({}): {} access(es) by covered accounts, {} side-door access(es) for a covered agency, {} to {}",
                v.ban,
                escape(&summary),
                v.rows,
                v.side_door_rows,
                v.first.local(zone),
                v.last.local(zone)
            )?;
            for (s, n) in &v.subjects {
                writeln!(out, "    {s}: {n}")?;
            }
        }
    }
    writeln!(out, "outcomes: {}", counts_text(&r.outcomes))?;
    if !r.reasons.is_empty() {
        let reasons: Vec<String> = r.reasons.iter().map(|(k, n)| format!("{k} {n}")).collect();
        writeln!(out, "reasons: {}", reasons.join(", "))?;
    }
    if r.malformed > 0 {
        writeln!(out, "malformed rows skipped: {}", r.malformed)?;
    }
    if !r.unmappable.is_empty() {
        writeln!(out, "unmappable names:")?;
        for u in r.unmappable.iter().take(LISTED) {
            writeln!(out, "  {} ({} row(s))", escape(&u.name.to_string()), u.rows)?;
        }
        let more = r.unmappable.len().saturating_sub(LISTED) as u64 + r.unmappable_other;
        if more > 0 {
            writeln!(
                out,
                "  and more ({more} row(s) not listed; --json lists them)"
            )?;
        }
    }
    // The subjects and resources with the most rows that are not authorised.
    let not_ok = |c: &OutcomeCounts| c.total() - c.authorised;
    let mut subjects: Vec<_> = r.by_subject.iter().collect();
    subjects.sort_by(|a, b| not_ok(b.1).cmp(&not_ok(a.1)).then(a.0.cmp(b.0)));
    writeln!(out, "by subject ({}):", r.by_subject.len())?;
    for (s, c) in subjects.iter().take(LISTED) {
        writeln!(out, "  {:<32} {}", s.as_str(), counts_text(c))?;
    }
    let mut resources: Vec<_> = r.by_resource.iter().collect();
    resources.sort_by(|a, b| not_ok(b.1).cmp(&not_ok(a.1)).then(a.0.cmp(b.0)));
    writeln!(out, "by resource ({}):", r.by_resource.len())?;
    for (x, c) in resources.iter().take(LISTED) {
        writeln!(out, "  {:<32} {}", x.as_str(), counts_text(c))?;
    }
    if r.by_subject.len() > LISTED || r.by_resource.len() > LISTED {
        writeln!(
            out,
            "  (the {LISTED} with most findings each; --json lists all)"
        )?;
    }
    if let Some(rev) = &r.revised {
        writeln!(
            out,
            "judged again as recorded by {}: {} row(s) change",
            rev.known_at.local(zone),
            rev.rows
        )?;
        for (change, n) in &rev.changes {
            writeln!(out, "  {change}: {n}")?;
        }
    }
    Ok(())
}
