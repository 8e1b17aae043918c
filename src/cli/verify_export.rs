//! `verify-export`: checks an oversight bundle offline (docs/OVERSIGHT.md).

use std::io::Write;

use super::args::VerifyExport;
use super::export::Phases;
use super::files::read_text;
use super::output::{self, Format};
use super::{exit, Failure};

impl VerifyExport {
    /// Checks the bundle: exit 0 with a summary, or 4 naming the first thing wrong.
    pub fn run(self) -> Result<u8, Failure> {
        let since = self.since.as_deref().map(read_text).transpose()?;
        let mut phases = Phases::new();
        let v = access_ledger::verify_export(
            &self.dir,
            &self.ledger_key,
            since.as_deref(),
            &mut |p, d, t| phases.update(p, d, t),
        )?;
        let mut out = std::io::stdout().lock();
        match self.format {
            Format::Json => output::json(&mut out, &v)?,
            Format::Text => {
                let since = match v.since {
                    Some(n) => format!(" It extends the checkpoint given with --since (tree size {n}): nothing shown then was rewritten or dropped."),
                    None => String::new(),
                };
                let attested = if v.attested.is_empty() {
                    String::new()
                } else {
                    format!(
                        " Attested only (hash-checked, not recomputable from the entries): {}.",
                        v.attested.join(", ")
                    )
                };
                writeln!(
                    out,
                    "ok: the bundle of {} for {} to {} is authentic and complete. All {} entries decode to the fields shown, link by hash, carry valid signatures of authorities of the ledger and break no rule; their Merkle root is the checkpoint's, signed by {}.{since} Every CSV file and the report's tables were recomputed from the entries as known at {} and match: {} changes of access, {} permanent revocations ({} with a back door open).{attested}",
                    v.origin,
                    v.from,
                    v.to,
                    v.entries,
                    v.signer,
                    v.known_at,
                    v.changes,
                    v.commitments,
                    v.back_doors_open
                )?;
            }
        }
        Ok(exit::OK)
    }
}
