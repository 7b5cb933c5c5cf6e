//! The record path on raw text, on the real CloudTrail records of `fixtures/archive`:
//! splitting an inflated delivery file, projecting records with `KeepSet`, `Query::evaluate`,
//! the `Prefilter`, a summary's per-record work, and a full `serde_json::from_str::<Value>` as
//! the baseline.
//!
//! `cargo bench --bench decode -- --warm-up-time 1 --measurement-time 3`

mod common;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use serde_json::Value;
use std::hint::black_box;
use trailscan::output::Field;
use trailscan::query::{Filters, Query};
use trailscan::record::KeepSet;
use trailscan::record::fields::{Fields, Table};
use trailscan::source::{split, split_with};
use trailscan::summary::{Reader, Spec, Summary};

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_string()).collect()
}

fn bench_split(c: &mut Criterion, raw: &[String]) {
    // The largest real delivery file, and every fixture record in one delivery file.
    let largest = common::gz_files()
        .iter()
        .map(|p| common::inflate(p))
        .max_by_key(Vec::len)
        .expect("a fixture");
    let all = format!("{{\"Records\":[{}]}}", raw.join(",")).into_bytes();
    let mut group = c.benchmark_group("split");
    for (name, data) in [("largest_fixture_file", &largest), ("all_records_one_file", &all)] {
        let n = split(data).records.len();
        eprintln!("split/{name}: {} bytes, {n} records", data.len());
        group.throughput(Throughput::Bytes(data.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(name), data, |b, d| {
            b.iter(|| split(black_box(d)).records.len());
        });
    }
    group.finish();
}

fn bench_records(c: &mut Criterion, raw: &[String]) {
    let n = raw.len() as u64;
    let bytes: usize = raw.iter().map(String::len).sum();
    eprintln!("records: {n} records, {bytes} bytes, {} bytes/record on average", bytes / raw.len());

    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Elements(n));
    group.bench_function("serde_json_value_baseline", |b| {
        b.iter(|| {
            raw.iter()
                .map(|r| serde_json::from_str::<Value>(black_box(r)).expect("parses"))
                .filter(Value::is_object)
                .count()
        });
    });
    group.finish();

    let key_sets: [(&str, KeepSet); 5] = [
        ("eventName", KeepSet::new(strings(&["eventName"]))),
        (
            "five_top_level",
            KeepSet::new(strings(&[
                "eventTime",
                "eventName",
                "eventSource",
                "sourceIPAddress",
                "errorCode",
            ])),
        ),
        ("userIdentity_subtree", KeepSet::new(strings(&["eventTime", "userIdentity"]))),
        (
            "request_response_subtrees",
            KeepSet::new(strings(&["eventTime", "requestParameters", "responseElements"])),
        ),
        ("everything", KeepSet::everything()),
    ];
    let mut group = c.benchmark_group("project");
    group.throughput(Throughput::Elements(n));
    for (name, keep) in &key_sets {
        group.bench_with_input(BenchmarkId::from_parameter(name), raw, |b, recs| {
            b.iter(|| {
                recs.iter()
                    .map(|r| keep.project(black_box(r)).expect("projects"))
                    .filter(Value::is_object)
                    .count()
            });
        });
    }
    group.finish();

    let selective = Filters { events: strings(&["CreateUser"]), ..Filters::default() };
    let queries: [(&str, Query); 3] = [
        ("selective_event_CreateUser", Query::new(&selective, &[], true).expect("query")),
        (
            "non_selective_IAMUser",
            Query::new(
                &Filters::default(),
                &strings(&[r#"{"userIdentity":{"type":["IAMUser"]}}"#]),
                true,
            )
            .expect("query"),
        ),
        (
            "envelope_pattern",
            Query::new(
                &Filters::default(),
                &strings(&[
                    r#"{"source":["aws.iam"],"detail":{"eventName":[{"prefix":"Create"}]}}"#,
                ]),
                true,
            )
            .expect("query"),
        ),
    ];
    let mut group = c.benchmark_group("evaluate");
    group.throughput(Throughput::Elements(n));
    for (name, q) in &queries {
        let hits = raw.iter().filter(|r| q.evaluate(r).expect("evaluates").is_some()).count();
        eprintln!("evaluate/{name}: {hits} of {n} match");
        group.bench_with_input(BenchmarkId::from_parameter(name), raw, |b, recs| {
            b.iter(|| {
                recs.iter()
                    .filter(|r| q.evaluate(black_box(r)).expect("evaluates").is_some())
                    .count()
            });
        });
    }
    group.finish();

    let multi = Filters {
        events: strings(&["CreateUser", "DeleteUser", "AttachUserPolicy", "CreateAccessKey"]),
        sources: strings(&["iam"]),
        ..Filters::default()
    };
    let prefilters: [(&str, Query); 2] = [
        ("one_literal_CreateUser", Query::new(&selective, &[], true).expect("query")),
        ("four_events_and_source", Query::new(&multi, &[], true).expect("query")),
    ];
    let mut group = c.benchmark_group("prefilter_maybe");
    group.throughput(Throughput::Elements(n));
    for (name, q) in &prefilters {
        let pf = q.prefilter();
        let maybe = raw.iter().filter(|r| pf.maybe(r.as_bytes())).count();
        eprintln!("prefilter_maybe/{name}: {maybe} of {n} pass ({:?})", pf.describe());
        group.bench_with_input(BenchmarkId::from_parameter(name), raw, |b, recs| {
            b.iter(|| recs.iter().filter(|r| pf.maybe(black_box(r.as_bytes()))).count());
        });
    }
    group.finish();
}

/// What `summary --by eventName` does per record: reading the counted fields straight from
/// the text (`Summary::observe_raw`), against projecting to a `Value` and observing that.
fn bench_summary(c: &mut Criterion, raw: &[String]) {
    let spec = Spec { by: Field::list(Some("eventName")), ..Spec::default() };
    let keep = KeepSet::new(spec.paths());
    let mut group = c.benchmark_group("summary");
    group.throughput(Throughput::Elements(raw.len() as u64));
    // One summary for all iterations, as over an archive: values repeat, maps stay warm.
    group.bench_function("observe_raw", |b| {
        let mut reader = Reader::new(&spec);
        let (mut counts, mut notable) = (Summary::default(), Summary::default());
        b.iter(|| {
            for r in raw {
                counts
                    .observe_raw(black_box(r), None, &spec, &mut reader, &mut notable)
                    .expect("reads");
            }
            notable.notable.clear();
            counts.all.count
        });
    });
    // The split as `summary` runs it: each record delimited by reading its fields, against the
    // plain split of the same delivery file.
    let all = format!("{{\"Records\":[{}]}}", raw.join(",")).into_bytes();
    let extractor = Reader::new(&spec).extractor();
    group.bench_function("split_only", |b| b.iter(|| split(black_box(&all)).records.len()));
    group.bench_function("split_and_walk", |b| {
        let (mut fields, mut table) = (Fields::default(), Table::default());
        b.iter(|| {
            table.clear();
            let walk = &mut |t: &[u8], i| extractor.walk(t, i, &mut fields, &mut table);
            split_with(black_box(&all), walk).records.len()
        });
    });
    group.bench_function("project_and_observe", |b| {
        let mut counts = Summary::default();
        b.iter(|| {
            for r in raw {
                counts.observe_counts(&keep.project(black_box(r)).expect("projects"), &spec);
            }
            counts.all.count
        });
    });
    group.finish();
}

fn bench_decode(c: &mut Criterion) {
    let raw = common::raw_records();
    bench_split(c, &raw);
    bench_records(c, &raw);
    bench_summary(c, &raw);
}

criterion_group!(benches, bench_decode);
criterion_main!(benches);
