//! Putting matches in `eventTime` order with bounded memory.
//!
//! Matches arrive in file order. They are kept in memory up to a budget; past it, the buffer is
//! sorted and spilled to a temporary file as a run, and the runs are merged at the end. The key
//! is (eventTime, file index, record index), so equal times keep their input order and the
//! output does not depend on the thread count. Records without a usable eventTime sort last.
//! With `--limit N` (and no `--dedupe`) only the N earliest are kept, in a heap.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, BufReader, BufWriter, Read, Write};

/// The order of a match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Key {
    /// eventTime in ns (`i64::MAX` when unknown).
    pub time: i64,
    /// Index of the file in walk order.
    pub file: u64,
    /// Index of the record in its file.
    pub record: u64,
}

/// One match waiting for output.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Entry {
    /// Its place in the output.
    pub key: Key,
    /// The raw record text.
    pub raw: String,
}

/// Collects entries and hands them back in key order.
pub struct Sorter {
    buffer: Vec<Entry>,
    buffered_bytes: usize,
    budget: usize,
    runs: Vec<tempfile::NamedTempFile>,
    limit: Option<usize>,
    top: BinaryHeap<Entry>,
}

const ENTRY_OVERHEAD: usize = std::mem::size_of::<Entry>();

/// Buffer size for writing and reading runs: runs are tens of megabytes, read back a few at a
/// time, so large buffers save system calls.
const RUN_BUFFER: usize = 1 << 20;

impl Sorter {
    /// Keeps up to `budget` bytes in memory; keeps only the `limit` first entries if given.
    #[must_use]
    pub fn new(budget: usize, limit: Option<usize>) -> Sorter {
        Sorter {
            buffer: Vec::new(),
            buffered_bytes: 0,
            budget,
            runs: Vec::new(),
            limit,
            top: BinaryHeap::new(),
        }
    }

    /// Adds one entry.
    pub fn push(&mut self, entry: Entry) -> io::Result<()> {
        if let Some(limit) = self.limit {
            if self.top.len() < limit {
                self.top.push(entry);
            } else if self.top.peek().is_some_and(|max| entry < *max) {
                self.top.pop();
                self.top.push(entry);
            }
            return Ok(());
        }
        self.buffered_bytes += entry.raw.len() + ENTRY_OVERHEAD;
        self.buffer.push(entry);
        if self.buffered_bytes >= self.budget {
            self.spill()?;
        }
        Ok(())
    }

    fn spill(&mut self) -> io::Result<()> {
        self.buffer.sort_unstable_by_key(|e| e.key);
        let file = tempfile::NamedTempFile::new()?;
        {
            let mut w = BufWriter::with_capacity(RUN_BUFFER, file.as_file());
            for e in self.buffer.drain(..) {
                w.write_all(&e.key.time.to_le_bytes())?;
                w.write_all(&e.key.file.to_le_bytes())?;
                w.write_all(&e.key.record.to_le_bytes())?;
                w.write_all(&(e.raw.len() as u64).to_le_bytes())?;
                w.write_all(e.raw.as_bytes())?;
            }
            w.flush()?;
        }
        self.buffered_bytes = 0;
        self.runs.push(file);
        Ok(())
    }

    /// Number of runs spilled to disk so far.
    #[must_use]
    pub fn spilled_runs(&self) -> usize {
        self.runs.len()
    }

    /// All entries in key order.
    pub fn finish(mut self) -> io::Result<Merged> {
        if self.limit.is_some() {
            let mut v = std::mem::take(&mut self.top).into_vec();
            v.sort_unstable_by_key(|e| e.key);
            self.buffer = v;
        } else {
            self.buffer.sort_unstable_by_key(|e| e.key);
        }
        let mut sources: Vec<Source> = Vec::new();
        for run in self.runs {
            let mut r = BufReader::with_capacity(RUN_BUFFER, run.reopen()?);
            if let Some(e) = read_entry(&mut r)? {
                sources.push(Source::Run(r, Some(e)));
            }
        }
        sources.push(Source::Memory(self.buffer.into_iter()));
        let mut heap = BinaryHeap::new();
        for (i, s) in sources.iter_mut().enumerate() {
            if let Some(e) = s.next_entry()? {
                heap.push(Reverse((e, i)));
            }
        }
        Ok(Merged { sources, heap })
    }
}

fn read_entry(r: &mut impl Read) -> io::Result<Option<Entry>> {
    let mut head = [0u8; 32];
    match r.read_exact(&mut head[..8]) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    r.read_exact(&mut head[8..])?;
    let word = |i: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&head[i * 8..i * 8 + 8]);
        b
    };
    let key = Key {
        time: i64::from_le_bytes(word(0)),
        file: u64::from_le_bytes(word(1)),
        record: u64::from_le_bytes(word(2)),
    };
    let len = usize::try_from(u64::from_le_bytes(word(3))).map_err(io::Error::other)?;
    let mut raw = Vec::with_capacity(len);
    if r.take(len as u64).read_to_end(&mut raw)? != len {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    let raw = String::from_utf8(raw).map_err(io::Error::other)?;
    Ok(Some(Entry { key, raw }))
}

enum Source {
    Run(BufReader<std::fs::File>, Option<Entry>),
    Memory(std::vec::IntoIter<Entry>),
}

impl Source {
    fn next_entry(&mut self) -> io::Result<Option<Entry>> {
        match self {
            Source::Run(r, first) => match first.take() {
                Some(e) => Ok(Some(e)),
                None => read_entry(r),
            },
            Source::Memory(it) => Ok(it.next()),
        }
    }
}

/// The merged, ordered entries.
pub struct Merged {
    sources: Vec<Source>,
    heap: BinaryHeap<Reverse<(Entry, usize)>>,
}

impl Iterator for Merged {
    type Item = io::Result<Entry>;
    fn next(&mut self) -> Option<io::Result<Entry>> {
        let Reverse((entry, i)) = self.heap.pop()?;
        match self.sources[i].next_entry() {
            Ok(Some(next)) => self.heap.push(Reverse((next, i))),
            Ok(None) => {}
            Err(e) => return Some(Err(e)),
        }
        Some(Ok(entry))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn entry(time: i64, file: u64, record: u64) -> Entry {
        Entry { key: Key { time, file, record }, raw: format!("{{\"t\":{time},\"r\":{record}}}") }
    }

    proptest! {
        #[test]
        fn spilled_merge_equals_in_memory_sort(times in proptest::collection::vec(0i64..50, 0..300), budget in 1usize..4000, limit in proptest::option::of(0usize..40)) {
            let entries: Vec<Entry> = times.iter().enumerate().map(|(i, t)| entry(*t, (i / 7) as u64, i as u64)).collect();
            let mut s = Sorter::new(budget, limit);
            for e in entries.clone() {
                s.push(e).unwrap();
            }
            let got: Vec<Entry> = s.finish().unwrap().map(Result::unwrap).collect();
            let mut want = entries;
            want.sort_by_key(|e| e.key);
            if let Some(l) = limit {
                want.truncate(l);
            }
            prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn spills_when_over_budget() {
        let mut s = Sorter::new(100, None);
        for i in 0..20 {
            s.push(entry(20 - i, 0, i as u64)).unwrap();
        }
        assert!(s.spilled_runs() > 1);
        let got: Vec<i64> = s.finish().unwrap().map(|e| e.unwrap().key.time).collect();
        assert_eq!(got, (1..=20).collect::<Vec<_>>());
    }
}
