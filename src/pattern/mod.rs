//! TEMPORARY exact-match-only stand-in; replaced by the real engine on merge.
#![allow(missing_docs)]
use serde_json::Value;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PatternError(String);

#[derive(Debug, Clone)]
pub struct Pattern {
    v: Value,
}

impl Pattern {
    pub fn parse(text: &str) -> Result<Pattern, PatternError> {
        let v: Value = serde_json::from_str(text).map_err(|e| PatternError(e.to_string()))?;
        if !v.is_object() {
            return Err(PatternError("pattern must be an object".into()));
        }
        Ok(Pattern { v })
    }
    pub fn matches(&self, event: &Value) -> bool {
        fn m(p: &Value, e: &Value) -> bool {
            match p {
                Value::Object(map) => map.iter().all(|(k, pv)| {
                    if k == "$or" {
                        return pv.as_array().is_some_and(|a| a.iter().any(|b| m(b, e)));
                    }
                    let ev = e.get(k).unwrap_or(&Value::Null);
                    match pv {
                        Value::Array(alts) => alts.iter().any(|a| leaf(a, ev)),
                        _ => match ev {
                            Value::Array(items) => items.iter().any(|i| m(pv, i)),
                            _ => m(pv, ev),
                        },
                    }
                }),
                _ => false,
            }
        }
        fn leaf(a: &Value, ev: &Value) -> bool {
            if let Value::Array(items) = ev {
                return items.iter().any(|i| leaf(a, i));
            }
            match a {
                Value::Object(o) => {
                    if let Some(x) = o.get("exists") {
                        return x.as_bool() == Some(!ev.is_null());
                    }
                    if let Some(Value::String(p)) = o.get("prefix") {
                        return ev.as_str().is_some_and(|s| s.starts_with(p.as_str()));
                    }
                    if let Some(Value::String(p)) = o.get("suffix") {
                        return ev.as_str().is_some_and(|s| s.ends_with(p.as_str()));
                    }
                    if let Some(Value::String(p)) = o.get("wildcard") {
                        let parts: Vec<&str> = p.split('*').collect();
                        return ev.as_str().is_some_and(|s| {
                            s.starts_with(parts[0])
                                && s.ends_with(parts[parts.len() - 1])
                                && parts.iter().all(|x| s.contains(x))
                        });
                    }
                    false
                }
                _ => a == ev,
            }
        }
        m(&self.v, event)
    }
    pub fn top_level_keys(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Value::Object(m) = &self.v {
            for (k, v) in m {
                if k == "$or" {
                    for b in v.as_array().into_iter().flatten() {
                        if let Ok(p) = Pattern::parse(&b.to_string()) {
                            out.extend(p.top_level_keys());
                        }
                    }
                } else {
                    out.push(k.clone());
                }
            }
        }
        out
    }
    pub fn field_paths(&self) -> Vec<String> {
        fn walk(v: &Value, prefix: &str, out: &mut Vec<String>) {
            if let Value::Object(m) = v {
                for (k, v) in m {
                    if k == "$or" {
                        for b in v.as_array().into_iter().flatten() {
                            walk(b, prefix, out);
                        }
                        continue;
                    }
                    let p = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                    if v.is_object() { walk(v, &p, out) } else { out.push(p) }
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.v, "", &mut out);
        out
    }
    pub fn literal_clauses(&self, _under: &str) -> Vec<Vec<String>> {
        Vec::new()
    }
}

impl std::fmt::Display for Pattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.v)
    }
}
