//! The rule model and rule files: YAML or JSON, one rule or a list, validated strictly.
//!
//! A rule is an EventBridge pattern with a name, a severity and documentation, optionally a
//! threshold (fire when `count` matches with the same `by` values fall within `within`), and
//! example records the pattern must and must not match.

use crate::pattern::Pattern;
use crate::query::ViewPattern;
use serde_json::{Map, Value};
use std::fmt;
use std::path::Path;

/// How bad a finding is, in increasing order.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing.
    Info,
    /// Routine change worth a look.
    Low,
    /// Suspicious.
    Medium,
    /// Likely malicious or dangerous.
    High,
    /// Act now.
    Critical,
}

impl Severity {
    /// The lowercase name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Fire when at least `count` matches with equal `by` values fall within `within`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Threshold {
    /// Matches needed (at least 1).
    pub count: usize,
    /// The window, in seconds.
    pub within_secs: i64,
    /// The window as written (`5m`).
    pub within: String,
    /// Dotted record paths whose values form the group (empty: one group).
    pub by: Vec<String>,
}

/// A compiled, validated rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Unique id (`[a-z0-9][a-z0-9._-]*`).
    pub id: String,
    /// One-line title.
    pub title: String,
    /// Severity.
    pub severity: Severity,
    /// What it detects; for CIS rules, the benchmark's metric filter.
    pub description: String,
    /// The pattern as compact JSON text.
    pub pattern_text: String,
    /// The compiled pattern and its view (record or envelope).
    pub pattern: ViewPattern,
    /// Tags such as ATT&CK ids.
    pub tags: Vec<String>,
    /// URLs.
    pub references: Vec<String>,
    /// Optional threshold.
    pub threshold: Option<Threshold>,
    /// Records the pattern must match.
    pub examples_match: Vec<Value>,
    /// Records the pattern must not match.
    pub examples_no_match: Vec<Value>,
    /// Where it came from: a built-in pack name or a file path.
    pub origin: String,
    /// For a Sigma rule: its detection or correlation and its metadata (then `pattern` is a
    /// pattern every match of the detection matches, for the query and the prefilter).
    pub sigma: Option<std::sync::Arc<crate::audit::sigma::SigmaRule>>,
}

impl Rule {
    /// Whether the rule's pattern matches a whole record.
    #[must_use]
    pub fn matches(&self, record: &Value) -> bool {
        self.pattern.matches_record(record)
    }

    /// Problems with the examples: one line per example that does not behave as declared.
    #[must_use]
    pub fn check_examples(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (i, r) in self.examples_match.iter().enumerate() {
            if !self.matches(r) {
                out.push(format!("examples.match[{i}] does not match the pattern"));
            }
        }
        for (i, r) in self.examples_no_match.iter().enumerate() {
            if self.matches(r) {
                out.push(format!("examples.no_match[{i}] matches the pattern"));
            }
        }
        out
    }
}

const KEYS: [&str; 9] = [
    "id",
    "title",
    "severity",
    "description",
    "pattern",
    "tags",
    "references",
    "threshold",
    "examples",
];

/// Parses `5m`, `90s`, `2h`, `1d` to seconds.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: i64 =
        num.parse().map_err(|_| format!("invalid duration {s:?}: use e.g. 90s, 5m, 2h, 1d"))?;
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("invalid duration {s:?}: use e.g. 90s, 5m, 2h, 1d")),
    };
    if n <= 0 || n > 366 * 86_400 {
        return Err(format!("invalid duration {s:?}: must be between 1s and 366d"));
    }
    Ok(n * mult)
}

fn valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
        && id.len() <= 100
}

/// Parses rule-file text: JSON when `json`, else YAML. `origin` names the file in errors.
/// Returns every rule or every problem (one line each, naming the origin, rule and field).
pub fn parse_text(text: &str, origin: &str, json: bool) -> Result<Vec<Rule>, Vec<String>> {
    let doc: Value = if json {
        serde_json::from_str(text).map_err(|e| vec![format!("{origin}: invalid JSON: {e}")])?
    } else {
        serde_norway::from_str(text).map_err(|e| vec![format!("{origin}: invalid YAML: {e}")])?
    };
    let items = match doc {
        Value::Array(a) => a,
        Value::Object(_) => vec![doc],
        Value::Null => return Err(vec![format!("{origin}: no rules (the file is empty)")]),
        _ => return Err(vec![format!("{origin}: expected a rule (a mapping) or a list of rules")]),
    };
    if items.is_empty() {
        return Err(vec![format!("{origin}: no rules (empty list)")]);
    }
    let mut rules = Vec::new();
    let mut errors = Vec::new();
    for item in items {
        match parse_rule(item, origin) {
            Ok(r) => rules.push(r),
            Err(e) => errors.extend(e),
        }
    }
    for (i, r) in rules.iter().enumerate() {
        if rules[..i].iter().any(|o| o.id == r.id) {
            errors.push(format!("{origin}: rule {}: duplicate id", r.id));
        }
    }
    if errors.is_empty() { Ok(rules) } else { Err(errors) }
}

/// Reads one rule file (by extension: `.json` is JSON, anything else YAML).
pub fn load_file(path: &Path) -> Result<Vec<Rule>, Vec<String>> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| vec![format!("{origin}: {e}")])?;
    let json = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
    parse_text(&text, &origin, json)
}

/// Reads a rule file, or every `.yaml`, `.yml` and `.json` file under a folder (sorted).
pub fn load_path(path: &Path) -> Result<Vec<Rule>, Vec<String>> {
    if !path.is_dir() {
        return load_file(path);
    }
    let mut files: Vec<std::path::PathBuf> = walkdir::WalkDir::new(path)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(walkdir::DirEntry::into_path)
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "yaml" | "yml" | "json"))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(vec![format!(
            "{}: no rule files (.yaml, .yml, .json) in this folder",
            path.display()
        )]);
    }
    let (mut rules, mut errors) = (Vec::new(), Vec::new());
    for f in files {
        match load_file(&f) {
            Ok(r) => rules.extend(r),
            Err(e) => errors.extend(e),
        }
    }
    if errors.is_empty() { Ok(rules) } else { Err(errors) }
}

fn parse_rule(item: Value, origin: &str) -> Result<Rule, Vec<String>> {
    let Value::Object(map) = item else {
        return Err(vec![format!("{origin}: a rule must be a mapping, not {}", kind(&item))]);
    };
    let name = match map.get("id") {
        Some(Value::String(s)) => format!("rule {s}"),
        _ => "rule without a valid id".to_string(),
    };
    let mut errors = Vec::new();
    let mut err =
        |field: &str, msg: String| errors.push(format!("{origin}: {name}: {field}: {msg}"));
    for k in map.keys() {
        if !KEYS.contains(&k.as_str()) {
            err(k, format!("unknown field (expected one of: {})", KEYS.join(", ")));
        }
    }
    let id = string(&map, "id", true, &mut err);
    if let Some(id) = &id
        && !valid_id(id)
    {
        err(
            "id",
            format!("{id:?} is not a valid id: use lowercase letters, digits, '.', '_' and '-'"),
        );
    }
    let title = string(&map, "title", true, &mut err);
    let description = string(&map, "description", true, &mut err);
    let severity = match map.get("severity") {
        None => {
            err("severity", "missing".into());
            None
        }
        Some(v) => match serde_json::from_value::<Severity>(v.clone()) {
            Ok(s) => Some(s),
            Err(_) => {
                err("severity", format!("{v} is not one of info, low, medium, high, critical"));
                None
            }
        },
    };
    let tags = strings(&map, "tags", &mut err);
    let references = strings(&map, "references", &mut err);
    let pattern = match map.get("pattern") {
        None => {
            err("pattern", "missing".into());
            None
        }
        Some(v) => {
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Object(_) => v.to_string(),
                _ => {
                    err(
                        "pattern",
                        format!("must be an EventBridge pattern (a mapping), not {}", kind(v)),
                    );
                    String::new()
                }
            };
            if text.is_empty() {
                None
            } else {
                match Pattern::parse(&text) {
                    Ok(p) => {
                        let compact =
                            serde_json::from_str::<Value>(&text).map_or(text, |v| v.to_string());
                        Some((compact, ViewPattern::new(p)))
                    }
                    Err(e) => {
                        err("pattern", format!("invalid EventBridge pattern: {e}"));
                        None
                    }
                }
            }
        }
    };
    let threshold = match map.get("threshold") {
        None | Some(Value::Null) => None,
        Some(v) => parse_threshold(v, &mut err),
    };
    let (mut examples_match, mut examples_no_match) = (Vec::new(), Vec::new());
    match map.get("examples") {
        None | Some(Value::Null) => {}
        Some(Value::Object(ex)) => {
            for k in ex.keys() {
                if k != "match" && k != "no_match" {
                    err(
                        &format!("examples.{k}"),
                        "unknown field (expected match, no_match)".into(),
                    );
                }
            }
            for (key, out) in [("match", &mut examples_match), ("no_match", &mut examples_no_match)]
            {
                match ex.get(key) {
                    None | Some(Value::Null) => {}
                    Some(Value::Array(a)) => {
                        for (i, r) in a.iter().enumerate() {
                            if r.is_object() {
                                out.push(r.clone());
                            } else {
                                err(
                                    &format!("examples.{key}[{i}]"),
                                    "must be a record (a mapping)".into(),
                                );
                            }
                        }
                    }
                    Some(v) => err(
                        &format!("examples.{key}"),
                        format!("must be a list of records, not {}", kind(v)),
                    ),
                }
            }
        }
        Some(v) => {
            err("examples", format!("must be a mapping with match and no_match, not {}", kind(v)))
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let (Some(id), Some(title), Some(description), Some(severity), Some((pattern_text, pattern))) =
        (id, title, description, severity, pattern)
    else {
        return Err(vec![format!("{origin}: {name}: incomplete")]);
    };
    Ok(Rule {
        id,
        title,
        severity,
        description,
        pattern_text,
        pattern,
        tags,
        references,
        threshold,
        examples_match,
        examples_no_match,
        origin: origin.to_string(),
        sigma: None,
    })
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn string(
    map: &Map<String, Value>,
    key: &str,
    required: bool,
    err: &mut impl FnMut(&str, String),
) -> Option<String> {
    match map.get(key) {
        None if required => {
            err(key, "missing".into());
            None
        }
        None => None,
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Some(Value::String(_)) => {
            err(key, "must not be empty".into());
            None
        }
        Some(v) => {
            err(key, format!("must be a string, not {}", kind(v)));
            None
        }
    }
}

fn strings(map: &Map<String, Value>, key: &str, err: &mut impl FnMut(&str, String)) -> Vec<String> {
    match map.get(key) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => {
            let mut out = Vec::new();
            for (i, v) in a.iter().enumerate() {
                match v {
                    Value::String(s) if !s.trim().is_empty() => out.push(s.trim().to_string()),
                    _ => err(&format!("{key}[{i}]"), "must be a non-empty string".into()),
                }
            }
            out
        }
        Some(v) => {
            err(key, format!("must be a list of strings, not {}", kind(v)));
            Vec::new()
        }
    }
}

fn parse_threshold(v: &Value, err: &mut impl FnMut(&str, String)) -> Option<Threshold> {
    let Value::Object(t) = v else {
        err("threshold", format!("must be a mapping with count, within and by, not {}", kind(v)));
        return None;
    };
    let mut ok = true;
    for k in t.keys() {
        if !matches!(k.as_str(), "count" | "within" | "by") {
            err(&format!("threshold.{k}"), "unknown field (expected count, within, by)".into());
            ok = false;
        }
    }
    let count = match t.get("count").and_then(Value::as_u64) {
        Some(n) if (1..=1_000_000).contains(&n) => usize::try_from(n).ok(),
        _ => {
            err("threshold.count", "must be a whole number from 1 to 1000000".into());
            None
        }
    };
    let within = match t.get("within") {
        Some(Value::String(s)) => match parse_duration(s) {
            Ok(secs) => Some((s.clone(), secs)),
            Err(e) => {
                err("threshold.within", e);
                None
            }
        },
        _ => {
            err("threshold.within", "missing: a duration such as 5m".into());
            None
        }
    };
    let by = match t.get("by") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => {
            let mut out = Vec::new();
            for (i, v) in a.iter().enumerate() {
                match v.as_str() {
                    Some(s) if !s.trim().is_empty() => out.push(s.trim().to_string()),
                    _ => {
                        err(&format!("threshold.by[{i}]"), "must be a dotted field path".into());
                        ok = false;
                    }
                }
            }
            out
        }
        Some(v) => {
            err("threshold.by", format!("must be a list of field paths, not {}", kind(v)));
            ok = false;
            Vec::new()
        }
    };
    let (Some(count), Some((within, within_secs))) = (count, within) else { return None };
    ok.then_some(Threshold { count, within_secs, within, by })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5m"), Ok(300));
        assert_eq!(parse_duration("90s"), Ok(90));
        assert_eq!(parse_duration("2h"), Ok(7200));
        assert_eq!(parse_duration("1d"), Ok(86_400));
        assert!(parse_duration("5").is_err());
        assert!(parse_duration("0m").is_err());
        assert!(parse_duration("m").is_err());
        assert!(parse_duration("1w").is_err());
    }

    #[test]
    fn parses_yaml_and_json() {
        let y = "id: a\ntitle: A\nseverity: high\ndescription: d\npattern: {eventName: [X]}\n\
                 threshold: {count: 3, within: 5m, by: [userIdentity.arn]}\n";
        let r = parse_text(y, "f.yaml", false).unwrap();
        assert_eq!(r[0].severity, Severity::High);
        assert_eq!(r[0].pattern_text, r#"{"eventName":["X"]}"#);
        assert_eq!(r[0].threshold.as_ref().unwrap().within_secs, 300);
        let j = r#"[{"id":"b","title":"B","severity":"low","description":"d","pattern":"{\"eventName\":[\"Y\"]}"}]"#;
        assert_eq!(parse_text(j, "f.json", true).unwrap()[0].id, "b");
    }

    #[test]
    fn strict_errors_name_file_rule_and_field() {
        let y = "- id: a\n  title: A\n  severity: urgent\n  description: d\n  pattern: {eventName: [X]}\n  colour: red\n\
                 - id: b\n  title: B\n  severity: low\n  pattern: [1]\n  threshold: {count: 0, within: soon}\n";
        let e = parse_text(y, "r.yaml", false).unwrap_err();
        let all = e.join("\n");
        assert!(all.contains("r.yaml: rule a: colour: unknown field"), "{all}");
        assert!(all.contains("r.yaml: rule a: severity: \"urgent\" is not one of"), "{all}");
        assert!(all.contains("r.yaml: rule b: description: missing"), "{all}");
        assert!(all.contains("r.yaml: rule b: pattern: must be an EventBridge pattern"), "{all}");
        assert!(all.contains("r.yaml: rule b: threshold.count"), "{all}");
        assert!(all.contains("r.yaml: rule b: threshold.within: invalid duration"), "{all}");
        let dup = "- {id: a, title: A, severity: low, description: d, pattern: {a: [1]}}\n\
                   - {id: a, title: A, severity: low, description: d, pattern: {a: [2]}}\n";
        assert!(parse_text(dup, "d.yaml", false).unwrap_err()[0].contains("rule a: duplicate id"));
        assert!(parse_text("", "e.yaml", false).is_err());
        assert!(parse_text("id: [", "e.yaml", false).unwrap_err()[0].contains("invalid YAML"));
    }
}
