//! `report`: one self-contained, interactive HTML page of an archive (or of the records a
//! search selects), written for an analyst to open first and forward as it is.
//!
//! One pass through the engine ([`crate::commands::report`]): each record is counted by the
//! summary ([`crate::summary`]: counts, top values, notable actions, timeline) and, in the
//! same walk of its text, remembered by the ids of its values in its thread's dictionaries
//! ([`collect`]); the audit rules are tested on it. Once the summary knows the top values,
//! those records make a cube of (time bucket, top value of each counted field) cells, so
//! that the page filters exactly by any value it shows and any time range; profiles of the
//! top actors; and a bounded sample of the records behind each number, whose texts are read
//! again from the few files that hold them.
//!
//! The page ([`page`]) embeds that as JSON in a `<script type="application/json">` element
//! (escaped so that no string can end it) and draws it with inline JavaScript through
//! `textContent` and DOM nodes only; a Content-Security-Policy allows exactly its one script
//! and one style (by hash), and nothing from the network.

pub mod collect;
pub mod page;

use crate::audit::{Finding, Rule};
use crate::stats::Stats;
use crate::summary::actions::Notable;
use crate::summary::{self, Bucket, DIMENSIONS};
use collect::{CellKey, DIMS, Lookup, NONE, OTHER, Pass};
/// Where the actor is in [`DIMENSIONS`].
const ACTOR: usize = 2;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The page's data schema.
pub const SCHEMA: &str = "trailscan-report/2";
/// Cube cells embedded at most: past this, fields keep fewer values filterable, in the steps
/// of [`COLLAPSE_STEPS`], until the cube fits.
pub const MAX_CELLS: usize = 60_000;
/// (field, values kept filterable): user agents, source IPs, actors and events first keep
/// their top 10, then user agents and IPs none, actors 5, and so on; the values beyond are
/// merged as "other values".
pub const COLLAPSE_STEPS: [(usize, u16); 14] = [
    (4, 10),
    (3, 10),
    (2, 10),
    (1, 10),
    (4, 0),
    (3, 0),
    (2, 5),
    (1, 5),
    (0, 10),
    (2, 0),
    (1, 0),
    (0, 0),
    (7, 0),
    (6, 0),
];
/// Notable actions embedded at most (the earliest).
pub const MAX_NOTABLE: usize = 1_000;
/// Findings shown per rule, and records per finding.
pub const FINDINGS_PER_RULE: usize = 25;
/// Records embedded per finding.
pub const RECORDS_PER_FINDING: usize = 10;
/// Actors profiled (the most active).
pub const MAX_IDENTITIES: usize = 25;
/// Values listed per profile list (services, IPs...).
const PROFILE_LIST: usize = 12;

/// How a report is made.
#[derive(Debug, Clone)]
pub struct Options {
    /// Rows per top table.
    pub top: usize,
    /// Records kept per top value of each field.
    pub per_value: usize,
    /// Cube cells embedded at most ([`MAX_CELLS`] by default).
    pub max_cells: usize,
    /// Timeline bucket (`None`: by span).
    pub bucket: Option<Bucket>,
    /// The report's inputs and filter flags (`{"paths": [...], "flags": [[flag, value]...]}`):
    /// the page builds from them the `trailscan search` command that lists every record behind
    /// a number (and the `summary` that lists every notable action).
    pub command: Value,
    /// What the audit ran: a line for the page.
    pub audit_note: String,
    /// The credential trace drawn ([`trace_json`]), when seeds were given.
    pub trace: Option<Value>,
}

/// The top values of each field in a summary report (the rows the page shows).
#[must_use]
pub fn top_values(report: &summary::Report) -> [Vec<String>; DIMS] {
    let mut v: [Vec<String>; DIMS] = Default::default();
    for (slot, (name, _, _)) in v.iter_mut().zip(DIMENSIONS) {
        if let Some(t) = report.table(name) {
            *slot = t.rows.iter().map(|r| r.value.clone()).collect();
        }
    }
    v
}

/// The bucket size in seconds.
#[must_use]
pub fn bucket_seconds(b: Bucket) -> i64 {
    match b {
        Bucket::Hour => 3600,
        Bucket::Day => 86_400,
    }
}

fn id_json(id: u16) -> i64 {
    match id {
        OTHER => -1,
        NONE => -2,
        n => i64::from(n),
    }
}

fn secs(nanos: i64) -> i64 {
    nanos.div_euclid(1_000_000_000)
}

/// Bits of a value id in a [`Packed`] key: the top values (at most 1,000), then "no error"
/// and "other values".
const ID_BITS: u32 = 10;
const PACKED_NONE: u128 = (1 << ID_BITS) - 2;
const PACKED_OTHER: u128 = (1 << ID_BITS) - 1;

/// A cell's key in one number, ordered as [`CellKey`]: the bucket's place from the first
/// bucket, then the value ids of the fields in order.
pub type Packed = u128;

/// `key` packed, its bucket counted in `bucket`s from `origin`.
#[must_use]
pub fn pack(key: &CellKey, origin: i64, bucket: i64) -> Packed {
    let mut k = u128::from((key.0 - origin).div_euclid(bucket).unsigned_abs());
    for &id in &key.1 {
        let id = match id {
            OTHER => PACKED_OTHER,
            NONE => PACKED_NONE,
            // `--top` is at most 1,000.
            n => u128::from(n).min(PACKED_NONE - 1),
        };
        k = k << ID_BITS | id;
    }
    k
}

/// The key of [`pack`].
#[must_use]
pub fn unpack(k: Packed, origin: i64, bucket: i64) -> CellKey {
    let mut ids = [0u16; DIMS];
    let mut rest = k;
    for id in ids.iter_mut().rev() {
        *id = match rest & PACKED_OTHER {
            PACKED_OTHER => OTHER,
            PACKED_NONE => NONE,
            n => u16::try_from(n).unwrap_or(OTHER),
        };
        rest >>= ID_BITS;
    }
    let steps = i64::try_from(rest).unwrap_or(i64::MAX);
    (origin + steps * bucket, ids)
}

/// `k` with the values of field `d` from `keep` on merged as "other values".
fn collapse(k: Packed, thresholds: &[Option<u16>; DIMS]) -> Packed {
    let mut k = k;
    for (d, t) in thresholds.iter().enumerate() {
        if let Some(t) = t {
            let shift = ID_BITS * u32::try_from(DIMS - 1 - d).unwrap_or(0);
            let id = (k >> shift) & PACKED_OTHER;
            if id < PACKED_NONE && id >= u128::from(*t) {
                k |= PACKED_OTHER << shift;
            }
        }
    }
    k
}

/// Cells, sorted by key, with those of equal key merged.
fn merged(mut cells: Vec<(Packed, collect::Cell)>) -> Vec<(Packed, collect::Cell)> {
    cells.sort_unstable_by_key(|c| c.0);
    let mut out: Vec<(Packed, collect::Cell)> = Vec::with_capacity(cells.len());
    for (k, c) in cells {
        match out.last_mut() {
            Some((last, m)) if *last == k => {
                m.count += c.count;
                m.first = m.first.min(c.first);
                m.last = m.last.max(c.last);
            }
            _ => out.push((k, c)),
        }
    }
    out
}

/// Cells counted by key, sorted by key.
#[must_use]
pub fn cells_of<S: std::hash::BuildHasher>(
    cells: std::collections::HashMap<Packed, collect::Cell, S>,
) -> Vec<(Packed, collect::Cell)> {
    let mut cells: Vec<(Packed, collect::Cell)> = cells.into_iter().collect();
    cells.sort_unstable_by_key(|c| c.0);
    cells
}

/// Merges cells until at most `max` remain, keeping fewer values of the busiest fields
/// filterable ([`COLLAPSE_STEPS`], applied in order until the cells fit; as each step only
/// merges, the first that fits is found by bisection); returns the rows (bucket, ids, count,
/// first, last) in order and, per field, how many of its top values stay filterable (`None`:
/// all). `cells`: packed with `origin` and `bucket` ([`pack`]), each key once.
#[must_use]
pub fn cube_rows(
    cells: &[(Packed, collect::Cell)],
    origin: i64,
    bucket: i64,
    max: usize,
) -> (Vec<Value>, [Option<u16>; DIMS]) {
    // The thresholds per field after the first `n` steps.
    let after = |n: usize| {
        let mut t: [Option<u16>; DIMS] = [None; DIMS];
        for &(d, keep) in &COLLAPSE_STEPS[..n] {
            t[d] = Some(keep);
        }
        t
    };
    let count = |n: usize| {
        if n == 0 {
            return cells.len();
        }
        let t = after(n);
        let mut keys: Vec<Packed> = cells.iter().map(|c| collapse(c.0, &t)).collect();
        keys.sort_unstable();
        keys.dedup();
        keys.len()
    };
    // The fewest steps after which the cells fit (all of them if none does).
    let (mut lo, mut hi) = (0, COLLAPSE_STEPS.len());
    while lo < hi {
        let mid = (lo + hi) / 2;
        if count(mid) <= max {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    let kept = after(lo);
    let cells: Vec<(Packed, collect::Cell)> = if lo == 0 {
        cells.to_vec()
    } else {
        merged(cells.iter().map(|(k, c)| (collapse(*k, &kept), *c)).collect())
    };
    let rows = cells.into_iter().map(|(k, c)| row_json(k, &c, origin, bucket)).collect();
    (rows, kept)
}

/// A cell as the page embeds it, in small numbers: (bucket's place from `origin`, ids,
/// count, first and last seconds from the bucket's start); the page reads it back as (bucket
/// start, ids, count, first, last).
fn row_json(k: Packed, c: &collect::Cell, origin: i64, bucket: i64) -> Value {
    let (b, ids) = unpack(k, origin, bucket);
    let mut row = vec![json!((b - origin).div_euclid(bucket))];
    row.extend(ids.iter().map(|&i| json!(id_json(i))));
    row.extend([json!(c.count), json!(secs(c.first) - b), json!(secs(c.last) - b)]);
    Value::Array(row)
}

/// For the profiled actors the cube does not keep apart (`kept[actor]`: how many it does),
/// their own cells, collapsed on the other fields as the cube is (`kept`), so that the
/// page's filters count them too: each whose cells still fit within `budget`, the most
/// active first. Returns the rows and the actors' ids.
#[must_use]
pub fn identity_rows(
    cells: &[(Packed, collect::Cell)],
    origin: i64,
    bucket: i64,
    kept: &[Option<u16>; DIMS],
    budget: usize,
) -> (Vec<Value>, Vec<u16>) {
    let Some(apart) = kept[ACTOR] else { return (Vec::new(), Vec::new()) };
    let mut others = *kept;
    others[ACTOR] = None;
    let cells = merged(cells.iter().map(|(k, c)| (collapse(*k, &others), *c)).collect());
    let mut by_actor: BTreeMap<u16, Vec<(Packed, collect::Cell)>> = BTreeMap::new();
    for (k, c) in cells {
        let actor = unpack(k, origin, bucket).1[ACTOR];
        if actor >= apart && actor < NONE {
            by_actor.entry(actor).or_default().push((k, c));
        }
    }
    let (mut rows, mut ids) = (Vec::new(), Vec::new());
    for (actor, cells) in by_actor {
        if rows.len() + cells.len() > budget {
            continue;
        }
        ids.push(actor);
        rows.extend(cells.iter().map(|(k, c)| row_json(*k, c, origin, bucket)));
    }
    (rows, ids)
}

fn top_list(m: &rustc_hash::FxHashMap<String, u64>, n: usize) -> Value {
    let mut v: Vec<(&String, &u64)> = m.iter().collect();
    v.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    json!({
        "distinct": v.len(),
        "rows": v.iter().take(n).map(|(k, c)| json!([k, c])).collect::<Vec<_>>(),
    })
}

fn notable_ids(n: &Notable, lookup: &Lookup) -> [u16; DIMS] {
    let vals: [Option<&str>; DIMS] = [
        Some(n.event_source.as_str()),
        Some(n.event_name.as_str()),
        Some(n.actor.as_str()),
        n.source_ip.as_deref().or(Some(summary::MISSING)),
        n.user_agent.as_deref().or(Some(summary::MISSING)),
        n.error_code.as_deref(),
        n.account.as_deref().or(Some(summary::MISSING)),
        n.region.as_deref().or(Some(summary::MISSING)),
    ];
    let mut ids = [OTHER; DIMS];
    for (d, v) in vals.iter().enumerate() {
        ids[d] = lookup.id_of(d, *v);
    }
    ids
}

/// A credential trace as the page draws it: per root, where the evidence ends and the tree.
#[must_use]
pub fn trace_json(tr: &crate::trace::Trace) -> Value {
    use crate::trace::render::{node_details, node_head};
    fn node(tr: &crate::trace::Trace, id: &crate::trace::NodeId, depth: usize) -> Value {
        let info = tr.nodes.get(id);
        let failed = matches!(id, crate::trace::NodeId::Issuance(_))
            && tr.issuance_of(id).is_some_and(|i| i.error.is_some());
        let events = tr.events_of(id);
        // Deep chains are cut (the page says so); `trailscan trace` prints them whole.
        let children: Vec<Value> = if depth < 32 {
            info.map(|n| n.children.iter().map(|c| node(tr, c, depth + 1)).collect())
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        json!({
            "label": tr.label(id),
            "head": node_head(tr, id),
            "details": node_details(tr, id),
            "inferred": matches!(info.and_then(|n| n.link.as_ref()), Some(crate::trace::Link::Inferred(_))),
            "seed": tr.facts.seeds.contains(id),
            "failed": failed,
            "events": events.len(),
            "errors": events.iter().filter(|e| e.error_code.is_some()).count(),
            "cut": depth >= 32 && info.is_some_and(|n| !n.children.is_empty()),
            "children": children,
        })
    }
    json!({
        "seeds": tr.facts.seeds.iter().map(|s| tr.label(s)).collect::<Vec<_>>(),
        "passes": tr.passes,
        "roots": tr.roots().iter().map(|r| json!({ "origin": tr.origin(r), "tree": node(tr, r, 0) })).collect::<Vec<_>>(),
    })
}

/// Everything the page shows, as the JSON document it embeds.
/// The audit's findings as the page shows them: per rule, the first [`FINDINGS_PER_RULE`] in
/// the order the auditor made them, and counts of them all. Findings past those are counted
/// and dropped as they come, so memory holds what the page embeds, however many records fire.
#[derive(Debug, Default)]
pub struct Findings {
    /// By rule (its index in the auditor's rules).
    by_rule: BTreeMap<usize, RuleFindings>,
    /// Findings of every rule.
    total: usize,
}

#[derive(Debug)]
struct RuleFindings {
    /// The first findings, whole.
    shown: Vec<Finding>,
    findings: usize,
    /// Records in all of them.
    events: usize,
    /// Earliest and latest record time (sort keys) of all of them.
    lo: i64,
    hi: i64,
}

impl Findings {
    /// Adds the next finding.
    pub fn add(&mut self, f: Finding) {
        self.total += 1;
        let r = self.by_rule.entry(f.rule).or_insert_with(|| RuleFindings {
            shown: Vec::new(),
            findings: 0,
            events: 0,
            lo: i64::MAX,
            hi: i64::MIN,
        });
        r.findings += 1;
        r.events += f.records.len();
        for t in f.records.iter().filter_map(|m| m.time) {
            r.lo = r.lo.min(t);
            r.hi = r.hi.max(t);
        }
        if r.shown.len() < FINDINGS_PER_RULE {
            r.shown.push(f);
        }
    }

    /// Findings of every rule.
    #[must_use]
    pub fn len(&self) -> usize {
        self.total
    }

    /// No finding.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }
}

impl Extend<Finding> for Findings {
    fn extend<I: IntoIterator<Item = Finding>>(&mut self, findings: I) {
        for f in findings {
            self.add(f);
        }
    }
}

#[allow(clippy::too_many_arguments)]
#[must_use]
pub fn data(
    rep: &summary::Report,
    pass: &mut Pass,
    lookup: &Lookup,
    rules: &[Rule],
    findings: &Findings,
    stats: &Stats,
    opts: &Options,
    audit_ran: bool,
) -> Value {
    let bucket = rep.timeline.bucket;
    // The records of the findings shown join the kept records.
    let reader = collect::FieldReader::default();
    let mut rules_json = Vec::new();
    let mut severities: BTreeMap<&str, usize> = BTreeMap::new();
    for (&r, fs) in &findings.by_rule {
        let rule = &rules[r];
        *severities.entry(rule.severity.as_str()).or_default() += fs.findings;
        let mut shown = Vec::new();
        for f in &fs.shown {
            let mut recs = Vec::new();
            for m in f.records.iter().take(RECORDS_PER_FINDING) {
                if serde_json::from_str::<serde::de::IgnoredAny>(&m.raw).is_err() {
                    continue;
                }
                if let Some(at) = pass.position(&m.raw) {
                    recs.push(at);
                } else if let Ok(fields) = reader.read(&m.raw, lookup) {
                    recs.push(pass.keep(collect::Kept { raw: m.raw.clone(), fields }));
                }
            }
            let (first, last) = f.span();
            let actors: std::collections::BTreeSet<&str> =
                f.records.iter().map(|m| m.actor.as_str()).collect();
            shown.push(json!({
                "first": first,
                "last": last,
                "actors": actors,
                "group": f.group.as_ref().map(|g| g.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>()),
                "events": f.records.len(),
                "records": recs,
            }));
        }
        let (events, lo, hi) = (fs.events, fs.lo, fs.hi);
        rules_json.push(json!({
            "id": rule.id,
            "title": rule.title,
            "severity": rule.severity.as_str(),
            "description": rule.description,
            "origin": rule.origin,
            "tags": rule.tags,
            "threshold": rule.threshold.as_ref().map(|t| format!("{} within {}", t.count, t.within)),
            "findings": fs.findings,
            "events": events,
            "first": (lo <= hi).then(|| secs(lo)),
            "last": (lo <= hi).then(|| secs(hi)),
            "shown": shown,
        }));
    }
    // Notable actions: the earliest, with their records when kept.
    let n = &rep.notable;
    let actions: Vec<Value> = n
        .actions
        .iter()
        .take(MAX_NOTABLE)
        .map(|a| {
            let record = a.event_id.as_deref().and_then(|id| pass.by_event_id(id));
            // Filtered by its record's fields when kept (the same reading as the cube's).
            let ids = record.map_or_else(|| notable_ids(a, lookup), |i| pass.kept[i].fields.ids);
            json!({
                "time": a.time,
                "t": a.sort_time.map(secs),
                "description": a.description,
                "failed": a.failed,
                "error_code": a.error_code,
                "category": a.category,
                "actor": a.actor,
                "event": a.event_name,
                "ids": ids.iter().map(|&i| id_json(i)).collect::<Vec<_>>(),
                "record": record,
            })
        })
        .collect();

    let (cube, filterable) =
        cube_rows(&pass.cube, pass.origin, bucket_seconds(bucket), opts.max_cells);
    // Identities past the actors the cube keeps apart get cells of their own, within half as
    // many cells again.
    let (identity_cube, identity_ids) = identity_rows(
        &pass.profiled_cube,
        pass.origin,
        bucket_seconds(bucket),
        &filterable,
        opts.max_cells / 2,
    );
    let dims: Vec<Value> = DIMENSIONS
        .iter()
        .enumerate()
        .map(|(d, (name, title, field))| {
            let t = rep.table(name);
            json!({
                "key": name,
                "title": title,
                "field": field,
                "distinct": t.map_or(0, |t| t.distinct),
                "records": t.map_or(0, |t| t.records),
                // How many of `values` the page can filter by (the rest: "other values").
                "filterable": filterable[d].map_or_else(|| t.map_or(0, |t| t.rows.len()), usize::from),
                "values": t.map(|t| &t.rows),
            })
        })
        .collect();

    let actors = rep.table("actors").map(|t| t.rows.as_slice()).unwrap_or_default();
    let identities: Vec<Value> = actors
        .iter()
        .enumerate()
        .take(MAX_IDENTITIES)
        .filter_map(|(i, row)| {
            let p = pass.profiles.get(&u16::try_from(i).ok()?)?;
            let mut spark: Vec<(i64, u64)> = p.buckets.iter().map(|(b, n)| (*b, *n)).collect();
            spark.sort_unstable();
            Some(json!({
                "actor": row.value,
                "id": i,
                "count": p.count,
                "first_seen": row.first_seen,
                "last_seen": row.last_seen,
                "spark": spark,
                "services": top_list(&p.services, PROFILE_LIST),
                "ips": top_list(&p.ips, PROFILE_LIST),
                "errors": top_list(&p.errors, PROFILE_LIST),
                "types": top_list(&p.types, PROFILE_LIST),
                "accounts": top_list(&p.accounts, PROFILE_LIST),
            }))
        })
        .collect();

    // The texts move into the page's data (the pass is spent: a record of 100 MB is not
    // copied).
    let records: Vec<Value> = pass
        .kept
        .iter_mut()
        .map(|k| {
            json!({
                "raw": std::mem::take(&mut k.raw),
                "t": k.fields.time.map(secs),
                "ids": k.fields.ids.iter().map(|&i| id_json(i)).collect::<Vec<_>>(),
            })
        })
        .collect();

    json!({
        "schema": SCHEMA,
        "generator": format!("trailscan {}", env!("CARGO_PKG_VERSION")),
        "generated_at": summary::time_text(chrono::Utc::now()),
        "overview": rep.overview,
        "accounting": stats.line(),
        "stats": stats,
        "bucket": bucket,
        "bucket_seconds": bucket_seconds(bucket),
        "undated": pass.undated,
        "dims": dims,
        "cube": cube,
        "max_cells": opts.max_cells,
        "cube_origin": pass.origin,
        "identity_cube": identity_cube,
        "identity_cube_actors": identity_ids,
        "notable": {
            "total": n.total,
            "failed": n.failed,
            "dropped": n.dropped,
            "kept": n.actions.len(),
            "actions": actions,
        },
        "audit": {
            "ran": audit_ran,
            "note": opts.audit_note,
            "rules": rules.len(),
            "findings": findings.len(),
            "severities": severities,
            "by_rule": rules_json,
        },
        "identities": identities,
        "groups": rep.groups.as_ref().map(|g| json!({ "by": g.by, "total": g.total, "rows": g.rows })),
        "records": records,
        "per_value": opts.per_value,
        "command": opts.command,
        "trace": opts.trace,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cube_collapses_the_busiest_fields_first() {
        let mut cells = Vec::new();
        for ip in 0..12u16 {
            let mut ids = [0u16; DIMS];
            ids[3] = ip;
            ids[collect::ERROR_DIM] = NONE;
            let key = pack(&(7200, ids), 3600, 3600);
            assert_eq!(unpack(key, 3600, 3600), (7200, ids));
            let (first, last) = (7_205_000_000_000, 7_209_000_000_000);
            cells.push((key, collect::Cell { count: 2, first, last }));
        }
        let cells = merged(cells);
        let (rows, kept) = cube_rows(&cells, 3600, 3600, 100);
        assert_eq!((rows.len(), kept), (12, [None; DIMS]));
        let (rows, kept) = cube_rows(&cells, 3600, 3600, 5);
        assert_eq!(rows.len(), 1);
        // Keeping the top 10 IPs apart was not enough (11 cells); keeping none was.
        assert_eq!(kept[..5], [None, Some(10), Some(10), Some(0), Some(0)]);
        let row = rows[0].as_array().unwrap();
        assert_eq!(row[0], json!(1), "the second bucket from the origin");
        assert_eq!(row[4], json!(-1), "IP given up");
        assert_eq!(row[6], json!(-2), "no error stays no error");
        assert_eq!(&row[9..], &[json!(24), json!(5), json!(9)]);
        // Keeping 10 of 12 IPs filterable fits in 11 cells.
        let (rows, kept) = cube_rows(&cells, 3600, 3600, 11);
        assert_eq!((rows.len(), kept[3], kept[4]), (11, Some(10), Some(10)));
        // Packed keys sort as the keys do.
        let a = pack(&(3600, [1, 0, 0, 0, 0, NONE, 0, 0]), 0, 3600);
        let b = pack(&(3600, [1, 0, 0, 0, 0, OTHER, 0, 0]), 0, 3600);
        let c = pack(&(7200, [0; DIMS]), 0, 3600);
        assert!(a < b && b < c);
    }
    #[test]
    fn findings_keep_the_first_shown_per_rule_and_count_them_all() {
        let finding = |rule: usize, times: &[i64]| Finding {
            rule,
            records: times
                .iter()
                .map(|&t| crate::audit::Matched {
                    event_time: None,
                    time: Some(t),
                    actor: String::new(),
                    raw: t.to_string(),
                })
                .collect(),
            group: None,
        };
        let mut f = Findings::default();
        for i in 0..40 {
            f.add(finding(3, &[100 - i, 200 + i]));
        }
        f.extend([finding(1, &[5]), finding(1, &[])]);
        assert_eq!(f.len(), 42);
        let r = &f.by_rule[&3];
        assert_eq!((r.findings, r.events, r.lo, r.hi), (40, 80, 61, 239));
        assert_eq!(r.shown.len(), FINDINGS_PER_RULE);
        assert_eq!(r.shown[24].records[0].raw, "76", "the first ones, in order");
        let r = &f.by_rule[&1];
        assert_eq!((r.findings, r.events, r.lo, r.hi, r.shown.len()), (2, 1, 5, 5, 2));
    }

    #[test]
    fn identities_past_those_kept_apart_get_cells_within_a_budget() {
        let cell = |actor: u16, ip: u16| {
            let mut ids = [0u16; DIMS];
            ids[ACTOR] = actor;
            ids[3] = ip;
            (pack(&(0, ids), 0, 3600), collect::Cell { count: 1, first: 0, last: 0 })
        };
        // Actor 1: two IPs; actor 2: three; actor 3: one.
        let cells = merged(vec![
            cell(0, 0),
            cell(1, 0),
            cell(1, 1),
            cell(2, 0),
            cell(2, 1),
            cell(2, 2),
            cell(3, 5),
        ]);
        let mut kept = [None; DIMS];
        assert_eq!(identity_rows(&cells, 0, 3600, &kept, 100).1, Vec::<u16>::new(), "all apart");
        // The cube keeps one actor apart and IPs 0 and 1: the others' cells merge IP 2 and 5.
        kept[ACTOR] = Some(1);
        kept[3] = Some(2);
        let (rows, ids) = identity_rows(&cells, 0, 3600, &kept, 100);
        assert_eq!(ids, [1, 2, 3]);
        assert_eq!(rows.len(), 2 + 3 + 1);
        assert_eq!(rows[5].as_array().unwrap()[1 + 3], json!(-1), "IP 5 is another value");
        // Within 3 cells: actor 1 (2), not 2 (3 more), then 3 (1).
        let (rows, ids) = identity_rows(&cells, 0, 3600, &kept, 3);
        assert_eq!((ids, rows.len()), (vec![1, 3], 3));
    }
}
