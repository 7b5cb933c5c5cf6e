//! The pipeline: walk → prune → (index) → read + inflate → split → prefilter → match, in
//! parallel over files, with results handed back in walk order.
//!
//! Worker threads take the next walk item, process the whole file and send its report to the
//! calling thread, which reorders reports by walk index and hands them to the consumer. A
//! worker does not start a file more than `WINDOW_PER_THREAD` files per thread ahead of the
//! consumer, nor any file but the next one the consumer needs while waiting reports hold more
//! than `HELD_BYTES` of matched text; so memory is bounded whatever the archive size, and the
//! consumer sees exactly the sequence a single thread would produce.
//!
//! # Chunks: many matches of one file
//!
//! A file's matches would otherwise all wait in its report until the file ends: a 3 GB file
//! whose every record matches would hold 3 GB. So [`scan`] (not [`scan_with`], whose worker
//! steps see a file's matches at once) hands a file's matches on in chunks while the file is
//! still being read: once the matches held for it reach `chunk_bytes` (4 MiB of text, each
//! match counted with its bookkeeping), they go to the consumer in a report marked
//! [`FileReport::more`], carrying matches only; the file's last report carries the rest of its
//! matches and all its counts and messages, as an unchunked report does. Chunks of one file go
//! through the same channel from the one worker that reads it, so they arrive in record order,
//! and the consumer takes them after every report of the files before it: its sequence of
//! matches (file order, then record order) is a single thread's, only cut into more calls.
//!
//! Back-pressure, so that memory stays bounded whatever one file holds: a worker with a chunk
//! ready waits before sending it
//!
//! - while its file is not the one the consumer is on (a later file) and waiting reports
//!   already hold `HELD_BYTES` of matched text: it then holds one chunk, no more, until the
//!   files before its own are consumed (the worker of the file the consumer is on never waits
//!   on that bound, so the wait always ends);
//! - while its file is the one the consumer is on, and more than `HEAD_CHUNKS` of its chunks
//!   are sent and not consumed yet (the consumer drains them, so the wait always ends).
//!
//! So waiting text stays under `HELD_BYTES` plus a chunk per worker plus the head's few
//! chunks, and a worker's own memory is its read window and one chunk (a single record larger
//! than a chunk is a chunk of its own). Reports of small files keep their batching
//! (`SMALL_BATCH`): a file with fewer than a chunk of matches makes one report, as before.

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
use std::collections::{BTreeMap, VecDeque};
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
    /// About how many bytes [`FileReport::partial`] holds, when that is more than a few
    /// counts (rows built from the matches): counted with the matches' text in what waits for
    /// the consumer, so that chunks of built rows are held back as chunks of text are.
    pub partial_bytes: u64,
    /// The file's stamp, taken before it was read ([`ScanConfig::stamp_files`], or a gate).
    pub stamp: Option<FileStamp>,
    /// What the gate decided, when there is one.
    pub gate: Option<GateDecision>,
    /// More reports of this file follow ([`scan`] hands a file's many matches on in chunks):
    /// this one carries [`FileReport::hits`] (and its name) only; the counts, messages,
    /// [`FileReport::failed`] and the rest of the matches come with the file's last report,
    /// whose `more` is false.
    pub more: bool,
    /// A chunk a worker step took over ([`scan_with_chunks`]): the matched text it was made
    /// from, which its partial result stands for while it waits for the consumer.
    weight: u64,
}

impl FileReport {
    /// A match that its consumer found it cannot read: counted as a failed record (not read,
    /// not matched) and reported as the engine reports records it cannot read.
    pub fn reject_match(&mut self, record: u64, error: impl std::fmt::Display) {
        self.stats.records_matched = self.stats.records_matched.saturating_sub(1);
        self.reject_record(record, error);
    }

    /// Takes over what a worker step counted in `chunk`, a chunk of this file's matches
    /// ([`Chunks::hand_on`]): each record it rejected was counted as read and matched here
    /// when the file was read, and is now counted as failed; its messages follow this file's.
    fn absorb(&mut self, chunk: &mut FileReport) {
        let n = std::mem::take(&mut chunk.stats.records_failed);
        self.stats.records_failed += n;
        self.stats.records_read = self.stats.records_read.saturating_sub(n);
        self.stats.records_matched = self.stats.records_matched.saturating_sub(n);
        self.failed |= std::mem::take(&mut chunk.failed);
        for m in std::mem::take(&mut chunk.messages) {
            self.message(m);
        }
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

/// What a match costs a report beside its text (its index, time and `String`), counted
/// towards [`chunk_bytes`] so that many tiny matches also make chunks.
const HIT_OVERHEAD: usize = std::mem::size_of::<(u64, Hit, String)>();

/// Matched text (each match counted with [`HIT_OVERHEAD`]) a file's report holds before
/// [`scan`] hands it on as a chunk: `TRAILSCAN_CHUNK_BYTES` (hidden, for tests: 1 makes every
/// match a chunk), else 4 MiB.
fn chunk_bytes() -> usize {
    std::env::var("TRAILSCAN_CHUNK_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n: &usize| n > 0)
        .unwrap_or(4 << 20)
}

/// Where a chunked scan sends a file's chunks: `false` once the consumer has stopped.
type Emit<'e> = dyn FnMut(FileReport) -> bool + 'e;

/// Handing a file's matches on in chunks while it is read (see the module's doc).
struct Chunks<'c> {
    /// Bytes a chunk holds at least ([`chunk_bytes`]).
    limit: usize,
    worker: &'c WorkerStep<'c>,
    emit: &'c mut Emit<'c>,
    /// The consumer has stopped: read no further.
    closed: bool,
}

impl Chunks<'_> {
    /// Hands the first matches of `hits` on as chunks of at least `limit` bytes while that
    /// many are there, and returns the rest (less than a chunk) to be kept for later.
    ///
    /// What the worker step counts against the file in a chunk (records it could not read,
    /// and their messages) is moved to `r`, the file's last report, which holds its counts:
    /// a chunk carries matches and the step's partial result only.
    fn hand_on<'a>(&mut self, r: &mut FileReport, mut hits: Vec<Match<'a>>) -> Vec<Match<'a>> {
        while !self.closed {
            let mut bytes = 0;
            let Some(end) = hits.iter().position(|m| {
                bytes += m.raw.len() + HIT_OVERHEAD;
                bytes >= self.limit
            }) else {
                break;
            };
            let rest = hits.split_off(end + 1);
            // The chunk's partial result, which the step makes of its matches, waits for the
            // consumer in their place: it weighs as they did, so that workers hold back.
            let weight = hits.iter().map(|m| m.raw.len() as u64).sum();
            let mut chunk =
                FileReport { name: r.name.clone(), more: true, weight, ..FileReport::default() };
            (self.worker)(&mut chunk, std::mem::replace(&mut hits, rest));
            r.absorb(&mut chunk);
            self.closed = !(self.emit)(chunk);
        }
        hits
    }
}

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
    mut chunks: Option<&mut Chunks<'_>>,
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
                    r.name = input.into_display();
                    r.stats.files_read = 1;
                    r.stats.files_indexed = 1;
                    worker(&mut r, Vec::new());
                    return r;
                }
                (Some(GateDecision::Answered), Some(a)) => {
                    r.name = input.into_display();
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
            let hits = read_file(buffers, &input, query, cfg, &mut r, chunks.as_deref_mut());
            let hits = match chunks {
                Some(c) => c.hand_on(&mut r, hits),
                None => hits,
            };
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
    chunks: Option<&mut Chunks<'_>>,
) -> Vec<Match<'r>> {
    let hits = Vec::new();
    r.name = input.display();
    let Buffers { reader, fields, table } = buffers;
    let loaded = match reader.open(input) {
        Ok(Opened::Whole(l)) => l,
        Ok(Opened::Stream(s)) => return read_stream(s, query, cfg, r, chunks),
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
        if !prefilter.maybe_record(rec.as_bytes()) {
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
/// are copied out of each batch, so memory holds one batch and the matches; with `chunks`,
/// the matches are handed on as they make chunks, and memory holds less than a chunk of them.
fn read_stream(
    s: Streamed,
    query: &Query,
    cfg: &ScanConfig,
    r: &mut FileReport,
    mut chunks: Option<&mut Chunks<'_>>,
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
        // Only until one record can match: what it decides is whether to count the file as
        // ruled out by the prefilter, as the in-memory path does from the file's whole text.
        if !maybe {
            maybe = doc.records.iter().any(|rec| prefilter.maybe(rec.as_bytes()));
        }
        let n = doc.records.len() as u64;
        let batch = take_records(doc, base, query, cfg, r, None);
        hits.extend(batch.into_iter().map(|m| Match {
            raw: Cow::Owned(m.raw.into_owned()),
            fields: None,
            ..Match::new(m.index, m.hit, Cow::Borrowed(""))
        }));
        base += n;
        if let Some(c) = chunks.as_deref_mut() {
            hits = c.hand_on(r, hits);
            if c.closed {
                // The consumer has stopped: the file's last report goes nowhere.
                return Vec::new();
            }
        }
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
    let hits = report.hits.iter().map(|h| h.2.len() as u64).sum::<u64>();
    (hits + report.partial_bytes).max(report.weight)
}

/// How far ahead of the consumer workers may run, in files, per thread.
const WINDOW_PER_THREAD: u64 = 16;

/// How many times further items that read nothing may run ahead (their reports hold a name
/// and a few counts: 4,096 of them per thread are well under a megabyte).
const LIGHT_WINDOW: u64 = 256;

/// Matched records held in reports that wait for the consumer, beyond which workers only
/// start the file the consumer needs next (with every record matching, a window of files
/// could otherwise hold that many files' worth of text), and hold a chunk of a later file
/// back (see the module's doc).
const HELD_BYTES: u64 = 64 << 20;

/// Chunks of the file the consumer is on that may be sent and not consumed yet.
const HEAD_CHUNKS: u64 = 4;

/// Scans everything, calling `consume(index, report)` in walk order on the calling thread,
/// after printing the report's messages on stderr. `stop` (set on Ctrl-C) ends the scan early
/// with [`Interrupted`].
///
/// A file with many matches is handed on in several reports, in record order, all but the
/// last marked [`FileReport::more`] (see the module's doc): memory holds a few chunks of
/// matches, not a whole file's.
pub fn scan(
    cfg: &ScanConfig,
    query: &Query,
    stop: &AtomicBool,
    consume: impl FnMut(u64, FileReport) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let keep = |r: &mut FileReport, hits: Vec<Match<'_>>| {
        r.hits = hits.into_iter().map(|m| (m.index, m.hit, m.raw.into_owned())).collect();
    };
    scan_in(cfg, query, stop, &keep, Flow { chunk: Some(chunk_bytes()), held: HELD_BYTES }, consume)
}

/// Like [`scan`], with a `worker` step run on each report in the worker thread that read the
/// file, before it is handed over: work per matched record (parsing, aggregating, testing
/// rules) runs in parallel there, on records still borrowed from the file's buffer, and its
/// result travels in [`FileReport::partial`] ([`FileReport::hits`] stays empty unless the
/// step fills it). The step sees all of a file's matches at once: one report per file.
pub fn scan_with(
    cfg: &ScanConfig,
    query: &Query,
    stop: &AtomicBool,
    worker: &WorkerStep<'_>,
    consume: impl FnMut(u64, FileReport) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    scan_in(cfg, query, stop, worker, Flow { chunk: None, held: HELD_BYTES }, consume)
}

/// Like [`scan_with`], for worker steps whose work on a file's matches adds up over any cut
/// of them (counting, as `summary` does): a file with many matches is handed to the step, and
/// then to the consumer, in several reports, all but the last marked [`FileReport::more`], as
/// [`scan`] does, so that memory holds a chunk of a huge file's matches, not all of them. A
/// chunk's report carries the step's partial result only: the records the step rejects in it
/// are counted, and their messages kept, in the file's last report.
pub fn scan_with_chunks(
    cfg: &ScanConfig,
    query: &Query,
    stop: &AtomicBool,
    worker: &WorkerStep<'_>,
    consume: impl FnMut(u64, FileReport) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    scan_in(
        cfg,
        query,
        stop,
        worker,
        Flow { chunk: Some(chunk_bytes()), held: HELD_BYTES },
        consume,
    )
}

/// How reports flow to the consumer.
#[derive(Debug, Clone, Copy)]
struct Flow {
    /// [`scan`]: a file's matches are handed on in chunks of this many bytes
    /// ([`chunk_bytes`]); [`scan_with`]: `None`, whole files.
    chunk: Option<usize>,
    /// Matched text waiting for the consumer past which workers hold back ([`HELD_BYTES`];
    /// tests make it tiny, so that every worker but the consumer's waits).
    held: u64,
}

/// [`scan`] or [`scan_with`].
fn scan_in(
    cfg: &ScanConfig,
    query: &Query,
    stop: &AtomicBool,
    worker: &WorkerStep<'_>,
    flow: Flow,
    mut consume: impl FnMut(u64, FileReport) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let paths = if cfg.paths.is_empty() { vec![PathBuf::from(".")] } else { cfg.paths.clone() };
    let mut progress = Progress::new(cfg.progress, &paths, &cfg.prune);
    let mut consume = |index: u64, report: FileReport| {
        if !report.more {
            progress.suspend(|| {
                for m in &report.messages {
                    messages::error(m);
                }
            });
            progress.file_done(report.stats.bytes_read);
        }
        consume(index, report)
    };
    scan_ordered(cfg, paths, query, stop, worker, flow, &mut consume)?;
    if stop.load(Ordering::Relaxed) {
        return Err(Interrupted.into());
    }
    Ok(())
}

/// A worker waits: blocks while `waits()` holds and the scan goes on, woken
/// by the consumer each time it takes a report while someone waits.
fn wait_while(
    gate: &(Mutex<()>, Condvar),
    waiting: &AtomicU64,
    abort: &AtomicBool,
    waits: impl Fn() -> bool,
) {
    let mut g = gate.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    // SeqCst with the consumer's stores and load: either it sees this worker waiting, or this
    // worker sees its new counts.
    waiting.fetch_add(1, Ordering::SeqCst);
    while waits() && !abort.load(Ordering::Relaxed) {
        g = gate.1.wait(g).unwrap_or_else(std::sync::PoisonError::into_inner);
    }
    waiting.fetch_sub(1, Ordering::AcqRel);
}

fn scan_ordered(
    cfg: &ScanConfig,
    paths: Vec<PathBuf>,
    query: &Query,
    stop: &AtomicBool,
    worker: &WorkerStep<'_>,
    flow: Flow,
    consume: &mut dyn FnMut(u64, FileReport) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let Flow { chunk, held: held_limit } = flow;
    let mut walker = Walker::new(paths, cfg.prune.clone());
    let threads = cfg.threads.max(1);
    if threads == 1 {
        let mut buffers = Buffers::new(cfg);
        for (i, item) in walker.by_ref().enumerate() {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let staged = stage(item, cfg);
            let mut failure = None;
            let report = match chunk {
                Some(limit) => {
                    let mut emit = |c: FileReport| match consume(i as u64, c) {
                        Ok(()) => true,
                        Err(e) => {
                            failure = Some(e);
                            false
                        }
                    };
                    let mut chunks = Chunks { limit, worker, emit: &mut emit, closed: false };
                    process(&mut buffers, staged, query, cfg, worker, Some(&mut chunks))
                }
                None => process(&mut buffers, staged, query, cfg, worker, None),
            };
            if let Some(e) = failure {
                return Err(e);
            }
            consume(i as u64, report)?;
        }
        return Ok(());
    }
    let window = WINDOW_PER_THREAD * threads as u64;
    let source = Mutex::new((walker, 0u64));
    let consumed = AtomicU64::new(0);
    let held = AtomicU64::new(0);
    // Matched text of the file the consumer is on, taken from its chunks so far.
    let head_done = AtomicU64::new(0);
    let gate = (Mutex::new(()), Condvar::new());
    let waiting = AtomicU64::new(0);
    let abort = AtomicBool::new(false);
    // Reports travel in batches: consecutive light items (files the index decides, unopened)
    // and small files are sent together, so that a walk of 100,000 of them does not wake the
    // consumer 100,000 times. A batch is sent before a worker waits (so no worker waits on a
    // report held back in another's batch), before a chunk, when it holds a report of a file
    // that was not small, and before reading a file once it holds a small file's report: a
    // report is held back at most while a few small files are read.
    let (tx, rx) = mpsc::channel::<Vec<(u64, FileReport)>>();
    std::thread::scope(|scope| -> anyhow::Result<()> {
        for _ in 0..threads {
            let tx = tx.clone();
            let (source, consumed, held, head_done, gate, abort, waiting) =
                (&source, &consumed, &held, &head_done, &gate, &abort, &waiting);
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
                    let waits = || {
                        let consumed = consumed.load(Ordering::SeqCst);
                        index >= consumed + window
                            || (index > consumed && held.load(Ordering::Acquire) >= held_limit)
                    };
                    if waits() {
                        if !flush(&mut batch) {
                            return;
                        }
                        wait_while(gate, waiting, abort, waits);
                    }
                    let report = match chunk {
                        Some(limit) => {
                            // Bytes of this file's chunks sent so far.
                            let mut sent = 0u64;
                            let mut emit = |c: FileReport| {
                                if !flush(&mut batch) {
                                    return false;
                                }
                                let waits = |sent: u64| {
                                    if index > consumed.load(Ordering::SeqCst) {
                                        held.load(Ordering::SeqCst) >= held_limit
                                    } else {
                                        sent.saturating_sub(head_done.load(Ordering::SeqCst))
                                            >= HEAD_CHUNKS.saturating_mul(limit as u64)
                                    }
                                };
                                if waits(sent) {
                                    wait_while(gate, waiting, abort, || waits(sent));
                                }
                                let bytes = held_bytes(&c);
                                held.fetch_add(bytes, Ordering::AcqRel);
                                sent += bytes;
                                !abort.load(Ordering::Relaxed) && tx.send(vec![(index, c)]).is_ok()
                            };
                            let mut chunks =
                                Chunks { limit, worker, emit: &mut emit, closed: false };
                            process(&mut buffers, staged, query, cfg, worker, Some(&mut chunks))
                        }
                        None => process(&mut buffers, staged, query, cfg, worker, None),
                    };
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
        // Reports waiting for the consumer, by walk index: a file's chunks in record order, the
        // last one (`more` false) ending the file.
        let mut pending: BTreeMap<u64, VecDeque<FileReport>> = BTreeMap::new();
        let mut expected = 0u64;
        let result = (|| {
            for batch in &rx {
                for (index, report) in batch {
                    pending.entry(index).or_default().push_back(report);
                }
                while let Some(report) = pending.get_mut(&expected).and_then(VecDeque::pop_front) {
                    let last = !report.more;
                    let bytes = held_bytes(&report);
                    held.fetch_sub(bytes, Ordering::AcqRel);
                    consume(expected, report)?;
                    if last {
                        pending.remove(&expected);
                        head_done.store(0, Ordering::SeqCst);
                        expected += 1;
                        consumed.store(expected, Ordering::SeqCst);
                    } else {
                        head_done.fetch_add(bytes, Ordering::SeqCst);
                    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::Filters;

    fn config(paths: Vec<PathBuf>, threads: usize) -> ScanConfig {
        ScanConfig {
            paths,
            prune: PruneRules::default(),
            threads,
            max_file_size: 1 << 30,
            inflate_only: false,
            progress: false,
            validate_hits: true,
            hit_times: true,
            extract: None,
            gate: None,
            stamp_files: false,
        }
    }

    /// JSON-lines files of `sizes[i]` records each; record `r` of file `f` holds both, and
    /// every third is a `CreateUser` (the rest `ListUsers`); one line in the second file is
    /// broken (counted, named).
    fn files(dir: &Path, sizes: &[usize]) -> Vec<PathBuf> {
        sizes
            .iter()
            .enumerate()
            .map(|(f, &n)| {
                let mut text = String::new();
                for r in 0..n {
                    let name = if r % 3 == 0 { "CreateUser" } else { "ListUsers" };
                    if f == 1 && r == 5 {
                        text.push_str("{\"eventName\": broken\n");
                        continue;
                    }
                    text.push_str(&format!(
                        "{{\"eventVersion\":\"1.08\",\"eventTime\":\"2024-01-01T00:00:00Z\",\"eventName\":\"{name}\",\"eventSource\":\"iam.amazonaws.com\",\"f\":{f},\"r\":{r},\"pad\":\"{}\"}}\n",
                        "x".repeat(r % 50)
                    ));
                }
                let p = dir.join(format!("{f:02}.jsonl"));
                std::fs::write(&p, text).unwrap();
                p
            })
            .collect()
    }

    /// What a consumer sees: (file, record, raw) of every match in the order handed over,
    /// the files' summed counts, how many reports were chunks, and the order of last reports.
    #[derive(Debug, PartialEq)]
    struct Seen {
        hits: Vec<(u64, u64, String)>,
        stats: Stats,
        chunks: usize,
        ends: Vec<u64>,
        messages: Vec<String>,
    }

    fn run(cfg: &ScanConfig, query: &Query, flow: Flow) -> Seen {
        let keep = |r: &mut FileReport, hits: Vec<Match<'_>>| {
            r.hits = hits.into_iter().map(|m| (m.index, m.hit, m.raw.into_owned())).collect();
        };
        let mut seen = Seen {
            hits: vec![],
            stats: Stats::default(),
            chunks: 0,
            ends: vec![],
            messages: vec![],
        };
        scan_in(cfg, query, &AtomicBool::new(false), &keep, flow, |file, report| {
            if report.more {
                // A chunk carries matches and its file's name, nothing else.
                assert!(!report.hits.is_empty());
                assert_eq!(report.stats, Stats::default());
                assert!(report.messages.is_empty() && !report.failed);
                seen.chunks += 1;
            } else {
                seen.ends.push(file);
            }
            // Nothing of a file comes after its last report.
            assert!(!seen.ends[..seen.ends.len() - usize::from(!report.more)].contains(&file));
            seen.stats.merge(&report.stats);
            seen.messages.extend(report.messages);
            seen.hits.extend(report.hits.into_iter().map(|(r, _, raw)| (file, r, raw)));
            Ok(())
        })
        .unwrap();
        seen
    }

    #[test]
    fn chunks_keep_the_order_and_counts_of_whole_reports() {
        let dir = tempfile::tempdir().unwrap();
        let paths = files(dir.path(), &[40, 300, 3, 0, 250, 7]);
        for filters in [
            Filters::default(),
            Filters { events: vec!["CreateUser".into()], ..Filters::default() },
        ] {
            let query = Query::new(&filters, &[], true).unwrap();
            let whole = run(&config(paths.clone(), 1), &query, Flow { chunk: None, held: 1 });
            assert_eq!(whole.chunks, 0);
            assert_eq!(whole.ends, (0..6).collect::<Vec<u64>>());
            // File order, then record order.
            let keys: Vec<(u64, u64)> = whole.hits.iter().map(|h| (h.0, h.1)).collect();
            assert!(keys.windows(2).all(|w| w[0] < w[1]));
            assert!(whole.hits.len() > 100);
            assert_eq!(whole.stats.records_failed, 1);
            for threads in [1, 2, 3, 8] {
                for (limit, held) in [(1, 1), (1, HELD_BYTES), (200, 1), (1000, 5000), (1 << 20, 1)]
                {
                    let flow = Flow { chunk: Some(limit), held };
                    let chunked = run(&config(paths.clone(), threads), &query, flow);
                    assert_eq!(chunked.hits, whole.hits, "{threads} threads, {flow:?}");
                    assert_eq!(chunked.stats, whole.stats);
                    assert_eq!(chunked.ends, whole.ends);
                    assert_eq!(chunked.messages, whole.messages);
                    if limit == 1 {
                        // Every match is a chunk of its own; the last reports hold counts.
                        assert_eq!(chunked.chunks, whole.hits.len());
                    }
                    if limit == 1 << 20 {
                        assert_eq!(chunked.chunks, 0);
                    }
                }
            }
        }
    }

    #[test]
    fn hand_on_cuts_at_the_limit_and_keeps_the_rest() {
        let keep = |r: &mut FileReport, hits: Vec<Match<'_>>| {
            r.hits = hits.into_iter().map(|m| (m.index, m.hit, m.raw.into_owned())).collect();
        };
        let mut sent: Vec<Vec<u64>> = Vec::new();
        let mut emit = |c: FileReport| {
            assert!(c.more);
            assert_eq!(c.name, "f");
            sent.push(c.hits.iter().map(|h| h.0).collect());
            sent.len() < 3
        };
        let limit = 2 * HIT_OVERHEAD + 10;
        let mut chunks = Chunks { limit, worker: &keep, emit: &mut emit, closed: false };
        let mut r = FileReport { name: "f".into(), ..FileReport::default() };
        let hits = |from: u64, n: u64| -> Vec<Match<'static>> {
            (from..from + n)
                .map(|i| Match::new(i, Hit { time: None }, Cow::Owned("x".repeat(5))))
                .collect()
        };
        // 10 bytes of text and two overheads make a chunk: two matches each.
        let rest = chunks.hand_on(&mut r, hits(0, 5));
        assert_eq!(rest.iter().map(|m| m.index).collect::<Vec<_>>(), [4]);
        assert!(!chunks.closed);
        // The consumer stops after the third chunk: nothing more is handed on.
        let mut more = rest;
        more.extend(hits(5, 10));
        let rest = chunks.hand_on(&mut r, more);
        assert!(chunks.closed);
        assert_eq!(rest.first().map(|m| m.index), Some(6));
        assert_eq!(sent, [vec![0, 1], vec![2, 3], vec![4, 5]]);
    }

    /// What a worker step rejects in a chunk is counted in the file's last report, which
    /// counted those records as read and matched; the chunks carry none of it.
    #[test]
    fn records_rejected_in_chunks_count_in_the_files_report() {
        let reject_even = |r: &mut FileReport, hits: Vec<Match<'_>>| {
            for m in hits.iter().filter(|m| m.index % 2 == 0) {
                r.reject_match(m.index, "bad");
            }
        };
        let mut chunks_seen = Vec::new();
        let mut emit = |c: FileReport| {
            chunks_seen.push((c.stats.clone(), c.failed, c.messages.len()));
            true
        };
        let limit = 2 * HIT_OVERHEAD + 10;
        let mut chunks = Chunks { limit, worker: &reject_even, emit: &mut emit, closed: false };
        let mut r = FileReport { name: "f".into(), ..FileReport::default() };
        r.stats.records_read = 7;
        r.stats.records_matched = 7;
        let hits: Vec<Match<'static>> =
            (0..7).map(|i| Match::new(i, Hit { time: None }, Cow::Owned("x".repeat(5)))).collect();
        let rest = chunks.hand_on(&mut r, hits);
        // Three chunks of two (0-1, 2-3, 4-5): three rejected; 6 is kept for later.
        assert_eq!(rest.len(), 1);
        assert_eq!(
            (r.stats.records_read, r.stats.records_matched, r.stats.records_failed),
            (4, 4, 3)
        );
        assert!(r.failed);
        assert_eq!(r.messages.len(), 3);
        assert!(r.messages[0].contains("record 1: invalid JSON"), "{:?}", r.messages);
        assert_eq!(chunks_seen.len(), 3);
        for (stats, failed, messages) in chunks_seen {
            assert_eq!((stats.records_failed, failed, messages), (0, false, 0));
        }
    }

    /// A worker step that takes a chunk's matches over (as `summary` does) leaves a partial
    /// result in their place: the file's reader still holds back while its chunks wait for a
    /// slow consumer, rather than queue the whole file's partial results.
    #[test]
    fn chunks_a_step_took_over_still_hold_the_reader_back() {
        use std::sync::atomic::AtomicUsize;
        let dir = tempfile::tempdir().unwrap();
        let paths = files(dir.path(), &[300]);
        let query = Query::new(&Filters::default(), &[], true).unwrap();
        let made = AtomicUsize::new(0);
        let step = |r: &mut FileReport, hits: Vec<Match<'_>>| {
            made.fetch_add(1, Ordering::SeqCst);
            r.partial = Some(Box::new(hits.len()));
        };
        let mut taken = 0usize;
        let mut records = 0usize;
        scan_in(
            &config(paths, 2),
            &query,
            &AtomicBool::new(false),
            &step,
            Flow { chunk: Some(1), held: HELD_BYTES },
            |_, mut report| {
                if taken == 0 {
                    // A slow consumer: the reader has every chance to run ahead.
                    std::thread::sleep(std::time::Duration::from_millis(200));
                }
                taken += 1;
                let ahead = made.load(Ordering::SeqCst) - taken;
                assert!(ahead <= HEAD_CHUNKS as usize + 1, "{ahead} chunks made ahead");
                records += *report.partial.take().unwrap().downcast::<usize>().unwrap();
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(records, 300);
        assert!(taken > 100, "one match per chunk: {taken}");
    }

    #[test]
    fn a_consumer_error_ends_a_chunked_scan() {
        let dir = tempfile::tempdir().unwrap();
        let paths = files(dir.path(), &[200, 200, 200]);
        let query = Query::new(&Filters::default(), &[], true).unwrap();
        let keep = |r: &mut FileReport, hits: Vec<Match<'_>>| {
            r.hits = hits.into_iter().map(|m| (m.index, m.hit, m.raw.into_owned())).collect();
        };
        for threads in [1, 2, 4] {
            let mut calls = 0;
            let result = scan_in(
                &config(paths.clone(), threads),
                &query,
                &AtomicBool::new(false),
                &keep,
                Flow { chunk: Some(1), held: 1 },
                |_, _| {
                    calls += 1;
                    if calls == 10 { Err(anyhow::anyhow!("sink full")) } else { Ok(()) }
                },
            );
            assert_eq!(result.unwrap_err().to_string(), "sink full");
            assert_eq!(calls, 10, "{threads} threads");
        }
    }
}
