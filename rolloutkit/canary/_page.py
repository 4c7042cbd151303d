"""The canary readiness page: everything `canary_readiness.ipynb` shows, computed once for a workspace and day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from rolloutkit.canary._counts import canary_counts
from rolloutkit.canary._decision import decision_history, evaluate
from rolloutkit.canary._incidents import incident_table
from rolloutkit.canary._results import CanaryCounts, Readiness
from rolloutkit.canary._series import failure_bounds, guardrail_breaches, incidents, success_gap, traffic_share
from rolloutkit.charter import Charter
from rolloutkit.checks import Check
from rolloutkit.errors import MissingTableError
from rolloutkit.page import Headline, Missing, missing_headline, missing_table
from rolloutkit.text import pct, plural
from rolloutkit.workspace import Workspace

SLUG = "canary_readiness"
TITLE = "Canary readiness"
_ADD_CANARY = ("Add its rows (canary.parquet, canary.csv, canary.ndjson or a folder canary/) or their daily counts "
               "(canary_daily.parquet, from `rolloutkit counts` or the SQL of `rolloutkit sql`) to the workspace.")
_COUNTS_ONLY = ("This workspace holds daily counts (`canary_daily`), not rows: every decision is computed from them, "
                "but an incident's interaction cannot be looked up (its arm is blank below).")


@dataclass(frozen=True, kw_only=True)
class CanaryPage:
    """The canary readiness page. Without canary traffic (`canary` or `canary_daily`) or `flags` every part that
    needs them is `Missing` (a note saying what to add) and the headline says "Not started"; `incidents` and
    `stage_incidents` are always frames."""

    #: The memo's line: `heading` is the banner title ("Hold at 15%"), `details` the `readiness --json` keys.
    headline: Headline
    readiness: Readiness | Missing
    #: The decision's reasons, then why the days needed are missing or too long; [] when nothing is decided.
    reasons: list[str]
    #: The live agent version and this stage's incidents in words, and whether only daily counts are present.
    context: list[str]
    #: One row per check: the check in words, status, estimate, bounds and threshold as text, days needed, sentence.
    checks_table: pl.DataFrame | Missing
    counts: CanaryCounts | Missing
    #: `decision_history(...)`: the decision each canary day would have given.
    history: pl.DataFrame | Missing
    #: `incidents(...)`: incidents opened up to the day (ids and categories only); empty without the table.
    incidents: pl.DataFrame
    #: Incidents opened at the current stage: opened, incident, severity, kind, state, interaction (a reference,
    #: never the id), arm (blank when only daily counts are present).
    stage_incidents: pl.DataFrame
    failure_bounds: pl.DataFrame | Missing
    success_gap: pl.DataFrame | Missing
    #: `guardrail_breaches(...)`: breaches per day and kind.
    guardrails: pl.DataFrame | Missing
    traffic_share: pl.DataFrame | Missing


def page(ws: Workspace, *, as_of: dt.date | str | None = None) -> CanaryPage:
    """The canary readiness page as of the end of `as_of` (None = the last day with data); never raises for a
    missing table. Bad data (`DataError`) still raises."""
    day = ws.resolve_as_of(as_of)
    ws = ws.cut(day)
    opened = incidents(ws, as_of=day)
    try:
        counts = canary_counts(ws, as_of=day)
    except MissingTableError as exc:
        return _not_started(ws, exc.table, opened)
    result = evaluate(counts, counts.as_of)
    context = result.context() + ([_COUNTS_ONLY] if ws.has("canary_daily") else [])
    headline = Headline(page=SLUG, title=TITLE, status=result.status,
                        sentence=" ".join([result.sentence(), *result.context()]), decision=result.decision,
                        heading=result.title, details=result.to_dict())
    note = [result.days_needed_note] if result.days_needed_note else []
    return CanaryPage(headline=headline, readiness=result, reasons=[*result.reasons, *note], context=context,
                      checks_table=_checks_table(result.checks, counts.charter), counts=counts,
                      history=decision_history(counts), incidents=opened,
                      stage_incidents=incident_table(ws, result.stage_incidents),
                      failure_bounds=failure_bounds(counts), success_gap=success_gap(counts),
                      guardrails=guardrail_breaches(counts), traffic_share=traffic_share(counts))


def _value(check: Check, charter: Charter, value: float | None) -> str | None:
    """A check's number as its page column shows it: a rate or share as a percentage, a gap signed, days and
    counts as whole numbers, a cost in dollars."""
    if value is None:
        return None
    kind, _, detail = check.name.partition(":")
    if kind == "trigger":
        metric = charter.rollback_triggers[int(detail) - 1].metric
        kind = {"guardrail_breaches": "count", "cost_per_task": "cost", "success_gap": "gap"}.get(metric, "rate")
    if kind in ("zero_tolerance", "failure_rate", "srm", "rate"):
        return pct(value)
    if kind in ("success_noninferiority", "gap"):
        return ("+" if value > 0 else "") + pct(value)
    if kind == "cost":
        return f"${value:,.4f}"
    if kind in ("bake_time", "freshness"):
        return plural(round(value), "day")
    return f"{value:,.0f}"


def _checks_table(checks: tuple[Check, ...], charter: Charter) -> pl.DataFrame:
    """The checks as a page table: the check in words, its status, its numbers written for a reader (no
    `6.98e-05`), days needed and sentence; the raw numbers stay in `readiness --json`."""
    schema = {"check": pl.String, "status": pl.String, "estimate": pl.String, "lower": pl.String,
              "upper": pl.String, "threshold": pl.String, "days_needed": pl.Int64, "sentence": pl.String}
    rows = [{"check": c.label, "status": c.status, **{k: _value(c, charter, getattr(c, k))
                                                      for k in ("estimate", "lower", "upper", "threshold")},
             "days_needed": c.days_needed, "sentence": c.sentence} for c in checks]
    return pl.DataFrame(rows, schema=schema)


def _not_started(ws: Workspace, table: str, opened: pl.DataFrame) -> CanaryPage:
    """The page of a workspace without `table`: its first note says what to do, the others what is missing."""
    missing = missing_table(table, fix=_ADD_CANARY) if table == "canary" else missing_table(table)

    def no(part: str) -> Missing:
        return Missing(f"No {part}: this workspace has no `{table}` table yet.")

    return CanaryPage(headline=missing_headline(SLUG, TITLE, missing), readiness=missing, reasons=[],
                      context=[str(missing)], checks_table=missing, counts=missing, history=no("decision history"),
                      incidents=opened, stage_incidents=incident_table(ws, None), failure_bounds=no("failure rates"),
                      success_gap=no("success comparison"), guardrails=no("guardrail data"),
                      traffic_share=no("traffic split"))
