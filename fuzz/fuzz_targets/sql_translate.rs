//! Pattern text (untrusted: rule files, `--pattern`) through the SQL translator: for every
//! pattern that parses, every dialect, source and `raw` setting must translate without a
//! panic; the superset notes (written into `/* ... */` comments) can neither close a comment nor
//! break a line; and the condition carries a superset mark exactly when notes say why.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trailscan::query::{Filters, Query};
use trailscan::sql::{Dialect, Options, Source, translate};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(q) = Query::new(&Filters::default(), &[text.to_string()], false) else { return };
    for dialect in [Dialect::Duckdb, Dialect::Athena, Dialect::Trino, Dialect::Spark] {
        for source in [Source::Lake, Source::Raw] {
            for raw in [false, true] {
                let o = Options { dialect, source, table: "t".into(), raw };
                let t = translate(&q, &Filters::default(), &o);
                for n in &t.notes {
                    assert!(!n.contains("*/") && !n.contains('\n'), "note {n:?}");
                }
                // (A pattern's own literal could spell the mark; such patterns are skipped.)
                if !text.contains("superset") {
                    let marked = t.condition.contains("/* superset: ");
                    assert_eq!(!marked, t.exact(), "{}", t.condition);
                }
            }
        }
    }
});
