"""What the timeline reads from a workspace as of a day: each table cut at the day, the canary's daily counts, and
what happened (`History`): the first eval run, the shadow's span, the flag each day and today's readiness.

Canary traffic is read only through `canary.daily_counts` (from the canary rows, or a warehouse's `canary_daily`),
so the plan is the same whichever of the two a workspace holds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from rolloutkit import canary
from rolloutkit.canary import Readiness
from rolloutkit.errors import MissingTableError
from rolloutkit.workspace import Workspace

#: Tables holding canary traffic: read through `canary.daily_counts`, never as rows.
CANARY_TABLES = ("canary", "canary_daily")
#: Shares closer than this are equal (a flag at 0.15 is at the 15% stage).
EPS = 1e-9


@dataclass(frozen=True, kw_only=True, eq=False)
class History:
    """What happened up to `as_of`, as the plan and the progress read it."""

    as_of: dt.date
    eval_start: dt.date | None
    shadow_start: dt.date | None
    shadow_end: dt.date | None
    #: The flag's last value on each day it changed (day, flag): a drill that returns within the day is no change.
    flags: pl.DataFrame
    #: Canary readiness as of the day (`canary.readiness`) while the flag is at a stage below 100% and the canary
    #: has traffic.
    readiness: Readiness | None

    @property
    def flag(self) -> float:
        """The flag at the end of the day (0 before the first change)."""
        return self.flags["flag"][-1] if self.flags.height else 0.0

    @property
    def first_canary(self) -> dt.date | None:
        """The first day the flag routed traffic to the agent."""
        return self.flags.filter(pl.col("flag") > EPS)["day"].min()

    @property
    def attempt_start(self) -> dt.date | None:
        """The first day of the ladder attempt under way: the current unbroken run above 0% (None at 0%)."""
        return _run_start(self.flags, pl.col("flag") > EPS) if self.flag > EPS else None

    @property
    def rolled_back_on(self) -> dt.date | None:
        """The day the flag went back to 0% after routing traffic to the agent, while it is still there."""
        if self.flag > EPS or self.first_canary is None:
            return None
        return _run_start(self.flags, pl.col("flag") <= EPS)

    @property
    def last_rollback(self) -> dt.date | None:
        """The last day the flag was back at 0% before the attempt under way (None if it never was)."""
        attempt = self.attempt_start
        if attempt is None:
            return self.rolled_back_on
        earlier = self.flags.filter(pl.col("day") < attempt, pl.col("day") > self.first_canary)
        return earlier.filter(pl.col("flag") <= EPS)["day"].max()

    def reached(self, share: float, *, since: dt.date | None = None) -> dt.date | None:
        """The first day (on or after `since`) the flag was at or above `share`."""
        flags = self.flags if since is None else self.flags.filter(pl.col("day") >= since)
        return flags.filter(pl.col("flag") >= share - EPS)["day"].min()


def _run_start(flags: pl.DataFrame, condition: pl.Expr) -> dt.date:
    """The first day of the last unbroken run of days on which `condition` holds."""
    return flags.filter(condition & ~condition.shift(1, fill_value=False))["day"].max()


def history(ws: Workspace, day: dt.date, daily: pl.DataFrame | None) -> History:
    """What happened up to `day`; `daily` is `canary_daily(ws, day)`, read once by the caller."""
    flags = _daily_shares(ws, day)
    now = flags["flag"][-1] if flags.height else 0.0
    # the decision the canary page shows (its incidents and eval regressions included), from the same counts
    ready = canary.readiness(ws, as_of=day) if daily is not None and daily.height and EPS < now < 1 - EPS else None
    shadow_start, shadow_end = first_and_last_day(ws, "shadow" if ws.has("shadow") else "shadow_daily", day)
    return History(as_of=day, eval_start=first_and_last_day(ws, "evals", day)[0], shadow_start=shadow_start,
                   shadow_end=shadow_end, flags=flags, readiness=ready)


def _daily_shares(ws: Workspace, day: dt.date) -> pl.DataFrame:
    if not ws.has("flags"):
        return pl.DataFrame(schema={"day": pl.Date, "flag": pl.Float64})
    return (rows_as_of(ws, "flags", day)
            .group_by("day").agg(pl.col("traffic_share").sort_by("ts").last().alias("flag"))
            .sort("day").collect())


def rows_as_of(ws: Workspace, name: str, day: dt.date) -> pl.LazyFrame:
    """Table `name` cut at `day`: its rows dated on or before that day. The timeline reads every table through
    here (canary traffic through `canary_daily`), so a plan or progress as of a past day never sees a later row."""
    return ws.table(name).filter(pl.col("day") <= day)


def canary_daily(ws: Workspace, day: dt.date) -> pl.DataFrame | None:
    """The canary's daily counts up to `day` (`canary.daily_counts`), or None when the workspace has none."""
    try:
        return canary.daily_counts(ws, as_of=day)
    except MissingTableError:
        return None


def first_day(ws: Workspace, day: dt.date, daily: pl.DataFrame | None) -> dt.date | None:
    """The first day with data on or before `day` in any table (the canary's from its daily counts)."""
    names = [name for name in ws.files if name not in CANARY_TABLES]
    firsts = pl.collect_all([rows_as_of(ws, name, day).select(pl.col("day").min()) for name in names]) if names else []
    candidates = [f.item() for f in firsts if f.item() is not None]
    if daily is not None and daily.height:
        candidates.append(daily["day"].min())
    return min(candidates) if candidates else None


def first_and_last_day(ws: Workspace, name: str, day: dt.date) -> tuple[dt.date | None, dt.date | None]:
    """The first and last day of table `name` on or before `day` (None, None without the table or rows)."""
    if not ws.has(name):
        return None, None
    row = rows_as_of(ws, name, day).select(first=pl.col("day").min(), last=pl.col("day").max()).collect()
    return row["first"].item(), row["last"].item()


def human_success(daily: pl.DataFrame | None) -> tuple[int, float | None]:
    """Interactions and success rate of the canary's human arm in the daily counts (0, None without any)."""
    if daily is None:
        return 0, None
    human = daily.filter(pl.col("arm") == "human").select(pl.col("n").sum(), pl.col("successes").sum())
    n, successes = human.row(0)
    return (int(n), successes / n) if n else (0, None)
