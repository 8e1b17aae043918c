//! The README's session is a test: every `$ ` line of the console block under
//! "A short session" runs in a fresh directory, in order, with the built
//! binary first on PATH, and the lines shown under it must appear in its
//! output (a line ending in `...` matches as a prefix). A command whose shown
//! output has an `error:` line must fail, one commented `# exit N` must exit
//! with N, and every other command must succeed.

use std::path::PathBuf;
use std::process::Command;

struct Step {
    cmd: String,
    exit: Option<i32>,
    expected: Vec<String>,
}

fn session() -> Vec<Step> {
    let readme =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .unwrap();
    let start = readme
        .find("## A short session")
        .expect("README has a session");
    let block = &readme[start..];
    let block = &block[block.find("```console\n").unwrap() + 11..];
    let block = &block[..block.find("```").unwrap()];
    let mut steps: Vec<Step> = Vec::new();
    for line in block.lines() {
        if let Some(cmd) = line.strip_prefix("$ ") {
            let (cmd, comment) = cmd.split_once("  # ").unwrap_or((cmd, ""));
            let exit = comment
                .strip_prefix("exit ")
                .and_then(|c| c.split(|ch: char| !ch.is_ascii_digit()).next())
                .map(|n| n.parse().expect("an exit code"));
            steps.push(Step {
                cmd: cmd.trim().to_owned(),
                exit,
                expected: Vec::new(),
            });
        } else if !line.trim().is_empty() {
            steps
                .last_mut()
                .expect("output follows a command")
                .expected
                .push(line.to_owned());
        }
    }
    steps
}

#[test]
fn the_readme_session_runs_as_shown() {
    let bin = PathBuf::from(crate::util::BIN);
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let dir = tempfile::tempdir().unwrap();
    let steps = session();
    assert!(steps.len() >= 10, "the session shows every workflow");
    for Step {
        cmd,
        exit,
        expected,
    } in steps
    {
        let out = Command::new("bash")
            .arg("-c")
            .arg(&cmd)
            .current_dir(dir.path())
            .env("PATH", &path)
            .env_remove("ACCESS_LEDGER_DIR")
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        match exit {
            Some(code) => assert_eq!(out.status.code(), Some(code), "`{cmd}`:\n{text}"),
            None => {
                let should_fail = expected.iter().any(|l| l.starts_with("error:"));
                assert_eq!(
                    !out.status.success(),
                    should_fail,
                    "`{cmd}` exit {:?}:\n{text}",
                    out.status.code()
                );
            }
        }
        let mut lines = text.lines();
        for want in &expected {
            let found = match want.strip_suffix("...") {
                Some(prefix) => lines.any(|l| l.starts_with(prefix)),
                None => lines.any(|l| l == want),
            };
            assert!(
                found,
                "`{cmd}`: expected line {want:?} in order in:\n{text}"
            );
        }
    }
}
