//! The command line: clap definitions only, no I/O.

use crate::audit::Severity;
use crate::output::Format;
use crate::output::color::ColorChoice;
use crate::summary::Bucket;
use crate::summary::render::{SECTIONS, SummaryFormat};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Search AWS CloudTrail archives offline with Amazon EventBridge event patterns.
#[derive(Debug, Parser)]
#[command(name = "trailscan", version, max_term_width = 100, propagate_version = true)]
#[command(
    after_help = "Exit status: 0 when something matched, 1 when nothing did, 2 on any error \
(bad usage, an invalid pattern, or an input that could not be read)."
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,

    /// Colour: auto (terminals, unless NO_COLOR is set), always or never.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the CloudTrail records that match filters and EventBridge patterns.
    #[command(after_long_help = SEARCH_EXAMPLES)]
    Search(Box<SearchArgs>),
    /// Summarise matching records: overview, top values, notable actions, timeline.
    #[command(after_long_help = SUMMARY_EXAMPLES)]
    Summary(Box<SummaryArgs>),
    /// Match one event against one pattern, offline `aws events test-event-pattern`.
    #[command(after_long_help = TEST_PATTERN_EXAMPLES)]
    TestPattern(TestPatternArgs),
    /// Run named detection rules (built-in packs and rule files) over an archive and report
    /// findings; for scheduled jobs and CI.
    #[command(after_long_help = AUDIT_HELP)]
    Audit(Box<AuditArgs>),
    /// List the built-in rules or check rule files.
    Rules(RulesArgs),
    /// Build or update the archive index, so that repeated searches, summaries and audits
    /// skip unopened every file that cannot hold a match; or show its state (--status).
    #[command(after_long_help = INDEX_HELP)]
    Index(Box<IndexArgs>),
    /// Prove offline that the archive is what CloudTrail delivered: digest chains, signatures
    /// and log file hashes.
    #[command(after_long_help = VERIFY_HELP)]
    Verify(Box<VerifyArgs>),
    /// Print the SQL (DuckDB, Athena, Trino, Spark) that asks the same question as the filters
    /// and patterns, over Athena's CloudTrail table (the Parquet lake or the raw files).
    #[command(after_long_help = SQL_HELP)]
    Sql(Box<SqlArgs>),
    /// Export matching records to a Hive-partitioned Parquet lake for DuckDB, Athena, Trino
    /// and Spark (incremental), or print the lake's CREATE TABLE statement.
    #[command(after_long_help = EXPORT_HELP)]
    Export(Box<ExportArgs>),
    /// Follow the credentials: where an access key or session came from (up) and every
    /// credential it obtained and everything done with them (down).
    #[command(after_long_help = TRACE_HELP)]
    Trace(Box<TraceArgs>),
    /// A detection timeline: every record a rule fired on (packs, rule files, Sigma), one row
    /// each in time order, for the terminal, a spreadsheet or Timesketch.
    #[command(after_long_help = TIMELINE_HELP)]
    Timeline(Box<TimelineArgs>),
    /// Write one self-contained, interactive HTML page of an archive: overview, timeline,
    /// top values, notable actions, audit findings, identities and the records behind them.
    #[command(after_long_help = REPORT_HELP)]
    Report(Box<ReportArgs>),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    #[command(
        after_long_help = "Example:\n  trailscan completions bash > /etc/bash_completion.d/trailscan"
    )]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) on stdout.
    #[command(after_long_help = "Example:\n  trailscan man > trailscan.1 && man ./trailscan.1")]
    Man,
}

const AUDIT_HELP: &str = "\
Examples:
  trailscan audit AWSLogs/ --since 1d
  trailscan audit AWSLogs/ --pack cis --format csv > cis-findings.csv
  trailscan audit AWSLogs/ --pack threats --rules my-rules/ --format jsonl --min-severity medium
  trailscan audit AWSLogs/ --account 111122223333 --fail-on high
  trailscan audit --emit-sql athena --pack threats --since 7d      (SQL per rule; doc/sql.md)

Rules: all built-in packs unless --pack or --rules is given (`trailscan rules list`). A rule
matches a record like `search --pattern` does; a threshold rule fires once per window of at
least COUNT matches with the same `by` values. Findings below --min-severity are not reported.

Exit status, for cron and CI:
  0  no finding at or above --fail-on (default: low)
  1  at least one finding at or above --fail-on
  2  an error: a bad argument or rule file, or an input that could not be read (this wins over
     1; every readable record is still audited and reported)
A cron job can mail the output when the status is not 0; a CI step fails on 1 or 2.";

/// `trailscan audit`.
#[derive(Debug, Args)]
#[command(mut_arg("pattern", |a| a.hide(true)))]
pub struct AuditArgs {
    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub filters: FilterArgs,

    /// A built-in rule pack to run: cis, threats (repeatable; default: all, unless --rules).
    #[arg(long = "pack", value_name = "NAME", help_heading = "Audit")]
    pub pack: Vec<String>,

    /// A rule file (YAML or JSON) or a folder of them (repeatable).
    #[arg(long = "rules", value_name = "FILE|DIR", help_heading = "Audit")]
    pub rules: Vec<PathBuf>,

    #[command(flatten)]
    pub sigma: SigmaArgs,

    /// Output: table (a summary per rule), jsonl or json (one finding per matched record or
    /// threshold window, with the records), csv (one row per finding).
    #[arg(short, long, value_enum, default_value_t = Format::Table, hide_possible_values = true, help_heading = "Audit")]
    pub format: Format,

    /// Report only findings of rules at or above this severity.
    #[arg(long, value_enum, value_name = "SEVERITY", default_value_t = Severity::Info, help_heading = "Audit")]
    pub min_severity: Severity,

    /// Exit 1 when a finding is at or above this severity.
    #[arg(long, value_enum, value_name = "SEVERITY", default_value_t = Severity::Low, help_heading = "Audit")]
    pub fail_on: Severity,

    /// CSV cells as they are, without neutralising spreadsheet formulas.
    #[arg(long, help_heading = "Audit")]
    pub csv_raw: bool,

    /// Print one SQL query per rule in this dialect (threshold rules as GROUP BY over time
    /// windows) instead of reading an archive.
    #[arg(long, value_enum, value_name = "DIALECT", help_heading = "SQL")]
    pub emit_sql: Option<crate::sql::Dialect>,

    #[command(flatten)]
    pub sql: SqlTableArgs,
}

const TIMELINE_HELP: &str = "\
Examples:
  trailscan timeline AWSLogs/ --since 7d
  trailscan timeline AWSLogs/ --notable --tz Europe/Berlin
  trailscan timeline AWSLogs/ --min-level medium --format csv -o timeline.csv
  trailscan timeline AWSLogs/ --sigma sigma/rules/cloud/aws --format timesketch > ts.jsonl
  trailscan timeline AWSLogs/ --user mallory --format jsonl --raw

One row per record that fired a rule (one row naming every rule it fired), threshold and
correlation windows at their last event, sorted by eventTime; the table ends with a results
summary (on stderr for the other formats; on stdout with --output FILE). Rules: all built-in packs unless --pack, --rules or
--sigma is given. See doc/timeline.md.

Exit status, as audit: 0 no row at or above --fail-on (notable actions do not count), 1 at
least one, 2 an error (an input or rule that could not be read; every readable record is still
in the timeline).";

/// `trailscan timeline`.
#[derive(Debug, Args)]
#[command(mut_arg("pattern", |a| a.hide(true)))]
#[command(mut_arg("min_level", |a| a
    .help("Only rules at or above this level: informational, low, medium, high, critical (every rule, \
Sigma or not; a rule a correlation reads still feeds it)")
    .help_heading("Timeline")))]
pub struct TimelineArgs {
    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub filters: FilterArgs,

    /// A built-in rule pack to run: cis, threats (repeatable; default: all, unless --rules or
    /// --sigma).
    #[arg(long = "pack", value_name = "NAME", help_heading = "Timeline")]
    pub pack: Vec<String>,

    /// A rule file (YAML or JSON) or a folder of them (repeatable).
    #[arg(long = "rules", value_name = "FILE|DIR", help_heading = "Timeline")]
    pub rules: Vec<PathBuf>,

    #[command(flatten)]
    pub sigma: SigmaArgs,

    /// Also list the notable actions no rule fired on (the actions `summary` describes), at
    /// level info.
    #[arg(long, help_heading = "Timeline")]
    pub notable: bool,

    /// Output: table (coloured rows, then a results summary), csv, jsonl, timesketch (JSON lines
    /// Timesketch imports), timesketch-csv.
    #[arg(short, long, value_enum, default_value_t = crate::timeline::render::TimelineFormat::Table, hide_possible_values = true, help_heading = "Timeline")]
    pub format: crate::timeline::render::TimelineFormat,

    /// Show times in this IANA time zone (e.g. Europe/Berlin), with their offset (default: UTC).
    #[arg(long, value_name = "ZONE", help_heading = "Timeline")]
    pub tz: Option<String>,

    /// Show times in this machine's local time zone.
    #[arg(long, conflicts_with = "tz", help_heading = "Timeline")]
    pub local: bool,

    /// Exit 1 when a row is at or above this severity.
    #[arg(long, value_enum, value_name = "SEVERITY", default_value_t = Severity::Low, help_heading = "Timeline")]
    pub fail_on: Severity,

    /// JSON lines (jsonl, timesketch): add the whole record to each row.
    #[arg(long, help_heading = "Timeline")]
    pub raw: bool,

    /// Write the rows to FILE; the results summary goes to stdout.
    #[arg(short, long, value_name = "FILE", help_heading = "Timeline")]
    pub output: Option<PathBuf>,

    /// CSV cells as they are, without neutralising spreadsheet formulas.
    #[arg(long, help_heading = "Timeline")]
    pub csv_raw: bool,
}

const SQL_HELP: &str = "\
Examples:
  trailscan sql --dialect athena --event CreateUser --since 30d
  trailscan sql --dialect duckdb --from raw --user alice --explain
  trailscan sql --dialect duckdb --print-view AWSLogs/ > view.sql
  trailscan sql --dialect spark --table trail --pattern @rule.json
  trailscan audit --emit-sql trino --pack threats

The table is Athena's documented CloudTrail table: the Parquet lake of `trailscan export`
(--from lake, partitions account/region/dt), or the table over the delivery files (--from raw;
for DuckDB, the view --print-view prints). The SQL is exact or a marked superset (`/* superset:
... */`): --explain says why and how to recheck the rows with `trailscan search -`.
See doc/sql.md.";

/// The table the SQL reads (shared by `sql` and `audit --emit-sql`).
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "SQL")]
pub struct SqlTableArgs {
    /// The table (or view) name.
    #[arg(long, value_name = "NAME", default_value = "cloudtrail_logs")]
    pub table: String,

    /// What the table is over: the Parquet lake (`trailscan export`) or the raw delivery files.
    #[arg(long = "from", value_enum, value_name = "lake|raw", default_value_t = crate::sql::Source::Lake)]
    pub from: crate::sql::Source,

    /// The table has the `raw` column (`export --raw`): exact tests where columns are not
    /// enough, and rows that can be rechecked.
    #[arg(long)]
    pub raw_column: bool,
}

/// `trailscan sql`.
#[derive(Debug, Args)]
pub struct SqlArgs {
    #[command(flatten)]
    pub filters: FilterArgs,

    /// The SQL dialect.
    #[arg(long, value_enum, value_name = "DIALECT", help_heading = "SQL")]
    pub dialect: crate::sql::Dialect,

    #[command(flatten)]
    pub table: SqlTableArgs,

    /// Say what the SQL does, whether it is exact, and how to recheck a superset.
    #[arg(long, help_heading = "SQL")]
    pub explain: bool,

    /// DuckDB: print a CREATE VIEW presenting Athena's table (with `raw`) over the delivery
    /// files under PATH (a folder, a glob or an s3:// URL), and exit.
    #[arg(long, value_name = "PATH", help_heading = "SQL")]
    pub print_view: Option<String>,
}

const EXPORT_HELP: &str = "\
Examples:
  trailscan export AWSLogs/ --format parquet --out lake/
  trailscan export AWSLogs/ --out lake/ --raw --since 2024-01-01
  trailscan export --ddl athena --location s3://bucket/lake/
  trailscan export --ddl duckdb --location lake/

The lake: DIR/account=ID/region=R/dt=YYYY-MM-DD/part-RUN-N.parquet, Athena's CloudTrail table
columns plus managementevent (and raw with --raw), rows sorted by eventTime, zstd. Running again
on a grown archive exports only the files not yet exported (DIR/_trailscan_manifest.json); a
changed file is exported again and its old rows removed. See doc/lake.md.

Exit status: 0 when records were exported, 1 when none were (nothing new, or nothing matched),
2 on any error (every readable record is still exported).";

/// The lake's file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// Apache Parquet, zstd-compressed.
    Parquet,
}

/// An engine whose CREATE TABLE statement `export --ddl` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DdlEngine {
    /// Amazon Athena (engine v3), with partition projection.
    Athena,
    /// Trino's Hive connector.
    Trino,
    /// Apache Spark SQL.
    Spark,
    /// DuckDB (a view over read_parquet).
    Duckdb,
}

/// `trailscan export`.
#[derive(Debug, Args)]
#[command(
    // Export reads every file its filters allow and records each in the lake's manifest; it
    // does not consult the archive index: its options are accepted and hidden.
    mut_arg("no_index", |a| a.hide(true)),
    mut_arg("index_dir", |a| a.hide(true))
)]
pub struct ExportArgs {
    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub filters: FilterArgs,

    /// The lake's file format.
    #[arg(long, value_enum, default_value_t = ExportFormat::Parquet, help_heading = "Export")]
    pub format: ExportFormat,

    /// The lake folder (created if needed).
    #[arg(
        short,
        long,
        value_name = "DIR",
        required_unless_present = "ddl",
        help_heading = "Export"
    )]
    pub out: Option<PathBuf>,

    /// Also store each record exactly as delivered, in a `raw` column.
    #[arg(long, help_heading = "Export")]
    pub raw: bool,

    /// Print the CREATE TABLE statement for a lake at --location, and exit.
    #[arg(
        long,
        value_enum,
        value_name = "ENGINE",
        requires = "location",
        conflicts_with = "out",
        help_heading = "Export"
    )]
    pub ddl: Option<DdlEngine>,

    /// Where the lake is, for --ddl (s3://bucket/prefix/, a local folder).
    #[arg(long, value_name = "URI", requires = "ddl", help_heading = "Export")]
    pub location: Option<String>,

    /// The table name for --ddl.
    #[arg(long, value_name = "NAME", default_value = "cloudtrail_logs", help_heading = "Export")]
    pub table: String,

    /// Benchmarking: rows per Parquet row group.
    #[arg(long, value_name = "N", hide = true)]
    pub row_group_rows: Option<usize>,

    /// Benchmarking: memory for the partition buffers, all together (one partition gets half).
    #[arg(long, value_name = "SIZE", value_parser = parse_size, hide = true)]
    pub buffer_size: Option<u64>,

    /// Benchmarking: the zstd level (1 to 22).
    #[arg(long, value_name = "N", hide = true)]
    pub zstd_level: Option<i32>,
}

const VERIFY_HELP: &str = "\
Examples:
  aws cloudtrail list-public-keys --region us-east-1 > keys-us-east-1.json
  trailscan verify AWSLogs/ --public-keys keys-us-east-1.json
  trailscan verify AWSLogs/ --public-keys keys.json --signatures sigs/ --since 2024-03-01
  trailscan verify AWSLogs/ --format jsonl --verbose > verify.jsonl

Checks every digest's link to its predecessor and its signature (with the key its fingerprint
names), every listed log file's SHA-256 (of its uncompressed content) and that nothing follows
its gzip member, time continuity between digests, and log files no digest lists. Statuses:
valid, INVALID (proven changed, missing, moved or added) and UNVERIFIED (not provable offline,
with what would prove it). The newest digest of a chain is signed only in S3 metadata: pass it
with --signatures (doc/verify.md). Nothing is written to the archive.

Exit status: 0 nothing INVALID (UNVERIFIED allowed unless --strict), 1 something INVALID (or
UNVERIFIED with --strict), 2 an error (a bad argument, key or signature file, no digest found,
or a file that could not be read).";

/// `trailscan verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Files and folders to check (recursively). Default: the current folder.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// `aws cloudtrail list-public-keys` output, CLI v1 or v2 (repeatable: one per region).
    #[arg(long = "public-keys", value_name = "FILE")]
    pub public_keys: Vec<PathBuf>,

    /// Digest signatures saved from S3 metadata: a JSON map or JSON lines of digest key to
    /// signature, or a folder of `aws s3api head-object` outputs named `<digest>.json`.
    #[arg(long, value_name = "FILE|DIR")]
    pub signatures: Option<PathBuf>,

    /// Only digests covering time at or after T (RFC 3339, a date, or an age like 7d), and
    /// log files delivered then.
    #[arg(long, value_name = "T")]
    pub since: Option<String>,

    /// Only digests covering time before T (same forms as --since).
    #[arg(long, value_name = "T")]
    pub until: Option<String>,

    /// Only this account (repeatable).
    #[arg(long = "account", value_name = "ID")]
    pub account: Vec<String>,

    /// Only this region (repeatable).
    #[arg(long = "region", value_name = "REGION")]
    pub region: Vec<String>,

    /// Output format.
    #[arg(short, long, value_enum, default_value_t = crate::verify::report::VerifyFormat::Text)]
    pub format: crate::verify::report::VerifyFormat,

    /// List valid items too.
    #[arg(short, long)]
    pub verbose: bool,

    /// Exit 1 when anything is UNVERIFIED, not only INVALID.
    #[arg(long)]
    pub strict: bool,

    /// Worker threads for hashing (default: the number of CPUs).
    #[arg(short = 'j', long, value_name = "N")]
    pub threads: Option<usize>,

    /// Refuse files larger than this once decompressed (e.g. 512MiB, 2GB).
    #[arg(long, value_name = "SIZE", default_value = "1GiB", value_parser = parse_size)]
    pub max_file_size: u64,
}

const TRACE_HELP: &str = "\
Examples:
  trailscan trace AWSLogs/ --access-key ASIAWHOJDLGPOEXAMPLE
  trailscan trace AWSLogs/ --access-key AKIAIOSFODNN7EXAMPLE --down --format html > trace.html
  trailscan trace AWSLogs/ --session arn:aws:sts::111122223333:assumed-role/Admin/alice --up
  trailscan trace AWSLogs/ --user alice --since 7d --format jsonl
  trailscan trace AWSLogs/ --ip 203.0.113.0/24 --event CreateUser --event CreateAccessKey

Links are made by credential only: the event that issued a credential returned its access key
id, and later events carry the key they were made with. Console sessions and credentials whose
key CloudTrail does not record are linked by principal and session creation time, marked
INFERRED with the evidence. Where the archive ends the trace says so.

--since/--until/--account/--region limit the archive read (links are followed inside it);
--event/--source/--errors/--error-code limit the activity listed, not the links.

Exit status: 0 when a seed was found, 1 when no seed was ever seen, 2 on any error.";

/// `trailscan trace`.
#[derive(Debug, Args)]
#[command(
    mut_arg("user", |a| a.help("SEED: an IAM user name or ARN: every credential it used (repeatable)").help_heading("Seeds (at least one)")),
    mut_arg("ip", |a| a.help("SEED: every credential used from this address or CIDR block (repeatable)").help_heading("Seeds (at least one)")),
    mut_arg("pattern", |a| a.hide(true)),
    // The archive index is not used by trace (yet): its options are accepted and hidden.
    mut_arg("no_index", |a| a.hide(true)),
    mut_arg("index_dir", |a| a.hide(true))
)]
pub struct TraceArgs {
    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub filters: FilterArgs,

    /// SEED: an access key id, AKIA… or ASIA… (repeatable).
    #[arg(long = "access-key", value_name = "ID", help_heading = "Seeds (at least one)")]
    pub access_key: Vec<String>,

    /// SEED: an assumed-role or federated session ARN (repeatable).
    #[arg(long = "session", value_name = "ARN", help_heading = "Seeds (at least one)")]
    pub session: Vec<String>,

    /// Provenance only: from the seed up to where its credentials came from.
    #[arg(long, conflicts_with_all = ["down", "both"], help_heading = "Trace")]
    pub up: bool,

    /// Blast radius only: every credential the seed obtained and what was done with them.
    #[arg(long, conflicts_with = "both", help_heading = "Trace")]
    pub down: bool,

    /// Both ways (the default).
    #[arg(long, help_heading = "Trace")]
    pub both: bool,

    /// Output format.
    #[arg(short, long, value_enum, default_value_t = crate::trace::render::TraceFormat::Text, help_heading = "Trace")]
    pub format: crate::trace::render::TraceFormat,

    /// Write the report to FILE instead of stdout.
    #[arg(short, long, value_name = "FILE", help_heading = "Trace")]
    pub output: Option<PathBuf>,
}

/// Sigma rule options, shared by `audit` and `rules`.
#[derive(Debug, Args, Clone, Default)]
pub struct SigmaArgs {
    /// A Sigma rule file or a folder of them, read recursively (*.yml, *.yaml; repeatable).
    /// Only rules for product aws, service cloudtrail run; the others are counted as skipped.
    #[arg(long = "sigma", value_name = "FILE|DIR", help_heading = "Sigma")]
    pub sigma: Vec<PathBuf>,

    /// Skip Sigma rules below this level: informational, low, medium, high, critical.
    #[arg(
        long,
        value_enum,
        value_name = "LEVEL",
        hide_possible_values = true,
        help_heading = "Sigma"
    )]
    pub min_level: Option<SigmaLevel>,

    /// Run only Sigma rules with this status: stable, test, experimental, deprecated,
    /// unsupported (repeatable; default: all but deprecated and unsupported).
    #[arg(
        long = "status",
        value_enum,
        value_name = "STATUS",
        hide_possible_values = true,
        help_heading = "Sigma"
    )]
    pub status: Vec<SigmaStatus>,

    /// Skip the rule with this id (a Sigma id or name, or a pack rule id; repeatable).
    #[arg(long = "exclude-rule", value_name = "ID", help_heading = "Sigma")]
    pub exclude_rule: Vec<String>,

    /// YAML file with values for `expand` placeholders: `placeholders: {name: [values]}`.
    #[arg(long = "sigma-config", value_name = "FILE", help_heading = "Sigma")]
    pub sigma_config: Option<PathBuf>,
}

/// A Sigma rule level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SigmaLevel {
    /// informational
    #[value(alias = "info")]
    Informational,
    /// low
    Low,
    /// medium
    Medium,
    /// high
    High,
    /// critical
    Critical,
}

/// A Sigma rule status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SigmaStatus {
    /// stable
    Stable,
    /// test
    Test,
    /// experimental
    Experimental,
    /// deprecated
    Deprecated,
    /// unsupported
    Unsupported,
}

/// `trailscan rules`.
#[derive(Debug, Args)]
pub struct RulesArgs {
    /// What to do with rules.
    #[command(subcommand)]
    pub command: RulesCommand,
}

/// `trailscan rules` subcommands.
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List rules: id, severity, title, pack (or file) and tags.
    List(RulesListArgs),
    /// Check rule files (YAML or JSON; folders are searched): fields, patterns, thresholds and
    /// examples. Exit status 0 when all are valid, 2 otherwise.
    Validate(RulesValidateArgs),
}

/// `trailscan rules list`.
#[derive(Debug, Args)]
pub struct RulesListArgs {
    /// Only this built-in pack (repeatable; default: all, unless --rules).
    #[arg(long = "pack", value_name = "NAME")]
    pub pack: Vec<String>,

    /// List the rules of this file or folder (repeatable; only these unless --pack is given).
    #[arg(long = "rules", value_name = "FILE|DIR")]
    pub rules: Vec<PathBuf>,

    #[command(flatten)]
    pub sigma: SigmaArgs,
}

/// `trailscan rules validate`.
#[derive(Debug, Args)]
pub struct RulesValidateArgs {
    /// Rule files or folders.
    #[arg(value_name = "FILE", required_unless_present = "sigma")]
    pub files: Vec<PathBuf>,

    #[command(flatten)]
    pub sigma: SigmaArgs,
}

const INDEX_HELP: &str = "\
Examples:
  trailscan index AWSLogs/                 build the index, or bring it up to date
  trailscan search AWSLogs/ --event CreateUser     uses it (--no-index: reads every file)
  trailscan index --status AWSLogs/        where it lives, what it covers, what changed since

The index lives outside the archive: in the user's cache directory (on Linux
$XDG_CACHE_HOME/trailscan/index, else ~/.cache/trailscan/index), or in --index-dir /
$TRAILSCAN_INDEX_DIR; one index per archive folder. An update reads only files that are new
or changed (size, modification time, status-change time, inode) and drops deleted ones. A
file that changed after the index was built is read by every search, never trusted.

Exit status: 0 when the index was written (--status: an index exists), 1 (--status) when
none does, 2 on any error (an unreadable file is named and left out of the index).";

/// `trailscan index`.
#[derive(Debug, Args)]
pub struct IndexArgs {
    /// Archive folders, each indexed on its own. Default: the current folder.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Show where each folder's index lives, what it covers and how much of it is stale;
    /// build nothing.
    #[arg(long)]
    pub status: bool,

    /// With --status: text, or json for scripts.
    #[arg(long, value_enum, default_value_t = StatusFormat::Text, requires = "status")]
    pub format: StatusFormat,

    /// Read every file again instead of updating (an unusable index is rebuilt anyway).
    #[arg(long, conflicts_with = "status")]
    pub rebuild: bool,

    /// Where indexes live (default: the cache directory; also TRAILSCAN_INDEX_DIR).
    #[arg(long, value_name = "DIR")]
    pub index_dir: Option<PathBuf>,

    /// Worker threads (default: the number of CPUs).
    #[arg(short = 'j', long, value_name = "N")]
    pub threads: Option<usize>,

    /// Refuse files larger than this once decompressed (e.g. 512MiB, 2GB).
    #[arg(long, value_name = "SIZE", default_value = "1GiB", value_parser = parse_size)]
    pub max_file_size: u64,

    /// Do not print the final accounting line on stderr.
    #[arg(short, long)]
    pub quiet: bool,

    /// Also write the accounting of files and records as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub stats_json: Option<PathBuf>,
}

/// `index --status` output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StatusFormat {
    /// For people.
    Text,
    /// One JSON object per folder, in an array.
    Json,
}

const SEARCH_EXAMPLES: &str = "\
Examples:
  trailscan search AWSLogs/ --event CreateUser --since 30d
  trailscan search AWSLogs/ --source iam --errors --format csv > iam-errors.csv
  trailscan search . --user alice --ip 203.0.113.0/24 --format jsonl
  trailscan search AWSLogs/ --pattern @rule.json --explain
  aws cloudtrail lookup-events --output json | trailscan search - --event ConsoleLogin

Exit status: 0 when something matched, 1 when nothing did, 2 on any error (a bad argument, an
invalid pattern, or an input that could not be read; every readable record is still searched).";

const SUMMARY_EXAMPLES: &str = "\
Examples:
  trailscan summary AWSLogs/
  trailscan summary AWSLogs/ --event CreateUser
  trailscan summary AWSLogs/ --by eventName,userIdentity.arn --top 20
  trailscan summary AWSLogs/ --source iam --timeline --timeline-by eventName
  trailscan summary AWSLogs/ --since 7d --format json > summary.json
  trailscan summary AWSLogs/ --format csv --section notable > notable.csv
  trailscan summary AWSLogs/ --format html --output report.html

Sections: overview (records, files, time span, accounts, regions), notable actions
(security-relevant changes in plain words; failures marked FAILED with their error code),
top values of eventSource, eventName, actor, sourceIPAddress, userAgent, errorCode,
recipientAccountId and awsRegion with first and last seen, --by groups, and the timeline.
JSON schema: doc/summary-schema.md. CSV: every table after a `# name` line, or one plain
table with --section NAME.

Exit status: 0 when records matched, 1 when none did, 2 on any error (a bad argument, an
invalid pattern, or an input that could not be read; every readable record is still counted).";

const TEST_PATTERN_EXAMPLES: &str = "\
Examples:
  trailscan test-pattern --pattern '{\"detail\":{\"eventName\":[\"CreateUser\"]}}' --event @event.json

Prints true or false. Exit status: 0 on a match, 1 on no match, 2 on an invalid pattern or event.";

/// Inputs and how to read them (shared by the commands that scan).
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Input")]
pub struct InputArgs {
    /// Files and folders to read (recursively); `-` reads stdin. Default: the current folder.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Worker threads (default: the number of CPUs).
    #[arg(short = 'j', long, value_name = "N")]
    pub threads: Option<usize>,

    /// Refuse files larger than this once decompressed (e.g. 512MiB, 2GB).
    #[arg(long, value_name = "SIZE", default_value = "1GiB", value_parser = parse_size)]
    pub max_file_size: u64,

    /// Open every file, even those whose path rules them out (account, region, date).
    #[arg(long)]
    pub no_prune: bool,

    /// Parse every record, without the literal-text prefilter (results are the same).
    #[arg(long)]
    pub no_prefilter: bool,

    /// Read every file, without the archive index (`trailscan index`; results are the same).
    #[arg(long)]
    pub no_index: bool,

    /// Where archive indexes live (default: the cache directory; also TRAILSCAN_INDEX_DIR).
    #[arg(long, value_name = "DIR")]
    pub index_dir: Option<PathBuf>,

    /// Do not print the final accounting line on stderr.
    #[arg(short, long)]
    pub quiet: bool,

    /// Benchmarking: only read and inflate the files (the decompression floor).
    #[arg(long, hide = true)]
    pub inflate_only: bool,

    /// Also write the accounting of files and records as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub stats_json: Option<PathBuf>,
}

/// Record filters (AND-ed; a repeated flag OR-s its values).
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Filters (AND-ed; a repeated flag OR-s its values)")]
pub struct FilterArgs {
    /// eventName, e.g. CreateUser (repeatable).
    #[arg(short, long = "event", value_name = "NAME")]
    pub event: Vec<String>,

    /// eventSource: `iam` or `iam.amazonaws.com` (repeatable).
    #[arg(short, long = "source", value_name = "SVC")]
    pub source: Vec<String>,

    /// The actor: user name, ARN, role session name, principal id or access key id; `*` is a
    /// wildcard (repeatable).
    #[arg(short, long = "user", value_name = "TEXT")]
    pub user: Vec<String>,

    /// sourceIPAddress: an address or a CIDR block, IPv4 or IPv6 (repeatable).
    #[arg(long = "ip", value_name = "IP|CIDR")]
    pub ip: Vec<String>,

    /// recipientAccountId (repeatable).
    #[arg(long = "account", value_name = "ID")]
    pub account: Vec<String>,

    /// awsRegion (repeatable).
    #[arg(long = "region", value_name = "REGION")]
    pub region: Vec<String>,

    /// Only records with an errorCode.
    #[arg(long)]
    pub errors: bool,

    /// errorCode, e.g. AccessDenied (repeatable).
    #[arg(long = "error-code", value_name = "CODE")]
    pub error_code: Vec<String>,

    /// Events at or after T: RFC 3339, a date (UTC), or an age like 90m, 12h, 7d.
    #[arg(long, value_name = "T")]
    pub since: Option<String>,

    /// Events before T (same forms as --since).
    #[arg(long, value_name = "T")]
    pub until: Option<String>,

    /// An EventBridge event pattern, as JSON or @FILE (repeatable: any may match).
    #[arg(short, long = "pattern", value_name = "JSON|@FILE")]
    pub pattern: Vec<String>,
}

impl FilterArgs {
    /// The filters as the flags that give them, each value its own `(flag, value)`; `--errors`
    /// without a value. In one fixed order (the export's manifest records it).
    #[must_use]
    pub fn flags(&self) -> Vec<(&'static str, Option<&str>)> {
        let lists: [(&'static str, &[String]); 10] = [
            ("--event", &self.event),
            ("--source", &self.source),
            ("--user", &self.user),
            ("--ip", &self.ip),
            ("--account", &self.account),
            ("--region", &self.region),
            ("--error-code", &self.error_code),
            ("--since", self.since.as_slice()),
            ("--until", self.until.as_slice()),
            ("--pattern", &self.pattern),
        ];
        let mut out: Vec<(&'static str, Option<&str>)> = lists
            .into_iter()
            .flat_map(|(flag, values)| values.iter().map(move |v| (flag, Some(v.as_str()))))
            .collect();
        if self.errors {
            out.push(("--errors", None));
        }
        out
    }
}

/// `trailscan search`.
#[derive(Debug, Args)]
pub struct SearchArgs {
    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub filters: FilterArgs,

    /// Output format; records come in eventTime order.
    #[arg(short, long, value_enum, default_value_t = Format::Table, help_heading = "Output")]
    pub format: Format,

    /// Columns for table and csv: comma-separated dotted paths (`actor` is computed).
    #[arg(long, value_name = "A,B.C", help_heading = "Output")]
    pub fields: Option<String>,

    /// Print only the number of matching records.
    #[arg(short, long, help_heading = "Output")]
    pub count: bool,

    /// Print at most N records (the N earliest).
    #[arg(short = 'n', long, value_name = "N", help_heading = "Output")]
    pub limit: Option<usize>,

    /// Drop records whose eventID was already printed.
    #[arg(long, help_heading = "Output")]
    pub dedupe: bool,

    /// Print the compiled patterns, time window and prefilter, and exit.
    #[arg(long, help_heading = "Output")]
    pub explain: bool,

    /// Print the files the search would read, one per line, without reading them: the walk
    /// after pruning by path (--account, --region, --since/--until), in walk order.
    #[arg(long, help_heading = "Output", conflicts_with_all = ["count", "explain", "limit", "dedupe"])]
    pub files: bool,

    /// CSV cells as they are, without neutralising spreadsheet formulas.
    #[arg(long, help_heading = "Output")]
    pub csv_raw: bool,
}

/// `trailscan summary`.
#[derive(Debug, Args)]
pub struct SummaryArgs {
    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub filters: FilterArgs,

    /// Output format.
    #[arg(short, long, value_enum, default_value_t = SummaryFormat::Text, help_heading = "Report")]
    pub format: SummaryFormat,

    /// Write the report to FILE instead of stdout.
    #[arg(short, long, value_name = "FILE", help_heading = "Report")]
    pub output: Option<PathBuf>,

    /// Rows per top table (0: all).
    #[arg(long, value_name = "N", default_value_t = 10, help_heading = "Report")]
    pub top: usize,

    /// Group by these comma-separated dotted paths (`actor` is computed), with count,
    /// distinct counts and first/last seen per group.
    #[arg(long, value_name = "A,B.C", help_heading = "Report")]
    pub by: Option<String>,

    /// Show the activity timeline as a bar chart (text format).
    #[arg(long, help_heading = "Report")]
    pub timeline: bool,

    /// Timeline bucket size (default: hours for spans up to three days, else days).
    #[arg(long, value_enum, value_name = "SIZE", help_heading = "Report")]
    pub bucket: Option<Bucket>,

    /// Split the timeline by this field (the most frequent few values); implies --timeline.
    #[arg(long, value_name = "FIELD", help_heading = "Report")]
    pub timeline_by: Option<String>,

    /// CSV only: print this one table.
    #[arg(long, value_name = "NAME", value_parser = clap::builder::PossibleValuesParser::new(SECTIONS), help_heading = "Report")]
    pub section: Option<String>,

    /// CSV cells as they are, without neutralising spreadsheet formulas.
    #[arg(long, help_heading = "Report")]
    pub csv_raw: bool,
}

/// `trailscan test-pattern`.
#[derive(Debug, Args)]
pub struct TestPatternArgs {
    /// The EventBridge event pattern, as JSON or @FILE.
    #[arg(short, long, value_name = "JSON|@FILE")]
    pub pattern: String,

    /// The event, as JSON or @FILE (`@-`: stdin). Matched exactly as given.
    #[arg(short, long, value_name = "JSON|@FILE")]
    pub event: String,
}

/// Parses `512MiB`, `2GB`, `1000`.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().map_err(|_| format!("invalid size {s:?}"))?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "t" | "tb" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024.0f64.powi(4),
        _ => {
            return Err(format!(
                "invalid size {s:?}: use a number with B, KB, MB, GB, KiB, MiB or GiB"
            ));
        }
    };
    let bytes = n * mult;
    if !(1.0..=9.0e18).contains(&bytes) {
        return Err(format!("invalid size {s:?}"));
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Ok(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn verify_cli() {
        Cli::command().debug_assert();
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1000"), Ok(1000));
        assert_eq!(parse_size("2GB"), Ok(2_000_000_000));
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_size("1.5kb"), Ok(1500));
        assert!(parse_size("12 parsecs").is_err());
        assert!(parse_size("0").is_err());
    }
}

/// Records kept per top value of each field for the report's record viewer (default).
pub const RECORDS_PER_VALUE: usize = 10;

const REPORT_HELP: &str = "\
Examples:
  trailscan report ./AWSLogs -o report.html
  trailscan report ./AWSLogs --since 2024-03-01 --until 2024-03-08 --sigma rules/ -o report.html
  trailscan report ./AWSLogs --account 111122223333 --no-audit -o report.html

The page is one file with its data, style and script inline; it fetches nothing and runs
nothing else (a strict Content-Security-Policy). It embeds counts, not every record: the
records behind a number are embedded up to --records-per-value, and the page shows the
`trailscan search` command that lists them all. `summary --format html` writes the same page.
See doc/report.md.";

/// `trailscan report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub filters: FilterArgs,

    /// Write the page to FILE instead of stdout.
    #[arg(short, long, value_name = "FILE", help_heading = "Report")]
    pub output: Option<PathBuf>,

    /// Values per top table (and filterable values per field; 1 to 1000).
    #[arg(long, value_name = "N", default_value_t = 25, help_heading = "Report")]
    pub top: usize,

    /// Records embedded per top value of each field (the record viewer's sample).
    #[arg(long, value_name = "N", default_value_t = RECORDS_PER_VALUE, help_heading = "Report")]
    pub records_per_value: usize,

    /// Cube cells embedded at most (the page's filters are exact over them): past this, the
    /// busiest fields keep fewer values filterable, and the page says so.
    #[arg(long, value_name = "N", default_value_t = crate::report::MAX_CELLS, help_heading = "Report")]
    pub max_cells: usize,

    /// Timeline bucket size (default: hours for spans up to three days, else days).
    #[arg(long, value_enum, value_name = "SIZE", help_heading = "Report")]
    pub bucket: Option<Bucket>,

    /// A built-in rule pack to run: cis, threats (repeatable; default: all, unless --rules or
    /// --sigma).
    #[arg(long = "pack", value_name = "NAME", help_heading = "Audit")]
    pub pack: Vec<String>,

    /// A rule file or a folder of them (repeatable).
    #[arg(long = "rules", value_name = "FILE|DIR", help_heading = "Audit")]
    pub rules: Vec<PathBuf>,

    #[command(flatten)]
    pub sigma: SigmaArgs,

    /// Run no audit rules.
    #[arg(long, conflicts_with_all = ["pack", "rules", "sigma"], help_heading = "Audit")]
    pub no_audit: bool,

    /// Draw the credential tree (`trailscan trace`, up and down) of this IAM user name or ARN
    /// (repeatable; one trace of all the seeds given).
    #[arg(long = "trace-user", value_name = "NAME", help_heading = "Trace")]
    pub trace_user: Vec<String>,

    /// Draw the credential tree of this access key id (repeatable).
    #[arg(long = "trace-key", value_name = "ID", help_heading = "Trace")]
    pub trace_key: Vec<String>,
}
