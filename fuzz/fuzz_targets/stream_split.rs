//! Any bytes as the text of a streamed file (`source::stream::Records`), fed one byte or a few
//! at a time so that every record and line crosses reads. Nothing may panic; the streamed
//! records of a document the in-memory split reads cleanly (no problem, nothing fatal) as a
//! delivery file, JSON lines or a bare array must be the same records.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::io::Read;
use trailscan::source::split;
use trailscan::source::stream::Records;

/// Hands out at most `step` bytes per read.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&step, text)) = data.split_first() else { return };
    let step = usize::from(step % 8) + 1;
    let mut records = Records::with_chunk(Trickle { data: text, step }, step);
    let mut streamed: Vec<Vec<u8>> = Vec::new();
    let mut clean = true;
    while let Some(batch) = records.next_batch() {
        clean &= batch.problems.is_empty() && batch.fatal.is_none();
        streamed.extend(batch.records.iter().map(|r| r.as_bytes().to_vec()));
    }
    let whole = split(text);
    if clean && whole.problems.is_empty() && whole.fatal.is_none() && !whole.digest {
        let t = text.trim_ascii_start();
        // The shapes whose records are the document's own bytes in both paths.
        if t.starts_with(b"{\"Records\":[") || t.starts_with(b"[") {
            let mem: Vec<Vec<u8>> = whole.records.iter().map(|r| r.as_bytes().to_vec()).collect();
            assert_eq!(streamed, mem);
        }
    }
});
