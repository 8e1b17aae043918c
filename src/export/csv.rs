//! The bundle's CSV files: RFC 4180 (CRLF line ends, fields quoted where
//! needed), UTF-8, a header row; times as ISO 8601 with the offset of the
//! ledger's zone; every text cell a spreadsheet would run as a formula
//! neutralised by a leading apostrophe (docs/OVERSIGHT.md).

use std::borrow::Cow;

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

/// The bytes of a CSV file.
pub(crate) fn write(table: &Table, zone: &Zone) -> Vec<u8> {
    let mut w = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .from_writer(Vec::new());
    // Writing to memory cannot fail, and every row has the header's length.
    w.write_record(table.header).expect("CSV to memory");
    for row in &table.rows {
        w.write_record(row.iter().map(|c| cell_text(c, zone)))
            .expect("CSV to memory");
    }
    w.into_inner().expect("CSV to memory")
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
pub(crate) fn compare(expected: &Table, found: &[u8]) -> Result<(), Mismatch> {
    let mut r = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(found);
    // The line number, kept up to date by counting the newlines since the
    // previous record's start only (counting from the file's start for each
    // record made a large table quadratic).
    let mut line = 1u64;
    let mut counted = 0usize;
    let mut want_rows = std::iter::once(None).chain(expected.rows.iter().map(Some));
    loop {
        // The line the next record starts on, counting the newlines inside
        // quoted fields too (a text editor's line number).
        let mut start = usize::try_from(r.position().byte())
            .unwrap_or(usize::MAX)
            .min(found.len());
        // The reader stops after a CR and counts the LF of a CRLF as the
        // next record's first byte.
        while found.get(start).is_some_and(|b| matches!(b, b'\r' | b'\n')) {
            start += 1;
        }
        line += found[counted..start]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64;
        counted = start;
        let mut record = ::csv::StringRecord::new();
        let read = r.read_record(&mut record);
        let got = match read {
            Ok(true) => Some(Ok(record)),
            Ok(false) => None,
            Err(e) => Some(Err(e)),
        };
        let (want, got) = match (want_rows.next(), got) {
            (None, None) => return Ok(()),
            (Some(_), None) => {
                return Err(Mismatch {
                    line,
                    what: "rows are missing (the file ends early)".into(),
                })
            }
            (None, Some(_)) => {
                return Err(Mismatch {
                    line,
                    what: "a row was added that the entries do not give".into(),
                })
            }
            (Some(w), Some(g)) => (w, g),
        };
        let got = got.map_err(|e| Mismatch {
            line,
            what: format!("not valid CSV: {e}"),
        })?;
        let width = expected.header.len();
        if got.len() != width {
            return Err(Mismatch {
                line,
                what: format!("{} cells, expected {width}", got.len()),
            });
        }
        for (i, cell) in got.iter().enumerate() {
            let ok = match want {
                None => cell == expected.header[i],
                Some(row) => match &row[i] {
                    Cell::Text(s) => cell == neutralise(s),
                    Cell::Time(t) => Timestamp::parse_rfc3339(cell).ok() == Some(*t),
                },
            };
            if !ok {
                let column = expected.header[i];
                let want_text = match want {
                    None => column.to_owned(),
                    Some(row) => match &row[i] {
                        Cell::Text(s) => neutralise(s).into_owned(),
                        Cell::Time(t) => t.rfc3339(),
                    },
                };
                return Err(Mismatch {
                    line,
                    what: format!(
                        "column {column}: {cell:?} is not what the entries give ({want_text:?})"
                    ),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        compare(&t, &bytes).unwrap();
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
