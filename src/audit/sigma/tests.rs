use super::*;
use serde_json::json;

fn one(detection: &str) -> Rule {
    let text = format!(
        "title: t\nid: r1\nauthor: a\nlogsource: {{product: aws, service: cloudtrail}}\ndetection:\n{detection}\nlevel: high\n"
    );
    let l = load_text(&text, "t.yml", &Options::default());
    assert!(l.failed.is_empty(), "{:?}", l.failed);
    l.rules.into_iter().next().expect("one rule")
}

fn expr(r: &Rule) -> &Expr {
    match &r.sigma.as_ref().expect("sigma").kind {
        Kind::Detection(e) => e,
        Kind::Correlation(_) => panic!("not a detection"),
    }
}

#[test]
fn conditions_without_not_are_one_pattern_in_dnf() {
    let r = one(
        "    a:\n        eventName: [A, B]\n    b:\n        eventSource: s\n    c:\n        eventSource: t\n    condition: a and (b or c)",
    );
    let e = expr(&r);
    assert_eq!(e.patterns(), 1, "{}", e.describe());
    assert!(matches!(e, Expr::Pattern(_)));
    assert!(e.matches(&json!({"eventName": "a", "eventSource": "T"})));
    assert!(!e.matches(&json!({"eventName": "a", "eventSource": "u"})));
    // The query pattern is the detection itself, with folded literal clauses for the prefilter.
    let clauses = r.pattern.pattern.literal_clauses_folded("");
    assert!(clauses.contains(&vec![r#""A""#.to_string(), r#""B""#.to_string()]), "{clauses:?}");
    // Case-insensitive values claim nothing case-sensitively.
    assert!(r.pattern.pattern.literal_clauses("").is_empty());
}

#[test]
fn not_makes_a_tree_and_the_query_keeps_the_positive_part() {
    let r = one(
        "    sel:\n        eventName: StopLogging\n    filter:\n        userIdentity.arn|endswith: ':role/admin'\n    condition: sel and not filter",
    );
    let e = expr(&r);
    assert!(matches!(e, Expr::And(_)), "{}", e.describe());
    assert!(e.matches(&json!({"eventName": "StopLogging", "userIdentity": {"arn": "x"}})));
    assert!(
        !e.matches(&json!({"eventName": "StopLogging", "userIdentity": {"arn": "a:role/ADMIN"}}))
    );
    // The superset is `sel`: it matches the filtered-out record too, and has a clause.
    assert!(
        r.pattern
            .pattern
            .matches(&json!({"eventName": "stoplogging", "userIdentity": {"arn": "a:role/admin"}}))
    );
    assert_eq!(
        r.pattern.pattern.literal_clauses_folded(""),
        vec![vec![r#""StopLogging""#.to_string()]]
    );
    // Only a negation: every record is a candidate.
    let n = one("    filter:\n        eventName: A\n    condition: not filter");
    assert!(n.pattern.pattern.literal_clauses_folded("").is_empty());
    assert!(n.pattern.pattern.matches(&json!({"anything": 1})));
    assert!(expr(&n).matches(&json!({"eventName": "B"})));
    assert!(!expr(&n).matches(&json!({"eventName": "a"})));
}

#[test]
fn fieldref_and_null_and_same_field_twice() {
    let r = one(
        "    sel:\n        a|fieldref: b\n        c: null\n        d|startswith: x\n        d|endswith: y\n    condition: sel",
    );
    let e = expr(&r);
    assert!(e.matches(&json!({"a": "1", "b": "1", "d": "xmy"})));
    assert!(e.matches(&json!({"a": "1", "b": "1", "c": null, "d": "XY"})));
    assert!(!e.matches(&json!({"a": "1", "b": "2", "d": "xy"})));
    assert!(!e.matches(&json!({"a": "1", "b": "1", "c": "v", "d": "xy"})));
    assert!(!e.matches(&json!({"a": "1", "b": "1", "d": "x"})));
    // Arrays: any element of either side.
    assert!(e.matches(&json!({"a": ["0", "1"], "b": ["1"], "d": "xy"})));
}

#[test]
fn contains_sees_inside_objects_but_equality_does_not() {
    let r = one(
        "    sel:\n        requestParameters|contains: secret\n    eq:\n        responseElements: secret\n    condition: sel or eq",
    );
    let e = expr(&r);
    assert!(e.matches(&json!({"requestParameters": {"a": [{"b": "TopSecret"}]}})));
    assert!(e.matches(&json!({"responseElements": "SECRET"})));
    assert!(!e.matches(&json!({"responseElements": {"x": "secret"}})));
    // Objects are leaves of a contains path: exists sees them.
    let ex = one(
        "    sel:\n        requestParameters|contains: zz\n        requestParameters|exists: true\n    condition: sel",
    );
    assert!(expr(&ex).matches(&json!({"requestParameters": {"k": "zz"}})));
}

#[test]
fn load_problems_and_filters() {
    let text = "title: w\nid: w1\nlogsource: {product: windows}\ndetection: {s: {a: b}, condition: s}\n---\ntitle: ok\nid: ok1\nstatus: stable\nlevel: low\nlogsource: {product: AWS, service: CloudTrail}\ndetection: {s: {a: b}, condition: s}\n";
    let l = load_text(text, "f.yml", &Options::default());
    assert_eq!(l.rules.len(), 1);
    assert_eq!(l.skipped[0].line, 3);
    let l = load_text(
        text,
        "f.yml",
        &Options { min_level: Some(Severity::Medium), ..Options::default() },
    );
    assert!(l.rules.is_empty());
    assert!(l.skipped[1].reason.starts_with("level below --min-level"), "{:?}", l.skipped);
    let l =
        load_text(text, "f.yml", &Options { exclude: vec!["ok1".into()], ..Options::default() });
    assert!(l.rules.is_empty() && l.skipped[1].reason.starts_with("excluded"));
    let l =
        load_text(text, "f.yml", &Options { statuses: vec!["test".into()], ..Options::default() });
    assert!(l.rules.is_empty() && l.skipped[1].reason.contains("--status"));
    // Duplicate ids: the second is named.
    let dup = "title: a\nid: x\nlogsource: {product: aws, service: cloudtrail}\ndetection: {s: {a: b}, condition: s}\n---\ntitle: b\nid: x\nlogsource: {product: aws, service: cloudtrail}\ndetection: {s: {a: b}, condition: s}\n";
    let l = load_text(dup, "d.yml", &Options::default());
    assert_eq!(l.rules.len(), 1);
    assert_eq!(l.failed[0].to_string(), "d.yml:7: rule x: duplicate id x (also in d.yml:1)");
    // Modifier combinations that make no sense are refused.
    for bad in [
        "a|re|contains: x",
        "a|i: x",
        "a|base64offset: x",
        "a|utf16le|contains: x",
        "a|cidr: 10.0.0.0/33",
        "a|gt: ten",
        "a|exists: maybe",
        "a|contains: []",
        "a|contains: null",
    ] {
        let t = format!(
            "title: t\nid: b\nlogsource: {{product: aws, service: cloudtrail}}\ndetection:\n    s:\n        {bad}\n    condition: s\n"
        );
        let l = load_text(&t, "b.yml", &Options::default());
        assert_eq!(l.failed.len(), 1, "{bad} should fail");
        assert_eq!(l.failed[0].line, 6, "{bad}: {}", l.failed[0]);
    }
}
