"""Progress against the plan: actual phase starts from the data, slippage, and the projected 100% date now.

Actual starts: the charter and eval set at the first eval run, shadow at the first shadow interaction, each canary
stage on the first day the flag (its last value that day, so a drill that returns within the day does not count)
reached the stage's share. The projection keeps the current phase's planned length from its actual start (never
ending before tomorrow) and adds the planned lengths of the phases still to come; after a rollback to 0% the
ladder restarts tomorrow.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from rolloutkit.timeline._plan import rows_as_of
from rolloutkit.timeline._results import Phase, Plan, Progress
from rolloutkit.workspace import Workspace

_EPS = 1e-9


def progress(ws: Workspace, plan: Plan, *, as_of: dt.date | str | None = None) -> Progress:
    """Actual phase starts from evals, shadow and flags against `plan`, and the projected 100% date."""
    day = ws.resolve_as_of(as_of)
    phases = [p for p in plan.phases if p.counted]
    canary = [p for p in phases if p.kind == "canary"]
    starts: dict[str, dt.date | None] = {p.name: None for p in phases}
    starts[phases[0].name] = _first_day(ws, "evals", day)
    shadow = next((p.name for p in phases if p.kind == "shadow"), None)
    if shadow:
        starts[shadow] = _first_day(ws, "shadow", day)
    daily = _daily_shares(ws, day)
    reached_100 = rolled_back_on = None
    current, current_start = phases[0].name, starts[phases[0].name] or plan.start
    if shadow and starts[shadow]:
        current, current_start = shadow, starts[shadow]
    if daily.height:
        stage_frame = pl.DataFrame({"phase": [p.name for p in canary] + ["100%"],
                                    "share": [p.share for p in canary] + [1.0]})
        reached = dict(stage_frame.join(daily, how="cross").filter(pl.col("flag") >= pl.col("share") - _EPS)
                       .group_by("phase").agg(pl.col("day").min()).iter_rows())
        starts.update({p.name: reached.get(p.name) for p in canary})
        reached_100 = reached.get("100%")
        now = daily["flag"][-1]
        at_stage = [p for p in canary if p.share is not None and now >= p.share - _EPS]
        if now <= _EPS and daily["flag"].max() > _EPS:
            rolled_back_on = daily.filter(pl.col("flag") <= _EPS)["day"].max()
            current, current_start = canary[0].name, day + dt.timedelta(days=1)
        elif at_stage:
            stage = at_stage[-1]
            current, current_start = stage.name, _run_start(daily, stage.share or 0.0)
    index = next(i for i, p in enumerate(phases) if p.name == current)
    end = max(current_start + dt.timedelta(days=phases[index].days), day + dt.timedelta(days=1))
    projected = reached_100 or end + dt.timedelta(days=sum(p.days for p in phases[index + 1:]))
    table = _table(phases, starts, index, reached_100, rolled_back_on is not None)
    return Progress(as_of=day, table=table, current_phase="100%" if reached_100 else current,
                    projected_100=projected, planned_100=plan.hundred_percent, reached_100=reached_100,
                    rolled_back_on=rolled_back_on)


def _first_day(ws: Workspace, name: str, day: dt.date) -> dt.date | None:
    if not ws.has(name):
        return None
    return rows_as_of(ws, name, day).select(pl.col("day").min()).collect().item()


def _daily_shares(ws: Workspace, day: dt.date) -> pl.DataFrame:
    """The flag's last value on each day it changed, up to `day`."""
    if not ws.has("flags"):
        return pl.DataFrame(schema={"day": pl.Date, "flag": pl.Float64})
    return (rows_as_of(ws, "flags", day)
            .group_by("day").agg(pl.col("traffic_share").sort_by("ts").last().alias("flag"))
            .sort("day").collect())


def _run_start(daily: pl.DataFrame, share: float) -> dt.date:
    """The first day of the current unbroken run at or above `share`."""
    below = pl.col("flag").shift(1, fill_value=0.0) < share - _EPS
    return daily.filter((pl.col("flag") >= share - _EPS) & below)["day"].max()


def _table(phases: list[Phase], starts: dict[str, dt.date | None], index: int, reached_100: dt.date | None,
           rolled_back: bool) -> pl.DataFrame:
    names = [p.name for p in phases]
    done = reached_100 is not None
    status = ["done" if done or i < index else "current" if i == index else "upcoming" for i in range(len(phases))]
    if rolled_back:
        status = ["done" if p.kind in ("setup", "shadow") else "rolled back" if starts[p.name] else "upcoming"
                  for p in phases]
    frame = pl.DataFrame({
        "phase": names, "kind": [p.kind for p in phases], "planned_start": [p.start for p in phases],
        "planned_end": [p.end for p in phases], "actual_start": [starts[n] for n in names], "status": status,
    }, schema_overrides={"actual_start": pl.Date})
    return frame.with_columns(
        actual_end=pl.col("actual_start").shift(-1, fill_value=pl.lit(reached_100, dtype=pl.Date)),
        slip_days=(pl.col("actual_start") - pl.col("planned_start")).dt.total_days(),
    ).select("phase", "kind", "planned_start", "planned_end", "actual_start", "actual_end", "slip_days", "status")
