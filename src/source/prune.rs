//! Deciding from a path alone that a file or folder cannot hold a match.
//!
//! Pruning must never drop a record that a full scan would return. CloudTrail delivers a file
//! after the events in it happened, so:
//! - `--since S`: a file delivered before `S - SINCE_SLACK` holds only events before `S`
//!   (the slack covers the minute-precision stamp and clock skew);
//! - `--until U`: a file delivered at or after `U + UNTIL_SLACK` is assumed to hold only events
//!   at or after `U`. AWS delivers within about 5-15 minutes; the slack is a full day, and
//!   `--no-prune` turns all of this off.
//! - account and region come from the `AWSLogs/<account>/CloudTrail/<region>/` folders, which
//!   CloudTrail names after `recipientAccountId` and `awsRegion` of the records inside.

use super::name::{FileKind, FileMeta};
use chrono::{DateTime, Duration, NaiveDate, Utc};

/// Slack before `--since` (see the module docs).
pub const SINCE_SLACK: Duration = Duration::hours(1);
/// Slack after `--until` (see the module docs).
pub const UNTIL_SLACK: Duration = Duration::hours(24);

/// What the path-level filters know.
#[derive(Debug, Clone, Default)]
pub struct PruneRules {
    /// Accounts wanted (empty: any).
    pub accounts: Vec<String>,
    /// Regions wanted (empty: any).
    pub regions: Vec<String>,
    /// Events at or after this time are wanted.
    pub since: Option<DateTime<Utc>>,
    /// Events before this time are wanted.
    pub until: Option<DateTime<Utc>>,
    /// Off: nothing is pruned (digest files are still skipped).
    pub enabled: bool,
}

/// Why a path was left unread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SkipReason {
    /// The account folder is not one of `--account`.
    Account,
    /// The region folder is not one of `--region`.
    Region,
    /// Delivered too early or too late for `--since`/`--until`.
    Time,
    /// A CloudTrail digest file: integrity data, no events.
    Digest,
}

impl SkipReason {
    /// Short name for reports.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::Account => "account",
            SkipReason::Region => "region",
            SkipReason::Time => "time",
            SkipReason::Digest => "digest",
        }
    }
}

fn start_of(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(chrono::NaiveTime::MIN).and_utc()
}

impl PruneRules {
    /// Should the file at this path be left unread?
    #[must_use]
    pub fn skip(&self, meta: &FileMeta) -> Option<SkipReason> {
        if meta.kind == FileKind::Digest {
            return Some(SkipReason::Digest);
        }
        self.skip_dir(meta)
    }

    /// Should the folder at this path be left unwalked? As [`PruneRules::skip`], but a
    /// digest folder is walked (so that each digest file in it is counted, and `verify` finds
    /// them) unless its account, region or days are not wanted.
    #[must_use]
    pub fn skip_dir(&self, meta: &FileMeta) -> Option<SkipReason> {
        if !self.enabled {
            return None;
        }
        if let Some(acct) = &meta.account
            && !self.accounts.is_empty()
            && !self.accounts.iter().any(|a| a == acct)
        {
            return Some(SkipReason::Account);
        }
        if let Some(region) = &meta.region
            && !self.regions.is_empty()
            && !self.regions.iter().any(|r| r == region)
        {
            return Some(SkipReason::Region);
        }
        // The delivery interval [earliest, latest] this path allows.
        let (mut earliest, mut latest) = match meta.delivery_span {
            Some((start, end)) => (Some(start_of(start)), Some(start_of(end))),
            None => (None, None),
        };
        if let Some(t) = meta.delivery_time {
            earliest = Some(t);
            latest = Some(t + Duration::minutes(1));
        }
        if let (Some(since), Some(latest)) = (self.since, latest)
            && latest + SINCE_SLACK <= since
        {
            return Some(SkipReason::Time);
        }
        if let (Some(until), Some(earliest)) = (self.until, earliest)
            && earliest >= until + UNTIL_SLACK
        {
            return Some(SkipReason::Time);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn rules() -> PruneRules {
        PruneRules { enabled: true, ..PruneRules::default() }
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    const FILE: &str = "AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/01/111122223333_CloudTrail_us-east-1_20240301T1205Z_abcdEFGH12345678.json.gz";

    #[test]
    fn account_and_region() {
        let meta = FileMeta::from_path(Path::new(FILE));
        let mut r = rules();
        r.accounts = vec!["999999999999".into()];
        assert_eq!(r.skip(&meta), Some(SkipReason::Account));
        r.accounts = vec!["111122223333".into()];
        r.regions = vec!["eu-west-1".into()];
        assert_eq!(r.skip(&meta), Some(SkipReason::Region));
        r.regions = vec!["us-east-1".into()];
        assert_eq!(r.skip(&meta), None);
        r.enabled = false;
        r.accounts = vec!["999999999999".into()];
        assert_eq!(r.skip(&meta), None);
    }

    #[test]
    fn since_keeps_slack() {
        let meta = FileMeta::from_path(Path::new(FILE));
        let mut r = rules();
        r.since = Some(at("2024-03-01T12:30:00Z"));
        assert_eq!(r.skip(&meta), None, "within the slack");
        r.since = Some(at("2024-03-01T13:07:00Z"));
        assert_eq!(r.skip(&meta), Some(SkipReason::Time));
        let day =
            FileMeta::from_path(Path::new("AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/01"));
        r.since = Some(at("2024-03-02T00:30:00Z"));
        assert_eq!(r.skip(&day), None);
        r.since = Some(at("2024-03-02T01:00:00Z"));
        assert_eq!(r.skip(&day), Some(SkipReason::Time));
    }

    #[test]
    fn until_keeps_a_day() {
        let meta = FileMeta::from_path(Path::new(FILE));
        let mut r = rules();
        r.until = Some(at("2024-02-29T12:06:00Z"));
        assert_eq!(r.skip(&meta), None);
        r.until = Some(at("2024-02-29T12:05:00Z"));
        assert_eq!(r.skip(&meta), Some(SkipReason::Time));
    }

    #[test]
    fn account_folders_are_pruned_whole() {
        let mut r = rules();
        r.accounts = vec!["111122223333".into()];
        for dir in [
            "AWSLogs/999999999999",
            "x/AWSLogs/o-abc123/999999999999",
            "AWSLogs/999999999999/CloudTrail",
            "AWSLogs/999999999999/CloudTrail-Digest",
            "AWSLogs/o-abc123/999999999999/CloudTrail-Digest/us-east-1/2024",
        ] {
            let m = FileMeta::from_path(Path::new(dir));
            assert_eq!(r.skip_dir(&m), Some(SkipReason::Account), "{dir}");
        }
        for dir in [
            "AWSLogs/111122223333",
            "AWSLogs/o-abc123/111122223333/CloudTrail-Digest/us-east-1",
            "AWSLogs/o-abc123",
            "AWSLogs",
            "AWSLogs/12345",
        ] {
            let m = FileMeta::from_path(Path::new(dir));
            assert_eq!(r.skip_dir(&m), None, "{dir}");
        }
    }

    #[test]
    fn digest_folders_are_pruned_by_region_and_time_but_their_files_are_digests() {
        let mut r = rules();
        r.regions = vec!["eu-west-1".into()];
        let dir =
            FileMeta::from_path(Path::new("AWSLogs/111122223333/CloudTrail-Digest/us-east-1"));
        assert_eq!(r.skip_dir(&dir), Some(SkipReason::Region));
        r.regions.clear();
        assert_eq!(r.skip_dir(&dir), None, "walked, so that its digests are counted");
        r.since = Some(at("2024-03-05T00:00:00Z"));
        let day = FileMeta::from_path(Path::new(
            "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/03/01",
        ));
        assert_eq!(r.skip_dir(&day), Some(SkipReason::Time));
        r.enabled = false;
        assert_eq!(r.skip_dir(&day), None);
    }

    #[test]
    fn digests_always_skipped_and_unknown_never_pruned() {
        let d = FileMeta::from_path(Path::new(
            "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/03/01/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20240301T120500Z.json.gz",
        ));
        let mut r = rules();
        assert_eq!(r.skip(&d), Some(SkipReason::Digest));
        r.since = Some(at("2030-01-01T00:00:00Z"));
        r.accounts = vec!["1".into()];
        assert_eq!(r.skip(&FileMeta::from_path(Path::new("events.jsonl"))), None);
    }
}
