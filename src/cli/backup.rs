//! `backup`: a consistent, checked copy of the ledger.

use std::io::Write;

use super::args::Backup;
use super::output::{self, Format};
use super::{exit, Context, Failure};

impl Backup {
    /// Copies the ledger to `--out` and checks the copy.
    pub fn run(self, ctx: &Context) -> Result<u8, Failure> {
        let ledger = ctx.open_to_scan()?;
        let report = ledger.backup(&self.out)?;
        let mut out = std::io::stdout().lock();
        match self.format {
            Format::Json => output::json(&mut out, &report)?,
            Format::Text => writeln!(
                out,
                "backed up {} entries (ledger id {}, head {}) to {}; check all of it with `access-ledger --ledger {} verify`",
                report.entries,
                report.ledger_id,
                report.head,
                report.dir.display(),
                report.dir.display()
            )?,
        }
        Ok(exit::OK)
    }
}
