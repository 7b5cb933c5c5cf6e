//! Where indexes live, finding the one that covers a path, loading, saving, and the gate the
//! engine asks before it opens a file.
//!
//! Indexes never live inside an archive unless asked: evidence may be read-only, and an
//! investigator must not alter it. The default place is the user's cache directory
//! (`$XDG_CACHE_HOME/trailscan/index` on Linux, the platform's equivalent elsewhere);
//! `--index-dir` or `TRAILSCAN_INDEX_DIR` choose another. One file per archive root, named
//! after a hash of the root's canonical path.

use super::format::{self, FormatError};
use super::plan::Planner;
use super::{FileEntry, Index};
use crate::engine::{Answer, Gate, GateDecision};
use crate::messages;
use crate::query::Query;
use crate::source::FileStamp;
use anyhow::{Context, Result, anyhow};
use std::io::Write;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// The environment variable naming the index directory.
pub const ENV_DIR: &str = "TRAILSCAN_INDEX_DIR";

/// The index directory: `explicit`, else `$TRAILSCAN_INDEX_DIR`, else the cache directory's
/// `trailscan/index`.
pub fn dir(explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(d) = explicit {
        return Ok(d.to_path_buf());
    }
    if let Some(d) = std::env::var_os(ENV_DIR).filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(d));
    }
    dirs::cache_dir().map(|c| c.join("trailscan").join("index")).ok_or_else(|| {
        anyhow!("no cache directory on this system: give --index-dir or set {ENV_DIR}")
    })
}

/// The index file of the archive at canonical `root`.
#[must_use]
pub fn file_for(dir: &Path, root: &Path) -> PathBuf {
    let key = xxhash_rust::xxh3::xxh3_64(root.as_os_str().as_encoded_bytes());
    dir.join(format!("{key:016x}.tsi"))
}

/// The canonical form of `p`, as text the index stores.
pub fn canonical(p: &Path) -> std::io::Result<PathBuf> {
    std::fs::canonicalize(p)
}

/// The index that covers `path` (its root is `path` or a folder above it): (root, index file).
#[must_use]
pub fn find(dir: &Path, path: &Path) -> Option<(PathBuf, PathBuf)> {
    let canon = canonical(path).ok()?;
    canon.ancestors().find_map(|a| {
        let f = file_for(dir, a);
        f.is_file().then(|| (a.to_path_buf(), f))
    })
}

/// Why an index could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Reading the file failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The file is not a usable index.
    #[error("{0}")]
    Format(#[from] FormatError),
    /// The file is the index of another folder (a hash collision, or a copied cache).
    #[error("it indexes {0}, not this folder")]
    Foreign(String),
}

/// The delta file beside the index file `file` ([`Index::overlay`]).
#[must_use]
pub fn delta_for(file: &Path) -> PathBuf {
    file.with_extension("tsd")
}

/// Reads the index (or delta) file `file` of the archive at canonical `root`.
fn read(file: &Path, root: &Path) -> Result<Index, LoadError> {
    #[cfg(unix)]
    let index = format::decode_file(std::fs::File::open(file)?)??;
    #[cfg(not(unix))]
    let index = format::decode(&std::fs::read(file)?)?;
    if Path::new(&index.root) != root {
        return Err(LoadError::Foreign(index.root));
    }
    Ok(index)
}

/// Loads the index file `file` of the archive at canonical `root`, with the delta beside it
/// laid over it when there is one of this very file. A delta that cannot be used is named on
/// stderr and left out: the base alone never rules a file out wrongly (the files read since
/// it was written are changed or unknown to it, and read).
pub fn load(file: &Path, root: &Path) -> Result<Index, LoadError> {
    let base = read(file, root)?;
    if base.delta_of.is_some() {
        return Err(LoadError::Format(format::corrupt("a delta where the index should be")));
    }
    let at = delta_for(file);
    let delta = match read(&at, root) {
        Ok(d) => d,
        Err(LoadError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => return Ok(base),
        Err(e) => {
            messages::error(&format!(
                "index delta {} is not used ({e}): the files indexed since {} was written are read",
                at.display(),
                file.display()
            ));
            return Ok(base);
        }
    };
    // A delta of an earlier base (an update and a rebuild that raced) says nothing of this one.
    if delta.delta_of != Some(base.id) {
        return Ok(base);
    }
    Ok(Index::overlay(base, delta)?)
}

/// The sizes in bytes of the index file `file` and of its delta (0: none).
#[must_use]
pub fn sizes(file: &Path) -> (Option<u64>, u64) {
    let size = |f: &Path| std::fs::metadata(f).ok().map(|m| m.len());
    (size(file), size(&delta_for(file)).unwrap_or(0))
}

/// Writes `index` into `dir` atomically (a temporary file renamed over the old one), so that a
/// reader sees the old index or the new one, whole, and an interrupted write leaves the old
/// one in place. Returns the file and its size.
pub fn save(dir: &Path, index: &Index) -> Result<(PathBuf, u64)> {
    let target = file_for(dir, Path::new(&index.root));
    let size = write(dir, &target, &format::encode(index))?;
    // The delta of the index just replaced is of no use now (and would not be used: it names
    // the old one).
    match std::fs::remove_file(delta_for(&target)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(e).with_context(|| format!("removing {}", delta_for(&target).display()));
        }
        _ => {}
    }
    Ok((target, size))
}

/// Writes the delta `delta` of the index of its root into `dir`, atomically as [`save`]
/// does. Returns the file and its size.
pub fn save_delta(dir: &Path, delta: &Index) -> Result<(PathBuf, u64)> {
    let target = delta_for(&file_for(dir, Path::new(&delta.root)));
    let size = write(dir, &target, &format::encode(delta))?;
    Ok((target, size))
}

/// Writes `bytes` as `target` in `dir` through a temporary file renamed over it.
fn write(dir: &Path, target: &Path, bytes: &[u8]) -> Result<u64> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .suffix(".tsi")
        .tempfile_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("writing {}", tmp.path().display()))?;
    tmp.persist(target).with_context(|| format!("writing {}", target.display()))?;
    Ok(bytes.len() as u64)
}

/// The index key of `path` under `given` (a path as the user named it), prefixed with the
/// key of `given` itself: `/`-separated, `None` for names that are not UTF-8.
fn key(prefix: &str, given: &Path, path: &Path) -> Option<String> {
    // The walk joins names onto `given` as the user wrote it: on Unix the key is most often
    // the text after it, taken without parsing components.
    #[cfg(unix)]
    {
        let (g, p) = (given.as_os_str().as_encoded_bytes(), path.as_os_str().as_encoded_bytes());
        if let Some(rest) = p.strip_prefix(g)
            && let Ok(rest) = std::str::from_utf8(rest)
        {
            let rest = if g.ends_with(b"/") || rest.is_empty() {
                Some(rest)
            } else {
                rest.strip_prefix('/')
            };
            if let Some(rest) = rest
                && !rest.starts_with('/')
                && !rest.contains("//")
                && !rest.split('/').any(|c| c == "." || c == "..")
            {
                return Some(match (prefix.is_empty(), rest.is_empty()) {
                    (true, _) => rest.to_string(),
                    (false, true) => prefix.to_string(),
                    (false, false) => format!("{prefix}/{rest}"),
                });
            }
        }
    }
    let rest = path.strip_prefix(given).ok()?;
    let mut key = prefix.to_string();
    for c in rest.components() {
        match c {
            Component::Normal(s) => {
                if !key.is_empty() {
                    key.push('/');
                }
                key.push_str(s.to_str()?);
            }
            Component::CurDir => {}
            _ => return None,
        }
    }
    Some(key)
}

/// One path the user named, covered by an index.
#[derive(Debug)]
struct Scope {
    given: PathBuf,
    /// The key of `given` in its index ("" for the root itself).
    prefix: String,
    index: Arc<Index>,
    /// Summaries are answered from this index (its summaries section is readable).
    answers: bool,
}

/// What a gate does with fresh files.
#[derive(Debug)]
enum Mode {
    /// Rules out fresh files that cannot match the query.
    Plan(Planner),
    /// Rules out every fresh file (an update keeps its entry).
    Reuse,
}

/// The engine's [`Gate`] over one or more indexes.
#[derive(Debug)]
pub struct IndexGate {
    scopes: Vec<Scope>,
    mode: Mode,
    /// Fresh files whose every record matches are answered with their summary counts
    /// ([`Gate::answer`]; for `summary`).
    summaries: bool,
    /// The query matches every record of every file of the one index in use, which the
    /// paths cover whole: its files are answered as [`super::summary::Covered`], their
    /// counts left unread while the index's totals may answer for all of them.
    whole: bool,
}

impl IndexGate {
    /// The entry for `path`, and whether it is fresh.
    fn entry(
        &self,
        path: &Path,
        stamp: &FileStamp,
    ) -> Option<(usize, &FileEntry, &Arc<Index>, bool)> {
        self.scoped(path, stamp).map(|(at, e, s, fresh)| (at, e, &s.index, fresh))
    }

    /// The place and entry of `path` in the index of its scope, and whether it is fresh.
    fn scoped(&self, path: &Path, stamp: &FileStamp) -> Option<(usize, &FileEntry, &Scope, bool)> {
        thread_local! {
            /// Where this thread last found a file: a hint only (checked), whatever the index.
            static LAST: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
        }
        let (scope, key) =
            self.scopes.iter().find_map(|s| Some((s, key(&s.prefix, &s.given, path)?)))?;
        let (at, e) = scope.index.find_near(&key, LAST.get() + 1)?;
        LAST.set(at);
        Some((at, e, scope, e.stamp == *stamp))
    }

    /// A gate that rules out the files of `old` that are unchanged (for updating the index of
    /// the archive at `given`).
    #[must_use]
    pub fn reuse(given: &Path, old: Arc<Index>) -> IndexGate {
        IndexGate {
            scopes: vec![Scope {
                given: given.to_path_buf(),
                prefix: String::new(),
                index: old,
                answers: false,
            }],
            mode: Mode::Reuse,
            summaries: false,
            whole: false,
        }
    }

    /// The planner, when the gate plans a query.
    #[must_use]
    pub fn planner(&self) -> Option<&Planner> {
        match &self.mode {
            Mode::Plan(p) => Some(p),
            Mode::Reuse => None,
        }
    }

    /// Of the indexed files under the paths given, how many the query may match (the files
    /// a scan would open among them, were they all fresh), and how many there are.
    #[must_use]
    pub fn may_match_share(&self) -> (usize, usize) {
        let Mode::Plan(planner) = &self.mode else { return (0, 0) };
        let (mut may, mut all) = (0, 0);
        for s in &self.scopes {
            let under = |p: &str| {
                s.prefix.is_empty()
                    || p.strip_prefix(s.prefix.as_str())
                        .is_some_and(|r| r.is_empty() || r.starts_with('/'))
            };
            for e in s.index.files().iter().filter(|e| under(&e.path)) {
                all += 1;
                may += usize::from(planner.may_match(e, &s.index));
            }
        }
        (may, all)
    }

    /// The indexes in use: (root, files, built at).
    #[must_use]
    pub fn describe(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for s in &self.scopes {
            let at = chrono::DateTime::<chrono::Utc>::from_timestamp(s.index.built_at, 0)
                .map_or_else(String::new, |t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string());
            let line = format!(
                "index of {} ({} files, updated {at}) covers {}",
                s.index.root,
                s.index.files().len(),
                s.given.display()
            );
            if !out.contains(&line) {
                out.push(line);
            }
        }
        out
    }
}

impl Gate for IndexGate {
    fn decide(&self, path: &Path, stamp: &FileStamp) -> GateDecision {
        match self.scoped(path, stamp) {
            None => GateDecision::Unknown,
            Some((_, _, _, false)) => GateDecision::Stale,
            Some((_, e, scope, true)) => match &self.mode {
                Mode::Reuse => GateDecision::RuledOut,
                Mode::Plan(p) if !p.may_match(e, &scope.index) => GateDecision::RuledOut,
                Mode::Plan(p)
                    if scope.answers
                        && scope.index.has_summary(e)
                        && p.all_match(e, &scope.index) =>
                {
                    GateDecision::Answered
                }
                Mode::Plan(_) => GateDecision::Read,
            },
        }
    }

    fn answer(&self, path: &Path, stamp: &FileStamp) -> Option<Answer> {
        let (position, e, idx, fresh) = self.entry(path, stamp)?;
        if !fresh || !self.summaries {
            return None;
        }
        if self.whole {
            return Some(Answer {
                records: e.records,
                partial: Box::new(super::summary::Covered { index: Arc::clone(idx), position }),
            });
        }
        match idx.summary_ids(e)? {
            Ok(counts) => Some(Answer {
                records: counts.all.count,
                partial: Box::new(super::summary::Answered { index: Arc::clone(idx), counts }),
            }),
            Err(err) => {
                messages::error(&format!(
                    "index of {}: the summary of {} is damaged ({err}): the file is read",
                    idx.root,
                    path.display()
                ));
                None
            }
        }
    }
}

/// The gate for a query over `paths`, from the indexes in `dir` that cover them; `None` when
/// none does or the index cannot help the query. A damaged or foreign index is named on
/// stderr and left unused (the scan reads every file).
///
/// With `summaries` (for `summary`), fresh files whose every record matches are answered from
/// the summary counts the index keeps, unopened; the index is then used even when the query
/// rules nothing out.
#[must_use]
pub fn open(paths: &[PathBuf], dir: &Path, query: &Query, summaries: bool) -> Option<IndexGate> {
    let planner = Planner::new(query);
    if !planner.can_decide() && !summaries {
        return None;
    }
    let roots: Vec<PathBuf> =
        if paths.is_empty() { vec![PathBuf::from(".")] } else { paths.to_vec() };
    let mut loaded: Vec<(PathBuf, Arc<Index>)> = Vec::new();
    // Indexes whose summaries section cannot be read (named once; their files are read).
    let mut unusable: Vec<PathBuf> = Vec::new();
    let mut scopes = Vec::new();
    for given in roots {
        if given.as_os_str() == "-" {
            continue;
        }
        let Some((root, file)) = find(dir, &given) else { continue };
        let index = match loaded.iter().find(|(f, _)| *f == file) {
            Some((_, i)) => Arc::clone(i),
            None => match load(&file, &root) {
                Ok(i) => {
                    let i = Arc::new(i);
                    loaded.push((file.clone(), Arc::clone(&i)));
                    i
                }
                Err(e) => {
                    messages::error(&format!(
                        "index {} of {} is not used: {e} (`trailscan index {}` rebuilds it)",
                        file.display(),
                        root.display(),
                        root.display()
                    ));
                    continue;
                }
            },
        };
        let Ok(canon) = canonical(&given) else { continue };
        let Some(prefix) = key("", &root, &canon) else { continue };
        scopes.push((given, prefix, index, file));
    }
    // A summary of everything one index covers may be answered from its totals, and does
    // not need the files' summaries unless they do not answer after all.
    let whole = summaries
        && matches!(&scopes[..], [(_, prefix, index, _)] if prefix.is_empty() && covers_whole(index, &planner));
    let scopes: Vec<Scope> = scopes
        .into_iter()
        .map(|(given, prefix, index, file)| {
            if summaries
                && !whole
                && !unusable.contains(&file)
                && let Err(e) = index.summaries_usable()
            {
                messages::error(&format!(
                    "index {} of {}: its summaries section is damaged ({e}): summaries read the files (`trailscan index --rebuild {}` rewrites it)",
                    file.display(),
                    index.root,
                    index.root
                ));
                unusable.push(file.clone());
            }
            let answers = summaries && !unusable.contains(&file);
            Scope { given, prefix, index, answers }
        })
        .collect();
    (!scopes.is_empty()).then_some(IndexGate {
        scopes,
        mode: Mode::Plan(planner),
        summaries,
        whole,
    })
}

/// Whether `planner`'s query matches every record of every file of `index`, each with its
/// summary kept, and the index keeps totals of them all.
fn covers_whole(index: &Index, planner: &Planner) -> bool {
    !index.files().is_empty()
        && index.files().iter().all(|e| index.has_summary(e) && planner.all_match(e, index))
        && index.totals().is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_join_components() {
        let k = key("", Path::new("./a"), Path::new("./a/AWSLogs/1/x.json.gz"));
        assert_eq!(k.as_deref(), Some("AWSLogs/1/x.json.gz"));
        assert_eq!(key("AWSLogs", Path::new("b"), Path::new("b/1")).as_deref(), Some("AWSLogs/1"));
        assert_eq!(key("p", Path::new("b"), Path::new("b")).as_deref(), Some("p"));
        assert_eq!(key("", Path::new("b"), Path::new("c/1")), None);
        assert_eq!(key("", Path::new("b"), Path::new("b2/1")), None);
        assert_eq!(key("", Path::new("b/"), Path::new("b/1")).as_deref(), Some("1"));
        assert_eq!(key("", Path::new("b"), Path::new("b/./1")).as_deref(), Some("1"));
    }

    #[test]
    fn saves_atomically_and_finds_by_ancestor() {
        let archive = tempfile::tempdir().unwrap();
        let store = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(archive.path().join("AWSLogs/1")).unwrap();
        let root = canonical(archive.path()).unwrap();
        let idx = super::super::Builder::new(root.to_string_lossy().into_owned()).finish(1, 2);
        let (file, size) = save(store.path(), &idx).unwrap();
        assert!(size > 0);
        let names: Vec<_> =
            std::fs::read_dir(store.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 1, "no temporary file is left: {names:?}");
        let (r, f) = find(store.path(), &archive.path().join("AWSLogs/1")).unwrap();
        assert_eq!((r.as_path(), f.as_path()), (root.as_path(), file.as_path()));
        assert!(load(&file, &root).is_ok());
        assert!(matches!(load(&file, Path::new("/elsewhere")), Err(LoadError::Foreign(_))));
    }
}
