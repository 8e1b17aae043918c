//! `log` and `show`: read entries.

use std::io::Write;

use access_ledger::{entry_line, entry_to_json, push_bundle_entry, Entry, Ledger};

use super::args::{Log, Show};
use super::output::{self, Format};
use super::{exit, Context, Failure};

fn signer_name(ledger: &Ledger, e: &Entry) -> String {
    ledger
        .state()
        .authority_of(e.signer())
        .map(|n| n.to_string())
        .unwrap_or_else(|| e.signer().to_base64())
}

/// Entry `seq`, or a usage failure saying which seqs there are.
pub fn entry(ledger: &Ledger, seq: u64) -> Result<Entry, Failure> {
    ledger.entry(seq)?.ok_or_else(|| {
        Failure::usage(format!(
            "no entry {seq}: the ledger has {} entries (seq 0..={})",
            ledger.len(),
            ledger.len() - 1
        ))
    })
}

impl Log {
    /// Lists entries from `--from`, one line (or one JSON object) each.
    pub fn run(self, ctx: &Context) -> Result<u8, Failure> {
        let ledger = ctx.open()?;
        let zone = ledger.zone();
        let limit = self.limit.unwrap_or(u64::MAX);
        let mut out = std::io::stdout().lock();
        for seq in (self.from..ledger.len()).take(limit.min(usize::MAX as u64) as usize) {
            let e = ledger.entry(seq)?.ok_or_else(|| {
                Failure::new(exit::UNAVAILABLE, format!("entry {seq} is missing"))
            })?;
            if self.raw {
                let mut framed = Vec::with_capacity(e.bytes().len() + 2);
                push_bundle_entry(&mut framed, e.bytes());
                out.write_all(&framed)?;
                continue;
            }
            match self.format {
                Format::Json => writeln!(
                    out,
                    "{}",
                    entry_line(&e, ledger.state().authority_of(e.signer()))
                )?,
                Format::Text => {
                    let eff = e
                        .body()
                        .effective_at()
                        .map(|t| format!(" [effective {}]", t.local(&zone)))
                        .unwrap_or_default();
                    writeln!(
                        out,
                        "{:>6}  {}  {:<20} {}{}",
                        e.seq(),
                        e.recorded_at().local(&zone),
                        signer_name(&ledger, &e),
                        e.body().summary(),
                        eff
                    )?;
                }
            }
        }
        out.flush()?;
        Ok(exit::OK)
    }
}

impl Show {
    /// Shows one entry: described, as JSON, or its exact stored bytes.
    pub fn run(self, ctx: &Context) -> Result<u8, Failure> {
        let ledger = ctx.open()?;
        let seq = self.seq;
        let e = entry(&ledger, seq)?;
        let mut out = std::io::stdout().lock();
        if self.raw {
            out.write_all(e.bytes())
                .and_then(|()| out.flush())
                .map_err(|err| Failure::output(&format!("entry {seq}"), err))?;
            return Ok(exit::OK);
        }
        let v = entry_to_json(&e, ledger.state().authority_of(e.signer()));
        match self.format {
            Format::Json => output::json(&mut out, &v)?,
            Format::Text => {
                let zone = ledger.zone();
                writeln!(out, "seq {}: {}", e.seq(), e.body().summary())?;
                if let serde_json::Value::Object(m) = &v {
                    for (k, v) in m {
                        if k == "seq" {
                            continue;
                        }
                        // Free text may hold newlines and older entries
                        // bidi controls: escaped, no field forges a line.
                        let shown = match v {
                            serde_json::Value::String(s) => output::escape(s).into_owned(),
                            other => other.to_string(),
                        };
                        writeln!(out, "  {k:<12} {shown}")?;
                    }
                }
                writeln!(out, "  {:<12} {}", "recorded", e.recorded_at().local(&zone))?;
                writeln!(out, "  {:<12} {} bytes", "size", e.bytes().len())?;
            }
        }
        Ok(exit::OK)
    }
}
