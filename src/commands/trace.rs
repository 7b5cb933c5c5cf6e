//! `trailscan trace`: the credential tree of a seed, its activity and totals.

use super::Outcome;
use crate::cli::TraceArgs;
use crate::config;
use crate::pattern::Pattern;
use crate::query::Filters;
use crate::trace::render::{self, TraceFormat};
use crate::trace::{self, Direction, Seeds, Trace, TraceSetup};
use anyhow::{Context, Result, bail};
use std::io::Write;
use std::sync::atomic::AtomicBool;

/// Runs a trace, writing the report to `out` (or `--output`).
pub fn run(args: &TraceArgs, out: &mut dyn Write, stop: &AtomicBool) -> Result<Outcome> {
    if !args.filters.pattern.is_empty() {
        bail!(
            "trace takes no --pattern: the links are followed by credential; narrow the activity \
with --event, --source, --errors or --error-code"
        );
    }
    if args.input.paths.iter().any(|p| p.as_os_str() == "-") {
        bail!(
            "trace reads the archive more than once: it cannot read stdin (-); save it to a file"
        );
    }
    let seeds = Seeds {
        keys: args.access_key.clone(),
        sessions: args.session.clone(),
        users: args.filters.user.clone(),
        ips: args.filters.ip.clone(),
    };
    if seeds.is_empty() {
        bail!("trace needs a seed: --access-key, --session, --user or --ip");
    }
    for k in &seeds.keys {
        if !trace::link::is_key(k) {
            bail!("--access-key {k:?} is not an access key id (AKIA… or ASIA…)");
        }
    }
    let direction = if args.up {
        Direction::Up
    } else if args.down {
        Direction::Down
    } else {
        Direction::Both
    };
    let all = config::filters(&args.filters)?;
    // The seeds' own flags are seeds, not filters; the scope is what limits the archive read.
    let scope = Filters {
        accounts: all.accounts.clone(),
        regions: all.regions.clone(),
        since: all.since,
        until: all.until,
        ..Filters::default()
    };
    // What limits the activity listed (not the links), as a pattern.
    let shown = Filters {
        events: all.events.clone(),
        sources: all.sources.clone(),
        errors: all.errors,
        error_codes: all.error_codes.clone(),
        ..Filters::default()
    };
    let shown = match shown.to_pattern_json() {
        Some(v) => Some(Pattern::parse(&v.to_string()).map_err(|e| anyhow::anyhow!("{e}"))?),
        None => None,
    };
    let scan = config::scan(&scope, &args.input);
    let index_dir = config::index_dir(&args.input)?;
    let setup = TraceSetup {
        scan,
        scope,
        prefilter: !args.input.no_prefilter,
        keep_raw: matches!(args.format, TraceFormat::Json | TraceFormat::Jsonl) || shown.is_some(),
        stop,
        index_dir,
    };
    let mut tr = trace::run(&setup, &seeds, direction)?;
    if let Some(p) = &shown {
        narrow(&mut tr, p);
    }
    let found = tr.found();
    if found {
        match &args.output {
            Some(path) => {
                let file = std::fs::File::create(path)
                    .with_context(|| format!("creating {}", path.display()))?;
                let mut w = std::io::BufWriter::new(file);
                write_report(args.format, &tr, &mut w)?;
                w.flush().with_context(|| format!("writing {}", path.display()))?;
            }
            None => write_report(args.format, &tr, out)?,
        }
    } else {
        crate::messages::error("no seed was seen in the archive");
    }
    out.flush()?;
    if !args.input.quiet {
        let (opened, ruled_out) = tr.opened;
        let index = if ruled_out > 0 {
            format!(", {ruled_out} ruled out unopened by the index")
        } else {
            String::new()
        };
        let links = match tr.facts.index_links {
            Some(true) => "; links followed through the index",
            Some(false) if tr.facts.walk_wide => {
                "; every issuing event read (the seeds are in more than a quarter of the indexed \
files: the walk through the index was not begun)"
            }
            Some(false) if tr.facts.walk_gave_up => {
                "; every issuing event read (the trace grew past what the index narrows: \
the walk through it was given up)"
            }
            Some(false) => {
                "; every issuing event read (a --session seed is not followed through the index)"
            }
            None => "",
        };
        crate::messages::error(&format!(
            "{} passes over the archive ({opened} file reads in all{index}){links}; the accounting is the first pass's",
            tr.passes
        ));
    }
    config::report_stats(&tr.stats, &args.input)?;
    let failed = tr.failed;
    // The program ends when this returns: the trace's issuing events, events and per-file
    // notes (hundreds of thousands of allocations) are left to the operating system, as
    // `summary` leaves its tables; freeing them one at a time was 5 % of a heavy trace's CPU.
    std::mem::forget(tr);
    Ok(Outcome::of(found, failed))
}

/// Keeps only the events `shown` matches (the links stay as found).
fn narrow(tr: &mut Trace, shown: &Pattern) {
    for events in tr.facts.events.values_mut() {
        events.retain(|e| {
            e.raw
                .as_ref()
                .and_then(|r| serde_json::from_str::<serde_json::Value>(r.get()).ok())
                .is_some_and(|v| shown.matches(&v))
        });
    }
    tr.stats.records_matched = tr.events_in_trace();
}

fn write_report(format: TraceFormat, tr: &Trace, out: &mut dyn Write) -> Result<()> {
    match format {
        TraceFormat::Text => render::text(tr, out)?,
        TraceFormat::Json => render::json(tr, out)?,
        TraceFormat::Jsonl => render::jsonl(tr, out)?,
        TraceFormat::Html => render::html(tr, out)?,
    }
    Ok(())
}
