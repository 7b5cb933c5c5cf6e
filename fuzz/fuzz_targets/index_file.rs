//! Index files are untrusted input (a cache directory anyone could write to, a damaged disk).
//! First byte = how to feed the rest: `0` as a whole file (header, checksum and all); `1` as
//! the body, packed with a valid header and checksum so that the body's decoder is reached;
//! `2` as the totals section, beside a valid empty body, so that the totals' decoder is;
//! `3` as the body of a delta (packed as for `1`) laid over a valid base, its base id set to
//! the base's so that the overlay is reached.
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

/// A base of two files with their summaries, as a file.
fn base() -> &'static [u8] {
    static B: OnceLock<Vec<u8>> = OnceLock::new();
    B.get_or_init(|| {
        let records = [
            r#"{"eventTime":"2024-03-01T10:00:00Z","eventName":"CreateUser","recipientAccountId":"1","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/alice"},"sourceIPAddress":"203.0.113.5"}"#,
            r#"{"eventTime":"2024-03-02T10:00:00Z","eventName":"GetObject","userIdentity":{"type":"Root"}}"#,
        ];
        let spec = trailscan::summary::Spec::default();
        let mut b = trailscan::index::Builder::new("/archive".into());
        for (i, r) in records.iter().enumerate() {
            let mut reader = trailscan::summary::Reader::new(&spec);
            let (mut s, mut notable) = Default::default();
            trailscan::summary::Summary::observe_raw(&mut s, r, None, &spec, &mut reader, &mut notable)
                .expect("a record");
            s.merge(notable, &spec);
            let n = trailscan::index::fields::FIELDS.len();
            let v = trailscan::index::fields::FileValues {
                values: vec![Vec::new(); n],
                missing: vec![true; n],
                irregular: vec![false; n],
                span: None,
                untimed: false,
                records: 1,
            };
            let stamp = trailscan::source::FileStamp { size: 1, mtime_ns: 2, ctime_ns: 3, inode: 4 };
            b.add_with_summary(format!("AWSLogs/1/f{i}.json.gz"), stamp, v, s.part().as_ref());
        }
        format::encode(&b.finish(0, 0))
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let bytes = match mode % 4 {
        0 => rest.to_vec(),
        1 | 3 => format::pack(rest),
        _ => format::pack_sections(empty_body(), &[], rest),
    };
    let Ok(mut index) = format::decode(&bytes) else { return };
    if mode % 4 == 3 {
        let base = format::decode(base()).expect("an index this build wrote");
        index.delta_of = Some(base.id);
        let Ok(over) = trailscan::index::Index::overlay(base, index) else { return };
        for p in planners() {
            for e in over.files() {
                let _ = p.may_match(e, &over);
            }
        }
        for e in over.files() {
            let _ = over.summary(e);
            if let Some(Ok(d)) = over.summary_ids(e) {
                for v in &d.values {
                    let _ = over.summary_text(v.1);
                }
            }
        }
        let _ = over.totals();
        return;
    }
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
