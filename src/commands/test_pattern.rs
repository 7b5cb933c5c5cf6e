//! `trailscan test-pattern`: the offline `aws events test-event-pattern`.

use super::Outcome;
use crate::cli::TestPatternArgs;
use crate::config::read_arg;
use crate::pattern::Pattern;
use anyhow::{Context, Result};
use std::io::Write;

/// Prints `true` or `false`.
pub fn run(args: &TestPatternArgs, out: &mut dyn Write) -> Result<Outcome> {
    let pattern = Pattern::parse(&read_arg(&args.pattern)?).context("invalid pattern")?;
    let event: serde_json::Value =
        serde_json::from_str(&read_arg(&args.event)?).context("invalid event")?;
    let m = pattern.matches(&event);
    writeln!(out, "{m}")?;
    Ok(if m { Outcome::Found } else { Outcome::NotFound })
}
