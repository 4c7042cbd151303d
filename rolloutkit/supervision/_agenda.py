"""The weekly improvement meeting's agenda: one table of what to look at, in reading order.

Kinds, in reading order: `alert` (a reviewed rate whose confidence bound crossed its limit), `incident` (opened in
the window), `regression` (eval tasks a version run in the window failed after the previous version passed them),
`open_action` (incidents opened earlier and still open), `process` (the sample rate fell short last week, the last
drill was over target or a drill is overdue), `eval_tasks_added` (tasks that joined the eval set in the window, one
row per source and category). Ids and labels only, never free text. A part whose table is missing adds no rows.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from rolloutkit import evalset
from rolloutkit.page import Missing
from rolloutkit.supervision._results import AGENDA_SCHEMA, DrillStatus
from rolloutkit.text import pct
from rolloutkit.workspace import Workspace

#: Reading order of the weekly agenda.
AGENDA_KINDS = ("alert", "incident", "regression", "open_action", "process", "eval_tasks_added")
_ROW_SCHEMA = {k: v for k, v in AGENDA_SCHEMA.items() if k != "owner"}


def agenda(ws: Workspace, *, day: dt.date, window_days: int, alerts: pl.DataFrame | Missing,
           incidents: pl.DataFrame | Missing, sample: pl.DataFrame | Missing, target_sample_rate: float,
           drill_status: DrillStatus | Missing, at_full_traffic: bool) -> pl.DataFrame:
    """The agenda of the `window_days` days ending `day`: kind, id, what, severity, status, opened, owner."""
    since = day - dt.timedelta(days=window_days - 1)
    rows: list[pl.DataFrame] = []
    if isinstance(alerts, pl.DataFrame):
        rows.append(alerts.filter(pl.col("status") == "alert").select(
            kind=pl.lit("alert"), id=pl.col("metric"),
            what=pl.format("{} of {} reviewed; bound above the {} limit", pl.col("cum_events"),
                           pl.col("cum_reviewed"), (pl.col("limit") * 100).round(2).cast(pl.String) + "%"),
            severity=pl.lit(None, pl.String), status=pl.lit("open"), opened=pl.lit(day)))
    if isinstance(incidents, pl.DataFrame):
        rows += _incident_rows(incidents, since=since)
    if ws.has("evals"):
        rows += _eval_rows(ws, day=day, since=since)
    rows.append(_process_rows(sample, target_sample_rate, drill_status, at_full_traffic=at_full_traffic, day=day))
    frame = pl.concat([r.select(list(_ROW_SCHEMA)).cast(_ROW_SCHEMA) for r in rows], how="vertical")
    kind_order = {k: i for i, k in enumerate(AGENDA_KINDS)}
    return (frame.with_columns(owner=pl.lit(ws.charter.owner, pl.String))
            .sort(pl.col("kind").replace_strict(kind_order, return_dtype=pl.Int64),
                  pl.col("severity"), pl.col("opened"), pl.col("id"), nulls_last=True))


def _incident_rows(log: pl.DataFrame, *, since: dt.date) -> list[pl.DataFrame]:
    what = pl.col("kind") + pl.when(pl.col("failure_mode").is_not_null()).then(" · " + pl.col("failure_mode")) \
        .otherwise(pl.lit("")) + " · caught by " + pl.col("caught_by")
    opened = log.filter(pl.col("day") >= since).select(
        kind=pl.lit("incident"), id=pl.col("incident_id"), what=what, severity=pl.col("severity"),
        status=pl.col("status"), opened=pl.col("day"))
    still_open = log.filter((pl.col("day") < since) & (pl.col("status") == "open")).select(
        kind=pl.lit("open_action"), id=pl.col("incident_id"),
        what=what + pl.format(" · open {} days", pl.col("age_days")), severity=pl.col("severity"),
        status=pl.col("status"), opened=pl.col("day"))
    return [opened, still_open]


def _eval_rows(ws: Workspace, *, day: dt.date, since: dt.date) -> list[pl.DataFrame]:
    rows = []
    if evalset.versions(ws, as_of=day).height >= 2:
        comparison = evalset.compare(ws, as_of=day)
        if comparison.candidate_day >= since:
            rows.append(comparison.regressed_tasks.select(
                kind=pl.lit("regression"), id=pl.col("task_id"),
                what=pl.format("{} task: passed in {}, failed in {}", pl.col("category"),
                               pl.lit(comparison.baseline), pl.lit(comparison.candidate)),
                severity=pl.lit(None, pl.String), status=pl.lit("open"), opened=pl.lit(comparison.candidate_day)))
    rows.append(evalset.added_tasks(ws, since=since, as_of=day).select(
        kind=pl.lit("eval_tasks_added"), id=pl.col("source") + "/" + pl.col("category"),
        what=pl.format("{} {} task(s) added from {}", pl.col("tasks"), pl.col("category"), pl.col("source")),
        severity=pl.lit(None, pl.String), status=pl.lit("added"), opened=pl.col("first_day")))
    return rows


def _process_rows(sample: pl.DataFrame | Missing, target: float, status: DrillStatus | Missing, *,
                  at_full_traffic: bool, day: dt.date) -> pl.DataFrame:
    items = []
    full_weeks = sample.filter(pl.col("days") == 7) if isinstance(sample, pl.DataFrame) else pl.DataFrame()
    if full_weeks.height and not full_weeks["reached"][-1]:
        last = full_weeks.row(-1, named=True)
        items.append(("sample_rate", f"{last['week_label']} reviewed {pct(last['sample_rate'], digits=1)} of agent "
                      f"interactions; the charter asks {pct(target, digits=0)}"))
    if isinstance(status, DrillStatus):
        if status.last_day is not None and not status.last_within_target:
            items.append(("rollback_drill", f"last drill ({status.last_day.isoformat()}) took "
                          f"{status.last_seconds:.0f} s to reach 0%; target under {status.target_seconds:g} s"))
        if (at_full_traffic or status.count) and status.overdue:
            since = ("never drilled" if status.last_day is None
                     else f"last drill {status.days_since_last} days ago")
            items.append(("drill_due", f"{since}; drill at least every {status.max_days_between} days"))
    return pl.DataFrame({"kind": ["process"] * len(items), "id": [i for i, _ in items],
                         "what": [w for _, w in items], "severity": [None] * len(items),
                         "status": ["open"] * len(items), "opened": [day] * len(items)}, schema=_ROW_SCHEMA)
