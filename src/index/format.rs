//! The index file: a header, then three sections, each compressed with zstd.
//!
//! ```text
//! magic     16 bytes   "trailscan-index\n"
//! version   u32 LE     VERSION
//! 3 x       3 x u64 LE each section's length once inflated, length compressed, and the
//!                      XXH3-64 of its compressed bytes
//! body      zstd       postcard of Body: the root, times, field list and dictionary, then
//!                      three column blobs of LEB128 varints: paths (front-coded), per-file
//!                      facts (stamps delta-coded, and the length of the file's summary),
//!                      and per file and field its set
//! summaries zstd       postcard of SummaryBody: the summaries' value texts, sorted and
//!                      front-coded (lengths, then the rests end to end), and every file's
//!                      summary bytes end to end (see `super::summary`)
//! totals    zstd       postcard of TotalsBody: what a summary of every file counts, its
//!                      top values with their texts (see `super::summary::Totals`)
//! ```
//!
//! Only the body is read when an index is opened. The other two sections are read from the
//! file, checked and inflated when first used: a search reads 30 % of the file, a summary of
//! the whole archive the body and the totals.
//!
//! The blobs are borrowed from the inflated body and decoded straight into the index's flat
//! tables: loading 100,000 entries allocates a few vectors, not millions.
//!
//! The file is untrusted input (a cache anyone could have written, or a disk could have
//! damaged): [`decode`] checks the checksum, every length, every id and every filter's shape,
//! and answers an error, never a panic and never an index that could rule out a file wrongly
//! for a reason other than what it says of that file.

use super::fields::{FIELDS, untag};
use super::{FieldSet, FileEntry, Fuse, Index, SetFlags};
use crate::source::FileStamp;
use serde::{Deserialize, Serialize};
use xorf::{BinaryFuse8, Descriptor};

/// The first bytes of every index file.
pub const MAGIC: &[u8; 16] = b"trailscan-index\n";
/// The format version this build writes and reads.
pub const VERSION: u32 = 4;
/// Sections in a file.
const SECTIONS: usize = 3;
/// Header length.
const HEADER: usize = 16 + 4 + SECTIONS * 24;
/// The largest section this build inflates.
const MAX_BODY: u64 = 4 << 30;
/// The zstd level sections are written at: as small as deflate's default on these tables
/// (levels up to 9 save 3 % at most; their bytes are mostly ids, times and hashes), several
/// times faster to write (an update rewrites the whole file) and faster to read.
const LEVEL: i32 = 1;

/// Why an index file cannot be used.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum FormatError {
    /// Not an index file.
    #[error("not a trailscan index")]
    NotAnIndex,
    /// Written by another version.
    #[error("index format version {0}, this trailscan reads version {VERSION}")]
    Version(u32),
    /// Cut short.
    #[error("truncated")]
    Truncated,
    /// The checksum does not match.
    #[error("damaged (checksum mismatch)")]
    Checksum,
    /// The body does not decode, or says something impossible.
    #[error("damaged ({0})")]
    Corrupt(String),
}

pub(super) fn corrupt(what: impl Into<String>) -> FormatError {
    FormatError::Corrupt(what.into())
}

/// Bytes serialized as one byte string (postcard: a length, then the bytes), borrowed back.
struct Blob<'a>(std::borrow::Cow<'a, [u8]>);

impl Serialize for Blob<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Blob<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Blob<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("bytes")
            }
            fn visit_borrowed_bytes<E: serde::de::Error>(
                self,
                v: &'de [u8],
            ) -> Result<Blob<'de>, E> {
                Ok(Blob(std::borrow::Cow::Borrowed(v)))
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Blob<'de>, E> {
                Ok(Blob(std::borrow::Cow::Owned(v.to_vec())))
            }
        }
        d.deserialize_bytes(V)
    }
}

#[derive(Serialize, Deserialize)]
struct Body<'a> {
    root: String,
    built_at: i64,
    build_ms: u64,
    fields: Vec<String>,
    dict: Vec<String>,
    files: u64,
    #[serde(borrow)]
    paths: Blob<'a>,
    #[serde(borrow)]
    facts: Blob<'a>,
    #[serde(borrow)]
    sets: Blob<'a>,
}

#[derive(Serialize, Deserialize, Default)]
struct SummaryBody<'a> {
    #[serde(borrow)]
    text_lens: Blob<'a>,
    #[serde(borrow)]
    texts: Blob<'a>,
    #[serde(borrow)]
    parts: Blob<'a>,
    /// Where each field's run of texts starts, and the last ends (9 numbers), or none.
    runs: Vec<u32>,
}

#[derive(Serialize, Deserialize)]
struct TotalsBody<'a> {
    files: u64,
    max_notable: u64,
    /// Per field: the least count kept, and the values not kept and their records.
    cut: Vec<(u64, u64, u64)>,
    #[serde(borrow)]
    text_lens: Blob<'a>,
    #[serde(borrow)]
    texts: Blob<'a>,
    runs: Vec<u32>,
    #[serde(borrow)]
    part: Blob<'a>,
}

impl Default for Blob<'_> {
    fn default() -> Self {
        Blob(std::borrow::Cow::Borrowed(&[]))
    }
}

/// A section of an index file as stored, not yet checked nor inflated: in memory, or where it
/// lies in the open file (read when first used; the open file is the one loaded, whatever
/// replaced it under its name since).
#[derive(Debug, Clone)]
pub struct Packed {
    raw_len: u64,
    packed_len: u64,
    sum: u64,
    at: At,
}

#[derive(Debug, Clone)]
enum At {
    Memory(std::sync::Arc<[u8]>),
    #[cfg(unix)]
    File(std::sync::Arc<std::fs::File>, u64),
}

impl Packed {
    /// The section checked and inflated.
    pub fn unpack(&self) -> Result<Vec<u8>, FormatError> {
        let bytes: std::borrow::Cow<'_, [u8]> = match &self.at {
            At::Memory(b) => std::borrow::Cow::Borrowed(b),
            #[cfg(unix)]
            At::File(f, offset) => {
                use std::os::unix::fs::FileExt;
                let n = usize::try_from(self.packed_len).map_err(|_| FormatError::Truncated)?;
                let mut buf = vec![0; n];
                f.read_exact_at(&mut buf, *offset).map_err(|_| FormatError::Truncated)?;
                std::borrow::Cow::Owned(buf)
            }
        };
        if xxhash_rust::xxh3::xxh3_64(&bytes) != self.sum {
            return Err(FormatError::Checksum);
        }
        inflate(self.raw_len, &bytes)
    }
}

pub(super) fn put(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

pub(super) fn put_i(out: &mut Vec<u8>, v: i64) {
    put(out, ((v << 1) ^ (v >> 63)) as u64);
}

/// Reads from a blob, every read checked.
pub(super) struct Reader<'a>(pub(super) &'a [u8]);

impl<'a> Reader<'a> {
    pub(super) fn u(&mut self) -> Result<u64, FormatError> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let (&b, rest) = self.0.split_first().ok_or_else(|| corrupt("a blob ends early"))?;
            self.0 = rest;
            v |= u64::from(b & 0x7f).checked_shl(shift).unwrap_or(0);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(corrupt("a number too long"))
    }

    pub(super) fn i(&mut self) -> Result<i64, FormatError> {
        let z = self.u()?;
        Ok(((z >> 1) as i64) ^ -((z & 1) as i64))
    }

    pub(super) fn u32(&mut self) -> Result<u32, FormatError> {
        u32::try_from(self.u()?).map_err(|_| corrupt("a number out of range"))
    }

    pub(super) fn bytes(&mut self, n: u64) -> Result<&'a [u8], FormatError> {
        let n = usize::try_from(n).map_err(|_| corrupt("a length out of range"))?;
        if n > self.0.len() {
            return Err(corrupt("a blob ends early"));
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }

    pub(super) fn byte(&mut self) -> Result<u8, FormatError> {
        Ok(self.bytes(1)?[0])
    }
}

const EXACT: u8 = 0;
const HASHES: u8 = 1;
const FILTER: u8 = 2;

/// The index as file bytes.
#[must_use]
pub fn encode(index: &Index) -> Vec<u8> {
    let (mut paths, mut facts, mut sets) = (Vec::new(), Vec::new(), Vec::new());
    let mut parts = Vec::new();
    // A summaries section that cannot be read is left out.
    let sums = index.summaries().ok();
    let mut prev_path: &str = "";
    let mut prev = FileStamp { size: 0, mtime_ns: 0, ctime_ns: 0, inode: 0 };
    let mut prev_first = 0i64;
    for f in &index.files {
        let shared = prev_path.bytes().zip(f.path.bytes()).take_while(|(a, b)| a == b).count();
        let shared = (0..=shared).rev().find(|&n| f.path.is_char_boundary(n)).unwrap_or(0);
        put(&mut paths, shared as u64);
        put(&mut paths, (f.path.len() - shared) as u64);
        paths.extend_from_slice(&f.path.as_bytes()[shared..]);
        prev_path = &f.path;
        put(&mut facts, f.stamp.size);
        put_i(&mut facts, f.stamp.mtime_ns.wrapping_sub(prev.mtime_ns));
        put_i(&mut facts, f.stamp.ctime_ns.wrapping_sub(prev.ctime_ns));
        put_i(&mut facts, (f.stamp.inode as i64).wrapping_sub(prev.inode as i64));
        prev = f.stamp;
        put(&mut facts, f.records);
        facts.push(u8::from(f.untimed) | (u8::from(f.span.is_some()) << 1));
        if let Some((a, b)) = f.span {
            put_i(&mut facts, a.wrapping_sub(prev_first));
            put(&mut facts, b.wrapping_sub(a) as u64);
            prev_first = a;
        }
        let part = sums.map(|s| s.part(f)).unwrap_or_default();
        put(&mut facts, part.len() as u64);
        parts.extend_from_slice(part);
        for k in 0..FIELDS.len() {
            let set = index.set(f, k);
            let flags = set.flags().bits() << 2;
            match set {
                FieldSet::Exact(ids, _) => {
                    sets.push(EXACT | flags);
                    put(&mut sets, ids.len() as u64);
                    let mut last = 0;
                    for &id in ids {
                        put(&mut sets, u64::from(id - last));
                        last = id;
                    }
                }
                FieldSet::Hashes(fps, _) => {
                    sets.push(HASHES | flags);
                    put(&mut sets, fps.len() as u64);
                    for fp in fps {
                        sets.extend_from_slice(&fp.to_le_bytes());
                    }
                }
                FieldSet::Filter(fuse, _) => {
                    sets.push(FILTER | flags);
                    let d = &fuse.0.descriptor;
                    sets.extend_from_slice(&d.seed.to_le_bytes());
                    put(&mut sets, u64::from(d.segment_length));
                    put(&mut sets, u64::from(d.segment_length_mask));
                    put(&mut sets, u64::from(d.segment_count_length));
                    put(&mut sets, fuse.0.fingerprints.len() as u64);
                    sets.extend_from_slice(&fuse.0.fingerprints);
                }
            }
        }
    }
    let body = Body {
        root: index.root.clone(),
        built_at: index.built_at,
        build_ms: index.build_ms,
        fields: FIELDS.iter().map(|f| f.path.to_string()).collect(),
        dict: index.dict.clone(),
        files: index.files.len() as u64,
        paths: Blob(paths.into()),
        facts: Blob(facts.into()),
        sets: Blob(sets.into()),
    };
    let raw = postcard::to_allocvec(&body).expect("postcard writes any index to memory");
    let empty = super::Summaries::default();
    let sums = sums.unwrap_or(&empty);
    let (lens, rests) = front_coded(sums);
    let summaries = SummaryBody {
        text_lens: Blob(lens.into()),
        texts: Blob(rests.into()),
        parts: Blob(parts.into()),
        runs: sums.runs.map(|r| r.to_vec()).unwrap_or_default(),
    };
    let raw2 = postcard::to_allocvec(&summaries).expect("postcard writes any index to memory");
    let totals = index.totals().map(|t| {
        let (lens, rests) = front_coded(&t.table);
        TotalsBody {
            files: t.files,
            max_notable: t.max_notable,
            cut: t.cut.iter().map(|c| (c.least, c.rest.values, c.rest.records)).collect(),
            text_lens: Blob(lens.into()),
            texts: Blob(rests.into()),
            runs: t.table.runs.map(|r| r.to_vec()).unwrap_or_default(),
            part: Blob(t.table.parts.as_slice().into()),
        }
    });
    let raw3 = postcard::to_allocvec(&totals).expect("postcard writes any index to memory");
    pack_sections(&raw, &raw2, &raw3)
}

/// The summaries' texts front-coded (each as the length of the prefix it shares with the one
/// before, then the length of the rest; the rests end to end in the second blob).
fn front_coded(sums: &super::Summaries) -> (Vec<u8>, Vec<u8>) {
    let (mut lens, mut rests) = (Vec::with_capacity(sums.ends.len() * 2), Vec::new());
    let mut prev = "";
    let mut start = 0;
    for &end in &sums.ends {
        let t = &sums.texts[start..end];
        let shared = prev.bytes().zip(t.bytes()).take_while(|(a, b)| a == b).count();
        let shared = (0..=shared).rev().find(|&n| t.is_char_boundary(n)).unwrap_or(0);
        put(&mut lens, shared as u64);
        put(&mut lens, (t.len() - shared) as u64);
        rests.extend_from_slice(&t.as_bytes()[shared..]);
        prev = t;
        start = end;
    }
    (lens, rests)
}

/// An index file around `raw`, an uncompressed body (postcard), whatever it holds: deflated,
/// with its header and checksums, and an empty summaries section. For tests and fuzzing that
/// must reach the body's decoder past the checksum.
#[must_use]
pub fn pack(raw: &[u8]) -> Vec<u8> {
    let empty = postcard::to_allocvec(&SummaryBody::default()).expect("writes to memory");
    let none = postcard::to_allocvec(&None::<TotalsBody<'_>>).expect("writes to memory");
    pack_sections(raw, &empty, &none)
}

fn compress(raw: &[u8]) -> Vec<u8> {
    zstd::bulk::compress(raw, LEVEL).expect("zstd compresses any bytes in memory")
}

/// An index file of these uncompressed sections (postcard of the body, of the summaries and
/// of the totals), whatever they hold.
#[must_use]
pub fn pack_sections(body: &[u8], summaries: &[u8], totals: &[u8]) -> Vec<u8> {
    // The summaries are most of the bytes: compressed beside the other two.
    let ((a, c), b) = rayon::join(|| (compress(body), compress(totals)), || compress(summaries));
    let packed = [a, b, c];
    let mut out = Vec::with_capacity(HEADER + packed.iter().map(Vec::len).sum::<usize>());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    for (raw, packed) in [body, summaries, totals].into_iter().zip(&packed) {
        out.extend_from_slice(&(raw.len() as u64).to_le_bytes());
        out.extend_from_slice(&(packed.len() as u64).to_le_bytes());
        out.extend_from_slice(&xxhash_rust::xxh3::xxh3_64(packed).to_le_bytes());
    }
    for p in &packed {
        out.extend_from_slice(p);
    }
    out
}

/// Each section's (length inflated, length compressed, checksum, offset in the file) as the
/// header of a file of `file_len` bytes gives them, checked against each other.
fn header(head: &[u8], file_len: u64) -> Result<[(u64, u64, u64, u64); SECTIONS], FormatError> {
    let v = version(head)?;
    if v != VERSION {
        return Err(FormatError::Version(v));
    }
    if head.len() < HEADER {
        return Err(FormatError::Truncated);
    }
    let word = |i: usize| u64::from_le_bytes(head[i..i + 8].try_into().expect("eight bytes"));
    let mut at = HEADER as u64;
    let mut out = [(0, 0, 0, 0); SECTIONS];
    for (k, slot) in out.iter_mut().enumerate() {
        let h = 20 + k * 24;
        let (len, packed_len, sum) = (word(h), word(h + 8), word(h + 16));
        let end =
            at.checked_add(packed_len).filter(|&e| e <= file_len).ok_or(FormatError::Truncated)?;
        // zstd expands at most about 32,000 times (a block of one repeated byte): a header
        // that claims more lies.
        if len > MAX_BODY || len > packed_len.saturating_mul(1 << 16) {
            return Err(corrupt("a section's length is not the one the header gives"));
        }
        *slot = (len, packed_len, sum, at);
        at = end;
    }
    if at != file_len {
        return Err(corrupt("bytes after the last section"));
    }
    Ok(out)
}

/// The sections of an index file, their checksums checked: (length inflated, compressed
/// bytes) each.
pub fn sections(bytes: &[u8]) -> Result<[(u64, &[u8]); SECTIONS], FormatError> {
    let head = header(bytes, bytes.len() as u64)?;
    let mut out = [(0, &bytes[..0]); SECTIONS];
    for (slot, (len, packed_len, sum, at)) in out.iter_mut().zip(head) {
        let packed = &bytes[at as usize..(at + packed_len) as usize];
        if xxhash_rust::xxh3::xxh3_64(packed) != sum {
            return Err(FormatError::Checksum);
        }
        *slot = (len, packed);
    }
    Ok(out)
}

/// A section inflated: `len` bytes from `packed`.
pub fn inflate(len: u64, packed: &[u8]) -> Result<Vec<u8>, FormatError> {
    let cap = usize::try_from(len).map_err(|_| corrupt("too large"))?;
    let raw =
        zstd::bulk::decompress(packed, cap).map_err(|e| corrupt(format!("inflating: {e}")))?;
    if raw.len() as u64 != len {
        return Err(corrupt("a section's length is not the one the header gives"));
    }
    Ok(raw)
}

/// Reads the summaries section, whose file summaries take `parts` bytes in all.
pub(super) fn decode_summaries(p: &Packed, parts: usize) -> Result<super::Summaries, FormatError> {
    let raw = p.unpack()?;
    let body: SummaryBody<'_> = postcard::from_bytes(&raw).map_err(|e| corrupt(e.to_string()))?;
    let mut sums = texts(&body.text_lens.0, &body.texts.0, raw.len())?;
    sums.runs = runs(body.runs, sums.ends.len())?;
    if body.parts.0.len() != parts {
        return Err(corrupt("file summaries of other lengths than the files say"));
    }
    sums.parts = body.parts.0.into_owned();
    Ok(sums)
}

/// Reads the totals section (`None`: the index keeps none).
pub(super) fn decode_totals(p: &Packed) -> Result<Option<super::summary::Totals>, FormatError> {
    use super::summary::{Cut, Totals};
    let raw = p.unpack()?;
    let body: Option<TotalsBody<'_>> =
        postcard::from_bytes(&raw).map_err(|e| corrupt(e.to_string()))?;
    let Some(body) = body else { return Ok(None) };
    let mut table = texts(&body.text_lens.0, &body.texts.0, raw.len())?;
    table.runs = runs(body.runs, table.ends.len())?;
    if table.runs.is_none() && !table.ends.is_empty() {
        return Err(corrupt("totals' texts in no runs"));
    }
    table.runs.get_or_insert([0; 9]);
    table.parts = body.part.0.into_owned();
    let cut: [(u64, u64, u64); 8] =
        body.cut.try_into().map_err(|_| corrupt("totals of the wrong number of fields"))?;
    let t = Totals {
        files: body.files,
        max_notable: body.max_notable,
        cut: cut.map(|(least, values, records)| Cut {
            least,
            rest: crate::summary::Unlisted { values, records },
        }),
        table,
    };
    // The counts must read; what they say is checked when used.
    t.counts()?;
    Ok(Some(t))
}

/// Texts front-coded by [`front_coded`], read back and checked.
fn texts(lens: &[u8], rests: &[u8], section: usize) -> Result<super::Summaries, FormatError> {
    let mut sums = super::Summaries::default();
    let mut lens = Reader(lens);
    let mut rests = Reader(rests);
    let mut bytes: Vec<u8> = Vec::with_capacity(rests.0.len() * 2);
    let mut start = 0;
    while !lens.0.is_empty() {
        let shared = usize::try_from(lens.u()?)
            .ok()
            .filter(|&n| n <= bytes.len() - start)
            .ok_or_else(|| corrupt("a summary text shares more than the one before it"))?;
        let rest = rests.bytes(lens.u()?)?;
        // Shared prefixes repeat bytes: a forged table must not make them unbounded.
        if bytes.len() + shared > section.saturating_mul(64).max(1 << 26) {
            return Err(corrupt("summary texts longer than the section could hold"));
        }
        let here = bytes.len();
        bytes.extend_from_within(start..start + shared);
        bytes.extend_from_slice(rest);
        start = here;
        sums.ends.push(bytes.len());
    }
    if !rests.0.is_empty() {
        return Err(corrupt("summary texts longer than their table"));
    }
    if u32::try_from(sums.ends.len()).is_err() {
        return Err(corrupt("too many summary texts"));
    }
    let all = String::from_utf8(bytes).map_err(|_| corrupt("a summary text that is not UTF-8"))?;
    if !sums.ends.iter().all(|&e| all.is_char_boundary(e)) {
        return Err(corrupt("a summary text that is not UTF-8"));
    }
    sums.texts = all;
    Ok(sums)
}

/// Where each field's run of `texts` texts starts, and the last ends, checked (`None`: no
/// runs).
fn runs(runs: Vec<u32>, texts: usize) -> Result<Option<[u32; 9]>, FormatError> {
    if runs.is_empty() {
        return Ok(None);
    }
    let runs: [u32; 9] =
        runs.try_into().map_err(|_| corrupt("runs of texts of the wrong number"))?;
    if runs[0] != 0 || !runs.is_sorted() || runs[8] as usize != texts {
        return Err(corrupt("runs of texts out of order"));
    }
    Ok(Some(runs))
}

/// Reads the header only: the format version, if the bytes start like an index file.
pub fn version(bytes: &[u8]) -> Result<u32, FormatError> {
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        return Err(FormatError::NotAnIndex);
    }
    let v = bytes.get(16..20).ok_or(FormatError::Truncated)?;
    Ok(u32::from_le_bytes(v.try_into().expect("four bytes")))
}

/// Checks a filter's shape: every position a lookup can reach lies inside its fingerprints
/// (the filter's own lookup indexes them unchecked).
fn fuse(
    seed: u64,
    segment_length: u32,
    segment_length_mask: u32,
    segment_count_length: u32,
    fingerprints: Vec<u8>,
) -> Result<Fuse, FormatError> {
    let ok = segment_length.is_power_of_two()
        && segment_length_mask == segment_length - 1
        && segment_count_length.is_multiple_of(segment_length)
        && u64::from(segment_count_length) + 2 * u64::from(segment_length)
            <= fingerprints.len() as u64
        && u64::from(segment_count_length) + 3 * u64::from(segment_length) < u64::from(u32::MAX);
    if !ok {
        return Err(corrupt("a filter of impossible shape"));
    }
    Ok(Fuse(BinaryFuse8 {
        descriptor: Descriptor { seed, segment_length, segment_length_mask, segment_count_length },
        fingerprints: fingerprints.into_boxed_slice(),
    }))
}

/// Reads an index file: its body now, the summaries and totals when first used (checked
/// then).
pub fn decode(bytes: &[u8]) -> Result<Index, FormatError> {
    let head = header(bytes, bytes.len() as u64)?;
    let [body, summaries, totals] = head.map(|(raw_len, packed_len, sum, at)| Packed {
        raw_len,
        packed_len,
        sum,
        at: At::Memory(bytes[at as usize..(at + packed_len) as usize].into()),
    });
    decode_body(&body.unpack()?, summaries, totals)
}

/// Reads the index file open as `file`: its body now, the summaries and totals from the same
/// open file when first used (checked then).
///
/// # Errors
/// Reading fails (outer), or the file is not a usable index (inner).
#[cfg(unix)]
pub fn decode_file(file: std::fs::File) -> std::io::Result<Result<Index, FormatError>> {
    use std::os::unix::fs::FileExt;
    let len = file.metadata()?.len();
    let mut head = vec![0; HEADER.min(usize::try_from(len).unwrap_or(HEADER))];
    file.read_exact_at(&mut head, 0)?;
    let head = match header(&head, len) {
        Ok(h) => h,
        Err(e) => return Ok(Err(e)),
    };
    let (raw_len, packed_len, sum, at) = head[0];
    let mut bytes = vec![0; usize::try_from(packed_len).unwrap_or(usize::MAX)];
    file.read_exact_at(&mut bytes, at)?;
    let body = Packed { raw_len, packed_len, sum, at: At::Memory(bytes.into()) };
    let file = std::sync::Arc::new(file);
    let [_, summaries, totals] = head.map(|(raw_len, packed_len, sum, at)| Packed {
        raw_len,
        packed_len,
        sum,
        at: At::File(std::sync::Arc::clone(&file), at),
    });
    Ok(body.unpack().and_then(|raw| decode_body(&raw, summaries, totals)))
}

/// An index of the body `raw` (inflated), whose other sections are `summaries` and `totals`.
fn decode_body(raw: &[u8], summaries: Packed, totals: Packed) -> Result<Index, FormatError> {
    let body: Body<'_> = postcard::from_bytes(raw).map_err(|e| corrupt(e.to_string()))?;
    let expected: Vec<&str> = FIELDS.iter().map(|f| f.path).collect();
    if body.fields != expected {
        return Err(corrupt("indexed fields differ from this trailscan's"));
    }
    let mut values = Vec::with_capacity(body.dict.len());
    for t in &body.dict {
        values.push(untag(t).ok_or_else(|| corrupt("a dictionary value of unknown type"))?);
    }
    let n_dict = body.dict.len() as u64;
    // Every file takes at least a byte in each blob: a count past that is a lie.
    if body.files > body.facts.0.len() as u64 {
        return Err(corrupt("more files than the body holds"));
    }
    let files = usize::try_from(body.files).map_err(|_| corrupt("too many files"))?;
    let mut idx = Index {
        root: body.root,
        built_at: body.built_at,
        build_ms: body.build_ms,
        dict: body.dict,
        values,
        files: Vec::with_capacity(files),
        sets: Vec::with_capacity(files * FIELDS.len()),
        ..Index::default()
    };
    idx.summaries_packed = Some(summaries);
    idx.totals_packed = Some(totals);
    let mut parts_len: usize = 0;
    let (mut paths, mut facts, mut sets) =
        (Reader(&body.paths.0), Reader(&body.facts.0), Reader(&body.sets.0));
    let mut prev = FileStamp { size: 0, mtime_ns: 0, ctime_ns: 0, inode: 0 };
    let mut prev_first = 0i64;
    for _ in 0..files {
        let shared = paths.u()?;
        let rest = paths.u()?;
        let prev_path = idx.files.last().map_or("", |p| p.path.as_str());
        let head = usize::try_from(shared)
            .ok()
            .and_then(|s| prev_path.get(..s))
            .ok_or_else(|| corrupt("a path that shares more than the one before it"))?;
        let tail = std::str::from_utf8(paths.bytes(rest)?)
            .map_err(|_| corrupt("a path that is not UTF-8"))?;
        let path = format!("{head}{tail}");
        if !idx.files.is_empty() && path.as_str() <= prev_path {
            return Err(corrupt("paths out of order"));
        }
        let stamp = FileStamp {
            size: facts.u()?,
            mtime_ns: prev.mtime_ns.wrapping_add(facts.i()?),
            ctime_ns: prev.ctime_ns.wrapping_add(facts.i()?),
            inode: (prev.inode as i64).wrapping_add(facts.i()?) as u64,
        };
        prev = stamp;
        let records = facts.u()?;
        let bits = facts.byte()?;
        if bits > 3 {
            return Err(corrupt("bad file flags"));
        }
        let span = if bits & 2 != 0 {
            let a = prev_first.wrapping_add(facts.i()?);
            let b = a
                .checked_add_unsigned(facts.u()?)
                .ok_or_else(|| corrupt("a time span out of range"))?;
            prev_first = a;
            Some((a, b))
        } else {
            None
        };
        let first_set = u32::try_from(idx.sets.len()).map_err(|_| corrupt("too many sets"))?;
        // Checked against the summaries section when that is read.
        let n = usize::try_from(facts.u()?).map_err(|_| corrupt("a file summary too long"))?;
        let part = (parts_len, n);
        parts_len = parts_len.checked_add(n).ok_or_else(|| corrupt("too long"))?;
        idx.files.push(FileEntry {
            path,
            stamp,
            records,
            span,
            untimed: bits & 1 != 0,
            sets: first_set,
            part,
        });
        for _ in 0..FIELDS.len() {
            let head = sets.byte()?;
            let flags = SetFlags::from_bits(head >> 2);
            if head >> 4 != 0 {
                return Err(corrupt("bad set flags"));
            }
            match head & 3 {
                EXACT => {
                    let n = sets.u()?;
                    if n > n_dict {
                        return Err(corrupt("a set larger than the dictionary"));
                    }
                    let start =
                        u32::try_from(idx.ids.len()).map_err(|_| corrupt("too many ids"))?;
                    let mut last: u64 = 0;
                    for i in 0..n {
                        let d = sets.u()?;
                        if i > 0 && d == 0 {
                            return Err(corrupt("a repeated value"));
                        }
                        last = last
                            .checked_add(d)
                            .filter(|&v| v < n_dict)
                            .ok_or_else(|| corrupt("a value id past the dictionary"))?;
                        idx.ids.push(last as u32);
                    }
                    let len = u32::try_from(n).map_err(|_| corrupt("too many ids"))?;
                    idx.sets.push(super::SetRef { kind: super::SetKind::Exact, flags, start, len });
                }
                HASHES => {
                    let n = sets.u()?;
                    let raw = sets
                        .bytes(n.checked_mul(2).ok_or_else(|| corrupt("a length out of range"))?)?;
                    let fps: Vec<u16> =
                        raw.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
                    if !fps.is_sorted() {
                        return Err(corrupt("unsorted fingerprints"));
                    }
                    idx.push_set(FieldSet::Hashes(&fps, flags));
                }
                FILTER => {
                    let seed = u64::from_le_bytes(sets.bytes(8)?.try_into().expect("eight bytes"));
                    let (sl, mask, scl) = (sets.u32()?, sets.u32()?, sets.u32()?);
                    let n = sets.u()?;
                    let fp = sets.bytes(n)?.to_vec();
                    let f = fuse(seed, sl, mask, scl, fp)?;
                    idx.push_set(FieldSet::Filter(&f, flags));
                }
                _ => return Err(corrupt("an unknown kind of set")),
            }
        }
    }
    if !paths.0.is_empty() || !facts.0.is_empty() || !sets.0.is_empty() {
        return Err(corrupt("bytes after the last file"));
    }
    Ok(idx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::fields::FileValues;
    use crate::index::{Builder, hash};

    fn sample() -> Index {
        let mut b = Builder::new("/archive".into());
        let n = FIELDS.len();
        let mut values = vec![Vec::new(); n];
        values[0] = vec!["sCreateUser".to_string(), "sDeleteUser".to_string()];
        // Enough user ARNs for a filter.
        values[11] = (0..100).map(|i| format!("sarn:aws:iam::1:user/u{i}")).collect();
        let v = FileValues {
            values,
            missing: vec![true; n],
            irregular: vec![false; n],
            span: Some((10, 20)),
            untimed: false,
            records: 7,
        };
        let stamp = FileStamp { size: 1, mtime_ns: 2, ctime_ns: 3, inode: 4 };
        b.add("AWSLogs/1/a.json.gz".into(), stamp, v.clone());
        b.add("AWSLogs/1/b.json.gz".into(), stamp, v);
        b.finish(100, 5)
    }

    /// A summary's part of `records`.
    fn part_of(records: &[&str]) -> crate::summary::Part {
        use crate::summary::{Reader, Spec, Summary};
        let spec = Spec::default();
        let mut reader = Reader::new(&spec);
        let (mut s, mut notable) = (Summary::default(), Summary::default());
        for r in records {
            s.observe_raw(r, None, &spec, &mut reader, &mut notable).unwrap();
        }
        s.merge(notable, &spec);
        s.part().unwrap()
    }

    /// Two files with their summaries kept.
    fn summarised() -> Index {
        let mut b = Builder::new("/archive".into());
        let n = FIELDS.len();
        let a = r#"{"eventTime":"2024-03-01T10:00:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","recipientAccountId":"1","awsRegion":"us-east-1","userIdentity":{"type":"IAMUser","userName":"alice","arn":"arn:aws:iam::1:user/alice"},"requestParameters":{"userName":"backdoor"},"sourceIPAddress":"203.0.113.5","eventID":"e1"}"#;
        let c = r#"{"eventTime":"2024-03-01T12:30:00.250Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","errorCode":"AccessDenied","userIdentity":{"type":"Root"},"readOnly":true}"#;
        for (name, records) in [("a", vec![a, c]), ("b", vec![c])] {
            let v = FileValues {
                values: vec![Vec::new(); n],
                missing: vec![true; n],
                irregular: vec![false; n],
                span: None,
                untimed: false,
                records: records.len() as u64,
            };
            let stamp = FileStamp { size: 1, mtime_ns: 2, ctime_ns: 3, inode: 4 };
            b.add_with_summary(
                format!("AWSLogs/1/{name}.json.gz"),
                stamp,
                v,
                Some(&part_of(&records)),
            );
        }
        b.finish(100, 5)
    }

    #[test]
    fn round_trips() {
        let idx = sample();
        let bytes = encode(&idx);
        let back = decode(&bytes).unwrap();
        assert_eq!(back.files().len(), 2);
        assert_eq!(back.root, "/archive");
        let f = back.get("AWSLogs/1/b.json.gz").unwrap();
        assert_eq!(f.records, 7);
        match back.set(f, 0) {
            FieldSet::Exact(ids, flags) => {
                let texts: Vec<&str> = ids.iter().map(|&i| back.text(i)).collect();
                assert_eq!(texts, ["sCreateUser", "sDeleteUser"]);
                assert!(flags.missing);
            }
            _ => panic!("eventName is exact"),
        }
        match back.set(f, 11) {
            FieldSet::Filter(fuse, _) => {
                assert!(fuse.contains(hash("\u{1}/u42")));
            }
            _ => panic!("100 ARNs make a filter"),
        }
        assert_eq!(encode(&back), bytes, "encoding is deterministic");
    }

    #[test]
    fn damage_is_an_error_never_a_panic() {
        let bytes = encode(&summarised());
        assert_eq!(decode(b"hello").unwrap_err(), FormatError::NotAnIndex);
        assert_eq!(decode(&bytes[..30]).unwrap_err(), FormatError::Truncated);
        let mut v = bytes.clone();
        v[16] = 9;
        assert_eq!(decode(&v).unwrap_err(), FormatError::Version(9));
        for cut in [36, 40, bytes.len() - 1] {
            assert!(decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let [(_, body), (_, sums), _] = sections(&bytes).unwrap();
        let body_end = HEADER + body.len();
        for i in (HEADER..bytes.len()).step_by(7) {
            let mut v = bytes.clone();
            v[i] ^= 0x55;
            if i < body_end {
                assert_eq!(decode(&v).unwrap_err(), FormatError::Checksum);
                continue;
            }
            // The other sections are checked when first used: the index is usable for
            // planning, and the damaged section is not used.
            let idx = decode(&v).unwrap();
            if i < body_end + sums.len() {
                assert_eq!(idx.summaries_usable().unwrap_err(), FormatError::Checksum);
                assert!(idx.totals().is_some());
            } else {
                assert!(idx.summaries_usable().is_ok());
                assert!(idx.totals().is_none(), "damaged totals are not used");
            }
        }
    }

    #[test]
    fn totals_round_trip() {
        // Files without their summaries have no totals either.
        assert!(decode(&encode(&sample())).unwrap().totals().is_none());
        let idx = summarised();
        let bytes = encode(&idx);
        let back = decode(&bytes).unwrap();
        let (t, u) = (idx.totals().unwrap(), back.totals().unwrap());
        assert_eq!((t.files, t.cut, t.max_notable), (u.files, u.cut, u.max_notable));
        let (c, d) = (t.counts().unwrap(), u.counts().unwrap());
        assert_eq!(c.all.count, 3);
        assert_eq!(d.all, c.all);
        assert_eq!(d.values, c.values);
        assert_eq!(d.notable, c.notable);
        // GetObject, counted twice, under its text.
        let names: Vec<(&str, u64)> = d
            .values
            .iter()
            .filter(|v| v.0 == 1)
            .map(|v| (u.table.text(v.1).unwrap(), v.2.count))
            .collect();
        assert_eq!(names, [("CreateUser", 1), ("GetObject", 2)]);
        assert_eq!(encode(&back), bytes, "encoding is deterministic");
    }

    /// The body of a real index with bytes changed, packed with a valid checksum: decoding
    /// answers, never panics, and what decodes plans without panicking.
    #[test]
    fn forged_bodies_never_panic() {
        use proptest::prelude::*;
        let bytes = encode(&sample());
        let [(len, packed), _, _] = sections(&bytes).unwrap();
        let raw = inflate(len, packed).unwrap();
        let q = crate::query::Query::new(
            &crate::query::Filters { users: vec!["u1".into()], ..Default::default() },
            &[],
            true,
        )
        .unwrap();
        let planner = crate::index::plan::Planner::new(&q);
        let mut runner = proptest::test_runner::TestRunner::default();
        runner
            .run(&proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6), |edits| {
                let mut body = raw.clone();
                for (at, b) in edits {
                    let i = at % body.len();
                    body[i] = b;
                }
                if let Ok(idx) = decode(&pack(&body)) {
                    for e in idx.files() {
                        let _ = planner.may_match(e, &idx);
                    }
                }
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn a_forged_filter_shape_is_refused() {
        assert!(fuse(1, 4, 3, 8, vec![0; 15]).is_err());
        assert!(fuse(1, 4, 3, 8, vec![0; 16]).is_ok());
        assert!(fuse(1, 3, 2, 6, vec![0; 16]).is_err());
        assert!(fuse(1, 4, 1, 8, vec![0; 16]).is_err());
    }
}
