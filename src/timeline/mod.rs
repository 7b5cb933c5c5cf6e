//! `trailscan timeline`: every record a detection rule fired on, one row each, in time order.
//!
//! [`Row`] is one line of the timeline: a record that fired one or more rules (one row naming
//! them all), a threshold or correlation window (at its last event, naming the count), or,
//! with `--notable`, a notable action no rule fired on. Rows are made from records already
//! tested by the audit's rules ([`crate::audit::matching`]) and described in the plain words of
//! `summary` ([`crate::summary::actions::describe`]); [`zone`] writes their times in a time
//! zone, [`render`] writes them and [`Tally`] sums them up.

pub mod render;
pub mod zone;

use crate::audit::{Finding, Rule, Severity, sigma};
use crate::pattern::Pattern;
use crate::query::ViewPattern;
use crate::record::{actor::actor, time};
use crate::summary::actions::{self, Category, Notable, shorten, text_at};
use rustc_hash::FxHashMap as HashMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What made a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A record one or more rules matched.
    Detection,
    /// A threshold or correlation window, at its last event.
    Window,
    /// A notable action no rule fired on (`--notable`).
    Notable,
}

/// One line of the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    /// `eventTime` in nanoseconds since the epoch, when it parses.
    pub time: Option<i64>,
    /// `eventTime` as written (shown when it does not parse).
    pub event_time: Option<String>,
    /// The highest severity of the rules named (`info` for notable actions).
    pub level: Severity,
    /// What made the row.
    pub kind: Kind,
    /// Rule ids, most severe first (empty for notable actions).
    pub rules: Vec<String>,
    /// Rule titles, in the same order (for notable actions: `notable: CATEGORY`).
    pub titles: Vec<String>,
    /// For a window: its number of events.
    pub count: Option<usize>,
    /// For a window: the time of its first event.
    pub window_start: Option<i64>,
    /// Who acted.
    pub actor: String,
    /// `recipientAccountId`, else `userIdentity.accountId`.
    pub account: Option<String>,
    /// `awsRegion`.
    pub region: Option<String>,
    /// `sourceIPAddress`.
    pub source_ip: Option<String>,
    /// `eventSource`.
    pub event_source: Option<String>,
    /// `eventName`.
    pub event_name: Option<String>,
    /// `errorCode` (`Failure` for a failed console sign-in without one).
    pub error_code: Option<String>,
    /// The action in plain words, or what the window counted.
    pub detail: String,
    /// `eventID`.
    pub event_id: Option<String>,
    /// The file the record came from (for a window: not known, `None`).
    pub file: Option<String>,
    /// The whole record (`--raw`).
    pub raw: Option<String>,
}

/// The fields every kind of row reads from its record.
fn base(v: &Value, kind: Kind, level: Severity) -> Row {
    let event_time = text_at(v, "eventTime");
    Row {
        time: event_time.as_deref().and_then(time::parse_event_time).and_then(time::sort_key),
        event_time,
        level,
        kind,
        rules: Vec::new(),
        titles: Vec::new(),
        count: None,
        window_start: None,
        actor: actor(v),
        account: text_at(v, "recipientAccountId").or_else(|| text_at(v, "userIdentity.accountId")),
        region: text_at(v, "awsRegion"),
        source_ip: text_at(v, "sourceIPAddress"),
        event_source: text_at(v, "eventSource"),
        event_name: text_at(v, "eventName"),
        error_code: text_at(v, "errorCode"),
        detail: String::new(),
        event_id: text_at(v, "eventID"),
        file: None,
        raw: None,
    }
}

/// The short plain-word phrase of a notable action: what `summary` says of it without the
/// actor, address, region and client (they have columns of their own): "created IAM user
/// backdoor-1", "tried to attach policy X to user bob", "signed in to the console without MFA".
#[must_use]
pub fn phrase(n: &Notable) -> String {
    let (past, base) = actions::find(&n.event_source, &n.event_name)
        .map_or(("called", "call"), |a| (a.verb.past, a.verb.base));
    let noun = n.action.strip_prefix(past).unwrap_or(&n.action).trim_start();
    let mut d = if n.failed { format!("tried to {base} {noun}") } else { n.action.clone() };
    if n.category == Category::Root {
        d.push_str(" as root");
    }
    for part in [&n.object, &n.target].into_iter().flatten() {
        d.push(' ');
        d.push_str(part);
    }
    if n.category == Category::ConsoleLogin {
        d.push_str(match n.mfa_used.as_deref() {
            Some("Yes") => " with MFA",
            Some("No") => " without MFA",
            _ => " (MFA use not recorded)",
        });
    }
    d
}

/// The detail of a record no notable action describes: its error message, else its request
/// parameters, shortened.
fn fallback_detail(v: &Value) -> String {
    const MAX: usize = 160;
    if let Some(m) = text_at(v, "errorMessage") {
        return shorten(&m, MAX);
    }
    match v.get("requestParameters") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => shorten(&format!("requestParameters: {s}"), MAX),
        Some(p) => shorten(&format!("requestParameters: {p}"), MAX),
    }
}

/// Fills the detail and error code from the record's notable action, if any.
fn describe_into(row: &mut Row, v: &Value, notable: Option<&Notable>) {
    match notable {
        Some(n) => {
            row.detail = phrase(n);
            if row.error_code.is_none() {
                row.error_code.clone_from(&n.error_code);
            }
        }
        None => row.detail = fallback_detail(v),
    }
}

/// The row of a record that fired `ids` (indices in `rules`, at least one).
#[must_use]
pub fn detection(rules: &[Rule], ids: &[usize], v: &Value) -> Row {
    let mut ids = ids.to_vec();
    // Most severe first; rule order among equals.
    ids.sort_by_key(|&i| std::cmp::Reverse(rules[i].severity));
    let level = ids.iter().map(|&i| rules[i].severity).max().unwrap_or(Severity::Info);
    let mut row = base(v, Kind::Detection, level);
    row.rules = ids.iter().map(|&i| rules[i].id.clone()).collect();
    row.titles = ids.iter().map(|&i| rules[i].title.clone()).collect();
    describe_into(&mut row, v, actions::describe(v).as_ref());
    row
}

/// The row of a notable action no rule fired on, if the record is one.
#[must_use]
pub fn notable(v: &Value) -> Option<Row> {
    let n = actions::describe(v)?;
    let mut row = base(v, Kind::Notable, Severity::Info);
    let category = serde_json::to_value(n.category).ok();
    row.titles =
        vec![format!("notable: {}", category.as_ref().and_then(Value::as_str).unwrap_or(""))];
    describe_into(&mut row, v, Some(&n));
    Some(row)
}

/// The row of a threshold or correlation window, at its last event (`None` if the window's
/// records cannot be read, which cannot happen for records the engine matched); with `raw`,
/// the row carries that event's record.
#[must_use]
pub fn window(rules: &[Rule], f: &Finding, raw: bool) -> Option<Row> {
    let rule = &rules[f.rule];
    let last = f.records.iter().filter(|m| m.time.is_some()).max_by_key(|m| m.time)?;
    let v: Value = serde_json::from_str(&last.raw).ok()?;
    let mut row = base(&v, Kind::Window, rule.severity);
    row.rules = vec![rule.id.clone()];
    row.titles = vec![rule.title.clone()];
    row.count = Some(f.records.len());
    row.window_start = f.records.iter().filter_map(|m| m.time).min();
    if raw {
        row.raw = Some(last.raw.clone());
    }
    let by = f.group.as_ref().map_or(String::new(), |g| {
        g.iter()
            .map(|(k, v)| match v {
                Value::String(s) => format!("{k}={s}"),
                _ => format!("{k}={v}"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    });
    let n = f.records.len();
    let mut detail = match (&rule.threshold, rule.sigma.as_ref().map(|s| &s.kind)) {
        (Some(t), _) => format!("{n} matching events within {} (threshold {})", t.within, t.count),
        (None, Some(sigma::Kind::Correlation(c))) => format!(
            "{} correlation of {}: {n} events within {}",
            c.kind.as_str(),
            c.rules.join(", "),
            c.timespan
        ),
        _ => format!("{n} matching events"),
    };
    if !by.is_empty() {
        detail.push_str(&format!(", by {by}"));
    }
    row.detail = detail;
    Some(row)
}

/// Patterns every record [`actions::describe`] describes matches (a superset: the catalogue's
/// event names per service, and every record made by the root user), for the query and the
/// index when `--notable` asks for notable actions no rule fired on.
pub fn notable_patterns() -> anyhow::Result<Vec<ViewPattern>> {
    let mut by_source: Vec<(&str, Vec<&str>)> = Vec::new();
    for a in actions::CATALOGUE {
        match by_source.iter_mut().find(|(s, _)| *s == a.source) {
            Some((_, events)) => events.push(a.event),
            None => by_source.push((a.source, vec![a.event])),
        }
    }
    let mut texts: Vec<String> = by_source
        .iter()
        .map(|(source, events)| {
            serde_json::json!({"eventSource": [source], "eventName": events}).to_string()
        })
        .collect();
    texts.push(serde_json::json!({"userIdentity": {"type": ["Root"]}}).to_string());
    texts
        .iter()
        .map(|t| Ok(ViewPattern::new(Pattern::parse(t).map_err(|e| anyhow::anyhow!("{e}"))?)))
        .collect()
}

/// Counts for the results summary, fed the rows in time order.
#[derive(Debug, Default)]
pub struct Tally {
    /// Each rule's severity, by id.
    pub severities: HashMap<String, Severity>,
    /// Rows per level, lowest first.
    pub levels: [u64; 5],
    /// Rows per rule id (a merged row counts for each of its rules), with title and level.
    pub rules: HashMap<String, (String, Severity, u64)>,
    /// Rows per actor.
    pub actors: HashMap<String, u64>,
    /// The first and last rows with a time.
    pub first: Option<Row>,
    /// See `first`.
    pub last: Option<Row>,
    /// Rows per hour (the hour's start in nanoseconds, in the display zone).
    pub hours: HashMap<i64, u64>,
    /// Rows without a readable time.
    pub untimed: u64,
}

pub(crate) fn level_index(s: Severity) -> usize {
    match s {
        Severity::Info => 0,
        Severity::Low => 1,
        Severity::Medium => 2,
        Severity::High => 3,
        Severity::Critical => 4,
    }
}

impl Tally {
    /// A tally for rows of `rules`.
    #[must_use]
    pub fn new(rules: &[Rule]) -> Tally {
        Tally {
            severities: rules.iter().map(|r| (r.id.clone(), r.severity)).collect(),
            ..Tally::default()
        }
    }

    /// Counts one row; `hour` is the start of its hour in the display zone.
    pub fn add(&mut self, row: &Row, hour: Option<i64>) {
        self.levels[level_index(row.level)] += 1;
        if row.kind == Kind::Notable {
            let e = self
                .rules
                .entry(row.titles.concat())
                .or_insert_with(|| (row.titles.concat(), Severity::Info, 0));
            e.2 += 1;
        }
        for (id, title) in row.rules.iter().zip(&row.titles) {
            let level = self.severities.get(id).copied().unwrap_or(row.level);
            let e = self.rules.entry(id.clone()).or_insert_with(|| (title.clone(), level, 0));
            e.2 += 1;
        }
        *self.actors.entry(row.actor.clone()).or_default() += 1;
        match row.time {
            Some(_) => {
                if self.first.is_none() {
                    self.first = Some(row.clone());
                }
                self.last = Some(row.clone());
            }
            None => self.untimed += 1,
        }
        if let Some(h) = hour {
            *self.hours.entry(h).or_default() += 1;
        }
    }

    /// All rows counted.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.levels.iter().sum()
    }

    /// The `n` rules with most rows: (id, title, level, rows), most first, then by id.
    #[must_use]
    pub fn top_rules(&self, n: usize) -> Vec<(&str, &str, Severity, u64)> {
        let mut v: Vec<_> =
            self.rules.iter().map(|(id, (t, l, c))| (id.as_str(), t.as_str(), *l, *c)).collect();
        v.sort_by(|a, b| b.3.cmp(&a.3).then(a.0.cmp(b.0)));
        v.truncate(n);
        v
    }

    /// The `n` actors with most rows, most first, then by name.
    #[must_use]
    pub fn top_actors(&self, n: usize) -> Vec<(&str, u64)> {
        let mut v: Vec<_> = self.actors.iter().map(|(a, c)| (a.as_str(), *c)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        v.truncate(n);
        v
    }

    /// The hour with most rows (the earliest of equals).
    #[must_use]
    pub fn busiest_hour(&self) -> Option<(i64, u64)> {
        self.hours.iter().map(|(h, c)| (*h, *c)).max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn create_user(error: Option<&str>) -> Value {
        let mut r = json!({
            "eventTime": "2024-03-01T10:00:00Z",
            "eventSource": "iam.amazonaws.com",
            "eventName": "CreateUser",
            "eventType": "AwsApiCall",
            "awsRegion": "us-east-1",
            "sourceIPAddress": "203.0.113.7",
            "userIdentity": {"type": "IAMUser", "userName": "mallory", "accountId": "444455556666"},
            "requestParameters": {"userName": "backdoor-1"},
            "recipientAccountId": "444455556666",
            "eventID": "e1"
        });
        if let Some(e) = error {
            r["errorCode"] = e.into();
        }
        r
    }

    #[test]
    fn phrases_are_summary_words_without_the_columns() {
        let n = actions::describe(&create_user(None)).unwrap();
        assert_eq!(phrase(&n), "created IAM user backdoor-1");
        let n = actions::describe(&create_user(Some("AccessDenied"))).unwrap();
        assert_eq!(phrase(&n), "tried to create IAM user backdoor-1");
        let login = json!({"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin",
            "userIdentity":{"type":"IAMUser","userName":"alice"},
            "responseElements":{"ConsoleLogin":"Failure"},"additionalEventData":{"MFAUsed":"No"}});
        let row = notable(&login).unwrap();
        assert_eq!(row.detail, "tried to sign in to the console without MFA");
        assert_eq!(row.error_code.as_deref(), Some("Failure"));
        assert_eq!(row.titles, ["notable: console-login"]);
        let root = json!({"eventSource":"s3.amazonaws.com","eventName":"PutBucketPolicy",
            "userIdentity":{"type":"Root"},"readOnly":false});
        assert_eq!(notable(&root).unwrap().detail, "called PutBucketPolicy as root");
        let attach = json!({"eventSource":"iam.amazonaws.com","eventName":"AttachUserPolicy",
            "userIdentity":{"type":"Root","accountId":"1"},
            "requestParameters":{"userName":"bob","policyArn":"arn:aws:iam::aws:policy/AdministratorAccess"}});
        assert_eq!(
            notable(&attach).unwrap().detail,
            "attached policy arn:aws:iam::aws:policy/AdministratorAccess to user bob"
        );
        assert!(notable(&json!({"eventName":"GetObject"})).is_none());
    }

    #[test]
    fn detection_rows_merge_rules_most_severe_first() {
        let rules = crate::audit::packs::all().unwrap();
        let v = create_user(None);
        let ids = crate::audit::matching(&rules, &v);
        assert!(!ids.is_empty());
        let row = detection(&rules, &ids, &v);
        assert_eq!(row.kind, Kind::Detection);
        assert_eq!(row.rules.len(), ids.len());
        let levels: Vec<Severity> = row
            .rules
            .iter()
            .map(|id| rules.iter().find(|r| &r.id == id).unwrap().severity)
            .collect();
        assert!(levels.windows(2).all(|w| w[0] >= w[1]), "{levels:?}");
        assert_eq!(row.level, levels[0]);
        assert_eq!(row.actor, "mallory");
        assert_eq!(row.account.as_deref(), Some("444455556666"));
        assert_eq!(row.detail, "created IAM user backdoor-1");
        assert_eq!(row.time, Some(1_709_287_200_000_000_000));
        // No action phrase: the request parameters, shortened.
        let other = json!({"eventName":"GetObject","requestParameters":{"bucketName":"b"}});
        assert_eq!(
            detection(&rules, &ids, &other).detail,
            r#"requestParameters: {"bucketName":"b"}"#
        );
        let failed = json!({"eventName":"X","errorCode":"AccessDenied","errorMessage":"no"});
        let row = detection(&rules, &ids, &failed);
        assert_eq!((row.detail.as_str(), row.error_code.as_deref()), ("no", Some("AccessDenied")));
        assert_eq!(row.time, None);
    }

    #[test]
    fn notable_patterns_cover_every_described_record() {
        let patterns = notable_patterns().unwrap();
        let any = |v: &Value| patterns.iter().any(|p| p.matches_record(v));
        for a in actions::CATALOGUE {
            let v = json!({"eventSource": a.source, "eventName": a.event,
                "userIdentity": {"type": "IAMUser", "userName": "u"}});
            assert!(actions::describe(&v).is_some() && any(&v), "{}", a.event);
        }
        let root = json!({"eventSource":"s3.amazonaws.com","eventName":"PutBucketPolicy",
            "userIdentity":{"type":"Root"}});
        assert!(actions::describe(&root).is_some() && any(&root));
        assert!(!any(&json!({"eventSource":"s3.amazonaws.com","eventName":"GetObject",
            "userIdentity":{"type":"IAMUser"}})));
    }

    #[test]
    fn tally_counts_levels_rules_actors_and_hours() {
        let rules = crate::audit::packs::all().unwrap();
        let v = create_user(None);
        let row = detection(&rules, &crate::audit::matching(&rules, &v), &v);
        let mut t = Tally::new(&rules);
        t.add(&row, Some(10));
        t.add(&row, Some(10));
        t.add(&notable(&v).unwrap(), Some(11));
        assert_eq!(t.total(), 3);
        assert_eq!(t.levels[level_index(row.level)], 2);
        assert_eq!(t.levels[0], 1);
        assert_eq!(t.top_actors(5), [("mallory", 3)]);
        assert_eq!(t.top_rules(1)[0].3, 2);
        assert_eq!(t.busiest_hour(), Some((10, 2)));
    }
}
