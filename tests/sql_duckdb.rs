//! Differential tests of `trailscan sql --dialect duckdb` against `trailscan search`.
//!
//! DuckDB (PyPI `duckdb`, with `duckdb-extension-inet` of the same version; see .ci/run) runs
//! the SQL over the view `trailscan sql --print-view` prints, laid over the fixture archive's
//! delivery files (and over a synthetic archive of the conformance events). For every case the
//! eventIDs DuckDB returns must include every record `trailscan search` finds; when the SQL is
//! exact (no `superset` mark) they must be equal, and when it is a marked superset, piping the
//! rows' `raw` column into `trailscan search -` with the same filters must give equality.
//!
//! Without DuckDB these tests say so and pass, unless TRAILSCAN_REQUIRE_ORACLES=1 (CI), where
//! they fail.

#[path = "cli/util.rs"]
#[allow(dead_code)]
mod util;

use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// Is DuckDB there? Panics when it must be.
fn duckdb_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import duckdb, duckdb_extension_inet"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("TRAILSCAN_REQUIRE_ORACLES").as_deref() != Ok("1"),
            "TRAILSCAN_REQUIRE_ORACLES=1 but python3 cannot import duckdb and duckdb_extension_inet"
        );
        eprintln!(
            "skipped: python3 cannot import duckdb (pip install duckdb duckdb-extension-inet)"
        );
    }
    ok
}

type Rows = Vec<(String, String)>;

/// Runs the setup statements then each query in DuckDB: (eventid, raw) rows or the error.
fn duckdb(setup: &[String], queries: &[String]) -> Vec<Result<Rows, String>> {
    oracle(setup, queries, false)
        .into_iter()
        .map(|r| {
            r.map(|rows| {
                rows.into_iter()
                    .map(|r| {
                        (
                            r[0].as_str().unwrap_or("").to_string(),
                            r[1].as_str().unwrap().to_string(),
                        )
                    })
                    .collect()
            })
        })
        .collect()
}

/// Runs the setup statements then each query in DuckDB: each query's rows as JSON values
/// (`whole_rows`: every column, as text; else eventid and raw) or its error.
fn oracle(
    setup: &[String],
    queries: &[String],
    whole_rows: bool,
) -> Vec<Result<Vec<Vec<Value>>, String>> {
    let script = util::root().join("tests/sql/duckdb_oracle.py");
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3");
    let job = json!({"setup": setup, "queries": queries, "whole_rows": whole_rows}).to_string();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(job.as_bytes()));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success(), "duckdb oracle: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), queries.len(), "oracle answered {} of {}", lines.len(), queries.len());
    lines
        .iter()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            if v["ok"] == json!(true) {
                Ok(v["rows"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r.as_array().unwrap().clone())
                    .collect())
            } else {
                Err(v["error"].as_str().unwrap_or("?").to_string())
            }
        })
        .collect()
}

fn run_ok(args: &[&str], stdin: Option<&str>) -> String {
    let mut cmd = util::std_command(args);
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    let data = stdin.unwrap_or("").to_string();
    let writer = std::thread::spawn(move || input.write_all(data.as_bytes()));
    let out = child.wait_with_output().unwrap();
    let _ = writer.join().unwrap();
    let code = out.status.code().unwrap_or(-1);
    assert!(
        code == 0 || code == 1,
        "trailscan {args:?}: exit {code}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn ids(jsonl: &str) -> BTreeSet<String> {
    jsonl
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            v["eventID"].as_str().unwrap_or("").to_string()
        })
        .collect()
}

struct Report {
    cases: usize,
    exact: usize,
    supersets: usize,
    extra_rows: usize,
    failures: Vec<String>,
}

/// Compares search and DuckDB over `archive` (the raw files) for each filter argument list.
fn differential(archive: &str, cases: &[Vec<String>]) -> Report {
    let view = run_ok(&["sql", "--dialect", "duckdb", "--print-view", archive], None);
    differential_over(archive, &[view], &["--from", "raw"], cases)
}

/// Compares search over `archive` with DuckDB running `trailscan sql --dialect duckdb SQL_ARGS
/// CASE` after the `setup` statements.
fn differential_over(
    archive: &str,
    setup: &[String],
    sql_args: &[&str],
    cases: &[Vec<String>],
) -> Report {
    let mut queries = Vec::new();
    for c in cases {
        let mut a = vec!["sql", "--dialect", "duckdb"];
        a.extend(sql_args);
        a.extend(c.iter().map(String::as_str));
        queries.push(run_ok(&a, None));
    }
    let answers = duckdb(setup, &queries);
    let mut r = Report { cases: 0, exact: 0, supersets: 0, extra_rows: 0, failures: Vec::new() };
    for ((c, q), ans) in cases.iter().zip(&queries).zip(answers) {
        r.cases += 1;
        let mut a = vec!["search", archive, "--format", "jsonl", "-q"];
        a.extend(c.iter().map(String::as_str));
        let want = ids(&run_ok(&a, None));
        let rows = match ans {
            Ok(rows) => rows,
            Err(e) => {
                r.failures.push(format!("{c:?}: DuckDB error: {e}\n{q}"));
                continue;
            }
        };
        let got: BTreeSet<String> = rows.iter().map(|(id, _)| id.clone()).collect();
        if !want.is_subset(&got) {
            let missing: Vec<_> = want.difference(&got).take(5).collect();
            r.failures.push(format!("{c:?}: SQL misses {missing:?} (a subset!)\n{q}"));
            continue;
        }
        if q.contains("/* superset:") {
            r.supersets += 1;
            r.extra_rows += got.len() - want.len();
            // One compact record a line (the lake's raw is the record as delivered, maybe
            // pretty-printed).
            let lines: String = rows
                .iter()
                .map(|(_, raw)| format!("{}\n", serde_json::from_str::<Value>(raw).unwrap()))
                .collect();
            let mut a = vec!["search", "-", "--format", "jsonl", "-q"];
            a.extend(c.iter().map(String::as_str));
            let rechecked =
                if rows.is_empty() { BTreeSet::new() } else { ids(&run_ok(&a, Some(&lines))) };
            if rechecked != want {
                r.failures.push(format!(
                    "{c:?}: recheck gives {} records, search {}\n{q}",
                    rechecked.len(),
                    want.len()
                ));
            }
        } else {
            r.exact += 1;
            if got != want {
                let extra: Vec<_> = got.difference(&want).take(5).collect();
                r.failures.push(format!("{c:?}: exact SQL returns extra {extra:?}\n{q}"));
            }
        }
    }
    r
}

fn check(name: &str, r: &Report) {
    eprintln!(
        "{name}: {} cases, {} exact, {} marked supersets ({} extra rows before recheck), {} failures",
        r.cases,
        r.exact,
        r.supersets,
        r.extra_rows,
        r.failures.len()
    );
    assert!(r.failures.is_empty(), "{name}:\n{}", r.failures.join("\n\n"));
}

fn args(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_string()).collect()
}

fn pattern(p: Value) -> Vec<String> {
    vec!["--pattern".into(), p.to_string()]
}

const ARCHIVE: &str = "fixtures/archive/AWSLogs";

#[test]
fn every_filter_flag_and_operator_over_raw_files() {
    if !duckdb_available() {
        return;
    }
    check("flags and operators", &differential(ARCHIVE, &flag_and_operator_cases()));
}

/// The fixture archive exported with `trailscan export --raw`, read through the view
/// `export --ddl duckdb` prints: the same cases, with the SQL written for the lake (partition
/// predicates) with and without `--raw-column`.
#[test]
fn every_filter_flag_and_operator_over_the_exported_lake() {
    if !duckdb_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let lake_s = lake.to_str().unwrap();
    let (code, _, err) = util::run(&["export", ARCHIVE, "--out", lake_s, "--raw", "-q"]);
    assert_eq!(code, 0, "export: {err}");
    let ddl = run_ok(&["export", "--ddl", "duckdb", "--location", lake_s], None);
    let cases = flag_and_operator_cases();
    check(
        "lake, --raw-column",
        &differential_over(ARCHIVE, std::slice::from_ref(&ddl), &["--raw-column"], &cases),
    );
    check("lake", &differential_over(ARCHIVE, &[ddl], &[], &cases));
}

fn flag_and_operator_cases() -> Vec<Vec<String>> {
    let mut cases = vec![
        args(&["--event", "CreateUser"]),
        args(&["--event", "CreateUser", "--event", "ConsoleLogin"]),
        args(&["--source", "iam"]),
        args(&["--source", "sts.amazonaws.com", "--source", "s3"]),
        args(&["--user", "mallory"]),
        args(&["--user", "*admin*"]),
        args(&["--user", "AIDA*"]),
        args(&["--ip", "203.0.113.0/24"]),
        args(&["--ip", "203.0.113.66"]),
        args(&["--ip", "0.0.0.0/1"]),
        args(&["--ip", "::/0"]),
        args(&["--account", "123837392027"]),
        args(&["--region", "eu-west-1", "--region", "us-east-1"]),
        args(&["--errors"]),
        args(&["--error-code", "AccessDenied"]),
        args(&["--since", "2023-07-11"]),
        args(&["--since", "2023-07-11T23:56:00Z", "--until", "2023-07-12T00:00:00Z"]),
        args(&["--until", "2018-01-01"]),
        args(&["--source", "iam", "--errors", "--since", "2023-07-10T12:00:00Z"]),
    ];
    // Every operator on CloudTrail-shaped records: typed columns, JSON text, resources, envelope.
    for p in [
        json!({"eventName": ["CreateUser"]}),
        json!({"eventName": [{"exactly": "CreateUser"}]}),
        json!({"eventName": [{"prefix": "Describe"}]}),
        json!({"eventName": [{"suffix": "Policy"}]}),
        json!({"eventName": [{"prefix": {"equals-ignore-case": "describe"}}]}),
        json!({"eventName": [{"suffix": {"equals-ignore-case": "POLICY"}}]}),
        json!({"eventName": [{"equals-ignore-case": "createuser"}]}),
        json!({"eventName": [{"wildcard": "*User*"}]}),
        json!({"eventName": [{"wildcard": "Get*Policy"}]}),
        json!({"userAgent": [{"wildcard": "*aws-cli/*"}]}),
        json!({"eventName": [{"anything-but": ["ListBuckets", "GetObject"]}]}),
        json!({"eventName": [{"anything-but": {"prefix": "Describe"}}]}),
        json!({"eventName": [{"anything-but": {"suffix": "s"}}]}),
        json!({"eventName": [{"anything-but": {"wildcard": "*Get*"}}]}),
        json!({"eventName": [{"anything-but": {"equals-ignore-case": ["listbuckets"]}}]}),
        json!({"errorCode": [{"exists": true}]}),
        json!({"errorCode": [{"exists": false}]}),
        json!({"errorCode": [{"exists": false}, "AccessDenied"]}),
        json!({"errorCode": [null]}),
        json!({"readOnly": [true]}),
        json!({"readOnly": [false], "eventSource": ["iam.amazonaws.com"]}),
        json!({"readOnly": ["true"]}),
        json!({"managementEvent": [true]}),
        json!({"eventVersion": [{"numeric": [">=", 1.08]}]}),
        json!({"eventVersion": [1.08]}),
        json!({"sourceIPAddress": [{"cidr": "10.0.0.0/8"}]}),
        json!({"sourceIPAddress": [{"cidr": "2001:db8::/32"}]}),
        json!({"sourceIPAddress": [{"anything-but": {"prefix": "AWS"}}]}),
        json!({"userIdentity": {"type": ["IAMUser"], "userName": [{"exists": true}]}}),
        json!({"userIdentity": {"sessionContext": {"sessionIssuer": {"userName": [{"prefix": "a"}]}}}}),
        json!({"userIdentity": {"sessionContext": {"attributes": {"mfaAuthenticated": ["true"]}}}}),
        json!({"requestParameters": {"userName": [{"exists": true}]}}),
        json!({"requestParameters": {"userName": [{"exists": false}]}, "eventName": ["CreateUser"]}),
        json!({"requestParameters": {"bucketName": [{"prefix": "flaws"}]}}),
        json!({"requestParameters": {"instancesSet": {"items": {"instanceId": [{"prefix": "i-"}]}}}}),
        json!({"requestParameters": {"maxResults": [{"numeric": [">", 10]}]}}),
        json!({"requestParameters": {"maxResults": [100, 1000]}}),
        json!({"requestParameters": {"includeAllInstances": [true]}}),
        json!({"responseElements": [null]}),
        json!({"responseElements": {"ConsoleLogin": [{"anything-but": "Success"}]}}),
        json!({"responseElements": {"credentials": {"accessKeyId": [{"wildcard": "ASIA*"}]}}}),
        json!({"additionalEventData": {"MFAUsed": ["No"]}}),
        json!({"requestParameters": {"userName": [{"equals-ignore-case": "MALLORY"}]}}),
        json!({"requestParameters": {"userName": [{"anything-but": ["bob"]}], "policyArn": [{"exists": true}]}}),
        json!({"resources": {"type": ["AWS::IAM::Role"]}}),
        json!({"resources": {"type": ["AWS::S3::Bucket"], "ARN": [{"suffix": "flaws.cloud"}]}}),
        json!({"resources": {"ARN": [{"exists": false}]}}),
        json!({"resources": {"accountId": [{"exists": true}]}}),
        json!({"insightDetails": {"state": ["Start"]}}),
        json!({"tlsDetails": {"tlsVersion": ["TLSv1.2"]}}),
        json!({"$or": [{"eventName": ["CreateUser"]}, {"errorCode": ["AccessDenied"]}]}),
        json!({"$or": [{"requestParameters": {"userName": ["mallory"]}}, {"resources": {"type": ["AWS::IAM::User"]}}]}),
        json!({"source": ["aws.iam"]}),
        json!({"source": ["aws.cloudwatch", "aws.s3"], "detail": {"readOnly": [false]}}),
        json!({"detail-type": ["AWS Console Sign In via CloudTrail"]}),
        json!({"detail-type": [{"prefix": "AWS Insight"}]}),
        json!({"source": [{"prefix": "aws."}], "detail": {"eventName": [{"wildcard": "Put*"}]}}),
        json!({"source": ["aws.sts"], "account": ["123837392027"], "region": [{"anything-but": "us-west-2"}]}),
        json!({"source": ["aws.iam"], "resources": [{"exists": false}], "version": ["0"]}),
        json!({"detail": {"requestParameters": {"roleArn": [{"exists": true}]}}, "id": [{"prefix": "a"}]}),
        json!({"source": ["aws.ec2"], "time": [{"prefix": "2023-07-10T12"}]}),
    ] {
        cases.push(pattern(p));
    }
    cases.push(args(&[
        "--source",
        "iam",
        "--pattern",
        r#"{"eventName":["CreateUser"]}"#,
        "--pattern",
        r#"{"source":["aws.iam"],"detail":{"errorCode":[{"exists":true}]}}"#,
    ]));
    cases
}

/// The conformance events (tests/data/conformance) as records of a synthetic delivery file,
/// each with an eventID, and every conformance pattern over all of them.
#[test]
fn conformance_patterns_over_their_events() {
    if !duckdb_available() {
        return;
    }
    let text =
        std::fs::read_to_string(util::root().join("tests/data/conformance/cases.jsonl")).unwrap();
    let mut records = Vec::new();
    let mut patterns: Vec<String> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let case: Value = serde_json::from_str(line).unwrap();
        let Some(pt) = case["pattern_text"].as_str() else { continue };
        if trailscan::pattern::Pattern::parse(pt).is_ok() && !patterns.iter().any(|p| p == pt) {
            patterns.push(pt.to_string());
        }
        let Some(et) = case["event_text"].as_str() else { continue };
        // Events serde_json reads as objects without an eventID of their own.
        if let Ok(Value::Object(mut m)) = serde_json::from_str::<Value>(et) {
            if m.contains_key("eventID") {
                continue;
            }
            m.insert("eventID".into(), json!(format!("conf-{i}")));
            records.push(Value::Object(m));
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("conformance.json");
    std::fs::write(&file, json!({"Records": records}).to_string()).unwrap();
    let archive = file.to_str().unwrap().to_string();
    let cases: Vec<Vec<String>> =
        patterns.iter().map(|p| vec!["--pattern".into(), p.clone()]).collect();
    let r = differential(&archive, &cases);
    check("conformance", &r);
    assert!(
        records.len() > 1000 && cases.len() > 300,
        "{} records, {} patterns",
        records.len(),
        cases.len()
    );
    assert!(Path::new(&archive).exists());
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Scalar leaves of a record: (dotted path, value), arrays flattened as event-ruler does.
fn leaves(v: &Value, path: &str, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                leaves(x, &p, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| leaves(x, path, out)),
        s if !path.is_empty() => out.push((path.to_string(), s.clone())),
        _ => {}
    }
}

fn nest(path: &str, alts: Value) -> Value {
    let mut v = alts;
    for k in path.rsplit('.') {
        v = json!({ k: v });
    }
    v
}

fn merge(a: &mut Value, b: Value) {
    if let (Value::Object(am), Value::Object(bm)) = (a, b) {
        for (k, v) in bm {
            match am.get_mut(&k) {
                Some(x) if x.is_object() && v.is_object() => merge(x, v),
                _ => {
                    am.insert(k, v);
                }
            }
        }
    }
}

fn flip_case(s: &str, rng: &mut Rng) -> String {
    s.chars()
        .map(|c| if rng.below(2) == 0 { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() })
        .collect()
}

/// One alternative list for a leaf value.
fn operator(v: &Value, rng: &mut Rng) -> Value {
    match v {
        Value::String(s) => {
            let n = s.chars().count();
            let k = if n == 0 { 0 } else { 1 + rng.below(n) };
            let head: String = s.chars().take(k).collect();
            let tail: String = s.chars().skip(n - k.min(n)).collect();
            match rng.below(12) {
                0 => json!([s]),
                1 => json!([{"prefix": head}]),
                2 => json!([{"suffix": tail}]),
                3 => json!([{"equals-ignore-case": flip_case(s, rng)}]),
                4 => {
                    let g = |t: &str| t.replace('\\', "\\\\").replace('*', "\\*");
                    json!([{"wildcard": format!("{}*{}", g(&head.chars().take(2).collect::<String>()), g(&tail.chars().skip(tail.chars().count().saturating_sub(2)).collect::<String>()))}])
                }
                5 => json!([{"anything-but": [s]}]),
                6 => json!([{"anything-but": {"prefix": head}}]),
                7 => json!([{"exists": true}]),
                8 => json!([{"exists": false}]),
                9 => json!([{"prefix": {"equals-ignore-case": flip_case(&head, rng)}}]),
                10 => {
                    let octets: Vec<&str> = s.split('.').collect();
                    if octets.len() == 4 && octets.iter().all(|o| o.parse::<u8>().is_ok()) {
                        json!([{"cidr": format!("{s}/{}", 8 + rng.below(23))}])
                    } else {
                        json!([{"anything-but": {"suffix": tail}}])
                    }
                }
                _ => {
                    json!([{"wildcard": format!("*{}*", head.replace('\\', "\\\\").replace('*', "\\*"))}])
                }
            }
        }
        Value::Number(n) => match rng.below(4) {
            0 => json!([n]),
            1 => json!([{"numeric": [">=", n]}]),
            2 => json!([{"anything-but": [n]}]),
            _ => json!([{"exists": true}]),
        },
        Value::Bool(b) => {
            if rng.below(2) == 0 {
                json!([b])
            } else {
                json!([!b])
            }
        }
        _ => {
            if rng.below(2) == 0 {
                json!([null])
            } else {
                json!([{"exists": true}])
            }
        }
    }
}

#[test]
fn random_patterns_over_fixture_records() {
    if !duckdb_available() {
        return;
    }
    let all = run_ok(&["search", ARCHIVE, "--format", "jsonl", "-q"], None);
    let records: Vec<Value> = all.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let mut rng = Rng(0x5EED_2026_0023);
    let mut cases = Vec::new();
    for _ in 0..120 {
        let make = |rng: &mut Rng| -> Value {
            let rec = &records[rng.below(records.len())];
            let mut ls = Vec::new();
            leaves(rec, "", &mut ls);
            let mut p = json!({});
            for _ in 0..1 + rng.below(3) {
                let (path, v) = &ls[rng.below(ls.len())];
                merge(&mut p, nest(path, operator(v, rng)));
            }
            p
        };
        let p = match rng.below(6) {
            0 => json!({"$or": [make(&mut rng), make(&mut rng)]}),
            1 => json!({"source": [{"prefix": "aws."}], "detail": make(&mut rng)}),
            _ => make(&mut rng),
        };
        cases.push(pattern(p));
    }
    check("random patterns", &differential(ARCHIVE, &cases));
}

/// `audit --emit-sql duckdb` for the threshold rules of the `threats` pack, over seeded bursts
/// of matching events: DuckDB reports the same (rule, group, first window start) as the first
/// finding of each group `trailscan audit` reports.
#[test]
fn threshold_rules_report_the_same_groups_as_audit() {
    if !duckdb_available() {
        return;
    }
    let mut rng = Rng(0xA0D1_7000_0023);
    let mut records = Vec::new();
    let mut n = 0;
    let mut push = |mut r: Value, secs: u64, records: &mut Vec<Value>| {
        let t = chrono::DateTime::from_timestamp(1_714_557_600 + secs as i64, 0).unwrap();
        r["eventTime"] = json!(t.format("%Y-%m-%dT%H:%M:%SZ").to_string());
        r["eventID"] = json!(format!("00000000-0000-4000-8000-{n:012}"));
        r["recipientAccountId"] = json!("111122223333");
        r["awsRegion"] = json!("us-east-1");
        n += 1;
        records.push(r);
    };
    for actor in ["alice", "bob", "carol", "dave", "erin"] {
        let arn = format!("arn:aws:iam::111122223333:user/{actor}");
        // Secrets read in bursts or spread out, depending on the actor.
        let spread = 60 + rng.below(900) as u64;
        let start = rng.below(7200) as u64;
        for i in 0..(6 + rng.below(12)) as u64 {
            let r = json!({"eventSource": "secretsmanager.amazonaws.com", "eventName": "GetSecretValue",
                "userIdentity": {"type": "IAMUser", "userName": actor, "arn": arn},
                "requestParameters": {"secretId": format!("s{i}")}});
            push(r, start + i * spread / 4 + rng.below(60) as u64, &mut records);
        }
        for i in 0..(3 + rng.below(6)) as u64 {
            let r = json!({"eventSource": "ssm.amazonaws.com", "eventName": "GetParameters",
                "userIdentity": {"type": "IAMUser", "userName": actor, "arn": arn},
                "requestParameters": {"names": ["a", "b"], "withDecryption": rng.below(4) != 0}});
            push(r, start + i * 50 + rng.below(200) as u64, &mut records);
        }
        for i in 0..(3 + rng.below(6)) as u64 {
            let r = json!({"eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin",
                "errorMessage": "Failed authentication",
                "userIdentity": {"type": "IAMUser", "userName": actor},
                "responseElements": {"ConsoleLogin": "Failure"}});
            push(r, start + i * 40 + rng.below(120) as u64, &mut records);
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bursts.json");
    std::fs::write(&file, json!({"Records": records}).to_string()).unwrap();
    let path = file.to_str().unwrap();

    // trailscan audit: the first finding of each (rule, group).
    let out = util::std_command(&["audit", path, "--pack", "threats", "--format", "jsonl", "-q"])
        .output()
        .unwrap();
    let mut want = BTreeSet::new();
    for l in String::from_utf8(out.stdout).unwrap().lines() {
        let f: Value = serde_json::from_str(l).unwrap();
        let Some(by) = f["threshold"]["by"].as_object() else { continue };
        let group: Vec<String> =
            by.values().map(|v| v.as_str().unwrap_or("").to_string()).collect();
        let key = (f["rule"].as_str().unwrap().to_string(), group.join("|"));
        let first = f["first_seen"].as_str().unwrap().to_string();
        if !want.iter().any(|(k, _): &((String, String), String)| *k == key) {
            want.insert((key, first));
        }
    }

    // DuckDB: the threshold queries.
    let view = run_ok(&["sql", "--dialect", "duckdb", "--print-view", path], None);
    let sql =
        run_ok(&["audit", "--emit-sql", "duckdb", "--from", "raw", "--pack", "threats"], None);
    let mut ids = Vec::new();
    let mut queries = Vec::new();
    for stmt in sql.split("\n\n").filter(|s| s.contains("-- threshold:")) {
        let id = stmt.split_whitespace().nth(2).unwrap().to_string();
        let body: String =
            stmt.lines().filter(|l| !l.starts_with("--")).collect::<Vec<_>>().join("\n");
        ids.push(id);
        queries.push(body);
    }
    assert_eq!(ids.len(), 3, "{ids:?}");
    let mut got = BTreeSet::new();
    for (id, rows) in ids.iter().zip(oracle(&[view], &queries, true)) {
        for r in rows.unwrap_or_else(|e| panic!("{id}: {e}")) {
            let cols: Vec<String> =
                r.iter().map(|v| v.as_str().unwrap_or("").to_string()).collect();
            // g1.., first_window_start, windows, max_events
            let k = cols.len() - 3;
            got.insert(((id.clone(), cols[..k].join("|")), cols[k].clone()));
        }
    }
    eprintln!("threshold groups: {} from audit, {} from DuckDB", want.len(), got.len());
    assert!(!want.is_empty());
    assert_eq!(got, want);
}
