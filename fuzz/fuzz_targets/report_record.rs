//! Any text as a record the report reads: the field reader must never panic, and whatever
//! strings the record holds, the page's embedded JSON must hold no character that could end
//! its script element (or hide on screen in the page source), and must read back as the same
//! value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trailscan::report::collect::{FieldReader, Lookup};
use trailscan::report::page::script_json;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let lookup = Lookup::new(&Default::default());
    if let Ok(f) = FieldReader::default().read(text, &lookup) {
        let v = serde_json::json!({ "raw": text, "values": f.values, "event_id": f.event_id });
        let out = script_json(&v);
        for bad in ['<', '>', '&', '\u{2028}', '\u{2029}', '\u{202e}', '\u{85}'] {
            assert!(!out.contains(bad));
        }
        let back: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(back, v);
    }
});
