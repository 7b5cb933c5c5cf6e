//! Properties of the whole pipeline: the prefilter, path pruning and thread count never change
//! the result, and the flags equal their pattern.

use crate::util::run;

const QUERIES: &[&[&str]] = &[
    &["--event", "CreateUser"],
    &["--source", "s3", "--errors"],
    &["--user", "bert-jan", "--event", "GetUser"],
    &[
        "--account",
        "123837392027",
        "--since",
        "2023-07-10T12:10:00Z",
        "--until",
        "2023-07-10T12:20:00Z",
    ],
    &["--region", "eu-west-1"],
    &["--pattern", r#"{"eventName":[{"prefix":"Create"}]}"#],
    &["--pattern", r#"{"detail":{"eventName":["Create\u0055ser"]}}"#],
    &[],
];

fn out(extra: &[&str], q: &[&str]) -> (i32, String) {
    let mut args = vec!["search", "fixtures", "-f", "jsonl", "-q"];
    args.extend_from_slice(q);
    args.extend_from_slice(extra);
    let (code, out, _) = run(&args);
    (code, out)
}

#[test]
fn invariants_prefilter_pruning_and_threads_do_not_change_output() {
    for q in QUERIES {
        let base = out(&[], q);
        assert!(!base.1.is_empty() || q.contains(&"eu-west-1"), "{q:?} finds something");
        assert_eq!(out(&["--no-prefilter"], q), base, "prefilter {q:?}");
        assert_eq!(out(&["--no-prune"], q), base, "pruning {q:?}");
        assert_eq!(out(&["--threads", "1"], q), base, "1 thread {q:?}");
        assert_eq!(out(&["--threads", "3"], q), base, "3 threads {q:?}");
    }
}

#[test]
fn invariants_flags_equal_their_pattern() {
    let cases: &[(&[&str], &str)] = &[
        (&["--event", "CreateUser"], r#"{"eventName":["CreateUser"]}"#),
        (
            &["--source", "iam", "--errors"],
            r#"{"eventSource":["iam.amazonaws.com"],"errorCode":[{"exists":true}]}"#,
        ),
        (
            &["--region", "us-east-1", "--error-code", "AccessDenied"],
            r#"{"awsRegion":["us-east-1"],"errorCode":["AccessDenied"]}"#,
        ),
    ];
    for (flags, pattern) in cases {
        let a = out(&[], flags);
        let b = out(&[], &["--pattern", pattern]);
        assert_eq!(a, b, "{flags:?} vs {pattern}");
        assert!(!a.1.is_empty());
    }
}

#[test]
fn invariants_stats_add_up() {
    let dir = tempfile::tempdir().unwrap();
    let stats = dir.path().join("s.json");
    let (_, _, _) = run(&[
        "search",
        "fixtures",
        "-c",
        "--no-prefilter",
        "--stats-json",
        stats.to_str().unwrap(),
    ]);
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
    let n = |k: &str| s[k].as_u64().unwrap();
    // Every record of the manifest is read; every file is read, skipped or failed.
    let manifest_records: u64 = crate::util::manifest().iter().filter_map(|m| m.2).sum();
    // Plus what is salvaged from broken files (5 + 36 + 1) and fixtures/manifest.json itself,
    // which a folder walk reads as a one-record JSON file.
    assert_eq!(n("records_read"), manifest_records + 5 + 36 + 1 + 1);
    assert_eq!(n("records_matched"), n("records_read"));
    let files_on_disk = walkdir::WalkDir::new(crate::util::root().join("fixtures"))
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .count() as u64;
    assert_eq!(
        n("files_read")
            + n("files_failed")
            + n("files_digest")
            + n("files_pruned")
            + n("files_ignored"),
        files_on_disk
    );
}
