#!/usr/bin/env python3
"""Reads a trailscan lake back with DuckDB and checks it against the source files.

usage: roundtrip.py LAKE ARCHIVE_DIR [--raw] [--allow-missing]

Every source record (files under ARCHIVE_DIR holding {"Records": [...]}, digests skipped) must
be in the lake exactly once, with:
- every typed column equal to the record's value, as Athena's JsonSerDe reads it (a column is
  the record key whose lower-case spelling is its name; NULL for a missing key or null; a
  number or boolean in a STRING column as its JSON text; structs, the resources list and the
  attributes map field by field);
- every JSON text column the record's own text for that field: a substring of the record's
  text in the source file that parses to the field's value;
- raw (with --raw) a substring of the source file's text that parses to the record;
- account, region and dt the record's recipientAccountId, awsRegion and UTC date of eventTime;
- the rows of each file in eventTime order.
Prints "ok N" and exits 0, or prints the differences and exits 1.
"""
import datetime
import gzip
import json
import os
import sys

import duckdb

JSON_TEXT = {"requestparameters", "responseelements", "additionaleventdata",
             "serviceeventdetails", "edgedevicedetails"}


def sources(root):
    for d, _, files in os.walk(root):
        for f in sorted(files):
            if "CloudTrail-Digest" in d or not (f.endswith(".json") or f.endswith(".json.gz")):
                continue
            p = os.path.join(d, f)
            data = open(p, "rb").read()
            if f.endswith(".gz"):
                data = gzip.decompress(data)
            text = data.decode("utf-8")
            doc = json.loads(text)
            if isinstance(doc, dict) and isinstance(doc.get("Records"), list):
                for r in doc["Records"]:
                    yield p, text, r


def lookup(obj, name):
    """The value of the key whose lower-case spelling is `name` (missing: None)."""
    for k, v in obj.items():
        if k.lower() == name:
            return v
    return None


def as_string(v):
    if v is None:
        return None
    if isinstance(v, str):
        return v
    return v  # compared by JSON value below


def check_value(path, got, want, problems, duck_type):
    """`got` is what DuckDB returned, `want` the record's value."""
    if want is None:
        if got is not None:
            problems.append(f"{path}: want NULL, got {got!r}")
        return
    if isinstance(duck_type, dict):  # struct
        if not isinstance(want, dict):
            if got is not None:
                problems.append(f"{path}: want NULL (not an object), got {got!r}")
            return
        if got is None:
            problems.append(f"{path}: want a struct, got NULL")
            return
        for name, sub in duck_type.items():
            check_value(f"{path}.{name}", got.get(name), lookup(want, name), problems, sub)
        return
    if isinstance(duck_type, list):  # list of structs
        if not isinstance(want, list):
            if got is not None:
                problems.append(f"{path}: want NULL (not a list), got {got!r}")
            return
        if got is None or len(got) != len(want):
            problems.append(f"{path}: want {len(want)} items, got {got!r}")
            return
        for i, (g, w) in enumerate(zip(got, want)):
            check_value(f"{path}[{i}]", g, w if isinstance(w, dict) else None, problems, duck_type[0])
        return
    if duck_type == "MAP":
        if not isinstance(want, dict):
            if got is not None:
                problems.append(f"{path}: want NULL (not an object), got {got!r}")
            return
        if isinstance(got, dict) and set(got.keys()) == {"key", "value"} and isinstance(got["key"], list):
            got = dict(zip(got["key"], got["value"]))
        for k, w in want.items():
            check_value(f"{path}[{k}]", (got or {}).get(k), w, problems, "VARCHAR")
        if got is not None and set(got) != set(want):
            problems.append(f"{path}: keys {sorted(got)} != {sorted(want)}")
        return
    if duck_type == "BOOLEAN":
        want_b = want if isinstance(want, bool) else None
        if got != want_b:
            problems.append(f"{path}: want {want_b!r}, got {got!r}")
        return
    # VARCHAR
    if isinstance(want, str):
        if got != want:
            problems.append(f"{path}: want {want!r}, got {got!r}")
    elif got is None or json.loads(got) != want:
        problems.append(f"{path}: want the JSON text of {want!r}, got {got!r}")


def duck_shape(t):
    """DuckDB's type string to the shape check_value walks."""
    t = t.strip()
    if t.endswith("[]"):
        return [duck_shape(t[:-2])]
    if t.startswith("STRUCT("):
        inner = t[len("STRUCT("):-1]
        out = {}
        for part in split_top(inner):
            name, _, ty = part.strip().partition(" ")
            out[name.strip('"')] = duck_shape(ty)
        return out
    if t.startswith("MAP("):
        return "MAP"
    return t


def split_top(s):
    depth, cur, out = 0, "", []
    for ch in s:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    if cur:
        out.append(cur)
    return out


def main():
    lake, archive = sys.argv[1], sys.argv[2]
    raw = "--raw" in sys.argv
    con = duckdb.connect()
    src = (f"read_parquet('{lake}/*/*/*/*.parquet', hive_partitioning = true, filename = true, "
           f"file_row_number = true, hive_types = {{'account': VARCHAR, 'region': VARCHAR, 'dt': VARCHAR}})")
    desc = con.sql(f"DESCRIBE SELECT * FROM {src}").fetchall()
    shapes = {name: duck_shape(ty) for name, ty, *_ in desc}
    cur = con.sql(f"SELECT * FROM {src} ORDER BY filename, file_row_number")
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r)) for r in cur.fetchall()]
    problems = []
    records = list(sources(archive))
    by_id = {}
    for p, text, r in records:
        by_id.setdefault(r.get("eventID"), []).append((p, text, r))
    seen = {}
    last = {}
    for row in rows:
        eid = row["eventid"]
        cands = by_id.get(eid, [])
        seen[eid] = seen.get(eid, 0) + 1
        if not cands:
            problems.append(f"{eid}: in the lake, not in the archive")
            continue
        p, text, rec = cands[0]
        if raw:
            if row["raw"] not in text:
                problems.append(f"{eid}: raw is not the record's text in {p}")
            if json.loads(row["raw"]) != rec:
                problems.append(f"{eid}: raw does not parse to the record")
            match = [c for c in cands if json.loads(row["raw"]) == c[2]]
            if match:
                p, text, rec = match[0]
        for name, shape in shapes.items():
            if name in ("account", "region", "dt", "filename", "file_row_number", "raw"):
                continue
            want = lookup(rec, name)
            if name in JSON_TEXT:
                got = row[name]
                if want is None:
                    if got is not None:
                        problems.append(f"{eid}.{name}: want NULL, got {got!r}")
                elif got is None or json.loads(got) != want or got not in text:
                    problems.append(f"{eid}.{name}: not the record's own text: {got!r}")
                continue
            check_value(f"{eid}.{name}", row[name], want, problems, shape)
        t = rec.get("eventTime")
        dt = datetime.datetime.fromisoformat(t.replace("Z", "+00:00")).astimezone(datetime.timezone.utc)
        want_parts = (rec.get("recipientAccountId"), rec.get("awsRegion"), dt.strftime("%Y-%m-%d"))
        got_parts = (row["account"], row["region"], row["dt"])
        if want_parts != got_parts:
            problems.append(f"{eid}: partition {got_parts} != {want_parts}")
        prev = last.get(row["filename"])
        if prev is not None and prev > dt:
            problems.append(f"{eid}: {row['filename']} is not in eventTime order")
        last[row["filename"]] = dt
    want_ids = {}
    for _, _, r in records:
        want_ids[r.get("eventID")] = want_ids.get(r.get("eventID"), 0) + 1
    if seen != want_ids and "--allow-missing" not in sys.argv:
        missing = [k for k in want_ids if seen.get(k, 0) != want_ids[k]]
        problems.append(f"{len(missing)} eventIDs not in the lake as often as in the archive, e.g. {missing[:3]}")
    if problems:
        print("\n".join(problems[:20]))
        print(f"{len(problems)} problems")
        sys.exit(1)
    print(f"ok {len(rows)}")


if __name__ == "__main__":
    main()
