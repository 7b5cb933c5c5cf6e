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

use crate::source::FileStamp;
use fields::{FIELDS, FileValues};
use rustc_hash::FxHashMap;
use serde_json::Value;
use xorf::{BinaryFuse8, Filter as _};

/// A field with at most this many distinct values in a file is kept as an exact set there.
pub const EXACT_MAX: usize = 32;

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

    fn from_bits(b: u8) -> Option<SetFlags> {
        (b < 4).then_some(SetFlags { missing: b & 1 != 0, irregular: b & 2 != 0 })
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
#[derive(Debug, Clone)]
pub enum FieldSet {
    /// Every distinct value, as dictionary ids (sorted).
    Exact {
        /// Ids into the index's dictionary.
        ids: Vec<u32>,
        /// Missing and irregular values.
        flags: SetFlags,
    },
    /// A filter of the values' hashes.
    Filter {
        /// The filter.
        fuse: Fuse,
        /// Missing and irregular values.
        flags: SetFlags,
    },
}

impl FieldSet {
    /// The set's flags.
    #[must_use]
    pub fn flags(&self) -> SetFlags {
        match self {
            FieldSet::Exact { flags, .. } | FieldSet::Filter { flags, .. } => *flags,
        }
    }
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
    /// Per field of [`FIELDS`].
    pub sets: Vec<FieldSet>,
}

/// A loaded (or newly built) index of one archive root.
#[derive(Debug, Clone)]
pub struct Index {
    /// The archive root, canonical.
    pub root: String,
    /// When it was last written, seconds since the epoch.
    pub built_at: i64,
    /// How long the last build or update took, milliseconds.
    pub build_ms: u64,
    /// Tagged values ([`fields::tag`]) the exact sets refer to.
    dict: Vec<String>,
    /// The same, as values.
    values: Vec<Value>,
    /// Sorted by path.
    files: Vec<FileEntry>,
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
        self.files.binary_search_by(|f| f.path.as_str().cmp(path)).ok().map(|i| &self.files[i])
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
}

/// Builds an index, from new files and entries kept from an older index.
pub struct Builder {
    root: String,
    intern: FxHashMap<String, u32>,
    dict: Vec<String>,
    files: Vec<FileEntry>,
}

impl Builder {
    /// An empty index of `root` (canonical).
    #[must_use]
    pub fn new(root: String) -> Builder {
        Builder { root, intern: FxHashMap::default(), dict: Vec::new(), files: Vec::new() }
    }

    fn id(&mut self, text: &str) -> u32 {
        if let Some(&id) = self.intern.get(text) {
            return id;
        }
        let id = u32::try_from(self.dict.len()).expect("fewer than 2^32 distinct values");
        self.dict.push(text.to_string());
        self.intern.insert(text.to_string(), id);
        id
    }

    /// Adds a file read now.
    pub fn add(&mut self, path: String, stamp: FileStamp, v: FileValues) {
        let mut sets = Vec::with_capacity(FIELDS.len());
        for (k, values) in v.values.iter().enumerate() {
            let flags = SetFlags { missing: v.missing[k], irregular: v.irregular[k] };
            let field = &FIELDS[k];
            let mut set = None;
            if !field.low_cardinality && values.len() > EXACT_MAX {
                let mut hashes = Vec::with_capacity(values.len() * 2);
                for t in values {
                    hashes.push(hash(t));
                    if let Some(s) = t.strip_prefix('s') {
                        for &sep in field.suffix_separators {
                            hashes.extend(fields::suffix_token(s, sep).as_deref().map(hash));
                        }
                    }
                }
                set = Fuse::new(hashes).map(|fuse| FieldSet::Filter { fuse, flags });
            }
            let set = set.unwrap_or_else(|| {
                let mut ids: Vec<u32> = values.iter().map(|t| self.id(t)).collect();
                ids.sort_unstable();
                FieldSet::Exact { ids, flags }
            });
            sets.push(set);
        }
        self.files.push(FileEntry {
            path,
            stamp,
            records: v.records,
            span: v.span,
            untimed: v.untimed,
            sets,
        });
    }

    /// Keeps an entry of `old` (its exact sets moved to this dictionary).
    pub fn keep(&mut self, old: &Index, entry: &FileEntry) {
        let mut e = entry.clone();
        for set in &mut e.sets {
            if let FieldSet::Exact { ids, .. } = set {
                for id in ids.iter_mut() {
                    *id = self.id(old.text(*id));
                }
                ids.sort_unstable();
            }
        }
        self.files.push(e);
    }

    /// Files added so far.
    #[must_use]
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// No file added yet.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The index.
    #[must_use]
    pub fn finish(mut self, built_at: i64, build_ms: u64) -> Index {
        self.files.sort_by(|a, b| a.path.cmp(&b.path));
        self.files.dedup_by(|a, b| a.path == b.path);
        let values = self.dict.iter().map(|t| fields::untag(t).unwrap_or(Value::Null)).collect();
        Index { root: self.root, built_at, build_ms, dict: self.dict, values, files: self.files }
    }
}
