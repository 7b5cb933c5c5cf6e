//! Partition buffers and the Parquet files they become.
//!
//! Rows are buffered per partition, in memory bounded by [`Limits`]: when the buffers hold more
//! than the budget, the partitions touched least recently are flushed first (with a walk of a
//! CloudTrail archive, a day's folder fills a partition and then moves on); a partition that
//! outgrows its own cap is flushed on the spot, so a big partition may get more than one file
//! in a run, each sorted by `eventTime`. Files are encoded and written by a few threads of their
//! own ([`Limits::writers`]; encoding and compressing is a third of an export's work, too much for
//! one thread to keep up with the scan) under a temporary name (`.part-....tmp`, which engines and
//! globs skip); [`LakeWriter::finish`] lists them for the caller to rename once the run is
//! recorded. Which rows go to which file, and the files' names, are decided by the caller's
//! thread in the order parts arrive, so they do not depend on which writer thread is faster.

use super::arrow::file_schema;
use super::rows::{Part, PartitionKey};
use super::schema::{self, Type};
use anyhow::{Context, Result, anyhow};
use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;

/// String columns written without a dictionary, besides the JSON text: every record has its own
/// `eventid` and `requestid` (and `sharedeventid`), and few share an `eventtime` to the second.
/// Plain encoding is cheaper to write and, measured on the bench archive, 3 % smaller.
const UNIQUE: [&[&str]; 8] = [
    &["eventid"],
    &["requestid"],
    &["sharedeventid"],
    &["eventtime"],
    // Many distinct values a partition: a session's ARN, principal and key, its start time.
    &["useridentity", "arn"],
    &["useridentity", "principalid"],
    &["useridentity", "accesskeyid"],
    &["useridentity", "sessioncontext", "attributes", "creationdate"],
];

/// The columns with min/max statistics (per page and per row group): those a query filters on
/// with few distinct values or in time order, where a row group's or page's range can rule it
/// out (`eventtime` above all: rows are sorted by it). Other columns (ARNs, user agents,
/// addresses, identifiers, error messages) hold nearly every value in every row group, so
/// their ranges rule nothing out; computing them was 2.5 % of an export's CPU time.
const STATISTICS: [&[&str]; 12] = [
    &["eventtime"],
    &["eventsource"],
    &["eventname"],
    &["awsregion"],
    &["recipientaccountid"],
    &["errorcode"],
    &["eventtype"],
    &["eventcategory"],
    &["readonly"],
    &["managementevent"],
    &["useridentity", "type"],
    &["useridentity", "accountid"],
];

/// Memory and file-shape limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// All partition buffers together, counted as their rows' text ([`Part::bytes`]: the
    /// same however a file's rows come in parts; the Arrow arrays take about as much).
    pub budget: usize,
    /// One partition's buffer, counted the same way.
    pub partition: usize,
    /// Rows per Parquet row group.
    pub row_group: usize,
    /// zstd level.
    pub zstd: i32,
    /// Threads encoding and writing files (at least one). Each holds one partition's rows while
    /// it writes them, on top of [`Limits::budget`].
    pub writers: usize,
}

impl Default for Limits {
    /// Measured on the bench archive and the huge inputs of `benches/memory.sh`
    /// (BENCHMARKS.md, "export"): the buffers' budget counts the rows' text, and the process
    /// holds about twice that in Arrow arrays and allocator slack; 64 MiB took a 3 GB
    /// JSON-lines file's export to 299 MiB of RSS, 32 MiB keeps it under 256.
    fn default() -> Limits {
        Limits { budget: 32 << 20, partition: 16 << 20, row_group: 64 * 1024, zstd: 1, writers: 2 }
    }
}

/// A Parquet file this run wrote.
#[derive(Debug, Clone)]
pub struct Written {
    /// Its final path, relative to the lake (`account=.../region=.../dt=.../part-RUN-N.parquet`).
    pub path: String,
    /// The temporary path it was written to, relative to the lake.
    pub tmp: String,
    /// The sources (caller's ids) whose rows it holds.
    pub sources: BTreeSet<u32>,
    /// Rows.
    pub rows: u64,
}

#[derive(Default)]
struct Buffer {
    batches: Vec<RecordBatch>,
    times: Vec<Vec<i64>>,
    sources: BTreeSet<u32>,
    bytes: usize,
    touched: u64,
}

struct Job {
    tmp: PathBuf,
    batches: Vec<RecordBatch>,
    times: Vec<Vec<i64>>,
}

/// Buffers partitions and writes their files.
pub struct LakeWriter {
    dir: PathBuf,
    run: String,
    limits: Limits,
    parts: HashMap<PartitionKey, Buffer>,
    held: usize,
    tick: u64,
    seq: u64,
    written: Vec<Written>,
    jobs: Option<mpsc::SyncSender<Job>>,
    threads: Vec<JoinHandle<Result<()>>>,
}

impl LakeWriter {
    /// A writer into lake `dir` for run `run` (part of every file name).
    #[must_use]
    pub fn new(dir: &Path, run: &str, raw: bool, limits: Limits) -> LakeWriter {
        let schema = file_schema(raw);
        let mut props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::try_new(limits.zstd).unwrap_or_default()))
            .set_max_row_group_row_count(Some(limits.row_group))
            .set_created_by(format!("trailscan {}", env!("CARGO_PKG_VERSION")))
            .set_statistics_enabled(EnabledStatistics::None);
        for path in STATISTICS {
            let col = ColumnPath::new(path.iter().map(|p| (*p).to_string()).collect());
            props = props.set_column_statistics_enabled(col, EnabledStatistics::Page);
        }
        // JSON text and the raw record: nearly every value distinct. No dictionary attempt:
        // less work, same answers.
        let texts = schema::COLUMNS
            .iter()
            .filter(|c| c.ty == Type::Json)
            .map(|c| c.name)
            .chain(raw.then_some(schema::RAW));
        for name in texts {
            props = props.set_column_dictionary_enabled(ColumnPath::from(name), false);
        }
        // Columns whose values are (nearly) all distinct: a dictionary only adds its indices.
        for path in UNIQUE {
            let col = ColumnPath::new(path.iter().map(|p| (*p).to_string()).collect());
            props = props.set_column_dictionary_enabled(col, false);
        }
        let props = Arc::new(props.build());
        // A job is handed over only when a writer is free to take it (a rendezvous channel):
        // the buffers stay bounded when encoding is slower than the scan.
        let (tx, rx) = mpsc::sync_channel::<Job>(0);
        let rx = Arc::new(Mutex::new(rx));
        let threads = (0..limits.writers.max(1))
            .map(|_| {
                let (rx, schema, props) = (Arc::clone(&rx), schema.clone(), Arc::clone(&props));
                std::thread::spawn(move || -> Result<()> {
                    loop {
                        // The lock is held only while waiting for the next job.
                        let job = match rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => return Ok(()),
                        };
                        let Ok(job) = job else { return Ok(()) };
                        let tmp = job.tmp.clone();
                        write_file(&schema, &props, limits.row_group, job)
                            .with_context(|| format!("writing {}", tmp.display()))?;
                    }
                })
            })
            .collect();
        LakeWriter {
            dir: dir.to_path_buf(),
            run: run.to_string(),
            limits,
            parts: HashMap::new(),
            held: 0,
            tick: 0,
            seq: 0,
            written: Vec::new(),
            jobs: Some(tx),
            threads,
        }
    }

    /// Adds one file's part (from source `source`), flushing what the limits require.
    ///
    /// # Errors
    /// When a file cannot be written.
    pub fn add(&mut self, source: u32, part: Part) -> Result<()> {
        self.tick += 1;
        let bytes = usize::try_from(part.bytes()).unwrap_or(usize::MAX);
        let buf = self.parts.entry(part.key.clone()).or_default();
        buf.batches.push(part.batch);
        buf.times.push(part.times);
        buf.sources.insert(source);
        buf.bytes += bytes;
        buf.touched = self.tick;
        self.held += bytes;
        if buf.bytes >= self.limits.partition {
            self.flush(&part.key)?;
        }
        while self.held > self.limits.budget {
            let oldest = self.parts.iter().min_by_key(|(_, b)| b.touched).map(|(k, _)| k.clone());
            match oldest {
                Some(k) => self.flush(&k)?,
                None => break,
            }
        }
        Ok(())
    }

    fn flush(&mut self, key: &PartitionKey) -> Result<()> {
        let Some(buf) = self.parts.remove(key) else { return Ok(()) };
        self.held -= buf.bytes;
        self.seq += 1;
        let dir = key.dir();
        let name = format!("part-{}-{:05}.parquet", self.run, self.seq);
        let tmp = format!("{dir}/.{name}.tmp");
        std::fs::create_dir_all(self.dir.join(&dir))
            .with_context(|| format!("creating {}", self.dir.join(&dir).display()))?;
        let rows = buf.times.iter().map(|t| t.len() as u64).sum();
        self.written.push(Written {
            path: format!("{dir}/{name}"),
            tmp: tmp.clone(),
            sources: buf.sources,
            rows,
        });
        let job = Job { tmp: self.dir.join(&tmp), batches: buf.batches, times: buf.times };
        let sent = self.jobs.as_ref().map(|tx| tx.send(job));
        if !matches!(sent, Some(Ok(()))) {
            // Every writer thread stopped: their error says why.
            return Err(self
                .join()
                .err()
                .unwrap_or_else(|| anyhow!("the Parquet writers stopped")));
        }
        Ok(())
    }

    /// Closes the channel and waits for the writers; the first error, if any.
    fn join(&mut self) -> Result<()> {
        self.jobs = None;
        let mut result = Ok(());
        for t in self.threads.drain(..) {
            let r = t.join().map_err(|_| anyhow!("a Parquet writer panicked")).and_then(|r| r);
            if result.is_ok() {
                result = r;
            }
        }
        result
    }

    /// Flushes every buffer, waits for the files and lists them (under their temporary names).
    ///
    /// # Errors
    /// When a file cannot be written.
    pub fn finish(mut self) -> Result<Vec<Written>> {
        let mut keys: Vec<PartitionKey> = self.parts.keys().cloned().collect();
        keys.sort();
        for k in keys {
            self.flush(&k)?;
        }
        self.join()?;
        Ok(std::mem::take(&mut self.written))
    }

    /// The temporary files written so far (to delete when the run is abandoned).
    #[must_use]
    pub fn abandon(mut self) -> Vec<String> {
        self.parts.clear();
        let _ = self.join();
        self.written.iter().map(|w| w.tmp.clone()).collect()
    }
}

/// Rows per sorted slice handed to the Parquet writer (which gathers them into row groups).
const SORTED_SLICE: usize = 8192;

/// A part's batch holding more than this (Arrow bytes) holds a huge row: a part is a chunk of
/// a few MiB of text otherwise ([`write_huge`]).
const HUGE_BATCH: usize = 32 << 20;

/// Sorts a partition's batches by time (stable: equal times keep their order) and writes them.
fn write_file(
    schema: &SchemaRef,
    props: &Arc<WriterProperties>,
    chunk: usize,
    job: Job,
) -> Result<()> {
    let mut order: Vec<(i64, usize, usize)> = Vec::new();
    for (b, times) in job.times.iter().enumerate() {
        order.extend(times.iter().enumerate().map(|(r, &t)| (t, b, r)));
    }
    if job.batches.iter().any(|b| b.get_array_memory_size() > HUGE_BATCH) {
        return write_huge(schema, props, job, order);
    }
    let file = std::fs::File::create(&job.tmp)?;
    let mut w = ArrowWriter::try_new(file, schema.clone(), Some(WriterProperties::clone(props)))?;
    if order.windows(2).all(|p| p[0].0 <= p[1].0) {
        // Already in order (a partition filled by files in time order): no copy.
        for b in &job.batches {
            w.write(b)?;
        }
        w.close()?;
        return Ok(());
    }
    order.sort_by_key(|o| o.0);
    let batches: Vec<&RecordBatch> = job.batches.iter().collect();
    // Copied in slices of at most `SORTED_SLICE` rows: one slice of the partition at a time,
    // not a second copy of all of it, is held next to the buffers.
    for rows in order.chunks(chunk.clamp(1, SORTED_SLICE)) {
        let indices: Vec<(usize, usize)> = rows.iter().map(|&(_, b, r)| (b, r)).collect();
        let sorted = arrow_select::interleave::interleave_record_batch(&batches, &indices)?;
        w.write(&sorted)?;
    }
    w.close()?;
    Ok(())
}

/// Writes a partition holding a huge row (a record of 100 MB) holding fewer copies of it at
/// once. The Parquet writer copies a value into its encoder, then into a page, then
/// compresses the page; cutting a page as soon as the huge value is in the encoder holds the
/// batch, the encoder's copy and the page together. Here no page or row group is cut while
/// the rows are handed over (as slices of the batches, in time order: no sorted copy), the
/// batches are dropped, and the pages are made when the file is closed: at most two copies
/// (and the compressed page). The rows and their order are those of [`write_file`]; only the
/// file's pages are fewer and larger.
fn write_huge(
    schema: &SchemaRef,
    props: &Arc<WriterProperties>,
    job: Job,
    mut order: Vec<(i64, usize, usize)>,
) -> Result<()> {
    let props = WriterProperties::clone(props)
        .into_builder()
        .set_data_page_size_limit(usize::MAX)
        .set_data_page_row_count_limit(usize::MAX)
        .set_max_row_group_row_count(None)
        .build();
    let file = std::fs::File::create(&job.tmp)?;
    let mut w = ArrowWriter::try_new(file, schema.clone(), Some(props))?;
    order.sort_by_key(|o| o.0);
    // Runs of rows that follow each other in one batch.
    let mut at = 0;
    while at < order.len() {
        let (_, b, r) = order[at];
        let mut len = 1;
        while order.get(at + len).is_some_and(|&(_, b2, r2)| b2 == b && r2 == r + len) {
            len += 1;
        }
        w.write(&job.batches[b].slice(r, len))?;
        at += len;
    }
    drop(job.batches);
    w.close()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lake::rows::Splitter;
    use arrow_array::cast::AsArray;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    fn part(times: &[&str]) -> Part {
        let recs: Vec<String> = times
            .iter()
            .map(|t| {
                format!(
                    r#"{{"eventTime":"{t}","recipientAccountId":"1","awsRegion":"r","eventID":"{t}"}}"#
                )
            })
            .collect();
        let (mut parts, _) = Splitter::new(false)
            .split(recs.iter().enumerate().map(|(i, r)| (i as u64, r.as_str())));
        assert_eq!(parts.len(), 1);
        parts.pop().unwrap()
    }

    fn written_times(dir: &Path, w: &Written) -> Vec<String> {
        let file = std::fs::File::open(dir.join(&w.tmp)).unwrap();
        let reader = ParquetRecordBatchReaderBuilder::try_new(file).unwrap().build().unwrap();
        let mut out = Vec::new();
        for b in reader {
            let b = b.unwrap();
            let col = b.column_by_name("eventtime").unwrap().as_string::<i32>();
            out.extend(col.iter().map(|v| v.unwrap().to_string()));
        }
        out
    }

    /// A partition holding a huge row is written with its pages cut only at the end
    /// ([`write_huge`]): the same rows, in the same order (by time, equal times in the order
    /// they came), as [`write_file`] writes.
    #[test]
    fn a_partition_with_a_huge_row_holds_the_same_rows() {
        let dir = tempfile::tempdir().unwrap();
        let parts: Vec<Part> = [
            vec![("05", "a"), ("01", "b"), ("03", "c"), ("03", "d")],
            vec![("02", "e"), ("03", "f"), ("06", "g")],
            vec![("01", "h"), ("04", "i"), ("04", "j"), ("07", "k")],
        ]
        .iter()
        .map(|rows| {
            let recs: Vec<String> = rows
                .iter()
                .map(|(t, id)| {
                    format!(
                        r#"{{"eventTime":"2024-01-01T00:00:{t}Z","recipientAccountId":"1","awsRegion":"r","eventID":"{id}","requestParameters":{{"p":"{}"}}}}"#,
                        id.repeat(1000)
                    )
                })
                .collect();
            let (mut parts, _) = Splitter::new(false)
                .split(recs.iter().enumerate().map(|(i, r)| (i as u64, r.as_str())));
            parts.pop().unwrap()
        })
        .collect();
        let schema = file_schema(false);
        let props = Arc::new(WriterProperties::builder().build());
        let job = |name: &str| Job {
            tmp: dir.path().join(name),
            batches: parts.iter().map(|p| p.batch.clone()).collect(),
            times: parts.iter().map(|p| p.times.clone()).collect(),
        };
        write_file(&schema, &props, 2, job("whole")).unwrap();
        let j = job("huge");
        let mut order = Vec::new();
        for (b, times) in j.times.iter().enumerate() {
            order.extend(times.iter().enumerate().map(|(r, &t)| (t, b, r)));
        }
        write_huge(&schema, &props, j, order).unwrap();
        let read = |name: &str| {
            let file = std::fs::File::open(dir.path().join(name)).unwrap();
            let reader = ParquetRecordBatchReaderBuilder::try_new(file).unwrap().build().unwrap();
            let batches: Vec<RecordBatch> = reader.map(Result::unwrap).collect();
            arrow_select::concat::concat_batches(&batches[0].schema(), &batches).unwrap()
        };
        let (whole, huge) = (read("whole"), read("huge"));
        assert_eq!(whole, huge);
        let ids = whole.column_by_name("eventid").unwrap().as_string::<i32>();
        let ids: String = ids.iter().map(|v| v.unwrap()).collect();
        assert_eq!(ids, "bhecdfijagk", "by time, equal times in the order they came");
    }

    #[test]
    fn a_partition_file_is_sorted_across_the_parts_that_fed_it() {
        let dir = tempfile::tempdir().unwrap();
        for (a, b) in [
            (
                ["2024-01-01T00:00:03Z", "2024-01-01T00:00:05Z"],
                ["2024-01-01T00:00:01Z", "2024-01-01T00:00:04Z"],
            ),
            (
                ["2024-01-01T00:00:01Z", "2024-01-01T00:00:02Z"],
                ["2024-01-01T00:00:03Z", "2024-01-01T00:00:04Z"],
            ),
        ] {
            let mut w = LakeWriter::new(dir.path(), "run", false, Limits::default());
            w.add(0, part(&a)).unwrap();
            w.add(1, part(&b)).unwrap();
            let written = w.finish().unwrap();
            assert_eq!(written.len(), 1);
            assert_eq!(written[0].sources.iter().copied().collect::<Vec<_>>(), [0, 1]);
            assert_eq!(written[0].rows, 4);
            let mut want: Vec<String> = a.iter().chain(&b).map(|s| (*s).to_string()).collect();
            want.sort();
            assert_eq!(written_times(dir.path(), &written[0]), want);
            std::fs::remove_file(dir.path().join(&written[0].tmp)).unwrap();
        }
    }

    #[test]
    fn statistics_on_the_columns_queries_prune_with() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = LakeWriter::new(dir.path(), "run", false, Limits::default());
        w.add(0, part(&["2024-01-01T00:00:02Z", "2024-01-01T00:00:01Z"])).unwrap();
        let written = w.finish().unwrap();
        let file = std::fs::File::open(dir.path().join(&written[0].tmp)).unwrap();
        let reader = parquet::file::reader::SerializedFileReader::new(file).unwrap();
        let meta = parquet::file::reader::FileReader::metadata(&reader);
        let rg = meta.row_group(0);
        let stats = |name: &str| {
            rg.columns()
                .iter()
                .find(|c| c.column_path().string() == name)
                .unwrap_or_else(|| panic!("{name}"))
                .statistics()
                .is_some_and(|s| s.min_bytes_opt().is_some())
        };
        assert!(stats("eventtime"));
        assert!(stats("recipientaccountid") && stats("awsregion"));
        assert!(!stats("eventid"));
        assert!(!stats("requestparameters"));
        // Every column the list names exists.
        for path in STATISTICS {
            let name = path.join(".");
            assert!(rg.columns().iter().any(|c| c.column_path().string() == name), "{name}");
        }
    }

    #[test]
    fn a_partition_over_its_cap_gets_more_files_each_sorted() {
        let dir = tempfile::tempdir().unwrap();
        let limits = Limits { budget: 1, partition: 1, ..Limits::default() };
        let mut w = LakeWriter::new(dir.path(), "run", false, limits);
        w.add(0, part(&["2024-01-01T00:00:02Z", "2024-01-01T00:00:01Z"])).unwrap();
        w.add(1, part(&["2024-01-01T00:00:00Z"])).unwrap();
        let written = w.finish().unwrap();
        assert_eq!(written.len(), 2);
        assert_eq!(written[0].path, "account=1/region=r/dt=2024-01-01/part-run-00001.parquet");
        assert_eq!(written[0].tmp, "account=1/region=r/dt=2024-01-01/.part-run-00001.parquet.tmp");
        assert_eq!(
            written_times(dir.path(), &written[0]),
            ["2024-01-01T00:00:01Z", "2024-01-01T00:00:02Z"]
        );
        assert_eq!(written_times(dir.path(), &written[1]), ["2024-01-01T00:00:00Z"]);
    }
}
