//! Amazon EventBridge event patterns, with the semantics of aws/event-ruler
//! (the engine behind EventBridge). See `doc/patterns.md` for the language.
//!
//! ```
//! use trailscan::pattern::Pattern;
//! let p = Pattern::parse(r#"{"detail":{"eventName":[{"prefix":"Delete"}]}}"#).unwrap();
//! let e = serde_json::json!({"detail": {"eventName": "DeleteBucket"}});
//! assert!(p.matches(&e));
//! ```

// The tree and its compiled form are read inside the crate by the pattern's other consumers
// (the index planner, the SQL translator): one representation, many uses.
pub(crate) mod ast;
pub(crate) mod compile;
mod error;
mod json;
pub(crate) mod matcher;
pub(crate) mod num;
pub(crate) mod ops;
mod parse;

use std::fmt;

pub use error::PatternError;

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
        Ok(Pattern { root, compiled })
    }

    /// The validated tree, as written (for consumers that translate the pattern).
    #[expect(dead_code, reason = "read by src/index and src/sql, which land next")]
    pub(crate) fn root(&self) -> &Obj {
        &self.root
    }

    /// The compiled sub-rules (disjunctive normal form), for consumers that reason over the
    /// pattern (the index planner): each [`compile::Conj`] is a conjunction of field tests.
    pub(crate) fn compiled(&self) -> &Compiled {
        &self.compiled
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
                    if let Some(cl) = field_clause(f)
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

/// Is `path` strictly inside the sub-tree at `under` (`""` = everything)?
fn is_under(path: &str, under: &str) -> bool {
    under.is_empty()
        || (path.len() > under.len()
            && path.starts_with(under)
            && path.as_bytes()[under.len()] == b'.')
}

/// The literal clause one field gives, if every alternative is literal.
fn field_clause(f: &compile::FieldTest) -> Option<Vec<String>> {
    if f.absent_ok || f.alts.is_empty() {
        return None;
    }
    let mut out: Vec<String> = Vec::new();
    for a in &f.alts {
        let s = match a {
            Alt::Str(s) | Alt::Exactly(s) | Alt::Prefix(s) | Alt::Suffix(s) => s.as_str(),
            Alt::Wildcard(_, g) => g.longest_literal(),
            _ => return None,
        };
        if s.is_empty() {
            return None;
        }
        if !out.iter().any(|x| x == s) {
            out.push(s.to_string());
        }
    }
    out.sort();
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
