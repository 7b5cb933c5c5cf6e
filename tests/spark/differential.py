"""Spark differential check of `trailscan sql --dialect spark` over an exported lake.

Usage (from the crate root, after `cargo build`):

    python3 tests/spark/differential.py [--trailscan target/debug/trailscan] [--archive DIR]

Exports ARCHIVE (default fixtures/archive/AWSLogs) with `trailscan export --raw` into a
temporary lake, starts PySpark in local mode (Java 17), registers the lake as the view
`cloudtrail_logs` (partition columns as strings), and for each case compares the eventIDs Spark
returns for `trailscan sql --dialect spark --from lake [--raw-column] CASE` with the eventIDs
`trailscan search ARCHIVE CASE` finds: they must include them, equal them when the SQL is exact,
and equal them after the recheck (the rows' raw column through `trailscan search -`) when it is
a marked superset. Prints one line per case and the totals; exits 1 on any difference.
Needs `pip install pyspark==4.0.1` and a Java 17 runtime. Not part of `cargo test` (a JVM per
run); see the figures in the closing note of issue 23.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

CASES = [
    ["--event", "CreateUser"],
    ["--source", "iam", "--errors"],
    ["--user", "mallory"],
    ["--user", "*admin*"],
    ["--ip", "203.0.113.0/24"],
    ["--account", "123837392027", "--region", "us-east-1"],
    ["--error-code", "AccessDenied"],
    ["--since", "2023-07-11T23:56:00Z", "--until", "2023-07-12T00:00:00Z"],
    ["--pattern", '{"eventName":[{"prefix":"Describe"}]}'],
    ["--pattern", '{"eventName":[{"suffix":"Policy"}]}'],
    ["--pattern", '{"eventName":[{"equals-ignore-case":"createuser"}]}'],
    ["--pattern", '{"eventName":[{"wildcard":"Get*Policy"}]}'],
    ["--pattern", '{"eventName":[{"anything-but":{"prefix":"Describe"}}]}'],
    ["--pattern", '{"readOnly":[true]}'],
    ["--pattern", '{"managementEvent":[true]}'],
    ["--pattern", '{"errorCode":[{"exists":false}]}'],
    ["--pattern", '{"sourceIPAddress":[{"cidr":"10.0.0.0/8"}]}'],
    ["--pattern", '{"requestParameters":{"userName":[{"prefix":"mal"}]}}'],
    ["--pattern", '{"resources":{"type":["AWS::IAM::Role"]}}'],
    ["--pattern", '{"resources":{"type":["AWS::S3::Bucket"],"ARN":[{"suffix":"flaws.cloud"}]}}'],
    ["--pattern", '{"source":["aws.iam"],"detail":{"eventName":[{"wildcard":"*User*"}]}}'],
    ["--pattern", '{"detail-type":["AWS Console Sign In via CloudTrail"]}'],
    ["--pattern", '{"$or":[{"eventName":["CreateUser"]},{"errorCode":["AccessDenied"]}]}'],
    ["--pattern", '{"userIdentity":{"sessionContext":{"sessionIssuer":{"userName":[{"exists":true}]}}}}'],
]


def run(cmd, stdin=None):
    p = subprocess.run(cmd, input=stdin, capture_output=True, text=True)
    if p.returncode not in (0, 1):
        raise SystemExit(f"{cmd}: exit {p.returncode}: {p.stderr}")
    return p.stdout


def ids(jsonl):
    return {json.loads(l)["eventID"] for l in jsonl.splitlines() if l.strip()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trailscan", default="target/debug/trailscan")
    ap.add_argument("--archive", default="fixtures/archive/AWSLogs")
    a = ap.parse_args()
    ts = a.trailscan

    from pyspark.sql import SparkSession

    with tempfile.TemporaryDirectory() as d:
        lake = os.path.join(d, "lake")
        run([ts, "export", a.archive, "--out", lake, "--raw", "-q"])
        t0 = time.time()
        spark = (
            SparkSession.builder.master("local[2]")
            .appName("trailscan-sql")
            .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .getOrCreate()
        )
        spark.sparkContext.setLogLevel("ERROR")
        spark.read.option("basePath", lake).parquet(lake).createOrReplaceTempView("cloudtrail_logs")
        start = time.time() - t0
        failures = 0
        exact = supersets = 0
        t1 = time.time()
        for raw_column in (True, False):
            for case in CASES:
                extra = ["--raw-column"] if raw_column else []
                sql = run([ts, "sql", "--dialect", "spark", "--from", "lake"] + extra + case)
                want = ids(run([ts, "search", a.archive, "--format", "jsonl", "-q"] + case))
                try:
                    rows = spark.sql(sql.strip().rstrip(";")).select("eventid", "raw").collect()
                except Exception as e:  # reported as a failure
                    print(f"FAIL {' '.join(case)}: Spark: {str(e)[:300]}", flush=True)
                    failures += 1
                    continue
                got = {r["eventid"] for r in rows}
                label = ("--raw-column " if raw_column else "") + " ".join(case)
                if not want <= got:
                    print(f"FAIL {label}: SQL misses {sorted(want - got)[:5]}")
                    failures += 1
                    continue
                if "/* superset:" in sql:
                    supersets += 1
                    lines = "".join(json.dumps(json.loads(r["raw"])) + "\n" for r in rows)
                    rechecked = (
                        ids(run([ts, "search", "-", "--format", "jsonl", "-q"] + case, lines))
                        if rows
                        else set()
                    )
                    ok = rechecked == want
                    print(
                        f"{'ok  ' if ok else 'FAIL'} superset {len(got)} rows -> {len(rechecked)}"
                        f" = search {len(want)}: {label}",
                        flush=True,
                    )
                else:
                    exact += 1
                    ok = got == want
                    print(f"{'ok  ' if ok else 'FAIL'} exact {len(got)} = search {len(want)}: {label}", flush=True)
                failures += not ok
        spark.stop()
        print(
            f"spark: {exact + supersets} cases, {exact} exact, {supersets} supersets, "
            f"{failures} failures; session start {start:.1f} s, cases {time.time() - t1:.1f} s"
        )
        sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
