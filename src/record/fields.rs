//! Reading a few fields of a raw record without building it.
//!
//! An [`Extractor`] is compiled from dotted paths. [`Extractor::extract`] walks the record's
//! text once, descending only into objects on a wanted path and stepping over everything else
//! with the structural skipper ([`super::scan`]); it hands back, per path, where the
//! value found there lies. Nothing is allocated per record and nothing outside the wanted
//! values is checked.
//!
//! Keys come in the same order record after record, so the scratch space ([`Fields`]) keeps,
//! per object on a wanted path, the keys seen there in order; a key equal to the expected one
//! is recognised by comparing a few words of text, without scanning it for its end and looking
//! it up. A key that differs is read the full way and joins the hints. Hints only save work:
//! what is read is the same with or without them (a property test checks it).
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
    node: Node,
}

impl Node {
    fn add(&mut self, key: &[u8], id: usize) -> usize {
        let child = Node { id, ..Node::default() };
        self.children.push(Child { key: key.into(), node: child });
        self.children.len() - 1
    }

    /// The index of the child for `key` (keys recognised by the hints do not come here).
    fn find(&self, key: &[u8]) -> Option<usize> {
        self.children.iter().position(|c| *c.key == *key)
    }
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
    /// Per node: the keys of its object in the records read so far, in their order
    /// ([`Hint`]).
    hints: Vec<Vec<Hint>>,
}

/// A key seen before at a node, in the order keys came: records of one source write their keys
/// in the same order, so the next key is most often the next hint, recognised by comparing
/// words of text instead of scanning the key and looking it up.
#[derive(Debug, Clone, Copy)]
struct Hint {
    /// The key's bytes, zero-padded (keys of at most 32 bytes are hinted).
    words: [u64; 4],
    len: usize,
    /// The index of its child in the node, or `usize::MAX` for a key not wanted.
    child: usize,
}

/// Most hints kept per node (keys in ever-changing orders stop adding hints there).
const MAX_HINTS: usize = 64;

impl Hint {
    fn new(key: &[u8], child: Option<usize>) -> Option<Hint> {
        let mut bytes = [0u8; 32];
        bytes.get_mut(..key.len())?.copy_from_slice(key);
        let words = std::array::from_fn(|j| {
            u64::from_le_bytes(bytes[8 * j..8 * j + 8].try_into().unwrap_or_default())
        });
        Some(Hint { words, len: key.len(), child: child.unwrap_or(usize::MAX) })
    }

    /// Whether the key that opens at `b[i]` (a quote) is this one: the index just past its
    /// closing quote.
    #[inline]
    fn matches(&self, b: &[u8], i: usize) -> Option<usize> {
        let text = b.get(i + 1..)?.first_chunk::<32>()?;
        let end = i + 1 + self.len;
        if b.get(end) != Some(&b'"') {
            return None;
        }
        let mut same = true;
        for j in 0..4 {
            let have = u64::from_le_bytes(text[8 * j..8 * j + 8].try_into().unwrap_or_default());
            let keep = match self.len.saturating_sub(8 * j) {
                0 => 0,
                n if n >= 8 => u64::MAX,
                n => (1u64 << (8 * n)) - 1,
            };
            same &= have & keep == self.words[j];
        }
        same.then_some(end + 1)
    }
}

impl Fields {
    /// Clears the spans for a record read by an extractor of `nodes` nodes (hints are kept
    /// from record to record).
    fn reset(&mut self, nodes: usize) {
        self.spans.clear();
        self.spans.resize(nodes, None);
        self.hints.resize_with(nodes, Vec::new);
    }
}

/// The fields of a document's records, one row per record in order, as [`Extractor::walk`]
/// found them; reused from document to document.
#[derive(Debug, Default, Clone)]
pub struct Table {
    /// Spans per row ([`Extractor`] nodes).
    width: usize,
    /// Row `k` is `spans[k * width..][..width]`, offsets from the record's start.
    spans: Vec<Option<(u32, u32)>>,
    /// Per row: whether the record was unusual (its row is blank).
    unusual: Vec<bool>,
}

/// One record's row of a [`Table`].
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    spans: &'a [Option<(u32, u32)>],
}

impl Table {
    /// Forgets every row.
    pub fn clear(&mut self) {
        self.spans.clear();
        self.unusual.clear();
    }

    /// Rows.
    #[must_use]
    pub fn len(&self) -> usize {
        self.unusual.len()
    }

    /// Whether there are no rows.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.unusual.is_empty()
    }

    /// Row `k`, unless its record was unusual ([`Extracted::Unusual`]: read it another way).
    #[must_use]
    pub fn row(&self, k: usize) -> Option<Row<'_>> {
        if *self.unusual.get(k)? {
            return None;
        }
        Some(Row { spans: self.spans.get(k * self.width..(k + 1) * self.width)? })
    }

    /// Appends the row of a record that starts at `start` and is shorter than 4 GiB (offsets
    /// are kept as `u32`).
    fn push(&mut self, spans: &[Option<(usize, usize)>], start: usize) {
        self.width = spans.len();
        let at = |(a, b): (usize, usize)| ((a - start) as u32, (b - start) as u32);
        self.spans.extend(spans.iter().map(|s| s.map(at)));
        self.unusual.push(false);
    }

    /// Appends a blank row.
    fn push_blank(&mut self, width: usize) {
        self.width = width;
        self.spans.extend(std::iter::repeat_n(None, width));
        self.unusual.push(true);
    }
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
                        nodes += 1;
                        node.add(seg, nodes - 1)
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

    /// The text of the value at the `i`th path in the record `raw` whose row is `row`
    /// ([`Extractor::walk`]).
    #[must_use]
    pub fn get_in<'a>(&self, row: Row<'_>, raw: &'a str, i: usize) -> Option<&'a str> {
        let (start, end) = (*row.spans.get(*self.leaves.get(i)?)?)?;
        raw.get(start as usize..end as usize)
    }

    /// Delimits the record that starts at `b[start]` (`{`) by reading it, as
    /// [`scan::skip_value`] would delimit it, and appends its fields to `table`: a row, or a
    /// blank row when the record is unusual on the wanted paths ([`Extracted::Unusual`]).
    /// The index just past the record, or `None` when it cannot be delimited (no row then).
    /// `fields` is scratch space.
    pub fn walk(
        &self,
        b: &[u8],
        start: usize,
        fields: &mut Fields,
        table: &mut Table,
    ) -> Option<usize> {
        fields.reset(self.nodes);
        if b.get(start) == Some(&b'{') {
            let walked = object(b, start, &self.root, fields);
            if let Some(end) = walked.filter(|end| u32::try_from(end - start).is_ok()) {
                fields.spans[self.root.id] = Some((start, end));
                table.push(&fields.spans, start);
                return Some(end);
            }
        }
        let end = scan::skip_value(b, start)?;
        table.push_blank(self.nodes);
        Some(end)
    }

    /// Reads `raw` (one JSON object) into `fields`.
    pub fn extract(&self, raw: &str, fields: &mut Fields) -> Extracted {
        fields.reset(self.nodes);
        let b = raw.as_bytes();
        let start = scan::skip_ws(b, 0);
        if b.get(start) != Some(&b'{') {
            return Extracted::Unusual;
        }
        match object(b, start, &self.root, fields) {
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
fn object(b: &[u8], mut i: usize, node: &Node, fields: &mut Fields) -> Option<usize> {
    i = scan::skip_ws(b, i + 1);
    if b.get(i) == Some(&b'}') {
        return Some(i + 1);
    }
    // Where this record is in the node's hints.
    let mut cursor = 0;
    loop {
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let hints = &fields.hints[node.id];
        let hinted = |k: usize| hints.get(k).and_then(|h| Some((h.matches(b, i)?, h.child)));
        let (key_end, child) = if let Some((end, child)) = hinted(cursor) {
            cursor += 1;
            (end, child)
        } else if let Some((end, child)) = hinted(cursor + 1) {
            // A key of earlier records that this one does not have.
            cursor += 2;
            (end, child)
        } else {
            let key_end = plain_key(b, i)?;
            let key = &b[i + 1..key_end - 1];
            let child = node.find(key);
            let hints = &mut fields.hints[node.id];
            if hints.len() < MAX_HINTS
                && let Some(hint) = Hint::new(key, child)
            {
                hints.insert(cursor.min(hints.len()), hint);
                cursor += 1;
            }
            (key_end, child.unwrap_or(usize::MAX))
        };
        i = if b.get(key_end) == Some(&b':') { key_end } else { scan::skip_ws(b, key_end) };
        if b.get(i) != Some(&b':') {
            return None;
        }
        let v = scan::skip_ws(b, i + 1);
        let end = match node.children.get(child).map(|c| &c.node) {
            None => skip(b, v)?,
            Some(child) => {
                if fields.spans[child.id].is_some() {
                    return None; // a repeated key
                }
                let end = match b.get(v) {
                    Some(b'{') if !child.children.is_empty() => object(b, v, child, fields)?,
                    // A string where an object is expected may hold JSON (some exporters).
                    Some(b'"') if !child.children.is_empty() => return None,
                    _ => skip(b, v)?,
                };
                fields.spans[child.id] = Some((v, end));
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

/// The value at `b[v]`, skipped as [`scan::skip_value`] does, except that a bare token (a
/// number, a literal, or broken text) holding a quote or an opening bracket is refused: the
/// structural skipper reads those as the start of a string or a container, and a walk must
/// end a record where the skipper would ([`Extractor::walk`]).
#[inline]
fn skip(b: &[u8], v: usize) -> Option<usize> {
    let end = scan::skip_value(b, v)?;
    match b[v] {
        b'"' | b'{' | b'[' => Some(end),
        _ => (!b[v..end].iter().any(|c| matches!(c, b'"' | b'{' | b'['))).then_some(end),
    }
}

/// `b[i]` opens a key: the index just past it, or `None` when it is cut, or when it holds a dot
/// (it may stand for a whole path) or an escape (it may spell a wanted key). Keys are short:
/// one 16-byte step ([`scan::first_of`]) usually covers a key.
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

    #[test]
    fn walking_delimits_records_as_the_skipper_does_and_keeps_rows() {
        let ex = Extractor::new(&["eventName", "userIdentity.type"]);
        let recs = [
            r#"{"eventName":"A","userIdentity":{"type":"Root"},"x":[1,{"y":"}"}]}"#,
            r#"{"userIdentity.type":"dotted","eventName":"B"}"#,
            r#"{"eventName":"C","eventName":"again"}"#,
            r#"{}"#,
        ];
        let text = recs.join(",");
        let b = text.as_bytes();
        let (mut scratch, mut table) = (Fields::default(), Table::default());
        let mut i = 0;
        for rec in recs {
            let end = ex.walk(b, i, &mut scratch, &mut table).unwrap();
            assert_eq!(Some(end), scan::skip_value(b, i));
            assert_eq!(&text[i..end], rec);
            i = end + 1;
        }
        assert_eq!(table.len(), 4);
        let first = table.row(0).unwrap();
        assert_eq!(ex.get_in(first, recs[0], 0), Some("\"A\""));
        assert_eq!(ex.get_in(first, recs[0], 1), Some("\"Root\""));
        // Unusual records get a blank row: the reader reads them the slow way.
        assert!(table.row(1).is_none() && table.row(2).is_none());
        assert_eq!(ex.get_in(table.row(3).unwrap(), recs[3], 0), None);
        assert!(table.row(4).is_none());
        // A record that cannot be delimited adds no row, even when a bare token would let
        // the walk close it: the skipper reads its quote as opening a string.
        assert_eq!(ex.walk(br#"{"eventName":"#, 0, &mut scratch, &mut table), None);
        assert_eq!(ex.walk(br#"{"eventName"::"}""#, 0, &mut scratch, &mut table), None);
        assert_eq!(table.len(), 4);
        table.clear();
        assert!(table.is_empty());
    }

    use proptest::strategy::Strategy;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1024))]

        /// Reading a record delimits it where the skipper does, on well-formed and broken
        /// text alike, and adds a row exactly when it delimits one.
        #[test]
        fn walking_ends_where_the_skipper_does(
            text in r#"\{("(eventName|userIdentity|type|a\.b|x)":|"[a-z\\"{}]{0,4}"|[{}\[\],:\\ 1tn]){0,40}"#,
        ) {
            let ex = Extractor::new(&["eventName", "userIdentity.type", "x"]);
            let (mut scratch, mut table) = (Fields::default(), Table::default());
            let b = text.as_bytes();
            let end = ex.walk(b, 0, &mut scratch, &mut table);
            proptest::prop_assert_eq!(end, scan::skip_value(b, 0));
            proptest::prop_assert_eq!(table.len(), usize::from(end.is_some()));
        }

        /// The key-order hints carried from record to record never change what is read: every
        /// record reads as it does with fresh scratch space.
        #[test]
        fn hints_do_not_change_what_is_read(
            texts in proptest::collection::vec(
                proptest::prop_oneof![
                    // Objects of keys that are wanted, near-wanted (same length or head),
                    // dotted, or long, in varying orders, some nested.
                    proptest::collection::vec(
                        (
                            r#"(eventName|eventNamX|eventNam|userIdentity|type|arn|x|a\.b|requestParametersAndMoreThan32Bytes|sessionCredentialFromConsole)"#,
                            r#"(1|"v"|null|\{"type":"t","arn":"a"\}|\{"type":"u"\}|\[\{"x":1\}\]|"\\"")"#,
                        ),
                        0..8,
                    )
                    .prop_map(|kv| {
                        let body: Vec<String> =
                            kv.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
                        format!("{{{}}}", body.join(","))
                    }),
                    r#"\{("(eventName|userIdentity|type|arn|x)":|"[a-z\\"]{0,3}"|[{}\[\],:\\ 1tn]){0,30}"#,
                ],
                1..12,
            ),
        ) {
            let ex = Extractor::new(&["eventName", "userIdentity.type", "userIdentity.arn", "x"]);
            let mut carried = Fields::default();
            for text in &texts {
                let mut fresh = Fields::default();
                let (a, b) = (ex.extract(text, &mut carried), ex.extract(text, &mut fresh));
                proptest::prop_assert_eq!(a, b, "{}", text);
                if a == Extracted::Done {
                    proptest::prop_assert_eq!(&carried.spans, &fresh.spans, "{}", text);
                }
                let (mut t1, mut t2) = (Table::default(), Table::default());
                let b1 = ex.walk(text.as_bytes(), 0, &mut carried, &mut t1);
                let b2 = ex.walk(text.as_bytes(), 0, &mut Fields::default(), &mut t2);
                proptest::prop_assert_eq!(b1, b2, "{}", text);
                proptest::prop_assert_eq!(&t1.spans, &t2.spans, "{}", text);
                proptest::prop_assert_eq!(&t1.unusual, &t2.unusual, "{}", text);
            }
        }
    }
}
