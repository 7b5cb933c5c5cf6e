//! The CloudWatch Logs and CloudTrail Lake shapes: each yields the records it wraps, exactly
//! as the delivery files hold them; damage is named by line, event or row.

use crate::util::{count, jsonl, run};
use std::io::Write;

/// The records the shape fixtures wrap, from the delivery files they came from (in that order).
fn wrapped_records() -> Vec<serde_json::Value> {
    let sources = [
        "fixtures/archive/AWSLogs/123837392027/CloudTrail/us-east-1/2023/07/10/123837392027_CloudTrail_us-east-1_20230710T1225Z_RL8g7SsRoNFvvVBW.json.gz",
        "fixtures/archive/AWSLogs/222233334444/CloudTrail/us-east-1/2023/07/11/222233334444_CloudTrail_us-east-1_20230711T0915Z_16D0xscuscuUqRyM.json.gz",
        "fixtures/archive/AWSLogs/123837392027/CloudTrail/us-east-1/2023/07/13/123837392027_CloudTrail_us-east-1_20230713T0325Z_nks1NfDsPpX72B54.json.gz",
    ];
    let mut all = Vec::new();
    for s in sources {
        let (code, out, err) = run(&["search", s, "-f", "jsonl"]);
        assert_eq!(code, 0, "{err}");
        all.extend(jsonl(&out));
    }
    all
}

fn by_id(mut v: Vec<serde_json::Value>) -> Vec<serde_json::Value> {
    v.sort_by(|a, b| a["eventID"].as_str().cmp(&b["eventID"].as_str()));
    v
}

#[test]
fn shapes_cloudwatch_and_lake_eventjson_yield_the_delivered_records() {
    let want = by_id(wrapped_records());
    assert_eq!(want.len(), 7);
    for shape in [
        "fixtures/shapes/cloudwatch-export",
        "fixtures/shapes/filter-log-events.json",
        "fixtures/shapes/get-log-events.json",
        "fixtures/shapes/lake-eventjson.json",
    ] {
        let (code, out, err) = run(&["search", shape, "-f", "jsonl"]);
        assert_eq!(code, 0, "{shape}: {err}");
        assert_eq!(by_id(jsonl(&out)), want, "{shape}");
        assert!(err.contains("0 failed"), "{shape}: {err}");
        assert_eq!(count(&["search", shape, "--event", "CreateUser"]), 2, "{shape}");
        assert_eq!(count(&["search", shape, "--user", "mallory"]), 2, "{shape}");
    }
}

#[test]
fn shapes_lake_fields_are_records_of_their_columns() {
    let (code, out, err) = run(&["search", "fixtures/shapes/lake-fields.json", "-f", "jsonl"]);
    assert_eq!(code, 0, "{err}");
    let got = by_id(jsonl(&out));
    let want = by_id(wrapped_records());
    assert_eq!(got.len(), 7);
    for (g, w) in got.iter().zip(&want) {
        for k in ["eventID", "eventName", "eventSource", "awsRegion", "recipientAccountId"] {
            assert_eq!(g[k], w[k], "{k}");
        }
    }
    // The columns in the order selected, with Lake's text values.
    for line in out.lines() {
        assert!(line.starts_with(r#"{"eventVersion":"1.08","eventID":""#), "{line}");
        assert!(line.contains(r#""eventTime":"2023-07-1"#) && line.contains(".000\","), "{line}");
    }
    let f = "fixtures/shapes/lake-fields.json";
    assert_eq!(count(&["search", f, "--event", "CreateUser", "--source", "iam"]), 2);
    assert_eq!(count(&["search", f, "--ip", "203.0.113.0/24"]), 2);
}

#[test]
fn shapes_damage_is_named_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let rec = r#"{"eventName":"CreateUser","eventID":"1","eventTime":"2023-07-10T12:00:00Z"}"#;
    let export = dir.path().join("000000.gz");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    write!(
        gz,
        "2023-07-10T12:00:00.000Z {rec}\nno timestamp here\n2023-07-10T12:00:01.000Z ping\n"
    )
    .unwrap();
    std::fs::write(&export, gz.finish().unwrap()).unwrap();
    let lake = dir.path().join("lake.json");
    std::fs::write(
        &lake,
        format!(
            r#"{{"QueryStatus":"FINISHED","QueryResultRows":[[{{"eventJson":{}}}],[{{"eventName":"CreateUser"}},{{"n":"3"}}]]}}"#,
            serde_json::to_string(rec).unwrap()
        ),
    )
    .unwrap();
    let logs = dir.path().join("logs.json");
    std::fs::write(
        &logs,
        format!(
            r#"{{"events":[{{"timestamp":1,"message":{}}},{{"timestamp":2}}]}}"#,
            serde_json::to_string(rec).unwrap()
        ),
    )
    .unwrap();
    for (file, problems) in [
        (
            &export,
            vec![
                "line 2: not a CloudWatch Logs export line",
                "line 3: message is not a JSON object",
            ],
        ),
        (&lake, vec!["row 2: not a whole event"]),
        (&logs, vec!["event 2: no message"]),
    ] {
        let (code, out, err) = run(&["search", file.to_str().unwrap(), "-c"]);
        assert_eq!(code, 2, "{err}");
        assert_eq!(out.trim(), "1");
        for p in problems {
            assert!(err.contains(&format!("{}: {p}", file.display())), "{p}: {err}");
        }
    }
}

#[test]
fn shapes_are_indexed_like_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let idx = tempfile::tempdir().unwrap();
    let archive = dir.path().join("a");
    for f in ["filter-log-events.json", "lake-eventjson.json", "get-log-events.json"] {
        crate::util::copy_fixture(&format!("fixtures/shapes/{f}"), &archive, f);
    }
    let export = "fixtures/shapes/cloudwatch-export/0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9/123837392027_CloudTrail_us-east-1/000000.gz";
    crate::util::copy_fixture(export, &archive, "export/000000.gz");
    let a = archive.to_str().unwrap();
    let with_index = |args: &[&str]| {
        let mut cmd = crate::util::trailscan(args);
        cmd.env("TRAILSCAN_INDEX_DIR", idx.path());
        let out = cmd.output().unwrap();
        (out.status.code().unwrap(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    assert_eq!(with_index(&["index", a]).0, 0);
    let (code, out) = with_index(&["search", a, "--event", "CreateUser", "-f", "jsonl"]);
    assert_eq!(code, 0);
    let (_, plain, _) = run(&["search", a, "--event", "CreateUser", "-f", "jsonl", "--no-index"]);
    assert_eq!(out, plain);
    assert_eq!(jsonl(&out).len(), 7);
    let (code, out) = with_index(&["search", a, "--event", "NoSuchEvent", "-c"]);
    assert_eq!((code, out.trim()), (1, "0"));
}
