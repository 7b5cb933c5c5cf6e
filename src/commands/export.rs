//! `trailscan export`: matching records into a Hive-partitioned Parquet lake (incremental), or
//! the lake's CREATE TABLE statement (`--ddl`).
//!
//! The run: lock the lake, finish what an earlier run recorded but did not do, walk the inputs
//! (with the search's path pruning) and pick the files the manifest does not hold as they are
//! now; scan those with the engine, each file's records parsed and split into partitions in the
//! worker thread that read it; buffer, sort and write the partitions' files under temporary
//! names; then record the run in the manifest and rename the files into place.

use super::Outcome;
use crate::cli::{ExportArgs, FilterArgs};
use crate::config;
use crate::engine::{self, FileReport, Match, ScanConfig};
use crate::lake::ddl::Ddl;
use crate::lake::manifest::{Manifest, Pending, Source};
use crate::lake::rows::{Part, Splitter};
use crate::lake::writer::{LakeWriter, Limits};
use crate::messages;
use crate::source::{Input, SkipReason, WalkItem, Walker};
use crate::stats::Stats;
use anyhow::{Context, Result, bail};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

/// Runs an export (or prints the DDL to `out`).
pub fn run(args: &ExportArgs, out: &mut dyn Write, stop: &AtomicBool) -> Result<Outcome> {
    if let Some(engine) = args.ddl {
        let ddl = Ddl {
            engine,
            location: args.location.as_deref().unwrap_or_default(),
            table: &args.table,
            raw: args.raw,
            accounts: &args.filters.account,
            regions: &args.filters.region,
        };
        out.write_all(ddl.render().as_bytes())?;
        return Ok(Outcome::Found);
    }
    let Some(dir) = args.out.as_deref() else { bail!("--out DIR is required") };
    if args.input.paths.iter().any(|p| p.as_os_str() == "-") {
        bail!("export reads files, not stdin: the manifest tracks each source file");
    }
    inside_an_input(dir, &args.input.paths)?;
    let filters = config::filters(&args.filters)?;
    let query = config::query(&filters, &args.filters, &args.input)?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let _lock = lock(dir)?;
    let selection = fingerprint(&args.filters);
    let mut manifest = match Manifest::load(dir)? {
        Some(m) => {
            if m.raw != args.raw {
                bail!(
                    "{} was exported {} the raw column: export with the same --raw, or into a new folder",
                    dir.display(),
                    if m.raw { "with" } else { "without" }
                );
            }
            if m.filters != selection {
                bail!(
                    "{} holds the records of other filters ({}): a lake holds one selection; export into a new folder",
                    dir.display(),
                    if m.filters.is_empty() { "none".to_string() } else { m.filters.join(" ") }
                );
            }
            m
        }
        None => Manifest::new(args.raw, selection),
    };
    manifest.settle(dir)?;
    remove_stale_temporaries(dir)?;

    let scan = ScanConfig {
        validate_hits: false,
        hit_times: false,
        ..config::scan(&filters, &args.input)
    };
    let mut stats = Stats::default();
    let mut failed = false;
    let plan = plan(&scan, &manifest, &mut stats, &mut failed)?;
    let run = run_id();
    // As many writer threads as scan threads, up to two: encoding and compressing the files
    // costs about half as much as reading and parsing the records, and each writer holds a
    // partition's rows and a Parquet writer's buffers (with eight, a 3 GB file's export took
    // 449 MiB of RSS; BENCHMARKS.md, "export").
    let mut limits = Limits { writers: scan.threads.clamp(1, 2), ..Limits::default() };
    if args.raw {
        // Each row holds its record twice (columns and raw): half as many rows in the buffers.
        limits.budget /= 2;
        limits.partition /= 2;
    }
    if let Some(n) = args.row_group_rows.filter(|&n| n > 0) {
        limits.row_group = n;
    }
    if let Some(b) = args.buffer_size {
        limits.budget = usize::try_from(b).unwrap_or(usize::MAX);
        limits.partition = limits.budget / 2;
    }
    if let Some(z) = args.zstd_level {
        limits.zstd = z;
    }
    let mut writer = LakeWriter::new(dir, &run, args.raw, limits);
    let mut done: Vec<Done> = Vec::with_capacity(plan.todo.len());
    if !plan.todo.is_empty() {
        let splitter = Splitter::new(args.raw);
        // A file's matches come in chunks when there are many (a huge streamed file): each
        // chunk's rows are parsed in the worker thread and handed to the writer's buffers,
        // which bound the memory; the file's last report carries its counts.
        let worker = |report: &mut FileReport, hits: Vec<Match<'_>>| {
            let (parts, rejected) = splitter.split(hits.iter().map(|m| (m.index, m.raw.as_ref())));
            for r in rejected {
                report.reject_match(r.index, r.error);
            }
            report.partial_bytes = parts.iter().map(Part::bytes).sum();
            report.partial = Some(Box::new(parts));
        };
        let files =
            ScanConfig { paths: plan.todo.iter().map(|t| t.path.clone()).collect(), ..scan };
        // Rows of the file being consumed, so far.
        let mut rows = 0u64;
        let result =
            engine::scan_with_chunks(&files, &query, stop, &worker, |index, mut report| {
                stats.merge(&report.stats);
                failed |= report.failed;
                let id = u32::try_from(index).context("too many files")?;
                let parts = report.partial.take().and_then(|p| p.downcast::<Vec<Part>>().ok());
                for part in parts.into_iter().flat_map(|p| *p) {
                    rows += part.times.len() as u64;
                    writer.add(id, part)?;
                }
                if !report.more {
                    done.push(Done {
                        read: report.stats.files_read > 0,
                        stats: report.stats,
                        rows: std::mem::take(&mut rows),
                    });
                }
                Ok(())
            });
        if let Err(e) = result {
            for tmp in writer.abandon() {
                let _ = std::fs::remove_file(dir.join(tmp));
            }
            return Err(e);
        }
    }
    let written = match writer.finish() {
        Ok(w) => w,
        Err(e) => {
            remove_stale_temporaries(dir)?;
            return Err(e);
        }
    };

    // Record the run, then put its files in place and remove the files they replace.
    let mut outputs: Vec<Vec<String>> = vec![Vec::new(); plan.todo.len()];
    for w in &written {
        for &s in &w.sources {
            outputs[s as usize].push(w.path.clone());
        }
    }
    let mut delete: BTreeSet<String> = BTreeSet::new();
    let mut exported = 0u64;
    for ((todo, done), outputs) in plan.todo.iter().zip(&done).zip(outputs) {
        let old = manifest.sources.remove(&todo.key);
        delete.extend(old.into_iter().flat_map(|s| s.outputs));
        exported += done.rows;
        if !done.read && done.rows == 0 {
            // Not read (it failed, or the path rules it out): tried again next time.
            continue;
        }
        manifest.sources.insert(
            todo.key.clone(),
            Source {
                size: todo.size,
                mtime_ns: todo.mtime_ns,
                run: run.clone(),
                records: done.stats.records_read,
                exported: done.rows,
                failed: done.stats.records_failed,
                outputs,
            },
        );
    }
    manifest.pending = Some(Pending {
        rename: written.iter().map(|w| (w.tmp.clone(), w.path.clone())).collect(),
        delete: delete.into_iter().collect(),
    });
    manifest.save(dir)?;
    manifest.settle(dir)?;

    if !args.input.quiet {
        messages::error(&format!(
            "exported {exported} records from {} files into {} Parquet files in {}; {} files already exported were skipped",
            plan.todo.len(),
            written.len(),
            dir.display(),
            plan.unchanged,
        ));
    }
    config::report_stats(&stats, &args.input)?;
    Ok(Outcome::of(exported > 0, failed))
}

/// What the scan of one source file gave.
struct Done {
    read: bool,
    stats: Stats,
    rows: u64,
}

/// A source file to export.
struct Todo {
    /// As walked (for reading and messages).
    path: PathBuf,
    /// Its absolute path (the manifest's key).
    key: String,
    size: u64,
    mtime_ns: i128,
}

struct Plan {
    todo: Vec<Todo>,
    unchanged: u64,
}

/// Walks the inputs and picks the files to export: those the manifest does not hold, those
/// that changed, and those sharing Parquet files with a changed one.
fn plan(
    scan: &ScanConfig,
    manifest: &Manifest,
    stats: &mut Stats,
    failed: &mut bool,
) -> Result<Plan> {
    let paths = if scan.paths.is_empty() { vec![PathBuf::from(".")] } else { scan.paths.clone() };
    let mut walked: Vec<Todo> = Vec::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for item in Walker::new(paths, scan.prune.clone()) {
        match item {
            WalkItem::File(Input::Path(path), _) => match identify(&path) {
                Ok(t) => {
                    if seen.insert(t.key.clone()) {
                        walked.push(t);
                    }
                }
                Err(e) => {
                    messages::error(&format!("{}: {e:#}", path.display()));
                    stats.files_failed += 1;
                    *failed = true;
                }
            },
            WalkItem::File(Input::Stdin, _) => bail!("export reads files, not stdin"),
            WalkItem::Pruned { reason, dir, .. } => match (reason, dir) {
                (SkipReason::Digest, false) => stats.files_digest += 1,
                (_, true) => stats.dirs_pruned += 1,
                (_, false) => stats.files_pruned += 1,
            },
            WalkItem::Ignored { .. } => stats.files_ignored += 1,
            WalkItem::Error { path, message } => {
                messages::error(&format!("{}: {message}", path.display()));
                stats.files_failed += 1;
                *failed = true;
            }
        }
    }
    let changed: BTreeSet<String> = walked
        .iter()
        .filter(|t| {
            manifest
                .sources
                .get(&t.key)
                .is_some_and(|s| s.size != t.size || s.mtime_ns != t.mtime_ns)
        })
        .map(|t| t.key.clone())
        .collect();
    let mut linked = manifest.linked(&changed);
    // Sources sharing files with a changed one are read again wherever they are.
    let mut extra: Vec<Todo> = Vec::new();
    let mut lost: Vec<String> = Vec::new();
    for key in &linked {
        if seen.contains(key) {
            continue;
        }
        match identify(Path::new(key)) {
            Ok(t) => extra.push(t),
            Err(_) => lost.push(key.clone()),
        }
    }
    if !lost.is_empty() {
        // Their rows share files with the changed ones and could not be written again.
        for l in &lost {
            messages::error(&format!(
                "{l}: gone, and its rows share Parquet files with a changed file; \
                 the changed files linked to it are left as exported before"
            ));
        }
        *failed = true;
        let keep = manifest.linked(&lost.iter().cloned().collect());
        linked.retain(|k| !keep.contains(k));
        extra.retain(|t| !keep.contains(&t.key));
    }
    let mut unchanged = 0;
    let mut todo: Vec<Todo> = Vec::new();
    for t in walked {
        if linked.contains(&t.key) || !manifest.sources.contains_key(&t.key) {
            todo.push(t);
        } else {
            unchanged += 1;
        }
    }
    todo.extend(extra);
    Ok(Plan { todo, unchanged })
}

/// A file's absolute path, size and modification time.
fn identify(path: &Path) -> Result<Todo> {
    let abs = std::fs::canonicalize(path)?;
    let md = std::fs::metadata(&abs)?;
    let mtime = md.modified()?;
    let mtime_ns = match mtime.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => i128::try_from(d.as_nanos()).unwrap_or(i128::MAX),
        Err(e) => -i128::try_from(e.duration().as_nanos()).unwrap_or(i128::MAX),
    };
    Ok(Todo {
        path: path.to_path_buf(),
        key: abs.to_string_lossy().into_owned(),
        size: md.len(),
        mtime_ns,
    })
}

/// The filter arguments as given (times as written, not resolved: `--since 7d` is the same
/// selection each run).
fn fingerprint(f: &FilterArgs) -> Vec<String> {
    f.flags()
        .into_iter()
        .map(|(flag, v)| v.map_or_else(|| flag.to_string(), |v| format!("{flag}={v}")))
        .collect()
}

/// Refuses a lake inside an input folder: nothing trailscan does writes into an archive (and
/// the next run would read the manifest as a log file).
fn inside_an_input(out: &Path, inputs: &[PathBuf]) -> Result<()> {
    let out = std::path::absolute(out)?;
    let out_real = std::fs::canonicalize(&out).ok();
    let dot = [PathBuf::from(".")];
    let inputs = if inputs.is_empty() { &dot[..] } else { inputs };
    for input in inputs {
        let forms = [std::path::absolute(input).ok(), std::fs::canonicalize(input).ok()];
        for form in forms.iter().flatten() {
            if out.starts_with(form) || out_real.as_ref().is_some_and(|o| o.starts_with(form)) {
                bail!(
                    "the lake {} is inside the input {}: trailscan does not write into an archive; \
                     put the lake elsewhere",
                    out.display(),
                    input.display()
                );
            }
        }
    }
    Ok(())
}

/// A name for this run, unique in practice and in time order: `20240301T100000Z-1a2b3c`.
fn run_id() -> String {
    let now = chrono::Utc::now();
    let salt = now.timestamp_subsec_nanos() ^ std::process::id().rotate_left(16);
    format!("{}-{:06x}", now.format("%Y%m%dT%H%M%SZ"), salt & 0xff_ffff)
}

/// Holds the lake's lock file (released when the process ends, however it ends).
fn lock(dir: &Path) -> Result<std::fs::File> {
    let path = dir.join("_trailscan.lock");
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(std::fs::TryLockError::WouldBlock) => {
            bail!("{}: another export is writing this lake", dir.display())
        }
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("locking {}", path.display()))
        }
    }
}

/// Deletes temporary files (`.part-*.tmp`) that no run will finish: those of a run that died
/// before recording itself. Runs only when the manifest has nothing pending.
fn remove_stale_temporaries(dir: &Path) -> Result<()> {
    for entry in walkdir::WalkDir::new(dir).min_depth(1).max_depth(4) {
        let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
        let name = entry.file_name().to_string_lossy();
        if entry.file_type().is_file() && name.starts_with(".part-") && name.ends_with(".tmp") {
            std::fs::remove_file(entry.path())
                .with_context(|| format!("deleting {}", entry.path().display()))?;
        }
    }
    Ok(())
}
