"""From the shadow table to counts: how often the agent's action equals the human's (per ISO week, with an "all"
row, or per segment), the shadow's span, and the agent's cost and latency beside the human's handle time."""

from __future__ import annotations

import datetime as dt
from typing import Literal

import polars as pl

from rolloutkit import stats
from rolloutkit.shadow._results import ALL_WEEKS
from rolloutkit.text import iso_week_expr
from rolloutkit.workspace import Workspace


def agreement(
    ws: Workspace, *, as_of: str | dt.date | None = None, by: Literal["week", "segment"] = "week"
) -> pl.DataFrame:
    """Share of interactions where the agent's action equals the human's, per ISO week (with an "all" row) or
    per segment (lowest agreement first), with Wilson intervals."""
    day = ws.resolve_as_of(as_of)
    return agreement_intervals(agreement_counts(shadow_rows(ws, day), by).collect(), by, ws.charter.canary.confidence)


def cost_latency(ws: Workspace, *, as_of: str | dt.date | None = None) -> pl.DataFrame:
    """Per ISO week: agent cost per interaction, agent latency (median, p90, seconds) and human handle time
    (median, p90, seconds), for the columns the shadow table has; empty when it has none of them."""
    return cost_latency_counts(shadow_rows(ws, ws.resolve_as_of(as_of)))


def shadow_rows(ws: Workspace, day: dt.date) -> pl.LazyFrame:
    """The shadow table up to `day`, with its ISO `week`. Raises MissingTableError without one."""
    return ws.table("shadow").filter(pl.col("day") <= day).with_columns(week=iso_week_expr(pl.col("day")))


def shadow_span(shadow: pl.LazyFrame) -> pl.LazyFrame:
    """The first and last day of the shadow (`first`, `last`; null when it is empty)."""
    return shadow.select(pl.col("day").min().alias("first"), pl.col("day").max().alias("last"))


def complete_weeks(first: dt.date | None, last: dt.date | None) -> int:
    """Whole 7-day weeks from the first shadow day to the last (a shadow that starts mid-week counts from then)."""
    return ((last - first).days + 1) // 7 if first else 0


def agreement_counts(shadow: pl.LazyFrame, by: str) -> pl.LazyFrame:
    same = (pl.col("agent_action") == pl.col("human_action")).cast(pl.Int64)
    return shadow.group_by(by).agg(interactions=pl.len(), agreed=same.sum()).sort(by)


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


def cost_latency_counts(shadow: pl.LazyFrame) -> pl.DataFrame:
    names = shadow.collect_schema().names()
    measures = []
    if "agent_cost_usd" in names:
        measures.append(pl.col("agent_cost_usd").mean().alias("agent_cost_usd_mean"))
    if "agent_latency_ms" in names:
        seconds = pl.col("agent_latency_ms") / 1000
        measures += [
            seconds.median().alias("agent_latency_s_median"),
            seconds.quantile(0.9).alias("agent_latency_s_p90"),
        ]
    if "human_handle_s" in names:
        measures += [
            pl.col("human_handle_s").median().alias("human_handle_s_median"),
            pl.col("human_handle_s").quantile(0.9).alias("human_handle_s_p90"),
        ]
    if not measures:
        return pl.DataFrame()
    return shadow.group_by("week").agg(pl.len().alias("interactions"), *measures).sort("week").collect()
