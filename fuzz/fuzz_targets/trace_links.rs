//! One record, read the ways `trace` reads it: as an issuing event (full, and links-only from
//! the links projection as the first pass does),
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
    let projected = KeepSet::new(LINK_FIELDS.map(String::from)).project(text).ok();
    let links = projected.as_ref().and_then(Issuance::links_from_record);
    if let (Some(f), Some(l)) = (&full, &links) {
        assert_eq!(f.key(), l.key(), "links-only reading names another key");
        assert_eq!(f.caller.key, l.caller.key);
        assert_eq!(f.error, l.error);
        assert_eq!((f.sort, &f.account), (l.sort, &l.account));
    }
    if projected.is_some() {
        assert_eq!(full.is_some(), links.is_some(), "links-only reading missed an issuing event");
    }
    if let Some(f) = full {
        let shown = trailscan::output::sanitize::terminal(&f.what()).into_owned();
        assert!(!shown.chars().any(char::is_control));
        let _ = f.origin();
    }
});
