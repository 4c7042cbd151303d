"""The incident log: every regression, false positive and customer escalation, open or closed, and who caught it.

Incident `summary` text never leaves this module: the log carries ids, severity, kind, failure mode and days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from rolloutkit.supervision._results import LOG_SCHEMA, MARKER_SCHEMA
from rolloutkit.workspace import Workspace


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
