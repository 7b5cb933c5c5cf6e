//! `trailscan verify`: the digest and signature check (src/verify/), its report and exit status.

use super::Outcome;
use crate::cli::VerifyArgs;
use crate::engine::Interrupted;
use crate::messages;
use crate::record::time::parse_time_arg;
use crate::verify::{self, Options, Status, keys, report, signatures::Signatures};
use anyhow::{Result, anyhow, bail};
use std::io::Write;
use std::sync::atomic::AtomicBool;

/// Runs `verify`, writing the report to `out`.
pub fn run(args: &VerifyArgs, out: &mut dyn Write, stop: &AtomicBool) -> Result<Outcome> {
    let now = chrono::Utc::now();
    let time = |s: &Option<String>, flag: &str| -> Result<_> {
        s.as_deref().map(|t| parse_time_arg(t, now).map_err(|e| anyhow!("{flag}: {e}"))).transpose()
    };
    let (since, until) = (time(&args.since, "--since")?, time(&args.until, "--until")?);
    if let (Some(s), Some(u)) = (since, until)
        && s >= u
    {
        bail!("--since ({}) is not before --until ({})", s.to_rfc3339(), u.to_rfc3339());
    }
    let mut public_keys = Vec::new();
    for path in &args.public_keys {
        public_keys.extend(keys::load(path)?);
    }
    let signatures = args.signatures.as_deref().map(Signatures::load).transpose()?;
    let threads = args
        .threads
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get));
    let opts = Options {
        paths: args.paths.clone(),
        keys: public_keys,
        keys_given: !args.public_keys.is_empty(),
        signatures,
        since,
        until,
        accounts: args.account.clone(),
        regions: args.region.clone(),
        threads,
        max_file_size: args.max_file_size,
    };
    let report = verify::run(&opts, stop);
    if report.interrupted {
        return Err(Interrupted.into());
    }
    report::write(&report, args.format, args.verbose, out)?;
    out.flush()?;
    for e in &report.summary.errors {
        messages::error(e);
    }
    let digests = report.summary.digests;
    if digests.valid + digests.invalid + digests.unverified == 0 {
        messages::error(
            "no CloudTrail digest file found (or all were left out by --account, --region, \
             --since, --until): nothing could be verified",
        );
        return Ok(Outcome::Error);
    }
    if !report.summary.errors.is_empty() {
        return Ok(Outcome::Error);
    }
    Ok(match report.worst() {
        Status::Invalid => Outcome::Findings,
        Status::Unverified if args.strict => Outcome::Findings,
        _ => Outcome::Clean,
    })
}
