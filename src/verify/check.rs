//! Following the digest chains and checking every link, signature and log file.

use super::digest::{Digest, DigestName, awslogs_key, base_name, string_to_sign};
use super::hash::{HashError, Hashed, hash_all};
use super::{Item, Kind, Options, Report, Status, keys};
use crate::source::{FileKind, FileMeta, Input, PruneRules, SkipReason, WalkItem, Walker};
use chrono::{DateTime, Duration, Utc};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

const ALGORITHM: &str = "SHA256withRSA";

/// A digest file as found.
struct Node {
    shown: String,
    /// Hex SHA-256 of its content (none when it could not be read).
    hex: Option<String>,
    digest: Option<Digest>,
    /// The key the chain links use: from `AWSLogs/` on (else the whole key).
    key: String,
    chain: Option<String>,
    item: Item,
    /// Digests that name it as their predecessor.
    successors: Vec<usize>,
    /// Signatures for it: (where from, hex).
    signatures: Vec<(String, String)>,
}

/// A local file that is not a digest.
struct LocalFile {
    path: PathBuf,
    meta: FileMeta,
}

fn path_text(p: &Path) -> String {
    p.to_string_lossy().replace('\\', "/")
}

fn chain_of(d: &Digest, name: &DigestName) -> String {
    // The folder above `YYYY/MM/DD/<name>`: bucket, prefix, org, account, region.
    let folder = d.digest_s3_object.rsplitn(5, '/').nth(4).unwrap_or("");
    let backfill = if name.backfill { " (backfill)" } else { "" };
    format!("{}/{folder} trail {}{backfill}", d.digest_s3_bucket, name.trail)
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn overlaps(opts: &Options, start: DateTime<Utc>, end: DateTime<Utc>) -> bool {
    opts.since.is_none_or(|s| end > s) && opts.until.is_none_or(|u| start < u)
}

fn wanted(opts: &Options, account: &str, region: &str) -> bool {
    (opts.accounts.is_empty() || opts.accounts.iter().any(|a| a == account))
        && (opts.regions.is_empty() || opts.regions.iter().any(|r| r == region))
}

/// Runs the whole verification. Once `stop` is set (Ctrl-C) no further file is read; the
/// caller must then discard the report ([`Report::interrupted`]).
#[must_use]
pub fn run(opts: &Options, stop: &AtomicBool) -> Report {
    let mut report = Report::default();
    report.summary.public_keys_given = opts.keys_given;
    let (digest_paths, files) = walk(opts, &mut report);
    let mut nodes = read_digests(opts, digest_paths, &mut report, stop);
    let by_key = index_digests(&mut nodes);
    let mut mismatches = Vec::new();
    let chains = link(opts, &mut nodes, &by_key, &mut report, &mut mismatches);
    report.summary.chains = chains.len() as u64;
    check_signatures(opts, &mut nodes, &mut report);
    blame(&mut nodes, mismatches);
    check_logs(opts, &nodes, &chains, &files, &mut report, stop);
    for n in nodes {
        let in_window = match &n.digest {
            Some(d) => overlaps(opts, d.start, d.end),
            None => true,
        };
        if in_window {
            report.items.push(n.item);
        } else {
            report.summary.outside_window += 1;
        }
    }
    report.interrupted = stop.load(std::sync::atomic::Ordering::Relaxed);
    report.finish();
    report
}

/// Finds digests and other files with the project's walker.
fn walk(opts: &Options, report: &mut Report) -> (Vec<PathBuf>, Vec<LocalFile>) {
    let rules = PruneRules {
        accounts: opts.accounts.clone(),
        regions: opts.regions.clone(),
        since: None,
        until: None,
        enabled: !opts.accounts.is_empty() || !opts.regions.is_empty(),
    };
    let paths = if opts.paths.is_empty() { vec![PathBuf::from(".")] } else { opts.paths.clone() };
    let (mut digests, mut files) = (Vec::new(), Vec::new());
    for item in Walker::new(paths, rules) {
        match item {
            WalkItem::Pruned { path, reason: SkipReason::Digest, dir: false } => digests.push(path),
            WalkItem::Pruned { .. } => report.summary.filtered_out += 1,
            WalkItem::Ignored { .. } => report.summary.other_files += 1,
            WalkItem::Error { path, message } => {
                report.summary.errors.push(format!("{}: {message}", path.display()));
            }
            WalkItem::File(Input::Path(path), meta) => files.push(LocalFile { path, meta }),
            WalkItem::File(Input::Stdin, _) => {
                report.summary.errors.push("-: verify reads files and folders, not stdin".into());
            }
        }
    }
    (digests, files)
}

/// Reads, hashes and parses every digest (in parallel).
fn read_digests(
    opts: &Options,
    paths: Vec<PathBuf>,
    report: &mut Report,
    stop: &AtomicBool,
) -> Vec<Node> {
    let hashed = hash_all(&paths, true, opts.threads, opts.max_file_size, stop);
    let mut nodes = Vec::new();
    for (path, result) in paths.into_iter().zip(hashed) {
        let shown = path.display().to_string();
        let text = path_text(&path);
        let local_key = awslogs_key(&text).unwrap_or(base_name(&text)).to_string();
        let mut item = Item::new(Kind::Digest, shown.clone());
        let mut node = Node {
            shown,
            hex: None,
            digest: None,
            key: local_key.clone(),
            chain: None,
            item: Item::new(Kind::Digest, String::new()),
            successors: Vec::new(),
            signatures: Vec::new(),
        };
        match result {
            Err(HashError::Io(e)) => {
                report.summary.errors.push(format!("{}: {e}", node.shown));
                item.add(Status::Unverified, "unreadable", format!("could not be read: {e}"));
            }
            Err(HashError::Content(e)) => {
                item.add(Status::Invalid, "invalid-format", format!("cannot be decompressed: {e}"));
            }
            Ok(Hashed { sha256, exact, content }) => {
                let hex = hex::encode(sha256);
                item.sha256 = Some(hex.clone());
                node.hex = Some(hex);
                if exact.trailing > 0 {
                    item.add(
                        Status::Invalid,
                        "trailing-data",
                        format!("{} bytes after the first gzip member", exact.trailing),
                    );
                }
                match Digest::parse(content.as_deref().unwrap_or_default()) {
                    Err(e) => item.add(Status::Invalid, "invalid-format", e),
                    Ok(d) => match DigestName::parse(base_name(&d.digest_s3_object)) {
                        None => item.add(
                            Status::Invalid,
                            "invalid-format",
                            format!(
                                "digestS3Object {:?} does not name a CloudTrail digest file",
                                d.digest_s3_object
                            ),
                        ),
                        Some(name) => {
                            if !wanted(opts, &name.account, &name.region) {
                                report.summary.filtered_out += 1;
                                continue;
                            }
                            let key = awslogs_key(&d.digest_s3_object)
                                .unwrap_or(&d.digest_s3_object)
                                .to_string();
                            let delivered = format!("s3://{}", d.s3_path());
                            let placed = match awslogs_key(&text) {
                                Some(local) => local == key,
                                None => base_name(&text) == base_name(&key),
                            };
                            if !placed {
                                item.add(
                                    Status::Invalid,
                                    "moved",
                                    format!("delivered as {delivered}, found elsewhere"),
                                );
                            }
                            let chain = chain_of(&d, &name);
                            item.s3 = Some(delivered);
                            item.chain = Some(chain.clone());
                            item.start = Some(d.digest_start_time.clone());
                            item.end = Some(d.digest_end_time.clone());
                            item.order =
                                (chain.clone(), d.end.timestamp(), Kind::Digest, key.clone());
                            node.key = key;
                            node.chain = Some(chain);
                            node.digest = Some(d);
                        }
                    },
                }
            }
        }
        if node.digest.is_none() {
            // Unreadable digests come first, in path order.
            item.order = (String::new(), i64::MIN, Kind::Digest, node.shown.clone());
            let name = DigestName::parse(base_name(&text));
            if let Some(n) = &name
                && !wanted(opts, &n.account, &n.region)
            {
                report.summary.filtered_out += 1;
                continue;
            }
        }
        node.item = item;
        nodes.push(node);
    }
    nodes
}

/// Digests by the key their content names; a second copy of the same key is reported.
fn index_digests(nodes: &mut [Node]) -> HashMap<String, usize> {
    let mut by_key: HashMap<String, usize> = HashMap::new();
    for i in 0..nodes.len() {
        if nodes[i].digest.is_none() {
            continue;
        }
        let key = nodes[i].key.clone();
        match by_key.get(&key) {
            None => {
                by_key.insert(key, i);
            }
            Some(&first) => {
                let same = nodes[first].hex == nodes[i].hex;
                let other = nodes[first].shown.clone();
                let n = &mut nodes[i];
                if same {
                    n.item.add(
                        Status::Unverified,
                        "duplicate",
                        format!("an identical copy of {other}, which is the one checked"),
                    );
                } else {
                    n.item.add(
                        Status::Invalid,
                        "duplicate",
                        format!("another copy of {other} with different content"),
                    );
                }
                // Out of the chains: only the first copy is followed.
                n.chain = None;
            }
        }
    }
    by_key
}

/// Per chain: its digests in time order, and the span they cover.
struct Chain {
    members: Vec<usize>,
    account: String,
    region: String,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

/// What following a digest's link reads of it (not its list of log files).
struct Link {
    start: DateTime<Utc>,
    digest_start_time: String,
    previous_digest_s3_bucket: Option<String>,
    previous_digest_s3_object: Option<String>,
    previous_digest_hash_value: Option<String>,
    previous_digest_signature: Option<String>,
}

impl Link {
    fn of(d: &Digest) -> Link {
        Link {
            start: d.start,
            digest_start_time: d.digest_start_time.clone(),
            previous_digest_s3_bucket: d.previous_digest_s3_bucket.clone(),
            previous_digest_s3_object: d.previous_digest_s3_object.clone(),
            previous_digest_hash_value: d.previous_digest_hash_value.clone(),
            previous_digest_signature: d.previous_digest_signature.clone(),
        }
    }
}

/// Follows every `previousDigestS3Object` link: hash links, missing digests, gaps, breaks.
fn link(
    opts: &Options,
    nodes: &mut [Node],
    by_key: &HashMap<String, usize>,
    report: &mut Report,
    mismatches: &mut Vec<(usize, usize, String)>,
) -> BTreeMap<String, Chain> {
    let mut chains: BTreeMap<String, Chain> = BTreeMap::new();
    for (i, n) in nodes.iter().enumerate() {
        let (Some(c), Some(d)) = (&n.chain, &n.digest) else { continue };
        let name = DigestName::parse(base_name(&d.digest_s3_object));
        let (account, region) = name.map(|n| (n.account, n.region)).unwrap_or_default();
        let chain = chains.entry(c.clone()).or_insert_with(|| Chain {
            members: Vec::new(),
            account,
            region,
            start: d.start,
            end: d.end,
        });
        chain.members.push(i);
        chain.start = chain.start.min(d.start);
        chain.end = chain.end.max(d.end);
    }
    for chain in chains.values_mut() {
        chain.members.sort_by(|&a, &b| {
            let (da, db) = (nodes[a].digest.as_ref(), nodes[b].digest.as_ref());
            let ka = da.map(|d| (d.end, d.start));
            let kb = db.map(|d| (d.end, d.start));
            ka.cmp(&kb).then_with(|| nodes[a].key.cmp(&nodes[b].key))
        });
    }
    for (name, chain) in &chains {
        for (pos, &i) in chain.members.iter().enumerate() {
            let Some(d) = nodes[i].digest.as_ref().map(Link::of) else { continue };
            // The latest digest of the chain that ends by the time this one starts.
            let earlier = chain.members[..pos]
                .iter()
                .rev()
                .copied()
                .find(|&j| nodes[j].digest.as_ref().is_some_and(|p| p.end <= d.start));
            let Some(prev) = &d.previous_digest_s3_object else {
                if let Some(q) = earlier {
                    let q_end = nodes[q].digest.as_ref().map_or(d.start, |p| p.end);
                    if q_end < d.start && overlaps(opts, q_end, d.start) {
                        let detail = format!(
                            "no digest covers {} .. {}: {} starts a new chain (its previous \
                             digest is null), as CloudTrail does when logging or log file \
                             validation was turned off; no log file delivered then can be \
                             proven (only a verified signature on {} proves the restart is \
                             CloudTrail's)",
                            iso(q_end),
                            iso(d.start),
                            nodes[i].shown,
                            nodes[i].shown
                        );
                        report.items.push(gap(name, q_end, d.start, "chain-restart", detail));
                    }
                }
                continue;
            };
            let prev_key = awslogs_key(prev).unwrap_or(prev).to_string();
            match by_key.get(&prev_key).copied() {
                Some(p) => {
                    nodes[p].successors.push(i);
                    if let Some(sig) = &d.previous_digest_signature {
                        let from = format!("previousDigestSignature of {}", nodes[i].shown);
                        nodes[p].signatures.push((from, sig.clone()));
                    }
                    let want = d.previous_digest_hash_value.clone().unwrap_or_default();
                    if nodes[p].hex.as_deref().is_some_and(|h| !h.eq_ignore_ascii_case(&want)) {
                        mismatches.push((p, i, want));
                    }
                    let p_end = nodes[p].digest.as_ref().map_or(d.start, |pd| pd.end);
                    if p_end < d.start && overlaps(opts, p_end, d.start) {
                        let detail = format!(
                            "no digest covers {} .. {}, yet {} names {} as its predecessor: \
                             no digest was deleted in between (logging was off)",
                            iso(p_end),
                            iso(d.start),
                            nodes[i].shown,
                            nodes[p].shown
                        );
                        report.items.push(gap(name, p_end, d.start, "no-delivery", detail));
                    }
                }
                None => {
                    let named_by = nodes[i].shown.clone();
                    match earlier {
                        None => nodes[i].item.add(
                            Status::Unverified,
                            "predecessor-not-in-archive",
                            format!(
                                "its predecessor {prev} is not in the archive, nor any earlier \
                                 digest of this chain: the copy starts here (or everything \
                                 before was deleted)"
                            ),
                        ),
                        Some(q) => {
                            let q_end = nodes[q].digest.as_ref().map_or(d.start, |p| p.end);
                            if !overlaps(opts, q_end, d.start.max(q_end + Duration::seconds(1))) {
                                continue;
                            }
                            let hours = ((d.start - q_end).num_minutes().max(0) + 59) / 60;
                            let bucket = d.previous_digest_s3_bucket.clone().unwrap_or_default();
                            let mut item = Item::new(Kind::Digest, prev.clone());
                            item.s3 = Some(format!("s3://{bucket}/{prev}"));
                            item.chain = Some(name.clone());
                            item.start = Some(iso(q_end));
                            item.end = Some(d.digest_start_time.clone());
                            item.order =
                                (name.clone(), d.start.timestamp(), Kind::Digest, prev.clone());
                            item.add(
                                Status::Invalid,
                                "not-found",
                                format!(
                                    "named as previousDigestS3Object by {named_by} but not in \
                                     the archive; no digest present covers {} .. {} (about {} \
                                     hourly digest{} missing, after {})",
                                    iso(q_end),
                                    d.digest_start_time,
                                    hours.max(1),
                                    if hours > 1 { "s" } else { "" },
                                    nodes[q].shown
                                ),
                            );
                            report.items.push(item);
                        }
                    }
                }
            }
        }
        // A digest nobody names, followed by one that names another digest present: the chain
        // was re-linked around it.
        for (pos, &q) in chain.members.iter().enumerate() {
            if !nodes[q].successors.is_empty() {
                continue;
            }
            let q_end = nodes[q].digest.as_ref().map(|d| d.end);
            let next = chain.members[pos + 1..].iter().copied().find(|&j| {
                nodes[j].digest.as_ref().is_some_and(|d| q_end.is_some_and(|e| d.start >= e))
            });
            let Some(n) = next else { continue };
            let Some(prev) =
                nodes[n].digest.as_ref().and_then(|d| d.previous_digest_s3_object.clone())
            else {
                continue;
            };
            let prev_key = awslogs_key(&prev).unwrap_or(&prev).to_string();
            if let Some(&other) = by_key.get(&prev_key)
                && other != q
            {
                let detail = format!(
                    "no digest names it as predecessor: the next digest {} names {} instead",
                    nodes[n].shown, nodes[other].shown
                );
                nodes[q].item.add(Status::Invalid, "chain-broken", detail);
            }
        }
    }
    chains
}

/// A broken hash link between a digest `p` and the next one `i`, which records `want` as its
/// SHA-256: one of the two changed. When `p`'s signature (taken from `i`) verified, `p` is
/// what CloudTrail signed and `i` was changed; otherwise `p` is the one that does not match.
fn blame(nodes: &mut [Node], mismatches: Vec<(usize, usize, String)>) {
    for (p, i, want) in mismatches {
        let have = nodes[p].hex.clone().unwrap_or_default();
        if nodes[p].item.key.is_some() {
            let detail = format!(
                "records {want} as the SHA-256 of its predecessor {}, which is {have} and whose \
                 signature verifies: this digest was changed",
                nodes[p].shown
            );
            nodes[i].item.add(Status::Invalid, "previous-hash-mismatch", detail);
        } else {
            let detail = format!(
                "its SHA-256 is {have}, but the next digest {} records {want}: this file \
                 changed after that digest was written (or that record was changed)",
                nodes[i].shown
            );
            nodes[p].item.add(Status::Invalid, "previous-hash-mismatch", detail);
        }
    }
}

fn gap(
    chain: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    code: &'static str,
    detail: String,
) -> Item {
    let mut item = Item::new(Kind::Gap, format!("{} .. {}", iso(from), iso(to)));
    item.chain = Some(chain.to_string());
    item.start = Some(iso(from));
    item.end = Some(iso(to));
    item.order = (chain.to_string(), from.timestamp(), Kind::Gap, String::new());
    item.add(Status::Gap, code, detail);
    item
}

/// Checks each digest's signature(s) with the key its fingerprint names.
fn check_signatures(opts: &Options, nodes: &mut [Node], report: &mut Report) {
    let mut keys: HashMap<&str, &keys::PublicKey> = HashMap::new();
    for k in &opts.keys {
        keys.insert(k.fingerprint.as_str(), k);
        if let Some(f) = &k.pkcs1_fingerprint {
            keys.entry(f.as_str()).or_insert(k);
        }
    }
    for n in nodes.iter_mut() {
        let Some(d) = &n.digest else { continue };
        if n.chain.is_none() {
            continue;
        }
        let mut sources = n.signatures.clone();
        if let Some(sig) = opts.signatures.as_ref().and_then(|s| s.get(&d.digest_s3_object)) {
            let from =
                format!("--signatures {}", opts.signatures.as_ref().map_or("", |s| &s.source));
            sources.push((from, sig.to_string()));
        }
        let region =
            DigestName::parse(base_name(&d.digest_s3_object)).map(|n| n.region).unwrap_or_default();
        // CloudTrail signs with SHA256withRSA only. Another name is checked as that all the
        // same: the field is part of what is signed, so a digest whose field was changed fails.
        let alg = d.digest_signature_algorithm.as_deref().unwrap_or("");
        let other_alg = (alg != ALGORITHM).then(|| {
            format!(
                " (its digestSignatureAlgorithm is {alg:?}, not {ALGORITHM}, the only one \
                 CloudTrail uses: checked as {ALGORITHM})"
            )
        });
        if sources.is_empty() {
            n.item.add(
                Status::Unverified,
                "no-signature",
                format!(
                    "no signature available offline (no later digest names it): save it from \
                     the object's metadata with `aws s3api head-object --bucket {} --key {} > \
                     {}.json` and pass the folder with --signatures",
                    d.digest_s3_bucket,
                    d.digest_s3_object,
                    base_name(&d.digest_s3_object)
                ),
            );
            continue;
        }
        let fp = d.digest_public_key_fingerprint.clone().unwrap_or_default().to_ascii_lowercase();
        let fetch = format!(
            "aws cloudtrail list-public-keys --region {region} --start-time {} --end-time {} > \
             keys-{region}.json, then --public-keys keys-{region}.json",
            iso(d.start - Duration::days(1)),
            iso(d.end + Duration::days(1)),
        );
        if !opts.keys_given {
            n.item.add(
                Status::Unverified,
                "signature-not-checked",
                format!("no --public-keys: the signature was not checked ({fetch})"),
            );
            continue;
        }
        let Some(key) = keys.get(fp.as_str()) else {
            n.item.add(
                Status::Unverified,
                "no-public-key",
                format!("no public key for fingerprint {fp} in region {region}: {fetch}"),
            );
            continue;
        };
        let hex = n.hex.clone().unwrap_or_default();
        let message = string_to_sign(
            &d.digest_end_time,
            &d.digest_s3_bucket,
            &d.digest_s3_object,
            &hex,
            d.previous_digest_signature.as_deref(),
        );
        let mut ok = true;
        for (from, sig) in &sources {
            let verified = match hex::decode(sig.trim()) {
                Err(_) => {
                    n.item.add(
                        Status::Invalid,
                        "signature-failed",
                        format!("the signature from {from} is not hex"),
                    );
                    ok = false;
                    continue;
                }
                Ok(bytes) => keys::verify(&key.key, message.as_bytes(), &bytes),
            };
            if !verified {
                ok = false;
                n.item.add(
                    Status::Invalid,
                    "signature-failed",
                    format!(
                        "the signature from {from} does not verify with key {fp} ({}): the \
                         digest or that signature was changed{}",
                        key.source,
                        other_alg.as_deref().unwrap_or("")
                    ),
                );
            }
        }
        if ok {
            n.item.key = Some(fp.clone());
            report.summary.keys_used.insert(fp);
        }
    }
}

/// Where a listed log file is.
enum Found {
    /// At its key (under any prefix); `renamed` when only without `.gz`.
    Placed(usize),
    /// Somewhere else, by its file name.
    Moved(usize),
}

/// Checks every log file the digests in the window list, and the log files no digest lists.
fn check_logs(
    opts: &Options,
    nodes: &[Node],
    chains: &BTreeMap<String, Chain>,
    files: &[LocalFile],
    report: &mut Report,
    stop: &AtomicBool,
) {
    let mut by_key: HashMap<String, Vec<usize>> = HashMap::new();
    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
    let texts: Vec<String> = files.iter().map(|f| path_text(&f.path)).collect();
    for (i, t) in texts.iter().enumerate() {
        if let Some(k) = awslogs_key(t) {
            by_key.entry(k.to_string()).or_default().push(i);
        }
        by_name.entry(base_name(t)).or_default().push(i);
    }
    // (item, digest node, entry index, file) for every listed log file.
    let mut jobs: Vec<(Item, usize, usize, Option<Found>)> = Vec::new();
    let mut listed: HashSet<usize> = HashSet::new();
    for (ni, n) in nodes.iter().enumerate() {
        let Some(d) = &n.digest else { continue };
        if n.chain.is_none() || !overlaps(opts, d.start, d.end) {
            continue;
        }
        for (ei, entry) in d.log_files.iter().enumerate() {
            let key = awslogs_key(&entry.s3_object).unwrap_or(&entry.s3_object);
            let plain = key.strip_suffix(".gz");
            let placed =
                by_key.get(key).or_else(|| plain.and_then(|p| by_key.get(p))).or_else(|| {
                    // A copy outside the AWSLogs layout: the file name is all there is.
                    by_name
                        .get(base_name(key))
                        .filter(|v| v.iter().all(|&f| awslogs_key(&texts[f]).is_none()))
                });
            let found: Vec<Found> = match placed {
                Some(v) => v.iter().map(|&f| Found::Placed(f)).collect(),
                None => by_name
                    .get(base_name(key))
                    .or_else(|| plain.and_then(|p| by_name.get(base_name(p))))
                    .map(|v| v.iter().map(|&f| Found::Moved(f)).collect())
                    .unwrap_or_default(),
            };
            let mut item = Item::new(Kind::Log, entry.s3_object.clone());
            item.s3 = Some(format!("s3://{}/{}", entry.s3_bucket, entry.s3_object));
            item.chain.clone_from(&n.chain);
            item.digest = Some(n.shown.clone());
            item.order = (
                n.chain.clone().unwrap_or_default(),
                d.end.timestamp(),
                Kind::Log,
                entry.s3_object.clone(),
            );
            if found.is_empty() {
                jobs.push((item, ni, ei, None));
                continue;
            }
            for f in found {
                let fi = match f {
                    Found::Placed(fi) | Found::Moved(fi) => fi,
                };
                listed.insert(fi);
                let mut it = item.clone();
                it.path = files[fi].path.display().to_string();
                it.order.3 = it.path.clone();
                jobs.push((it, ni, ei, Some(f)));
            }
        }
    }
    let mut wanted_files: Vec<usize> = jobs
        .iter()
        .filter_map(|j| match j.3 {
            Some(Found::Placed(f) | Found::Moved(f)) => Some(f),
            None => None,
        })
        .collect();
    wanted_files.sort_unstable();
    wanted_files.dedup();
    let paths: Vec<PathBuf> = wanted_files.iter().map(|&f| files[f].path.clone()).collect();
    let hashed: HashMap<usize, Result<Hashed, HashError>> = wanted_files
        .iter()
        .copied()
        .zip(hash_all(&paths, false, opts.threads, opts.max_file_size, stop))
        .collect();
    for (mut item, ni, ei, found) in jobs {
        let n = &nodes[ni];
        let Some(d) = n.digest.as_ref() else { continue };
        let entry = &d.log_files[ei];
        let Some(found) = found else {
            item.add(
                Status::Invalid,
                "not-found",
                format!("listed in {} but not in the archive (under any prefix)", n.shown),
            );
            report.items.push(item);
            continue;
        };
        let fi = match found {
            Found::Placed(fi) | Found::Moved(fi) => fi,
        };
        if matches!(found, Found::Moved(_)) {
            item.add(
                Status::Invalid,
                "moved",
                format!("delivered as {}, found elsewhere", item.s3.clone().unwrap_or_default()),
            );
        }
        let alg = entry.hash_algorithm.as_deref().unwrap_or("SHA-256");
        match &hashed[&fi] {
            Err(HashError::Io(e)) => {
                report.summary.errors.push(format!("{}: {e}", item.path));
                item.add(Status::Unverified, "unreadable", format!("could not be read: {e}"));
            }
            Err(HashError::Content(e)) => item.add(
                Status::Invalid,
                "hash-mismatch",
                format!("its content cannot be read ({e}), so it is not what {} lists", n.shown),
            ),
            Ok(h) => {
                let got = hex::encode(h.sha256);
                item.sha256 = Some(got.clone());
                let matches = got.eq_ignore_ascii_case(&entry.hash_value);
                if alg != "SHA-256" {
                    item.add(
                        Status::Unverified,
                        "unsupported-algorithm",
                        format!("hashAlgorithm {alg:?} is not SHA-256"),
                    );
                } else if h.exact.trailing > 0 {
                    item.add(
                        Status::Invalid,
                        "trailing-data",
                        format!(
                            "{} bytes after the first gzip member (data appended after \
                             delivery); the first member {} the listed hash",
                            h.exact.trailing,
                            if matches { "matches" } else { "does not match" }
                        ),
                    );
                } else if !matches {
                    item.add(
                        Status::Invalid,
                        "hash-mismatch",
                        format!(
                            "SHA-256 of its content is {got}, {} lists {}",
                            n.shown, entry.hash_value
                        ),
                    );
                }
            }
        }
        let tainted = n.item.reasons.iter().any(|r| {
            r.status == Status::Invalid
                && matches!(
                    r.code,
                    "signature-failed" | "previous-hash-mismatch" | "duplicate" | "trailing-data"
                )
        });
        if tainted && item.status == Status::Valid {
            item.add(
                Status::Unverified,
                "digest-invalid",
                format!("matches {}, but that digest is INVALID", n.shown),
            );
        }
        report.items.push(item);
    }
    unlisted(opts, chains, nodes, files, &listed, report);
}

/// Log files present that no digest lists: INVALID inside a period the digests cover,
/// UNVERIFIED outside it.
fn unlisted(
    opts: &Options,
    chains: &BTreeMap<String, Chain>,
    nodes: &[Node],
    files: &[LocalFile],
    listed: &HashSet<usize>,
    report: &mut Report,
) {
    // Everything the digests list, by key, whether or not in the window.
    let all_listed: HashSet<&str> = nodes
        .iter()
        .filter_map(|n| n.digest.as_ref())
        .flat_map(|d| d.log_files.iter())
        .map(|l| awslogs_key(&l.s3_object).unwrap_or(&l.s3_object))
        .collect();
    for (fi, f) in files.iter().enumerate() {
        if listed.contains(&fi) {
            continue;
        }
        if !matches!(f.meta.kind, FileKind::Records | FileKind::Insight) {
            report.summary.other_files += 1;
            continue;
        }
        let text = path_text(&f.path);
        if let Some(k) = awslogs_key(&text)
            && (all_listed.contains(k) || all_listed.contains(format!("{k}.gz").as_str()))
        {
            // Listed by a digest outside the window.
            report.summary.outside_window += 1;
            continue;
        }
        let t = f.meta.delivery_time;
        if let Some(t) = t
            && !overlaps(opts, t, t + Duration::minutes(1))
        {
            report.summary.outside_window += 1;
            continue;
        }
        let mut item = Item::new(Kind::Log, f.path.display().to_string());
        item.order = (
            String::from("~"),
            t.map_or(i64::MAX, |t| t.timestamp()),
            Kind::Log,
            item.path.clone(),
        );
        let (account, region) = (f.meta.account.as_deref(), f.meta.region.as_deref());
        let covering = chains.iter().find(|(_, c)| {
            Some(c.account.as_str()) == account
                && Some(c.region.as_str()) == region
                && t.is_some_and(|t| c.start <= t && t + Duration::minutes(1) <= c.end)
        });
        match (covering, f.meta.kind) {
            (Some((name, c)), FileKind::Records) => item.add(
                Status::Invalid,
                "not-listed",
                format!(
                    "no digest lists it, though the digests of {name} cover {} .. {}: it was \
                     not delivered by that trail (added later, or from a trail without log \
                     file validation)",
                    iso(c.start),
                    iso(c.end)
                ),
            ),
            (Some((name, _)), _) => item.add(
                Status::Unverified,
                "not-listed",
                format!("a CloudTrail Insights file no digest of {name} lists"),
            ),
            (None, _) => item.add(
                Status::Unverified,
                "not-covered",
                format!(
                    "no digest covers its delivery time ({}) for account {} in {}",
                    t.map_or_else(|| "unknown".to_string(), iso),
                    account.unwrap_or("?"),
                    region.unwrap_or("?")
                ),
            ),
        }
        report.items.push(item);
    }
}
