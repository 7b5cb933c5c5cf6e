//! Records (one per line) through the lake's splitter: never a panic; every line is either a
//! row or rejected, and a line serde_json reads as an object is a row; each row's `raw` is its
//! line, its JSON text columns are substrings of it, and its partition folder is made of plain
//! tokens (no `/`, no `..`).
#![no_main]

use arrow_array::Array;
use arrow_array::cast::AsArray;
use libfuzzer_sys::fuzz_target;
use trailscan::lake::rows::Splitter;
use trailscan::lake::schema::{self, Type};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let lines: Vec<&str> = text.lines().collect();
    let splitter = Splitter::new(true);
    let (parts, rejected) = splitter.split(lines.iter().enumerate().map(|(i, l)| (i as u64, *l)));
    let rows: usize = parts.iter().map(|p| p.batch.num_rows()).sum();
    assert_eq!(rows + rejected.len(), lines.len());
    for r in &rejected {
        let line = lines[r.index as usize];
        assert!(
            !matches!(
                serde_json::from_str::<serde_json::Value>(line),
                Ok(serde_json::Value::Object(_))
            ),
            "an object was rejected: {line}"
        );
    }
    for p in &parts {
        let dir = p.key.dir();
        assert!(!dir.contains(".."), "{dir}");
        assert_eq!(dir.matches('/').count(), 2, "{dir}");
        let raw = p.batch.column_by_name(schema::RAW).unwrap().as_string::<i32>();
        for c in schema::COLUMNS.iter().filter(|c| c.ty == Type::Json) {
            let col = p.batch.column_by_name(c.name).unwrap().as_string::<i32>();
            for i in 0..p.batch.num_rows() {
                if !col.is_null(i) {
                    assert!(raw.value(i).contains(col.value(i)), "{} not in its record", c.name);
                }
            }
        }
        for w in p.times.windows(2) {
            assert!(w[0] <= w[1], "rows out of time order");
        }
    }
});
