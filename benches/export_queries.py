#!/usr/bin/env python3
"""DuckDB over a trailscan lake, next to DuckDB over the raw JSON and trailscan over the archive.

usage: export_queries.py LAKE ARCHIVE TRAILSCAN THREADS
Two questions: the records with eventName CreateUser (a count), and the records per eventName.
Each command runs ROUNDS times (env, default 3), interleaved; the table gives the median and
checks that every engine gives the same answer.
"""
import csv
import io
import os
import statistics
import subprocess
import sys
import time

import duckdb

lake, archive, trailscan, threads = sys.argv[1:5]
rounds = int(os.environ.get("ROUNDS", "3"))
con = duckdb.connect()
con.execute(f"SET threads = {threads}")
LAKE = (f"read_parquet('{lake}/*/*/*/*.parquet', hive_partitioning = true, "
        "hive_types = {'account': VARCHAR, 'region': VARCHAR, 'dt': VARCHAR})")
# Athena's way over the delivered files: each file is one {"Records": [...]} object.
# Accounts' own trails and organization trails (AWSLogs/o-.../ACCOUNT/CloudTrail/...).
GLOBS = [f"{archive}/AWSLogs/*/CloudTrail/*/*/*/*/*.json.gz", f"{archive}/AWSLogs/*/*/CloudTrail/*/*/*/*/*.json.gz"]
RAW = (f"(SELECT unnest(Records) AS r FROM read_json({GLOBS!r}, "
       "columns = {Records: 'JSON[]'}, maximum_object_size = 1073741824))")


def duck(sql):
    return lambda: con.sql(sql).fetchall()


def ts(args):
    def f():
        out = subprocess.run([trailscan, *args, "-j", threads, "-q"], check=True, capture_output=True, text=True).stdout
        return out
    return f


def group_rows(out):
    # summary --by eventName --format csv --section groups: header then name,count,...
    rows = {}
    for parts in list(csv.reader(io.StringIO(out)))[1:]:
        rows[parts[0]] = int(parts[1])
    return rows


questions = [
    ("eventName = CreateUser, count", [
        ("DuckDB over the lake", duck(f"SELECT count(*) FROM {LAKE} WHERE eventname = 'CreateUser'"), lambda r: r[0][0]),
        ("DuckDB over the raw JSON", duck(f"SELECT count(*) FROM {RAW} WHERE r->>'eventName' = 'CreateUser'"), lambda r: r[0][0]),
        ("trailscan search --event CreateUser --count", ts(["search", archive, "--event", "CreateUser", "--count"]), lambda r: int(r.strip())),
    ]),
    ("records per eventName (GROUP BY)", [
        ("DuckDB over the lake", duck(f"SELECT eventname, count(*) FROM {LAKE} GROUP BY eventname"), lambda r: dict(r)),
        ("DuckDB over the raw JSON", duck(f"SELECT r->>'eventName', count(*) FROM {RAW} GROUP BY 1"), lambda r: dict(r)),
        ("trailscan summary --by eventName", ts(["summary", archive, "--by", "eventName", "--top", "0", "--format", "csv", "--section", "groups"]), group_rows),
    ]),
]

print("| question | engine | median s | all runs s |")
print("|---|---|---|---|")
for q, engines in questions:
    times = {name: [] for name, _, _ in engines}
    answers = {}
    for _ in range(rounds):
        for name, f, norm in engines:
            t = time.perf_counter()
            r = f()
            times[name].append(time.perf_counter() - t)
            answers[name] = norm(r)
    vals = list(answers.values())
    same = all(v == vals[0] for v in vals)
    for name, _, _ in engines:
        ts_ = times[name]
        print(f"| {q} | {name} | {statistics.median(ts_):.2f} | {' '.join(f'{x:.2f}' for x in ts_)} |")
    print(f"| {q} | answers equal | {'yes' if same else 'NO'} | |")
    if not same:
        for name, v in answers.items():
            print(f"<!-- {name}: {str(v)[:200]} -->")
