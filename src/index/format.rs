//! The index file: a header, then the body (postcard), deflated.
//!
//! ```text
//! magic     16 bytes   "trailscan-index\n"
//! version   u32 LE     VERSION
//! length    u64 LE     the body's length once inflated
//! checksum  u64 LE     XXH3-64 of the deflated body
//! body      deflate    postcard of Body
//! ```
//!
//! The file is untrusted input (a cache anyone could have written, or a disk could have
//! damaged): [`decode`] checks the checksum, every length, every id and every filter's shape,
//! and answers an error, never a panic and never an index that could rule out a file wrongly
//! for a reason other than what it says of that file.

use super::fields::{FIELDS, untag};
use super::{FieldSet, FileEntry, Fuse, Index, SetFlags};
use crate::source::FileStamp;
use serde::{Deserialize, Serialize};
use xorf::BinaryFuse8;
use xorf::Descriptor;

/// The first bytes of every index file.
pub const MAGIC: &[u8; 16] = b"trailscan-index\n";
/// The format version this build writes and reads.
pub const VERSION: u32 = 1;
/// Header length.
const HEADER: usize = 16 + 4 + 8 + 8;
/// The largest body this build inflates.
const MAX_BODY: u64 = 4 << 30;

/// Why an index file cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
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

fn corrupt(what: impl Into<String>) -> FormatError {
    FormatError::Corrupt(what.into())
}

#[derive(Serialize, Deserialize)]
struct Body {
    root: String,
    built_at: i64,
    build_ms: u64,
    fields: Vec<String>,
    dict: Vec<String>,
    files: Vec<DiskFile>,
}

#[derive(Serialize, Deserialize)]
struct DiskFile {
    /// Bytes shared with the previous file's path.
    shared: u32,
    /// The rest of the path.
    suffix: String,
    size: u64,
    mtime_ns: i64,
    ctime_ns: i64,
    inode: u64,
    records: u64,
    span: Option<(i64, i64)>,
    untimed: bool,
    sets: Vec<DiskSet>,
}

#[derive(Serialize, Deserialize)]
enum DiskSet {
    /// Sorted ids, each written as the difference from the one before.
    Exact { flags: u8, deltas: Vec<u32> },
    Fuse {
        flags: u8,
        seed: u64,
        segment_length: u32,
        segment_length_mask: u32,
        segment_count_length: u32,
        fingerprints: Vec<u8>,
    },
}

/// The index as file bytes.
#[must_use]
pub fn encode(index: &Index) -> Vec<u8> {
    let mut files = Vec::with_capacity(index.files.len());
    let mut prev: &str = "";
    for f in &index.files {
        let shared = prev.bytes().zip(f.path.bytes()).take_while(|(a, b)| a == b).count();
        // Cut on a character boundary.
        let shared = (0..=shared).rev().find(|&n| f.path.is_char_boundary(n)).unwrap_or(0);
        let sets = f
            .sets
            .iter()
            .map(|s| match s {
                FieldSet::Exact { ids, flags } => {
                    let mut last = 0;
                    let deltas = ids
                        .iter()
                        .map(|&id| {
                            let d = id - last;
                            last = id;
                            d
                        })
                        .collect();
                    DiskSet::Exact { flags: flags.bits(), deltas }
                }
                FieldSet::Filter { fuse, flags } => {
                    let d = &fuse.0.descriptor;
                    DiskSet::Fuse {
                        flags: flags.bits(),
                        seed: d.seed,
                        segment_length: d.segment_length,
                        segment_length_mask: d.segment_length_mask,
                        segment_count_length: d.segment_count_length,
                        fingerprints: fuse.0.fingerprints.to_vec(),
                    }
                }
            })
            .collect();
        files.push(DiskFile {
            shared: u32::try_from(shared).unwrap_or(0),
            suffix: f.path[shared..].to_string(),
            size: f.stamp.size,
            mtime_ns: f.stamp.mtime_ns,
            ctime_ns: f.stamp.ctime_ns,
            inode: f.stamp.inode,
            records: f.records,
            span: f.span,
            untimed: f.untimed,
            sets,
        });
        prev = &f.path;
    }
    let body = Body {
        root: index.root.clone(),
        built_at: index.built_at,
        build_ms: index.build_ms,
        fields: FIELDS.iter().map(|f| f.path.to_string()).collect(),
        dict: index.dict.clone(),
        files,
    };
    let raw = postcard::to_allocvec(&body).expect("postcard writes any index to memory");
    pack(&raw)
}

/// An index file around `raw`, an uncompressed body (postcard), whatever it holds: deflated,
/// with its header and checksum. For [`encode`], and for tests and fuzzing that must reach
/// the body's decoder past the checksum.
#[must_use]
pub fn pack(raw: &[u8]) -> Vec<u8> {
    let mut z = libdeflater::Compressor::new(libdeflater::CompressionLvl::default());
    let mut packed = vec![0; z.deflate_compress_bound(raw.len())];
    let n = z.deflate_compress(raw, &mut packed).expect("the bound holds the output");
    packed.truncate(n);
    let mut out = Vec::with_capacity(HEADER + packed.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(raw.len() as u64).to_le_bytes());
    out.extend_from_slice(&xxhash_rust::xxh3::xxh3_64(&packed).to_le_bytes());
    out.extend_from_slice(&packed);
    out
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

/// Reads an index file.
pub fn decode(bytes: &[u8]) -> Result<Index, FormatError> {
    let v = version(bytes)?;
    if v != VERSION {
        return Err(FormatError::Version(v));
    }
    if bytes.len() < HEADER {
        return Err(FormatError::Truncated);
    }
    let len = u64::from_le_bytes(bytes[20..28].try_into().expect("eight bytes"));
    let sum = u64::from_le_bytes(bytes[28..36].try_into().expect("eight bytes"));
    let packed = &bytes[HEADER..];
    if xxhash_rust::xxh3::xxh3_64(packed) != sum {
        return Err(FormatError::Checksum);
    }
    if len > MAX_BODY {
        return Err(corrupt("a body larger than 4 GiB"));
    }
    // A deflate stream expands at most 1032 times: a header that claims more lies.
    if len > (packed.len() as u64).saturating_mul(1032) {
        return Err(corrupt("the body's length is not the one the header gives"));
    }
    let mut raw = vec![0; usize::try_from(len).map_err(|_| corrupt("too large"))?];
    let n = libdeflater::Decompressor::new()
        .deflate_decompress(packed, &mut raw)
        .map_err(|e| corrupt(format!("inflating: {e}")))?;
    if n as u64 != len {
        return Err(corrupt("the body's length is not the one the header gives"));
    }
    let body: Body = postcard::from_bytes(&raw).map_err(|e| corrupt(e.to_string()))?;
    let expected: Vec<&str> = FIELDS.iter().map(|f| f.path).collect();
    if body.fields != expected {
        return Err(corrupt("indexed fields differ from this trailscan's"));
    }
    let mut values = Vec::with_capacity(body.dict.len());
    for t in &body.dict {
        values.push(untag(t).ok_or_else(|| corrupt("a dictionary value of unknown type"))?);
    }
    let n = body.dict.len() as u64;
    let mut files: Vec<FileEntry> = Vec::with_capacity(body.files.len());
    for f in body.files {
        let prev = files.last().map_or("", |p| p.path.as_str());
        let shared = f.shared as usize;
        let head = prev
            .get(..shared)
            .ok_or_else(|| corrupt("a path that shares more than the one before it"))?;
        let path = format!("{head}{}", f.suffix);
        if path.as_str() <= prev && !files.is_empty() {
            return Err(corrupt("paths out of order"));
        }
        if f.sets.len() != FIELDS.len() {
            return Err(corrupt("a file with the wrong number of fields"));
        }
        if let Some((a, b)) = f.span
            && a > b
        {
            return Err(corrupt("a time span that ends before it starts"));
        }
        let mut sets = Vec::with_capacity(f.sets.len());
        for s in f.sets {
            sets.push(match s {
                DiskSet::Exact { flags, deltas } => {
                    let flags = SetFlags::from_bits(flags).ok_or_else(|| corrupt("bad flags"))?;
                    let mut ids = Vec::with_capacity(deltas.len());
                    let mut last: u64 = 0;
                    for (i, d) in deltas.into_iter().enumerate() {
                        if i > 0 && d == 0 {
                            return Err(corrupt("a repeated value"));
                        }
                        last += u64::from(d);
                        if last >= n {
                            return Err(corrupt("a value id past the dictionary"));
                        }
                        ids.push(u32::try_from(last).expect("below the dictionary's length"));
                    }
                    FieldSet::Exact { ids, flags }
                }
                DiskSet::Fuse {
                    flags,
                    seed,
                    segment_length,
                    segment_length_mask,
                    segment_count_length,
                    fingerprints,
                } => {
                    let flags = SetFlags::from_bits(flags).ok_or_else(|| corrupt("bad flags"))?;
                    let fuse = fuse(
                        seed,
                        segment_length,
                        segment_length_mask,
                        segment_count_length,
                        fingerprints,
                    )?;
                    FieldSet::Filter { fuse, flags }
                }
            });
        }
        files.push(FileEntry {
            path,
            stamp: FileStamp {
                size: f.size,
                mtime_ns: f.mtime_ns,
                ctime_ns: f.ctime_ns,
                inode: f.inode,
            },
            records: f.records,
            span: f.span,
            untimed: f.untimed,
            sets,
        });
    }
    Ok(Index {
        root: body.root,
        built_at: body.built_at,
        build_ms: body.build_ms,
        dict: body.dict,
        values,
        files,
    })
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

    #[test]
    fn round_trips() {
        let idx = sample();
        let bytes = encode(&idx);
        let back = decode(&bytes).unwrap();
        assert_eq!(back.files().len(), 2);
        assert_eq!(back.root, "/archive");
        let f = back.get("AWSLogs/1/b.json.gz").unwrap();
        assert_eq!(f.records, 7);
        match &f.sets[0] {
            FieldSet::Exact { ids, flags } => {
                let texts: Vec<&str> = ids.iter().map(|&i| back.text(i)).collect();
                assert_eq!(texts, ["sCreateUser", "sDeleteUser"]);
                assert!(flags.missing);
            }
            FieldSet::Filter { .. } => panic!("eventName is exact"),
        }
        match &f.sets[11] {
            FieldSet::Filter { fuse, .. } => {
                assert!(fuse.contains(hash("sarn:aws:iam::1:user/u42")));
                assert!(fuse.contains(hash("\u{1}/u42")));
            }
            FieldSet::Exact { .. } => panic!("100 ARNs make a filter"),
        }
        assert_eq!(encode(&back), bytes, "encoding is deterministic");
    }

    #[test]
    fn damage_is_an_error_never_a_panic() {
        let bytes = encode(&sample());
        assert_eq!(decode(b"hello").unwrap_err(), FormatError::NotAnIndex);
        assert_eq!(decode(&bytes[..30]).unwrap_err(), FormatError::Truncated);
        let mut v = bytes.clone();
        v[16] = 9;
        assert_eq!(decode(&v).unwrap_err(), FormatError::Version(9));
        for cut in [36, 40, bytes.len() - 1] {
            assert!(decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        for i in (HEADER..bytes.len()).step_by(7) {
            let mut v = bytes.clone();
            v[i] ^= 0x55;
            assert_eq!(decode(&v).unwrap_err(), FormatError::Checksum);
        }
    }

    /// The body of a real index with bytes changed, packed with a valid checksum: decoding
    /// answers, never panics, and what decodes plans without panicking.
    #[test]
    fn forged_bodies_never_panic() {
        use proptest::prelude::*;
        let bytes = encode(&sample());
        let mut raw = vec![
            0;
            usize::try_from(u64::from_le_bytes(bytes[20..28].try_into().unwrap()))
                .unwrap()
        ];
        libdeflater::Decompressor::new().deflate_decompress(&bytes[HEADER..], &mut raw).unwrap();
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
