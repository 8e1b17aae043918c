//! Reading the files a command is given: keys, notes, proofs, entries and
//! import lines. Each failure names the file it could not read.

use std::io::Read;
use std::path::Path;

use access_ledger::{ProofError, SecretKey};

use super::{exit, Failure};

/// Reads a private key file.
pub fn read_key(path: &Path) -> Result<SecretKey, Failure> {
    SecretKey::read(path).map_err(Failure::from)
}

/// Reads a whole file, or says which one could not be read.
pub fn read_file(path: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| cannot_read(&path.display(), e))
}

/// Reads a whole text file.
pub fn read_text(path: &Path) -> Result<String, Failure> {
    String::from_utf8(read_file(path)?)
        .map_err(|_| Failure::usage(format!("{} is not UTF-8 text", path.display())))
}

/// Reads the input of `import`: a file, or standard input for `-`. Returns
/// the name to quote in messages, and the text.
pub fn read_input(path: &Path) -> Result<(String, String), Failure> {
    let name = path.display().to_string();
    let mut text = String::new();
    let read = if name == "-" {
        std::io::stdin().read_to_string(&mut text)
    } else {
        std::fs::File::open(path).and_then(|mut f| f.read_to_string(&mut text))
    };
    read.map_err(|e| cannot_read(&name, e))?;
    Ok((name, text))
}

/// Reads a proof file in its JSON form or its text form (`text_form` parses that).
pub fn read_proof<T: serde::de::DeserializeOwned>(
    path: &Path,
    text_form: impl Fn(&str) -> Result<T, ProofError>,
) -> Result<T, Failure> {
    let text = read_text(path)?;
    let parsed = if text.trim_start().starts_with('{') {
        serde_json::from_str(&text).map_err(|e| e.to_string())
    } else {
        text_form(&text).map_err(|e| e.to_string())
    };
    parsed.map_err(|e| Failure::usage(format!("{}: not a proof: {e}", path.display())))
}

fn cannot_read(name: &dyn std::fmt::Display, e: std::io::Error) -> Failure {
    Failure::new(exit::UNAVAILABLE, format!("cannot read {name}: {e}"))
}
