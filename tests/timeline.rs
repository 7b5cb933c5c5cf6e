//! `trailscan timeline` from the command line, on a small incident written by [`incident`] (two
//! files whose times interleave) and on the Stratus Red Team fixtures.

#[path = "cli/util.rs"]
#[allow(dead_code)]
mod util;

use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::OnceLock;
use util::{jsonl, run, trailscan};

const ACCOUNT: &str = "111122223333";

fn record(time: &str, source: &str, name: &str, user: &str, id: &str, params: Value) -> Value {
    json!({
        "eventVersion": "1.08",
        "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLE",
            "arn": format!("arn:aws:iam::{ACCOUNT}:user/{user}"), "accountId": ACCOUNT,
            "userName": user},
        "eventTime": time, "eventSource": source, "eventName": name,
        "awsRegion": "eu-central-1", "sourceIPAddress": "203.0.113.7",
        "userAgent": "aws-cli/2.15.0", "requestParameters": params, "responseElements": null,
        "eventID": id, "readOnly": false, "eventType": "AwsApiCall", "managementEvent": true,
        "recipientAccountId": ACCOUNT, "eventCategory": "Management"
    })
}

/// The incident: `a-burst.json` (walked first) holds an attacker's burst: five failed console
/// sign-ins for alice within two minutes (a brute-force window), a user created, CloudTrail
/// stopped (two rules), an IAM group created (notable, no rule), a read-only call (neither),
/// and a user created by an actor named like a spreadsheet formula, with terminal escapes in
/// the new user's name. `b-before.json` holds the earliest event and one in the middle.
fn incident() -> &'static str {
    static DIR: OnceLock<String> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("timeline-incident");
        std::fs::create_dir_all(&dir).unwrap();
        let mut a = vec![record(
            "2024-03-01T10:05:00Z",
            "iam.amazonaws.com",
            "CreateUser",
            "mallory",
            "a-create-user",
            json!({"userName": "backdoor-1"}),
        )];
        for (i, t) in ["10:00:00", "10:00:30", "10:01:00", "10:01:30", "10:02:00"].iter().enumerate() {
            let mut r = record(
                &format!("2024-03-01T{t}Z"),
                "signin.amazonaws.com",
                "ConsoleLogin",
                "alice",
                &format!("a-login-{i}"),
                Value::Null,
            );
            r["eventType"] = "AwsConsoleSignIn".into();
            r["responseElements"] = json!({"ConsoleLogin": "Failure"});
            r["additionalEventData"] = json!({"MFAUsed": "No"});
            r["errorMessage"] = "Failed authentication".into();
            a.push(r);
        }
        a.push(record(
            "2024-03-01T10:07:00Z",
            "cloudtrail.amazonaws.com",
            "StopLogging",
            "mallory",
            "a-stop-logging",
            json!({"name": "org-trail"}),
        ));
        a.push(record(
            "2024-03-01T10:08:00Z",
            "iam.amazonaws.com",
            "CreateGroup",
            "mallory",
            "a-create-group",
            json!({"groupName": "ops-2"}),
        ));
        let mut list = record(
            "2024-03-01T10:09:00Z",
            "s3.amazonaws.com",
            "ListBuckets",
            "mallory",
            "a-list-buckets",
            Value::Null,
        );
        list["readOnly"] = true.into();
        a.push(list);
        a.push(record(
            "2024-03-01T10:10:00Z",
            "iam.amazonaws.com",
            "CreateUser",
            "=HYPERLINK(\"http://evil.example/\",\"x\")",
            "a-hostile",
            json!({"userName": "\u{1b}]8;;http://evil.example/\u{7}click\u{1b}]8;;\u{7}\u{1b}[2J\u{202e}"}),
        ));
        let mut key = record(
            "2024-03-01T10:04:00Z",
            "iam.amazonaws.com",
            "CreateAccessKey",
            "mallory",
            "b-access-key",
            json!({"userName": "backdoor-0"}),
        );
        key["responseElements"] = json!({"accessKey": {"accessKeyId": "AKIAEXAMPLEKEY000001",
            "status": "Active", "userName": "backdoor-0"}});
        let b = vec![
            record(
                "2024-03-01T09:00:00Z",
                "iam.amazonaws.com",
                "AttachUserPolicy",
                "mallory",
                "b-attach-admin",
                json!({"userName": "mallory",
                    "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
            ),
            key,
        ];
        for (name, records) in [("a-burst.json", a), ("b-before.json", b)] {
            let text = serde_json::to_string_pretty(&json!({"Records": records})).unwrap();
            std::fs::write(dir.join(name), text).unwrap();
        }
        dir.to_str().unwrap().to_string()
    })
}

fn rows(args: &[&str]) -> (i32, Vec<Value>) {
    let mut a = vec!["timeline", incident(), "-q", "--format", "jsonl"];
    a.extend(args);
    let (code, out, err) = run(&a);
    assert!(code == 0 || code == 1, "{a:?}: exit {code}: {err}");
    (code, jsonl(&out))
}

fn ids(rows: &[Value]) -> Vec<&str> {
    rows.iter().map(|r| r["eventID"].as_str().unwrap_or("")).collect()
}

#[test]
fn rows_come_in_event_time_order_across_files_with_merged_rules() {
    let (code, rows) = rows(&[]);
    assert_eq!(code, 1, "findings at or above low");
    // b-before.json is walked second but holds the earliest event.
    assert_eq!(
        ids(&rows),
        [
            "b-attach-admin",
            "a-login-0",
            "a-login-1",
            "a-login-2",
            "a-login-3",
            "a-login-4",
            "a-login-4",
            "b-access-key",
            "a-create-user",
            "a-stop-logging",
            "a-hostile",
        ]
    );
    let times: Vec<&str> = rows.iter().map(|r| r["time"].as_str().unwrap()).collect();
    let mut sorted = times.clone();
    sorted.sort_unstable();
    assert_eq!(times, sorted);
    assert_eq!(rows[0]["time"], "2024-03-01T09:00:00+00:00");
    // One row naming every rule the record fired, the most severe first.
    let stop = &rows[9];
    assert_eq!(stop["kind"], "detection");
    assert_eq!(
        stop["rules"],
        serde_json::json!(["cloudtrail-stop-logging", "cis-4.5-cloudtrail-configuration-changes"])
    );
    assert_eq!(stop["level"], "critical");
    assert_eq!(stop["titles"].as_array().unwrap().len(), 2);
    assert_eq!(stop["detail"], "stopped logging of trail org-trail");
    assert!(stop["file"].as_str().unwrap().ends_with("/timeline-incident/a-burst.json"));
    // The summary's plain words, without the columns they would repeat.
    assert_eq!(rows[8]["detail"], "created IAM user backdoor-1");
    assert_eq!(rows[8]["actor"], "mallory");
    assert_eq!(rows[8]["account"], "111122223333");
    assert_eq!(rows[8]["region"], "eu-central-1");
    assert_eq!(rows[8]["source_ip"], "203.0.113.7");
    assert_eq!(rows[8]["event_source"], "iam.amazonaws.com");
    assert_eq!(rows[8]["event_name"], "CreateUser");
    assert_eq!(rows[1]["detail"], "tried to sign in to the console without MFA");
    assert_eq!(rows[1]["error_code"], "Failure");
    // No --raw: no record.
    assert!(rows.iter().all(|r| r.get("record").is_none()));
}

#[test]
fn threshold_window_is_one_row_at_its_last_event_naming_the_count() {
    let (_, rows) = rows(&[]);
    let windows: Vec<&Value> = rows.iter().filter(|r| r["kind"] == "window").collect();
    assert_eq!(windows.len(), 1);
    let w = windows[0];
    assert_eq!(w["rules"], serde_json::json!(["console-login-brute-force"]));
    assert_eq!(w["count"], 5);
    assert_eq!(w["time"], "2024-03-01T10:02:00+00:00");
    assert_eq!(w["window_start"], "2024-03-01T10:00:00+00:00");
    assert_eq!(w["eventID"], "a-login-4");
    assert_eq!(w["level"], "high");
    let detail = w["detail"].as_str().unwrap();
    assert!(detail.starts_with("5 matching events within 5m"), "{detail}");
    assert!(detail.contains("userIdentity.userName=alice"), "{detail}");
    // After the event that completed it.
    let pos = rows.iter().position(|r| r["kind"] == "window").unwrap();
    assert_eq!(rows[pos - 1]["eventID"], "a-login-4");
    assert_eq!(rows[pos - 1]["kind"], "detection");
    // Four failures are no window.
    let (_, rows) = self::rows(&["--until", "2024-03-01T10:01:45Z"]);
    assert!(rows.iter().all(|r| r["kind"] != "window"));
    // Sigma correlations make windows too.
    let (_, rows) = self::rows(&[
        "--sigma",
        "tests/data/sigma/correlation",
        "--sigma-config",
        "tests/data/sigma/placeholders.yml",
    ]);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["rules"], serde_json::json!(["login-failure-burst"]));
    assert_eq!(rows[0]["count"], 5);
}

#[test]
fn notable_actions_no_rule_fired_on_are_info_rows() {
    let (_, plain) = rows(&[]);
    let (_, with) = rows(&["--notable"]);
    let added: Vec<&Value> = with.iter().filter(|r| r["kind"] == "notable").collect();
    assert_eq!(added.len(), 1, "{with:?}");
    assert_eq!(added[0]["eventID"], "a-create-group");
    assert_eq!(added[0]["level"], "info");
    assert_eq!(added[0]["detail"], "created IAM group ops-2");
    assert_eq!(added[0]["titles"], serde_json::json!(["notable: iam"]));
    assert_eq!(with.len(), plain.len() + 1);
    // Read-only calls are not notable.
    assert!(!ids(&with).contains(&"a-list-buckets"));
    // Notable rows are info: not shown above it, and never fail the run.
    let (_, high) = rows(&["--notable", "--min-level", "high"]);
    assert!(high.iter().all(|r| r["level"] == "high" || r["level"] == "critical"), "{high:?}");
    assert_eq!(high.len(), 4);
    let (code, only) = rows(&["--notable", "--event", "CreateGroup"]);
    assert_eq!((code, only.len()), (0, 1));
}

#[test]
fn filters_levels_and_exit_codes_are_the_audits() {
    let (_, alice) = rows(&["--user", "alice"]);
    assert_eq!(alice.len(), 6);
    assert!(alice.iter().all(|r| r["actor"] == "alice"));
    let (_, since) = rows(&["--since", "2024-03-01T10:04:00Z", "--min-level", "info"]);
    assert_eq!(ids(&since), ["b-access-key", "a-create-user", "a-stop-logging", "a-hostile"]);
    let (code, _) = rows(&["--min-level", "critical", "--fail-on", "critical"]);
    assert_eq!(code, 1);
    let (code, low) = rows(&["--event", "ConsoleLogin", "--fail-on", "critical"]);
    assert_eq!((code, low.len()), (0, 6));
    let (code, _, err) = run(&["timeline", "fixtures/no-such-file.json", "-q"]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = run(&["timeline", incident(), "--pattern", "{}"]);
    assert_eq!(code, 2);
    assert!(err.contains("--pattern is not a timeline filter"), "{err}");
    let (code, _, err) = run(&["timeline", incident(), "--raw"]);
    assert_eq!(code, 2);
    assert!(err.contains("--raw"), "{err}");
}

#[test]
fn one_pass_finds_what_audit_finds() {
    // Every plain finding of `audit` is in the timeline, as a row naming its rule, and nothing
    // else is; the records are read once.
    let stats = tempfile::NamedTempFile::new().unwrap();
    let stats_path = stats.path().to_str().unwrap();
    let (code, out, err) =
        run(&["timeline", "fixtures/stratus", "-q", "-f", "jsonl", "--stats-json", stats_path]);
    assert_eq!(code, 1, "{err}");
    let mut from_timeline = BTreeSet::new();
    for r in jsonl(&out) {
        for rule in r["rules"].as_array().unwrap() {
            from_timeline.insert((rule.as_str().unwrap().to_string(), r["eventID"].to_string()));
        }
    }
    let s: Value = serde_json::from_str(&std::fs::read_to_string(stats.path()).unwrap()).unwrap();
    let (_, audit, _) = run(&["audit", "fixtures/stratus", "-q", "-f", "jsonl"]);
    let mut from_audit = BTreeSet::new();
    for f in jsonl(&audit) {
        // A threshold window is a row at its last event (the records are in time order).
        let id = match f["records"].as_array() {
            Some(records) => records.last().unwrap()["eventID"].to_string(),
            None => f["record"]["eventID"].to_string(),
        };
        from_audit.insert((f["rule"].as_str().unwrap().to_string(), id));
    }
    assert!(!from_audit.is_empty());
    assert_eq!(from_timeline, from_audit);
    let (_, count, _) = run(&["search", "fixtures/stratus", "-q", "--count"]);
    assert_eq!(s["records_read"].to_string(), count.trim());
}

#[test]
fn timesketch_lines_and_csv_have_its_columns() {
    let (code, out, err) = run(&["timeline", incident(), "-q", "--format", "timesketch", "--raw"]);
    assert_eq!(code, 1, "{err}");
    let lines = jsonl(&out);
    assert_eq!(lines.len(), 11);
    for l in &lines {
        for k in ["message", "datetime", "timestamp", "timestamp_desc", "level", "rule_title"] {
            assert!(l.get(k).is_some(), "{k} missing in {l}");
        }
        assert_eq!(l["timestamp_desc"], "CloudTrail eventTime");
        assert_eq!(l["record"]["eventID"], l["event_id"]);
    }
    let first = &lines[0];
    assert_eq!(first["datetime"], "2024-03-01T09:00:00+00:00");
    assert_eq!(first["timestamp"], 1_709_283_600_000_000_i64);
    assert_eq!(
        first["message"],
        "[critical] AdministratorAccess attached to a user, role or group | IAM policy changes: \
         mallory attached policy arn:aws:iam::aws:policy/AdministratorAccess to user mallory"
    );
    assert_eq!(first["rule_id"], "iam-admin-policy-attached | cis-4.4-iam-policy-changes");
    let (_, csv, _) = run(&["timeline", incident(), "-q", "--format", "timesketch-csv"]);
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(header[..4], ["message", "datetime", "timestamp", "timestamp_desc"]);
    assert!(header.contains(&"event_id".to_string()) && header.contains(&"file".to_string()));
    let recs: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(recs.len(), 11);
    assert_eq!(&recs[0][1], "2024-03-01T09:00:00+00:00");
    assert_eq!(&recs[0][2], "1709283600000000");
}

#[test]
fn time_zones_are_shown_with_their_offset() {
    let (_, rows) = rows(&["--tz", "Europe/Berlin"]);
    assert_eq!(rows[0]["time"], "2024-03-01T10:00:00+01:00");
    let (_, rows) = self::rows(&["--tz", "asia/kolkata"]);
    assert_eq!(rows[0]["time"], "2024-03-01T14:30:00+05:30");
    let out = trailscan(&["timeline", incident(), "-q", "--local", "-f", "jsonl"])
        .env("TZ", "Asia/Tokyo")
        .output()
        .unwrap();
    let rows = jsonl(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(rows[0]["time"], "2024-03-01T18:00:00+09:00");
    // The table and its summary too.
    let (_, table, _) = run(&["timeline", incident(), "-q", "--tz", "America/New_York"]);
    assert!(table.contains("2024-03-01 04:00:00 -05:00 · critical"), "{table}");
    assert!(table.contains("Busiest hour:    2024-03-01 05:00 -05:00 (10 rows)"), "{table}");
    let (code, _, err) = run(&["timeline", incident(), "--tz", "Mars/Olympus_Mons"]);
    assert_eq!(code, 2);
    assert!(err.contains("not an IANA time zone"), "{err}");
    let (code, _, _) = run(&["timeline", incident(), "--tz", "UTC", "--local"]);
    assert_eq!(code, 2);
}

#[test]
fn csv_cells_cannot_be_formulas_or_escapes() {
    let (_, out, _) = run(&["timeline", incident(), "-q", "--format", "csv"]);
    let mut r = csv::Reader::from_reader(out.as_bytes());
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(header[0], "time");
    let actor = header.iter().position(|h| h == "actor").unwrap();
    let detail = header.iter().position(|h| h == "detail").unwrap();
    let recs: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    let hostile = recs.last().unwrap();
    assert_eq!(&hostile[actor], "'=HYPERLINK(\"http://evil.example/\",\"x\")");
    assert!(!hostile[detail].contains('\u{1b}') && hostile[detail].contains("\\u{1b}"));
    assert!(!out.contains('\u{202e}'));
    let (_, raw, _) = run(&["timeline", incident(), "-q", "--format", "csv", "--csv-raw"]);
    assert!(raw.contains("\n2024-03-01T10:10:00+00:00,medium,IAM user created"));
    assert!(raw.contains(",\"=HYPERLINK("), "{raw}");
}

#[test]
fn hostile_strings_never_reach_the_terminal_as_escapes() {
    let (_, plain, _) = run(&["timeline", incident(), "-q", "--color", "never"]);
    assert!(!plain.contains('\u{1b}') && !plain.contains('\u{7}') && !plain.contains('\u{202e}'));
    assert!(plain.contains("created IAM user \\u{1b}]8;;http://evil.example/\\u{7}click"));
    // Colour is added after escaping: SGR codes only.
    let (_, coloured, _) = run(&["timeline", incident(), "-q", "--color", "always"]);
    assert!(coloured.contains("\u{1b}[31m2024-03-01 10:04:00 +00:00 · high"), "{coloured}");
    assert!(coloured.contains("\u{1b}[33m"));
    let stripped = coloured.replace("\u{1b}[31m", "").replace("\u{1b}[33m", "");
    let stripped =
        stripped.replace("\u{1b}[36m", "").replace("\u{1b}[1m", "").replace("\u{1b}[0m", "");
    assert_eq!(stripped, plain);
    // NO_COLOR: --color auto is off even where it would colour (stdout is not a terminal here,
    // so this checks that NO_COLOR is no error and changes nothing).
    let out = trailscan(&["timeline", incident(), "-q"]).env("NO_COLOR", "1").output().unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), plain);
    // JSON stays exact.
    let (_, rows) = rows(&[]);
    assert_eq!(
        rows.last().unwrap()["detail"],
        "created IAM user \u{1b}]8;;http://evil.example/\u{7}click\u{1b}]8;;\u{7}\u{1b}[2J\u{202e}"
    );
}

#[test]
fn table_ends_with_the_results_summary() {
    let (code, out, _) = run(&["timeline", incident(), "-q", "--notable"]);
    assert_eq!(code, 1);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("Time · Level · Rule · Actor"), "{out}");
    assert!(out.contains("\nResults summary\n"), "{out}");
    assert!(out.contains(
        "  12 rows: critical 2, high 2, medium 2, low 5, info 1 (49 rules run over 12 records read)"
    ), "{out}");
    assert!(out.contains("           5  low       Management console authentication failures (cis-4.6-console-authentication-failures)"), "{out}");
    assert!(out.contains("Top actors:\n           6  alice\n           5  mallory\n"), "{out}");
    assert!(out.contains("  First detection: 2024-03-01 09:00:00 +00:00  AdministratorAccess"));
    assert!(out.contains("  Last detection:  2024-03-01 10:10:00 +00:00  IAM user created"));
    assert!(out.contains("  Busiest hour:    2024-03-01 10:00 +00:00 (11 rows)"));
    // Other formats: the summary goes to stderr (unless --quiet).
    let (_, out, err) = run(&["timeline", incident(), "-f", "csv"]);
    assert!(!out.contains("Results summary") && err.contains("Results summary"), "{err}");
}

#[test]
fn the_archive_index_skips_files_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let index = dir.path().to_str().unwrap();
    let (code, _, err) = run(&["index", "fixtures/stratus", "--index-dir", index, "-q"]);
    assert_eq!(code, 0, "{err}");
    let stats = dir.path().join("stats.json");
    let base = ["timeline", "fixtures/stratus", "-q", "-f", "jsonl", "--notable", "--pack", "cis"];
    let (_, without, _) = run(&[&base[..], &["--no-index"]].concat());
    let (_, with, _) = run(&[
        &base[..],
        &["--index-dir", index, "--stats-json", stats.to_str().unwrap()],
    ]
    .concat());
    assert!(!without.is_empty());
    assert_eq!(with, without);
    let s: Value = serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
    assert!(s["files_indexed"].as_u64().unwrap() > 0, "{s}");
}

#[test]
fn output_file_holds_the_rows_and_stdout_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    for format in ["table", "csv"] {
        let file = dir.path().join(format!("timeline.{format}"));
        let f = file.to_str().unwrap();
        let (code, out, err) =
            run(&["timeline", incident(), "-q", "-f", format, "-o", f, "--color", "always"]);
        assert_eq!(code, 1, "{err}");
        assert!(out.contains("Results summary") && !out.contains("mallory ·"), "{out}");
        let rows = std::fs::read_to_string(&file).unwrap();
        assert!(!rows.contains('\u{1b}') && !rows.contains("Results summary"), "{rows}");
        assert_eq!(rows.lines().count(), 12, "{rows}");
    }
    let (code, _, err) = run(&["timeline", incident(), "-o", "/nonexistent-dir/x.csv"]);
    assert_eq!(code, 2);
    assert!(err.contains("creating /nonexistent-dir/x.csv"), "{err}");
}

#[test]
fn rows_without_a_readable_time_come_last_and_timesketch_names_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut late = record(
        "2024-03-01T10:05:00Z",
        "iam.amazonaws.com",
        "CreateUser",
        "mallory",
        "timed",
        json!({"userName": "u1"}),
    );
    let mut untimed = late.clone();
    untimed["eventTime"] = "not a time".into();
    untimed["eventID"] = "untimed".into();
    late["eventTime"] = "2024-03-02T00:00:00Z".into();
    let text = serde_json::to_string(&json!({"Records": [untimed, late]})).unwrap();
    std::fs::write(dir.path().join("f.json"), text).unwrap();
    let d = dir.path().to_str().unwrap();
    let (_, out, _) = run(&["timeline", d, "-q", "-f", "jsonl"]);
    let rows = jsonl(&out);
    assert_eq!(ids(&rows), ["timed", "untimed"]);
    assert_eq!(rows[1]["time"], "not a time");
    let (_, table, _) = run(&["timeline", d, "-q"]);
    assert!(table.contains("Rows without a readable eventTime (listed last): 1"), "{table}");
    let (code, out, err) = run(&["timeline", d, "-f", "timesketch"]);
    assert_eq!(code, 1);
    assert_eq!(jsonl(&out).len(), 1);
    assert!(err.contains("1 rows without a readable eventTime are not in the Timesketch output"));
}
