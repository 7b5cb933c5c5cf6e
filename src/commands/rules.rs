//! `trailscan rules list` and `trailscan rules validate`.

use super::Outcome;
use crate::audit::{self, rule, sigma};
use crate::cli::{RulesArgs, RulesCommand, RulesListArgs, RulesValidateArgs};
use crate::messages;
use crate::output::sanitize;
use anyhow::Result;
use std::io::{IsTerminal, Write};

/// Runs a `rules` subcommand.
pub fn run(args: &RulesArgs, out: &mut dyn Write) -> Result<Outcome> {
    match &args.command {
        RulesCommand::List(a) => list(a, out),
        RulesCommand::Validate(a) => validate(a, out),
    }
}

fn list(args: &RulesListArgs, out: &mut dyn Write) -> Result<Outcome> {
    let sigma_only = !args.sigma.sigma.is_empty() && args.pack.is_empty() && args.rules.is_empty();
    let mut rules = if sigma_only { Vec::new() } else { audit::select(&args.pack, &args.rules)? };
    let mut failed = false;
    if !args.sigma.sigma.is_empty() {
        let loaded = sigma::load(&args.sigma.sigma, &sigma::options(&args.sigma)?);
        sigma::report(&loaded, true, false);
        failed = !loaded.failed.is_empty();
        rules.extend(loaded.rules);
    }
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    t.set_content_arrangement(if std::io::stdout().is_terminal() {
        comfy_table::ContentArrangement::Dynamic
    } else {
        comfy_table::ContentArrangement::Disabled
    });
    t.set_header(["id", "severity", "title", "pack", "tags"]);
    let term = |s: &str| sanitize::terminal(s).into_owned();
    for r in &rules {
        let mut threshold = r
            .threshold
            .as_ref()
            .map_or(String::new(), |th| format!(" (≥{} in {})", th.count, th.within));
        if let Some(s) = &r.sigma {
            if let sigma::Kind::Correlation(c) = &s.kind {
                threshold = format!(" ({} in {})", c.kind.as_str(), c.timespan);
            }
            if !s.author.is_empty() {
                threshold.push_str(&format!(" by {}", s.author));
            }
        }
        t.add_row([
            term(&r.id),
            r.severity.to_string(),
            term(&format!("{}{threshold}", r.title)),
            term(&r.origin),
            term(&r.tags.join(", ")),
        ]);
    }
    writeln!(out, "{t}")?;
    writeln!(out, "{} rules", rules.len())?;
    Ok(if failed { Outcome::Error } else { Outcome::Clean })
}

fn validate(args: &RulesValidateArgs, out: &mut dyn Write) -> Result<Outcome> {
    let mut bad = false;
    let mut seen: Vec<(String, String)> = Vec::new();
    if !args.sigma.sigma.is_empty() {
        let loaded = sigma::load(&args.sigma.sigma, &sigma::options(&args.sigma)?);
        sigma::report(&loaded, true, false);
        bad |= !loaded.failed.is_empty();
        for r in &loaded.rules {
            seen.push((r.id.clone(), r.origin.clone()));
        }
        writeln!(out, "{}", loaded.summary())?;
    }
    for path in &args.files {
        match rule::load_path(path) {
            Ok(rules) => {
                let mut errors = Vec::new();
                for r in &rules {
                    for e in r.check_examples() {
                        errors.push(format!("{}: rule {}: {e}", r.origin, r.id));
                    }
                    if let Some((_, o)) = seen.iter().find(|(id, _)| id == &r.id) {
                        errors.push(format!(
                            "{}: rule {}: duplicate id (also in {o})",
                            r.origin, r.id
                        ));
                    }
                    seen.push((r.id.clone(), r.origin.clone()));
                }
                if errors.is_empty() {
                    writeln!(
                        out,
                        "{}: {} rule{} OK",
                        sanitize::terminal(&path.display().to_string()),
                        rules.len(),
                        if rules.len() == 1 { "" } else { "s" }
                    )?;
                } else {
                    bad = true;
                    for e in errors {
                        messages::error(&e);
                    }
                }
            }
            Err(errors) => {
                bad = true;
                for e in errors {
                    messages::error(&e);
                }
            }
        }
    }
    Ok(if bad { Outcome::Error } else { Outcome::Clean })
}
