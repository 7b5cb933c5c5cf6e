//! The graph, from issuing events and activity given in memory.

use super::*;
use serde_json::json;

fn assume(caller: &str, new: &str, time: &str, role: &str) -> Issuance {
    Issuance::from_record(&json!({
        "eventSource": "sts.amazonaws.com", "eventName": "AssumeRole", "eventTime": time,
        "userIdentity": {"type": "AssumedRole", "accessKeyId": caller, "accountId": "111122223333"},
        "requestParameters": {"roleArn": format!("arn:aws:iam::111122223333:role/{role}"), "roleSessionName": "s"},
        "responseElements": {"credentials": {"accessKeyId": new}}
    }))
    .unwrap()
}

fn facts(issuances: Vec<Issuance>, seed: &str) -> Facts {
    let mut f = Facts::default();
    for i in issuances {
        add_issuance(&mut f, i);
    }
    f.seeds.insert(NodeId::Key(seed.to_string()));
    f
}

fn keys(nodes: &BTreeMap<NodeId, NodeInfo>) -> Vec<String> {
    nodes
        .keys()
        .filter_map(|n| match n {
            NodeId::Key(k) => Some(k.clone()),
            NodeId::Issuance(_) => None,
        })
        .collect()
}

const A: &str = "AKIAAAAAAAAAAAAAAAAA";
const B: &str = "ASIABBBBBBBBBBBBBBBB";
const C: &str = "ASIACCCCCCCCCCCCCCCC";
const D: &str = "ASIADDDDDDDDDDDDDDDD";
const X: &str = "AKIAXXXXXXXXXXXXXXXX";
const Y: &str = "ASIAYYYYYYYYYYYYYYYY";

#[test]
fn up_down_and_decoys() {
    let f = facts(
        vec![
            assume(A, B, "2024-03-01T10:00:00Z", "Admin"),
            assume(B, C, "2024-03-01T10:01:00Z", "Deploy"),
            assume(C, D, "2024-03-01T10:02:00Z", "Ops"),
            // A decoy: another principal assumes the same role.
            assume(X, Y, "2024-03-01T10:00:30Z", "Admin"),
        ],
        C,
    );
    assert_eq!(keys(&closure(&f, Direction::Up)), vec![A, B, C]);
    assert_eq!(keys(&closure(&f, Direction::Down)), vec![C, D]);
    let both = closure(&f, Direction::Both);
    assert_eq!(keys(&both), vec![A, B, C, D]);
    assert_eq!(both[&NodeId::Key(C.into())].parent, Some(NodeId::Key(B.into())));
    assert_eq!(both[&NodeId::Key(B.into())].children, vec![NodeId::Key(C.into())]);
    assert!(both[&NodeId::Key(A.into())].ancestor);
    assert!(!both[&NodeId::Key(D.into())].ancestor);
}

#[test]
fn failed_issuance_issues_nothing() {
    let mut failed = assume(B, C, "2024-03-01T10:01:00Z", "Deploy");
    failed.error = Some("AccessDenied".into());
    failed.issued = Issued::Nothing;
    let f = facts(vec![assume(A, B, "2024-03-01T10:00:00Z", "Admin"), failed], B);
    let down = closure(&f, Direction::Down);
    assert_eq!(keys(&down), vec![B]);
    // The failed call is a leaf under its caller.
    assert_eq!(down[&NodeId::Key(B.into())].children, vec![NodeId::Issuance(1)]);
}

#[test]
fn cross_account_copies_are_one_call() {
    let mut copy = assume(A, B, "2024-03-01T10:00:00Z", "Admin");
    copy.account = Some("444455556666".into());
    copy.logged_in = vec!["444455556666".into()];
    let mut own = assume(A, B, "2024-03-01T10:00:00Z", "Admin");
    own.account = Some("111122223333".into());
    own.logged_in = vec!["111122223333".into()];
    let f = facts(vec![copy, own], B);
    assert_eq!(f.issuances.len(), 1);
    assert_eq!(f.issuances[0].account.as_deref(), Some("111122223333"));
    assert_eq!(f.issuances[0].logged_in, vec!["111122223333", "444455556666"]);
}

#[test]
fn console_sessions_are_inferred_within_seconds() {
    let login = Issuance::from_record(&json!({
        "eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin",
        "eventTime": "2024-03-01T09:00:00Z",
        "userIdentity": {"type": "IAMUser", "userName": "bob", "arn": "arn:aws:iam::1:user/bob"},
        "responseElements": {"ConsoleLogin": "Success"}
    }))
    .unwrap();
    let mut f = facts(vec![login], B);
    let ev = |key: &str, created: &str| {
        let v = json!({
            "eventTime": "2024-03-01T09:10:00Z", "eventSource": "iam.amazonaws.com", "eventName": "ListUsers",
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::1:user/bob", "accessKeyId": key,
                "sessionContext": {"attributes": {"creationDate": created}}}
        });
        Event::from_record(&v, "{}", (0, 0), false)
    };
    f.events.insert(B.into(), vec![ev(B, "2024-03-01T09:00:02Z")]);
    f.events.insert(C.into(), vec![ev(C, "2024-03-01T08:00:00Z")]);
    infer(&mut f);
    assert!(f.inferred.contains_key(B));
    assert!(!f.inferred.contains_key(C), "an hour apart is another session");
    let up = closure(&f, Direction::Up);
    assert_eq!(up[&NodeId::Key(B.into())].parent, Some(NodeId::Issuance(0)));
    assert!(matches!(up[&NodeId::Key(B.into())].link, Some(Link::Inferred(_))));
}

/// A file is opened in a search by principal when it holds a session of that principal that
/// [`infer`] could link to one of its sign-ins: every creation time `seconds_apart` puts
/// within [`INFER_SECONDS`] of the sign-in has its second among the hashes looked for.
#[test]
fn principal_searches_look_for_sessions_created_near_a_sign_in() {
    let arn = "arn:aws:iam::1:user/bob";
    let login = Issuance::from_record(&json!({
        "eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin",
        "eventTime": "2024-03-01T09:00:00.400Z",
        "userIdentity": {"type": "IAMUser", "userName": "bob", "arn": arn},
        "responseElements": {"ConsoleLogin": "Success"}
    }))
    .unwrap();
    let f = facts(vec![login], B);
    let wanted = principal_hashes(&f, arn);
    assert!(wanted.contains(&key_hash(arn)), "records read the exact way note the principal");
    let at = time::parse_event_time("2024-03-01T09:00:00.400Z").unwrap();
    for tenths in -150..=150 {
        let created = at + chrono::Duration::milliseconds(tenths * 100 + 30);
        let text = created.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
        let linked = seconds_apart("2024-03-01T09:00:00.400Z", &text).unwrap() <= INFER_SECONDS;
        let noted = session_hash(arn, created_second(&text).unwrap());
        if linked {
            assert!(wanted.contains(&noted), "{text}: a session infer links is looked for");
        }
    }
    // Another principal's sessions at the same time are not.
    let other = session_hash("arn:aws:iam::1:user/eve", at.timestamp());
    assert!(!wanted.contains(&other));
    // Far from the sign-in: not looked for.
    assert!(!wanted.contains(&session_hash(arn, at.timestamp() + 60)));
}

/// A session linked by inference is known whole when every file holding its key was read
/// for its principal; otherwise its key is searched for.
#[test]
fn inferred_sessions_are_whole_only_when_their_files_were_read() {
    let arn = "arn:aws:iam::1:user/bob";
    let mut f = Facts::default();
    let notes = |keys: &[&str]| Some(keys.iter().map(|k| key_hash(k)).collect::<FxHashSet<u64>>());
    f.files = vec![
        ("a".into(), notes(&[B])),
        ("b".into(), notes(&[C])),
        ("c".into(), notes(&[B, C])),
        // Ruled out by the index in pass 1: the index answered for it when searched.
        ("d".into(), None),
    ];
    f.principal_files.insert(arn.into(), Some([0, 2].into_iter().collect()));
    assert!(principal_read_whole(&f, arn, B));
    assert!(!principal_read_whole(&f, arn, C), "file b holds C and was not read");
    f.principal_files.insert(arn.into(), None);
    assert!(principal_read_whole(&f, arn, C), "every file was read");
}
