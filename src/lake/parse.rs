//! A record's values for every column of the lake, at every level, found in one pass over its
//! text: where each value lies ([`Span`]s of the record's text), for the Arrow builders to copy.
//!
//! Two readers give the same answer:
//!
//! - [`Plan::read`] first tries a one-pass reader written for this table: it checks the whole
//!   record's JSON grammar as it goes (every string, escape, number and bracket, the way
//!   serde_json does) and records the values of the table's keys, descending into the struct
//!   columns, the `resources` list and the attribute map on the way. It gives up on anything
//!   unusual (an escape in a key or in a value that has to be decoded, a repeated key, a record
//!   nested deeper than [`MAX_DEPTH`], and of course anything that is not JSON), and the record
//!   is read again by
//! - the exact reader, built on serde_json: the record's keys read as serde_json reads them
//!   (escapes decoded, a repeated key keeping its last value), then each struct, list and map
//!   value read again from its own text. Its answer, or its error, is the record's: a record
//!   the exact reader rejects is named and counted with serde_json's message.
//!
//! So the fast reader only has to be right when it accepts: what it accepts serde_json accepts,
//! and the spans are the same (tested on every fixture record, on mutations of them, and by the
//! `lake_parse` fuzz target).

use super::arrow::{Layout, string_text};
use super::schema::{self, Column, Type};
use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use serde_json::value::RawValue;

/// Where a value lies in its record's text: bytes `start..end`; [`Span::NONE`] when the key
/// is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// The value's first byte.
    pub start: u32,
    /// Just past its last byte.
    pub end: u32,
}

impl Span {
    /// A missing value.
    pub const NONE: Span = Span { start: u32::MAX, end: u32::MAX };

    /// Whether the key was there.
    #[must_use]
    #[inline]
    pub fn is_some(self) -> bool {
        self.start != u32::MAX
    }

    /// The value's text in `record`, when there is one.
    #[must_use]
    #[inline]
    pub fn get(self, record: &str) -> Option<&str> {
        if self.is_some() { record.get(self.start as usize..self.end as usize) } else { None }
    }
}

/// One element of a list column (`resources`): whether it is an object, and its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Item {
    /// The element is an object (else the list holds a `NULL` struct there).
    pub object: bool,
    /// Its fields, by the item plan's node.
    pub spans: [Span; MAX_ITEM_NODES],
}

/// The most nodes an element of a list column has (`resources`: 3).
pub const MAX_ITEM_NODES: usize = 4;

/// Records nested deeper than this are left to the exact reader (which has no limit).
pub const MAX_DEPTH: u32 = 128;

/// A column or struct field, in the plan's preorder.
#[derive(Debug)]
struct Node {
    ty: Type,
    /// For a struct: its fields' keys and nodes.
    scope: Option<Scope>,
    /// For a list or map: its index among the record's lists or maps.
    aux: usize,
}

/// The keys of one object level (the record, or a struct) and the nodes they fill.
#[derive(Debug)]
struct Scope {
    layout: Layout,
    /// Node of each of the layout's columns.
    nodes: Vec<usize>,
}

/// The table (or a list's element) as nodes in preorder: every column and struct field, the
/// fields of a list's elements in a plan of their own.
#[derive(Debug)]
pub struct Plan {
    nodes: Vec<Node>,
    root: Scope,
    /// For each list column: the plan of its elements.
    items: Vec<Plan>,
    maps: usize,
}

/// What a record's values are: spans of its text, by node, and its lists' elements and maps'
/// entries.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Row {
    /// One per node of the plan.
    pub spans: Vec<Span>,
    /// Each list column's elements.
    pub items: Vec<Vec<Item>>,
    /// Each map column's entries: the key's JSON text (quoted) and the value's.
    pub entries: Vec<Vec<(Span, Span)>>,
    /// Read by the fast reader: no string the lake decodes holds an escape (each is the text
    /// between its quotes).
    pub plain: bool,
}

impl Row {
    fn reset(&mut self, plan: &Plan) {
        self.spans.clear();
        self.spans.resize(plan.nodes.len(), Span::NONE);
        self.items.resize_with(plan.items.len(), Vec::new);
        self.items.iter_mut().for_each(Vec::clear);
        self.entries.resize_with(plan.maps, Vec::new);
        self.entries.iter_mut().for_each(Vec::clear);
        self.plain = false;
    }
}

/// A column of the plan as the builders walk it: its type, node, and for structs its fields.
#[derive(Debug, Clone, Copy)]
pub struct NodeRef {
    /// The node's index in [`Row::spans`].
    pub node: usize,
    /// Its list or map index (lists and maps only).
    pub aux: usize,
}

impl Plan {
    /// The plan of the lake's table.
    #[must_use]
    pub fn table() -> Plan {
        Plan::new(schema::COLUMNS, true)
    }

    /// The plan of `cols`; `lists` allows list and map columns (the table; not an element).
    ///
    /// # Panics
    /// On a schema with lists inside lists, or elements of more than [`MAX_ITEM_NODES`] nodes
    /// (the table has neither; every test builds its plan).
    fn new(cols: &'static [Column], lists: bool) -> Plan {
        let mut plan = Plan {
            nodes: Vec::new(),
            root: Scope { layout: Layout::new(cols), nodes: Vec::new() },
            items: Vec::new(),
            maps: 0,
        };
        let root: Vec<usize> = cols.iter().map(|c| plan.add(c, lists)).collect();
        plan.root.nodes = root;
        if !lists {
            assert!(plan.nodes.len() <= MAX_ITEM_NODES, "a list's element has too many fields");
        }
        plan
    }

    fn add(&mut self, c: &'static Column, lists: bool) -> usize {
        let id = self.nodes.len();
        self.nodes.push(Node { ty: c.ty, scope: None, aux: 0 });
        match c.ty {
            Type::Struct(fields) => {
                let nodes = fields.iter().map(|f| self.add(f, lists)).collect();
                self.nodes[id].scope = Some(Scope { layout: Layout::new(fields), nodes });
            }
            Type::ArrayOfStruct(fields) => {
                assert!(lists, "a list inside a list");
                self.nodes[id].aux = self.items.len();
                self.items.push(Plan::new(fields, false));
            }
            Type::MapStringString => {
                assert!(lists, "a map inside a list");
                self.nodes[id].aux = self.maps;
                self.maps += 1;
            }
            Type::String | Type::Json | Type::Boolean => {}
        }
        id
    }

    /// The columns of the top level, in the table's order.
    #[must_use]
    pub fn columns(&self) -> Vec<NodeRef> {
        self.root.nodes.iter().map(|&n| self.node_ref(n)).collect()
    }

    /// The fields of struct node `node`.
    #[must_use]
    pub fn fields(&self, node: usize) -> Vec<NodeRef> {
        self.nodes[node]
            .scope
            .as_ref()
            .map(|s| s.nodes.iter().map(|&n| self.node_ref(n)).collect())
            .unwrap_or_default()
    }

    /// How many list columns a record has.
    #[must_use]
    pub fn lists(&self) -> usize {
        self.items.len()
    }

    /// How many map columns a record has.
    #[must_use]
    pub fn maps(&self) -> usize {
        self.maps
    }

    /// The plan of list `aux`'s elements.
    #[must_use]
    pub fn item_plan(&self, aux: usize) -> &Plan {
        &self.items[aux]
    }

    fn node_ref(&self, node: usize) -> NodeRef {
        NodeRef { node, aux: self.nodes[node].aux }
    }

    /// The node read from top-level key `key`.
    #[must_use]
    pub fn top(&self, key: &str) -> Option<usize> {
        self.root.layout.position(key).map(|i| self.root.nodes[i])
    }

    /// Reads `text` into `row` (cleared first).
    ///
    /// # Errors
    /// When the record is not a JSON object, or a value the lake decodes (a string of a
    /// `STRING` column, a map's key) cannot be: serde_json's message.
    pub fn read(&self, text: &str, row: &mut Row) -> Result<(), String> {
        row.reset(self);
        if u32::try_from(text.len()).is_err() {
            return Err("the record is over 4 GiB, more than the lake's rows hold".into());
        }
        let mut fast = Fast { b: text.as_bytes(), i: 0 };
        if fast.record(self, row).is_ok() {
            row.plain = true;
            return Ok(());
        }
        row.reset(self);
        self.read_exact(text, row).map_err(|e| e.to_string())
    }

    /// The fast reader alone (for tests and the `lake_parse` fuzz target): whether it read
    /// `text` into `row`. When it does, [`Plan::read_exact`] reads the same.
    pub fn read_fast(&self, text: &str, row: &mut Row) -> bool {
        row.reset(self);
        if u32::try_from(text.len()).is_err() {
            return false;
        }
        let ok = Fast { b: text.as_bytes(), i: 0 }.record(self, row).is_ok();
        row.plain = ok;
        ok
    }

    /// The exact reader (see the module's doc), for records under 4 GiB ([`Plan::read`]
    /// checks).
    ///
    /// # Errors
    /// serde_json's, when `text` is not an object or a value the lake decodes cannot be.
    pub fn read_exact(&self, text: &str, row: &mut Row) -> serde_json::Result<()> {
        row.reset(self);
        let base = text.as_ptr() as usize;
        let span = |v: &RawValue| {
            let start = v.get().as_ptr() as usize - base;
            Span { start: start as u32, end: (start + v.get().len()) as u32 }
        };
        exact_object(
            self,
            &self.root,
            text,
            &span,
            &mut row.spans,
            &mut |plan, node, v| match plan.nodes[node].ty {
                Type::ArrayOfStruct(_) if v.get().starts_with('[') => {
                    let items = &mut row.items[plan.nodes[node].aux];
                    let item_plan = &plan.items[plan.nodes[node].aux];
                    for_each_raw(v.get(), |item| {
                        let mut it = Item { object: false, spans: [Span::NONE; MAX_ITEM_NODES] };
                        if item.get().starts_with('{') {
                            it.object = true;
                            exact_object(
                                item_plan,
                                &item_plan.root,
                                item.get(),
                                &span,
                                &mut it.spans,
                                &mut |_, _, _| Ok(()),
                            )?;
                        }
                        items.push(it);
                        Ok(())
                    })
                }
                Type::MapStringString if v.get().starts_with('{') => {
                    let entries = &mut row.entries[plan.nodes[node].aux];
                    for (k, val) in raw_entries(v.get())? {
                        entries.push((span(k), span(val)));
                    }
                    Ok(())
                }
                _ => Ok(()),
            },
        )?;
        self.check(text, row)
    }

    /// Checks that every value the lake decodes can be (serde_json's string decoding refuses
    /// an escaped lone surrogate, which its validation of skipped values lets through).
    fn check(&self, text: &str, row: &Row) -> serde_json::Result<()> {
        let decode = |s: Span| s.get(text).map_or(Ok(()), |t| string_text(t).map(|_| ()));
        for (node, s) in self.nodes.iter().zip(&row.spans) {
            if node.ty == Type::String {
                decode(*s)?;
            }
        }
        for (plan, items) in self.items.iter().zip(&row.items) {
            for it in items {
                for (node, s) in plan.nodes.iter().zip(&it.spans) {
                    if node.ty == Type::String {
                        decode(*s)?;
                    }
                }
            }
        }
        for (k, v) in row.entries.iter().flatten() {
            decode(*k)?;
            decode(*v)?;
        }
        Ok(())
    }
}

/// Reads the object `text` (serde_json, as [`Layout::fill`]) into the spans of `scope`'s nodes,
/// descending into struct values; `other(plan, node, value)` is called for list and map nodes.
fn exact_object<'t>(
    plan: &Plan,
    scope: &Scope,
    text: &'t str,
    span: &dyn Fn(&RawValue) -> Span,
    spans: &mut [Span],
    other: &mut dyn FnMut(&Plan, usize, &'t RawValue) -> serde_json::Result<()>,
) -> serde_json::Result<()> {
    let mut slots: Vec<Option<&'t RawValue>> = vec![None; scope.layout.len()];
    scope.layout.fill(text, &mut slots)?;
    for (&node, slot) in scope.nodes.iter().zip(slots) {
        let Some(v) = slot else { continue };
        spans[node] = span(v);
        match (&plan.nodes[node].scope, plan.nodes[node].ty) {
            (Some(inner), _) if v.get().starts_with('{') => {
                exact_object(plan, inner, v.get(), span, spans, other)?;
            }
            (_, Type::ArrayOfStruct(_) | Type::MapStringString) => other(plan, node, v)?,
            _ => {}
        }
    }
    Ok(())
}

/// An object's entries in order, keys as their JSON text (a repeated key appears twice).
fn raw_entries(text: &str) -> serde_json::Result<Vec<(&RawValue, &RawValue)>> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Vec<(&'de RawValue, &'de RawValue)>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(e) = map.next_entry::<&'de RawValue, &'de RawValue>()? {
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
fn for_each_raw<'a>(
    text: &'a str,
    f: impl FnMut(&'a RawValue) -> serde_json::Result<()>,
) -> serde_json::Result<()> {
    struct Items<F>(F);
    impl<'de, F: FnMut(&'de RawValue) -> serde_json::Result<()>> DeserializeSeed<'de> for Items<F> {
        type Value = ();
        fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_seq(self)
        }
    }
    impl<'de, F: FnMut(&'de RawValue) -> serde_json::Result<()>> Visitor<'de> for Items<F> {
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
    Items(f).deserialize(&mut de)?;
    de.end()
}

/// The fast reader gave up: the exact reader decides.
struct GiveUp;

type Fast_<T> = Result<T, GiveUp>;

/// The one-pass reader (see the module's doc).
struct Fast<'t> {
    b: &'t [u8],
    i: usize,
}

const ONES: u64 = u64::from_le_bytes([1; 8]);
const HIGHS: u64 = ONES * 0x80;

/// Bytes of `v` that end or interrupt a string's plain run: `"`, `\` or a control character.
/// The lowest flagged byte is exact (a borrow only flags bytes above a true match).
#[inline]
const fn special(v: u64) -> u64 {
    const fn zero(x: u64) -> u64 {
        x.wrapping_sub(ONES) & !x & HIGHS
    }
    zero(v ^ (ONES * b'"' as u64))
        | zero(v ^ (ONES * b'\\' as u64))
        | (v.wrapping_sub(ONES * 0x20) & !v & HIGHS)
}

impl<'t> Fast<'t> {
    #[inline]
    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    #[inline]
    fn peek(&self) -> Fast_<u8> {
        self.b.get(self.i).copied().ok_or(GiveUp)
    }

    #[inline]
    fn eat(&mut self, c: u8) -> Fast_<()> {
        if self.peek()? == c {
            self.i += 1;
            Ok(())
        } else {
            Err(GiveUp)
        }
    }

    /// At a `"`: steps over the string, checking it as serde_json does (no control character,
    /// only JSON's escapes); whether it held an escape.
    #[inline]
    fn string(&mut self) -> Fast_<bool> {
        let b = self.b;
        let mut i = self.i + 1;
        let mut escaped = false;
        loop {
            while let Some(w) = b.get(i..i + 8) {
                let m = special(u64::from_le_bytes(w.try_into().map_err(|_| GiveUp)?));
                if m != 0 {
                    i += (m.trailing_zeros() / 8) as usize;
                    break;
                }
                i += 8;
            }
            match *b.get(i).ok_or(GiveUp)? {
                b'"' => {
                    self.i = i + 1;
                    return Ok(escaped);
                }
                b'\\' => {
                    escaped = true;
                    match b.get(i + 1) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i += 2,
                        Some(b'u') => {
                            let hex = b.get(i + 2..i + 6).ok_or(GiveUp)?;
                            if !hex.iter().all(u8::is_ascii_hexdigit) {
                                return Err(GiveUp);
                            }
                            i += 6;
                        }
                        _ => return Err(GiveUp),
                    }
                }
                c if c < 0x20 => return Err(GiveUp),
                _ => i += 1,
            }
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while let Some(b'0'..=b'9') = self.b.get(self.i) {
            self.i += 1;
        }
        self.i - start
    }

    /// A number, as JSON (and serde_json) writes them.
    fn number(&mut self) -> Fast_<()> {
        if self.peek()? == b'-' {
            self.i += 1;
        }
        match self.peek()? {
            b'0' => {
                self.i += 1;
                if let Some(b'0'..=b'9') = self.b.get(self.i) {
                    return Err(GiveUp);
                }
            }
            b'1'..=b'9' => {
                self.digits();
            }
            _ => return Err(GiveUp),
        }
        if self.b.get(self.i) == Some(&b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return Err(GiveUp);
            }
        }
        if let Some(b'e' | b'E') = self.b.get(self.i) {
            self.i += 1;
            if let Some(b'+' | b'-') = self.b.get(self.i) {
                self.i += 1;
            }
            if self.digits() == 0 {
                return Err(GiveUp);
            }
        }
        Ok(())
    }

    fn literal(&mut self, word: &[u8]) -> Fast_<()> {
        if self.b.get(self.i..self.i + word.len()) == Some(word) {
            self.i += word.len();
            Ok(())
        } else {
            Err(GiveUp)
        }
    }

    /// Steps over any value, checking it.
    fn value(&mut self, depth: u32) -> Fast_<()> {
        match self.peek()? {
            b'"' => self.string().map(|_| ()),
            b'{' => {
                if depth >= MAX_DEPTH {
                    return Err(GiveUp);
                }
                self.members(|f| {
                    f.string()?;
                    f.colon()?;
                    f.value(depth + 1)
                })
            }
            b'[' => {
                if depth >= MAX_DEPTH {
                    return Err(GiveUp);
                }
                self.elements(|f| f.value(depth + 1))
            }
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(GiveUp),
        }
    }

    fn colon(&mut self) -> Fast_<()> {
        self.ws();
        self.eat(b':')?;
        self.ws();
        Ok(())
    }

    /// At a `{`: calls `member` at each member's key, then steps over the `}`.
    #[inline]
    fn members(&mut self, mut member: impl FnMut(&mut Self) -> Fast_<()>) -> Fast_<()> {
        self.i += 1;
        self.ws();
        if self.peek()? == b'}' {
            self.i += 1;
            return Ok(());
        }
        loop {
            if self.peek()? != b'"' {
                return Err(GiveUp);
            }
            member(self)?;
            self.ws();
            match self.peek()? {
                b',' => {
                    self.i += 1;
                    self.ws();
                }
                b'}' => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return Err(GiveUp),
            }
        }
    }

    /// At a `[`: calls `element` at each element, then steps over the `]`.
    #[inline]
    fn elements(&mut self, mut element: impl FnMut(&mut Self) -> Fast_<()>) -> Fast_<()> {
        self.i += 1;
        self.ws();
        if self.peek()? == b']' {
            self.i += 1;
            return Ok(());
        }
        loop {
            element(self)?;
            self.ws();
            match self.peek()? {
                b',' => {
                    self.i += 1;
                    self.ws();
                }
                b']' => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return Err(GiveUp),
            }
        }
    }

    /// At a key: the key's text, when it has no escape.
    #[inline]
    fn key(&mut self) -> Fast_<&'t [u8]> {
        let start = self.i + 1;
        if self.string()? {
            return Err(GiveUp);
        }
        let b: &'t [u8] = self.b;
        b.get(start..self.i - 1).ok_or(GiveUp)
    }

    /// A string the lake decodes, or any other value: plain strings only (an escape is left
    /// to the exact reader, which checks that it decodes).
    #[inline]
    fn plain_or_other(&mut self) -> Fast_<()> {
        if self.peek()? == b'"' {
            if self.string()? {
                return Err(GiveUp);
            }
            Ok(())
        } else {
            self.value(1)
        }
    }

    fn span(&self, start: usize) -> Span {
        // Records are under 4 GiB (checked by the caller).
        Span { start: start as u32, end: self.i as u32 }
    }

    /// The whole record.
    fn record(&mut self, plan: &Plan, row: &mut Row) -> Fast_<()> {
        self.ws();
        if self.peek()? != b'{' {
            return Err(GiveUp);
        }
        self.object(plan, &plan.root, &mut row.spans, &mut row.items, &mut row.entries)?;
        self.ws();
        if self.i == self.b.len() { Ok(()) } else { Err(GiveUp) }
    }

    /// At a `{`: an object whose keys `scope` knows.
    fn object(
        &mut self,
        plan: &Plan,
        scope: &Scope,
        spans: &mut [Span],
        items: &mut [Vec<Item>],
        entries: &mut [Vec<(Span, Span)>],
    ) -> Fast_<()> {
        self.members(|f| {
            let key = f.key()?;
            f.colon()?;
            let Some(i) = scope.layout.position_of(key) else {
                return f.value(1);
            };
            let node = scope.nodes[i];
            if spans[node].is_some() {
                // A repeated key: the exact reader keeps the last value.
                return Err(GiveUp);
            }
            let start = f.i;
            let n = &plan.nodes[node];
            match n.ty {
                Type::String => f.plain_or_other()?,
                Type::Json | Type::Boolean => f.value(1)?,
                Type::Struct(_) => match (&n.scope, f.peek()?) {
                    (Some(inner), b'{') => f.object(plan, inner, spans, items, entries)?,
                    _ => f.value(1)?,
                },
                Type::ArrayOfStruct(_) => {
                    if f.peek()? == b'[' {
                        let item_plan = &plan.items[n.aux];
                        let list = &mut items[n.aux];
                        f.elements(|f| {
                            let mut it =
                                Item { object: false, spans: [Span::NONE; MAX_ITEM_NODES] };
                            if f.peek()? == b'{' {
                                it.object = true;
                                f.object(
                                    item_plan,
                                    &item_plan.root,
                                    &mut it.spans,
                                    &mut [],
                                    &mut [],
                                )?;
                            } else {
                                f.value(2)?;
                            }
                            list.push(it);
                            Ok(())
                        })?;
                    } else {
                        f.value(1)?;
                    }
                }
                Type::MapStringString => {
                    if f.peek()? == b'{' {
                        let map = &mut entries[n.aux];
                        f.members(|f| {
                            let k = f.i;
                            f.key()?;
                            let key = f.span(k);
                            f.colon()?;
                            let v = f.i;
                            f.plain_or_other()?;
                            map.push((key, f.span(v)));
                            Ok(())
                        })?;
                    } else {
                        f.value(1)?;
                    }
                }
            }
            spans[node] = f.span(start);
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both readers on `text`: the fast one, when it accepts, agrees with the exact one.
    pub(crate) fn agree(plan: &Plan, text: &str) {
        let mut fast_row = Row::default();
        fast_row.reset(plan);
        let fast = Fast { b: text.as_bytes(), i: 0 }.record(plan, &mut fast_row).is_ok();
        let mut exact_row = Row::default();
        let exact = plan.read_exact(text, &mut exact_row);
        if fast {
            assert!(exact.is_ok(), "fast accepted what serde_json rejects: {text:?}: {exact:?}");
            assert_eq!(fast_row, exact_row, "{text:?}");
        }
        let mut row = Row::default();
        let read = plan.read(text, &mut row);
        assert_eq!(read.is_ok(), exact.is_ok(), "{text:?}");
        if read.is_ok() {
            assert_eq!(row.plain, fast);
            row.plain = false;
            assert_eq!(row, exact_row, "{text:?}");
        }
        if fast {
            // No string the lake decodes needs decoding.
            for (node, s) in plan.nodes.iter().zip(&exact_row.spans) {
                if let (Type::String, Some(t)) = (node.ty, s.get(text)) {
                    assert!(!t.starts_with('"') || !t.contains('\\'), "{text:?}");
                }
            }
        }
    }

    fn fast_accepts(plan: &Plan, text: &str) -> bool {
        let mut row = Row::default();
        row.reset(plan);
        Fast { b: text.as_bytes(), i: 0 }.record(plan, &mut row).is_ok()
    }

    #[test]
    fn the_readers_agree_on_usual_and_unusual_records() {
        let plan = Plan::table();
        let usual = r#"{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","principalId":"AROA:x","arn":"arn:aws:sts::1:assumed-role/r/x","accountId":"1","sessionContext":{"sessionIssuer":{"type":"Role","userName":"r"},"attributes":{"creationDate":"2024-01-01T00:00:00Z","mfaAuthenticated":"false"},"webIdFederationData":{"federatedProvider":"p","attributes":{"a":"b","n":1,"o":{"x":[1]}}}}},"eventTime":"2024-03-01T10:00:00Z","requestParameters":{"a":[1,2.5e-3,-0,true,null,"\u00e9\"x"]},"responseElements":null,"resources":[{"ARN":"arn:1","type":"T"},"x",{"accountId":"2"}],"managementEvent":true,"readOnly":false,"other":{"deep":[[[]]]}}"#;
        assert!(fast_accepts(&plan, usual));
        agree(&plan, usual);
        for text in [
            "{}",
            " { } ",
            "[]",
            "",
            "{",
            r#"{"eventName":"a\u0041"}"#,
            r#"{"event\u004eame":"A","eventName":"B"}"#,
            r#"{"eventName":"A","eventName":"B"}"#,
            r#"{"eventName":"\ud800"}"#,
            r#"{"requestParameters":"\ud800"}"#,
            r#"{"userIdentity":{"sessionContext":{"webIdFederationData":{"attributes":{"\ud800":"x"}}}}}"#,
            r#"{"userIdentity":{"sessionContext":{"webIdFederationData":{"attributes":{"k":"\ud800"}}}}}"#,
            r#"{"userIdentity":{"type":"a","type":"b"}}"#,
            r#"{"userIdentity":{"type":"a"},"userIdentity":"x"}"#,
            r#"{"resources":[{"ARN":"a","ARN":"b"}]}"#,
            r#"{"resources":{"ARN":"a"}}"#,
            r#"{"resources":[1,{"ARN":"\u0041"}]}"#,
            r#"{"a":01}"#,
            r#"{"a":1.}"#,
            r#"{"a":-}"#,
            r#"{"a":1e}"#,
            r#"{"a":1e+5,"b":-0.5E-7}"#,
            r#"{"a":[1,]}"#,
            r#"{"a":{"b":1,}}"#,
            r#"{"a":tru}"#,
            r#"{"a":nulll}"#,
            r#"{"a":"\x"}"#,
            r#"{"a":"\u12"}"#,
            "{\"a\":\"\u{1}\"}",
            "{\"a\":\"tab\there\"}",
            r#"{"a":1} x"#,
            r#"{"a":1}  "#,
            r#"{"eventName":123,"errorCode":{"x":1},"readOnly":[true]}"#,
            r#"{"managementEvent":"true","eventTime":null}"#,
            r#"{"userIdentity":"x","addendum":[],"tlsDetails":{}}"#,
        ] {
            agree(&plan, text);
        }
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(300), "]".repeat(300));
        agree(&plan, &deep);
        assert!(!fast_accepts(&plan, &deep));
    }

    #[test]
    fn every_cut_and_byte_change_of_a_record() {
        let plan = Plan::table();
        let text = r#"{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"a\"b","sessionContext":{"webIdFederationData":{"attributes":{"k":"v"}}}},"resources":[{"ARN":"x"}],"requestParameters":{"n":-1.5e3,"t":[true,false,null]},"eventName":"X"}"#;
        for cut in 0..text.len() {
            if text.is_char_boundary(cut) {
                agree(&plan, &text[..cut]);
            }
        }
        let bytes = text.as_bytes();
        for i in 0..bytes.len() {
            for c in [b'"', b'\\', b'{', b'}', b'[', b']', b',', b':', b' ', b'1', b'e', b'\n', 1] {
                let mut b = bytes.to_vec();
                b[i] = c;
                if let Ok(t) = std::str::from_utf8(&b) {
                    agree(&plan, t);
                }
            }
        }
    }
}
