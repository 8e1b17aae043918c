//! The command-line front end: argument definitions in [`args`], one module
//! per command, and the mapping of errors to one-line messages and exit codes.

pub mod args;
mod checkpoint;
mod demo;
mod import;
mod init;
mod keygen;
mod log;
mod prove;
mod query;
mod verify;
mod verify_proof;
mod witness;
mod write;

use std::fmt;
use std::path::Path;
use std::time::Duration;

use access_ledger::{
    ChainError, IdentError, KeyError, Ledger, LedgerError, SecretKey, StoreError, TimeError,
    Timestamp, Zone,
};

pub use args::Cli;
use args::Command;

/// Exit codes (also in the README and `--help`).
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// A query answered no (`check` denied).
    pub const DENIED: u8 = 1;
    /// Bad usage or bad input (arguments, identifiers, times, import lines).
    pub const USAGE: u8 = 2;
    /// The ledger's rules refused the change; nothing was written.
    pub const REFUSED: u8 = 3;
    /// Verification failed: the ledger, a proof or a checkpoint does not check out.
    pub const VERIFY: u8 = 4;
    /// Another process holds the ledger.
    pub const IN_USE: u8 = 5;
    /// A ledger, key or file is missing, unreadable or damaged.
    pub const UNAVAILABLE: u8 = 6;
}

/// A command's failure: one line, an optional hint, and an exit code.
#[derive(Debug)]
pub struct Failure {
    /// The exit code.
    pub code: u8,
    /// The message (lowercase, names the thing that is wrong).
    pub message: String,
    /// An optional second line: what to do about it.
    pub hint: Option<String>,
}

impl Failure {
    /// A failure with `code`.
    pub fn new(code: u8, message: impl fmt::Display) -> Self {
        Failure {
            code,
            message: message.to_string(),
            hint: None,
        }
    }

    /// Bad usage or input.
    pub fn usage(message: impl fmt::Display) -> Self {
        Self::new(exit::USAGE, message)
    }

    /// Adds a hint line.
    pub fn hint(mut self, hint: impl fmt::Display) -> Self {
        self.hint = Some(hint.to_string());
        self
    }
}

impl From<LedgerError> for Failure {
    fn from(e: LedgerError) -> Self {
        match e {
            LedgerError::Store(s) => s.into(),
            LedgerError::Refused(c) => {
                Failure::new(exit::REFUSED, format!("refused, nothing written: {c}"))
            }
            LedgerError::Corrupt(c) => {
                Failure::new(exit::VERIFY, format!("verification failed: {c}"))
            }
            LedgerError::RolledBack { .. } | LedgerError::Forked { .. } => {
                Failure::new(exit::VERIFY, e)
            }
            LedgerError::DerivedMismatch(_) => Failure::new(exit::VERIFY, e)
                .hint("derived data is rebuilt from the entries by `access-ledger reindex`"),
            LedgerError::NotAnAuthority { .. } | LedgerError::NotCheckpointSigner(_) => {
                Failure::new(exit::REFUSED, format!("refused, nothing written: {e}"))
            }
            e => Failure::usage(e),
        }
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        match &e {
            StoreError::InUse(_) => Failure::new(exit::IN_USE, format!("cannot open {e}"))
                .hint("wait for the other access-ledger command to finish, or raise --wait"),
            StoreError::Missing(_) => Failure::new(
                exit::UNAVAILABLE,
                format!("cannot open ledger: {e}"),
            )
            .hint(
                "run `access-ledger init` first, or pass --ledger DIR (or set ACCESS_LEDGER_DIR)",
            ),
            StoreError::NotALedger(_) => {
                Failure::new(exit::UNAVAILABLE, format!("cannot open ledger: {e}"))
            }
            StoreError::NotEmpty(_) => Failure::usage(e),
            StoreError::Corrupted(_) => Failure::new(exit::VERIFY, e).hint(
                "no command can read it as it is; restore it from a backup and run `access-ledger verify`",
            ),
            StoreError::DamagedDerived { .. } => Failure::new(exit::UNAVAILABLE, e)
                .hint("derived data is rebuilt from the entries by `access-ledger reindex`"),
            _ => Failure::new(exit::UNAVAILABLE, e),
        }
    }
}

impl From<KeyError> for Failure {
    fn from(e: KeyError) -> Self {
        match e {
            KeyError::BadVerifierKey(_) | KeyError::KeyIdMismatch(_) | KeyError::BadPublicKey => {
                Failure::usage(e)
            }
            e => Failure::new(exit::UNAVAILABLE, e),
        }
    }
}

impl From<IdentError> for Failure {
    fn from(e: IdentError) -> Self {
        Failure::usage(e)
    }
}

impl From<TimeError> for Failure {
    fn from(e: TimeError) -> Self {
        Failure::usage(e)
    }
}

impl From<ChainError> for Failure {
    fn from(e: ChainError) -> Self {
        Failure::new(exit::VERIFY, e)
    }
}

/// Runs the command and returns the exit code.
pub fn run(cli: Cli) -> Result<u8, Failure> {
    let ctx = Context {
        ledger: &cli.ledger,
        wait: Duration::from_secs_f64(cli.wait.clamp(0.0, 3600.0)),
    };
    match cli.command {
        Command::Keygen { name, out, json } => keygen::run(&ctx, &name, &out, json),
        Command::Init {
            origin,
            time_zone,
            key,
            created_at,
        } => init::run(&ctx, &origin, &time_zone, &key, created_at.as_deref()),
        Command::Authority(a) => write::authority(&ctx, a),
        c @ (Command::Grant { .. }
        | Command::Revoke { .. }
        | Command::Join { .. }
        | Command::Leave { .. }
        | Command::Share { .. }
        | Command::Unshare { .. }) => write::access(&ctx, c),
        Command::Import { file, key } => import::run(&ctx, &file, &key),
        Command::Log { from, limit, json } => log::log(&ctx, from, limit, json),
        Command::Show { seq, json, raw } => log::show(&ctx, seq, json, raw),
        Command::Check {
            subject,
            resource,
            right,
            q,
        } => query::check(&ctx, &subject, &resource, &right, &q),
        Command::WhoCan { resource, right, q } => query::who_can(&ctx, &resource, &right, &q),
        Command::WhatCan { subject, q } => query::what_can(&ctx, &subject, &q),
        Command::Exposure {
            subject,
            resource,
            q,
        } => query::exposure(&ctx, &subject, &resource, &q),
        Command::History { target, q } => query::history(&ctx, &target, &q),
        Command::Changes {
            from,
            to,
            known_at,
            json,
        } => query::changes(&ctx, &from, &to, known_at.as_deref(), json),
        Command::Rebuild { json } => query::rebuild(&ctx, json),
        Command::Checkpoint { key } => checkpoint::sign(&ctx, &key),
        Command::Checkpoints { json } => checkpoint::list(&ctx, json),
        Command::Prove(p) => prove::run(&ctx, p),
        Command::VerifyProof(v) => verify_proof::run(v),
        Command::Witness {
            state,
            ledger_key,
            key,
            checkpoint,
            proof,
            json,
        } => witness::run(
            &state,
            &ledger_key,
            &key,
            &checkpoint,
            proof.as_deref(),
            json,
        ),
        Command::Verify { json } => verify::verify(&ctx, json),
        Command::Reindex => verify::reindex(&ctx),
        Command::Demo { out } => demo::run(&out),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "access-ledger", &mut std::io::stdout());
            Ok(exit::OK)
        }
        Command::Man => {
            let cmd = <Cli as clap::CommandFactory>::command();
            clap_mangen::Man::new(cmd)
                .render(&mut std::io::stdout())
                .map_err(|e| {
                    Failure::new(exit::UNAVAILABLE, format!("cannot write the man page: {e}"))
                })?;
            Ok(exit::OK)
        }
    }
}

/// What every command needs from the global options.
pub struct Context<'a> {
    /// The ledger directory.
    pub ledger: &'a Path,
    /// How long to wait for the ledger's lock.
    pub wait: Duration,
}

impl Context<'_> {
    /// Opens the ledger.
    pub fn open(&self) -> Result<Ledger, Failure> {
        Ledger::open(self.ledger, self.wait).map_err(Failure::from)
    }
}

/// Reads a private key file.
pub fn read_key(path: &Path) -> Result<SecretKey, Failure> {
    SecretKey::read(path).map_err(Failure::from)
}

/// Reads a whole file, or says which one could not be read.
pub fn read_file(path: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| {
        Failure::new(
            exit::UNAVAILABLE,
            format!("cannot read {}: {e}", path.display()),
        )
    })
}

/// Reads a whole text file.
pub fn read_text(path: &Path) -> Result<String, Failure> {
    String::from_utf8(read_file(path)?)
        .map_err(|_| Failure::usage(format!("{} is not UTF-8 text", path.display())))
}

/// Reads a proof file in its JSON form or its text form (`text_form` parses that).
pub fn read_proof<T: serde::de::DeserializeOwned>(
    path: &Path,
    text_form: impl Fn(&str) -> Result<T, access_ledger::ProofError>,
) -> Result<T, Failure> {
    let text = read_text(path)?;
    let parsed = if text.trim_start().starts_with('{') {
        serde_json::from_str(&text).map_err(|e| e.to_string())
    } else {
        text_form(&text).map_err(|e| e.to_string())
    };
    parsed.map_err(|e| Failure::usage(format!("{}: not a proof: {e}", path.display())))
}

/// Parses a time argument named `what` in the ledger's zone.
pub fn parse_time(what: &str, s: &str, zone: &Zone) -> Result<Timestamp, Failure> {
    Timestamp::parse(s, zone).map_err(|e| Failure::usage(format!("{what}: {e}")))
}

/// A progress line on stderr for long work, only when stderr is a terminal.
pub struct Progress {
    label: &'static str,
    enabled: bool,
    last: std::time::Instant,
}

impl Progress {
    /// Starts reporting `label`.
    pub fn new(label: &'static str) -> Self {
        use std::io::IsTerminal;
        Progress {
            label,
            enabled: std::io::stderr().is_terminal(),
            last: std::time::Instant::now(),
        }
    }

    /// Reports `done` of `total`, at most a few times a second.
    pub fn update(&mut self, done: u64, total: u64) {
        if !self.enabled || (done < total && self.last.elapsed() < Duration::from_millis(200)) {
            return;
        }
        self.last = std::time::Instant::now();
        let pct = (done * 100).checked_div(total).unwrap_or(100);
        eprint!("\r{}: {done}/{total} entries ({pct}%)", self.label);
        if done >= total {
            eprintln!();
        }
    }
}

/// Prints a JSON value on stdout.
pub fn print_json(v: &serde_json::Value) {
    // serde_json cannot fail to serialise a Value.
    println!(
        "{}",
        serde_json::to_string_pretty(v).expect("a Value always serialises")
    );
}
