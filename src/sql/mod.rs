//! The same questions as SQL: a query's filters and EventBridge patterns written for DuckDB,
//! Athena, Trino or Spark, over Athena's CloudTrail table ([`crate::lake::schema`]) — the
//! Parquet lake `trailscan export` writes, or the raw delivery files.
//!
//! The SQL is built from the compiled pattern, the representation the matcher runs
//! ([`crate::pattern`]), field test by field test: see `doc/sql.md` for every operator in every
//! dialect. Where SQL over the table cannot decide exactly what the matcher decides (typed null
//! against a missing key, numbers inside JSON text, fields the table lacks, array consistency
//! inside JSON), the condition is widened to a sound superset — never narrowed — and marked
//! `/* superset: ... */`; [`Translation::notes`] says why, and piping the rows' `raw` column into
//! `trailscan search -` with the same filters brings the answer back to the matcher's.

pub mod audit;
mod dialect;
mod translate;

pub use dialect::Dialect;

use crate::query::{Filters, Query, ViewPattern};
use chrono::{DateTime, Duration, Utc};

use translate::{Translator, and, or};

/// What the table is laid over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Source {
    /// The Parquet lake of `trailscan export` (partitions `account`, `region`, `dt`).
    Lake,
    /// Athena's documented CloudTrail table over the delivery files (for DuckDB: the view of
    /// `trailscan sql --dialect duckdb --print-view PATH`).
    Raw,
}

/// How to write the SQL.
#[derive(Debug, Clone)]
pub struct Options {
    /// The engine.
    pub dialect: Dialect,
    /// Lake or raw files.
    pub source: Source,
    /// The table (or view) name.
    pub table: String,
    /// The table has the `raw` column (the record as delivered): `export --raw`, and always
    /// the DuckDB view over raw files.
    pub raw: bool,
}

impl Options {
    /// Whether conditions may read the `raw` column.
    #[must_use]
    pub fn has_raw(&self) -> bool {
        self.raw || (self.source == Source::Raw && self.dialect == Dialect::Duckdb)
    }
}

/// A translated query.
#[derive(Debug, Clone)]
pub struct Translation {
    /// The WHERE condition.
    pub condition: String,
    /// Why the condition is wider than the matcher, if it is (empty: exact).
    pub notes: Vec<String>,
}

impl Translation {
    /// No superset anywhere.
    #[must_use]
    pub fn exact(&self) -> bool {
        self.notes.is_empty()
    }
}

/// The condition for flags, patterns (any of them) and a time window.
pub(crate) fn condition(
    flags: Option<&ViewPattern>,
    patterns: &[&ViewPattern],
    window: (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
    filters: &Filters,
    o: &Options,
) -> Translation {
    let mut t = Translator::new(o);
    let d = o.dialect;
    let mut parts = Vec::new();
    let (since, until) = window;
    if o.source == Source::Lake {
        // `dt` is eventTime's UTC date: partition pruning with no slack.
        if let Some(s) = since {
            parts.push(format!("dt >= {}", d.lit(&s.format("%Y-%m-%d").to_string())));
        }
        if let Some(u) = until {
            let last = u - Duration::nanoseconds(1);
            parts.push(format!("dt <= {}", d.lit(&last.format("%Y-%m-%d").to_string())));
        }
        // The partitions hold recipientAccountId and awsRegion when they are safe path
        // components (letters, digits, `-`, `_`, at most 64), else Hive's default partition.
        let component = |s: &str| {
            !s.is_empty()
                && s.len() <= 64
                && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        for (col, values) in [("account", &filters.accounts), ("region", &filters.regions)] {
            if !values.is_empty() && values.iter().all(|v| component(v)) {
                let v: Vec<String> = values.iter().map(|a| d.lit(a)).collect();
                parts.push(format!("{col} IN ({})", v.join(", ")));
            }
        }
    }
    if since.is_some() || until.is_some() {
        parts.push(t.time_window(since, until));
    }
    if let Some(f) = flags {
        parts.push(t.pattern(&f.pattern, f.view));
    }
    if !patterns.is_empty() {
        let ps: Vec<String> = patterns.iter().map(|p| t.pattern(&p.pattern, p.view)).collect();
        parts.push(or(ps));
    }
    Translation { condition: and(parts), notes: t.notes().to_vec() }
}

/// One `SELECT` over the table: every column (with `raw` when the table has it), in eventTime
/// order.
#[must_use]
pub fn select(tr: &Translation, o: &Options) -> String {
    format!("SELECT *\nFROM {}\nWHERE {}\nORDER BY eventtime", from(o), tr.condition)
}

/// The query for `trailscan sql`: the flags AND-ed, the patterns OR-ed, the time window.
#[must_use]
pub fn translate(q: &Query, filters: &Filters, o: &Options) -> Translation {
    let ps: Vec<&ViewPattern> = q.patterns().iter().collect();
    condition(q.flags(), &ps, q.window(), filters, o)
}

/// The table after FROM. Spark gets an alias: `WHERE` is not reserved there, so
/// `FROM t WHERE (TRUE)` would read as the table aliased `WHERE` with a column list.
pub(crate) fn from(o: &Options) -> String {
    match o.dialect {
        Dialect::Spark => format!("{} AS ct", o.table),
        _ => o.table.clone(),
    }
}

/// The header comment and the statement, ready to paste.
#[must_use]
pub fn render(tr: &Translation, o: &Options, what: &str) -> String {
    let mut s = format!(
        "-- trailscan {} SQL ({}, {} table {}): {}\n",
        o.dialect.name(),
        env!("CARGO_PKG_VERSION"),
        match o.source {
            Source::Lake => "lake",
            Source::Raw => "raw-files",
        },
        o.table,
        one_line(what)
    );
    if tr.exact() {
        s.push_str(
            "-- exact: the rows are the records `trailscan search` finds with the same filters\n",
        );
    } else {
        s.push_str("-- SUPERSET: may return more rows than `trailscan search`; recheck (trailscan sql --explain):\n");
        for n in &tr.notes {
            s.push_str(&format!("--   {n}\n"));
        }
    }
    if o.dialect == Dialect::Duckdb && tr.condition.contains("AS INET") {
        s.push_str("-- needs DuckDB's inet extension: INSTALL inet; LOAD inet;\n");
    }
    s.push_str(&select(tr, o));
    s.push_str(";\n");
    s
}

fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

/// How to recheck a superset (and what the SQL is), for `--explain`.
#[must_use]
pub fn explain(tr: &Translation, o: &Options, q: &Query, recheck_args: &str) -> String {
    let mut s = String::new();
    s.push_str(&q.explain());
    s.push_str(&format!(
        "dialect: {}; table: {} ({})\n",
        o.dialect.name(),
        o.table,
        match o.source {
            Source::Lake => "the Parquet lake of `trailscan export`",
            Source::Raw => "Athena's CloudTrail table over the delivery files",
        }
    ));
    if tr.exact() {
        s.push_str("the SQL is exact: its rows are the records `trailscan search` finds\n");
        return s;
    }
    s.push_str("the SQL is a SUPERSET (it may return records `trailscan search` would not):\n");
    for n in &tr.notes {
        s.push_str(&format!("  - {n}\n"));
    }
    let search = format!("trailscan search -{recheck_args}");
    if o.has_raw() {
        s.push_str(
            "recheck: give the `raw` column of the rows, one compact JSON record per line, to\n",
        );
        s.push_str(&format!("  {search}\n"));
        match o.dialect {
            Dialect::Duckdb => s.push_str(&format!(
                "for example:\n  duckdb -json DB < query.sql | jq -c '.[].raw | fromjson' | {search}\n"
            )),
            Dialect::Spark => s.push_str(&format!(
                "for example: spark.sql(query).select(\"raw\").write.text(DIR), then\n  cat DIR/part-* | {search}\n"
            )),
            Dialect::Athena | Dialect::Trino => s.push_str(&format!(
                "for example: download the result CSV, then\n  python3 -c 'import csv,sys,json; [print(json.dumps(json.loads(r[\"raw\"]))) for r in csv.DictReader(sys.stdin)]' < result.csv | {search}\n"
            )),
        }
    } else {
        s.push_str("recheck: the table has no `raw` column (export with --raw, or use DuckDB's view over\n");
        s.push_str("the raw files); read the matched records back from the archive instead, e.g. the files\n");
        s.push_str(
            "the rows came from (Athena/Trino: SELECT \"$path\"; Spark: input_file_name()), with\n",
        );
        s.push_str(&format!("  trailscan search FILES{recheck_args}\n"));
    }
    s
}

/// DuckDB: a view presenting Athena's CloudTrail table over delivery files
/// (`{"Records":[...]}`, gzipped or not), with the `raw` column. `path` is a folder (searched
/// recursively), a glob, or an `s3://` URL DuckDB can read.
#[must_use]
pub fn duckdb_view(path: &str, name: &str) -> String {
    use crate::lake::schema::{COLUMNS, Column, Type};
    let d = Dialect::Duckdb;
    let glob = if path.contains('*') || path.ends_with(".gz") || path.ends_with(".json") {
        path.to_string()
    } else {
        format!("{}/**/*.json*", path.trim_end_matches('/'))
    };
    fn expr(c: &Column, base: &str, parent: &str, d: Dialect) -> String {
        let path = format!("{parent}.{}", c.key);
        match c.ty {
            Type::String => format!("json_extract_string({base}, {})", d.lit(&path)),
            Type::Boolean => format!(
                "CASE WHEN json_type({base}, {p}) = 'BOOLEAN' THEN CAST(json_extract_string({base}, {p}) AS BOOLEAN) END",
                p = d.lit(&path)
            ),
            Type::Json => format!(
                "CASE WHEN json_type({base}, {p}) = 'NULL' THEN NULL ELSE CAST(json_extract({base}, {p}) AS VARCHAR) END",
                p = d.lit(&path)
            ),
            Type::MapStringString => {
                format!("TRY_CAST(json_extract({base}, {}) AS MAP(VARCHAR, VARCHAR))", d.lit(&path))
            }
            Type::Struct(fields) => {
                let inner: Vec<String> = fields
                    .iter()
                    .map(|f| format!("{} := {}", f.name, expr(f, base, &path, d)))
                    .collect();
                format!("struct_pack({})", inner.join(", "))
            }
            Type::ArrayOfStruct(fields) => {
                let inner: Vec<String> = fields
                    .iter()
                    .map(|f| format!("{} := {}", f.name, expr(f, "e", "$", d)))
                    .collect();
                format!(
                    "list_transform(TRY_CAST(json_extract({base}, {}) AS JSON[]), lambda e: struct_pack({}))",
                    d.lit(&path),
                    inner.join(", ")
                )
            }
        }
    }
    let mut cols: Vec<String> =
        COLUMNS.iter().map(|c| format!("  {} AS {}", expr(c, "r", "$", d), c.name)).collect();
    cols.push(format!("  CAST(r AS VARCHAR) AS {}", crate::lake::schema::RAW));
    format!(
        "-- trailscan: Athena's CloudTrail table over delivery files, for DuckDB 1.3 or later\n\
CREATE OR REPLACE VIEW {name} AS\n\
SELECT\n{}\n\
FROM (\n  SELECT UNNEST(Records) AS r\n  FROM read_json({}, columns = {{'Records': 'JSON[]'}}, maximum_object_size = 1073741824)\n);\n",
        cols.join(",\n"),
        d.lit(&glob)
    )
}

#[cfg(test)]
mod tests;
