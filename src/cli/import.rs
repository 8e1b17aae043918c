//! `import`: sign and append a JSON Lines file in one all-or-nothing batch.

use std::io::Write;

use access_ledger::{event_from_json, json_line, LedgerError, NewEntry};

use super::args::Import;
use super::files::{read_input, read_key};
use super::write::report;
use super::{exit, Context, Failure};

impl Import {
    /// Appends every event of the file, or none.
    pub fn run(self, ctx: &Context) -> Result<u8, Failure> {
        let (name, text) = read_input(&self.file)?;
        let key = read_key(&self.key)?;
        let mut ledger = ctx.open_to_sign(&key)?;
        let zone = ledger.zone();
        let mut items = Vec::new();
        let mut lines = Vec::new();
        let mut skipped = 0;
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let bad_line =
                |e: &dyn std::fmt::Display| Failure::usage(format!("{name} line {}: {e}", i + 1));
            let v = json_line(line).map_err(|e| bad_line(&e))?;
            match event_from_json(&v, &zone).map_err(|e| bad_line(&e))? {
                Some((event, recorded_at)) => {
                    items.push(NewEntry { event, recorded_at });
                    lines.push(i + 1);
                }
                None => skipped += 1,
            }
        }
        if items.is_empty() {
            return Err(Failure::usage(format!("{name}: no events to import")));
        }
        let first = ledger.len();
        let done = ledger.append(&key, items).map_err(|e| match e {
            LedgerError::Refused(c) => {
                let line = lines.get((c.seq - first) as usize).copied().unwrap_or(0);
                Failure::new(
                    exit::REFUSED,
                    format!(
                        "refused, nothing written: {name} line {line}: {}",
                        c.violation
                    ),
                )
            }
            e => e.into(),
        })?;
        if done.len() <= 20 {
            report(&done)?;
        }
        writeln!(
            std::io::stdout().lock(),
            "imported {} entries (seq {}..={}) in one durable batch{}",
            done.len(),
            first,
            first + done.len() as u64 - 1,
            if skipped > 0 {
                format!("; skipped {skipped} genesis line(s)")
            } else {
                String::new()
            }
        )?;
        Ok(exit::OK)
    }
}
