//! Unit tests for parsing, validation messages and operator edge cases.

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
        Ok(_) => panic!("accepted: {text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn smoke() {
    assert!(m(r#"{"a":["x"]}"#, json!({"a":"x"})));
}
