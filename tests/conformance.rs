//! Conformance with aws/event-ruler 2.0.1 (the engine behind Amazon
//! EventBridge) on the corpus in `tests/data/conformance/` (see its README).

use std::collections::BTreeMap;

use serde_json::Value;
use trailscan::pattern::Pattern;

/// Cases `Pattern::matches(&serde_json::Value)` cannot decide like
/// event-ruler, because the event number's *spelling* decides and a default
/// `serde_json::Value` (no `arbitrary_precision`) does not keep it for floats.
/// event-ruler compares numbers more precise than a double
/// (`0.10000000000000001`, `99999999999.999999`) by their text only; after
/// serde_json has read the event, only the nearest double is left. trailscan
/// then compares the nearest doubles, which agrees with event-ruler whenever
/// the pattern and the event spell the number the same way (e.g. the quamina
/// case `q/benchmarks_test/TestCRANLEIGH/4`) and differs on these three probes,
/// written for the corpus to show exactly this.
const EXCLUDED_PROBES: &[(&str, &str)] = &[
    ("probe/num/non-representable-event", "event number spelling lost by serde_json::Value"),
    ("probe/num/just-below-1e11", "event number spelling lost by serde_json::Value"),
    ("probe/num/non-representable-exact", "event number spelling lost by serde_json::Value"),
];

/// Cases whose event-ruler answer comes from `Machine.addRule` falling back to
/// the legacy rule compiler after the JSON rule compiler rejected the pattern.
/// trailscan follows the JSON compiler (see `invalid_patterns.jsonl`, which
/// lists the same pattern as rejected), so it rejects the pattern.
const EXCLUDED_CASES: &[(&str, &str)] = &[(
    "er-readme/or/legacy-or-object-is-field-name",
    "\"$or\" with an object value: rejected by event-ruler's JSON compiler, accepted only by its legacy fallback",
)];

fn load(name: &str) -> Vec<Value> {
    let path = format!("{}/tests/data/conformance/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("corpus line"))
        .collect()
}

#[derive(Default)]
struct Tally {
    pass: usize,
    fail: usize,
}

fn run_matches(file: &str, excluded_ids: &[(&str, &str)]) -> (usize, usize, Vec<String>) {
    let mut per_op: BTreeMap<String, Tally> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut pass = 0;
    let mut excluded = 0;
    for case in load(file) {
        let id = case["id"].as_str().unwrap();
        if excluded_ids.iter().any(|(x, _)| *x == id) {
            excluded += 1;
            continue;
        }
        let Some(expected) = case["event_ruler"].as_bool() else {
            continue;
        };
        let pt = case["pattern_text"].as_str().unwrap();
        let et = case["event_text"].as_str().unwrap();
        let event: Value = serde_json::from_str(et).expect("event json");
        let outcome = match Pattern::parse(pt) {
            Ok(p) => {
                let got = p.matches(&event);
                if got == expected {
                    Ok(())
                } else {
                    Err(format!(
                        "{id}: expected {expected}, got {got}\n  pattern {pt}\n  event {et}"
                    ))
                }
            }
            Err(e) => Err(format!(
                "{id}: rejected ({e}) but event-ruler answers {expected}\n  pattern {pt}"
            )),
        };
        let ops: Vec<String> = case["operators"]
            .as_array()
            .map(|a| a.iter().filter_map(|o| o.as_str().map(String::from)).collect())
            .unwrap_or_default();
        let ok = outcome.is_ok();
        for op in if ops.is_empty() { vec!["(none)".to_string()] } else { ops } {
            let t = per_op.entry(op).or_default();
            if ok {
                t.pass += 1;
            } else {
                t.fail += 1;
            }
        }
        match outcome {
            Ok(()) => pass += 1,
            Err(f) => failures.push(f),
        }
    }
    if !failures.is_empty() {
        let mut report = String::from("per operator (pass/fail):\n");
        for (op, t) in &per_op {
            report.push_str(&format!("  {op}: {}/{}\n", t.pass, t.fail));
        }
        failures.insert(0, report);
    }
    (pass, excluded, failures)
}

#[test]
fn eventbridge_operator_cases_agree_with_event_ruler() {
    let (pass, excluded, failures) = run_matches("cases.jsonl", EXCLUDED_CASES);
    assert_eq!(excluded, EXCLUDED_CASES.len());
    assert!(
        failures.is_empty(),
        "{} of {} cases disagree:\n{}",
        failures.len() - 1,
        pass + failures.len() - 1,
        failures.join("\n")
    );
    assert_eq!(pass + excluded, 1496, "corpus size changed");
}

#[test]
fn reference_probes_agree_with_event_ruler() {
    let (pass, excluded, failures) = run_matches("probes.jsonl", EXCLUDED_PROBES);
    assert_eq!(excluded, EXCLUDED_PROBES.len());
    assert!(
        failures.is_empty(),
        "{} probes disagree:\n{}",
        failures.len() - 1,
        failures.join("\n")
    );
    assert_eq!(pass + excluded, 64, "corpus size changed");
}

#[test]
fn invalid_patterns_follow_event_ruler_json_compiler() {
    let mut wrong = Vec::new();
    let (mut rejected, mut accepted) = (0, 0);
    for case in load("invalid_patterns.jsonl") {
        let id = case["id"].as_str().unwrap();
        let text = case["pattern"].as_str().unwrap();
        let reference = case["event_ruler_json_compiler"].as_str();
        match (Pattern::parse(text), reference) {
            (Err(_), Some(_)) => rejected += 1,
            (Ok(_), None) => accepted += 1,
            (Ok(p), Some(why)) => wrong
                .push(format!("{id}: accepted (as {p}) but event-ruler rejects: {why}\n  {text}")),
            (Err(e), None) => {
                wrong.push(format!("{id}: rejected ({e}) but event-ruler accepts\n  {text}"))
            }
        }
    }
    assert!(wrong.is_empty(), "{} wrong:\n{}", wrong.len(), wrong.join("\n"));
    assert_eq!((rejected, accepted), (170, 8));
}

/// Every accepted corpus pattern survives `parse(display(p))` with the same answers.
#[test]
fn corpus_patterns_round_trip_through_display() {
    for case in load("cases.jsonl").into_iter().chain(load("probes.jsonl")) {
        let pt = case["pattern_text"].as_str().unwrap();
        let Ok(p) = Pattern::parse(pt) else { continue };
        let shown = p.to_string();
        let q = Pattern::parse(&shown).unwrap_or_else(|e| panic!("{pt} -> {shown}: {e}"));
        assert_eq!(shown, q.to_string());
        let event: Value = serde_json::from_str(case["event_text"].as_str().unwrap()).unwrap();
        assert_eq!(p.matches(&event), q.matches(&event), "{pt} -> {shown}");
    }
}
