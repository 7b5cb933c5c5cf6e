//! What the index knows of a file: for each indexed field, the scalar values its records hold
//! there (as the matcher sees them), whether some record has none, and the span of
//! `eventTime`s.
//!
//! Values are read the fast way where the record allows it (the extractor's spans, as
//! `summary` reads them) and otherwise exactly as the query reads them: projected
//! ([`KeepSet::project`]) and flattened by the matcher's own walk (`matcher::placed_leaves`). A
//! record whose values cannot be read makes the whole file unindexable: it is then always
//! scanned, so that the scan reports the problem as it does without an index.

use crate::pattern::Pattern;
use crate::pattern::compile::Compiled;
use crate::pattern::matcher;
use crate::record::KeepSet;
use crate::record::fields::{Extractor, Row};
use crate::record::time;
use rustc_hash::FxHashSet;
use serde_json::Value;

/// How a field's values are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Few distinct values in any archive: always an exact set (dictionary ids).
    Exact,
    /// An exact set where a file has few values (at most [`super::EXACT_MAX`]), else a filter
    /// of the values' hashes. Values repeat across files (addresses, agents, role names), so
    /// the dictionary stays small.
    Mixed,
    /// Hashes only: values that are new in almost every session (ARNs and principal ids of
    /// assumed roles, temporary access keys) would grow a shared dictionary without bound.
    /// With a separator, a value holding it is hashed by its tail from the last separator on
    /// (`/alice` of an ARN, `:alice` of a principal id): equal values have equal tails, and
    /// so do a value and any `suffix` test that starts with the separator (`--user alice`).
    Hashed(Option<u8>),
}

/// One indexed field.
#[derive(Debug, Clone, Copy)]
pub struct IndexedField {
    /// The dotted record path.
    pub path: &'static str,
    /// How its values are kept.
    pub keep: Keep,
}

const fn low(path: &'static str) -> IndexedField {
    IndexedField { path, keep: Keep::Exact }
}

const fn mixed(path: &'static str) -> IndexedField {
    IndexedField { path, keep: Keep::Mixed }
}

const fn hashed(path: &'static str, sep: Option<u8>) -> IndexedField {
    IndexedField { path, keep: Keep::Hashed(sep) }
}

/// The fields the index keeps, in its order. Changing this list changes the index format
/// ([`super::format::VERSION`]).
pub const FIELDS: &[IndexedField] = &[
    low("eventName"),
    low("eventSource"),
    low("recipientAccountId"),
    low("awsRegion"),
    low("errorCode"),
    low("eventType"),
    low("eventCategory"),
    low("readOnly"),
    low("managementEvent"),
    low("userIdentity.type"),
    low("userIdentity.accountId"),
    hashed("userIdentity.arn", Some(b'/')),
    mixed("userIdentity.userName"),
    hashed("userIdentity.principalId", Some(b':')),
    hashed("userIdentity.accessKeyId", None),
    mixed("userIdentity.invokedBy"),
    mixed("userIdentity.sessionContext.sessionIssuer.userName"),
    mixed("userIdentity.sessionContext.sessionIssuer.arn"),
    mixed("sourceIPAddress"),
    mixed("userAgent"),
    // The keys a file's records issued (`trace` follows the credential graph through them):
    // STS issuances, and `CreateAccessKey`.
    hashed("responseElements.credentials.accessKeyId", None),
    hashed("responseElements.accessKey.accessKeyId", None),
];

/// The position of `path` in [`FIELDS`].
#[must_use]
pub fn position(path: &str) -> Option<usize> {
    FIELDS.iter().position(|f| f.path == path)
}

/// A scalar value as the index stores it: a tag byte (`s` string, `n` number, `b` boolean,
/// `z` null) and the text (the string itself, the number's JSON text, `true`/`false`).
pub fn tag(v: &Value) -> Option<String> {
    Some(match v {
        Value::String(s) => format!("s{s}"),
        Value::Number(n) => format!("n{n}"),
        Value::Bool(b) => format!("b{b}"),
        Value::Null => "z".to_string(),
        Value::Array(_) | Value::Object(_) => return None,
    })
}

/// The value a tagged text stands for (`None` for text the index never writes).
#[must_use]
pub fn untag(t: &str) -> Option<Value> {
    let (tag, text) = (t.as_bytes().first()?, t.get(1..)?);
    match tag {
        b's' => Some(Value::String(text.to_string())),
        b'n' => match serde_json::from_str::<Value>(text).ok()? {
            n @ Value::Number(_) => Some(n),
            _ => None,
        },
        b'b' => match text {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
        b'z' if text.is_empty() => Some(Value::Null),
        _ => None,
    }
}

/// The text a [`Keep::Hashed`] field hashes for a tagged value: a string holding the
/// separator by its tail from the last separator on, anything else as it is.
#[must_use]
pub fn token(tagged: &str, sep: Option<u8>) -> std::borrow::Cow<'_, str> {
    if let (Some(sep), Some(s)) = (sep, tagged.strip_prefix('s'))
        && let Some(at) = s.rfind(char::from(sep))
    {
        return std::borrow::Cow::Owned(format!("\u{1}{}", &s[at..]));
    }
    std::borrow::Cow::Borrowed(tagged)
}

/// Reads the indexed fields of records.
pub struct FieldReader {
    extractor: std::sync::Arc<Extractor>,
    keep: KeepSet,
    compiled: Pattern,
    /// For each position in [`FIELDS`], the index of its path in the compiled paths.
    slots: Vec<usize>,
}

/// The index of `eventTime` among the extractor's paths.
const TIME: usize = 0;

impl Default for FieldReader {
    fn default() -> Self {
        FieldReader::new()
    }
}

impl FieldReader {
    /// A reader of [`FIELDS`] and `eventTime`.
    #[must_use]
    pub fn new() -> FieldReader {
        FieldReader::with_extra(&[])
    }

    /// Paths the reader's extractor reads before `extra`: `eventTime` and [`FIELDS`].
    pub const PATHS: usize = FIELDS.len() + 1;

    /// A reader whose extractor also reads `extra`, from [`FieldReader::PATHS`] on: another
    /// reader of the same records (a summary's) then reads the rows of the same walk.
    #[must_use]
    pub fn with_extra(extra: &[&str]) -> FieldReader {
        let mut paths: Vec<&str> = vec!["eventTime"];
        paths.extend(FIELDS.iter().map(|f| f.path));
        let own = paths.len();
        paths.extend(extra);
        // A pattern that names every field: the matcher's walk then collects its leaves.
        let mut root = serde_json::Map::new();
        for f in FIELDS {
            let mut parts: Vec<&str> = f.path.split('.').collect();
            let last = parts.pop().expect("paths are not empty");
            let mut obj = &mut root;
            for p in parts {
                obj = obj
                    .entry(p)
                    .or_insert_with(|| Value::Object(serde_json::Map::new()))
                    .as_object_mut()
                    .expect("indexed paths do not end where another goes on");
            }
            obj.insert(last.to_string(), serde_json::json!([{ "exists": true }]));
        }
        let compiled =
            Pattern::parse(&Value::Object(root).to_string()).expect("the index's fields compile");
        let c: &Compiled = compiled.compiled();
        let slots = FIELDS
            .iter()
            .map(|f| *c.path_index.get(f.path).expect("every field is a compiled path"))
            .collect();
        FieldReader {
            extractor: std::sync::Arc::new(Extractor::new(&paths)),
            keep: KeepSet::new(paths[..own].iter().map(|p| (*p).to_string())),
            compiled,
            slots,
        }
    }

    /// The extractor whose rows [`FileFields::add`] reads (for [`crate::engine::ScanConfig::extract`]).
    #[must_use]
    pub fn extractor(&self) -> &std::sync::Arc<Extractor> {
        &self.extractor
    }
}

/// What one file's records hold, as they are read.
pub struct FileFields<'a> {
    /// Per field: raw JSON scalar texts seen on the fast path (strings with their quotes).
    raw: Vec<FxHashSet<&'a str>>,
    /// Per field: tagged values from records read the exact way.
    owned: Vec<FxHashSet<String>>,
    /// Per field: some record has no value there.
    missing: Vec<bool>,
    /// Per field: some value sits inside an element of an array of objects, or some record's
    /// value there is not a single scalar.
    irregular: Vec<bool>,
    /// Earliest and latest `eventTime`, seconds (rounded down and up).
    span: Option<(i64, i64)>,
    /// Some record has no readable `eventTime`.
    untimed: bool,
    /// Records read.
    records: u64,
}

/// The fields of one file, complete: per field its tagged values, sorted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileValues {
    /// Per field (in [`FIELDS`] order): the distinct tagged values, sorted.
    pub values: Vec<Vec<String>>,
    /// Per field: some record has no value there.
    pub missing: Vec<bool>,
    /// Per field: see [`FileFields`].
    pub irregular: Vec<bool>,
    /// Earliest and latest `eventTime` in seconds (down, up), if any parsed.
    pub span: Option<(i64, i64)>,
    /// Some record has no readable `eventTime`.
    pub untimed: bool,
    /// Records in the file.
    pub records: u64,
}

/// A record whose indexed values cannot be read: the file is not indexed.
#[derive(Debug, thiserror::Error)]
#[error("{}{message}", record.map(|r| format!("record {}: ", r + 1)).unwrap_or_default())]
pub struct Unreadable {
    /// The record's index in its file, when known.
    pub record: Option<u64>,
    /// Why.
    pub message: String,
}

impl<'a> Default for FileFields<'a> {
    fn default() -> Self {
        FileFields::new()
    }
}

impl<'a> FileFields<'a> {
    /// Nothing seen yet.
    #[must_use]
    pub fn new() -> FileFields<'a> {
        let n = FIELDS.len();
        FileFields {
            raw: vec![FxHashSet::default(); n],
            owned: vec![FxHashSet::default(); n],
            missing: vec![false; n],
            irregular: vec![false; n],
            span: None,
            untimed: false,
            records: 0,
        }
    }

    fn time(&mut self, text: Option<&str>) {
        match text.and_then(time::parse_event_time) {
            Some(t) => {
                let down = t.timestamp();
                let up = down + i64::from(t.timestamp_subsec_nanos() > 0);
                self.span = Some(match self.span {
                    Some((a, b)) => (a.min(down), b.max(up)),
                    None => (down, up),
                });
            }
            None => self.untimed = true,
        }
    }

    /// Adds one record: from its extractor row when it has one, else read exactly.
    pub fn add(
        &mut self,
        reader: &FieldReader,
        index: u64,
        raw: &'a str,
        row: Option<Row<'_>>,
    ) -> Result<(), Unreadable> {
        self.records += 1;
        if let Some(row) = row
            && self.add_fast(reader, index, raw, row)?
        {
            return Ok(());
        }
        self.add_exact(reader, index, raw)
    }

    /// The fast path; `false` when the record must be read the exact way (a value that is not
    /// a scalar).
    fn add_fast(
        &mut self,
        reader: &FieldReader,
        index: u64,
        raw: &'a str,
        row: Row<'_>,
    ) -> Result<bool, Unreadable> {
        let ex = &reader.extractor;
        let texts: Vec<Option<&'a str>> =
            (0..=FIELDS.len()).map(|i| ex.get_in(row, raw, i)).collect();
        if texts.iter().flatten().any(|t| t.starts_with(['{', '['])) {
            return Ok(false);
        }
        let time = match texts[TIME] {
            Some(t) if t.starts_with('"') => match unquote(t) {
                Some(s) => Some(s),
                None => return Ok(false),
            },
            _ => None,
        };
        // A value [`tag_text`] will parse (a number, a string with escapes, or a broken
        // literal the split let through) is checked now, so that damage names its record.
        for t in texts[TIME + 1..].iter().flatten() {
            if plain(t).is_none() {
                serde_json::from_str::<serde::de::IgnoredAny>(t)
                    .map_err(|e| Unreadable { record: Some(index), message: e.to_string() })?;
            }
        }
        self.time(time.as_deref());
        for (k, text) in texts[TIME + 1..].iter().enumerate() {
            match text {
                Some(t) => {
                    self.raw[k].insert(t);
                }
                None => self.missing[k] = true,
            }
        }
        Ok(true)
    }

    fn add_exact(&mut self, reader: &FieldReader, index: u64, raw: &str) -> Result<(), Unreadable> {
        let unreadable =
            |e: serde_json::Error| Unreadable { record: Some(index), message: e.to_string() };
        let v = reader.keep.project(raw).map_err(unreadable)?;
        self.time(v.get("eventTime").and_then(Value::as_str));
        let leaves = matcher::placed_leaves(reader.compiled.compiled(), &v);
        for (k, &slot) in reader.slots.iter().enumerate() {
            let at = &leaves[slot];
            if at.is_empty() {
                self.missing[k] = true;
            }
            // A value that is not one plain scalar: an array, or leaves below an object.
            if at.len() > 1
                || at.first().is_some_and(|l| l.1)
                || (at.len() == 1 && !is_plain(&v, FIELDS[k].path))
            {
                self.irregular[k] = true;
            }
            for (leaf, _) in at {
                if let Some(t) = tag(leaf) {
                    self.owned[k].insert(t);
                }
            }
        }
        Ok(())
    }

    /// The file's values, complete.
    pub fn finish(self) -> Result<FileValues, Unreadable> {
        let mut values = Vec::with_capacity(FIELDS.len());
        for (raw, owned) in self.raw.into_iter().zip(self.owned) {
            let mut set: Vec<String> = owned.into_iter().collect();
            set.reserve(raw.len());
            for t in raw {
                set.extend(tag_text(t)?);
            }
            set.sort_unstable();
            set.dedup();
            values.push(set);
        }
        Ok(FileValues {
            values,
            missing: self.missing,
            irregular: self.irregular,
            span: self.span,
            untimed: self.untimed,
            records: self.records,
        })
    }
}

impl FileValues {
    /// Adds what a later piece of the same file holds (a streamed file's chunks are read
    /// apart, [`crate::engine::scan_with_chunks`]): the values as one [`FileFields`] over
    /// both pieces would have found them.
    pub fn merge(&mut self, later: FileValues) {
        for (mine, theirs) in self.values.iter_mut().zip(later.values) {
            if !theirs.is_empty() {
                mine.extend(theirs);
                mine.sort_unstable();
                mine.dedup();
            }
        }
        for (mine, theirs) in self.missing.iter_mut().zip(later.missing) {
            *mine |= theirs;
        }
        for (mine, theirs) in self.irregular.iter_mut().zip(later.irregular) {
            *mine |= theirs;
        }
        self.span = match (self.span, later.span) {
            (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
            (x, y) => x.or(y),
        };
        self.untimed |= later.untimed;
        self.records += later.records;
    }
}

/// The tagged value of a scalar's JSON text as the extractor found it: [`tag`] of the parsed
/// value, without building it for plain strings and literals.
fn tag_text(t: &str) -> Result<Option<String>, Unreadable> {
    match plain(t) {
        Some(Plain::String(inner)) => {
            let mut s = String::with_capacity(inner.len() + 1);
            s.push('s');
            s.push_str(inner);
            Ok(Some(s))
        }
        Some(Plain::Bool) => Ok(Some(format!("b{t}"))),
        Some(Plain::Null) => Ok(Some("z".to_string())),
        None => {
            let v: Value = serde_json::from_str(t)
                .map_err(|e| Unreadable { record: None, message: e.to_string() })?;
            Ok(tag(&v))
        }
    }
}

/// A scalar's JSON text that needs no parse to be tagged.
enum Plain<'t> {
    /// A string without escapes: its text between the quotes.
    String(&'t str),
    Bool,
    Null,
}

fn plain(t: &str) -> Option<Plain<'_>> {
    if let Some(inner) = t.strip_prefix('"').and_then(|r| r.strip_suffix('"'))
        && !crate::record::scan::needs_decoding(inner.as_bytes())
    {
        return Some(Plain::String(inner));
    }
    match t {
        "true" | "false" => Some(Plain::Bool),
        "null" => Some(Plain::Null),
        _ => None,
    }
}

/// A JSON string literal's text, decoded.
fn unquote(lit: &str) -> Option<std::borrow::Cow<'_, str>> {
    let inner = lit.strip_prefix('"')?.strip_suffix('"')?;
    if inner.contains('\\') {
        serde_json::from_str::<String>(lit).ok().map(std::borrow::Cow::Owned)
    } else {
        Some(std::borrow::Cow::Borrowed(inner))
    }
}

/// Whether the value at dotted `path` of `v` is reached through objects only (no array on the
/// way) and is a scalar.
fn is_plain(v: &Value, path: &str) -> bool {
    let mut cur = v;
    for part in path.split('.') {
        match cur.get(part) {
            Some(next) => cur = next,
            None => return true,
        }
    }
    !cur.is_array() && !cur.is_object()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::fields::{Fields, Table};

    fn exact(raw: &str) -> FileValues {
        let reader = FieldReader::new();
        let mut f = FileFields::new();
        f.add(&reader, 0, raw, None).unwrap();
        f.finish().unwrap()
    }

    fn fast(raw: &str) -> FileValues {
        let reader = FieldReader::new();
        let (mut fields, mut table) = (Fields::default(), Table::default());
        reader.extractor().walk(raw.as_bytes(), 0, &mut fields, &mut table).unwrap();
        let mut f = FileFields::new();
        f.add(&reader, 0, raw, table.row(0)).unwrap();
        f.finish().unwrap()
    }

    #[test]
    fn pieces_merged_equal_the_whole() {
        let recs = [
            r#"{"eventTime":"2024-03-01T10:00:00.5Z","eventName":"CreateUser","sourceIPAddress":"203.0.113.5"}"#,
            r#"{"eventName":"X","userIdentity":{"type":"Root"},"recipientAccountId":"1"}"#,
            r#"{"eventTime":"2024-02-01T10:00:00Z","eventName":"CreateUser","awsRegion":["a"]}"#,
            r#"{"eventTime":"2024-04-01T10:00:00Z","eventName":"A","sourceIPAddress":"203.0.113.5"}"#,
        ];
        let reader = FieldReader::new();
        let read = |part: &[&str]| {
            let mut f = FileFields::new();
            for (i, r) in part.iter().enumerate() {
                f.add(&reader, i as u64, r, None).unwrap();
            }
            f.finish().unwrap()
        };
        let whole = read(&recs);
        for cut in 0..=recs.len() {
            let mut merged = read(&recs[..cut]);
            merged.merge(read(&recs[cut..]));
            assert_eq!(merged, whole, "cut at {cut}");
        }
    }

    #[test]
    fn both_paths_read_the_same_values() {
        let recs = [
            r#"{"eventTime":"2024-03-01T10:00:00.5Z","eventName":"CreateUser","readOnly":false,"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/al\u0069ce","accessKeyId":"AKIA1"},"errorCode":null,"managementEvent":true,"sourceIPAddress":"203.0.113.5"}"#,
            r#"{"eventName":"X","userIdentity":{"sessionContext":{"sessionIssuer":{"userName":"R"}}},"recipientAccountId":1.50}"#,
        ];
        for r in recs {
            let (a, b) = (exact(r), fast(r));
            assert_eq!(a, b, "{r}");
        }
        let v = exact(recs[0]);
        let k = position("userIdentity.arn").unwrap();
        assert_eq!(v.values[k], ["sarn:aws:iam::1:user/alice"]);
        assert_eq!(v.values[position("readOnly").unwrap()], ["bfalse"]);
        assert_eq!(v.values[position("errorCode").unwrap()], ["z"]);
        assert_eq!(v.span, Some((1_709_287_200, 1_709_287_201)));
        assert!(v.missing[position("userAgent").unwrap()]);
        assert!(!v.untimed);
        assert!(exact(recs[1]).untimed);
    }

    #[test]
    fn arrays_are_read_as_the_matcher_reads_them() {
        let r = r#"{"eventName":["A","B"],"userIdentity":[{"arn":"x"},{"arn":"y"}]}"#;
        let v = fast(r);
        assert_eq!(v.values[0], ["sA", "sB"]);
        let k = position("userIdentity.arn").unwrap();
        assert_eq!(v.values[k], ["sx", "sy"]);
        assert!(v.irregular[0] && v.irregular[k]);
    }

    #[test]
    fn scalar_texts_are_tagged_as_their_values() {
        for t in [
            r#""plain""#,
            r#""""#,
            r#""esc\u0041\n""#,
            r#""quote\"d""#,
            "true",
            "false",
            "null",
            "12",
            "1.50",
            "-0",
            "1e3",
        ] {
            let v: Value = serde_json::from_str(t).unwrap();
            assert_eq!(tag_text(t).unwrap(), tag(&v), "{t}");
        }
        assert!(tag_text(r#""a\u0001b""#).is_ok());
        assert!(tag_text("\"a\tb\"").is_err(), "a raw control character is not JSON");
        assert!(tag_text("tru").is_err());
    }

    #[test]
    fn tags_round_trip() {
        for v in
            [serde_json::json!("a"), serde_json::json!(1.5), serde_json::json!(true), Value::Null]
        {
            assert_eq!(untag(&tag(&v).unwrap()), Some(v));
        }
        assert_eq!(untag("q"), None);
        assert_eq!(untag(""), None);
        assert_eq!(untag("nx"), None);
    }
}
