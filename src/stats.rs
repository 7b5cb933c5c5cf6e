//! The accounting of every file and record a run touched: the last stderr line and
//! `--stats-json`.

use serde::Serialize;

/// Counts for one run (or one file, merged into the run).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Files opened and read to the end.
    pub files_read: u64,
    /// Files that could not be read (wholly or partly); each was named on stderr.
    pub files_failed: u64,
    /// Files left unread because their path rules them out (`--account`, `--region`, time).
    pub files_pruned: u64,
    /// Folders left unread for the same reasons (their files are not counted).
    pub dirs_pruned: u64,
    /// Digest files (by path or content): integrity data, no events.
    pub files_digest: u64,
    /// Files in folders that are not log files (their name) or not regular files.
    pub files_ignored: u64,
    /// Files whose whole text the prefilter ruled out (read, not parsed).
    pub files_prefiltered: u64,
    /// Files the archive index showed, unopened, to hold no match (counted in `files_read`:
    /// the index knows them as read cleanly).
    pub files_indexed: u64,
    /// Files whose records the archive index counted for the command, unopened (`summary`:
    /// counted in `files_read` and their records in `records_read` and `records_matched`).
    pub files_answered: u64,
    /// Files the index knew, but that changed since it was built (read).
    pub files_index_stale: u64,
    /// Files the index did not cover, with an index in use (read).
    pub files_index_uncovered: u64,
    /// Records taken from files.
    pub records_read: u64,
    /// Records or lines that could not be used (invalid JSON, not an object); each named.
    pub records_failed: u64,
    /// Records that matched.
    pub records_matched: u64,
    /// Matches dropped by `--dedupe` as repeats of an earlier eventID.
    pub duplicates_dropped: u64,
    /// Bytes read from disk.
    pub bytes_read: u64,
    /// Bytes of JSON after decompression.
    pub bytes_inflated: u64,
}

impl Stats {
    /// Adds `other` into `self`.
    pub fn merge(&mut self, other: &Stats) {
        self.files_read += other.files_read;
        self.files_failed += other.files_failed;
        self.files_pruned += other.files_pruned;
        self.dirs_pruned += other.dirs_pruned;
        self.files_digest += other.files_digest;
        self.files_ignored += other.files_ignored;
        self.files_prefiltered += other.files_prefiltered;
        self.files_indexed += other.files_indexed;
        self.files_answered += other.files_answered;
        self.files_index_stale += other.files_index_stale;
        self.files_index_uncovered += other.files_index_uncovered;
        self.records_read += other.records_read;
        self.records_failed += other.records_failed;
        self.records_matched += other.records_matched;
        self.duplicates_dropped += other.duplicates_dropped;
        self.bytes_read += other.bytes_read;
        self.bytes_inflated += other.bytes_inflated;
    }

    /// Whether anything could not be read.
    #[must_use]
    pub fn had_errors(&self) -> bool {
        self.files_failed > 0 || self.records_failed > 0
    }

    /// The one-line account printed last on stderr.
    #[must_use]
    pub fn line(&self) -> String {
        let mut skipped = Vec::new();
        if self.files_digest > 0 {
            skipped.push(format!("{} digest", self.files_digest));
        }
        if self.files_pruned > 0 {
            skipped.push(format!("{} pruned", self.files_pruned));
        }
        if self.dirs_pruned > 0 {
            skipped.push(format!("{} folders pruned", self.dirs_pruned));
        }
        if self.files_ignored > 0 {
            skipped.push(format!("{} not log files", self.files_ignored));
        }
        let skipped_n = self.files_digest + self.files_pruned + self.files_ignored;
        let mut ruled_out = Vec::new();
        if self.files_indexed > 0 {
            ruled_out.push(format!("{} ruled out unopened by the index", self.files_indexed));
        }
        if self.files_answered > 0 {
            ruled_out.push(format!("{} answered unopened by the index", self.files_answered));
        }
        if self.files_prefiltered > 0 {
            ruled_out
                .push(format!("{} ruled out unparsed by the prefilter", self.files_prefiltered));
        }
        let prefiltered = if ruled_out.is_empty() {
            String::new()
        } else {
            format!(" ({})", ruled_out.join(", "))
        };
        let mut s = format!(
            "{} files read{prefiltered}, {} skipped{}, {} failed; {} records read, {} matched",
            self.files_read,
            skipped_n,
            if skipped.is_empty() { String::new() } else { format!(" ({})", skipped.join(", ")) },
            self.files_failed,
            self.records_read,
            self.records_matched,
        );
        if self.records_failed > 0 {
            s.push_str(&format!(", {} unreadable", self.records_failed));
        }
        if self.duplicates_dropped > 0 {
            s.push_str(&format!(", {} duplicates dropped", self.duplicates_dropped));
        }
        if self.files_index_stale + self.files_index_uncovered > 0 {
            s.push_str(&format!(
                "; index: {} files changed since it was built, {} not in it (read; `trailscan index` brings it up to date)",
                self.files_index_stale, self.files_index_uncovered
            ));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_adds_up() {
        let mut a =
            Stats { files_read: 2, records_read: 10, records_matched: 1, ..Stats::default() };
        let b = Stats {
            files_failed: 1,
            files_digest: 3,
            files_pruned: 1,
            records_failed: 2,
            ..Stats::default()
        };
        a.merge(&b);
        assert_eq!(
            a.line(),
            "2 files read, 4 skipped (3 digest, 1 pruned), 1 failed; 10 records read, 1 matched, 2 unreadable"
        );
        assert!(a.had_errors());
        assert!(!Stats::default().had_errors());
    }
}
