//! Any string as pattern text. Parsing must never panic; a pattern that parses must display
//! as text that parses back to a pattern displaying identically (with the same field paths
//! and prefilter clauses).
#![no_main]

use libfuzzer_sys::fuzz_target;
use trailscan::pattern::Pattern;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(p) = Pattern::parse(text) else { return };
    let shown = p.to_string();
    let again = match Pattern::parse(&shown) {
        Ok(q) => q,
        Err(e) => panic!("display does not parse back: {shown}\n  error: {e}"),
    };
    assert_eq!(again.to_string(), shown, "display is not stable");
    assert_eq!(again.field_paths(), p.field_paths());
    assert_eq!(again.top_level_keys(), p.top_level_keys());
    assert_eq!(again.literal_clauses(""), p.literal_clauses(""));
});
