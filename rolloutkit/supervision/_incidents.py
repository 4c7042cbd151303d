"""The incident log: every regression, false positive and customer escalation, open or closed, and who caught it.

Incident `summary` text and interaction ids never leave this module: the log carries incident ids, severity, kind,
failure mode, who caught it and days. `caught_at_stage` places each incident on the ladder: the share the flag
routed to the agent when it opened (drills aside), so a reader sees whether issues were caught at 1%, not at 100%.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from rolloutkit.supervision._drills import classify
from rolloutkit.supervision._results import (
    BEFORE_FLAGS,
    CAUGHT_COUNT_SCHEMA,
    CAUGHT_SCHEMA,
    LOG_SCHEMA,
    MARKER_SCHEMA,
)
from rolloutkit.text import stage
from rolloutkit.workspace import Workspace

SEVERITIES = ("sev1", "sev2", "sev3", "sev4")


def incident_log(ws: Workspace, *, as_of: dt.date | str | None = None,
                 reviewed_ids: pl.LazyFrame | None = None) -> pl.DataFrame:
    """Incidents opened up to `as_of`, with their status on that day and who caught them.

    `status` is `closed` when `closed_at` falls on or before `as_of` (in the charter's time zone), else `open`;
    `hours_to_close` is null while open and `age_days` counts days since opening. `caught_by` is the table's
    `detected_by` when given; otherwise `review_sample` when the incident's interaction was in the supervision
    review sample (`reviewed_ids`: a frame of interaction_id), `customer` for a customer escalation, else
    `unknown`. Newest first.
    """
    day = ws.resolve_as_of(as_of)
    incidents = ws.table("incidents").filter(pl.col("day") <= day)
    schema = incidents.collect_schema()
    optional = {name: pl.col(name) if name in schema else pl.lit(None, dtype)
                for name, dtype in (("closed_at", pl.Datetime("us", "UTC")), ("failure_mode", pl.String),
                                    ("interaction_id", pl.String), ("detected_by", pl.String))}
    incidents = incidents.with_columns(**optional)
    if reviewed_ids is not None:
        flagged = reviewed_ids.select("interaction_id").unique().with_columns(in_sample=pl.lit(True))
        incidents = incidents.join(flagged, on="interaction_id", how="left")
    else:
        incidents = incidents.with_columns(in_sample=pl.lit(None, pl.Boolean))
    closed_day = pl.col("closed_at").dt.convert_time_zone(ws.charter.timezone).dt.date()
    closed = pl.col("closed_at").is_not_null() & (closed_day <= day)
    inferred = (pl.when(pl.col("in_sample").fill_null(False)).then(pl.lit("review_sample"))
                .when(pl.col("kind") == "customer_escalation").then(pl.lit("customer"))
                .otherwise(pl.lit("unknown")))
    return (incidents.with_columns(
        caught_by=pl.coalesce(pl.col("detected_by"), inferred),
        status=pl.when(closed).then(pl.lit("closed")).otherwise(pl.lit("open")),
        closed_day=pl.when(closed).then(closed_day),
        hours_to_close=pl.when(closed).then(
            (pl.col("closed_at") - pl.col("opened_at")).dt.total_seconds(fractional=True) / 3600),
        age_days=(pl.lit(day) - pl.col("day")).dt.total_days().cast(pl.Int64),
    ).sort("opened_at", "incident_id", descending=True).select(list(LOG_SCHEMA)).collect())


def incident_summary(log: pl.DataFrame, *, by: Sequence[str] = ("severity", "kind")) -> pl.DataFrame:
    """Counts per group of the log: opened, open, closed, median and max hours to close, caught by the sample."""
    return (log.group_by(list(by))
            .agg(opened=pl.len().cast(pl.Int64),
                 open=(pl.col("status") == "open").sum().cast(pl.Int64),
                 closed=(pl.col("status") == "closed").sum().cast(pl.Int64),
                 median_hours_to_close=pl.col("hours_to_close").median().round(1),
                 max_hours_to_close=pl.col("hours_to_close").max().round(1),
                 caught_by_review=(pl.col("caught_by") == "review_sample").sum().cast(pl.Int64),
                 caught_by_customer=(pl.col("caught_by") == "customer").sum().cast(pl.Int64))
            .sort(list(by)))


def incident_markers(ws: Workspace, *, as_of: dt.date | str | None = None) -> pl.DataFrame:
    """Incidents as markers for a daily time series: day, incident_id, severity, kind (empty without the table)."""
    if not ws.has("incidents"):
        return pl.DataFrame(schema=MARKER_SCHEMA)
    day = ws.resolve_as_of(as_of)
    return (ws.table("incidents").filter(pl.col("day") <= day)
            .select("day", "incident_id", "severity", "kind").sort("day", "incident_id").collect())


def caught_at_stage(ws: Workspace, log: pl.DataFrame, *, as_of: dt.date | str | None = None) -> pl.DataFrame:
    """Each incident of `log` with the ladder stage in force at its `opened_at`: `stage_share` (the flag's share
    then, drills aside; null before the first flag change) and `stage` ("2%", "100%", "before the first flag")."""
    day = ws.resolve_as_of(as_of)
    history = (classify(ws.table("flags").filter(pl.col("day") <= day).collect())
               .filter(~pl.col("drill") & ~pl.col("restore")).select("ts", stage_share="traffic_share"))
    opened = (ws.table("incidents").filter(pl.col("day") <= day).select("incident_id", "opened_at").collect()
              .sort("opened_at"))
    placed = opened.join_asof(history, left_on="opened_at", right_on="ts", strategy="backward")
    labels = {s: stage(s) for s in placed["stage_share"].drop_nulls().unique().to_list()}
    return (log.join(placed.select("incident_id", "stage_share"), on="incident_id", how="left")
            .with_columns(stage=pl.col("stage_share").replace_strict(labels, default=BEFORE_FLAGS,
                                                                     return_dtype=pl.String))
            .sort("day", "incident_id").select(list(CAUGHT_SCHEMA)).cast(CAUGHT_SCHEMA))


def caught_at_counts(caught: pl.DataFrame, ladder: tuple[float, ...]) -> pl.DataFrame:
    """Incidents per stage and severity: every stage of the charter's `ladder` and every other share an incident
    opened at, by share (before the first flag first), each with the four severities (0 where none)."""
    shares = sorted({*ladder, *caught["stage_share"].drop_nulls().to_list()})
    stages = pl.DataFrame({"stage_share": [None, *shares], "stage": [BEFORE_FLAGS, *map(stage, shares)]},
                          schema={"stage_share": pl.Float64, "stage": pl.String})
    if not caught["stage_share"].is_null().any():
        stages = stages.filter(pl.col("stage_share").is_not_null())
    grid = stages.join(pl.DataFrame({"severity": SEVERITIES}), how="cross")
    counted = caught.group_by("stage", "severity").agg(incidents=pl.len())
    return (grid.join(counted, on=["stage", "severity"], how="left")
            .with_columns(pl.col("incidents").fill_null(0))
            .sort(pl.col("stage_share"), "severity", nulls_last=False)
            .select(list(CAUGHT_COUNT_SCHEMA)).cast(CAUGHT_COUNT_SCHEMA))
