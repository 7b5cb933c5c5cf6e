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
