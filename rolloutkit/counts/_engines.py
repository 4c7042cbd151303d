"""The engines that run the definition: polars (in process, the default), DuckDB (local data larger than memory)
and Spark (a lake or a cluster). Each opens a `Source`, reports its column kinds, runs the profile pass (rows,
first and last instant, rule breaks) and the counts; DuckDB and Spark run the SQL that `_sql` generates in their
dialect, polars the expressions of `_polars`. duckdb and pyspark are imported here, inside the runner that needs
them.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
import warnings
from collections.abc import Callable, Iterator
from typing import Any, Literal

import polars as pl

from rolloutkit.counts import _polars, _sql
from rolloutkit.counts._definition import Check, Definition, Kind
from rolloutkit.counts._sources import Source
from rolloutkit.errors import DataError, RolloutkitError

Engine = Literal["polars", "duckdb", "spark"]
ENGINES: tuple[Engine, ...] = ("polars", "duckdb", "spark")
#: What the profile pass returns: rows, first and last instant (µs, None when empty), rule breaks per check.
Profile = tuple[int, int | None, int | None, tuple[int, ...]]
_VIEW = "rk_source"


class PolarsRunner:
    name: Engine = "polars"

    def __init__(self, rows: pl.LazyFrame, label: str) -> None:
        self.rows, self.label, self.sql, self.plan = rows, label, None, None

    def schema(self) -> dict[str, Kind]:
        try:
            schema = self.rows.collect_schema()
        except (OSError, pl.exceptions.PolarsError) as exc:
            raise DataError(self.label, f"cannot be read: {exc}") from None
        return {name: _polars_kind(dtype) for name, dtype in schema.items()}

    def profile(self, checks: tuple[Check, ...]) -> Profile:
        return self._read(_polars.profile, checks)

    def examples(self, check: Check) -> list:
        return self._read(_polars.examples, check)

    def counts(self, defn: Definition) -> pl.DataFrame:
        return self._read(_polars.counts, defn)

    def _read(self, compute: Callable[[Any, pl.LazyFrame], Any], spec: Any) -> Any:
        try:
            return compute(spec, self.rows)
        except (OSError, pl.exceptions.PolarsError) as exc:
            raise DataError(self.label, f"cannot be counted with polars: {exc}") from None

    def close(self) -> None:
        pass


class SqlRunner:
    """DuckDB or Spark: the definition as SQL in the engine's dialect over a view of the source."""

    def __init__(self, name: Engine, run: Callable[..., pl.DataFrame], columns: dict[str, Kind], label: str,
                 close: Callable[[], None] | None = None) -> None:
        self.name, self._run, self._columns, self.label, self._close = name, run, columns, label, close
        self.sql: str | None = None
        self.plan: str | None = None

    def schema(self) -> dict[str, Kind]:
        return self._columns

    def _query(self, query: Any) -> pl.DataFrame:
        return self._run(_sql.generate(query, self.name, pretty=False))

    def profile(self, checks: tuple[Check, ...]) -> Profile:
        row = self._query(_sql.profile_query(checks, _sql.table_name(_VIEW, self.name))).row(0)
        return int(row[0]), row[1], row[2], tuple(int(v or 0) for v in row[3:])

    def examples(self, check: Check) -> list:
        return self._query(_sql.examples_query(check, _sql.table_name(_VIEW, self.name))).to_series().to_list()

    def counts(self, defn: Definition) -> pl.DataFrame:
        query = _sql.counts_query(defn, _sql.table_name(_VIEW, self.name), stamp=False)
        self.sql = _sql.generate(query, self.name)
        return self._run(self.sql, explain=True)

    def close(self) -> None:
        if self._close:
            self._close()


Runner = PolarsRunner | SqlRunner


@contextlib.contextmanager
def open_runner(engine: str, source: Source, *, rows: pl.LazyFrame | None = None, spark: Any = None,
                spark_master: str = "local[2]", duckdb_memory: str | None = "3GB") -> Iterator[Runner]:
    """The engine, reading `source` (for polars, `rows` when the workspace has already validated them)."""
    if engine not in ENGINES:
        raise RolloutkitError(f"`--engine` must be one of {', '.join(ENGINES)}, got {engine!r}")
    if source.kind not in ("files", engine):
        raise RolloutkitError(f"`--source` {source.uri!r} is a {source.kind} source; run it with `--engine "
                              f"{source.kind}`")
    if engine == "polars":
        runner: Runner = PolarsRunner(rows if rows is not None else _polars_scan(source), source.label)
    elif engine == "duckdb":
        runner = _duckdb(source, duckdb_memory)
    else:
        runner = _spark(source, spark, spark_master)
    try:
        yield runner
    finally:
        runner.close()


def _polars_scan(source: Source) -> pl.LazyFrame:
    path = f"{source.path}/**/*.parquet" if source.folder else source.path
    try:
        if source.format == "parquet":
            return pl.scan_parquet(path, hive_partitioning=source.folder or None)
        if source.format == "csv":
            return pl.scan_csv(path, try_parse_dates=True)
        return pl.scan_ndjson(path, infer_schema_length=None)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise DataError(source.label, f"cannot be read: {exc}") from None


def _polars_kind(dtype: pl.DataType) -> Kind:
    if isinstance(dtype, pl.Datetime):
        return "datetime"
    if isinstance(dtype, pl.Date):
        return "date"
    if dtype == pl.Boolean:
        return "bool"
    if dtype == pl.String or isinstance(dtype, pl.Enum | pl.Categorical):
        return "str"
    if dtype.is_integer():
        return "int"
    if dtype.is_float() or isinstance(dtype, pl.Decimal):
        return "float"
    return "null" if dtype == pl.Null else "other"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _duckdb(source: Source, memory: str | None) -> SqlRunner:
    import duckdb

    con = duckdb.connect()
    spill = tempfile.TemporaryDirectory(prefix="rolloutkit-duckdb-")
    settings = {"TimeZone": "UTC", "temp_directory": spill.name, "preserve_insertion_order": False}
    if memory:
        settings["memory_limit"] = memory
    for key, value in settings.items():
        con.execute(f"SET {key} = {_quote(value) if isinstance(value, str) else value}")
    if source.kind == "duckdb":
        con.execute(f"ATTACH {_quote(source.database)} AS rk_db (READ_ONLY)")
        origin = f"rk_db.{source.table}"
    elif source.format == "parquet":
        path = f"{source.path}/**/*.parquet" if source.folder else source.path
        origin = f"read_parquet({_quote(path)}, hive_partitioning = {str(source.folder).lower()}, union_by_name = true)"
    elif source.format == "csv":
        origin = f"read_csv({_quote(source.path)}, header = true, union_by_name = true)"
    else:
        origin = f"read_json({_quote(source.path)}, format = 'newline_delimited', union_by_name = true)"

    def close() -> None:
        con.close()
        spill.cleanup()

    try:
        con.execute(f"CREATE TEMP VIEW {_VIEW} AS SELECT * FROM {origin}")
        columns = {name: _duckdb_kind(kind) for name, kind, *_ in con.execute(f"DESCRIBE {_VIEW}").fetchall()}
    except duckdb.Error as exc:
        close()
        raise DataError(source.label, f"cannot be read: {exc}") from None

    def run(sql: str, explain: bool = False) -> pl.DataFrame:
        try:
            return con.sql(sql).pl()
        except duckdb.Error as exc:
            raise DataError(source.label, f"cannot be counted with DuckDB: {exc}") from None

    return SqlRunner("duckdb", run, columns, source.label, close)


def _duckdb_kind(kind: str) -> Kind:
    kind = kind.upper()
    if kind.startswith("TIMESTAMP"):
        return "datetime"
    if kind == "DATE":
        return "date"
    if kind == "BOOLEAN":
        return "bool"
    if kind == "VARCHAR" or kind.startswith("ENUM"):
        return "str"
    if kind in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                "UBIGINT", "UHUGEINT"):
        return "int"
    if kind in ("FLOAT", "DOUBLE", "REAL") or kind.startswith("DECIMAL"):
        return "float"
    return "null" if kind in ("NULL", '"NULL"') else "other"


def spark_session(master: str = "local[2]") -> Any:
    """A Spark session for counting: UTC session zone, no UI or progress bars, quiet logs."""
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master(master).appName("rolloutkit counts")
             .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.session.timeZone", "UTC").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _spark(source: Source, spark: Any, master: str) -> SqlRunner:
    from pyspark.errors import PySparkException

    own = spark is None
    spark = spark if spark is not None else spark_session(master)
    try:
        if source.table:
            frame = spark.table(source.table)
        elif source.format == "parquet":
            frame = spark.read.parquet(source.path)
        elif source.format == "csv":
            frame = spark.read.csv(source.path, header=True, inferSchema=True)
        else:
            frame = spark.read.json(source.path)
    except PySparkException as exc:
        if own:
            spark.stop()
        raise DataError(source.label, f"cannot be read by Spark: {str(exc).splitlines()[0]}") from None
    frame.createOrReplaceTempView(_VIEW)
    columns = {field.name: _spark_kind(field.dataType.typeName()) for field in frame.schema.fields}
    runner: SqlRunner

    def run(sql: str, explain: bool = False) -> pl.DataFrame:
        try:
            result = spark.sql(sql)
            if explain:
                shown = io.StringIO()
                with contextlib.redirect_stdout(shown):
                    result.explain()
                runner.plan = shown.getvalue()
            with warnings.catch_warnings():  # Arrow, not pandas, carries the result
                warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas", FutureWarning)
                return pl.from_arrow(result.toArrow())
        except PySparkException as exc:
            raise DataError(source.label, f"cannot be counted with Spark: {str(exc).splitlines()[0]}") from None

    def close() -> None:
        spark.catalog.dropTempView(_VIEW)
        if own:
            spark.stop()

    runner = SqlRunner("spark", run, columns, source.label, close)
    return runner


def _spark_kind(name: str) -> Kind:
    if name.startswith("timestamp"):
        return "datetime"
    if name == "date":
        return "date"
    if name == "boolean":
        return "bool"
    if name in ("string", "varchar", "char"):
        return "str"
    if name in ("long", "integer", "short", "byte"):
        return "int"
    if name in ("double", "float") or name.startswith("decimal"):
        return "float"
    return "null" if name in ("void", "null") else "other"
