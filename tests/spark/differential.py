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
Needs `pip install pyspark==4.0.1` and a Java 17 runtime. Runs in `cargo test` (tests/spark.rs).

One Spark session (one JVM) for everything: while it starts, the trailscan side of every case
runs (the SQL of both forms, `search` once per case); the lake is read once and cached; then all
the cases' queries run as one Spark job, a `UNION ALL` of each case's statement as a subquery
tagged with its number (a case whose statement Spark rejects is found by running the cases one
by one, and reported as a failure).
"""

import argparse
import concurrent.futures
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


def statement(sql):
    """The SQL as one statement Spark takes (no trailing semicolon)."""
    return sql.strip().rstrip(";")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trailscan", default="target/debug/trailscan")
    ap.add_argument("--archive", default="fixtures/archive/AWSLogs")
    a = ap.parse_args()
    ts = a.trailscan
    t0 = time.time()

    from pyspark.sql import SparkSession

    # The cases: (label, filter arguments, SQL); both forms of the SQL for each filter set.
    forms = [(raw_column, case) for raw_column in (True, False) for case in CASES]

    def trailscan_side(form):
        raw_column, case = form
        extra = ["--raw-column"] if raw_column else []
        return run([ts, "sql", "--dialect", "spark", "--from", "lake"] + extra + case)

    with tempfile.TemporaryDirectory() as d, concurrent.futures.ThreadPoolExecutor(4) as pool:
        lake = os.path.join(d, "lake")
        run([ts, "export", a.archive, "--out", lake, "--raw", "-q"])
        # trailscan's answers are computed while the JVM starts.
        sqls = pool.map(trailscan_side, forms)
        wants = pool.map(
            lambda case: ids(run([ts, "search", a.archive, "--format", "jsonl", "-q"] + case)), CASES
        )
        spark = (
            SparkSession.builder.master("local[2]")
            .appName("trailscan-sql")
            .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.shuffle.partitions", "2")
            .config("spark.ui.showConsoleProgress", "false")
            # A few thousand rows: compiling code for each of the cases' plans would cost more
            # than interpreting them.
            .config("spark.sql.codegen.wholeStage", "false")
            .config("spark.sql.codegen.factoryMode", "NO_CODEGEN")
            .getOrCreate()
        )
        spark.sparkContext.setLogLevel("ERROR")
        lake_df = spark.read.option("basePath", lake).parquet(lake).cache()
        lake_rows = lake_df.count()
        lake_df.createOrReplaceTempView("cloudtrail_logs")
        start = time.time() - t0
        sqls = list(sqls)
        wants = dict(zip(map(tuple, CASES), wants))
        t1 = time.time()

        # Every case's rows, by case number, from one job; case by case if Spark rejects it.
        rows = {i: [] for i in range(len(forms))}
        errors = {}
        union = "\nUNION ALL\n".join(
            f"SELECT {i} AS trailscan_case, eventid, raw FROM (\n{statement(sql)}\n) AS case_{i}"
            for i, sql in enumerate(sqls)
        )
        try:
            for r in spark.sql(union).collect():
                rows[r["trailscan_case"]].append(r)
        except Exception:  # find the statements Spark rejects
            rows = {i: [] for i in range(len(forms))}
            for i, sql in enumerate(sqls):
                try:
                    rows[i] = spark.sql(statement(sql)).select("eventid", "raw").collect()
                except Exception as e:  # reported as a failure below
                    errors[i] = str(e)[:300]
        queries = time.time() - t1

        failures = 0
        exact = supersets = 0
        for i, ((raw_column, case), sql) in enumerate(zip(forms, sqls)):
            label = ("--raw-column " if raw_column else "") + " ".join(case)
            if i in errors:
                print(f"FAIL {label}: Spark: {errors[i]}", flush=True)
                failures += 1
                continue
            want = wants[tuple(case)]
            got = {r["eventid"] for r in rows[i]}
            if not want <= got:
                print(f"FAIL {label}: SQL misses {sorted(want - got)[:5]}")
                failures += 1
                continue
            if "/* superset:" in sql:
                supersets += 1
                lines = "".join(json.dumps(json.loads(r["raw"])) + "\n" for r in rows[i])
                rechecked = (
                    ids(run([ts, "search", "-", "--format", "jsonl", "-q"] + case, lines))
                    if rows[i]
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
            f"{failures} failures; {lake_rows} lake rows; session start and lake read {start:.1f} s, "
            f"queries {queries:.1f} s, total {time.time() - t0:.1f} s"
        )
        sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
