//! The bundle's CSV files: RFC 4180 (CRLF line ends, fields quoted where
//! needed), UTF-8, a header row; times as ISO 8601 with the offset of the
//! ledger's zone; every text cell a spreadsheet would run as a formula
//! neutralised by a leading apostrophe (docs/OVERSIGHT.md).

use std::borrow::Cow;
use std::io::{Read, Write};

use super::tables::{Cell, Table};
use crate::time::{Timestamp, Zone};

/// The characters that make a spreadsheet read a cell as a formula (or
/// split it, for tab and carriage return) when they start it.
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// `s` as a CSV cell: prefixed with `'` when it starts with one of
/// [`FORMULA_START`], so that a spreadsheet shows it as text. Reversible:
/// a cell that starts with `'` is prefixed too, so the first `'` of a cell
/// is always one this function added.
pub(crate) fn neutralise(s: &str) -> Cow<'_, str> {
    match s.chars().next() {
        Some(c) if FORMULA_START.contains(&c) || c == '\'' => Cow::Owned(format!("'{s}")),
        _ => Cow::Borrowed(s),
    }
}

/// The text of a cell as written.
pub(crate) fn cell_text(c: &Cell, zone: &Zone) -> String {
    match c {
        Cell::Text(s) => neutralise(s).into_owned(),
        Cell::Time(t) => t.iso8601(zone),
    }
}

/// A CSV file written row by row (the access matrices at a million entries
/// are hundreds of MB: they are never held whole).
pub(crate) struct Writer<W: Write> {
    w: ::csv::Writer<W>,
    zone: Zone,
}

impl<W: Write> Writer<W> {
    /// A file with `header` as its first row.
    pub(crate) fn new(inner: W, header: &[&str], zone: Zone) -> Self {
        let mut w = ::csv::WriterBuilder::new()
            .terminator(::csv::Terminator::CRLF)
            .from_writer(inner);
        // The first write only fills the csv crate's buffer.
        let _ = w.write_record(header);
        Writer { w, zone }
    }

    /// One more row, with the header's number of cells.
    pub(crate) fn row(&mut self, row: &[Cell]) -> std::io::Result<()> {
        self.w
            .write_record(row.iter().map(|c| cell_text(c, &self.zone)))
            .map_err(std::io::Error::other)
    }

    /// Flushes and hands back the inner writer.
    pub(crate) fn finish(self) -> std::io::Result<W> {
        self.w.into_inner().map_err(|e| e.into_error())
    }
}

/// Where a CSV file differs from the table recomputed from the entries.
#[derive(Debug)]
pub(crate) struct Mismatch {
    /// 1-based line.
    pub(crate) line: u64,
    pub(crate) what: String,
}

/// Compares the CSV file `found` with `expected`, cell by cell: text cells
/// exactly as written (neutralised), time cells as instants (any RFC 3339
/// offset), so the verifying machine's time-zone data does not matter.
pub(crate) fn compare(expected: &Table, found: impl Read) -> Result<(), Mismatch> {
    let mut c = Comparer::new(found, expected.header)?;
    for row in &expected.rows {
        c.row(row)?;
    }
    c.end()
}

/// A CSV file compared with the rows it should hold, given one at a time and
/// read as it goes, as [`compare`] does for a whole table.
pub(crate) struct Comparer<R: Read> {
    r: ::csv::Reader<R>,
    header: &'static [&'static str],
    record: ::csv::StringRecord,
    /// The line the next record starts on: one per record before it, plus
    /// the line ends inside its quoted cells (a text editor's line number).
    line: u64,
}

impl<R: Read> Comparer<R> {
    /// Reads the file's first row, which MUST be `header`.
    pub(crate) fn new(found: R, header: &'static [&'static str]) -> Result<Self, Mismatch> {
        let r = ::csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(found);
        let mut c = Comparer {
            r,
            header,
            record: ::csv::StringRecord::new(),
            line: 1,
        };
        let want: Vec<Cell> = header.iter().map(|h| Cell::Text((*h).to_owned())).collect();
        c.next(Some(&want), true)?;
        Ok(c)
    }

    /// The next row MUST be `want`.
    pub(crate) fn row(&mut self, want: &[Cell]) -> Result<(), Mismatch> {
        self.next(Some(want), false)
    }

    /// The file MUST hold no more rows.
    pub(crate) fn end(mut self) -> Result<(), Mismatch> {
        self.next(None, false)
    }

    fn next(&mut self, want: Option<&[Cell]>, header: bool) -> Result<(), Mismatch> {
        let line = self.line;
        let read = self.r.read_record(&mut self.record);
        let got = match (want, read) {
            (None, Ok(false)) => return Ok(()),
            (Some(_), Ok(false)) => {
                return Err(Mismatch {
                    line,
                    what: "rows are missing (the file ends early)".into(),
                })
            }
            (None, Ok(true)) => {
                return Err(Mismatch {
                    line,
                    what: "a row was added that the entries do not give".into(),
                })
            }
            (_, Err(e)) => {
                return Err(Mismatch {
                    line,
                    what: format!("not valid CSV: {e}"),
                })
            }
            (Some(w), Ok(true)) => w,
        };
        let record = &self.record;
        self.line += 1 + record
            .iter()
            .map(|c| c.bytes().filter(|&b| b == b'\n').count() as u64)
            .sum::<u64>();
        let width = self.header.len();
        if record.len() != width {
            return Err(Mismatch {
                line,
                what: format!("{} cells, expected {width}", record.len()),
            });
        }
        for (i, (cell, want)) in record.iter().zip(got).enumerate() {
            let ok = match want {
                Cell::Text(s) if header => cell == s,
                Cell::Text(s) => cell == neutralise(s),
                Cell::Time(t) => Timestamp::parse_rfc3339(cell).ok() == Some(*t),
            };
            if !ok {
                let column = self.header[i];
                let want_text = match want {
                    Cell::Text(s) if header => s.clone(),
                    Cell::Text(s) => neutralise(s).into_owned(),
                    Cell::Time(t) => t.rfc3339(),
                };
                return Err(Mismatch {
                    line,
                    what: format!(
                        "column {column}: {cell:?} is not what the entries give ({want_text:?})"
                    ),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bytes of a CSV file.
    fn write(table: &Table, zone: &Zone) -> Vec<u8> {
        let mut w = Writer::new(Vec::new(), table.header, zone.clone());
        // Writing to memory cannot fail, and every row has the header's length.
        for row in &table.rows {
            w.row(row).expect("CSV to memory");
        }
        w.finish().expect("CSV to memory")
    }

    #[test]
    fn formula_cells_are_neutralised_and_plain_ones_kept() {
        for (cell, out) in [
            ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"),
            ("+1", "'+1"),
            ("-2", "'-2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("'quoted", "''quoted"),
            ("agency:ice", "agency:ice"),
            ("", ""),
        ] {
            assert_eq!(neutralise(cell), out);
        }
    }

    #[test]
    fn a_table_round_trips_and_a_changed_cell_is_named() {
        let zone = Zone::new("America/Chicago").unwrap();
        let t = Table {
            file: "x.csv",
            header: &["at", "text"],
            rows: vec![
                vec![
                    Cell::Time(Timestamp::from_micros(1_562_734_800_000_000)),
                    Cell::Text("=cmd|' /C calc'!A0, \"quoted\"\nnext".into()),
                ],
                vec![
                    Cell::Time(Timestamp::from_micros(1)),
                    Cell::Text("plain".into()),
                ],
            ],
        };
        let bytes = write(&t, &zone);
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(
            text.starts_with("at,text\r\n2019-07-10T00:00:00-05:00,\"'=cmd"),
            "{text}"
        );
        compare(&t, &bytes[..]).unwrap();
        // The same instant written in UTC still matches.
        let utc = text.replace("2019-07-10T00:00:00-05:00", "2019-07-10T05:00:00Z");
        compare(&t, utc.as_bytes()).unwrap();
        let edited = text.replace("plain", "plane");
        let m = compare(&t, edited.as_bytes()).unwrap_err();
        assert_eq!(m.line, 4, "{m:?}");
        assert!(m.what.contains("column text"), "{m:?}");
        let shifted = text.replace("2019-07-10T00:00:00-05:00", "2019-07-10T00:00:00-04:00");
        assert!(compare(&t, shifted.as_bytes()).is_err());
    }
}
