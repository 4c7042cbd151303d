"""The canary readiness page: everything `canary_readiness.ipynb` shows, computed once for a workspace and day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from rolloutkit import checks
from rolloutkit.canary._counts import canary_counts
from rolloutkit.canary._decision import decision_history, evaluate
from rolloutkit.canary._results import CanaryCounts, Readiness
from rolloutkit.canary._series import failure_bounds, guardrail_breaches, incidents, success_gap, traffic_share
from rolloutkit.errors import MissingTableError
from rolloutkit.page import Headline, Missing, missing_headline, missing_table
from rolloutkit.workspace import Workspace

SLUG = "canary_readiness"
TITLE = "Canary readiness"


@dataclass(frozen=True, kw_only=True)
class CanaryPage:
    """The canary readiness page. Without a `canary` or `flags` table every part that needs them is `Missing`
    (a note saying what to add) and the headline says "Not started"; `incidents` is always a frame."""

    #: The memo's line: `heading` is the banner title ("Hold at 15%"), `details` the `readiness --json` keys.
    headline: Headline
    readiness: Readiness | Missing
    #: The decision's reasons, then why the days needed are missing or too long; [] when nothing is decided.
    reasons: list[str]
    #: One row per check: the check in words, status, estimate, bounds, threshold, days needed, sentence.
    checks_table: pl.DataFrame | Missing
    counts: CanaryCounts | Missing
    #: `decision_history(...)`: the decision each canary day would have given.
    history: pl.DataFrame | Missing
    #: `incidents(...)`: incidents opened up to the day (ids and categories only); empty without the table.
    incidents: pl.DataFrame
    failure_bounds: pl.DataFrame | Missing
    success_gap: pl.DataFrame | Missing
    #: `guardrail_breaches(...)`: breaches per day and kind.
    guardrails: pl.DataFrame | Missing
    traffic_share: pl.DataFrame | Missing


def page(ws: Workspace, *, as_of: dt.date | str | None = None) -> CanaryPage:
    """The canary readiness page as of the end of `as_of` (None = the last day with data); never raises for a
    missing table. Bad data (`DataError`) still raises."""
    day = ws.resolve_as_of(as_of)
    opened = incidents(ws, as_of=day)
    try:
        counts = canary_counts(ws, as_of=day)
    except MissingTableError as exc:
        return _not_started(exc.table, opened)
    result = evaluate(counts, counts.as_of)
    headline = Headline(page=SLUG, title=TITLE, status=result.status, sentence=result.sentence(),
                        decision=result.decision, heading=result.title, details=result.to_dict())
    note = [result.days_needed_note] if result.days_needed_note else []
    return CanaryPage(headline=headline, readiness=result, reasons=[*result.reasons, *note],
                      checks_table=checks.table(result.checks), counts=counts, history=decision_history(counts),
                      incidents=opened, failure_bounds=failure_bounds(counts), success_gap=success_gap(counts),
                      guardrails=guardrail_breaches(counts), traffic_share=traffic_share(counts))


def _not_started(table: str, opened: pl.DataFrame) -> CanaryPage:
    """The page of a workspace without `table`: its first note says what to do, the others what is missing."""
    missing = missing_table(table)

    def no(part: str) -> Missing:
        return Missing(f"No {part}: this workspace has no `{table}` table yet.")

    return CanaryPage(headline=missing_headline(SLUG, TITLE, missing), readiness=missing, reasons=[],
                      checks_table=missing, counts=missing, history=no("decision history"), incidents=opened,
                      failure_bounds=no("failure rates"), success_gap=no("success comparison"),
                      guardrails=no("guardrail data"), traffic_share=no("traffic split"))
