//! `trailscan trace` on fixtures/trace (see fixtures/README.md and
//! scripts/make_trace_fixtures.py): exact credential sets up and down for each seed, decoys
//! never in a trace, missing and odd links shown as such.

use crate::util::{jsonl, root, run};
use std::collections::BTreeSet;

const ARCHIVE: &str = "fixtures/trace";

const ALICE: &str = "AKIAIOSFODNN7EXAMPLE";
const ALICE_STS: &str = "ASIAQRSTUVWXSESSION1";
const CROSS: &str = "ASIAQRSTUVWXCROSSAC1";
const CHAIN: &str = "ASIAQRSTUVWXCHAINED1";
const BACKDOOR: &str = "AKIAQRSTUVWXBACKDOOR";
const SAML: &str = "ASIAQRSTUVWXSAMLCAR1";
const WEB: &str = "ASIAQRSTUVWXWEBIDGH1";
const EC2: &str = "ASIAQRSTUVWXEC2INST1";
const LAMBDA: &str = "ASIAQRSTUVWXLAMBDA01";
const CONSOLE: &str = "ASIAQRSTUVWXCONSOLE1";
const CONSOLE2: &str = "ASIAQRSTUVWXCONSOLE2";
const DAVE_NEW: &str = "AKIAQRSTUVWXDAVENEW1";
const VENDOR_PARENT: &str = "ASIAQRSTUVWXVENDOR00";
const VENDOR: &str = "ASIAQRSTUVWXVENDOR01";
/// Other principals that assumed the same roles (one with the same session name).
const DECOYS: [&str; 5] = [
    "AKIAI44QH8DHBEXAMPLE",
    "ASIAQRSTUVWXDECOYBOB",
    "ASIAQRSTUVWXDECOYCI1",
    "ASIAQRSTUVWXDECOYCI2",
    "decoy-",
];

fn trace(args: &[&str]) -> (i32, String, String) {
    let mut a = vec!["trace", ARCHIVE];
    a.extend_from_slice(args);
    run(&a)
}

/// The credentials (keys) whose events a trace lists, from `--format jsonl`.
fn credentials(args: &[&str]) -> BTreeSet<String> {
    let mut a = args.to_vec();
    a.extend(["--format", "jsonl"]);
    let (code, out, err) = trace(&a);
    assert_eq!(code, 0, "{args:?}: {err}");
    jsonl(&out).iter().map(|l| l["credential"].as_str().unwrap().to_string()).collect()
}

/// The keys in the `--format json` tree.
fn tree_keys(args: &[&str]) -> BTreeSet<String> {
    fn walk(v: &serde_json::Value, out: &mut BTreeSet<String>) {
        if let Some(k) = v["key"].as_str() {
            out.insert(k.to_string());
        }
        for c in v["children"].as_array().unwrap() {
            walk(c, out);
        }
    }
    let mut a = args.to_vec();
    a.extend(["--format", "json"]);
    let (code, out, err) = trace(&a);
    assert_eq!(code, 0, "{args:?}: {err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let mut keys = BTreeSet::new();
    for t in v["trees"].as_array().unwrap() {
        walk(t, &mut keys);
    }
    keys
}

fn set(keys: &[&str]) -> BTreeSet<String> {
    keys.iter().map(|s| (*s).to_string()).collect()
}

fn no_decoys(text: &str) {
    for d in DECOYS {
        assert!(!text.contains(d), "decoy {d} in the trace:\n{text}");
    }
}

#[test]
fn chained_session_up_down_and_both() {
    let up = [ALICE, ALICE_STS, CROSS, CHAIN];
    assert_eq!(tree_keys(&["--access-key", CHAIN, "--up"]), set(&up));
    assert_eq!(credentials(&["--access-key", CHAIN, "--up"]), set(&up));
    assert_eq!(tree_keys(&["--access-key", CHAIN, "--down"]), set(&[CHAIN, BACKDOOR]));
    assert_eq!(
        tree_keys(&["--access-key", CHAIN]),
        set(&[ALICE, ALICE_STS, CROSS, CHAIN, BACKDOOR])
    );
    for fmt in ["text", "json", "jsonl", "html"] {
        let (code, out, _) = trace(&["--access-key", CHAIN, "--format", fmt]);
        assert_eq!(code, 0);
        no_decoys(&out);
    }
}

#[test]
fn long_term_key_down_is_the_whole_chain() {
    let all = set(&[ALICE, ALICE_STS, CROSS, CHAIN, BACKDOOR]);
    assert_eq!(tree_keys(&["--access-key", ALICE, "--down"]), all);
    assert_eq!(credentials(&["--access-key", ALICE, "--down"]), all);
    let (_, out, _) = trace(&["--access-key", ALICE, "--down"]);
    no_decoys(&out);
    // Up: the edge of the archive, said plainly.
    let (code, out, _) = trace(&["--access-key", ALICE, "--up"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("origin: long-term access key of alice: issued before the archive starts")
    );
}

#[test]
fn text_tree_activity_and_totals() {
    let (code, out, err) = trace(&["--access-key", CHAIN]);
    assert_eq!(code, 0, "{err}");
    // The tree: each credential under the one that obtained it.
    let lines: Vec<&str> = out.lines().collect();
    let at = |s: &str| lines.iter().position(|l| l.contains(s)).unwrap_or_else(|| panic!("{s}"));
    assert!(lines[at(ALICE)].starts_with(ALICE));
    assert!(lines[at(&format!("── {ALICE_STS}"))].starts_with("└── "));
    assert!(lines[at(&format!("── {CHAIN}"))].contains("· SEED"));
    assert!(out.contains(
        "issued: CreateAccessKey for user svc-reporting by DataPipeline/alice-chain with ASIAQRSTUVWXCHAINED1 at 2024-03-04T09:07:00Z from 198.51.100.77"
    ));
    assert!(out.contains("logged by accounts 111122223333, 444455556666"));
    assert!(out.contains("sourceIdentity alice"));
    // A failed AssumeRole issued nothing, and shows as such.
    assert!(out.contains("FAILED AssumeRole 2024-03-04T09:08:00Z (AccessDenied): issued nothing"));
    // Activity in time order, with the summary's phrases.
    assert!(out.contains("Activity (12 events, in time order)"));
    assert!(out.contains(
        "2024-03-04T09:21:00Z  AKIAQRSTUVWXBACKDOOR  svc-reporting (IAMUser, 444455556666) stopped logging of trail"
    ));
    assert!(out.contains(
        "DataPipeline/alice-chain (AssumedRole, 444455556666) attached policy arn:aws:iam::aws:policy/AdministratorAccess to user svc-reporting"
    ));
    assert!(out.contains("FAILED AccessDenied: DataPipeline/alice-chain called AssumeRole"));
    let first = out.find("2024-03-04T09:00:00Z  AKIA").unwrap();
    let last = out.find("2024-03-04T09:22:00Z  AKIA").unwrap();
    assert!(first < last);
    // Totals per credential.
    assert!(out.lines().any(|l| l.starts_with(BACKDOOR)
        && l.contains("eu-west-1,us-east-1")
        && l.contains("2024-03-04T09:20:00Z  2024-03-04T09:22:00Z")));
    // The cross-account AssumeRole logged in both accounts is one call.
    assert!(out.contains("1 call(s) logged by a second account"));
    assert!(err.contains("files read"), "{err}");
}

#[test]
fn federation_services_and_edges() {
    let origin = |key: &str| {
        let (code, out, _) = trace(&["--access-key", key, "--up"]);
        assert_eq!(code, 0);
        no_decoys(&out);
        out.lines().find(|l| l.starts_with("origin: ")).unwrap().to_string()
    };
    assert_eq!(
        origin(SAML),
        "origin: SAML federation: provider https://idp.example.com/saml2, subject carol@example.com"
    );
    assert_eq!(
        origin(WEB),
        "origin: web identity federation: provider arn:aws:iam::444455556666:oidc-provider/token.actions.githubusercontent.com, subject repo:example/app:ref:refs/heads/main"
    );
    assert_eq!(origin(EC2), "origin: the AWS service ec2.amazonaws.com");
    assert_eq!(
        origin(VENDOR),
        "origin: temporary credentials of VendorAutomation/vendor-job: issued in an account not in the archive (999988887777); no event in the archive issued it"
    );
    assert_eq!(credentials(&["--access-key", VENDOR]), set(&[VENDOR_PARENT, VENDOR]));
    assert_eq!(credentials(&["--access-key", SAML]), set(&[SAML]));
    assert_eq!(credentials(&["--access-key", EC2]), set(&[EC2]));
    // Failures are marked in the activity.
    let (_, out, _) = trace(&["--access-key", EC2]);
    assert!(out.contains("FAILED AccessDenied: WebServerRole/i-0abcd1234ef567890 called iam:ListUsers from 198.51.100.77"));
}

#[test]
fn unrecorded_credentials_and_console_sessions_are_inferred() {
    let (code, out, _) = trace(&["--access-key", LAMBDA]);
    assert_eq!(code, 0);
    assert!(out.contains("origin: the AWS service lambda.amazonaws.com"));
    assert!(out.contains("AssumeRole 2024-03-04T09:46:00Z: credentials not recorded"));
    assert!(out.contains("INFERRED link: same principal arn:aws:sts::444455556666:assumed-role/ProcessorRole/processor-fn; session created 2024-03-04T09:46:00Z, AssumeRole at 2024-03-04T09:46:00Z (0 s apart)"));

    let (code, out, _) = trace(&["--access-key", CONSOLE]);
    assert_eq!(code, 0);
    assert!(out.contains("origin: a console sign-in by dave (IAMUser)"));
    assert!(out.contains("console session signed in 2024-03-04T09:51:00Z"));
    assert!(out.contains("INFERRED link: same principal arn:aws:iam::111122223333:user/dave"));
    // The key created in the console session, then used elsewhere; never the later session.
    assert_eq!(credentials(&["--access-key", CONSOLE]), set(&[CONSOLE, DAVE_NEW]));
    assert!(!out.contains(CONSOLE2));
    // jsonl says which events hang on an inferred link.
    let (_, out, _) = trace(&["--access-key", DAVE_NEW, "--up", "--format", "jsonl"]);
    let lines = jsonl(&out);
    let created = lines.iter().find(|l| l["credential"] == CONSOLE).unwrap();
    assert_eq!(created["relation"], "ancestor");
    assert_eq!(created["path"], serde_json::json!([DAVE_NEW, CONSOLE]));
    let used = lines.iter().find(|l| l["credential"] == DAVE_NEW).unwrap();
    assert_eq!(used["relation"], "seed");
    assert_eq!(used["event"]["eventName"], "ListBuckets");

    // Down from the console sign-in: the session's keys, by inference.
    let (_, out, _) = trace(&["--user", "dave", "--down"]);
    assert!(out.contains("FAILED ConsoleLogin 2024-03-04T09:50:00Z (Failure): issued nothing"));
    assert!(out.contains(CONSOLE2), "both of dave's sessions: {out}");
}

const SSO_CAROL: &str = "ASIAQRSTUVWXSSOCAROL";
const SSO_CAROL_SAML: &str = "ASIAQRSTUVWXSSOSAML1";
const SSO_DAN: &str = "ASIAQRSTUVWXSSODAN01";
const SSO_ERIN: &str = "ASIAQRSTUVWXSSOERIN0";
const SSO_ERIN_CONSOLE: &str = "ASIAQRSTUVWXSSOERIN1";
const CAROL_ID: &str = "9067230c03-9d976f61-3b89-4b98-88db-2ea3bbc1f3fa";

#[test]
fn identity_center_sessions_reach_their_user() {
    // Up from carol's CLI session: GetRoleCredentials in the Identity Center account, linked
    // by the user id both records carry, with the evidence; never dan, who took the same
    // permission set in the same account 2 s later.
    let (code, out, _) = trace(&["--access-key", SSO_CAROL, "--up"]);
    assert_eq!(code, 0);
    assert!(
        out.contains(&format!("origin: IAM Identity Center user (user id {CAROL_ID}")),
        "{out}"
    );
    assert!(out.contains("IAM Identity Center role credentials for AdministratorAccess in 444455556666 (GetRoleCredentials 2024-03-04T10:10:05Z)"));
    assert!(out.contains(&format!("INFERRED link: IAM Identity Center: account 444455556666, permission set AdministratorAccess (role AWSReservedSSO_AdministratorAccess_7243976e43c75fc5), same Identity Center user id {CAROL_ID}; session created 2024-03-04T10:10:05Z, GetRoleCredentials at 2024-03-04T10:10:05Z (0 s apart)")), "{out}");
    assert!(!out.contains("dan@example.com") && !out.contains(SSO_DAN), "{out}");
    // The key AssumeRoleWithSAML returned is not the session's: no certain link is made to it.
    assert!(!out.contains(SSO_CAROL_SAML));
    assert_eq!(tree_keys(&["--access-key", SSO_CAROL, "--up"]), set(&[SSO_CAROL]));

    // dan's session reaches dan (by session name, the older record form), not carol.
    let (_, out, _) = trace(&["--access-key", SSO_DAN, "--up"]);
    assert!(out.contains("origin: IAM Identity Center user dan@example.com"), "{out}");
    assert!(out.contains("session name dan@example.com is the Identity Center user's name; session created 2024-03-04T10:10:07Z, GetRoleCredentials at 2024-03-04T10:10:07Z (0 s apart)"));
    assert!(!out.contains(CAROL_ID) && !out.contains(SSO_CAROL));

    // Console: the console's key -> ConsoleLogin (inferred, same principal) -> the federation
    // session's key -> Federate by erin (inferred, Identity Center).
    let (_, out, _) = trace(&["--access-key", SSO_ERIN_CONSOLE, "--up"]);
    assert!(out.contains("origin: IAM Identity Center user erin@example.com"), "{out}");
    assert!(out.contains("IAM Identity Center console federation for AdministratorAccess in 444455556666 (Federate 2024-03-04T10:15:00Z)"));
    assert!(out.contains("session name erin@example.com is the Identity Center user's name; session created 2024-03-04T10:15:01Z, Federate at 2024-03-04T10:15:00Z (1 s apart)"));
    assert!(out.contains(
        "session created 2024-03-04T10:15:03Z, ConsoleLogin at 2024-03-04T10:15:02Z (1 s apart)"
    ));
    let (_, out, _) = trace(&["--access-key", SSO_ERIN_CONSOLE, "--up", "--format", "jsonl"]);
    let lines = jsonl(&out);
    let login = lines.iter().find(|l| l["event"]["eventName"] == "ConsoleLogin").unwrap();
    assert_eq!(login["credential"], SSO_ERIN);
    assert_eq!(login["relation"], "ancestor");
    assert_eq!(login["inferred"], true);
}

#[test]
fn identity_center_user_down_is_their_sessions() {
    // By identity-store id (the form CloudTrail writes since 2025) ...
    assert_eq!(credentials(&["--user", CAROL_ID, "--down"]), set(&[SSO_CAROL]));
    // ... and by name (the older form, type Unknown with userName).
    assert_eq!(
        credentials(&["--user", "erin@example.com", "--down"]),
        set(&[SSO_ERIN, SSO_ERIN_CONSOLE])
    );
    assert_eq!(credentials(&["--user", "dan@example.com", "--down"]), set(&[SSO_DAN]));
    let (code, out, _) = trace(&["--user", "erin@example.com", "--down", "--format", "json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let root = &v["trees"][0];
    assert_eq!(root["seed"], true);
    assert_eq!(root["issued_by"]["event_name"], "Federate");
    assert_eq!(root["issued_by"]["sso"]["permission_set"], "AdministratorAccess");
    assert_eq!(root["issued_by"]["sso"]["account"], "444455556666");
    let child = &root["children"][0];
    assert_eq!(child["key"], SSO_ERIN);
    assert_eq!(child["link"]["kind"], "inferred");
    assert!(
        child["link"]["evidence"]
            .as_str()
            .unwrap()
            .starts_with("IAM Identity Center: account 444455556666")
    );
    // Another user of the same permission set is never in a user's trace.
    let (_, out, _) = trace(&["--user", CAROL_ID, "--down"]);
    assert!(!out.contains(SSO_DAN) && !out.contains(SSO_ERIN), "{out}");
    // A user with no grant in the archive was never seen.
    let (code, _, err) = trace(&["--user", "mallory@example.com"]);
    assert_eq!(code, 1, "{err}");
}

#[test]
fn seeds_by_user_session_and_ip() {
    // A session ARN names every session with that name: here the decoy reused it.
    let s = "arn:aws:sts::444455556666:assumed-role/DataPipeline/alice-chain";
    assert_eq!(
        credentials(&["--session", s, "--down"]),
        set(&[CHAIN, BACKDOOR, "ASIAQRSTUVWXDECOYCI2"])
    );
    assert_eq!(
        credentials(&["--user", "alice", "--down"]),
        credentials(&["--access-key", ALICE, "--down"])
    );
    assert_eq!(
        credentials(&["--ip", "198.51.100.0/24", "--down"]),
        set(&[CROSS, CHAIN, BACKDOOR, EC2, DAVE_NEW, VENDOR_PARENT, VENDOR])
    );
}

#[test]
fn activity_filters_narrow_events_not_links() {
    let (code, out, _) =
        trace(&["--access-key", ALICE, "--down", "--source", "iam", "--format", "jsonl"]);
    assert_eq!(code, 0);
    let names: Vec<String> =
        jsonl(&out).iter().map(|l| l["event"]["eventName"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, ["ListRoles", "AttachUserPolicy", "CreateAccessKey"]);
}

#[test]
fn exit_codes_and_errors() {
    let (code, out, err) = trace(&["--access-key", "ASIAQRSTUVWXNOTSEEN1"]);
    assert_eq!(code, 1, "{out}");
    assert!(err.contains("no seed was seen"), "{err}");
    assert!(err.contains("files read"), "{err}");
    assert_eq!(trace(&["--user", "nobody-at-all"]).0, 1);
    let (code, _, err) = trace(&[]);
    assert_eq!(code, 2);
    assert!(err.contains("needs a seed"), "{err}");
    assert_eq!(trace(&["--access-key", "not-a-key"]).0, 2);
    assert_eq!(trace(&["--access-key", CHAIN, "--up", "--down"]).0, 2);
    assert_eq!(trace(&["--access-key", CHAIN, "--pattern", "{}"]).0, 2);
}

#[test]
fn hostile_strings_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let rec = serde_json::json!({"Records": [
        {"eventVersion": "1.09", "eventTime": "2024-03-04T09:00:00Z", "eventSource": "sts.amazonaws.com",
         "eventName": "AssumeRole", "awsRegion": "us-east-1", "sourceIPAddress": "203.0.113.5",
         "userAgent": "<script>alert(1)</script>\u{1b}[2J\u{202e}",
         "userIdentity": {"type": "IAMUser", "userName": "<img src=x>", "accessKeyId": ALICE, "accountId": "111122223333"},
         "requestParameters": {"roleArn": "arn:aws:iam::111122223333:role/<b>x</b>", "roleSessionName": "s"},
         "responseElements": {"credentials": {"accessKeyId": CHAIN}},
         "eventID": "1", "recipientAccountId": "111122223333"}
    ]});
    let path = dir.path().join("hostile.json");
    std::fs::write(&path, rec.to_string()).unwrap();
    let p = path.to_str().unwrap();
    let (code, out, _) = run(&["trace", p, "--access-key", CHAIN]);
    assert_eq!(code, 0);
    assert!(!out.contains('\u{1b}') && !out.contains('\u{202e}'), "{out}");
    assert!(out.contains("\\u{1b}[2J"));
    let (code, out, _) = run(&["trace", p, "--access-key", CHAIN, "--format", "html"]);
    assert_eq!(code, 0);
    assert!(out.contains(
        "Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\""
    ));
    assert!(!out.contains("<script") && !out.contains("<img") && !out.contains("<b>"), "{out}");
    assert!(out.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    let _ = root();
}

#[test]
fn time_window_is_an_edge_of_the_evidence() {
    // From 09:06 on, the chain's issuing events are outside the window.
    let (code, out, _) = trace(&["--access-key", CHAIN, "--since", "2024-03-04T09:06:00Z"]);
    assert_eq!(code, 0);
    assert!(out.contains("origin: temporary credentials of DataPipeline/alice-chain: issued before the archive starts (or outside the searched window)"), "{out}");
    assert!(!out.contains(ALICE) && !out.contains(CROSS));
    // The key it created is still found (its CreateAccessKey is inside the window).
    assert!(out.contains(&format!("── {BACKDOOR}")));
}

#[test]
fn escaped_keys_are_still_found() {
    // A record whose key is written with a JSON escape: the links pass notes the decoded key
    // for its file, so the activity pass opens that file and the pattern matches it.
    let dir = tempfile::tempdir().unwrap();
    let issue = r#"{"Records":[{"eventTime":"2024-03-04T09:00:00Z","eventSource":"sts.amazonaws.com","eventName":"AssumeRole","userIdentity":{"type":"IAMUser","userName":"alice","accessKeyId":"AKIAIOSFODNN7EXAMPLE","accountId":"111122223333"},"requestParameters":{"roleArn":"arn:aws:iam::111122223333:role/R","roleSessionName":"s"},"responseElements":{"credentials":{"accessKeyId":"ASIAQRSTUVWXCHAINED1"}},"eventID":"a","recipientAccountId":"111122223333"}]}"#;
    let used = r#"{"Records":[{"eventTime":"2024-03-04T09:05:00Z","eventSource":"iam.amazonaws.com","eventName":"ListUsers","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/R/s","accessKeyId":"ASIAQRSTUVWX\u0043HAINED1","accountId":"111122223333"},"eventID":"b","recipientAccountId":"111122223333"}]}"#;
    std::fs::write(dir.path().join("1.json"), issue).unwrap();
    std::fs::write(dir.path().join("2.json"), used).unwrap();
    let d = dir.path().to_str().unwrap();
    let (code, out, err) = run(&["trace", d, "--access-key", ALICE, "--down", "--format", "jsonl"]);
    assert_eq!(code, 0, "{err}");
    let events = jsonl(&out);
    assert_eq!(events.len(), 2, "{out}");
    assert_eq!(events[1]["credential"], CHAIN);
    assert_eq!(events[1]["event"]["eventName"], "ListUsers");
}

/// Runs `trace` on the fixtures with the archive index in `dir`: (exit, stdout, stderr).
fn trace_indexed(dir: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let mut a = vec!["trace", ARCHIVE];
    a.extend_from_slice(args);
    let out = crate::util::trailscan(&a).env("TRAILSCAN_INDEX_DIR", dir).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_index_changes_which_files_are_read_never_the_trace() {
    let dir = tempfile::tempdir().unwrap();
    let out = crate::util::trailscan(&["index", ARCHIVE])
        .env("TRAILSCAN_INDEX_DIR", dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let seeds: [&[&str]; 12] = [
        &["--access-key", ALICE],
        &["--access-key", CHAIN, "--up"],
        &["--access-key", BACKDOOR, "--down"],
        &["--access-key", CONSOLE],
        &["--access-key", LAMBDA],
        &["--access-key", VENDOR],
        &["--access-key", SSO_ERIN_CONSOLE],
        &["--access-key", SSO_DAN],
        &["--user", "dave", "--down"],
        &["--user", CAROL_ID],
        &["--session", "arn:aws:sts::444455556666:assumed-role/DataPipeline/alice-chain"],
        &["--ip", "198.51.100.0/24", "--since", "2024-03-04T09:05:00Z"],
    ];
    for seed in seeds {
        let mut reads = Vec::new();
        for format in ["text", "json", "jsonl", "html"] {
            let mut a = seed.to_vec();
            a.extend(["--format", format]);
            let plain = trace(&[a.as_slice(), &["--no-index"]].concat());
            let indexed = trace_indexed(dir.path(), &a);
            assert_eq!(plain.0, indexed.0, "{a:?}");
            assert_eq!(plain.1, indexed.1, "{a:?}: the index changed the trace");
            assert_eq!(file_reads(&plain.2).1, 0, "{}", plain.2);
            reads.push((file_reads(&plain.2), file_reads(&indexed.2)));
        }
        // Following the links through the index reads fewer files than reading every
        // issuing event (a `--session` seed too: its first pass reads every issuing event,
        // its activity pass only what the index cannot rule out).
        let ((cold, _), (warm, ruled_out)) = reads[0];
        assert!(warm < cold && ruled_out > 0, "{seed:?}: {cold} file reads cold, {warm} indexed");
        assert!(reads.iter().all(|r| r == &reads[0]), "{seed:?}: {reads:?}");
    }
    // A trace up a chain reads what holds the chain, not every issuing event: the files of its
    // four credentials' events and issuances (and the ones the index cannot rule out).
    let (_, _, cold) = trace(&["--access-key", CHAIN, "--up", "--no-index"]);
    let (_, _, warm) = trace_indexed(dir.path(), &["--access-key", CHAIN, "--up"]);
    assert_eq!(file_reads(&cold).0, 22, "{cold}");
    assert!(file_reads(&warm).0 <= 7, "{warm}");
    // A seed the index cannot follow (a session, found by the session its issuing event
    // named, which the index does not keep) is said so, and read the full way.
    let (_, _, err) = trace_indexed(
        dir.path(),
        &["--session", "arn:aws:sts::444455556666:assumed-role/DataPipeline/alice-chain"],
    );
    assert!(err.contains("every issuing event read"), "{err}");
    // A file changed since it was indexed is read, and the trace is the same.
    let copy = indexed_copy(dir.path());
    let archive = copy.path().join("trace");
    let archive = archive.to_str().unwrap();
    let plain = run(&["trace", archive, "--access-key", SSO_CAROL, "--format", "json"]);
    let stale = walk(std::path::Path::new(archive))
        .into_iter()
        .find(|p| p.to_str().unwrap().contains("444455556666_CloudTrail_us-east-1_20240304T1015Z"))
        .unwrap();
    let bytes = std::fs::read(&stale).unwrap();
    std::fs::write(&stale, bytes).unwrap();
    let out =
        crate::util::trailscan(&["trace", archive, "--access-key", SSO_CAROL, "--format", "json"])
            .env("TRAILSCAN_INDEX_DIR", dir.path())
            .output()
            .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), plain.1);
    assert!(String::from_utf8_lossy(&out.stderr).contains("changed since it was built"));
}

/// (file reads in all, files ruled out unopened by the index) from a trace's stderr.
fn file_reads(stderr: &str) -> (u64, u64) {
    let line = stderr.lines().find(|l| l.contains("file reads in all")).expect(stderr);
    let num = |after: &str| -> u64 {
        let at = line.find(after).unwrap() + after.len();
        line[at..].split(|c: char| !c.is_ascii_digit()).next().unwrap().parse().unwrap()
    };
    let reads = num("(");
    let ruled = if line.contains("ruled out") { num("in all, ") } else { 0 };
    (reads, ruled)
}

/// A copy of the fixture archive (in `trace/` of the folder returned), indexed into `dir`.
fn indexed_copy(dir: &std::path::Path) -> tempfile::TempDir {
    let copy = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("cp")
        .args(["-r", &root().join(ARCHIVE).display().to_string()])
        .arg(copy.path())
        .status()
        .unwrap();
    assert!(status.success());
    let archive = copy.path().join("trace");
    let idx = crate::util::trailscan(&["index", archive.to_str().unwrap()])
        .env("TRAILSCAN_INDEX_DIR", dir)
        .output()
        .unwrap();
    assert!(idx.status.success());
    copy
}

#[test]
fn a_file_changed_after_indexing_gives_the_cold_answer() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let copy = indexed_copy(dir.path());
    let archive = copy.path().join("trace");
    let archive = archive.to_str().unwrap();
    // After indexing, the chained session issues one more key in a file of its account, and
    // uses it: the index says neither.
    let file = walk(std::path::Path::new(archive))
        .into_iter()
        .find(|p| p.to_str().unwrap().contains("444455556666_CloudTrail_us-east-1_20240304T1020Z"))
        .unwrap();
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(&file).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    const LATE: &str = "ASIAQRSTUVWXLATEKEY1";
    let caller = serde_json::json!({"type": "AssumedRole", "accessKeyId": CHAIN, "accountId": "444455556666",
        "arn": "arn:aws:sts::444455556666:assumed-role/DataPipeline/alice-chain",
        "sessionContext": {"attributes": {"creationDate": "2024-03-04T09:05:00Z"}}});
    let records = doc["Records"].as_array_mut().unwrap();
    records.push(serde_json::json!({"eventVersion": "1.09", "eventTime": "2024-03-04T10:20:30Z",
        "eventSource": "sts.amazonaws.com", "eventName": "AssumeRole", "awsRegion": "us-east-1",
        "userIdentity": caller, "sourceIPAddress": "198.51.100.77", "eventID": "late-1",
        "requestParameters": {"roleArn": "arn:aws:iam::444455556666:role/Late", "roleSessionName": "late"},
        "responseElements": {"credentials": {"accessKeyId": LATE},
            "assumedRoleUser": {"arn": "arn:aws:sts::444455556666:assumed-role/Late/late"}},
        "recipientAccountId": "444455556666"}));
    records.push(serde_json::json!({"eventVersion": "1.09", "eventTime": "2024-03-04T10:21:00Z",
        "eventSource": "s3.amazonaws.com", "eventName": "ListBuckets", "awsRegion": "us-east-1",
        "userIdentity": {"type": "AssumedRole", "accessKeyId": LATE, "accountId": "444455556666",
            "arn": "arn:aws:sts::444455556666:assumed-role/Late/late"},
        "sourceIPAddress": "198.51.100.77", "eventID": "late-2", "recipientAccountId": "444455556666"}));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(doc.to_string().as_bytes()).unwrap();
    std::fs::write(&file, gz.finish().unwrap()).unwrap();
    for args in [&["--access-key", CHAIN][..], &["--access-key", LATE, "--up"]] {
        let mut a = vec!["trace", archive];
        a.extend_from_slice(args);
        a.extend(["--format", "jsonl"]);
        let plain = run(&a);
        assert!(plain.1.contains(LATE), "{args:?}: {}", plain.1);
        let out =
            crate::util::trailscan(&a).env("TRAILSCAN_INDEX_DIR", dir.path()).output().unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), plain.1, "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("changed since it was built"), "{err}");
        assert!(file_reads(&err).1 > 0, "{err}");
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn a_walk_past_what_the_index_narrows_is_given_up_for_the_same_trace() {
    // 300 sessions used from one address (none issued in the archive): more keys to look up
    // than the walk through the index takes on.
    let archive = tempfile::tempdir().unwrap();
    let records: Vec<serde_json::Value> = (0..300)
        .map(|i| {
            serde_json::json!({"eventVersion": "1.09", "eventTime": format!("2024-03-04T10:{:02}:{:02}Z", i / 60, i % 60),
                "eventSource": "s3.amazonaws.com", "eventName": "ListBuckets", "awsRegion": "us-east-1",
                "userIdentity": {"type": "AssumedRole", "accessKeyId": format!("ASIAQRSTUVWXM{i:07}"),
                    "accountId": "111122223333", "arn": format!("arn:aws:sts::111122223333:assumed-role/R/s{i}")},
                "sourceIPAddress": "192.0.2.1", "eventID": format!("m-{i}"), "recipientAccountId": "111122223333"})
        })
        .collect();
    std::fs::write(
        archive.path().join("many.json"),
        serde_json::json!({ "Records": records }).to_string(),
    )
    .unwrap();
    // Files without the address, so that the seed is in a fifth of them (in more than a
    // quarter, the walk is not begun at all).
    for i in 0..4 {
        let other = serde_json::json!({"Records": [{"eventVersion": "1.09", "eventTime": "2024-03-04T11:00:00Z",
            "eventSource": "s3.amazonaws.com", "eventName": "ListBuckets", "awsRegion": "us-east-1",
            "userIdentity": {"type": "IAMUser", "accessKeyId": format!("AKIAQRSTUVWXOTHER{i:03}"),
                "accountId": "111122223333", "arn": "arn:aws:iam::111122223333:user/o"},
            "sourceIPAddress": "203.0.113.9", "eventID": format!("o-{i}"), "recipientAccountId": "111122223333"}]});
        std::fs::write(archive.path().join(format!("other{i}.json")), other.to_string()).unwrap();
    }
    let a = archive.path().to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let idx = crate::util::trailscan(&["index", a])
        .env("TRAILSCAN_INDEX_DIR", dir.path())
        .output()
        .unwrap();
    assert!(idx.status.success());
    let args = ["trace", a, "--ip", "192.0.2.1", "--format", "jsonl"];
    let plain = run(&[&args[..], &["--no-index"]].concat());
    assert_eq!(jsonl(&plain.1).len(), 300);
    let out =
        crate::util::trailscan(&args).env("TRAILSCAN_INDEX_DIR", dir.path()).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), plain.1);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("the walk through it was given up"), "{err}");
    // Alone, the address is in every file: the walk is not begun, the trace is the same.
    for i in 0..4 {
        std::fs::remove_file(archive.path().join(format!("other{i}.json"))).unwrap();
    }
    let idx = crate::util::trailscan(&["index", a])
        .env("TRAILSCAN_INDEX_DIR", dir.path())
        .output()
        .unwrap();
    assert!(idx.status.success());
    let out =
        crate::util::trailscan(&args).env("TRAILSCAN_INDEX_DIR", dir.path()).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), plain.1);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("the walk through the index was not begun"), "{err}");
}
