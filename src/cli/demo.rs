//! `demo`: build the illustrative Chicago 2019 ledger, verify it, and show a tour.

use std::fs;
use std::io::Write;

use access_ledger::{
    audit, AccessLog, AuditOptions, ExportOptions, Fixture, LogFormat, Mapping, NoSink, Timestamp,
    VerifierKey, DEMO_ACCESS_LOG, DEMO_MAPPING,
};

use super::args::Demo;
use super::{exit, Failure};

const DEMO_MARKER: &str = "DEMO-README.txt";

impl Demo {
    /// Builds the demo in `--out` (replacing an earlier demo) and prints the tour.
    pub fn run(self) -> Result<u8, Failure> {
        let out = &self.out;
        let unavailable =
            |e: std::io::Error| Failure::new(exit::UNAVAILABLE, format!("{}: {e}", out.display()));
        if out.exists() {
            if !out.join(DEMO_MARKER).is_file() {
                if fs::read_dir(out).map_err(unavailable)?.next().is_some() {
                    return Err(Failure::usage(format!(
                        "{} exists and is not an earlier demo; choose another --out",
                        out.display()
                    )));
                }
            } else {
                fs::remove_dir_all(out).map_err(unavailable)?;
            }
        }
        fs::create_dir_all(out.join("keys")).map_err(unavailable)?;
        let fixture = Fixture::load();
        let ledger_dir = out.join("ledger");
        let ledger = fixture.build(&ledger_dir)?;
        for k in &fixture.keys {
            k.key
                .write_new(&out.join("keys").join(format!("{}.key", k.key.name())))?;
        }
        let report = ledger.verify(|_, _| {})?;
        fs::write(out.join("access-log.csv"), DEMO_ACCESS_LOG).map_err(unavailable)?;
        fs::write(out.join("mapping.toml"), DEMO_MAPPING).map_err(unavailable)?;
        // The fixture's mapping and log are compiled in and pinned by the
        // tests (tests/audit.rs): failing here is a build defect.
        let mapping = Mapping::from_toml(DEMO_MAPPING).expect("the demo mapping is valid");
        let log = AccessLog::new(
            DEMO_ACCESS_LOG.as_bytes(),
            LogFormat::Csv,
            mapping.columns(),
        )
        .expect("the demo access log has the mapped columns");
        let opts = AuditOptions {
            known_at: Some(Timestamp::now()),
            skip_bad: true,
            period: None,
        };
        let audited = audit(&ledger, log, &mapping, &opts, &mut NoSink)
            .map_err(|e| Failure::new(exit::UNAVAILABLE, format!("demo audit: {e}")))?;
        let zone = ledger.zone();
        // The council's export of the third quarter of 2019, and its check.
        let council = out.join("council-2019-q3");
        let signer = fixture.key("test-only-city-log-signer");
        let day =
            |d: &str| Timestamp::parse(d, &zone).map_err(|e| Failure::new(exit::UNAVAILABLE, e));
        let (from, to) = (day("2019-07-01")?, day("2019-10-01")?);
        // The same log's rows of the quarter, as the export's attested
        // audit section (`export --access-log --mapping` does the same).
        let quarter = AuditOptions {
            known_at: Some(ledger.state().head_recorded_at()),
            skip_bad: true,
            period: Some((from, to)),
        };
        let log = AccessLog::new(
            DEMO_ACCESS_LOG.as_bytes(),
            LogFormat::Csv,
            mapping.columns(),
        )
        .expect("the demo access log has the mapped columns");
        let quarter = audit(&ledger, log, &mapping, &quarter, &mut NoSink)
            .map_err(|e| Failure::new(exit::UNAVAILABLE, format!("demo audit: {e}")))?;
        let quarter = serde_json::to_vec_pretty(&quarter)
            .map_err(|e| Failure::new(exit::UNAVAILABLE, format!("demo audit: {e}")))?;
        let opts = ExportOptions {
            from,
            to,
            since: None,
            attested: vec![(access_ledger::export_files::AUDIT.to_owned(), quarter)],
        };
        let exported = access_ledger::export(ledger, signer, &opts, &council, &mut |_, _, _| {})?;
        let vkey = VerifierKey::parse(&exported.ledger_key)?;
        let checked = access_ledger::verify_export(&council, &vkey, None, &mut |_, _, _| {})?;
        fs::write(
            out.join(DEMO_MARKER),
            "Built by `access-ledger demo` from fixtures/chicago-2019. The keys in keys/ are TEST-ONLY \
             keys from public seeds. `access-ledger demo` replaces this directory when run again.\n",
        )
        .map_err(unavailable)?;
        let l = ledger_dir.display();
        let k = out.join("keys").display().to_string();
        let mut tour = std::io::stdout().lock();
        writeln!(tour, "Built the illustrative Chicago 2019 ledger in {l}")?;
        writeln!(tour, "  {} signed, hash-chained entries; verified: chain, signatures, authorities, time order, bans.", report.entries)?;
        for b in &report.bans {
            writeln!(
                tour,
                "  Permanent revocation (seq {}): {} denied {} on {} from {}: {}.",
                b.seq,
                b.subject,
                b.rights,
                b.resource,
                b.effective_at.local(&zone),
                b.commitment
            )?;
        }
        let o = &audited.outcomes;
        writeln!(
            tour,
            "  Audited an illustrative access log of {} rows against it: {} authorised, {} unauthorised, {} side door, {} unmappable, {} malformed;",
            audited.rows, o.authorised, o.unauthorised, o.side_door, o.unmappable, audited.malformed
        )?;
        for v in &audited.violations {
            writeln!(
                tour,
                "    ban seq {} broken in practice by {} access(es), and {} on a banned agency's behalf;",
                v.ban, v.rows, v.side_door_rows
            )?;
        }
        if let Some(rev) = &audited.revised {
            writeln!(
                tour,
                "    {} row(s) judged differently by everything recorded since (a ban recorded late).",
                rev.rows
            )?;
        }
        writeln!(
            tour,
            "  TEST-ONLY keys are in {k}/ (public seeds: never use them for real)."
        )?;
        writeln!(
            tour,
            "  City-council oversight export for 2019-07-01 to 2019-10-01 written to {} and verified ({} entries, {} changes of access).",
            council.display(),
            checked.entries,
            checked.changes
        )?;
        writeln!(
            tour,
            "  Open {}/report.html in a browser; the CSV files open in a spreadsheet.",
            council.display()
        )?;
        writeln!(tour)?;
        writeln!(tour, "Try next:")?;
        writeln!(tour, "  access-ledger --ledger {l} log")?;
        writeln!(tour, "  access-ledger --ledger {l} show 12")?;
        writeln!(
            tour,
            "  access-ledger --ledger {l} check agency:ice cpd/clear/arrests read --at 2019-07-20"
        )?;
        writeln!(
            tour,
            "      (denied, banned by seq 12; try --at 2019-07-01, and --known-at 2019-07-11)"
        )?;
        writeln!(
            tour,
            "  access-ledger --ledger {l} who-can cpd/clear read --at 2019-07-20"
        )?;
        writeln!(
            tour,
            "  access-ledger --ledger {l} exposure agency:ice cpd/clear --at 2019-07-20"
        )?;
        writeln!(
            tour,
            "      (the FBI's sharing agreement still reaches ICE: flagged)"
        )?;
        writeln!(
            tour,
            "  access-ledger --ledger {l} exposure user:ice-analyst-2 cpd/clear/arrests --at 2019-08-02"
        )?;
        writeln!(
            tour,
            "      (a chain of nine task-force agreements reaches a member of the banned group:ice)"
        )?;
        let d = out.display();
        writeln!(
            tour,
            "  access-ledger --ledger {l} audit {d}/access-log.csv --mapping {d}/mapping.toml --known-at now --skip-bad"
        )?;
        writeln!(
            tour,
            "      (each access judged at its own time: violations of the bans first; docs/AUDIT.md)"
        )?;
        writeln!(tour, "  access-ledger --ledger {l} verify")?;
        writeln!(
            tour,
            "      (each ban: kept, held, or back door open, with the sharing paths)"
        )?;
        writeln!(
            tour,
            "  access-ledger --ledger {l} changes --from 2019-07-01 --to 2019-08-01"
        )?;
        writeln!(tour, "  access-ledger --ledger {l} grant agency:ice cpd/clear/arrests --rights read --key {k}/test-only-cpd-records-clerk.key")?;
        writeln!(
            tour,
            "      (refused: a permanent revocation cannot be granted back)"
        )?;
        writeln!(tour, "  access-ledger --ledger {l} checkpoint --key {k}/test-only-city-log-signer.key > checkpoint.txt")?;
        writeln!(tour, "  access-ledger --ledger {l} prove commitment 12")?;
        writeln!(
            tour,
            "  access-ledger verify-export {} --ledger-key '{}'",
            council.display(),
            exported.ledger_key
        )?;
        Ok(exit::OK)
    }
}
