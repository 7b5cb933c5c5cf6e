//! `trailscan index`: build or update the archive index of each folder; `--status` shows it.

use super::Outcome;
use crate::cli::{IndexArgs, StatusFormat};
use crate::engine::{self, FileReport, Gate, GateDecision, Match, ScanConfig};
use crate::index::fields::{FieldReader, FileFields, FileValues, Unreadable};
use crate::index::store::{self, IndexGate};
use crate::index::{Builder, Index};
use crate::messages;
use crate::query::{Filters, Query};
use crate::source::{FileStamp, Input, PruneRules, WalkItem, Walker};
use crate::stats::Stats;
use crate::summary::{Part, Reader as SummaryReader, Spec, Summary};
use anyhow::{Context, Result, bail};
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

/// Runs `trailscan index`.
pub fn run(args: &IndexArgs, out: &mut dyn Write, stop: &AtomicBool) -> Result<Outcome> {
    let dir = store::dir(args.index_dir.as_deref())?;
    let paths = if args.paths.is_empty() { vec![PathBuf::from(".")] } else { args.paths.clone() };
    for p in &paths {
        if p.as_os_str() == "-" || !p.is_dir() {
            bail!("{}: `trailscan index` takes archive folders", p.display());
        }
    }
    if args.status {
        return status(args, &dir, &paths, out);
    }
    let mut stats = Stats::default();
    let mut failed = false;
    for p in &paths {
        let (s, f) = build(args, &dir, p, stop)?;
        stats.merge(&s);
        failed |= f;
    }
    if let Some(path) = &args.stats_json {
        let text = serde_json::to_string_pretty(&stats)?;
        std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(if failed { Outcome::Error } else { Outcome::Found })
}

/// The index key of a walked path under the folder `given`.
fn key(given: &Path, path: &Path) -> Option<String> {
    let rest = path.strip_prefix(given).ok()?;
    let parts: Option<Vec<&str>> = rest.components().map(|c| c.as_os_str().to_str()).collect();
    Some(parts?.join("/"))
}

/// Builds or updates the index of one folder: (its accounting, whether a file failed).
/// What was read of a file: the index's values, and what a summary counts.
type Read = (Result<FileValues, Unreadable>, Option<Part>);

/// What a file's pieces held, together: a huge file's matches reach the worker step in
/// chunks, each read apart; the file is indexed as if it had been read whole.
fn join((values, part): Read, (later_values, later_part): Read, spec: &Spec) -> Read {
    let values = match (values, later_values) {
        (Ok(mut v), Ok(later)) => {
            v.merge(later);
            Ok(v)
        }
        (Err(e), _) | (Ok(_), Err(e)) => Err(e),
    };
    let part = match (part, later_part) {
        (Some(p), Some(later)) if values.is_ok() => {
            let mut s = Summary::from_part(&p);
            s.merge(Summary::from_part(&later), spec);
            s.part()
        }
        _ => None,
    };
    (values, part)
}

fn build(args: &IndexArgs, dir: &Path, given: &Path, stop: &AtomicBool) -> Result<(Stats, bool)> {
    let started = Instant::now();
    let root = store::canonical(given).with_context(|| format!("{}", given.display()))?;
    let file = store::file_for(dir, &root);
    let old = match (args.rebuild, file.is_file()) {
        (false, true) => match store::load(&file, &root) {
            Ok(i) => Some(Arc::new(i)),
            Err(e) => {
                messages::error(&format!(
                    "index {} is not usable ({e}): building it anew",
                    file.display()
                ));
                None
            }
        },
        _ => None,
    };
    // What a `summary` counts in each file, read as `summary` reads it, from the rows of the
    // same walk that reads the index's fields.
    let spec = Spec::default();
    let reader = FieldReader::with_extra(&SummaryReader::paths(&spec));
    let first_counter =
        SummaryReader::sharing(&spec, Arc::clone(reader.extractor()), FieldReader::PATHS);
    let threads = args
        .threads
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get));
    let cfg = ScanConfig {
        paths: vec![given.to_path_buf()],
        // Every file, whatever a later query asks; digests are still left out.
        prune: PruneRules { enabled: false, ..PruneRules::default() },
        threads,
        max_file_size: args.max_file_size,
        inflate_only: false,
        progress: !args.quiet && std::io::IsTerminal::is_terminal(&std::io::stderr()),
        validate_hits: false,
        hit_times: false,
        extract: Some(Arc::clone(reader.extractor())),
        gate: old
            .as_ref()
            .map(|o| Arc::new(IndexGate::reuse(given, Arc::clone(o))) as Arc<dyn Gate>),
        stamp_files: true,
    };
    let query = Query::new(&Filters::default(), &[], false)?;
    let counters: Mutex<Vec<SummaryReader>> = Mutex::new(Vec::new());
    let worker = |report: &mut FileReport, hits: Vec<Match<'_>>| {
        if report.gate == Some(GateDecision::RuledOut) || report.failed {
            return;
        }
        let mut fields = FileFields::new();
        let mut result: Result<(), Unreadable> = Ok(());
        for m in &hits {
            result = fields.add(&reader, m.index, &m.raw, m.fields);
            if result.is_err() {
                break;
            }
        }
        let values: Result<FileValues, Unreadable> = result.and_then(|()| fields.finish());
        let part = values.is_ok().then(|| {
            let taken = counters.lock().unwrap_or_else(PoisonError::into_inner).pop();
            let mut counter = taken.unwrap_or_else(|| first_counter.clone());
            let (mut counts, mut notable) = (Summary::default(), Summary::default());
            let mut ok = true;
            for m in &hits {
                ok &=
                    counts.observe_raw(&m.raw, m.fields, &spec, &mut counter, &mut notable).is_ok();
            }
            counters.lock().unwrap_or_else(PoisonError::into_inner).push(counter);
            counts.merge(notable, &spec);
            // A record the summary cannot read leaves the file to be read by every summary.
            ok.then(|| counts.part()).flatten()
        });
        report.partial = Some(Box::new((values, part.flatten())));
    };
    // The files read now, and those of the old index's delta still fresh: a delta of the old
    // index's base, or with the base's unchanged files, the new index.
    let mut builder = Builder::new(root.to_string_lossy().into_owned());
    // The old index's base files found unchanged (their places in it).
    let mut unchanged: Vec<usize> = Vec::new();
    let mut stats = Stats::default();
    let (mut failed, mut read, mut kept, mut left_out) = (false, 0u64, 0u64, 0u64);
    let mut changed = 0u64;
    // The pieces of the file being handed on in chunks, so far.
    let mut pieces: Option<Read> = None;
    engine::scan_with_chunks(&cfg, &query, stop, &worker, |_, mut report: FileReport| {
        stats.merge(&report.stats);
        failed |= report.failed;
        let found = report.partial.take().and_then(|p| p.downcast::<Read>().ok()).map(|b| *b);
        let found = match (pieces.take(), found) {
            (Some(before), Some(last)) => Some(join(before, last, &spec)),
            (before, last) => last.or(before),
        };
        if report.more {
            pieces = found;
            return Ok(());
        }
        let path = Path::new(&report.name);
        let Some(key) = key(given, path) else { return Ok(()) };
        if report.gate == Some(GateDecision::RuledOut) {
            if let Some((old, (at, e))) = old.as_ref().and_then(|o| o.find(&key).map(|e| (o, e))) {
                if e.from_delta() {
                    builder.keep(old, e);
                } else {
                    unchanged.push(at);
                }
                kept += 1;
            }
            return Ok(());
        }
        let (values, part) = match found {
            Some((v, p)) => (Some(v), p),
            None => (None, None),
        };
        // A file the old index knew, read again: it changed since (not gone).
        if old.as_ref().is_some_and(|o| o.get(&key).is_some()) {
            changed += 1;
        }
        match (values, report.stamp) {
            (Some(Ok(v)), Some(stamp)) if !report.failed && report.stats.files_read == 1 => {
                builder.add_with_summary(key, stamp, v, part.as_ref());
                read += 1;
            }
            (Some(Err(e)), _) => {
                messages::error(&format!(
                    "{}: {e}; left out of the index (it is always read)",
                    report.name
                ));
                failed = true;
                left_out += 1;
            }
            _ if report.stats.files_failed > 0 => left_out += 1,
            _ => {}
        }
        Ok(())
    })?;
    let dropped =
        old.as_ref().map_or(0, |o| (o.files().len() as u64).saturating_sub(kept + changed));
    let now = chrono::Utc::now().timestamp();
    let build_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let fresh = builder.finish(now, build_ms);
    let (files, records, (written, size), how) = match old.as_deref().filter(|o| o.id != 0) {
        Some(o) if delta_fits(o, &fresh, &unchanged) => {
            let delta = delta_of(o, fresh, &unchanged);
            let files = unchanged.len() + delta.files().len();
            let records =
                unchanged.iter().map(|&at| o.files()[at].records).sum::<u64>() + delta.records();
            let how = format!(", in a delta of {} files beside it", delta.files().len());
            (files, records, store::save_delta(dir, &delta)?, how)
        }
        _ => {
            let index = match &old {
                Some(o) => whole(o, &fresh, &unchanged, now, build_ms),
                None => fresh,
            };
            let (files, records) = (index.files().len(), index.records());
            (files, records, store::save(dir, &index)?, String::new())
        }
    };
    if !args.quiet {
        messages::error(&format!(
            "indexed {}: {files} files ({read} read ({changed} changed since the last update), {kept} unchanged, {dropped} gone since, {left_out} left out as unreadable), {records} records; {} ({}{how}) in {:.1} s",
            root.display(),
            written.display(),
            human(size),
            started.elapsed().as_secs_f64()
        ));
    }
    // The old index's tables (millions of small allocations for a big archive) are left to
    // the operating system, as `summary` leaves its counts: freeing them one by one was a
    // twentieth of an update's time.
    std::mem::forget(old);
    Ok((stats, failed))
}

/// At most this share of an index's base (in files) is kept in a delta beside it: an update
/// past it writes the whole index again.
const DELTA_SHARE: usize = 10;

/// Whether an update of `old` whose files read now (and kept from its delta) are `fresh`,
/// and whose base files `unchanged` are, is kept as a delta beside the base: when it holds or
/// leaves out at most a tenth of the base's files.
fn delta_fits(old: &Index, fresh: &Index, unchanged: &[usize]) -> bool {
    let base = old.files().iter().filter(|e| !e.from_delta()).count() + old.removed.len();
    let left_out = base - unchanged.len();
    (fresh.files().len() + left_out) * DELTA_SHARE <= base
}

/// The delta of `old`'s base for an update: `fresh`, which names the base's files other than
/// `unchanged` as left out, and keeps the totals of base and delta together.
fn delta_of(old: &Index, mut fresh: Index, unchanged: &[usize]) -> Index {
    let kept: std::collections::HashSet<usize> = unchanged.iter().copied().collect();
    let mut removed: Vec<String> = old.removed.clone();
    removed.extend(
        old.files()
            .iter()
            .enumerate()
            .filter(|(at, e)| !e.from_delta() && !kept.contains(at))
            .map(|(_, e)| e.path.clone()),
    );
    removed.sort_unstable();
    removed.dedup();
    let totals = crate::index::summary::Totals::of_update(old, unchanged, &fresh);
    fresh.set_totals(totals);
    fresh.delta_of = Some(old.id);
    fresh.removed = removed;
    fresh
}

/// The whole index after an update of `old`: its files `unchanged`, and `fresh`'s.
fn whole(old: &Index, fresh: &Index, unchanged: &[usize], built_at: i64, build_ms: u64) -> Index {
    let mut b = Builder::new(old.root.clone());
    b.adopt(old);
    for &at in unchanged {
        b.keep(old, &old.files()[at]);
    }
    for e in fresh.files() {
        b.keep(fresh, e);
    }
    b.finish(built_at, build_ms)
}

fn human(bytes: u64) -> String {
    #[allow(clippy::cast_precision_loss)]
    let b = bytes as f64;
    if b >= 1024.0 * 1024.0 {
        format!("{:.1} MiB", b / 1024.0 / 1024.0)
    } else if b >= 1024.0 {
        format!("{:.1} KiB", b / 1024.0)
    } else {
        format!("{bytes} B")
    }
}

/// The state of one folder's index.
#[derive(Debug, Serialize)]
struct Status {
    folder: String,
    root: Option<String>,
    index_file: Option<String>,
    /// Why there is none, or why it cannot be used.
    problem: Option<String>,
    /// The index file and its delta together.
    size_bytes: Option<u64>,
    /// Files kept in the delta beside the index file (updates since it was last written
    /// whole), when there is one.
    delta_files: Option<u64>,
    updated: Option<String>,
    build_seconds: Option<f64>,
    files_indexed: u64,
    records_indexed: u64,
    /// Log files under the folder now (digests left out).
    files_now: u64,
    fresh: u64,
    /// Changed since they were indexed.
    stale: u64,
    /// Not in the index (new, or unreadable when it was built).
    not_indexed: u64,
    /// In the index, no longer in the folder.
    gone: u64,
    /// Compressed size of the log files under the folder.
    archive_bytes: u64,
}

fn status(args: &IndexArgs, dir: &Path, paths: &[PathBuf], out: &mut dyn Write) -> Result<Outcome> {
    let mut all = Vec::new();
    for given in paths {
        all.push(status_of(dir, given)?);
    }
    match args.format {
        StatusFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&all)?)?,
        StatusFormat::Text => {
            for s in &all {
                write_status(s, out)?;
            }
        }
    }
    Ok(if all.iter().all(|s| s.index_file.is_some() && s.problem.is_none()) {
        Outcome::Found
    } else {
        Outcome::NotFound
    })
}

fn status_of(dir: &Path, given: &Path) -> Result<Status> {
    let canon = store::canonical(given).with_context(|| format!("{}", given.display()))?;
    let mut s = Status {
        folder: given.display().to_string(),
        root: None,
        index_file: None,
        problem: None,
        size_bytes: None,
        delta_files: None,
        updated: None,
        build_seconds: None,
        files_indexed: 0,
        records_indexed: 0,
        files_now: 0,
        fresh: 0,
        stale: 0,
        not_indexed: 0,
        gone: 0,
        archive_bytes: 0,
    };
    let found = store::find(dir, given);
    let index: Option<Index> = match &found {
        None => {
            s.problem = Some(format!("no index covers it in {}", dir.display()));
            None
        }
        Some((root, file)) => {
            s.root = Some(root.display().to_string());
            s.index_file = Some(file.display().to_string());
            let (size, delta) = store::sizes(file);
            s.size_bytes = size.map(|n| n + delta);
            match store::load(file, root) {
                Ok(i) => Some(i),
                Err(e) => {
                    s.problem = Some(format!("not usable: {e}"));
                    None
                }
            }
        }
    };
    let prefix = found.as_ref().and_then(|(root, _)| key(root, &canon)).unwrap_or_default();
    let mut seen = 0u64;
    for item in Walker::new(vec![given.to_path_buf()], PruneRules::default()) {
        let WalkItem::File(Input::Path(p), _) = item else { continue };
        s.files_now += 1;
        let stamp = FileStamp::read(&p).ok();
        s.archive_bytes += stamp.map_or(0, |st| st.size);
        let entry = index.as_ref().and_then(|i| {
            let k = key(given, &p)?;
            let k = if prefix.is_empty() {
                k
            } else if k.is_empty() {
                prefix.clone()
            } else {
                format!("{prefix}/{k}")
            };
            i.get(&k)
        });
        match entry {
            None => s.not_indexed += 1,
            Some(e) => {
                seen += 1;
                if stamp == Some(e.stamp) {
                    s.fresh += 1;
                } else {
                    s.stale += 1;
                }
            }
        }
    }
    if let Some(i) = &index {
        let under =
            |p: &str| prefix.is_empty() || p == prefix || p.starts_with(&format!("{prefix}/"));
        let covered: Vec<_> = i.files().iter().filter(|f| under(&f.path)).collect();
        s.files_indexed = covered.len() as u64;
        s.records_indexed = covered.iter().map(|f| f.records).sum();
        s.gone = s.files_indexed.saturating_sub(seen);
        s.delta_files = i.delta_files().map(|n| n as u64);
        s.updated = chrono::DateTime::<chrono::Utc>::from_timestamp(i.built_at, 0)
            .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string());
        #[allow(clippy::cast_precision_loss)]
        let secs = i.build_ms as f64 / 1000.0;
        s.build_seconds = Some(secs);
    }
    Ok(s)
}

fn write_status(s: &Status, out: &mut dyn Write) -> Result<()> {
    let clean = crate::output::sanitize::terminal;
    writeln!(out, "{}", clean(&s.folder))?;
    if let Some(f) = &s.index_file {
        let size = s.size_bytes.map(human).unwrap_or_default();
        #[allow(clippy::cast_precision_loss)]
        let share = match (s.size_bytes, s.archive_bytes) {
            (Some(i), a) if a > 0 => {
                format!(", {:.2} % of the {} archive", i as f64 * 100.0 / a as f64, human(a))
            }
            _ => String::new(),
        };
        writeln!(out, "  index:     {} ({size}{share})", clean(f))?;
        if let Some(n) = s.delta_files {
            writeln!(
                out,
                "  delta:     {n} files updated since it was written whole, kept beside it"
            )?;
        }
    }
    if let Some(r) = &s.root {
        writeln!(out, "  root:      {}", clean(r))?;
    }
    if let Some(p) = &s.problem {
        writeln!(out, "  problem:   {}", clean(p))?;
    }
    if let (Some(u), Some(b)) = (&s.updated, s.build_seconds) {
        writeln!(out, "  updated:   {u} (took {b:.1} s)")?;
        writeln!(out, "  covers:    {} files, {} records", s.files_indexed, s.records_indexed)?;
    }
    writeln!(
        out,
        "  files now: {} ({} fresh, {} changed since, {} not in the index); {} in the index are gone",
        s.files_now, s.fresh, s.stale, s.not_indexed, s.gone
    )?;
    if s.stale + s.not_indexed + s.gone > 0 || s.problem.is_some() {
        writeln!(
            out,
            "  run `trailscan index {}` to bring it up to date (files it does not know are read by every search)",
            clean(&s.folder)
        )?;
    }
    Ok(())
}
