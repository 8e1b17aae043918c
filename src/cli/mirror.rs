//! `mirror`: a verified read replica of a log published as tiles.

use std::io::Write;

use access_ledger::TileSource;

use super::args::Mirror;
use super::output::{self, Format};
use super::publish::Stages;
use super::{exit, Context, Failure};

impl Mirror {
    /// Fetches what is new at the source, verifies it, and extends the replica.
    pub fn run(self, ctx: &Context) -> Result<u8, Failure> {
        let source = TileSource::new(&self.source);
        let mut progress = Stages::default();
        let report = access_ledger::mirror(
            &source,
            &self.ledger_key,
            &ctx.ledger,
            ctx.wait,
            |stage, done, total| progress.update(stage, done, total),
        )?;
        let mut out = std::io::stdout().lock();
        match self.format {
            Format::Json => output::json(&mut out, &report)?,
            Format::Text if report.size == report.previous_size => writeln!(
                out,
                "replica {} is up to date: {} entries, as {} publishes",
                ctx.ledger.display(),
                report.size,
                report.source
            )?,
            Format::Text => writeln!(
                out,
                "mirrored {} entries from {} into {} ({} new, {} bytes fetched), all verified",
                report.size,
                report.source,
                ctx.ledger.display(),
                report.size - report.previous_size,
                report.fetched_bytes
            )?,
        }
        Ok(exit::OK)
    }
}
