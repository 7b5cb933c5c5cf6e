//! Unit tests of the SQL translator (DuckDB runs the SQL in tests/sql_duckdb.rs).

use super::*;
use crate::query::Filters;

fn opts(dialect: Dialect, source: Source, raw: bool) -> Options {
    Options { dialect, source, table: "t".into(), raw }
}

fn tr(pattern: &str, o: &Options) -> Translation {
    let q = Query::new(&Filters::default(), &[pattern.to_string()], false).unwrap();
    translate(&q, &Filters::default(), o)
}

#[test]
fn exact_string_operators_on_columns() {
    let o = opts(Dialect::Duckdb, Source::Lake, false);
    let t = tr(r#"{"eventName":["CreateUser",{"prefix":"Del"},{"wildcard":"x%_!*y"}]}"#, &o);
    assert!(t.exact(), "{:?}", t.notes);
    assert!(t.condition.contains("eventname = 'CreateUser'"), "{}", t.condition);
    assert!(t.condition.contains("eventname LIKE 'Del%' ESCAPE '!'"), "{}", t.condition);
    assert!(t.condition.contains("eventname LIKE 'x!%!_!!%y' ESCAPE '!'"), "{}", t.condition);
}

#[test]
fn equals_ignore_case_follows_event_ruler_not_lower() {
    let o = opts(Dialect::Trino, Source::Lake, false);
    let t = tr(r#"{"eventName":[{"equals-ignore-case":"straße"}]}"#, &o);
    assert!(t.exact());
    assert!(
        t.condition
            .contains(r"regexp_like(eventname, '\A(?:s|S)(?:t|T)(?:r|R)(?:a|A)(?:ß|SS)(?:e|E)\z')"),
        "{}",
        t.condition
    );
    assert!(!t.condition.to_lowercase().contains("lower("));
}

#[test]
fn supersets_are_marked_and_explained() {
    let o = opts(Dialect::Athena, Source::Raw, false);
    // A boolean field: the text column cannot tell `true` from "true".
    let t = tr(r#"{"readOnly":[true]}"#, &o);
    assert!(!t.exact());
    assert!(t.condition.contains("/* superset: readOnly"), "{}", t.condition);
    // exists on a typed column: a JSON null reads as NULL, so without raw nothing is excluded.
    let t = tr(r#"{"errorCode":[{"exists":true}]}"#, &o);
    assert!(!t.exact() && t.condition.contains("TRUE /* superset"), "{}", t.condition);
    // With the raw column it is exact.
    let t = tr(r#"{"errorCode":[{"exists":true}]}"#, &opts(Dialect::Duckdb, Source::Lake, true));
    assert!(t.exact(), "{:?}", t.notes);
    assert!(t.condition.contains("json_type(raw, '$.errorCode') = 'NULL'"), "{}", t.condition);
    // A field the table lacks.
    let t = tr(r#"{"insightDetails":{"state":["Start"]}}"#, &o);
    assert!(t.notes.iter().any(|n| n.contains("not a column")), "{:?}", t.notes);
}

#[test]
fn comments_cannot_be_closed_by_pattern_keys() {
    let o = opts(Dialect::Spark, Source::Lake, false);
    let t = tr(r#"{"a*/b":{"c\nd":["x"]}}"#, &o);
    assert!(!t.condition.contains("a*/b"), "{}", t.condition);
    assert!(t.notes.iter().all(|n| !n.contains('\n') && !n.contains("*/")));
}

#[test]
fn spark_literals_escape_backslashes() {
    let o = opts(Dialect::Spark, Source::Lake, false);
    let t = tr(r#"{"userAgent":["a\\b'c"]}"#, &o);
    assert!(t.condition.contains(r"useragent = 'a\\b\'c'"), "{}", t.condition);
}

#[test]
fn envelope_view_and_resources() {
    let o = opts(Dialect::Duckdb, Source::Lake, false);
    let t = tr(
        r#"{"source":["aws.iam"],"detail":{"resources":{"ARN":[{"prefix":"arn:"}],"type":["x"]}}}"#,
        &o,
    );
    assert!(t.exact(), "{:?}", t.notes);
    assert!(t.condition.contains("'aws.cloudwatch'"), "{}", t.condition);
    // Both resources fields on one element.
    assert!(
        t.condition.contains("WHERE (r.arn LIKE 'arn:%' ESCAPE '!' AND r.type = 'x')"),
        "{}",
        t.condition
    );
    // The envelope's own resources are empty.
    let t = tr(r#"{"source":["aws.iam"],"resources":[{"exists":true}]}"#, &o);
    assert!(t.condition.contains("FALSE"), "{}", t.condition);
}

#[test]
fn lake_partitions_and_time_window() {
    let f = Filters {
        accounts: vec!["111122223333".into()],
        since: crate::record::time::parse_event_time("2024-03-01T10:00:00Z"),
        until: crate::record::time::parse_event_time("2024-03-02T00:00:00Z"),
        ..Filters::default()
    };
    let q = Query::new(&f, &[], false).unwrap();
    let t = translate(&q, &f, &opts(Dialect::Trino, Source::Lake, false));
    for part in [
        "dt >= '2024-03-01'",
        "dt <= '2024-03-01'",
        "account IN ('111122223333')",
        "substr(eventtime, 1, 19) >= '2024-03-01T10:00:00'",
        "substr(eventtime, 1, 19) < '2024-03-02T00:00:00'",
        "recipientaccountid = '111122223333'",
    ] {
        assert!(t.condition.contains(part), "{part}: {}", t.condition);
    }
    let t = translate(&q, &f, &opts(Dialect::Trino, Source::Raw, false));
    assert!(!t.condition.contains("dt >="), "{}", t.condition);
}

#[test]
fn common_fields_of_sub_rules_are_written_once() {
    let o = opts(Dialect::Duckdb, Source::Lake, false);
    let t = tr(
        r#"{"eventSource":["iam.amazonaws.com"],"$or":[{"eventName":["A"]},{"eventName":["B"]}]}"#,
        &o,
    );
    assert_eq!(t.condition.matches("eventsource = ").count(), 1, "{}", t.condition);
}
