//! The integration tests: one crate, linked once, with one module per user
//! workflow and one helper module (`util`). Most run the real binary in a
//! temporary directory; the CLI's refusals are snapshot cases in `tests/cmd/`
//! (see `bad_input`).
//!
//! Cargo.toml sets `autotests = false`, so a file in `tests/` is compiled only
//! when it is declared here; `every_test_file_is_a_module` checks that none
//! is forgotten.
//!
//! Run one workflow with `cargo test --test integration <module>::`.

mod util;

mod append_verify;
mod as_of;
mod audit;
mod back_door;
mod bad_input;
mod batch;
mod checkpoint;
mod compat;
mod concurrency;
mod crash;
mod disk_full;
mod export;
mod hostile;
mod insider;
mod interop;
mod invalid_vectors;
mod keys;
mod migrate;
mod query_differential;
mod query_semantics;
mod readme;
mod roundtrip;
mod storage;
mod synth;
mod tamper;
mod tiles;
mod vectors;

/// Every `tests/*.rs` is declared above: with `autotests = false` a file
/// that is not would silently never run.
#[test]
fn every_test_file_is_a_module() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let this = std::fs::read_to_string(dir.join("tests.rs")).unwrap();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if path.extension().is_some_and(|e| e == "rs") && stem != "tests" {
            assert!(
                this.contains(&format!("\nmod {stem};\n")),
                "tests/{stem}.rs is not declared in tests/tests.rs, so it never runs"
            );
        }
    }
}
