"""From the shadow traffic to counts: the one access point to it, and the views the gate and the page read.

- `daily_counts(ws)` is the shadow traffic as daily counts in the `shadow_daily` shape, one row per (`day`,
  `segment`): the workspace's own `shadow_daily` (computed where the rows live) when it holds one, else its
  `shadow` rows aggregated in one lazy query;
- `agreement` (per ISO week with an "all" row, or per segment), the shadow's span and `cost_latency` are computed
  from those counts only, so the gate and the page are the same from rows as from `shadow_daily`.

What needs the rows themselves (the review sample, the lists of individual outputs, placing a review on its
interaction's day and segment) reads `shadow_rows`.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import polars as pl

from rolloutkit import stats
from rolloutkit.shadow._results import ALL_WEEKS
from rolloutkit.text import iso_week_expr
from rolloutkit.workspace import Workspace

KEYS = ("day", "segment")
#: The optional sums of `shadow_daily`, in the contract's order: for each measured column of the rows, its sum
#: (and sum of squares) and how many rows had a value.
SUMS = (
    "agent_cost_usd",
    "agent_cost_n",
    "agent_latency_ms_sum",
    "agent_latency_ms_sumsq",
    "agent_latency_n",
    "human_handle_s_sum",
    "human_handle_s_sumsq",
    "human_handle_n",
)


def daily_counts(ws: Workspace, *, as_of: str | dt.date | None = None) -> pl.DataFrame:
    """The workspace's shadow traffic as daily counts in the `shadow_daily` shape, up to the end of `as_of`.

    The one access point to shadow traffic: the workspace's `shadow_daily` (validated against its contract, cut
    at `as_of`) when it holds one, else its `shadow` rows aggregated to one row per (`day`: the local date in the
    charter's time zone, `segment`) with `interactions`, `agreed` (the agent's action equals the human's) and,
    for the columns the rows have, `agent_cost_usd` and `agent_cost_n` (sum and count of reported costs),
    `agent_latency_ms_sum`, `agent_latency_ms_sumsq`, `agent_latency_n`, `human_handle_s_sum`,
    `human_handle_s_sumsq` and `human_handle_n`. Raises MissingTableError with neither table.
    """
    day = ws.resolve_as_of(as_of)
    if ws.has("shadow_daily"):
        stored = ws.table("shadow_daily").filter(pl.col("day") <= day)
        present = stored.collect_schema().names()
        return (
            stored.select(*KEYS, "interactions", "agreed", *(c for c in SUMS if c in present))
            .sort(*KEYS)
            .collect()
        )
    rows = ws.table("shadow")
    names = rows.collect_schema().names()
    same = pl.col("agent_action") == pl.col("human_action")
    aggs = [pl.len().cast(pl.Int64).alias("interactions"), same.sum().cast(pl.Int64).alias("agreed")]
    if "agent_cost_usd" in names:
        cost = pl.col("agent_cost_usd").cast(pl.Float64)
        aggs += [cost.sum().alias("agent_cost_usd"), cost.count().cast(pl.Int64).alias("agent_cost_n")]
    for column, prefix, count in (
        ("agent_latency_ms", "agent_latency_ms", "agent_latency_n"),
        ("human_handle_s", "human_handle_s", "human_handle_n"),
    ):
        if column in names:
            value = pl.col(column).cast(pl.Float64)
            aggs += [
                value.sum().alias(f"{prefix}_sum"),
                (value * value).sum().alias(f"{prefix}_sumsq"),
                value.count().cast(pl.Int64).alias(count),
            ]
    return rows.filter(pl.col("day") <= day).group_by(*KEYS).agg(aggs).sort(*KEYS).collect()


def agreement(
    ws: Workspace, *, as_of: str | dt.date | None = None, by: Literal["week", "segment"] = "week"
) -> pl.DataFrame:
    """Share of interactions where the agent's action equals the human's, per ISO week (with an "all" row) or
    per segment (lowest agreement first), with Wilson intervals; the same from rows as from `shadow_daily`."""
    daily = daily_counts(ws, as_of=as_of)
    return agreement_intervals(agreement_counts(daily, by), by, ws.charter.canary.confidence)


def cost_latency(ws: Workspace, *, as_of: str | dt.date | None = None) -> pl.DataFrame:
    """Per ISO week and over all weeks ("all"): dollars per interaction for the agent (its reported cost) and the
    human (the charter's `traffic.human_cost_per_interaction_usd`, null when it is not set), the agent's mean
    latency and the human's mean handle time in seconds, for the columns the shadow traffic has; empty when it
    has none of them. Means, not medians: they are what daily counts can carry."""
    return cost_latency_counts(daily_counts(ws, as_of=as_of), ws.charter.traffic.human_cost_per_interaction_usd)


def shadow_rows(ws: Workspace, day: dt.date) -> pl.LazyFrame:
    """The shadow table's rows up to `day`, with its ISO `week`. Raises MissingTableError without them."""
    return ws.table("shadow").filter(pl.col("day") <= day).with_columns(week=iso_week_expr(pl.col("day")))


def span(daily: pl.DataFrame) -> tuple[dt.date | None, dt.date | None]:
    """The first and last day with shadow interactions (None, None when there are none)."""
    days = daily.filter(pl.col("interactions") > 0)["day"]
    return (days.min(), days.max()) if days.len() else (None, None)


def complete_weeks(first: dt.date | None, last: dt.date | None) -> int:
    """Whole 7-day weeks from the first shadow day to the last (a shadow that starts mid-week counts from then)."""
    return ((last - first).days + 1) // 7 if first else 0


def agreement_counts(daily: pl.DataFrame, by: str) -> pl.DataFrame:
    """`interactions` and `agreed` per ISO `week` or per `segment`, from daily counts."""
    return (
        daily.with_columns(week=iso_week_expr(pl.col("day")))
        .group_by(by)
        .agg(pl.col("interactions").sum(), pl.col("agreed").sum())
        .sort(by)
    )


def agreement_intervals(counts: pl.DataFrame, by: str, confidence: float) -> pl.DataFrame:
    if by == "week":
        total = counts.select(pl.lit(ALL_WEEKS).alias("week"), pl.col("interactions").sum(), pl.col("agreed").sum())
        counts = pl.concat([counts, total], how="vertical_relaxed")
    bounds = [
        stats.wilson_interval(a, n, confidence=confidence)
        for a, n in zip(counts["agreed"].to_list(), counts["interactions"].to_list(), strict=True)
    ]
    framed = counts.with_columns(
        pl.col("interactions").cast(pl.Int64),
        pl.col("agreed").cast(pl.Int64),
        agreement=pl.Series([b.estimate for b in bounds], dtype=pl.Float64),
        lower=pl.Series([b.lower for b in bounds], dtype=pl.Float64),
        upper=pl.Series([b.upper for b in bounds], dtype=pl.Float64),
    )
    return framed.sort("agreement", by) if by == "segment" else framed


def cost_latency_counts(daily: pl.DataFrame, human_cost: float | None) -> pl.DataFrame:
    """`cost_latency` from daily counts and the charter's human cost per interaction."""
    names = daily.columns
    measured = [
        (name, total, count, scale)
        for name, total, count, scale in (
            ("agent_cost_usd", "agent_cost_usd", "agent_cost_n", 1.0),
            ("agent_latency_s", "agent_latency_ms_sum", "agent_latency_n", 1000.0),
            ("human_handle_s", "human_handle_s_sum", "human_handle_n", 1.0),
        )
        if total in names
    ]
    if not measured:
        return pl.DataFrame()
    sums = [c for _, total, count, _ in measured for c in (total, count)]
    weekly = (
        daily.with_columns(week=iso_week_expr(pl.col("day")))
        .group_by("week")
        .agg(pl.col("interactions").sum(), *(pl.col(c).sum() for c in sums))
        .sort("week")
    )
    overall = weekly.select(pl.lit(ALL_WEEKS).alias("week"), pl.col("interactions", *sums).sum())
    both = pl.concat([weekly, overall], how="vertical_relaxed")
    means = [
        pl.when(pl.col(count) > 0).then(pl.col(total) / pl.col(count) / scale).otherwise(None).alias(name)
        for name, total, count, scale in measured
    ]
    if "agent_cost_usd" in names:
        means.insert(1, pl.lit(human_cost, dtype=pl.Float64).alias("human_cost_usd"))
    return both.select("week", pl.col("interactions").cast(pl.Int64), *means)
