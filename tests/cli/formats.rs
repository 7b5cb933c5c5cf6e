//! Output formats and output safety.

use crate::util::{jsonl, run};

#[test]
fn formats_jsonl_is_verbatim() {
    let (_, out, _) = run(&["search", "fixtures/shapes/awkward.json", "-f", "jsonl"]);
    // The escapes, big numbers and number spellings of the input survive unchanged.
    assert!(out.contains(r#""Create\u0055ser""#), "{out}");
    assert!(out.contains("9007199254740993"), "{out}");
    assert!(out.contains("1.5e-7") || out.contains("1.5E-7"), "{out}");
    assert_eq!(out.lines().count(), 2);
    // Pretty-printed input comes out one record per line.
    let (_, out, _) = run(&["search", "fixtures/shapes/pretty.json", "-f", "jsonl"]);
    assert_eq!(jsonl(&out).len(), 2);
}

#[test]
fn formats_json_array() {
    let (code, out, _) =
        run(&["search", "fixtures/archive", "--event", "CreateUser", "-f", "json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 8);
    let (_, out, _) = run(&["search", "fixtures/archive", "--event", "Nothing", "-f", "json"]);
    assert_eq!(out, "[]\n");
}

#[test]
fn formats_csv_with_fields() {
    let (code, out, _) = run(&[
        "search",
        "fixtures/archive",
        "--event",
        "CreateUser",
        "-f",
        "csv",
        "--fields",
        "eventTime,actor,requestParameters.userName,errorCode",
    ]);
    assert_eq!(code, 0);
    let mut rdr = csv::Reader::from_reader(out.as_bytes());
    assert_eq!(
        rdr.headers().unwrap().iter().collect::<Vec<_>>(),
        ["eventTime", "actor", "requestParameters.userName", "errorCode"]
    );
    let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 8);
    assert!(
        rows.iter().any(|r| &r[1] == "mallory" && &r[2] == "backdoor-3" && &r[3] == "AccessDenied")
    );
}

#[test]
fn formats_table_default_columns() {
    let (code, out, _) = run(&["search", "fixtures/archive", "--event", "CreateUser"]);
    assert_eq!(code, 0);
    for h in ["time", "event", "actor", "source IP", "region", "account", "error"] {
        assert!(out.lines().nth(1).unwrap().contains(h), "{h}: {out}");
    }
    assert!(out.contains("OrganizationAccountAccessRole/mallory"));
}

#[test]
fn formats_hostile_strings_never_reach_the_terminal_raw() {
    for fmt in ["table", "csv"] {
        let (_, out, _) = run(&[
            "search",
            "fixtures/shapes/hostile.json",
            "-f",
            fmt,
            "--fields",
            "eventName,userAgent,errorMessage,userIdentity.userName",
        ]);
        assert!(!out.contains('\u{1b}'), "{fmt}: ESC leaked");
        assert!(!out.contains('\u{7}'), "{fmt}: BEL leaked");
        assert!(!out.contains('\u{8}'), "{fmt}: BS leaked");
        assert!(!out.contains('\u{202e}'), "{fmt}: bidi override leaked");
        assert!(out.contains("\\u{1b}"), "{fmt}: escaped form shown");
    }
    let (_, out, _) = run(&[
        "search",
        "fixtures/shapes/hostile.json",
        "-f",
        "csv",
        "--fields",
        "userAgent,errorMessage,userIdentity.userName",
    ]);
    let mut rdr = csv::Reader::from_reader(out.as_bytes());
    for row in rdr.records() {
        for cell in row.unwrap().iter() {
            assert!(!cell.starts_with(['=', '+', '-', '@']), "formula cell {cell:?}");
        }
    }
    // --csv-raw keeps the cells as they are; JSON output stays exact.
    let (_, raw, _) = run(&[
        "search",
        "fixtures/shapes/hostile.json",
        "-f",
        "csv",
        "--csv-raw",
        "--fields",
        "userAgent",
    ]);
    assert!(raw.lines().skip(1).any(|l| l.starts_with(['=', '+', '-', '@', '"'])), "{raw}");
    let (_, js, _) = run(&["search", "fixtures/shapes/hostile.json", "-f", "jsonl"]);
    assert!(js.contains("\\u001b"), "JSON keeps its escapes: {js}");
}
