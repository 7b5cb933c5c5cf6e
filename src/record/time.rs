//! Times: `eventTime` values as CloudTrail (and its exporters) write them, and the
//! `--since`/`--until` arguments.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};

/// Parses an `eventTime`: RFC 3339 (`2024-03-01T10:00:00Z`, with fractions or an offset), or the
/// same without a zone (read as UTC), with `T` or a space between date and time.
#[must_use]
pub fn parse_event_time(s: &str) -> Option<DateTime<Utc>> {
    if let Some(t) = parse_plain(s.as_bytes()) {
        return Some(t);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    let s = s.strip_suffix('Z').unwrap_or(s);
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(t.and_utc());
        }
    }
    None
}

/// The form CloudTrail writes, `2024-03-01T10:00:00Z`, read without a general parser (the
/// same answer as [`DateTime::parse_from_rfc3339`], tested); anything else gives `None`.
fn parse_plain(b: &[u8]) -> Option<DateTime<Utc>> {
    let [
        y0,
        y1,
        y2,
        y3,
        b'-',
        m0,
        m1,
        b'-',
        d0,
        d1,
        b'T',
        h0,
        h1,
        b':',
        n0,
        n1,
        b':',
        s0,
        s1,
        b'Z',
    ] = *b
    else {
        return None;
    };
    let num = |ds: &[u8]| {
        ds.iter()
            .try_fold(0u32, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0')))
    };
    let date = NaiveDate::from_ymd_opt(
        i32::try_from(num(&[y0, y1, y2, y3])?).ok()?,
        num(&[m0, m1])?,
        num(&[d0, d1])?,
    )?;
    // A leap second (`:60`) is left to chrono.
    Some(date.and_hms_opt(num(&[h0, h1])?, num(&[n0, n1])?, num(&[s0, s1])?)?.and_utc())
}

/// Nanoseconds since the epoch, the sort key of matches (`None` for times out of range).
#[must_use]
pub fn sort_key(t: DateTime<Utc>) -> Option<i64> {
    t.timestamp_nanos_opt()
}

/// Parses a `--since`/`--until` argument: RFC 3339, a date (`2024-03-01`, midnight UTC), a
/// date and minute (`2024-03-01T10:00`), or a time ago (`90s`, `90m`, `12h`, `7d`, `2w`).
pub fn parse_time_arg(s: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let s = s.trim();
    if let Some(t) = parse_event_time(s) {
        return Ok(t);
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M") {
        return Ok(t.and_utc());
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    if let Ok(n) = num.parse::<i64>() {
        let d = match unit {
            "s" => Duration::try_seconds(n),
            "m" | "min" => Duration::try_minutes(n),
            "h" => Duration::try_hours(n),
            "d" => Duration::try_days(n),
            "w" => Duration::try_weeks(n),
            _ => None,
        };
        if let Some(t) = d.and_then(|d| now.checked_sub_signed(d)) {
            return Ok(t);
        }
    }
    Err(format!(
        "invalid time {s:?}: expected RFC 3339 (2024-03-01T10:00:00Z), a date (2024-03-01) or an age (90m, 12h, 7d, 2w)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_times() {
        let t = parse_event_time("2024-03-01T10:00:00Z").unwrap();
        assert_eq!(parse_event_time("2024-03-01T10:00:00.000Z"), Some(t));
        assert_eq!(parse_event_time("2024-03-01 10:00:00.000000000"), Some(t));
        assert_eq!(parse_event_time("2024-03-01T12:00:00+02:00"), Some(t));
        assert_eq!(parse_event_time("2024-03-01T10:00:00"), Some(t));
        assert_eq!(parse_event_time("yesterday"), None);
    }

    proptest::proptest! {
        #[test]
        fn the_plain_form_reads_as_chrono_does(
            y in 0u32..10_000, m in 0u32..14, d in 0u32..33, h in 0u32..26, n in 0u32..62,
            sec in 0u32..62,
        ) {
            let s = format!("{y:04}-{m:02}-{d:02}T{h:02}:{n:02}:{sec:02}Z");
            let chrono = DateTime::parse_from_rfc3339(&s).ok().map(|t| t.with_timezone(&Utc));
            match parse_plain(s.as_bytes()) {
                Some(t) => proptest::prop_assert_eq!(Some(t), chrono),
                None => proptest::prop_assert!(chrono.is_none() || sec == 60, "{}", s),
            }
            proptest::prop_assert_eq!(parse_event_time(&s), chrono);
        }
    }

    #[test]
    fn time_args() {
        let now = parse_event_time("2024-03-08T00:00:00Z").unwrap();
        let day = parse_event_time("2024-03-01T00:00:00Z").unwrap();
        assert_eq!(parse_time_arg("7d", now), Ok(day));
        assert_eq!(parse_time_arg("1w", now), Ok(day));
        assert_eq!(parse_time_arg("168h", now), Ok(day));
        assert_eq!(parse_time_arg("2024-03-01", now), Ok(day));
        assert_eq!(parse_time_arg("2024-03-01T00:00", now), Ok(day));
        assert_eq!(parse_time_arg("90m", now).unwrap(), now - Duration::minutes(90));
        assert!(parse_time_arg("7y", now).unwrap_err().contains("invalid time"));
        assert!(parse_time_arg("", now).is_err());
    }
}
