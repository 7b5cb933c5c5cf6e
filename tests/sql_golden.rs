//! Golden files of `trailscan sql` and `audit --emit-sql` for every dialect (insta snapshots),
//! and every statement checked: DuckDB binds its own (EXPLAIN over empty tables); sqlglot
//! parses the others in their dialect; Trino and Athena statements
//! pass trino-sql-validator (syntax and Trino's documented functions); Athena's functions are in
//! tests/sql/athena_v3_functions.txt. No Athena or Trino server exists here: these checks are
//! what stands for one (DuckDB runs its SQL in tests/sql_duckdb.rs).
//!
//! Without python3's sqlglot and trino_sql_validator the checks say so and pass, unless
//! TRAILSCAN_REQUIRE_ORACLES=1 (CI), where they fail.

#[path = "cli/util.rs"]
#[allow(dead_code)]
mod util;

use serde_json::json;
use std::io::Write;
use std::process::{Command, Stdio};

const DIALECTS: [&str; 4] = ["athena", "trino", "spark", "duckdb"];

/// Filter sets covering every flag and every operator in every place of the table.
const CASES: &[&[&str]] = &[
    &["--event", "CreateUser", "--since", "2024-03-01", "--until", "2024-03-08T12:00:00Z"],
    &["--source", "iam", "--errors", "--account", "111122223333", "--region", "us-east-1"],
    &["--user", "alice", "--ip", "203.0.113.0/24", "--ip", "2001:db8::/32"],
    &["--error-code", "AccessDenied", "--user", "*admin*"],
    &[
        "--pattern",
        r#"{"eventName":[{"prefix":"Delete"},{"suffix":"Policy"},{"wildcard":"Put*_50%!"},{"equals-ignore-case":"straße"}]}"#,
    ],
    &[
        "--pattern",
        r#"{"eventName":[{"prefix":{"equals-ignore-case":"get"}},{"suffix":{"equals-ignore-case":"Bucket"}},{"exactly":"it's"}]}"#,
    ],
    &[
        "--pattern",
        r#"{"userAgent":[{"anything-but":{"prefix":["aws-cli","Boto3"]}}],"eventName":[{"anything-but":["ListBuckets","true"]}]}"#,
    ],
    &[
        "--pattern",
        r#"{"errorCode":[{"exists":false},null],"readOnly":[false],"managementEvent":[true]}"#,
    ],
    &[
        "--pattern",
        r#"{"eventVersion":[{"numeric":[">=",1.08,"<",2]}],"sourceIPAddress":[{"cidr":"10.0.0.0/8"}]}"#,
    ],
    &[
        "--pattern",
        r#"{"requestParameters":{"userName":["mallory",{"prefix":"adm"}],"policyArn":[{"exists":true}]}}"#,
    ],
    &[
        "--pattern",
        r#"{"requestParameters":{"maxResults":[{"numeric":[">",10]}],"dryRun":[true]},"responseElements":[null]}"#,
    ],
    &[
        "--pattern",
        r#"{"requestParameters":{"bucketName":[{"anything-but":{"wildcard":"log*"}}],"x":[{"exists":false}]}}"#,
    ],
    &["--pattern", r#"{"resources":{"type":["AWS::IAM::Role"],"ARN":[{"suffix":":role/admin"}]}}"#],
    &["--pattern", r#"{"resources":{"ARN":[{"exists":false}]}}"#],
    &["--pattern", r#"{"insightDetails":{"state":["Start"]}}"#],
    &[
        "--pattern",
        r#"{"$or":[{"eventName":["CreateUser"]},{"requestParameters":{"userName":["root"]}}]}"#,
    ],
    &[
        "--pattern",
        r#"{"source":["aws.iam","aws.cloudwatch"],"detail-type":["AWS API Call via CloudTrail"],"detail":{"eventName":["CreateUser"]}}"#,
    ],
];

fn sql(dialect: &str, extra: &[&str], case: &[&str]) -> String {
    let mut a = vec!["sql", "--dialect", dialect];
    a.extend(extra);
    a.extend(case);
    let (code, out, err) = util::run(&a);
    assert_eq!(code, 0, "{a:?}: {err}");
    out
}

fn audit(dialect: &str) -> String {
    let (code, out, err) = util::run(&["audit", "--emit-sql", dialect]);
    assert_eq!(code, 0, "audit --emit-sql {dialect}: {err}");
    out
}

/// Every statement of a dialect: the cases over the lake, the raw files and the lake with `raw`.
fn statements(dialect: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (label, extra) in [
        ("lake", &[][..]),
        ("raw files", &["--from", "raw"][..]),
        ("lake with raw", &["--raw-column", "--table", "trail.cloudtrail"][..]),
    ] {
        for c in CASES {
            out.push((format!("{label}: {}", c.join(" ")), sql(dialect, extra, c)));
        }
    }
    for stmt in audit(dialect).split("\n\n") {
        out.push(("audit".into(), stmt.to_string()));
    }
    out
}

#[test]
fn golden_sql_per_dialect() {
    for d in DIALECTS {
        let text: String =
            statements(d).iter().map(|(label, s)| format!("## {label}\n{s}\n")).collect();
        insta::assert_snapshot!(format!("sql_{d}"), text);
    }
}

#[test]
fn duckdb_view_golden() {
    let (code, out, err) =
        util::run(&["sql", "--dialect", "duckdb", "--print-view", "s3://bucket/AWSLogs/"]);
    assert_eq!(code, 0, "{err}");
    insta::assert_snapshot!("duckdb_view", out);
    let (code, _, err) = util::run(&["sql", "--dialect", "athena", "--print-view", "x"]);
    assert_eq!(code, 2);
    assert!(err.contains("DuckDB"), "{err}");
    let (code, _, err) = util::run(&["sql", "--dialect", "athena", "--table", "x; DROP TABLE y"]);
    assert_eq!(code, 2);
    assert!(err.contains("--table"), "{err}");
}

fn checkers_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import sqlglot, trino_sql_validator"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("TRAILSCAN_REQUIRE_ORACLES").as_deref() != Ok("1"),
            "TRAILSCAN_REQUIRE_ORACLES=1 but python3 cannot import sqlglot and trino_sql_validator"
        );
        eprintln!("skipped: pip install sqlglot trino-sql-validator");
    }
    ok
}

#[test]
fn every_statement_parses_and_uses_known_functions() {
    if !checkers_available() {
        return;
    }
    for d in DIALECTS {
        let stmts: Vec<String> = statements(d).into_iter().map(|(_, s)| s).collect();
        let mut child = Command::new("python3")
            .arg(util::root().join("tests/sql/check_sql.py"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (_, view, _) = util::run(&["sql", "--dialect", "duckdb", "--print-view", "EMPTY.json"]);
        let job = json!({"dialect": d, "statements": stmts, "view": view}).to_string();
        child.stdin.take().unwrap().write_all(job.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{d}: {}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).unwrap();
        let problems: Vec<&str> = text.lines().filter(|l| !l.starts_with("#functions")).collect();
        assert!(problems.is_empty(), "{d}:\n{}", problems.join("\n"));
        let used = text.lines().find_map(|l| l.strip_prefix("#functions ")).unwrap_or("");
        eprintln!("{d}: {} statements checked; functions: {used}", stmts.len());
        assert!(d == "duckdb" || !used.is_empty());
    }
}

#[test]
fn explain_says_whether_exact_and_how_to_recheck() {
    let (code, out, err) =
        util::run(&["sql", "--dialect", "duckdb", "--event", "CreateUser", "--explain"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("the SQL is exact"), "{out}");
    let (code, out, err) = util::run(&[
        "sql",
        "--dialect",
        "athena",
        "--from",
        "raw",
        "--since",
        "2024-03-01",
        "--pattern",
        r#"{"readOnly":[true]}"#,
        "--explain",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("SUPERSET"), "{out}");
    assert!(out.contains("readOnly: the column holds numbers and booleans as text"), "{out}");
    // The recheck repeats the filters, times resolved, patterns canonical.
    assert!(
        out.contains(
            "trailscan search FILES --since 2024-03-01T00:00:00Z --pattern '{\"readOnly\":[true]}'"
        ),
        "{out}"
    );
    let (code, out, _) =
        util::run(&["sql", "--dialect", "duckdb", "--from", "raw", "--errors", "--explain"]);
    assert_eq!(code, 0);
    assert!(out.contains("the SQL is exact"), "{out}");
}
