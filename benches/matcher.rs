//! `Pattern::matches` throughput per operator family, on the real CloudTrail records of
//! `fixtures/archive` (parsed once into `serde_json::Value` before timing).
//!
//! `cargo bench --bench matcher -- --warm-up-time 1 --measurement-time 3`

mod common;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use serde_json::Value;
use std::hint::black_box;
use trailscan::pattern::Pattern;
use trailscan::record::envelope;

/// (family, pattern) pairs matched against the record itself.
const RECORD_PATTERNS: &[(&str, &str)] = &[
    ("exact", r#"{"eventName":["GetUser"]}"#),
    (
        "value_list",
        r#"{"eventName":["CreateUser","DeleteUser","AttachUserPolicy","PutUserPolicy","CreateAccessKey","CreateLoginProfile","UpdateLoginProfile","AssumeRole"]}"#,
    ),
    ("prefix", r#"{"eventName":[{"prefix":"Describe"}]}"#),
    ("suffix", r#"{"eventName":[{"suffix":"Policy"}]}"#),
    ("equals_ignore_case", r#"{"eventName":[{"equals-ignore-case":"createuser"}]}"#),
    ("wildcard", r#"{"userIdentity":{"arn":[{"wildcard":"arn:aws:iam::*:user/*"}]}}"#),
    ("anything_but_value", r#"{"errorCode":[{"anything-but":"AccessDenied"}]}"#),
    (
        "anything_but_list",
        r#"{"eventSource":[{"anything-but":["ec2.amazonaws.com","s3.amazonaws.com","ssm.amazonaws.com"]}]}"#,
    ),
    ("anything_but_prefix", r#"{"eventName":[{"anything-but":{"prefix":"Describe"}}]}"#),
    (
        "numeric_range",
        r#"{"additionalEventData":{"bytesTransferredOut":[{"numeric":[">",0,"<=",10000]}]}}"#,
    ),
    ("exists_true", r#"{"errorCode":[{"exists":true}]}"#),
    ("exists_false", r#"{"errorCode":[{"exists":false}]}"#),
    ("cidr_v4", r#"{"sourceIPAddress":[{"cidr":"10.0.0.0/8"}]}"#),
    ("cidr_v6", r#"{"sourceIPAddress":[{"cidr":"2001:db8::/32"}]}"#),
    (
        "or",
        r#"{"$or":[{"eventName":["CreateUser"]},{"errorCode":[{"exists":true}]},{"sourceIPAddress":[{"cidr":"10.0.0.0/8"}]}]}"#,
    ),
    ("nested_path", r#"{"userIdentity":{"sessionContext":{"sessionIssuer":{"type":["Role"]}}}}"#),
    (
        "combined_compare_sh",
        // The pattern row of benches/compare.sh (one line and its newline).
        include_str!("pattern.json"),
    ),
];

/// Matched against `envelope::wrap(record)`.
const ENVELOPE_PATTERN: &str = r#"{"source":["aws.iam"],"detail-type":["AWS API Call via CloudTrail"],"detail":{"eventName":[{"prefix":"Create"}],"userIdentity":{"type":["IAMUser"]}}}"#;

fn count(p: &Pattern, events: &[Value]) -> usize {
    events.iter().filter(|e| p.matches(black_box(e))).count()
}

fn bench_matcher(c: &mut Criterion) {
    let raw = common::raw_records();
    let records: Vec<Value> =
        raw.iter().map(|r| serde_json::from_str(r).expect("record parses")).collect();
    let envelopes: Vec<Value> = records.iter().cloned().map(envelope::wrap).collect();
    let n = records.len() as u64;
    eprintln!("matcher: {n} real records from fixtures/archive");

    let mut group = c.benchmark_group("matcher");
    group.throughput(Throughput::Elements(n));
    for (family, text) in RECORD_PATTERNS {
        let p = Pattern::parse(text).unwrap_or_else(|e| panic!("{family}: {e}"));
        eprintln!("matcher/{family}: {} of {n} match", count(&p, &records));
        group.bench_with_input(BenchmarkId::from_parameter(family), &records, |b, recs| {
            b.iter(|| count(&p, recs));
        });
    }
    let p = Pattern::parse(ENVELOPE_PATTERN).expect("envelope pattern parses");
    eprintln!("matcher/envelope: {} of {n} match", count(&p, &envelopes));
    group.bench_with_input(BenchmarkId::from_parameter("envelope"), &envelopes, |b, envs| {
        b.iter(|| count(&p, envs));
    });
    // The same, paying for the clone and the wrap per record as `ViewPattern::matches_record`
    // does on whole records.
    group.bench_with_input(
        BenchmarkId::from_parameter("envelope_with_wrap"),
        &records,
        |b, recs| {
            b.iter(|| {
                recs.iter().filter(|r| p.matches(&envelope::wrap(black_box(*r).clone()))).count()
            });
        },
    );
    group.finish();
}

criterion_group!(benches, bench_matcher);
criterion_main!(benches);
