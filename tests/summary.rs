//! `trailscan summary` end to end: the real binary on `fixtures/archive`.

use assert_cmd::Command;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

const ARCHIVE: &str = "fixtures/archive";

fn trailscan() -> Command {
    let mut c = Command::cargo_bin("trailscan").unwrap();
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    // No archive index from the user's cache: the accounting in snapshots is a full scan's.
    c.env("TRAILSCAN_INDEX_DIR", concat!(env!("CARGO_MANIFEST_DIR"), "/target/no-index-in-tests"));
    c
}

/// Runs `summary ARCHIVE -q ARGS`, expecting `code`; returns stdout.
fn summary(args: &[&str], code: i32) -> String {
    let out = trailscan().arg("summary").arg(ARCHIVE).arg("-q").args(args).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(code),
        "summary {args:?}: stderr {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn json(args: &[&str]) -> Value {
    let mut a = args.to_vec();
    a.extend(["--format", "json"]);
    serde_json::from_str(&summary(&a, 0)).unwrap()
}

#[test]
fn overview_text() {
    insta::assert_snapshot!("overview_text", summary(&["--top", "5"], 0));
}

#[test]
fn create_user_report() {
    let out = summary(&["--event", "CreateUser"], 0);
    let notable: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.starts_with("Notable actions"))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .collect();
    let line = |user: &str| {
        notable
            .iter()
            .find(|l| l.contains(&format!("IAM user {user} ")))
            .unwrap_or_else(|| panic!("no line for {user} in\n{out}"))
    };
    let b1 = line("backdoor-1");
    assert!(
        b1.starts_with("  2023-07-11 09:14:07Z  mallory (IAMUser, 222233334444) created IAM user")
    );
    assert!(b1.contains("from 203.0.113.66 [us-east-1] using aws-cli/2.13.0"), "{b1}");
    let b2 = line("backdoor-2");
    assert!(
        b2.contains("OrganizationAccountAccessRole/mallory (AssumedRole, 555566667777) created")
    );
    let b3 = line("backdoor-3");
    assert!(
        b3.contains(
            "FAILED AccessDenied: mallory (IAMUser, 123837392027) tried to create IAM user backdoor-3"
        ),
        "{b3}"
    );
    assert!(out.starts_with("Summary: 8 records"), "{out}");
    assert!(out.contains("Notable actions (8, 1 failed)"));
    insta::assert_snapshot!("create_user_text", out);
}

#[test]
fn create_user_json_fields() {
    let v = json(&["--event", "CreateUser"]);
    let actions = v["notable"]["actions"].as_array().unwrap();
    assert_eq!(actions.len(), 8);
    let b3 = actions.iter().find(|a| a["object"] == "backdoor-3").unwrap();
    assert_eq!(b3["failed"], true);
    assert_eq!(b3["error_code"], "AccessDenied");
    assert_eq!(b3["actor"], "mallory");
    assert_eq!(b3["source_ip"], "203.0.113.66");
    assert_eq!(b3["time"], "2023-07-13T03:22:10Z");
    assert!(b3["user_agent"].as_str().unwrap().starts_with("aws-cli/2.13.0"));
    for user in ["backdoor-1", "backdoor-2"] {
        let a = actions.iter().find(|a| a["object"] == user).unwrap();
        assert_eq!(a["failed"], false);
        assert_eq!(a["action"], "created IAM user");
    }
    insta::assert_snapshot!("create_user_json", serde_json::to_string_pretty(&v).unwrap());
}

#[test]
fn json_schema_keys() {
    let v = json(&["--by", "eventName,actor", "--timeline-by", "eventName"]);
    assert_eq!(v["schema"], "trailscan-summary/1");
    for k in ["overview", "top", "groups", "notable", "timeline", "stats"] {
        assert!(v.get(k).is_some(), "{k}");
    }
    for k in [
        "records",
        "files_with_records",
        "files_read",
        "files_failed",
        "undated_records",
        "first_seen",
        "last_seen",
        "accounts",
        "regions",
    ] {
        assert!(v["overview"].get(k).is_some(), "overview.{k}");
    }
    for t in [
        "event_sources",
        "event_names",
        "actors",
        "source_ips",
        "user_agents",
        "error_codes",
        "accounts",
        "regions",
    ] {
        let table = &v["top"][t];
        for k in ["field", "distinct", "records", "rows"] {
            assert!(table.get(k).is_some(), "top.{t}.{k}");
        }
        assert!(table["rows"].as_array().unwrap().len() <= 10);
        for row in table["rows"].as_array().unwrap() {
            for k in ["value", "count", "first_seen", "last_seen"] {
                assert!(row.get(k).is_some(), "top.{t}.rows[].{k}");
            }
        }
    }
    let row = &v["groups"]["rows"][0];
    for k in ["key", "count", "first_seen", "last_seen", "distinct"] {
        assert!(row.get(k).is_some(), "groups.rows[].{k}");
    }
    assert_eq!(v["groups"]["by"], serde_json::json!(["eventName", "actor"]));
    for k in ["total", "failed", "dropped", "actions"] {
        assert!(v["notable"].get(k).is_some(), "notable.{k}");
    }
    let a = &v["notable"]["actions"][0];
    for k in [
        "time",
        "category",
        "event_source",
        "event_name",
        "failed",
        "error_code",
        "actor",
        "identity_type",
        "account",
        "action",
        "object",
        "target",
        "source_ip",
        "region",
        "user_agent",
        "event_id",
        "description",
    ] {
        assert!(a.get(k).is_some(), "notable.actions[].{k}");
    }
    assert_eq!(v["timeline"]["bucket"], "day");
    assert_eq!(v["timeline"]["by"], "eventName");
    assert_eq!(v["timeline"]["series"].as_array().unwrap().len(), 6);
    let b = &v["timeline"]["buckets"][0];
    for k in ["start", "count", "series"] {
        assert!(b.get(k).is_some(), "timeline.buckets[].{k}");
    }
    assert_eq!(v["overview"]["records"], 2594);
    let sum: u64 = v["timeline"]["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["count"].as_u64().unwrap())
        .sum();
    assert_eq!(sum, 2594);
}

#[test]
fn by_event_name_counts_equal_search_counts() {
    let v = json(&["--by", "eventName"]);
    let rows = v["groups"]["rows"].as_array().unwrap();
    let counts: BTreeMap<String, u64> = rows
        .iter()
        .map(|r| (r["key"][0].as_str().unwrap().to_string(), r["count"].as_u64().unwrap()))
        .collect();
    assert!(counts.len() > 200, "{} names", counts.len());
    assert_eq!(counts.values().sum::<u64>(), v["overview"]["records"].as_u64().unwrap());
    for (name, n) in &counts {
        // The Insight records have no eventName: `-` groups them.
        let args = if name == "-" {
            vec!["--pattern", r#"{"eventName":[{"exists":false}]}"#]
        } else {
            vec!["--event", name.as_str()]
        };
        let out =
            trailscan().args(["search", ARCHIVE, "-q", "--count"]).args(&args).output().unwrap();
        let found: u64 = String::from_utf8(out.stdout).unwrap().trim().parse().unwrap();
        assert_eq!(found, *n, "eventName {name}");
    }
}

/// `summary` reads the fields of delivery-file records while splitting the file; JSON lines
/// are split line by line and read record by record. The same records, usual and odd, must
/// summarise alike either way.
#[test]
fn delivery_file_and_json_lines_summarise_alike() {
    let out = trailscan().args(["search", ARCHIVE, "-q", "--format", "jsonl"]).output().unwrap();
    let mut records: Vec<String> =
        String::from_utf8(out.stdout).unwrap().lines().map(str::to_string).collect();
    assert!(records.len() > 2000);
    // Records the field reader hands to the exact slow path: a dotted key, a repeated key, a
    // string where the identity object should be, an escaped key, a key with a dot inside
    // the identity, a root action with odd spacing.
    records.extend(
        [
            r#"{"eventName":"CreateUser","eventName":"DeleteUser","eventSource":"iam.amazonaws.com","eventTime":"2023-07-11T09:14:07Z"}"#,
            r#"{"userIdentity.type":"Root","eventName":"GetUser","eventTime":"2023-07-11T09:14:08Z"}"#,
            r#"{"userIdentity":"{\"type\":\"Root\"}","eventName":"ListUsers","eventTime":"2023-07-11T09:14:09Z"}"#,
            r#"{"event\u004eame":"CreateAccessKey","eventSource":"iam.amazonaws.com","eventTime":"2023-07-11T09:14:10Z"}"#,
            r#"{"userIdentity":{"type":"IAMUser","user.Name":"x","userName":"eve"},"eventName":"PutUserPolicy","eventSource":"iam.amazonaws.com"}"#,
            r#"{ "userIdentity" : { "type" : "Root" , "arn" : "arn:aws:iam::111122223333:root" } , "eventName" : "StopLogging" , "readOnly" : false , "eventSource" : "cloudtrail.amazonaws.com" , "eventTime" : "2023-07-11T09:14:11Z" }"#,
        ]
        .map(str::to_string),
    );
    let dir = tempfile::tempdir().unwrap();
    let delivery = dir.path().join("delivery.json");
    let lines = dir.path().join("lines.jsonl");
    std::fs::write(&delivery, format!("{{\"Records\":[{}]}}", records.join(","))).unwrap();
    std::fs::write(&lines, records.join("\n")).unwrap();
    let report = |path: &Path| -> Value {
        let out = trailscan()
            .args(["summary", "-q", "--by", "eventName,actor", "--top", "0", "--format", "json"])
            .arg(path)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        let mut v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v.as_object_mut().unwrap().remove("stats");
        v
    };
    let (a, b) = (report(&delivery), report(&lines));
    assert_eq!(a["overview"]["records"].as_u64(), Some(records.len() as u64));
    assert_eq!(a, b);
}

#[test]
fn groups_text() {
    insta::assert_snapshot!(
        "groups_text",
        summary(&["--by", "eventName,userIdentity.arn", "--top", "5", "--source", "iam"], 0)
    );
}

#[test]
fn timeline_text() {
    let out = summary(&["--timeline", "--source", "iam"], 0);
    assert!(out.contains("Activity per day (empty days skipped)"), "{out}");
    insta::assert_snapshot!("timeline_day_text", out);
    let out = summary(
        &[
            "--timeline-by",
            "eventName",
            "--bucket",
            "hour",
            "--source",
            "iam",
            "--since",
            "2023-07-10",
            "--until",
            "2023-07-14",
        ],
        0,
    );
    assert!(out.contains("Activity per hour by eventName"), "{out}");
    insta::assert_snapshot!("timeline_hour_by_text", out);
}

#[test]
fn csv_all_sections_and_one() {
    let all = summary(&["--event", "CreateUser", "--format", "csv", "--by", "actor"], 0);
    for s in ["overview", "notable", "event_names", "actors", "groups", "timeline"] {
        assert!(all.contains(&format!("# {s}\n")), "{s}");
    }
    insta::assert_snapshot!("create_user_csv", all);
    let one = summary(&["--event", "CreateUser", "--format", "csv", "--section", "notable"], 0);
    let mut r = csv::Reader::from_reader(one.as_bytes());
    let head = r.headers().unwrap().clone();
    assert_eq!(&head[0], "time");
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 8);
    let b3 = rows.iter().find(|r| &r[7] == "backdoor-3").unwrap();
    assert_eq!((&b3[1], &b3[2], &b3[3]), ("failed", "AccessDenied", "mallory"));
    let ev = summary(&["--format", "csv", "--section", "event_names", "--top", "3"], 0);
    assert_eq!(ev.lines().count(), 4, "{ev}");
}

#[test]
fn bad_section_use_is_an_error() {
    summary(&["--section", "notable"], 2);
    summary(&["--format", "csv", "--section", "groups"], 2);
    summary(&["--format", "csv", "--section", "nonsense"], 2);
}

#[test]
fn exit_codes() {
    summary(&["--event", "NoSuchEventName"], 1);
    let out = trailscan().args(["summary", "-q", "fixtures/broken"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("Summary: "));
}

#[test]
fn hostile_text_is_sanitised() {
    for format in ["text", "csv", "html"] {
        let out = trailscan()
            .args(["summary", "-q", "fixtures/shapes/hostile.json", "--format", format])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        let s = String::from_utf8(out.stdout).unwrap();
        assert!(!s.contains('\u{1b}') && !s.contains('\u{7}') && !s.contains('\u{202e}'), "{s}");
        if format == "csv" {
            assert!(!s.contains(",=HYPERLINK"), "{s}");
        }
        if format == "html" {
            // The page's own two scripts; every data string is escaped JSON inside one.
            assert_eq!(s.matches("<script").count(), 2, "{s}");
            assert!(!s.contains(" src="), "{s}");
        }
    }
}

fn html_report(dir: &Path, args: &[&str]) -> std::path::PathBuf {
    let path = dir.join("report.html");
    let mut a = vec!["--format", "html", "--output", path.to_str().unwrap()];
    a.extend(args);
    assert_eq!(summary(&a, 0), "", "the report goes to --output");
    path
}

#[test]
fn html_is_self_contained() {
    // `--format html` writes the interactive report (tests/report.rs tests it in depth).
    let dir = tempfile::tempdir().unwrap();
    let path = html_report(dir.path(), &["--by", "eventName"]);
    let html = std::fs::read_to_string(&path).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<title>trailscan report</title>"));
    assert!(
        html.contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'")
    );
    for bad in ["<link", " src=", "@import", "url(", "unsafe-inline"] {
        assert!(!html.contains(bad), "{bad}");
    }
    assert!(html.contains("created IAM user backdoor-1"));
    assert!(html.contains("tried to create IAM user backdoor-3"));
}

/// Renders the page in headless Chromium and reads the DOM it built.
#[test]
fn html_renders_in_chromium() {
    let chromium = Path::new("/usr/bin/chromium");
    if !chromium.exists() {
        eprintln!("SKIPPED: chromium not installed (/usr/bin/chromium)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = html_report(dir.path(), &[]);
    let profile = dir.path().join("profile");
    let out = std::process::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", path.display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "chromium: {}", String::from_utf8_lossy(&out.stderr));
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(dom.contains("<title>trailscan report</title>"), "{dom}");
    assert!(dom.contains("data-ready=\"1\""), "the script ran: {dom}");
    assert!(dom.contains("100 actions, 11 failed"), "{dom}");
    assert!(dom.contains("created IAM user backdoor-1"));
    assert!(dom.contains("FAILED AccessDenied: mallory (IAMUser, 123837392027) tried to create"));
    assert!(dom.contains("id=\"timeline-chart\""));
    assert!(dom.contains("<rect"));
    assert!(dom.contains("id=\"table-event_names\""));
}
