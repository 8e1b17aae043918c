//! The `access-ledger` command: parse arguments, run one command, map the
//! result to an exit code. Everything else lives in the library and `cli`;
//! `allocator` sets the memory allocator the command runs on.

mod allocator;
mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    match cli::parse().and_then(cli::run) {
        Ok(code) => ExitCode::from(code),
        // A closed standard output (`log | head -1`) reports nothing and exits 0.
        Err(failure) => failure.report(),
    }
}
