//! `export --ddl`: the statement that makes the lake a table, for Athena, Trino, Spark and
//! DuckDB, written from [`schema::COLUMNS`].

use super::schema::{self, Column, Type};
use crate::cli::DdlEngine;

/// AWS Regions, for Athena's `enum` projection of `region` when `--region` does not list them.
pub const REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "cn-north-1",
    "cn-northwest-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-west-1",
    "us-west-2",
];

/// What the statement is for.
#[derive(Debug, Clone)]
pub struct Ddl<'a> {
    /// The engine.
    pub engine: DdlEngine,
    /// The lake's location (`s3://bucket/prefix/`, a folder).
    pub location: &'a str,
    /// The table (or view) name.
    pub table: &'a str,
    /// Whether the lake has the `raw` column.
    pub raw: bool,
    /// Athena: the accounts to project (`enum`); none: `injected` (queries name the account).
    pub accounts: &'a [String],
    /// Athena: the regions to project (none: every region in [`REGIONS`]).
    pub regions: &'a [String],
}

/// A SQL string literal.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A column type in Hive's syntax (Athena, Spark): `STRUCT<a:STRING,...>`; `tick` quotes
/// field names with backticks (Spark).
fn hive_type(ty: Type, tick: bool) -> String {
    let fields = |cols: &[Column]| {
        cols.iter()
            .map(|c| {
                let n = if tick { format!("`{}`", c.name) } else { c.name.to_string() };
                format!("{n}:{}", hive_type(c.ty, tick))
            })
            .collect::<Vec<_>>()
            .join(",")
    };
    match ty {
        Type::String | Type::Json => "STRING".into(),
        Type::Boolean => "BOOLEAN".into(),
        Type::Struct(cols) => format!("STRUCT<{}>", fields(cols)),
        Type::ArrayOfStruct(cols) => format!("ARRAY<STRUCT<{}>>", fields(cols)),
        Type::MapStringString => "MAP<STRING,STRING>".into(),
    }
}

/// A column type in Trino's syntax: `ROW("a" VARCHAR, ...)`.
fn trino_type(ty: Type) -> String {
    let fields = |cols: &[Column]| {
        cols.iter()
            .map(|c| format!("\"{}\" {}", c.name, trino_type(c.ty)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match ty {
        Type::String | Type::Json => "VARCHAR".into(),
        Type::Boolean => "BOOLEAN".into(),
        Type::Struct(cols) => format!("ROW({})", fields(cols)),
        Type::ArrayOfStruct(cols) => format!("ARRAY(ROW({}))", fields(cols)),
        Type::MapStringString => "MAP(VARCHAR, VARCHAR)".into(),
    }
}

/// The file columns (and `raw`), one `name TYPE` per line.
fn columns(raw: bool, render: impl Fn(&str, Type) -> String) -> Vec<String> {
    let mut out: Vec<String> = schema::COLUMNS.iter().map(|c| render(c.name, c.ty)).collect();
    if raw {
        out.push(render(schema::RAW, Type::String));
    }
    out
}

/// The location with exactly one trailing `/`.
fn dir(location: &str) -> String {
    format!("{}/", location.trim_end_matches('/'))
}

impl Ddl<'_> {
    /// The statement(s), ending with a newline.
    #[must_use]
    pub fn render(&self) -> String {
        match self.engine {
            DdlEngine::Athena => self.athena(),
            DdlEngine::Trino => self.trino(),
            DdlEngine::Spark => self.spark(),
            DdlEngine::Duckdb => self.duckdb(),
        }
    }

    fn athena(&self) -> String {
        let cols = columns(self.raw, |n, t| format!("  {n} {}", hive_type(t, false)));
        let loc = dir(self.location);
        let mut props = vec![("projection.enabled".to_string(), "true".to_string())];
        if self.accounts.is_empty() {
            props.push(("projection.account.type".into(), "injected".into()));
        } else {
            props.push(("projection.account.type".into(), "enum".into()));
            props.push(("projection.account.values".into(), self.accounts.join(",")));
        }
        let regions: Vec<&str> = if self.regions.is_empty() {
            REGIONS.to_vec()
        } else {
            self.regions.iter().map(String::as_str).collect()
        };
        props.extend([
            ("projection.region.type".into(), "enum".into()),
            ("projection.region.values".into(), regions.join(",")),
            ("projection.dt.type".into(), "date".into()),
            ("projection.dt.format".into(), "yyyy-MM-dd".into()),
            // CloudTrail began in November 2013.
            ("projection.dt.range".into(), "2013-11-01,NOW".into()),
            ("projection.dt.interval".into(), "1".into()),
            ("projection.dt.interval.unit".into(), "DAYS".into()),
            (
                "storage.location.template".into(),
                format!("{loc}account=${{account}}/region=${{region}}/dt=${{dt}}/"),
            ),
            ("parquet.compression".into(), "ZSTD".into()),
        ]);
        let props: Vec<String> =
            props.iter().map(|(k, v)| format!("  {}={}", quote(k), quote(v))).collect();
        format!(
            "CREATE EXTERNAL TABLE {} (\n{}\n)\nPARTITIONED BY (account STRING, region STRING, dt STRING)\n\
             STORED AS PARQUET\nLOCATION {}\nTBLPROPERTIES (\n{}\n);\n",
            self.table,
            cols.join(",\n"),
            quote(&loc),
            props.join(",\n")
        )
    }

    fn trino(&self) -> String {
        let mut cols = columns(self.raw, |n, t| format!("  \"{n}\" {}", trino_type(t)));
        for p in schema::PARTITIONS {
            cols.push(format!("  \"{p}\" VARCHAR"));
        }
        let parts: Vec<String> = schema::PARTITIONS.iter().map(|p| quote(p)).collect();
        format!(
            "CREATE TABLE {t} (\n{}\n)\nWITH (\n  format = 'PARQUET',\n  external_location = {},\n  \
             partitioned_by = ARRAY[{}]\n);\n\
             -- After each export, register new partitions (and drop removed ones):\n\
             CALL system.sync_partition_metadata(schema_name => CURRENT_SCHEMA, table_name => {}, mode => 'FULL');\n",
            cols.join(",\n"),
            quote(&dir(self.location)),
            parts.join(", "),
            quote(self.table),
            t = self.table,
        )
    }

    fn spark(&self) -> String {
        let mut cols = columns(self.raw, |n, t| format!("  `{n}` {}", hive_type(t, true)));
        for p in schema::PARTITIONS {
            cols.push(format!("  `{p}` STRING"));
        }
        format!(
            "CREATE TABLE {t} (\n{}\n)\nUSING PARQUET\nPARTITIONED BY (account, region, dt)\nLOCATION {};\n\
             -- After each export, register new partitions:\nMSCK REPAIR TABLE {t};\n",
            cols.join(",\n"),
            quote(&dir(self.location)),
            t = self.table,
        )
    }

    fn duckdb(&self) -> String {
        let glob = format!("{}*/*/*/*.parquet", dir(self.location));
        format!(
            "CREATE OR REPLACE VIEW {} AS\nSELECT * FROM read_parquet(\n  {},\n  \
             hive_partitioning = true,\n  \
             hive_types = {{'account': VARCHAR, 'region': VARCHAR, 'dt': VARCHAR}}\n);\n",
            self.table,
            quote(&glob)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ddl(engine: DdlEngine) -> String {
        Ddl {
            engine,
            location: "s3://bucket/lake",
            table: "cloudtrail_logs",
            raw: false,
            accounts: &[],
            regions: &[],
        }
        .render()
    }

    /// Lower-case, whitespace removed.
    fn squash(s: &str) -> String {
        s.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_lowercase()
    }

    /// The columns of the table AWS documents in "Create the table for CloudTrail logs in
    /// Athena using partition projection" (fixtures/athena/cloudtrail_logs_pp.sql), names, order
    /// and types, equal ours (ours add `managementevent`).
    #[test]
    fn athena_columns_are_the_documented_ones() {
        let aws = include_str!("../../fixtures/athena/cloudtrail_logs_pp.sql");
        let start = aws.find('(').unwrap() + 1;
        let end = aws.find("PARTITIONED BY").unwrap();
        let aws_cols = squash(&aws[start..end]);
        let aws_cols = aws_cols.strip_suffix(')').unwrap();
        let ours = ddl(DdlEngine::Athena);
        let start = ours.find('(').unwrap() + 1;
        let end = ours.find("PARTITIONED BY").unwrap();
        let ours = squash(&ours[start..end]);
        let ours = ours.strip_suffix(')').unwrap();
        assert_eq!(ours, format!("{aws_cols},managementeventboolean"));
    }

    #[test]
    fn athena_projection() {
        let d = ddl(DdlEngine::Athena);
        assert!(d.contains("'projection.account.type'='injected'"), "{d}");
        assert!(d.contains("'projection.dt.format'='yyyy-MM-dd'"));
        assert!(d.contains("'projection.region.values'='af-south-1,"));
        assert!(d.contains(
            "'storage.location.template'='s3://bucket/lake/account=${account}/region=${region}/dt=${dt}/'"
        ));
        assert!(d.contains("LOCATION 's3://bucket/lake/'"));
        let accounts = ["111122223333".to_string()];
        let regions = ["us-east-1".to_string(), "eu-west-1".to_string()];
        let d = Ddl {
            engine: DdlEngine::Athena,
            location: "s3://b/it's/",
            table: "t",
            raw: true,
            accounts: &accounts,
            regions: &regions,
        }
        .render();
        assert!(d.contains("'projection.account.values'='111122223333'"));
        assert!(d.contains("'projection.region.values'='us-east-1,eu-west-1'"));
        assert!(d.contains("LOCATION 's3://b/it''s/'"));
        assert!(d.contains("  raw STRING\n)"));
    }

    #[test]
    fn other_engines() {
        let t = ddl(DdlEngine::Trino);
        assert!(t.contains("\"useridentity\" ROW(\"type\" VARCHAR,"));
        assert!(t.contains(
            "\"resources\" ARRAY(ROW(\"arn\" VARCHAR, \"accountid\" VARCHAR, \"type\" VARCHAR))"
        ));
        assert!(t.contains("\"attributes\" MAP(VARCHAR, VARCHAR)"));
        assert!(t.contains("partitioned_by = ARRAY['account', 'region', 'dt']"));
        let s = ddl(DdlEngine::Spark);
        assert!(s.contains("`managementevent` BOOLEAN,\n  `account` STRING"));
        assert!(s.contains("USING PARQUET\nPARTITIONED BY (account, region, dt)"));
        let d = ddl(DdlEngine::Duckdb);
        assert!(d.contains("'s3://bucket/lake/*/*/*/*.parquet'"));
    }
}
