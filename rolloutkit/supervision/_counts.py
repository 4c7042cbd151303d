"""Supervision's traffic as counts: agent and human interactions per day, from `canary.daily_counts`.

The canary phase's `daily_counts` is the one access point to canary traffic (the workspace's `canary_daily` counts
when it holds them, else its `canary` rows aggregated), so the sample rate's denominator, the human-only path and
the AgentOps monthly tasks are the same from rows as from counts. Only matching a review to its interaction needs
rows (`interaction_id`): `reviews_matched` says whether the workspace can.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from rolloutkit import canary
from rolloutkit.errors import MissingTableError
from rolloutkit.workspace import Workspace

VOLUME_SCHEMA = {"day": pl.Date, "agent": pl.Int64, "human": pl.Int64}


def has_traffic(ws: Workspace) -> bool:
    """The workspace holds canary traffic, as rows or as daily counts."""
    return ws.has("canary") or ws.has("canary_daily")


def reviews_matched(ws: Workspace) -> bool:
    """Reviews can be matched to agent-arm interactions by id: the workspace holds canary rows, not only counts."""
    return ws.has("canary")


def daily_volumes(ws: Workspace, *, as_of: dt.date) -> pl.DataFrame:
    """Agent and human interactions per local day up to `as_of` (days without traffic are absent)."""
    if not has_traffic(ws):
        raise MissingTableError(f"{ws.path.name}: no `canary` table (nor `canary_daily` counts)", table="canary")
    daily = canary.daily_counts(ws, as_of=as_of)
    return (daily.group_by("day")
            .agg(agent=pl.col("n").filter(pl.col("arm") == "agent").sum(),
                 human=pl.col("n").filter(pl.col("arm") == "human").sum())
            .cast(VOLUME_SCHEMA).sort("day"))
