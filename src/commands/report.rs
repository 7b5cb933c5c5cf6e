//! `trailscan report` (and `summary --format html`): the interactive HTML page of
//! [`crate::report`]. One scan counts the summary and remembers each record by its values'
//! ids; the cube, the profiles and the records kept are made of those once the top values are
//! known, the records kept read again from the files that hold them.

use super::Outcome;
use crate::audit::{self, Auditor, Rule, sigma};
use crate::cli::{FilterArgs, InputArgs, ReportArgs, SigmaArgs, SummaryArgs};
use crate::config;
use crate::engine::{self, FileReport, Match, ScanConfig};
use crate::messages;
use crate::query::Query;
use crate::record::fields::Extractor;
use crate::report::collect::{
    self, Counts, Dicts, Fetched, FieldReader, Kept, Lookup, Part, Pass, Plan, Rules, Wanted,
};
use crate::report::{self, Options};
use crate::stats::Stats;
use crate::summary::{self, Bucket, Reader, Report, ReportOptions, Spec, Summary};
use crate::trace::{self, Direction, Seeds, TraceSetup};
use anyhow::{Context, Result, bail};
use std::collections::HashSet;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
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
    max_cells: usize,
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
        max_cells: args.max_cells.max(1),
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
        max_cells: report::MAX_CELLS,
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
    let tests = Rules {
        rules: &rules,
        tester: (!rules.is_empty()).then_some(&tester),
        query: rules_query.as_ref(),
    };

    // One pass: each record is counted by the summary and, by the ids of its values in its
    // thread's dictionaries, kept for the cube (made once the summary knows the top values);
    // the audit rules are tested on it.
    let query = config::query(&filters, s.filters, s.input)?;
    // One extractor reads the report's fields and the summary's while the scan splits files.
    let mut paths = FieldReader::paths();
    let base = paths.len();
    paths.extend(Reader::paths(&s.spec).into_iter().map(str::to_string));
    let extractor = std::sync::Arc::new(Extractor::new(&paths));
    let reader = FieldReader::sharing(extractor.clone());
    let first_reader = Reader::sharing(&s.spec, extractor.clone(), base);
    let mut scan = ScanConfig {
        validate_hits: false,
        hit_times: false,
        extract: Some(extractor),
        ..config::scan(&filters, s.input)
    };
    config::use_index(&mut scan, &query, s.input)?;
    let spec = &s.spec;
    // Counts go into one of a few accumulators, one per thread at a time, each with its
    // dictionaries; what depends on walk order travels with the file's report.
    let pool: Mutex<Vec<(Summary, summary::Reader, usize)>> = Mutex::new(Vec::new());
    let dicts: Mutex<Vec<Dicts>> = Mutex::new(Vec::new());
    // The records' ids and the dictionaries are kept while they weigh less than the budget;
    // past it they are given up, and the records placed in a second pass.
    let (budget, held, over) = (collect::budget(), AtomicU64::new(0), AtomicBool::new(false));
    let worker = |report: &mut FileReport, hits: Vec<Match<'_>>| {
        if hits.is_empty() {
            return;
        }
        let taken = pool.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let (mut counts, mut sreader, slot) = taken.unwrap_or_else(|| {
            let mut all = dicts.lock().unwrap_or_else(PoisonError::into_inner);
            all.push(Dicts::default());
            (Summary::default(), first_reader.clone(), all.len() - 1)
        });
        let mut mine =
            std::mem::take(&mut dicts.lock().unwrap_or_else(PoisonError::into_inner)[slot]);
        let remember = !over.load(Ordering::Relaxed) && held.load(Ordering::Relaxed) < budget;
        let weight = mine.weight();
        let mut notable = Summary::default();
        let mut problems = Vec::new();
        let mut part = Part::new(slot);
        let mut scratch = crate::record::fields::Fields::default();
        let before = counts.all.count;
        for m in &hits {
            let n = notable.notable.len();
            if let Err(e) = counts.observe_raw(&m.raw, m.fields, spec, &mut sreader, &mut notable) {
                problems.push((m.index, e));
            }
            let is_notable = notable.notable.len() > n;
            part.observe(
                remember.then_some(&mut mine),
                &tests,
                &reader,
                &mut scratch,
                m.index,
                &m.raw,
                m.fields,
                is_notable,
            );
        }
        // A file's matches may come in several chunks: whether this one counted a record, for
        // the consumer to count the file once (as `summary`).
        notable.files = u64::from(counts.all.count > before);
        let grown = mine.weight().saturating_sub(weight) + part.weight();
        if held.fetch_add(grown, Ordering::Relaxed).saturating_add(grown) >= budget {
            over.store(true, Ordering::Relaxed);
        }
        if over.load(Ordering::Relaxed) {
            mine = Dicts::default();
        }
        dicts.lock().unwrap_or_else(PoisonError::into_inner)[slot] = mine;
        pool.lock().unwrap_or_else(PoisonError::into_inner).push((counts, sreader, slot));
        for (record, e) in problems {
            report.reject_match(record, e);
        }
        report.partial = Some(Box::new((notable, part)));
    };
    let mut stats = Stats::default();
    let mut failed = false;
    let mut merged = Summary::default();
    let mut pass = Pass::default();
    let mut auditor = Auditor::new(&rules);
    // Files that held a record counted, and whether the file being consumed has so far (a
    // huge file's matches come in chunks: memory holds one chunk of their text).
    let (mut files, mut counted) = (0u64, false);
    engine::scan_with_chunks(&scan, &query, stop, &worker, |_, mut report: FileReport| {
        stats.merge(&report.stats);
        failed |= report.failed;
        if let Some(Ok(both)) = report.partial.take().map(|p| p.downcast::<(Summary, Part)>()) {
            let (mut notable, part) = *both;
            if over.load(Ordering::Relaxed) && !pass.is_bounded() {
                pass.give_up();
                for d in dicts.lock().unwrap_or_else(PoisonError::into_inner).iter_mut() {
                    *d = Dicts::default();
                }
            }
            counted |= notable.files > 0;
            notable.files = 0;
            merged.merge(notable, spec);
            pass.merge(&report.name, part, &mut auditor, spec.max_notable);
        }
        if !report.more {
            files += u64::from(std::mem::take(&mut counted));
        }
        Ok(())
    })?;
    merged.files += files;
    // Into the largest accumulator, then the notable actions, in walk order (as `summary`).
    let accumulators = pool.into_inner().unwrap_or_else(PoisonError::into_inner);
    let mut total = Summary::merge_all(accumulators.into_iter().map(|p| p.0), spec);
    total.merge(merged, spec);
    let opts = ReportOptions { top: s.top, bucket: s.bucket, series: 5, group_rows: s.top };
    let rep = Report::new(&total, spec, &opts, &stats);
    let found = total.all.count > 0;

    // The top values known: the cube, the profiles and the records kept.
    let lookup = Lookup::new(&report::top_values(&rep));
    let plan = Plan {
        full: collect::Full::new(&lookup),
        lookup,
        bucket: report::bucket_seconds(rep.timeline.bucket),
        profiled: u16::try_from(report::MAX_IDENTITIES).unwrap_or(u16::MAX),
        per_value: s.per_value,
        wanted_ids: rep
            .notable
            .actions
            .iter()
            .take(report::MAX_NOTABLE)
            .filter_map(|a| a.event_id.clone())
            .collect(),
    };
    let dicts = dicts.into_inner().unwrap_or_else(PoisonError::into_inner);
    // The threshold rules' findings, before the records are placed: the auditor's windows
    // are dropped first.
    pass.findings.extend(auditor.finish());
    if over.load(Ordering::Relaxed) && !pass.is_bounded() {
        pass.give_up();
    }
    if pass.is_bounded() {
        drop(dicts);
        let scan = ScanConfig { progress: false, ..scan };
        place_again(&scan, &query, stop, &plan, &reader, &mut pass, &stats)?;
    } else {
        let mut fetch = |want: &Wanted| reread(&filters, s.input, &query, stop, want);
        pass.finish(&plan, &dicts, &reader, &mut fetch)?;
        std::mem::forget(dicts);
    }
    let findings = std::mem::take(&mut pass.findings);
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
        max_cells: s.max_cells,
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
    // The program ends when this returns: the dictionaries and counts (a value per distinct
    // actor, IP... of the archive) are left to the operating system, as `summary` leaves its
    // own, rather than freed one allocation at a time.
    std::mem::forget((total, rep, pass));
    Ok(if rules_failed { Outcome::Error } else { Outcome::of(found, failed) })
}

/// The report's second pass, once the first gave the records' ids up (past
/// [`collect::budget`]): every record read again, counted into the cube and the profiles in
/// a few per-thread accumulators, the candidates to keep handed on in walk order.
fn place_again(
    scan: &ScanConfig,
    query: &Query,
    stop: &AtomicBool,
    plan: &Plan,
    reader: &FieldReader,
    pass: &mut Pass,
    first: &Stats,
) -> Result<()> {
    let pool: Mutex<Vec<Counts>> = Mutex::new(Vec::new());
    let worker = |report: &mut FileReport, hits: Vec<Match<'_>>| {
        if hits.is_empty() {
            return;
        }
        let mut counts =
            pool.lock().unwrap_or_else(PoisonError::into_inner).pop().unwrap_or_default();
        let mut scratch = crate::record::fields::Fields::default();
        let kept =
            plan.place(reader, &mut counts, &mut scratch, hits.iter().map(|m| (&*m.raw, m.fields)));
        pool.lock().unwrap_or_else(PoisonError::into_inner).push(counts);
        report.partial_bytes = kept.iter().map(|k| k.raw.len() as u64).sum();
        report.partial = Some(Box::new(kept));
    };
    let mut second = Stats::default();
    messages::muted(|| {
        engine::scan_with_chunks(scan, query, stop, &worker, |_, mut report: FileReport| {
            second.merge(&report.stats);
            if let Some(Ok(kept)) = report.partial.take().map(|p| p.downcast::<Vec<Kept>>()) {
                pass.take_placed(plan, *kept);
            }
            Ok(())
        })
    })?;
    let mut all = pool.into_inner().unwrap_or_else(PoisonError::into_inner);
    all.sort_by_key(|c| std::cmp::Reverse(c.cells()));
    let mut all = all.into_iter();
    let mut counts = all.next().unwrap_or_default();
    all.for_each(|c| counts.merge(c));
    pass.place_counts(counts, plan);
    if second.records_read != first.records_read || second.files_failed != first.files_failed {
        messages::error(&format!(
            "the input changed while the report was made ({} then {} records read, {} then {} files failed): the page's filters may not add up to its totals",
            first.records_read, second.records_read, first.files_failed, second.files_failed
        ));
    }
    Ok(())
}

/// Only the files named: the report reads again the few that hold records it shows.
#[derive(Debug)]
struct OnlyFiles(HashSet<String>);

impl engine::Gate for OnlyFiles {
    fn decide(&self, path: &Path, _: &crate::source::stamp::FileStamp) -> engine::GateDecision {
        if self.0.contains(&path.display().to_string()) {
            engine::GateDecision::Read
        } else {
            engine::GateDecision::RuledOut
        }
    }
}

/// The texts of the records `want` names (by file and index in the file), read again with
/// the report's inputs and filters.
fn reread(
    filters: &crate::query::Filters,
    input: &InputArgs,
    query: &Query,
    stop: &AtomicBool,
    want: &Wanted,
) -> Result<Fetched> {
    let scan = ScanConfig {
        validate_hits: false,
        hit_times: false,
        progress: false,
        gate: Some(std::sync::Arc::new(OnlyFiles(want.keys().cloned().collect()))),
        ..config::scan(filters, input)
    };
    let worker = |report: &mut FileReport, hits: Vec<Match<'_>>| {
        let Some(indices) = want.get(&report.name) else { return };
        // A match's own copy of its text is taken over, not copied (a record of 100 MB).
        let got: Vec<(u32, String)> = hits
            .into_iter()
            .filter_map(|m| {
                let i = u32::try_from(m.index).ok()?;
                indices.contains(&i).then(|| (i, m.raw.into_owned()))
            })
            .collect();
        report.partial = Some(Box::new(got));
    };
    let mut out = Fetched::default();
    // Copies of a record (the same text in several places) share one text.
    let mut texts: std::collections::HashSet<std::sync::Arc<String>> = Default::default();
    messages::muted(|| {
        engine::scan_with_chunks(&scan, query, stop, &worker, |_, mut report: FileReport| {
            if let Some(Ok(got)) = report.partial.take().map(|p| p.downcast::<Vec<(u32, String)>>())
            {
                for (i, raw) in *got {
                    let text = match texts.get(&raw) {
                        Some(t) => std::sync::Arc::clone(t),
                        None => {
                            let t = std::sync::Arc::new(raw);
                            texts.insert(std::sync::Arc::clone(&t));
                            t
                        }
                    };
                    out.insert((report.name.clone(), i), text);
                }
            }
            Ok(())
        })
    })?;
    Ok(out)
}
