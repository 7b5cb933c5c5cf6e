//! Sigma rules for CloudTrail (`trailscan audit --sigma FILE|DIR`): loading, compiling into
//! the project's patterns, and correlation rules. See `doc/sigma.md` for the semantics.
//!
//! A rule file holds one or more YAML documents (`---`). Each document is a detection rule
//! (`logsource` + `detection`) or a correlation rule (`correlation`). Every rule loads, is
//! skipped (logsource not AWS CloudTrail, status, level or exclusion: counted with the reason)
//! or fails (named with file, line and reason); nothing is dropped silently and one bad rule
//! never fails a folder. Parsing uses `serde_norway` (YAML) and the project's own compiler: the
//! detection becomes patterns ([`crate::pattern`]), so one matcher serves EventBridge patterns
//! and Sigma rules.

pub(crate) mod condition;
pub mod detection;

use super::rule::{Rule, Severity, parse_duration};
use crate::pattern::Pattern;
use crate::query::{View, ViewPattern};
pub use detection::{Expr, Placeholders};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What to load.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Skip rules below this level.
    pub min_level: Option<Severity>,
    /// Only these statuses (lowercase); empty: every status but `deprecated` and `unsupported`.
    pub statuses: Vec<String>,
    /// Rule ids (or names) to skip.
    pub exclude: Vec<String>,
    /// Values of `%placeholders%` for the `expand` modifier.
    pub placeholders: Placeholders,
}

impl Options {
    /// Reads `--sigma-config`: YAML with `placeholders: {name: value | [values]}`.
    pub fn read_placeholders(&mut self, path: &Path) -> anyhow::Result<()> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let doc: Value = serde_norway::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{}: invalid YAML: {e}", path.display()))?;
        let Some(map) = doc.get("placeholders").and_then(Value::as_object) else {
            anyhow::bail!(
                "{}: expected a mapping `placeholders: {{name: [values]}}`",
                path.display()
            );
        };
        for (k, v) in map {
            let vals: Vec<String> = match v {
                Value::Array(a) => a.iter().map(scalar_text).collect::<Option<_>>(),
                v => scalar_text(v).map(|s| vec![s]),
            }
            .ok_or_else(|| {
                anyhow::anyhow!("{}: placeholder {k}: values must be strings", path.display())
            })?;
            self.placeholders.insert(k.clone(), vals);
        }
        Ok(())
    }
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A correlation type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CorrelationType {
    /// Count of events.
    EventCount,
    /// Count of distinct values of a field.
    ValueCount,
    /// All (or `condition` many) of the rules seen.
    Temporal,
    /// All of the rules seen, in the order given.
    TemporalOrdered,
}

impl CorrelationType {
    /// The name as written in rules.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            CorrelationType::EventCount => "event_count",
            CorrelationType::ValueCount => "value_count",
            CorrelationType::Temporal => "temporal",
            CorrelationType::TemporalOrdered => "temporal_ordered",
        }
    }
}

/// A correlation rule.
#[derive(Debug, Clone)]
pub struct Correlation {
    /// Its type.
    pub kind: CorrelationType,
    /// The rules it reads, as written (names or ids).
    pub rules: Vec<String>,
    /// The ids of those rules (resolved at load).
    pub rule_ids: Vec<String>,
    /// Record paths whose values form a group.
    pub group_by: Vec<String>,
    /// The window as written and in seconds.
    pub timespan: String,
    /// The window in seconds.
    pub timespan_secs: i64,
    /// Comparisons the window's count must meet (`gte`, `gt`, `lte`, `lt`, `eq`).
    pub condition: Vec<(String, u64)>,
    /// For `value_count`: the field whose distinct values are counted.
    pub field: Option<String>,
    /// Whether the referenced rules report their own matches too.
    pub generate: bool,
}

impl Correlation {
    /// Does a count meet the condition?
    #[must_use]
    pub fn holds(&self, n: u64) -> bool {
        self.condition.iter().all(|(op, k)| match op.as_str() {
            "gt" => n > *k,
            "gte" => n >= *k,
            "lt" => n < *k,
            "lte" => n <= *k,
            _ => n == *k,
        })
    }
}

/// What a Sigma rule does.
#[derive(Debug, Clone)]
pub enum Kind {
    /// A detection: the records it matches are findings.
    Detection(Expr),
    /// A correlation over other rules' matches.
    Correlation(Correlation),
}

/// A loaded Sigma rule: metadata carried to findings, and what it does.
#[derive(Debug, Clone)]
pub struct SigmaRule {
    /// `id` (usually a UUID), if given.
    pub id: Option<String>,
    /// `name`, if given (correlations may reference it).
    pub name: Option<String>,
    /// `title`.
    pub title: String,
    /// `level` as written (`informational` ... `critical`; empty when missing).
    pub level: String,
    /// `status`, if given.
    pub status: Option<String>,
    /// `author` (the Detection Rule License requires showing it; empty when missing).
    pub author: String,
    /// `falsepositives`.
    pub falsepositives: Vec<String>,
    /// The file it came from and the line its document starts on.
    pub file: String,
    /// 1-based line of the document's start.
    pub line: usize,
    /// Detection or correlation.
    pub kind: Kind,
}

/// A rule that was skipped or failed, with where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file.
    pub file: String,
    /// 1-based line (0 when the whole file is concerned).
    pub line: usize,
    /// The rule's id or title, if known.
    pub rule: String,
    /// Why.
    pub reason: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}: ", self.file, self.line)?;
        } else {
            write!(f, "{}: ", self.file)?;
        }
        if !self.rule.is_empty() {
            write!(f, "rule {}: ", self.rule)?;
        }
        f.write_str(&self.reason)
    }
}

/// The outcome of loading: rules that run, rules skipped (why) and rules that failed (why).
#[derive(Debug, Default)]
pub struct Loaded {
    /// Rules that load, as audit rules.
    pub rules: Vec<Rule>,
    /// Rules skipped by logsource, status, level or exclusion.
    pub skipped: Vec<Problem>,
    /// Rules (or files) that cannot load.
    pub failed: Vec<Problem>,
}

impl Loaded {
    /// One line: `N Sigma rules loaded, M skipped (reasons), K failed`.
    #[must_use]
    pub fn summary(&self) -> String {
        let mut reasons: Vec<(String, usize)> = Vec::new();
        for p in &self.skipped {
            let key = p.reason.split(':').next().unwrap_or("").to_string();
            match reasons.iter_mut().find(|(k, _)| *k == key) {
                Some((_, n)) => *n += 1,
                None => reasons.push((key, 1)),
            }
        }
        reasons.sort();
        let why = if reasons.is_empty() {
            String::new()
        } else {
            format!(
                " ({})",
                reasons.iter().map(|(k, n)| format!("{n} {k}")).collect::<Vec<_>>().join(", ")
            )
        };
        format!(
            "{} Sigma rules loaded, {} skipped{why}, {} failed",
            self.rules.len(),
            self.skipped.len(),
            self.failed.len()
        )
    }
}

/// Reads rule files and folders (recursively, `*.yml` and `*.yaml`, sorted).
#[must_use]
pub fn load(paths: &[PathBuf], opts: &Options) -> Loaded {
    let mut docs: Vec<Doc> = Vec::new();
    let mut out = Loaded::default();
    for path in paths {
        let files: Vec<PathBuf> = if path.is_dir() {
            let mut f: Vec<PathBuf> = walkdir::WalkDir::new(path)
                .into_iter()
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_file())
                .map(walkdir::DirEntry::into_path)
                .filter(|p| {
                    p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                        e.eq_ignore_ascii_case("yml") || e.eq_ignore_ascii_case("yaml")
                    })
                })
                .collect();
            f.sort();
            if f.is_empty() {
                out.failed.push(Problem {
                    file: path.display().to_string(),
                    line: 0,
                    rule: String::new(),
                    reason: "no Sigma rule files (.yml, .yaml) in this folder".into(),
                });
            }
            f
        } else {
            vec![path.clone()]
        };
        for f in files {
            let origin = f.display().to_string();
            match std::fs::read_to_string(&f) {
                Ok(text) => docs.extend(split_docs(&text, &origin)),
                Err(e) => out.failed.push(Problem {
                    file: origin,
                    line: 0,
                    rule: String::new(),
                    reason: e.to_string(),
                }),
            }
        }
    }
    load_docs(docs, opts, out)
}

/// Loads rules from one file's text (`origin` names it in problems).
#[must_use]
pub fn load_text(text: &str, origin: &str, opts: &Options) -> Loaded {
    load_docs(split_docs(text, origin), opts, Loaded::default())
}

/// One YAML document of a file.
struct Doc {
    file: String,
    line: usize,
    text: String,
}

/// Splits a file at `---` document markers, keeping each document's first line number.
fn split_docs(text: &str, origin: &str) -> Vec<Doc> {
    let mut docs = Vec::new();
    let mut cur = String::new();
    let mut start = 1;
    for (i, line) in text.lines().enumerate() {
        let marker =
            line.starts_with("---") && line[3..].chars().next().is_none_or(char::is_whitespace);
        if marker || line.trim_end() == "..." {
            docs.push(Doc {
                file: origin.to_string(),
                line: start,
                text: std::mem::take(&mut cur),
            });
            start = i + 2;
            if marker {
                // Content after the marker on the same line belongs to the next document.
                let rest = line[3..].trim();
                if !rest.is_empty() && !rest.starts_with('#') {
                    start = i + 1;
                    cur.push_str(rest);
                    cur.push('\n');
                }
            }
        } else {
            cur.push_str(line);
            cur.push('\n');
        }
    }
    docs.push(Doc { file: origin.to_string(), line: start, text: cur });
    docs.retain(|d| {
        d.text.lines().any(|l| {
            let t = l.trim();
            !t.is_empty() && !t.starts_with('#')
        })
    });
    docs
}

impl Doc {
    /// The line of the first occurrence of `needle` (else the document's first line).
    fn line_of(&self, needle: &str) -> usize {
        if needle.is_empty() {
            return self.line;
        }
        // Prefer the line where it is a key (or a list item), then any line holding it.
        let as_key = |l: &str| {
            let t = l.trim_start().trim_start_matches("- ").trim_start_matches(['\'', '"']);
            t.strip_prefix(needle).is_some_and(|rest| {
                let rest = rest.trim_start_matches(['\'', '"']);
                rest.is_empty() || rest.starts_with(':')
            })
        };
        let lines: Vec<&str> = self.text.lines().collect();
        lines
            .iter()
            .position(|l| as_key(l))
            .or_else(|| lines.iter().position(|l| l.contains(needle)))
            .map_or(self.line, |i| self.line + i)
    }
}

/// A parsed document on its way to a rule.
struct Parsed {
    doc: Doc,
    map: serde_json::Map<String, Value>,
    label: String,
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a.iter().filter_map(scalar_text).collect(),
        _ => Vec::new(),
    }
}

fn text(map: &serde_json::Map<String, Value>, k: &str) -> Option<String> {
    map.get(k).and_then(scalar_text).map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// Sigma `level` to the project's severity.
#[must_use]
pub fn severity(level: &str) -> Option<Severity> {
    Some(match level.to_ascii_lowercase().as_str() {
        "informational" | "info" => Severity::Info,
        "low" => Severity::Low,
        "medium" => Severity::Medium,
        "high" => Severity::High,
        "critical" => Severity::Critical,
        _ => return None,
    })
}

fn load_docs(docs: Vec<Doc>, opts: &Options, mut out: Loaded) -> Loaded {
    // One line per problem: multi-line messages (the regex crate's) are joined.
    let problem = |doc: &Doc, needle: &str, rule: &str, reason: String| Problem {
        file: doc.file.clone(),
        line: doc.line_of(needle),
        rule: rule.to_string(),
        reason: reason
            .split('\n')
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" "),
    };
    // 1. Parse YAML, apply the filters that need no compiling.
    let mut parsed: Vec<Parsed> = Vec::new();
    for doc in docs {
        let v: Value = match serde_norway::from_str(&doc.text) {
            Ok(v) => v,
            Err(e) => {
                let line = e.location().map_or(doc.line, |l| doc.line + l.line().saturating_sub(1));
                out.failed.push(Problem {
                    file: doc.file.clone(),
                    line,
                    rule: String::new(),
                    reason: format!("invalid YAML: {e}"),
                });
                continue;
            }
        };
        let Value::Object(map) = v else {
            out.failed.push(problem(&doc, "", "", "a Sigma rule must be a mapping".into()));
            continue;
        };
        let label = text(&map, "id")
            .or_else(|| text(&map, "title"))
            .unwrap_or_else(|| "(no id or title)".into());
        if let Some(a) = text(&map, "action") {
            out.failed.push(problem(
                &doc,
                "action",
                &label,
                format!("unsupported feature: rule collections (action: {a})"),
            ));
            continue;
        }
        if map.contains_key("filter") && !map.contains_key("detection") {
            out.failed.push(problem(
                &doc,
                "filter",
                &label,
                "unsupported feature: Sigma filter (meta) rules".into(),
            ));
            continue;
        }
        let correlation = map.contains_key("correlation");
        if !correlation {
            let ls = map.get("logsource").and_then(Value::as_object);
            let get = |k: &str| {
                ls.and_then(|l| l.get(k)).and_then(Value::as_str).unwrap_or("").to_ascii_lowercase()
            };
            let (product, service) = (get("product"), get("service"));
            if product != "aws" || service != "cloudtrail" {
                out.skipped.push(problem(
                    &doc,
                    "logsource",
                    &label,
                    format!(
                        "logsource not AWS CloudTrail: product {product:?}, service {service:?}"
                    ),
                ));
                continue;
            }
        }
        let id = text(&map, "id");
        let name = text(&map, "name");
        if opts.exclude.iter().any(|x| Some(x) == id.as_ref() || Some(x) == name.as_ref()) {
            out.skipped.push(problem(&doc, "id", &label, "excluded: --exclude-rule".into()));
            continue;
        }
        let status = text(&map, "status").map(|s| s.to_ascii_lowercase());
        let status_ok = match &status {
            _ if !opts.statuses.is_empty() => {
                status.as_ref().is_some_and(|s| opts.statuses.contains(s))
            }
            Some(s) => s != "deprecated" && s != "unsupported",
            None => true,
        };
        if !status_ok {
            let s = status.as_deref().unwrap_or("(none)");
            let why = if opts.statuses.is_empty() {
                format!("status {s}: not run unless --status {s}")
            } else {
                format!("status {s}: not selected by --status")
            };
            out.skipped.push(problem(&doc, "status", &label, why));
            continue;
        }
        let level = text(&map, "level").unwrap_or_default();
        if !level.is_empty()
            && let (Some(min), Some(sev)) = (opts.min_level, severity(&level))
            && sev < min
        {
            out.skipped.push(problem(
                &doc,
                "level",
                &label,
                format!("level below --min-level: {level} < {min}"),
            ));
            continue;
        }
        parsed.push(Parsed { doc, map, label });
    }
    // 2. Detections, then correlations (which reference them by name or id).
    let mut known: Vec<(Option<String>, Option<String>, String)> = Vec::new(); // (id, name, rule id)
    let mut correlations = Vec::new();
    for p in parsed {
        if p.map.contains_key("correlation") {
            correlations.push(p);
            continue;
        }
        match build(&p, opts, &out.rules) {
            Ok(rule) => {
                known.push((text(&p.map, "id"), text(&p.map, "name"), rule.id.clone()));
                out.rules.push(rule);
            }
            Err((needle, reason)) => out.failed.push(problem(&p.doc, &needle, &p.label, reason)),
        }
    }
    for p in correlations {
        match build_correlation(&p, &known, &out.rules) {
            Ok(rule) => out.rules.push(rule),
            Err((needle, reason)) => out.failed.push(problem(&p.doc, &needle, &p.label, reason)),
        }
    }
    out
}

fn meta(p: &Parsed, kind: Kind) -> Result<SigmaRule, (String, String)> {
    let title =
        text(&p.map, "title").ok_or_else(|| ("title".to_string(), "missing title".to_string()))?;
    let level = text(&p.map, "level").unwrap_or_default();
    if !level.is_empty() && severity(&level).is_none() {
        return Err((
            "level".into(),
            format!("unknown level {level:?} (informational, low, medium, high, critical)"),
        ));
    }
    Ok(SigmaRule {
        id: text(&p.map, "id"),
        name: text(&p.map, "name"),
        title,
        level,
        status: text(&p.map, "status"),
        author: text(&p.map, "author").unwrap_or_default(),
        falsepositives: strings(p.map.get("falsepositives")),
        file: p.doc.file.clone(),
        line: p.doc.line,
        kind,
    })
}

/// The audit rule id: the Sigma id, else the name, else the file stem and line.
fn rule_id(p: &Parsed, rules: &[Rule]) -> Result<String, (String, String)> {
    let id = text(&p.map, "id").or_else(|| text(&p.map, "name")).unwrap_or_else(|| {
        let stem = Path::new(&p.doc.file)
            .file_stem()
            .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
        format!("{stem}:{}", p.doc.line)
    });
    if let Some(o) = rules.iter().find(|r| r.id == id) {
        let at = o.sigma.as_ref().map_or(o.origin.clone(), |s| format!("{}:{}", s.file, s.line));
        return Err(("id".into(), format!("duplicate id {id} (also in {at})")));
    }
    Ok(id)
}

fn audit_rule(p: &Parsed, id: String, sigma: SigmaRule, pattern: Pattern) -> Rule {
    let severity = severity(&sigma.level).unwrap_or(Severity::Medium);
    Rule {
        id,
        title: sigma.title.clone(),
        severity,
        description: text(&p.map, "description").unwrap_or_default(),
        pattern_text: pattern.to_string(),
        pattern: ViewPattern { pattern, view: View::Record },
        tags: strings(p.map.get("tags")),
        references: strings(p.map.get("references")),
        threshold: None,
        examples_match: Vec::new(),
        examples_no_match: Vec::new(),
        origin: sigma.file.clone(),
        sigma: Some(Arc::new(sigma)),
    }
}

fn build(p: &Parsed, opts: &Options, rules: &[Rule]) -> Result<Rule, (String, String)> {
    let id = rule_id(p, rules)?;
    let Some(det) = p.map.get("detection") else {
        return Err(("".into(), "missing detection".into()));
    };
    let Value::Object(det) = det else {
        return Err(("detection".into(), "detection must be a mapping".into()));
    };
    let compiled = detection::compile(det, &opts.placeholders).map_err(|e| (e.needle, e.msg))?;
    // The query pattern: every match matches it (the positive part; everything when none).
    let superset = match compiled.superset {
        Some(s) => s,
        None => Pattern::from_dnf(vec![Vec::new()]).map_err(|e| (String::new(), e.to_string()))?,
    };
    let sigma = meta(p, Kind::Detection(compiled.expr))?;
    Ok(audit_rule(p, id, sigma, superset))
}

fn build_correlation(
    p: &Parsed,
    known: &[(Option<String>, Option<String>, String)],
    rules: &[Rule],
) -> Result<Rule, (String, String)> {
    let id = rule_id(p, rules)?;
    let Some(Value::Object(c)) = p.map.get("correlation") else {
        return Err(("correlation".into(), "correlation must be a mapping".into()));
    };
    let fail = |k: &str, m: String| (k.to_string(), m);
    let kind = match c.get("type").and_then(Value::as_str) {
        Some("event_count") => CorrelationType::EventCount,
        Some("value_count") => CorrelationType::ValueCount,
        Some("temporal") => CorrelationType::Temporal,
        Some("temporal_ordered") => CorrelationType::TemporalOrdered,
        Some(t) => return Err(fail("type", format!("unsupported correlation type {t:?}"))),
        None => return Err(fail("correlation", "correlation has no type".into())),
    };
    if c.contains_key("aliases") {
        return Err(fail("aliases", "unsupported feature: correlation aliases".into()));
    }
    let refs = strings(c.get("rules"));
    if refs.is_empty() {
        return Err(fail("rules", "a correlation names the rules it reads (`rules:`)".into()));
    }
    let mut rule_ids = Vec::new();
    for r in &refs {
        match known.iter().find(|(i, n, _)| i.as_deref() == Some(r) || n.as_deref() == Some(r)) {
            Some((_, _, rid)) => rule_ids.push(rid.clone()),
            None => {
                return Err(fail(
                    r,
                    format!(
                        "references rule {r:?}, which is not loaded (not found, skipped, failed, or itself a correlation)"
                    ),
                ));
            }
        }
    }
    let timespan = c
        .get("timespan")
        .and_then(scalar_text)
        .ok_or_else(|| fail("correlation", "a correlation needs a timespan".into()))?;
    let timespan_secs = parse_duration(&timespan).map_err(|e| fail("timespan", e))?;
    let group_by = strings(c.get("group-by"));
    let mut condition = Vec::new();
    let mut field = None;
    match c.get("condition") {
        Some(Value::Object(m)) => {
            for (k, v) in m {
                match k.as_str() {
                    "field" => field = scalar_text(v),
                    "gt" | "gte" | "lt" | "lte" | "eq" => {
                        let n = v
                            .as_u64()
                            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                            .ok_or_else(|| {
                                fail("condition", format!("{k} takes a whole number"))
                            })?;
                        condition.push((k.clone(), n));
                    }
                    _ => return Err(fail("condition", format!("unknown condition key {k:?}"))),
                }
            }
        }
        None if matches!(kind, CorrelationType::Temporal | CorrelationType::TemporalOrdered) => {}
        _ => {
            return Err(fail(
                "condition",
                "a correlation condition is a mapping such as {gte: 10}".into(),
            ));
        }
    }
    if condition.is_empty()
        && matches!(kind, CorrelationType::EventCount | CorrelationType::ValueCount)
    {
        return Err(fail("condition", "the condition needs gt, gte, lt, lte or eq".into()));
    }
    if kind == CorrelationType::ValueCount && field.is_none() {
        return Err(fail("condition", "value_count needs `field` in its condition".into()));
    }
    let generate = c.get("generate").and_then(Value::as_bool).unwrap_or(false);
    let corr = Correlation {
        kind,
        rules: refs,
        rule_ids,
        group_by,
        timespan,
        timespan_secs,
        condition,
        field,
        generate,
    };
    let sigma = meta(p, Kind::Correlation(corr))?;
    // A correlation matches no single record: its pattern has no sub-rule.
    let never = Pattern::from_dnf(Vec::new()).map_err(|e| (String::new(), e.to_string()))?;
    Ok(audit_rule(p, id, sigma, never))
}

/// The options of `--sigma`, `--min-level`, `--status`, `--exclude-rule`, `--sigma-config`.
pub fn options(args: &crate::cli::SigmaArgs) -> anyhow::Result<Options> {
    use crate::cli::{SigmaLevel as L, SigmaStatus as S};
    let mut o = Options {
        min_level: args.min_level.map(|l| match l {
            L::Informational => Severity::Info,
            L::Low => Severity::Low,
            L::Medium => Severity::Medium,
            L::High => Severity::High,
            L::Critical => Severity::Critical,
        }),
        statuses: args
            .status
            .iter()
            .map(|s| {
                match s {
                    S::Stable => "stable",
                    S::Test => "test",
                    S::Experimental => "experimental",
                    S::Deprecated => "deprecated",
                    S::Unsupported => "unsupported",
                }
                .to_string()
            })
            .collect(),
        exclude: args.exclude_rule.clone(),
        placeholders: Placeholders::new(),
    };
    if let Some(p) = &args.sigma_config {
        o.read_placeholders(p)?;
    }
    Ok(o)
}

/// Prints every failed rule (and, with `skipped`, every skipped one) and the counts, on stderr.
pub fn report(loaded: &Loaded, skipped: bool, quiet: bool) {
    for p in &loaded.failed {
        crate::messages::error(&format!("{p}"));
    }
    if skipped {
        for p in &loaded.skipped {
            crate::messages::error(&format!("skipped: {p}"));
        }
    }
    if !quiet || !loaded.failed.is_empty() {
        crate::messages::error(&loaded.summary());
    }
}

#[cfg(test)]
mod tests;
