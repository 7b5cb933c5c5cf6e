//! CloudTrail digest files: their JSON, the text their signature covers, and their names.
//!
//! A digest is untrusted input until its signature is checked: the parser is strict (every
//! field it relies on present with the right type, hashes as 64 hex digits, times in RFC 3339,
//! no duplicate keys) and never panics (fuzzed: `fuzz/fuzz_targets/digest.rs`).

use chrono::{DateTime, Utc};
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

/// One entry of `logFiles`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogEntry {
    /// The bucket it was delivered to.
    pub s3_bucket: String,
    /// Its object key.
    pub s3_object: String,
    /// Hex SHA-256 of its uncompressed content.
    pub hash_value: String,
    /// `SHA-256`.
    #[serde(default)]
    pub hash_algorithm: Option<String>,
}

/// The fields of a digest that verification reads (others are ignored).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Digest {
    /// Start of the period the digest covers, as written (RFC 3339).
    pub digest_start_time: String,
    /// End of the period, as written: the first line of the signed text.
    pub digest_end_time: String,
    /// The bucket the digest was delivered to.
    #[serde(rename = "digestS3Bucket")]
    pub digest_s3_bucket: String,
    /// Its object key.
    #[serde(rename = "digestS3Object")]
    pub digest_s3_object: String,
    /// Hex MD5 of the public key (DER) whose private half signed it.
    #[serde(default)]
    pub digest_public_key_fingerprint: Option<String>,
    /// `SHA256withRSA`.
    #[serde(default)]
    pub digest_signature_algorithm: Option<String>,
    /// The previous digest's bucket (null at the start of a chain).
    #[serde(rename = "previousDigestS3Bucket", default)]
    pub previous_digest_s3_bucket: Option<String>,
    /// The previous digest's key (null at the start of a chain).
    #[serde(rename = "previousDigestS3Object", default)]
    pub previous_digest_s3_object: Option<String>,
    /// Hex SHA-256 of the previous digest's uncompressed content.
    #[serde(default)]
    pub previous_digest_hash_value: Option<String>,
    /// The previous digest's signature (hex).
    #[serde(default)]
    pub previous_digest_signature: Option<String>,
    /// The log files delivered in the period.
    pub log_files: Vec<LogEntry>,
    /// Parsed [`Digest::digest_start_time`].
    #[serde(skip)]
    pub start: DateTime<Utc>,
    /// Parsed [`Digest::digest_end_time`].
    #[serde(skip)]
    pub end: DateTime<Utc>,
}

fn is_hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn time(s: &str, field: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("{field} {s:?} is not an RFC 3339 time: {e}"))
}

impl Digest {
    /// Parses the uncompressed content of a digest file.
    pub fn parse(bytes: &[u8]) -> Result<Digest, String> {
        let mut d: Digest = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        d.start = time(&d.digest_start_time, "digestStartTime")?;
        d.end = time(&d.digest_end_time, "digestEndTime")?;
        if d.end < d.start {
            return Err("digestEndTime is before digestStartTime".into());
        }
        if let Some(h) = &d.previous_digest_hash_value
            && !is_hex64(h)
        {
            return Err(format!("previousDigestHashValue {h:?} is not a hex SHA-256"));
        }
        let prev = [
            d.previous_digest_s3_bucket.is_some(),
            d.previous_digest_s3_object.is_some(),
            d.previous_digest_hash_value.is_some(),
        ];
        if prev.iter().any(|p| *p) && !prev.iter().all(|p| *p) {
            return Err("previousDigestS3Bucket, previousDigestS3Object and \
                        previousDigestHashValue must be all null or all set"
                .into());
        }
        for (i, l) in d.log_files.iter().enumerate() {
            if !is_hex64(&l.hash_value) {
                return Err(format!(
                    "logFiles[{i}].hashValue {:?} is not a hex SHA-256",
                    l.hash_value
                ));
            }
        }
        Ok(d)
    }

    /// The digest's own key as `bucket/key`.
    #[must_use]
    pub fn s3_path(&self) -> String {
        format!("{}/{}", self.digest_s3_bucket, self.digest_s3_object)
    }
}

/// The text a digest's signature covers (aws-cli `validation.py`, `_create_string_to_sign`):
/// `digestEndTime \n bucket/key \n hex SHA-256 of the content \n previousDigestSignature`,
/// the last being `null` at the start of a chain.
#[must_use]
pub fn string_to_sign(
    end_time: &str,
    bucket: &str,
    key: &str,
    content_sha256_hex: &str,
    previous_signature: Option<&str>,
) -> String {
    format!(
        "{end_time}\n{bucket}/{key}\n{content_sha256_hex}\n{}",
        previous_signature.unwrap_or("null")
    )
}

/// Hex SHA-256.
#[must_use]
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// What a digest's file name says:
/// `<account>_CloudTrail-Digest_<region>_<trail>_<home-region>_<YYYYMMDDTHHMMSSZ>[_backfill].json[.gz]`.
/// Trail names may hold `_`, so the name is read from both ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestName {
    /// The account whose activity the digest covers.
    pub account: String,
    /// The region whose log files it lists.
    pub region: String,
    /// The trail's name.
    pub trail: String,
    /// The trail's home region.
    pub home_region: String,
    /// The stamp, as written.
    pub stamp: String,
    /// A backfill digest: a chain of its own.
    pub backfill: bool,
}

impl DigestName {
    /// Parses a file name (not a path); `None` outside the pattern.
    #[must_use]
    pub fn parse(name: &str) -> Option<DigestName> {
        let stem = name.strip_suffix(".gz").unwrap_or(name);
        let stem = stem.strip_suffix(".json")?;
        let (stem, backfill) = match stem.strip_suffix("_backfill") {
            Some(s) => (s, true),
            None => (stem, false),
        };
        let parts: Vec<&str> = stem.split('_').collect();
        if parts.len() < 6 || parts[1] != "CloudTrail-Digest" {
            return None;
        }
        let n = parts.len();
        let (account, region, home, stamp) = (parts[0], parts[2], parts[n - 2], parts[n - 1]);
        let ok = account.len() == 12
            && account.bytes().all(|b| b.is_ascii_digit())
            && stamp.len() == 16
            && stamp.ends_with('Z')
            && !region.is_empty()
            && !home.is_empty();
        ok.then(|| DigestName {
            account: account.to_string(),
            region: region.to_string(),
            trail: parts[3..n - 2].join("_"),
            home_region: home.to_string(),
            stamp: stamp.to_string(),
            backfill,
        })
    }
}

/// The part of an object key or path from its last `AWSLogs` folder on, which is where a
/// synced copy keeps it whatever the bucket prefix was (`None` outside that layout).
#[must_use]
pub fn awslogs_key(key: &str) -> Option<&str> {
    let at = if key.starts_with("AWSLogs/") { Some(0) } else { None };
    key.rfind("/AWSLogs/").map(|i| i + 1).or(at).map(|i| &key[i..])
}

/// The file name of a key.
#[must_use]
pub fn base_name(key: &str) -> &str {
    key.rsplit('/').next().unwrap_or(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// aws-cli's own test vector (tests/unit/customizations/cloudtrail/test_validation.py).
    #[test]
    fn aws_cli_string_to_sign() {
        let s = string_to_sign("a", "b", "c", &sha256_hex(b"abc"), None);
        assert_eq!(
            s,
            "a\nb/c\nba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\nnull"
        );
        assert!(string_to_sign("a", "b", "c", "h", Some("ff")).ends_with("\nh\nff"));
    }

    const DIGEST: &str = r#"{"awsAccountId":"111122223333","digestStartTime":"2024-03-01T11:05:10Z","digestEndTime":"2024-03-01T12:05:10Z","digestS3Bucket":"b","digestS3Object":"AWSLogs\/111122223333\/CloudTrail-Digest\/us-east-1\/2024\/03\/01\/111122223333_CloudTrail-Digest_us-east-1_my_trail_us-east-1_20240301T120510Z.json.gz","digestPublicKeyFingerprint":"00","digestSignatureAlgorithm":"SHA256withRSA","newestEventTime":null,"oldestEventTime":null,"previousDigestS3Bucket":null,"previousDigestS3Object":null,"previousDigestHashValue":null,"previousDigestHashAlgorithm":null,"previousDigestSignature":null,"logFiles":[]}"#;

    #[test]
    fn parses_a_chain_start() {
        let d = Digest::parse(DIGEST.as_bytes()).unwrap();
        assert!(d.digest_s3_object.starts_with("AWSLogs/111122223333/CloudTrail-Digest/"));
        assert_eq!(d.previous_digest_signature, None);
        assert_eq!((d.end - d.start).num_hours(), 1);
        let name = DigestName::parse(base_name(&d.digest_s3_object)).unwrap();
        assert_eq!(name.trail, "my_trail");
        assert_eq!((name.region.as_str(), name.home_region.as_str()), ("us-east-1", "us-east-1"));
        assert!(!name.backfill);
    }

    #[test]
    fn refuses_what_it_cannot_rely_on() {
        for (from, to) in [
            ("\"2024-03-01T12:05:10Z\"", "\"yesterday\""),
            (
                "\"logFiles\":[]",
                "\"logFiles\":[{\"s3Bucket\":\"b\",\"s3Object\":\"k\",\"hashValue\":\"zz\"}]",
            ),
            ("\"previousDigestS3Bucket\":null", "\"previousDigestS3Bucket\":\"b\""),
            ("\"digestS3Bucket\":\"b\",", ""),
            ("\"digestS3Bucket\":\"b\"", "\"digestS3Bucket\":\"b\",\"digestS3Bucket\":\"c\""),
            ("\"logFiles\":[]", "\"logFiles\":{}"),
        ] {
            let bad = DIGEST.replacen(from, to, 1);
            assert_ne!(bad, DIGEST);
            assert!(Digest::parse(bad.as_bytes()).is_err(), "{to}");
        }
        assert!(Digest::parse(b"").is_err());
        assert!(Digest::parse(b"[]").is_err());
    }

    proptest::proptest! {
        /// The parser takes any damage to a digest's text without panicking, and what it
        /// accepts keeps the invariants `verify` relies on (the fuzz target's, on a budget).
        #[test]
        fn damaged_digests_never_panic(at in 0usize..DIGEST.len(), byte in proptest::prelude::any::<u8>(), cut in proptest::prelude::any::<bool>()) {
            let mut bytes = DIGEST.as_bytes().to_vec();
            if cut {
                bytes.truncate(at);
            } else {
                bytes[at] = byte;
            }
            if let Ok(d) = Digest::parse(&bytes) {
                proptest::prop_assert!(d.end >= d.start);
                proptest::prop_assert!(d.log_files.iter().all(|l| is_hex64(&l.hash_value)));
            }
            let text = String::from_utf8_lossy(&bytes);
            let _ = DigestName::parse(&text);
            let _ = awslogs_key(&text);
        }
    }

    #[test]
    fn names_from_both_ends() {
        let n = DigestName::parse(
            "111122223333_CloudTrail-Digest_eu-west-1_a_b_c_us-east-1_20240301T120510Z_backfill.json.gz",
        )
        .unwrap();
        assert_eq!((n.trail.as_str(), n.backfill), ("a_b_c", true));
        assert_eq!(n.region, "eu-west-1");
        assert!(
            DigestName::parse("111122223333_CloudTrail_us-east-1_20240301T1205Z_x.json.gz")
                .is_none()
        );
        assert_eq!(awslogs_key("p/q/AWSLogs/1/x.gz"), Some("AWSLogs/1/x.gz"));
        assert_eq!(awslogs_key("AWSLogs/1/x.gz"), Some("AWSLogs/1/x.gz"));
        assert_eq!(awslogs_key("NotAWSLogs/1/x.gz"), None);
        assert_eq!(base_name("a/b/c.gz"), "c.gz");
    }
}
