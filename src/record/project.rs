//! Reading only the fields a query needs from a raw record.
//!
//! A record is about 1.5 KB; a pattern reads a handful of fields. The projection walks the raw
//! text once, builds values only for the kept paths and steps over the rest with a fast
//! skipper ([`super::scan`]). A dotted path `P` is kept when it is a wanted path, lies under one, or leads
//! to one. Keys with dots (`"a.b"`) count as their dotted path, as EventBridge flattens them.

use super::scan;
use rustc_hash::FxHashMap;
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
    /// [`KeepSet::decide`] for keys without a dot, one small map per object the projection
    /// descends into ([`KeepSet::project_checked`]: one lookup of the key instead of several of
    /// its whole dotted path).
    tree: Tree,
}

/// The objects [`KeepSet::project_checked`] descends into: the top level (node 0) and every
/// path that [`KeepSet::decide`] says to descend into, each with the keys (without a dot) it
/// does not drop: their decision and, to descend, their node. A key not there is dropped.
#[derive(Debug, Clone, Default)]
struct Tree {
    nodes: Vec<FxHashMap<Box<str>, (Keep, usize)>>,
    /// The node of each path (as the projection spells it).
    by_path: FxHashMap<String, usize>,
}

/// The dotted path of `key` in the object at `parent` (`""`: the top level), as the projection
/// builds it.
fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() { key.to_string() } else { format!("{parent}.{key}") }
}

impl Tree {
    fn new(k: &KeepSet) -> Tree {
        let mut t = Tree::default();
        if k.all {
            return t;
        }
        // Nodes: the top level, and every path decide() descends into (each is a `lead`).
        t.by_path.insert(String::new(), 0);
        t.nodes.push(FxHashMap::default());
        let mut leads: Vec<&String> = k.lead.iter().collect();
        leads.sort();
        for p in leads {
            if matches!(k.decide(p), Keep::Descend) && !t.by_path.contains_key(p) {
                t.by_path.insert(p.clone(), t.nodes.len());
                t.nodes.push(FxHashMap::default());
            }
        }
        // A kept or leading path `c` is the child `key` of node `parent` when the projection
        // spells `parent` + `key` as `c`.
        let mut children: Vec<&String> = k.keep.iter().chain(&k.lead).collect();
        children.sort();
        children.dedup();
        for c in children {
            let (parent, key) = match c.rfind('.') {
                Some(i) => (&c[..i], &c[i + 1..]),
                None => ("", c.as_str()),
            };
            let Some(&node) = t.by_path.get(parent) else { continue };
            if join(parent, key) != *c {
                continue;
            }
            let decision = k.decide(c);
            let child = match decision {
                Keep::Descend => t.by_path[c.as_str()],
                _ => 0,
            };
            if !matches!(decision, Keep::Drop) {
                t.nodes[node].insert(key.into(), (decision, child));
            }
        }
        t
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
        let mut k = KeepSet {
            all: paths.iter().any(String::is_empty),
            keep: paths.into_iter().collect(),
            lead,
            heads,
            tree: Tree::default(),
        };
        k.tree = Tree::new(&k);
        k
    }

    /// Keeps everything.
    #[must_use]
    pub fn everything() -> KeepSet {
        KeepSet {
            keep: HashSet::default(),
            lead: HashSet::default(),
            all: true,
            heads: Vec::new(),
            tree: Tree::default(),
        }
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

    /// [`KeepSet::decide`] of `path`, the key `key` of the object at `node` (a [`Tree`] node),
    /// and the node of `path` when it is to be descended into.
    #[inline]
    fn decide_in(&self, node: usize, key: &str, path: &str) -> (Keep, usize) {
        if key.contains('.') {
            let d = self.decide(path);
            let child = match d {
                Keep::Descend => self.tree.by_path.get(path).copied().unwrap_or(0),
                _ => 0,
            };
            return (d, child);
        }
        self.tree.nodes[node].get(key).copied().unwrap_or((Keep::Drop, 0))
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

impl KeepSet {
    /// Like [`KeepSet::project`], but the whole record is read by serde_json as
    /// `serde_json::from_str::<Value>` reads it: the same error for the same text (what is not
    /// kept is checked as strictly as what is), the last of repeated keys, and never an early
    /// stop; what is not kept is built into nothing (except in a record holding serde_json's
    /// own raw-value key, which is read whole). So a rule matched on the result decides as on
    /// the whole record, and a record this reads is a record `from_str` reads.
    pub fn project_checked(&self, raw: &str) -> serde_json::Result<Value> {
        if self.all || !raw.trim_start().starts_with('{') {
            return serde_json::from_str(raw);
        }
        let special = std::cell::Cell::new(false);
        let mut de = serde_json::Deserializer::from_str(raw);
        let mut path = String::with_capacity(64);
        let read = serde::de::DeserializeSeed::deserialize(
            checked::Project { keep: self, node: 0, path: &mut path, special: &special },
            &mut de,
        )
        .and_then(|v| de.end().map(|()| v));
        if special.get() {
            // serde_json's Value reads a map keyed by its raw-value token its own way: let it.
            return serde_json::from_str(raw);
        }
        read
    }
}

/// The serde side of [`KeepSet::project_checked`].
mod checked {
    use super::{Keep, KeepSet};
    use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
    use serde_json::{Map, Number, Value};
    use std::borrow::Cow;
    use std::cell::Cell;
    use std::fmt;

    /// The key serde_json's `Value` treats specially (a raw value inside a map): met anywhere,
    /// the record is read again as a whole `Value`.
    const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

    fn flag<E: de::Error>(special: &Cell<bool>) -> E {
        special.set(true);
        E::custom("raw-value key")
    }

    /// A value on a path that leads to kept paths: objects projected, arrays element by
    /// element, scalars as `Value` builds them.
    pub(super) struct Project<'a> {
        pub(super) keep: &'a KeepSet,
        /// The [`super::Tree`] node of `path`.
        pub(super) node: usize,
        pub(super) path: &'a mut String,
        pub(super) special: &'a Cell<bool>,
    }

    impl<'de> DeserializeSeed<'de> for Project<'_> {
        type Value = Value;
        fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
            d.deserialize_any(self)
        }
    }

    impl<'de> Visitor<'de> for Project<'_> {
        type Value = Value;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("any valid JSON value")
        }
        fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
            Ok(Value::Bool(v))
        }
        fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
            Ok(Value::Number(v.into()))
        }
        fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
            Ok(Value::Number(v.into()))
        }
        fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
            Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
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
        fn visit_none<E>(self) -> Result<Value, E> {
            Ok(Value::Null)
        }
        fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
            d.deserialize_any(self)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
            let mut out = Vec::new();
            loop {
                let seed = Project {
                    keep: self.keep,
                    node: self.node,
                    path: &mut *self.path,
                    special: self.special,
                };
                match seq.next_element_seed(seed)? {
                    Some(v) => out.push(v),
                    None => return Ok(Value::Array(out)),
                }
            }
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
            let mut out = Map::new();
            while let Some(key) = map.next_key_seed(Key)? {
                if key == RAW_VALUE_TOKEN {
                    return Err(flag(self.special));
                }
                let len = self.path.len();
                if len > 0 {
                    self.path.push('.');
                }
                self.path.push_str(&key);
                let (decision, child) = self.keep.decide_in(self.node, &key, self.path);
                let value = match decision {
                    Keep::All => Some(map.next_value::<Value>()?),
                    Keep::Descend => Some(map.next_value_seed(Project {
                        keep: self.keep,
                        node: child,
                        path: &mut *self.path,
                        special: self.special,
                    })?),
                    Keep::Drop => {
                        map.next_value_seed(Skip { special: self.special })?;
                        None
                    }
                };
                self.path.truncate(len);
                if let Some(v) = value {
                    out.insert(key.into_owned(), v);
                }
            }
            Ok(Value::Object(out))
        }
    }

    /// A map key, borrowed from the text when it has no escape.
    struct Key;

    impl<'de> DeserializeSeed<'de> for Key {
        type Value = Cow<'de, str>;
        fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_str(self)
        }
    }

    impl<'de> Visitor<'de> for Key {
        type Value = Cow<'de, str>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string key")
        }
        fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
            Ok(Cow::Borrowed(v))
        }
        fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Cow::Owned(v.to_owned()))
        }
        fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
            Ok(Cow::Owned(v))
        }
    }

    /// A value read (and so checked as `Value` reads it: unlike `serde::de::IgnoredAny`,
    /// numbers are parsed, so one out of range is an error here too) and dropped.
    struct Skip<'a> {
        special: &'a Cell<bool>,
    }

    impl<'de> DeserializeSeed<'de> for Skip<'_> {
        type Value = ();
        fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(self)
        }
    }

    impl<'de> Visitor<'de> for Skip<'_> {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("any valid JSON value")
        }
        fn visit_bool<E>(self, _: bool) -> Result<(), E> {
            Ok(())
        }
        fn visit_i64<E>(self, _: i64) -> Result<(), E> {
            Ok(())
        }
        fn visit_u64<E>(self, _: u64) -> Result<(), E> {
            Ok(())
        }
        fn visit_f64<E>(self, _: f64) -> Result<(), E> {
            Ok(())
        }
        fn visit_str<E>(self, _: &str) -> Result<(), E> {
            Ok(())
        }
        fn visit_unit<E>(self) -> Result<(), E> {
            Ok(())
        }
        fn visit_none<E>(self) -> Result<(), E> {
            Ok(())
        }
        fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(self)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            while seq.next_element_seed(Skip { special: self.special })?.is_some() {}
            Ok(())
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            while let Some(key) = map.next_key_seed(Key)? {
                if key == RAW_VALUE_TOKEN {
                    return Err(flag(self.special));
                }
                map.next_value_seed(Skip { special: self.special })?;
            }
            Ok(())
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
    fn checked_projection_reads_as_a_whole_parse() {
        let k = KeepSet::new(["eventName", "userIdentity.type", "a.b"].map(String::from));
        // Kept as `project` keeps them, but the last of repeated keys, and no early stop.
        let raw = r#"{"eventName":"A","userIdentity":{"type":"Root","arn":"x"},"z":[1,{"q":2}],"eventName":"B","a.b":[{"c":1}]}"#;
        assert_eq!(
            k.project_checked(raw).unwrap(),
            json!({"eventName":"B","userIdentity":{"type":"Root"},"a.b":[{"c":1}]})
        );
        // What is not kept is checked as serde_json checks it: the same error, or none.
        for raw in [
            r#"{"eventName":"A","z":1e400}"#,
            r#"{"eventName":"A","z":["\ud800"]}"#,
            r#"{"eventName":"A","z":"\x"}"#,
            r#"{"eventName":"A"} {"#,
            r#"{"eventName":"A","z":{"y":nul}}"#,
            r#"{"eventName":"A","z":"#,
            r#"{"z":{"$serde_json::private::RawValue":3},"eventName":"A"}"#,
            r#"{"z":{"$serde_json::private::RawValue":"{\"x\":1}"},"eventName":"A"}"#,
            r#"{"eventName":"A","z":1.5e300,"w":-0,"v":18446744073709551616}"#,
            r#" [1,2] "#,
            "",
        ] {
            let whole = serde_json::from_str::<Value>(raw).map_err(|e| e.to_string());
            let read = k.project_checked(raw).map_err(|e| e.to_string());
            match (&whole, &read) {
                (Err(a), Err(b)) => assert_eq!(a, b, "{raw}"),
                // What is kept is what the whole value holds (written again: no repeated key).
                (Ok(w), Ok(r)) => assert_eq!(
                    k.project(&r.to_string()).unwrap(),
                    k.project(&w.to_string()).unwrap(),
                    "{raw}"
                ),
                _ => panic!("{raw}: whole {whole:?}, checked {read:?}"),
            }
        }
        let deep = format!(r#"{{"eventName":"A","z":{}{}}}"#, "[".repeat(200), "]".repeat(200));
        assert_eq!(
            serde_json::from_str::<Value>(&deep).unwrap_err().to_string(),
            k.project_checked(&deep).unwrap_err().to_string()
        );
    }

    /// The tree's decision for a key in the object at a node is `decide` of the key's dotted
    /// path, along every walk of keys (dots, empty keys and empty segments included), for many
    /// sets of paths.
    #[test]
    fn tree_decides_as_decide() {
        let words = ["", "a", "b", "ab", ".", "a.b", "b.", ".a", "a..b"];
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for _ in 0..3000 {
            let paths: Vec<String> = (0..1 + next(4))
                .map(|_| {
                    let parts: Vec<&str> =
                        (0..1 + next(3)).map(|_| words[next(words.len())]).collect();
                    parts.join(".")
                })
                .collect();
            let k = KeepSet::new(paths.clone());
            if k.all {
                continue;
            }
            for _ in 0..40 {
                let (mut node, mut path) = (0usize, String::new());
                for _ in 0..4 {
                    let key = words[next(words.len())];
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(key);
                    let old = k.decide(&path);
                    let (new, child) = k.decide_in(node, key, &path);
                    assert_eq!(old, new, "paths {paths:?} path {path:?} key {key:?}");
                    if new != Keep::Descend {
                        break;
                    }
                    node = child;
                    assert_eq!(k.tree.by_path.get(&path), Some(&node), "{paths:?} {path:?}");
                }
            }
        }
    }

    #[test]
    fn deep_nesting_on_a_kept_path_is_an_error_not_a_crash() {
        let deep = format!(r#"{{"a":{}{}}}"#, "[".repeat(100_000), "]".repeat(100_000));
        let err = KeepSet::new(vec!["a.x".into()]).project(&deep).unwrap_err();
        assert!(err.to_string().contains("recursion limit"), "{err}");
        assert_eq!(KeepSet::new(vec!["b".into()]).project(&deep).unwrap(), json!({}));
    }
}
