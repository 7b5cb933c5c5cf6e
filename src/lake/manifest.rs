//! The lake's manifest, `DIR/_trailscan_manifest.json` (engines skip names starting with `_`):
//! what each source file was when it was exported and which Parquet files hold its rows.
//!
//! A Parquet file of a run holds the rows of every source file of that run that had records in
//! its partition; so the rows of one source cannot be removed alone. When a source file
//! changes, the group of sources that share files with it (linked through shared files) is
//! exported again, and that group's files are deleted once the new ones are in place.
//!
//! A run changes the lake in one journaled step: the new manifest is written (to a temporary
//! name, then renamed) with the renames and deletions still to do in `pending`; then the files
//! are renamed and the old ones deleted, and the manifest is written again without `pending`.
//! A run that dies in between leaves `pending` for the next run to finish first.

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The manifest's file name in the lake.
pub const NAME: &str = "_trailscan_manifest.json";

/// What the manifest's `format` says.
const FORMAT: &str = "trailscan-lake";

/// The manifest.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    /// Always `trailscan-lake`.
    pub format: String,
    /// The manifest's version (1).
    pub version: u32,
    /// Whether the files have the `raw` column.
    pub raw: bool,
    /// The filter arguments every run of this lake used (a lake holds one selection).
    pub filters: Vec<String>,
    /// Source files, by absolute path.
    pub sources: BTreeMap<String, Source>,
    /// Work a run recorded but may not have finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<Pending>,
}

/// One exported source file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Source {
    /// Its size in bytes when exported.
    pub size: u64,
    /// Its modification time, nanoseconds since the epoch.
    pub mtime_ns: i128,
    /// The run that exported it.
    pub run: String,
    /// Records read.
    pub records: u64,
    /// Records exported (matching the filters).
    pub exported: u64,
    /// Records that could not be read.
    pub failed: u64,
    /// The Parquet files holding its rows (with rows of other sources of the same run).
    pub outputs: Vec<String>,
}

/// Renames and deletions a run still has to make.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Pending {
    /// (temporary, final) paths relative to the lake.
    pub rename: Vec<(String, String)>,
    /// Files to delete, relative to the lake.
    pub delete: Vec<String>,
}

impl Manifest {
    /// An empty manifest.
    #[must_use]
    pub fn new(raw: bool, filters: Vec<String>) -> Manifest {
        Manifest {
            format: FORMAT.into(),
            version: 1,
            raw,
            filters,
            sources: BTreeMap::new(),
            pending: None,
        }
    }

    /// Reads the manifest of lake `dir`, if it has one.
    ///
    /// # Errors
    /// When it cannot be read or is not a manifest.
    pub fn load(dir: &Path) -> Result<Option<Manifest>> {
        let path = dir.join(NAME);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        let m: Manifest = serde_json::from_str(&text)
            .with_context(|| format!("{}: not a trailscan lake manifest", path.display()))?;
        if m.format != FORMAT || m.version != 1 {
            bail!("{}: not a version 1 trailscan lake manifest", path.display());
        }
        Ok(Some(m))
    }

    /// Writes the manifest to a temporary name in `dir` and renames it over the old one.
    ///
    /// # Errors
    /// When it cannot be written.
    pub fn save(&self, dir: &Path) -> Result<()> {
        let tmp = dir.join(format!(".tmp-{NAME}"));
        let text = serde_json::to_string_pretty(self)? + "\n";
        std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, dir.join(NAME))
            .with_context(|| format!("renaming {} into place", tmp.display()))
    }

    /// Carries out `pending` (renames whose temporary file is still there, deletions of files
    /// still there) and records that it is done.
    ///
    /// # Errors
    /// When a file cannot be renamed or deleted, or the manifest written.
    pub fn settle(&mut self, dir: &Path) -> Result<()> {
        let Some(p) = self.pending.take() else { return Ok(()) };
        for (tmp, fin) in &p.rename {
            let from = dir.join(tmp);
            if from.exists() {
                std::fs::rename(&from, dir.join(fin))
                    .with_context(|| format!("renaming {}", from.display()))?;
            }
        }
        for old in &p.delete {
            let path = dir.join(old);
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e).with_context(|| format!("deleting {}", path.display())),
            }
            // Leave no empty partition folders behind.
            let mut d = path.parent();
            while let Some(p) = d.filter(|p| *p != dir) {
                if std::fs::remove_dir(p).is_err() {
                    break;
                }
                d = p.parent();
            }
        }
        self.save(dir)
    }

    /// The sources to export again with those in `changed`: every source linked to one of them
    /// through shared Parquet files (the changed ones included).
    #[must_use]
    pub fn linked(&self, changed: &BTreeSet<String>) -> BTreeSet<String> {
        let mut by_output: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (name, s) in &self.sources {
            for o in &s.outputs {
                by_output.entry(o).or_default().push(name);
            }
        }
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let mut todo: Vec<&str> = changed.iter().map(String::as_str).collect();
        while let Some(name) = todo.pop() {
            if !seen.insert(name.to_string()) {
                continue;
            }
            if let Some(s) = self.sources.get(name) {
                for o in &s.outputs {
                    todo.extend(by_output.get(o.as_str()).into_iter().flatten().copied());
                }
            }
        }
        seen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(outputs: &[&str]) -> Source {
        Source {
            size: 1,
            mtime_ns: 2,
            run: "r".into(),
            records: 1,
            exported: 1,
            failed: 0,
            outputs: outputs.iter().map(|s| (*s).to_string()).collect(),
        }
    }

    #[test]
    fn linked_sources_follow_shared_files() {
        let mut m = Manifest::new(false, vec![]);
        m.sources.insert("a".into(), source(&["1", "2"]));
        m.sources.insert("b".into(), source(&["2", "3"]));
        m.sources.insert("c".into(), source(&["3"]));
        m.sources.insert("d".into(), source(&["4"]));
        m.sources.insert("e".into(), source(&[]));
        let set = |v: &[&str]| v.iter().map(|s| (*s).to_string()).collect::<BTreeSet<_>>();
        assert_eq!(m.linked(&set(&["a"])), set(&["a", "b", "c"]));
        assert_eq!(m.linked(&set(&["d"])), set(&["d"]));
        assert_eq!(m.linked(&set(&["e"])), set(&["e"]));
    }

    #[test]
    fn round_trip_and_settle() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Manifest::load(dir.path()).unwrap(), None);
        std::fs::create_dir_all(dir.path().join("p=1")).unwrap();
        std::fs::write(dir.path().join("p=1/.tmp-x"), "new").unwrap();
        std::fs::create_dir_all(dir.path().join("p=2")).unwrap();
        std::fs::write(dir.path().join("p=2/y"), "old").unwrap();
        let mut m = Manifest::new(true, vec!["--event".into(), "X".into()]);
        m.sources.insert("/s".into(), source(&["p=1/x"]));
        m.pending = Some(Pending {
            rename: vec![("p=1/.tmp-x".into(), "p=1/x".into())],
            delete: vec!["p=2/y".into()],
        });
        m.save(dir.path()).unwrap();
        let mut back = Manifest::load(dir.path()).unwrap().unwrap();
        assert_eq!(back, m);
        back.settle(dir.path()).unwrap();
        assert_eq!(std::fs::read_to_string(dir.path().join("p=1/x")).unwrap(), "new");
        assert!(!dir.path().join("p=2").exists());
        assert_eq!(Manifest::load(dir.path()).unwrap().unwrap().pending, None);
        std::fs::write(dir.path().join(NAME), "{}").unwrap();
        assert!(Manifest::load(dir.path()).is_err());
    }
}
