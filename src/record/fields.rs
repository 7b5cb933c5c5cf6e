//! Reading a few fields of a raw record without building it.
//!
//! An [`Extractor`] is compiled from dotted paths. [`Extractor::extract`] walks the record's
//! text once, descending only into objects on a wanted path and stepping over everything else
//! with the structural skipper ([`super::scan`]); it hands back, per path, where the
//! value found there lies. Nothing is allocated and nothing outside the wanted values is
//! checked.
//!
//! Paths follow the record's nesting (`userIdentity.arn`). What the dotted-path lookups of the
//! rest of the program do with unusual records is subtle (a key that itself holds a dot, a
//! repeated key, a string where an object was expected, escapes in keys), so the extractor does
//! not guess: it reports such a record as [`Extracted::Unusual`] and the caller reads it the
//! slow, exact way.

use super::scan;

/// Compiled dotted paths.
#[derive(Debug, Clone)]
pub struct Extractor {
    root: Node,
    /// Every node (wanted path or a step to one), in creation order.
    nodes: usize,
    /// The node of each path given to [`Extractor::new`], in that order.
    leaves: Vec<usize>,
}

#[derive(Debug, Clone, Default)]
struct Node {
    /// This node's index in the fields.
    id: usize,
    children: Vec<Child>,
}

#[derive(Debug, Clone)]
struct Child {
    key: Box<[u8]>,
    /// The key's length and first bytes ([`head`]): most keys differ there.
    head: (usize, u64),
    node: Node,
}

/// A key's length and its first 8 bytes as a number.
fn head(key: &[u8]) -> (usize, u64) {
    let mut first = [0u8; 8];
    let n = key.len().min(8);
    first[..n].copy_from_slice(&key[..n]);
    (key.len(), u64::from_le_bytes(first))
}

/// What [`Extractor::extract`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extracted {
    /// The fields are filled in.
    Done,
    /// The record is not a plain object on the wanted paths (or not well formed there): read
    /// it another way.
    Unusual,
}

/// Where the values of one record are (byte ranges of its text, by node); reused from record
/// to record.
#[derive(Debug, Default, Clone)]
pub struct Fields {
    spans: Vec<Option<(usize, usize)>>,
}

impl Extractor {
    /// Compiles `paths` (empty segments are dropped; duplicates are fine).
    #[must_use]
    pub fn new<S: AsRef<str>>(paths: &[S]) -> Extractor {
        let mut root = Node::default();
        let mut nodes = 1;
        let leaves = paths
            .iter()
            .map(|p| {
                let mut node = &mut root;
                for seg in p.as_ref().split('.').filter(|s| !s.is_empty()) {
                    let seg = seg.as_bytes();
                    let at = node.children.iter().position(|c| *c.key == *seg);
                    let at = at.unwrap_or_else(|| {
                        let child = Node { id: nodes, children: Vec::new() };
                        nodes += 1;
                        node.children.push(Child { key: seg.into(), head: head(seg), node: child });
                        node.children.len() - 1
                    });
                    node = &mut node.children[at].node;
                }
                node.id
            })
            .collect();
        Extractor { root, nodes, leaves }
    }

    /// The text of the value at the `i`th path given to [`Extractor::new`] (the whole record
    /// for an empty path), if the record has it.
    #[must_use]
    pub fn get<'a>(&self, fields: &Fields, raw: &'a str, i: usize) -> Option<&'a str> {
        let (start, end) = (*fields.spans.get(*self.leaves.get(i)?)?)?;
        raw.get(start..end)
    }

    /// Reads `raw` (one JSON object) into `fields`.
    pub fn extract(&self, raw: &str, fields: &mut Fields) -> Extracted {
        fields.spans.clear();
        fields.spans.resize(self.nodes, None);
        let b = raw.as_bytes();
        let start = scan::skip_ws(b, 0);
        if b.get(start) != Some(&b'{') {
            return Extracted::Unusual;
        }
        match object(b, start, &self.root, &mut fields.spans) {
            Some(end) if scan::skip_ws(b, end) == b.len() => {
                fields.spans[self.root.id] = Some((start, end));
                Extracted::Done
            }
            _ => Extracted::Unusual,
        }
    }
}

/// The object at `raw[i]` (`{`) under `node`: fills in the children found; the index just past
/// it, or `None` when the object is unusual or malformed on a wanted path.
fn object(
    b: &[u8],
    mut i: usize,
    node: &Node,
    out: &mut [Option<(usize, usize)>],
) -> Option<usize> {
    i = scan::skip_ws(b, i + 1);
    if b.get(i) == Some(&b'}') {
        return Some(i + 1);
    }
    loop {
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let key_end = plain_key(b, i)?;
        let key = &b[i + 1..key_end - 1];
        i = scan::skip_ws(b, key_end);
        if b.get(i) != Some(&b':') {
            return None;
        }
        let v = scan::skip_ws(b, i + 1);
        let h = head(key);
        let found =
            node.children.iter().find(|c| c.head == h && c.key[8.min(h.0)..] == key[8.min(h.0)..]);
        let end = match found.map(|c| &c.node) {
            None => scan::skip_value(b, v)?,
            Some(child) => {
                if out[child.id].is_some() {
                    return None; // a repeated key
                }
                let end = match b.get(v) {
                    Some(b'{') if !child.children.is_empty() => object(b, v, child, out)?,
                    // A string where an object is expected may hold JSON (some exporters).
                    Some(b'"') if !child.children.is_empty() => return None,
                    _ => scan::skip_value(b, v)?,
                };
                out[child.id] = Some((v, end));
                end
            }
        };
        i = scan::skip_ws(b, end);
        match b.get(i) {
            Some(b',') => i = scan::skip_ws(b, i + 1),
            Some(b'}') => return Some(i + 1),
            _ => return None,
        }
    }
}

/// `b[i]` opens a key: the index just past it, or `None` when it is cut, or when it holds a dot
/// (it may stand for a whole path) or an escape (it may spell a wanted key). Keys are short:
/// one 16-byte step (a comparison loop that compiles to vector code) usually covers a key.
fn plain_key(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    while let Some(w) = b.get(j..).and_then(<[u8]>::first_chunk::<{ scan::PROBE }>) {
        if let Some(k) = scan::first_of(w, [b'"', b'.', b'\\']) {
            return (w[k] == b'"').then_some(j + k + 1);
        }
        j += scan::PROBE;
    }
    loop {
        match *b.get(j)? {
            b'"' => return Some(j + 1),
            b'.' | b'\\' => return None,
            _ => j += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(paths: &[&str], raw: &str) -> Option<Vec<Option<String>>> {
        let ex = Extractor::new(paths);
        let mut f = Fields::default();
        (ex.extract(raw, &mut f) == Extracted::Done)
            .then(|| (0..paths.len()).map(|i| ex.get(&f, raw, i).map(str::to_string)).collect())
    }

    #[test]
    fn finds_nested_values_as_text() {
        let raw = r#" {"eventName":"CreateUser","userIdentity":{"type":"IAMUser","sessionContext":{"sessionIssuer":{"userName":"r"}}},"n":1.5,"o":{"a":[1,{"b":2}]},"readOnly":true} "#;
        let got = run(
            &[
                "eventName",
                "userIdentity.type",
                "userIdentity.sessionContext.sessionIssuer.userName",
                "userIdentity",
                "n",
                "o.a",
                "o.a.b",
                "readOnly",
                "missing",
                "userIdentity.arn",
            ],
            raw,
        )
        .unwrap();
        let s = |x: &str| Some(x.to_string());
        assert_eq!(got[0], s("\"CreateUser\""));
        assert_eq!(got[1], s("\"IAMUser\""));
        assert_eq!(got[2], s("\"r\""));
        assert!(got[3].as_deref().unwrap().starts_with("{\"type\""));
        assert_eq!(got[4], s("1.5"));
        assert_eq!(got[5], s("[1,{\"b\":2}]"));
        assert_eq!(got[6], None, "arrays are not descended");
        assert_eq!(got[7], s("true"));
        assert_eq!((got[8].as_ref(), got[9].as_ref()), (None, None));
        assert_eq!(run(&[""], "{}").unwrap(), [s("{}")]);
    }

    #[test]
    fn unusual_records_are_left_to_the_caller() {
        let p = &["userIdentity.type", "eventName"];
        // A dotted key, a repeated key, a string on a path, an escaped key, not an object.
        assert_eq!(run(p, r#"{"userIdentity.type":"Root"}"#), None);
        assert_eq!(run(p, r#"{"eventName":"a","eventName":"b"}"#), None);
        assert_eq!(run(p, r#"{"userIdentity":"{\"type\":\"Root\"}"}"#), None);
        assert_eq!(run(p, r#"{"event\u004eame":"a"}"#), None);
        assert_eq!(run(p, "[1]"), None);
        // Broken text on the way: unusual, never a panic.
        for bad in
            [r#"{"eventName":"#, r#"{"eventName" "a"}"#, r#"{"a":1 "b":2}"#, "{", r#"{"a":1}x"#]
        {
            assert_eq!(run(p, bad), None, "{bad}");
        }
        // Keys that share a length and their first 8 bytes are still told apart.
        let got = run(p, r#"{"eventNamX":"no","eventName":"yes"}"#).unwrap();
        assert_eq!(got[1].as_deref(), Some("\"yes\""));
        assert_eq!(run(p, r#"{"eventNamX":"no"}"#).unwrap()[1], None);
        // Dots and escapes off the wanted levels do not matter.
        let ok = r#"{"requestParameters":{"a.b":"\u0041"},"eventName":"x"}"#;
        assert_eq!(run(p, ok).unwrap()[1].as_deref(), Some("\"x\""));
        // A scalar or an array where an object is expected: nothing below it.
        assert_eq!(run(p, r#"{"userIdentity":[{"type":"x"}]}"#).unwrap()[0], None);
        assert_eq!(run(p, r#"{"userIdentity":null}"#).unwrap()[0], None);
    }
}
