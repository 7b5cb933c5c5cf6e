//! The real public datasets in `../shared/datasets/` (when present): trailscan reads every
//! record a plain JSON reader finds, and names every malformed file.

use crate::util::run;
use serde_json::Value;
use std::io::Read;
use std::path::{Path, PathBuf};

fn datasets() -> Option<PathBuf> {
    let p = crate::util::root().join("../shared/datasets");
    p.is_dir().then_some(p)
}

/// A deliberately plain reader: `None` when the file is not valid JSON (or JSON lines).
fn plain_count(path: &Path) -> Option<u64> {
    let mut bytes = std::fs::read(path).ok()?;
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&bytes[..]).read_to_end(&mut out).ok()?;
        bytes = out;
    }
    let text = String::from_utf8(bytes).ok()?;
    let text = text.trim_start_matches('\u{feff}');
    let one = |v: &Value| -> u64 {
        if v.get("digestStartTime").is_some() {
            0
        } else if let Some(r) = v.get("Records").and_then(Value::as_array) {
            r.len() as u64
        } else if let Some(e) = v.get("Events").and_then(Value::as_array) {
            e.len() as u64
        } else {
            1
        }
    };
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        return Some(match &v {
            Value::Array(items) => items.iter().map(one).sum(),
            _ => one(&v),
        });
    }
    let mut n = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        n += one(&serde_json::from_str::<Value>(line).ok()?);
    }
    Some(n)
}

#[test]
fn datasets_every_record_is_read() {
    let Some(dir) = datasets() else {
        eprintln!("SKIPPED: ../shared/datasets not present");
        return;
    };
    let mut valid = 0u64;
    let mut malformed = Vec::new();
    for e in walkdir::WalkDir::new(&dir).sort_by_file_name() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy();
        if !e.file_type().is_file() || name == "README.md" {
            continue;
        }
        match plain_count(e.path()) {
            Some(n) => valid += n,
            None => malformed.push(e.path().to_path_buf()),
        }
    }
    assert_eq!(malformed.len(), 3, "{malformed:?}");
    let stats_file = tempfile::NamedTempFile::new().unwrap();
    let d = dir.to_str().unwrap();
    let (code, _, err) =
        run(&["search", d, "-c", "--stats-json", stats_file.path().to_str().unwrap()]);
    assert_eq!(code, 2, "malformed files make the run exit 2");
    for m in &malformed {
        let name = m.file_name().unwrap().to_string_lossy();
        assert!(err.contains(&*name), "{name} named on stderr");
    }
    let s: Value =
        serde_json::from_str(&std::fs::read_to_string(stats_file.path()).unwrap()).unwrap();
    let read = s["records_read"].as_u64().unwrap();
    // What trailscan salvages from the malformed files (records before the damage).
    let mut salvaged = 0;
    for m in &malformed {
        let (_, out, _) = run(&["search", m.to_str().unwrap(), "-c"]);
        salvaged += out.trim().parse::<u64>().unwrap();
    }
    assert_eq!(
        read,
        valid + salvaged,
        "trailscan read {read}, plain reader {valid} + salvaged {salvaged}"
    );
    assert_eq!(s["files_failed"].as_u64().unwrap(), 3);
}
