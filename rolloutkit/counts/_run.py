"""Counts for a workspace: find the rows, check them, fix the window and the flag segments, run an engine, write
the counts files; or print the same aggregation as SQL for a warehouse."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from rolloutkit import tables
from rolloutkit.counts import _definition, _sql
from rolloutkit.counts._definition import COLUMNS, ROWS, TABLES, Definition, Table
from rolloutkit.counts._engines import Engine, open_runner
from rolloutkit.counts._sources import Source, parse_source, workspace_source
from rolloutkit.counts._zones import local_date, midnight_us, window
from rolloutkit.errors import DataError, MissingTableError, RolloutkitError
from rolloutkit.workspace import Workspace

_UTC = pl.Datetime("us", "UTC")
#: How far `rolloutkit sql` reaches before the first flag and after today when not told: the SQL is regenerated
#: at every flag change anyway, since the flag times are in it.
_SQL_REACH = dt.timedelta(days=365)


@dataclass(frozen=True, kw_only=True)
class Counts:
    """One counts table computed by an engine: the frame in the contract's shape, where it came from, how long it
    took; `sql` is the SQL DuckDB or Spark ran, `plan` Spark's physical plan."""

    table: Table
    frame: pl.DataFrame
    engine: Engine
    source: str
    rows: int
    as_of: dt.date
    seconds: float
    sql: str | None = None
    plan: str | None = None

    def describe(self) -> str:
        return (f"{self.table}: {self.frame.height:,} rows of counts from {self.rows:,} {ROWS[self.table]} rows "
                f"({self.source}) through {self.as_of}, {self.engine}, {self.seconds:.1f} s")


def compute(ws: Workspace, table: Table = "canary_daily", *, engine: Engine = "polars",
            source: str | Source | None = None, as_of: str | dt.date | None = None, spark: Any = None,
            spark_master: str = "local[2]", duckdb_memory: str | None = "3GB") -> Counts:
    """Daily counts of the workspace's rows (or of `source`) as of a day (None: the last day in the rows).

    `engine` is polars (in process, the workspace's validated table), duckdb (local data larger than memory; it
    spills to disk beyond `duckdb_memory`, None for DuckDB's own limit of 80% of RAM) or spark (`spark`: a session
    to use; otherwise one on `spark_master`). Rows are checked for the rules a count
    depends on (empty times, arms, outcomes; arms outside agent/human; failure modes not in the charter) in the
    same pass that finds their span; the counts are then checked against the `table` contract.
    """
    if table not in TABLES:
        raise RolloutkitError(f"counts table must be one of {', '.join(TABLES)}, got {table!r}")
    started = time.perf_counter()
    rows_table = ROWS[table]
    validated = None
    if source is None:
        if not ws.has(rows_table):
            raise MissingTableError(f"{ws.path.name}: no `{rows_table}` table to count (looked for "
                                    f"{rows_table}.parquet, .csv, .ndjson or a folder {rows_table}/); "
                                    "give one with --source", table=rows_table)
        source = workspace_source(ws.files[rows_table])
        if engine == "polars":
            validated = ws.table(rows_table)
    elif isinstance(source, str):
        source = parse_source(source)
    charter = ws.charter
    with open_runner(engine, source, rows=validated, spark=spark, spark_master=spark_master,
                     duckdb_memory=duckdb_memory) as runner:
        columns = _definition.check_columns(table, runner.schema(), source.label)
        rules = _definition.checks(table, charter, columns)
        n, first, last, broken = runner.profile(rules)
        for rule, count in zip(rules, broken, strict=True):
            if count:
                raise DataError(source.label, f"{rule.text} — {count:,} row{'s' if count != 1 else ''}",
                                column=rule.column, examples=list(dict.fromkeys(runner.examples(rule))),
                                total_rows=count)
        if as_of is not None or last is None:
            day = ws.resolve_as_of(as_of)
        else:
            day = local_date(charter.timezone, last)
        offsets = window(charter.timezone, first if first is not None else midnight_us(charter.timezone, day), day)
        if table == "canary_daily":
            defn = _definition.canary(charter, columns, flags_us=_flag_times(ws, day), window=offsets, last_day=day)
        else:
            defn = _definition.shadow(columns, window=offsets, last_day=day)
        frame = _typed(runner.counts(defn), defn)
        sql, plan = runner.sql, runner.plan
    stamped = frame.with_columns(pl.lit(dt.datetime.now(dt.UTC), dtype=_UTC).alias("computed_at"))
    return Counts(table=table, frame=stamped, engine=runner.name, source=source.uri, rows=n, as_of=day,
                  seconds=time.perf_counter() - started, sql=sql, plan=plan)


def write(ws: Workspace, *, engine: Engine = "polars", source: str | None = None, shadow_source: str | None = None,
          as_of: str | dt.date | None = None, out: str | Path | None = None, spark_master: str = "local[2]",
          spark: Any = None, duckdb_memory: str | None = "3GB",
          progress: Callable[[str], None] | None = None) -> tuple[Counts, ...]:
    """Compute and write `canary_daily.parquet` (and `shadow_daily.parquet` where shadow rows exist) into `out`
    (default: the workspace). Each file is checked against its contract before it replaces an older one."""
    target = Path(out) if out is not None else ws.path
    target.mkdir(parents=True, exist_ok=True)
    wanted: list[tuple[Table, str | None]] = []
    if source is not None or ws.has("canary"):
        wanted.append(("canary_daily", source))
    if shadow_source is not None or ws.has("shadow"):
        wanted.append(("shadow_daily", shadow_source))
    if not wanted:
        raise MissingTableError(f"{ws.path.name}: no canary or shadow rows to count; give them with --source",
                                table="canary")
    if target.resolve() == ws.path.resolve() and ws.has("canary") and wanted[0][0] == "canary_daily":
        # a workspace holds rows or counts for the canary, never both (they could disagree)
        raise RolloutkitError(
            f"{ws.path.name}: holds canary rows ({ws.files['canary'].name}), so canary_daily.parquet beside them "
            "would give it both; write the counts to another workspace folder with --out DIR (with this "
            "charter.yaml), or move the rows out and count them with --source PATH")
    own_spark = engine == "spark" and spark is None
    if own_spark:  # one session for both tables
        from rolloutkit.counts._engines import spark_session

        spark = spark_session(spark_master)
    done = []
    try:
        for table, uri in wanted:
            if progress:
                progress(f"{table}: counting {ROWS[table]} rows from {uri or ws.files[ROWS[table]].name} "
                         f"with {engine}…")
            counts = compute(ws, table, engine=engine, source=uri, as_of=as_of, spark=spark,
                             duckdb_memory=duckdb_memory)
            _replace(target, table, counts.frame, ws.charter.failure_mode_names)
            done.append(counts)
            if progress:
                progress(f"{counts.describe()} → {target / f'{table}.parquet'}")
    finally:
        if own_spark:
            spark.stop()
    return tuple(done)


def sql(ws: Workspace, *, dialect: str, table: str | None = None, counts: Table = "canary_daily",
        as_of: str | dt.date | None = None, since: str | dt.date | None = None, until: str | dt.date | None = None,
        columns: Sequence[str] | None = None) -> str:
    """The counts aggregation as SQL in `dialect`, reading the rows from `table` (default `canary` or `shadow`).

    Its result is a valid `counts` table (`canary_daily` by default). The flag times (flags as of `as_of`, default
    all) and the zone's UTC offsets from `since` to `until` are literals in it, so regenerate it when a flag
    changes; interactions before `since` (default: a year before the first flag) or on local days after `until`
    (default: `as_of`, else a year from today) are not counted. `columns` names the optional columns the rows
    have (default: those of the workspace's own table, else those the charter's guardrails need).
    """
    _sql.check_dialect(dialect)
    if counts not in TABLES:
        raise RolloutkitError(f"`--counts` must be one of {', '.join(TABLES)}, got {counts!r}")
    rows_table = ROWS[counts]
    source = _sql.table_name(table or rows_table, dialect)
    present = _sql_columns(ws, counts, columns)
    zone = ws.charter.timezone
    last = ws.resolve_as_of(as_of) if as_of is not None else None
    flags = _flag_times(ws, last) if counts == "canary_daily" else ()
    anchor = local_date(zone, flags[0]) if flags else dt.date.today()
    first_day = _date(since, "since") if since is not None else anchor - _SQL_REACH
    last_day = _date(until, "until") if until is not None else last or max(dt.date.today(), anchor) + _SQL_REACH
    if last_day < first_day:
        raise RolloutkitError(f"`--until` {last_day} is before `--since` {first_day}")
    offsets = window(zone, midnight_us(zone, first_day), last_day)
    if counts == "canary_daily":
        defn = _definition.canary(ws.charter, present, flags_us=flags, window=offsets, last_day=last_day)
    else:
        defn = _definition.shadow(present, window=offsets, last_day=last_day)
    return _header(ws, defn, source.sql(dialect=dialect), first_day, last_day) + _sql.generate(
        _sql.counts_query(defn, source, stamp=True), dialect) + ";\n"


def _header(ws: Workspace, defn: Definition, source: str, first: dt.date, last: dt.date) -> str:
    flags = f"{len(defn.flags_us)} flag change(s) as literals; " if defn.flags_us is not None else ""
    lines = [
        f"{defn.table} for {ws.agent}, generated by rolloutkit from {ws.path.name}/charter.yaml"
        + (" and its flags" if defn.flags_us is not None else ""),
        f"Rows: {source} ({', '.join(defn.columns)}); `ts` an instant or a UTC timestamp.",
        f"Counts interactions on local days {first} .. {last} in {defn.window.zone}; "
        f"{flags}regenerate after a flag change or past {last}.",
        f"Save the result as the workspace's {defn.table}.parquet (or .csv).",
    ]
    return "".join(f"-- {line}\n" for line in lines)


def _sql_columns(ws: Workspace, counts: Table, columns: Sequence[str] | None) -> tuple[str, ...]:
    spec = COLUMNS[counts]
    required = [name for name, (needed, _) in spec.items() if needed]
    if columns is not None:
        unknown = [c for c in columns if c not in spec]
        if unknown:
            optional = ", ".join(name for name, (needed, _) in spec.items() if not needed)
            raise RolloutkitError(f"`--columns` has {', '.join(unknown)}, which {ROWS[counts]} rows do not use; "
                                  f"optional columns are {optional}")
        have = set(required) | set(columns)
    elif ws.has(ROWS[counts]):
        have = set(tables.scan(ws.files[ROWS[counts]]).collect_schema().names())
    else:
        have = set(required)
        guard = ws.charter.guardrails
        if counts == "canary_daily" and guard:
            if guard.max_actions_per_session is not None:
                have |= {"session_id", "actions"}
            if guard.max_dollars_per_session is not None:
                have |= {"session_id", "dollars"}
            if guard.action_allowlist:
                have.add("disallowed_actions")
            if guard.review_required:
                have.add("unreviewed_irreversible")
        if counts == "canary_daily" and any(t.metric == "cost_per_task" for t in ws.charter.rollback_triggers):
            have.add("cost_usd")
    missing = [c for c in required if c not in have]
    if missing:
        raise DataError(ws.files[ROWS[counts]].name, f"is missing required column(s) {', '.join(missing)}")
    return tuple(name for name in spec if name in have)


def _date(value: str | dt.date, name: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise RolloutkitError(f"`--{name}` must be a date like 2026-11-22, got {value!r}") from None


def _flag_times(ws: Workspace, day: dt.date | None) -> tuple[int, ...]:
    """Flag times (µs) on local days up to `day` (all when None), sorted; none without a flags table."""
    if not ws.has("flags"):
        return ()
    flags = ws.table("flags")
    if day is not None:
        flags = flags.filter(pl.col("day") <= day)
    return tuple(sorted(flags.select(pl.col("ts").dt.epoch("us")).collect().to_series().to_list()))


def _typed(frame: pl.DataFrame, defn: Definition) -> pl.DataFrame:
    """The engine's result in the contract's types, sorted by the key (a null segment first)."""
    casts = [pl.col("day").cast(pl.Date), pl.col(defn.group).cast(pl.String)]
    if defn.flags_us is not None:
        start = frame.schema["segment_start"]
        aware = isinstance(start, pl.Datetime) and start.time_zone is not None
        stamp = pl.col("segment_start").cast(pl.Datetime("us", start.time_zone if aware else None))
        casts.append((stamp.dt.convert_time_zone("UTC") if aware else stamp.dt.replace_time_zone("UTC"))
                     .cast(_UTC))
    floats = set(defn.float_columns)
    keys = 3 if defn.flags_us is not None else 2
    casts += [pl.col(name).cast(pl.Float64 if name in floats else pl.Int64) for name in defn.output[keys:]]
    return frame.with_columns(casts).select(defn.output).sort(defn.output[:keys], nulls_last=False)


def _replace(target: Path, table: Table, frame: pl.DataFrame, modes: tuple[str, ...]) -> None:
    """Write `table`.parquet into `target` once it passes its contract; an older file is replaced only then."""
    staging = Path(tempfile.mkdtemp(prefix=f".{table}-", dir=target))
    try:
        path = staging / f"{table}.parquet"
        frame.write_parquet(path)
        tables.read_table(path, table, failure_modes=modes)
        os.replace(path, target / f"{table}.parquet")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
