//! Sigma detections compiled into patterns: each selection becomes sub-rules of the compiled
//! pattern (a map is a conjunction, a list of maps a disjunction); the condition combines them.
//! Where the condition has no `not` and no field reference the whole detection is one pattern
//! (its sub-rules are the condition's disjunctive normal form); otherwise it is a boolean tree
//! whose leaves are patterns and field references, each evaluated with the matcher.

use super::condition::Cond;
use crate::pattern::Pattern;
use crate::pattern::ast::{Alt, Cmp};
use crate::pattern::compile::MAX_SUB_RULES;
use crate::pattern::num::NumLit;
use crate::pattern::ops::Cidr;
use crate::pattern::text::{GlobTok, TextGlob, TextRegex, value_text};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;
use std::collections::BTreeMap;

/// Placeholders for the `expand` modifier: name (without `%`) to values.
pub type Placeholders = BTreeMap<String, Vec<String>>;

/// A conjunction of field tests (path, alternatives OR-ed); paths unique.
pub(crate) type Draft = Vec<(String, Vec<Alt>)>;

/// A Sigma `fieldref`: some value at `field` equals some value at `other` (their texts,
/// case-sensitively, as pySigma's backends compare two fields).
#[derive(Debug, Clone)]
pub struct FieldRef {
    field: String,
    other: String,
    /// A pattern reading both paths, used only to collect their values as the matcher does.
    reader: Pattern,
}

impl FieldRef {
    fn new(field: &str, other: &str) -> Result<FieldRef, String> {
        let mut conj = vec![(field.to_string(), vec![Alt::Exists(true)])];
        if other != field {
            conj.push((other.to_string(), vec![Alt::Exists(true)]));
        }
        let reader = Pattern::from_dnf(vec![conj]).map_err(|e| e.to_string())?;
        Ok(FieldRef { field: field.to_string(), other: other.to_string(), reader })
    }

    fn matches(&self, record: &Value) -> bool {
        let vals = self.reader.values_at(record, &[&self.field, &self.other]);
        let (a, b) =
            if self.field == self.other { (&vals[0], &vals[0]) } else { (&vals[0], &vals[1]) };
        a.iter()
            .filter_map(|x| value_text(x))
            .any(|x| b.iter().any(|y| value_text(y) == Some(x.clone())))
    }
}

/// The compiled detection: a boolean tree over patterns and field references.
#[derive(Debug, Clone)]
pub enum Expr {
    /// A compiled pattern (one or more sub-rules).
    Pattern(Pattern),
    /// A field reference test.
    FieldRef(FieldRef),
    /// All of.
    And(Vec<Expr>),
    /// Any of.
    Or(Vec<Expr>),
    /// Not.
    Not(Box<Expr>),
}

impl Expr {
    /// Does the record match?
    #[must_use]
    pub fn matches(&self, record: &Value) -> bool {
        match self {
            Expr::Pattern(p) => p.matches(record),
            Expr::FieldRef(f) => f.matches(record),
            Expr::And(v) => v.iter().all(|e| e.matches(record)),
            Expr::Or(v) => v.iter().any(|e| e.matches(record)),
            Expr::Not(e) => !e.matches(record),
        }
    }

    /// Every dotted field path the tree reads (its patterns' and field references'): a
    /// record keeping these (as [`crate::record::KeepSet`] keeps them) matches as it does whole.
    #[must_use]
    pub fn field_paths(&self) -> Vec<String> {
        match self {
            Expr::Pattern(p) => p.field_paths(),
            Expr::FieldRef(f) => f.reader.field_paths(),
            Expr::And(v) | Expr::Or(v) => v.iter().flat_map(Expr::field_paths).collect(),
            Expr::Not(e) => e.field_paths(),
        }
    }

    /// How many patterns the tree holds (1 when the detection is a single pattern).
    #[must_use]
    pub fn patterns(&self) -> usize {
        match self {
            Expr::Pattern(_) => 1,
            Expr::FieldRef(_) => 0,
            Expr::And(v) | Expr::Or(v) => v.iter().map(Expr::patterns).sum(),
            Expr::Not(e) => e.patterns(),
        }
    }

    /// A readable form, for `--explain`-style output and tests.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Expr::Pattern(p) => p.to_string(),
            Expr::FieldRef(f) => format!("fieldref({} = {})", f.field, f.other),
            Expr::And(v) => {
                format!("and({})", v.iter().map(Expr::describe).collect::<Vec<_>>().join(", "))
            }
            Expr::Or(v) => {
                format!("or({})", v.iter().map(Expr::describe).collect::<Vec<_>>().join(", "))
            }
            Expr::Not(e) => format!("not({})", e.describe()),
        }
    }
}

/// The tree before its leaves are compiled.
#[derive(Debug, Clone)]
enum Tree {
    Dnf(Vec<Draft>),
    Ref(FieldRef),
    And(Vec<Tree>),
    Or(Vec<Tree>),
    Not(Box<Tree>),
}

/// A detection: its tree and, for the query, a pattern every match matches (the positive part).
pub(crate) struct Compiled {
    pub(crate) expr: Expr,
    /// `None` when some match needs no positive test (e.g. `not filter`): then every record
    /// is a candidate.
    pub(crate) superset: Option<Pattern>,
}

/// One error with a hint where it is (a text to look for in the rule's YAML).
#[derive(Debug, Clone)]
pub(crate) struct Located {
    pub(crate) needle: String,
    pub(crate) msg: String,
}

fn err(needle: &str, msg: impl Into<String>) -> Located {
    Located { needle: needle.to_string(), msg: msg.into() }
}

/// Compiles the `detection` mapping.
pub(crate) fn compile(
    detection: &serde_json::Map<String, Value>,
    placeholders: &Placeholders,
) -> Result<Compiled, Located> {
    let mut names: Vec<String> = Vec::new();
    let mut sels: BTreeMap<String, Tree> = BTreeMap::new();
    for (k, v) in detection {
        if k == "condition" {
            continue;
        }
        if k == "timeframe" {
            return Err(err(
                "timeframe",
                "unsupported feature: `timeframe` belongs to the old aggregation syntax; use a correlation rule",
            ));
        }
        sels.insert(k.clone(), selection(k, v, placeholders)?);
        names.push(k.clone());
    }
    let conditions: Vec<String> = match detection.get("condition") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) if !a.is_empty() => {
            a.iter().map(|c| c.as_str().map(str::to_owned)).collect::<Option<_>>().ok_or_else(
                || err("condition", "bad condition: a list of conditions must hold strings"),
            )?
        }
        Some(_) => return Err(err("condition", "bad condition: must be a string")),
        None => return Err(err("detection", "bad condition: `detection` has no `condition`")),
    };
    let mut parsed = Vec::new();
    for c in &conditions {
        parsed.push(
            super::condition::parse(c, &names)
                .map_err(|m| err("condition", format!("bad condition {c:?}: {m}")))?,
        );
    }
    let cond = if parsed.len() == 1 { parsed.remove(0) } else { Cond::Or(parsed) };
    let tree = simplify(build(&cond, &sels));
    let superset = match superset(&tree) {
        Some(d) if d.len() <= MAX_SUB_RULES => Some(
            Pattern::from_dnf(d).map_err(|e| err("condition", format!("bad condition: {e}")))?,
        ),
        _ => None,
    };
    let expr = finish(tree).map_err(|e| err("condition", format!("bad condition: {e}")))?;
    Ok(Compiled { expr, superset })
}

fn build(c: &Cond, sels: &BTreeMap<String, Tree>) -> Tree {
    match c {
        Cond::Sel(s) => sels.get(s).cloned().unwrap_or(Tree::Or(Vec::new())),
        Cond::And(v) => Tree::And(v.iter().map(|c| build(c, sels)).collect()),
        Cond::Or(v) => Tree::Or(v.iter().map(|c| build(c, sels)).collect()),
        Cond::Not(c) => Tree::Not(Box::new(build(c, sels))),
    }
}

/// Merges two conjunctions; `None` when a path's tests cannot share one value's alternatives
/// (an absent-or-null test with another, or too many combinations).
fn merge(a: &Draft, b: &Draft) -> Option<Draft> {
    let mut out = a.clone();
    for (path, alts) in b {
        match out.iter_mut().find(|(p, _)| p == path) {
            None => out.push((path.clone(), alts.clone())),
            Some((_, have)) => {
                let absent = |v: &[Alt]| v.iter().any(|a| matches!(a, Alt::Exists(false)));
                if absent(have) || absent(alts) || have.len() * alts.len() > 64 {
                    return None;
                }
                let mut prod = Vec::new();
                for x in have.iter() {
                    for y in alts {
                        let mut members = Vec::new();
                        for a in [x, y] {
                            match a {
                                Alt::AllOf(m) => members.extend(m.iter().cloned()),
                                a => members.push(a.clone()),
                            }
                        }
                        prod.push(Alt::AllOf(members));
                    }
                }
                *have = prod;
            }
        }
    }
    Some(out)
}

/// And of two DNFs, if it stays small and mergeable.
fn product(a: &[Draft], b: &[Draft]) -> Option<Vec<Draft>> {
    if a.len().saturating_mul(b.len()) > MAX_SUB_RULES {
        return None;
    }
    let mut out = Vec::new();
    for x in a {
        for y in b {
            out.push(merge(x, y)?);
        }
    }
    Some(out)
}

/// Folds AND/OR children that are plain DNFs into one DNF where possible.
fn simplify(t: Tree) -> Tree {
    match t {
        Tree::And(v) => {
            let mut dnf: Option<Vec<Draft>> = None;
            let mut rest = Vec::new();
            for c in v.into_iter().map(simplify) {
                match c {
                    Tree::Dnf(d) => match &dnf {
                        None => dnf = Some(d),
                        Some(cur) => match product(cur, &d) {
                            Some(p) => dnf = Some(p),
                            None => rest.push(Tree::Dnf(d)),
                        },
                    },
                    Tree::And(inner) => rest.extend(inner),
                    other => rest.push(other),
                }
            }
            if let Some(d) = dnf {
                rest.insert(0, Tree::Dnf(d));
            }
            if rest.len() == 1 { rest.remove(0) } else { Tree::And(rest) }
        }
        Tree::Or(v) => {
            let mut dnf: Option<Vec<Draft>> = None;
            let mut rest = Vec::new();
            for c in v.into_iter().map(simplify) {
                match c {
                    Tree::Dnf(d) => {
                        let cur = dnf.get_or_insert_with(Vec::new);
                        if cur.len() + d.len() <= MAX_SUB_RULES {
                            cur.extend(d);
                        } else {
                            rest.push(Tree::Dnf(d));
                        }
                    }
                    Tree::Or(inner) => rest.extend(inner),
                    other => rest.push(other),
                }
            }
            if let Some(d) = dnf {
                rest.insert(0, Tree::Dnf(d));
            }
            if rest.len() == 1 { rest.remove(0) } else { Tree::Or(rest) }
        }
        Tree::Not(inner) => Tree::Not(Box::new(simplify(*inner))),
        t => t,
    }
}

/// A DNF every match of `t` matches, from the positive parts only.
fn superset(t: &Tree) -> Option<Vec<Draft>> {
    match t {
        Tree::Dnf(d) => Some(d.clone()),
        Tree::Ref(_) | Tree::Not(_) => None,
        Tree::Or(v) => {
            let mut out = Vec::new();
            for c in v {
                out.extend(superset(c)?);
            }
            Some(out)
        }
        // Any one child's superset will do; the one with the fewest sub-rules is the tightest
        // guess.
        Tree::And(v) => v.iter().filter_map(superset).min_by_key(Vec::len),
    }
}

fn finish(t: Tree) -> Result<Expr, String> {
    Ok(match t {
        Tree::Dnf(d) => Expr::Pattern(Pattern::from_dnf(d).map_err(|e| e.to_string())?),
        Tree::Ref(r) => Expr::FieldRef(r),
        Tree::And(v) => Expr::And(v.into_iter().map(finish).collect::<Result<_, _>>()?),
        Tree::Or(v) => Expr::Or(v.into_iter().map(finish).collect::<Result<_, _>>()?),
        Tree::Not(e) => Expr::Not(Box::new(finish(*e)?)),
    })
}

/// One selection: a map (AND of fields) or a list of maps (OR).
fn selection(name: &str, v: &Value, ph: &Placeholders) -> Result<Tree, Located> {
    match v {
        Value::Object(m) => map_selection(name, m, ph),
        Value::Array(items) if !items.is_empty() => {
            let mut branches = Vec::new();
            for it in items {
                match it {
                    Value::Object(m) => branches.push(map_selection(name, m, ph)?),
                    _ => {
                        return Err(err(
                            name,
                            format!(
                                "unsupported feature: selection {name:?} is a keyword list (values without a field name); CloudTrail rules name their fields"
                            ),
                        ));
                    }
                }
            }
            Ok(simplify(Tree::Or(branches)))
        }
        _ => Err(err(name, format!("selection {name:?} must be a mapping or a list of mappings"))),
    }
}

fn map_selection(
    name: &str,
    m: &serde_json::Map<String, Value>,
    ph: &Placeholders,
) -> Result<Tree, Located> {
    if m.is_empty() {
        return Err(err(name, format!("selection {name:?} is empty")));
    }
    let mut draft: Draft = Vec::new();
    let mut extra: Vec<Tree> = Vec::new();
    for (key, value) in m {
        match field(key, value, ph)? {
            Item::Test(path, alts) => match merge(&draft, &vec![(path.clone(), alts.clone())]) {
                Some(d) => draft = d,
                None => extra.push(Tree::Dnf(vec![vec![(path, alts)]])),
            },
            Item::Refs(refs) => extra.push(if refs.len() == 1 {
                Tree::Ref(refs.into_iter().next().expect("one"))
            } else {
                Tree::Or(refs.into_iter().map(Tree::Ref).collect())
            }),
            Item::AllRefs(refs) => extra.push(Tree::And(refs.into_iter().map(Tree::Ref).collect())),
        }
    }
    let mut parts = Vec::new();
    if !draft.is_empty() {
        parts.push(Tree::Dnf(vec![draft]));
    }
    parts.extend(extra);
    Ok(if parts.len() == 1 { parts.remove(0) } else { Tree::And(parts) })
}

enum Item {
    Test(String, Vec<Alt>),
    Refs(Vec<FieldRef>),
    AllRefs(Vec<FieldRef>),
}

/// The modifiers of one field, parsed.
#[derive(Default)]
struct Mods {
    op: Option<&'static str>,
    all: bool,
    cased: bool,
    re_flags: (bool, bool, bool),
    base64: Option<bool>, // Some(false): base64, Some(true): base64offset
    utf16: Option<&'static str>,
    windash: bool,
    expand: bool,
}

fn parse_mods(key: &str, mods: &[&str]) -> Result<Mods, Located> {
    let mut m = Mods::default();
    for &raw in mods {
        let md = raw.to_ascii_lowercase();
        let op = |m: &mut Mods, op: &'static str| {
            if let Some(prev) = m.op
                && prev != op
            {
                return Err(err(key, format!("modifiers {prev:?} and {op:?} cannot be combined")));
            }
            m.op = Some(op);
            Ok(())
        };
        match md.as_str() {
            "contains" => op(&mut m, "contains")?,
            "startswith" => op(&mut m, "startswith")?,
            "endswith" => op(&mut m, "endswith")?,
            "re" => op(&mut m, "re")?,
            "cidr" => op(&mut m, "cidr")?,
            "exists" => op(&mut m, "exists")?,
            "fieldref" => op(&mut m, "fieldref")?,
            "lt" => op(&mut m, "lt")?,
            "lte" => op(&mut m, "lte")?,
            "gt" => op(&mut m, "gt")?,
            "gte" => op(&mut m, "gte")?,
            "i" | "m" | "s" => {
                if m.op != Some("re") {
                    return Err(err(key, format!("modifier {raw:?} only follows \"re\"")));
                }
                match md.as_str() {
                    "i" => m.re_flags.0 = true,
                    "m" => m.re_flags.1 = true,
                    _ => m.re_flags.2 = true,
                }
            }
            "all" => m.all = true,
            "cased" => m.cased = true,
            "base64" => m.base64 = Some(false),
            "base64offset" => m.base64 = Some(true),
            "utf16le" | "wide" => m.utf16 = Some("utf16le"),
            "utf16be" => m.utf16 = Some("utf16be"),
            "utf16" => m.utf16 = Some("utf16"),
            "windash" => m.windash = true,
            "expand" => m.expand = true,
            _ => return Err(err(key, format!("unknown modifier {raw:?}"))),
        }
    }
    if m.utf16.is_some() && m.base64.is_none() {
        return Err(err(
            key,
            "modifier utf16le/utf16be/utf16/wide needs base64 or base64offset after it",
        ));
    }
    if m.base64 == Some(true) && m.op != Some("contains") {
        return Err(err(
            key,
            "modifier \"base64offset\" needs \"contains\" (the encoded text sits inside the value)",
        ));
    }
    let transforms = m.base64.is_some() || m.windash || m.expand;
    if transforms
        && matches!(m.op, Some("re" | "cidr" | "exists" | "fieldref" | "lt" | "lte" | "gt" | "gte"))
    {
        return Err(err(
            key,
            format!("modifier {:?} takes no encoded or expanded values", m.op.unwrap_or("")),
        ));
    }
    if m.cased
        && matches!(m.op, Some("re" | "cidr" | "exists" | "fieldref" | "lt" | "lte" | "gt" | "gte"))
    {
        return Err(err(
            key,
            "modifier \"cased\" applies to plain, contains, startswith and endswith values",
        ));
    }
    Ok(m)
}

fn field(key: &str, value: &Value, ph: &Placeholders) -> Result<Item, Located> {
    let mut parts = key.split('|');
    let path = parts.next().unwrap_or("").trim().to_string();
    let mods: Vec<&str> = parts.collect();
    if path.is_empty() {
        return Err(err(
            key,
            "unsupported feature: a keyword search (a value without a field name); CloudTrail rules name their fields",
        ));
    }
    let m = parse_mods(key, &mods)?;
    let values: Vec<&Value> = match value {
        Value::Array(a) if a.is_empty() => {
            return Err(err(key, format!("{key:?} has an empty list of values")));
        }
        Value::Array(a) => a.iter().collect(),
        v => vec![v],
    };
    if m.op == Some("fieldref") {
        let mut refs = Vec::new();
        for v in values {
            let Value::String(other) = v else {
                return Err(err(key, "fieldref values are field names"));
            };
            refs.push(FieldRef::new(&path, other).map_err(|e| err(key, e))?);
        }
        return Ok(if m.all { Item::AllRefs(refs) } else { Item::Refs(refs) });
    }
    let mut alts: Vec<Alt> = Vec::new();
    for v in values {
        alts.extend(value_alts(key, v, &m, ph)?);
    }
    if m.all && alts.len() > 1 {
        alts = vec![Alt::AllOf(alts)];
    }
    Ok(Item::Test(path, alts))
}

/// The alternatives one value gives (several for `windash`, `expand`, `base64offset`).
fn value_alts(key: &str, v: &Value, m: &Mods, ph: &Placeholders) -> Result<Vec<Alt>, Located> {
    match m.op {
        Some("exists") => {
            return match v {
                Value::Bool(b) => Ok(vec![Alt::Exists(*b)]),
                Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(vec![Alt::Exists(true)]),
                Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(vec![Alt::Exists(false)]),
                _ => Err(err(key, "the exists modifier takes true or false")),
            };
        }
        Some(op @ ("lt" | "lte" | "gt" | "gte")) => {
            let text = match v {
                Value::Number(n) => n.to_string(),
                Value::String(s) if s.trim().parse::<f64>().is_ok_and(f64::is_finite) => {
                    s.trim().to_string()
                }
                _ => return Err(err(key, format!("the {op} modifier takes a number"))),
            };
            let lit = NumLit::new(&text);
            if lit.val.is_none() {
                return Err(err(key, format!("{text} cannot be compared exactly as a number")));
            }
            let cmp = match op {
                "lt" => Cmp::Lt,
                "lte" => Cmp::Le,
                "gt" => Cmp::Gt,
                _ => Cmp::Ge,
            };
            return Ok(vec![Alt::Numeric(vec![(cmp, lit)])]);
        }
        _ => {}
    }
    if v.is_null() {
        if m.op.is_some() || m.base64.is_some() || m.windash || m.expand {
            return Err(err(key, "null takes no modifier (it means: missing or null)"));
        }
        return Ok(vec![Alt::Null, Alt::Exists(false)]);
    }
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return Err(err(key, "values are strings, numbers, booleans or null")),
    };
    match m.op {
        Some("re") => {
            let (i, mm, s) = m.re_flags;
            let r = TextRegex::new(&text, i, mm, s)
                .map_err(|e| err(key, format!("the regex crate cannot compile {text:?}: {e}")))?;
            return Ok(vec![Alt::TextRegex(r)]);
        }
        Some("cidr") => {
            let c = Cidr::parse_inclusive(&text)
                .map_err(|e| err(key, format!("bad cidr {text:?}: {e}")))?;
            return Ok(vec![Alt::Cidr(text, c)]);
        }
        _ => {}
    }
    // Plain, contains, startswith, endswith, with transformations.
    let mut texts = vec![text];
    if m.expand {
        texts = texts.iter().map(|t| expand(key, t, ph)).collect::<Result<Vec<_>, _>>()?.concat();
    }
    if m.windash {
        texts = texts.iter().flat_map(|t| windash(t)).collect();
    }
    let mut globs: Vec<Vec<GlobTok>> = Vec::new();
    for t in &texts {
        match m.base64 {
            None => globs.push(sigma_glob(t)),
            Some(offset) => {
                let bytes = encode(t, m.utf16);
                let encoded =
                    if offset { base64_offsets(&bytes) } else { vec![B64.encode(&bytes)] };
                globs.extend(encoded.into_iter().map(|e| vec![GlobTok::Lit(e)]));
            }
        }
    }
    let mut out = Vec::new();
    for g in globs {
        let toks = match m.op {
            Some("contains") => [vec![GlobTok::Star], g, vec![GlobTok::Star]].concat(),
            Some("startswith") => [g, vec![GlobTok::Star]].concat(),
            Some("endswith") => [vec![GlobTok::Star], g].concat(),
            _ => g,
        };
        // A base64 text is case-sensitive: its letters' case carries the data.
        let cased = m.cased || m.base64.is_some();
        let glob =
            TextGlob::new(toks, cased).map_err(|e| err(key, format!("value too large: {e}")))?;
        out.push(if m.op == Some("contains") {
            // `contains` on an object or array: any value inside it.
            Alt::Deep(Box::new(Alt::TextGlob(glob)))
        } else {
            Alt::TextGlob(glob)
        });
    }
    Ok(out)
}

/// Sigma's value syntax: `*` any run, `?` one character, `\` escapes `*`, `?` and `\`; a `\`
/// before anything else is a literal backslash.
pub(crate) fn sigma_glob(s: &str) -> Vec<GlobTok> {
    let mut out = Vec::new();
    let mut lit = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' | '?' => {
                if !lit.is_empty() {
                    out.push(GlobTok::Lit(std::mem::take(&mut lit)));
                }
                out.push(if c == '*' { GlobTok::Star } else { GlobTok::One });
            }
            '\\' => match chars.peek() {
                Some(&e @ ('*' | '?' | '\\')) => {
                    lit.push(e);
                    chars.next();
                }
                _ => lit.push('\\'),
            },
            c => lit.push(c),
        }
    }
    if !lit.is_empty() {
        out.push(GlobTok::Lit(lit));
    }
    out
}

/// `%name%` placeholders replaced by each of their values (every combination).
fn expand(key: &str, t: &str, ph: &Placeholders) -> Result<Vec<String>, Located> {
    let mut outs = vec![String::new()];
    let mut rest = t;
    while let Some(start) = rest.find('%') {
        let Some(len) = rest[start + 1..].find('%') else { break };
        let name = &rest[start + 1..start + 1 + len];
        let Some(vals) = ph.get(name) else {
            return Err(err(
                key,
                format!(
                    "placeholder %{name}% is not defined (give its values with --sigma-config)"
                ),
            ));
        };
        let prefix = &rest[..start];
        let mut next = Vec::new();
        for o in &outs {
            for v in vals {
                next.push(format!("{o}{prefix}{v}"));
            }
        }
        if next.len() > 4096 {
            return Err(err(key, "placeholders expand to more than 4096 values"));
        }
        outs = next;
        rest = &rest[start + 2 + len..];
    }
    Ok(outs.into_iter().map(|o| o + rest).collect())
}

/// The dashes Windows command lines accept for an option: `-`, `/`, en dash, em dash,
/// horizontal bar (pySigma's `windash`).
const DASHES: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];

/// Every spelling of `t` with each option dash (a `-` or `/` at the start of a word) replaced
/// by each dash, all occurrences at once (pySigma).
fn windash(t: &str) -> Vec<String> {
    let chars: Vec<char> = t.chars().collect();
    let at: Vec<usize> = (0..chars.len())
        .filter(|&i| matches!(chars[i], '-' | '/') && (i == 0 || chars[i - 1].is_whitespace()))
        .collect();
    if at.is_empty() {
        return vec![t.to_string()];
    }
    DASHES
        .iter()
        .map(|d| {
            let mut c = chars.clone();
            for &i in &at {
                c[i] = *d;
            }
            c.into_iter().collect()
        })
        .collect()
}

fn encode(t: &str, utf16: Option<&str>) -> Vec<u8> {
    match utf16 {
        None => t.as_bytes().to_vec(),
        Some("utf16be") => t.encode_utf16().flat_map(u16::to_be_bytes).collect(),
        // utf16 (pySigma): little-endian with a byte order mark.
        Some("utf16") => {
            [0xFF, 0xFE].into_iter().chain(t.encode_utf16().flat_map(u16::to_le_bytes)).collect()
        }
        Some(_) => t.encode_utf16().flat_map(u16::to_le_bytes).collect(),
    }
}

/// The three base64 spellings of `b` at byte offsets 0, 1 and 2 of a longer text, without the
/// characters that depend on the neighbours (pySigma's `base64offset`).
fn base64_offsets(b: &[u8]) -> Vec<String> {
    let start = [0usize, 2, 3];
    let end_trim = [0usize, 3, 2];
    (0..3)
        .filter_map(|i| {
            let mut padded = vec![b' '; i];
            padded.extend_from_slice(b);
            let e = B64.encode(&padded);
            let trim = end_trim[(b.len() + i) % 3];
            let s = e.get(start[i]..e.len().saturating_sub(trim))?;
            (!s.is_empty()).then(|| s.to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64offset_matches_pysigma() {
        // pySigma: [b64encode(i*b" " + v)[(0,2,3)[i]:(None,-3,-2)[(len(v)+i)%3]] for i in 0..3]
        assert_eq!(
            base64_offsets(b"/bin/bash"),
            vec!["L2Jpbi9iYXNo", "9iaW4vYmFza", "vYmluL2Jhc2"]
        );
        assert_eq!(B64.encode(b"sudo"), "c3Vkbw==");
    }

    #[test]
    fn windash_and_expand() {
        assert_eq!(windash("cmd -a b-c").len(), 5);
        assert!(windash("cmd -a b-c").contains(&"cmd /a b-c".to_string()));
        assert_eq!(windash("abc"), vec!["abc"]);
        let mut ph = Placeholders::new();
        ph.insert("admins".into(), vec!["alice".into(), "bob".into()]);
        assert_eq!(expand("k", "arn:%admins%/x", &ph).unwrap(), vec!["arn:alice/x", "arn:bob/x"]);
        assert!(expand("k", "%nope%", &ph).unwrap_err().msg.contains("--sigma-config"));
        assert_eq!(expand("k", "50%", &ph).unwrap(), vec!["50%"]);
    }

    #[test]
    fn sigma_wildcards_and_escapes() {
        use GlobTok::*;
        assert_eq!(
            sigma_glob(r"a*b?c"),
            vec![Lit("a".into()), Star, Lit("b".into()), One, Lit("c".into())]
        );
        assert_eq!(sigma_glob(r"a\*b\?c\\d\e"), vec![Lit(r"a*b?c\d\e".into())]);
        assert_eq!(sigma_glob(r"\\*"), vec![Lit(r"\".into()), Star]);
    }

    #[test]
    fn utf16_encodings() {
        assert_eq!(encode("ab", Some("utf16le")), vec![b'a', 0, b'b', 0]);
        assert_eq!(encode("ab", Some("utf16be")), vec![0, b'a', 0, b'b']);
        assert_eq!(encode("a", Some("utf16")), vec![0xFF, 0xFE, b'a', 0]);
    }
}
