//! Shared helpers for the workflow tests: a temporary workspace with a
//! ledger directory, key files, and the real binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

/// A temporary directory with `ledger/` and key files beside it.
pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    pub fn new() -> Self {
        Workspace {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn ledger(&self) -> PathBuf {
        self.path("ledger")
    }

    /// The binary, run in the workspace with `--ledger ledger`.
    pub fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("access-ledger").unwrap();
        c.current_dir(self.dir.path())
            .env_remove("ACCESS_LEDGER_DIR")
            .arg("--ledger")
            .arg(self.ledger());
        c
    }

    /// The binary, run in the workspace with no `--ledger`.
    pub fn bare(&self) -> Command {
        let mut c = Command::cargo_bin("access-ledger").unwrap();
        c.current_dir(self.dir.path())
            .env_remove("ACCESS_LEDGER_DIR");
        c
    }

    /// Runs the binary with `args` and no `--ledger`; returns (exit code, stdout, stderr).
    pub fn run_bare(&self, args: &[&str]) -> (i32, String, String) {
        split(self.bare().args(args).output().unwrap())
    }

    /// Runs the binary with `args`; returns (exit code, stdout, stderr).
    pub fn run(&self, args: &[&str]) -> (i32, String, String) {
        split(self.cmd().args(args).output().unwrap())
    }
}

fn split(out: Output) -> (i32, String, String) {
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

impl Workspace {
    /// Runs and asserts success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let (code, out, err) = self.run(args);
        assert_eq!(code, 0, "{args:?} failed: {err}");
        out
    }

    /// Runs, asserts exit `code`, and returns stderr (which must be one
    /// `error:` line, optionally followed by one `hint:` line).
    pub fn fails(&self, code: i32, args: &[&str]) -> String {
        let (c, _out, err) = self.run(args);
        assert_eq!(c, code, "{args:?}: expected exit {code}, got {c}: {err}");
        let lines: Vec<&str> = err.lines().collect();
        assert!(lines[0].starts_with("error: "), "{err}");
        assert!(
            lines.len() == 1 || (lines.len() == 2 && lines[1].starts_with("hint: ")),
            "{err}"
        );
        err
    }

    /// Makes a key file named `<name>.key` and returns its verifier key.
    pub fn keygen(&self, name: &str) -> String {
        let out = self.ok(&["keygen", "--name", name, "--out", &format!("{name}.key")]);
        out.trim().to_owned()
    }

    pub fn key(&self, name: &str) -> String {
        self.path(&format!("{name}.key")).display().to_string()
    }

    /// keygen + init with an `America/Chicago` ledger back-dated to 2016.
    pub fn init(&self, admin: &str) {
        self.keygen(admin);
        self.ok(&[
            "init",
            "--origin",
            "example.gov/test",
            "--time-zone",
            "America/Chicago",
            "--key",
            &self.key(admin),
            "--created-at",
            "2016-01-01",
        ]);
    }

    /// The whole log as JSON lines (to compare before and after a refusal).
    pub fn log_json(&self) -> String {
        self.ok(&["log", "--json"])
    }
}

pub fn exists(p: &Path) -> bool {
    p.exists()
}
