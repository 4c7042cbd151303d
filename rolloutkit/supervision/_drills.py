"""Rollback drills: how long the flag took from the command to 0% of traffic, against the 60-second target.

Every `flags` row with `zero_at` is a measured rollback: `ts` is when the command was given, `zero_at` when the
share actually reached 0%. Real rollbacks count as much as drills (both show whether the switch works); `kind` tells
them apart: a drill is the flag set to 0 with a drill-like reason ("drill", "exercise", "game day") and restored to
the same share on the same local day, as the canary ladder reads it. The reason itself is never shown.

`practice` lists every drill, measured or not, before and after the flag first reached 100%: the playbook
practises rollback during the canary, not for the first time at 100%.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import polars as pl

from rolloutkit.errors import DataError
from rolloutkit.supervision._results import (
    AT_FULL,
    BEFORE_FULL,
    DRILL_SCHEMA,
    PRACTICE_SCHEMA,
    TARGET_SECONDS,
    DrillStatus,
)
from rolloutkit.text import duration, plural, stage
from rolloutkit.workspace import Workspace

#: A reason that makes a flag change to 0%, restored the same day, a drill (the canary ladder's words).
DRILL_REASON = re.compile(r"drill|exercise|game ?day", re.IGNORECASE)


def classify(flags: pl.DataFrame) -> pl.DataFrame:
    """The flag history sorted by `ts` with `previous` (the share before the change), `drill` (the change is a
    drill) and `restore` (the change restores the share a drill interrupted)."""
    flags = flags.sort("ts").with_columns(previous=pl.col("traffic_share").shift(1).fill_null(0.0))
    drill = ((pl.col("traffic_share") == 0) & (pl.col("previous") > 0)
             & pl.col("reason").fill_null("").str.contains(f"(?i){DRILL_REASON.pattern}")
             & (pl.col("day").shift(-1) == pl.col("day"))
             & (pl.col("traffic_share").shift(-1) == pl.col("previous")))
    return flags.with_columns(drill=drill.fill_null(False)).with_columns(
        restore=pl.col("drill").shift(1).fill_null(False))


def drills(ws: Workspace, *, as_of: dt.date | str | None = None,
           target_seconds: float = TARGET_SECONDS) -> pl.DataFrame:
    """One row per measured rollback up to `as_of`: ts, day, actor, kind, seconds_to_zero, within_target.

    Empty when the flags table has no `zero_at` column. Raises `DataError` when `zero_at` is before `ts`.
    """
    day = ws.resolve_as_of(as_of)
    flags = ws.table("flags")
    if "zero_at" not in flags.collect_schema():
        return pl.DataFrame(schema=DRILL_SCHEMA)
    history = classify(flags.filter(pl.col("day") <= day).collect())
    measured = (history.filter(pl.col("zero_at").is_not_null())
                .with_columns(seconds_to_zero=(pl.col("zero_at") - pl.col("ts")).dt.total_seconds(fractional=True)))
    backwards = measured.filter(pl.col("seconds_to_zero") < 0)
    if backwards.height:
        raise DataError("flags", "must not be before `ts` (the flag cannot reach 0% before the command)",
                        column="zero_at", examples=backwards["ts"].dt.to_string().head(3).to_list())
    return (measured.with_columns(
        kind=pl.when(pl.col("drill")).then(pl.lit("drill")).otherwise(pl.lit("rollback")),
        within_target=pl.col("seconds_to_zero") < target_seconds,
    ).sort("ts").select(list(DRILL_SCHEMA)))


def practice(ws: Workspace, *, as_of: dt.date | str | None = None,
             target_seconds: float = TARGET_SECONDS) -> pl.DataFrame:
    """Every rollback drill up to `as_of`: ts, day, actor, `when` ("before 100%" or "at 100%": before or after the
    flag first reached 100%), the stage it interrupted (`stage_share`, `stage`), seconds_to_zero and
    within_target (null when the drill has no `zero_at`)."""
    day = ws.resolve_as_of(as_of)
    flags = ws.table("flags").filter(pl.col("day") <= day).collect()
    if "zero_at" not in flags.columns:
        flags = flags.with_columns(zero_at=pl.lit(None, pl.Datetime("us", "UTC")))
    history = classify(flags)
    full = history.filter(pl.col("traffic_share") >= 1.0)["ts"].min()
    drills_ = history.filter(pl.col("drill"))
    at_full = pl.lit(False) if full is None else pl.col("ts") >= pl.lit(full)
    labels = {s: stage(s) for s in drills_["previous"].unique().to_list()}
    return (drills_.with_columns(
        when=pl.when(at_full).then(pl.lit(AT_FULL)).otherwise(pl.lit(BEFORE_FULL)),
        stage_share=pl.col("previous"),
        stage=pl.col("previous").replace_strict(labels, return_dtype=pl.String, default=None),
        seconds_to_zero=(pl.col("zero_at") - pl.col("ts")).dt.total_seconds(fractional=True),
    ).with_columns(within_target=pl.col("seconds_to_zero") < target_seconds)
        .select(list(PRACTICE_SCHEMA)).cast(PRACTICE_SCHEMA))


def practice_summary(drills_: pl.DataFrame) -> dict[str, dict[str, Any]]:
    """Per `when` ("before 100%", "at 100%"): count, measured, within target, median and max seconds, first and
    last day, and the stages drilled at."""
    out = {}
    for key, when in (("before_full", BEFORE_FULL), ("at_full", AT_FULL)):
        part = drills_.filter(pl.col("when") == when)
        seconds = part["seconds_to_zero"].drop_nulls()
        out[key] = {"count": part.height, "measured": seconds.len(),
                    "within_target": int(part["within_target"].fill_null(False).sum()),
                    "median_seconds": seconds.median() if seconds.len() else None,
                    "max_seconds": seconds.max() if seconds.len() else None,
                    "first_day": part["day"].min().isoformat() if part.height else None,
                    "last_day": part["day"].max().isoformat() if part.height else None,
                    "stages": part["stage"].unique(maintain_order=True).to_list()}
    return out


def describe_practice(drills_: pl.DataFrame, *, target_seconds: float = TARGET_SECONDS) -> str:
    """The drills before and at 100% in one or two sentences."""
    summary = practice_summary(drills_)

    def part(s: dict[str, Any]) -> str:
        if not s["measured"]:
            return "none timed"
        return (f"median {duration(s['median_seconds'])}, slowest {duration(s['max_seconds'])}, "
                f"{s['within_target']} of {s['measured']} within {duration(target_seconds)}")

    before, at = summary["before_full"], summary["at_full"]
    if before["count"]:
        first = (f"{plural(before['count'], 'rollback drill')} before 100% (at {', '.join(before['stages'])}; "
                 f"{part(before)}).")
    else:
        first = "No rollback drill before 100%: the playbook practises rollback during the canary."
    later = f" {plural(at['count'], 'drill')} at 100% ({part(at)})." if at["count"] else " None at 100% yet."
    return first + later


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
