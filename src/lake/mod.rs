//! The Parquet lake: records written as Athena's CloudTrail table, Hive-partitioned by
//! account, region and day, for DuckDB, Athena, Trino and Spark.

pub mod arrow;
pub mod ddl;
pub mod manifest;
pub mod parse;
pub mod rows;
pub mod schema;
pub mod writer;
