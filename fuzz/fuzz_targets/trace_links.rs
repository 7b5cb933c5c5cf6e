//! One record, read the ways `trace` reads it: as an issuing event (full and links-only),
//! and as an event of the activity. None may panic; the links-only reading must name the
//! same keys as the full one (the first pass builds the graph from it), and the text output of
//! an issuance is free of terminal controls.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use trailscan::record::KeepSet;
use trailscan::trace::link::{Event, Issuance, LINK_FIELDS};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(v) = serde_json::from_str::<Value>(text) else { return };
    let _ = Event::from_record(&v, text, (0, 0), true);
    let full = Issuance::from_record(&v);
    let links = KeepSet::new(LINK_FIELDS.map(String::from))
        .project(text)
        .ok()
        .and_then(|p| Issuance::from_record(&p));
    if let (Some(f), Some(l)) = (&full, &links) {
        assert_eq!(f.key(), l.key(), "links-only reading names another key");
        assert_eq!(f.caller.key, l.caller.key);
        assert_eq!(f.error, l.error);
    }
    if let Some(f) = full {
        let shown = trailscan::output::sanitize::terminal(&f.what()).into_owned();
        assert!(!shown.chars().any(char::is_control));
        let _ = f.origin();
    }
});
