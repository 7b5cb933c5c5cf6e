//! Any bytes as the content of a CloudTrail digest file, and any text as a digest file name:
//! the parser and the name reader must never panic; a digest that parses must keep the
//! invariants `verify` relies on (end not before start, hashes as 64 hex digits, the previous
//! digest's fields all set or all null), and its string to sign must start with its end time.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trailscan::verify::digest::{Digest, DigestName, awslogs_key, base_name, sha256_hex, string_to_sign};

fuzz_target!(|data: &[u8]| {
    if let Ok(d) = Digest::parse(data) {
        assert!(d.end >= d.start);
        for l in &d.log_files {
            assert!(l.hash_value.len() == 64 && l.hash_value.bytes().all(|b| b.is_ascii_hexdigit()));
        }
        let set = [
            d.previous_digest_s3_bucket.is_some(),
            d.previous_digest_s3_object.is_some(),
            d.previous_digest_hash_value.is_some(),
        ];
        assert!(set.iter().all(|s| *s) || set.iter().all(|s| !*s));
        let s = string_to_sign(
            &d.digest_end_time,
            &d.digest_s3_bucket,
            &d.digest_s3_object,
            &sha256_hex(data),
            d.previous_digest_signature.as_deref(),
        );
        assert!(s.starts_with(&d.digest_end_time));
        let _ = DigestName::parse(base_name(&d.digest_s3_object));
        let _ = awslogs_key(&d.digest_s3_object);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Some(n) = DigestName::parse(text) {
            assert_eq!(n.account.len(), 12);
            assert!(text.contains(&n.trail));
        }
        if let Some(k) = awslogs_key(text) {
            assert!(k.starts_with("AWSLogs/") && text.ends_with(k));
        }
    }
});
