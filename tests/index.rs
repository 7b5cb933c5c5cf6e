//! The archive index never changes an answer: differential tests with and without it, its
//! soundness on the conformance corpus, staleness, damage, and concurrent or interrupted
//! builds.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use serde_json::{Value, json};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use trailscan::cli::Cli;
use trailscan::index::Builder;
use trailscan::index::fields::{FieldReader, FileFields};
use trailscan::index::plan::Planner;
use trailscan::query::{Filters, Query};
use trailscan::source::FileStamp;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs trailscan in this process: (exit code, stdout).
fn ts(args: &[&str]) -> (u8, String) {
    use clap::Parser;
    let cli = Cli::try_parse_from(std::iter::once("trailscan").chain(args.iter().copied()))
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    let mut out = Vec::new();
    let code = match trailscan::run(&cli, &mut out, &AtomicBool::new(false)) {
        Ok(o) => o.code(),
        Err(e) => {
            eprintln!("{args:?}: {e:#}");
            2
        }
    };
    (code, String::from_utf8(out).unwrap())
}

/// An index of `archive` in a new folder.
fn indexed(archive: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let (code, _) = ts(&[
        "index",
        archive.to_str().unwrap(),
        "--index-dir",
        dir.path().to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(code, 0);
    dir
}

/// The same command with the index in `dir` and with `--no-index`: both outputs and codes.
fn both(dir: &Path, args: &[&str]) -> ((u8, String), (u8, String)) {
    let d = dir.to_str().unwrap();
    let mut with = args.to_vec();
    with.extend(["--index-dir", d, "-q"]);
    let mut without = args.to_vec();
    without.extend(["--index-dir", d, "--no-index", "-q"]);
    (ts(&with), ts(&without))
}

fn same(dir: &Path, args: &[&str]) {
    let (a, b) = both(dir, args);
    assert!(a == b, "{args:?}: with the index:\n{}\nwithout:\n{}", a.1, b.1);
}

/// `summary --format json` with and without the index: identical but for the `stats` object,
/// which accounts for the work done (files opened, bytes inflated), not for the answer.
fn same_summary(dir: &Path, args: &[&str]) {
    let ((ca, a), (cb, b)) = both(dir, args);
    let strip = |s: &str| {
        let mut v: Value = serde_json::from_str(s).unwrap();
        let stats = v.as_object_mut().unwrap().remove("stats").unwrap();
        (v, stats)
    };
    let ((va, sa), (vb, sb)) = (strip(&a), strip(&b));
    assert_eq!(ca, cb, "{args:?}");
    assert!(va == vb, "{args:?}: with the index:\n{a}\nwithout:\n{b}");
    // The accounting adds up the same way.
    for k in ["files_read", "files_failed", "files_digest", "records_matched", "records_failed"] {
        assert_eq!(sa[k], sb[k], "{args:?}: {k}");
    }
}

fn archive() -> PathBuf {
    root().join("fixtures/archive")
}

#[test]
fn every_filter_flag_summary_and_audit_agree() {
    let a = archive();
    let a = a.to_str().unwrap();
    let dir = indexed(Path::new(a));
    let d = dir.path();
    let searches: &[&[&str]] = &[
        &["--event", "CreateUser"],
        &["--event", "CreateUser", "--event", "DeleteTrail"],
        &["--event", "NoSuchEvent"],
        &["--source", "iam"],
        &["--source", "s3.amazonaws.com", "--errors"],
        &["--user", "mallory"],
        &["--user", "bert-jan"],
        &["--user", "mal*"],
        &["--user", "AKIAIOSFODNN7EXAMPLE"],
        &["--ip", "203.0.113.66"],
        &["--ip", "203.0.113.0/24"],
        &["--ip", "10.0.0.0/8"],
        &["--account", "222233334444"],
        &["--region", "us-east-1", "--region", "eu-west-1"],
        &["--errors"],
        &["--error-code", "AccessDenied"],
        &["--since", "2023-07-11", "--until", "2023-07-13"],
        &["--since", "2024-08-01T13:00:00Z"],
        &["--until", "2023-07-10T12:24:30Z"],
        &["--pattern", r#"{"source":["aws.iam"],"detail-type":["AWS API Call via CloudTrail"]}"#],
        &["--pattern", r#"{"detail":{"eventName":[{"prefix":"Delete"}]}}"#],
        &[
            "--pattern",
            r#"{"eventName":[{"anything-but":["ConsoleLogin","GetCallerIdentity"]}],"readOnly":[false]}"#,
        ],
        &["--pattern", r#"{"errorCode":[{"exists":false}],"eventSource":["sts.amazonaws.com"]}"#],
        &["--pattern", r#"{"userIdentity":{"type":[{"equals-ignore-case":"iamuser"}]}}"#],
        &["--pattern", r#"{"requestParameters":{"userName":[{"wildcard":"*backdoor*"}]}}"#],
    ];
    for s in searches {
        let mut args = vec!["search", a, "--format", "jsonl"];
        args.extend_from_slice(s);
        same(d, &args);
        let mut args = vec!["summary", a, "--format", "json"];
        args.extend_from_slice(s);
        same_summary(d, &args);
    }
    // Summaries the index answers whole, in every format, and those it does not (groups, a
    // split timeline): the same report, byte for byte.
    for s in [
        &[][..],
        &["--top", "0"],
        &["--top", "1"],
        &["--by", "eventName"],
        &["--timeline-by", "eventSource"],
        &["--bucket", "hour"],
    ] {
        let mut args = vec!["summary", a, "--format", "json"];
        args.extend_from_slice(s);
        same_summary(d, &args);
        for format in ["text", "csv"] {
            let mut args = vec!["summary", a, "--format", format];
            args.extend_from_slice(s);
            same(d, &args);
        }
    }
    let answered = |args: &[&str]| -> u64 {
        let stats = d.join("summary-stats.json");
        let mut all = vec!["summary", a, "--format", "json", "-q", "--index-dir"];
        all.extend([d.to_str().unwrap(), "--stats-json", stats.to_str().unwrap()]);
        all.extend_from_slice(args);
        ts(&all);
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
        v["files_answered"].as_u64().unwrap()
    };
    assert!(answered(&[]) > 50, "a summary of the whole archive is answered from the index");
    assert!(answered(&["--account", "222233334444"]) > 0);
    assert_eq!(answered(&["--by", "eventName"]), 0, "groups are not in the index");
    for s in [
        &["--pack", "cis"][..],
        &["--pack", "threats"],
        &["--pack", "threats", "--account", "222233334444"],
    ] {
        let mut args = vec!["audit", a, "--format", "json"];
        args.extend_from_slice(s);
        same(d, &args);
    }
    // The index did rule files out.
    let stats = d.join("stats.json");
    ts(&[
        "search",
        a,
        "--event",
        "CreateUser",
        "--count",
        "-q",
        "--index-dir",
        d.to_str().unwrap(),
        "--stats-json",
        stats.to_str().unwrap(),
    ]);
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
    assert!(v["files_indexed"].as_u64().unwrap() > 50, "{v}");
    assert_eq!(v["files_index_stale"], 0);
}

/// Every record of the fixture archive.
fn records() -> Vec<Value> {
    let mut out = Vec::new();
    for e in walkdir::WalkDir::new(archive()).sort_by_file_name() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".json.gz") || e.path().to_string_lossy().contains("Digest") {
            continue;
        }
        let mut text = String::new();
        flate2::read::MultiGzDecoder::new(std::fs::File::open(e.path()).unwrap())
            .read_to_string(&mut text)
            .unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        out.extend(v["Records"].as_array().cloned().unwrap_or_default());
    }
    out
}

/// The value at a dotted path.
fn at<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(v, |v, k| v.get(k))
}

/// A pattern object with `alts` at dotted `path`.
fn nest(path: &str, alts: Value) -> Value {
    path.rsplit('.').fold(alts, |inner, k| json!({ k: inner }))
}

const PATHS: &[&str] = &[
    "eventName",
    "eventSource",
    "awsRegion",
    "recipientAccountId",
    "errorCode",
    "eventType",
    "readOnly",
    "managementEvent",
    "userIdentity.type",
    "userIdentity.arn",
    "userIdentity.userName",
    "userIdentity.principalId",
    "userIdentity.accessKeyId",
    "userIdentity.sessionContext.sessionIssuer.userName",
    "sourceIPAddress",
    "userAgent",
    "eventID",
    "requestParameters.userName",
];

/// A pattern built from one record's value with one operator.
fn pattern(
    recs: &[Value],
    pick: usize,
    path: usize,
    op: usize,
    envelope: bool,
    cut: usize,
) -> String {
    let rec = &recs[pick % recs.len()];
    let path = PATHS[path % PATHS.len()];
    let v = at(rec, path).cloned().unwrap_or(Value::Null);
    let text = v.as_str().unwrap_or("x").to_string();
    let k = cut % (text.chars().count().max(1));
    let head: String = text.chars().take(k.max(1)).collect();
    let tail: String = text.chars().skip(k).collect();
    let alts = match op % 12 {
        0 => json!([v]),
        1 => json!([{ "prefix": head }]),
        2 => json!([{ "suffix": tail }]),
        3 => json!([{ "anything-but": [v] }]),
        4 => json!([{ "exists": true }]),
        5 => json!([{ "exists": false }]),
        6 => json!([{ "equals-ignore-case": text.to_uppercase() }]),
        7 => {
            json!([{ "wildcard": format!("*{}*", tail.replace('\\', "\\\\").replace('*', "\\*")) }])
        }
        8 => json!([{ "cidr": "10.0.0.0/8" }, { "cidr": "203.0.113.0/24" }]),
        9 => json!([{ "anything-but": { "prefix": head } }]),
        10 => json!([v, "NotAValue"]),
        _ => json!([{ "suffix": format!("/{text}") }]),
    };
    let p = nest(path, alts);
    if envelope { json!({ "detail": p }).to_string() } else { p.to_string() }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    /// Patterns drawn from the fixture records, every operator, both views, alone and OR-ed:
    /// the same records with and without the index.
    #[test]
    fn random_patterns_agree(
        picks in proptest::collection::vec((0usize..10_000, 0usize..64, 0usize..64, any::<bool>(), 0usize..64), 1..3),
    ) {
        use std::sync::OnceLock;
        static SETUP: OnceLock<(Vec<Value>, tempfile::TempDir)> = OnceLock::new();
        let (recs, dir) = SETUP.get_or_init(|| (records(), indexed(&archive())));
        let a = archive();
        let mut args = vec!["search".to_string(), a.to_str().unwrap().to_string(), "--format".into(), "jsonl".into()];
        for &(pick, path, op, env, cut) in &picks {
            args.push("--pattern".into());
            args.push(pattern(recs, pick, path, op, env, cut));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (with, without) = both(dir.path(), &args);
        prop_assert_eq!(with, without, "{:?}", args);
    }
}

/// Renames the top-level keys of an object (and of top-level `$or` branches) by `map`.
fn rename(v: &Value, map: &[(String, &str)]) -> Value {
    let Value::Object(o) = v else { return v.clone() };
    let mut out = serde_json::Map::new();
    for (k, val) in o {
        let val = if k == "$or" {
            Value::Array(
                val.as_array()
                    .map(|a| a.iter().map(|b| rename(b, map)).collect())
                    .unwrap_or_default(),
            )
        } else {
            val.clone()
        };
        let key = map.iter().find(|(from, _)| from == k).map_or(k.as_str(), |(_, to)| to);
        out.insert(key.to_string(), val);
    }
    Value::Object(out)
}

/// The conformance corpus (every operator, arrays, `$or`, numbers, nulls), with its top-level
/// keys renamed to indexed CloudTrail fields: wherever the matcher says an event matches, the
/// planner must not rule out a file holding just that event, read either way.
#[test]
fn the_planner_is_sound_on_the_conformance_corpus() {
    let targets = [
        "eventName",
        "awsRegion",
        "errorCode",
        "readOnly",
        "sourceIPAddress",
        "userAgent",
        "eventType",
        "managementEvent",
    ];
    let text = std::fs::read_to_string(root().join("tests/data/conformance/cases.jsonl")).unwrap();
    let reader = FieldReader::new();
    let (mut checked, mut matched) = (0, 0);
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let case: Value = serde_json::from_str(line).unwrap();
        let (Some(p), Some(e)) = (case["pattern_text"].as_str(), case["event_text"].as_str())
        else {
            continue;
        };
        let (Ok(pv), Ok(ev)) = (serde_json::from_str::<Value>(p), serde_json::from_str::<Value>(e))
        else {
            continue;
        };
        let mut keys: Vec<String> =
            ev.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
        keys.sort();
        let map: Vec<(String, &str)> = keys.into_iter().zip(targets).collect();
        let (pv, ev) = (rename(&pv, &map), rename(&ev, &map));
        let Ok(query) = Query::new(&Filters::default(), &[pv.to_string()], true) else { continue };
        let raw = ev.to_string();
        let Ok(hit) = query.evaluate(&raw) else { continue };
        let planner = Planner::new(&query);
        let mut f = FileFields::new();
        if f.add(&reader, 0, &raw, None).is_err() {
            continue;
        }
        let mut b = Builder::new("/".into());
        b.add(
            "f".into(),
            FileStamp { size: 0, mtime_ns: 0, ctime_ns: 0, inode: 0 },
            f.finish().unwrap(),
        );
        let idx = b.finish(0, 0);
        checked += 1;
        if hit.is_some() {
            matched += 1;
            assert!(
                planner.may_match(&idx.files()[0], &idx),
                "{}: pattern {pv} event {ev}",
                case["id"]
            );
        }
    }
    assert!(checked > 1000 && matched > 500, "{checked} cases, {matched} matching");
}

/// A copy of the fixture archive to change.
fn copy_archive() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for e in walkdir::WalkDir::new(archive()) {
        let e = e.unwrap();
        let to = dir.path().join(e.path().strip_prefix(archive()).unwrap());
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&to).unwrap();
        } else {
            std::fs::copy(e.path(), &to).unwrap();
        }
    }
    dir
}

/// A delivery file holding one CreateUser by `user`, `pad` bytes of padding in its agent.
fn delivery(user: &str, pad: usize) -> Vec<u8> {
    let rec = json!({
        "eventVersion": "1.08", "eventTime": "2023-07-14T00:00:00Z", "eventSource": "iam.amazonaws.com",
        "eventName": "CreateUser", "awsRegion": "us-east-1", "sourceIPAddress": "198.51.100.7",
        "userAgent": format!("agent{}", noise(pad)), "recipientAccountId": "222233334444",
        "eventID": format!("stale-{user}"), "eventType": "AwsApiCall",
        "userIdentity": {"type": "IAMUser", "userName": user, "arn": format!("arn:aws:iam::222233334444:user/{user}")},
        "requestParameters": {"userName": "late-backdoor"}
    });
    json!({ "Records": [rec] }).to_string().into_bytes()
}

/// `n` letters gzip cannot shrink much.
fn noise(n: usize) -> String {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from(b'a' + (x % 26) as u8)
        })
        .collect()
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .filter(|p| {
            p.is_file()
                && p.to_string_lossy().ends_with(".json.gz")
                && p.to_string_lossy().contains("/CloudTrail/")
        })
        .collect();
    v.sort();
    v
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(data).unwrap();
    z.finish().unwrap()
}

/// Searches that find the records the change tests write (and one that does not).
const CHANGED_SEARCHES: [&[&str]; 5] = [
    &["--event", "CreateUser"],
    &["--user", "zed"],
    &["--user", "yve"],
    &["--ip", "198.51.100.7"],
    &["--account", "222233334444", "--event", "CreateUser"],
];

/// `searches` (JSON lines) and `summaries` (JSON) of the archive `a` agree with and without
/// the index in `d`.
fn agree(d: &Path, a: &str, what: &str, searches: &[&[&str]], summaries: &[&[&str]]) {
    for q in searches {
        let mut args = vec!["search", a, "--format", "jsonl"];
        args.extend_from_slice(q);
        let (with, without) = both(d, &args);
        assert_eq!(with, without, "{what}: {q:?}");
    }
    for q in summaries {
        let mut args = vec!["summary", a, "--format", "json"];
        args.extend_from_slice(q);
        same_summary(d, &args);
    }
}

#[test]
fn changed_files_are_never_trusted() {
    let copy = copy_archive();
    let a = copy.path().to_str().unwrap().to_string();
    let dir = indexed(copy.path());
    let d = dir.path();
    // Summaries: changed files are read, the rest answered from the index.
    let summaries: [&[&str]; 3] = [&[], &["--account", "222233334444"], &["--since", "2023-07-10"]];
    let check = |what: &str| agree(d, &a, what, &CHANGED_SEARCHES[..4], &summaries);
    let files = files_under(copy.path());
    let victim = &files[3];
    // Rewritten with a new record, same size, new modification time.
    let old_len = std::fs::metadata(victim).unwrap().len() as usize;
    // A gzip comment pads the file to exactly its old length.
    let plain = gzip(&delivery("zed", 0));
    assert!(plain.len() < old_len, "the fixture file is larger than the new one");
    let mut z = flate2::GzBuilder::new()
        .comment(vec![b'c'; old_len - plain.len() - 1])
        .write(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut z, &delivery("zed", 0)).unwrap();
    let bytes = z.finish().unwrap();
    assert_eq!(bytes.len(), old_len);
    std::fs::write(victim, &bytes).unwrap();
    check("rewritten");
    // Same modification time as when indexed, new size.
    let mtime = std::fs::metadata(&files[5]).unwrap().modified().unwrap();
    std::fs::write(&files[5], gzip(&delivery("yve", 3))).unwrap();
    std::fs::File::options().write(true).open(&files[5]).unwrap().set_modified(mtime).unwrap();
    check("same mtime");
    // Truncated (now unreadable: both runs report it).
    let t = std::fs::read(&files[7]).unwrap();
    std::fs::write(&files[7], &t[..t.len() / 2]).unwrap();
    check("truncated");
    // Replaced, deleted, added, renamed.
    std::fs::remove_file(&files[9]).unwrap();
    std::fs::write(&files[9], gzip(&delivery("zed", 1))).unwrap();
    std::fs::remove_file(&files[11]).unwrap();
    let added = files[13].with_file_name(
        "222233334444_CloudTrail_us-east-1_20230714T0000Z_addedaddedadded1.json.gz",
    );
    std::fs::write(&added, gzip(&delivery("yve", 0))).unwrap();
    std::fs::rename(&files[15], files[15].with_file_name("renamed.json.gz")).unwrap();
    check("replaced, deleted, added, renamed");
    // After an update, the index is fresh again and still agrees.
    let (code, _) = ts(&["index", &a, "--index-dir", d.to_str().unwrap(), "-q"]);
    assert_eq!(code, 2, "the truncated file is named");
    check("updated");
    let (_, status) =
        ts(&["index", "--status", &a, "--index-dir", d.to_str().unwrap(), "--format", "json"]);
    let s: Value = serde_json::from_str(&status).unwrap();
    assert_eq!(s[0]["stale"], 0, "{s}");
    assert_eq!(s[0]["not_indexed"], 1, "the truncated file is left out: {s}");
}

#[test]
fn a_damaged_index_is_named_and_not_used() {
    let copy = copy_archive();
    let a = copy.path().to_str().unwrap().to_string();
    let dir = indexed(copy.path());
    let d = dir.path();
    let file = index_file(d);
    let good = std::fs::read(&file).unwrap();
    let args = ["search", a.as_str(), "--event", "CreateUser", "--format", "jsonl"];
    let expected = both(d, &args).1;
    let mut future = good.clone();
    future[16] = 99;
    // An index written before a format change (fields added): not used, rebuilt by an update.
    let mut previous = good.clone();
    previous[16..20].copy_from_slice(&(trailscan::index::format::VERSION - 1).to_le_bytes());
    let mut flipped = good.clone();
    // In the body, which every use of the index reads (the other sections are read, and
    // checked, by summaries).
    let [(_, body), (_, sums), (_, totals)] = trailscan::index::format::sections(&good).unwrap();
    let mid = good.len() - totals.len() - sums.len() - body.len() / 2;
    flipped[mid] ^= 1;
    for (what, bytes) in [
        ("truncated", good[..good.len() / 3].to_vec()),
        ("flipped", flipped),
        ("future version", future),
        ("previous version", previous),
        ("foreign", b"not an index at all".to_vec()),
        ("empty", Vec::new()),
    ] {
        std::fs::write(&file, &bytes).unwrap();
        let out = trailscan_bin(&[
            "search",
            &a,
            "--event",
            "CreateUser",
            "--format",
            "jsonl",
            "--index-dir",
            d.to_str().unwrap(),
        ]);
        assert_eq!((out.0, out.1.as_str()), (expected.0, expected.1.as_str()), "{what}");
        assert!(out.2.contains("is not used"), "{what}: {}", out.2);
        // An update rebuilds it.
        let (code, _) = ts(&["index", &a, "--index-dir", d.to_str().unwrap(), "-q"]);
        assert_eq!(code, 0, "{what}");
    }
    // The index of another folder, under this folder's name.
    let other = copy_archive();
    let other_dir = indexed(other.path());
    let other_file = index_file(other_dir.path());
    std::fs::copy(&other_file, &file).unwrap();
    let out = trailscan_bin(&[
        "search",
        &a,
        "--event",
        "CreateUser",
        "--format",
        "jsonl",
        "--index-dir",
        d.to_str().unwrap(),
    ]);
    assert_eq!(out.1, expected.1);
    assert!(out.2.contains("indexes"), "{}", out.2);
}

#[test]
fn a_damaged_summaries_section_is_named_and_the_files_read() {
    use trailscan::index::format;
    let copy = copy_archive();
    let a = copy.path().to_str().unwrap().to_string();
    let dir = indexed(copy.path());
    let d = dir.path();
    let file = index_file(d);
    let good = std::fs::read(&file).unwrap();
    let [(len, packed), _, (tlen, tpacked)] = format::sections(&good).unwrap();
    let body = format::inflate(len, packed).unwrap();
    let totals = format::inflate(tlen, tpacked).unwrap();
    let strip = |s: &str| {
        let mut v: Value = serde_json::from_str(s).unwrap();
        v.as_object_mut().unwrap().remove("stats");
        v
    };
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--format", "json", "--index-dir", d.to_str().unwrap()]);
        trailscan_bin(&all)
    };
    let whole = ["summary", a.as_str()];
    let one = ["summary", a.as_str(), "--account", "222233334444"];
    let expected = [
        both(d, &[&whole[..], &["--format", "json"]].concat()).1,
        both(d, &[&one[..], &["--format", "json"]].concat()).1,
    ];
    // Checksums that hold over summaries that do not decode.
    for garbage in [&b""[..], b"\x03abc", &[0xff; 64]] {
        // With the totals whole, a summary of the whole archive needs nothing else.
        std::fs::write(&file, format::pack_sections(&body, garbage, &totals)).unwrap();
        let out = run(&whole);
        assert_eq!((out.0, strip(&out.1)), (expected[0].0, strip(&expected[0].1)));
        assert!(!out.2.contains("damaged"), "{}", out.2);
        assert!(out.2.contains("answered unopened"), "the totals answered: {}", out.2);
        // A summary of some files needs their summaries: named, and the files read.
        let out = run(&one);
        assert_eq!((out.0, strip(&out.1)), (expected[1].0, strip(&expected[1].1)));
        assert!(out.2.contains("summaries section is damaged"), "{}", out.2);
        assert_eq!(out.2.matches("is damaged").count(), 1, "named once: {}", out.2);
        assert!(!out.2.contains("answered unopened"), "{}", out.2);
        // Both sections damaged: both named, the files read.
        std::fs::write(&file, format::pack_sections(&body, garbage, garbage)).unwrap();
        let out = run(&whole);
        assert_eq!((out.0, strip(&out.1)), (expected[0].0, strip(&expected[0].1)));
        assert!(out.2.contains("totals are damaged"), "{}", out.2);
        assert!(out.2.contains("summaries section is damaged"), "{}", out.2);
        assert!(!out.2.contains("answered unopened"), "{}", out.2);
        // Searches still use the rest of the index.
        let out = trailscan_bin(&[
            "search",
            &a,
            "--event",
            "CreateUser",
            "--count",
            "--index-dir",
            d.to_str().unwrap(),
        ]);
        assert!(out.2.contains("ruled out unopened by the index"), "{}", out.2);
    }
    // A file changed since: the totals do not answer, the files' summaries are damaged, and
    // the summary is made again from the files, right.
    std::fs::write(&file, format::pack_sections(&body, b"\x03abc", &totals)).unwrap();
    let victim = &files_under(copy.path())[3];
    std::fs::write(victim, gzip(&delivery("zed", 0))).unwrap();
    let expected = both(d, &[&whole[..], &["--format", "json"]].concat()).1;
    let out = run(&whole);
    assert_eq!((out.0, strip(&out.1)), (expected.0, strip(&expected.1)));
    assert!(out.2.contains("is made again from the files"), "{}", out.2);
}

/// An archive whose fields have more distinct values than the index's totals keep by text
/// ([`trailscan::index::summary::KEEP`]), with counts tied across the cut: every top gives
/// the same summary with the index (its totals, or each file's summary) and without.
#[test]
fn summaries_past_the_totals_cut_agree() {
    let dir = tempfile::tempdir().unwrap();
    let day = dir.path().join("AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01");
    std::fs::create_dir_all(&day).unwrap();
    let mut x: u64 = 7;
    let mut next = |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    for f in 0..12 {
        let records: Vec<Value> = (0..400)
            .map(|i| {
                // Actors from 3,000, many seen once or twice; agents from 1,200, evenly.
                let actor = next(3000).min(next(3000));
                json!({
                    "eventVersion": "1.08",
                    "eventTime": format!("2024-05-01T{:02}:{:02}:{:02}Z", f, i % 60, next(60)),
                    "eventSource": "s3.amazonaws.com", "eventName": format!("Op{}", next(1500)),
                    "awsRegion": "us-east-1", "recipientAccountId": "111122223333",
                    "sourceIPAddress": format!("10.0.{}.{}", next(8), next(200)),
                    "userAgent": format!("agent-{}", next(1200)),
                    "eventID": format!("e-{f}-{i}"), "eventType": "AwsApiCall",
                    "userIdentity": {"type": "IAMUser", "userName": format!("u{actor}")},
                })
            })
            .collect();
        let name =
            format!("111122223333_CloudTrail_us-east-1_20240501T{f:02}00Z_file{f:02}.json.gz");
        std::fs::write(day.join(name), gzip(json!({ "Records": records }).to_string().as_bytes()))
            .unwrap();
    }
    let a = dir.path().to_str().unwrap();
    let idx = indexed(dir.path());
    for top in ["1", "10", "999", "1000", "1001", "2000", "0"] {
        same_summary(idx.path(), &["summary", a, "--format", "json", "--top", top]);
        same(idx.path(), &["summary", a, "--top", top]);
    }
}

/// The index file in the index folder `dir`.
fn index_file(dir: &Path) -> PathBuf {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "tsi"))
        .unwrap()
}

/// The real binary: (exit code, stdout, stderr).
fn trailscan_bin(args: &[&str]) -> (u8, String, String) {
    let out =
        std::process::Command::new(env!("CARGO_BIN_EXE_trailscan")).args(args).output().unwrap();
    (
        u8::try_from(out.status.code().unwrap()).unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn concurrent_and_interrupted_builds_leave_a_usable_index() {
    let copy = copy_archive();
    let a = copy.path().to_str().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_string();
    let runs: Vec<_> = (0..3)
        .map(|_| {
            std::process::Command::new(env!("CARGO_BIN_EXE_trailscan"))
                .args(["index", &a, "--index-dir", &d, "-q", "--rebuild"])
                .spawn()
                .unwrap()
        })
        .collect();
    for mut r in runs {
        assert!(r.wait().unwrap().success());
    }
    let names: Vec<_> = std::fs::read_dir(&d).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names.len(), 1, "one index, no temporary file left: {names:?}");
    same(dir.path(), &["search", &a, "--event", "CreateUser", "--format", "jsonl"]);
    // An interrupted build writes nothing: the previous index stays.
    let file = dir.path().join(&names[0]);
    let before = std::fs::read(&file).unwrap();
    use clap::Parser;
    let cli = Cli::try_parse_from(["trailscan", "index", &a, "--index-dir", &d, "-q", "--rebuild"])
        .unwrap();
    let err = trailscan::run(&cli, &mut Vec::new(), &AtomicBool::new(true)).unwrap_err();
    assert!(format!("{err:#}").contains("interrupted"));
    assert_eq!(std::fs::read(&file).unwrap(), before);
}

#[test]
fn status_and_explain_say_what_the_index_knows() {
    let a = archive();
    let a = a.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let (code, out) = ts(&["index", "--status", a, "--index-dir", d]);
    assert_eq!(code, 1);
    assert!(out.contains("no index covers it"), "{out}");
    ts(&["index", a, "--index-dir", d, "-q"]);
    let (code, out) = ts(&["index", "--status", a, "--index-dir", d]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("74 fresh, 0 changed since, 0 not in the index"), "{out}");
    // A folder inside the archive is covered by the archive's index.
    let sub = format!("{a}/AWSLogs/222233334444");
    let (_, out) = ts(&["search", &sub, "--event", "CreateUser", "--explain", "--index-dir", d]);
    assert!(out.contains("eventName: decided per file from the index"), "{out}");
    let (_, out) = ts(&[
        "search",
        a,
        "--pattern",
        r#"{"requestParameters":{"userName":["x"]}}"#,
        "--explain",
        "--index-dir",
        d,
    ]);
    assert!(out.contains("index: not used: it cannot rule out any file"), "{out}");
    same(dir.path(), &["search", &sub, "--event", "CreateUser", "--format", "jsonl"]);
}

/// Updates that change a few files are written as a delta beside the index; searches and
/// summaries through base and delta agree with `--no-index` at every step, a damaged or
/// outdated delta is left out without a wrong answer, and growth past a tenth of the
/// archive writes the whole index again.
#[test]
fn updates_kept_beside_the_index_agree() {
    let copy = copy_archive();
    let a = copy.path().to_str().unwrap().to_string();
    let dir = indexed(copy.path());
    let d = dir.path();
    let ds = d.to_str().unwrap();
    let root = std::fs::canonicalize(copy.path()).unwrap();
    let delta = index_file(d).with_extension("tsd");
    let summaries: [&[&str]; 4] =
        [&[], &["--top", "1"], &["--account", "222233334444"], &["--by", "eventName"]];
    let check = |what: &str| {
        agree(d, &a, what, &CHANGED_SEARCHES, &summaries);
        same(d, &["audit", a.as_str(), "--pack", "threats", "--format", "json"]);
    };
    let update = || {
        let (code, _) = ts(&["index", &a, "--index-dir", ds, "-q"]);
        assert_eq!(code, 0);
    };
    let status = || {
        let (_, s) = ts(&["index", "--status", &a, "--index-dir", ds, "--format", "json"]);
        let s: Value = serde_json::from_str(&s).unwrap();
        for k in ["stale", "not_indexed", "gone"] {
            assert_eq!(s[0][k], 0, "{k}: {s}");
        }
        s[0]["files_indexed"].as_u64().unwrap()
    };
    let files = files_under(copy.path());
    let n = files.len() as u64;
    assert!(n >= 70, "{n} files");
    let all = status();
    // One file added, one rewritten.
    let added = files[13].with_file_name(
        "222233334444_CloudTrail_us-east-1_20230714T0000Z_addedaddedadded1.json.gz",
    );
    std::fs::write(&added, gzip(&delivery("yve", 0))).unwrap();
    std::fs::write(&files[3], gzip(&delivery("zed", 2))).unwrap();
    update();
    assert!(delta.is_file(), "a small update is a delta");
    let loaded = trailscan::index::store::load(&index_file(d), &root).unwrap();
    assert_eq!(loaded.delta_files(), Some(2));
    assert!(loaded.totals().is_some(), "the delta keeps the totals of the whole");
    assert_eq!(status(), all + 1);
    check("a delta of an added and a rewritten file");
    // One deleted, one renamed: the next delta holds the first one's files too.
    std::fs::remove_file(&files[9]).unwrap();
    std::fs::rename(&files[15], files[15].with_file_name("renamed.json.gz")).unwrap();
    update();
    let loaded = trailscan::index::store::load(&index_file(d), &root).unwrap();
    assert_eq!(loaded.delta_files(), Some(3));
    assert_eq!(status(), all);
    check("a delta of four changes");
    // A damaged delta: named, left out; the files it knew are read.
    let good = std::fs::read(&delta).unwrap();
    let mut flipped = good.clone();
    // In the body, which every use reads.
    let [(_, body), (_, sums), (_, totals)] = trailscan::index::format::sections(&good).unwrap();
    flipped[good.len() - totals.len() - sums.len() - body.len() / 2] ^= 1;
    std::fs::write(&delta, &flipped).unwrap();
    let args = ["search", a.as_str(), "--user", "zed", "--format", "jsonl", "--index-dir", ds];
    let out = trailscan_bin(&args);
    let mut cold = args.to_vec();
    cold.push("--no-index");
    let expected = trailscan_bin(&cold);
    assert_eq!((out.0, &out.1), (expected.0, &expected.1));
    assert!(out.2.contains("index delta") && out.2.contains("is not used"), "{}", out.2);
    check("a damaged delta");
    // A delta of an earlier index (a rebuild since): not used, and no wrong answer.
    let (code, _) = ts(&["index", &a, "--index-dir", ds, "--rebuild", "-q"]);
    assert_eq!(code, 0);
    assert!(!delta.exists(), "a whole index replaces the delta");
    std::fs::write(&delta, &good).unwrap();
    let loaded = trailscan::index::store::load(&index_file(d), &root).unwrap();
    assert_eq!(loaded.delta_files(), None, "a delta of another base is left out");
    std::fs::write(&files[5], gzip(&delivery("zed", 4))).unwrap();
    check("a delta of an earlier index");
    // Growth past a tenth of the archive: the whole index again.
    for i in 0..(n / 10 + 1) {
        let f = files[20].with_file_name(format!(
            "222233334444_CloudTrail_us-east-1_20230715T0000Z_grown{i:011}.json.gz"
        ));
        std::fs::write(&f, gzip(&delivery("yve", i as usize))).unwrap();
    }
    update();
    assert!(!delta.exists(), "past a tenth, the index is written whole");
    assert_eq!(status(), all + n / 10 + 1);
    check("rewritten whole");
}
