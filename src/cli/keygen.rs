//! `keygen`: a new signing key file.

use std::io::Write;
use std::path::Path;

use access_ledger::{CosignerKey, KeyError, SecretKey, MARKER_FILE};
use serde_json::json;

use super::args::Keygen;
use super::output::{self, note, Format};
use super::{exit, Failure};

impl Keygen {
    /// Writes the key file (mode 0600) and prints its verifier key.
    pub fn run(self) -> Result<u8, Failure> {
        // Private keys never enter a ledger directory.
        let parent = self
            .out
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        if parent.ancestors().any(|d| d.join(MARKER_FILE).is_file()) {
            return Err(KeyError::InsideLedger(parent.to_owned()).into());
        }
        let key = SecretKey::generate(self.name);
        key.write_new(&self.out)?;
        let vk = key.verifier().to_string();
        let cosigner = CosignerKey::of(&key).to_string();
        let mut out = std::io::stdout().lock();
        match self.format {
            Format::Json => output::json(
                &mut out,
                &json!({"name": key.name().as_str(), "file": self.out, "public_key": vk, "cosigner_key": cosigner}),
            )?,
            Format::Text if self.witness => {
                writeln!(out, "{cosigner}")?;
                note(format_args!(
                    "wrote private key {} (mode 0600); its cosigner key, which checks its cosignatures, is on standard output",
                    self.out.display()
                ));
            }
            Format::Text => {
                writeln!(out, "{vk}")?;
                note(format_args!(
                    "wrote private key {} (mode 0600); its public verifier key is on standard output",
                    self.out.display()
                ));
            }
        }
        Ok(exit::OK)
    }
}
