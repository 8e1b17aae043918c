//! Workflow: a person or a script feeds the ledger something wrong. Every
//! refusal is one line naming what is wrong, a documented exit code, and
//! nothing written.
//!
//! The refusals are snapshot cases, `tests/cmd/<case>.md`, one test each:
//! a case is a session of `$ access-ledger …` commands run in order in one
//! fresh directory (with the files of `<case>.in/`, if any), and pins each
//! command's exit code (`? N`) and its exact output (stdout and stderr
//! together, which for a refusal is its stderr). Random output (keys, hashes,
//! the clock) is elided with `[..]` or `...`. A case with a ledger ends with
//! `log`, which shows that the refusals wrote nothing. `chmod` runs too: git
//! keeps no file modes, and a key file others can read is refused.
//!
//! After a deliberate change of a message, refresh the snapshots with
//! `TRYCMD=overwrite cargo test --test integration bad_input::`, then review
//! the diff and elide again what is random.

use std::path::{Path, PathBuf};

use crate::util::BIN;

/// Runs `tests/cmd/<case>.md`.
fn run(case: &str) {
    let file = Path::new("tests/cmd").join(case).with_extension("md");
    // trycmd runs a case in a fresh temporary directory only when it has a
    // `<case>.out/`; without one, the commands would run in the repository.
    assert!(
        file.with_extension("out").is_dir(),
        "{} needs a {} directory (with a .keep file)",
        file.display(),
        file.with_extension("out").display()
    );
    trycmd::TestCases::new()
        .register_bin("access-ledger", Path::new(BIN))
        .register_bin("chmod", Path::new("/bin/chmod"))
        // The binary's default, so that a caller's own setting cannot leak in.
        .env("ACCESS_LEDGER_DIR", "ledger")
        .case(file);
}

macro_rules! cases {
    ($($test:ident => $case:literal,)*) => {
        $(
            #[test]
            fn $test() {
                run($case);
            }
        )*

        /// Every case in `tests/cmd/`, by name.
        const CASES: &[&str] = &[$($case),*];
    };
}

cases! {
    bad_arguments_are_refused_with_nothing_written => "bad-arguments",
    group_cycles_are_refused => "group-cycles",
    keys_that_are_not_authorities_or_not_keys_are_refused => "keys-not-authorities",
    import_names_the_bad_line_and_writes_nothing => "import-bad-lines",
    an_import_line_with_a_duplicate_key_is_refused => "import-duplicate-key",
    directories_that_are_not_ledgers_are_refused => "not-a-ledger",
    keys_never_go_into_a_ledger_directory => "keys-never-enter-a-ledger",
    a_wait_that_is_not_a_number_is_refused => "wait-not-a-number",
    hostile_command_lines_are_refused => "hostile-commands",
}

/// A case file that no test above names would never run.
#[test]
fn every_case_has_a_test() {
    let mut found: Vec<PathBuf> = std::fs::read_dir("tests/cmd")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    found.sort();
    let mut named: Vec<PathBuf> = CASES
        .iter()
        .map(|c| Path::new("tests/cmd").join(c).with_extension("md"))
        .collect();
    named.sort();
    assert_eq!(found, named, "tests/cmd/*.md and the cases of bad_input.rs");
}
