//! Records to Arrow arrays, column by column, as [`schema::COLUMNS`] describes them.
//!
//! A record is parsed once: its top-level keys are matched to the table's columns, each value
//! kept as the record's own JSON text ([`RawValue`], borrowed from the file's buffer). Columns
//! are then built from those texts: strings decoded, JSON text columns copied as they are,
//! structs, the `resources` list and the attribute map read from their object's text, level by
//! level, each value read once.
//!
//! Values as Athena's JsonSerDe reads them: a JSON `null` or a missing key is SQL `NULL`; a
//! number or boolean where the table has `STRING` keeps its JSON text (`true`, `1.5`); an
//! object or array where the table has `STRING` keeps its JSON text too; a value whose JSON
//! type does not fit a `STRUCT`, `ARRAY` or `MAP` column (a string where an object belongs) is
//! `NULL` there (the `raw` column keeps the record as delivered).

use super::schema::{self, Column, Type};
use anyhow::{Context, Result};
use arrow_array::{
    ArrayRef, BooleanArray, ListArray, MapArray, RecordBatch, StringArray, StructArray,
};
use arrow_buffer::{NullBuffer, OffsetBuffer};
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef};
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::collections::HashMap;
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
    index: HashMap<&'static str, usize, foldhash::fast::FixedState>,
    children: Vec<Option<Layout>>,
}

impl Layout {
    /// The layout of `cols` (the table: [`schema::COLUMNS`]).
    #[must_use]
    pub fn new(cols: &'static [Column]) -> Layout {
        Layout {
            cols,
            index: cols.iter().enumerate().map(|(i, c)| (c.key, i)).collect(),

            children: cols
                .iter()
                .map(|c| match c.ty {
                    Type::Struct(f) | Type::ArrayOfStruct(f) => Some(Layout::new(f)),
                    _ => None,
                })
                .collect(),
        }
    }

    /// The position of the column read from record key `key`.
    #[must_use]
    pub fn position(&self, key: &str) -> Option<usize> {
        self.index.get(key).copied()
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
            if inner.contains('\\') {
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

/// Builds the array of column type `ty` from one value (or none) per row.
///
/// # Errors
/// Only on text that is not the JSON it was parsed as (which cannot happen).
pub fn build(ty: Type, layout: Option<&Layout>, vals: &[Option<&RawValue>]) -> Result<ArrayRef> {
    Ok(match ty {
        Type::String => Arc::new(
            vals.iter()
                .map(|v| v.map(string_value).transpose().map(Option::flatten))
                .collect::<Result<StringArray>>()?,
        ),
        Type::Json => Arc::new(
            vals.iter()
                .map(|v| v.map(RawValue::get).filter(|t| *t != "null"))
                .collect::<StringArray>(),
        ),
        Type::Boolean => Arc::new(
            vals.iter()
                .map(|v| match v.map(RawValue::get) {
                    Some("true") => Some(true),
                    Some("false") => Some(false),
                    _ => None,
                })
                .collect::<BooleanArray>(),
        ),
        Type::Struct(fields) => {
            let layout = layout.context("a struct column without its layout")?;
            Arc::new(struct_array(fields, layout, vals)?)
        }
        Type::ArrayOfStruct(fields) => {
            let layout = layout.context("a list column without its layout")?;
            let mut offsets = Vec::with_capacity(vals.len());
            let mut valid = Vec::with_capacity(vals.len());
            let mut elements: Vec<Option<&RawValue>> = Vec::new();
            for v in vals {
                match v.filter(|v| v.get().starts_with('[')) {
                    Some(v) => {
                        push_items(v.get(), &mut elements)?;
                        valid.push(true);
                    }
                    None => valid.push(false),
                }
                offsets.push(elements.len());
            }
            let values = struct_array(fields, layout, &elements)?;
            Arc::new(ListArray::try_new(
                list_item(fields),
                OffsetBuffer::from_lengths(lengths(&offsets)),
                Arc::new(values),
                Some(NullBuffer::from(valid)),
            )?)
        }
        Type::MapStringString => {
            let mut offsets = Vec::with_capacity(vals.len());
            let mut valid = Vec::with_capacity(vals.len());
            let mut keys: Vec<Cow<'_, str>> = Vec::new();
            let mut values: Vec<Option<&RawValue>> = Vec::new();
            for v in vals {
                match v.filter(|v| is_object(v)) {
                    Some(v) => {
                        let entries: Vec<(Key<'_>, &RawValue)> = entries(v.get())?;
                        for (k, val) in entries {
                            keys.push(k.0);
                            values.push(Some(val));
                        }
                        valid.push(true);
                    }
                    None => valid.push(false),
                }
                offsets.push(keys.len());
            }
            let DataType::Struct(kv) = map_entries().data_type().clone() else {
                unreachable!("map entries are a struct")
            };
            let entries = StructArray::try_new(
                kv,
                vec![
                    Arc::new(keys.iter().map(|k| Some(k.as_ref())).collect::<StringArray>()),
                    build(Type::String, None, &values)?,
                ],
                None,
            )?;
            Arc::new(MapArray::try_new(
                map_entries(),
                OffsetBuffer::from_lengths(lengths(&offsets)),
                entries,
                Some(NullBuffer::from(valid)),
                false,
            )?)
        }
    })
}

/// Lengths from cumulative ends.
fn lengths(ends: &[usize]) -> Vec<usize> {
    let mut prev = 0;
    ends.iter()
        .map(|&e| {
            let l = e - prev;
            prev = e;
            l
        })
        .collect()
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

/// A struct array from one value per row: an object's fields, or a `NULL` struct for anything
/// else (or nothing). The rows' fields are parsed into one flat buffer, row after row.
fn struct_array(
    fields: &'static [Column],
    layout: &Layout,
    vals: &[Option<&RawValue>],
) -> Result<StructArray> {
    let n = fields.len();
    let mut flat: Vec<Option<&RawValue>> = vec![None; vals.len() * n];
    let mut valid = Vec::with_capacity(vals.len());
    for (r, v) in vals.iter().enumerate() {
        match v.filter(|v| is_object(v)) {
            Some(v) => {
                layout.fill(v.get(), &mut flat[r * n..(r + 1) * n])?;
                valid.push(true);
            }
            None => valid.push(false),
        }
    }
    let mut children = Vec::with_capacity(n);
    let mut column = Vec::with_capacity(vals.len());
    for (i, f) in fields.iter().enumerate() {
        column.clear();
        column.extend(flat.iter().skip(i).step_by(n.max(1)).copied());
        children.push(build(f.ty, layout.children[i].as_ref(), &column)?);
    }
    Ok(StructArray::try_new(struct_fields(fields), children, Some(NullBuffer::from(valid)))?)
}

/// Appends the items of a JSON array (its text) to `out`.
fn push_items<'a>(text: &'a str, out: &mut Vec<Option<&'a RawValue>>) -> serde_json::Result<()> {
    struct Items<'o, 'a>(&'o mut Vec<Option<&'a RawValue>>);
    impl<'de> Visitor<'de> for Items<'_, 'de> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON array")
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            while let Some(item) = seq.next_element::<&'de RawValue>()? {
                self.0.push(Some(item));
            }
            Ok(())
        }
    }
    let mut de = serde_json::Deserializer::from_str(text);
    de::Deserializer::deserialize_seq(&mut de, Items(out))?;
    de.end()
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
    let mut columns = Vec::with_capacity(table.cols.len() + 1);
    for (i, c) in table.cols.iter().enumerate() {
        let vals: Vec<Option<&RawValue>> = rows.iter().map(|r| r[i]).collect();
        columns.push(build(c.ty, table.children[i].as_ref(), &vals)?);
    }
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
    fn escaped_keys_and_repeats() {
        let table = Layout::new(schema::COLUMNS);
        let s = table.slots(r#"{"event\u004eame":"A","eventName":"B"}"#).unwrap();
        let b = batch(&table, &[&s], None).unwrap();
        assert_eq!(col(&b, "eventname").as_string::<i32>().value(0), "B");
        assert!(table.slots("[1]").is_err());
        assert!(table.slots(r#"{"a":1} x"#).is_err());
    }
}
