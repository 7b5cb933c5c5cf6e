//! The report's second pass: with the top values of every counted field known (from the
//! summary's pass), each record is placed in a small cube of (time bucket, top value of each
//! field) cells the page filters exactly; the top actors get a profile; a bounded sample of
//! records behind each top value, the notable actions and the findings is kept for the
//! record viewer; the audit rules are tested on the same records.

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

/// A cube cell's key: the bucket's start (seconds) and one value id per field.
pub type CellKey = (i64, [u16; DIMS]);

/// Records in a cell and their first and last `eventTime` (nanoseconds).
#[derive(Debug, Clone, Copy)]
pub struct Cell {
    /// Records.
    pub count: u64,
    /// Earliest.
    pub first: i64,
    /// Latest.
    pub last: i64,
}

impl Cell {
    fn add(&mut self, t: i64) {
        self.count += 1;
        self.first = self.first.min(t);
        self.last = self.last.max(t);
    }

    fn merge(&mut self, o: &Cell) {
        self.count += o.count;
        self.first = self.first.min(o.first);
        self.last = self.last.max(o.last);
    }
}

impl Default for Cell {
    fn default() -> Self {
        Cell { count: 0, first: i64::MAX, last: i64::MIN }
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
        let mut paths: Vec<String> = vec!["eventTime".into(), "eventID".into()];
        paths.extend(ACTOR_FIELDS.iter().map(|p| (*p).to_string()));
        paths.extend(DIMENSIONS.iter().filter(|d| d.2 != "actor").map(|d| d.2.to_string()));
        let keep = KeepSet::new(paths.clone());
        paths.push("userIdentity".into());
        FieldReader { keep, extractor: Arc::new(Extractor::new(&paths)) }
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
#[derive(Debug, Default, Clone)]
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
    fn add(&mut self, f: &View<'_>, bucket: Option<i64>) {
        self.count += 1;
        if let Some(b) = bucket {
            *self.buckets.entry(b).or_default() += 1;
        }
        let text = |d: usize| f.values[d].as_deref().unwrap_or(MISSING);
        bump(&mut self.services, text(0), 1);
        bump(&mut self.ips, text(3), 1);
        if let Some(e) = &f.values[ERROR_DIM] {
            bump(&mut self.errors, e, 1);
        }
        bump(&mut self.types, f.identity_type.as_deref().unwrap_or(MISSING), 1);
        bump(&mut self.accounts, text(6), 1);
    }

    fn merge(&mut self, o: Profile) {
        self.count += o.count;
        for (b, n) in o.buckets {
            *self.buckets.entry(b).or_default() += n;
        }
        for (mine, theirs) in [
            (&mut self.services, o.services),
            (&mut self.ips, o.ips),
            (&mut self.errors, o.errors),
            (&mut self.types, o.types),
            (&mut self.accounts, o.accounts),
        ] {
            for (k, n) in theirs {
                bump(mine, &k, n);
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

/// What the pass keeps and how much.
#[derive(Debug)]
pub struct Plan<'a> {
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
    /// Audit rules tested on every record (possibly none).
    pub rules: &'a [Rule],
    /// The rules, ready to test raw records (`None`: no rule).
    pub tester: Option<&'a audit::Tester<'a>>,
    /// The rules' literal prefilter: records it rules out match no rule.
    pub rules_query: Option<&'a crate::query::Query>,
}

/// The counts of the pass, which do not depend on the order of the records: each worker
/// thread adds into one of a few, merged at the end (as the summary's counters are).
#[derive(Debug, Default)]
pub struct Counts {
    /// The cube.
    pub cube: HashMap<CellKey, Cell>,
    /// Profiles by actor id.
    pub profiles: HashMap<u16, Profile>,
    /// Records without a readable eventTime.
    pub undated: u64,
}

impl Counts {
    /// Adds `other` into `self`.
    pub fn merge(&mut self, other: Counts) {
        for (k, c) in other.cube {
            self.cube.entry(k).or_default().merge(&c);
        }
        for (a, p) in other.profiles {
            self.profiles.entry(a).or_default().merge(p);
        }
        self.undated += other.undated;
    }
}

/// One file's share of what the pass keeps in walk order (built in a worker thread).
#[derive(Debug, Default)]
pub struct Part {
    kept: Vec<Kept>,
    /// Records kept per (field, value id).
    local: HashMap<(usize, u16), usize>,
    /// Records some rule matched: text, the record as the rules' tester read it, the rules.
    matched: Vec<(String, Value, Vec<usize>)>,
    /// Records that could not be read: (index in file, error).
    pub problems: Vec<(u64, String)>,
}

impl Part {
    /// Adds the record at `index` of its file (its fields found by the scan: `row`), its
    /// counts into `counts`.
    #[allow(clippy::too_many_arguments)]
    pub fn observe(
        &mut self,
        counts: &mut Counts,
        plan: &Plan<'_>,
        reader: &FieldReader,
        scratch: &mut ExtractedFields,
        index: u64,
        raw: &str,
        row: Option<Row<'_>>,
    ) {
        let f = match reader.view(raw, row, scratch, &plan.lookup) {
            Ok(f) => f,
            Err(e) => {
                self.problems.push((index, e.to_string()));
                return;
            }
        };
        let bucket =
            f.time.map(|t| t.div_euclid(1_000_000_000).div_euclid(plan.bucket) * plan.bucket);
        match (f.time, bucket) {
            (Some(t), Some(b)) => counts.cube.entry((b, f.ids)).or_default().add(t),
            _ => counts.undated += 1,
        }
        let a = f.ids[ACTOR_DIM];
        if a < plan.profiled {
            counts.profiles.entry(a).or_default().add(&f, bucket);
        }
        if !plan.rules.is_empty() {
            let candidate = match plan.rules_query {
                Some(q) if q.prefilter().is_active() => q.prefilter().maybe(raw.as_bytes()),
                Some(q) => q.evaluate(raw).ok().flatten().is_some(),
                None => true,
            };
            if candidate
                && let Some(tester) = plan.tester
                && let Ok((v, ids)) = tester.test(raw)
                && !ids.is_empty()
            {
                self.matched.push((raw.to_string(), v, ids));
            }
        }
        // Only records the merge may still want stay: the first `per_value` of each top value
        // in this file, and the notable actions'.
        let by_id = !plan.wanted_ids.is_empty()
            && f.event_id.as_deref().is_some_and(|e| plan.wanted_ids.contains(e));
        let by_value = (0..DIMS).any(|d| {
            f.ids[d] < NONE && self.local.get(&(d, f.ids[d])).copied().unwrap_or(0) < plan.per_value
        });
        if by_id || by_value {
            for d in 0..DIMS {
                if f.ids[d] < NONE {
                    *self.local.entry((d, f.ids[d])).or_default() += 1;
                }
            }
            self.kept.push(Kept { raw: raw.to_string(), fields: f.owned() });
        }
    }
}

/// The whole pass, merged in walk order.
#[derive(Debug, Default)]
pub struct Pass {
    /// The cube.
    pub cube: HashMap<CellKey, Cell>,
    /// Profiles by actor id.
    pub profiles: HashMap<u16, Profile>,
    /// Records kept, in walk order (then the findings' records).
    pub kept: Vec<Kept>,
    /// Where each kept text is in `kept`.
    kept_at: HashMap<String, usize>,
    /// Records kept per (field, value id).
    quota: HashMap<(usize, u16), usize>,
    /// eventIDs whose record is kept, and where (the first kept).
    ids_kept: HashMap<String, usize>,
    /// Records without a readable eventTime.
    pub undated: u64,
    /// Findings, in the order the auditor made them.
    pub findings: Vec<audit::Finding>,
}

impl Pass {
    /// Takes the merged counts.
    pub fn absorb(&mut self, counts: Counts) {
        self.cube = counts.cube;
        self.profiles = counts.profiles;
        self.undated = counts.undated;
    }

    /// Adds the next file's part (in walk order), testing its matches with `auditor`.
    pub fn merge(&mut self, plan: &Plan<'_>, part: Part, auditor: &mut Auditor<'_>) {
        for k in part.kept {
            let f = &k.fields;
            let by_id = f
                .event_id
                .as_ref()
                .is_some_and(|e| plan.wanted_ids.contains(e) && !self.ids_kept.contains_key(e));
            let by_value = (0..DIMS).any(|d| {
                f.ids[d] < NONE
                    && self.quota.get(&(d, f.ids[d])).copied().unwrap_or(0) < plan.per_value
            });
            if by_id || by_value {
                self.keep(k);
            }
        }
        for (raw, v, ids) in part.matched {
            let found = auditor.record_matched(&raw, &v, &ids);
            self.findings.extend(found);
        }
    }

    /// Keeps `k` (once), counting it towards its values' quotas.
    pub fn keep(&mut self, k: Kept) -> usize {
        if let Some(&at) = self.kept_at.get(&k.raw) {
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
        self.kept_at.insert(k.raw.clone(), at);
        self.kept.push(k);
        at
    }

    /// Where the kept record with text `raw` is.
    #[must_use]
    pub fn position(&self, raw: &str) -> Option<usize> {
        self.kept_at.get(raw).copied()
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

    #[test]
    fn parts_keep_a_bounded_sample_and_merge_in_order() {
        let plan = Plan {
            lookup: lookup(),
            bucket: 3600,
            profiled: 1,
            per_value: 2,
            wanted_ids: ["e9".to_string()].into_iter().collect(),
            rules: &[],
            tester: None,
            rules_query: None,
        };
        let reader = FieldReader::default();
        let rec = |i: usize, name: &str| {
            format!(
                r#"{{"eventTime":"2024-03-01T1{}:15:00Z","eventName":"{name}","eventID":"e{i}","userIdentity":{{"type":"IAMUser","userName":"alice"}}}}"#,
                i % 10
            )
        };
        let mut pass = Pass::default();
        let mut auditor = Auditor::new(&[]);
        let mut counts = Counts::default();
        for file in 0..2 {
            let mut part = Part::default();
            for i in 0..5 {
                let n = file * 5 + i;
                part.observe(
                    &mut counts,
                    &plan,
                    &reader,
                    &mut Default::default(),
                    n as u64,
                    &rec(n, if n == 9 { "Other" } else { "CreateUser" }),
                    None,
                );
            }
            part.observe(
                &mut counts,
                &plan,
                &reader,
                &mut Default::default(),
                99,
                "not json",
                None,
            );
            assert_eq!(part.problems.len(), 1);
            pass.merge(&plan, part, &mut auditor);
        }
        pass.absorb(counts);
        let total: u64 = pass.cube.values().map(|c| c.count).sum();
        assert_eq!(total, 10);
        assert_eq!(pass.profiles[&0].count, 10);
        // Two per top value (alice and CreateUser are both in the first two), plus e9.
        let ids: Vec<_> = pass.kept.iter().map(|k| k.fields.event_id.clone().unwrap()).collect();
        assert_eq!(ids, ["e0", "e1", "e9"]);
        assert_eq!(pass.by_event_id("e9"), Some(2));
    }
}
