//! Writes a CloudTrail archive with real digest chains (signed with a key generated here) for
//! `trailscan verify` benchmarks and demos, using the test archive builder
//! (tests/verify_kit).
//!
//! ```text
//! cargo run --release --example gen_digests -- OUT [--size MB] [--regions N]
//! ```
//!
//! Writes `OUT/bucket/AWSLogs/...` (log files of about 2 MB uncompressed, five per hour per
//! region, until the uncompressed total reaches `--size` MB, default 300), `OUT/keys.json`
//! (`aws cloudtrail list-public-keys` form) and `OUT/signatures.jsonl` (the chain tails).
#![allow(clippy::unwrap_used)]

#[path = "../tests/verify_kit/mod.rs"]
mod verify_kit;

use verify_kit::*;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut out = None;
    let (mut size_mb, mut regions) = (300u64, 3usize);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--size" => size_mb = it.next().and_then(|s| s.parse().ok()).expect("--size MB"),
            "--regions" => regions = it.next().and_then(|s| s.parse().ok()).expect("--regions N"),
            other => out = Some(std::path::PathBuf::from(other)),
        }
    }
    let out = out.expect("usage: gen_digests OUT [--size MB] [--regions N]");
    let root = out.join("bucket");
    const REGIONS: [&str; 6] =
        ["us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2", "eu-central-1", "sa-east-1"];
    const RECORDS: usize = 1800;
    const LOGS_PER_HOUR: usize = 5;
    // About 680 bytes per record.
    let per_log = RECORDS as u64 * 680;
    let hours = (size_mb * 1_000_000 / per_log / LOGS_PER_HOUR as u64 / regions as u64).max(1);
    let t = std::time::Instant::now();
    let mut written = Vec::new();
    for (i, region) in REGIONS.iter().take(regions.clamp(1, 6)).enumerate() {
        let mut spec = Spec::new("111122223333", region, "bench_trail");
        spec.hours = hours as usize;
        spec.logs_per_hour = LOGS_PER_HOUR;
        spec.records = RECORDS;
        spec.seed = i as u64 + 1;
        written.push(write_trail(&root, &spec));
    }
    let inflated: usize = written.iter().flat_map(|w| &w.logs).map(|l| l.content.len()).sum();
    let files = written.iter().map(|w| w.logs.len()).sum::<usize>();
    let digests = written.iter().map(|w| w.digests.len()).sum::<usize>();
    std::fs::write(out.join("keys.json"), key_list(&pkcs1_der(private_key()), true)).unwrap();
    let tails: Vec<&WrittenDigest> = written.iter().filter_map(|w| w.digests.last()).collect();
    std::fs::write(out.join("signatures.jsonl"), signatures_jsonl(&tails)).unwrap();
    println!(
        "gen_digests: {files} log files ({:.1} MB uncompressed), {digests} digests in {} chains, {:.1} s",
        inflated as f64 / 1e6,
        written.len(),
        t.elapsed().as_secs_f64()
    );
}
