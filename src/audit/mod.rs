//! `trailscan audit`: named rules (EventBridge patterns with a severity, documentation and an
//! optional threshold) evaluated over the hits of one scan.
//!
//! [`rule`] is the rule model and the rule-file loader, [`packs`] the built-in packs,
//! [`threshold`] the windows of threshold rules; [`Tester`] reads raw records and tests the
//! rules (the pass shared by `audit`, `timeline` and `report`); [`Auditor`] turns matched
//! records into findings and keeps a summary per rule.

pub mod packs;
pub mod rule;
pub mod sigma;
pub mod threshold;

use crate::output::lookup;
use crate::record::{actor::actor, time};
pub use rule::{Rule, Severity, Threshold};
use serde_json::Value;
use std::path::PathBuf;

/// The rules for `--pack` and `--rules` (all built-in packs when both are empty). Rule ids must
/// be unique across everything selected.
pub fn select(packs: &[String], files: &[PathBuf]) -> anyhow::Result<Vec<Rule>> {
    let mut rules = Vec::new();
    if packs.is_empty() && files.is_empty() {
        rules = packs::all()?;
    }
    for p in packs {
        if rules.iter().any(|r: &Rule| &r.origin == p) {
            continue;
        }
        rules.extend(packs::load(p)?);
    }
    let mut errors = Vec::new();
    for f in files {
        match rule::load_path(f) {
            Ok(r) => rules.extend(r),
            Err(e) => errors.extend(e),
        }
    }
    for (i, r) in rules.iter().enumerate() {
        if let Some(o) = rules[..i].iter().find(|o| o.id == r.id) {
            errors
                .push(format!("{}: rule {}: duplicate id (also in {})", r.origin, r.id, o.origin));
        }
    }
    if !errors.is_empty() {
        anyhow::bail!("invalid rules:\n{}", errors.join("\n"));
    }
    Ok(rules)
}

/// Indices of the rules `record` matches. The EventBridge envelope is built once per record,
/// and only when some envelope rule needs it. ([`Tester`] does the same without copying the
/// record, from its raw text.)
#[must_use]
pub fn matching(rules: &[Rule], record: &Value) -> Vec<usize> {
    let mut envelope: Option<Value> = None;
    let mut out = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let hit = match (rule.sigma.is_some(), rule.pattern.view) {
            (false, crate::query::View::Envelope) => {
                let env =
                    envelope.get_or_insert_with(|| crate::record::envelope::wrap(record.clone()));
                rule.pattern.pattern.matches(env)
            }
            _ => rule_matches(rule, record, None),
        };
        if hit {
            out.push(i);
        }
    }
    out
}

/// Whether `rule` matches `record`, whose envelope (with the record as `detail`) is `env`
/// (needed only by envelope rules).
fn rule_matches(rule: &Rule, record: &Value, env: Option<&Value>) -> bool {
    if let Some(s) = &rule.sigma {
        // A Sigma detection is its boolean tree; a correlation matches no single record.
        return matches!(&s.kind, sigma::Kind::Detection(e) if e.matches(record));
    }
    match (rule.pattern.view, env) {
        (crate::query::View::Record, _) => rule.pattern.pattern.matches(record),
        (crate::query::View::Envelope, Some(env)) => rule.pattern.pattern.matches(env),
        (crate::query::View::Envelope, None) => rule.pattern.matches_record(record),
    }
}

/// The rules of one audit pass, ready to test raw records: built once, shared by the worker
/// threads. A record is read once, keeping only what the rules read and what a finding needs
/// (`eventTime`, the actor, threshold and correlation groups), with every other byte checked
/// as `serde_json` checks it (so a record it cannot read is the record a whole parse cannot
/// read, with the same error); the envelope rules see it wrapped without a copy. Every rule is
/// its compiled pattern (or Sigma tree), matched by the one matcher, on a record that holds
/// every path the pattern reads: the same answer as on the whole record ([`matching`]).
#[derive(Debug)]
pub struct Tester<'r> {
    rules: &'r [Rule],
    keep: crate::record::KeepSet,
    by_name: ByName,
}

/// Which rules can match a record, by its `eventName` ([`crate::pattern::Pattern::string_keys`]
/// of each rule's pattern; for a Sigma rule, of the pattern its every match matches): most
/// rules name the events they are about, so most records are tested against a few rules.
#[derive(Debug, Default)]
struct ByName {
    /// Rules that name no events (or not so simply): always tested.
    always: Vec<usize>,
    /// The other rules (but correlations), by the names they need: the index the query's
    /// record prefilter uses too.
    names: crate::query::prefilter::NameIndex,
    /// Rules matched against the envelope.
    envelope: Vec<bool>,
}

impl ByName {
    fn new(rules: &[Rule]) -> ByName {
        let mut b = ByName::default();
        for (i, r) in rules.iter().enumerate() {
            let envelope = r.sigma.is_none() && r.pattern.view == crate::query::View::Envelope;
            b.envelope.push(envelope);
            if matches!(r.sigma.as_ref().map(|s| &s.kind), Some(sigma::Kind::Correlation(_))) {
                // Matches no record.
                continue;
            }
            // A Sigma rule's pattern is in the record's view.
            match r.pattern.event_name_keys() {
                Some(keys) => b.names.add(i, keys),
                None => b.always.push(i),
            }
        }
        b
    }

    /// The rules that can match a record (in rule order), and whether one of them reads the
    /// envelope.
    fn candidates(&self, record: &Value, all: usize) -> (Vec<usize>, bool) {
        let mut out = self.always.clone();
        match record.get("eventName") {
            // The record's only leaf at `eventName`.
            Some(Value::String(name)) => {
                self.names.any(name, |i| {
                    out.push(i);
                    false
                });
                out.sort_unstable();
                out.dedup();
            }
            // No name, or not one string: every rule decides.
            _ => out = (0..all).collect(),
        }
        let envelope = out.iter().any(|&i| self.envelope[i]);
        (out, envelope)
    }
}

impl<'r> Tester<'r> {
    /// A tester for `rules`.
    #[must_use]
    pub fn new(rules: &'r [Rule]) -> Self {
        let mut paths: Vec<String> = vec!["eventTime".into()];
        paths.extend(crate::record::actor::ACTOR_FIELDS.iter().map(|p| (*p).to_string()));
        paths.push("eventName".into());
        for r in rules {
            if let Some(t) = &r.threshold {
                paths.extend(t.by.iter().cloned());
            }
            match r.sigma.as_ref().map(|s| &s.kind) {
                Some(sigma::Kind::Detection(e)) => paths.extend(e.field_paths()),
                Some(sigma::Kind::Correlation(c)) => {
                    paths.extend(c.group_by.iter().cloned());
                    paths.extend(c.field.iter().cloned());
                }
                None => paths.extend(r.pattern.record_paths()),
            }
        }
        Tester { rules, keep: crate::record::KeepSet::new(paths), by_name: ByName::new(rules) }
    }

    /// The rules.
    #[must_use]
    pub fn rules(&self) -> &'r [Rule] {
        self.rules
    }

    /// Reads one raw record and tests every rule: the record as read (only the paths the
    /// rules and findings need; enough for [`Auditor::record_matched`]) and the indices of the
    /// rules it matches. `Err` exactly when `serde_json::from_str::<Value>(raw)` fails, with
    /// its error.
    pub fn test(&self, raw: &str) -> serde_json::Result<(Value, Vec<usize>)> {
        Ok(self.test_value(self.keep.project_checked(raw)?))
    }

    /// Tests a record already read (whole, or as [`Tester::test`] reads it); gives it back
    /// with the indices of the rules it matches, as [`matching`] would.
    #[must_use]
    pub fn test_value(&self, record: Value) -> (Value, Vec<usize>) {
        let (candidates, envelope) = self.by_name.candidates(&record, self.rules.len());
        if candidates.is_empty() {
            return (record, candidates);
        }
        if !envelope {
            let ids = self.ids(&candidates, &record, None);
            return (record, ids);
        }
        // The record moves into its envelope and back out: no copy.
        let env = crate::record::envelope::wrap(record);
        let ids = match env.get("detail") {
            Some(rec) => self.ids(&candidates, rec, Some(&env)),
            None => Vec::new(),
        };
        let record = match env {
            Value::Object(mut m) => m.remove("detail").unwrap_or(Value::Null),
            other => other,
        };
        (record, ids)
    }

    fn ids(&self, candidates: &[usize], record: &Value, env: Option<&Value>) -> Vec<usize> {
        candidates.iter().copied().filter(|&i| rule_matches(&self.rules[i], record, env)).collect()
    }
}

/// One matched record.
#[derive(Debug, Clone)]
pub struct Matched {
    /// `eventTime` as written, if any.
    pub event_time: Option<String>,
    /// `eventTime` in nanoseconds, if it parses.
    pub time: Option<i64>,
    /// Who acted.
    pub actor: String,
    /// The raw record.
    pub raw: String,
}

/// A finding: one record for a plain rule, one window for a threshold rule.
#[derive(Debug, Clone)]
pub struct Finding {
    /// Index of the rule in the auditor's rules.
    pub rule: usize,
    /// The records, in time order.
    pub records: Vec<Matched>,
    /// For threshold rules: the `by` paths and their values in this window.
    pub group: Option<Vec<(String, Value)>>,
}

impl Finding {
    /// The earliest and latest `eventTime` texts.
    #[must_use]
    pub fn span(&self) -> (Option<&str>, Option<&str>) {
        let first = self.records.iter().filter(|m| m.time.is_some()).min_by_key(|m| m.time);
        let last = self.records.iter().filter(|m| m.time.is_some()).max_by_key(|m| m.time);
        fn text(m: Option<&Matched>) -> Option<&str> {
            m.and_then(|m| m.event_time.as_deref())
        }
        (text(first).or_else(|| text(self.records.first())), text(last))
    }
}

/// What a rule produced, for the summary table.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Findings (records, or windows for threshold rules).
    pub findings: u64,
    /// Records in those findings.
    pub events: u64,
    /// Earliest eventTime (nanoseconds, text).
    pub first: Option<(i64, String)>,
    /// Latest eventTime.
    pub last: Option<(i64, String)>,
    /// The first few distinct actors.
    pub actors: Vec<String>,
    /// More distinct actors than shown.
    pub more_actors: bool,
}

/// Actors listed per rule in the summary.
pub const SAMPLE_ACTORS: usize = 3;

struct Candidate {
    group: Vec<(String, Value)>,
    matched: Matched,
    /// For a correlation: which of its rules matched (index in its `rules`), and the value
    /// of a `value_count` field.
    base: usize,
    value: Option<String>,
}

/// Tests records against rules and turns matches into findings.
pub struct Auditor<'r> {
    rules: &'r [Rule],
    pending: Vec<Vec<threshold::Event<Candidate>>>,
    summaries: Vec<Summary>,
    /// Per rule: the Sigma correlations reading its matches (correlation index, position in
    /// its `rules`).
    feeds: Vec<Vec<(usize, usize)>>,
    /// Per rule: matches make no finding of their own (a Sigma rule read by a correlation
    /// without `generate: true`, or kept only for a correlation).
    quiet: Vec<bool>,
    /// Records of threshold rules dropped because their eventTime does not parse.
    pub untimed: u64,
}

impl<'r> Auditor<'r> {
    /// An auditor for `rules`.
    #[must_use]
    pub fn new(rules: &'r [Rule]) -> Self {
        let mut feeds = vec![Vec::new(); rules.len()];
        let mut quiet = vec![false; rules.len()];
        for (c, r) in rules.iter().enumerate() {
            if let Some(s) = &r.sigma
                && let sigma::Kind::Correlation(corr) = &s.kind
            {
                for (pos, id) in corr.rule_ids.iter().enumerate() {
                    if let Some(b) = rules.iter().position(|x| &x.id == id) {
                        feeds[b].push((c, pos));
                        quiet[b] |= !corr.generate;
                    }
                }
            }
        }
        Auditor {
            rules,
            pending: rules.iter().map(|_| Vec::new()).collect(),
            summaries: vec![Summary::default(); rules.len()],
            feeds,
            quiet,
            untimed: 0,
        }
    }

    /// Rules below `min` make no finding of their own (they are kept only because a
    /// correlation reads them).
    pub fn quiet_below(&mut self, min: Severity) {
        for (i, r) in self.rules.iter().enumerate() {
            self.quiet[i] |= r.severity < min;
        }
    }

    /// The rules.
    #[must_use]
    pub fn rules(&self) -> &'r [Rule] {
        self.rules
    }

    /// Tests one raw record against every rule: findings of plain rules now, threshold rules'
    /// candidates kept for [`Auditor::finish`].
    pub fn record(&mut self, raw: &str) -> serde_json::Result<Vec<Finding>> {
        let v: Value = serde_json::from_str(raw)?;
        let ids = matching(self.rules, &v);
        Ok(self.record_matched(raw, &v, &ids))
    }

    /// Like [`Auditor::record`] for a record already parsed and tested ([`matching`], which can
    /// run on another thread).
    pub fn record_matched(&mut self, raw: &str, v: &Value, ids: &[usize]) -> Vec<Finding> {
        self.record_matched_owned(raw.to_string(), v, ids)
    }

    /// Like [`Auditor::record_matched`], taking the raw record (no copy of it for one rule;
    /// one per further rule).
    pub fn record_matched_owned(&mut self, raw: String, v: &Value, ids: &[usize]) -> Vec<Finding> {
        let mut out = Vec::new();
        let mut raw = Some(raw);
        let mut matched: Option<Matched> = None;
        let mut make = || {
            let event_time = v.get("eventTime").and_then(Value::as_str).map(str::to_owned);
            let time =
                event_time.as_deref().and_then(time::parse_event_time).and_then(time::sort_key);
            Matched { event_time, time, actor: actor(v), raw: raw.take().unwrap_or_default() }
        };
        for (k, &i) in ids.iter().enumerate() {
            let rule = &self.rules[i];
            // The last rule takes the record; the others a copy.
            let m = if k + 1 == ids.len() {
                matched.take().unwrap_or_else(&mut make)
            } else {
                matched.get_or_insert_with(&mut make).clone()
            };
            for &(c, pos) in &self.feeds[i] {
                let Some(time) = m.time else {
                    self.untimed += 1;
                    continue;
                };
                let Some(sigma::Kind::Correlation(corr)) =
                    self.rules[c].sigma.as_ref().map(|s| &s.kind)
                else {
                    continue;
                };
                let group: Vec<(String, Value)> = corr
                    .group_by
                    .iter()
                    .map(|p| (p.clone(), lookup(v, p).cloned().unwrap_or(Value::Null)))
                    .collect();
                let key = serde_json::to_string(&group.iter().map(|g| &g.1).collect::<Vec<_>>())
                    .unwrap_or_default();
                let value = corr
                    .field
                    .as_deref()
                    .and_then(|f| lookup(v, f))
                    .and_then(|x| if x.is_null() { None } else { Some(x.to_string()) });
                self.pending[c].push(threshold::Event {
                    group: key,
                    time,
                    data: Candidate { group, matched: m.clone(), base: pos, value },
                });
            }
            if self.quiet[i] {
                continue;
            }
            match &rule.threshold {
                None => {
                    let f = Finding { rule: i, records: vec![m], group: None };
                    self.account(&f);
                    out.push(f);
                }
                Some(t) => {
                    let Some(time) = m.time else {
                        self.untimed += 1;
                        continue;
                    };
                    let group: Vec<(String, Value)> =
                        t.by.iter()
                            .map(|p| (p.clone(), lookup(v, p).cloned().unwrap_or(Value::Null)))
                            .collect();
                    let key =
                        serde_json::to_string(&group.iter().map(|g| &g.1).collect::<Vec<_>>())
                            .unwrap_or_default();
                    self.pending[i].push(threshold::Event {
                        group: key,
                        time,
                        data: Candidate { group, matched: m, base: 0, value: None },
                    });
                }
            }
        }
        out
    }

    /// The findings of threshold rules, rule by rule.
    pub fn finish(&mut self) -> Vec<Finding> {
        let mut out = Vec::new();
        for i in 0..self.rules.len() {
            let events = std::mem::take(&mut self.pending[i]);
            let windows =
                match (&self.rules[i].threshold, self.rules[i].sigma.as_ref().map(|s| &s.kind)) {
                    (Some(t), _) => threshold::windows(events, t.count, t.within_secs),
                    (None, Some(sigma::Kind::Correlation(c))) => {
                        threshold::windows_where(events, c.timespan_secs, |w| {
                            correlation_fires(c, w)
                        })
                    }
                    _ => continue,
                };
            for (_, window) in windows {
                let group = window.first().map(|e| e.data.group.clone());
                let records = window.into_iter().map(|e| e.data.matched).collect();
                let f = Finding { rule: i, records, group };
                self.account(&f);
                out.push(f);
            }
        }
        out
    }

    /// Whether matches of rule `i` make findings of their own.
    #[must_use]
    pub fn reports(&self, i: usize) -> bool {
        !self.quiet[i]
    }

    /// Per-rule summaries, in rule order.
    #[must_use]
    pub fn summaries(&self) -> &[Summary] {
        &self.summaries
    }

    fn account(&mut self, f: &Finding) {
        let s = &mut self.summaries[f.rule];
        s.findings += 1;
        s.events += f.records.len() as u64;
        for m in &f.records {
            if let (Some(t), Some(text)) = (m.time, &m.event_time) {
                if s.first.as_ref().is_none_or(|(ft, _)| t < *ft) {
                    s.first = Some((t, text.clone()));
                }
                if s.last.as_ref().is_none_or(|(lt, _)| t > *lt) {
                    s.last = Some((t, text.clone()));
                }
            }
            if !s.actors.contains(&m.actor) {
                if s.actors.len() < SAMPLE_ACTORS {
                    s.actors.push(m.actor.clone());
                } else {
                    s.more_actors = true;
                }
            }
        }
    }
}

/// Does a window of a correlation's candidates (in time order) fire?
fn correlation_fires(c: &sigma::Correlation, w: &[&threshold::Event<Candidate>]) -> bool {
    use sigma::CorrelationType as T;
    match c.kind {
        T::EventCount => c.holds(w.len() as u64),
        T::ValueCount => {
            let mut vals: Vec<&str> = w.iter().filter_map(|e| e.data.value.as_deref()).collect();
            vals.sort_unstable();
            vals.dedup();
            c.holds(vals.len() as u64)
        }
        T::Temporal => {
            let mut seen: Vec<usize> = w.iter().map(|e| e.data.base).collect();
            seen.sort_unstable();
            seen.dedup();
            if c.condition.is_empty() {
                seen.len() == c.rules.len()
            } else {
                c.holds(seen.len() as u64)
            }
        }
        T::TemporalOrdered => {
            // The rules occur in the order given (each after the previous one).
            let mut next = 0;
            for e in w {
                if next < c.rules.len() && e.data.base == next {
                    next += 1;
                }
            }
            next == c.rules.len()
        }
    }
}
