//! Printing a [`Report`]: plain text for terminals, JSON and CSV tables (the HTML page is the
//! interactive report, `src/report/`). Every data string goes through [`sanitize::terminal`]
//! (text) or the CSV sanitiser (CSV, unless raw); [`html_escape`] is kept for `trace`'s page.

use super::{Report, TopTable};
use crate::output::color::{self, Style};
use crate::output::sanitize;
use std::borrow::Cow;
use std::io::{self, Write};

/// Output formats of `summary`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SummaryFormat {
    /// Plain text for terminals.
    Text,
    /// One JSON document (doc/summary-schema.md).
    Json,
    /// CSV: one table per section, or the `--section` chosen.
    Csv,
    /// One self-contained HTML page.
    Html,
}

/// The CSV tables, by `--section` name.
pub const SECTIONS: [&str; 12] = [
    "overview",
    "notable",
    "event_sources",
    "event_names",
    "actors",
    "source_ips",
    "user_agents",
    "error_codes",
    "accounts",
    "regions",
    "groups",
    "timeline",
];

/// What the text view shows.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextOptions {
    /// Print the timeline bar chart.
    pub timeline: bool,
    /// Groups shown (0: all); JSON and CSV list every group.
    pub top: usize,
}

fn t(s: &str) -> Cow<'_, str> {
    sanitize::terminal(s)
}

/// `2024-03-01T10:00:00Z` → `2024-03-01 10:00:00Z`.
#[must_use]
pub fn display_time(s: &str) -> String {
    s.replacen('T', " ", 1)
}

fn opt_time(s: Option<&String>) -> String {
    s.map_or_else(|| "-".to_string(), |x| display_time(x))
}

const BAR_WIDTH: usize = 50;
const GLYPHS: [char; 6] = ['█', '▓', '▒', '░', '#', '='];

/// Writes the text report.
pub fn text(r: &Report, opts: TextOptions, out: &mut dyn Write) -> io::Result<()> {
    let o = &r.overview;
    writeln!(
        out,
        "Summary: {} records in {} files ({} files read, {} failed)",
        o.records, o.files_with_records, o.files_read, o.files_failed
    )?;
    match (&o.first_seen, &o.last_seen) {
        (Some(f), Some(l)) => {
            writeln!(out, "Time span: {} to {}", display_time(f), display_time(l))?;
        }
        _ => writeln!(out, "Time span: -")?,
    }
    if o.undated_records > 0 {
        writeln!(out, "Records without a readable eventTime: {}", o.undated_records)?;
    }
    let list = |v: &[String]| v.iter().map(|s| t(s).into_owned()).collect::<Vec<_>>().join(", ");
    writeln!(out, "Accounts ({}): {}", o.accounts.len(), list(&o.accounts))?;
    writeln!(out, "Regions ({}): {}", o.regions.len(), list(&o.regions))?;

    let n = &r.notable;
    writeln!(out)?;
    write!(out, "Notable actions ({}", n.total)?;
    if n.failed > 0 {
        write!(out, ", {} failed", n.failed)?;
    }
    if n.dropped > 0 {
        write!(out, ", {} not kept", n.dropped)?;
    }
    writeln!(out, ")")?;
    if n.actions.is_empty() {
        writeln!(out, "  none")?;
    }
    for a in &n.actions {
        let line = t(&a.description);
        let line = if a.error_code.is_some() {
            color::paint(&line, Style::Red)
        } else {
            line.into_owned()
        };
        writeln!(out, "  {}  {line}", opt_time(a.time.as_ref()))?;
    }

    for table in &r.top {
        writeln!(out)?;
        top_table(table, out)?;
    }
    if let Some(g) = &r.groups {
        writeln!(out)?;
        writeln!(out, "By {} ({} groups)", t(&g.by.join(", ")), g.total)?;
        let limit = if opts.top == 0 { usize::MAX } else { opts.top };
        let mut rows = vec![vec![
            "count".to_string(),
            "events".to_string(),
            "actors".to_string(),
            "IPs".to_string(),
            "accounts".to_string(),
            "regions".to_string(),
            "first seen".to_string(),
            "last seen".to_string(),
        ]];
        rows[0].extend(g.by.iter().map(|b| t(b).into_owned()));
        for row in g.rows.iter().take(limit) {
            let mut cells = vec![row.count.to_string()];
            for k in ["event_names", "actors", "source_ips", "accounts", "regions"] {
                cells.push(row.distinct.get(k).copied().unwrap_or(0).to_string());
            }
            cells.push(opt_time(row.first_seen.as_ref()));
            cells.push(opt_time(row.last_seen.as_ref()));
            cells.extend(row.key.iter().map(|k| t(k).into_owned()));
            rows.push(cells);
        }
        columns(&rows, 6, out)?;
        if g.total > limit {
            writeln!(out, "  … {} more groups (see --format json or csv)", g.total - limit)?;
        }
    }
    if opts.timeline {
        writeln!(out)?;
        timeline_text(r, out)?;
    }
    Ok(())
}

/// Aligned columns; the first `right` columns are right-aligned.
fn columns(rows: &[Vec<String>], right: usize, out: &mut dyn Write) -> io::Result<()> {
    let n = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut width = vec![0; n];
    for row in rows {
        for (i, c) in row.iter().enumerate() {
            width[i] = width[i].max(c.chars().count());
        }
    }
    for row in rows {
        let mut line = String::from(" ");
        for (i, c) in row.iter().enumerate() {
            let pad = width[i] - c.chars().count();
            line.push(' ');
            if i < right {
                line.push_str(&" ".repeat(pad));
                line.push_str(c);
            } else if i + 1 == row.len() {
                line.push_str(c);
            } else {
                line.push_str(c);
                line.push_str(&" ".repeat(pad));
            }
            line.push(' ');
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

fn top_table(table: &TopTable, out: &mut dyn Write) -> io::Result<()> {
    let title = table.title;
    if table.rows.len() < table.distinct {
        writeln!(out, "Top {} {title} (of {} distinct)", table.rows.len(), table.distinct)?;
    } else {
        writeln!(
            out,
            "{}{} ({} distinct)",
            title[..1].to_uppercase(),
            &title[1..],
            table.distinct
        )?;
    }
    if table.rows.is_empty() {
        return writeln!(out, "  none");
    }
    let mut rows = vec![vec![
        "count".to_string(),
        "first seen".to_string(),
        "last seen".to_string(),
        table.field.to_string(),
    ]];
    for row in &table.rows {
        rows.push(vec![
            row.count.to_string(),
            opt_time(row.first_seen.as_ref()),
            opt_time(row.last_seen.as_ref()),
            t(&row.value).into_owned(),
        ]);
    }
    columns(&rows, 1, out)
}

fn timeline_text(r: &Report, out: &mut dyn Write) -> io::Result<()> {
    let tl = &r.timeline;
    let unit = match tl.bucket {
        super::Bucket::Hour => "hour",
        super::Bucket::Day => "day",
    };
    write!(out, "Activity per {unit}")?;
    if let Some(by) = &tl.by {
        write!(out, " by {}", t(by))?;
    }
    writeln!(out, " (empty {unit}s skipped)")?;
    if tl.by.is_some() && !tl.series.is_empty() {
        let legend: Vec<String> = tl
            .series
            .iter()
            .enumerate()
            .map(|(i, s)| format!("{} {}", GLYPHS[i % GLYPHS.len()], t(s)))
            .collect();
        writeln!(out, "  {}", legend.join("  "))?;
    }
    let max = tl.buckets.iter().map(|b| b.count).max().unwrap_or(0).max(1);
    let step = match tl.bucket {
        super::Bucket::Hour => 3600,
        super::Bucket::Day => 86_400,
    };
    let mut prev: Option<i64> = None;
    for b in &tl.buckets {
        let start = chrono::DateTime::parse_from_rfc3339(&b.start).map_or(0, |d| d.timestamp());
        if let Some(p) = prev {
            let gap = (start - p) / step - 1;
            if gap > 0 {
                writeln!(
                    out,
                    "  {:>16}  ⋮ {gap} empty {unit}{}",
                    "",
                    if gap == 1 { "" } else { "s" }
                )?;
            }
        }
        prev = Some(start);
        let label = match tl.bucket {
            super::Bucket::Hour => display_time(&b.start)[..16].to_string(),
            super::Bucket::Day => b.start[..10].to_string(),
        };
        let mut bar = String::new();
        if b.series.is_empty() {
            bar = "█".repeat(scale(b.count, max));
        } else {
            // Stacked: each series gets its share of the bar's width.
            let total = scale(b.count, max);
            let mut used = 0usize;
            let mut acc = 0u64;
            for (i, n) in b.series.iter().enumerate() {
                acc += n;
                let upto = scale_share(acc, b.count, total);
                bar.extend(std::iter::repeat_n(GLYPHS[i % GLYPHS.len()], upto - used));
                used = upto;
            }
        }
        writeln!(out, "  {label:>16}  {:>7} {bar}", b.count)?;
    }
    if tl.buckets.is_empty() {
        writeln!(out, "  none")?;
    }
    Ok(())
}

/// A count's bar length: at least 1 for a non-empty bucket.
fn scale(n: u64, max: u64) -> usize {
    if n == 0 {
        return 0;
    }
    usize::try_from((n * BAR_WIDTH as u64).div_ceil(max)).unwrap_or(BAR_WIDTH).max(1)
}

fn scale_share(part: u64, whole: u64, width: usize) -> usize {
    if whole == 0 {
        return 0;
    }
    usize::try_from((part * width as u64 + whole / 2) / whole).unwrap_or(width).min(width)
}

/// Writes the JSON document.
pub fn json(r: &Report, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &json_value(r)).map_err(io::Error::other)?;
    writeln!(out)
}

/// The JSON document as a value: `top` keyed by table name.
#[must_use]
pub fn json_value(r: &Report) -> serde_json::Value {
    let mut v = serde_json::to_value(r).unwrap_or_default();
    let top: serde_json::Map<String, serde_json::Value> = r
        .top
        .iter()
        .map(|t| {
            let mut tv = serde_json::to_value(t).unwrap_or_default();
            if let Some(o) = tv.as_object_mut() {
                o.remove("name");
            }
            (t.name.to_string(), tv)
        })
        .collect();
    v["top"] = serde_json::Value::Object(top);
    v
}

/// Writes CSV: every section (each after a `# name` line, tables separated by a blank line),
/// or only `section` as one plain CSV table.
pub fn csv(r: &Report, section: Option<&str>, raw: bool, out: &mut dyn Write) -> io::Result<()> {
    let cell = |s: &str| -> String {
        if raw { s.to_string() } else { sanitize::csv_formula(&sanitize::csv_text(s)).into_owned() }
    };
    let mut first = true;
    for name in SECTIONS {
        if section.is_some_and(|s| s != name) {
            continue;
        }
        let Some(rows) = csv_rows(r, name) else { continue };
        if section.is_none() {
            if !first {
                writeln!(out)?;
            }
            writeln!(out, "# {name}")?;
        }
        first = false;
        let mut w = csv::Writer::from_writer(&mut *out);
        for row in rows {
            w.write_record(row.iter().map(|c| cell(c))).map_err(csv_io)?;
        }
        w.flush()?;
    }
    Ok(())
}

/// The I/O error inside a CSV error (so a closed pipe stays a closed pipe).
fn csv_io(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}

fn s(o: Option<&String>) -> String {
    o.cloned().unwrap_or_default()
}

fn csv_rows(r: &Report, name: &str) -> Option<Vec<Vec<String>>> {
    let mut rows: Vec<Vec<String>> = Vec::new();
    match name {
        "overview" => {
            let o = &r.overview;
            rows.push(vec!["key".into(), "value".into()]);
            for (k, v) in [
                ("records", o.records.to_string()),
                ("files_with_records", o.files_with_records.to_string()),
                ("files_read", o.files_read.to_string()),
                ("files_failed", o.files_failed.to_string()),
                ("undated_records", o.undated_records.to_string()),
                ("first_seen", s(o.first_seen.as_ref())),
                ("last_seen", s(o.last_seen.as_ref())),
                ("accounts", o.accounts.join(" ")),
                ("regions", o.regions.join(" ")),
                ("notable_actions", r.notable.total.to_string()),
                ("notable_failed", r.notable.failed.to_string()),
            ] {
                rows.push(vec![k.into(), v]);
            }
        }
        "notable" => {
            rows.push(
                [
                    "time",
                    "result",
                    "error_code",
                    "actor",
                    "identity_type",
                    "account",
                    "action",
                    "object",
                    "target",
                    "event_name",
                    "event_source",
                    "source_ip",
                    "region",
                    "user_agent",
                    "mfa_used",
                    "event_id",
                    "description",
                ]
                .map(String::from)
                .to_vec(),
            );
            for a in &r.notable.actions {
                rows.push(vec![
                    s(a.time.as_ref()),
                    if a.failed { "failed".into() } else { "succeeded".into() },
                    s(a.error_code.as_ref()),
                    a.actor.clone(),
                    s(a.identity_type.as_ref()),
                    s(a.account.as_ref()),
                    a.action.clone(),
                    s(a.object.as_ref()),
                    s(a.target.as_ref()),
                    a.event_name.clone(),
                    a.event_source.clone(),
                    s(a.source_ip.as_ref()),
                    s(a.region.as_ref()),
                    s(a.user_agent.as_ref()),
                    s(a.mfa_used.as_ref()),
                    s(a.event_id.as_ref()),
                    a.description.clone(),
                ]);
            }
        }
        "groups" => {
            let g = r.groups.as_ref()?;
            let mut head = g.by.clone();
            head.extend(["count", "first_seen", "last_seen"].map(String::from));
            head.extend(super::GROUP_DISTINCT.iter().map(|(k, _)| format!("distinct_{k}")));
            rows.push(head);
            for row in &g.rows {
                let mut cells = row.key.clone();
                cells.push(row.count.to_string());
                cells.push(s(row.first_seen.as_ref()));
                cells.push(s(row.last_seen.as_ref()));
                for (k, _) in super::GROUP_DISTINCT {
                    cells.push(row.distinct.get(k).copied().unwrap_or(0).to_string());
                }
                rows.push(cells);
            }
        }
        "timeline" => {
            let tl = &r.timeline;
            let mut head = vec!["start".to_string(), "count".to_string()];
            head.extend(tl.series.iter().cloned());
            rows.push(head);
            for b in &tl.buckets {
                let mut cells = vec![b.start.clone(), b.count.to_string()];
                cells.extend(b.series.iter().map(u64::to_string));
                rows.push(cells);
            }
        }
        table => {
            let t = r.table(table)?;
            rows.push(["value", "count", "first_seen", "last_seen"].map(String::from).to_vec());
            for row in &t.rows {
                rows.push(vec![
                    row.value.clone(),
                    row.count.to_string(),
                    s(row.first_seen.as_ref()),
                    s(row.last_seen.as_ref()),
                ]);
            }
        }
    }
    Some(rows)
}

/// Escapes text for HTML element content and attribute values (after removing terminal
/// controls and bidi overrides, which mislead in a page too).
#[must_use]
pub fn html_escape(s: &str) -> String {
    let clean = sanitize::terminal(s);
    let mut out = String::with_capacity(clean.len());
    for c in clean.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(
            html_escape("<script>a&b\"'</script>\u{1b}[2J"),
            "&lt;script&gt;a&amp;b&quot;&#39;&lt;/script&gt;\\u{1b}[2J"
        );
        assert_eq!(display_time("2024-03-01T10:00:00Z"), "2024-03-01 10:00:00Z");
        assert_eq!(scale(1, 1000), 1);
        assert_eq!(scale(1000, 1000), BAR_WIDTH);
        assert_eq!(scale_share(1, 2, 10), 5);
    }
}
