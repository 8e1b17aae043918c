//! What commands print: the output format, JSON on standard output, notes and
//! progress on standard error.
//!
//! Standard output is written with `writeln!` on a locked `io::stdout()`, and
//! every write is checked: a reader that goes away (`log | head -1`) ends the
//! command quietly and successfully ([`Failure::Closed`]).

use std::borrow::Cow;
use std::fmt;
use std::io::{self, IsTerminal, Write};
use std::time::{Duration, Instant};

use clap::builder::{BoolValueParser, MapValueParser, TypedValueParser, ValueParserFactory};

use super::Failure;

/// How a command prints its answer (`--json` or not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Lines for people.
    Text,
    /// JSON for programs.
    Json,
}

impl ValueParserFactory for Format {
    type Parser = MapValueParser<BoolValueParser, fn(bool) -> Format>;

    /// `--json` is a flag (`ArgAction::SetTrue`): clap hands over a bool.
    fn value_parser() -> Self::Parser {
        BoolValueParser::new().map(|json| if json { Format::Json } else { Format::Text })
    }
}

/// `s` made safe to print among lines for people: newline, tab, every other
/// control character and every invisible character (bidirectional controls
/// and the like, `access_ledger::INVISIBLE`) are written as escapes (`\n`,
/// `\t`, `\u{202e}`), and a backslash as `\\`, so that no field can start a
/// line of its own or reorder the text around it.
pub fn escape(s: &str) -> Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() || c == '\\' || access_ledger::is_invisible(c);
    if !s.chars().any(unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\\' => out.push_str("\\\\"),
            c if unsafe_char(c) => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Writes `value` as pretty JSON and a newline.
pub fn json(out: &mut impl Write, value: &impl serde::Serialize) -> Result<(), Failure> {
    // The answer types are plain data with string keys: they always serialise.
    let text = serde_json::to_string_pretty(value).expect("answers serialise to JSON");
    writeln!(out, "{text}")?;
    Ok(())
}

/// Writes one line on standard error. A closed standard error leaves nobody
/// to tell, so its write errors are dropped.
pub fn note(line: impl fmt::Display) {
    let _ = writeln!(io::stderr(), "{line}");
}

/// A progress line on stderr for long work, only when stderr is a terminal.
pub struct Progress {
    label: &'static str,
    unit: &'static str,
    enabled: bool,
    last: Instant,
}

impl Progress {
    /// Starts reporting `label`, counting entries.
    pub fn new(label: &'static str) -> Self {
        Progress::counting(label, "entries")
    }

    /// Starts reporting `label`, counting `unit` (a plural noun).
    pub fn counting(label: &'static str, unit: &'static str) -> Self {
        Progress {
            label,
            unit,
            enabled: io::stderr().is_terminal(),
            last: Instant::now(),
        }
    }

    /// Reports `done` of `total`, at most a few times a second.
    pub fn update(&mut self, done: u64, total: u64) {
        if !self.enabled || (done < total && self.last.elapsed() < Duration::from_millis(200)) {
            return;
        }
        self.last = Instant::now();
        let pct = (done * 100).checked_div(total).unwrap_or(100);
        let mut err = io::stderr();
        let _ = write!(
            err,
            "\r{}: {done}/{total} {} ({pct}%)",
            self.label, self.unit
        );
        if done >= total {
            let _ = writeln!(err);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escaped_text_stays_on_its_line_and_in_its_order() {
        assert_eq!(escape("plain text, é"), "plain text, é");
        assert_eq!(
            escape("a\nseq 9: grant\tx\\y\u{202e}z\u{1b}[2J\u{85}"),
            "a\\nseq 9: grant\\tx\\\\y\\u{202e}z\\u{1b}[2J\\u{85}"
        );
    }
}
