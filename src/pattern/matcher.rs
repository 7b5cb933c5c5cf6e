//! Matching an event against compiled sub-rules, event-ruler style.
//!
//! The event is flattened to leaves (strings, numbers, booleans, null) under
//! dotted paths (array levels add nothing to a path), each leaf carrying its
//! *array membership*: which element of which array instance it sits in
//! (only object and array elements count; a scalar directly inside an array
//! does not record its own index there).
//! A sub-rule matches when every field can pick a leaf that matches one of its
//! alternatives and all picked leaves agree on the element of every array they
//! share. Fields are visited in path order; an `exists: false` field is met
//! when no leaf at its path agrees with the elements picked so far.

use serde_json::Value;

use super::ast::{Alt, AnyBut, Cmp};
use super::compile::{Compiled, Conj};
use super::num::event_value;
use super::text::value_text;

#[derive(Clone, Copy)]
struct Leaf<'v> {
    value: &'v Value,
    mem_start: u32,
    mem_len: u32,
}

type Binding = (u32, u32); // (array instance id, element index)

struct Flat<'v> {
    leaves: Vec<Vec<Leaf<'v>>>,
    arena: Vec<Binding>,
}

impl Flat<'_> {
    fn mem(&self, l: &Leaf<'_>) -> &[Binding] {
        &self.arena[l.mem_start as usize..(l.mem_start + l.mem_len) as usize]
    }
}

struct Walker<'c, 'v> {
    c: &'c Compiled,
    path: String,
    stack: Vec<Binding>,
    next_array: u32,
    flat: Flat<'v>,
}

impl<'v> Walker<'_, 'v> {
    /// Records `v` as a leaf of the current path, if the pattern reads that path.
    fn leaf(&mut self, v: &'v Value) {
        if let Some(&idx) = self.c.path_index.get(self.path.as_str()) {
            let start = self.flat.arena.len() as u32;
            self.flat.arena.extend_from_slice(&self.stack);
            self.flat.leaves[idx].push(Leaf {
                value: v,
                mem_start: start,
                mem_len: self.stack.len() as u32,
            });
        }
    }

    /// An object or array at a path with a [`Alt::Deep`] test is a leaf as well.
    fn deep_leaf(&mut self, v: &'v Value, under_key: bool) {
        if under_key
            && let Some(&idx) = self.c.path_index.get(self.path.as_str())
            && self.c.deep[idx]
        {
            self.leaf(v);
        }
    }

    fn walk(&mut self, v: &'v Value, under_key: bool) {
        match v {
            Value::Object(m) => {
                self.deep_leaf(v, under_key);
                for (k, child) in m {
                    let old = self.path.len();
                    if under_key {
                        self.path.push('.');
                    }
                    self.path.push_str(k);
                    if self.c.prefixes.contains(self.path.as_str()) {
                        self.walk(child, true);
                    }
                    self.path.truncate(old);
                }
            }
            Value::Array(a) => {
                self.deep_leaf(v, under_key);
                let id = self.next_array;
                self.next_array += 1;
                for (i, el) in a.iter().enumerate() {
                    // As in event-ruler, only object and array elements record
                    // their index: scalars of one array are alternatives of one field.
                    if el.is_object() || el.is_array() {
                        self.stack.push((id, i as u32));
                        self.walk(el, under_key);
                        self.stack.pop();
                    } else {
                        self.walk(el, under_key);
                    }
                }
            }
            scalar => {
                if under_key {
                    self.leaf(scalar);
                }
            }
        }
    }
}

/// The event's leaves at `c`'s paths, with their array membership.
fn flatten<'v>(c: &Compiled, event: &'v Value) -> Flat<'v> {
    let mut w = Walker {
        c,
        path: String::new(),
        stack: Vec::new(),
        next_array: 0,
        flat: Flat { leaves: vec![Vec::new(); c.paths.len()], arena: Vec::new() },
    };
    w.walk(event, false);
    w.flat
}

/// The scalar leaves the matcher sees at each of `c`'s paths (in [`Compiled::paths`] order),
/// each with whether it sits inside an element of an array of objects or arrays (where an
/// `exists: false` test depends on the other fields' choices). The index records these, so
/// that what it knows of a record is what the matcher would see.
pub(crate) fn placed_leaves<'v>(c: &Compiled, event: &'v Value) -> Vec<Vec<(&'v Value, bool)>> {
    flatten(c, event)
        .leaves
        .into_iter()
        .map(|ls| ls.into_iter().map(|l| (l.value, l.mem_len > 0)).collect())
        .collect()
}

fn consistent(cur: &[Binding], mem: &[Binding]) -> bool {
    mem.iter().all(|&(a, i)| cur.iter().all(|&(b, j)| a != b || i == j))
}

/// A cheap necessary condition for `conj` on an object event, from its top-level fields
/// alone: a field at a top-level path (no dot) has exactly the leaf the event's value is when
/// that value is a scalar, none when it is missing or an object, and is left to the full
/// check when it is an array.
fn may_match(conj: &Conj, c: &Compiled, m: &serde_json::Map<String, Value>) -> bool {
    conj.fields.iter().all(|f| {
        let path = &c.paths[f.path];
        if f.absent_ok || path.contains('.') {
            return true;
        }
        match m.get(path) {
            None => false,
            // An object is a leaf only where a deep test looks inside it.
            Some(Value::Object(_)) => c.deep[f.path],
            Some(Value::Array(_)) => true,
            Some(v) => f.matches(v),
        }
    })
}

/// The values at each path of `c` (in [`Compiled::paths`] order), as the matcher sees them:
/// array elements one by one, objects and arrays too at deep paths.
pub(crate) fn leaves<'v>(c: &Compiled, event: &'v Value) -> Vec<Vec<&'v Value>> {
    flatten(c, event).leaves.into_iter().map(|v| v.into_iter().map(|l| l.value).collect()).collect()
}

pub(crate) fn matches(c: &Compiled, event: &Value) -> bool {
    if let Value::Object(m) = event
        && !c.conjs.iter().any(|conj| may_match(conj, c, m))
    {
        return false;
    }
    let flat = flatten(c, event);
    let mut cur = Vec::new();
    c.conjs.iter().any(|conj| {
        // Cheap necessary condition first: every required field has some matching leaf.
        let feasible = conj
            .fields
            .iter()
            .all(|f| f.absent_ok || flat.leaves[f.path].iter().any(|l| f.matches(l.value)));
        feasible && {
            cur.clear();
            let later = later_arrays(conj, &flat);
            search(conj, 0, &flat, &later, &mut cur)
        }
    })
}

/// For each field position k, the (sorted) array instances that leaves of
/// fields after k sit in: only bindings to these can still matter.
fn later_arrays(conj: &Conj, flat: &Flat<'_>) -> Vec<Vec<u32>> {
    let n = conj.fields.len();
    let mut later = vec![Vec::new(); n];
    let mut acc: Vec<u32> = Vec::new();
    for k in (0..n).rev() {
        later[k].clone_from(&acc);
        for l in &flat.leaves[conj.fields[k].path] {
            acc.extend(flat.mem(l).iter().map(|&(a, _)| a));
        }
        acc.sort_unstable();
        acc.dedup();
    }
    later
}

/// Depth-first choice of a leaf per field, in field order. `cur` holds the
/// element bindings chosen so far, restricted to arrays later fields can see,
/// so choices that differ only in irrelevant arrays are tried once.
fn search(
    conj: &Conj,
    k: usize,
    flat: &Flat<'_>,
    later: &[Vec<u32>],
    cur: &mut Vec<Binding>,
) -> bool {
    let Some(f) = conj.fields.get(k) else {
        return true;
    };
    let leaves = &flat.leaves[f.path];
    if f.absent_ok
        && !leaves.iter().any(|l| consistent(cur, flat.mem(l)))
        && search(conj, k + 1, flat, later, cur)
    {
        return true;
    }
    if f.alts.is_empty() {
        return false;
    }
    let base = cur.len();
    let relevant = &later[k];
    let mut tried: Vec<Vec<Binding>> = Vec::new();
    for l in leaves {
        let mem = flat.mem(l);
        if !consistent(cur, mem) || !f.matches(l.value) {
            continue;
        }
        let new: Vec<Binding> = mem
            .iter()
            .copied()
            .filter(|b| relevant.binary_search(&b.0).is_ok() && !cur[..base].contains(b))
            .collect();
        if new.is_empty() {
            // Constrains nothing a later field can see: as good as any other choice.
            return search(conj, k + 1, flat, later, cur);
        }
        if tried.contains(&new) {
            continue;
        }
        cur.extend_from_slice(&new);
        if search(conj, k + 1, flat, later, cur) {
            return true;
        }
        cur.truncate(base);
        tried.push(new);
    }
    false
}

/// Does one leaf value satisfy one alternative?
pub(crate) fn alt_matches(alt: &Alt, v: &Value) -> bool {
    match alt {
        Alt::Str(s) | Alt::Exactly(s) => v.as_str() == Some(s.as_str()),
        Alt::Num(n) => matches!(v, Value::Number(x) if n.equals(x)),
        Alt::Bool(b) => v.as_bool() == Some(*b),
        Alt::Null => v.is_null(),
        Alt::Prefix(p) => v.as_str().is_some_and(|s| s.starts_with(p.as_str())),
        Alt::Suffix(p) => v.as_str().is_some_and(|s| s.ends_with(p.as_str())),
        Alt::PrefixIc(_, seq) => v.as_str().is_some_and(|s| seq.is_prefix_of(s)),
        Alt::SuffixIc(_, seq) => v.as_str().is_some_and(|s| seq.is_suffix_of(s)),
        Alt::EqIc(_, seq) => v.as_str().is_some_and(|s| seq.equals(s)),
        Alt::Wildcard(_, g) => v.as_str().is_some_and(|s| g.matches(s)),
        Alt::Exists(b) => *b,
        Alt::Cidr(_, c) => v.as_str().is_some_and(|s| c.matches(s)),
        Alt::Numeric(terms) => {
            let Value::Number(n) = v else { return false };
            let Some(x) = event_value(n) else {
                return false;
            };
            terms.iter().all(|(op, lit)| {
                let y = lit.val.unwrap_or(f64::NAN);
                match op {
                    Cmp::Eq => x == y,
                    Cmp::Lt => x < y,
                    Cmp::Le => x <= y,
                    Cmp::Gt => x > y,
                    Cmp::Ge => x >= y,
                }
            })
        }
        Alt::TextGlob(g) => value_text(v).is_some_and(|t| g.matches(&t)),
        Alt::TextRegex(r) => value_text(v).is_some_and(|t| r.is_match(&t)),
        Alt::Deep(inner) => deep_matches(inner, v),
        Alt::AllOf(all) => all.iter().all(|a| alt_matches(a, v)),
        Alt::AnythingBut(ab) => !match ab {
            AnyBut::Strs(list) => v.as_str().is_some_and(|s| list.iter().any(|x| x == s)),
            AnyBut::Nums(list) => {
                matches!(v, Value::Number(n) if list.iter().any(|x| x.equals(n)))
            }
            AnyBut::Prefix(list) => {
                v.as_str().is_some_and(|s| list.iter().any(|p| s.starts_with(p.as_str())))
            }
            AnyBut::Suffix(list) => {
                v.as_str().is_some_and(|s| list.iter().any(|p| s.ends_with(p.as_str())))
            }
            AnyBut::Wildcard(list) => {
                v.as_str().is_some_and(|s| list.iter().any(|(_, g)| g.matches(s)))
            }
            AnyBut::EqIc(list) => {
                v.as_str().is_some_and(|s| list.iter().any(|(_, seq)| seq.equals(s)))
            }
        },
    }
}

/// A scalar matching `alt`, at `v` or anywhere inside it.
fn deep_matches(alt: &Alt, v: &Value) -> bool {
    match v {
        Value::Object(m) => m.values().any(|x| deep_matches(alt, x)),
        Value::Array(a) => a.iter().any(|x| deep_matches(alt, x)),
        scalar => alt_matches(alt, scalar),
    }
}
