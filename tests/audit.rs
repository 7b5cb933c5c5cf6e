//! `trailscan audit` and `trailscan rules` from the command line.

use assert_cmd::Command;
use serde_json::{Value, json};
use std::path::Path;

const STRATUS: &str = "fixtures/stratus";

fn trailscan() -> Command {
    Command::cargo_bin("trailscan").unwrap()
}

fn stratus(file: &str) -> String {
    format!("{STRATUS}/aws.{file}.json")
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn jsonl(out: &std::process::Output) -> Vec<Value> {
    stdout(out).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn table_summarises_findings_per_rule() {
    let out = trailscan()
        .args(["audit", "-q", "-j", "1", &stratus("persistence.iam-create-admin-user")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!("table_create_admin_user", stdout(&out));
}

#[test]
fn jsonl_has_one_finding_per_record_with_the_record() {
    let out = trailscan()
        .args(["audit", "-q", "--format", "jsonl", &stratus("defense-evasion.cloudtrail-stop")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let f = jsonl(&out);
    let rules: Vec<&str> = f.iter().map(|f| f["rule"].as_str().unwrap()).collect();
    assert_eq!(rules, ["cis-4.5-cloudtrail-configuration-changes", "cloudtrail-stop-logging"]);
    assert_eq!(f[1]["severity"], "critical");
    assert_eq!(f[1]["title"], "CloudTrail logging stopped");
    assert_eq!(f[1]["events"], 1);
    assert_eq!(f[1]["record"]["eventName"], "StopLogging");
    assert_eq!(f[1]["first_seen"], f[1]["record"]["eventTime"]);
    insta::assert_snapshot!("jsonl_cloudtrail_stop", stdout(&out));
    // The same findings as one JSON array.
    let out = trailscan()
        .args(["audit", "-q", "--format", "json", &stratus("defense-evasion.cloudtrail-stop")])
        .output()
        .unwrap();
    let arr: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(arr, f);
}

#[test]
fn csv_has_a_row_per_finding() {
    let out = trailscan()
        .args([
            "audit",
            "-q",
            "--pack",
            "threats",
            "--format",
            "csv",
            &stratus("execution.ssm-start-session"),
        ])
        .output()
        .unwrap();
    let text = stdout(&out);
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "rule,severity,title,first_seen,last_seen,events,eventName,actor,sourceIPAddress,recipientAccountId,awsRegion,eventID,group"
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r.starts_with("ssm-start-session,low,")), "{rows:?}");
}

#[test]
fn fail_on_sets_the_exit_status() {
    let file = stratus("defense-evasion.cloudtrail-stop"); // critical and high findings
    let code = |extra: &[&str]| {
        trailscan().args(["audit", "-q", &file]).args(extra).output().unwrap().status.code()
    };
    assert_eq!(code(&[]), Some(1));
    assert_eq!(code(&["--fail-on", "critical"]), Some(1));
    let low = stratus("execution.ssm-start-session"); // only low findings
    let out = trailscan().args(["audit", "-q", "--fail-on", "medium", &low]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("ssm-start-session"));
    let out = trailscan().args(["audit", "-q", "--fail-on", "low", &low]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn min_severity_drops_lower_rules() {
    let low = stratus("execution.ssm-start-session");
    let out = trailscan().args(["audit", "-q", "--min-severity", "medium", &low]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).starts_with("no findings ("), "{}", stdout(&out));
    let out = trailscan()
        .args(["audit", "-q", "--min-severity", "critical", "--format", "jsonl", STRATUS])
        .output()
        .unwrap();
    let f = jsonl(&out);
    assert!(!f.is_empty());
    assert!(f.iter().all(|f| f["severity"] == "critical"));
}

#[test]
fn search_filters_narrow_the_audit() {
    let out = trailscan()
        .args(["audit", "-q", "--format", "jsonl", "--event", "StopLogging", STRATUS])
        .output()
        .unwrap();
    let f = jsonl(&out);
    assert!(f.iter().all(|f| f["record"]["eventName"] == "StopLogging"), "{f:?}");
    assert_eq!(f.len(), 2);
}

#[test]
fn errors_exit_2() {
    let code = |args: &[&str]| trailscan().args(args).output().unwrap().status.code();
    assert_eq!(code(&["audit", "-q", "no/such/path"]), Some(2));
    assert_eq!(code(&["audit", "-q", "--pack", "nope", STRATUS]), Some(2));
    assert_eq!(code(&["audit", "-q", "--pattern", "{}", STRATUS]), Some(2));
    assert_eq!(code(&["audit", "-q", "--rules", "no/such/rules.yaml", STRATUS]), Some(2));
    // An unreadable input wins over findings.
    assert_eq!(code(&["audit", "-q", STRATUS, "fixtures/broken/garbage.bin"]), Some(2));
}

fn failed_login(user: &str, time: &str, n: usize) -> Value {
    json!({
        "eventVersion": "1.08",
        "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLE", "accountId": "111122223333", "accessKeyId": "", "userName": user},
        "eventTime": time,
        "eventSource": "signin.amazonaws.com",
        "eventName": "ConsoleLogin",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.9",
        "userAgent": "Mozilla/5.0",
        "errorMessage": "Failed authentication",
        "requestParameters": null,
        "responseElements": {"ConsoleLogin": "Failure"},
        "additionalEventData": {"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No", "MFAUsed": "No"},
        "eventID": format!("00000000-0000-4000-8000-{n:012}"),
        "readOnly": false,
        "eventType": "AwsConsoleSignIn",
        "managementEvent": true,
        "recipientAccountId": "111122223333",
        "eventCategory": "Management"
    })
}

#[test]
fn threshold_rule_fires_once_per_window_and_group() {
    let dir = tempfile::tempdir().unwrap();
    let mut records = Vec::new();
    // alice: 6 failures in 2.5 minutes (fires), then 5 spread over an hour (does not).
    for i in 0..6 {
        records.push(failed_login(
            "alice",
            &format!("2024-05-01T10:0{}:{:02}Z", i / 2, (i % 2) * 30),
            i,
        ));
    }
    for i in 0..5 {
        records.push(failed_login("alice", &format!("2024-05-01T11:{:02}:00Z", i * 10), 10 + i));
    }
    // bob: 4 failures in a minute (below the threshold of 5).
    for i in 0..4 {
        records.push(failed_login("bob", &format!("2024-05-01T10:00:{:02}Z", i * 10), 20 + i));
    }
    let path = dir.path().join("logins.json");
    std::fs::write(&path, serde_json::to_string(&json!({ "Records": records })).unwrap()).unwrap();
    let out = trailscan()
        .args(["audit", "-q", "--pack", "threats", "--format", "jsonl"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let f = jsonl(&out);
    assert_eq!(f.len(), 1, "{f:?}");
    let f = &f[0];
    assert_eq!(f["rule"], "console-login-brute-force");
    assert_eq!(f["events"], 6);
    assert_eq!(
        f["threshold"],
        json!({"count": 5, "within": "5m", "by": {"recipientAccountId": "111122223333", "userIdentity.userName": "alice"}})
    );
    assert_eq!(f["first_seen"], "2024-05-01T10:00:00Z");
    assert_eq!(f["last_seen"], "2024-05-01T10:02:30Z");
    assert_eq!(f["records"].as_array().unwrap().len(), 6);
    // The table counts the window and its events; the CIS rule counts every failure.
    let out = trailscan().args(["audit", "-q"]).arg(&path).output().unwrap();
    insta::assert_snapshot!("table_threshold", stdout(&out));
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const GOOD: &str = r#"
- id: my-create-access-key
  title: Access key created
  severity: medium
  description: Any CreateAccessKey.
  tags: [T1098.001]
  pattern: {eventSource: [iam.amazonaws.com], eventName: [CreateAccessKey]}
  examples:
    match: [{eventSource: iam.amazonaws.com, eventName: CreateAccessKey}]
    no_match: [{eventSource: iam.amazonaws.com, eventName: DeleteAccessKey}]
"#;

#[test]
fn rules_validate_good_and_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "good.yaml", GOOD);
    let json = write(
        dir.path(),
        "one.json",
        r#"{"id":"j","title":"J","severity":"info","description":"d","pattern":{"detail":{"eventName":["X"]}}}"#,
    );
    let out = trailscan().args(["rules", "validate"]).arg(&good).arg(&json).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout(&out).contains("good.yaml: 1 rule OK"));

    let bad = write(
        dir.path(),
        "bad.yaml",
        "- id: bad-one\n  title: Bad\n  severity: severe\n  description: d\n  pattern: {eventName: [X]}\n  colour: red\n\
         - id: bad-two\n  title: Bad\n  severity: low\n  description: d\n  pattern: {eventName: [X]}\n  threshold: {count: 5, within: 5 minutes}\n\
         - id: bad-three\n  title: Bad\n  severity: low\n  description: d\n  pattern: {eventName: [X]}\n  examples: {match: [{eventName: Y}], no_match: [{eventName: X}]}\n",
    );
    let out = trailscan().args(["rules", "validate"]).arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    let b = bad.display().to_string();
    assert!(err.contains(&format!("{b}: rule bad-one: colour: unknown field")), "{err}");
    assert!(
        err.contains(&format!("{b}: rule bad-one: severity: \"severe\" is not one of")),
        "{err}"
    );
    assert!(
        err.contains(&format!("{b}: rule bad-two: threshold.within: invalid duration")),
        "{err}"
    );
    // Examples are only checked once the file parses.
    let ex = write(
        dir.path(),
        "ex.yaml",
        "- id: bad-three\n  title: Bad\n  severity: low\n  description: d\n  pattern: {eventName: [X]}\n  examples: {match: [{eventName: Y}], no_match: [{eventName: X}]}\n",
    );
    let out = trailscan().args(["rules", "validate"]).arg(&ex).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("rule bad-three: examples.match[0] does not match the pattern"), "{err}");
    assert!(err.contains("rule bad-three: examples.no_match[0] matches the pattern"), "{err}");
    // Not YAML at all.
    let broken = write(dir.path(), "broken.yaml", "id: [\n");
    let out = trailscan().args(["rules", "validate"]).arg(&broken).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr).unwrap().contains("invalid YAML"));
}

#[test]
fn custom_rules_run_alone_or_with_packs() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "good.yaml", GOOD);
    let file = stratus("persistence.iam-backdoor-user");
    let out = trailscan()
        .args(["audit", "-q", "--format", "jsonl", "--rules"])
        .arg(dir.path())
        .arg(&file)
        .output()
        .unwrap();
    let f = jsonl(&out);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["rule"], "my-create-access-key");
    let out = trailscan()
        .args(["audit", "-q", "--format", "jsonl", "--pack", "threats", "--rules"])
        .arg(dir.path())
        .arg(&file)
        .output()
        .unwrap();
    let mut rules: Vec<String> =
        jsonl(&out).iter().map(|f| f["rule"].as_str().unwrap().to_string()).collect();
    rules.sort();
    assert_eq!(rules, ["iam-access-key-for-other-user", "my-create-access-key"]);
    // A custom rule may not reuse a built-in id.
    let clash = dir.path().join("clash");
    std::fs::create_dir(&clash).unwrap();
    write(&clash, "c.yaml", &GOOD.replace("my-create-access-key", "iam-create-user"));
    let out = trailscan()
        .args(["audit", "-q", "--pack", "threats", "--rules"])
        .arg(&clash)
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr).unwrap().contains("rule iam-create-user: duplicate id"));
}

#[test]
fn rules_list_shows_every_built_in_rule() {
    let out = trailscan().args(["rules", "list"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    insta::assert_snapshot!("rules_list", stdout(&out));
    let out = trailscan().args(["rules", "list", "--pack", "cis"]).output().unwrap();
    assert!(stdout(&out).ends_with("15 rules\n"));
}

#[test]
fn help_documents_exit_status() {
    let out = trailscan().args(["audit", "--help"]).output().unwrap();
    let text = stdout(&out);
    assert!(text.contains("Exit status, for cron and CI"));
    assert!(text.contains("--fail-on"));
}

#[test]
fn terminal_and_csv_output_is_sanitised() {
    let dir = tempfile::tempdir().unwrap();
    let rules = write(
        dir.path(),
        "assume.yaml",
        "id: assume-role-denied\ntitle: AssumeRole denied\nseverity: low\ndescription: d\n\
         pattern: {eventName: [AssumeRole], errorCode: [AccessDenied]}\n",
    );
    let run = |format: &str| {
        trailscan()
            .args(["audit", "-q", "--format", format, "--rules"])
            .arg(&rules)
            .arg("fixtures/shapes/hostile.json")
            .output()
            .unwrap()
    };
    let table = stdout(&run("table"));
    assert!(table.contains("assume-role-denied"), "{table}");
    assert!(
        !table.contains('\u{1b}') && !table.contains('\u{7}') && !table.contains('\u{202e}'),
        "{table}"
    );
    let csv = stdout(&run("csv"));
    assert!(!csv.contains('\u{1b}'), "{csv}");
    assert!(!csv.contains(",=") && !csv.contains(",+1") && !csv.contains(",@SUM"), "{csv}");
}
