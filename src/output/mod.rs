//! Output sinks for matched records: table, JSON lines, JSON array, CSV. Each writes to a
//! `Write` the caller owns and receives records in output order.

pub mod color;
pub mod sanitize;

use crate::record::actor;
use serde_json::Value;
use std::io::{self, Write};

/// Output formats of `search`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// An aligned table (buffered in blocks of rows).
    Table,
    /// One record per line, exactly as in the input (whitespace removed).
    Jsonl,
    /// One JSON array of records.
    Json,
    /// CSV with a header row; columns from `--fields`.
    Csv,
}

/// Where matched records go.
pub trait Sink {
    /// One record (raw JSON text), in output order.
    fn record(&mut self, raw: &str) -> io::Result<()>;
    /// After the last record.
    fn finish(&mut self) -> io::Result<()>;
}

/// A column: a dotted path into the record, or the computed `actor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// As given (`userIdentity.arn`, `actor`).
    pub path: String,
    /// The table header.
    pub header: String,
}

impl Field {
    /// Parses `--fields a,b.c` (empty: the default columns).
    #[must_use]
    pub fn list(spec: Option<&str>) -> Vec<Field> {
        match spec {
            Some(s) if !s.trim().is_empty() => s
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|p| Field { path: p.to_string(), header: p.to_string() })
                .collect(),
            _ => DEFAULT_FIELDS
                .iter()
                .map(|(p, h)| Field { path: (*p).to_string(), header: (*h).to_string() })
                .collect(),
        }
    }

    /// This column's text for `record`: strings as they are, other values as JSON, missing
    /// fields empty.
    #[must_use]
    pub fn text(&self, record: &Value) -> String {
        if self.path == "actor" {
            return actor(record);
        }
        match lookup(record, &self.path) {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(v) => v.to_string(),
        }
    }
}

/// The record as the columns need it. A record too deeply nested for a full parse is
/// projected to the columns' paths; if even that fails, every column says why.
fn view(raw: &str, fields: &[Field]) -> Value {
    if let Ok(v) = serde_json::from_str(raw) {
        return v;
    }
    let paths = fields
        .iter()
        .map(|f| if f.path == "actor" { "userIdentity".to_string() } else { f.path.clone() });
    match crate::record::KeepSet::new(paths).project(raw) {
        Ok(v) => v,
        Err(e) => {
            let why = Value::String(format!("[unreadable record: {e}]"));
            Value::Object(fields.iter().map(|f| (f.path.clone(), why.clone())).collect())
        }
    }
}

/// The default columns: (path, table header).
pub const DEFAULT_FIELDS: [(&str, &str); 7] = [
    ("eventTime", "time"),
    ("eventName", "event"),
    ("actor", "actor"),
    ("sourceIPAddress", "source IP"),
    ("awsRegion", "region"),
    ("recipientAccountId", "account"),
    ("errorCode", "error"),
];

/// Follows a dotted path; a key holding dots is tried whole first.
#[must_use]
pub fn lookup<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
    if let Some(x) = v.get(path) {
        return Some(x);
    }
    let (head, rest) = path.split_once('.')?;
    lookup(v.get(head)?, rest)
}

/// Removes insignificant whitespace from valid JSON text, byte-exact otherwise.
#[must_use]
pub fn compact(raw: &str) -> std::borrow::Cow<'_, str> {
    if memchr::memchr2(b'\n', b'\r', raw.as_bytes()).is_none() {
        return std::borrow::Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let (mut in_str, mut esc) = (false, false);
    for c in raw.chars() {
        if in_str {
            out.push(c);
            if esc {
                esc = false;
            } else if c == '\\' {
                esc = true;
            } else if c == '"' {
                in_str = false;
            }
        } else if c == '"' {
            in_str = true;
            out.push(c);
        } else if !c.is_ascii_whitespace() {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// JSON lines: each record as it was, on one line.
pub struct JsonLines<W: Write> {
    out: W,
}

impl<W: Write> JsonLines<W> {
    /// Writes to `out`.
    pub fn new(out: W) -> Self {
        JsonLines { out }
    }
}

impl<W: Write> Sink for JsonLines<W> {
    fn record(&mut self, raw: &str) -> io::Result<()> {
        self.out.write_all(compact(raw).as_bytes())?;
        self.out.write_all(b"\n")
    }
    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// One JSON array.
pub struct JsonArray<W: Write> {
    out: W,
    first: bool,
}

impl<W: Write> JsonArray<W> {
    /// Writes to `out`.
    pub fn new(out: W) -> Self {
        JsonArray { out, first: true }
    }
}

impl<W: Write> Sink for JsonArray<W> {
    fn record(&mut self, raw: &str) -> io::Result<()> {
        self.out.write_all(if self.first { b"[\n" } else { b",\n" })?;
        self.first = false;
        self.out.write_all(compact(raw).as_bytes())
    }
    fn finish(&mut self) -> io::Result<()> {
        self.out.write_all(if self.first { b"[]\n" } else { b"\n]\n" })?;
        self.out.flush()
    }
}

/// CSV through the csv crate, formula-neutralised unless `raw`.
pub struct Csv<W: Write> {
    out: csv::Writer<W>,
    fields: Vec<Field>,
    raw: bool,
    header_done: bool,
}

impl<W: Write> Csv<W> {
    /// Writes `fields` of each record to `out`; `raw` turns off formula neutralising.
    pub fn new(out: W, fields: Vec<Field>, raw: bool) -> Self {
        Csv { out: csv::Writer::from_writer(out), fields, raw, header_done: false }
    }

    fn cell(&self, s: &str) -> String {
        if self.raw {
            return s.to_string();
        }
        sanitize::csv_formula(&sanitize::csv_text(s)).into_owned()
    }

    fn header(&mut self) -> io::Result<()> {
        if !self.header_done {
            self.header_done = true;
            let cells: Vec<String> = self.fields.iter().map(|f| self.cell(&f.path)).collect();
            self.out.write_record(&cells)?;
        }
        Ok(())
    }
}

impl<W: Write> Sink for Csv<W> {
    fn record(&mut self, raw: &str) -> io::Result<()> {
        self.header()?;
        let v = view(raw, &self.fields);
        let cells: Vec<String> = self.fields.iter().map(|f| self.cell(&f.text(&v))).collect();
        self.out.write_record(&cells).map_err(io::Error::from)
    }
    fn finish(&mut self) -> io::Result<()> {
        self.header()?;
        self.out.flush()
    }
}

/// A comfy-table, printed in blocks of `BLOCK` rows so memory stays bounded.
pub struct Table<W: Write> {
    out: W,
    fields: Vec<Field>,
    rows: Vec<Vec<String>>,
    fit_terminal: bool,
    printed_any: bool,
}

const BLOCK: usize = 10_000;

impl<W: Write> Table<W> {
    /// `fit_terminal`: wrap cells to the terminal's width; otherwise never wrap.
    pub fn new(out: W, fields: Vec<Field>, fit_terminal: bool) -> Self {
        Table { out, fields, rows: Vec::new(), fit_terminal, printed_any: false }
    }

    fn flush_block(&mut self) -> io::Result<()> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let mut t = comfy_table::Table::new();
        t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
        t.set_content_arrangement(if self.fit_terminal {
            comfy_table::ContentArrangement::Dynamic
        } else {
            comfy_table::ContentArrangement::Disabled
        });
        let colored = color::enabled();
        if colored {
            t.enforce_styling();
        }
        t.set_header(self.fields.iter().map(|f| {
            let c = comfy_table::Cell::new(&f.header);
            if colored { c.add_attribute(comfy_table::Attribute::Bold) } else { c }
        }));
        let error_col = self.fields.iter().position(|f| f.path == "errorCode");
        for row in self.rows.drain(..) {
            t.add_row(row.into_iter().enumerate().map(|(i, text)| {
                let c = comfy_table::Cell::new(text);
                if colored && Some(i) == error_col { c.fg(comfy_table::Color::Red) } else { c }
            }));
        }
        if self.printed_any {
            writeln!(self.out)?;
        }
        self.printed_any = true;
        writeln!(self.out, "{t}")
    }
}

impl<W: Write> Sink for Table<W> {
    fn record(&mut self, raw: &str) -> io::Result<()> {
        let v = view(raw, &self.fields);
        let row =
            self.fields.iter().map(|f| sanitize::terminal(&f.text(&v)).into_owned()).collect();
        self.rows.push(row);
        if self.rows.len() >= BLOCK {
            self.flush_block()?;
        }
        Ok(())
    }
    fn finish(&mut self) -> io::Result<()> {
        self.flush_block()?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REC: &str = r#"{"eventTime":"2024-03-01T10:00:00Z","eventName":"CreateUser","userIdentity":{"type":"IAMUser","userName":"mallory"},"sourceIPAddress":"203.0.113.7","awsRegion":"us-east-1","recipientAccountId":"111122223333","userAgent":"=cmd|' /C calc'!A0","n":1.0}"#;

    #[test]
    fn compact_keeps_strings() {
        assert_eq!(
            compact("{\n  \"a\" : \"x y\\\"\n\",\n \"b\": [1, 2]\n}"),
            "{\"a\":\"x y\\\"\n\",\"b\":[1,2]}"
        );
        assert_eq!(compact(REC), REC);
    }

    #[test]
    fn deep_records_still_make_rows() {
        let deep = format!(
            r#"{{"eventName":"Deep","requestParameters":{}{}}}"#,
            "[".repeat(500),
            "]".repeat(500)
        );
        let fields = Field::list(Some("eventName,actor"));
        assert_eq!(fields[0].text(&view(&deep, &fields)), "Deep");
        let fields = Field::list(Some("requestParameters"));
        assert!(
            fields[0]
                .text(&view(&deep, &fields))
                .starts_with("[unreadable record: recursion limit")
        );
    }

    #[test]
    fn lookup_paths() {
        let v: Value = serde_json::from_str(r#"{"a":{"b":1},"c.d":2}"#).unwrap();
        assert_eq!(lookup(&v, "a.b"), Some(&Value::from(1)));
        assert_eq!(lookup(&v, "c.d"), Some(&Value::from(2)));
        assert_eq!(lookup(&v, "a.x"), None);
    }

    #[test]
    fn csv_neutralises_formulas() {
        let mut buf = Vec::new();
        {
            let mut s = Csv::new(&mut buf, Field::list(Some("eventName,userAgent,actor,n")), false);
            s.record(REC).unwrap();
            s.finish().unwrap();
        }
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "eventName,userAgent,actor,n\nCreateUser,'=cmd|' /C calc'!A0,mallory,1.0\n"
        );
    }

    #[test]
    fn json_array_and_lines() {
        let mut buf = Vec::new();
        let mut s = JsonArray::new(&mut buf);
        s.finish().unwrap();
        assert_eq!(buf, b"[]\n");
        let mut buf = Vec::new();
        let mut s = JsonArray::new(&mut buf);
        s.record("{\"a\":1}").unwrap();
        s.record("{\"b\":2}").unwrap();
        s.finish().unwrap();
        assert_eq!(String::from_utf8(buf).unwrap(), "[\n{\"a\":1},\n{\"b\":2}\n]\n");
    }
}
