//! `trailscan export` end to end: the real binary on `fixtures/archive`, the lake read back with
//! the parquet crate and with DuckDB (tests/lake/roundtrip.py).

use arrow_array::Array;
use arrow_array::cast::AsArray;
use assert_cmd::Command;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const ARCHIVE: &str = "fixtures/archive";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn trailscan() -> Command {
    let mut c = Command::cargo_bin("trailscan").unwrap();
    c.current_dir(root());
    c
}

/// Runs `trailscan ARGS`; returns (exit code, stdout, stderr).
fn run(args: &[&str]) -> (i32, String, String) {
    let out = trailscan().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `export PATH --out LAKE ARGS`, expecting exit `code`; returns stderr.
fn export(path: &Path, lake: &Path, args: &[&str], code: i32) -> String {
    let mut a = vec!["export", path.to_str().unwrap(), "--out", lake.to_str().unwrap()];
    a.extend_from_slice(args);
    let (c, _, err) = run(&a);
    assert_eq!(c, code, "{a:?}: {err}");
    err
}

/// The lake's Parquet files, relative to it, sorted.
fn files(lake: &Path) -> Vec<String> {
    let mut out: Vec<String> = walk(lake)
        .into_iter()
        .map(|p| p.strip_prefix(lake).unwrap().to_string_lossy().into_owned())
        .filter(|p| p.ends_with(".parquet"))
        .collect();
    out.sort();
    out
}

/// Every record batch of the lake, with its file's partition folder, in file order.
fn batches(lake: &Path) -> Vec<(String, arrow_array::RecordBatch)> {
    let mut out = Vec::new();
    for f in files(lake) {
        let file = std::fs::File::open(lake.join(&f)).unwrap();
        let reader = ParquetRecordBatchReaderBuilder::try_new(file).unwrap().build().unwrap();
        let dir = f.rsplit_once('/').unwrap().0.to_string();
        out.extend(reader.map(|b| (dir.clone(), b.unwrap())));
    }
    out
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Every row's `eventid`, and per partition folder the number of rows.
fn event_ids(lake: &Path) -> (BTreeMap<String, usize>, BTreeMap<String, usize>) {
    let mut ids = BTreeMap::new();
    let mut parts = BTreeMap::new();
    for (dir, batch) in batches(lake) {
        let col = batch.column_by_name("eventid").unwrap().as_string::<i32>().clone();
        for id in col.iter() {
            *ids.entry(id.unwrap_or("<null>").to_string()).or_default() += 1;
        }
        *parts.entry(dir).or_default() += batch.num_rows();
    }
    (ids, parts)
}

/// The eventIDs `search` finds (as a multiset).
fn search_ids(path: &Path, args: &[&str]) -> BTreeMap<String, usize> {
    let mut a = vec!["search", path.to_str().unwrap(), "--format", "jsonl", "-q"];
    a.extend_from_slice(args);
    let (c, out, err) = run(&a);
    assert!(c == 0 || c == 1, "{err}");
    let mut ids = BTreeMap::new();
    for line in out.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        *ids.entry(v["eventID"].as_str().unwrap_or("<null>").to_string()).or_default() += 1;
    }
    ids
}

/// DuckDB for Python, when it is installed. Skips (returns false) with a message otherwise,
/// unless `TRAILSCAN_REQUIRE_DUCKDB` is set (CI), where its absence fails.
fn have_duckdb() -> bool {
    let ok = std::process::Command::new("python3")
        .args(["-c", "import duckdb"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("TRAILSCAN_REQUIRE_DUCKDB").is_none(),
            "DuckDB for Python is required (TRAILSCAN_REQUIRE_DUCKDB is set)"
        );
        eprintln!("SKIPPED: python3 with duckdb not available (pip install duckdb)");
    }
    ok
}

/// tests/lake/roundtrip.py LAKE ARCHIVE ARGS: every record's values read back by DuckDB.
fn roundtrip(lake: &Path, archive: &Path, args: &[&str]) {
    let out = std::process::Command::new("python3")
        .arg(root().join("tests/lake/roundtrip.py"))
        .arg(lake)
        .arg(archive)
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.starts_with("ok "), "{stdout}");
}

#[test]
fn export_every_record_once_with_its_values_read_back_by_duckdb() {
    let lake = tempfile::tempdir().unwrap();
    let err = export(Path::new(ARCHIVE), lake.path(), &["--raw"], 0);
    assert!(err.contains("exported 2594 records from 74 files"), "{err}");
    let (ids, _) = event_ids(lake.path());
    assert_eq!(ids, search_ids(Path::new(ARCHIVE), &[]));
    // Nothing but Parquet files, the manifest and the lock file; no temporaries.
    for p in walk(lake.path()) {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.ends_with(".parquet") || name.starts_with("_trailscan"),
            "unexpected {}",
            p.display()
        );
    }
    if have_duckdb() {
        roundtrip(lake.path(), &root().join(ARCHIVE), &["--raw"]);
    }
}

#[test]
fn export_without_raw_and_with_filters() {
    let lake = tempfile::tempdir().unwrap();
    export(Path::new(ARCHIVE), lake.path(), &["--event", "CreateUser", "-q"], 0);
    let (ids, _) = event_ids(lake.path());
    let want = search_ids(Path::new(ARCHIVE), &["--event", "CreateUser"]);
    assert!(!want.is_empty());
    assert_eq!(ids, want);
    // One selection per lake.
    let err = export(Path::new(ARCHIVE), lake.path(), &["--event", "DeleteUser"], 2);
    assert!(err.contains("holds the records of other filters (--event=CreateUser)"), "{err}");
    let err = export(Path::new(ARCHIVE), lake.path(), &["--event", "CreateUser", "--raw"], 2);
    assert!(err.contains("without the raw column"), "{err}");
    // Nothing new: exit 1.
    let err = export(Path::new(ARCHIVE), lake.path(), &["--event", "CreateUser"], 1);
    assert!(err.contains("exported 0 records from 0 files"), "{err}");
    let file = std::fs::File::open(lake.path().join(&files(lake.path())[0])).unwrap();
    let schema = ParquetRecordBatchReaderBuilder::try_new(file).unwrap().schema().clone();
    assert!(schema.field_with_name("raw").is_err());
    assert_eq!(schema.fields().len(), trailscan::lake::schema::COLUMNS.len());
    // Nothing matches: exit 1, no files.
    let empty = tempfile::tempdir().unwrap();
    export(Path::new(ARCHIVE), empty.path(), &["--event", "NoSuchEvent"], 1);
    assert!(files(empty.path()).is_empty());
}

/// Copies fixture archive files (relative to fixtures/archive) into `to`, same layout.
fn copy(to: &Path, rel: &str) -> PathBuf {
    let dst = to.join(rel);
    std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
    std::fs::copy(root().join(ARCHIVE).join(rel), &dst).unwrap();
    dst
}

/// The archive's CloudTrail files (not digests), relative to fixtures/archive, sorted.
fn archive_files() -> Vec<String> {
    let base = root().join(ARCHIVE);
    let mut out: Vec<String> = walk(&base)
        .into_iter()
        .map(|p| p.strip_prefix(&base).unwrap().to_string_lossy().into_owned())
        .filter(|p| p.contains("/CloudTrail/"))
        .collect();
    out.sort();
    out
}

#[test]
fn export_incremental_adds_only_new_files_and_replaces_changed_ones() {
    let src = tempfile::tempdir().unwrap();
    let lake = tempfile::tempdir().unwrap();
    let all = archive_files();
    assert!(all.len() > 10);
    for f in &all[..6] {
        copy(src.path(), f);
    }
    let err = export(src.path(), lake.path(), &[], 0);
    assert!(err.contains("from 6 files"), "{err}");
    let before = files(lake.path());
    // Grown archive: only the new files are read; old files stay as they are.
    for f in &all[6..] {
        copy(src.path(), f);
    }
    let err = export(src.path(), lake.path(), &[], 0);
    assert!(err.contains(&format!("from {} files", all.len() - 6)), "{err}");
    assert!(err.contains("6 files already exported were skipped"), "{err}");
    let after = files(lake.path());
    assert!(before.iter().all(|f| after.contains(f)));
    let (ids, _) = event_ids(lake.path());
    assert_eq!(ids, search_ids(src.path(), &[]), "no duplicates, nothing missing");
    // Nothing new.
    let err = export(src.path(), lake.path(), &[], 1);
    assert!(err.contains(&format!("{} files already exported were skipped", all.len())), "{err}");
    assert_eq!(files(lake.path()), after);

    // A changed file: its old rows go, its new rows come, once.
    let changed = src.path().join(&all[0]);
    let other = root().join(ARCHIVE).join(&all[all.len() - 1]);
    std::fs::copy(&other, &changed).unwrap();
    let t = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
    std::fs::File::options().write(true).open(&changed).unwrap().set_modified(t).unwrap();
    let err = export(src.path(), lake.path(), &[], 0);
    assert!(err.contains("exported"), "{err}");
    let (ids, _) = event_ids(lake.path());
    assert_eq!(ids, search_ids(src.path(), &[]), "the changed file's rows replaced");
    // The files that held the old rows are gone.
    assert!(before.iter().any(|f| !files(lake.path()).contains(f)));

    // A deleted source file keeps its rows (the lake outlives the archive's retention).
    std::fs::remove_file(src.path().join(&all[3])).unwrap();
    let (kept, _) = event_ids(lake.path());
    export(src.path(), lake.path(), &[], 1);
    assert_eq!(event_ids(lake.path()).0, kept);
}

#[test]
fn export_leaves_no_partial_file_and_finishes_an_interrupted_run() {
    let src = tempfile::tempdir().unwrap();
    let lake = tempfile::tempdir().unwrap();
    let all = archive_files();
    copy(src.path(), &all[0]);
    export(src.path(), lake.path(), &["-q"], 0);
    let first = files(lake.path());
    assert_eq!(first.len(), 1);
    // A run that died while writing left a temporary file: removed, never read.
    let part_dir = lake.path().join(first[0].rsplit_once('/').unwrap().0);
    let stale = part_dir.join(".part-19700101T000000Z-000000-00001.parquet.tmp");
    std::fs::write(&stale, b"PAR1 cut short").unwrap();
    // A run that died after recording itself: its renames and deletions are finished first.
    let manifest_path = lake.path().join("_trailscan_manifest.json");
    let mut m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest_path).unwrap()).unwrap();
    let pending_tmp = format!("{}/.{}.tmp", first[0].rsplit_once('/').unwrap().0, "part-x");
    let pending_final = format!("{}/part-x.parquet", first[0].rsplit_once('/').unwrap().0);
    std::fs::copy(lake.path().join(&first[0]), lake.path().join(&pending_tmp)).unwrap();
    m["pending"] =
        serde_json::json!({"rename": [[pending_tmp, pending_final]], "delete": [first[0]]});
    std::fs::write(&manifest_path, m.to_string()).unwrap();
    export(src.path(), lake.path(), &["-q"], 1);
    assert!(!stale.exists());
    assert_eq!(files(lake.path()), [pending_final]);
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest_path).unwrap()).unwrap();
    assert!(m.get("pending").is_none());
}

#[test]
fn export_bad_records_are_named_and_counted_and_the_rest_exported() {
    let src = tempfile::tempdir().unwrap();
    let lake = tempfile::tempdir().unwrap();
    let lines = [
        r#"{"eventVersion":"1.08","eventTime":"2024-03-01T10:00:00Z","eventName":"A","eventID":"1","recipientAccountId":"111122223333","awsRegion":"us-east-1"}"#,
        r#"{"eventTime":"2024-03-01T10:00:00Z","eventName":"B","eventID":"2","recipientAccountId":"../../../../tmp/x","awsRegion":"us-east-1"}"#,
        r#"{"eventName":"C","eventID":"3", broken"#,
        r#"{"eventName":"D","eventID":"4","eventTime":"yesterday"}"#,
    ];
    std::fs::write(src.path().join("events.jsonl"), lines.join("\n") + "\n").unwrap();
    let err = export(src.path(), lake.path(), &[], 2);
    assert!(err.contains("events.jsonl: line 3"), "{err}");
    assert!(err.contains("exported 3 records"), "{err}");
    let (ids, parts) = event_ids(lake.path());
    assert_eq!(ids.keys().collect::<Vec<_>>(), ["1", "2", "4"]);
    assert_eq!(
        parts.keys().collect::<Vec<_>>(),
        [
            "account=111122223333/region=us-east-1/dt=2024-03-01",
            "account=__HIVE_DEFAULT_PARTITION__/region=__HIVE_DEFAULT_PARTITION__/dt=__HIVE_DEFAULT_PARTITION__",
            "account=__HIVE_DEFAULT_PARTITION__/region=us-east-1/dt=2024-03-01",
        ]
    );
    assert!(!Path::new("/tmp/x").exists() || !Path::new("/tmp/x/region=us-east-1").exists());
}

#[test]
fn export_refuses_stdin_and_needs_out() {
    let (c, _, err) = run(&["export", "-", "--out", "/nonexistent-lake"]);
    assert_eq!(c, 2);
    assert!(err.contains("not stdin"), "{err}");
    let (c, _, err) = run(&["export", ARCHIVE]);
    assert_eq!(c, 2);
    assert!(err.contains("--out"), "{err}");
}

#[test]
fn export_refuses_a_lake_inside_the_archive() {
    let src = tempfile::tempdir().unwrap();
    copy(src.path(), &archive_files()[0]);
    let lake = src.path().join("lake");
    let err = export(src.path(), &lake, &[], 2);
    assert!(err.contains("inside the input"), "{err}");
    assert!(!lake.exists());
}

#[test]
fn export_ddl() {
    let (c, out, _) = run(&["export", "--ddl", "athena", "--location", "s3://b/lake/"]);
    assert_eq!(c, 0);
    assert!(out.starts_with("CREATE EXTERNAL TABLE cloudtrail_logs (\n  eventversion STRING,"));
    assert!(out.contains("'projection.dt.format'='yyyy-MM-dd'"));
    let (c, out, _) =
        run(&["export", "--ddl", "duckdb", "--location", "lake", "--table", "ct", "--raw"]);
    assert_eq!(c, 0);
    assert!(out.starts_with("CREATE OR REPLACE VIEW ct AS"), "{out}");
    let (c, _, err) = run(&["export", "--ddl", "athena"]);
    assert_eq!(c, 2);
    assert!(err.contains("--location"), "{err}");
}

#[test]
fn export_ddl_duckdb_reads_the_lake() {
    if !have_duckdb() {
        return;
    }
    let lake = tempfile::tempdir().unwrap();
    export(Path::new(ARCHIVE), lake.path(), &["-q"], 0);
    let (_, ddl, _) =
        run(&["export", "--ddl", "duckdb", "--location", lake.path().to_str().unwrap()]);
    let script = format!(
        "import duckdb\nc = duckdb.connect()\nc.execute({ddl:?})\n\
         print(c.sql(\"SELECT count(*), count(DISTINCT account), min(dt), typeof(any_value(account)) FROM cloudtrail_logs WHERE eventname = 'CreateUser'\").fetchall())\n"
    );
    let out = std::process::Command::new("python3").args(["-c", &script]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let n = search_ids(Path::new(ARCHIVE), &["--event", "CreateUser"]).values().sum::<usize>();
    assert!(stdout.starts_with(&format!("[({n}, ")), "{stdout}");
    assert!(stdout.contains("'VARCHAR')]"), "{stdout}");
}

/// Local Spark runs `export --ddl spark` (CREATE TABLE ... USING PARQUET, MSCK REPAIR TABLE) and
/// reads the lake as trailscan and DuckDB do. Skipped with a message without pyspark and Java,
/// unless TRAILSCAN_REQUIRE_ORACLES=1 (CI), where it fails.
#[test]
fn export_ddl_spark_reads_the_lake() {
    let ok = std::process::Command::new("python3")
        .args(["-c", "import pyspark, shutil, sys; sys.exit(0 if shutil.which('java') else 1)"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("TRAILSCAN_REQUIRE_ORACLES").as_deref() != Ok("1"),
            "TRAILSCAN_REQUIRE_ORACLES=1 but python3 cannot import pyspark or java is not on PATH"
        );
        eprintln!(
            "SKIPPED: pyspark and java not available (pip install pyspark; apt-get install openjdk-17-jre-headless)"
        );
        return;
    }
    let lake = tempfile::tempdir().unwrap();
    export(Path::new(ARCHIVE), lake.path(), &["-q"], 0);
    let out = std::process::Command::new("python3")
        .arg(root().join("tests/lake/spark_ddl.py"))
        .arg(assert_cmd::cargo::cargo_bin("trailscan"))
        .arg(lake.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let all = search_ids(Path::new(ARCHIVE), &[]).values().sum::<usize>();
    let create = search_ids(Path::new(ARCHIVE), &["--event", "CreateUser"]).values().sum::<usize>();
    assert!(stdout.contains(&format!("rows {all}\n")), "{stdout}");
    assert!(stdout.contains(&format!("createuser {create}\n")), "{stdout}");
    assert!(stdout.contains("('account', 'string')"), "{stdout}");
    assert!(
        stdout.contains("('resources', 'array<struct<arn:string,accountid:string,type:string>>')"),
        "{stdout}"
    );
    let (_, parts) = event_ids(lake.path());
    assert!(stdout.contains(&format!("partitions {}\n", parts.len())), "{stdout}");
}

/// Every engine's statement parses with sqlglot in that engine's dialect (Trino's CALL and
/// Spark's MSCK fall back to a command). Skipped with a message without sqlglot.
#[test]
fn export_ddl_parses_in_each_dialect() {
    let ok = std::process::Command::new("python3")
        .args(["-c", "import sqlglot"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("SKIPPED: sqlglot not available (pip install sqlglot)");
        return;
    }
    for engine in ["athena", "trino", "spark", "duckdb"] {
        for raw in [false, true] {
            let mut args = vec!["export", "--ddl", engine, "--location", "s3://b/lake/"];
            if raw {
                args.push("--raw");
            }
            let (c, ddl, _) = run(&args);
            assert_eq!(c, 0);
            let script = format!(
                "import sqlglot, sys\nstmts = sqlglot.parse({ddl:?}, read={engine:?}, error_level=sqlglot.ErrorLevel.RAISE)\n\
                 assert type(stmts[0]).__name__ == 'Create', stmts[0]\nprint(len(stmts))\n"
            );
            let out = std::process::Command::new("python3").args(["-c", &script]).output().unwrap();
            assert!(
                out.status.success(),
                "{engine}: {}\n{ddl}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

/// A column's value at `row` as JSON (strings, booleans, structs, lists and maps), to compare
/// rows whatever file they landed in.
fn cell(a: &dyn arrow_array::Array, row: usize) -> serde_json::Value {
    use arrow_schema::DataType;
    use serde_json::Value;
    if a.is_null(row) {
        return Value::Null;
    }
    match a.data_type() {
        DataType::Utf8 => Value::String(a.as_string::<i32>().value(row).to_string()),
        DataType::Boolean => Value::Bool(a.as_boolean().value(row)),
        DataType::Struct(fields) => {
            let s = a.as_struct();
            Value::Object(
                fields
                    .iter()
                    .zip(s.columns())
                    .map(|(f, c)| (f.name().clone(), cell(c.as_ref(), row)))
                    .collect(),
            )
        }
        DataType::List(_) => {
            let items = a.as_list::<i32>().value(row);
            Value::Array((0..items.len()).map(|i| cell(items.as_ref(), i)).collect())
        }
        DataType::Map(..) => {
            let entries = a.as_map().value(row);
            Value::Array(
                (0..entries.len())
                    .map(|i| {
                        Value::Array(vec![
                            cell(entries.column(0).as_ref(), i),
                            cell(entries.column(1).as_ref(), i),
                        ])
                    })
                    .collect(),
            )
        }
        other => panic!("unexpected column type {other}"),
    }
}

/// Every row of the lake, with its partition folder, as JSON text, sorted.
fn rows(lake: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for (dir, batch) in batches(lake) {
        for r in 0..batch.num_rows() {
            let mut row = serde_json::Map::new();
            row.insert("_partition".into(), dir.clone().into());
            for (field, col) in batch.schema().fields().iter().zip(batch.columns()) {
                row.insert(field.name().clone(), cell(col.as_ref(), r));
            }
            out.push(serde_json::Value::Object(row).to_string());
        }
    }
    out.sort();
    out
}

/// Each source's counts in the manifest (records, exported, failed), by file name.
fn manifest_counts(lake: &Path) -> BTreeMap<String, (u64, u64, u64)> {
    let text = std::fs::read_to_string(lake.join("_trailscan_manifest.json")).unwrap();
    let m: serde_json::Value = serde_json::from_str(&text).unwrap();
    m["sources"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, s)| {
            let n = |f: &str| s[f].as_u64().unwrap();
            let name = Path::new(k).file_name().unwrap().to_string_lossy().into_owned();
            (name, (n("records"), n("exported"), n("failed")))
        })
        .collect()
}

/// A huge file's matches are exported in chunks (the streaming threshold and the chunk size
/// lowered): the same rows in the same partitions, the same counts in the manifest, the same
/// messages and exit code as exporting each file whole, at 1, 2 and 8 threads; and a second
/// export in chunks adds nothing.
#[test]
fn export_of_streamed_files_in_chunks_equals_the_whole() {
    let (c, out, err) = run(&["search", ARCHIVE, "-f", "jsonl"]);
    assert_eq!(c, 0, "{err}");
    let mut recs: Vec<&str> = out.lines().collect();
    let half = recs.len() / 2;
    // Passed on by the delivery file's structural split; the export cannot read it.
    recs.insert(half + 40, r#"{"eventName":tru,"eventTime":"2024-05-01T00:00:00Z"}"#);
    let src = tempfile::tempdir().unwrap();
    let a = src.path().join("a.jsonl");
    let b = src.path().join("b.json.gz");
    std::fs::write(&a, recs[..half].join("\n") + "\n").unwrap();
    let delivery = format!("{{\"Records\":[{}]}}", recs[half..].join(","));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, delivery.as_bytes()).unwrap();
    std::fs::write(&b, gz.finish().unwrap()).unwrap();
    let lakes = tempfile::tempdir().unwrap();
    let lake = lakes.path().join("lake");
    let export = |threads: &str, env: &[(&str, &str)]| {
        let _ = std::fs::remove_dir_all(&lake);
        let mut cmd = trailscan();
        cmd.args(["export", a.to_str().unwrap(), b.to_str().unwrap(), "--raw", "--threads"])
            .args([threads, "--out", lake.to_str().unwrap()]);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        (out.status.code().unwrap_or(-1), err, rows(&lake), manifest_counts(&lake))
    };
    let whole = export("1", &[]);
    assert_eq!(whole.0, 2, "the broken record is an error: {}", whole.1);
    assert!(whole.1.contains("b.json.gz: record 41: invalid JSON"), "{}", whole.1);
    assert_eq!(whole.2.len(), recs.len() - 1);
    assert_eq!(
        whole.3["b.json.gz"],
        ((recs.len() - half - 1) as u64, (recs.len() - half - 1) as u64, 1)
    );
    for threads in ["1", "2", "8"] {
        for env in [
            &[("TRAILSCAN_STREAM_THRESHOLD", "10000"), ("TRAILSCAN_CHUNK_BYTES", "1")][..],
            &[("TRAILSCAN_STREAM_THRESHOLD", "10000"), ("TRAILSCAN_CHUNK_BYTES", "20000")],
            &[("TRAILSCAN_CHUNK_BYTES", "1")],
        ] {
            let got = export(threads, env);
            assert_eq!(got.0, whole.0, "{threads} {env:?}");
            assert_eq!(got.1, whole.1, "{threads} threads {env:?}");
            assert!(got.2 == whole.2, "{threads} threads {env:?}: the rows differ");
            assert_eq!(got.3, whole.3, "{threads} threads {env:?}");
        }
    }
    // Exported again in chunks: nothing new, nothing duplicated.
    let env = [("TRAILSCAN_STREAM_THRESHOLD", "10000"), ("TRAILSCAN_CHUNK_BYTES", "20000")];
    let mut cmd = trailscan();
    cmd.args(["export", a.to_str().unwrap(), b.to_str().unwrap(), "--raw", "--threads", "2"])
        .args(["--out", lake.to_str().unwrap()]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(rows(&lake) == whole.2, "a second export changed the rows");
}
