//! One file's records to Arrow batches, one per partition, in the worker thread that read the
//! file.

use super::arrow::{Layout, batch, string_value};
use super::schema;
use crate::record::time::{parse_event_time, sort_key};
use anyhow::Result;
use arrow_array::RecordBatch;
use chrono::NaiveDate;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::collections::HashMap;

/// Hive's name for a partition whose value is missing: `account`, `region` or `dt` of a record
/// without a usable `recipientAccountId`, `awsRegion` or `eventTime`. Spark, Hive and DuckDB
/// read it as `NULL`; the row's own columns keep whatever the record held.
pub const DEFAULT_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

/// A partition: `account`, `region` and `dt` values, safe as path components.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PartitionKey {
    /// `recipientAccountId`.
    pub account: String,
    /// `awsRegion`.
    pub region: String,
    /// The UTC date of `eventTime`, `YYYY-MM-DD`.
    pub dt: String,
}

impl PartitionKey {
    /// The partition's folder, relative to the lake.
    #[must_use]
    pub fn dir(&self) -> String {
        format!("account={}/region={}/dt={}", self.account, self.region, self.dt)
    }
}

/// A partition value as a path component: letters, digits, `-` and `_` only (what account ids
/// and region names are), at most 64 of them. Anything else, an attacker's `../..` included,
/// goes to [`DEFAULT_PARTITION`].
fn component(v: Option<&RawValue>) -> Option<Cow<'_, str>> {
    v.and_then(|v| string_value(v).ok().flatten()).filter(|s| {
        !s.is_empty()
            && s.len() <= 64
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            && s != DEFAULT_PARTITION
    })
}

/// A partition value, or Hive's default.
fn value(v: Option<Cow<'_, str>>) -> String {
    v.map_or_else(|| DEFAULT_PARTITION.to_string(), Cow::into_owned)
}

/// One partition's rows of a file, sorted by `eventTime`.
#[derive(Debug)]
pub struct Part {
    /// Where the rows go.
    pub key: PartitionKey,
    /// The rows.
    pub batch: RecordBatch,
    /// Each row's `eventTime` as nanoseconds since the epoch (`i64::MAX` when it has none).
    pub times: Vec<i64>,
}

/// A record the file held that could not be read.
#[derive(Debug)]
pub struct Rejected {
    /// Its index in the file.
    pub index: u64,
    /// Why.
    pub error: String,
}

/// Where the partition columns are among the table's columns.
#[derive(Debug)]
pub struct Splitter {
    table: Layout,
    account: usize,
    region: usize,
    time: usize,
    raw: bool,
}

impl Splitter {
    /// A splitter for the lake's table, with the `raw` column or not.
    ///
    /// # Panics
    /// Never: the table has these columns (tested).
    #[must_use]
    pub fn new(raw: bool) -> Splitter {
        let table = Layout::new(schema::COLUMNS);
        let pos = |k| table.position(k).expect("the table has the partition source columns");
        Splitter {
            account: pos("recipientAccountId"),
            region: pos("awsRegion"),
            time: pos("eventTime"),
            table,
            raw,
        }
    }

    /// Parses `records` (index in the file, text) and groups them into partitions.
    ///
    /// # Errors
    /// Only when a batch cannot be built from text already parsed (which cannot happen).
    pub fn split<'a>(
        &self,
        records: impl Iterator<Item = (u64, &'a str)>,
    ) -> Result<(Vec<Part>, Vec<Rejected>)> {
        let mut rejected = Vec::new();
        // Keys borrowed from the records while grouping; owned once per partition.
        type Key<'k> = (Option<Cow<'k, str>>, Option<Cow<'k, str>>, Option<NaiveDate>);
        let mut groups: HashMap<Key<'a>, Vec<(i64, usize)>> = HashMap::new();
        // Every record's slots, one after another.
        let n = self.table.len();
        let mut flat: Vec<Option<&'a RawValue>> = Vec::new();
        let mut texts: Vec<&'a str> = Vec::new();
        for (index, text) in records {
            let start = flat.len();
            flat.resize(start + n, None);
            match self.table.fill(text, &mut flat[start..]) {
                Ok(()) => {
                    let slots = &flat[start..];
                    let time = slots[self.time]
                        .and_then(|v| string_value(v).ok().flatten())
                        .and_then(|t| parse_event_time(&t));
                    let key = (
                        component(slots[self.account]),
                        component(slots[self.region]),
                        time.map(|t| t.date_naive()),
                    );
                    let nanos = time.and_then(sort_key).unwrap_or(i64::MAX);
                    groups.entry(key).or_default().push((nanos, texts.len()));
                    texts.push(text);
                }
                Err(e) => {
                    flat.truncate(start);
                    rejected.push(Rejected { index, error: e.to_string() });
                }
            }
        }
        let mut parts = Vec::with_capacity(groups.len());
        for ((account, region, dt), mut members) in groups {
            let key = PartitionKey {
                account: value(account),
                region: value(region),
                dt: dt.map_or_else(
                    || DEFAULT_PARTITION.to_string(),
                    |d| d.format("%Y-%m-%d").to_string(),
                ),
            };
            members.sort_by_key(|m| m.0);
            let slots: Vec<&[Option<&RawValue>]> =
                members.iter().map(|&(_, i)| &flat[i * n..(i + 1) * n]).collect();
            let raws: Option<Vec<&str>> =
                self.raw.then(|| members.iter().map(|&(_, i)| texts[i]).collect());
            let batch = batch(&self.table, &slots, raws.as_deref())?;
            parts.push(Part { key, batch, times: members.iter().map(|m| m.0).collect() });
        }
        parts.sort_by(|a, b| a.key.cmp(&b.key));
        Ok((parts, rejected))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_and_order() {
        let s = Splitter::new(false);
        let recs = [
            r#"{"recipientAccountId":"111122223333","awsRegion":"us-east-1","eventTime":"2024-03-02T00:00:01Z"}"#,
            r#"{"recipientAccountId":"111122223333","awsRegion":"us-east-1","eventTime":"2024-03-01T23:59:59-01:00"}"#,
            r#"{"recipientAccountId":"../../x","awsRegion":"us-east-1","eventTime":"nope"}"#,
            r#"{"recipientAccountId":"111122223333","awsRegion":"us-east-1","eventTime":"2024-03-01T23:00:00Z"}"#,
            "not json",
        ];
        let (parts, rejected) =
            s.split(recs.iter().enumerate().map(|(i, r)| (i as u64, *r))).unwrap();
        assert_eq!(rejected.len(), 1);
        assert_eq!(rejected[0].index, 4);
        let dirs: Vec<String> = parts.iter().map(|p| p.key.dir()).collect();
        assert_eq!(
            dirs,
            [
                "account=111122223333/region=us-east-1/dt=2024-03-01",
                "account=111122223333/region=us-east-1/dt=2024-03-02",
                "account=__HIVE_DEFAULT_PARTITION__/region=us-east-1/dt=__HIVE_DEFAULT_PARTITION__",
            ]
        );
        // 23:59:59-01:00 is 00:59:59 UTC on the 2nd, after 00:00:01.
        assert_eq!(parts[0].batch.num_rows(), 1);
        assert_eq!(parts[1].batch.num_rows(), 2);
        assert!(parts[1].times[0] < parts[1].times[1]);
        assert_eq!(parts[2].times, [i64::MAX]);
    }
}
