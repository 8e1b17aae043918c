//! `keygen`: a new signing key file.

use std::path::Path;

use access_ledger::{AuthorityName, KeyError, SecretKey, MARKER_FILE};
use serde_json::json;

use super::{exit, print_json, Context, Failure};

pub fn run(_ctx: &Context, name: &str, out: &Path, json: bool) -> Result<u8, Failure> {
    let name = AuthorityName::new(name)?;
    // Private keys never enter a ledger directory.
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if parent.ancestors().any(|d| d.join(MARKER_FILE).is_file()) {
        return Err(KeyError::InsideLedger(parent.to_owned()).into());
    }
    let key = SecretKey::generate(name);
    key.write_new(out)?;
    let vk = key.verifier().to_string();
    if json {
        print_json(&json!({"name": key.name().as_str(), "file": out, "public_key": vk}));
    } else {
        println!("{vk}");
        eprintln!(
            "wrote private key {} (mode 0600); its public verifier key is on standard output",
            out.display()
        );
    }
    Ok(exit::OK)
}
