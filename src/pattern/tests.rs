//! Unit tests: validation messages, each operator's edge cases, and the
//! helper methods (`top_level_keys`, `field_paths`, `literal_clauses`, Display).

use super::Pattern;
use serde_json::{Value, json};

fn p(text: &str) -> Pattern {
    Pattern::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn m(pat: &str, ev: Value) -> bool {
    p(pat).matches(&ev)
}

fn err(text: &str) -> String {
    match Pattern::parse(text) {
        Ok(p) => panic!("accepted: {text} as {p}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn error_messages_name_path_and_reason() {
    assert_eq!(
        err(r#"{"detail":{"eventName":[{"prefix":3}]}}"#),
        r#"detail.eventName: "prefix" match pattern must be a string"#
    );
    assert_eq!(err("[1]"), "(root): an event pattern must be a JSON object, not an array");
    assert_eq!(err("{}"), "(root): empty objects are not allowed");
    assert_eq!(err(r#"{"a":{}}"#), "a: empty objects are not allowed");
    assert_eq!(err(r#"{"a":[]}"#), "a: empty arrays are not allowed");
    assert_eq!(err(r#"{"a":"x"}"#), r#"a: "a" must be an object or an array, not a string"#);
    assert_eq!(err(r#"{"a":[{"foo":1}]}"#), r#"a: unrecognized match type "foo""#);
    assert_eq!(
        err(r#"{"a":[{"prefix":"x","suffix":"y"}]}"#),
        "a: a match expression must have exactly one key, found 2"
    );
    assert_eq!(
        err(r#"{"a":[{"wildcard":"a**b"}]}"#),
        r#"a: "wildcard" pattern: Consecutive wildcard characters at pos 2"#
    );
    assert_eq!(
        err(r#"{"a":[{"cidr":"10.0.0.1/32"}]}"#),
        r#"a: "cidr" pattern: IPv4 mask bits must be < 32"#
    );
    assert!(err(r#"{"a":[{"numeric":[">",5,"<",1]}]}"#).contains("bottom of a range"));
    assert!(err(r#"{"a":[{"numeric":["=",1e400]}]}"#).contains("cannot compare number 1e400"));
    assert!(err(r#"{"a":[{"numeric":["<",1,">",0]}]}"#).contains("too many elements"));
    assert!(err(r#"{"a":[{"numeric":[">",1,"<",3,"<",4]}]}"#).contains("too many terms"));
    assert!(err(r#"{"a":[{"numeric":["==",1]}]}"#).contains("unrecognized operator"));
    assert!(err(r#"{"a":[{"exists":"yes"}]}"#).contains("either true or false"));
    assert!(err(r#"{"a":[{"anything-but":["a",1]}]}"#).contains("all strings or all numbers"));
    assert!(err(r#"{"a":[{"anything-but":[]}]}"#).contains("all strings or all numbers"));
    assert!(err(r#"{"a":[{"anything-but":{"prefix":""}}]}"#).contains("must not be empty"));
    assert!(err(r#"{"a":[{"anything-but":{"foo":"x"}}]}"#).contains("unsupported"));
    assert!(err(r#"{"a":[{"anything-but":true}]}"#).contains("anything-but"));
    assert!(err(r#"{"a":[[1]]}"#).contains("not an array"));
    assert_eq!(err(r#"{"$or":[{"a":["1"]}]}"#), r#"$or: "$or" needs at least 2 objects"#);
    assert!(err(r#"{"$or":{"a":["1"]}}"#).contains("array of objects"));
    assert!(err(r#"{"$or":[{"a":["1"]},[1]]}"#).contains("only JSON objects"));
    assert!(err(r#"{"d":{"$or":[{"numeric":[">",1]},{"b":["1"]}]}}"#).starts_with("d.numeric:"));
}

#[test]
fn syntax_errors_have_line_and_column() {
    let e = err("{\n \"a\": [1,]\n}");
    assert!(e.starts_with("JSON syntax error at line 2, column 10"), "{e}");
    assert!(err("{\"a\": [\"x\"]} trailing").contains("trailing"));
    assert!(err("").contains("syntax"));
}

#[test]
fn accepted_oddities() {
    // All accepted by event-ruler's JSON compiler.
    p(r#"{"a":[{"anything-but":1}]}"#);
    p(r#"{"a":[2,{"anything-but":["foo"]}]}"#);
    p(r#"{"xxx":[{"exists":true},15]}"#);
    p(r#"{"a":[{"prefix":""}]}"#);
    p(r#"{"a":[{"exactly":"x"}]}"#);
    p(r#"{"prefix":["x"]}"#); // operator names are plain field names outside "$or"
}

#[test]
fn exact_values() {
    assert!(m(r#"{"a":["x"]}"#, json!({"a":"x"})));
    assert!(m(r#"{"a":["x"]}"#, json!({"a":["y","x"]})));
    assert!(!m(r#"{"a":["x"]}"#, json!({"a":{"x":1}})));
    assert!(m(r#"{"a":[""]}"#, json!({"a":""})));
    assert!(!m(r#"{"a":[""]}"#, json!({"a":null})));
    assert!(m(r#"{"a":[null]}"#, json!({"a":null})));
    assert!(!m(r#"{"a":[null]}"#, json!({})));
    assert!(m(r#"{"a":[true]}"#, json!({"a":true})));
    assert!(!m(r#"{"a":[true]}"#, json!({"a":"true"})));
    assert!(!m(r#"{"a":["300"]}"#, json!({"a":300})));
    assert!(!m(r#"{"a":[300]}"#, json!({"a":"300"})));
    assert!(m(r#"{"a":[300]}"#, serde_json::from_str(r#"{"a":3e2}"#).unwrap()));
    assert!(m(r#"{"a":[300.0]}"#, json!({"a":300})));
    assert!(m(r#"{"a":[-0.0]}"#, json!({"a":0})));
    // Not comparable as a double: compared by text.
    assert!(!m(
        r#"{"a":[12345678901234567890]}"#,
        serde_json::from_str(r#"{"a":12345678901234567891}"#).unwrap()
    ));
    assert!(m(
        r#"{"a":[12345678901234567890]}"#,
        serde_json::from_str(r#"{"a":12345678901234567890}"#).unwrap()
    ));
}

#[test]
fn duplicate_keys_and_dotted_keys() {
    assert!(m(r#"{"x":["y"],"x":["z"]}"#, json!({"x":"z"})));
    assert!(!m(r#"{"x":["y"],"x":["z"]}"#, json!({"x":"y"})));
    assert!(m(r#"{"a.b":["c"]}"#, json!({"a":{"b":"c"}})));
    assert!(m(r#"{"a":{"b":["c"]}}"#, json!({"a.b":"c"})));
    // A later entry for the same path replaces the earlier one, also inside "$or".
    let pat = r#"{"name":["a","b"],"$or":[{"name":[{"anything-but":"a"}]},{"c":["x"]}]}"#;
    assert!(m(pat, json!({"name":"c"})));
    assert!(m(pat, json!({"name":"a","c":"x"})));
    assert!(!m(pat, json!({"name":"a"})));
}

#[test]
fn prefix_suffix_and_case() {
    assert!(m(r#"{"a":[{"prefix":"ab"}]}"#, json!({"a":"abc"})));
    assert!(!m(r#"{"a":[{"prefix":"5"}]}"#, json!({"a":55})));
    assert!(m(r#"{"a":[{"prefix":""}]}"#, json!({"a":""})));
    assert!(m(r#"{"a":[{"suffix":"bc"}]}"#, json!({"a":"abc"})));
    assert!(!m(r#"{"a":[{"suffix":"bc"}]}"#, json!({"a":"abcd"})));
    assert!(m(r#"{"a":[{"equals-ignore-case":"AbC"}]}"#, json!({"a":"aBc"})));
    assert!(!m(r#"{"a":[{"equals-ignore-case":"AbC"}]}"#, json!({"a":"aBcd"})));
    assert!(!m(r#"{"a":[{"equals-ignore-case":"STRASSE"}]}"#, json!({"a":"straße"})));
    assert!(m(r#"{"a":[{"prefix":{"equals-ignore-case":"AB"}}]}"#, json!({"a":"abX"})));
    assert!(m(r#"{"a":[{"suffix":{"equals-ignore-case":"XY"}}]}"#, json!({"a":"abxy"})));
    assert!(!m(r#"{"a":[{"suffix":{"equals-ignore-case":"XY"}}]}"#, json!({"a":5})));
}

#[test]
fn wildcard() {
    let pat = r#"{"a":[{"wildcard":"arn:*:s3:::*\\*x"}]}"#;
    assert!(m(pat, json!({"a":"arn:aws:s3:::bucket*x"})));
    assert!(!m(pat, json!({"a":"arn:aws:s3:::bucketx"})));
    assert!(m(r#"{"a":[{"wildcard":"*"}]}"#, json!({"a":""})));
    assert!(!m(r#"{"a":[{"wildcard":"*"}]}"#, json!({"a":5})));
    assert!(m(r#"{"a":[{"wildcard":"a\\\\b"}]}"#, json!({"a":"a\\b"})));
}

#[test]
fn wildcard_adversarial_input_is_fast_by_construction() {
    // `*a*a*...*a*b` against "aaaa...": a backtracking matcher explores
    // exponentially many splits; ours does one substring search per literal run.
    let glob = "*a".repeat(500) + "*b";
    let pat = format!(r#"{{"a":[{{"wildcard":"{glob}"}}]}}"#);
    // EventBridge refuses it ...
    assert_eq!(
        Pattern::parse(&pat).unwrap_err().to_string(),
        "a: Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character"
    );
    // ... and the matcher, built past the limit, is still linear.
    let root = super::parse::parse_text(&pat).unwrap();
    let unlimited = Pattern { compiled: super::compile::compile(&root).unwrap(), root };
    let value = "a".repeat(100_000);
    assert!(!unlimited.matches(&json!({ "a": value })));
}

#[test]
fn wildcard_complexity_is_eventbridge_s() {
    let too_complex = |p: &str| Pattern::parse(p).err().map(|e| e.to_string()).unwrap_or_default();
    let msg = "Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character";
    // Refused by EventBridge (AWS-validated).
    assert_eq!(
        too_complex(r#"{"detail":{"EventBusArn":[{"wildcard":"*:*:*:*:*:event-bus/*"}]}}"#),
        format!("detail.EventBusArn: {msg}")
    );
    assert_eq!(
        too_complex(r#"{"a":[{"anything-but":{"wildcard":"*:*:*:*:*:event-bus/*"}}]}"#),
        format!("a: {msg}")
    );
    // Inside a `$or` branch too.
    assert_eq!(
        too_complex(r#"{"$or":[{"a":["x"]},{"b":[{"wildcard":"*a*a*a*a*a*"}]}]}"#),
        format!("b: {msg}")
    );
    // Ordinary wildcards pass.
    for ok in [
        r#"{"a":[{"wildcard":"*:*:*:*:event-bus/*"}]}"#,
        r#"{"a":[{"wildcard":"arn:aws:s3:::*/*.png"}],"b":[{"wildcard":"*a*b*c*"}]}"#,
        r#"{"userIdentity":{"arn":[{"wildcard":"*:root"},{"wildcard":"*:assumed-role/*"}]}}"#,
    ] {
        assert_eq!(too_complex(ok), "", "{ok}");
    }
}

#[test]
fn anything_but() {
    let pat = r#"{"a":[{"anything-but":["x","y"]}]}"#;
    assert!(m(pat, json!({"a":"z"})));
    assert!(!m(pat, json!({"a":"x"})));
    assert!(m(pat, json!({"a":["x","z"]})));
    assert!(!m(pat, json!({"a":["x"]})));
    assert!(!m(pat, json!({"a":[]})));
    assert!(!m(pat, json!({})));
    assert!(m(pat, json!({"a":null})));
    assert!(m(pat, json!({"a":5})));
    assert!(!m(r#"{"a":[{"anything-but":[1]}]}"#, json!({"a":1.0})));
    assert!(m(r#"{"a":[{"anything-but":[300]}]}"#, json!({"a":"300"})));
    assert!(m(r#"{"a":[{"anything-but":{"prefix":"a"}}]}"#, json!({"a":5})));
    assert!(!m(r#"{"a":[{"anything-but":{"prefix":["a","b"]}}]}"#, json!({"a":"bc"})));
    assert!(!m(r#"{"a":[{"anything-but":{"suffix":"z"}}]}"#, json!({"a":"yz"})));
    assert!(!m(r#"{"a":[{"anything-but":{"wildcard":"*.txt"}}]}"#, json!({"a":"a.txt"})));
    assert!(m(r#"{"a":[{"anything-but":{"wildcard":"*.txt"}}]}"#, json!({"a":"a.png"})));
    assert!(!m(r#"{"a":[{"anything-but":{"equals-ignore-case":["AB"]}}]}"#, json!({"a":"ab"})));
}

#[test]
fn numeric() {
    let pat = r#"{"a":[{"numeric":[">",0,"<=",5]}]}"#;
    assert!(m(pat, json!({"a":5})));
    assert!(!m(pat, json!({"a":0})));
    assert!(!m(pat, json!({"a":"3"})));
    assert!(m(pat, json!({"a":["3",4]})));
    assert!(m(r#"{"a":[{"numeric":["=",3.018e2]}]}"#, json!({"a":301.8})));
    assert!(!m(r#"{"a":[{"numeric":["<",0]}]}"#, json!({"a":-0.0})));
    assert!(m(r#"{"a":[{"numeric":[">",5000000000]}]}"#, json!({"a":5000000001u64})));
    assert!(m(r#"{"a":[{"numeric":[">=",-1e300]}]}"#, json!({"a":-1e300})));
    // An integer event number that a double cannot hold exactly is not comparable.
    assert!(!m(r#"{"a":[{"numeric":[">",0]}]}"#, json!({"a":9007199254740993u64})));
}

#[test]
fn exists() {
    let t = r#"{"a":[{"exists":true}]}"#;
    let f = r#"{"a":[{"exists":false}]}"#;
    assert!(m(t, json!({"a":null})));
    assert!(!m(f, json!({"a":null})));
    assert!(!m(t, json!({"a":{}})));
    assert!(m(f, json!({"a":{}})));
    assert!(m(f, json!({"a":[]})));
    assert!(!m(t, json!({"a":{"b":1}})));
    assert!(m(f, json!({"a":{"b":1}})));
    assert!(m(f, json!({"b":1})));
    assert!(m(r#"{"a":[{"exists":true}],"b":[{"exists":false}]}"#, json!({"a":1})));
    // exists:false is checked against the array elements chosen by fields
    // that sort before it.
    let pat = r#"{"e":{"first":["Anna"],"ids":[{"exists":false}]}}"#;
    assert!(m(pat, json!({"e":[{"first":"John","ids":[1]},{"first":"Anna"}]})));
    assert!(!m(pat, json!({"e":[{"first":"John"},{"first":"Anna","ids":[1]}]})));
}

#[test]
fn array_consistency() {
    let pat = r#"{"d":{"a":["1"],"b":["2"]}}"#;
    assert!(m(pat, json!({"d":[{"a":"1","b":"2"}]})));
    assert!(!m(pat, json!({"d":[{"a":"1","b":"3"},{"a":"4","b":"2"}]})));
    assert!(m(pat, json!({"d":[{"a":"1"},{"b":"2"},{"a":"1","b":"2"}]})));
    // Different arrays do not constrain each other.
    assert!(m(r#"{"x":{"a":["1"]},"y":{"b":["2"]}}"#, json!({"x":[{"a":"1"}],"y":[{"b":"2"}]})));
    // Scalars of one array are alternatives of one field, not elements.
    let pat = r#"{"p":[1],"p":{"q":["x"]}}"#;
    assert!(m(pat, json!({"p":[[{"q":"x"}, 2, 1]]})));
}

#[test]
fn cidr() {
    let pat = r#"{"ip":[{"cidr":"10.0.0.0/24"}]}"#;
    assert!(m(pat, json!({"ip":"10.0.0.255"})));
    assert!(!m(pat, json!({"ip":"10.0.1.0"})));
    assert!(!m(pat, json!({"ip":"hello"})));
    assert!(m(r#"{"ip":[{"cidr":"10.0.0.77/24"}]}"#, json!({"ip":"10.0.0.1"})));
    assert!(m(r#"{"ip":[{"cidr":"2001:db8::/32"}]}"#, json!({"ip":"2001:DB8::1"})));
}

#[test]
fn or() {
    let pat = r#"{"$or":[{"a":["1"]},{"b":["2"]}]}"#;
    assert!(m(pat, json!({"a":"1"})));
    assert!(m(pat, json!({"b":"2"})));
    assert!(!m(pat, json!({"a":"2","b":"1"})));
    let pat = r#"{"s":["s"],"d":{"$or":[{"a":[1]},{"$or":[{"b":[2]},{"c":[3]}]}]}}"#;
    assert!(m(pat, json!({"s":"s","d":{"c":3}})));
    assert!(!m(pat, json!({"s":"t","d":{"c":3}})));
}

#[test]
fn helper_methods() {
    let pat = p(
        r#"{"source":["aws.s3"],"detail.eventName":[{"prefix":"Delete"}],"$or":[{"userIdentity":{"arn":[{"wildcard":"*:root"}]}},{"$or":[{"x":[1]},{"y":["why"]}]}]}"#,
    );
    assert_eq!(pat.top_level_keys(), vec!["source", "detail", "userIdentity", "x", "y"]);
    assert_eq!(pat.field_paths(), vec!["detail.eventName", "source", "userIdentity.arn", "x", "y"]);
    let all = pat.literal_clauses("");
    assert!(all.contains(&vec!["aws.s3".to_string()]));
    assert!(all.contains(&vec!["Delete".to_string()]));
    // The "x" branch is numeric, so no union clause over the "$or".
    assert_eq!(all.len(), 2);
    assert_eq!(pat.literal_clauses("detail"), vec![vec!["Delete".to_string()]]);
    assert!(pat.literal_clauses("nothing").is_empty());

    let or = p(r#"{"$or":[{"a":["x","y"]},{"b":[{"suffix":"zz"}]}]}"#);
    assert_eq!(or.literal_clauses(""), vec![vec!["x", "y", "zz"]]);
    assert!(p(r#"{"a":["x",{"exists":false}]}"#).literal_clauses("").is_empty());
    assert!(p(r#"{"a":["",  "x"]}"#).literal_clauses("").is_empty());
}

#[test]
fn display_is_canonical_and_round_trips() {
    let text = r#"{ "a" : [ "x", 3.0e2, {"anything-but": "q"}, {"numeric": [">", 1, "<=", 2]} ],
        "b": {"$or": [{"c": [{"prefix": {"equals-ignore-case": "Ab"}}]}, {"d": [{"exists": false}]}]} }"#;
    let shown = p(text).to_string();
    assert_eq!(
        shown,
        r#"{"a":["x",3.0e2,{"anything-but":["q"]},{"numeric":[">",1,"<=",2]}],"b":{"$or":[{"c":[{"prefix":{"equals-ignore-case":"Ab"}}]},{"d":[{"exists":false}]}]}}"#
    );
    assert_eq!(p(&shown).to_string(), shown);
}

#[test]
fn pattern_is_send_sync_clone() {
    fn check<T: Send + Sync + Clone + std::fmt::Debug>() {}
    check::<Pattern>();
    check::<super::PatternError>();
}

#[test]
fn independent_arrays_do_not_multiply_the_search() {
    // a.v and b.v sit in arrays no later field can see, so their choice is made
    // once; a search over all combinations would take 300*300*150*150 steps.
    let many = |k: &str| Value::Array((0..300).map(|_| json!({ k: "1" })).collect());
    let alternating: Vec<Value> =
        (0..300).map(|i| if i % 2 == 0 { json!({"d": "1"}) } else { json!({"e": "1"}) }).collect();
    let ev = json!({"a": many("v"), "b": many("v"), "z": alternating});
    let pat = p(r#"{"a":{"v":["1"]},"b":{"v":["1"]},"z":{"d":["1"],"e":["1"]}}"#);
    assert!(!pat.matches(&ev));
    let mut ok = ev.clone();
    ok["z"].as_array_mut().unwrap().push(json!({"d": "1", "e": "1"}));
    assert!(pat.matches(&ok));
}

#[test]
fn internal_alternatives_match_and_give_sound_clauses() {
    use super::ast::Alt;
    use super::text::{GlobTok, TextGlob, TextRegex};
    let glob = |t: Vec<GlobTok>| Alt::TextGlob(TextGlob::new(t, false).unwrap());
    let lit = |s: &str| GlobTok::Lit(s.to_string());
    let pat = Pattern::from_dnf(vec![
        vec![
            ("a".into(), vec![glob(vec![lit("Dé"), GlobTok::Star, lit("lete")])]),
            ("n".into(), vec![glob(vec![lit("10")])]),
        ],
        vec![(
            "o".into(),
            vec![Alt::Deep(Box::new(glob(vec![GlobTok::Star, lit("needle"), GlobTok::Star])))],
        )],
        vec![(
            "r".into(),
            vec![Alt::AllOf(vec![
                Alt::TextRegex(TextRegex::new("^x+$", true, false, false).unwrap()),
                glob(vec![lit("XX"), GlobTok::Star]),
            ])],
        )],
    ])
    .unwrap();
    assert!(pat.matches(&json!({"a": "DÉ-LETE", "n": 10})));
    assert!(pat.matches(&json!({"a": "dé lete", "n": "10"})));
    assert!(!pat.matches(&json!({"a": "de lete", "n": 10})));
    assert!(pat.matches(&json!({"o": {"k": [1, {"z": "a NEEDLE"}]}})));
    assert!(!pat.matches(&json!({"o": {"needle": 1}})));
    assert!(pat.matches(&json!({"r": "xXx"})));
    assert!(!pat.matches(&json!({"r": "x"})));
    // Nothing case-sensitive to claim; folded: ASCII pieces, no number-only literal, one
    // clause per sub-rule in the union.
    assert!(pat.literal_clauses("").is_empty());
    // Raw-text fragments: `lete"` closes the value, `"XX` opens it.
    assert_eq!(pat.literal_clauses_folded(""), vec![vec!["\"XX", "lete\"", "needle"]]);
    // Shown in the pattern style, marked as internal operators.
    let shown = pat.to_string();
    assert!(shown.contains(r#"{"deep":{"text-glob":"*needle*"}}"#), "{shown}");
    assert!(shown.contains(r#"{"text-regex":["^x+$","i"]}"#), "{shown}");
    // No sub-rule matches nothing; one empty sub-rule matches everything.
    assert!(!Pattern::from_dnf(Vec::new()).unwrap().matches(&json!({})));
    assert!(Pattern::from_dnf(vec![Vec::new()]).unwrap().matches(&json!({"x": 1})));
}

#[test]
fn many_exact_strings_match_as_one_by_one() {
    // From 8 exact strings on, a field's strings are looked up in a set: the same answers.
    let keys: Vec<String> = (0..40).map(|i| format!("ASIAKEY{i:013}")).collect();
    let list = keys.iter().map(|k| format!("{k:?}")).collect::<Vec<_>>().join(",");
    let pat = format!(
        r#"{{"userIdentity":{{"accessKeyId":[{list},{{"prefix":"AKIA"}},{{"numeric":[">",5]}},null]}}}}"#
    );
    for k in &keys {
        assert!(m(&pat, json!({"userIdentity": {"accessKeyId": k}})));
        assert!(m(&pat, json!({"userIdentity": {"accessKeyId": ["x", k]}})));
    }
    assert!(m(&pat, json!({"userIdentity": {"accessKeyId": "AKIAOTHER"}})));
    assert!(m(&pat, json!({"userIdentity": {"accessKeyId": 7}})));
    assert!(m(&pat, json!({"userIdentity": {"accessKeyId": null}})));
    for no in [json!("ASIAKEY9999999999999"), json!(3), json!(true), json!("asiakey0000000000000")]
    {
        assert!(!m(&pat, json!({"userIdentity": {"accessKeyId": no}})), "{no}");
    }
    assert!(!m(&pat, json!({"userIdentity": {}})));
    // Beside `exists: false`, and in an `$or`.
    let pat = format!(r#"{{"$or":[{{"a":[{list},{{"exists":false}}]}},{{"b":["x"]}}]}}"#);
    assert!(m(&pat, json!({"a": keys[3]})));
    assert!(m(&pat, json!({"c": 1})));
    assert!(m(&pat, json!({"a": "nope", "b": "x"})));
    assert!(!m(&pat, json!({"a": "nope"})));
}
