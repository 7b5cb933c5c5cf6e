//! Input shapes and filters.

use crate::util::{count, jsonl, manifest, run, trailscan};

#[test]
fn search_create_user_in_archive() {
    let (code, out, err) =
        run(&["search", "fixtures/archive", "--event", "CreateUser", "-f", "jsonl"]);
    assert_eq!(code, 0, "{err}");
    let recs = jsonl(&out);
    assert_eq!(recs.len(), 8);
    assert!(recs.iter().all(|r| r["eventName"] == "CreateUser"));
    let times: Vec<&str> = recs.iter().map(|r| r["eventTime"].as_str().unwrap()).collect();
    let mut sorted = times.clone();
    sorted.sort_unstable();
    assert_eq!(times, sorted, "eventTime order");
    let users: Vec<&str> =
        recs.iter().filter_map(|r| r["requestParameters"]["userName"].as_str()).collect();
    for u in ["backdoor-1", "backdoor-2", "backdoor-3", "malicious-iam-user"] {
        assert!(users.contains(&u), "{u} in {users:?}");
    }
    let last = err.lines().last().unwrap();
    assert!(last.contains("files read") && last.contains("8 matched"), "{last}");
}

/// Every fixture file, whatever its shape, yields the records and CreateUser events the
/// manifest (written by the fixture generator with a plain JSON reader) counts.
#[test]
fn search_every_shape_matches_manifest() {
    for (path, kind, records, create_user) in manifest() {
        if kind == "broken" {
            continue;
        }
        let p = format!("fixtures/{path}");
        let (code, out, err) = run(&["search", &p, "--count"]);
        let want = records.unwrap();
        assert_eq!(out.trim(), want.to_string(), "{p}: {err}");
        assert_eq!(code, if want > 0 { 0 } else { 1 }, "{p}: {err}");
        if kind == "digest" {
            assert!(err.contains("1 digest"), "{p}: {err}");
        }
        assert_eq!(count(&["search", &p, "--event", "CreateUser"]), create_user.unwrap(), "{p}");
    }
}

#[test]
fn search_stdin_and_lookup_events() {
    let data =
        std::fs::read(crate::util::root().join("fixtures/shapes/lookup-events.json")).unwrap();
    trailscan(&["search", "-", "--event", "RunInstances", "-f", "jsonl"])
        .write_stdin(data)
        .assert()
        .code(0)
        .stdout(predicates::str::contains("\"eventName\":\"RunInstances\""));
}

#[test]
fn search_filters() {
    let a = "fixtures/archive";
    assert_eq!(count(&["search", a, "--event", "CreateUser", "--source", "iam"]), 8);
    assert_eq!(count(&["search", a, "--event", "CreateUser", "--source", "s3"]), 0);
    assert_eq!(count(&["search", a, "--event", "CreateUser", "--user", "mallory"]), 3);
    assert_eq!(
        count(&["search", a, "--event", "CreateUser", "--user", "OrganizationAccountAccessRole"]),
        1
    );
    assert_eq!(count(&["search", a, "--event", "CreateUser", "--ip", "203.0.113.0/24"]), 3);
    assert_eq!(count(&["search", a, "--event", "CreateUser", "--ip", "203.0.113.66"]), 3);
    assert_eq!(count(&["search", a, "--event", "CreateUser", "--account", "222233334444"]), 1);
    assert_eq!(
        count(&[
            "search",
            a,
            "--event",
            "CreateUser",
            "--account",
            "123837392027",
            "--region",
            "us-east-1"
        ]),
        5
    );
    assert_eq!(count(&["search", a, "--event", "CreateUser", "--errors"]), 1);
    assert_eq!(count(&["search", a, "--event", "CreateUser", "--error-code", "AccessDenied"]), 1);
    assert_eq!(
        count(&[
            "search",
            a,
            "--event",
            "CreateUser",
            "--since",
            "2023-07-11",
            "--until",
            "2023-07-13"
        ]),
        2
    );
    assert_eq!(
        count(&["search", a, "--event", "CreateUser", "--since", "2023-07-13T03:22:10Z"]),
        2
    );
    assert_eq!(
        count(&["search", a, "--event", "CreateUser", "--until", "2023-07-13T03:22:10Z"]),
        6
    );
    assert_eq!(count(&["search", a, "--event", "CreateUser", "--event", "DeleteUser"]), 11);
    assert_eq!(count(&["search", a, "--event", "CreateUser", "--limit", "3"]), 3);
}

#[test]
fn search_limit_takes_the_earliest() {
    let (_, out, _) =
        run(&["search", "fixtures/archive", "--event", "CreateUser", "-f", "jsonl", "-n", "2"]);
    let recs = jsonl(&out);
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0]["eventTime"], "2023-07-10T12:23:05Z");
    assert_eq!(recs[1]["eventTime"], "2023-07-10T12:24:28Z");
}

#[test]
fn search_dedupe_drops_repeated_event_ids() {
    let dir = tempfile::tempdir().unwrap();
    crate::util::copy_fixture("fixtures/shapes/records.jsonl", dir.path(), "a/x.jsonl");
    crate::util::copy_fixture("fixtures/shapes/records.jsonl", dir.path(), "b/x.jsonl");
    let d = dir.path().to_str().unwrap();
    assert_eq!(count(&["search", d]), 80);
    assert_eq!(count(&["search", d, "--dedupe"]), 40);
    let (code, out, err) = run(&["search", d, "--dedupe", "-f", "jsonl"]);
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 40);
    assert!(err.contains("40 duplicates dropped"), "{err}");
}

#[test]
fn search_envelope_rule_equals_flags() {
    let rule = r#"{"source":["aws.iam"],"detail-type":["AWS API Call via CloudTrail"],"detail":{"eventSource":["iam.amazonaws.com"],"eventName":["CreateUser"]}}"#;
    let by_rule = run(&["search", "fixtures", "--pattern", rule, "-f", "jsonl"]);
    let by_flags =
        run(&["search", "fixtures", "--event", "CreateUser", "--source", "iam", "-f", "jsonl"]);
    assert_eq!(by_rule.1, by_flags.1);
    // Every CreateUser record of the fixtures, whatever shape holds it.
    let create_user: u64 = crate::util::manifest().iter().filter_map(|m| m.3).sum();
    assert_eq!(jsonl(&by_rule.1).len() as u64, create_user);
}

#[test]
fn search_pattern_from_file_and_explain() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("rule.json");
    std::fs::write(&f, r#"{"eventName":["CreateUser"],"userIdentity":{"type":["IAMUser"]}}"#)
        .unwrap();
    let arg = format!("@{}", f.display());
    assert_eq!(count(&["search", "fixtures/archive", "--pattern", &arg]), 7);
    let (code, out, _) = run(&[
        "search",
        "--event",
        "CreateUser",
        "--since",
        "2024-01-01",
        "--pattern",
        &arg,
        "--explain",
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("\"eventName\":[\"CreateUser\"]"), "{out}");
    assert!(out.contains("since: 2024-01-01T00:00:00+00:00"), "{out}");
    assert!(out.contains("prefilter"), "{out}");
}

#[test]
fn search_several_patterns_are_ored() {
    let a = "fixtures/archive";
    let both = count(&[
        "search",
        a,
        "-p",
        r#"{"eventName":["CreateUser"]}"#,
        "-p",
        r#"{"eventName":["StopLogging"]}"#,
    ]);
    let c = count(&["search", a, "--event", "CreateUser"]);
    let s = count(&["search", a, "--event", "StopLogging"]);
    assert!(s > 0);
    assert_eq!(both, c + s);
}

/// `--files` lists what the walk would read after pruning by path: the same files a search
/// with the same filters reads, in walk order, and nothing from a pruned account.
#[test]
fn search_files_lists_the_walk() {
    let a = "fixtures/archive";
    let (code, all, err) = run(&["search", a, "--files"]);
    assert_eq!(code, 0, "{err}");
    let all: Vec<&str> = all.lines().collect();
    assert!(!all.is_empty());
    let mut sorted = all.clone();
    sorted.sort_unstable();
    assert_eq!(all, sorted, "walk order is path order");
    let acct = "222233334444";
    let (code, mine, err) = run(&["search", a, "--files", "--account", acct]);
    assert_eq!(code, 0, "{err}");
    let mine: Vec<&str> = mine.lines().collect();
    assert!(!mine.is_empty() && mine.len() < all.len(), "{mine:?}");
    assert!(mine.iter().all(|p| p.contains(&format!("/{acct}/"))), "{mine:?}");
    assert!(err.contains("files to read") && err.contains("pruned by path"), "{err}");
    // The files a search reads with the same filter.
    let dir = tempfile::tempdir().unwrap();
    let stats = dir.path().join("stats.json");
    let (_, _, err) =
        run(&["search", a, "--account", acct, "--count", "--stats-json", stats.to_str().unwrap()]);
    let s: serde_json::Value = serde_json::from_slice(&std::fs::read(&stats).unwrap()).unwrap();
    let opened = s["files_read"].as_u64().unwrap() + s["files_failed"].as_u64().unwrap();
    assert_eq!(mine.len() as u64, opened, "{err}");
    let (code, none, _) = run(&["search", a, "--files", "--account", "000000000000"]);
    assert_eq!((code, none.as_str()), (1, ""));
    let (code, _, err) = run(&["search", a, "--files", "--count"]);
    assert_eq!(code, 2, "{err}");
}
