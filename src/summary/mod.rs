//! `summary`: what an archive (or the records matching a query) holds, at a glance.
//!
//! [`Summary`] is a mergeable partial aggregate: `Summary::default()`, [`Summary::observe`] each
//! record, [`Summary::merge`] partials (in input order). Merging the partials of consecutive
//! slices equals one pass over the whole. [`Report`] is the finished, serialisable view (the
//! `--format json` schema, `doc/summary-schema.md`) that every renderer prints.

pub mod actions;
pub mod render;

use crate::output::Field;
use crate::record::{actor, time};
use crate::stats::Stats;
use actions::Notable;
use chrono::{DateTime, Utc};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
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

/// A count with the first and last time seen (nanoseconds since the epoch).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Records.
    pub count: u64,
    /// Earliest `eventTime`.
    pub first: Option<i64>,
    /// Latest `eventTime`.
    pub last: Option<i64>,
}

impl Tally {
    fn add(&mut self, t: Option<i64>) {
        self.count += 1;
        self.span(t, t);
    }

    fn span(&mut self, first: Option<i64>, last: Option<i64>) {
        if let Some(f) = first {
            self.first = Some(self.first.map_or(f, |x| x.min(f)));
        }
        if let Some(l) = last {
            self.last = Some(self.last.map_or(l, |x| x.max(l)));
        }
    }

    /// Adds `other` into `self`.
    pub fn merge(&mut self, other: &Tally) {
        self.count += other.count;
        self.span(other.first, other.last);
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

/// One `--by` group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Group {
    /// Count and times.
    pub tally: Tally,
    /// Distinct values of [`GROUP_DISTINCT`], in that order.
    pub distinct: [HashSet<String>; 5],
}

/// A partial summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Records observed, and the overall time span.
    pub all: Tally,
    /// Records without a readable `eventTime`.
    pub undated: u64,
    /// Files that held at least one record observed (counted by the caller).
    pub files: u64,
    /// Counts per value of each of [`DIMENSIONS`] (errorCode: only records that have one).
    pub counts: [HashMap<String, Tally>; 8],
    /// `--by` groups.
    pub groups: HashMap<Vec<String>, Group>,
    /// Records per hour (the hour's start, seconds since the epoch).
    pub hours: BTreeMap<i64, u64>,
    /// With `--timeline-by`: records per value and hour.
    pub series: BTreeMap<String, BTreeMap<i64, u64>>,
    /// Notable actions, in input order.
    pub notable: Vec<Notable>,
    /// Notable actions beyond `max_notable`.
    pub notable_dropped: u64,
}

fn field_text(record: &Value, f: &Field) -> String {
    let t = f.text(record);
    if t.is_empty() { MISSING.to_string() } else { t }
}

fn path_text<'a>(record: &'a Value, path: &str) -> Option<Cow<'a, str>> {
    if path == "actor" {
        return Some(Cow::Owned(actor(record)));
    }
    if let Some(Value::String(s)) = record.get(path) {
        return (!s.is_empty()).then_some(Cow::Borrowed(s.as_str()));
    }
    actions::text_at(record, path).map(Cow::Owned)
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
        let t = record
            .get("eventTime")
            .and_then(Value::as_str)
            .and_then(time::parse_event_time)
            .and_then(time::sort_key);
        self.all.add(t);
        if t.is_none() {
            self.undated += 1;
        }
        // The actor is read by a dimension and a group column: work it out once.
        let who = actor(record);
        let text = |path: &str| {
            if path == "actor" {
                Some(Cow::Borrowed(who.as_str()))
            } else {
                path_text(record, path)
            }
        };
        for (i, (_, _, path)) in DIMENSIONS.iter().enumerate() {
            let v = text(path);
            if *path == "errorCode" && v.is_none() {
                continue;
            }
            let v = v.unwrap_or(Cow::Borrowed(MISSING));
            // Most values repeat: look up before allocating a key.
            match self.counts[i].get_mut(v.as_ref()) {
                Some(tally) => tally.add(t),
                None => self.counts[i].entry(v.into_owned()).or_default().add(t),
            }
        }
        if !spec.by.is_empty() {
            let key: Vec<String> = spec.by.iter().map(|f| field_text(record, f)).collect();
            let g = match self.groups.get_mut(&key) {
                Some(g) => g,
                None => self.groups.entry(key).or_default(),
            };
            g.tally.add(t);
            for (i, (_, path)) in GROUP_DISTINCT.iter().enumerate() {
                if let Some(v) = text(path)
                    && !g.distinct[i].contains(v.as_ref())
                {
                    g.distinct[i].insert(v.into_owned());
                }
            }
        }
        if let Some(n) = t {
            let hour = n.div_euclid(1_000_000_000).div_euclid(3600) * 3600;
            *self.hours.entry(hour).or_default() += 1;
            if let Some(f) = &spec.timeline_by {
                *self.series.entry(field_text(record, f)).or_default().entry(hour).or_default() +=
                    1;
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
    pub fn merge(&mut self, other: Summary, spec: &Spec) {
        self.all.merge(&other.all);
        self.undated += other.undated;
        self.files += other.files;
        for (mine, theirs) in self.counts.iter_mut().zip(other.counts) {
            for (k, t) in theirs {
                mine.entry(k).or_default().merge(&t);
            }
        }
        for (k, g) in other.groups {
            let mine = self.groups.entry(k).or_default();
            mine.tally.merge(&g.tally);
            for (a, b) in mine.distinct.iter_mut().zip(g.distinct) {
                a.extend(b);
            }
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
        for n in other.notable {
            if self.notable.len() < spec.max_notable {
                self.notable.push(n);
            } else {
                self.notable_dropped += 1;
            }
        }
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
        match (all.first, all.last) {
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
    /// Every group, by count then key.
    pub rows: Vec<GroupRow>,
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

fn rows(map: &HashMap<String, Tally>, top: usize) -> Vec<Row> {
    let mut v: Vec<(&String, &Tally)> = map.iter().collect();
    v.sort_by(|a, b| b.1.count.cmp(&a.1.count).then_with(|| a.0.cmp(b.0)));
    if top > 0 {
        v.truncate(top);
    }
    v.into_iter()
        .map(|(k, t)| Row {
            value: k.clone(),
            count: t.count,
            first_seen: t.first.map(nanos_text),
            last_seen: t.last.map(nanos_text),
        })
        .collect()
}

impl Report {
    /// Finishes `s`.
    #[must_use]
    pub fn new(s: &Summary, spec: &Spec, opts: &ReportOptions, stats: &Stats) -> Report {
        let keys = |i: usize| -> Vec<String> {
            let mut k: Vec<String> =
                s.counts[i].keys().filter(|k| k.as_str() != MISSING).cloned().collect();
            k.sort();
            k
        };
        let overview = Overview {
            records: s.all.count,
            files_with_records: s.files,
            files_read: stats.files_read,
            files_failed: stats.files_failed,
            undated_records: s.undated,
            first_seen: s.all.first.map(nanos_text),
            last_seen: s.all.last.map(nanos_text),
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
                distinct: s.counts[i].len(),
                records: s.counts[i].values().map(|t| t.count).sum(),
                rows: rows(&s.counts[i], opts.top),
            })
            .collect();
        let groups = (!spec.by.is_empty()).then(|| {
            let mut v: Vec<GroupRow> = s
                .groups
                .iter()
                .map(|(k, g)| GroupRow {
                    key: k.clone(),
                    count: g.tally.count,
                    first_seen: g.tally.first.map(nanos_text),
                    last_seen: g.tally.last.map(nanos_text),
                    distinct: GROUP_DISTINCT
                        .iter()
                        .zip(&g.distinct)
                        .map(|((name, _), set)| (*name, set.len()))
                        .collect(),
                })
                .collect();
            v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
            Groups { by: spec.by.iter().map(|f| f.path.clone()).collect(), rows: v }
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
        let opts = ReportOptions { top: 1, bucket: None, series: 1 };
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
        let days = ReportOptions { top: 0, bucket: Some(Bucket::Day), series: 5 };
        let rep = Report::new(&s, &spec, &days, &Stats::default());
        assert_eq!(rep.timeline.buckets.len(), 2);
        assert_eq!(rep.timeline.buckets[0].start, "2024-03-01T00:00:00Z");
        assert_eq!(rep.timeline.buckets[0].count, 2);
    }

    proptest! {
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
            prop_assert_eq!(merged, one);
        }
    }
}
