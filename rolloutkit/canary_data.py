"""Canary data: the stage timeline from `flags` and daily counts from `canary`, aggregated lazily in one query.

Everything downstream (checks, decisions, history, charts) works on these counts, never on rows, so a warehouse
could hand over the same daily counts instead of a 10M-row table.

Stage timeline rules (documented here because the decision depends on them):
- each flag row opens a *segment* of constant share; an interaction belongs to the segment in force at its `ts`;
- a *stage epoch* is a run of segments at one share: a ramp up, a step down or a rollback to 0 starts a new epoch;
- a *drill* — the flag set to 0 with a drill-like reason and restored to the same share on the same local day —
  does not start an epoch: its minutes at 0% are part of the stage (they carry only human traffic);
- a real rollback (to 0 without a drill-like reason, or not restored that day) ends the stage, and a later ramp
  restarts the stage from day 0.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import polars as pl

from rolloutkit.charter import Charter
from rolloutkit.workspace import Workspace

DRILL_REASON = re.compile(r"drill|exercise|game ?day", re.IGNORECASE)
#: Flag changes: how each one moved the share.
CHANGE_KINDS = ("start", "ramp", "step_down", "rollback", "drill", "drill_restore", "same")
COUNT_COLUMNS = ("n", "successes", "disallowed", "unreviewed", "over_actions", "over_dollars", "cost_usd",
                 "cost_n")


def failure_column(mode: str) -> str:
    return f"fail__{mode}"


@dataclass(frozen=True)
class CanaryCounts:
    """Daily counts per (day, segment, arm) plus the flag segments and stage epochs they map to.

    `daily`: day, seg, arm, n, successes, one `fail__<mode>` column per failure mode, and guardrail counts
    (`disallowed`, `unreviewed`: interactions with such actions; `over_actions`, `over_dollars`: sessions over the
    charter's limits), `cost_usd`/`cost_n` (sum and count of reported costs). Agent and human rows both appear.
    `segments`: seg, start (UTC), start_day, share, kind, reason, epoch. Segment 0 is the time before the first
    flag row (share 0). `epochs`: epoch, start, start_day, share, kind, reason.
    """

    charter: Charter
    as_of: dt.date
    daily: pl.DataFrame
    segments: pl.DataFrame
    epochs: pl.DataFrame
    last_data_day: dt.date | None
    guardrail_columns: tuple[str, ...]
    has_cost: bool


def stage_segments(flags: pl.DataFrame) -> pl.DataFrame:
    """Classify each flag change (ramp, step_down, rollback, drill, ...) and number the stage epochs.

    `flags` is the validated table (ts, traffic_share, reason, day). Returns one row per segment, segment 0 being
    the time before the first flag (share 0, kind "start").
    """
    flags = flags.sort("ts")
    shares = flags["traffic_share"].to_list()
    reasons = flags["reason"].to_list()
    days = flags["day"].to_list()
    kinds: list[str] = []
    previous, i = 0.0, 0  # the share in force, drills aside; flags are a handful of rows, so a loop is fine
    while i < len(shares):
        share = shares[i]
        if (share == 0 and previous > 0 and DRILL_REASON.search(reasons[i] or "") and i + 1 < len(shares)
                and days[i + 1] == days[i] and shares[i + 1] == previous):
            kinds += ["drill", "drill_restore"]
            i += 2
            continue
        if share == previous:
            kinds.append("same")
        elif share == 0:
            kinds.append("rollback")
        else:
            kinds.append("ramp" if share > previous else "step_down")
        previous, i = share, i + 1
    new_epoch = [k in ("ramp", "step_down", "rollback") for k in kinds]
    epoch, epochs = 0, []
    for starts in new_epoch:
        epoch += starts
        epochs.append(epoch)
    first = pl.DataFrame({"seg": [0], "start": [None], "start_day": [None], "share": [0.0], "kind": ["start"],
                          "reason": [None], "epoch": [0]},
                         schema={"seg": pl.UInt32, "start": pl.Datetime("us", "UTC"), "start_day": pl.Date,
                                 "share": pl.Float64, "kind": pl.String, "reason": pl.String, "epoch": pl.Int64})
    rest = pl.DataFrame({
        "seg": pl.Series(range(1, len(shares) + 1), dtype=pl.UInt32), "start": flags["ts"], "start_day": flags["day"],
        "share": flags["traffic_share"], "kind": pl.Series(kinds, dtype=pl.String), "reason": flags["reason"],
        "epoch": pl.Series(epochs, dtype=pl.Int64),
    })
    return pl.concat([first, rest])


def stage_epochs(segments: pl.DataFrame) -> pl.DataFrame:
    """One row per stage epoch: when it started, at which share, and why (the flag change that opened it)."""
    return (segments.group_by("epoch", maintain_order=True)
            .agg(pl.col("start", "start_day", "share", "kind", "reason").first())
            .sort("epoch"))


def canary_counts(ws: Workspace, *, as_of: dt.date | str | None = None) -> CanaryCounts:
    """Aggregate `canary` to daily counts per day, flag segment and arm (one lazy query) and read the timeline.

    Rows after `as_of` are ignored, so the counts reproduce what was known on that day.
    """
    day = ws.resolve_as_of(as_of)
    charter = ws.charter
    flags = ws.table("flags").filter(pl.col("day") <= day).select("ts", "traffic_share", "reason", "day").collect()
    segments = stage_segments(flags)
    rows = ws.table("canary")
    schema = rows.collect_schema()
    rows = rows.filter(pl.col("day") <= day).with_columns(
        seg=pl.lit(flags["ts"].sort()).search_sorted(pl.col("ts"), side="right").cast(pl.UInt32))
    guard = charter.guardrails
    aggs = [pl.len().cast(pl.Int64).alias("n"), pl.col("success").sum().cast(pl.Int64).alias("successes")]
    aggs += [(pl.col("failure_mode") == m).sum().cast(pl.Int64).alias(failure_column(m))
             for m in charter.failure_mode_names]
    present: list[str] = []
    for name, column in (("disallowed", "disallowed_actions"), ("unreviewed", "unreviewed_irreversible")):
        if column in schema:
            present.append(name)
            aggs.append((pl.col(column) > 0).sum().cast(pl.Int64).alias(name))
    session_limits = {name: (column, limit) for name, column, limit in (
        ("over_actions", "actions", guard.max_actions_per_session if guard else None),
        ("over_dollars", "dollars", guard.max_dollars_per_session if guard else None),
    ) if limit is not None and column in schema}
    has_sessions = "session_id" in schema
    if not has_sessions:  # without sessions, each interaction is its own session
        for name, (column, limit) in session_limits.items():
            aggs.append((pl.col(column) > limit).sum().cast(pl.Int64).alias(name))
    has_cost = "cost_usd" in schema
    if has_cost:
        aggs += [pl.col("cost_usd").sum().alias("cost_usd"), pl.col("cost_usd").count().cast(pl.Int64).alias("cost_n")]
    queries = [rows.group_by("day", "seg", "arm").agg(aggs)]
    # sessions are grouped by a 64-bit hash of their id: three times faster than string keys at 10M rows, and a
    # collision (odds about 3 in 10^8 at a million sessions) could only merge two sessions' action counts
    if has_sessions and session_limits:
        sessions = (rows.filter(pl.col("arm") == "agent")
                    .group_by(pl.when(pl.col("session_id").is_not_null()).then(pl.col("session_id").hash())
                              .otherwise(pl.col("interaction_id").hash()).alias("session"))
                    .agg(pl.col("day").min(), pl.col("seg").min(),
                         *[pl.col(c).sum().alias(c) for c, _ in session_limits.values()])
                    .group_by("day", "seg")
                    .agg(*[(pl.col(c) > limit).sum().cast(pl.Int64).alias(name)
                           for name, (c, limit) in session_limits.items()])
                    .with_columns(arm=pl.lit("agent")))
        queries.append(sessions)
    collected = pl.collect_all(queries)
    daily = collected[0]
    if len(collected) > 1:
        daily = daily.join(collected[1], on=["day", "seg", "arm"], how="left")
    present += list(session_limits)
    for name in COUNT_COLUMNS:
        if name not in daily.columns:
            daily = daily.with_columns(pl.lit(0, dtype=pl.Float64 if name == "cost_usd" else pl.Int64).alias(name))
    daily = daily.with_columns(pl.col(c).fill_null(0) for c in COUNT_COLUMNS).sort("day", "seg", "arm")
    last = daily["day"].max() if daily.height else None
    return CanaryCounts(charter=charter, as_of=day, daily=daily, segments=segments, epochs=stage_epochs(segments),
                        last_data_day=last, guardrail_columns=tuple(present), has_cost=has_cost)
