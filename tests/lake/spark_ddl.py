#!/usr/bin/env python3
"""Runs `trailscan export --ddl spark` in local Spark over a lake and prints what Spark reads.

usage: spark_ddl.py TRAILSCAN LAKE
Creates the table with the printed statements (CREATE TABLE ... USING PARQUET PARTITIONED BY,
MSCK REPAIR TABLE), then prints one line per check: the row count, the CreateUser count, the
partitions' types, and nested reads (a struct field three levels deep, a resources element, the
attributes map), so they can be compared with `trailscan search` (see doc/lake.md).
"""
import subprocess
import sys

from pyspark.sql import SparkSession

trailscan, lake = sys.argv[1], sys.argv[2]
ddl = subprocess.run([trailscan, "export", "--ddl", "spark", "--location", f"file://{lake}"],
                     check=True, capture_output=True, text=True).stdout
spark = (SparkSession.builder.master("local[2]").appName("trailscan-ddl")
         .config("spark.ui.enabled", "false").config("spark.sql.warehouse.dir", "/tmp/trailscan-spark-wh")
         .getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
spark.sql("DROP TABLE IF EXISTS cloudtrail_logs")
for stmt in ddl.split(";"):
    lines = [l for l in stmt.strip().splitlines() if not l.startswith("--")]
    if lines:
        spark.sql("\n".join(lines))
q = lambda s: spark.sql(s).collect()
print("rows", q("SELECT count(*) FROM cloudtrail_logs")[0][0])
print("createuser", q("SELECT count(*) FROM cloudtrail_logs WHERE eventname = 'CreateUser'")[0][0])
print("types", [(f.name, f.dataType.simpleString()) for f in spark.table("cloudtrail_logs").schema.fields
                if f.name in ("account", "region", "dt", "resources", "managementevent")])
print("issuer", q("SELECT count(useridentity.sessioncontext.sessionissuer.arn) FROM cloudtrail_logs")[0][0])
print("resources", q("SELECT count(*) FROM cloudtrail_logs WHERE size(resources) > 0 AND resources[0].arn IS NOT NULL")[0][0])
print("partitions", q("SELECT count(DISTINCT account, region, dt) FROM cloudtrail_logs")[0][0])
print("accounts", sorted(r[0] for r in q("SELECT DISTINCT account FROM cloudtrail_logs"))[:3])
spark.stop()
