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
        Ok(FileStamp::of(&std::fs::metadata(path)?))
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
}
