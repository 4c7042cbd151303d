"""Progress against the plan: actual phase starts from the data, slippage, and the projected 100% date now.

Actual starts: the charter and eval set at the first eval run, shadow at the first shadow interaction, each canary
stage on the first day the flag (its last value that day, so a drill that returns within the day does not count)
reached the stage's share. The projection is the plan following what happened (`follow`): its 100% day against
the plan made at the start, with the phases that turned out skipped at 0 days, is ahead or behind; so a skipped
shadow is not "28 days ahead", and the current canary stage ends when readiness expects to say expand. After a
rollback to 0% the ladder restarts tomorrow.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from rolloutkit.timeline._counts import History, canary_daily, history
from rolloutkit.timeline._follow import follow
from rolloutkit.timeline._results import Plan, Progress
from rolloutkit.workspace import Workspace


def progress(ws: Workspace, plan: Plan, *, as_of: dt.date | str | None = None) -> Progress:
    """Actual phase starts from evals, shadow and flags against `plan` as made at the start, and the projected
    100% date."""
    day = ws.resolve_as_of(as_of)
    happened = history(ws, day, canary_daily(ws, day))
    return progress_of(follow(plan.at_start, happened), happened)


def progress_of(followed: Plan, h: History) -> Progress:
    """Progress from the plan following what happened (`follow`) and the history it followed."""
    baseline = followed.at_start
    phases = [p for p in baseline.phases if p.counted]
    canary = [p for p in phases if p.kind == "canary"]
    status = {p.name: p.status for p in followed.phases}
    ended = {p.name: p.end for p in followed.phases if p.status in ("done", "skipped")}
    starts: dict[str, dt.date | None] = {p.name: None for p in phases}
    starts[phases[0].name] = h.eval_start
    starts.update({p.name: h.shadow_start for p in phases if p.kind == "shadow"})
    starts.update({p.name: h.reached(p.share or 0.0) for p in canary})
    reached_100 = followed.hundred_percent if followed.reached_100 else None
    rolled_back_on = h.rolled_back_on
    if rolled_back_on:
        table_status = [status[p.name] if p.kind in ("setup", "shadow") else "rolled back" if starts[p.name]
                        else "upcoming" for p in phases]
        current = canary[0].name
    else:
        table_status = ["upcoming" if status[p.name] == "planned" else status[p.name] for p in phases]
        current = followed.current_phase or phases[0].name
    frame = pl.DataFrame({
        "phase": [p.name for p in phases], "kind": [p.kind for p in phases],
        "planned_start": [p.start for p in phases], "planned_end": [p.end for p in phases],
        "actual_start": [starts[p.name] for p in phases], "actual_end": [ended.get(p.name) for p in phases],
        "status": table_status,
    }, schema_overrides={"actual_start": pl.Date, "actual_end": pl.Date})
    table = frame.with_columns(slip_days=(pl.col("actual_start") - pl.col("planned_start")).dt.total_days()).select(
        "phase", "kind", "planned_start", "planned_end", "actual_start", "actual_end", "slip_days", "status")
    return Progress(as_of=h.as_of, table=table, current_phase="100%" if reached_100 else current,
                    projected_100=followed.hundred_percent, planned_100=baseline.hundred_percent,
                    reached_100=reached_100, rolled_back_on=rolled_back_on)
