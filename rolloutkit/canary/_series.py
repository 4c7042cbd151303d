"""Tidy daily series of the canary for charts: sequence bounds, success gap, guardrail breaches, traffic share.

Each takes a Workspace (aggregated afresh) or the `CanaryCounts` already read, and returns aggregated rows only —
one per day (and failure mode or breach kind), cumulative within each stage epoch as the checks see them.
"""

from __future__ import annotations

import datetime as dt
import math

import polars as pl

from rolloutkit import stats
from rolloutkit.canary._checks import tuning_n, tuning_trials
from rolloutkit.canary._counts import counts_of
from rolloutkit.canary._results import GUARDRAIL_WORDS, CanaryCounts, failure_column
from rolloutkit.workspace import Workspace


def _per_epoch_day(counts: CanaryCounts, arm: str) -> pl.DataFrame:
    """One arm's counts per (stage epoch, day) at shares above 0, with cumulative n and successes in the epoch."""
    modes = [failure_column(m) for m in counts.charter.failure_mode_names]
    columns = ["n", "successes", *modes, *GUARDRAIL_WORDS]
    return (counts.daily.filter(pl.col("arm") == arm)
            .join(counts.segments.select("seg", "epoch"), on="seg")
            .join(counts.epochs.select("epoch", pl.col("share").alias("stage")), on="epoch")
            .filter(pl.col("stage") > 0)
            .group_by("epoch", "stage", "day").agg(pl.col(columns).sum())
            .sort("epoch", "day")
            .with_columns(pl.col("n", "successes", *modes).cum_sum().over("epoch").name.prefix("cum_")))


def failure_bounds(source: Workspace | CanaryCounts, *, as_of: dt.date | str | None = None) -> pl.DataFrame:
    """Per day and failure mode (with a limit above 0): the stage's cumulative rate and its sequence bounds.

    Columns: day, stage, epoch, failure_mode, failures, trials, estimate, lower, upper, max_rate.
    """
    counts = counts_of(source, as_of)
    charter = counts.charter
    agent = _per_epoch_day(counts, "agent")
    modes = [m for m in charter.failure_modes if m.max_rate > 0]
    parts = []
    for epoch, stage in agent.select("epoch", "stage").unique().sort("epoch").iter_rows():
        days = agent.filter(pl.col("epoch") == epoch)
        for mode in modes:
            x, n = days[f"cum_{failure_column(mode.name)}"], days["cum_n"]
            bounds = stats.bernoulli_confidence_sequence_bounds(
                x.to_numpy(), n.to_numpy(), alpha=charter.canary.alpha, tuning_trials=tuning_trials(charter, stage))
            parts.append(days.select(
                "day", "stage", "epoch", failure_mode=pl.lit(mode.name), failures=x, trials=n,
                estimate=x / n, lower=pl.Series(bounds.lower), upper=pl.Series(bounds.upper),
                max_rate=pl.lit(mode.max_rate)))
    schema = {"day": pl.Date, "stage": pl.Float64, "epoch": pl.Int64, "failure_mode": pl.String,
              "failures": pl.Int64, "trials": pl.Int64, "estimate": pl.Float64, "lower": pl.Float64,
              "upper": pl.Float64, "max_rate": pl.Float64}
    return pl.concat(parts).cast(schema) if parts else pl.DataFrame(schema=schema)


def success_gap(source: Workspace | CanaryCounts, *, as_of: dt.date | str | None = None) -> pl.DataFrame:
    """Per day: the stage's cumulative agent − human success difference with its sequence bounds and −margin.

    Columns: day, stage, epoch, agent_rate, human_rate, estimate, lower, upper, threshold. Days at 100% (no human
    arm) are left out: the few human rows there are a drill's minutes at 0%, not a comparison.
    """
    counts = counts_of(source, as_of)
    charter = counts.charter
    agent = (_per_epoch_day(counts, "agent").filter(pl.col("stage") < 1)
             .select("epoch", "stage", "day", "cum_n", "cum_successes"))
    human = _per_epoch_day(counts, "human").select("epoch", "day", pl.col("cum_n").alias("h_n"),
                                                   pl.col("cum_successes").alias("h_successes"))
    both = agent.join(human, on=["epoch", "day"], how="left").with_columns(pl.col("h_n", "h_successes").fill_null(0))
    rows = []
    for epoch, stage, day, na, xa, nh, xh in both.iter_rows():
        gap = stats.diff_confidence_sequence(xa, na, xh, nh, alpha=charter.canary.alpha, tuning_n=tuning_n(charter))
        ok = gap.error is None
        rows.append({"day": day, "stage": stage, "epoch": epoch, "agent_rate": xa / na if na else None,
                     "human_rate": xh / nh if nh else None,
                     "estimate": gap.estimate if math.isfinite(gap.estimate) else None,
                     "lower": gap.lower if ok else None, "upper": gap.upper if ok else None,
                     "threshold": -charter.success_metric.noninferiority_margin})
    schema = {"day": pl.Date, "stage": pl.Float64, "epoch": pl.Int64, "agent_rate": pl.Float64,
              "human_rate": pl.Float64, "estimate": pl.Float64, "lower": pl.Float64, "upper": pl.Float64,
              "threshold": pl.Float64}
    return pl.DataFrame(rows, schema=schema)


def guardrail_breaches(source: Workspace | CanaryCounts, *, as_of: dt.date | str | None = None) -> pl.DataFrame:
    """Per day and breach kind: the agent's guardrail breaches (kinds the canary table can measure).

    Columns: day, stage, kind, breaches.
    """
    counts = counts_of(source, as_of)
    agent = _per_epoch_day(counts, "agent")
    kinds = [k for k in GUARDRAIL_WORDS if k in counts.guardrail_columns]
    schema = {"day": pl.Date, "stage": pl.Float64, "kind": pl.String, "breaches": pl.Int64}
    if not kinds:
        return pl.DataFrame(schema=schema)
    return (agent.select("day", "stage", *kinds)
            .unpivot(index=["day", "stage"], on=kinds, variable_name="kind", value_name="breaches")
            .with_columns(pl.col("kind").replace_strict(GUARDRAIL_WORDS))
            .sort("day", "kind").cast(schema))


def traffic_share(source: Workspace | CanaryCounts, *, as_of: dt.date | str | None = None) -> pl.DataFrame:
    """Per day: the agent's observed share of traffic against the share the flag asked for.

    `flag_share` is the traffic-weighted share in force over the day (a drill's minutes at 0% pull it down);
    `lower`/`upper` bound the observed share at 99.9% (Wilson), the SRM test's level.
    Columns: day, agent, total, observed_share, lower, upper, flag_share.
    """
    counts = counts_of(source, as_of)
    per_seg = (counts.daily.join(counts.segments.select("seg", "share"), on="seg")
               .group_by("day", "seg", "share")
               .agg(pl.col("n").filter(pl.col("arm") == "agent").sum().alias("agent"),
                    pl.col("n").sum().alias("total")))
    daily = (per_seg.group_by("day")
             .agg(pl.col("agent").sum(), pl.col("total").sum(), (pl.col("share") * pl.col("total")).sum().alias("w"))
             .filter(pl.col("w") > 0).sort("day"))
    bands = [stats.wilson_interval(a, t, confidence=0.999) for a, t in daily.select("agent", "total").iter_rows()]
    return daily.select(
        "day", "agent", "total", observed_share=pl.col("agent") / pl.col("total"),
        lower=pl.Series([b.lower for b in bands], dtype=pl.Float64),
        upper=pl.Series([b.upper for b in bands], dtype=pl.Float64),
        flag_share=pl.col("w") / pl.col("total"))


def incidents(ws: Workspace, *, as_of: dt.date | str | None = None) -> pl.DataFrame:
    """Incidents opened up to `as_of` (ids and categories only, never the free-text summary); empty if none."""
    schema = {"day": pl.Date, "incident_id": pl.String, "severity": pl.String, "kind": pl.String}
    if not ws.has("incidents"):
        return pl.DataFrame(schema=schema)
    day = ws.resolve_as_of(as_of)
    return (ws.table("incidents").filter(pl.col("day") <= day)
            .select("day", "incident_id", "severity", "kind").sort("day").collect())
