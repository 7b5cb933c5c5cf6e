//! One file's records to Arrow batches, one per partition, in the worker thread that read the
//! file.

use super::arrow::{Records, batch, string_text};
use super::parse::{Plan, Row, Span};
use crate::record::time::{parse_event_time, sort_key};
use arrow_array::RecordBatch;
use chrono::NaiveDate;
use rustc_hash::FxHashMap as HashMap;
use std::borrow::Cow;

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
fn component(v: Option<&str>) -> Option<Cow<'_, str>> {
    v.and_then(|v| string_text(v).ok().flatten()).filter(|s| {
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
    /// The rows' records' text, in bytes (twice with the `raw` column): what the writer's
    /// buffers count, the same however a file's rows are cut into parts.
    pub text_bytes: u64,
}

/// A record the file held that could not be read.
#[derive(Debug)]
pub struct Rejected {
    /// Its index in the file.
    pub index: u64,
    /// Why.
    pub error: String,
}

impl Part {
    /// About how many bytes its rows hold.
    #[must_use]
    pub fn bytes(&self) -> u64 {
        self.text_bytes + self.times.len() as u64 * 8
    }
}

/// Where the partition columns are among the table's columns.
#[derive(Debug)]
pub struct Splitter {
    plan: Plan,
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
        let plan = Plan::table();
        let pos = |k| plan.top(k).expect("the table has the partition source columns");
        Splitter {
            account: pos("recipientAccountId"),
            region: pos("awsRegion"),
            time: pos("eventTime"),
            plan,
            raw,
        }
    }

    /// Reads `records` (index in the file, text) and groups them into partitions.
    pub fn split<'a>(
        &self,
        records: impl Iterator<Item = (u64, &'a str)>,
    ) -> (Vec<Part>, Vec<Rejected>) {
        let mut rejected = Vec::new();
        // Keys borrowed from the records while grouping; owned once per partition.
        type Key<'k> = (Option<Cow<'k, str>>, Option<Cow<'k, str>>, Option<NaiveDate>);
        let mut groups: HashMap<Key<'a>, Vec<(i64, usize)>> = HashMap::default();
        let mut read = Records::default();
        let mut indices: Vec<u64> = Vec::new();
        let mut row = Row::default();
        for (index, text) in records {
            match self.plan.read(text, &mut row) {
                Ok(()) => {
                    let at = |s: Span| s.get(text);
                    let time = at(row.spans[self.time])
                        .and_then(|v| string_text(v).ok().flatten())
                        .and_then(|t: Cow<'_, str>| parse_event_time(t.as_ref()));
                    let key = (
                        component(at(row.spans[self.account])),
                        component(at(row.spans[self.region])),
                        time.map(|t| t.date_naive()),
                    );
                    let nanos = time.and_then(sort_key).unwrap_or(i64::MAX);
                    let r = read.push(text, &row);
                    groups.entry(key).or_default().push((nanos, r));
                    indices.push(index);
                }
                Err(error) => rejected.push(Rejected { index, error }),
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
            let order: Vec<usize> = members.iter().map(|m| m.1).collect();
            let text: u64 = order.iter().map(|&r| read.text(r).len() as u64).sum();
            match batch(&self.plan, &read, &order, self.raw) {
                Ok(batch) => parts.push(Part {
                    key,
                    batch,
                    times: members.iter().map(|m| m.0).collect(),
                    text_bytes: if self.raw { 2 * text } else { text },
                }),
                // Only a column of over 2 GiB fails; its records are named, not lost.
                Err(e) => rejected.extend(
                    order.iter().map(|&r| Rejected { index: indices[r], error: format!("{e:#}") }),
                ),
            }
        }
        parts.sort_by(|a, b| a.key.cmp(&b.key));
        rejected.sort_by_key(|r| r.index);
        (parts, rejected)
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
        let (parts, rejected) = s.split(recs.iter().enumerate().map(|(i, r)| (i as u64, *r)));
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
