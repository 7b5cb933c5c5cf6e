//! Any text as a CloudTrail record for the audit pass's tester: `audit::Tester::test` (the
//! record read once, only as far as the rules need, every other byte checked) must agree with a
//! whole `serde_json` parse: both refuse the text with the same error, or both read it, the
//! same built-in rules match (as `audit::matching` on the whole record), and the findings the
//! auditor makes of it are the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;
use trailscan::audit::{Auditor, Rule, Tester, matching, packs};

static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| packs::all().unwrap());

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let tester = Tester::new(&RULES);
    let whole = serde_json::from_str::<serde_json::Value>(text);
    let read = tester.test(text);
    match (&whole, &read) {
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        (Ok(w), Ok((v, ids))) => {
            assert_eq!(&matching(&RULES, w), ids);
            let a = Auditor::new(&RULES).record_matched(text, w, ids);
            let b = Auditor::new(&RULES).record_matched(text, v, ids);
            assert_eq!(format!("{a:?}"), format!("{b:?}"));
        }
        _ => panic!("whole {whole:?}, tester {read:?}"),
    }
});
