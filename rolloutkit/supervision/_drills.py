"""Rollback drills: how long the flag took from the command to 0% of traffic, against the 60-second target.

Every `flags` row with `zero_at` is a measured rollback: `ts` is when the command was given, `zero_at` when the
share actually reached 0%. Real rollbacks count as much as drills (both show whether the switch works); `kind` tells
them apart by the word "drill" in `reason`, which itself is never shown.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import polars as pl

from rolloutkit.errors import DataError
from rolloutkit.workspace import Workspace

__all__ = ["TARGET_SECONDS", "DrillStatus", "drill_status", "drills"]

#: The playbook's target: the flag reaches 0% in under 60 seconds.
TARGET_SECONDS = 60.0
DRILL_SCHEMA = {"ts": pl.Datetime("us", "UTC"), "day": pl.Date, "actor": pl.String, "kind": pl.String,
                "seconds_to_zero": pl.Float64, "within_target": pl.Boolean}


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


@dataclass(frozen=True)
class DrillStatus:
    """The latest measured rollback and whether drilling is current (at least one every `max_days_between`)."""

    as_of: dt.date
    count: int
    within_target: int
    last_day: dt.date | None
    last_seconds: float | None
    last_within_target: bool | None
    days_since_last: int | None
    max_days_between: int
    target_seconds: float

    @property
    def overdue(self) -> bool:
        return self.days_since_last is None or self.days_since_last > self.max_days_between

    def to_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "count": self.count, "within_target": self.within_target,
                "last_day": self.last_day.isoformat() if self.last_day else None,
                "last_seconds": self.last_seconds, "last_within_target": self.last_within_target,
                "days_since_last": self.days_since_last, "max_days_between": self.max_days_between,
                "target_seconds": self.target_seconds, "overdue": self.overdue}

    def describe(self) -> str:
        if self.last_day is None:
            return "No rollback has been drilled yet."
        verdict = "within" if self.last_within_target else "over"
        overdue = f"; overdue (drill every {self.max_days_between} days)" if self.overdue else ""
        return (f"{self.count} rollback(s) measured, {self.within_target} within {self.target_seconds:g} s; "
                f"the last on {self.last_day.isoformat()} ({self.days_since_last} days ago) took "
                f"{self.last_seconds:.0f} s, {verdict} target{overdue}.")


def drill_status(measured: pl.DataFrame, *, as_of: dt.date, max_days_between: int = 30,
                 target_seconds: float = TARGET_SECONDS) -> DrillStatus:
    """Summarise `drills(...)`: the last drill, its time, and whether one is due (none in `max_days_between`)."""
    if measured.is_empty():
        return DrillStatus(as_of, 0, 0, None, None, None, None, max_days_between, target_seconds)
    last = measured.row(-1, named=True)
    return DrillStatus(as_of, measured.height, int(measured["within_target"].sum()), last["day"],
                       float(last["seconds_to_zero"]), bool(last["within_target"]), (as_of - last["day"]).days,
                       max_days_between, target_seconds)
