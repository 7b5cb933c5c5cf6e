//! The report's pass: each record, read while the summary counts it, is remembered by the
//! ids of its values in its thread's dictionaries ([`Part`]); once the summary knows the top
//! values of every counted field, [`Pass::finish`] places each in a small cube of (time
//! bucket, top value of each field) cells the page filters exactly, profiles the top actors,
//! and keeps a bounded sample of the records behind each top value and the notable actions for
//! the record viewer; the audit rules are tested on the same records.

use crate::audit::{self, Auditor, Rule};
use crate::record::actor::{ACTOR_FIELDS, actor_of};
use crate::record::fields::{Extracted, Extractor, Fields as ExtractedFields, Row};
use crate::record::{KeepSet, actor, time};
use crate::summary::actions::text_at;
use crate::summary::{DIMENSIONS, MISSING};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use serde_json::Value;
use std::borrow::Cow;
use std::sync::Arc;

/// The counted fields ([`DIMENSIONS`]).
pub const DIMS: usize = DIMENSIONS.len();
/// The id of a value outside a field's top values.
pub const OTHER: u16 = u16::MAX;
/// The id of "no errorCode".
pub const NONE: u16 = u16::MAX - 1;
/// Where `errorCode` and the actor are in [`DIMENSIONS`].
pub const ERROR_DIM: usize = 5;
const ACTOR_DIM: usize = 2;

/// Bytes of records' ids and dictionaries the one-pass report holds at most ([`Part`],
/// [`Dicts`]): past them it gives them up and places the records in a second pass
/// ([`Plan::place`]), so that its memory does not grow with the records.
pub const BUDGET: u64 = 96 << 20;

/// [`BUDGET`], or `TRAILSCAN_REPORT_BUDGET` (hidden, for tests: 0 always takes the second
/// pass).
#[must_use]
pub fn budget() -> u64 {
    std::env::var("TRAILSCAN_REPORT_BUDGET").ok().and_then(|v| v.parse().ok()).unwrap_or(BUDGET)
}

/// A cube cell's key: the bucket's start (seconds) and one value id per field.
pub type CellKey = (i64, [u16; DIMS]);

/// Records in a cell and their first and last `eventTime` (nanoseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell {
    /// Records.
    pub count: u64,
    /// Earliest.
    pub first: i64,
    /// Latest.
    pub last: i64,
}

impl Default for Cell {
    fn default() -> Self {
        Cell { count: 0, first: i64::MAX, last: i64::MIN }
    }
}

impl Cell {
    /// Counts a record at `t`.
    fn add(&mut self, t: i64) {
        self.count += 1;
        self.first = self.first.min(t);
        self.last = self.last.max(t);
    }

    /// Adds what `other` counted.
    fn merge(&mut self, other: &Cell) {
        self.count += other.count;
        self.first = self.first.min(other.first);
        self.last = self.last.max(other.last);
    }
}

/// The top values of every field, by id (their place in the summary's top table).
#[derive(Debug, Default)]
pub struct Lookup {
    ids: [HashMap<String, u16>; DIMS],
}

impl Lookup {
    /// Ids for `values[d]`, the top values of field `d` in order.
    #[must_use]
    pub fn new(values: &[Vec<String>; DIMS]) -> Lookup {
        let mut ids: [HashMap<String, u16>; DIMS] = Default::default();
        for (map, vals) in ids.iter_mut().zip(values) {
            for (i, v) in vals.iter().enumerate().take(usize::from(NONE)) {
                map.insert(v.clone(), u16::try_from(i).unwrap_or(OTHER));
            }
        }
        Lookup { ids }
    }

    /// The id of value `v` of field `d` (`None`: absent, for errorCode).
    #[must_use]
    pub fn id_of(&self, d: usize, v: Option<&str>) -> u16 {
        match v {
            None => NONE,
            Some(v) => self.ids[d].get(v).copied().unwrap_or(OTHER),
        }
    }
}

/// The fields of one record the report reads, owned (for the records kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fields {
    /// `eventTime` (nanoseconds), when it parses.
    pub time: Option<i64>,
    /// The counted fields' texts (`None`: no errorCode; other fields missing are [`MISSING`]).
    pub values: [Option<String>; DIMS],
    /// Their ids.
    pub ids: [u16; DIMS],
    /// `eventID`.
    pub event_id: Option<String>,
    /// `userIdentity.type`.
    pub identity_type: Option<String>,
}

/// The same fields, borrowed from the record's text where they can be (most records).
#[derive(Debug, Clone)]
pub struct View<'a> {
    /// `eventTime` (nanoseconds), when it parses.
    pub time: Option<i64>,
    /// The counted fields' texts, as [`Fields::values`].
    pub values: [Option<Cow<'a, str>>; DIMS],
    /// Their ids.
    pub ids: [u16; DIMS],
    /// `eventID`.
    pub event_id: Option<Cow<'a, str>>,
    /// `userIdentity.type`.
    pub identity_type: Option<Cow<'a, str>>,
}

impl View<'_> {
    /// The owned fields.
    #[must_use]
    pub fn owned(&self) -> Fields {
        Fields {
            time: self.time,
            values: self.values.clone().map(|v| v.map(Cow::into_owned)),
            ids: self.ids,
            event_id: self.event_id.as_deref().map(str::to_string),
            identity_type: self.identity_type.as_deref().map(str::to_string),
        }
    }
}

/// Where each path is among the extractor's: `eventTime`, `eventID`, the actor fields, the
/// counted fields but the actor, then `userIdentity` (the actor needs it to be an object).
const TIME_AT: usize = 0;
const ID_AT: usize = 1;
const ACTOR_AT: usize = 2;
const DIMS_AT: usize = ACTOR_AT + ACTOR_FIELDS.len();
const IDENTITY_AT: usize = DIMS_AT + DIMS - 1;

/// Reads the report's fields from a record's text: through an [`Extractor`] (shared with the
/// scan, which may find them while it splits a file), reading each value as the summary
/// does; an unusual record is projected and read as a value, as the summary's slow path
/// does.
#[derive(Debug)]
pub struct FieldReader {
    keep: KeepSet,
    extractor: Arc<Extractor>,
}

impl Default for FieldReader {
    fn default() -> Self {
        FieldReader::sharing(Arc::new(Extractor::new(&FieldReader::paths())))
    }
}

/// A value read as the summary reads it: strings as they are (unescaped), other values as
/// compact JSON, `null` and `""` absent; `Err` when the text is not valid JSON.
fn value_text(raw: &str) -> Result<Option<Cow<'_, str>>, ()> {
    match raw.as_bytes().first() {
        Some(b'"') => {
            let inner = raw.get(1..raw.len() - 1).ok_or(())?;
            let s = if crate::record::scan::needs_decoding(inner.as_bytes()) {
                Cow::Owned(serde_json::from_str::<String>(raw).map_err(|_| ())?)
            } else {
                Cow::Borrowed(inner)
            };
            Ok((!s.is_empty()).then_some(s))
        }
        _ if raw == "null" => Ok(None),
        _ if raw == "true" || raw == "false" => Ok(Some(Cow::Borrowed(raw))),
        _ => serde_json::from_str::<Value>(raw)
            .map(|v| Some(Cow::Owned(v.to_string())))
            .map_err(|_| ()),
    }
}

impl FieldReader {
    /// The paths the reader reads, in its order: an extractor whose first paths are these
    /// serves it ([`FieldReader::sharing`]).
    #[must_use]
    pub fn paths() -> Vec<String> {
        let mut paths: Vec<String> = vec!["eventTime".into(), "eventID".into()];
        paths.extend(ACTOR_FIELDS.iter().map(|p| (*p).to_string()));
        paths.extend(DIMENSIONS.iter().filter(|d| d.2 != "actor").map(|d| d.2.to_string()));
        paths.push("userIdentity".into());
        paths
    }

    /// A reader of the rows of `extractor`, whose first paths are [`FieldReader::paths`] (the
    /// report's pass reads its fields and the summary's in one walk of each record).
    #[must_use]
    pub fn sharing(extractor: Arc<Extractor>) -> FieldReader {
        let mut paths = FieldReader::paths();
        paths.pop();
        FieldReader { keep: KeepSet::new(paths), extractor }
    }

    /// The extractor, for [`crate::engine::ScanConfig::extract`].
    #[must_use]
    pub fn extractor(&self) -> Arc<Extractor> {
        self.extractor.clone()
    }

    /// The owned fields of `raw`.
    ///
    /// # Errors
    /// When `raw` is not a JSON object.
    pub fn read(&self, raw: &str, lookup: &Lookup) -> serde_json::Result<Fields> {
        let mut scratch = ExtractedFields::default();
        self.view(raw, None, &mut scratch, lookup).map(|v| v.owned())
    }

    /// The fields of `raw` (whose fields the scan may have found: `row`).
    ///
    /// # Errors
    /// When `raw` is not a JSON object.
    pub fn view<'a>(
        &self,
        raw: &'a str,
        row: Option<Row<'_>>,
        scratch: &mut ExtractedFields,
        lookup: &Lookup,
    ) -> serde_json::Result<View<'a>> {
        let ex = &self.extractor;
        let usable = row.is_some() || ex.extract(raw, scratch) == Extracted::Done;
        let get = |i: usize| match row {
            Some(row) => ex.get_in(row, raw, i),
            None => ex.get(scratch, raw, i),
        };
        if usable && let Some(v) = self.fast(raw, &get, lookup) {
            return Ok(v);
        }
        let v = self.keep.project(raw)?;
        let f = fields_of(&v, lookup);
        Ok(View {
            time: f.time,
            values: f.values.map(|v| v.map(Cow::Owned)),
            ids: f.ids,
            event_id: f.event_id.map(Cow::Owned),
            identity_type: f.identity_type.map(Cow::Owned),
        })
    }

    fn fast<'a>(
        &self,
        _raw: &'a str,
        get: &dyn Fn(usize) -> Option<&'a str>,
        lookup: &Lookup,
    ) -> Option<View<'a>> {
        let text = |i: usize| -> Option<Option<Cow<'a, str>>> {
            match get(i) {
                None => Some(None),
                Some(t) => value_text(t).ok(),
            }
        };
        let time = match get(TIME_AT) {
            None => None,
            Some(t) => match value_text(t).ok()? {
                Some(Cow::Borrowed(s)) if t.starts_with('"') => {
                    time::parse_event_time(s).and_then(time::sort_key)
                }
                Some(s) if t.starts_with('"') => {
                    time::parse_event_time(&s).and_then(time::sort_key)
                }
                _ => None,
            },
        };
        let mut actor_vals: [Option<Cow<'a, str>>; ACTOR_FIELDS.len()] = Default::default();
        for (i, slot) in actor_vals.iter_mut().enumerate() {
            // The actor reads strings only (as `actor` does on a value).
            *slot = match get(ACTOR_AT + i) {
                Some(t) if t.starts_with('"') => value_text(t).ok()?,
                Some(t) => {
                    value_text(t).ok()?;
                    None
                }
                None => None,
            };
        }
        let identity = get(IDENTITY_AT).is_some_and(|t| t.starts_with('{'));
        let who: Cow<'a, str> = if identity {
            Cow::Owned(actor_of(|i| actor_vals[i].as_deref()).into_owned())
        } else {
            Cow::Borrowed(MISSING)
        };
        let mut values: [Option<Cow<'a, str>>; DIMS] = Default::default();
        let mut next = DIMS_AT;
        for (d, slot) in values.iter_mut().enumerate() {
            if d == ACTOR_DIM {
                *slot = Some(who.clone());
                continue;
            }
            let v = text(next)?;
            next += 1;
            *slot = if d == ERROR_DIM { v } else { Some(v.unwrap_or(Cow::Borrowed(MISSING))) };
        }
        let mut ids = [OTHER; DIMS];
        for (d, id) in ids.iter_mut().enumerate() {
            *id = lookup.id_of(d, values[d].as_deref());
        }
        Some(View {
            time,
            values,
            ids,
            event_id: text(ID_AT)?,
            identity_type: if identity { actor_vals[0].clone() } else { None },
        })
    }
}

/// The fields of a (projected or whole) record.
#[must_use]
pub fn fields_of(v: &Value, lookup: &Lookup) -> Fields {
    let time = v
        .get("eventTime")
        .and_then(Value::as_str)
        .and_then(time::parse_event_time)
        .and_then(time::sort_key);
    let mut values: [Option<String>; DIMS] = Default::default();
    let mut ids = [OTHER; DIMS];
    for (d, (_, _, path)) in DIMENSIONS.iter().enumerate() {
        let text = if d == ACTOR_DIM { Some(actor(v)) } else { text_at(v, path) };
        values[d] =
            if d == ERROR_DIM { text } else { Some(text.unwrap_or_else(|| MISSING.into())) };
        ids[d] = lookup.id_of(d, values[d].as_deref());
    }
    Fields {
        time,
        values,
        ids,
        event_id: text_at(v, "eventID"),
        identity_type: v
            .get("userIdentity")
            .filter(|u| u.is_object())
            .and_then(|u| u.get("type"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string),
    }
}

/// One top actor's activity.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Profile {
    /// Records.
    pub count: u64,
    /// Records per bucket start.
    pub buckets: HashMap<i64, u64>,
    /// Per event source.
    pub services: HashMap<String, u64>,
    /// Per source IP.
    pub ips: HashMap<String, u64>,
    /// Per error code (records with one).
    pub errors: HashMap<String, u64>,
    /// Per identity type.
    pub types: HashMap<String, u64>,
    /// Per account.
    pub accounts: HashMap<String, u64>,
}

fn bump(m: &mut HashMap<String, u64>, k: &str, n: u64) {
    match m.get_mut(k) {
        Some(c) => *c += n,
        None => {
            m.insert(k.to_string(), n);
        }
    }
}

impl Profile {
    /// Counts the record read as `v` (second pass), in `bucket` when dated; as
    /// [`ProfileIds::add`] counts it by ids.
    fn add_view(&mut self, v: &View<'_>, bucket: Option<i64>) {
        self.count += 1;
        if let Some(b) = bucket {
            *self.buckets.entry(b).or_default() += 1;
        }
        let texts = [
            (&mut self.services, v.values[0].as_deref()),
            (&mut self.ips, v.values[3].as_deref()),
            // Records without an errorCode are not counted among the errors.
            (&mut self.errors, v.values[ERROR_DIM].as_deref()),
            (&mut self.types, Some(v.identity_type.as_deref().unwrap_or(MISSING))),
            (&mut self.accounts, v.values[6].as_deref()),
        ];
        for (mine, text) in texts {
            if let Some(t) = text {
                bump(mine, t, 1);
            }
        }
    }

    /// Adds what `other` counted.
    fn merge(&mut self, other: Profile) {
        self.count += other.count;
        for (b, n) in other.buckets {
            *self.buckets.entry(b).or_default() += n;
        }
        for (mine, theirs) in [
            (&mut self.services, other.services),
            (&mut self.ips, other.ips),
            (&mut self.errors, other.errors),
            (&mut self.types, other.types),
            (&mut self.accounts, other.accounts),
        ] {
            for (k, n) in theirs {
                *mine.entry(k).or_default() += n;
            }
        }
    }

    /// Adds what `p` counted by the ids of `dicts`.
    fn add_ids(&mut self, dicts: &Dicts, p: ProfileIds) {
        self.count += p.count;
        for (b, n) in p.buckets {
            *self.buckets.entry(b).or_default() += n;
        }
        let [services, ips, errors, types, accounts] = p.lists;
        for (mine, ids, dict) in [
            (&mut self.services, services, &dicts.fields[0]),
            (&mut self.ips, ips, &dicts.fields[3]),
            (&mut self.errors, errors, &dicts.fields[ERROR_DIM]),
            (&mut self.types, types, &dicts.types),
            (&mut self.accounts, accounts, &dicts.fields[6]),
        ] {
            for (id, n) in ids {
                bump(mine, dict.text(id).unwrap_or(MISSING), n);
            }
        }
    }
}

/// A [`Profile`] by the value ids of one thread's dictionaries.
#[derive(Debug, Default)]
struct ProfileIds {
    count: u64,
    buckets: HashMap<i64, u64>,
    /// Services, IPs, errors, identity types, accounts.
    lists: [HashMap<u32, u64>; 5],
}

impl ProfileIds {
    fn add(&mut self, s: &Seen, bucket: Option<i64>) {
        self.count += 1;
        if let Some(b) = bucket {
            *self.buckets.entry(b).or_default() += 1;
        }
        let ids = [s.ids[0], s.ids[3], s.ids[ERROR_DIM], s.identity_type, s.ids[6]];
        for (list, id) in self.lists.iter_mut().zip(ids) {
            // Records without an errorCode are not counted among the errors.
            if id != ABSENT {
                *list.entry(id).or_default() += 1;
            }
        }
    }
}

/// A record kept for the record viewer.
#[derive(Debug, Clone)]
pub struct Kept {
    /// Its text, as in the archive.
    pub raw: String,
    /// Its fields.
    pub fields: Fields,
}

/// The audit rules tested on every record of the pass.
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    /// The rules (possibly none).
    pub rules: &'a [Rule],
    /// The rules, ready to test raw records (`None`: no rule).
    pub tester: Option<&'a audit::Tester<'a>>,
    /// The rules' literal prefilter: records it rules out match no rule.
    pub query: Option<&'a crate::query::Query>,
}

impl Rules<'_> {
    /// The record as the tester read it and the rules it matches, when it matches one.
    fn test(&self, raw: &str) -> Option<(Value, Vec<usize>)> {
        let tester = self.tester.filter(|_| !self.rules.is_empty())?;
        let candidate = match self.query {
            Some(q) if q.prefilter().is_active() => q.prefilter().maybe(raw.as_bytes()),
            Some(q) => q.evaluate(raw).ok().flatten().is_some(),
            None => true,
        };
        match tester.test(raw) {
            Ok((v, ids)) if candidate && !ids.is_empty() => Some((v, ids)),
            _ => None,
        }
    }
}

/// What the page keeps of the pass, known once the summary is: the top values and how much.
#[derive(Debug)]
pub struct Plan {
    /// The top values.
    pub lookup: Lookup,
    /// Bucket size in seconds.
    pub bucket: i64,
    /// Actors profiled: ids below this.
    pub profiled: u16,
    /// Records kept per top value of each field.
    pub per_value: usize,
    /// eventIDs of the notable actions shown, whose records are kept.
    pub wanted_ids: HashSet<String>,
    /// Second pass: the top values whose quota of records is full ([`Full`]).
    pub full: Full,
}

/// Per field, per top value: whether its quota of records kept is full. Set by the second
/// pass's consumer ([`Pass::take_placed`]) and read by its workers ([`Plan::place`]): a
/// quota only fills, and the workers' chunks come after what the consumer has taken, so a
/// value full then is full for every record they read.
#[derive(Debug, Default)]
pub struct Full([Vec<std::sync::atomic::AtomicBool>; DIMS]);

impl Full {
    /// For the top values of `lookup`, none full.
    #[must_use]
    pub fn new(lookup: &Lookup) -> Full {
        Full(std::array::from_fn(|d| {
            (0..lookup.ids[d].len()).map(|_| std::sync::atomic::AtomicBool::new(false)).collect()
        }))
    }

    fn is(&self, d: usize, id: u16) -> bool {
        self.0[d].get(usize::from(id)).is_some_and(|f| f.load(std::sync::atomic::Ordering::Relaxed))
    }

    fn set(&self, d: usize, id: u16) {
        if let Some(f) = self.0[d].get(usize::from(id)) {
            f.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

/// What the second pass counts ([`Plan::place`]), whatever the order of the records: each
/// worker thread adds into one of a few, merged at the end.
#[derive(Debug, Default)]
pub struct Counts {
    /// The cube's cells, by unpacked key (the origin is known at the end).
    cube: HashMap<CellKey, Cell>,
    /// The profiled actors' cells alone.
    profiled: HashMap<CellKey, Cell>,
    /// Profiles by actor id.
    profiles: HashMap<u16, Profile>,
    /// Records without a readable eventTime.
    undated: u64,
}

impl Counts {
    /// Adds `other` into `self`.
    pub fn merge(&mut self, other: Counts) {
        for (mine, theirs) in [(&mut self.cube, other.cube), (&mut self.profiled, other.profiled)] {
            for (k, c) in theirs {
                mine.entry(k).or_default().merge(&c);
            }
        }
        for (a, p) in other.profiles {
            self.profiles.entry(a).or_default().merge(p);
        }
        self.undated += other.undated;
    }

    /// Cells counted (the accumulator holding most is merged into).
    #[must_use]
    pub fn cells(&self) -> usize {
        self.cube.len()
    }
}

impl Plan {
    /// Second pass, in a worker: counts the records of one chunk of a file (text and the
    /// fields the scan found) into `counts`, as [`Pass::finish`] counts them, and returns, in
    /// order, those that [`Pass::take_placed`] may keep. Those are all of them but the
    /// records none of whose top values could still be under its quota: a record is left out
    /// when, for each of its top values, `per_value` distinct texts with that value came
    /// before it in the chunk (each of them kept, or its value's quota full, by the time the
    /// record is met, or already full: [`Full`]), and it is no notable action's.
    pub fn place<'a>(
        &self,
        reader: &FieldReader,
        counts: &mut Counts,
        scratch: &mut ExtractedFields,
        records: impl IntoIterator<Item = (&'a str, Option<Row<'a>>)>,
    ) -> Vec<Kept> {
        let mut firsts: HashMap<(usize, u16), Vec<&'a str>> = HashMap::default();
        let mut out = Vec::new();
        for (raw, row) in records {
            let Ok(v) = reader.view(raw, row, scratch, &self.lookup) else { continue };
            let bucket =
                v.time.map(|t| t.div_euclid(1_000_000_000).div_euclid(self.bucket) * self.bucket);
            let profiled = v.ids[ACTOR_DIM] < self.profiled;
            match (v.time, bucket) {
                (Some(t), Some(b)) => {
                    counts.cube.entry((b, v.ids)).or_default().add(t);
                    if profiled {
                        counts.profiled.entry((b, v.ids)).or_default().add(t);
                    }
                }
                _ => counts.undated += 1,
            }
            if profiled {
                counts.profiles.entry(v.ids[ACTOR_DIM]).or_default().add_view(&v, bucket);
            }
            let mut maybe = v.event_id.as_deref().is_some_and(|e| self.wanted_ids.contains(e));
            for (d, &id) in v.ids.iter().enumerate() {
                if id >= NONE || self.full.is(d, id) {
                    continue;
                }
                let texts = firsts.entry((d, id)).or_default();
                if texts.contains(&raw) {
                    maybe = true;
                } else if texts.len() < self.per_value {
                    texts.push(raw);
                    maybe = true;
                }
            }
            if maybe {
                out.push(Kept { raw: raw.to_string(), fields: v.owned() });
            }
        }
        out
    }
}

/// A [`Dict`] id for "no value" (no errorCode).
const ABSENT: u32 = u32::MAX;

fn hash_text(v: &str) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(v)
}

/// The texts of one field's values, each with an id (its place in the order first seen),
/// in one buffer.
#[derive(Debug, Default)]
pub struct Dict {
    table: hashbrown::HashTable<u32>,
    /// Where each value's text ends in `text` (it starts where the previous one ends).
    ends: Vec<usize>,
    text: String,
}

impl Dict {
    /// The id of `v` (`None`: [`ABSENT`]), given now if it is new.
    fn id(&mut self, v: Option<&str>) -> u32 {
        use hashbrown::hash_table::Entry;
        let Some(v) = v else { return ABSENT };
        let (ends, text) = (&mut self.ends, &mut self.text);
        let at = |i: u32| {
            let i = i as usize;
            &text[if i == 0 { 0 } else { ends[i - 1] }..ends[i]]
        };
        let entry = self.table.entry(hash_text(v), |&i| at(i) == v, |&i| hash_text(at(i)));
        match entry {
            Entry::Occupied(o) => *o.get(),
            Entry::Vacant(e) => {
                // Fewer values than records, and a file holds fewer than 2^32 records.
                let id = u32::try_from(ends.len()).unwrap_or(ABSENT - 1);
                text.push_str(v);
                ends.push(text.len());
                e.insert(id);
                id
            }
        }
    }

    /// The text of `id`.
    fn text(&self, id: u32) -> Option<&str> {
        let i = id as usize;
        let end = *self.ends.get(i)?;
        self.text.get(if i == 0 { 0 } else { self.ends[i - 1] }..end)
    }

    /// The values' texts, by id.
    fn values(&self) -> impl Iterator<Item = &str> {
        (0..self.ends.len()).filter_map(|i| self.text(u32::try_from(i).ok()?))
    }

    /// About how many bytes it holds.
    fn weight(&self) -> u64 {
        let bytes = self.text.capacity()
            + self.ends.capacity() * std::mem::size_of::<usize>()
            + self.table.capacity() * (std::mem::size_of::<u32>() + 1);
        bytes as u64
    }
}

/// One worker thread's dictionaries: one per counted field, and identity types.
#[derive(Debug, Default)]
pub struct Dicts {
    fields: [Dict; DIMS],
    types: Dict,
}

impl Dicts {
    /// About how many bytes they hold (counted towards [`budget`]).
    #[must_use]
    pub fn weight(&self) -> u64 {
        self.fields.iter().map(Dict::weight).sum::<u64>() + self.types.weight()
    }
}

/// One record as the pass saw it: its values by their ids in a thread's [`Dicts`]. The
/// cube, the profiles and the records kept are made of these once the top values are known.
#[derive(Debug, Clone, Copy)]
struct Seen {
    /// `eventTime` (nanoseconds), when `dated`.
    time: i64,
    /// A hash of its eventID, when `has_id`.
    event_id: u64,
    ids: [u32; DIMS],
    identity_type: u32,
    /// Its index in its file.
    index: u32,
    dated: bool,
    has_id: bool,
}

/// A 32-bit hash of an eventID: what [`Seen`] holds of it (a hint only: a record is read
/// again, and its eventID itself compared, before it is kept for it).
fn id_hash(v: &str) -> u64 {
    hash_text(v) & 0xffff_ffff
}

fn put(bytes: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        bytes.push((v & 0x7f) as u8 | 0x80);
        v >>= 7;
    }
    bytes.push(v as u8);
}

fn get(bytes: &[u8], at: &mut usize) -> u64 {
    let (mut v, mut shift) = (0u64, 0);
    while let Some(&b) = bytes.get(*at) {
        *at += 1;
        v |= u64::from(b & 0x7f) << shift;
        shift += 7;
        if b < 0x80 || shift >= 64 {
            break;
        }
    }
    v
}

fn zigzag(n: i64) -> u64 {
    ((n << 1) ^ (n >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    (v >> 1) as i64 ^ -((v & 1) as i64)
}

const DATED: u8 = 1;
const HAS_ID: u8 = 2;
const NANOS: u8 = 4;

/// Records as the pass saw them ([`Seen`]), in bytes: each a byte of flags, then numbers of
/// 7 bits a byte: the step of its index from the previous record's, of its time in seconds
/// (and the nanoseconds, when not whole), the eventID's hash ([`id_hash`], 4 bytes), the
/// value ids plus one (0: none). About 25 bytes a record, where a [`Seen`] takes 64.
#[derive(Debug, Default)]
struct SeenBytes {
    bytes: Vec<u8>,
    len: u32,
    /// The last record's index and time (seconds), which the next one's steps are from.
    index: u32,
    secs: i64,
}

impl SeenBytes {
    fn push(&mut self, s: &Seen) {
        let (secs, nanos) = (s.time.div_euclid(1_000_000_000), s.time.rem_euclid(1_000_000_000));
        let flags = if s.dated { DATED } else { 0 }
            | if s.has_id { HAS_ID } else { 0 }
            | if s.dated && nanos != 0 { NANOS } else { 0 };
        let b = &mut self.bytes;
        b.push(flags);
        put(b, zigzag(i64::from(s.index) - i64::from(self.index)));
        self.index = s.index;
        if s.dated {
            put(b, zigzag(secs.wrapping_sub(self.secs)));
            self.secs = secs;
            if nanos != 0 {
                put(b, nanos.unsigned_abs());
            }
        }
        if s.has_id {
            b.extend_from_slice(
                &u32::try_from(s.event_id & 0xffff_ffff).unwrap_or(0).to_le_bytes(),
            );
        }
        for id in s.ids.iter().chain([&s.identity_type]) {
            put(b, u64::from(id.wrapping_add(1)));
        }
        self.len += 1;
    }

    /// The records, in order.
    fn iter(&self) -> impl Iterator<Item = Seen> + '_ {
        let (mut at, mut index, mut secs) = (0usize, 0i64, 0i64);
        let b = &self.bytes;
        let id = |at: &mut usize| u32::try_from(get(b, at)).unwrap_or(0).wrapping_sub(1);
        (0..self.len).map(move |_| {
            let flags = b.get(at).copied().unwrap_or(0);
            at += 1;
            index += unzigzag(get(b, &mut at));
            let mut time = 0;
            if flags & DATED != 0 {
                secs = secs.wrapping_add(unzigzag(get(b, &mut at)));
                let nanos = if flags & NANOS != 0 {
                    i64::try_from(get(b, &mut at)).unwrap_or(0)
                } else {
                    0
                };
                time = secs.wrapping_mul(1_000_000_000).wrapping_add(nanos);
            }
            let mut event_id = 0;
            if flags & HAS_ID != 0 {
                let word = b.get(at..at + 4).and_then(|w| <[u8; 4]>::try_from(w).ok());
                event_id = u64::from(u32::from_le_bytes(word.unwrap_or_default()));
                at += 4;
            }
            let ids: [u32; DIMS] = std::array::from_fn(|_| id(&mut at));
            Seen {
                time,
                event_id,
                ids,
                identity_type: id(&mut at),
                index: u32::try_from(index).unwrap_or(u32::MAX),
                dated: flags & DATED != 0,
                has_id: flags & HAS_ID != 0,
            }
        })
    }
}

/// One file's share of the pass (made in a worker thread).
#[derive(Debug, Default)]
pub struct Part {
    /// Which of the threads' [`Dicts`] the records' ids are in.
    pub dicts: usize,
    seen: SeenBytes,
    /// The text of the records that are notable actions: (place in `seen`, text).
    texts: Vec<(u32, String)>,
    /// Records some rule matched: text, the record as the rules' tester read it, the rules.
    matched: Vec<(String, Value, Vec<usize>)>,
}

/// No top value known yet: every value reads as "other".
static NO_LOOKUP: std::sync::LazyLock<Lookup> = std::sync::LazyLock::new(Lookup::default);

impl Part {
    /// A file's part, its ids in the thread's dictionaries number `dicts`.
    #[must_use]
    pub fn new(dicts: usize) -> Part {
        Part { dicts, ..Part::default() }
    }

    /// Adds the record at `index` of its file (its fields found by the scan: `row`), its
    /// values' ids into `dicts`; `notable`: it is a notable action (its text is kept). With
    /// `dicts` `None` (the pass is past its [`budget`]: the records are placed in a second
    /// pass), only the audit rules are tested on it.
    #[allow(clippy::too_many_arguments)]
    pub fn observe(
        &mut self,
        dicts: Option<&mut Dicts>,
        rules: &Rules<'_>,
        reader: &FieldReader,
        scratch: &mut ExtractedFields,
        index: u64,
        raw: &str,
        row: Option<Row<'_>>,
        notable: bool,
    ) {
        let Ok(f) = reader.view(raw, row, scratch, &NO_LOOKUP) else { return };
        if let Some(dicts) = dicts {
            self.remember(dicts, &f, index, raw, notable);
        }
        if let Some((v, ids)) = rules.test(raw) {
            self.matched.push((raw.to_string(), v, ids));
        }
    }

    /// About how many bytes it adds to what the pass holds until it ends (counted towards
    /// [`budget`]): the records' ids. (The notable actions' texts are not counted: the pass
    /// keeps the first few only. Nor are the matches the auditor keeps for its threshold
    /// rules: they are the audit's, whichever way the records are placed.)
    #[must_use]
    pub fn weight(&mut self) -> u64 {
        self.seen.bytes.shrink_to_fit();
        self.seen.bytes.len() as u64
    }

    fn remember(&mut self, dicts: &mut Dicts, f: &View<'_>, index: u64, raw: &str, notable: bool) {
        let mut ids = [ABSENT; DIMS];
        for (d, id) in ids.iter_mut().enumerate() {
            *id = dicts.fields[d].id(f.values[d].as_deref());
        }
        let at = self.seen.len;
        self.seen.push(&Seen {
            time: f.time.unwrap_or_default(),
            event_id: f.event_id.as_deref().map_or(0, id_hash),
            ids,
            identity_type: dicts.types.id(Some(f.identity_type.as_deref().unwrap_or(MISSING))),
            index: u32::try_from(index).unwrap_or(u32::MAX),
            dated: f.time.is_some(),
            has_id: f.event_id.is_some(),
        });
        if notable {
            self.texts.push((at, raw.to_string()));
        }
    }
}

/// One file's records, as the pass saw them.
#[derive(Debug)]
struct FileSeen {
    name: String,
    dicts: usize,
    seen: SeenBytes,
}

/// Where the records to keep are: per file name, their indices in the file.
pub type Wanted = HashMap<String, HashSet<u32>>;
/// Their texts, by file name and index (copies of one text shared: an archive may hold a
/// record many times).
pub type Fetched = HashMap<(String, u32), std::sync::Arc<String>>;

/// The whole pass, merged in walk order.
#[derive(Debug, Default)]
pub struct Pass {
    /// The cube's cells, sorted by their packed key ([`crate::report::pack`]).
    pub cube: Vec<(crate::report::Packed, Cell)>,
    /// The first bucket's start (seconds), the origin of the packed keys.
    pub origin: i64,
    /// The cells of the profiled actors' records alone, as `cube`.
    pub profiled_cube: Vec<(crate::report::Packed, Cell)>,
    /// Profiles by actor id.
    pub profiles: HashMap<u16, Profile>,
    /// Records kept, in walk order (then the findings' records).
    pub kept: Vec<Kept>,
    /// Where each kept text is in `kept` (by the text's hash: a record of 100 MB is held once).
    kept_at: hashbrown::HashTable<usize>,
    /// Records kept per (field, value id).
    quota: HashMap<(usize, u16), usize>,
    /// eventIDs whose record is kept, and where (the first kept).
    ids_kept: HashMap<String, usize>,
    /// Records without a readable eventTime.
    pub undated: u64,
    /// Findings, in the order the auditor made them (those the page shows, and counts).
    pub findings: crate::report::Findings,
    /// The records seen, by file in walk order, until [`Pass::finish`].
    files: Vec<FileSeen>,
    /// The notable actions' texts: (file, place in its records, text).
    texts: Vec<(usize, u32, String)>,
    /// The pass gave the records' ids up ([`Pass::give_up`]): they are placed in a second
    /// pass.
    bounded: bool,
}

impl Pass {
    /// Adds the next file's part (in walk order), named `name`, testing its matches with
    /// `auditor`; of the notable actions' texts, the first `notable` in walk order are kept
    /// (the summary keeps as many notable actions, those first).
    pub fn merge(&mut self, name: &str, part: Part, auditor: &mut Auditor<'_>, notable: usize) {
        for (raw, v, ids) in part.matched {
            let found = auditor.record_matched(&raw, &v, &ids);
            self.findings.extend(found);
        }
        if part.seen.len == 0 || self.bounded {
            return;
        }
        let file = self.files.len();
        let room = notable.saturating_sub(self.texts.len());
        self.texts.extend(part.texts.into_iter().take(room).map(|(at, t)| (file, at, t)));
        self.files.push(FileSeen { name: name.to_string(), dicts: part.dicts, seen: part.seen });
    }

    /// Drops the records seen, past the [`budget`]: from now on parts are merged for their
    /// findings only, and the records are placed in a second pass ([`Plan::place`],
    /// [`Pass::take_placed`], [`Pass::place_counts`]) rather than by [`Pass::finish`].
    pub fn give_up(&mut self) {
        self.bounded = true;
        self.files = Vec::new();
        self.texts = Vec::new();
    }

    /// Whether the records are placed in a second pass ([`Pass::give_up`]).
    #[must_use]
    pub fn is_bounded(&self) -> bool {
        self.bounded
    }

    /// Second pass: of a chunk's candidates ([`Plan::place`]), in walk order, keeps those
    /// [`Pass::finish`] keeps: the first `per_value` of each top value (one record counts for
    /// each of its values; a text already kept is not kept again) and the notable actions'.
    pub fn take_placed(&mut self, plan: &Plan, candidates: Vec<Kept>) {
        for k in candidates {
            let f = &k.fields;
            let by_id = f
                .event_id
                .as_ref()
                .is_some_and(|e| plan.wanted_ids.contains(e) && self.by_event_id(e).is_none());
            let by_value = (0..DIMS).any(|d| {
                f.ids[d] < NONE
                    && self.quota.get(&(d, f.ids[d])).copied().unwrap_or(0) < plan.per_value
            });
            if by_id || by_value {
                let ids = k.fields.ids;
                self.keep(k);
                for (d, &id) in ids.iter().enumerate() {
                    if id < NONE && self.quota.get(&(d, id)).is_some_and(|&n| n >= plan.per_value) {
                        plan.full.set(d, id);
                    }
                }
            }
        }
    }

    /// Second pass: the cube and the profiles of every record's counts, as [`Pass::finish`]
    /// makes them.
    pub fn place_counts(&mut self, counts: Counts, plan: &Plan) {
        self.origin = counts.cube.keys().map(|k| k.0).min().unwrap_or(0);
        let packed = |cells: HashMap<CellKey, Cell>| {
            let mut out: HashMap<crate::report::Packed, Cell> = HashMap::default();
            for (k, c) in cells {
                out.entry(crate::report::pack(&k, self.origin, plan.bucket)).or_default().merge(&c);
            }
            crate::report::cells_of(out)
        };
        self.cube = packed(counts.cube);
        self.profiled_cube = packed(counts.profiled);
        self.profiles = counts.profiles;
        self.undated = counts.undated;
    }

    /// With the top values known (`plan`) and every thread's dictionaries (`dicts`, by
    /// [`Part::dicts`]): the cube, the profiles and the records kept, exactly as if each
    /// record had been read again knowing them. The records to keep that are not notable
    /// actions are read again, by `fetch`, from the few files that hold them.
    ///
    /// # Errors
    /// Those of `fetch`.
    pub fn finish(
        &mut self,
        plan: &Plan,
        dicts: &[Dicts],
        reader: &FieldReader,
        fetch: &mut dyn FnMut(&Wanted) -> anyhow::Result<Fetched>,
    ) -> anyhow::Result<()> {
        let lookup = &plan.lookup;
        // Per thread, per field: the top id of each value id.
        let tops: Vec<[Vec<u16>; DIMS]> = dicts
            .iter()
            .map(|t| {
                std::array::from_fn(|d| {
                    t.fields[d].values().map(|v| lookup.id_of(d, Some(v))).collect()
                })
            })
            .collect();
        let top_of = |file: &FileSeen, s: &Seen| -> [u16; DIMS] {
            std::array::from_fn(|d| match s.ids[d] {
                ABSENT => lookup.id_of(d, None),
                i => tops[file.dicts][d][i as usize],
            })
        };
        let secs = |t: i64| t.div_euclid(1_000_000_000).div_euclid(plan.bucket) * plan.bucket;
        let all = || self.files.iter().flat_map(|f| f.seen.iter().map(move |s| (f, s)));
        self.origin = all().filter(|(_, s)| s.dated).map(|(_, s)| secs(s.time)).min().unwrap_or(0);
        // The cells, counted as the records are met (memory holds a cell per key, not a
        // record per record).
        let mut records: HashMap<crate::report::Packed, Cell> = HashMap::default();
        let mut profiled_records: HashMap<crate::report::Packed, Cell> = HashMap::default();
        let add = |cells: &mut HashMap<crate::report::Packed, Cell>, key, t: i64| {
            let c = cells.entry(key).or_insert(Cell { count: 0, first: t, last: t });
            c.count += 1;
            c.first = c.first.min(t);
            c.last = c.last.max(t);
        };
        // Profiles are counted by value ids (per thread's dictionaries), then by text.
        let mut by_ids: HashMap<(u16, usize), ProfileIds> = HashMap::default();
        for (file, s) in all() {
            let ids = top_of(file, &s);
            let bucket = s.dated.then(|| secs(s.time));
            let profiled = ids[ACTOR_DIM] < plan.profiled;
            match bucket {
                Some(b) => {
                    let key = crate::report::pack(&(b, ids), self.origin, plan.bucket);
                    add(&mut records, key, s.time);
                    if profiled {
                        add(&mut profiled_records, key, s.time);
                    }
                }
                None => self.undated += 1,
            }
            if profiled {
                by_ids.entry((ids[ACTOR_DIM], file.dicts)).or_default().add(&s, bucket);
            }
        }
        self.cube = crate::report::cells_of(records);
        self.profiled_cube = crate::report::cells_of(profiled_records);
        for ((actor, t), p) in by_ids {
            self.profiles.entry(actor).or_default().add_ids(&dicts[t], p);
        }

        // The records kept: the first `per_value` of each top value in walk order (one record
        // counts for each of its values; a text already kept is not kept again) and the notable
        // actions shown. Decided on the records' ids; the texts of those to keep are read
        // again, and the decision made again with them, until every record kept has its text.
        let wanted: HashSet<u64> = plan.wanted_ids.iter().map(|e| id_hash(e)).collect();
        let mut texts: HashMap<(usize, u32), Option<std::sync::Arc<String>>> =
            std::mem::take(&mut self.texts)
                .into_iter()
                .map(|(f, at, t)| ((f, at), Some(std::sync::Arc::new(t))))
                .collect();
        let sizes: [usize; DIMS] = std::array::from_fn(|d| lookup.ids[d].len());
        let mut changed;
        loop {
            let mut keep = Pass::default();
            let mut quota: [Vec<usize>; DIMS] = std::array::from_fn(|d| vec![0; sizes[d]]);
            // (file, place in its records, index in the file).
            let mut need: Vec<(usize, u32, u32)> = Vec::new();
            // The eventIDs (hashed) of the records counted so far. A record whose text is not
            // known yet and whose eventID is one of them is most likely the same record
            // delivered again (an organization trail and an account trail synced side by
            // side), which is not kept twice: it is read, but not counted on, so that the
            // records after it are read in the same reading rather than one reading per copy.
            let mut counted_ids: HashSet<u64> = HashSet::default();
            changed = 0;
            for (f, file) in self.files.iter().enumerate() {
                for (at, s) in file.seen.iter().enumerate() {
                    let ids = top_of(file, &s);
                    let by_value = (0..DIMS).any(|d| {
                        quota[d].get(usize::from(ids[d])).is_some_and(|&n| n < plan.per_value)
                    });
                    let maybe_id = s.has_id && wanted.contains(&s.event_id);
                    if !by_value && !maybe_id {
                        continue;
                    }
                    let at = u32::try_from(at).unwrap_or(u32::MAX);
                    let counts = match texts.get(&(f, at)) {
                        Some(Some(raw)) => {
                            let Ok(fields) = reader.read(raw, lookup) else { continue };
                            if fields.ids != ids {
                                changed += 1;
                                continue;
                            }
                            let by_id = fields.event_id.as_ref().is_some_and(|e| {
                                plan.wanted_ids.contains(e) && keep.by_event_id(e).is_none()
                            });
                            let before = keep.kept.len();
                            if by_id || by_value {
                                keep.keep(Kept { raw: String::clone(raw), fields });
                            }
                            keep.kept.len() > before
                        }
                        Some(None) => false,
                        None => {
                            need.push((f, at, s.index));
                            !(s.has_id && counted_ids.contains(&s.event_id))
                        }
                    };
                    if counts && s.has_id {
                        counted_ids.insert(s.event_id);
                    }
                    if counts {
                        for d in 0..DIMS {
                            if let Some(n) = quota[d].get_mut(usize::from(ids[d])) {
                                *n += 1;
                            }
                        }
                    }
                }
            }
            if need.is_empty() {
                let files = std::mem::take(&mut self.files);
                let (cube, profiled_cube, profiles, findings) = (
                    std::mem::take(&mut self.cube),
                    std::mem::take(&mut self.profiled_cube),
                    std::mem::take(&mut self.profiles),
                    std::mem::take(&mut self.findings),
                );
                let (origin, undated) = (self.origin, self.undated);
                *self = Pass { cube, origin, profiled_cube, profiles, undated, findings, ..keep };
                drop(files);
                break;
            }
            let mut want: Wanted = HashMap::default();
            for &(f, _, index) in &need {
                want.entry(self.files[f].name.clone()).or_default().insert(index);
            }
            let got = fetch(&want)?;
            for (f, at, index) in need {
                let text = got.get(&(self.files[f].name.clone(), index)).cloned();
                texts.insert((f, at), text);
            }
        }
        let missing = texts.values().filter(|t| t.is_none()).count();
        if missing > 0 || changed > 0 {
            crate::messages::error(&format!(
                "the input changed while the report was made: {} records to show could not be read again{}; the page shows fewer",
                missing + usize::try_from(changed).unwrap_or(usize::MAX),
                if changed > 0 { " as they were" } else { "" }
            ));
        }
        Ok(())
    }

    /// Keeps `k` (once), counting it towards its values' quotas.
    pub fn keep(&mut self, k: Kept) -> usize {
        if let Some(at) = self.position(&k.raw) {
            return at;
        }
        for d in 0..DIMS {
            if k.fields.ids[d] < NONE {
                *self.quota.entry((d, k.fields.ids[d])).or_default() += 1;
            }
        }
        let at = self.kept.len();
        if let Some(e) = &k.fields.event_id {
            self.ids_kept.entry(e.clone()).or_insert(at);
        }
        let kept = &self.kept;
        self.kept_at.insert_unique(hash_text(&k.raw), at, |&i| hash_text(&kept[i].raw));
        self.kept.push(k);
        at
    }

    /// Where the kept record with text `raw` is.
    #[must_use]
    pub fn position(&self, raw: &str) -> Option<usize> {
        self.kept_at.find(hash_text(raw), |&i| self.kept[i].raw == raw).copied()
    }

    /// Where the kept record with this eventID is.
    #[must_use]
    pub fn by_event_id(&self, id: &str) -> Option<usize> {
        self.ids_kept.get(id).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Records with the shapes the fast reader must read as the projection does, or hand
    /// back: escapes, empty strings, nulls, numbers where strings are expected, identities that
    /// are not objects, repeated keys, broken values.
    fn odd_record() -> impl Strategy<Value = String> {
        let text = prop_oneof![
            Just(r#""CreateUser""#.to_string()),
            Just(r#""""#.to_string()),
            Just("null".to_string()),
            Just("12".to_string()),
            Just("1.50".to_string()),
            Just("true".to_string()),
            Just(r#""Cr\u0065ate\u202eUser""#.to_string()),
            Just(r#""a\"b<script>""#.to_string()),
            Just(r#"{"x":[1,"]"]}"#.to_string()),
            Just("tru".to_string()),
            Just(r#""2024-03-01T10:15:00Z""#.to_string()),
        ];
        let kind = prop_oneof![Just("IAMUser"), Just("AssumedRole"), Just("Root"), Just("")];
        let identity = prop_oneof![
            (kind, text.clone(), text.clone()).prop_map(|(k, a, b)| format!(
                r#"{{"type":"{k}","userName":{a},"arn":{b},"sessionContext":{{"sessionIssuer":{{"userName":{a}}}}}}}"#
            )),
            Just(r#""{\"type\":\"Root\"}""#.to_string()),
            Just("[1]".to_string()),
            Just(r#"{"type":"IAMUser","type":"Root"}"#.to_string()),
        ];
        let field = prop_oneof![
            text.clone().prop_map(|v| format!(r#""eventName":{v}"#)),
            text.clone().prop_map(|v| format!(r#""eventSource":{v}"#)),
            text.clone().prop_map(|v| format!(r#""eventTime":{v}"#)),
            text.clone().prop_map(|v| format!(r#""eventID":{v}"#)),
            text.clone().prop_map(|v| format!(r#""userAgent":{v}"#)),
            text.clone().prop_map(|v| format!(r#""errorCode":{v}"#)),
            text.clone().prop_map(|v| format!(r#""sourceIPAddress":{v}"#)),
            identity.prop_map(|v| format!(r#""userIdentity":{v}"#)),
            Just(r#""event\u004eame":"x""#.to_string()),
        ];
        prop::collection::vec(field, 0..7).prop_map(|f| format!("{{{}}}", f.join(",")))
    }

    proptest! {
        #[test]
        fn the_fast_reading_is_the_projection_s(raw in odd_record()) {
            let lookup = lookup();
            let reader = FieldReader::default();
            let fast = reader.read(&raw, &lookup).map_err(|e| e.to_string());
            let slow = reader.keep.project(&raw).map(|v| fields_of(&v, &lookup)).map_err(|e| e.to_string());
            prop_assert_eq!(&fast, &slow, "{}", raw);
            // Without repeated keys, as a whole parse reads it.
            if let (Ok(whole), Ok(f)) = (serde_json::from_str::<Value>(&raw), &fast)
                && !raw.contains(r#""type":"IAMUser","type""#)
            {
                prop_assert_eq!(&fields_of(&whole, &lookup), f, "{}", raw);
            }
        }
    }

    fn lookup() -> Lookup {
        let mut v: [Vec<String>; DIMS] = Default::default();
        v[1] = vec!["CreateUser".into(), "GetObject".into()];
        v[ACTOR_DIM] = vec!["alice".into()];
        v[ERROR_DIM] = vec!["AccessDenied".into()];
        Lookup::new(&v)
    }

    #[test]
    fn fields_read_as_the_summary_counts_them() {
        let raw = r#"{"eventTime":"2024-03-01T10:15:00Z","eventName":"CreateUser","userIdentity":{"type":"IAMUser","userName":"alice"},"eventID":"e1","sourceIPAddress":""}"#;
        let f = FieldReader::default().read(raw, &lookup()).unwrap();
        assert_eq!(f.ids[1], 0);
        assert_eq!(f.ids[ACTOR_DIM], 0);
        assert_eq!(f.ids[ERROR_DIM], NONE, "no errorCode");
        assert_eq!(f.values[3].as_deref(), Some(MISSING), "empty is missing");
        assert_eq!(f.ids[0], OTHER);
        assert_eq!(f.event_id.as_deref(), Some("e1"));
        assert_eq!(f.identity_type.as_deref(), Some("IAMUser"));
        assert!(f.time.is_some());
    }

    /// The records read again at once: (file, index).
    type Reading = Vec<(String, u32)>;

    /// Two files of five records (each file in its own thread's dictionaries), `dup`: the
    /// second record is the first's text again. Returns the eventIDs kept, in order, and the
    /// records read again, per reading.
    fn sample(dup: bool) -> (Vec<String>, Vec<Reading>, Pass) {
        let plan = Plan {
            lookup: lookup(),
            bucket: 3600,
            profiled: 1,
            per_value: 2,
            wanted_ids: ["e9".to_string()].into_iter().collect(),
            full: Full::default(),
        };
        let reader = FieldReader::default();
        let rec = |i: usize, name: &str| {
            format!(
                r#"{{"eventTime":"2024-03-01T1{}:15:00Z","eventName":"{name}","eventID":"e{i}","userIdentity":{{"type":"IAMUser","userName":"alice"}}}}"#,
                i % 10
            )
        };
        let rules = Rules { rules: &[], tester: None, query: None };
        let mut pass = Pass::default();
        let mut auditor = Auditor::new(&[]);
        let mut dicts = vec![Dicts::default(), Dicts::default()];
        let mut texts: HashMap<(String, u32), String> = HashMap::default();
        for (file, d) in dicts.iter_mut().enumerate() {
            let name = format!("f{file}");
            let mut part = Part::new(file);
            for i in 0..5 {
                let n = file * 5 + i;
                let raw = if dup && n == 1 {
                    rec(0, "CreateUser")
                } else {
                    rec(n, if n == 9 { "Other" } else { "CreateUser" })
                };
                let scratch = &mut Default::default();
                part.observe(Some(d), &rules, &reader, scratch, i as u64, &raw, None, n == 9);
                texts.insert((name.clone(), i as u32), raw);
            }
            // Not a record: not counted, not kept.
            let scratch = &mut Default::default();
            part.observe(Some(d), &rules, &reader, scratch, 9, "not json", None, false);
            pass.merge(&name, part, &mut auditor, 10);
        }
        let mut asked = Vec::new();
        let mut fetch = |want: &Wanted| {
            let mut these: Vec<(String, u32)> =
                want.iter().flat_map(|(f, is)| is.iter().map(|i| (f.clone(), *i))).collect();
            these.sort();
            asked.push(these.clone());
            Ok(these.into_iter().map(|k| (k.clone(), texts[&k].clone().into())).collect())
        };
        pass.finish(&plan, &dicts, &reader, &mut fetch).unwrap();
        let ids = pass.kept.iter().map(|k| k.fields.event_id.clone().unwrap()).collect();
        (ids, asked, pass)
    }

    #[test]
    fn records_seen_read_back_from_their_bytes() {
        let seen = [
            (
                1_709_287_500_000_000_000,
                7,
                [0, 1, ABSENT, 3, 70_000, ABSENT - 1, 5, 6],
                2,
                0,
                true,
                true,
            ),
            (1_709_287_400_123_456_789, 0, [u32::MAX; DIMS], 9, 4, true, false),
            (0, id_hash("e1"), [0; DIMS], 2, 3, false, true),
            (-86_400_000_000_001, 1, [1; DIMS], ABSENT, u32::MAX, true, true),
            (i64::MAX, u64::from(u32::MAX), [2; DIMS], 1, 0, true, true),
        ]
        .map(|(time, event_id, ids, identity_type, index, dated, has_id)| Seen {
            time,
            event_id,
            ids,
            identity_type,
            index,
            dated,
            has_id,
        });
        let mut bytes = SeenBytes::default();
        for s in &seen {
            bytes.push(s);
        }
        let back: Vec<Seen> = bytes.iter().collect();
        assert_eq!(format!("{back:?}"), format!("{seen:?}"));
        assert!(bytes.bytes.len() < 5 * 40, "{} bytes", bytes.bytes.len());
    }

    /// The second pass ([`Plan::place`], [`Pass::take_placed`], [`Pass::place_counts`])
    /// makes what [`Pass::finish`] makes of the same records, in files cut in chunks of any
    /// size: archives with copies of records, undated ones, notable actions wanted.
    #[test]
    fn the_second_pass_makes_what_finish_makes() {
        let mut seed = 7u64;
        let mut next = |n: u64| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % n
        };
        let (mut kept_some, mut many) = (0, 0);
        for round in 0..60 {
            let per_value = usize::try_from(next(4)).unwrap();
            let mut plan = Plan {
                lookup: lookup(),
                bucket: if round % 2 == 0 { 3600 } else { 86_400 },
                profiled: 1,
                per_value,
                wanted_ids: (0..3).map(|_| format!("e{}", next(30))).collect(),
                full: Full::default(),
            };
            if round % 3 == 0 {
                plan.full = Full::new(&plan.lookup);
            }
            let names = ["CreateUser", "GetObject", "Other", "Else"];
            let users = ["alice", "bob", "carol"];
            let errors = ["", r#","errorCode":"AccessDenied""#, r#","errorCode":"Throttling""#];
            let pool: Vec<String> = (0..30)
                .map(|i| {
                    let time = match next(5) {
                        0 => String::new(),
                        h => format!(r#""eventTime":"2024-03-0{}T1{}:15:0{}Z","#, h, next(10), next(10)),
                    };
                    format!(
                        r#"{{{time}"eventName":"{}","eventID":"e{i}","sourceIPAddress":"10.0.0.{}","userIdentity":{{"type":"IAMUser","userName":"{}"}}{}}}"#,
                        names[next(4) as usize],
                        next(3),
                        users[next(3) as usize],
                        errors[next(3) as usize]
                    )
                })
                .collect();
            let files: Vec<Vec<String>> = (0..1 + next(4))
                .map(|_| (0..next(12)).map(|_| pool[next(30) as usize].clone()).collect())
                .collect();
            let reader = FieldReader::default();
            let rules = Rules { rules: &[], tester: None, query: None };
            // One pass, then `finish`.
            let (mut one, mut auditor) = (Pass::default(), Auditor::new(&[]));
            let mut dicts = vec![Dicts::default(), Dicts::default()];
            for (f, recs) in files.iter().enumerate() {
                let mut part = Part::new(f % 2);
                for (i, raw) in recs.iter().enumerate() {
                    let (d, scratch) = (Some(&mut dicts[f % 2]), &mut Default::default());
                    part.observe(d, &rules, &reader, scratch, i as u64, raw, None, i % 3 == 0);
                }
                one.merge(&format!("f{f}"), part, &mut auditor, 4);
            }
            let mut fetch = |want: &Wanted| {
                Ok(want
                    .iter()
                    .flat_map(|(f, is)| is.iter().map(move |i| (f.clone(), *i)))
                    .map(|(f, i)| {
                        let text = files[f[1..].parse::<usize>().unwrap()][i as usize].as_str();
                        ((f, i), text.to_string().into())
                    })
                    .collect())
            };
            one.finish(&plan, &dicts, &reader, &mut fetch).unwrap();
            // Two passes, the files cut in chunks of `chunk` records.
            let chunk = 1 + usize::try_from(next(6)).unwrap();
            let mut two = Pass::default();
            two.give_up();
            let (mut counts, mut other) = (Counts::default(), Counts::default());
            for (f, recs) in files.iter().enumerate() {
                for (c, part) in recs.chunks(chunk).enumerate() {
                    let into = if (f + c) % 2 == 0 { &mut counts } else { &mut other };
                    let scratch = &mut Default::default();
                    let records = part.iter().map(|r| (r.as_str(), None));
                    let kept = plan.place(&reader, into, scratch, records);
                    two.take_placed(&plan, kept);
                }
            }
            counts.merge(other);
            two.place_counts(counts, &plan);
            let what =
                format!("round {round}: {files:?}, chunks of {chunk}, {per_value} per value");
            let raws = |p: &Pass| {
                p.kept.iter().map(|k| (k.raw.clone(), k.fields.clone())).collect::<Vec<_>>()
            };
            assert_eq!(raws(&one), raws(&two), "{what}");
            assert_eq!((one.origin, one.undated), (two.origin, two.undated), "{what}");
            assert_eq!(one.cube, two.cube, "{what}");
            assert_eq!(one.profiled_cube, two.profiled_cube, "{what}");
            assert_eq!(one.profiles, two.profiles, "{what}");
            kept_some += usize::from(!one.kept.is_empty());
            many += usize::from(one.kept.len() > 3);
        }
        // Most rounds keep records, many of them several.
        assert!(kept_some > 30 && many > 10, "{kept_some} {many}");
    }

    /// An archive that holds every record several times (two trails synced side by side):
    /// the records kept are read again in one reading, not one reading per copy.
    #[test]
    fn copies_of_records_are_read_again_at_once() {
        let plan = Plan {
            lookup: lookup(),
            bucket: 3600,
            profiled: 1,
            per_value: 2,
            wanted_ids: HashSet::default(),
            full: Full::default(),
        };
        let reader = FieldReader::default();
        let rules = Rules { rules: &[], tester: None, query: None };
        let (mut pass, mut auditor, mut dicts) =
            (Pass::default(), Auditor::new(&[]), vec![Dicts::default()]);
        let mut texts: HashMap<(String, u32), String> = HashMap::default();
        let mut part = Part::new(0);
        for i in 0..40u32 {
            let raw = format!(
                r#"{{"eventTime":"2024-03-01T10:15:00Z","eventName":"CreateUser","eventID":"e{}","userIdentity":{{"type":"IAMUser","userName":"alice"}}}}"#,
                i / 10
            );
            let scratch = &mut Default::default();
            let d = Some(&mut dicts[0]);
            part.observe(d, &rules, &reader, scratch, u64::from(i), &raw, None, false);
            texts.insert(("f".to_string(), i), raw);
        }
        pass.merge("f", part, &mut auditor, 10);
        let mut readings = 0;
        let mut fetch = |want: &Wanted| {
            readings += 1;
            Ok(want
                .iter()
                .flat_map(|(f, is)| is.iter().map(|i| (f.clone(), *i)))
                .map(|k| (k.clone(), texts[&k].clone().into()))
                .collect())
        };
        pass.finish(&plan, &dicts, &reader, &mut fetch).unwrap();
        let ids: Vec<String> =
            pass.kept.iter().map(|k| k.fields.event_id.clone().unwrap()).collect();
        assert_eq!(ids, ["e0", "e1"]);
        assert_eq!(readings, 1);
    }

    #[test]
    fn the_pass_keeps_a_bounded_sample_in_walk_order() {
        let (ids, asked, pass) = sample(false);
        let total: u64 = pass.cube.iter().map(|c| c.1.count).sum();
        assert_eq!(total, 10);
        assert_eq!(pass.profiles[&0].count, 10);
        assert_eq!(pass.profiles[&0].buckets.len(), 10);
        // Two per top value (alice and CreateUser are both in the first two), plus e9, a
        // notable action whose text the pass kept: only e0 and e1 are read again.
        assert_eq!(ids, ["e0", "e1", "e9"]);
        assert_eq!(pass.by_event_id("e9"), Some(2));
        assert_eq!(asked, [vec![("f0".to_string(), 0), ("f0".to_string(), 1)]]);
        // A text kept once is not kept again and does not count: the next record is kept, and
        // the decision is made again once its text is known.
        // The copy has the first record's eventID: it is read with the others at once.
        let (ids, asked, _) = sample(true);
        assert_eq!(ids, ["e0", "e2", "e9"]);
        let f0 = |i: u32| ("f0".to_string(), i);
        assert_eq!(asked, [vec![f0(0), f0(1), f0(2)]]);
    }
}
