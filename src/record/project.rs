//! Reading only the fields a query needs from a raw record.
//!
//! A record is about 1.5 KB; a pattern reads a handful of fields. The projection walks the raw
//! text once, builds values only for the kept paths and skips the rest unparsed
//! (`IgnoredAny`). A dotted path `P` is kept when it is a wanted path, lies under one, or leads
//! to one. Keys with dots (`"a.b"`) count as their dotted path, as EventBridge flattens them.

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::fmt;

/// The set of dotted paths to keep.
#[derive(Debug, Clone, Default)]
pub struct KeepSet {
    paths: Vec<String>,
    all: bool,
    /// The distinct first segments of `paths`: once a record's top level has shown all of
    /// them, the rest of the record is skipped unread (it was validated when it was split).
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
        KeepSet { all: paths.iter().any(String::is_empty), paths, heads }
    }

    /// Keeps everything.
    #[must_use]
    pub fn everything() -> KeepSet {
        KeepSet { paths: Vec::new(), all: true, heads: Vec::new() }
    }

    fn decide(&self, path: &str) -> Keep {
        if self.all {
            return Keep::All;
        }
        let mut descend = false;
        for p in &self.paths {
            if let Some(rest) = path.strip_prefix(p.as_str())
                && (rest.is_empty() || rest.starts_with('.'))
            {
                return Keep::All;
            }
            if let Some(rest) = p.strip_prefix(path)
                && rest.starts_with('.')
            {
                descend = true;
            }
        }
        if descend { Keep::Descend } else { Keep::Drop }
    }

    /// Parses `raw` keeping only the wanted paths. The result is an object (or whatever
    /// non-object `raw` is).
    ///
    /// `raw` must be one JSON value that was already validated (as the splitter does): the
    /// projection stops reading once every wanted top-level key has been seen, so what comes
    /// after is not checked again. A key repeated after that point is not seen.
    pub fn project(&self, raw: &str) -> serde_json::Result<Value> {
        if self.all {
            return serde_json::from_str(raw);
        }
        let mut path = String::new();
        let mut early: Option<Value> = None;
        let mut de = serde_json::Deserializer::from_str(raw);
        let top = Top { keep: self, path: &mut path, early: &mut early };
        match top.deserialize(&mut de) {
            Ok(v) => {
                de.end()?;
                Ok(v)
            }
            Err(e) => early.ok_or(e),
        }
    }
}

/// The record's top level: like [`Proj`], but stops once all wanted keys were seen.
struct Top<'k, 'p> {
    keep: &'k KeepSet,
    path: &'p mut String,
    early: &'p mut Option<Value>,
}

impl<'de> DeserializeSeed<'de> for Top<'_, '_> {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Top<'_, '_> {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        let mut seen = 0usize;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            let is_head = !key.contains('.') && self.keep.heads.iter().any(|h| *h == *key);
            self.path.clear();
            self.path.push_str(&key);
            match self.keep.decide(self.path) {
                Keep::All => {
                    out.insert(key.into_owned(), map.next_value()?);
                }
                Keep::Descend => {
                    let v = map.next_value_seed(Proj { keep: self.keep, path: self.path })?;
                    out.insert(key.into_owned(), v);
                }
                Keep::Drop => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            if is_head {
                seen += 1;
                if seen == self.keep.heads.len() {
                    *self.early = Some(Value::Object(out));
                    return Err(serde::de::Error::custom("projection complete"));
                }
            }
        }
        Ok(Value::Object(out))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Value, A::Error> {
        Proj { keep: self.keep, path: self.path }.visit_seq(seq)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
}

struct Proj<'k, 'p> {
    keep: &'k KeepSet,
    path: &'p mut String,
}

impl<'de> DeserializeSeed<'de> for Proj<'_, '_> {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Proj<'_, '_> {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            let len = self.path.len();
            if len > 0 {
                self.path.push('.');
            }
            self.path.push_str(&key);
            match self.keep.decide(self.path) {
                Keep::All => {
                    out.insert(key.into_owned(), map.next_value()?);
                }
                Keep::Descend => {
                    let v = map.next_value_seed(Proj { keep: self.keep, path: self.path })?;
                    out.insert(key.into_owned(), v);
                }
                Keep::Drop => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            self.path.truncate(len);
        }
        Ok(Value::Object(out))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) =
            seq.next_element_seed(Proj { keep: self.keep, path: &mut *self.path })?
        {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
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
    }
}
