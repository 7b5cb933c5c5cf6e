//! The Parquet lake: records written as Athena's CloudTrail table, Hive-partitioned by
//! account, region and day, for DuckDB, Athena, Trino and Spark.

pub mod schema;
