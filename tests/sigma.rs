//! Sigma rules: every modifier and condition form (tests/data/sigma/cases, each rule carrying
//! the records it must and must not match under `x_tests`), correlations, loading problems, a
//! differential check against EventBridge patterns, and `audit --sigma` end to end.

use assert_cmd::Command;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use trailscan::audit::{self, Auditor, sigma};
use trailscan::pattern::Pattern;
use trailscan::query::{Filters, Query};

const CASES: &str = "tests/data/sigma/cases";

fn trailscan() -> Command {
    Command::cargo_bin("trailscan").unwrap()
}

fn options() -> sigma::Options {
    let mut o = sigma::Options::default();
    o.read_placeholders(Path::new("tests/data/sigma/placeholders.yml")).unwrap();
    o
}

fn fixture_records(file: &str) -> Vec<Value> {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    match v {
        Value::Array(a) => a,
        Value::Object(mut m) => match m.remove("Records") {
            Some(Value::Array(a)) => a,
            _ => vec![Value::Object(m)],
        },
        _ => panic!("{file}: not records"),
    }
}

/// Every record of the fixtures' delivery files (digests and broken files left out).
fn all_fixture_records() -> Vec<Value> {
    let mut records = Vec::new();
    for e in walkdir::WalkDir::new("fixtures").into_iter().filter_map(Result::ok) {
        let p = e.path();
        let name = p.display().to_string();
        if !e.file_type().is_file()
            || !(name.ends_with(".json.gz") || name.ends_with(".json"))
            || name.contains("broken")
            || name.contains("Digest")
        {
            continue;
        }
        let bytes = std::fs::read(p).unwrap();
        let text = if name.ends_with(".gz") {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut s)
                .unwrap();
            s
        } else {
            String::from_utf8_lossy(&bytes).into_owned()
        };
        if let Ok(Value::Object(mut m)) = serde_json::from_str::<Value>(&text)
            && let Some(Value::Array(a)) = m.remove("Records")
        {
            records.extend(a);
        }
    }
    records
}

fn case_files() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(CASES)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    v.sort();
    v
}

/// Every case rule loads, matches its `match` records and no `no_match` record, and its query
/// pattern and prefilter (the superset the scan uses) let every matching record through.
#[test]
fn every_case_matches_what_it_says() {
    let files = case_files();
    assert!(files.len() >= 20, "{files:?}");
    for f in files {
        let loaded = sigma::load(std::slice::from_ref(&f), &options());
        assert!(loaded.failed.is_empty(), "{}: {:?}", f.display(), loaded.failed);
        assert_eq!(loaded.rules.len(), 1, "{}", f.display());
        let rules = &loaded.rules;
        let doc: Value = serde_norway::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        let tests = &doc["x_tests"];
        let query = Query::from_patterns(&Filters::default(), vec![rules[0].pattern.clone()], true)
            .unwrap();
        let check_superset = |r: &Value| {
            let raw = r.to_string();
            assert!(
                query.prefilter().maybe(raw.as_bytes()),
                "{}: prefilter drops {raw}",
                f.display()
            );
            assert!(query.evaluate(&raw).unwrap().is_some(), "{}: query drops {raw}", f.display());
        };
        let mut n = 0;
        for r in tests["match"].as_array().unwrap() {
            assert_eq!(audit::matching(rules, r), vec![0], "{}: should match {r}", f.display());
            check_superset(r);
            n += 1;
        }
        for r in tests["no_match"].as_array().unwrap() {
            assert!(audit::matching(rules, r).is_empty(), "{}: should not match {r}", f.display());
            n += 1;
        }
        assert!(n >= 2, "{}", f.display());
        if let Some(fx) = tests.get("fixture") {
            let file = fx["file"].as_str().unwrap();
            let hits: Vec<Value> = fixture_records(file)
                .into_iter()
                .filter(|r| !audit::matching(rules, r).is_empty())
                .collect();
            assert_eq!(
                hits.len() as u64,
                fx["matches"].as_u64().unwrap(),
                "{}: {file}",
                f.display()
            );
            hits.iter().for_each(check_superset);
        }
    }
}

/// Each modifier named in the issue appears in some case rule.
#[test]
fn every_modifier_has_a_case() {
    let all: String = case_files().iter().map(|f| std::fs::read_to_string(f).unwrap()).collect();
    for m in [
        "|contains",
        "|startswith",
        "|endswith",
        "|all",
        "|re:",
        "|re|i",
        "|re|m",
        "|re|s",
        "|cidr",
        "|exists",
        "|fieldref",
        "|lt",
        "|lte",
        "|gt",
        "|gte",
        "|base64:",
        "|base64offset",
        "|utf16le",
        "|utf16be",
        "|wide",
        "|windash",
        "|expand",
        "|cased",
        ": null",
        "1 of them",
        "all of them",
        "1 of filter_*",
        "all of sel_*",
        " not ",
        "(",
        " or ",
        " and ",
    ] {
        assert!(all.contains(m), "no case for {m}");
    }
}

fn write_records(dir: &Path, name: &str, records: &[Value]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_string(&json!({ "Records": records })).unwrap()).unwrap();
    p.display().to_string()
}

fn login(user: &str, time: &str, ok: bool, ip: &str) -> Value {
    json!({
        "eventVersion": "1.08", "eventTime": time, "eventSource": "signin.amazonaws.com",
        "eventName": "ConsoleLogin", "awsRegion": "us-east-1", "sourceIPAddress": ip,
        "userIdentity": {"type": "IAMUser", "userName": user, "arn": format!("arn:aws:iam::1:user/{user}")},
        "responseElements": {"ConsoleLogin": if ok { "Success" } else { "Failure" }},
        "eventID": format!("{user}-{time}-{ok}"), "recipientAccountId": "111111111111"
    })
}

fn correlations(records: &[Value]) -> Vec<(String, usize, Value)> {
    let loaded = sigma::load(&[PathBuf::from("tests/data/sigma/correlation")], &options());
    assert!(loaded.failed.is_empty(), "{:?}", loaded.failed);
    let rules = loaded.rules;
    let mut a = Auditor::new(&rules);
    let mut out = Vec::new();
    for r in records {
        for f in a.record(&r.to_string()).unwrap() {
            out.push((rules[f.rule].id.clone(), f.records.len(), Value::Null));
        }
    }
    for f in a.finish() {
        let group: serde_json::Map<String, Value> =
            f.group.clone().unwrap_or_default().into_iter().collect();
        out.push((rules[f.rule].id.clone(), f.records.len(), Value::Object(group)));
    }
    out
}

#[test]
fn event_count_and_value_count() {
    // 5 failures for alice within 4 minutes, 4 for bob: only alice fires (gte 5).
    let mut recs: Vec<Value> = (0..5)
        .map(|i| login("alice", &format!("2024-03-01T10:0{i}:00Z"), false, "192.0.2.1"))
        .collect();
    recs.extend(
        (0..4).map(|i| login("bob", &format!("2024-03-01T10:0{i}:30Z"), false, "192.0.2.1")),
    );
    let out = correlations(&recs);
    let bursts: Vec<_> = out.iter().filter(|o| o.0 == "login-failure-burst").collect();
    assert_eq!(bursts.len(), 1, "{out:?}");
    assert_eq!(bursts[0].1, 5);
    assert_eq!(bursts[0].2["userIdentity.userName"], "alice");
    // The base rule is read by correlations without `generate`: no finding of its own.
    assert!(!out.iter().any(|o| o.0 == "login-failure"), "{out:?}");
    // value_count: one user from 3 distinct addresses within the hour (gte 3).
    let spread: Vec<Value> = ["198.51.100.1", "198.51.100.2", "198.51.100.2", "198.51.100.3"]
        .iter()
        .enumerate()
        .map(|(i, ip)| login("carol", &format!("2024-03-01T11:1{i}:00Z"), true, ip))
        .collect();
    let out = correlations(&spread);
    let v: Vec<_> = out.iter().filter(|o| o.0 == "login-many-addresses").collect();
    assert_eq!(v.len(), 1, "{out:?}");
    assert_eq!(v[0].1, 4);
    let two: Vec<Value> = spread[..3].to_vec();
    assert!(!correlations(&two).iter().any(|o| o.0 == "login-many-addresses"));
}

#[test]
fn temporal_and_temporal_ordered() {
    // Failures then a success for dave within 10 minutes: temporal and temporal_ordered fire.
    let recs = vec![
        login("dave", "2024-03-02T09:00:00Z", false, "192.0.2.9"),
        login("dave", "2024-03-02T09:05:00Z", true, "192.0.2.9"),
    ];
    let out = correlations(&recs);
    assert!(out.iter().any(|o| o.0 == "failure-and-success"), "{out:?}");
    assert!(out.iter().any(|o| o.0 == "failure-then-success"), "{out:?}");
    // Success before the failure: temporal only.
    let recs = vec![
        login("erin", "2024-03-02T09:00:00Z", true, "192.0.2.9"),
        login("erin", "2024-03-02T09:05:00Z", false, "192.0.2.9"),
    ];
    let out = correlations(&recs);
    assert!(out.iter().any(|o| o.0 == "failure-and-success"), "{out:?}");
    assert!(!out.iter().any(|o| o.0 == "failure-then-success"), "{out:?}");
    // Too far apart: neither.
    let recs = vec![
        login("fred", "2024-03-02T09:00:00Z", false, "192.0.2.9"),
        login("fred", "2024-03-02T10:05:00Z", true, "192.0.2.9"),
    ];
    let out = correlations(&recs);
    assert!(!out.iter().any(|o| o.0.starts_with("failure-")), "{out:?}");
    // The success rule has generate: true on its temporal correlation... but not on the
    // ordered one, so it stays quiet (any correlation without generate silences it).
    assert!(!out.iter().any(|o| o.0 == "login-success"), "{out:?}");
}

#[test]
fn broken_rules_are_named_and_the_folder_still_loads() {
    let loaded =
        sigma::load(&[PathBuf::from("tests/data/sigma/broken")], &sigma::Options::default());
    let failed: Vec<String> = loaded.failed.iter().map(ToString::to_string).collect();
    let skipped: Vec<String> = loaded.skipped.iter().map(ToString::to_string).collect();
    let has = |v: &[String], s: &str| v.iter().any(|x| x.contains(s));
    assert!(
        has(
            &failed,
            "unknown_modifier.yml:10: rule 6a1e0000-0000-4000-8000-000000000001: unknown modifier \"containz\""
        ),
        "{failed:#?}"
    );
    assert!(
        has(
            &failed,
            "bad_condition.yml:11: rule 6a1e0000-0000-4000-8000-000000000002: bad condition"
        ),
        "{failed:#?}"
    );
    assert!(
        has(
            &failed,
            "bad_regex.yml:10: rule 6a1e0000-0000-4000-8000-000000000003: the regex crate cannot compile"
        ),
        "{failed:#?}"
    );
    assert!(
        has(
            &failed,
            "keywords.yml:9: rule 6a1e0000-0000-4000-8000-000000000004: unsupported feature"
        ),
        "{failed:#?}"
    );
    assert!(
        has(
            &failed,
            "placeholder.yml:10: rule 6a1e0000-0000-4000-8000-000000000005: placeholder %admins% is not defined"
        ),
        "{failed:#?}"
    );
    assert!(has(&failed, "invalid_yaml.yml:5: invalid YAML"), "{failed:#?}");
    assert!(
        has(&failed, "multi.yml:34: rule 6a1e0000-0000-4000-8000-00000000000b: invalid duration"),
        "{failed:#?}"
    );
    assert!(
        has(
            &failed,
            "multi.yml:21: rule 6a1e0000-0000-4000-8000-000000000009: references rule \"nope\""
        ),
        "{failed:#?}"
    );
    assert!(
        has(
            &skipped,
            "windows.yml:4: rule 6a1e0000-0000-4000-8000-000000000006: logsource not AWS CloudTrail"
        ),
        "{skipped:#?}"
    );
    assert!(
        has(
            &skipped,
            "deprecated.yml:4: rule 6a1e0000-0000-4000-8000-000000000007: status deprecated"
        ),
        "{skipped:#?}"
    );
    // The good rule of the multi-document file loads.
    assert_eq!(
        loaded.rules.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["6a1e0000-0000-4000-8000-000000000008"]
    );
    assert_eq!(
        loaded.summary(),
        "1 Sigma rules loaded, 2 skipped (1 logsource not AWS CloudTrail, 1 status deprecated), 8 failed"
    );
}

/// Plain-field Sigma rules (exact values, no letters whose case could matter) and the
/// EventBridge patterns they mean agree on every fixture record; and with letters, against
/// `equals-ignore-case`.
#[test]
fn plain_fields_agree_with_eventbridge_on_every_fixture_record() {
    let pairs: Vec<(&str, &str)> = vec![
        (
            "eventSource: iam.amazonaws.com\n        eventName:\n            - CreateUser\n            - CreateAccessKey",
            r#"{"eventSource":[{"equals-ignore-case":"iam.amazonaws.com"}],"eventName":[{"equals-ignore-case":"CreateUser"},{"equals-ignore-case":"CreateAccessKey"}]}"#,
        ),
        ("recipientAccountId: '123837392027'", r#"{"recipientAccountId":["123837392027"]}"#),
        (
            "userIdentity.type: IAMUser\n        eventName: GetCallerIdentity",
            r#"{"userIdentity":{"type":[{"equals-ignore-case":"IAMUser"}]},"eventName":[{"equals-ignore-case":"GetCallerIdentity"}]}"#,
        ),
        ("sourceIPAddress: 203.0.113.66", r#"{"sourceIPAddress":["203.0.113.66"]}"#),
        (
            "eventSource: s3.amazonaws.com\n        requestParameters.bucketName: flaws2.cloud",
            r#"{"eventSource":[{"equals-ignore-case":"s3.amazonaws.com"}],"requestParameters":{"bucketName":[{"equals-ignore-case":"flaws2.cloud"}]}}"#,
        ),
        ("errorCode: AccessDenied", r#"{"errorCode":[{"equals-ignore-case":"AccessDenied"}]}"#),
    ];
    let records = all_fixture_records();
    assert!(records.len() > 2000, "{}", records.len());
    for (i, (sel, eb)) in pairs.iter().enumerate() {
        let rule = format!(
            "title: t{i}\nid: d{i}\nauthor: tests\nlogsource: {{product: aws, service: cloudtrail}}\ndetection:\n    selection:\n        {sel}\n    condition: selection\nlevel: low\n"
        );
        let loaded = sigma::load_text(&rule, "diff", &sigma::Options::default());
        assert!(loaded.failed.is_empty(), "{:?}", loaded.failed);
        let p = Pattern::parse(eb).unwrap();
        let mut hits = 0;
        for r in &records {
            let s = !audit::matching(&loaded.rules, r).is_empty();
            assert_eq!(s, p.matches(r), "rule {i} on {r}");
            hits += usize::from(s);
        }
        assert!(hits > 0, "pair {i} matches nothing: the check would be empty");
    }
}

#[test]
fn audit_sigma_end_to_end_in_every_format() {
    let file = "fixtures/stratus/aws.persistence.iam-create-admin-user.json";
    let run = |fmt: &str| {
        trailscan()
            .args([
                "audit",
                "-q",
                "--sigma",
                CASES,
                "--sigma-config",
                "tests/data/sigma/placeholders.yml",
                "--format",
                fmt,
                file,
            ])
            .output()
            .unwrap()
    };
    let out = run("jsonl");
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let findings: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let admin =
        findings.iter().find(|f| f["rule"] == "5b0f3a4e-0001-4c00-8000-000000000003").unwrap();
    assert_eq!(admin["severity"], "high");
    assert_eq!(admin["sigma"]["author"], "trailscan tests");
    assert_eq!(admin["sigma"]["level"], "high");
    assert_eq!(admin["record"]["eventName"], "AttachUserPolicy");
    let created =
        findings.iter().find(|f| f["rule"] == "5b0f3a4e-0001-4c00-8000-000000000001").unwrap();
    assert_eq!(created["sigma"]["tags"], json!(["attack.persistence", "attack.t1136.003"]));
    assert_eq!(created["sigma"]["falsepositives"], json!(["Onboarding"]));
    let json_out = run("json");
    let arr: Vec<Value> = serde_json::from_slice(&json_out.stdout).unwrap();
    assert_eq!(arr, findings);
    let csv = String::from_utf8(run("csv").stdout).unwrap();
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .ends_with(",level,author,tags,falsepositives,references,sigma_id")
    );
    assert!(csv.contains(",high,trailscan tests,"), "{csv}");
    let table = String::from_utf8(run("table").stdout).unwrap();
    assert!(table.contains("author") && table.contains("trailscan tests"), "{table}");
    assert!(
        table.contains("sigma 5b0f3a4e-0001-4c00-8000-000000000001: IAM user created"),
        "{table}"
    );
    assert!(table.contains("false positives: Onboarding"), "{table}");
}

#[test]
fn audit_sigma_filters_levels_statuses_exclusions_and_fail_on() {
    let file = "fixtures/stratus/aws.persistence.iam-create-admin-user.json";
    let ids = |extra: &[&str]| -> (Option<i32>, Vec<String>, String) {
        let out = trailscan()
            .args([
                "audit",
                "--sigma",
                CASES,
                "--sigma-config",
                "tests/data/sigma/placeholders.yml",
                "--format",
                "jsonl",
                file,
            ])
            .args(extra)
            .output()
            .unwrap();
        let mut v: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["rule"].as_str().unwrap().to_string()
            })
            .collect();
        v.sort();
        v.dedup();
        (out.status.code(), v, String::from_utf8(out.stderr).unwrap())
    };
    let (code, all, stderr) = ids(&[]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("21 Sigma rules loaded, 0 skipped, 0 failed"), "{stderr}");
    assert!(all.contains(&"5b0f3a4e-0001-4c00-8000-000000000001".to_string()), "{all:?}");
    let (_, high, stderr) = ids(&["--min-level", "high"]);
    assert!(!high.contains(&"5b0f3a4e-0001-4c00-8000-000000000001".to_string()));
    assert!(high.contains(&"5b0f3a4e-0001-4c00-8000-000000000003".to_string()));
    assert!(stderr.contains("skipped (") && stderr.contains("level below --min-level"), "{stderr}");
    let (_, stable, _) = ids(&["--status", "stable"]);
    assert!(stable.is_empty(), "{stable:?}");
    let (_, ex, _) = ids(&["--exclude-rule", "5b0f3a4e-0001-4c00-8000-000000000003"]);
    assert!(!ex.contains(&"5b0f3a4e-0001-4c00-8000-000000000003".to_string()));
    // The medium CreateUser finding does not reach --fail-on high once the high rule is gone.
    let (code, _, _) =
        ids(&["--exclude-rule", "5b0f3a4e-0001-4c00-8000-000000000003", "--fail-on", "high"]);
    assert_eq!(code, Some(0));
    // A broken rule is named, the others run, and the exit status says something failed.
    let out = trailscan()
        .args([
            "audit",
            "-q",
            "--sigma",
            "tests/data/sigma/broken",
            "--format",
            "jsonl",
            "fixtures/stratus",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("unknown modifier \"containz\""), "{stderr}");
    assert!(stderr.contains("1 Sigma rules loaded, 2 skipped"), "{stderr}");
}

#[test]
fn rules_list_and_validate_accept_sigma() {
    let out = trailscan()
        .args([
            "rules",
            "validate",
            "--sigma",
            CASES,
            "--sigma-config",
            "tests/data/sigma/placeholders.yml",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("21 Sigma rules loaded, 0 skipped, 0 failed")
    );
    let out = trailscan()
        .args(["rules", "validate", "--sigma", "tests/data/sigma/broken"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("skipped: ") && stderr.contains("logsource not AWS CloudTrail"),
        "{stderr}"
    );
    let out = trailscan()
        .args(["rules", "list", "--sigma", "tests/data/sigma/correlation"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("login-failure-burst")
            && text.contains("(event_count in 10m) by trailscan tests"),
        "{text}"
    );
}

#[test]
fn correlation_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let recs: Vec<Value> = (0..5)
        .map(|i| login("alice", &format!("2024-03-01T10:0{i}:00Z"), false, "192.0.2.1"))
        .collect();
    let file = write_records(dir.path(), "logins.json", &recs);
    let out = trailscan()
        .args([
            "audit",
            "-q",
            "--sigma",
            "tests/data/sigma/correlation",
            "--format",
            "jsonl",
            &file,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let f: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0]["rule"], "login-failure-burst");
    assert_eq!(f[0]["correlation"]["type"], "event_count");
    assert_eq!(f[0]["correlation"]["group_by"]["userIdentity.userName"], "alice");
    assert_eq!(f[0]["correlation"]["condition"]["gte"], 5);
    assert_eq!(f[0]["records"].as_array().unwrap().len(), 5);
    assert_eq!(f[0]["sigma"]["author"], "trailscan tests");
}

/// The audit pass's tester (each record read only as far as the rules and findings need, the
/// rules chosen by `eventName`, the envelope built without a copy) finds exactly what
/// `audit::matching` finds on the whole record, reads exactly the records a whole parse reads
/// (with the same error), and makes the same findings: every case rule, the benchmark's rules
/// and the built-in packs together, on every case and fixture record and hostile variants.
#[test]
fn tester_agrees_with_whole_records() {
    let mut rules = audit::select(&[], &[]).unwrap();
    for dir in [CASES, "tests/data/sigma/correlation", "benches/sigma"] {
        let loaded = sigma::load(&[PathBuf::from(dir)], &options());
        assert!(loaded.failed.is_empty(), "{dir}: {:?}", loaded.failed);
        rules.extend(loaded.rules);
    }
    let tester = audit::Tester::new(&rules);
    let mut raws: Vec<String> = Vec::new();
    let mut records = all_fixture_records();
    for f in case_files() {
        let doc: Value = serde_norway::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        for k in ["match", "no_match"] {
            records.extend(doc["x_tests"][k].as_array().cloned().unwrap_or_default());
        }
    }
    for r in &records {
        raws.push(r.to_string());
        let Some(name) = r.get("eventName").and_then(Value::as_str) else { continue };
        // The name in other cases and shapes: upper case, a Kelvin sign for K, in an array, a
        // number, missing, given twice (the last one counts).
        let mut v = r.clone();
        for alt in [
            json!(name.to_uppercase()),
            json!(name.replace(['k', 'K'], "\u{212A}")),
            json!([name]),
            json!(7),
        ] {
            v["eventName"] = alt;
            raws.push(v.to_string());
        }
        v.as_object_mut().unwrap().remove("eventName");
        raws.push(v.to_string());
        let text = r.to_string();
        raws.push(format!("{{\"eventName\":\"X\",{}", &text[1..]));
        raws.push(format!("{},\"eventName\":\"X\"}}", &text[..text.len() - 1]));
    }
    // Text a whole parse refuses, or reads its own way, where no rule looks.
    for bad in [
        r#"{"eventName":"CreateUser","x":1e400}"#,
        r#"{"eventName":"CreateUser","x":{"y":[1,2,"\ud800"]}}"#,
        r#"{"eventName":"CreateUser"} x"#,
        r#"{"eventName":"CreateUser","x":{"$serde_json::private::RawValue":"{\"a\":1}"}}"#,
        r#"{"$serde_json::private::RawValue":"{\"eventName\":\"CreateUser\"}"}"#,
        r#"{"eventName":"CreateUser","x":{"$serde_json::private::RawValue":5}}"#,
        r#"{"eventName":"CreateUser","x":tru}"#,
        r#"{"eventName":"CreateUser","x":"a\qb"}"#,
        r#"{"eventName":"CreateUser","x":"#,
        r#"[{"eventName":"CreateUser"}]"#,
        r#"{"eventName":"CreateUser","userIdentity":{"type":"Root","type":"IAMUser"},"x\u0041":1}"#,
    ] {
        raws.push(bad.to_string());
    }
    raws.push(format!(
        r#"{{"eventName":"CreateUser","x":{}{}}}"#,
        "[".repeat(200),
        "]".repeat(200)
    ));
    let (mut tested, mut matched) = (0, 0);
    let mut whole_auditor = Auditor::new(&rules);
    let mut read_auditor = Auditor::new(&rules);
    for raw in &raws {
        let whole = serde_json::from_str::<Value>(raw);
        let read = tester.test(raw);
        match (&whole, &read) {
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{raw}"),
            (Ok(w), Ok((v, ids))) => {
                assert_eq!(&audit::matching(&rules, w), ids, "{raw}");
                let a = whole_auditor.record_matched(raw, w, ids);
                let b = read_auditor.record_matched(raw, v, ids);
                assert_eq!(format!("{a:?}"), format!("{b:?}"), "{raw}");
                assert_eq!(tester.test_value(w.clone()).1, *ids, "{raw}");
                matched += usize::from(!ids.is_empty());
            }
            _ => panic!("{raw}: whole {whole:?}, tester {read:?}"),
        }
        tested += 1;
    }
    let (a, b) = (whole_auditor.finish(), read_auditor.finish());
    assert_eq!(format!("{a:?}"), format!("{b:?}"));
    assert!(tested > 10_000 && matched > 500, "{tested} records, {matched} matched");
}
