//! The one helper module of the integration tests: the real binary run in a
//! temporary workspace, the one-line-error assertion, the event builders
//! (`events`), a ledger read back through the library, and the hand-built
//! query log that asks both evaluators (`log`).

mod events;
mod http;
mod log;

pub use events::*;
pub use http::StaticServer;
pub use log::{seqs, Log};

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use access_ledger::{AuthorityName, Entry, Event, Ledger, Origin, SecretKey, Zone};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_access-ledger");

/// How long a test waits for a ledger lock before calling it a failure.
pub const LOCK_WAIT: Duration = Duration::from_secs(10);

/// The binary, run in `dir`, blind to an `ACCESS_LEDGER_DIR` of the caller's.
pub fn bin(dir: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.current_dir(dir).env_remove("ACCESS_LEDGER_DIR");
    c
}

/// (exit code, stdout, stderr) of a finished run; -1 for a signal.
pub fn split(out: Output) -> (i32, String, String) {
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Asserts that `stderr` is one `error:` line naming `needle`, optionally
/// followed by one `hint:` line, and no panic.
pub fn assert_one_line_error(stderr: &str, needle: &str) {
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(
        !lines.is_empty() && lines[0].starts_with("error: "),
        "expected an `error:` line, got {stderr:?}"
    );
    assert!(
        lines.len() == 1 || (lines.len() == 2 && lines[1].starts_with("hint: ")),
        "expected one error line and at most one hint, got {stderr:?}"
    );
    assert!(stderr.contains(needle), "{needle:?} not in {stderr:?}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// A temporary directory where the binary runs: `ledger/` (the default
/// ledger of [`Workspace::cmd`]), other ledgers, key files and inputs.
pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    pub fn new() -> Self {
        Workspace {
            dir: tempfile::tempdir().expect("temporary directory"),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn ledger(&self) -> PathBuf {
        self.path("ledger")
    }

    /// The binary, run in the workspace with no `--ledger`.
    pub fn bare(&self) -> Command {
        bin(self.dir.path())
    }

    /// The binary, run in the workspace with `--ledger ledger`.
    pub fn cmd(&self) -> Command {
        self.cmd_on(&self.ledger())
    }

    /// The binary, run in the workspace with `--ledger <ledger>`.
    pub fn cmd_on(&self, ledger: &Path) -> Command {
        let mut c = self.bare();
        c.arg("--ledger").arg(ledger);
        c
    }

    /// Runs the binary with `args` and no `--ledger`.
    pub fn run_bare(&self, args: &[&str]) -> (i32, String, String) {
        split(self.bare().args(args).output().expect("run the binary"))
    }

    /// Runs the binary on `ledger/` with `args`.
    pub fn run(&self, args: &[&str]) -> (i32, String, String) {
        self.run_on(&self.ledger(), args)
    }

    /// Runs the binary on `ledger` with `args`.
    pub fn run_on(&self, ledger: &Path, args: &[&str]) -> (i32, String, String) {
        split(
            self.cmd_on(ledger)
                .args(args)
                .output()
                .expect("run the binary"),
        )
    }

    /// Runs on `ledger/`, asserts success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let (code, out, err) = self.run(args);
        assert_eq!(code, 0, "{args:?} failed: {err}");
        out
    }

    /// Runs on `ledger/`, asserts exit `code` and a one-line error; returns
    /// stderr.
    pub fn fails(&self, code: i32, args: &[&str]) -> String {
        let (c, _out, err) = self.run(args);
        assert_eq!(c, code, "{args:?}: expected exit {code}, got {c}: {err}");
        assert_one_line_error(&err, "");
        err
    }

    /// Makes a key file named `<name>.key` with `keygen`; returns its
    /// verifier key.
    pub fn keygen(&self, name: &str) -> String {
        let out = self.ok(&["keygen", "--name", name, "--out", &format!("{name}.key")]);
        out.trim().to_owned()
    }

    /// The path of the key file `<name>.key`.
    pub fn key(&self, name: &str) -> String {
        self.path(&format!("{name}.key")).display().to_string()
    }

    /// `keygen` + `init` of `ledger/`, in `America/Chicago`, back-dated to 2016.
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

    /// [`Workspace::init`], then a grant of `read` on `cpd/clear` to
    /// agency:fbi from 2016-02-01: the ledger the refusal tests start from.
    pub fn with_one_grant() -> Self {
        let w = Workspace::new();
        w.init("admin");
        w.ok(&[
            "grant",
            "agency:fbi",
            "cpd/clear",
            "--rights",
            "read",
            "--effective-at",
            "2016-02-01",
            "--key",
            &w.key("admin"),
        ]);
        w
    }

    /// `keygen` of `<name>.key`, then `authority add` of it to `ledger/`
    /// with `roles`, signed by `admin.key`; returns its verifier key.
    pub fn add_authority(&self, name: &str, roles: &str) -> String {
        let public = self.keygen(name);
        self.ok(&[
            "authority",
            "add",
            name,
            "--public-key",
            &public,
            "--roles",
            roles,
            "--key",
            &self.key("admin"),
        ]);
        public
    }

    /// The whole log as JSON lines (to compare before and after a refusal).
    pub fn log_json(&self) -> String {
        self.ok(&["log", "--json"])
    }
}

/// A workspace with an admin key made through the library (`admin.key`,
/// mode 0600) and any number of ledgers made with it: for the robustness
/// tests (crash, concurrency, hostile input, full disk, key hygiene).
pub struct Lab {
    workspace: Workspace,
    pub admin: SecretKey,
    pub key_file: PathBuf,
}

impl Deref for Lab {
    type Target = Workspace;
    fn deref(&self) -> &Workspace {
        &self.workspace
    }
}

impl Lab {
    pub fn new() -> Lab {
        Self::in_workspace(Workspace::new())
    }

    pub fn in_workspace(workspace: Workspace) -> Lab {
        let admin = new_key("admin");
        let key_file = workspace.path("admin.key");
        admin.write_new(&key_file).expect("write key");
        Lab {
            workspace,
            admin,
            key_file,
        }
    }

    /// Creates ledger `name` through the library (UTC, genesis now).
    pub fn init(&self, name: &str) -> PathBuf {
        let p = self.path(name);
        Ledger::init(
            &p,
            Origin::new("example.gov/robustness").unwrap(),
            &Zone::utc(),
            &self.admin,
            None,
        )
        .expect("init");
        p
    }

    /// The admin's key file, as an argument.
    pub fn admin_key(&self) -> String {
        self.key_file.display().to_string()
    }
}

/// A new random key named `name`.
pub fn new_key(name: &str) -> SecretKey {
    SecretKey::generate(AuthorityName::new(name).unwrap())
}

/// The subject of a grant entry.
pub fn grant_subject(e: &Entry) -> Option<&str> {
    match e.body() {
        Event::Grant { subject, .. } => Some(subject.as_str()),
        _ => None,
    }
}

/// Opens the ledger, runs the full `verify`, and returns every entry, or a
/// description of what failed.
pub fn open_verified(dir: &Path) -> Result<Vec<Entry>, String> {
    let ledger = Ledger::open(dir, LOCK_WAIT).map_err(|e| format!("open: {e}"))?;
    let report = ledger
        .verify(|_, _| {})
        .map_err(|e| format!("verify: {e}"))?;
    let mut out = Vec::with_capacity(report.entries as usize);
    for seq in 0..ledger.len() {
        match ledger.entry(seq) {
            Ok(Some(e)) => out.push(e),
            Ok(None) => return Err(format!("entry {seq} missing below len {}", ledger.len())),
            Err(e) => return Err(format!("entry {seq}: {e}")),
        }
    }
    if out.len() as u64 != report.entries {
        return Err(format!(
            "verify saw {} entries, read back {}",
            report.entries,
            out.len()
        ));
    }
    Ok(out)
}

/// The exact bytes of every entry (for "nothing was written" comparisons).
pub fn entry_bytes(dir: &Path) -> Vec<Vec<u8>> {
    open_verified(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .iter()
        .map(|e| e.bytes().to_vec())
        .collect()
}

/// Mode bits of a file.
pub fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

pub fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Copies the directory tree `from` to `to` (created).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}
