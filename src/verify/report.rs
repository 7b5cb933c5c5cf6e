//! Printing a [`Report`]: a human summary, or JSON / JSON lines for scripts.
//!
//! Paths, keys and details come from the archive (attacker-controlled): the text form goes
//! through [`sanitize::terminal`]; JSON is escaped by serde.

use super::{Item, Kind, Report, Status, Summary};
use crate::output::sanitize;
use serde::Serialize;
use std::io::{self, Write};

/// Output forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum VerifyFormat {
    /// Counts per status, then every item that is not valid.
    Text,
    /// One JSON document: `summary`, `statement` and `items`.
    Json,
    /// One item per line, then a `{"summary": ...}` line.
    Jsonl,
}

/// What the run proved, in words (also in JSON as `statement`).
#[must_use]
pub fn statement(r: &Report) -> Vec<String> {
    let s = &r.summary;
    let mut out = Vec::new();
    if !s.public_keys_given {
        out.push(
            "No --public-keys: signatures were not checked. The hash chain alone proves only \
             that the files agree with the digests; whoever could rewrite the digests could \
             forge it."
                .to_string(),
        );
    } else if s.keys_used.is_empty() {
        out.push("No digest signature could be verified with the keys given.".to_string());
    } else {
        let keys: Vec<&str> = s.keys_used.iter().map(String::as_str).collect();
        out.push(format!(
            "{} digest(s) carry a valid CloudTrail signature by key(s) {} (as given by \
             --public-keys).",
            r.items.iter().filter(|i| i.kind == Kind::Digest && i.key.is_some()).count(),
            keys.join(", ")
        ));
    }
    let signed: std::collections::HashSet<&str> = r
        .items
        .iter()
        .filter(|i| i.kind == Kind::Digest && i.key.is_some())
        .map(|i| i.path.as_str())
        .collect();
    let proven = r
        .items
        .iter()
        .filter(|i| i.kind == Kind::Log && i.status == Status::Valid)
        .filter(|i| i.digest.as_deref().is_some_and(|d| signed.contains(d)))
        .count();
    out.push(format!(
        "{} log file(s) are byte for byte the content their digest lists; for {proven} of \
         them that digest's signature verified.",
        s.logs.valid
    ));
    if s.digests.invalid + s.logs.invalid > 0 {
        out.push(format!(
            "{} digest(s) and {} log file(s) are INVALID: missing, changed, moved or added.",
            s.digests.invalid, s.logs.invalid
        ));
    }
    if s.digests.unverified + s.logs.unverified > 0 {
        out.push(format!(
            "{} digest(s) and {} log file(s) could not be proven either way (UNVERIFIED).",
            s.digests.unverified, s.logs.unverified
        ));
    }
    out.push(
        "Not provable offline: digests deleted from the end of a chain (after the newest one \
         present) or before its start, and log files delivered after the newest digest."
            .to_string(),
    );
    out
}

fn line(c: &super::Counts) -> String {
    format!("{} valid, {} INVALID, {} UNVERIFIED", c.valid, c.invalid, c.unverified)
}

/// Writes the report.
pub fn write(
    r: &Report,
    format: VerifyFormat,
    verbose: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        VerifyFormat::Text => text(r, verbose, out),
        VerifyFormat::Json => {
            #[derive(Serialize)]
            struct Doc<'a> {
                summary: &'a Summary,
                statement: Vec<String>,
                items: Vec<&'a Item>,
            }
            let items = r.items.iter().filter(|i| verbose || i.status != Status::Valid).collect();
            let doc = Doc { summary: &r.summary, statement: statement(r), items };
            serde_json::to_writer_pretty(&mut *out, &doc)?;
            writeln!(out)
        }
        VerifyFormat::Jsonl => {
            for i in r.items.iter().filter(|i| verbose || i.status != Status::Valid) {
                serde_json::to_writer(&mut *out, i)?;
                writeln!(out)?;
            }
            #[derive(Serialize)]
            struct Last<'a> {
                summary: &'a Summary,
                statement: Vec<String>,
            }
            serde_json::to_writer(
                &mut *out,
                &Last { summary: &r.summary, statement: statement(r) },
            )?;
            writeln!(out)
        }
    }
}

fn text(r: &Report, verbose: bool, out: &mut dyn Write) -> io::Result<()> {
    let s = &r.summary;
    writeln!(out, "chains:    {}", s.chains)?;
    writeln!(out, "digests:   {}", line(&s.digests))?;
    writeln!(out, "log files: {}", line(&s.logs))?;
    writeln!(out, "gaps:      {}", s.gaps)?;
    if s.other_files + s.filtered_out + s.outside_window > 0 {
        writeln!(
            out,
            "not examined: {} other file(s), {} left out by --account/--region, {} outside \
             --since/--until",
            s.other_files, s.filtered_out, s.outside_window
        )?;
    }
    if !s.errors.is_empty() {
        writeln!(out, "errors:    {} (files that could not be examined)", s.errors.len())?;
    }
    // Without keys every digest has the same reason: one line instead of one per digest.
    let unchecked = |i: &Item| {
        !verbose
            && i.kind == Kind::Digest
            && i.reasons.len() == 1
            && i.reasons[0].code == "signature-not-checked"
    };
    let collapsed = r.items.iter().filter(|i| unchecked(i)).count();
    let shown: Vec<&Item> = r
        .items
        .iter()
        .filter(|i| (verbose || i.status != Status::Valid) && !unchecked(i))
        .collect();
    if !shown.is_empty() || collapsed > 0 {
        writeln!(out)?;
    }
    if collapsed > 0 {
        writeln!(
            out,
            "UNVERIFIED  {collapsed} digest(s)  signature-not-checked: no --public-keys \
             (aws cloudtrail list-public-keys --region REGION > keys.json)"
        )?;
    }
    for i in shown {
        let what = match i.kind {
            Kind::Gap => format!("gap     {}  {}", i.path, i.chain.as_deref().unwrap_or("")),
            k => format!("{:<6}  {}", k.as_str(), i.path),
        };
        writeln!(out, "{:<10}  {}", i.status.as_str(), sanitize::terminal(&what))?;
        for reason in &i.reasons {
            writeln!(out, "            {}: {}", reason.code, sanitize::terminal(&reason.detail))?;
        }
        if verbose && i.reasons.is_empty() {
            if let Some(k) = &i.key {
                writeln!(out, "            signed with key {k}")?;
            }
            if let Some(d) = &i.digest {
                writeln!(out, "            listed in {}", sanitize::terminal(d))?;
            }
        }
    }
    writeln!(out)?;
    for st in statement(r) {
        writeln!(out, "{st}")?;
    }
    Ok(())
}
