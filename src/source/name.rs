//! What a CloudTrail object key says about the file before it is opened.
//!
//! CloudTrail writes `AWSLogs/[o-org/]<account>/<kind>/<region>/YYYY/MM/DD/<name>` where kind is
//! `CloudTrail`, `CloudTrail-Digest` or `CloudTrail-Insight`, and the file name is
//! `<account>_CloudTrail[-Digest|-Insight]_<region>_<YYYYMMDDTHHMMZ>_<id>.json.gz` (digests carry
//! the trail name before the stamp). Either half is enough to learn something; neither is
//! required: files outside the layout simply have no metadata and are never pruned.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use std::path::Path;

/// Which CloudTrail product wrote the file, as far as its path tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// Event records (`CloudTrail/`).
    Records,
    /// Digest files (`CloudTrail-Digest/`): integrity metadata, never events.
    Digest,
    /// CloudTrail Insights events (`CloudTrail-Insight/`): read as records.
    Insight,
    /// Not in the CloudTrail layout.
    Unknown,
}

/// Facts about a file learnt from its path alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMeta {
    /// The account the trail logged (12 digits), from the folder or the file name.
    pub account: Option<String>,
    /// The region, from the folder or the file name.
    pub region: Option<String>,
    /// The delivery days the `YYYY[/MM[/DD]]` folders allow: `[start, end)`.
    pub delivery_span: Option<(NaiveDate, NaiveDate)>,
    /// The delivery stamp in the file name (minute precision).
    pub delivery_time: Option<DateTime<Utc>>,
    /// The kind of file.
    pub kind: FileKind,
}

impl FileMeta {
    /// Reads what it can from `path`.
    #[must_use]
    pub fn from_path(path: &Path) -> FileMeta {
        let mut meta = FileMeta {
            account: None,
            region: None,
            delivery_span: None,
            delivery_time: None,
            kind: FileKind::Unknown,
        };
        // Split as text where the path is text (a walk parses one path per file; taking it
        // apart into `Components` was a fifth of a walk's time), keeping only what follows the
        // last `AWSLogs`, without allocating.
        let after = match path.to_str() {
            Some(text) => after_awslogs(
                text.split(['/', std::path::MAIN_SEPARATOR]).filter(|c| !c.is_empty() && *c != "."),
            ),
            None => after_awslogs(path.iter().map(|c| c.to_str().unwrap_or(""))),
        };
        if let Some((kept, n)) = &after {
            let mut rest = &kept[..(*n).min(KEPT)];
            if rest.first().is_some_and(|c| c.starts_with("o-")) {
                rest = &rest[1..];
            }
            if let [account, kind, region, tail @ ..] = rest
                && let Some(k) = kind_of(kind).filter(|_| is_account(account))
            {
                meta.kind = k;
                meta.account = Some((*account).to_string());
                if is_region(region) {
                    meta.region = Some((*region).to_string());
                    meta.delivery_span = folder_span(tail);
                }
            } else if let [account, kind @ ..] = rest
                && kind.len() <= 1
                && is_account(account)
            {
                // The account's folder (`AWSLogs/[o-.../]<account>`) or its `CloudTrail` or
                // `CloudTrail-Digest` folder: AWS delivers there that account's logs only, so
                // `--account` prunes the whole folder, digests and all, unopened.
                meta.account = Some((*account).to_string());
                if let Some(k) = kind.first().and_then(|k| kind_of(k)) {
                    meta.kind = k;
                }
            }
        }
        if let Some(name) = path.file_name().and_then(|n| n.to_str()) {
            parse_file_name(name, &mut meta);
        }
        meta
    }
}

/// Components kept after `AWSLogs`: `[o-org/]<account>/<kind>/<region>/YYYY/MM/DD/<file>`.
const KEPT: usize = 8;

/// The first [`KEPT`] components after the last `AWSLogs` one, and how many there are in all.
fn after_awslogs<'a>(comps: impl Iterator<Item = &'a str>) -> Option<([&'a str; KEPT], usize)> {
    let mut found: Option<([&str; KEPT], usize)> = None;
    for c in comps {
        if c == "AWSLogs" {
            found = Some(([""; KEPT], 0));
        } else if let Some((kept, n)) = &mut found {
            if let Some(slot) = kept.get_mut(*n) {
                *slot = c;
            }
            *n += 1;
        }
    }
    found
}

fn kind_of(s: &str) -> Option<FileKind> {
    match s {
        "CloudTrail" => Some(FileKind::Records),
        "CloudTrail-Digest" => Some(FileKind::Digest),
        "CloudTrail-Insight" => Some(FileKind::Insight),
        _ => None,
    }
}

fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_region(s: &str) -> bool {
    s.contains('-')
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && s.bytes().last().is_some_and(|b| b.is_ascii_digit())
}

fn number(s: &str, len: usize) -> Option<u32> {
    (s.len() == len && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok()).flatten()
}

/// The span of delivery days that `YYYY`, `YYYY/MM` or `YYYY/MM/DD` folders cover.
fn folder_span(tail: &[&str]) -> Option<(NaiveDate, NaiveDate)> {
    let year = i32::try_from(number(tail.first()?, 4)?).ok()?;
    let Some(month) = tail.get(1).and_then(|m| number(m, 2)) else {
        return Some((
            NaiveDate::from_ymd_opt(year, 1, 1)?,
            NaiveDate::from_ymd_opt(year + 1, 1, 1)?,
        ));
    };
    let first = NaiveDate::from_ymd_opt(year, month, 1)?;
    let Some(day) = tail.get(2).and_then(|d| number(d, 2)) else {
        return Some((first, first.checked_add_months(chrono::Months::new(1))?));
    };
    let day = NaiveDate::from_ymd_opt(year, month, day)?;
    Some((day, day.succ_opt()?))
}

/// `<account>_CloudTrail_<region>_<stamp>_<id>.json[.gz]`,
/// `<account>_CloudTrail-Insight_<region>_<stamp>_<id>.json[.gz]`,
/// `<account>_CloudTrail-Digest_<region>_<trail>_<trail-region>_<stamp>.json[.gz]`.
fn parse_file_name(name: &str, meta: &mut FileMeta) {
    let mut it = name.split('_');
    let (Some(p0), Some(p1), Some(p2), Some(p3)) = (it.next(), it.next(), it.next(), it.next())
    else {
        return;
    };
    let last = it.next_back().unwrap_or(p3);
    let parts = [p0, p1, p2, p3];
    if !is_account(parts[0]) {
        return;
    }
    let Some(kind) = kind_of(parts[1]) else { return };
    if meta.kind == FileKind::Unknown {
        meta.kind = kind;
    }
    if meta.account.is_none() {
        meta.account = Some(parts[0].to_string());
    }
    if meta.region.is_none() {
        meta.region = Some(parts[2].to_string());
    }
    let stamp = if kind == FileKind::Digest {
        Some(last.split('.').next().unwrap_or(last))
    } else {
        Some(parts[3])
    };
    if let Some(t) = stamp.and_then(parse_stamp) {
        meta.delivery_time = Some(t);
        if meta.delivery_span.is_none() {
            let day = t.date_naive();
            meta.delivery_span = day.succ_opt().map(|next| (day, next));
        }
    }
}

/// `YYYYMMDDTHHMMZ` or `YYYYMMDDTHHMMSSZ` (read by hand: a walk parses one per file, and
/// chrono's format parser was a tenth of a walk's time).
fn parse_stamp(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    let seconds = match b.len() {
        14 => false,
        16 => true,
        _ => return None,
    };
    if b[8] != b'T' || b[b.len() - 1] != b'Z' {
        return None;
    }
    let num = |at: usize, len: usize| number(s.get(at..at + len)?, len);
    let date = NaiveDate::from_ymd_opt(i32::try_from(num(0, 4)?).ok()?, num(4, 2)?, num(6, 2)?)?;
    let (hour, minute) = (num(9, 2)?, num(11, 2)?);
    let naive = match if seconds { num(13, 2)? } else { 0 } {
        // A leap second, as chrono reads one.
        60 => date.and_hms_nano_opt(hour, minute, 59, 1_000_000_000)?,
        sec => date.and_hms_opt(hour, minute, sec)?,
    };
    Some(Utc.from_utc_datetime(&naive))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDateTime;

    /// The reading before the allocation-free one: components collected whole.
    fn reference(path: &Path) -> FileMeta {
        let mut meta = FileMeta {
            account: None,
            region: None,
            delivery_span: None,
            delivery_time: None,
            kind: FileKind::Unknown,
        };
        let comps: Vec<&str> = path
            .iter()
            .map(|c| c.to_str().unwrap_or(""))
            .filter(|c| *c != "/" && *c != ".")
            .collect();
        if let Some(pos) = comps.iter().rposition(|c| *c == "AWSLogs") {
            let mut rest = &comps[pos + 1..];
            if rest.first().is_some_and(|c| c.starts_with("o-")) {
                rest = &rest[1..];
            }
            if let [account, kind, region, tail @ ..] = rest
                && let Some(k) = kind_of(kind).filter(|_| is_account(account))
            {
                meta.kind = k;
                meta.account = Some((*account).to_string());
                if is_region(region) {
                    meta.region = Some((*region).to_string());
                    meta.delivery_span = folder_span(tail);
                }
            } else if let [account, kind @ ..] = rest
                && kind.len() <= 1
                && is_account(account)
            {
                meta.account = Some((*account).to_string());
                if let Some(k) = kind.first().and_then(|k| kind_of(k)) {
                    meta.kind = k;
                }
            }
        }
        if let Some(name) = path.file_name().and_then(|n| n.to_str()) {
            let parts: Vec<&str> = name.split('_').collect();
            if parts.len() >= 4 && is_account(parts[0]) && kind_of(parts[1]).is_some() {
                let kind = kind_of(parts[1]).unwrap();
                if meta.kind == FileKind::Unknown {
                    meta.kind = kind;
                }
                meta.account.get_or_insert_with(|| parts[0].to_string());
                meta.region.get_or_insert_with(|| parts[2].to_string());
                let stamp = if kind == FileKind::Digest {
                    parts.last().map(|s| s.split('.').next().unwrap_or(s))
                } else {
                    parts.get(3).copied()
                };
                if let Some(t) = stamp.and_then(parse_stamp) {
                    meta.delivery_time = Some(t);
                    if meta.delivery_span.is_none() {
                        let day = t.date_naive();
                        meta.delivery_span = day.succ_opt().map(|next| (day, next));
                    }
                }
            }
        }
        meta
    }

    #[test]
    fn paths_read_as_components_read_them() {
        let file = "111122223333_CloudTrail_us-east-1_20240301T1205Z_abcdEFGH12345678.json.gz";
        let digest =
            "111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20240301T120500Z.json.gz";
        let mut paths = vec![
            format!("AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/01/{file}"),
            format!("/abs/AWSLogs/o-abc/111122223333/CloudTrail/us-east-1/2024/03/01/{file}"),
            format!("./x//AWSLogs/./111122223333/CloudTrail/us-east-1/2024/03/{file}"),
            format!("AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/03/01/{digest}"),
            format!("AWSLogs/AWSLogs/111122223333/CloudTrail/eu-west-1/2024/{file}"),
            format!("AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/01/a/b/c/d/e/f/{file}"),
            format!("AWSLogs/o-abc/111122223333/CloudTrail/us-east-1/2024/03/01/a/b/c/{file}"),
            format!("xAWSLogs/111122223333/CloudTrail/us-east-1/2024/03/01/{file}"),
            format!("AWSLogsx/111122223333/CloudTrail/us-east-1/{file}"),
            format!("some/where/{file}"),
            "AWSLogs/111122223333".into(),
            "AWSLogs/o-abc/111122223333/CloudTrail".into(),
            "AWSLogs/o-abc/111122223333/CloudTrail/x/y".into(),
            "AWSLogs/o-abc".into(),
            "AWSLogs".into(),
            "AWSLogs/111122223333/other/x.json".into(),
            "AWSLogs/1111/CloudTrail/us-east-1".into(),
            "events.jsonl".into(),
            "a_b_c".into(),
            "111122223333_CloudTrail_us-east-1".into(),
        ];
        paths.extend(paths.clone().into_iter().map(|p| format!("{p}/")));
        for p in &paths {
            let p = Path::new(p);
            assert_eq!(FileMeta::from_path(p), reference(p), "{}", p.display());
        }
    }

    #[test]
    fn stamps_parse_as_chrono_reads_them() {
        for (s, fmt) in [
            ("20240301T1205Z", "%Y%m%dT%H%MZ"),
            ("20240229T2359Z", "%Y%m%dT%H%MZ"),
            ("20240301T120559Z", "%Y%m%dT%H%M%SZ"),
            ("20230229T1205Z", "%Y%m%dT%H%MZ"),
            ("20240301T2460Z", "%Y%m%dT%H%MZ"),
            ("20240301X1205Z", "%Y%m%dT%H%MZ"),
            ("2024030lT1205Z", "%Y%m%dT%H%MZ"),
            ("20240301T120560Z", "%Y%m%dT%H%M%SZ"),
            ("+2024301T1205Z", "%Y%m%dT%H%MZ"),
            ("20240301T1205", "%Y%m%dT%H%MZ"),
        ] {
            let chrono = NaiveDateTime::parse_from_str(s, fmt)
                .ok()
                .filter(|_| s.len() == 14 || s.len() == 16)
                .map(|n| Utc.from_utc_datetime(&n));
            assert_eq!(parse_stamp(s), chrono, "{s}");
        }
    }

    #[test]
    fn full_layout() {
        let m = FileMeta::from_path(Path::new(
            "x/AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/01/111122223333_CloudTrail_us-east-1_20240301T1205Z_abcdEFGH12345678.json.gz",
        ));
        assert_eq!(m.kind, FileKind::Records);
        assert_eq!(m.account.as_deref(), Some("111122223333"));
        assert_eq!(m.region.as_deref(), Some("us-east-1"));
        let day = NaiveDate::from_ymd_opt(2024, 3, 1).unwrap();
        assert_eq!(m.delivery_span, Some((day, NaiveDate::from_ymd_opt(2024, 3, 2).unwrap())));
        assert_eq!(m.delivery_time.unwrap().to_rfc3339(), "2024-03-01T12:05:00+00:00");
    }

    #[test]
    fn organization_trail_and_digest() {
        let m = FileMeta::from_path(Path::new(
            "AWSLogs/o-abc123/444455556666/CloudTrail-Digest/eu-west-1/2023/10/15/444455556666_CloudTrail-Digest_eu-west-1_trail_us-west-2_20231015T230404Z.json.gz",
        ));
        assert_eq!(m.kind, FileKind::Digest);
        assert_eq!(m.account.as_deref(), Some("444455556666"));
        assert_eq!(m.region.as_deref(), Some("eu-west-1"));
        assert_eq!(m.delivery_time.unwrap().to_rfc3339(), "2023-10-15T23:04:04+00:00");
    }

    #[test]
    fn bare_file_name_and_directories() {
        let m = FileMeta::from_path(Path::new(
            "218007301253_CloudTrail_us-east-1_20230710T1220Z_WMiHxZgr5Hdd6UDc.json",
        ));
        assert_eq!(m.kind, FileKind::Records);
        assert_eq!(m.region.as_deref(), Some("us-east-1"));
        let d = FileMeta::from_path(Path::new("AWSLogs/111122223333/CloudTrail/us-east-1/2024/03"));
        assert_eq!(d.region.as_deref(), Some("us-east-1"));
        let march = NaiveDate::from_ymd_opt(2024, 3, 1).unwrap();
        assert_eq!(d.delivery_span, Some((march, NaiveDate::from_ymd_opt(2024, 4, 1).unwrap())));
        let r = FileMeta::from_path(Path::new("AWSLogs/111122223333/CloudTrail/us-east-1"));
        assert_eq!(r.region.as_deref(), Some("us-east-1"));
        assert_eq!(r.delivery_span, None);
        let n = FileMeta::from_path(Path::new("logs/events.jsonl"));
        assert_eq!(n.kind, FileKind::Unknown);
        assert_eq!(n.account, None);
    }
}
