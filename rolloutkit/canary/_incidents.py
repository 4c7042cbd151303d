"""The incident log as the canary checks read it: ids, severities and kinds, opened and closed days; no summaries.

`incident_log(ws, day)` reads the `incidents` table once (the rows opened up to `day`); `stage_incidents` picks
those opened during a stage, open or closed as of a day, for the `incidents` check and the page.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from rolloutkit.canary._results import INCIDENT_SCHEMA, StageIncident
from rolloutkit.text import reference_expr
from rolloutkit.workspace import Workspace


def incident_log(ws: Workspace, day: dt.date) -> pl.DataFrame | None:
    """Incidents opened up to the end of `day` (`INCIDENT_SCHEMA`); `closed_day` is null while open on `day`.
    None when the workspace has no incident log."""
    if not ws.has("incidents"):
        return None
    closed = pl.col("closed_at").dt.convert_time_zone(ws.charter.timezone).dt.date()
    has_closed = "closed_at" in ws.table("incidents").collect_schema()
    return (ws.table("incidents").filter(pl.col("day") <= day)
            .select("incident_id", "opened_at", "day",
                    closed_day=pl.when(closed <= day).then(closed) if has_closed else pl.lit(None, pl.Date),
                    severity="severity", kind="kind")
            .sort("opened_at", "incident_id").collect().cast(INCIDENT_SCHEMA))


def stage_incidents(log: pl.DataFrame | None, started: dt.datetime | None,
                    day: dt.date) -> tuple[StageIncident, ...] | None:
    """The incidents opened from `started` (the stage's flag change; None: from the first) to the end of `day`."""
    if log is None:
        return None
    opened = log.filter(pl.col("day") <= day)
    if started is not None:
        opened = opened.filter(pl.col("opened_at") >= started)
    return tuple(StageIncident(incident_id=r["incident_id"], severity=r["severity"], kind=r["kind"],
                               opened_on=r["day"], open=r["closed_day"] is None or r["closed_day"] > day)
                 for r in opened.iter_rows(named=True))


def incident_table(ws: Workspace, incidents: tuple[StageIncident, ...] | None) -> pl.DataFrame:
    """This stage's incidents for the page: opened, incident, severity, kind, state, and the interaction each is
    linked to as a reference (never the id itself) with the arm that handled it — looked up in the canary rows,
    so null when the workspace holds only daily counts."""
    schema = {"opened": pl.Date, "incident": pl.String, "severity": pl.String, "kind": pl.String,
              "state": pl.String, "interaction": pl.String, "arm": pl.String}
    if not incidents:
        return pl.DataFrame(schema=schema)
    frame = pl.DataFrame({"opened": [i.opened_on for i in incidents], "incident": [i.incident_id for i in incidents],
                          "severity": [i.severity for i in incidents],
                          "kind": [i.kind.replace("_", " ") for i in incidents],
                          "state": ["open" if i.open else "closed" for i in incidents]},
                         schema={k: schema[k] for k in ("opened", "incident", "severity", "kind", "state")})
    log = ws.table("incidents")
    if "interaction_id" not in log.collect_schema():
        return frame.with_columns(interaction=pl.lit(None, pl.String), arm=pl.lit(None, pl.String))
    links = (log.select(pl.col("incident_id").alias("incident"), "interaction_id")
             .filter(pl.col("incident").is_in(frame["incident"].implode())).collect())
    if ws.has("canary"):
        arms = (ws.table("canary").select("interaction_id", "arm")
                .filter(pl.col("interaction_id").is_in(links["interaction_id"].drop_nulls().implode())).collect())
        links = links.join(arms, on="interaction_id", how="left")
    else:
        links = links.with_columns(arm=pl.lit(None, pl.String))
    return (frame.join(links, on="incident", how="left", maintain_order="left")
            .select(*list(schema)[:5], interaction=reference_expr(pl.col("interaction_id")), arm=pl.col("arm"))
            .cast(schema))
