//! `trailscan verify` on archives written as CloudTrail writes them (tests/verify_kit), one
//! case per kind of damage, through the real binary; and the property that a changed byte
//! never passes as valid, through the library.
#![allow(clippy::unwrap_used)]

#[allow(dead_code)]
#[path = "cli/util.rs"]
mod util;
mod verify_kit;

use serde_json::Value;
use std::path::{Path, PathBuf};
use verify_kit::*;

struct Case {
    _dir: tempfile::TempDir,
    root: PathBuf,
    keys: PathBuf,
    std: Standard,
}

/// A fresh standard archive, with the key list (CLI v1 form) beside it, not inside it.
fn case() -> Case {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("bucket");
    let std = standard(&root);
    let keys = dir.path().join("keys.json");
    std::fs::write(&keys, key_list(&pkcs1_der(private_key()), true)).unwrap();
    Case { _dir: dir, root, keys, std }
}

impl Case {
    fn file(&self, name: &str, text: &str) -> PathBuf {
        let p = self.root.parent().unwrap().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    /// `--signatures` for every chain tail.
    fn sigs(&self) -> PathBuf {
        self.file("sigs.jsonl", &signatures_jsonl(&self.std.tails()))
    }

    /// Runs `verify ROOT ARGS --format jsonl --verbose`: (exit code, items, summary).
    fn run(&self, args: &[&str]) -> (i32, Vec<Value>, Value) {
        let root = self.root.to_str().unwrap();
        let mut a = vec!["verify", root, "--format", "jsonl", "--verbose"];
        a.extend_from_slice(args);
        let (code, out, err) = util::run(&a);
        let mut lines = util::jsonl(&out);
        let last = lines.pop().unwrap_or_else(|| panic!("no output; stderr: {err}"));
        (code, lines, last["summary"].clone())
    }

    /// Runs with the keys and the tails' signatures.
    fn full(&self) -> (i32, Vec<Value>, Value) {
        let (k, s) = (self.keys.clone(), self.sigs());
        self.run(&["--public-keys", k.to_str().unwrap(), "--signatures", s.to_str().unwrap()])
    }
}

fn find<'a>(items: &'a [Value], path_end: &str) -> Vec<&'a Value> {
    items
        .iter()
        .filter(|i| i["path"].as_str().unwrap().replace('\\', "/").ends_with(path_end))
        .collect()
}

/// The one item at `path_end`, with `status` and a reason `code`.
fn assert_item(items: &[Value], path_end: &str, status: &str, code: &str) {
    let found = find(items, path_end);
    assert_eq!(found.len(), 1, "{path_end}: {found:#?}");
    let i = found[0];
    assert_eq!(i["status"], status, "{i:#}");
    if !code.is_empty() {
        let codes: Vec<&str> =
            i["reasons"].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap()).collect();
        assert!(codes.contains(&code), "{path_end}: {codes:?} lacks {code}: {i:#}");
    }
}

fn count(summary: &Value, kind: &str, status: &str) -> u64 {
    summary[kind][status].as_u64().unwrap()
}

fn rewrite_digest(path: &Path, edit: impl Fn(&str) -> String) {
    let text = String::from_utf8(gunzip(&std::fs::read(path).unwrap())).unwrap();
    let new = edit(&text);
    assert_ne!(new, text, "the edit changed nothing");
    std::fs::write(path, gz(new.as_bytes())).unwrap();
}

#[test]
fn a_clean_archive_is_valid_with_keys_and_signatures() {
    let c = case();
    let (code, items, s) = c.full();
    assert_eq!(code, 0, "{items:#?}");
    let digests: usize = c.std.all().iter().map(|w| w.digests.len()).sum();
    let logs: usize = c.std.all().iter().map(|w| w.logs.len()).sum();
    assert_eq!(count(&s, "digests", "valid"), digests as u64);
    assert_eq!(count(&s, "logs", "valid"), logs as u64);
    assert_eq!(count(&s, "digests", "INVALID") + count(&s, "digests", "UNVERIFIED"), 0);
    assert_eq!(s["chains"], 4, "east, west, org, backfill");
    assert_eq!(s["keys_used"][0], key_fingerprint());
    // The org trail's restart after two hours off is a gap, not tampering.
    let gaps: Vec<&Value> = items.iter().filter(|i| i["kind"] == "gap").collect();
    assert_eq!(gaps.len(), 1, "{gaps:#?}");
    assert_eq!(gaps[0]["status"], "gap");
    assert_eq!(gaps[0]["start"], "2024-03-01T02:05:10Z");
    assert_eq!(gaps[0]["end"], "2024-03-01T04:05:10Z");
    assert!(
        gaps[0]["chain"]
            .as_str()
            .unwrap()
            .starts_with("trail-bucket/myprefix/AWSLogs/o-abc123def4/444455556666/")
    );
    // The empty digest is a digest like any other.
    assert_item(&items, &c.std.east.digests[2].key, "valid", "");
    // Nothing was written into the archive.
    let (_, again, _) = c.full();
    assert_eq!(items, again);
}

#[test]
fn key_list_forms_v1_v2_and_spki() {
    let c = case();
    let sigs = c.sigs();
    for list in
        [key_list(&pkcs1_der(private_key()), false), key_list(&spki_der(private_key()), true)]
    {
        let k = c.file("k.json", &list);
        let (code, _, s) =
            c.run(&["--public-keys", k.to_str().unwrap(), "--signatures", sigs.to_str().unwrap()]);
        assert_eq!(
            (code, count(&s, "digests", "INVALID"), count(&s, "digests", "UNVERIFIED")),
            (0, 0, 0)
        );
    }
}

#[test]
fn the_chain_tail_without_and_with_signatures() {
    let c = case();
    let k = c.keys.to_str().unwrap().to_string();
    let (code, items, s) = c.run(&["--public-keys", &k]);
    assert_eq!(code, 0, "UNVERIFIED alone does not fail");
    let tails = c.std.tails();
    assert_eq!(tails.len(), 5, "four chains, the org chain in two parts");
    for t in &tails {
        assert_item(&items, &t.key, "UNVERIFIED", "no-signature");
    }
    let i = find(&items, &c.std.east.digests[3].key)[0];
    assert!(i["reasons"][0]["detail"].as_str().unwrap().contains("aws s3api head-object --bucket trail-bucket --key AWSLogs/111122223333/CloudTrail-Digest/us-east-1/"));
    assert_eq!(count(&s, "digests", "UNVERIFIED"), 5);
    let (code, _, _) = c.run(&["--public-keys", &k, "--strict"]);
    assert_eq!(code, 1, "--strict fails on UNVERIFIED");
    // With the tails' signatures, as JSON lines and as a folder of head-object outputs.
    let (code, items, _) = c.full();
    assert_eq!(code, 0);
    assert_item(&items, &c.std.east.digests[3].key, "valid", "");
    let dir = c.root.parent().unwrap().join("heads");
    std::fs::create_dir(&dir).unwrap();
    for t in &tails {
        let name = format!("{}.json", t.key.rsplit('/').next().unwrap());
        let head = format!(
            "{{\"AcceptRanges\":\"bytes\",\"ContentType\":\"application/json\",\"Metadata\":{{\"signature\":\"{}\",\"signature-algorithm\":\"SHA256withRSA\"}}}}",
            t.signature
        );
        std::fs::write(dir.join(name), head).unwrap();
    }
    let (code, _, s) =
        c.run(&["--public-keys", &k, "--signatures", dir.to_str().unwrap(), "--strict"]);
    assert_eq!((code, count(&s, "digests", "UNVERIFIED")), (0, 0));
}

#[test]
fn without_keys_everything_but_signatures_is_checked_and_said() {
    let c = case();
    let (code, items, s) = c.run(&[]);
    assert_eq!(code, 0);
    assert!(!s["public_keys_given"].as_bool().unwrap());
    assert_eq!(
        count(&s, "logs", "valid"),
        c.std.all().iter().map(|w| w.logs.len() as u64).sum::<u64>()
    );
    assert_item(&items, &c.std.east.digests[1].key, "UNVERIFIED", "signature-not-checked");
    let (code, out, _) = util::run(&["verify", c.root.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(out.contains("whoever could rewrite the digests could forge it"), "{out}");
    assert!(out.contains("signature-not-checked"), "{out}");
}

#[test]
fn a_log_byte_flipped() {
    let c = case();
    let log = &c.std.east.logs[1];
    let mut data = log.content.clone();
    data[40] ^= 0x20;
    std::fs::write(&log.path, gz(&data)).unwrap();
    let (code, items, _) = c.full();
    assert_eq!(code, 1);
    assert_item(&items, &log.key, "INVALID", "hash-mismatch");
}

#[test]
fn a_log_recompressed_or_stored_gunzipped_is_still_valid() {
    let c = case();
    let (a, b, d) = (&c.std.east.logs[0], &c.std.west.logs[0], &c.std.org.logs[0]);
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut e, &a.content).unwrap();
    std::fs::write(&a.path, e.finish().unwrap()).unwrap();
    std::fs::write(&b.path, &b.content).unwrap();
    let renamed = d.path.with_extension("");
    std::fs::rename(&d.path, &renamed).unwrap();
    std::fs::write(&renamed, &d.content).unwrap();
    let (code, items, _) = c.full();
    assert_eq!(code, 0, "{items:#?}");
    assert_item(&items, &a.key, "valid", "");
    assert_item(&items, &b.key, "valid", "");
    assert_item(&items, renamed.file_name().unwrap().to_str().unwrap(), "valid", "");
}

#[test]
fn a_gzip_member_appended() {
    let c = case();
    let log = &c.std.east.logs[2];
    let mut bytes = std::fs::read(&log.path).unwrap();
    bytes.extend(gz(b"{\"Records\":[{\"eventName\":\"Injected\"}]}"));
    std::fs::write(&log.path, bytes).unwrap();
    let (code, items, _) = c.full();
    assert_eq!(code, 1);
    assert_item(&items, &log.key, "INVALID", "trailing-data");
}

#[test]
fn a_log_deleted() {
    let c = case();
    let log = &c.std.west.logs[3];
    std::fs::remove_file(&log.path).unwrap();
    let (code, items, _) = c.full();
    assert_eq!(code, 1);
    let i = find(&items, &log.key);
    assert_eq!(i[0]["path"], log.key.as_str(), "a missing file is named by its key");
    assert_item(&items, &log.key, "INVALID", "not-found");
}

#[test]
fn a_digest_field_edited() {
    let c = case();
    let d = &c.std.east.digests[1];
    let victim = &c.std.east.logs[d.logs[0]];
    let fake = "0".repeat(64);
    rewrite_digest(&d.path, |t| t.replacen(&sha_hex(&victim.content), &fake, 1));
    let (code, items, _) = c.full();
    assert_eq!(code, 1);
    assert_item(&items, &d.key, "INVALID", "previous-hash-mismatch");
    assert_item(&items, &d.key, "INVALID", "signature-failed");
    assert_item(&items, &victim.key, "INVALID", "hash-mismatch");
    // Its other log file matches the edited digest, which proves nothing.
    assert_item(&items, &c.std.east.logs[d.logs[1]].key, "UNVERIFIED", "digest-invalid");
}

fn sha_hex(data: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(data))
}

#[test]
fn one_digest_deleted() {
    let c = case();
    let d = &c.std.east.digests[1];
    std::fs::remove_file(&d.path).unwrap();
    let (code, items, _) = c.full();
    assert_eq!(code, 1);
    assert_item(&items, &d.key, "INVALID", "not-found");
    let i = find(&items, &d.key)[0];
    assert!(
        i["reasons"][0]["detail"].as_str().unwrap().contains("about 1 hourly digest missing"),
        "{i:#}"
    );
    // Its log files are now listed by no digest, inside the period the chain covers.
    for &l in &d.logs {
        assert_item(
            &items,
            c.std.east.logs[l].path.file_name().unwrap().to_str().unwrap(),
            "INVALID",
            "not-listed",
        );
    }
}

#[test]
fn two_consecutive_digests_deleted() {
    let c = case();
    let (d1, d2) = (&c.std.east.digests[1], &c.std.east.digests[2]);
    std::fs::remove_file(&d1.path).unwrap();
    std::fs::remove_file(&d2.path).unwrap();
    let (code, items, _) = c.full();
    assert_eq!(code, 1);
    assert_item(&items, &d2.key, "INVALID", "not-found");
    let detail = find(&items, &d2.key)[0]["reasons"][0]["detail"].as_str().unwrap().to_string();
    assert!(detail.contains("2024-03-01T01:05:10Z .. 2024-03-01T03:05:10Z"), "{detail}");
    assert!(detail.contains("about 2 hourly digests missing"), "{detail}");
    // The digest before the hole is intact and still proven by its own successor's record?
    // No: its successor is gone, so its signature is not available offline.
    assert_item(&items, &c.std.east.digests[0].key, "UNVERIFIED", "no-signature");
}

#[test]
fn a_digest_moved() {
    let c = case();
    let d = &c.std.east.digests[1];
    let to = c
        .root
        .join("AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/03/02")
        .join(d.path.file_name().unwrap());
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::rename(&d.path, &to).unwrap();
    let (code, items, _) = c.full();
    assert_eq!(code, 1);
    let at = format!("2024/03/02/{}", d.path.file_name().unwrap().to_str().unwrap());
    assert_item(&items, &at, "INVALID", "moved");
    let i = find(&items, &at)[0];
    assert_eq!(i["reasons"].as_array().unwrap().len(), 1, "the chain still holds: {i:#}");
    assert_eq!(i["key"], key_fingerprint().as_str(), "its signature still verifies");
}

#[test]
fn previous_digest_object_rewritten() {
    let c = case();
    let (d0, d1, d2) = (&c.std.east.digests[0], &c.std.east.digests[1], &c.std.east.digests[2]);
    let esc = |k: &str| k.replace('/', "\\/");
    rewrite_digest(&d2.path, |t| t.replacen(&esc(&d1.key), &esc(&d0.key), 1));
    let (code, items, _) = c.full();
    assert_eq!(code, 1);
    assert_item(&items, &d2.key, "INVALID", "previous-hash-mismatch");
    assert_item(&items, &d1.key, "INVALID", "chain-broken");
}

#[test]
fn a_wrong_key() {
    let c = case();
    let k = c.file("other.json", &key_list(&pkcs1_der(other_key()), true));
    let sigs = c.sigs();
    let (code, items, _) =
        c.run(&["--public-keys", k.to_str().unwrap(), "--signatures", sigs.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert_item(&items, &c.std.east.digests[0].key, "UNVERIFIED", "no-public-key");
    let detail = find(&items, &c.std.east.digests[0].key)[0]["reasons"][0]["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        detail.contains(&key_fingerprint())
            && detail.contains("aws cloudtrail list-public-keys --region us-east-1"),
        "{detail}"
    );
    // A list whose Fingerprint is not its key's is refused.
    let mut lie = key_list(&pkcs1_der(other_key()), true);
    lie = lie.replace(&fingerprint(&pkcs1_der(other_key())), &key_fingerprint());
    let k = c.file("lie.json", &lie);
    let (code, _, err) =
        util::run(&["verify", c.root.to_str().unwrap(), "--public-keys", k.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("lie.json") && err.contains("is not the MD5"), "{err}");
}

#[test]
fn a_bad_signature() {
    let c = case();
    let tail = &c.std.east.digests[3];
    let k = c.keys.to_str().unwrap().to_string();
    for (sig, want) in [
        ("zz-not-hex", "is not hex"),
        (c.std.east.digests[2].signature.as_str(), "does not verify"),
    ] {
        let s =
            c.file("bad.jsonl", &format!("{{\"key\":\"{}\",\"signature\":\"{sig}\"}}\n", tail.key));
        let (code, items, _) = c.run(&["--public-keys", &k, "--signatures", s.to_str().unwrap()]);
        assert_eq!(code, 1);
        assert_item(&items, &tail.key, "INVALID", "signature-failed");
        let i = find(&items, &tail.key)[0];
        assert!(i["reasons"][0]["detail"].as_str().unwrap().contains(want), "{i:#}");
    }
    // A bad hex previousDigestSignature inside a digest: both it and its predecessor fail.
    let (d0, d1) = (&c.std.east.digests[0], &c.std.east.digests[1]);
    rewrite_digest(&d1.path, |t| t.replacen(&d0.signature, &"g".repeat(d0.signature.len()), 1));
    let (code, items, _) = c.full();
    assert_eq!(code, 1);
    assert_item(&items, &d0.key, "INVALID", "signature-failed");
    assert_item(&items, &d1.key, "INVALID", "signature-failed");
}

#[test]
fn a_log_no_digest_lists() {
    let c = case();
    let log = &c.std.east.logs[0];
    let dir = log.path.parent().unwrap();
    let inside =
        dir.join("111122223333_CloudTrail_us-east-1_20240301T0130Z_injectedINJECTED1.json.gz");
    std::fs::write(&inside, gz(b"{\"Records\":[]}")).unwrap();
    let after =
        dir.join("111122223333_CloudTrail_us-east-1_20240301T2330Z_lateLATElateLATE.json.gz");
    std::fs::write(&after, gz(b"{\"Records\":[]}")).unwrap();
    let (code, items, _) = c.full();
    assert_eq!(code, 1);
    assert_item(&items, "injectedINJECTED1.json.gz", "INVALID", "not-listed");
    assert_item(&items, "lateLATElateLATE.json.gz", "UNVERIFIED", "not-covered");
}

#[test]
fn filters_and_text_output() {
    let c = case();
    let k = c.keys.to_str().unwrap().to_string();
    let (code, _, s) = c.run(&["--public-keys", &k, "--region", "eu-west-1"]);
    assert_eq!((code, s["chains"].as_u64()), (0, Some(1)));
    let (code, _, s) = c.run(&["--public-keys", &k, "--account", "444455556666"]);
    assert_eq!((code, s["chains"].as_u64()), (0, Some(1)));
    let (_, items, _) = c.run(&[
        "--public-keys",
        &k,
        "--since",
        "2024-03-01T02:00:00Z",
        "--until",
        "2024-03-01T03:00:00Z",
    ]);
    let ends: Vec<&str> = items
        .iter()
        .filter(|i| i["kind"] == "digest")
        .map(|i| i["end"].as_str().unwrap())
        .collect();
    assert!(
        !ends.is_empty()
            && ends.iter().all(|e| *e == "2024-03-01T02:05:10Z" || *e == "2024-03-01T03:05:10Z"),
        "{ends:?}"
    );
    // Text: counts, then only what is not valid; attacker text never reaches the terminal raw.
    let log = &c.std.east.logs[0];
    let evil = log
        .path
        .parent()
        .unwrap()
        .join("111122223333_CloudTrail_us-east-1_20240301T0131Z_\u{1b}[31mred.json.gz");
    std::fs::write(&evil, gz(b"{}")).unwrap();
    let (code, out, _) = util::run(&["verify", c.root.to_str().unwrap(), "--public-keys", &k]);
    assert_eq!(code, 1);
    assert!(out.starts_with("chains:    4\ndigests:   "), "{out}");
    assert!(out.contains("\\u{1b}[31mred") && !out.contains('\u{1b}'), "{out}");
    assert!(!out.contains(&c.std.west.logs[0].key), "valid items are listed only with --verbose");
    let (code, _, err) =
        util::run(&["verify", c.root.parent().unwrap().join("nothing-here").to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    let empty = tempfile::tempdir().unwrap();
    let (code, _, err) = util::run(&["verify", empty.path().to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("no CloudTrail digest file found"), "{err}");
}

mod property {
    use super::verify_kit::*;
    use proptest::prelude::*;
    use std::path::{Path, PathBuf};
    use std::sync::OnceLock;
    use trailscan::verify::{self, Options, Status, keys, signatures::Signatures};

    /// Folder, digest and log files (relative path, uncompressed content), the tail's signature.
    type Template = (tempfile::TempDir, Vec<(PathBuf, Vec<u8>)>, String);

    /// A small signed archive, written once.
    fn template() -> &'static Template {
        static T: OnceLock<Template> = OnceLock::new();
        T.get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let mut spec = Spec::new("111122223333", "us-east-1", "t");
            spec.hours = 3;
            spec.logs_per_hour = 1;
            spec.records = 2;
            let w = write_trail(dir.path(), &spec);
            let mut files = Vec::new();
            for d in &w.digests {
                let rel = d.path.strip_prefix(dir.path()).unwrap().to_path_buf();
                files.push((rel, gunzip(&std::fs::read(&d.path).unwrap())));
            }
            for l in &w.logs {
                files.push((
                    l.path.strip_prefix(dir.path()).unwrap().to_path_buf(),
                    l.content.clone(),
                ));
            }
            let sigs = signatures_jsonl(&[w.digests.last().unwrap()]);
            (dir, files, sigs)
        })
    }

    /// Whether byte `at` of `rel` is in the key fingerprint of the newest digest.
    fn in_tail_fingerprint(files: &[(PathBuf, Vec<u8>)], rel: &Path, at: usize) -> bool {
        let tail =
            files.iter().rfind(|f| f.0.to_string_lossy().contains("CloudTrail-Digest")).unwrap();
        let field = b"\"digestPublicKeyFingerprint\":\"";
        let name = tail.1.windows(field.len()).position(|w| w == field).unwrap();
        // The member's name too: renamed, the newest digest names no key at all.
        tail.0 == rel && (name..name + field.len() + 32).contains(&at)
    }

    /// The exception above is real, and only that: a changed fingerprint in the newest digest
    /// is UNVERIFIED (no key for it), INVALID in any other digest (the next one's hash of it).
    #[test]
    fn a_changed_fingerprint_is_unverified_only_at_the_tail() {
        let (_, files, _) = template();
        let digests: Vec<&(PathBuf, Vec<u8>)> =
            files.iter().filter(|f| f.0.to_string_lossy().contains("CloudTrail-Digest")).collect();
        for (n, (rel, content)) in digests.iter().enumerate() {
            let fp = key_fingerprint();
            let text =
                String::from_utf8(content.clone()).unwrap().replacen(&fp, &"0".repeat(32), 1);
            let status =
                verify_copy(|dir| std::fs::write(dir.join(rel), gz(text.as_bytes())).unwrap());
            let want = if n + 1 == digests.len() { Status::Unverified } else { Status::Invalid };
            assert_eq!(status, want, "{}", rel.display());
            // The member renamed: no key named at all; the same verdicts.
            let text = String::from_utf8(content.clone()).unwrap().replacen(
                "\"digestPublicKeyFingerprint\"",
                "\"eigestPublicKeyFingerprint\"",
                1,
            );
            let status =
                verify_copy(|dir| std::fs::write(dir.join(rel), gz(text.as_bytes())).unwrap());
            assert_eq!(status, want, "renamed: {}", rel.display());
            // The algorithm's name, by contrast, is checked as SHA256withRSA all the same.
            let text = String::from_utf8(content.clone()).unwrap().replacen(
                "SHA256withRSA",
                "SHA256withRSB",
                1,
            );
            let status =
                verify_copy(|dir| std::fs::write(dir.join(rel), gz(text.as_bytes())).unwrap());
            assert_eq!(status, Status::Invalid, "{}", rel.display());
        }
    }

    fn verify_copy(edit: impl FnOnce(&Path)) -> Status {
        let (src, files, sigs) = template();
        let dir = tempfile::tempdir().unwrap();
        for (rel, _) in files {
            let to = dir.path().join(rel);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(src.path().join(rel), &to).unwrap();
        }
        edit(dir.path());
        let opts = Options {
            paths: vec![dir.path().to_path_buf()],
            keys: keys::parse_key_list(&key_list(&pkcs1_der(private_key()), true), "k").unwrap(),
            keys_given: true,
            signatures: Some(Signatures::parse(sigs, "s").unwrap()),
            threads: 2,
            max_file_size: 1 << 30,
            ..Options::default()
        };
        let report = verify::run(&opts, &std::sync::atomic::AtomicBool::new(false));
        assert!(report.summary.errors.is_empty(), "{:?}", report.summary.errors);
        report.worst()
    }

    #[test]
    fn the_template_is_valid() {
        assert_eq!(verify_copy(|_| {}), Status::Valid);
    }

    /// Ctrl-C: no file is read after it, and the report says it is incomplete.
    #[test]
    fn a_stopped_run_is_marked_incomplete() {
        let (src, _, _) = template();
        let opts = Options {
            paths: vec![src.path().to_path_buf()],
            threads: 1,
            max_file_size: 1 << 30,
            ..Options::default()
        };
        let stop = std::sync::atomic::AtomicBool::new(true);
        let report = verify::run(&opts, &stop);
        assert!(report.interrupted);
        assert!(!verify::run(&opts, &std::sync::atomic::AtomicBool::new(false)).interrupted);
    }

    /// The gzip header's modification time is not covered by any hash: changing it leaves
    /// the content, and so the verdict, as it was.
    #[test]
    fn the_gzip_header_time_is_not_evidence() {
        let (src, files, _) = template();
        let rel = files.last().unwrap().0.clone();
        let mut raw = std::fs::read(src.path().join(&rel)).unwrap();
        raw[4] ^= 0xff;
        assert_eq!(verify_copy(|dir| std::fs::write(dir.join(&rel), &raw).unwrap()), Status::Valid);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        /// Any single-byte change in the content of any digest or log file is INVALID.
        #[test]
        fn a_changed_content_byte_is_invalid(file in any::<prop::sample::Index>(), at in any::<prop::sample::Index>(), xor in 1u8..=255) {
            let (_, files, _) = template();
            let (rel, content) = &files[file.index(files.len())];
            let mut changed = content.clone();
            let i = at.index(changed.len());
            changed[i] ^= xor;
            let status = verify_copy(|dir| std::fs::write(dir.join(rel), gz(&changed)).unwrap());
            if status == Status::Unverified {
                // The one exception: the key fingerprint of the chain's newest digest. Changed,
                // it names a key that is not given, and without the key nothing is provable.
                prop_assert!(in_tail_fingerprint(files, rel, i), "{} byte {}", rel.display(), i);
            } else {
                prop_assert_eq!(status, Status::Invalid, "{} byte {}", rel.display(), i);
            }
        }

        /// Any single-byte change in any file as stored is INVALID, unless the file still reads
        /// back as exactly the delivered content: the gzip header's time, flags and OS bytes
        /// and the padding bits after the last deflate block are covered by nothing CloudTrail
        /// signs (doc/verify.md).
        #[test]
        fn a_changed_stored_byte_is_invalid_or_harmless(file in any::<prop::sample::Index>(), at in any::<prop::sample::Index>(), xor in 1u8..=255) {
            let (src, files, _) = template();
            let (rel, content) = &files[file.index(files.len())];
            let mut raw = std::fs::read(src.path().join(rel)).unwrap();
            let i = at.index(raw.len());
            raw[i] ^= xor;
            let status = verify_copy(|dir| std::fs::write(dir.join(rel), &raw).unwrap());
            let mut same = Vec::new();
            let harmless = {
                let p = tempfile::NamedTempFile::new().unwrap();
                std::fs::write(p.path(), &raw).unwrap();
                let input = trailscan::source::Input::Path(p.path().to_path_buf());
                let e = trailscan::source::Reader::new(1 << 30).exact(&input, &mut |b| same.extend_from_slice(b));
                matches!(e, Ok(e) if e.trailing == 0) && same == *content
            };
            if harmless {
                prop_assert_eq!(status, Status::Valid, "{} byte {}: content unchanged", rel.display(), i);
            } else {
                prop_assert_eq!(status, Status::Invalid, "{} byte {}", rel.display(), i);
            }
        }
    }
}

/// Real digests (AWS's documentation examples, and one from a real trail, fixtures/README.md)
/// parse; their chains start before the fixture archive and the log files they list are not
/// in it, which is what the report says.
#[test]
fn real_digests_from_aws_documentation_and_a_trail() {
    let (code, out, _) = util::run(&["verify", "fixtures/archive", "--format", "jsonl"]);
    assert_eq!(code, 1, "listed log files are missing");
    let mut lines = util::jsonl(&out);
    let summary = lines.pop().unwrap()["summary"].clone();
    assert_eq!(summary["chains"], 3);
    let digests: Vec<&Value> = lines.iter().filter(|i| i["kind"] == "digest").collect();
    assert_eq!(digests.len(), 3);
    for d in &digests {
        assert_eq!(d["status"], "UNVERIFIED", "{d:#}");
        let codes: Vec<&str> =
            d["reasons"].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap()).collect();
        assert_eq!(codes, ["predecessor-not-in-archive", "no-signature"], "{d:#}");
    }
    let missing: Vec<&Value> =
        lines.iter().filter(|i| i["kind"] == "log" && i["status"] == "INVALID").collect();
    assert!(!missing.is_empty());
    for m in missing {
        assert_eq!(m["reasons"][0]["code"], "not-found", "{m:#}");
        assert!(m["path"].as_str().unwrap().starts_with("AWSLogs/"), "{m:#}");
    }
}

/// A digest's `previousDigestHashValue` edited: its predecessor is intact (its signature,
/// which the edited digest carries, still verifies), so the edited digest is the one blamed.
#[test]
fn a_previous_hash_value_edited_blames_the_edited_digest() {
    let c = case();
    let (d0, d1) = (&c.std.west.digests[0], &c.std.west.digests[1]);
    let real = sha_hex(&gunzip(&std::fs::read(&d0.path).unwrap()));
    rewrite_digest(&d1.path, |t| t.replacen(&real, &"1".repeat(64), 1));
    let (code, items, _) = c.full();
    assert_eq!(code, 1);
    assert_item(&items, &d0.key, "valid", "");
    assert_item(&items, &d1.key, "INVALID", "previous-hash-mismatch");
    assert_item(&items, &d1.key, "INVALID", "signature-failed");
    // Without keys nothing tells the two apart: the predecessor is reported.
    let (_, items, _) = c.run(&[]);
    assert_item(&items, &d0.key, "INVALID", "previous-hash-mismatch");
}
