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

/// An issuance read at `at` (file, record) in the walk.
fn placed(mut i: Issuance, at: (usize, u64)) -> Issuance {
    (i.file, i.record) = at;
    i
}

fn login(arn: &str, time: &str, id: &str) -> Issuance {
    Issuance::from_record(&json!({
        "eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin", "eventTime": time,
        "eventID": id, "userIdentity": {"type": "IAMUser", "arn": arn, "accountId": "111122223333"},
        "responseElements": {"ConsoleLogin": "Success"}
    }))
    .unwrap()
}

#[test]
fn issuances_read_out_of_order_are_rebuilt_as_the_full_pass_adds_them() {
    // A cross-account call logged twice (the caller's account's copy later in the walk), a
    // sign-in between them, and a call made later.
    let copy = |account: &str, at| {
        let mut i = placed(assume(A, B, "2024-03-01T10:00:00Z", "Admin"), at);
        i.account = Some(account.to_string());
        i.logged_in = vec![account.to_string()];
        i.event_id = Some(format!("id-{account}"));
        i
    };
    let theirs = copy("444455556666", (1, 4));
    let own = copy("111122223333", (3, 0));
    let signin =
        placed(login("arn:aws:iam::111122223333:user/a", "2024-03-01T09:59:58Z", "in"), (2, 7));
    let later = placed(assume(B, C, "2024-03-01T10:01:00Z", "Deploy"), (5, 1));
    let all = [theirs, own, signin, later];

    // The full links pass: in walk order.
    let mut cold = Facts::default();
    for i in all.clone() {
        add_issuance(&mut cold, i);
    }

    // Through the index: found in another order, over several passes.
    let mut warm = Facts { walk: Some(Walk::default()), ..Facts::default() };
    for i in [&all[3], &all[1]] {
        take_issuance(&mut warm, i.clone());
    }
    rebuild(&mut warm);
    // A seed and an inferred link to the sign-in, by its number now.
    take_issuance(&mut warm, all[2].clone());
    rebuild(&mut warm);
    let s = warm.issuances.iter().position(|i| i.event_id.as_deref() == Some("in")).unwrap();
    warm.seeds.insert(NodeId::Issuance(s));
    warm.inferred.insert(D.to_string(), (s, "evidence".into()));
    // The first copy, read last: everything is renumbered.
    take_issuance(&mut warm, all[0].clone());
    // The same record read again (by another pass) changes nothing.
    take_issuance(&mut warm, all[3].clone());
    rebuild(&mut warm);

    let ids = |f: &Facts| -> Vec<(Option<String>, Vec<String>)> {
        f.issuances.iter().map(|i| (i.event_id.clone(), i.logged_in.clone())).collect()
    };
    assert_eq!(ids(&warm), ids(&cold));
    // The caller's own account's copy is the one kept, logged by both.
    assert_eq!(warm.issuances[0].event_id.as_deref(), Some("id-111122223333"));
    assert_eq!(warm.issuances[0].logged_in, vec!["111122223333", "444455556666"]);
    assert_eq!(warm.by_key, cold.by_key);
    assert_eq!(warm.by_caller, cold.by_caller);
    let s = cold.issuances.iter().position(|i| i.event_id.as_deref() == Some("in")).unwrap();
    assert_eq!(warm.seeds, BTreeSet::from([NodeId::Issuance(s)]));
    assert_eq!(warm.inferred[D].0, s);

    // A record read in full later replaces its links-only reading, and only that.
    let mut links = all[3].clone();
    links.detailed = false;
    let mut w = Facts { walk: Some(Walk::default()), ..Facts::default() };
    take_issuance(&mut w, links.clone());
    take_issuance(&mut w, all[3].clone());
    take_issuance(&mut w, links);
    rebuild(&mut w);
    assert!(w.issuances.len() == 1 && w.issuances[0].detailed);
}

#[test]
fn time_windows_hold_every_issuance_a_session_can_be_inferred_to() {
    let created = 1_000_000;
    let w = windows([created].into_iter());
    assert_eq!(w.len(), 1);
    let (since, until) = w[0];
    // Every issuance `infer` links (at most INFER_SECONDS apart, counted as `seconds_apart`
    // counts, on times with fractions) lies inside; the creation date's own fraction too.
    let text = |s: i64, tenths: i64| {
        let t = chrono::DateTime::from_timestamp(s, (tenths * 100_000_000) as u32).unwrap();
        t.format("%Y-%m-%dT%H:%M:%S%.fZ").to_string()
    };
    for frac in 0..10 {
        let c = text(created, frac);
        for d in -80..=80 {
            let (s, tenths) = (created + (frac + d).div_euclid(10), (frac + d).rem_euclid(10));
            let t = text(s, tenths);
            if seconds_apart(&t, &c).is_some_and(|x| x <= INFER_SECONDS) {
                assert!(since <= s && s < until, "{t} near {c} outside {w:?}");
            }
        }
    }
    // Sessions created close together are one window; far apart, two.
    assert_eq!(windows([0, 60].into_iter()).len(), 1);
    assert_eq!(windows([0, 86_400].into_iter()).len(), 2);
}

#[test]
fn inference_is_looked_up_for_the_trace_and_near_known_sign_ins() {
    let arn = "arn:aws:iam::111122223333:user/a";
    let event = |key: &str, created: &str| {
        let v = json!({"eventSource": "s3.amazonaws.com", "eventName": "ListBuckets",
            "eventTime": "2024-03-01T11:00:00Z", "eventID": format!("e-{key}"),
            "userIdentity": {"type": "IAMUser", "arn": arn, "accessKeyId": key,
                "sessionContext": {"attributes": {"creationDate": created}}}});
        Event::from_record(&v, "", (0, 0), false)
    };
    let mut f = Facts::default();
    add_issuance(&mut f, login(arn, "2024-03-01T10:00:00Z", "in"));
    add_issuance(&mut f, assume(A, B, "2024-03-01T10:00:01Z", "Admin"));
    // B was issued (no inference); C was created next to the sign-in; D long after it; Y is
    // the seed, created long after too.
    for (k, c) in [
        (B, "2024-03-01T10:00:01Z"),
        (C, "2024-03-01T10:00:04Z"),
        (D, "2024-03-01T10:30:00Z"),
        (Y, "2024-03-01T10:40:00Z"),
    ] {
        add_events(&mut f, 0, vec![event(k, c)]);
    }
    f.seeds.insert(NodeId::Key(Y.to_string()));
    let nodes = closure(&f, Direction::Both);
    let c = inference_candidates(&f, &nodes);
    let keys: Vec<&str> = c.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, vec![C, Y]);
    assert_eq!(
        c[0].1,
        chrono::DateTime::parse_from_rfc3339("2024-03-01T10:00:04Z").unwrap().timestamp()
    );
}

#[test]
fn the_copy_of_a_shared_call_kept_is_the_first_in_the_walk() {
    let copy = |account: &str| {
        let v = json!({"eventSource": "sts.amazonaws.com", "eventName": "AssumeRole",
            "eventTime": "2024-03-01T10:00:00Z", "eventID": format!("id-{account}"),
            "recipientAccountId": account, "sharedEventID": "shared-1",
            "userIdentity": {"type": "IAMUser", "accessKeyId": A}});
        Event::from_record(&v, "", (0, 3), false)
    };
    for order in
        [[(1, "111122223333"), (4, "444455556666")], [(4, "444455556666"), (1, "111122223333")]]
    {
        let mut f = Facts::default();
        for (file, account) in order {
            add_events(&mut f, file, vec![copy(account)]);
        }
        assert_eq!(f.duplicates, 1);
        let kept: Vec<_> = f.events[A].iter().map(|e| e.account.clone().unwrap()).collect();
        assert_eq!(kept, vec!["111122223333"], "{order:?}");
    }
}
