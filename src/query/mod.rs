//! A search query: the filter flags and `--pattern`s compiled into EventBridge patterns, a time
//! window, the fields to project and the prefilter.
//!
//! The flags are AND-ed; each repeatable flag OR-s its values; several `--pattern`s are OR-ed
//! with each other and AND-ed with the flags. A pattern with `source`, `detail-type` or
//! `detail` at its top level is matched against the EventBridge envelope of each record
//! ([`crate::record::envelope`]); every other pattern against the record itself.

pub mod prefilter;

use crate::pattern::{Pattern, PatternError};
use crate::record::{KeepSet, envelope, time};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

pub use prefilter::Prefilter;

/// The filter flags, as given.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    /// `--event`: eventName values.
    pub events: Vec<String>,
    /// `--source`: eventSource values (`iam` means `iam.amazonaws.com`).
    pub sources: Vec<String>,
    /// `--user`: actor names, ARNs, session names, principal or access key ids.
    pub users: Vec<String>,
    /// `--ip`: addresses or CIDR blocks.
    pub ips: Vec<String>,
    /// `--account`: recipientAccountId values.
    pub accounts: Vec<String>,
    /// `--region`: awsRegion values.
    pub regions: Vec<String>,
    /// `--errors`: only records with an errorCode.
    pub errors: bool,
    /// `--error-code`: errorCode values.
    pub error_codes: Vec<String>,
    /// `--since` (inclusive).
    pub since: Option<DateTime<Utc>>,
    /// `--until` (exclusive).
    pub until: Option<DateTime<Utc>>,
}

/// How a pattern sees a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// The record itself.
    Record,
    /// The EventBridge envelope with the record as `detail`.
    Envelope,
}

/// A pattern and the view it is matched against.
#[derive(Debug, Clone)]
pub struct ViewPattern {
    /// The compiled pattern.
    pub pattern: Pattern,
    /// Record or envelope.
    pub view: View,
}

impl ViewPattern {
    /// Chooses the view from the pattern's top-level keys.
    #[must_use]
    pub fn new(pattern: Pattern) -> ViewPattern {
        let view = if pattern
            .top_level_keys()
            .iter()
            .any(|k| envelope::ENVELOPE_KEYS.contains(&k.as_str()))
        {
            View::Envelope
        } else {
            View::Record
        };
        ViewPattern { pattern, view }
    }

    /// Whether a whole (unprojected) record matches, in this pattern's view.
    #[must_use]
    pub fn matches_record(&self, record: &Value) -> bool {
        match self.view {
            View::Record => self.pattern.matches(record),
            View::Envelope => self.pattern.matches(&envelope::wrap(record.clone())),
        }
    }

    /// Record-relative paths the pattern reads (for an envelope pattern, with the fields the
    /// envelope is built from).
    pub(crate) fn record_paths(&self) -> Vec<String> {
        let paths = self.pattern.field_paths();
        match self.view {
            View::Record => paths,
            View::Envelope => {
                let mut out: Vec<String> = paths
                    .iter()
                    .filter_map(|p| {
                        if p == "detail" {
                            Some(String::new())
                        } else {
                            p.strip_prefix("detail.").map(str::to_owned)
                        }
                    })
                    .collect();
                out.extend(envelope::ENVELOPE_INPUTS.iter().map(|s| (*s).to_string()));
                out
            }
        }
    }

    fn clauses(&self) -> Vec<Vec<String>> {
        match self.view {
            View::Record => self.pattern.literal_clauses(""),
            View::Envelope => self.pattern.literal_clauses("detail"),
        }
    }

    /// What the pattern needs of the record's `eventName` (its path in the pattern's view):
    /// see [`Pattern::string_keys`].
    pub(crate) fn event_name_keys(&self) -> Option<Vec<crate::pattern::StrKey>> {
        self.pattern.string_keys(match self.view {
            View::Record => "eventName",
            View::Envelope => "detail.eventName",
        })
    }

    /// Clauses whose literals hold ignoring ASCII case (they include case-insensitive rules).
    fn clauses_folded(&self) -> Vec<Vec<String>> {
        match self.view {
            View::Record => self.pattern.literal_clauses_folded(""),
            View::Envelope => self.pattern.literal_clauses_folded("detail"),
        }
    }
}

/// What a matching record carries to the output stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// `eventTime` in nanoseconds since the epoch, if it parses.
    pub time: Option<i64>,
}

/// A guess at how rarely a literal occurs in CloudTrail text, for choosing among clauses that
/// are all sound: its length, but a service host name (`iam.amazonaws.com`, in every record of
/// its service) counts only its service part.
fn selectivity(lit: &str) -> usize {
    let lit = lit.trim_matches('"');
    lit.strip_suffix(".amazonaws.com").map_or(lit.len(), str::len)
}

/// A compiled query.
#[derive(Debug, Clone)]
pub struct Query {
    flags: Option<ViewPattern>,
    patterns: Vec<ViewPattern>,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    keep: KeepSet,
    prefilter: Prefilter,
}

/// Normalises `--source iam` to `iam.amazonaws.com`.
fn event_source(s: &str) -> String {
    if s.contains('.') { s.to_string() } else { format!("{s}.amazonaws.com") }
}

/// A string value or, when it holds `*`, a wildcard (with `\` escaped).
fn text_or_wildcard(s: &str) -> Value {
    if s.contains('*') { json!({ "wildcard": s.replace('\\', "\\\\") }) } else { json!(s) }
}

impl Filters {
    /// The flags as one EventBridge pattern (record view), or `None` when no flag filters.
    #[must_use]
    pub fn to_pattern_json(&self) -> Option<Value> {
        let mut p = serde_json::Map::new();
        if !self.events.is_empty() {
            p.insert("eventName".into(), json!(self.events));
        }
        if !self.sources.is_empty() {
            let v: Vec<String> = self.sources.iter().map(|s| event_source(s)).collect();
            p.insert("eventSource".into(), json!(v));
        }
        if !self.ips.is_empty() {
            let v: Vec<Value> = self
                .ips
                .iter()
                .map(|ip| if ip.contains('/') { json!({ "cidr": ip }) } else { json!(ip) })
                .collect();
            // EventBridge's cidr takes no /32 or /128: a single address is matched as text,
            // as given and in its canonical spelling (IPv6 has several).
            let mut v = v;
            for ip in &self.ips {
                if let Ok(addr) = ip.parse::<std::net::IpAddr>() {
                    let canon = json!(addr.to_string());
                    if !v.contains(&canon) {
                        v.push(canon);
                    }
                }
            }
            p.insert("sourceIPAddress".into(), Value::Array(v));
        }
        if !self.accounts.is_empty() {
            p.insert("recipientAccountId".into(), json!(self.accounts));
        }
        if !self.regions.is_empty() {
            p.insert("awsRegion".into(), json!(self.regions));
        }
        if !self.error_codes.is_empty() {
            p.insert("errorCode".into(), json!(self.error_codes));
        } else if self.errors {
            p.insert("errorCode".into(), json!([{ "exists": true }]));
        }
        if !self.users.is_empty() {
            let exact: Vec<Value> = self.users.iter().map(|u| text_or_wildcard(u)).collect();
            let mut arn = exact.clone();
            let mut principal = exact.clone();
            for u in self.users.iter().filter(|u| !u.contains('*')) {
                arn.push(json!({ "suffix": format!("/{u}") }));
                principal.push(json!({ "suffix": format!(":{u}") }));
            }
            p.insert(
                "$or".into(),
                json!([
                    { "userIdentity": { "userName": exact } },
                    { "userIdentity": { "arn": arn } },
                    { "userIdentity": { "principalId": principal } },
                    { "userIdentity": { "accessKeyId": exact } },
                    { "userIdentity": { "sessionContext": { "sessionIssuer": { "userName": exact } } } },
                ]),
            );
        }
        (!p.is_empty()).then_some(Value::Object(p))
    }
}

impl Query {
    /// Compiles the flags and the pattern texts. `prefilter: false` turns the prefilter off.
    pub fn new(
        filters: &Filters,
        patterns: &[String],
        prefilter: bool,
    ) -> Result<Query, QueryError> {
        let flags = Self::flags_pattern(filters)?;
        let mut compiled = Vec::new();
        for (i, text) in patterns.iter().enumerate() {
            let p = Pattern::parse(text).map_err(|e| QueryError::Pattern(i + 1, e))?;
            compiled.push(ViewPattern::new(p));
        }
        Ok(Self::with_flags(flags, compiled, filters, prefilter))
    }

    /// The filter flags compiled as one record-view pattern, if any flag filters.
    fn flags_pattern(filters: &Filters) -> Result<Option<ViewPattern>, QueryError> {
        filters
            .to_pattern_json()
            .map(|v| {
                Ok(ViewPattern {
                    pattern: Pattern::parse(&v.to_string())
                        .map_err(|e| QueryError::Flags(e.to_string()))?,
                    view: View::Record,
                })
            })
            .transpose()
    }

    /// Like [`Query::new`] with patterns already compiled (rules built from other languages,
    /// such as Sigma rules, have no EventBridge text).
    pub fn from_patterns(
        filters: &Filters,
        patterns: Vec<ViewPattern>,
        prefilter: bool,
    ) -> Result<Query, QueryError> {
        let flags = Self::flags_pattern(filters)?;
        Ok(Self::with_flags(flags, patterns, filters, prefilter))
    }

    /// A query for a consumer that tests every record it gets itself (`audit`): the patterns
    /// build the prefilter, but records the prefilter lets through are not matched against
    /// them here (only against the flags and the time window), so each is tested once, by the
    /// consumer. Sound as long as the consumer's tests imply one of the patterns.
    pub fn prefilter_only(
        filters: &Filters,
        patterns: Vec<ViewPattern>,
        prefilter: bool,
    ) -> Result<Query, QueryError> {
        let full = Self::from_patterns(filters, patterns, prefilter)?;
        let mut q = Self::with_flags(full.flags.clone(), Vec::new(), filters, false);
        q.prefilter = full.prefilter;
        if q.prefilter.is_active()
            && let Some(d) = Self::dispatch(full.flags.as_ref(), &full.patterns)
        {
            q.prefilter.set_dispatch(d);
        }
        Ok(q)
    }

    /// The patterns by the event names they need, each with all its own clauses, for the
    /// record prefilter of a prefilter-only query ([`Prefilter::maybe_record`]); `None` when
    /// no pattern names its events.
    fn dispatch(
        flags: Option<&ViewPattern>,
        patterns: &[ViewPattern],
    ) -> Option<prefilter::Dispatch> {
        let mut named = Vec::new();
        let mut scoped = Vec::new();
        let mut others = Vec::new();
        for p in patterns {
            if let Some(keys) = p.event_name_keys() {
                let mut own = Prefilter::new(&p.clauses());
                own.add_folded(&p.clauses_folded());
                named.push((keys, own));
                continue;
            }
            // A pattern tested on every record: by one clause on one field where it has one
            // (the rarest key: the longest), searched in that field's values only.
            let by_field = match p.view {
                View::Record => [false, true]
                    .into_iter()
                    .flat_map(|fold| {
                        p.pattern
                            .field_clauses(fold)
                            .into_iter()
                            .filter_map(move |(path, c)| prefilter::Scoped::new(&path, &c, fold))
                    })
                    .max_by_key(prefilter::Scoped::key_len),
                View::Envelope => None,
            };
            match by_field {
                Some(s) => scoped.push(s),
                None => others.push(p.clone()),
            }
        }
        if named.is_empty() {
            return None;
        }
        let others = (!others.is_empty()).then(|| {
            let mut pf = Prefilter::new(&Self::clauses(None, &others));
            pf.add_folded(&Self::clauses_folded(&others));
            pf
        });
        let flags = Prefilter::new(&flags.map(ViewPattern::clauses).unwrap_or_default());
        Some(prefilter::Dispatch::new(flags, named, scoped, others))
    }

    fn with_flags(
        flags: Option<ViewPattern>,
        compiled: Vec<ViewPattern>,
        filters: &Filters,
        prefilter: bool,
    ) -> Query {
        let mut paths: Vec<String> = vec!["eventTime".into()];
        for vp in flags.iter().chain(&compiled) {
            paths.extend(vp.record_paths());
        }
        let keep = KeepSet::new(paths);
        let prefilter = if prefilter {
            let mut pf = Prefilter::new(&Self::clauses(flags.as_ref(), &compiled));
            pf.add_folded(&Self::clauses_folded(&compiled));
            pf
        } else {
            Prefilter::default()
        };
        Query {
            flags,
            patterns: compiled,
            since: filters.since,
            until: filters.until,
            keep,
            prefilter,
        }
    }

    /// For the OR of the patterns, when some pattern has no exact clause but each has a folded
    /// one (case-insensitive rules): the union of one folded clause per pattern, the one whose
    /// weakest literal looks most selective ([`selectivity`]): a union is only as selective
    /// as its most common member.
    fn clauses_folded(patterns: &[ViewPattern]) -> Vec<Vec<String>> {
        if patterns.is_empty() || patterns.iter().all(|p| !p.clauses().is_empty()) {
            return Vec::new();
        }
        let best: Vec<Option<Vec<String>>> = patterns
            .iter()
            .map(|p| {
                p.clauses_folded()
                    .into_iter()
                    .max_by_key(|c| c.iter().map(|l| selectivity(l)).min().unwrap_or(0))
            })
            .collect();
        if !best.iter().all(Option::is_some) {
            return Vec::new();
        }
        let mut union: Vec<String> = best.into_iter().flatten().flatten().collect();
        union.sort();
        union.dedup();
        vec![union]
    }

    /// Clauses every match satisfies: the flags' clauses, plus for the OR of the patterns one
    /// clause that is the union of one clause per pattern (when each pattern has one).
    fn clauses(flags: Option<&ViewPattern>, patterns: &[ViewPattern]) -> Vec<Vec<String>> {
        let mut out = flags.map(ViewPattern::clauses).unwrap_or_default();
        let best: Vec<Option<Vec<String>>> = patterns
            .iter()
            .map(|p| {
                p.clauses()
                    .into_iter()
                    .max_by_key(|c| c.iter().map(|l| selectivity(l)).min().unwrap_or(0))
            })
            .collect();
        if !best.is_empty() && best.iter().all(Option::is_some) {
            out.push(best.into_iter().flatten().flatten().collect());
        }
        out
    }

    /// The filter flags as one pattern (record view), if any flag filters.
    #[must_use]
    pub fn flags(&self) -> Option<&ViewPattern> {
        self.flags.as_ref()
    }

    /// The `--pattern`s (OR-ed with each other, AND-ed with the flags).
    #[must_use]
    pub fn patterns(&self) -> &[ViewPattern] {
        &self.patterns
    }

    /// The time window: `since` inclusive, `until` exclusive.
    #[must_use]
    pub fn window(&self) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
        (self.since, self.until)
    }

    /// Whether every record matches (no flag, pattern, time window or prefilter).
    #[must_use]
    pub fn matches_everything(&self) -> bool {
        self.flags.is_none()
            && self.patterns.is_empty()
            && self.since.is_none()
            && self.until.is_none()
            && !self.prefilter.is_active()
    }

    /// The byte-level prefilter for files and records.
    #[must_use]
    pub fn prefilter(&self) -> &Prefilter {
        &self.prefilter
    }

    /// Tests one raw record. `Err` when the record is not valid JSON.
    pub fn evaluate(&self, raw: &str) -> serde_json::Result<Option<Hit>> {
        let projected = self.keep.project(raw)?;
        let text = |k: &str| projected.get(k).and_then(Value::as_str);
        let when = text("eventTime").and_then(time::parse_event_time);
        if self.since.is_some() || self.until.is_some() {
            let Some(t) = when else { return Ok(None) };
            if self.since.is_some_and(|s| t < s) || self.until.is_some_and(|u| t >= u) {
                return Ok(None);
            }
        }
        let hit = Hit { time: when.and_then(time::sort_key) };
        if let Some(f) = &self.flags
            && !f.pattern.matches(&projected)
        {
            return Ok(None);
        }
        if self.patterns.is_empty() {
            return Ok(Some(hit));
        }
        if self.patterns.iter().any(|p| p.view == View::Record && p.pattern.matches(&projected)) {
            return Ok(Some(hit));
        }
        if self.patterns.iter().any(|p| p.view == View::Envelope) {
            let env = envelope::wrap(projected);
            if self.patterns.iter().any(|p| p.view == View::Envelope && p.pattern.matches(&env)) {
                return Ok(Some(hit));
            }
        }
        Ok(None)
    }

    /// A human-readable account of what the query does (`--explain`).
    #[must_use]
    pub fn explain(&self) -> String {
        let mut s = String::new();
        if let Some(f) = &self.flags {
            s.push_str(&format!("flags (matched against the record):\n  {}\n", f.pattern));
        }
        for (i, p) in self.patterns.iter().enumerate() {
            let view = match p.view {
                View::Record => "the record",
                View::Envelope => "the EventBridge envelope, record as detail",
            };
            s.push_str(&format!("pattern {} (matched against {view}):\n  {}\n", i + 1, p.pattern));
        }
        if self.patterns.len() > 1 {
            s.push_str("a record matches when any one of the patterns does\n");
        }
        if self.flags.is_none() && self.patterns.is_empty() {
            s.push_str("no pattern: every record matches\n");
        }
        if let Some(t) = self.since {
            s.push_str(&format!("since: {} (inclusive)\n", t.to_rfc3339()));
        }
        if let Some(t) = self.until {
            s.push_str(&format!("until: {} (exclusive)\n", t.to_rfc3339()));
        }
        let pf = self.prefilter.describe();
        if pf.is_empty() {
            s.push_str("prefilter: none (every record is parsed)\n");
        } else {
            for c in pf {
                s.push_str(&format!("prefilter: text must contain one of {c:?}\n"));
            }
        }
        s
    }
}

/// A query that does not compile.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// A `--pattern` is invalid.
    #[error("invalid pattern {0}: {1}")]
    Pattern(usize, PatternError),
    /// The flags made an invalid pattern (e.g. a bad `--ip`).
    #[error("invalid filter: {0}")]
    Flags(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_compile_to_one_pattern() {
        let f = Filters {
            events: vec!["CreateUser".into()],
            sources: vec!["iam".into()],
            errors: true,
            ..Filters::default()
        };
        assert_eq!(
            f.to_pattern_json().unwrap(),
            json!({"eventName":["CreateUser"],"eventSource":["iam.amazonaws.com"],"errorCode":[{"exists":true}]})
        );
        assert_eq!(Filters::default().to_pattern_json(), None);
        let ip = Filters {
            ips: vec!["10.0.0.0/8".into(), "192.0.2.1".into(), "ec2.amazonaws.com".into()],
            ..Filters::default()
        };
        assert_eq!(
            ip.to_pattern_json().unwrap(),
            json!({"sourceIPAddress":[{"cidr":"10.0.0.0/8"},"192.0.2.1","ec2.amazonaws.com"]})
        );
    }

    #[test]
    fn evaluates_time_window_and_views() {
        let f = Filters {
            since: time::parse_event_time("2024-03-01T00:00:00Z"),
            until: time::parse_event_time("2024-03-02T00:00:00Z"),
            ..Filters::default()
        };
        let env = r#"{"source":["aws.iam"],"detail":{"eventName":["CreateUser"]}}"#.to_string();
        let q = Query::new(&f, &[env], true).unwrap();
        let rec = |t: &str, name: &str| {
            format!(
                r#"{{"eventTime":"{t}","eventSource":"iam.amazonaws.com","eventName":"{name}","eventID":"x"}}"#
            )
        };
        assert!(q.evaluate(&rec("2024-03-01T10:00:00Z", "CreateUser")).unwrap().is_some());
        assert!(q.evaluate(&rec("2024-03-01T10:00:00Z", "DeleteUser")).unwrap().is_none());
        assert!(q.evaluate(&rec("2024-03-02T00:00:00Z", "CreateUser")).unwrap().is_none());
        assert!(q.evaluate(&rec("2024-02-29T23:59:59Z", "CreateUser")).unwrap().is_none());
        assert!(q.evaluate("{").is_err());
        let hit = q.evaluate(&rec("2024-03-01T10:00:00Z", "CreateUser")).unwrap().unwrap();
        assert_eq!(hit.time, Some(1_709_287_200_000_000_000));
    }

    #[test]
    fn case_insensitive_patterns_get_folded_unions() {
        use crate::pattern::ast::Alt;
        use crate::pattern::text::{GlobTok, TextGlob};
        let g =
            |s: &str| Alt::TextGlob(TextGlob::new(vec![GlobTok::Lit(s.into())], false).unwrap());
        let rule = |src: &str, name: &str| ViewPattern {
            pattern: Pattern::from_dnf(vec![vec![
                ("eventSource".into(), vec![g(src)]),
                ("eventName".into(), vec![g(name)]),
            ]])
            .unwrap(),
            view: View::Record,
        };
        let q = Query::from_patterns(
            &Filters::default(),
            vec![rule("iam.amazonaws.com", "CreateUser"), rule("s3.amazonaws.com", "DeleteBucket")],
            true,
        )
        .unwrap();
        // The event names, not the service hosts every record of a service holds.
        assert_eq!(
            q.prefilter().describe(),
            vec![vec!["\"createuser\" (any case)", "\"deletebucket\" (any case)"]]
        );
        let rec = |s: &str, n: &str| format!(r#"{{"eventSource":"{s}","eventName":"{n}"}}"#);
        assert!(q.prefilter().maybe(rec("IAM.amazonaws.com", "createUSER").as_bytes()));
        assert!(!q.prefilter().maybe(rec("iam.amazonaws.com", "GetUser").as_bytes()));
        assert!(q.evaluate(&rec("s3.amazonaws.com", "deletebucket")).unwrap().is_some());
    }
}
