"""Rollback drills: how long the flag took from the command to 0% of traffic, against the 60-second target.

Every `flags` row with `zero_at` is a measured rollback: `ts` is when the command was given, `zero_at` when the
share actually reached 0%. Real rollbacks count as much as drills (both show whether the switch works); `kind` tells
them apart by the word "drill" in `reason`, which itself is never shown.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from rolloutkit.errors import DataError
from rolloutkit.supervision._results import DRILL_SCHEMA, TARGET_SECONDS, DrillStatus
from rolloutkit.workspace import Workspace


def drills(ws: Workspace, *, as_of: dt.date | str | None = None,
           target_seconds: float = TARGET_SECONDS) -> pl.DataFrame:
    """One row per measured rollback up to `as_of`: ts, day, actor, kind, seconds_to_zero, within_target.

    Empty when the flags table has no `zero_at` column. Raises `DataError` when `zero_at` is before `ts`.
    """
    day = ws.resolve_as_of(as_of)
    flags = ws.table("flags")
    if "zero_at" not in flags.collect_schema():
        return pl.DataFrame(schema=DRILL_SCHEMA)
    measured = (flags.filter(pl.col("zero_at").is_not_null() & (pl.col("day") <= day))
                .with_columns(seconds_to_zero=(pl.col("zero_at") - pl.col("ts")).dt.total_seconds(fractional=True))
                .collect())
    backwards = measured.filter(pl.col("seconds_to_zero") < 0)
    if backwards.height:
        raise DataError("flags", "must not be before `ts` (the flag cannot reach 0% before the command)",
                        column="zero_at", examples=backwards["ts"].dt.to_string().head(3).to_list())
    return (measured.with_columns(
        kind=pl.when(pl.col("reason").str.to_lowercase().str.contains("drill", literal=True))
        .then(pl.lit("drill")).otherwise(pl.lit("rollback")),
        within_target=pl.col("seconds_to_zero") < target_seconds,
    ).sort("ts").select(list(DRILL_SCHEMA)))


def drill_status(measured: pl.DataFrame, *, as_of: dt.date, max_days_between: int = 30,
                 target_seconds: float = TARGET_SECONDS) -> DrillStatus:
    """Summarise `drills(...)`: the last drill, its time, and whether one is due (none in `max_days_between`)."""
    common = {"as_of": as_of, "max_days_between": max_days_between, "target_seconds": target_seconds}
    if measured.is_empty():
        return DrillStatus(count=0, within_target=0, last_day=None, last_seconds=None, last_within_target=None,
                           days_since_last=None, **common)
    last = measured.row(-1, named=True)
    return DrillStatus(count=measured.height, within_target=int(measured["within_target"].sum()),
                       last_day=last["day"], last_seconds=float(last["seconds_to_zero"]),
                       last_within_target=bool(last["within_target"]), days_since_last=(as_of - last["day"]).days,
                       **common)
