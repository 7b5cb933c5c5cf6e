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
    /// For fields with many exact-string alternatives (a trace's list of access keys): those
    /// strings as a set, and the positions of the other alternatives. The same test as
    /// trying `alts` one by one ([`FieldTest::matches`]), without comparing every string.
    pub(crate) exact: Option<ExactSet>,
}

/// Exact-string alternatives of a [`FieldTest`], as a set.
#[derive(Debug, Clone)]
pub(crate) struct ExactSet {
    strs: HashSet<String>,
    /// Positions in `alts` of the alternatives that are not exact strings.
    rest: Vec<usize>,
}

/// From this many exact strings on, a field's alternatives are looked up in a set.
const EXACT_SET_MIN: usize = 8;

impl FieldTest {
    fn new(path: usize, alts: Vec<Alt>, absent_ok: bool) -> FieldTest {
        let is_exact = |a: &Alt| matches!(a, Alt::Str(_) | Alt::Exactly(_));
        let exact =
            (alts.iter().filter(|a| is_exact(a)).count() >= EXACT_SET_MIN).then(|| ExactSet {
                strs: alts
                    .iter()
                    .filter_map(|a| match a {
                        Alt::Str(s) | Alt::Exactly(s) => Some(s.clone()),
                        _ => None,
                    })
                    .collect(),
                rest: (0..alts.len()).filter(|&i| !is_exact(&alts[i])).collect(),
            });
        FieldTest { path, alts, absent_ok, exact }
    }

    /// Does one leaf value satisfy one of the alternatives?
    pub(crate) fn matches(&self, v: &serde_json::Value) -> bool {
        match &self.exact {
            None => self.alts.iter().any(|a| super::matcher::alt_matches(a, v)),
            Some(e) => {
                v.as_str().is_some_and(|s| e.strs.contains(s))
                    || e.rest.iter().any(|&i| super::matcher::alt_matches(&self.alts[i], v))
            }
        }
    }
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
                FieldTest::new(idx, alts, absent_ok)
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
