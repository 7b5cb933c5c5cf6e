//! Compilation of the pattern tree into field tests in disjunctive normal form.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::cmp::Ordering;

use super::ast::{Alt, Node, Obj, join};
use super::error::PatternError;

/// Upper bound on the number of `$or` combinations a pattern may expand to.
pub(crate) const MAX_SUB_RULES: usize = 4096;

/// One field of a sub-rule: the path and its alternatives.
#[derive(Debug, Clone)]
pub(crate) struct FieldTest {
    /// Index into [`Compiled::paths`].
    pub(crate) path: usize,
    /// Alternatives that need a leaf value (everything but `exists: false`).
    pub(crate) alts: Vec<Alt>,
    /// An `exists: false` alternative is present.
    pub(crate) absent_ok: bool,
}

/// A sub-rule: all of its fields must match (array-consistently).
#[derive(Debug, Clone)]
pub(crate) struct Conj {
    /// Sorted by path in Java `String` order (UTF-16 code units), the order in
    /// which event-ruler's machine visits the fields; this order decides which
    /// array elements an `exists: false` test is checked against.
    pub(crate) fields: Vec<FieldTest>,
}

#[derive(Debug, Clone)]
pub(crate) struct Compiled {
    pub(crate) paths: Vec<String>,
    pub(crate) path_index: HashMap<String, usize>,
    /// Every path and every prefix of a path ending before a `.`.
    pub(crate) prefixes: HashSet<String>,
    pub(crate) conjs: Vec<Conj>,
    /// Per path: does some alternative at it look inside objects and arrays ([`Alt::Deep`])?
    /// Then the objects and arrays at that path are leaves too. Always false for EventBridge.
    pub(crate) deep: Vec<bool>,
}

type Draft = Vec<(String, Vec<Alt>)>;

fn set(conj: &mut Draft, path: &str, alts: &[Alt]) {
    if let Some(slot) = conj.iter_mut().find(|(p, _)| p == path) {
        slot.1 = alts.to_vec();
    } else {
        conj.push((path.to_string(), alts.to_vec()));
    }
}

fn expand(obj: &Obj, prefix: &str, mut conjs: Vec<Draft>) -> Result<Vec<Draft>, PatternError> {
    for (key, node) in &obj.entries {
        match node {
            Node::Values(alts) => {
                let path = join(prefix, key);
                for c in &mut conjs {
                    set(c, &path, alts);
                }
            }
            Node::Obj(o) => conjs = expand(o, &join(prefix, key), conjs)?,
            Node::Or(branches) => {
                let mut next = Vec::new();
                for b in branches {
                    next.extend(expand(b, prefix, conjs.clone())?);
                    if next.len() > MAX_SUB_RULES {
                        return Err(PatternError::invalid(
                            &join(prefix, key),
                            format!(
                                "the pattern expands to more than {MAX_SUB_RULES} \"$or\" combinations"
                            ),
                        ));
                    }
                }
                conjs = next;
            }
        }
    }
    Ok(conjs)
}

pub(crate) fn java_order(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

pub(crate) fn compile(root: &Obj) -> Result<Compiled, PatternError> {
    let drafts = expand(root, "", vec![Vec::new()])?;
    let mut paths: Vec<String> = Vec::new();
    let mut path_index: HashMap<String, usize> = HashMap::default();
    let mut conjs = Vec::with_capacity(drafts.len());
    for mut d in drafts {
        d.sort_by(|a, b| java_order(&a.0, &b.0));
        let fields = d
            .into_iter()
            .map(|(p, alts)| {
                let idx = *path_index.entry(p.clone()).or_insert_with(|| {
                    paths.push(p);
                    paths.len() - 1
                });
                let absent_ok = alts.iter().any(|a| matches!(a, Alt::Exists(false)));
                let alts = alts.into_iter().filter(|a| !matches!(a, Alt::Exists(false))).collect();
                FieldTest { path: idx, alts, absent_ok }
            })
            .collect();
        conjs.push(Conj { fields });
    }
    let mut deep = vec![false; paths.len()];
    for conj in &conjs {
        for f in &conj.fields {
            deep[f.path] |= f.alts.iter().any(Alt::is_deep);
        }
    }
    let mut prefixes = HashSet::default();
    for p in &paths {
        prefixes.insert(p.clone());
        for (i, _) in p.match_indices('.') {
            prefixes.insert(p[..i].to_string());
        }
    }
    Ok(Compiled { paths, path_index, prefixes, conjs, deep })
}
