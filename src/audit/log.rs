//! Reading an access log as a database writes it: CSV with a header row, or
//! JSON Lines, one access per row, streamed (one row in memory at a time)
//! with the line number of each row.
//!
//! A row that cannot be read (a CSV record with the wrong number of fields,
//! a line that is not a JSON object, a missing field, text that is not
//! UTF-8) is a [`BadRow`] naming its line; the reader goes on with the next
//! row, so the caller decides whether one bad row stops the audit. Only a
//! failure to read the file at all ([`LogError`]) ends the stream.

use std::io::{BufRead, BufReader, Read};

use serde::{Deserialize, Serialize};

use super::mapping::Columns;

/// The two log formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Comma-separated values with a header row naming the columns.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

/// One access as the log wrote it, before mapping.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RawRow {
    /// Line number in the file, from 1 (for CSV, where the record starts).
    pub line: u64,
    /// The time text.
    pub time: String,
    /// The account.
    pub account: String,
    /// The account's agency, if the log has the column and the row a value.
    pub agency: Option<String>,
    /// The object accessed.
    pub object: String,
    /// The action.
    pub action: String,
    /// The agency acted for, if the log has the column and the row a value.
    pub on_behalf_of: Option<String>,
}

/// A row that could not be read, with its line number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct BadRow {
    /// Line number, from 1.
    pub line: u64,
    /// What is wrong with it.
    pub message: String,
}

/// The log could not be read at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogError {
    /// Reading failed.
    #[error("cannot read the access log: {0}")]
    Io(#[from] std::io::Error),
    /// The CSV header lacks a column the mapping names.
    #[error("the access log's header has no column {column:?} (the mapping's columns.{field}); it has: {found}")]
    MissingColumn {
        /// The mapping's field.
        field: &'static str,
        /// The column name the mapping gives.
        column: String,
        /// The header's columns.
        found: String,
    },
    /// The CSV header could not be read.
    #[error("cannot read the access log's CSV header: {0}")]
    Header(String),
}

/// A streaming reader of an access log: an iterator of rows.
pub struct AccessLog<R: Read> {
    inner: Inner<R>,
    bytes: u64,
}

enum Inner<R: Read> {
    Csv {
        reader: csv::Reader<R>,
        record: csv::ByteRecord,
        index: [Option<usize>; 6],
    },
    Jsonl {
        reader: BufReader<R>,
        line: u64,
        buf: Vec<u8>,
        columns: Columns,
    },
}

const FIELDS: [&str; 6] = [
    "time",
    "account",
    "object",
    "action",
    "agency",
    "on_behalf_of",
];

fn names(c: &Columns) -> [Option<&str>; 6] {
    [
        Some(c.time.as_str()),
        Some(c.account.as_str()),
        Some(c.object.as_str()),
        Some(c.action.as_str()),
        c.agency.as_deref(),
        c.on_behalf_of.as_deref(),
    ]
}

impl<R: Read> AccessLog<R> {
    /// Starts reading `input` in `format`, with the mapping's `columns`. For
    /// CSV this reads the header and checks that every named column is in it.
    pub fn new(input: R, format: LogFormat, columns: &Columns) -> Result<Self, LogError> {
        let inner = match format {
            LogFormat::Csv => {
                let mut reader = csv::ReaderBuilder::new()
                    .has_headers(true)
                    .flexible(false)
                    .from_reader(input);
                let header = reader
                    .byte_headers()
                    .map_err(|e| match e.into_kind() {
                        csv::ErrorKind::Io(io) => LogError::Io(io),
                        k => LogError::Header(format!("{k:?}")),
                    })?
                    .clone();
                let found: Vec<String> = header
                    .iter()
                    .map(|h| String::from_utf8_lossy(h).trim().to_owned())
                    .collect();
                let mut index = [None; 6];
                for (i, name) in names(columns).iter().enumerate() {
                    let Some(name) = name else { continue };
                    index[i] = Some(found.iter().position(|h| h == name).ok_or_else(|| {
                        LogError::MissingColumn {
                            field: FIELDS[i],
                            column: (*name).to_owned(),
                            found: found.join(", "),
                        }
                    })?);
                }
                Inner::Csv {
                    reader,
                    record: csv::ByteRecord::new(),
                    index,
                }
            }
            LogFormat::Jsonl => Inner::Jsonl {
                reader: BufReader::with_capacity(1 << 16, input),
                line: 0,
                buf: Vec::new(),
                columns: columns.clone(),
            },
        };
        Ok(AccessLog { inner, bytes: 0 })
    }

    /// Bytes read so far (for progress).
    pub fn bytes_read(&self) -> u64 {
        match &self.inner {
            Inner::Csv { reader, .. } => reader.position().byte(),
            Inner::Jsonl { .. } => self.bytes,
        }
    }

    /// The next row: `None` at the end, `Some(Err(BadRow))` for a row that
    /// cannot be read, `Err` when the file itself cannot be read.
    pub fn next_row(&mut self) -> Result<Option<Result<RawRow, BadRow>>, LogError> {
        match &mut self.inner {
            Inner::Csv {
                reader,
                record,
                index,
            } => {
                let line = reader.position().line();
                match reader.read_byte_record(record) {
                    Ok(false) => Ok(None),
                    Ok(true) => {
                        let line = record.position().map_or(line, |p| p.line());
                        Ok(Some(csv_row(record, index, line)))
                    }
                    Err(e) => {
                        let line = e.position().map_or(line, |p| p.line());
                        match e.into_kind() {
                            csv::ErrorKind::Io(io) => Err(LogError::Io(io)),
                            csv::ErrorKind::UnequalLengths {
                                expected_len, len, ..
                            } => Ok(Some(Err(BadRow {
                                line,
                                message: format!(
                                    "expected {expected_len} fields as in the header, found {len}"
                                ),
                            }))),
                            k => Ok(Some(Err(BadRow {
                                line,
                                message: format!("not a CSV record: {k:?}"),
                            }))),
                        }
                    }
                }
            }
            Inner::Jsonl {
                reader,
                line,
                buf,
                columns,
            } => loop {
                buf.clear();
                let n = reader.read_until(b'\n', buf)?;
                if n == 0 {
                    return Ok(None);
                }
                self.bytes += n as u64;
                *line += 1;
                let text = match std::str::from_utf8(buf) {
                    Ok(t) => t.trim(),
                    Err(_) => {
                        return Ok(Some(Err(BadRow {
                            line: *line,
                            message: "not UTF-8 text".into(),
                        })))
                    }
                };
                if text.is_empty() {
                    continue;
                }
                return Ok(Some(json_row(text, columns, *line)));
            },
        }
    }
}

fn csv_row(
    record: &csv::ByteRecord,
    index: &[Option<usize>; 6],
    line: u64,
) -> Result<RawRow, BadRow> {
    let mut v: [Option<String>; 6] = Default::default();
    for (i, at) in index.iter().enumerate() {
        let Some(at) = at else { continue };
        let bytes = record.get(*at).unwrap_or_default();
        let s = std::str::from_utf8(bytes).map_err(|_| BadRow {
            line,
            message: format!("field {} is not UTF-8 text", FIELDS[i]),
        })?;
        v[i] = Some(s.trim().to_owned());
    }
    assemble(v, line)
}

fn json_row(text: &str, columns: &Columns, line: u64) -> Result<RawRow, BadRow> {
    let bad = |message: String| BadRow { line, message };
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| bad(format!("not JSON: {e}")))?;
    let obj = value
        .as_object()
        .ok_or_else(|| bad("not a JSON object".into()))?;
    let mut v: [Option<String>; 6] = Default::default();
    for (i, name) in names(columns).iter().enumerate() {
        let Some(name) = name else { continue };
        v[i] = match obj.get(*name) {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(s)) => Some(s.trim().to_owned()),
            // Times as numbers (unix seconds) are written without quotes.
            Some(serde_json::Value::Number(n)) => Some(n.to_string()),
            Some(_) => {
                return Err(bad(format!(
                    "field {:?} ({}) is not a string",
                    name, FIELDS[i]
                )))
            }
        };
        if i < 4 && v[i].is_none() {
            return Err(bad(format!("missing field {:?} ({})", name, FIELDS[i])));
        }
    }
    assemble(v, line)
}

fn assemble(v: [Option<String>; 6], line: u64) -> Result<RawRow, BadRow> {
    let [time, account, object, action, agency, on_behalf_of] = v;
    let required = |i: usize, x: Option<String>| match x {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err(BadRow {
            line,
            message: format!("empty {}", FIELDS[i]),
        }),
    };
    let optional = |x: Option<String>| x.filter(|s| !s.is_empty());
    Ok(RawRow {
        line,
        time: required(0, time)?,
        account: required(1, account)?,
        object: required(2, object)?,
        action: required(3, action)?,
        agency: optional(agency),
        on_behalf_of: optional(on_behalf_of),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns() -> Columns {
        Columns {
            time: "time".into(),
            account: "user".into(),
            object: "object".into(),
            action: "action".into(),
            agency: Some("agency".into()),
            on_behalf_of: None,
        }
    }

    fn all<R: Read>(mut log: AccessLog<R>) -> Vec<Result<RawRow, BadRow>> {
        let mut out = vec![];
        while let Some(r) = log.next_row().unwrap() {
            out.push(r);
        }
        out
    }

    #[test]
    fn csv_rows_carry_their_line_numbers_and_bad_records_do_not_stop_the_stream() {
        let text = "time,user,agency,object,action\n\
                    2019-07-01T00:00:00Z,jdoe,CPD,CLEAR,SELECT\n\
                    2019-07-01T00:00:00Z,jdoe,CPD\n\
                    \"2019-07-02T00:00:00Z\",\"multi\nline\",,CLEAR,SELECT\n\
                    ,jdoe,CPD,CLEAR,SELECT\n\
                    2019-07-03T00:00:00Z,x,CPD,CLEAR,SELECT\n";
        let rows = all(AccessLog::new(text.as_bytes(), LogFormat::Csv, &columns()).unwrap());
        assert_eq!(rows.len(), 5);
        let r0 = rows[0].as_ref().unwrap();
        assert_eq!(
            (r0.line, r0.account.as_str(), r0.agency.as_deref()),
            (2, "jdoe", Some("CPD"))
        );
        assert_eq!(rows[1].as_ref().unwrap_err().line, 3);
        let r2 = rows[2].as_ref().unwrap();
        assert_eq!((r2.line, r2.agency.as_deref()), (4, None));
        assert_eq!(
            rows[3].as_ref().unwrap_err(),
            &BadRow {
                line: 6,
                message: "empty time".into()
            }
        );
        assert_eq!(rows[4].as_ref().unwrap().line, 7);
    }

    #[test]
    fn a_header_without_a_mapped_column_is_refused() {
        let e = AccessLog::new("time,user\n".as_bytes(), LogFormat::Csv, &columns())
            .err()
            .unwrap();
        assert!(e.to_string().contains("no column \"object\""), "{e}");
    }

    #[test]
    fn jsonl_rows_skip_blank_lines_and_name_bad_ones() {
        let text = "{\"time\":\"2019-07-01T00:00:00Z\",\"user\":\"jdoe\",\"object\":\"CLEAR\",\"action\":\"SELECT\"}\n\n\
                    not json\n\
                    {\"time\":1562000000,\"user\":\"jdoe\",\"object\":\"CLEAR\",\"action\":\"SELECT\",\"agency\":\"CPD\"}\n\
                    {\"time\":\"x\",\"user\":\"jdoe\",\"object\":\"CLEAR\"}\n";
        let rows = all(AccessLog::new(text.as_bytes(), LogFormat::Jsonl, &columns()).unwrap());
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[0].as_ref().unwrap().line, 1);
        assert_eq!(rows[1].as_ref().unwrap_err().line, 3);
        let r = rows[2].as_ref().unwrap();
        assert_eq!(
            (r.line, r.time.as_str(), r.agency.as_deref()),
            (4, "1562000000", Some("CPD"))
        );
        let e = rows[3].as_ref().unwrap_err();
        assert_eq!(e.line, 5);
        assert!(e.message.contains("missing field \"action\""), "{e}");
    }
}
