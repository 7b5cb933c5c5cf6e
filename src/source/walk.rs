//! Finding the files to read: explicit files, recursive folders and stdin, lazily and in a
//! stable (sorted) order, with whole folders pruned by their CloudTrail path.

use super::name::FileMeta;
use super::prune::{PruneRules, SkipReason};
use std::path::{Path, PathBuf};

/// Where a file's bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A file on disk.
    Path(PathBuf),
    /// Standard input (`-`).
    Stdin,
}

impl Input {
    /// How the input is named in messages.
    #[must_use]
    pub fn display(&self) -> String {
        match self {
            Input::Path(p) => p.display().to_string(),
            Input::Stdin => "<stdin>".to_string(),
        }
    }

    /// [`Input::display`], taking the path's own text when it is UTF-8 (no copy).
    #[must_use]
    pub fn into_display(self) -> String {
        match self {
            Input::Path(p) => p
                .into_os_string()
                .into_string()
                .unwrap_or_else(|os| std::path::PathBuf::from(os).display().to_string()),
            Input::Stdin => "<stdin>".to_string(),
        }
    }
}

/// One step of the walk.
#[derive(Debug)]
pub enum WalkItem {
    /// A file to read.
    File(Input, FileMeta),
    /// A file (or a whole folder) left unread because its path rules it out.
    Pruned { path: PathBuf, reason: SkipReason, dir: bool },
    /// A file in a folder that is not a log file (its name, or not a regular file).
    Ignored { path: PathBuf, why: &'static str },
    /// A path that could not be walked (missing, unreadable, a symlink loop).
    Error { path: PathBuf, message: String },
}

/// File names that a folder walk reads: what CloudTrail and its exporters write.
fn is_log_name(name: &str) -> bool {
    const ENDINGS: [&str; 9] = [
        ".json",
        ".json.gz",
        ".jsonl",
        ".jsonl.gz",
        ".ndjson",
        ".ndjson.gz",
        ".gz",
        ".log",
        ".log.gz",
    ];
    !name.starts_with('.') && ENDINGS.iter().any(|e| name.ends_with(e))
}

/// Walks `roots` in order; `-` is stdin.
///
/// Folders are listed with one `readdir` each and walked depth first, siblings sorted by name.
/// A folder's path is checked against the prune rules before it is opened, so a pruned folder
/// (another account's, say) is never opened or listed; a file is never `stat`ed here (the
/// listing gives its type), only a symbolic link, to follow it.
pub struct Walker {
    roots: std::vec::IntoIter<PathBuf>,
    /// The folders being walked, innermost last.
    stack: Vec<Frame>,
    rules: PruneRules,
}

/// A folder being walked.
struct Frame {
    dir: PathBuf,
    /// Its entries not yet visited, sorted in reverse (the next one is last), with their type
    /// as the listing gave it.
    entries: Vec<(PathBuf, std::io::Result<std::fs::FileType>)>,
}

/// The entries of `dir`, sorted by name, in reverse.
fn list(dir: &Path) -> std::io::Result<Vec<(PathBuf, std::io::Result<std::fs::FileType>)>> {
    let mut entries = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        entries.push((e.path(), e.file_type()));
    }
    // Siblings share their folder's path: comparing whole paths as bytes orders them by name.
    entries.sort_unstable_by(|a, b| b.0.as_os_str().cmp(a.0.as_os_str()));
    Ok(entries)
}

impl Walker {
    /// A lazy walk over `roots` with `rules` applied to every folder and file.
    #[must_use]
    pub fn new(roots: Vec<PathBuf>, rules: PruneRules) -> Walker {
        Walker { roots: roots.into_iter(), stack: Vec::new(), rules }
    }

    fn start_root(&mut self, root: PathBuf) -> Option<WalkItem> {
        if root.as_os_str() == "-" {
            return Some(WalkItem::File(Input::Stdin, FileMeta::from_path(Path::new(""))));
        }
        match std::fs::metadata(&root) {
            Err(e) => Some(WalkItem::Error { path: root, message: e.to_string() }),
            Ok(md) if md.is_dir() => match list(&root) {
                Ok(entries) => {
                    self.stack.push(Frame { dir: root, entries });
                    None
                }
                Err(e) => Some(WalkItem::Error { path: root, message: e.to_string() }),
            },
            Ok(_) => {
                // Named explicitly: read whatever it is (a FIFO, a file of any name).
                let meta = FileMeta::from_path(&root);
                Some(match self.rules.skip(&meta) {
                    Some(reason) => WalkItem::Pruned { path: root, reason, dir: false },
                    None => WalkItem::File(Input::Path(root), meta),
                })
            }
        }
    }

    /// The folder being walked that the folder `path` (reached through a symbolic link) is,
    /// if any: walking it would never end.
    fn loop_ancestor(&self, path: &Path) -> Option<PathBuf> {
        let target = std::fs::canonicalize(path).ok()?;
        self.stack
            .iter()
            .find(|f| std::fs::canonicalize(&f.dir).is_ok_and(|d| d == target))
            .map(|f| f.dir.clone())
    }

    /// What the entry `path` of a folder being walked is: an item, or `None` for a folder now
    /// being walked.
    fn visit(
        &mut self,
        path: PathBuf,
        kind: std::io::Result<std::fs::FileType>,
    ) -> Option<WalkItem> {
        let error =
            |path, e: std::io::Error| Some(WalkItem::Error { path, message: e.to_string() });
        let kind = match kind {
            Ok(k) => k,
            Err(e) => return error(path, e),
        };
        // Symbolic links are followed (a broken one is an error, as reading it would be).
        let (is_dir, is_file, linked) = if kind.is_symlink() {
            match std::fs::metadata(&path) {
                Ok(md) => (md.is_dir(), md.is_file(), true),
                Err(e) => return error(path, e),
            }
        } else {
            (kind.is_dir(), kind.is_file(), false)
        };
        if is_dir {
            // Decided by its path before it is opened.
            if let Some(reason) = self.rules.skip_dir(&FileMeta::from_path(&path)) {
                return Some(WalkItem::Pruned { path, reason, dir: true });
            }
            if linked && let Some(a) = self.loop_ancestor(&path) {
                let message = format!("symlink loop back to {}", a.display());
                return Some(WalkItem::Error { path, message });
            }
            return match list(&path) {
                Ok(entries) => {
                    self.stack.push(Frame { dir: path, entries });
                    None
                }
                Err(e) => error(path, e),
            };
        }
        let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
        if !is_log_name(&name) {
            return Some(WalkItem::Ignored { path, why: "not a log file name" });
        }
        if !is_file {
            return Some(WalkItem::Ignored { path, why: "not a regular file" });
        }
        let meta = FileMeta::from_path(&path);
        Some(match self.rules.skip(&meta) {
            Some(reason) => WalkItem::Pruned { path, reason, dir: false },
            None => WalkItem::File(Input::Path(path), meta),
        })
    }
}

impl Iterator for Walker {
    type Item = WalkItem;

    fn next(&mut self) -> Option<WalkItem> {
        loop {
            let Some(frame) = self.stack.last_mut() else {
                let root = self.roots.next()?;
                if let Some(item) = self.start_root(root) {
                    return Some(item);
                }
                continue;
            };
            let Some((path, kind)) = frame.entries.pop() else {
                self.stack.pop();
                continue;
            };
            if let Some(item) = self.visit(path, kind) {
                return Some(item);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_names() {
        for ok in ["a.json", "a.json.gz", "x.jsonl", "y.ndjson.gz", "z.gz", "t.log"] {
            assert!(is_log_name(ok), "{ok}");
        }
        for no in ["README.md", ".hidden.json", "a.txt", "a.json.tmp"] {
            assert!(!is_log_name(no), "{no}");
        }
    }

    #[test]
    fn walks_sorted_and_prunes_folders() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("AWSLogs/111122223333/CloudTrail");
        for region in ["us-east-1", "eu-west-1"] {
            let d = base.join(region).join("2024/03/01");
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join("b.json"), "{}").unwrap();
            std::fs::write(d.join("a.json"), "{}").unwrap();
            std::fs::write(d.join("notes.txt"), "").unwrap();
        }
        let rules = PruneRules {
            enabled: true,
            regions: vec!["us-east-1".into()],
            ..PruneRules::default()
        };
        let items: Vec<_> = Walker::new(vec![dir.path().to_path_buf()], rules).collect();
        let files: Vec<String> = items
            .iter()
            .filter_map(|i| match i {
                WalkItem::File(Input::Path(p), _) => {
                    Some(p.file_name().unwrap().to_string_lossy().into_owned())
                }
                _ => None,
            })
            .collect();
        assert_eq!(files, ["a.json", "b.json"]);
        assert!(
            items.iter().any(|i| matches!(
                i,
                WalkItem::Pruned { dir: true, reason: SkipReason::Region, .. }
            ))
        );
        assert_eq!(items.iter().filter(|i| matches!(i, WalkItem::Ignored { .. })).count(), 1);
        let missing: Vec<_> =
            Walker::new(vec![dir.path().join("nope")], PruneRules::default()).collect();
        assert!(matches!(missing[0], WalkItem::Error { .. }));
    }

    #[cfg(unix)]
    #[test]
    fn follows_links_and_names_loops_and_broken_links() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("logs");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("a.json"), "{}").unwrap();
        std::os::unix::fs::symlink(d.join("a.json"), d.join("b.json")).unwrap();
        std::os::unix::fs::symlink(d.join("gone.json"), d.join("c.json")).unwrap();
        std::os::unix::fs::symlink(dir.path(), d.join("up")).unwrap();
        let items: Vec<_> =
            Walker::new(vec![dir.path().to_path_buf()], PruneRules::default()).collect();
        let shown: Vec<String> = items
            .iter()
            .map(|i| match i {
                WalkItem::File(Input::Path(p), _) => {
                    format!("file {}", p.file_name().unwrap().to_string_lossy())
                }
                WalkItem::Error { path, message } => {
                    format!("error {} {message}", path.file_name().unwrap().to_string_lossy())
                }
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(shown.len(), 4, "{shown:?}");
        assert_eq!(shown[0], "file a.json");
        assert_eq!(shown[1], "file b.json");
        assert!(shown[2].starts_with("error c.json"), "{shown:?}");
        assert!(shown[3].starts_with("error up symlink loop back to"), "{shown:?}");
    }

    #[test]
    fn a_pruned_account_folder_is_one_item_and_never_listed() {
        let tmp = tempfile::tempdir().unwrap();
        for acct in ["111122223333", "444455556666"] {
            let d =
                tmp.path().join(format!("AWSLogs/o-abc123/{acct}/CloudTrail/us-east-1/2024/03/01"));
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join("a.json.gz"), "").unwrap();
            let g = tmp
                .path()
                .join(format!("AWSLogs/o-abc123/{acct}/CloudTrail-Digest/us-east-1/2024/03/01"));
            std::fs::create_dir_all(&g).unwrap();
            std::fs::write(
                g.join(format!(
                    "{acct}_CloudTrail-Digest_us-east-1_t_us-east-1_20240301T120500Z.json.gz"
                )),
                "",
            )
            .unwrap();
        }
        let rules = PruneRules {
            enabled: true,
            accounts: vec!["111122223333".into()],
            ..PruneRules::default()
        };
        let items: Vec<_> = Walker::new(vec![tmp.path().to_path_buf()], rules).collect();
        let kinds: Vec<String> = items
            .iter()
            .map(|i| match i {
                WalkItem::File(Input::Path(p), _) => {
                    format!("file {}", p.strip_prefix(tmp.path()).unwrap().display())
                }
                WalkItem::Pruned { path, reason, dir } => format!(
                    "pruned {} {reason:?} {dir}",
                    path.strip_prefix(tmp.path()).unwrap_or(path).display()
                ),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(kinds.len(), 3, "{kinds:?}");
        assert_eq!(
            kinds[0],
            "file AWSLogs/o-abc123/111122223333/CloudTrail/us-east-1/2024/03/01/a.json.gz"
        );
        assert!(
            kinds[1].contains("CloudTrail-Digest") && kinds[1].contains("Digest false"),
            "{kinds:?}"
        );
        assert_eq!(kinds[2], "pruned AWSLogs/o-abc123/444455556666 Account true");
    }
}
