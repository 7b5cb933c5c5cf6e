//! The archive index: what each file of an archive holds, kept outside the archive, so that
//! repeated questions skip unopened every file that cannot hold a match.
//!
//! ```text
//! trailscan index AWSLogs/          build it, or bring it up to date (only new and changed files are read)
//! trailscan search AWSLogs/ ...     uses it when it covers the paths (--no-index: not)
//! ```
//!
//! Per file it keeps the file's stamp ([`FileStamp`]: size, mtime, ctime, inode), its record
//! count, the span of its `eventTime`s, and for each field of [`fields::FIELDS`] the scalar
//! values its records hold there, as the matcher sees them: an exact set (values shared across
//! files in one dictionary) where the field has few values, else a binary fuse filter of the
//! values' hashes (and of the tails of ARNs and principal ids, for `--user`). The planner
//! ([`plan`]) reads the query's compiled patterns and decides per file whether a record can
//! match; a file it rules out is not opened. It rules a file out only when the file is
//! unchanged since it was indexed and no record in it can match: a filter's false positive,
//! a field the index does not keep, a changed or unknown file all mean "read it".
//!
//! Only files read cleanly are indexed: a file with any unreadable record or byte is always
//! scanned, so that its problems are reported as they are without an index.

pub mod fields;
pub mod format;
pub mod plan;
pub mod store;
pub mod summary;

use crate::source::FileStamp;
use fields::{FIELDS, FileValues, Keep};
use rustc_hash::FxHashMap;
use serde_json::Value;
use xorf::{BinaryFuse8, Filter as _};

/// A [`fields::Keep::Mixed`] field with at most this many distinct values in a file is kept
/// as an exact set there.
pub const EXACT_MAX: usize = 32;

/// At most this many hashes are kept as a plain list of 16-bit fingerprints (at most
/// 32/65,536 = 0.05 % false positives); more make a binary fuse filter.
pub const LIST_MAX: usize = 32;

/// What a field's flags say of a file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SetFlags {
    /// Some record has no value at the field.
    pub missing: bool,
    /// Some record's value there is not a single plain scalar (an array, or inside an array
    /// element): `exists: false` and the envelope's derived fields are then left to the scan.
    pub irregular: bool,
}

impl SetFlags {
    fn bits(self) -> u8 {
        u8::from(self.missing) | (u8::from(self.irregular) << 1)
    }

    fn from_bits(b: u8) -> SetFlags {
        SetFlags { missing: b & 1 != 0, irregular: b & 2 != 0 }
    }
}

/// A probabilistic set of hashed texts (no false negatives; about 0.4 % false positives).
#[derive(Debug, Clone)]
pub struct Fuse(BinaryFuse8);

/// The hash the filters hold for a text.
#[must_use]
pub fn hash(text: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(text.as_bytes())
}

/// The 16-bit fingerprint a short hash list holds for a hash.
#[must_use]
pub fn fingerprint(h: u64) -> u16 {
    (h >> 48) as u16
}

impl Fuse {
    /// A filter of these hashes (duplicates allowed), if one can be built.
    #[must_use]
    pub fn new(mut hashes: Vec<u64>) -> Option<Fuse> {
        hashes.sort_unstable();
        hashes.dedup();
        BinaryFuse8::try_from(&hashes).ok().map(Fuse)
    }

    /// Whether the text whose hash is `h` may be in the set.
    #[must_use]
    pub fn contains(&self, h: u64) -> bool {
        self.0.contains(&h)
    }
}

/// What the index knows of one field in one file.
#[derive(Debug, Clone, Copy)]
pub enum FieldSet<'a> {
    /// Every distinct value, as dictionary ids (sorted).
    Exact(&'a [u32], SetFlags),
    /// The 16-bit fingerprints of the values' hashes (sorted).
    Hashes(&'a [u16], SetFlags),
    /// A filter of the values' hashes.
    Filter(&'a Fuse, SetFlags),
}

impl FieldSet<'_> {
    /// The set's flags.
    #[must_use]
    pub fn flags(&self) -> SetFlags {
        match self {
            FieldSet::Exact(_, f) | FieldSet::Hashes(_, f) | FieldSet::Filter(_, f) => *f,
        }
    }

    /// Whether a text whose hash is `h` may be in a hashed set (`None` for exact sets).
    #[must_use]
    pub fn may_hold(&self, h: u64) -> Option<bool> {
        match self {
            FieldSet::Exact(..) => None,
            FieldSet::Hashes(fps, _) => Some(fps.binary_search(&fingerprint(h)).is_ok()),
            FieldSet::Filter(f, _) => Some(f.contains(h)),
        }
    }
}

/// Where a file's field set is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetKind {
    Exact,
    Hashes,
    Filter,
}

#[derive(Debug, Clone, Copy)]
struct SetRef {
    kind: SetKind,
    flags: SetFlags,
    /// Into `ids` or `fps` (with `len`), or `fuses`.
    start: u32,
    len: u32,
}

/// What the index knows of one file.
#[derive(Debug, Clone)]
pub struct FileEntry {
    /// The path relative to the index's root, `/`-separated.
    pub path: String,
    /// The file as it was when read.
    pub stamp: FileStamp,
    /// Records in it.
    pub records: u64,
    /// Earliest and latest parseable `eventTime`, in seconds (rounded down and up).
    pub span: Option<(i64, i64)>,
    /// Some record has no parseable `eventTime`.
    pub untimed: bool,
    /// Its field sets: `sets..sets + FIELDS.len()` in the index's set table.
    sets: u32,
    /// Where its summary's bytes are in the index's table of them (start, length; length 0:
    /// none kept).
    part: (usize, usize),
    /// In an index made of a base and a delta: the entry is the delta's.
    from_delta: bool,
}

impl FileEntry {
    /// Whether the entry is the delta's, in an index made of a base and a delta.
    #[must_use]
    pub fn from_delta(&self) -> bool {
        self.from_delta
    }
}

/// A loaded (or newly built) index of one archive root.
#[derive(Debug, Clone, Default)]
pub struct Index {
    /// The archive root, canonical.
    pub root: String,
    /// When it was last written, seconds since the epoch.
    pub built_at: i64,
    /// How long the last build or update took, milliseconds.
    pub build_ms: u64,
    /// The checksum of its compressed body as read from a file (0: built here, not read):
    /// what a delta names as its base.
    pub id: u64,
    /// A delta: the id of the base it applies to ([`Index::overlay`]).
    pub delta_of: Option<u64>,
    /// A delta: the paths of its base it leaves out (changed since, or gone), sorted.
    pub removed: Vec<String>,
    /// A base with a delta laid over it: what its summaries need of the delta.
    overlay: Option<Box<Overlay>>,
    /// Tagged values ([`fields::tag`]) the exact sets refer to.
    dict: Vec<String>,
    /// The same, as values.
    values: Vec<Value>,
    /// Sorted by path.
    files: Vec<FileEntry>,
    sets: Vec<SetRef>,
    ids: Vec<u32>,
    fps: Vec<u16>,
    fuses: Vec<Fuse>,
    /// What a summary counted in each file: built here, or read from the index file's
    /// second section when first asked for (only `summary` needs it).
    summaries: std::sync::OnceLock<Result<Summaries, format::FormatError>>,
    /// That section as the file holds it, until then.
    summaries_packed: Option<format::Packed>,
    /// What a summary of every file counts: built here, or read from the index file's third
    /// section when first asked for (`None`: not kept, or that section cannot be read).
    totals: std::sync::OnceLock<Option<summary::Totals>>,
    /// That section as the file holds it, until then.
    totals_packed: Option<format::Packed>,
}

/// What an index made of a base and a delta ([`Index::overlay`]) keeps of the delta's
/// summaries, until they are read.
#[derive(Debug, Clone)]
struct Overlay {
    /// The base's summaries section, and the bytes of its file summaries in all.
    base: (Option<format::Packed>, usize),
    /// The delta's, likewise.
    delta: (Option<format::Packed>, usize),
    /// Files of the delta, and its size in bytes when read from a file.
    files: usize,
}

/// Where a delta's file summaries are in the table of an index made of a base and a delta:
/// their ids name the delta's texts, which follow the base's.
#[derive(Debug, Clone)]
struct DeltaIds {
    /// Summary bytes from this offset on are the delta's.
    parts_from: usize,
    /// The delta's text `i` is text `texts_from + i` of the table.
    texts_from: u32,
    /// The delta's texts and their runs (as in its own file).
    texts: usize,
    runs: Option<[u32; 9]>,
    /// Each delta text's id in the whole: the base's id of the same text in the same field,
    /// where the base has it (so that a text is counted under one id), else its own.
    remap: Vec<u32>,
    /// The base's runs of texts by field.
    base_runs: [u32; 9],
    /// Per field, the ids of the delta's texts the base lacks, in text order.
    news: [Vec<u32>; 8],
}

/// The summaries of the files of an index ([`summary`]).
#[derive(Debug, Clone, Default)]
pub struct Summaries {
    /// The texts of the summaries' values, end to end.
    texts: String,
    /// Where each of those texts ends in `texts`.
    ends: Vec<usize>,
    /// Every file's summary bytes, end to end ([`FileEntry`] says where each is).
    parts: Vec<u8>,
    /// Once sorted: the ids of field `d`'s texts are `runs[d]..runs[d + 1]` (each field's
    /// texts a sorted run of their own, so that adding up counts by id needs no hashing).
    runs: Option<[u32; 9]>,
    /// In an index made of a base and a delta: where the delta's summaries are.
    delta: Option<Box<DeltaIds>>,
}

impl Summaries {
    /// The summary bytes of the file of `e` (empty: none kept, or not in this table).
    fn part(&self, e: &FileEntry) -> &[u8] {
        self.parts.get(e.part.0..e.part.0 + e.part.1).unwrap_or_default()
    }

    /// The summaries of a base and of a delta laid over it, as one table: the delta's texts
    /// after the base's, its file summaries after the base's ([`DeltaIds`]).
    fn overlay(base: Summaries, delta: Summaries) -> Result<Summaries, format::FormatError> {
        let runs = |s: &Summaries| match s.runs {
            Some(r) => Ok(r),
            None if s.ends.is_empty() => Ok([0; 9]),
            None => Err(format::corrupt("summary texts in no runs")),
        };
        let (base_runs, delta_runs) = (runs(&base)?, runs(&delta)?);
        let texts_from = u32::try_from(base.ends.len())
            .ok()
            .filter(|n| n.checked_add(delta_runs[8]).is_some())
            .ok_or_else(|| format::corrupt("too many summary texts"))?;
        let mut remap = Vec::with_capacity(delta.ends.len());
        let mut news: [Vec<u32>; 8] = Default::default();
        for d in 0..8 {
            for k in delta_runs[d]..delta_runs[d + 1] {
                remap.push(match base.find_in(base_runs[d]..base_runs[d + 1], delta.text(k)) {
                    Some(id) => id,
                    None => {
                        news[d].push(texts_from + k);
                        texts_from + k
                    }
                });
            }
        }
        let shift = base.texts.len();
        let parts_from = base.parts.len();
        let mut out = base;
        out.runs = None;
        out.texts.push_str(&delta.texts);
        out.ends.extend(delta.ends.iter().map(|&e| e + shift));
        out.parts.extend_from_slice(&delta.parts);
        out.delta = Some(Box::new(DeltaIds {
            parts_from,
            texts_from,
            texts: delta.ends.len(),
            runs: delta.runs,
            remap,
            base_runs,
            news,
        }));
        Ok(out)
    }

    /// The id of `text` among the ids `run` (whose texts are sorted).
    fn find_in(&self, run: std::ops::Range<u32>, text: Option<&str>) -> Option<u32> {
        let (mut low, mut high) = (run.start, run.end);
        while low < high {
            let mid = low + (high - low) / 2;
            match self.text(mid).cmp(&text) {
                std::cmp::Ordering::Less => low = mid + 1,
                std::cmp::Ordering::Greater => high = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    /// The id of `text` as a value of field `dim` (`None`: not in the table).
    fn find(&self, dim: u8, text: &str) -> Option<u32> {
        let d = usize::from(dim);
        match (&self.runs, &self.delta) {
            (Some(runs), _) => self.find_in(runs[d]..*runs.get(d + 1)?, Some(text)),
            (None, Some(delta)) => {
                let base = delta.base_runs;
                self.find_in(base[d]..*base.get(d + 1)?, Some(text)).or_else(|| {
                    let news = delta.news.get(d)?;
                    news.binary_search_by(|&id| self.text(id).cmp(&Some(text)))
                        .ok()
                        .map(|i| news[i])
                })
            }
            (None, None) => None,
        }
    }

    /// The text of a value id (`None`: no such id).
    fn text(&self, id: u32) -> Option<&str> {
        let i = id as usize;
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        self.texts.get(start..end)
    }
}

impl Index {
    /// Every file entry, sorted by path.
    #[must_use]
    pub fn files(&self) -> &[FileEntry] {
        &self.files
    }

    /// The entry of the file at `path` (relative to the root, `/`-separated).
    #[must_use]
    pub fn get(&self, path: &str) -> Option<&FileEntry> {
        self.find(path).map(|(_, e)| e)
    }

    /// [`Index::find`], trying first the few places after `hint` (a walk asks in path order,
    /// so the next file is most often just after the last one found).
    #[must_use]
    pub fn find_near(&self, path: &str, hint: usize) -> Option<(usize, &FileEntry)> {
        let near = self.files.get(hint..).unwrap_or_default().iter().take(4);
        for (k, e) in near.enumerate() {
            if e.path == path {
                return Some((hint + k, e));
            }
        }
        self.find(path)
    }

    /// The place and entry of the file at `path` (relative to the root, `/`-separated).
    #[must_use]
    pub fn find(&self, path: &str) -> Option<(usize, &FileEntry)> {
        self.files.binary_search_by(|f| f.path.as_str().cmp(path)).ok().map(|i| (i, &self.files[i]))
    }

    /// What a summary of every file counts, when kept and readable.
    #[must_use]
    pub fn totals(&self) -> Option<&summary::Totals> {
        self.totals
            .get_or_init(|| {
                let p = self.totals_packed.as_ref()?;
                match format::decode_totals(p) {
                    Ok(t) => t,
                    Err(e) => {
                        crate::messages::error(&format!(
                            "index of {}: its totals are damaged ({e}): summaries add up each file's counts (`trailscan index --rebuild {}` rewrites it)",
                            self.root, self.root
                        ));
                        None
                    }
                }
            })
            .as_ref()
    }

    /// What the index knows of field `k` ([`FIELDS`] order) in the file of `e`.
    #[must_use]
    pub fn set(&self, e: &FileEntry, k: usize) -> FieldSet<'_> {
        let r = &self.sets[e.sets as usize + k];
        let (a, b) = (r.start as usize, r.start as usize + r.len as usize);
        match r.kind {
            SetKind::Exact => FieldSet::Exact(&self.ids[a..b], r.flags),
            SetKind::Hashes => FieldSet::Hashes(&self.fps[a..b], r.flags),
            SetKind::Filter => FieldSet::Filter(&self.fuses[a], r.flags),
        }
    }

    /// Replaces its totals (a delta keeps those of base and delta together).
    pub fn set_totals(&mut self, totals: Option<summary::Totals>) {
        self.totals = std::sync::OnceLock::from(totals);
    }

    /// Whether the file of `e` has its summary kept.
    #[must_use]
    pub fn has_summary(&self, e: &FileEntry) -> bool {
        e.part.1 > 0
    }

    /// What a summary counted in the file of `e`, when the index keeps it (`None`), or why it
    /// cannot be read (a damaged index).
    #[must_use]
    pub fn summary(
        &self,
        e: &FileEntry,
    ) -> Option<Result<crate::summary::Part, format::FormatError>> {
        if e.part.1 == 0 {
            return None;
        }
        Some(self.summaries().and_then(|s| {
            let offset =
                s.delta.as_ref().filter(|d| e.part.0 >= d.parts_from).map_or(0, |d| d.texts_from);
            summary::decode(s.part(e), |id| s.text(id.checked_add(offset)?))
        }))
    }

    /// Whether the summaries section can be read (it is, now, if so).
    pub fn summaries_usable(&self) -> Result<(), format::FormatError> {
        self.summaries().map(|_| ())
    }

    /// The summaries, read from the file's second section if not yet (from both files' for
    /// an index made of a base and a delta).
    fn summaries(&self) -> Result<&Summaries, format::FormatError> {
        let read = |p: &Option<format::Packed>, parts: usize| match p {
            Some(p) => format::decode_summaries(p, parts),
            None => Ok(Summaries::default()),
        };
        let s = self.summaries.get_or_init(|| match &self.overlay {
            Some(o) => Summaries::overlay(read(&o.base.0, o.base.1)?, read(&o.delta.0, o.delta.1)?),
            None => read(&self.summaries_packed, self.files.iter().map(|e| e.part.1).sum()),
        });
        s.as_ref().map_err(Clone::clone)
    }

    /// Files of its delta, when it is a base with a delta laid over it.
    #[must_use]
    pub fn delta_files(&self) -> Option<usize> {
        self.overlay.as_ref().map(|o| o.files)
    }

    /// The index `base` with the delta `delta` laid over it: the base's entries but those the
    /// delta leaves out or holds anew, and the delta's, as one index (sorted by path, one
    /// dictionary, the summaries of both read when first asked for, the delta's totals,
    /// which are those of the whole).
    ///
    /// # Errors
    /// The delta is not one of this base (another id, another root).
    pub fn overlay(base: Index, delta: Index) -> Result<Index, format::FormatError> {
        if delta.delta_of != Some(base.id) || delta.root != base.root || base.delta_of.is_some() {
            return Err(format::corrupt("a delta of another index"));
        }
        let n = |x: usize| u32::try_from(x).map_err(|_| format::corrupt("too many entries"));
        let (dict_from, ids_from, fps_from, fuses_from, sets_from) = (
            n(base.dict.len())?,
            n(base.ids.len())?,
            n(base.fps.len())?,
            n(base.fuses.len())?,
            n(base.sets.len())?,
        );
        let base_parts: usize = base.files.iter().map(|e| e.part.1).sum();
        let delta_parts: usize = delta.files.iter().map(|e| e.part.1).sum();
        let mut out = Index {
            root: base.root,
            built_at: delta.built_at,
            build_ms: delta.build_ms,
            id: base.id,
            dict: base.dict,
            values: base.values,
            sets: base.sets,
            ids: base.ids,
            fps: base.fps,
            fuses: base.fuses,
            totals_packed: delta.totals_packed,
            overlay: Some(Box::new(Overlay {
                base: (base.summaries_packed, base_parts),
                delta: (delta.summaries_packed, delta_parts),
                files: delta.files.len(),
            })),
            ..Index::default()
        };
        let removed = delta.removed;
        out.dict.extend(delta.dict);
        out.values.extend(delta.values);
        out.ids.extend(delta.ids.iter().map(|&id| id + dict_from));
        out.fps.extend_from_slice(&delta.fps);
        out.fuses.extend(delta.fuses);
        out.sets.extend(delta.sets.iter().map(|r| {
            let from = match r.kind {
                SetKind::Exact => ids_from,
                SetKind::Hashes => fps_from,
                SetKind::Filter => fuses_from,
            };
            SetRef { start: r.start + from, ..*r }
        }));
        // Both lists are sorted by path: merged, the delta's entry winning.
        let gone = |p: &str| removed.binary_search_by(|r| r.as_str().cmp(p)).is_ok();
        let mut later = delta.files.into_iter().peekable();
        for e in base.files {
            while later.peek().is_some_and(|d| d.path < e.path) {
                let d = later.next().expect("peeked");
                out.files.push(FileEntry {
                    sets: d.sets + sets_from,
                    part: (d.part.0 + base_parts, d.part.1),
                    from_delta: true,
                    ..d
                });
            }
            if later.peek().is_some_and(|d| d.path == e.path) || gone(&e.path) {
                continue;
            }
            out.files.push(e);
        }
        for d in later {
            out.files.push(FileEntry {
                sets: d.sets + sets_from,
                part: (d.part.0 + base_parts, d.part.1),
                from_delta: true,
                ..d
            });
        }
        out.removed = removed;
        Ok(out)
    }

    /// The file's summary counts with their texts as ids, checked against this index.
    #[must_use]
    pub fn summary_ids(
        &self,
        e: &FileEntry,
    ) -> Option<Result<summary::Decoded, format::FormatError>> {
        if e.part.1 == 0 {
            return None;
        }
        Some(self.summaries().and_then(|s| match &s.delta {
            Some(d) if e.part.0 >= d.parts_from => {
                let mut counts = summary::decode_ids(s.part(e), d.texts, d.runs.as_ref())?;
                for v in &mut counts.values {
                    v.1 = d.remap[v.1 as usize];
                }
                counts.values.sort_unstable_by_key(|v| (v.0, v.1));
                Ok(counts)
            }
            _ => summary::decode_ids(s.part(e), s.ends.len(), s.runs.as_ref()),
        }))
    }

    /// The ids of each field's texts (`runs[d]..runs[d + 1]`), when sorted by field.
    #[must_use]
    pub fn summary_runs(&self) -> Option<[u32; 9]> {
        self.summaries().ok()?.runs
    }

    /// The text of a summary's value id (`None`: no such id, or not UTF-8).
    pub fn summary_text(&self, id: u32) -> Option<&str> {
        self.summaries().ok()?.text(id)
    }

    /// The value of dictionary id `id`.
    #[must_use]
    pub fn value(&self, id: u32) -> &Value {
        &self.values[id as usize]
    }

    /// The tagged text of dictionary id `id`.
    #[must_use]
    pub fn text(&self, id: u32) -> &str {
        &self.dict[id as usize]
    }

    /// Dictionary size.
    #[must_use]
    pub fn dictionary_len(&self) -> usize {
        self.dict.len()
    }

    /// Records over all files.
    #[must_use]
    pub fn records(&self) -> u64 {
        self.files.iter().map(|f| f.records).sum()
    }

    fn push_set(&mut self, set: FieldSet<'_>) {
        let n = |x: usize| u32::try_from(x).expect("fewer than 2^32 entries");
        let r = match set {
            FieldSet::Exact(ids, flags) => {
                let start = n(self.ids.len());
                self.ids.extend_from_slice(ids);
                SetRef { kind: SetKind::Exact, flags, start, len: n(ids.len()) }
            }
            FieldSet::Hashes(fps, flags) => {
                let start = n(self.fps.len());
                self.fps.extend_from_slice(fps);
                SetRef { kind: SetKind::Hashes, flags, start, len: n(fps.len()) }
            }
            FieldSet::Filter(f, flags) => {
                self.fuses.push(f.clone());
                SetRef { kind: SetKind::Filter, flags, start: n(self.fuses.len() - 1), len: 1 }
            }
        };
        self.sets.push(r);
    }
}

/// The summaries of `files` (whose parts are in `sums`) with their texts in sorted order,
/// only those still used (so that the texts front-code well and the ids of a file's values
/// are close together), and each file's part rewritten with the new ids; and their
/// [`summary::Totals`], when every file has its summary.
fn sorted(files: &mut [FileEntry], sums: &Summaries) -> (Summaries, Option<summary::Totals>) {
    let mut parts: Vec<Option<summary::Decoded>> = files
        .iter()
        .map(|e| {
            let bytes = Some(sums.part(e)).filter(|b| !b.is_empty())?;
            summary::decode_ids(bytes, sums.ends.len(), sums.runs.as_ref()).ok()
        })
        .collect();
    // Per field, its texts (old ids) in sorted order; then their new ids, one per distinct
    // text (after an update a text may have two old ids: the old table's and a new file's).
    let mut used: [Vec<u32>; 8] = Default::default();
    for (dim, id, _) in parts.iter().flatten().flat_map(|d| &d.values) {
        used[usize::from(*dim)].push(*id);
    }
    let mut out = Summaries::default();
    let mut runs = [0u32; 9];
    let mut remap: [Vec<u32>; 8] = Default::default();
    for (d, ids) in used.iter_mut().enumerate() {
        ids.sort_unstable();
        ids.dedup();
        // A stable sort: the ids of an updated index's table are in text order already, the
        // new ones after them, and it merges such runs without comparing much.
        ids.sort_by(|&a, &b| sums.text(a).cmp(&sums.text(b)));
        if !ids.is_empty() {
            remap[d] = vec![u32::MAX; sums.ends.len()];
        }
        let mut prev: Option<&str> = None;
        for &old in ids.iter() {
            let text = sums.text(old).unwrap_or_default();
            if prev != Some(text) {
                out.texts.push_str(text);
                out.ends.push(out.texts.len());
                prev = Some(text);
            }
            remap[d][old as usize] = out.ends.len() as u32 - 1;
        }
        runs[d + 1] = u32::try_from(out.ends.len()).expect("fewer than 2^32 distinct texts");
    }
    out.runs = Some(runs);
    for (e, part) in files.iter_mut().zip(&mut parts) {
        let start = out.parts.len();
        if let Some(d) = part {
            for v in &mut d.values {
                v.1 = remap[usize::from(v.0)][v.1 as usize];
            }
            out.parts.extend_from_slice(&summary::encode_ids(d));
        }
        e.part = (start, out.parts.len() - start);
    }
    let totals = if files.is_empty() { None } else { summary::Totals::of(&parts, &out, runs) };
    (out, totals)
}

/// Builds an index, from new files and entries kept from an older index.
pub struct Builder {
    intern: FxHashMap<String, u32>,
    /// The summaries' texts' ids.
    sintern: FxHashMap<String, u32>,
    /// The summary texts of this older index were taken over whole: its entries' summary
    /// bytes are kept as they are.
    adopted: Option<*const Index>,
    /// The summaries being built.
    sums: Summaries,
    index: Index,
}

/// Interns a summary's texts into the builder's table.
struct SummaryTexts<'a> {
    intern: &'a mut FxHashMap<String, u32>,
    texts: &'a mut String,
    ends: &'a mut Vec<usize>,
}

impl summary::Texts for SummaryTexts<'_> {
    fn id(&mut self, text: &str) -> u32 {
        if let Some(&id) = self.intern.get(text) {
            return id;
        }
        let id = u32::try_from(self.ends.len()).expect("fewer than 2^32 distinct texts");
        self.texts.push_str(text);
        self.ends.push(self.texts.len());
        self.intern.insert(text.to_string(), id);
        id
    }
}

impl Builder {
    /// An empty index of `root` (canonical).
    #[must_use]
    pub fn new(root: String) -> Builder {
        Builder {
            intern: FxHashMap::default(),
            sintern: FxHashMap::default(),
            adopted: None,
            sums: Summaries::default(),
            index: Index { root, ..Index::default() },
        }
    }

    /// Takes over the summary texts of `old`, the index being brought up to date, before any
    /// file is added: the summaries of the files kept from it are then copied as they are.
    /// (Texts of files since dropped stay in the table until a `--rebuild`.)
    pub fn adopt(&mut self, old: &Index) {
        // A base with a delta: its entries' summaries name two tables, read each by text.
        if !self.sums.texts.is_empty() || !self.index.files.is_empty() || old.overlay.is_some() {
            return;
        }
        // A damaged section: the kept files' summaries are left out (they are read).
        let Ok(sums) = old.summaries() else { return };
        self.sums.texts.clone_from(&sums.texts);
        self.sums.ends.clone_from(&sums.ends);
        // The kept files' ids stay valid; the texts of new files are added after them, in no
        // run (a text already there is added again: `sorted` merges the two).
        self.sums.runs = None;
        self.adopted = Some(std::ptr::from_ref(old));
    }

    fn id(&mut self, text: &str) -> u32 {
        if let Some(&id) = self.intern.get(text) {
            return id;
        }
        let id = u32::try_from(self.index.dict.len()).expect("fewer than 2^32 distinct values");
        self.index.dict.push(text.to_string());
        self.intern.insert(text.to_string(), id);
        id
    }

    fn entry(
        &mut self,
        path: String,
        stamp: FileStamp,
        records: u64,
        span: Option<(i64, i64)>,
        untimed: bool,
    ) {
        let sets = u32::try_from(self.index.sets.len()).expect("fewer than 2^32 sets");
        let part = (self.sums.parts.len(), 0);
        self.index.files.push(FileEntry {
            path,
            stamp,
            records,
            span,
            untimed,
            sets,
            part,
            from_delta: false,
        });
    }

    /// Keeps a file's summary bytes (for the entry last added).
    fn push_part(&mut self, bytes: &[u8]) {
        self.sums.parts.extend_from_slice(bytes);
        if let Some(e) = self.index.files.last_mut() {
            e.part.1 = bytes.len();
        }
    }

    /// Keeps a file's summary (for the entry last added), its texts interned here.
    fn push_summary(&mut self, part: &crate::summary::Part) {
        let mut texts = SummaryTexts {
            intern: &mut self.sintern,
            texts: &mut self.sums.texts,
            ends: &mut self.sums.ends,
        };
        let bytes = summary::encode(part, &mut texts);
        self.push_part(&bytes);
    }

    /// Adds a file read now, without its summary.
    pub fn add(&mut self, path: String, stamp: FileStamp, v: FileValues) {
        self.add_with_summary(path, stamp, v, None);
    }

    /// Adds a file read now, and what a summary counted in it.
    pub fn add_with_summary(
        &mut self,
        path: String,
        stamp: FileStamp,
        v: FileValues,
        part: Option<&crate::summary::Part>,
    ) {
        self.entry(path, stamp, v.records, v.span, v.untimed);
        if let Some(p) = part {
            self.push_summary(p);
        }
        for (k, values) in v.values.iter().enumerate() {
            let flags = SetFlags { missing: v.missing[k], irregular: v.irregular[k] };
            let hashed = |texts: &mut dyn Iterator<Item = std::borrow::Cow<'_, str>>| {
                let mut hs: Vec<u64> = texts.map(|t| hash(&t)).collect();
                hs.sort_unstable();
                hs.dedup();
                hs
            };
            let (hashes, exact) = match FIELDS[k].keep {
                Keep::Exact => (None, true),
                Keep::Mixed if values.len() <= EXACT_MAX => (None, true),
                Keep::Mixed => (
                    Some(hashed(
                        &mut values.iter().map(|t| std::borrow::Cow::Borrowed(t.as_str())),
                    )),
                    false,
                ),
                Keep::Hashed(sep) => {
                    (Some(hashed(&mut values.iter().map(|t| fields::token(t, sep)))), false)
                }
            };
            let fuse =
                hashes.as_ref().filter(|h| h.len() > LIST_MAX).and_then(|h| Fuse::new(h.clone()));
            match (exact, hashes, fuse) {
                (false, _, Some(f)) => self.index.push_set(FieldSet::Filter(&f, flags)),
                (false, Some(h), None) if h.len() <= LIST_MAX || FIELDS[k].keep != Keep::Mixed => {
                    let mut fps: Vec<u16> = h.iter().map(|&h| fingerprint(h)).collect();
                    fps.sort_unstable();
                    fps.dedup();
                    self.index.push_set(FieldSet::Hashes(&fps, flags));
                }
                _ => {
                    let mut ids: Vec<u32> = values.iter().map(|t| self.id(t)).collect();
                    ids.sort_unstable();
                    self.index.push_set(FieldSet::Exact(&ids, flags));
                }
            }
        }
    }

    /// Keeps an entry of `old` (its exact sets moved to this dictionary).
    pub fn keep(&mut self, old: &Index, e: &FileEntry) {
        self.entry(e.path.clone(), e.stamp, e.records, e.span, e.untimed);
        let adopted = self.adopted == Some(std::ptr::from_ref(old));
        if let (true, Ok(sums)) = (adopted, old.summaries()) {
            self.push_part(sums.part(e));
        } else if let Some(Ok(p)) = old.summary(e) {
            self.push_summary(&p);
        }
        for k in 0..FIELDS.len() {
            match old.set(e, k) {
                FieldSet::Exact(ids, flags) => {
                    let mut ids: Vec<u32> = ids.iter().map(|&id| self.id(old.text(id))).collect();
                    ids.sort_unstable();
                    self.index.push_set(FieldSet::Exact(&ids, flags));
                }
                other => self.index.push_set(other),
            }
        }
    }

    /// Files added so far.
    #[must_use]
    pub fn len(&self) -> usize {
        self.index.files.len()
    }

    /// No file added yet.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.index.files.is_empty()
    }

    /// The index.
    #[must_use]
    pub fn finish(mut self, built_at: i64, build_ms: u64) -> Index {
        let idx = &mut self.index;
        idx.built_at = built_at;
        idx.build_ms = build_ms;
        idx.files.sort_by(|a, b| a.path.cmp(&b.path));
        idx.files.dedup_by(|a, b| a.path == b.path);
        idx.values = idx.dict.iter().map(|t| fields::untag(t).unwrap_or(Value::Null)).collect();
        let (sums, totals) = sorted(&mut idx.files, &self.sums);
        idx.summaries = std::sync::OnceLock::from(Ok(sums));
        idx.totals = std::sync::OnceLock::from(totals);
        self.index
    }
}
