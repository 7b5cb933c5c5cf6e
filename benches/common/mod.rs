//! Shared setup for the criterion benches: the real CloudTrail records of the fixture archive.

use std::path::{Path, PathBuf};
use trailscan::source::{Input, Reader, split};

/// `fixtures/archive` under the crate root.
pub fn archive_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/archive")
}

/// Every `*.json.gz` under `fixtures/archive`, sorted.
pub fn gz_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(archive_dir())
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(walkdir::DirEntry::into_path)
        .filter(|p| p.to_string_lossy().ends_with(".json.gz"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures under {}", archive_dir().display());
    files
}

/// The inflated text of one file, read with the library's reader.
pub fn inflate(path: &Path) -> Vec<u8> {
    let mut reader = Reader::new(1 << 30);
    let loaded = reader.load(&Input::Path(path.to_path_buf())).expect("fixture loads");
    assert!(loaded.error.is_none(), "{}: read error", path.display());
    loaded.data.to_vec()
}

/// The raw text of every record in every `*.json.gz` of the archive (digests hold none).
pub fn raw_records() -> Vec<String> {
    let mut out = Vec::new();
    for path in gz_files() {
        let data = inflate(&path);
        let doc = split(&data);
        assert!(doc.fatal.is_none() && doc.problems.is_empty(), "{}", path.display());
        out.extend(doc.records.into_iter().map(|r| r.text().expect("UTF-8 record").into_owned()));
    }
    assert!(!out.is_empty());
    out
}
