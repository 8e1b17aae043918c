//! `completions` and `man`: generated from the same definition as `--help`.

use std::io::Write;

use clap::CommandFactory;

use super::args::{Cli, Completions, Man};
use super::{exit, Failure};

impl Completions {
    /// Prints the completion script for the shell.
    pub fn run(self) -> Result<u8, Failure> {
        // clap_complete panics on a failed write, so the script is made in
        // memory and written with the checked writes of every other command.
        let mut script = Vec::new();
        clap_complete::generate(
            self.shell,
            &mut Cli::command(),
            "access-ledger",
            &mut script,
        );
        std::io::stdout().lock().write_all(&script)?;
        Ok(exit::OK)
    }
}

impl Man {
    /// Prints the man page.
    pub fn run(self) -> Result<u8, Failure> {
        clap_mangen::Man::new(Cli::command())
            .render(&mut std::io::stdout().lock())
            .map_err(|e| Failure::output("the man page", e))?;
        Ok(exit::OK)
    }
}
