//! The lake's two record readers (src/lake/parse.rs) on any text: never a panic; what the fast
//! reader accepts, the exact one (serde_json) accepts with the same spans, and serde_json reads
//! it as an object; `Plan::read` accepts exactly what the exact reader does; every span lies
//! on character boundaries of the text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;
use trailscan::lake::parse::{Plan, Row};

static PLAN: LazyLock<Plan> = LazyLock::new(Plan::table);

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let plan = &*PLAN;
    let mut fast = Row::default();
    let accepted = plan.read_fast(text, &mut fast);
    let mut exact = Row::default();
    let exact_result = plan.read_exact(text, &mut exact);
    if accepted {
        assert!(exact_result.is_ok(), "fast accepted what serde_json rejects: {text:?}");
        assert!(
            serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok()
                && text.trim_start_matches([' ', '\t', '\n', '\r']).starts_with('{'),
            "fast accepted what is not a JSON object: {text:?}"
        );
        fast.plain = false;
        assert_eq!(fast, exact, "{text:?}");
    }
    let mut row = Row::default();
    let read = plan.read(text, &mut row);
    assert_eq!(read.is_ok(), exact_result.is_ok(), "{text:?}");
    if read.is_ok() {
        let spans = row
            .spans
            .iter()
            .chain(row.items.iter().flatten().flat_map(|it| it.spans.iter()))
            .chain(row.entries.iter().flatten().flat_map(|(k, v)| [k, v]));
        for s in spans {
            assert!(!s.is_some() || s.get(text).is_some(), "a span off the text: {s:?}");
        }
    }
});
