//! `trailscan audit`: one scan, every selected rule tested on every hit, findings reported as a
//! summary table, JSON lines, a JSON array or CSV.
//!
//! The query is the search flags AND-ed with the OR of all rule patterns, so the prefilter and
//! path pruning work as for `search`; each hit is then read once and tested against the rules
//! its `eventName` concerns ([`audit::Tester`]). Findings of plain rules stream in archive walk
//! order; threshold findings follow once the scan is done.

use super::Outcome;
use crate::audit::{self, Auditor, Finding, Rule, Severity, sigma};
use crate::cli::AuditArgs;
use crate::config;
use crate::engine::{self, FileReport, Match, ScanConfig};
use crate::messages;
use crate::output::{Format, color, compact, lookup, sanitize};
use crate::query::Query;
use crate::stats::Stats;
use anyhow::{Context, Result, bail};
use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;
use std::io::{IsTerminal, Write};
use std::sync::atomic::AtomicBool;

/// Runs an audit, writing findings to `out`.
pub fn run(args: &AuditArgs, out: &mut dyn Write, stop: &AtomicBool) -> Result<Outcome> {
    if !args.filters.pattern.is_empty() {
        bail!("--pattern is not an audit filter: put the pattern in a rule file (--rules)");
    }
    let (rules, rules_failed) =
        select_rules(&args.pack, &args.rules, &args.sigma, args.min_severity, args.input.quiet)?;
    let filters = config::filters(&args.filters)?;
    if let Some(dialect) = args.emit_sql {
        return super::sql::emit_rules(&rules, &filters, dialect, &args.sql, out);
    }
    let (query, scan) = plan(&rules, Vec::new(), &filters, &args.input)?;
    let mut auditor = Auditor::new(&rules);
    auditor.quiet_below(args.min_severity);
    let mut sink = Report::new(args, out, rules.iter().any(|r| r.sigma.is_some()));
    let mut stats = Stats::default();
    let (mut failed, mut fail) = (false, false);
    // Rules are tested in the worker threads; findings and threshold windows are made here,
    // in walk order. Records are read only as far as the rules and findings need.
    let tester = audit::Tester::new(&rules);
    let worker = |report: &mut FileReport, hits: Vec<Match<'_>>| {
        let mut tested: Vec<(String, serde_json::Value, Vec<usize>)> = Vec::new();
        for Match { index: record, raw, .. } in hits {
            match tester.test(&raw) {
                Ok((v, ids)) => {
                    if !ids.is_empty() {
                        tested.push((raw.into_owned(), v, ids));
                    }
                }
                Err(e) => report.reject_match(record, e),
            }
        }
        // The query only prefiltered: "matched" counts the records some rule matches.
        report.stats.records_matched = tested.len() as u64;
        report.partial = Some(Box::new(tested));
    };
    // A huge file's candidates are tested in chunks (memory holds one chunk of them).
    engine::scan_with_chunks(&scan, &query, stop, &worker, |_, mut report: FileReport| {
        stats.merge(&report.stats);
        failed |= report.failed;
        let tested = report
            .partial
            .take()
            .and_then(|p| p.downcast::<Vec<(String, serde_json::Value, Vec<usize>)>>().ok());
        for (raw, v, ids) in tested.into_iter().flat_map(|t| *t) {
            for f in auditor.record_matched_owned(raw, &v, &ids) {
                fail |= rules[f.rule].severity >= args.fail_on;
                sink.finding(&rules, &f)?;
            }
        }
        Ok(())
    })?;
    for f in auditor.finish() {
        fail |= rules[f.rule].severity >= args.fail_on;
        sink.finding(&rules, &f)?;
    }
    sink.finish(&auditor)?;
    end(auditor.untimed, &stats, &args.input, failed || rules_failed, fail)
}

/// The end of an audit pass (`audit`, `timeline`): the count of records threshold and
/// correlation rules could not place in time, the accounting line, and the exit status.
pub(super) fn end(
    untimed: u64,
    stats: &crate::stats::Stats,
    input: &crate::cli::InputArgs,
    failed: bool,
    found: bool,
) -> Result<Outcome> {
    if !input.quiet && untimed > 0 {
        messages::error(&format!(
            "{untimed} records matched threshold or correlation rules without a valid eventTime and were not counted"
        ));
    }
    config::report_stats(stats, input)?;
    Ok(if failed {
        Outcome::Error
    } else if found {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}

/// The rules an audit runs: `--pack` and `--rules` (all packs when neither is given and no
/// Sigma rule is), then the Sigma rules, less `--exclude-rule` and the rules below `min` (kept,
/// quietly, when a correlation at or above it reads them). The flag says a Sigma rule failed
/// to load (the run ends with status 2).
pub(crate) fn select_rules(
    packs: &[String],
    files: &[std::path::PathBuf],
    sigma_args: &crate::cli::SigmaArgs,
    min: Severity,
    quiet: bool,
) -> Result<(Vec<Rule>, bool)> {
    let sigma_only = !sigma_args.sigma.is_empty() && packs.is_empty() && files.is_empty();
    let mut rules = if sigma_only { Vec::new() } else { audit::select(packs, files)? };
    let mut rules_failed = false;
    if !sigma_args.sigma.is_empty() {
        let loaded = sigma::load(&sigma_args.sigma, &sigma::options(sigma_args)?);
        sigma::report(&loaded, false, quiet);
        rules_failed = !loaded.failed.is_empty();
        for r in loaded.rules {
            if let Some(o) = rules.iter().find(|o| o.id == r.id) {
                messages::error(&format!(
                    "{}: rule {}: duplicate id (also in {}): not run",
                    r.origin, r.id, o.origin
                ));
                rules_failed = true;
                continue;
            }
            rules.push(r);
        }
    }
    rules.retain(|r| !sigma_args.exclude_rule.contains(&r.id));
    // Rules below --min-severity stay when a correlation at or above it reads them (quietly).
    let read: Vec<String> = rules
        .iter()
        .filter(|r| r.severity >= min)
        .filter_map(|r| match r.sigma.as_ref().map(|s| &s.kind) {
            Some(sigma::Kind::Correlation(c)) => Some(c.rule_ids.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    rules.retain(|r| r.severity >= min || read.contains(&r.id));
    if rules.is_empty() {
        bail!("no rule at or above severity {min} (--min-severity, --min-level)");
    }
    Ok((rules, rules_failed))
}

/// The query and scan of one audit pass over `rules` and `extra` patterns (which the caller
/// tests itself, like the rules): the query only prefilters when it can, and the archive index
/// plans the rules' patterns.
pub(crate) fn plan(
    rules: &[Rule],
    extra: Vec<crate::query::ViewPattern>,
    filters: &crate::query::Filters,
    input: &crate::cli::InputArgs,
) -> Result<(Query, ScanConfig)> {
    // Each rule's pattern (for a Sigma rule: one every match matches); correlations match no
    // record themselves.
    let mut patterns = Vec::new();
    for r in rules {
        if !matches!(r.sigma.as_ref().map(|s| &s.kind), Some(sigma::Kind::Correlation(_))) {
            patterns.push(r.pattern.clone());
        }
    }
    patterns.extend(extra);
    // Every record the query lets through is tested against every rule by the workers below.
    // With an active prefilter the query only applies it (and the flags and time window), so
    // each candidate is tested once; without one, the rules' patterns are matched on the
    // projected record first, which is cheaper than parsing every record whole.
    let only = Query::prefilter_only(filters, patterns.clone(), !input.no_prefilter)?;
    let query = if only.prefilter().is_active() {
        only
    } else {
        Query::from_patterns(filters, patterns.clone(), !input.no_prefilter)?
    };
    // Every match is parsed whole by the caller, which checks it.
    let mut scan =
        ScanConfig { validate_hits: false, hit_times: false, ..config::scan(filters, input) };
    // A file is skipped only when no rule can match a record in it: the index plans the rules'
    // patterns, which a prefilter-only query does not hold.
    let planned = Query::from_patterns(filters, patterns, false)?;
    config::use_index(&mut scan, &planned, input)?;
    Ok((query, scan))
}

/// A finding as JSON.
#[derive(Serialize)]
struct FindingJson<'a> {
    rule: &'a str,
    severity: Severity,
    title: &'a str,
    first_seen: Option<&'a str>,
    last_seen: Option<&'a str>,
    events: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    threshold: Option<ThresholdJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sigma: Option<SigmaJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    correlation: Option<CorrelationJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    record: Option<Box<RawValue>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    records: Option<Vec<Box<RawValue>>>,
}

#[derive(Serialize)]
struct ThresholdJson<'a> {
    count: usize,
    within: &'a str,
    by: serde_json::Map<String, Value>,
}

/// A Sigma rule's metadata, with every finding (the author: the Detection Rule License).
#[derive(Serialize)]
struct SigmaJson<'a> {
    id: Option<&'a str>,
    title: &'a str,
    level: &'a str,
    status: Option<&'a str>,
    author: &'a str,
    tags: &'a [String],
    falsepositives: &'a [String],
    references: &'a [String],
    file: &'a str,
    line: usize,
}

#[derive(Serialize)]
struct CorrelationJson<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    rules: &'a [String],
    timespan: &'a str,
    condition: serde_json::Map<String, Value>,
    group_by: serde_json::Map<String, Value>,
}

fn sigma_json<'a>(rule: &'a Rule) -> Option<SigmaJson<'a>> {
    let s = rule.sigma.as_deref()?;
    Some(SigmaJson {
        id: s.id.as_deref(),
        title: &s.title,
        level: &s.level,
        status: s.status.as_deref(),
        author: &s.author,
        tags: &rule.tags,
        falsepositives: &s.falsepositives,
        references: &rule.references,
        file: &s.file,
        line: s.line,
    })
}

fn raw_value(raw: &str) -> Result<Box<RawValue>> {
    RawValue::from_string(compact(raw).into_owned()).context("a matched record is not valid JSON")
}

fn finding_json<'a>(rule: &'a Rule, f: &'a Finding) -> Result<FindingJson<'a>> {
    let (first_seen, last_seen) = f.span();
    let mut j = FindingJson {
        rule: &rule.id,
        severity: rule.severity,
        title: &rule.title,
        first_seen,
        last_seen,
        events: f.records.len(),
        threshold: None,
        sigma: sigma_json(rule),
        correlation: None,
        record: None,
        records: None,
    };
    if let Some(sigma::Kind::Correlation(c)) = rule.sigma.as_ref().map(|s| &s.kind) {
        let mut condition = serde_json::Map::new();
        for (op, n) in &c.condition {
            condition.insert(op.clone(), Value::from(*n));
        }
        if let Some(fld) = &c.field {
            condition.insert("field".into(), Value::from(fld.as_str()));
        }
        j.correlation = Some(CorrelationJson {
            kind: c.kind.as_str(),
            rules: &c.rules,
            timespan: &c.timespan,
            condition,
            group_by: f.group.iter().flatten().cloned().collect(),
        });
        j.records = Some(f.records.iter().map(|m| raw_value(&m.raw)).collect::<Result<_>>()?);
        return Ok(j);
    }
    match (&rule.threshold, &f.group) {
        (Some(t), Some(group)) => {
            j.threshold = Some(ThresholdJson {
                count: t.count,
                within: &t.within,
                by: group.iter().cloned().collect(),
            });
            j.records = Some(f.records.iter().map(|m| raw_value(&m.raw)).collect::<Result<_>>()?);
        }
        _ => j.record = f.records.first().map(|m| raw_value(&m.raw)).transpose()?,
    }
    Ok(j)
}

/// CSV columns, one row per finding (for a threshold window: its first record's fields).
const CSV_HEADER: [&str; 13] = [
    "rule",
    "severity",
    "title",
    "first_seen",
    "last_seen",
    "events",
    "eventName",
    "actor",
    "sourceIPAddress",
    "recipientAccountId",
    "awsRegion",
    "eventID",
    "group",
];

/// CSV columns added when Sigma rules run (empty for other rules).
const CSV_SIGMA: [&str; 6] =
    ["level", "author", "tags", "falsepositives", "references", "sigma_id"];

enum Report<'w> {
    Table { out: &'w mut dyn Write, fit: bool },
    Jsonl { out: &'w mut dyn Write },
    Json { out: &'w mut dyn Write, first: bool },
    Csv { out: Box<csv::Writer<&'w mut dyn Write>>, raw: bool, sigma: bool },
}

impl<'w> Report<'w> {
    fn new(args: &AuditArgs, out: &'w mut dyn Write, sigma: bool) -> Self {
        match args.format {
            Format::Table => Report::Table { out, fit: std::io::stdout().is_terminal() },
            Format::Jsonl => Report::Jsonl { out },
            Format::Json => Report::Json { out, first: true },
            Format::Csv => {
                let mut w = csv::Writer::from_writer(out);
                // The header is written even when there is no finding.
                let mut header: Vec<&str> = CSV_HEADER.to_vec();
                if sigma {
                    header.extend(CSV_SIGMA);
                }
                let _ = w.write_record(header);
                Report::Csv { out: Box::new(w), raw: args.csv_raw, sigma }
            }
        }
    }

    fn finding(&mut self, rules: &[Rule], f: &Finding) -> Result<()> {
        let rule = &rules[f.rule];
        match self {
            Report::Table { .. } => {}
            Report::Jsonl { out } => {
                serde_json::to_writer(&mut **out, &finding_json(rule, f)?)?;
                out.write_all(b"\n")?;
            }
            Report::Json { out, first } => {
                out.write_all(if *first { b"[\n" } else { b",\n" })?;
                *first = false;
                serde_json::to_writer(&mut **out, &finding_json(rule, f)?)?;
            }
            Report::Csv { out, raw, sigma } => {
                let rec: Value = f
                    .records
                    .first()
                    .and_then(|m| serde_json::from_str(&m.raw).ok())
                    .unwrap_or(Value::Null);
                let field = |p: &str| match lookup(&rec, p) {
                    None | Some(Value::Null) => String::new(),
                    Some(Value::String(s)) => s.clone(),
                    Some(v) => v.to_string(),
                };
                let (first, last) = f.span();
                let group = f.group.as_ref().map_or(String::new(), |g| {
                    g.iter()
                        .map(|(k, v)| match v {
                            Value::String(s) => format!("{k}={s}"),
                            _ => format!("{k}={v}"),
                        })
                        .collect::<Vec<_>>()
                        .join(" ")
                });
                let mut cells = vec![
                    rule.id.clone(),
                    rule.severity.to_string(),
                    rule.title.clone(),
                    first.unwrap_or_default().to_string(),
                    last.unwrap_or_default().to_string(),
                    f.records.len().to_string(),
                    field("eventName"),
                    f.records.first().map(|m| m.actor.clone()).unwrap_or_default(),
                    field("sourceIPAddress"),
                    field("recipientAccountId"),
                    field("awsRegion"),
                    field("eventID"),
                    group,
                ];
                if *sigma {
                    match rule.sigma.as_deref() {
                        Some(s) => cells.extend([
                            s.level.clone(),
                            s.author.clone(),
                            rule.tags.join(" "),
                            s.falsepositives.join("; "),
                            rule.references.join(" "),
                            s.id.clone().unwrap_or_default(),
                        ]),
                        None => cells.extend(std::iter::repeat_n(String::new(), CSV_SIGMA.len())),
                    }
                }
                let raw = *raw;
                let cells = cells.iter().map(|c| {
                    if raw {
                        c.clone()
                    } else {
                        sanitize::csv_formula(&sanitize::csv_text(c)).into_owned()
                    }
                });
                out.write_record(cells)?;
            }
        }
        Ok(())
    }

    fn finish(&mut self, auditor: &Auditor<'_>) -> Result<()> {
        match self {
            Report::Table { out, fit } => {
                summary_table(&mut **out, *fit, auditor)?;
                out.flush()?;
            }
            Report::Jsonl { out } => out.flush()?,
            Report::Json { out, first } => {
                out.write_all(if *first { b"[]\n" } else { b"\n]\n" })?;
                out.flush()?;
            }
            Report::Csv { out, .. } => out.flush()?,
        }
        Ok(())
    }
}

/// One row per rule with findings, most severe first.
fn summary_table(out: &mut dyn Write, fit: bool, auditor: &Auditor<'_>) -> Result<()> {
    let rules = auditor.rules();
    let mut rows: Vec<(usize, &audit::Summary)> =
        auditor.summaries().iter().enumerate().filter(|(_, s)| s.findings > 0).collect();
    rows.sort_by(|a, b| {
        rules[b.0]
            .severity
            .cmp(&rules[a.0].severity)
            .then_with(|| rules[a.0].id.cmp(&rules[b.0].id))
    });
    if rows.is_empty() {
        writeln!(out, "no findings ({} rules checked)", rules.len())?;
        return Ok(());
    }
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    if color::enabled() {
        t.enforce_styling();
    }
    t.set_content_arrangement(if fit {
        comfy_table::ContentArrangement::Dynamic
    } else {
        comfy_table::ContentArrangement::Disabled
    });
    let sigma = rules.iter().any(|r| r.sigma.is_some());
    let mut header = vec![
        "severity",
        "rule",
        "title",
        "findings",
        "events",
        "first seen",
        "last seen",
        "actors",
    ];
    if sigma {
        header.extend(["author", "tags"]);
    }
    t.set_header(header);
    let term = |s: &str| sanitize::terminal(s).into_owned();
    for (i, s) in &rows {
        let r = &rules[*i];
        let mut actors = s.actors.join(", ");
        if s.more_actors {
            actors.push_str(", ...");
        }
        let style = match r.severity {
            Severity::Critical | Severity::High => Some(comfy_table::Color::Red),
            Severity::Medium => Some(comfy_table::Color::Yellow),
            Severity::Low => Some(comfy_table::Color::Cyan),
            Severity::Info => None,
        };
        let severity = comfy_table::Cell::new(r.severity.to_string());
        let mut row = vec![
            match style {
                Some(c) if color::enabled() => severity.fg(c),
                _ => severity,
            },
            comfy_table::Cell::new(term(&r.id)),
            comfy_table::Cell::new(term(&r.title)),
            comfy_table::Cell::new(s.findings),
            comfy_table::Cell::new(s.events),
            comfy_table::Cell::new(s.first.as_ref().map_or(String::new(), |f| term(&f.1))),
            comfy_table::Cell::new(s.last.as_ref().map_or(String::new(), |f| term(&f.1))),
            comfy_table::Cell::new(term(&actors)),
        ];
        if sigma {
            let author = r.sigma.as_ref().map_or(String::new(), |s| s.author.clone());
            row.push(comfy_table::Cell::new(term(&author)));
            row.push(comfy_table::Cell::new(term(&r.tags.join(" "))));
        }
        t.add_row(row);
    }
    writeln!(out, "{t}")?;
    // Sigma rules with findings: where they come from, what may be benign, where to read more.
    for (i, _) in &rows {
        let r = &rules[*i];
        let Some(s) = &r.sigma else { continue };
        let mut line = format!(
            "sigma {}: {} (level {}, author {}, {}:{})",
            r.id,
            s.title,
            if s.level.is_empty() { "not set" } else { &s.level },
            if s.author.is_empty() { "not given" } else { &s.author },
            s.file,
            s.line
        );
        if !s.falsepositives.is_empty() {
            line.push_str(&format!("; false positives: {}", s.falsepositives.join("; ")));
        }
        if !r.references.is_empty() {
            line.push_str(&format!("; references: {}", r.references.join(" ")));
        }
        writeln!(out, "{}", term(&line))?;
    }
    let findings: u64 = rows.iter().map(|(_, s)| s.findings).sum();
    writeln!(out, "{findings} findings from {} of {} rules", rows.len(), rules.len())?;
    Ok(())
}
