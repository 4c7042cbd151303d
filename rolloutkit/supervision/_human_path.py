"""The human-only path after 100%: it must stay warm, so that a rollback has trained people and a working queue
to fall back on. Human-arm interactions per day (from `canary.daily_counts`) against the charter's
`human_path.min_daily_interactions` (0 turns the check off)."""

from __future__ import annotations

import datetime as dt

import polars as pl

from rolloutkit.checks import Check
from rolloutkit.supervision._results import HUMAN_PATH_SCHEMA
from rolloutkit.text import plural

#: The recent days the check reads: a week, so one quiet weekend day does not pass unnoticed for long.
RECENT_DAYS = 7


def human_path(volumes: pl.DataFrame, *, start: dt.date, as_of: dt.date, minimum: int) -> pl.DataFrame:
    """Human and agent interactions per day from `start` (the first day at 100%) to the last day with canary
    traffic on or before `as_of`; a day without human traffic counts 0. `below`: under `minimum` (never when 0)."""
    seen = volumes.filter(pl.col("day").is_between(start, as_of))
    if seen.is_empty():
        return pl.DataFrame(schema=HUMAN_PATH_SCHEMA)
    days = pl.DataFrame({"day": pl.date_range(start, seen["day"].max(), "1d", eager=True)})
    return (days.join(seen, on="day", how="left")
            .with_columns(pl.col("human", "agent").fill_null(0), minimum=pl.lit(minimum, pl.Int64))
            .with_columns(below=(pl.col("minimum") > 0) & (pl.col("human") < pl.col("minimum")))
            .select(list(HUMAN_PATH_SCHEMA)).cast(HUMAN_PATH_SCHEMA))


def human_path_check(path: pl.DataFrame, *, minimum: int, recent_days: int = RECENT_DAYS) -> Check | None:
    """`human_path`: fails when any of the last `recent_days` days had fewer human interactions than `minimum`
    (a failure holds for investigation). Estimate: the mean per day of those days; lower and upper: the lowest
    and highest day; threshold: the minimum. None when the charter turns it off (minimum 0)."""
    if minimum <= 0:
        return None
    recent = path.tail(recent_days)
    if recent.is_empty():
        return Check(name="human_path", status="insufficient", threshold=minimum,
                     sentence="No day at 100% with canary traffic yet: the human-only path cannot be measured.")
    below = recent.filter(pl.col("below"))
    lowest = recent.sort("human", "day").row(0, named=True)
    seen = (f"{lowest['human']:,} human interactions on {lowest['day'].isoformat()}, the quietest of the last "
            f"{plural(recent.height, 'day')}")
    if below.height:
        sentence = (f"Human-only path below {minimum:,} a day on {below.height} of the last "
                    f"{plural(recent.height, 'day')} ({seen}): keep it warm so a rollback has somewhere to go.")
    else:
        sentence = f"Human-only path warm: every one of the last {plural(recent.height, 'day')} at {minimum:,} or " \
                   f"more ({seen})."
    return Check(name="human_path", status="fail" if below.height else "pass",
                 estimate=float(recent["human"].mean()), lower=float(lowest["human"]),
                 upper=float(recent["human"].max()), threshold=float(minimum), sentence=sentence, on_fail="hold")


def describe(path: pl.DataFrame, check: Check | None) -> str:
    """The human path in one sentence for the page."""
    if path.is_empty():
        return "No day at 100% with canary traffic yet."
    mean = path["human"].mean()
    text = f"{mean:,.0f} human interactions a day on average since 100% ({plural(path.height, 'day')})"
    if check is None:
        return f"{text}; the charter sets no minimum (human_path.min_daily_interactions: 0)."
    days_below = int(path["below"].sum())
    return f"{text}, {days_below} of them below the charter's {int(check.threshold or 0):,}. {check.sentence}"
