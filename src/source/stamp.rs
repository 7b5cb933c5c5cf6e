//! What a file looked like when it was read: enough to tell, with one `stat`, whether it has
//! changed since.

use std::fs::Metadata;

/// A file's identity and version as the file system reports them.
///
/// Size and modification time are what a user can see; the inode and the status-change time
/// (`ctime`) are what a user cannot set: `touch -d`, `cp -p` and `aws s3 sync` set `mtime` to
/// any value, but any write, rename or metadata change moves `ctime` to now. A file is taken
/// as unchanged only when all four agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct FileStamp {
    /// Size in bytes.
    pub size: u64,
    /// Modification time, nanoseconds since the epoch.
    pub mtime_ns: i64,
    /// Status-change time, nanoseconds since the epoch (0 where the platform has none).
    pub ctime_ns: i64,
    /// Inode number (0 where the platform has none).
    pub inode: u64,
}

impl FileStamp {
    /// The stamp of a file from its metadata.
    #[must_use]
    pub fn of(md: &Metadata) -> FileStamp {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            FileStamp {
                size: md.len(),
                mtime_ns: md.mtime().saturating_mul(1_000_000_000).saturating_add(md.mtime_nsec()),
                ctime_ns: md.ctime().saturating_mul(1_000_000_000).saturating_add(md.ctime_nsec()),
                inode: md.ino(),
            }
        }
        #[cfg(not(unix))]
        {
            let mtime_ns = md
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .and_then(|d| i64::try_from(d.as_nanos()).ok())
                .unwrap_or(0);
            FileStamp { size: md.len(), mtime_ns, ctime_ns: 0, inode: 0 }
        }
    }

    /// The stamp of the file at `path` (following links, as the walk does).
    pub fn read(path: &std::path::Path) -> std::io::Result<FileStamp> {
        #[cfg(target_os = "linux")]
        if let Some(stamp) = folder::read(path) {
            return stamp;
        }
        Ok(FileStamp::of(&std::fs::metadata(path)?))
    }
}

/// `stat`s relative to the folder's open descriptor.
///
/// A walk stats every file of a folder before the next folder: with the folder open, the
/// kernel looks up one name per file instead of every folder of its path again (on an
/// archive of 100,000 small files, the path lookups were most of the time a search with a
/// fresh index took). Each thread keeps the last folder it stat'ed in open.
#[cfg(target_os = "linux")]
mod folder {
    use super::FileStamp;
    use std::cell::RefCell;
    use std::os::fd::OwnedFd;
    use std::path::{Path, PathBuf};

    thread_local! {
        static OPEN: RefCell<Option<(PathBuf, OwnedFd)>> = const { RefCell::new(None) };
    }

    /// The stamp of the file at `path`, `stat`ed in its open folder (symbolic links followed,
    /// as `std::fs::metadata` does); `None` when the folder cannot be opened (the caller
    /// `stat`s the path).
    pub(super) fn read(path: &Path) -> Option<std::io::Result<FileStamp>> {
        use rustix::fs::{AtFlags, Mode, OFlags, StatxFlags};
        let (folder, name) = (path.parent()?, path.file_name()?);
        let folder = if folder.as_os_str().is_empty() { Path::new(".") } else { folder };
        OPEN.with_borrow_mut(|open| {
            if open.as_ref().is_none_or(|(p, _)| p != folder) {
                let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
                let fd = rustix::fs::open(folder, flags, Mode::empty()).ok()?;
                *open = Some((folder.to_path_buf(), fd));
            }
            let (_, fd) = open.as_ref()?;
            let mask = StatxFlags::SIZE | StatxFlags::MTIME | StatxFlags::CTIME | StatxFlags::INO;
            Some(match rustix::fs::statx(fd, name, AtFlags::empty(), mask) {
                Ok(st) => {
                    let ns = |t: rustix::fs::StatxTimestamp| {
                        t.tv_sec.saturating_mul(1_000_000_000).saturating_add(i64::from(t.tv_nsec))
                    };
                    Ok(FileStamp {
                        size: st.stx_size,
                        mtime_ns: ns(st.stx_mtime),
                        ctime_ns: ns(st.stx_ctime),
                        inode: st.stx_ino,
                    })
                }
                Err(e) => Err(e.into()),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rewrite_changes_the_stamp_even_with_size_and_mtime_put_back() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.json");
        std::fs::write(&p, "{\"a\":1}").unwrap();
        let before = FileStamp::read(&p).unwrap();
        let mtime = std::fs::metadata(&p).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&p, "{\"a\":2}").unwrap();
        std::fs::File::options().write(true).open(&p).unwrap().set_modified(mtime).unwrap();
        let after = FileStamp::read(&p).unwrap();
        assert_eq!((before.size, before.mtime_ns), (after.size, after.mtime_ns));
        #[cfg(unix)]
        assert_ne!(before, after, "ctime moves on every write");
    }

    /// The stamp read in the open folder is the one `std::fs::metadata` gives, through a
    /// symbolic link too, from several folders in turn; a missing file is an error.
    #[test]
    fn stamps_read_in_the_folder_are_the_paths() {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["a", "b", "a/c"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
            std::fs::write(dir.path().join(sub).join("f.json"), sub).unwrap();
        }
        #[cfg(unix)]
        std::os::unix::fs::symlink(dir.path().join("b/f.json"), dir.path().join("a/l.json"))
            .unwrap();
        for p in ["a/f.json", "b/f.json", "a/c/f.json", "a/f.json", "a/l.json"] {
            let p = dir.path().join(p);
            if !p.exists() {
                continue;
            }
            let expected = FileStamp::of(&std::fs::metadata(&p).unwrap());
            assert_eq!(FileStamp::read(&p).unwrap(), expected, "{}", p.display());
        }
        assert!(FileStamp::read(&dir.path().join("a/missing.json")).is_err());
        assert!(FileStamp::read(&dir.path().join("nowhere/f.json")).is_err());
    }
}
