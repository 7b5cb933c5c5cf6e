//! `trailscan search`: matching records, in eventTime order, as a table, JSON or CSV.

use super::Outcome;
use crate::cli::SearchArgs;
use crate::config;
use crate::engine::{self, FileReport};
use crate::output::{Csv, Field, Format, JsonArray, JsonLines, Sink, Table};
use crate::sort::{Entry, Key, Sorter};
use crate::source::{Input, SkipReason, WalkItem, Walker};
use crate::stats::Stats;
use anyhow::{Context, Result};
use std::borrow::Cow;
use std::collections::HashSet;
use std::io::{IsTerminal, Write};
use std::sync::atomic::AtomicBool;

/// Memory for sorting matches before they spill to temporary files.
const SORT_BUDGET: usize = 64 << 20;

/// Runs a search, writing results to `out`.
pub fn run(args: &SearchArgs, out: &mut dyn Write, stop: &AtomicBool) -> Result<Outcome> {
    let filters = config::filters(&args.filters)?;
    let query = config::query(&filters, &args.filters, &args.input)?;
    let mut scan = config::scan(&filters, &args.input);
    if args.files {
        return list_files(&scan, args.input.quiet, out);
    }
    let index = config::use_index(&mut scan, &query, &args.input)?;
    if args.explain {
        write!(out, "{}", query.explain())?;
        for line in index {
            writeln!(out, "{}", crate::output::sanitize::terminal(&line))?;
        }
        writeln!(out, "threads: {}", scan.threads)?;
        return Ok(Outcome::Found);
    }
    let mut stats = Stats::default();
    let mut failed = false;
    let count_only = args.count && !args.dedupe;
    let mut sorter = Sorter::new(SORT_BUDGET, if args.dedupe { None } else { args.limit });
    engine::scan(&scan, &query, stop, |file, report: FileReport| {
        stats.merge(&report.stats);
        failed |= report.failed;
        if !count_only {
            for (record, hit, raw) in report.hits {
                let key = Key { time: hit.time.unwrap_or(i64::MAX), file, record };
                sorter.push(Entry { key, raw }).context("sorting matches")?;
            }
        }
        Ok(())
    })?;
    let printed = if count_only {
        let n = args.limit.map_or(stats.records_matched, |l| stats.records_matched.min(l as u64));
        writeln!(out, "{n}")?;
        n
    } else {
        let (printed, dups) = emit(args, sorter, out)?;
        stats.duplicates_dropped = dups;
        printed
    };
    out.flush()?;
    config::report_stats(&stats, &args.input)?;
    Ok(Outcome::of(printed > 0, failed))
}

/// Writes the sorted matches; returns (records printed, duplicates dropped).
/// `search --files`: the walk alone, with its path pruning; nothing is opened.
fn list_files(scan: &engine::ScanConfig, quiet: bool, out: &mut dyn Write) -> Result<Outcome> {
    let paths = if scan.paths.is_empty() { vec![".".into()] } else { scan.paths.clone() };
    let (mut listed, mut dirs, mut pruned, mut digests, mut ignored, mut failed) =
        (0u64, 0u64, 0u64, 0u64, 0u64, 0u64);
    for item in Walker::new(paths, scan.prune.clone()) {
        match item {
            WalkItem::File(input, _) => {
                listed += 1;
                let shown = match &input {
                    Input::Path(p) => {
                        p.to_str().map_or_else(|| p.display().to_string().into(), Cow::from)
                    }
                    Input::Stdin => Cow::from("-"),
                };
                writeln!(out, "{}", crate::output::sanitize::terminal(&shown))?;
            }
            WalkItem::Pruned { reason: SkipReason::Digest, dir: false, .. } => digests += 1,
            WalkItem::Pruned { dir: true, .. } => dirs += 1,
            WalkItem::Pruned { .. } => pruned += 1,
            WalkItem::Ignored { .. } => ignored += 1,
            WalkItem::Error { path, message } => {
                failed += 1;
                crate::messages::error(&format!("{}: {message}", path.display()));
            }
        }
    }
    out.flush()?;
    if !quiet {
        crate::messages::error(&format!(
            "{listed} files to read; pruned by path: {dirs} folders and {pruned} files; {digests} digest files and {ignored} other files not read; {failed} failed"
        ));
    }
    Ok(Outcome::of(listed > 0, failed > 0))
}

fn emit(args: &SearchArgs, sorter: Sorter, out: &mut dyn Write) -> Result<(u64, u64)> {
    let fields = Field::list(args.fields.as_deref());
    let mut sink: Box<dyn Sink + '_> = match (args.count, args.format) {
        (true, _) => Box::new(Counter { n: 0, out: &mut *out }),
        (false, Format::Jsonl) => Box::new(JsonLines::new(&mut *out)),
        (false, Format::Json) => Box::new(JsonArray::new(&mut *out)),
        (false, Format::Csv) => Box::new(Csv::new(&mut *out, fields, args.csv_raw)),
        (false, Format::Table) => {
            Box::new(Table::new(&mut *out, fields, std::io::stdout().is_terminal()))
        }
    };
    let mut seen: HashSet<String> = HashSet::new();
    let (mut printed, mut dups) = (0u64, 0u64);
    for entry in sorter.finish().context("sorting matches")? {
        let entry = entry.context("reading sorted matches")?;
        if args.limit.is_some_and(|l| printed >= l as u64) {
            break;
        }
        if args.dedupe
            && let Some(id) = event_id(&entry.raw)
            && !seen.insert(id)
        {
            dups += 1;
            continue;
        }
        sink.record(&entry.raw)?;
        printed += 1;
    }
    sink.finish()?;
    Ok((printed, dups))
}

fn event_id(raw: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Id {
        #[serde(rename = "eventID")]
        id: Option<String>,
    }
    serde_json::from_str::<Id>(raw).ok()?.id
}

/// `--count --dedupe`: counts what would be printed.
struct Counter<'w> {
    n: u64,
    out: &'w mut dyn Write,
}

impl Sink for Counter<'_> {
    fn record(&mut self, _raw: &str) -> std::io::Result<()> {
        self.n += 1;
        Ok(())
    }
    fn finish(&mut self) -> std::io::Result<()> {
        writeln!(self.out, "{}", self.n)
    }
}
