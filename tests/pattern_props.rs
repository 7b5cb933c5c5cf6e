//! Property tests for `trailscan::pattern::Pattern`:
//! - `matches` agrees with a deliberately simple (exponential) reference
//!   matcher written here from the event-ruler rules;
//! - projecting an event to `field_paths` never changes the answer;
//! - `literal_clauses` is sound;
//! - `parse(display(p))` is the same pattern.

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use trailscan::pattern::Pattern;

// ---------------------------------------------------------------- generators

fn small_str() -> impl Strategy<Value = String> {
    prop_oneof![4 => "[xy]{0,2}", 1 => "[xyX]{0,3}"]
}

fn glob_str() -> impl Strategy<Value = String> {
    "[xy*]{0,4}".prop_filter("no **", |s| !s.contains("**"))
}

/// Alternatives that give literal clauses (strings, prefix, suffix, wildcard),
/// with the occasional other one.
fn literal_alt() -> BoxedStrategy<Value> {
    prop_oneof![
        4 => small_str().prop_map(Value::from),
        2 => small_str().prop_map(|s| json!({ "prefix": s })),
        2 => small_str().prop_map(|s| json!({ "suffix": s })),
        2 => glob_str().prop_map(|s| json!({ "wildcard": s })),
        1 => leaf_alt(),
    ]
    .boxed()
}

fn leaf_alt() -> BoxedStrategy<Value> {
    prop_oneof![
        small_str().prop_map(Value::from),
        (0u8..3).prop_map(Value::from),
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        small_str().prop_map(|s| json!({ "prefix": s })),
        small_str().prop_map(|s| json!({ "suffix": s })),
        small_str().prop_map(|s| json!({ "equals-ignore-case": s })),
        small_str().prop_map(|s| json!({ "prefix": { "equals-ignore-case": s } })),
        glob_str().prop_map(|s| json!({ "wildcard": s })),
        any::<bool>().prop_map(|b| json!({ "exists": b })),
        prop::collection::vec(small_str(), 1..3).prop_map(|v| json!({ "anything-but": v })),
        (0u8..3).prop_map(|n| json!({ "anything-but": [n] })),
        "[xy]{1,2}".prop_map(|s| json!({ "anything-but": { "prefix": s } })),
        (prop_oneof![Just("="), Just("<"), Just("<="), Just(">"), Just(">=")], 0u8..4)
            .prop_map(|(op, n)| json!({ "numeric": [op, n] })),
        (0u8..3, 1u8..3).prop_map(|(lo, d)| json!({ "numeric": [">", lo, "<=", lo + d] })),
    ]
    .boxed()
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![Just("a".to_string()), Just("b".to_string())]
}

fn pattern_obj(depth: u32, alt: fn() -> BoxedStrategy<Value>) -> BoxedStrategy<Value> {
    let node = if depth == 0 {
        prop::collection::vec(alt(), 1..4).prop_map(Value::Array).boxed()
    } else {
        prop_oneof![
            2 => prop::collection::vec(alt(), 1..4).prop_map(Value::Array),
            1 => pattern_obj(depth - 1, alt),
        ]
        .boxed()
    };
    let fields = prop::collection::btree_map(key(), node, 1..3);
    let or = if depth == 0 {
        Just(None).boxed()
    } else {
        prop::option::weighted(0.3, prop::collection::vec(pattern_obj(depth - 1, alt), 2..4))
            .boxed()
    };
    (fields, or)
        .prop_map(|(f, or)| {
            let mut m: Map<String, Value> = f.into_iter().collect();
            if let Some(branches) = or {
                m.insert("$or".into(), Value::Array(branches));
            }
            Value::Object(m)
        })
        .boxed()
}

fn event_val(depth: u32) -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        small_str().prop_map(Value::from),
        (0u8..3).prop_map(Value::from),
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
    ];
    if depth == 0 {
        return leaf.boxed();
    }
    prop_oneof![
        3 => leaf,
        2 => event_obj(depth - 1),
        2 => prop::collection::vec(event_val(depth - 1), 0..4).prop_map(Value::Array),
    ]
    .boxed()
}

fn event_obj(depth: u32) -> BoxedStrategy<Value> {
    let k = prop_oneof![3 => key(), 1 => Just("d".to_string())];
    prop::collection::btree_map(k, event_val(depth), 1..4)
        .prop_map(|m| Value::Object(m.into_iter().collect()))
        .boxed()
}

/// An event built to (probably) match `pat`: a value for a random
/// alternative of each field, one random `$or` branch, and random array
/// wrapping with decoys, driven by a small xorshift generator.
fn witness(pat: &Value, rng: &mut u64) -> Value {
    fn next(rng: &mut u64) -> u64 {
        *rng ^= *rng << 13;
        *rng ^= *rng >> 7;
        *rng ^= *rng << 17;
        *rng
    }
    fn value_for(alt: &Value, rng: &mut u64) -> Option<Value> {
        let Some(o) = alt.as_object() else { return Some(alt.clone()) };
        let (op, arg) = o.iter().next().unwrap();
        let n = |v: &Value| v.as_i64().unwrap();
        Some(match (op.as_str(), arg) {
            ("prefix", Value::String(s)) => json!(format!("{s}y")),
            ("prefix", o) => {
                json!(format!("{}y", o["equals-ignore-case"].as_str().unwrap().to_uppercase()))
            }
            ("suffix", s) => json!(format!("x{}", s.as_str().unwrap())),
            ("equals-ignore-case", s) => json!(s.as_str().unwrap().to_uppercase()),
            ("wildcard", s) => json!(s.as_str().unwrap().replace('*', "xy")),
            ("exists", Value::Bool(true)) => json!("x"),
            ("exists", _) => return None,
            ("anything-but", Value::Array(l)) if l[0].is_number() => json!(n(&l[0]) + 1),
            ("anything-but", _) => json!("q"),
            ("numeric", Value::Array(t)) => match t[0].as_str().unwrap() {
                "=" | "<=" | ">=" => t[1].clone(),
                "<" => json!(n(&t[1]) - 1),
                _ => json!(n(&t[1]) + 1),
            },
            _ => json!(next(rng) % 3),
        })
    }
    fn wrap(v: Value, rng: &mut u64) -> Value {
        match next(rng) % 4 {
            0 => json!(["zz", v]),
            1 if v.is_object() => json!([{"a": "zz"}, v]),
            _ => v,
        }
    }
    let mut out = Map::new();
    for (k, v) in pat.as_object().unwrap() {
        match v {
            Value::Array(alts) if k == "$or" => {
                let b = &alts[(next(rng) % alts.len() as u64) as usize];
                if let Value::Object(m) = witness(b, rng) {
                    out.extend(m);
                }
            }
            Value::Array(alts) => {
                let alt = &alts[(next(rng) % alts.len() as u64) as usize];
                if let Some(x) = value_for(alt, rng) {
                    out.insert(k.clone(), wrap(x, rng));
                }
            }
            o => {
                let w = witness(o, rng);
                out.insert(k.clone(), wrap(w, rng));
            }
        }
    }
    Value::Object(out)
}

/// A pattern and an event: half the time a random event, half the time one
/// built from the pattern (so that matches, arrays and clauses get exercised).
fn case_with(alt: fn() -> BoxedStrategy<Value>) -> impl Strategy<Value = (Value, Value)> {
    (pattern_obj(2, alt), event_obj(3), any::<bool>(), any::<u64>()).prop_map(
        |(p, e, built, seed)| {
            if built {
                let mut rng = seed | 1;
                let w = witness(&p, &mut rng);
                (p, w)
            } else {
                (p, e)
            }
        },
    )
}

fn case() -> impl Strategy<Value = (Value, Value)> {
    case_with(leaf_alt)
}

// --------------------------------------------------------- reference matcher

type Membership = Vec<(usize, usize)>;

/// All leaves: (dotted path, value, array membership). Only object and array
/// elements of an array record (array id, index).
fn flatten(v: &Value) -> Vec<(String, Value, Membership)> {
    fn go(
        v: &Value,
        path: &str,
        mem: &mut Membership,
        next: &mut usize,
        out: &mut Vec<(String, Value, Membership)>,
    ) {
        match v {
            Value::Object(m) => {
                for (k, c) in m {
                    let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                    go(c, &p, mem, next, out);
                }
            }
            Value::Array(a) => {
                let id = *next;
                *next += 1;
                for (i, c) in a.iter().enumerate() {
                    if c.is_object() || c.is_array() {
                        mem.push((id, i));
                        go(c, path, mem, next, out);
                        mem.pop();
                    } else {
                        go(c, path, mem, next, out);
                    }
                }
            }
            s => out.push((path.to_string(), s.clone(), mem.clone())),
        }
    }
    let mut out = Vec::new();
    go(v, "", &mut Vec::new(), &mut 0, &mut out);
    out
}

type Conj = Vec<(String, Vec<Value>)>;

fn dnf(obj: &Value, prefix: &str, conjs: Vec<Conj>) -> Vec<Conj> {
    let mut conjs = conjs;
    for (k, v) in obj.as_object().unwrap() {
        if k == "$or" {
            conjs =
                v.as_array().unwrap().iter().flat_map(|b| dnf(b, prefix, conjs.clone())).collect();
            continue;
        }
        let p = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
        match v {
            Value::Array(alts) => {
                for c in &mut conjs {
                    c.retain(|(q, _)| *q != p);
                    c.push((p.clone(), alts.clone()));
                }
            }
            o => conjs = dnf(o, &p, conjs),
        }
    }
    conjs
}

fn glob(p: &[u8], s: &[u8]) -> bool {
    match p.split_first() {
        None => s.is_empty(),
        Some((b'*', rest)) => (0..=s.len()).any(|i| glob(rest, &s[i..])),
        Some((c, rest)) => s.first() == Some(c) && glob(rest, &s[1..]),
    }
}

fn num_op(op: &str, x: f64, y: f64) -> bool {
    match op {
        "=" => x == y,
        "<" => x < y,
        "<=" => x <= y,
        ">" => x > y,
        ">=" => x >= y,
        _ => unreachable!(),
    }
}

fn value_ok(alt: &Value, v: &Value) -> bool {
    let s = v.as_str();
    let Some(o) = alt.as_object() else {
        return match (alt, v) {
            (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
            _ => alt == v,
        };
    };
    let (op, arg) = o.iter().next().unwrap();
    match op.as_str() {
        "prefix" => match arg.as_str() {
            Some(p) => s.is_some_and(|s| s.starts_with(p)),
            None => {
                let p = arg["equals-ignore-case"].as_str().unwrap().to_ascii_lowercase();
                s.is_some_and(|s| s.to_ascii_lowercase().starts_with(&p))
            }
        },
        "suffix" => s.is_some_and(|s| s.ends_with(arg.as_str().unwrap())),
        "equals-ignore-case" => s.is_some_and(|s| s.eq_ignore_ascii_case(arg.as_str().unwrap())),
        "wildcard" => s.is_some_and(|s| glob(arg.as_str().unwrap().as_bytes(), s.as_bytes())),
        "exists" => arg == true,
        "anything-but" => match arg {
            Value::Array(list) => !list.iter().any(|x| value_ok(x, v)),
            o => !s.is_some_and(|s| s.starts_with(o["prefix"].as_str().unwrap())),
        },
        "numeric" => {
            let t = arg.as_array().unwrap();
            let Some(x) = v.as_f64() else { return false };
            t.chunks(2).all(|c| num_op(c[0].as_str().unwrap(), x, c[1].as_f64().unwrap()))
        }
        _ => unreachable!(),
    }
}

fn consistent(a: &Membership, b: &Membership) -> bool {
    a.iter().all(|(x, i)| b.iter().all(|(y, j)| x != y || i == j))
}

/// Try every choice of leaves, in path order (as event-ruler's machine does).
fn conj_ok(
    fields: &[(String, Vec<Value>)],
    leaves: &[(String, Value, Membership)],
    cur: &Membership,
) -> bool {
    let Some(((path, alts), rest)) = fields.split_first() else { return true };
    let at: Vec<_> = leaves.iter().filter(|(p, _, _)| p == path).collect();
    let absent_ok = alts.iter().any(|a| a.get("exists") == Some(&Value::Bool(false)));
    if absent_ok && !at.iter().any(|(_, _, m)| consistent(cur, m)) && conj_ok(rest, leaves, cur) {
        return true;
    }
    at.iter().any(|(_, v, m)| {
        consistent(cur, m)
            && alts
                .iter()
                .filter(|a| a.get("exists") != Some(&Value::Bool(false)))
                .any(|a| value_ok(a, v))
            && {
                let mut next = cur.clone();
                next.extend(m.iter().copied());
                conj_ok(rest, leaves, &next)
            }
    })
}

fn reference(pattern: &Value, event: &Value) -> bool {
    let leaves = flatten(event);
    dnf(pattern, "", vec![Vec::new()]).into_iter().any(|mut c| {
        c.sort_by(|a, b| a.0.cmp(&b.0));
        conj_ok(&c, &leaves, &Vec::new())
    })
}

// ------------------------------------------------------------------ helpers

fn project(v: &Value, prefix: &str, paths: &[String]) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter_map(|(k, c)| {
                    let p = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                    let keep = paths.iter().any(|f| {
                        *f == p
                            || f.starts_with(&format!("{p}."))
                            || p.starts_with(&format!("{f}."))
                    });
                    keep.then(|| (k.clone(), project(c, &p, paths)))
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|c| project(c, prefix, paths)).collect()),
        s => s.clone(),
    }
}

fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|c| strings(c, out)),
        Value::Object(m) => m.values().for_each(|c| strings(c, out)),
        _ => {}
    }
}

fn clauses_hold(clauses: &[Vec<String>], scope: &Value) -> bool {
    let mut found = Vec::new();
    strings(scope, &mut found);
    clauses.iter().all(|cl| {
        assert!(!cl.is_empty() && cl.iter().all(|s| !s.is_empty()), "empty clause {clauses:?}");
        cl.iter().any(|lit| found.iter().any(|s| s.contains(lit.as_str())))
    })
}

/// The generated pattern, compiled; `None` (the case is skipped) only when EventBridge's limit
/// on wildcard complexity refuses it ("Rule is too complex"), which the generator's wildcards
/// can reach: any other error fails the test.
fn compiled(pat: &Value) -> Option<Pattern> {
    match Pattern::parse(&pat.to_string()) {
        Ok(p) => Some(p),
        Err(e) if e.to_string().contains("Rule is too complex") => None,
        Err(e) => panic!("generated pattern {pat} is invalid: {e}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn matches_agrees_with_reference((pat, ev) in case()) {
        let p = compiled(&pat);
        prop_assume!(p.is_some());
        let p = p.unwrap();
        prop_assert_eq!(p.matches(&ev), reference(&pat, &ev), "pattern {} event {}", pat, ev);
    }

    #[test]
    fn projection_to_field_paths_keeps_the_answer((pat, ev) in case()) {
        let p = compiled(&pat);
        prop_assume!(p.is_some());
        let p = p.unwrap();
        let projected = project(&ev, "", &p.field_paths());
        prop_assert_eq!(p.matches(&ev), p.matches(&projected), "pattern {} event {} projected {}", pat, ev, projected);
    }

    #[test]
    fn literal_clauses_are_sound((pat, ev) in case_with(literal_alt)) {
        let p = compiled(&pat);
        prop_assume!(p.is_some());
        let p = p.unwrap();
        if p.matches(&ev) {
            prop_assert!(clauses_hold(&p.literal_clauses(""), &ev), "pattern {} event {}", pat, ev);
            for top in ["a", "b"] {
                let scope = ev.get(top).cloned().unwrap_or(Value::Null);
                prop_assert!(clauses_hold(&p.literal_clauses(top), &scope), "under {} pattern {} event {}", top, pat, ev);
            }
        }
    }

    #[test]
    fn display_round_trips((pat, ev) in case()) {
        let p = compiled(&pat);
        prop_assume!(p.is_some());
        let p = p.unwrap();
        let shown = p.to_string();
        let q = Pattern::parse(&shown).unwrap();
        prop_assert_eq!(&q.to_string(), &shown);
        prop_assert_eq!(p.matches(&ev), q.matches(&ev));
        prop_assert_eq!(p.field_paths(), q.field_paths());
        prop_assert_eq!(p.literal_clauses(""), q.literal_clauses(""));
    }
}
