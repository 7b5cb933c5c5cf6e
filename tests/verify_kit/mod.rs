//! A test archive builder for `trailscan verify`: hourly log files and digest chains written
//! exactly as CloudTrail writes them (compact JSON with `\/` escapes, the field order of real
//! digests, `AWSLogs/[o-org/]<account>/CloudTrail-Digest/<region>/YYYY/MM/DD/` keys under an
//! optional prefix, empty digests, chain restarts, backfill chains), signed with an RSA-2048
//! key generated once per test binary, and that key as `aws cloudtrail list-public-keys`
//! prints it (CLI v1: epoch numbers, v2: ISO 8601).
//!
//! Used by tests/verify.rs and examples/gen_digests.rs (`#[path]`).
#![allow(dead_code)]

use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use flate2::{Compression, write::GzEncoder};
use rand::SeedableRng;
use rsa::pkcs1::EncodeRsaPublicKey;
use rsa::pkcs8::EncodePublicKey;
use rsa::{Pkcs1v15Sign, RsaPrivateKey};
use sha2::{Digest as _, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The signing key: generated once per process from a fixed seed.
pub fn private_key() -> &'static RsaPrivateKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| {
        let mut rng = rand::rngs::StdRng::seed_from_u64(20_240_301);
        RsaPrivateKey::new(&mut rng, 2048).expect("RSA key generation")
    })
}

/// A second key, for "wrong key" cases.
pub fn other_key() -> &'static RsaPrivateKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        RsaPrivateKey::new(&mut rng, 2048).expect("RSA key generation")
    })
}

/// PKCS#1 `RSAPublicKey` DER, as CloudTrail publishes it.
pub fn pkcs1_der(key: &RsaPrivateKey) -> Vec<u8> {
    key.to_public_key().to_pkcs1_der().unwrap().as_bytes().to_vec()
}

/// `SubjectPublicKeyInfo` DER.
pub fn spki_der(key: &RsaPrivateKey) -> Vec<u8> {
    key.to_public_key().to_public_key_der().unwrap().as_bytes().to_vec()
}

/// Hex MD5 of the DER.
pub fn fingerprint(der: &[u8]) -> String {
    use md5::Digest as _;
    hex::encode(md5::Md5::digest(der))
}

/// The fingerprint digests name [`private_key`] by.
pub fn key_fingerprint() -> String {
    fingerprint(&pkcs1_der(private_key()))
}

/// `aws cloudtrail list-public-keys` output for `der`: CLI v1 (`epoch`) or v2 (ISO 8601).
pub fn key_list(der: &[u8], epoch: bool) -> String {
    let value = base64::engine::general_purpose::STANDARD.encode(der);
    let (from, to) = if epoch {
        ("1704067200.0".to_string(), "1735689600.0".to_string())
    } else {
        ("\"2024-01-01T00:00:00+00:00\"".to_string(), "\"2025-01-01T00:00:00+00:00\"".to_string())
    };
    format!(
        "{{\n    \"PublicKeyList\": [\n        {{\n            \"Value\": \"{value}\",\n            \
         \"ValidityStartTime\": {from},\n            \"ValidityEndTime\": {to},\n            \
         \"Fingerprint\": \"{}\"\n        }}\n    ]\n}}\n",
        fingerprint(der)
    )
}

/// Signs a digest's string to sign: hex of the RSA PKCS#1 v1.5 SHA-256 signature.
pub fn sign(key: &RsaPrivateKey, message: &str) -> String {
    let hashed = Sha256::digest(message.as_bytes());
    hex::encode(key.sign(Pkcs1v15Sign::new::<Sha256>(), &hashed).unwrap())
}

/// Gzip, as CloudTrail delivers.
pub fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// Gunzip (first member).
pub fn gunzip(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(data), &mut out).unwrap();
    out
}

/// A JSON string as CloudTrail's serializer writes it: `/` escaped as `\/`.
pub fn js(s: &str) -> String {
    serde_json::to_string(s).unwrap().replace('/', "\\/")
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A tiny deterministic generator for names and record text.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub fn id(&mut self, len: usize) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..len).map(|_| A[self.below(A.len() as u64) as usize] as char).collect()
    }
}

/// One trail's delivery in one region.
#[derive(Debug, Clone)]
pub struct Spec {
    pub bucket: String,
    /// `""` or `"prefix/"`.
    pub prefix: String,
    /// An organization trail's `o-...` folder.
    pub org: Option<String>,
    pub account: String,
    pub region: String,
    pub trail: String,
    pub home: String,
    pub backfill: bool,
    /// The first digest's start.
    pub start: DateTime<Utc>,
    /// Digests written (one per hour).
    pub hours: usize,
    pub logs_per_hour: usize,
    /// Hours whose digest lists no log file.
    pub empty_hours: Vec<usize>,
    /// Hours not delivered at all, after which the chain restarts (previous digest null).
    pub off_hours: Vec<usize>,
    /// Records per log file.
    pub records: usize,
    pub seed: u64,
}

impl Spec {
    pub fn new(account: &str, region: &str, trail: &str) -> Spec {
        Spec {
            bucket: "trail-bucket".into(),
            prefix: String::new(),
            org: None,
            account: account.into(),
            region: region.into(),
            trail: trail.into(),
            home: "us-east-1".into(),
            backfill: false,
            start: DateTime::parse_from_rfc3339("2024-03-01T00:05:10Z")
                .unwrap()
                .with_timezone(&Utc),
            hours: 4,
            logs_per_hour: 2,
            empty_hours: Vec::new(),
            off_hours: Vec::new(),
            records: 3,
            seed: 1,
        }
    }

    fn folder(&self, kind: &str, t: DateTime<Utc>) -> String {
        let org = self.org.as_ref().map(|o| format!("{o}/")).unwrap_or_default();
        format!(
            "{}AWSLogs/{org}{}/{kind}/{}/{}",
            self.prefix,
            self.account,
            self.region,
            t.format("%Y/%m/%d")
        )
    }
}

/// A digest written.
#[derive(Debug, Clone)]
pub struct WrittenDigest {
    pub path: PathBuf,
    pub bucket: String,
    pub key: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Its signature (kept only in S3 metadata by CloudTrail).
    pub signature: String,
    pub previous: Option<String>,
    pub logs: Vec<usize>,
}

/// A log file written.
#[derive(Debug, Clone)]
pub struct WrittenLog {
    pub path: PathBuf,
    pub key: String,
    pub content: Vec<u8>,
    pub digest: usize,
}

/// What [`write_trail`] wrote.
#[derive(Debug, Clone, Default)]
pub struct Written {
    pub digests: Vec<WrittenDigest>,
    pub logs: Vec<WrittenLog>,
}

/// One log file's content: `{"Records":[...]}` as CloudTrail writes it (compact).
pub fn records(rng: &mut Rng, spec: &Spec, at: DateTime<Utc>, n: usize) -> Vec<u8> {
    const EVENTS: &[(&str, &str)] = &[
        ("s3.amazonaws.com", "GetObject"),
        ("iam.amazonaws.com", "CreateUser"),
        ("ec2.amazonaws.com", "DescribeInstances"),
        ("sts.amazonaws.com", "AssumeRole"),
        ("kms.amazonaws.com", "Decrypt"),
    ];
    let mut s = String::from("{\"Records\":[");
    for i in 0..n {
        if i > 0 {
            s.push(',');
        }
        let (source, name) = EVENTS[rng.below(EVENTS.len() as u64) as usize];
        let t = at - Duration::seconds(rng.below(600) as i64);
        let ip = format!("203.0.113.{}", rng.below(255));
        let user = format!("user-{}", rng.below(40));
        let agent = format!("aws-cli/2.{}.{} Python/3.11", rng.below(20), rng.below(10));
        s.push_str(&format!(
            "{{\"eventVersion\":\"1.08\",\"userIdentity\":{{\"type\":\"IAMUser\",\"principalId\":\"AIDA{}\",\"arn\":{},\"accountId\":\"{}\",\"userName\":\"{user}\"}},\"eventTime\":\"{}\",\"eventSource\":\"{source}\",\"eventName\":\"{name}\",\"awsRegion\":\"{}\",\"sourceIPAddress\":\"{ip}\",\"userAgent\":{},\"requestParameters\":{{\"bucketName\":\"b-{}\",\"key\":{}}},\"responseElements\":null,\"requestID\":\"{}\",\"eventID\":\"{}-{}\",\"readOnly\":true,\"eventType\":\"AwsApiCall\",\"managementEvent\":true,\"recipientAccountId\":\"{}\",\"eventCategory\":\"Management\"}}",
            rng.id(16),
            js(&format!("arn:aws:iam::{}:user/{user}", spec.account)),
            spec.account,
            iso(t),
            spec.region,
            js(&agent),
            rng.below(9),
            js(&format!("data/{}/{}.csv", rng.id(6), rng.below(100_000))),
            rng.id(20),
            rng.id(8),
            rng.id(12),
            spec.account,
        ));
    }
    s.push_str("]}");
    s.into_bytes()
}

/// Writes one trail's hourly log files and digest chain under `root` (the bucket's copy).
pub fn write_trail(root: &Path, spec: &Spec) -> Written {
    let mut rng = Rng::new(spec.seed);
    let key = private_key();
    let fp = key_fingerprint();
    let mut w = Written::default();
    // (key, hash, signature) of the previous digest in the chain.
    let mut prev: Option<(String, String, String)> = None;
    for hour in 0..spec.hours {
        let start = spec.start + Duration::hours(hour as i64);
        let end = start + Duration::hours(1);
        if spec.off_hours.contains(&hour) {
            prev = None;
            continue;
        }
        let mut entries = Vec::new();
        let mut newest: Option<DateTime<Utc>> = None;
        let mut oldest: Option<DateTime<Utc>> = None;
        let n = if spec.empty_hours.contains(&hour) { 0 } else { spec.logs_per_hour };
        for i in 0..n {
            let at = start + Duration::minutes(5 + 50 * i as i64 / n.max(1) as i64);
            let data = records(&mut rng, spec, at, spec.records);
            let name = format!(
                "{}_CloudTrail_{}_{}_{}.json.gz",
                spec.account,
                spec.region,
                at.format("%Y%m%dT%H%MZ"),
                rng.id(16)
            );
            let key = format!("{}/{name}", spec.folder("CloudTrail", at));
            let path = root.join(&key);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, gz(&data)).unwrap();
            let hash = hex::encode(Sha256::digest(&data));
            let (o, nw) = (at - Duration::minutes(10), at - Duration::seconds(30));
            newest = Some(newest.map_or(nw, |x| x.max(nw)));
            oldest = Some(oldest.map_or(o, |x| x.min(o)));
            entries.push(format!(
                "{{\"s3Bucket\":{},\"s3Object\":{},\"hashValue\":\"{hash}\",\"hashAlgorithm\":\"SHA-256\",\"newestEventTime\":\"{}\",\"oldestEventTime\":\"{}\"}}",
                js(&spec.bucket),
                js(&key),
                iso(nw),
                iso(o)
            ));
            w.logs.push(WrittenLog { path, key, content: data, digest: w.digests.len() });
        }
        let backfill = if spec.backfill { "_backfill" } else { "" };
        let name = format!(
            "{}_CloudTrail-Digest_{}_{}_{}_{}{backfill}.json.gz",
            spec.account,
            spec.region,
            spec.trail,
            spec.home,
            end.format("%Y%m%dT%H%M%SZ")
        );
        let dkey = format!("{}/{name}", spec.folder("CloudTrail-Digest", end));
        let time =
            |t: Option<DateTime<Utc>>| t.map_or("null".to_string(), |t| format!("\"{}\"", iso(t)));
        let previous = match &prev {
            Some((k, h, s)) => format!(
                "\"previousDigestS3Bucket\":{},\"previousDigestS3Object\":{},\"previousDigestHashValue\":\"{h}\",\"previousDigestHashAlgorithm\":\"SHA-256\",\"previousDigestSignature\":\"{s}\"",
                js(&spec.bucket),
                js(k)
            ),
            None => "\"previousDigestS3Bucket\":null,\"previousDigestS3Object\":null,\"previousDigestHashValue\":null,\"previousDigestHashAlgorithm\":null,\"previousDigestSignature\":null".to_string(),
        };
        let json = format!(
            "{{\"awsAccountId\":\"{}\",\"digestStartTime\":\"{}\",\"digestEndTime\":\"{}\",\"digestS3Bucket\":{},\"digestS3Object\":{},\"digestPublicKeyFingerprint\":\"{fp}\",\"digestSignatureAlgorithm\":\"SHA256withRSA\",\"newestEventTime\":{},\"oldestEventTime\":{},{previous},\"logFiles\":[{}]}}",
            spec.account,
            iso(start),
            iso(end),
            js(&spec.bucket),
            js(&dkey),
            time(newest),
            time(oldest),
            entries.join(",")
        );
        let hash = hex::encode(Sha256::digest(json.as_bytes()));
        let to_sign = format!(
            "{}\n{}/{dkey}\n{hash}\n{}",
            iso(end),
            spec.bucket,
            prev.as_ref().map_or("null", |p| p.2.as_str())
        );
        let signature = sign(key, &to_sign);
        let path = root.join(&dkey);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, gz(json.as_bytes())).unwrap();
        let logs = (w.logs.len() - n..w.logs.len()).collect();
        w.digests.push(WrittenDigest {
            path,
            bucket: spec.bucket.clone(),
            key: dkey.clone(),
            start,
            end,
            signature: signature.clone(),
            previous: prev.as_ref().map(|p| p.0.clone()),
            logs,
        });
        prev = Some((dkey, hash, signature));
    }
    w
}

/// The standard test archive: a multi-region trail (`main_trail`, a name with `_`) in
/// us-east-1 with an empty hour and in eu-west-1; an organization trail under a prefix whose
/// chain restarts after two hours off; and a backfill chain.
pub struct Standard {
    pub east: Written,
    pub west: Written,
    pub org: Written,
    pub backfill: Written,
}

impl Standard {
    pub fn all(&self) -> [&Written; 4] {
        [&self.east, &self.west, &self.org, &self.backfill]
    }
    /// Every chain tail (digests no later digest names), for `--signatures`.
    pub fn tails(&self) -> Vec<&WrittenDigest> {
        let mut named = std::collections::HashSet::new();
        for w in self.all() {
            for d in &w.digests {
                if let Some(p) = &d.previous {
                    named.insert(p.clone());
                }
            }
        }
        self.all()
            .into_iter()
            .flat_map(|w| &w.digests)
            .filter(|d| !named.contains(&d.key))
            .collect()
    }
}

pub fn standard(root: &Path) -> Standard {
    let mut east = Spec::new("111122223333", "us-east-1", "main_trail");
    east.empty_hours = vec![2];
    let mut west = Spec::new("111122223333", "eu-west-1", "main_trail");
    west.hours = 3;
    west.seed = 2;
    let mut org = Spec::new("444455556666", "us-east-1", "org");
    org.prefix = "myprefix/".into();
    org.org = Some("o-abc123def4".into());
    org.hours = 6;
    org.off_hours = vec![2, 3];
    org.seed = 3;
    let mut backfill = Spec::new("111122223333", "us-east-1", "main_trail");
    backfill.backfill = true;
    backfill.start = east.start - Duration::days(30);
    backfill.hours = 2;
    backfill.logs_per_hour = 1;
    backfill.seed = 4;
    Standard {
        east: write_trail(root, &east),
        west: write_trail(root, &west),
        org: write_trail(root, &org),
        backfill: write_trail(root, &backfill),
    }
}

/// `--signatures` JSON lines for `digests`.
pub fn signatures_jsonl(digests: &[&WrittenDigest]) -> String {
    digests
        .iter()
        .map(|d| {
            format!(
                "{{\"key\":{},\"signature\":\"{}\"}}\n",
                serde_json::to_string(&d.key).unwrap(),
                d.signature
            )
        })
        .collect()
}
