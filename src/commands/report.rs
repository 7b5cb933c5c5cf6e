//! `trailscan report` (and `summary --format html`): the interactive HTML page of
//! [`crate::report`]. Pass one is the summary's scan; pass two places every record by the top
//! values the first found, keeps the records behind them and tests the audit rules.

use super::Outcome;
use crate::audit::{self, Auditor, Rule, sigma};
use crate::cli::{FilterArgs, InputArgs, ReportArgs, SigmaArgs, SummaryArgs};
use crate::config;
use crate::engine::{self, FileReport, Match, ScanConfig};
use crate::messages;
use crate::query::Query;
use crate::report::collect::{Counts, FieldReader, Lookup, Part, Pass, Plan};
use crate::report::{self, Options};
use crate::stats::Stats;
use crate::summary::{Bucket, Report, ReportOptions, Spec};
use crate::trace::{self, Direction, Seeds, TraceSetup};
use anyhow::{Context, Result, bail};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::{Mutex, PoisonError};

/// What the audit part runs.
struct RuleChoice<'a> {
    packs: &'a [String],
    files: &'a [std::path::PathBuf],
    sigma: Option<&'a SigmaArgs>,
    off: bool,
}

struct Setup<'a> {
    input: &'a InputArgs,
    filters: &'a FilterArgs,
    spec: Spec,
    top: usize,
    per_value: usize,
    bucket: Option<Bucket>,
    output: Option<&'a Path>,
    rules: RuleChoice<'a>,
    /// Seeds of a credential trace to draw.
    trace: Seeds,
}

/// `trailscan report`.
pub fn run(args: &ReportArgs, out: &mut dyn Write, stop: &AtomicBool) -> Result<Outcome> {
    let setup = Setup {
        input: &args.input,
        filters: &args.filters,
        spec: Spec::default(),
        top: args.top.clamp(1, 1000),
        per_value: args.records_per_value,
        bucket: args.bucket,
        output: args.output.as_deref(),
        rules: RuleChoice {
            packs: &args.pack,
            files: &args.rules,
            sigma: Some(&args.sigma),
            off: args.no_audit,
        },
        trace: Seeds {
            keys: args.trace_key.clone(),
            users: args.trace_user.clone(),
            ..Seeds::default()
        },
    };
    make(&setup, out, stop)
}

/// `trailscan summary --format html`: the same page, with the summary's flags.
pub fn run_summary(
    args: &SummaryArgs,
    spec: &Spec,
    out: &mut dyn Write,
    stop: &AtomicBool,
) -> Result<Outcome> {
    let setup = Setup {
        input: &args.input,
        filters: &args.filters,
        spec: spec.clone(),
        top: if args.top == 0 { 1000 } else { args.top.min(1000) },
        per_value: crate::cli::RECORDS_PER_VALUE,
        bucket: args.bucket,
        output: args.output.as_deref(),
        rules: RuleChoice { packs: &[], files: &[], sigma: None, off: false },
        trace: Seeds::default(),
    };
    make(&setup, out, stop)
}

/// The selected rules (as `audit` selects them) and whether any rule file failed to load.
fn load_rules(choice: &RuleChoice<'_>, quiet: bool) -> Result<(Vec<Rule>, bool)> {
    if choice.off {
        return Ok((Vec::new(), false));
    }
    let sigma_paths = choice.sigma.map(|s| s.sigma.as_slice()).unwrap_or_default();
    let sigma_only = !sigma_paths.is_empty() && choice.packs.is_empty() && choice.files.is_empty();
    let mut rules =
        if sigma_only { Vec::new() } else { audit::select(choice.packs, choice.files)? };
    let mut failed = false;
    if let Some(args) = choice.sigma.filter(|_| !sigma_paths.is_empty()) {
        let loaded = sigma::load(&args.sigma, &sigma::options(args)?);
        sigma::report(&loaded, false, quiet);
        failed = !loaded.failed.is_empty();
        for r in loaded.rules {
            if let Some(o) = rules.iter().find(|o| o.id == r.id) {
                messages::error(&format!(
                    "{}: rule {}: duplicate id (also in {}): not run",
                    r.origin, r.id, o.origin
                ));
                failed = true;
                continue;
            }
            rules.push(r);
        }
    }
    if let Some(args) = choice.sigma {
        rules.retain(|r| !args.exclude_rule.contains(&r.id));
    }
    Ok((rules, failed))
}

/// The inputs and the filter flags (flag, value), for the commands the page shows.
fn command_words(input: &InputArgs, f: &FilterArgs) -> serde_json::Value {
    let paths: Vec<String> = input.paths.iter().map(|p| p.display().to_string()).collect();
    let flags = f.flags();
    serde_json::json!({ "paths": paths, "flags": flags })
}

fn make(s: &Setup<'_>, out: &mut dyn Write, stop: &AtomicBool) -> Result<Outcome> {
    if s.input.paths.iter().any(|p| p.as_os_str() == "-") {
        bail!("the report reads its input twice: give files or folders, not stdin (-)");
    }
    let quiet = s.input.quiet;
    for k in &s.trace.keys {
        if !trace::link::is_key(k) {
            bail!("--trace-key {k:?} is not an access key id (AKIA… or ASIA…)");
        }
    }
    let (rules, rules_failed) = load_rules(&s.rules, quiet)?;

    // Pass one: the summary.
    let collected = super::summary::collect(s.input, s.filters, &s.spec, None, stop)?;
    let stats = collected.stats.clone();
    let opts = ReportOptions { top: s.top, bucket: s.bucket, series: 5, group_rows: s.top };
    let rep = Report::new(&collected.summary, &s.spec, &opts, &stats);
    let found = collected.summary.all.count > 0;

    // Pass two: the cube, the profiles, the records kept, the findings.
    let lookup = Lookup::new(&report::top_values(&rep));
    let wanted_ids = rep
        .notable
        .actions
        .iter()
        .take(report::MAX_NOTABLE)
        .filter_map(|a| a.event_id.clone())
        .collect();
    let filters = config::filters(s.filters)?;
    let prefilter_on = !s.input.no_prefilter;
    let patterns: Vec<_> = rules
        .iter()
        .filter(|r| !matches!(r.sigma.as_ref().map(|x| &x.kind), Some(sigma::Kind::Correlation(_))))
        .map(|r| r.pattern.clone())
        .collect();
    let rules_query = if patterns.is_empty() {
        None
    } else {
        let only = Query::prefilter_only(&filters, patterns.clone(), prefilter_on)?;
        Some(if only.prefilter().is_active() {
            only
        } else {
            Query::from_patterns(&filters, patterns, prefilter_on)?
        })
    };
    let tester = crate::audit::Tester::new(&rules);
    let plan = Plan {
        lookup,
        bucket: report::bucket_seconds(rep.timeline.bucket),
        profiled: u16::try_from(report::MAX_IDENTITIES).unwrap_or(u16::MAX),
        per_value: s.per_value,
        wanted_ids,
        rules: &rules,
        tester: (!rules.is_empty()).then_some(&tester),
        rules_query: rules_query.as_ref(),
    };
    let query = config::query(&filters, s.filters, s.input)?;
    // The scan reads the fields while it splits delivery files, as for the summary.
    let reader = FieldReader::default();
    let mut scan = ScanConfig {
        validate_hits: false,
        hit_times: false,
        progress: false,
        extract: Some(reader.extractor()),
        ..config::scan(&filters, s.input)
    };
    config::use_index(&mut scan, &query, s.input)?;
    // Counts go into one of a few accumulators, one per thread at a time; what is kept in
    // walk order travels with the file's report.
    let pool: Mutex<Vec<Counts>> = Mutex::new(Vec::new());
    let worker = |report: &mut FileReport, hits: Vec<Match<'_>>| {
        let mut part = Part::default();
        let mut scratch = crate::record::fields::Fields::default();
        let taken = pool.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let mut counts = taken.unwrap_or_default();
        for m in &hits {
            part.observe(&mut counts, &plan, &reader, &mut scratch, m.index, &m.raw, m.fields);
        }
        pool.lock().unwrap_or_else(PoisonError::into_inner).push(counts);
        report.partial = Some(Box::new(part));
    };
    let mut pass = Pass::default();
    let mut auditor = Auditor::new(&rules);
    let mut second = Stats::default();
    messages::muted(|| {
        engine::scan_with(&scan, &query, stop, &worker, |_, mut report: FileReport| {
            second.merge(&report.stats);
            if let Some(part) = report.partial.take().and_then(|p| p.downcast::<Part>().ok()) {
                pass.merge(&plan, *part, &mut auditor);
            }
            Ok(())
        })
    })?;
    let mut accs = pool.into_inner().unwrap_or_else(PoisonError::into_inner);
    accs.sort_by_key(|c| std::cmp::Reverse(c.cube.len()));
    let mut accs = accs.into_iter();
    let mut counts = accs.next().unwrap_or_default();
    accs.for_each(|c| counts.merge(c));
    pass.absorb(counts);
    let mut findings = std::mem::take(&mut pass.findings);
    findings.extend(auditor.finish());
    if second.files_failed != stats.files_failed || second.records_read != stats.records_read {
        messages::error(&format!(
            "the input changed between the report's two passes ({} then {} records read, {} then {} files failed): the page's filters may not add up to its totals",
            stats.records_read, second.records_read, stats.files_failed, second.files_failed
        ));
    }
    if !quiet && auditor.untimed > 0 {
        messages::error(&format!(
            "{} records matched threshold or correlation rules without a valid eventTime and were not counted",
            auditor.untimed
        ));
    }

    let command = command_words(s.input, s.filters);
    let audit_note = if s.rules.off {
        "not run (--no-audit)".to_string()
    } else {
        let mut origins: Vec<&str> = rules.iter().map(|r| r.origin.as_str()).collect();
        origins.dedup();
        origins.sort_unstable();
        origins.dedup();
        format!("{} rules from {}", rules.len(), origins.join(", "))
    };
    // The credential tree, when asked for: `trace`'s passes, within the report's scope.
    let traced = if s.trace.is_empty() {
        None
    } else {
        let all = config::filters(s.filters)?;
        let scope = crate::query::Filters {
            accounts: all.accounts.clone(),
            regions: all.regions.clone(),
            since: all.since,
            until: all.until,
            ..crate::query::Filters::default()
        };
        let setup = TraceSetup {
            scan: ScanConfig { progress: false, ..config::scan(&scope, s.input) },
            scope,
            prefilter: prefilter_on,
            keep_raw: false,
            stop,
            index_dir: config::index_dir(s.input)?,
        };
        let tr = messages::muted(|| trace::run(&setup, &s.trace, Direction::Both))?;
        Some(report::trace_json(&tr))
    };
    let opts = Options {
        top: s.top,
        per_value: s.per_value,
        bucket: s.bucket,
        command,
        audit_note,
        trace: traced,
    };
    let data =
        report::data(&rep, &mut pass, &plan.lookup, &rules, &findings, &stats, &opts, !s.rules.off);
    match s.output {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("creating {}", path.display()))?;
            let mut w = std::io::BufWriter::new(file);
            report::page::write(&data, &mut w)?;
            w.flush().with_context(|| format!("writing {}", path.display()))?;
        }
        None => {
            report::page::write(&data, out)?;
            out.flush()?;
        }
    }
    config::report_stats(&stats, s.input)?;
    Ok(if rules_failed { Outcome::Error } else { Outcome::of(found, collected.failed) })
}
