//! Validation: JSON pattern text to the pattern tree, with event-ruler's rules.

use super::ast::{Alt, AnyBut, Cmp, Node, Obj, join};
use super::error::PatternError;
use super::json::{self, Json};
use super::num::NumLit;
use super::ops::{CaseSeq, Cidr, Glob};

/// Names a `$or` branch may not use as field names (event-ruler reserves them).
const RESERVED_IN_OR: &[&str] = &[
    "exactly",
    "equals-ignore-case",
    "prefix",
    "suffix",
    "anything-but",
    "exists",
    "wildcard",
    "numeric",
    "cidr",
    "=",
    "<",
    "<=",
    ">",
    ">=",
    "regex",
    "not-wildcard",
    "not-equals-ignore-case",
    "date-after",
    "date-on-or-after",
    "date-before",
    "date-on-or-before",
    "in-date-range",
    "ip-address-in-range",
    "ip-address-not-in-range",
];

type R<T> = Result<T, PatternError>;

pub(crate) fn parse_text(text: &str) -> R<Obj> {
    match json::parse(text)? {
        Json::Obj(entries) => parse_obj(entries, "", false),
        other => Err(PatternError::invalid(
            "",
            format!("an event pattern must be a JSON object, not {}", other.kind()),
        )),
    }
}

fn parse_obj(entries: Vec<(String, Json)>, prefix: &str, or_branch: bool) -> R<Obj> {
    if entries.is_empty() {
        let p = if prefix.is_empty() { "" } else { prefix };
        return Err(PatternError::invalid(p, "empty objects are not allowed"));
    }
    let mut out = Vec::with_capacity(entries.len());
    for (key, value) in entries {
        let path = join(prefix, &key);
        if or_branch && RESERVED_IN_OR.contains(&key.as_str()) {
            return Err(PatternError::invalid(
                &path,
                format!(
                    "\"{key}\" is a reserved name and cannot be used as a field name inside \"$or\""
                ),
            ));
        }
        let node = if key == "$or" {
            let Json::Arr(items) = value else {
                return Err(PatternError::invalid(
                    &path,
                    "\"$or\" must be followed by an array of objects",
                ));
            };
            if items.len() < 2 {
                return Err(PatternError::invalid(&path, "\"$or\" needs at least 2 objects"));
            }
            let mut branches = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    Json::Obj(e) => branches.push(parse_obj(e, prefix, true)?),
                    other => {
                        return Err(PatternError::invalid(
                            &path,
                            format!(
                                "only JSON objects are allowed in a \"$or\" array, not {}",
                                other.kind()
                            ),
                        ));
                    }
                }
            }
            Node::Or(branches)
        } else {
            match value {
                Json::Obj(e) => Node::Obj(parse_obj(e, &path, false)?),
                Json::Arr(items) => {
                    if items.is_empty() {
                        return Err(PatternError::invalid(&path, "empty arrays are not allowed"));
                    }
                    let alts =
                        items.into_iter().map(|j| parse_alt(j, &path)).collect::<R<Vec<_>>>()?;
                    Node::Values(alts)
                }
                other => {
                    return Err(PatternError::invalid(
                        &path,
                        format!("\"{key}\" must be an object or an array, not {}", other.kind()),
                    ));
                }
            }
        };
        out.push((key, node));
    }
    Ok(Obj { entries: out })
}

fn must_be_string(path: &str, op: &str, v: Json) -> R<String> {
    match v {
        Json::Str(s) => Ok(s),
        _ => Err(PatternError::invalid(path, format!("\"{op}\" match pattern must be a string"))),
    }
}

fn one_key(path: &str, mut e: Vec<(String, Json)>) -> R<(String, Json)> {
    if e.len() != 1 {
        return Err(PatternError::invalid(
            path,
            format!("a match expression must have exactly one key, found {}", e.len()),
        ));
    }
    Ok(e.pop().expect("one entry"))
}

fn parse_alt(j: Json, path: &str) -> R<Alt> {
    let e = match j {
        Json::Str(s) => return Ok(Alt::Str(s)),
        Json::Num(t) => return Ok(Alt::Num(NumLit::new(&t))),
        Json::Bool(b) => return Ok(Alt::Bool(b)),
        Json::Null => return Ok(Alt::Null),
        Json::Arr(_) => {
            return Err(PatternError::invalid(
                path,
                "a match value must be a string, number, true, false, null or a match expression object, not an array",
            ));
        }
        Json::Obj(e) => e,
    };
    let (op, v) = one_key(path, e)?;
    let inv = |msg: String| PatternError::invalid(path, msg);
    Ok(match op.as_str() {
        "prefix" | "suffix" => {
            let prefix = op == "prefix";
            match v {
                Json::Str(s) => {
                    if prefix {
                        Alt::Prefix(s)
                    } else {
                        Alt::Suffix(s)
                    }
                }
                Json::Obj(e) => {
                    let (inner, v) = one_key(path, e)?;
                    if inner != "equals-ignore-case" {
                        return Err(inv(format!("unsupported \"{op}\" pattern: \"{inner}\"")));
                    }
                    let s = must_be_string(path, "equals-ignore-case", v)?;
                    let seq = CaseSeq::new(&s);
                    if prefix { Alt::PrefixIc(s, seq) } else { Alt::SuffixIc(s, seq) }
                }
                _ => return Err(inv(format!("\"{op}\" match pattern must be a string"))),
            }
        }
        "equals-ignore-case" => {
            let s = must_be_string(path, &op, v)?;
            let seq = CaseSeq::new(&s);
            Alt::EqIc(s, seq)
        }
        "exactly" => Alt::Exactly(must_be_string(path, &op, v)?),
        "wildcard" => {
            let s = must_be_string(path, &op, v)?;
            let g = Glob::parse(&s).map_err(|m| inv(format!("\"wildcard\" pattern: {m}")))?;
            Alt::Wildcard(s, g)
        }
        "exists" => match v {
            Json::Bool(b) => Alt::Exists(b),
            other => {
                return Err(inv(format!(
                    "\"exists\" match pattern must be either true or false, not {}",
                    other.kind()
                )));
            }
        },
        "cidr" => {
            let s = must_be_string(path, &op, v)?;
            let c = Cidr::parse(&s).map_err(|m| inv(format!("\"cidr\" pattern: {m}")))?;
            Alt::Cidr(s, c)
        }
        "numeric" => match v {
            Json::Arr(items) => Alt::Numeric(parse_numeric(path, items)?),
            other => {
                return Err(inv(format!(
                    "\"numeric\" match pattern must be an array, not {}",
                    other.kind()
                )));
            }
        },
        "anything-but" => Alt::AnythingBut(parse_anything_but(path, v)?),
        other => return Err(inv(format!("unrecognized match type \"{other}\""))),
    })
}

fn comparable_num(path: &str, op: &str, v: Option<&Json>) -> R<NumLit> {
    match v {
        Some(Json::Num(t)) => {
            let n = NumLit::new(t);
            if n.val.is_none() {
                return Err(PatternError::invalid(
                    path,
                    format!(
                        "\"numeric\": cannot compare number {t} (out of range or more precise than a double)"
                    ),
                ));
            }
            Ok(n)
        }
        _ => Err(PatternError::invalid(
            path,
            format!("\"numeric\": value of \"{op}\" must be a number"),
        )),
    }
}

fn cmp_op(path: &str, v: &Json) -> R<Cmp> {
    match v {
        Json::Str(s) => match s.as_str() {
            "=" => Ok(Cmp::Eq),
            "<" => Ok(Cmp::Lt),
            "<=" => Ok(Cmp::Le),
            ">" => Ok(Cmp::Gt),
            ">=" => Ok(Cmp::Ge),
            other => Err(PatternError::invalid(
                path,
                format!("\"numeric\": unrecognized operator \"{other}\""),
            )),
        },
        other => Err(PatternError::invalid(
            path,
            format!("\"numeric\": expected an operator string, not {}", other.kind()),
        )),
    }
}

fn parse_numeric(path: &str, items: Vec<Json>) -> R<Vec<(Cmp, NumLit)>> {
    let Some(first) = items.first() else {
        return Err(PatternError::invalid(path, "\"numeric\" expression must not be empty"));
    };
    let op = cmp_op(path, first)?;
    let n = comparable_num(path, op.as_str(), items.get(1))?;
    let mut terms = vec![(op, n)];
    if items.len() == 2 {
        return Ok(terms);
    }
    if !matches!(op, Cmp::Gt | Cmp::Ge) {
        return Err(PatternError::invalid(
            path,
            "\"numeric\": too many elements; a range must start with \">\" or \">=\"",
        ));
    }
    let op2 = cmp_op(path, &items[2])?;
    if !matches!(op2, Cmp::Lt | Cmp::Le) {
        return Err(PatternError::invalid(
            path,
            "\"numeric\": the second operator of a range must be \"<\" or \"<=\"",
        ));
    }
    let n2 = comparable_num(path, op2.as_str(), items.get(3))?;
    if items.len() > 4 {
        return Err(PatternError::invalid(
            path,
            "\"numeric\": too many terms in a range expression",
        ));
    }
    if terms[0].1.val >= n2.val {
        return Err(PatternError::invalid(
            path,
            "\"numeric\": the bottom of a range must be less than the top",
        ));
    }
    terms.push((op2, n2));
    Ok(terms)
}

/// A string or a non-empty list of strings (for `anything-but` operators).
fn string_list(path: &str, op: &str, v: Json) -> R<Vec<String>> {
    let items = match v {
        Json::Str(s) => return Ok(vec![s]),
        Json::Arr(items) => items,
        other => {
            return Err(PatternError::invalid(
                path,
                format!(
                    "\"anything-but\"/\"{op}\" match pattern must be a string or a list of strings, not {}",
                    other.kind()
                ),
            ));
        }
    };
    if items.is_empty() {
        return Err(PatternError::invalid(
            path,
            format!("\"anything-but\"/\"{op}\" list must not be empty"),
        ));
    }
    items
        .into_iter()
        .map(|j| match j {
            Json::Str(s) => Ok(s),
            other => Err(PatternError::invalid(
                path,
                format!(
                    "\"anything-but\"/\"{op}\" list may only hold strings, not {}",
                    other.kind()
                ),
            )),
        })
        .collect()
}

fn parse_anything_but(path: &str, v: Json) -> R<AnyBut> {
    let inv = |msg: String| PatternError::invalid(path, msg);
    match v {
        Json::Str(s) => Ok(AnyBut::Strs(vec![s])),
        Json::Num(t) => Ok(AnyBut::Nums(vec![NumLit::new(&t)])),
        Json::Arr(items) => {
            if items.iter().any(|j| !matches!(j, Json::Str(_) | Json::Num(_))) {
                return Err(inv(
                    "\"anything-but\" list may only hold strings or only numbers (no objects, arrays, booleans or null)".into(),
                ));
            }
            if !items.is_empty() && items.iter().all(|j| matches!(j, Json::Str(_))) {
                Ok(AnyBut::Strs(
                    items
                        .into_iter()
                        .map(|j| match j {
                            Json::Str(s) => s,
                            _ => unreachable!(),
                        })
                        .collect(),
                ))
            } else if !items.is_empty() && items.iter().all(|j| matches!(j, Json::Num(_))) {
                Ok(AnyBut::Nums(
                    items
                        .into_iter()
                        .map(|j| match j {
                            Json::Num(t) => NumLit::new(&t),
                            _ => unreachable!(),
                        })
                        .collect(),
                ))
            } else {
                Err(inv(
                    "\"anything-but\" list must be non-empty and hold either all strings or all numbers".into(),
                ))
            }
        }
        Json::Obj(e) => {
            let (op, v) = one_key(path, e)?;
            match op.as_str() {
                "prefix" | "suffix" => {
                    let list = string_list(path, &op, v)?;
                    if list.iter().any(|s| s.is_empty()) {
                        return Err(inv(format!(
                            "\"anything-but\"/\"{op}\" value must not be empty"
                        )));
                    }
                    Ok(if op == "prefix" { AnyBut::Prefix(list) } else { AnyBut::Suffix(list) })
                }
                "wildcard" => {
                    let list = string_list(path, &op, v)?;
                    let globs = list
                        .into_iter()
                        .map(|s| {
                            Glob::parse(&s).map(|g| (s, g)).map_err(|m| {
                                inv(format!("\"anything-but\"/\"wildcard\" pattern: {m}"))
                            })
                        })
                        .collect::<R<Vec<_>>>()?;
                    Ok(AnyBut::Wildcard(globs))
                }
                "equals-ignore-case" => {
                    let list = string_list(path, &op, v)?;
                    Ok(AnyBut::EqIc(
                        list.into_iter()
                            .map(|s| {
                                let seq = CaseSeq::new(&s);
                                (s, seq)
                            })
                            .collect(),
                    ))
                }
                other => Err(inv(format!("unsupported \"anything-but\" pattern: \"{other}\""))),
            }
        }
        other => Err(inv(format!(
            "\"anything-but\" match pattern must be a string, a number, a list or an object, not {}",
            other.kind()
        ))),
    }
}
