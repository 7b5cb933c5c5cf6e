//! The Spark differential test of `trailscan sql --dialect spark`: `tests/spark/differential.py`
//! exports the fixture archive with `--raw`, starts one local Spark session (PySpark 4.0.1,
//! Java 17) and checks, for 48 cases (24 filter sets, with and without `--raw-column`), that
//! the eventIDs Spark returns over the lake include every record `trailscan search` finds, equal
//! them when the SQL is exact, and equal them after the recheck when it is a marked superset.
//!
//! Without pyspark or Java this test says so and passes, unless TRAILSCAN_REQUIRE_ORACLES=1 (CI),
//! where it fails. It takes about a minute, most of it the JVM starting: one session serves
//! every case, and the cases' queries run as one Spark job.

#[path = "cli/util.rs"]
#[allow(dead_code)]
mod util;

use std::process::Command;

/// Are pyspark and a Java runtime there? Panics when they must be.
fn spark_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import pyspark, shutil, sys; sys.exit(0 if shutil.which('java') else 1)"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("TRAILSCAN_REQUIRE_ORACLES").as_deref() != Ok("1"),
            "TRAILSCAN_REQUIRE_ORACLES=1 but python3 cannot import pyspark or java is not on PATH \
             (pip install pyspark==4.0.1; apt-get install openjdk-17-jre-headless)"
        );
        eprintln!(
            "skipped: pyspark or java not available (pip install pyspark==4.0.1; apt-get install openjdk-17-jre-headless)"
        );
    }
    ok
}

#[test]
fn spark_sql_over_the_lake_finds_what_search_finds() {
    if !spark_available() {
        return;
    }
    let out = Command::new("python3")
        .current_dir(util::root())
        .arg("tests/spark/differential.py")
        .arg("--trailscan")
        .arg(assert_cmd::cargo::cargo_bin("trailscan"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    let summary = stdout.lines().last().unwrap_or_default();
    eprintln!("{summary}");
    // Every case ran and none failed: a script that ran fewer cases, or none, fails here.
    assert!(
        summary.starts_with("spark: 48 cases, ") && summary.contains(" 0 failures;"),
        "{stdout}{stderr}"
    );
    assert_eq!(stdout.lines().filter(|l| l.starts_with("ok ")).count(), 48, "{stdout}");
}
