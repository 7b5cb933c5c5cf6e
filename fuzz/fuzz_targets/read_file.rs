//! Any bytes as a CloudTrail file: read (plain, gzip, multi-member gzip or damaged gzip),
//! split into records, and every record evaluated by a few queries. Nothing may panic, and a
//! record that matches must pass the query's prefilter (record and whole file). Every shape
//! `split` detects is reached from here (the corpus has seeds for delivery files, JSON lines,
//! lookup-events, envelopes, CloudWatch Logs exports and API output, and Lake query results).
//!
//! The first byte picks how the rest is fed in: 0 = straight to `split` (fast, no file);
//! 1 = a plain file through `Reader`; 2 = gzipped; 3 = two gzip members cut at the second
//! byte's position; 4 = the bytes behind a gzip magic (a damaged gzip stream).
#![no_main]

use flate2::{Compression, write::GzEncoder};
use libfuzzer_sys::fuzz_target;
use std::io::Write;
use std::path::PathBuf;
use std::sync::OnceLock;
use trailscan::query::{Filters, Query};
use trailscan::source::{Input, Reader, split};

const PATTERNS: &[&str] = &[
    r#"{"eventName":["CreateUser","DeleteUser"],"eventSource":[{"prefix":"iam."}]}"#,
    r#"{"source":["aws.iam"],"detail":{"userIdentity":{"type":[{"anything-but":"Root"}]}}}"#,
    r#"{"$or":[{"errorCode":[{"exists":true}]},{"sourceIPAddress":[{"cidr":"10.0.0.0/8"}]}]}"#,
    r#"{"requestParameters":{"bucketName":[{"wildcard":"*prod*"}],"x":[{"numeric":[">",0,"<=",5]}]}}"#,
    r#"{"userIdentity":{"arn":[{"suffix":"/admin"},{"equals-ignore-case":"ROOT"}]},"awsRegion":[{"exists":false}]}"#,
    r#"{"eventTime":[{"prefix":"2024"}],"a.b":[null,true,1.5e2,"\u00e9"]}"#,
];

fn queries() -> &'static [Query] {
    static Q: OnceLock<Vec<Query>> = OnceLock::new();
    Q.get_or_init(|| {
        let f = Filters::default();
        let mut q: Vec<Query> = PATTERNS
            .iter()
            .map(|p| Query::new(&f, &[(*p).to_string()], true).expect("fuzz pattern parses"))
            .collect();
        let all: Vec<String> = PATTERNS.iter().map(|p| (*p).to_string()).collect();
        q.push(Query::new(&f, &all, true).unwrap());
        let flags = Filters {
            events: vec!["ConsoleLogin".into()],
            users: vec!["alice".into(), "bo*b".into()],
            ips: vec!["192.0.2.0/24".into(), "::1".into()],
            errors: true,
            ..Filters::default()
        };
        q.push(Query::new(&flags, &all[..1], true).unwrap());
        q
    })
}

fn temp_path() -> &'static PathBuf {
    static P: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &P.get_or_init(|| {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("input");
        (d, p)
    })
    .1
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn search(text: &[u8]) {
    let s = split(text);
    for q in queries() {
        for record in &s.records {
            // The full parser only hands out valid JSON values; the delivery-file fast path
            // only delimits them, and the engine checks the ones that can match (UTF-8 first).
            let Ok(record) = record.clone().text() else {
                assert!(s.unvalidated, "the full parser handed out a record that is not UTF-8");
                continue;
            };
            let record = &*record;
            let valid = trailscan::source::validate(record).is_ok();
            assert!(valid || s.unvalidated, "the full parser handed out invalid JSON");
            let hit = match q.evaluate(record) {
                Ok(hit) => hit,
                Err(_) if !valid => continue,
                // JSON numbers have no range; serde_json refuses ones beyond f64 when a pattern
                // reads them, and the engine reports such a record as unreadable.
                Err(e) if e.to_string().contains("number out of range") => continue,
                Err(e) => panic!("a valid record failed to evaluate: {e}"),
            };
            if hit.is_some() && valid {
                assert!(q.prefilter().maybe(record.as_bytes()), "prefilter refused a match");
                assert!(q.prefilter().maybe(text), "file prefilter refused a match");
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, body)) = data.split_first() else { return };
    let bytes = match mode % 5 {
        0 => return search(body),
        1 => body.to_vec(),
        2 => gz(body),
        3 => {
            let cut = body.first().map_or(0, |&b| usize::from(b)).min(body.len());
            let mut v = gz(&body[..cut]);
            v.extend(gz(&body[cut..]));
            v
        }
        _ => [&[0x1f, 0x8b][..], body].concat(),
    };
    let path = temp_path();
    std::fs::write(path, &bytes).unwrap();
    let mut reader = Reader::new(1 << 20);
    if let Ok(loaded) = reader.load(&Input::Path(path.clone())) {
        if mode % 5 != 4
            && !(mode % 5 == 1 && body.starts_with(&[0x1f, 0x8b]))
            && loaded.error.is_none()
        {
            // A well-formed file reads back as what was written (BOM removed).
            let want = body.strip_prefix(&[0xef, 0xbb, 0xbf][..]).unwrap_or(body);
            assert_eq!(loaded.data, want);
        }
        search(loaded.data);
    }
});
