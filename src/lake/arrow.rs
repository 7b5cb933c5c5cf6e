//! Records to Arrow arrays, column by column, as [`schema::COLUMNS`] describes them.
//!
//! A record is read once ([`super::parse`]): where each value of every column lies in its
//! text, at every level (struct fields, the `resources` list's elements, the attribute map's
//! entries). Columns are then built from those places, row by row (a row's text is read while
//! it is in the cache): strings decoded, JSON text columns copied as they are.
//!
//! Values as Athena's JsonSerDe reads them: a JSON `null` or a missing key is SQL `NULL`; a
//! number or boolean where the table has `STRING` keeps its JSON text (`true`, `1.5`); an
//! object or array where the table has `STRING` keeps its JSON text too; a value whose JSON
//! type does not fit a `STRUCT`, `ARRAY` or `MAP` column (a string where an object belongs) is
//! `NULL` there (the `raw` column keeps the record as delivered).

use super::parse::{Item, MAX_ITEM_NODES, NodeRef, Plan, Row, Span};
use super::schema::{self, Column, Type};
use anyhow::{Result, bail};
use arrow_array::builder::{BooleanBuilder, StringBuilder};
use arrow_array::{ArrayRef, ListArray, MapArray, RecordBatch, StringArray, StructArray};
use arrow_buffer::{NullBuffer, OffsetBuffer};
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef};
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::sync::Arc;

/// The Arrow type of a column type.
fn data_type(ty: Type) -> DataType {
    match ty {
        Type::String | Type::Json => DataType::Utf8,
        Type::Boolean => DataType::Boolean,
        Type::Struct(fields) => DataType::Struct(struct_fields(fields)),
        Type::ArrayOfStruct(fields) => DataType::List(list_item(fields)),
        Type::MapStringString => DataType::Map(map_entries(), false),
    }
}

fn struct_fields(cols: &[Column]) -> Fields {
    cols.iter().map(|c| Field::new(c.name, data_type(c.ty), true)).collect()
}

/// The list's element, named `element` as the Parquet LIST specification names it.
fn list_item(fields: &[Column]) -> Arc<Field> {
    Arc::new(Field::new("element", DataType::Struct(struct_fields(fields)), true))
}

/// The map's entries, `key` and `value`, as the Parquet MAP specification names them.
fn map_entries() -> Arc<Field> {
    Arc::new(Field::new(
        "key_value",
        DataType::Struct(Fields::from(vec![
            Field::new("key", DataType::Utf8, false),
            Field::new("value", DataType::Utf8, true),
        ])),
        false,
    ))
}

/// The lake's file schema: [`schema::COLUMNS`], then `raw` when asked for. The partition
/// columns are in the paths, not in the files.
#[must_use]
pub fn file_schema(raw: bool) -> SchemaRef {
    let mut fields: Vec<Field> =
        schema::COLUMNS.iter().map(|c| Field::new(c.name, data_type(c.ty), true)).collect();
    if raw {
        fields.push(Field::new(schema::RAW, DataType::Utf8, true));
    }
    Arc::new(Schema::new(fields))
}

/// A column list with its keys indexed, and the same for its struct fields.
#[derive(Debug)]
pub struct Layout {
    cols: &'static [Column],
    /// The columns' keys by length: `by_len[n]` holds the (key, position) of the keys of `n`
    /// bytes. A record's key is compared with the one or few of its length, no hashing.
    by_len: Vec<Vec<(&'static [u8], usize)>>,
}

/// Whether two keys of the same length are equal, compared eight bytes at a time (the last
/// word overlapping the one before) rather than by a call to `memcmp` per key.
#[inline]
fn same(a: &[u8], b: &[u8]) -> bool {
    debug_assert_eq!(a.len(), b.len());
    let word = |s: &[u8], i: usize| s.get(i..i + 8).and_then(|w| <[u8; 8]>::try_from(w).ok());
    if a.len() < 8 || a.len() != b.len() {
        return a.iter().eq(b);
    }
    let last = a.len() - 8;
    (0..last).step_by(8).chain([last]).all(|i| word(a, i) == word(b, i))
}

impl Layout {
    /// The layout of `cols` (the table: [`schema::COLUMNS`], or a struct's fields).
    #[must_use]
    pub fn new(cols: &'static [Column]) -> Layout {
        let mut by_len: Vec<Vec<(&'static [u8], usize)>> =
            vec![Vec::new(); cols.iter().map(|c| c.key.len() + 1).max().unwrap_or(0)];
        for (i, c) in cols.iter().enumerate() {
            by_len[c.key.len()].push((c.key.as_bytes(), i));
        }
        Layout { cols, by_len }
    }

    /// The position of the column read from record key `key`.
    #[must_use]
    #[inline]
    pub fn position(&self, key: &str) -> Option<usize> {
        self.position_of(key.as_bytes())
    }

    /// [`Layout::position`] of a key's bytes.
    #[must_use]
    #[inline]
    pub fn position_of(&self, key: &[u8]) -> Option<usize> {
        self.by_len.get(key.len())?.iter().find(|(k, _)| same(k, key)).map(|&(_, i)| i)
    }

    /// Parses a JSON object into one slot per column: the value's text, or `None` when the key
    /// is missing. Other keys are checked and skipped; a repeated key keeps its last value.
    pub fn slots<'a>(&self, text: &'a str) -> serde_json::Result<Vec<Option<&'a RawValue>>> {
        let mut slots = vec![None; self.cols.len()];
        self.fill(text, &mut slots)?;
        Ok(slots)
    }

    /// [`Layout::slots`] into `out` (one slot per column, all `None` on entry).
    pub fn fill<'a>(
        &self,
        text: &'a str,
        out: &mut [Option<&'a RawValue>],
    ) -> serde_json::Result<()> {
        let mut de = serde_json::Deserializer::from_str(text);
        SlotsSeed(self, out).deserialize(&mut de)?;
        de.end()
    }

    /// The number of columns.
    #[must_use]
    pub fn len(&self) -> usize {
        self.cols.len()
    }

    /// Whether there are no columns.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.cols.is_empty()
    }
}

struct SlotsSeed<'l, 's, 'a>(&'l Layout, &'s mut [Option<&'a RawValue>]);

impl<'de> DeserializeSeed<'de> for SlotsSeed<'_, '_, 'de> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for SlotsSeed<'_, '_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Key<'de>>()? {
            match self.0.position(&key.0) {
                Some(i) => self.1[i] = Some(map.next_value::<&'de RawValue>()?),
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// An object key or string, borrowed from the text unless it has escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// A `STRING` column's value from the field's JSON text: a string decoded, `null` as `NULL`,
/// anything else as its JSON text.
///
/// # Errors
/// When a string's escapes do not decode (an escaped lone surrogate: serde_json's validation
/// lets it through, its decoding does not).
pub fn string_text(text: &str) -> serde_json::Result<Option<Cow<'_, str>>> {
    match text.as_bytes().first() {
        Some(b'"') => {
            let inner = &text[1..text.len() - 1];
            // Parsed text has no control character in a string: only escapes need decoding.
            if crate::record::scan::needs_decoding(inner.as_bytes()) {
                Ok(Some(Cow::Owned(serde_json::from_str::<String>(text)?)))
            } else {
                Ok(Some(Cow::Borrowed(inner)))
            }
        }
        _ if text == "null" => Ok(None),
        _ => Ok(Some(Cow::Borrowed(text))),
    }
}

/// Records read by a [`Plan`], one after another: each record's text and where its values
/// lie, in flat arrays (no allocation per record).
#[derive(Debug, Default)]
pub struct Records<'a> {
    texts: Vec<&'a str>,
    /// [`Row::plain`], by record.
    plain: Vec<bool>,
    /// Nodes per record.
    width: usize,
    spans: Vec<Span>,
    /// Per record and list column: its elements' range in `items`.
    lists: Vec<(u32, u32)>,
    items: Vec<Item>,
    /// Per record and map column: its entries' range in `entries`.
    maps: Vec<(u32, u32)>,
    entries: Vec<(Span, Span)>,
}

impl<'a> Records<'a> {
    /// Adds a record read into `row`; its index.
    pub fn push(&mut self, text: &'a str, row: &Row) -> usize {
        self.width = row.spans.len();
        self.spans.extend_from_slice(&row.spans);
        for list in &row.items {
            let start = self.items.len() as u32;
            self.items.extend_from_slice(list);
            self.lists.push((start, self.items.len() as u32));
        }
        for map in &row.entries {
            let start = self.entries.len() as u32;
            self.entries.extend_from_slice(map);
            self.maps.push((start, self.entries.len() as u32));
        }
        self.texts.push(text);
        self.plain.push(row.plain);
        self.texts.len() - 1
    }

    /// Record `r`'s text.
    #[must_use]
    pub fn text(&self, r: usize) -> &'a str {
        self.texts[r]
    }

    /// Record `r`'s value at `node`.
    #[must_use]
    pub fn span(&self, r: usize, node: usize) -> Span {
        self.spans[r * self.width + node]
    }

    fn view(&self, r: usize, lists: usize, maps: usize) -> View<'_, 'a> {
        View {
            text: self.texts[r],
            plain: self.plain[r],
            spans: &self.spans[r * self.width..(r + 1) * self.width],
            lists: &self.lists[r * lists..(r + 1) * lists],
            maps: &self.maps[r * maps..(r + 1) * maps],
            records: self,
        }
    }
}

/// One record of [`Records`], as the builders read it.
struct View<'r, 'a> {
    text: &'a str,
    plain: bool,
    spans: &'r [Span],
    lists: &'r [(u32, u32)],
    maps: &'r [(u32, u32)],
    records: &'r Records<'a>,
}

/// A string column, appended to row by row, its buffers sized beforehand ([`Sizes`]).
struct Text(StringBuilder);

impl Text {
    fn new(rows: usize, bytes: usize) -> Text {
        Text(StringBuilder::with_capacity(rows, bytes))
    }

    #[inline]
    fn push(&mut self, v: Option<&str>) {
        match v {
            Some(v) => self.0.append_value(v),
            None => self.0.append_null(),
        }
    }

    fn finish(mut self) -> Result<StringArray> {
        // A column of over 2 GiB in one batch cannot be: the offsets are 32 bits.
        if i32::try_from(self.0.values_slice().len()).is_err() {
            bail!("a column of over 2 GiB in one batch");
        }
        Ok(self.0.finish())
    }
}

/// The bytes each string column of a batch holds at most (its values' JSON text), by node:
/// the builders' buffers are allocated once, not grown row by row.
struct Sizes {
    /// By node of the table's plan.
    nodes: Vec<usize>,
    /// By list, by node of its element's plan; and the elements.
    items: Vec<(Vec<usize>, usize)>,
    /// By map: keys, values and entries.
    maps: Vec<(usize, usize, usize)>,
}

impl Sizes {
    fn of(plan: &Plan, records: &Records<'_>, order: &[usize]) -> Sizes {
        let len = |s: &Span| if s.is_some() { (s.end - s.start) as usize } else { 0 };
        let mut sizes = Sizes {
            nodes: vec![0; records.width],
            items: (0..plan.lists()).map(|_| (vec![0; MAX_ITEM_NODES], 0)).collect(),
            maps: vec![(0, 0, 0); plan.maps()],
        };
        let (lists, maps) = (plan.lists(), plan.maps());
        for &r in order {
            let row = records.view(r, lists, maps);
            for (n, s) in sizes.nodes.iter_mut().zip(row.spans) {
                *n += len(s);
            }
            for ((sum, count), &(a, b)) in sizes.items.iter_mut().zip(row.lists) {
                for it in &records.items[a as usize..b as usize] {
                    for (n, s) in sum.iter_mut().zip(&it.spans) {
                        *n += len(s);
                    }
                }
                *count += (b - a) as usize;
            }
            for ((k, v, count), &(a, b)) in sizes.maps.iter_mut().zip(row.maps) {
                for (ks, vs) in &records.entries[a as usize..b as usize] {
                    *k += len(ks);
                    *v += len(vs);
                }
                *count += (b - a) as usize;
            }
        }
        sizes
    }
}

/// One column's array, built row by row: a row's values are appended to every column while its
/// text is in the cache (built column by column, each column read every row's text again, and
/// half the time went to waiting for memory).
enum Builder {
    /// `STRING`: strings decoded, `null` as `NULL`, anything else as its JSON text.
    String(usize, Text),
    /// JSON text, `null` as `NULL`.
    Json(usize, Text),
    /// `true` and `false`; anything else is `NULL`.
    Boolean(usize, BooleanBuilder),
    /// An object's fields; anything else is a `NULL` struct.
    Struct(usize, Fields_),
    /// An array's elements, each as [`Builder::Struct`]; anything else is a `NULL` list.
    List { node: usize, aux: usize, lengths: Vec<usize>, valid: Vec<bool>, items: Fields_ },
    /// An object's entries, values as [`Builder::String`]; anything else is a `NULL` map.
    Map { node: usize, aux: usize, lengths: Vec<usize>, valid: Vec<bool>, keys: Text, values: Text },
}

/// A struct's fields, one builder each, and which rows hold an object.
#[allow(non_camel_case_types)]
struct Fields_ {
    fields: &'static [Column],
    children: Vec<Builder>,
    valid: Vec<bool>,
}

impl Fields_ {
    fn new(
        plan: &Plan,
        nodes: &[NodeRef],
        fields: &'static [Column],
        rows: usize,
        sizes: &Sizes,
        bytes: &[usize],
    ) -> Fields_ {
        Fields_ {
            fields,
            children: nodes
                .iter()
                .zip(fields)
                .map(|(n, f)| Builder::new(plan, *n, f.ty, rows, sizes, bytes))
                .collect(),
            valid: Vec::with_capacity(rows),
        }
    }

    #[inline]
    fn append(&mut self, object: bool, spans: &[Span], row: &View<'_, '_>) {
        for child in &mut self.children {
            child.append(spans, row);
        }
        self.valid.push(object);
    }

    fn finish(self) -> Result<StructArray> {
        let children = self.children.into_iter().map(Builder::finish).collect::<Result<_>>()?;
        Ok(StructArray::try_new(
            struct_fields(self.fields),
            children,
            Some(NullBuffer::from(self.valid)),
        )?)
    }
}

/// A `STRING` value from its JSON text (checked to decode when the record was read); `plain`:
/// the record's strings hold no escape ([`Row::plain`]), so a string is the text between its
/// quotes, with no need to look for escapes.
#[inline]
fn decoded(text: &str, plain: bool) -> Option<Cow<'_, str>> {
    if plain && text.len() >= 2 && text.starts_with('"') {
        return Some(Cow::Borrowed(&text[1..text.len() - 1]));
    }
    string_text(text).ok().flatten()
}

impl Builder {
    /// A builder of column type `ty` at plan node `n`, for about `rows` rows.
    /// `bytes`: the string bytes of `plan`'s nodes ([`Sizes`]; `sizes` has the lists' and
    /// maps').
    fn new(
        plan: &Plan,
        n: NodeRef,
        ty: Type,
        rows: usize,
        sizes: &Sizes,
        bytes: &[usize],
    ) -> Builder {
        match ty {
            Type::String => Builder::String(n.node, Text::new(rows, bytes[n.node])),
            Type::Json => Builder::Json(n.node, Text::new(rows, bytes[n.node])),
            Type::Boolean => Builder::Boolean(n.node, BooleanBuilder::with_capacity(rows)),
            Type::Struct(fields) => Builder::Struct(
                n.node,
                Fields_::new(plan, &plan.fields(n.node), fields, rows, sizes, bytes),
            ),
            Type::ArrayOfStruct(fields) => {
                let item = plan.item_plan(n.aux);
                let (item_bytes, count) = &sizes.items[n.aux];
                Builder::List {
                    node: n.node,
                    aux: n.aux,
                    lengths: Vec::with_capacity(rows),
                    valid: Vec::with_capacity(rows),
                    items: Fields_::new(item, &item.columns(), fields, *count, sizes, item_bytes),
                }
            }
            Type::MapStringString => {
                let (k, v, count) = sizes.maps[n.aux];
                Builder::Map {
                    node: n.node,
                    aux: n.aux,
                    lengths: Vec::with_capacity(rows),
                    valid: Vec::with_capacity(rows),
                    keys: Text::new(count, k),
                    values: Text::new(count, v),
                }
            }
        }
    }

    /// Appends one row's value: the one at this builder's node of `spans` (the record's, or a
    /// list element's).
    #[inline]
    fn append(&mut self, spans: &[Span], row: &View<'_, '_>) {
        let text = row.text;
        match self {
            Builder::String(node, b) => {
                b.push(spans[*node].get(text).and_then(|t| decoded(t, row.plain)).as_deref());
            }
            Builder::Json(node, b) => b.push(spans[*node].get(text).filter(|t| *t != "null")),
            Builder::Boolean(node, b) => b.append_option(match spans[*node].get(text) {
                Some("true") => Some(true),
                Some("false") => Some(false),
                _ => None,
            }),
            Builder::Struct(node, f) => {
                let object = spans[*node].get(text).is_some_and(|t| t.starts_with('{'));
                f.append(object, spans, row);
            }
            Builder::List { node, aux, lengths, valid, items } => {
                if spans[*node].get(text).is_some_and(|t| t.starts_with('[')) {
                    let (start, end) = row.lists[*aux];
                    let elements = &row.records.items[start as usize..end as usize];
                    for it in elements {
                        items.append(it.object, &it.spans, row);
                    }
                    lengths.push(elements.len());
                    valid.push(true);
                } else {
                    lengths.push(0);
                    valid.push(false);
                }
            }
            Builder::Map { node, aux, lengths, valid, keys, values } => {
                if spans[*node].get(text).is_some_and(|t| t.starts_with('{')) {
                    let (start, end) = row.maps[*aux];
                    let entries = &row.records.entries[start as usize..end as usize];
                    for (k, v) in entries {
                        let key = k.get(text).and_then(|t| decoded(t, row.plain));
                        keys.push(Some(key.as_deref().unwrap_or("")));
                        values.push(v.get(text).and_then(|t| decoded(t, row.plain)).as_deref());
                    }
                    lengths.push(entries.len());
                    valid.push(true);
                } else {
                    lengths.push(0);
                    valid.push(false);
                }
            }
        }
    }

    fn finish(self) -> Result<ArrayRef> {
        Ok(match self {
            Builder::String(_, b) | Builder::Json(_, b) => Arc::new(b.finish()?),
            Builder::Boolean(_, mut b) => Arc::new(b.finish()),
            Builder::Struct(_, f) => Arc::new(f.finish()?),
            Builder::List { lengths, valid, items, .. } => {
                let fields = items.fields;
                Arc::new(ListArray::try_new(
                    list_item(fields),
                    OffsetBuffer::from_lengths(lengths),
                    Arc::new(items.finish()?),
                    Some(NullBuffer::from(valid)),
                )?)
            }
            Builder::Map { lengths, valid, keys, values, .. } => {
                let DataType::Struct(kv) = map_entries().data_type().clone() else {
                    unreachable!("map entries are a struct")
                };
                let entries = StructArray::try_new(
                    kv,
                    vec![Arc::new(keys.finish()?), Arc::new(values.finish()?)],
                    None,
                )?;
                Arc::new(MapArray::try_new(
                    map_entries(),
                    OffsetBuffer::from_lengths(lengths),
                    entries,
                    Some(NullBuffer::from(valid)),
                    false,
                )?)
            }
        })
    }
}

/// The batch of records `order` (indices in `records`, read by `plan`, the table's), with
/// their text as the `raw` column when `raw`.
///
/// # Errors
/// Only when a column would hold over 2 GiB.
pub fn batch(
    plan: &Plan,
    records: &Records<'_>,
    order: &[usize],
    raw: bool,
) -> Result<RecordBatch> {
    let columns = plan.columns();
    let sizes = Sizes::of(plan, records, order);
    let mut builders: Vec<Builder> = columns
        .iter()
        .zip(schema::COLUMNS)
        .map(|(n, c)| Builder::new(plan, *n, c.ty, order.len(), &sizes, &sizes.nodes))
        .collect();
    let (lists, maps) = (plan.lists(), plan.maps());
    for &r in order {
        let row = records.view(r, lists, maps);
        for b in &mut builders {
            b.append(row.spans, &row);
        }
    }
    let mut out = builders.into_iter().map(Builder::finish).collect::<Result<Vec<_>>>()?;
    if raw {
        let bytes = order.iter().map(|&r| records.text(r).len()).sum();
        let mut text = Text::new(order.len(), bytes);
        for &r in order {
            text.push(Some(records.text(r)));
        }
        out.push(Arc::new(text.finish()?));
    }
    Ok(RecordBatch::try_new(file_schema(raw), out)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::Array;
    use arrow_array::cast::AsArray;

    fn one(text: &str, raw: bool) -> RecordBatch {
        let plan = Plan::table();
        let mut row = Row::default();
        plan.read(text, &mut row).unwrap();
        let mut records = Records::default();
        records.push(text, &row);
        batch(&plan, &records, &[0], raw).unwrap()
    }

    fn col<'b>(b: &'b RecordBatch, name: &str) -> &'b ArrayRef {
        b.column_by_name(name).unwrap()
    }

    #[test]
    fn typed_and_json_columns() {
        let text = r#"{"eventVersion":"1.08","eventTime":"2024-03-01T10:00:00Z","readOnly":true,
            "requestParameters": {"userName" : "a\u0062", "n": 1.50},
            "responseElements":null,"eventName":"Create\"User","managementEvent":true,
            "userIdentity":{"type":"IAMUser","sessionContext":{"attributes":{"mfaAuthenticated":"false"},
              "webIdFederationData":{"federatedProvider":"x","attributes":{"k":"v","n":2}}}},
            "resources":[{"ARN":"arn:1","type":"T"},{"accountId":"1"}],"extra":[1,2]}"#;
        let b = one(text, true);
        assert_eq!(b.num_columns(), schema::COLUMNS.len() + 1);
        assert_eq!(col(&b, "eventversion").as_string::<i32>().value(0), "1.08");
        assert_eq!(col(&b, "readonly").as_string::<i32>().value(0), "true");
        assert_eq!(col(&b, "eventname").as_string::<i32>().value(0), "Create\"User");
        assert_eq!(
            col(&b, "requestparameters").as_string::<i32>().value(0),
            r#"{"userName" : "a\u0062", "n": 1.50}"#
        );
        assert!(col(&b, "responseelements").is_null(0));
        assert!(col(&b, "errorcode").is_null(0));
        assert!(col(&b, "managementevent").as_boolean().value(0));
        assert_eq!(col(&b, "raw").as_string::<i32>().value(0), text);
        let ui = col(&b, "useridentity").as_struct();
        assert_eq!(ui.column_by_name("type").unwrap().as_string::<i32>().value(0), "IAMUser");
        assert!(ui.column_by_name("arn").unwrap().is_null(0));
        let sc = ui.column_by_name("sessioncontext").unwrap().as_struct();
        assert!(sc.column_by_name("sessionissuer").unwrap().is_null(0));
        let wif = sc.column_by_name("webidfederationdata").unwrap().as_struct();
        let map = wif.column_by_name("attributes").unwrap().as_map();
        let entries = map.value(0);
        assert_eq!(entries.column(0).as_string::<i32>().value(1), "n");
        assert_eq!(entries.column(1).as_string::<i32>().value(1), "2");
        let res = col(&b, "resources").as_list::<i32>();
        let items = res.value(0);
        let items = items.as_struct();
        assert_eq!(items.len(), 2);
        assert_eq!(items.column_by_name("arn").unwrap().as_string::<i32>().value(0), "arn:1");
        assert!(items.column_by_name("arn").unwrap().is_null(1));
        assert_eq!(items.column_by_name("accountid").unwrap().as_string::<i32>().value(1), "1");
    }

    #[test]
    fn mistyped_values_are_null_where_the_table_has_structure() {
        let b = one(r#"{"userIdentity":"x","resources":{"a":1},"managementEvent":"true"}"#, false);
        assert!(col(&b, "useridentity").is_null(0));
        assert!(col(&b, "resources").is_null(0));
        assert!(col(&b, "managementevent").is_null(0));
        assert_eq!(b.num_columns(), schema::COLUMNS.len());
    }

    #[test]
    fn keys_are_found_by_their_exact_text() {
        let table = Layout::new(schema::COLUMNS);
        for (i, c) in schema::COLUMNS.iter().enumerate() {
            assert_eq!(table.position(c.key), Some(i), "{}", c.key);
            let mut other = c.key.as_bytes().to_vec();
            for k in 0..other.len() {
                other[k] ^= 0x20;
                assert_eq!(table.position(std::str::from_utf8(&other).unwrap()), None);
                other[k] ^= 0x20;
            }
        }
        assert_eq!(table.position(""), None);
        assert_eq!(table.position("sessionCredentialFromConsoleX"), None);
        assert!(same(b"abcdefghijk", b"abcdefghijk") && !same(b"abcdefghijk", b"abcdefgh1jk"));
    }

    #[test]
    fn escaped_keys_and_repeats() {
        let table = Layout::new(schema::COLUMNS);
        let b = one(r#"{"event\u004eame":"A","eventName":"B"}"#, false);
        assert_eq!(col(&b, "eventname").as_string::<i32>().value(0), "B");
        assert!(table.slots("[1]").is_err());
        assert!(table.slots(r#"{"a":1} x"#).is_err());
    }
}
