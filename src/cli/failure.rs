//! How a command fails: the documented exit codes, the one-line message and
//! its optional hint, and the mapping of every library error onto them.
//! Hints live here, in the binary: library errors say what is wrong, the
//! command line says what to do about it.

use std::fmt;
use std::io::{self, Write};
use std::process::ExitCode;

use access_ledger::{
    ExportError, KeyError, LedgerError, MirrorError, PublishError, QueryError, StoreError,
    WitnessError,
};

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

/// Why a command stopped before its end.
#[derive(Debug)]
pub enum Failure {
    /// Whoever read standard output closed it (`log | head -1`): stop
    /// quietly, with success, as ripgrep does.
    Closed,
    /// A refusal or an error: one line, an optional hint, an exit code.
    Error {
        /// The exit code.
        code: u8,
        /// The message (lowercase, names the thing that is wrong).
        message: String,
        /// An optional second line: what to do about it.
        hint: Option<String>,
    },
}

impl Failure {
    /// A failure with `code`.
    pub fn new(code: u8, message: impl fmt::Display) -> Self {
        Failure::Error {
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
    pub fn hint(self, line: impl fmt::Display) -> Self {
        match self {
            Failure::Error { code, message, .. } => Failure::Error {
                code,
                message,
                hint: Some(line.to_string()),
            },
            closed => closed,
        }
    }

    /// Writing `what` to standard output failed; a closed pipe is
    /// [`Failure::Closed`], not an error.
    pub fn output(what: &str, e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::BrokenPipe {
            Failure::Closed
        } else {
            Failure::new(exit::UNAVAILABLE, format!("cannot write {what}: {e}"))
        }
    }

    /// Prints the message and hint on standard error; returns the exit code.
    pub fn report(self) -> ExitCode {
        match self {
            Failure::Closed => ExitCode::from(exit::OK),
            Failure::Error {
                code,
                message,
                hint,
            } => {
                let mut err = io::stderr().lock();
                // A closed standard error leaves nobody to tell.
                let _ = writeln!(err, "error: {message}");
                if let Some(h) = hint {
                    let _ = writeln!(err, "hint: {h}");
                }
                ExitCode::from(code)
            }
        }
    }
}

/// A write to standard output failed. Only writes of output reach `?` with a
/// bare `io::Error`: every file read names its file (see `files`).
impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Failure::output("to standard output", e)
    }
}

/// The cure for damaged derived data.
const REINDEX: &str = "derived data is rebuilt from the entries by `access-ledger reindex`";

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
            LedgerError::NotAnAuthority { .. } | LedgerError::NotCheckpointSigner(_) => {
                Failure::new(exit::REFUSED, format!("refused, nothing written: {e}"))
            }
            LedgerError::RolledBack { .. } | LedgerError::Forked { .. } => {
                Failure::new(exit::VERIFY, e)
            }
            LedgerError::DerivedMismatch(_) => Failure::new(exit::VERIFY, e).hint(REINDEX),
            LedgerError::Replica { .. } => Failure::new(
                exit::REFUSED,
                format!("refused, nothing written: {e}"),
            )
            .hint(
                "write to the ledger it mirrors, publish it, and run `access-ledger mirror` again",
            ),
            LedgerError::Head(_) => Failure::new(exit::UNAVAILABLE, e)
                .hint("the file only saves re-verification: remove it and sign again"),
            e => Failure::usage(e),
        }
    }
}

impl From<ExportError> for Failure {
    fn from(e: ExportError) -> Self {
        match e {
            ExportError::Ledger(e) => e.into(),
            ExportError::Bundle { .. } => {
                Failure::new(exit::VERIFY, format!("the bundle does not verify: {e}"))
            }
            ExportError::Io { .. } => Failure::new(exit::UNAVAILABLE, e),
            e => Failure::usage(e),
        }
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        match &e {
            StoreError::InUse(_) => Failure::new(exit::IN_USE, e)
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
            StoreError::InterruptedInit(_) => Failure::new(exit::UNAVAILABLE, e)
                .hint("remove it and run `access-ledger init` again"),
            StoreError::NotEmpty(_) => Failure::usage(e),
            // Unavailable, not refused: no rule refused a change, this
            // version cannot use the ledger as it is stored until it is
            // migrated (the message names the command).
            StoreError::OldLayout { .. } => Failure::new(exit::UNAVAILABLE, e),
            StoreError::DamagedDerived { .. } => Failure::new(exit::UNAVAILABLE, e).hint(REINDEX),
            StoreError::Corrupted(_) => Failure::new(exit::VERIFY, e).hint(
                "no command can read it as it is; restore it from a backup and run `access-ledger verify`",
            ),
            StoreError::Damaged { .. } => Failure::new(exit::UNAVAILABLE, e).hint(
                "`access-ledger verify` names the first bad entry of a store that still opens; otherwise restore the ledger from a backup and verify it",
            ),
            _ => Failure::new(exit::UNAVAILABLE, e),
        }
    }
}

impl From<QueryError> for Failure {
    fn from(e: QueryError) -> Self {
        match e {
            QueryError::Store(s) => s.into(),
            e => Failure::usage(e),
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

impl From<WitnessError> for Failure {
    fn from(e: WitnessError) -> Self {
        match e {
            WitnessError::Io { .. } => Failure::new(exit::UNAVAILABLE, format!("witness: {e}")),
            e => Failure::new(exit::VERIFY, format!("witness refused the checkpoint: {e}")),
        }
    }
}

impl From<PublishError> for Failure {
    fn from(e: PublishError) -> Self {
        match e {
            PublishError::Ledger(e) => e.into(),
            PublishError::Io { .. } => {
                Failure::new(exit::UNAVAILABLE, format!("cannot publish: {e}"))
            }
            e => Failure::new(exit::VERIFY, format!("publish refused: {e}")),
        }
    }
}

impl From<MirrorError> for Failure {
    fn from(e: MirrorError) -> Self {
        match e {
            MirrorError::Ledger(e) => (*e).into(),
            MirrorError::Fetch { .. } | MirrorError::Io { .. } => {
                Failure::new(exit::UNAVAILABLE, format!("mirror: {e}"))
            }
            MirrorError::NotAReplica(_) => Failure::usage(format!("mirror: {e}"))
                .hint("pass --ledger DIR with a new directory, or one an earlier mirror made"),
            e => Failure::new(
                exit::VERIFY,
                format!("mirror refused the published log, replica unchanged: {e}"),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_stdout_is_a_quiet_success_and_other_write_errors_are_not() {
        let closed = Failure::from(io::Error::from(io::ErrorKind::BrokenPipe));
        assert!(matches!(closed, Failure::Closed));
        assert_eq!(
            closed.hint("never shown").report(),
            ExitCode::from(exit::OK)
        );
        match Failure::output("entry 6", io::Error::other("disk full")) {
            Failure::Error { code, message, .. } => {
                assert_eq!(code, exit::UNAVAILABLE);
                assert_eq!(message, "cannot write entry 6: disk full");
            }
            closed => panic!("{closed:?}"),
        }
    }
}
