//! `trailscan sql` and `audit --emit-sql`: the query as SQL for DuckDB, Athena, Trino or Spark.

use super::Outcome;
use crate::audit::Rule;
use crate::cli::{FilterArgs, SqlArgs, SqlTableArgs};
use crate::config::{self, read_arg};
use crate::query::{Filters, Query};
use crate::sql::{self, Dialect, Options};
use anyhow::{Result, bail};
use std::io::Write;

fn options(dialect: Dialect, t: &SqlTableArgs) -> Result<Options> {
    let ok = !t.table.is_empty()
        && t.table.split('.').all(|p| {
            !p.is_empty()
                && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !p.starts_with(|c: char| c.is_ascii_digit())
        });
    if !ok {
        bail!(
            "--table {:?}: use a plain name, optionally qualified (db.table): letters, digits and _",
            t.table
        );
    }
    Ok(Options { dialect, source: t.from, table: t.table.clone(), raw: t.raw_column })
}

/// Single-quotes a shell word.
fn shell(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:@=,".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The filters again, as `trailscan search` arguments (times resolved), for the recheck.
fn recheck_args(args: &FilterArgs, f: &Filters, patterns: &[String]) -> String {
    let mut out = String::new();
    let mut push = |flag: &str, v: &str| {
        out.push(' ');
        out.push_str(flag);
        out.push(' ');
        out.push_str(&shell(v));
    };
    for v in &args.event {
        push("--event", v);
    }
    for v in &args.source {
        push("--source", v);
    }
    for v in &args.user {
        push("--user", v);
    }
    for v in &args.ip {
        push("--ip", v);
    }
    for v in &args.account {
        push("--account", v);
    }
    for v in &args.region {
        push("--region", v);
    }
    for v in &args.error_code {
        push("--error-code", v);
    }
    if let Some(t) = f.since {
        push("--since", &t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true));
    }
    if let Some(t) = f.until {
        push("--until", &t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true));
    }
    for p in patterns {
        push("--pattern", p);
    }
    if args.errors {
        out.push_str(" --errors");
    }
    out
}

/// Runs `trailscan sql`.
pub fn run(args: &SqlArgs, out: &mut dyn Write) -> Result<Outcome> {
    let o = options(args.dialect, &args.table)?;
    if let Some(path) = &args.print_view {
        if args.dialect != Dialect::Duckdb {
            bail!("--print-view writes a DuckDB view: use it with --dialect duckdb");
        }
        write!(out, "{}", sql::duckdb_view(path, &o.table))?;
        return Ok(Outcome::Found);
    }
    let filters = config::filters(&args.filters)?;
    let mut texts = Vec::new();
    for p in &args.filters.pattern {
        texts.push(read_arg(p)?);
    }
    let query = Query::new(&filters, &texts, false)?;
    let tr = sql::translate(&query, &filters, &o);
    let canonical: Vec<String> = query.patterns().iter().map(|p| p.pattern.to_string()).collect();
    if args.explain {
        let again = recheck_args(&args.filters, &filters, &canonical);
        write!(out, "{}", sql::explain(&tr, &o, &query, &again))?;
        writeln!(out)?;
    }
    let what = if canonical.is_empty() && query.flags().is_none() {
        "every record".to_string()
    } else {
        let mut v: Vec<String> = query.flags().map(|f| f.pattern.to_string()).into_iter().collect();
        if !canonical.is_empty() {
            v.push(canonical.join(" OR "));
        }
        v.join(" AND ")
    };
    write!(out, "{}", sql::render(&tr, &o, &what))?;
    Ok(Outcome::Found)
}

/// `audit --emit-sql`: one query per rule.
pub fn emit_rules(
    rules: &[Rule],
    filters: &Filters,
    dialect: Dialect,
    table: &SqlTableArgs,
    out: &mut dyn Write,
) -> Result<Outcome> {
    let o = options(dialect, table)?;
    let query = Query::new(filters, &[], false)?;
    for (i, r) in sql::audit::rules_sql(rules, &query, filters, &o).iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        write!(out, "{}", r.sql)?;
    }
    Ok(Outcome::Clean)
}
