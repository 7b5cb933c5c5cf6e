//! Any bytes as a CloudTrail record: the timeline's rows (a detection naming every built-in rule
//! it fires, a notable action) must never panic, must survive the sorter's JSON round trip, and
//! must reach the terminal without a control character and a spreadsheet without a formula.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;
use trailscan::audit::{Rule, matching, packs};
use trailscan::timeline::render::{Options, TimelineFormat, Writer};
use trailscan::timeline::zone::Zone;
use trailscan::timeline::{Row, detection, notable};

static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| packs::all().unwrap());

fn written(row: &Row, format: TimelineFormat) -> String {
    let mut out = Vec::new();
    let opts = Options { format, zone: Zone::Utc, csv_raw: false, raw: true, colour: false };
    let mut w = Writer::new(opts, &mut out).unwrap();
    w.row(row).unwrap();
    w.finish().unwrap();
    String::from_utf8(out).unwrap()
}

fuzz_target!(|data: &[u8]| {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let ids = matching(&RULES, &v);
    let mut rows = Vec::new();
    if !ids.is_empty() {
        rows.push(detection(&RULES, &ids, &v));
    }
    rows.extend(notable(&v));
    for row in rows {
        let text = serde_json::to_string(&row).unwrap();
        assert_eq!(serde_json::from_str::<Row>(&text).unwrap(), row);
        let table = written(&row, TimelineFormat::Table);
        assert!(!table.chars().any(|c| c.is_control() && c != '\n'), "{table:?}");
        let csv = written(&row, TimelineFormat::Csv);
        let mut r = csv::Reader::from_reader(csv.as_bytes());
        for rec in r.records() {
            for cell in rec.unwrap().iter() {
                assert!(cell.len() < 2 || !cell.starts_with(['=', '+', '-', '@']), "{cell:?}");
            }
        }
        for f in [TimelineFormat::Jsonl, TimelineFormat::Timesketch, TimelineFormat::TimesketchCsv] {
            let _ = written(&row, f);
        }
    }
});
