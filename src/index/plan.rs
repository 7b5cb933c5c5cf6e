//! Planning a query against the index: per file, can a record match?
//!
//! The planner walks the query's compiled patterns (the sub-rules the matcher runs, with the
//! matcher's own leaf test, `alt_matches`) and asks of each field test whether some value
//! the file holds there can pass it. A sub-rule fails for the file when one of its tests
//! cannot pass; a pattern when all its sub-rules fail; the query when the flags fail, or every
//! `--pattern` does, or the file's `eventTime`s all lie outside the window. Anything the
//! index does not know (a field it does not keep, an operator a filter cannot answer, an
//! irregular value) counts as "can pass": the file is read.

use super::fields::{FIELDS, Keep, position, token};
use super::{FieldSet, FileEntry, Index, hash};
use crate::pattern::ast::Alt;
use crate::pattern::matcher::alt_matches;
use crate::query::{Query, View, ViewPattern};
use crate::record::envelope;
use chrono::{DateTime, Utc};
use serde_json::Value;

/// Where an envelope field comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Derive {
    /// `source`, from `eventSource`.
    Source,
    /// `detail-type`, from `eventType`.
    DetailType,
    /// The field's string values as they are (`account`, `region`).
    Text,
}

impl Derive {
    fn apply(self, s: &str) -> Option<String> {
        match self {
            Derive::Source => Some(envelope::source(s)),
            Derive::DetailType => envelope::detail_type(s).map(str::to_string),
            Derive::Text => Some(s.to_string()),
        }
    }
}

/// What a test's values are read from.
#[derive(Debug, Clone)]
enum Source {
    /// An indexed field.
    Field(usize),
    /// An envelope field made from an indexed field's string value.
    Derived(Derive, usize),
    /// An envelope field every record has with this value.
    Const(Value),
    /// Not in the index.
    Unknown,
}

/// How a filter can answer one alternative.
#[derive(Debug, Clone, Copy)]
enum Probe {
    /// Whether this hash is in the filter.
    Hash(u64),
    /// It cannot: maybe.
    Maybe,
}

#[derive(Debug, Clone)]
struct Test {
    path: String,
    source: Source,
    alts: Vec<Alt>,
    probes: Vec<Probe>,
    absent_ok: bool,
}

/// One pattern's sub-rules.
#[derive(Debug, Clone)]
struct Plan {
    conjs: Vec<Vec<Test>>,
}

/// A compiled query, ready to be asked about files.
#[derive(Debug, Clone)]
pub struct Planner {
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    flags: Option<Plan>,
    patterns: Vec<Plan>,
}

/// The hashed-set probe for one alternative on the field at `k`: the text a value passing
/// the alternative must have been hashed as.
fn probe(alt: &Alt, k: usize) -> Probe {
    let sep = match FIELDS[k].keep {
        Keep::Hashed(sep) => sep,
        Keep::Exact | Keep::Mixed => None,
    };
    let text = |t: String| Probe::Hash(hash(&token(&t, sep)));
    match alt {
        Alt::Str(s) | Alt::Exactly(s) => text(format!("s{s}")),
        Alt::Bool(b) => text(format!("b{b}")),
        Alt::Null => text("z".to_string()),
        // A value ending with a suffix that starts with the separator has the suffix's tail.
        Alt::Suffix(s) if sep.is_some() && s.as_bytes().first() == sep.as_ref() => {
            text(format!("s{s}"))
        }
        // Numbers have several spellings; the rest are not membership tests.
        _ => Probe::Maybe,
    }
}

fn source(path: &str, view: View) -> Source {
    let field = |p: &str| position(p).map_or(Source::Unknown, Source::Field);
    let derived =
        |d: Derive, p: &str| position(p).map_or(Source::Unknown, |k| Source::Derived(d, k));
    match view {
        View::Record => field(path),
        View::Envelope => match path {
            "source" => derived(Derive::Source, "eventSource"),
            "detail-type" => derived(Derive::DetailType, "eventType"),
            "account" => derived(Derive::Text, "recipientAccountId"),
            "region" => derived(Derive::Text, "awsRegion"),
            "version" => Source::Const(Value::String("0".into())),
            p => p.strip_prefix("detail.").map_or(Source::Unknown, field),
        },
    }
}

impl Plan {
    fn new(vp: &ViewPattern) -> Plan {
        let c = vp.pattern.compiled();
        let conjs = c
            .conjs
            .iter()
            .map(|conj| {
                conj.fields
                    .iter()
                    .map(|f| {
                        let path = c.paths[f.path].clone();
                        let source = source(&path, vp.view);
                        let probes = match source {
                            Source::Field(k) => f.alts.iter().map(|a| probe(a, k)).collect(),
                            _ => Vec::new(),
                        };
                        Test { path, source, alts: f.alts.clone(), probes, absent_ok: f.absent_ok }
                    })
                    .collect()
            })
            .collect();
        Plan { conjs }
    }

    fn may(&self, e: &FileEntry, idx: &Index) -> bool {
        self.conjs.iter().any(|conj| conj.iter().all(|t| t.may(e, idx)))
    }

    /// Whether every record of the file matches: some sub-rule whose every test every record
    /// passes.
    fn all(&self, e: &FileEntry, idx: &Index) -> bool {
        self.conjs.iter().any(|conj| conj.iter().all(|t| t.all(e, idx)))
    }
}

impl Test {
    fn passes(&self, v: &Value) -> bool {
        self.alts.iter().any(|a| alt_matches(a, v))
    }

    /// Can some record of the file pass this test?
    fn may(&self, e: &FileEntry, idx: &Index) -> bool {
        // A test that looks inside objects and arrays (Sigma's `contains` on a value that may
        // be one) sees more than the scalars the index keeps.
        if self.alts.iter().any(Alt::is_deep) {
            return true;
        }
        match &self.source {
            Source::Unknown => true,
            Source::Const(v) => self.passes(v),
            Source::Field(k) => match idx.set(e, *k) {
                FieldSet::Exact(ids, flags) => {
                    (self.absent_ok && (flags.missing || flags.irregular))
                        || ids.iter().any(|&id| self.passes(idx.value(id)))
                }
                set @ (FieldSet::Hashes(..) | FieldSet::Filter(..)) => {
                    let flags = set.flags();
                    let empty = matches!(set, FieldSet::Hashes(h, _) if h.is_empty());
                    (self.absent_ok && (flags.missing || flags.irregular))
                        || self.alts.iter().zip(&self.probes).any(|(a, p)| match (a, p) {
                            (Alt::Exists(true), _) => !empty,
                            (_, Probe::Hash(h)) => set.may_hold(*h).unwrap_or(true),
                            (_, Probe::Maybe) => true,
                        })
                }
            },
            Source::Derived(d, k) => match idx.set(e, *k) {
                FieldSet::Exact(ids, flags) if !flags.irregular => {
                    let mut missing = flags.missing;
                    let mut any = false;
                    for &id in ids {
                        match idx.value(id).as_str().and_then(|s| d.apply(s)) {
                            Some(s) => any |= self.passes(&Value::String(s)),
                            // The envelope has no such field for this record.
                            None => missing = true,
                        }
                    }
                    any || (self.absent_ok && missing)
                }
                _ => true,
            },
        }
    }

    /// Does every record of the file pass this test? Only where the index knows each
    /// record's value: an exact set of plain scalars, none missing (the record's one value is
    /// then in the set, and every value in the set passes).
    fn all(&self, e: &FileEntry, idx: &Index) -> bool {
        if self.alts.iter().any(Alt::is_deep) {
            return false;
        }
        match &self.source {
            Source::Const(v) => self.passes(v),
            Source::Field(k) => match idx.set(e, *k) {
                FieldSet::Exact(ids, flags) if !flags.missing && !flags.irregular => {
                    ids.iter().all(|&id| self.passes(idx.value(id)))
                }
                _ => false,
            },
            Source::Derived(d, k) => match idx.set(e, *k) {
                FieldSet::Exact(ids, flags) if !flags.missing && !flags.irregular => {
                    ids.iter().all(|&id| {
                        idx.value(id)
                            .as_str()
                            .and_then(|s| d.apply(s))
                            .is_some_and(|s| self.passes(&Value::String(s)))
                    })
                }
                _ => false,
            },
            Source::Unknown => false,
        }
    }

    fn describe(&self) -> String {
        let how = match &self.source {
            Source::Unknown => "not in the index: files are read",
            Source::Const(_) => "the same in every record",
            Source::Derived(..) => "decided per file from the index (derived)",
            Source::Field(k) if FIELDS[*k].keep == Keep::Exact => {
                "decided per file from the index (exact values)"
            }
            Source::Field(_) => {
                if self.probes.iter().all(|p| matches!(p, Probe::Maybe)) {
                    "decided per file where the file's values are few; else read"
                } else {
                    "decided per file from the index (exact values or a filter)"
                }
            }
        };
        format!("{}: {how}", self.path)
    }
}

impl Planner {
    /// The planner of `query`.
    #[must_use]
    pub fn new(query: &Query) -> Planner {
        let (since, until) = query.window();
        Planner {
            since,
            until,
            flags: query.flags().map(Plan::new),
            patterns: query.patterns().iter().map(Plan::new).collect(),
        }
    }

    /// Whether a record of the file the entry describes can match.
    #[must_use]
    pub fn may_match(&self, e: &FileEntry, idx: &Index) -> bool {
        if e.records == 0 {
            return false;
        }
        if self.since.is_some() || self.until.is_some() {
            // Records without a readable eventTime never match a time window.
            let Some((first, last)) = e.span else { return false };
            let at = |s: i64| DateTime::<Utc>::from_timestamp(s, 0);
            if self.since.is_some_and(|since| at(last).is_some_and(|t| t < since)) {
                return false;
            }
            if self.until.is_some_and(|until| at(first).is_some_and(|t| t >= until)) {
                return false;
            }
        }
        if let Some(f) = &self.flags
            && !f.may(e, idx)
        {
            return false;
        }
        self.patterns.is_empty() || self.patterns.iter().any(|p| p.may(e, idx))
    }

    /// Whether every record of the file the entry describes matches (so that what a
    /// consumer counts of all its records, kept in the index, is what it would count of its
    /// matches). `false` when unsure.
    #[must_use]
    pub fn all_match(&self, e: &FileEntry, idx: &Index) -> bool {
        if self.since.is_some() || self.until.is_some() {
            // Every record dated, and the whole span inside the window (`since` inclusive,
            // `until` exclusive; the span is rounded outwards to whole seconds).
            let Some((first, last)) = e.span else { return false };
            if e.untimed {
                return false;
            }
            let at = |s: i64| DateTime::<Utc>::from_timestamp(s, 0);
            if self.since.is_some_and(|since| at(first).is_none_or(|t| t < since)) {
                return false;
            }
            if self.until.is_some_and(|until| at(last).is_none_or(|t| t >= until)) {
                return false;
            }
        }
        if let Some(f) = &self.flags
            && !f.all(e, idx)
        {
            return false;
        }
        self.patterns.is_empty() || self.patterns.iter().any(|p| p.all(e, idx))
    }

    /// Whether the planner can rule out anything (a window, or a test the index can answer).
    #[must_use]
    pub fn can_decide(&self) -> bool {
        self.since.is_some()
            || self.until.is_some()
            || self.flags.iter().chain(&self.patterns).any(|p| {
                p.conjs.iter().all(|c| c.iter().any(|t| !matches!(t.source, Source::Unknown)))
            })
    }

    /// What the planner can decide, line by line (`--explain`).
    #[must_use]
    pub fn describe(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.since.is_some() || self.until.is_some() {
            out.push("time window: decided per file from its eventTime span".to_string());
        }
        let mut seen = Vec::new();
        for p in self.flags.iter().chain(&self.patterns) {
            for t in p.conjs.iter().flatten() {
                let d = t.describe();
                if !seen.contains(&d) {
                    seen.push(d);
                }
            }
        }
        out.extend(seen);
        if !self.can_decide() {
            out.push(
                "the index cannot rule out any file for this query: every file is read".into(),
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::Builder;
    use crate::index::fields::{FieldReader, FileFields};
    use crate::query::Filters;
    use crate::source::FileStamp;

    /// An index of one file holding these records.
    fn index(records: &[&str]) -> Index {
        let reader = FieldReader::new();
        let mut f = FileFields::new();
        for (i, r) in records.iter().enumerate() {
            f.add(&reader, i as u64, r, None).unwrap();
        }
        let mut b = Builder::new("/".into());
        b.add(
            "f".into(),
            FileStamp { size: 0, mtime_ns: 0, ctime_ns: 0, inode: 0 },
            f.finish().unwrap(),
        );
        b.finish(0, 0)
    }

    fn may(idx: &Index, filters: &Filters, patterns: &[&str]) -> bool {
        let texts: Vec<String> = patterns.iter().map(|s| (*s).to_string()).collect();
        let q = Query::new(filters, &texts, true).unwrap();
        Planner::new(&q).may_match(&idx.files()[0], idx)
    }

    const REC: &str = r#"{"eventTime":"2024-03-01T10:00:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","eventType":"AwsApiCall","recipientAccountId":"111122223333","awsRegion":"us-east-1","userIdentity":{"type":"IAMUser","userName":"alice","arn":"arn:aws:iam::111122223333:user/alice","principalId":"AIDA1","accessKeyId":"AKIA1"},"sourceIPAddress":"203.0.113.5"}"#;

    #[test]
    fn decides_flags_patterns_and_windows() {
        let idx = index(&[REC]);
        let f = |events: &[&str]| Filters {
            events: events.iter().map(|s| (*s).to_string()).collect(),
            ..Filters::default()
        };
        assert!(may(&idx, &f(&["CreateUser"]), &[]));
        assert!(!may(&idx, &f(&["DeleteUser"]), &[]));
        assert!(may(&idx, &Filters::default(), &[r#"{"eventName":[{"prefix":"Create"}]}"#]));
        assert!(!may(
            &idx,
            &Filters::default(),
            &[r#"{"eventName":[{"anything-but":"CreateUser"}]}"#]
        ));
        assert!(may(
            &idx,
            &Filters::default(),
            &[r#"{"eventName":["X"]}"#, r#"{"awsRegion":["us-east-1"]}"#]
        ));
        // Envelope view: derived source and detail-type, and detail.* fields.
        assert!(may(
            &idx,
            &Filters::default(),
            &[r#"{"source":["aws.iam"],"detail-type":["AWS API Call via CloudTrail"]}"#]
        ));
        assert!(!may(&idx, &Filters::default(), &[r#"{"source":["aws.s3"]}"#]));
        assert!(!may(&idx, &Filters::default(), &[r#"{"detail":{"eventName":["DeleteUser"]}}"#]));
        // Not indexed: read.
        assert!(may(&idx, &Filters::default(), &[r#"{"requestParameters":{"userName":["x"]}}"#]));
        // exists:false on a field every record has.
        assert!(!may(&idx, &Filters::default(), &[r#"{"eventName":[{"exists":false}]}"#]));
        assert!(may(&idx, &Filters::default(), &[r#"{"errorCode":[{"exists":false}]}"#]));
        let w = |s: &str, u: &str| Filters {
            since: crate::record::time::parse_event_time(s),
            until: crate::record::time::parse_event_time(u),
            ..Filters::default()
        };
        assert!(may(&idx, &w("2024-03-01T10:00:00Z", "2024-03-01T10:00:01Z"), &[]));
        assert!(!may(&idx, &w("2024-03-01T10:00:01Z", "2024-03-02T00:00:00Z"), &[]));
        assert!(!may(&idx, &w("2024-02-01T00:00:00Z", "2024-03-01T10:00:00Z"), &[]));
    }

    #[test]
    fn users_and_ips_through_filters() {
        // Enough users that the identity fields become filters.
        let recs: Vec<String> = (0..60)
            .map(|i| {
                REC.replace("alice", &format!("user{i}")).replace("AKIA1", &format!("AKIA{i}"))
            })
            .collect();
        let refs: Vec<&str> = recs.iter().map(String::as_str).collect();
        let idx = index(&refs);
        assert!(matches!(
            idx.set(&idx.files()[0], position("userIdentity.arn").unwrap()),
            FieldSet::Filter(..)
        ));
        let u = |x: &str| Filters { users: vec![x.into()], ..Filters::default() };
        assert!(may(&idx, &u("user7"), &[]));
        assert!(may(&idx, &u("AKIA59"), &[]));
        assert!(!may(&idx, &u("mallory"), &[]));
        assert!(!may(&idx, &u("AKIA60"), &[]));
        // A wildcard cannot be answered by a filter.
        assert!(may(&idx, &u("mal*"), &[]));
        let ip = |x: &str| Filters { ips: vec![x.into()], ..Filters::default() };
        assert!(may(&idx, &ip("203.0.113.5"), &[]));
        assert!(!may(&idx, &ip("198.51.100.1"), &[]));
        assert!(may(&idx, &ip("203.0.113.0/24"), &[]));
        assert!(!may(&idx, &ip("198.51.100.0/24"), &[]));
    }
}
