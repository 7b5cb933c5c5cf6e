//! `trailscan report` end to end: the real binary on the fixtures, the page checked as text
//! here and driven in headless Chromium by `tests/browser/report.mjs` (playwright-core).
//!
//! The browser part needs node, `tests/browser/node_modules` (`npm ci` there) and
//! `/usr/bin/chromium`; without them it is skipped with a message, unless
//! `TRAILSCAN_REQUIRE_BROWSER` is set (CI sets it), when it fails.

use assert_cmd::Command;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn trailscan() -> Command {
    let mut c = Command::cargo_bin("trailscan").unwrap();
    c.current_dir(root());
    c.env("TRAILSCAN_INDEX_DIR", root().join("target/no-index-in-tests"));
    c
}

/// Runs `trailscan ARGS -q -o OUT`, expecting `code`; returns the page.
fn page(args: &[&str], out: &Path, code: i32) -> String {
    let o = trailscan().args(args).arg("-q").arg("-o").arg(out).output().unwrap();
    assert_eq!(o.status.code(), Some(code), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
    assert!(o.stdout.is_empty(), "the page goes to -o");
    std::fs::read_to_string(out).unwrap()
}

/// The JSON the page embeds.
fn data(page: &str) -> Value {
    let start = page.find(r#"<script type="application/json" id="data">"#).unwrap();
    let rest = &page[start..];
    let body = &rest[rest.find('>').unwrap() + 1..rest.find("</script>").unwrap()];
    serde_json::from_str(body).unwrap()
}

/// The hostile fixture's records with markup where CloudTrail has attacker-chosen text.
fn hostile_records() -> Value {
    let text = std::fs::read_to_string(root().join("fixtures/shapes/hostile.json")).unwrap();
    let mut v: Value = serde_json::from_str(&text).unwrap();
    let recs = v["Records"].as_array_mut().unwrap();
    recs[0]["userAgent"] = json!("<script>alert('ua')</script>");
    recs[0]["eventName"] = json!("</script><script>alert(2)</script>");
    recs[1]["userAgent"] = json!("<img src=x onerror=\"alert(1)\">");
    recs[1]["userIdentity"]["userName"] = json!("\"><svg onload=alert(3)>\u{202e}gpj.exe");
    recs[2]["eventSource"] = json!("iam.amazonaws.com");
    recs[2]["eventName"] = json!("CreateUser");
    recs[2]["errorCode"] = Value::Null;
    recs[2]["requestParameters"] = json!({"userName": "<img src=y onerror=alert(4)>&amp;"});
    v
}

#[test]
fn the_page_is_one_strict_self_contained_file() {
    let dir = tempfile::tempdir().unwrap();
    let html = page(&["report", "fixtures/archive"], &dir.path().join("r.html"), 0);
    assert!(html.starts_with("<!DOCTYPE html>"));
    // One policy, no inline allowance, nothing from elsewhere.
    let csp = html.split("Content-Security-Policy\" content=\"").nth(1).unwrap();
    let csp = &csp[..csp.find('"').unwrap()];
    assert!(csp.starts_with("default-src 'none'; script-src 'sha256-"), "{csp}");
    assert!(!csp.contains("unsafe") && !csp.contains("http"), "{csp}");
    assert_eq!(html.matches("<script").count(), 2);
    assert_eq!(html.matches("</script>").count(), 2, "no data string closes its element");
    for bad in ["<link", " src=", "@import", "url(", "<iframe", "<img"] {
        assert!(!html.contains(bad), "{bad}");
    }
    let d = data(&html);
    assert_eq!(d["schema"], "trailscan-report/2");
    // The page's counts are the summary's.
    let s = trailscan()
        .args(["summary", "fixtures/archive", "-q", "--format", "json", "--top", "25"])
        .output()
        .unwrap();
    let s: Value = serde_json::from_slice(&s.stdout).unwrap();
    assert_eq!(d["overview"], s["overview"]);
    let names = d["dims"].as_array().unwrap().iter().find(|x| x["key"] == "event_names").unwrap();
    assert_eq!(names["values"], s["top"]["event_names"]["rows"]);
    // The cube holds every dated record, by every field.
    let cube: u64 = d["cube"].as_array().unwrap().iter().map(|r| r[9].as_u64().unwrap()).sum();
    let records = d["overview"]["records"].as_u64().unwrap();
    let undated = d["overview"]["undated_records"].as_u64().unwrap();
    assert_eq!(cube + undated, records);
    assert_eq!(d["undated"], undated);
    // Cell by cell, each field's value ids add up to the summary's count of that value (the
    // cube read the records as the summary did).
    for (i, dim) in d["dims"].as_array().unwrap().iter().enumerate() {
        let filterable = dim["filterable"].as_u64().unwrap() as usize;
        assert_eq!(filterable, dim["values"].as_array().unwrap().len(), "the fixtures' cube fits");
        for (id, row) in dim["values"].as_array().unwrap().iter().enumerate().take(filterable) {
            let sum: u64 = d["cube"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|c| c[1 + i].as_u64() == Some(id as u64))
                .map(|c| c[9].as_u64().unwrap())
                .sum();
            let want = row["count"].as_u64().unwrap();
            assert!(
                sum <= want && sum + undated >= want,
                "{} {}: {sum} vs {want}",
                dim["key"],
                row["value"]
            );
        }
    }
    // Records behind the numbers: bounded, each the archive's text.
    let kept = d["records"].as_array().unwrap();
    assert!(!kept.is_empty() && kept.len() < records as usize);
    for r in kept {
        let _: Value = serde_json::from_str(r["raw"].as_str().unwrap()).unwrap();
    }
    // Findings of the built-in packs, with their records embedded.
    let rules = d["audit"]["by_rule"].as_array().unwrap();
    assert!(d["audit"]["findings"].as_u64().unwrap() > 0);
    let create = rules.iter().find(|r| r["id"] == "threats.iam-user-created").unwrap_or(&rules[0]);
    assert!(!create["shown"][0]["records"].as_array().unwrap().is_empty());
}

#[test]
fn summary_html_is_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.html");
    let o = trailscan()
        .args(["summary", "fixtures/archive", "-q", "--format", "html", "--by", "eventName", "-o"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let d = data(&std::fs::read_to_string(&out).unwrap());
    assert_eq!(d["schema"], "trailscan-report/2");
    assert_eq!(d["dims"][1]["values"].as_array().unwrap().len(), 10, "summary's --top 10");
    assert_eq!(d["groups"]["by"], json!(["eventName"]));
    assert_eq!(d["groups"]["rows"].as_array().unwrap().len(), 10);
}

#[test]
fn flags_scope_the_report_and_bound_what_it_embeds() {
    let dir = tempfile::tempdir().unwrap();
    let html = page(
        &[
            "report",
            "fixtures/archive",
            "--event",
            "CreateUser",
            "--records-per-value",
            "1",
            "--no-audit",
        ],
        &dir.path().join("r.html"),
        0,
    );
    let d = data(&html);
    assert_eq!(d["dims"][1]["values"][0]["value"], "CreateUser");
    assert_eq!(d["dims"][1]["distinct"], 1);
    assert_eq!(d["audit"]["ran"], false);
    assert_eq!(d["command"]["flags"], json!([["--event", "CreateUser"]]));
    // One per top value of each field, and the notable actions' records.
    let kept = d["records"].as_array().unwrap().len();
    let notable = d["notable"]["actions"].as_array().unwrap();
    let bound: usize = d["dims"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["values"].as_array().unwrap().len())
        .sum::<usize>()
        + notable.len();
    assert!(kept <= bound, "{kept} > {bound}");
    assert!(notable.iter().all(|a| a["record"].is_u64()), "each notable action's record kept");
    // Nothing matched: exit 1, still a page.
    let html = page(
        &["report", "fixtures/archive", "--event", "NoSuchEvent"],
        &dir.path().join("none.html"),
        1,
    );
    assert_eq!(data(&html)["overview"]["records"], 0);
    // stdin cannot be read twice.
    let o = trailscan().args(["report", "-"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    // A broken input is counted and the run goes on.
    let html = page(&["report", "fixtures/broken"], &dir.path().join("broken.html"), 2);
    assert!(data(&html)["overview"]["files_failed"].as_u64().unwrap() > 0);
}

#[test]
fn hostile_text_stays_data() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("hostile.json");
    std::fs::write(&input, serde_json::to_string_pretty(&hostile_records()).unwrap()).unwrap();
    let html = page(&["report", input.to_str().unwrap()], &dir.path().join("h.html"), 0);
    assert_eq!(html.matches("<script").count(), 2);
    for bad in ["<img", "<svg", "alert(", "\u{1b}", "\u{7}", "\u{202e}"] {
        // alert( appears only inside JSON strings, escaped: the `(` stays but `<` does not.
        if bad == "alert(" {
            assert!(!html.contains("<script>alert"), "{bad}");
            continue;
        }
        assert!(!html.contains(bad), "{bad}");
    }
    let d = data(&html);
    let agents = &d["dims"][4]["values"];
    assert!(
        agents.as_array().unwrap().iter().any(|v| v["value"] == "<script>alert('ua')</script>")
    );
}

#[test]
fn the_credential_tree_is_trace_s() {
    let dir = tempfile::tempdir().unwrap();
    let html = page(
        &["report", "fixtures/trace", "--trace-key", "ASIAQRSTUVWXCHAINED1", "--no-audit"],
        &dir.path().join("t.html"),
        0,
    );
    let tr = &data(&html)["trace"];
    assert_eq!(tr["seeds"], json!(["ASIAQRSTUVWXCHAINED1"]));
    // alice's key → her session → the cross-account role → the seed → a backdoor key and a
    // failed AssumeRole.
    let mut n = &tr["roots"][0]["tree"];
    for label in ["AKIAIOSFODNN7EXAMPLE", "ASIAQRSTUVWXSESSION1", "ASIAQRSTUVWXCROSSAC1"] {
        assert_eq!(n["label"], label);
        n = &n["children"][0];
    }
    assert_eq!((&n["label"], &n["seed"]), (&json!("ASIAQRSTUVWXCHAINED1"), &json!(true)));
    let kids = n["children"].as_array().unwrap();
    assert_eq!(kids[0]["label"], "AKIAQRSTUVWXBACKDOOR");
    assert_eq!(kids[1]["failed"], true);
    // Without seeds, no trace; a bad key is refused.
    let html = page(&["report", "fixtures/trace"], &dir.path().join("n.html"), 0);
    assert!(data(&html)["trace"].is_null());
    let o = trailscan().args(["report", "fixtures/trace", "--trace-key", "nope"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
}

/// The browser checks (see the module's documentation).
#[test]
fn the_page_works_in_chromium() {
    let browser = root().join("tests/browser");
    let chromium = Path::new("/usr/bin/chromium");
    let node = std::process::Command::new("node").arg("--version").output().is_ok();
    let missing: Vec<&str> = [
        (!chromium.exists()).then_some("/usr/bin/chromium"),
        (!node).then_some("node"),
        (!browser.join("node_modules/playwright-core").exists())
            .then_some("tests/browser/node_modules (npm ci in tests/browser)"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !missing.is_empty() {
        let msg = format!("browser tests need {}", missing.join(", "));
        assert!(std::env::var_os("TRAILSCAN_REQUIRE_BROWSER").is_none(), "{msg}");
        eprintln!("SKIPPED (loudly): {msg}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive.html");
    page(&["report", "fixtures/archive"], &archive, 0);
    let records = dir.path().join("hostile.json");
    std::fs::write(&records, serde_json::to_string_pretty(&hostile_records()).unwrap()).unwrap();
    let hostile = dir.path().join("hostile.html");
    page(&["report", records.to_str().unwrap()], &hostile, 0);
    let traced = dir.path().join("trace.html");
    page(&["report", "fixtures/trace", "--trace-key", "ASIAQRSTUVWXCHAINED1"], &traced, 0);
    let collapsed = dir.path().join("collapsed.html");
    page(&["report", "fixtures/archive", "--max-cells", "100"], &collapsed, 0);
    let shots = root().join("target/report-screenshots");
    let out = std::process::Command::new("node")
        .arg(browser.join("report.mjs"))
        .args([&archive, &hostile, &records, &shots, &traced, &collapsed])
        .current_dir(&browser)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "browser checks failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
    assert!(shots.join("report-desktop.png").exists());
    // Each command the page shows beside a number lists exactly that many records.
    let cmds: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(shots.join("commands.json")).unwrap())
            .unwrap();
    let bin = assert_cmd::cargo::cargo_bin("trailscan");
    for c in &cmds {
        let line = c["command"].as_str().unwrap();
        let rest = line.strip_prefix("trailscan ").unwrap();
        let o = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("\"$0\" {rest} --count -q --no-index"))
            .arg(&bin)
            .current_dir(root())
            .output()
            .unwrap();
        let got = String::from_utf8_lossy(&o.stdout).trim().to_string();
        assert_eq!(got, c["count"].to_string(), "{line}: {}", String::from_utf8_lossy(&o.stderr));
    }
    // The identities the page showed under a clicked value and a brushed range are what
    // `summary --by actor,FIELD` counts under the same filter.
    // The same on a page whose cube keeps few actors apart (--max-cells 100): the identities
    // past them are counted from their own cells, and those it has no cells for are named as
    // not counted, never shown with wrong figures.
    for (file, html) in [("identities.json", &archive), ("identities-collapsed.json", &collapsed)] {
        let shown: Value =
            serde_json::from_str(&std::fs::read_to_string(shots.join(file)).unwrap()).unwrap();
        let embedded = data(&std::fs::read_to_string(html).unwrap());
        for (scenario, s) in shown.as_object().unwrap() {
            let flags: Vec<&str> =
                s["flags"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
            identities_are_the_summary_s(&format!("{file} {scenario}"), &flags, s, &embedded);
        }
    }
    let embedded = data(&std::fs::read_to_string(&collapsed).unwrap());
    assert!(embedded["dims"][2]["filterable"].as_u64() < Some(5), "few actors kept apart");
    assert!(!embedded["identity_cube_actors"].as_array().unwrap().is_empty());
}

/// `summary fixtures/archive --by actor[,FIELD] FLAGS`: per actor, its groups (value, count,
/// first seen, last seen).
fn groups_by_actor(field: Option<&str>, flags: &[&str]) -> BTreeMap<String, Vec<Value>> {
    let by = field.map_or_else(|| "actor".to_string(), |f| format!("actor,{f}"));
    let o = trailscan()
        .args(["summary", "fixtures/archive", "-q", "--no-index", "--format", "json", "--by", &by])
        .args(flags)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{flags:?}: {}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for g in v["groups"]["rows"].as_array().unwrap() {
        let actor = g["key"][0].as_str().unwrap().to_string();
        out.entry(actor).or_default().push(g.clone());
    }
    out
}

fn identities_are_the_summary_s(scenario: &str, flags: &[&str], seen: &Value, page: &Value) {
    let shown = seen["identities"].as_array().unwrap();
    let unknown: Vec<&str> =
        seen["unknown"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
    let profiles = page["identities"].as_array().unwrap();
    let profiled: Vec<String> =
        profiles.iter().map(|i| i["actor"].as_str().unwrap().to_string()).collect();
    // Per list, the values the page's cube keeps apart (its filterable top values).
    let kept_apart: BTreeMap<&str, Vec<String>> =
        [("services", 0), ("ips", 3), ("errors", 5), ("accounts", 6)]
            .into_iter()
            .map(|(list, d)| {
                let dim = &page["dims"][d];
                let n = dim["filterable"].as_u64().unwrap() as usize;
                let values = dim["values"].as_array().unwrap().iter().take(n);
                (list, values.map(|v| v["value"].as_str().unwrap().to_string()).collect())
            })
            .collect();
    let actors = groups_by_actor(None, flags);
    // Every profiled actor with records under the filter, and only those, but the actors the
    // page said it could not count: each one the cube does not keep apart and has no cells of
    // its own for.
    let apart = page["dims"][2]["filterable"].as_u64().unwrap() as usize;
    let own: Vec<u64> = page["identity_cube_actors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_u64().unwrap())
        .collect();
    for u in &unknown {
        let id = profiled.iter().position(|a| a == u).unwrap();
        assert!(id >= apart && !own.contains(&(id as u64)), "{scenario}: {u} could be counted");
    }
    let want: Vec<&String> = profiled
        .iter()
        .filter(|a| actors.contains_key(*a) && !unknown.contains(&a.as_str()))
        .collect();
    let got: Vec<&str> = shown.iter().map(|i| i["actor"].as_str().unwrap()).collect();
    assert_eq!(got, want, "{scenario}: the identities shown");
    assert!(!got.is_empty(), "{scenario}");
    for i in shown {
        let actor = i["actor"].as_str().unwrap();
        let g = &actors[actor][0];
        assert_eq!(i["count"], g["count"], "{scenario} {actor}: records");
        assert_eq!(i["first"], g["first_seen"], "{scenario} {actor}: first seen");
        assert_eq!(i["last"], g["last_seen"], "{scenario} {actor}: last seen");
    }
    for (list, field) in [
        ("services", "eventSource"),
        ("ips", "sourceIPAddress"),
        ("errors", "errorCode"),
        ("accounts", "recipientAccountId"),
        ("types", "userIdentity.type"),
    ] {
        let by = groups_by_actor(Some(field), flags);
        for i in shown {
            let actor = i["actor"].as_str().unwrap();
            let mut rows: Vec<(String, u64)> = by[actor]
                .iter()
                .map(|g| (g["key"][1].as_str().unwrap().to_string(), g["count"].as_u64().unwrap()))
                .filter(|(v, _)| !(list == "errors" && v == "-"))
                .collect();
            rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            let page = &i[list];
            if page["text"].as_str().is_some_and(|t| t.starts_with("not broken down")) {
                // The page said it cannot split this actor's records by type under a filter:
                // true only when it has more than one over the whole report.
                let whole = profiles.iter().find(|p| p["actor"] == actor).unwrap();
                assert!(
                    list == "types" && whole["types"]["distinct"].as_u64() > Some(1),
                    "{scenario} {actor}: {page}"
                );
                continue;
            }
            // Values the page's cube does not keep apart are counted together, not named
            // (unless the whole profile shows they are one value).
            let other: u64 = page["other"].as_u64().unwrap();
            if other > 0 {
                let apart = &kept_apart[list];
                let merged: u64 =
                    rows.iter().filter(|(v, _)| !apart.contains(v)).map(|(_, n)| n).sum();
                assert_eq!(other, merged, "{scenario} {actor}: {list} not kept apart");
                rows.retain(|(v, _)| apart.contains(v));
            }
            let want: Vec<Value> = rows.iter().take(12).map(|(v, n)| json!([v, n])).collect();
            assert_eq!(page["rows"], json!(want), "{scenario} {actor}: {list}");
            assert_eq!(page["distinct"], json!(rows.len()), "{scenario} {actor}: {list} distinct");
        }
    }
}

/// A report past its memory budget gives the records' ids up after the first pass and places
/// the records in a second one (`TRAILSCAN_REPORT_BUDGET=0` forces it from the first record):
/// the page is the same but for the time it was made, with files read whole and in chunks of
/// one record, with copies of records (the archive named twice), with flags and broken inputs.
#[test]
fn the_bounded_report_is_the_one_pass_report() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], i32); 8] = [
        (&["report", "fixtures/archive"], 0),
        (&["report", "fixtures/archive", "fixtures/archive", "--no-audit"], 0),
        (&["report", "fixtures/archive", "--records-per-value", "1", "--top", "3"], 0),
        (&["report", "fixtures/archive", "--max-cells", "100", "--bucket", "hour"], 0),
        (&["report", "fixtures/archive", "--event", "CreateUser", "--records-per-value", "0"], 0),
        (&["report", "fixtures/shapes", "fixtures/trace"], 0),
        (&["report", "fixtures/broken"], 2),
        (&["summary", "fixtures/archive", "--format", "html", "--by", "actor"], 0),
    ];
    let run = |args: &[&str], code: i32, env: &[(&str, &str)], name: &str| {
        let out = dir.path().join(name);
        let mut c = trailscan();
        c.envs(env.iter().copied());
        let o = c.args(args).arg("-q").arg("-o").arg(&out).output().unwrap();
        assert_eq!(
            o.status.code(),
            Some(code),
            "{args:?} {env:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let html = std::fs::read_to_string(&out).unwrap();
        let mut d = data(&html);
        d.as_object_mut().unwrap().remove("generated_at");
        (html.len(), d)
    };
    for (args, code) in cases {
        let one = run(args, code, &[], "one.html");
        assert!(one.1["records"].as_array().is_some_and(|r| !r.is_empty()) || args.contains(&"0"));
        for env in [
            &[("TRAILSCAN_REPORT_BUDGET", "0")][..],
            &[("TRAILSCAN_REPORT_BUDGET", "0"), ("TRAILSCAN_CHUNK_BYTES", "1")],
            &[("TRAILSCAN_REPORT_BUDGET", "20000"), ("TRAILSCAN_CHUNK_BYTES", "1")],
        ] {
            let two = run(args, code, env, "two.html");
            assert!(one.0 == two.0 && one.1 == two.1, "{args:?} with {env:?}: the pages differ");
        }
    }
}
