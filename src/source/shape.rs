//! Recognising what a document holds and splitting it into raw records, without parsing them.
//!
//! Shapes, detected by content: a delivery file `{"Records":[...]}`, a bare array of records,
//! JSON lines, one record, `aws cloudtrail lookup-events` output (whole, `{"Events":[...]}`, or
//! one event per line, each with its record as the `CloudTrailEvent` string), EventBridge
//! envelopes (`{"detail-type":..,"detail":{record}}`), CloudWatch Logs (CloudTrail delivered to a
//! log group): `aws logs create-export-task` files (lines `<timestamp> <record>`) and `aws logs
//! filter-log-events` / `get-log-events` output (`{"events":[{"message":"<record>",..}]}`, whole
//! or one event per line), CloudTrail Lake `get-query-results` output whose rows hold whole
//! events (an `eventJson` column, or the event's own fields as columns), and digest files
//! (recognised, no events).
//!
//! Records stay raw text borrowed from the file buffer (only records that are JSON inside a JSON
//! string, as in lookup-events, log events and Lake rows, are owned). A damaged document keeps every record before the
//! damage: the `Records` array is read element by element, and JSON lines line by line.
//!
//! The fast path for delivery files delimits records on the bytes (every byte JSON gives a
//! meaning to is ASCII, and no byte of a multi-byte UTF-8 sequence is), and leaves checking
//! that a record is UTF-8 to when it is used ([`Record::text`]): records a prefilter rules out
//! are never checked, and a stray byte costs its own record, not the rest of the file.

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;
use std::str::Utf8Error;

/// A record that could not be taken from the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where: `record 12`, `line 7`, or `document`.
    pub at: String,
    /// What is wrong.
    pub message: String,
}

/// One record of a document, as raw JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record<'a> {
    /// Text (the document was checked to be UTF-8 as a whole, or the record was decoded).
    Text(Cow<'a, str>),
    /// Bytes delimited by the fast path for delivery files, not yet checked to be UTF-8.
    Unchecked(&'a [u8]),
}

/// A record that is not UTF-8 (so not JSON).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid UTF-8 at byte {} of the record", .0.valid_up_to())]
pub struct NotUtf8(Utf8Error);

impl<'a> Record<'a> {
    /// The record's bytes, whatever they are.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Record::Text(t) => t.as_bytes(),
            Record::Unchecked(b) => b,
        }
    }

    /// The record as text, once its bytes are checked to be UTF-8.
    pub fn text(self) -> Result<Cow<'a, str>, NotUtf8> {
        match self {
            Record::Text(t) => Ok(t),
            Record::Unchecked(b) => std::str::from_utf8(b).map(Cow::Borrowed).map_err(NotUtf8),
        }
    }
}

impl<'a> From<&'a str> for Record<'a> {
    fn from(text: &'a str) -> Record<'a> {
        Record::Text(Cow::Borrowed(text))
    }
}

/// What a document turned out to hold.
#[derive(Debug, Default)]
pub struct Split<'a> {
    /// The records, in document order, as raw JSON.
    pub records: Vec<Record<'a>>,
    /// Records or lines that could not be used, in order.
    pub problems: Vec<Problem>,
    /// The document is a CloudTrail digest file (no records).
    pub digest: bool,
    /// The document as a whole is damaged: records after this point are lost.
    pub fatal: Option<String>,
    /// The records were only delimited, not validated (the fast path for delivery files): a
    /// record must be checked to be UTF-8 ([`Record::text`]) and validated ([`validate`]) before
    /// it is trusted.
    pub unvalidated: bool,
}

/// Checks that `record` is one well-formed JSON value.
pub fn validate(record: &str) -> serde_json::Result<()> {
    serde_json::from_str::<IgnoredAny>(record).map(|_| ())
}

/// Splits `data` (JSON text, BOM already removed) into records.
#[must_use]
pub fn split(data: &[u8]) -> Split<'_> {
    split_with(data, &mut crate::record::scan::skip_value)
}

/// Finds where a record that starts at `b[i]` ends (the index just past it), as
/// [`crate::record::scan::skip_value`] does; it may read the record on the way.
pub type Walk<'w> = dyn FnMut(&[u8], usize) -> Option<usize> + 'w;

/// [`split`], delimiting each object of a delivery file's `Records` with `walk` (called once
/// per such record, in order, and for nothing else: a caller that reads records on the way
/// reads exactly the records of the split when it takes the fast path, [`Split::unvalidated`]).
#[must_use]
pub fn split_with<'a>(data: &'a [u8], walk: &mut Walk<'_>) -> Split<'a> {
    if let Some(fast) = delivery_file(data, walk) {
        return fast;
    }
    let mut out = Split::default();
    let text = match std::str::from_utf8(data) {
        Ok(t) => t,
        Err(e) => {
            // Records before the first invalid byte may still be readable.
            let valid = &data[..e.valid_up_to()];
            let mut s = split_with(valid, walk);
            let msg = format!("invalid UTF-8 at byte {}", e.valid_up_to());
            s.fatal.get_or_insert(msg);
            return s;
        }
    };
    let trimmed = text.trim_start();
    if trimmed.is_empty() {
        out.fatal = Some("no JSON content (only whitespace)".into());
        return out;
    }
    if export_line(trimmed).is_some() {
        split_export_lines(text, &mut out);
        return out;
    }
    if !trimmed.starts_with(['{', '[']) {
        out.fatal = Some(format!("not JSON: starts with {:?}", preview(trimmed)));
        return out;
    }
    let mut de = serde_json::Deserializer::from_str(trimmed);
    let mut doc = Document::default();
    let result = Top { doc: &mut doc }.deserialize(&mut de).and_then(|()| de.end());
    match result {
        Ok(()) => out.take_document(doc, trimmed.trim_end()),
        Err(_) if doc.records.is_none() && is_multi_line(trimmed) => {
            // JSON lines (or a broken first line of JSON lines).
            split_lines(text, &mut out);
        }
        Err(e) => {
            if let Some(records) = doc.records.take() {
                // Damage inside `Records`: keep what came before it.
                let n = records.len();
                out.records = records.into_iter().map(Record::from).collect();
                out.fatal = Some(if n == 0 {
                    format!("invalid JSON: {e}")
                } else {
                    format!("invalid JSON after record {n}: {e}")
                });
            } else {
                out.fatal = Some(format!("invalid JSON: {e}"));
            }
        }
    }
    out
}

/// The fast path for the shape CloudTrail delivers, `{"Records":[{...},...]}` and nothing else:
/// records are delimited by a structural scan ([`crate::record::scan`]) without being validated
/// (that is left to the records that can match, UTF-8 included). `None`: another shape, use
/// the full parser.
fn delivery_file<'a>(b: &'a [u8], walk: &mut Walk<'_>) -> Option<Split<'a>> {
    use crate::record::scan::{skip_value, skip_ws};
    let mut i = 0;
    for token in [&b"{"[..], b"\"Records\"", b":", b"["] {
        i = skip_ws(b, i);
        if !b.get(i..)?.starts_with(token) {
            return None;
        }
        i += token.len();
    }
    let mut out = Split { unvalidated: true, ..Split::default() };
    i = skip_ws(b, i);
    if b.get(i) == Some(&b']') {
        i = skip_ws(b, i + 1);
        return (b.get(i) == Some(&b'}') && skip_ws(b, i + 1) == b.len()).then_some(out);
    }
    loop {
        let start = i;
        let end = if b.get(start) == Some(&b'{') { walk(b, start) } else { skip_value(b, start) };
        let Some(end) = end else {
            out.fatal = Some(format!(
                "invalid JSON after record {}: no complete JSON value at byte {start}",
                out.records.len()
            ));
            return Some(out);
        };
        if b[start] == b'{' {
            out.records.push(Record::Unchecked(&b[start..end]));
        } else {
            let at = format!("record {}", out.records.len() + out.problems.len() + 1);
            out.problems.push(Problem { at, message: "not a JSON object".into() });
        }
        i = skip_ws(b, end);
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b']') => {
                i = skip_ws(b, i + 1);
                if b.get(i) == Some(&b'}') && skip_ws(b, i + 1) == b.len() {
                    return Some(out);
                }
                // More keys after `Records`, or trailing text: the full parser decides.
                return None;
            }
            _ => {
                out.fatal = Some(format!(
                    "invalid JSON after record {}: expected `,` or `]` at byte {i}",
                    out.records.len()
                ));
                return Some(out);
            }
        }
    }
}

fn preview(s: &str) -> String {
    s.chars().take(16).collect()
}

fn is_multi_line(s: &str) -> bool {
    s.trim_end().contains('\n')
}

impl<'a> Split<'a> {
    fn take_document(&mut self, doc: Document<'a>, whole: &'a str) {
        if let Some(records) = doc.records {
            self.records = records.into_iter().map(Record::from).collect();
            return;
        }
        if whole.starts_with('[') {
            match serde_json::from_str::<Vec<&RawValue>>(whole) {
                Ok(items) => {
                    for (i, item) in items.into_iter().enumerate() {
                        self.item(item.get(), || format!("element {}", i + 1));
                    }
                }
                Err(e) => self.fatal = Some(format!("invalid JSON: {e}")),
            }
            return;
        }
        if doc.events {
            self.lookup_events(whole);
            return;
        }
        if doc.log_events {
            self.log_events(whole, &|| "document".to_string());
            return;
        }
        if doc.lake_rows {
            self.lake_rows(whole, &|| "document".to_string());
            return;
        }
        self.item(whole, || "document".to_string());
    }

    /// One JSON value that stands for a record: a record, an envelope or a lookup-events event.
    fn item(&mut self, raw: &'a str, at: impl Fn() -> String) {
        if !raw.starts_with('{') {
            self.problems.push(Problem { at: at(), message: "not a JSON object".into() });
            return;
        }
        // Only look at the keys when one of the wrapper keys occurs at all.
        let maybe_wrapped = [
            "\"CloudTrailEvent\"",
            "\"detail-type\"",
            "\"digestStartTime\"",
            "\"Records\"",
            "\"Events\"",
            "\"events\"",
            "\"message\"",
            "\"QueryResultRows\"",
        ]
        .iter()
        .any(|k| memchr::memmem::find(raw.as_bytes(), k.as_bytes()).is_some());
        if !maybe_wrapped {
            self.records.push(Record::from(raw));
            return;
        }
        let keys: Keys<'a> = match serde_json::from_str(raw) {
            Ok(k) => k,
            Err(e) => {
                self.problems.push(Problem { at: at(), message: e.to_string() });
                return;
            }
        };
        if keys.digest_start_time.is_some() {
            self.digest = true;
        } else if let (Some(_), Some(detail)) = (keys.detail_type, keys.detail) {
            if detail.get().starts_with('{') {
                self.records.push(Record::from(detail.get()));
            } else {
                self.problems
                    .push(Problem { at: at(), message: "envelope detail is not an object".into() });
            }
        } else if let Some(event) = keys.cloudtrail_event {
            self.lookup_event(event, &at);
        } else if let Some(records) = keys.records {
            match serde_json::from_str::<Vec<&RawValue>>(records.get()) {
                Ok(items) => self.records.extend(items.into_iter().map(|r| Record::from(r.get()))),
                Err(e) => {
                    self.problems.push(Problem { at: at(), message: format!("Records: {e}") })
                }
            }
        } else if keys.events.is_some() {
            self.lookup_events(raw);
        } else if keys.log_events.is_some() {
            self.log_events(raw, &at);
        } else if keys.query_result_rows.is_some() {
            self.lake_rows(raw, &at);
        } else if let (Some(message), Some(_)) = (keys.message, keys.timestamp) {
            // One CloudWatch Logs event (`jq -c '.events[]'`): no record has both keys.
            self.embedded(message, "message", &at);
        } else {
            self.records.push(Record::from(raw));
        }
    }

    fn lookup_event(&mut self, event: &RawValue, at: &dyn Fn() -> String) {
        self.embedded(event, "CloudTrailEvent", at);
    }

    /// A record written as a JSON string inside the document (`what` names the field).
    fn embedded(&mut self, value: &RawValue, what: &str, at: &dyn Fn() -> String) {
        match serde_json::from_str::<String>(value.get()) {
            Ok(text) => self.embedded_text(text, what, at),
            Err(e) => self
                .problems
                .push(Problem { at: at(), message: format!("{what} is not a string: {e}") }),
        }
    }

    fn embedded_text(&mut self, text: String, what: &str, at: &dyn Fn() -> String) {
        if !text.trim_start().starts_with('{') {
            let message = format!("{what} is not a JSON object");
            self.problems.push(Problem { at: at(), message });
            return;
        }
        match serde_json::from_str::<&RawValue>(&text) {
            Ok(_) => self.records.push(Record::Text(Cow::Owned(text.trim().to_string()))),
            Err(e) => self.problems.push(Problem { at: at(), message: format!("{what}: {e}") }),
        }
    }

    /// The wrapper at `at` cannot be read: the document as a whole when it is the document,
    /// else that one line.
    fn broken(&mut self, at: String, message: String) {
        if at == "document" {
            self.fatal = Some(message);
        } else {
            self.problems.push(Problem { at, message });
        }
    }

    /// `aws logs filter-log-events` / `get-log-events` output: each event's `message` is a
    /// record (CloudTrail writes one record per log event).
    fn log_events(&mut self, whole: &'a str, at: &dyn Fn() -> String) {
        #[derive(serde::Deserialize)]
        struct Output<'a> {
            #[serde(borrow)]
            events: Vec<&'a RawValue>,
        }
        #[derive(serde::Deserialize)]
        struct Event<'a> {
            #[serde(borrow, default)]
            message: Option<&'a RawValue>,
        }
        let out = match serde_json::from_str::<Output<'a>>(whole) {
            Ok(out) => out,
            Err(e) => return self.broken(at(), format!("events: {e}")),
        };
        let outer = at();
        for (i, ev) in out.events.into_iter().enumerate() {
            let at = || event_at(&outer, i);
            match serde_json::from_str::<Event<'a>>(ev.get()) {
                Ok(Event { message: Some(m) }) => self.embedded(m, "message", &at),
                Ok(_) => self.problems.push(Problem { at: at(), message: "no message".into() }),
                Err(e) => self.problems.push(Problem { at: at(), message: e.to_string() }),
            }
        }
    }

    /// CloudTrail Lake `get-query-results` output: rows of one-key column maps. A row is an
    /// event when it has an `eventJson` column (the record as a string) or the record's own
    /// fields as columns (at least `eventID` and `eventName`; Lake gives every value as a
    /// string, kept as such unless it is a JSON object or array).
    fn lake_rows(&mut self, whole: &'a str, at: &dyn Fn() -> String) {
        #[derive(serde::Deserialize)]
        struct Output<'a> {
            #[serde(rename = "QueryResultRows", borrow)]
            rows: Vec<Vec<std::collections::BTreeMap<Cow<'a, str>, &'a RawValue>>>,
        }
        let out = match serde_json::from_str::<Output<'a>>(whole) {
            Ok(out) => out,
            Err(e) => return self.broken(at(), format!("QueryResultRows: {e}")),
        };
        let outer = at();
        for (i, row) in out.rows.into_iter().enumerate() {
            let at = || row_at(&outer, i);
            let columns: Vec<(Cow<'a, str>, &'a RawValue)> =
                row.into_iter().flat_map(std::collections::BTreeMap::into_iter).collect();
            if let Some((_, json)) =
                columns.iter().find(|(k, _)| k.eq_ignore_ascii_case("eventjson"))
            {
                self.embedded(json, "eventJson", &at);
                continue;
            }
            let has = |name: &str| columns.iter().any(|(k, _)| k == name);
            if !(has("eventID") && has("eventName")) {
                let message = "not a whole event (no eventJson column, nor eventID and eventName)";
                self.problems.push(Problem { at: at(), message: message.into() });
                continue;
            }
            // The record's text, in column order (a first column wins over a repeated one).
            let mut record = String::from("{");
            let mut seen = std::collections::HashSet::new();
            let mut bad = None;
            for (k, v) in &columns {
                if !seen.insert(k) {
                    continue;
                }
                let value = match serde_json::from_str::<String>(v.get()) {
                    // A struct or array column Lake gave as JSON text: the JSON itself.
                    Ok(s) if s.starts_with(['{', '[']) => {
                        match serde_json::from_str::<&RawValue>(&s) {
                            Ok(json) => json.get().to_string(),
                            Err(_) => v.get().to_string(),
                        }
                    }
                    Ok(_) => v.get().to_string(),
                    Err(_) => match serde_json::from_str::<&RawValue>(v.get()) {
                        Ok(_) => v.get().to_string(),
                        Err(e) => {
                            bad = Some(format!("{k}: {e}"));
                            break;
                        }
                    },
                };
                if record.len() > 1 {
                    record.push(',');
                }
                record.push_str(&serde_json::Value::from(k.as_ref()).to_string());
                record.push(':');
                record.push_str(&value);
            }
            match bad {
                Some(message) => self.problems.push(Problem { at: at(), message }),
                None => {
                    record.push('}');
                    self.records.push(Record::Text(Cow::Owned(record)));
                }
            }
        }
    }

    fn lookup_events(&mut self, whole: &'a str) {
        #[derive(serde::Deserialize)]
        struct Output<'a> {
            #[serde(rename = "Events", borrow)]
            events: Vec<&'a RawValue>,
        }
        match serde_json::from_str::<Output<'a>>(whole) {
            Ok(out) => {
                for (i, ev) in out.events.into_iter().enumerate() {
                    let at = || format!("event {}", i + 1);
                    match serde_json::from_str::<Keys<'a>>(ev.get()) {
                        Ok(Keys { cloudtrail_event: Some(e), .. }) => self.lookup_event(e, &at),
                        Ok(_) => self
                            .problems
                            .push(Problem { at: at(), message: "no CloudTrailEvent".into() }),
                        Err(e) => self.problems.push(Problem { at: at(), message: e.to_string() }),
                    }
                }
            }
            Err(e) => self.fatal = Some(format!("Events: {e}")),
        }
    }
}

fn split_lines<'a>(text: &'a str, out: &mut Split<'a>) {
    for (i, line) in text.lines().enumerate() {
        json_line(line, i + 1, out);
    }
}

/// Line `n` of JSON lines (a record, an envelope, a lookup or log event, an array of them),
/// added to `out` as [`split`] reads each line of JSON lines.
pub fn json_line<'a>(line: &'a str, n: usize, out: &mut Split<'a>) {
    let line = line.trim();
    if line.is_empty() {
        return;
    }
    let at = || format!("line {n}");
    match serde_json::from_str::<&RawValue>(line) {
        Ok(v) if v.get().starts_with('[') => {
            match serde_json::from_str::<Vec<&RawValue>>(v.get()) {
                Ok(items) => {
                    for item in items {
                        out.item(item.get(), at);
                    }
                }
                Err(e) => out.problems.push(Problem { at: at(), message: e.to_string() }),
            }
        }
        Ok(v) => out.item(v.get(), at),
        Err(e) => out.problems.push(Problem { at: at(), message: format!("invalid JSON: {e}") }),
    }
}

/// Where a log event is: `event 3`, or `line 2 event 3` when the output was one of several.
fn event_at(outer: &str, i: usize) -> String {
    if outer == "document" {
        format!("event {}", i + 1)
    } else {
        format!("{outer} event {}", i + 1)
    }
}

/// Where a Lake row is, as [`event_at`].
fn row_at(outer: &str, i: usize) -> String {
    if outer == "document" { format!("row {}", i + 1) } else { format!("{outer} row {}", i + 1) }
}

/// A line of a CloudWatch Logs export (`aws logs create-export-task`): the event's timestamp
/// (ISO 8601, as `2023-07-10T12:05:00.000Z`), one space, the message. `Some(message)` when
/// `line` starts that way.
fn export_line(line: &str) -> Option<&str> {
    let (stamp, message) = line.split_once(' ')?;
    let b = stamp.as_bytes();
    let shaped = b.len() >= 20
        && b.len() <= 35
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && stamp.ends_with('Z');
    (shaped && chrono::DateTime::parse_from_rfc3339(stamp).is_ok()).then_some(message)
}

/// The lines of a CloudWatch Logs export: each message is a record.
fn split_export_lines<'a>(text: &'a str, out: &mut Split<'a>) {
    for (i, line) in text.lines().enumerate() {
        export_text_line(line, i + 1, out);
    }
}

/// Whether `text` starts like a CloudWatch Logs export (its first line does).
#[must_use]
pub fn is_export(text: &str) -> bool {
    export_line(text.trim_start()).is_some()
}

/// Line `n` of a CloudWatch Logs export, added to `out` as [`split`] reads it.
pub fn export_text_line<'a>(line: &'a str, n: usize, out: &mut Split<'a>) {
    let line = line.trim();
    if line.is_empty() {
        return;
    }
    let at = || format!("line {n}");
    let Some(message) = export_line(line) else {
        let message = "not a CloudWatch Logs export line (timestamp, space, message)".into();
        out.problems.push(Problem { at: at(), message });
        return;
    };
    let message = message.trim();
    if !message.starts_with('{') {
        out.problems.push(Problem { at: at(), message: "message is not a JSON object".into() });
        return;
    }
    match serde_json::from_str::<&RawValue>(message) {
        Ok(v) => out.records.push(Record::from(v.get())),
        Err(e) => out.problems.push(Problem { at: at(), message: format!("invalid JSON: {e}") }),
    }
}

/// The keys of an object that decide its shape; everything else is skipped unparsed.
#[derive(serde::Deserialize)]
struct Keys<'a> {
    #[serde(rename = "CloudTrailEvent", borrow, default)]
    cloudtrail_event: Option<&'a RawValue>,
    #[serde(rename = "detail-type", borrow, default)]
    detail_type: Option<&'a RawValue>,
    #[serde(borrow, default)]
    detail: Option<&'a RawValue>,
    #[serde(rename = "digestStartTime", borrow, default)]
    digest_start_time: Option<&'a RawValue>,
    #[serde(rename = "Records", borrow, default)]
    records: Option<&'a RawValue>,
    #[serde(rename = "Events", borrow, default)]
    events: Option<&'a RawValue>,
    /// CloudWatch Logs events (`filter-log-events`, `get-log-events`).
    #[serde(rename = "events", borrow, default)]
    log_events: Option<&'a RawValue>,
    /// One CloudWatch Logs event.
    #[serde(borrow, default)]
    message: Option<&'a RawValue>,
    #[serde(borrow, default)]
    timestamp: Option<&'a RawValue>,
    /// CloudTrail Lake query results.
    #[serde(rename = "QueryResultRows", borrow, default)]
    query_result_rows: Option<&'a RawValue>,
}

/// What the top-level pass learnt.
#[derive(Default)]
struct Document<'a> {
    /// `Records` elements read so far (kept even when the document breaks later).
    records: Option<Vec<&'a str>>,
    /// The document has an `Events` key (lookup-events output).
    events: bool,
    /// The document has an `events` key (CloudWatch Logs events).
    log_events: bool,
    /// The document has a `QueryResultRows` key (CloudTrail Lake query results).
    lake_rows: bool,
}

/// Reads the top-level value; streams the elements of a top-level `Records` array.
struct Top<'d, 'a> {
    doc: &'d mut Document<'a>,
}

impl<'de, 'd> DeserializeSeed<'de> for Top<'d, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, 'd> Visitor<'de> for Top<'d, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object or array")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if key == "Records" && self.doc.records.is_none() {
                let mut records = Vec::new();
                let r = map.next_value_seed(RecordsSeed { out: &mut records });
                self.doc.records = Some(records);
                r?;
            } else {
                match &*key {
                    "Events" => self.doc.events = true,
                    "events" => self.doc.log_events = true,
                    "QueryResultRows" => self.doc.lake_rows = true,
                    _ => {}
                }
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }
}

struct RecordsSeed<'v, 'a> {
    out: &'v mut Vec<&'a str>,
}

impl<'de, 'v> DeserializeSeed<'de> for RecordsSeed<'v, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, 'v> Visitor<'de> for RecordsSeed<'v, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of records")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(raw) = seq.next_element::<&'de RawValue>()? {
            self.out.push(raw.get());
        }
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, _map: A) -> Result<(), A::Error> {
        Err(de::Error::custom("Records is an object, not an array"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &Split<'_>) -> Vec<String> {
        s.records.iter().map(|r| r.clone().text().unwrap().into_owned()).collect()
    }

    fn recs(s: &str) -> Vec<String> {
        texts(&split(s.as_bytes()))
    }

    #[test]
    fn delivery_array_lines_single() {
        assert_eq!(recs(r#"{"Records":[{"a":1},{"b":[2]}]}"#), [r#"{"a":1}"#, r#"{"b":[2]}"#]);
        assert_eq!(recs(" [ {\"a\":1} , {\"b\":2} ] "), [r#"{"a":1}"#, r#"{"b":2}"#]);
        assert_eq!(recs("{\"a\":1}\n\n{\"b\":2}\n"), [r#"{"a":1}"#, r#"{"b":2}"#]);
        assert_eq!(recs("{\"eventName\":\"x\"}"), [r#"{"eventName":"x"}"#]);
        assert!(split(br#"{"Records":[]}"#).records.is_empty());
    }

    fn json_value() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            "[ -~\\\\\"\\]\\[{}\u{e9}\u{1b}]{0,12}".prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(serde_json::Value::from),
                proptest::collection::btree_map("[a-z\\]\\[\"]{0,4}", inner, 0..5)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        /// The structural scan delimits exactly the records the JSON parser finds.
        #[test]
        fn fast_split_agrees_with_the_parser(
            records in proptest::collection::vec(
                proptest::collection::btree_map("[a-z]{1,3}", json_value(), 0..4), 0..6),
            pretty in proptest::bool::ANY,
        ) {
            let records: Vec<serde_json::Value> =
                records.into_iter().map(|m| serde_json::Value::Object(m.into_iter().collect())).collect();
            let doc = serde_json::json!({ "Records": records });
            let text = if pretty { serde_json::to_string_pretty(&doc) } else { serde_json::to_string(&doc) }.unwrap();
            let fast = split(text.as_bytes());
            proptest::prop_assert!(fast.unvalidated && fast.fatal.is_none() && fast.problems.is_empty());
            let got: Vec<serde_json::Value> =
                texts(&fast).iter().map(|r| serde_json::from_str(r).unwrap()).collect();
            proptest::prop_assert_eq!(got, records);
        }
    }

    #[test]
    fn delivery_files_take_the_fast_path() {
        let s = split(b" {\n \"Records\" : [ {\"a\":1} ,\n{\"b\":\"]}\"} ] }\n");
        assert!(s.unvalidated);
        assert_eq!(texts(&s), [r#"{"a":1}"#, r#"{"b":"]}"}"#]);
        assert!(split(br#"{"Records":[]}"#).unvalidated);
        // Other keys after Records: the full parser.
        let s = split(br#"{"Records":[{"a":1}],"x":2}"#);
        assert!(!s.unvalidated);
        assert_eq!(s.records.len(), 1);
        // Damage: the records before it are kept; lexical errors are left to `validate`.
        let s = split(br#"{"Records":[{"a":1} {"b":2}]}"#);
        assert_eq!((s.records.len(), s.fatal.is_some()), (1, true));
        let s = split(br#"{"Records":[{"a":1},{"b":"#);
        assert_eq!((s.records.len(), s.fatal.is_some()), (1, true));
        let s = split(br#"{"Records":[{"a":tru},7]}"#);
        assert_eq!(texts(&s), [r#"{"a":tru}"#]);
        assert_eq!(s.problems[0].at, "record 2");
        assert!(validate(&texts(&s)[0]).is_err());
    }

    #[test]
    fn wrappers() {
        let env = r#"{"version":"0","detail-type":"AWS API Call via CloudTrail","source":"aws.iam","detail":{"eventName":"CreateUser"}}"#;
        assert_eq!(recs(env), [r#"{"eventName":"CreateUser"}"#]);
        let line = r#"{"EventId":"1","CloudTrailEvent":"{\"eventName\":\"RunInstances\"}"}"#;
        assert_eq!(recs(&format!("{line}\n{line}")), [r#"{"eventName":"RunInstances"}"#; 2]);
        let whole = format!(r#"{{"Events":[{line}],"NextToken":"x"}}"#);
        assert_eq!(recs(&whole), [r#"{"eventName":"RunInstances"}"#]);
        let digest = split(br#"{"awsAccountId":"1","digestStartTime":"2023","logFiles":[]}"#);
        assert!(digest.digest && digest.records.is_empty());
    }

    #[test]
    fn cloudwatch_logs_shapes() {
        let rec = r#"{"eventName":"CreateUser","eventID":"1"}"#;
        // create-export-task: timestamp, space, message.
        let export = format!("2023-07-10T12:05:00.412Z {rec}\n2023-07-10T12:06:00.000Z {rec}\n");
        assert_eq!(recs(&export), [rec; 2]);
        let s = split(
            b"2023-07-10T12:05:00.412Z {\"a\":1}\nnope\n2023-07-10T12:05:01.000Z plain text\n\
              2023-07-10T12:05:02.000Z {\"a\":\n2023-07-10T12:05:03.000Z {\"b\":2}",
        );
        assert_eq!(texts(&s), [r#"{"a":1}"#, r#"{"b":2}"#]);
        let at: Vec<_> = s.problems.iter().map(|p| (p.at.as_str(), &p.message[..12])).collect();
        assert_eq!(
            at,
            [("line 2", "not a CloudW"), ("line 3", "message is n"), ("line 4", "invalid JSON")]
        );
        // A line that only looks like a timestamp is not one.
        assert!(split(b"2023-13-45T99:00:00.000Z {}").fatal.unwrap().starts_with("not JSON"));
        // filter-log-events / get-log-events output, whole or one event per line.
        let ev = |m: &str| {
            format!(
                r#"{{"logStreamName":"1_CloudTrail_x","timestamp":1,"message":{},"ingestionTime":2}}"#,
                serde_json::to_string(m).unwrap()
            )
        };
        let whole = format!(r#"{{"events":[{},{}],"searchedLogStreams":[]}}"#, ev(rec), ev(rec));
        assert_eq!(recs(&whole), [rec; 2]);
        assert_eq!(recs(&format!("{}\n{}", ev(rec), ev(rec))), [rec; 2]);
        assert_eq!(recs(&format!("{whole}\n{whole}")), [rec; 4]);
        let doc = format!(r#"{{"events":[{},{},{{"timestamp":3}}]}}"#, ev("hi"), ev(rec));
        let s = split(doc.as_bytes());
        assert_eq!(texts(&s), [rec]);
        assert_eq!(s.problems[0].at, "event 1");
        assert_eq!(s.problems[0].message, "message is not a JSON object");
        assert_eq!(
            (s.problems[1].at.as_str(), &s.problems[1].message[..]),
            ("event 3", "no message")
        );
        assert!(split(br#"{"events":{}}"#).fatal.unwrap().starts_with("events:"));
        let doc = format!("{}\n{{\"events\":7}}", ev(rec));
        let s = split(doc.as_bytes());
        assert_eq!((s.records.len(), s.problems[0].at.as_str()), (1, "line 2"));
    }

    #[test]
    fn cloudtrail_lake_rows() {
        let rec = r#"{"eventName":"CreateUser","eventID":"1"}"#;
        let json = serde_json::to_string(rec).unwrap();
        let whole = format!(
            r#"{{"QueryStatus":"FINISHED","QueryResultRows":[[{{"eventJson":{json}}}],[{{"eventjson":{json}}}]]}}"#
        );
        assert_eq!(recs(&whole), [rec; 2]);
        // The event's own fields as columns, in column order; JSON objects are parsed.
        let fields = r#"{"QueryResultRows":[[{"eventID":"e1"},{"eventName":"CreateUser"},{"requestParameters":"{\"userName\":\"bob\"}"},{"userIdentity":"{type=IAMUser, arn=x}"}],[{"eventName":"X"},{"n":"2"}]]}"#;
        let s = split(fields.as_bytes());
        assert_eq!(
            texts(&s),
            [
                r#"{"eventID":"e1","eventName":"CreateUser","requestParameters":{"userName":"bob"},"userIdentity":"{type=IAMUser, arn=x}"}"#
            ]
        );
        assert_eq!(s.problems[0].at, "row 2");
        assert!(s.problems[0].message.starts_with("not a whole event"));
        let doc =
            format!(r#"{{"QueryResultRows":[[{{"eventJson":"[]"}}],[{{"eventJson":{json}}}]]}}"#);
        let s = split(doc.as_bytes());
        assert_eq!(
            (s.records.len(), s.problems[0].message.as_str()),
            (1, "eventJson is not a JSON object")
        );
        assert!(
            split(br#"{"QueryResultRows":[{}]}"#).fatal.unwrap().starts_with("QueryResultRows:")
        );
    }

    #[test]
    fn damage_keeps_what_came_before() {
        let s = split(br#"{"Records":[{"a":1},{"b":2},{"c":"#);
        assert_eq!(s.records.len(), 2);
        assert!(s.fatal.unwrap().contains("after record 2"));
        let s = split(b"{\"a\":1}\n{\"a\":\n{\"b\":2}\n");
        assert_eq!(s.records.len(), 2);
        assert_eq!(s.problems[0].at, "line 2");
        let s = split(br#"{"Records":{}}"#);
        assert!(s.fatal.unwrap().contains("not an array"));
        let s = split(b"[1, {\"a\":1}]");
        assert_eq!(s.records.len(), 1);
        assert_eq!(s.problems[0].at, "element 1");
        assert!(split(b"hello").fatal.unwrap().starts_with("not JSON"));
        assert!(split(b"  \n").fatal.is_some());
        let s = split(b"{\"a\":1}\xff");
        assert!(s.fatal.unwrap().contains("UTF-8"));
    }

    #[test]
    fn delivery_files_are_checked_for_utf8_record_by_record() {
        // A stray byte (here a lone continuation byte, then a cut 3-byte sequence) spoils only
        // its own record, and only when the record is used.
        let s =
            split(b"{\"Records\":[{\"a\":\"\xe9\"},{\"b\":\"\xc3\xa9\"},{\"c\":\"\xe2\x82\"}]}");
        assert!(s.unvalidated && s.fatal.is_none() && s.problems.is_empty());
        let got: Vec<_> =
            s.records.into_iter().map(|r| r.text().map_err(|e| e.to_string())).collect();
        assert_eq!(got[0], Err("invalid UTF-8 at byte 6 of the record".to_string()));
        assert_eq!(got[1], Ok(Cow::Borrowed("{\"b\":\"\u{e9}\"}")));
        assert_eq!(got[2], Err("invalid UTF-8 at byte 6 of the record".to_string()));
    }
}
