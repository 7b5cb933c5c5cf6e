"""Checks SQL from `trailscan sql` and `audit --emit-sql`, for tests/sql_golden.rs.

Reads {"dialect": "athena|trino|spark|duckdb", "statements": [SQL, ...], "view": SQL} on
stdin. DuckDB statements must bind in DuckDB (EXPLAIN, over empty tables of the view's columns);
every other statement must parse with sqlglot in its dialect; Trino and Athena statements must also pass
trino-sql-validator (syntax, and no call outside Trino's documented function catalog), and
Athena's function names must be in tests/sql/athena_v3_functions.txt (functions Athena engine
version 3 documents). Prints one line per problem; no output means every statement passed.
"""

import json
import os
import sys

import sqlglot
from sqlglot import exp


KEYWORDS = {
    "and", "or", "not", "in", "exists", "as", "over", "from", "where", "select", "with",
    "between", "when", "then", "else", "case", "on", "using", "values", "by", "row", "like",
}


def function_names(sql, dialect):
    """Names called in the SQL as written (sqlglot's tree renames some, e.g. substr)."""
    tokens = sqlglot.tokenize(sql, read=dialect)
    names = set()
    for tok, nxt in zip(tokens, tokens[1:]):
        if nxt.token_type == sqlglot.tokens.TokenType.L_PAREN and tok.token_type not in (
            sqlglot.tokens.TokenType.STRING,
            sqlglot.tokens.TokenType.L_PAREN,
            sqlglot.tokens.TokenType.R_PAREN,
            sqlglot.tokens.TokenType.COMMA,
        ):
            name = tok.text.lower()
            if name.isidentifier() and name not in KEYWORDS:
                names.add(name)
    return names


def check_duckdb(statements, view):
    """DuckDB itself binds each statement (EXPLAIN) against empty tables of the view's columns
    plus the lake's partitions (sqlglot's DuckDB grammar lacks inet's `<<=`)."""
    import tempfile

    import duckdb

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from duckdb_oracle import inet_path

    con = duckdb.connect()
    con.execute(f"LOAD '{inet_path()}'")
    with tempfile.TemporaryDirectory() as d:
        empty = os.path.join(d, "empty.json")
        with open(empty, "w") as f:
            f.write('{"Records":[]}')
        con.execute(view.replace("'EMPTY.json'", "'" + empty + "'"))
        con.execute(
            "CREATE TABLE cloudtrail_logs_lake AS SELECT *, '' AS account, '' AS region,"
            " '' AS dt FROM cloudtrail_logs LIMIT 0"
        )
        con.execute("CREATE SCHEMA trail")
        con.execute("CREATE TABLE trail.cloudtrail AS SELECT * FROM cloudtrail_logs_lake")
        con.execute("DROP VIEW cloudtrail_logs")
        con.execute("ALTER TABLE cloudtrail_logs_lake RENAME TO cloudtrail_logs")
        for i, sql in enumerate(statements):
            try:
                con.execute("EXPLAIN " + sql.strip().rstrip(";"))
            except Exception as e:  # reported, the test fails on it
                print(f"statement {i}: DuckDB cannot bind it: {str(e)[:300]}")


def main():
    job = json.load(sys.stdin)
    dialect = job["dialect"]
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "athena_v3_functions.txt")) as f:
        athena = {l.strip().lower() for l in f if l.strip() and not l.startswith("#")}
    used = set()
    if dialect == "duckdb":
        check_duckdb(job["statements"], job["view"])
        return
    for i, sql in enumerate(job["statements"]):
        try:
            trees = [t for t in sqlglot.parse(sql, read=dialect) if t is not None]
        except Exception as e:  # reported, the test fails on it
            print(f"statement {i}: sqlglot ({dialect}) cannot parse it: {str(e)[:300]}")
            continue
        if len(trees) != 1:
            print(f"statement {i}: {len(trees)} statements")
        names = function_names(sql, dialect)
        used |= names
        if dialect in ("trino", "athena"):
            import trino_sql_validator

            r = trino_sql_validator.validate(sql, dialect="trino")
            if not r:
                print(f"statement {i}: trino-sql-validator: {r}")
            for name in r.unknown_functions:
                print(f"statement {i}: not a documented Trino function: {name}")
        if dialect == "athena":
            for name in sorted(names - athena):
                print(f"statement {i}: not in the Athena engine 3 allow-list: {name}")
    print("#functions " + " ".join(sorted(used)))


if __name__ == "__main__":
    main()
