//! From command-line arguments to a validated setup: times parsed, patterns read and compiled,
//! threads and pruning decided. Nothing after this reads `Cli`.

use crate::cli::{FilterArgs, InputArgs};
use crate::engine::ScanConfig;
use crate::query::{Filters, Query};
use crate::record::time::parse_time_arg;
use crate::source::PruneRules;
use anyhow::{Context, Result, bail};
use std::io::Read;

/// Reads `JSON` or `@FILE` (`@-`: stdin).
pub fn read_arg(arg: &str) -> Result<String> {
    match arg.strip_prefix('@') {
        Some("-") => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s).context("reading stdin")?;
            Ok(s)
        }
        Some(path) => std::fs::read_to_string(path).with_context(|| format!("reading {path}")),
        None => Ok(arg.to_string()),
    }
}

/// The filters with their times resolved against now.
pub fn filters(args: &FilterArgs) -> Result<Filters> {
    let now = chrono::Utc::now();
    let time = |s: &Option<String>, flag: &str| -> Result<_> {
        s.as_deref()
            .map(|t| parse_time_arg(t, now).map_err(|e| anyhow::anyhow!("{flag}: {e}")))
            .transpose()
    };
    let f = Filters {
        events: args.event.clone(),
        sources: args.source.clone(),
        users: args.user.clone(),
        ips: args.ip.clone(),
        accounts: args.account.clone(),
        regions: args.region.clone(),
        errors: args.errors,
        error_codes: args.error_code.clone(),
        since: time(&args.since, "--since")?,
        until: time(&args.until, "--until")?,
    };
    if let (Some(s), Some(u)) = (f.since, f.until)
        && s >= u
    {
        bail!("--since ({}) is not before --until ({})", s.to_rfc3339(), u.to_rfc3339());
    }
    Ok(f)
}

/// Compiles the query of `search`-like commands.
pub fn query(filters: &Filters, args: &FilterArgs, input: &InputArgs) -> Result<Query> {
    let mut texts = Vec::new();
    for p in &args.pattern {
        texts.push(read_arg(p)?);
    }
    Ok(Query::new(filters, &texts, !input.no_prefilter)?)
}

/// What to scan.
#[must_use]
pub fn scan(filters: &Filters, input: &InputArgs) -> ScanConfig {
    let threads = input
        .threads
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get));
    ScanConfig {
        paths: input.paths.clone(),
        prune: PruneRules {
            accounts: filters.accounts.clone(),
            regions: filters.regions.clone(),
            since: filters.since,
            until: filters.until,
            enabled: !input.no_prune,
        },
        threads,
        max_file_size: input.max_file_size,
        inflate_only: input.inflate_only,
        progress: !input.quiet && std::io::IsTerminal::is_terminal(&std::io::stderr()),
        validate_hits: true,
        hit_times: true,
        extract: None,
        gate: None,
        stamp_files: false,
    }
}

/// Lets `scan` use the archive indexes that cover its paths for `query` (unless `--no-index`).
/// Returns what `--explain` says of them.
pub fn use_index(scan: &mut ScanConfig, query: &Query, input: &InputArgs) -> Result<Vec<String>> {
    open_index(scan, query, input, false)
}

/// [`use_index`] for `summary` (without `--by` or `--timeline-by`): files whose every record
/// matches are answered from the summary counts the index keeps, unopened.
pub fn use_index_for_summary(
    scan: &mut ScanConfig,
    query: &Query,
    input: &InputArgs,
) -> Result<()> {
    open_index(scan, query, input, true).map(drop)
}

fn open_index(
    scan: &mut ScanConfig,
    query: &Query,
    input: &InputArgs,
    summaries: bool,
) -> Result<Vec<String>> {
    if input.no_index || scan.inflate_only {
        return Ok(vec!["index: not used (--no-index)".to_string()]);
    }
    let dir = match crate::index::store::dir(input.index_dir.as_deref()) {
        Ok(d) => d,
        // No cache directory and none given: there is no index to use.
        Err(_) if input.index_dir.is_none() => return Ok(vec!["index: none".to_string()]),
        Err(e) => return Err(e),
    };
    let Some(gate) = crate::index::store::open(&scan.paths, &dir, query, summaries) else {
        let planner = crate::index::plan::Planner::new(query);
        return Ok(vec![if planner.can_decide() {
            format!("index: none covers these paths (in {})", dir.display())
        } else {
            "index: not used: it cannot rule out any file for this query".to_string()
        }]);
    };
    let mut lines = gate.describe();
    if let Some(p) = gate.planner() {
        lines.extend(p.describe().into_iter().map(|l| format!("  {l}")));
    }
    scan.gate = Some(std::sync::Arc::new(gate));
    Ok(lines)
}

/// The end of every scanning command: the accounting line on stderr (unless `--quiet`) and
/// `--stats-json`.
/// Where the archive indexes are, when the command is to use them (`--no-index` not given), as
/// `search` finds them: with no cache folder and no `--index-dir`, none (no error).
pub fn index_dir(input: &InputArgs) -> Result<Option<std::path::PathBuf>> {
    if input.no_index {
        return Ok(None);
    }
    match crate::index::store::dir(input.index_dir.as_deref()) {
        Ok(d) => Ok(Some(d)),
        Err(_) if input.index_dir.is_none() => Ok(None),
        Err(e) => Err(e),
    }
}

pub fn report_stats(stats: &crate::stats::Stats, input: &InputArgs) -> Result<()> {
    if !input.quiet {
        crate::messages::error(&stats.line());
    }
    if let Some(path) = &input.stats_json {
        let text = serde_json::to_string_pretty(stats)?;
        std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
