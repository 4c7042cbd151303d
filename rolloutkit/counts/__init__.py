"""Daily counts computed where the rows live: `canary_daily` and `shadow_daily` on polars, DuckDB or Spark, and the
same aggregation as SQL for a warehouse (DuckDB, Spark, BigQuery, Snowflake, Trino, Postgres).

Every decision rolloutkit makes is computed on daily counts, so a team whose interactions live in a warehouse or a
lake hands over one small table instead of billions of rows:

- `compute(ws, "canary_daily", engine="duckdb", source="lake/canary/*.parquet")` returns the counts as a frame;
  `write(ws, ...)` writes `canary_daily.parquet` (and `shadow_daily.parquet`) into the workspace —
  `rolloutkit counts WS --engine duckdb --source ...` on the command line;
- `sql(ws, dialect="bigquery", table="analytics.agent_interactions")` prints the aggregation for a scheduled query
  or a dbt model — `rolloutkit sql WS --dialect bigquery --table ...`; its result is a valid `canary_daily`.

There is one definition of the aggregation (`_definition`), compiled to polars expressions (`_polars`) and, with
sqlglot, to each SQL dialect (`_sql`); DuckDB and Spark run the SQL of their dialect. Local days come from UTC
epoch microseconds plus the charter zone's UTC offsets over the query window, taken from zoneinfo and written as
literals (`_zones`), and flag segments from a CASE over the flag instants — no session time zone takes part, so
every engine and dialect buckets a row at 23:59:59.999999 local time, or one exactly at a flag change, the same way.
"""

from rolloutkit.counts._definition import TABLES
from rolloutkit.counts._engines import ENGINES, spark_session
from rolloutkit.counts._run import Counts, compute, sql, write
from rolloutkit.counts._sources import Source, parse_source
from rolloutkit.counts._sql import DIALECTS

__all__ = ["DIALECTS", "ENGINES", "TABLES", "Counts", "Source", "compute", "parse_source", "spark_session", "sql",
           "write"]
