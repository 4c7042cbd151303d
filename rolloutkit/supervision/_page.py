"""The supervision page: every part computed once as of a day, and its headline for the memo."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeVar

import polars as pl

from rolloutkit import checks
from rolloutkit.checks import Check
from rolloutkit.errors import MissingTableError
from rolloutkit.page import Headline, Missing, Status, missing_headline, missing_table
from rolloutkit.supervision._agenda import agenda
from rolloutkit.supervision._drills import drill_status, drills
from rolloutkit.supervision._incidents import incident_log, incident_markers, incident_summary
from rolloutkit.supervision._results import AGENT_WORSE, SLUG, TITLE, DrillStatus
from rolloutkit.supervision._reviews import (
    alert_checks,
    alerts,
    current_share,
    review_rates,
    reviewed_ids,
    sample_rate,
    supervision_start,
    unmatched_reviews,
)
from rolloutkit.text import json_rows, pct, plural, stage
from rolloutkit.workspace import Workspace

T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class SupervisionPage:
    """Everything the supervision page shows as of one day, computed once. A part that cannot be shown is a
    `Missing`: its table is absent, or (the review sample and its rates) the agent is not at 100% yet."""

    agent: str
    as_of: dt.date
    #: The first day at 100%: None before it, `Missing` when the workspace cannot tell (no flags, no reviews).
    start: dt.date | None | Missing
    #: The share the flag routes to the agent on `as_of` (None without a flags table).
    traffic_share: float | None
    target_sample_rate: float
    #: Reviewed share of agent interactions per ISO week at 100%.
    sample: pl.DataFrame | Missing
    #: Weekly reviewed rates of agent_worse and each failure mode, with intervals and alert status.
    rates: pl.DataFrame | Missing
    #: Each metric's latest row of `rates`.
    alerts: pl.DataFrame | Missing
    #: `alerts` as checks (none when the rates cannot be shown).
    checks: tuple[Check, ...]
    incidents: pl.DataFrame | Missing
    #: Incidents as markers for the rates chart (empty without an incident log, so the chart still draws).
    incident_markers: pl.DataFrame
    drills: pl.DataFrame | Missing
    drill_status: DrillStatus | Missing
    #: The weekly improvement meeting's table; a part whose table is missing adds no rows.
    agenda: pl.DataFrame
    #: Supervision reviews that match no agent-arm canary interaction (left out of every rate).
    unmatched_reviews: int
    #: The parts not shown for want of a table, each with what is missing.
    missing: tuple[str, ...]

    @property
    def at_full_traffic(self) -> bool:
        return isinstance(self.start, dt.date)

    @property
    def days_at_full(self) -> int | None:
        return (self.as_of - self.start).days + 1 if isinstance(self.start, dt.date) else None

    @property
    def achieved_sample_rate(self) -> float | None:
        """Reviewed over agent interactions since 100%."""
        if isinstance(self.sample, Missing) or not self.sample.height:
            return None
        total = int(self.sample["interactions"].sum())
        return int(self.sample["reviewed"].sum()) / total if total else None

    @property
    def last_week_short(self) -> bool:
        """The latest complete ISO week at 100% fell short of the target sample rate."""
        if isinstance(self.sample, Missing):
            return False
        full = self.sample.filter(pl.col("days") == 7)
        return bool(full.height) and not full["reached"][-1]

    @property
    def note(self) -> str | Missing:
        """One line under the banner: since when the agent is supervised, or why it is not (yet)."""
        if isinstance(self.start, Missing):
            return self.start
        if self.start is None:
            now = "" if self.traffic_share is None else f" (the flag routes {stage(self.traffic_share)} to the agent)"
            return Missing(f"Not at 100% yet{now}: supervision's sampled review starts the day the flag reaches 100%.",
                           "Until then the canary readiness page follows the rollout.")
        text = (f"At 100% since {self.start.isoformat()} ({plural(self.days_at_full or 0, 'day')}); the charter "
                f"asks for {pct(self.target_sample_rate)} of agent outputs to be reviewed.")
        if self.missing:
            return Missing(f"{text} Not shown: {'; '.join(self.missing)}", "Add the missing tables to the workspace.")
        return text

    @property
    def checks_table(self) -> pl.DataFrame | Missing:
        """The reviewed rates against their limits, as a table of checks."""
        return self.alerts if isinstance(self.alerts, Missing) else checks.table(self.checks)

    @property
    def incident_summary(self) -> pl.DataFrame | Missing:
        """Incidents per severity and kind: opened, open, closed, hours to close, who caught them."""
        return self.incidents if isinstance(self.incidents, Missing) else incident_summary(self.incidents)

    @property
    def drill_note(self) -> str | Missing:
        """The last drill and whether one is due, in a sentence."""
        return self.drill_status if isinstance(self.drill_status, Missing) else self.drill_status.describe()

    @cached_property
    def headline(self) -> Headline:
        """The page's line in the memo, built from the parts above once, on first use."""
        return _headline(self)


def page(ws: Workspace, *, as_of: dt.date | str | None = None, window_days: int = 7,
         max_days_between_drills: int = 30, sample_tolerance: float = 0.10) -> SupervisionPage:
    """The supervision page as of `as_of`; the agenda covers the `window_days` days ending `as_of`."""
    day = ws.resolve_as_of(as_of)
    if ws.has("flags") or ws.has("reviews"):
        start = _or_missing(lambda: supervision_start(ws, as_of=day))
    else:
        start = Missing("This workspace has no `flags` or `reviews` table yet.",
                        "Add the flag history (flags.parquet) and the supervision reviews (reviews.parquet).")
    unmatched = 0
    sample: pl.DataFrame | Missing
    rates: pl.DataFrame | Missing
    latest: pl.DataFrame | Missing
    if isinstance(start, Missing):
        sample = rates = latest = start
    elif start is None:
        sample = _not_at_full("no review weeks to show")
        rates = _not_at_full("no reviewed rates to chart")
        latest = _not_at_full("no reviewed rate to check against its limit")
    else:
        try:
            sample = sample_rate(ws, as_of=day, tolerance=sample_tolerance)
            rates = review_rates(ws, as_of=day)
            latest = alerts(rates)
            unmatched = unmatched_reviews(ws)
        except MissingTableError as exc:
            sample = rates = latest = missing_table(exc.table)
    log = _or_missing(lambda: incident_log(ws, as_of=day, reviewed_ids=reviewed_ids(ws)))
    measured = _or_missing(lambda: drills(ws, as_of=day))
    status = measured if isinstance(measured, Missing) else drill_status(
        measured, as_of=day, max_days_between=max_days_between_drills)
    target = ws.charter.supervision.sample_rate
    items = agenda(ws, day=day, window_days=window_days, alerts=latest, incidents=log, sample=sample,
                   target_sample_rate=target, drill_status=status, at_full_traffic=isinstance(start, dt.date))
    parts = {"review sample": None if start is None else sample, "incident log": log, "rollback drills": measured}
    return SupervisionPage(
        agent=ws.agent, as_of=day, start=start, traffic_share=current_share(ws, as_of=day),
        target_sample_rate=target, sample=sample, rates=rates,
        alerts=latest, checks=() if isinstance(latest, Missing) else alert_checks(latest), incidents=log,
        incident_markers=incident_markers(ws, as_of=day),
        drills=measured, drill_status=status, agenda=items, unmatched_reviews=unmatched,
        missing=tuple(f"{name}: {part.what}" for name, part in parts.items() if isinstance(part, Missing)))


def _or_missing(compute: Callable[[], T]) -> T | Missing:
    try:
        return compute()
    except MissingTableError as exc:
        return missing_table(exc.table)


def _not_at_full(what: str) -> Missing:
    return Missing(f"Not at 100% yet: {what}.")


def _details(p: SupervisionPage) -> dict[str, Any]:
    """The page in summary.json: the weekly `agenda`, the `drills`, the sample, the alerts and their checks."""
    def rows(part: pl.DataFrame | Missing) -> list[dict[str, Any]]:
        return [] if isinstance(part, Missing) else json_rows(part)

    measured = p.drills if isinstance(p.drills, Missing) else p.drills.select(
        pl.col("ts").dt.to_string("%Y-%m-%dT%H:%M:%S%:z"), pl.col("seconds_to_zero").round(3), "within_target",
        "kind")
    incidents = p.incidents if isinstance(p.incidents, Missing) else incident_summary(
        p.incidents, by=("severity", "status"))
    start = p.start if isinstance(p.start, dt.date) else None
    return {"agent": p.agent, "as_of": p.as_of.isoformat(), "start": start.isoformat() if start else None,
            "days_at_full": p.days_at_full, "target_sample_rate": p.target_sample_rate,
            "achieved_sample_rate": p.achieved_sample_rate, "sample": rows(p.sample), "alerts": rows(p.alerts),
            "checks": [c.to_dict() for c in p.checks], "incidents": rows(incidents), "drills": rows(measured),
            "drill_status": None if isinstance(p.drill_status, Missing) else p.drill_status.to_dict(),
            "agenda": json_rows(p.agenda), "unmatched_reviews": p.unmatched_reviews, "missing": list(p.missing)}


def _headline(p: SupervisionPage) -> Headline:
    """Supervision on the summary page; `details` carries the weekly `agenda` and the `drills` (summary.json).

    Decision: `roll_back` when a charter failure mode alerts in the reviewed sample (its confidence bound is above
    the limit, or a zero-tolerance mode occurred); `investigate` when agent_worse alerts, a sev1/sev2 incident is
    open, the last drill missed 60 s, a drill is overdue or last week's sample fell short; else `continue`.
    Before 100% the status is `info` with no decision (drills and incidents are still reported); without the
    tables that tell, `missing` ("Not started: ...").
    """
    details = _details(p)

    def line(status: Status, sentence: str, decision: str | None, heading: str) -> Headline:
        return Headline(page=SLUG, title=TITLE, status=status, sentence=sentence, decision=decision,
                        heading=f"{TITLE}: {heading}", details=details)

    if p.start is None:
        drill = "" if isinstance(p.drill_status, Missing) else f" {p.drill_status.describe()}"
        return line("info", f"Not at 100% yet; sampled review starts when the flag reaches 100%.{drill}", None,
                    "not at 100% yet")
    if isinstance(p.start, Missing) or isinstance(p.sample, Missing):
        missing = p.start if isinstance(p.start, Missing) else p.sample
        return dataclasses.replace(missing_headline(SLUG, TITLE, missing), heading=f"{TITLE}: not started",
                                   details=details)
    alerting = [c for c in p.checks if c.status == "fail"]
    modes = [c.name.partition(":")[2] for c in alerting if c.on_fail == "rollback"]
    gaps = [f"{AGENT_WORSE} above its limit"] if any(c.on_fail == "hold" for c in alerting) else []
    if isinstance(p.incidents, Missing):
        incidents = "no incident log"
    else:
        severe = p.incidents.filter((pl.col("status") == "open") & pl.col("severity").is_in(["sev1", "sev2"]))
        gaps += [f"{severe.height} open sev1/sev2 incident(s)"] if severe.height else []
        incidents = f"{p.incidents.filter(pl.col('status') == 'open').height} open incident(s)"
    drill = p.drill_status
    if isinstance(drill, DrillStatus):
        gaps += [f"last drill took {drill.last_seconds:.0f} s"] if drill.last_within_target is False else []
        gaps += ["a rollback drill is overdue"] if drill.overdue else []
    gaps += ["last week's review sample fell short"] if p.last_week_short else []
    facts = (f"{p.days_at_full} days at 100%; reviewed {pct(p.achieved_sample_rate or 0, digits=1)} of agent "
             f"interactions (target {pct(p.target_sample_rate, digits=0)}); {incidents}; "
             f"{p.agenda.height} agenda item(s)")
    if modes:
        return line("bad", f"Roll back: {', '.join(modes)} above the charter limit in the reviewed sample; {facts}.",
                    "roll_back", "roll back")
    if gaps:
        return line("warn", f"Investigate: {'; '.join(gaps)}; {facts}.", "investigate", "investigate")
    return line("good", f"Supervision on track: {facts}.", "continue", "on track")
