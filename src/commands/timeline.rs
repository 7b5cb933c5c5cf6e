//! `trailscan timeline`: one engine pass with every selected rule (the audit's pass), one row
//! per record that fired, threshold and correlation windows at their last event, and with
//! `--notable` the notable actions no rule fired on; sorted by eventTime with bounded memory
//! ([`crate::sort`]), then written as a table, CSV, JSON lines or for Timesketch.
//!
//! Rows of plain rules are made in the worker threads (parsing, testing every rule, the plain
//! words), so the consumer only feeds the threshold and correlation rules and sorts.

use super::Outcome;
use super::audit::{plan, select_rules};
use crate::audit::{self, Auditor, Severity, sigma};
use crate::cli::{SigmaLevel, TimelineArgs};
use crate::config;
use crate::engine::{self, FileReport, Match};
use crate::messages;
use crate::sort::{Entry, Key, Sorter};
use crate::stats::Stats;
use crate::timeline::render::{self, Options, TimelineFormat, Writer};
use crate::timeline::zone::Zone;
use crate::timeline::{self, Row, Tally};
use anyhow::{Context as _, Result, bail};
use serde_json::Value;
use std::io::Write;
use std::sync::atomic::AtomicBool;

/// Memory for rows waiting to be sorted before they spill to temporary files.
const SORT_BUDGET: usize = 64 << 20;

/// What a worker made of one file: rows (record index, the row's time, the row as JSON text
/// for the sort, or why it could not be written) and the records the consumer's threshold and
/// correlation rules need (raw, as the rules' tester read it, rule indices). Rows are written
/// where they are made: the consumer only sorts them.
type Partial = (Vec<(u64, Option<i64>, Result<String>)>, Vec<(String, Value, Vec<usize>)>);

thread_local! {
    /// A worker's buffer for one row's JSON text.
    static ROW_TEXT: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A row as JSON text for the sort, copied out of one buffer at its length: the sort counts
/// text, and a string grown by doubling would hold up to twice that while it waits.
fn row_text(text: &mut Vec<u8>, row: &Row) -> Result<String> {
    text.clear();
    serde_json::to_writer(&mut *text, row)?;
    Ok(String::from_utf8(text.as_slice().to_vec())?)
}

fn severity(l: SigmaLevel) -> Severity {
    match l {
        SigmaLevel::Informational => Severity::Info,
        SigmaLevel::Low => Severity::Low,
        SigmaLevel::Medium => Severity::Medium,
        SigmaLevel::High => Severity::High,
        SigmaLevel::Critical => Severity::Critical,
    }
}

/// Runs a timeline, writing it to `out`.
pub fn run(args: &TimelineArgs, out: &mut dyn Write, stop: &AtomicBool) -> Result<Outcome> {
    if !args.filters.pattern.is_empty() {
        bail!("--pattern is not a timeline filter: put the pattern in a rule file (--rules)");
    }
    if args.raw && !matches!(args.format, TimelineFormat::Jsonl | TimelineFormat::Timesketch) {
        bail!("--raw adds the record to JSON lines: use it with --format jsonl or timesketch");
    }
    let zone = Zone::from_args(args.tz.as_deref(), args.local)?;
    // Created before the scan, so that a path that cannot be written fails at once.
    let mut file = match &args.output {
        Some(path) => Some(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        )),
        None => None,
    };
    // --min-level applies to every rule, as a severity; Sigma rules below it are kept (quietly)
    // when a correlation reads them, so they are not skipped at load.
    let min = args.sigma.min_level.map_or(Severity::Info, severity);
    let sigma_args = crate::cli::SigmaArgs { min_level: None, ..args.sigma.clone() };
    let (rules, rules_failed) =
        select_rules(&args.pack, &args.rules, &sigma_args, min, args.input.quiet)?;
    let filters = config::filters(&args.filters)?;
    // Notable actions are info: shown only when nothing below info is cut.
    let notable = args.notable && min == Severity::Info;
    if args.notable && !notable && !args.input.quiet {
        messages::error(&format!(
            "--notable: notable actions are info, below --min-level {min}: not listed"
        ));
    }
    let extra = if notable { timeline::notable_patterns()? } else { Vec::new() };
    let (query, scan) = plan(&rules, extra, &filters, &args.input)?;
    let mut auditor = Auditor::new(&rules);
    auditor.quiet_below(min);
    // Rules whose matches are rows of their own (the others are threshold rules, or only
    // feed correlations); rules the consumer's auditor needs to see.
    let own_row: Vec<bool> = rules
        .iter()
        .enumerate()
        .map(|(i, r)| auditor.reports(i) && r.threshold.is_none())
        .collect();
    let feeds_auditor: Vec<bool> = rules
        .iter()
        .enumerate()
        .map(|(i, r)| {
            r.threshold.is_some()
                || rules.iter().any(|c| match c.sigma.as_ref().map(|s| &s.kind) {
                    Some(sigma::Kind::Correlation(corr)) => corr.rule_ids.contains(&rules[i].id),
                    _ => false,
                })
        })
        .collect();
    let keep_raw = args.raw;
    let tester = audit::Tester::new(&rules);
    let worker = |report: &mut FileReport, hits: Vec<Match<'_>>| {
        let mut rows: Vec<(u64, Option<i64>, Result<String>)> = Vec::new();
        let mut fed: Vec<(String, Value, Vec<usize>)> = Vec::new();
        let mut matched = 0;
        for Match { index: record, raw, .. } in hits {
            // With --notable every record is read whole (for its plain words); else as far as
            // the rules and the auditor need, and whole again only for a row of its own.
            let read = if notable {
                serde_json::from_str::<Value>(&raw).map(|v| tester.test_value(v))
            } else {
                tester.test(&raw)
            };
            let (v, ids) = match read {
                Ok(t) => t,
                Err(e) => {
                    report.reject_match(record, e);
                    continue;
                }
            };
            if ids.is_empty() && !notable {
                continue;
            }
            let shown: Vec<usize> = ids.iter().copied().filter(|&i| own_row[i]).collect();
            let mut row = if shown.is_empty() {
                if notable { timeline::notable(&v) } else { None }
            } else if notable {
                Some(timeline::detection(&rules, &shown, &v))
            } else {
                // The record was read before: it is valid JSON.
                match serde_json::from_str::<Value>(&raw) {
                    Ok(whole) => Some(timeline::detection(&rules, &shown, &whole)),
                    Err(e) => {
                        report.reject_match(record, e);
                        continue;
                    }
                }
            };
            if let Some(r) = &mut row {
                r.file = Some(report.name.clone());
                if keep_raw {
                    r.raw = Some(raw.to_string());
                }
            }
            if !ids.is_empty() || row.is_some() {
                matched += 1;
            }
            if let Some(r) = row {
                rows.push((record, r.time, ROW_TEXT.with_borrow_mut(|text| row_text(text, &r))));
            }
            let feeding: Vec<usize> = ids.into_iter().filter(|&i| feeds_auditor[i]).collect();
            if !feeding.is_empty() {
                fed.push((raw.into_owned(), v, feeding));
            }
        }
        // The query only prefiltered: "matched" counts the records some rule matches (and the
        // notable actions listed).
        report.stats.records_matched = matched;
        let partial: Partial = (rows, fed);
        report.partial = Some(Box::new(partial));
    };
    let mut sorter = Sorter::new(SORT_BUDGET, None);
    let mut stats = Stats::default();
    let mut failed = false;
    // Each row is written into one buffer, then copied out at its length: the sort counts
    // text, and a string grown by doubling would hold up to twice that while it waits.
    let mut text: Vec<u8> = Vec::new();
    let mut push = |sorter: &mut Sorter, key: Key, row: &Row| -> Result<()> {
        let raw = row_text(&mut text, row)?;
        sorter.push(Entry { key, raw }).context("sorting the timeline")
    };
    // A huge file's candidates are tested in chunks (memory holds one chunk of them).
    engine::scan_with_chunks(&scan, &query, stop, &worker, |file, mut report: FileReport| {
        stats.merge(&report.stats);
        failed |= report.failed;
        let Some(partial) = report.partial.take().and_then(|p| p.downcast::<Partial>().ok()) else {
            return Ok(());
        };
        let (rows, fed) = *partial;
        for (record, time, raw) in rows {
            let key = Key { time: time.unwrap_or(i64::MAX), file, record };
            sorter.push(Entry { key, raw: raw? }).context("sorting the timeline")?;
        }
        for (raw, v, ids) in fed {
            // Plain findings are rows already; this feeds the windows.
            let _ = auditor.record_matched_owned(raw, &v, &ids);
        }
        Ok(())
    })?;
    // Windows sort after the records of the same instant: after the event that completed them.
    for (n, f) in auditor.finish().iter().enumerate() {
        match timeline::window(&rules, f, args.raw) {
            Some(row) => {
                let key =
                    Key { time: row.time.unwrap_or(i64::MAX), file: u64::MAX, record: n as u64 };
                push(&mut sorter, key, &row)?;
            }
            None => {
                messages::error(&format!(
                    "rule {}: a window's records could not be read again: not shown",
                    rules[f.rule].id
                ));
                failed = true;
            }
        }
    }
    let opts = Options {
        format: args.format,
        zone,
        csv_raw: args.csv_raw,
        raw: args.raw,
        colour: crate::output::color::enabled() && file.is_none(),
    };
    let mut tally = Tally::new(&rules);
    let mut fail = false;
    {
        let rows_out: &mut dyn Write = match &mut file {
            Some(f) => f,
            None => &mut *out,
        };
        let mut writer = Writer::new(opts, rows_out)?;
        for entry in sorter.finish().context("sorting the timeline")? {
            let entry = entry.context("reading the sorted timeline")?;
            let row: Row =
                serde_json::from_str(&entry.raw).context("reading the sorted timeline")?;
            fail |= row.kind != timeline::Kind::Notable && row.level >= args.fail_on;
            tally.add(&row, row.time.map(|ns| zone.hour_start(ns)));
            writer.row(&row)?;
        }
        if writer.untimed_skipped > 0 {
            messages::error(&format!(
                "{} rows without a readable eventTime are not in the Timesketch output (it needs a time)",
                writer.untimed_skipped
            ));
        }
        writer.finish().with_context(|| match &args.output {
            Some(p) => format!("writing {}", p.display()),
            None => "writing the timeline".to_string(),
        })?;
    }
    let ctx = render::Context { records: stats.records_read, rules: rules.len(), zone };
    if args.format == TimelineFormat::Table || args.output.is_some() {
        // After the rows, or on the terminal while the rows go to a file (as Hayabusa's -o).
        render::summary(&tally, ctx, out, true)?;
    } else if !args.input.quiet {
        // Beside a file of rows, the summary is for the person who ran it.
        let mut err = std::io::stderr().lock();
        render::summary(&tally, ctx, &mut err, false)?;
    }
    out.flush()?;
    super::audit::end(auditor.untimed, &stats, &args.input, failed || rules_failed, fail)
}
