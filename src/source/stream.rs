//! Reading large documents in bounded memory: records are split from a window over the
//! inflated text, batch by batch, never the whole file at once.
//!
//! Past a size threshold ([`threshold`]) a file is not read into memory: its (inflated) bytes
//! come from a [`Read`], and [`Records`] hands out batches of whole records, each a [`Split`]
//! borrowed from a buffer that holds a few megabytes and whatever record is being read (a
//! 100 MB record needs a 100 MB buffer, and no more). The shapes:
//!
//! - a document whose first array-valued key the other shapes know (`Records`, `Events`,
//!   `events`, `QueryResultRows`; keys before it with small values are stepped over): the
//!   array's elements one by one, each as its shape reads it (a delivery file's records are
//!   delimited, not validated, as on the in-memory fast path);
//! - a bare array: its elements;
//! - anything else: lines (JSON lines, lookup-events or log events one per line, CloudWatch
//!   Logs export lines), each line split as a document of its own.
//!
//! Batches are what the in-memory [`super::split`] gives for the same text, with records,
//! lines, events and rows numbered across the whole file (a differential test holds the two
//! paths to the same output).

use super::shape::{Problem, Record, Split, export_text_line, is_export, json_line, split};
use crate::record::scan::{skip_value, skip_ws};
use std::io::{self, Read};

/// Decompressed size past which a file is streamed: `TRAILSCAN_STREAM_THRESHOLD` (bytes;
/// hidden, for tests), else 64 MiB.
#[must_use]
pub fn threshold() -> u64 {
    std::env::var("TRAILSCAN_STREAM_THRESHOLD")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64 << 20)
}

/// Bytes read from the source at a time.
const CHUNK: usize = 4 << 20;

/// The largest record (or line) read: past it, a line is skipped and named, an array element
/// ends the file (named). CloudTrail's own records stay far below it.
pub const MAX_RECORD: usize = 128 << 20;

/// What the array elements of the document are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wrap {
    /// `Records` of a delivery file: the records themselves.
    Records,
    /// Elements of a bare array: each read as a document (record, envelope, lookup event).
    Bare,
    /// Elements of `Events`, `events` or `QueryResultRows`: each read inside its key.
    Keyed(&'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Not decided yet.
    Start,
    Array(Wrap),
    Lines,
    /// One document (a record, pretty-printed): read whole.
    Whole,
    /// After the array of a keyed document (`Records`, ...): the rest of its object, then
    /// maybe more documents, one per line.
    AfterArray,
    /// The array (or the text) has ended.
    Done,
}

/// Splits a streamed document into batches of records.
pub struct Records<R: Read> {
    src: R,
    buf: Vec<u8>,
    /// Where unread text starts in `buf`.
    pos: usize,
    eof: bool,
    mode: Mode,
    /// Records, elements or lines handed out so far (for numbering).
    elements: usize,
    lines: usize,
    /// Bytes read from the source.
    read: u64,
    /// A read error ends the text.
    pub error: Option<io::Error>,
    bom_checked: bool,
    bom: bool,
    /// Inside a line too long to read.
    skipping: bool,
    /// Bytes to read at a time (at least).
    chunk: usize,
    /// The lines are a CloudWatch Logs export (decided on the first line).
    export: Option<bool>,
}

impl<R: Read> Records<R> {
    /// Splits the text `src` gives (inflated already).
    pub fn new(src: R) -> Records<R> {
        Records::with_chunk(src, CHUNK)
    }

    /// [`Records::new`] reading `chunk` bytes at a time (small windows, for tests and fuzzing:
    /// every record then crosses reads).
    pub fn with_chunk(src: R, chunk: usize) -> Records<R> {
        Records {
            chunk: chunk.max(1),
            export: None,
            src,
            buf: Vec::new(),
            pos: 0,
            eof: false,
            mode: Mode::Start,
            elements: 0,
            lines: 0,
            read: 0,
            error: None,
            bom_checked: false,
            bom: false,
            skipping: false,
        }
    }

    /// The source, for reading it through without splitting (the text already buffered is
    /// lost: call before the first batch).
    pub fn into_source(self) -> R {
        self.src
    }

    /// Bytes of text read so far (a BOM not counted, as in memory).
    #[must_use]
    pub fn bytes(&self) -> u64 {
        self.read - if self.bom { 3 } else { 0 }
    }

    /// Reads more text: at least `CHUNK` more bytes, or to the end. `false` at the end.
    fn fill(&mut self) -> bool {
        if self.eof {
            return false;
        }
        if self.pos > 0 {
            if matches!(self.mode, Mode::Array(_) | Mode::AfterArray) {
                self.lines += memchr::memchr_iter(b'\n', &self.buf[..self.pos]).count();
            }
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        // The buffer's whole room is reserved once (untouched pages cost no memory), so that it
        // never moves: a reallocation would hold the old and the new copy at once. It grows by
        // a quarter when a record does not fit yet.
        let room = MAX_RECORD + 2 * self.chunk;
        if self.buf.capacity() < room {
            self.buf.reserve_exact(room - self.buf.len());
        }
        let want = self.chunk.max(self.buf.len() / 4).min(room - self.buf.len());
        let start = self.buf.len();
        self.buf.resize(start + want, 0);
        let mut got = 0;
        while got < want {
            match self.src.read(&mut self.buf[start + got..]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.error = Some(e);
                    self.eof = true;
                    break;
                }
            }
        }
        self.buf.truncate(start + got);
        self.read += got as u64;
        if !self.bom_checked && (self.buf.len() >= 3 || self.eof) {
            if self.buf.starts_with(&[0xef, 0xbb, 0xbf]) {
                self.pos = 3;
                self.bom = true;
            }
            self.bom_checked = true;
        }
        got > 0
    }

    /// Decides the shape from the start of the text.
    fn start(&mut self) -> Mode {
        while self.buf.len() - self.pos < (1 << 16).min(self.chunk * 16) && self.fill() {}
        let b = &self.buf[self.pos..];
        let i = skip_ws(b, 0);
        match b.get(i) {
            Some(b'[') => {
                self.pos += i + 1;
                Mode::Array(Wrap::Bare)
            }
            Some(b'{') => match first_array_key(b, i + 1) {
                Some((wrap, at)) => {
                    self.pos += at;
                    Mode::Array(wrap)
                }
                None => {
                    // JSON lines, unless the first object spans lines: one document.
                    let line = memchr::memchr(b'\n', &b[i..]).map_or(b.len(), |n| i + n);
                    match skip_value(b, i) {
                        Some(end) if end <= line || end >= b.len() => Mode::Lines,
                        Some(end) if b[end..].iter().all(u8::is_ascii_whitespace) => Mode::Whole,
                        Some(_) => Mode::Lines,
                        None if line < b.len() => Mode::Whole,
                        None => Mode::Lines,
                    }
                }
            },
            _ => Mode::Lines,
        }
    }

    /// The next batch of records; `None` at the end of the text.
    pub fn next_batch(&mut self) -> Option<Split<'_>> {
        if self.mode == Mode::Start {
            self.mode = self.start();
        }
        match self.mode {
            Mode::Array(wrap) => self.array_batch(wrap),
            Mode::Lines => self.lines_batch(),
            Mode::Whole => {
                while self.buf.len() - self.pos <= MAX_RECORD && self.fill() {}
                self.mode = Mode::Done;
                if self.buf.len() - self.pos > MAX_RECORD {
                    let fatal =
                        format!("one JSON document longer than {MAX_RECORD} bytes: not read");
                    return Some(Split { fatal: Some(fatal), ..Split::default() });
                }
                Some(split(&self.buf[self.pos..]))
            }
            Mode::AfterArray => self.after_array(),
            Mode::Start | Mode::Done => None,
        }
    }

    /// The end of a keyed document's object (other keys stepped over); text after it is read
    /// as further documents, one per line, as the in-memory path reads JSON lines.
    fn after_array(&mut self) -> Option<Split<'_>> {
        let mut closed = false;
        loop {
            let b = &self.buf;
            let i = skip_ws(b, self.pos);
            if i >= b.len() {
                if self.fill() {
                    continue;
                }
                self.mode = Mode::Done;
                if closed {
                    return None;
                }
                let fatal = Some("invalid JSON: the document is not closed".to_string());
                return Some(Split { fatal, ..Split::default() });
            }
            if closed {
                // More text after the document: JSON lines.
                self.lines += memchr::memchr_iter(b'\n', &b[..self.pos]).count();
                self.mode = Mode::Lines;
                return self.next_batch();
            }
            match b[i] {
                b'}' => {
                    self.pos = i + 1;
                    closed = true;
                }
                b',' => {
                    // `,"key": value`: step over it once it is all in the window.
                    let k = skip_ws(b, i + 1);
                    let parsed = crate::record::scan::skip_string(b, k).and_then(|e| {
                        let c = skip_ws(b, e);
                        (b.get(c) == Some(&b':')).then(|| skip_ws(b, c + 1))
                    });
                    match parsed.and_then(|v| skip_value(b, v)) {
                        Some(end) if end < b.len() => self.pos = end,
                        _ if !self.eof && b.len() - self.pos <= MAX_RECORD => {
                            self.fill();
                        }
                        _ => {
                            self.mode = Mode::Done;
                            let fatal = Some("invalid JSON after the array".to_string());
                            return Some(Split { fatal, ..Split::default() });
                        }
                    }
                }
                _ => {
                    self.mode = Mode::Done;
                    let fatal = Some("invalid JSON after the array".to_string());
                    return Some(Split { fatal, ..Split::default() });
                }
            }
        }
    }

    /// The complete elements at the front of the buffer (reading until there is one).
    fn array_batch(&mut self, wrap: Wrap) -> Option<Split<'_>> {
        // Find element boundaries: (start, end) of each complete element.
        let mut spans: Vec<(usize, usize)> = Vec::new();
        let mut fatal = None;
        let mut ended = false;
        loop {
            let b = &self.buf;
            let mut i = skip_ws(b, self.pos);
            loop {
                if i >= b.len() {
                    break;
                }
                if b[i] == b']' && spans.is_empty() && self.elements == 0 {
                    ended = true;
                    break;
                }
                match skip_value(b, i) {
                    Some(end) if end < b.len() || self.eof => {
                        let next = skip_ws(b, end);
                        match b.get(next) {
                            Some(b',') => {
                                spans.push((i, end));
                                self.pos = next + 1;
                                i = skip_ws(b, next + 1);
                            }
                            Some(b']') => {
                                spans.push((i, end));
                                self.pos = next + 1;
                                ended = true;
                                break;
                            }
                            None if !self.eof => break,
                            _ => {
                                spans.push((i, end));
                                let n = self.elements + spans.len();
                                fatal = Some(format!(
                                    "invalid JSON after record {n}: expected `,` or `]` at byte {}",
                                    self.read as usize - (b.len() - next)
                                ));
                                ended = true;
                                break;
                            }
                        }
                    }
                    _ if self.eof => {
                        let n = self.elements + spans.len();
                        fatal = Some(format!(
                            "invalid JSON after record {n}: no complete JSON value at byte {}",
                            self.read as usize - (b.len() - i)
                        ));
                        ended = true;
                        break;
                    }
                    _ => break,
                }
                if spans.len() >= 1 << 16 {
                    break;
                }
            }
            if ended || !spans.is_empty() {
                break;
            }
            if self.buf.len() - self.pos > MAX_RECORD {
                let n = self.elements;
                fatal =
                    Some(format!("record {} is longer than {MAX_RECORD} bytes: not read", n + 1));
                ended = true;
                break;
            }
            if !self.fill() {
                // The text ended inside the array.
                let n = self.elements;
                fatal.get_or_insert_with(|| {
                    format!("invalid JSON after record {n}: the array is not closed")
                });
                ended = true;
                break;
            }
        }
        if ended {
            self.mode =
                if fatal.is_none() && wrap != Wrap::Bare { Mode::AfterArray } else { Mode::Done };
        }
        if spans.is_empty() && fatal.is_none() {
            return self.next_batch();
        }
        let base = self.elements;
        self.elements += spans.len();
        let mut out = Split { unvalidated: wrap == Wrap::Records, ..Split::default() };
        for (k, &(s, e)) in spans.iter().enumerate() {
            let elem = &self.buf[s..e];
            let n = base + k + 1;
            match wrap {
                Wrap::Records => {
                    if elem.first() == Some(&b'{') {
                        out.records.push(Record::Unchecked(elem));
                    } else {
                        let at = format!("record {}", n);
                        out.problems.push(Problem { at, message: "not a JSON object".into() });
                    }
                }
                Wrap::Bare => {
                    if elem.first() == Some(&b'{') {
                        take(&mut out, split(elem), &format!("element {n}"));
                    } else {
                        let at = format!("element {n}");
                        out.problems.push(Problem { at, message: "not a JSON object".into() });
                    }
                }
                Wrap::Keyed(key) => {
                    // Inside its key, the element is the document's only one: renumbered.
                    let doc = format!("{{\"{key}\":[{}]}}", String::from_utf8_lossy(elem));
                    let part = split(doc.as_bytes());
                    let unit = if key == "QueryResultRows" { "row" } else { "event" };
                    out.records
                        .extend(part.records.into_iter().map(|r| Record::Text(owned_text(r))));
                    out.problems.extend(
                        part.problems
                            .into_iter()
                            .map(|p| Problem { at: renumber(&p.at, unit, n), message: p.message }),
                    );
                    if let Some(f) = part.fatal {
                        out.problems.push(Problem { at: format!("{unit} {n}"), message: f });
                    }
                }
            }
        }
        out.fatal = fatal;
        Some(out)
    }

    /// The complete lines at the front of the buffer.
    fn lines_batch(&mut self) -> Option<Split<'_>> {
        loop {
            let rest = &self.buf[self.pos..];
            let last_nl = memchr::memrchr(b'\n', rest);
            if self.skipping {
                // The rest of a line too long to read: dropped up to its end.
                match memchr::memchr(b'\n', rest) {
                    Some(nl) => {
                        self.pos += nl + 1;
                        self.skipping = false;
                        continue;
                    }
                    None => {
                        self.pos = self.buf.len();
                        if !self.fill() {
                            self.mode = Mode::Done;
                            return None;
                        }
                        continue;
                    }
                }
            }
            if let Some(nl) = last_nl {
                let end = self.pos + nl + 1;
                let (s, e) = (self.pos, end);
                self.pos = end;
                return Some(self.split_lines(s, e));
            }
            if rest.len() > MAX_RECORD {
                self.lines += 1;
                self.skipping = true;
                self.pos = self.buf.len();
                let at = format!("line {}", self.lines);
                let message = format!("longer than {MAX_RECORD} bytes: not read");
                return Some(Split { problems: vec![Problem { at, message }], ..Split::default() });
            }
            if !self.fill() {
                let (s, e) = (self.pos, self.buf.len());
                self.mode = Mode::Done;
                if self.buf[s..e].iter().all(u8::is_ascii_whitespace) {
                    return None;
                }
                self.pos = e;
                return Some(self.split_lines(s, e));
            }
        }
    }

    fn split_lines(&mut self, s: usize, e: usize) -> Split<'_> {
        let mut out = Split::default();
        let text = &self.buf[s..e];
        if self.export.is_none() {
            let head = std::str::from_utf8(&text[..text.len().min(256)]).unwrap_or_else(|e| {
                std::str::from_utf8(&text[..e.valid_up_to()]).unwrap_or_default()
            });
            self.export = Some(is_export(head));
        }
        let export = self.export == Some(true);
        for line in text.split(|&c| c == b'\n') {
            self.lines += 1;
            let n = self.lines;
            match std::str::from_utf8(line) {
                Ok(line) if export => export_text_line(line, n, &mut out),
                Ok(line) => json_line(line, n, &mut out),
                Err(e) => {
                    let at = format!("line {n}");
                    let message = format!("invalid UTF-8 at byte {}", e.valid_up_to());
                    out.problems.push(Problem { at, message });
                }
            }
        }
        // `split` on "a\nb\n" gives a last empty piece: not a line.
        if text.ends_with(b"\n") {
            self.lines -= 1;
        }
        out
    }
}

/// An owned copy of a record's text (lossy only for text that is not UTF-8, which the
/// record's own check reports).
fn owned_text(r: Record<'_>) -> std::borrow::Cow<'static, str> {
    match r {
        Record::Text(t) => std::borrow::Cow::Owned(t.into_owned()),
        Record::Unchecked(b) => std::borrow::Cow::Owned(String::from_utf8_lossy(b).into_owned()),
    }
}

/// Adds a part's records and problems to `out`, its places named under `at`.
fn take<'a>(out: &mut Split<'a>, part: Split<'a>, at: &str) {
    out.records.extend(part.records);
    for p in part.problems {
        let place = match p.at.as_str() {
            "document" | "line 1" => at.to_string(),
            other => format!("{at} {other}"),
        };
        out.problems.push(Problem { at: place, message: p.message });
    }
}

/// `event 1` (or `row 1`) of a one-element document is element `n` of the file.
fn renumber(at: &str, unit: &str, n: usize) -> String {
    match at.strip_prefix(unit) {
        Some(_) => format!("{unit} {n}"),
        None => at.to_string(),
    }
}

/// When the object starting after `{` at `i` has, before any large value, a key the shapes
/// stream (`Records`, `Events`, `events`, `QueryResultRows`) holding an array: that shape, and
/// where the array's first element may start.
fn first_array_key(b: &[u8], mut i: usize) -> Option<(Wrap, usize)> {
    loop {
        i = skip_ws(b, i);
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let key_end = crate::record::scan::skip_string(b, i)?;
        let key = &b[i + 1..key_end - 1];
        i = skip_ws(b, key_end);
        if b.get(i) != Some(&b':') {
            return None;
        }
        i = skip_ws(b, i + 1);
        let wrap = match key {
            b"Records" => Some(Wrap::Records),
            b"Events" => Some(Wrap::Keyed("Events")),
            b"events" => Some(Wrap::Keyed("events")),
            b"QueryResultRows" => Some(Wrap::Keyed("QueryResultRows")),
            _ => None,
        };
        if let Some(w) = wrap {
            return (b.get(i) == Some(&b'[')).then_some((w, i + 1));
        }
        let end = skip_value(b, i)?;
        if end >= b.len() {
            return None;
        }
        i = skip_ws(b, end);
        if b.get(i) != Some(&b',') {
            return None;
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The records (as text) and problems of `text` streamed `chunk` bytes at a time.
    fn streamed(text: &[u8], chunk: usize) -> (Vec<String>, Vec<String>) {
        let mut r = Records::with_chunk(text, chunk);
        let (mut recs, mut probs) = (Vec::new(), Vec::new());
        while let Some(b) = r.next_batch() {
            probs.extend(b.problems.iter().map(|p| format!("{}: {}", p.at, p.message)));
            probs.extend(b.fatal.clone());
            recs.extend(b.records.into_iter().map(|r| r.text().unwrap().into_owned()));
        }
        (recs, probs)
    }

    /// What the in-memory path gives (the reader removes a BOM first).
    fn in_memory(text: &[u8]) -> Vec<String> {
        let text = text.strip_prefix(b"\xef\xbb\xbf").unwrap_or(text);
        split(text).records.into_iter().map(|r| r.text().unwrap().into_owned()).collect()
    }

    #[test]
    fn every_shape_every_window_gives_the_in_memory_records() {
        let recs = [r#"{"eventName":"A","x":"]},\"{"}"#, r#"{"eventName":"B","y":[1,{"z":"\n"}]}"#];
        let q = |r: &str| serde_json::to_string(r).unwrap();
        let docs = [
            format!("{{\"Records\":[{},{}]}}", recs[0], recs[1]),
            format!("\u{feff}{{ \"Records\" : [ {} ,\n {} ] }}\n", recs[0], recs[1]),
            format!("{}\n{}\n", recs[0], recs[1]),
            format!("{}\r\n\r\n{}", recs[0], recs[1]),
            format!("[{},\n{}]", recs[0], recs[1]),
            format!(
                "{{\"Events\":[{{\"CloudTrailEvent\":{}}},{{\"CloudTrailEvent\":{}}}],\"NextToken\":\"t\"}}",
                q(recs[0]),
                q(recs[1])
            ),
            format!(
                "{{\"events\":[{{\"timestamp\":1,\"message\":{}}},{{\"timestamp\":2,\"message\":{}}}]}}",
                q(recs[0]),
                q(recs[1])
            ),
            format!(
                "{{\"QueryStatus\":\"FINISHED\",\"QueryStatistics\":{{\"a\":[1]}},\"QueryResultRows\":[[{{\"eventJson\":{}}}],[{{\"eventJson\":{}}}]]}}",
                q(recs[0]),
                q(recs[1])
            ),
            format!("2023-07-10T12:00:00.000Z {}\n2023-07-10T12:00:01.000Z {}\n", recs[0], recs[1]),
            format!(
                "{{\"Events\":[{{\"CloudTrailEvent\":{}}}]}}\n{{\"CloudTrailEvent\":{}}}\n",
                q(recs[0]),
                q(recs[1])
            ),
            "{\n  \"eventName\": \"A\",\n  \"x\": 1\n}\n".to_string(),
        ];
        for doc in &docs {
            let want = in_memory(doc.as_bytes());
            assert!(!want.is_empty(), "{doc}");
            for chunk in [1, 2, 3, 7, 16, 64, 4096] {
                let (got, probs) = streamed(doc.as_bytes(), chunk);
                assert_eq!(got, want, "{doc} chunk {chunk}");
                assert!(probs.is_empty(), "{doc} chunk {chunk}: {probs:?}");
            }
        }
    }

    #[test]
    fn damage_is_numbered_across_the_file() {
        let (recs, probs) = streamed(b"{\"a\":1}\n{\"b\":\n{\"c\":3}\nplain\n", 3);
        assert_eq!(recs, [r#"{"a":1}"#, r#"{"c":3}"#]);
        assert_eq!(probs.len(), 2);
        assert!(probs[0].starts_with("line 2: invalid JSON"), "{probs:?}");
        assert!(probs[1].starts_with("line 4: invalid JSON"), "{probs:?}");
        let (recs, probs) = streamed(br#"{"Records":[{"a":1},7,{"b":2},{"c":"#, 4);
        assert_eq!(recs, [r#"{"a":1}"#, r#"{"b":2}"#]);
        assert_eq!(probs[0], "record 2: not a JSON object");
        assert!(probs[1].starts_with("invalid JSON after record 3"), "{probs:?}");
        let (_, probs) =
            streamed(br#"{"events":[{"timestamp":1,"message":"{}"},{"timestamp":2}]}"#, 5);
        assert_eq!(probs, ["event 2: no message"]);
        let (recs, probs) = streamed(br#"[{"a":1},"x"]"#, 2);
        assert_eq!(
            (recs.len(), probs.as_slice()),
            (1, &["element 2: not a JSON object".to_string()][..])
        );
    }
}
