//! Large inputs are read as streams (the threshold lowered by `TRAILSCAN_STREAM_THRESHOLD`):
//! the output is the in-memory path's, byte for byte, for every shape.

use crate::util::{root, trailscan};
use std::io::Write;

/// Records of the fixture archive (compact JSON text), and the CreateUser ones.
fn fixture_records() -> Vec<String> {
    let out = trailscan(&["search", "fixtures/archive", "-f", "jsonl"]).output().unwrap();
    String::from_utf8(out.stdout).unwrap().lines().map(str::to_string).collect()
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// `trailscan ARGS` with these environment variables: (exit, stdout, stderr).
fn run_env(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = trailscan(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `search ARGS` with the streaming threshold at `threshold` bytes (`None`: the default).
fn search(args: &[&str], threshold: Option<&str>) -> (i32, String, String) {
    let env: Vec<(&str, &str)> =
        threshold.map(|t| ("TRAILSCAN_STREAM_THRESHOLD", t)).into_iter().collect();
    run_env(&[&["search"], args].concat(), &env)
}

#[test]
fn stream_output_equals_the_in_memory_path_for_every_shape() {
    let recs = fixture_records();
    assert!(recs.len() > 2000);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A record of 1 MiB (a large requestParameters), in the middle.
    let big: serde_json::Value = {
        let mut v: serde_json::Value = serde_json::from_str(&recs[7]).unwrap();
        v["requestParameters"] = serde_json::json!({"policy": "x".repeat(1 << 20)});
        v
    };
    let mut all: Vec<String> = recs.clone();
    all.insert(recs.len() / 2, big.to_string());
    let delivery = format!("{{\"Records\":[{}]}}", all.join(","));
    let pretty = serde_json::to_string_pretty(
        &serde_json::json!({"Records": all.iter().map(|r| serde_json::from_str::<serde_json::Value>(r).unwrap()).collect::<Vec<_>>()}),
    )
    .unwrap();
    let lines = all.join("\n") + "\n";
    let array = format!("[{}]", all.join(",\n"));
    let lookup = format!(
        "{{\"Events\":[{}],\"NextToken\":\"x\"}}",
        all.iter()
            .map(|r| format!(
                "{{\"EventId\":\"1\",\"CloudTrailEvent\":{}}}",
                serde_json::to_string(r).unwrap()
            ))
            .collect::<Vec<_>>()
            .join(",")
    );
    let logs = format!(
        "{{\"events\":[{}]}}",
        all.iter()
            .enumerate()
            .map(|(i, r)| format!(
                "{{\"timestamp\":{i},\"message\":{}}}",
                serde_json::to_string(r).unwrap()
            ))
            .collect::<Vec<_>>()
            .join(",")
    );
    let lake = format!(
        "{{\"QueryStatus\":\"FINISHED\",\"QueryStatistics\":{{\"ResultsCount\":1}},\"QueryResultRows\":[{}]}}",
        all.iter()
            .map(|r| format!("[{{\"eventJson\":{}}}]", serde_json::to_string(r).unwrap()))
            .collect::<Vec<_>>()
            .join(",")
    );
    let export: String = all.iter().map(|r| format!("2023-07-10T12:00:00.000Z {r}\n")).collect();
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("delivery.json", delivery.clone().into_bytes()),
        ("delivery.json.gz", gz(delivery.as_bytes())),
        ("pretty.json", pretty.into_bytes()),
        ("bom.json", [&b"\xef\xbb\xbf"[..], delivery.as_bytes()].concat()),
        ("lines.jsonl", lines.clone().into_bytes()),
        ("lines.jsonl.gz", gz(lines.as_bytes())),
        ("array.json", array.into_bytes()),
        ("lookup.json", lookup.into_bytes()),
        ("logs.json", logs.into_bytes()),
        ("lake.json", lake.into_bytes()),
        ("export.gz", gz(export.as_bytes())),
    ];
    for (name, data) in &files {
        std::fs::write(d.join(name), data).unwrap();
    }
    for (name, _) in &files {
        let f = d.join(name);
        let f = f.to_str().unwrap();
        for args in
            [vec![f, "-f", "jsonl"], vec![f, "--user", "bert-jan", "--errors", "-f", "jsonl"]]
        {
            let whole = search(&args, None);
            let streamed = search(&args, Some("100000"));
            assert_eq!(whole.0, streamed.0, "{name} {args:?}: {}", streamed.2);
            assert!(whole.1 == streamed.1, "{name} {args:?}: output differs");
            assert!(!whole.1.is_empty(), "{name} {args:?}");
            assert!(
                !streamed.2.contains("failed") || streamed.2.contains(" 0 failed"),
                "{name}: {}",
                streamed.2
            );
        }
    }
    // Every record, the big one included, once.
    let (_, out, _) = search(&[d.join("lines.jsonl").to_str().unwrap(), "-c"], Some("100000"));
    assert_eq!(out.trim(), all.len().to_string());
}

#[test]
fn stream_damage_is_named_and_what_came_before_is_kept() {
    let recs = fixture_records();
    let dir = tempfile::tempdir().unwrap();
    let delivery = format!("{{\"Records\":[{}]}}", recs.join(","));
    // Cut in the middle of the compressed stream.
    let z = gz(delivery.as_bytes());
    let cut = dir.path().join("cut.json.gz");
    std::fs::write(&cut, &z[..z.len() / 2]).unwrap();
    let (code, out, err) = search(&[cut.to_str().unwrap(), "-c"], Some("10000"));
    assert_eq!(code, 2);
    let n: usize = out.trim().parse().unwrap();
    assert!(n > 100 && n < recs.len(), "{n}");
    assert!(err.contains("corrupt or truncated gzip data"), "{err}");
    assert!(err.contains("records recovered before the damage"), "{err}");
    // A gzip bomb past --max-file-size is named; the run goes on to the next file.
    let bomb = dir.path().join("bomb.json.gz");
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(b"{\"Records\":[").unwrap();
    let zeros = vec![b' '; 1 << 20];
    for _ in 0..64 {
        e.write_all(&zeros).unwrap();
    }
    std::fs::write(&bomb, e.finish().unwrap()).unwrap();
    let good = root().join("fixtures/shapes/records.jsonl");
    let (code, out, err) = search(
        &[bomb.to_str().unwrap(), good.to_str().unwrap(), "-c", "--max-file-size", "16MiB"],
        Some("1000000"),
    );
    assert_eq!(code, 2);
    assert_eq!(out.trim(), "40");
    assert!(err.contains("bomb.json.gz: larger than the 16777216-byte limit"), "{err}");
}

/// `search ARGS` with these environment variables; (exit, stdout, stderr's accounting line).
fn search_env(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let (code, out, err) = run_env(&[&["search"], args].concat(), env);
    (code, out, err.lines().last().unwrap_or("").to_string())
}

#[test]
fn many_matches_of_streamed_files_come_out_as_in_memory_in_chunks() {
    // Three files of the fixture's records, half of them at one eventTime: the output orders
    // those by file, then record, so any match out of place or lost shows.
    let recs: Vec<String> = fixture_records()
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut v: serde_json::Value = serde_json::from_str(r).unwrap();
            if i % 2 == 0 {
                v["eventTime"] = serde_json::json!("2024-05-01T00:00:00Z");
            }
            v.to_string()
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let third = recs.len() / 3;
    let lines = recs[..third].join("\n") + "\n";
    let delivery = format!("{{\"Records\":[{}]}}", recs[third..2 * third].join(","));
    let array = format!("[{}]", recs[2 * third..].join(",\n"));
    let files = [
        ("a.jsonl", lines.into_bytes()),
        ("b.json.gz", gz(delivery.as_bytes())),
        ("c.json", array.into_bytes()),
    ];
    let mut paths = Vec::new();
    for (name, data) in &files {
        std::fs::write(d.join(name), data).unwrap();
        paths.push(d.join(name).to_str().unwrap().to_string());
    }
    let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
    // Streamed (the threshold lowered), each match a chunk or chunks of a few dozen matches;
    // read in memory, each match a chunk.
    let every_match = [("TRAILSCAN_STREAM_THRESHOLD", "10000"), ("TRAILSCAN_CHUNK_BYTES", "1")];
    let some = [("TRAILSCAN_STREAM_THRESHOLD", "10000"), ("TRAILSCAN_CHUNK_BYTES", "20000")];
    let in_memory_chunks = [("TRAILSCAN_CHUNK_BYTES", "1")];
    let variants: [&[&str]; 6] = [
        &["-f", "jsonl"],
        &["-f", "csv"],
        &["--fields", "eventTime,eventName,actor"],
        &["-f", "jsonl", "--limit", "101"],
        &["-c"],
        &["-f", "jsonl", "--errors"],
    ];
    for extra in variants {
        let args = [&paths[..], extra, &["--threads", "1"]].concat();
        let whole = search_env(&args, &[]);
        assert_eq!(whole.0, 0, "{extra:?}: {}", whole.2);
        assert!(whole.1.lines().count() > 100 || extra.contains(&"-c"), "{extra:?}");
        if extra == ["-c"] {
            assert_eq!(whole.1.trim(), recs.len().to_string());
        }
        assert!(whole.2.contains(" 0 failed"), "{}", whole.2);
        for threads in ["1", "2", "8"] {
            for env in [&every_match[..], &some, &in_memory_chunks] {
                let args = [&paths[..], extra, &["--threads", threads]].concat();
                let got = search_env(&args, env);
                assert_eq!(got.0, whole.0, "{extra:?} {threads} {env:?}");
                assert!(got.1 == whole.1, "{extra:?} {threads} threads {env:?}: output differs");
                assert_eq!(got.2, whole.2, "{extra:?} {threads} threads {env:?}");
            }
        }
    }
}

/// How the chunk tests cut files into chunks (the environment of each run): streamed with
/// one match per chunk, streamed in chunks of 20 kB, read whole with one match per chunk.
const CHUNKINGS: [&[(&str, &str)]; 3] = [
    &[("TRAILSCAN_STREAM_THRESHOLD", "10000"), ("TRAILSCAN_CHUNK_BYTES", "1")],
    &[("TRAILSCAN_STREAM_THRESHOLD", "10000"), ("TRAILSCAN_CHUNK_BYTES", "20000")],
    &[("TRAILSCAN_CHUNK_BYTES", "1")],
];

/// `summary` counts a huge file's matches in chunks: the same report (its accounting
/// included), the same messages and exit code as counting each file whole, with records it
/// cannot read in the chunks.
#[test]
fn summaries_of_streamed_files_in_chunks_equal_the_whole() {
    let mut recs = fixture_records();
    let half = recs.len() / 2;
    // A record of the delivery file that its structural split passes on and the summary
    // cannot read, well into the file.
    recs.insert(half + 40, r#"{"eventName":tru,"eventTime":"2024-05-01T00:00:00Z"}"#.into());
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let lines = recs[..half].join("\n") + "\n";
    let delivery = format!("{{\"Records\":[{}]}}", recs[half..].join(","));
    std::fs::write(d.join("a.jsonl"), lines).unwrap();
    std::fs::write(d.join("b.json.gz"), gz(delivery.as_bytes())).unwrap();
    let a = d.join("a.jsonl");
    let b = d.join("b.json.gz");
    let run = |threads: &str, env: &[(&str, &str)]| {
        let args = ["summary", a.to_str().unwrap(), b.to_str().unwrap(), "--format", "json"];
        run_env(&[&args[..], &["--threads", threads]].concat(), env)
    };
    let whole = run("1", &[]);
    assert_eq!(whole.0, 2, "the broken record is an error: {}", whole.2);
    assert!(whole.2.contains("b.json.gz: record 41: invalid JSON"), "{}", whole.2);
    let v: serde_json::Value = serde_json::from_str(&whole.1).unwrap();
    assert_eq!(v["overview"]["files_with_records"], 2, "{}", whole.1);
    for threads in ["1", "2", "8"] {
        for env in CHUNKINGS {
            let got = run(threads, env);
            assert_eq!(got.0, whole.0, "{threads} {env:?}");
            assert!(got.1 == whole.1, "{threads} threads {env:?}: the report differs\n{}", got.1);
            assert_eq!(got.2, whole.2, "{threads} threads {env:?}");
        }
    }
}

/// `audit` and `timeline` test a huge file's candidates in chunks: the same findings, rows,
/// messages, accounting line and exit code as testing each file whole.
#[test]
fn audits_and_timelines_of_streamed_files_in_chunks_equal_the_whole() {
    let mut recs = fixture_records();
    let half = recs.len() / 2;
    // Unreadable, and through the packs' prefilter (it holds one of their literals).
    recs.insert(
        half + 40,
        r#"{"eventName":tru,"policyArn":"arn:aws:iam::aws:policy/AdministratorAccess"}"#.into(),
    );
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("a.jsonl"), recs[..half].join("\n") + "\n").unwrap();
    let delivery = format!("{{\"Records\":[{}]}}", recs[half..].join(","));
    std::fs::write(d.join("b.json.gz"), gz(delivery.as_bytes())).unwrap();
    let (a, b) = (d.join("a.jsonl"), d.join("b.json.gz"));
    let run = |args: &[&str], threads: &str, env: &[(&str, &str)]| {
        let files = [a.to_str().unwrap(), b.to_str().unwrap(), "--threads", threads];
        run_env(&[args, &files[..]].concat(), env)
    };
    for args in [&["audit", "--format", "jsonl"][..], &["timeline", "--format", "jsonl"]] {
        let whole = run(args, "1", &[]);
        assert!(whole.1.lines().count() > 10, "{args:?}: {}", whole.2);
        assert!(whole.2.contains("1 unreadable"), "{args:?}: {}", whole.2);
        for threads in ["1", "2", "8"] {
            for env in &CHUNKINGS[..2] {
                let got = run(args, threads, env);
                assert_eq!(got.0, whole.0, "{args:?} {threads} {env:?}");
                assert!(got.1 == whole.1, "{args:?} {threads} threads {env:?}: output differs");
                assert_eq!(got.2, whole.2, "{args:?} {threads} threads {env:?}");
            }
        }
    }
}

/// `trailscan index` reads a huge file's matches in chunks: the index made that way answers
/// every summary as the index of the files read whole does, and a file with a record it
/// cannot read is left out with the same message.
#[test]
fn indexes_of_streamed_files_in_chunks_equal_the_whole() {
    let recs = fixture_records();
    let half = recs.len() / 2;
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    std::fs::create_dir(&archive).unwrap();
    std::fs::write(archive.join("a.jsonl"), recs[..half].join("\n") + "\n").unwrap();
    let delivery = |recs: &[String]| gz(format!("{{\"Records\":[{}]}}", recs.join(",")).as_bytes());
    std::fs::write(archive.join("b.json.gz"), delivery(&recs[half..])).unwrap();
    let mut broken = recs[half..].to_vec();
    broken.insert(
        40,
        r#"{"eventName":"Broken","eventTime":"2024-05-01T00:00:00Z","awsRegion":tru}"#.into(),
    );
    std::fs::write(archive.join("c.json.gz"), delivery(&broken)).unwrap();
    let archive = archive.to_str().unwrap();
    // Index into a fresh folder, then: the index's accounting line (up to its size and
    // time), its status, and the summary it answers.
    let build = |name: &str, threads: &str, env: &[(&str, &str)]| {
        let ix = dir.path().join(name);
        let ix = ix.to_str().unwrap();
        let with_ix = [&[("TRAILSCAN_INDEX_DIR", ix)][..], env].concat();
        let (code, _, err) = run_env(&["index", archive, "--threads", threads], &with_ix);
        let line = err.split(" records; ").next().unwrap().to_string();
        let status = run_env(&["index", "--status", archive, "--format", "json"], &with_ix).1;
        let status: serde_json::Value = serde_json::from_str(&status).unwrap();
        let counted = (status[0]["files_indexed"].clone(), status[0]["records_indexed"].clone());
        let summary = run_env(&["summary", archive, "--format", "json"], &with_ix);
        let by_file = run_env(&["summary", archive, "--format", "json", "--top", "3"], &with_ix);
        (code, line, counted, summary, by_file)
    };
    let whole = build("whole", "1", &[]);
    assert_eq!(whole.0, 2, "the broken file is an error: {}", whole.1);
    assert!(whole.1.contains("c.json.gz: record 41"), "{}", whole.1);
    assert_eq!(whole.2.0, 2, "a.jsonl and b.json.gz are indexed: {}", whole.1);
    let plain = run_env(&["summary", archive, "--format", "json", "--no-index"], &[]);
    let counted = |json: &str| {
        let mut v: serde_json::Value = serde_json::from_str(json).unwrap();
        v.as_object_mut().unwrap().remove("stats");
        v
    };
    assert!(counted(&plain.1) == counted(&whole.3.1), "the index answers as the files do");
    for threads in ["1", "2", "8"] {
        for (n, env) in CHUNKINGS.into_iter().enumerate() {
            let got = build(&format!("ix{threads}-{n}"), threads, env);
            assert_eq!(got.0, whole.0, "{threads} {env:?}");
            assert_eq!(got.1, whole.1, "{threads} {env:?}");
            assert_eq!(got.2, whole.2, "{threads} {env:?}");
            assert!(got.3 == whole.3, "{threads} threads {env:?}: the summary differs");
            assert!(got.4 == whole.4, "{threads} threads {env:?}: the summary differs");
        }
    }
}

/// `report` reads a huge file's matches in chunks: the same page (but for when it was
/// made), messages and exit code as reading each file whole.
#[test]
fn reports_of_streamed_files_in_chunks_equal_the_whole() {
    let mut recs = fixture_records();
    let half = recs.len() / 2;
    recs.insert(half + 40, r#"{"eventName":tru,"eventTime":"2024-05-01T00:00:00Z"}"#.into());
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("a.jsonl"), recs[..half].join("\n") + "\n").unwrap();
    let delivery = format!("{{\"Records\":[{}]}}", recs[half..].join(","));
    std::fs::write(d.join("b.json.gz"), gz(delivery.as_bytes())).unwrap();
    let (a, b) = (d.join("a.jsonl"), d.join("b.json.gz"));
    let page = d.join("page.html");
    let run = |threads: &str, env: &[(&str, &str)]| {
        let files = [a.to_str().unwrap(), b.to_str().unwrap(), "--threads", threads];
        let (code, out, err) =
            run_env(&[&["report", "-o", page.to_str().unwrap()][..], &files[..]].concat(), env);
        assert!(out.is_empty());
        let html = std::fs::read_to_string(&page).unwrap();
        let at = html.find("\"generated_at\":").expect("the page says when it was made");
        let end = at + html[at..].find(',').unwrap();
        (code, format!("{}{}", &html[..at], &html[end..]), err)
    };
    let whole = run("1", &[]);
    assert_eq!(whole.0, 2, "the broken record is an error: {}", whole.2);
    assert!(whole.2.contains("b.json.gz: record 41: invalid JSON"), "{}", whole.2);
    for threads in ["1", "2", "8"] {
        for env in CHUNKINGS {
            let got = run(threads, env);
            assert_eq!(got.0, whole.0, "{threads} {env:?}");
            assert!(got.1 == whole.1, "{threads} threads {env:?}: the page differs");
            assert_eq!(got.2, whole.2, "{threads} threads {env:?}");
        }
    }
}

/// `trace` reads a huge file's matches in chunks in each of its passes: the same trace, the
/// same messages, accounting line and exit code as reading each file whole, at 1, 2 and 8
/// threads, for seeds whose links and events lie across both files (a long-term key down its
/// whole chain, a chained session up to its origin, a console session linked by principal and
/// creation time, a user).
#[test]
fn traces_of_streamed_files_in_chunks_equal_the_whole() {
    let traced = trailscan(&["search", "fixtures/trace", "-f", "jsonl"]).output().unwrap();
    let mut recs: Vec<String> =
        String::from_utf8(traced.stdout).unwrap().lines().map(str::to_string).collect();
    assert!(recs.len() > 40);
    // Other records around them (so that the files are past the lowered threshold many
    // times over), and one the links pass cannot read, naming the seed's key.
    let others = fixture_records();
    let half = recs.len() / 2;
    recs.splice(half..half, others[..others.len() / 2].iter().cloned());
    recs.extend(others[others.len() / 2..].iter().cloned());
    let bad = r#"{"eventName":tru,"userIdentity":{"accessKeyId":"AKIAIOSFODNN7EXAMPLE"}}"#;
    recs.insert(half + 40, bad.into());
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cut = recs.len() / 3;
    std::fs::write(d.join("a.jsonl"), recs[..cut].join("\n") + "\n").unwrap();
    let delivery = format!("{{\"Records\":[{}]}}", recs[cut..].join(","));
    std::fs::write(d.join("b.json.gz"), gz(delivery.as_bytes())).unwrap();
    let (a, b) = (d.join("a.jsonl"), d.join("b.json.gz"));
    let run = |seed: &[&str], format: &str, threads: &str, env: &[(&str, &str)]| {
        let files = ["trace", a.to_str().unwrap(), b.to_str().unwrap()];
        let rest = ["--format", format, "--threads", threads, "--no-index"];
        run_env(&[&files[..], seed, &rest[..]].concat(), env)
    };
    let seeds: [(&[&str], &str); 5] = [
        (&["--access-key", "AKIAIOSFODNN7EXAMPLE", "--down"], "text"),
        (&["--access-key", "AKIAIOSFODNN7EXAMPLE", "--down"], "jsonl"),
        (&["--access-key", "ASIAQRSTUVWXCHAINED1"], "jsonl"),
        (&["--access-key", "ASIAQRSTUVWXCONSOLE1"], "jsonl"),
        (&["--user", "dave"], "text"),
    ];
    for (seed, format) in seeds {
        let whole = run(seed, format, "1", &[]);
        assert_eq!(whole.0, 2, "{seed:?}: the unreadable record is an error: {}", whole.2);
        assert!(whole.1.lines().count() >= 2, "{seed:?} {format}: {}", whole.1);
        assert!(whole.2.contains("invalid JSON"), "{seed:?}: {}", whole.2);
        for threads in ["1", "2", "8"] {
            for env in CHUNKINGS {
                let got = run(seed, format, threads, env);
                let what = format!("{seed:?} {format} {threads} threads {env:?}");
                assert_eq!(got.0, whole.0, "{what}");
                assert!(got.1 == whole.1, "{what}: the trace differs\n{}", got.1);
                assert_eq!(got.2, whole.2, "{what}");
            }
        }
    }
}
