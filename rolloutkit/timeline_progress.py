"""Progress against the plan: actual phase starts from the data, slippage, and the projected 100% date now.

Actual starts: the charter and eval set at the first eval run, shadow at the first shadow interaction, each canary
stage on the first day the flag (its last value that day, so a drill that returns within the day does not count)
reached the stage's share. The projection keeps the current phase's planned length from its actual start (never
ending before tomorrow) and adds the planned lengths of the phases still to come; after a rollback to 0% the
ladder restarts tomorrow.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import polars as pl

from rolloutkit.workspace import Workspace

if TYPE_CHECKING:
    from rolloutkit.timeline import Plan

State = Literal["on_plan", "behind_plan", "ahead_of_plan"]
_EPS = 1e-9


@dataclass(frozen=True, eq=False)
class Progress:
    as_of: dt.date
    #: One row per counted phase: planned and actual start/end, slip_days (actual − planned start), status.
    table: pl.DataFrame
    current_phase: str
    projected_100: dt.date
    planned_100: dt.date
    reached_100: dt.date | None
    rolled_back_on: dt.date | None

    @property
    def slip_days(self) -> int:
        """Days the 100% date has moved: positive = behind plan."""
        return (self.projected_100 - self.planned_100).days

    @property
    def state(self) -> State:
        return "behind_plan" if self.slip_days > 0 else "ahead_of_plan" if self.slip_days < 0 else "on_plan"

    @property
    def slip_text(self) -> str:
        days = abs(self.slip_days)
        unit = "day" if days == 1 else "days"
        return ("on plan" if days == 0 else f"{days} {unit} behind plan" if self.slip_days > 0
                else f"{days} {unit} ahead of plan")

    @property
    def sentence(self) -> str:
        if self.reached_100:
            return f"reached 100% on {self.reached_100}, {self.slip_text}"
        if self.rolled_back_on:
            return (f"rolled back to 0% on {self.rolled_back_on}; restarting the ladder puts 100% on "
                    f"{self.projected_100}, {self.slip_text}")
        return f"{self.slip_text} (in {self.current_phase}; projected 100% on {self.projected_100})"

    def to_dict(self) -> dict[str, Any]:
        rows = self.table.with_columns(pl.col(pl.Date).dt.to_string()).to_dicts()
        return {"as_of": self.as_of.isoformat(), "current_phase": self.current_phase,
                "projected_100": self.projected_100.isoformat(), "planned_100": self.planned_100.isoformat(),
                "reached_100": self.reached_100.isoformat() if self.reached_100 else None,
                "rolled_back_on": self.rolled_back_on.isoformat() if self.rolled_back_on else None,
                "slip_days": self.slip_days, "state": self.state, "phases": rows}

    def describe(self) -> str:
        lines = [f"as of {self.as_of}: {self.sentence}"]
        for r in self.table.iter_rows(named=True):
            actual = r["actual_start"] or "—"
            slip = "" if r["slip_days"] is None else f"  {r['slip_days']:+d} d"
            lines.append(f"  {r['phase']:<22} planned {r['planned_start']}  actual {actual}{slip}  {r['status']}")
        return "\n".join(lines)


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
    return Progress(day, table, "100%" if reached_100 else current, projected, plan.hundred_percent, reached_100,
                    rolled_back_on)


def _first_day(ws: Workspace, name: str, day: dt.date) -> dt.date | None:
    if not ws.has(name):
        return None
    return ws.table(name).filter(pl.col("day") <= day).select(pl.col("day").min()).collect().item()


def _daily_shares(ws: Workspace, day: dt.date) -> pl.DataFrame:
    """The flag's last value on each day it changed, up to `day`."""
    if not ws.has("flags"):
        return pl.DataFrame(schema={"day": pl.Date, "flag": pl.Float64})
    return (ws.table("flags").filter(pl.col("day") <= day)
            .group_by("day").agg(pl.col("traffic_share").sort_by("ts").last().alias("flag"))
            .sort("day").collect())


def _run_start(daily: pl.DataFrame, share: float) -> dt.date:
    """The first day of the current unbroken run at or above `share`."""
    below = pl.col("flag").shift(1, fill_value=0.0) < share - _EPS
    return daily.filter((pl.col("flag") >= share - _EPS) & below)["day"].max()


def _table(phases: list, starts: dict[str, dt.date | None], index: int, reached_100: dt.date | None,
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
