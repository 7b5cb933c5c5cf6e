//! `summary`: what an archive (or the records matching a query) holds, at a glance.
//!
//! [`Summary`] is a mergeable partial aggregate: `Summary::default()`, [`Summary::observe`] each
//! record, [`Summary::merge`] partials (in input order). Merging the partials of consecutive
//! slices equals one pass over the whole. [`Report`] is the finished, serialisable view (the
//! `--format json` schema, `doc/summary-schema.md`) that every renderer prints.

pub mod actions;
mod counter;
pub mod render;

pub use counter::{Counter, GroupId, MAX_GROUP};

use crate::output::Field;
use crate::record::actor::ACTOR_FIELDS;
use crate::record::fields::{self, Extracted, Extractor, Fields};
use crate::record::{KeepSet, actor, time};
use crate::stats::Stats;
use actions::Notable;
use chrono::{DateTime, Utc};
use rustc_hash::FxHashMap as HashMap;
use serde::Serialize;
use serde_json::Value;
use std::borrow::Cow;
use std::collections::BTreeMap;

/// RFC 3339 in UTC, whole seconds: `2024-03-01T10:00:00Z`.
#[must_use]
pub fn time_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn nanos_text(n: i64) -> String {
    time_text(DateTime::from_timestamp_nanos(n))
}

/// The value shown for a missing field.
pub const MISSING: &str = "-";

/// A count with the first and last time seen (nanoseconds since the epoch). 24 bytes: a
/// summary holds one per distinct value of every counted field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// Records.
    pub count: u64,
    /// Earliest `eventTime` (`i64::MAX`: none).
    first: i64,
    /// Latest `eventTime` (`i64::MIN`: none).
    last: i64,
}

impl Default for Tally {
    fn default() -> Self {
        Tally { count: 0, first: i64::MAX, last: i64::MIN }
    }
}

impl Tally {
    fn add(&mut self, t: Option<i64>) {
        self.count += 1;
        if let Some(t) = t {
            self.first = self.first.min(t);
            self.last = self.last.max(t);
        }
    }

    /// Earliest `eventTime`.
    #[must_use]
    pub fn first(&self) -> Option<i64> {
        (self.first <= self.last).then_some(self.first)
    }

    /// Latest `eventTime`.
    #[must_use]
    pub fn last(&self) -> Option<i64> {
        (self.first <= self.last).then_some(self.last)
    }

    /// Adds `other` into `self`.
    pub fn merge(&mut self, other: &Tally) {
        self.count += other.count;
        self.first = self.first.min(other.first);
        self.last = self.last.max(other.last);
    }
}

/// The fields counted in every summary: (JSON key, title, dotted path or `actor`).
pub const DIMENSIONS: [(&str, &str, &str); 8] = [
    ("event_sources", "event sources", "eventSource"),
    ("event_names", "events", "eventName"),
    ("actors", "actors", "actor"),
    ("source_ips", "source IPs", "sourceIPAddress"),
    ("user_agents", "user agents", "userAgent"),
    ("error_codes", "error codes", "errorCode"),
    ("accounts", "accounts", "recipientAccountId"),
    ("regions", "regions", "awsRegion"),
];

/// The fields whose distinct values are counted per `--by` group: (JSON key, path).
pub const GROUP_DISTINCT: [(&str, &str); 5] = [
    ("event_names", "eventName"),
    ("actors", "actor"),
    ("source_ips", "sourceIPAddress"),
    ("accounts", "recipientAccountId"),
    ("regions", "awsRegion"),
];

/// What to aggregate beyond the fixed counts.
#[derive(Debug, Clone)]
pub struct Spec {
    /// `--by`: the grouping fields (dotted paths, `actor`).
    pub by: Vec<Field>,
    /// `--timeline-by`: the field that splits the timeline.
    pub timeline_by: Option<Field>,
    /// Notable actions kept (the first ones in input order); the rest are counted.
    pub max_notable: usize,
}

impl Spec {
    /// The record paths [`Summary::observe_counts`] and [`actions::is_candidate`] read.
    #[must_use]
    pub fn paths(&self) -> Vec<String> {
        let mut v: Vec<String> = vec!["eventTime".into()];
        v.extend(crate::record::actor::ACTOR_FIELDS.iter().map(|p| (*p).to_string()));
        let mut add = |p: &str| {
            if p != "actor" {
                v.push(p.to_string());
            }
        };
        DIMENSIONS.iter().for_each(|(_, _, p)| add(p));
        GROUP_DISTINCT.iter().for_each(|(_, p)| add(p));
        actions::CANDIDATE_FIELDS.iter().for_each(|p| add(p));
        self.by.iter().chain(&self.timeline_by).for_each(|f| add(&f.path));
        v
    }
}

impl Default for Spec {
    fn default() -> Self {
        Spec { by: Vec::new(), timeline_by: None, max_notable: 10_000 }
    }
}

/// One `--by` group. Its distinct values of [`GROUP_DISTINCT`] are noted in the counters of
/// those fields ([`Counter`]), under the group's number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Group {
    /// Count and times.
    pub tally: Tally,
    /// The group's number in its summary (in the order groups were first seen).
    id: GroupId,
}

/// A partial summary. Equal to another when they hold the same counts, groups (by key) and
/// distinct values per group, timeline and notable actions.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Records observed, and the overall time span.
    pub all: Tally,
    /// Records without a readable `eventTime`.
    pub undated: u64,
    /// Files that held at least one record observed (counted by the caller).
    pub files: u64,
    /// Counts per value of each of [`DIMENSIONS`] (errorCode: only records that have one),
    /// and for those of [`GROUP_DISTINCT`] the groups each value was seen in.
    pub counts: [Counter; 8],
    /// `--by` groups, by key (their values, each but the last written as
    /// `<byte length>:<text>`).
    pub groups: HashMap<String, Group>,
    /// Records per hour (the hour's start, seconds since the epoch).
    pub hours: HashMap<i64, u64>,
    /// With `--timeline-by`: records per value and hour.
    pub series: HashMap<String, HashMap<i64, u64>>,
    /// Notable actions, in input order.
    pub notable: Vec<Notable>,
    /// Notable actions beyond `max_notable`.
    pub notable_dropped: u64,
    /// Per field of [`DIMENSIONS`], values counted but not held in `counts`, because they
    /// cannot reach the report's top rows (see [`Unlisted`]).
    pub unlisted: [Unlisted; 8],
}

/// Values of a field that were counted without being kept: when a summary's counts are
/// added up from the archive index and the report shows only its top rows, the values that
/// cannot reach them are counted here (for the field's distinct and record totals) instead
/// of each being kept with its text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Unlisted {
    /// Distinct values.
    pub values: u64,
    /// Records with them.
    pub records: u64,
}

impl Summary {
    /// Every (field of [`DISTINCT_DIMS`], group key, value) noted as distinct in a group.
    fn members(&self) -> std::collections::BTreeSet<(usize, &str, &str)> {
        let keys: HashMap<GroupId, &str> =
            self.groups.iter().map(|(k, g)| (g.id, k.as_str())).collect();
        let keys = &keys;
        DISTINCT_DIMS
            .iter()
            .flat_map(|&d| {
                let noted = self.counts[d].members();
                noted.filter_map(move |(v, g)| Some((d, *keys.get(&g)?, v)))
            })
            .collect()
    }
}

impl PartialEq for Summary {
    fn eq(&self, other: &Summary) -> bool {
        let groups = |s: &Summary| -> HashMap<String, Tally> {
            s.groups.iter().map(|(k, g)| (k.clone(), g.tally)).collect()
        };
        self.all == other.all
            && self.undated == other.undated
            && self.files == other.files
            && self.counts == other.counts
            && groups(self) == groups(other)
            && self.members() == other.members()
            && self.hours == other.hours
            && self.series == other.series
            && self.notable == other.notable
            && self.notable_dropped == other.notable_dropped
            && self.unlisted == other.unlisted
    }
}

impl Eq for Summary {}

fn field_text<'a>(record: &'a Value, f: &Field) -> Cow<'a, str> {
    if f.path == "actor" {
        return Cow::Owned(actor(record));
    }
    match crate::output::lookup(record, &f.path) {
        None | Some(Value::Null) => Cow::Borrowed(MISSING),
        Some(Value::String(s)) if s.is_empty() => Cow::Borrowed(MISSING),
        Some(Value::String(s)) => Cow::Borrowed(s),
        Some(v) => Cow::Owned(v.to_string()),
    }
}

fn path_text<'a>(record: &'a Value, path: &str) -> Option<Cow<'a, str>> {
    if let Some(Value::String(s)) = record.get(path) {
        return (!s.is_empty()).then_some(Cow::Borrowed(s.as_str()));
    }
    actions::text_at(record, path).map(Cow::Owned)
}

/// Where the values of [`GROUP_DISTINCT`] are among [`DIMENSIONS`].
const DISTINCT_DIMS: [usize; 5] = [1, 2, 3, 6, 7];
/// The index of `errorCode` (counted only when present) and of the actor in [`DIMENSIONS`].
const ERROR_DIM: usize = 5;
const ACTOR_DIM: usize = 2;

/// The hash a [`Counter`] keys a value's text by (foldhash's quality variant, seeded once per
/// run and the same for every thread, so the threads' counters merge without hashing their
/// texts again). Values are still compared by text: distinct counts are exact.
static DISTINCT_HASHER: std::sync::LazyLock<foldhash::quality::RandomState> =
    std::sync::LazyLock::new(foldhash::quality::RandomState::default);

pub fn distinct_hash(v: &str) -> u64 {
    use std::hash::BuildHasher;
    DISTINCT_HASHER.hash_one(v)
}

/// The number of the `n`th group. A summary cannot hold 4 billion groups (each takes a
/// hundred bytes or more), so the number always fits.
fn group_id(n: usize) -> GroupId {
    GroupId::try_from(n).map_or(MAX_GROUP, |g| g.min(MAX_GROUP))
}

/// Appends a group's values to `key`: each but the last as `<byte length>:<text>`, the last
/// as it is (the number of values is the number of `--by` fields), so any text fits.
fn push_key_parts<'a>(key: &mut String, parts: impl Iterator<Item = Cow<'a, str>>) {
    use std::fmt::Write;
    let mut parts = parts.peekable();
    while let Some(part) = parts.next() {
        if parts.peek().is_some() {
            // Writing into a String cannot fail.
            let _ = write!(key, "{}:", part.len());
        }
        key.push_str(&part);
    }
}

/// The values of a group key of `n` values (see [`push_key_parts`]).
fn key_parts(mut key: &str, n: usize) -> Vec<String> {
    let mut parts = Vec::with_capacity(n);
    for _ in 1..n {
        let Some((len, rest)) = key.split_once(':') else { break };
        let at = len.parse::<usize>().unwrap_or(rest.len()).min(rest.len());
        parts.push(rest[..at].to_string());
        key = &rest[at..];
    }
    parts.push(key.to_string());
    parts
}

/// Reads the fields a summary counts straight from a record's text (see
/// [`Summary::observe_raw`]); one per thread.
#[derive(Debug, Clone)]
pub struct Reader {
    /// Shared with the scan ([`crate::engine::ScanConfig::extract`]), which may read the
    /// fields while it splits a file.
    extractor: std::sync::Arc<Extractor>,
    fields: Fields,
    /// The slow, exact way for unusual records.
    keep: KeepSet,
    /// The group key being built.
    key: String,
    /// Values read per record: `eventTime`, the actor fields, `readOnly`, the dimensions but
    /// the actor, then the `--by` fields and the timeline field.
    wanted: usize,
    /// Where this reader's paths start among the extractor's ([`Reader::sharing`]).
    base: usize,
}

/// Where the reader's values are (see [`Reader::wanted`]).
const ACTOR_AT: usize = 1;
const READ_ONLY_AT: usize = ACTOR_AT + ACTOR_FIELDS.len();
const DIMS_AT: usize = READ_ONLY_AT + 1;
const BY_AT: usize = DIMS_AT + DIMENSIONS.len() - 1;
/// More values than this per record (many `--by` fields) are read the slow way.
const MAX_WANTED: usize = 32;

impl Reader {
    /// A reader for `spec`.
    #[must_use]
    pub fn new(spec: &Spec) -> Reader {
        let paths = Reader::paths(spec);
        Reader::sharing(spec, std::sync::Arc::new(Extractor::new(&paths)), 0)
    }

    /// The paths a reader for `spec` reads, in its order: an extractor that reads other paths
    /// too serves it when these come at one place in its list ([`Reader::sharing`]).
    #[must_use]
    pub fn paths(spec: &Spec) -> Vec<&str> {
        let mut paths: Vec<&str> = vec!["eventTime"];
        paths.extend(ACTOR_FIELDS);
        paths.push("readOnly");
        paths.extend(DIMENSIONS.iter().map(|d| d.2).filter(|p| *p != "actor"));
        paths.extend(spec.by.iter().chain(&spec.timeline_by).map(|f| f.path.as_str()));
        paths.push("userIdentity");
        paths
    }

    /// A reader for `spec` that reads the rows of `extractor`, whose paths from `base` on are
    /// [`Reader::paths`] (the index's build reads its fields and a summary's in one walk).
    #[must_use]
    pub fn sharing(spec: &Spec, extractor: std::sync::Arc<Extractor>, base: usize) -> Reader {
        Reader {
            extractor,
            fields: Fields::default(),
            keep: KeepSet::new(spec.paths()),
            key: String::new(),
            wanted: Reader::paths(spec).len() - 1,
            base,
        }
    }

    /// The extractor of this reader's fields, for [`crate::engine::ScanConfig::extract`]: the
    /// rows it finds while splitting are read with [`Summary::observe_raw`] of any reader
    /// cloned from this one.
    #[must_use]
    pub fn extractor(&self) -> std::sync::Arc<Extractor> {
        self.extractor.clone()
    }
}

/// A value as the summary reads it, checked as a full parse would check it.
#[derive(Debug, Default)]
enum Val<'a> {
    /// Not there.
    #[default]
    Missing,
    /// `null`.
    Null,
    /// A string, unescaped.
    Str(Cow<'a, str>),
    /// Another value, as compact JSON text.
    Json(Cow<'a, str>),
}

impl<'a> Val<'a> {
    /// The value whose text is `raw`, or `None` when that is not valid JSON.
    fn read(raw: &'a str) -> Option<Val<'a>> {
        match raw.as_bytes().first()? {
            b'"' => {
                let inner = raw.get(1..raw.len() - 1)?;
                if crate::record::scan::needs_decoding(inner.as_bytes()) {
                    serde_json::from_str::<String>(raw).ok().map(|s| Val::Str(Cow::Owned(s)))
                } else {
                    Some(Val::Str(Cow::Borrowed(inner)))
                }
            }
            _ if raw == "null" => Some(Val::Null),
            _ if raw == "true" || raw == "false" => Some(Val::Json(Cow::Borrowed(raw))),
            _ => serde_json::from_str::<Value>(raw)
                .ok()
                .map(|v| Val::Json(Cow::Owned(v.to_string()))),
        }
    }

    /// A non-empty string.
    fn str(&self) -> Option<&str> {
        match self {
            Val::Str(s) if !s.is_empty() => Some(s),
            _ => None,
        }
    }

    /// As [`actions::text_at`] reads a value: strings as they are, the rest as JSON; `null`
    /// and empty strings are absent.
    fn text(&self) -> Option<Cow<'_, str>> {
        match self {
            Val::Str(s) | Val::Json(s) if !s.is_empty() => Some(Cow::Borrowed(s)),
            _ => None,
        }
    }
}

impl Summary {
    /// Adds one record.
    pub fn observe(&mut self, record: &Value, spec: &Spec) {
        self.observe_counts(record, spec);
        self.observe_notable(record, spec);
    }

    /// The counts, groups and timeline of one record, which may be projected to
    /// [`Spec::paths`].
    pub fn observe_counts(&mut self, record: &Value, spec: &Spec) {
        self.observe_value(record, spec, &mut String::new());
    }

    fn observe_value(&mut self, record: &Value, spec: &Spec, key: &mut String) {
        let time = record
            .get("eventTime")
            .and_then(Value::as_str)
            .and_then(time::parse_event_time)
            .and_then(time::sort_key);
        let mut dims: [Option<Cow<'_, str>>; 8] = Default::default();
        for (slot, (_, _, path)) in dims.iter_mut().zip(DIMENSIONS) {
            if path != "actor" {
                *slot = path_text(record, path);
            }
        }
        dims[ACTOR_DIM] = Some(Cow::Owned(actor(record)));
        let by = spec.by.iter().map(|f| field_text(record, f));
        let series = spec.timeline_by.as_ref().map(|f| field_text(record, f));
        self.add(spec, key, time, &dims, by, series);
    }

    /// One record read from its text: its counts, groups and timeline into `self`, and, if it
    /// may be a notable action, the record parsed whole into `notable`
    /// ([`Summary::observe_notable`]). A record that cannot be read changes neither.
    ///
    /// The same as projecting the record to [`Spec::paths`], calling
    /// [`Summary::observe_counts`] and, when [`actions::is_candidate`], observing the whole
    /// record; which is what it does with a record that is unusual on those paths (and so the
    /// same error for a record that cannot be read). The common record is read without
    /// building anything.
    ///
    /// `row`: where the fields of `raw` are, when the split found them with this reader's
    /// extractor ([`Reader::extractor`], shared by every clone of the reader); with `None` the
    /// record is read here.
    pub fn observe_raw(
        &mut self,
        raw: &str,
        row: Option<fields::Row<'_>>,
        spec: &Spec,
        reader: &mut Reader,
        notable: &mut Summary,
    ) -> serde_json::Result<()> {
        let Reader { extractor, fields, keep, key, wanted, base } = reader;
        let base = *base;
        let mut vals: [Val<'_>; MAX_WANTED] = Default::default();
        let mut usable = *wanted <= MAX_WANTED
            && (row.is_some() || extractor.extract(raw, fields) == Extracted::Done);
        let get = |i: usize| match row {
            Some(row) => extractor.get_in(row, raw, base + i),
            None => extractor.get(fields, raw, base + i),
        };
        if usable {
            for (i, val) in vals.iter_mut().enumerate().take(*wanted) {
                if let Some(text) = get(i) {
                    match Val::read(text) {
                        Some(v) => *val = v,
                        None => usable = false,
                    }
                }
            }
        }
        if !usable {
            let projected = keep.project(raw)?;
            if actions::is_candidate(&projected) {
                notable.observe_notable(&serde_json::from_str(raw)?, spec);
            }
            self.observe_value(&projected, spec, key);
            return Ok(());
        }
        let time = vals[0].str().and_then(time::parse_event_time).and_then(time::sort_key);
        // `userIdentity` is the last path: the actor needs it to be an object.
        let identity = get(*wanted).is_some_and(|t| t.starts_with('{'));
        let who = if identity {
            crate::record::actor::actor_of(|i| vals[ACTOR_AT + i].str())
        } else {
            Cow::Borrowed(MISSING)
        };
        let mut dims: [Option<Cow<'_, str>>; 8] = Default::default();
        let mut next = DIMS_AT;
        for (i, slot) in dims.iter_mut().enumerate() {
            if i == ACTOR_DIM {
                *slot = Some(Cow::Borrowed(who.as_ref()));
            } else {
                *slot = vals[next].text();
                next += 1;
            }
        }
        let field = |f: &Field, at: usize| -> Cow<'_, str> {
            if f.path == "actor" {
                Cow::Borrowed(who.as_ref())
            } else {
                vals[at].text().unwrap_or(Cow::Borrowed(MISSING))
            }
        };
        let by = spec.by.iter().enumerate().map(|(i, f)| field(f, BY_AT + i));
        let series = spec.timeline_by.as_ref().map(|f| field(f, BY_AT + spec.by.len()));
        let root = identity && vals[ACTOR_AT].str() == Some("Root");
        let read_only = matches!(&vals[READ_ONLY_AT], Val::Json(t) if t == "true");
        let (source, event) = (dims[0].as_deref().unwrap_or(""), dims[1].as_deref().unwrap_or(""));
        if actions::find(source, event).is_some() || (root && !read_only) {
            notable.observe_notable(&serde_json::from_str(raw)?, spec);
        }
        self.add(spec, key, time, &dims, by, series);
        Ok(())
    }

    fn add<'a>(
        &mut self,
        spec: &Spec,
        key: &mut String,
        t: Option<i64>,
        dims: &[Option<Cow<'a, str>>; 8],
        by: impl Iterator<Item = Cow<'a, str>>,
        series: Option<Cow<'a, str>>,
    ) {
        self.all.add(t);
        if t.is_none() {
            self.undated += 1;
        }
        let group = (!spec.by.is_empty()).then(|| {
            key.clear();
            push_key_parts(key, by);
            let g = match self.groups.get_mut(key.as_str()) {
                Some(g) => g,
                None => {
                    let id = group_id(self.groups.len());
                    let g = Group { tally: Tally::default(), id };
                    self.groups.entry(key.clone()).or_insert(g)
                }
            };
            g.tally.add(t);
            g.id
        });
        // Each value is looked up once, for its count and the distinct values of its group.
        for (i, (counter, v)) in self.counts.iter_mut().zip(dims).enumerate() {
            if i == ERROR_DIM && v.is_none() {
                continue;
            }
            let member = group.filter(|_| v.is_some() && DISTINCT_DIMS.contains(&i));
            let v = v.as_deref().unwrap_or(MISSING);
            counter.add(v, distinct_hash(v), t, member);
        }
        if let Some(n) = t {
            let hour = n.div_euclid(1_000_000_000).div_euclid(3600) * 3600;
            *self.hours.entry(hour).or_default() += 1;
            if let Some(s) = series {
                match self.series.get_mut(s.as_ref()) {
                    Some(hours) => *hours.entry(hour).or_default() += 1,
                    None => {
                        self.series.entry(s.into_owned()).or_default().insert(hour, 1);
                    }
                }
            }
        }
    }

    /// The notable action of a whole record, if any (part of [`Summary::observe`]).
    pub fn observe_notable(&mut self, record: &Value, spec: &Spec) {
        if let Some(n) = actions::describe(record) {
            if self.notable.len() < spec.max_notable {
                self.notable.push(n);
            } else {
                self.notable_dropped += 1;
            }
        }
    }

    /// Adds `other` (a partial over later input) into `self`.
    /// Summaries counted apart (one per worker thread) merged into one: into the one with
    /// the most records, which has the fewest values to move.
    #[must_use]
    pub fn merge_all(parts: impl IntoIterator<Item = Summary>, spec: &Spec) -> Summary {
        let mut parts: Vec<Summary> = parts.into_iter().collect();
        parts.sort_by_key(|c| std::cmp::Reverse(c.all.count));
        let mut rest = parts.into_iter();
        let mut total = rest.next().unwrap_or_default();
        rest.for_each(|c| total.merge(c, spec));
        total
    }

    pub fn merge(&mut self, other: Summary, spec: &Spec) {
        self.all.merge(&other.all);
        self.undated += other.undated;
        self.files += other.files;
        // Their groups' numbers here, by their number there.
        let mut renumber = vec![0; other.groups.len()];
        for (k, g) in other.groups {
            let next = group_id(self.groups.len());
            let mine = self.groups.entry(k).or_insert(Group { tally: Tally::default(), id: next });
            mine.tally.merge(&g.tally);
            if let Some(n) = renumber.get_mut(g.id as usize) {
                *n = mine.id;
            }
        }
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            mine.merge(theirs, &renumber);
        }
        for (h, n) in other.hours {
            *self.hours.entry(h).or_default() += n;
        }
        for (s, hours) in other.series {
            let mine = self.series.entry(s).or_default();
            for (h, n) in hours {
                *mine.entry(h).or_default() += n;
            }
        }
        self.notable_dropped += other.notable_dropped;
        for (mine, theirs) in self.unlisted.iter_mut().zip(other.unlisted) {
            mine.values += theirs.values;
            mine.records += theirs.records;
        }
        for n in other.notable {
            if self.notable.len() < spec.max_notable {
                self.notable.push(n);
            } else {
                self.notable_dropped += 1;
            }
        }
    }
}

/// What a summary without `--by` or `--timeline-by` counted in one file, as the archive index
/// keeps it ([`Summary::part`], [`Summary::from_part`]): the summary of a file the index
/// answers for is made from this, not from the file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Part {
    /// Records, and their time span.
    pub all: Tally,
    /// Records without a readable `eventTime`.
    pub undated: u64,
    /// Per field of [`DIMENSIONS`]: each value's text and tally, in the order first seen.
    pub counts: [Vec<(String, Tally)>; 8],
    /// Records per hour (the hour's start, seconds since the epoch), by hour.
    pub hours: Vec<(i64, u64)>,
    /// Notable actions, in input order.
    pub notable: Vec<Notable>,
    /// Notable actions beyond the cap.
    pub notable_dropped: u64,
}

impl Tally {
    /// A tally of `count` records seen from `first` to `last` (`None`: no time).
    #[must_use]
    pub fn new(count: u64, span: Option<(i64, i64)>) -> Tally {
        let (first, last) = span.unwrap_or((i64::MAX, i64::MIN));
        Tally { count, first, last }
    }
}

impl Summary {
    /// This partial as the index keeps it; `None` when it has groups or a split timeline
    /// (a summary with `--by` or `--timeline-by`), which the index does not keep.
    #[must_use]
    pub fn part(&self) -> Option<Part> {
        if !self.groups.is_empty() || !self.series.is_empty() {
            return None;
        }
        let mut hours: Vec<(i64, u64)> = self.hours.iter().map(|(h, n)| (*h, *n)).collect();
        hours.sort_unstable();
        Some(Part {
            all: self.all,
            undated: self.undated,
            counts: std::array::from_fn(|d| {
                self.counts[d].iter().map(|(t, tally)| (t.to_string(), tally)).collect()
            }),
            hours,
            notable: self.notable.clone(),
            notable_dropped: self.notable_dropped,
        })
    }

    /// The partial summary of the file whose counts are `part` (one file: `files` is 1 when it
    /// held a record), as observing its records one by one would have made it.
    #[must_use]
    pub fn from_part(part: &Part) -> Summary {
        let mut s = Summary {
            all: part.all,
            undated: part.undated,
            files: u64::from(part.all.count > 0),
            hours: part.hours.iter().copied().collect(),
            notable: part.notable.clone(),
            notable_dropped: part.notable_dropped,
            ..Summary::default()
        };
        for (counter, values) in s.counts.iter_mut().zip(&part.counts) {
            for (text, tally) in values {
                counter.add_tally(text, distinct_hash(text), *tally);
            }
        }
        s
    }
}

/// Timeline bucket size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Bucket {
    /// One bar per hour.
    Hour,
    /// One bar per day (UTC).
    Day,
}

impl Bucket {
    fn seconds(self) -> i64 {
        match self {
            Bucket::Hour => 3600,
            Bucket::Day => 86_400,
        }
    }

    /// Hours when the span is at most three days, else days.
    #[must_use]
    pub fn auto(all: &Tally) -> Bucket {
        match (all.first(), all.last()) {
            (Some(f), Some(l)) if l - f > 3 * 86_400 * 1_000_000_000 => Bucket::Day,
            _ => Bucket::Hour,
        }
    }
}

/// How to turn a [`Summary`] into a [`Report`].
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// Rows per top table (0: all).
    pub top: usize,
    /// Timeline buckets (`None`: by span).
    pub bucket: Option<Bucket>,
    /// Series shown when the timeline is split (the rest are summed as `other`).
    pub series: usize,
    /// `--by` group rows built (the first ones in order; 0: all), for renderers that show
    /// only the top ones: a million groups take longer to order and build than to count.
    pub group_rows: usize,
}

/// A row of a top table.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Row {
    /// The value (`-`: the field was missing).
    pub value: String,
    /// Records with that value.
    pub count: u64,
    /// First seen (RFC 3339).
    pub first_seen: Option<String>,
    /// Last seen (RFC 3339).
    pub last_seen: Option<String>,
}

/// A top table.
#[derive(Debug, Clone, Serialize)]
pub struct TopTable {
    /// The JSON key (`event_names`).
    pub name: &'static str,
    /// The title (`events`).
    #[serde(skip)]
    pub title: &'static str,
    /// The field counted.
    pub field: &'static str,
    /// Distinct values in all.
    pub distinct: usize,
    /// Records counted (for `error_codes`: records with an error).
    pub records: u64,
    /// The most frequent values, by count then value.
    pub rows: Vec<Row>,
}

/// The overview section.
#[derive(Debug, Clone, Serialize)]
pub struct Overview {
    /// Records summarised.
    pub records: u64,
    /// Files that held them.
    pub files_with_records: u64,
    /// Files read.
    pub files_read: u64,
    /// Files that could not be read.
    pub files_failed: u64,
    /// Records without a readable eventTime.
    pub undated_records: u64,
    /// Earliest eventTime.
    pub first_seen: Option<String>,
    /// Latest eventTime.
    pub last_seen: Option<String>,
    /// Distinct recipientAccountId values, sorted.
    pub accounts: Vec<String>,
    /// Distinct awsRegion values, sorted.
    pub regions: Vec<String>,
}

/// A `--by` group row.
#[derive(Debug, Clone, Serialize)]
pub struct GroupRow {
    /// The group's values, one per `--by` field.
    pub key: Vec<String>,
    /// Records.
    pub count: u64,
    /// First seen.
    pub first_seen: Option<String>,
    /// Last seen.
    pub last_seen: Option<String>,
    /// Distinct counts within the group.
    pub distinct: BTreeMap<&'static str, usize>,
}

/// The `--by` section.
#[derive(Debug, Clone, Serialize)]
pub struct Groups {
    /// The fields.
    pub by: Vec<String>,
    /// Every group (or the first [`ReportOptions::group_rows`]), by count then key.
    pub rows: Vec<GroupRow>,
    /// Groups in all.
    #[serde(skip)]
    pub total: usize,
}

/// The notable-actions section.
#[derive(Debug, Clone, Serialize)]
pub struct NotableSection {
    /// Notable actions found.
    pub total: u64,
    /// Of those, failed.
    pub failed: u64,
    /// Found but not kept (beyond the memory cap).
    pub dropped: u64,
    /// The actions, by time.
    pub actions: Vec<Notable>,
}

/// A timeline bucket.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineBucket {
    /// The bucket's start (RFC 3339).
    pub start: String,
    /// Records in it.
    pub count: u64,
    /// Per series, aligned with `Timeline::series` (empty when not split).
    pub series: Vec<u64>,
}

/// The timeline section.
#[derive(Debug, Clone, Serialize)]
pub struct Timeline {
    /// `hour` or `day`.
    pub bucket: Bucket,
    /// The splitting field.
    pub by: Option<String>,
    /// Series names (the most frequent values, then `(other)` when there are more).
    pub series: Vec<String>,
    /// Non-empty buckets in time order.
    pub buckets: Vec<TimelineBucket>,
}

/// A finished summary: the `--format json` document.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// `trailscan-summary/1`.
    pub schema: &'static str,
    /// Records, files, time span, accounts, regions.
    pub overview: Overview,
    /// Counts by field.
    pub top: Vec<TopTable>,
    /// `--by` groups.
    pub groups: Option<Groups>,
    /// Notable actions.
    pub notable: NotableSection,
    /// Records over time.
    pub timeline: Timeline,
    /// Files and records read.
    pub stats: Stats,
}

/// The schema name.
pub const SCHEMA: &str = "trailscan-summary/1";

fn rows(counter: &Counter, top: usize) -> Vec<Row> {
    let order =
        |a: &(&str, Tally), b: &(&str, Tally)| b.1.count.cmp(&a.1.count).then_with(|| a.0.cmp(b.0));
    let mut v: Vec<(&str, Tally)> = if top > 0 && top < counter.len() {
        // The top rows of a field with a million values: the count of the last of them, found
        // among the counts alone (no text compared), then only the values that reach it.
        let mut counts: Vec<u64> = counter.counts().collect();
        let (_, &mut least, _) = counts.select_nth_unstable_by(top - 1, |a, b| b.cmp(a));
        counter.iter_if(least).collect()
    } else {
        counter.iter().collect()
    };
    // Values tied with the last row may be many: select among them, then sort only the top.
    if top > 0 && top < v.len() {
        v.select_nth_unstable_by(top - 1, order);
        v.truncate(top);
    }
    v.sort_unstable_by(order);
    v.into_iter()
        .map(|(k, t)| Row {
            value: k.to_string(),
            count: t.count,
            first_seen: t.first().map(nanos_text),
            last_seen: t.last().map(nanos_text),
        })
        .collect()
}

impl Report {
    /// Finishes `s`.
    #[must_use]
    pub fn new(s: &Summary, spec: &Spec, opts: &ReportOptions, stats: &Stats) -> Report {
        let keys = |i: usize| -> Vec<String> {
            let mut k: Vec<String> = s.counts[i]
                .iter()
                .filter(|(k, _)| *k != MISSING)
                .map(|(k, _)| k.to_string())
                .collect();
            k.sort();
            k
        };
        let overview = Overview {
            records: s.all.count,
            files_with_records: s.files,
            files_read: stats.files_read,
            files_failed: stats.files_failed,
            undated_records: s.undated,
            first_seen: s.all.first().map(nanos_text),
            last_seen: s.all.last().map(nanos_text),
            accounts: keys(6),
            regions: keys(7),
        };
        let top = DIMENSIONS
            .iter()
            .enumerate()
            .map(|(i, (name, title, field))| TopTable {
                name,
                title,
                field,
                distinct: s.counts[i].len() + s.unlisted[i].values as usize,
                records: s.counts[i].counts().sum::<u64>() + s.unlisted[i].records,
                rows: rows(&s.counts[i], opts.top),
            })
            .collect();
        let groups = (!spec.by.is_empty()).then(|| {
            // Per group (by number): its distinct counts of GROUP_DISTINCT, in that order.
            let mut distinct = vec![[0usize; 5]; s.groups.len()];
            for (j, d) in DISTINCT_DIMS.into_iter().enumerate() {
                let sizes = s.counts[d].group_sizes(s.groups.len());
                distinct.iter_mut().zip(sizes).for_each(|(row, n)| row[j] = n);
            }
            // Ordered before the rows are built: a million rows are slow to move around. With
            // only the first rows wanted, the count of the last of them is found among the
            // counts alone, and only the groups that reach it are ordered.
            let shown = opts.group_rows;
            let least = if shown > 0 && shown < s.groups.len() {
                let mut counts: Vec<u64> = s.groups.values().map(|g| g.tally.count).collect();
                *counts.select_nth_unstable_by(shown - 1, |a, b| b.cmp(a)).1
            } else {
                0
            };
            type Ordered = (Tally, Vec<String>, [usize; 5]);
            let mut order: Vec<Ordered> = s
                .groups
                .iter()
                .filter(|(_, g)| g.tally.count >= least)
                .map(|(k, g)| {
                    let n = distinct.get(g.id as usize).copied().unwrap_or_default();
                    (g.tally, key_parts(k, spec.by.len()), n)
                })
                .collect();
            order.sort_unstable_by(|(a, a_key, _), (b, b_key, _)| {
                b.count.cmp(&a.count).then_with(|| a_key.cmp(b_key))
            });
            if shown > 0 {
                order.truncate(shown);
            }
            let v: Vec<GroupRow> = order
                .into_iter()
                .map(|(tally, key, n)| GroupRow {
                    key,
                    count: tally.count,
                    first_seen: tally.first().map(nanos_text),
                    last_seen: tally.last().map(nanos_text),
                    distinct: GROUP_DISTINCT
                        .iter()
                        .zip(n)
                        .map(|((name, _), n)| (*name, n))
                        .collect(),
                })
                .collect();
            let by = spec.by.iter().map(|f| f.path.clone()).collect();
            Groups { by, rows: v, total: s.groups.len() }
        });
        let mut actions = s.notable.clone();
        actions.sort_by(|a, b| {
            (a.sort_time.unwrap_or(i64::MAX), &a.event_id)
                .cmp(&(b.sort_time.unwrap_or(i64::MAX), &b.event_id))
        });
        let notable = NotableSection {
            total: s.notable.len() as u64 + s.notable_dropped,
            failed: s.notable.iter().filter(|n| n.failed).count() as u64,
            dropped: s.notable_dropped,
            actions,
        };
        Report {
            schema: SCHEMA,
            overview,
            top,
            groups,
            notable,
            timeline: timeline(s, spec, opts),
            stats: stats.clone(),
        }
    }

    /// The top table named `name`.
    #[must_use]
    pub fn table(&self, name: &str) -> Option<&TopTable> {
        self.top.iter().find(|t| t.name == name)
    }
}

fn timeline(s: &Summary, spec: &Spec, opts: &ReportOptions) -> Timeline {
    let bucket = opts.bucket.unwrap_or_else(|| Bucket::auto(&s.all));
    let size = bucket.seconds();
    let start = |h: i64| h.div_euclid(size) * size;
    let mut totals: BTreeMap<i64, u64> = BTreeMap::new();
    for (h, n) in &s.hours {
        *totals.entry(start(*h)).or_default() += n;
    }
    let mut series_names: Vec<(&String, u64)> =
        s.series.iter().map(|(k, hours)| (k, hours.values().sum())).collect();
    series_names.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let shown: Vec<String> =
        series_names.iter().take(opts.series.max(1)).map(|(k, _)| (*k).clone()).collect();
    let other = series_names.len() > shown.len();
    let mut per: BTreeMap<i64, Vec<u64>> = BTreeMap::new();
    if spec.timeline_by.is_some() {
        let width = shown.len() + usize::from(other);
        for (name, hours) in &s.series {
            let idx = shown.iter().position(|x| x == name).unwrap_or(shown.len());
            for (h, n) in hours {
                per.entry(start(*h)).or_insert_with(|| vec![0; width])[idx] += n;
            }
        }
    }
    let mut series = shown;
    if other {
        series.push("(other)".to_string());
    }
    Timeline {
        bucket,
        by: spec.timeline_by.as_ref().map(|f| f.path.clone()),
        series,
        buckets: totals
            .into_iter()
            .map(|(t, count)| TimelineBucket {
                start: time_text(DateTime::from_timestamp(t, 0).unwrap_or_default()),
                count,
                series: per.remove(&t).unwrap_or_default(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn spec() -> Spec {
        Spec {
            by: Field::list(Some("eventName,actor")),
            timeline_by: Field::list(Some("eventName")).pop(),
            max_notable: 3,
        }
    }

    fn record(event: usize, user: usize, hour: u32, error: bool, ip: usize) -> Value {
        let names = ["CreateUser", "GetObject", "StopLogging", "ConsoleLogin"];
        let sources = [
            "iam.amazonaws.com",
            "s3.amazonaws.com",
            "cloudtrail.amazonaws.com",
            "signin.amazonaws.com",
        ];
        let mut r = json!({
            "eventName": names[event % 4],
            "eventSource": sources[event % 4],
            "eventTime": format!("2024-03-0{}T{:02}:15:00Z", 1 + hour / 24, hour % 24),
            "userIdentity": {"type": "IAMUser", "userName": format!("user{user}")},
            "sourceIPAddress": format!("192.0.2.{ip}"),
            "awsRegion": "us-east-1",
            "recipientAccountId": "111122223333",
            "requestParameters": {"userName": format!("new{user}"), "name": "trail"},
        });
        if error {
            r["errorCode"] = "AccessDenied".into();
        }
        if hour == 99 {
            r.as_object_mut().unwrap().remove("eventTime");
        }
        r
    }

    #[test]
    fn group_keys_hold_any_text() {
        for parts in [vec!["a"], vec!["", ""], vec!["1:x", ":", "ä\u{0}"], vec!["x"; 12]] {
            let mut key = String::new();
            push_key_parts(&mut key, parts.iter().map(|p| Cow::Borrowed(*p)));
            assert_eq!(key_parts(&key, parts.len()), parts, "{key}");
        }
    }

    #[test]
    fn counts_and_report() {
        let spec = spec();
        let mut s = Summary::default();
        for (i, r) in [
            record(0, 1, 10, false, 1),
            record(0, 1, 11, true, 1),
            record(1, 2, 30, false, 2),
            record(1, 2, 99, false, 2),
        ]
        .iter()
        .enumerate()
        {
            s.observe(r, &spec);
            if i == 0 {
                s.files += 1;
            }
        }
        assert_eq!(s.all.count, 4);
        assert_eq!(s.undated, 1);
        assert_eq!(s.counts[5].len(), 1, "only errors are counted");
        let opts = ReportOptions { top: 1, bucket: None, series: 1, group_rows: 0 };
        let rep = Report::new(&s, &spec, &opts, &Stats::default());
        assert_eq!(rep.overview.first_seen.as_deref(), Some("2024-03-01T10:15:00Z"));
        assert_eq!(rep.overview.last_seen.as_deref(), Some("2024-03-02T06:15:00Z"));
        let events = rep.table("event_names").unwrap();
        assert_eq!((events.distinct, events.rows.len()), (2, 1));
        assert_eq!(events.rows[0].value, "CreateUser");
        let groups = rep.groups.as_ref().unwrap();
        assert_eq!(groups.rows.len(), 2);
        assert_eq!(groups.rows[0].distinct["source_ips"], 1);
        assert_eq!(rep.timeline.bucket, Bucket::Hour);
        assert_eq!(rep.timeline.series, ["CreateUser", "(other)"]);
        assert_eq!(rep.timeline.buckets.len(), 3);
        assert_eq!(rep.timeline.buckets[2].series, [0, 1]);
        assert_eq!((rep.notable.total, rep.notable.failed), (2, 1));
        let days = ReportOptions { top: 0, bucket: Some(Bucket::Day), series: 5, group_rows: 0 };
        let rep = Report::new(&s, &spec, &days, &Stats::default());
        assert_eq!(rep.timeline.buckets.len(), 2);
        assert_eq!(rep.timeline.buckets[0].start, "2024-03-01T00:00:00Z");
        assert_eq!(rep.timeline.buckets[0].count, 2);
    }

    /// A record's text with the shapes the fast reader must get right or hand back: escapes,
    /// empty strings, nulls, numbers where strings are expected, dotted and repeated keys,
    /// identities that are not objects, broken values.
    fn odd_record() -> impl Strategy<Value = String> {
        let text = prop_oneof![
            Just(r#""CreateUser""#.to_string()),
            Just(r#""GetObject""#.to_string()),
            Just(r#""""#.to_string()),
            Just("null".to_string()),
            Just("12".to_string()),
            Just("1e2".to_string()),
            Just("true".to_string()),
            Just(r#""Cr\u0065ateUser""#.to_string()),
            Just(r#""a\"b""#.to_string()),
            Just(r#"{"x":[1,"]"]}"#.to_string()),
            Just("tru".to_string()),
            Just("\"tab\tin\"".to_string()),
        ];
        let kind = prop_oneof![
            Just("IAMUser"),
            Just("AssumedRole"),
            Just("Root"),
            Just("AWSAccount"),
            Just("AWSService"),
            Just("IdentityCenterUser"),
            Just(""),
        ];
        let identity = prop_oneof![
            (kind, text.clone(), text.clone(), text.clone()).prop_map(|(k, a, b, c)| format!(
                r#"{{"type":"{k}","userName":{a},"arn":{b},"accountId":{c},"principalId":"p","sessionContext":{{"sessionIssuer":{{"userName":{a}}}}},"invokedBy":{c},"onBehalfOf":{{"userId":{b}}}}}"#
            )),
            Just(r#""{\"type\":\"Root\"}""#.to_string()),
            Just("[1]".to_string()),
            Just("null".to_string()),
            Just(r#"{"type":"IAMUser","type":"Root"}"#.to_string()),
        ];
        let fields = prop_oneof![
            text.clone().prop_map(|v| format!(r#""eventName":{v}"#)),
            text.clone().prop_map(|v| format!(r#""eventSource":{v}"#)),
            Just(r#""eventSource":"iam.amazonaws.com""#.to_string()),
            Just(r#""eventTime":"2024-03-01T10:15:00Z""#.to_string()),
            Just(r#""eventTime":"2024-03-01 10:15:00""#.to_string()),
            text.clone().prop_map(|v| format!(r#""eventTime":{v}"#)),
            text.clone().prop_map(|v| format!(r#""sourceIPAddress":{v}"#)),
            text.clone().prop_map(|v| format!(r#""userAgent":{v}"#)),
            text.clone().prop_map(|v| format!(r#""errorCode":{v}"#)),
            text.clone().prop_map(|v| format!(r#""awsRegion":{v}"#)),
            text.clone().prop_map(|v| format!(r#""readOnly":{v}"#)),
            Just(r#""readOnly":false"#.to_string()),
            identity.prop_map(|v| format!(r#""userIdentity":{v}"#)),
            text.clone().prop_map(|v| format!(r#""requestParameters":{{"a.b":{v},"c":[{v}]}}"#)),
            Just(r#""userIdentity.type":"Root""#.to_string()),
            Just(r#""event\u004eame":"x""#.to_string()),
        ];
        prop::collection::vec(fields, 0..8).prop_map(|f| format!("{{{}}}", f.join(",")))
    }

    proptest! {
        #[test]
        fn reading_the_text_equals_projecting_and_observing(
            raws in prop::collection::vec(odd_record(), 1..12),
        ) {
            let spec = Spec {
                by: Field::list(Some("eventName,actor,userIdentity.arn,userIdentity")),
                timeline_by: Field::list(Some("userAgent")).pop(),
                max_notable: 3,
            };
            let keep = KeepSet::new(spec.paths());
            let mut reader = Reader::new(&spec);
            let (mut fast, mut slow) = (Summary::default(), Summary::default());
            let (mut fast_notable, mut slow_notable) = (Summary::default(), Summary::default());
            for raw in &raws {
                let got = fast.observe_raw(raw, None, &spec, &mut reader, &mut fast_notable);
                let want = keep.project(raw).and_then(|v| {
                    if actions::is_candidate(&v) {
                        slow_notable.observe_notable(&serde_json::from_str(raw)?, &spec);
                    }
                    slow.observe_counts(&v, &spec);
                    Ok(())
                });
                prop_assert_eq!(got.map_err(|e| e.to_string()), want.map_err(|e| e.to_string()), "{}", raw);
                // Without repeated keys, the projection reads as a full parse does.
                if let Ok(whole) = serde_json::from_str::<Value>(raw)
                    && !raw.contains(r#""type":"IAMUser","type""#)
                {
                    let (mut a, mut b) = (Summary::default(), Summary::default());
                    a.observe_counts(&whole, &spec);
                    b.observe_counts(&keep.project(raw).unwrap(), &spec);
                    prop_assert_eq!(a, b, "{}", raw);
                }
            }
            prop_assert_eq!(&fast, &slow);
            prop_assert_eq!(&fast_notable, &slow_notable);

            // Reading the fields while splitting a delivery file (the scan's way, rows handed
            // over with the records) counts the same; the file holds the well-formed records.
            let raws: Vec<&String> = raws.iter().filter(|r| crate::source::validate(r).is_ok()).collect();
            let (mut fast, mut fast_notable) = (Summary::default(), Summary::default());
            for raw in &raws {
                let _ = fast.observe_raw(raw, None, &spec, &mut reader, &mut fast_notable);
            }
            let file = format!("{{\"Records\":[{}]}}", raws.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(","));
            let ex = reader.extractor();
            let (mut scratch, mut table) = (Fields::default(), fields::Table::default());
            let doc = crate::source::split_with(file.as_bytes(), &mut |b, i| {
                ex.walk(b, i, &mut scratch, &mut table)
            });
            let whole = doc.unvalidated && doc.fatal.is_none() && doc.problems.is_empty();
            prop_assert!(whole && doc.records.len() == raws.len(), "{}", file);
            {
                prop_assert_eq!(table.len(), raws.len());
                let (mut walked, mut walked_notable) = (Summary::default(), Summary::default());
                for (i, (rec, raw)) in doc.records.into_iter().zip(&raws).enumerate() {
                    let rec = &*rec.text().unwrap();
                    prop_assert_eq!(rec, raw.trim());
                    let row = table.row(i);
                    let got = walked.observe_raw(rec, row, &spec, &mut reader, &mut walked_notable);
                    let want = fast.clone().observe_raw(rec, None, &spec, &mut reader, &mut Summary::default());
                    prop_assert_eq!(got.is_ok(), want.is_ok(), "{}", raw);
                }
                prop_assert_eq!(walked, fast);
                prop_assert_eq!(walked_notable, fast_notable);
            }
        }

        #[test]
        fn merging_partials_equals_one_pass(
            recs in prop::collection::vec(
                (0usize..4, 0usize..3, prop_oneof![0u32..48, Just(99u32)], any::<bool>(), 0usize..4),
                0..40,
            ),
            cuts in prop::collection::vec(0usize..40, 0..5),
        ) {
            let spec = spec();
            let records: Vec<Value> =
                recs.iter().map(|&(e, u, h, err, ip)| record(e, u, h, err, ip)).collect();
            let mut one = Summary::default();
            for r in &records {
                one.observe(r, &spec);
            }
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(records.len())).collect();
            cuts.push(0);
            cuts.push(records.len());
            cuts.sort_unstable();
            let mut merged = Summary::default();
            for w in cuts.windows(2) {
                let mut part = Summary::default();
                for r in &records[w[0]..w[1]] {
                    part.observe(r, &spec);
                }
                merged.merge(part, &spec);
            }
            prop_assert_eq!(&merged, &one);

            // The distinct values per group, against sets built the plain way.
            let mut want: BTreeMap<Vec<String>, BTreeMap<&str, std::collections::BTreeSet<String>>> =
                BTreeMap::new();
            for r in &records {
                let key = vec![r["eventName"].as_str().unwrap().to_string(), actor(r)];
                let sets = want.entry(key).or_default();
                for (name, path) in GROUP_DISTINCT {
                    let v = if path == "actor" { Some(Cow::Owned(actor(r))) } else { path_text(r, path) };
                    sets.entry(name).or_default().extend(v.map(Cow::into_owned));
                }
            }
            let opts = ReportOptions { top: 0, bucket: None, series: 5, group_rows: 0 };
            let report = Report::new(&merged, &spec, &opts, &Stats::default());
            let all = report.groups.unwrap();
            prop_assert_eq!(all.total, all.rows.len());
            // Only the first rows built: the same rows, however many are tied at the cut.
            let row = |g: &GroupRow| (g.key.clone(), g.count, g.first_seen.clone(), g.distinct.clone());
            for shown in 1..4 {
                let opts = ReportOptions { group_rows: shown, ..opts.clone() };
                let top = Report::new(&merged, &spec, &opts, &Stats::default()).groups.unwrap();
                prop_assert_eq!(top.total, all.total);
                let want: Vec<_> = all.rows.iter().take(shown).map(row).collect();
                prop_assert_eq!(top.rows.iter().map(row).collect::<Vec<_>>(), want);
            }
            let got: BTreeMap<Vec<String>, BTreeMap<&str, usize>> = all
                .rows
                .into_iter()
                .map(|g| (g.key, g.distinct))
                .collect();
            let want: BTreeMap<Vec<String>, BTreeMap<&str, usize>> = want
                .into_iter()
                .map(|(k, sets)| (k, sets.into_iter().map(|(n, s)| (n, s.len())).collect()))
                .collect();
            prop_assert_eq!(got, want);
        }
    }
}
