//! Amazon EventBridge event patterns, with the semantics of aws/event-ruler
//! (the engine behind EventBridge). See `doc/patterns.md` for the language.
//!
//! ```
//! use trailscan::pattern::Pattern;
//! let p = Pattern::parse(r#"{"detail":{"eventName":[{"prefix":"Delete"}]}}"#).unwrap();
//! let e = serde_json::json!({"detail": {"eventName": "DeleteBucket"}});
//! assert!(p.matches(&e));
//! ```
//!
//! # Internal-only alternatives (other rule languages)
//!
//! The compiled pattern is the project's one language: Sigma rules (`crate::audit::sigma`)
//! compile into it too. Four alternatives (`ast::Alt`) exist for them and are **never
//! produced by parsing EventBridge text**, so EventBridge semantics are untouched; they are
//! built with `Pattern::from_dnf`. Each consumer of the tree must handle them:
//!
//! - `TextGlob(g)`: the value's *text* (a string's content, a number's JSON spelling,
//!   `true`/`false`; null, objects and arrays have none) matches a whole-text glob: `*` any
//!   run, `?` one character, the rest literal (`text::GlobTok`); case-insensitive (Unicode
//!   simple case folding) unless `g.cased()`. Index planner: "maybe" (or its longest literal,
//!   folded); SQL: `ILIKE`/`LIKE` with `%`/`_` on strings (numbers and booleans cast to text).
//! - `TextRegex(r)`: the regex crate's syntax, searched anywhere in the value's text, flags
//!   `i`/`m`/`s`. Index planner: "maybe"; SQL: `regexp_like(text, '(?flags)source')` (RE2 and
//!   the regex crate agree on the common syntax) or no filter (a superset) where unsure.
//! - `Deep(alt)`: the value is a scalar matching `alt`, or an object or array holding at any
//!   depth a scalar that does; at a path with a `Deep` test, objects and arrays are leaves too
//!   (`compile::Compiled::deep`), so `exists` and `exists: false` see them. Index planner:
//!   "maybe"; SQL: the inner test over the JSON text of the column (a superset) or no filter.
//! - `AllOf(alts)`: one value matches every alternative (how a Sigma `|all` or a field named
//!   twice in a selection is kept inside one conjunction). Index planner and SQL: the AND of
//!   the members' translations on the same value.
//!
//! `Cidr` may also hold a full-width mask (`/32`, `/128`: `ops::Cidr::parse_inclusive`) when
//! built for Sigma. Tests that are not about one value (Sigma's `fieldref`, `not`) are not
//! alternatives: they live in the Sigma rule's boolean tree, whose leaves are patterns.
//! `Pattern::literal_clauses` gives no clause for `TextGlob` (unless cased) or `TextRegex`;
//! `Pattern::literal_clauses_folded` gives the case-insensitive clauses.

// The tree and its compiled form are read inside the crate by the pattern's other consumers
// (the index planner, the SQL translator): one representation, many uses.
pub(crate) mod ast;
pub(crate) mod compile;
mod complexity;
mod error;
mod json;
pub(crate) mod matcher;
pub(crate) mod num;
pub(crate) mod ops;
mod parse;
pub(crate) mod text;

use std::fmt;

pub use error::PatternError;
pub use text::ASCII_CASE_TWINS;

use ast::{Alt, Node, Obj};
use compile::Compiled;

/// A parsed, validated and compiled event pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    root: Obj,
    compiled: Compiled,
}

impl Pattern {
    /// Parse and validate pattern text (JSON). Duplicate keys: the last one
    /// wins, as in event-ruler; numbers keep their spelling.
    pub fn parse(text: &str) -> Result<Pattern, PatternError> {
        let root = parse::parse_text(text)?;
        let compiled = compile::compile(&root)?;
        // EventBridge refuses rules whose wildcards are too non-deterministic.
        let (complexity, path) = complexity::evaluate(&compiled);
        if complexity > complexity::MAX_COMPLEXITY {
            return Err(PatternError::invalid(&path.unwrap_or_default(), complexity::TOO_COMPLEX));
        }
        Ok(Pattern { root, compiled })
    }

    /// A pattern built from sub-rules (disjunctive normal form): each inner list is a
    /// conjunction of (dotted path, alternatives OR-ed); a path must not repeat within one
    /// conjunction (merge its tests with [`Alt::AllOf`]). `vec![vec![]]` matches every event.
    /// This is how other rule languages (Sigma) build patterns, including the internal-only
    /// alternatives (see the module docs).
    pub(crate) fn from_dnf(conjs: Vec<Vec<(String, Vec<Alt>)>>) -> Result<Pattern, PatternError> {
        let obj = |conj: Vec<(String, Vec<Alt>)>| Obj {
            entries: conj.into_iter().map(|(p, alts)| (p, Node::Values(alts))).collect(),
        };
        let root = if conjs.len() == 1 {
            obj(conjs.into_iter().next().unwrap_or_default())
        } else {
            Obj {
                entries: vec![("$or".to_string(), Node::Or(conjs.into_iter().map(obj).collect()))],
            }
        };
        let compiled = compile::compile(&root)?;
        Ok(Pattern { root, compiled })
    }

    /// The values at each of the pattern's paths (as [`Pattern::field_paths`] names them,
    /// in the order given), as the matcher sees them.
    pub(crate) fn values_at<'v>(
        &self,
        event: &'v serde_json::Value,
        paths: &[&str],
    ) -> Vec<Vec<&'v serde_json::Value>> {
        let mut all = matcher::leaves(&self.compiled, event);
        paths
            .iter()
            .map(|p| {
                self.compiled
                    .path_index
                    .get(*p)
                    .map_or_else(Vec::new, |&i| std::mem::take(&mut all[i]))
            })
            .collect()
    }

    /// The compiled sub-rules (disjunctive normal form), for consumers that reason over the
    /// pattern (the index planner): each [`compile::Conj`] is a conjunction of field tests.
    pub(crate) fn compiled(&self) -> &Compiled {
        &self.compiled
    }

    /// What the pattern needs of a field that holds one string: `Some(keys)` when every
    /// sub-rule requires a leaf at dotted `path` (no `exists: false` there) that is one of a
    /// set of strings given exactly, by prefix, or ignoring ASCII case; then an event whose only
    /// leaf at `path` is the string `s` can match only if some key accepts `s` ([`StrKey`]).
    /// `None` when some sub-rule could be met otherwise. For consumers that choose which
    /// patterns to try on an event (the audit's rules, by `eventName`); the matcher decides.
    pub(crate) fn string_keys(&self, path: &str) -> Option<Vec<StrKey>> {
        let c = &self.compiled;
        let &at = c.path_index.get(path)?;
        let mut out: Vec<StrKey> = Vec::new();
        for conj in &c.conjs {
            let f = conj.fields.iter().find(|f| f.path == at && !f.absent_ok)?;
            if f.alts.is_empty() {
                return None;
            }
            for a in &f.alts {
                let key = match a {
                    Alt::Str(s) | Alt::Exactly(s) => StrKey::Exact(s.clone()),
                    Alt::Prefix(p) => StrKey::Prefix(p.clone()),
                    // event-ruler's case sets of ASCII characters are ASCII case.
                    Alt::EqIc(s, _) if s.is_ascii() => StrKey::AsciiNoCase(s.to_ascii_lowercase()),
                    // A whole-text glob of one literal: on an ASCII text, its direct path is
                    // ASCII case folding (or equality when cased): see `text::TextGlob`.
                    Alt::TextGlob(g) => match g.tokens() {
                        [text::GlobTok::Lit(l)] if g.cased() => StrKey::Exact(l.clone()),
                        [text::GlobTok::Lit(l)] if l.is_ascii() => {
                            StrKey::AsciiNoCase(l.to_ascii_lowercase())
                        }
                        _ => return None,
                    },
                    _ => return None,
                };
                if !out.contains(&key) {
                    out.push(key);
                }
            }
        }
        (!out.is_empty()).then_some(out)
    }

    /// Does the event match? The event is any JSON value (normally an object).
    pub fn matches(&self, event: &serde_json::Value) -> bool {
        matcher::matches(&self.compiled, event)
    }

    /// Top-level keys the pattern constrains, including the keys at the top
    /// level of each top-level `$or` branch (recursively), never `"$or"`. A
    /// key written with dots (`"detail.eventName"`) contributes the part
    /// before the first dot (`"detail"`), since event-ruler reads it as a path.
    pub fn top_level_keys(&self) -> Vec<String> {
        fn collect(o: &Obj, out: &mut Vec<String>) {
            for (k, node) in &o.entries {
                if let Node::Or(branches) = node {
                    for b in branches {
                        collect(b, out);
                    }
                } else {
                    let top = k.split('.').next().unwrap_or(k);
                    if !out.iter().any(|x| x == top) {
                        out.push(top.to_string());
                    }
                }
            }
        }
        let mut out = Vec::new();
        collect(&self.root, &mut out);
        out
    }

    /// Every dotted field path the pattern reads, sorted. Keeping, in an event,
    /// every key whose path equals one of these, is a prefix of one, or lies
    /// under one (and all array elements) does not change whether it matches.
    pub fn field_paths(&self) -> Vec<String> {
        let mut v = self.compiled.paths.clone();
        v.sort();
        v
    }

    /// Prefilter clauses relative to the sub-tree at dotted path `under`
    /// (`""` for the whole event): if the event matches, each clause has a
    /// string that occurs inside some string value whose (event-ruler, dotted)
    /// path is `under` or starts with `under.`. Only fields whose every
    /// alternative is an exact string, `prefix`, `suffix` or `wildcard` (its
    /// longest literal run) give clauses; empty strings never appear.
    pub fn literal_clauses(&self, under: &str) -> Vec<Vec<String>> {
        self.clauses(under, false)
    }

    /// Like [`Pattern::literal_clauses`], but each string is a fragment of the *raw JSON text*
    /// of any matching record, found *ignoring ASCII case*: ASCII, with no `\`, `/` or
    /// control character, and a `"` only at an end, where it is the quote that opens or closes
    /// a string value (`"createuser"` for an exact value). It is there unless the text holds
    /// a `\u` escape, or a U+017F or U+212A where an `s` or `k` was expected (the only
    /// non-ASCII characters Unicode simple case folding matches to ASCII letters: see
    /// [`text::ASCII_CASE_TWINS`]). Case-insensitive globs ([`Alt::TextGlob`]) give clauses
    /// here, not in [`Pattern::literal_clauses`].
    pub(crate) fn literal_clauses_folded(&self, under: &str) -> Vec<Vec<String>> {
        self.clauses(under, true)
    }

    /// Clauses by field: `(path, clause)` for each dotted path at which every sub-rule tests
    /// a field that gives a clause (the union over the sub-rules): if the event matches, a
    /// string of the clause is in the raw text of a value at that path, as
    /// [`Pattern::literal_clauses`] (`fold: false`) or [`Pattern::literal_clauses_folded`]
    /// (`fold: true`) find it in the whole text.
    pub(crate) fn field_clauses(&self, fold: bool) -> Vec<(String, Vec<String>)> {
        let c = &self.compiled;
        let Some(first) = c.conjs.first() else {
            return Vec::new();
        };
        let mut paths: Vec<usize> = first.fields.iter().map(|f| f.path).collect();
        paths.sort_unstable();
        paths.dedup();
        let mut out = Vec::new();
        'path: for p in paths {
            let mut union: Vec<String> = Vec::new();
            for conj in &c.conjs {
                let Some(cl) =
                    conj.fields.iter().filter(|f| f.path == p).find_map(|f| field_clause(f, fold))
                else {
                    continue 'path;
                };
                union.extend(cl);
            }
            union.sort();
            union.dedup();
            out.push((c.paths[p].clone(), union));
        }
        out
    }

    fn clauses(&self, under: &str, fold: bool) -> Vec<Vec<String>> {
        let c = &self.compiled;
        let per_conj: Vec<Vec<Vec<String>>> = c
            .conjs
            .iter()
            .map(|conj| {
                let mut clauses: Vec<Vec<String>> = Vec::new();
                for f in &conj.fields {
                    let path = &c.paths[f.path];
                    if !is_under(path, under) {
                        continue;
                    }
                    if let Some(cl) = field_clause(f, fold)
                        && !clauses.contains(&cl)
                    {
                        clauses.push(cl);
                    }
                }
                clauses
            })
            .collect();
        let Some((first, rest)) = per_conj.split_first() else {
            return Vec::new();
        };
        // Clauses every sub-rule carries hold on their own.
        let common: Vec<Vec<String>> =
            first.iter().filter(|cl| rest.iter().all(|o| o.contains(cl))).cloned().collect();
        let mut out = common.clone();
        if !rest.is_empty() {
            // Union of one other clause from each sub-rule (the shortest).
            let mut union: Vec<String> = Vec::new();
            let mut complete = true;
            for conj in &per_conj {
                match conj.iter().filter(|cl| !common.contains(cl)).min_by_key(|cl| cl.len()) {
                    Some(cl) => union.extend(cl.iter().cloned()),
                    None => {
                        complete = false;
                        break;
                    }
                }
            }
            if complete {
                union.sort();
                union.dedup();
                out.push(union);
            }
        }
        out
    }
}

/// One string a field may hold, as [`Pattern::string_keys`] gives it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum StrKey {
    /// Exactly this string.
    Exact(String),
    /// A string starting with this.
    Prefix(String),
    /// This ASCII string (lower-cased here) in any ASCII case. A string with a non-ASCII
    /// character may still match (Unicode folds U+212A to `k`): its test decides.
    AsciiNoCase(String),
}

/// Is `path` strictly inside the sub-tree at `under` (`""` = everything)?
fn is_under(path: &str, under: &str) -> bool {
    under.is_empty()
        || (path.len() > under.len()
            && path.starts_with(under)
            && path.as_bytes()[under.len()] == b'.')
}

/// The literal clause one field gives, if every alternative gives a literal.
fn field_clause(f: &compile::FieldTest, fold: bool) -> Option<Vec<String>> {
    if f.absent_ok || f.alts.is_empty() {
        return None;
    }
    let mut out: Vec<String> = Vec::new();
    for a in &f.alts {
        let s = if fold { alt_fragment(a)? } else { alt_literal(a)? };
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out.sort();
    Some(out)
}

/// A literal every value matching `a` holds in its raw JSON text (modulo escapes), if there is
/// one and it is not empty (case-sensitive clauses: no case-insensitive glob gives one).
fn alt_literal(a: &Alt) -> Option<String> {
    let s = match a {
        Alt::Str(s) | Alt::Exactly(s) | Alt::Prefix(s) | Alt::Suffix(s) => s.as_str(),
        Alt::Wildcard(_, g) => g.longest_literal(),
        Alt::TextGlob(g) if g.cased() => {
            let lit = g.longest_literal();
            if could_be_number(lit) {
                return None;
            }
            lit
        }
        Alt::Deep(inner) => return alt_literal(inner),
        Alt::AllOf(all) => {
            return all.iter().filter_map(alt_literal).max_by_key(String::len);
        }
        _ => return None,
    };
    (!s.is_empty()).then(|| s.to_string())
}

/// Could `lit` sit in a number's text? A number's text is serde_json's spelling, which may
/// differ from the raw one (`1e1` is `10.0`), so such a literal claims nothing.
fn could_be_number(lit: &str) -> bool {
    lit.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
}

/// For [`Pattern::literal_clauses_folded`]: a fragment of raw JSON text every value matching
/// `a` puts in the record, ignoring ASCII case. The fragment is the longest run of the
/// literal's characters that JSON writes verbatim (ASCII, not `"`, `\`, `/` or a control
/// character); when that run starts (ends) a literal that starts (ends) a string value, the
/// value's opening (closing) quote is part of the fragment: `"createuser"` for an exact value.
fn alt_fragment(a: &Alt) -> Option<String> {
    use text::GlobTok;
    match a {
        Alt::Str(s) | Alt::Exactly(s) => fragment(s, true, true),
        Alt::Prefix(s) => fragment(s, true, false),
        Alt::Suffix(s) => fragment(s, false, true),
        Alt::Wildcard(_, g) => fragment(g.longest_literal(), false, false),
        Alt::TextGlob(g) => {
            // A boolean's text has no quotes around it in the raw JSON.
            let quoted = !(g.matches("true") || g.matches("false"));
            let toks = g.tokens();
            fn lit(t: Option<&GlobTok>) -> Option<&str> {
                match t {
                    Some(GlobTok::Lit(s)) if !could_be_number(s) => Some(s.as_str()),
                    _ => None,
                }
            }
            let longest = g.longest_literal();
            [
                lit(toks.first()).and_then(|s| fragment(s, quoted, quoted && toks.len() == 1)),
                lit(toks.last()).and_then(|s| fragment(s, false, quoted)),
                (!could_be_number(longest)).then(|| fragment(longest, false, false)).flatten(),
            ]
            .into_iter()
            .flatten()
            .max_by_key(String::len)
        }
        Alt::Deep(inner) => alt_fragment(inner),
        Alt::AllOf(all) => all.iter().filter_map(alt_fragment).max_by_key(String::len),
        _ => None,
    }
}

/// The longest run of `lit` that JSON writes verbatim (ASCII, not `"`, `\`, `/` or a control
/// character), with the opening quote when the run starts `lit` and `start` says `lit` starts
/// a string value, and the closing quote likewise.
fn fragment(lit: &str, start: bool, end: bool) -> Option<String> {
    let safe = |c: char| c.is_ascii() && !c.is_ascii_control() && !matches!(c, '"' | '\\' | '/');
    let (mut best, mut run) = ((0, 0), None::<usize>);
    for (i, c) in lit.char_indices().chain(std::iter::once((lit.len(), '"'))) {
        match (safe(c), run) {
            (true, None) => run = Some(i),
            (false, Some(b)) => {
                if i - b > best.1 - best.0 {
                    best = (b, i);
                }
                run = None;
            }
            _ => {}
        }
    }
    if best.1 == best.0 {
        return None;
    }
    let mut out = String::new();
    if start && best.0 == 0 {
        out.push('"');
    }
    out.push_str(&lit[best.0..best.1]);
    if end && best.1 == lit.len() {
        out.push('"');
    }
    Some(out)
}

impl fmt::Display for Pattern {
    /// Compact canonical JSON; `Pattern::parse` of it gives the same pattern.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.root, f)
    }
}

#[cfg(test)]
mod tests;
