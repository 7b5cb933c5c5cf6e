//! Writing timeline rows: a coloured terminal table with a results summary, CSV, JSON lines, and
//! Timesketch's JSON lines and CSV.
//!
//! Every string from a record is attacker-controlled: in the table it is escaped for the
//! terminal ([`sanitize::terminal`]) before colour is added; in CSV it is escaped and guarded
//! against formulas (unless `--csv-raw`); JSON keeps it exact.

use super::zone::Zone;
use super::{Kind, Row, Tally};
use crate::audit::Severity;
use crate::output::color::{Style, paint};
use crate::output::{compact, sanitize};
use serde::Serialize;
use serde_json::value::RawValue;
use std::io::Write;

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TimelineFormat {
    /// One line per row, coloured by level, then a results summary.
    Table,
    /// CSV with a header.
    Csv,
    /// JSON lines: every column, the eventID and the file (`--raw`: the record).
    Jsonl,
    /// JSON lines for Timesketch: `message`, `datetime`, `timestamp`, `timestamp_desc` and
    /// the columns.
    Timesketch,
    /// The same as CSV, for Timesketch's CSV importer.
    TimesketchCsv,
}

/// How rows are written.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// The format.
    pub format: TimelineFormat,
    /// The zone times are written in.
    pub zone: Zone,
    /// CSV cells as they are.
    pub csv_raw: bool,
    /// JSON lines carry the whole record.
    pub raw: bool,
    /// The table may be coloured (colour is on and rows go to stdout, not a file).
    pub colour: bool,
}

/// Separator of multi-valued cells (rule titles and ids) in the table and CSV.
pub const JOIN: &str = " | ";

/// CSV columns.
pub const CSV_HEADER: [&str; 15] = [
    "time",
    "level",
    "rule_title",
    "rule_id",
    "kind",
    "count",
    "actor",
    "account",
    "region",
    "source_ip",
    "event_source",
    "event_name",
    "error_code",
    "detail",
    "event_id",
];

/// The extra last CSV column, the file.
pub const CSV_FILE: &str = "file";

/// Timesketch's own columns, before [`CSV_HEADER`]'s (less `time`).
pub const TIMESKETCH_HEADER: [&str; 4] = ["message", "datetime", "timestamp", "timestamp_desc"];

/// What Timesketch shows as the meaning of the time.
pub const TIMESKETCH_DESC: &str = "CloudTrail eventTime";

fn opt(s: Option<&String>) -> &str {
    s.map_or("", String::as_str)
}

/// The row's time in the zone, or its `eventTime` as written when that does not parse.
fn time_text(row: &Row, zone: Zone, iso: bool) -> String {
    match row.time {
        Some(ns) if iso => zone.iso(ns),
        Some(ns) => zone.display(ns),
        None => row.event_time.clone().unwrap_or_default(),
    }
}

fn kind_text(k: Kind) -> &'static str {
    match k {
        Kind::Detection => "detection",
        Kind::Window => "window",
        Kind::Notable => "notable",
    }
}

/// The Timesketch message: `[high] IAM user created: mallory created IAM user backdoor-1`.
fn message(row: &Row) -> String {
    let mut m = format!("[{}] {}: {}", row.level, row.titles.join(JOIN), row.actor);
    if !row.detail.is_empty() {
        m.push(' ');
        m.push_str(&row.detail);
    }
    m
}

#[derive(Serialize)]
struct JsonRow<'a> {
    time: String,
    level: Severity,
    kind: &'static str,
    titles: &'a [String],
    rules: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    count: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    window_start: Option<String>,
    actor: &'a str,
    account: Option<&'a str>,
    region: Option<&'a str>,
    source_ip: Option<&'a str>,
    event_source: Option<&'a str>,
    event_name: Option<&'a str>,
    error_code: Option<&'a str>,
    detail: &'a str,
    #[serde(rename = "eventID")]
    event_id: Option<&'a str>,
    file: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    record: Option<Box<RawValue>>,
}

#[derive(Serialize)]
struct TimesketchRow<'a> {
    message: String,
    datetime: String,
    timestamp: i64,
    timestamp_desc: &'static str,
    level: Severity,
    rule_title: String,
    rule_id: String,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    count: Option<usize>,
    actor: &'a str,
    account: &'a str,
    region: &'a str,
    source_ip: &'a str,
    event_source: &'a str,
    event_name: &'a str,
    error_code: &'a str,
    detail: &'a str,
    event_id: &'a str,
    file: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    record: Option<Box<RawValue>>,
}

fn record(row: &Row, raw: bool) -> Option<Box<RawValue>> {
    if !raw {
        return None;
    }
    row.raw.as_deref().and_then(|r| RawValue::from_string(compact(r).into_owned()).ok())
}

/// The cells of a CSV row after `time` (or Timesketch's columns).
fn cells(row: &Row) -> Vec<String> {
    vec![
        row.level.to_string(),
        row.titles.join(JOIN),
        row.rules.join(JOIN),
        kind_text(row.kind).to_string(),
        row.count.map_or(String::new(), |c| c.to_string()),
        row.actor.clone(),
        opt(row.account.as_ref()).to_string(),
        opt(row.region.as_ref()).to_string(),
        opt(row.source_ip.as_ref()).to_string(),
        opt(row.event_source.as_ref()).to_string(),
        opt(row.event_name.as_ref()).to_string(),
        opt(row.error_code.as_ref()).to_string(),
        row.detail.clone(),
        opt(row.event_id.as_ref()).to_string(),
        opt(row.file.as_ref()).to_string(),
    ]
}

/// The style of a level's rows in the table.
fn style(level: Severity) -> Option<Style> {
    match level {
        Severity::Critical | Severity::High => Some(Style::Red),
        Severity::Medium => Some(Style::Yellow),
        Severity::Low => Some(Style::Cyan),
        Severity::Info => None,
    }
}

fn painted(text: &str, level: Severity, colour: bool) -> String {
    if !colour {
        return text.to_string();
    }
    match (style(level), level) {
        (Some(s), Severity::Critical) => paint(&paint(text, s), Style::Bold),
        (Some(s), _) => paint(text, s),
        (None, _) => text.to_string(),
    }
}

/// Writes rows one at a time, in the order given.
pub struct Writer<'w> {
    opts: Options,
    out: Out<'w>,
    /// Rows Timesketch cannot take (no readable time), left out.
    pub untimed_skipped: u64,
}

enum Out<'w> {
    Plain(&'w mut dyn Write),
    Csv(Box<csv::Writer<&'w mut dyn Write>>),
}

impl<'w> Writer<'w> {
    /// A writer; the table and CSV headers are written now.
    pub fn new(opts: Options, out: &'w mut dyn Write) -> std::io::Result<Self> {
        let out = match opts.format {
            TimelineFormat::Table => {
                let head = [
                    "Time",
                    "Level",
                    "Rule",
                    "Actor",
                    "Account",
                    "Region",
                    "Source IP",
                    "Event",
                    "Error",
                    "Detail",
                ]
                .join(" · ");
                let head = if opts.colour { paint(&head, Style::Bold) } else { head };
                writeln!(out, "{head}")?;
                Out::Plain(out)
            }
            TimelineFormat::Jsonl | TimelineFormat::Timesketch => Out::Plain(out),
            TimelineFormat::Csv | TimelineFormat::TimesketchCsv => {
                let mut w = csv::Writer::from_writer(out);
                let mut header: Vec<&str> = Vec::new();
                if opts.format == TimelineFormat::TimesketchCsv {
                    header.extend(TIMESKETCH_HEADER);
                } else {
                    header.push("time");
                }
                header.extend(&CSV_HEADER[1..]);
                header.push(CSV_FILE);
                w.write_record(&header)?;
                Out::Csv(Box::new(w))
            }
        };
        Ok(Writer { opts, out, untimed_skipped: 0 })
    }

    /// Writes one row.
    pub fn row(&mut self, row: &Row) -> anyhow::Result<()> {
        let zone = self.opts.zone;
        match (&mut self.out, self.opts.format) {
            (Out::Plain(out), TimelineFormat::Table) => {
                let dash = |s: Option<&String>| -> String {
                    s.map_or_else(|| "-".to_string(), |s| sanitize::terminal(s).into_owned())
                };
                let source = row
                    .event_source
                    .as_deref()
                    .map(|s| s.strip_suffix(".amazonaws.com").unwrap_or(s));
                let event = match (source, row.event_name.as_deref()) {
                    (Some(s), Some(e)) => format!("{s}:{e}"),
                    (None, Some(e)) => e.to_string(),
                    (Some(s), None) => s.to_string(),
                    (None, None) => "-".to_string(),
                };
                let mut rule = row.titles.join(JOIN);
                if let Some(c) = row.count {
                    rule.push_str(&format!(" (×{c})"));
                }
                let line = [
                    sanitize::terminal(&time_text(row, zone, false)).into_owned(),
                    format!("{:<8}", row.level.as_str()),
                    sanitize::terminal(&rule).into_owned(),
                    sanitize::terminal(&row.actor).into_owned(),
                    dash(row.account.as_ref()),
                    dash(row.region.as_ref()),
                    dash(row.source_ip.as_ref()),
                    sanitize::terminal(&event).into_owned(),
                    dash(row.error_code.as_ref()),
                    if row.detail.is_empty() {
                        "-".to_string()
                    } else {
                        sanitize::terminal(&row.detail).into_owned()
                    },
                ]
                .join(" · ");
                writeln!(out, "{}", painted(&line, row.level, self.opts.colour))?;
            }
            (Out::Plain(out), TimelineFormat::Timesketch) => {
                let Some(ns) = row.time else {
                    self.untimed_skipped += 1;
                    return Ok(());
                };
                let j = TimesketchRow {
                    message: message(row),
                    datetime: zone.iso(ns),
                    timestamp: ns.div_euclid(1000),
                    timestamp_desc: TIMESKETCH_DESC,
                    level: row.level,
                    rule_title: row.titles.join(JOIN),
                    rule_id: row.rules.join(JOIN),
                    kind: kind_text(row.kind),
                    count: row.count,
                    actor: &row.actor,
                    account: opt(row.account.as_ref()),
                    region: opt(row.region.as_ref()),
                    source_ip: opt(row.source_ip.as_ref()),
                    event_source: opt(row.event_source.as_ref()),
                    event_name: opt(row.event_name.as_ref()),
                    error_code: opt(row.error_code.as_ref()),
                    detail: &row.detail,
                    event_id: opt(row.event_id.as_ref()),
                    file: opt(row.file.as_ref()),
                    record: record(row, self.opts.raw),
                };
                serde_json::to_writer(&mut **out, &j)?;
                out.write_all(b"\n")?;
            }
            (Out::Plain(out), _) => {
                let j = JsonRow {
                    time: time_text(row, zone, true),
                    level: row.level,
                    kind: kind_text(row.kind),
                    titles: &row.titles,
                    rules: &row.rules,
                    count: row.count,
                    window_start: row.window_start.map(|ns| zone.iso(ns)),
                    actor: &row.actor,
                    account: row.account.as_deref(),
                    region: row.region.as_deref(),
                    source_ip: row.source_ip.as_deref(),
                    event_source: row.event_source.as_deref(),
                    event_name: row.event_name.as_deref(),
                    error_code: row.error_code.as_deref(),
                    detail: &row.detail,
                    event_id: row.event_id.as_deref(),
                    file: row.file.as_deref(),
                    record: record(row, self.opts.raw),
                };
                serde_json::to_writer(&mut **out, &j)?;
                out.write_all(b"\n")?;
            }
            (Out::Csv(w), format) => {
                let mut cells_out: Vec<String> = Vec::with_capacity(19);
                if format == TimelineFormat::TimesketchCsv {
                    let Some(ns) = row.time else {
                        self.untimed_skipped += 1;
                        return Ok(());
                    };
                    cells_out.extend([
                        message(row),
                        zone.iso(ns),
                        ns.div_euclid(1000).to_string(),
                        TIMESKETCH_DESC.to_string(),
                    ]);
                } else {
                    cells_out.push(time_text(row, zone, true));
                }
                cells_out.extend(cells(row));
                let raw = self.opts.csv_raw;
                w.write_record(cells_out.iter().map(|c| {
                    if raw {
                        c.clone()
                    } else {
                        sanitize::csv_formula(&sanitize::csv_text(c)).into_owned()
                    }
                }))?;
            }
        }
        Ok(())
    }

    /// Flushes what is buffered.
    pub fn finish(self) -> std::io::Result<()> {
        match self.out {
            Out::Plain(out) => out.flush(),
            Out::Csv(mut w) => w.flush(),
        }
    }
}

/// What the results summary says besides the rows: how much was read and by how many rules.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    /// Records read.
    pub records: u64,
    /// Rules run.
    pub rules: usize,
    /// The zone.
    pub zone: Zone,
}

/// The results summary: rows per level, top rules, top actors, the first and last detection
/// and the busiest hour. Plain text, escaped for the terminal, levels coloured when `colour`
/// (and colour is on).
pub fn summary(t: &Tally, ctx: Context, out: &mut dyn Write, colour: bool) -> std::io::Result<()> {
    const TOP: usize = 10;
    let term = |s: &str| sanitize::terminal(s).into_owned();
    writeln!(out)?;
    let bold = |s: &str| if colour { paint(s, Style::Bold) } else { s.to_string() };
    writeln!(out, "{}", bold("Results summary"))?;
    let levels =
        [Severity::Critical, Severity::High, Severity::Medium, Severity::Low, Severity::Info];
    let per_level: Vec<String> = levels
        .iter()
        .map(|&l| painted(&format!("{l} {}", t.levels[super::level_index(l)]), l, colour))
        .collect();
    writeln!(
        out,
        "  {} rows: {} ({} rules run over {} records read)",
        t.total(),
        per_level.join(", "),
        ctx.rules,
        ctx.records
    )?;
    if t.total() == 0 {
        return Ok(());
    }
    writeln!(out, "  Top rules:")?;
    for (id, title, level, n) in t.top_rules(TOP) {
        let label =
            if id == title { term(title) } else { format!("{} ({})", term(title), term(id)) };
        writeln!(
            out,
            "    {n:>8}  {}  {label}",
            painted(&format!("{:<8}", level.as_str()), level, colour)
        )?;
    }
    writeln!(out, "  Top actors:")?;
    for (actor, n) in t.top_actors(TOP) {
        writeln!(out, "    {n:>8}  {}", term(actor))?;
    }
    let at = |row: &Option<Row>| {
        row.as_ref().map(|r| {
            format!(
                "{}  {}  {}",
                r.time.map(|ns| ctx.zone.display(ns)).unwrap_or_default(),
                term(&r.titles.join(JOIN)),
                term(&r.actor)
            )
        })
    };
    if let Some(first) = at(&t.first) {
        writeln!(out, "  First detection: {first}")?;
    }
    if let Some(last) = at(&t.last) {
        writeln!(out, "  Last detection:  {last}")?;
    }
    if let Some((hour, n)) = t.busiest_hour() {
        writeln!(out, "  Busiest hour:    {} ({n} rows)", ctx.zone.hour(hour))?;
    }
    if t.untimed > 0 {
        writeln!(out, "  Rows without a readable eventTime (listed last): {}", t.untimed)?;
    }
    Ok(())
}
