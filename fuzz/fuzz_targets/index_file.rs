//! Index files are untrusted input (a cache directory anyone could write to, a damaged disk).
//! First byte = how to feed the rest: `0` as a whole file (header, checksum and all); `1` as
//! the body, packed with a valid header and checksum so that the body's decoder is reached;
//! `2` as the totals section, beside a valid empty body, so that the totals' decoder is.
//! Decoding must never panic; an index that decodes must plan queries over every entry
//! and read its summaries without panicking, and encode back to bytes that decode to the same encoding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use trailscan::index::format;
use trailscan::index::plan::Planner;
use trailscan::query::{Filters, Query};

fn planners() -> &'static [Planner] {
    static P: OnceLock<Vec<Planner>> = OnceLock::new();
    P.get_or_init(|| {
        let f = |events: &[&str], users: &[&str], ips: &[&str]| Filters {
            events: events.iter().map(|s| (*s).to_string()).collect(),
            users: users.iter().map(|s| (*s).to_string()).collect(),
            ips: ips.iter().map(|s| (*s).to_string()).collect(),
            since: trailscan::record::time::parse_event_time("2024-03-01T00:00:00Z"),
            ..Filters::default()
        };
        let patterns = [
            r#"{"source":["aws.iam"],"detail":{"eventName":[{"prefix":"Create"}]}}"#.to_string(),
            r#"{"readOnly":[false],"errorCode":[{"exists":false}],"awsRegion":[{"anything-but":"us-east-1"}]}"#.to_string(),
        ];
        vec![
            Planner::new(&Query::new(&f(&["CreateUser"], &[], &[]), &[], true).unwrap()),
            Planner::new(&Query::new(&f(&[], &["alice"], &["10.0.0.0/8"]), &[], true).unwrap()),
            Planner::new(&Query::new(&Filters::default(), &patterns, true).unwrap()),
        ]
    })
}

/// The body of an index of no files.
fn empty_body() -> &'static [u8] {
    static B: OnceLock<Vec<u8>> = OnceLock::new();
    B.get_or_init(|| {
        let idx = trailscan::index::Builder::new("/archive".into()).finish(0, 0);
        let bytes = format::encode(&idx);
        let [(len, packed), _, _] = format::sections(&bytes).expect("an index this build wrote");
        format::inflate(len, packed).expect("an index this build wrote")
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let bytes = match mode % 3 {
        0 => rest.to_vec(),
        1 => format::pack(rest),
        _ => format::pack_sections(empty_body(), &[], rest),
    };
    let Ok(index) = format::decode(&bytes) else { return };
    // The totals section: read when first asked for, checked as it is read.
    if let Some(t) = index.totals() {
        let _ = t.serves(Some(10), 10_000);
        if let Ok(c) = t.counts() {
            for v in &c.values {
                let _ = t.table_text(v.1);
            }
        }
    }
    for p in planners() {
        for e in index.files() {
            let _ = p.may_match(e, &index);
            let _ = p.all_match(e, &index);
        }
    }
    // The summaries section: read when first asked for, checked as it is read.
    for e in index.files() {
        let _ = index.summary(e);
    }
    let again = format::encode(&index);
    let back = format::decode(&again).expect("an index this build wrote decodes");
    assert_eq!(format::encode(&back), again);
});
