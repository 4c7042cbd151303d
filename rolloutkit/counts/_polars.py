"""The definition compiled to polars expressions: lazy queries over the rows, run on polars' streaming engine.

The daily counts and the session counts are collected one after the other, each streaming over the rows, so the
rows are never held in memory at once (100M rows: under 5 GB, against ~15 GB collected together in memory).
"""

from __future__ import annotations

import polars as pl

from rolloutkit.counts._definition import Check, Condition, Definition, Measure
from rolloutkit.counts._zones import DAY_US

_US, _DAY, _SEG = "rk_us", "rk_day", "rk_seg"


def condition(c: Condition) -> pl.Expr:
    col = pl.col(c.column)
    if c.op == "true":
        return col
    if c.op == "equals":
        return col == c.value
    if c.op == "above":
        return col > c.value
    if c.op == "same":
        return col == pl.col(str(c.value))
    if c.op == "null":
        return col.is_null()
    return col.is_not_null() & ~col.is_in(list(c.values))


def _measure(m: Measure) -> pl.Expr:
    if m.agg == "rows":
        expr = pl.len()
    elif m.agg == "count_if":
        expr = condition(m.when).sum()
    elif m.agg == "count":
        expr = pl.col(m.column).count()
    else:
        value = pl.col(m.column).cast(pl.Float64)
        expr = (value * value if m.agg == "sum_squares" else value).sum()
    return expr.cast(pl.Float64 if m.is_float else pl.Int64).alias(m.name)


def _lookup(bounds: list[int], values: list, at: pl.Expr) -> pl.Expr:
    """values[i] where i is the number of `bounds` at or before `at` (so len(values) == len(bounds) + 1): the SQL's
    CASE, latest bound first, as a when/then chain (which streams, where a lookup in a literal series does not)."""
    expr = pl.when(at >= bounds[-1]).then(pl.lit(values[-1]))
    for k in range(len(bounds) - 2, -1, -1):
        expr = expr.when(at >= bounds[k]).then(pl.lit(values[k + 1]))
    return expr.otherwise(pl.lit(values[0]))


def micros(column: str = "ts") -> pl.Expr:
    """Microseconds since the epoch; a timestamp without a zone is UTC."""
    return pl.col(column).dt.epoch("us")


def counts(defn: Definition, rows: pl.LazyFrame) -> pl.DataFrame:
    """The counts of `rows` (a frame with the definition's columns), sorted by their key."""
    w = defn.window
    us = pl.col(_US)
    if w.changes:
        offset = _lookup([i for i, _ in w.changes], [w.first, *(o for _, o in w.changes)], us)
    else:
        offset = pl.lit(w.first, dtype=pl.Int64)
    timed = (rows.select(*defn.columns, micros().alias(_US))
             .with_columns(((us + offset) // DAY_US).alias(_DAY))
             .filter(us >= w.start_us, pl.col(_DAY) <= defn.last_day))
    segmented = defn.flags_us is not None
    if segmented:
        seg = _lookup(list(defn.flags_us), list(range(len(defn.flags_us) + 1)), us) if defn.flags_us else pl.lit(0)
        timed = timed.with_columns(seg.cast(pl.Int64).alias(_SEG))
    keys = [_DAY, _SEG, defn.group] if segmented else [_DAY, defn.group]
    queries = [timed.group_by(keys).agg(_measure(m) for m in defn.measures)]
    if defn.sessions:
        session_id, fallback = defn.session_key
        # grouped by a 64-bit hash of the id, as the canary phase does: several times faster than text keys
        session = (pl.when(pl.col(session_id).is_not_null()).then(pl.col(session_id).cast(pl.String).hash())
                   .otherwise(pl.col(fallback).cast(pl.String).hash()))
        queries.append(timed.filter(pl.col("arm") == "agent")
                       .group_by(session.alias("rk_session"))
                       .agg(pl.col(_DAY, _SEG).min(), *(pl.col(s.column).sum() for s in defn.sessions))
                       .group_by(_DAY, _SEG)
                       .agg((pl.col(s.column) > s.limit).sum().cast(pl.Int64).alias(s.name) for s in defn.sessions)
                       .with_columns(pl.lit("agent").alias("arm")))
    found = [q.collect(engine="streaming") for q in queries]
    daily = found[0].with_columns(pl.col(defn.group).cast(pl.String))
    if defn.sessions:
        daily = (daily.join(found[1], on=keys, how="left")
                 .with_columns(pl.col(s.name).fill_null(0) for s in defn.sessions))
    day = pl.col(_DAY).cast(pl.Int32).cast(pl.Date).alias("day")
    if segmented:
        starts = pl.lit(pl.Series([None, *defn.flags_us], dtype=pl.Int64)).gather(pl.col(_SEG))
        daily = daily.with_columns(starts.cast(pl.Datetime("us", "UTC")).alias("segment_start"))
    return daily.with_columns(day).select(defn.output).sort(defn.output[:len(keys)])


def profile(checks: tuple[Check, ...], rows: pl.LazyFrame) -> tuple[int, int | None, int | None, tuple[int, ...]]:
    """Rows, first and last instant (microseconds), and how many rows break each check, in one pass."""
    us = micros()
    found = rows.select(pl.len().alias("rows"), us.min().alias("first"), us.max().alias("last"),
                        *(condition(c.offending).sum().cast(pl.Int64).alias(f"c{i}")
                          for i, c in enumerate(checks))).collect().row(0)
    return found[0], found[1], found[2], tuple(found[3:])


def examples(check: Check, rows: pl.LazyFrame, limit: int = 5) -> list:
    """A few values of the rows that break a check."""
    return rows.filter(condition(check.offending)).select(check.column).head(limit).collect().to_series().to_list()
