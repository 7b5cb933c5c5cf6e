"""Runs SQL from `trailscan sql --dialect duckdb` in DuckDB, for tests/sql_duckdb.rs.

Reads a JSON object on stdin: {"setup": [SQL...], "queries": [SQL...]}; loads the `inet`
extension from the PyPI package `duckdb-extension-inet` (same version as duckdb), runs the setup
statements, then each query, and prints one JSON line per query:
{"ok": true, "rows": [[eventid, raw], ...]} or {"ok": false, "error": "..."}.
A query's rows are read from its `eventid` and `raw` columns, or, with "whole_rows": true, as
they are (every value as text).
"""

import json
import os
import sys

import duckdb


def inet_path():
    import duckdb_extension_inet

    base = os.path.join(os.path.dirname(duckdb_extension_inet.__file__), "extensions")
    for root, _dirs, files in os.walk(base):
        for f in files:
            if f == "inet.duckdb_extension":
                return os.path.join(root, f)
    raise SystemExit("duckdb-extension-inet has no inet.duckdb_extension")


def main():
    job = json.load(sys.stdin)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"LOAD '{inet_path()}'")
    for s in job.get("setup", []):
        con.execute(s)
    for q in job["queries"]:
        q = q.strip().rstrip(";")
        try:
            if job.get("whole_rows"):
                rows = [[None if v is None else str(v) for v in r] for r in con.execute(q).fetchall()]
            else:
                rows = con.execute(f"SELECT eventid, raw FROM ({q})").fetchall()
            print(json.dumps({"ok": True, "rows": rows}))
        except Exception as e:  # report, the test fails on it
            print(json.dumps({"ok": False, "error": str(e)}))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
