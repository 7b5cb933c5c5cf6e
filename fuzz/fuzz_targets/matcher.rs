//! A pattern and an event, separated by the first NUL byte (`pattern\0event`). When both
//! parse, matching must not panic, and must agree with:
//! - the projection contract: matching the event projected to the pattern's field paths gives
//!   the same answer (for events without duplicate keys: the projection stops reading once
//!   it has seen every wanted key, so a key repeated later is not seen, as documented);
//! - `literal_clauses("")`: on a match, every clause has a string that occurs inside some
//!   string value of the event;
//! - the prefilter built from those clauses says "maybe" to the event text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::collections::HashSet;
use std::fmt;
use trailscan::pattern::Pattern;
use trailscan::query::Prefilter;
use trailscan::record::KeepSet;

/// Deserializes to `()` when no object in the value repeats a key.
struct NoDuplicateKeys;

impl<'de> Deserialize<'de> for NoDuplicateKeys {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NoDuplicateKeys)
    }
}

impl<'de> Visitor<'de> for NoDuplicateKeys {
    type Value = NoDuplicateKeys;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("JSON")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self, A::Error> {
        let mut seen = HashSet::new();
        while let Some(k) = map.next_key::<String>()? {
            if !seen.insert(k) {
                return Err(serde::de::Error::custom("duplicate key"));
            }
            map.next_value::<NoDuplicateKeys>()?;
        }
        Ok(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self, A::Error> {
        while seq.next_element::<NoDuplicateKeys>()?.is_some() {}
        Ok(self)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self, E> {
        Ok(self)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self, E> {
        Ok(self)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self, E> {
        Ok(self)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self, E> {
        Ok(self)
    }
    fn visit_str<E>(self, _: &str) -> Result<Self, E> {
        Ok(self)
    }
    fn visit_unit<E>(self) -> Result<Self, E> {
        Ok(self)
    }
}

fn strings<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(o) => o.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let Some(nul) = data.iter().position(|&b| b == 0) else { return };
    let (Ok(pattern), Ok(event)) =
        (std::str::from_utf8(&data[..nul]), std::str::from_utf8(&data[nul + 1..]))
    else {
        return;
    };
    let Ok(p) = Pattern::parse(pattern) else { return };
    let Ok(e) = serde_json::from_str::<Value>(event) else { return };
    let m = p.matches(&e);

    if serde_json::from_str::<NoDuplicateKeys>(event).is_ok() {
        let projected = KeepSet::new(p.field_paths())
            .project(event)
            .expect("projection of a valid event succeeds");
        assert_eq!(p.matches(&projected), m, "projection changed the answer: {projected}");
    }

    if m {
        let clauses = p.literal_clauses("");
        let mut values = Vec::new();
        strings(&e, &mut values);
        for clause in &clauses {
            assert!(
                clause.iter().any(|c| values.iter().any(|v| v.contains(c.as_str()))),
                "clause {clause:?} not in any string value"
            );
        }
        assert!(Prefilter::new(&clauses).maybe(event.as_bytes()), "prefilter refused a match");
    }
});
