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
from rolloutkit.supervision._counts import daily_volumes, reviews_matched
from rolloutkit.supervision._drills import describe_practice, drill_status, drills, practice, practice_summary
from rolloutkit.supervision._human_path import describe as describe_human_path
from rolloutkit.supervision._human_path import human_path, human_path_check
from rolloutkit.supervision._incidents import (
    caught_at_counts,
    caught_at_stage,
    incident_log,
    incident_markers,
    incident_summary,
)
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
from rolloutkit.text import duration, json_rows, number, pct, plural, stage
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
    #: Reviews matched to their interactions by id (canary rows present); False with `canary_daily` counts only.
    reviews_matched: bool
    #: Human and agent interactions per day at 100% against the charter's `human_path.min_daily_interactions`.
    human_path: pl.DataFrame | Missing
    #: Fails when a recent day fell below the minimum; None when the charter turns it off or before 100%.
    human_path_check: Check | None
    #: Every rollback drill, before and after the flag first reached 100%.
    drill_practice: pl.DataFrame | Missing
    #: Each incident with the ladder stage in force when it opened.
    caught_at: pl.DataFrame | Missing
    #: The charter's ladder (the stages `caught_at_stage` always shows).
    ladder: tuple[float, ...]
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
    def human_path_note(self) -> str | Missing:
        """The human-only path in a sentence: its daily volume since 100% and the check."""
        if isinstance(self.human_path, Missing):
            return self.human_path
        return describe_human_path(self.human_path, self.human_path_check)

    @property
    def drill_practice_note(self) -> str | Missing:
        """The drills practised before 100% and since, in a sentence."""
        if isinstance(self.drill_practice, Missing):
            return self.drill_practice
        return describe_practice(self.drill_practice)

    @property
    def caught_at_stage(self) -> pl.DataFrame | Missing:
        """Incidents per ladder stage and severity (every stage of the ladder, 0 where none)."""
        if isinstance(self.caught_at, Missing):
            return self.caught_at
        return caught_at_counts(self.caught_at, self.ladder)

    @property
    def review_matching_note(self) -> str | Missing:
        """Whether reviews could be matched to their interactions, in a sentence."""
        if self.reviews_matched:
            return "Each supervision review is matched to its agent interaction by id and counted in that week."
        return Missing("This workspace holds canary_daily counts, not canary rows: reviews cannot be matched to "
                       "their interactions. Each reviewed interaction counts in the week of its first supervision "
                       "review, and reviews of unknown interactions cannot be left out.",
                       "Keep the canary rows where review matching matters; the counts serve every rate's "
                       "denominator.")

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
    ws = ws.cut(day)
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
    minimum = ws.charter.human_path.min_daily_interactions
    path: pl.DataFrame | Missing
    if isinstance(start, dt.date):
        path = _or_missing(lambda: human_path(daily_volumes(ws, as_of=day), start=start, as_of=day,
                                              minimum=minimum))
    elif start is None:
        path = _not_at_full("the human-only path is watched from the day the flag reaches 100%")
    else:
        path = start
    path_check = None if isinstance(path, Missing) else human_path_check(path, minimum=minimum)
    log = _or_missing(lambda: incident_log(ws, as_of=day, reviewed_ids=reviewed_ids(ws)))
    measured = _or_missing(lambda: drills(ws, as_of=day))
    status = measured if isinstance(measured, Missing) else drill_status(
        measured, as_of=day, max_days_between=max_days_between_drills)
    practised = _or_missing(lambda: practice(ws, as_of=day))
    caught = log if isinstance(log, Missing) else _or_missing(lambda: caught_at_stage(ws, log, as_of=day))
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
        reviews_matched=reviews_matched(ws), human_path=path, human_path_check=path_check,
        drill_practice=practised, caught_at=caught, ladder=ws.charter.canary.stages,
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
    path = p.human_path
    practised = p.drill_practice
    caught = p.caught_at
    checks_ = [*p.checks, *([p.human_path_check] if p.human_path_check else [])]
    extra = {
        "reviews_matched": p.reviews_matched,
        "human_path": None if isinstance(path, Missing) else {
            "min_daily_interactions": int(path["minimum"][0]) if path.height else None,
            "days": path.height, "days_below": int(path["below"].sum()),
            "mean_daily_human": number(path["human"].mean()) if path.height else None,
            "check": p.human_path_check.to_dict() if p.human_path_check else None,
            "daily": json_rows(path.select("day", "human", "agent", "below"))},
        "drill_practice": None if isinstance(practised, Missing) else {
            **practice_summary(practised),
            "drills": json_rows(practised.select(pl.col("ts").dt.to_string("%Y-%m-%dT%H:%M:%S%:z"), "when",
                                                 "stage", pl.col("seconds_to_zero").round(3), "within_target"))},
        "caught_at_stage": None if isinstance(caught, Missing) else {
            "incidents": json_rows(caught.select("incident_id", "day", "severity", "kind", "failure_mode",
                                                 "caught_by", "stage")),
            "by_stage": json_rows(caught.group_by("stage_share", "stage", maintain_order=True)
                                  .agg(incidents=pl.len()).sort("stage_share", nulls_last=False))},
    }
    return {"agent": p.agent, "as_of": p.as_of.isoformat(), "start": start.isoformat() if start else None,
            "days_at_full": p.days_at_full, "target_sample_rate": p.target_sample_rate,
            "achieved_sample_rate": p.achieved_sample_rate, "sample": rows(p.sample), "alerts": rows(p.alerts),
            "checks": [c.to_dict() for c in checks_], "incidents": rows(incidents), "drills": rows(measured),
            "drill_status": None if isinstance(p.drill_status, Missing) else p.drill_status.to_dict(),
            "agenda": json_rows(p.agenda), "unmatched_reviews": p.unmatched_reviews, "missing": list(p.missing),
            **extra}


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
        gaps += [f"last drill took {duration(drill.last_seconds)}"] if drill.last_within_target is False else []
        gaps += ["a rollback drill is overdue"] if drill.overdue else []
    gaps += ["last week's review sample fell short"] if p.last_week_short else []
    if p.human_path_check is not None and p.human_path_check.status == "fail":
        gaps += [f"the human-only path fell below {p.human_path_check.threshold:,.0f} interactions a day"]
    facts = (f"{p.days_at_full} days at 100%; reviewed {pct(p.achieved_sample_rate or 0, digits=1)} of agent "
             f"interactions (target {pct(p.target_sample_rate, digits=0)}); {incidents}; "
             f"{p.agenda.height} agenda item(s)")
    if modes:
        return line("bad", f"Roll back: {', '.join(modes)} above the charter limit in the reviewed sample; {facts}.",
                    "roll_back", "roll back")
    if gaps:
        return line("warn", f"Investigate: {'; '.join(gaps)}; {facts}.", "investigate", "investigate")
    return line("good", f"Supervision on track: {facts}.", "continue", "on track")
