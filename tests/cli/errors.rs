//! Broken input, usage errors and exit codes.

use crate::util::{run, trailscan};

#[test]
fn errors_each_broken_file_is_named_and_the_run_goes_on() {
    let (code, out, err) =
        run(&["search", "fixtures/broken", "fixtures/shapes/records.jsonl", "--count"]);
    assert_eq!(code, 2, "{err}");
    // 5 good lines of half-valid.jsonl, 36 records before the damage in truncated.json.gz,
    // the one complete record of invalid.json, and the 40 of records.jsonl.
    assert_eq!(out.trim(), "82", "{err}");
    for (file, why) in [
        ("empty.json:", "empty file"),
        ("empty.json.gz:", "empty file"),
        ("half-valid.jsonl:", "line 4: invalid JSON"),
        ("invalid.json:", "invalid JSON after record 1"),
        ("not-gzip.json.gz:", "not JSON"),
        ("records-not-array.json:", "not an array"),
        ("truncated.json.gz:", "truncated gzip"),
    ] {
        assert!(err.lines().any(|l| l.contains(file) && l.contains(why)), "{file} {why}:\n{err}");
    }
    let last = err.lines().last().unwrap();
    assert!(last.contains("6 failed") && last.contains("1 unreadable"), "{last}");
    assert!(last.contains("not log files"), "garbage.bin is counted: {last}");
}

#[test]
fn errors_explicit_garbage_file_is_read_and_fails() {
    let (code, _, err) = run(&["search", "fixtures/broken/garbage.bin"]);
    assert_eq!(code, 2);
    assert!(err.contains("garbage.bin"), "{err}");
}

#[test]
fn errors_missing_path() {
    let (code, _, err) =
        run(&["search", "no/such/dir", "fixtures/shapes/single-record.json", "-c"]);
    assert_eq!(code, 2);
    assert!(err.contains("no/such/dir"), "{err}");
}

#[test]
fn errors_exit_codes() {
    trailscan(&["search", "fixtures/archive", "--event", "CreateUser", "-c"]).assert().code(0);
    trailscan(&["search", "fixtures/archive", "--event", "NoSuchEvent", "-c"])
        .assert()
        .code(1)
        .stdout("0\n");
    trailscan(&["search", "fixtures/archive", "--pattern", "{\"eventName\":"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("invalid pattern 1"));
    trailscan(&["search", "fixtures/archive", "--pattern", "[1]"]).assert().code(2);
    trailscan(&["search", "fixtures/archive", "--since", "yesterday-ish"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--since"));
    trailscan(&["search", "fixtures/archive", "--since", "2024-01-02", "--until", "2024-01-01"])
        .assert()
        .code(2);
    trailscan(&["search", "--format", "xml"]).assert().code(2);
    trailscan(&["search", "fixtures/archive", "--pattern", "@/no/such/file.json"]).assert().code(2);
}

#[test]
fn errors_test_pattern() {
    let p = r#"{"detail":{"eventName":["CreateUser"]}}"#;
    trailscan(&[
        "test-pattern",
        "--pattern",
        p,
        "--event",
        r#"{"detail":{"eventName":"CreateUser"}}"#,
    ])
    .assert()
    .code(0)
    .stdout("true\n");
    trailscan(&[
        "test-pattern",
        "--pattern",
        p,
        "--event",
        r#"{"detail":{"eventName":"DeleteUser"}}"#,
    ])
    .assert()
    .code(1)
    .stdout("false\n");
    trailscan(&["test-pattern", "--pattern", "{", "--event", "{}"]).assert().code(2);
    trailscan(&["test-pattern", "--pattern", p, "--event", "{"]).assert().code(2);
}

#[test]
fn errors_gzip_bomb_is_capped() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bomb.json.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&path).unwrap(),
        flate2::Compression::best(),
    );
    enc.write_all(b"{\"Records\":[").unwrap();
    let zeros = vec![b' '; 1 << 20];
    for _ in 0..64 {
        enc.write_all(&zeros).unwrap();
    }
    enc.write_all(b"]}").unwrap();
    enc.finish().unwrap();
    let (code, _, err) = run(&["search", path.to_str().unwrap(), "--max-file-size", "16MiB"]);
    assert_eq!(code, 2);
    assert!(err.contains("bomb.json.gz") && err.contains("limit"), "{err}");
}

#[test]
fn errors_a_record_that_is_not_utf8_costs_only_itself() {
    // A delivery file whose second record holds a byte that is not UTF-8 (a Latin-1 `é` in the
    // user agent, as a misconfigured client could send): that record is named and counted,
    // the records after it are still read.
    let dir = tempfile::tempdir().unwrap();
    let record = |name: &str, agent: &[u8]| {
        let mut r = format!(r#"{{"eventVersion":"1.08","eventTime":"2024-01-01T00:00:00Z","eventSource":"iam.amazonaws.com","eventName":"{name}","userAgent":""#).into_bytes();
        r.extend_from_slice(agent);
        r.extend_from_slice(br#"","userIdentity":{"type":"IAMUser","userName":"alice"}}"#);
        r
    };
    let mut file = b"{\"Records\":[".to_vec();
    file.extend(record("ListUsers", b"curl"));
    file.push(b',');
    file.extend(record("CreateUser", b"caf\xe9"));
    file.push(b',');
    file.extend(record("CreateUser", b"caf\xc3\xa9"));
    file.extend_from_slice(b"]}");
    let path = dir.path().join("bad-utf8.json");
    std::fs::write(&path, &file).unwrap();
    let path = path.to_str().unwrap();

    let (code, out, err) = run(&["search", path, "--count"]);
    assert_eq!((code, out.trim()), (2, "2"), "{err}");
    assert!(err.contains("bad-utf8.json: record 2: invalid JSON: invalid UTF-8 at byte"), "{err}");
    let (code, out, err) = run(&["search", path, "--event", "CreateUser", "--format", "jsonl"]);
    assert_eq!(code, 2, "{err}");
    let hits = crate::util::jsonl(&out);
    assert_eq!(hits.len(), 1, "{out}");
    assert_eq!(hits[0]["userAgent"], "caf\u{e9}");
    assert!(err.contains("record 2: invalid JSON: invalid UTF-8"), "{err}");
    // A record the literal prefilter rules out is not read, so not checked (as for any other
    // damage inside a record).
    let (code, out, err) = run(&["search", path, "--event", "ListUsers", "--count", "-q"]);
    assert_eq!((code, out.trim(), err.as_str()), (0, "1", ""));
    let (code, out, err) = run(&["summary", path, "--format", "json"]);
    assert_eq!(code, 2, "{err}");
    let summary: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(summary["overview"]["records"], 2, "{out}");
    assert!(err.contains("record 2: invalid JSON: invalid UTF-8"), "{err}");
    let (code, _, err) = run(&["audit", path]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("record 2: invalid JSON: invalid UTF-8"), "{err}");
    assert!(err.contains("2 records read, 0 matched, 1 unreadable"), "{err}");
}

#[test]
fn errors_wildcard_complexity_is_refused_with_eventbridge_s_message() {
    let msg = "Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character";
    let pattern = r#"{"detail":{"EventBusArn":[{"wildcard":"*:*:*:*:*:event-bus/*"}]}}"#;
    let event =
        r#"{"detail":{"EventBusArn":"arn:aws:events:us-east-1:111122223333:event-bus/default"}}"#;
    let (code, _, err) = run(&["test-pattern", "-p", pattern, "-e", event]);
    assert_eq!(code, 2);
    assert!(err.contains(&format!("detail.EventBusArn: {msg}")), "{err}");
    let (code, _, err) = run(&["search", "fixtures/shapes", "--pattern", pattern, "-c"]);
    assert_eq!(code, 2);
    assert!(err.contains(msg), "{err}");
    // One wildcard segment fewer is accepted.
    let fewer = r#"{"detail":{"EventBusArn":[{"wildcard":"*:*:*:*:event-bus/*"}]}}"#;
    assert_eq!(run(&["test-pattern", "-p", fewer, "-e", event]).0, 0);
}
