//! `export`: the city-council oversight bundle (docs/OVERSIGHT.md).

use std::io::Write;

use access_ledger::ExportOptions;

use super::args::Export;
use super::files::{read_key, read_text};
use super::output::{self, Format, Progress};
use super::time::Clock;
use super::{exit, Context, Failure};

/// Progress lines on a terminal, one per phase of long work.
pub struct Phases(Option<(&'static str, Progress)>);

impl Phases {
    /// No phase started yet.
    pub fn new() -> Self {
        Phases(None)
    }

    /// Reports `done` of `total` in `phase`.
    pub fn update(&mut self, phase: &'static str, done: u64, total: u64) {
        match &mut self.0 {
            Some((p, bar)) if *p == phase => bar.update(done, total),
            _ => {
                let mut bar = Progress::counting(phase, access_ledger::export_phase_unit(phase));
                bar.update(done, total);
                self.0 = Some((phase, bar));
            }
        }
    }
}

impl Export {
    /// Writes the bundle and prints where it is and how to check it.
    pub fn run(self, ctx: &Context) -> Result<u8, Failure> {
        let key = read_key(&self.key)?;
        let since = self.since.as_deref().map(read_text).transpose()?;
        let ledger = ctx.open_to_sign(&key)?;
        let clock = Clock::new(ledger.zone());
        let (from, to) = (clock.resolve(&self.from)?, clock.resolve(&self.to)?);
        let zone = ledger.zone();
        let mut attested = vec![];
        if let (Some(log), Some(mapping)) = (&self.access_log, &self.mapping) {
            // Judged as known at the export's K, the head the checkpoint
            // will cover (the export signs the head), so that the same
            // period and checkpoint give the same audit.json.
            let k = ledger.state().head_recorded_at();
            let report = super::audit::audit_period(
                &ledger,
                log,
                mapping,
                self.log_format,
                self.skip_bad,
                (from, to),
                k,
            )?;
            let json = serde_json::to_vec_pretty(&report)
                .map_err(|e| Failure::new(exit::UNAVAILABLE, format!("audit.json: {e}")))?;
            attested.push((access_ledger::export_files::AUDIT.to_owned(), json));
        }
        let opts = ExportOptions {
            from,
            to,
            since,
            attested,
        };
        let mut phases = Phases::new();
        let report = access_ledger::export(ledger, &key, &opts, &self.out, &mut |p, d, t| {
            phases.update(p, d, t)
        })?;
        let vkey: &str = &report.ledger_key;
        let mut out = std::io::stdout().lock();
        match self.format {
            Format::Json => output::json(&mut out, &report)?,
            Format::Text => {
                let dir = self.out.display();
                writeln!(
                    out,
                    "wrote the oversight bundle of {} entries for {} to {} (as known at {}) in {dir}",
                    report.entries,
                    from.local(&zone),
                    to.local(&zone),
                    report.known_at.local(&zone)
                )?;
                writeln!(
                    out,
                    "  open {dir}/report.html in a browser; the CSV files open in a spreadsheet"
                )?;
                writeln!(
                    out,
                    "  check it: access-ledger verify-export {dir} --ledger-key '{vkey}'"
                )?;
            }
        }
        Ok(exit::OK)
    }
}
