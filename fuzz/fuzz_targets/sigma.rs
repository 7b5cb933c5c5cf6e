//! The Sigma loader: Sigma rule text (YAML, any number of documents), optionally followed by a
//! NUL byte and an event (JSON). Loading must not panic, and every rule loads, is skipped or
//! fails with a reason. When an event is given, matching must not panic, and on a match the
//! rule's query pattern (the superset the scan uses) must match too and the prefilter built
//! from it must say "maybe" to the event text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use trailscan::audit::{self, sigma};
use trailscan::query::{Filters, Query};

fuzz_target!(|data: &[u8]| {
    let (rule, event) = match data.iter().position(|&b| b == 0) {
        Some(nul) => (&data[..nul], Some(&data[nul + 1..])),
        None => (data, None),
    };
    let Ok(text) = std::str::from_utf8(rule) else { return };
    let loaded = sigma::load_text(text, "fuzz.yml", &sigma::Options::default());
    for p in loaded.failed.iter().chain(&loaded.skipped) {
        assert!(!p.reason.is_empty() && !p.reason.contains('\n'), "{p}");
    }
    let _ = loaded.summary();
    let Some(Ok(event)) = event.map(std::str::from_utf8) else { return };
    let Ok(e) = serde_json::from_str::<Value>(event) else { return };
    let hits = audit::matching(&loaded.rules, &e);
    for i in hits {
        let rule = &loaded.rules[i];
        assert!(rule.pattern.pattern.matches(&e), "the query pattern misses a match of {}", rule.id);
        let q = Query::from_patterns(&Filters::default(), vec![rule.pattern.clone()], true)
            .expect("no flags");
        assert!(q.prefilter().maybe(event.as_bytes()), "prefilter refused a match of {}", rule.id);
    }
});
