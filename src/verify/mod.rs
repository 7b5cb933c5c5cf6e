//! `trailscan verify`: proving offline that an archive is what CloudTrail delivered, from its
//! digest files and CloudTrail's public keys (doc/verify.md).
//!
//! The door is [`run`]: it walks the paths with the project's [`Walker`](crate::source::Walker)
//! (digest files are what its prune rules set aside as [`SkipReason::Digest`](crate::source::SkipReason)),
//! reads every file through the project's [`Reader`](crate::source::Reader) byte for byte
//! ([`Reader::exact`](crate::source::Reader::exact)), hashes in parallel ([`hash`]), follows
//! the digest chains and checks signatures ([`check`]), and returns a [`Report`] of statuses
//! that [`report`] prints. Nothing is ever written to the archive.

pub mod check;
pub mod digest;
pub mod hash;
pub mod keys;
pub mod report;
pub mod signatures;

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeSet;
use std::path::PathBuf;

pub use check::run;

/// What to verify and with what.
#[derive(Debug, Default)]
pub struct Options {
    /// Files and folders (default: the current folder).
    pub paths: Vec<PathBuf>,
    /// CloudTrail public keys (`--public-keys`).
    pub keys: Vec<keys::PublicKey>,
    /// Whether any `--public-keys` was given.
    pub keys_given: bool,
    /// Signatures saved from S3 metadata (`--signatures`).
    pub signatures: Option<signatures::Signatures>,
    /// Only digests covering time at or after this, and log files delivered then.
    pub since: Option<DateTime<Utc>>,
    /// Only digests covering time before this, and log files delivered then.
    pub until: Option<DateTime<Utc>>,
    /// Only these accounts (empty: all).
    pub accounts: Vec<String>,
    /// Only these regions (empty: all).
    pub regions: Vec<String>,
    /// Worker threads for hashing.
    pub threads: usize,
    /// The decompressed-size cap per file.
    pub max_file_size: u64,
}

/// The verdict on one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Status {
    /// Checked and found to be what CloudTrail delivered.
    #[serde(rename = "valid")]
    Valid,
    /// A period no digest covers, where nothing was deleted (logging or validation was off).
    #[serde(rename = "gap")]
    Gap,
    /// Could not be proven either way; the reasons say why and what would prove it.
    #[serde(rename = "UNVERIFIED")]
    Unverified,
    /// Proven not to be what CloudTrail delivered (or missing, or moved).
    #[serde(rename = "INVALID")]
    Invalid,
}

impl Status {
    /// As printed.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Valid => "valid",
            Status::Gap => "gap",
            Status::Unverified => "UNVERIFIED",
            Status::Invalid => "INVALID",
        }
    }
}

/// What an item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A digest file.
    Digest,
    /// A log file.
    Log,
    /// A period without digests.
    Gap,
}

impl Kind {
    /// As printed.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Digest => "digest",
            Kind::Log => "log",
            Kind::Gap => "gap",
        }
    }
}

/// One reason an item is not valid (or, for a gap, what the gap is).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// What it makes the item: [`Status::Invalid`], [`Status::Unverified`] or [`Status::Gap`].
    pub status: Status,
    /// A stable name (doc/verify.md lists them): `hash-mismatch`, `not-found`, ...
    pub code: &'static str,
    /// In words, with the values compared and the command that would help.
    pub detail: String,
}

/// One digest, log file or gap, with its verdict.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    /// What it is.
    pub kind: Kind,
    /// The verdict: the worst of its reasons, `valid` without any.
    pub status: Status,
    /// The local file, or where it should be (its S3 key) when it is missing.
    pub path: String,
    /// Where CloudTrail delivered it, `s3://bucket/key`, when a digest says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3: Option<String>,
    /// The digest chain (`bucket/prefix/AWSLogs/.../CloudTrail-Digest/region trail`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chain: Option<String>,
    /// For digests and gaps: the start of the period.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// For digests and gaps: the end of the period.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    /// For log files: the digest that lists it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// For digests: the fingerprint of the key whose signature verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// For digests and log files: the SHA-256 of the content as read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Why it is not valid.
    pub reasons: Vec<Reason>,
    /// Sort order: chain, time, kind, path.
    #[serde(skip)]
    pub(crate) order: (String, i64, Kind, String),
}

impl Item {
    pub(crate) fn new(kind: Kind, path: String) -> Item {
        Item {
            kind,
            status: Status::Valid,
            path,
            s3: None,
            chain: None,
            start: None,
            end: None,
            digest: None,
            key: None,
            sha256: None,
            reasons: Vec::new(),
            order: (String::new(), i64::MAX, kind, String::new()),
        }
    }

    pub(crate) fn add(&mut self, status: Status, code: &'static str, detail: String) {
        self.status = self.status.max(status);
        self.reasons.push(Reason { status, code, detail });
    }
}

/// Counts per status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Valid.
    pub valid: u64,
    /// INVALID.
    #[serde(rename = "INVALID")]
    pub invalid: u64,
    /// UNVERIFIED.
    #[serde(rename = "UNVERIFIED")]
    pub unverified: u64,
}

impl Counts {
    fn add(&mut self, s: Status) {
        match s {
            Status::Valid => self.valid += 1,
            Status::Invalid => self.invalid += 1,
            Status::Unverified => self.unverified += 1,
            Status::Gap => {}
        }
    }
}

/// Everything a run found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Digest chains (per bucket, prefix, account, region, trail; backfill apart).
    pub chains: u64,
    /// Digests by status (missing ones included).
    pub digests: Counts,
    /// Log files by status.
    pub logs: Counts,
    /// Periods without digests.
    pub gaps: u64,
    /// Whether `--public-keys` was given.
    pub public_keys_given: bool,
    /// The keys (fingerprints) whose signatures verified.
    pub keys_used: BTreeSet<String>,
    /// Files found that are neither digests nor CloudTrail log files (not checked).
    pub other_files: u64,
    /// Files and folders left out by `--account` / `--region`.
    pub filtered_out: u64,
    /// Files and digests outside `--since` / `--until`.
    pub outside_window: u64,
    /// Problems that stopped a file from being examined at all (exit status 2).
    pub errors: Vec<String>,
}

/// The result of [`run`].
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Every item, ordered by chain and time.
    pub items: Vec<Item>,
    /// The counts.
    pub summary: Summary,
    /// Stopped (Ctrl-C) before every file was read: the report is incomplete.
    pub interrupted: bool,
}

impl Report {
    /// The worst status of any item.
    #[must_use]
    pub fn worst(&self) -> Status {
        self.items.iter().map(|i| i.status).max().unwrap_or(Status::Valid)
    }

    pub(crate) fn finish(&mut self) {
        self.items.sort_by(|a, b| a.order.cmp(&b.order));
        let s = &mut self.summary;
        for i in &self.items {
            match i.kind {
                Kind::Digest => s.digests.add(i.status),
                Kind::Log => s.logs.add(i.status),
                Kind::Gap => s.gaps += 1,
            }
        }
    }
}
