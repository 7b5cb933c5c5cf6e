//! The pipeline: walk → prune → (index) → read + inflate → split → prefilter → match, in
//! parallel over files, with results handed back in walk order.
//!
//! Worker threads take the next walk item, process the whole file and send its report to the
//! calling thread, which reorders reports by walk index and hands them to the consumer. A
//! worker does not start a file more than `WINDOW_PER_THREAD` files per thread ahead of the
//! consumer, nor any file but the next one the consumer needs while waiting reports hold more
//! than `HELD_BYTES` of matched text; so memory is bounded whatever the archive size, and the
//! consumer sees exactly the sequence a single thread would produce.

use crate::messages;
use crate::progress::Progress;
use crate::query::{Hit, Query};
use crate::record::fields::{Extractor, Fields, Row, Table};
use crate::source::stream::Records;
use crate::source::{
    FileStamp, Input, Opened, PruneRules, ReadError, Reader, SkipReason, Split, Streamed, WalkItem,
    Walker, split, split_with, validate,
};
use crate::stats::Stats;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, mpsc};

/// What to scan and how.
#[derive(Debug, Clone)]
pub struct ScanConfig {
    /// Files and folders (`-` is stdin). Empty: the current folder.
    pub paths: Vec<PathBuf>,
    /// Path-level pruning.
    pub prune: PruneRules,
    /// Worker threads (at least 1).
    pub threads: usize,
    /// The decompressed-size cap per file.
    pub max_file_size: u64,
    /// Benchmarking: read and inflate every file, nothing more (the decompression floor).
    pub inflate_only: bool,
    /// Show a progress bar on stderr (when the scan takes more than a moment).
    pub progress: bool,
    /// Validate every matching record in full before passing it on (for consumers that print
    /// records as they are; those that parse them, like `summary` and `audit`, see errors
    /// themselves in what they read).
    pub validate_hits: bool,
    /// Matches carry their `eventTime` ([`Hit::time`], for ordering). Consumers that read
    /// records themselves (`summary`, `audit`) turn it off: a query that matches everything
    /// then passes every record on without reading it, and the consumer reports the records
    /// it cannot read ([`FileReport::reject_match`]).
    pub hit_times: bool,
    /// For consumers that read the same fields of every record (`summary`): when the query
    /// matches everything (and [`ScanConfig::hit_times`] is off), the records of delivery
    /// files are delimited by reading them with this extractor, and each match carries where
    /// its fields are ([`Match::fields`]), so that no record is walked twice.
    pub extract: Option<std::sync::Arc<Extractor>>,
    /// Decides, before a file is opened, from what is known of it (an index), whether it can
    /// hold a match.
    pub gate: Option<std::sync::Arc<dyn Gate>>,
    /// Stat every file before reading it and keep its stamp in [`FileReport::stamp`] (for
    /// building an index: a file changed after the stat is seen as changed next time).
    pub stamp_files: bool,
}

/// What a [`Gate`] made of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GateDecision {
    /// Known as it is now, and no record in it can match: not opened.
    RuledOut,
    /// Known as it is now, and what the consumer needs of it is known too ([`Gate::answer`]):
    /// not opened.
    Answered,
    /// Known as it is now, and it may hold a match: read.
    Read,
    /// Known, but changed since (or unreadable to `stat`): read.
    Stale,
    /// Not known: read.
    Unknown,
}

/// A per-file decision made before reading, from knowledge kept outside the file (the
/// archive index, [`crate::index`]). It may only rule a file out when no record in the file,
/// as it is now, can match; anything it is unsure of is read.
pub trait Gate: Send + Sync + std::fmt::Debug {
    /// Decides for the file at `path` (as walked), whose current stamp is `stamp`.
    fn decide(&self, path: &Path, stamp: &FileStamp) -> GateDecision;

    /// For a file decided [`GateDecision::Answered`]: what its consumer gets in place of its
    /// matches. `None`: the file is read after all.
    fn answer(&self, _path: &Path, _stamp: &FileStamp) -> Option<Answer> {
        None
    }
}

/// What a [`Gate`] knows of a file for its consumer, in place of reading it: every record in
/// the file matches, and `partial` is what the consumer's worker step would have made of them
/// (handed on in [`FileReport::partial`]).
pub struct Answer {
    /// Records in the file (all matching).
    pub records: u64,
    /// For the consumer.
    pub partial: Box<dyn std::any::Any + Send>,
}

/// The scan was stopped (Ctrl-C) before it finished.
#[derive(Debug, thiserror::Error)]
#[error("interrupted")]
pub struct Interrupted;

/// Light reports (files decided unopened) sent to the consumer together.
const LIGHT_BATCH: usize = 64;

/// Reports of small files (at most [`SMALL_FILE`] bytes on disk) sent to the consumer together:
/// an archive of 100,000 files of a few records each otherwise wakes the consumer once a file,
/// and the wake-ups cost more than reading the files (a fifth of the CPU time in futex waits
/// and task switches).
const SMALL_BATCH: usize = 16;

/// See [`SMALL_BATCH`]: a file this small takes microseconds to read.
const SMALL_FILE: u64 = 64 << 10;

/// At most this many messages per file; the rest are counted.
const MESSAGES_PER_FILE: usize = 5;

/// What one walk item produced.
#[derive(Default)]
pub struct FileReport {
    /// The file as named in messages.
    pub name: String,
    /// Its counts.
    pub stats: Stats,
    /// Matches: record index in the file, what the query learnt, the raw record.
    pub hits: Vec<(u64, Hit, String)>,
    /// Problems to show the user, already prefixed with the file name.
    pub messages: Vec<String>,
    /// The input cannot be read (the run must exit 2).
    pub failed: bool,
    /// What a per-file worker step ([`scan_with`]) made of the hits, for its consumer.
    pub partial: Option<Box<dyn std::any::Any + Send>>,
    /// The file's stamp, taken before it was read ([`ScanConfig::stamp_files`], or a gate).
    pub stamp: Option<FileStamp>,
    /// What the gate decided, when there is one.
    pub gate: Option<GateDecision>,
}

impl FileReport {
    /// A match that its consumer found it cannot read: counted as a failed record (not read,
    /// not matched) and reported as the engine reports records it cannot read.
    pub fn reject_match(&mut self, record: u64, error: impl std::fmt::Display) {
        self.stats.records_matched = self.stats.records_matched.saturating_sub(1);
        self.reject_record(record, error);
    }

    /// A record read from the file that turned out unreadable: counted as failed, not read.
    fn reject_record(&mut self, record: u64, error: impl std::fmt::Display) {
        self.stats.records_failed += 1;
        self.stats.records_read = self.stats.records_read.saturating_sub(1);
        self.failed = true;
        self.message(format!("{}: record {}: invalid JSON: {error}", self.name, record + 1));
    }

    fn message(&mut self, text: String) {
        if self.messages.len() < MESSAGES_PER_FILE {
            self.messages.push(text);
        } else if self.messages.len() == MESSAGES_PER_FILE {
            self.messages.push(format!(
                "{}: further problems in this file are counted, not shown",
                self.name
            ));
        }
    }
}

/// A match as a [`WorkerStep`] sees it.
#[derive(Debug)]
pub struct Match<'a> {
    /// The record's index in its file.
    pub index: u64,
    /// What the query learnt.
    pub hit: Hit,
    /// The raw record, borrowed from the file's buffer.
    pub raw: Cow<'a, str>,
    /// With [`ScanConfig::extract`]: where the extractor's fields are in `raw`, when the
    /// record was read on the way (a usual record of a delivery file).
    pub fields: Option<Row<'a>>,
}

impl<'a> Match<'a> {
    fn new(index: u64, hit: Hit, raw: Cow<'a, str>) -> Match<'a> {
        Match { index, hit, raw, fields: None }
    }
}

/// What a worker thread keeps from file to file.
struct Buffers {
    reader: Reader,
    /// For [`ScanConfig::extract`].
    fields: Fields,
    table: Table,
}

impl Buffers {
    fn new(cfg: &ScanConfig) -> Buffers {
        Buffers {
            reader: Reader::streaming(cfg.max_file_size, crate::source::stream::threshold()),
            fields: Fields::default(),
            table: Table::default(),
        }
    }
}

/// Work per file in the worker thread that read it, on its matches (see [`scan_with`]).
pub type WorkerStep<'w> = dyn for<'a> Fn(&mut FileReport, Vec<Match<'a>>) + Sync + 'w;

/// Processes one walk item.
/// A walk item with what is known of it before it is read: its stamp and the gate's
/// decision.
struct Staged {
    item: WalkItem,
    stamp: Option<FileStamp>,
    decision: Option<GateDecision>,
    answer: Option<Answer>,
}

impl Staged {
    /// Whether processing the item reads nothing: its report is a name and a few counts.
    fn is_light(&self) -> bool {
        !matches!(self.item, WalkItem::File(..))
            || matches!(self.decision, Some(GateDecision::RuledOut | GateDecision::Answered))
    }
}

/// Stats the file (when a gate or [`ScanConfig::stamp_files`] wants it) and asks the gate.
fn stage(item: WalkItem, cfg: &ScanConfig) -> Staged {
    let mut staged = Staged { item, stamp: None, decision: None, answer: None };
    if let WalkItem::File(Input::Path(path), _) = &staged.item
        && (cfg.gate.is_some() || cfg.stamp_files)
    {
        match FileStamp::read(path) {
            Ok(stamp) => {
                staged.decision = cfg.gate.as_ref().map(|g| g.decide(path, &stamp));
                if staged.decision == Some(GateDecision::Answered) {
                    staged.answer = cfg.gate.as_ref().and_then(|g| g.answer(path, &stamp));
                    if staged.answer.is_none() {
                        staged.decision = Some(GateDecision::Read);
                    }
                }
                staged.stamp = Some(stamp);
            }
            // Reading the file names the problem.
            Err(_) => staged.decision = cfg.gate.as_ref().map(|_| GateDecision::Stale),
        }
    }
    staged
}

/// Processes one walk item.
fn process(
    buffers: &mut Buffers,
    staged: Staged,
    query: &Query,
    cfg: &ScanConfig,
    worker: &WorkerStep<'_>,
) -> FileReport {
    let mut r = FileReport { stamp: staged.stamp, gate: staged.decision, ..FileReport::default() };
    match staged.item {
        WalkItem::Pruned { path, reason, dir } => {
            r.name = path.display().to_string();
            match (reason, dir) {
                (SkipReason::Digest, false) => r.stats.files_digest = 1,
                (_, true) => r.stats.dirs_pruned = 1,
                (_, false) => r.stats.files_pruned = 1,
            }
        }
        WalkItem::Ignored { path, .. } => {
            r.name = path.display().to_string();
            r.stats.files_ignored = 1;
        }
        WalkItem::Error { path, message } => {
            r.name = path.display().to_string();
            r.stats.files_failed = 1;
            r.failed = true;
            r.message(format!("{}: {message}", r.name));
        }
        WalkItem::File(input, _meta) => {
            // `stage` gives an answer with every `Answered` (or decides `Read`).
            match (staged.decision, staged.answer) {
                (Some(GateDecision::RuledOut), _) => {
                    // Known to be read cleanly as it is: counted as read.
                    r.name = input.display();
                    r.stats.files_read = 1;
                    r.stats.files_indexed = 1;
                    worker(&mut r, Vec::new());
                    return r;
                }
                (Some(GateDecision::Answered), Some(a)) => {
                    r.name = input.display();
                    r.stats.files_read = 1;
                    r.stats.files_answered = 1;
                    r.stats.records_read = a.records;
                    r.stats.records_matched = a.records;
                    r.partial = Some(a.partial);
                    worker(&mut r, Vec::new());
                    return r;
                }
                (Some(GateDecision::Stale), _) => r.stats.files_index_stale = 1,
                (Some(GateDecision::Unknown), _) => r.stats.files_index_uncovered = 1,
                (Some(GateDecision::Read | GateDecision::Answered) | None, _) => {}
            }
            let hits = read_file(buffers, &input, query, cfg, &mut r);
            worker(&mut r, hits);
            return r;
        }
    }
    worker(&mut r, Vec::new());
    r
}

fn read_file<'r>(
    buffers: &'r mut Buffers,
    input: &Input,
    query: &Query,
    cfg: &ScanConfig,
    r: &mut FileReport,
) -> Vec<Match<'r>> {
    let hits = Vec::new();
    r.name = input.display();
    let Buffers { reader, fields, table } = buffers;
    let loaded = match reader.open(input) {
        Ok(Opened::Whole(l)) => l,
        Ok(Opened::Stream(s)) => return read_stream(s, query, cfg, r),
        Err(e) => {
            r.stats.files_failed = 1;
            r.failed = true;
            r.message(format!("{}: {e}", r.name));
            return hits;
        }
    };
    r.stats.bytes_read = loaded.disk_bytes;
    r.stats.bytes_inflated = loaded.data.len() as u64;
    if cfg.inflate_only {
        r.stats.files_read = 1;
        return hits;
    }
    let mut failed = false;
    if let Some(e) = &loaded.error {
        failed = true;
        r.message(format!("{}: {e}", r.name));
    }
    let prefilter = query.prefilter();
    if !failed && !prefilter.maybe(loaded.data) && looks_like_json(loaded.data) {
        // No record in the file can match: counted, not parsed (only its framing is checked).
        // Digests never hold the searched literals either.
        r.stats.files_read = 1;
        r.stats.files_prefiltered = 1;
        return hits;
    }
    // Every record goes to a consumer that reads its fields: read them while delimiting it.
    let unread = pass_unread(cfg, query);
    let extract = cfg.extract.as_deref().filter(|_| unread);
    table.clear();
    let doc = match extract {
        Some(ex) => split_with(loaded.data, &mut |b, i| ex.walk(b, i, fields, table)),
        None => split(loaded.data),
    };
    if doc.digest && doc.records.is_empty() {
        r.stats.files_digest = 1;
        return hits;
    }
    match (&doc.fatal, &loaded.error) {
        // The document breaks where the data ends: the read error already said why.
        (Some(_), Some(_)) => r.message(format!(
            "{}: {} records recovered before the damage",
            r.name,
            doc.records.len()
        )),
        (Some(fatal), None) => {
            failed = true;
            r.message(format!("{}: {fatal}", r.name));
        }
        _ => {}
    }
    if failed {
        r.stats.files_failed = 1;
        r.failed = true;
    } else {
        r.stats.files_read = 1;
    }
    // The rows belong to the records only when the fast path split the document.
    let rows = extract.is_some() && doc.unvalidated && table.len() == doc.records.len();
    take_records(doc, 0, query, cfg, r, rows.then_some(&*table))
}

/// The matches among a split's records (numbered from `base` in their file), counting them in
/// `r`; `rows`: where the extractor found each record's fields.
fn take_records<'a>(
    doc: Split<'a>,
    base: u64,
    query: &Query,
    cfg: &ScanConfig,
    r: &mut FileReport,
    rows: Option<&'a Table>,
) -> Vec<Match<'a>> {
    let mut hits = Vec::new();
    r.stats.records_failed += doc.problems.len() as u64;
    r.failed |= !doc.problems.is_empty();
    for p in &doc.problems {
        r.message(format!("{}: {}: {}", r.name, p.at, p.message));
    }
    r.stats.records_read += doc.records.len() as u64;
    let prefilter = query.prefilter();
    let unread = pass_unread(cfg, query);
    let unvalidated = doc.unvalidated && cfg.validate_hits;
    if unread && !unvalidated {
        for (i, rec) in doc.records.into_iter().enumerate() {
            let index = base + i as u64;
            match rec.text() {
                Ok(rec) => hits.push(Match {
                    fields: rows.and_then(|t| t.row(i)),
                    ..Match::new(index, Hit { time: None }, rec)
                }),
                Err(e) => r.reject_record(index, e),
            }
        }
        r.stats.records_matched += hits.len() as u64;
        return hits;
    }
    for (i, rec) in doc.records.into_iter().enumerate() {
        let index = base + i as u64;
        if !prefilter.maybe(rec.as_bytes()) {
            continue;
        }
        // Records of delivery files are checked to be UTF-8 only now, when they can match.
        let rec = match rec.text() {
            Ok(rec) => rec,
            Err(e) => {
                r.reject_record(index, e);
                continue;
            }
        };
        // Delivery files are split by a structural scan, without validating the records. The
        // fields a pattern reads are parsed (and so checked) by the projection; a record that
        // matches is checked in full before it is passed on.
        let result = query.evaluate(&rec).and_then(|hit| match hit {
            Some(_) if unvalidated => validate(&rec).map(|()| hit),
            _ => Ok(hit),
        });
        match result {
            Ok(Some(hit)) => {
                r.stats.records_matched += 1;
                hits.push(Match::new(index, hit, rec));
            }
            Ok(None) => {}
            Err(e) => r.reject_record(index, e),
        }
    }
    hits
}

/// A file too large to hold, read batch by batch ([`crate::source::stream`]): its matches
/// are copied out of each batch, so memory holds one batch and the matches.
fn read_stream(
    s: Streamed,
    query: &Query,
    cfg: &ScanConfig,
    r: &mut FileReport,
) -> Vec<Match<'static>> {
    let Streamed { text, compressed: _, disk, limit } = s;
    let mut hits: Vec<Match<'static>> = Vec::new();
    // Past the cap the text ends: the file is named as too large.
    let mut records = Records::new(text.take(limit + 1));
    let mut failed = false;
    let mut digest = false;
    let mut any_records = false;
    let mut maybe = false;
    let prefilter = query.prefilter();
    let mut base = 0u64;
    if cfg.inflate_only {
        let mut sink = [0u8; 1 << 16];
        let mut text = records.into_source();
        let mut n = 0u64;
        loop {
            match text.read(&mut sink) {
                Ok(0) => break,
                Ok(k) => n += k as u64,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    r.message(format!("{}: {e}", r.name));
                    failed = true;
                    break;
                }
            }
        }
        r.stats.bytes_read = disk.get();
        r.stats.bytes_inflated = n.min(limit);
        if n > limit {
            r.message(format!("{}: {}", r.name, ReadError::TooLarge { limit }));
            failed = true;
        }
        if failed {
            r.stats.files_failed = 1;
            r.failed = true;
        } else {
            r.stats.files_read = 1;
        }
        return hits;
    }
    let mut fatal = None;
    while let Some(doc) = records.next_batch() {
        if let Some(f) = &doc.fatal {
            failed = true;
            fatal = Some(f.clone());
        }
        digest |= doc.digest;
        any_records |= !doc.records.is_empty();
        maybe |= doc.records.iter().any(|rec| prefilter.maybe(rec.as_bytes()));
        let n = doc.records.len() as u64;
        let batch = take_records(doc, base, query, cfg, r, None);
        hits.extend(batch.into_iter().map(|m| Match {
            raw: Cow::Owned(m.raw.into_owned()),
            fields: None,
            ..Match::new(m.index, m.hit, Cow::Borrowed(""))
        }));
        base += n;
    }
    let inflated = records.bytes();
    r.stats.bytes_read = disk.get();
    r.stats.bytes_inflated = inflated.min(limit);
    if inflated > limit {
        failed = true;
        r.message(format!("{}: {}", r.name, ReadError::TooLarge { limit }));
        r.message(format!("{}: {base} records read before the limit", r.name));
    } else if let Some(e) = &records.error {
        failed = true;
        r.message(format!("{}: {}", r.name, ReadError::Gzip(e.to_string(), inflated as usize)));
        if fatal.take().is_some() {
            // The document breaks where the data ends: the read error said why.
            r.message(format!("{}: {base} records recovered before the damage", r.name));
        }
    }
    if let Some(f) = fatal {
        r.message(format!("{}: {f}", r.name));
    }
    if digest && !any_records {
        r.stats.files_digest = 1;
        return hits;
    }
    if failed {
        r.stats.files_failed = 1;
        r.failed = true;
    } else {
        r.stats.files_read = 1;
        if !maybe && r.stats.records_failed == 0 && !query.prefilter().maybe(b"") {
            // As the in-memory path counts a file no record of which can match.
            r.stats.files_prefiltered = 1;
            r.stats.records_read = 0;
        }
    }
    hits
}

/// Every record is passed on unread: the query matches everything and the consumer reads the
/// records itself.
fn pass_unread(cfg: &ScanConfig, query: &Query) -> bool {
    !cfg.hit_times && query.matches_everything()
}

/// Cheap framing check for files the prefilter rules out: text that starts with `{` or `[` (or
/// a digit: CloudWatch Logs export lines) and ends with `}` or `]` (JSON lines end with an
/// object too). Anything else (binary garbage, a cut file) goes through the full split, which
/// names the problem.
fn looks_like_json(data: &[u8]) -> bool {
    let trimmed = data.trim_ascii();
    // CloudWatch Logs export lines start with their timestamp's year.
    matches!(trimmed.first(), Some(b'{' | b'[' | b'0'..=b'9'))
        && matches!(trimmed.last(), Some(b'}' | b']'))
}

/// The matched text a report holds.
fn held_bytes(report: &FileReport) -> u64 {
    report.hits.iter().map(|h| h.2.len() as u64).sum()
}

/// How far ahead of the consumer workers may run, in files, per thread.
const WINDOW_PER_THREAD: u64 = 16;

/// How many times further items that read nothing may run ahead (their reports hold a name
/// and a few counts: 4,096 of them per thread are well under a megabyte).
const LIGHT_WINDOW: u64 = 256;

/// Matched records held in reports that wait for the consumer, beyond which workers only
/// start the file the consumer needs next (with every record matching, a window of files
/// could otherwise hold that many files' worth of text).
const HELD_BYTES: u64 = 64 << 20;

/// Scans everything, calling `consume(index, report)` in walk order on the calling thread,
/// after printing the report's messages on stderr. `stop` (set on Ctrl-C) ends the scan early
/// with [`Interrupted`].
pub fn scan(
    cfg: &ScanConfig,
    query: &Query,
    stop: &AtomicBool,
    consume: impl FnMut(u64, FileReport) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let keep = |r: &mut FileReport, hits: Vec<Match<'_>>| {
        r.hits = hits.into_iter().map(|m| (m.index, m.hit, m.raw.into_owned())).collect();
    };
    scan_with(cfg, query, stop, &keep, consume)
}

/// Like [`scan`], with a `worker` step run on each report in the worker thread that read the
/// file, before it is handed over: work per matched record (parsing, aggregating, testing
/// rules) runs in parallel there, on records still borrowed from the file's buffer, and its
/// result travels in [`FileReport::partial`] ([`FileReport::hits`] stays empty unless the
/// step fills it).
pub fn scan_with(
    cfg: &ScanConfig,
    query: &Query,
    stop: &AtomicBool,
    worker: &WorkerStep<'_>,
    mut consume: impl FnMut(u64, FileReport) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let paths = if cfg.paths.is_empty() { vec![PathBuf::from(".")] } else { cfg.paths.clone() };
    let mut progress = Progress::new(cfg.progress, &paths, &cfg.prune);
    let mut consume = |index: u64, report: FileReport| {
        progress.suspend(|| {
            for m in &report.messages {
                messages::error(m);
            }
        });
        progress.file_done(report.stats.bytes_read);
        consume(index, report)
    };
    scan_ordered(cfg, paths, query, stop, worker, &mut consume)?;
    if stop.load(Ordering::Relaxed) {
        return Err(Interrupted.into());
    }
    Ok(())
}

fn scan_ordered(
    cfg: &ScanConfig,
    paths: Vec<PathBuf>,
    query: &Query,
    stop: &AtomicBool,
    worker: &WorkerStep<'_>,
    consume: &mut dyn FnMut(u64, FileReport) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut walker = Walker::new(paths, cfg.prune.clone());
    let threads = cfg.threads.max(1);
    if threads == 1 {
        let mut buffers = Buffers::new(cfg);
        for (i, item) in walker.by_ref().enumerate() {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let report = process(&mut buffers, stage(item, cfg), query, cfg, worker);
            consume(i as u64, report)?;
        }
        return Ok(());
    }
    let window = WINDOW_PER_THREAD * threads as u64;
    let source = Mutex::new((walker, 0u64));
    let consumed = AtomicU64::new(0);
    let held = AtomicU64::new(0);
    let gate = (Mutex::new(()), Condvar::new());
    let waiting = AtomicU64::new(0);
    let abort = AtomicBool::new(false);
    // Reports travel in batches: consecutive light items (files the index decides, unopened)
    // and small files are sent together, so that a walk of 100,000 of them does not wake the
    // consumer 100,000 times. A batch is sent before a worker waits (so no worker waits on a
    // report held back in another's batch), when it holds a report of a file that was not
    // small, and before reading a file once it holds a small file's report: a report is held
    // back at most while a few small files are read.
    let (tx, rx) = mpsc::channel::<Vec<(u64, FileReport)>>();
    std::thread::scope(|scope| -> anyhow::Result<()> {
        for _ in 0..threads {
            let tx = tx.clone();
            let (source, consumed, held, gate, abort, waiting) =
                (&source, &consumed, &held, &gate, &abort, &waiting);
            scope.spawn(move || {
                let mut buffers = Buffers::new(cfg);
                let mut batch: Vec<(u64, FileReport)> = Vec::new();
                let flush = |batch: &mut Vec<(u64, FileReport)>| {
                    batch.is_empty() || tx.send(std::mem::take(batch)).is_ok()
                };
                loop {
                    if abort.load(Ordering::Relaxed) || stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let next = {
                        let mut guard =
                            source.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                        let (walker, n) = &mut *guard;
                        walker.next().map(|item| {
                            *n += 1;
                            (*n - 1, item)
                        })
                    };
                    let Some((index, item)) = next else {
                        flush(&mut batch);
                        return;
                    };
                    let staged = stage(item, cfg);
                    let light = staged.is_light();
                    if !light && batch.len() >= SMALL_BATCH && !flush(&mut batch) {
                        return;
                    }
                    // Do not run too far ahead of the consumer. Items that read nothing (a file
                    // the index rules out) make reports of a few counts: they may run further.
                    let window = if light { window * LIGHT_WINDOW } else { window };
                    let waits = |consumed: u64| {
                        index >= consumed + window
                            || (index > consumed && held.load(Ordering::Acquire) >= HELD_BYTES)
                    };
                    if waits(consumed.load(Ordering::Acquire)) {
                        if !flush(&mut batch) {
                            return;
                        }
                        let mut g =
                            gate.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                        // SeqCst with the consumer's store and load below: either it sees this
                        // worker waiting, or this worker sees its new count.
                        waiting.fetch_add(1, Ordering::SeqCst);
                        while waits(consumed.load(Ordering::SeqCst))
                            && !abort.load(Ordering::Relaxed)
                        {
                            g = gate.1.wait(g).unwrap_or_else(std::sync::PoisonError::into_inner);
                        }
                        waiting.fetch_sub(1, Ordering::AcqRel);
                        drop(g);
                    }
                    let report = process(&mut buffers, staged, query, cfg, worker);
                    held.fetch_add(held_bytes(&report), Ordering::AcqRel);
                    let small = light || report.stats.bytes_read <= SMALL_FILE;
                    batch.push((index, report));
                    let cap = if light { LIGHT_BATCH } else { SMALL_BATCH };
                    if (!small || batch.len() >= cap) && !flush(&mut batch) {
                        return;
                    }
                }
            });
        }
        drop(tx);
        let mut pending: BTreeMap<u64, FileReport> = BTreeMap::new();
        let mut expected = 0u64;
        let result = (|| {
            for batch in &rx {
                pending.extend(batch);
                while let Some(report) = pending.remove(&expected) {
                    held.fetch_sub(held_bytes(&report), Ordering::AcqRel);
                    consume(expected, report)?;
                    expected += 1;
                    consumed.store(expected, Ordering::SeqCst);
                    // A worker registers as waiting before it checks again, so one that is
                    // about to wait is either counted here or sees the new count.
                    if waiting.load(Ordering::SeqCst) > 0 {
                        let _g = gate.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                        gate.1.notify_all();
                    }
                }
            }
            Ok(())
        })();
        if result.is_err() {
            abort.store(true, Ordering::Relaxed);
            let _g = gate.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            gate.1.notify_all();
        }
        drop(rx);
        result
    })
}
