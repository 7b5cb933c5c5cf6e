//! Records to Arrow arrays, column by column, as [`schema::COLUMNS`] describes them.
//!
//! A record is parsed once: its top-level keys are matched to the table's columns, each value
//! kept as the record's own JSON text ([`RawValue`], borrowed from the file's buffer). Columns
//! are then built from those texts, row by row (a row's text is read while it is in the cache):
//! strings decoded, JSON text columns copied as they are, structs, the `resources` list and the
//! attribute map read from their object's text, level by level, each value read once.
//!
//! Values as Athena's JsonSerDe reads them: a JSON `null` or a missing key is SQL `NULL`; a
//! number or boolean where the table has `STRING` keeps its JSON text (`true`, `1.5`); an
//! object or array where the table has `STRING` keeps its JSON text too; a value whose JSON
//! type does not fit a `STRUCT`, `ARRAY` or `MAP` column (a string where an object belongs) is
//! `NULL` there (the `raw` column keeps the record as delivered).

use super::schema::{self, Column, Type};
use anyhow::{Context, Result};
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
    children: Vec<Option<Layout>>,
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

/// The most fields a struct column has: struct values are parsed into a slot array of this size
/// on the stack.
const MAX_FIELDS: usize = 16;

impl Layout {
    /// The layout of `cols` (the table: [`schema::COLUMNS`]).
    ///
    /// # Panics
    /// When a struct has more than 16 fields (the schema's have at most 9; every test builds the
    /// table's layout).
    #[must_use]
    pub fn new(cols: &'static [Column]) -> Layout {
        let mut by_len: Vec<Vec<(&'static [u8], usize)>> =
            vec![Vec::new(); cols.iter().map(|c| c.key.len() + 1).max().unwrap_or(0)];
        for (i, c) in cols.iter().enumerate() {
            by_len[c.key.len()].push((c.key.as_bytes(), i));
        }
        Layout {
            cols,
            by_len,
            children: cols
                .iter()
                .map(|c| match c.ty {
                    Type::Struct(f) | Type::ArrayOfStruct(f) => {
                        assert!(f.len() <= MAX_FIELDS, "{}: too many fields", c.name);
                        Some(Layout::new(f))
                    }
                    _ => None,
                })
                .collect(),
        }
    }

    /// The position of the column read from record key `key`.
    #[must_use]
    #[inline]
    pub fn position(&self, key: &str) -> Option<usize> {
        let key = key.as_bytes();
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
/// Never for text that came from a parsed record (it is valid JSON).
pub fn string_value(raw: &RawValue) -> Result<Option<Cow<'_, str>>> {
    let text = raw.get();
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

/// Whether the value's JSON text is an object.
fn is_object(raw: &RawValue) -> bool {
    raw.get().starts_with('{')
}

/// One column's array, built row by row: a row's values are appended to every column while its
/// text is in the cache (built column by column, each column read every row's text again, and
/// half the time went to waiting for memory).
enum Builder {
    /// `STRING`: strings decoded, `null` as `NULL`, anything else as its JSON text.
    String(StringBuilder),
    /// JSON text, `null` as `NULL`.
    Json(StringBuilder),
    /// `true` and `false`; anything else is `NULL`.
    Boolean(BooleanBuilder),
    /// An object's fields; anything else is a `NULL` struct.
    Struct(Fields_),
    /// An array's items, each as [`Builder::Struct`]; anything else is a `NULL` list.
    List { lengths: Vec<usize>, valid: Vec<bool>, items: Fields_ },
    /// An object's entries, values as [`Builder::String`]; anything else is a `NULL` map.
    Map { lengths: Vec<usize>, valid: Vec<bool>, keys: StringBuilder, values: StringBuilder },
}

/// A struct's fields, one builder each, and which rows hold an object.
#[allow(non_camel_case_types)]
struct Fields_ {
    fields: &'static [Column],
    children: Vec<Builder>,
    valid: Vec<bool>,
}

impl Fields_ {
    fn new(fields: &'static [Column], rows: usize) -> Fields_ {
        Fields_ {
            fields,
            children: fields.iter().map(|f| Builder::new(f.ty, rows)).collect(),
            valid: Vec::with_capacity(rows),
        }
    }

    fn append(&mut self, layout: &Layout, v: Option<&RawValue>) -> Result<()> {
        let mut slots = [None; MAX_FIELDS];
        let slots = &mut slots[..self.fields.len()];
        let object = v.filter(|v| is_object(v));
        if let Some(v) = object {
            layout.fill(v.get(), slots)?;
        }
        for ((child, layout), slot) in self.children.iter_mut().zip(&layout.children).zip(slots) {
            child.append(layout.as_ref(), *slot)?;
        }
        self.valid.push(object.is_some());
        Ok(())
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

impl Builder {
    /// A builder of column type `ty` for about `rows` rows.
    fn new(ty: Type, rows: usize) -> Builder {
        match ty {
            Type::String => Builder::String(StringBuilder::with_capacity(rows, 1024)),
            Type::Json => Builder::Json(StringBuilder::with_capacity(rows, 1024)),
            Type::Boolean => Builder::Boolean(BooleanBuilder::with_capacity(rows)),
            Type::Struct(fields) => Builder::Struct(Fields_::new(fields, rows)),
            Type::ArrayOfStruct(fields) => Builder::List {
                lengths: Vec::with_capacity(rows),
                valid: Vec::with_capacity(rows),
                items: Fields_::new(fields, 0),
            },
            Type::MapStringString => Builder::Map {
                lengths: Vec::with_capacity(rows),
                valid: Vec::with_capacity(rows),
                keys: StringBuilder::with_capacity(0, 1024),
                values: StringBuilder::with_capacity(0, 1024),
            },
        }
    }

    /// Appends one row's value (or none); `layout` is the struct's, for struct and list
    /// columns.
    ///
    /// # Errors
    /// Only on text that is not the JSON it was parsed as (which cannot happen).
    fn append(&mut self, layout: Option<&Layout>, v: Option<&RawValue>) -> Result<()> {
        match self {
            Builder::String(b) => b.append_option(v.map(string_value).transpose()?.flatten()),
            Builder::Json(b) => b.append_option(v.map(RawValue::get).filter(|t| *t != "null")),
            Builder::Boolean(b) => b.append_option(match v.map(RawValue::get) {
                Some("true") => Some(true),
                Some("false") => Some(false),
                _ => None,
            }),
            Builder::Struct(f) => {
                f.append(layout.context("a struct column without its layout")?, v)?;
            }
            Builder::List { lengths, valid, items } => {
                let layout = layout.context("a list column without its layout")?;
                match v.filter(|v| v.get().starts_with('[')) {
                    Some(v) => {
                        let mut n = 0;
                        for_each_item(v.get(), |item| {
                            n += 1;
                            items.append(layout, Some(item))
                        })?;
                        lengths.push(n);
                        valid.push(true);
                    }
                    None => {
                        lengths.push(0);
                        valid.push(false);
                    }
                }
            }
            Builder::Map { lengths, valid, keys, values } => match v.filter(|v| is_object(v)) {
                Some(v) => {
                    let entries: Vec<(Key<'_>, &RawValue)> = entries(v.get())?;
                    lengths.push(entries.len());
                    for (k, val) in entries {
                        keys.append_value(k.0);
                        values.append_option(string_value(val)?);
                    }
                    valid.push(true);
                }
                None => {
                    lengths.push(0);
                    valid.push(false);
                }
            },
        }
        Ok(())
    }

    fn finish(self) -> Result<ArrayRef> {
        Ok(match self {
            Builder::String(mut b) | Builder::Json(mut b) => Arc::new(b.finish()),
            Builder::Boolean(mut b) => Arc::new(b.finish()),
            Builder::Struct(f) => Arc::new(f.finish()?),
            Builder::List { lengths, valid, items } => {
                let fields = items.fields;
                Arc::new(ListArray::try_new(
                    list_item(fields),
                    OffsetBuffer::from_lengths(lengths),
                    Arc::new(items.finish()?),
                    Some(NullBuffer::from(valid)),
                )?)
            }
            Builder::Map { lengths, valid, mut keys, mut values } => {
                let DataType::Struct(kv) = map_entries().data_type().clone() else {
                    unreachable!("map entries are a struct")
                };
                let entries = StructArray::try_new(
                    kv,
                    vec![Arc::new(keys.finish()), Arc::new(values.finish())],
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

/// An object's entries in order (a repeated key appears twice, as in the text).
fn entries(text: &str) -> serde_json::Result<Vec<(Key<'_>, &RawValue)>> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Vec<(Key<'de>, &'de RawValue)>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(e) = map.next_entry::<Key<'de>, &'de RawValue>()? {
                out.push(e);
            }
            Ok(out)
        }
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let out = de::Deserializer::deserialize_map(&mut de, V)?;
    de.end()?;
    Ok(out)
}

/// Calls `f` with each item of a JSON array (its text), in order.
fn for_each_item<'a>(text: &'a str, f: impl FnMut(&'a RawValue) -> Result<()>) -> Result<()> {
    struct Items<F>(F);
    impl<'de, F: FnMut(&'de RawValue) -> Result<()>> Visitor<'de> for Items<F> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON array")
        }
        fn visit_seq<A: de::SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
            while let Some(item) = seq.next_element::<&'de RawValue>()? {
                (self.0)(item).map_err(de::Error::custom)?;
            }
            Ok(())
        }
    }
    let mut de = serde_json::Deserializer::from_str(text);
    de::Deserializer::deserialize_seq(&mut de, Items(f))?;
    de.end()?;
    Ok(())
}

/// The batch of `rows` (each the record's top-level slots, [`Layout::slots`] of the table),
/// with `raws` as the `raw` column when given.
///
/// # Errors
/// Only on text that is not the JSON it was parsed as (which cannot happen).
pub fn batch(
    table: &Layout,
    rows: &[&[Option<&RawValue>]],
    raws: Option<&[&str]>,
) -> Result<RecordBatch> {
    let mut builders: Vec<Builder> =
        table.cols.iter().map(|c| Builder::new(c.ty, rows.len())).collect();
    for row in rows {
        for ((b, layout), v) in builders.iter_mut().zip(&table.children).zip(*row) {
            b.append(layout.as_ref(), *v)?;
        }
    }
    let mut columns = builders.into_iter().map(Builder::finish).collect::<Result<Vec<_>>>()?;
    if let Some(raws) = raws {
        columns.push(Arc::new(raws.iter().map(|r| Some(*r)).collect::<StringArray>()));
    }
    Ok(RecordBatch::try_new(file_schema(raws.is_some()), columns)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::Array;
    use arrow_array::cast::AsArray;

    fn one(text: &str, raw: bool) -> RecordBatch {
        let table = Layout::new(schema::COLUMNS);
        let slots = table.slots(text).unwrap();
        batch(&table, &[&slots], raw.then_some(&[text][..])).unwrap()
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
        let s = table.slots(r#"{"event\u004eame":"A","eventName":"B"}"#).unwrap();
        let b = batch(&table, &[&s], None).unwrap();
        assert_eq!(col(&b, "eventname").as_string::<i32>().value(0), "B");
        assert!(table.slots("[1]").is_err());
        assert!(table.slots(r#"{"a":1} x"#).is_err());
    }
}
