//! Workflow: the disk fills up while the ledger is being written. The write
//! fails with one clear line naming the ledger and the cause, nothing that
//! failed is in the ledger, every earlier entry is intact, and once there is
//! room again the ledger verifies and takes appends.
//!
//! Each test mounts a small tmpfs (we run as root in CI); where mounting is not
//! permitted the test prints why and passes without checking anything.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use access_ledger::{Ledger, LedgerError};

use crate::util::{
    assert_one_line_error, entry_bytes, grant_subject, new_grant, open_verified, Lab,
};

/// A tmpfs of a given size, unmounted on drop.
struct Tmpfs {
    _dir: tempfile::TempDir,
    mount: PathBuf,
}

impl Tmpfs {
    fn mount(size: &str) -> Result<Tmpfs, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let mount = dir.path().join("mnt");
        std::fs::create_dir(&mount).map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(&mount)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "mount -t tmpfs failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(Tmpfs { _dir: dir, mount })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.mount.join(name)
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let ok = Command::new("umount")
            .arg(&self.mount)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !ok {
            // Something still has a file open: detach it so the mount goes away.
            let _ = Command::new("umount").arg("-l").arg(&self.mount).status();
        }
    }
}

/// Mounts a tmpfs or explains why the test is skipped.
fn tmpfs_or_skip(test: &str, size: &str) -> Option<Tmpfs> {
    match Tmpfs::mount(size) {
        Ok(t) => Some(t),
        Err(why) => {
            eprintln!("SKIPPED {test}: {why}");
            None
        }
    }
}

/// Fills the file system holding `dir` to the last byte; returns the filler.
fn fill(dir: &Path) -> PathBuf {
    let p = dir.join("filler");
    let mut f = std::fs::File::create(&p).unwrap();
    let chunk = vec![0xAB; 64 * 1024];
    while f.write_all(&chunk).is_ok() {}
    while f.write_all(&[0xAB]).is_ok() {}
    let _ = f.sync_all();
    p
}

/// Leaves `room` bytes free by shortening the filler.
fn make_room(filler: &Path, room: u64) {
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(filler)
        .unwrap();
    let len = f.metadata().unwrap().len();
    f.set_len(len.saturating_sub(room)).unwrap();
}

fn is_disk_full(msg: &str) -> bool {
    msg.contains("No space left on device")
}

#[test]
fn a_full_disk_fails_an_append_cleanly_and_loses_nothing() {
    let Some(fs) = tmpfs_or_skip(
        "a_full_disk_fails_an_append_cleanly_and_loses_nothing",
        "4m",
    ) else {
        return;
    };
    let lab = Lab::new();
    let dir = fs.path("ledger");
    Ledger::init(
        &dir,
        access_ledger::Origin::new("example.gov/full").unwrap(),
        &access_ledger::Zone::utc(),
        &lab.admin,
        None,
    )
    .unwrap();
    let mut ledger = Ledger::open(&dir, Duration::from_secs(5)).unwrap();
    let mut acked = Vec::new();
    for i in 0..10 {
        let s = format!("agency:before-{i}");
        ledger.append(&lab.admin, vec![new_grant(&s)]).unwrap();
        acked.push(s);
    }
    let filler = fill(&fs.mount);
    // Append batches until the store needs space it cannot get.
    let mut failure = None;
    for b in 0..400 {
        let batch: Vec<String> = (0..50).map(|k| format!("agency:full-{b}-{k}")).collect();
        match ledger.append(&lab.admin, batch.iter().map(|s| new_grant(s)).collect()) {
            Ok(_) => acked.extend(batch),
            Err(e) => {
                failure = Some((e, batch));
                break;
            }
        }
    }
    let (err, failed_batch) = failure.expect("the disk never filled up");
    let msg = err.to_string();
    assert!(matches!(err, LedgerError::Store(_)), "{msg}");
    assert!(is_disk_full(&msg), "not a clear disk-full error: {msg}");
    assert!(
        msg.contains(&dir.display().to_string()),
        "does not name the ledger: {msg}"
    );
    // Further appends fail the same clear way; nothing panics.
    let again = ledger
        .append(&lab.admin, vec![new_grant("agency:still-full")])
        .expect_err("an append on a full disk");
    assert!(!again.to_string().is_empty());
    drop(ledger);
    // Opening it again while the disk is still full fails cleanly or works.
    if let Err(e) = Ledger::open(&dir, Duration::from_secs(5)) {
        assert!(is_disk_full(&e.to_string()), "{e}");
    }

    std::fs::remove_file(&filler).unwrap();
    let entries = open_verified(&dir).unwrap_or_else(|e| {
        panic!("after the disk filled and was freed, the ledger does not open and verify: {e}")
    });
    let subjects: Vec<&str> = entries.iter().skip(1).filter_map(grant_subject).collect();
    assert_eq!(
        &subjects[..acked.len()],
        &acked.iter().map(String::as_str).collect::<Vec<_>>()[..],
        "an acknowledged entry was lost or moved"
    );
    // The failed batch is whole or absent (an error means "unknown outcome",
    // never "half written"); nothing else is there.
    let rest = &subjects[acked.len()..];
    assert!(
        rest.is_empty() || rest == failed_batch.iter().map(String::as_str).collect::<Vec<_>>(),
        "after the failed append the ledger holds {} unexpected entries",
        rest.len()
    );
    let mut ledger = Ledger::open(&dir, Duration::from_secs(5)).unwrap();
    ledger
        .append(&lab.admin, vec![new_grant("agency:after")])
        .expect("appends work again once there is room");
    drop(ledger);
    open_verified(&dir).unwrap();
    println!(
        "disk-full: append failed with \"{msg}\"; {} acknowledged entries kept, failed batch {}",
        acked.len(),
        if rest.is_empty() { "absent" } else { "whole" }
    );
}

#[test]
fn the_cli_reports_a_full_disk_in_one_line_and_writes_nothing() {
    let Some(fs) = tmpfs_or_skip(
        "the_cli_reports_a_full_disk_in_one_line_and_writes_nothing",
        "16m",
    ) else {
        return;
    };
    let lab = Lab::new();
    let dir = fs.path("ledger");
    let (code, _, err) = lab.run_on(
        &dir,
        &[
            "init",
            "--origin",
            "example.gov/full",
            "--time-zone",
            "UTC",
            "--key",
            &lab.admin_key(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    for i in 0..5 {
        let s = format!("agency:before-{i}");
        let (code, _, err) = lab.run_on(
            &dir,
            &[
                "grant",
                &s,
                "cpd/clear",
                "--rights",
                "read",
                "--key",
                &lab.admin_key(),
            ],
        );
        assert_eq!(code, 0, "{err}");
    }
    let mut before = entry_bytes(&dir);
    // The last process before the disk fills is a writer, so the next one to
    // open the ledger has to write a fresh snapshot of sled's page table.
    let (code, _, err) = lab.run_on(
        &dir,
        &[
            "grant",
            "agency:last-before-full",
            "cpd/clear",
            "--rights",
            "read",
            "--key",
            &lab.admin_key(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let batch = lab.path("batch.jsonl");
    let mut f = std::fs::File::create(&batch).unwrap();
    for k in 0..1500 {
        writeln!(
            f,
            r#"{{"type":"grant","subject":"agency:bulk-{k}","resource":"cpd/clear","rights":["read"],"basis":"a fairly long basis so that the batch needs more than one log segment of the store"}}"#
        )
        .unwrap();
    }
    drop(f);
    let filler = fill(&fs.mount);
    let batch_arg = batch.display().to_string();
    let key = lab.admin_key();
    let import = ["import", &batch_arg, "--key", &key];
    // Even a reader on a full disk must leave the ledger readable.
    let (code, out, err) = lab.run_on(&dir, &["verify"]);
    match code {
        0 => assert!(out.starts_with("ok: "), "{out}"),
        6 => assert_one_line_error(&err, "No space left on device"),
        c => panic!("verify on a full disk: exit {c}: {err}"),
    }
    // Full to the last byte, then with room to open the ledger but not to
    // write the batch: the import needs a new log segment either way.
    for (what, room) in [("full disk", 0), ("almost full disk", 128 * 1024)] {
        if room > 0 {
            make_room(&filler, room);
        }
        let (code, out, err) = lab.run_on(&dir, &import);
        assert_eq!(code, 6, "{what}: exit {code}: {out}{err}");
        assert_one_line_error(&err, "No space left on device");
        assert!(
            err.contains(&dir.display().to_string()),
            "{what}: does not name the ledger: {err}"
        );
        assert!(!out.contains("imported"), "{what}: {out}");
    }
    // A single grant may still fit in space the store already holds; then it
    // is written and acknowledged like any other, else refused the same way.
    let (code, out, err) = lab.run_on(
        &dir,
        &[
            "grant",
            "agency:small",
            "cpd/clear",
            "--rights",
            "read",
            "--key",
            &key,
        ],
    );
    let small_written = match code {
        0 => {
            assert!(out.starts_with("appended seq "), "{out}");
            true
        }
        6 => {
            assert_one_line_error(&err, "No space left on device");
            false
        }
        c => panic!("grant on a full disk: exit {c}: {err}"),
    };
    std::fs::remove_file(&filler).unwrap();
    let (code, _, err) = lab.run_on(&dir, &["verify"]);
    assert_eq!(
        code, 0,
        "after the disk was freed the ledger does not verify: {err}"
    );
    let after = entry_bytes(&dir);
    before.push(after[before.len()].clone());
    assert_eq!(
        &after[..before.len()],
        &before[..],
        "an earlier entry changed"
    );
    assert_eq!(
        after.len(),
        before.len() + usize::from(small_written),
        "a refused import left something behind"
    );
    let (code, out, err) = lab.run_on(&dir, &["verify"]);
    assert_eq!(code, 0, "after the disk was freed: {err}");
    assert!(
        out.contains(&format!("ok: {} entries verified", after.len())),
        "{out}"
    );
    let (code, _, err) = lab.run_on(&dir, &import);
    assert_eq!(code, 0, "once there is room the same import works: {err}");
}

#[test]
fn init_on_a_full_disk_fails_in_one_line() {
    let Some(fs) = tmpfs_or_skip("init_on_a_full_disk_fails_in_one_line", "1m") else {
        return;
    };
    let lab = Lab::new();
    let dir = fs.path("ledger");
    let filler = fill(&fs.mount);
    let (code, out, err) = lab.run_on(
        &dir,
        &[
            "init",
            "--origin",
            "example.gov/full",
            "--time-zone",
            "UTC",
            "--key",
            &lab.admin_key(),
        ],
    );
    assert_eq!(code, 6, "exit {code}: {out}{err}");
    assert_one_line_error(&err, "No space left on device");
    std::fs::remove_file(&filler).unwrap();
    // Whatever the failed init left is never mistaken for a ledger.
    if dir.exists() {
        let (code, _, err) = lab.run_on(&dir, &["verify"]);
        assert!(code == 6 || code == 4, "{err}");
        assert_one_line_error(&err, "");
    }
}
