//! `trace`: where a credential came from and everything it led to.
//!
//! A few passes over the archive through the engine, each a query in the project's one pattern
//! language so the literal prefilter skips what cannot match:
//!
//! 1. **links**: the issuing events ([`link::ISSUING`]) and the events that name the seeds (a
//!    user, a session ARN, an address). Issuing events are rare and carry literal markers.
//! 2. **activity**: the events made with any credential of the trace
//!    (`{"userIdentity":{"accessKeyId":[…]}}`), plus, for sessions whose key CloudTrail does not
//!    name (console sign-ins, redacted credentials), the events of their principal
//!    (`{"userIdentity":{"arn":[…]}}`), in the files holding a session of that principal
//!    created near one of its sign-ins. Repeated while the trace grows (a credential found by
//!    inference may have issued others).
//!
//! Each pass takes a huge file's matches in chunks ([`engine::scan_with_chunks`]), so memory
//! holds what the trace keeps, not a streamed file's records.
//!
//! With a fresh archive index, pass 1 reads only what the seeds name, their events and the
//! calls that issued them, and the trace follows the credential graph through the index
//! (`walk_links`): down through each credential's own events (its activity pass), up by
//! the key a call returned, and around a session a link may be inferred to, every issuing
//! event logged near its creation. Issuing events are kept by their place in the walk and
//! rebuilt in walk order (`rebuild`): the trace is the one the full links pass makes.
//!
//! The graph is built in memory from what the passes found ([`Facts`]); [`Trace`] is the
//! result every renderer prints.

pub mod link;
pub mod render;

use crate::engine::{self, FileReport, Match, ScanConfig};
use crate::query::{Filters, Query};
use crate::record::time;
use crate::source::name::FileMeta;
use crate::stats::Stats;
use link::{Event, Issuance, Issued};
use rustc_hash::{FxHashMap, FxHashSet};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::AtomicBool;

/// How far apart a session's `creationDate` and the sign-in (or redacted issuance) it is linked
/// to by inference may be.
pub const INFER_SECONDS: i64 = 5;

/// Which way to follow the links.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Provenance: from the seed to the credential that issued it, and so on.
    Up,
    /// Blast radius: everything the seed obtained, recursively.
    Down,
    /// Both.
    Both,
}

impl Direction {
    fn up(self) -> bool {
        matches!(self, Direction::Up | Direction::Both)
    }
    fn down(self) -> bool {
        matches!(self, Direction::Down | Direction::Both)
    }
}

/// Where to start.
#[derive(Debug, Clone, Default)]
pub struct Seeds {
    /// Access key ids (AKIA or ASIA).
    pub keys: Vec<String>,
    /// Session ARNs (assumed-role or federated).
    pub sessions: Vec<String>,
    /// IAM user names or ARNs.
    pub users: Vec<String>,
    /// Addresses or CIDR blocks.
    pub ips: Vec<String>,
}

impl Seeds {
    /// Whether no seed was given.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
            && self.sessions.is_empty()
            && self.users.is_empty()
            && self.ips.is_empty()
    }

    /// The seeds as one EventBridge pattern (for the first pass), if any needs looking up.
    fn lookup_pattern(&self) -> Option<Value> {
        let mut any = Vec::new();
        if !self.sessions.is_empty() {
            any.push(json!({ "userIdentity": { "arn": self.sessions } }));
        }
        if !self.users.is_empty() {
            let (arns, names): (Vec<&String>, Vec<&String>) =
                self.users.iter().partition(|u| u.starts_with("arn:"));
            if !names.is_empty() {
                any.push(json!({ "userIdentity": { "type": ["IAMUser"], "userName": names } }));
                // An IAM Identity Center user, by name or identity-store id: the access
                // portal's calls that give out credentials.
                let portal = link::ISSUING
                    .iter()
                    .filter(|(s, _)| *s == "sso.amazonaws.com")
                    .map(|(_, n)| *n)
                    .collect::<Vec<_>>();
                any.push(json!({ "eventSource": ["sso.amazonaws.com"], "eventName": portal,
                    "userIdentity": { "userName": names } }));
                any.push(json!({ "eventSource": ["sso.amazonaws.com"], "eventName": portal,
                    "userIdentity": { "onBehalfOf": { "userId": names } } }));
            }
            if !arns.is_empty() {
                any.push(json!({ "userIdentity": { "arn": arns } }));
            }
        }
        if !self.ips.is_empty() {
            let f = Filters { ips: self.ips.clone(), ..Filters::default() };
            any.extend(f.to_pattern_json());
        }
        match any.len() {
            0 => None,
            1 => any.pop(),
            _ => Some(json!({ "$or": any })),
        }
    }
}

/// A node of the credential graph: a credential named by its key, or the session of an
/// issuing event whose key is not recorded (console sign-ins, redacted credentials; also
/// failed issuances, which issued nothing and are leaves).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NodeId {
    /// A credential by access key id.
    Key(String),
    /// The issuing event at this index of [`Facts::issuances`].
    Issuance(usize),
}

/// How a credential is tied to what issued it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", content = "evidence", rename_all = "lowercase")]
pub enum Link {
    /// By its key: the issuing event returned it.
    Certain,
    /// By principal and session creation time, with the evidence in words.
    Inferred(String),
}

/// Everything the passes found.
#[derive(Debug, Default)]
pub struct Facts {
    /// Issuing events, one per call (copies logged by other accounts merged).
    pub issuances: Vec<Issuance>,
    /// New key → the issuance that returned it.
    pub by_key: FxHashMap<String, usize>,
    /// Caller key → the issuances it made.
    pub by_caller: FxHashMap<String, Vec<usize>>,
    /// Events made with the credentials of the trace, by key (or, for events found by
    /// principal, by key too: those carry their key).
    pub events: FxHashMap<String, Vec<Event>>,
    /// Keys linked by inference: key → (unkeyed issuance, evidence).
    pub inferred: HashMap<String, (usize, String)>,
    /// Accounts whose logs the archive holds (from the file paths and the records seen).
    pub accounts: BTreeSet<String>,
    /// Seeds resolved to nodes.
    pub seeds: BTreeSet<NodeId>,
    /// Keys whose events have been collected.
    scanned_keys: HashSet<String>,
    /// Principal ARNs whose events have been collected.
    scanned_arns: HashSet<String>,
    /// For each of them, the files (pass 1's walk indexes) whose records of that principal
    /// were all read (`None`: every file). A search by principal opens only the files holding
    /// a session created near one of its sign-ins; a session linked by inference is known
    /// whole when every file holding its key was among them ([`infer`]).
    principal_files: HashMap<String, Option<FxHashSet<usize>>>,
    /// Identity Center grants (issuances) whose role sessions' events have been collected.
    scanned_sso: HashSet<usize>,
    /// Event ids already kept (the same call logged twice is kept once).
    seen_events: FxHashSet<String>,
    /// Calls logged by several accounts' trails (`sharedEventID`): the key and place of the
    /// copy kept.
    shared: HashMap<String, (String, (u64, u64))>,
    /// Copies of calls already kept, dropped.
    pub duplicates: u64,
    /// New keys of the issuances whose full record was asked for.
    asked_details: HashSet<String>,
    /// The files pass 1 walked, in walk order, with the hashes of the access key ids in them
    /// (`None`: ruled out unopened by the archive index; the index answers for them).
    files: Vec<(std::path::PathBuf, Option<FxHashSet<u64>>)>,
    /// Whether every file read is named by its path (so the activity passes can open only
    /// the files that may hold what they look for).
    files_by_name: bool,
    /// Following the links through the archive index rather than reading every issuing
    /// event ([`walk_links`]): what has been read of them so far.
    walk: Option<Walk>,
    /// With an archive index in use: whether the links were followed through it (`true`) or
    /// every issuing event read (`false`: a `--session` seed, or a walk given up). `None`: no
    /// index in use.
    pub index_links: Option<bool>,
    /// The walk through the index was given up for the full way (more than 256 keys to look
    /// up at once, or 8 session creations to read around).
    pub walk_gave_up: bool,
    /// The walk through the index was not begun: its first pass alone would open more than a
    /// quarter of the indexed files.
    pub walk_wide: bool,
}

/// The issuing events read while the trace follows the links through the index, and what
/// has been looked up.
///
/// Every issuing event read is kept by its place in the walk (file, record); the issuances
/// of [`Facts`] are rebuilt from them in walk order ([`rebuild`]), so that copies of a call are
/// merged, and issuances numbered, exactly as the full links pass (which reads them all in
/// walk order) does.
#[derive(Debug, Default)]
struct Walk {
    /// Every issuing event read, by its place (read in full where it was).
    read: BTreeMap<(usize, u64), Issuance>,
    /// The place of the first copy of each issuance of [`Facts::issuances`].
    slots: Vec<(usize, u64)>,
    /// Places read since the last rebuild.
    pending: Vec<(usize, u64)>,
    /// A place read again in full since the last rebuild.
    upgraded: bool,
    /// Keys whose issuing event has been looked for (by the key it returned).
    looked_up: HashSet<String>,
    /// Keys around whose session creation every issuing event has been read.
    windowed: HashSet<String>,
}

/// When the walk through the index would look up the issuing events of more keys than this at
/// once, the trace is made the full way instead (reading every issuing event once, noting each
/// file's keys): a file's key filter (8-bit fingerprints) answers "maybe" for one of 256 keys
/// with probability 1 − (255/256)^256 = 63 %, so such a lookup, and the activity passes of so
/// large a trace, open most files anyway, and the walk would read them more than once.
const LOOKUP_MAX: usize = 256;

/// Likewise when the walk would read the issuing events around more session creations than
/// this (each window is a pass over the archive's names).
const WINDOWS_MAX: usize = 8;

/// The walk is not begun when its first pass alone would open more than this share (in
/// percent) of the indexed files: the full way reads each file once.
const FIRST_PASS_MAX: usize = 25;

/// Whether the first pass through `index` would open more than [`FIRST_PASS_MAX`] % of the
/// indexed files.
fn wide(index: &crate::index::store::IndexGate) -> bool {
    let (may, all) = index.may_match_share();
    may * 100 > all * FIRST_PASS_MAX
}

/// What one pass of the scan produced.
struct PassOut {
    stats: Stats,
    failed: bool,
}

/// A finished trace.
#[derive(Debug)]
pub struct Trace {
    /// The facts.
    pub facts: Facts,
    /// The nodes in the trace, each with its parent in the trace (if any) and how it is linked.
    pub nodes: BTreeMap<NodeId, NodeInfo>,
    /// The way followed.
    pub direction: Direction,
    /// Passes over the archive.
    pub passes: usize,
    /// The first pass's accounting (each pass reads the same files), with `records_matched`
    /// the number of events in the trace.
    pub stats: Stats,
    /// Whether any input could not be read.
    pub failed: bool,
    /// Over all passes: files opened, and files the archive index ruled out unopened.
    pub opened: (u64, u64),
}

/// A node's place in the trace.
#[derive(Debug, Clone)]
pub struct NodeInfo {
    /// The node above it in the trace.
    pub parent: Option<NodeId>,
    /// The nodes below it in the trace, in issuance time order.
    pub children: Vec<NodeId>,
    /// How it is linked to its issuer, when it has one.
    pub link: Option<Link>,
    /// Above the seed (provenance) rather than the seed or below it.
    pub ancestor: bool,
}

/// What a trace reads and filters.
pub struct TraceSetup<'a> {
    /// The scan (paths, pruning, threads).
    pub scan: ScanConfig,
    /// The archive scope: time window, accounts, regions (links are followed only inside it).
    pub scope: Filters,
    /// Whether the literal prefilter is on.
    pub prefilter: bool,
    /// Keep the records' text (for `json`/`jsonl`).
    pub keep_raw: bool,
    /// Stop on Ctrl-C.
    pub stop: &'a AtomicBool,
    /// Where archive indexes live, when they are to be used (`trailscan index`): each pass
    /// asks the index covering the archive which files may hold what it looks for.
    pub index_dir: Option<std::path::PathBuf>,
}

/// The archive index's gate for one pass, plus the files the pass reads whatever the index
/// says (they hold what the pass wants that the index cannot see).
#[derive(Debug)]
struct PassGate {
    index: crate::index::store::IndexGate,
    /// Read whatever the index says.
    read: HashSet<std::path::PathBuf>,
    /// Read the files whose path names no account (pass 1 takes the archive's accounts from
    /// the paths of the files the index rules out).
    read_unnamed: bool,
}

impl engine::Gate for PassGate {
    fn decide(&self, path: &Path, stamp: &crate::source::FileStamp) -> engine::GateDecision {
        match self.index.decide(path, stamp) {
            engine::GateDecision::RuledOut
                if self.read.contains(path)
                    || (self.read_unnamed && FileMeta::from_path(path).account.is_none()) =>
            {
                engine::GateDecision::Read
            }
            d => d,
        }
    }
}

/// The gate for a pass looking for `patterns` (in the archive scope), when an index covers
/// the archive and can decide them.
fn pass_gate(
    setup: &TraceSetup<'_>,
    patterns: &[Value],
    read: HashSet<std::path::PathBuf>,
    read_unnamed: bool,
) -> anyhow::Result<Option<std::sync::Arc<dyn engine::Gate>>> {
    Ok(pass_index(setup, patterns)?.map(|index| gate_of(index, read, read_unnamed)))
}

/// The index's gate for a pass looking for `patterns`, as [`pass_gate`], before the files it
/// reads whatever the index says are added.
fn pass_index(
    setup: &TraceSetup<'_>,
    patterns: &[Value],
) -> anyhow::Result<Option<crate::index::store::IndexGate>> {
    let Some(dir) = &setup.index_dir else { return Ok(None) };
    if patterns.is_empty() {
        return Ok(None);
    }
    let q = query(&setup.scope, patterns, setup.prefilter)?;
    Ok(crate::index::store::open(&setup.scan.paths, dir, &q, false))
}

fn gate_of(
    index: crate::index::store::IndexGate,
    read: HashSet<std::path::PathBuf>,
    read_unnamed: bool,
) -> std::sync::Arc<dyn engine::Gate> {
    std::sync::Arc::new(PassGate { index, read, read_unnamed })
}

/// Runs the passes and builds the trace.
pub fn run(setup: &TraceSetup<'_>, seeds: &Seeds, direction: Direction) -> anyhow::Result<Trace> {
    let mut tally = Tally::default();
    match trace_with(setup, seeds, direction, true, &mut tally)? {
        Some(tr) => Ok(tr),
        // The walk through the index grew past what the index can narrow: the full way,
        // counting what the walk read.
        None => {
            let mut tr = trace_with(setup, seeds, direction, false, &mut tally)?
                .ok_or_else(|| anyhow::anyhow!("the full links pass does not give up"))?;
            tr.facts.index_links = Some(false);
            tr.facts.walk_gave_up = true;
            Ok(tr)
        }
    }
}

/// A trace; `walk`: following the links through the index when it can. `None`: the walk gave
/// up ([`LOOKUP_MAX`], [`WINDOWS_MAX`]).
fn trace_with(
    setup: &TraceSetup<'_>,
    seeds: &Seeds,
    direction: Direction,
    walk: bool,
    tally: &mut Tally,
) -> anyhow::Result<Option<Trace>> {
    let mut facts = Facts::default();
    let first = links_pass(setup, seeds, &mut facts, walk)?;
    tally.add(&first);
    for k in &seeds.keys {
        facts.seeds.insert(NodeId::Key(k.clone()));
    }
    loop {
        // Following the links through the index: what the full links pass would have known.
        let Some(looked) = walk_links(setup, &mut facts, direction, tally)? else {
            return Ok(None);
        };
        // What the events read so far tell by inference.
        infer(&mut facts);
        let nodes = closure(&facts, direction);
        let mut keys: Vec<String> = nodes
            .keys()
            .filter_map(|n| match n {
                NodeId::Key(k) if !facts.scanned_keys.contains(k) => Some(k.clone()),
                _ => None,
            })
            .collect();
        // Issuers of keys not seen issued yet are looked for by inference: their own events
        // (principal, creation time) are needed, which the key's pass brings.
        let mut arns: Vec<String> = nodes
            .keys()
            .filter_map(|n| match n {
                NodeId::Issuance(i) if facts.issuances[*i].unkeyed() && direction.down() => {
                    facts.issuances[*i].session_arn.clone()
                }
                _ => None,
            })
            .filter(|a| !facts.scanned_arns.contains(a))
            .collect();
        // Identity Center grants below which the trace goes: their role sessions' events.
        let sso: Vec<usize> = nodes
            .keys()
            .filter_map(|n| match n {
                NodeId::Issuance(i)
                    if direction.down()
                        && facts.issuances[*i].issued == Issued::Sso
                        && !facts.scanned_sso.contains(i) =>
                {
                    Some(*i)
                }
                _ => None,
            })
            .collect();
        let mut details: Vec<String> = nodes
            .keys()
            .filter_map(|n| issuer(&facts, n))
            .filter_map(|(i, _)| {
                let iss = &facts.issuances[i];
                (!iss.detailed).then(|| iss.key().map(str::to_owned)).flatten()
            })
            .filter(|id| !facts.asked_details.contains(id))
            .collect();
        keys.sort();
        keys.dedup();
        arns.sort();
        arns.dedup();
        details.sort();
        details.dedup();
        if keys.is_empty() && arns.is_empty() && details.is_empty() && sso.is_empty() {
            if looked {
                // What was inferred may call for more.
                continue;
            }
            break;
        }
        // Issuing events made with a key of this pass (or an earlier one) come with its
        // activity; only the others are searched for.
        let fetch: Vec<String> = details
            .iter()
            .filter(|k| {
                let caller =
                    facts.by_key.get(*k).and_then(|&i| facts.issuances[i].caller.key.as_ref());
                !caller.is_some_and(|c| {
                    facts.scanned_keys.contains(c) || keys.binary_search(c).is_ok()
                })
            })
            .cloned()
            .collect();
        let asked = Asked { keys: &keys, arns: &arns, details: &details, fetch: &fetch, sso: &sso };
        let out = activity_pass(setup, &asked, &mut facts)?;
        tally.add(&out);
    }
    let nodes = closure(&facts, direction);
    if facts.walk.is_some() {
        accounts_in_archive(setup, &mut facts, &nodes, tally)?;
    }
    let mut stats = first.stats;
    let Tally { passes, opened, ruled_out, failed } = *tally;
    let mut tr = Trace {
        facts,
        nodes,
        direction,
        passes,
        stats: Stats::default(),
        failed,
        opened: (opened, ruled_out),
    };
    stats.records_matched = tr.events_in_trace();
    tr.stats = stats;
    Ok(Some(tr))
}

fn query(scope: &Filters, patterns: &[Value], prefilter: bool) -> anyhow::Result<Query> {
    let texts: Vec<String> = patterns.iter().map(Value::to_string).collect();
    Ok(Query::new(scope, &texts, prefilter)?)
}

/// The events that issued `keys` (by the key they returned: STS credentials, and access keys
/// made by `CreateAccessKey`), as patterns the index decides.
fn issued_patterns(keys: &[String]) -> [Value; 2] {
    [
        json!({ "responseElements": { "credentials": { "accessKeyId": keys } } }),
        json!({ "responseElements": { "accessKey": { "accessKeyId": keys } } }),
    ]
}

fn is_issued_pattern(p: &Value) -> bool {
    p.get("responseElements").is_some()
}

/// What pass 1 learns from one file.
#[derive(Default)]
struct FileFound {
    issuances: Vec<Issuance>,
    seed_keys: Vec<String>,
    seed_events: Vec<String>,
    accounts: Vec<String>,
    /// Hashes of the `userIdentity.accessKeyId`s of its records, and of their
    /// `userIdentity.arn`s with the second their session was created ([`session_hash`]);
    /// nothing for the seed keys' own events, kept here.
    keys: FxHashSet<u64>,
    /// The events made with the seed keys (read here, so that no activity pass has to open
    /// the file again for them), and the issuances among them, read in full.
    seed_activity: Vec<Event>,
    seed_issued: Vec<Issuance>,
}

fn key_hash(k: &str) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = rustc_hash::FxBuildHasher.build_hasher();
    h.write(k.as_bytes());
    h.finish()
}

/// The hash a file's notes hold for a record of the principal `arn` made with a session
/// created in the second `created` (seconds since the epoch, rounded down): a search by
/// principal is for sessions created next to a sign-in ([`infer`]), so only files holding
/// one created near that time are opened for it.
fn session_hash(arn: &str, created: i64) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = rustc_hash::FxBuildHasher.build_hasher();
    h.write(arn.as_bytes());
    h.write_u8(0xff);
    h.write_i64(created);
    h.finish()
}

/// The second a session's `creationDate` text names, rounded down.
fn created_second(text: &str) -> Option<i64> {
    time::parse_event_time(text).map(|t| t.timestamp())
}

/// The notes a file must hold to be opened in a search for the sessions of principal `arn`:
/// its plain hash (records read the exact way note that), and, for each session-less sign-in
/// of that principal (the only issuances [`infer`] links sessions to by principal and time),
/// the seconds a session created within [`INFER_SECONDS`] of it can carry.
fn principal_hashes(facts: &Facts, arn: &str) -> Vec<u64> {
    let mut out = vec![key_hash(arn)];
    for iss in &facts.issuances {
        if iss.unkeyed()
            && iss.session_arn.as_deref() == Some(arn)
            && let Some(t) = iss.time.as_deref().and_then(created_second)
        {
            // `seconds_apart` rounds toward zero: a session up to INFER_SECONDS + 1 s (less
            // a fraction) apart counts, whose rounded-down second is that far at most.
            out.extend(
                (t - INFER_SECONDS - 1..=t + INFER_SECONDS + 1).map(|s| session_hash(arn, s)),
            );
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The string a JSON value's text holds (`"AssumeRole"` → `AssumeRole`), unescaped if needed.
fn json_str(text: &str) -> Option<std::borrow::Cow<'_, str>> {
    let inner = text.strip_prefix('"')?.strip_suffix('"')?;
    if inner.contains('\\') {
        serde_json::from_str::<String>(text).ok().map(std::borrow::Cow::Owned)
    } else {
        Some(std::borrow::Cow::Borrowed(inner))
    }
}

/// Each of a file's hits parsed, handed to `f`; a hit that does not parse is rejected in
/// `report` (named and counted).
fn for_each_parsed(
    report: &mut FileReport,
    hits: &[Match<'_>],
    mut f: impl FnMut(&Match<'_>, Value),
) {
    for m in hits {
        match serde_json::from_str::<Value>(&m.raw) {
            Ok(v) => f(m, v),
            Err(e) => report.reject_match(m.index, e),
        }
    }
}

/// Pass 1: every record is looked at through a few fields (read while the file is split):
/// issuing events are read (their links), the seeds' patterns are tested (behind their own
/// literal prefilter), and the access key ids of each file are noted, so that the activity
/// passes open only the files that can hold the trace's keys.
fn links_pass(
    setup: &TraceSetup<'_>,
    seeds: &Seeds,
    facts: &mut Facts,
    walk: bool,
) -> anyhow::Result<PassOut> {
    use crate::record::fields::{Extracted, Extractor, Fields};
    let lookup = seeds.lookup_pattern();
    let seed_pattern = match &lookup {
        Some(p) => Some(crate::pattern::Pattern::parse(&p.to_string())?),
        None => None,
    };
    let seed_prefilter = match &seed_pattern {
        Some(p) if setup.prefilter => crate::query::Prefilter::new(&p.literal_clauses("")),
        _ => crate::query::Prefilter::default(),
    };
    let seed_keep = crate::record::KeepSet::new(
        seed_pattern.iter().flat_map(crate::pattern::Pattern::field_paths).collect::<Vec<_>>(),
    );
    // The seed keys' own events: the activity pass's pattern for them, behind its literal
    // prefilter (in a heavy trace most events are the seed's).
    let seed_activity = match seeds.keys.is_empty() {
        true => None,
        false => Some(crate::pattern::Pattern::parse(
            &json!({ "userIdentity": { "accessKeyId": seeds.keys } }).to_string(),
        )?),
    };
    let seed_activity_prefilter = match &seed_activity {
        Some(p) if setup.prefilter => crate::query::Prefilter::new(&p.literal_clauses("")),
        _ => crate::query::Prefilter::default(),
    };
    let seed_keys: FxHashSet<&str> = seeds.keys.iter().map(String::as_str).collect();
    let keep_raw = setup.keep_raw;
    let q = Query::new(&setup.scope, &[], setup.prefilter)?;
    const NAME: usize = 0;
    const KEY: usize = 1;
    const ACCOUNT: usize = 2;
    const ARN: usize = 3;
    const CREATED: usize = 4;
    let extractor = std::sync::Arc::new(Extractor::new(&[
        "eventName",
        "userIdentity.accessKeyId",
        "recipientAccountId",
        "userIdentity.arn",
        "userIdentity.sessionContext.attributes.creationDate",
    ]));
    let issuing: FxHashSet<&str> = link::ISSUING.iter().map(|(_, n)| *n).collect();
    let keep_links = crate::record::KeepSet::new(link::LINK_FIELDS.map(String::from));
    let keep_all = crate::record::KeepSet::new(link::ISSUANCE_FIELDS.map(String::from));
    let scratch: std::sync::Mutex<Vec<Fields>> = std::sync::Mutex::new(Vec::new());
    let worker = |report: &mut FileReport, hits: Vec<Match<'_>>| {
        let mut found = FileFound::default();
        let mut bad: Vec<(u64, String)> = Vec::new();
        let mut fields = scratch
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop()
            .unwrap_or_default();
        let mut last_account = String::new();
        for m in &hits {
            let raw: &str = &m.raw;
            // The hashes of the record's key and principal, noted below unless the record is
            // one of the seed keys' own events (kept here).
            let (mut key_hash_of, mut arn_hash_of) = (None, None);
            let (name, key, account, arn, created) = match m.fields {
                Some(row) => (
                    extractor.get_in(row, raw, NAME),
                    extractor.get_in(row, raw, KEY),
                    extractor.get_in(row, raw, ACCOUNT),
                    extractor.get_in(row, raw, ARN),
                    extractor.get_in(row, raw, CREATED),
                ),
                None => match extractor.extract(raw, &mut fields) {
                    Extracted::Done => (
                        extractor.get(&fields, raw, NAME),
                        extractor.get(&fields, raw, KEY),
                        extractor.get(&fields, raw, ACCOUNT),
                        extractor.get(&fields, raw, ARN),
                        extractor.get(&fields, raw, CREATED),
                    ),
                    Extracted::Unusual => {
                        // Read the exact way.
                        match keep_links.project(raw) {
                            Ok(v) => {
                                let t = |p: &str| crate::summary::actions::text_at(&v, p);
                                key_hash_of = t("userIdentity.accessKeyId").map(|k| key_hash(&k));
                                arn_hash_of = t("userIdentity.arn").map(|a| key_hash(&a));
                                found.accounts.extend(t("recipientAccountId"));
                                if let Some(mut i) = Issuance::links_from_record(&v) {
                                    if i.key().is_some() {
                                        i.detailed = false;
                                        i.record = m.index;
                                        found.issuances.push(i);
                                    } else {
                                        match keep_all.project(raw) {
                                            Ok(full) => found
                                                .issuances
                                                .extend(at(Issuance::from_record(&full), m.index)),
                                            Err(e) => bad.push((m.index, e.to_string())),
                                        }
                                    }
                                }
                            }
                            Err(e) => bad.push((m.index, e.to_string())),
                        }
                        (None, None, None, None, None)
                    }
                },
            };
            // The key's text, read once for what follows.
            let key = key.and_then(json_str);
            if let Some(k) = &key {
                key_hash_of = Some(key_hash(k));
            }
            // Principals too, with the second their session was created (the activity passes
            // look for sessions by principal and creation time): in the same set, an ARN is
            // never an access key id. A record without a readable creation date is no
            // session such a search can link.
            if let Some(a) = arn.and_then(json_str)
                && let Some(c) = created.and_then(json_str).and_then(|c| created_second(&c))
            {
                arn_hash_of = Some(session_hash(&a, c));
            }
            if let Some(a) = account.and_then(json_str)
                && *a != *last_account
            {
                last_account = a.to_string();
                found.accounts.push(a.into_owned());
            }
            if name.and_then(json_str).is_some_and(|n| issuing.contains(&*n)) {
                match keep_links.project(raw) {
                    Ok(v) => match Issuance::links_from_record(&v) {
                        Some(mut i) if i.key().is_some() => {
                            i.detailed = false;
                            i.record = m.index;
                            found.issuances.push(i);
                        }
                        // Issued no key: read in full now (console sign-ins, failures).
                        Some(_) => match keep_all.project(raw) {
                            Ok(full) => {
                                found.issuances.extend(at(Issuance::from_record(&full), m.index))
                            }
                            Err(e) => bad.push((m.index, e.to_string())),
                        },
                        None => {}
                    },
                    Err(e) => bad.push((m.index, e.to_string())),
                }
            }
            // A record whose key reads as another plain key is not one (the file selection of
            // the activity passes trusts the same reading).
            if let Some(p) = &seed_activity
                && key.as_deref().is_none_or(|k| seed_keys.contains(k))
                && seed_activity_prefilter.maybe(raw.as_bytes())
            {
                match serde_json::from_str::<Value>(raw) {
                    Ok(v) if p.matches(&v) => {
                        if let Some(mut i) = Issuance::from_record(&v)
                            && i.key().is_some()
                        {
                            i.record = m.index;
                            found.seed_issued.push(i);
                        }
                        let e = Event::from_record(&v, raw, (0, m.index), keep_raw);
                        // Kept here, and no later pass can want it again (seed keys are never
                        // searched again, and a search by principal would find it kept
                        // already): its file need not be reopened for it. Only when it is
                        // kept for good (by its key and eventID), else it is noted as before.
                        if e.caller.key.is_some() && e.event_id.is_some() {
                            key_hash_of = None;
                            arn_hash_of = None;
                        }
                        found.seed_activity.push(e);
                    }
                    Ok(_) => {}
                    Err(e) => {
                        if !bad.iter().any(|(i, _)| *i == m.index) {
                            bad.push((m.index, e.to_string()));
                        }
                    }
                }
            }
            found.keys.extend(key_hash_of);
            found.keys.extend(arn_hash_of);
            if let Some(p) = &seed_pattern
                && seed_prefilter.maybe(raw.as_bytes())
            {
                match seed_keep.project(raw) {
                    Ok(v) if p.matches(&v) => match key.clone() {
                        Some(k) if link::is_key(&k) => found.seed_keys.push(k.into_owned()),
                        _ => {
                            // A keyless event (a console sign-in): by its eventID.
                            if let Ok(full) = keep_all.project(raw) {
                                found
                                    .seed_events
                                    .extend(crate::summary::actions::text_at(&full, "eventID"));
                                if let Some(k) = crate::summary::actions::text_at(
                                    &full,
                                    "userIdentity.accessKeyId",
                                )
                                .filter(|k| link::is_key(k))
                                {
                                    found.seed_keys.push(k);
                                }
                            }
                        }
                    },
                    Ok(_) => {}
                    Err(e) => bad.push((m.index, e.to_string())),
                }
            }
        }
        scratch.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(fields);
        for (i, e) in bad {
            report.reject_match(i, e);
        }
        report.partial = Some(Box::new(found));
    };
    let mut stats = Stats::default();
    let mut failed = false;
    let mut seed_keys: BTreeSet<String> = BTreeSet::new();
    let mut seed_events: HashSet<String> = HashSet::new();
    // Every record is handed over unread (when no scope flag filters), its fields read while
    // the file is split.
    // With an index: only the files that hold an issuing event, an event the seeds name or
    // one made with a seed key (the access key ids of the others are asked of the index by the
    // activity passes).
    // Following the links through the index (no `--session` seed, whose issuing event is
    // found by the session it named, which the index does not keep): only the files that hold
    // an event the seeds name, one made with a seed key, or the call that issued a seed key.
    let mut wanted: Vec<Value> = lookup.iter().cloned().collect();
    if !seeds.keys.is_empty() {
        wanted.push(json!({ "userIdentity": { "accessKeyId": seeds.keys } }));
        wanted.extend(issued_patterns(&seeds.keys));
    }
    let mut gate = None;
    if walk && seeds.sessions.is_empty() && !wanted.is_empty() {
        // Seeds the index cannot narrow (a principal or an address active in most of the
        // archive): the walk would open most files in its first pass alone, and give up for
        // the full way after more passes; the full way reads the archive once.
        match pass_index(setup, &wanted)? {
            Some(index) if wide(&index) => facts.walk_wide = true,
            index => gate = index.map(|i| gate_of(i, HashSet::new(), true)),
        }
    }
    if gate.is_some() {
        facts.walk =
            Some(Walk { looked_up: seeds.keys.iter().cloned().collect(), ..Walk::default() });
        facts.index_links = Some(true);
    } else {
        // Every issuing event of the archive is read.
        wanted.retain(|p| !is_issued_pattern(p));
        wanted.insert(0, link::issuing_pattern());
        if setup.index_dir.is_some() && (!walk || !seeds.sessions.is_empty() || facts.walk_wide) {
            gate = pass_gate(setup, &wanted, HashSet::new(), true)?;
            facts.index_links = gate.is_some().then_some(false);
        }
    }
    let scan = ScanConfig {
        validate_hits: false,
        hit_times: false,
        extract: Some(extractor.clone()),
        gate,
        ..setup.scan.clone()
    };
    let mut all_files = true;
    // A huge file's matches come in chunks (in record order): what each teaches is taken in
    // at once (memory holds a chunk of matches, not the file's), and the file's notes are
    // gathered until its last report.
    let mut keys_in_file: Option<FxHashSet<u64>> = None;
    engine::scan_with_chunks(&scan, &q, setup.stop, &worker, |_, mut report| {
        stats.merge(&report.stats);
        failed |= report.failed;
        let read = report.more || report.stats.files_read > 0 || report.stats.records_read > 0;
        if let Some(part) = report.partial.take().and_then(|p| p.downcast::<FileFound>().ok())
            && (read || keys_in_file.is_some())
        {
            let found = *part;
            // The file's place in the walk: it is noted (below) after its last chunk.
            let file = facts.files.len();
            // (Following the links through the index, the seed keys' issuances read in full
            // are kept first: their links-only copies, read next, are then already known.)
            let walk = facts.walk.is_some();
            let mut seed_issued = found.seed_issued;
            for full in &mut seed_issued {
                full.file = file;
            }
            if walk {
                seed_issued.into_iter().for_each(|full| take_issuance(facts, full));
                seed_issued = Vec::new();
            }
            for mut i in found.issuances {
                i.file = file;
                take_issuance(facts, i);
            }
            for full in seed_issued {
                add_details(facts, full);
            }
            add_events(facts, file as u64, found.seed_activity);
            seed_keys.extend(found.seed_keys);
            seed_events.extend(found.seed_events);
            facts.accounts.extend(found.accounts);
            match &mut keys_in_file {
                Some(k) => k.extend(found.keys),
                None => keys_in_file = Some(found.keys),
            }
        }
        if report.more {
            return Ok(());
        }
        if let Some(a) = FileMeta::from_path(Path::new(&report.name)).account {
            facts.accounts.insert(a);
        }
        if let Some(keys) = keys_in_file.take() {
            let path = std::path::PathBuf::from(&report.name);
            // Files are re-read by name: only when the name is the file.
            all_files &= path.is_file();
            let ruled_out = report.gate == Some(engine::GateDecision::RuledOut);
            facts.files.push((path, (!ruled_out).then_some(keys)));
        }
        Ok(())
    })?;
    facts.files_by_name = all_files;
    rebuild(facts);
    // Their events were all read on the way.
    facts.scanned_keys.extend(seeds.keys.iter().cloned());
    for v in facts.events.values_mut() {
        v.sort_by_key(|e| (e.sort, e.at));
    }
    facts.issuances.iter().enumerate().for_each(|(i, iss)| {
        if iss.unkeyed() || iss.issued == Issued::Nothing {
            // Console sign-ins (and failed or unkeyed calls) the seeds name are seeds too.
            if iss.event_id.as_ref().is_some_and(|id| seed_events.contains(id)) {
                facts.seeds.insert(NodeId::Issuance(i));
            }
        }
        if iss.session_arn.as_ref().is_some_and(|a| seeds.sessions.contains(a)) {
            facts.seeds.insert(match iss.key() {
                Some(k) => NodeId::Key(k.to_string()),
                None => NodeId::Issuance(i),
            });
        }
    });
    for k in seed_keys {
        facts.seeds.insert(NodeId::Key(k));
    }
    Ok(PassOut { stats, failed })
}

/// Keeps an issuing event read at its place in the walk: added at once by the full links
/// pass (which reads them in walk order), kept for [`rebuild`] when following the links
/// through the index.
fn take_issuance(facts: &mut Facts, iss: Issuance) {
    let Some(w) = &mut facts.walk else {
        add_issuance(facts, iss);
        return;
    };
    let at = (iss.file, iss.record);
    match w.read.entry(at) {
        std::collections::btree_map::Entry::Vacant(e) => {
            e.insert(iss);
            w.pending.push(at);
        }
        std::collections::btree_map::Entry::Occupied(mut e) => {
            if iss.detailed && !e.get().detailed {
                e.insert(iss);
                w.upgraded = true;
            }
        }
    }
}

/// Rebuilds the issuances from the issuing events read so far, in walk order, as the full
/// links pass would have added them; the references to issuances (seeds, inferred links,
/// Identity Center grants searched) follow them to their new numbers.
fn rebuild(facts: &mut Facts) {
    let Some(mut w) = facts.walk.take() else { return };
    if w.pending.is_empty() && !w.upgraded {
        facts.walk = Some(w);
        return;
    }
    w.pending.sort_unstable();
    let appended =
        !w.upgraded && w.read.range(..w.pending[0]).count() + w.pending.len() == w.read.len();
    if appended {
        // Read after everything known: added in order, as the full pass would.
        for at in std::mem::take(&mut w.pending) {
            let slot = add_issuance(facts, w.read[&at].clone());
            if slot == w.slots.len() {
                w.slots.push(at);
            }
        }
    } else {
        let old = std::mem::take(&mut w.slots);
        facts.issuances.clear();
        facts.by_key.clear();
        facts.by_caller.clear();
        let mut slot_of: FxHashMap<(usize, u64), usize> = FxHashMap::default();
        for (at, iss) in &w.read {
            let slot = add_issuance(facts, iss.clone());
            if slot == w.slots.len() {
                w.slots.push(*at);
            }
            slot_of.insert(*at, slot);
        }
        let map: Vec<usize> = old.iter().map(|at| slot_of[at]).collect();
        let m = |i: usize| map[i];
        facts.seeds = std::mem::take(&mut facts.seeds)
            .into_iter()
            .map(|n| match n {
                NodeId::Issuance(i) => NodeId::Issuance(m(i)),
                k => k,
            })
            .collect();
        for (i, _) in facts.inferred.values_mut() {
            *i = m(*i);
        }
        facts.scanned_sso = facts.scanned_sso.iter().map(|&i| m(i)).collect();
        w.pending.clear();
        w.upgraded = false;
    }
    facts.walk = Some(w);
}

/// An issuance read from the record at `index` of its file.
fn at(iss: Option<Issuance>, index: u64) -> Option<Issuance> {
    iss.map(|mut i| {
        i.record = index;
        i
    })
}

/// Adds an issuing event, merging the copy another account's trail logged of the same call;
/// its number in [`Facts::issuances`].
fn add_issuance(facts: &mut Facts, iss: Issuance) -> usize {
    if let Some(k) = iss.key()
        && let Some(&j) = facts.by_key.get(k)
    {
        let prev = &mut facts.issuances[j];
        prev.logged_in.extend(iss.logged_in.iter().cloned());
        prev.logged_in.sort();
        prev.logged_in.dedup();
        // Keep the caller's own account's copy as the one shown.
        let own = |i: &Issuance| i.account.is_some() && i.account == i.caller.account;
        if own(&iss) && !own(prev) {
            let logged = std::mem::take(&mut prev.logged_in);
            *prev = Issuance { logged_in: logged, ..iss };
        }
        return j;
    }
    let i = facts.issuances.len();
    if let Some(k) = iss.key() {
        facts.by_key.insert(k.to_string(), i);
    }
    if let Some(c) = &iss.caller.key {
        facts.by_caller.entry(c.clone()).or_default().push(i);
    }
    facts.issuances.push(iss);
    i
}

/// Replaces the links-only issuance with the same key by the full record.
fn add_details(facts: &mut Facts, full: Issuance) {
    let Some(&i) = full.key().and_then(|k| facts.by_key.get(k)) else { return };
    let prev = &mut facts.issuances[i];
    if prev.detailed || prev.event_id != full.event_id {
        return;
    }
    let logged = std::mem::take(&mut prev.logged_in);
    *prev = Issuance { logged_in: logged, file: prev.file, ..full };
}

/// What an activity pass looks for.
struct Asked<'a> {
    /// Keys whose events are wanted.
    keys: &'a [String],
    /// Principal ARNs whose events are wanted (sessions whose key is not recorded).
    arns: &'a [String],
    /// Keys whose issuing event is to be read in full.
    details: &'a [String],
    /// Of `details`, those whose issuing event is not brought by `keys`.
    fetch: &'a [String],
    /// Identity Center grants (issuances) whose role sessions' events are wanted.
    sso: &'a [usize],
}

/// The events of the role sessions an Identity Center grant can have given out: the grant's
/// account, a role of its permission set, its user (by identity-store id, or by session name).
fn sso_pattern(g: &link::SsoGrant) -> Vec<Value> {
    let role = json!([{ "prefix": format!("AWSReservedSSO_{}_", g.permission_set) }]);
    let mut out = Vec::new();
    if let Some(id) = &g.user_id {
        out.push(json!({ "userIdentity": { "accountId": [g.account],
            "sessionContext": { "sessionIssuer": { "userName": role } },
            "onBehalfOf": { "userId": [id] } } }));
    }
    if let Some(user) = &g.user {
        out.push(json!({ "userIdentity": { "accountId": [g.account],
            "sessionContext": { "sessionIssuer": { "userName": role } },
            "principalId": [{ "suffix": format!(":{user}") }] } }));
    }
    out
}

/// Pass 2 (repeated): the events made with `keys`, and those of the principals `arns` and of
/// the Identity Center sessions of `sso`; the issuing events that returned the keys
/// `details` are read in full on the way, and those of `fetch` (issued by a key not searched)
/// searched for as well.
fn activity_pass(
    setup: &TraceSetup<'_>,
    asked: &Asked<'_>,
    facts: &mut Facts,
) -> anyhow::Result<PassOut> {
    let Asked { keys, arns, details, fetch, sso } = *asked;
    let mut patterns = Vec::new();
    if !keys.is_empty() {
        patterns.push(json!({ "userIdentity": { "accessKeyId": keys } }));
    }
    if !arns.is_empty() {
        patterns.push(json!({ "userIdentity": { "arn": arns } }));
    }
    for &i in sso {
        patterns.extend(facts.issuances[i].sso.as_ref().map(sso_pattern).unwrap_or_default());
    }
    if !fetch.is_empty() {
        // The issuing events, by the key they returned (the same literals as the keys; the
        // index keeps them too).
        patterns.extend(issued_patterns(fetch));
    }
    let indexed = patterns.clone();
    if patterns.is_empty() {
        // A grant naming no user: nothing can be linked to it.
        facts.scanned_sso.extend(sso.iter().copied());
        return Ok(PassOut { stats: Stats::default(), failed: false });
    }
    let q = query(&setup.scope, &patterns, setup.prefilter)?;
    let asked: FxHashSet<&str> = fetch.iter().map(String::as_str).collect();
    let detail_files: FxHashSet<usize> = facts
        .issuances
        .iter()
        .filter(|i| i.key().is_some_and(|k| asked.contains(k)))
        .map(|i| i.file)
        .collect();
    // Read whatever the index says: the files holding the issuing events asked for, and
    // those pass 1 saw holding the keys.
    let mut read: HashSet<std::path::PathBuf> =
        detail_files.iter().filter_map(|&n| facts.files.get(n).map(|(p, _)| p.clone())).collect();
    let keep_raw = setup.keep_raw;
    // Only the files that can hold the keys, the principals or the issuances asked for, when
    // pass 1 could tell (Identity Center sessions can be anywhere).
    let mut scan = ScanConfig { validate_hits: false, hit_times: false, ..setup.scan.clone() };
    let mut walk_index: Vec<u64> = Vec::new();
    if facts.files_by_name && sso.is_empty() {
        let mut hashes: Vec<u64> = keys.iter().map(|k| key_hash(k)).collect();
        for a in arns {
            hashes.extend(principal_hashes(facts, a));
        }
        let mut paths = Vec::new();
        for (n, (path, in_file)) in facts.files.iter().enumerate() {
            let take = detail_files.contains(&n)
                || match in_file {
                    Some(set) => {
                        let hit = hashes.iter().any(|h| set.contains(h));
                        if hit {
                            read.insert(path.clone());
                        }
                        hit
                    }
                    // Ruled out in pass 1 by the index: the index answers for it now.
                    None => true,
                };
            if take {
                paths.push(path.clone());
                walk_index.push(n as u64);
            }
        }
        scan.paths = paths;
        scan.progress = false;
        // Every record of the principals in the files opened is read: which files those are.
        for a in arns {
            if let Some(Some(read)) = facts.principal_files.get_mut(a) {
                read.extend(walk_index.iter().map(|&n| n as usize));
            } else if !facts.principal_files.contains_key(a) {
                let read = walk_index.iter().map(|&n| n as usize).collect();
                facts.principal_files.insert(a.clone(), Some(read));
            }
        }
        if scan.paths.is_empty() {
            facts.scanned_keys.extend(keys.iter().cloned());
            facts.asked_details.extend(details.iter().cloned());
            facts.scanned_arns.extend(arns.iter().cloned());
            facts.scanned_sso.extend(sso.iter().copied());
            return Ok(PassOut { stats: Stats::default(), failed: false });
        }
    } else {
        for a in arns {
            facts.principal_files.insert(a.clone(), None);
        }
    }
    scan.gate = pass_gate(setup, &indexed, read, false)?;
    let wanted: HashSet<&str> = details.iter().map(String::as_str).collect();
    // Following the links through the index, every issuing event read is kept: those made
    // with the keys searched are how the trace goes down.
    let walk = facts.walk.is_some();
    type Found = (Vec<Event>, Vec<Issuance>);
    let worker = |report: &mut FileReport, hits: Vec<Match<'_>>| {
        let mut found: Found = (Vec::new(), Vec::new());
        for_each_parsed(report, &hits, |m, v| {
            let e = Event::from_record(&v, &m.raw, (0, m.index), keep_raw);
            if let Some(mut i) = Issuance::from_record(&v)
                && (walk || i.key().is_some_and(|k| wanted.contains(k)))
            {
                i.record = m.index;
                found.1.push(i);
            }
            found.0.push(e);
        });
        report.partial = Some(Box::new(found));
    };
    let mut stats = Stats::default();
    let mut failed = false;
    let place = Places::new(facts);
    // A huge file's matches come in chunks, in record order: each is taken in at once.
    engine::scan_with_chunks(&scan, &q, setup.stop, &worker, |file, mut report| {
        let file = match walk_index.get(file as usize) {
            Some(&n) => n,
            None => place.of(&report.name, file),
        };
        stats.merge(&report.stats);
        failed |= report.failed;
        if let Some(part) = report.partial.take().and_then(|p| p.downcast::<Found>().ok()) {
            let (events, issuances) = *part;
            for mut full in issuances {
                if facts.walk.is_some() {
                    full.file = file as usize;
                    take_issuance(facts, full);
                } else {
                    add_details(facts, full);
                }
            }
            add_events(facts, file, events);
        }
        Ok(())
    })?;
    rebuild(facts);
    facts.scanned_keys.extend(keys.iter().cloned());
    facts.asked_details.extend(details.iter().cloned());
    facts.scanned_arns.extend(arns.iter().cloned());
    facts.scanned_sso.extend(sso.iter().copied());
    for v in facts.events.values_mut() {
        v.sort_by_key(|e| (e.sort, e.at));
    }
    Ok(PassOut { stats, failed })
}

/// Following the links through the index: reads, before links are inferred, what the full
/// links pass would have known of the trace's credentials. The issuances made with a key come
/// with its activity (every event made with it is read); what is left is
///
/// - the issuing event of every key of the trace not issued by one of its credentials (the
///   seeds, and going up): looked for by the key it returned, which the index keeps;
/// - for a session a link may be inferred to (a key of the trace no event issued, or one
///   created within [`INFER_SECONDS`] of an unkeyed issuance already known): every issuing
///   event logged near its creation, looked for by time (the index keeps each file's span).
///
/// Repeated until nothing more is to be looked up. `true` when anything was read.
fn walk_links(
    setup: &TraceSetup<'_>,
    facts: &mut Facts,
    direction: Direction,
    tally: &mut Tally,
) -> anyhow::Result<Option<bool>> {
    let mut any = false;
    while facts.walk.is_some() {
        rebuild(facts);
        let nodes = closure(facts, direction);
        let candidates = inference_candidates(facts, &nodes);
        let Some(w) = &facts.walk else { break };
        let mut ask: Vec<String> = nodes
            .keys()
            .filter_map(|n| match n {
                NodeId::Key(k) => Some(k),
                NodeId::Issuance(_) => None,
            })
            .chain(candidates.iter().map(|(k, _)| k))
            .filter(|k| !facts.by_key.contains_key(*k) && !w.looked_up.contains(*k))
            .cloned()
            .collect();
        ask.sort();
        ask.dedup();
        if ask.len() > LOOKUP_MAX {
            return Ok(None);
        }
        if !ask.is_empty() {
            let out = lookup_pass(setup, facts, &issued_patterns(&ask), &setup.scope)?;
            tally.add(&out);
            if let Some(w) = &mut facts.walk {
                w.looked_up.extend(ask);
            }
            any = true;
            continue;
        }
        let mut around: Vec<(i64, String)> = candidates
            .into_iter()
            .filter(|(k, _)| !facts.by_key.contains_key(k) && !w.windowed.contains(k))
            .map(|(k, t)| (t, k))
            .collect();
        if around.is_empty() {
            break;
        }
        around.sort();
        let spans = windows(around.iter().map(|(t, _)| *t));
        if spans.len() > WINDOWS_MAX {
            return Ok(None);
        }
        for (since, until) in spans {
            let mut scope = setup.scope.clone();
            let at = |s: i64| chrono::DateTime::<chrono::Utc>::from_timestamp(s, 0);
            scope.since = scope.since.max(at(since));
            scope.until = match (scope.until, at(until)) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            if scope.since.is_some() && scope.until.is_some() && scope.since >= scope.until {
                // Outside the searched window: the full pass would not read it either.
                continue;
            }
            let out = lookup_pass(setup, facts, &[link::issuing_pattern()], &scope)?;
            tally.add(&out);
        }
        if let Some(w) = &mut facts.walk {
            w.windowed.extend(around.into_iter().map(|(_, k)| k));
        }
        any = true;
    }
    Ok(Some(any))
}

/// The time windows (seconds, `until` exclusive) holding every issuance a session created at
/// one of `times` (sorted) may be inferred to: [`INFER_SECONDS`] either side, one more for
/// `seconds_apart`'s rounding and one for the creation date's fraction; windows closer than a
/// quarter of an hour are joined (one read of the files between them costs less than another
/// pass).
fn windows(times: impl Iterator<Item = i64>) -> Vec<(i64, i64)> {
    let mut out: Vec<(i64, i64)> = Vec::new();
    for t in times {
        let (since, until) = (t - INFER_SECONDS - 2, t + INFER_SECONDS + 3);
        match out.last_mut() {
            Some(last) if since <= last.1 + 900 => last.1 = last.1.max(until),
            _ => out.push((since, until)),
        }
    }
    out
}

/// The keys whose link by inference the trace may need, with the second their session was
/// created: keys with events but no issuing event known, made by a session with a creation
/// date, that are in the trace or were created within [`INFER_SECONDS`] of an unkeyed issuance
/// known (only those can [`infer`] link into the trace; the others are looked at again when
/// more is known).
fn inference_candidates(facts: &Facts, nodes: &BTreeMap<NodeId, NodeInfo>) -> Vec<(String, i64)> {
    // The unkeyed issuances' times, by second (rounded down), to look near a creation date.
    let mut unkeyed: Vec<(i64, &str)> = facts
        .issuances
        .iter()
        .filter(|i| i.unkeyed())
        .filter_map(|i| i.time.as_deref())
        .filter_map(|t| Some((created_second(t)?, t)))
        .collect();
    unkeyed.sort_unstable();
    let mut out = Vec::new();
    for (key, events) in &facts.events {
        if facts.by_key.contains_key(key) || facts.inferred.contains_key(key) {
            continue;
        }
        let Some(e) = events.iter().find(|e| e.caller.session_created.is_some()) else {
            continue;
        };
        let Some(created) = e.caller.session_created.as_deref() else { continue };
        let Some(second) = created_second(created) else { continue };
        let in_trace = nodes.contains_key(&NodeId::Key(key.clone()));
        let near = || {
            let from = unkeyed.partition_point(|(t, _)| *t < second - INFER_SECONDS - 2);
            unkeyed[from..]
                .iter()
                .take_while(|(t, _)| *t <= second + INFER_SECONDS + 2)
                .any(|(_, t)| seconds_apart(t, created).is_some_and(|d| d <= INFER_SECONDS))
        };
        if e.caller.arn.is_some() && (in_trace || near()) {
            out.push((key.clone(), second));
        }
    }
    out.sort();
    out
}

/// Following the links through the index, the accounts whose logs the archive holds are
/// known from every file's path and the records read; where the trace says whether a
/// credential comes from an account not in the archive (the first account of a key no event
/// issued), the archive is asked for that account's records, as the full links pass (which
/// reads every record) would have seen them.
fn accounts_in_archive(
    setup: &TraceSetup<'_>,
    facts: &mut Facts,
    nodes: &BTreeMap<NodeId, NodeInfo>,
    tally: &mut Tally,
) -> anyhow::Result<()> {
    let mut ask: Vec<String> = nodes
        .keys()
        .filter_map(|n| match n {
            NodeId::Key(k) if issuer(facts, n).is_none() => facts.events.get(k)?.first(),
            _ => None,
        })
        .filter_map(|e| e.caller.account.clone())
        .filter(|a| !facts.accounts.contains(a))
        .collect();
    ask.sort();
    ask.dedup();
    for a in ask {
        let q = query(&setup.scope, &[json!({ "recipientAccountId": [a] })], setup.prefilter)?;
        let gate = match &setup.index_dir {
            Some(dir) => crate::index::store::open(&setup.scan.paths, dir, &q, false)
                .map(|g| std::sync::Arc::new(g) as std::sync::Arc<dyn engine::Gate>),
            None => None,
        };
        let scan =
            ScanConfig { validate_hits: false, hit_times: false, gate, ..setup.scan.clone() };
        let mut stats = Stats::default();
        let mut failed = false;
        engine::scan_with_chunks(&scan, &q, setup.stop, &|_: &mut FileReport, _| {}, |_, r| {
            stats.merge(&r.stats);
            failed |= r.failed;
            Ok(())
        })?;
        if stats.records_matched > 0 {
            facts.accounts.insert(a);
        }
        tally.add(&PassOut { stats, failed });
    }
    Ok(())
}

/// The place of each file in pass 1's walk ([`Facts::files`]), by name: what a later pass
/// reads is placed as pass 1 placed it (the engine numbers the files of each walk its own
/// way: files it skips, digests, count there).
struct Places(FxHashMap<String, u64>, u64);

impl Places {
    fn new(facts: &Facts) -> Places {
        let names = facts
            .files
            .iter()
            .enumerate()
            .map(|(n, (p, _))| (p.to_string_lossy().into_owned(), n as u64))
            .collect();
        Places(names, facts.files.len() as u64)
    }

    /// The place of the file named `name`, which this pass's walk numbered `walked` (a file
    /// pass 1 did not see, if any, after all those it saw).
    fn of(&self, name: &str, walked: u64) -> u64 {
        self.0.get(name).copied().unwrap_or(self.1 + walked)
    }
}

/// Files read and ruled out over the passes.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    passes: usize,
    opened: u64,
    ruled_out: u64,
    failed: bool,
}

impl Tally {
    fn add(&mut self, out: &PassOut) {
        let s = &out.stats;
        self.passes += 1;
        self.opened += s.files_read.saturating_sub(s.files_indexed + s.files_answered);
        self.ruled_out += s.files_indexed;
        self.failed |= out.failed;
    }
}

/// Reads the issuing events matching `patterns` in `scope` (the files the index cannot rule
/// out), each in full.
fn lookup_pass(
    setup: &TraceSetup<'_>,
    facts: &mut Facts,
    patterns: &[Value],
    scope: &Filters,
) -> anyhow::Result<PassOut> {
    let q = query(scope, patterns, setup.prefilter)?;
    let gate = match &setup.index_dir {
        Some(dir) => crate::index::store::open(&setup.scan.paths, dir, &q, false)
            .map(|g| std::sync::Arc::new(g) as std::sync::Arc<dyn engine::Gate>),
        None => None,
    };
    let scan = ScanConfig { validate_hits: false, hit_times: false, gate, ..setup.scan.clone() };
    let worker = |report: &mut FileReport, hits: Vec<Match<'_>>| {
        let mut found: Vec<Issuance> = Vec::new();
        for_each_parsed(report, &hits, |m, v| {
            found.extend(at(Issuance::from_record(&v), m.index));
        });
        report.partial = Some(Box::new(found));
    };
    let mut stats = Stats::default();
    let mut failed = false;
    let place = Places::new(facts);
    engine::scan_with_chunks(&scan, &q, setup.stop, &worker, |file, mut report| {
        stats.merge(&report.stats);
        failed |= report.failed;
        if let Some(part) = report.partial.take().and_then(|p| p.downcast::<Vec<Issuance>>().ok()) {
            let file = place.of(&report.name, file);
            for mut i in *part {
                i.file = file as usize;
                take_issuance(facts, i);
            }
        }
        Ok(())
    })?;
    rebuild(facts);
    Ok(PassOut { stats, failed })
}

/// Keeps the events a pass found in the file at `file` (pass 1's walk index), each once.
fn add_events(facts: &mut Facts, file: u64, events: Vec<Event>) {
    for mut e in events {
        e.at.0 = file;
        let Some(k) = e.caller.key.clone() else { continue };
        // The same record found again (by key, then by principal): kept once.
        if let Some(id) = &e.event_id
            && !facts.seen_events.insert(format!("{id}/{}", e.account.as_deref().unwrap_or("")))
        {
            continue;
        }
        // The same call logged by another account's trail: counted, kept once (the copy
        // first in the walk, whichever pass found it first).
        if let Some(id) = &e.shared_event_id {
            match facts.shared.entry(id.clone()) {
                std::collections::hash_map::Entry::Occupied(mut kept) => {
                    facts.duplicates += 1;
                    let (key, at) = kept.get().clone();
                    if e.at < at
                        && let Some(old) = facts
                            .events
                            .get_mut(&key)
                            .and_then(|v| v.iter_mut().find(|x| x.at == at))
                    {
                        kept.insert((k.clone(), e.at));
                        if key == k {
                            *old = e;
                        } else {
                            // (Another key's copy of the same call: not CloudTrail's doing.)
                            if let Some(v) = facts.events.get_mut(&key) {
                                v.retain(|x| x.at != at);
                            }
                            facts.events.entry(k).or_default().push(e);
                        }
                    }
                    continue;
                }
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert((k.clone(), e.at));
                }
            }
        }
        facts.events.entry(k).or_default().push(e);
    }
}

/// The seconds between two `eventTime`-like texts.
fn seconds_apart(a: &str, b: &str) -> Option<i64> {
    let a = time::parse_event_time(a)?;
    let b = time::parse_event_time(b)?;
    Some((a - b).num_seconds().abs())
}

/// Links keys that no event issued to the unkeyed sessions (console sign-ins, redacted or
/// unrecorded credentials) of the same principal created at the same time.
fn infer(facts: &mut Facts) {
    let unkeyed: Vec<usize> =
        (0..facts.issuances.len()).filter(|&i| facts.issuances[i].unkeyed()).collect();
    let mut found = Vec::new();
    for (key, events) in &facts.events {
        if facts.by_key.contains_key(key) || facts.inferred.contains_key(key) {
            continue;
        }
        // Only session credentials carry a creation date; the first event that names one.
        let Some(e) = events.iter().find(|e| e.caller.session_created.is_some()) else {
            continue;
        };
        let (Some(arn), Some(created)) = (&e.caller.arn, &e.caller.session_created) else {
            continue;
        };
        let best = unkeyed
            .iter()
            .filter_map(|&i| {
                let iss = &facts.issuances[i];
                // Not a session the key opened itself (GetSigninToken and ConsoleLogin made
                // with the key they are about).
                if iss.session_arn.as_ref() != Some(arn) || iss.caller.key.as_ref() == Some(key) {
                    return None;
                }
                let d = seconds_apart(iss.time.as_deref()?, created)?;
                (d <= INFER_SECONDS).then_some((d, i))
            })
            .min();
        if best.is_none()
            && let Some(s) = e.caller.sso_session()
        {
            // An Identity Center role session: the access-portal call that gave it out.
            let sso = unkeyed
                .iter()
                .filter_map(|&i| {
                    let iss = &facts.issuances[i];
                    let how = iss.sso.as_ref()?.matches(&e.caller, &s)?;
                    let d = seconds_apart(iss.time.as_deref()?, created)?;
                    (d <= INFER_SECONDS).then_some((d, i, how))
                })
                .min();
            if let Some((d, i, how)) = sso {
                let iss = &facts.issuances[i];
                let evidence = format!(
                    "IAM Identity Center: account {}, permission set {} (role {}), {how}; \
session created {created}, {} at {} ({d} s apart); CloudTrail does not record the key \
Identity Center gave out",
                    s.account,
                    s.permission_set,
                    s.role,
                    iss.event_name,
                    iss.time.as_deref().unwrap_or("?"),
                );
                found.push((key.clone(), i, evidence));
            }
            continue;
        }
        if let Some((d, i)) = best {
            let iss = &facts.issuances[i];
            let evidence = format!(
                "same principal {arn}; session created {created}, {} at {} ({d} s apart); \
CloudTrail does not record this session's key",
                iss.event_name,
                iss.time.as_deref().unwrap_or("?"),
            );
            found.push((key.clone(), i, evidence));
        }
    }
    for (key, i, evidence) in found {
        // Every event of an inferred session carries the principal whose events were read:
        // known whole when every file holding its key was read for that principal (else its
        // key is searched for like any other).
        if facts.issuances[i]
            .session_arn
            .as_ref()
            .is_some_and(|a| facts.scanned_arns.contains(a) && principal_read_whole(facts, a, &key))
        {
            facts.scanned_keys.insert(key.clone());
        }
        facts.inferred.insert(key, (i, evidence));
    }
}

/// Whether every file that holds `key` (as pass 1 noted) was read whole for the principal
/// `arn`.
fn principal_read_whole(facts: &Facts, arn: &str, key: &str) -> bool {
    match facts.principal_files.get(arn) {
        Some(Some(read)) => {
            let h = key_hash(key);
            facts.files.iter().enumerate().all(|(n, (_, notes))| {
                read.contains(&n) || notes.as_ref().is_none_or(|set| !set.contains(&h))
            })
        }
        _ => true,
    }
}

/// The issuer of a node: (issuance, how linked).
fn issuer(facts: &Facts, node: &NodeId) -> Option<(usize, Link)> {
    match node {
        NodeId::Key(k) => facts
            .by_key
            .get(k)
            .map(|&i| (i, Link::Certain))
            .or_else(|| facts.inferred.get(k).map(|(i, e)| (*i, Link::Inferred(e.clone())))),
        NodeId::Issuance(i) => Some((*i, Link::Certain)),
    }
}

/// The node above `node`: the credential that made its issuing call.
fn parent(facts: &Facts, node: &NodeId) -> Option<(NodeId, Link)> {
    let (i, link) = issuer(facts, node)?;
    match node {
        NodeId::Key(_) if facts.issuances[i].unkeyed() => Some((NodeId::Issuance(i), link)),
        _ => {
            let caller = facts.issuances[i].caller.key.clone()?;
            Some((NodeId::Key(caller), link))
        }
    }
}

/// The nodes directly below `node`, in issuance time order.
fn children(facts: &Facts, node: &NodeId) -> Vec<NodeId> {
    let mut out: Vec<(i64, NodeId)> = Vec::new();
    match node {
        NodeId::Key(k) => {
            for &i in facts.by_caller.get(k).map(Vec::as_slice).unwrap_or_default() {
                let iss = &facts.issuances[i];
                let child = match iss.key() {
                    Some(c) => NodeId::Key(c.to_string()),
                    None => NodeId::Issuance(i),
                };
                out.push((iss.sort, child));
            }
        }
        NodeId::Issuance(i) => {
            for (k, (j, _)) in &facts.inferred {
                if j == i {
                    let first =
                        facts.events.get(k).and_then(|v| v.first()).map_or(i64::MAX, |e| e.sort);
                    out.push((first, NodeId::Key(k.clone())));
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out.into_iter().map(|(_, n)| n).collect()
}

/// The nodes of the trace: the seeds, their ancestors (up) and descendants (down).
fn closure(facts: &Facts, direction: Direction) -> BTreeMap<NodeId, NodeInfo> {
    let mut nodes: BTreeMap<NodeId, NodeInfo> = BTreeMap::new();
    let info = |ancestor| NodeInfo { parent: None, children: Vec::new(), link: None, ancestor };
    for s in &facts.seeds {
        nodes.entry(s.clone()).or_insert_with(|| info(false));
    }
    if direction.down() {
        let mut todo: Vec<NodeId> = facts.seeds.iter().cloned().collect();
        while let Some(n) = todo.pop() {
            for c in children(facts, &n) {
                if !nodes.contains_key(&c) {
                    nodes.insert(c.clone(), info(false));
                    todo.push(c);
                }
            }
        }
    }
    if direction.up() {
        for s in &facts.seeds {
            let mut cur = s.clone();
            while let Some((p, _)) = parent(facts, &cur) {
                if nodes.contains_key(&p) {
                    break;
                }
                nodes.insert(p.clone(), info(true));
                cur = p;
            }
        }
    }
    // Parents and children within the trace.
    let ids: Vec<NodeId> = nodes.keys().cloned().collect();
    for id in &ids {
        let issued = issuer(facts, id).map(|(_, l)| l);
        let above = parent(facts, id).map(|(p, _)| p).filter(|p| nodes.contains_key(p) && p != id);
        if let Some(n) = nodes.get_mut(id) {
            n.link = issued;
            n.parent = above;
        }
    }
    for id in &ids {
        let kids: Vec<NodeId> = children(facts, id)
            .into_iter()
            .filter(|c| nodes.get(c).is_some_and(|n| n.parent.as_ref() == Some(id)))
            .collect();
        if let Some(n) = nodes.get_mut(id) {
            n.children = kids;
        }
    }
    nodes
}

/// Totals for one credential.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Totals {
    /// Events made with it.
    pub events: u64,
    /// Distinct `eventSource`s.
    pub services: BTreeSet<String>,
    /// Distinct `recipientAccountId`s.
    pub accounts: BTreeSet<String>,
    /// Distinct `awsRegion`s.
    pub regions: BTreeSet<String>,
    /// Distinct `sourceIPAddress`es.
    pub ips: BTreeSet<String>,
    /// Events with an error.
    pub errors: u64,
    /// First event time.
    pub first_seen: Option<String>,
    /// Last event time.
    pub last_seen: Option<String>,
}

impl Totals {
    /// Adds up `events` (in time order).
    #[must_use]
    pub fn of<'a>(events: impl IntoIterator<Item = &'a Event>) -> Totals {
        let mut t = Totals::default();
        for e in events {
            t.events += 1;
            t.services.insert(e.event_source.clone());
            t.accounts.extend(e.account.clone());
            t.regions.extend(e.region.clone());
            t.ips.extend(e.source_ip.clone());
            t.errors += u64::from(e.error_code.is_some());
            if t.first_seen.is_none() {
                t.first_seen.clone_from(&e.time);
            }
            if e.time.is_some() {
                t.last_seen.clone_from(&e.time);
            }
        }
        t
    }
}

impl Trace {
    /// The events made with the credentials of the trace (those of other sessions a search
    /// by principal read are not in it).
    #[must_use]
    pub fn events_in_trace(&self) -> u64 {
        self.nodes.keys().map(|id| self.events_of(id).len() as u64).sum()
    }

    /// Whether the seeds were seen at all.
    #[must_use]
    pub fn found(&self) -> bool {
        self.facts.seeds.iter().any(|s| match s {
            NodeId::Key(k) => {
                self.facts.events.contains_key(k)
                    || self.facts.by_key.contains_key(k)
                    || self.facts.by_caller.contains_key(k)
            }
            NodeId::Issuance(_) => true,
        })
    }

    /// The tops of the trees: nodes without a parent in the trace, in time order.
    #[must_use]
    pub fn roots(&self) -> Vec<NodeId> {
        let mut r: Vec<(i64, NodeId)> = self
            .nodes
            .iter()
            .filter(|(_, n)| n.parent.is_none())
            .map(|(id, _)| (self.first_time(id), id.clone()))
            .collect();
        r.sort();
        r.into_iter().map(|(_, id)| id).collect()
    }

    fn first_time(&self, id: &NodeId) -> i64 {
        match issuer(&self.facts, id) {
            Some((i, _)) => self.facts.issuances[i].sort,
            None => self.events_of(id).first().map_or(i64::MAX, |e| e.sort),
        }
    }

    /// The events made with a node's credential.
    #[must_use]
    pub fn events_of(&self, id: &NodeId) -> &[Event] {
        match id {
            NodeId::Key(k) => self.facts.events.get(k).map(Vec::as_slice).unwrap_or_default(),
            NodeId::Issuance(_) => &[],
        }
    }

    /// The issuing event of a node, if the archive holds it.
    #[must_use]
    pub fn issuance_of(&self, id: &NodeId) -> Option<&Issuance> {
        issuer(&self.facts, id).map(|(i, _)| &self.facts.issuances[i])
    }

    /// Where the evidence ends above a root of the trace, in plain words.
    #[must_use]
    pub fn origin(&self, id: &NodeId) -> String {
        if let Some((i, _)) = issuer(&self.facts, id) {
            let iss = &self.facts.issuances[i];
            if let Some(o) = iss.origin() {
                return o;
            }
            if let Some(k) = &iss.caller.key {
                return format!(
                    "issued by a call made with {k} (provenance not traced: use --up or --both)"
                );
            }
        }
        let NodeId::Key(k) = id else {
            return "the start of the trace".to_string();
        };
        let seen = self.events_of(id).first();
        let account = seen.and_then(|e| e.caller.account.clone());
        let who = seen.map(|e| e.caller.actor.clone());
        let long_term = k.starts_with("AKIA");
        let what = match (long_term, &who) {
            (true, Some(w)) => format!("long-term access key of {w}"),
            (true, None) => "long-term access key".to_string(),
            (false, Some(w)) => format!("temporary credentials of {w}"),
            (false, None) => "temporary credentials".to_string(),
        };
        match &account {
            Some(a) if !self.facts.accounts.contains(a) => format!(
                "{what}: issued in an account not in the archive ({a}); no event in the archive issued it"
            ),
            _ if self.facts.by_key.contains_key(k) && !self.direction.up() => {
                format!("{what} (provenance not traced: use --up or --both)")
            }
            _ => format!(
                "{what}: issued before the archive starts (or outside the searched window); no event in the archive issued it{}",
                seen.and_then(|e| e.time.as_deref())
                    .map(|t| format!("; first used {t}"))
                    .unwrap_or_default()
            ),
        }
    }

    /// The path from a seed to a node: seed first, node last.
    #[must_use]
    pub fn path_from_seed(&self, id: &NodeId) -> Vec<NodeId> {
        let mut up = vec![id.clone()];
        let mut cur = id.clone();
        while !self.facts.seeds.contains(&cur) {
            match self.nodes.get(&cur).and_then(|n| n.parent.clone()) {
                Some(p) if !up.contains(&p) => {
                    up.push(p.clone());
                    cur = p;
                }
                _ => break,
            }
        }
        if self.facts.seeds.contains(&cur) {
            up.reverse();
            return up;
        }
        // An ancestor: the path goes up from the seed below it.
        let mut down = Vec::new();
        let mut stack = vec![(id.clone(), vec![id.clone()])];
        while let Some((n, path)) = stack.pop() {
            if self.facts.seeds.contains(&n) {
                down = path;
                break;
            }
            for c in self.nodes.get(&n).map(|i| i.children.clone()).unwrap_or_default() {
                let mut p = path.clone();
                p.push(c.clone());
                stack.push((c, p));
            }
        }
        down.reverse();
        down
    }

    /// Every event of the trace with its node, in time order.
    #[must_use]
    pub fn activity(&self) -> Vec<(&NodeId, &Event)> {
        let mut all: Vec<(&NodeId, &Event)> = self
            .nodes
            .keys()
            .flat_map(|id| self.events_of(id).iter().map(move |e| (id, e)))
            .collect();
        all.sort_by_key(|(_, e)| (e.sort, e.at));
        all
    }

    /// A short label for a node: its key, or the kind of session.
    #[must_use]
    pub fn label(&self, id: &NodeId) -> String {
        match id {
            NodeId::Key(k) => k.clone(),
            NodeId::Issuance(i) => {
                let iss = &self.facts.issuances[*i];
                let at = iss.time.as_deref().unwrap_or("(no time)");
                match &iss.issued {
                    Issued::ConsoleSession => format!("console session signed in {at}"),
                    Issued::Redacted(_) => format!("{} {at}: credentials redacted", iss.event_name),
                    Issued::NotRecorded => {
                        format!("{} {at}: credentials not recorded", iss.event_name)
                    }
                    Issued::Sso => {
                        let what = iss.sso.as_ref().map_or_else(String::new, |g| {
                            format!(" for {} in {}", g.permission_set, g.account)
                        });
                        let kind = if iss.event_name == "Federate" {
                            "console federation"
                        } else {
                            "role credentials"
                        };
                        format!("IAM Identity Center {kind}{what} ({} {at})", iss.event_name)
                    }
                    Issued::Nothing => format!(
                        "FAILED {} {at} ({}): issued nothing",
                        iss.event_name,
                        iss.error.as_deref().unwrap_or("error")
                    ),
                    Issued::Key(k) => k.clone(),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
