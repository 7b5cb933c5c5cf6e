//! `audit --emit-sql`: one query per rule, so the same detections run where the data lives.
//!
//! A plain rule is a `SELECT` of its matching rows. A threshold rule (`count` matches with the
//! same `by` values within `within`) is a `GROUP BY` of its `by` values over a window count:
//! for each matching event, the matching events of its group from its time to `within` later
//! (inclusive, as in [`crate::audit::threshold`]); a group is reported when some event opens a
//! window of at least `count`. The groups reported are exactly the groups `trailscan audit`
//! reports findings for, and `first_window_start` is the start of its first finding; trailscan's
//! later findings are non-overlapping windows taken greedily, which SQL does not replay, so
//! `windows` counts every event that opens a full window (at least trailscan's count).

use super::dialect::Dialect;
use super::{Options, Translation, condition};
use crate::audit::Rule;
use crate::lake::schema::{self, Place};
use crate::query::{Filters, Query};

/// One rule's SQL.
#[derive(Debug, Clone)]
pub struct RuleSql {
    /// The rule id.
    pub id: String,
    /// The statement, with its header comment.
    pub sql: String,
    /// The pattern's translation (exact or a superset, and why).
    pub translation: Translation,
}

/// A `by` path as a text expression of the row, and whether it is exact.
fn group_expr(path: &str, o: &Options) -> (String, Option<String>) {
    let d = o.dialect;
    let json = |col: &str, keys: &[String]| -> String {
        let p = format!("$.{}", keys.join("."));
        match d {
            Dialect::Duckdb => format!("json_extract_string({col}, {})", d.lit(&p)),
            Dialect::Athena | Dialect::Trino => {
                format!("json_extract_scalar({col}, {})", d.lit(&p))
            }
            Dialect::Spark => format!("get_json_object({col}, {})", d.lit(&p)),
        }
    };
    match schema::place(path) {
        Place::Column(names, _) => (names.join("."), None),
        Place::InJson(col, keys) if !keys.is_empty() => (
            json(col, &keys),
            Some(format!("{path}: grouped by its text (a value inside an array is not reached)")),
        ),
        _ if o.has_raw() => (
            json("raw", &path.split('.').map(str::to_owned).collect::<Vec<_>>()),
            Some(format!("{path}: grouped by its text read from raw")),
        ),
        _ => (
            "CAST(NULL AS VARCHAR)".into(),
            Some(format!("{path} is not a column: every row is in one group")),
        ),
    }
}

/// Seconds since the epoch (with fractions) of `eventtime`, NULL when it does not parse.
fn epoch(d: Dialect) -> &'static str {
    match d {
        Dialect::Duckdb => "epoch(TRY_CAST(eventtime AS TIMESTAMPTZ))",
        Dialect::Athena | Dialect::Trino => "to_unixtime(TRY(from_iso8601_timestamp(eventtime)))",
        Dialect::Spark => "CAST(to_timestamp(eventtime) AS DOUBLE)",
    }
}

/// The SQL of every rule, with the audit's filters (flags and time window) AND-ed in.
#[must_use]
pub fn rules_sql(rules: &[Rule], query: &Query, filters: &Filters, o: &Options) -> Vec<RuleSql> {
    rules
        .iter()
        .map(|rule| {
            let tr = condition(query.flags(), &[&rule.pattern], query.window(), filters, o);
            let mut head = format!(
                "-- rule {} ({}): {}\n",
                rule.id,
                rule.severity,
                rule.title.replace(['\n', '\r'], " ")
            );
            let mut notes = tr.notes.clone();
            let body = match &rule.threshold {
                None => super::select(&tr, o),
                Some(t) => {
                    let d = o.dialect;
                    let groups: Vec<(String, String)> = t
                        .by
                        .iter()
                        .enumerate()
                        .map(|(i, p)| {
                            let (e, note) = group_expr(p, o);
                            if let Some(n) = note {
                                notes.push(n);
                            }
                            (e, format!("g{}", i + 1))
                        })
                        .collect();
                    let sel: Vec<String> = groups.iter().map(|(e, a)| format!("{e} AS {a}")).collect();
                    let names: Vec<String> = groups.iter().map(|(_, a)| a.clone()).collect();
                    let partition = if names.is_empty() {
                        String::new()
                    } else {
                        format!("PARTITION BY {} ", names.join(", "))
                    };
                    head.push_str(
                        "-- groups and first_window_start as trailscan audit reports them; windows counts every event that opens a full window (doc/sql.md)\n",
                    );
                    head.push_str(&format!(
                        "-- threshold: at least {} matches with the same {} within {} ({} s); g1.. are: {}\n",
                        t.count,
                        if t.by.is_empty() { "(no by)".to_string() } else { t.by.join(", ") },
                        t.within,
                        t.within_secs,
                        if t.by.is_empty() { "-".to_string() } else { t.by.join(", ") }
                    ));
                    let group_by = if names.is_empty() {
                        String::new()
                    } else {
                        format!("\nGROUP BY {}", names.join(", "))
                    };
                    let cols = if names.is_empty() { String::new() } else { format!("{}, ", names.join(", ")) };
                    format!(
                        "WITH m AS (\n  SELECT {sel}eventtime, {ep} AS ts\n  FROM {table}\n  WHERE {cond}\n),\nw AS (\n  SELECT *, COUNT(*) OVER ({partition}ORDER BY ts RANGE BETWEEN CURRENT ROW AND {within} FOLLOWING) AS n\n  FROM m\n  WHERE ts IS NOT NULL\n)\nSELECT {cols}MIN(eventtime) AS first_window_start, COUNT(*) AS windows, MAX(n) AS max_events\nFROM w\nWHERE n >= {count}{group_by}",
                        sel = if sel.is_empty() { String::new() } else { format!("{}, ", sel.join(", ")) },
                        ep = epoch(d),
                        table = super::from(o),
                        cond = tr.condition,
                        within = t.within_secs,
                        count = t.count.max(1),
                    )
                }
            };
            if notes.is_empty() {
                head.push_str(if rule.threshold.is_some() { "-- pattern: exact\n" } else { "-- exact\n" });
            } else {
                head.push_str("-- SUPERSET (recheck the rows with `trailscan search - --pattern` of the rule):\n");
                for n in &notes {
                    head.push_str(&format!("--   {n}\n"));
                }
            }
            RuleSql {
                id: rule.id.clone(),
                sql: format!("{head}{body};\n"),
                translation: Translation { condition: tr.condition, notes },
            }
        })
        .collect()
}
