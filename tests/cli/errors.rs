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
