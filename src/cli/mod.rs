//! The command-line front end: the definition in [`args`], parsed into
//! domain values by [`value`] and [`time`]; one module per command, whose
//! `run` takes that command's struct; [`failure`] maps errors to one line and
//! an exit code, [`files`] reads the files commands are given, and
//! [`output`] writes what they print.

mod args;
mod audit;
mod backup;
mod checkpoint;
mod demo;
mod export;
mod failure;
mod files;
mod import;
mod init;
mod keygen;
mod log;
mod manual;
mod mirror;
mod output;
mod prove;
mod publish;
mod query;
mod time;
mod value;
mod verify;
mod verify_export;
mod verify_proof;
mod witness;
mod write;

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use access_ledger::{Ledger, SecretKey};
use clap::Parser;

pub use args::Cli;
use args::{AuthorityCommand, Command, ProveCommand, VerifyProofCommand};
pub use failure::{exit, Failure};

/// Parses the command line. A value the library refuses is a one-line usage
/// failure; help, version and every other usage error clap prints and exits
/// on itself, as it always has.
pub fn parse() -> Result<Cli, Failure> {
    Cli::try_parse().map_err(|e| match value::refused_value(&e) {
        Some(message) => Failure::usage(message),
        None => e.exit(),
    })
}

/// Runs the command and returns its exit code.
pub fn run(cli: Cli) -> Result<u8, Failure> {
    let ctx = Context {
        ledger: cli.ledger,
        wait: cli.wait,
    };
    let code = match cli.command {
        Command::Keygen(c) => c.run(),
        Command::Init(c) => c.run(&ctx),
        Command::Authority(AuthorityCommand::Add(c)) => c.run(&ctx),
        Command::Authority(AuthorityCommand::Retire(c)) => c.run(&ctx),
        Command::Authority(AuthorityCommand::List(c)) => c.run(&ctx),
        Command::Grant(c) => c.run(&ctx),
        Command::Revoke(c) => c.run(&ctx),
        Command::Join(c) => c.run(&ctx),
        Command::Leave(c) => c.run(&ctx),
        Command::Share(c) => c.run(&ctx),
        Command::Unshare(c) => c.run(&ctx),
        Command::Import(c) => c.run(&ctx),
        Command::Log(c) => c.run(&ctx),
        Command::Show(c) => c.run(&ctx),
        Command::Verify(c) => c.run(&ctx),
        Command::Reindex(c) => c.run(&ctx),
        Command::Check(c) => c.run(&ctx),
        Command::WhoCan(c) => c.run(&ctx),
        Command::WhatCan(c) => c.run(&ctx),
        Command::Exposure(c) => c.run(&ctx),
        Command::History(c) => c.run(&ctx),
        Command::Changes(c) => c.run(&ctx),
        Command::Rebuild(c) => c.run(&ctx),
        Command::Audit(c) => c.run(&ctx),
        Command::Checkpoint(c) => c.run(&ctx),
        Command::Checkpoints(c) => c.run(&ctx),
        Command::Prove(ProveCommand::Inclusion(c)) => c.run(&ctx),
        Command::Prove(ProveCommand::Consistency(c)) => c.run(&ctx),
        Command::Prove(ProveCommand::Commitment(c)) => c.run(&ctx),
        Command::VerifyProof(VerifyProofCommand::Inclusion(c)) => c.run(),
        Command::VerifyProof(VerifyProofCommand::Consistency(c)) => c.run(),
        Command::Witness(c) => c.run(),
        Command::Completions(c) => c.run(),
        Command::Man(c) => c.run(),
        Command::Demo(c) => c.run(),
        // Tiles (issue 15).
        Command::Publish(c) => c.run(&ctx),
        Command::Mirror(c) => c.run(&ctx),
        // Oversight (issue 10).
        Command::Export(c) => c.run(&ctx),
        Command::VerifyExport(c) => c.run(),
        Command::Backup(c) => c.run(&ctx),
    }?;
    // What is still buffered (a last line without a newline) must reach the
    // reader too, or fail loudly.
    std::io::stdout().flush()?;
    Ok(code)
}

/// What the commands that use a ledger need from the global options.
pub struct Context {
    /// The ledger directory.
    pub ledger: PathBuf,
    /// How long to wait for the ledger's lock.
    pub wait: Duration,
}

impl Context {
    /// Opens the ledger.
    pub fn open(&self) -> Result<Ledger, Failure> {
        Ledger::open(&self.ledger, self.wait).map_err(Failure::from)
    }

    /// Opens the ledger to read all of it once (`verify`, `backup`), with a
    /// small page cache: see [`Ledger::open_to_scan`].
    pub fn open_to_scan(&self) -> Result<Ledger, Failure> {
        Ledger::open_to_scan(&self.ledger, self.wait).map_err(Failure::from)
    }

    /// Opens the ledger for `key` to sign on, checking first what the key's
    /// holder has not verified yet (the whole log at a key's first use, with
    /// progress on a terminal). A key that is no authority here is left to
    /// the write itself to refuse, without that work.
    ///
    /// Opened with the small page cache of [`Context::open_to_scan`]: that
    /// check streams over the log, and what the signing commands do next
    /// (append, sign a checkpoint, publish, copy for an export) reads few
    /// pages twice. At a key's first use on 1,000,000 entries the check
    /// took the process to 436 MB with the query cache.
    pub fn open_to_sign(&self, key: &SecretKey) -> Result<Ledger, Failure> {
        let mut ledger = self.open_to_scan()?;
        if ledger.state().authority_of(&key.public()).is_some() {
            let mut progress = output::Progress::new("checking the log before signing");
            ledger.authenticate(key, |done, total| progress.update(done, total))?;
        }
        Ok(ledger)
    }
}

#[cfg(test)]
mod tests {
    use super::args::Grant;
    use super::output::Format;
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from([&["access-ledger"], args].concat())
    }

    fn refused(args: &[&str]) -> Option<String> {
        value::refused_value(&parse(args).unwrap_err()).map(str::to_owned)
    }

    #[test]
    fn arguments_arrive_as_domain_values() {
        let cli = parse(&[
            "--wait",
            "0.5",
            "grant",
            "agency:fbi",
            "cpd/clear",
            "--rights",
            "read, export",
            "--key",
            "k",
        ])
        .unwrap();
        assert_eq!(cli.wait, Duration::from_millis(500));
        let Command::Grant(Grant {
            subject, rights, w, ..
        }) = cli.command
        else {
            panic!("not a grant");
        };
        assert_eq!(subject.as_str(), "agency:fbi");
        assert_eq!(rights.to_string(), "export,read");
        assert!(w.effective_at.is_none());
        for (args, format) in [
            (&["verify"][..], Format::Text),
            (&["verify", "--json"], Format::Json),
        ] {
            let Command::Verify(v) = parse(args).unwrap().command else {
                panic!("not verify");
            };
            assert_eq!(v.format, format);
        }
    }

    #[test]
    fn a_refused_value_is_one_line_naming_its_flag() {
        let grant = |subject: &str, rights: &str| {
            refused(&["grant", subject, "cpd", "--rights", rights, "--key", "k"]).unwrap()
        };
        // A positional's message names what it is; a flag's names the flag.
        assert!(grant("ICE", "read").starts_with("invalid subject \"ICE\": "));
        assert!(grant("agency:ice", "Read").starts_with("--rights: invalid right \"Read\""));
        let t = refused(&["check", "agency:ice", "cpd", "read", "--at", "2019-13-45"]).unwrap();
        assert!(t.starts_with("--at: invalid time \"2019-13-45\""), "{t}");
        let w = refused(&["--wait", "nan", "verify"]).unwrap();
        assert_eq!(
            w,
            "--wait: expected a number of seconds from 0 to 3600, got \"nan\""
        );
        // A private key pasted as a verifier key is not quoted back.
        let pem = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n-----END PRIVATE KEY-----";
        let k = refused(&[
            "witness",
            "--state",
            "s",
            "--key",
            "k",
            "cp",
            "--ledger-key",
            &format!("x{pem}"),
        ])
        .unwrap();
        assert!(!k.contains("MC4C") && !k.contains('\n'), "{k}");
        // Usage errors and help stay clap's own.
        assert_eq!(refused(&["grnt"]), None);
        assert_eq!(refused(&["grant", "agency:ice"]), None);
    }
}
