//! `--signatures`: digest signatures saved from S3 object metadata, where `aws s3 sync` does
//! not keep them. Forms (doc/verify.md):
//!
//! - a JSON object mapping a digest (its S3 key, `s3://bucket/key`, or its file name) to the
//!   hex signature, or to the `aws s3api head-object` output for it;
//! - JSON lines, each `{"key": ..., "signature": ...}` or `{"key": ..., "Metadata": {...}}`;
//! - a folder of `aws s3api head-object` outputs, each named after its digest's file name
//!   with `.json` added (`<digest>.json.gz.json`).

use super::digest::{awslogs_key, base_name};
use anyhow::{Context, Result, bail};
use std::collections::HashMap;
use std::path::Path;

/// Signatures by digest, matched on the key from `AWSLogs/` on, else the file name.
#[derive(Debug, Default)]
pub struct Signatures {
    by_key: HashMap<String, String>,
    /// Where they came from, for messages.
    pub source: String,
}

/// The lookup name of a digest key: from `AWSLogs/` on, else its file name.
fn lookup_name(key: &str) -> String {
    let key = key.strip_prefix("s3://").map_or(key, |k| k.split_once('/').map_or(k, |x| x.1));
    awslogs_key(key).unwrap_or_else(|| base_name(key)).to_string()
}

/// The signature in one value: hex text, or a `head-object` response.
fn signature_of(v: &serde_json::Value, what: &str) -> Result<String> {
    if let Some(s) = v.as_str() {
        return Ok(s.to_string());
    }
    let meta = v
        .get("Metadata")
        .with_context(|| format!("{what}: neither hex text nor head-object output"))?;
    if let Some(alg) = meta.get("signature-algorithm").and_then(serde_json::Value::as_str)
        && alg != "SHA256withRSA"
    {
        bail!("{what}: signature-algorithm {alg:?} is not SHA256withRSA");
    }
    meta.get("signature")
        .and_then(serde_json::Value::as_str)
        .map(str::to_string)
        .with_context(|| format!("{what}: no Metadata.signature"))
}

impl Signatures {
    /// The signature saved for a digest whose key (or path) is `key`.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&str> {
        self.by_key
            .get(&lookup_name(key))
            .or_else(|| self.by_key.get(base_name(key)))
            .map(String::as_str)
    }

    /// How many there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// None at all.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    fn insert(&mut self, key: &str, sig: String, what: &str) -> Result<()> {
        let name = lookup_name(key);
        if let Some(old) = self.by_key.get(&name)
            && *old != sig
        {
            bail!("{what}: two different signatures for {key}");
        }
        if let Some(n) = awslogs_key(&name).map(base_name) {
            self.by_key.entry(n.to_string()).or_insert_with(|| sig.clone());
        }
        self.by_key.insert(name, sig);
        Ok(())
    }

    /// Parses a signatures file's text.
    pub fn parse(text: &str, source: &str) -> Result<Signatures> {
        let mut s = Signatures { source: source.to_string(), ..Signatures::default() };
        if let Ok(serde_json::Value::Object(map)) = serde_json::from_str(text) {
            if map.contains_key("key") || map.contains_key("Metadata") {
                // One line of the JSON-lines form (or a lone head-object output).
                s.line(&serde_json::Value::Object(map), "line 1")?;
                return Ok(s);
            }
            for (k, v) in &map {
                let sig = signature_of(v, k)?;
                s.insert(k, sig, k)?;
            }
            return Ok(s);
        }
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let what = format!("line {}", i + 1);
            let v: serde_json::Value =
                serde_json::from_str(line).with_context(|| format!("{what}: not JSON"))?;
            s.line(&v, &what)?;
        }
        Ok(s)
    }

    fn line(&mut self, v: &serde_json::Value, what: &str) -> Result<()> {
        let key = v.get("key").and_then(serde_json::Value::as_str).with_context(|| {
            format!("{what}: no \"key\" naming the digest (a lone head-object output goes in a folder, named after its digest)")
        })?;
        let sig = match v.get("signature") {
            Some(s) => signature_of(s, what)?,
            None => signature_of(v, what)?,
        };
        self.insert(key, sig, what)
    }

    /// Reads a file or a folder of head-object outputs.
    pub fn load(path: &Path) -> Result<Signatures> {
        let shown = path.display().to_string();
        if path.is_dir() {
            let mut s = Signatures { source: shown.clone(), ..Signatures::default() };
            let mut names: Vec<_> = std::fs::read_dir(path)
                .with_context(|| format!("--signatures {shown}"))?
                .collect::<Result<_, _>>()
                .with_context(|| format!("--signatures {shown}"))?;
            names.sort_by_key(std::fs::DirEntry::file_name);
            for e in names {
                let name = e.file_name().to_string_lossy().into_owned();
                let Some(digest) = name.strip_suffix(".json") else { continue };
                let p = e.path();
                let text = std::fs::read_to_string(&p)
                    .with_context(|| format!("--signatures {}", p.display()))?;
                let v: serde_json::Value = serde_json::from_str(&text)
                    .with_context(|| format!("--signatures {}: not JSON", p.display()))?;
                let sig = signature_of(&v, &p.display().to_string())?;
                s.insert(digest, sig, &name)?;
            }
            return Ok(s);
        }
        let text =
            std::fs::read_to_string(path).with_context(|| format!("--signatures {shown}"))?;
        Signatures::parse(&text, &shown).with_context(|| format!("--signatures {shown}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/03/01/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20240301T120510Z.json.gz";

    #[test]
    fn all_forms() {
        let head = r#"{"AcceptRanges":"bytes","Metadata":{"signature":"ab01","signature-algorithm":"SHA256withRSA"}}"#;
        let map = format!(r#"{{"s3://bucket/prefix/{KEY}": {head}}}"#);
        let s = Signatures::parse(&map, "m").unwrap();
        assert_eq!(s.get(&format!("other/{KEY}")), Some("ab01"));
        assert_eq!(s.get(base_name(KEY)), Some("ab01"));
        let lines = format!("{{\"key\":\"{KEY}\",\"signature\":\"cd\"}}\n\n");
        assert_eq!(Signatures::parse(&lines, "l").unwrap().get(KEY), Some("cd"));
        let plain = format!("{{\"{}\":\"ef\"}}", base_name(KEY));
        assert_eq!(Signatures::parse(&plain, "p").unwrap().get(KEY), Some("ef"));
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(format!("{}.json", base_name(KEY))), head).unwrap();
        assert_eq!(Signatures::load(dir.path()).unwrap().get(KEY), Some("ab01"));
    }

    #[test]
    fn refuses_what_it_cannot_place() {
        assert!(Signatures::parse(r#"{"Metadata":{"signature":"ab"}}"#, "x").is_err());
        assert!(Signatures::parse(r#"{"k":{"Metadata":{}}}"#, "x").is_err());
        let alg = r#"{"k":{"Metadata":{"signature":"ab","signature-algorithm":"MD5"}}}"#;
        assert!(Signatures::parse(alg, "x").is_err());
        assert!(
            Signatures::parse(
                "{\"key\":\"a\",\"signature\":\"1\"}\n{\"key\":\"a\",\"signature\":\"2\"}",
                "x"
            )
            .is_err()
        );
        assert!(Signatures::parse("nonsense", "x").is_err());
    }
}
