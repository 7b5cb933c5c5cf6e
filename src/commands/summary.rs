//! `trailscan summary`: an overview of the matching records, their top values, the notable
//! actions among them and their timeline, as text, JSON, CSV or HTML.

use super::Outcome;
use crate::cli::{FilterArgs, InputArgs, SummaryArgs};
use crate::config;
use crate::engine::{self, FileReport, Match, ScanConfig};
use crate::index::summary::{Answered, Covered, Tallies};
use crate::output::Field;
use crate::stats::Stats;
use crate::summary::render::{self, SummaryFormat, TextOptions};
use crate::summary::{Reader, Report, ReportOptions, Spec, Summary};
use anyhow::{Context, Result, bail};
use std::io::Write;
use std::sync::atomic::AtomicBool;
use std::sync::{Mutex, PoisonError};

/// Series drawn when the timeline is split (the rest are summed as `(other)`).
const SERIES: usize = 5;

/// Runs a summary, writing the report to `out` (or `--output`). Meant to be the last thing
/// the program does: the summary's memory is not freed.
pub fn run(args: &SummaryArgs, out: &mut dyn Write, stop: &AtomicBool) -> Result<Outcome> {
    if args.section.is_some() && args.format != SummaryFormat::Csv {
        bail!("--section is for --format csv");
    }
    if args.section.as_deref() == Some("groups") && args.by.is_none() {
        bail!("--section groups needs --by");
    }
    // Records are read through their fields here, never printed as they are.
    let spec = Spec {
        by: args.by.as_deref().map(|b| Field::list(Some(b))).unwrap_or_default(),
        timeline_by: args.timeline_by.as_deref().and_then(|f| Field::list(Some(f)).pop()),
        ..Spec::default()
    };
    if args.by.is_some() && spec.by.is_empty() {
        bail!("--by needs at least one field");
    }
    if args.format == SummaryFormat::Html {
        // One page for both commands: the interactive report (src/report/).
        return super::report::run_summary(args, &spec, out, stop);
    }
    let Collected { summary, stats, failed } =
        collect(&args.input, &args.filters, &spec, Some(args.top), stop)?;
    // Text and HTML show the top `--top` groups; JSON and CSV every group.
    let group_rows = match args.format {
        SummaryFormat::Text | SummaryFormat::Html => args.top,
        SummaryFormat::Json | SummaryFormat::Csv => 0,
    };
    let opts = ReportOptions { top: args.top, bucket: args.bucket, series: SERIES, group_rows };
    let report = Report::new(&summary, &spec, &opts, &stats);
    match &args.output {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("creating {}", path.display()))?;
            let mut w = std::io::BufWriter::new(file);
            write_report(args, &report, &mut w)?;
            w.flush().with_context(|| format!("writing {}", path.display()))?;
        }
        None => write_report(args, &report, out)?,
    }
    out.flush()?;
    config::report_stats(&stats, &args.input)?;
    let found = summary.all.count > 0;
    // The program ends when this returns. Freeing the tables and rows one allocation at a time
    // took longer than building the report (`--by actor` on the bench archive: 0.35 s for
    // 540 k groups), so they are left to the operating system.
    std::mem::forget((summary, report));
    Ok(Outcome::of(found, failed))
}

/// What one pass of the summary over the input found.
pub struct Collected {
    /// The merged summary.
    pub summary: Summary,
    /// Files and records read.
    pub stats: Stats,
    /// Whether any input could not be read.
    pub failed: bool,
}

/// Runs the summary's scan: every record the filters let through, counted into one
/// [`Summary`] (the notable actions kept in walk order).
///
/// Without groups or a split timeline, files the archive index covers whole are answered from
/// it, unopened. With `top`, the report made of the summary shows only the first `top` rows of
/// each field, and values the index counted that cannot reach them are counted without their
/// texts ([`Tallies::finish`]).
pub fn collect(
    input: &InputArgs,
    filter_args: &FilterArgs,
    spec: &Spec,
    top: Option<usize>,
    stop: &AtomicBool,
) -> Result<Collected> {
    match pass(input, filter_args, spec, top, stop, true)? {
        Ok(c) => Ok(c),
        Err(e) => {
            // Named here; the files' own problems were named by the pass that read them.
            crate::messages::error(&format!(
                "the index's summary of a file is damaged ({e}): the summary is made again from the files (`trailscan index --rebuild` rewrites the index)"
            ));
            crate::messages::muted(|| pass(input, filter_args, spec, top, stop, false))?
                .map_err(|e| anyhow::anyhow!("the index is damaged: {e}"))
        }
    }
}

/// One pass of [`collect`]; with `answers`, files are answered from the index where it can.
/// The inner error: the index's summary of a file it answered for cannot be read.
fn pass(
    input: &InputArgs,
    filter_args: &FilterArgs,
    spec: &Spec,
    top: Option<usize>,
    stop: &AtomicBool,
    answers: bool,
) -> Result<std::result::Result<Collected, crate::index::format::FormatError>> {
    let filters = config::filters(filter_args)?;
    let query = config::query(&filters, filter_args, input)?;
    // One reader for every thread; the scan reads its fields while it splits files.
    let first_reader = Reader::new(spec);
    let mut scan = ScanConfig {
        validate_hits: false,
        hit_times: false,
        extract: Some(first_reader.extractor()),
        ..config::scan(&filters, input)
    };
    // Without groups or a split timeline, what the summary counts of a file the index covers
    // whole is in the index.
    if answers && spec.by.is_empty() && spec.timeline_by.is_none() {
        config::use_index_for_summary(&mut scan, &query, input)?;
    } else {
        config::use_index(&mut scan, &query, input)?;
    }
    let mut stats = Stats::default();
    let mut failed = false;
    // Records are read and counted in the worker threads, each adding into one of a few
    // accumulators (counts do not depend on order; the accumulators are merged at the end).
    // Notable actions are kept in input order: those of a file travel with its report and are
    // merged here in walk order.
    let pool: Mutex<Vec<(Summary, Reader)>> = Mutex::new(Vec::new());
    let worker = |report: &mut FileReport, hits: Vec<Match<'_>>| {
        if hits.is_empty() {
            return;
        }
        let taken = pool.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let (mut counts, mut reader) =
            taken.unwrap_or_else(|| (Summary::default(), first_reader.clone()));
        let mut notable = Summary::default();
        let mut problems = Vec::new();
        let before = counts.all.count;
        for m in &hits {
            // Counts need a few fields; only possible notable actions are parsed whole.
            if let Err(e) = counts.observe_raw(&m.raw, m.fields, spec, &mut reader, &mut notable) {
                problems.push((m.index, e));
            }
        }
        // A file's matches may come in several chunks: whether this one counted a record, for
        // the consumer to count the file once.
        notable.files = u64::from(counts.all.count > before);
        pool.lock().unwrap_or_else(PoisonError::into_inner).push((counts, reader));
        for (record, e) in problems {
            report.reject_match(record, e);
        }
        report.partial = Some(Box::new(notable));
    };
    let mut summary = Summary::default();
    // The counts of files the index answered for, added up by value id.
    let mut answered = Tallies::default();
    // Files read that held a record counted, and whether the file being consumed has so far
    // (a huge file's matches are counted in chunks: memory holds one chunk of them).
    let (mut files, mut counted) = (0u64, false);
    engine::scan_with_chunks(&scan, &query, stop, &worker, |_, mut report: FileReport| {
        stats.merge(&report.stats);
        failed |= report.failed;
        match report.partial.take().map(|p| p.downcast::<Summary>()) {
            Some(Ok(mut part)) => {
                counted |= part.files > 0;
                part.files = 0;
                answered.read(*part, &mut summary, spec);
            }
            Some(Err(other)) => match other.downcast::<Answered>() {
                Ok(a) => answered.add(*a, &mut summary, spec),
                Err(other) => {
                    if let Ok(c) = other.downcast::<Covered>() {
                        answered.covered(*c);
                    }
                }
            },
            None => {}
        }
        if !report.more {
            files += u64::from(std::mem::take(&mut counted));
        }
        Ok(())
    })?;
    summary.files += files;
    // Into the largest accumulator (fewest values to move), then the notable actions, which
    // the accumulators do not hold, in walk order.
    let accumulators = pool.into_inner().unwrap_or_else(PoisonError::into_inner);
    let mut total = Summary::merge_all(accumulators.into_iter().map(|p| p.0), spec);
    if let Err(e) = answered.settle(&mut summary, spec, top, total.all.count > 0) {
        return Ok(Err(e));
    }
    total.merge(summary, spec);
    let mut summary = total;
    answered.finish(&mut summary, top);
    Ok(Ok(Collected { summary, stats, failed }))
}

fn write_report(args: &SummaryArgs, report: &Report, out: &mut dyn Write) -> Result<()> {
    match args.format {
        SummaryFormat::Text => {
            let opts = TextOptions {
                timeline: args.timeline || args.timeline_by.is_some(),
                top: args.top,
            };
            render::text(report, opts, out)?;
        }
        SummaryFormat::Json => render::json(report, out)?,
        SummaryFormat::Csv => render::csv(report, args.section.as_deref(), args.csv_raw, out)?,
        // Written by the report before a summary is made (see `run`).
        SummaryFormat::Html => bail!("--format html is written by the report"),
    }
    Ok(())
}
