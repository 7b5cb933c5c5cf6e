//! The time zone the timeline is written in: UTC (the default), a named IANA zone (`--tz
//! Europe/Berlin`, with its daylight-saving rules) or the machine's local zone (`--local`).
//! Times are always written with their offset, so a row is never ambiguous.

use chrono::{DateTime, FixedOffset, Local, Timelike, Utc};

/// Where times are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    /// UTC.
    Utc,
    /// An IANA zone.
    Named(chrono_tz::Tz),
    /// The local zone of the machine (`TZ`, else `/etc/localtime`).
    Local,
}

impl Zone {
    /// `--tz NAME` / `--local`; `UTC` when neither. Names are IANA names (`Europe/Berlin`,
    /// `America/New_York`, `UTC`), matched case-insensitively.
    pub fn from_args(tz: Option<&str>, local: bool) -> anyhow::Result<Zone> {
        if local {
            return Ok(Zone::Local);
        }
        let Some(name) = tz else { return Ok(Zone::Utc) };
        if name.eq_ignore_ascii_case("utc") || name.eq_ignore_ascii_case("z") {
            return Ok(Zone::Utc);
        }
        name.parse::<chrono_tz::Tz>()
            .ok()
            .or_else(|| {
                chrono_tz::TZ_VARIANTS.iter().copied().find(|z| z.name().eq_ignore_ascii_case(name))
            })
            .map(Zone::Named)
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "--tz {name:?}: not an IANA time zone name (e.g. UTC, Europe/Berlin, America/New_York, Asia/Tokyo)"
                )
            })
    }

    /// The instant `ns` (nanoseconds since the epoch) in this zone.
    #[must_use]
    pub fn at(self, ns: i64) -> DateTime<FixedOffset> {
        let utc = DateTime::<Utc>::from_timestamp_nanos(ns);
        match self {
            Zone::Utc => utc.fixed_offset(),
            Zone::Named(tz) => utc.with_timezone(&tz).fixed_offset(),
            Zone::Local => utc.with_timezone(&Local).fixed_offset(),
        }
    }

    /// ISO 8601 with the offset: `2024-03-01T11:00:00+01:00` (fractions of a second only when
    /// the record has them).
    #[must_use]
    pub fn iso(self, ns: i64) -> String {
        self.at(ns).format("%Y-%m-%dT%H:%M:%S%.f%:z").to_string()
    }

    /// For the terminal: `2024-03-01 11:00:00 +01:00`.
    #[must_use]
    pub fn display(self, ns: i64) -> String {
        self.at(ns).format("%Y-%m-%d %H:%M:%S%.f %:z").to_string()
    }

    /// The start of the hour holding `ns`, in this zone (zones whose offset is not whole hours
    /// get their own hours), in nanoseconds.
    #[must_use]
    pub fn hour_start(self, ns: i64) -> i64 {
        let t = self.at(ns);
        let floor = t
            .with_minute(0)
            .and_then(|t| t.with_second(0))
            .and_then(|t| t.with_nanosecond(0))
            .unwrap_or(t);
        floor.timestamp_nanos_opt().unwrap_or(ns)
    }

    /// An hour for the summary: `2024-03-01 11:00 +01:00`.
    #[must_use]
    pub fn hour(self, ns: i64) -> String {
        self.at(ns).format("%Y-%m-%d %H:00 %:z").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_709_287_200_000_000_000; // 2024-03-01T10:00:00Z
    const SUMMER: i64 = 1_719_828_000_000_000_000; // 2024-07-01T10:00:00Z

    #[test]
    fn utc_named_zones_and_daylight_saving() {
        let utc = Zone::from_args(None, false).unwrap();
        assert_eq!(utc.iso(T), "2024-03-01T10:00:00+00:00");
        assert_eq!(utc.display(T + 250_000_000), "2024-03-01 10:00:00.250 +00:00");
        let berlin = Zone::from_args(Some("europe/berlin"), false).unwrap();
        assert_eq!(berlin.iso(T), "2024-03-01T11:00:00+01:00");
        assert_eq!(berlin.iso(SUMMER), "2024-07-01T12:00:00+02:00");
        let kolkata = Zone::from_args(Some("Asia/Kolkata"), false).unwrap();
        assert_eq!(kolkata.iso(T), "2024-03-01T15:30:00+05:30");
        assert_eq!(kolkata.hour(T), "2024-03-01 15:00 +05:30");
        assert_eq!(kolkata.hour_start(T), T - 30 * 60 * 1_000_000_000);
        assert_eq!(utc.hour_start(T + 59 * 60 * 1_000_000_000), T);
        assert_eq!(Zone::from_args(Some("UTC"), false).unwrap(), Zone::Utc);
        assert_eq!(Zone::from_args(Some("Etc/UTC"), true).unwrap(), Zone::Local);
        let err = Zone::from_args(Some("Mars/Olympus"), false).unwrap_err().to_string();
        assert!(err.contains("Mars/Olympus") && err.contains("IANA"), "{err}");
    }
}
