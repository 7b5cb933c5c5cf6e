//! trailscan: search AWS CloudTrail archives offline with Amazon EventBridge event patterns.
//!
//! The data path reads top to bottom: [`source`] walks, prunes by path, reads, inflates and
//! splits files into raw records; [`query`] prefilters and matches them with the [`pattern`]
//! engine; [`engine`] runs that over files in parallel and hands results back in order;
//! [`sort`] orders matches by time; [`output`] writes them. [`stats`] accounts for everything.
//! [`audit`] runs named rules (built-in packs and rule files) over the same pipeline.
//! [`timeline`] lists rule detections in time order.
//! [`verify`] proves an archive against CloudTrail's signed digest files.

pub mod audit;
pub mod cli;
pub mod commands;
pub mod config;
pub mod engine;
pub mod index;
pub mod lake;
pub mod messages;
pub mod output;
pub mod pattern;
pub mod progress;
pub mod query;
pub mod record;
pub mod report;
pub mod sort;
pub mod source;
pub mod sql;
pub mod stats;
pub mod summary;
pub mod timeline;
pub mod trace;
pub mod verify;

use cli::{Cli, Command};
use commands::Outcome;
use std::sync::atomic::AtomicBool;

/// Runs the parsed command line, writing results to `out`.
pub fn run(cli: &Cli, out: &mut dyn std::io::Write, stop: &AtomicBool) -> anyhow::Result<Outcome> {
    use std::io::IsTerminal;
    let no_color = std::env::var("NO_COLOR").ok();
    output::color::set(output::color::resolve(
        cli.color,
        no_color.as_deref(),
        std::io::stdout().is_terminal(),
    ));
    match &cli.command {
        Command::Search(args) => commands::search::run(args, out, stop),
        Command::Summary(args) => commands::summary::run(args, out, stop),
        Command::TestPattern(args) => commands::test_pattern::run(args, out),
        Command::Audit(args) => commands::audit::run(args, out, stop),
        Command::Rules(args) => commands::rules::run(args, out),
        Command::Index(args) => commands::index::run(args, out, stop),
        Command::Verify(args) => commands::verify::run(args, out, stop),
        Command::Sql(args) => commands::sql::run(args, out),
        Command::Export(args) => commands::export::run(args, out, stop),
        Command::Trace(args) => commands::trace::run(args, out, stop),
        Command::Timeline(args) => commands::timeline::run(args, out, stop),
        Command::Report(args) => commands::report::run(args, out, stop),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(*shell, &mut cmd, "trailscan", out);
            Ok(Outcome::Found)
        }
        Command::Man => {
            clap_mangen::Man::new(<Cli as clap::CommandFactory>::command()).render(out)?;
            Ok(Outcome::Found)
        }
    }
}
