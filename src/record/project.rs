//! Reading only the fields a query needs from a raw record.
//!
//! A record is about 1.5 KB; a pattern reads a handful of fields. The projection walks the raw
//! text once, builds values only for the kept paths and steps over the rest with a fast
//! skipper ([`super::scan`]). A dotted path `P` is kept when it is a wanted path, lies under one, or leads
//! to one. Keys with dots (`"a.b"`) count as their dotted path, as EventBridge flattens them.

use super::scan;
use rustc_hash::FxHashSet as HashSet;
use serde_json::{Map, Value};
use std::borrow::Cow;

/// The set of dotted paths to keep.
#[derive(Debug, Clone, Default)]
pub struct KeepSet {
    /// The kept paths.
    keep: HashSet<String>,
    /// Every proper dotted prefix of a kept path (paths that lead to one).
    lead: HashSet<String>,
    all: bool,
    /// The distinct first segments of `paths`: once a record's top level has shown all of
    /// them, the rest of the record is skipped unread.
    heads: Vec<String>,
}

enum Keep {
    All,
    Descend,
    Drop,
}

impl KeepSet {
    /// Keeps these dotted paths (duplicates are fine).
    #[must_use]
    pub fn new<I: IntoIterator<Item = String>>(paths: I) -> KeepSet {
        let mut paths: Vec<String> = paths.into_iter().collect();
        paths.sort();
        paths.dedup();
        let mut heads: Vec<String> =
            paths.iter().map(|p| p.split('.').next().unwrap_or(p).to_string()).collect();
        heads.dedup();
        let lead = paths
            .iter()
            .flat_map(|p| p.match_indices('.').map(|(i, _)| p[..i].to_string()))
            .collect();
        KeepSet {
            all: paths.iter().any(String::is_empty),
            keep: paths.into_iter().collect(),
            lead,
            heads,
        }
    }

    /// Keeps everything.
    #[must_use]
    pub fn everything() -> KeepSet {
        KeepSet { keep: HashSet::default(), lead: HashSet::default(), all: true, heads: Vec::new() }
    }

    fn decide(&self, path: &str) -> Keep {
        if self.all || self.keep.contains(path) {
            return Keep::All;
        }
        // Under a kept path?
        for (i, b) in path.bytes().enumerate() {
            if b == b'.' && self.keep.contains(&path[..i]) {
                return Keep::All;
            }
        }
        if self.lead.contains(path) { Keep::Descend } else { Keep::Drop }
    }

    /// Parses `raw` keeping only the wanted paths. The result is an object (or whatever
    /// non-object `raw` is).
    ///
    /// Kept values are parsed (and so checked) by serde_json; the rest is only stepped over by
    /// the structural skipper, and reading stops once every wanted top-level key has been seen,
    /// so damage there goes unnoticed (the engine validates matching records in full). A key
    /// repeated after that point is not seen. Malformed input gives an error, never a panic.
    pub fn project(&self, raw: &str) -> serde_json::Result<Value> {
        if self.all || !raw.trim_start().starts_with('{') {
            return serde_json::from_str(raw);
        }
        let b = raw.as_bytes();
        let start = scan::skip_ws(b, 0);
        let mut path = String::new();
        Ok(self.object(raw, start, &mut path, 0, true)?.0)
    }

    /// The object at `raw[i]` (`{`), projected; and the index just past it (0 after an early
    /// stop at the top level).
    fn object(
        &self,
        raw: &str,
        mut i: usize,
        path: &mut String,
        depth: usize,
        top: bool,
    ) -> serde_json::Result<(Value, usize)> {
        let b = raw.as_bytes();
        if depth > MAX_DEPTH {
            return Err(malformed("recursion limit exceeded"));
        }
        let mut out = Map::new();
        let mut seen = 0usize;
        i = scan::skip_ws(b, i + 1);
        if b.get(i) == Some(&b'}') {
            return Ok((Value::Object(out), i + 1));
        }
        loop {
            if b.get(i) != Some(&b'"') {
                return Err(malformed("expected a key"));
            }
            let key_end = scan::skip_string(b, i).ok_or_else(|| malformed("unterminated key"))?;
            let key: Cow<'_, str> = if b[i + 1..key_end - 1].contains(&b'\\') {
                Cow::Owned(serde_json::from_str(&raw[i..key_end])?)
            } else {
                Cow::Borrowed(&raw[i + 1..key_end - 1])
            };
            i = scan::skip_ws(b, key_end);
            if b.get(i) != Some(&b':') {
                return Err(malformed("expected ':'"));
            }
            let v = scan::skip_ws(b, i + 1);
            let len = path.len();
            if len > 0 {
                path.push('.');
            }
            path.push_str(&key);
            let decision = self.decide(path);
            // A top-level key that is kept or leads to a kept path is one of `heads`.
            let is_head = top && !matches!(decision, Keep::Drop) && !key.contains('.');
            let (value, end) = match decision {
                Keep::Drop => (None, scan::skip_value(b, v).ok_or_else(|| malformed("bad value"))?),
                Keep::All => {
                    let end = scan::skip_value(b, v).ok_or_else(|| malformed("bad value"))?;
                    (Some(parse(&raw[v..end])?), end)
                }
                Keep::Descend => {
                    let (val, end) = self.value(raw, v, path, depth + 1)?;
                    (Some(val), end)
                }
            };
            path.truncate(len);
            if let Some(value) = value {
                out.insert(key.into_owned(), value);
            }
            if is_head {
                seen += 1;
                if seen == self.heads.len() {
                    return Ok((Value::Object(out), 0));
                }
            }
            i = scan::skip_ws(b, end);
            match b.get(i) {
                Some(b',') => i = scan::skip_ws(b, i + 1),
                Some(b'}') => return Ok((Value::Object(out), i + 1)),
                _ => return Err(malformed("expected ',' or '}'")),
            }
        }
    }

    /// Any value at `raw[i]` on a path that leads to kept paths.
    fn value(
        &self,
        raw: &str,
        i: usize,
        path: &mut String,
        depth: usize,
    ) -> serde_json::Result<(Value, usize)> {
        let b = raw.as_bytes();
        match b.get(i) {
            Some(b'{') => self.object(raw, i, path, depth, false),
            Some(b'[') => {
                if depth > MAX_DEPTH {
                    return Err(malformed("recursion limit exceeded"));
                }
                let mut items = Vec::new();
                let mut j = scan::skip_ws(b, i + 1);
                if b.get(j) == Some(&b']') {
                    return Ok((Value::Array(items), j + 1));
                }
                loop {
                    let (item, end) = self.value(raw, j, path, depth + 1)?;
                    items.push(item);
                    j = scan::skip_ws(b, end);
                    match b.get(j) {
                        Some(b',') => j = scan::skip_ws(b, j + 1),
                        Some(b']') => return Ok((Value::Array(items), j + 1)),
                        _ => return Err(malformed("expected ',' or ']'")),
                    }
                }
            }
            _ => {
                let end = scan::skip_value(b, i).ok_or_else(|| malformed("bad value"))?;
                Ok((parse(&raw[i..end])?, end))
            }
        }
    }
}

/// One value's text as a `Value`: plain strings (no escapes) directly, the rest by serde_json.
fn parse(text: &str) -> serde_json::Result<Value> {
    if let Some(inner) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"'))
        && !scan::needs_decoding(inner.as_bytes())
    {
        return Ok(Value::String(inner.to_owned()));
    }
    serde_json::from_str(text)
}

/// Nesting followed along kept paths, as serde_json's own limit.
const MAX_DEPTH: usize = 128;

fn malformed(what: &str) -> serde_json::Error {
    <serde_json::Error as serde::de::Error>::custom(format!("malformed record: {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keeps_paths_under_and_leading() {
        let raw = r#"{"eventName":"X","userIdentity":{"type":"IAMUser","arn":"a","sessionContext":{"x":1}},"requestParameters":{"big":[1,2,3]},"resources":[{"ARN":"r","type":"t"},{"ARN":"s"}],"a.b":1}"#;
        let k = KeepSet::new(
            ["eventName", "userIdentity.sessionContext", "resources.ARN", "a.b"].map(String::from),
        );
        assert_eq!(
            k.project(raw).unwrap(),
            json!({"eventName":"X","userIdentity":{"sessionContext":{"x":1}},"resources":[{"ARN":"r"},{"ARN":"s"}],"a.b":1})
        );
        assert_eq!(KeepSet::new(Vec::new()).project(raw).unwrap(), json!({}));
        assert_eq!(KeepSet::everything().project("[1]").unwrap(), json!([1]));
        assert!(KeepSet::new(vec!["x".into()]).project("{\"y\":").is_err());
        // Stops once every wanted key was seen.
        let k = KeepSet::new(vec!["a".into(), "b.c".into()]);
        assert_eq!(
            k.project(r#"{"b":{"c":1,"d":2},"a":3,"z":[1,2]}"#).unwrap(),
            json!({"b":{"c":1},"a":3})
        );
        // A prefix of a key is not a parent path.
        let k = KeepSet::new(vec!["user".into()]);
        assert_eq!(k.project(r#"{"userIdentity":{"a":1},"user":2}"#).unwrap(), json!({"user":2}));
        // Escaped keys, whitespace, scalars on a leading path, empty containers.
        let k = KeepSet::new(vec!["a b.c".into(), "n.x".into(), "e.x".into()]);
        assert_eq!(
            k.project(" { \"a\\u0020b\" : { \"c\" : [ 1 , 2 ] } , \"n\" : 5 , \"e\" : { } } ")
                .unwrap(),
            json!({"a b":{"c":[1,2]},"n":5,"e":{}})
        );
    }

    #[test]
    fn deep_nesting_on_a_kept_path_is_an_error_not_a_crash() {
        let deep = format!(r#"{{"a":{}{}}}"#, "[".repeat(100_000), "]".repeat(100_000));
        let err = KeepSet::new(vec!["a.x".into()]).project(&deep).unwrap_err();
        assert!(err.to_string().contains("recursion limit"), "{err}");
        assert_eq!(KeepSet::new(vec!["b".into()]).project(&deep).unwrap(), json!({}));
    }
}
