//! CloudTrail's public keys, as `aws cloudtrail list-public-keys` prints them, and checking a
//! digest's signature with one.
//!
//! `PublicKeyList[].Value` is the key's DER in base64 (PKCS#1 `RSAPublicKey`, which is what
//! CloudTrail returns, or `SubjectPublicKeyInfo`); `Fingerprint` is the hex MD5 of that DER;
//! the validity times are epoch seconds (AWS CLI v1) or ISO 8601 text (v2).

use anyhow::{Context, Result, bail};
use base64::Engine as _;
use chrono::{DateTime, TimeZone, Utc};
use md5::{Digest as _, Md5};
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs8::DecodePublicKey;
use rsa::{Pkcs1v15Sign, RsaPublicKey};
use sha2::Sha256;
use std::path::Path;

/// One public key.
#[derive(Debug, Clone)]
pub struct PublicKey {
    /// Hex MD5 of the DER as given, lower case.
    pub fingerprint: String,
    /// Hex MD5 of the key's PKCS#1 DER (the form CloudTrail fingerprints), when the key was
    /// given in another form: a digest may name the key by either.
    pub pkcs1_fingerprint: Option<String>,
    /// The key.
    pub key: RsaPublicKey,
    /// When CloudTrail started signing with it.
    pub valid_from: Option<DateTime<Utc>>,
    /// When it stopped.
    pub valid_to: Option<DateTime<Utc>>,
    /// The file it came from.
    pub source: String,
}

/// Hex MD5 of `der`: the fingerprint digests name their key by.
#[must_use]
pub fn fingerprint(der: &[u8]) -> String {
    hex::encode(Md5::digest(der))
}

/// Decodes a DER public key, PKCS#1 `RSAPublicKey` or `SubjectPublicKeyInfo`.
pub fn decode_der(der: &[u8]) -> Result<RsaPublicKey, String> {
    RsaPublicKey::from_pkcs1_der(der).or_else(|pkcs1| {
        RsaPublicKey::from_public_key_der(der).map_err(|spki| {
            format!("neither a PKCS#1 RSAPublicKey ({pkcs1}) nor a SubjectPublicKeyInfo ({spki})")
        })
    })
}

fn validity(v: Option<&serde_json::Value>, what: &str) -> Result<Option<DateTime<Utc>>> {
    match v {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::Number(n)) => {
            let secs = n.as_f64().with_context(|| format!("{what}: {n} is not a time"))?;
            #[allow(clippy::cast_possible_truncation)]
            let t = Utc.timestamp_opt(secs.floor() as i64, 0).single();
            t.map(Some).with_context(|| format!("{what}: {n} is not a time"))
        }
        Some(serde_json::Value::String(s)) => DateTime::parse_from_rfc3339(s)
            .map(|t| Some(t.with_timezone(&Utc)))
            .with_context(|| format!("{what}: {s:?} is not an ISO 8601 time")),
        Some(other) => bail!("{what}: {other} is not a time"),
    }
}

/// Reads the JSON `aws cloudtrail list-public-keys` printed (`{"PublicKeyList": [...]}`, or
/// the list alone). A key whose `Fingerprint` is not the MD5 of its `Value` is refused.
pub fn parse_key_list(text: &str, source: &str) -> Result<Vec<PublicKey>> {
    let v: serde_json::Value = serde_json::from_str(text).context("not JSON")?;
    let list = match &v {
        serde_json::Value::Array(a) => a,
        serde_json::Value::Object(o) => match o.get("PublicKeyList") {
            Some(serde_json::Value::Array(a)) => a,
            _ => {
                bail!("no PublicKeyList array (expected `aws cloudtrail list-public-keys` output)")
            }
        },
        _ => bail!("expected `aws cloudtrail list-public-keys` output"),
    };
    let mut keys = Vec::new();
    for (i, entry) in list.iter().enumerate() {
        let what = format!("PublicKeyList[{i}]");
        let value = entry
            .get("Value")
            .and_then(serde_json::Value::as_str)
            .with_context(|| format!("{what}: no Value"))?;
        let der = base64::engine::general_purpose::STANDARD
            .decode(value.trim())
            .with_context(|| format!("{what}: Value is not base64"))?;
        let key = decode_der(&der).map_err(|e| anyhow::anyhow!("{what}: {e}"))?;
        let computed = fingerprint(&der);
        if let Some(given) = entry.get("Fingerprint").and_then(serde_json::Value::as_str)
            && !given.eq_ignore_ascii_case(&computed)
        {
            bail!("{what}: Fingerprint {given} is not the MD5 of the key ({computed})");
        }
        let pkcs1 = rsa::pkcs1::EncodeRsaPublicKey::to_pkcs1_der(&key)
            .map(|d| fingerprint(d.as_bytes()))
            .ok()
            .filter(|f| *f != computed);
        keys.push(PublicKey {
            fingerprint: computed,
            pkcs1_fingerprint: pkcs1,
            key,
            valid_from: validity(entry.get("ValidityStartTime"), &what)?,
            valid_to: validity(entry.get("ValidityEndTime"), &what)?,
            source: source.to_string(),
        });
    }
    Ok(keys)
}

/// Reads a key file.
pub fn load(path: &Path) -> Result<Vec<PublicKey>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("--public-keys {}", path.display()))?;
    parse_key_list(&text, &path.display().to_string())
        .with_context(|| format!("--public-keys {}", path.display()))
}

/// Checks an RSA PKCS#1 v1.5 signature over SHA-256 of `message` (`SHA256withRSA`).
#[must_use]
pub fn verify(key: &RsaPublicKey, message: &[u8], signature: &[u8]) -> bool {
    let hashed = <Sha256 as sha2::Digest>::digest(message);
    key.verify(Pkcs1v15Sign::new::<Sha256>(), &hashed, signature).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example output of `aws cloudtrail list-public-keys` in aws-cli's documentation
    /// (`awscli/examples/cloudtrail/list-public-keys.rst`, Apache-2.0): epoch validity times (CLI
    /// v1), a PKCS#1 key, and the fingerprint CloudTrail gives it.
    #[test]
    fn pins_the_aws_cli_list_public_keys_example() {
        let text = r#"{"PublicKeyList": [{"ValidityStartTime": 1453076702.0, "ValidityEndTime": 1455668702.0,
            "Value": "MIIBCgKCAQEAlSS3cl92HDycr/MTj0moOhas8habjrraXw+KzlWF0axSI2tcF+3iJ9BKQAVSKxGwxwu3m0wG3J+kUl1xboEcEPHYoIYMbgfSw7KGnuDKwkLzsQWhUJ0cIbOHASox1vv/5fNXkrHhGbDCHeVXm804c83nvHUEFYThr1PfyP/8HwrCtR3FX5OANtQCP61C1nJtSSkC8JSQUOrIP4CuwJjc+4WGDk+BGH5m9iuiAKkipEHWmUl8/P7XpfpWQuk4h8g3pXZOrNXr08lbh4d39svj7UqdhvOXoBISp9t/EXYuePGEtBdrKD9Dz+VHwyUPtBQvYr9BnkF88qBnaPNhS44rzwIDAQAB",
            "Fingerprint": "7f3f401420072e50a65a141430817ab3"}]}"#;
        let keys = parse_key_list(text, "aws-cli example").unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].fingerprint, "7f3f401420072e50a65a141430817ab3");
        assert_eq!(keys[0].valid_from.map(|t| t.timestamp()), Some(1_453_076_702));
        assert_eq!(keys[0].valid_to.map(|t| t.timestamp()), Some(1_455_668_702));
        // A wrong fingerprint is refused.
        let forged = text.replace("7f3f4014", "00000000");
        assert!(parse_key_list(&forged, "forged").is_err());
    }

    #[test]
    fn fingerprint_is_md5_of_the_der() {
        // Vectors from RFC 1321.
        assert_eq!(fingerprint(b""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(fingerprint(b"abc"), "900150983cd24fb0d6963f7d28e17f72");
    }

    /// The fixtures' keys were made with `openssl` and fingerprinted with Python's `hashlib`
    /// (fixtures/README.md): an MD5 computed outside this crate, over the DER outside it.
    #[test]
    fn fingerprints_pinned_against_openssl_and_hashlib() {
        let v2 = include_str!("../../fixtures/verify/list-public-keys-v2-pkcs1.json");
        let k = parse_key_list(v2, "v2").unwrap();
        assert_eq!(k[0].fingerprint, "3ff2e82b889c8a430b5f4256fbf8113e");
        assert_eq!(k[0].pkcs1_fingerprint, None);
        assert_eq!(k[0].valid_from.unwrap().to_rfc3339(), "2024-01-01T00:00:00+00:00");
        let v1 = include_str!("../../fixtures/verify/list-public-keys-v1-spki.json");
        let s = parse_key_list(v1, "v1").unwrap();
        assert_eq!(s[0].fingerprint, "56ab8977163b81c5ef44dbfe276d598b");
        // The same key: named by its PKCS#1 fingerprint too.
        assert_eq!(s[0].pkcs1_fingerprint.as_deref(), Some("3ff2e82b889c8a430b5f4256fbf8113e"));
        assert_eq!(s[0].key, k[0].key);
        assert_eq!(s[0].valid_to.unwrap().to_rfc3339(), "2025-01-01T00:00:00+00:00");
        // A Fingerprint that is not the key's is refused.
        let lie =
            v2.replace("3ff2e82b889c8a430b5f4256fbf8113e", "7f3f401420072e50a65a141430817ab3");
        assert!(parse_key_list(&lie, "lie").unwrap_err().to_string().contains("is not the MD5"));
    }

    #[test]
    fn refuses_bad_lists() {
        for bad in [
            "",
            "{}",
            "[1]",
            r#"{"PublicKeyList":[{"Value":"!!"}]}"#,
            r#"{"PublicKeyList":[{"Value":"AAAA"}]}"#,
        ] {
            assert!(parse_key_list(bad, "t").is_err(), "{bad}");
        }
        assert!(parse_key_list(r#"{"PublicKeyList":[]}"#, "t").unwrap().is_empty());
    }
}
